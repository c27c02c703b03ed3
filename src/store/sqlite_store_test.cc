#include "store/sqlite_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "store/sqlite_schema.h"

namespace ctihub::store {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ctihub-store-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Timestamp Ts(std::string_view text) {
  auto t = Timestamp::Parse(text);
  EXPECT_TRUE(t.ok()) << text;
  return *t;
}

NewObject Obj(std::string id, std::string_view version, std::string spec = "2.1") {
  NewObject o;
  o.type = id.substr(0, id.find("--"));
  o.id = std::move(id);
  o.spec_version = std::move(spec);
  if (!version.empty()) {
    o.version = Ts(version);
    o.has_version = true;
  }
  o.json = "{\"id\":\"" + o.id + "\",\"modified\":\"" + std::string(version) + "\"}";
  return o;
}

std::string Uuid(int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    SqliteOptions opts;
    opts.path = dir_.path() + "/ctihub.db";
    auto s = OpenSqliteStore(opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    if (collection_.empty()) {
      ASSERT_TRUE(store_->PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
      auto c = store_->AddCollection(Collection{"", "api1", "Main", "", "main", {"org:*"}, {}});
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      collection_ = c->id;
    }
  }
  void Reopen() {
    store_.reset();
    Open();
  }

  std::vector<WriteOutcome> Write(std::vector<NewObject> objs, std::string status = "") {
    auto r = store_->WriteObjects(collection_, std::move(objs), std::move(status)).get();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<WriteOutcome>{};
  }

  ObjectQuery Q() {
    ObjectQuery q;
    q.collection_id = collection_;
    return q;
  }

  // id@version of every object the query returns (all pages).
  std::vector<std::string> Ids(ObjectQuery q) {
    std::vector<std::string> out;
    for (;;) {
      auto page = store_->QueryObjects(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const auto& o : page->objects) out.push_back(o.id + "@" + o.version.ToString());
      if (!page->more) break;
      q.next = page->next;
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::string collection_;
};

const std::string kA = "indicator--" + Uuid(1);
const std::string kB = "malware--" + Uuid(2);
const std::string kC = "indicator--" + Uuid(3);

TEST_F(SqliteStoreTest, WriteReadRoundTrip) {
  auto out = Write({Obj(kA, "2024-01-01T00:00:00.000Z"), Obj(kB, "2024-01-02T00:00:00.123456Z")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].stored);
  EXPECT_FALSE(out[0].already_present);
  auto page = store_->QueryObjects(Q());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_FALSE(page->more);
  const ObjectVersion& a = page->objects[0];
  EXPECT_EQ(a.id, kA);
  EXPECT_EQ(a.type, "indicator");
  EXPECT_EQ(a.spec_version, "2.1");
  EXPECT_EQ(a.collection_id, collection_);
  EXPECT_EQ(a.version.ToString(), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(a.json, Obj(kA, "2024-01-01T00:00:00.000Z").json);
  EXPECT_EQ(page->objects[1].version.ToString(), "2024-01-02T00:00:00.123456Z");
  EXPECT_GT(a.date_added_us, 0);

  ObjectQuery manifest = Q();
  manifest.include_json = false;
  page = store_->QueryObjects(manifest);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects[0].json.empty());
  auto count = store_->CountObjects();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);
}

TEST_F(SqliteStoreTest, ObjectWithoutVersionUsesDateAdded) {
  NewObject o = Obj("ipv4-addr--" + Uuid(9), "");
  Write({o});
  auto page = store_->QueryObjects(Q());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].version.micros(), page->objects[0].date_added_us);
}

TEST_F(SqliteStoreTest, DateAddedStrictlyIncreasingAcrossConcurrentWriters) {
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store_->WriteObjects(collection_,
                                      {Obj("indicator--" + Uuid(t * 1000 + i), "2024-01-01T00:00:00Z")},
                                      "")
                     .get();
        EXPECT_TRUE(r.ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  ObjectQuery q = Q();
  q.limit = 10000;
  auto page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), size_t{kThreads * kPerThread});
  for (size_t i = 1; i < page->objects.size(); ++i) {
    EXPECT_LT(page->objects[i - 1].date_added_us, page->objects[i].date_added_us);
  }
}

TEST_F(SqliteStoreTest, DuplicateVersionIsAlreadyPresent) {
  Write({Obj(kA, "2024-01-01T00:00:00Z")});
  auto out = Write({Obj(kA, "2024-01-01T00:00:00.000Z"), Obj(kA, "2024-02-01T00:00:00Z")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].stored);
  EXPECT_TRUE(out[0].already_present);
  EXPECT_TRUE(out[1].stored);
  // The same version twice in one request: the second is already present.
  out = Write({Obj(kB, "2024-01-01T00:00:00Z"), Obj(kB, "2024-01-01T00:00:00Z")});
  EXPECT_TRUE(out[0].stored);
  EXPECT_TRUE(out[1].already_present);
  EXPECT_EQ(*store_->CountObjects(), 3);
}

TEST_F(SqliteStoreTest, UnknownCollectionAndBadObjectsAreErrors) {
  auto r = store_->WriteObjects(Uuid(77), {Obj(kA, "2024-01-01T00:00:00Z")}, "").get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  NewObject bad = Obj(kA, "2024-01-01T00:00:00Z");
  bad.id = "nodashes";
  r = store_->WriteObjects(collection_, {bad}, "").get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  // A failed request in a batch does not hurt the others.
  auto f1 = store_->WriteObjects(Uuid(77), {Obj(kA, "2024-01-01T00:00:00Z")}, "");
  auto f2 = store_->WriteObjects(collection_, {Obj(kB, "2024-01-01T00:00:00Z")}, "");
  EXPECT_FALSE(f1.get().ok());
  EXPECT_TRUE(f2.get().ok());
}

class FilterTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    // kA: three versions; kB: one; kC: two, spec 2.0 then 2.1.
    Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kB, "2024-01-05T00:00:00Z")});
    Write({Obj(kA, "2024-03-01T00:00:00Z"), Obj(kC, "2024-01-01T00:00:00Z", "2.0")});
    // An older version arriving late: not the latest, becomes the first.
    Write({Obj(kA, "2023-06-01T00:00:00Z"), Obj(kC, "2024-02-01T00:00:00Z", "2.1")});
  }
};

using Strings = std::vector<std::string>;

TEST_F(FilterTest, VersionLastIsTheDefault) {
  EXPECT_EQ(Ids(Q()), (Strings{kB + "@2024-01-05T00:00:00.000Z", kA + "@2024-03-01T00:00:00.000Z",
                               kC + "@2024-02-01T00:00:00.000Z"}));
}

TEST_F(FilterTest, VersionFirstAllAndExplicit) {
  ObjectQuery q = Q();
  q.version_last = false;
  q.version_first = true;
  q.ids = {kA};
  EXPECT_EQ(Ids(q), (Strings{kA + "@2023-06-01T00:00:00.000Z"}));

  q = Q();
  q.version_all = true;
  q.ids = {kA};
  EXPECT_EQ(Ids(q), (Strings{kA + "@2024-01-01T00:00:00.000Z", kA + "@2024-03-01T00:00:00.000Z",
                             kA + "@2023-06-01T00:00:00.000Z"}));

  q = Q();
  q.version_last = false;
  q.versions = {Ts("2024-01-01T00:00:00Z")};
  q.ids = {kA};
  EXPECT_EQ(Ids(q), (Strings{kA + "@2024-01-01T00:00:00.000Z"}));

  // first + last + an explicit one: the union.
  q = Q();
  q.version_first = true;
  q.version_last = true;
  q.versions = {Ts("2024-01-01T00:00:00.000000Z")};
  q.ids = {kA};
  EXPECT_EQ(Ids(q).size(), 3u);
}

TEST_F(FilterTest, IdsTypesAndAddedAfter) {
  ObjectQuery q = Q();
  q.types = {"malware"};
  EXPECT_EQ(Ids(q), (Strings{kB + "@2024-01-05T00:00:00.000Z"}));
  q = Q();
  q.types = {"malware", "indicator"};
  EXPECT_EQ(Ids(q).size(), 3u);
  q = Q();
  q.ids = {kC, kB};
  EXPECT_EQ(Ids(q).size(), 2u);
  q = Q();
  q.types = {"tool"};
  EXPECT_TRUE(Ids(q).empty());

  q = Q();
  q.version_all = true;
  auto page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 5u);  // kC's 2.0 version is hidden: no match[spec_version]
  q.added_after_us = page->objects[2].date_added_us;
  EXPECT_EQ(Ids(q).size(), 2u);
}

TEST_F(FilterTest, SeveralTypesPageInDateAddedOrder) {
  ObjectQuery all = Q();
  all.version_all = true;
  all.spec_versions = {"2.0", "2.1"};
  std::vector<std::string> expected = Ids(all);
  ASSERT_EQ(expected.size(), 6u);
  ObjectQuery q = all;
  q.types = {"malware", "indicator", "malware"};
  q.limit = 2;
  EXPECT_EQ(Ids(q), expected);
  q.limit = 1;
  EXPECT_EQ(Ids(q), expected);
  q.types = {"malware", "tool"};
  EXPECT_EQ(Ids(q), (Strings{kB + "@2024-01-05T00:00:00.000Z"}));
}

TEST_F(FilterTest, SpecVersion) {
  ObjectQuery q = Q();
  q.ids = {kC};
  q.version_all = true;
  // No match[spec_version]: only the latest spec version of the object.
  EXPECT_EQ(Ids(q), (Strings{kC + "@2024-02-01T00:00:00.000Z"}));
  q.spec_versions = {"2.0"};
  EXPECT_EQ(Ids(q), (Strings{kC + "@2024-01-01T00:00:00.000Z"}));
  q.spec_versions = {"2.0", "2.1"};
  EXPECT_EQ(Ids(q).size(), 2u);
}

TEST_F(FilterTest, PagingAndBadCursor) {
  ObjectQuery q = Q();
  q.version_all = true;
  q.spec_versions = {"2.0", "2.1"};
  q.limit = 4;
  auto page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->objects.size(), 4u);
  EXPECT_TRUE(page->more);
  ASSERT_FALSE(page->next.empty());
  q.next = page->next;
  auto page2 = store_->QueryObjects(q);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->objects.size(), 2u);
  EXPECT_FALSE(page2->more);
  EXPECT_TRUE(page2->next.empty());

  for (std::string bad : {std::string("garbage"), page->next + "0", page->next.substr(0, 10),
                          std::string("c1") + std::string(24, 'f')}) {
    q.next = bad;
    auto r = store_->QueryObjects(q);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST_F(FilterTest, DeleteRecomputesVersionFlags) {
  ObjectQuery d = Q();
  d.ids = {kA};  // version=last by default
  auto n = store_->DeleteObject(d);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  ObjectQuery q = Q();
  q.ids = {kA};
  EXPECT_EQ(Ids(q), (Strings{kA + "@2024-01-01T00:00:00.000Z"}));  // the new latest
  d.version_all = true;
  n = store_->DeleteObject(d);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE(Ids(q).empty());
  n = store_->DeleteObject(d);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

TEST_F(SqliteStoreTest, KeysetPagingSeesEveryObjectOnceUnderConcurrentWrites) {
  constexpr int kBatches = 40, kPerBatch = 50;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<NewObject> objs;
      for (int i = 0; i < kPerBatch; ++i) {
        objs.push_back(Obj("indicator--" + Uuid(b * kPerBatch + i), "2024-01-01T00:00:00Z"));
      }
      auto r = store_->WriteObjects(collection_, std::move(objs), "").get();
      EXPECT_TRUE(r.ok());
    }
    done = true;
  });
  std::map<std::string, int> seen;
  ObjectQuery q = Q();
  q.version_all = true;
  q.limit = 37;
  int64_t last = -1;
  for (;;) {
    bool finished = done.load();
    auto page = store_->QueryObjects(q);
    ASSERT_TRUE(page.ok());
    for (const auto& o : page->objects) {
      ++seen[o.id];
      EXPECT_GT(o.date_added_us, last);
      last = o.date_added_us;
    }
    if (!page->objects.empty()) {
      q.next = page->more ? page->next : "";
      q.added_after_us = last;
    }
    if (!page->more && finished) break;
  }
  writer.join();
  EXPECT_EQ(seen.size(), size_t{kBatches * kPerBatch});
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

TEST_F(SqliteStoreTest, StatusCompletesOnlyAfterTheWrite) {
  StatusResource s;
  s.id = Uuid(500);
  s.api_root = "api1";
  s.user_id = 7;
  s.status = "pending";
  s.request_timestamp = Ts("2024-05-01T00:00:00.000Z");
  s.total_count = 4;
  s.failure_count = 1;
  s.pending_count = 3;
  s.failures = {{"bad--" + Uuid(1), "", "invalid"}};
  s.pendings = {{kA, "2024-01-01T00:00:00.000Z", ""},
                {kB, "2024-01-01T00:00:00.000Z", ""},
                {kC, "2024-01-01T00:00:00.000Z", ""}};
  ASSERT_TRUE(store_->CreateStatus(s).ok());
  Write({Obj(kC, "2024-01-01T00:00:00Z")});  // kC already present when the status write lands

  auto before = store_->GetStatus("api1", s.id);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->status, "pending");
  EXPECT_EQ(before->pending_count, 3);
  EXPECT_EQ(before->pendings.size(), 3u);

  auto out = Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kB, "2024-01-01T00:00:00Z"),
                    Obj(kC, "2024-01-01T00:00:00Z")},
                   s.id);
  EXPECT_TRUE(out[2].already_present);
  auto after = store_->GetStatus("api1", s.id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, "complete");
  EXPECT_EQ(after->total_count, 4);
  EXPECT_EQ(after->success_count, 3);
  EXPECT_EQ(after->failure_count, 1);
  EXPECT_EQ(after->pending_count, 0);
  EXPECT_TRUE(after->pendings.empty());
  ASSERT_EQ(after->successes.size(), 3u);
  EXPECT_EQ(after->successes[0].id, kA);
  EXPECT_EQ(after->successes[0].version, "2024-01-01T00:00:00.000Z");
  ASSERT_EQ(after->failures.size(), 1u);
  EXPECT_EQ(after->user_id, 7);
  EXPECT_EQ(after->request_timestamp, Ts("2024-05-01T00:00:00Z"));

  EXPECT_EQ(store_->GetStatus("other", s.id).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetStatus("api1", Uuid(501)).status().code(), ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, DuplicateStatusIdIsConflict) {
  StatusResource s;
  s.id = Uuid(700);
  s.api_root = "api1";
  s.status = "complete";
  ASSERT_TRUE(store_->CreateStatus(s).ok());
  // Concurrent writes in the same group commit are unaffected by the failure.
  auto f = store_->WriteObjects(collection_, {Obj(kA, "2024-01-01T00:00:00Z")}, "");
  EXPECT_EQ(store_->CreateStatus(s).code(), ErrorCode::kConflict);
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(store_->GetStatus("", s.id)->status, "complete");
}

TEST_F(SqliteStoreTest, FailedWriteMarksStatusFailures) {
  StatusResource s;
  s.id = Uuid(600);
  s.api_root = "api1";
  s.total_count = 1;
  s.pending_count = 1;
  s.pendings = {{kA, "2024-01-01T00:00:00.000Z", ""}};
  ASSERT_TRUE(store_->CreateStatus(s).ok());
  auto r = store_->WriteObjects(Uuid(999), {Obj(kA, "2024-01-01T00:00:00Z")}, s.id).get();
  EXPECT_FALSE(r.ok());
  auto st = store_->GetStatus("api1", s.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "complete");
  EXPECT_EQ(st->failure_count, 1);
  EXPECT_EQ(st->failures.size(), 1u);
}

TEST_F(SqliteStoreTest, PersistsAcrossReopen) {
  Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kB, "2024-01-01T00:00:00Z")});
  auto first = store_->QueryObjects(Q());
  ASSERT_TRUE(first.ok());
  Reopen();
  auto again = store_->QueryObjects(Q());
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->objects.size(), 2u);
  EXPECT_EQ(again->objects[1].date_added_us, first->objects[1].date_added_us);
  // date_added keeps increasing after a reopen.
  Write({Obj(kC, "2024-01-01T00:00:00Z")});
  auto third = store_->QueryObjects(Q());
  ASSERT_EQ(third->objects.size(), 3u);
  EXPECT_GT(third->objects[2].date_added_us, first->objects[1].date_added_us);
  auto c = store_->GetCollection("api1", collection_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->readers, (Strings{"org:*"}));
}

TEST(SqliteSchemaTest, MigratesAnEmptyDatabase) {
  TempDir dir;
  std::string path = dir.path() + "/empty.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_close(db);
  SqliteOptions opts;
  opts.path = path;
  {
    auto s = OpenSqliteStore(opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), sqlite::LatestSchemaVersion());
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  // A database from a newer build is refused.
  sqlite3_exec(db, "PRAGMA user_version=999", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto s = OpenSqliteStore(opts);
  ASSERT_FALSE(s.ok());
}

TEST_F(SqliteStoreTest, OrganisationsUsersTokens) {
  auto org = store_->AddOrganisation({0, "acme", "identity--" + Uuid(1)});
  ASSERT_TRUE(org.ok()) << org.status().ToString();
  EXPECT_GT(org->id, 0);
  EXPECT_EQ(store_->AddOrganisation({0, "acme", ""}).status().code(), ErrorCode::kConflict);
  EXPECT_EQ(store_->AddOrganisation({0, "a,b", ""}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->GetOrganisation("acme")->identity_id, "identity--" + Uuid(1));
  EXPECT_EQ(store_->GetOrganisation("nope").status().code(), ErrorCode::kNotFound);

  User u;
  u.name = "alice";
  u.org_id = org->id;
  u.role = Role::kPublisher;
  u.password_hash = "$argon2id$fake";
  auto added = store_->AddUser(u);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->org_name, "acme");
  EXPECT_EQ(store_->AddUser(u).status().code(), ErrorCode::kConflict);
  u.name = "bob";
  u.org_id = 999;
  EXPECT_EQ(store_->AddUser(u).status().code(), ErrorCode::kNotFound);
  auto got = store_->GetUser("alice");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kPublisher);
  EXPECT_EQ(got->org_name, "acme");
  EXPECT_EQ(store_->GetUserById(got->id)->name, "alice");
  ASSERT_TRUE(store_->SetPassword("alice", "$argon2id$other").ok());
  EXPECT_EQ(store_->GetUser("alice")->password_hash, "$argon2id$other");
  EXPECT_EQ(store_->ListUsers()->size(), 1u);

  ApiToken t;
  t.user_id = got->id;
  t.token_hash = std::string(64, 'a');
  t.label = "ci";
  auto tok = store_->AddToken(t);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto found = store_->FindTokenByHash(std::string(64, 'a'));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->label, "ci");
  EXPECT_FALSE(found->revoked);
  ASSERT_TRUE(store_->RevokeToken(tok->id).ok());
  EXPECT_TRUE(store_->FindTokenByHash(std::string(64, 'a'))->revoked);
  EXPECT_EQ(store_->ListTokens(got->id)->size(), 1u);
  EXPECT_EQ(store_->RevokeToken(12345).code(), ErrorCode::kNotFound);

  ASSERT_TRUE(store_->RemoveUser("alice").ok());
  EXPECT_EQ(store_->GetUser("alice").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->FindTokenByHash(std::string(64, 'a')).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->RemoveUser("alice").code(), ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, ApiRootsAndCollections) {
  ASSERT_TRUE(store_->PutApiRoot({"api1", "Renamed", "d", 100}).ok());
  auto roots = store_->ListApiRoots();
  ASSERT_TRUE(roots.ok());
  ASSERT_EQ(roots->size(), 1u);
  EXPECT_EQ((*roots)[0].title, "Renamed");
  EXPECT_EQ(store_->AddCollection({"", "nope", "T", "", "", {}, {}}).status().code(),
            ErrorCode::kNotFound);
  auto c = store_->AddCollection({"", "api1", "Second", "desc", "", {"org:a", "user:b"}, {"org:a"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(store_->ListCollections("api1")->size(), 2u);
  EXPECT_EQ(store_->ListCollections("")->size(), 2u);
  EXPECT_EQ(store_->ListCollections("other")->size(), 0u);
  auto got = store_->GetCollection("api1", c->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->readers, (Strings{"org:a", "user:b"}));
  EXPECT_EQ(got->writers, (Strings{"org:a"}));
  EXPECT_EQ(store_->GetCollection("api1", "main")->id, collection_);  // by alias
  EXPECT_EQ(store_->GetCollection("other", c->id).status().code(), ErrorCode::kNotFound);
  Write({Obj(kA, "2024-01-01T00:00:00Z")});
  ASSERT_TRUE(store_->RemoveCollection(collection_).ok());
  EXPECT_EQ(*store_->CountObjects(), 0);
  EXPECT_EQ(store_->RemoveCollection(collection_).code(), ErrorCode::kNotFound);
}

// Durability: a child writes and reports each acknowledged batch; the parent
// SIGKILLs it at an arbitrary point and checks every acknowledged object is
// there and the database is intact.
TEST(SqliteDurabilityTest, AcknowledgedWritesSurviveKill9) {
  TempDir dir;
  std::string path = dir.path() + "/ctihub.db";
  std::string collection;
  {
    SqliteOptions opts;
    opts.path = path;
    auto s = OpenSqliteStore(opts);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    auto c = (*s)->AddCollection({"", "api1", "T", "", "", {}, {}});
    ASSERT_TRUE(c.ok());
    collection = c->id;
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    SqliteOptions opts;
    opts.path = path;
    auto s = OpenSqliteStore(opts);
    if (!s.ok()) _exit(3);
    for (int b = 0;; ++b) {
      std::vector<NewObject> objs;
      for (int i = 0; i < 100; ++i) {
        objs.push_back(Obj("indicator--" + Uuid(b * 100 + i), "2024-01-01T00:00:00Z"));
      }
      auto r = (*s)->WriteObjects(collection, std::move(objs), "").get();
      if (!r.ok()) _exit(4);
      std::string line = std::to_string(b) + "\n";
      if (write(fds[1], line.data(), line.size()) < 0) _exit(5);
    }
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  int acknowledged = -1;
  char buf[64];
  while (acknowledged < 15 && std::fgets(buf, sizeof buf, in) != nullptr) acknowledged = std::atoi(buf);
  kill(pid, SIGKILL);
  // Whatever was acknowledged before the kill may still be in the pipe.
  while (std::fgets(buf, sizeof buf, in) != nullptr) acknowledged = std::atoi(buf);
  std::fclose(in);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early: " << WEXITSTATUS(wstatus);
  ASSERT_GE(acknowledged, 15);

  SqliteOptions opts;
  opts.path = path;
  auto s = OpenSqliteStore(opts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ObjectQuery q;
  q.collection_id = collection;
  for (int b = 0; b <= acknowledged; ++b) {
    q.ids = {"indicator--" + Uuid(b * 100), "indicator--" + Uuid(b * 100 + 99)};
    auto page = (*s)->QueryObjects(q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->objects.size(), 2u) << "batch " << b;
  }
  auto count = (*s)->CountObjects();
  ASSERT_TRUE(count.ok());
  EXPECT_GE(*count, (acknowledged + 1) * 100);
  EXPECT_EQ(*count % 100, 0);  // batches are atomic
  s->reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "ok");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

}  // namespace
}  // namespace ctihub::store
