// Tests of the TAXII resources over the in-memory store (no sockets).
#include <gtest/gtest.h>

#include <set>

#include "core/json.h"
#include "core/uuid.h"
#include "store/testing/memory_store.h"
#include "taxii/taxii.h"

namespace ctihub::taxii {
namespace {

std::string Indicator(const std::string& uuid, const std::string& modified,
                      const std::string& pattern = "[ipv4-addr:value = '198.51.100.1']") {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--)" + uuid +
         R"(","created":"2024-01-01T00:00:00.000Z","modified":")" + modified +
         R"(","name":"bad ip","pattern":")" + pattern +
         R"(","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","indicator_types":["malicious-activity"]})";
}

std::string Envelope(const std::vector<std::string>& objects) {
  std::string s = R"({"objects":[)";
  for (size_t i = 0; i < objects.size(); ++i) s += (i ? "," : "") + objects[i];
  return s + "]}";
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.PutApiRoot({"api1", "API 1", "first root", 1 << 20}).ok());
    ASSERT_TRUE(store_.PutApiRoot({"tiny", "Tiny", "", 200}).ok());
    auto add = [&](std::string id, std::string root, std::vector<std::string> r,
                   std::vector<std::string> w) {
      store::Collection c;
      c.id = id;
      c.api_root = root;
      c.title = id;
      c.readers = r;
      c.writers = w;
      ASSERT_TRUE(store_.AddCollection(c).ok());
    };
    add(kRw, "api1", {"org:acme"}, {"org:acme"});
    add(kRo, "api1", {"org:acme"}, {});
    add(kWo, "api1", {}, {"org:acme"});
    add(kHidden, "api1", {"org:other"}, {"org:other"});
    add(kTiny, "tiny", {"org:acme"}, {"org:acme"});
    service_ =
        std::make_unique<Service>(store_, Authenticate, ServiceOptions{}, WithoutPolicyForTest());
  }

  static Result<auth::Principal> Authenticate(std::string_view h) {
    auth::Principal p;
    p.org = "acme";
    p.org_id = 1;
    if (h == "Bearer alice") {
      p.user = "alice";
      p.user_id = 10;
      p.role = store::Role::kPublisher;
      return p;
    }
    if (h == "Bearer bob") {
      p.user = "bob";
      p.user_id = 11;
      p.role = store::Role::kPublisher;
      return p;
    }
    return Unauthenticated("no");
  }

  Response Do(std::string method, std::string target, std::string body = "",
              std::string who = "alice", std::string accept = "application/taxii+json;version=2.1",
              std::string content_type = "application/taxii+json;version=2.1") {
    Request r;
    r.method = method;
    r.target = target;
    r.host = "hub.example:8443";
    r.accept = accept;
    r.content_type = content_type;
    r.authorization = who.empty() ? "" : "Bearer " + who;
    r.body = body;
    return service_->Handle(r);
  }

  json::Element Parse(const Response& r) {
    auto e = parser_.Parse(r.body);
    EXPECT_TRUE(e.ok()) << r.body;
    return e.ok() ? *e : json::Element();
  }

  void ExpectError(const Response& r, int status) {
    EXPECT_EQ(r.status, status) << r.body;
    auto e = parser_.Parse(r.body);
    ASSERT_TRUE(e.ok()) << r.body;
    std::string_view title, http_status;
    EXPECT_EQ((*e)["title"].get_string().get(title), simdjson::SUCCESS) << r.body;
    EXPECT_EQ((*e)["http_status"].get_string().get(http_status), simdjson::SUCCESS);
    EXPECT_EQ(http_status, std::to_string(status));
    EXPECT_EQ(r.content_type, kTaxiiMediaType);
  }

  // POSTs and waits for the durable write; returns the final status resource JSON.
  std::string PostAndWait(const std::string& col, const std::vector<std::string>& objs) {
    Response r = Do("POST", "/api1/collections/" + col + "/objects/", Envelope(objs));
    EXPECT_EQ(r.status, 202) << r.body;
    service_->WaitForWrites();
    std::string id(Parse(r)["id"].get_string().value_unsafe());
    Response s = Do("GET", "/api1/status/" + id + "/");
    EXPECT_EQ(s.status, 200);
    return s.body;
  }

  std::vector<std::string> Ids(const Response& r) {
    std::vector<std::string> out;
    json::Element e = Parse(r);
    json::Array arr;
    if (e["objects"].get_array().get(arr) != simdjson::SUCCESS) return out;
    for (json::Element o : arr) out.emplace_back(o["id"].get_string().value_unsafe());
    return out;
  }

  static constexpr const char* kRw = "11111111-1111-4111-8111-111111111111";
  static constexpr const char* kRo = "22222222-2222-4222-8222-222222222222";
  static constexpr const char* kWo = "33333333-3333-4333-8333-333333333333";
  static constexpr const char* kHidden = "44444444-4444-4444-8444-444444444444";
  static constexpr const char* kTiny = "55555555-5555-4555-8555-555555555555";
  store::MemoryStore store_;
  std::unique_ptr<Service> service_;
  json::JsonParser parser_;
};

TEST_F(ServiceTest, AuthenticationRequired) {
  Response r = Do("GET", "/taxii2/", "", "");
  ExpectError(r, 401);
  bool www = false;
  for (auto& [k, v] : r.headers) www |= k == "WWW-Authenticate";
  EXPECT_TRUE(www);
  ExpectError(Do("GET", "/taxii2/", "", "mallory"), 401);
}

// Regression (issue 12 item 15): a Service built with a default AccessControl
// (no policy, not marked as a test) served every object the ACL let through.
TEST_F(ServiceTest, WithoutPolicyServesNothing) {
  PostAndWait(kRw, {Indicator("aaaaaaaa-0000-4000-8000-000000000001", "2024-01-02T00:00:00.000Z")});
  service_ = std::make_unique<Service>(store_, Authenticate);
  for (const char* target :
       {"/api1/collections/", "/api1/collections/%s/objects/", "/api1/collections/%s/manifest/"}) {
    std::string t = target;
    if (auto at = t.find("%s"); at != std::string::npos) t.replace(at, 2, kRw);
    Response r = Do("GET", t);
    ExpectError(r, 503);
    EXPECT_NE(r.body.find("policy_unavailable"), std::string::npos) << r.body;
  }
  ExpectError(
      Do("POST", std::string("/api1/collections/") + kRw + "/objects/",
         Envelope({Indicator("aaaaaaaa-0000-4000-8000-000000000002", "2024-01-02T00:00:00.000Z")})),
      503);
}

TEST_F(ServiceTest, Discovery) {
  Response r = Do("GET", "/taxii2/");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, kTaxiiMediaType);
  json::Element e = Parse(r);
  EXPECT_EQ(e["default"].get_string().value_unsafe(), "http://hub.example:8443/api1/");
  EXPECT_EQ(e["api_roots"].get_array().value_unsafe().size(), 2u);
  ExpectError(Do("POST", "/taxii2/"), 405);
}

TEST_F(ServiceTest, ContentNegotiation) {
  EXPECT_EQ(Do("GET", "/taxii2/", "", "alice", "application/taxii+json").status, 200);
  EXPECT_EQ(Do("GET", "/taxii2/", "", "alice", "*/*").status, 200);
  ExpectError(Do("GET", "/taxii2/", "", "alice", "application/json"), 406);
  ExpectError(Do("GET", "/taxii2/", "", "alice", "application/taxii+json;version=2.0"), 406);
  ExpectError(Do("POST", std::string("/api1/collections/") + kRw + "/objects/", Envelope({}),
                 "alice", "application/taxii+json;version=2.1", "application/json"),
              415);
}

TEST_F(ServiceTest, ApiRootAndCollections) {
  Response r = Do("GET", "/api1/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Parse(r)["max_content_length"].get_int64().value_unsafe(), 1 << 20);
  ExpectError(Do("GET", "/nope/"), 404);
  Response cols = Do("GET", "/api1/collections/");
  ASSERT_EQ(cols.status, 200);
  json::Array arr = Parse(cols)["collections"].get_array().value_unsafe();
  std::set<std::string> seen;
  for (json::Element c : arr) {
    std::string id(c["id"].get_string().value_unsafe());
    seen.insert(id);
    bool can_read = c["can_read"].get_bool().value_unsafe();
    bool can_write = c["can_write"].get_bool().value_unsafe();
    if (id == kRo) {
      EXPECT_TRUE(can_read && !can_write);
    }
    if (id == kWo) {
      EXPECT_TRUE(!can_read && can_write);
    }
    if (id == kRw) {
      EXPECT_TRUE(can_read && can_write);
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{kRw, kRo, kWo}));
  EXPECT_EQ(Do("GET", std::string("/api1/collections/") + kRw + "/").status, 200);
  ExpectError(Do("GET", std::string("/api1/collections/") + kHidden + "/"), 404);
  ExpectError(Do("GET", "/api1/collections/unknown/objects/"), 404);
  ExpectError(Do("GET", std::string("/tiny/collections/") + kRw + "/"), 404);
}

TEST_F(ServiceTest, PostGetAndStatus) {
  std::string col = kRw;
  Response r =
      Do("POST", "/api1/collections/" + col + "/objects/",
         Envelope({Indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2024-01-02T00:00:00.000Z"),
                   R"({"type":"indicator","id":"indicator--x"})", "42"}));
  ASSERT_EQ(r.status, 202) << r.body;
  json::Element st = Parse(r);
  EXPECT_EQ(st["total_count"].get_int64().value_unsafe(), 3);
  EXPECT_EQ(st["failure_count"].get_int64().value_unsafe(), 2);
  EXPECT_EQ(r.objects_accepted, 1);
  std::string status_id(st["id"].get_string().value_unsafe());
  service_->WaitForWrites();
  Response s = Do("GET", "/api1/status/" + status_id + "/");
  ASSERT_EQ(s.status, 200);
  json::Element done = Parse(s);
  EXPECT_EQ(done["status"].get_string().value_unsafe(), "complete");
  EXPECT_EQ(done["success_count"].get_int64().value_unsafe(), 1);
  // Only the requester sees the status.
  ExpectError(Do("GET", "/api1/status/" + status_id + "/", "", "bob"), 404);
  ExpectError(Do("GET", "/api1/status/no-such/"), 404);

  Response g = Do("GET", "/api1/collections/" + col + "/objects/");
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(Ids(g), std::vector<std::string>{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"});
  bool first = false, last = false;
  for (auto& [k, v] : g.headers) {
    first |= k == "X-TAXII-Date-Added-First";
    last |= k == "X-TAXII-Date-Added-Last";
  }
  EXPECT_TRUE(first && last);
  EXPECT_FALSE(Parse(g)["more"].get_bool().value_unsafe());
}

TEST_F(ServiceTest, PendingUntilDurable) {
  store_.HoldWritesForTest(true);
  Response r =
      Do("POST", std::string("/api1/collections/") + kRw + "/objects/",
         Envelope({Indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2024-01-02T00:00:00.000Z")}));
  ASSERT_EQ(r.status, 202);
  std::string id(Parse(r)["id"].get_string().value_unsafe());
  Response s = Do("GET", "/api1/status/" + id + "/");
  EXPECT_EQ(Parse(s)["status"].get_string().value_unsafe(), "pending");
  EXPECT_EQ(Parse(s)["pending_count"].get_int64().value_unsafe(), 1);
  store_.HoldWritesForTest(false);
  service_->WaitForWrites();
  EXPECT_EQ(Parse(Do("GET", "/api1/status/" + id + "/"))["status"].get_string().value_unsafe(),
            "complete");
}

TEST_F(ServiceTest, RepostIsSuccessWithoutNewVersion) {
  std::string obj = Indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2024-01-02T00:00:00.000Z");
  PostAndWait(kRw, {obj});
  std::string second = PostAndWait(kRw, {obj, obj});
  auto e = parser_.Parse(second);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["success_count"].get_int64().value_unsafe(), 2);
  EXPECT_EQ((*e)["failure_count"].get_int64().value_unsafe(), 0);
  EXPECT_EQ(store_.CountObjects().value(), 1);
}

TEST_F(ServiceTest, VersionsFiltersAndPaging) {
  std::string a = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  std::string b = "9e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
  PostAndWait(kRw,
              {Indicator(a, "2024-01-02T00:00:00.000Z"), Indicator(a, "2024-01-03T00:00:00.000Z"),
               Indicator(b, "2024-01-02T00:00:00.000Z")});
  std::string base = std::string("/api1/collections/") + kRw;
  EXPECT_EQ(Ids(Do("GET", base + "/objects/")).size(), 2u);  // last versions
  EXPECT_EQ(Ids(Do("GET", base + "/objects/?match[version]=all")).size(), 3u);
  EXPECT_EQ(Ids(Do("GET", base + "/objects/?match[version]=first,last")).size(), 3u);
  EXPECT_EQ(Ids(Do("GET", base + "/objects/?match%5Bid%5D=indicator--" + b)).size(), 1u);
  EXPECT_EQ(Ids(Do("GET", base + "/objects/?match[type]=malware")).size(), 0u);
  EXPECT_EQ(Ids(Do("GET", base + "/objects/?match[version]=2024-01-02T00:00:00.000Z")).size(), 2u);
  EXPECT_EQ(Ids(Do("GET", base + "/objects/?match[spec_version]=2.0")).size(), 0u);

  // Paging: limit=1 walks every version exactly once.
  std::vector<std::string> seen;
  std::string next;
  for (int i = 0; i < 10; ++i) {
    Response p = Do("GET", base + "/objects/?match[version]=all&limit=1" +
                               (next.empty() ? "" : "&next=" + next));
    ASSERT_EQ(p.status, 200) << p.body;
    auto ids = Ids(p);
    seen.insert(seen.end(), ids.begin(), ids.end());
    json::Element e = Parse(p);
    if (!e["more"].get_bool().value_unsafe()) break;
    next = std::string(e["next"].get_string().value_unsafe());
  }
  EXPECT_EQ(seen.size(), 3u);

  // One object, its versions, the manifest.
  Response one = Do("GET", base + "/objects/indicator--" + a + "/?match[version]=all");
  EXPECT_EQ(Ids(one).size(), 2u);
  Response vers = Do("GET", base + "/objects/indicator--" + a + "/versions/");
  ASSERT_EQ(vers.status, 200);
  EXPECT_EQ(Parse(vers)["versions"].get_array().value_unsafe().size(), 2u);
  Response man = Do("GET", base + "/manifest/");
  ASSERT_EQ(man.status, 200);
  json::Array entries = Parse(man)["objects"].get_array().value_unsafe();
  EXPECT_EQ(entries.size(), 2u);
  for (json::Element m : entries) {
    EXPECT_EQ(m["media_type"].get_string().value_unsafe(), kStixMediaType);
  }
  ExpectError(Do("GET", base + "/objects/indicator--00000000-17d4-4cbf-938f-98ee46b3cd3f/"), 404);
  ExpectError(
      Do("GET", base + "/objects/indicator--00000000-17d4-4cbf-938f-98ee46b3cd3f/versions/"), 404);

  // Delete the first version, then the rest.
  Response del = Do("DELETE", base + "/objects/indicator--" + a + "/?match[version]=first");
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(Parse(Do("GET", base + "/objects/indicator--" + a + "/versions/"))["versions"]
                .get_array()
                .value_unsafe()
                .size(),
            1u);
  EXPECT_EQ(Do("DELETE", base + "/objects/indicator--" + a + "/?match[version]=all").status, 200);
  ExpectError(Do("DELETE", base + "/objects/indicator--" + a + "/"), 404);
}

TEST_F(ServiceTest, BadFiltersAndTokens) {
  std::string base = std::string("/api1/collections/") + kRw + "/objects/";
  ExpectError(Do("GET", base + "?limit=0"), 400);
  ExpectError(Do("GET", base + "?added_after=yesterday"), 400);
  ExpectError(Do("GET", base + "?next=garbage"), 400);
  ExpectError(Do("GET", base + "?match[version]=newest"), 400);
  ExpectError(Do("GET", "/api1/collections/%zz/"), 400);
  EXPECT_EQ(Do("GET", base + "?unknown=1").status, 200);
}

// The TAXII error object of a rejection: its name from the Status, its message whole.
struct ErrorObject {
  std::string error_id, error_code, description;
};

ErrorObject ErrorObjectOf(const Response& r) {
  json::JsonParser parser;
  auto e = parser.Parse(r.body);
  EXPECT_TRUE(e.ok()) << r.body;
  if (!e.ok()) return {};
  auto text = [&](const char* key) {
    std::string_view v;
    return (*e)[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : "<absent>";
  };
  return {text("error_id"), text("error_code"), text("description")};
}

// Issue 12 item 17: the name travels beside the message, never inside it.
TEST(ErrorResponseTest, NamedRejectionGivesItsNameAndAPlainDescription) {
  Response r =
      ErrorResponse(InvalidArgument("bad_filter", "limit: must be positive"), "store_error");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error_id, "bad_filter");
  ErrorObject e = ErrorObjectOf(r);
  EXPECT_EQ(e.error_id, "bad_filter");
  EXPECT_EQ(e.error_code, "bad_filter");
  EXPECT_EQ(e.description, "limit: must be positive");
}

// Before, a lower-case word before ": " was taken for a name: "value" became
// the error_code and the description lost it.
TEST(ErrorResponseTest, UnnamedMessageThatLooksNamedKeepsItsTextAndTheFallbackName) {
  Response r = ErrorResponse(InvalidArgument("value: must be a positive integer"), "bad_filter");
  EXPECT_EQ(r.error_id, "bad_filter");
  ErrorObject e = ErrorObjectOf(r);
  EXPECT_EQ(e.error_code, "bad_filter");
  EXPECT_EQ(e.description, "value: must be a positive integer");
}

TEST(ErrorResponseTest, InternalKeepsItsNameAndItsDetailOutOfTheBody) {
  Response r = ErrorResponse(Internal("store_corrupt", "page 7 checksum"), "store_error");
  EXPECT_EQ(r.status, 500);
  ErrorObject e = ErrorObjectOf(r);
  EXPECT_EQ(e.error_code, "store_corrupt");
  EXPECT_EQ(e.description, "internal error");
  EXPECT_EQ(r.body.find("page 7"), std::string::npos) << r.body;
  EXPECT_EQ(r.internal_detail, "store_corrupt: page 7 checksum");
}

TEST_F(ServiceTest, BadFilterNamesItselfOnceInTheErrorObject) {
  Response r = Do("GET", std::string("/api1/collections/") + kRw + "/objects/?limit=0");
  ErrorObject e = ErrorObjectOf(r);
  EXPECT_EQ(e.error_code, "bad_filter");
  EXPECT_EQ(e.description.rfind("limit: ", 0), 0u) << e.description;
}

TEST_F(ServiceTest, AccessDecisions) {
  std::string obj = Indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2024-01-02T00:00:00.000Z");
  ExpectError(Do("POST", std::string("/api1/collections/") + kRo + "/objects/", Envelope({obj})),
              403);
  ExpectError(Do("GET", std::string("/api1/collections/") + kWo + "/objects/"), 403);
  ExpectError(Do("GET", std::string("/api1/collections/") + kWo + "/manifest/"), 403);
  EXPECT_EQ(
      Do("POST", std::string("/api1/collections/") + kWo + "/objects/", Envelope({obj})).status,
      202);
  ExpectError(
      Do("POST", std::string("/api1/collections/") + kHidden + "/objects/", Envelope({obj})), 404);
}

TEST_F(ServiceTest, EnvelopeLimitsAndBadJson) {
  std::string base = std::string("/api1/collections/") + kRw + "/objects/";
  ExpectError(Do("POST", base, "{not json"), 400);
  ExpectError(Do("POST", base, "[1,2]"), 400);
  ExpectError(Do("POST", base, R"({"objects":{}})"), 400);
  std::string obj = Indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2024-01-02T00:00:00.000Z");
  ExpectError(Do("POST", std::string("/tiny/collections/") + kTiny + "/objects/", Envelope({obj})),
              413);
  ExpectError(Do("PUT", base, Envelope({obj})), 405);
}

TEST_F(ServiceTest, InvalidPatternIsAFailure) {
  std::string obj = Indicator("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "2024-01-02T00:00:00.000Z",
                              "[ipv4-addr:value = ");
  Response r = Do("POST", std::string("/api1/collections/") + kRw + "/objects/", Envelope({obj}));
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(Parse(r)["failure_count"].get_int64().value_unsafe(), 1) << r.body;
}

// Pins the order in which the dispatcher answers (target, collection and
// object checks before the method, the method before access), the route name
// of each answer and its Allow header, for every resource of the route table.
TEST_F(ServiceTest, RouteTableDispatchOrder) {
  struct Case {
    std::string method, target;
    int status;
    std::string error_id, route, allow;
    std::string accept = "application/taxii+json;version=2.1";
  };
  const std::string rw = std::string("/api1/collections/") + kRw;
  const std::string ro = std::string("/api1/collections/") + kRo;
  const std::string wo = std::string("/api1/collections/") + kWo;
  const std::string hidden = std::string("/api1/collections/") + kHidden;
  const std::string obj = "/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/";
  const std::vector<Case> cases = {
      {"GET", "/taxii2/", 200, "", "discovery", ""},
      {"HEAD", "/taxii2/", 200, "", "discovery", ""},
      {"PUT", "/taxii2/", 405, "method_not_allowed", "discovery", "GET, HEAD"},
      {"GET", "/", 404, "not_found", "unknown", ""},
      {"GET", "/nope/", 404, "unknown_api_root", "unknown", ""},
      {"GET", "/nope/collections/x/objects/", 404, "unknown_api_root", "unknown", ""},
      {"GET", "/taxii2/x/", 404, "unknown_api_root", "unknown", ""},
      {"GET", "/api1/", 200, "", "api_root", ""},
      {"DELETE", "/api1/", 405, "method_not_allowed", "api_root", "GET, HEAD"},
      {"GET", "/api1/status/", 404, "not_found", "unknown", ""},
      {"GET", "/api1/status/abc/", 404, "unknown_status", "unknown", ""},
      {"POST", "/api1/status/abc/", 405, "method_not_allowed", "status", "GET, HEAD"},
      {"GET", "/api1/status/a/b/", 404, "not_found", "unknown", ""},
      {"GET", "/api1/other/", 404, "not_found", "unknown", ""},
      {"GET", "/api1/collections/", 200, "", "collections", ""},
      {"POST", "/api1/collections/", 405, "method_not_allowed", "collections", "GET, HEAD"},
      {"GET", "/api1/collections/unknown/", 404, "unknown_collection", "unknown", ""},
      {"PUT", "/api1/collections/unknown/", 404, "unknown_collection", "unknown", ""},
      {"GET", "/api1/collections/unknown/bogus/", 404, "unknown_collection", "unknown", ""},
      {"GET", hidden + "/objects/", 404, "unknown_collection", "unknown", ""},
      {"GET", rw + "/", 200, "", "collection", ""},
      {"GET", rw + "/bogus/", 404, "not_found", "unknown", ""},
      {"POST", rw + "/", 405, "method_not_allowed", "collection", "GET, HEAD"},
      {"GET", rw + "/manifest/", 200, "", "manifest", ""},
      {"POST", rw + "/manifest/", 405, "method_not_allowed", "manifest", "GET, HEAD"},
      {"GET", rw + "/manifest/x/", 404, "not_found", "unknown", ""},
      {"GET", wo + "/manifest/", 403, "read_forbidden", "manifest", ""},
      {"GET", rw + "/objects/", 200, "", "objects", ""},
      {"GET", rw + "/objects/?limit=0", 400, "bad_filter", "unknown", ""},
      {"PUT", rw + "/objects/", 405, "method_not_allowed", "objects", "GET, HEAD, POST"},
      {"GET", wo + "/objects/", 403, "read_forbidden", "objects", ""},
      {"POST", ro + "/objects/", 403, "write_forbidden", "objects_post", ""},
      {"GET", rw + "/objects/notanid/", 404, "unknown_object", "unknown", ""},
      {"PUT", rw + "/objects/notanid/", 404, "unknown_object", "unknown", ""},
      {"GET", rw + "/objects/notanid/versions/", 404, "unknown_object", "unknown", ""},
      {"GET", rw + obj, 404, "unknown_object", "unknown", ""},
      {"PUT", rw + obj, 405, "method_not_allowed", "object", "GET, HEAD, DELETE"},
      {"GET", wo + obj, 403, "read_forbidden", "object", ""},
      {"DELETE", rw + obj, 404, "unknown_object", "unknown", ""},
      {"DELETE", ro + obj, 403, "write_forbidden", "object_delete", ""},
      {"DELETE", wo + obj, 403, "read_forbidden", "object_delete", ""},
      {"GET", rw + obj + "versions/", 404, "unknown_object", "unknown", ""},
      {"POST", rw + obj + "versions/", 405, "method_not_allowed", "versions", "GET, HEAD"},
      {"GET", wo + obj + "versions/", 403, "read_forbidden", "versions", ""},
      {"GET", rw + obj + "foo/", 404, "not_found", "unknown", ""},
      {"GET", rw + obj + "versions/extra/", 404, "not_found", "unknown", ""},
      {"GET", "/api/v1/audit", 403, "audit_forbidden", "audit", ""},
      {"GET", "/api/v1/audit", 403, "audit_forbidden", "audit", "", "application/json"},
      {"POST", "/api/v1/audit", 405, "method_not_allowed", "audit", "GET, HEAD"},
      {"GET", "/api/v1/other/", 404, "unknown_api_root", "unknown", ""},
      {"GET", "/nope/", 406, "not_acceptable", "unknown", "", "application/json"},
      {"PUT", rw + obj, 406, "not_acceptable", "unknown", "", "application/json"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    Response r = Do(c.method, c.target, "", "alice", c.accept);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.error_id, c.error_id);
    EXPECT_EQ(r.route, c.route);
    EXPECT_EQ(r.user, "alice");
    std::string allow;
    for (const auto& [k, v] : r.headers) {
      if (k == "Allow") allow = v;
    }
    EXPECT_EQ(allow, c.allow);
  }
  Response bad_target = Do("GET", "/taxii2/%zz/", "", "");
  EXPECT_EQ(bad_target.status, 400);
  EXPECT_EQ(bad_target.user, "");
}

}  // namespace
}  // namespace ctihub::taxii
