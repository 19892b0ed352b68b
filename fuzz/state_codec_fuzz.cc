// The state codec (src/state_codec.h): what folderRow() writes, applyRow()
// must restore, and a damaged stored window must decode to something that
// then round-trips unchanged.
//
// Input: byte 0 = mode. Mode even: the rest is a stored flag-window column
// as read back from the file. Mode odd: a folder runtime is built from the
// rest the way the engine builds one, with flags taken from IMAP FLAGS
// lists the parser accepts (so any byte a server can put in a flag).
#include <cstring>

#include "fuzz_support.h"
#include "store/state_codec.h"

namespace {

using imap::FolderRuntime;

void checkRoundTrip(const FolderRuntime& rt) {
  const std::string col = imap::encodeWindow(rt);
  FolderRuntime back;
  imap::decodeWindow(col, back);
  FUZZ_CHECK(back.flagWindow == rt.flagWindow);
  FUZZ_CHECK(back.gone == rt.gone);

  imap::StoredFolder row = imap::folderRow(rt);
  FolderRuntime restored;
  imap::applyRow(row, restored);
  FUZZ_CHECK(restored.fs.uidValidity == rt.fs.uidValidity && restored.fs.uidNext == rt.fs.uidNext);
  FUZZ_CHECK(restored.fs.highestModseq == rt.fs.highestModseq);
  FUZZ_CHECK(restored.initialDone == (rt.initialDone && rt.knownValid));
  FUZZ_CHECK(restored.knownValid == restored.initialDone);
  if (restored.knownValid) FUZZ_CHECK(restored.known == rt.known);
  FUZZ_CHECK(restored.flagWindow == rt.flagWindow && restored.gone == rt.gone);
  // Saving what was restored writes the same row, less a UID list that was
  // never complete (applyRow trusts a list only once the first sync ended).
  imap::StoredFolder again = imap::folderRow(restored);
  FUZZ_CHECK(again.uids == (row.initialDone ? row.uids : std::string()));
  FUZZ_CHECK(again.flagWindow == row.flagWindow && again.initialDone == row.initialDone);
}

uint32_t u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  FolderRuntime rt;
  const uint8_t mode = data[0];
  ++data, --size;
  if (!(mode & 1)) {
    imap::decodeWindow(std::string(reinterpret_cast<const char*>(data), size), rt);
    rt.initialDone = mode & 2;
    rt.knownValid = mode & 4;
    checkRoundTrip(rt);
    return 0;
  }
  // Records: 4-byte UID, 1-byte length, that many bytes of a FLAGS list.
  while (size >= 5) {
    const uint32_t uid = u32(data);
    const size_t n = data[4] < size - 5 ? data[4] : size - 5;
    const std::string flags(reinterpret_cast<const char*>(data) + 5, n);
    data += 5 + n, size -= 5 + n;
    std::vector<imap::Value> values;
    std::string err;
    size_t pos = 0;
    if (!imap::parseValues(flags, pos, flags.size(), values, 4, err) || values.empty()) continue;
    if (uid & 1) {
      rt.gone.addRange(uid >> 8, (uid >> 8) + (uid & 0xFF));
    } else if (uid != 0) {
      rt.known.add(uid);
      rt.flagsChanged(uid, imap::joinFlags(imap::flagList(values[0])));
    }
  }
  rt.initialDone = mode & 2;
  rt.knownValid = mode & 4;
  rt.fs.uidValidity = mode * 77u;
  rt.fs.uidNext = rt.known.max() + 1;
  rt.fs.highestModseq = uint64_t(mode) << 40;
  checkRoundTrip(rt);
  return 0;
}
