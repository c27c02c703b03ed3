// Hand-written parser and validator for STIX patterns. Thread-safe (no shared
// state). Named limits guard against hostile input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "pattern/ast.h"
#include "pattern/pattern.h"

namespace ctihub::pattern {

// Limits on untrusted pattern text; each rejection is LimitExceeded.
constexpr size_t kMaxPatternBytes = size_t{256} * 1024;  // "pattern_too_long"
constexpr int kMaxNesting = 64;                          // "pattern_too_deep": brackets/parentheses
constexpr size_t kMaxNodes = 100000;                     // "pattern_too_large": AST nodes
constexpr size_t kMaxChainOperands =
    1000;  // "pattern_too_large": operands of one AND/FOLLOWEDBY chain

struct ParsedPattern {
  std::unique_ptr<ObsExpr> root;
  std::vector<std::string> warnings;  // --strict findings (unknown object types, ...)
};

// Parses and validates. Errors: InvalidArgument "at position N: ..." (byte
// offset, 0-based) for syntax and semantic errors; LimitExceeded for limits.
Result<ParsedPattern> ParsePattern(std::string_view text, const PatternOptions& options = {});

}  // namespace ctihub::pattern
