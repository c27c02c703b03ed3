#include "pattern/parser.h"

#include <gtest/gtest.h>

#include "pattern/evaluator.h"

namespace ctihub::pattern {
namespace {

PatternOptions V20() {
  PatternOptions o;
  o.version = StixVersion::k20;
  return o;
}

TEST(PatternParser, PrecedenceOfObservationOperators) {
  auto r =
      ParsePattern("[a:b = 1] FOLLOWEDBY [a:c = 2] OR [a:d = 3] AND [a:e = 4] WITHIN 5 SECONDS");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const ObsExpr& root = *r->root;
  ASSERT_EQ(root.kind, ObsExpr::Kind::kFollowedBy);
  ASSERT_EQ(root.children.size(), 2u);
  const ObsExpr& orr = *root.children[1];
  ASSERT_EQ(orr.kind, ObsExpr::Kind::kOr);
  const ObsExpr& andd = *orr.children[1];
  ASSERT_EQ(andd.kind, ObsExpr::Kind::kAnd);
  EXPECT_EQ(andd.children[1]->kind, ObsExpr::Kind::kWithin);  // qualifiers bind tightest
  EXPECT_EQ(andd.children[1]->within_micros, 5000000);
}

TEST(PatternParser, ComparisonAndBindsTighterThanOr) {
  auto r = ParsePattern("[a:b = 1 OR a:c = 2 AND a:d = 3]");
  ASSERT_TRUE(r.ok());
  const CompExpr& c = *r->root->comparison;
  ASSERT_EQ(c.kind, CompExpr::Kind::kOr);
  EXPECT_EQ(c.children[1]->kind, CompExpr::Kind::kAnd);
}

TEST(PatternParser, PathsAndLiterals) {
  auto r = ParsePattern(
      "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.5 AND file:x[2] = 'it\\'s "
      "\\\\' "
      "AND file:y = b'AQID' AND file:z = h'0a0B' AND file:t = t'2016-02-29T12:00:00.5Z' AND file:n "
      "!= -3]");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const CompExpr& c = *r->root->comparison;
  ASSERT_EQ(c.children.size(), 6u);
  const auto& p = c.children[0]->path;
  EXPECT_EQ(p.type, "file");
  ASSERT_EQ(p.steps.size(), 5u);
  EXPECT_EQ(p.steps[1].key, "windows-pebinary-ext");
  EXPECT_EQ(p.steps[2].kind, PathStep::Kind::kKey);
  EXPECT_EQ(p.steps[3].kind, PathStep::Kind::kStar);
  EXPECT_EQ(c.children[1]->literal.bytes, "it's \\");
  EXPECT_EQ(c.children[2]->literal.bytes, std::string("\x01\x02\x03"));
  EXPECT_EQ(c.children[3]->literal.bytes, std::string("\x0a\x0b"));
  EXPECT_EQ(c.children[4]->literal.kind, LiteralKind::kTimestamp);
  EXPECT_EQ(c.children[5]->literal.i, -3);
}

TEST(PatternParser, SyntaxErrorsCarryPositionAndExpectation) {
  auto r = ParsePattern("[file:name = 'x' AND ]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("at position 21: expected an object path", 0), 0u)
      << r.status().message();
  r = ParsePattern("[file:name = 'x'");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at position 16"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("expected ']'"), std::string::npos);
}

TEST(PatternParser, SemanticErrors) {
  for (const char* p :
       {"[a:b IN 'x']", "[a:b ISSUBSET 'nope']", "[a:b = 1] REPEATS 0 TIMES",
        "[a:b = 1] WITHIN 0 SECONDS", "[a:b = 1] REPEATS 2 TIMES REPEATS 0 TIMES",
        "[file:hashes.'SHA-1' = 'abc']", "[a:b = t'2019-02-29T00:00:00Z']", "[a:b = b'A']",
        "[a:b = h'abc']", "[a:b MATCHES '*']", "[a:b IN (1, 'x')]"}) {
    auto r = ParsePattern(p);
    EXPECT_FALSE(r.ok()) << p;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << p;
    }
  }
}

TEST(PatternParser, Stix20Differences) {
  EXPECT_TRUE(
      ParsePattern("[a:b = 1] START '2020-01-01T00:00:00Z' STOP '2020-01-02T00:00:00Z'", V20())
          .ok());
  EXPECT_TRUE(
      ParsePattern("[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'", V20())
          .ok());
  EXPECT_FALSE(
      ParsePattern("[a:b = 1] START '2020-01-01T00:00:00Z' STOP '2020-01-02T00:00:00Z'").ok());
  EXPECT_FALSE(ParsePattern("[EXISTS a:b]", V20()).ok());
  EXPECT_TRUE(ParsePattern("[EXISTS a:b]").ok());
}

TEST(PatternParser, StrictWarnsOnCustomTypes) {
  PatternOptions o;
  o.strict = true;
  auto r = ParsePattern("[x-acme:a = 1 AND file:name = 'x']", o);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(r->warnings.size(), 2u);  // unknown type + AND across types
  auto r2 = ParsePattern("[x-acme:a = 1]");
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->warnings.empty());
}

TEST(PatternParser, NestingLimit) {
  std::string p =
      std::string(kMaxNesting + 5, '(') + "[a:b = 1]" + std::string(kMaxNesting + 5, ')');
  auto r = ParsePattern(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kLimitExceeded);
  std::string q =
      "[" + std::string(kMaxNesting + 5, '(') + "a:b = 1" + std::string(kMaxNesting + 5, ')') + "]";
  EXPECT_EQ(ParsePattern(q).status().code(), ErrorCode::kLimitExceeded);
}

TEST(PatternParser, LengthLimit) {
  std::string p = "[a:b = '" + std::string(kMaxPatternBytes, 'x') + "']";
  EXPECT_EQ(ParsePattern(p).status().code(), ErrorCode::kLimitExceeded);
}

// ISSUBSET/ISSUPERSET literals go through the one IP parser (core/net.h):
// octets with leading zeros are not addresses (inet_pton rejects them).
TEST(PatternParser, SubsetLiteralsUseTheOneIpParser) {
  EXPECT_TRUE(ParsePattern("[ipv4-addr:value ISSUBSET '10.0.0.0/8']").ok());
  EXPECT_FALSE(ParsePattern("[ipv4-addr:value ISSUBSET '010.0.0.0/8']").ok());
  EXPECT_FALSE(ParsePattern("[ipv6-addr:value ISSUBSET '1:::::::::::..']").ok());
}

}  // namespace
}  // namespace ctihub::pattern

namespace ctihub::pattern {
namespace {

// The reference validator rejects one qualifier type twice directly on a
// bracketed expression and accepts it on a parenthesised group; the reference
// matcher evaluates both (STIX 2.1 section 9, Pattern Qualifiers).
TEST(PatternParser, StackedQualifiersFollowTheReference) {
  const char* on_brackets = "[a:b = 1] WITHIN 1 SECONDS REPEATS 2 TIMES WITHIN 2 SECONDS";
  auto r = ParsePattern(on_brackets);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at position 43: duplicate qualifier type WITHIN"),
            std::string::npos)
      << r.status().message();
  PatternOptions evaluate;
  evaluate.stacked_qualifiers_on_brackets = true;
  EXPECT_TRUE(ParsePattern(on_brackets, evaluate).ok());
  EXPECT_TRUE(CompiledPattern::Compile(on_brackets).ok());
  EXPECT_TRUE(ParsePattern("([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS").ok());
  EXPECT_TRUE(ParsePattern("[a:b = 1] REPEATS 2 TIMES WITHIN 5 SECONDS").ok());
}

}  // namespace
}  // namespace ctihub::pattern
