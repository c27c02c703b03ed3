// AuditChainCopier over a store that keeps audit chains (the MemoryStore
// plays the PostgreSQL database, as in the store conformance suite): what it
// copies, two processes of one node copying at once, and the cross-checks.
#include "cli/audit_chains.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/testing/memory_store.h"

namespace ctihub::cli {
namespace {

class AuditChainsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/audit_chains_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_);
  }
  void TearDown() override {
    logs_.clear();
    std::filesystem::remove_all(base_);
  }

  std::string Dir(const std::string& node) { return base_ + "/" + node; }

  audit::AuditLog& Log(const std::string& node) {
    auto& log = logs_[node];
    if (!log) {
      audit::Options opt;
      opt.checkpoint_every = 4;
      auto opened = audit::AuditLog::Open(Dir(node), opt);
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      log = std::move(*opened);
    }
    return *log;
  }

  // n request records on `node`'s trail, committed.
  void Requests(const std::string& node, int n) {
    audit::AuditLog& log = Log(node);
    for (int i = 0; i < n; ++i) {
      audit::Record r;
      r.user = "alice";
      r.org = "police";
      r.action = std::string(audit::action::kRequest);
      r.route = "GET /taxii2/";
      r.status = 200;
      ASSERT_TRUE(log.Append(std::move(r)).ok());
    }
    ASSERT_TRUE(log.Flush().ok());
  }

  std::unique_ptr<AuditChainCopier> Copier(const std::string& node) {
    return std::make_unique<AuditChainCopier>(store_, &Log(node), Dir(node), node);
  }

  const store::AuditChainNode* Chain(const std::string& node) {
    auto chains = store_.ListAuditChains();
    EXPECT_TRUE(chains.ok());
    if (!chains.ok()) return nullptr;
    listed_ = std::move(*chains);
    for (const auto& c : listed_)
      if (c.node == node) return &c;
    return nullptr;
  }

  audit::ChainsReport Verify(const std::string& local_node = "") {
    auto reader = StoreChainReader(store_);
    audit::ChainsOptions options;
    if (!local_node.empty()) {
      options.local_node = local_node;
      options.local_data_dir = Dir(local_node);
    }
    auto rep = audit::VerifyChains(*reader, options);
    EXPECT_TRUE(rep.ok()) << rep.status().ToString();
    return rep.ok() ? *rep : audit::ChainsReport{};
  }

  std::string base_;
  store::MemoryStore store_;
  std::map<std::string, std::unique_ptr<audit::AuditLog>> logs_;
  std::vector<store::AuditChainNode> listed_;
};

TEST_F(AuditChainsTest, CopiesTheTrailUpToItsSignedHead) {
  Requests("a", 9);
  auto copier = Copier("a");
  ASSERT_TRUE(copier->CopyOnce().ok());
  const store::AuditChainNode* a = Chain("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->last_seq, 9);
  EXPECT_EQ(a->head.seq, 9);
  EXPECT_FALSE(a->head.signature.empty());
  Requests("a", 3);
  ASSERT_TRUE(copier->CopyOnce().ok());
  EXPECT_EQ(Chain("a")->head.seq, 12);
  audit::ChainsReport rep = Verify("a");
  EXPECT_TRUE(rep.intact) << rep.reason;
  EXPECT_EQ(rep.records, 12);
  EXPECT_EQ(rep.checkpoints, 3);  // every 4 records
}

// `audit verify --db` copies the node's trail while the serving node's
// copier runs: the slower one finds its piece does not continue the copy
// and goes on from where the copy ends, with no error to log.
TEST_F(AuditChainsTest, TwoProcessesOfOneNodeCopyingAtOnceNeverFail) {
  Requests("a", 5);
  auto serving = Copier("a");
  auto verifying = Copier("a");
  ASSERT_TRUE(serving->CopyOnce().ok());
  ASSERT_TRUE(verifying->CopyOnce().ok());  // nothing new: both at seq 5
  Requests("a", 4);
  ASSERT_TRUE(verifying->CopyOnce().ok());  // copies 6..9
  Requests("a", 2);
  Status st = serving->CopyOnce();  // still believes the copy ends at 5
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Chain("a")->last_seq, 11);
  EXPECT_EQ(Chain("a")->head.seq, 11);
  EXPECT_TRUE(Verify("a").intact);
}

TEST_F(AuditChainsTest, ACrossCheckNamesTheOtherNodesHeadOnlyWhenItMoved) {
  Requests("a", 3);
  Requests("b", 5);
  auto a = Copier("a");
  auto b = Copier("b");
  ASSERT_TRUE(a->CopyOnce().ok());
  ASSERT_TRUE(b->CopyOnce().ok());
  ASSERT_TRUE(a->CrossCheckOnce(/*force=*/true).ok());
  EXPECT_EQ(Log("a").committed_seq(), 4);  // the audit.crosscheck record
  ASSERT_TRUE(a->CopyOnce().ok());
  ASSERT_TRUE(a->CrossCheckOnce(/*force=*/true).ok());
  EXPECT_EQ(Log("a").committed_seq(), 4);  // b did not move: nothing to witness
  audit::ChainsReport rep = Verify("a");
  EXPECT_TRUE(rep.intact) << rep.reason;
  EXPECT_EQ(rep.nodes, 2);
  EXPECT_EQ(rep.crosschecks, 1);
  Requests("b", 1);
  ASSERT_TRUE(b->CopyOnce().ok());
  ASSERT_TRUE(a->CrossCheckOnce(/*force=*/true).ok());
  EXPECT_EQ(Log("a").committed_seq(), 5);
}

// Due only every crosscheck_every; the first one is due at once.
TEST_F(AuditChainsTest, ACrossCheckIsNotDueBeforeItsInterval) {
  Requests("a", 2);
  Requests("b", 2);
  AuditChainCopier::Options slow;
  slow.crosscheck_every = std::chrono::hours(24 * 365);  // longer than any uptime
  AuditChainCopier a(store_, &Log("a"), Dir("a"), "a", slow);
  auto b = Copier("b");
  ASSERT_TRUE(a.CopyOnce().ok());
  ASSERT_TRUE(b->CopyOnce().ok());
  ASSERT_TRUE(a.CrossCheckOnce().ok());
  EXPECT_EQ(Log("a").committed_seq(), 3);
  Requests("b", 1);
  ASSERT_TRUE(b->CopyOnce().ok());
  ASSERT_TRUE(a.CrossCheckOnce().ok());
  EXPECT_EQ(Log("a").committed_seq(), 3);  // b moved, but the interval has not passed
}

TEST_F(AuditChainsTest, WithoutALogTheCopierOnlyCopies) {
  Requests("a", 2);
  AuditChainCopier copier(store_, nullptr, Dir("a"), "a");
  EXPECT_TRUE(copier.CopyOnce().ok());
  EXPECT_FALSE(copier.CrossCheckOnce(true).ok());
}

}  // namespace
}  // namespace ctihub::cli
