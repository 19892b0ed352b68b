#include "imap/command.h"

#include "imap/auth.h"

namespace imap {

CommandParts::CommandParts(std::string verb, bool nonSyncLiterals) : parts_{std::move(verb)}, nonSync_(nonSyncLiterals) {}

void CommandParts::separate() {
  if (!afterOpen_) parts_.back() += ' ';
  afterOpen_ = false;
}

CommandParts& CommandParts::atom(const std::string& a) {
  separate();
  parts_.back() += a;
  return *this;
}

CommandParts& CommandParts::astring(const std::string& s) {
  separate();
  if (argForm(s) == ArgForm::Quoted) {
    parts_.back() += quote(s);
  } else if (nonSync_) {
    parts_.back() += "{" + std::to_string(s.size()) + "+}\r\n" + s;
  } else {
    parts_.back() += "{" + std::to_string(s.size()) + "}\r\n";
    parts_.push_back(s);
  }
  return *this;
}

CommandParts& CommandParts::open() {
  separate();
  parts_.back() += '(';
  afterOpen_ = true;
  return *this;
}

CommandParts& CommandParts::close() {
  parts_.back() += ')';
  afterOpen_ = false;
  return *this;
}

}  // namespace imap
