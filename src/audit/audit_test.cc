#include "audit/audit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "sqlite/db.h"

namespace ctihub::audit {
namespace {

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/audit_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes n records: every third one serves an object.
  void Fill(int n, Options opt = {}) {
    auto log = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < n; ++i) {
      Record r;
      r.time = Timestamp(1780000000 + i, 0);
      r.user = i % 2 ? "alice" : "bob";
      r.org = i % 2 ? "police" : "vendor";
      r.action = std::string(i % 3 == 0 ? action::kObjectServed : action::kRequest);
      r.route = "GET /taxii2/api/collections/x/objects/";
      r.status = 200;
      r.remote = "192.0.2.1";
      if (i % 3 == 0)
        r.objects = {{"indicator--" + std::to_string(i % 2), "2026-01-01T00:00:00.000Z"}};
      r.details = R"({"n":)" + std::to_string(i) + R"(,"a":"x"})";
      ASSERT_TRUE((*log)->Append(std::move(r)).ok());
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }

  void Sql(const std::string& sql) {
    auto db = sqlite::Connection::Open(dir_ + "/audit.db", {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    Status st = (*db)->Exec(
        "DROP TRIGGER IF EXISTS audit_record_no_update;"
        "DROP TRIGGER IF EXISTS audit_record_no_delete;" +
        sql);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }

  VerifyReport MustVerify(const VerifyOptions& opt = {}) {
    auto v = Verify(dir_, opt);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : VerifyReport{};
  }

  std::string dir_;
};

// A trail made before the clustered object index (a rowid table plus an index
// on (object_id, seq)) keeps working: appends, verify and who-saw.
TEST_F(AuditTest, TrailWithTheFirstObjectIndexKeepsWorking) {
  std::filesystem::create_directories(dir_);
  Sql("CREATE TABLE audit_object(object_id TEXT NOT NULL, version TEXT NOT NULL, seq INTEGER NOT "
      "NULL);"
      "CREATE INDEX audit_object_by_id ON audit_object(object_id, seq);");
  Fill(9);
  VerifyReport v = MustVerify();
  EXPECT_TRUE(v.intact) << v.reason;
  EXPECT_EQ(v.records, 9);
  auto saw = WhoSaw(dir_, "indicator--0");
  ASSERT_TRUE(saw.ok());
  EXPECT_EQ(saw->size(), 2u);  // records 1 and 7 (i = 0 and 6)
  Sql("DELETE FROM audit_object WHERE seq = 1");
  EXPECT_FALSE(MustVerify().intact);
}

// Verify on a live hub (/api/v1/audit/verify, `audit verify` beside serve):
// records and the head are committed together, so a walk that read them in
// separate snapshots saw a head past the records it had read and called the
// trail truncated. Bounded: at most 400 verifies or 5 s.
TEST_F(AuditTest, VerifyDuringAppendsReadsOneSnapshot) {
  Fill(5);
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (int i = 0; i < 100000 && !stop.load(); ++i) {
      Record r;
      r.time = Timestamp::Now();
      r.user = "alice";
      r.action = std::string(action::kRequest);
      if (!(*log)->Append(std::move(r)).ok() || !(*log)->Flush().ok()) break;
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int broken = 0, runs = 0;
  std::string reason;
  for (; runs < 400 && std::chrono::steady_clock::now() < deadline; ++runs) {
    auto v = Verify(dir_, {});
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    if (!v->intact) {
      ++broken;
      reason = v->reason;
    }
  }
  stop = true;
  appender.join();
  EXPECT_EQ(broken, 0) << broken << " of " << runs << " verifies said broken, e.g.: " << reason;
}

TEST_F(AuditTest, IntactChainVerifies) {
  Options opt;
  opt.checkpoint_every = 10;
  Fill(95, opt);
  VerifyReport v = MustVerify();
  EXPECT_TRUE(v.intact) << v.reason;
  EXPECT_EQ(v.records, 95);
  EXPECT_EQ(v.checkpoints, 9);
  EXPECT_TRUE(v.signed_head);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Reopening continues the chain.
  Fill(5, opt);
  v = MustVerify();
  EXPECT_TRUE(v.intact) << v.reason;
  EXPECT_EQ(v.records, 100);
  EXPECT_EQ(v.checkpoints, 10);
}

TEST_F(AuditTest, ChangedByteIsDetected) {
  Fill(30);
  Sql("UPDATE audit_record SET details = replace(details, '\"x\"', '\"y\"') WHERE seq = 17");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 17);
  EXPECT_NE(v.reason.find("changed"), std::string::npos) << v.reason;
}

TEST_F(AuditTest, ChangedColumnAndRecomputedHashIsDetected) {
  Fill(30);
  // The forger recomputes this record's hash; the next record's prev_hash exposes it.
  auto recs = Query(dir_, Filter{});
  ASSERT_TRUE(recs.ok());
  Record r = (*recs)[9];
  r.user = "mallory";
  std::string h = ComputeHash(r);
  Sql("UPDATE audit_record SET user = 'mallory', hash = '" + h + "' WHERE seq = 10");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 11);
}

TEST_F(AuditTest, DeletionIsDetected) {
  Fill(30);
  Sql("DELETE FROM audit_record WHERE seq = 12");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 12);
  EXPECT_NE(v.reason.find("missing"), std::string::npos) << v.reason;
}

TEST_F(AuditTest, ReorderIsDetected) {
  Fill(30);
  // Swap the contents of records 5 and 6, keeping the seq numbers in place.
  Sql("CREATE TEMP TABLE t AS SELECT * FROM audit_record WHERE seq IN (5, 6);"
      "UPDATE audit_record SET time=(SELECT time FROM t WHERE seq=6), user=(SELECT user FROM t "
      "WHERE seq=6),"
      " org=(SELECT org FROM t WHERE seq=6), action=(SELECT action FROM t WHERE seq=6),"
      " objects=(SELECT objects FROM t WHERE seq=6), details=(SELECT details FROM t WHERE seq=6),"
      " prev_hash=(SELECT prev_hash FROM t WHERE seq=6), hash=(SELECT hash FROM t WHERE seq=6) "
      "WHERE seq=5;"
      "UPDATE audit_record SET time=(SELECT time FROM t WHERE seq=5), user=(SELECT user FROM t "
      "WHERE seq=5),"
      " org=(SELECT org FROM t WHERE seq=5), action=(SELECT action FROM t WHERE seq=5),"
      " objects=(SELECT objects FROM t WHERE seq=5), details=(SELECT details FROM t WHERE seq=5),"
      " prev_hash=(SELECT prev_hash FROM t WHERE seq=5), hash=(SELECT hash FROM t WHERE seq=5) "
      "WHERE seq=6;");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 5);
  // Swapping whole rows including seq numbers breaks it too.
  std::filesystem::remove_all(dir_);
  Fill(30);
  Sql("UPDATE audit_record SET seq = -7 WHERE seq = 7; UPDATE audit_record SET seq = 7 WHERE seq = "
      "8;"
      "UPDATE audit_record SET seq = 8 WHERE seq = -7;");
  v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 7);
}

TEST_F(AuditTest, TruncationIsDetected) {
  Options opt;
  opt.checkpoint_every = 10;
  Fill(30, opt);
  Sql("DELETE FROM audit_record WHERE seq > 25");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 26);
  EXPECT_NE(v.reason.find("truncated"), std::string::npos) << v.reason;
}

TEST_F(AuditTest, TruncationWithForgedHeadIsDetected) {
  Fill(30);
  auto recs = Query(dir_, Filter{});
  ASSERT_TRUE(recs.ok());
  // The forger cuts the tail and rewrites the head, but cannot sign with the node key.
  auto forged = LoadOrCreateNodeKey(dir_ + "/forger.key");
  ASSERT_TRUE(forged.ok());
  std::string h = (*recs)[19].hash;
  std::string sig = forged->Sign("ctihub-audit-head\n20\n" + h);
  Sql("DELETE FROM audit_record WHERE seq > 20; DELETE FROM audit_object WHERE seq > 20; UPDATE "
      "audit_head SET seq = 20, hash = '" +
      h + "', public_key = '" + forged->PublicHex() + "', signature = '" + sig + "'");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_NE(v.reason.find("signature"), std::string::npos) << v.reason;
  // With the forger's key pinned the head looks fine: the pin is what makes the check.
  VerifyOptions forger;
  forger.public_key_hex = forged->PublicHex();
  auto pinned = Verify(dir_, forger);
  ASSERT_TRUE(pinned.ok());
  EXPECT_TRUE(pinned->intact) << pinned->reason;
}

TEST_F(AuditTest, TamperedObjectIndexIsDetected) {
  Fill(30);
  // Hiding a reader from who-saw by deleting its index row breaks verify.
  Sql("DELETE FROM audit_object WHERE seq = 10");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 10);
  std::filesystem::remove_all(dir_);
  Fill(30);
  Sql("INSERT INTO audit_object(object_id, version, seq) VALUES('indicator--9', 'v', 2)");
  v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 2);
}

TEST_F(AuditTest, QueryAndWhoSaw) {
  Fill(30);
  Filter f;
  f.user = "alice";
  auto r = Query(dir_, f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 15u);
  f = {};
  f.object_id = "indicator--1";
  r = Query(dir_, f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 5u);  // i = 3, 9, 15, 21, 27
  f = {};
  f.since = Timestamp(1780000010, 0);
  f.until = Timestamp(1780000020, 0);
  r = Query(dir_, f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 10u);
  EXPECT_EQ(r->front().seq, 11);
  EXPECT_EQ(r->front().details, R"({"a":"x","n":10})");  // canonicalised
  auto w = WhoSaw(dir_, "indicator--1");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 5u);
  EXPECT_EQ((*w)[0].user, "alice");
  EXPECT_EQ((*w)[0].org, "police");
  EXPECT_EQ((*w)[0].version, "2026-01-01T00:00:00.000Z");
  EXPECT_EQ((*w)[0].time, Timestamp(1780000003, 0));
  auto none = WhoSaw(dir_, "indicator--nope");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// Issue 13 (export speed): a batch's object-index rows are inserted in key
// order, not in the records' order; every (object, record, position) is still
// indexed once and the chain still verifies. (Served, not exported: export
// records' rows gather in audit_object_recent first, see below.)
TEST_F(AuditTest, ObjectIndexOfRecordsInReverseIdOrder) {
  {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int rec = 0; rec < 3; ++rec) {
      Record r;
      r.user = "exporter";
      r.action = std::string(action::kObjectServed);
      for (int i = 99; i >= 0; --i) {
        r.objects.emplace_back("indicator--" + std::to_string(1000 + i), "2026-01-01T00:00:00.000Z",
                               "admin");
      }
      ASSERT_TRUE((*log)->Append(std::move(r)).ok());
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }
  for (int i : {0, 57, 99}) {
    auto w = WhoSaw(dir_, "indicator--" + std::to_string(1000 + i));
    ASSERT_TRUE(w.ok());
    ASSERT_EQ(w->size(), 3u);
    EXPECT_EQ((*w)[0].seq + 1, (*w)[1].seq);  // oldest first
    EXPECT_EQ((*w)[0].action, "object.served");
  }
  auto db = sqlite::Connection::Open(dir_ + "/audit.db", {});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto st = (*db)->Prepare(
      "SELECT count(*), min(n), max(n) FROM audit_object WHERE object_id = 'indicator--1099'");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto row = st->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(st->Int(0), 3);
  EXPECT_EQ(st->Int(1), 0);  // first in each record's list
  EXPECT_EQ(st->Int(2), 0);
  EXPECT_TRUE(MustVerify().intact);
}

// Issue 13 (export speed): an export record's index rows are appended to
// audit_object_recent and moved into audit_export_object (keyed by bucket,
// seq, n) once index_merge_rows have gathered; before and after the merge
// who-saw, Query and Count by object find every exported object (and
// nothing for an id never exported) and the chain verifies.
TEST_F(AuditTest, ExportIndexRowsGatherThenMerge) {
  Options opt;
  opt.index_merge_rows = 250;
  auto export_record = [](int first_id) {
    Record r;
    r.user = "exporter";
    r.action = std::string(action::kExport);
    for (int i = 99; i >= 0; --i) {
      r.objects.emplace_back("indicator--" + std::to_string(first_id + i),
                             "2026-01-01T00:00:00.000Z", "admin");
    }
    return r;
  };
  auto indexed_rows = [&] {
    auto db = sqlite::Connection::Open(dir_ + "/audit.db", {});
    EXPECT_TRUE(db.ok());
    auto st = (*db)->Prepare(
        "SELECT (SELECT count(*) FROM audit_object) * 1000000 + count(*) FROM audit_export_object");
    EXPECT_TRUE(st.ok());
    auto row = st->Step();
    EXPECT_TRUE(row.ok() && *row);
    return st->Int(0);
  };
  auto expect_seen = [&](size_t times) {
    for (int i : {1000, 1057, 1099}) {
      const std::string id = "indicator--" + std::to_string(i);
      auto w = WhoSaw(dir_, id);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      ASSERT_EQ(w->size(), times) << id;
      EXPECT_EQ((*w)[0].action, "export");
      EXPECT_EQ((*w)[0].grant, "admin");
      Filter f;
      f.object_id = id;
      auto q = Query(dir_, f);
      ASSERT_TRUE(q.ok());
      EXPECT_EQ(q->size(), times);
      auto c = Count(dir_, f);
      ASSERT_TRUE(c.ok());
      EXPECT_EQ(*c, static_cast<int64_t>(times));
    }
    EXPECT_TRUE(MustVerify().intact);
  };
  {
    auto log = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append(export_record(1000)).ok());
    ASSERT_TRUE((*log)->Append(export_record(1000)).ok());
    ASSERT_TRUE((*log)->Flush().ok());
  }
  EXPECT_EQ(*UnmergedIndexRowsForTest(dir_), 200);
  EXPECT_EQ(indexed_rows(), 0);
  expect_seen(2);
  {
    auto log = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append(export_record(1000)).ok());  // 300 >= 250: merged
    ASSERT_TRUE((*log)->Flush().ok());
  }
  EXPECT_EQ(*UnmergedIndexRowsForTest(dir_), 0);
  EXPECT_EQ(indexed_rows(), 300);  // all in audit_export_object, none in audit_object
  expect_seen(3);
  {
    auto log = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append(export_record(1000)).ok());  // gathers again after a merge
    ASSERT_TRUE((*log)->Flush().ok());
  }
  EXPECT_EQ(*UnmergedIndexRowsForTest(dir_), 100);
  expect_seen(4);
  auto never = WhoSaw(dir_, "indicator--999");  // never exported
  ASSERT_TRUE(never.ok());
  EXPECT_TRUE(never->empty());
}

// Issue 13 (export RSS): the queue is bounded by object refs too; a record
// naming more refs than the bound is still admitted (to an empty queue), so
// an export never deadlocks, and every ref is recorded.
TEST_F(AuditTest, QueueBoundedByObjectRefs) {
  Options opt;
  opt.max_queue_objects = 10;
  {
    auto log = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int rec = 0; rec < 20; ++rec) {
      Record r;
      r.action = std::string(action::kExport);
      for (int i = 0; i < 50; ++i) {
        r.objects.emplace_back("indicator--" + std::to_string(rec * 50 + i),
                               "2026-01-01T00:00:00.000Z", "admin");
      }
      ASSERT_TRUE((*log)->Append(std::move(r)).ok());
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }
  for (int id : {0, 499, 999}) {
    auto w = WhoSaw(dir_, "indicator--" + std::to_string(id));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->size(), 1u) << id;
  }
  EXPECT_TRUE(MustVerify().intact);
}

// Issue 12 item 9: each served copy keeps the grant that allowed it and
// whether it was redacted; both are hashed (changing one breaks the chain)
// and shown by Query, RecordToJson and WhoSaw.
// Issue 15 item 5: a sync push hands versions to a peer's organisation; who-saw
// names that organisation (the record's org) with the grant and redaction of
// the copy, beside readers over TAXII; a record of another action naming the
// object (object.written, sync.pulled) is no viewing.
TEST_F(AuditTest, WhoSawNamesThePeerOrganisationOfASyncPush) {
  {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Record written;
    written.user = "alice";
    written.org = "acme";
    written.action = std::string(action::kObjectWritten);
    written.objects.emplace_back("indicator--1", "2026-01-01T00:00:00.000Z");
    ASSERT_TRUE((*log)->Append(std::move(written)).ok());
    Record pushed;
    pushed.user = "cli:root";
    pushed.org = "police";
    pushed.action = std::string(action::kSyncPushed);
    pushed.route = "sync peer b";
    pushed.objects.emplace_back("indicator--1", "2026-01-01T00:00:00.000Z", "agreement:a1", true);
    pushed.objects.emplace_back("indicator--2", "2026-01-01T00:00:00.000Z", "own");
    ASSERT_TRUE((*log)->Append(std::move(pushed)).ok());
    Record summary;
    summary.user = "cli:root";
    summary.org = "police";
    summary.action = std::string(action::kSyncPushed);
    summary.details = "{\"pushed\":2}";
    ASSERT_TRUE((*log)->Append(std::move(summary)).ok());
    ASSERT_TRUE((*log)->Flush().ok());
  }
  auto w = WhoSaw(dir_, "indicator--1");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0].org, "police");
  EXPECT_EQ((*w)[0].action, "sync.pushed");
  EXPECT_EQ((*w)[0].route, "sync peer b");
  EXPECT_EQ((*w)[0].grant, "agreement:a1");
  EXPECT_TRUE((*w)[0].redacted);
  EXPECT_TRUE(MustVerify().intact);
}

TEST_F(AuditTest, ServedCopiesKeepTheirGrantAndRedaction) {
  {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    Record r;
    r.user = "alice";
    r.org = "police";
    r.action = std::string(action::kObjectServed);
    r.objects = {{"indicator--1", "2026-01-01T00:00:00.000Z", "agreement:share-iocs", true},
                 {"indicator--2", "2026-01-02T00:00:00.000Z", "own", false},
                 {"indicator--3", "2026-01-03T00:00:00.000Z"}};
    ASSERT_TRUE((*log)->Append(r).ok());
    ASSERT_TRUE((*log)->Flush().ok());
  }
  EXPECT_TRUE(MustVerify().intact);
  Filter f;
  f.object_id = "indicator--1";
  auto recs = Query(dir_, f);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  const std::vector<ObjectRef>& objs = recs->front().objects;
  ASSERT_EQ(objs.size(), 3u);
  EXPECT_EQ(objs[0].grant, "agreement:share-iocs");
  EXPECT_TRUE(objs[0].redacted);
  EXPECT_EQ(objs[1].grant, "own");
  EXPECT_FALSE(objs[1].redacted);
  EXPECT_EQ(objs[2].grant, "");
  const std::string json = RecordToJson(recs->front());
  EXPECT_NE(json.find(R"({"id":"indicator--1","version":"2026-01-01T00:00:00.000Z",)"
                      R"("grant":"agreement:share-iocs","redacted":true})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("grant":"own","redacted":false)"), std::string::npos) << json;
  auto w = WhoSaw(dir_, "indicator--1");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0].grant, "agreement:share-iocs");
  EXPECT_TRUE((*w)[0].redacted);
  // The hash covers them: turning the redacted copy into an unredacted one breaks the chain.
  Sql("UPDATE audit_record SET objects = replace(objects, ',true]', ']') WHERE seq = 1");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 1);
}

// Records without grants keep the object text (and so the hash) they had
// before grants were kept: old trails still verify.
TEST_F(AuditTest, ObjectsWithoutGrantKeepTheFormerCanonicalText) {
  Record r;
  r.action = std::string(action::kObjectWritten);
  r.objects = {{"indicator--1", "v1"}};
  EXPECT_NE(CanonicalRecord(r).find(R"("objects":[["indicator--1","v1"]])"), std::string::npos)
      << CanonicalRecord(r);
  r.objects[0].grant = "public";
  EXPECT_NE(CanonicalRecord(r).find(R"("objects":[["indicator--1","v1","public"]])"),
            std::string::npos);
  r.objects[0].redacted = true;
  EXPECT_NE(CanonicalRecord(r).find(R"("objects":[["indicator--1","v1","public",true]])"),
            std::string::npos);
}

// `audit show` pages newest first: before_seq continues to older records and
// Count says how many match in all.
TEST_F(AuditTest, QueryPagesNewestFirstAndCounts) {
  Fill(30);
  Filter f;
  f.user = "alice";  // seq 2, 4, ..., 30
  f.newest_first = true;
  f.limit = 4;
  auto page = Query(dir_, f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 4u);
  EXPECT_EQ(page->front().seq, 30);
  EXPECT_EQ(page->back().seq, 24);
  f.before_seq = page->back().seq;
  page = Query(dir_, f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 4u);
  EXPECT_EQ(page->front().seq, 22);
  EXPECT_EQ(page->back().seq, 16);
  auto total = Count(dir_, f);  // paging and limit do not count
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, 15);
  f.newest_first = false;
  f.before_seq = 0;
  f.after_seq = 26;
  page = Query(dir_, f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(page->front().seq, 28);
}

// An organisation's auditor: its own organisation's records, and others'
// only when they name objects (for the caller to screen).
TEST_F(AuditTest, OrgOrNamingObjects) {
  Fill(12);  // odd i: police; i % 3 == 0: names an object
  Filter f;
  f.org_or_naming_objects = "police";
  f.limit = 0;
  auto recs = Query(dir_, f);
  ASSERT_TRUE(recs.ok());
  std::vector<int64_t> seqs;
  for (const Record& r : *recs) seqs.push_back(r.seq);
  // police: i = 1,3,5,7,9,11 (seq i+1); vendor naming objects: i = 0, 6.
  EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2, 4, 6, 7, 8, 10, 12}));
  auto n = Count(dir_, f);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 8);
}

TEST_F(AuditTest, BadDetailsAreRefused) {
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok());
  Record r;
  r.action = "request";
  r.details = "[1,2]";
  EXPECT_EQ((*log)->Append(r).code(), ErrorCode::kInvalidArgument);
  r.details = "{";
  EXPECT_EQ((*log)->Append(r).code(), ErrorCode::kInvalidArgument);
}

TEST_F(AuditTest, ConcurrentAppendersKeepOneChain) {
  {
    Options opt;
    opt.checkpoint_every = 100;
    opt.max_queue = 64;  // exercise back-pressure
    auto log = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(log.ok());
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 500; ++i) {
          Record r;
          r.user = "u" + std::to_string(t);
          r.action = std::string(action::kObjectServed);
          r.objects = {{"indicator--" + std::to_string(i), "v"}};
          if (!(*log)->Append(std::move(r)).ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
  }  // the destructor drains the queue
  VerifyReport v = MustVerify();
  EXPECT_TRUE(v.intact) << v.reason;
  EXPECT_EQ(v.records, 2000);
  EXPECT_EQ(v.checkpoints, 20);
  auto w = WhoSaw(dir_, "indicator--7");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->size(), 4u);
}

Record Rec(const std::string& user, int i) {
  Record r;
  r.user = user;
  r.action = std::string(action::kUserChanged);
  r.route = "cli user add";
  r.details = R"({"n":)" + std::to_string(i) + "}";
  return r;
}

// The server and a CLI admin command append to the same DATA/audit.db: each
// AuditLog must chain onto the other's records, not onto its cached head.
TEST_F(AuditTest, TwoLogsOnOneDirInterleaveIntoOneChain) {
  Options opt;
  opt.checkpoint_every = 5;
  {
    auto a = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto b = AuditLog::Open(dir_, opt);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    for (int i = 0; i < 20; ++i) {
      AuditLog& log = i % 2 ? **b : **a;
      ASSERT_TRUE(log.Append(Rec(i % 2 ? "b" : "a", i)).ok());
      ASSERT_TRUE(log.Flush().ok()) << i;
      EXPECT_EQ(log.committed_seq(), i + 1);
    }
    // Both at once, without flushing in between.
    std::thread ta([&] {
      for (int i = 0; i < 300; ++i) EXPECT_TRUE((*a)->Append(Rec("a", i)).ok());
    });
    std::thread tb([&] {
      for (int i = 0; i < 300; ++i) EXPECT_TRUE((*b)->Append(Rec("b", i)).ok());
    });
    ta.join();
    tb.join();
    EXPECT_TRUE((*a)->Flush().ok());
    EXPECT_TRUE((*b)->Flush().ok());
  }
  VerifyReport v = MustVerify();
  EXPECT_TRUE(v.intact) << v.first_broken_seq << ": " << v.reason;
  EXPECT_EQ(v.records, 620);
  EXPECT_EQ(v.checkpoints, 124);
  Filter everything;
  everything.limit = 0;
  auto all = Query(dir_, everything);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 620u);
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].seq, static_cast<int64_t>(i + 1));
    if (i > 0) {
      EXPECT_EQ((*all)[i].prev_hash, (*all)[i - 1].hash);
    }
  }
  // The first 20 alternate between the two logs.
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*all)[i].user, i % 2 ? "b" : "a");
}

// The same across real processes: a child appends while the parent does.
TEST_F(AuditTest, TwoProcessesKeepOneChain) {
  // Create the trail and the node key first so neither process races on them.
  Fill(1);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int rc = 0;
    {
      auto log = AuditLog::Open(dir_);
      if (!log.ok()) {
        rc = 3;
      } else {
        for (int i = 0; i < 400 && rc == 0; ++i)
          if (!(*log)->Append(Rec("child", i)).ok()) rc = 4;
        if (rc == 0 && !(*log)->Flush().ok()) rc = 5;
      }
    }
    ::_exit(rc);
  }
  {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 400; ++i) {
      ASSERT_TRUE((*log)->Append(Rec("parent", i)).ok());
      if (i % 50 == 0) {
        ASSERT_TRUE((*log)->Flush().ok());
      }
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  VerifyReport v = MustVerify();
  EXPECT_TRUE(v.intact) << v.first_broken_seq << ": " << v.reason;
  EXPECT_EQ(v.records, 801);
  EXPECT_TRUE(v.signed_head);
}

// A fake store for the cross-check: versions with strictly increasing date_added.
class FakeStoreVersions {
 public:
  void Add(std::string id, std::string version) {
    versions_.push_back({next_date_added_++, {std::move(id), std::move(version)}});
  }
  StoredVersionLister Lister() const {
    return [this](int64_t after, size_t limit) -> Result<std::vector<StoredVersion>> {
      std::vector<StoredVersion> out;
      for (const auto& v : versions_)
        if (v.date_added_us > after && out.size() < limit) out.push_back(v);
      return out;
    };
  }

 private:
  int64_t next_date_added_ = 1000;
  std::vector<StoredVersion> versions_;
};

Status AppendWritten(AuditLog& log, std::vector<ObjectRef> objects) {
  Record r;
  r.user = "alice";
  r.action = std::string(action::kObjectWritten);
  r.objects = std::move(objects);
  CTIHUB_RETURN_IF_ERROR(log.Append(std::move(r)));
  return log.Flush();
}

// Issue 12 item 7: a crash between the store's commit and the trail's lost
// object.written records; the start-up reconciliation restores them.
TEST_F(AuditTest, ReconcileRecordsVersionsStoredWithoutTheirRecord) {
  FakeStoreVersions store;
  store.Add("indicator--1", "2026-01-01T00:00:00.000Z");
  store.Add("indicator--2", "2026-01-01T00:00:00.000Z");
  store.Add("ipv4-addr--3", "2026-01-02T00:00:00.123456Z");  // no version: recorded as ""
  store.Add("indicator--1", "2026-02-01T00:00:00.000Z");     // the crash window
  store.Add("indicator--4", "2026-01-01T00:00:00.000Z");     // the crash window
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE(AppendWritten(**log, {{"indicator--1", "2026-01-01T00:00:00.000Z"},
                                    {"indicator--2", "2026-01-01T00:00:00.000Z"},
                                    {"ipv4-addr--3", ""}})
                  .ok());

  auto missing = UnrecordedVersions(dir_, store.Lister());
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  ASSERT_EQ(missing->size(), 2u);
  EXPECT_EQ((*missing)[0].id, "indicator--1");
  EXPECT_EQ((*missing)[0].version, "2026-02-01T00:00:00.000Z");
  EXPECT_EQ((*missing)[1].id, "indicator--4");

  auto rep = ReconcileWrites(**log, dir_, store.Lister());
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  EXPECT_EQ(rep->recovered, 2);
  EXPECT_EQ(rep->checked_after, 0);
  EXPECT_EQ(rep->through, 1004);
  EXPECT_TRUE(UnrecordedVersions(dir_, store.Lister())->empty());
  Filter f;
  f.object_id = "indicator--4";
  auto recs = Query(dir_, f);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].action, action::kObjectWritten);
  EXPECT_EQ((*recs)[0].user, kRecoveryActor);
  EXPECT_NE((*recs)[0].details.find("\"recovered\":true"), std::string::npos);
  EXPECT_TRUE(MustVerify().intact);

  // The next start checks only what was added since: the watermark is in the trail.
  store.Add("indicator--5", "2026-01-01T00:00:00.000Z");
  rep = ReconcileWrites(**log, dir_, store.Lister());
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->checked_after, 1004);
  EXPECT_EQ(rep->recovered, 1);
  EXPECT_EQ(rep->through, 1005);
  rep = ReconcileWrites(**log, dir_, store.Lister());
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->recovered, 0);
  EXPECT_EQ(rep->through, 1005);
}

// Issue 12 item 7: verify reports a stored version without its record.
TEST_F(AuditTest, VerifyCrossChecksTheStore) {
  FakeStoreVersions store;
  store.Add("indicator--1", "2026-01-01T00:00:00.000Z");
  {
    auto log = AuditLog::Open(dir_);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(AppendWritten(**log, {{"indicator--1", "2026-01-01T00:00:00.000Z"}}).ok());
  }
  VerifyOptions opt;
  opt.store_versions = store.Lister();
  auto v = Verify(dir_, opt);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->intact) << v->reason;
  EXPECT_TRUE(v->store_checked);
  store.Add("indicator--2", "2026-01-01T00:00:00.000Z");
  v = Verify(dir_, opt);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->intact);
  EXPECT_NE(v->reason.find("indicator--2"), std::string::npos) << v->reason;
  EXPECT_NE(v->reason.find("object.written"), std::string::npos) << v->reason;
}

TEST_F(AuditTest, ReconcileFailsWhenTheStoreCannotBeListed) {
  auto log = AuditLog::Open(dir_);
  ASSERT_TRUE(log.ok());
  StoredVersionLister broken = [](int64_t, size_t) -> Result<std::vector<StoredVersion>> {
    return Unavailable("store gone");
  };
  EXPECT_FALSE(ReconcileWrites(**log, dir_, broken).ok());
}

// ---- issue 12 item 6: verify anchors outside the file ----

TEST_F(AuditTest, EmptiedTrailIsBroken) {
  Options opt;
  opt.checkpoint_every = 10;
  Fill(30, opt);
  Sql("DELETE FROM audit_record; DELETE FROM audit_object; DELETE FROM audit_checkpoint; "
      "DELETE FROM audit_head;");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_NE(v.reason.find("empty"), std::string::npos) << v.reason;
}

TEST_F(AuditTest, DeletedCheckpointsAreDetected) {
  Options opt;
  opt.checkpoint_every = 10;
  Fill(30, opt);
  EXPECT_EQ(MustVerify().checkpoints, 3);
  Sql("DELETE FROM audit_checkpoint");
  VerifyReport v = MustVerify();
  EXPECT_FALSE(v.intact);
  EXPECT_NE(v.reason.find("checkpoints"), std::string::npos) << v.reason;
  std::filesystem::remove_all(dir_);
  Fill(30, opt);
  Sql("DELETE FROM audit_checkpoint WHERE seq = 20");
  EXPECT_FALSE(MustVerify().intact);
}

TEST_F(AuditTest, DeletedNodeKeyKeepsSignaturesChecked) {
  Fill(10);
  std::filesystem::remove(dir_ + "/node.key");
  VerifyReport v = MustVerify();  // the pinned key DATA/audit.pub still checks the head
  EXPECT_TRUE(v.intact) << v.reason;
  EXPECT_TRUE(v.signed_head);
  // A writer never replaces the key silently: the trail would no longer verify.
  auto log = AuditLog::Open(dir_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("node.key"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/node.key"));
  // Without any key to check against, verify refuses to say intact.
  std::filesystem::remove(dir_ + "/audit.pub");
  auto unpinned = Verify(dir_, VerifyOptions{});
  EXPECT_FALSE(unpinned.ok());
  EXPECT_NE(unpinned.status().message().find("--pubkey"), std::string::npos);
}

TEST_F(AuditTest, ReplacedNodeKeyIsRefusedByWriters) {
  Fill(5);
  std::filesystem::remove(dir_ + "/node.key");
  ASSERT_TRUE(LoadOrCreateNodeKey(dir_ + "/node.key").ok());  // another key
  auto log = AuditLog::Open(dir_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("pinned"), std::string::npos);
}

TEST_F(AuditTest, TruncationToAnEarlierHeadIsDetectedAgainstAHeadSeenElsewhere) {
  Options opt;
  opt.checkpoint_every = 10;
  Fill(30, opt);
  VerifyReport seen = MustVerify();
  ASSERT_TRUE(seen.intact);
  VerifyOptions anchor;
  anchor.expect_seq = seen.records;
  anchor.expect_hash = seen.head_hash;
  EXPECT_TRUE(MustVerify(anchor).intact);
  // Someone with the node key cuts the tail and re-signs an earlier head.
  auto key = LoadNodeKey(dir_ + "/node.key");
  ASSERT_TRUE(key.ok());
  auto recs = Query(dir_, Filter{});
  ASSERT_TRUE(recs.ok());
  std::string h = (*recs)[19].hash;
  std::string sig = key->Sign("ctihub-audit-head-v2\n20\n" + h + "\n2");
  Sql("DELETE FROM audit_record WHERE seq > 20; DELETE FROM audit_object WHERE seq > 20; "
      "DELETE FROM audit_checkpoint WHERE seq > 20; UPDATE audit_head SET seq = 20, hash = '" +
      h + "', signature = '" + sig + "'");
  EXPECT_TRUE(MustVerify().intact);  // consistent on its own: only an outside anchor tells
  VerifyReport v = MustVerify(anchor);
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_broken_seq, 21);
  EXPECT_NE(v.reason.find("truncated"), std::string::npos) << v.reason;
  anchor.expect_seq = 10;  // a rewritten record under a seen hash
  anchor.expect_hash = std::string(64, '0');
  EXPECT_FALSE(MustVerify(anchor).intact);
}

TEST_F(AuditTest, LocalActorIsTheLoginName) {
  std::string a = LocalActor();
  EXPECT_EQ(a.rfind("cli:", 0), 0u) << a;
  EXPECT_GT(a.size(), 4u);
  // Not taken from the environment.
  std::string saved = std::getenv("USER") ? std::getenv("USER") : "";
  ::setenv("USER", "someone-else-entirely", 1);
  EXPECT_EQ(LocalActor(), a);
  ::setenv("USER", saved.c_str(), 1);
}

TEST_F(AuditTest, MissingTrailIsAnError) {
  EXPECT_EQ(Verify(dir_, VerifyOptions{}).status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ctihub::audit
