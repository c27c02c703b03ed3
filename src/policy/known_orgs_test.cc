// Relay agreements (Policy::MayRelay, IdentityOf) and the store's
// organisations merged into the policy (LoadPolicyDir with KnownOrg,
// PolicyHolder::Open/Refresh, a missing policy.toml).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/json.h"
#include "policy/model.h"
#include "policy/policy.h"
#include "policy/policy_holder.h"
#include "policy/test_fixture.h"

namespace ctihub::policy {
namespace {

using namespace testing;  // NOLINT

constexpr const char* kIdA = "identity--00000000-0000-4000-8000-00000000000a";
constexpr const char* kIdB = "identity--00000000-0000-4000-8000-00000000000b";
constexpr const char* kIdC = "identity--00000000-0000-4000-8000-00000000000c";
constexpr const char* kIdS = "identity--00000000-0000-4000-8000-0000000000ff";

class TempDir {
 public:
  TempDir() {
    path_ = ::testing::TempDir() + "/known_orgs_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name, std::ios::trunc) << text;
  }

 private:
  std::string path_;
};

// ------------------------------------------------------------------ identity ids

TEST(IdentityId, FormAndVariant) {
  EXPECT_TRUE(IsIdentityId(kIdA));
  EXPECT_TRUE(IsIdentityId("identity--28aead8c-a994-4021-9abb-8fcc67c0bee6"));
  EXPECT_TRUE(IsIdentityId("identity--28AEAD8C-A994-4021-9ABB-8FCC67C0BEE6"));
  EXPECT_FALSE(IsIdentityId("identity--28aead8c-a994-4021-7abb-8fcc67c0bee6"));  // variant 0xxx
  EXPECT_FALSE(IsIdentityId("indicator--28aead8c-a994-4021-9abb-8fcc67c0bee6"));
  EXPECT_FALSE(IsIdentityId("identity--28aead8c-a994-4021-9abb-8fcc67c0bee"));
  EXPECT_FALSE(IsIdentityId("identity--28aead8c-a994-4021-9abb-8fcc67c0bee6x"));
  EXPECT_FALSE(IsIdentityId("identity--28aead8ca994-4021-9abb-8fcc67c0bee6-"));
  EXPECT_FALSE(IsIdentityId("identity--28aead8c-a994-4021-9abb-8fcc67c0beeg"));
  EXPECT_FALSE(IsIdentityId(""));
}

TEST(IdentityId, PolicyTomlChecksIt) {
  auto m = ParsePolicyToml(
      "[[organisation]]\nname = \"x\"\nidentity = "
      "\"identity--00000000-0000-4000-0000-00000000000a\"\n",
      "p.toml");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            "p.toml:3:12: identity must be a STIX identity id (identity--UUID)");
  // Optional: the store supplies it.
  m = ParsePolicyToml("[[organisation]]\nname = \"x\"\n", "p.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->organisations[0].identity_id, "");
  EXPECT_EQ(m->FindOrganisationByIdentity(""), nullptr);
}

// ------------------------------------------------------------------ relay

constexpr const char* kRelayToml = R"(
[[community]]
name = "vendors"
[[community]]
name = "units"

[[organisation]]
name = "vendor"
identity = "identity--00000000-0000-4000-8000-00000000000a"
communities = ["vendors"]

[[organisation]]
name = "ipo"
identity = "identity--00000000-0000-4000-8000-00000000000b"

[[organisation]]
name = "unit-fr"
identity = "identity--00000000-0000-4000-8000-00000000000c"
communities = ["units"]

[[organisation]]
name = "unit-de"
identity = "identity--00000000-0000-4000-8000-00000000000d"
communities = ["units"]

[[organisation]]
name = "other-vendor"
identity = "identity--00000000-0000-4000-8000-00000000000e"
communities = ["vendors"]

# ipo relays the vendor's intelligence (e.g. from a mail feed) for a year.
[[agreement]]
id = "vendor-relay-ipo"
producer = "org:vendor"
recipient = "org:ipo"
max_tlp = "amber"
object_types = ["*"]
relay = true
valid_from = "2026-01-01T00:00:00Z"
expires = "2027-01-01T00:00:00Z"
legal_basis = "l"

# Every unit may relay what every vendor produces.
[[agreement]]
id = "vendors-relay-units"
producer = "community:vendors"
recipient = "community:units"
max_tlp = "green"
object_types = ["indicator"]
relay = true
legal_basis = "l"

# A plain read grant: no relay.
[[agreement]]
id = "ipo-to-fr"
producer = "org:ipo"
recipient = "org:unit-fr"
max_tlp = "amber"
object_types = ["*"]
legal_basis = "l"
)";

TEST(Relay, TomlKeyAndRoundTrip) {
  auto m = ParsePolicyToml(kRelayToml, "r.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->FindAgreement("vendor-relay-ipo")->relay);
  EXPECT_FALSE(m->FindAgreement("ipo-to-fr")->relay);
  std::string toml = AgreementToToml(*m->FindAgreement("vendor-relay-ipo"));
  EXPECT_NE(toml.find("relay = true\n"), std::string::npos) << toml;
  auto back = ParseAgreementChangesToml(toml, "a.toml");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->added.size(), 1u);
  EXPECT_TRUE(back->added[0].relay);
  EXPECT_EQ(AgreementToToml(*m->FindAgreement("ipo-to-fr")).find("relay"), std::string::npos);
  auto bad = ParsePolicyToml(std::string(kRelayToml) + R"(
[[agreement]]
id = "x"
producer = "org:ipo"
recipient = "org:vendor"
max_tlp = "green"
object_types = ["*"]
relay = "yes"
legal_basis = "l"
)",
                             "r.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'relay' must be true or false"), std::string::npos)
      << bad.status().message();
}

TEST(Relay, MayRelay) {
  auto m = ParsePolicyToml(kRelayToml, "r.toml");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Policy p(std::move(*m));
  const Timestamp in = At("2026-06-01T00:00:00Z");
  // org -> org, inside its window.
  EXPECT_TRUE(p.MayRelay("ipo", kIdA, in));
  EXPECT_FALSE(p.MayRelay("ipo", kIdA, At("2025-12-31T23:59:59Z")));  // not yet
  EXPECT_FALSE(p.MayRelay("ipo", kIdA, At("2027-01-01T00:00:00Z")));  // expired
  // Directed: the vendor may not relay for the IPO.
  EXPECT_FALSE(p.MayRelay("vendor", kIdB, in));
  // Community -> community: any unit for any vendor; not for the IPO.
  EXPECT_TRUE(p.MayRelay("unit-fr", kIdA, in));
  EXPECT_TRUE(p.MayRelay("unit-de", "identity--00000000-0000-4000-8000-00000000000e", in));
  // ... and ipo-to-fr is a read grant, not a relay grant.
  EXPECT_FALSE(p.MayRelay("unit-fr", kIdB, in));
  // Unknown writer, unknown identity, empty identity, own identity.
  EXPECT_FALSE(p.MayRelay("nobody", kIdA, in));
  EXPECT_FALSE(p.MayRelay("ipo", kIdS, in));
  EXPECT_FALSE(p.MayRelay("ipo", "", in));
  EXPECT_FALSE(p.MayRelay("ipo", kIdB, in));
  EXPECT_FALSE(p.MayRelay("", kIdA, in));
}

TEST(Relay, RevokedRelayStopsAtOnce) {
  auto m = ParsePolicyToml(kRelayToml, "r.toml");
  ASSERT_TRUE(m.ok());
  m->FindAgreement("vendor-relay-ipo")->revoked_at = At("2026-03-01T00:00:00Z");
  Policy p(std::move(*m));
  EXPECT_TRUE(p.MayRelay("ipo", kIdA, At("2026-02-28T23:59:59.999999Z")));
  EXPECT_FALSE(p.MayRelay("ipo", kIdA, At("2026-03-01T00:00:00Z")));
  // The community relay is untouched.
  EXPECT_TRUE(p.MayRelay("unit-fr", kIdA, At("2026-03-01T00:00:00Z")));
}

TEST(Relay, RevocationFromTheAgreementsFile) {
  TempDir d;
  d.Write("policy.toml", kRelayToml);
  AgreementChanges c;
  c.revocations.push_back({"vendors-relay-units", At("2026-01-01T00:00:00Z"), "ended"});
  ASSERT_TRUE(SaveAgreementChanges(d.path() + "/agreements.toml", c).ok());
  auto m = LoadPolicyDir(d.path());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Policy p(std::move(*m));
  EXPECT_FALSE(p.MayRelay("unit-fr", kIdA, At("2026-06-01T00:00:00Z")));
  EXPECT_TRUE(p.MayRelay("unit-fr", kIdA, At("2025-06-01T00:00:00Z")));
}

TEST(Relay, IdentityOf) {
  auto m = ParsePolicyToml(kRelayToml, "r.toml");
  ASSERT_TRUE(m.ok());
  Policy p(std::move(*m));
  EXPECT_EQ(p.IdentityOf("vendor"), kIdA);
  EXPECT_EQ(p.IdentityOf("unit-fr"), kIdC);
  EXPECT_EQ(p.IdentityOf("nobody"), "");
  EXPECT_EQ(p.IdentityOf(""), "");
}

// ------------------------------------------------------------------ known organisations

constexpr const char* kTwoOrgs = R"(
[[community]]
name = "c"
[[organisation]]
name = "a"
identity = "identity--00000000-0000-4000-8000-00000000000a"
communities = ["c"]
[[organisation]]
name = "b"
sector = "finance"
communities = ["c"]
)";

TEST(KnownOrgs, MergedIntoThePolicy) {
  TempDir d;
  d.Write("policy.toml", kTwoOrgs);
  // Agreements may name an organisation only the store knows.
  d.Write("agreements.toml",
          "[[agreement]]\nid = \"a-to-s\"\nproducer = \"org:a\"\nrecipient = \"org:s\"\n"
          "max_tlp = \"amber\"\nobject_types = [\"*\"]\nrelay = true\nlegal_basis = \"l\"\n");
  std::vector<KnownOrg> known = {{"a", kIdA}, {"b", kIdB}, {"s", kIdS}, {"legacy", ""}};
  auto m = LoadPolicyDir(d.path(), false, known);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->organisations.size(), 4u);
  EXPECT_EQ(m->FindOrganisation("b")->identity_id, kIdB);  // taken from the store
  EXPECT_EQ(m->FindOrganisation("b")->sector, "finance");  // kept from policy.toml
  EXPECT_EQ(m->FindOrganisation("s")->identity_id, kIdS);
  EXPECT_TRUE(m->FindOrganisation("s")->communities.empty());
  EXPECT_EQ(m->FindOrganisation("legacy")->identity_id, "");
  Policy p(std::move(*m));
  EXPECT_TRUE(p.MayRelay("s", kIdA, At("2026-01-01T00:00:00Z")));
  EXPECT_EQ(p.IdentityOf("legacy"), "");

  // Without the store, the agreement names an unknown organisation.
  auto plain = LoadPolicyDir(d.path());
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("unknown org:s"), std::string::npos);
}

TEST(KnownOrgs, OrganisationWithoutIdentityCannotReadAsProducerOrBeNamed) {
  TempDir d;
  d.Write("policy.toml", R"(
[[organisation]]
name = "a"
identity = "identity--00000000-0000-4000-8000-00000000000a"
[[agreement]]
id = "a-to-legacy"
producer = "org:a"
recipient = "org:legacy"
max_tlp = "amber"
object_types = ["*"]
legal_basis = "l"
[[agreement]]
id = "legacy-to-a"
producer = "org:legacy"
recipient = "org:a"
max_tlp = "amber"
object_types = ["*"]
legal_basis = "l"
)");
  auto m = LoadPolicyDir(d.path(), false, {{"legacy", ""}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  Policy p(std::move(*m));
  json::JsonParser parser;
  const Timestamp now = At("2026-01-01T00:00:00Z");
  // legacy reads a's AMBER objects under its agreement.
  auto from_a = parser.Parse(
      std::string(
          R"({"type":"malware","id":"malware--11111111-1111-4111-8111-111111111111","created_by_ref":")") +
      kIdA + R"(","name":"m","is_family":true})");
  ASSERT_TRUE(from_a.ok());
  EXPECT_EQ(p.DecideJson({"legacy", false}, *from_a, {}, now).via, "agreement:a-to-legacy");
  // An object without a producer is nobody's own, and an empty RED recipient names nobody.
  auto orphan = parser.Parse(
      R"({"type":"malware","id":"malware--11111111-1111-4111-8111-111111111112","name":"m",)"
      R"("is_family":true,"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"],)"
      R"("extensions":{"extension-definition--7f4a4592-aab5-4a44-b790-83343a778ab2":)"
      R"({"extension_type":"property-extension","recipient_orgs":[""]}}})");
  ASSERT_TRUE(orphan.ok());
  EXPECT_EQ(p.DecideJson({"legacy", false}, *orphan, {}, now).verdict, Verdict::kWithhold);
  ReadScope s = p.ScopeFor({"legacy", false}, {}, now);
  EXPECT_EQ(s.own_producer, "");
  EXPECT_FALSE(s.red_if_named);
  for (const auto& g : s.grants) EXPECT_FALSE(g.producer.empty());
  // a has no route from legacy: legacy produces nothing attributable.
  EXPECT_TRUE(p.ScopeFor({"a", false}, {}, now).grants.empty());
}

TEST(KnownOrgs, ConflictsAreRefused) {
  TempDir d;
  d.Write("policy.toml", kTwoOrgs);
  // Another identity for a than the store's: refused at a's table.
  auto m = LoadPolicyDir(d.path(), false, {{"a", kIdC}, {"b", kIdB}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), d.path() + "/policy.toml:4:1: organisation 'a' has identity " +
                                      kIdA + " here but " + kIdC +
                                      " in the hub database (ctihub org list): make them agree");
  // One identity, two organisations.
  m = LoadPolicyDir(d.path(), false, {{"a", kIdA}, {"b", kIdB}, {"z", kIdA}});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("policy.toml:4:1: identity " + std::string(kIdA) +
                                      " is organisation 'a' here but 'z' in the hub database"),
            std::string::npos)
      << m.status().message();
  // b takes kIdA from the store, which a already has.
  m = LoadPolicyDir(d.path(), false, {{"b", kIdA}});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("is organisation 'a' here but 'b'"), std::string::npos)
      << m.status().message();
  // Two store organisations with one identity.
  d.Write("policy.toml", "");
  m = LoadPolicyDir(d.path(), false, {{"x", kIdS}, {"y", kIdS}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(),
            "hub database: organisations 'x' and 'y' have the same identity " + std::string(kIdS));
  // A policy.toml organisation with no identity that the store does not know.
  d.Write("policy.toml", kTwoOrgs);
  m = LoadPolicyDir(d.path(), false, {{"a", kIdA}});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("policy.toml:8:1: organisation 'b' has no identity and the "
                                      "hub does not know it"),
            std::string::npos)
      << m.status().message();
}

TEST(KnownOrgs, MissingPolicyFile) {
  TempDir d;
  auto strict = LoadPolicyDir(d.path());
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), ErrorCode::kNotFound);
  auto m = LoadPolicyDir(d.path(), true, {{"a", kIdA}, {"b", kIdB}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->unmarked_tlp, Tlp::kAmber);
  EXPECT_TRUE(m->agreements.empty());
  EXPECT_EQ(m->organisations.size(), 2u);
}

// ------------------------------------------------------------------ PolicyHolder

std::string Malware(const char* producer, const char* marking = nullptr) {
  std::string s = R"({"type":"malware","id":"malware--11111111-1111-4111-8111-111111111111",)";
  s += R"("created_by_ref":")" + std::string(producer) + R"(","name":"m","is_family":true)";
  if (marking) s += R"(,"object_marking_refs":[")" + std::string(marking) + "\"]";
  return s + "}";
}
constexpr const char* kTlpClear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

TEST(Holder, WithoutPolicyFile) {
  TempDir d;
  auto h = PolicyHolder::Open(d.path(), std::chrono::milliseconds(0), [] {
    return Result<std::vector<KnownOrg>>(std::vector<KnownOrg>{{"a", kIdA}});
  });
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  auto p = (*h)->Current();
  EXPECT_EQ(p->model().unmarked_tlp, Tlp::kAmber);
  EXPECT_TRUE(p->model().agreements.empty());
  EXPECT_EQ(p->IdentityOf("a"), kIdA);
  json::JsonParser parser;
  const Timestamp now = At("2026-01-01T00:00:00Z");
  auto unmarked = parser.Parse(Malware(kIdB));
  ASSERT_TRUE(unmarked.ok());
  EXPECT_EQ(p->DecideJson({"a", false}, *unmarked, {}, now).verdict, Verdict::kWithhold);
  auto clear = parser.Parse(Malware(kIdB, kTlpClear));
  EXPECT_EQ(p->DecideJson({"a", false}, *clear, {}, now).via, "public");
  auto own = parser.Parse(Malware(kIdA));
  EXPECT_EQ(p->DecideJson({"a", false}, *own, {}, now).via, "own");
  // No store callback at all works too.
  EXPECT_TRUE(PolicyHolder::Open(d.path()).ok());
}

TEST(Holder, MalformedPolicyIsNeverAccepted) {
  TempDir d;
  d.Write("policy.toml", "[[organisation]\n");
  auto h = PolicyHolder::Open(d.path());
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("policy.toml:1:"), std::string::npos) << h.status().message();
  // A conflict with the store refuses to start too.
  d.Write("policy.toml", kTwoOrgs);
  h = PolicyHolder::Open(d.path(), std::chrono::milliseconds(0), [] {
    return Result<std::vector<KnownOrg>>(std::vector<KnownOrg>{{"a", kIdC}, {"b", kIdB}});
  });
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("make them agree"), std::string::npos);
  // And so does a store that cannot be read.
  h = PolicyHolder::Open(d.path(), std::chrono::milliseconds(0),
                         [] { return Result<std::vector<KnownOrg>>(Unavailable("db down")); });
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "reading the hub's organisations: db down");
}

// Regression (issue 12 item 12): a policy file that stopped parsing on a
// running hub kept the old policy and nobody was told.
TEST(Holder, BrokenReloadKeepsThePolicyAndIsReportedOnce) {
  TempDir d;
  d.Write("policy.toml", kTwoOrgs);
  auto h = PolicyHolder::Open(d.path());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  PolicyHolder& holder = **h;
  std::vector<std::string> reported;
  holder.SetOnReloadError([&](const Status& st) { reported.push_back(st.message()); });
  auto before = holder.Current();
  EXPECT_EQ(holder.reload_failures(), 0u);

  d.Write("policy.toml", std::string(kTwoOrgs) + "[[organisation]\n");
  auto during = holder.Current();
  EXPECT_EQ(during, before) << "the last good policy stays in force";
  EXPECT_FALSE(holder.last_reload_error().ok());
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_NE(reported[0].find("policy.toml:12:"), std::string::npos) << reported[0];
  (void)holder.Current();  // the same broken file: not reported again
  EXPECT_EQ(reported.size(), 1u);
  EXPECT_EQ(holder.reload_failures(), 1u);

  d.Write("policy.toml", std::string(kTwoOrgs) + "\n# fixed\n");
  EXPECT_NE(holder.Current(), before);
  EXPECT_TRUE(holder.last_reload_error().ok()) << holder.last_reload_error().message();
  EXPECT_EQ(reported.size(), 1u) << reported.back();
}

TEST(Holder, RefreshPicksUpNewOrganisations) {
  TempDir d;
  d.Write("policy.toml", kTwoOrgs);
  struct Store {
    std::mutex mu;
    std::vector<KnownOrg> orgs = {{"a", kIdA}, {"b", kIdB}};
    Status fail;
    int calls = 0;
  };
  auto store = std::make_shared<Store>();
  auto h = PolicyHolder::Open(d.path(), std::chrono::hours(1),
                              [store]() -> Result<std::vector<KnownOrg>> {
                                std::lock_guard<std::mutex> lk(store->mu);
                                ++store->calls;
                                if (!store->fail.ok()) return store->fail;
                                return store->orgs;
                              });
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  PolicyHolder& holder = **h;
  EXPECT_EQ(holder.Current()->IdentityOf("s"), "");
  {
    std::lock_guard<std::mutex> lk(store->mu);
    store->orgs.push_back({"s", kIdS});
  }
  // Nothing changed on disk and the interval has not passed: no store read.
  EXPECT_EQ(holder.Current()->IdentityOf("s"), "");
  EXPECT_EQ(store->calls, 1);
  holder.Refresh();
  EXPECT_EQ(holder.Current()->IdentityOf("s"), kIdS);
  EXPECT_EQ(store->calls, 2);
  EXPECT_EQ(holder.Current()->IdentityOf("s"), kIdS);
  EXPECT_EQ(store->calls, 2);  // one Refresh, one reload

  // A store error keeps the last good policy and says why.
  {
    std::lock_guard<std::mutex> lk(store->mu);
    store->fail = Unavailable("db busy");
    store->orgs.push_back({"t", kIdC});
  }
  holder.Refresh();
  EXPECT_EQ(holder.Current()->IdentityOf("s"), kIdS);
  EXPECT_NE(holder.last_reload_error().message().find("db busy"), std::string::npos);
  // A conflicting organisation keeps the last good policy too.
  {
    std::lock_guard<std::mutex> lk(store->mu);
    store->fail = Status::Ok();
    store->orgs[0].identity_id = kIdC;
  }
  holder.Refresh();
  auto p = holder.Current();
  EXPECT_EQ(p->IdentityOf("a"), kIdA);
  EXPECT_EQ(p->IdentityOf("t"), "");
  EXPECT_NE(holder.last_reload_error().message().find("make them agree"), std::string::npos);
  {
    std::lock_guard<std::mutex> lk(store->mu);
    store->orgs[0].identity_id = kIdA;
  }
  holder.Refresh();
  EXPECT_EQ(holder.Current()->IdentityOf("t"), kIdC);
  EXPECT_TRUE(holder.last_reload_error().ok());
}

TEST(Holder, StoreErrorOnAFileChangeIsRetried) {
  TempDir d;
  d.Write("policy.toml", kTwoOrgs);
  auto fail = std::make_shared<std::atomic<bool>>(false);
  auto h = PolicyHolder::Open(d.path(), std::chrono::milliseconds(0),
                              [fail]() -> Result<std::vector<KnownOrg>> {
                                if (*fail) return Unavailable("db busy");
                                return std::vector<KnownOrg>{{"a", kIdA}, {"b", kIdB}};
                              });
  ASSERT_TRUE(h.ok());
  *fail = true;
  d.Write("agreements.toml",
          "[[agreement]]\nid = \"a-b\"\nproducer = \"org:a\"\nrecipient = \"org:b\"\n"
          "max_tlp = \"amber\"\nobject_types = [\"*\"]\nlegal_basis = \"l\"\n");
  EXPECT_EQ((*h)->Current()->model().FindAgreement("a-b"), nullptr);
  EXPECT_FALSE((*h)->last_reload_error().ok());
  *fail = false;  // the same file change is loaded on the next check
  EXPECT_NE((*h)->Current()->model().FindAgreement("a-b"), nullptr);
  EXPECT_TRUE((*h)->last_reload_error().ok());
}

// Readers keep being served while one thread reloads; every Refresh is seen
// by the Current() that follows it.
TEST(Holder, ConcurrentCurrentAndRefresh) {
  TempDir d;
  d.Write("policy.toml", kTwoOrgs);
  auto next = std::make_shared<std::atomic<int>>(0);
  auto h = PolicyHolder::Open(d.path(), std::chrono::milliseconds(0),
                              [next]() -> Result<std::vector<KnownOrg>> {
                                std::vector<KnownOrg> v = {{"a", kIdA}, {"b", kIdB}};
                                int n = next->load();
                                for (int i = 0; i < n; ++i)
                                  v.push_back({"n" + std::to_string(i), ""});
                                std::this_thread::sleep_for(std::chrono::microseconds(200));
                                return v;
                              });
  ASSERT_TRUE(h.ok());
  PolicyHolder& holder = **h;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  readers.reserve(3);
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        if (holder.Current() == nullptr) ++bad;
      }
    });
  }
  for (int i = 1; i <= 50; ++i) {
    next->store(i);
    holder.Refresh();
    auto p = holder.Current();
    if (p->model().FindOrganisation("n" + std::to_string(i - 1)) == nullptr) ++bad;
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace ctihub::policy
