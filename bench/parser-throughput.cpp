// Parser throughput: feeds imap::Parser a synthetic stream of N new-message
// FETCH responses (the shape the engine asks for: UID FLAGS ENVELOPE
// INTERNALDATE RFC822.SIZE) in fixed-size chunks, as a socket would deliver
// them, then does the same again decoding every envelope the way
// IdleSession::onFetch does. Prints one JSON line for bench/run.js.
//
//   parser_throughput [messages=100000] [chunkBytes=65536]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "imap/envelope.h"
#include "text/date.h"
#include "core/parser.h"

namespace {

// Deterministic, so every run parses the same bytes.
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint32_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s >> 16);
  }
  uint32_t below(uint32_t n) { return next() % n; }
};

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[v >> 12 & 63], t[v >> 6 & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {t[v >> 18], t[v >> 12 & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8;
    out += {t[v >> 18], t[v >> 12 & 63], t[v >> 6 & 63], '='};
  }
  return out;
}

const char* kNames[] = {"Alice Example", "Bob Builder", "Carol Jones", "Dave O'Brien", "Eve Adams",
                        "Frank Miller", "Grace Hopper", "Heidi Klum"};
const char* kUsers[] = {"alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi"};
const char* kWords[] = {"invoice", "meeting", "report", "update", "booking", "reminder", "re:", "fwd:",
                        "quarterly", "project", "status", "confirmation", "your", "order", "shipped"};
const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::string address(Rng& r) {
  uint32_t i = r.below(8);
  return std::string("(\"") + kNames[i] + "\" NIL \"" + kUsers[i] + "\" \"example.com\")";
}

std::string addressList(Rng& r, uint32_t n) {
  std::string s = "(";
  for (uint32_t k = 0; k < n; ++k) s += address(r);
  return s + ")";
}

// Subjects as mail really carries them: mostly plain ASCII, some RFC 2047
// words (UTF-8 base64, Latin-1 quoted-printable through iconv) and now and
// then a literal, which servers use for strings a quoted string can't hold.
std::string subject(Rng& r, uint32_t n) {
  std::string words;
  for (uint32_t k = 0, m = 2 + r.below(6); k < m; ++k) words += std::string(k ? " " : "") + kWords[r.below(15)];
  words += " #" + std::to_string(n);
  uint32_t kind = r.below(100);
  if (kind < 70) return "\"" + words + "\"";
  if (kind < 85) return "\"=?UTF-8?B?" + base64("Grüße – " + words + " ✓") + "?=\"";
  if (kind < 95) return "\"=?ISO-8859-1?Q?R=E9sum=E9_" + words.substr(0, words.find(' ')) + "?= " + words + "\"";
  std::string lit = "Quote \"" + words + "\"\r\nfolded";
  return "{" + std::to_string(lit.size()) + "}\r\n" + lit;
}

std::string fetchResponse(Rng& r, uint32_t n) {
  char date[64], internal[64];
  uint32_t day = 1 + r.below(28), h = r.below(24), mi = r.below(60), se = r.below(60);
  const char* mon = kMonths[r.below(12)];
  snprintf(date, sizeof date, "Tue, %u %s 2024 %02u:%02u:%02u +0100", day, mon, h, mi, se);
  snprintf(internal, sizeof internal, "%02u-%s-2024 %02u:%02u:%02u +0000", day, mon, h, mi, se);
  std::string from = addressList(r, 1);
  std::string s = "* " + std::to_string(n) + " FETCH (UID " + std::to_string(1000 + n) + " FLAGS (\\Seen";
  if (r.below(4) == 0) s += " \\Flagged $Forwarded";
  s += ") ENVELOPE (\"" + std::string(date) + "\" " + subject(r, n) + " " + from + " " + from + " " + from + " " +
       addressList(r, 1 + r.below(3)) + " " + (r.below(3) == 0 ? addressList(r, 1 + r.below(2)) : "NIL") +
       " NIL " + (r.below(2) ? "\"<parent-" + std::to_string(n) + "@example.com>\"" : "NIL") + " \"<msg-" +
       std::to_string(n) + "@example.com>\") INTERNALDATE \"" + internal + "\" RFC822.SIZE " +
       std::to_string(2000 + r.below(200000)) + ")\r\n";
  return s;
}

// What IdleSession::onFetch does with a new message's data items.
size_t decode(const imap::Response& resp, size_t& ok) {
  if (resp.keyword != "FETCH" || resp.args.empty() || !resp.args[0].isList()) return 0;
  const auto& l = resp.args[0].list;
  const imap::Value *env = nullptr, *internal = nullptr;
  uint64_t uid = 0, size = 0;
  for (size_t i = 0; i + 1 < l.size(); i += 2) {
    if (l[i].atomIs("UID")) uid = l[i + 1].num;
    else if (l[i].atomIs("ENVELOPE")) env = &l[i + 1];
    else if (l[i].atomIs("INTERNALDATE")) internal = &l[i + 1];
    else if (l[i].atomIs("RFC822.SIZE")) size = l[i + 1].num;
  }
  if (!env || !internal) return 0;
  imap::Envelope e;
  double when = imap::parseInternalDate(internal->str);
  // Counted only if fully decoded: dates parsed, encoded words gone.
  if (imap::decodeEnvelope(*env, e) && !std::isnan(e.date) && !std::isnan(when) && !e.from.empty() &&
      e.subject.find("=?") == std::string::npos)
    ++ok;
  return e.subject.size() + (e.from.empty() ? 0 : e.from[0].address.size()) + uid + size;
}

struct Pass {
  double seconds = 0;
  size_t responses = 0, decoded = 0, checksum = 0;
};

Pass run(const std::string& stream, size_t chunk, bool withDecode) {
  imap::Parser parser;
  std::vector<imap::Response> out;
  Pass p;
  auto t0 = std::chrono::steady_clock::now();
  for (size_t off = 0; off < stream.size(); off += chunk) {
    size_t n = std::min(chunk, stream.size() - off);
    if (!parser.feed(stream.data() + off, n, out)) {
      fprintf(stderr, "parse error: %s\n", parser.error().c_str());
      exit(1);
    }
    for (const auto& r : out) {
      p.checksum += r.args.size();
      if (withDecode) p.checksum += decode(r, p.decoded);
    }
    p.responses += out.size();
    out.clear();
  }
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  size_t messages = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  size_t chunk = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 65536;
  if (messages == 0 || chunk == 0) {
    fprintf(stderr, "usage: parser_throughput [messages] [chunkBytes]\n");
    return 2;
  }
  Rng rng;
  std::string stream;
  stream.reserve(messages * 600);
  for (size_t n = 1; n <= messages; ++n) stream += fetchResponse(rng, static_cast<uint32_t>(n));

  run(stream, chunk, true);  // warm-up: page in the stream, prime allocator and iconv
  Pass parse = run(stream, chunk, false);
  Pass full = run(stream, chunk, true);
  if (parse.responses != messages || full.responses != messages || full.decoded != messages) {
    fprintf(stderr, "sanity check failed: parsed %zu/%zu, decoded %zu of %zu\n", parse.responses, full.responses,
            full.decoded, messages);
    return 1;
  }
  double mb = stream.size() / 1e6;
  printf(
      "{\"bench\":\"parser\",\"messages\":%zu,\"bytes\":%zu,\"chunkBytes\":%zu,"
      "\"parseSeconds\":%.6f,\"parseMsgPerSec\":%.0f,\"parseMBPerSec\":%.2f,"
      "\"decodeSeconds\":%.6f,\"decodeMsgPerSec\":%.0f,\"decodeMBPerSec\":%.2f,\"checksum\":%zu}\n",
      messages, stream.size(), chunk, parse.seconds, messages / parse.seconds, mb / parse.seconds, full.seconds,
      messages / full.seconds, mb / full.seconds, full.checksum);
  return 0;
}
