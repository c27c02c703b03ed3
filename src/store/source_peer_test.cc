// The peer a version was pulled from (NewObject::source_peer) and the push's
// filter on it (ObjectQuery::not_from_peer): the contract on every backend of
// the conformance suite.
#include <string>
#include <vector>

#include "store/store.h"
#include "store/testing/store_conformance.h"

namespace ctihub::store::suite {
namespace {

NewObject From(const std::string& id, const std::string& peer) {
  NewObject o = Obj(id, "2024-01-01T00:00:00Z");
  o.source_peer = peer;
  return o;
}

class StoreSourcePeerTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Write({From(kA, "vendor"), From(kB, "police"), From(kC, "")});
  }

  std::vector<std::string> NotFrom(const std::string& peer, ObjectQuery q) {
    q.not_from_peer = peer;
    q.version_last = false;
    q.version_all = true;
    return Ids(q);
  }
};

TEST_P(StoreSourcePeerTest, APushLeavesOutWhatThatPeerSent) {
  const std::string a = kA + "@2024-01-01T00:00:00.000Z";
  const std::string b = kB + "@2024-01-01T00:00:00.000Z";
  const std::string c = kC + "@2024-01-01T00:00:00.000Z";
  EXPECT_EQ(NotFrom("vendor", Q()), (std::vector<std::string>{b, c}));
  EXPECT_EQ(NotFrom("police", Q()), (std::vector<std::string>{a, c}));
  EXPECT_EQ(NotFrom("", Q()), (std::vector<std::string>{a, b, c}));
  EXPECT_EQ(NotFrom("nobody", Q()), (std::vector<std::string>{a, b, c}));
  // The id lookup and the several-types walk take other plans: same answer.
  ObjectQuery by_id = Q();
  by_id.ids = {kA, kB};
  EXPECT_EQ(NotFrom("vendor", by_id), std::vector<std::string>{b});
  ObjectQuery by_types = Q();
  by_types.types = {"indicator", "malware"};
  EXPECT_EQ(NotFrom("police", by_types), (std::vector<std::string>{a, c}));
}

// A newer version of an object pulled from a peer, written locally, is the
// local hub's and leaves: only the versions the peer sent stay home.
TEST_P(StoreSourcePeerTest, ALocalVersionOfAPulledObjectIsPushed) {
  NewObject v2 = Obj(kA, "2024-02-01T00:00:00Z");
  Write({v2});
  EXPECT_EQ(NotFrom("vendor", Q()), (std::vector<std::string>{kB + "@2024-01-01T00:00:00.000Z",
                                                              kC + "@2024-01-01T00:00:00.000Z",
                                                              kA + "@2024-02-01T00:00:00.000Z"}));
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreSourcePeerTest, ::testing::ValuesIn(ConformanceStores()),
                         StoreName);

}  // namespace
}  // namespace ctihub::store::suite
