// Start-up recovery (recovery.h) with two hub nodes over one PostgreSQL
// database (issue 16: a node restarted while another ingests). Needs the test
// cluster (CTest fixture pg_cluster; store/testing/store_conformance.h).
#include "cli/recovery.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "cli/hub_context.h"
#include "store/postgres/postgres_store.h"
#include "store/testing/store_conformance.h"

namespace ctihub::cli {
namespace {

using store::suite::Obj;
using store::suite::OpenTestPostgresStore;
using store::suite::TempDir;
using store::suite::Uuid;

// Two nodes (stores with their own node id) over one schema; node A has its
// data directory (audit trail) in a_data_.
class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = Node("node-a");
    b_ = Node("node-b");
    ASSERT_TRUE(a_ && b_);
    ASSERT_TRUE(a_->PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    auto c = a_->AddCollection(store::Collection{"", "api1", "Main", "", "main", {"org:*"}, {}});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collection_ = c->id;
  }

  std::unique_ptr<store::Store> Node(const std::string& node) {
    store::PostgresOptions o;
    o.node_id = node;
    auto s = OpenTestPostgresStore(db_.path(), std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  void Write(store::Store& node, const std::string& id, const std::string& status = "") {
    auto r = node.WriteObjects(collection_, {Obj(id, "2024-01-01T00:00:00Z")}, status).get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  int64_t RecordsNaming(const std::string& id) {
    audit::Filter f;
    f.object_id = id;
    auto recs = audit::Query(a_data_.path(), f);
    EXPECT_TRUE(recs.ok()) << recs.status().ToString();
    return recs.ok() ? static_cast<int64_t>(recs->size()) : -1;
  }

  TempDir db_;      // names the database schema the nodes share
  TempDir a_data_;  // node A's data directory
  std::unique_ptr<store::Store> a_, b_;
  std::string collection_;
};

// Node A restarts while node B has a write in flight (its status pending)
// and versions of its own: A's recovery finishes and records only A's.
TEST_F(RecoveryTest, RestartingANodeLeavesTheOtherNodesWritesAlone) {
  const std::string of_a = "indicator--" + Uuid(1);  // stored by A, its record lost
  const std::string of_b = "indicator--" + Uuid(2);  // stored by B (B's trail records it)
  const std::string b_pending = "indicator--" + Uuid(3);
  Write(*a_, of_a);
  Write(*b_, of_b);
  store::StatusResource s;
  s.id = Uuid(900);
  s.api_root = "api1";
  s.status = "pending";
  s.total_count = 1;
  s.pending_count = 1;
  s.pendings = {{b_pending, "2024-01-01T00:00:00.000Z", ""}};
  ASSERT_TRUE(b_->CreateStatus(s).ok());

  a_.reset();  // node A stops, then starts again
  a_ = Node("node-a");
  ASSERT_TRUE(a_);
  auto log = audit::AuditLog::Open(a_data_.path());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  Status recovered = RecoverAfterStop(*a_, **log, a_data_.path());
  ASSERT_TRUE(recovered.ok()) << recovered.ToString();

  // B's status is still B's to complete, and it completes normally.
  auto st = b_->GetStatus("api1", s.id);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->status, "pending");
  Write(*b_, b_pending, s.id);
  st = a_->GetStatus("api1", s.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "complete");
  EXPECT_EQ(st->success_count, 1);
  EXPECT_EQ(st->failure_count, 0);

  // A's trail recovered A's version and none of B's.
  EXPECT_EQ(RecordsNaming(of_a), 1);
  EXPECT_EQ(RecordsNaming(of_b), 0);
  EXPECT_EQ(RecordsNaming(b_pending), 0);
  // A's `audit verify` cross-checks A's versions only: B writing on is fine.
  audit::VerifyOptions vo;
  vo.store_versions = StoreVersionLister(*a_);
  auto v = audit::Verify(a_data_.path(), vo);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->intact) << v->reason;
  EXPECT_TRUE(v->store_checked);
}

// The node a data directory is: made once, then the same on every open; a
// damaged file is an error, never a new identity (which would orphan the
// node's pending statuses and unrecorded versions).
TEST(NodeIdTest, IsMadeOnceAndKept) {
  TempDir dir;
  auto first = NodeIdOf(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->size(), 36u);
  auto again = NodeIdOf(dir.path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  TempDir other;
  EXPECT_NE(*NodeIdOf(other.path()), *first);
  std::ofstream(dir.path() + "/node.id") << "not a uuid\n";
  auto damaged = NodeIdOf(dir.path());
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().name(), "bad_node_id");
}

}  // namespace
}  // namespace ctihub::cli
