#include "core/uidset.h"

#include <algorithm>
#include <iterator>

namespace imap {

namespace {

using Range = UidSet::Range;

// Sorts and merges overlapping or adjacent ranges in place.
void normalize(std::vector<Range>& r) {
  if (!std::is_sorted(r.begin(), r.end())) std::sort(r.begin(), r.end());
  size_t out = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    if (out > 0 && uint64_t(r[i].first) <= uint64_t(r[out - 1].second) + 1) {
      r[out - 1].second = std::max(r[out - 1].second, r[i].second);
    } else {
      r[out++] = r[i];
    }
  }
  r.resize(out);
}

void appendRange(std::string& s, const Range& r) {
  s += std::to_string(r.first);
  if (r.second != r.first) {
    s += ':';
    s += std::to_string(r.second);
  }
}

size_t rangeTextLen(const Range& r) {
  auto digits = [](uint32_t v) {
    size_t n = 1;
    while (v >= 10) v /= 10, ++n;
    return n;
  };
  return r.first == r.second ? digits(r.first) : digits(r.first) + 1 + digits(r.second);
}

// nz-number (RFC 3501): no leading zeros, no 0, fits in 32 bits.
bool parseNumber(std::string_view s, size_t& pos, uint32_t& out) {
  if (pos >= s.size() || s[pos] < '1' || s[pos] > '9') return false;
  uint64_t v = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    v = v * 10 + uint64_t(s[pos] - '0');
    if (v > UINT32_MAX) return false;
    ++pos;
  }
  out = uint32_t(v);
  return true;
}

}  // namespace

void UidSet::addRange(uint32_t a, uint32_t b) {
  if (a > b) std::swap(a, b);
  if (b == 0) return;
  if (a == 0) a = 1;
  // Fast paths: UIDs arrive mostly in increasing order.
  if (ranges_.empty() || uint64_t(a) > uint64_t(ranges_.back().second) + 1) {
    ranges_.emplace_back(a, b);
    return;
  }
  if (a >= ranges_.back().first) {
    ranges_.back().second = std::max(ranges_.back().second, b);
    return;
  }
  // First range that overlaps or touches [a, b] from below; exists because
  // the last range does.
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), a, [](const Range& r, uint32_t v) {
    return uint64_t(r.second) + 1 < v;
  });
  if (uint64_t(b) + 1 < it->first) {
    ranges_.insert(it, Range{a, b});
    return;
  }
  // Ranges [it, jt) all overlap or touch [a, b]; fold them into *it.
  auto jt = std::upper_bound(it, ranges_.end(), b, [](uint32_t v, const Range& r) {
    return uint64_t(v) + 1 < r.first;
  });
  it->first = std::min(it->first, a);
  it->second = std::max(std::prev(jt)->second, b);
  ranges_.erase(it + 1, jt);
}

void UidSet::removeRange(uint32_t a, uint32_t b) {
  if (a > b) std::swap(a, b);
  if (b == 0) return;
  if (a == 0) a = 1;
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), a,
                             [](const Range& r, uint32_t v) { return r.second < v; });
  if (it == ranges_.end() || it->first > b) return;
  if (it->first < a && it->second > b) {  // strictly inside one range: split it
    Range right{b + 1, it->second};
    it->second = a - 1;
    ranges_.insert(it + 1, right);
    return;
  }
  if (it->first < a) {
    it->second = a - 1;
    ++it;
  }
  auto jt = std::lower_bound(it, ranges_.end(), b, [](const Range& r, uint32_t v) { return r.second <= v; });
  if (jt != ranges_.end() && jt->first <= b) jt->first = b + 1;
  ranges_.erase(it, jt);
}

bool UidSet::contains(uint32_t uid) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), uid,
                             [](uint32_t v, const Range& r) { return v < r.first; });
  return it != ranges_.begin() && std::prev(it)->second >= uid;
}

uint64_t UidSet::size() const {
  uint64_t n = 0;
  for (const auto& r : ranges_) n += uint64_t(r.second) - r.first + 1;
  return n;
}

std::string UidSet::toString() const {
  std::string s;
  for (const auto& r : ranges_) {
    if (!s.empty()) s += ',';
    appendRange(s, r);
  }
  return s;
}

std::vector<std::string> UidSet::toChunks(size_t maxLen) const {
  std::vector<std::string> chunks;
  std::string cur;
  for (const auto& r : ranges_) {
    size_t len = rangeTextLen(r);
    if (!cur.empty() && cur.size() + 1 + len > maxLen) {
      chunks.push_back(std::move(cur));
      cur.clear();
    }
    if (!cur.empty()) cur += ',';
    appendRange(cur, r);
  }
  if (!cur.empty()) chunks.push_back(std::move(cur));
  return chunks;
}

std::optional<UidSet> UidSet::parse(std::string_view s) {
  UidSet out;
  if (s.empty()) return out;
  size_t pos = 0;
  for (;;) {
    uint32_t a, b;
    if (!parseNumber(s, pos, a)) return std::nullopt;
    b = a;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!parseNumber(s, pos, b)) return std::nullopt;
    }
    out.ranges_.emplace_back(std::min(a, b), std::max(a, b));
    if (pos == s.size()) break;
    if (s[pos] != ',') return std::nullopt;
    ++pos;
  }
  normalize(out.ranges_);
  return out;
}

UidSet UidSet::fromUids(std::vector<uint32_t> uids) {
  std::sort(uids.begin(), uids.end());
  UidSet out;
  for (uint32_t u : uids) out.add(u);  // sorted input: always the O(1) append path
  return out;
}

namespace {

// First range of `r`, from `from` on, that ends at or after `uid`.
std::vector<Range>::const_iterator firstEndingFrom(std::vector<Range>::const_iterator from,
                                                   const std::vector<Range>& r, uint32_t uid) {
  return std::lower_bound(from, r.end(), uid, [](const Range& x, uint32_t v) { return x.second < v; });
}

}  // namespace

UidSet UidSet::minus(const UidSet& other) const {
  UidSet out;
  const auto& o = other.ranges_;
  auto from = o.begin();
  for (const auto& r : ranges_) {
    from = firstEndingFrom(from, o, r.first);  // a binary search: `other` may be much larger
    uint64_t cur = r.first;  // 64-bit: it->second + 1 may be 2^32
    for (auto it = from; it != o.end() && it->first <= r.second; ++it) {
      if (it->first > cur) out.ranges_.emplace_back(uint32_t(cur), it->first - 1);
      cur = uint64_t(it->second) + 1;  // it->second >= cur: ranges are sorted
      if (cur > r.second) break;
    }
    if (cur <= r.second) out.ranges_.emplace_back(uint32_t(cur), r.second);
  }
  return out;
}

// The smaller set drives, binary-searching the larger: one VANISHED line
// against a long UID list costs its own ranges, not the list's.
UidSet UidSet::intersect(const UidSet& other) const {
  bool mineSmaller = ranges_.size() <= other.ranges_.size();
  const auto& small = mineSmaller ? ranges_ : other.ranges_;
  const auto& large = mineSmaller ? other.ranges_ : ranges_;
  UidSet out;
  auto from = large.begin();
  for (const auto& r : small) {
    from = firstEndingFrom(from, large, r.first);
    for (auto it = from; it != large.end() && it->first <= r.second; ++it)
      out.ranges_.emplace_back(std::max(it->first, r.first), std::min(it->second, r.second));
  }
  return out;
}

void UidSet::addAll(const UidSet& other) {
  if (other.ranges_.size() > kInPlaceRanges) {
    *this = unite(other);
    return;
  }
  for (const auto& [a, b] : other.ranges_) addRange(a, b);
}

void UidSet::removeAll(const UidSet& other) {
  if (other.ranges_.size() > kInPlaceRanges) {
    *this = minus(other);
    return;
  }
  for (const auto& [a, b] : other.ranges_) removeRange(a, b);
}

UidSet UidSet::unite(const UidSet& other) const {
  UidSet out;
  out.ranges_.reserve(ranges_.size() + other.ranges_.size());
  std::merge(ranges_.begin(), ranges_.end(), other.ranges_.begin(), other.ranges_.end(), std::back_inserter(out.ranges_));
  normalize(out.ranges_);
  return out;
}

UidSet UidSet::newest(uint64_t n) const {
  UidSet out;
  for (auto it = ranges_.rbegin(); it != ranges_.rend() && n > 0; ++it) {
    uint64_t take = std::min<uint64_t>(uint64_t(it->second) - it->first + 1, n);
    out.ranges_.emplace_back(static_cast<uint32_t>(it->second - (take - 1)), it->second);
    n -= take;
  }
  std::reverse(out.ranges_.begin(), out.ranges_.end());
  return out;
}

}  // namespace imap
