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

  UidSet minus(const UidSet& other) const;
  UidSet intersect(const UidSet& other) const;

  friend bool operator==(const UidSet& a, const UidSet& b) { return a.ranges_ == b.ranges_; }
  friend bool operator!=(const UidSet& a, const UidSet& b) { return a.ranges_ != b.ranges_; }

 private:
  std::vector<Range> ranges_;
};

}  // namespace imap
