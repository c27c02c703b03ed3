#include "formats/stix20_upgrade.h"

#include <gtest/gtest.h>

#include "core/tlp.h"
#include "stix/validate.h"

namespace ctihub::formats {
namespace {

constexpr const char* kTlp1Amber = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";
constexpr const char* kTlp1White = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";

// Upgrades `text` and checks that every result is valid STIX 2.1.
std::vector<std::string> Upgrade(const std::string& text) {
  json::JsonParser parser;
  auto el = parser.Parse(text);
  EXPECT_TRUE(el.ok());
  if (!el.ok()) return {};
  json::Object obj = el->get_object().value();
  EXPECT_TRUE(IsStix20(obj, ""));
  auto out = UpgradeStix20(obj);
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  for (const std::string& o : *out) {
    json::JsonParser p;
    auto parsed = p.Parse(o);
    EXPECT_TRUE(parsed.ok()) << o;
    if (!parsed.ok()) continue;
    stix::Report r = stix::Validate(*parsed);
    EXPECT_TRUE(r.valid()) << o << "\n"
                           << (r.errors.empty() ? ""
                                                : r.errors[0].path + ": " + r.errors[0].message);
  }
  return *out;
}

TEST(Stix20UpgradeTest, IndicatorLabelsBecomeTypesAndTlp1Becomes2) {
  auto out = Upgrade(
      std::string(R"({"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
    "labels":["malicious-activity"],"pattern":"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "valid_from":"2016-01-01T00:00:00Z","object_marking_refs":[")") +
      kTlp1Amber + R"("]})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("\"indicator_types\":[\"malicious-activity\"]"), std::string::npos);
  EXPECT_EQ(out[0].find("\"labels\""), std::string::npos);
  EXPECT_NE(out[0].find("\"pattern_type\":\"stix\""), std::string::npos);
  EXPECT_NE(out[0].find("\"spec_version\":\"2.1\""), std::string::npos);
  EXPECT_EQ(out[0].find(kTlp1Amber), std::string::npos);
  const tlp::FixedMarking* amber2 = nullptr;
  for (const auto& m : tlp::FixedMarkings()) {
    if (m.tlp_version == 2 && m.level == "amber") amber2 = &m;
  }
  ASSERT_NE(amber2, nullptr);
  EXPECT_NE(out[0].find(amber2->id), std::string::npos);
}

TEST(Stix20UpgradeTest, MalwareGetsTypesAndIsFamily) {
  auto out = Upgrade(R"({"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
    "created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z",
    "name":"Poison Ivy","labels":["remote-access-trojan"]})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("\"malware_types\":[\"remote-access-trojan\"]"), std::string::npos);
  EXPECT_NE(out[0].find("\"is_family\":true"), std::string::npos);
}

// Found by the fuzzer: the upgraded object named object_refs twice (the
// input's and the one made from objects), which no JSON reader accepts.
TEST(Stix20UpgradeTest, ObservedDataWithObjectsAndObjectRefsIsRefused) {
  json::JsonParser parser;
  auto el = parser.Parse(std::string_view(
      R"({"type":"observed-data","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
    "created":"2016-04-06T19:58:16.000Z","object_refs":1,
    "objects":{"0":{"type":"ipv4-addr","value":"198.51.100.3"}}})"));
  ASSERT_TRUE(el.ok());
  json::Object obj;
  ASSERT_EQ(el->get_object().get(obj), simdjson::SUCCESS);
  auto out = UpgradeStix20(obj);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("both objects and object_refs"), std::string::npos);
}

TEST(Stix20UpgradeTest, ObservedDataObjectsBecomeScosWithResolvedRefs) {
  auto out =
      Upgrade(R"({"type":"observed-data","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
    "created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z",
    "first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":1,
    "objects":{"0":{"type":"ipv4-addr","value":"198.51.100.3"},
               "1":{"type":"network-traffic","src_ref":"0","dst_ref":"2","protocols":["tcp"]},
               "2":{"type":"ipv4-addr","value":"203.0.113.5"},
               "3":{"type":"file","name":"a.exe","created":"2016-01-01T00:00:00Z","is_encrypted":false}}})");
  ASSERT_EQ(out.size(), 5u);
  // The traffic comes after the addresses it references, with their ids.
  std::string traffic;
  for (const auto& o : out) {
    if (o.find("network-traffic--") != std::string::npos &&
        o.find("\"type\":\"network-traffic\"") != std::string::npos)
      traffic = o;
  }
  ASSERT_FALSE(traffic.empty());
  EXPECT_NE(traffic.find("\"src_ref\":\"ipv4-addr--"), std::string::npos);
  std::string file;
  for (const auto& o : out) {
    if (o.find("\"type\":\"file\"") != std::string::npos) file = o;
  }
  EXPECT_NE(file.find("\"ctime\":\"2016-01-01T00:00:00Z\""), std::string::npos);
  EXPECT_EQ(file.find("is_encrypted"), std::string::npos);
  EXPECT_NE(out[4].find("\"object_refs\":[\""), std::string::npos);
  EXPECT_EQ(out[4].find("\"objects\""), std::string::npos);
}

TEST(Stix20UpgradeTest, Tlp1DefinitionBecomesTheTlp2One) {
  auto out = Upgrade(
      std::string(R"({"type":"marking-definition","id":")") + kTlp1White +
      R"(","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"white"}})");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("\"name\":\"TLP:CLEAR\""), std::string::npos);
}

TEST(Stix20UpgradeTest, DanglingAndCyclicRefsAreRejected) {
  json::JsonParser parser;
  for (
      const char* text :
      {R"({"type":"observed-data","objects":{"0":{"type":"network-traffic","src_ref":"9"}}})",
       R"({"type":"observed-data","objects":{"0":{"type":"x-a","b_ref":"1"},"1":{"type":"x-b","a_ref":"0"}}})",
       R"({"type":"observed-data","objects":{"0":"not an object"}})"}) {
    auto el = parser.Parse(text);
    ASSERT_TRUE(el.ok());
    auto out = UpgradeStix20(el->get_object().value());
    EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument) << text;
  }
}

// `ctihub import` counts rejections by these names (issue 12 item 17): they are stable.
TEST(Stix20UpgradeTest, RejectionsHaveStableNames) {
  json::JsonParser parser;
  struct Case {
    const char* text;
    std::string_view name;
  } cases[] = {
      {R"({"type":"observed-data","objects":{"0":{"type":"network-traffic","src_ref":"9"}}})",
       "unresolved_observable_ref"},
      {R"({"type":"observed-data","objects":{"0":"not an object"}})", "malformed_observable"},
      {R"({"id":"x"})", "invalid_stix20"},
  };
  for (const Case& c : cases) {
    auto el = parser.Parse(c.text);
    ASSERT_TRUE(el.ok());
    auto out = UpgradeStix20(el->get_object().value());
    ASSERT_FALSE(out.ok()) << c.text;
    EXPECT_EQ(out.status().name(), c.name) << c.text;
  }
}

TEST(Stix20UpgradeTest, DetectsVersions) {
  json::JsonParser parser;
  auto sdo21 = parser.Parse(R"({"type":"malware","spec_version":"2.1"})");
  EXPECT_FALSE(IsStix20(sdo21->get_object().value(), ""));
  auto sco = parser.Parse(R"({"type":"ipv4-addr","value":"1.2.3.4"})");
  EXPECT_FALSE(IsStix20(sco->get_object().value(), ""));
  EXPECT_TRUE(IsStix20(sco->get_object().value(), "2.0"));
}

}  // namespace
}  // namespace ctihub::formats
