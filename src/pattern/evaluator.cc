#define PCRE2_CODE_UNIT_WIDTH 8
#include "pattern/evaluator.h"

#include <pcre2.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <unordered_map>

#include "core/encoding.h"
#include "core/net.h"
#include "core/utf8.h"
#include "pattern/parser.h"

#ifdef CTIHUB_PATTERN_HAVE_ICU
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#endif

namespace ctihub::pattern {
namespace {

// NFC-normalises UTF-8 text for LIKE and MATCHES (a no-op for ASCII and when
// ICU is not available). Returns a view of `s` or of `*buf`.
std::string_view Nfc(std::string_view s, std::string* buf) {
#ifdef CTIHUB_PATTERN_HAVE_ICU
  bool ascii = true;
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii || s.size() > (1u << 24)) return s;
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* nfc = unorm2_getNFCInstance(&err);
  if (U_FAILURE(err)) return s;
  thread_local std::u16string in, out;
  int32_t len = 0;
  in.resize(s.size() + 1);
  u_strFromUTF8(in.data(), static_cast<int32_t>(in.size()), &len, s.data(),
                static_cast<int32_t>(s.size()), &err);
  if (U_FAILURE(err)) return s;
  in.resize(static_cast<size_t>(len));
  out.resize(in.size() * 3 + 8);
  int32_t n =
      unorm2_normalize(nfc, in.data(), len, out.data(), static_cast<int32_t>(out.size()), &err);
  if (U_FAILURE(err)) return s;
  buf->resize(static_cast<size_t>(n) * 3 + 4);
  int32_t m = 0;
  u_strToUTF8(buf->data(), static_cast<int32_t>(buf->size()), &m, out.data(), n, &err);
  if (U_FAILURE(err)) return s;
  buf->resize(static_cast<size_t>(m));
  return *buf;
#else
  (void)buf;
  return s;
#endif
}

using json::Element;

// ---- small helpers -------------------------------------------------------

// A string whose code points are all below 256, as bytes (Latin-1). False otherwise.
bool StringToLatin1(std::string_view s, std::string* out) {
  out->clear();
  bool ascii = true;
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  if (ascii) {
    out->assign(s);
    return true;
  }
  std::u32string cps;
  if (!DecodeUtf8(s, &cps)) return false;
  for (char32_t cp : cps) {
    if (cp >= 256) return false;
    out->push_back(static_cast<char>(cp));
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

// SQL LIKE over code points: % any run, _ exactly one.
bool LikeMatch(const std::u32string& pat, const std::u32string& s) {
  size_t p = 0, i = 0, star_p = std::u32string::npos, star_i = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == U'%') {
      star_p = p++;
      star_i = i;
    } else if (p < pat.size() && (pat[p] == U'_' || pat[p] == s[i])) {
      ++p;
      ++i;
    } else if (star_p != std::u32string::npos) {
      p = star_p + 1;
      i = ++star_i;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == U'%') ++p;
  return p == pat.size();
}

// ---- values met while walking an object path ------------------------------

struct Val {
  enum class K { kJson, kBinary, kOther };
  K k = K::kJson;
  Element e;
  std::string_view bin;
};

struct Regex {
  pcre2_code* text = nullptr;    // UTF mode, for string values
  pcre2_code* binary = nullptr;  // byte mode, for binary values (null if not convertible)
  ~Regex() {
    if (text) pcre2_code_free(text);
    if (binary) pcre2_code_free(binary);
  }
};

struct Test {
  std::string type;
  std::vector<PathStep> steps;
  std::vector<uint8_t> step_kind;  // 0 plain, 1 _ref, 2 _refs, 3 _hex, 4 _bin
  CmpOp op = CmpOp::kEq;
  bool negated = false;
  Literal lit;
  std::vector<Literal> set;
  std::u32string like;
  std::unique_ptr<Regex> re;
  net::IpPrefix prefix;
};

struct CompNode {
  CompExpr::Kind kind;
  std::vector<uint32_t> children;  // CompNode indices
  uint32_t test = 0;               // Test index
};

struct ObsNode {
  ObsExpr::Kind kind;
  std::vector<uint32_t> children;
  uint32_t leaf = 0;  // leaf id (kLeaf)
  uint32_t comp = 0;  // root CompNode (kLeaf)
  int64_t within = 0;
  int64_t repeats = 0;
  int64_t start = 0, stop = 0;
  std::vector<uint32_t> leaves;  // leaf ids below (for WITHIN candidate windows)
  // For subtrees without OR: how many instances each leaf must supply.
  bool or_free = true;
  std::vector<std::pair<uint32_t, uint64_t>> demands;
  uint64_t min_size = 1;  // fewest observations any binding needs (capped)
};

struct MatchDataHolder {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mc = nullptr;
  MatchDataHolder() {
    md = pcre2_match_data_create(1, nullptr);
    mc = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(mc, kRegexMatchLimit);
    pcre2_set_depth_limit(mc, kRegexDepthLimit);
    pcre2_set_heap_limit(mc, kRegexHeapLimitKiB);
  }
  ~MatchDataHolder() {
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
  }
};

bool RegexSearch(const pcre2_code* code, std::string_view subject) {
  thread_local MatchDataHolder h;
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                       h.md, h.mc);
  return rc >= 0;
}

int64_t ToMicros(const Timestamp& t) {
  // Saturating: far-away years cannot overflow.
  __int128 v = static_cast<__int128>(t.seconds()) * 1000000 + t.nanos() / 1000;
  if (v > INT64_MAX / 4) return INT64_MAX / 4;
  if (v < INT64_MIN / 4) return INT64_MIN / 4;
  return static_cast<int64_t>(v);
}

}  // namespace

// ---- compiled pattern -----------------------------------------------------

struct CompiledPattern::Impl {
  std::vector<Test> tests;
  std::vector<CompNode> comps;
  std::vector<ObsNode> nodes;
  std::vector<uint32_t> leaf_comp;  // leaf id -> CompNode root
  uint32_t root = 0;
  bool compares_timestamps =
      false;  // some test has a timestamp literal (see CheckTimestampOperands)

  uint32_t AddComp(const CompExpr& c) {
    CompNode n;
    n.kind = c.kind;
    if (c.kind == CompExpr::Kind::kTest) {
      Test t;
      t.type = c.path.type;
      t.steps = c.path.steps;
      for (const auto& s : t.steps) {
        uint8_t k = 0;
        if (s.kind == PathStep::Kind::kKey) {
          if (EndsWith(s.key, "_refs"))
            k = 2;
          else if (EndsWith(s.key, "_ref"))
            k = 1;
          else if (EndsWith(s.key, "_hex"))
            k = 3;
          else if (EndsWith(s.key, "_bin"))
            k = 4;
        }
        t.step_kind.push_back(k);
      }
      t.op = c.op;
      t.negated = c.negated;
      t.lit = c.literal;
      t.set = c.set;
      std::string norm;
      if (c.op == CmpOp::kLike) DecodeUtf8(Nfc(c.literal.bytes, &norm), &t.like);
      if (c.op == CmpOp::kIsSubset || c.op == CmpOp::kIsSuperset)
        net::ParseIpPrefix(c.literal.bytes, &t.prefix);
      if (c.op == CmpOp::kMatches) {
        t.re = std::make_unique<Regex>();
        int err;
        PCRE2_SIZE off;
        std::string_view re_text = Nfc(c.literal.bytes, &norm);
        t.re->text = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re_text.data()), re_text.size(),
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, nullptr);
        std::string latin1;
        if (StringToLatin1(c.literal.bytes, &latin1)) {
          t.re->binary = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(latin1.data()), latin1.size(),
                                       0, &err, &off, nullptr);
        }
      }
      n.test = static_cast<uint32_t>(tests.size());
      if (ComparesTimestamps(t)) compares_timestamps = true;
      tests.push_back(std::move(t));
    } else {
      for (const auto& ch : c.children) n.children.push_back(AddComp(*ch));
    }
    comps.push_back(std::move(n));
    return static_cast<uint32_t>(comps.size() - 1);
  }

  uint32_t AddObs(const ObsExpr& e) {
    ObsNode n;
    n.kind = e.kind;
    if (e.kind == ObsExpr::Kind::kLeaf) {
      n.leaf = static_cast<uint32_t>(leaf_comp.size());
      n.comp = AddComp(*e.comparison);
      leaf_comp.push_back(n.comp);
      n.leaves.push_back(n.leaf);
      n.min_size = 1;
    } else {
      for (const auto& ch : e.children) n.children.push_back(AddObs(*ch));
      for (uint32_t c : n.children) {
        const auto& l = nodes[c].leaves;
        n.leaves.insert(n.leaves.end(), l.begin(), l.end());
      }
      auto cap = [](uint64_t v) { return std::min<uint64_t>(v, uint64_t{1} << 40); };
      switch (e.kind) {
        case ObsExpr::Kind::kAnd:
        case ObsExpr::Kind::kFollowedBy:
          n.min_size = 0;
          for (uint32_t c : n.children) n.min_size = cap(n.min_size + nodes[c].min_size);
          break;
        case ObsExpr::Kind::kOr:
          n.min_size = UINT64_MAX;
          for (uint32_t c : n.children) n.min_size = std::min(n.min_size, nodes[c].min_size);
          break;
        case ObsExpr::Kind::kRepeats:
          n.min_size = cap(nodes[n.children[0]].min_size * static_cast<uint64_t>(e.repeats));
          break;
        default:
          n.min_size = nodes[n.children[0]].min_size;
      }
    }
    n.within = e.within_micros;
    n.repeats = e.repeats;
    n.start = ToMicros(e.start);
    n.stop = ToMicros(e.stop);
    ComputeDemands(e, &n);
    nodes.push_back(std::move(n));
    return static_cast<uint32_t>(nodes.size() - 1);
  }

  void ComputeDemands(const ObsExpr& e, ObsNode* n) {
    auto cap = [](uint64_t v) { return std::min<uint64_t>(v, uint64_t{1} << 40); };
    if (e.kind == ObsExpr::Kind::kLeaf) {
      n->demands = {{n->leaf, 1}};
      return;
    }
    if (e.kind == ObsExpr::Kind::kOr) {
      n->or_free = false;
      return;
    }
    for (uint32_t c : n->children) {
      const ObsNode& ch = nodes[c];
      if (!ch.or_free) {
        n->or_free = false;
        n->demands.clear();
        return;
      }
      for (const auto& [leaf, d] : ch.demands) {
        uint64_t add =
            e.kind == ObsExpr::Kind::kRepeats ? cap(d * static_cast<uint64_t>(e.repeats)) : d;
        bool found = false;
        for (auto& [l2, d2] : n->demands)
          if (l2 == leaf) {
            d2 = cap(d2 + add);
            found = true;
          }
        if (!found) n->demands.emplace_back(leaf, add);
      }
    }
  }

  // -- comparison evaluation --

  // -2 incomparable, else -1 / 0 / 1 for (value <=> literal).
  static int Compare(const Literal& lit, const Val& v) {
    thread_local std::string scratch;
    auto cmp_bytes = [](std::string_view a, std::string_view b) {
      int c = a.compare(b);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    };
    switch (lit.kind) {
      case LiteralKind::kInt:
      case LiteralKind::kFloat: {
        if (v.k != Val::K::kJson) return -2;
        auto t = v.e.type();
        if (t == json::Type::INT64 && lit.kind == LiteralKind::kInt) {
          int64_t x = v.e.get_int64().value_unsafe();
          return x < lit.i ? -1 : x > lit.i ? 1 : 0;
        }
        if (t == json::Type::UINT64 && lit.kind == LiteralKind::kInt) return 1;  // above INT64_MAX
        double x;
        if (t == json::Type::INT64)
          x = static_cast<double>(v.e.get_int64().value_unsafe());
        else if (t == json::Type::UINT64)
          x = static_cast<double>(v.e.get_uint64().value_unsafe());
        else if (t == json::Type::DOUBLE)
          x = v.e.get_double().value_unsafe();
        else
          return -2;
        double y = lit.kind == LiteralKind::kInt ? static_cast<double>(lit.i) : lit.d;
        return x < y ? -1 : x > y ? 1 : 0;
      }
      case LiteralKind::kBool:
        if (v.k != Val::K::kJson || v.e.type() != json::Type::BOOL) return -2;
        return v.e.get_bool().value_unsafe() == lit.b ? 0 : 1;
      case LiteralKind::kString:
        if (v.k == Val::K::kJson && v.e.type() == json::Type::STRING)
          return cmp_bytes(v.e.get_string().value_unsafe(), lit.bytes);
        if (v.k == Val::K::kBinary) {
          if (!StringToLatin1(lit.bytes, &scratch)) return -2;
          return cmp_bytes(v.bin, scratch);
        }
        return -2;
      case LiteralKind::kBinary:
        if (v.k == Val::K::kBinary) return cmp_bytes(v.bin, lit.bytes);
        if (v.k == Val::K::kJson && v.e.type() == json::Type::STRING) {
          if (!StringToLatin1(v.e.get_string().value_unsafe(), &scratch)) return -2;
          return cmp_bytes(scratch, lit.bytes);
        }
        return -2;
      case LiteralKind::kTimestamp: {
        if (v.k != Val::K::kJson || v.e.type() != json::Type::STRING) return -2;
        auto ts = Timestamp::Parse(v.e.get_string().value_unsafe());
        if (!ts.ok()) return -2;
        int64_t a = ToMicros(*ts), b = ToMicros(lit.ts);
        return a < b ? -1 : a > b ? 1 : 0;
      }
    }
    return -2;
  }

  static bool Pred(const Test& t, const Val& v) {
    bool r = false;
    switch (t.op) {
      case CmpOp::kExists:
        return true;
      case CmpOp::kEq:
        r = Compare(t.lit, v) == 0;
        break;
      case CmpOp::kNe:
        r = Compare(t.lit, v) != 0;
        break;
      case CmpOp::kLt: {
        int c = Compare(t.lit, v);
        r = c != -2 && c < 0;
        break;
      }
      case CmpOp::kLe: {
        int c = Compare(t.lit, v);
        r = c != -2 && c <= 0;
        break;
      }
      case CmpOp::kGt: {
        int c = Compare(t.lit, v);
        r = c != -2 && c > 0;
        break;
      }
      case CmpOp::kGe: {
        int c = Compare(t.lit, v);
        r = c != -2 && c >= 0;
        break;
      }
      case CmpOp::kIn:
        for (const auto& l : t.set)
          if (Compare(l, v) == 0) {
            r = true;
            break;
          }
        break;
      case CmpOp::kLike: {
        thread_local std::u32string cps;
        std::string_view s;
        thread_local std::string norm;
        if (v.k == Val::K::kJson && v.e.type() == json::Type::STRING)
          s = v.e.get_string().value_unsafe();
        else if (v.k == Val::K::kBinary)
          s = v.bin;
        else
          break;
        if (!DecodeUtf8(Nfc(s, &norm), &cps)) break;
        r = LikeMatch(t.like, cps);
        break;
      }
      case CmpOp::kMatches:
        if (v.k == Val::K::kJson && v.e.type() == json::Type::STRING) {
          thread_local std::string norm;
          r = t.re->text && RegexSearch(t.re->text, Nfc(v.e.get_string().value_unsafe(), &norm));
        } else if (v.k == Val::K::kBinary) {
          r = t.re->binary && RegexSearch(t.re->binary, v.bin);
        }
        break;
      case CmpOp::kIsSubset:
      case CmpOp::kIsSuperset: {
        if (v.k != Val::K::kJson || v.e.type() != json::Type::STRING) break;
        net::IpPrefix p;
        if (!net::ParseIpPrefix(v.e.get_string().value_unsafe(), &p)) break;
        r = t.op == CmpOp::kIsSubset ? net::PrefixContains(t.prefix, p)
                                     : net::PrefixContains(p, t.prefix);
        break;
      }
    }
    return t.negated ? !r : r;
  }

  static const Element* Resolve(const Observation& o, std::string_view id) {
    for (const auto& [k, e] : o.objects)
      if (k == id) return &e;
    return nullptr;
  }

  // Visits the values that the object path of `t` reaches from `cur` (from
  // step `si` on), in document order, calling `on_value(const Val&)` for each;
  // stops and returns true as soon as it returns true.
  template <typename OnValue>
  static bool Visit(const Test& t, const Observation& o, Element cur, size_t si, int depth,
                    OnValue& on_value) {
    if (si == t.steps.size()) return on_value(Val{Val::K::kJson, cur, {}});
    if (depth > 64) return false;
    const PathStep& s = t.steps[si];
    switch (s.kind) {
      case PathStep::Kind::kKey: {
        if (cur.type() != json::Type::OBJECT) return false;
        Element v;
        if (cur.get_object().value_unsafe().at_key(s.key).get(v) != simdjson::SUCCESS) return false;
        // EXISTS on a reference property: the property is there (resolved or not).
        if (t.op == CmpOp::kExists && si + 1 == t.steps.size()) return true;
        switch (t.step_kind[si]) {
          case 1: {  // _ref
            if (v.type() != json::Type::STRING) return false;
            const Element* target = Resolve(o, v.get_string().value_unsafe());
            if (!target) return false;
            return Visit(t, o, *target, si + 1, depth + 1, on_value);
          }
          case 2: {  // _refs: a list of the resolved objects
            if (v.type() != json::Type::ARRAY) return false;
            json::Array arr = v.get_array().value_unsafe();
            if (si + 1 == t.steps.size()) {
              bool any = false;
              for (Element x : arr)
                if (x.type() == json::Type::STRING && Resolve(o, x.get_string().value_unsafe()))
                  any = true;
              return any && on_value(Val{Val::K::kOther, {}, {}});
            }
            const PathStep& n = t.steps[si + 1];
            if (n.kind == PathStep::Kind::kKey) return false;
            int64_t idx = 0;
            for (Element x : arr) {
              if (x.type() != json::Type::STRING) continue;
              const Element* target = Resolve(o, x.get_string().value_unsafe());
              if (!target) continue;
              if (n.kind == PathStep::Kind::kStar || idx == n.index) {
                if (Visit(t, o, *target, si + 2, depth + 1, on_value)) return true;
              }
              ++idx;
            }
            return false;
          }
          case 3:
          case 4: {  // _hex / _bin: binary values
            if (v.type() != json::Type::STRING) return false;
            std::string_view text = v.get_string().value_unsafe();
            Result<std::string> bin = t.step_kind[si] == 3 ? HexDecode(text) : Base64Decode(text);
            if (!bin.ok() || si + 1 != t.steps.size()) return false;
            return on_value(Val{Val::K::kBinary, {}, *bin});
          }
          default:
            return Visit(t, o, v, si + 1, depth + 1, on_value);
        }
      }
      case PathStep::Kind::kIndex: {
        if (cur.type() != json::Type::ARRAY || s.index < 0) return false;
        Element v;
        if (cur.get_array().value_unsafe().at(static_cast<size_t>(s.index)).get(v) !=
            simdjson::SUCCESS)
          return false;
        return Visit(t, o, v, si + 1, depth + 1, on_value);
      }
      case PathStep::Kind::kStar: {
        if (cur.type() != json::Type::ARRAY) return false;
        json::Array arr = cur.get_array().value_unsafe();
        for (Element x : arr)
          if (Visit(t, o, x, si + 1, depth + 1, on_value)) return true;
        return false;
      }
    }
    return false;
  }

  // Does some value the path of `t` reaches from `root` satisfy the test?
  static bool Walk(const Test& t, const Observation& o, Element root) {
    auto pred = [&t](const Val& v) { return Pred(t, v); };
    return Visit(t, o, root, 0, 0, pred);
  }

  // A test whose literal (or one of whose IN members) is a timestamp.
  static bool ComparesTimestamps(const Test& t) {
    if (t.op == CmpOp::kIn) {
      for (const auto& l : t.set)
        if (l.kind == LiteralKind::kTimestamp) return true;
      return false;
    }
    return t.op != CmpOp::kExists && t.lit.kind == LiteralKind::kTimestamp;
  }

  // A timestamp literal compared with a string that is not a valid timestamp
  // is a type error, not a mismatch: InvalidArgument naming the value. Like
  // the reference matcher, every comparison is checked against every object of
  // its type in every observation, and the values of one object are read until
  // the first that satisfies the test.
  Status CheckTimestampOperands(const std::vector<Observation>& observations) const {
    for (const Test& t : tests) {
      if (!ComparesTimestamps(t)) continue;
      for (const Observation& o : observations) {
        for (const auto& [key, obj] : o.objects) {
          std::string_view type;
          if (obj.type() != json::Type::OBJECT ||
              obj.get_object().value_unsafe().at_key("type").get(type) != simdjson::SUCCESS ||
              type != t.type)
            continue;
          std::string_view bad;
          bool found_bad = false;
          auto check = [&](const Val& v) {
            if (v.k == Val::K::kJson && v.e.type() == json::Type::STRING) {
              std::string_view s = v.e.get_string().value_unsafe();
              if (!Timestamp::Parse(s).ok()) {
                bad = s;
                found_bad = true;
                return true;
              }
            }
            return Pred(t, v);
          };
          Visit(t, o, obj, 0, 0, check);
          if (found_bad)
            return InvalidArgument(
                "type error: '" + std::string(bad.substr(0, 200)) + "' in " + t.type +
                " is compared with a timestamp literal but is not a valid timestamp");
        }
      }
    }
    return Status::Ok();
  }

  bool EvalComp(uint32_t ci, const Observation& o, Element root, std::string_view root_type) const {
    const CompNode& c = comps[ci];
    switch (c.kind) {
      case CompExpr::Kind::kTest: {
        const Test& t = tests[c.test];
        if (root_type != t.type) return false;
        return Walk(t, o, root);
      }
      case CompExpr::Kind::kAnd:
        for (uint32_t ch : c.children)
          if (!EvalComp(ch, o, root, root_type)) return false;
        return true;
      case CompExpr::Kind::kOr:
        for (uint32_t ch : c.children)
          if (EvalComp(ch, o, root, root_type)) return true;
        return false;
    }
    return false;
  }

  bool MatchLeaf(size_t leaf, const Observation& o) const {
    uint32_t ci = leaf_comp[leaf];
    for (const auto& [key, obj] : o.objects) {
      if (obj.type() != json::Type::OBJECT) continue;
      std::string_view type;
      if (obj.get_object().value_unsafe().at_key("type").get(type) != simdjson::SUCCESS) continue;
      if (EvalComp(ci, o, obj, type)) return true;
    }
    return false;
  }
};

// ---- the observation search -----------------------------------------------

namespace {

class ContRef {
 public:
  template <typename F>
  ContRef(F& f) : obj_(&f), call_([](void* o) { return (*static_cast<F*>(o))(); }) {}  // NOLINT
  bool operator()() const { return call_(obj_); }

 private:
  void* obj_;
  bool (*call_)(void*);
};

struct Filter {
  int64_t lo = INT64_MIN;  // instance allowed iff last >= lo
  int64_t hi = INT64_MAX;  //                  and first <= hi
};

class Search {
 public:
  Search(const CompiledPattern::Impl& p, const std::vector<Observation>& obs) : p_(p), obs_(obs) {
    all_cand_.resize(p.leaf_comp.size());
    for (size_t l = 0; l < all_cand_.size(); ++l)
      for (size_t i = 0; i < obs.size(); ++i)
        if (p.MatchLeaf(l, obs[i])) all_cand_[l].push_back(static_cast<uint32_t>(i));
    used_.assign(obs.size(), 0);
  }

  // Restricts the search to the first `n` observations (input order).
  void Limit(size_t n) {
    cand_.assign(all_cand_.size(), {});
    for (size_t l = 0; l < all_cand_.size(); ++l)
      for (uint32_t i : all_cand_[l])
        if (i < n) cand_[l].push_back(i);
    std::fill(used_.begin(), used_.end(), 0);
    stack_.clear();
    reps_.clear();
    union_.assign(p_.nodes.size(), {});
    union_valid_.assign(p_.nodes.size(), false);
  }

  bool Run(uint32_t root, size_t prefix) {
    Limit(prefix);
    uint64_t total = 0;
    for (size_t i = 0; i < prefix; ++i)
      total = std::min<uint64_t>(total + static_cast<uint64_t>(obs_[i].count), uint64_t{1} << 40);
    if (p_.nodes[root].min_size > total) return false;
    auto done = [] { return true; };
    return Sat(root, Filter{}, ContRef(done));
  }
  bool exhausted() const { return exhausted_; }
  const std::vector<uint32_t>& binding() const { return stack_; }

 private:
  bool Allowed(uint32_t i, const Filter& f) const {
    return obs_[i].last_us >= f.lo && obs_[i].first_us <= f.hi && used_[i] < obs_[i].count;
  }
  bool Tick() {
    if (++steps_ > kMaxEvalSteps) exhausted_ = true;
    return !exhausted_;
  }

  uint64_t Available(uint32_t leaf, size_t from, const Filter& f, uint64_t need) const {
    uint64_t n = 0;
    const auto& c = cand_[leaf];
    for (size_t j = from; j < c.size() && n < need; ++j) {
      uint32_t i = c[j];
      if (Allowed(i, f)) n += static_cast<uint64_t>(obs_[i].count - used_[i]);
    }
    return n;
  }

  // Necessary condition for Sat(node, f): cheap pruning.
  bool Possible(uint32_t ni, const Filter& f) const {
    const ObsNode& n = p_.nodes[ni];
    if (n.or_free && n.min_size > 1 && !HallOk(ni, 1, f)) return false;
    if (n.min_size > 1 && n.kind != ObsExpr::Kind::kRepeats) {
      // Every binding needs min_size distinct instances among this subtree's candidates.
      uint64_t avail = 0;
      for (size_t i : UnionCandidates(ni)) {
        if (Allowed(static_cast<uint32_t>(i), f))
          avail += static_cast<uint64_t>(obs_[i].count - used_[i]);
        if (avail >= n.min_size) break;
      }
      if (avail < n.min_size) return false;
    }
    switch (n.kind) {
      case ObsExpr::Kind::kLeaf:
        return Available(n.leaf, 0, f, 1) >= 1;
      case ObsExpr::Kind::kAnd:
      case ObsExpr::Kind::kFollowedBy:
        for (uint32_t c : n.children)
          if (!Possible(c, f)) return false;
        return true;
      case ObsExpr::Kind::kOr:
        for (uint32_t c : n.children)
          if (Possible(c, f)) return true;
        return false;
      case ObsExpr::Kind::kRepeats: {
        const ObsNode& c = p_.nodes[n.children[0]];
        if (c.kind == ObsExpr::Kind::kLeaf)
          return Available(c.leaf, 0, f, static_cast<uint64_t>(n.repeats)) >=
                 static_cast<uint64_t>(n.repeats);
        uint64_t avail = 0;
        for (size_t i : UnionCandidates(ni)) {
          if (Allowed(static_cast<uint32_t>(i), f))
            avail += static_cast<uint64_t>(obs_[i].count - used_[i]);
          if (avail >= n.min_size) break;
        }
        return avail >= n.min_size && Possible(n.children[0], f);
      }
      case ObsExpr::Kind::kStartStop: {
        if (n.start >= n.stop) return false;
        Filter g{std::max(f.lo, n.start), std::min(f.hi, n.stop - 1)};
        return Possible(n.children[0], g);
      }
      case ObsExpr::Kind::kWithin:
        return Possible(n.children[0], f);
    }
    return false;
  }

  // Hall's condition for supplying `mult` times the demands of an OR-free
  // subtree from the allowed, unused instances: for every set S of leaves, the
  // instances that can serve some leaf of S must cover S's total demand.
  bool HallOk(uint32_t ni, uint64_t mult, const Filter& f) const {
    const ObsNode& n = p_.nodes[ni];
    const size_t leaves = n.demands.size();
    if (leaves == 0 || leaves > 8) return true;
    auto cap = [](uint64_t v) { return std::min<uint64_t>(v, uint64_t{1} << 40); };
    uint64_t by_mask[256] = {};
    for (size_t i : UnionCandidates(ni)) {
      if (!Allowed(static_cast<uint32_t>(i), f)) continue;
      unsigned mask = 0;
      for (size_t q = 0; q < leaves; ++q) {
        const auto& c = cand_[n.demands[q].first];
        if (std::binary_search(c.begin(), c.end(), static_cast<uint32_t>(i))) mask |= 1u << q;
      }
      by_mask[mask] = cap(by_mask[mask] + static_cast<uint64_t>(obs_[i].count - used_[i]));
    }
    for (unsigned s = 1; s < (1u << leaves); ++s) {
      uint64_t need = 0, have = 0;
      for (size_t q = 0; q < leaves; ++q)
        if (s & (1u << q)) need = cap(need + cap(n.demands[q].second * mult));
      for (unsigned m = 1; m < (1u << leaves); ++m)
        if (m & s) have = cap(have + by_mask[m]);
      if (have < need) return false;
    }
    return true;
  }

  // Distinct observation indices that can serve any leaf below node `ni` (cached per prefix).
  const std::vector<size_t>& UnionCandidates(uint32_t ni) const {
    auto& u = union_[ni];
    if (!union_valid_[ni]) {
      u.clear();
      for (uint32_t leaf : p_.nodes[ni].leaves)
        for (uint32_t i : cand_[leaf]) u.push_back(i);
      std::sort(u.begin(), u.end());
      u.erase(std::unique(u.begin(), u.end()), u.end());
      union_valid_[ni] = true;
    }
    return u;
  }

  // Bounds native recursion (continuations nest as deep as the binding grows).
  struct DepthGuard {
    explicit DepthGuard(Search* s) : s_(s) {
      if (++s_->depth_ > kMaxSearchDepth) s_->exhausted_ = true;
    }
    ~DepthGuard() { --s_->depth_; }
    Search* s_;
  };

  bool Sat(uint32_t ni, const Filter& f, ContRef k) {
    DepthGuard guard(this);
    if (!Tick()) return false;
    const ObsNode& n = p_.nodes[ni];
    switch (n.kind) {
      case ObsExpr::Kind::kLeaf: {
        for (uint32_t i : cand_[n.leaf]) {
          if (!Allowed(i, f)) continue;
          ++used_[i];
          stack_.push_back(i);
          if (k()) return true;
          stack_.pop_back();
          --used_[i];
          if (exhausted_) return false;
        }
        return false;
      }
      case ObsExpr::Kind::kAnd:
        if (!Possible(ni, f)) return false;
        return SatAll(n, 0, f, k);
      case ObsExpr::Kind::kOr:
        for (uint32_t c : n.children) {
          if (Sat(c, f, k)) return true;
          if (exhausted_) return false;
        }
        return false;
      case ObsExpr::Kind::kFollowedBy:
        if (!Possible(ni, f)) return false;
        return SatFollowedBy(n, 0, stack_.size(), f, k);
      case ObsExpr::Kind::kStartStop: {
        if (n.start >= n.stop) return false;
        Filter g{std::max(f.lo, n.start), std::min(f.hi, n.stop - 1)};
        return Sat(n.children[0], g, k);
      }
      case ObsExpr::Kind::kWithin: {
        // Some window [E, E + d] must touch every observation of the binding;
        // E can be taken as the binding's earliest last_observed.
        std::vector<int64_t> es;
        for (uint32_t leaf : n.leaves)
          for (uint32_t i : cand_[leaf])
            if (Allowed(i, f)) es.push_back(obs_[i].last_us);
        std::sort(es.begin(), es.end());
        es.erase(std::unique(es.begin(), es.end()), es.end());
        for (int64_t e : es) {
          if (!Tick()) return false;
          int64_t top = e > INT64_MAX - n.within ? INT64_MAX : e + n.within;
          Filter g{std::max(f.lo, e), std::min(f.hi, top)};
          if (!Possible(n.children[0], g)) continue;
          if (Sat(n.children[0], g, k)) return true;
          if (exhausted_) return false;
        }
        return false;
      }
      case ObsExpr::Kind::kRepeats: {
        const ObsNode& c = p_.nodes[n.children[0]];
        if (c.kind == ObsExpr::Kind::kLeaf)
          return RepLeaf(c.leaf, static_cast<uint64_t>(n.repeats), 0, f, k);
        return Rep(n.children[0], static_cast<uint64_t>(n.repeats), f, k);
      }
    }
    return false;
  }

  // Children i.. of an AND, all under the same filter.
  bool SatAll(const ObsNode& n, size_t i, const Filter& f, ContRef k) {
    if (i == n.children.size()) return k();
    auto next = [&] {
      return (i + 1 == n.children.size() || Possible(n.children[i + 1], f)) &&
             SatAll(n, i + 1, f, k);
    };
    return Sat(n.children[i], f, ContRef(next));
  }

  // Children i.. of a (left-associative) FOLLOWEDBY chain: child i may only use
  // instances whose last_observed is at or after the latest first_observed of
  // everything bound to children 0..i-1 (stack entries from `mark`).
  bool SatFollowedBy(const ObsNode& n, size_t i, size_t mark, const Filter& f, ContRef k) {
    if (i == n.children.size()) return k();
    Filter g = f;
    if (i > 0) {
      int64_t t = INT64_MIN;
      for (size_t j = mark; j < stack_.size(); ++j) t = std::max(t, obs_[stack_[j]].first_us);
      g.lo = std::max(g.lo, t);
      if (!Possible(n.children[i], g)) return false;
    }
    auto next = [&] { return SatFollowedBy(n, i + 1, mark, f, k); };
    return Sat(n.children[i], g, ContRef(next));
  }

  // `need` more instances of one leaf, taken in candidate order (no permutations).
  bool RepLeaf(uint32_t leaf, uint64_t need, size_t from, const Filter& f, ContRef k) {
    if (need == 0) return k();
    DepthGuard guard(this);
    if (!Tick()) return false;
    if (Available(leaf, from, f, need) < need) return false;
    const auto& c = cand_[leaf];
    if (stack_.size() + need > kMaxBindingSize) {
      exhausted_ = true;
      return false;
    }
    if (from == 0 && need > 64) {
      // Large counts: try the earliest instances in one go before backtracking.
      size_t mark = stack_.size();
      uint64_t left = need;
      for (size_t j = 0; j < c.size() && left > 0; ++j) {
        uint32_t i = c[j];
        if (!Allowed(i, f)) continue;
        uint64_t take = std::min(left, static_cast<uint64_t>(obs_[i].count - used_[i]));
        used_[i] += static_cast<int64_t>(take);
        for (uint64_t q = 0; q < take; ++q) stack_.push_back(i);
        left -= take;
      }
      if (k()) return true;
      for (size_t j = mark; j < stack_.size(); ++j) --used_[stack_[j]];
      stack_.resize(mark);
      if (exhausted_) return false;
    }
    for (size_t j = from; j < c.size(); ++j) {
      uint32_t i = c[j];
      if (!Allowed(i, f)) continue;
      // Take as many instances of this observation as useful, most first.
      uint64_t avail = static_cast<uint64_t>(obs_[i].count - used_[i]);
      uint64_t take = std::min(avail, need);
      for (; take >= 1; --take) {
        used_[i] += static_cast<int64_t>(take);
        for (uint64_t q = 0; q < take; ++q) stack_.push_back(i);
        if (RepLeaf(leaf, need - take, j + 1, f, k)) return true;
        stack_.resize(stack_.size() - take);
        used_[i] -= static_cast<int64_t>(take);
        if (exhausted_) return false;
      }
    }
    return false;
  }

  // `need` more disjoint bindings of a composite child. Copies must come in
  // non-decreasing order of their observation tuples, so each set of copies is
  // tried once rather than in every permutation.
  bool Rep(uint32_t child, uint64_t need, const Filter& f, ContRef k, size_t prev_begin = SIZE_MAX,
           size_t prev_end = 0) {
    if (need == 0) return k();
    DepthGuard guard(this);
    if (exhausted_) return false;
    if (!Possible(child, f)) return false;
    if (p_.nodes[child].or_free && !HallOk(child, need, f)) return false;
    size_t begin = stack_.size();
    auto kn = [&] {
      size_t end = stack_.size();
      if (prev_begin != SIZE_MAX &&
          std::lexicographical_compare(stack_.begin() + static_cast<std::ptrdiff_t>(begin),
                                       stack_.begin() + static_cast<std::ptrdiff_t>(end),
                                       stack_.begin() + static_cast<std::ptrdiff_t>(prev_begin),
                                       stack_.begin() + static_cast<std::ptrdiff_t>(prev_end)))
        return false;
      return Rep(child, need - 1, f, k, begin, end);
    };
    return Sat(child, f, ContRef(kn));
  }

  const CompiledPattern::Impl& p_;
  const std::vector<Observation>& obs_;
  std::vector<std::vector<uint32_t>> all_cand_;
  std::vector<std::vector<uint32_t>> cand_;
  std::vector<int64_t> used_;
  std::vector<std::pair<size_t, size_t>> reps_;  // [begin, end) of each finished REPEATS copy
  mutable std::vector<std::vector<size_t>> union_;
  mutable std::vector<bool> union_valid_;
  std::vector<uint32_t> stack_;
  uint64_t steps_ = 0;
  int depth_ = 0;
  bool exhausted_ = false;
};

}  // namespace

CompiledPattern::~CompiledPattern() = default;

Result<std::shared_ptr<const CompiledPattern>> CompiledPattern::Compile(
    std::string_view text, const PatternOptions& options) {
  PatternOptions opt = options;
  opt.stacked_qualifiers_on_brackets =
      true;  // evaluated innermost first, as the reference matcher does
  CTIHUB_ASSIGN_OR_RETURN(ParsedPattern parsed, ParsePattern(text, opt));
  std::shared_ptr<CompiledPattern> cp(new CompiledPattern());
  cp->impl_ = std::make_unique<Impl>();
  cp->impl_->root = cp->impl_->AddObs(*parsed.root);
  cp->warnings_ = std::move(parsed.warnings);
  return std::shared_ptr<const CompiledPattern>(std::move(cp));
}

size_t CompiledPattern::leaf_count() const { return impl_->leaf_comp.size(); }

bool CompiledPattern::MatchLeaf(size_t leaf, const Observation& o) const {
  return impl_->MatchLeaf(leaf, o);
}

Result<MatchResult> CompiledPattern::Match(const std::vector<Observation>& observations) const {
  MatchResult r;
  CTIHUB_RETURN_IF_ERROR(MatchInto(observations, &r));
  return r;
}

Status CompiledPattern::MatchInto(const std::vector<Observation>& observations,
                                  MatchResult* out) const {
  MatchResult& r = *out;
  r.matched = false;
  r.bindings.clear();
  r.observation_indices.clear();
  if (impl_->compares_timestamps)
    CTIHUB_RETURN_IF_ERROR(impl_->CheckTimestampOperands(observations));
  if (impl_->nodes[impl_->root].kind == ObsExpr::Kind::kLeaf) {
    // A single observation expression: the first observation that satisfies it.
    for (size_t i = 0; i < observations.size(); ++i) {
      if (impl_->MatchLeaf(0, observations[i])) {
        r.matched = true;
        r.observation_indices.push_back(i);
        r.bindings.push_back(observations[i].position);
        break;
      }
    }
    return Status::Ok();
  }
  Search s(*impl_, observations);
  auto budget = [&] {
    return LimitExceeded("pattern_eval_budget",
                         "evaluation exceeded its work limits (" + std::to_string(kMaxEvalSteps) +
                             " steps, " + std::to_string(kMaxSearchDepth) + " nested frames or " +
                             std::to_string(kMaxBindingSize) + " bound instances)");
  };
  r.matched = s.Run(impl_->root, observations.size());
  if (s.exhausted()) return budget();
  if (r.matched && observations.size() > 1) {
    // The first match in input order: the shortest prefix of the observations
    // that matches (matching is monotone in the prefix), found by bisection.
    size_t lo = 1, hi = observations.size();
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      bool m = s.Run(impl_->root, mid);
      if (s.exhausted()) return budget();
      if (m)
        hi = mid;
      else
        lo = mid + 1;
    }
    if (!s.Run(impl_->root, lo) || s.exhausted()) return budget();
  }
  if (r.matched) {
    std::vector<uint32_t> idx = s.binding();
    std::sort(idx.begin(), idx.end());
    idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
    for (uint32_t i : idx) {
      r.observation_indices.push_back(i);
      r.bindings.push_back(observations[i].position);
    }
    std::sort(r.bindings.begin(), r.bindings.end());
    r.bindings.erase(std::unique(r.bindings.begin(), r.bindings.end()), r.bindings.end());
  }
  return Status::Ok();
}

// ---- observations ---------------------------------------------------------

// The properties of a STIX object that loading observations reads, found in
// one pass over its members (the first of repeated keys, as at_key would).
struct StixFields {
  std::string_view type, id;
  Element first_observed, last_observed, number_observed, object_refs, objects;
  bool has_first = false, has_last = false, has_number = false, has_refs = false,
       has_objects = false;
};

ObservationSet::ObservationSet() = default;
ObservationSet::~ObservationSet() = default;
ObservationSet::ObservationSet(ObservationSet&&) noexcept = default;
ObservationSet& ObservationSet::operator=(ObservationSet&&) noexcept = default;

Status ObservationSet::LoadText(std::string_view json_text, StixVersion version) {
  if (!parser_) parser_ = std::make_unique<json::JsonParser>();
  CTIHUB_ASSIGN_OR_RETURN(json::Element root, parser_->Parse(json_text));
  return LoadElement(root, version);
}

namespace {

StixFields ReadFields(json::Object o) {
  StixFields f;
  bool has_type = false, has_id = false;
  for (auto field : o) {
    std::string_view k = field.key;
    auto take = [&](bool* has, Element* dst) {
      if (!*has) {
        *dst = field.value;
        *has = true;
      }
    };
    switch (k.size()) {  // one comparison per member: the names differ in length
      case 2:
        if (k == "id" && !has_id && field.value.get(f.id) == simdjson::SUCCESS) has_id = true;
        break;
      case 4:
        if (k == "type" && !has_type && field.value.get(f.type) == simdjson::SUCCESS)
          has_type = true;
        break;
      case 7:
        if (k == "objects") take(&f.has_objects, &f.objects);
        break;
      case 11:
        if (k == "object_refs") take(&f.has_refs, &f.object_refs);
        break;
      case 13:
        if (k == "last_observed") take(&f.has_last, &f.last_observed);
        break;
      case 14:
        if (k == "first_observed") take(&f.has_first, &f.first_observed);
        break;
      case 15:
        if (k == "number_observed") take(&f.has_number, &f.number_observed);
        break;
      default:
        break;
    }
  }
  return f;
}

Status ReadTime(bool present, Element e, const char* key, int64_t* out, size_t pos) {
  std::string_view s;
  if (!present || e.get(s) != simdjson::SUCCESS)
    return InvalidArgument("observed-data at position " + std::to_string(pos) + " has no string '" +
                           key + "'");
  auto ts = Timestamp::Parse(s);
  if (!ts.ok())
    return InvalidArgument("observed-data at position " + std::to_string(pos) + ": invalid " + key +
                           ": " + ts.status().message());
  *out = ToMicros(*ts);
  return Status::Ok();
}

// observed-data, or any object with the shape of a STIX 2.0 observation
// (first_observed, last_observed, number_observed and objects) whatever its
// type, as the reference matcher takes it.
bool IsObservation(const StixFields& f) {
  return f.type == "observed-data" || (f.has_first && f.has_last && f.has_number && f.has_objects);
}

}  // namespace

Status ObservationSet::LoadElement(json::Element root, StixVersion version) {
  size_t used = 0;
  Status st = LoadObservations(root, version, &used);
  obs_.resize(used);
  return st;
}

size_t ObservationSet::FindById(std::string_view id) const {
  auto it =
      std::lower_bound(ids_.begin(), ids_.end(), std::pair<std::string_view, uint32_t>(id, 0));
  if (it == ids_.end() || it->first != id) return SIZE_MAX;
  return it->second;
}

Status ObservationSet::LoadObservations(json::Element root, StixVersion version, size_t* used) {
  // Flatten: [objects...] | bundle | [bundles / objects...]; remember top-level positions.
  std::vector<std::pair<size_t, Element>>& flat = flat_;
  flat.clear();
  auto add_bundle_or_object = [&](Element e, size_t pos) -> Status {
    if (e.type() != json::Type::OBJECT)
      return InvalidArgument("element " + std::to_string(pos) + " is not a JSON object");
    std::string_view type;
    json::Object o = e.get_object().value_unsafe();
    if (o.at_key("type").get(type) == simdjson::SUCCESS && type == "bundle") {
      Element objs;
      if (o.at_key("objects").get(objs) != simdjson::SUCCESS) return Status::Ok();
      if (objs.type() != json::Type::ARRAY)
        return InvalidArgument("bundle 'objects' is not an array");
      json::Array arr = objs.get_array().value_unsafe();
      for (Element x : arr) {
        if (x.type() != json::Type::OBJECT) return InvalidArgument("bundle holds a non-object");
        flat.emplace_back(pos, x);
      }
      return Status::Ok();
    }
    flat.emplace_back(pos, e);
    return Status::Ok();
  };
  if (root.type() == json::Type::ARRAY) {
    json::Array arr = root.get_array().value_unsafe();
    size_t pos = 0;
    for (Element e : arr) CTIHUB_RETURN_IF_ERROR(add_bundle_or_object(e, pos++));
  } else if (root.type() == json::Type::OBJECT) {
    CTIHUB_RETURN_IF_ERROR(add_bundle_or_object(root, 0));
  } else {
    return InvalidArgument("observed data must be a JSON array of STIX objects or a bundle");
  }
  // One pass over each object's members; ids sorted with their input index
  // (the first object with an id wins).
  fields_.clear();
  ids_.clear();
  for (size_t i = 0; i < flat.size(); ++i) {
    fields_.push_back(ReadFields(flat[i].second.get_object().value_unsafe()));
    if (!fields_.back().id.empty()) ids_.emplace_back(fields_.back().id, static_cast<uint32_t>(i));
  }
  std::sort(ids_.begin(), ids_.end());
  taken_by_.assign(flat.size(), SIZE_MAX);
  ObservationLimits limits;
  for (size_t i = 0; i < flat.size(); ++i) {
    const auto& [pos, e] = flat[i];
    const StixFields& f = fields_[i];
    if (!IsObservation(f)) continue;
    if (*used >= limits.max_observations) return LimitExceeded("too many observed-data objects");
    if (*used == obs_.size()) obs_.emplace_back();
    Observation& ob = obs_[(*used)++];
    ob.position = pos;
    ob.sdo = e;
    ob.count = 1;
    ob.objects.clear();
    CTIHUB_RETURN_IF_ERROR(
        ReadTime(f.has_first, f.first_observed, "first_observed", &ob.first_us, pos));
    CTIHUB_RETURN_IF_ERROR(
        ReadTime(f.has_last, f.last_observed, "last_observed", &ob.last_us, pos));
    if (ob.last_us < ob.first_us)
      return InvalidArgument("observed-data at position " + std::to_string(pos) +
                             ": last_observed is before first_observed");
    if (f.has_number) {
      int64_t v;
      if (f.number_observed.get_int64().get(v) != simdjson::SUCCESS || v < 1 || v > 999999999)
        return InvalidArgument("observed-data at position " + std::to_string(pos) +
                               ": number_observed must be an integer from 1 to 999999999");
      ob.count = v;
    } else {
      return InvalidArgument("observed-data at position " + std::to_string(pos) +
                             " has no number_observed");
    }
    Element refs = f.object_refs, objects = f.objects;
    if (version == StixVersion::k21 && f.has_refs) {
      if (refs.type() != json::Type::ARRAY)
        return InvalidArgument("observed-data at position " + std::to_string(pos) +
                               ": object_refs is not an array");
      json::Array arr = refs.get_array().value_unsafe();
      for (Element r : arr) {
        std::string_view id;
        if (r.get(id) != simdjson::SUCCESS)
          return InvalidArgument("observed-data at position " + std::to_string(pos) +
                                 ": object_refs holds a non-string");
        size_t target = FindById(id);
        if (target == SIZE_MAX) continue;
        // A reference listed twice adds its object once; O(1) per reference:
        // each object remembers the observation that last took it.
        if (taken_by_[target] == *used) continue;
        taken_by_[target] = *used;
        ob.objects.emplace_back(id, flat[target].second);
        if (ob.objects.size() > limits.max_objects_per_observation)
          return LimitExceeded("too many objects in one observation");
      }
    } else if (f.has_objects) {
      if (objects.type() != json::Type::OBJECT)
        return InvalidArgument("observed-data at position " + std::to_string(pos) +
                               ": objects is not a dictionary");
      json::Object dict = objects.get_object().value_unsafe();
      for (auto field : dict) {
        if (field.value.type() != json::Type::OBJECT)
          return InvalidArgument("observed-data at position " + std::to_string(pos) +
                                 ": objects holds a non-object");
        ob.objects.emplace_back(field.key, field.value);
        if (ob.objects.size() > limits.max_objects_per_observation)
          return LimitExceeded("too many objects in one observation");
      }
    } else if (version == StixVersion::k21) {
      return InvalidArgument("observed-data at position " + std::to_string(pos) +
                             " has no object_refs");
    } else {
      return InvalidArgument("observed-data at position " + std::to_string(pos) +
                             " has no objects dictionary");
    }
  }
  return Status::Ok();
}

}  // namespace ctihub::pattern
