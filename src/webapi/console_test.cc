// Tests of the console front over the in-memory store, a real policy (a temp
// DATA dir) and the real Authenticator: sessions, CSRF, headers, the
// embedded fixture UI (testdata/ui, embedded by CMake into this binary) and
// search through the read gate.
#include "webapi/console.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "audit/testing/failing_sink.h"
#include "auth/auth.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/tlp.h"
#include "policy/policy_holder.h"
#include "store/testing/fault_injecting_store.h"
#include "store/testing/memory_store.h"
#include "taxii/access.h"
#include "taxii/taxii.h"
#include "webapi/console_internal.h"
#include "webapi/embedded.h"

namespace ctihub::webapi {
namespace {

namespace fs = std::filesystem;
using taxii::Request;
using taxii::Response;

constexpr int64_t kSecond = 1000000;
constexpr const char* kAcme = "identity--00000000-0000-4000-8000-00000000000a";
constexpr const char* kBeta = "identity--00000000-0000-4000-8000-00000000000b";
constexpr const char* kShared = "9b9d9c4e-0000-4000-8000-000000000001";
constexpr const char* kAcmeOnly = "9b9d9c4e-0000-4000-8000-000000000002";

std::string TlpId(std::string_view level) {
  for (const auto& m : tlp::FixedMarkings()) {
    if (m.tlp_version == 2 && m.level == level) return std::string(m.id);
  }
  return {};
}

std::string Header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("webapi_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "policy.toml") << "[defaults]\nunmarked_tlp = \"amber\"\n";
    ASSERT_TRUE(store_.AddOrganisation({0, "acme", kAcme}).ok());
    ASSERT_TRUE(store_.AddOrganisation({0, "beta", kBeta}).ok());
    AddUser("alice", "acme", store::Role::kPublisher);
    AddUser("bob", "beta", store::Role::kReader);
    AddUser("audrey", "acme", store::Role::kAuditor);
    ASSERT_TRUE(store_.PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    AddCollection(kShared, "Shared", {"org:*"});
    AddCollection(kAcmeOnly, "Acme only", {"org:acme"});
    auto holder = policy::PolicyHolder::Open(dir_.string(), std::chrono::milliseconds(0),
                                             [this] { return KnownOrgs(); });
    ASSERT_TRUE(holder.ok()) << holder.status().NamedMessage();
    policy_ = std::move(holder).value();
    access_.policy = policy_.get();
    access_.audit = &audit_;
    access_.data_dir = dir_.string();
    authenticator_ = std::make_unique<auth::Authenticator>(store_);
    auto authenticate = [this](std::string_view h) { return authenticator_->Authenticate(h); };
    service_ =
        std::make_unique<taxii::Service>(store_, authenticate, taxii::ServiceOptions{}, access_);
    MakeConsole(options_);
  }

  void TearDown() override {
    console_.reset();
    service_.reset();
    fs::remove_all(dir_);
  }

  void MakeConsole(ConsoleOptions o) {
    o.sessions.now_us = [this] { return now_; };
    o.sessions.idle_s = 60;
    o.sessions.max_s = 300;
    if (o.ui.empty() && use_fixture_ui_) o.ui = EmbeddedUi();
    console_ = std::make_unique<Console>(
        store_, *service_, [this](std::string_view h) { return authenticator_->Authenticate(h); },
        access_, o);
  }

  // The store's organisations, as `ctihub serve` gives them to the policy holder.
  Result<std::vector<policy::KnownOrg>> KnownOrgs() {
    CTIHUB_ASSIGN_OR_RETURN(auto orgs, store_.ListOrganisations());
    std::vector<policy::KnownOrg> known;
    known.reserve(orgs.size());
    for (const auto& o : orgs) known.push_back({o.name, o.identity_id});
    return known;
  }

  void AddUser(const std::string& name, const std::string& org, store::Role role) {
    store::User u;
    u.name = name;
    u.org_id = store_.GetOrganisation(org)->id;
    u.role = role;
    u.password_hash = auth::HashPassword("pw-" + name);
    ASSERT_TRUE(store_.AddUser(u).ok());
  }

  void AddCollection(const std::string& id, const std::string& title,
                     const std::vector<std::string>& readers) {
    store::Collection c;
    c.id = id;
    c.api_root = "api1";
    c.title = title;
    c.readers = readers;
    c.writers = {"org:acme"};
    ASSERT_TRUE(store_.AddCollection(c).ok());
  }

  // Writes `json` as `user` would through TAXII: the producer rules and the
  // access facts come from the real write path (taxii::PrepareWrite).
  void Publish(const std::string& collection, const std::string& user, const std::string& text) {
    json::JsonParser parser;
    auto doc = parser.Parse(text);
    ASSERT_TRUE(doc.ok()) << text;
    auto principal = auth::PrincipalOf(*store_.GetUser(user));
    auto pol = policy_->Current();
    store::NewObject o;
    o.id = std::string(std::string_view((*doc)["id"].get_string().value()));
    o.type = std::string(std::string_view((*doc)["type"].get_string().value()));
    o.spec_version = "2.1";
    o.version = *Timestamp::Parse(std::string_view((*doc)["modified"].get_string().value()));
    o.has_version = true;
    o.json = json::CanonicalJson(*doc);
    Status st =
        taxii::PrepareWrite(pol.get(), principal, taxii::WriterIdentity(pol.get(), principal), *doc,
                            o, Timestamp::Now());
    ASSERT_TRUE(st.ok()) << st.NamedMessage();
    auto written = store_.WriteObjects(collection, {o}, "").get();
    ASSERT_TRUE(written.ok());
  }

  static std::string Indicator(int n, const std::string& name, const std::string& producer,
                               const std::string& tlp, const std::string& value) {
    char uuid[64];
    std::snprintf(uuid, sizeof uuid, "11111111-0000-4000-8000-%012d", n);
    std::string marking = tlp.empty() ? "" : R"(,"object_marking_refs":[")" + TlpId(tlp) + "\"]";
    return R"({"type":"indicator","spec_version":"2.1","id":"indicator--)" + std::string(uuid) +
           R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z","name":")" +
           name + R"(","description":"seen near the border","created_by_ref":")" + producer +
           R"(","pattern":"[domain-name:value = ')" + value +
           R"(']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z")" + marking + "}";
  }

  Request Req(std::string method, std::string target, std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.host = "hub.example:8443";
    r.remote = "192.0.2.10:5555";
    r.body = std::move(body);
    if (!r.body.empty()) r.content_type = "application/json";
    return r;
  }

  Response Do(const Request& r) {
    auto out = console_->Handle(r);
    EXPECT_TRUE(out.has_value()) << r.target;
    return out ? *out : Response{};
  }

  // Logs in; returns the cookie value and the CSRF token.
  std::pair<std::string, std::string> Login(const std::string& user) {
    Response r = Do(Req("POST", "/api/v1/session",
                        R"({"user":")" + user + R"(","password":"pw-)" + user + "\"}"));
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string set_cookie = Header(r, "Set-Cookie");
    const std::string cookie = set_cookie.substr(15, 64);
    json::JsonParser p;
    auto doc = p.Parse(r.body);
    if (!doc.ok()) return {};
    return {cookie, std::string(std::string_view((*doc)["csrf_token"].get_string().value()))};
  }

  Request WithSession(Request r, const std::string& cookie, const std::string& csrf = "") {
    r.cookie = "theme=dark; ctihub_session=" + cookie;
    r.csrf_token = csrf;
    return r;
  }

  fs::path dir_;
  store::MemoryStore store_;
  std::unique_ptr<policy::PolicyHolder> policy_;
  audit::FailingSink audit_;
  taxii::AccessControl access_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<taxii::Service> service_;
  ConsoleOptions options_;
  bool use_fixture_ui_ = true;
  int64_t now_ = int64_t{1800000000} * kSecond;
  std::unique_ptr<Console> console_;
};

// ---- sessions ----

TEST_F(ConsoleTest, LoginSetsAStrictHttpOnlyCookieAndAnswersTheSession) {
  Response r = Do(Req("POST", "/api/v1/session", R"({"user":"alice","password":"pw-alice"})"));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string cookie = Header(r, "Set-Cookie");
  EXPECT_EQ(cookie.substr(0, 15), "ctihub_session=");
  EXPECT_EQ(cookie.substr(79), "; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain HTTP
  EXPECT_NE(r.body.find(R"("user":{"name":"alice","org":"acme","role":"publisher"})"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("idle_timeout_s":60)"), std::string::npos);
  EXPECT_NE(r.body.find(R"("expires_at":"2027-01-15T08:05:00Z")"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("pw-alice"), std::string::npos);
  // GET /api/v1/session with the cookie: the same CSRF token.
  auto [value, csrf] = Login("alice");
  Response again = Do(WithSession(Req("GET", "/api/v1/session"), value));
  EXPECT_EQ(again.status, 200);
  EXPECT_NE(again.body.find(csrf), std::string::npos);
}

TEST_F(ConsoleTest, LoginUnderTlsMarksTheCookieSecureAndSendsHsts) {
  Request req = Req("POST", "/api/v1/session", R"({"user":"alice","password":"pw-alice"})");
  req.tls = true;
  Response r = Do(req);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(Header(r, "Set-Cookie").find("; Secure"), std::string::npos);
  EXPECT_EQ(Header(r, "Strict-Transport-Security"), "max-age=31536000");
}

TEST_F(ConsoleTest, BadCredentialsGetOneAnswerAndAreAudited) {
  Response wrong = Do(Req("POST", "/api/v1/session", R"({"user":"alice","password":"nope"})"));
  Response unknown = Do(Req("POST", "/api/v1/session", R"({"user":"mallory","password":"x"})"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(Header(wrong, "Set-Cookie"), "");
  EXPECT_EQ(Header(wrong, "WWW-Authenticate"), "");  // no browser password dialog
  int failed = 0;
  for (const auto& rec : audit_.records()) {
    if (rec.action == audit::action::kLoginFailed) {
      ++failed;
      EXPECT_TRUE(rec.user == "alice" || rec.user == "mallory");
      EXPECT_EQ(rec.details.find("nope"), std::string::npos);
    }
  }
  EXPECT_EQ(failed, 2);
}

TEST_F(ConsoleTest, LoginWithAnApiToken) {
  auto token = auth::CreateToken(store_, store_.GetUser("bob")->id, "console");
  ASSERT_TRUE(token.ok());
  Response r = Do(Req("POST", "/api/v1/session", R"({"token":")" + token->secret + "\"}"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"bob")"), std::string::npos);
  EXPECT_EQ(Do(Req("POST", "/api/v1/session", R"({"token":"wrong"})")).status, 401);
}

TEST_F(ConsoleTest, LoginRefusesOtherMediaTypesForeignOriginsAndBadBodies) {
  Request form = Req("POST", "/api/v1/session", "user=alice&password=pw-alice");
  form.content_type = "application/x-www-form-urlencoded";
  EXPECT_EQ(Do(form).status, 415);
  Request foreign = Req("POST", "/api/v1/session", R"({"user":"alice","password":"pw-alice"})");
  foreign.origin = "https://evil.example";
  Response r = Do(foreign);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_id, "bad_origin");
  foreign.origin = "http://hub.example:8443";
  EXPECT_EQ(Do(foreign).status, 200);
  for (const char* body : {"not json", "[]", R"({"user":"alice"})", R"({"user":1,"password":"x"})",
                           R"({"user":"a","password":"b","token":"c"})", "{}"}) {
    Response bad = Do(Req("POST", "/api/v1/session", body));
    EXPECT_EQ(bad.status, 400) << body;
    EXPECT_EQ(bad.error_id, "bad_request") << body;
  }
}

TEST_F(ConsoleTest, RepeatedFailedLoginsAreLimitedPerUserAndAddress) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Do(Req("POST", "/api/v1/session", R"({"user":"alice","password":"x"})")).status, 401);
  }
  Response r = Do(Req("POST", "/api/v1/session", R"({"user":"alice","password":"pw-alice"})"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.error_id, "too_many_logins");
  EXPECT_EQ(Header(r, "Retry-After"), "300");
  now_ += 300 * kSecond;
  EXPECT_EQ(Do(Req("POST", "/api/v1/session", R"({"user":"alice","password":"pw-alice"})")).status,
            200);
}

TEST_F(ConsoleTest, LogoutNeedsTheCsrfTokenAndEndsTheSession) {
  auto [cookie, csrf] = Login("alice");
  Response no_token = Do(WithSession(Req("DELETE", "/api/v1/session"), cookie));
  EXPECT_EQ(no_token.status, 403);
  EXPECT_EQ(no_token.error_id, "csrf");
  std::string wrong = csrf;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(Do(WithSession(Req("DELETE", "/api/v1/session"), cookie, wrong)).status, 403);
  Response out = Do(WithSession(Req("DELETE", "/api/v1/session"), cookie, csrf));
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(Header(out, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  Response after = Do(WithSession(Req("GET", "/api/v1/session"), cookie));
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.error_id, "unauthenticated");
}

TEST_F(ConsoleTest, StateChangingSessionRequestsNeedCsrfButScriptsDoNot) {
  auto [cookie, csrf] = Login("alice");
  Response r = Do(WithSession(Req("POST", "/api/v1/agreements", "{}"), cookie));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_id, "csrf");
  EXPECT_EQ(Do(WithSession(Req("POST", "/api/v1/agreements", "{}"), cookie, csrf)).status, 404);
  Request script = Req("POST", "/api/v1/agreements", "{}");
  script.authorization = "Basic " + std::string("YWxpY2U6cHctYWxpY2U=");  // alice:pw-alice
  EXPECT_EQ(Do(script).status, 404);  // authenticated, no CSRF needed; no such endpoint yet
}

TEST_F(ConsoleTest, IdleAndAbsoluteExpiryAnswerSessionExpired) {
  auto [cookie, csrf] = Login("alice");
  now_ += 61 * kSecond;
  Response idle = Do(WithSession(Req("GET", "/api/v1/search"), cookie));
  EXPECT_EQ(idle.status, 401);
  EXPECT_EQ(idle.error_id, "session_expired");
  auto [busy, csrf2] = Login("alice");
  for (int i = 0; i < 9; ++i) {
    now_ += 30 * kSecond;
    ASSERT_EQ(Do(WithSession(Req("GET", "/api/v1/session"), busy)).status, 200) << i;
  }
  now_ += 30 * kSecond;
  EXPECT_EQ(Do(WithSession(Req("GET", "/api/v1/session"), busy)).error_id, "session_expired");
}

TEST_F(ConsoleTest, SessionFollowsItsUser) {
  auto [cookie, csrf] = Login("bob");
  ASSERT_TRUE(store_.RemoveUser("bob").ok());
  EXPECT_EQ(Do(WithSession(Req("GET", "/api/v1/session"), cookie)).status, 401);
}

// Sessions in the store (PostgreSQL): two consoles over one store are two
// nodes behind a load balancer; a store that cannot answer gets 503, never a
// session.
TEST_F(ConsoleTest, StoreSessionsAreSharedByNodesAndFailClosed) {
  store::FaultInjectingStore sessions(store_);
  ConsoleOptions o;
  o.sessions.store = &sessions;
  MakeConsole(o);
  auto [cookie, csrf] = Login("alice");
  ASSERT_FALSE(cookie.empty());
  std::unique_ptr<Console> node_a = std::move(console_);
  MakeConsole(o);  // console_ is node b from here
  Response on_b = Do(WithSession(Req("GET", "/api/v1/session"), cookie));
  EXPECT_EQ(on_b.status, 200) << on_b.body;
  EXPECT_NE(on_b.body.find(csrf), std::string::npos);

  const Status down = Unavailable("db_unavailable", "the database is down");
  sessions.Fail(store::StoreOp::kGetSession, down);
  Response unavailable = Do(WithSession(Req("GET", "/api/v1/search"), cookie));
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.error_id, "session_unavailable");
  EXPECT_EQ(console_->BodyLimit(WithSession(Req("POST", "/api/v1/import"), cookie)), 0u);
  sessions.Heal(store::StoreOp::kGetSession);

  sessions.Fail(store::StoreOp::kPutSession, down);
  Response no_login = Do(Req("POST", "/api/v1/session", R"({"user":"bob","password":"pw-bob"})"));
  EXPECT_EQ(no_login.status, 503);
  EXPECT_TRUE(Header(no_login, "Set-Cookie").empty());
  sessions.Heal(store::StoreOp::kPutSession);

  sessions.Fail(store::StoreOp::kDeleteSession, down);
  Response no_logout = Do(WithSession(Req("DELETE", "/api/v1/session"), cookie, csrf));
  EXPECT_EQ(no_logout.status, 503);
  EXPECT_TRUE(Header(no_logout, "Set-Cookie").empty());
  sessions.Heal(store::StoreOp::kDeleteSession);
  EXPECT_EQ(Do(WithSession(Req("GET", "/api/v1/session"), cookie)).status, 200);

  // Logged out through node b: node a no longer knows the session.
  EXPECT_EQ(Do(WithSession(Req("DELETE", "/api/v1/session"), cookie, csrf)).status, 204);
  auto on_a = node_a->Handle(WithSession(Req("GET", "/api/v1/session"), cookie));
  ASSERT_TRUE(on_a.has_value());
  EXPECT_EQ(on_a->status, 401);
  EXPECT_EQ(on_a->error_id, "unauthenticated");
}

TEST_F(ConsoleTest, MissingOrForgedCookieIsUnauthenticated) {
  EXPECT_EQ(Do(Req("GET", "/api/v1/search")).error_id, "unauthenticated");
  Request forged = Req("GET", "/api/v1/search");
  forged.cookie = "ctihub_session=" + std::string(64, 'a');
  EXPECT_EQ(Do(forged).status, 401);
}

TEST_F(ConsoleTest, SessionCallerReachesTheServiceEndpointsAsItself) {
  auto [cookie, csrf] = Login("bob");  // a reader: the audit endpoint refuses it
  Response r = Do(WithSession(Req("GET", "/api/v1/audit"), cookie));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_FALSE(Header(r, "Content-Security-Policy").empty());
}

TEST_F(ConsoleTest, ScriptsAndAnonymousCallersReachTheServiceEndpointsAsBefore) {
  Response anonymous = Do(Req("GET", "/api/v1/export/stix"));
  EXPECT_EQ(anonymous.status, 401);  // the service's answer: no collection is public here
  Request basic = Req("GET", "/api/v1/audit");
  basic.authorization = "Basic " + Base64Encode("bob:pw-bob");
  Response r = Do(basic);
  EXPECT_EQ(r.status, 403) << r.body;  // authenticated by the service, refused as a reader
  EXPECT_FALSE(Header(r, "X-Frame-Options").empty());
}

TEST_F(ConsoleTest, TaxiiAndOperationalPathsAreLeftToTheService) {
  EXPECT_FALSE(console_->Handle(Req("GET", "/taxii2/")).has_value());
  EXPECT_FALSE(console_->Handle(Req("GET", "/api1/collections/")).has_value());
  EXPECT_FALSE(console_->Handle(Req("GET", "/uix")).has_value());
}

TEST_F(ConsoleTest, BodyLimitAdmitsLoginsAndLiveSessionsOnly) {
  EXPECT_EQ(console_->BodyLimit(Req("POST", "/api/v1/session")), kLoginBodyLimit);
  EXPECT_EQ(console_->BodyLimit(Req("POST", "/api/v1/import")), 0u);
  EXPECT_EQ(console_->BodyLimit(Req("POST", "/api1/collections/x/objects/")), 0u);
  auto [cookie, csrf] = Login("alice");
  EXPECT_GT(console_->BodyLimit(WithSession(Req("POST", "/api/v1/import"), cookie)), 0u);
  EXPECT_EQ(console_->BodyLimit(WithSession(Req("POST", "/api1/x/"), cookie)), 0u);
}

TEST_F(ConsoleTest, CollectionsListWhatTheCallerMayReadOrWrite) {
  auto [alice, csrf] = Login("alice");
  Response r = Do(WithSession(Req("GET", "/api/v1/collections"), alice));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(std::string(R"({"id":")") + kShared +
                        R"(","api_root":"api1","title":"Shared","description":"","alias":"",)"
                        R"("can_read":true,"can_write":true})"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(kAcmeOnly), std::string::npos);
  auto [bob, csrf2] = Login("bob");  // beta: reads the shared collection only, writes none
  r = Do(WithSession(Req("GET", "/api/v1/collections"), bob));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(
      r.body.find(
          R"("title":"Shared","description":"","alias":"","can_read":true,"can_write":false)"),
      std::string::npos)
      << r.body;
  EXPECT_EQ(r.body.find(kAcmeOnly), std::string::npos);
  EXPECT_EQ(Do(WithSession(Req("DELETE", "/api/v1/collections"), bob, csrf2)).status, 405);
}

TEST_F(ConsoleTest, AuditVerifyIsForAuditorsAndReportsTheChain) {
  auto [bob, csrf] = Login("bob");
  Response r = Do(WithSession(Req("GET", "/api/v1/audit/verify"), bob));
  EXPECT_EQ(r.status, 403);
  auto [audrey, csrf2] = Login("audrey");
  // This fixture's trail is a test double: there is no DATA/audit.db to verify.
  r = Do(WithSession(Req("GET", "/api/v1/audit/verify"), audrey));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.error_id, "audit_unavailable");
  // A real, empty trail: broken (a hub's trail starts with hub.init).
  {
    auto log = audit::AuditLog::Open(dir_.string());
    ASSERT_TRUE(log.ok()) << log.status().NamedMessage();
  }
  r = Do(WithSession(Req("GET", "/api/v1/audit/verify"), audrey));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("ok":false)"), std::string::npos) << r.body;
}

TEST_F(ConsoleTest, PeersAreForAdminsFromTheServesCallback) {
  // Without a callback this console serves no peers.
  auto [bob, csrf] = Login("bob");
  EXPECT_EQ(Do(WithSession(Req("GET", "/api/v1/peers"), bob)).status, 404);

  AddUser("root", "acme", store::Role::kAdmin);
  ConsoleOptions o = options_;
  bool fail = false;
  o.peers_json = [&fail]() -> Result<std::string> {
    if (fail) return Unavailable("bad_peers_file", "peers.json: unreadable");
    return std::string(R"({"peers":[{"name":"vendor","lag_s":1.5}]})");
  };
  MakeConsole(o);
  auto [bob2, csrf2] = Login("bob");
  Response r = Do(WithSession(Req("GET", "/api/v1/peers"), bob2));
  EXPECT_EQ(r.status, 403) << r.body;  // a reader
  auto [root, csrf3] = Login("root");
  r = Do(WithSession(Req("GET", "/api/v1/peers"), root));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"peers":[{"name":"vendor","lag_s":1.5}]})");
  EXPECT_EQ(Do(WithSession(Req("POST", "/api/v1/peers"), root, csrf3)).status, 405);
  fail = true;
  r = Do(WithSession(Req("GET", "/api/v1/peers"), root));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.error_id, "bad_peers_file");
}

TEST(CookieValue, FindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("a=1; ctihub_session=abc; b=2", "ctihub_session"), "abc");
  EXPECT_EQ(CookieValue("ctihub_session=abc", "ctihub_session"), "abc");
  EXPECT_EQ(CookieValue("xctihub_session=abc", "ctihub_session"), "");
  EXPECT_EQ(CookieValue("", "ctihub_session"), "");
  EXPECT_EQ(CookieValue(";;;=", "ctihub_session"), "");
}

// ---- security headers ----

TEST_F(ConsoleTest, EveryConsoleAnswerCarriesTheSecurityHeaders) {
  for (const char* target : {"/api/v1/session", "/api/v1/search", "/api/v1/nothing", "/ui/",
                             "/ui/assets/app-3f2a.js", "/ui/assets/missing.js"}) {
    Response r = Do(Req("GET", target));
    EXPECT_EQ(Header(r, "Content-Security-Policy"),
              "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
              "frame-ancestors 'none'; form-action 'self'")
        << target;
    EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff") << target;
    EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY") << target;
    EXPECT_EQ(Header(r, "Referrer-Policy"), "no-referrer") << target;
    EXPECT_EQ(Header(r, "Cross-Origin-Opener-Policy"), "same-origin") << target;
    EXPECT_EQ(Header(r, "Cross-Origin-Resource-Policy"), "same-origin") << target;
    EXPECT_EQ(Header(r, "Permissions-Policy"), "camera=(), microphone=(), geolocation=()");
    EXPECT_EQ(Header(r, "Strict-Transport-Security"), "") << target;  // not TLS
  }
  EXPECT_EQ(Header(Do(Req("GET", "/api/v1/session")), "Cache-Control"), "no-store");
}

// ---- the embedded UI ----

TEST(EmbedFiles, TheFixtureDirectoryIsEmbeddedByteForByte) {
  auto files = EmbeddedUi();
  ASSERT_EQ(files.size(), 5u);
  std::vector<std::string> paths;
  for (const auto& f : files) paths.emplace_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"assets/app-3f2a.js", "assets/app-9c1d.css",
                                             "empty.txt", "fonts/inter.woff2", "index.html"}));
  EXPECT_EQ(files[0].content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(files[0].body, "console.log(\"fixture app\");\n");
  EXPECT_EQ(files[1].content_type, "text/css; charset=utf-8");
  EXPECT_EQ(files[2].body, "");
  EXPECT_EQ(files[3].content_type, "font/woff2");
  EXPECT_EQ(files[3].body, std::string_view("\x00\x01\x02"
                                            "binary\xff",
                                            10));
  EXPECT_EQ(files[4].content_type, "text/html; charset=utf-8");
}

TEST_F(ConsoleTest, UiServesFilesWithCachingAndFallsBackToIndex) {
  Response index = Do(Req("GET", "/ui/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Header(index, "Cache-Control"), "no-store");
  EXPECT_NE(index.body.find("ctihub fixture"), std::string::npos);
  Response js = Do(Req("GET", "/ui/assets/app-3f2a.js"));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  for (const char* route : {"/ui/search", "/ui/objects/indicator--1?tab=graph", "/ui/a/b/c"}) {
    Response r = Do(Req("GET", route));
    EXPECT_EQ(r.status, 200) << route;
    EXPECT_EQ(r.body, index.body) << route;
  }
  EXPECT_EQ(Do(Req("GET", "/ui/assets/missing.js")).status, 404);
  EXPECT_EQ(Do(Req("HEAD", "/ui/")).status, 200);
  EXPECT_EQ(Do(Req("POST", "/ui/", "x")).status, 405);
  Response bare = Do(Req("GET", "/ui"));
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(Header(bare, "Location"), "/ui/");
  Response root = Do(Req("GET", "/"));
  EXPECT_EQ(root.status, 302);
  EXPECT_EQ(Header(root, "Location"), "/ui/");
}

TEST_F(ConsoleTest, UiPathsNeverLeaveTheEmbeddedTable) {
  Response index = Do(Req("GET", "/ui/"));
  for (const char* evil :
       {"/ui/../../../../etc/passwd", "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/..%2f..%2fetc%2fpasswd",
        "/ui/\\..\\..\\etc\\passwd", "/ui//etc/passwd", "/ui/fonts/../../CMakeLists.txt"}) {
    Response r = Do(Req("GET", evil));
    EXPECT_EQ(r.status, 200) << evil;  // the SPA fallback: index.html, nothing else
    EXPECT_EQ(r.body, index.body) << evil;
  }
  // Under assets/ an unknown path is missing, never another file.
  EXPECT_EQ(Do(Req("GET", "/ui/assets/../../../etc/passwd")).status, 404);
  EXPECT_EQ(Do(Req("GET", "/ui/assets/../index.html")).status, 404);
}

TEST_F(ConsoleTest, NoUiAnswers404AndLeavesTheRootAlone) {
  ConsoleOptions o;
  o.ui_enabled = false;
  MakeConsole(o);
  Response r = Do(Req("GET", "/ui/"));
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(Header(r, "Content-Security-Policy").empty());
  EXPECT_FALSE(console_->Handle(Req("GET", "/")).has_value());
}

TEST_F(ConsoleTest, BinaryWithoutUiSaysUiNotBuilt) {
  use_fixture_ui_ = false;
  MakeConsole(ConsoleOptions{});
  Response r = Do(Req("GET", "/ui/search"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.error_id, "ui_not_built");
  EXPECT_NE(r.body.find("UI not built"), std::string::npos);
}

TEST(FindUiFile, AssetsAreImmutableOthersAreNot) {
  auto files = EmbeddedUi();
  EXPECT_TRUE(FindUiFile(files, "assets/app-9c1d.css").immutable);
  EXPECT_FALSE(FindUiFile(files, "empty.txt").immutable);
  EXPECT_EQ(FindUiFile(files, "").file->path, "index.html");
  EXPECT_EQ(FindUiFile(files, "assets/nope.js").file, nullptr);
  EXPECT_EQ(FindUiFile({}, "index.html").file, nullptr);
}

// ---- search through the read gate ----

class SearchTest : public ConsoleTest {
 protected:
  void SetUp() override {
    ConsoleTest::SetUp();
    Publish(kShared, "alice", Indicator(1, "evil alpha", kAcme, "clear", "alpha.evil.example"));
    Publish(kShared, "alice", Indicator(2, "evil bravo", kAcme, "red", "bravo.evil.example"));
    Publish(kShared, "alice", Indicator(3, "evil charlie", kAcme, "amber", "charlie.evil.example"));
    Publish(kAcmeOnly, "alice", Indicator(4, "evil delta", kAcme, "clear", "delta.evil.example"));
    Publish(kShared, "alice", Indicator(5, "benign echo", kAcme, "clear", "echo.example"));
  }

  Response Search(const std::string& user, const std::string& query) {
    Request r = Req("GET", "/api/v1/search" + query);
    r.authorization = "Basic " + Base64(user + ":pw-" + user);
    return Do(r);
  }

  static std::string Base64(const std::string& s);
};

std::string SearchTest::Base64(const std::string& s) { return Base64Encode(s); }

int64_t Total(const Response& r) {
  json::JsonParser p;
  auto doc = p.Parse(r.body);
  if (!doc.ok()) return -1;
  return (*doc)["total"].get_int64().value();
}

TEST_F(SearchTest, ProducerSeesEverythingItMayRead) {
  Response r = Search("alice", "?q=evil");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Total(r), 4) << r.body;
  EXPECT_NE(r.body.find(R"("tlp":{"amber":1,"clear":2,"red":1})"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("producer":{"acme":4})"), std::string::npos) << r.body;
}

TEST_F(SearchTest, OtherOrganisationNeverSeesOrCountsWhatItMayNotRead) {
  Response r = Search("bob", "?q=evil");
  ASSERT_EQ(r.status, 200) << r.body;
  // Only the TLP:CLEAR object of the shared collection: not RED, not AMBER,
  // not the collection bob's organisation may not read.
  EXPECT_EQ(Total(r), 1) << r.body;
  EXPECT_NE(r.body.find("evil alpha"), std::string::npos);
  for (const char* hidden : {"bravo", "charlie", "delta"}) {
    EXPECT_EQ(r.body.find(hidden), std::string::npos) << hidden << ": " << r.body;
  }
  EXPECT_EQ(r.body.find(kAcmeOnly), std::string::npos);
  // The audit trail names exactly what bob was shown.
  bool served = false;
  for (const auto& rec : audit_.records()) {
    if (rec.action != audit::action::kObjectServed || rec.user != "bob") continue;
    served = true;
    ASSERT_EQ(rec.objects.size(), 1u);
    EXPECT_EQ(rec.objects[0].id, "indicator--11111111-0000-4000-8000-000000000001");
    EXPECT_FALSE(rec.objects[0].grant.empty());
  }
  EXPECT_TRUE(served);
}

TEST_F(SearchTest, ResultsCarryTheContractFields) {
  Response r = Search("alice", "?q=alpha.evil");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Total(r), 1) << r.body;
  for (const char* field :
       {R"("id":"indicator--11111111-0000-4000-8000-000000000001")", R"("type":"indicator")",
        R"("name":"evil alpha")", R"("description":"seen near the border")", R"("collection":")",
        R"("collection_title":"Shared")", R"("tlp":"clear")",
        R"("created":"2024-01-01T00:00:00.000Z")", R"("modified":"2024-01-02T00:00:00.000Z")",
        R"("revoked":false)", R"("producer":"acme")", R"("snippet":")", R"("next":null)"}) {
    EXPECT_NE(r.body.find(field), std::string::npos) << field << " in " << r.body;
  }
  EXPECT_NE(r.body.find("[alpha]"), std::string::npos) << r.body;
}

TEST_F(SearchTest, FiltersAndPaging) {
  EXPECT_EQ(Total(Search("alice", "?q=evil&tlp=clear")), 2);
  EXPECT_EQ(Total(Search("alice", "?q=evil&tlp=red,amber")), 2);
  EXPECT_EQ(Total(Search("alice", "?tlp=clear")), 3);
  EXPECT_EQ(Total(Search("alice", std::string("?collection=") + kAcmeOnly)), 1);
  EXPECT_EQ(Total(Search("alice", "?type=malware")), 0);
  EXPECT_EQ(Total(Search("alice", "?producer=acme&revoked=false")), 5);
  EXPECT_EQ(Total(Search("alice", "?producer=beta")), 0);
  EXPECT_EQ(Total(Search("alice", "?added_after=2999-01-01T00:00:00Z")), 0);
  // Pages of two: every object exactly once, newest first, `next` until the end.
  std::vector<std::string> seen;
  std::string next;
  for (int page = 0; page < 10; ++page) {
    Response r = Search("alice", "?limit=2" + (next.empty() ? "" : "&next=" + next));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Total(r), 5);
    json::JsonParser p;
    auto doc = p.Parse(r.body);
    ASSERT_TRUE(doc.ok());
    const json::Array results = (*doc)["results"].get_array().value();
    for (auto item : results) {
      seen.emplace_back(std::string_view(item["id"].get_string().value()));
    }
    auto n = (*doc)["next"];
    if (n.is_null()) break;
    next = std::string(std::string_view(n.get_string().value()));
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen.front(), "indicator--11111111-0000-4000-8000-000000000005");
  EXPECT_EQ(seen.back(), "indicator--11111111-0000-4000-8000-000000000001");
}

TEST_F(SearchTest, HostileQueriesAnswerResultsOr400) {
  const std::vector<std::string> queries = {"%22",
                                            "%22evil",
                                            "evil%22%20OR%20%22x",
                                            "NEAR(evil%20alpha)",
                                            "evil*",
                                            "*",
                                            "^evil",
                                            "type:indicator",
                                            "evil%20AND%20NOT%20alpha",
                                            "(((",
                                            "%27%3B%20DROP%20TABLE%20objects%3B--",
                                            "%E2%80%AE%F0%9F%98%80",
                                            "caf%C3%A9",
                                            "%5C",
                                            "-evil",
                                            "evil%2Bbravo"};
  for (const auto& q : queries) {
    Response r = Search("alice", "?q=" + q);
    EXPECT_TRUE(r.status == 200 || r.status == 400) << q << " -> " << r.status << " " << r.body;
  }
  EXPECT_EQ(Total(Search("alice", "?q=%22evil%22%20OR%20zzz")), 0);  // OR is a word here
  EXPECT_EQ(Search("alice", "?q=a%00b").status, 400);
  EXPECT_EQ(Search("alice", "?q=%FF%FE").error_id, "bad_query");
  EXPECT_EQ(Search("alice", "?limit=0").error_id, "bad_filter");
  EXPECT_EQ(Search("alice", "?next=garbage").error_id, "bad_filter");
  EXPECT_EQ(Search("alice", "?tlp=purple").error_id, "bad_filter");
  EXPECT_EQ(Search("alice", "?added_after=yesterday").error_id, "bad_filter");
}

TEST_F(SearchTest, ObjectPageThroughTheGate) {
  const std::string red = "indicator--11111111-0000-4000-8000-000000000002";
  const std::string clear = "indicator--11111111-0000-4000-8000-000000000001";
  auto get = [&](const std::string& user, const std::string& path) {
    Request q = Req("GET", path);
    q.authorization = "Basic " + Base64(user + ":pw-" + user);
    return Do(q);
  };
  Response r = get("alice", "/api/v1/objects/" + red);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"evil bravo")"), std::string::npos) << r.body;
  EXPECT_NE(
      r.body.find(std::string(R"("collection":{"id":")") + kShared + R"(","title":"Shared"})"),
      std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("kind":"tlp","name":"TLP:RED")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("versions":[{"version":"2024-01-02T00:00:00.000Z")"), std::string::npos)
      << r.body;
  // Withheld and absent answer the same.
  Response hidden = get("bob", "/api/v1/objects/" + red);
  Response absent = get("bob", "/api/v1/objects/indicator--11111111-0000-4000-8000-000000000099");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(hidden.body, absent.body);
  EXPECT_EQ(get("bob", "/api/v1/objects/../../etc/passwd").status, 404);
  EXPECT_EQ(get("bob", "/api/v1/objects/" + clear).status, 200);
  // A newer version: listed first, shown; the old one by its version.
  std::string v2 = Indicator(1, "evil alpha v2", kAcme, "clear", "alpha.evil.example");
  v2.replace(v2.find(R"("modified":"2024-01-02)") + 12, 10, "2024-03-01");
  Publish(kShared, "alice", v2);
  r = get("bob", "/api/v1/objects/" + clear);
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("evil alpha v2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("versions":[{"version":"2024-03-01T00:00:00.000Z")"), std::string::npos)
      << r.body;
  r = get("bob", "/api/v1/objects/" + clear + "/versions/2024-01-02T00:00:00.000Z");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("name":"evil alpha")"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("versions"), std::string::npos);
  EXPECT_EQ(get("bob", "/api/v1/objects/" + clear + "/versions/2020-01-01T00:00:00Z").status, 404);
  EXPECT_EQ(get("bob", "/api/v1/objects/" + clear + "/versions/yesterday").status, 400);
  EXPECT_EQ(get("bob", "/api/v1/objects/" + red + "/versions/2024-01-02T00:00:00.000Z").status,
            404);
  bool audited = false;
  for (const auto& rec : audit_.records()) {
    if (rec.action == audit::action::kObjectServed && rec.user == "bob" &&
        rec.details.find("object") != std::string::npos) {
      audited = audited || (rec.objects.size() == 1 && rec.objects[0].id == clear);
    }
  }
  EXPECT_TRUE(audited);
}

// ---- relationships, sightings, who saw, graph ----

// Around the CLEAR indicator 1: a CLEAR malware it indicates, a CLEAR
// relationship to the RED indicator 2, a CLEAR sighting of it and a RED
// relationship from the malware to it. Beta's reader may read the CLEAR
// objects only.
class RelatedTest : public SearchTest {
 protected:
  static constexpr const char* kInd1 = "indicator--11111111-0000-4000-8000-000000000001";
  static constexpr const char* kInd2 = "indicator--11111111-0000-4000-8000-000000000002";
  static constexpr const char* kMal = "malware--11111111-0000-4000-8000-000000000010";
  static constexpr const char* kRelIndicates = "relationship--11111111-0000-4000-8000-000000000011";
  static constexpr const char* kRelToRed = "relationship--11111111-0000-4000-8000-000000000012";
  static constexpr const char* kRelRed = "relationship--11111111-0000-4000-8000-000000000013";
  static constexpr const char* kSighting = "sighting--11111111-0000-4000-8000-000000000014";

  void SetUp() override {
    SearchTest::SetUp();
    Publish(kShared, "alice",
            Sdo("malware", kMal, "clear", R"("name":"trojan mike","is_family":false)"));
    Publish(kShared, "alice", Rel(kRelIndicates, "clear", kInd1, kMal, "indicates"));
    Publish(kShared, "alice", Rel(kRelToRed, "clear", kInd1, kInd2, "related-to"));
    Publish(kShared, "alice", Rel(kRelRed, "red", kMal, kInd1, "uses"));
    Publish(kShared, "alice",
            Sdo("sighting", kSighting, "clear",
                std::string(R"("sighting_of_ref":")") + kInd1 + R"(","count":3)"));
  }

  static std::string Sdo(const std::string& type, const std::string& id, const std::string& tlp,
                         const std::string& fields) {
    return R"({"type":")" + type + R"(","spec_version":"2.1","id":")" + id +
           R"(","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-02T00:00:00.000Z",)" +
           R"("created_by_ref":")" + kAcme + R"(","object_marking_refs":[")" + TlpId(tlp) +
           R"("],)" + fields + "}";
  }
  static std::string Rel(const std::string& id, const std::string& tlp, const std::string& from,
                         const std::string& to, const std::string& type) {
    return Sdo("relationship", id, tlp,
               R"("relationship_type":")" + type + R"(","source_ref":")" + from +
                   R"(","target_ref":")" + to + R"(")");
  }

  Response Get(const std::string& user, const std::string& path) {
    Request q = Req("GET", path);
    q.authorization = "Basic " + Base64(user + ":pw-" + user);
    return Do(q);
  }

  static bool Has(const Response& r, const std::string& text) {
    return r.body.find(text) != std::string::npos;
  }
};

TEST_F(RelatedTest, ObjectPageListsRelationshipsBothWaysAndSightings) {
  Response r = Get("alice", std::string("/api/v1/objects/") + kInd1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Has(r, std::string(R"({"id":")") + kRelIndicates +
                         R"(","relationship_type":"indicates","target_ref":")" + kMal +
                         R"(","target_type":"malware","target_name":"trojan mike"})"))
      << r.body;
  EXPECT_TRUE(Has(r, std::string(R"("target_ref":")") + kInd2 +
                         R"(","target_type":"indicator","target_name":"evil bravo")"))
      << r.body;
  EXPECT_TRUE(Has(r, std::string(R"("incoming":[{"id":")") + kRelRed +
                         R"(","relationship_type":"uses","source_ref":")" + kMal +
                         R"(","source_type":"malware","source_name":"trojan mike"}])"))
      << r.body;
  EXPECT_TRUE(Has(r, std::string(R"("sightings":[{)")) && Has(r, R"("count":3)")) << r.body;
  EXPECT_FALSE(Has(r, "who_saw")) << "a publisher is not an auditor";
  // The malware's page: the relationship from the indicator, incoming.
  r = Get("alice", std::string("/api/v1/objects/") + kMal);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Has(r, std::string(R"("source_ref":")") + kInd1)) << r.body;
  EXPECT_TRUE(Has(r, R"("sightings":[])")) << r.body;
}

TEST_F(RelatedTest, ObjectPageShowsNothingOfWhatTheCallerMayNotRead) {
  Response r = Get("bob", std::string("/api/v1/objects/") + kInd1);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Has(r, kRelIndicates)) << r.body;
  EXPECT_TRUE(Has(r, kSighting)) << r.body;
  // The RED indicator is the other end of a CLEAR relationship: neither is
  // listed; the RED relationship is withheld.
  EXPECT_FALSE(Has(r, kInd2)) << r.body;
  EXPECT_FALSE(Has(r, "evil bravo")) << r.body;
  EXPECT_FALSE(Has(r, kRelToRed)) << r.body;
  EXPECT_FALSE(Has(r, kRelRed)) << r.body;
  EXPECT_TRUE(Has(r, R"("incoming":[])")) << r.body;
  // What the page showed is audited as served to bob.
  bool audited = false;
  for (const auto& rec : audit_.records()) {
    if (rec.action != audit::action::kObjectServed || rec.user != "bob") continue;
    for (const auto& o : rec.objects) audited = audited || o.id == kRelIndicates;
  }
  EXPECT_TRUE(audited);
}

TEST_F(RelatedTest, AuditorsSeeWhoSawTheObject) {
  // A real trail with two viewings: acme's own user and beta's reader.
  {
    audit::Options o;
    o.sign = false;
    auto log = audit::AuditLog::Open(dir_.string(), o);
    ASSERT_TRUE(log.ok()) << log.status().NamedMessage();
    for (const char* user : {"alice", "bob"}) {
      audit::Record rec;
      rec.user = user;
      rec.org = std::string(user) == "alice" ? "acme" : "beta";
      rec.action = std::string(audit::action::kObjectServed);
      rec.route = "GET /taxii2/api1/collections/x/objects/?match[id]=secret";
      rec.status = 200;
      rec.objects.emplace_back(kInd1, "2024-01-02T00:00:00.000Z", "agreement:acme-beta", false);
      ASSERT_TRUE((*log)->Append(std::move(rec)).ok());
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }
  Response r = Get("audrey", std::string("/api/v1/objects/") + kInd1);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(Has(r, R"("who_saw":[)")) << r.body;
  EXPECT_TRUE(Has(r, R"("user":"bob","org":"beta","action":"object.served")")) << r.body;
  EXPECT_TRUE(Has(r, R"("user":"alice","org":"acme")")) << r.body;
  // Another organisation's viewing: no grant, no query string.
  EXPECT_TRUE(Has(
      r,
      R"("user":"bob","org":"beta","action":"object.served","version":"2024-01-02T00:00:00.000Z","route":"GET /taxii2/api1/collections/x/objects/","redacted":false})"))
      << r.body;
  EXPECT_TRUE(Has(r, R"("grant":"agreement:acme-beta")")) << "acme's own viewing keeps it";
  EXPECT_FALSE(Has(Get("bob", std::string("/api/v1/objects/") + kInd1), "who_saw"));
}

TEST_F(RelatedTest, GraphHoldsOnlyReadableNodesAndEdges) {
  Response r = Get("alice", std::string("/api/v1/graph/") + kInd1);
  ASSERT_EQ(r.status, 200) << r.body;
  for (const char* id : {kInd1, kMal, kInd2, kSighting, kRelIndicates, kRelToRed, kRelRed}) {
    EXPECT_TRUE(Has(r, id)) << id << " " << r.body;
  }
  EXPECT_TRUE(
      Has(r, std::string(R"({"id":")") + kMal + R"(","type":"malware","label":"trojan mike"})"))
      << r.body;
  EXPECT_TRUE(Has(r, std::string(R"("source":")") + kSighting + R"(","target":")" + kInd1 +
                         R"(","relationship_type":"sighting_of_ref")"))
      << r.body;
  EXPECT_TRUE(Has(r, R"("truncated":false)")) << r.body;

  r = Get("bob", std::string("/api/v1/graph/") + kInd1 + "?depth=3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Has(r, kMal) && Has(r, kSighting) && Has(r, kRelIndicates)) << r.body;
  for (const char* id : {kInd2, kRelToRed, kRelRed}) EXPECT_FALSE(Has(r, id)) << id << r.body;
  EXPECT_FALSE(Has(r, "evil bravo"));
}

TEST_F(RelatedTest, GraphIsBoundedAndRefusesBadParameters) {
  Response r = Get("alice", std::string("/api/v1/graph/") + kInd1 + "?max_nodes=2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Has(r, R"("truncated":true)")) << r.body;
  json::JsonParser p;
  auto doc = p.Parse(r.body);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["nodes"].get_array().value().size(), 2u);
  for (const char* q : {"?depth=0", "?depth=4", "?depth=x", "?max_nodes=501", "?colour=red"}) {
    Response bad = Get("alice", std::string("/api/v1/graph/") + kInd1 + q);
    EXPECT_EQ(bad.status, 400) << q;
    EXPECT_TRUE(Has(bad, "bad_filter")) << q;
  }
  // A withheld centre is the same 404 as an absent one.
  Response hidden = Get("bob", std::string("/api/v1/graph/") + kInd2);
  Response absent = Get("bob", "/api/v1/graph/indicator--11111111-0000-4000-8000-000000000099");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(hidden.body, absent.body);
  EXPECT_EQ(Get("bob", "/api/v1/graph/").status, 404);
}

TEST_F(SearchTest, StatsCountOnlyWhatTheCallerMayRead) {
  auto stats = [&](const std::string& user) {
    Request q = Req("GET", "/api/v1/stats");
    q.authorization = "Basic " + Base64(user + ":pw-" + user);
    return Do(q);
  };
  Response r = stats("bob");
  ASSERT_EQ(r.status, 200) << r.body;
  // bob (beta) may read the two TLP:CLEAR objects of the shared collection.
  EXPECT_NE(r.body.find(R"("objects":2,"objects_capped":false)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("by_tlp":{"clear":2})"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("by_producer":{"acme":2})"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("by_day":[{"day":")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(","count":2}])"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("latest_sightings":[])"), std::string::npos) << r.body;
  for (const char* hidden : {"bravo", "charlie", "delta"}) {
    EXPECT_EQ(r.body.find(hidden), std::string::npos) << hidden;
  }
  r = stats("alice");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("objects":5,)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("ingest_per_min":[{"minute":")"), std::string::npos) << r.body;
}

TEST_F(SearchTest, CountsStopAtTheCap) {
  ConsoleOptions o;
  o.search_count_cap = 2;
  MakeConsole(o);
  Response r = Search("alice", "?q=evil&limit=3");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Total(r), 2);
  EXPECT_NE(r.body.find(R"("total_capped":true)"), std::string::npos);
  json::JsonParser p;
  auto doc = p.Parse(r.body);
  EXPECT_EQ((*doc)["results"].get_array().value().size(), 3u);  // the page is still full
}

// ---- agreements (admins) ----

class AgreementsTest : public SearchTest {
 protected:
  void SetUp() override {
    SearchTest::SetUp();
    AddUser("root", "acme", store::Role::kAdmin);
    // A policy that reloads only when asked: the console's Refresh() after a
    // change, not a file check, must put the change in force.
    auto holder = policy::PolicyHolder::Open(dir_.string(), std::chrono::hours(1),
                                             [this] { return KnownOrgs(); });
    ASSERT_TRUE(holder.ok()) << holder.status().NamedMessage();
    slow_policy_ = std::move(holder).value();
    access_.policy = slow_policy_.get();
    ConsoleOptions o;
    o.agreement_orgs = [this] { return KnownOrgs(); };
    MakeConsole(o);
    std::tie(root_, csrf_) = Login("root");
  }

  Response AsRoot(const std::string& method, const std::string& target,
                  const std::string& body = "") {
    return Do(WithSession(Req(method, target, body), root_, csrf_));
  }

  Response GetAs(const std::string& user, const std::string& path) {
    Request q = Req("GET", path);
    q.authorization = "Basic " + Base64(user + ":pw-" + user);
    return Do(q);
  }

  int ChangeRecords(const std::string& user) const {
    int n = 0;
    for (const auto& rec : audit_.records()) {
      n += rec.action == audit::action::kAgreementChanged && rec.user == user ? 1 : 0;
    }
    return n;
  }

  static constexpr const char* kAmber = "indicator--11111111-0000-4000-8000-000000000003";
  static constexpr const char* kGood =
      R"({"id":"acme-to-beta","producer":"org:acme","recipient":"org:beta","max_tlp":"amber",)"
      R"("types":["indicator"],"strip":["description"],"withhold_sco":[],"reshare":false,)"
      R"("relay":false,"legal_basis":"unit test"})";
  std::unique_ptr<policy::PolicyHolder> slow_policy_;
  std::string root_, csrf_;
};

TEST_F(AgreementsTest, OnlyAdminsAndOnlyWhenServeWiresThem) {
  auto [bob, bob_csrf] = Login("bob");
  auto [alice, alice_csrf] = Login("alice");
  for (const auto& [cookie, csrf] : {std::pair{bob, bob_csrf}, std::pair{alice, alice_csrf}}) {
    Response r = Do(WithSession(Req("GET", "/api/v1/agreements"), cookie));
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.error_id, "forbidden");
    r = Do(WithSession(Req("POST", "/api/v1/agreements", kGood), cookie, csrf));
    EXPECT_EQ(r.status, 403) << r.body;
    r = Do(WithSession(Req("DELETE", "/api/v1/agreements/acme-to-beta?reason=x"), cookie, csrf));
    EXPECT_EQ(r.status, 403) << r.body;
  }
  EXPECT_FALSE(fs::exists(dir_ / "agreements.toml"));
  Response r = AsRoot("GET", "/api/v1/agreements");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"agreements":[]})");
  EXPECT_EQ(AsRoot("PUT", "/api/v1/agreements").status, 405);
  EXPECT_EQ(AsRoot("GET", "/api/v1/agreements/a/b").status, 404);
  // A console `serve` did not give the organisations serves no agreements.
  MakeConsole(ConsoleOptions{});
  auto [root2, csrf2] = Login("root");
  r = Do(WithSession(Req("GET", "/api/v1/agreements"), root2));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no such endpoint"), std::string::npos);
}

TEST_F(AgreementsTest, AddListRevokeChangeThePolicyInForce) {
  EXPECT_EQ(GetAs("bob", std::string("/api/v1/objects/") + kAmber).status, 404);
  Response r = AsRoot("POST", "/api/v1/agreements", kGood);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"("id":"acme-to-beta")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("state":"active")"), std::string::npos) << r.body;
  EXPECT_EQ(ChangeRecords("root"), 1);
  // The next request is decided under the new agreement: bob reads acme's
  // AMBER indicator, without the stripped description.
  r = GetAs("bob", std::string("/api/v1/objects/") + kAmber);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("seen near the border"), std::string::npos) << r.body;
  r = AsRoot("GET", "/api/v1/agreements");
  ASSERT_EQ(r.status, 200) << r.body;
  for (const char* member :
       {R"("producer":"org:acme")", R"("recipient":"org:beta")", R"("max_tlp":"amber")",
        R"("pap_ceiling":"red")", R"("types":["indicator"])", R"("strip":["description"])",
        R"("withhold_sco":[])", R"("reshare":false)", R"("valid_from":null)",
        R"("legal_basis":"unit test")", R"("revoked":false)", R"("revoked_at":null)"}) {
    EXPECT_NE(r.body.find(member), std::string::npos) << member << " in " << r.body;
  }
  EXPECT_EQ(AsRoot("POST", "/api/v1/agreements", kGood).status, 409);  // the same id again
  // Revoke: the reason from the query or the body.
  r = AsRoot("DELETE", "/api/v1/agreements/acme-to-beta", R"({"reason":"ended"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("revoked":true)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("revoked_reason":"ended")"), std::string::npos) << r.body;
  EXPECT_EQ(ChangeRecords("root"), 2);
  EXPECT_EQ(GetAs("bob", std::string("/api/v1/objects/") + kAmber).status, 404);
  r = AsRoot("DELETE", "/api/v1/agreements/acme-to-beta?reason=again");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.error_id, "already_revoked");
  r = AsRoot("DELETE", "/api/v1/agreements/nosuch?reason=x");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.error_id, "no_such_agreement");
  r = AsRoot("DELETE", "/api/v1/agreements/acme-to-beta");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.error_id, "bad_reason");
  // The agreement.changed records name the admin, not the CLI.
  for (const auto& rec : audit_.records()) {
    if (rec.action != audit::action::kAgreementChanged) continue;
    EXPECT_EQ(rec.user, "root");
    EXPECT_EQ(rec.org, "acme");
    EXPECT_NE(rec.details.find("acme-to-beta"), std::string::npos) << rec.details;
  }
}

TEST_F(AgreementsTest, BadAgreementsAre400NamingTheField) {
  auto post = [&](const std::string& body) { return AsRoot("POST", "/api/v1/agreements", body); };
  auto with = [](std::string_view from, std::string_view to) {
    std::string s = kGood;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  struct Case {
    std::string body;
    std::string error_id;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {with(R"("max_tlp":"amber")", R"("max_tlp":"purple")"), "bad_max_tlp", "max_tlp"},
           {with("org:beta", "org:nosuch"), "bad_recipient", "recipient"},
           {with("org:acme", "acme"), "bad_producer", "producer"},
           {with("org:beta", "org:acme"), "bad_recipient", "recipient"},
           {with(R"(["indicator"])", R"("indicator")"), "bad_type", "types"},
           {with(R"(["indicator"])", R"([])"), "bad_types", "types"},
           {with(R"(["description"])", R"([".x"])"), "bad_strip", "strip"},
           {with(R"("relay":false)", R"("relay":"no")"), "bad_type", "relay"},
           {with(R"("relay":false)", R"("expires":"soon")"), "bad_expires", "expires"},
           {with(R"("relay":false)", R"("colour":"red")"), "unknown_field", "colour"},
           {with(R"("legal_basis":"unit test")", R"("legal_basis":"")"), "bad_legal_basis",
            "legal_basis"},
           {R"({"id":"x")", "bad_json", ""},
           {"[1,2]", "bad_json", ""},
       }) {
    Response r = post(c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(r.error_id, c.error_id) << c.body << " -> " << r.body;
    if (!c.field.empty()) {
      EXPECT_NE(r.body.find(R"("details":{"field":")" + c.field + "\"}"), std::string::npos)
          << r.body;
    }
  }
  EXPECT_FALSE(fs::exists(dir_ / "agreements.toml"));
  EXPECT_EQ(ChangeRecords("root"), 0);
  EXPECT_EQ(AsRoot("POST", "/api/v1/agreements", kGood).status, 201);  // the good one still goes
}

TEST_F(AgreementsTest, AnAuditAppendThatFailsRollsTheChangeBack) {
  audit_.FailWith(Unavailable("disk full"));
  Response r = AsRoot("POST", "/api/v1/agreements", kGood);
  EXPECT_EQ(r.status, 503) << r.body;
  audit_.Heal();
  EXPECT_FALSE(fs::exists(dir_ / "agreements.toml"));
  r = AsRoot("GET", "/api/v1/agreements");
  EXPECT_EQ(r.body, R"({"agreements":[]})");
  EXPECT_EQ(GetAs("bob", std::string("/api/v1/objects/") + kAmber).status, 404);
  // Revocation likewise: the agreement stays in force.
  ASSERT_EQ(AsRoot("POST", "/api/v1/agreements", kGood).status, 201);
  const std::string before = [&] {
    std::ifstream in(dir_ / "agreements.toml");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  audit_.FailWith(Unavailable("disk full"));
  EXPECT_EQ(AsRoot("DELETE", "/api/v1/agreements/acme-to-beta?reason=x").status, 503);
  audit_.Heal();
  std::ifstream in(dir_ / "agreements.toml");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), before);
  EXPECT_EQ(GetAs("bob", std::string("/api/v1/objects/") + kAmber).status, 200);
}

}  // namespace
}  // namespace ctihub::webapi
