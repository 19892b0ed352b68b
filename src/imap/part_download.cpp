#include "imap/part_download.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <utility>

#include "core/parser.h"
#include "imap/fetch.h"
#include "imap/select.h"
#include "mime/mime_codec.h"
#include "mime/preview.h"

namespace imap {

namespace {

// "1", "2.10": numbers from 1, up to 4 digits each, so bodyPart's
// conversions cannot overflow.
bool validSection(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  size_t digits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (digits == 0) return false;
      digits = 0;
    } else if (s[i] >= '0' && s[i] <= '9' && !(digits == 0 && s[i] == '0') && ++digits <= 4) {
      continue;
    } else {
      return false;
    }
  }
  return digits > 0;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Job {
  LentClient* conn;
  PartRequest req;
  std::function<void(ActionOutcome)> done;
  ActionOutcome out;
  bool found = false;
  std::string encoding;
  uint64_t encodedSize = 0;
  uint64_t asked = 0;  // octets asked for: one more than needed, so getting them all means there was more

  void finish(const char* code = nullptr, std::string message = {}) {
    conn->untagged = nullptr;
    if (code) {
      out.errorCode = code;
      out.errorMessage = std::move(message);
      out.data.reset();
    }
    auto cb = std::move(done);
    cb(std::move(out));
  }
};

void fetchPart(std::shared_ptr<Job> job) {
  bool binary = job->conn->hasCap("BINARY") && job->encoding != "7bit" && job->encoding != "8bit";
  uint64_t cap = job->req.maxBytes;
  // Undecoded, maxBytes of content can take up to three times as many bytes
  // (quoted-printable's =XX); one byte more than asked shows a cut.
  bool decoded = binary || job->encoding == "7bit" || job->encoding == "8bit" || job->encoding == "binary";
  job->asked = std::min<uint64_t>(decoded ? cap + 1 : std::min<uint64_t>(cap * 3 + 1024, job->encodedSize + 1), kMaxLiteralBytes);
  std::string item = std::string(binary ? "BINARY" : "BODY") + ".PEEK[" + job->req.section + "]<0." + std::to_string(job->asked) + ">";
  job->conn->untagged = [job, binary](const Response& r) {
    if (r.keyword != "FETCH" || r.args.empty()) return;
    const Value* uid = fetchItem(r.args[0], "UID");
    if (uid && toU32(*uid) != job->req.uid) return;
    const Value* data = fetchItem(r.args[0], binary ? "BINARY[" : "BODY[");
    if (!data || !data->isText()) return;
    std::string bytes = binary ? data->str : mime::decodeTransfer(job->encoding, data->str);
    job->out.truncated = bytes.size() > job->req.maxBytes || data->str.size() >= job->asked;
    if (bytes.size() > job->req.maxBytes) bytes.resize(job->req.maxBytes);
    job->out.data = std::make_shared<const std::string>(std::move(bytes));
  };
  job->conn->send("UID FETCH " + std::to_string(job->req.uid) + " (" + item + ")", [job](const Response& r) {
    if (r.status != "OK") return job->finish("COMMAND_FAILED", "part fetch failed: " + describe(r));
    if (!job->out.data) return job->finish("NOT_FOUND", "part " + job->req.section + " not returned");
    job->finish();
  });
}

}  // namespace

void downloadPart(LentClient* conn, PartRequest req, std::function<void(ActionOutcome)> done) {
  auto job = std::make_shared<Job>();
  job->conn = conn;
  job->req = std::move(req);
  job->done = std::move(done);
  if (!validSection(job->req.section)) return job->finish("COMMAND_FAILED", "not a part number: " + job->req.section);
  job->req.maxBytes = std::min<uint64_t>(job->req.maxBytes, kMaxLiteralBytes);
  ensureSelected(conn, job->req.folder, [job](const std::string& error) {
    if (!error.empty()) return job->finish("NOT_FOUND", "cannot select " + job->req.folder + ": " + error);
    job->conn->untagged = [job](const Response& r) {
      if (r.keyword != "FETCH" || r.args.empty()) return;
      const Value* uid = fetchItem(r.args[0], "UID");
      const Value* bs = fetchItem(r.args[0], "BODYSTRUCTURE");
      if (!bs || (uid && toU32(*uid) != job->req.uid)) return;
      job->found = true;
      const Value* part = bodyPart(*bs, job->req.section);
      if (!part) return;
      job->out.partType = lower(part->list[0].str + "/" + (part->list[1].isText() ? part->list[1].str : std::string()));
      job->encoding = part->list[5].isText() ? lower(part->list[5].str) : "7bit";
      job->out.partEncoding = job->encoding;
      job->encodedSize = part->list[6].isNumber() ? part->list[6].num : 0;
    };
    job->conn->send("UID FETCH " + std::to_string(job->req.uid) + " (UID BODYSTRUCTURE)", [job](const Response& r) {
      job->conn->untagged = nullptr;
      if (r.status != "OK") return job->finish("COMMAND_FAILED", "BODYSTRUCTURE failed: " + describe(r));
      if (!job->found) return job->finish("NOT_FOUND", "no message with UID " + std::to_string(job->req.uid));
      if (job->out.partType.empty()) return job->finish("NOT_FOUND", "the message has no part " + job->req.section);
      fetchPart(job);
    });
  });
}

}  // namespace imap
