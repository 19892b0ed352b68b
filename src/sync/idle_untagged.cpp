// What the watched folder's connection is told while it watches: EXISTS,
// EXPUNGE, VANISHED and FETCH, turned into events once (the session's
// lifecycle, SELECT and IDLE are idle.cpp).
#include <algorithm>

#include "imap/fetch.h"
#include "sync/deliveries.h"
#include "sync/idle.h"

namespace imap {

namespace {
// Flag changes without a UID awaiting a lookup. Every EXPUNGE renumbers them,
// so past this many a sync is cheaper than the bookkeeping.
constexpr size_t kMaxFlagSeqs = 64;
// MODSEQs of new messages kept to account for a HIGHESTMODSEQ; past this a
// sync decides instead.
constexpr size_t kMaxNewModseqs = 4096;
}  // namespace

void IdleSession::onUntagged(const Response& r) {
  const std::string& k = r.keyword;
  // A count or sequence number past 32 bits (or none) is no message of ours;
  // a static_cast would turn it into a small, plausible one.
  std::optional<uint32_t> n = checkedU32(r.number.value_or(UINT64_MAX));
  if (k == "EXISTS" && n) {
    onExists(*n);
  } else if (k == "EXPUNGE" && n) {
    onExpunge(*n);
  } else if (k == "FETCH" && n && !r.args.empty()) {
    onFetch(*n, r.args[0]);
  } else if (k == "VANISHED") {
    onVanished(r.args);
  } else if (k == "ENABLED") {
    for (const auto& a : r.args)
      if (a.atomIs("QRESYNC")) qresync_ = true;
  }
}

void IdleSession::onExists(uint32_t n) {
  if (selecting_) {
    selecting_->exists = n;
    return;
  }
  if (n > exists_) {
    newPending_ = true;
    // Only mail announced while watching in IDLE was pushed; polling finds it.
    if (!existsSeenAt_ && state() == ConnState::Idle && !polling_) existsSeenAt_ = receivedSteady();
  }
  rt_->fs.exists = exists_ = n;
  if (newPending_ && idling_) sendDone();
}

void IdleSession::onExpunge(uint32_t seq) {
  if (exists_ > 0) --exists_;
  rt_->fs.exists = exists_;
  // Sequence numbers above the expunged one shift down by one.
  std::set<uint32_t> shifted;
  for (uint32_t s : flagSeqs_) {
    if (s < seq) shifted.insert(s);
    else if (s > seq) shifted.insert(s - 1);
  }
  flagSeqs_.swap(shifted);
  // A plain EXPUNGE names no UID. The sync finds which UID is gone and
  // reports it, so the event carries the UID and is sent once.
  owner_->statusChanged(*this);
  owner_->folderNeedsSync(*this);
}

void IdleSession::onVanished(const std::vector<Value>& args) {
  bool earlier = false;
  auto uids = vanishedUids(args, earlier);
  if (!uids) return;
  uint64_t n = uids->size();
  if (!earlier) rt_->fs.exists = exists_ = exists_ > n ? exists_ - static_cast<uint32_t>(n) : 0;
  reportDeletions(*rt_, *uids, [this](Event&& e) { owner_->emit(std::move(e)); });
  owner_->statusChanged(*this);
}

void IdleSession::onFetch(uint32_t seq, const Value& items) {
  if (!items.isList()) return;
  FetchItems f = parseFetchItems(items);
  if (f.badUid) return;
  FolderState& fs = rt_->fs;
  // Only the sync advances HIGHESTMODSEQ: it alone knows that everything
  // below a value was reported.
  if (probing_) {
    if (f.uid >= fs.uidNext) fs.uidNext = uidAfter(f.uid);
    return;
  }
  if (f.envelope) {
    // Only our new-message fetch asks for ENVELOPE. A message reported
    // before ("N:*" returns the highest one even below N, or the sync got
    // there first) may come back with changed flags: that change counts.
    if (!fetchingNew_) return;
    if (f.modseq > fs.highestModseq && newModseqs_.size() < kMaxNewModseqs) newModseqs_.insert(f.modseq);
    if (!rt_->claimNew(f.uid)) {
      if (f.flags && mayExist(*rt_, f.uid)) reportFlags(seq, f);
      return;
    }
    Event e = newMessageEvent(*rt_, seq, f);
    e.existsSeenAt = fetchSeenAt_;
    owner_->emit(std::move(e));
    return;
  }
  if (!f.flags || selecting_) return;
  if (f.uid == 0) {
    if (resolvingFlags_) return;  // answers name the UID; without one, nothing to report
    // Without QRESYNC servers may omit the UID; look it up before reporting.
    // Past a bound, a sync compares the flags instead: each EXPUNGE walks the
    // pending sequence numbers.
    if (flagSeqs_.size() >= kMaxFlagSeqs) {
      flagSeqs_.clear();
      owner_->folderNeedsSync(*this);
      return;
    }
    flagSeqs_.insert(seq);
    if (idling_) sendDone();
    return;
  }
  // Flags of a message never announced are no change to report; a new one's
  // flags come with its newMessage.
  if (!mayExist(*rt_, f.uid)) return;
  reportFlags(seq, f);
}

// A HIGHESTMODSEQ that came with new mail needs no sync when every modseq
// between the folder's and it belongs to a message the fetch just reported:
// each change gets a modseq of its own, so there is nothing else to find. Then
// everything up to it was reported, which is what HIGHESTMODSEQ records (the
// sync's condition for advancing it). Any gap, a flag change or an expunge
// among them, leaves it to the sync as before.
void IdleSession::settleModseq() {
  if (modseqPending_ == 0 || newPending_) return;  // more mail to fetch first: it may fill the gap
  uint64_t covered = rt_->fs.highestModseq;
  while (newModseqs_.count(covered + 1)) ++covered;
  if (covered >= modseqPending_) {
    rt_->fs.highestModseq = covered;
    rt_->dirty = true;
  } else {
    owner_->folderNeedsSync(*this);
  }
  modseqPending_ = 0;
  newModseqs_.clear();
}

// The flag memory makes sure a change the sync already reported (or will
// see) is reported once.
void IdleSession::reportFlags(uint32_t seq, const FetchItems& f) {
  if (!rt_->flagsChanged(f.uid, joinFlags(flagList(*f.flags)))) return;
  Event e = imap::folderEvent(Event::Type::FlagsChanged, *rt_);
  fillFlagsChanged(e, seq, f);
  owner_->emit(std::move(e));
}

}  // namespace imap
