#include "sqlite/db.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ctihub::sqlite {
namespace {

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/sqlite_db_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ + "/test.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Connection> MustOpen(const OpenOptions& opts = {}) {
    auto c = Connection::Open(path_, opts);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteDbTest, PreparedStatementsBindStepAndReadColumns) {
  auto db = MustOpen();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(a INTEGER, b TEXT)").ok());
  {
    auto ins = db->Prepare("INSERT INTO t(a, b) VALUES(?1, ?2)");
    ASSERT_TRUE(ins.ok());
    ASSERT_TRUE(ins->Bind(1, int64_t{7}).Bind(2, std::string_view("x\0y", 3)).Run().ok());
    EXPECT_EQ(db->LastInsertRowid(), 1);
    ASSERT_TRUE(ins->Bind(1, int64_t{8}).BindNull(2).Run().ok());
    EXPECT_EQ(db->Changes(), 1);
  }
  auto sel = db->Prepare("SELECT a, b FROM t ORDER BY a");
  ASSERT_TRUE(sel.ok());
  auto row = sel->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(sel->Int(0), 7);
  EXPECT_EQ(sel->String(1), std::string("x\0y", 3));  // embedded NUL kept
  row = sel->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_TRUE(sel->IsNull(1));
  EXPECT_EQ(sel->Text(1), "");
  row = sel->Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 2);
}

TEST_F(SqliteDbTest, ErrorsMapOntoStatusCodesAndKeepSqliteText) {
  auto db = MustOpen();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(a INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES(1)");
  ASSERT_TRUE(ins.ok());
  auto row = ins->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.status().code(), ErrorCode::kConflict);
  // The connection's own text, for callers that build their own Status (audit).
  EXPECT_EQ(db->ErrorMessage(), "UNIQUE constraint failed: t.a");
  ins->Reset();

  auto bad = db->Prepare("SELECT nope FROM t");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInternal);
  EXPECT_EQ(db->ErrorMessage(), "no such column: nope");
  ASSERT_TRUE(db->Exec("SELECT 1").ok());
  EXPECT_EQ(db->ErrorMessage(), "not an error");
}

TEST_F(SqliteDbTest, OpenWithoutCreateIsNotFound) {
  OpenOptions opts;
  opts.create = false;
  auto c = Connection::Open(path_, opts);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path_));
  opts.read_only = true;  // read-only never creates either
  c = Connection::Open(path_, opts);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(SqliteDbTest, ReadOnlyConnectionReadsButRefusesWrites) {
  {
    auto db = MustOpen();
    ASSERT_TRUE(db->Exec("CREATE TABLE t(a); INSERT INTO t VALUES(1);").ok());
  }
  OpenOptions opts;
  opts.read_only = true;
  auto ro = MustOpen(opts);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(*ro->QueryInt("SELECT a FROM t"), 1);
  Status st = ro->Exec("INSERT INTO t VALUES(2)");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(ro->ErrorMessage().find("readonly"), std::string::npos) << ro->ErrorMessage();
  EXPECT_EQ(*ro->QueryInt("SELECT count(*) FROM t"), 1);
}

TEST_F(SqliteDbTest, PragmasAndCacheSizeAreApplied) {
  {
    auto plain = MustOpen();
    // SQLite's defaults: no pragma is run unless asked for.
    EXPECT_EQ(*plain->QueryInt("PRAGMA foreign_keys"), 0);
    EXPECT_EQ(*plain->QueryInt("PRAGMA cache_size"), -2000);
  }
  OpenOptions opts;
  opts.pragmas = "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;";
  opts.cache_kib = 32768;
  auto db = MustOpen(opts);
  EXPECT_EQ(*db->QueryInt("PRAGMA foreign_keys"), 1);
  EXPECT_EQ(*db->QueryInt("PRAGMA synchronous"), 2);  // FULL
  EXPECT_EQ(*db->QueryInt("PRAGMA cache_size"), -32768);
  EXPECT_EQ(*db->QueryInt("PRAGMA busy_timeout"), 10000);

  OpenOptions broken;
  broken.pragmas = "PRAGMA this is not sql";
  EXPECT_FALSE(Connection::Open(path_, broken).ok());
}

TEST_F(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  auto db = MustOpen();
  ASSERT_TRUE(db->Exec("CREATE TABLE t(a)").ok());
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
  }
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 0);
  {
    auto txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 1);
}

TEST_F(SqliteDbTest, WalCommitHookSeesEachCommitAndCheckpointEmptiesTheLog) {
  auto db = MustOpen();
  ASSERT_TRUE(db->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(a)").ok());
  std::vector<int> pages;
  db->SetWalCommitHook([&](int wal_pages) { pages.push_back(wal_pages); });
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(2)").ok());
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_GT(pages[0], 0);
  EXPECT_GE(pages[1], pages[0]);  // the hook replaced the automatic checkpoint
  ASSERT_TRUE(db->CheckpointPassive().ok());
  // After a complete checkpoint with no reader, the next writer restarts the log.
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(3)").ok());
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_LT(pages[2], pages[1]);
  db->SetWalCommitHook(nullptr);
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(4)").ok());
  EXPECT_EQ(pages.size(), 3u);
  EXPECT_EQ(*db->QueryInt("SELECT count(*) FROM t"), 4);
}

TEST_F(SqliteDbTest, CheckpointWithoutWalIsOk) {
  auto db = MustOpen();
  // Not in WAL mode: SQLite treats the checkpoint as a no-op.
  EXPECT_TRUE(db->CheckpointPassive().ok());
}

}  // namespace
}  // namespace ctihub::sqlite
