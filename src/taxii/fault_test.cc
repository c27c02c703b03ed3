// Fault injection on the request path: a store and an audit trail that fail on
// demand (store/testing, audit/testing). Reads must never be served unaudited,
// and store failures must reach the client as TAXII error objects.
#include <gtest/gtest.h>

#include <algorithm>

#include "audit/testing/failing_sink.h"
#include "core/json.h"
#include "store/testing/fault_injecting_store.h"
#include "store/testing/memory_store.h"
#include "taxii/taxii.h"

namespace ctihub::taxii {
namespace {

using store::StoreOp;

constexpr const char* kCol = "44444444-4444-4444-8444-444444444444";
constexpr const char* kIndicatorId = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

std::string Envelope() {
  return std::string(R"({"objects":[{"type":"indicator","spec_version":"2.1","id":")") +
         kIndicatorId +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",)"
         R"("name":"bad ip","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix",)"
         R"("valid_from":"2024-01-01T00:00:00Z"}]})";
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(memory_.PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    store::Collection c;
    c.id = kCol;
    c.api_root = "api1";
    c.title = "shared";
    c.readers = {"org:acme"};
    c.writers = {"org:acme"};
    ASSERT_TRUE(memory_.AddCollection(c).ok());
    // The ACL alone decides what is served: the faults under test are the store's and the trail's.
    AccessControl access = WithoutPolicyForTest();
    access.audit = &sink_;
    service_ = std::make_unique<Service>(
        store_,
        [](std::string_view h) -> Result<auth::Principal> {
          if (h != "Bearer alice") return Unauthenticated("no");
          auth::Principal p;
          p.user = "alice";
          p.user_id = 10;
          p.org = "acme";
          p.org_id = 1;
          p.role = store::Role::kPublisher;
          return p;
        },
        ServiceOptions{}, access);
  }

  Response Do(std::string method, std::string target, std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.host = "hub.example:8443";
    r.accept = "application/taxii+json;version=2.1";
    r.content_type = "application/taxii+json;version=2.1";
    r.authorization = "Bearer alice";
    r.body = std::move(body);
    return service_->Handle(r);
  }

  std::string ObjectsPath() const { return std::string("/api1/collections/") + kCol + "/objects/"; }

  // The TAXII error object's error_id; fails the test if the body is not one for `http`.
  std::string ErrorIdOf(const Response& r, int http) {
    EXPECT_EQ(r.status, http) << r.body;
    EXPECT_EQ(r.content_type, kTaxiiMediaType);
    json::JsonParser parser;
    auto e = parser.Parse(r.body);
    if (!e.ok()) {
      ADD_FAILURE() << "not JSON: " << r.body;
      return "";
    }
    std::string_view id, status;
    EXPECT_EQ((*e)["http_status"].get_string().get(status), simdjson::SUCCESS) << r.body;
    EXPECT_EQ(status, std::to_string(http));
    EXPECT_EQ((*e)["error_id"].get_string().get(id), simdjson::SUCCESS) << r.body;
    return std::string(id);
  }

  void StoreOneIndicator() {
    ASSERT_EQ(Do("POST", ObjectsPath(), Envelope()).status, 202);
    service_->WaitForWrites();
  }

  size_t RecordsWithAction(std::string_view action) const {
    auto records = sink_.records();
    return static_cast<size_t>(std::count_if(records.begin(), records.end(),
                                             [&](const auto& r) { return r.action == action; }));
  }

  store::MemoryStore memory_;
  store::FaultInjectingStore store_{memory_};
  audit::FailingSink sink_;
  std::unique_ptr<Service> service_;
};

TEST_F(FaultTest, ReadIsServedAndAuditedWhileTheTrailWorks) {
  StoreOneIndicator();
  Response r = Do("GET", ObjectsPath());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(kIndicatorId), std::string::npos);
  EXPECT_EQ(RecordsWithAction(audit::action::kObjectServed), 1u);
}

// Issue 12 item 9: a DELETE is recorded against each version it removed
// (before, only a generic request record without objects).
TEST_F(FaultTest, DeleteIsRecordedAgainstEachDeletedVersion) {
  StoreOneIndicator();
  Response r = Do("DELETE", ObjectsPath() + kIndicatorId + "/");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<audit::Record> deleted;
  for (audit::Record& rec : sink_.records())
    if (rec.action == audit::action::kObjectDeleted) deleted.push_back(std::move(rec));
  ASSERT_EQ(deleted.size(), 1u);
  ASSERT_EQ(deleted[0].objects.size(), 1u);
  EXPECT_EQ(deleted[0].objects[0].id, kIndicatorId);
  EXPECT_EQ(deleted[0].objects[0].version, "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(deleted[0].user, "alice");
  EXPECT_EQ(deleted[0].status, 200);
  // A DELETE of nothing records no deletion.
  EXPECT_EQ(Do("DELETE", ObjectsPath() + kIndicatorId + "/").status, 404);
  EXPECT_EQ(RecordsWithAction(audit::action::kObjectDeleted), 1u);
}

TEST_F(FaultTest, ReadAnswers503WhenTheAuditTrailCannotTakeTheRecord) {
  StoreOneIndicator();
  sink_.FailWith(Unavailable("audit: disk full"));
  for (const std::string& path : {ObjectsPath(), ObjectsPath() + kIndicatorId + "/",
                                  ObjectsPath() + kIndicatorId + "/versions/",
                                  std::string("/api1/collections/") + kCol + "/manifest/"}) {
    Response r = Do("GET", path);
    EXPECT_EQ(ErrorIdOf(r, 503), "audit_unavailable") << path;
    EXPECT_EQ(r.body.find(kIndicatorId), std::string::npos) << "served unaudited: " << r.body;
  }
  EXPECT_GE(sink_.refused(), 4);
  EXPECT_EQ(RecordsWithAction(audit::action::kObjectServed), 0u);

  sink_.Heal();  // the trail is back: reads are served again
  EXPECT_EQ(Do("GET", ObjectsPath()).status, 200);
}

TEST_F(FaultTest, ReadAnswersTheStoreFailureAsAnErrorObject) {
  StoreOneIndicator();
  store_.Fail(StoreOp::kQueryObjects, Unavailable("database is locked"), 1);
  Response r = Do("GET", ObjectsPath());
  EXPECT_FALSE(ErrorIdOf(r, 503).empty());  // Unavailable keeps its 503 through the read path
  EXPECT_EQ(r.body.find(kIndicatorId), std::string::npos);
  EXPECT_EQ(Do("GET", ObjectsPath()).status, 200) << "a one-shot fault heals itself";
}

TEST_F(FaultTest, InternalStoreFailureKeepsItsDetailOutOfTheResponse) {
  store_.Fail(StoreOp::kQueryObjects, Internal("sqlite: disk I/O error at page 7"));
  Response r = Do("GET", ObjectsPath());
  ErrorIdOf(r, 500);
  EXPECT_EQ(r.body.find("page 7"), std::string::npos) << r.body;
  EXPECT_NE(r.internal_detail.find("page 7"), std::string::npos);
}

TEST_F(FaultTest, WriteReportsFailureWhenTheStatusCannotBeCreated) {
  store_.Fail(StoreOp::kCreateStatus, Unavailable("disk full"));
  Response r = Do("POST", ObjectsPath(), Envelope());
  EXPECT_EQ(ErrorIdOf(r, 503), "store_error");
  EXPECT_EQ(store_.calls(StoreOp::kWriteObjects), 0) << "nothing may be written without a status";
  EXPECT_EQ(r.objects_accepted, 0);
}

TEST_F(FaultTest, FailedDurableWriteIsNeitherCountedNorAuditedAsWritten) {
  store_.Fail(StoreOp::kWriteObjects, Unavailable("store_closing", "the store is shutting down"));
  ASSERT_EQ(Do("POST", ObjectsPath(), Envelope()).status, 202);
  service_->WaitForWrites();
  EXPECT_EQ(store_.calls(StoreOp::kWriteObjects), 1);
  EXPECT_EQ(service_->objects_written(), 0);
  EXPECT_EQ(RecordsWithAction(audit::action::kObjectWritten), 0u);
  Response r = Do("GET", ObjectsPath());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(kIndicatorId), std::string::npos);
}

// Before: the status of a write the store failed to commit read "pending" for
// as long as the hub ran.
TEST_F(FaultTest, FailedDurableWriteFinishesItsStatusAsFailedWithAReason) {
  store_.Fail(StoreOp::kWriteObjects, Unavailable("store_closing", "the store is shutting down"));
  Response posted = Do("POST", ObjectsPath(), Envelope());
  ASSERT_EQ(posted.status, 202) << posted.body;
  json::JsonParser parser;
  auto accepted = parser.Parse(posted.body);
  ASSERT_TRUE(accepted.ok());
  std::string_view status_id;
  ASSERT_EQ((*accepted)["id"].get_string().get(status_id), simdjson::SUCCESS);
  const std::string status_path = "/api1/status/" + std::string(status_id) + "/";
  service_->WaitForWrites();

  Response r = Do("GET", status_path);
  ASSERT_EQ(r.status, 200) << r.body;
  auto st = parser.Parse(r.body);
  ASSERT_TRUE(st.ok());
  std::string_view state, message;
  int64_t failures = 0, pendings = -1;
  ASSERT_EQ((*st)["status"].get_string().get(state), simdjson::SUCCESS);
  EXPECT_EQ(state, "complete");
  ASSERT_EQ((*st)["failure_count"].get_int64().get(failures), simdjson::SUCCESS);
  EXPECT_EQ(failures, 1);
  ASSERT_EQ((*st)["pending_count"].get_int64().get(pendings), simdjson::SUCCESS);
  EXPECT_EQ(pendings, 0);
  ASSERT_EQ((*st)["failures"].at(0)["message"].get_string().get(message), simdjson::SUCCESS);
  EXPECT_NE(message.find("store_closing"), std::string_view::npos) << message;
  EXPECT_EQ(message.find("shutting down"), std::string_view::npos) << "store detail leaked";
}

}  // namespace
}  // namespace ctihub::taxii
