// Building a command line whose string arguments the server must read back
// exactly: each goes quoted when a quoted string can carry it, else as a
// literal (non-synchronizing with LITERAL+/LITERAL-). The result is the
// parts ImapClient::send takes: a synchronizing literal splits the command.
#pragma once

#include <string>
#include <vector>

namespace imap {

class CommandParts {
 public:
  CommandParts(std::string verb, bool nonSyncLiterals);
  // Syntax the caller vouches for (a keyword, a number, a UID set).
  CommandParts& atom(const std::string& a);
  CommandParts& astring(const std::string& s);
  // Parenthesised groups: no space after "(" or before ")".
  CommandParts& open();
  CommandParts& close();
  std::vector<std::string> take() { return std::move(parts_); }

 private:
  void separate();
  std::vector<std::string> parts_;
  bool nonSync_;
  bool afterOpen_ = false;
};

}  // namespace imap
