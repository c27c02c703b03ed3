// Which top-level properties STIX 2.1 requires on each object type. The one
// table is the validator's (validate.cc): the sharing policy asks it before
// removing a property, so a redacted copy is never an invalid object.
// Thread-safe.
#pragma once

#include <string_view>

namespace ctihub::stix {

// True when STIX 2.1 requires `property` on objects of `type` (id, type and,
// except on SCOs, spec_version included). For types STIX does not define
// (custom objects) the properties every SDO requires, whether or not the
// object is one: removing them could only make it invalid.
bool IsRequiredProperty(std::string_view type, std::string_view property);

}  // namespace ctihub::stix
