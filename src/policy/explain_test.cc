// Policy::Explain: it decides exactly as Decide does (a property test over
// generated readers and objects), and it says why, checked on the documented
// example docs/examples/vendor-police with exact reasons.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "policy/policy.h"
#include "policy/test_fixture.h"

#ifndef CTIHUB_EXAMPLES_DIR
#error "CTIHUB_EXAMPLES_DIR must point at docs/examples"
#endif

namespace ctihub::policy {
namespace {

using testing::At;

constexpr const char* kVendor = "identity--de2243c4-7020-40df-9b10-2fa9d30fafa9";
constexpr const char* kIpo = "identity--9a610f91-af26-418b-b1a2-56cf3014944f";
constexpr const char* kUnitFr = "identity--2ba746f5-ba3f-4e0d-a5b0-4d3e47c97a70";
constexpr const char* kUnitDe = "identity--261aa805-f9a4-45f7-a851-f89dcc35bf6e";
constexpr const char* kClear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
constexpr const char* kGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
constexpr const char* kAmber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
constexpr const char* kAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
constexpr const char* kRed = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
constexpr const char* kPapRed = "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e";
constexpr const char* kPapAmber = "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab";
constexpr const char* kPapGreen = "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9";
constexpr const char* kRecipientsExt = "extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2";

PolicyModel VendorPoliceModel() {
  const std::string path = std::string(CTIHUB_EXAMPLES_DIR) + "/vendor-police/policy.toml";
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = ParsePolicyToml(ss.str(), path);
  EXPECT_TRUE(m.ok()) << path << ": " << m.status().ToString();
  return m.ok() ? std::move(*m) : PolicyModel{};
}

// The decision of every entry point for one (reader, object), and Explain's.
void ExpectSameDecision(const Policy& policy, const Reader& reader, const std::string& text,
                        const CollectionMarking& cm, Timestamp now, const std::string& what) {
  json::JsonParser parser;
  auto e = parser.Parse(text);
  ASSERT_TRUE(e.ok()) << text;
  auto facts = ExtractFacts(*e);
  ASSERT_TRUE(facts.ok()) << text;
  const Decision d = policy.DecideJson(reader, *e, cm, now);
  const std::string canonical = json::CanonicalJson(*e);
  json::JsonParser text_parser;
  const Explanation x = policy.Explain(reader, *facts, canonical, text_parser, cm, now);
  EXPECT_EQ(x.decision.verdict, d.verdict) << what;
  EXPECT_EQ(x.decision.via, d.via) << what;
  EXPECT_EQ(x.decision.redacted_json, d.redacted_json) << what;
  // ... also from the store's columns (no selectors), as the read gate decides.
  ObjectFacts columns = *facts;
  columns.granular.clear();
  json::JsonParser column_parser;
  const Decision c = policy.DecideText(reader, columns, canonical, column_parser, cm, now);
  const Explanation xc = policy.Explain(reader, columns, canonical, column_parser, cm, now);
  EXPECT_EQ(xc.decision.verdict, c.verdict) << what;
  EXPECT_EQ(xc.decision.via, c.via) << what;
  EXPECT_EQ(xc.decision.redacted_json, c.redacted_json) << what;
  // The explanation is about that decision: one grant decided exactly when it serves.
  size_t decided = 0;
  for (const GrantStep& s : x.trace.steps) decided += s.outcome == "decided";
  EXPECT_EQ(decided, d.verdict == Verdict::kWithhold ? 0u : 1u) << what;
  EXPECT_EQ(x.agreements.size(), policy.model().agreements.size()) << what;
  EXPECT_EQ(x.redactions.empty(), d.verdict != Verdict::kServeRedacted) << what;
  for (const AgreementNote& n : x.agreements) {
    EXPECT_FALSE(n.reason.empty()) << what << " " << n.agreement;
    EXPECT_NE(n.reason, "no-grant") << what << " " << n.agreement << ": " << n.detail;
  }
}

// Generated objects: type, producer, TLP, PAP, granular marking, stripped
// properties and RED recipients drawn at random (fixed seed), decided for
// every reader of the example at times around its agreements' windows.
TEST(ExplainProperty, DecidesAsDecideOnGeneratedPairs) {
  Policy policy(VendorPoliceModel());
  const char* types[] = {"indicator", "threat-actor", "email-addr",   "report",
                         "sighting",  "malware",      "user-account", "campaign"};
  const char* producers[] = {
      kVendor, kIpo, kUnitFr, kUnitDe, "identity--00000000-0000-4000-8000-0000000000ff", ""};
  const char* tlps[] = {nullptr, kClear, kGreen, kAmber, kAmberStrict, kRed};
  const char* paps[] = {nullptr, kPapGreen, kPapAmber, kPapRed};
  const char* granular[] = {nullptr, kGreen, kAmber, kRed};
  const char* readers[] = {"secvendor", "ipo", "unit-fr", "unit-de", "unit-es", "nobody", ""};
  const char* collections[] = {"vendor-feed", "advisories", "elsewhere"};
  const char* times[] = {"2025-12-31T23:59:59Z", "2026-06-01T00:00:00Z", "2026-12-31T23:59:59Z",
                         "2027-01-01T00:00:00Z"};
  std::mt19937 rng(20261205);
  auto pick = [&](auto& arr) { return arr[rng() % std::size(arr)]; };
  std::map<Verdict, size_t> seen;
  for (int i = 0; i < 3000; ++i) {
    const std::string type = pick(types);
    std::string o = R"({"type":")";
    o += type;
    o += R"(","spec_version":"2.1","id":")";
    o += type;
    o += R"(--55555555-5555-4555-8555-555555555555","created":"2026-03-01T00:00:00Z",)"
         R"("modified":"2026-03-01T00:00:00Z","name":"n","description":"d",)"
         R"("value":"v","aliases":["a"],"pattern":"[ipv4-addr:value = '1.2.3.4']",)"
         R"("pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z")";
    const std::string producer = pick(producers);
    if (!producer.empty()) o += R"(,"created_by_ref":")" + producer + '"';
    std::vector<std::string> refs;
    if (const char* t = pick(tlps)) refs.emplace_back(t);
    if (const char* p = pick(paps)) refs.emplace_back(p);
    if (!refs.empty()) {
      o += R"(,"object_marking_refs":[)";
      for (size_t k = 0; k < refs.size(); ++k) o += (k ? ",\"" : "\"") + refs[k] + '"';
      o += ']';
    }
    if (const char* g = pick(granular)) {
      o += R"(,"granular_markings":[{"marking_ref":")" + std::string(g) +
           (rng() % 4 == 0 ? R"(","selectors":["name"]}])" : R"(","selectors":["description"]}])");
    }
    if (rng() % 3 == 0) o += R"(,"x_personal_data":{"registrant":"J. Doe"})";
    if (rng() % 5 == 0) {
      o += R"(,"extensions":{")" + std::string(kRecipientsExt) +
           R"(":{"extension_type":"property-extension","recipient_orgs":[")" +
           (rng() % 2 ? kIpo : kUnitFr) + R"("]}})";
    }
    o += '}';
    Reader reader;
    reader.org = pick(readers);
    reader.anonymous = reader.org.empty();
    const std::string collection = pick(collections);
    const char* now = pick(times);
    std::ostringstream what;
    what << "case " << i << ": reader '" << reader.org << "' in " << collection << " at " << now
         << ": " << o;
    ExpectSameDecision(policy, reader, o, policy.CollectionFor(collection), At(now), what.str());
    json::JsonParser parser;
    seen[policy.DecideJson(reader, *parser.Parse(o), policy.CollectionFor(collection), At(now))
             .verdict]++;
    if (::testing::Test::HasFailure()) break;  // one failing case is enough to read
  }
  // Not degenerate: every verdict occurs often.
  EXPECT_GT(seen[Verdict::kServe], 300u);
  EXPECT_GT(seen[Verdict::kServeRedacted], 100u);
  EXPECT_GT(seen[Verdict::kWithhold], 300u);
}

// The access matrix's policy (direct, strict, re-share, community) too.
TEST(ExplainProperty, DecidesAsDecideOnTheMatrixPolicy) {
  auto model = ParsePolicyToml(testing::kMatrixToml, "matrix.toml");
  ASSERT_TRUE(model.ok());
  Policy policy(std::move(*model));
  const char* tlps[] = {nullptr, kClear, kGreen, kAmber, kAmberStrict, kRed};
  const char* paps[] = {nullptr, kPapGreen, kPapAmber, kPapRed};
  const char* readers[] = {"prod", "direct", "reshare", "member", "unrelated", ""};
  for (const char* org : readers) {
    for (const char* tlp : tlps) {
      for (const char* pap : paps) {
        for (const char* g : {static_cast<const char*>(nullptr), kAmber, kRed}) {
          std::string o =
              R"({"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111",)"
              R"("created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","created_by_ref":")" +
              std::string(testing::kProd) +
              R"(","description":"d","pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix",)"
              R"("valid_from":"2026-01-01T00:00:00Z")";
          std::vector<std::string> refs;
          if (tlp) refs.emplace_back(tlp);
          if (pap) refs.emplace_back(pap);
          if (!refs.empty()) {
            o += R"(,"object_marking_refs":[)";
            for (size_t k = 0; k < refs.size(); ++k) o += (k ? ",\"" : "\"") + refs[k] + '"';
            o += ']';
          }
          if (g) {
            o += R"(,"granular_markings":[{"marking_ref":")" + std::string(g) +
                 R"(","selectors":["description"]}])";
          }
          o += '}';
          Reader reader;
          reader.org = org;
          reader.anonymous = reader.org.empty();
          ExpectSameDecision(policy, reader, o, CollectionMarking{}, At("2026-06-01T00:00:00Z"),
                             std::string(org) + ": " + o);
        }
      }
    }
  }
}

// ---- the documented example, with exact reasons ----

class ExplainVendorPolice : public ::testing::Test {
 protected:
  ExplainVendorPolice() : policy_(VendorPoliceModel()) {}
  Explanation Explain(const char* org, const std::string& object,
                      const char* now = "2026-06-01T00:00:00Z") {
    auto e = parser_.Parse(object);
    EXPECT_TRUE(e.ok()) << object;
    auto facts = ExtractFacts(*e);
    EXPECT_TRUE(facts.ok());
    Reader r;
    r.anonymous = *org == '\0';
    r.org = org;
    text_ = json::CanonicalJson(*e);
    return policy_.Explain(r, *facts, text_, text_parser_, policy_.CollectionFor("vendor-feed"),
                           At(now));
  }
  // "reason: detail" of agreement `id`.
  static std::string Note(const Explanation& x, const std::string& id) {
    for (const AgreementNote& n : x.agreements)
      if (n.agreement == id) return n.reason + ": " + n.detail;
    return "(no note)";
  }
  static std::string Obj(const std::string& type, const char* producer, const char* tlp,
                         const std::string& body) {
    return R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + type +
           R"(--55555555-5555-4555-8555-555555555555","created":"2026-03-01T00:00:00Z","modified":"2026-03-01T00:00:00Z",)"
           R"("created_by_ref":")" +
           producer + R"(","object_marking_refs":[")" + tlp + "\"]," + body + "}";
  }
  const std::string kPattern =
      R"("pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z")";
  Policy policy_;
  json::JsonParser parser_, text_parser_;
  std::string text_;
};

// Row 1: the AMBER indicator with personal data.
TEST_F(ExplainVendorPolice, Row1RedactedForIpoWithheldFromUnits) {
  const std::string o1 =
      Obj("indicator", kVendor, kAmber, kPattern + R"(,"x_personal_data":{"registrant":"J. Doe"})");
  Explanation ipo = Explain("ipo", o1);
  EXPECT_EQ(ipo.decision.verdict, Verdict::kServeRedacted);
  EXPECT_EQ(ipo.decision.via, "agreement:secvendor-to-ipo");
  EXPECT_EQ(ipo.redactions, std::vector<std::string>{"x_personal_data"});
  EXPECT_EQ(Note(ipo, "secvendor-to-ipo"),
            "decided: agreement:secvendor-to-ipo decided: served without x_personal_data");
  EXPECT_EQ(Note(ipo, "ipo-to-units"),
            "wrong-recipient: its recipient is community:national-units, not org:ipo");
  EXPECT_EQ(Note(ipo, "units-to-ipo"),
            "producer-not-covered: it covers objects of community:national-units, the object's "
            "producer is org:secvendor");
  EXPECT_EQ(Note(ipo, "ipo-to-secvendor-feedback"),
            "wrong-recipient: its recipient is org:secvendor, not org:ipo");

  Explanation fr = Explain("unit-fr", o1);
  EXPECT_EQ(fr.decision.verdict, Verdict::kWithhold);
  EXPECT_EQ(fr.decision.via, "no-grant");
  EXPECT_EQ(Note(fr, "secvendor-to-ipo"),
            "tlp-above-ceiling: reshare:secvendor-to-ipo>ipo-to-units covers up to TLP:GREEN, the "
            "object is TLP:AMBER");
  EXPECT_EQ(Note(fr, "ipo-to-units"), Note(fr, "secvendor-to-ipo"));
  EXPECT_EQ(Note(fr, "units-to-ipo"), "wrong-recipient: its recipient is org:ipo, not org:unit-fr");
}

// Row 2: GREEN reaches the units through the re-share chain.
TEST_F(ExplainVendorPolice, Row2ServedToUnitsThroughTheChain) {
  Explanation de = Explain("unit-de", Obj("indicator", kVendor, kGreen, kPattern));
  EXPECT_EQ(de.decision.verdict, Verdict::kServe);
  EXPECT_EQ(de.decision.via, "reshare:secvendor-to-ipo>ipo-to-units");
  EXPECT_EQ(Note(de, "secvendor-to-ipo"),
            "decided: reshare:secvendor-to-ipo>ipo-to-units decided: served as is");
  EXPECT_EQ(Note(de, "ipo-to-units"), Note(de, "secvendor-to-ipo"));
  EXPECT_EQ(Note(de, "ipo-to-secvendor-feedback"),
            "wrong-recipient: its recipient is org:secvendor, not org:unit-de");
}

// Row 4: the e-mail address is withheld from the IPO because its type is not
// in the agreement (the type check comes first; the SCO rule never runs).
TEST_F(ExplainVendorPolice, Row4TypeNotInAgreement) {
  Explanation ipo =
      Explain("ipo", Obj("email-addr", kVendor, kAmber, R"("value":"j.doe@example.org")"));
  EXPECT_EQ(ipo.decision.verdict, Verdict::kWithhold);
  EXPECT_EQ(ipo.decision.via, "type-not-in-agreement");
  EXPECT_EQ(Note(ipo, "secvendor-to-ipo"),
            "type-not-in-agreement: agreement:secvendor-to-ipo does not cover objects of type "
            "email-addr");
  Explanation own =
      Explain("secvendor", Obj("email-addr", kVendor, kAmber, R"("value":"j.doe@example.org")"));
  EXPECT_EQ(own.decision.via, "own");
  EXPECT_EQ(Note(own, "secvendor-to-ipo"),
            "own-object: the reader's organisation produced the object: agreements play no part");
}

// Row 5: RED, named.
TEST_F(ExplainVendorPolice, Row5NamedRecipient) {
  const std::string o5 = Obj(
      "report", kVendor, kRed,
      std::string(
          R"("name":"r","published":"2026-03-01T00:00:00Z","object_refs":["indicator--55555555-5555-4555-8555-555555555555"],)") +
          R"("extensions":{")" + kRecipientsExt +
          R"(":{"extension_type":"property-extension","recipient_orgs":[")" + kIpo + R"("]}})");
  Explanation ipo = Explain("ipo", o5);
  EXPECT_EQ(ipo.decision.via, "named");
  // RED is above every agreement's ceiling: only the named grant can serve it.
  EXPECT_EQ(Note(ipo, "secvendor-to-ipo"),
            "tlp-above-ceiling: agreement:secvendor-to-ipo covers up to TLP:AMBER, the object is "
            "TLP:RED");
  Explanation fr = Explain("unit-fr", o5);
  EXPECT_EQ(fr.decision.via, "no-grant");
}

// Row 7: the unit's sighting, as seen by another unit: sightings flow to the
// IPO, which may re-share them only to the vendor.
TEST_F(ExplainVendorPolice, Row7OtherUnitWithheld) {
  const std::string o7 =
      Obj("sighting", kUnitFr, kAmber,
          R"("sighting_of_ref":"indicator--55555555-5555-4555-8555-555555555555","count":3)");
  Explanation de = Explain("unit-de", o7);
  EXPECT_EQ(de.decision.via, "no-grant");
  EXPECT_EQ(Note(de, "units-to-ipo"), "wrong-recipient: its recipient is org:ipo, not org:unit-de");
  // units-to-ipo may be re-shared, but ipo-to-units carries no sightings.
  EXPECT_EQ(Note(de, "ipo-to-units"),
            "reshare-types-disjoint: it covers objects of org:ipo, the object's producer is "
            "org:unit-fr; re-sharing under units-to-ipo then ipo-to-units carries no object type: "
            "the two have none in common");
  Explanation vendor = Explain("secvendor", o7);
  EXPECT_EQ(vendor.decision.via, "reshare:units-to-ipo>ipo-to-secvendor-feedback");
}

// Row 9: after the vendor agreement expires.
TEST_F(ExplainVendorPolice, Row9Expired) {
  Explanation ipo =
      Explain("ipo", Obj("indicator", kVendor, kGreen, kPattern), "2027-01-01T00:00:00Z");
  EXPECT_EQ(ipo.decision.verdict, Verdict::kWithhold);
  EXPECT_EQ(Note(ipo, "secvendor-to-ipo"),
            "expired: secvendor-to-ipo expired at 2027-01-01T00:00:00.000Z");
  Explanation fr =
      Explain("unit-fr", Obj("indicator", kVendor, kGreen, kPattern), "2027-01-01T00:00:00Z");
  EXPECT_EQ(Note(fr, "ipo-to-units"),
            "expired: reshare:secvendor-to-ipo>ipo-to-units: secvendor-to-ipo expired at "
            "2027-01-01T00:00:00.000Z");
}

// A unit's indicator for the vendor: the IPO may re-share the units'
// objects to the vendor, but only sightings flow along that chain.
TEST_F(ExplainVendorPolice, ChainOfOtherTypes) {
  Explanation x = Explain("secvendor", Obj("indicator", kUnitFr, kGreen, kPattern));
  EXPECT_EQ(x.decision.via, "type-not-in-agreement");
  EXPECT_EQ(Note(x, "ipo-to-secvendor-feedback"),
            "type-not-in-agreement: reshare:units-to-ipo>ipo-to-secvendor-feedback does not cover "
            "objects of type indicator");
  EXPECT_EQ(Note(x, "units-to-ipo"), Note(x, "ipo-to-secvendor-feedback"));
  EXPECT_EQ(Note(x, "secvendor-to-ipo"),
            "wrong-recipient: its recipient is org:ipo, not org:secvendor");
}

// An agreement whose recipient may not re-share: prod -> direct under
// prod-direct-strict (no re-sharing) does not carry AMBER+STRICT on to
// `reshare`, and the chain that does exist (prod-direct, re-sharing allowed)
// stops at AMBER.
TEST(ExplainReshare, NotAllowed) {
  auto model = ParsePolicyToml(testing::kMatrixToml, "matrix.toml");
  ASSERT_TRUE(model.ok());
  Policy policy(std::move(*model));
  const std::string o =
      std::string(
          R"({"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111",)") +
      R"("created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","created_by_ref":")" +
      testing::kProd + R"(","object_marking_refs":[")" + kAmberStrict +
      R"("],"pattern":"[ipv4-addr:value = '1.2.3.4']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"})";
  json::JsonParser parser;
  auto e = parser.Parse(o);
  ASSERT_TRUE(e.ok());
  auto facts = ExtractFacts(*e);
  ASSERT_TRUE(facts.ok());
  json::JsonParser text_parser;
  const Explanation x = policy.Explain(Reader{"reshare", false}, *facts, o, text_parser,
                                       CollectionMarking{}, At("2026-06-01T00:00:00Z"));
  EXPECT_EQ(x.decision.verdict, Verdict::kWithhold);
  EXPECT_EQ(x.decision.via, "no-grant");
  std::map<std::string, std::string> notes;
  for (const AgreementNote& n : x.agreements) notes[n.agreement] = n.reason + ": " + n.detail;
  EXPECT_EQ(notes["prod-direct-strict"],
            "reshare-not-allowed: org:direct receives prod's objects under it but may not re-share "
            "them (direct-reshare would carry them to reshare)");
  EXPECT_EQ(notes["prod-direct"],
            "tlp-above-ceiling: reshare:prod-direct>direct-reshare covers up to TLP:AMBER, the "
            "object is TLP:AMBER+STRICT");
  EXPECT_EQ(notes["direct-reshare"], notes["prod-direct"]);
}

}  // namespace
}  // namespace ctihub::policy
