#include "sync/sync.h"

#include <algorithm>
#include <chrono>

#include "imap/fetch.h"
#include "core/mutf7.h"
#include "sync/deliveries.h"

namespace imap {

FolderSync::FolderSync(PoolConnection* conn, FolderRuntime* rt, const SyncOptions& opts, Emit emit, Done done)
    : conn_(conn), rt_(rt), opts_(opts), emit_(std::move(emit)), done_(std::move(done)), wire_(utf8ToMutf7(rt->folder)) {
  result_.folder = rt->folder;
}


bool FolderSync::condstore() const { return conn_->hasCap("CONDSTORE") || conn_->qresync; }

std::string FolderSync::mailboxArg() const {
  // Mailbox names in sync commands are always sent quoted or as LITERAL+;
  // astringArgs handles both through the connection's capabilities.
  auto parts = conn_->astringArgs("", {wire_});
  return parts.size() == 1 ? parts[0].substr(1) : std::string();
}

void FolderSync::start() {
  started_ = std::chrono::steady_clock::now();
  conn_->untagged = [this](const Response& r) { onUntagged(r); };
  conn_->codes = [this](const ResponseCode& c) { onCode(c); };
  if (mailboxArg().empty()) {
    error("SELECT_FAILED", "mailbox name needs a synchronizing literal, which sync does not send");
    return;
  }
  // STATUS of the mailbox this connection has selected answers from the
  // session's stale view (RFC 3501 6.3.10), and without CONDSTORE it cannot
  // reveal flag changes anyway: SELECT again instead.
  if (rt_->fs.uidValidity != 0 && rt_->knownValid && (!condstore() || conn_->selected == wire_)) {
    select();
    return;
  }
  status();
}

void FolderSync::lost(const std::string& code, const std::string& message) { error(code, message); }

void FolderSync::error(const std::string& code, const std::string& message) {
  if (finished_) return;
  result_.errorCode = code;
  result_.errorMessage = message;
  finish();
}

void FolderSync::finish() {
  if (finished_) return;
  finished_ = true;
  conn_->untagged = nullptr;
  conn_->codes = nullptr;
  rt_->trimFlagWindow(std::max<size_t>(opts_.flagWindow, 1) * 2);
  // HIGHESTMODSEQ may only advance once everything below it was reported.
  if (result_.errorCode.empty() && sel_ && sel_->highestModseq > rt_->fs.highestModseq) {
    rt_->fs.highestModseq = sel_->highestModseq;
    rt_->dirty = true;
  }
  result_.uidValidity = rt_->fs.uidValidity;
  result_.highestModseq = rt_->fs.highestModseq;
  result_.durationMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  Done done = std::move(done_);
  done(std::move(result_));  // may destroy this object: nothing after it
}

// ---- steps ----

void FolderSync::status() {
  std::string items = condstore() ? "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)" : "(MESSAGES UIDNEXT UIDVALIDITY)";
  conn_->send("STATUS " + mailboxArg() + " " + items, [this](const Response& r) {
    if (r.status != "OK" || !statusSeen_) {
      error("SELECT_FAILED", "STATUS " + rt_->folder + " failed: " + describe(r));
      return;
    }
    FolderState& fs = rt_->fs;
    if (fs.uidValidity != 0 && statusUidValidity_ != fs.uidValidity) {
      Event e = imap::folderEvent(Event::Type::FolderReset, *rt_);
      e.uidValidity = statusUidValidity_;
      emit_(std::move(e));
      rt_->resetForNewUidValidity(statusUidValidity_);
    }
    // With QRESYNC the server names what vanished; otherwise deletions are
    // found against the known UID list, which a first sync must build.
    initial_ = fs.uidNext == 0 || (!rt_->knownValid && !conn_->qresync) ||
               (!rt_->initialDone && opts_.initialLast > 0);
    bool unchanged = !initial_ && statusUidNext_ == fs.uidNext &&
                     (!rt_->knownValid || statusMessages_ == rt_->known.size()) &&
                     (!condstore() || statusModseq_ == fs.highestModseq);
    if (unchanged) {
      finish();
      return;
    }
    select();
  });
}

void FolderSync::select() {
  sel_ = SelectedMailbox{};
  selecting_ = true;
  std::string cmd = "SELECT " + mailboxArg();
  const FolderState& fs = rt_->fs;
  if (conn_->qresync && !initial_ && fs.uidValidity && fs.highestModseq) {
    // The server then reports VANISHED (EARLIER) and changed flags itself.
    cmd += " (QRESYNC (" + std::to_string(fs.uidValidity) + " " + std::to_string(fs.highestModseq) + "))";
  } else if (conn_->hasCap("CONDSTORE") && !conn_->qresync) {
    cmd += " (CONDSTORE)";
  }
  conn_->send(cmd, [this](const Response& r) {
    selecting_ = false;
    if (r.status != "OK") {
      conn_->selected.clear();
      error("SELECT_FAILED", "cannot select " + rt_->folder + ": " + describe(r));
      return;
    }
    conn_->selected = wire_;
    conn_->selectedUidValidity = sel_->uidValidity;  // for the next lessee that reuses the selection
    afterSelect();
  });
}

void FolderSync::afterSelect() {
  FolderState& fs = rt_->fs;
  if (fs.uidValidity != 0 && sel_->uidValidity != fs.uidValidity) {
    Event e = imap::folderEvent(Event::Type::FolderReset, *rt_);
    e.uidValidity = sel_->uidValidity;
    emit_(std::move(e));
    rt_->resetForNewUidValidity(sel_->uidValidity);
    initial_ = true;
  }
  if (fs.uidValidity == 0) {
    fs.uidValidity = sel_->uidValidity;
    rt_->dirty = true;
  }
  if (initial_) {
    // Learn which UIDs exist; existing mail is not new mail.
    conn_->send("UID SEARCH ALL", [this](const Response& r) {
      if (r.status != "OK") {
        error("PROTOCOL_ERROR", "UID SEARCH failed: " + describe(r));
        return;
      }
      UidSet all = searched_ ? *searched_ : UidSet{};
      searched_.reset();
      uint32_t baseline = std::max(sel_->uidNext, uidAfter(all.max()));
      if (rt_->fs.uidNext == 0) rt_->fs.uidNext = baseline;
      // Union, not assignment: IDLE may have claimed a new UID (and added
      // it) while the SEARCH was on its way.
      rt_->known.addAll(all);
      if (rt_->fs.uidNext > 1) rt_->known.removeRange(rt_->fs.uidNext, UidSet::kMaxUid);
      rt_->knownValid = true;
      rt_->dirty = true;
      if (!rt_->initialDone && opts_.initialLast > 0 && !rt_->known.empty()) {
        reportInitial();
        return;
      }
      rt_->initialDone = true;
      recordWindow(false);
    });
    return;
  }
  bool unchanged = condstore() && (rt_->knownValid || conn_->qresync) && sel_->uidNext == fs.uidNext &&
                   sel_->highestModseq == fs.highestModseq &&
                   (!rt_->knownValid || (sel_->gotExists && sel_->exists == rt_->known.size()));
  if (unchanged) {
    finish();
    return;
  }
  if (!conn_->qresync && conn_->hasCap("CONDSTORE") && fs.highestModseq) {
    changedSince();
    return;
  }
  if (!condstore()) {
    recordWindow(true);
    return;
  }
  fetchNew();
}

void FolderSync::reportInitial() {
  UidSet set = rt_->known.newest(opts_.initialLast);
  asked_ = set;
  fetching_ = Fetching::Initial;
  conn_->send("UID FETCH " + set.toString() + " " + kNewMessageItems, [this](const Response& r) {
    fetching_ = Fetching::None;
    if (r.status != "OK") {
      error("PROTOCOL_ERROR", "initial fetch failed: " + describe(r));
      return;
    }
    rt_->initialDone = true;
    recordWindow(false);
  });
}

void FolderSync::changedSince() {
  uint32_t top = rt_->fs.uidNext > 1 ? rt_->fs.uidNext - 1 : 1;
  fetching_ = Fetching::Changed;
  conn_->send("UID FETCH 1:" + std::to_string(top) + " (UID FLAGS) (CHANGEDSINCE " +
                  std::to_string(rt_->fs.highestModseq) + ")",
              [this](const Response& r) {
                fetching_ = Fetching::None;
                if (r.status != "OK") {
                  error("PROTOCOL_ERROR", "CHANGEDSINCE fetch failed: " + describe(r));
                  return;
                }
                fetchNew();
              });
}

// Without CONDSTORE the newest `flagWindow` messages are compared with what
// was seen last time. `report` is false on the first pass, which only records.
void FolderSync::recordWindow(bool report) {
  if (condstore()) {
    fetchNew();
    return;
  }
  UidSet set = rt_->known.newest(opts_.flagWindow);
  if (set.empty()) {
    rt_->flagWindow.clear();
    fetchNew();
    return;
  }
  windowSeen_.clear();
  asked_ = set;
  fetching_ = Fetching::Window;
  conn_->send("UID FETCH " + set.toString() + " (UID FLAGS)", [this, report](const Response& r) {
    fetching_ = Fetching::None;
    if (r.status != "OK") {
      error("PROTOCOL_ERROR", "flag window fetch failed: " + describe(r));
      return;
    }
    if (report) {
      for (const auto& [uid, flags] : windowSeen_) {
        auto old = rt_->flagWindow.find(uid);
        if (old == rt_->flagWindow.end() || old->second == flags) continue;
        Event e = imap::folderEvent(Event::Type::FlagsChanged, *rt_);
        e.uid = uid;
        e.flags = splitFlags(flags);
        ++result_.changed;
        emit_(std::move(e));
      }
    }
    rt_->flagWindow = std::move(windowSeen_);
    windowSeen_.clear();
    rt_->dirty = true;
    fetchNew();
  });
}

void FolderSync::fetchNew() {
  FolderState& fs = rt_->fs;
  bool maybeNew = sel_ && (sel_->uidNext == 0 || sel_->uidNext > fs.uidNext);
  if (!maybeNew) {
    checkDeletions();
    return;
  }
  fetching_ = Fetching::New;
  conn_->send("UID FETCH " + std::to_string(fs.uidNext ? fs.uidNext : 1) + ":* " + kNewMessageItems,
              [this](const Response& r) {
                fetching_ = Fetching::None;
                if (r.status != "OK") {
                  error("PROTOCOL_ERROR", "fetching new messages failed: " + describe(r));
                  return;
                }
                if (sel_->uidNext > rt_->fs.uidNext) rt_->fs.uidNext = sel_->uidNext;
                checkDeletions();
              });
}

// QRESYNC already reported VANISHED. Otherwise a count that does not match
// what we know exists means something went: find out which UIDs.
void FolderSync::checkDeletions() {
  if (conn_->qresync || !sel_->gotExists || sel_->exists == rt_->known.size()) {
    finish();
    return;
  }
  // Only UIDs below this were known when the SEARCH left: anything IDLE
  // claims meanwhile is newer than the answer and must not look deleted.
  uint32_t ceiling = rt_->fs.uidNext;
  conn_->send("UID SEARCH ALL", [this, ceiling](const Response& r) {
    if (r.status != "OK") {
      error("PROTOCOL_ERROR", "UID SEARCH failed: " + describe(r));
      return;
    }
    UidSet server = searched_ ? *searched_ : UidSet{};
    searched_.reset();
    UidSet older;
    if (ceiling > 1) older.addRange(1, ceiling - 1);
    UidSet checked = rt_->known.intersect(older);
    result_.deleted += reportDeletions(*rt_, checked.minus(server), emit_);
    finish();
  });
}

// ---- responses ----

void FolderSync::onCode(const ResponseCode& c) {
  if (!selecting_ || !sel_ || c.args.empty()) return;
  sel_->noteCode(c.name, c.args);
}

void FolderSync::onUntagged(const Response& r) {
  const std::string& k = r.keyword;
  if (k == "STATUS" && r.args.size() >= 2 && r.args[1].isList()) {
    const auto& l = r.args[1].list;
    statusSeen_ = true;
    for (size_t i = 0; i + 1 < l.size(); i += 2) {
      if (l[i].atomIs("MESSAGES")) statusMessages_ = toU32(l[i + 1]);
      else if (l[i].atomIs("UIDNEXT")) statusUidNext_ = toU32(l[i + 1]);
      else if (l[i].atomIs("UIDVALIDITY")) statusUidValidity_ = toU32(l[i + 1]);
      else if (l[i].atomIs("HIGHESTMODSEQ")) statusModseq_ = l[i + 1].num;
    }
  } else if (k == "EXISTS" && r.number && sel_) {
    // A count past 32 bits is no count: as if absent, so nothing is compared with it.
    if (auto n = checkedU32(*r.number)) {
      sel_->exists = *n;
      sel_->gotExists = true;
    }
  } else if (k == "SEARCH") {
    std::vector<uint32_t> uids;
    for (const auto& v : r.args)
      if (v.isNumber()) uids.push_back(toU32(v));
    if (!searched_) searched_ = UidSet{};
    searched_->addAll(UidSet::fromUids(std::move(uids)));
  } else if (k == "VANISHED") {
    bool earlier = false;
    auto uids = vanishedUids(r.args, earlier);
    if (uids) result_.deleted += reportDeletions(*rt_, *uids, emit_);
  } else if (k == "FETCH" && r.number && !r.args.empty()) {
    if (auto seq = checkedU32(*r.number)) onFetch(*seq, r.args[0]);
  }
}

void FolderSync::onFetch(uint32_t seq, const Value& items) {
  FetchItems f = parseFetchItems(items);
  if (f.uid == 0) return;  // no UID, or one that is none (badUid)
  if (fetching_ == Fetching::New || fetching_ == Fetching::Initial) {
    if (!f.envelope) return;
    // Each UID asked for is reported once, however often the server repeats it.
    bool report = fetching_ == Fetching::Initial ? asked_.contains(f.uid) : rt_->claimNew(f.uid);
    if (report && fetching_ == Fetching::Initial) asked_.remove(f.uid);
    if (!report) {
      // Reported already (by IDLE, most likely); its flags may have moved on.
      if (f.flags && mayExist(*rt_, f.uid) && rt_->flagsChanged(f.uid, joinFlags(flagList(*f.flags)))) reportFlags(seq, f);
      return;
    }
    ++result_.newMessages;
    emit_(newMessageEvent(*rt_, seq, f));
    return;
  }
  if (!f.flags) return;
  if (fetching_ == Fetching::Window) {
    if (asked_.contains(f.uid)) windowSeen_[f.uid] = joinFlags(flagList(*f.flags));
    return;
  }
  // CHANGEDSINCE results, QRESYNC's FETCHes during SELECT, or a change
  // that arrived mid-sync: all reports of a known message's new flags.
  if (!mayExist(*rt_, f.uid)) return;
  if (rt_->flagsChanged(f.uid, joinFlags(flagList(*f.flags)))) reportFlags(seq, f);
}

void FolderSync::reportFlags(uint32_t seq, const FetchItems& f) {
  Event e = imap::folderEvent(Event::Type::FlagsChanged, *rt_);
  fillFlagsChanged(e, seq, f);
  ++result_.changed;
  emit_(std::move(e));
}

}  // namespace imap
