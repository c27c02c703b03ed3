// The in-memory Store follows store.h's access-control contract like the
// SQLite backend (src/store/sqlite_store_test.cc): facts kept and returned,
// the scope, `admit` with its look-ahead and scan budget.
#include "store/testing/memory_store.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ctihub::store {
namespace {

using Strings = std::vector<std::string>;

std::string Uuid(int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

const std::string kOwn = "identity--" + Uuid(100);
const std::string kP = "identity--" + Uuid(101);
const std::string kQ = "identity--" + Uuid(102);

class MemoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    auto c = store_.AddCollection({"", "api1", "Main", "", "", {}, {}});
    ASSERT_TRUE(c.ok());
    collection_ = c->id;
  }

  // Writes one object version and names it `label`.
  void Add(const std::string& label, const std::string& type, const std::string& producer, int tlp,
           Strings recipients = {}, int pap = -1, bool granular = false,
           const std::string& version = "2024-01-01T00:00:00Z") {
    NewObject o;
    o.type = type;
    o.id = type + "--" + Uuid(static_cast<int>(labels_.size()) + 200);
    for (const auto& [id, l] : labels_) {
      if (l == label) o.id = id;  // a new version of an object already added
    }
    labels_[o.id] = label;
    o.spec_version = "2.1";
    o.version = *Timestamp::Parse(version);
    o.has_version = true;
    o.json = "{\"id\":\"" + o.id + "\",\"modified\":\"" + version + "\"}";
    o.access.producer = producer;
    o.access.tlp = tlp;
    o.access.pap = pap;
    o.access.recipient_orgs = std::move(recipients);
    o.access.granular_levels = granular;
    o.access.known = false;  // ignored on writes
    auto r = store_.WriteObjects(collection_, {o}, "").get();
    ASSERT_TRUE(r.ok());
  }

  ObjectQuery Q(std::optional<AccessScope> scope = std::nullopt) {
    ObjectQuery q;
    q.collection_id = collection_;
    q.scope = std::move(scope);
    return q;
  }

  static AccessScope Closed() {
    AccessScope s;
    s.any_producer_max = -1;
    return s;
  }

  // Labels of every object returned (all pages), checking more/next.
  Strings Labels(ObjectQuery q) {
    Strings out;
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = store_.QueryObjects(q);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      for (const auto& o : page->objects) out.push_back(labels_[o.id]);
      EXPECT_EQ(page->more, !page->next.empty());
      if (!page->more) break;
      q.next = page->next;
    }
    return out;
  }

  MemoryStore store_;
  std::string collection_;
  std::map<std::string, std::string> labels_;
};

TEST_F(MemoryStoreTest, AccessFactsRoundTrip) {
  Add("a", "indicator", kP, 4, {kOwn, "x|y"}, 2, true);
  Add("b", "malware", "", -1);
  ObjectQuery q = Q();
  q.include_json = false;
  auto page = store_.QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  const AccessFacts& a = page->objects[0].access;
  EXPECT_TRUE(a.known);
  EXPECT_EQ(a.producer, kP);
  EXPECT_EQ(a.tlp, 4);
  EXPECT_EQ(a.pap, 2);
  EXPECT_EQ(a.recipient_orgs, (Strings{kOwn, "x|y"}));
  EXPECT_TRUE(a.granular_levels);
  EXPECT_TRUE(page->objects[0].json.empty());
  EXPECT_TRUE(page->objects[1].access.known);
  EXPECT_EQ(page->objects[1].access.tlp, -1);
}

class MemoryScopeTest : public MemoryStoreTest {
 protected:
  void SetUp() override {
    MemoryStoreTest::SetUp();
    Add("own-red", "indicator", kOwn, 4);
    Add("p-clear", "indicator", kP, 0);
    Add("p-amber-malware", "malware", kP, 2);
    Add("p-red-named", "indicator", kP, 4, {kOwn});
    Add("q-red-near-names", "malware", kQ, 4, {kOwn + "0", kOwn.substr(0, kOwn.size() - 1)});
    Add("q-unmarked-tool", "tool", kQ, -1);
  }
};

TEST_F(MemoryScopeTest, EachClause) {
  EXPECT_EQ(Labels(Q()).size(), 6u);
  EXPECT_TRUE(Labels(Q(Closed())).empty());

  AccessScope s = Closed();
  s.own_producer = kOwn;
  EXPECT_EQ(Labels(Q(s)), (Strings{"own-red"}));
  s.red_if_named = true;  // exact membership, not a prefix
  EXPECT_EQ(Labels(Q(s)), (Strings{"own-red", "p-red-named"}));

  s = Closed();
  s.any_producer_max = 2;
  EXPECT_EQ(Labels(Q(s)), (Strings{"p-clear", "p-amber-malware", "q-unmarked-tool"}));
  s.unmarked_tlp = 3;
  EXPECT_EQ(Labels(Q(s)), (Strings{"p-clear", "p-amber-malware"}));

  s = Closed();
  s.grants.push_back({kP, 4, {}});
  EXPECT_EQ(Labels(Q(s)), (Strings{"p-clear", "p-amber-malware", "p-red-named"}));
  s.grants = {{kP, 4, {"malware"}}, {kQ, 2, {}}};
  EXPECT_EQ(Labels(Q(s)), (Strings{"p-amber-malware", "q-unmarked-tool"}));

  s.none = true;
  s.any_producer_max = 4;
  EXPECT_TRUE(Labels(Q(s)).empty());
}

TEST_F(MemoryScopeTest, ScopeAppliesOnTopOfVersionSelection) {
  Add("p-clear", "indicator", kP, 4, {}, -1, false, "2024-06-01T00:00:00Z");  // now RED
  AccessScope s = Closed();
  s.any_producer_max = 0;
  EXPECT_TRUE(Labels(Q(s)).empty());
  ObjectQuery q = Q(s);
  q.version_all = true;
  EXPECT_EQ(Labels(q), (Strings{"p-clear"}));
}

TEST_F(MemoryScopeTest, DeleteIgnoresScopeAndAdmit) {
  ObjectQuery d = Q();
  for (const auto& [id, label] : labels_) {
    if (label == "own-red") d.ids = {id};
  }
  AccessScope none;
  none.none = true;
  d.scope = none;
  d.admit = [](ObjectVersion&) { return false; };
  auto n = store_.DeleteObject(d);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(*store_.CountObjects(), 5);
}

class MemoryAdmitTest : public MemoryStoreTest {
 protected:
  void SetUp() override {
    MemoryStoreTest::SetUp();
    for (int i = 0; i < 40; ++i) Add(std::to_string(i), "indicator", kP, 0);
  }

  struct Paged {
    std::vector<int> rows;
    std::vector<size_t> page_sizes;
    std::vector<size_t> examined;
  };
  Paged PageAll(ObjectQuery q, const std::function<bool(int)>& admitted) {
    Paged out;
    size_t calls = 0;
    q.admit = [&](ObjectVersion& v) {
      ++calls;
      EXPECT_FALSE(v.json.empty());  // forced on with admit
      if (std::stoi(labels_[v.id]) % 5 == 0) v.json = "{\"redacted\":true}";
      return admitted(std::stoi(labels_[v.id]));
    };
    for (int guard = 0; guard < 1000; ++guard) {
      calls = 0;
      auto page = store_.QueryObjects(q);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      out.examined.push_back(calls);
      out.page_sizes.push_back(page->objects.size());
      for (const auto& o : page->objects) {
        int row = std::stoi(labels_[o.id]);
        out.rows.push_back(row);
        EXPECT_EQ(o.json == "{\"redacted\":true}", row % 5 == 0);
      }
      EXPECT_EQ(page->more, !page->next.empty());
      if (!page->more) break;
      q.next = page->next;
    }
    return out;
  }
};

TEST_F(MemoryAdmitTest, PagingReturnsEveryAdmittedRowOnceWithExactMore) {
  auto admitted = [](int i) { return i % 3 != 1 && (i < 10 || i >= 25) && i < 36; };
  std::vector<int> expected;
  for (int i = 0; i < 40; ++i) {
    if (admitted(i)) expected.push_back(i);
  }
  for (size_t limit : {1, 3, 7, static_cast<int>(expected.size()), 100}) {
    ObjectQuery q = Q();
    q.limit = limit;
    q.include_json = false;
    Paged p = PageAll(q, admitted);
    EXPECT_EQ(p.rows, expected) << limit;
    size_t pages = (expected.size() + limit - 1) / limit;
    ASSERT_EQ(p.page_sizes.size(), pages) << limit;  // the last page is never empty
    for (size_t i = 0; i + 1 < pages; ++i) EXPECT_EQ(p.page_sizes[i], limit);
  }
}

TEST_F(MemoryAdmitTest, ScanBudgetStopsWithProgress) {
  ObjectQuery q = Q();
  q.limit = 5;
  q.max_scan = 15;
  Paged p = PageAll(q, [](int i) { return i == 20 || i == 39; });
  EXPECT_EQ(p.rows, (std::vector<int>{20, 39}));
  EXPECT_EQ(p.page_sizes, (std::vector<size_t>{0, 1, 1}));
  EXPECT_EQ(p.examined, (std::vector<size_t>{15, 15, 10}));
}

// match[version] first/last with admit: among the admitted versions, as if
// the withheld ones were not stored (SqliteStore's VersionsByVisibilityTest
// checks the same against an oracle).
TEST_F(MemoryStoreTest, AdmittedFirstAndLastAreAmongTheAdmittedVersions) {
  // x: GREEN, AMBER, GREEN, RED (written out of version order); y: AMBER only; z: GREEN.
  Add("x", "indicator", kP, 1, {}, -1, false, "2024-01-03T00:00:00Z");
  Add("x", "indicator", kP, 2, {}, -1, false, "2024-01-02T00:00:00Z");
  Add("x", "indicator", kP, 1, {}, -1, false, "2024-01-01T00:00:00Z");
  Add("x", "indicator", kP, 4, {}, -1, false, "2024-01-04T00:00:00Z");
  Add("y", "indicator", kP, 2, {}, -1, false, "2024-01-01T00:00:00Z");
  Add("z", "malware", kP, 1, {}, -1, false, "2024-01-01T00:00:00Z");
  auto read = [&](ObjectQuery q, int level) {
    q.admit = [level](ObjectVersion& v) { return v.access.tlp <= level; };
    Strings out;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = store_.QueryObjects(q);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      for (const auto& o : page->objects)
        out.push_back(labels_[o.id] + "@" + o.version.ToString().substr(8, 2));
      if (!page->more) break;
      q.next = page->next;
    }
    return out;
  };
  ObjectQuery last = Q();
  last.limit = 1;
  EXPECT_EQ(read(last, 1), (Strings{"x@03", "z@01"}));          // date_added order
  EXPECT_EQ(read(last, 2), (Strings{"x@03", "y@01", "z@01"}));  // AMBER 02 is older than 03
  EXPECT_EQ(read(last, 4), (Strings{"x@04", "y@01", "z@01"}));
  ObjectQuery first = Q();
  first.version_last = false;
  first.version_first = true;
  EXPECT_EQ(read(first, 1), (Strings{"x@01", "z@01"}));
  EXPECT_EQ(read(first, 0), Strings{});
  ObjectQuery both = first;
  both.version_last = true;
  EXPECT_EQ(read(both, 1), (Strings{"x@03", "x@01", "z@01"}));
  ObjectQuery exact = Q();
  exact.version_last = false;
  exact.versions = {*Timestamp::Parse("2024-01-02T00:00:00Z")};
  EXPECT_EQ(read(exact, 1), Strings{});  // withheld: as if absent
  EXPECT_EQ(read(exact, 2), Strings{"x@02"});
  // Without admit the stored latest version, scope or not.
  EXPECT_EQ(Labels(Q()), (Strings{"x", "y", "z"}));
}

}  // namespace
}  // namespace ctihub::store
