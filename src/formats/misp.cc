// Implementation of misp.h.
#include "formats/misp.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/timestamp.h"
#include "core/uuid.h"
#include "formats/generate.h"
#include "policy/markings.h"
#include "stix/validate.h"

namespace ctihub::formats {
namespace {

using Props = std::vector<std::pair<std::string, ScoProperty>>;  // (SCO type, property)

std::string_view Str(json::Object o, std::string_view key) {
  std::string_view v;
  return o[key].get_string().get(v) == simdjson::SUCCESS ? v : std::string_view();
}

bool Flag(json::Object o, std::string_view key) {
  json::Element e;
  if (o[key].get(e) != simdjson::SUCCESS) return false;
  if (e.is_bool()) return e.get_bool().value_unsafe();
  std::string_view s;
  return e.get_string().get(s) == simdjson::SUCCESS && (s == "1" || s == "true");
}

// The elements of o[key] (none when it is absent or not an array). A
// default-constructed simdjson array must not be iterated, hence the copy.
std::vector<json::Element> Arr(json::Object o, std::string_view key) {
  std::vector<json::Element> out;
  json::Array a;
  if (o[key].get_array().get(a) != simdjson::SUCCESS) return out;
  for (json::Element e : a) out.push_back(e);
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != p[i]) return false;
  }
  return true;
}

// MISP timestamps are epoch seconds as strings; 0 when absent or malformed.
Timestamp EpochOr(json::Object o, std::string_view key, Timestamp fallback) {
  std::string_view s = Str(o, key);
  if (s.empty() || s.size() > 12) return fallback;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return fallback;
    v = v * 10 + (c - '0');
  }
  return Timestamp::FromMicros(v * 1000000);
}

// A STIX id from a MISP uuid (kept when it is a valid UUID, else derived from it).
std::string IdFor(std::string_view type, std::string_view misp_uuid) {
  auto u = Uuid::Parse(misp_uuid);
  if (u.ok()) return std::string(type) + "--" + u->ToString();
  static const Uuid ns = *Uuid::Parse("4f6b3a0e-8c1d-5e2f-a3b4-c5d6e7f80912");
  return std::string(type) + "--" +
         Uuid::V5(ns, std::string(type) + "|" + std::string(misp_uuid)).ToString();
}

std::string_view AddressType(std::string_view v) {
  return v.find(':') != std::string_view::npos ? "ipv6-addr" : "ipv4-addr";
}

std::string_view HashName(std::string_view t) {
  if (t == "md5") return "hashes.MD5";
  if (t == "sha1") return "hashes.'SHA-1'";
  if (t == "sha256") return "hashes.'SHA-256'";
  if (t == "sha512") return "hashes.'SHA-512'";
  return "";
}

std::string Before(std::string_view v, char c) { return std::string(v.substr(0, v.find(c))); }
std::string After(std::string_view v, char c) {
  size_t p = v.find(c);
  return p == std::string_view::npos ? std::string() : std::string(v.substr(p + 1));
}

// A registry key with its hive's abbreviation ("HKLM\\Software", as MISP events
// usually write it) spelled out: STIX 2.1 section 6.17 requires the full hive
// name, and one such key used to sink the whole event it came in.
std::string FullHiveKey(std::string key) {
  static constexpr std::pair<std::string_view, std::string_view> kAbbreviations[] = {
      {"hklm", "HKEY_LOCAL_MACHINE"},  {"hkcu", "HKEY_CURRENT_USER"},
      {"hkcr", "HKEY_CLASSES_ROOT"},   {"hku", "HKEY_USERS"},
      {"hkcc", "HKEY_CURRENT_CONFIG"}, {"hkpd", "HKEY_PERFORMANCE_DATA"},
      {"hkdd", "HKEY_DYN_DATA"}};
  const size_t end = std::min(key.find('\\'), key.size());
  for (const auto& [abbreviation, hive] : kAbbreviations) {
    if (end == abbreviation.size() && StartsWithNoCase(key, abbreviation)) {
      return std::string(hive) + key.substr(end);
    }
  }
  return key;
}

// The SCO properties of one attribute (docs/formats/misp.md); false for a type
// STIX has no SCO for.
bool AttributeProps(std::string_view type, std::string_view value, Props* out) {
  auto add = [&](std::string_view sco, std::string_view path, std::string v) {
    out->push_back({std::string(sco), {std::string(path), std::move(v)}});
  };
  if (value.empty()) return false;
  if (type == "ip-src" || type == "ip-dst") {
    add(AddressType(value), "value", std::string(value));
  } else if (type == "ip-src|port" || type == "ip-dst|port") {
    std::string ip = Before(value, '|');
    add(AddressType(ip), "value", ip);
  } else if (type == "domain" || type == "hostname") {
    add("domain-name", "value", std::string(value));
  } else if (type == "domain|ip" || type == "hostname|port") {
    add("domain-name", "value", Before(value, '|'));
    if (type == "domain|ip" && !After(value, '|').empty()) {
      std::string ip = After(value, '|');
      add(AddressType(ip), "value", ip);
    }
  } else if (type == "url" || type == "uri") {
    add("url", "value", std::string(value));
  } else if (type == "email" || type == "email-src" || type == "email-dst") {
    add("email-addr", "value", std::string(value));
  } else if (!HashName(type).empty()) {
    add("file", HashName(type), std::string(value));
  } else if (type == "filename") {
    add("file", "name", std::string(value));
  } else if (StartsWithNoCase(type, "filename|") && !HashName(type.substr(9)).empty()) {
    add("file", "name", Before(value, '|'));
    add("file", HashName(type.substr(9)), After(value, '|'));
  } else if (StartsWithNoCase(type, "x509-fingerprint-") && !HashName(type.substr(17)).empty()) {
    add("x509-certificate", HashName(type.substr(17)), std::string(value));
  } else if (type == "mutex") {
    add("mutex", "name", std::string(value));
  } else if (type == "mac-address") {
    add("mac-addr", "value", std::string(value));
  } else if (type == "regkey" || type == "regkey|value") {
    add("windows-registry-key", "key", FullHiveKey(Before(value, '|')));
  } else {
    return false;
  }
  return true;
}

// The properties of each SCO type, in order of first appearance.
std::vector<std::pair<std::string, std::vector<ScoProperty>>> GroupByType(const Props& props) {
  std::vector<std::pair<std::string, std::vector<ScoProperty>>> groups;
  for (const auto& prop : props) {
    const std::string& type = prop.first;
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == type; });
    if (it == groups.end()) it = groups.insert(groups.end(), {type, {}});
    // Two relations of one object may name one property with one value (a pe
    // object's original-filename and internal-filename): the SCO has it once.
    // Different values for one property still make the object unmappable.
    const ScoProperty& p = prop.second;
    const bool repeated = std::any_of(it->second.begin(), it->second.end(), [&](const auto& q) {
      return q.path == p.path && q.value == p.value;
    });
    if (!repeated) it->second.push_back(p);
  }
  return groups;
}

// Labels and markings from a Tag array.
struct Tags {
  std::vector<std::string> labels;
  std::vector<std::string> markings;
};

Tags ReadTags(json::Object o) {
  Tags t;
  for (json::Element e : Arr(o, "Tag")) {
    json::Object tag;
    if (e.get_object().get(tag) != simdjson::SUCCESS) continue;
    std::string_view name = Str(tag, "name");
    if (name.empty() || StartsWithNoCase(name, "misp-galaxy:")) continue;
    if (StartsWithNoCase(name, "tlp:")) {
      if (auto level = policy::ParseTlp(name)) {
        t.markings.emplace_back(policy::Tlp2MarkingId(*level));
        continue;
      }
    } else if (StartsWithNoCase(name, "pap:")) {
      if (auto level = policy::ParsePap(name)) {
        t.markings.emplace_back(policy::PapMarkingId(*level));
        continue;
      }
    }
    t.labels.emplace_back(name);
  }
  return t;
}

// Adds the member `key` (a list of strings, when not empty) to an object's JSON text.
std::string WithStrings(std::string text, std::string_view key,
                        const std::vector<std::string>& values) {
  if (values.empty()) return text;
  std::string member = ",";
  json::JsonWriter w(member);
  w.Key(key).BeginArray();
  for (const auto& v : values) w.String(v);
  w.EndArray();
  text.insert(text.size() - 1, member);
  return text;
}

void WriteStrings(json::JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  w.Key(key).BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

// Common SDO members.
void BeginSdo(json::JsonWriter& w, std::string_view type, const std::string& id, Timestamp t) {
  std::string ts = t.ToString();
  w.BeginObject().Key("type").String(type).Key("spec_version").String("2.1").Key("id").String(id);
  w.Key("created").String(ts).Key("modified").String(ts);
}

class EventConverter {
 public:
  explicit EventConverter(json::Object event) : event_(event) {}

  Result<MispEventObjects> Run() {
    std::string_view uuid = Str(event_, "uuid");
    std::string_view info = Str(event_, "info");
    if (uuid.empty() || info.empty()) return InvalidArgument("not_a_misp_event", "no uuid or info");
    out_.event = "event " + std::string(uuid);
    now_ = EpochOr(event_, "timestamp", Timestamp::FromMicros(0));
    event_tags_ = ReadTags(event_);
    std::vector<json::Element> attrs = Arr(event_, "Attribute");
    if (attrs.size() > kMaxMispAttributesPerEvent) {
      return LimitExceeded("event_too_large",
                           "over " + std::to_string(kMaxMispAttributesPerEvent) + " attributes");
    }
    for (json::Element a : attrs) Attribute(a);
    for (json::Element o : Arr(event_, "Object")) MispObject(o);
    Galaxies();
    if (refs_.empty()) {
      return InvalidArgument("empty_event", "the event holds nothing STIX can represent");
    }
    Report(uuid, info);
    return std::move(out_);
  }

 private:
  void Issue(std::string where, std::string name, const std::string& message) {
    std::string reason = name + ": " + message;
    out_.issues.push_back({std::move(where), std::move(name), std::move(reason)});
  }
  void Issue(std::string where, const Status& why) {
    out_.issues.push_back({std::move(where), std::string(why.name()), why.NamedMessage()});
  }

  void Emit(const std::string& id, std::string text) {
    if (!emitted_.insert(id).second) return;
    out_.objects.push_back(std::move(text));
    refs_.push_back(id);
  }

  const std::vector<std::string>& MarkingsOr(const Tags& own) const {
    return own.markings.empty() ? event_tags_.markings : own.markings;
  }

  // SCOs for `props`; the pattern over them ("" on failure, with an issue).
  std::string Scos(const Props& props, const std::vector<std::string>& markings,
                   const std::string& where) {
    std::vector<std::pair<std::string, std::vector<ScoProperty>>> groups = GroupByType(props);
    std::string pattern;
    std::vector<std::string> texts, ids, addresses;
    for (const auto& [type, ps] : groups) {
      auto sco = MakeSco(type, ps);
      if (!sco.ok()) {
        Issue(where, sco.status());
        return {};
      }
      json::JsonParser parser;
      auto el = parser.Parse(*sco);
      std::string_view id;
      if (!el.ok() || (*el)["id"].get_string().get(id) != simdjson::SUCCESS) return {};
      // A value STIX does not accept ("evil.com" as a url, "HKCU" missing
      // from a key) drops this attribute or object, not the whole event.
      stix::Report check = stix::Validate(*el);
      if (!check.valid()) {
        Issue(where, "invalid_value", type + ": " + check.errors[0].message);
        return {};
      }
      if (type == "ipv4-addr" || type == "ipv6-addr") addresses.emplace_back(id);
      texts.push_back(std::move(*sco));
      ids.emplace_back(id);
      if (!pattern.empty()) pattern += " AND ";
      pattern += ComparisonPattern(type, ps);
    }
    for (size_t i = 0; i < texts.size(); ++i) {
      // The graph of a domain-ip object: the name resolves to the addresses.
      if (groups[i].first == "domain-name") {
        texts[i] = WithStrings(std::move(texts[i]), "resolves_to_refs", addresses);
      }
      Emit(ids[i], WithStrings(std::move(texts[i]), "object_marking_refs", markings));
    }
    return pattern;
  }

  void Indicator(const std::string& id, std::string_view name, const std::string& pattern,
                 Timestamp t, const Tags& tags) {
    std::string text;
    json::JsonWriter w(text);
    BeginSdo(w, "indicator", id, t);
    w.Key("name").String(name).Key("pattern").String(pattern);
    w.Key("pattern_type").String("stix").Key("valid_from").String(t.ToString());
    WriteStrings(w, "labels", tags.labels);
    WriteStrings(w, "object_marking_refs", MarkingsOr(tags));
    w.EndObject();
    indicators_.push_back(id);
    Emit(id, std::move(text));
  }

  void Attribute(json::Element e) {
    json::Object a;
    if (e.get_object().get(a) != simdjson::SUCCESS)
      return Issue("attribute", "malformed_attribute", "not an object");
    std::string_view uuid = Str(a, "uuid"), type = Str(a, "type"), value = Str(a, "value");
    std::string where = "attribute " + std::string(uuid.empty() ? "(no uuid)" : uuid);
    Tags tags = ReadTags(a);
    Timestamp t = EpochOr(a, "timestamp", now_);
    if (type == "vulnerability" && !value.empty()) return Vulnerability(uuid, value, t, tags);
    Props props;
    if (!AttributeProps(type, value, &props)) {
      return Issue(where, "unsupported_attribute_type", "'" + std::string(type) + "'");
    }
    std::string pattern = Scos(props, MarkingsOr(tags), where);
    if (pattern.empty() || !Flag(a, "to_ids") || uuid.empty()) return;
    std::string id = IdFor("indicator", uuid);
    Indicator(id, std::string(type) + ": " + std::string(value), pattern, t, tags);
    Sightings(a, id);
  }

  void Vulnerability(std::string_view uuid, std::string_view cve, Timestamp t, const Tags& tags) {
    std::string id = IdFor("vulnerability", uuid.empty() ? cve : uuid);
    std::string text;
    json::JsonWriter w(text);
    BeginSdo(w, "vulnerability", id, t);
    w.Key("name").String(cve);
    if (StartsWithNoCase(cve, "cve-")) {
      w.Key("external_references").BeginArray().BeginObject();
      w.Key("source_name").String("cve").Key("external_id").String(cve).EndObject().EndArray();
    }
    WriteStrings(w, "labels", tags.labels);
    WriteStrings(w, "object_marking_refs", MarkingsOr(tags));
    w.EndObject();
    Emit(id, std::move(text));
  }

  void Sightings(json::Object a, const std::string& indicator_id) {
    for (json::Element e : Arr(a, "Sighting")) {
      json::Object s;
      if (e.get_object().get(s) != simdjson::SUCCESS) continue;
      std::string_view uuid = Str(s, "uuid"), kind = Str(s, "type");
      if (uuid.empty() || (!kind.empty() && kind != "0")) continue;  // 1: false positive, 2: expiry
      Timestamp t = EpochOr(s, "date_sighting", now_);
      std::string id = IdFor("sighting", uuid);
      std::string text;
      json::JsonWriter w(text);
      BeginSdo(w, "sighting", id, t);
      w.Key("sighting_of_ref").String(indicator_id).Key("count").Int(1);
      w.Key("first_seen").String(t.ToString()).Key("last_seen").String(t.ToString());
      WriteStrings(w, "object_marking_refs", event_tags_.markings);
      w.EndObject();
      Emit(id, std::move(text));
    }
  }

  void MispObject(json::Element e) {
    json::Object o;
    if (e.get_object().get(o) != simdjson::SUCCESS)
      return Issue("object", "malformed_object", "not an object");
    std::string_view uuid = Str(o, "uuid"), name = Str(o, "name");
    std::string where = "object " + std::string(uuid.empty() ? "(no uuid)" : uuid);
    Props props;
    bool to_ids = false;
    Tags tags;
    for (json::Element ae : Arr(o, "Attribute")) {
      json::Object a;
      if (ae.get_object().get(a) != simdjson::SUCCESS) continue;
      // Attributes with no SCO (ports, sizes, text) do not take part in the pattern.
      if (AttributeProps(Str(a, "type"), Str(a, "value"), &props)) to_ids |= Flag(a, "to_ids");
      Tags at = ReadTags(a);
      tags.markings.insert(tags.markings.end(), at.markings.begin(), at.markings.end());
    }
    if (props.empty())
      return Issue(where, "no_mappable_attribute",
                   "MISP object '" + std::string(name) + "' has no attribute STIX can represent");
    std::string pattern = Scos(props, MarkingsOr(tags), where);
    if (pattern.empty() || !to_ids || uuid.empty()) return;
    Indicator(IdFor("indicator", uuid), name, pattern, EpochOr(o, "timestamp", now_), tags);
  }

  // The SDO type for a galaxy type, or "".
  static std::string_view GalaxySdoType(std::string_view g) {
    if (g.find("attack-pattern") != std::string_view::npos) return "attack-pattern";
    if (g.find("intrusion-set") != std::string_view::npos) return "intrusion-set";
    if (g.find("threat-actor") != std::string_view::npos) return "threat-actor";
    if (g.find("tool") != std::string_view::npos) return "tool";
    for (std::string_view m : {"malware", "malpedia", "ransomware", "botnet", "backdoor", "rat",
                               "exploit-kit", "stealer", "banker", "android"}) {
      if (g.find(m) != std::string_view::npos) return "malware";
    }
    return "";
  }

  void Galaxies() {
    std::vector<std::string> targets;
    for (json::Element ge : Arr(event_, "Galaxy")) {
      json::Object g;
      if (ge.get_object().get(g) != simdjson::SUCCESS) continue;
      std::string_view gtype = Str(g, "type");
      std::string_view sdo = GalaxySdoType(gtype);
      for (json::Element ce : Arr(g, "GalaxyCluster")) {
        json::Object c;
        if (ce.get_object().get(c) != simdjson::SUCCESS) continue;
        std::string_view uuid = Str(c, "uuid"), value = Str(c, "value");
        std::string where = "galaxy cluster " + std::string(uuid.empty() ? value : uuid);
        if (sdo.empty()) {
          Issue(where, "unsupported_galaxy_type", "'" + std::string(gtype) + "'");
          continue;
        }
        if (uuid.empty() || value.empty()) {
          Issue(where, "incomplete_galaxy_cluster", "no uuid or value");
          continue;
        }
        std::string id = IdFor(sdo, uuid);
        std::string text;
        json::JsonWriter w(text);
        BeginSdo(w, sdo, id, now_);
        w.Key("name").String(value);
        std::string_view desc = Str(c, "description");
        if (!desc.empty()) w.Key("description").String(desc);
        if (sdo == "malware") w.Key("is_family").Bool(true);
        WriteStrings(w, "object_marking_refs", event_tags_.markings);
        w.EndObject();
        Emit(id, std::move(text));
        targets.push_back(id);
      }
    }
    for (const std::string& ind : indicators_) {
      for (const std::string& target : targets) Relationship(ind, "indicates", target);
    }
  }

  void Relationship(const std::string& from, std::string_view type, const std::string& to) {
    static const Uuid ns = *Uuid::Parse("9a1e5c3b-2d4f-5a6b-8c7d-e0f1a2b3c4d5");
    std::string id =
        "relationship--" + Uuid::V5(ns, from + "|" + std::string(type) + "|" + to).ToString();
    std::string text;
    json::JsonWriter w(text);
    BeginSdo(w, "relationship", id, now_);
    w.Key("relationship_type")
        .String(type)
        .Key("source_ref")
        .String(from)
        .Key("target_ref")
        .String(to);
    WriteStrings(w, "object_marking_refs", event_tags_.markings);
    w.EndObject();
    Emit(id, std::move(text));
  }

  void Report(std::string_view uuid, std::string_view info) {
    std::string text;
    json::JsonWriter w(text);
    BeginSdo(w, "report", IdFor("report", uuid), now_);
    w.Key("name").String(info).Key("report_types").BeginArray().String("threat-report").EndArray();
    w.Key("published").String(EpochOr(event_, "publish_timestamp", now_).ToString());
    WriteStrings(w, "object_refs", refs_);
    WriteStrings(w, "labels", event_tags_.labels);
    WriteStrings(w, "object_marking_refs", event_tags_.markings);
    w.EndObject();
    out_.objects.push_back(std::move(text));
  }

  json::Object event_;
  Timestamp now_;
  Tags event_tags_;
  MispEventObjects out_;
  std::set<std::string> emitted_;
  std::vector<std::string> refs_;
  std::vector<std::string> indicators_;
};

}  // namespace

std::string MispAttributePattern(std::string_view type, std::string_view value) {
  Props props;
  if (!AttributeProps(type, value, &props)) return {};
  std::string pattern;
  for (const auto& [sco, ps] : GroupByType(props)) {
    if (!pattern.empty()) pattern += " AND ";
    pattern += ComparisonPattern(sco, ps);
  }
  return pattern;
}

Result<MispEventObjects> MispEventToStix(json::Element value) {
  json::Object obj;
  if (value.get_object().get(obj) != simdjson::SUCCESS) {
    return InvalidArgument("not_a_misp_event", "not a JSON object");
  }
  json::Object event;
  if (obj["Event"].get_object().get(event) != simdjson::SUCCESS) event = obj;
  return EventConverter(event).Run();
}

}  // namespace ctihub::formats
