// STIX Patterning (STIX 2.1 section 9; STIX 2.0 grammar with StixVersion::k20):
// public entry points used by the rest of the hub. Thread-safe functions;
// a CompiledPattern is immutable after compilation and may be shared.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub::pattern {

enum class StixVersion { k20, k21 };

struct PatternOptions {
  StixVersion version = StixVersion::k21;
  bool strict = false;  // unknown object types become warnings
};

// Parses and validates a pattern. InvalidArgument with "at position N: ..." on failure.
Status ValidatePattern(std::string_view pattern, const PatternOptions& options = {});

}  // namespace ctihub::pattern
