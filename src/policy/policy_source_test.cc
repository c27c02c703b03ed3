// PolicySource consumers over a test double: PolicyHolder notices a change by
// the source's revision alone, keeps the last good policy when a document
// breaks or the source cannot be read (logging a lasting failure once), and
// refuses to open on an unreadable source; an agreement edit that loses a
// race with another writer is redone on the new documents, never lost.
#include "policy/policy_source.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "policy/agreement_edit.h"
#include "policy/policy_holder.h"

namespace ctihub::policy {
namespace {

constexpr const char* kIdA = "identity--00000000-0000-4000-8000-00000000000a";
constexpr const char* kIdB = "identity--00000000-0000-4000-8000-00000000000b";

// The documents in memory, with a revision counter (what the database keeps).
class MemorySource final : public PolicySource {
 public:
  struct State {
    std::mutex mu;
    std::optional<std::string> policy, agreements;
    int64_t revision = 0;
    Status fail;                     // not OK: Revision and Read answer it
    int revision_calls = 0;          // Revision() calls so far
    std::function<void()> on_write;  // called first by each Write (another writer's turn)
  };

  explicit MemorySource(State& s) : s_(s) {}
  std::string Describe() const override { return "memory"; }

  Result<std::string> Revision() override {
    std::lock_guard<std::mutex> l(s_.mu);
    ++s_.revision_calls;
    if (!s_.fail.ok()) return s_.fail;
    return std::to_string(s_.revision);
  }

  Result<PolicyTexts> Read() override {
    std::lock_guard<std::mutex> l(s_.mu);
    if (!s_.fail.ok()) return s_.fail;
    PolicyTexts t;
    t.policy = s_.policy;
    t.agreements = s_.agreements;
    t.policy_name = "memory:policy.toml";
    t.agreements_name = "memory:agreements.toml";
    t.revision = std::to_string(s_.revision);
    return t;
  }

  Status Write(std::string_view name, const std::optional<std::string>& text,
               const std::string& expected) override {
    if (s_.on_write) {
      auto hook = std::move(s_.on_write);
      s_.on_write = nullptr;
      hook();
    }
    std::lock_guard<std::mutex> l(s_.mu);
    if (std::to_string(s_.revision) != expected) return Conflict("policy_changed", "changed");
    (name == kPolicyDocument ? s_.policy : s_.agreements) = text;
    ++s_.revision;
    return Status::Ok();
  }

  // Another writer's change.
  static void Set(State& s, std::optional<std::string> MemorySource::State::*doc,
                  std::optional<std::string> text, bool bump = true) {
    std::lock_guard<std::mutex> l(s.mu);
    s.*doc = std::move(text);
    if (bump) ++s.revision;
  }

 private:
  State& s_;
};

using Doc = std::optional<std::string> MemorySource::State::*;
constexpr Doc kPolicy = &MemorySource::State::policy;

PolicyHolder::KnownOrgsFn Orgs() {
  return [] {
    return Result<std::vector<KnownOrg>>(std::vector<KnownOrg>{{"acme", kIdA}, {"beta", kIdB}});
  };
}

TEST(PolicySourceHolderTest, ReloadsWhenTheRevisionChangesAndOnlyThen) {
  MemorySource::State s;
  auto h =
      PolicyHolder::Open(std::make_unique<MemorySource>(s), std::chrono::milliseconds(0), Orgs());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kAmber);
  // The text changes but the revision does not: nothing to notice.
  MemorySource::Set(s, kPolicy, "[defaults]\nunmarked_tlp = \"clear\"\n", /*bump=*/false);
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kAmber);
  {
    std::lock_guard<std::mutex> l(s.mu);
    ++s.revision;
  }
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kClear);
}

TEST(PolicySourceHolderTest, ChecksTheRevisionAtMostOncePerInterval) {
  MemorySource::State s;
  auto h = PolicyHolder::Open(std::make_unique<MemorySource>(s), std::chrono::hours(1), Orgs());
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 100; ++i) (void)(*h)->Current();
  EXPECT_EQ(s.revision_calls, 0);
  h = PolicyHolder::Open(std::make_unique<MemorySource>(s), std::chrono::milliseconds(20), Orgs());
  ASSERT_TRUE(h.ok());
  MemorySource::Set(s, kPolicy, "[defaults]\nunmarked_tlp = \"clear\"\n");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((*h)->Current()->model().unmarked_tlp != Tlp::kClear &&
         std::chrono::steady_clock::now() < deadline) {
  }
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kClear);
}

TEST(PolicySourceHolderTest, ABrokenDocumentKeepsTheLastGoodPolicy) {
  MemorySource::State s;
  s.policy = "[defaults]\nunmarked_tlp = \"clear\"\n";
  auto h =
      PolicyHolder::Open(std::make_unique<MemorySource>(s), std::chrono::milliseconds(0), Orgs());
  ASSERT_TRUE(h.ok());
  std::vector<std::string> logged;
  (*h)->SetOnReloadError([&](const Status& st) { logged.push_back(st.NamedMessage()); });
  MemorySource::Set(s, kPolicy, "[defaults\n");
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kClear);
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kClear);
  EXPECT_FALSE((*h)->last_reload_error().ok());
  ASSERT_EQ(logged.size(), 1u);  // retried when it changes again, not at every check
  EXPECT_NE(logged[0].find("memory:policy.toml:1"), std::string::npos) << logged[0];
  MemorySource::Set(s, kPolicy, "[defaults]\nunmarked_tlp = \"green\"\n");
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kGreen);
  EXPECT_TRUE((*h)->last_reload_error().ok());
}

TEST(PolicySourceHolderTest, AnUnreadableSourceKeepsThePolicyAndIsLoggedOnce) {
  MemorySource::State s;
  s.policy = "[defaults]\nunmarked_tlp = \"clear\"\n";
  auto h =
      PolicyHolder::Open(std::make_unique<MemorySource>(s), std::chrono::milliseconds(0), Orgs());
  ASSERT_TRUE(h.ok());
  std::vector<std::string> logged;
  (*h)->SetOnReloadError([&](const Status& st) { logged.push_back(st.NamedMessage()); });
  s.fail = Unavailable("db_unavailable", "database down");
  for (int i = 0; i < 5; ++i) EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kClear);
  EXPECT_EQ((*h)->last_reload_error().name(), "db_unavailable");
  EXPECT_EQ(logged.size(), 1u);
  // Back, nothing changed: healthy again (not stuck at db_unavailable).
  s.fail = Status::Ok();
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kClear);
  EXPECT_TRUE((*h)->last_reload_error().ok()) << (*h)->last_reload_error().ToString();
  // A broken document outlives a read failure: it is still broken afterwards.
  MemorySource::Set(s, kPolicy, "[defaults\n");
  (void)(*h)->Current();
  s.fail = Unavailable("db_unavailable", "database down");
  (void)(*h)->Current();
  EXPECT_EQ((*h)->last_reload_error().name(), "db_unavailable");
  s.fail = Status::Ok();
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kClear);
  EXPECT_NE((*h)->last_reload_error().NamedMessage().find("memory:policy.toml:1"),
            std::string::npos)
      << (*h)->last_reload_error().ToString();
  // A change is picked up.
  MemorySource::Set(s, kPolicy, "[defaults]\nunmarked_tlp = \"green\"\n");
  EXPECT_EQ((*h)->Current()->model().unmarked_tlp, Tlp::kGreen);
  EXPECT_TRUE((*h)->last_reload_error().ok());
}

TEST(PolicySourceHolderTest, OpenRefusesASourceItCannotRead) {
  MemorySource::State s;
  s.fail = Unavailable("db_unavailable", "database down");
  auto h =
      PolicyHolder::Open(std::make_unique<MemorySource>(s), std::chrono::milliseconds(0), Orgs());
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().NamedMessage().find("db_unavailable"), std::string::npos)
      << h.status().ToString();
  s.fail = Status::Ok();
  s.policy = "[defaults\n";
  h = PolicyHolder::Open(std::make_unique<MemorySource>(s), std::chrono::milliseconds(0), Orgs());
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("memory:policy.toml:1"), std::string::npos);
}

AgreementDraft Draft(const std::string& id) {
  AgreementDraft d;
  d.id = id;
  d.producer = "org:acme";
  d.recipient = "org:beta";
  d.max_tlp = "amber";
  d.types = {"indicator"};
  d.legal_basis = "test";
  return d;
}

// Another writer adds an agreement between this edit's read and its write:
// the write is refused (compare-and-set), the edit is redone on the new
// documents, and both agreements are kept.
TEST(PolicySourceEditTest, AnEditThatLostARaceIsRedoneNotLost) {
  MemorySource::State s;
  MemorySource source(s);
  auto mine = BuildAgreement(Draft("mine"));
  auto theirs = BuildAgreement(Draft("theirs"));
  ASSERT_TRUE(mine.ok() && theirs.ok());
  int recorded = 0;
  auto record = [&](const std::string&) {
    ++recorded;
    return Status::Ok();
  };
  s.on_write = [&] {
    AgreementChanges changes;
    changes.added.push_back(*theirs);
    MemorySource::Set(s, &MemorySource::State::agreements, AgreementChangesToml(changes));
  };
  Status st = AddAgreement(source, Orgs(), *mine, record);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(recorded, 1);
  auto with_orgs = LoadPolicyWithOrgs(source, Orgs());
  ASSERT_TRUE(with_orgs.ok()) << with_orgs.status().ToString();
  EXPECT_NE(with_orgs->FindAgreement("mine"), nullptr);
  EXPECT_NE(with_orgs->FindAgreement("theirs"), nullptr);
  EXPECT_EQ(s.revision, 2);
}

}  // namespace
}  // namespace ctihub::policy
