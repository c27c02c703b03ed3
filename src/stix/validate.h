// STIX 2.1 object validation (OASIS STIX 2.1, 2021): common properties, every
// SDO, SRO, SCO, marking-definition, language-content and extension-definition.
// A broken MUST is an error; a broken SHOULD is a warning (strict mode turns
// warnings into errors). Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace ctihub::stix {

struct Issue {
  std::string path;     // JSON path of the property, e.g. "$.external_references[0].url"
  std::string message;  // the rule broken
};

struct Report {
  std::string id;    // empty when the object has no string id
  std::string type;  // empty when the object has no string type
  bool has_id = false;
  bool has_type = false;
  bool is_stix20 = false;  // recognised as STIX 2.0 content (reported as an error)
  std::vector<Issue> errors;
  std::vector<Issue> warnings;

  bool valid(bool strict = false) const { return errors.empty() && (!strict || warnings.empty()); }
};

struct ValidateOptions {
  bool strict = false;  // warnings count as errors in valid(); also reported as such
  // The enclosing bundle's spec_version, if any ("2.0" marks its objects as STIX 2.0).
  std::string_view bundle_spec_version;
};

// Validates one STIX object (a JSON object). Never fails: problems are in the report.
Report Validate(json::Element object, const ValidateOptions& options = {});

// True for the 18 STIX 2.1 SCO types (and custom types declared as SCOs are not known here).
bool IsScoType(std::string_view type);

}  // namespace ctihub::stix
