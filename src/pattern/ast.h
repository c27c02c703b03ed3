// Abstract syntax tree of a STIX pattern (STIX 2.1 section 9; STIX 2.0 part 5).
// Produced by ParsePattern() (parser.h), consumed by the evaluator. Plain value
// types; immutable after parsing, safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/timestamp.h"

namespace ctihub::pattern {

enum class LiteralKind { kString, kInt, kFloat, kBool, kBinary, kTimestamp };

struct Literal {
  LiteralKind kind = LiteralKind::kString;
  std::string bytes;  // kString: UTF-8 text (unescaped); kBinary: raw bytes (b'' or h'')
  int64_t i = 0;
  double d = 0;
  bool b = false;
  Timestamp ts;
  size_t pos = 0;  // byte offset in the pattern text
};

struct PathStep {
  enum class Kind { kKey, kIndex, kStar };
  Kind kind = Kind::kKey;
  std::string key;
  int64_t index = 0;
};

struct ObjectPath {
  std::string type;
  std::vector<PathStep> steps;  // at least one (the first component is a key)
};

enum class CmpOp {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kLike,
  kMatches,
  kIsSubset,
  kIsSuperset,
  kExists
};

// A comparison expression: a tree of AND / OR over property tests.
struct CompExpr {
  enum class Kind { kAnd, kOr, kTest };
  Kind kind = Kind::kTest;
  std::vector<std::unique_ptr<CompExpr>> children;  // kAnd / kOr (two or more)
  // kTest:
  ObjectPath path;
  CmpOp op = CmpOp::kEq;
  bool negated = false;      // NOT before the operator
  Literal literal;           // all operators but IN and EXISTS
  std::vector<Literal> set;  // IN
  size_t pos = 0;
};

// An observation expression: brackets, observation operators and qualifiers.
struct ObsExpr {
  enum class Kind { kLeaf, kAnd, kOr, kFollowedBy, kWithin, kRepeats, kStartStop };
  Kind kind = Kind::kLeaf;
  std::vector<std::unique_ptr<ObsExpr>>
      children;                          // operators: 2+ (n-ary, left to right); qualifiers: 1
  std::unique_ptr<CompExpr> comparison;  // kLeaf
  int64_t within_micros = 0;             // kWithin
  int64_t repeats = 0;                   // kRepeats
  Timestamp start, stop;                 // kStartStop
  size_t pos = 0;
};

}  // namespace ctihub::pattern
