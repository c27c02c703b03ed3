// The reference index (Store::ReferencesTo, ReferencedIdsOf): the contract on
// every backend of the conformance suite.
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"
#include "store/testing/store_conformance.h"

namespace ctihub::store::suite {
namespace {

// An object whose JSON carries `fields` (its references) beside id and modified.
NewObject Referring(const std::string& id, std::string_view modified, const std::string& fields) {
  NewObject o = Obj(id, modified);
  o.json = "{\"id\":\"" + id + "\",\"modified\":\"" + std::string(modified) + "\"," + fields + "}";
  return o;
}

std::string Rel(int n) { return "relationship--" + Uuid(100 + n); }

class StoreReferencesTest : public StoreTest {
 protected:
  // The ids of the referrers of `id` in `collections` (the main collection
  // when empty), in the order the store gives them.
  std::vector<std::string> Referrers(const std::string& id,
                                     std::vector<std::string> collections = {},
                                     size_t limit = 100) {
    if (collections.empty()) collections = {collection_};
    auto refs = store_->ReferencesTo(id, collections, limit);
    EXPECT_TRUE(refs.ok()) << refs.status().ToString();
    std::vector<std::string> out;
    if (!refs.ok()) return out;
    for (const Referrer& r : *refs) out.push_back(r.id);
    return out;
  }
};

TEST_P(StoreReferencesTest, ListsEveryReferrerNewestFirst) {
  const std::string sighting = "sighting--" + Uuid(50);
  const std::string report = "report--" + Uuid(51);
  Write({Referring(Rel(1), "2024-01-01T00:00:00Z",
                   "\"source_ref\":\"" + kA + "\",\"target_ref\":\"" + kB + "\"")});
  Write({Referring(sighting, "2024-01-01T00:00:00Z",
                   "\"sighting_of_ref\":\"" + kA + "\",\"where_sighted_refs\":[\"" + kC + "\"]")});
  Write({Referring(report, "2024-01-01T00:00:00Z",
                   "\"object_refs\":[\"" + kA + "\",\"" + kB + "\"]")});
  EXPECT_EQ(Referrers(kA), (std::vector<std::string>{report, sighting, Rel(1)}));
  EXPECT_EQ(Referrers(kB), (std::vector<std::string>{report, Rel(1)}));
  EXPECT_EQ(Referrers(kC), std::vector<std::string>{sighting});
  EXPECT_EQ(Referrers(kA, {}, 2), (std::vector<std::string>{report, sighting}));
  EXPECT_TRUE(Referrers("indicator--" + Uuid(99)).empty());
}

// created_by_ref and object_marking_refs are on nearly every object: not indexed.
TEST_P(StoreReferencesTest, CreatorAndMarkingsAreNotIndexed) {
  const std::string identity = "identity--" + Uuid(60);
  const std::string marking = "marking-definition--" + Uuid(61);
  Write({Referring(
      kA, "2024-01-01T00:00:00Z",
      "\"created_by_ref\":\"" + identity + "\",\"object_marking_refs\":[\"" + marking + "\"]")});
  EXPECT_TRUE(Referrers(identity).empty());
  EXPECT_TRUE(Referrers(marking).empty());
}

// An object with several versions referencing the same id is listed once;
// only the collections asked for are searched.
TEST_P(StoreReferencesTest, EachObjectOnceInTheCollectionsAsked) {
  const std::string link = "\"source_ref\":\"" + kA + "\",\"target_ref\":\"" + kB + "\"";
  Write({Referring(Rel(1), "2024-01-01T00:00:00Z", link)});
  Write({Referring(Rel(1), "2024-02-01T00:00:00Z", link)});
  auto other = store_->AddCollection(Collection{"", "api1", "Other", "", "", {"org:*"}, {}});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto w =
      store_->WriteObjects(other->id, {Referring(Rel(2), "2024-01-01T00:00:00Z", link)}, "").get();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Referrers(kA), std::vector<std::string>{Rel(1)});
  EXPECT_EQ(Referrers(kA, {other->id}), std::vector<std::string>{Rel(2)});
  auto both = store_->ReferencesTo(kA, {collection_, other->id}, 10);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].id, Rel(2));
  EXPECT_EQ((*both)[0].collection_id, other->id);
  EXPECT_EQ((*both)[1].collection_id, collection_);
  auto none = store_->ReferencesTo(kA, {}, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A deleted version takes its references with it.
TEST_P(StoreReferencesTest, DeletedObjectsAreNoLongerListed) {
  Write({Referring(Rel(1), "2024-01-01T00:00:00Z", "\"target_ref\":\"" + kA + "\"")});
  Write({Referring(Rel(2), "2024-01-01T00:00:00Z", "\"target_ref\":\"" + kA + "\"")});
  EXPECT_EQ(Referrers(kA), (std::vector<std::string>{Rel(2), Rel(1)}));
  ObjectQuery d = Q();
  d.ids = {Rel(1)};
  d.version_all = true;
  auto n = store_->DeleteObject(d);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(Referrers(kA), std::vector<std::string>{Rel(2)});
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreReferencesTest, ::testing::ValuesIn(ConformanceStores()),
                         StoreName);

TEST(ReferencedIdsOf, KeepsTheTopLevelReferencesOnce) {
  const std::string a = "indicator--" + Uuid(1);
  const std::string b = "malware--" + Uuid(2);
  EXPECT_EQ(ReferencedIdsOf("{\"source_ref\":\"" + a + "\",\"target_ref\":\"" + b +
                            "\",\"object_refs\":[\"" + a + "\",\"" + b + "\",7,\"not an id\"]," +
                            "\"created_by_ref\":\"identity--" + Uuid(3) +
                            "\",\"extensions\":{\"x\":{\"deep_ref\":\"" + a + "\"}}}"),
            (std::vector<std::string>{a, b}));
  // The text pre-check (most objects carry no indexed key) never hides one:
  // a value naming the skipped keys does not cancel a real key out.
  EXPECT_EQ(ReferencedIdsOf(R"({"description":"x \"created_by_ref\" \"object_marking_refs\"",)"
                            R"("sighting_of_ref":")" +
                            a + "\"}"),
            std::vector<std::string>{a});
  EXPECT_TRUE(
      ReferencedIdsOf(R"({"created_by_ref":")" + b + R"(","object_marking_refs":[")" + b + "\"]}")
          .empty());
  EXPECT_TRUE(ReferencedIdsOf("not json").empty());
  EXPECT_TRUE(ReferencedIdsOf("[\"" + a + "\"]").empty());
  EXPECT_TRUE(ReferencedIdsOf("{\"ref\":\"" + a + "\",\"refs\":[\"" + a + "\"]}").empty());
}

}  // namespace
}  // namespace ctihub::store::suite
