// STIX 2.0 -> 2.1 upgrade, following the 2.1 specification's list of changes:
// `spec_version` added; `labels` of indicator, malware, report, threat-actor
// and tool become `indicator_types` etc.; malware gets `is_family` (true),
// indicators `pattern_type` ("stix"); observed-data's `objects` become SCOs
// with deterministic ids referenced by `object_refs` (their internal "0"/"1"
// references resolved to those ids); 2.0-only SCO properties renamed
// (file/directory created/modified/accessed -> ctime/mtime/atime, process
// created -> created_time and binary_ref -> image_ref, windows-registry-key
// modified -> modified_time, user-account password_last_changed ->
// credential_last_changed) or removed (file is_encrypted,
// encryption_algorithm, decryption_key; process name, arguments, is_hidden);
// TLP 1.0 marking references and definitions become TLP 2.0. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ctihub::formats {

// Limits on one observed-data's `objects` ("too_many_observables").
inline constexpr size_t kMaxObservablesPerObservedData = 10000;

// True for STIX 2.0 content: spec_version "2.0", or no spec_version on an
// object that is not an SCO (2.1 requires it there), or no spec_version in a
// bundle whose own spec_version is "2.0".
bool IsStix20(json::Object object, std::string_view bundle_spec_version);

// The STIX 2.1 objects for one 2.0 object: the SCOs made from an
// observed-data's `objects` first, then the object itself. InvalidArgument
// with a reason for content that cannot be upgraded (dangling or cyclic
// observable references, an observable without a type, ...).
Result<std::vector<std::string>> UpgradeStix20(json::Object object);

}  // namespace ctihub::formats
