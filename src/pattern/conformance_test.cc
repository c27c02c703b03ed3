// Data-driven cases: tests/pattern/*.jsonl run through the batch protocol the
// CLI uses (pattern/batch.h). Each match case carries "expect" (and optionally
// "bindings"); each validate case carries "expect": "valid" | "invalid".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "pattern/batch.h"

namespace ctihub::pattern {
namespace {

std::vector<std::string> ReadLines(const std::string& name) {
  std::ifstream in(std::string(CTIHUB_PATTERN_CASES_DIR) + "/" + name);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l))
    if (!l.empty()) lines.push_back(l);
  return lines;
}

std::string Field(json::Element e, const char* key) {
  std::string_view s;
  if (e.get_object().value_unsafe().at_key(key).get(s) != simdjson::SUCCESS) return "";
  return std::string(s);
}

std::string BindingsOf(json::Element e) {
  json::Element b;
  if (e.get_object().value_unsafe().at_key("bindings").get(b) != simdjson::SUCCESS) return "-";
  return json::CanonicalJson(b);
}

TEST(PatternConformance, MatchCases) {
  auto lines = ReadLines("match_cases.jsonl");
  ASSERT_GT(lines.size(), 50u);
  json::JsonParser cases, out;
  BatchRunner runner(BatchMode::kMatch);
  for (const auto& line : lines) {
    std::string got = runner.Answer(line);
    auto c = cases.Parse(line);
    ASSERT_TRUE(c.ok());
    auto g = out.Parse(got);
    ASSERT_TRUE(g.ok()) << got;
    std::string id = Field(*c, "id");
    EXPECT_NE(Field(*c, "spec"), "")
        << id << ": every case names the part of the specification it pins";
    EXPECT_EQ(Field(*g, "id"), id);
    EXPECT_EQ(Field(*g, "result"), Field(*c, "expect")) << id << ": " << got;
    std::string want_b = BindingsOf(*c);
    if (want_b != "-") {
      EXPECT_EQ(BindingsOf(*g), want_b) << id;
    }
  }
}

TEST(PatternConformance, ValidateCases) {
  auto lines = ReadLines("validate_cases.jsonl");
  ASSERT_GT(lines.size(), 40u);
  json::JsonParser cases, out;
  BatchRunner runner(BatchMode::kValidate);
  for (const auto& line : lines) {
    std::string got = runner.Answer(line);
    auto c = cases.Parse(line);
    ASSERT_TRUE(c.ok());
    auto g = out.Parse(got);
    ASSERT_TRUE(g.ok()) << got;
    EXPECT_NE(Field(*c, "spec"), "")
        << Field(*c, "id") << ": every case names the part of the specification it pins";
    EXPECT_EQ(Field(*g, "result"), Field(*c, "expect"))
        << Field(*c, "id") << " " << Field(*c, "pattern") << " -> " << got;
  }
}

TEST(PatternConformance, BadBatchLinesGetAnAnswer) {
  BatchRunner m(BatchMode::kMatch), v(BatchMode::kValidate);
  EXPECT_NE(m.Answer("not json").find("\"result\":\"error\""), std::string::npos);
  EXPECT_NE(m.Answer(R"({"id":"a","pattern":"[a:b = 1]"})").find("\"error\""), std::string::npos);
  EXPECT_NE(m.Answer(R"({"id":"a","pattern":"[a:b = 1]","observed":[1]})").find("\"error\""),
            std::string::npos);
  EXPECT_NE(m.Answer(R"({"id":"a","pattern":"[a:b = 1]","stix_version":"3.0","observed":[]})")
                .find("\"error\""),
            std::string::npos);
  std::string ok = m.Answer(R"({"id":"x","pattern":"[a:b = 1]","observed":[],"extra":{"y":1}})");
  EXPECT_NE(ok.find("\"nomatch\""), std::string::npos) << ok;
  EXPECT_NE(v.Answer("{").find("\"invalid\""), std::string::npos);
}

}  // namespace
}  // namespace ctihub::pattern
