#include "audit/chains.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "sqlite/db.h"

namespace ctihub::audit {
namespace {

// The database's copy of the chains, as store::Store keeps them.
class MemoryChains : public ChainReader {
 public:
  std::map<std::string, Node> nodes;
  std::map<std::string, std::vector<ChainEntry>> records;
  std::map<std::string, std::vector<ChainSeal>> checkpoints;

  // What cli's AuditChainCopier does with a piece.
  void Copy(const std::string& node, const ChainPiece& piece) {
    Node& n = nodes[node];
    n.node = node;
    n.public_key_hex = piece.public_key_hex;
    for (const auto& r : piece.records) records[node].push_back(r);
    for (const auto& c : piece.checkpoints) checkpoints[node].push_back(c);
    if (!records[node].empty()) n.last_seq = records[node].back().seq;
    if (piece.head.seq > 0) n.head = piece.head;
  }

  Result<std::vector<Node>> Nodes() override {
    std::vector<Node> out;
    for (const auto& [name, n] : nodes) out.push_back(n);
    return out;
  }
  Result<std::vector<ChainEntry>> Records(const std::string& node, int64_t after_seq,
                                          size_t limit) override {
    std::vector<ChainEntry> out;
    for (const auto& r : records[node]) {
      if (r.seq > after_seq && out.size() < limit) out.push_back(r);
    }
    return out;
  }
  Result<std::vector<ChainSeal>> Checkpoints(const std::string& node) override {
    return checkpoints[node];
  }
};

class ChainsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = ::testing::TempDir() + "/chains_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(base_);
    std::filesystem::create_directories(base_);
  }
  void TearDown() override { std::filesystem::remove_all(base_); }

  std::string Dir(const std::string& node) { return base_ + "/" + node; }

  void Append(const std::string& node, int n, std::vector<Record> extra = {}) {
    Options opt;
    opt.checkpoint_every = 4;
    auto log = AuditLog::Open(Dir(node), opt);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < n; ++i) {
      Record r;
      r.user = "alice";
      r.org = "police";
      r.action = std::string(action::kRequest);
      r.route = "GET /taxii2/";
      r.status = 200;
      ASSERT_TRUE((*log)->Append(std::move(r)).ok());
    }
    for (auto& r : extra) ASSERT_TRUE((*log)->Append(std::move(r)).ok());
    ASSERT_TRUE((*log)->Flush().ok());
  }

  // Copies whatever the node's trail has beyond the database's copy.
  void CopyAll(const std::string& node) {
    const int64_t after = db_.nodes.count(node) ? db_.nodes[node].last_seq : 0;
    auto piece = ReadChainPiece(Dir(node), after, 1000);
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    db_.Copy(node, *piece);
  }

  // Node `witness` records the head the database holds for `other`.
  void Witness(const std::string& witness, const std::string& other) {
    const ChainSeal& h = db_.nodes[other].head;
    Append(witness, 0, {CrossCheckRecord({{other, h.seq, h.hash}})});
    CopyAll(witness);
  }

  ChainsReport MustVerify(const ChainsOptions& options = {}) {
    auto rep = VerifyChains(db_, options);
    EXPECT_TRUE(rep.ok()) << rep.status().ToString();
    return rep.ok() ? *rep : ChainsReport{};
  }

  std::string base_;
  MemoryChains db_;
};

TEST_F(ChainsTest, TwoNodesCopiedAndCrossCheckedVerify) {
  Append("a", 5);
  Append("b", 9);
  CopyAll("a");
  CopyAll("b");
  Witness("a", "b");
  Witness("b", "a");
  ChainsReport rep = MustVerify();
  EXPECT_TRUE(rep.intact) << rep.broken_node << " " << rep.reason;
  EXPECT_EQ(rep.nodes, 2);
  EXPECT_EQ(rep.records, 5 + 1 + 9 + 1);
  EXPECT_EQ(rep.crosschecks, 2);
  EXPECT_EQ(rep.checkpoints, 1 + 2);
  rep = MustVerify({"a", Dir("a")});
  EXPECT_TRUE(rep.intact) << rep.reason;
}

TEST_F(ChainsTest, AChangedRecordIsFound) {
  Append("a", 5);
  CopyAll("a");
  db_.records["a"][2].text[10] ^= 1;
  ChainsReport rep = MustVerify();
  EXPECT_FALSE(rep.intact);
  EXPECT_EQ(rep.broken_node, "a");
  EXPECT_EQ(rep.first_broken_seq, 3);
}

TEST_F(ChainsTest, AChainReplacedUnderAnotherKeyContradictsItsWitness) {
  Append("a", 3);
  Append("b", 6);
  CopyAll("a");
  CopyAll("b");
  Witness("a", "b");
  // Someone with write access to the database swaps b's chain for another
  // one, consistent and signed with a key of their own.
  Append("forged", 6);
  db_.nodes.erase("b");
  db_.records.erase("b");
  db_.checkpoints.erase("b");
  auto forged = ReadChainPiece(Dir("forged"), 0, 1000);
  ASSERT_TRUE(forged.ok());
  db_.Copy("b", *forged);
  ChainsReport rep = MustVerify();
  EXPECT_FALSE(rep.intact);
  EXPECT_EQ(rep.broken_node, "b");
  EXPECT_NE(rep.reason.find("differs from what node a saw"), std::string::npos) << rep.reason;
}

TEST_F(ChainsTest, AChainCutBackToAnOlderSignedHeadContradictsItsWitness) {
  Append("b", 3);
  CopyAll("b");
  const ChainSeal older = db_.nodes["b"].head;
  const size_t older_checkpoints = db_.checkpoints["b"].size();
  Append("b", 6);
  CopyAll("b");
  Append("a", 2);
  CopyAll("a");
  Witness("a", "b");
  // b's own signatures still hold for the shorter chain.
  db_.records["b"].resize(static_cast<size_t>(older.seq));
  db_.checkpoints["b"].resize(older_checkpoints);
  db_.nodes["b"].head = older;
  db_.nodes["b"].last_seq = older.seq;
  ChainsReport rep = MustVerify();
  EXPECT_FALSE(rep.intact);
  EXPECT_EQ(rep.broken_node, "b");
  EXPECT_NE(rep.reason.find("truncated"), std::string::npos) << rep.reason;
}

TEST_F(ChainsTest, AChainRemovedIsNamedByItsWitness) {
  Append("a", 2);
  Append("b", 2);
  CopyAll("a");
  CopyAll("b");
  Witness("a", "b");
  db_.nodes.erase("b");
  ChainsReport rep = MustVerify();
  EXPECT_FALSE(rep.intact);
  EXPECT_EQ(rep.broken_node, "a");
  EXPECT_NE(rep.reason.find("names node b"), std::string::npos) << rep.reason;
}

TEST_F(ChainsTest, RecordsPastTheSignedHeadAreNotIntact) {
  Append("a", 3);
  CopyAll("a");
  const ChainSeal head = db_.nodes["a"].head;
  Append("a", 2);
  CopyAll("a");
  db_.nodes["a"].head = head;  // the last copy's head never arrived
  ChainsReport rep = MustVerify();
  EXPECT_FALSE(rep.intact);
  EXPECT_EQ(rep.first_broken_seq, head.seq + 1);
}

TEST_F(ChainsTest, ARemovedCheckpointBreaksTheHeadSignature) {
  Append("a", 9);
  CopyAll("a");
  db_.checkpoints["a"].erase(db_.checkpoints["a"].begin());
  db_.nodes["a"].head.checkpoints -= 1;
  EXPECT_FALSE(MustVerify().intact);
}

TEST_F(ChainsTest, TheLocalTrailMustBeTheCopyUnderItsPinnedKey) {
  Append("a", 3);
  Append("b", 3);
  CopyAll("a");
  CopyAll("b");
  EXPECT_TRUE(MustVerify({"a", Dir("a")}).intact);
  ChainsReport rep = MustVerify({"a", Dir("b")});
  EXPECT_FALSE(rep.intact);
  EXPECT_NE(rep.reason.find("pinned"), std::string::npos) << rep.reason;
  rep = MustVerify({"c", Dir("a")});
  EXPECT_FALSE(rep.intact);
}

TEST_F(ChainsTest, ALocalRecordThatNoLongerMatchesItsHashIsNeverCopied) {
  Append("a", 3);
  // Rewrite record 2 in place (the triggers forbid it: drop them first).
  auto db = sqlite::Connection::Open(Dir("a") + "/audit.db", {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)
                  ->Exec("DROP TRIGGER audit_record_no_update;"
                         "UPDATE audit_record SET user = 'mallory' WHERE seq = 2")
                  .ok());
  auto piece = ReadChainPiece(Dir("a"), 0, 1000);
  ASSERT_FALSE(piece.ok());
  EXPECT_EQ(piece.status().name(), "audit_trail_changed");
}

TEST_F(ChainsTest, APieceStopsShortOfTheHeadWithoutIt) {
  Append("a", 6);
  auto piece = ReadChainPiece(Dir("a"), 0, 2);
  ASSERT_TRUE(piece.ok());
  ASSERT_EQ(piece->records.size(), 2u);
  EXPECT_EQ(piece->head.seq, 0);
  EXPECT_EQ(piece->head_seq, 6);
}

// An export's record names every object served (megabytes for a big
// export): a piece stops at the record that reaches max_bytes.
TEST_F(ChainsTest, APieceStopsAtTheRecordThatReachesItsByteBound) {
  std::vector<Record> big(3);
  for (Record& r : big) {
    r.user = "alice";
    r.action = std::string(action::kRequest);
    r.route = "GET /export";
    r.details = "{\"note\":\"" + std::string(3000, 'x') + "\"}";
  }
  Append("a", 0, std::move(big));  // seq 1..3 (hub.init is not written here)
  auto piece = ReadChainPiece(Dir("a"), 0, 1000, 5000);
  ASSERT_TRUE(piece.ok()) << piece.status().ToString();
  ASSERT_EQ(piece->records.size(), 2u);  // 3,000+ then 6,000+ bytes: the second reaches it
  EXPECT_EQ(piece->head.seq, 0);
  auto rest = ReadChainPiece(Dir("a"), piece->records.back().seq, 1000, 5000);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->records.size(), 1u);
  EXPECT_EQ(rest->head.seq, rest->head_seq);  // the last piece carries the head
}

// who-saw over the copies: every node's served, exported and pushed records
// naming the object (each version named is a viewing, with its grant), never
// a written one, an id that only starts with the object's, or the skipped
// node's; ordered by time across nodes.
TEST_F(ChainsTest, WhoSawReadsEveryOtherNodesCopy) {
  const std::string id = "indicator--0a1b";
  auto rec = [](std::string_view action, std::string user, int64_t second,
                std::vector<ObjectRef> objects) {
    Record r;
    r.time = Timestamp::FromMicros((1700000000 + second) * 1000000);
    r.user = std::move(user);
    r.org = "police";
    r.action = std::string(action);
    r.route = "GET /taxii2/api1/collections/c/objects/";
    r.status = 200;
    r.objects = std::move(objects);
    return r;
  };
  Append("a", 0,
         {rec(action::kObjectServed, "ann", 30, {{id, "v1", "agreement:x", true}}),
          rec(action::kObjectWritten, "writer", 10, {{id, "v1"}})});
  Append("b", 0,
         {rec(action::kExport, "bob", 20, {{id, "v1", "own"}, {id, "v2", "own"}}),
          rec(action::kObjectServed, "eve", 25, {{id + "c", "v1", "own"}})});
  Append("c", 0, {rec(action::kObjectServed, "carl", 5, {{id, "v2", "public"}})});
  for (const char* n : {"a", "b", "c"}) CopyAll(n);

  auto seen = WhoSawInChains(db_, id, "c");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  std::vector<std::string> lines;
  for (const Viewing& v : *seen) {
    lines.push_back(v.node + " " + v.user + " " + v.action + " " + v.version + " " + v.grant +
                    (v.redacted ? " redacted" : ""));
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"b bob export v1 own", "b bob export v2 own",
                                             "a ann object.served v1 agreement:x redacted"}));
  EXPECT_EQ((*seen)[0].time, Timestamp::FromMicros(1700000020LL * 1000000));

  db_.records["b"][0].text = "{\"" + id + "\" is not JSON";
  EXPECT_EQ(WhoSawInChains(db_, id, "c").status().name(), "audit_record_unreadable");
}

}  // namespace
}  // namespace ctihub::audit
