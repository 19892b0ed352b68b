#include "store/state_writer.h"

#include <chrono>

namespace imap {

std::unique_ptr<StateWriter> StateWriter::open(const std::string& path, std::string& err) {
  auto store = StateStore::open(path, err);
  if (!store) return nullptr;
  return std::unique_ptr<StateWriter>(new StateWriter(std::move(store)));
}

StateWriter::StateWriter(std::unique_ptr<StateStore> store) : store_(std::move(store)) {
  thread_ = std::thread([this] { run(); });
}

StateWriter::~StateWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void StateWriter::load(std::string accountId, Loaded done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    loads_.emplace_back(std::move(accountId), std::move(done));
  }
  wake_.notify_one();
}

void StateWriter::save(std::vector<StoredFolder> rows) {
  if (rows.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Bounded by the number of folders, however far the writer falls behind.
    for (auto& row : rows) {
      Key key{row.accountId, row.folder};
      rows_[std::move(key)] = std::move(row);
    }
  }
  wake_.notify_one();
}

void StateWriter::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return !busy_ && rows_.empty() && loads_.empty(); });
}

void StateWriter::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !rows_.empty() || !loads_.empty(); });
    if (loads_.empty() && rows_.empty()) break;  // stopping, nothing left
    busy_ = true;
    if (!loads_.empty()) {
      auto job = std::move(loads_.front());
      loads_.pop_front();
      lock.unlock();
      std::vector<StoredFolder> rows;
      std::string err;
      store_->load(job.first, rows, err);
      job.second(std::move(rows), std::move(err));
      lock.lock();
    } else {
      std::vector<StoredFolder> rows;
      rows.reserve(rows_.size());
      for (auto& [key, row] : rows_) rows.push_back(std::move(row));
      rows_.clear();
      lock.unlock();
      std::string err;
      bool ok = store_->save(rows, err);
      lock.lock();
      if (!ok) {
        // Kept for the next attempt unless something newer replaced them;
        // on shutdown one failed attempt is the last.
        for (auto& row : rows) {
          Key key{row.accountId, row.folder};
          rows_.emplace(std::move(key), std::move(row));  // a newer row wins
        }
        if (stopping_) rows_.clear();
        else {
          busy_ = false;
          idle_.notify_all();
          // Retry later rather than spin while another process holds the file.
          wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; });
          continue;
        }
      }
    }
    busy_ = false;
    idle_.notify_all();
  }
  busy_ = false;
  idle_.notify_all();
}

}  // namespace imap
