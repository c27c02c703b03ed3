// PostgreSQL-only store tests: schema versions, several nodes (stores) over
// one database, binary-safe parameters, reconnecting. The Store contract
// itself is tested by store_conformance_test.cc, which runs on PostgreSQL too.
// Needs the test cluster (CTest fixture pg_cluster; testing/store_conformance.h).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/pg.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/postgres_store.h"
#include "store/testing/store_conformance.h"

namespace ctihub::store {
namespace {

using suite::Obj;
using suite::OpenTestPostgresStore;
using suite::TempDir;
using suite::TestPostgresUrl;
using suite::Uuid;

std::string SchemaOf(const TempDir& dir) {
  std::ifstream in(dir.path() + "/postgres-schema");
  std::string schema;
  std::getline(in, schema);
  return schema;
}

// A raw connection to the test store's schema.
std::unique_ptr<pg::Connection> Raw(const std::string& schema) {
  auto url = TestPostgresUrl();
  EXPECT_TRUE(url.ok()) << url.status().ToString();
  if (!url.ok()) return nullptr;
  auto c = pg::Connection::Open(*url, schema);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// Schema step 9 -> 10 taken back: status details as one row per detail (schema 1's table).
const std::string kUndoStatusRuns =
    "DROP TABLE status_entries; "
    "CREATE TABLE status_details(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "status_id TEXT COLLATE \"C\" NOT NULL, kind SMALLINT NOT NULL, "
    "object_id TEXT COLLATE \"C\" NOT NULL, version TEXT COLLATE \"C\" NOT NULL, "
    "message TEXT NOT NULL DEFAULT ''); "
    "CREATE INDEX status_details_obj ON status_details(status_id, object_id); ";

// Takes the status runs', the import jobs' and the audit chains' steps back, then schema step
// 4 -> 5 (the node columns; dropping statuses.node drops the partial index that step made on
// it).
const std::string kUndoNodeColumns =
    kUndoStatusRuns +
    "DROP TABLE import_jobs; "
    "DROP TABLE audit_chain_records, audit_chain_checkpoints, audit_chain_nodes; "
    "ALTER TABLE objects DROP COLUMN node; ALTER TABLE statuses DROP COLUMN node; "
    "CREATE INDEX statuses_pending ON statuses(status) WHERE status = 'pending'; ";

// A store (a "node") with API root api1 and a collection; more nodes open the
// same schema.
class PgNodesTest : public ::testing::Test {
 protected:
  static PostgresOptions Node(const std::string& node_id) {
    PostgresOptions o;
    o.node_id = node_id;
    return o;
  }

  void SetUp() override {
    auto a = OpenTestPostgresStore(dir_.path(), Node("node-a"));
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    a_ = std::move(*a);
    auto b = OpenTestPostgresStore(dir_.path(), Node("node-b"));
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    b_ = std::move(*b);
    ASSERT_TRUE(a_->PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    auto c = a_->AddCollection(Collection{"", "api1", "Main", "", "main", {"org:*"}, {}});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collection_ = c->id;
  }

  TempDir dir_;
  std::unique_ptr<Store> a_, b_;
  std::string collection_;
};

TEST(PgStoreTest, UnreachableServerIsUnavailable) {
  PostgresOptions o;
  TempDir dir;
  o.url = "postgresql:///postgres?host=" + dir.path() + "&connect_timeout=2";
  auto s = OpenPostgresStore(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(s.status().name(), "db_unavailable");
}

TEST(PgStoreTest, BadSchemaNameIsRefused) {
  PostgresOptions o;
  o.url = "postgresql:///x";
  o.schema = "x; DROP TABLE objects";
  auto s = OpenPostgresStore(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().name(), "bad_db_schema");
}

TEST(PgStoreTest, SchemaIsVersionedAndANewerOneIsRefused) {
  TempDir dir;
  {
    auto s = OpenTestPostgresStore(dir.path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  auto raw = Raw(SchemaOf(dir));
  ASSERT_NE(raw, nullptr);
  auto v = pg::CurrentSchemaVersion(*raw);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, pg::LatestSchemaVersion());
  // A newer build migrated the database: this one refuses it and changes nothing.
  ASSERT_TRUE(raw->Exec("UPDATE ctihub_schema SET version = version + 1").ok());
  auto s = OpenTestPostgresStore(dir.path());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(s.status().name(), "schema_too_new");
  EXPECT_NE(s.status().message().find("newer than this build"), std::string::npos);
  EXPECT_EQ(*pg::CurrentSchemaVersion(*raw), pg::LatestSchemaVersion() + 1);
}

// Schema 2 (the reference index): the migration indexes the references of
// the rows already stored, in SQL, keeping what ReferencedIdsOf keeps.
TEST(PgStoreTest, MigrationIndexesExistingReferences) {
  TempDir dir;
  const std::string a = "indicator--" + Uuid(1);
  const std::string b = "malware--" + Uuid(2);
  const std::string rel = "relationship--" + Uuid(3);
  std::string collection;
  {
    auto s = OpenTestPostgresStore(dir.path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    auto c = (*s)->AddCollection(Collection{"", "api1", "Main", "", "", {"org:*"}, {}});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collection = c->id;
    NewObject o = Obj(rel, "2024-01-01T00:00:00Z");
    o.json = "{\"id\":\"" + rel + "\",\"source_ref\":\"" + a + "\",\"target_ref\":\"" + b +
             "\",\"object_refs\":[\"" + a + "\",\"not an id\",3],\"created_by_ref\":\"identity--" +
             Uuid(4) + "\"}";
    auto w = (*s)->WriteObjects(collection, {o}, "").get();
    ASSERT_TRUE(w.ok()) << w.status().ToString();
  }
  // Back to schema 1: the index and its rows gone.
  auto raw = Raw(SchemaOf(dir));
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->Exec(kUndoNodeColumns +
                        "DROP TABLE object_refs; ALTER TABLE objects DROP COLUMN search; "
                        "ALTER TABLE objects DROP COLUMN source_peer; "
                        "DROP TABLE policy_documents; DROP TABLE console_sessions; "
                        "UPDATE ctihub_schema SET version = 1")
                  .ok());
  auto s = OpenTestPostgresStore(dir.path());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*pg::CurrentSchemaVersion(*raw), pg::LatestSchemaVersion());
  for (const std::string& id : {a, b}) {
    auto refs = (*s)->ReferencesTo(id, {collection}, 10);
    ASSERT_TRUE(refs.ok()) << refs.status().ToString();
    ASSERT_EQ(refs->size(), 1u) << id;
    EXPECT_EQ((*refs)[0].id, rel);
  }
  auto creator = (*s)->ReferencesTo("identity--" + Uuid(4), {collection}, 10);
  ASSERT_TRUE(creator.ok());
  EXPECT_TRUE(creator->empty());
  auto rows = raw->Query("SELECT count(*) FROM object_refs");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Int(0, 0), 2);  // a once (source_ref and object_refs), b
}

// Schema 3 (the search index): the migration fills the search column of the
// rows already stored, so an upgraded hub finds its old objects.
TEST(PgStoreTest, MigrationIndexesExistingObjectsForSearch) {
  TempDir dir;
  const std::string id = "indicator--" + Uuid(1);
  std::string collection;
  auto find = [&](Store& s, std::vector<std::string> words) {
    SearchQuery q;
    q.words = std::move(words);
    q.collection_ids = {collection};
    std::vector<std::string> out;
    Status st = s.SearchObjects(q, [&](SearchHit& h) {
      out.push_back(h.object.id);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  };
  {
    auto s = OpenTestPostgresStore(dir.path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    auto c = (*s)->AddCollection(Collection{"", "api1", "Main", "", "", {"org:*"}, {}});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collection = c->id;
    NewObject o = Obj(id, "2024-01-01T00:00:00Z");
    o.json = "{\"id\":\"" + id +
             "\",\"name\":\"Zanzibar loader\",\"pattern\":\"[domain-name:value " +
             "= 'old.example']\"}";
    auto w = (*s)->WriteObjects(collection, {o}, "").get();
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(find(**s, {"zanzi"}), std::vector<std::string>{id});
  }
  auto raw = Raw(SchemaOf(dir));
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->Exec(kUndoNodeColumns +
                        "ALTER TABLE objects DROP COLUMN search; ALTER TABLE objects DROP COLUMN "
                        "source_peer; DROP TABLE policy_documents; DROP TABLE console_sessions; "
                        "UPDATE ctihub_schema SET version = 2")
                  .ok());
  auto s = OpenTestPostgresStore(dir.path());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*pg::CurrentSchemaVersion(*raw), pg::LatestSchemaVersion());
  EXPECT_EQ(find(**s, {"zanzibar", "old.example"}), std::vector<std::string>{id});
  EXPECT_TRUE(find(**s, {"missing"}).empty());
  auto unfilled = raw->Query("SELECT count(*) FROM objects WHERE search IS NULL");
  ASSERT_TRUE(unfilled.ok()) << unfilled.status().ToString();
  EXPECT_EQ(unfilled->Int(0, 0), 0);
}

// Schema 10 (status details as runs): the details of statuses written before
// keep their kinds, messages and order within each list.
TEST(PgStoreTest, MigrationKeepsStatusDetailsInOrder) {
  TempDir dir;
  const std::string status_id = Uuid(700);
  {
    auto s = OpenTestPostgresStore(dir.path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    StatusResource st;
    st.id = status_id;
    st.api_root = "api1";
    st.user_id = 1;
    st.status = "pending";
    st.request_timestamp = Timestamp::FromMicros(1700000000000000);
    ASSERT_TRUE((*s)->CreateStatus(st).ok());
  }
  auto raw = Raw(SchemaOf(dir));
  ASSERT_NE(raw, nullptr);
  // kind 0 success, 1 failure, 2 pending; runs interleaved, messages varying.
  ASSERT_TRUE(
      raw->Exec(kUndoStatusRuns + "UPDATE ctihub_schema SET version = 9; " +
                "INSERT INTO status_details(status_id, kind, object_id, version, message) "
                "VALUES ('" +
                status_id + "', 0, 'x--1', 'v1', ''), ('" + status_id +
                "', 1, 'x--2', 'v2', 'bad'), ('" + status_id + "', 0, 'x--3', 'v3', ''), ('" +
                status_id + "', 1, 'x--4', 'v4', 'worse'), ('" + status_id +
                "', 1, 'x--5', 'v5', 'bad'), ('" + status_id + "', 2, 'x--6', 'v6', ''), ('" +
                status_id + "', 0, 'x--7', 'v7', ''), ('other', 0, 'x--8', 'v8', '')")
          .ok());
  auto s = OpenTestPostgresStore(dir.path());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*pg::CurrentSchemaVersion(*raw), pg::LatestSchemaVersion());
  auto st = (*s)->GetStatus("api1", status_id);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto line = [](const std::vector<StatusDetail>& ds) {
    std::string out;
    for (const auto& d : ds) out += d.id + "/" + d.version + "/" + d.message + " ";
    return out;
  };
  EXPECT_EQ(line(st->successes), "x--1/v1/ x--3/v3/ x--7/v7/ ");
  EXPECT_EQ(line(st->failures), "x--2/v2/bad x--4/v4/worse x--5/v5/bad ");
  EXPECT_EQ(line(st->pendings), "x--6/v6/ ");
  auto runs = raw->Query("SELECT count(*) FROM status_entries WHERE status_id = $1",
                         pg::Params().Text(status_id));
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  EXPECT_EQ(runs->Int(0, 0), 7);  // no two neighbours share a kind and message
}

// Hostile words reach the index only as quoted lexemes: quotes, backslashes,
// tsquery operators and long words answer results or nothing, never an error.
TEST_F(PgNodesTest, SearchWordsNeverReachTsquerySyntax) {
  NewObject o = Obj("indicator--" + Uuid(5), "2024-01-01T00:00:00Z");
  o.json = "{\"name\":\"o'brien \\\\ tools & co\"}";
  auto w = a_->WriteObjects(collection_, {o}, "").get();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (const std::string& word :
       {std::string("o'brien"), std::string("\\"), std::string("&"), std::string("!tools"),
        std::string("co:*"), std::string(3000, 'x'), std::string("tools|co"), std::string("'")}) {
    SearchQuery q;
    q.words = {word};
    q.collection_ids = {collection_};
    Status st = a_->SearchObjects(q, [](SearchHit&) { return true; });
    EXPECT_TRUE(st.ok()) << word.substr(0, 20) << ": " << st.ToString();
  }
  SearchQuery q;
  q.words = {"o'brien"};
  q.collection_ids = {collection_};
  int hits = 0;
  ASSERT_TRUE(a_->SearchObjects(q, [&](SearchHit&) { return ++hits > 0; }).ok());
  EXPECT_EQ(hits, 1);
}

TEST(PgStoreTest, WithoutMigrateAnOlderSchemaIsRefused) {
  TempDir dir;
  {
    auto s = OpenTestPostgresStore(dir.path());  // creates the (empty) schema at latest
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  auto raw = Raw(SchemaOf(dir));
  ASSERT_NE(raw, nullptr);
  ASSERT_TRUE(raw->Exec("UPDATE ctihub_schema SET version = 0").ok());
  PostgresOptions o;
  o.migrate = false;
  auto s = OpenTestPostgresStore(dir.path(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().name(), "schema_outdated");
}

TEST(PgStoreTest, NodesStartingTogetherMigrateOnce) {
  TempDir dir;
  std::ofstream(dir.path() + "/postgres-schema") << "";  // no drop: both open the same schema
  std::vector<Result<std::unique_ptr<Store>>> opened;
  std::mutex mu;
  std::vector<std::thread> nodes;
  nodes.reserve(3);
  for (int i = 0; i < 3; ++i) {
    nodes.emplace_back([&] {
      auto s = OpenTestPostgresStore(dir.path());
      std::lock_guard<std::mutex> lock(mu);
      opened.push_back(std::move(s));
    });
  }
  for (auto& t : nodes) t.join();
  for (auto& s : opened) EXPECT_TRUE(s.ok()) << s.status().ToString();
}

// Text parameters travel in binary form with their lengths: quotes,
// backslashes, braces, commas and non-ASCII arrive exactly, in scalars and in
// the arrays of a batch; a NUL byte is refused, never cut off.
TEST_F(PgNodesTest, ParametersAreBinarySafe) {
  NewObject o = Obj("indicator--" + Uuid(1), "2024-01-01T00:00:00Z");
  o.json = R"({"name":"a \"quoted\" {brace}, back\\slash ' é ✓ NULL","x":"\\N"})";
  o.access.producer = "identity--\"{,}\\";
  o.access.recipient_orgs = {"a,b", "{c}", "\"d\""};
  auto w = a_->WriteObjects(collection_, {o}, "").get();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ObjectQuery q;
  q.collection_id = collection_;
  auto page = b_->QueryObjects(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].json, o.json);
  EXPECT_EQ(page->objects[0].access.producer, o.access.producer);
  EXPECT_EQ(page->objects[0].access.recipient_orgs, o.access.recipient_orgs);

  NewObject bad = Obj("indicator--" + Uuid(2), "2024-01-01T00:00:00Z");
  bad.json = std::string("{\"a\":\"x") + '\0' + "y\"}";
  auto r = a_->WriteObjects(collection_, {bad}, "").get();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(b_->CountObjects().value(), 1);
}

// A status written through one node reads the same through another.
TEST_F(PgNodesTest, StatusWrittenOnOneNodeIsVisibleOnAnother) {
  StatusResource s;
  s.id = Uuid(900);
  s.api_root = "api1";
  s.status = "pending";
  s.total_count = 1;
  s.pending_count = 1;
  s.pendings = {{"indicator--" + Uuid(1), "2024-01-01T00:00:00.000Z", ""}};
  ASSERT_TRUE(a_->CreateStatus(s).ok());
  EXPECT_EQ(b_->GetStatus("api1", s.id)->status, "pending");
  ASSERT_TRUE(
      a_->WriteObjects(collection_, {Obj("indicator--" + Uuid(1), "2024-01-01T00:00:00Z")}, s.id)
          .get()
          .ok());
  auto st = b_->GetStatus("api1", s.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "complete");
  EXPECT_EQ(st->success_count, 1);
}

// Node A with its writer held just before its COMMIT until Release(): as by a
// long batch, or by a database that stopped answering. TearDown releases it
// before node A closes, so a failed assertion never leaves it waiting.
class PgHeldWriterTest : public PgNodesTest {
 protected:
  void TearDown() override {
    Release();
    a_.reset();
  }

  void OpenHeldNodeA(PostgresOptions o) {
    o.before_commit_for_test = [this] {
      std::unique_lock<std::mutex> lock(mu_);
      held_ = true;
      cv_.notify_all();
      cv_.wait_for(lock, std::chrono::seconds(30), [this] { return released_; });
    };
    auto a = OpenTestPostgresStore(dir_.path(), o);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    a_ = std::move(*a);
  }

  // Whether the writer reached its COMMIT (and waits there).
  bool WaitHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [this] { return held_; });
  }

  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

  static NewObject Indicator(int n) { return Obj("indicator--" + Uuid(n), "2024-01-01T00:00:00Z"); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;      // guarded by mu_
  bool released_ = false;  // guarded by mu_
};

// A POST's status is committed without waiting for the batch the writer is
// committing meanwhile (its 202 waited for it when statuses were queued to the
// writer): with the writer held before its COMMIT, a status is still created,
// and the held batch's own status completes once it commits.
TEST_F(PgHeldWriterTest, CreatingAStatusDoesNotWaitForTheWritersBatch) {
  ASSERT_NO_FATAL_FAILURE(OpenHeldNodeA(Node("node-a")));
  auto status = [](int n) {
    StatusResource s;
    s.id = Uuid(950 + n);
    s.api_root = "api1";
    s.status = "pending";
    s.total_count = 1;
    s.pending_count = 1;
    s.pendings = {{"indicator--" + Uuid(n), "2024-01-01T00:00:00.000Z", ""}};
    return s;
  };
  ASSERT_TRUE(a_->CreateStatus(status(1)).ok());
  auto write = a_->WriteObjects(collection_, {Indicator(1)}, status(1).id);
  ASSERT_TRUE(WaitHeld());
  auto created = std::async(std::launch::async, [&] { return a_->CreateStatus(status(2)); });
  const bool answered = created.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  Release();
  EXPECT_TRUE(answered) << "CreateStatus waited for the writer's batch";
  EXPECT_TRUE(created.get().ok());
  ASSERT_TRUE(write.get().ok());
  EXPECT_EQ(b_->GetStatus("api1", status(1).id)->status, "complete");
  EXPECT_EQ(b_->GetStatus("api1", status(2).id)->status, "pending");
}

// The writer's queue is bounded (a POST's 202 no longer waits for the writer,
// so nothing else stops a fast client from filling memory): with the writer
// held and the queue at max_queued_objects, the next write waits for room,
// and every write completes once the writer goes on.
TEST_F(PgHeldWriterTest, AWriteWaitsWhileTheWritersQueueIsFull) {
  PostgresOptions o = Node("node-a");
  o.max_queued_objects = 2;
  ASSERT_NO_FATAL_FAILURE(OpenHeldNodeA(o));
  auto first = a_->WriteObjects(collection_, {Indicator(1)}, "");
  ASSERT_TRUE(WaitHeld());
  auto queued = a_->WriteObjects(collection_, {Indicator(2), Indicator(3)}, "");  // fills it
  // The call itself waits (its future would wait for the held commit anyway).
  auto blocked = std::async(std::launch::async,
                            [&] { return a_->WriteObjects(collection_, {Indicator(4)}, ""); });
  const bool waited = blocked.wait_for(std::chrono::seconds(1)) == std::future_status::timeout;
  Release();
  EXPECT_TRUE(waited) << "a write entered a full queue";
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(queued.get().ok());
  EXPECT_TRUE(blocked.get().get().ok());
  EXPECT_EQ(b_->CountObjects().value(), 4);
}

// ... but not for ever: past max_queue_wait the write fails store_busy, and
// the writes already queued complete once the writer goes on.
TEST_F(PgHeldWriterTest, AWriteGivesUpWhenTheQueueStaysFull) {
  PostgresOptions o = Node("node-a");
  o.max_queued_objects = 1;
  o.max_queue_wait = std::chrono::milliseconds(200);
  ASSERT_NO_FATAL_FAILURE(OpenHeldNodeA(o));
  auto first = a_->WriteObjects(collection_, {Indicator(1)}, "");
  ASSERT_TRUE(WaitHeld());
  auto queued = a_->WriteObjects(collection_, {Indicator(2)}, "");
  auto refused = a_->WriteObjects(collection_, {Indicator(3)}, "").get();
  Release();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().name(), "store_busy");
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(queued.get().ok());
  EXPECT_EQ(b_->CountObjects().value(), 2);
}

// The out-of-order-commit gap: two nodes write at once while a reader pages
// with added_after / next. date_added is assigned under the objects advisory
// lock held through COMMIT, so a version committed after the reader's page
// always has a larger date_added than the page's last one: every version is
// seen exactly once, in increasing date_added order. Node A pauses before
// each COMMIT, the moment at which, without the lock, node B's later dates
// would commit first and the reader would page past A's earlier ones (it
// does: this test fails with the lock taken out).
TEST_F(PgNodesTest, PagingWhileTwoNodesWriteNeverSkipsAVersion) {
  PostgresOptions slow = Node("node-a");
  slow.before_commit_for_test = [] { std::this_thread::sleep_for(std::chrono::milliseconds(10)); };
  auto a = OpenTestPostgresStore(dir_.path(), slow);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  a_ = std::move(*a);
  constexpr int kBatches = 30, kPerBatch = 20;
  std::atomic<int> writers_done{0};
  auto write = [&](Store* node, int base) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<NewObject> objs;
      objs.reserve(kPerBatch);
      for (int i = 0; i < kPerBatch; ++i) {
        // Objects without a version: their version is their date_added.
        objs.push_back(Obj("indicator--" + Uuid(base + b * kPerBatch + i), ""));
      }
      auto r = node->WriteObjects(collection_, std::move(objs), "").get();
      EXPECT_TRUE(r.ok()) << r.status().ToString();
    }
    ++writers_done;
  };
  std::thread on_a(write, a_.get(), 0);
  std::thread on_b(write, b_.get(), 100000);

  auto reader = OpenTestPostgresStore(dir_.path());
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  std::map<std::string, int> seen;
  ObjectQuery q;
  q.collection_id = collection_;
  q.version_all = true;
  q.limit = 7;
  int64_t last = -1;
  for (int guard = 0; reader.ok() && guard < 100000; ++guard) {
    const bool finished = writers_done.load() == 2;
    auto page = (*reader)->QueryObjects(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;  // the writers are still joined below
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
  on_a.join();
  on_b.join();
  EXPECT_EQ(seen.size(), size_t{2} * kBatches * kPerBatch);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

// Query texts vary with the filters; the statements a session keeps prepared
// stay bounded, and a statement deallocated on the way is prepared again.
TEST(PgConnectionTest, PreparedStatementsAreBounded) {
  auto url = TestPostgresUrl();
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto c = pg::Connection::Open(*url, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const size_t n = pg::Connection::kMaxPreparedStatements * 2 + 10;
  for (size_t i = 0; i < n; ++i) {
    auto r = (*c)->Query("SELECT $1::int8 + " + std::to_string(i), pg::Params().Int(1));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->Int(0, 0), static_cast<int64_t>(i) + 1);
  }
  auto again = (*c)->Query("SELECT $1::int8 + 0", pg::Params().Int(41));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->Int(0, 0), 41);
  auto kept = (*c)->Query("SELECT count(*) FROM pg_prepared_statements");
  ASSERT_TRUE(kept.ok());
  EXPECT_LE(kept->Int(0, 0), static_cast<int64_t>(pg::Connection::kMaxPreparedStatements) + 1);
  EXPECT_GE(kept->Int(0, 0), 2);
}

// A node whose sessions the server ended (a restart, a failover) answers
// Unavailable at most once per connection, then reconnects by itself.
TEST_F(PgNodesTest, ReconnectsAfterTheServerEndsItsSessions) {
  ASSERT_TRUE(
      a_->WriteObjects(collection_, {Obj("indicator--" + Uuid(1), "2024-01-01T00:00:00Z")}, "")
          .get()
          .ok());
  auto raw = Raw(SchemaOf(dir_));
  ASSERT_NE(raw, nullptr);
  // Only this test's sessions (other tests run beside it on the same cluster):
  // a_'s and b_'s admin, writer and reader connections.
  auto ended = raw->Query(
      "WITH target AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE "
      "pid <> pg_backend_pid() AND application_name = $1) "
      "SELECT count(*) FROM target WHERE pg_terminate_backend(pid)",
      pg::Params().Text("ctihub/" + SchemaOf(dir_)));
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_GE(ended->Int(0, 0), 4);
  // Each of a_'s connections may fail once; afterwards every call works again.
  bool recovered = false;
  for (int attempt = 0; attempt < 10 && !recovered; ++attempt) {
    auto w = a_->WriteObjects(collection_,
                              {Obj("indicator--" + Uuid(2 + attempt), "2024-01-01T00:00:00Z")}, "")
                 .get();
    auto n = a_->CountObjects();
    auto org = a_->ListOrganisations();
    recovered = w.ok() && n.ok() && org.ok();
    if (!w.ok()) {
      EXPECT_EQ(w.status().code(), ErrorCode::kUnavailable) << w.status().ToString();
    }
  }
  EXPECT_TRUE(recovered);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(a_->CountObjects().ok());
}

}  // namespace
}  // namespace ctihub::store

namespace ctihub::store {
namespace {

// The sharing policy's documents: what one node writes, another reads, with
// a revision that grows with every change and guards every write.
TEST_F(PgNodesTest, PolicyDocumentsAreSharedAndRevisioned) {
  EXPECT_TRUE(a_->KeepsPolicyDocuments());
  ASSERT_EQ(b_->PolicyDocumentsRevision().value(), 0);
  EXPECT_TRUE(b_->ReadPolicyDocuments()->documents.empty());

  auto r1 = a_->PutPolicyDocument("agreements.toml", std::string("# one\n"), 0);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(*r1, 1);
  auto r2 = a_->PutPolicyDocument("policy.toml", std::string("a = 1\n"), 1);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(*r2, 2);

  EXPECT_EQ(b_->PolicyDocumentsRevision().value(), 2);
  auto docs = b_->ReadPolicyDocuments();
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  EXPECT_EQ(docs->revision, 2);
  ASSERT_EQ(docs->documents.size(), 2u);
  EXPECT_EQ(docs->documents[0].name, "agreements.toml");
  EXPECT_EQ(docs->documents[0].text, std::optional<std::string>("# one\n"));
  EXPECT_EQ(docs->documents[1].name, "policy.toml");
}

TEST_F(PgNodesTest, AStalePolicyWriteIsRefusedAndChangesNothing) {
  ASSERT_TRUE(a_->PutPolicyDocument("agreements.toml", std::string("# a\n"), 0).ok());
  // Node B read revision 0 before A's write: its write must not overwrite A's.
  auto stale = b_->PutPolicyDocument("agreements.toml", std::string("# b\n"), 0);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), ErrorCode::kConflict);
  EXPECT_EQ(stale.status().name(), "policy_changed");
  auto docs = a_->ReadPolicyDocuments();
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->revision, 1);
  EXPECT_EQ(docs->documents.at(0).text, std::optional<std::string>("# a\n"));

  EXPECT_EQ(a_->PutPolicyDocument("other.toml", std::string(""), 1).status().name(),
            "bad_policy_document");
  // Removing a document still moves the revision forward.
  auto removed = b_->PutPolicyDocument("agreements.toml", std::nullopt, 1);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2);
  docs = a_->ReadPolicyDocuments();
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->revision, 2);
  EXPECT_FALSE(docs->documents.at(0).text.has_value());
}

// Two nodes racing to change the documents from the same revision: exactly
// one write wins each round, and no change is lost when the loser redoes its
// change on what it reads again (what agreement_edit does).
TEST_F(PgNodesTest, ConcurrentPolicyWritesNeverLoseOne) {
  constexpr int kPerNode = 25;
  auto append = [](Store& s, const std::string& line) {
    for (;;) {
      auto docs = s.ReadPolicyDocuments();
      if (!docs.ok()) return docs.status();
      std::string text;
      for (const auto& d : docs->documents)
        if (d.name == "agreements.toml" && d.text) text = *d.text;
      auto put = s.PutPolicyDocument("agreements.toml", text + line + "\n", docs->revision);
      if (put.ok()) return Status::Ok();
      if (put.status().name() != "policy_changed") return put.status();
    }
  };
  std::atomic<bool> failed{false};
  auto run = [&](Store& s, const std::string& node) {
    for (int i = 0; i < kPerNode; ++i) {
      if (!append(s, node + std::to_string(i)).ok()) failed = true;
    }
  };
  std::thread ta([&] { run(*a_, "a"); });
  std::thread tb([&] { run(*b_, "b"); });
  ta.join();
  tb.join();
  ASSERT_FALSE(failed.load());
  auto docs = a_->ReadPolicyDocuments();
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->revision, 2 * kPerNode);
  const std::string text = docs->documents.at(0).text.value_or("");
  for (int i = 0; i < kPerNode; ++i) {
    for (const char* node : {"a", "b"}) {
      const std::string line = node + std::to_string(i) + "\n";
      EXPECT_NE(text.find(line), std::string::npos) << line;
    }
  }
}

// ---- console sessions (webapi/session.h keeps them here with --db) ----

SessionRecord SessionAt(int n, int64_t created_us) {
  SessionRecord s;
  s.key = std::string(63, 'a') + static_cast<char>('0' + n);
  s.user_id = 7;
  s.user = "alice";
  s.org_id = 3;
  s.org = "acme";
  s.role = Role::kPublisher;
  s.csrf_token = std::string(64, 'c');
  s.created_us = created_us;
  s.last_used_us = created_us;
  s.expires_us = created_us + 300;
  return s;
}

// A session stored through node a is read, touched, changed and deleted
// through node b, and the other way round.
// A console import job's status, written by the node running it, read by
// another; finished jobs are pruned by their end time.
TEST_F(PgNodesTest, ImportJobsWrittenOnOneNodeAreReadOnAnother) {
  EXPECT_TRUE(a_->KeepsImportJobs());
  ImportJobRecord job{"00112233445566778899aabbccddeeff", 7, R"({"state":"running"})", 1000, 0};
  ASSERT_TRUE(a_->PutImportJob(job).ok());
  job.body = R"({"state":"done"})";
  job.updated_us = 2000;
  job.finished_us = 2000;
  ASSERT_TRUE(a_->PutImportJob(job).ok());  // replaces
  auto got = b_->GetImportJob(job.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->owner_user_id, 7);
  EXPECT_EQ(got->body, R"({"state":"done"})");
  EXPECT_EQ(got->finished_us, 2000);
  ImportJobRecord running{"ffeeddccbbaa99887766554433221100", 8, "{}", 1500, 0};
  ASSERT_TRUE(b_->PutImportJob(running).ok());
  auto pruned = b_->DeleteImportJobsFinishedBefore(3000);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1);  // the running one stays
  EXPECT_EQ(a_->GetImportJob(job.id).status().name(), "unknown_import_job");
  EXPECT_TRUE(a_->GetImportJob(running.id).ok());
}

TEST_F(PgNodesTest, SessionsAreSharedByNodes) {
  EXPECT_TRUE(a_->KeepsSessions());
  const SessionRecord s = SessionAt(1, 1000);
  ASSERT_TRUE(a_->PutSession(s, 10, 60).ok());
  EXPECT_EQ(a_->PutSession(s, 10, 60).name(), "session_exists");
  auto got = b_->GetSession(s.key);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->user_id, 7);
  EXPECT_EQ(got->user, "alice");
  EXPECT_EQ(got->org_id, 3);
  EXPECT_EQ(got->org, "acme");
  EXPECT_EQ(got->role, Role::kPublisher);
  EXPECT_EQ(got->csrf_token, s.csrf_token);
  EXPECT_EQ(got->created_us, 1000);
  EXPECT_EQ(got->last_used_us, 1000);
  EXPECT_EQ(got->expires_us, 1300);

  ASSERT_TRUE(b_->TouchSession(s.key, 1040).ok());
  ASSERT_TRUE(a_->TouchSession(s.key, 1020).ok());  // never backwards
  EXPECT_EQ(a_->GetSession(s.key)->last_used_us, 1040);

  SessionRecord changed = s;
  changed.role = Role::kAdmin;
  changed.org_id = 4;
  changed.org = "beta";
  changed.csrf_token = "not changed by UpdateSessionPrincipal";
  ASSERT_TRUE(b_->UpdateSessionPrincipal(changed).ok());
  got = a_->GetSession(s.key);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->role, Role::kAdmin);
  EXPECT_EQ(got->org, "beta");
  EXPECT_EQ(got->csrf_token, s.csrf_token);

  auto deleted = b_->DeleteSession(s.key);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_EQ(a_->GetSession(s.key).status().name(), "unknown_session");
  EXPECT_FALSE(*a_->DeleteSession(s.key));
  EXPECT_EQ(a_->TouchSession(s.key, 2000).name(), "unknown_session");
  EXPECT_EQ(a_->UpdateSessionPrincipal(changed).name(), "unknown_session");  // never revived
  EXPECT_EQ(b_->GetSession(s.key).status().name(), "unknown_session");
}

TEST_F(PgNodesTest, SessionsAreBoundedExpiredFirstThenOldest) {
  // idle 60 us, absolute 300 us. 1 idles out, 2 reaches its absolute expiry.
  SessionRecord idle = SessionAt(1, 1000);
  SessionRecord old = SessionAt(2, 800);
  old.last_used_us = 1090;
  ASSERT_TRUE(a_->PutSession(idle, 3, 60).ok());
  ASSERT_TRUE(b_->PutSession(old, 3, 60).ok());
  ASSERT_TRUE(a_->PutSession(SessionAt(3, 1095), 3, 60).ok());
  // The fourth (created at 1100) is over the bound: 1 (idle 100 us) and 2
  // (expired at 1100) go; no live one has to.
  ASSERT_TRUE(b_->PutSession(SessionAt(4, 1100), 3, 60).ok());
  EXPECT_FALSE(a_->GetSession(idle.key).ok());
  EXPECT_FALSE(a_->GetSession(old.key).ok());
  EXPECT_TRUE(a_->GetSession(SessionAt(3, 0).key).ok());
  EXPECT_TRUE(a_->GetSession(SessionAt(4, 0).key).ok());
  // Two more live ones: the oldest live (3) goes to keep three.
  ASSERT_TRUE(a_->PutSession(SessionAt(5, 1101), 3, 60).ok());
  ASSERT_TRUE(b_->PutSession(SessionAt(6, 1102), 3, 60).ok());
  EXPECT_FALSE(a_->GetSession(SessionAt(3, 0).key).ok());
  for (int n : {4, 5, 6}) EXPECT_TRUE(b_->GetSession(SessionAt(n, 0).key).ok()) << n;
  auto raw = Raw(SchemaOf(dir_));
  ASSERT_NE(raw, nullptr);
  auto rows = raw->Query("SELECT count(*) FROM console_sessions");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 3);
  // The purge: at 1160, 4 (last used 1100) has idled out, 5 and 6 not yet.
  auto purged = b_->DeleteExpiredSessions(1160, 60);
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1);
  EXPECT_FALSE(a_->GetSession(SessionAt(4, 0).key).ok());
  EXPECT_EQ(*a_->DeleteExpiredSessions(10000, 60), 2);
}

}  // namespace
}  // namespace ctihub::store

namespace ctihub::store {
namespace {

AuditChainRecord ChainRecord(int64_t seq, const std::string& prev) {
  const std::string hash = "h" + std::to_string(seq);
  return {seq, hash, prev, "request", "{\"seq\":" + std::to_string(seq) + "}"};
}

// Each node's audit chain: appended in pieces that must continue it, under
// the key its first append pinned, and read back from any node.
TEST_F(PgNodesTest, AuditChainsAreAppendedInOrderUnderThePinnedKey) {
  EXPECT_TRUE(a_->KeepsAuditChains());
  const AuditChainSeal no_head;
  ASSERT_TRUE(
      a_->AppendAuditChain("node-a", "aa", {ChainRecord(1, ""), ChainRecord(2, "h1")}, {}, no_head)
          .ok());
  const AuditChainSeal head{3, "h3", 1, "sig"};
  Status st =
      a_->AppendAuditChain("node-a", "aa", {ChainRecord(3, "h2")}, {{2, "h2", 0, "cs"}}, head);
  ASSERT_TRUE(st.ok()) << st.ToString();
  // A piece that skips a record, or does not follow the last hash.
  EXPECT_EQ(b_->AppendAuditChain("node-a", "aa", {ChainRecord(5, "h4")}, {}, no_head).name(),
            "audit_chain_gap");
  EXPECT_EQ(b_->AppendAuditChain("node-a", "aa", {ChainRecord(4, "hx")}, {}, no_head).name(),
            "audit_chain_gap");
  EXPECT_EQ(b_->AppendAuditChain("node-a", "bb", {ChainRecord(4, "h3")}, {}, no_head).name(),
            "audit_key_changed");
  ASSERT_TRUE(b_->AppendAuditChain("node-b", "bb", {ChainRecord(1, "")}, {}, no_head).ok());

  auto nodes = b_->ListAuditChains();
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].node, "node-a");
  EXPECT_EQ((*nodes)[0].public_key, "aa");
  EXPECT_EQ((*nodes)[0].last_seq, 3);
  EXPECT_EQ((*nodes)[0].head.seq, 3);
  EXPECT_EQ((*nodes)[0].head.signature, "sig");
  EXPECT_EQ((*nodes)[1].head.seq, 0);  // copied, no head yet
  auto records = b_->ReadAuditChain("node-a", 1, 10);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].seq, 2);
  EXPECT_EQ((*records)[1].prev_hash, "h2");
  EXPECT_EQ((*records)[1].text, "{\"seq\":3}");
  auto cps = b_->ReadAuditCheckpoints("node-a");
  ASSERT_TRUE(cps.ok());
  ASSERT_EQ(cps->size(), 1u);
  EXPECT_EQ((*cps)[0].signature, "cs");
}

}  // namespace
}  // namespace ctihub::store
