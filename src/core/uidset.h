// A set of IMAP UIDs kept as sorted, disjoint, non-adjacent inclusive ranges,
// so that a mailbox's "known UIDs" stays small (typically a handful of
// ranges) however many messages it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imap {

class UidSet {
 public:
  using Range = std::pair<uint32_t, uint32_t>;  // inclusive [first, second]
  static constexpr uint32_t kMaxUid = UINT32_MAX;

  UidSet() = default;

  // UID 0 is not a valid UID: add(0) is a no-op and a range reaching 0 is
  // clipped to start at 1. Reversed ranges (a > b) are accepted.
  void add(uint32_t uid) { addRange(uid, uid); }
  void addRange(uint32_t a, uint32_t b);
  void remove(uint32_t uid) { removeRange(uid, uid); }
  void removeRange(uint32_t a, uint32_t b);
  bool contains(uint32_t uid) const;

  uint64_t size() const;  // number of UIDs; O(ranges)
  bool empty() const { return ranges_.empty(); }
  uint32_t max() const { return ranges_.empty() ? 0 : ranges_.back().second; }
  const std::vector<Range>& ranges() const { return ranges_; }
  void clear() { ranges_.clear(); }

  // IMAP sequence-set form, e.g. "1:5,7,9:12"; "" for the empty set.
  std::string toString() const;
  // The same set split into sequence sets of at most maxLen characters each
  // (a single range whose text is longer than maxLen gets a chunk of its
  // own). Empty set -> no chunks.
  std::vector<std::string> toChunks(size_t maxLen) const;
  // Parses a sequence set of UIDs. Accepts single numbers and ranges in any
  // order, reversed ("5:1"), overlapping; "" yields the empty set (the
  // toString() of an empty set). Rejects "*", 0, numbers above 2^32-1,
  // leading zeros, whitespace, empty elements and anything else.
  static std::optional<UidSet> parse(std::string_view s);
  static UidSet fromUids(std::vector<uint32_t> uids);  // zeros ignored

  // Set algebra over ranges, never over the UIDs a range spans, so a server's
  // "1:4294967295" costs what one range costs. intersect and minus walk one
  // side and binary-search the other (intersect: the smaller walks).
  UidSet minus(const UidSet& other) const;
  UidSet intersect(const UidSet& other) const;
  UidSet unite(const UidSet& other) const;
  // In place. A few ranges (one VANISHED line, say) go in by binary search;
  // more by one linear merge, so neither way is quadratic in a long set.
  void addAll(const UidSet& other);
  void removeAll(const UidSet& other);
  // The `n` highest UIDs.
  UidSet newest(uint64_t n) const;

  // Calls f(uid) for every member, ascending. This is the one place a set is
  // expanded UID by UID: only call it on a set bounded by what the engine
  // knows (intersected with its UID list, or size()-checked), never on a set
  // straight from the server.
  template <class F>
  void forEach(F&& f) const {
    for (const auto& [a, b] : ranges_)
      for (uint64_t u = a; u <= b; ++u) f(static_cast<uint32_t>(u));  // 64-bit: b may be 2^32-1
  }

  friend bool operator==(const UidSet& a, const UidSet& b) { return a.ranges_ == b.ranges_; }
  friend bool operator!=(const UidSet& a, const UidSet& b) { return a.ranges_ != b.ranges_; }

 private:
  static constexpr size_t kInPlaceRanges = 16;
  std::vector<Range> ranges_;
};

// The UIDNEXT that follows `uid`. UIDNEXT is 32-bit too, so the last UID has
// no successor: it saturates, and a watermark that reached kMaxUid cannot
// advance (the message with UID 2^32-1 cannot be followed).
inline uint32_t uidAfter(uint32_t uid) { return uid == UidSet::kMaxUid ? uid : uid + 1; }

}  // namespace imap
