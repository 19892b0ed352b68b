// Flags as the engine keeps them: in the flag memory, joined by spaces, and
// in the state file, one "uid flags" line each.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "imap/fetch.h"
#include "core/parser.h"
#include "store/state_codec.h"

using namespace imap;

namespace {

std::vector<std::string> flagsOf(const std::string& response) {
  Parser p;
  std::vector<Response> out;
  EXPECT_TRUE(p.feed(response.data(), response.size(), out)) << p.error();
  EXPECT_EQ(out.size(), 1u);
  FetchItems f = parseFetchItems(out.at(0).args.at(0));
  return f.flags ? flagList(*f.flags) : std::vector<std::string>{};
}

}  // namespace

// Found by fuzz/state_codec_fuzz (fuzz/regressions/state_codec/): a server
// can send a "flag" as a literal holding a line break. Stored in the flag
// window, it became a second line of the state file: after a restart UID 9
// remembered only "x", and UID 7 remembered "\Seen" though the server never
// said so, hiding its next real change.
TEST(FetchFlags, FlagsThatAreNoAtomsAreDropped) {
  const auto flags = flagsOf("* 1 FETCH (UID 9 FLAGS (\\Seen {9}\r\nx\n7 \\Seen \"a b\" \"\" $Junk))\r\n");
  EXPECT_EQ(flags, (std::vector<std::string>{"\\Seen", "$Junk"}));
  EXPECT_EQ(splitFlags(joinFlags(flags)), flags);

  FolderRuntime rt;
  rt.flagsChanged(9, joinFlags(flags));
  FolderRuntime restored;
  decodeWindow(encodeWindow(rt), restored);
  EXPECT_EQ(restored.flagWindow, rt.flagWindow);
  EXPECT_EQ(restored.flagWindow.count(7), 0u);
}

TEST(FetchFlags, QuotedFlagsWithAtomCharactersAreKept) {
  EXPECT_EQ(flagsOf("* 1 FETCH (FLAGS (\"\\\\Seen\" \"$Label1\" \\Recent))\r\n"),
            (std::vector<std::string>{"\\Seen", "$Label1"}));
}
