// The store conformance suite's fixtures (GoogleTest, value-parameterised):
// every Store backend must pass src/store/store_conformance_test.cc unchanged.
// A backend joins the suite with one StoreFactory in ConformanceStores()
// below: a name and a function that opens a fresh, empty store in a new
// temporary directory. Backend-specific tests (sqlite_store_test.cc) reuse
// these fixtures and instantiate them with their own factory only.
// Test-only: include from tests linking ctihub_store and ctihub_store_testing.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres/postgres_store.h"
#include "store/store.h"
#include "store/testing/memory_store.h"

namespace ctihub::store::suite {

// A directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ctihub-store-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// How the suite makes a store of one backend.
struct StoreFactory {
  std::string name;  // the test-name suffix: letters and digits only
  // Opens the store kept in `dir` (creating it when empty) as node `node`
  // (store.h "crash recovery"). Called again on the same directory by tests
  // that reopen (backends that persist), possibly as another node.
  std::function<Result<std::unique_ptr<Store>>(const std::string& dir, const std::string& node)>
      open;
};

// GoogleTest prints a factory as its name.
inline void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }

inline StoreFactory SqliteStoreFactory() {
  return {"Sqlite", [](const std::string& dir, const std::string& node) {
            SqliteOptions opts;
            opts.path = dir + "/ctihub.db";
            opts.node_id = node;
            return OpenSqliteStore(opts);
          }};
}

inline StoreFactory MemoryStoreFactory() {
  return {"Memory",
          [](const std::string&, const std::string& node) -> Result<std::unique_ptr<Store>> {
            return std::unique_ptr<Store>(std::make_unique<MemoryStore>(node));
          }};
}

// The test PostgreSQL's URL: $CTIHUB_TEST_PG_URL, else the first line of the
// file named by $CTIHUB_TEST_PG_URL_FILE (CTest's pg_cluster fixture writes
// it). Unavailable without either: a PostgreSQL test then fails, never skips.
inline Result<std::string> TestPostgresUrl() {
  if (const char* url = std::getenv("CTIHUB_TEST_PG_URL"); url != nullptr && *url != '\0') {
    return std::string(url);
  }
  const char* file = std::getenv("CTIHUB_TEST_PG_URL_FILE");
  if (file == nullptr || *file == '\0') {
    return Unavailable("no_test_db",
                       "no test PostgreSQL: run under ctest (fixture pg_cluster), or start "
                       "scripts/pg_test_cluster.sh and set CTIHUB_TEST_PG_URL");
  }
  std::ifstream in(file);
  std::string url;
  if (!std::getline(in, url) || url.empty()) {
    return Unavailable("no_test_db", std::string("the test PostgreSQL did not start: no URL in ") +
                                         file + " (see the pg_cluster.start test's output)");
  }
  return url;
}

// A PostgreSQL store in its own schema of the test database, named after the
// test's directory: the first open of a directory drops any schema of that
// name (a directory name reused from an earlier test) and marks the
// directory; later opens (Reopen) find their data again.
inline Result<std::unique_ptr<Store>> OpenTestPostgresStore(const std::string& dir,
                                                            PostgresOptions opts = {}) {
  auto url = TestPostgresUrl();
  if (!url.ok()) return url.status();
  char schema[32];
  std::snprintf(schema, sizeof schema, "t_%016zx", std::hash<std::string>{}(dir));
  const std::string marker = dir + "/postgres-schema";
  opts.url = *url;
  opts.schema = schema;
  opts.drop_schema_for_test = !std::filesystem::exists(marker);
  if (opts.reader_connections == 4) opts.reader_connections = 2;
  auto store = OpenPostgresStore(opts);
  if (store.ok()) std::ofstream(marker) << schema << "\n";
  return store;
}

inline StoreFactory PostgresStoreFactory() {
  return {"Postgres", [](const std::string& dir, const std::string& node) {
            PostgresOptions opts;
            opts.node_id = node;
            return OpenTestPostgresStore(dir, std::move(opts));
          }};
}

// Every backend the conformance suite runs on. A new backend: one line here.
inline std::vector<StoreFactory> ConformanceStores() {
  return {SqliteStoreFactory(), MemoryStoreFactory(), PostgresStoreFactory()};
}

inline std::string StoreName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

// ---- test data -------------------------------------------------------------------

inline Timestamp Ts(std::string_view text) {
  auto t = Timestamp::Parse(text);
  EXPECT_TRUE(t.ok()) << text;
  return t.ok() ? *t : Timestamp();
}

// An object version; `version` "" leaves it without one (the store uses date_added).
inline NewObject Obj(std::string id, std::string_view version, std::string spec = "2.1") {
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

inline std::string Uuid(int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

inline NewObject WithFacts(NewObject o, std::string producer, int tlp,
                           std::vector<std::string> recipients = {}, int pap = -1,
                           bool granular = false) {
  o.access.producer = std::move(producer);
  o.access.tlp = tlp;
  o.access.pap = pap;
  o.access.recipient_orgs = std::move(recipients);
  o.access.granular_levels = granular;
  return o;
}

inline const std::string kA = "indicator--" + Uuid(1);
inline const std::string kB = "malware--" + Uuid(2);
inline const std::string kC = "indicator--" + Uuid(3);
inline const std::string kOwn = "identity--" + Uuid(100);
inline const std::string kP = "identity--" + Uuid(101);
inline const std::string kQ = "identity--" + Uuid(102);

using Strings = std::vector<std::string>;

// ---- fixtures ---------------------------------------------------------------------

// A fresh store with API root "api1" and one collection (alias "main").
class StoreTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    auto s = GetParam().open(dir_.path(), node_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    if (collection_.empty()) {
      ASSERT_TRUE(store_->PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
      auto c = store_->AddCollection(Collection{"", "api1", "Main", "", "main", {"org:*"}, {}});
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      collection_ = c->id;
    }
  }
  // Closes and reopens the store on the same directory (persistent backends).
  void Reopen() {
    store_.reset();
    Open();
  }
  // The store as node `node` over the same data (as another hub node sharing
  // the database): persistent backends reopen, the in-memory one switches.
  void ActAsNode(const std::string& node) {
    node_ = node;
    if (auto* memory = dynamic_cast<MemoryStore*>(store_.get())) {
      memory->SetNodeForTest(node);
      return;
    }
    Reopen();
  }
  const std::string& dir() const { return dir_.path(); }

  // A pending status resource of one object (id Uuid(n)), as a POST makes it.
  std::string CreatePendingStatus(int n, const std::string& object) {
    StatusResource s;
    s.id = Uuid(n);
    s.api_root = "api1";
    s.status = "pending";
    s.total_count = 1;
    s.pending_count = 1;
    s.pendings = {{object, "2024-01-01T00:00:00.000Z", ""}};
    EXPECT_TRUE(store_->CreateStatus(s).ok());
    return s.id;
  }

  std::vector<WriteOutcome> Write(std::vector<NewObject> objs, std::string status = "") {
    auto r = store_->WriteObjects(collection_, std::move(objs), std::move(status)).get();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<WriteOutcome>{};
  }

  ObjectQuery Q() const {
    ObjectQuery q;
    q.collection_id = collection_;
    return q;
  }

  // id@version of every object the query returns (all pages).
  std::vector<std::string> Ids(ObjectQuery q) {
    std::vector<std::string> out;
    for (int guard = 0; guard < 100000; ++guard) {
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
  std::string node_ = "node-a";  // the node the store is opened as
  std::unique_ptr<Store> store_;
  std::string collection_;
};

// Objects with every kind of facts the scope clauses look at; Labels() names them.
class StoreScopeTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Add("own-red", "indicator", kOwn, 4);
    Add("p-clear", "indicator", kP, 0);
    Add("p-green", "indicator", kP, 1);
    Add("p-amber-malware", "malware", kP, 2);
    Add("p-red-named", "indicator", kP, 4, {"identity--" + Uuid(7), kOwn});
    Add("p-amber-named", "indicator", kP, 2, {kOwn});
    // Names that contain, extend, or escape-collide with kOwn, but never kOwn itself.
    Add("q-red-near-names", "malware", kQ, 4,
        {kOwn + "0", kOwn.substr(0, kOwn.size() - 1), "x|" + kOwn, kOwn + "|x", kOwn + "%7C"});
    Add("q-unmarked-tool", "tool", kQ, -1);
    Add("q-amber", "indicator", kQ, 2);
  }

  void Add(const std::string& label, const std::string& type, const std::string& producer, int tlp,
           std::vector<std::string> recipients = {}) {
    std::string id = type + "--" + Uuid(static_cast<int>(labels_.size()) + 200);
    labels_[id] = label;
    Write({WithFacts(Obj(id, "2024-01-01T00:00:00Z"), producer, tlp, std::move(recipients))});
  }

  std::string IdOf(const std::string& label) const {
    for (const auto& [id, l] : labels_) {
      if (l == label) return id;
    }
    return "";
  }

  // Labels of every object a query returns (all pages), in date_added order.
  Strings Labels(ObjectQuery q) {
    Strings out;
    for (const std::string& id_version : Ids(std::move(q))) {
      out.push_back(labels_[id_version.substr(0, id_version.find('@'))]);
    }
    return out;
  }

  // A scope in which no clause passes anything (with the default unmarked_tlp).
  static AccessScope Closed() {
    AccessScope s;
    s.any_producer_max = -1;
    return s;
  }

  ObjectQuery Scoped(AccessScope s) const {
    ObjectQuery q = Q();
    q.scope = std::move(s);
    return q;
  }

  std::map<std::string, std::string> labels_;
};

}  // namespace ctihub::store::suite
