// STIX 2.1 validator. Each object type is a table of property specs (ObjSpec);
// Validate() looks the type up once, walks the object's members once,
// dispatches each member on its spec's kind, then runs the type's cross-property
// rules. Paths are kept as a stack of views and only turned into strings when
// an issue is reported, so a valid object costs no allocation here.
#include "stix/validate.h"

#include <array>
#include <cassert>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/encoding.h"
#include "core/net.h"
#include "core/sco_types.h"
#include "core/timestamp.h"
#include "core/tlp.h"
#include "stix/required.h"
#include "stix/sco_id.h"
#include "stix/vocab.h"

namespace ctihub::stix {
namespace {

using json::Element;
using json::Type;

// ---------------------------------------------------------------------------
// Context: report, path stack.

struct Seg {
  std::string_view key;
  int64_t index = -1;  // >= 0: an array index
};

bool IsPlainKey(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

class Ctx {
 public:
  explicit Ctx(Report& r, bool strict) : r_(r), strict_(strict) {}

  void Push(std::string_view key) {
    if (depth_ < kMax) segs_[depth_] = {key, -1};
    ++depth_;
  }
  void Push(int64_t index) {
    if (depth_ < kMax) segs_[depth_] = {{}, index};
    ++depth_;
  }
  void Pop() { --depth_; }

  std::string Path(std::string_view extra = {}) const {
    std::string p = "$";
    int n = depth_ < kMax ? depth_ : kMax;
    for (int i = 0; i < n; ++i) Append(p, segs_[i]);
    if (!extra.empty()) Append(p, {extra, -1});
    return p;
  }

  void Error(std::string msg) { r_.errors.push_back({Path(), std::move(msg)}); }
  void ErrorAt(std::string_view child, std::string msg) {
    r_.errors.push_back({Path(child), std::move(msg)});
  }
  void Warn(std::string msg) {
    if (strict_) {
      r_.errors.push_back({Path(), "(strict) " + msg});
    } else {
      r_.warnings.push_back({Path(), std::move(msg)});
    }
  }
  void WarnAt(std::string_view child, std::string msg) {
    if (strict_) {
      r_.errors.push_back({Path(child), "(strict) " + msg});
    } else {
      r_.warnings.push_back({Path(child), std::move(msg)});
    }
  }

  Report& report() { return r_; }

 private:
  static void Append(std::string& p, const Seg& s) {
    if (s.index >= 0) {
      p += '[';
      p += std::to_string(s.index);
      p += ']';
    } else if (IsPlainKey(s.key)) {
      p += '.';
      p += s.key;
    } else {
      p += "['";
      p += s.key;
      p += "']";
    }
  }
  static constexpr int kMax = 48;
  Report& r_;
  bool strict_;
  std::array<Seg, kMax> segs_;  // only [0, depth_) is meaningful; left uninitialised on purpose
  int depth_ = 0;
};

struct PathGuard {
  PathGuard(Ctx& c, std::string_view key) : c_(c) { c_.Push(key); }
  PathGuard(Ctx& c, int64_t index) : c_(c) { c_.Push(index); }
  ~PathGuard() { c_.Pop(); }
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;
  Ctx& c_;
};

std::string Q(std::string_view s) { return "'" + std::string(s.substr(0, 200)) + "'"; }

// ---------------------------------------------------------------------------
// Object categories and type tables.

enum class Cat : uint8_t {
  kSdo,
  kSro,
  kSco,
  kMarking,
  kLanguageContent,
  kExtensionDefinition,
  kCustom
};

constexpr std::string_view kSdoTypes[] = {
    "attack-pattern", "campaign",      "course-of-action", "grouping",
    "identity",       "incident",      "indicator",        "infrastructure",
    "intrusion-set",  "location",      "malware",          "malware-analysis",
    "note",           "observed-data", "opinion",          "report",
    "threat-actor",   "tool",          "vulnerability"};

template <size_t N>
bool In(const std::string_view (&arr)[N], std::string_view v) {
  for (std::string_view x : arr) {
    if (x == v) return true;
  }
  return false;
}

bool IsSdoType(std::string_view t) { return In(kSdoTypes, t); }

Cat CategoryOfSlow(std::string_view t) {
  if (IsSdoType(t)) return Cat::kSdo;
  if (IsStixScoType(t)) return Cat::kSco;
  if (t == "relationship" || t == "sighting") return Cat::kSro;
  if (t == "marking-definition") return Cat::kMarking;
  if (t == "language-content") return Cat::kLanguageContent;
  if (t == "extension-definition") return Cat::kExtensionDefinition;
  return Cat::kCustom;
}

Cat CategoryOf(std::string_view t) {
  static const auto* known = [] {
    auto* m = new std::unordered_map<std::string_view, Cat>;
    for (std::string_view x : kSdoTypes) (*m)[x] = Cat::kSdo;
    for (std::string_view x : kStixScoTypes) (*m)[x] = Cat::kSco;
    for (std::string_view x : {"relationship", "sighting", "marking-definition", "language-content",
                               "extension-definition"}) {
      (*m)[x] = CategoryOfSlow(x);
    }
    return m;
  }();
  auto it = known->find(t);
  return it == known->end() ? Cat::kCustom : it->second;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Character classes for the hot identifier checks.
enum : uint8_t { kHexBit = 1, kTypeBit = 2 };
constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] |= kHexBit | kTypeBit;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHexBit;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHexBit;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kTypeBit;
  t['-'] |= kTypeBit;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = MakeClasses();

// STIX type names: 3-250 characters of a-z, 0-9 and '-', starting with a letter (section 3.1
// "type").
bool IsValidTypeName(std::string_view t) {
  if (t.size() < 3 || t.size() > 250) return false;
  if (!(t[0] >= 'a' && t[0] <= 'z')) return false;
  for (char c : t) {
    if (!(kClass[static_cast<unsigned char>(c)] & kTypeBit)) return false;
  }
  return true;
}

// "type--8-4-4-4-12"; returns the type part in *type and the UUID text in *uuid.
bool SplitIdentifier(std::string_view id, std::string_view* type, std::string_view* uuid) {
  if (id.size() < 36 + 2 + 3 || id[id.size() - 37] != '-' || id[id.size() - 38] != '-')
    return false;
  *type = id.substr(0, id.size() - 38);
  *uuid = id.substr(id.size() - 36);
  const char* u = uuid->data();
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (u[i] != '-') return false;
    } else if (!(kClass[static_cast<unsigned char>(u[i])] & kHexBit)) {
      return false;
    }
  }
  return IsValidTypeName(*type);
}

// REQUIRES: `uuid` passed SplitIdentifier (36 characters, hex and dashes).
bool IsRfc4122Variant(std::string_view uuid) {
  char v = uuid[19];
  return v == '8' || v == '9' || v == 'a' || v == 'b' || v == 'A' || v == 'B';
}
int UuidVersion(std::string_view uuid) {
  char v = uuid[14];
  return v >= '0' && v <= '9' ? v - '0' : (v | 0x20) - 'a' + 10;
}

// ---------------------------------------------------------------------------
// Property specs.

enum class K : uint8_t {
  kAny,
  kString,
  kTimestamp,
  kBool,
  kInt,
  kNumber,
  kId,
  kIdList,
  kStringList,
  kOv,
  kOvList,
  kEnum,
  kEnumList,
  kKillChain,
  kHashes,
  kDict,
  kHex,
  kBinary,
  kObject,      // nested object with its own spec
  kObjectList,  // non-empty list of nested objects
  kExternalReferences,
  kGranularMarkings,
  kExtensions,
  kLang,
  kTypeField,  // "type": handled by Validate()
  kIdField,    // "id": handled by Validate()
  kSpecVersion,
  kCreated,  // timestamps kept for the versioning rules
  kModified,
};

struct ObjSpec;

struct Prop {
  std::string_view name;
  K kind;
  bool required = false;
  const Vocab* vocab = nullptr;
  // kId / kIdList: allowed target types ("identity|location") or a class
  // ("@sdo", "@sco", "@sdo-sco", "@sco-sro", "@any").
  std::string_view refs = "@any";
  int64_t min = INT64_MIN;
  int64_t max = INT64_MAX;
  const ObjSpec* sub = nullptr;
};

using CheckFn = void (*)(Ctx&, json::Object);

struct ObjSpec {
  std::vector<Prop> props;
  CheckFn check = nullptr;
  bool custom_names = true;  // unknown members are custom properties (name rules apply)
  std::unordered_map<std::string_view, int> index;

  void Build() {
    assert(props.size() <= 64 && "required-property mask is 64 bits");
    index.clear();
    for (size_t i = 0; i < props.size(); ++i) index[props[i].name] = static_cast<int>(i);
  }
  const Prop* Find(std::string_view name) const {
    auto it = index.find(name);
    return it == index.end() ? nullptr : &props[static_cast<size_t>(it->second)];
  }
};

struct ExtSpec {
  std::string_view name;
  ObjSpec spec;
};

struct TypeSpec {
  std::string_view type;
  Cat cat;
  ObjSpec spec;
  std::vector<ExtSpec> extensions;  // predefined extensions (SCOs)
};

// Builders for brevity.
Prop S(std::string_view n, bool req = false) { return {n, K::kString, req}; }
Prop Ts(std::string_view n, bool req = false) { return {n, K::kTimestamp, req}; }
Prop B(std::string_view n, bool req = false) { return {n, K::kBool, req}; }
Prop I(std::string_view n, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX, bool req = false) {
  Prop p{n, K::kInt, req};
  p.min = lo;
  p.max = hi;
  return p;
}
Prop Num(std::string_view n, int64_t lo, int64_t hi) {
  Prop p{n, K::kNumber};
  p.min = lo;
  p.max = hi;
  return p;
}
Prop Ref(std::string_view n, std::string_view refs, bool req = false) {
  Prop p{n, K::kId, req};
  p.refs = refs;
  return p;
}
Prop Refs(std::string_view n, std::string_view refs, bool req = false) {
  Prop p{n, K::kIdList, req};
  p.refs = refs;
  return p;
}
Prop SL(std::string_view n, bool req = false) { return {n, K::kStringList, req}; }
Prop Ov(std::string_view n, const Vocab& v, bool req = false) { return {n, K::kOv, req, &v}; }
Prop OvL(std::string_view n, const Vocab& v, bool req = false) { return {n, K::kOvList, req, &v}; }
Prop En(std::string_view n, const Vocab& v, bool req = false) { return {n, K::kEnum, req, &v}; }
Prop EnL(std::string_view n, const Vocab& v, bool req = false) {
  return {n, K::kEnumList, req, &v};
}
Prop Kc(std::string_view n = "kill_chain_phases") { return {n, K::kKillChain}; }
Prop H(std::string_view n = "hashes", bool req = false) { return {n, K::kHashes, req}; }
Prop D(std::string_view n, bool req = false) { return {n, K::kDict, req}; }
Prop Hex(std::string_view n, bool req = false) { return {n, K::kHex, req}; }
Prop Bin(std::string_view n) { return {n, K::kBinary}; }
Prop Obj(std::string_view n, const ObjSpec* sub, bool req = false) {
  Prop p{n, K::kObject, req};
  p.sub = sub;
  return p;
}
Prop ObjL(std::string_view n, const ObjSpec* sub, bool req = false) {
  Prop p{n, K::kObjectList, req};
  p.sub = sub;
  return p;
}
Prop Any(std::string_view n, bool req = false) { return {n, K::kAny, req}; }

// ---------------------------------------------------------------------------
// Value checks.

bool GetString(Element e, std::string_view* out) {
  if (e.type() != Type::STRING) return false;
  *out = e.get_string().value_unsafe();
  return true;
}

bool IsIntegral(Element e, int64_t* v) {
  if (e.type() == Type::INT64) {
    *v = e.get_int64().value_unsafe();
    return true;
  }
  if (e.type() == Type::UINT64) {
    uint64_t u = e.get_uint64().value_unsafe();
    *v = u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(u);
    return true;
  }
  return false;
}

std::string TypeWord(Element e) { return std::string(json::TypeName(e.type())); }

bool CheckTimestamp(Ctx& c, Element e, Timestamp* out = nullptr) {
  std::string_view s;
  if (!GetString(e, &s)) {
    c.Error("must be a timestamp string (RFC 3339, UTC 'Z'), not " + TypeWord(e));
    return false;
  }
  auto ts = Timestamp::Parse(s);
  if (!ts.ok()) {
    c.Error("invalid timestamp " + Q(s) + ": " + ts.status().message());
    return false;
  }
  if (out) *out = *ts;
  return true;
}

bool RefAllowed(std::string_view refs, std::string_view target) {
  if (refs == "@any") return true;
  if (target == "bundle")
    return false;  // a bundle is no STIX object (section 8): never a reference target
  Cat cat = CategoryOf(target);
  if (refs == "@sdo") return cat == Cat::kSdo || cat == Cat::kCustom;
  if (refs == "@sco") return cat == Cat::kSco || cat == Cat::kCustom;
  if (refs == "@sdo-sco") return cat == Cat::kSdo || cat == Cat::kSco || cat == Cat::kCustom;
  if (refs == "@sco-sro") return cat == Cat::kSco || cat == Cat::kSro || cat == Cat::kCustom;
  while (!refs.empty()) {
    size_t bar = refs.find('|');
    if (refs.substr(0, bar) == target) return true;
    if (bar == std::string_view::npos) break;
    refs.remove_prefix(bar + 1);
  }
  return false;
}

std::string RefsWord(std::string_view refs) {
  if (refs == "@sdo") return "an SDO";
  if (refs == "@sco") return "an SCO";
  if (refs == "@sdo-sco") return "an SDO or SCO";
  if (refs == "@sco-sro") return "an SCO or SRO";
  std::string out;
  while (!refs.empty()) {
    size_t bar = refs.find('|');
    if (!out.empty()) out += bar == std::string_view::npos ? " or " : ", ";
    out += refs.substr(0, bar);
    if (bar == std::string_view::npos) break;
    refs.remove_prefix(bar + 1);
  }
  return out;
}

void CheckIdString(Ctx& c, std::string_view s, std::string_view refs) {
  std::string_view type, uuid;
  if (!SplitIdentifier(s, &type, &uuid)) {
    c.Error("invalid identifier " + Q(s) + ": must be 'type--UUID'");
    return;
  }
  if (!IsRfc4122Variant(uuid)) {
    c.Error("invalid identifier " + Q(s) + ": the UUID must be an RFC 4122 UUID");
    return;
  }
  if (!RefAllowed(refs, type)) c.Error("must reference " + RefsWord(refs) + ", not " + Q(type));
}

void CheckIdentifier(Ctx& c, Element e, std::string_view refs) {
  std::string_view s;
  if (!GetString(e, &s)) {
    c.Error("must be an identifier string (type--UUID), not " + TypeWord(e));
    return;
  }
  CheckIdString(c, s, refs);
}

void CheckStringList(Ctx& c, Element e) {
  if (e.type() != Type::ARRAY) {
    c.Error("must be a list of strings, not " + TypeWord(e));
    return;
  }
  json::Array arr = e.get_array().value_unsafe();
  if (arr.size() == 0) c.Error("list must not be empty");
  int64_t i = 0;
  for (Element v : arr) {
    if (v.type() != Type::STRING) {
      PathGuard g(c, i);
      c.Error("must be a string, not " + TypeWord(v));
    }
    ++i;
  }
}

void CheckVocabValue(Ctx& c, Element e, const Vocab& vocab) {
  std::string_view s;
  if (!GetString(e, &s)) {
    c.Error("must be a string from " + std::string(vocab.name) + ", not " + TypeWord(e));
    return;
  }
  if (vocab.Contains(s)) return;
  if (vocab.closed) {
    c.Error(Q(s) + " is not a value of the closed vocabulary " + std::string(vocab.name));
  } else {
    c.Warn(Q(s) + " is not in the open vocabulary " + std::string(vocab.name) +
           " (SHOULD use its values)");
  }
}

void CheckVocabList(Ctx& c, Element e, const Vocab& vocab) {
  if (e.type() != Type::ARRAY) {
    c.Error("must be a list of strings from " + std::string(vocab.name) + ", not " + TypeWord(e));
    return;
  }
  json::Array arr = e.get_array().value_unsafe();
  if (arr.size() == 0) c.Error("list must not be empty");
  int64_t i = 0;
  for (Element v : arr) {
    PathGuard g(c, i++);
    CheckVocabValue(c, v, vocab);
  }
}

size_t ExpectedHashHexLength(std::string_view alg) {
  if (alg == "MD5") return 32;
  if (alg == "SHA-1") return 40;
  if (alg == "SHA-256" || alg == "SHA3-256") return 64;
  if (alg == "SHA-512" || alg == "SHA3-512") return 128;
  return 0;
}

void CheckHashes(Ctx& c, Element e) {
  if (e.type() != Type::OBJECT) {
    c.Error("hashes must be a dictionary, not " + TypeWord(e));
    return;
  }
  json::Object obj = e.get_object().value_unsafe();
  if (obj.size() == 0) c.Error("hashes must have at least one entry");
  for (auto [k, v] : obj) {
    PathGuard g(c, k);
    std::string_view s;
    if (!GetString(v, &s)) {
      c.Error("hash value must be a string, not " + TypeWord(v));
      continue;
    }
    if (vocab::kHashAlgorithm.Contains(k)) {
      size_t want = ExpectedHashHexLength(k);
      if (want != 0 && (s.size() != want || !IsHexDigits(s))) {
        c.Error("invalid " + std::string(k) + " hash: must be " + std::to_string(want) +
                " hex characters");
      }
      continue;
    }
    if (k.size() < 3 || k.size() > 250) {
      c.Error("custom hash algorithm names must be 3-250 characters");
    } else {
      c.Warn(Q(k) + " is not in hash-algorithm-ov (SHOULD use its values)");
    }
  }
}

void CheckDictionary(Ctx& c, Element e) {
  if (e.type() != Type::OBJECT) {
    c.Error("must be a dictionary (JSON object), not " + TypeWord(e));
    return;
  }
  json::Object obj = e.get_object().value_unsafe();
  if (obj.size() == 0) c.Warn("dictionary has no entries");
  for (auto [k, v] : obj) {
    if (k.empty() || k.size() > 250) c.ErrorAt(k, "dictionary keys must be 1-250 characters");
    for (char ch : k) {
      if (static_cast<unsigned char>(ch) >= 0x80) {
        c.ErrorAt(k, "dictionary keys must be ASCII");
        break;
      }
    }
  }
}

bool IsBase64(std::string_view s) {
  size_t n = 0, pad = 0;
  for (char ch : s) {
    if (ch == '=') {
      ++pad;
      continue;
    }
    if (pad) return false;
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
          ch == '+' || ch == '/')) {
      return false;
    }
    ++n;
  }
  return pad <= 2 && (n + pad) % 4 == 0;
}

// RFC 5646 language tag, loosely: 2-8 letters then subtags of 1-8 alphanumerics.
bool IsLangTag(std::string_view s) {
  size_t i = 0, n = 0;
  while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) ++i, ++n;
  if (n < 1 || n > 8) return false;  // "i-..." / "x-..." grandfathered forms start with 1 letter
  while (i < s.size()) {
    if (s[i] != '-') return false;
    ++i;
    size_t m = 0;
    while (i < s.size() && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                            (s[i] >= '0' && s[i] <= '9'))) {
      ++i, ++m;
    }
    if (m < 1 || m > 8) return false;
  }
  return true;
}

// An RFC 5646 tag whose primary language subtag is an ISO 639-1/639-2 code
// (sections 3.2 lang, 6.14 languages, 7.1 contents).
bool IsLanguageCode(std::string_view s) {
  std::string_view primary = s.substr(0, s.find('-'));
  return In(vocab::kLanguageCodes, primary) && IsLangTag(s);
}

bool IsAscii(std::string_view s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) >= 0x80) return false;
  }
  return true;
}

// Custom property names (sections 3.1, 11.1): ASCII, at least 3 characters,
// starting with a letter (MUST, as the reference enforces); only a-z, 0-9 and
// '_' and at most 250 characters (SHOULD); "x_" prefix (SHOULD, not asked of
// a custom object's own properties); some names are reserved.
void CheckCustomPropertyName(Ctx& c, std::string_view name, bool custom_object = false) {
  if (name.size() < 3 || !IsAscii(name) || !(name[0] >= 'a' && name[0] <= 'z')) {
    c.ErrorAt(name, "unknown property " + Q(name) +
                        ": custom property names must be ASCII, at least 3 characters, starting "
                        "with a letter a-z");
    return;
  }
  bool plain = name.size() <= 250;
  for (char ch : name) {
    if (!IsLowerAlnum(ch) && ch != '_') plain = false;
  }
  if (!plain) {
    c.WarnAt(name, "custom property " + Q(name) +
                       " SHOULD use only a-z, 0-9 and '_' and at most 250 characters");
  }
  if (name == "severity" || name == "action" || name == "username" || name == "phone_numbers") {
    c.ErrorAt(name, Q(name) + " is a reserved property name");
    return;
  }
  if (!custom_object && name.substr(0, 2) != "x_") {
    c.WarnAt(name, "custom property " + Q(name) + " SHOULD start with 'x_' (or is misspelt)");
  }
}

void CheckObject(Ctx& c, json::Object obj, const ObjSpec& spec);

// Section 2.12: "Empty lists are prohibited in STIX", custom properties included.
void CheckCustomPropertyValue(Ctx& c, std::string_view name, Element v) {
  if (v.type() == Type::ARRAY && v.get_array().value_unsafe().size() == 0) {
    c.ErrorAt(name, "list must not be empty");
  }
}

void CheckKillChain(Ctx& c, Element e);
void CheckExternalReferences(Ctx& c, Element e);

void CheckValue(Ctx& c, const Prop& p, Element e) {
  switch (p.kind) {
    case K::kCreated:
    case K::kModified:
      CheckTimestamp(c, e);
      return;
    case K::kAny:
    case K::kTypeField:
    case K::kIdField:
    case K::kSpecVersion:
    case K::kGranularMarkings:
    case K::kExtensions:
      return;
    case K::kString:
      if (e.type() != Type::STRING) c.Error("must be a string, not " + TypeWord(e));
      return;
    case K::kTimestamp:
      CheckTimestamp(c, e);
      return;
    case K::kBool:
      if (e.type() != Type::BOOL) c.Error("must be a boolean, not " + TypeWord(e));
      return;
    case K::kInt: {
      int64_t v;
      if (!IsIntegral(e, &v)) {
        c.Error("must be an integer, not " + TypeWord(e));
      } else if (v < p.min || v > p.max) {
        c.Error("must be between " + std::to_string(p.min) + " and " + std::to_string(p.max));
      }
      return;
    }
    case K::kNumber: {
      double d;
      if (e.type() == Type::DOUBLE) {
        d = e.get_double().value_unsafe();
      } else if (e.type() == Type::INT64) {
        d = static_cast<double>(e.get_int64().value_unsafe());
      } else if (e.type() == Type::UINT64) {
        d = static_cast<double>(e.get_uint64().value_unsafe());
      } else {
        c.Error("must be a number, not " + TypeWord(e));
        return;
      }
      if (d < static_cast<double>(p.min) || d > static_cast<double>(p.max)) {
        c.Error("must be between " + std::to_string(p.min) + " and " + std::to_string(p.max));
      }
      return;
    }
    case K::kId:
      CheckIdentifier(c, e, p.refs);
      return;
    case K::kIdList: {
      if (e.type() != Type::ARRAY) {
        c.Error("must be a list of identifiers, not " + TypeWord(e));
        return;
      }
      json::Array arr = e.get_array().value_unsafe();
      if (arr.size() == 0) c.Error("list must not be empty");
      int64_t i = 0;
      for (Element v : arr) {
        PathGuard g(c, i++);
        CheckIdentifier(c, v, p.refs);
      }
      return;
    }
    case K::kStringList:
      CheckStringList(c, e);
      return;
    case K::kOv:
    case K::kEnum:
      CheckVocabValue(c, e, *p.vocab);
      return;
    case K::kOvList:
    case K::kEnumList:
      CheckVocabList(c, e, *p.vocab);
      return;
    case K::kKillChain:
      CheckKillChain(c, e);
      return;
    case K::kHashes:
      CheckHashes(c, e);
      return;
    case K::kDict:
      CheckDictionary(c, e);
      return;
    case K::kHex: {
      std::string_view s;
      if (!GetString(e, &s)) {
        c.Error("must be a hex string, not " + TypeWord(e));
      } else if (!IsHexDigits(s) || s.size() % 2 != 0) {
        c.Error("must be an even number of hexadecimal characters");
      }
      return;
    }
    case K::kBinary: {
      std::string_view s;
      if (!GetString(e, &s)) {
        c.Error("must be a base64 string, not " + TypeWord(e));
      } else if (!IsBase64(s)) {
        c.Error("must be base64 (RFC 4648)");
      }
      return;
    }
    case K::kObject:
      if (e.type() != Type::OBJECT) {
        c.Error("must be an object, not " + TypeWord(e));
        return;
      }
      CheckObject(c, e.get_object().value_unsafe(), *p.sub);
      return;
    case K::kObjectList: {
      if (e.type() != Type::ARRAY) {
        c.Error("must be a list of objects, not " + TypeWord(e));
        return;
      }
      json::Array arr = e.get_array().value_unsafe();
      if (arr.size() == 0) c.Error("list must not be empty");
      int64_t i = 0;
      for (Element v : arr) {
        PathGuard g(c, i++);
        if (v.type() != Type::OBJECT) {
          c.Error("must be an object, not " + TypeWord(v));
          continue;
        }
        CheckObject(c, v.get_object().value_unsafe(), *p.sub);
      }
      return;
    }
    case K::kExternalReferences:
      CheckExternalReferences(c, e);
      return;
    case K::kLang: {
      std::string_view s;
      if (!GetString(e, &s)) {
        c.Error("must be a language tag string, not " + TypeWord(e));
      } else if (!IsLanguageCode(s)) {
        c.Error(Q(s) + " is not an RFC 5646 language tag");
      }
      return;
    }
  }
}

// Walks `obj` against `spec`: member types, required members, custom names.
void CheckObject(Ctx& c, json::Object obj, const ObjSpec& spec) {
  uint64_t seen = 0;
  for (auto [k, v] : obj) {
    const Prop* p = spec.Find(k);
    if (!p) {
      if (spec.custom_names) {
        CheckCustomPropertyName(c, k);
        CheckCustomPropertyValue(c, k, v);
      }
      continue;
    }
    seen |= uint64_t{1} << (p - spec.props.data());
    if (p->kind == K::kAny) continue;
    PathGuard g(c, k);
    CheckValue(c, *p, v);
  }
  for (size_t i = 0; i < spec.props.size(); ++i) {
    const Prop& p = spec.props[i];
    if (p.required && !(seen & (uint64_t{1} << i))) {
      c.ErrorAt(p.name, "required property " + Q(p.name) + " is missing");
    }
  }
  if (spec.check) spec.check(c, obj);
}

// --- shared nested types -----------------------------------------------------

ObjSpec* KillChainSpec() {
  static ObjSpec* s = [] {
    auto* o = new ObjSpec;
    o->props = {S("kill_chain_name", true), S("phase_name", true)};
    o->check = [](Ctx& c, json::Object kc) {
      for (auto [k, v] : kc) {
        std::string_view s;
        if ((k != "kill_chain_name" && k != "phase_name") || !GetString(v, &s)) continue;
        for (char ch : s) {
          if (!IsLowerAlnum(ch) && ch != '-') {
            c.WarnAt(k, std::string(k) + " SHOULD be lower case with hyphens as word separators");
            break;
          }
        }
      }
    };
    o->Build();
    return o;
  }();
  return s;
}

// A non-empty list whose items are objects checked against `spec`.
void CheckListOfObjects(Ctx& c, Element e, std::string_view what, const ObjSpec& spec) {
  if (e.type() != Type::ARRAY) {
    c.Error("must be a list of " + std::string(what) + " objects, not " + TypeWord(e));
    return;
  }
  json::Array arr = e.get_array().value_unsafe();
  if (arr.size() == 0) c.Error("list must not be empty");
  int64_t i = 0;
  for (Element v : arr) {
    PathGuard g(c, i++);
    if (v.type() != Type::OBJECT) {
      c.Error(std::string(what) + " must be an object, not " + TypeWord(v));
      continue;
    }
    CheckObject(c, v.get_object().value_unsafe(), spec);
  }
}

void CheckKillChain(Ctx& c, Element e) {
  CheckListOfObjects(c, e, "kill-chain-phase", *KillChainSpec());
}

bool Has(json::Object o, std::string_view key);

// "CVE-YYYY-NNNN..." (at least four digits, no leading zero beyond four).
bool IsCveId(std::string_view s) {
  if (s.size() < 13 || s.substr(0, 4) != "CVE-" || s[8] != '-') return false;
  for (size_t i = 4; i < s.size(); ++i) {
    if (i != 8 && !(s[i] >= '0' && s[i] <= '9')) return false;
  }
  return s.size() == 13 || s[9] != '0';
}

bool IsCapecId(std::string_view s) {
  if (s.size() < 7 || s.substr(0, 6) != "CAPEC-") return false;
  for (char ch : s.substr(6)) {
    if (!(ch >= '0' && ch <= '9')) return false;
  }
  return true;
}

// Section 2.5: CVE and CAPEC references carry their identifier in
// external_id; other references need one of description, url, external_id.
void CheckExternalReference(Ctx& c, json::Object o) {
  // One pass over the members (this runs for every reference of every object).
  bool has_description = false, has_url = false, has_ext_id = false, has_hashes = false;
  std::string_view source, ext_id;
  bool ext_id_is_string = false;
  for (auto [k, v] : o) {
    if (k == "source_name") {
      GetString(v, &source);
    } else if (k == "external_id") {
      has_ext_id = true;
      ext_id_is_string = GetString(v, &ext_id);
    } else if (k == "url") {
      has_url = true;
    } else if (k == "description") {
      has_description = true;
    } else if (k == "hashes") {
      has_hashes = true;
    }
  }
  if (source == "cve" || source == "capec") {
    bool cve = source == "cve";
    if (!has_ext_id) {
      c.ErrorAt("external_id", "a " + std::string(source) + " reference must have external_id");
    } else if (ext_id_is_string && (cve ? !IsCveId(ext_id) : !IsCapecId(ext_id))) {
      c.ErrorAt(
          "external_id",
          Q(ext_id) + (cve ? " is not a CVE id (CVE-YYYY-NNNN, upper case, at least four digits)"
                           : " is not a CAPEC id (CAPEC-<digits>)"));
    }
  } else if (!has_description && !has_url && !has_ext_id) {
    c.Error("an external reference must have at least one of description, url or external_id");
  }
  if (has_url && !has_hashes) c.WarnAt("hashes", "hashes SHOULD be given with a url");
}

ObjSpec* ExternalReferenceSpec() {
  static ObjSpec* s = [] {
    auto* o = new ObjSpec;
    o->props = {S("source_name", true), S("description"), S("url"), H(), S("external_id")};
    o->check = CheckExternalReference;
    o->Build();
    return o;
  }();
  return s;
}

void CheckExternalReferences(Ctx& c, Element e) {
  CheckListOfObjects(c, e, "external-reference", *ExternalReferenceSpec());
}

// Granular marking selectors (section 7.2.3.1): "a.b", "a.[0].b".
bool SelectorResolves(json::Object root, std::string_view sel) {
  if (sel.empty()) return false;
  Element cur;
  bool first = true;
  while (true) {
    size_t dot = sel.find('.');
    std::string_view part = sel.substr(0, dot);
    if (part.empty()) return false;
    Element next;
    if (part.front() == '[' && part.back() == ']' && part.size() > 2) {
      if (first || cur.type() != Type::ARRAY) return false;
      size_t idx = 0;
      for (char ch : part.substr(1, part.size() - 2)) {
        if (ch < '0' || ch > '9') return false;
        idx = idx * 10 + static_cast<size_t>(ch - '0');
        if (idx > 1000000000) return false;
      }
      json::Array arr = cur.get_array().value_unsafe();
      if (idx >= arr.size() || arr.at(idx).get(next)) return false;
    } else {
      json::Object o;
      if (first) {
        o = root;
      } else if (cur.type() == Type::OBJECT) {
        o = cur.get_object().value_unsafe();
      } else {
        return false;
      }
      if (o[part].get(next)) return false;
    }
    cur = next;
    first = false;
    if (dot == std::string_view::npos) return true;
    sel.remove_prefix(dot + 1);
  }
}

void CheckGranularMarkings(Ctx& c, Element e, json::Object root) {
  if (e.type() != Type::ARRAY) {
    c.Error("must be a list of granular-marking objects, not " + TypeWord(e));
    return;
  }
  json::Array arr = e.get_array().value_unsafe();
  if (arr.size() == 0) c.Error("list must not be empty");
  int64_t i = 0;
  for (Element v : arr) {
    PathGuard g(c, i++);
    if (v.type() != Type::OBJECT) {
      c.Error("granular marking must be an object, not " + TypeWord(v));
      continue;
    }
    json::Object gm = v.get_object().value_unsafe();
    bool has_ref = false, has_lang = false, has_sel = false;
    for (auto [k, val] : gm) {
      PathGuard g2(c, k);
      if (k == "marking_ref") {
        has_ref = true;
        CheckIdentifier(c, val, "marking-definition");
      } else if (k == "lang") {
        has_lang = true;
        CheckValue(c, Prop{"lang", K::kLang}, val);
      } else if (k == "selectors") {
        has_sel = true;
        if (val.type() != Type::ARRAY) {
          c.Error("selectors must be a list of strings");
          continue;
        }
        json::Array sels = val.get_array().value_unsafe();
        if (sels.size() == 0) c.Error("selectors must not be empty");
        int64_t j = 0;
        for (Element s : sels) {
          PathGuard g3(c, j++);
          std::string_view sv;
          if (!GetString(s, &sv)) {
            c.Error("selector must be a string");
          } else if (!SelectorResolves(root, sv)) {
            c.Error("selector " + Q(sv) + " does not resolve to a property of this object");
          }
        }
      } else {
        c.Pop();
        CheckCustomPropertyName(c, k);
        c.Push(k);
      }
    }
    if (!has_sel) c.ErrorAt("selectors", "required property 'selectors' is missing");
    if (has_ref == has_lang)
      c.Error("a granular marking must have exactly one of marking_ref and lang");
  }
}

// --- registry of types ---------------------------------------------------------

struct Registry {
  std::unordered_map<std::string_view, std::unique_ptr<TypeSpec>> types;
  std::vector<std::unique_ptr<ObjSpec>> subs;  // owned nested specs
  std::unique_ptr<TypeSpec> custom_sdo;
  std::unique_ptr<TypeSpec> custom_sco;

  ObjSpec* Sub(std::vector<Prop> props, CheckFn check = nullptr) {
    subs.push_back(std::make_unique<ObjSpec>());
    ObjSpec* o = subs.back().get();
    o->props = std::move(props);
    o->check = check;
    o->Build();
    return o;
  }
};

std::vector<Prop> CommonProps(Cat cat) {
  Prop type{"type", K::kTypeField, true};
  Prop id{"id", K::kIdField, true};
  Prop spec{"spec_version", K::kSpecVersion, cat != Cat::kSco};
  Prop marking_refs = Refs("object_marking_refs", "marking-definition");
  Prop granular{"granular_markings", K::kGranularMarkings};
  Prop ext{"extensions", K::kExtensions};
  if (cat == Cat::kSco) {
    return {type, id, spec, marking_refs, granular, B("defanged"), ext};
  }
  std::vector<Prop> v = {type,
                         id,
                         spec,
                         Ref("created_by_ref", "identity", cat == Cat::kExtensionDefinition),
                         {"created", K::kCreated, true},
                         {"external_references", K::kExternalReferences},
                         marking_refs,
                         granular,
                         ext};
  if (cat != Cat::kMarking) {
    v.push_back({"modified", K::kModified, true});
    v.push_back(B("revoked"));
    v.push_back(SL("labels"));
    v.push_back(I("confidence", 0, 100));
    v.push_back({"lang", K::kLang});
  }
  return v;
}

// --- value formats of SCO properties -------------------------------------------

bool IsAsciiAlpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
bool IsAsciiDigit(char ch) { return ch >= '0' && ch <= '9'; }
bool IsAsciiAlnum(char ch) { return IsAsciiAlpha(ch) || IsAsciiDigit(ch); }

// An IANA media type "type/subtype" (section 6.1 mime_type): one of the
// registered top-level types, then a subtype of registry-name characters.
bool IsMediaType(std::string_view s) {
  static constexpr std::string_view kTopLevel[] = {
      "application", "audio", "font", "image", "message", "model", "multipart", "text", "video"};
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || !In(kTopLevel, s.substr(0, slash))) return false;
  std::string_view sub = s.substr(slash + 1);
  if (sub.empty()) return false;
  for (char ch : sub) {
    if (!IsAsciiAlnum(ch) && ch != '.' && ch != '+' && ch != '_' && ch != '-') return false;
  }
  return true;
}

// An IANA character set name (sections 6.3 path_enc, 6.7 name_enc): names and
// aliases are letters, digits, '_', '-', '(' and ')', except a few registered
// names with '.' or ':' (listed).
bool IsCharsetName(std::string_view s) {
  static constexpr std::string_view kDotted[] = {
      "ANSI_X3.4-1968",   "ANSI_X3.4-1986",  "ISO_646.irv:1991", "ISO_8859-1:1987",
      "ISO_8859-2:1987",  "ISO_8859-3:1988", "ISO_8859-4:1988",  "ISO_8859-5:1988",
      "ISO_8859-6:1987",  "ISO_8859-7:1987", "ISO_8859-8:1988",  "ISO_8859-9:1989",
      "ISO_8859-10:1992", "T.61-7bit",       "T.61-8bit"};
  if (s.empty() || s.size() > 64) return false;
  if (In(kDotted, s)) return true;
  for (char ch : s) {
    if (!IsAsciiAlnum(ch) && ch != '_' && ch != '-' && ch != '(' && ch != ')') return false;
  }
  return true;
}

// RFC 5322 addr-spec in its dot-atom form (section 6.5 email-addr value):
// "local@domain", no display name, no angle brackets, no white space.
bool IsEmailAddress(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  static constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~";
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    return false;
  for (char ch : local) {
    if (!IsAsciiAlnum(ch) && ch != '.' && kAtext.find(ch) == std::string_view::npos &&
        static_cast<unsigned char>(ch) < 0x80) {
      return false;
    }
  }
  if (domain.front() == '[') return domain.back() == ']';  // address literal
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return false;
  for (char ch : domain) {
    if (!IsAsciiAlnum(ch) && ch != '.' && ch != '-' && static_cast<unsigned char>(ch) < 0x80)
      return false;
  }
  return true;
}

// RFC 3986 URI (sections 6.1 url, 6.15 value): a scheme, ':', then only
// characters a URI may hold (percent signs followed by two hex digits).
bool IsUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAsciiAlpha(s[0])) return false;
  for (char ch : s.substr(0, colon)) {
    if (!IsAsciiAlnum(ch) && ch != '+' && ch != '-' && ch != '.') return false;
  }
  static constexpr std::string_view kAllowed = "-._~:/?#[]@!$&'()*+,;=";
  for (size_t i = colon + 1; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '%') {
      if (i + 2 >= s.size() || HexDigitValue(s[i + 1]) < 0 || HexDigitValue(s[i + 2]) < 0)
        return false;
      i += 2;
    } else if (!IsAsciiAlnum(ch) && kAllowed.find(ch) == std::string_view::npos) {
      return false;
    }
  }
  return colon + 1 < s.size();
}

// One CPE 2.3 formatted-string attribute (NISTIR 7695 section 6.2): '*', '-',
// or characters (escaped punctuation allowed) with optional wildcards at
// either end.
bool IsCpeAttribute(std::string_view a) {
  if (a == "*" || a == "-") return true;
  size_t i = 0, n = a.size();
  while (i < n && (a[i] == '?')) ++i;
  if (i == 0 && i < n && a[i] == '*') ++i;
  size_t body = 0;
  while (i < n) {
    char ch = a[i];
    if (ch == '\\') {
      if (i + 1 >= n || IsAsciiAlnum(a[i + 1]) || static_cast<unsigned char>(a[i + 1]) < 0x21 ||
          static_cast<unsigned char>(a[i + 1]) > 0x7e) {
        return false;
      }
      i += 2;
      ++body;
    } else if (IsAsciiAlnum(ch) || ch == '-' || ch == '.' || ch == '_') {
      ++i;
      ++body;
    } else {
      break;
    }
  }
  if (body == 0) return false;
  if (i < n && a[i] == '*') {
    ++i;
  } else {
    while (i < n && a[i] == '?') ++i;
  }
  return i == n;
}

// A CPE 2.3 formatted string (section 6.14 cpe): "cpe:2.3:" then part
// (a, o, h, '*' or '-') and ten attributes; the language attribute is an
// RFC 5646 tag of a 2-3 letter language and an optional region.
bool IsCpe23(std::string_view s) {
  if (s.substr(0, 8) != "cpe:2.3:") return false;
  s.remove_prefix(8);
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || (s[i] == ':' && (i == 0 || s[i - 1] != '\\'))) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 11) return false;
  std::string_view part = parts[0];
  if (!(part == "a" || part == "o" || part == "h" || part == "*" || part == "-")) return false;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (i == 7) {
      std::string_view lang = parts[i];
      if (lang == "*" || lang == "-") continue;
      size_t dash = lang.find('-');
      std::string_view primary = lang.substr(0, dash);
      if (primary.size() < 2 || primary.size() > 3) return false;
      for (char ch : primary) {
        if (!IsAsciiAlpha(ch)) return false;
      }
      if (dash == std::string_view::npos) continue;
      std::string_view region = lang.substr(dash + 1);
      bool alpha2 = region.size() == 2 && IsAsciiAlpha(region[0]) && IsAsciiAlpha(region[1]);
      bool digit3 = region.size() == 3 && IsAsciiDigit(region[0]) && IsAsciiDigit(region[1]) &&
                    IsAsciiDigit(region[2]);
      if (!alpha2 && !digit3) return false;
      continue;
    }
    if (!IsCpeAttribute(parts[i])) return false;
  }
  return true;
}

// Section 6.17 key: "The hive portion of the key MUST be fully expanded and
// not truncated" (HKEY_LOCAL_MACHINE, not HKLM); case-insensitive.
bool StartsWithFullHive(std::string_view key) {
  static constexpr std::string_view kHives[] = {
      "hkey_classes_root",     "hkey_current_config",
      "hkey_current_user",     "hkey_current_user_local_settings",
      "hkey_dyn_data",         "hkey_local_machine",
      "hkey_performance_data", "hkey_performance_nlstext",
      "hkey_performance_text", "hkey_users"};
  std::string_view hive = key.substr(0, key.find('\\'));
  if (hive.size() > 40) return false;
  std::string lower(hive);
  for (char& ch : lower) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  return In(kHives, std::string_view(lower));
}

// Checks the string member `key` of `o` with `ok`; reports `what` on failure.
void CheckFormat(Ctx& c, json::Object o, std::string_view key, bool (*ok)(std::string_view),
                 std::string_view what, bool warn = false) {
  Element e;
  std::string_view v;
  if (o[key].get(e) || !GetString(e, &v) || ok(v)) return;
  if (warn) {
    c.WarnAt(key, Q(v) + " SHOULD be " + std::string(what));
  } else {
    c.ErrorAt(key, Q(v) + " is not " + std::string(what));
  }
}

// Cross-property helpers.
bool GetTs(json::Object o, std::string_view key, Timestamp* out) {
  Element e;
  std::string_view s;
  if (o[key].get(e) || !GetString(e, &s)) return false;
  auto t = Timestamp::Parse(s);
  if (!t.ok()) return false;
  *out = *t;
  return true;
}
bool Has(json::Object o, std::string_view key) {
  Element e;
  return !o[key].get(e);
}
void Order(Ctx& c, json::Object o, std::string_view a, std::string_view b, bool strict_after) {
  Timestamp ta, tb;
  if (!GetTs(o, a, &ta) || !GetTs(o, b, &tb)) return;
  if (strict_after ? !(tb > ta) : tb < ta) {
    c.ErrorAt(b, std::string(b) +
                     (strict_after ? " must be later than " : " must be later than or equal to ") +
                     std::string(a));
  }
}

void CheckSeen(Ctx& c, json::Object o) { Order(c, o, "first_seen", "last_seen", false); }

// Section 4.7: producers SHOULD provide name and description.
void CheckIndicator(Ctx& c, json::Object o) {
  Order(c, o, "valid_from", "valid_until", true);
  if (!Has(o, "name")) c.WarnAt("name", "an indicator SHOULD have a name");
  if (!Has(o, "description")) c.WarnAt("description", "an indicator SHOULD have a description");
}

void CheckLocation(Ctx& c, json::Object o) {
  bool lat = Has(o, "latitude"), lon = Has(o, "longitude");
  if (lat != lon) c.Error("latitude and longitude must be given together");
  if (Has(o, "precision") && !lat)
    c.ErrorAt("precision", "precision requires latitude and longitude");
  if (!Has(o, "region") && !Has(o, "country") && !(lat && lon)) {
    c.Error("a location must have region, country, or latitude and longitude");
  }
  CheckFormat(
      c, o, "country",
      [](std::string_view v) {
        std::string upper(v.substr(0, 3));
        for (char& ch : upper) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
        return v.size() == 2 && In(vocab::kCountryCodes, std::string_view(upper));
      },
      "an ISO 3166-1 alpha-2 country code", /*warn=*/true);
}

void CheckMalware(Ctx& c, json::Object o) {
  CheckSeen(c, o);
  Element f;
  bool fam = false;
  if (!o["is_family"].get(f) && f.type() == Type::BOOL) fam = f.get_bool().value_unsafe();
  if (fam && !Has(o, "name"))
    c.ErrorAt("name", "a malware family (is_family true) must have a name");
}

void CheckMalwareAnalysis(Ctx& c, json::Object o) {
  CheckFormat(
      c, o, "product",
      [](std::string_view p) {
        for (char ch : p) {
          if (!IsLowerAlnum(ch) && ch != '-') return false;
        }
        return !p.empty();
      },
      "lower case with '-' between words", /*warn=*/true);
  if (!Has(o, "result") && !Has(o, "analysis_sco_refs")) {
    c.Error("malware-analysis must have result or analysis_sco_refs");
  }
  Order(c, o, "analysis_started", "analysis_ended", false);
}

void CheckObservedData(Ctx& c, json::Object o) {
  Order(c, o, "first_observed", "last_observed", false);
  bool objs = Has(o, "objects"), refs = Has(o, "object_refs");
  if (objs == refs)
    c.Error("observed-data must have exactly one of objects (deprecated) and object_refs");
  if (objs) c.WarnAt("objects", "objects is deprecated in STIX 2.1; use object_refs");
  Element e;
  if (o["objects"].get(e) || e.type() != Type::OBJECT) return;
  // Section 4.14 (objects): a dictionary of SCOs.
  PathGuard g(c, "objects");
  json::Object e_members = e.get_object().value_unsafe();
  for (auto [key, sco] : e_members) {
    Element t;
    std::string_view type;
    if (sco.type() != Type::OBJECT || sco["type"].get(t) || !GetString(t, &type)) {
      c.ErrorAt(key, "objects must hold SCOs (objects with a string type)");
    } else if (Cat cat = CategoryOf(type); cat != Cat::kSco && cat != Cat::kCustom) {
      c.ErrorAt(key, "objects must hold SCOs, not " + Q(type));
    }
  }
}

// Section 4 (each SDO's relationships) and Appendix B: relationship types
// SHOULD be among the suggested ones for their source and target types.
void CheckSuggestedRelationship(Ctx& c, std::string_view rt, std::string_view src,
                                std::string_view tgt) {
  static constexpr std::string_view kCommon[] = {"derived-from", "duplicate-of", "related-to"};
  static constexpr std::string_view kNotSdo[] = {"bundle", "language-content", "marking-definition",
                                                 "sighting", "relationship"};
  if (In(kCommon, rt) || In(kNotSdo, src) || In(kNotSdo, tgt)) return;
  bool source_known = false;
  for (const vocab::SuggestedRelationship& s : vocab::kSuggestedRelationships) {
    if (s.source != src) continue;
    source_known = true;
    if (s.type != rt) continue;
    for (std::string_view t : s.targets) {
      if (t == tgt) return;
    }
    c.WarnAt("target_ref",
             Q(tgt) + " is not a suggested target of " + Q(src) + " " + Q(rt) + " relationships");
    return;
  }
  if (!source_known) {
    c.WarnAt("source_ref", Q(src) + " is not a suggested source of " + Q(rt) + " relationships");
  } else {
    c.WarnAt("relationship_type",
             Q(rt) + " is not a suggested relationship type for " + Q(src) + " objects");
  }
}

void CheckRelationship(Ctx& c, json::Object o) {
  Order(c, o, "start_time", "stop_time", true);
  Element e;
  std::string_view rt;
  if (!o["relationship_type"].get(e) && GetString(e, &rt)) {
    bool ok = !rt.empty();
    for (char ch : rt) {
      if (!IsLowerAlnum(ch) && ch != '-') ok = false;
    }
    if (!ok) c.ErrorAt("relationship_type", "relationship_type must use only a-z, 0-9 and '-'");
    std::string_view src, tgt;
    if (!o["source_ref"].get(e) && GetString(e, &src) && !o["target_ref"].get(e) &&
        GetString(e, &tgt)) {
      CheckSuggestedRelationship(c, rt, src.substr(0, src.find("--")),
                                 tgt.substr(0, tgt.find("--")));
    }
  }
}

void CheckSighting(Ctx& c, json::Object o) { CheckSeen(c, o); }

// Section 7.2.2: a marking definition must not mark itself.
void CheckMarkingNotCircular(Ctx& c, json::Object o) {
  Element e;
  std::string_view id;
  if (o["id"].get(e) || !GetString(e, &id)) return;
  if (!o["object_marking_refs"].get(e) && e.type() == Type::ARRAY) {
    int64_t i = 0;
    json::Array e_items = e.get_array().value_unsafe();
    for (Element ref : e_items) {
      std::string_view r;
      if (GetString(ref, &r) && r == id) {
        PathGuard g(c, "object_marking_refs");
        PathGuard g2(c, i);
        c.Error("a marking definition must not reference itself (circular object_marking_refs)");
      }
      ++i;
    }
  }
  if (!o["granular_markings"].get(e) && e.type() == Type::ARRAY) {
    int64_t i = 0;
    json::Array e_items = e.get_array().value_unsafe();
    for (Element gm : e_items) {
      Element ref;
      std::string_view r;
      if (gm.type() == Type::OBJECT && !gm["marking_ref"].get(ref) && GetString(ref, &r) &&
          r == id) {
        PathGuard g(c, "granular_markings");
        PathGuard g2(c, i);
        c.ErrorAt("marking_ref",
                  "a marking definition must not reference itself (circular granular_markings)");
      }
      ++i;
    }
  }
}

void CheckMarkingDefinition(Ctx& c, json::Object o) {
  CheckMarkingNotCircular(c, o);
  Element dt, def;
  bool has_dt = !o["definition_type"].get(dt), has_def = !o["definition"].get(def);
  if (has_dt != has_def) {
    c.Error("definition_type and definition must be given together");
    return;
  }
  if (!has_dt) {
    if (!Has(o, "extensions"))
      c.Error("a marking definition needs definition_type and definition, or an extension");
    return;
  }
  std::string_view t;
  if (!GetString(dt, &t)) return;
  if (def.type() != Type::OBJECT) {
    c.ErrorAt("definition", "definition must be an object");
    return;
  }
  json::Object d = def.get_object().value_unsafe();
  PathGuard g(c, "definition");
  if (t == "statement") {
    Element st;
    if (d["statement"].get(st) || st.type() != Type::STRING)
      c.ErrorAt("statement", "a statement marking needs a string 'statement'");
  } else if (t == "tlp") {
    Element tlp;
    std::string_view level;
    if (d["tlp"].get(tlp) || !GetString(tlp, &level) ||
        !(level == "white" || level == "green" || level == "amber" || level == "red")) {
      c.ErrorAt("tlp", "a TLP marking needs 'tlp' of white, green, amber or red");
      return;
    }
    Element id;
    std::string_view ids;
    if (!o["id"].get(id) && GetString(id, &ids)) {
      for (const tlp::FixedMarking& fixed : tlp::FixedMarkings()) {
        if (fixed.tlp_version == 1 && fixed.level == level && ids != fixed.id) {
          c.Pop();
          c.ErrorAt("id", "TLP:" + std::string(level) + " must use the predefined id " +
                              std::string(fixed.id));
          c.Push("definition");
        }
      }
    }
  }
}

// Property names as the specification defines them (section 3.1).
bool IsPropertyName(std::string_view name) {
  if (name.size() < 3 || name.size() > 250) return false;
  for (char ch : name) {
    if (!IsLowerAlnum(ch) && ch != '_') return false;
  }
  return true;
}

void CheckLanguageContent(Ctx& c, json::Object o) {
  Element e;
  if (o["contents"].get(e) || e.type() != Type::OBJECT) return;
  PathGuard g(c, "contents");
  json::Object contents = e.get_object().value_unsafe();
  if (contents.size() == 0) c.Error("contents must not be empty");
  for (auto [lang, v] : contents) {
    PathGuard g2(c, lang);
    if (!IsLanguageCode(lang)) c.Error(Q(lang) + " is not an RFC 5646 language tag");
    if (v.type() != Type::OBJECT) {
      c.Error("contents of a language must be a dictionary, not " + TypeWord(v));
      continue;
    }
    json::Object v_members = v.get_object().value_unsafe();
    for (auto [name, text] : v_members) {
      if (!IsPropertyName(name)) {
        c.ErrorAt(name, Q(name) + " is not a property name (3-250 characters of a-z, 0-9 and '_')");
      }
    }
  }
}

// Section 7.3: extension_properties belong to toplevel-property-extension
// definitions (MUST) and such a definition SHOULD list them.
void CheckExtensionDefinition(Ctx& c, json::Object o) {
  if (!Has(o, "description"))
    c.WarnAt("description", "an extension definition SHOULD have a description");
  Element e;
  if (o["extension_types"].get(e) || e.type() != Type::ARRAY) return;
  bool toplevel = false;
  json::Array e_items = e.get_array().value_unsafe();
  for (Element t : e_items) {
    std::string_view s;
    if (GetString(t, &s) && s == "toplevel-property-extension") toplevel = true;
  }
  bool has_props = Has(o, "extension_properties");
  if (has_props && !toplevel) {
    c.ErrorAt("extension_properties",
              "extension_properties may only be given when extension_types has "
              "toplevel-property-extension");
  }
  if (toplevel && !has_props) {
    c.WarnAt("extension_properties",
             "a toplevel-property-extension SHOULD list its extension_properties");
  }
}

void CheckArtifact(Ctx& c, json::Object o) {
  CheckFormat(c, o, "mime_type", IsMediaType, "an IANA media type (type/subtype)");
  CheckFormat(c, o, "url", IsUri, "a URL (RFC 3986)");
  bool bin = Has(o, "payload_bin"), url = Has(o, "url");
  if (bin && url) c.Error("artifact must not have both payload_bin and url");
  if (url && !Has(o, "hashes")) c.ErrorAt("hashes", "an artifact with url must have hashes");
  if (Has(o, "decryption_key") && !Has(o, "encryption_algorithm")) {
    c.ErrorAt("decryption_key", "decryption_key requires encryption_algorithm");
  }
}

void CheckEmailMessage(Ctx& c, json::Object o) {
  Element e;
  if (o["is_multipart"].get(e) || e.type() != Type::BOOL) return;
  bool multi = e.get_bool().value_unsafe();
  if (multi && Has(o, "body"))
    c.ErrorAt("body", "body must not be present when is_multipart is true");
  if (!multi && Has(o, "body_multipart")) {
    c.ErrorAt("body_multipart", "body_multipart must not be present when is_multipart is false");
  }
}

void CheckFile(Ctx& c, json::Object o) {
  CheckFormat(c, o, "mime_type", IsMediaType, "an IANA media type (type/subtype)", /*warn=*/true);
  CheckFormat(c, o, "name_enc", IsCharsetName, "an IANA character set name");
  if (!Has(o, "hashes") && !Has(o, "name")) c.Error("a file must have hashes or name");
}

void CheckNetworkTraffic(Ctx& c, json::Object o) {
  if (!Has(o, "src_ref") && !Has(o, "dst_ref"))
    c.Error("network-traffic must have src_ref or dst_ref");
  Order(c, o, "start", "end", false);
  Element e;
  if (!o["is_active"].get(e) && e.type() == Type::BOOL && e.get_bool().value_unsafe() &&
      Has(o, "end")) {
    c.ErrorAt("end", "end must not be present when is_active is true");
  }
}

bool HasMoreThan(json::Object o, std::initializer_list<std::string_view> ignore) {
  for (auto [k, v] : o) {
    bool skip = false;
    for (auto i : ignore) skip |= (i == k);
    if (!skip) return true;
  }
  return false;
}

void CheckProcess(Ctx& c, json::Object o) {
  // Section 6.13: process has no ID contributing properties, so its id is a UUIDv4.
  Element e;
  std::string_view id, type, uuid;
  if (!o["id"].get(e) && GetString(e, &id) && SplitIdentifier(id, &type, &uuid) &&
      UuidVersion(uuid) != 4) {
    c.ErrorAt("id", "a process id must use a UUIDv4 (process has no ID contributing properties)");
  }
  if (!HasMoreThan(o, {"type", "id", "spec_version", "object_marking_refs", "granular_markings",
                       "defanged"})) {
    c.Error("a process must have at least one property besides the common ones");
  }
}
void CheckX509(Ctx& c, json::Object o) {
  if (!HasMoreThan(o, {"type", "id", "spec_version", "object_marking_refs", "granular_markings",
                       "defanged"})) {
    c.Error("an x509-certificate must have at least one property besides the common ones");
  }
  Order(c, o, "validity_not_before", "validity_not_after", false);
}

void CheckTcpExt(Ctx& c, json::Object o) {
  if (!Has(o, "src_flags_hex") && !Has(o, "dst_flags_hex"))
    c.Error("tcp-ext must have src_flags_hex or dst_flags_hex");
}

void CheckMacAddr(Ctx& c, json::Object o) {
  Element e;
  std::string_view v;
  if (o["value"].get(e) || !GetString(e, &v)) return;
  bool ok = v.size() == 17;
  for (size_t i = 0; ok && i < v.size(); ++i) {
    if (i % 3 == 2) {
      ok = v[i] == ':';
    } else {
      ok = (v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f');
    }
  }
  if (!ok)
    c.ErrorAt("value",
              "a MAC address must be lower-case, colon-delimited MAC-48 (aa:bb:cc:dd:ee:ff)");
}

// Sections 6.8, 6.9: an address or a CIDR block (one parser: core/net.h).
void CheckIpv4(Ctx& c, json::Object o) {
  Element e;
  std::string_view v;
  if (o["value"].get(e) || !GetString(e, &v)) return;
  if (!net::IsIpv4AddressOrCidr(v))
    c.ErrorAt("value", Q(v) + " is not an IPv4 address or CIDR block");
}

void CheckIpv6(Ctx& c, json::Object o) {
  Element e;
  std::string_view v;
  if (o["value"].get(e) || !GetString(e, &v)) return;
  if (!net::IsIpv6AddressOrCidr(v))
    c.ErrorAt("value", Q(v) + " is not an IPv6 address or CIDR block");
}

void CheckDirectory(Ctx& c, json::Object o) {
  CheckFormat(c, o, "path_enc", IsCharsetName, "an IANA character set name");
}

void CheckEmailAddr(Ctx& c, json::Object o) {
  CheckFormat(c, o, "value", IsEmailAddress,
              "an email address (RFC 5322 addr-spec, without display name)");
}

void CheckSoftware(Ctx& c, json::Object o) {
  CheckFormat(c, o, "cpe", IsCpe23, "a CPE 2.3 formatted string");
  Element e;
  if (o["languages"].get(e) || e.type() != Type::ARRAY) return;
  PathGuard g(c, "languages");
  int64_t i = 0;
  json::Array e_items = e.get_array().value_unsafe();
  for (Element v : e_items) {
    PathGuard g2(c, i++);
    std::string_view lang;
    if (GetString(v, &lang) && !IsLanguageCode(lang))
      c.Error(Q(lang) + " is not an RFC 5646 language code");
  }
}

void CheckUrl(Ctx& c, json::Object o) { CheckFormat(c, o, "value", IsUri, "a URL (RFC 3986)"); }

void CheckRegistryKey(Ctx& c, json::Object o) {
  CheckFormat(c, o, "key", StartsWithFullHive,
              "a registry key starting with a full hive name (HKEY_LOCAL_MACHINE, not HKLM)");
}

void CheckWindowsProcessExt(Ctx& c, json::Object o) {
  CheckFormat(
      c, o, "priority",
      [](std::string_view p) { return p.size() > 6 && p.substr(p.size() - 6) == "_CLASS"; },
      "a Windows priority class name ending in _CLASS", /*warn=*/true);
}

Registry* BuildRegistry() {
  auto* r = new Registry;
  auto add = [&](std::string_view type, Cat cat, const std::vector<Prop>& props,
                 CheckFn check = nullptr) -> TypeSpec* {
    auto t = std::make_unique<TypeSpec>();
    t->type = type;
    t->cat = cat;
    t->spec.props = CommonProps(cat);
    for (auto& p : props) t->spec.props.push_back(p);
    t->spec.check = check;
    t->spec.Build();
    TypeSpec* raw = t.get();
    r->types[type] = std::move(t);
    return raw;
  };
  using namespace vocab;
  const Cat sdo = Cat::kSdo;

  // SDOs (section 4).
  add("attack-pattern", sdo, {S("name", true), S("description"), SL("aliases"), Kc()});
  add("campaign", sdo,
      {S("name", true), S("description"), SL("aliases"), Ts("first_seen"), Ts("last_seen"),
       S("objective")},
      CheckSeen);
  add("course-of-action", sdo,
      {S("name", true), S("description"), Any("action_type"), Any("os_execution_envs"),
       Any("action_bin"), Any("action_reference")},
      [](Ctx& c, json::Object o) {
        for (std::string_view k :
             {"action_type", "os_execution_envs", "action_bin", "action_reference"}) {
          if (Has(o, k))
            c.ErrorAt(k, Q(k) + " is reserved in course-of-action and must not be used");
        }
      });
  add("grouping", sdo,
      {S("name"), S("description"), Ov("context", kGroupingContext, true),
       Refs("object_refs", "@any", true)});
  add("identity", sdo,
      {S("name", true), S("description"), SL("roles"), Ov("identity_class", kIdentityClass),
       OvL("sectors", kIndustrySector), S("contact_information")});
  add("incident", sdo, {S("name", true), S("description"), Kc()});
  add("indicator", sdo,
      {S("name"), S("description"), OvL("indicator_types", kIndicatorType), S("pattern", true),
       Ov("pattern_type", kPatternType, true), S("pattern_version"), Ts("valid_from", true),
       Ts("valid_until"), Kc()},
      CheckIndicator);
  add("infrastructure", sdo,
      {S("name", true), S("description"), OvL("infrastructure_types", kInfrastructureType),
       SL("aliases"), Kc(), Ts("first_seen"), Ts("last_seen")},
      CheckSeen);
  add("intrusion-set", sdo,
      {S("name", true), S("description"), SL("aliases"), Ts("first_seen"), Ts("last_seen"),
       SL("goals"), Ov("resource_level", kAttackResourceLevel),
       Ov("primary_motivation", kAttackMotivation),
       OvL("secondary_motivations", kAttackMotivation)},
      CheckSeen);
  add("location", sdo,
      {S("name"), S("description"), Num("latitude", -90, 90), Num("longitude", -180, 180),
       Num("precision", 0, INT64_MAX), Ov("region", kRegion), S("country"),
       S("administrative_area"), S("city"), S("street_address"), S("postal_code")},
      CheckLocation);
  add("malware", sdo,
      {S("name"), S("description"), OvL("malware_types", kMalwareType), B("is_family", true),
       SL("aliases"), Kc(), Ts("first_seen"), Ts("last_seen"),
       Refs("operating_system_refs", "software"),
       OvL("architecture_execution_envs", kProcessorArchitecture),
       OvL("implementation_languages", kImplementationLanguage),
       OvL("capabilities", kMalwareCapabilities), Refs("sample_refs", "file|artifact")},
      CheckMalware);
  add("malware-analysis", sdo,
      {S("product", true), S("version"), Ref("host_vm_ref", "software"),
       Ref("operating_system_ref", "software"), Refs("installed_software_refs", "software"),
       S("configuration_version"), SL("modules"), S("analysis_engine_version"),
       S("analysis_definition_version"), Ts("submitted"), Ts("analysis_started"),
       Ts("analysis_ended"), S("result_name"), Ov("result", kMalwareResult),
       Refs("analysis_sco_refs", "@sco"), Ref("sample_ref", "file|network-traffic|artifact")},
      CheckMalwareAnalysis);
  add("note", sdo,
      {S("abstract"), S("content", true), SL("authors"), Refs("object_refs", "@any", true)});
  add("observed-data", sdo,
      {Ts("first_observed", true), Ts("last_observed", true),
       I("number_observed", 1, 999999999, true), D("objects"), Refs("object_refs", "@sco-sro")},
      CheckObservedData);
  add("opinion", sdo,
      {S("explanation"), SL("authors"), En("opinion", kOpinion, true),
       Refs("object_refs", "@any", true)});
  add("report", sdo,
      {S("name", true), S("description"), OvL("report_types", kReportType), Ts("published", true),
       Refs("object_refs", "@any", true)});
  add("threat-actor", sdo,
      {S("name", true), S("description"), OvL("threat_actor_types", kThreatActorType),
       SL("aliases"), Ts("first_seen"), Ts("last_seen"), OvL("roles", kThreatActorRole),
       SL("goals"), Ov("sophistication", kThreatActorSophistication),
       Ov("resource_level", kAttackResourceLevel), Ov("primary_motivation", kAttackMotivation),
       OvL("secondary_motivations", kAttackMotivation),
       OvL("personal_motivations", kAttackMotivation)},
      CheckSeen);
  add("tool", sdo,
      {S("name", true), S("description"), OvL("tool_types", kToolType), SL("aliases"), Kc(),
       S("tool_version")});
  add("vulnerability", sdo, {S("name", true), S("description")});

  // SROs (section 5).
  add("relationship", Cat::kSro,
      {S("relationship_type", true), S("description"), Ref("source_ref", "@sdo-sco", true),
       Ref("target_ref", "@sdo-sco", true), Ts("start_time"), Ts("stop_time")},
      CheckRelationship);
  add("sighting", Cat::kSro,
      {S("description"), Ts("first_seen"), Ts("last_seen"), I("count", 0, 999999999),
       Ref("sighting_of_ref", "@sdo", true), Refs("observed_data_refs", "observed-data"),
       Refs("where_sighted_refs", "identity|location"), B("summary")},
      CheckSighting);

  // Meta objects (section 7).
  add("marking-definition", Cat::kMarking,
      {S("name"), Ov("definition_type", kMarkingDefinitionType), Any("definition")},
      CheckMarkingDefinition);
  add("language-content", Cat::kLanguageContent,
      {Ref("object_ref", "@any", true), Ts("object_modified"), D("contents", true)},
      CheckLanguageContent);
  add("extension-definition", Cat::kExtensionDefinition,
      {S("name", true), S("description"), S("schema", true), S("version", true),
       EnL("extension_types", kExtensionType, true), SL("extension_properties")},
      CheckExtensionDefinition);

  // SCOs (section 6).
  const Cat sco = Cat::kSco;
  add("artifact", sco,
      {S("mime_type"), Bin("payload_bin"), S("url"), H(),
       En("encryption_algorithm", kEncryptionAlgorithm), S("decryption_key")},
      CheckArtifact);
  add("autonomous-system", sco, {I("number", 0, INT64_MAX, true), S("name"), S("rir")});
  add("directory", sco,
      {S("path", true), S("path_enc"), Ts("ctime"), Ts("mtime"), Ts("atime"),
       Refs("contains_refs", "file|directory")},
      CheckDirectory);
  add("domain-name", sco,
      {S("value", true), Refs("resolves_to_refs", "ipv4-addr|ipv6-addr|domain-name")});
  add("email-addr", sco,
      {S("value", true), S("display_name"), Ref("belongs_to_ref", "user-account")}, CheckEmailAddr);
  ObjSpec* mime_part =
      r->Sub({S("body"), Ref("body_raw_ref", "artifact|file"), S("content_type"),
              S("content_disposition")},
             [](Ctx& c, json::Object o) {
               if (Has(o, "body") == Has(o, "body_raw_ref")) {
                 c.Error("a MIME part must have exactly one of body and body_raw_ref");
               }
             });
  add("email-message", sco,
      {B("is_multipart", true), Ts("date"), S("content_type"), Ref("from_ref", "email-addr"),
       Ref("sender_ref", "email-addr"), Refs("to_refs", "email-addr"),
       Refs("cc_refs", "email-addr"), Refs("bcc_refs", "email-addr"), S("message_id"), S("subject"),
       SL("received_lines"), D("additional_header_fields"), S("body"),
       ObjL("body_multipart", mime_part), Ref("raw_email_ref", "artifact")},
      CheckEmailMessage);
  TypeSpec* file =
      add("file", sco,
          {H(), I("size", 0), S("name"), S("name_enc"), Hex("magic_number_hex"), S("mime_type"),
           Ts("ctime"), Ts("mtime"), Ts("atime"), Ref("parent_directory_ref", "directory"),
           Refs("contains_refs", "@sco"), Ref("content_ref", "artifact")},
          CheckFile);
  ObjSpec* ads = r->Sub({S("name", true), H(), I("size", 0)});
  ObjSpec* opt_header = r->Sub({Hex("magic_hex"),
                                I("major_linker_version"),
                                I("minor_linker_version"),
                                I("size_of_code", 0),
                                I("size_of_initialized_data", 0),
                                I("size_of_uninitialized_data", 0),
                                I("address_of_entry_point"),
                                I("base_of_code"),
                                I("base_of_data"),
                                I("image_base"),
                                I("section_alignment"),
                                I("file_alignment"),
                                I("major_os_version"),
                                I("minor_os_version"),
                                I("major_image_version"),
                                I("minor_image_version"),
                                I("major_subsystem_version"),
                                I("minor_subsystem_version"),
                                Hex("win32_version_value_hex"),
                                I("size_of_image", 0),
                                I("size_of_headers", 0),
                                Hex("checksum_hex"),
                                Hex("subsystem_hex"),
                                Hex("dll_characteristics_hex"),
                                I("size_of_stack_reserve", 0),
                                I("size_of_stack_commit", 0),
                                I("size_of_heap_reserve", 0),
                                I("size_of_heap_commit", 0),
                                Hex("loader_flags_hex"),
                                I("number_of_rva_and_sizes"),
                                H()});
  ObjSpec* section =
      r->Sub({S("name", true), I("size", 0), Num("entropy", INT64_MIN, INT64_MAX), H()});
  auto ext = [&](TypeSpec* t, std::string_view name, std::vector<Prop> props,
                 CheckFn check = nullptr) {
    ExtSpec e;
    e.name = name;
    e.spec.props = std::move(props);
    e.spec.check = check;
    e.spec.Build();
    t->extensions.push_back(std::move(e));
  };
  ext(file, "archive-ext", {Refs("contains_refs", "file|directory", true), S("comment")});
  ext(file, "ntfs-ext", {S("sid"), ObjL("alternate_data_streams", ads)},
      [](Ctx& c, json::Object o) {
        if (!HasMoreThan(o, {})) c.Error("ntfs-ext must have at least one property");
      });
  ext(file, "pdf-ext",
      {S("version"), B("is_optimized"), D("document_info_dict"), S("pdfid0"), S("pdfid1")},
      [](Ctx& c, json::Object o) {
        if (!HasMoreThan(o, {})) c.Error("pdf-ext must have at least one property");
      });
  ext(file, "raster-image-ext",
      {I("image_height"), I("image_width"), I("bits_per_pixel"), D("exif_tags")},
      [](Ctx& c, json::Object o) {
        if (!HasMoreThan(o, {})) c.Error("raster-image-ext must have at least one property");
      });
  ext(file, "windows-pebinary-ext",
      {Ov("pe_type", kPeBinaryType, true), S("imphash"), Hex("machine_hex"),
       I("number_of_sections", 0), Ts("time_date_stamp"), Hex("pointer_to_symbol_table_hex"),
       I("number_of_symbols", 0), I("size_of_optional_header", 0), Hex("characteristics_hex"),
       H("file_header_hashes"), Obj("optional_header", opt_header), ObjL("sections", section)});
  add("ipv4-addr", sco,
      {S("value", true), Refs("resolves_to_refs", "mac-addr"),
       Refs("belongs_to_refs", "autonomous-system")},
      CheckIpv4);
  add("ipv6-addr", sco,
      {S("value", true), Refs("resolves_to_refs", "mac-addr"),
       Refs("belongs_to_refs", "autonomous-system")},
      CheckIpv6);
  add("mac-addr", sco, {S("value", true)}, CheckMacAddr);
  add("mutex", sco, {S("name", true)});
  TypeSpec* nt = add(
      "network-traffic", sco,
      {Ts("start"), Ts("end"), B("is_active"),
       Ref("src_ref", "ipv4-addr|ipv6-addr|mac-addr|domain-name"),
       Ref("dst_ref", "ipv4-addr|ipv6-addr|mac-addr|domain-name"), I("src_port", 0, 65535),
       I("dst_port", 0, 65535), SL("protocols", true), I("src_byte_count", 0),
       I("dst_byte_count", 0), I("src_packets", 0), I("dst_packets", 0), D("ipfix"),
       Ref("src_payload_ref", "artifact"), Ref("dst_payload_ref", "artifact"),
       Refs("encapsulates_refs", "network-traffic"), Ref("encapsulated_by_ref", "network-traffic")},
      CheckNetworkTraffic);
  ext(nt, "http-request-ext",
      {S("request_method", true), S("request_value", true), S("request_version"),
       D("request_header"), I("message_body_length", 0), Ref("message_body_data_ref", "artifact")});
  ext(nt, "icmp-ext", {Hex("icmp_type_hex", true), Hex("icmp_code_hex", true)});
  ext(nt, "socket-ext",
      {En("address_family", kNetworkSocketAddressFamily, true), B("is_blocking"), B("is_listening"),
       D("options"), En("socket_type", kNetworkSocketType), I("socket_descriptor", 0),
       I("socket_handle")});
  ext(nt, "tcp-ext", {Hex("src_flags_hex"), Hex("dst_flags_hex")}, CheckTcpExt);
  TypeSpec* proc =
      add("process", sco,
          {B("is_hidden"), I("pid"), Ts("created_time"), S("cwd"), S("command_line"),
           D("environment_variables"), Refs("opened_connection_refs", "network-traffic"),
           Ref("creator_user_ref", "user-account"), Ref("image_ref", "file"),
           Ref("parent_ref", "process"), Refs("child_refs", "process")},
          CheckProcess);
  ext(proc, "windows-process-ext",
      {B("aslr_enabled"), B("dep_enabled"), S("priority"), S("owner_sid"), S("window_title"),
       D("startup_info"), En("integrity_level", kWindowsIntegrityLevel)},
      CheckWindowsProcessExt);
  ext(proc, "windows-service-ext",
      {S("service_name"), SL("descriptions"), S("display_name"), S("group_name"),
       En("start_type", kWindowsServiceStartType), Refs("service_dll_refs", "file"),
       En("service_type", kWindowsServiceType), En("service_status", kWindowsServiceStatus)});
  add("software", sco,
      {S("name", true), S("cpe"), S("swid"), SL("languages"), S("vendor"), S("version")},
      CheckSoftware);
  add("url", sco, {S("value", true)}, CheckUrl);
  TypeSpec* ua =
      add("user-account", sco,
          {S("user_id"), S("credential"), S("account_login"), Ov("account_type", kAccountType),
           S("display_name"), B("is_service_account"), B("is_privileged"), B("can_escalate_privs"),
           B("is_disabled"), Ts("account_created"), Ts("account_expires"),
           Ts("credential_last_changed"), Ts("account_first_login"), Ts("account_last_login")});
  ext(ua, "unix-account-ext", {I("gid"), SL("groups"), S("home_dir"), S("shell")});
  ObjSpec* reg_value = r->Sub({S("name"), S("data"), En("data_type", kWindowsRegistryDatatype)});
  add("windows-registry-key", sco,
      {S("key"), ObjL("values", reg_value), Ts("modified_time"),
       Ref("creator_user_ref", "user-account"), I("number_of_subkeys", 0)},
      CheckRegistryKey);
  ObjSpec* x509ext = r->Sub(
      {S("basic_constraints"), S("name_constraints"), S("policy_constraints"), S("key_usage"),
       S("extended_key_usage"), S("subject_key_identifier"), S("authority_key_identifier"),
       S("subject_alternative_name"), S("issuer_alternative_name"),
       S("subject_directory_attributes"), S("crl_distribution_points"), S("inhibit_any_policy"),
       Ts("private_key_usage_period_not_before"), Ts("private_key_usage_period_not_after"),
       S("certificate_policies"), S("policy_mappings")});
  add("x509-certificate", sco,
      {B("is_self_signed"), H(), S("version"), S("serial_number"), S("signature_algorithm"),
       S("issuer"), Ts("validity_not_before"), Ts("validity_not_after"), S("subject"),
       S("subject_public_key_algorithm"), S("subject_public_key_modulus"),
       I("subject_public_key_exponent"), Obj("x509_v3_extensions", x509ext)},
      CheckX509);

  // Custom object types: the common SDO properties only.
  r->custom_sdo = std::make_unique<TypeSpec>();
  r->custom_sdo->type = "";
  r->custom_sdo->cat = Cat::kCustom;
  r->custom_sdo->spec.props = CommonProps(Cat::kSdo);
  r->custom_sdo->spec.custom_names = false;  // a custom type's own properties are its business
  r->custom_sdo->spec.Build();
  r->custom_sco = std::make_unique<TypeSpec>();
  r->custom_sco->type = "";
  r->custom_sco->cat = Cat::kCustom;
  r->custom_sco->spec.props = CommonProps(Cat::kSco);
  r->custom_sco->spec.custom_names = false;
  r->custom_sco->spec.Build();
  return r;
}

const Registry& Reg() {
  static const Registry* r = BuildRegistry();
  return *r;
}

void CheckExtensions(Ctx& c, Element e, const TypeSpec& t) {
  if (e.type() != Type::OBJECT) {
    c.Error("extensions must be a dictionary, not " + TypeWord(e));
    return;
  }
  json::Object obj = e.get_object().value_unsafe();
  if (obj.size() == 0) c.Error("extensions must not be empty");
  for (auto [k, v] : obj) {
    PathGuard g(c, k);
    if (v.type() != Type::OBJECT) {
      c.Error("an extension must be an object, not " + TypeWord(v));
      continue;
    }
    json::Object ext = v.get_object().value_unsafe();
    if (k.substr(0, 22) == "extension-definition--") {
      CheckIdString(c, k, "extension-definition");
      Element et;
      if (!ext["extension_type"].get(et)) {
        PathGuard g2(c, "extension_type");
        CheckVocabValue(c, et, vocab::kExtensionType);
      }
      continue;
    }
    const ExtSpec* found = nullptr;
    for (const ExtSpec& x : t.extensions) {
      if (x.name == k) found = &x;
    }
    if (found) {
      CheckObject(c, ext, found->spec);
      continue;
    }
    // STIX 2.0-style custom extensions ("x-acme-ext") are deprecated in 2.1
    // (section 7.3): SHOULD use an extension definition instead.
    if (k.size() > 4 && k.substr(k.size() - 4) == "-ext" && IsValidTypeName(k)) {
      c.Warn("extension key " + Q(k) +
             " is neither an extension-definition id nor a predefined extension of " +
             (t.type.empty() ? std::string("this type") : Q(t.type)) +
             " (deprecated custom extension; SHOULD use an extension definition)");
      continue;
    }
    c.Error("extension key " + Q(k) +
            " must be an extension-definition id or a predefined extension of " +
            (t.type.empty() ? std::string("this type") : Q(t.type)));
  }
}

// The TLP 1.0 and 2.0 marking definitions are fixed objects (core/tlp.h):
// their ids with any other content are forgeries. TLP 1.0 copies without
// "name" (STIX 2.0 content) are accepted.
void CheckFixedTlpMarking(Ctx& c, Element object, std::string_view id) {
  const tlp::FixedMarking* fixed = tlp::FindFixedMarking(id);
  if (!fixed) return;
  std::string canonical = json::CanonicalJson(object);
  if (canonical == fixed->canonical || canonical == fixed->canonical_without_name) return;
  c.ErrorAt("id", Q(id) + " is the id of the fixed TLP " +
                      (fixed->tlp_version == 1 ? "1.0" : "2.0") +
                      " marking definition TLP:" + std::string(fixed->level) +
                      "; an object with this id must have exactly its content");
}

// True when `o` declares its type through an extension definition
// (extension_type new-sdo, new-sco or new-sro; section 7.3).
bool HasNewObjectExtension(json::Object o) {
  Element e;
  if (o["extensions"].get(e) || e.type() != Type::OBJECT) return false;
  json::Object extensions = e.get_object().value_unsafe();
  for (auto [key, ext] : extensions) {
    Element t;
    std::string_view kind;
    if (key.substr(0, 22) == "extension-definition--" && ext.type() == Type::OBJECT &&
        !ext["extension_type"].get(t) && GetString(t, &kind) &&
        (kind == "new-sdo" || kind == "new-sco" || kind == "new-sro")) {
      return true;
    }
  }
  return false;
}

// Section 11.2: a custom object's type SHOULD be "x-", a source unique
// identifier, "-" and the name; types defined by an extension definition
// name themselves.
void CheckCustomTypeName(Ctx& c, json::Object o, std::string_view type) {
  std::string_view rest = type.substr(0, 2) == "x-" ? type.substr(2) : std::string_view();
  size_t dash = rest.find('-', 1);
  if (dash != std::string_view::npos && dash + 1 < rest.size()) return;
  if (HasNewObjectExtension(o)) return;
  c.WarnAt(
      "type",
      "custom object type " + Q(type) +
          " SHOULD be 'x-' followed by a source identifier, '-' and the name (or be defined by an "
          "extension definition)");
}

}  // namespace

bool IsScoType(std::string_view type) { return IsStixScoType(type); }

Report Validate(json::Element object, const ValidateOptions& options) {
  Report r;
  Ctx c(r, options.strict);
  if (object.type() != Type::OBJECT) {
    c.Error("a STIX object must be a JSON object, not " + TypeWord(object));
    return r;
  }
  json::Object obj = object.get_object().value_unsafe();
  Element e;
  std::string_view type, id, spec_version;
  bool has_spec = false;
  if (!obj["type"].get(e) && GetString(e, &type)) {
    r.type = std::string(type);
    r.has_type = true;
  }
  if (!obj["id"].get(e) && GetString(e, &id)) {
    r.id = std::string(id);
    r.has_id = true;
  }
  if (!obj["spec_version"].get(e)) {
    has_spec = true;
    GetString(e, &spec_version);
  }
  if (!r.has_type) {
    c.ErrorAt("type",
              Has(obj, "type") ? "type must be a string" : "required property 'type' is missing");
    return r;
  }
  if (!IsValidTypeName(type)) {
    c.ErrorAt("type", "invalid type " + Q(type) +
                          ": must be 3-250 characters of a-z, 0-9 and '-', starting with a letter");
    return r;
  }
  if (type == "bundle") {
    c.ErrorAt("type", "a bundle is not a STIX object (bundles may not nest)");
    return r;
  }
  Cat cat = CategoryOf(type);
  // A custom type without created/modified is taken for a custom SCO.
  bool custom_sco = cat == Cat::kCustom && !Has(obj, "created") && !Has(obj, "modified");
  // STIX 2.0: no spec_version on an object that needs one, an explicit "2.0",
  // or a 2.0 bundle.
  bool stix20 = spec_version == "2.0" || options.bundle_spec_version == "2.0" ||
                (!has_spec && cat != Cat::kSco && !custom_sco);
  if (stix20) {
    r.is_stix20 = true;
    c.ErrorAt("spec_version",
              "this is STIX 2.0 content (" +
                  std::string(spec_version == "2.0" || options.bundle_spec_version == "2.0"
                                  ? "spec_version 2.0"
                                  : "no spec_version") +
                  "); it must be upgraded to STIX 2.1");
    return r;
  }
  if (has_spec && spec_version != "2.1") {
    c.ErrorAt("spec_version", "spec_version must be \"2.1\"");
  }

  const Registry& reg = Reg();
  auto it = reg.types.find(type);
  const TypeSpec& t = it != reg.types.end() ? *it->second
                      : custom_sco          ? *reg.custom_sco
                                            : *reg.custom_sdo;

  // id: form, type prefix, UUID version.
  if (!r.has_id) {
    c.ErrorAt("id", Has(obj, "id") ? "id must be a string" : "required property 'id' is missing");
  } else {
    std::string_view id_type, uuid;
    if (!SplitIdentifier(id, &id_type, &uuid)) {
      c.ErrorAt("id", "invalid id " + Q(id) + ": must be 'type--UUID'");
    } else if (id_type != type) {
      c.ErrorAt("id", "id prefix " + Q(id_type) + " does not match type " + Q(type));
    } else {
      if (!IsRfc4122Variant(uuid)) {
        c.ErrorAt("id", "the UUID of the id must be an RFC 4122 UUID");
      } else if (cat == Cat::kSco) {
        std::string want;
        if (DeterministicScoIdIfAny(obj, type, &want)) {
          if (want != id) c.WarnAt("id", "SCO id SHOULD be the deterministic UUIDv5 id " + want);
        } else if (type != "process" && UuidVersion(uuid) != 4) {
          // Section 2.9: without ID contributing properties the id is a UUIDv4
          // (process ids are checked with the process rules).
          c.ErrorAt("id", "an SCO without ID contributing properties must use a UUIDv4 id");
        }
      } else if (UuidVersion(uuid) != 4) {
        c.WarnAt("id", "the UUID of an SDO/SRO id SHOULD be version 4");
      }
    }
  }

  // One pass over the members.
  uint64_t seen = 0;
  const ObjSpec& spec = t.spec;
  Timestamp created, modified;
  bool has_created = false, has_modified = false;
  for (auto [k, v] : obj) {
    const Prop* p = spec.Find(k);
    if (!p) {
      CheckCustomPropertyName(c, k, t.cat == Cat::kCustom);
      CheckCustomPropertyValue(c, k, v);
      continue;
    }
    seen |= uint64_t{1} << (p - spec.props.data());
    PathGuard g(c, k);
    switch (p->kind) {
      case K::kTypeField:
      case K::kIdField:
        break;
      case K::kSpecVersion:
        if (v.type() != Type::STRING) c.Error("spec_version must be a string");
        break;
      case K::kGranularMarkings:
        CheckGranularMarkings(c, v, obj);
        break;
      case K::kExtensions:
        CheckExtensions(c, v, t);
        break;
      case K::kCreated:
        has_created = CheckTimestamp(c, v, &created);
        break;
      case K::kModified:
        has_modified = CheckTimestamp(c, v, &modified);
        break;
      default:
        CheckValue(c, *p, v);
    }
  }
  for (size_t i = 0; i < spec.props.size(); ++i) {
    const Prop& p = spec.props[i];
    if (p.required && !(seen & (uint64_t{1} << i))) {
      c.ErrorAt(p.name, "required property " + Q(p.name) + " is missing");
    }
  }
  // Common rules on versioning timestamps.
  {
    bool hc = has_created, hm = has_modified;
    if (hc && created.fraction_digits() < 3)
      c.ErrorAt("created",
                "created must be precise to the millisecond (at least 3 fraction digits)");
    if (hm && modified.fraction_digits() < 3)
      c.ErrorAt("modified",
                "modified must be precise to the millisecond (at least 3 fraction digits)");
    if (hc && hm && modified < created)
      c.ErrorAt("modified", "modified must be later than or equal to created");
  }
  if (spec.check) spec.check(c, obj);
  if (cat == Cat::kMarking && r.has_id) CheckFixedTlpMarking(c, object, id);
  if (cat == Cat::kCustom) CheckCustomTypeName(c, obj, type);
  return r;
}

}  // namespace ctihub::stix

// ---- the required-property table, for redaction (required.h) ----

namespace ctihub::stix {

bool IsRequiredProperty(std::string_view type, std::string_view property) {
  const Registry& r = Reg();
  auto it = r.types.find(type);
  const ObjSpec& spec = it != r.types.end() ? it->second->spec : r.custom_sdo->spec;
  const Prop* p = spec.Find(property);
  return p != nullptr && p->required;
}

}  // namespace ctihub::stix
