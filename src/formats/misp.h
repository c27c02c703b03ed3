// MISP event JSON -> STIX 2.1 (mapping table: docs/formats/misp.md). One
// event ({"Event": {...}} or the bare event object) becomes a `report` whose
// `object_refs` name everything made from it: attributes become SCOs (and an
// indicator with a STIX pattern where `to_ids` is true), MISP objects one
// indicator with a combined pattern over their attributes' SCOs, `tlp:*` and
// `PAP:*` tags markings (other tags labels), galaxy clusters the matching SDOs
// (threat-actor, intrusion-set, malware, tool, attack-pattern) with
// `indicates` relationships from the event's indicators, sightings `sighting`
// objects of the attribute's indicator. Ids come from the MISP uuids, so a
// re-import names the same objects. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ctihub::formats {

inline constexpr size_t kMaxMispAttributesPerEvent = 200000;  // "event_too_large"

struct MispIssue {
  std::string where;   // "attribute <uuid>", "object <uuid>", "galaxy cluster <uuid>"
  std::string name;    // stable: "unsupported_attribute_type", "malformed_object", ...
  std::string reason;  // for people: "name: message"
};

struct MispEventObjects {
  std::string event;                 // "event <uuid>"
  std::vector<std::string> objects;  // STIX 2.1 JSON texts, the report last
  std::vector<MispIssue> issues;     // parts not imported, with the reason
};

// `value` is {"Event": {...}} or an event object. InvalidArgument when it is
// no MISP event (no uuid, no info), LimitExceeded past the attribute limit.
Result<MispEventObjects> MispEventToStix(json::Element value);

// The pattern MispEventToStix gives the indicator of a to_ids attribute of
// `type` with `value` ("" for a type it does not map): how the MISP exporter
// recognises an indicator it can give back as that attribute.
std::string MispAttributePattern(std::string_view type, std::string_view value);

}  // namespace ctihub::formats
