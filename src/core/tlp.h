// The fixed TLP marking definitions: TLP 1.0 (STIX 2.1 section 7.2.1.4) and
// TLP 2.0 (OASIS cti-stix-common-objects, FIRST TLP 2.0). Their content is
// fixed by the standards: an object carrying one of these ids with any other
// content is a forgery (e.g. TLP:RED's id named TLP:CLEAR). The one copy of
// their ids and content in ctihub; constant data, thread-safe.
#pragma once

#include <array>
#include <string_view>

namespace ctihub::tlp {

struct FixedMarking {
  std::string_view id;
  std::string_view
      level;  // "white", "green", "amber", "red" (1.0); "clear", ..., "amber+strict", "red" (2.0)
  int tlp_version;  // 1 or 2
  // The object in RFC 8785 canonical form (what CanonicalJson of a genuine copy yields).
  std::string_view canonical;
  // TLP 1.0 only: the canonical form without "name" (the property was added
  // in STIX 2.1; copies made from STIX 2.0 content lack it). Empty for 2.0.
  std::string_view canonical_without_name;
};

const std::array<FixedMarking, 9>& FixedMarkings();

// The fixed marking with this id, or nullptr.
const FixedMarking* FindFixedMarking(std::string_view marking_definition_id);

}  // namespace ctihub::tlp
