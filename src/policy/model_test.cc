#include "policy/model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/json.h"
#include "policy/policy.h"
#include "policy/policy_holder.h"
#include "policy/test_fixture.h"

namespace ctihub::policy {
namespace {

using namespace testing;  // NOLINT

std::string ErrorOf(std::string_view toml) {
  auto m = ParsePolicyToml(toml, "p.toml");
  return m.ok() ? std::string("OK") : m.status().message();
}

constexpr const char* kOrgs = R"(
[[community]]
name = "c"
[[organisation]]
name = "a"
identity = "identity--00000000-0000-4000-8000-00000000000a"
[[organisation]]
name = "b"
identity = "identity--00000000-0000-4000-8000-00000000000b"
)";  // 9 lines incl. the leading newline

TEST(PolicyToml, ErrorsCarryFileLineAndReason) {
  EXPECT_EQ(ErrorOf("[[organisation]]\nname = \"x\"\nidentity = 3\n"),
            "p.toml:3:12: 'identity' must be a string");
  EXPECT_EQ(ErrorOf("x = 1\n"), "p.toml:1:1: unknown key 'x' in the policy file");
  std::string bad_syntax = ErrorOf("[[agreement]\n");
  EXPECT_EQ(bad_syntax.rfind("p.toml:1:", 0), 0u) << bad_syntax;
  std::string s = std::string(kOrgs) +
                  "[[agreement]]\nid = \"x\"\nproducer = \"org:a\"\nrecipient = \"org:b\"\n"
                  "max_tlp = \"mauve\"\nobject_types = [\"*\"]\nlegal_basis = \"l\"\n";
  EXPECT_EQ(ErrorOf(s), "p.toml:14:11: 'max_tlp': unknown TLP level 'mauve'");
  s = std::string(kOrgs) +
      "[[agreement]]\nid = \"x\"\nproducer = \"org:a\"\nrecipient = \"org:zz\"\n"
      "max_tlp = \"amber\"\nobject_types = [\"*\"]\nlegal_basis = \"l\"\n";
  EXPECT_EQ(ErrorOf(s), "p.toml:10:1: agreement 'x': unknown org:zz");
  s = std::string(kOrgs) +
      "[[agreement]]\nid = \"x\"\nproducer = \"org:a\"\nrecipient = \"org:b\"\n"
      "max_tlp = \"amber\"\nobject_types = [\"*\"]\nlegal_basis = \"l\"\n"
      "valid_from = \"2026-02-01T00:00:00Z\"\nexpires = \"2026-01-01T00:00:00Z\"\n";
  EXPECT_EQ(ErrorOf(s), "p.toml:18:11: expires must be after valid_from");
  s = std::string(kOrgs) +
      "[[agreement]]\nid = \"x\"\nproducer = \"org:a\"\nrecipient = \"org:b\"\n"
      "max_tlp = \"amber\"\nobject_types = [\"*\"]\n";
  EXPECT_EQ(ErrorOf(s), "p.toml:10:1: [[agreement]] x needs 'legal_basis'");
  s = std::string(kOrgs) +
      "[[agreement]]\nid = \"x\"\nproducer = \"org:a\"\nrecipient = \"community:c\"\n"
      "max_tlp = \"amber+strict\"\nobject_types = [\"*\"]\nlegal_basis = \"l\"\n";
  EXPECT_EQ(ErrorOf(s),
            "p.toml:13:13: AMBER+STRICT needs a recipient organisation, not a community");
  EXPECT_EQ(ErrorOf("[[organisation]]\nname = \"x\"\nidentity = "
                    "\"identity--00000000-0000-4000-8000-00000000000a\"\n"
                    "country = \"france\"\n"),
            "p.toml:4:11: country must be an ISO 3166-1 alpha-2 code such as \"FR\"");
  EXPECT_EQ(ErrorOf("[[organisation]]\nname = \"x\"\nidentity = "
                    "\"identity--00000000-0000-4000-8000-00000000000a\"\n"
                    "communities = [\"nope\"]\n"),
            "p.toml:4:15: unknown community 'nope' (declare it in a [[community]] table)");
  s = std::string(kOrgs) +
      "[[agreement]]\nid = \"x\"\nproducer = \"org:a\"\nrecipient = \"org:b\"\n"
      "max_tlp = \"amber\"\nobject_types = [\"*\"]\nlegal_basis = \"l\"\nexpires = \"tomorrow\"\n";
  EXPECT_NE(ErrorOf(s).find("p.toml:17:11: 'expires': "), std::string::npos) << ErrorOf(s);
}

TEST(PolicyToml, MatrixFixtureLoads) {
  auto m = ParsePolicyToml(kMatrixToml, "matrix.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->organisations.size(), 5u);
  EXPECT_EQ(m->agreements.size(), 3u);
  EXPECT_TRUE(m->FindAgreement("prod-direct")->reshare);
}

std::string Indicator(const char* tlp_marking) {
  return std::string(
             R"({"type":"indicator","id":"indicator--22222222-2222-4222-8222-222222222222",)") +
         R"("created_by_ref":")" + kProd + R"(","pattern":"[x:y = 'z']","pattern_type":"stix",)" +
         R"("valid_from":"2026-01-01T00:00:00Z","object_marking_refs":[")" + tlp_marking + "\"]}";
}
constexpr const char* kAmber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";

TEST(Agreements, ExpiryAndValidFromAreEnforcedAtOnce) {
  std::string toml = kMatrixToml;
  // Give the direct agreements a window.
  auto m = ParsePolicyToml(toml, "m.toml");
  ASSERT_TRUE(m.ok());
  for (auto& a : m->agreements) {
    a.valid_from = At("2026-01-01T00:00:00Z");
    a.expires = At("2026-07-01T00:00:00Z");
  }
  Policy policy(std::move(*m));
  json::JsonParser p;
  auto e = p.Parse(Indicator(kAmber));
  Reader direct{"direct", false}, reshare{"reshare", false};
  EXPECT_EQ(policy.DecideJson(direct, *e, {}, At("2025-12-31T23:59:59.999999Z")).verdict,
            Verdict::kWithhold);
  EXPECT_EQ(policy.DecideJson(direct, *e, {}, At("2026-01-01T00:00:00Z")).verdict, Verdict::kServe);
  EXPECT_EQ(policy.DecideJson(direct, *e, {}, At("2026-06-30T23:59:59.999999Z")).verdict,
            Verdict::kServe);
  EXPECT_EQ(policy.DecideJson(direct, *e, {}, At("2026-07-01T00:00:00Z")).verdict,
            Verdict::kWithhold);
  // The re-share chain ends with either hop.
  EXPECT_EQ(policy.DecideJson(reshare, *e, {}, At("2026-06-30T23:59:59Z")).verdict,
            Verdict::kServe);
  EXPECT_EQ(policy.DecideJson(reshare, *e, {}, At("2026-07-01T00:00:00Z")).verdict,
            Verdict::kWithhold);
  // The read scope follows too.
  EXPECT_EQ(policy.ScopeFor(direct, {}, At("2026-03-01T00:00:00Z")).grants.size(), 1u);
  EXPECT_EQ(policy.ScopeFor(direct, {}, At("2026-08-01T00:00:00Z")).grants.size(), 0u);
}

TEST(Agreements, RevocationStopsAccessAtOnce) {
  auto m = ParsePolicyToml(kMatrixToml, "m.toml");
  ASSERT_TRUE(m.ok());
  m->FindAgreement("prod-direct")->revoked_at = At("2026-05-01T12:00:00Z");
  Policy policy(std::move(*m));
  json::JsonParser p;
  auto e = p.Parse(Indicator(kAmber));
  Reader direct{"direct", false}, reshare{"reshare", false};
  // The strict agreement still grants AMBER to direct; the re-share chain hung on the revoked one.
  EXPECT_EQ(policy.DecideJson(direct, *e, {}, At("2026-05-01T12:00:01Z")).via,
            "agreement:prod-direct-strict");
  EXPECT_EQ(policy.DecideJson(reshare, *e, {}, At("2026-05-01T11:59:59Z")).verdict,
            Verdict::kServe);
  EXPECT_EQ(policy.DecideJson(reshare, *e, {}, At("2026-05-01T12:00:00Z")).verdict,
            Verdict::kWithhold);
}

TEST(Agreements, PolicyDirWithManagedRevocation) {
  std::string dir = ::testing::TempDir() + "/policydir_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/policy.toml") << kMatrixToml; }
  AgreementChanges c;
  Agreement added;
  added.id = "prod-member";
  added.producer = *ParseParty("org:prod");
  added.recipient = *ParseParty("org:member");
  added.max_tlp = Tlp::kAmber;
  added.legal_basis = "MoU 2026/7 \"quoted\"";
  added.withhold_sco_types = {"email-addr"};
  c.added.push_back(added);
  c.revocations.push_back({"prod-direct", At("2026-02-01T00:00:00Z"), "ended"});
  ASSERT_TRUE(SaveAgreementChanges(dir + "/agreements.toml", c).ok());
  auto m = LoadPolicyDir(dir);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE(m->FindAgreement("prod-member"), nullptr);
  EXPECT_EQ(m->FindAgreement("prod-member")->legal_basis, "MoU 2026/7 \"quoted\"");
  EXPECT_EQ(m->FindAgreement("prod-member")->withhold_sco_types,
            std::vector<std::string>{"email-addr"});
  ASSERT_TRUE(m->FindAgreement("prod-direct")->revoked_at.has_value());
  // A revocation of an unknown agreement is refused with its line.
  c.revocations.push_back({"nope", At("2026-02-01T00:00:00Z"), ""});
  ASSERT_TRUE(SaveAgreementChanges(dir + "/agreements.toml", c).ok());
  auto bad = LoadPolicyDir(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("agreements.toml:"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("unknown agreement 'nope'"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// The loader indexes agreement ids in sets (a linear lookup per agreement
// made it quadratic); each way an id can repeat must still be refused.
TEST(Agreements, AnAgreementIdIsDefinedOnceAcrossBothFiles) {
  const std::string again =
      std::string(kMatrixToml) +
      "\n[[agreement]]\nid = \"prod-direct\"\nproducer = \"org:prod\"\n"
      "recipient = \"org:member\"\nmax_tlp = \"green\"\nobject_types = [\"*\"]\n"
      "legal_basis = \"test\"\n";
  auto twice = ParsePolicyToml(again, "m.toml");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("agreement 'prod-direct' defined twice"),
            std::string::npos)
      << twice.status().message();

  std::string dir = ::testing::TempDir() + "/policyids_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/policy.toml") << kMatrixToml; }
  AgreementChanges c;
  Agreement added;
  added.id = "prod-direct";
  added.producer = *ParseParty("org:prod");
  added.recipient = *ParseParty("org:member");
  added.legal_basis = "test";
  c.added.push_back(added);
  ASSERT_TRUE(SaveAgreementChanges(dir + "/agreements.toml", c).ok());
  auto both = LoadPolicyDir(dir);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("already defined in"), std::string::npos)
      << both.status().message();
  // A party the model does not know is still found, by name, in the set.
  c.added[0].id = "prod-nobody";
  c.added[0].recipient = *ParseParty("org:nobody");
  ASSERT_TRUE(SaveAgreementChanges(dir + "/agreements.toml", c).ok());
  auto unknown = LoadPolicyDir(dir);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown org:nobody"), std::string::npos)
      << unknown.status().message();
  std::filesystem::remove_all(dir);
}

// The export's ETag names the policy by its content so that two nodes that
// loaded the same policy agree (a generation counter differs per process).
TEST(Agreements, TheDigestNamesThePolicysContentNotItsProcess) {
  auto m1 = ParsePolicyToml(kMatrixToml, "m.toml");
  auto m2 = ParsePolicyToml(kMatrixToml, "other-name.toml");
  ASSERT_TRUE(m1.ok() && m2.ok());
  Policy first(*m1), second(std::move(*m2));
  EXPECT_NE(first.generation(), second.generation());
  EXPECT_EQ(first.digest(), second.digest());
  EXPECT_EQ(first.digest().size(), 64u);
  m1->FindAgreement("prod-direct")->revoked_at = At("2026-05-01T12:00:00Z");
  Policy revoked(std::move(*m1));
  EXPECT_NE(revoked.digest(), first.digest());
}

TEST(Agreements, HolderPicksUpRevocationAtOnce) {
  std::string dir = ::testing::TempDir() + "/holder_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  { std::ofstream(dir + "/policy.toml") << kMatrixToml; }
  auto holder = PolicyHolder::Open(dir);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  json::JsonParser p;
  auto e = p.Parse(Indicator(kAmber));
  Timestamp now = At("2026-06-01T00:00:00Z");
  EXPECT_EQ((*holder)->Current()->DecideJson({"reshare", false}, *e, {}, now).verdict,
            Verdict::kServe);
  AgreementChanges c;
  c.revocations.push_back({"prod-direct", At("2026-01-01T00:00:00Z"), "stop"});
  ASSERT_TRUE(SaveAgreementChanges(dir + "/agreements.toml", c).ok());
  EXPECT_EQ((*holder)->Current()->DecideJson({"reshare", false}, *e, {}, now).verdict,
            Verdict::kWithhold);
  // A broken edit keeps the last good policy in force and reports why.
  { std::ofstream(dir + "/agreements.toml") << "[[revocation]]\nagreement = 1\n"; }
  EXPECT_EQ((*holder)->Current()->DecideJson({"reshare", false}, *e, {}, now).verdict,
            Verdict::kWithhold);
  EXPECT_NE((*holder)->last_reload_error().message().find("agreements.toml:2:13:"),
            std::string::npos)
      << (*holder)->last_reload_error().message();
  // The hub refuses to start on it.
  EXPECT_FALSE(PolicyHolder::Open(dir).ok());
  std::filesystem::remove_all(dir);
}

TEST(Agreements, CommunityProducerAndRecipient) {
  const char* toml = R"(
[[community]]
name = "units"
[[organisation]]
name = "ipo"
identity = "identity--00000000-0000-4000-8000-0000000000a1"
[[organisation]]
name = "fr"
identity = "identity--00000000-0000-4000-8000-0000000000a2"
communities = ["units"]
[[organisation]]
name = "de"
identity = "identity--00000000-0000-4000-8000-0000000000a3"
communities = ["units"]
[[agreement]]
id = "units-to-ipo"
producer = "community:units"
recipient = "org:ipo"
max_tlp = "amber"
object_types = ["sighting"]
legal_basis = "l"
)";
  auto m = ParsePolicyToml(toml, "c.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Policy policy(std::move(*m));
  json::JsonParser p;
  std::string sighting =
      R"({"type":"sighting","id":"sighting--33333333-3333-4333-8333-333333333333",)"
      R"("created_by_ref":"identity--00000000-0000-4000-8000-0000000000a2",)"
      R"("sighting_of_ref":"indicator--22222222-2222-4222-8222-222222222222"})";
  auto e = p.Parse(sighting);
  Timestamp now = At("2026-06-01T00:00:00Z");
  EXPECT_EQ(policy.DecideJson({"ipo", false}, *e, {}, now).via, "agreement:units-to-ipo");
  // Unmarked AMBER (the default): another unit is not a recipient, and GREEN community
  // membership does not reach AMBER.
  EXPECT_EQ(policy.DecideJson({"de", false}, *e, {}, now).verdict, Verdict::kWithhold);
  CollectionMarking green;
  green.default_tlp = Tlp::kGreen;
  EXPECT_EQ(policy.DecideJson({"de", false}, *e, green, now).via, "community:units");
}

}  // namespace
}  // namespace ctihub::policy
