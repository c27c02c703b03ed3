#include "matcher/event.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "core/json.h"
#include "core/net.h"
#include "core/timestamp.h"
#include "pattern/parser.h"

namespace ctihub::matcher {
namespace {

bool IsBareKey(std::string_view k) {
  if (k.empty()) return false;
  for (char c : k) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

void AppendKey(std::string* out, std::string_view k) {
  if (IsBareKey(k)) {
    out->append(k);
    return;
  }
  out->push_back('\'');
  for (char c : k) {
    if (c == '\'' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

bool IsHashAlgorithm(std::string_view a) {
  static constexpr std::string_view kHex[] = {
      "MD5",      "SHA-1",    "SHA-224",  "SHA-256", "SHA-384", "SHA-512", "SHA3-224",
      "SHA3-256", "SHA3-384", "SHA3-512", "SHA1",    "SHA256",  "SHA512"};
  return std::find(std::begin(kHex), std::end(kHex), a) != std::end(kHex);
}

}  // namespace

ValueKind PathKind(std::string_view type, const std::vector<std::string>& keys) {
  if (keys.size() == 1 && keys[0] == "value") {
    if (type == "ipv4-addr" || type == "ipv6-addr") return ValueKind::kIp;
    if (type == "domain-name") return ValueKind::kDomain;
    if (type == "url") return ValueKind::kUrl;
    if (type == "email-addr") return ValueKind::kEmail;
  }
  if (type == "network-traffic" && keys.size() == 2 && keys[1] == "value") return ValueKind::kIp;
  if (keys.size() == 2 && keys[0] == "hashes" && IsHashAlgorithm(keys[1])) return ValueKind::kHash;
  return ValueKind::kPlain;
}

namespace {

// Parses a path through the pattern parser (`[EXISTS path]`), so --map paths
// and pattern paths have one grammar.
bool ParsePath(std::string_view text, pattern::ObjectPath* out) {
  std::string pat = "[EXISTS ";
  pat.append(text);
  pat.push_back(']');
  auto parsed = pattern::ParsePattern(pat);
  if (!parsed.ok()) return false;
  const pattern::ObsExpr& root = *parsed.value().root;
  if (root.kind != pattern::ObsExpr::Kind::kLeaf) return false;
  const pattern::CompExpr& c = *root.comparison;
  if (c.kind != pattern::CompExpr::Kind::kTest || c.op != pattern::CmpOp::kExists) return false;
  *out = c.path;
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ASCII letters to lower case, other bytes (UTF-8 too) unchanged: eight bytes
// a step without a branch per byte (every domain and hash of a line passes
// here). In a word, a byte's high bit after adding 0x3F to its low seven bits
// says ">= 'A'", after adding 0x25 "> 'Z'"; an ASCII byte with the first and
// not the second is upper case and gets 0x20.
void AsciiLower(char* p, const char* end) {
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
  for (; end - p >= 8; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t low = w & kLow7;
    const uint64_t ge_a = low + 0x3F3F3F3F3F3F3F3FULL;
    const uint64_t gt_z = low + 0x2525252525252525ULL;
    const uint64_t upper = ~w & ge_a & ~gt_z & kHigh;
    w |= upper >> 2;
    std::memcpy(p, &w, 8);
  }
  for (; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    *p = static_cast<char>(c + (static_cast<unsigned>(c - 'A') < 26u ? 32 : 0));
  }
}

void AsciiLower(std::string* s, size_t from = 0) {
  AsciiLower(s->data() + from, s->data() + s->size());
}

}  // namespace

std::string CanonicalPath(const pattern::ObjectPath& path) {
  std::string out = path.type;
  out.push_back(':');
  bool first = true;
  for (const auto& s : path.steps) {
    switch (s.kind) {
      case pattern::PathStep::Kind::kKey:
        if (!first) out.push_back('.');
        AppendKey(&out, s.key);
        break;
      case pattern::PathStep::Kind::kIndex:
        out += "[" + std::to_string(s.index) + "]";
        break;
      case pattern::PathStep::Kind::kStar:
        out += "[*]";
        break;
    }
    first = false;
  }
  return out;
}

bool CanonicalPathText(std::string_view text, std::string* out) {
  pattern::ObjectPath path;
  if (!ParsePath(text, &path)) return false;
  *out = CanonicalPath(path);
  return true;
}

PathRegistry::PathRegistry() {
  static constexpr std::string_view kFixed[] = {
      "ipv4-addr:value",
      "ipv6-addr:value",
      "domain-name:value",
      "url:value",
      "email-addr:value",
      "network-traffic:src_ref.value",
      "network-traffic:dst_ref.value",
      "file:hashes.MD5",
      "file:hashes.'SHA-1'",
      "file:hashes.'SHA-256'",
      "x509-certificate:hashes.'SHA-256'",
      "x509-certificate:hashes.'SHA-1'",
      "file:name",
  };
  static_assert(std::size(kFixed) == kFixedPathCount);
  for (auto text : kFixed) {
    uint32_t id;
    bool ok = Intern(text, &id);
    (void)ok;
  }
}

bool PathRegistry::Find(std::string_view text, uint32_t* id) const {
  auto it = ids_.find(std::string(text));
  if (it == ids_.end()) return false;
  *id = it->second;
  return true;
}

bool PathRegistry::Intern(std::string_view text, uint32_t* id) {
  if (Find(text, id)) return true;
  pattern::ObjectPath path;
  if (!ParsePath(text, &path)) return false;
  PathInfo info;
  info.type = path.type;
  for (const auto& s : path.steps) {
    if (s.kind != pattern::PathStep::Kind::kKey) return false;
    info.keys.push_back(s.key);
  }
  for (size_t i = 0; i < info.keys.size(); ++i) {
    if (!EndsWith(info.keys[i], "_ref") && !EndsWith(info.keys[i], "_refs")) continue;
    bool traffic_ref = info.type == "network-traffic" && i == 0 && info.keys.size() == 2 &&
                       (info.keys[0] == "src_ref" || info.keys[0] == "dst_ref") &&
                       info.keys[1] == "value";
    if (!traffic_ref) return false;
  }
  info.text = CanonicalPath(path);
  if (info.text != text) return Intern(info.text, id);
  info.kind = PathKind(info.type, info.keys);
  info.address_alias = info.type == "network-traffic" && info.keys.size() == 2;
  *id = static_cast<uint32_t>(paths_.size());
  ids_.emplace(info.text, *id);
  paths_.push_back(std::move(info));
  return true;
}

bool NormalizeValue(ValueKind kind, std::string_view value, std::string* out, bool* is_v6) {
  out->clear();
  return AppendNormalized(kind, value, out, is_v6);
}

bool AppendNormalized(ValueKind kind, std::string_view value, std::string* out, bool* is_v6,
                      unsigned char* addr) {
  const size_t start = out->size();
  switch (kind) {
    case ValueKind::kPlain:
      out->append(value);
      return true;
    case ValueKind::kDomain:
      out->append(value);
      if (out->size() > start && out->back() == '.') out->pop_back();
      AsciiLower(out, start);
      return true;
    case ValueKind::kHash:
    case ValueKind::kEmail:
      out->append(value);
      AsciiLower(out, start);
      return true;
    case ValueKind::kUrl: {
      // Scheme and authority are case-insensitive (RFC 3986 §6.2.2.1); the
      // path and query are not.
      std::string_view v = value;
      size_t scheme_end = v.find("://");
      size_t host_from = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
      size_t host_end = v.find_first_of("/?#", host_from);
      if (host_end == std::string_view::npos) host_end = v.size();
      out->append(value);
      AsciiLower(out->data() + start, out->data() + start + host_end);
      return true;
    }
    case ValueKind::kIp: {
      unsigned char v4[4];
      if (net::ParseIpv4(value, v4)) {  // the common case: already canonical text
        out->append(value);
        if (is_v6) *is_v6 = false;
        if (addr) {
          std::memset(addr, 0, 16);
          std::memcpy(addr, v4, 4);
        }
        return true;
      }
      net::IpPrefix p;
      if (!net::ParseIpPrefix(value, &p)) return false;
      if (p.bits != (p.v6 ? 128 : 32)) return false;
      static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      if (p.v6 && std::memcmp(p.addr, kMapped, 12) == 0) {
        std::memmove(p.addr, p.addr + 12, 4);
        std::memset(p.addr + 4, 0, 12);
        p.v6 = false;
      }
      char buf[64];  // inet_ntop's text, without its printf per group
      out->append(buf, net::FormatIp(p.addr, p.v6, buf));
      if (is_v6) *is_v6 = p.v6;
      if (addr) std::memcpy(addr, p.addr, 16);
      return true;
    }
  }
  return false;
}

void EventBuilder::Reset(Event* event) {
  event_ = event;
  arena_.clear();
  offsets_.clear();
  event->fields.clear();
  event->time.Clear();
}

bool EventBuilder::Add(uint32_t path, uint16_t object, std::string_view raw) {
  if (raw.empty()) return false;
  const PathInfo& info = paths_->info(path);
  // Normalised straight into the arena (no scratch copy), the field straight
  // into the event (its address too: a copy of the 16 bytes just written in
  // pieces would stall on store forwarding); the field is taken back when the
  // value is dropped. Its view is set by Finish, once the arena stops moving.
  std::vector<Field>& fields = event_->fields;
  Field& f = fields.emplace_back();
  const size_t offset = arena_.size();
  bool v6 = false;
  if (!AppendNormalized(info.kind, raw, &arena_, &v6, f.addr) || arena_.size() == offset) {
    arena_.resize(offset);
    fields.pop_back();
    return false;
  }
  if (path == kIpv4Value || path == kIpv6Value) path = v6 ? kIpv6Value : kIpv4Value;
  // One object holds one value per path: a repeated (path, object) gets an
  // object of its own, so the STIX form has every value the index sees.
  const size_t before = fields.size() - 1;
  for (size_t i = 0; i < before; ++i) {
    if (fields[i].path == path && fields[i].object == object) {
      uint16_t top = 0;
      for (size_t j = 0; j < before; ++j) top = std::max(top, fields[j].object);
      object = static_cast<uint16_t>(top + 1);
      break;
    }
  }
  f.path = path;
  f.object = object;
  f.value = std::string_view(arena_.data(), arena_.size() - offset);  // Finish sets the start
  if (info.kind == ValueKind::kIp) f.ip = v6 ? 6 : 4;
  offsets_.push_back(static_cast<uint32_t>(offset));
  return true;
}

void EventBuilder::Finish(Event* event) {
  for (size_t i = 0; i < event->fields.size(); ++i) {
    Field& f = event->fields[i];
    f.value = std::string_view(arena_).substr(offsets_[i], f.value.size());
  }
}

namespace {

// A property tree of one STIX object: keys to values or nested dictionaries.
struct Node {
  std::map<std::string, Node> children;
  std::string_view value;
  bool has_value = false;
};

// Inserts keys[from..] = value; false on a conflict (a key both a value and a
// dictionary, or set twice).
bool Insert(Node* node, const std::vector<std::string>& keys, size_t from, std::string_view value) {
  if (from == keys.size()) {
    if (node->has_value || !node->children.empty()) return false;
    node->value = value;
    node->has_value = true;
    return true;
  }
  if (node->has_value) return false;
  return Insert(&node->children[keys[from]], keys, from + 1, value);
}

void Render(const Node& node, std::string* out) {
  if (node.has_value) {
    json::AppendQuoted(*out, node.value);
    return;
  }
  out->push_back('{');
  bool first = true;
  for (const auto& [k, child] : node.children) {
    if (!first) out->push_back(',');
    first = false;
    json::AppendQuoted(*out, k);
    out->push_back(':');
    Render(child, out);
  }
  out->push_back('}');
}

std::string ObjectId(std::string_view type, uint64_t seq, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "--%08llx-0000-4000-8000-%012zx",
                static_cast<unsigned long long>(seq & 0xffffffffu), n);
  return std::string(type) + buf;
}

struct StixObject {
  std::string type;
  Node props;
  std::map<std::string, size_t> refs;  // src_ref/dst_ref -> index of the address object
};

}  // namespace

size_t AppendEventObjects(const Event& event, const PathRegistry& paths, uint64_t seq,
                          std::string* out) {
  std::vector<StixObject> objects;
  std::map<std::pair<std::string, uint32_t>, size_t> by_key;  // (type, object no.) -> index
  uint32_t spill = 1u << 16;
  auto object_for = [&](const std::string& type, uint32_t number) -> StixObject& {
    auto [it, added] = by_key.emplace(std::make_pair(type, number), objects.size());
    if (added) objects.push_back(StixObject{type, {}, {}});
    return objects[it->second];
  };
  for (const Field& f : event.fields) {
    const PathInfo& info = paths.info(f.path);
    if (info.type == "network-traffic" && info.keys.size() == 2 && EndsWith(info.keys[0], "_ref")) {
      // The address becomes its own object, referenced by id.
      bool v6 = f.value.find(':') != std::string_view::npos;
      StixObject addr{v6 ? "ipv6-addr" : "ipv4-addr", {}, {}};
      Insert(&addr.props, {"value"}, 0, f.value);
      objects.push_back(std::move(addr));
      size_t addr_index = objects.size() - 1;
      StixObject* traffic = &object_for(info.type, f.object);
      if (traffic->refs.count(info.keys[0])) traffic = &object_for(info.type, spill++);
      traffic->refs[info.keys[0]] = addr_index;
      continue;
    }
    StixObject* obj = &object_for(info.type, f.object);
    if (!Insert(&obj->props, info.keys, 0, f.value)) {
      obj = &object_for(info.type, spill++);
      Insert(&obj->props, info.keys, 0, f.value);
    }
  }
  std::string time = event.time.has() ? Timestamp::FromMicros(event.time.micros()).Format(6)
                                      : std::string("1970-01-01T00:00:00Z");
  out->append(R"({"type":"observed-data","spec_version":"2.1","id":)");
  json::AppendQuoted(*out, ObjectId("observed-data", seq, 0xffffffffffffULL));
  out->append(R"(,"first_observed":")").append(time);
  out->append(R"(","last_observed":")").append(time);
  out->append(R"(","number_observed":1,"object_refs":[)");
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i) out->push_back(',');
    json::AppendQuoted(*out, ObjectId(objects[i].type, seq, i));
  }
  out->append("]}");
  for (size_t i = 0; i < objects.size(); ++i) {
    const StixObject& o = objects[i];
    out->append(R"(,{"type":)");
    json::AppendQuoted(*out, o.type);
    out->append(R"(,"id":)");
    json::AppendQuoted(*out, ObjectId(o.type, seq, i));
    for (const auto& [k, child] : o.props.children) {
      out->push_back(',');
      json::AppendQuoted(*out, k);
      out->push_back(':');
      Render(child, out);
    }
    for (const auto& [k, target] : o.refs) {
      out->push_back(',');
      json::AppendQuoted(*out, k);
      out->push_back(':');
      json::AppendQuoted(*out, ObjectId(objects[target].type, seq, target));
    }
    out->push_back('}');
  }
  return objects.size() + 1;
}

void EventToStix(const Event& event, const PathRegistry& paths, uint64_t seq, std::string* out) {
  out->push_back('[');
  AppendEventObjects(event, paths, seq, out);
  out->push_back(']');
}

std::string EventTimeText(const Event& event) {
  if (!event.time.has()) return "";
  return Timestamp::FromMicros(event.time.micros()).Format(6);
}

}  // namespace ctihub::matcher
