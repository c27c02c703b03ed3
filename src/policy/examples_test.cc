// docs/examples/vendor-police: the README's "who sees what" table, asserted.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/json.h"
#include "policy/policy.h"

#ifndef CTIHUB_EXAMPLES_DIR
#error "CTIHUB_EXAMPLES_DIR must point at docs/examples"
#endif

namespace ctihub::policy {
namespace {

constexpr const char* kVendor = "identity--de2243c4-7020-40df-9b10-2fa9d30fafa9";
constexpr const char* kIpo = "identity--9a610f91-af26-418b-b1a2-56cf3014944f";
constexpr const char* kUnitFr = "identity--2ba746f5-ba3f-4e0d-a5b0-4d3e47c97a70";
constexpr const char* kClear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
constexpr const char* kGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
constexpr const char* kAmber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
constexpr const char* kRed = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

std::string Obj(const std::string& type, const char* producer, const char* tlp,
                const std::string& body) {
  return R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + type +
         R"(--55555555-5555-4555-8555-555555555555","created":"2026-03-01T00:00:00Z","modified":"2026-03-01T00:00:00Z",)"
         R"("created_by_ref":")" +
         producer + R"(","object_marking_refs":[")" + tlp + "\"]," + body + "}";
}
const std::string kPattern =
    R"("pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z")";

class VendorPolice : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string path = std::string(CTIHUB_EXAMPLES_DIR) + "/vendor-police/policy.toml";
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::stringstream ss;
    ss << in.rdbuf();
    auto m = ParsePolicyToml(ss.str(), path);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    policy_ = std::make_unique<Policy>(std::move(*m));
  }
  // "serve", "redacted" or "withhold" for an organisation ("" = anonymous).
  std::string See(const char* org, const std::string& object,
                  const char* collection = "vendor-feed",
                  const char* now = "2026-06-01T00:00:00Z") {
    auto e = parser_.Parse(object);
    EXPECT_TRUE(e.ok()) << object;
    Reader r;
    r.anonymous = *org == '\0';
    r.org = org;
    last_ = policy_->DecideJson(r, *e, policy_->CollectionFor(collection), *Timestamp::Parse(now));
    return last_.verdict == Verdict::kServe           ? "serve"
           : last_.verdict == Verdict::kServeRedacted ? "redacted"
                                                      : "withhold";
  }
  std::unique_ptr<Policy> policy_;
  json::JsonParser parser_;
  Decision last_;
};

TEST_F(VendorPolice, WhoSeesWhat) {
  // 1. AMBER indicator with personal data.
  std::string o1 =
      Obj("indicator", kVendor, kAmber, kPattern + R"(,"x_personal_data":{"registrant":"J. Doe"})");
  EXPECT_EQ(See("secvendor", o1), "serve");
  EXPECT_EQ(See("ipo", o1), "redacted");
  EXPECT_EQ(last_.redacted_json.find(R"("x_personal_data":)"), std::string::npos);
  EXPECT_EQ(See("unit-fr", o1), "withhold");
  // 2. GREEN indicator: the units get it through the re-share chain.
  std::string o2 = Obj("indicator", kVendor, kGreen, kPattern);
  EXPECT_EQ(See("ipo", o2), "serve");
  EXPECT_EQ(See("unit-de", o2), "serve");
  EXPECT_EQ(last_.via, "reshare:secvendor-to-ipo>ipo-to-units");
  // 3. AMBER threat actor: aliases and personal characteristics stripped.
  std::string o3 = Obj(
      "threat-actor", kVendor, kAmber,
      R"("name":"FIN-X","aliases":["john.doe"],"personal_characteristics":["speaks fr"],"goals":["money"])");
  EXPECT_EQ(See("ipo", o3), "redacted");
  EXPECT_EQ(last_.redacted_json.find(R"("aliases":)"), std::string::npos);
  EXPECT_EQ(last_.redacted_json.find(R"("personal_characteristics":)"), std::string::npos);
  EXPECT_NE(last_.redacted_json.find("goals"), std::string::npos);
  // 4. Personal-data SCO: withheld from everyone but the vendor.
  std::string o4 = Obj("email-addr", kVendor, kAmber, R"("value":"j.doe@example.org")");
  EXPECT_EQ(See("ipo", o4), "withhold");
  EXPECT_EQ(See("unit-fr", o4), "withhold");
  EXPECT_EQ(See("secvendor", o4), "serve");
  // 5. RED report naming the IPO.
  std::string o5 = Obj(
      "report", kVendor, kRed,
      std::string(
          R"("name":"r","published":"2026-03-01T00:00:00Z","object_refs":["indicator--55555555-5555-4555-8555-555555555555"],)") +
          R"("extensions":{"extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2":{"extension_type":"property-extension","recipient_orgs":[")" +
          kIpo + R"("]}})");
  EXPECT_EQ(See("ipo", o5), "serve");
  EXPECT_EQ(last_.via, "named");
  EXPECT_EQ(See("unit-fr", o5), "withhold");
  // 6. AMBER indicator with a RED granular description.
  std::string o6 = Obj(
      "indicator", kVendor, kAmber,
      kPattern + R"(,"description":"source: informant 7","granular_markings":[{"marking_ref":")" +
          kRed + R"(","selectors":["description"]}])");
  EXPECT_EQ(See("ipo", o6), "redacted");
  EXPECT_EQ(last_.redacted_json.find("informant"), std::string::npos);
  // 7. A unit's AMBER sighting: the IPO and (via re-share) the vendor, not the other units.
  std::string o7 =
      Obj("sighting", kUnitFr, kAmber,
          R"("sighting_of_ref":"indicator--55555555-5555-4555-8555-555555555555","count":3)");
  EXPECT_EQ(See("unit-fr", o7), "serve");
  EXPECT_EQ(See("ipo", o7), "serve");
  EXPECT_EQ(See("secvendor", o7), "serve");
  EXPECT_EQ(last_.via, "reshare:units-to-ipo>ipo-to-secvendor-feedback");
  EXPECT_EQ(See("unit-de", o7), "withhold");
  // 8. CLEAR advisory: anonymous readers too, on the public collection only.
  std::string o8 = Obj("indicator", kVendor, kClear, kPattern);
  EXPECT_EQ(See("", o8, "advisories"), "serve");
  EXPECT_EQ(See("", o8, "vendor-feed"), "withhold");
  // 9. After the vendor agreement expires, nothing of the vendor's flows (except CLEAR).
  EXPECT_EQ(See("ipo", o2, "vendor-feed", "2027-01-01T00:00:00Z"), "withhold");
  EXPECT_EQ(See("unit-fr", o2, "vendor-feed", "2027-01-01T00:00:00Z"), "withhold");
  EXPECT_EQ(See("ipo", o8, "vendor-feed", "2027-01-01T00:00:00Z"), "serve");
}

}  // namespace
}  // namespace ctihub::policy
