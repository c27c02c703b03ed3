// Implementation of stix20_upgrade.h. Objects are rewritten member by member
// with JsonWriter (the store canonicalises them later); values are copied as
// they are except where the changes list renames, drops or re-types them.
#include "formats/stix20_upgrade.h"

#include <map>
#include <set>

#include "core/tlp.h"
#include "stix/sco_id.h"
#include "stix/validate.h"

namespace ctihub::formats {
namespace {

using RefMap = std::map<std::string, std::string, std::less<>>;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The TLP 2.0 definition for a TLP 1.0 one (white -> clear), else nullptr.
const tlp::FixedMarking* Tlp2For(std::string_view marking_id) {
  const tlp::FixedMarking* m = tlp::FindFixedMarking(marking_id);
  if (m == nullptr || m->tlp_version != 1) return nullptr;
  std::string_view level = m->level == "white" ? "clear" : m->level;
  for (const tlp::FixedMarking& f : tlp::FixedMarkings()) {
    if (f.tlp_version == 2 && f.level == level) return &f;
  }
  return nullptr;
}

std::string_view UpgradedMarkingRef(std::string_view id) {
  const tlp::FixedMarking* m = Tlp2For(id);
  return m != nullptr ? m->id : id;
}

// 2.0 property names of SCOs that 2.1 renamed ("" : removed).
std::string_view RenamedScoProperty(std::string_view type, std::string_view key, bool* drop) {
  *drop = false;
  if (type == "file" || type == "directory") {
    if (key == "created") return "ctime";
    if (key == "modified") return "mtime";
    if (key == "accessed") return "atime";
  }
  if (type == "file" &&
      (key == "is_encrypted" || key == "encryption_algorithm" || key == "decryption_key")) {
    *drop = true;
  }
  if (type == "process") {
    if (key == "created") return "created_time";
    if (key == "binary_ref") return "image_ref";
    if (key == "name" || key == "arguments" || key == "is_hidden") *drop = true;
  }
  if (type == "windows-registry-key" && key == "modified") return "modified_time";
  if (type == "user-account" && key == "password_last_changed") return "credential_last_changed";
  return key;
}

// The 2.1 *_types property that replaces a 2.0 SDO's `labels`, or "".
std::string_view TypesPropertyFor(std::string_view type) {
  if (type == "indicator") return "indicator_types";
  if (type == "malware") return "malware_types";
  if (type == "report") return "report_types";
  if (type == "threat-actor") return "threat_actor_types";
  if (type == "tool") return "tool_types";
  return "";
}

// Copies `value`, replacing observable references ("*_ref": "0",
// "*_refs": ["0"]) by the ids in `refs`. Returns false on a reference that
// is not (yet) in `refs`.
bool WriteResolved(json::JsonWriter& w, json::Element value, std::string_view key,
                   const RefMap& refs, std::string* missing) {
  if (EndsWith(key, "_ref") && value.is_string()) {
    std::string_view r = value.get_string().value_unsafe();
    auto it = refs.find(r);
    if (it == refs.end()) {
      *missing = std::string(r);
      return false;
    }
    w.String(it->second);
    return true;
  }
  if (value.is_array()) {
    bool refs_list = EndsWith(key, "_refs");
    w.BeginArray();
    json::Array items = value.get_array().value_unsafe();
    for (json::Element e : items) {
      if (!WriteResolved(w, e, refs_list ? std::string_view("_ref") : key, refs, missing)) {
        return false;
      }
    }
    w.EndArray();
    return true;
  }
  if (value.is_object()) {
    w.BeginObject();
    json::Object members = value.get_object().value_unsafe();
    for (auto field : members) {
      w.Key(field.key);
      if (!WriteResolved(w, field.value, field.key, refs, missing)) return false;
    }
    w.EndObject();
    return true;
  }
  w.Value(value);
  return true;
}

// One 2.0 cyber observable as a 2.1 SCO (without its id), or false when it
// references an observable not converted yet.
bool WriteSco(json::Object obs, std::string_view type, const RefMap& refs, std::string* out,
              std::string* missing) {
  out->clear();
  json::JsonWriter w(*out);
  w.BeginObject().Key("type").String(type).Key("spec_version").String("2.1");
  for (auto field : obs) {
    if (field.key == "type" || field.key == "id" || field.key == "spec_version") continue;
    bool drop = false;
    std::string_view name = RenamedScoProperty(type, field.key, &drop);
    if (drop) continue;
    w.Key(name);
    if (!WriteResolved(w, field.value, name, refs, missing)) return false;
  }
  w.EndObject();
  return true;
}

// Converts an observed-data's `objects` into SCOs; fills `refs` ("0" -> id)
// and appends the SCOs' texts to `out` in dependency order.
Status ConvertObservables(json::Object objects, RefMap* refs, std::vector<std::string>* out) {
  if (objects.size() > kMaxObservablesPerObservedData) {
    return InvalidArgument("too_many_observables",
                           "over " + std::to_string(kMaxObservablesPerObservedData));
  }
  std::vector<std::pair<std::string_view, json::Object>> pending;
  for (auto field : objects) {
    json::Object obs;
    std::string_view type;
    if (field.value.get_object().get(obs) != simdjson::SUCCESS ||
        obs["type"].get_string().get(type) != simdjson::SUCCESS || type.empty()) {
      return InvalidArgument(
          "malformed_observable",
          "observed-data objects." + std::string(field.key) + ": not an object with a string type");
    }
    pending.emplace_back(field.key, obs);
  }
  // Each pass converts the observables whose references are all resolved.
  json::JsonParser parser;
  while (!pending.empty()) {
    std::vector<std::pair<std::string_view, json::Object>> blocked;
    std::string missing, text;
    for (auto& [key, obs] : pending) {
      std::string_view type = obs["type"].get_string().value_unsafe();
      if (!WriteSco(obs, type, *refs, &text, &missing)) {
        blocked.emplace_back(key, obs);
        continue;
      }
      CTIHUB_ASSIGN_OR_RETURN(json::Element el, parser.Parse(text));
      CTIHUB_ASSIGN_OR_RETURN(std::string id, stix::DeterministicScoId(el));
      std::string id_member;
      json::JsonWriter(id_member).String(id);
      out->push_back("{\"id\":" + id_member + "," + text.substr(1));
      refs->emplace(std::string(key), std::move(id));
    }
    if (blocked.size() == pending.size()) {
      return InvalidArgument("unresolved_observable_ref",
                             "observed-data objects." + std::string(blocked.front().first) +
                                 ": reference '" + missing + "' is dangling or cyclic");
    }
    pending = std::move(blocked);
  }
  return Status::Ok();
}

void WriteMarkingRefs(json::JsonWriter& w, json::Element refs) {
  if (!refs.is_array()) {
    w.Value(refs);
    return;
  }
  w.BeginArray();
  json::Array items = refs.get_array().value_unsafe();
  for (json::Element e : items) {
    if (e.is_string()) {
      w.String(UpgradedMarkingRef(e.get_string().value_unsafe()));
    } else {
      w.Value(e);
    }
  }
  w.EndArray();
}

void WriteGranularMarkings(json::JsonWriter& w, json::Element markings) {
  if (!markings.is_array()) {
    w.Value(markings);
    return;
  }
  w.BeginArray();
  json::Array items = markings.get_array().value_unsafe();
  for (json::Element g : items) {
    json::Object gm;
    if (g.get_object().get(gm) != simdjson::SUCCESS) {
      w.Value(g);
      continue;
    }
    w.BeginObject();
    for (auto field : gm) {
      w.Key(field.key);
      if (field.key == "marking_ref" && field.value.is_string()) {
        w.String(UpgradedMarkingRef(field.value.get_string().value_unsafe()));
      } else {
        w.Value(field.value);
      }
    }
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

bool IsStix20(json::Object object, std::string_view bundle_spec_version) {
  std::string_view spec, type;
  if (object["spec_version"].get_string().get(spec) == simdjson::SUCCESS) return spec == "2.0";
  if (bundle_spec_version == "2.0") return true;
  if (object["type"].get_string().get(type) != simdjson::SUCCESS) return false;
  return !stix::IsScoType(type);
}

Result<std::vector<std::string>> UpgradeStix20(json::Object object) {
  std::string_view type, id;
  if (object["type"].get_string().get(type) != simdjson::SUCCESS) {
    return InvalidArgument("invalid_stix20", "no string type");
  }
  if (object["id"].get_string().get(id) == simdjson::SUCCESS && type == "marking-definition") {
    if (const tlp::FixedMarking* m = Tlp2For(id)) {
      return std::vector<std::string>{std::string(m->canonical)};
    }
  }
  std::vector<std::string> out;
  RefMap refs;
  json::Object observables;
  bool has_observables = type == "observed-data" &&
                         object["objects"].get_object().get(observables) == simdjson::SUCCESS;
  // 2.1's object_refs is made from the 2.0 objects; an input with both would
  // name object_refs twice in the upgraded object (found by the fuzzer).
  if (has_observables && object["object_refs"].error() == simdjson::SUCCESS) {
    return InvalidArgument("invalid_stix20",
                           "observed-data has both objects and object_refs: keep one");
  }
  if (has_observables) CTIHUB_RETURN_IF_ERROR(ConvertObservables(observables, &refs, &out));
  std::string_view types_property = TypesPropertyFor(type);
  bool has_types = !types_property.empty() && object[types_property].error() == simdjson::SUCCESS;
  std::string text;
  json::JsonWriter w(text);
  w.BeginObject();
  for (auto field : object) {
    std::string_view key = field.key;
    if (key == "spec_version" || (has_observables && key == "objects")) continue;
    if (key == "labels" && !types_property.empty() && !has_types) {
      w.Key(types_property).Value(field.value);
    } else if (key == "object_marking_refs") {
      w.Key(key);
      WriteMarkingRefs(w, field.value);
    } else if (key == "granular_markings") {
      w.Key(key);
      WriteGranularMarkings(w, field.value);
    } else if (stix::IsScoType(type)) {
      bool drop = false;
      std::string_view name = RenamedScoProperty(type, key, &drop);
      if (!drop) w.Key(name).Value(field.value);
    } else {
      w.Key(key).Value(field.value);
    }
  }
  w.Key("spec_version").String("2.1");
  if (type == "malware" && object["is_family"].error() != simdjson::SUCCESS) {
    w.Key("is_family").Bool(true);
  }
  if (type == "indicator" && object["pattern_type"].error() != simdjson::SUCCESS) {
    w.Key("pattern_type").String("stix");
  }
  if (has_observables) {
    // Equal observables share a deterministic id: list each once.
    std::set<std::string_view> listed;
    w.Key("object_refs").BeginArray();
    for (const auto& [key, sco_id] : refs) {
      if (listed.insert(sco_id).second) w.String(sco_id);
    }
    w.EndArray();
  }
  w.EndObject();
  out.push_back(std::move(text));
  return out;
}

}  // namespace ctihub::formats
