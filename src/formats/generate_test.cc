#include "formats/generate.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "stix/validate.h"

namespace ctihub::formats {
namespace {

GenerateOptions Options(std::string producer = "cert-a") {
  GenerateOptions o;
  o.producer = std::move(producer);
  o.now = *Timestamp::Parse("2026-01-02T03:04:05.678Z");
  return o;
}

// Every generated object is valid STIX 2.1.
void ExpectValid(const std::string& text) {
  json::JsonParser parser;
  auto el = parser.Parse(text);
  ASSERT_TRUE(el.ok()) << text;
  stix::Report r = stix::Validate(*el);
  EXPECT_TRUE(r.valid()) << text << ": " << (r.errors.empty() ? "" : r.errors[0].message);
}

TEST(GenerateTest, IocBecomesScoAndIndicator) {
  auto objs = IocObjects({IocType::kIpv4, "203.0.113.7"}, Options());
  ASSERT_TRUE(objs.ok());
  ASSERT_EQ(objs->size(), 2u);
  // The deterministic id of {"value":"203.0.113.7"} (STIX 2.1 section 2.9).
  EXPECT_NE((*objs)[0].find("\"id\":\"ipv4-addr--"), std::string::npos);
  EXPECT_NE((*objs)[1].find("[ipv4-addr:value = '203.0.113.7']"), std::string::npos);
  for (const auto& o : *objs) ExpectValid(o);
}

TEST(GenerateTest, SameValueSameIdsOtherProducerOtherIndicator) {
  auto a = IocObjects({IocType::kDomain, "evil.com"}, Options());
  auto b = IocObjects({IocType::kDomain, "evil.com"}, Options());
  auto c = IocObjects({IocType::kDomain, "evil.com"}, Options("police-b"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ((*a)[0], (*c)[0]);  // the SCO is the same for everyone
  EXPECT_NE((*a)[1], (*c)[1]);  // the indicator is the producer's own
}

TEST(GenerateTest, CidrUsesIsSubsetAndHashesQuoteTheirName) {
  auto cidr = IocObjects({IocType::kIpv4, "10.0.0.0/8"}, Options());
  ASSERT_TRUE(cidr.ok());
  EXPECT_NE((*cidr)[1].find("ISSUBSET '10.0.0.0/8'"), std::string::npos);
  std::string sha256(64, 'a');
  auto file = IocObjects({IocType::kSha256, sha256}, Options());
  ASSERT_TRUE(file.ok());
  EXPECT_NE((*file)[0].find("\"hashes\":{\"SHA-256\":\"" + sha256 + "\"}"), std::string::npos);
  EXPECT_NE((*file)[1].find("[file:hashes.'SHA-256' = '" + sha256 + "']"), std::string::npos);
  for (const auto& o : *cidr) ExpectValid(o);
  for (const auto& o : *file) ExpectValid(o);
}

TEST(GenerateTest, CveBecomesVulnerability) {
  auto objs = IocObjects({IocType::kCve, "CVE-2021-44228"}, Options());
  ASSERT_TRUE(objs.ok());
  ASSERT_EQ(objs->size(), 1u);
  EXPECT_NE((*objs)[0].find("\"external_id\":\"CVE-2021-44228\""), std::string::npos);
  ExpectValid((*objs)[0]);
}

TEST(GenerateTest, PatternEscapesQuotes) {
  EXPECT_EQ(ComparisonPattern("url", {{"value", "http://a.com/it's\\x"}}),
            "[url:value = 'http://a.com/it\\'s\\\\x']");
}

TEST(GenerateTest, MalformedPathsAreErrors) {
  EXPECT_FALSE(MakeSco("file", {{"hashes.", "x"}}).ok());
  EXPECT_FALSE(MakeSco("file", {{"hashes.'SHA-256", "x"}}).ok());
  EXPECT_FALSE(MakeSco("file", {{"name", "a"}, {"name", "b"}}).ok());
  EXPECT_FALSE(MakeSco("file", {{"name", "a"}, {"name.x", "b"}}).ok());
  EXPECT_FALSE(MakeSco("file", {{"id", "file--x"}}).ok());
  // `ctihub import` counts rejections by name (issue 12 item 17).
  EXPECT_EQ(MakeSco("file", {{"id", "file--x"}}).status().name(), "bad_object_path");
  EXPECT_EQ(MakeSco("file", {{"name", "a"}, {"name", "b"}}).status().name(), "bad_object_path");
}

}  // namespace
}  // namespace ctihub::formats
