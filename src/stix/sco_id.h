// Deterministic SCO identifiers (STIX 2.1 section 2.9): UUIDv5 in namespace
// 00abedb4-aa42-466c-9c01-fed23315a9b7 over the JCS of the type's
// ID-contributing properties. Thread-safe.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace ctihub::stix {

// Returns "type--uuid". An SCO with none of its ID-contributing properties, or
// of a type without any, gets a UUIDv4. InvalidArgument when `sco` is not an
// object with a string "type".
Result<std::string> DeterministicScoId(json::Element sco);

// The deterministic id of `sco` (of type `type`) into *id when at least one
// ID-contributing property is present; false otherwise (no id is made up).
bool DeterministicScoIdIfAny(json::Object sco, std::string_view type, std::string* id);

// The ID-contributing property names of an SCO type (empty for process and
// unknown types).
std::initializer_list<std::string_view> IdContributingProperties(std::string_view type);

}  // namespace ctihub::stix
