#include "policy/policy.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_set>

#include "core/hash.h"
#include "stix/required.h"

namespace ctihub::policy {

// ---------------------------------------------------------------- selectors

Result<Path> ParseSelector(std::string_view s) {
  Path p;
  if (s.empty()) return InvalidArgument("empty selector");
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t dot = s.find('.', pos);
    std::string_view seg =
        s.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (seg.empty()) return InvalidArgument("empty selector segment in '" + std::string(s) + "'");
    PathSegment ps;
    if (seg.front() == '[') {
      if (seg.size() < 3 || seg.back() != ']' || seg.size() > 12)
        return InvalidArgument("bad list index in '" + std::string(s) + "'");
      int64_t v = 0;
      for (char c : seg.substr(1, seg.size() - 2)) {
        if (c < '0' || c > '9')
          return InvalidArgument("bad list index in '" + std::string(s) + "'");
        v = v * 10 + (c - '0');
      }
      ps.index = v;
    } else {
      ps.key = std::string(seg);
    }
    p.push_back(std::move(ps));
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
    if (pos == s.size()) return InvalidArgument("selector ends with '.'");
  }
  return p;
}

std::string SelectorToString(const Path& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (i) out += '.';
    if (p[i].index >= 0) {
      out += '[' + std::to_string(p[i].index) + ']';
    } else {
      out += p[i].key;
    }
  }
  return out;
}

namespace {

bool IsPrefix(const Path& prefix, const Path& p) {
  if (prefix.size() > p.size()) return false;
  return std::equal(prefix.begin(), prefix.end(), p.begin());
}

// Whether `path` names something inside `e`.
bool Resolves(json::Element e, const Path& path) {
  for (const PathSegment& seg : path) {
    if (seg.index >= 0) {
      json::Array arr;
      if (e.get_array().get(arr) != simdjson::SUCCESS) return false;
      json::Element child;
      if (arr.at(static_cast<size_t>(seg.index)).get(child) != simdjson::SUCCESS) return false;
      e = child;
    } else {
      json::Object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) return false;
      json::Element child;
      if (obj.at_key(seg.key).get(child) != simdjson::SUCCESS) return false;
      e = child;
    }
  }
  return true;
}

std::string_view StringOr(json::Element e, std::string_view dflt = {}) {
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) return dflt;
  return s;
}

}  // namespace

// ---------------------------------------------------------------- facts

namespace {

// The granular_markings list `value` into f.granular (and has_granular_levels).
Status AppendGranular(json::Element value, ObjectFacts& f) {
  json::Array gms;
  if (value.get_array().get(gms) != simdjson::SUCCESS)
    return InvalidArgument("granular_markings is not a list");
  for (json::Element g : gms) {
    json::Object go;
    if (g.get_object().get(go) != simdjson::SUCCESS)
      return InvalidArgument("granular marking is not an object");
    GranularFact gf;
    json::Element ref;
    if (go.at_key("marking_ref").get(ref) == simdjson::SUCCESS)
      gf.marking = LookupMarking(StringOr(ref));
    json::Element sel;
    json::Array sels;
    if (go.at_key("selectors").get(sel) != simdjson::SUCCESS ||
        sel.get_array().get(sels) != simdjson::SUCCESS) {
      gf.malformed = true;
    } else {
      for (json::Element s : sels) {
        auto p = ParseSelector(StringOr(s));
        if (!p.ok()) {
          gf.malformed = true;
        } else {
          gf.selectors.push_back(std::move(*p));
        }
      }
    }
    if (gf.marking.kind == MarkingKind::kTlp &&
        (!f.granular_max_tlp || gf.marking.tlp > *f.granular_max_tlp))
      f.granular_max_tlp = gf.marking.tlp;
    if (gf.marking.kind == MarkingKind::kPap &&
        (!f.granular_max_pap || gf.marking.pap > *f.granular_max_pap))
      f.granular_max_pap = gf.marking.pap;
    if (gf.marking.kind != MarkingKind::kOther) f.has_granular_levels = true;
    f.granular.push_back(std::move(gf));
  }
  f.granular_max_known = true;
  return Status::Ok();
}

}  // namespace

Result<ObjectFacts> ExtractFacts(json::Element object) {
  json::Object obj;
  if (object.get_object().get(obj) != simdjson::SUCCESS)
    return InvalidArgument("not a JSON object");
  ObjectFacts f;
  for (auto field : obj) {
    std::string_view k = field.key;
    if (k == "id") {
      f.id = std::string(StringOr(field.value));
    } else if (k == "type") {
      f.type = std::string(StringOr(field.value));
    } else if (k == "created_by_ref") {
      f.producer = std::string(StringOr(field.value));
    } else if (k == "object_marking_refs") {
      json::Array refs;
      if (field.value.get_array().get(refs) != simdjson::SUCCESS)
        return InvalidArgument("object_marking_refs is not a list");
      for (json::Element r : refs) {
        MarkingInfo m = LookupMarking(StringOr(r));
        if (m.kind == MarkingKind::kTlp) f.tlp = f.tlp ? std::max(*f.tlp, m.tlp) : m.tlp;
        if (m.kind == MarkingKind::kPap) f.pap = f.pap ? std::max(*f.pap, m.pap) : m.pap;
      }
    } else if (k == "granular_markings") {
      CTIHUB_RETURN_IF_ERROR(AppendGranular(field.value, f));
    } else if (k == "extensions") {
      json::Element ext;
      if (field.value.at_key(kRecipientsExtensionId).get(ext) == simdjson::SUCCESS) {
        json::Element list;
        json::Array arr;
        if (ext.at_key(kRecipientsProperty).get(list) == simdjson::SUCCESS &&
            list.get_array().get(arr) == simdjson::SUCCESS) {
          for (json::Element r : arr) f.recipient_orgs.emplace_back(StringOr(r));
        }
      }
    }
  }
  if (f.id.empty() || f.type.empty()) return InvalidArgument("object without id or type");
  return f;
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kServe:
      return "serve";
    case Verdict::kServeRedacted:
      return "serve-redacted";
    case Verdict::kWithhold:
      return "withhold";
  }
  return "?";
}

// ---------------------------------------------------------------- compiled model

struct Policy::Rules {
  std::vector<std::string> types;  // empty = any
  Pap pap_ceiling = Pap::kRed;
  struct Strip {
    std::string type;  // empty = any type
    Path path;
    // `"name"` of the top-level property the path starts with, as canonical
    // JSON must spell it (RFC 8785 escapes only '"', '\\' and control
    // characters); "" when the name has such a character or the path starts
    // with a list index: the text cannot rule the property out.
    std::string needle;
    size_t rare_at = 0;  // the needle's least common character in STIX JSON text
  };
  std::vector<Strip> strip;
  std::vector<std::string> withhold_sco;
};

enum class RouteKind : uint8_t { kDirect, kCommunity, kReshare };

struct Policy::Route {
  RouteKind kind;
  Tlp max;
  const Rules* rules;  // nullptr: no restriction
  std::optional<Timestamp> from, until;
  std::string via;
  bool ActiveAt(Timestamp now) const {
    if (from && now < *from) return false;
    if (until && !(now < *until)) return false;
    return true;
  }
};

// Producer ids are "identity--<UUID>": core's IdTailHash reads their random
// tail instead of hashing every byte (one lookup per decided row).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return static_cast<size_t>(IdTailHash(s)); }
};

struct Policy::ReaderIndex {
  std::string identity;
  // By producer identity id; heterogeneous lookup keeps the hot path allocation-free.
  std::unordered_map<std::string, std::vector<Route>, StringHash, std::equal_to<>> by_producer;
};

namespace {

// Characters of STIX JSON text from most to least common (hex ids, timestamps,
// punctuation, frequent letters); one missing here is rarer than all of them.
size_t RarestCharacter(std::string_view needle) {
  static constexpr std::string_view kCommon = "\"-0123456789abcdef:,TZ.eitnrsoaplmu_{}[]";
  size_t best = 0, best_rank = 0;
  for (size_t i = 0; i < needle.size(); ++i) {
    const size_t at = kCommon.find(needle[i]);
    const size_t rank = at == std::string_view::npos ? kCommon.size() : at;
    if (rank > best_rank) best = i, best_rank = rank;
  }
  return best;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::optional<Timestamp> Later(std::optional<Timestamp> a, std::optional<Timestamp> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}
std::optional<Timestamp> Earlier(std::optional<Timestamp> a, std::optional<Timestamp> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}
std::optional<Timestamp> EndOf(const Agreement& a) { return Earlier(a.expires, a.revoked_at); }

}  // namespace

namespace {
std::atomic<uint64_t> policy_generations{0};
}  // namespace

Policy::Policy(PolicyModel model)
    : generation_(policy_generations.fetch_add(1) + 1),
      model_(std::move(model)),
      digest_(ModelDigest(model_)) {
  const auto& orgs = model_.organisations;
  const auto& ags = model_.agreements;
  // Per agreement: its rules, and the organisations on each side.
  std::vector<const Rules*> rules_of(ags.size());
  std::vector<std::vector<size_t>> produced_by(orgs.size()), received_by(orgs.size());
  for (size_t i = 0; i < ags.size(); ++i) {
    auto r = std::make_unique<Rules>();
    r->types = ags[i].object_types;
    r->pap_ceiling = ags[i].pap_ceiling;
    for (const auto& s : ags[i].strip_properties) {
      Rules::Strip st;
      std::string_view sel = s;
      size_t colon = sel.find(':');
      if (colon != std::string_view::npos) {
        st.type = std::string(sel.substr(0, colon));
        sel = sel.substr(colon + 1);
      }
      auto p = ParseSelector(sel);
      if (!p.ok()) continue;  // the loader refuses these; never reached for loaded models
      st.path = std::move(*p);
      if (!st.path.empty() && st.path[0].index < 0) {
        const std::string& key = st.path[0].key;
        const bool plain = std::none_of(key.begin(), key.end(), [](char ch) {
          return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20;
        });
        if (plain) {
          st.needle = '"' + key + '"';
          st.rare_at = RarestCharacter(st.needle);
        }
      }
      r->strip.push_back(std::move(st));
    }
    r->withhold_sco = ags[i].withhold_sco_types;
    rules_of[i] = r.get();
    rules_.push_back(std::move(r));
    for (size_t o = 0; o < orgs.size(); ++o) {
      if (PartyIncludes(ags[i].producer, orgs[o])) produced_by[o].push_back(i);
      if (PartyIncludes(ags[i].recipient, orgs[o])) received_by[o].push_back(i);
    }
  }
  for (size_t ri = 0; ri < orgs.size(); ++ri) {
    const Organisation& reader = orgs[ri];
    auto idx = std::make_unique<ReaderIndex>();
    idx->identity = reader.identity_id;
    std::set<size_t> recv(received_by[ri].begin(), received_by[ri].end());
    for (size_t pi = 0; pi < orgs.size(); ++pi) {
      if (pi == ri) continue;
      const Organisation& producer = orgs[pi];
      std::vector<Route> routes;
      for (const auto& c : reader.communities) {
        if (Contains(producer.communities, c)) {
          routes.push_back({RouteKind::kCommunity, Tlp::kGreen, nullptr, {}, {}, "community:" + c});
          break;
        }
      }
      for (size_t a : produced_by[pi]) {
        if (!recv.count(a)) continue;
        const Agreement& agreement = ags[a];
        Tlp cap = agreement.recipient.kind == Party::Kind::kOrganisation ? Tlp::kAmberStrict
                                                                         : Tlp::kAmber;
        routes.push_back({RouteKind::kDirect, std::min(agreement.max_tlp, cap), rules_of[a],
                          agreement.valid_from, EndOf(agreement), "agreement:" + agreement.id});
      }
      // Re-share: P -> X (reshare allowed) -> R, one hop, at most AMBER.
      for (size_t a1 : produced_by[pi]) {
        const Agreement& first = ags[a1];
        if (!first.reshare) continue;
        for (size_t xi = 0; xi < orgs.size(); ++xi) {
          if (xi == ri || xi == pi || !PartyIncludes(first.recipient, orgs[xi])) continue;
          for (size_t a2 : produced_by[xi]) {
            if (a2 == a1 || !recv.count(a2)) continue;
            const Agreement& second = ags[a2];
            auto merged = std::make_unique<Rules>();
            const Rules& r1 = *rules_of[a1];
            const Rules& r2 = *rules_of[a2];
            if (r1.types.empty()) {
              merged->types = r2.types;
            } else if (r2.types.empty()) {
              merged->types = r1.types;
            } else {
              for (const auto& t : r1.types)
                if (Contains(r2.types, t)) merged->types.push_back(t);
              if (merged->types.empty()) continue;  // nothing can flow along this chain
            }
            merged->pap_ceiling = std::min(r1.pap_ceiling, r2.pap_ceiling);
            merged->strip = r1.strip;
            merged->strip.insert(merged->strip.end(), r2.strip.begin(), r2.strip.end());
            merged->withhold_sco = r1.withhold_sco;
            for (const auto& t : r2.withhold_sco)
              if (!Contains(merged->withhold_sco, t)) merged->withhold_sco.push_back(t);
            routes.push_back(
                {RouteKind::kReshare, std::min({first.max_tlp, second.max_tlp, Tlp::kAmber}),
                 merged.get(), Later(first.valid_from, second.valid_from),
                 Earlier(EndOf(first), EndOf(second)), "reshare:" + first.id + ">" + second.id});
            rules_.push_back(std::move(merged));
          }
        }
      }
      // Widest grants first: the first one that serves unredacted wins.
      std::stable_sort(routes.begin(), routes.end(), [](const Route& a, const Route& b) {
        if (a.max != b.max) return a.max > b.max;
        return a.kind < b.kind;
      });
      // A producer without an identity owns no object: nothing to route.
      if (!routes.empty() && !producer.identity_id.empty())
        idx->by_producer.emplace(producer.identity_id, std::move(routes));
    }
    readers_.emplace(reader.name, std::move(idx));
  }
  // Lookups on the write path (IdentityOf, KnowsIdentity, MayRelay) are per
  // object: indexed here rather than scanning 1,000 organisations or every
  // agreement each time. The views point into model_, which never changes.
  for (const Organisation& o : orgs) {
    org_by_name_.emplace(o.name, &o);
    if (!o.identity_id.empty()) org_by_identity_.emplace(o.identity_id, &o);
  }
  for (const Agreement& a : ags)
    if (a.relay) relay_agreements_.push_back(&a);
}

const Organisation* Policy::OrgByName(std::string_view name) const {
  auto it = org_by_name_.find(name);
  return it == org_by_name_.end() ? nullptr : it->second;
}

const Organisation* Policy::OrgByIdentity(std::string_view identity) const {
  auto it = org_by_identity_.find(identity);
  return it == org_by_identity_.end() ? nullptr : it->second;
}

Policy::~Policy() = default;

const std::vector<Policy::Route>* Policy::RoutesFor(const ReaderIndex& r,
                                                    std::string_view producer) const {
  auto it = r.by_producer.find(producer);
  return it == r.by_producer.end() ? nullptr : &it->second;
}

CollectionMarking Policy::CollectionFor(std::string_view name) const {
  CollectionMarking cm;
  if (const CollectionSettings* c = model_.FindCollection(name)) {
    cm.default_tlp = c->default_tlp;
    cm.default_pap = c->default_pap;
    cm.public_read = c->public_read;
  }
  return cm;
}

// ---------------------------------------------------------------- decision

struct Policy::LazyObject {
  std::optional<json::Element> element;
  std::string_view text;
  json::JsonParser* parser = nullptr;
  bool parse_failed = false;

  // The parsed object, or nullptr when the text does not parse.
  const json::Element* Get() {
    if (!element && !parse_failed && parser != nullptr) {
      auto e = parser->Parse(text);
      if (e.ok()) {
        element = *e;
      } else {
        parse_failed = true;
      }
    }
    return element ? &*element : nullptr;
  }
  // False only when the canonical text cannot hold a property named as
  // `needle` says (Rules::Strip::needle; "" = cannot tell), by memchr for
  // its rarest character (`rare_at`) and a compare at each hit (few hits:
  // the rare character is chosen to be rare in STIX text). The needle may
  // also match inside a string value, which only costs a parse.
  bool MayContainKey(std::string_view needle, size_t rare_at) const {
    if (element || text.empty() || needle.empty()) return true;
    if (text.size() < needle.size()) return false;
    const char* const begin = text.data();
    const char* const end = begin + text.size();
    const char* p = begin + rare_at;
    while (p < end) {
      p = static_cast<const char*>(std::memchr(p, needle[rare_at], static_cast<size_t>(end - p)));
      if (p == nullptr) return false;
      const char* start = p - rare_at;
      if (static_cast<size_t>(end - start) >= needle.size() &&
          std::memcmp(start, needle.data(), needle.size()) == 0)
        return true;
      ++p;
    }
    return false;
  }
};

namespace {

// Trivially constructible (the via text as pointer and length, not a
// string_view): DecideImpl keeps 64 of them on the stack per decision, and
// default-constructing string_views there was a third of its time.
struct Candidate {
  Tlp max;
  const Policy::Rules* rules;
  const char* via_data;
  size_t via_size;
  std::string_view via() const { return {via_data, via_size}; }
};
static_assert(std::is_trivially_default_constructible_v<Candidate>);

Candidate MakeCandidate(Tlp max, const Policy::Rules* rules, std::string_view via) {
  return {max, rules, via.data(), via.size()};
}

struct Outcome {
  bool allowed = false;
  std::string_view reason;
  std::vector<Path> removals;
};

bool UnderRemoved(const Path& p, const std::vector<Path>& removals) {
  for (const Path& r : removals)
    if (IsPrefix(r, p)) return true;
  return false;
}

bool HasRemovedBelow(const Path& p, const std::vector<Path>& removals) {
  for (const Path& r : removals)
    if (r.size() > p.size() && IsPrefix(p, r)) return true;
  return false;
}

// The selector's path in the redacted copy (list items before it may be gone).
Path Remap(const Path& s, const std::vector<Path>& removals) {
  Path out = s;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k].index < 0) continue;
    int64_t shift = 0;
    for (const Path& r : removals) {
      if (r.size() != k + 1 || r[k].index < 0 || r[k].index >= s[k].index) continue;
      if (std::equal(s.begin(), s.begin() + static_cast<ptrdiff_t>(k), r.begin())) ++shift;
    }
    out[k].index -= shift;
  }
  return out;
}

void EmitRedacted(std::string& out, json::Element e, Path& path, const std::vector<Path>& removals);

void EmitChild(std::string& out, json::Element e, Path& path, const std::vector<Path>& removals) {
  if (HasRemovedBelow(path, removals)) {
    EmitRedacted(out, e, path, removals);
  } else {
    json::AppendCanonical(out, e);
  }
}

// granular_markings of the redacted copy: selectors of removed parts dropped,
// list positions renumbered, markings left without selectors dropped.
std::string RewriteGranular(json::Element gms, const std::vector<Path>& removals) {
  std::string out = "[";
  bool any = false;
  json::Array arr;
  if (gms.get_array().get(arr) != simdjson::SUCCESS) return {};
  for (json::Element g : arr) {
    json::Object go;
    if (g.get_object().get(go) != simdjson::SUCCESS) continue;
    std::vector<std::string> kept;
    json::Element sel;
    json::Array sels;
    if (go.at_key("selectors").get(sel) == simdjson::SUCCESS &&
        sel.get_array().get(sels) == simdjson::SUCCESS) {
      for (json::Element s : sels) {
        auto p = ParseSelector(StringOr(s));
        if (!p.ok() || UnderRemoved(*p, removals)) continue;
        kept.push_back(SelectorToString(Remap(*p, removals)));
      }
    }
    if (kept.empty()) continue;
    std::vector<std::pair<std::string_view, json::Element>> members;
    for (auto m : go) members.emplace_back(m.key, m.value);
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return json::Utf16Less(a.first, b.first); });
    if (any) out += ',';
    any = true;
    out += '{';
    bool first = true;
    for (const auto& [k, v] : members) {
      if (!first) out += ',';
      first = false;
      json::AppendQuoted(out, k);
      out += ':';
      if (k == "selectors") {
        out += '[';
        for (size_t i = 0; i < kept.size(); ++i) {
          if (i) out += ',';
          json::AppendQuoted(out, kept[i]);
        }
        out += ']';
      } else {
        json::AppendCanonical(out, v);
      }
    }
    out += '}';
  }
  if (!any) return {};
  return out + "]";
}

void EmitRedacted(std::string& out, json::Element e, Path& path,
                  const std::vector<Path>& removals) {
  json::Object obj;
  json::Array arr;
  if (e.get_object().get(obj) == simdjson::SUCCESS) {
    std::vector<std::pair<std::string_view, json::Element>> members;
    for (auto m : obj) members.emplace_back(m.key, m.value);
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return json::Utf16Less(a.first, b.first); });
    out += '{';
    bool first = true;
    for (const auto& [k, v] : members) {
      path.push_back({std::string(k), -1});
      bool removed = UnderRemoved(path, removals);
      std::string granular;
      if (!removed && path.size() == 1 && k == "granular_markings") {
        granular = RewriteGranular(v, removals);
        removed = granular.empty();
      }
      if (!removed) {
        if (!first) out += ',';
        first = false;
        json::AppendQuoted(out, k);
        out += ':';
        if (!granular.empty()) {
          out += granular;
        } else {
          EmitChild(out, v, path, removals);
        }
      }
      path.pop_back();
    }
    out += '}';
  } else if (e.get_array().get(arr) == simdjson::SUCCESS) {
    out += '[';
    bool first = true;
    int64_t i = 0;
    for (json::Element v : arr) {
      path.push_back({std::string(), i++});
      if (!UnderRemoved(path, removals)) {
        if (!first) out += ',';
        first = false;
        EmitChild(out, v, path, removals);
      }
      path.pop_back();
    }
    out += ']';
  } else {
    json::AppendCanonical(out, e);
  }
}

// The top-level members of a canonical JSON object text (RFC 8785: no white
// space): each key as written (between its quotes) and its value's text.
// False when the text is not such an object or a key has an escape (the
// caller then re-emits from the parsed object instead).
struct MemberSpan {
  std::string_view key;
  std::string_view value;
};

// Index just past the string starting at `i` (its opening quote), or npos.
// memchr to each quote, then its escape parity: most of an object's bytes
// are inside strings (patterns, descriptions).
size_t SkipString(std::string_view t, size_t i) {
  size_t from = i + 1;
  while (from < t.size()) {
    const void* q = std::memchr(t.data() + from, '"', t.size() - from);
    if (q == nullptr) return std::string_view::npos;
    const size_t k = static_cast<size_t>(static_cast<const char*>(q) - t.data());
    size_t backslashes = 0;
    while (k - backslashes > i + 1 && t[k - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return k + 1;
    from = k + 1;
  }
  return std::string_view::npos;
}

// End of the JSON value starting at `i` (the index just past it), or npos.
size_t SkipValue(std::string_view t, size_t i) {
  if (i >= t.size()) return std::string_view::npos;
  if (t[i] == '"') return SkipString(t, i);
  if (t[i] != '{' && t[i] != '[') {  // a number or literal: up to its container's next token
    while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
    return i;
  }
  int depth = 0;
  while (i < t.size()) {
    switch (t[i]) {
      case '"':
        i = SkipString(t, i);
        if (i == std::string_view::npos) return i;
        continue;
      case '{':
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        if (--depth == 0) return i + 1;
        break;
      default:
        break;
    }
    ++i;
  }
  return std::string_view::npos;
}

bool TopLevelMembers(std::string_view t, std::vector<MemberSpan>& out) {
  if (t.size() < 2 || t.front() != '{' || t.back() != '}') return false;
  size_t i = 1;
  if (t[i] == '}') return i + 1 == t.size();
  for (;;) {
    if (i >= t.size() || t[i] != '"') return false;
    const size_t key_end = t.find('"', i + 1);
    if (key_end == std::string_view::npos) return false;
    const std::string_view key = t.substr(i + 1, key_end - i - 1);
    if (key.find('\\') != std::string_view::npos) return false;
    i = key_end + 1;
    if (i >= t.size() || t[i] != ':') return false;
    const size_t end = SkipValue(t, i + 1);
    if (end == std::string_view::npos || end <= i + 1 || end >= t.size()) return false;
    out.push_back({key, t.substr(i + 1, end - i - 1)});
    i = end;
    if (t[i] == '}') return i + 1 == t.size();
    if (t[i] != ',') return false;
    ++i;
  }
}

// EmitRedacted for a stored canonical text: members nothing is removed from
// or below are copied as they are written instead of re-serialised from the
// parsed object (most redactions remove whole top-level properties).
void EmitRedactedText(std::string& out, std::string_view text, json::Element e,
                      const std::vector<Path>& removals) {
  thread_local std::vector<MemberSpan> members;
  members.clear();
  json::Object obj;
  if (!TopLevelMembers(text, members) || e.get_object().get(obj) != simdjson::SUCCESS) {
    Path path;
    EmitRedacted(out, e, path, removals);
    return;
  }
  out.reserve(text.size());
  out += '{';
  bool first = true;
  Path path(1);
  for (const MemberSpan& m : members) {
    path[0].key.assign(m.key);
    if (UnderRemoved(path, removals)) continue;
    std::string rewritten;
    const bool granular = m.key == "granular_markings";
    const bool below = HasRemovedBelow(path, removals);
    if (granular || below) {
      json::Element v;
      if (obj.at_key(m.key).get(v) != simdjson::SUCCESS) {  // cannot happen for parsed text
        out.clear();
        Path root;
        EmitRedacted(out, e, root, removals);
        return;
      }
      if (granular) {
        rewritten = RewriteGranular(v, removals);
        if (rewritten.empty()) continue;
      } else {
        EmitRedacted(rewritten, v, path, removals);
      }
    }
    if (!first) out += ',';
    first = false;
    out += '"';
    out += m.key;
    out += "\":";
    out += rewritten.empty() ? m.value : std::string_view(rewritten);
  }
  out += '}';
}

// The marker value: the removed selectors, sorted, canonical JSON.
std::string RedactionMarker(const std::vector<Path>& removals) {
  std::vector<std::string> selectors;
  selectors.reserve(removals.size());
  for (const Path& p : removals) selectors.push_back(SelectorToString(p));
  std::sort(selectors.begin(), selectors.end(), json::Utf16Less);
  selectors.erase(std::unique(selectors.begin(), selectors.end()), selectors.end());
  std::string out = R"({"extension_type":"property-extension","redacted_selectors":[)";
  for (size_t i = 0; i < selectors.size(); ++i) {
    if (i > 0) out += ',';
    json::AppendQuoted(out, selectors[i]);
  }
  return out + "]}";
}

// Adds the redaction marker (markings.h kRedactedExtensionId) to the
// `extensions` of the canonical redacted copy, keeping it canonical. False
// when the copy does not parse (it was just written, so never in practice):
// the caller withholds.
bool MarkRedacted(std::string& canonical, const std::vector<Path>& removals) {
  thread_local json::JsonParser parser(json::ParseLimits{.reject_duplicate_keys = false});
  auto doc = parser.Parse(canonical);
  json::Object obj;
  if (!doc.ok() || doc->get_object().get(obj) != simdjson::SUCCESS) return false;
  const std::string marker = RedactionMarker(removals);
  auto put_marker = [&](std::string& out) {
    json::AppendQuoted(out, kRedactedExtensionId);
    out += ':';
    out += marker;
  };
  std::string out;
  out.reserve(canonical.size() + marker.size() + 80);
  out += '{';
  bool first = true, placed = false;
  auto sep = [&] {
    if (!first) out += ',';
    first = false;
  };
  auto put_extensions_only_marker = [&] {
    sep();
    out += R"("extensions":{)";
    put_marker(out);
    out += '}';
    placed = true;
  };
  for (auto member : obj) {  // canonical text: members in RFC 8785 order
    const std::string_view key = member.key;
    if (!placed && json::Utf16Less("extensions", key)) put_extensions_only_marker();
    sep();
    json::AppendQuoted(out, key);
    out += ':';
    json::Object ext;
    if (key != "extensions" || member.value.get_object().get(ext) != simdjson::SUCCESS) {
      json::AppendCanonical(out, member.value);
      continue;
    }
    out += '{';
    bool first_ext = true, marked = false;
    for (auto e : ext) {
      if (!marked && json::Utf16Less(kRedactedExtensionId, e.key)) {
        if (!first_ext) out += ',';
        first_ext = false;
        put_marker(out);
        marked = true;
      }
      if (e.key == kRedactedExtensionId) continue;  // a producer's own marker is replaced
      if (!first_ext) out += ',';
      first_ext = false;
      json::AppendQuoted(out, e.key);
      out += ':';
      json::AppendCanonical(out, e.value);
    }
    if (!marked) {
      if (!first_ext) out += ',';
      put_marker(out);
    }
    out += '}';
    placed = true;
  }
  if (!placed) put_extensions_only_marker();
  out += '}';
  canonical = std::move(out);
  return true;
}

template <typename Lazy>
Outcome Evaluate(const Candidate& c, const ObjectFacts& f, Pap pap, Lazy& lazy) {
  Outcome o;
  if (c.rules) {
    const Policy::Rules& r = *c.rules;
    if (!r.types.empty() && !Contains(r.types, f.type)) {
      o.reason = "type-not-in-agreement";
      return o;
    }
    if (pap > r.pap_ceiling) {
      o.reason = "pap-above-ceiling";
      return o;
    }
    if (Contains(r.withhold_sco, f.type)) {
      o.reason = "sco-type-withheld";
      return o;
    }
  }
  for (const GranularFact& g : f.granular) {
    bool above = false;
    if (g.marking.kind == MarkingKind::kTlp) above = g.marking.tlp > c.max;
    if (g.marking.kind == MarkingKind::kPap && c.rules)
      above = g.marking.pap > c.rules->pap_ceiling;
    if (!above) continue;
    if (g.malformed) {
      o.reason = "malformed-granular-selector";
      return o;
    }
    const json::Element* object = lazy.Get();
    if (object == nullptr) {
      o.reason = "malformed-object";
      return o;
    }
    for (const Path& p : g.selectors)
      if (Resolves(*object, p)) o.removals.push_back(p);
  }
  if (c.rules) {
    for (const auto& s : c.rules->strip) {
      if (!s.type.empty() && s.type != f.type) continue;
      if (s.path.empty() || !lazy.MayContainKey(s.needle, s.rare_at)) continue;
      const json::Element* object = lazy.Get();
      if (object == nullptr) {
        o.reason = "malformed-object";
        return o;
      }
      if (Resolves(*object, s.path)) o.removals.push_back(s.path);
    }
  }
  for (const Path& p : o.removals) {
    if (p.empty() || (p.size() == 1 && stix::IsRequiredProperty(f.type, p[0].key))) {
      o.reason = "required-property-redacted";
      return o;
    }
  }
  o.allowed = true;
  return o;
}

}  // namespace

Decision Policy::Decide(const Reader& reader, const ObjectFacts& f, json::Element object,
                        const CollectionMarking& collection, Timestamp now) const {
  LazyObject lazy;
  lazy.element = object;
  return DecideImpl(Resolve(reader), f, lazy, collection, now);
}

Policy::ResolvedReader Policy::Resolve(const Reader& reader) const {
  ResolvedReader r;
  r.anonymous = reader.anonymous;
  if (!reader.anonymous) {
    auto it = readers_.find(reader.org);
    if (it != readers_.end()) r.index = it->second.get();
  }
  return r;
}

Decision Policy::DecideText(const ResolvedReader& reader, const ObjectFacts& f,
                            std::string_view object_json, json::JsonParser& parser,
                            const CollectionMarking& collection, Timestamp now) const {
  LazyObject lazy;
  lazy.text = object_json;
  lazy.parser = &parser;
  return DecideImpl(reader, f, lazy, collection, now);
}

Explanation Policy::Explain(const Reader& reader, const ObjectFacts& f,
                            std::string_view object_json, json::JsonParser& parser,
                            const CollectionMarking& collection, Timestamp now) const {
  Explanation e;
  const ResolvedReader resolved = Resolve(reader);
  if (!reader.anonymous) e.reader_org = reader.org;
  e.reader_known = resolved.index != nullptr;
  e.type = f.type;
  e.producer = f.producer;
  if (const Organisation* o = model_.FindOrganisationByIdentity(f.producer))
    e.producer_org = o->name;
  LazyObject lazy;
  lazy.text = object_json;
  lazy.parser = &parser;
  e.decision = DecideImpl(resolved, f, lazy, collection, now, &e.trace);
  if (e.decision.verdict == Verdict::kServeRedacted) {
    for (const GrantStep& s : e.trace.steps)
      if (s.outcome == "decided") e.redactions = s.removals;
  }
  for (const Agreement& a : model_.agreements) e.agreements.push_back(NoteFor(a, e, now));
  return e;
}

Decision Policy::DecideText(const Reader& reader, const ObjectFacts& f,
                            std::string_view object_json, json::JsonParser& parser,
                            const CollectionMarking& collection, Timestamp now) const {
  return DecideText(Resolve(reader), f, object_json, parser, collection, now);
}

namespace {

// Whether one of `rules`' strip rules for `type` may find its property in
// the object (see LazyObject::MayContainKey): the only way the object's
// content enters a decision without granular markings.
bool StripMayApply(const Policy::Rules& rules, std::string_view type,
                   const Policy::LazyObject& object) {
  for (const auto& s : rules.strip) {
    if (!s.type.empty() && s.type != type) continue;
    if (!s.path.empty() && object.MayContainKey(s.needle, s.rare_at)) return true;
  }
  return false;
}

// Whether granular TLP/PAP markings may remove something for grant `c`:
// only a marking above the grant's TLP, or above its agreement's PAP
// ceiling, does (Evaluate).
bool GranularMayRedact(const ObjectFacts& f, const Candidate& c) {
  if (!f.has_granular_levels) return false;
  if (!f.granular_max_known) return true;
  if (f.granular_max_tlp && *f.granular_max_tlp > c.max) return true;
  return c.rules != nullptr && f.granular_max_pap && *f.granular_max_pap > c.rules->pap_ceiling;
}

// `f` plus the granular selectors read from `object` (the store's columns
// keep only their levels). False when the object or its markings do not
// parse.
bool LoadSelectors(const ObjectFacts& f, Policy::LazyObject& object,
                   std::optional<ObjectFacts>& out) {
  const json::Element* e = object.Get();
  if (e == nullptr) return false;
  out = f;
  out->granular.clear();
  json::Element gms;
  return e->at_key("granular_markings").get(gms) != simdjson::SUCCESS ||
         AppendGranular(gms, *out).ok();
}

}  // namespace

bool Policy::MayNeedStripping(const void* unless_stripped, std::string_view type,
                              std::string_view text) {
  if (unless_stripped == nullptr) return false;
  LazyObject lazy;
  lazy.text = text;
  return StripMayApply(*static_cast<const Rules*>(unless_stripped), type, lazy);
}

namespace {

std::vector<std::string> SelectorStrings(const std::vector<Path>& paths) {
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const Path& p : paths) out.push_back(SelectorToString(p));
  return out;
}

}  // namespace

Decision Policy::DecideImpl(const ResolvedReader& reader, const ObjectFacts& f, LazyObject& object,
                            const CollectionMarking& collection, Timestamp now,
                            DecisionTrace* trace) const {
  Decision d;
  // Until Evaluate looks at the object; granular levels are facts no
  // memo key holds, so such a decision is never reused.
  d.depends_on_object = f.has_granular_levels;
  const ReaderIndex* ri = static_cast<const ReaderIndex*>(reader.index);
  const Tlp tlp = f.tlp                    ? *f.tlp
                  : collection.default_tlp ? *collection.default_tlp
                                           : model_.unmarked_tlp;
  const Pap pap = f.pap ? *f.pap : collection.default_pap ? *collection.default_pap : Pap::kClear;
  if (trace != nullptr) {
    trace->tlp = tlp;
    trace->pap = pap;
    trace->tlp_marked = f.tlp.has_value();
  }
  if (ri != nullptr && !f.producer.empty() && ri->identity == f.producer) {
    d.verdict = Verdict::kServe;
    d.via = "own";
    if (trace != nullptr) trace->steps.push_back({"own", Tlp::kRed, "decided", {}});
    return d;
  }

  // With a trace, trace->steps[i] is candidate i's step.
  Candidate cands[64];
  size_t n = 0;
  auto add = [&](Tlp max, const Rules* rules, std::string_view via) {
    cands[n++] = MakeCandidate(max, rules, via);
    if (trace != nullptr) trace->steps.push_back({std::string(via), max, "not-reached", {}});
  };
  auto skip = [&](std::string_view via, Tlp max, const char* why) {
    if (trace != nullptr) trace->skipped.push_back({std::string(via), max, why, {}});
  };
  auto outcome = [&](size_t i, std::string_view what) {
    if (trace != nullptr) trace->steps[i].outcome = std::string(what);
  };
  if (ri != nullptr && !ri->identity.empty() && Contains(f.recipient_orgs, ri->identity))
    add(Tlp::kRed, nullptr, "named");
  if (ri != nullptr && !f.producer.empty()) {
    if (const std::vector<Route>* routes = RoutesFor(*ri, f.producer)) {
      for (const Route& r : *routes) {
        if (n == std::size(cands)) break;
        if (r.max < tlp) {  // sorted by max, descending: every later route is below too
          if (trace == nullptr) break;
          skip(r.via, r.max, "tlp-above-ceiling");
          continue;
        }
        if (r.ActiveAt(now)) {
          add(r.max, r.rules, r.via);
        } else {
          skip(r.via, r.max, "not-active");
        }
      }
    }
  }
  if (!reader.anonymous || collection.public_read) {
    if (tlp == Tlp::kClear && n < std::size(cands)) {
      add(Tlp::kClear, nullptr, "public");
    } else if (tlp != Tlp::kClear) {
      skip("public", Tlp::kClear, "tlp-above-ceiling");
    }
  }
  if (n == 0) {
    d.via = "no-grant";
    return d;
  }
  const ObjectFacts* facts = &f;
  std::optional<ObjectFacts> with_selectors;  // f and the selectors, once read
  std::optional<Outcome> best;
  size_t best_at = 0;
  std::string_view best_via;
  std::string_view last_reason = "no-grant";
  for (size_t i = 0; i < n; ++i) {
    const Candidate& c = cands[i];
    const bool granular_here = GranularMayRedact(f, c);
    if (!granular_here) {
      // Fast path: nothing granular to remove for this grant: whole-object
      // checks, then strip rules only if the text may hold a property they
      // name.
      if (c.rules != nullptr) {
        const Rules& r = *c.rules;
        if (!r.types.empty() && !Contains(r.types, f.type)) {
          last_reason = "type-not-in-agreement";
          outcome(i, last_reason);
          continue;
        }
        if (pap > r.pap_ceiling) {
          last_reason = "pap-above-ceiling";
          outcome(i, last_reason);
          continue;
        }
        if (Contains(r.withhold_sco, f.type)) {
          last_reason = "sco-type-withheld";
          outcome(i, last_reason);
          continue;
        }
      }
      if (c.rules == nullptr || c.rules->strip.empty() ||
          !StripMayApply(*c.rules, f.type, object)) {
        d.verdict = Verdict::kServe;
        d.via = c.via();
        if (c.rules != nullptr && !c.rules->strip.empty()) d.unless_stripped = c.rules;
        outcome(i, "decided");
        return d;
      }
    }
    d.depends_on_object = true;
    if (granular_here && facts->granular.empty() && !with_selectors) {
      if (!LoadSelectors(f, object, with_selectors)) {
        d.via = "malformed-object";
        outcome(i, d.via);
        return d;
      }
      facts = &*with_selectors;
    }
    Outcome o = Evaluate(c, *facts, pap, object);
    if (!o.allowed) {
      last_reason = o.reason;
      outcome(i, last_reason);
      continue;
    }
    if (o.removals.empty()) {
      d.verdict = Verdict::kServe;
      d.via = c.via();
      outcome(i, "decided");
      return d;
    }
    if (trace != nullptr) trace->steps[i].removals = SelectorStrings(o.removals);
    outcome(i, "redacts-more");  // until it turns out to remove the least
    if (!best || o.removals.size() < best->removals.size()) {
      best_via = c.via();
      best_at = i;
      best = std::move(o);
    }
  }
  if (!best) {
    d.via = last_reason;
    return d;
  }
  d.verdict = Verdict::kServeRedacted;
  d.via = best_via;
  if (!object.text.empty()) {
    EmitRedactedText(d.redacted_json, object.text, *object.Get(), best->removals);
  } else {
    Path path;
    EmitRedacted(d.redacted_json, *object.Get(), path, best->removals);
  }
  if (!MarkRedacted(d.redacted_json, best->removals)) {
    d = Decision{};
    d.via = "malformed-object";
  }
  outcome(best_at, d.verdict == Verdict::kWithhold ? "malformed-object" : "decided");
  return d;
}

std::optional<Timestamp> Policy::NextChange(const ResolvedReader& reader, Timestamp t) const {
  const ReaderIndex* ri = static_cast<const ReaderIndex*>(reader.index);
  std::optional<Timestamp> next;
  if (ri == nullptr) return next;
  auto consider = [&](const std::optional<Timestamp>& b) {
    if (b && t < *b && (!next || *b < *next)) next = *b;
  };
  for (const auto& [producer, routes] : ri->by_producer) {
    for (const Route& r : routes) {
      consider(r.from);
      consider(r.until);
    }
  }
  return next;
}

Decision Policy::DecideJson(const Reader& reader, json::Element object,
                            const CollectionMarking& collection, Timestamp now) const {
  auto f = ExtractFacts(object);
  if (!f.ok()) {
    Decision d;
    d.via = "malformed-object";
    return d;
  }
  return Decide(reader, *f, object, collection, now);
}

std::string_view Policy::IdentityOf(std::string_view org_name) const {
  const Organisation* o = OrgByName(org_name);
  return o ? std::string_view(o->identity_id) : std::string_view();
}

bool Policy::KnowsIdentity(std::string_view identity) const {
  return OrgByIdentity(identity) != nullptr;
}

bool Policy::MayRelay(std::string_view writer_org, std::string_view producer_identity,
                      Timestamp now) const {
  const Organisation* producer = OrgByIdentity(producer_identity);
  const Organisation* writer = OrgByName(writer_org);
  if (producer == nullptr || writer == nullptr || producer == writer) return false;
  for (const Agreement* a : relay_agreements_) {
    if (a->ActiveAt(now) && PartyIncludes(a->producer, *producer) &&
        PartyIncludes(a->recipient, *writer))
      return true;
  }
  return false;
}

std::vector<Policy::ReshareChain> Policy::ReshareChains() const {
  std::vector<ReshareChain> out;
  for (const auto& [reader, index] : readers_) {
    for (const auto& [producer, routes] : index->by_producer) {
      const Organisation* p = model_.FindOrganisationByIdentity(producer);
      for (const Route& r : routes) {
        if (r.kind != RouteKind::kReshare) continue;
        ReshareChain c;
        c.reader_org = reader;
        c.producer_org = p != nullptr ? p->name : producer;
        c.via = r.via;
        c.max = r.max;
        if (r.rules != nullptr) c.object_types = r.rules->types;
        out.push_back(std::move(c));
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const ReshareChain& a, const ReshareChain& b) {
    return std::tie(a.reader_org, a.producer_org, a.via) <
           std::tie(b.reader_org, b.producer_org, b.via);
  });
  return out;
}

ReadScope Policy::ScopeFor(const Reader& reader, const CollectionMarking& collection,
                           Timestamp now) const {
  ReadScope s;
  if (reader.anonymous) {
    s.none = !collection.public_read;
    return s;
  }
  auto it = readers_.find(reader.org);
  if (it == readers_.end()) return s;
  const ReaderIndex& ri = *it->second;
  s.own_producer = ri.identity;
  s.red_if_named = !ri.identity.empty();
  for (const auto& [producer, routes] : ri.by_producer) {
    ProducerGrant g;
    g.producer = producer;
    bool any = false, all_types = false;
    std::set<std::string> types;
    for (const Route& r : routes) {
      if (!r.ActiveAt(now)) continue;
      if (!any || r.max > g.max_tlp) g.max_tlp = r.max;
      any = true;
      if (r.rules == nullptr || r.rules->types.empty()) {
        all_types = true;
      } else {
        types.insert(r.rules->types.begin(), r.rules->types.end());
      }
    }
    if (!any || g.max_tlp == Tlp::kClear) continue;  // CLEAR is covered by any_producer_max
    if (!all_types) g.object_types.assign(types.begin(), types.end());
    s.grants.push_back(std::move(g));
  }
  std::sort(s.grants.begin(), s.grants.end(),
            [](const ProducerGrant& a, const ProducerGrant& b) { return a.producer < b.producer; });
  return s;
}

}  // namespace ctihub::policy
