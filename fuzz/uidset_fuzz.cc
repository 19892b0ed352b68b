// UidSet: parse/toString round trip, toChunks, and the range algebra checked
// against a plain bitset model.
//
// Input: text up to the first '\n' goes to UidSet::parse; after it, a
// program of 3-byte operations builds two sets A and B and their models.
// Values live in two windows, [0, 255] and [2^32-256, 2^32-1], so the
// models stay small while the edges of the UID space are exercised. A
// bitset over those 512 values, rather than a std::set, keeps the model from
// being most of each run's cost (it was, at about 450 runs a second).
#include <bitset>

#include "fuzz_support.h"
#include "core/uidset.h"

namespace {

using imap::UidSet;
// The set of UIDs in the two windows, as bits: 0-255 are UIDs 0-255, 256-511 are kMaxUid down to kMaxUid-255.
struct Model {
  std::bitset<512> bits;
  static size_t slot(uint32_t u) { return u < 256 ? u : 256 + (UidSet::kMaxUid - u); }
  static uint32_t uid(size_t i) { return i < 256 ? uint32_t(i) : UidSet::kMaxUid - uint32_t(i - 256); }
  static bool inWindow(uint32_t u) { return u < 256 || u > UidSet::kMaxUid - 256; }
  void insert(uint32_t u) { FUZZ_CHECK(inWindow(u)); bits.set(slot(u)); }
  void erase(uint32_t u) { if (inWindow(u)) bits.reset(slot(u)); }
  bool count(uint32_t u) const { return inWindow(u) && bits.test(slot(u)); }
  size_t size() const { return bits.count(); }
  bool operator==(const Model& o) const { return bits == o.bits; }
  // Descending UID order: the high window's slots 256.. run from kMaxUid down, then 255 down to 0.
  template <typename F> void forEachNewestFirst(F f) const {
    for (size_t i = 256; i < 512; ++i) if (bits.test(i) && !f(uid(i))) return;
    for (size_t i = 256; i-- > 0;) if (bits.test(i) && !f(uid(i))) return;
  }
};

uint32_t value(uint8_t b, bool high) { return high ? UidSet::kMaxUid - b : b; }

void checkInvariants(const UidSet& s) {
  uint64_t n = 0;
  for (size_t i = 0; i < s.ranges().size(); ++i) {
    const auto& [a, b] = s.ranges()[i];
    FUZZ_CHECK(a >= 1 && a <= b);
    if (i > 0) FUZZ_CHECK(uint64_t(s.ranges()[i - 1].second) + 1 < a);  // disjoint, not adjacent
    n += uint64_t(b) - a + 1;
  }
  FUZZ_CHECK(n == s.size());
  auto back = UidSet::parse(s.toString());
  FUZZ_CHECK(back && *back == s);
}

void checkSame(const UidSet& s, const Model& m) {
  checkInvariants(s);
  FUZZ_CHECK(s.size() == m.size());
  Model got;
  s.forEach([&](uint32_t u) { got.insert(u); });
  FUZZ_CHECK(got == m);
}

void apply(uint8_t op, uint32_t a, uint32_t b, UidSet& s, Model& m) {
  uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
  switch (op & 3) {
    case 0: s.addRange(a, b); for (uint64_t u = lo; u <= hi; ++u) if (u) m.insert(uint32_t(u)); break;
    case 1: s.removeRange(a, b); for (uint64_t u = lo; u <= hi; ++u) m.erase(uint32_t(u)); break;
    case 2: s.add(a); if (a) m.insert(a); break;
    case 3: s.remove(a); m.erase(a); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view text = in.substr(0, nl);
  if (auto parsed = UidSet::parse(text)) {
    checkInvariants(*parsed);
    const size_t maxLen = 1 + (size ? data[size - 1] % 40 : 0);
    UidSet joined;
    for (const auto& chunk : parsed->toChunks(maxLen)) {
      FUZZ_CHECK(chunk.size() <= maxLen || chunk.find(',') == std::string::npos);
      auto c = UidSet::parse(chunk);
      FUZZ_CHECK(c && !c->empty());
      joined.addAll(*c);
    }
    FUZZ_CHECK(joined == *parsed);
  }
  if (nl == std::string_view::npos) return 0;

  UidSet sets[2];
  Model models[2];
  for (size_t i = nl + 1; i + 3 <= size; i += 3) {
    const uint8_t op = data[i];
    const bool high = op & 8;
    apply(op, value(data[i + 1], high), value(data[i + 2], high), sets[(op >> 2) & 1], models[(op >> 2) & 1]);
  }
  const UidSet &A = sets[0], &B = sets[1];
  const Model &mA = models[0], &mB = models[1];
  checkSame(A, mA);
  checkSame(B, mB);

  Model mMinus, mAnd, mOr;
  mMinus.bits = mA.bits & ~mB.bits;
  mAnd.bits = mA.bits & mB.bits;
  mOr.bits = mA.bits | mB.bits;
  checkSame(A.minus(B), mMinus);
  checkSame(A.intersect(B), mAnd);
  checkSame(B.intersect(A), mAnd);
  checkSame(A.unite(B), mOr);
  UidSet inPlace = A;
  inPlace.addAll(B);
  checkSame(inPlace, mOr);
  inPlace = A;
  inPlace.removeAll(B);
  checkSame(inPlace, mMinus);

  const uint64_t n = size ? data[size - 1] % 8 : 0;
  Model mNewest;
  mA.forEachNewestFirst([&](uint32_t u) { if (mNewest.size() >= n) return false; mNewest.insert(u); return true; });
  checkSame(A.newest(n), mNewest);
  for (uint32_t probe : {0u, 1u, 2u, 255u, UidSet::kMaxUid, UidSet::kMaxUid - 1})
    FUZZ_CHECK(A.contains(probe) == mA.count(probe));
  return 0;
}
