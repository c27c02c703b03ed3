#include "matcher/index.h"

#include <arpa/inet.h>
#include <hs/hs.h>

#include <algorithm>
#include <bitset>
#include <cstring>
#include <deque>
#include <unordered_map>

#include "core/net.h"
#include "matcher/unaligned.h"
#include "pattern/evaluator.h"
#include "pattern/parser.h"

namespace ctihub::matcher {
namespace {

using pattern::CmpOp;
using pattern::CompExpr;
using pattern::ObsExpr;

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// A fast non-cryptographic hash of a value's bytes, 8 per step, before the
// path is mixed in (KeyHash): a field probed under two paths (a traffic
// address and its address alias) hashes its bytes once. The tail is read
// with fixed-size loads (the last 8 bytes overlap the previous word; under 8
// bytes, two overlapping 4-byte loads or three bytes) rather than a memcpy
// of variable length, a library call on the hot path.
uint64_t HashValue(std::string_view s) {
  const char* p = s.data();
  const size_t n = s.size();
  constexpr uint64_t kMul = 0x9fb21c651e98df25ULL;
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  uint64_t tail = 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      h = (h ^ Load8(p + i)) * kMul;
      h ^= h >> 29;
    }
    tail = Load8(p + n - 8);
  } else if (n >= 4) {
    tail = uint64_t{Load4(p)} | (uint64_t{Load4(p + n - 4)} << 32);
  } else if (n > 0) {
    const auto byte = [&](size_t i) {
      return static_cast<uint64_t>(static_cast<unsigned char>(p[i]));
    };
    tail = byte(0) | (byte(n / 2) << 8) | (byte(n - 1) << 16);
  }
  return (h ^ tail) * kMul;
}

// The key hash of (path, value) from the value's HashValue.
uint64_t KeyHash(uint32_t path, uint64_t value_hash) {
  return Mix(value_hash ^ (static_cast<uint64_t>(path) << 32));
}

uint64_t HashKey(uint32_t path, std::string_view s) { return KeyHash(path, HashValue(s)); }

constexpr uint32_t kPrefixPathFlag = 0x8000;
constexpr uint32_t kSuffixPathFlag = 0x4000;  // keys of `LIKE '%literal'` suffix entries

// Eight bytes a step: a domain name is a few words long.
bool IsAscii(std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  uint64_t high = 0;
  for (; end - p >= 8; p += 8) high |= Load8(p);
  for (; p != end; ++p) high |= static_cast<unsigned char>(*p);
  return (high & 0x8080808080808080ULL) == 0;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void CollectTests(const CompExpr& c, std::vector<const CompExpr*>* tests) {
  if (c.kind == CompExpr::Kind::kTest) {
    tests->push_back(&c);
    return;
  }
  for (const auto& ch : c.children) CollectTests(*ch, tests);
}

void CollectAllTests(const ObsExpr& o, std::vector<const CompExpr*>* tests) {
  if (o.kind == ObsExpr::Kind::kLeaf) {
    CollectTests(*o.comparison, tests);
    return;
  }
  for (const auto& ch : o.children) CollectAllTests(*ch, tests);
}

// True when `c` is tests joined only by OR.
bool OnlyOr(const CompExpr& c) {
  if (c.kind == CompExpr::Kind::kTest) return true;
  if (c.kind == CompExpr::Kind::kAnd) return false;
  for (const auto& ch : c.children)
    if (!OnlyOr(*ch)) return false;
  return true;
}

bool AllKeys(const pattern::ObjectPath& p, std::vector<std::string>* keys) {
  keys->clear();
  for (const auto& s : p.steps) {
    if (s.kind != pattern::PathStep::Kind::kKey) return false;
    keys->push_back(s.key);
  }
  return true;
}

// End (one past the closing quote) of the string token at `pos`, or npos.
size_t StringTokenEnd(std::string_view text, size_t pos) {
  if (pos >= text.size() || text[pos] != '\'') return std::string_view::npos;
  for (size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '\'') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

std::string QuoteLiteral(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// The rewritten text, or "" when no literal changes.
std::string RewriteLiterals(std::string_view text, const ObsExpr& root) {
  std::vector<const CompExpr*> tests;
  CollectAllTests(root, &tests);
  struct Replacement {
    size_t from, to;
    std::string with;
  };
  std::vector<Replacement> reps;
  std::vector<std::string> keys;
  std::string norm;
  for (const CompExpr* t : tests) {
    if (!AllKeys(t->path, &keys)) continue;
    ValueKind kind = PathKind(t->path.type, keys);
    if (kind == ValueKind::kPlain) continue;
    bool like = t->op == CmpOp::kLike;
    if (t->op != CmpOp::kEq && t->op != CmpOp::kNe && t->op != CmpOp::kIn && !like) continue;
    auto rewrite = [&](const pattern::Literal& lit) {
      if (lit.kind != pattern::LiteralKind::kString) return;
      if (like && kind == ValueKind::kIp) {
        norm = lit.bytes;
        for (char& c : norm)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      } else if (!NormalizeValue(like && kind == ValueKind::kDomain ? ValueKind::kEmail : kind,
                                 lit.bytes, &norm)) {
        return;  // an IP literal that is no address: compared as written
      }
      if (norm == lit.bytes) return;
      size_t end = StringTokenEnd(text, lit.pos);
      if (end == std::string_view::npos) return;
      reps.push_back(Replacement{lit.pos, end, QuoteLiteral(norm)});
    };
    if (t->op == CmpOp::kIn) {
      for (const auto& lit : t->set) rewrite(lit);
    } else {
      rewrite(t->literal);
    }
  }
  if (reps.empty()) return "";
  std::sort(reps.begin(), reps.end(),
            [](const Replacement& a, const Replacement& b) { return a.from < b.from; });
  std::string out;
  size_t at = 0;
  for (const auto& r : reps) {
    if (r.from < at) continue;
    out.append(text.substr(at, r.from - at));
    out.append(r.with);
    at = r.to;
  }
  out.append(text.substr(at));
  return out;
}

std::string LikeToRegex(std::string_view like) {
  std::string r = "^";
  static const char* const kHex = "0123456789abcdef";
  for (unsigned char c : like) {
    if (c == '%') {
      r += ".*";
    } else if (c == '_') {
      r += ".";
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      r.push_back(static_cast<char>(c));
    } else {
      r += "\\x";
      r.push_back(kHex[c >> 4]);
      r.push_back(kHex[c & 15]);
    }
  }
  r += "$";
  return r;
}

bool ParseUuid(std::string_view text, uint8_t out[16]) {
  if (text.size() != 36) return false;
  size_t n = 0;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      continue;
    }
    char c = text[i];
    int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (v < 0) return false;
    if (n % 2 == 0)
      out[n / 2] = static_cast<uint8_t>(v << 4);
    else
      out[n / 2] |= static_cast<uint8_t>(v);
    ++n;
  }
  return true;
}

std::string FormatUuid(const uint8_t b[16]) {
  static const char* const kHex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

// Prefix key bytes: prefix length, then the address masked to it.
size_t PrefixKey(const unsigned char* addr, bool v6, int bits, char* out) {
  size_t n = v6 ? 16 : 4;
  out[0] = static_cast<char>(bits);
  for (size_t i = 0; i < n; ++i) {
    int keep = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
    unsigned char mask = keep == 0 ? 0 : static_cast<unsigned char>(0xff << (8 - keep));
    out[1 + i] = static_cast<char>(addr[i] & mask);
  }
  return n + 1;
}

}  // namespace

// ---------------------------------------------------------------------------

struct IndicatorRecord {  // 48 bytes
  uint8_t uuid[16];
  uint32_t pattern_off;  // into text_, or the exact entry to render from
  uint32_t pattern_len;  // kRendered: "[path = 'value']" from entry pattern_off
  int64_t valid_from;
  int64_t valid_until;
};
constexpr uint32_t kRendered = 0xffffffffu;

struct ExactEntry {  // 24 bytes
  uint64_t hash;
  uint32_t value_off;
  uint16_t value_len;
  uint16_t path;
  uint32_t indicator;  // the indicator; for a suffix key the engine slot that confirms
  uint32_t next;       // next entry with the same key, +1 (0: none)
};

// An open-addressing table of ExactEntry keyed by (path, bytes): linear
// probing, load factor at most 1/2; entries with the same key chained by
// `next`. A slot holds the entry index + 1 in its low 32 bits and the key
// hash's high 32 bits above, so a probe that misses rarely reads an entry.
struct KeyTable {
  std::vector<ExactEntry> entries;
  std::vector<uint64_t> slots;
  uint64_t mask = 0;

  // Fills the slots from `entries`; returns the number of entries placed.
  size_t Build(const std::string& values) {
    size_t cap = 16;
    while (cap < entries.size() * 2) cap <<= 1;
    slots.assign(cap, 0);
    mask = cap - 1;
    for (uint32_t i = 0; i < entries.size(); ++i) {
      ExactEntry& e = entries[i];
      for (uint64_t k = e.hash & mask;; k = (k + 1) & mask) {
        uint64_t s = slots[k];
        if (s == 0) {
          slots[k] = (e.hash & kTagMask) | (i + 1);
          break;
        }
        ExactEntry& head = entries[static_cast<uint32_t>(s) - 1];
        if (head.hash == e.hash && head.path == e.path && head.value_len == e.value_len &&
            std::memcmp(values.data() + head.value_off, values.data() + e.value_off, e.value_len) ==
                0) {
          e.next = head.next;
          head.next = i + 1;
          break;
        }
      }
    }
    return entries.size();
  }

  size_t bytes() const {
    return entries.size() * sizeof(ExactEntry) + slots.size() * sizeof(uint64_t);
  }

  template <typename F>
  void Lookup(const std::string& values, uint32_t path, std::string_view value,
              F&& on_indicator) const {
    if (slots.empty()) return;
    LookupHashed(values, path, value, HashKey(path, value), on_indicator);
  }

  // Starts loading the slot of hash `h` (HashKey) into the cache.
  void Prefetch(uint64_t h) const {
    if (!slots.empty()) __builtin_prefetch(&slots[h & mask]);
  }

  // Lookup with the key's hash `h` = HashKey(path, value) computed already.
  // Inlined into the per-field probe: called out of line it costs 2% of the
  // match phase's instructions (measured when a change made GCC stop inlining it).
  template <typename F>
  [[gnu::always_inline]] void LookupHashed(const std::string& values, uint32_t path,
                                           std::string_view value, uint64_t h,
                                           F&& on_indicator) const {
    if (slots.empty()) return;
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
      uint64_t s = slots[i];
      if (s == 0) return;
      if ((s & kTagMask) != (h & kTagMask)) continue;
      const uint32_t first = static_cast<uint32_t>(s);
      const ExactEntry& e = entries[first - 1];
      if (e.hash == h && e.path == path && e.value_len == value.size() &&
          std::memcmp(values.data() + e.value_off, value.data(), value.size()) == 0) {
        for (uint32_t k = first; k != 0; k = entries[k - 1].next)
          on_indicator(entries[k - 1].indicator);
        return;
      }
    }
  }

  static constexpr uint64_t kTagMask = 0xffffffff00000000ULL;
};

struct EngineIndicator {
  uint32_t indicator = 0;
  std::shared_ptr<const pattern::CompiledPattern> compiled;
  bool stateful = false;
  int64_t within_us = -1;  // root WITHIN
  bool has_start_stop = false;
  int64_t start_us = 0, stop_us = 0;
  std::vector<uint32_t> paths;  // test paths (for the hit's field)
  std::vector<std::string> types;
};

struct RegexSet {
  hs_database_t* db = nullptr;
  std::vector<uint32_t> slots;      // pattern id -> engine slot
  std::vector<uint32_t> all_slots;  // distinct engine slots (non-ASCII values)
};

// `LIKE '%literal'` prefilter of one path: the suffix entries' first bytes, and
// every engine slot with a suffix entry (candidates of a non-ASCII value).
struct SuffixSet {
  std::bitset<256> first;
  std::vector<uint32_t> slots;
  // One bit per literal over (length, first 8 bytes) in 2^18 bits (32 KiB, ~5%
  // false positives for the 14,000 literals of the bench): a suffix whose bit is
  // clear equals no literal, so it skips the full-key hash and the table probe.
  std::vector<uint64_t> heads;

  static constexpr int kHeadBits = 18;
  static uint32_t Head(std::string_view s) {
    uint64_t w = 0;
    if (s.size() >= 8) {
      w = Load8(s.data());  // a fixed-size load, not a memcpy call
    } else {
      std::memcpy(&w, s.data(), s.size());
    }
    const uint64_t h = (w ^ (s.size() * 0x9E3779B97F4A7C15ULL)) * 0xff51afd7ed558ccdULL;
    return static_cast<uint32_t>(h >> (64 - kHeadBits));
  }
  void AddLiteral(std::string_view literal) {
    first.set(static_cast<unsigned char>(literal[0]));
    if (heads.empty()) heads.assign(size_t{1} << (kHeadBits - 6), 0);
    const uint32_t b = Head(literal);
    heads[b >> 6] |= uint64_t{1} << (b & 63);
  }
  bool MayHave(std::string_view suffix) const {
    const uint32_t b = Head(suffix);
    return (heads[b >> 6] >> (b & 63)) & 1;
  }
};

struct PrefixLengths {
  uint64_t v4 = 0;  // bit n: a /n prefix exists
  std::bitset<129> v6;
  // By an address's first 16 bits, the lengths /1../32 (bit n-1 for /n) of
  // the prefixes that can hold it: one load per address instead of a test per
  // length present, and most addresses skip every hash probe. Empty until a
  // prefix other than /0 is added.
  std::vector<uint32_t> v4_lengths;

  static uint32_t First16(const unsigned char* addr, int bits) {
    uint32_t v = (static_cast<uint32_t>(addr[0]) << 8) | addr[1];
    return bits >= 16 ? v : v & (0xffffu << (16 - bits)) & 0xffffu;
  }
  void AddV4(const unsigned char* masked, int bits) {
    v4 |= 1ULL << bits;
    if (bits == 0) return;  // a /0 holds every address: V4Candidates adds it
    if (v4_lengths.empty()) v4_lengths.assign(size_t{1} << 16, 0);
    // A prefix shorter than 16 bits covers every first-16 value it leads.
    const uint32_t from = First16(masked, bits);
    const uint32_t span = bits >= 16 ? 1u : 1u << (16 - bits);
    for (uint32_t k = from; k < from + span; ++k) v4_lengths[k] |= 1u << (bits - 1);
  }

  // The lengths (bit n for /n) worth probing for the IPv4 address `addr`.
  uint64_t V4Candidates(const unsigned char* addr) const {
    uint64_t m = v4 & 1;  // a /0 holds every address
    if (!v4_lengths.empty())
      m |= uint64_t{v4_lengths[(static_cast<size_t>(addr[0]) << 8) | addr[1]]} << 1;
    return m;
  }
};

struct IndicatorIndex::Impl {
  PathRegistry* paths = nullptr;
  std::vector<IndicatorRecord> records;
  std::unordered_map<uint32_t, std::string> odd_ids;  // ids that are not indicator--<uuid>
  std::string text;                                   // patterns kept verbatim
  std::string values;                                 // exact values
  KeyTable exact;                                     // exact values: the big table
  KeyTable affix;  // CIDR prefixes and LIKE suffixes: few, so probing them stays in cache
  std::vector<uint8_t> exact_path;    // path id -> has exact entries
  std::vector<PrefixLengths> prefix;  // path id -> prefix lengths present
  std::vector<EngineIndicator> engine;
  std::vector<RegexSet> regex;                                     // by path id
  std::vector<SuffixSet> suffix;                                   // by path id
  std::unordered_map<std::string, std::vector<uint32_t>> by_type;  // type -> residual slots
  IndexStats stats;

  ~Impl() {
    for (auto& r : regex)
      if (r.db) hs_free_database(r.db);
  }

  // The entries of key (path, value); `path` carries kPrefixPathFlag or
  // kSuffixPathFlag for the affix keys.
  template <typename F>
  void Lookup(uint32_t path, std::string_view value, F&& on_indicator) const {
    const KeyTable& t = (path & (kPrefixPathFlag | kSuffixPathFlag)) ? affix : exact;
    t.Lookup(values, path, value, on_indicator);
  }
};

IndicatorIndex::IndicatorIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IndicatorIndex::~IndicatorIndex() = default;
size_t IndicatorIndex::size() const { return impl_->records.size(); }
const IndexStats& IndicatorIndex::stats() const { return impl_->stats; }
const PathRegistry& IndicatorIndex::paths() const { return *impl_->paths; }

std::string IndicatorIndex::id(uint32_t indicator) const {
  auto it = impl_->odd_ids.find(indicator);
  if (it != impl_->odd_ids.end()) return it->second;
  return "indicator--" + FormatUuid(impl_->records[indicator].uuid);
}

std::string IndicatorIndex::pattern(uint32_t indicator) const {
  const IndicatorRecord& r = impl_->records[indicator];
  if (r.pattern_len != kRendered) return impl_->text.substr(r.pattern_off, r.pattern_len);
  const ExactEntry& e = impl_->exact.entries[r.pattern_off];
  return "[" + impl_->paths->info(e.path).text + " = " +
         QuoteLiteral(std::string_view(impl_->values).substr(e.value_off, e.value_len)) + "]";
}

std::string IndicatorIndex::DumpForTest() const {
  const Impl& m = *impl_;
  std::string out;
  auto num = [&](const char* name, uint64_t v) {
    out += name;
    out += '=';
    out += std::to_string(v);
    out += ' ';
  };
  for (uint32_t i = 0; i < m.records.size(); ++i) {
    const IndicatorRecord& r = m.records[i];
    out += "record " + id(i) + " " + pattern(i) + " ";
    num("off", r.pattern_off);
    num("len", r.pattern_len);
    num("from", static_cast<uint64_t>(r.valid_from));
    num("until", static_cast<uint64_t>(r.valid_until));
    out += '\n';
  }
  out += "text " + m.text + "\nvalues " + m.values + "\n";
  for (const KeyTable* t : {&m.exact, &m.affix}) {
    for (const ExactEntry& e : t->entries) {
      out += "entry ";
      num("hash", e.hash);
      num("off", e.value_off);
      num("len", e.value_len);
      num("path", e.path);
      num("target", e.indicator);
      num("next", e.next);
      out += '\n';
    }
    out += "slots";
    for (uint64_t v : t->slots) out += " " + std::to_string(v);
    out += '\n';
  }
  out += "\nexact_path";
  for (uint8_t v : m.exact_path) out += " " + std::to_string(v);
  out += "\nprefix";
  for (const PrefixLengths& p : m.prefix)
    out += " " + std::to_string(p.v4) + "/" + p.v6.to_string();
  out += "\nsuffix";
  for (const SuffixSet& x : m.suffix) {
    out += " " + x.first.to_string() + ":";
    for (uint32_t v : x.slots) out += " " + std::to_string(v);
  }
  out += "\n";
  for (const EngineIndicator& e : m.engine) {
    out += "engine ";
    num("indicator", e.indicator);
    num("stateful", e.stateful);
    num("within", static_cast<uint64_t>(e.within_us));
    num("startstop", e.has_start_stop);
    for (uint32_t v : e.paths) num("path", v);
    for (const auto& t : e.types) out += "type=" + t + " ";
    out += '\n';
  }
  for (const RegexSet& r : m.regex) {
    out += "regex";
    for (uint32_t v : r.slots) out += " " + std::to_string(v);
    out += '\n';
  }
  std::vector<std::string> types;
  for (const auto& [type, list] : m.by_type) {
    std::string line = "by_type " + type;
    for (uint32_t v : list) line += " " + std::to_string(v);
    types.push_back(line);
  }
  std::sort(types.begin(), types.end());
  for (const auto& t : types) out += t + "\n";
  const IndexStats& st = m.stats;
  for (size_t v : {st.indicators, st.exact, st.cidr, st.regex, st.suffix, st.residual, st.stateful,
                   st.hyperscan_refused, st.exact_entries, st.exact_bytes})
    num("stat", v);
  return out;
}

std::string NormalizedPattern(std::string_view text, const PathRegistry& paths) {
  (void)paths;
  auto parsed = pattern::ParsePattern(text);
  if (!parsed.ok()) return std::string(text);
  std::string out = RewriteLiterals(text, *parsed.value().root);
  return out.empty() ? std::string(text) : out;
}

// ---------------------------------------------------------------------------

struct IndexBuilder::State {
  std::unique_ptr<IndicatorIndex::Impl> impl = std::make_unique<IndicatorIndex::Impl>();
  struct RegexPattern {
    uint32_t path;
    std::string expr;
    unsigned flags;
    uint32_t slot;
  };
  std::vector<RegexPattern> regexes;
  std::vector<std::string> keys;
  // The fast path's paths: canonical path text -> id, for paths the slow path
  // has taken a "[PATH = 'value']" pattern through to one exact entry.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>> fast_paths;
  bool fast_path = true;
  std::string value;  // the fast path's literal
  std::string norm;

  bool FastExact(std::string_view text, uint32_t* path);
  uint32_t NewRecord(const IndicatorInput& in, IndicatorRecord* rec);
  void AddEntry(uint32_t key_path, std::string_view value, uint32_t target);
};

// True when `text` is exactly "[PATH = 'literal']" (the form an exact entry
// renders) for a PATH in fast_paths, with a literal of printable ASCII
// (escapes \' and \\ only) that its path's normalisation leaves as it is;
// then `*path` and `value` hold the entry. The parser would accept such a
// pattern whatever the literal: it already accepted one on this path, and
// the only literal-dependent checks are on hashes (never in fast_paths),
// the length limits (checked here) and escapes. False: take the slow path.
bool IndexBuilder::State::FastExact(std::string_view text, uint32_t* path) {
  if (!fast_path || text.size() < 8 || text.size() > pattern::kMaxPatternBytes ||
      text.front() != '[' || text.substr(text.size() - 2) != "']")
    return false;
  const size_t eq = text.find(" = '");
  if (eq == std::string_view::npos) return false;
  auto it = fast_paths.find(text.substr(1, eq - 1));
  if (it == fast_paths.end()) return false;
  value.clear();
  const size_t end = text.size() - 2;  // the closing quote
  for (size_t i = eq + 4; i < end; ++i) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= end || (text[i + 1] != '\'' && text[i + 1] != '\\')) return false;
      c = text[++i];
    } else if (c == '\'' || c < 0x20 || c > 0x7e) {
      return false;
    }
    value.push_back(c);
  }
  if (value.size() > kMaxExactValueBytes) return false;
  const ValueKind kind = impl->paths->info(it->second).kind;
  if (kind != ValueKind::kPlain && (!NormalizeValue(kind, value, &norm) || norm != value))
    return false;
  *path = it->second;
  return true;
}

// A record for `in` (id, validity; the caller sets the pattern): its number.
uint32_t IndexBuilder::State::NewRecord(const IndicatorInput& in, IndicatorRecord* rec) {
  const uint32_t indicator = static_cast<uint32_t>(impl->records.size());
  *rec = IndicatorRecord{};
  constexpr std::string_view kPrefix = "indicator--";
  if (!(in.id.size() == kPrefix.size() + 36 && in.id.compare(0, kPrefix.size(), kPrefix) == 0 &&
        ParseUuid(std::string_view(in.id).substr(kPrefix.size()), rec->uuid)))
    impl->odd_ids.emplace(indicator, in.id);
  rec->valid_from = in.valid_from_us;
  rec->valid_until = in.valid_until_us;
  return indicator;
}

void IndexBuilder::State::AddEntry(uint32_t key_path, std::string_view v, uint32_t target) {
  ExactEntry entry{};
  entry.hash = HashKey(key_path, v);
  entry.value_off = static_cast<uint32_t>(impl->values.size());
  entry.value_len = static_cast<uint16_t>(v.size());
  entry.path = static_cast<uint16_t>(key_path);
  entry.indicator = target;
  impl->values.append(v);
  ((key_path & (kPrefixPathFlag | kSuffixPathFlag)) ? impl->affix : impl->exact)
      .entries.push_back(entry);
}

IndexBuilder::IndexBuilder(PathRegistry* paths) : s_(std::make_unique<State>()) {
  s_->impl->paths = paths;
}
IndexBuilder::~IndexBuilder() = default;
void IndexBuilder::SetFastPathForTest(bool on) { s_->fast_path = on; }

void IndexBuilder::Reserve(size_t indicators) {
  auto& impl = *s_->impl;
  impl.records.reserve(impl.records.size() + indicators);
  impl.exact.entries.reserve(impl.exact.entries.size() + indicators);
}

namespace {

struct Alternative {
  enum class Kind { kExact, kPrefix, kRegex, kSuffix } kind;
  uint32_t path;
  std::string value;  // exact value, prefix key, regex, or the literal after `%`
  unsigned flags = 0;
};

// The index entries of a one-bracket pattern of OR-joined tests, or false
// when some test needs the engine.
bool Alternatives(const CompExpr& comp, PathRegistry* paths, std::vector<Alternative>* out) {
  if (!OnlyOr(comp)) return false;
  std::vector<const CompExpr*> tests;
  CollectTests(comp, &tests);
  std::vector<std::string> keys;
  for (const CompExpr* t : tests) {
    if (t->negated || !AllKeys(t->path, &keys)) return false;
    if (EndsWith(keys.back(), "_hex") || EndsWith(keys.back(), "_bin")) return false;
    uint32_t path;
    if (!paths->Intern(CanonicalPath(t->path), &path) || path >= kSuffixPathFlag) return false;
    ValueKind kind = paths->info(path).kind;
    auto exact = [&](const pattern::Literal& lit) {
      if (lit.kind != pattern::LiteralKind::kString || lit.bytes.size() > kMaxExactValueBytes)
        return false;
      out->push_back(Alternative{Alternative::Kind::kExact, path, lit.bytes, 0});
      return true;
    };
    switch (t->op) {
      case CmpOp::kEq:
        if (!exact(t->literal)) return false;
        break;
      case CmpOp::kIn:
        for (const auto& lit : t->set)
          if (!exact(lit)) return false;
        break;
      case CmpOp::kIsSubset: {
        net::IpPrefix p;
        if (kind != ValueKind::kIp || t->literal.kind != pattern::LiteralKind::kString ||
            !net::ParseIpPrefix(t->literal.bytes, &p))
          return false;
        char key[17];
        size_t n = PrefixKey(p.addr, p.v6, p.bits, key);
        out->push_back(
            Alternative{Alternative::Kind::kPrefix, path, std::string(key, n), p.v6 ? 1u : 0u});
        break;
      }
      case CmpOp::kLike:
      case CmpOp::kMatches: {
        if (t->literal.kind != pattern::LiteralKind::kString || !IsAscii(t->literal.bytes))
          return false;
        std::string_view lit = t->literal.bytes;
        if (t->op == CmpOp::kLike && lit.size() >= 2 && lit[0] == '%' &&
            lit.find_first_of("%_", 1) == std::string_view::npos &&
            lit.size() - 1 <= kMaxExactValueBytes) {
          // '%literal': the value ends with the literal (ASCII: byte for byte).
          out->push_back(
              Alternative{Alternative::Kind::kSuffix, path, std::string(lit.substr(1)), 0});
        } else if (t->op == CmpOp::kLike) {
          out->push_back(Alternative{Alternative::Kind::kRegex, path, LikeToRegex(t->literal.bytes),
                                     HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY});
        } else {
          out->push_back(Alternative{
              Alternative::Kind::kRegex, path, t->literal.bytes,
              HS_FLAG_PREFILTER | HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY});
        }
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

Status IndexBuilder::Add(const IndicatorInput& in) {
  auto& impl = *s_->impl;
  uint32_t fast_path;
  if (s_->FastExact(in.pattern, &fast_path)) {
    IndicatorRecord rec;
    s_->NewRecord(in, &rec);
    rec.pattern_off = static_cast<uint32_t>(impl.exact.entries.size());
    rec.pattern_len = kRendered;
    impl.exact_path[fast_path] = 1;  // sized when the slow path cached the path
    s_->AddEntry(fast_path, s_->value, static_cast<uint32_t>(impl.records.size()));
    impl.records.push_back(rec);
    ++impl.stats.exact;
    ++impl.stats.indicators;
    return Status::Ok();
  }
  auto parsed = pattern::ParsePattern(in.pattern);
  if (!parsed.ok()) return parsed.status();
  std::string rewritten = RewriteLiterals(in.pattern, *parsed.value().root);
  if (!rewritten.empty()) {
    parsed = pattern::ParsePattern(rewritten);
    if (!parsed.ok()) return parsed.status();
  }
  const std::string& text = rewritten.empty() ? in.pattern : rewritten;
  const ObsExpr& root = *parsed.value().root;

  IndicatorRecord rec;
  const uint32_t indicator = s_->NewRecord(in, &rec);

  std::vector<Alternative> alts;
  bool indexable =
      root.kind == ObsExpr::Kind::kLeaf && Alternatives(*root.comparison, impl.paths, &alts);
  bool has_regex = false, has_prefix = false;
  for (const auto& a : alts) {
    has_regex |= a.kind == Alternative::Kind::kRegex || a.kind == Alternative::Kind::kSuffix;
    has_prefix |= a.kind == Alternative::Kind::kPrefix;
  }
  // Keep the pattern text unless it is exactly what one exact entry renders.
  bool rendered = indexable && alts.size() == 1 && alts[0].kind == Alternative::Kind::kExact &&
                  in.pattern == "[" + impl.paths->info(alts[0].path).text + " = " +
                                    QuoteLiteral(alts[0].value) + "]";
  if (rendered) {
    rec.pattern_off = static_cast<uint32_t>(impl.exact.entries.size());
    rec.pattern_len = kRendered;
    const PathInfo& info = impl.paths->info(alts[0].path);
    if (std::find(info.keys.begin(), info.keys.end(), "hashes") == info.keys.end())
      s_->fast_paths.emplace(info.text, alts[0].path);  // the parser checks hash values
  } else {
    rec.pattern_off = static_cast<uint32_t>(impl.text.size());
    rec.pattern_len = static_cast<uint32_t>(in.pattern.size());
    impl.text.append(in.pattern);
  }

  if (!indexable || has_regex) {
    auto compiled = pattern::CompiledPattern::Compile(text);
    if (!compiled.ok()) {
      if (!rendered) impl.text.resize(rec.pattern_off);
      impl.odd_ids.erase(indicator);
      return compiled.status();
    }
    EngineIndicator e;
    e.indicator = indicator;
    e.compiled = compiled.value();
    e.stateful = root.kind != ObsExpr::Kind::kLeaf;
    if (root.kind == ObsExpr::Kind::kWithin) e.within_us = root.within_micros;
    if (root.kind == ObsExpr::Kind::kStartStop) {
      e.has_start_stop = true;
      e.start_us = root.start.micros();
      e.stop_us = root.stop.micros();
    }
    std::vector<const CompExpr*> tests;
    CollectAllTests(root, &tests);
    for (const CompExpr* t : tests) {
      uint32_t path;
      if (impl.paths->Intern(CanonicalPath(t->path), &path)) e.paths.push_back(path);
      if (std::find(e.types.begin(), e.types.end(), t->path.type) == e.types.end())
        e.types.push_back(t->path.type);
    }
    uint32_t slot = static_cast<uint32_t>(impl.engine.size());
    if (!indexable) {
      for (const auto& type : e.types) impl.by_type[type].push_back(slot);
      ++(e.stateful ? impl.stats.stateful : impl.stats.residual);
    } else {
      ++impl.stats.regex;
      for (const auto& a : alts)
        if (a.kind == Alternative::Kind::kSuffix) {
          ++impl.stats.suffix;
          break;
        }
    }
    impl.engine.push_back(std::move(e));
    if (indexable) {
      for (const auto& a : alts)
        if (a.kind == Alternative::Kind::kRegex)
          s_->regexes.push_back(State::RegexPattern{a.path, a.value, a.flags, slot});
    }
  } else {
    ++impl.stats.exact;
    if (has_prefix) ++impl.stats.cidr;
  }
  if (indexable) {
    const uint32_t slot = static_cast<uint32_t>(impl.engine.size()) - 1;  // when has_regex
    for (const auto& a : alts) {
      if (a.kind == Alternative::Kind::kRegex) continue;
      uint32_t path = a.path;
      uint32_t target = indicator;
      if (a.kind == Alternative::Kind::kSuffix) {
        // A prefilter entry: its target is the engine slot that confirms.
        if (impl.suffix.size() <= path) impl.suffix.resize(path + 1);
        SuffixSet& set = impl.suffix[path];
        set.AddLiteral(a.value);
        if (set.slots.empty() || set.slots.back() != slot) set.slots.push_back(slot);
        path |= kSuffixPathFlag;
        target = slot;
      } else if (a.kind == Alternative::Kind::kPrefix) {
        if (impl.prefix.size() <= path) impl.prefix.resize(path + 1);
        int bits = static_cast<unsigned char>(a.value[0]);
        if (a.flags)
          impl.prefix[path].v6.set(bits);
        else
          impl.prefix[path].AddV4(reinterpret_cast<const unsigned char*>(a.value.data()) + 1, bits);
        path |= kPrefixPathFlag;
      } else {
        if (impl.exact_path.size() <= path) impl.exact_path.resize(path + 1);
        impl.exact_path[path] = 1;
      }
      s_->AddEntry(path, a.value, target);
    }
  }
  impl.records.push_back(rec);
  ++impl.stats.indicators;
  return Status::Ok();
}

Result<std::unique_ptr<IndicatorIndex>> IndexBuilder::Finish() {
  auto& impl = *s_->impl;
  impl.stats.exact_entries = impl.exact.Build(impl.values) + impl.affix.Build(impl.values);
  // Hyperscan: one database per path; an expression it refuses sends its
  // indicator to the residual set.
  std::unordered_map<uint32_t, std::vector<size_t>> by_path;
  for (size_t i = 0; i < s_->regexes.size(); ++i) by_path[s_->regexes[i].path].push_back(i);
  std::vector<uint8_t> refused(impl.engine.size(), 0);
  for (auto& [path, list] : by_path) {
    for (;;) {
      std::vector<const char*> exprs;
      std::vector<unsigned> flags, ids;
      std::vector<size_t> live;
      for (size_t i : list) {
        if (refused[s_->regexes[i].slot]) continue;
        live.push_back(i);
        exprs.push_back(s_->regexes[i].expr.c_str());
        flags.push_back(s_->regexes[i].flags);
        ids.push_back(static_cast<unsigned>(exprs.size() - 1));
      }
      if (live.empty()) break;
      hs_database_t* db = nullptr;
      hs_compile_error_t* err = nullptr;
      hs_error_t rc =
          hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                           static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &db, &err);
      if (rc == HS_SUCCESS) {
        if (impl.regex.size() <= path) impl.regex.resize(path + 1);
        RegexSet& set = impl.regex[path];
        set.db = db;
        for (size_t i : live) {
          uint32_t slot = s_->regexes[i].slot;
          set.slots.push_back(slot);
          if (std::find(set.all_slots.begin(), set.all_slots.end(), slot) == set.all_slots.end())
            set.all_slots.push_back(slot);
        }
        break;
      }
      int bad = err ? err->expression : -1;
      if (err) hs_free_compile_error(err);
      if (bad < 0 || static_cast<size_t>(bad) >= live.size()) {
        for (size_t i : live) refused[s_->regexes[i].slot] = 1;  // refuse all of them
        break;
      }
      refused[s_->regexes[live[bad]].slot] = 1;
    }
  }
  for (uint32_t slot = 0; slot < refused.size(); ++slot) {
    if (!refused[slot]) continue;
    ++impl.stats.hyperscan_refused;
    --impl.stats.regex;
    ++impl.stats.residual;
    for (const auto& type : impl.engine[slot].types) impl.by_type[type].push_back(slot);
  }
  impl.stats.exact_bytes = impl.records.size() * sizeof(IndicatorRecord) + impl.exact.bytes() +
                           impl.affix.bytes() + impl.values.size() + impl.text.size();
  for (const PrefixLengths& p : impl.prefix)
    impl.stats.exact_bytes += p.v4_lengths.size() * sizeof(uint32_t);
  return std::make_unique<IndicatorIndex>(std::move(s_->impl));
}

// ---------------------------------------------------------------------------

struct Matcher::Impl {
  struct Retained {
    uint64_t seq;
    int64_t time_us;
    size_t objects;  // observed-data + SCOs in `json`
    std::string json;
  };

  const IndicatorIndex::Impl* index;
  MatchOptions options;
  hs_scratch_t* scratch = nullptr;
  uint64_t seq = 0;
  std::vector<uint64_t> stamp;  // engine slot -> last event it was a candidate in
  std::vector<uint32_t> candidates;
  struct Probe {
    uint32_t alias;
    uint64_t hash, alias_hash;
  };
  std::vector<Probe> probes;                      // per event field (ExactAndPrefix)
  std::vector<uint8_t> path_cached;               // path id -> path_slots computed
  std::vector<std::vector<uint32_t>> path_slots;  // path id -> residual slots
  std::string json;
  pattern::ObservationSet single;
  pattern::ObservationSet multi;
  std::string multi_json;
  pattern::MatchResult result;
  std::unordered_map<uint32_t, std::deque<Retained>> state;  // stateful slot -> past events
  uint64_t engine_errors = 0;
  uint64_t evictions = 0;

  ~Impl() {
    if (scratch) hs_free_scratch(scratch);
  }

  bool Valid(uint32_t indicator, const Event& ev) const {
    if (options.ignore_validity || !ev.time.has()) return true;
    const IndicatorRecord& r = index->records[indicator];
    const int64_t t = ev.time.micros();
    return t >= r.valid_from && t < r.valid_until;
  }

  static void AddHit(uint32_t indicator, int32_t field, uint32_t path, std::vector<Hit>* hits) {
    for (const Hit& h : *hits)
      if (h.indicator == indicator) return;
    hits->push_back(Hit{indicator, field, path});
  }

  // A table hit, out of line: hits are rare, and the probes that find nothing
  // (nearly all) need not set up for the call that checks validity.
  [[gnu::noinline]] void AddValidHit(uint32_t indicator, const Event& ev, size_t field,
                                     uint32_t path, std::vector<Hit>* hits) const {
    if (Valid(indicator, ev)) AddHit(indicator, static_cast<int32_t>(field), path, hits);
  }

  void AddEngineHit(const EngineIndicator& e, const Event& ev, std::vector<Hit>* hits) {
    auto [field, path] = ReportField(e, ev);
    AddHit(e.indicator, field, path, hits);
  }

  // The address path a network-traffic ref field also stands for (its
  // address object is in the observation too), or kFixedPathCount.
  uint32_t AddressAlias(const Field& f) const {
    if (f.path != kTrafficSrc && f.path != kTrafficDst && !index->paths->info(f.path).address_alias)
      return kFixedPathCount;
    if (f.ip != 0) return f.ip == 6 ? kIpv6Value : kIpv4Value;
    return f.value.find(':') != std::string_view::npos ? kIpv6Value : kIpv4Value;
  }

  void Candidate(uint32_t slot) {
    if (stamp[slot] == seq) return;
    stamp[slot] = seq;
    candidates.push_back(slot);
  }

  static int OnRegex(unsigned int id, unsigned long long, unsigned long long, unsigned int,
                     void* ctx) {
    auto* pair = static_cast<std::pair<Impl*, const RegexSet*>*>(ctx);
    pair->first->Candidate(pair->second->slots[id]);
    return 0;
  }

  bool HasExact(uint32_t path) const {
    return path < index->exact_path.size() && index->exact_path[path];
  }

  // path id -> it has exact entries or prefixes (LookupField has work), and
  // -> it has LIKE suffixes or a Hyperscan database (ScanField has work):
  // most fields of a line have none of these, and skip the calls.
  std::vector<uint8_t> probed, scanned;

  void MarkProbedPaths() {
    probed.assign(index->paths->size(), 0);
    scanned.assign(index->paths->size(), 0);
    for (uint32_t path = 0; path < probed.size(); ++path) {
      const bool prefixes = path < index->prefix.size() &&
                            (index->prefix[path].v4 != 0 || index->prefix[path].v6.any());
      probed[path] = HasExact(path) || prefixes;
      scanned[path] = (path < index->suffix.size() && !index->suffix[path].slots.empty()) ||
                      (path < index->regex.size() && index->regex[path].db != nullptr);
    }
  }

  bool Probed(uint32_t path) const { return path < probed.size() && probed[path]; }
  bool Scanned(uint32_t path) const { return path < scanned.size() && scanned[path]; }

  // `hash`: HashKey(path, value) when the path has exact entries.
  void LookupField(const Event& ev, size_t i, uint32_t path, uint64_t hash,
                   std::vector<Hit>* hits) {
    const Field& f = ev.fields[i];
    auto on = [&](uint32_t ind) { AddValidHit(ind, ev, i, path, hits); };
    if (HasExact(path)) index->exact.LookupHashed(index->values, path, f.value, hash, on);
    if (path >= index->prefix.size()) return;
    const PrefixLengths& pl = index->prefix[path];
    if (pl.v4 == 0 && pl.v6.none()) return;
    net::IpPrefix addr;
    if (f.ip != 0) {  // parsed by the reader already
      addr.v6 = f.ip == 6;
      std::memcpy(addr.addr, f.addr, 16);
    } else if (!net::ParseIpPrefix(f.value, &addr)) {
      return;
    }
    char key[17];
    uint32_t key_path = path | kPrefixPathFlag;
    if (!addr.v6) {
      for (uint64_t bits = pl.V4Candidates(addr.addr); bits; bits &= bits - 1) {
        int b = __builtin_ctzll(bits);
        index->Lookup(key_path, std::string_view(key, PrefixKey(addr.addr, false, b, key)), on);
      }
    } else {
      for (int b = 0; b <= 128; ++b)
        if (pl.v6.test(b))
          index->Lookup(key_path, std::string_view(key, PrefixKey(addr.addr, true, b, key)), on);
    }
  }

  // Probes every field under its path and its address alias. The big table's
  // probes are cache misses: all keys are hashed and their slots prefetched
  // first, so the misses overlap instead of following one another.
  void ExactAndPrefix(const Event& ev, std::vector<Hit>* hits) {
    const size_t n = ev.fields.size();
    probes.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const Field& f = ev.fields[i];
      Probe& p = probes[i];
      p.alias = AddressAlias(f);
      p.hash = 0;
      p.alias_hash = 0;
      const bool exact = HasExact(f.path);
      const bool alias_exact = p.alias != kFixedPathCount && HasExact(p.alias);
      if (!exact && !alias_exact) continue;
      const uint64_t value_hash = HashValue(f.value);
      if (exact) {
        p.hash = KeyHash(f.path, value_hash);
        index->exact.Prefetch(p.hash);
      }
      if (alias_exact) {
        p.alias_hash = KeyHash(p.alias, value_hash);
        index->exact.Prefetch(p.alias_hash);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      const Probe& p = probes[i];
      if (Probed(ev.fields[i].path)) LookupField(ev, i, ev.fields[i].path, p.hash, hits);
      if (p.alias != kFixedPathCount && Probed(p.alias))
        LookupField(ev, i, p.alias, p.alias_hash, hits);
    }
  }

  void RegexCandidates(const Event& ev) {
    for (const Field& f : ev.fields) {
      if (Scanned(f.path)) ScanField(f, f.path);
      uint32_t alias = AddressAlias(f);
      if (alias != kFixedPathCount && Scanned(alias)) ScanField(f, alias);
    }
  }

  void ScanField(const Field& f, uint32_t path) {
    if (path < index->suffix.size() && !index->suffix[path].slots.empty()) {
      const SuffixSet& set = index->suffix[path];
      if (!IsAscii(f.value)) {  // the engine compares NFC code points: let it decide
        for (uint32_t s : set.slots) Candidate(s);
      } else {
        auto on = [this](uint32_t slot) { Candidate(slot); };
        for (size_t i = 0; i < f.value.size(); ++i)
          if (set.first.test(static_cast<unsigned char>(f.value[i])) &&
              set.MayHave(f.value.substr(i)))
            index->Lookup(path | kSuffixPathFlag, f.value.substr(i), on);
      }
    }
    {
      if (path >= index->regex.size() || !index->regex[path].db) return;
      const RegexSet& set = index->regex[path];
      if (!IsAscii(f.value) || !scratch) {  // Hyperscan sees bytes, the engine NFC code points
        for (uint32_t s : set.all_slots) Candidate(s);
        return;
      }
      std::pair<Impl*, const RegexSet*> ctx{this, &set};
      if (hs_scan(set.db, f.value.data(), static_cast<unsigned>(f.value.size()), 0, scratch,
                  &Impl::OnRegex, &ctx) != HS_SUCCESS) {
        for (uint32_t s : set.all_slots) Candidate(s);
      }
    }
  }

  // The residual slots an event with a field on `path` may match: those naming
  // the path's type (and, for network-traffic's address refs, the address types).
  const std::vector<uint32_t>& PathSlots(uint32_t path) {
    if (path >= path_cached.size()) {
      path_cached.resize(path + 1, 0);
      path_slots.resize(path + 1);
    }
    if (!path_cached[path]) {
      path_cached[path] = 1;
      const PathInfo& info = index->paths->info(path);
      std::vector<std::string> types{info.type};
      if (info.type == "network-traffic" && info.keys.size() == 2) {
        types.emplace_back("ipv4-addr");
        types.emplace_back("ipv6-addr");
      }
      for (const auto& type : types) {
        auto it = index->by_type.find(type);
        if (it == index->by_type.end()) continue;
        path_slots[path].insert(path_slots[path].end(), it->second.begin(), it->second.end());
      }
    }
    return path_slots[path];
  }

  void ResidualCandidates(const Event& ev) {
    if (index->by_type.empty()) return;
    for (const Field& f : ev.fields)
      for (uint32_t s : PathSlots(f.path)) Candidate(s);
  }

  // The first field under one of the pattern's paths (or, failing that, of
  // one of its types), as (field, path); (-1, 0) when none.
  std::pair<int32_t, uint32_t> ReportField(const EngineIndicator& e, const Event& ev) const {
    auto named = [&](uint32_t path) {
      return std::find(e.paths.begin(), e.paths.end(), path) != e.paths.end();
    };
    for (size_t i = 0; i < ev.fields.size(); ++i) {
      if (named(ev.fields[i].path)) return {static_cast<int32_t>(i), ev.fields[i].path};
      uint32_t alias = AddressAlias(ev.fields[i]);
      if (alias != kFixedPathCount && named(alias)) return {static_cast<int32_t>(i), alias};
    }
    for (size_t i = 0; i < ev.fields.size(); ++i)
      if (std::find(e.types.begin(), e.types.end(), index->paths->info(ev.fields[i].path).type) !=
          e.types.end())
        return {static_cast<int32_t>(i), ev.fields[i].path};
    return {-1, 0};
  }

  void Stateful(uint32_t slot, const Event& ev, std::vector<Hit>* hits) {
    const EngineIndicator& e = index->engine[slot];
    const auto& obs = single.observations();
    if (obs.empty()) return;
    bool any = false;
    for (size_t leaf = 0; leaf < e.compiled->leaf_count() && !any; ++leaf)
      any = e.compiled->MatchLeaf(leaf, obs[0]);
    if (!any) return;
    int64_t t = ev.time.micros();
    if (e.has_start_stop && (t < e.start_us || t >= e.stop_us)) return;
    std::deque<Retained>& past = state[slot];
    if (e.within_us >= 0)
      while (!past.empty() && past.front().time_us < t - e.within_us) past.pop_front();
    Retained cur{seq, t, 0, {}};
    cur.objects = AppendEventObjects(ev, *index->paths, seq, &cur.json);
    // Positions of each event's observed-data in the joined array.
    multi_json = "[";
    std::vector<size_t> starts;
    size_t pos = 0;
    for (const auto& r : past) {
      multi_json += r.json;
      multi_json.push_back(',');
      starts.push_back(pos);
      pos += r.objects;
    }
    multi_json += cur.json;
    multi_json.push_back(']');
    starts.push_back(pos);
    Status st = multi.LoadText(multi_json, pattern::StixVersion::k21);
    if (st.ok()) st = e.compiled->MatchInto(multi.observations(), &result);
    if (!st.ok()) {
      ++engine_errors;
    } else if (result.matched) {
      if (Valid(e.indicator, ev)) AddEngineHit(e, ev, hits);
      bool current_bound = false;
      std::deque<Retained> kept;
      for (size_t i = 0; i <= past.size(); ++i) {
        bool bound = std::binary_search(result.bindings.begin(), result.bindings.end(), starts[i]);
        if (i == past.size()) {
          current_bound = bound;
        } else if (!bound) {
          kept.push_back(std::move(past[i]));
        }
      }
      past.swap(kept);
      if (current_bound) return;
    }
    past.push_back(std::move(cur));
    if (past.size() > kMaxStatefulEvents) {
      past.pop_front();
      ++evictions;
    }
  }

  void Match(const Event& ev, std::vector<Hit>* hits) {
    ++seq;
    hits->clear();
    candidates.clear();
    ExactAndPrefix(ev, hits);
    if (index->engine.empty()) return;
    RegexCandidates(ev);
    ResidualCandidates(ev);
    if (candidates.empty()) return;
    json.clear();
    EventToStix(ev, *index->paths, seq, &json);
    if (!single.LoadText(json, pattern::StixVersion::k21).ok()) {
      ++engine_errors;
      return;
    }
    std::sort(candidates.begin(), candidates.end());  // indicator order, as the tables give
    for (uint32_t slot : candidates) {
      const EngineIndicator& e = index->engine[slot];
      if (e.stateful) {
        Stateful(slot, ev, hits);
        continue;
      }
      if (!Valid(e.indicator, ev)) continue;
      bool already = false;
      for (const Hit& h : *hits) already |= h.indicator == e.indicator;
      if (already) continue;
      Status st = e.compiled->MatchInto(single.observations(), &result);
      if (!st.ok()) {
        ++engine_errors;
        continue;
      }
      if (result.matched) AddEngineHit(e, ev, hits);
    }
  }
};

Matcher::Matcher(const IndicatorIndex* index, MatchOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->index = &index->impl();
  impl_->options = options;
  impl_->stamp.assign(impl_->index->engine.size(), 0);
  impl_->MarkProbedPaths();
  for (const auto& set : impl_->index->regex)
    if (set.db) hs_alloc_scratch(set.db, &impl_->scratch);
}
Matcher::~Matcher() = default;

void Matcher::Match(const Event& event, std::vector<Hit>* hits) { impl_->Match(event, hits); }
uint64_t Matcher::engine_errors() const { return impl_->engine_errors; }
uint64_t Matcher::state_evictions() const { return impl_->evictions; }

}  // namespace ctihub::matcher
