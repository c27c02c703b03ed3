#include "stix/bundle_check.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace ctihub::stix {
namespace {

std::string Tool(int n, std::string_view modified) {
  char id[64];
  std::snprintf(id, sizeof id, "tool--6ba7b810-9dad-41d1-80b4-%012d", n);
  return std::string(R"({"type":"tool","id":")") + id + R"(","modified":")" +
         std::string(modified) + R"("})";
}

// Many versions (the set grows several times): only the true repeats are reported.
TEST(BundleCheckTest, RepeatedVersionsAmongMany) {
  std::string text =
      R"({"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[)";
  for (int i = 0; i < 5000; ++i) {
    if (i) text += ",";
    text += Tool(i, "2016-04-06T20:03:48.000Z") + "," + Tool(i, "2017-04-06T20:03:48.000Z");
  }
  text += "," + Tool(4321, "2017-04-06T20:03:48.000Z") + "]}";
  BundleReader reader{std::string_view(text)};
  BundleCheck check;
  json::JsonParser parser;
  for (;;) {
    auto next = reader.Next();
    ASSERT_TRUE(next.ok());
    if (next->empty()) break;
    auto parsed = parser.Parse(*next);
    ASSERT_TRUE(parsed.ok());
    check.AddObject(*parsed);
  }
  Report r = check.Finish(reader, {});
  EXPECT_TRUE(r.errors.empty());
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].message.find("tool--6ba7b810-9dad-41d1-80b4-000000004321"),
            std::string::npos);
  EXPECT_EQ(r.id, "bundle--44af6c39-c09b-49c5-9de2-394224b04982");
}

TEST(BundleCheckTest, NotABundleHasNoReport) {
  std::string text = Tool(1, "2016-04-06T20:03:48.000Z");
  BundleReader reader{std::string_view(text)};
  while (true) {
    auto next = reader.Next();
    ASSERT_TRUE(next.ok());
    if (next->empty()) break;
  }
  Report r = BundleCheck().Finish(reader, {});
  EXPECT_FALSE(r.has_type);
  EXPECT_TRUE(r.errors.empty() && r.warnings.empty());
}

}  // namespace
}  // namespace ctihub::stix
