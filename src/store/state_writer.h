// The state file on a thread of its own. SQLite may wait (its busy timeout,
// when another process holds the file) and checkpoint; neither may stall
// the loop thread that serves every IDLE connection, nor the JS thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace imap {

class StateWriter {
 public:
  using Loaded = std::function<void(std::vector<StoredFolder> rows, std::string err)>;

  // Opens the file on the caller's thread (a bad path is a construction
  // error the caller reports), then serves from the writer thread.
  static std::unique_ptr<StateWriter> open(const std::string& path, std::string& err);
  // Writes everything still queued, then stops the thread.
  ~StateWriter();
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;

  // `done` runs on the writer thread.
  void load(std::string accountId, Loaded done);
  // Queued saves merge: a folder queued twice is written once, newest row.
  void save(std::vector<StoredFolder> rows);
  // Blocks until every queued job ran (tests).
  void drain();

 private:
  explicit StateWriter(std::unique_ptr<StateStore> store);
  void run();

  std::unique_ptr<StateStore> store_;
  std::mutex mu_;
  std::condition_variable wake_, idle_;
  using Key = std::pair<std::string, std::string>;  // account, folder
  std::map<Key, StoredFolder> rows_;                // merged pending saves
  std::deque<std::pair<std::string, Loaded>> loads_;
  bool stopping_ = false;
  bool busy_ = false;
  std::thread thread_;
};

}  // namespace imap
