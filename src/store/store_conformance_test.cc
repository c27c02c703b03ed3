// The store conformance suite: the contract of store.h, run unchanged on every
// backend (ConformanceStores() in store/testing/store_conformance.h: SQLite and
// the in-memory test store). Every behaviour TAXII relies on is here: object
// versions and their selection, added_after and keyset paging with `next`,
// manifests, deletes, status resources written with the objects, the access
// scope and `admit`, identities, and the stable error names. Backend-specific
// behaviour (schema, durability, group commit) is tested beside the backend
// (sqlite_store_test.cc).
#include "store/testing/store_conformance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace ctihub::store::suite {
namespace {

// Expects a failed Status or Result with this code and stable name.
#define EXPECT_ERROR(expr, code_, name_)                                 \
  do {                                                                   \
    ::ctihub::Status _st = StatusOf(expr);                               \
    EXPECT_EQ(_st.code(), ::ctihub::ErrorCode::code_) << _st.ToString(); \
    EXPECT_EQ(_st.name(), name_) << _st.ToString();                      \
  } while (0)

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

TEST_P(StoreTest, WriteReadRoundTrip) {
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
TEST_P(StoreTest, ObjectWithoutVersionUsesDateAdded) {
  NewObject o = Obj("ipv4-addr--" + Uuid(9), "");
  Write({o});
  auto page = store_->QueryObjects(Q());
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].version.micros(), page->objects[0].date_added_us);
}

TEST_P(StoreTest, DateAddedStrictlyIncreasingAcrossConcurrentWriters) {
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store_
                     ->WriteObjects(
                         collection_,
                         {Obj("indicator--" + Uuid(t * 1000 + i), "2024-01-01T00:00:00Z")}, "")
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
  ASSERT_EQ(page->objects.size(), size_t{kThreads} * kPerThread);
  for (size_t i = 1; i < page->objects.size(); ++i) {
    EXPECT_LT(page->objects[i - 1].date_added_us, page->objects[i].date_added_us);
  }
}

TEST_P(StoreTest, DuplicateVersionIsAlreadyPresent) {
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

// The export's ETag input: it moves with every write and delete.
TEST_P(StoreTest, CollectionStateCountsVersionsAndNewestDateAdded) {
  auto empty = store_->CollectionStateOf(collection_);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->versions, 0);
  EXPECT_EQ(empty->newest_date_added_us, 0);
  Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kA, "2024-02-01T00:00:00Z")});
  auto two = store_->CollectionStateOf(collection_);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->versions, 2);
  EXPECT_GT(two->newest_date_added_us, 0);
  Write({Obj(kB, "2024-01-01T00:00:00Z")});
  auto three = store_->CollectionStateOf(collection_);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->versions, 3);
  EXPECT_GT(three->newest_date_added_us, two->newest_date_added_us);
  ObjectQuery d = Q();
  d.ids = {kB};
  ASSERT_EQ(*store_->DeleteObject(d), 1);
  auto after = store_->CollectionStateOf(collection_);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->versions, 2);
  EXPECT_EQ(store_->CollectionStateOf(Uuid(77))->versions, 0);  // unknown: zeros
}

TEST_P(StoreTest, UnknownCollectionAndBadObjectsAreErrors) {
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

class StoreFilterTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    // kA: three versions; kB: one; kC: two, spec 2.0 then 2.1.
    Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kB, "2024-01-05T00:00:00Z")});
    Write({Obj(kA, "2024-03-01T00:00:00Z"), Obj(kC, "2024-01-01T00:00:00Z", "2.0")});
    // An older version arriving late: not the latest, becomes the first.
    Write({Obj(kA, "2023-06-01T00:00:00Z"), Obj(kC, "2024-02-01T00:00:00Z", "2.1")});
  }
};

TEST_P(StoreFilterTest, VersionLastIsTheDefault) {
  EXPECT_EQ(Ids(Q()), (Strings{kB + "@2024-01-05T00:00:00.000Z", kA + "@2024-03-01T00:00:00.000Z",
                               kC + "@2024-02-01T00:00:00.000Z"}));
}

TEST_P(StoreFilterTest, VersionFirstAllAndExplicit) {
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

TEST_P(StoreFilterTest, IdsTypesAndAddedAfter) {
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

TEST_P(StoreFilterTest, SeveralTypesPageInDateAddedOrder) {
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

TEST_P(StoreFilterTest, SpecVersion) {
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

// An object whose newest version has an older spec_version than its other
// versions (a STIX 2.0 version modified after 2.1 ones), written in both
// orders. The spec-version filter applies first and match[version] picks
// among the versions it passes (store.h ObjectQuery::spec_versions), so the
// object never vanishes from the default query. Checked for objects, the
// manifest (no JSON), the admitted path and pages of one row.
TEST_P(StoreTest, NewestVersionWithOlderSpecVersion) {
  const std::string x = "indicator--" + Uuid(41);  // 2.1, 2.1, then the newer 2.0
  const std::string y = "indicator--" + Uuid(42);  // the newer 2.0 written first
  constexpr const char* kJanuary = "2024-01-01T00:00:00.000Z";
  constexpr const char* kFebruary = "2024-02-01T00:00:00.000Z";
  constexpr const char* kMarch = "2024-03-01T00:00:00.000Z";
  Write({Obj(x, kJanuary), Obj(x, kFebruary), Obj(x, kMarch, "2.0")});
  Write({Obj(y, kMarch, "2.0")});
  Write({Obj(y, kFebruary)});
  Write({Obj(y, kJanuary)});

  struct Case {
    std::vector<std::string> spec;
    bool first, last, all;
    Strings versions;  // expected, for each object
  };
  const std::vector<Case> cases = {
      {{}, false, true, false, {kFebruary}},  // the TAXII default
      {{}, true, false, false, {kJanuary}},
      {{}, true, true, false, {kJanuary, kFebruary}},
      {{}, false, false, true, {kJanuary, kFebruary}},
      {{"2.1"}, false, true, false, {kFebruary}},
      {{"2.1"}, true, false, false, {kJanuary}},
      {{"2.1"}, false, false, true, {kJanuary, kFebruary}},
      {{"2.0"}, false, true, false, {kMarch}},
      {{"2.0"}, true, false, false, {kMarch}},
      {{"2.0"}, false, false, true, {kMarch}},
      {{"2.0", "2.1"}, false, true, false, {kMarch}},
      {{"2.0", "2.1"}, true, false, false, {kJanuary}},
      {{"2.0", "2.1"}, true, true, false, {kJanuary, kMarch}},
      {{"2.0", "2.1"}, false, false, true, {kJanuary, kFebruary, kMarch}},
  };
  for (const Case& c : cases) {
    Strings expected;
    for (const std::string& id : {x, y}) {
      for (const std::string& v : c.versions) {
        std::string key = id;
        key += '@';
        key += v;
        expected.push_back(std::move(key));
      }
    }
    std::sort(expected.begin(), expected.end());
    for (int mode = 0; mode < 4; ++mode) {  // objects, manifest, one-row pages, admitted
      ObjectQuery q = Q();
      q.spec_versions = c.spec;
      q.version_first = c.first;
      q.version_last = c.last;
      q.version_all = c.all;
      if (mode == 1) q.include_json = false;
      if (mode == 2) q.limit = 1;
      if (mode == 3) q.admit = [](ObjectVersion&) { return true; };
      Strings got = Ids(q);
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, expected) << "spec " << ::testing::PrintToString(c.spec) << " first "
                               << c.first << " last " << c.last << " all " << c.all << " mode "
                               << mode;
    }
  }

  // A delete with the default selection removes what the default query shows.
  ObjectQuery d = Q();
  d.ids = {x};
  auto n = store_->DeleteObject(d);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  ObjectQuery q = Q();
  q.ids = {x};
  EXPECT_EQ(Ids(q), (Strings{x + "@" + kJanuary}));
  q.spec_versions = {"2.0"};
  EXPECT_EQ(Ids(q), (Strings{x + "@" + kMarch}));
}

TEST_P(StoreFilterTest, PagingAndBadCursor) {
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

  for (const std::string& bad : {std::string("garbage"), page->next + "0", page->next.substr(0, 10),
                                 std::string("c1") + std::string(24, 'f')}) {
    q.next = bad;
    auto r = store_->QueryObjects(q);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  }
}

TEST_P(StoreFilterTest, DeleteRecomputesVersionFlags) {
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
TEST_P(StoreTest, KeysetPagingSeesEveryObjectOnceUnderConcurrentWrites) {
  constexpr int kBatches = 40, kPerBatch = 50;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<NewObject> objs;
      objs.reserve(kPerBatch);
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
  EXPECT_EQ(seen.size(), size_t{kBatches} * kPerBatch);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

TEST_P(StoreTest, StatusCompletesOnlyAfterTheWrite) {
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

// Issue 11: a write whose objects are exactly the status's pending entries
// converts them in one statement; the status must read exactly as when they
// are converted one by one (a write covering part of them): same order, the
// requester's version texts, counts, an id pending twice converted twice.
TEST_P(StoreTest, StatusReadsTheSameWhetherPendingsConvertTogetherOrOneByOne) {
  auto make = [](int n) {
    StatusResource s;
    s.id = Uuid(n);
    s.api_root = "api1";
    s.status = "pending";
    s.request_timestamp = Ts("2024-05-01T00:00:00.000Z");
    s.total_count = s.pending_count = 4;
    s.pendings = {{kB, "2024-01-01T00:00:00Z", ""},
                  {kA, "2024-01-02T00:00:00.5Z", ""},
                  {kA, "2024-01-01T00:00:00Z", ""},
                  {kC, "2024-01-01T00:00:00Z", ""}};
    return s;
  };
  const StatusResource together = make(910), one_by_one = make(911);
  ASSERT_TRUE(store_->CreateStatus(together).ok());
  ASSERT_TRUE(store_->CreateStatus(one_by_one).ok());
  Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kC, "2024-01-01T00:00:00Z"),
         Obj(kA, "2024-01-02T00:00:00.5Z"), Obj(kB, "2024-01-01T00:00:00Z")},
        together.id);
  Write({Obj(kA, "2024-01-02T00:00:00.5Z"), Obj(kC, "2024-01-01T00:00:00Z")}, one_by_one.id);
  auto half = store_->GetStatus("api1", one_by_one.id);
  ASSERT_TRUE(half.ok()) << half.status().ToString();
  EXPECT_EQ(half->status, "pending");
  EXPECT_EQ(half->pending_count, 2);
  Write({Obj(kB, "2024-01-01T00:00:00Z"), Obj(kA, "2024-01-01T00:00:00Z")}, one_by_one.id);

  auto a = store_->GetStatus("api1", together.id);
  auto b = store_->GetStatus("api1", one_by_one.id);
  ASSERT_TRUE(a.ok() && b.ok());
  auto details = [](const StatusResource& s) {
    std::vector<std::string> out;
    for (const auto& d : s.successes) out.push_back(d.id + "@" + d.version + "/" + d.message);
    return out;
  };
  const std::vector<std::string> want = {
      kB + "@2024-01-01T00:00:00Z/", kA + "@2024-01-02T00:00:00.5Z/", kA + "@2024-01-01T00:00:00Z/",
      kC + "@2024-01-01T00:00:00Z/"};
  EXPECT_EQ(details(*a), want);
  EXPECT_EQ(details(*b), want);
  for (const auto* s : {&*a, &*b}) {
    EXPECT_EQ(s->status, "complete");
    EXPECT_EQ(s->total_count, 4);
    EXPECT_EQ(s->success_count, 4);
    EXPECT_EQ(s->failure_count, 0);
    EXPECT_EQ(s->pending_count, 0);
    EXPECT_TRUE(s->pendings.empty());
    EXPECT_TRUE(s->failures.empty());
  }

  // An object the status does not list as pending gets an entry of its own
  // (not the one-statement path: the ids differ).
  StatusResource other = make(912);
  ASSERT_TRUE(store_->CreateStatus(other).ok());
  Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kC, "2024-01-01T00:00:00Z"),
         Obj(kA, "2024-01-02T00:00:00.5Z"), Obj("tool--" + Uuid(5), "2024-01-01T00:00:00Z")},
        other.id);
  auto c = store_->GetStatus("api1", other.id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->status, "pending");
  EXPECT_EQ(c->total_count, 5);
  EXPECT_EQ(c->success_count, 4);
  EXPECT_EQ(c->pending_count, 1);
  ASSERT_EQ(c->pendings.size(), 1u);
  EXPECT_EQ(c->pendings[0].id, kB);
  ASSERT_EQ(c->successes.size(), 4u);
  EXPECT_EQ(c->successes[3].id, "tool--" + Uuid(5));
  EXPECT_EQ(c->successes[3].version, "2024-01-01T00:00:00.000Z");
}

TEST_P(StoreTest, DuplicateStatusIdIsConflict) {
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

// The audit chains' copies (the backends that keep them): records kept in
// order, and FindInAuditChain answering the records of the given actions
// whose text contains the needle (as plain text: % and _ are no wildcards),
// after a seq, at most `limit`.
TEST_P(StoreTest, AuditChainSearchFindsRecordsOfTheActionsContainingAText) {
  if (!store_->KeepsAuditChains()) GTEST_SKIP() << "this backend keeps no audit chains";
  std::vector<AuditChainRecord> records;
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"object.served", R"({"objects":[["x--1","v"]]})"},
      {"object.written", R"({"objects":[["x--1","v"]]})"},
      {"export", R"({"objects":[["x--1","v"],["x--2","v"]]})"},
      {"object.served", R"({"objects":[["x--2","v"]]})"},
      {"object.served", R"({"objects":[["x--1","v"]],"note":"100%_sure"})"}};
  std::string prev;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string hash = "h" + std::to_string(i + 1);
    records.push_back({static_cast<int64_t>(i + 1), hash, prev, rows[i].first, rows[i].second});
    prev = hash;
  }
  ASSERT_TRUE(store_->AppendAuditChain("node-1", "key", records, {}, AuditChainSeal{}).ok());
  auto seqs = [&](std::string_view needle, const std::vector<std::string>& actions, int64_t after,
                  size_t limit) {
    std::vector<int64_t> out;
    auto found = store_->FindInAuditChain("node-1", needle, actions, after, limit);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    if (found.ok()) {
      for (const auto& r : *found) out.push_back(r.seq);
    }
    return out;
  };
  const std::vector<std::string> seen = {"object.served", "export"};
  EXPECT_EQ(seqs(R"("x--1")", seen, 0, 10), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(seqs(R"("x--1")", seen, 1, 10), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(seqs(R"("x--1")", seen, 0, 2), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(seqs(R"("x--1")", {"object.written"}, 0, 10), (std::vector<int64_t>{2}));
  EXPECT_EQ(seqs("100%_sure", seen, 0, 10), (std::vector<int64_t>{5}));
  EXPECT_TRUE(seqs("1%_s", seen, 0, 10).empty());
  auto other = store_->FindInAuditChain("node-2", "x", seen, 0, 10);  // no such chain
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->empty());
}

TEST_P(StoreTest, FailedWriteMarksStatusFailures) {
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

// A write that fails while the hub runs finishes its own status, and only it.
TEST_P(StoreTest, FinishPendingStatusFinishesOneStatusOnly) {
  std::string failed = CreatePendingStatus(810, kA);
  std::string other = CreatePendingStatus(811, kB);
  ASSERT_TRUE(store_->FinishPendingStatus("api1", failed, "not stored: the write failed (x)").ok());
  auto st = store_->GetStatus("api1", failed);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "complete");
  EXPECT_EQ(st->pending_count, 0);
  EXPECT_EQ(st->failure_count, 1);
  ASSERT_EQ(st->failures.size(), 1u);
  EXPECT_EQ(st->failures[0].message, "not stored: the write failed (x)");
  EXPECT_EQ(store_->GetStatus("api1", other)->status, "pending");
  // Another API root's name does not reach it; a finished status stays as it is.
  ASSERT_TRUE(store_->FinishPendingStatus("api2", other, "wrong root").ok());
  EXPECT_EQ(store_->GetStatus("api1", other)->status, "pending");
  ASSERT_TRUE(store_->FinishPendingStatus("api1", failed, "again").ok());
  EXPECT_EQ(store_->GetStatus("api1", failed)->failures[0].message,
            "not stored: the write failed (x)");
}

TEST_P(StoreTest, PendingObjectWithoutVersionIsDurableUnderAnyVersion) {
  StatusResource s;
  s.id = Uuid(802);
  s.api_root = "api1";
  s.status = "pending";
  s.total_count = 1;
  s.pending_count = 1;
  s.pendings = {{"ipv4-addr--" + Uuid(1), "", ""}};
  ASSERT_TRUE(store_->CreateStatus(s).ok());
  Write({Obj("ipv4-addr--" + Uuid(1), "")});
  ASSERT_TRUE(store_->FinishPendingStatuses("lost").ok());
  auto st = store_->GetStatus("api1", s.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->success_count, 1);
  EXPECT_EQ(st->failure_count, 0);
}

TEST_P(StoreTest, ListVersionsAddedAfterPagesInDateAddedOrder) {
  Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kB, "2024-01-01T00:00:00.5Z")});
  Write({Obj(kA, "2024-02-01T00:00:00Z")});
  auto first = store_->ListVersionsAddedAfter(0, 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, kA);
  EXPECT_EQ((*first)[0].version.ToString(), "2024-01-01T00:00:00.000Z");
  EXPECT_EQ((*first)[0].collection_id, collection_);
  EXPECT_EQ((*first)[1].id, kB);
  EXPECT_LT((*first)[0].date_added_us, (*first)[1].date_added_us);
  auto rest = store_->ListVersionsAddedAfter((*first)[1].date_added_us, 2);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].version, Ts("2024-02-01T00:00:00Z"));
  EXPECT_TRUE(store_->ListVersionsAddedAfter((*rest)[0].date_added_us, 2)->empty());
}

// Issue 16: start-up recovery is per node. Nodes sharing one database (here
// the same data opened as another node) each finish only their own pending
// statuses and list only their own versions, so a restarting node neither
// fails a status another node is still writing nor claims its versions.
TEST_P(StoreTest, RecoveryFinishesAndListsOnlyTheNodesOwnRows) {
  Write({Obj(kA, "2024-01-01T00:00:00Z")});  // node-a
  const std::string of_a = CreatePendingStatus(820, kC);
  ActAsNode("node-b");
  Write({Obj(kB, "2024-01-01T00:00:00Z")});
  const std::string of_b = CreatePendingStatus(821, kC);

  // node-b restarts: its status only; its versions only.
  auto finished = store_->FinishPendingStatuses("lost");
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_EQ(*finished, 1);
  EXPECT_EQ(store_->GetStatus("api1", of_b)->status, "complete");
  EXPECT_EQ(store_->GetStatus("api1", of_b)->failure_count, 1);
  EXPECT_EQ(store_->GetStatus("api1", of_a)->status, "pending");
  auto listed = store_->ListVersionsAddedAfter(0, 100);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, kB);

  // node-a's write completes its status as if nothing happened.
  ActAsNode("node-a");
  Write({Obj(kC, "2024-01-01T00:00:00Z")}, of_a);
  auto st = store_->GetStatus("api1", of_a);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "complete");
  EXPECT_EQ(st->success_count, 1);
  EXPECT_EQ(st->failure_count, 0);
  listed = store_->ListVersionsAddedAfter(0, 100);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, kA);
  EXPECT_EQ((*listed)[1].id, kC);
  EXPECT_EQ(*store_->FinishPendingStatuses("lost"), 0);
  // Every node reads every row: only recovery is per node.
  EXPECT_EQ(Ids(Q()).size(), 3u);
}

// Rows written without a node (before a backend recorded the node) belong to
// every node: whichever restarts first finishes such a status.
TEST_P(StoreTest, RowsOfNoNodeBelongToEveryNode) {
  ActAsNode("");
  Write({Obj(kA, "2024-01-01T00:00:00Z")});
  StatusResource s;
  s.id = Uuid(830);
  s.api_root = "api1";
  s.status = "pending";
  s.total_count = 1;
  s.pending_count = 1;
  s.pendings = {{kA, "2024-01-01T00:00:00.000Z", ""}};
  ASSERT_TRUE(store_->CreateStatus(s).ok());
  ActAsNode("node-b");
  Write({Obj(kB, "2024-01-01T00:00:00Z")});
  auto listed = store_->ListVersionsAddedAfter(0, 100);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, kA);
  EXPECT_EQ((*listed)[1].id, kB);
  EXPECT_EQ(store_->ListVersionsAddedAfter((*listed)[0].date_added_us, 1)->at(0).id, kB);
  auto finished = store_->FinishPendingStatuses("lost");
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ(*finished, 1);
  EXPECT_EQ(store_->GetStatus("api1", s.id)->success_count, 1);
}

TEST_P(StoreTest, OrganisationsUsersTokens) {
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

TEST_P(StoreTest, ApiRootsAndCollections) {
  ASSERT_TRUE(store_->PutApiRoot({"api1", "Renamed", "d", 100}).ok());
  auto roots = store_->ListApiRoots();
  ASSERT_TRUE(roots.ok());
  ASSERT_EQ(roots->size(), 1u);
  EXPECT_EQ((*roots)[0].title, "Renamed");
  EXPECT_EQ(store_->AddCollection({"", "nope", "T", "", "", {}, {}}).status().code(),
            ErrorCode::kNotFound);
  auto c =
      store_->AddCollection({"", "api1", "Second", "desc", "", {"org:a", "user:b"}, {"org:a"}});
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

TEST_P(StoreTest, AccessFactsRoundTrip) {
  NewObject plain = Obj(kC, "2024-01-03T00:00:00Z");  // facts left at their defaults
  Write({WithFacts(Obj(kA, "2024-01-01T00:00:00Z"), kP, 4,
                   {kOwn, "x|y", "50%|%7C", "", "identity--" + Uuid(9)}, 2, true),
         WithFacts(Obj(kB, "2024-01-02T00:00:00Z"), kQ, 0, {}, 3, false), plain});
  auto check = [&](const ObjectQuery& q) {
    auto page = store_->QueryObjects(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->objects.size(), 3u);
    const AccessFacts& a = page->objects[0].access;
    EXPECT_TRUE(a.known);
    EXPECT_EQ(a.producer, kP);
    EXPECT_EQ(a.tlp, 4);
    EXPECT_EQ(a.pap, 2);
    EXPECT_EQ(a.recipient_orgs, (Strings{kOwn, "x|y", "50%|%7C", "", "identity--" + Uuid(9)}));
    EXPECT_TRUE(a.granular_levels);
    const AccessFacts& b = page->objects[1].access;
    EXPECT_TRUE(b.known);
    EXPECT_EQ(b.producer, kQ);
    EXPECT_EQ(b.tlp, 0);
    EXPECT_EQ(b.pap, 3);
    EXPECT_TRUE(b.recipient_orgs.empty());
    EXPECT_FALSE(b.granular_levels);
    const AccessFacts& c = page->objects[2].access;
    EXPECT_TRUE(c.known);
    EXPECT_EQ(c.producer, "");
    EXPECT_EQ(c.tlp, -1);
    EXPECT_EQ(c.pap, -1);
  };
  check(Q());
  ObjectQuery manifest = Q();
  manifest.include_json = false;
  check(manifest);
  ObjectQuery types = Q();
  types.types = {"indicator", "malware"};  // the multi-type plan
  check(types);
  ObjectQuery ids = Q();
  ids.ids = {kA, kB, kC};  // the id-list plan
  check(ids);
  // A single empty recipient is not confused with none.
  Write({WithFacts(Obj(kA, "2024-05-01T00:00:00Z"), kP, 4, {""})});
  ObjectQuery one = Q();
  one.ids = {kA};
  auto page = store_->QueryObjects(one);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].access.recipient_orgs, (Strings{""}));
}

TEST_P(StoreTest, GranularLevelsRoundTrip) {
  // Every (highest granular TLP, highest granular PAP) pair, one without
  // known levels, one without granular markings.
  std::vector<NewObject> objects;
  std::vector<AccessFacts> want;
  int n = 0;
  for (int tlp = -1; tlp <= 4; ++tlp) {
    for (int pap = -1; pap <= 3; ++pap) {
      NewObject o = WithFacts(Obj("indicator--" + Uuid(400 + n++), "2024-01-01T00:00:00Z"), kP, 1,
                              {}, -1, true);
      o.access.granular_max_known = true;
      o.access.granular_max_tlp = tlp;
      o.access.granular_max_pap = pap;
      objects.push_back(o);
    }
  }
  objects.push_back(WithFacts(Obj("indicator--" + Uuid(400 + n++), "2024-01-01T00:00:00Z"), kP, 1,
                              {}, -1, true));  // levels not known
  objects.push_back(WithFacts(Obj("indicator--" + Uuid(400 + n++), "2024-01-01T00:00:00Z"), kP, 1));
  want.reserve(want.size() + objects.size());
  for (const NewObject& o : objects) want.push_back(o.access);
  Write(objects);
  auto read = [&] {
    ObjectQuery q = Q();
    q.limit = 100;
    auto page = store_->QueryObjects(q);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->objects : std::vector<ObjectVersion>{};
  };
  std::vector<ObjectVersion> got = read();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const AccessFacts& a = got[i].access;
    EXPECT_EQ(a.granular_levels, want[i].granular_levels) << i;
    EXPECT_EQ(a.granular_max_known, want[i].granular_levels && want[i].granular_max_known) << i;
    if (a.granular_max_known) {
      EXPECT_EQ(a.granular_max_tlp, want[i].granular_max_tlp) << i;
      EXPECT_EQ(a.granular_max_pap, want[i].granular_max_pap) << i;
    }
  }
}

TEST_P(StoreScopeTest, NoScopeAndClosedScope) {
  EXPECT_EQ(Labels(Q()).size(), 9u);
  EXPECT_TRUE(Labels(Scoped(Closed())).empty());
}

TEST_P(StoreScopeTest, OwnProducer) {
  AccessScope s = Closed();
  s.own_producer = kOwn;
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"own-red"}));
}

TEST_P(StoreScopeTest, AnyProducerMaxAndUnmarkedTlp) {
  AccessScope s = Closed();
  s.any_producer_max = 1;
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"p-clear", "p-green"}));
  s.unmarked_tlp = 0;  // unmarked objects count as CLEAR
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"p-clear", "p-green", "q-unmarked-tool"}));
  s.any_producer_max = 2;
  s.unmarked_tlp = 3;  // unmarked objects count as AMBER+STRICT
  EXPECT_EQ(Labels(Scoped(s)),
            (Strings{"p-clear", "p-green", "p-amber-malware", "p-amber-named", "q-amber"}));
  s.unmarked_tlp = 2;
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"p-clear", "p-green", "p-amber-malware", "p-amber-named",
                                        "q-unmarked-tool", "q-amber"}));
}

TEST_P(StoreScopeTest, GrantWithoutTypes) {
  AccessScope s = Closed();
  s.grants.push_back({kP, 2, {}});
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"p-clear", "p-green", "p-amber-malware", "p-amber-named"}));
  s.grants = {{kQ, 2, {}}};
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"q-unmarked-tool", "q-amber"}));
  s.unmarked_tlp = 3;  // now above the grant's level
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"q-amber"}));
  s.grants = {{kQ, 1, {}}};
  EXPECT_TRUE(Labels(Scoped(s)).empty());
}

TEST_P(StoreScopeTest, GrantWithTypes) {
  AccessScope s = Closed();
  s.grants.push_back({kP, 4, {"malware", "tool"}});
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"p-amber-malware"}));
  // With match[type]: a grant's types are narrowed to the query's.
  ObjectQuery q = Scoped(s);
  q.types = {"indicator"};
  EXPECT_TRUE(Labels(q).empty());
  q.types = {"indicator", "malware"};  // the multi-type plan
  EXPECT_EQ(Labels(q), (Strings{"p-amber-malware"}));
  q.types = {"malware"};
  EXPECT_EQ(Labels(q), (Strings{"p-amber-malware"}));
  // Two grants of one producer: the union.
  s.grants = {{kP, 0, {}}, {kP, 4, {"malware"}}, {kQ, 2, {"indicator"}}};
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"p-clear", "p-amber-malware", "q-amber"}));
  q = Scoped(s);
  q.types = {"indicator", "malware", "tool"};
  EXPECT_EQ(Labels(q), (Strings{"p-clear", "p-amber-malware", "q-amber"}));
  q.ids = {};
  for (const auto& [id, label] : labels_) q.ids.push_back(id);  // the id-list plan
  EXPECT_EQ(Labels(q), (Strings{"p-clear", "p-amber-malware", "q-amber"}));
}

TEST_P(StoreScopeTest, RedIfNamedIsAnExactMembershipTest) {
  AccessScope s = Closed();
  s.own_producer = kOwn;
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"own-red"}));
  s.red_if_named = true;
  // q-red-near-names names only ids that contain or extend kOwn: not passed.
  // p-amber-named passes too: the policy serves a named reader whatever the TLP.
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"own-red", "p-red-named", "p-amber-named"}));
  // Another reader named in no object.
  s.own_producer = kOwn + "0";
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"q-red-near-names"}));
  s.own_producer = "x|" + kOwn;  // stored escaped: matches exactly that entry
  EXPECT_EQ(Labels(Scoped(s)), (Strings{"q-red-near-names"}));
  s.own_producer = kOwn.substr(0, 10);  // a prefix of many names, named nowhere
  EXPECT_TRUE(Labels(Scoped(s)).empty());
}

TEST_P(StoreScopeTest, NonePassesNothing) {
  AccessScope s;
  s.none = true;
  s.own_producer = kOwn;
  s.any_producer_max = 4;
  s.red_if_named = true;
  EXPECT_TRUE(Labels(Scoped(s)).empty());
  auto page = store_->QueryObjects(Scoped(s));
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(page->more);
}

TEST_P(StoreScopeTest, ScopeAppliesOnTopOfVersionSelection) {
  // A newer version of p-clear is RED: the latest is out of scope, and the
  // older CLEAR version is not served in its place.
  std::string id;
  for (const auto& [i, label] : labels_) {
    if (label == "p-clear") id = i;
  }
  Write({WithFacts(Obj(id, "2024-06-01T00:00:00Z"), kP, 4)});
  AccessScope s = Closed();
  s.any_producer_max = 0;
  EXPECT_TRUE(Labels(Scoped(s)).empty());
  ObjectQuery q = Scoped(s);
  q.version_all = true;
  EXPECT_EQ(Labels(q), (Strings{"p-clear"}));
  q.version_all = false;
  q.version_last = false;
  q.version_first = true;
  EXPECT_EQ(Labels(q), (Strings{"p-clear"}));
}

// Admit: `n` indicators; admitted(i) decides row i.
class StoreAdmitTest : public StoreTest {
 protected:
  void WriteRows(int n) {
    std::vector<NewObject> objs;
    for (int i = 0; i < n; ++i) {
      std::string type = i % 2 == 0 ? "indicator" : "malware";
      objs.push_back(WithFacts(Obj(type + "--" + Uuid(1000 + i), "2024-01-01T00:00:00Z"), kP, 0));
    }
    Write(std::move(objs));
  }
  static int Row(const ObjectVersion& v) {
    return std::atoi(v.id.substr(v.id.size() - 12).c_str()) - 1000;
  }
  static std::string RowId(int i) {
    return std::string(i % 2 == 0 ? "indicator" : "malware") + "--" + Uuid(1000 + i);
  }

  struct Paged {
    std::vector<int> rows;  // every admitted row, in order
    std::vector<size_t> page_sizes;
    std::vector<size_t> examined;  // admit calls per QueryObjects call
  };
  // Pages through q with an admit callback, checking more/next of every page.
  Paged PageAll(ObjectQuery q, const std::function<bool(int)>& admitted) {
    Paged out;
    size_t calls = 0;
    q.admit = [&](ObjectVersion& v) {
      ++calls;
      return admitted(Row(v));
    };
    for (int guard = 0; guard < 1000; ++guard) {
      calls = 0;
      auto page = store_->QueryObjects(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      out.examined.push_back(calls);
      out.page_sizes.push_back(page->objects.size());
      for (const auto& o : page->objects) out.rows.push_back(Row(o));
      EXPECT_EQ(page->more, !page->next.empty());
      if (!page->more) break;
      q.next = page->next;
    }
    return out;
  }
};

TEST_P(StoreAdmitTest, PagingReturnsEveryAdmittedRowOnceWithExactMore) {
  WriteRows(60);
  auto admitted = [](int i) { return i % 3 != 1 && (i < 20 || i >= 35); };
  std::vector<int> expected;
  for (int i = 0; i < 60; ++i) {
    if (admitted(i)) expected.push_back(i);
  }
  ASSERT_EQ(expected.size(), 30u);
  for (size_t limit : {1, 4, 7, 10, 29, 30, 31, 100}) {
    for (int plan = 0; plan < 3; ++plan) {
      ObjectQuery q = Q();
      q.limit = limit;
      if (plan == 1) q.types = {"indicator", "malware"};  // the multi-type plan
      if (plan == 2) {
        for (int i = 0; i < 60; ++i) q.ids.push_back(RowId(i));  // the id-list plan
      }
      Paged p = PageAll(q, admitted);
      EXPECT_EQ(p.rows, expected) << "limit " << limit << " plan " << plan;
      // Every page is full but the last, and the last is never empty: the
      // look-ahead makes `more` exact.
      size_t pages = (expected.size() + limit - 1) / limit;
      ASSERT_EQ(p.page_sizes.size(), pages) << "limit " << limit << " plan " << plan;
      for (size_t i = 0; i + 1 < pages; ++i) EXPECT_EQ(p.page_sizes[i], limit);
      EXPECT_GT(p.page_sizes.back(), 0u);
    }
  }
}

TEST_P(StoreAdmitTest, MoreIsFalseWhenEveryLaterRowIsWithheld) {
  WriteRows(10);
  ObjectQuery q = Q();
  q.limit = 3;
  size_t calls = 0;
  q.admit = [&](ObjectVersion& v) {
    ++calls;
    return Row(v) < 3;
  };
  auto page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_FALSE(page->more);
  EXPECT_TRUE(page->next.empty());
  EXPECT_EQ(calls, 10u);  // the look-ahead examined the rest
  // Nothing admitted at all: an empty last page.
  q.admit = [](ObjectVersion&) { return false; };
  page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->more);
}

TEST_P(StoreAdmitTest, NextResumesAfterTheLastAdmittedRow) {
  WriteRows(10);
  ObjectQuery q = Q();
  q.limit = 3;
  size_t calls = 0;
  q.admit = [&](ObjectVersion& v) {
    ++calls;
    int r = Row(v);
    return r <= 2 || r == 7;
  };
  auto page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(Row(page->objects[2]), 2);
  EXPECT_TRUE(page->more);
  EXPECT_EQ(calls, 8u);  // rows 0..7: row 7 is the look-ahead
  q.next = page->next;
  calls = 0;
  page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(Row(page->objects[0]), 7);
  EXPECT_FALSE(page->more);
  EXPECT_EQ(calls, 7u);  // rows 3..9
}

TEST_P(StoreAdmitTest, AdmitMayReplaceTheJsonAndAlwaysSeesIt) {
  WriteRows(4);
  ObjectQuery q = Q();
  q.include_json = false;  // ignored with admit
  q.admit = [](ObjectVersion& v) {
    EXPECT_NE(v.json.find(v.id), std::string::npos);
    EXPECT_EQ(v.access.producer, kP);
    if (Row(v) % 2 == 1) v.json = R"({"redacted":true})";
    return true;
  };
  auto page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 4u);
  EXPECT_EQ(page->objects[0].json, Obj(RowId(0), "2024-01-01T00:00:00Z").json);
  EXPECT_EQ(page->objects[1].json, R"({"redacted":true})");
  EXPECT_EQ(page->objects[3].json, R"({"redacted":true})");
}

TEST_P(StoreAdmitTest, ScanBudgetStopsWithProgress) {
  WriteRows(100);
  ObjectQuery q = Q();
  q.limit = 5;
  q.max_scan = 30;
  Paged p = PageAll(q, [](int i) { return i == 50 || i == 99; });
  EXPECT_EQ(p.rows, (std::vector<int>{50, 99}));
  // 0..29: none; 30..59: 50; 60..89: none; 90..99: 99 and the end.
  EXPECT_EQ(p.page_sizes, (std::vector<size_t>{0, 1, 0, 1}));
  EXPECT_EQ(p.examined, (std::vector<size_t>{30, 30, 30, 10}));

  // The budget running out during the look-ahead: next is after the last
  // row examined, and nothing admitted is lost or repeated.
  q.limit = 1;
  q.max_scan = 10;
  p = PageAll(q, [](int i) { return i == 0 || i == 3 || i == 40; });
  EXPECT_EQ(p.rows, (std::vector<int>{0, 3, 40}));
  for (size_t n : p.examined) EXPECT_LE(n, 10u);
  q.types = {"indicator", "malware"};
  p = PageAll(q, [](int i) { return i == 0 || i == 3 || i == 40; });
  EXPECT_EQ(p.rows, (std::vector<int>{0, 3, 40}));
  for (size_t n : p.examined) EXPECT_LE(n, 10u);
}

TEST_P(StoreAdmitTest, ScreenRefusesRowsBeforeTheirJsonIsRead) {
  WriteRows(40);
  ObjectQuery q = Q();
  q.limit = 6;
  q.max_scan = 15;  // screened rows count against the scan budget too
  size_t screened = 0;
  q.screen = [&](const ObjectVersion& v) {
    ++screened;
    EXPECT_GT(v.date_added_us, 0);
    EXPECT_FALSE(v.type.empty());
    EXPECT_TRUE(v.access.known);
    EXPECT_EQ(v.access.producer, kP);
    return v.type == "indicator";  // rows 0, 2, 4, ...
  };
  // admit sees only what screen let through, complete.
  Paged p = PageAll(q, [](int i) {
    EXPECT_EQ(i % 2, 0) << "a screened-out row reached admit";
    return i % 4 == 0;
  });
  std::vector<int> want;
  for (int i = 0; i < 40; i += 4) want.push_back(i);
  EXPECT_EQ(p.rows, want);
  // Every row once: each page ends on the scan budget before its look-ahead
  // (next = the last row examined), so no row is examined twice.
  EXPECT_EQ(screened, 40u);
  for (size_t n : p.examined) EXPECT_LE(n, 8u);  // admit calls: at most half the budget
}

TEST_P(StoreAdmitTest, DefaultScanBudget) {
  WriteRows(300);
  ObjectQuery q = Q();
  q.limit = 1;
  q.max_scan = 0;  // 20 * limit + 10000: more than the collection
  Paged p = PageAll(q, [](int i) { return i == 299; });
  EXPECT_EQ(p.rows, (std::vector<int>{299}));
  EXPECT_EQ(p.examined, (std::vector<size_t>{300}));
}

TEST_P(StoreAdmitTest, AdmitSeesOnlyRowsInScope) {
  WriteRows(6);
  Write({WithFacts(Obj("indicator--" + Uuid(2000), "2024-01-01T00:00:00Z"), kQ, 3)});
  ObjectQuery q = Q();
  AccessScope s;
  s.any_producer_max = -1;
  s.grants.push_back({kQ, 4, {}});
  q.scope = s;
  Paged p = PageAll(q, [](int) { return true; });
  EXPECT_EQ(p.rows, (std::vector<int>{1000}));
  EXPECT_EQ(p.examined, (std::vector<size_t>{1}));
}

TEST_P(StoreAdmitTest, DeleteIgnoresScopeAndAdmit) {
  WriteRows(2);
  ObjectQuery d = Q();
  d.ids = {RowId(0)};
  AccessScope none;
  none.none = true;
  d.scope = none;
  d.admit = [](ObjectVersion&) { return false; };
  auto n = store_->DeleteObject(d);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(*store_->CountObjects(), 1);
}

// match[version] first/last on the admitted path pick among the versions
// admit admits: a withheld version reads exactly as if it were not stored.
// Objects of 1..5 versions with random TLPs, written in shuffled order (so
// date_added order is not version order); every version selection, plan,
// added_after and page size is compared with an oracle that deletes the
// withheld versions first and then selects.
class StoreVersionsByVisibilityTest : public StoreAdmitTest {
 protected:
  struct Stored {
    std::string id;
    Timestamp version;
    int tlp = 0;
    int64_t date_added_us = 0;
  };

  void WriteVersions(unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::pair<std::string, int>> todo;  // (id, version index)
    for (int i = 0; i < 24; ++i) {
      std::string id = std::string(i % 2 ? "malware" : "indicator") + "--" + Uuid(5000 + i);
      int versions = 1 + static_cast<int>(rng() % 5);
      for (int k = 0; k < versions; ++k) todo.emplace_back(id, k);
    }
    std::shuffle(todo.begin(), todo.end(), rng);
    for (const auto& [id, k] : todo) {
      char version[32];
      std::snprintf(version, sizeof version, "2024-01-%02dT00:00:00Z", k + 1);
      int tlp = static_cast<int>(rng() % 5);
      Write({WithFacts(Obj(id, version), kP, tlp)});
      stored_.push_back({id, Ts(version), tlp, 0});
    }
    // date_added of each version, as the store assigned it.
    ObjectQuery all = Q();
    all.version_all = true;
    auto page = store_->QueryObjects(all);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->objects.size(), stored_.size());
    for (const auto& o : page->objects) {
      for (auto& st : stored_) {
        if (st.id == o.id && st.version == o.version) st.date_added_us = o.date_added_us;
      }
    }
  }

  // What a reader admitted up to `level` gets: withheld versions deleted, then selected.
  std::vector<std::string> Oracle(const ObjectQuery& q, int level) const {
    std::map<std::string, std::vector<const Stored*>> visible;
    for (const auto& st : stored_) {
      if (st.tlp <= level && (q.ids.empty() || Contains(q.ids, st.id))) {
        visible[st.id].push_back(&st);
      }
    }
    std::vector<const Stored*> picked;
    for (auto& [id, vs] : visible) {
      auto [lo, hi] = std::minmax_element(
          vs.begin(), vs.end(),
          [](const Stored* a, const Stored* b) { return a->version < b->version; });
      for (const Stored* v : vs) {
        bool pick = q.version_all || (q.version_first && v == *lo) ||
                    (q.version_last && v == *hi) || Contains(q.versions, v->version);
        if (pick && v->date_added_us > q.added_after_us.value_or(-1)) picked.push_back(v);
      }
    }
    std::sort(picked.begin(), picked.end(),
              [](const Stored* a, const Stored* b) { return a->date_added_us < b->date_added_us; });
    std::vector<std::string> out;
    out.reserve(picked.size());
    for (const Stored* v : picked) out.push_back(v->id + "@" + v->version.ToString());
    return out;
  }

  // Every page of q for a reader admitted up to `level` (screen refusing
  // half of what admit would withhold, as a memo would).
  std::vector<std::string> Read(ObjectQuery q, int level) {
    q.screen = [level](const ObjectVersion& v) {
      return v.access.tlp <= level || v.access.tlp % 2;
    };
    q.admit = [level](ObjectVersion& v) { return v.access.tlp <= level; };
    return Ids(std::move(q));
  }

  template <typename T>
  static bool Contains(const std::vector<T>& v, const T& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }

  std::vector<Stored> stored_;
};

TEST_P(StoreVersionsByVisibilityTest, EverySelectionMatchesTheOracle) {
  WriteVersions(7);
  std::vector<std::pair<std::string, std::function<void(ObjectQuery&)>>> selections = {
      {"default", [](ObjectQuery&) {}},
      {"first",
       [](ObjectQuery& q) {
         q.version_last = false;
         q.version_first = true;
       }},
      {"first,last", [](ObjectQuery& q) { q.version_first = true; }},
      {"all", [](ObjectQuery& q) { q.version_all = true; }},
      {"explicit",
       [](ObjectQuery& q) {
         q.version_last = false;
         q.versions = {Ts("2024-01-02T00:00:00Z"), Ts("2024-01-04T00:00:00Z")};
       }},
      {"last+explicit", [](ObjectQuery& q) { q.versions = {Ts("2024-01-01T00:00:00Z")}; }},
  };
  std::vector<int64_t> dates;
  for (const auto& st : stored_) dates.push_back(st.date_added_us);
  std::sort(dates.begin(), dates.end());
  size_t non_latest_picks = 0;
  for (int level = 0; level <= 4; ++level) {
    for (const auto& [name, select] : selections) {
      for (int plan = 0; plan < 3; ++plan) {
        for (size_t limit : {1, 3, 1000}) {
          for (int after : {-1, 0, 1}) {
            ObjectQuery q = Q();
            select(q);
            q.limit = limit;
            if (plan == 1) q.types = {"indicator", "malware"};
            if (plan == 2) q.ids = {stored_[0].id, stored_[3].id, stored_[9].id};
            if (after >= 0) q.added_after_us = dates[dates.size() * (after + 1) / 3];
            std::vector<std::string> want = Oracle(q, level);
            EXPECT_EQ(Read(q, level), want) << name << " level " << level << " plan " << plan
                                            << " limit " << limit << " after " << after;
            if (level == 1 && plan == 0 && limit == 1000 && after == -1 && name == "default") {
              // The oracle's default differs from the stored latest versions:
              // the case this test is about occurs.
              ObjectQuery plain = Q();
              for (const auto& w : want) non_latest_picks += !Contains(Ids(plain), w);
            }
          }
        }
      }
    }
  }
  EXPECT_GT(non_latest_picks, 0u);
}

TEST_P(StoreVersionsByVisibilityTest, ScopeOnTheNeighboursNeverHidesAnAdmittedVersion) {
  WriteVersions(11);
  // A scope as loose as a real one (it passes everything admit admits) but
  // tighter than "everything": neighbours outside it are not read at all.
  for (int level = 0; level <= 3; ++level) {
    AccessScope s;
    s.any_producer_max = level;
    ObjectQuery q = Q();
    q.scope = s;
    EXPECT_EQ(Read(q, level), Oracle(Q(), level)) << "level " << level;
    q.version_first = true;
    ObjectQuery both = Q();
    both.version_first = true;
    EXPECT_EQ(Read(q, level), Oracle(both, level)) << "level " << level;
  }
}

// ---- identities: organisations, users, tokens ----------------------------------------

TEST_P(StoreTest, AddUserWithAnUnknownOrganisationFails) {
  User u;
  u.name = "mallory";
  u.org_id = 4242;
  EXPECT_ERROR(store_->AddUser(u), kNotFound, "unknown_org");
  EXPECT_TRUE(store_->ListUsers()->empty());
  EXPECT_ERROR(store_->GetUser("mallory"), kNotFound, "unknown_user");
}

TEST_P(StoreTest, RemoveUserRemovesItsTokens) {
  auto org = store_->AddOrganisation({0, "acme", ""});
  ASSERT_TRUE(org.ok()) << org.status().ToString();
  User u;
  u.org_id = org->id;
  u.name = "alice";
  auto alice = store_->AddUser(u);
  u.name = "bob";
  auto bob = store_->AddUser(u);
  ASSERT_TRUE(alice.ok() && bob.ok());
  ApiToken t;
  t.user_id = alice->id;
  t.token_hash = std::string(64, 'a');
  ASSERT_TRUE(store_->AddToken(t).ok());
  t.token_hash = std::string(64, 'b');
  ASSERT_TRUE(store_->AddToken(t).ok());
  t.user_id = bob->id;
  t.token_hash = std::string(64, 'c');
  ASSERT_TRUE(store_->AddToken(t).ok());
  EXPECT_EQ(store_->ListTokens(alice->id)->size(), 2u);

  ASSERT_TRUE(store_->RemoveUser("alice").ok());
  EXPECT_ERROR(store_->FindTokenByHash(std::string(64, 'a')), kNotFound, "unknown_token");
  EXPECT_ERROR(store_->FindTokenByHash(std::string(64, 'b')), kNotFound, "unknown_token");
  EXPECT_TRUE(store_->ListTokens(alice->id)->empty());
  // Another user's tokens stay.
  auto c = store_->FindTokenByHash(std::string(64, 'c'));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->user_id, bob->id);
  // A token for the removed user's id is refused like one for any unknown user.
  t.user_id = alice->id;
  t.token_hash = std::string(64, 'd');
  EXPECT_ERROR(store_->AddToken(t), kNotFound, "unknown_user_or_duplicate_token");
}

TEST_P(StoreTest, IdentityErrorNames) {
  auto org = store_->AddOrganisation({0, "acme", ""});
  ASSERT_TRUE(org.ok()) << org.status().ToString();
  EXPECT_ERROR(store_->AddOrganisation({0, "acme", ""}), kConflict, "org_exists");
  EXPECT_ERROR(store_->AddOrganisation({0, "", ""}), kInvalidArgument, "bad_name");
  EXPECT_ERROR(store_->AddOrganisation({0, "with space", ""}), kInvalidArgument, "bad_name");
  EXPECT_ERROR(store_->GetOrganisation("nope"), kNotFound, "unknown_org");

  User u;
  u.name = "alice";
  u.org_id = org->id;
  auto alice = store_->AddUser(u);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_ERROR(store_->AddUser(u), kConflict, "user_exists");
  u.name = "user:pass";
  EXPECT_ERROR(store_->AddUser(u), kInvalidArgument, "bad_name");
  EXPECT_ERROR(store_->GetUser("nope"), kNotFound, "unknown_user");
  EXPECT_ERROR(store_->GetUserById(alice->id + 1000), kNotFound, "unknown_user");
  EXPECT_ERROR(store_->RemoveUser("nope"), kNotFound, "unknown_user");
  EXPECT_ERROR(store_->SetPassword("nope", "x"), kNotFound, "unknown_user");

  ApiToken t;
  t.user_id = alice->id;
  t.token_hash = "short";
  EXPECT_ERROR(store_->AddToken(t), kInvalidArgument, "bad_token_hash");
  t.token_hash = std::string(64, 'e');
  auto tok = store_->AddToken(t);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_GT(tok->id, 0);
  EXPECT_NE(tok->created, Timestamp()) << "the store stamps a token without a creation time";
  EXPECT_ERROR(store_->AddToken(t), kNotFound, "unknown_user_or_duplicate_token");
  EXPECT_ERROR(store_->FindTokenByHash(std::string(64, 'f')), kNotFound, "unknown_token");
  EXPECT_ERROR(store_->RevokeToken(tok->id + 1000), kNotFound, "unknown_token");
}

TEST_P(StoreTest, ListsAreOrderedByName) {
  for (const char* name : {"zeta", "alpha", "mid"}) {
    ASSERT_TRUE(store_->AddOrganisation({0, name, ""}).ok());
  }
  auto orgs = store_->ListOrganisations();
  ASSERT_TRUE(orgs.ok());
  Strings names;
  for (const auto& o : *orgs) names.push_back(o.name);
  EXPECT_EQ(names, (Strings{"alpha", "mid", "zeta"}));

  for (const char* name : {"carol", "alice", "bob"}) {
    User u;
    u.name = name;
    u.org_id = (*orgs)[0].id;
    ASSERT_TRUE(store_->AddUser(u).ok());
  }
  auto users = store_->ListUsers();
  ASSERT_TRUE(users.ok());
  names.clear();
  for (const auto& u : *users) {
    names.push_back(u.name);
    EXPECT_EQ(u.org_name, "alpha");
  }
  EXPECT_EQ(names, (Strings{"alice", "bob", "carol"}));

  ASSERT_TRUE(store_->PutApiRoot({"zz", "Z", "", 1}).ok());
  ASSERT_TRUE(store_->PutApiRoot({"aa", "A", "", 1}).ok());
  auto roots = store_->ListApiRoots();
  ASSERT_TRUE(roots.ok());
  names.clear();
  for (const auto& r : *roots) names.push_back(r.name);
  EXPECT_EQ(names, (Strings{"aa", "api1", "zz"}));
  EXPECT_ERROR(store_->PutApiRoot({"a/b", "bad", "", 1}), kInvalidArgument, "bad_name");

  // Collections: by API root, then in the order they were added.
  auto c2 = store_->AddCollection({Uuid(902), "api1", "Second", "", "", {}, {}});
  auto c3 = store_->AddCollection({Uuid(901), "aa", "Third", "", "", {}, {}});
  ASSERT_TRUE(c2.ok() && c3.ok());
  auto all = store_->ListCollections("");
  ASSERT_TRUE(all.ok());
  names.clear();
  for (const auto& c : *all) names.push_back(c.id);
  EXPECT_EQ(names, (Strings{Uuid(901), collection_, Uuid(902)}));
}

// ---- collections and statuses: error names ---------------------------------------------

TEST_P(StoreTest, CollectionErrorNames) {
  EXPECT_ERROR(store_->AddCollection({"", "nope", "T", "", "", {}, {}}), kNotFound,
               "unknown_api_root");
  EXPECT_ERROR(store_->AddCollection({"", "api1", "", "", "", {}, {}}), kInvalidArgument,
               "bad_collection");
  EXPECT_ERROR(store_->AddCollection({"not-a-uuid", "api1", "T", "", "", {}, {}}), kInvalidArgument,
               "bad_collection");
  EXPECT_ERROR(store_->AddCollection({"", "api1", "T", "", "", {""}, {}}), kInvalidArgument,
               "bad_acl");
  EXPECT_ERROR(store_->AddCollection({collection_, "api1", "T", "", "", {}, {}}), kConflict,
               "collection_exists");
  EXPECT_ERROR(store_->GetCollection("api1", Uuid(999)), kNotFound, "unknown_collection");
  EXPECT_ERROR(store_->RemoveCollection(Uuid(999)), kNotFound, "unknown_collection");
  EXPECT_ERROR(store_->WriteObjects(Uuid(999), {Obj(kA, "2024-01-01T00:00:00Z")}, "").get(),
               kNotFound, "unknown_collection");
  // "" reads a collection under any API root.
  auto any = store_->GetCollection("", collection_);
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ(any->api_root, "api1");
}

TEST_P(StoreTest, ObjectErrorNames) {
  NewObject bad = Obj(kA, "2024-01-01T00:00:00Z");
  bad.id = "nodashes";
  EXPECT_ERROR(store_->WriteObjects(collection_, {bad}, "").get(), kInvalidArgument, "bad_object");
  bad = Obj(kA, "2024-01-01T00:00:00Z");
  bad.json.clear();
  EXPECT_ERROR(store_->WriteObjects(collection_, {Obj(kB, "2024-01-01T00:00:00Z"), bad}, "").get(),
               kInvalidArgument, "bad_object");
  EXPECT_EQ(*store_->CountObjects(), 0) << "a request with a bad object stores nothing";
  ObjectQuery q = Q();
  q.next = "garbage";
  EXPECT_ERROR(store_->QueryObjects(q), kInvalidArgument, "bad_cursor");
  q = Q();
  q.ids.assign(1001, kA);
  EXPECT_ERROR(store_->QueryObjects(q), kLimitExceeded, "too_many_filter_values");
  EXPECT_ERROR(store_->DeleteObject(Q()), kInvalidArgument, "bad_delete");
}

TEST_P(StoreTest, StatusErrorNames) {
  StatusResource s;
  EXPECT_ERROR(store_->CreateStatus(s), kInvalidArgument, "bad_status");
  s.id = Uuid(300);
  s.api_root = "api1";
  ASSERT_TRUE(store_->CreateStatus(s).ok());
  EXPECT_ERROR(store_->CreateStatus(s), kConflict, "status_exists");
  EXPECT_ERROR(store_->GetStatus("api1", Uuid(301)), kNotFound, "unknown_status");
  EXPECT_ERROR(store_->GetStatus("other", s.id), kNotFound, "unknown_status");
  // A status created without one is pending; "" reads it under any API root.
  auto got = store_->GetStatus("", s.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->status, "pending");
  EXPECT_EQ(got->api_root, "api1");
}

// ---- objects ---------------------------------------------------------------------

// The version of an object without one is its date_added: each write of it
// stores a new version (store.h ObjectVersion::version).
TEST_P(StoreTest, ObjectWithoutVersionIsANewVersionEachWrite) {
  const std::string ip = "ipv4-addr--" + Uuid(9);
  auto first = Write({Obj(ip, "")});
  auto second = Write({Obj(ip, "")});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(first[0].stored);
  EXPECT_TRUE(second[0].stored);
  EXPECT_FALSE(second[0].already_present);
  ObjectQuery q = Q();
  q.version_all = true;
  EXPECT_EQ(Ids(q).size(), 2u);
  EXPECT_EQ(*store_->CountObjects(), 2);
}

// A status reads "complete" only once its objects are readable: the status is
// updated with the objects, never before them.
TEST_P(StoreTest, CompleteStatusMeansTheObjectsAreReadable) {
  constexpr int kWrites = 30;
  std::atomic<bool> done{false};
  std::atomic<int> checked{0};
  std::thread reader([&] {
    for (;;) {  // sweeps while the writes run, and once after them
      const bool last = done.load();
      for (int i = 0; i < kWrites; ++i) {
        auto st = store_->GetStatus("api1", Uuid(3000 + i));
        if (!st.ok() || st->status != "complete") continue;
        ObjectQuery q = Q();
        q.ids = {"indicator--" + Uuid(4000 + i)};
        auto page = store_->QueryObjects(q);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        EXPECT_EQ(page->objects.size(), 1u) << "status " << i << " complete before its object";
        ++checked;
      }
      if (last) break;
    }
  });
  for (int i = 0; i < kWrites; ++i) {
    StatusResource s;
    s.id = Uuid(3000 + i);
    s.api_root = "api1";
    s.status = "pending";
    s.total_count = s.pending_count = 1;
    const std::string id = "indicator--" + Uuid(4000 + i);
    s.pendings = {{id, "2024-01-01T00:00:00.000Z", ""}};
    ASSERT_TRUE(store_->CreateStatus(s).ok());
    auto w = store_->WriteObjects(collection_, {Obj(id, "2024-01-01T00:00:00Z")}, s.id);
    EXPECT_TRUE(w.get().ok());
    EXPECT_EQ(store_->GetStatus("api1", s.id)->status, "complete");
  }
  done = true;
  reader.join();
  EXPECT_GE(checked.load(), kWrites);
}

// Paging by `next` from a page boundary, combined with added_after: no
// version skipped or repeated, in date_added order, whatever the page size.
TEST_P(StoreTest, PagingWithNextAndAddedAfterNeverSkipsOrRepeats) {
  std::vector<std::string> want;
  for (int b = 0; b < 5; ++b) {
    std::vector<NewObject> batch;
    for (int i = 0; i < 7; ++i) {
      std::string id = std::string(i % 2 ? "malware" : "indicator") + "--" + Uuid(600 + i);
      char version[32];
      std::snprintf(version, sizeof version, "2024-02-%02dT00:00:00Z", b + 1);
      batch.push_back(Obj(id, version));
    }
    Write(batch);
  }
  ObjectQuery all = Q();
  all.version_all = true;
  all.limit = 1000;
  auto every = store_->QueryObjects(all);
  ASSERT_TRUE(every.ok());
  ASSERT_EQ(every->objects.size(), 35u);
  for (size_t i = 1; i < every->objects.size(); ++i) {
    EXPECT_LT(every->objects[i - 1].date_added_us, every->objects[i].date_added_us);
  }
  for (int start : {-1, 0, 9, 34}) {
    std::vector<std::string> expected;
    for (size_t i = start < 0 ? 0 : static_cast<size_t>(start) + 1; i < 35; ++i) {
      const auto& o = every->objects[i];
      expected.push_back(o.id + "@" + o.version.ToString());
    }
    for (size_t limit : {1, 2, 5, 7, 34, 35, 36}) {
      ObjectQuery q = all;
      q.limit = limit;
      if (start >= 0) q.added_after_us = every->objects[static_cast<size_t>(start)].date_added_us;
      EXPECT_EQ(Ids(q), expected) << "after " << start << " limit " << limit;
    }
  }
  // A manifest pages the same way, without the JSON.
  ObjectQuery manifest = all;
  manifest.include_json = false;
  manifest.limit = 4;
  auto page = store_->QueryObjects(manifest);
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(page->more);
  for (const auto& o : page->objects) EXPECT_TRUE(o.json.empty());
  manifest.next = page->next;
  auto next = store_->QueryObjects(manifest);
  ASSERT_TRUE(next.ok());
  ASSERT_FALSE(next->objects.empty());
  EXPECT_EQ(next->objects[0].date_added_us, every->objects[4].date_added_us);
}

// Deleting a version leaves the others; deleting every version of an object
// leaves other objects; counts follow.
TEST_P(StoreTest, DeletesOfOneVersionAndOfAll) {
  Write({Obj(kA, "2024-01-01T00:00:00Z"), Obj(kA, "2024-02-01T00:00:00Z"),
         Obj(kA, "2024-03-01T00:00:00Z"), Obj(kB, "2024-01-01T00:00:00Z")});
  ObjectQuery d = Q();
  d.ids = {kA};
  d.version_last = false;
  d.versions = {Ts("2024-02-01T00:00:00Z")};
  EXPECT_EQ(*store_->DeleteObject(d), 1);
  ObjectQuery all = Q();
  all.version_all = true;
  EXPECT_EQ(Ids(all), (Strings{kA + "@2024-01-01T00:00:00.000Z", kA + "@2024-03-01T00:00:00.000Z",
                               kB + "@2024-01-01T00:00:00.000Z"}));
  d.versions.clear();
  d.version_first = true;  // the first is now 2024-01-01
  EXPECT_EQ(*store_->DeleteObject(d), 1);
  EXPECT_EQ(*store_->CountObjects(), 2);
  d.version_first = false;
  d.version_all = true;
  EXPECT_EQ(*store_->DeleteObject(d), 1);
  EXPECT_EQ(Ids(all), (Strings{kB + "@2024-01-01T00:00:00.000Z"}));
  EXPECT_EQ(*store_->DeleteObject(d), 0);  // nothing left: the caller answers NotFound
  EXPECT_EQ(*store_->CountObjects(), 1);
}

// Granular levels are facts of granular markings: without them, or out of
// range, they read back as not known.
TEST_P(StoreTest, GranularLevelsWithoutGranularMarkingsAreNotKept) {
  NewObject none = WithFacts(Obj(kA, "2024-01-01T00:00:00Z"), kP, 1);
  none.access.granular_max_known = true;  // but no granular marking
  none.access.granular_max_tlp = 2;
  none.access.granular_max_pap = 1;
  NewObject out_of_range = WithFacts(Obj(kB, "2024-01-01T00:00:00Z"), kP, 1, {}, -1, true);
  out_of_range.access.granular_max_known = true;
  out_of_range.access.granular_max_tlp = 9;
  Write({none, out_of_range});
  auto page = store_->QueryObjects(Q());
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u);
  const AccessFacts& a = page->objects[0].access;
  EXPECT_FALSE(a.granular_levels);
  EXPECT_FALSE(a.granular_max_known);
  EXPECT_EQ(a.granular_max_tlp, -1);
  EXPECT_EQ(a.granular_max_pap, -1);
  const AccessFacts& b = page->objects[1].access;
  EXPECT_TRUE(b.granular_levels);
  EXPECT_FALSE(b.granular_max_known);
  EXPECT_EQ(b.granular_max_tlp, -1);
}

// A delete's filters are a query's: added_after narrows what it removes.
TEST_P(StoreTest, DeleteHonoursAddedAfter) {
  Write({Obj(kA, "2024-01-01T00:00:00Z")});
  Write({Obj(kA, "2024-02-01T00:00:00Z")});
  ObjectQuery all = Q();
  all.version_all = true;
  auto page = store_->QueryObjects(all);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  ObjectQuery d = all;
  d.ids = {kA};
  d.added_after_us = page->objects[0].date_added_us;
  EXPECT_EQ(*store_->DeleteObject(d), 1);
  EXPECT_EQ(Ids(all), (Strings{kA + "@2024-01-01T00:00:00.000Z"}));
}

// A pending entry whose version text is not a timestamp is durable under any
// stored version of its object (as an entry without one).
TEST_P(StoreTest, PendingEntryWithAnUnreadableVersionIsDurableUnderAnyVersion) {
  StatusResource s;
  s.id = Uuid(803);
  s.api_root = "api1";
  s.status = "pending";
  s.total_count = s.pending_count = 2;
  s.pendings = {{kA, "not-a-time", ""}, {kB, "not-a-time", ""}};
  ASSERT_TRUE(store_->CreateStatus(s).ok());
  Write({Obj(kA, "2024-01-01T00:00:00Z")});
  ASSERT_TRUE(store_->FinishPendingStatus("api1", s.id, "lost").ok());
  auto st = store_->GetStatus("api1", s.id);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->success_count, 1);
  EXPECT_EQ(st->failure_count, 1);
  ASSERT_EQ(st->failures.size(), 1u);
  EXPECT_EQ(st->failures[0].id, kB);
  EXPECT_EQ(st->failures[0].message, "lost");
}

// ---- full-text search (SearchObjects, the console's /api/v1/search) ---------------------

// An object with searchable text in every field the index keeps.
NewObject Doc(const std::string& id, std::string_view modified, const std::string& fields) {
  NewObject o = Obj(id, modified);
  o.json = "{\"id\":\"" + id + "\",\"modified\":\"" + std::string(modified) + "\"," + fields + "}";
  return o;
}

class StoreSearchTest : public StoreTest {
 protected:
  std::vector<std::string> Find(std::vector<std::string> words, SearchQuery q = {}) {
    q.words = std::move(words);
    if (q.collection_ids.empty()) q.collection_ids = {collection_};
    std::vector<std::string> ids;
    Status st = store_->SearchObjects(q, [&](SearchHit& h) {
      ids.push_back(h.object.id);
      EXPECT_FALSE(h.object.json.empty());
      EXPECT_EQ(h.object.collection_id,
                q.collection_ids.size() == 1 ? q.collection_ids[0] : h.object.collection_id);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return ids;
  }
  using Ids = std::vector<std::string>;
};

TEST_P(StoreSearchTest, FindsWordsInEveryIndexedField) {
  Write(
      {Doc(kA, "2024-01-01T00:00:00Z",
           R"("name":"Emotet dropper","description":"Seen in phishing waves",)"
           R"("labels":["banking-trojan"],"pattern":"[domain-name:value = 'evil.example.com']")")});
  Write({Doc(
      kB, "2024-01-01T00:00:00Z",
      R"("value":"198.51.100.7","hashes":{"SHA-256":"aabbccddeeff"},"malware_types":["ransomware"])")});
  EXPECT_EQ(Find({"emotet"}), Ids{kA});
  EXPECT_EQ(Find({"PHISH"}), Ids{kA});             // case-folded token prefix
  EXPECT_EQ(Find({"banking"}), Ids{kA});           // labels
  EXPECT_EQ(Find({"evil.example.com"}), Ids{kA});  // a pattern's value
  EXPECT_EQ(Find({"example"}), Ids{kA});
  EXPECT_EQ(Find({"198.51.100.7"}), Ids{kB});     // an observable's value
  EXPECT_EQ(Find({"aabbcc"}), Ids{kB});           // hashes
  EXPECT_EQ(Find({"ransomware"}), Ids{kB});       // *_types
  EXPECT_EQ(Find({"emotet", "waves"}), Ids{kA});  // every word must match
  EXPECT_TRUE(Find({"emotet", "ransomware"}).empty());
  EXPECT_TRUE(Find({"dropper.emotet"}).empty());  // a word's tokens in order
  EXPECT_TRUE(Find({"modified"}).empty());        // keys and other fields are not text
  EXPECT_EQ(Find({}), (Ids{kB, kA}));             // no words: everything, newest first
}

TEST_P(StoreSearchTest, QuerySyntaxIsPlainText) {
  Write(
      {Doc(kA, "2024-01-01T00:00:00Z", R"("name":"alpha OR beta","description":"NEAR the end")")});
  Write({Doc(kB, "2024-01-01T00:00:00Z", R"("name":"gamma")")});
  for (const std::string& w :
       {std::string("\""), std::string("\"alpha"), std::string("alpha\""), std::string("*"),
        std::string("NEAR(alpha"), std::string("alpha)"), std::string("^alpha"),
        std::string("name:alpha"), std::string("-alpha"), std::string("\"\"\"\""),
        std::string("OR"), std::string("AND"), std::string("NOT"), std::string("caf\xc3\xa9"),
        std::string(10000, 'x'), std::string("'; DROP TABLE objects; --")}) {
    SearchQuery q;
    q.words = {w};
    q.collection_ids = {collection_};
    Status st = store_->SearchObjects(q, [](SearchHit&) { return true; });
    EXPECT_TRUE(st.ok()) << w.substr(0, 20) << ": " << st.ToString();
  }
  EXPECT_EQ(Find({"OR"}), Ids{kA});  // the word "or", not an operator
  EXPECT_EQ(Find({"\"alpha\""}), Ids{kA});
  EXPECT_EQ(Find({"NEAR(the"}), Ids{kA});
  EXPECT_TRUE(Find({"gamma", "OR", "zzz"}).empty());
  EXPECT_TRUE(Find({"\""}).empty());  // no letters: matches nothing
  EXPECT_TRUE(Find({"*"}).empty());
}

TEST_P(StoreSearchTest, SeesTheNewestVersionOfEachObjectOnce) {
  Write({Doc(kA, "2024-01-01T00:00:00Z", R"("name":"first draft")")});
  Write({Doc(kA, "2024-02-01T00:00:00Z", R"("name":"final text")")});
  Write({Doc(kA, "2023-12-01T00:00:00Z", R"("name":"older draft")")});  // added last, not newest
  EXPECT_EQ(Find({"final"}), Ids{kA});
  EXPECT_TRUE(Find({"draft"}).empty());
  EXPECT_EQ(Find({}), Ids{kA});
  // Delete the newest version: the next one is the object's newest now.
  ObjectQuery del = Q();
  del.ids = {kA};
  ASSERT_EQ(*store_->DeleteObject(del), 1);
  EXPECT_TRUE(Find({"final"}).empty());
  EXPECT_EQ(Find({"first"}), Ids{kA});
  del.version_all = true;
  del.version_last = false;
  ASSERT_TRUE(store_->DeleteObject(del).ok());
  EXPECT_TRUE(Find({"first"}).empty());
  EXPECT_TRUE(Find({}).empty());
}

TEST_P(StoreSearchTest, FiltersCollectionsTypesAndDateAdded) {
  auto other = store_->AddCollection(Collection{"", "api1", "Other", "", "", {"org:*"}, {}});
  ASSERT_TRUE(other.ok());
  Write({Doc(kA, "2024-01-01T00:00:00Z", R"("name":"shared word")")});
  auto w = store_
               ->WriteObjects(other->id,
                              {Doc(kB, "2024-01-01T00:00:00Z", R"("name":"shared word")")}, "")
               .get();
  ASSERT_TRUE(w.ok());
  Write({Doc(kC, "2024-01-01T00:00:00Z", R"("name":"shared word")")});
  EXPECT_EQ(Find({"shared"}), (Ids{kC, kA}));  // only the collections asked for
  SearchQuery both;
  both.collection_ids = {collection_, other->id};
  EXPECT_EQ(Find({"shared"}, both), (Ids{kC, kB, kA}));
  SearchQuery none;
  none.collection_ids = {Uuid(999)};
  EXPECT_TRUE(Find({"shared"}, none).empty());
  SearchQuery typed = both;
  typed.types = {"malware"};  // kB (store_conformance.h)
  EXPECT_EQ(Find({"shared"}, typed), Ids{kB});
  // date_added bounds and the resume point, from the rows themselves.
  std::vector<int64_t> added;
  ASSERT_TRUE(store_
                  ->SearchObjects(both,
                                  [&](SearchHit& h) {
                                    added.push_back(h.object.date_added_us);
                                    return true;
                                  })
                  .ok());
  ASSERT_EQ(added.size(), 3u);
  ASSERT_TRUE(added[0] > added[1] && added[1] > added[2]);
  SearchQuery after = both;
  after.added_after_us = added[2];
  EXPECT_EQ(Find({"shared"}, after), (Ids{kC, kB}));
  SearchQuery before = both;
  before.added_before_us = added[0];
  EXPECT_EQ(Find({"shared"}, before), (Ids{kB, kA}));
  SearchQuery below = both;
  below.below_date_added_us = added[1];
  EXPECT_EQ(Find({}, below), Ids{kA});
}

TEST_P(StoreSearchTest, VisitorStopsTheWalk) {
  for (int i = 1; i <= 5; ++i) {
    Write({Doc("indicator--" + Uuid(100 + i), "2024-01-01T00:00:00Z", R"("name":"many")")});
  }
  SearchQuery q;
  q.words = {"many"};
  q.collection_ids = {collection_};
  int visited = 0;
  ASSERT_TRUE(store_->SearchObjects(q, [&](SearchHit&) { return ++visited < 2; }).ok());
  EXPECT_EQ(visited, 2);
}

TEST_P(StoreSearchTest, HitsCarryAccessFacts) {
  NewObject o = WithFacts(Doc(kA, "2024-01-01T00:00:00Z", R"("name":"facts here")"), kP, 4);
  Write({o});
  SearchQuery q;
  q.words = {"facts"};
  q.collection_ids = {collection_};
  int n = 0;
  ASSERT_TRUE(store_
                  ->SearchObjects(q,
                                  [&](SearchHit& h) {
                                    ++n;
                                    EXPECT_EQ(h.object.access.producer, kP);
                                    EXPECT_EQ(h.object.access.tlp, 4);
                                    EXPECT_NE(h.object.json.find("facts here"), std::string::npos);
                                    return true;
                                  })
                  .ok());
  EXPECT_EQ(n, 1);
}

TEST_P(StoreSearchTest, FiltersTlpAndProducerFromTheFacts) {
  Write({WithFacts(Doc(kA, "2024-01-01T00:00:00Z", R"("name":"marked")"), kP, 1),
         WithFacts(Doc(kB, "2024-01-01T00:00:00Z", R"("name":"marked")"), kP, 4),
         WithFacts(Doc(kC, "2024-01-01T00:00:00Z", R"("name":"marked")"), "identity--other", -1)});
  SearchQuery green;
  green.tlps = {1};
  EXPECT_EQ(Find({"marked"}, green), Ids{kA});
  SearchQuery unmarked_or_red;
  unmarked_or_red.tlps = {-1, 4};
  EXPECT_EQ(Find({}, unmarked_or_red), (Ids{kC, kB}));
  SearchQuery by_producer;
  by_producer.producers = {kP};
  EXPECT_EQ(Find({"marked"}, by_producer), (Ids{kB, kA}));
}

TEST(SearchTextOf, KeepsTheSearchableFieldsOnly) {
  EXPECT_EQ(SearchTextOf(R"({"type":"indicator","name":"n","description":"d","labels":["l1","l2"],)"
                         R"("pattern":"[a:b = 'v1' OR c:d = 'it\\'s']","id":"x--1"})"),
            "n\nd\nl1\nl2\nv1\nit's");
  EXPECT_EQ(SearchTextOf("not json"), "");
  EXPECT_EQ(SearchTextOf("[1,2]"), "");
}

// ---- instantiation: every backend -------------------------------------------------------

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::ValuesIn(ConformanceStores()), StoreName);
INSTANTIATE_TEST_SUITE_P(Stores, StoreFilterTest, ::testing::ValuesIn(ConformanceStores()),
                         StoreName);
INSTANTIATE_TEST_SUITE_P(Stores, StoreScopeTest, ::testing::ValuesIn(ConformanceStores()),
                         StoreName);
INSTANTIATE_TEST_SUITE_P(Stores, StoreAdmitTest, ::testing::ValuesIn(ConformanceStores()),
                         StoreName);
INSTANTIATE_TEST_SUITE_P(Stores, StoreSearchTest, ::testing::ValuesIn(ConformanceStores()),
                         StoreName);
INSTANTIATE_TEST_SUITE_P(Stores, StoreVersionsByVisibilityTest,
                         ::testing::ValuesIn(ConformanceStores()), StoreName);

}  // namespace
}  // namespace ctihub::store::suite
