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
  // Accept one qualifier type twice directly on a bracketed expression
  // (`[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES`): the reference matcher
  // evaluates it, the reference validator rejects it. CompiledPattern::Compile
  // sets it; validation leaves it off.
  bool stacked_qualifiers_on_brackets = false;
};

// Parses and validates a pattern. InvalidArgument with "at position N: ..." on failure.
Status ValidatePattern(std::string_view pattern, const PatternOptions& options = {});

}  // namespace ctihub::pattern
