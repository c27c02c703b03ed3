// Redaction: granular selectors on list items and nested properties, selector
// renumbering, agreement strip rules, SCO withholding, object types, required
// properties, statement markings, the read scope.
#include <gtest/gtest.h>

#include "core/json.h"
#include "policy/policy.h"
#include "policy/test_fixture.h"
#include "stix/validate.h"

namespace ctihub::policy {
namespace {

using namespace testing;  // NOLINT

constexpr const char* kGreenId = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
constexpr const char* kAmberId = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
constexpr const char* kRedId = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
constexpr const char* kStatement = "marking-definition--0000aaaa-0000-4000-8000-000000000000";

constexpr const char* kToml = R"(
[[organisation]]
name = "vendor"
identity = "identity--00000000-0000-4000-8000-000000000001"
[[organisation]]
name = "police"
identity = "identity--00000000-0000-4000-8000-000000000002"
[[organisation]]
name = "unit"
identity = "identity--00000000-0000-4000-8000-000000000003"

[[agreement]]
id = "vendor-police"
producer = "org:vendor"
recipient = "org:police"
max_tlp = "amber"
object_types = ["indicator", "malware", "user-account", "email-addr", "threat-actor"]
pap_ceiling = "amber"
strip_properties = ["x_personal", "threat-actor:personal_characteristics", "indicator:external_references.[1]"]
withhold_sco_types = ["email-addr", "user-account"]
reshare = true
legal_basis = "contract"

[[agreement]]
id = "police-unit"
producer = "org:police"
recipient = "org:unit"
max_tlp = "green"
object_types = ["indicator", "malware"]
legal_basis = "treaty"
)";

class Redaction : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = ParsePolicyToml(kToml, "r.toml");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    policy_ = std::make_unique<Policy>(std::move(*m));
  }
  Decision Decide(const char* org, const std::string& text) {
    auto e = parser_.Parse(text);
    EXPECT_TRUE(e.ok()) << text;
    return policy_->DecideJson({org, false}, *e, {}, At("2026-06-01T00:00:00Z"));
  }
  std::unique_ptr<Policy> policy_;
  json::JsonParser parser_;
};

std::string Obj(const std::string& type, const std::string& body, const char* tlp = kAmberId) {
  return R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + type +
         R"(--44444444-4444-4444-8444-444444444444","created_by_ref":"identity--00000000-0000-4000-8000-000000000001",)"
         R"("object_marking_refs":[")" +
         tlp + "\"]" + (body.empty() ? "" : ",") + body + "}";
}

TEST_F(Redaction, ListItemsAreRemovedAndSelectorsRenumbered) {
  std::string o = Obj(
      "indicator",
      std::string(
          R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)") +
          R"("labels":["a","secret","b","c"],"kill_chain_phases":[{"kill_chain_name":"k","phase_name":"p","x_note":"n"}],)" +
          R"("granular_markings":[{"marking_ref":")" + kRedId +
          R"(","selectors":["labels.[1]","kill_chain_phases.[0].x_note"]},)" +
          R"({"marking_ref":")" + kGreenId + R"(","selectors":["labels.[3]","labels.[0]"]},)" +
          R"({"marking_ref":")" + kStatement + R"(","selectors":["labels.[2]"]}])");
  Decision d = Decide("police", o);
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted) << d.via;
  EXPECT_EQ(d.via, "agreement:vendor-police");
  EXPECT_NE(d.redacted_json.find(R"("labels":["a","b","c"])"), std::string::npos)
      << d.redacted_json;
  EXPECT_NE(
      d.redacted_json.find(R"("kill_chain_phases":[{"kill_chain_name":"k","phase_name":"p"}])"),
      std::string::npos)
      << d.redacted_json;
  // The RED marking lost all its selectors; the others now point at the new positions.
  EXPECT_EQ(d.redacted_json.find(kRedId), std::string::npos) << d.redacted_json;
  EXPECT_NE(d.redacted_json.find(std::string(R"({"marking_ref":")") + kGreenId +
                                 R"(","selectors":["labels.[2]","labels.[0]"]})"),
            std::string::npos)
      << d.redacted_json;
  EXPECT_NE(d.redacted_json.find(std::string(R"({"marking_ref":")") + kStatement +
                                 R"(","selectors":["labels.[1]"]})"),
            std::string::npos)
      << d.redacted_json;
  auto e = parser_.Parse(d.redacted_json);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(json::CanonicalJson(*e), d.redacted_json);
  // The producer sees it all.
  EXPECT_EQ(Decide("vendor", o).verdict, Verdict::kServe);
}

TEST_F(Redaction, StripRules) {
  std::string o = Obj(
      "indicator",
      R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)"
      R"("x_personal":{"name":"J. Doe"},"external_references":[{"source_name":"a"},{"source_name":"case file"}])");
  Decision d = Decide("police", o);
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted);
  EXPECT_EQ(d.redacted_json.find(R"("x_personal":)"), std::string::npos);
  EXPECT_EQ(d.redacted_json.find("case file"), std::string::npos);
  EXPECT_NE(d.redacted_json.find(R"("external_references":[{"source_name":"a"}])"),
            std::string::npos);
  // Type-qualified rules apply to their type only.
  std::string ta = Obj("threat-actor", R"("name":"X","personal_characteristics":"p")");
  d = Decide("police", ta);
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted);
  EXPECT_EQ(d.redacted_json.find(R"("personal_characteristics":)"), std::string::npos);
  // Nothing to strip: served as is.
  EXPECT_EQ(Decide("police", Obj("malware", R"("is_family":true)")).verdict, Verdict::kServe);
}

// The hot path redacts stored canonical text by copying the members it keeps
// (EmitRedactedText); the parsed-object path re-serialises everything. Both
// must give the same bytes, whatever the values hold.
TEST_F(Redaction, StoredTextAndParsedObjectRedactIdentically) {
  const std::vector<std::string> bodies = {
      // strings with escapes, nested values, numbers, literals, empty containers
      R"("pattern":"[file:name = 'a\"b\\c\u0001']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)"
      R"("x_personal":{"name":"J. \"Doe\"","n":[1,-0.5,1e21,true,null,{},[]]},)"
      R"("external_references":[{"source_name":"a","description":"}{]["},{"source_name":"case file"}],)"
      R"("description":"d","labels":[])",
      // granular markings on list items and a nested property; a strip rule
      R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)"
      R"("labels":["a","secret","b"],"kill_chain_phases":[{"kill_chain_name":"k","phase_name":"p","x_note":"n"}],)"
      R"("x_personal":"p","granular_markings":[{"marking_ref":")" +
          std::string(kRedId) + R"(","selectors":["labels.[1]","kill_chain_phases.[0].x_note"]}])",
      // nothing removed below the top level, only whole members
      R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","x_personal":[{"a":"}"}])",
  };
  json::JsonParser text_parser;
  int redacted = 0;
  for (const std::string& body : bodies) {
    auto e = parser_.Parse(Obj("indicator", body));
    ASSERT_TRUE(e.ok()) << body;
    const std::string canonical = json::CanonicalJson(*e);
    auto facts = ExtractFacts(*e);
    ASSERT_TRUE(facts.ok());
    for (const char* org : {"police", "unit", "vendor"}) {
      const Timestamp now = At("2026-06-01T00:00:00Z");
      Decision parsed = policy_->DecideJson({org, false}, *e, {}, now);
      Decision text =
          policy_->DecideText(Reader{org, false}, *facts, canonical, text_parser, {}, now);
      ObjectFacts columns = *facts;  // as the store's columns give them: no selectors
      columns.granular.clear();
      Decision cols = policy_->DecideText(policy_->Resolve({org, false}), columns, canonical,
                                          text_parser, {}, now);
      EXPECT_EQ(text.verdict, parsed.verdict) << org << " " << body;
      EXPECT_EQ(text.redacted_json, parsed.redacted_json) << org << " " << body;
      EXPECT_EQ(cols.verdict, parsed.verdict) << org << " " << body;
      EXPECT_EQ(cols.redacted_json, parsed.redacted_json) << org << " " << body;
      if (parsed.verdict == Verdict::kServeRedacted) {
        ++redacted;
        auto r = text_parser.Parse(text.redacted_json);
        ASSERT_TRUE(r.ok()) << text.redacted_json;
        EXPECT_EQ(json::CanonicalJson(*r), text.redacted_json);
        EXPECT_EQ(text.redacted_json.find(R"("x_personal":)"), std::string::npos)
            << text.redacted_json;
      }
    }
  }
  EXPECT_EQ(redacted, 3);  // police, for each body (unit has no grant on indicators from vendor)
}

TEST_F(Redaction, GranularLevelsWithinTheGrantNeedNoSelectors) {
  // police holds AMBER (PAP ceiling AMBER) from vendor: a granular GREEN or
  // AMBER marking removes nothing for it, so a decision from the columns
  // (levels, no selectors) must not read the object at all -- shown with
  // text whose granular_markings do not parse -- while a RED or PAP:RED
  // level must read the selectors (and withhold when they cannot be read).
  const Timestamp now = At("2026-06-01T00:00:00Z");
  const std::string broken =
      Obj("indicator", R"("pattern":"[a:b = 'c']","pattern_type":"stix",)"
                       R"("valid_from":"2026-01-01T00:00:00Z","granular_markings":[{)");
  json::JsonParser parser;
  ObjectFacts f;
  f.type = "indicator";
  f.producer = "identity--00000000-0000-4000-8000-000000000001";
  f.tlp = Tlp::kGreen;
  f.has_granular_levels = true;
  f.granular_max_known = true;
  struct Case {
    std::optional<Tlp> tlp;
    std::optional<Pap> pap;
    Verdict want;
  };
  const Case cases[] = {
      {Tlp::kGreen, std::nullopt, Verdict::kServe},
      {Tlp::kAmber, Pap::kAmber, Verdict::kServe},
      {std::nullopt, Pap::kGreen, Verdict::kServe},
      {Tlp::kRed, std::nullopt, Verdict::kWithhold},          // selectors needed: text unreadable
      {Tlp::kAmberStrict, std::nullopt, Verdict::kWithhold},  // above AMBER too
      {Tlp::kGreen, Pap::kRed, Verdict::kWithhold},           // above the PAP ceiling
  };
  for (const Case& c : cases) {
    f.granular_max_tlp = c.tlp;
    f.granular_max_pap = c.pap;
    Decision d = policy_->DecideText(Reader{"police", false}, f, broken, parser, {}, now);
    EXPECT_EQ(d.verdict, c.want) << static_cast<int>(c.tlp.value_or(Tlp::kClear)) << " "
                                 << static_cast<int>(c.pap.value_or(Pap::kClear));
    EXPECT_EQ(d.via, c.want == Verdict::kServe ? "agreement:vendor-police" : "malformed-object");
    EXPECT_TRUE(d.depends_on_object);  // never memoised: the levels are no memo key
  }
  // Levels not known (rows stored before they were kept): selectors needed.
  f.granular_max_known = false;
  f.granular_max_tlp = Tlp::kGreen;
  f.granular_max_pap.reset();
  EXPECT_EQ(policy_->DecideText(Reader{"police", false}, f, broken, parser, {}, now).verdict,
            Verdict::kWithhold);
}

TEST_F(Redaction, ScoTypesObjectTypesAndRequiredProperties) {
  Decision d = Decide("police", Obj("email-addr", R"("value":"a@example.org")"));
  EXPECT_EQ(d.verdict, Verdict::kWithhold);
  EXPECT_EQ(d.via, "sco-type-withheld");
  d = Decide("police", Obj("infrastructure", R"("name":"x")"));
  EXPECT_EQ(d.via, "type-not-in-agreement");
  // A granular marking that would remove a required property withholds the object.
  std::string o = Obj(
      "indicator",
      std::string(
          R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)") +
          R"("granular_markings":[{"marking_ref":")" + kRedId + R"(","selectors":["pattern"]}])");
  d = Decide("police", o);
  EXPECT_EQ(d.verdict, Verdict::kWithhold);
  EXPECT_EQ(d.via, "required-property-redacted");
  // A malformed selector on a marking above the reader's entitlement fails closed.
  o = Obj("malware", std::string(R"("is_family":true,"granular_markings":[{"marking_ref":")") +
                         kRedId + R"(","selectors":["a..b"]}])");
  EXPECT_EQ(Decide("police", o).via, "malformed-granular-selector");
}

// Regression (issue 12 item 16): policy.cc kept its own required-property
// table, which lacked extension-definition and language-content, so a strip
// rule produced an invalid object instead of withholding it.
TEST(RequiredProperties, StripRulesWithholdRatherThanServeInvalidObjects) {
  auto m = ParsePolicyToml(R"(
[[organisation]]
name = "vendor"
identity = "identity--00000000-0000-4000-8000-000000000001"
[[organisation]]
name = "police"
identity = "identity--00000000-0000-4000-8000-000000000002"
[[agreement]]
id = "vendor-police"
producer = "org:vendor"
recipient = "org:police"
max_tlp = "amber"
object_types = ["*"]
legal_basis = "contract"
strip_properties = ["extension-definition:schema", "language-content:contents",
                    "x-custom-thing:created", "description"]
)",
                           "r.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Policy policy(std::move(*m));
  const std::string common =
      std::string(R"("spec_version":"2.1","object_marking_refs":[")") + kAmberId +
      R"("],"created_by_ref":"identity--00000000-0000-4000-8000-000000000001",)"
      R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)";
  const std::string ext_def =
      R"({"type":"extension-definition","id":"extension-definition--44444444-4444-4444-8444-444444444444",)" +
      common +
      R"("name":"x","description":"d","schema":"https://example.org/schema","version":"1.0",)"
      R"("extension_types":["property-extension"]})";
  const std::string lang =
      R"({"type":"language-content","id":"language-content--44444444-4444-4444-8444-444444444444",)" +
      common +
      R"("object_ref":"indicator--44444444-4444-4444-8444-444444444444",)"
      R"("object_modified":"2024-01-01T00:00:00.000Z","contents":{"de":{"name":"x"}}})";
  const std::string custom =
      R"({"type":"x-custom-thing","id":"x-custom-thing--44444444-4444-4444-8444-444444444444",)" +
      common + R"("name":"x"})";
  json::JsonParser parser;
  for (const std::string* text : {&ext_def, &lang, &custom}) {
    auto e = parser.Parse(*text);
    ASSERT_TRUE(e.ok()) << *text;
    ASSERT_TRUE(stix::Validate(*e).valid()) << *text;
    Decision d = policy.DecideJson({"police", false}, *e, {}, At("2026-06-01T00:00:00Z"));
    EXPECT_EQ(d.verdict, Verdict::kWithhold) << *text << " -> " << d.redacted_json;
    EXPECT_EQ(d.via, "required-property-redacted") << *text;
  }
  // A property STIX does not require is stripped, and the copy stays valid.
  auto m2 = ParsePolicyToml(R"(
[[organisation]]
name = "vendor"
identity = "identity--00000000-0000-4000-8000-000000000001"
[[organisation]]
name = "police"
identity = "identity--00000000-0000-4000-8000-000000000002"
[[agreement]]
id = "vendor-police"
producer = "org:vendor"
recipient = "org:police"
max_tlp = "amber"
object_types = ["*"]
legal_basis = "contract"
strip_properties = ["description"]
)",
                            "r2.toml");
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  Policy strip_description(std::move(*m2));
  auto e = parser.Parse(ext_def);
  ASSERT_TRUE(e.ok());
  Decision d = strip_description.DecideJson({"police", false}, *e, {}, At("2026-06-01T00:00:00Z"));
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted) << d.via;
  auto redacted = parser.Parse(d.redacted_json);
  ASSERT_TRUE(redacted.ok());
  EXPECT_TRUE(stix::Validate(*redacted).valid()) << d.redacted_json;
}

// Issue 12 item 11: a redacted copy says so, in a property extension listing
// the removed selectors, and stays a valid STIX object.
TEST_F(Redaction, RedactedCopyIsMarkedAndValid) {
  std::string o =
      R"({"type":"indicator","spec_version":"2.1","id":"indicator--44444444-4444-4444-8444-444444444444",)"
      R"("created_by_ref":"identity--00000000-0000-4000-8000-000000000001","object_marking_refs":[")" +
      std::string(kAmberId) +
      R"("],"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
      R"("pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)"
      R"("x_personal":{"name":"J. Doe"},"external_references":[{"source_name":"a","url":"https://example.org/a"},)"
      R"({"source_name":"case file","external_id":"42"}],)"
      R"("extensions":{"extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2":)"
      R"({"extension_type":"property-extension","recipient_orgs":[]}}})";
  {
    auto original = parser_.Parse(o);
    ASSERT_TRUE(original.ok());
    ASSERT_TRUE(stix::Validate(*original).valid()) << o;
  }
  Decision d = Decide("police", o);
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted);
  auto e = parser_.Parse(d.redacted_json);
  ASSERT_TRUE(e.ok()) << d.redacted_json;
  EXPECT_EQ(json::CanonicalJson(*e), d.redacted_json);
  json::Element marker;
  ASSERT_EQ((*e)["extensions"][kRedactedExtensionId].get(marker), simdjson::SUCCESS)
      << d.redacted_json;
  EXPECT_EQ(json::CanonicalJson(marker),
            R"({"extension_type":"property-extension","redacted_selectors":)"
            R"(["external_references.[1]","x_personal"]})");
  json::Element kept;
  EXPECT_EQ(
      (*e)["extensions"]["extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2"].get(kept),
      simdjson::SUCCESS)
      << "other extensions are kept";
  stix::Report report = stix::Validate(*e);
  EXPECT_TRUE(report.valid()) << d.redacted_json << " "
                              << (report.errors.empty() ? "" : report.errors[0].message);
  // An unredacted copy carries no marker.
  EXPECT_EQ(Decide("vendor", o).verdict, Verdict::kServe);
}

TEST_F(Redaction, ReshareChainCapsAndIntersects) {
  // police re-shares to unit at GREEN only, for indicator and malware only.
  EXPECT_EQ(
      Decide(
          "unit",
          Obj("indicator",
              R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z")"))
          .verdict,
      Verdict::kWithhold);
  Decision d = Decide("unit", Obj("malware", R"("is_family":true)", kGreenId));
  EXPECT_EQ(d.verdict, Verdict::kServe);
  EXPECT_EQ(d.via, "reshare:vendor-police>police-unit");
  EXPECT_EQ(Decide("unit", Obj("threat-actor", R"("name":"x")", kGreenId)).via,
            "type-not-in-agreement");
  // Strip rules of the first hop travel along the chain.
  d = Decide(
      "unit",
      Obj("indicator",
          R"("pattern":"[a:b = 'c']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","x_personal":"p")",
          kGreenId));
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted);
  EXPECT_EQ(d.redacted_json.find(R"("x_personal":)"), std::string::npos);
}

TEST_F(Redaction, ReadScope) {
  Timestamp now = At("2026-06-01T00:00:00Z");
  ReadScope s = policy_->ScopeFor({"unit", false}, {}, now);
  EXPECT_EQ(s.own_producer, "identity--00000000-0000-4000-8000-000000000003");
  ASSERT_EQ(s.grants.size(), 2u);  // police (direct, GREEN) and vendor (re-share, GREEN)
  EXPECT_EQ(s.grants[0].producer, "identity--00000000-0000-4000-8000-000000000001");
  EXPECT_EQ(s.grants[0].max_tlp, Tlp::kGreen);
  EXPECT_EQ(s.grants[0].object_types, (std::vector<std::string>{"indicator", "malware"}));
  ReadScope anon = policy_->ScopeFor({"", true}, {}, now);
  EXPECT_TRUE(anon.none);
  CollectionMarking pub;
  pub.public_read = true;
  EXPECT_FALSE(policy_->ScopeFor({"", true}, pub, now).none);
}

TEST_F(Redaction, GranularPapAboveTheCeilingIsRemoved) {
  constexpr const char* kPapRed = "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e";
  std::string o = Obj("malware", std::string(R"("is_family":true,"name":"m","description":"d",)") +
                                     R"("granular_markings":[{"marking_ref":")" + kPapRed +
                                     R"(","selectors":["description"]}])");
  Decision d = Decide("police", o);  // the vendor-police ceiling is PAP:AMBER
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted);
  EXPECT_EQ(d.redacted_json.find(R"("description":)"), std::string::npos);
  EXPECT_EQ(Decide("vendor", o).verdict, Verdict::kServe);
  EXPECT_TRUE(AllowsActiveBlocking(Pap::kGreen));
  EXPECT_FALSE(AllowsActiveBlocking(Pap::kAmber));
}

TEST_F(Redaction, StatementMarkingsAreKept) {
  std::string o =
      std::string(R"({"type":"malware","id":"malware--44444444-4444-4444-8444-444444444444",)") +
      R"("is_family":true,"created_by_ref":"identity--00000000-0000-4000-8000-000000000001",)" +
      R"("x_personal":"p","object_marking_refs":[")" + kAmberId + R"(",")" + kStatement + R"("]})";
  Decision d = Decide("police", o);
  ASSERT_EQ(d.verdict, Verdict::kServeRedacted);
  EXPECT_NE(d.redacted_json.find(kStatement), std::string::npos);
  EXPECT_NE(d.redacted_json.find(kAmberId), std::string::npos);
  EXPECT_EQ(d.redacted_json.find(R"("x_personal":)"), std::string::npos);
}

TEST(Selectors, ParseAndPrint) {
  auto p = ParseSelector("kill_chain_phases.[10].phase_name");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[1].index, 10);
  EXPECT_EQ(SelectorToString(*p), "kill_chain_phases.[10].phase_name");
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "a.[x]", "a.[]", "a.[1"})
    EXPECT_FALSE(ParseSelector(bad).ok()) << bad;
}

}  // namespace
}  // namespace ctihub::policy
