// Tests of the console's imports (import_jobs.h): the job table's bounds,
// expiry and visibility, and the routes' checks before any work, over the
// in-memory store with a fake import function (the real one, `ctihub
// import`'s code, is tested end to end in tests/e2e/test_console_import.py).
#include "webapi/import_jobs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/testing/failing_sink.h"
#include "auth/auth.h"
#include "core/encoding.h"
#include "store/testing/memory_store.h"
#include "taxii/access.h"
#include "taxii/taxii.h"
#include "webapi/console.h"

namespace ctihub::webapi {
namespace {

using taxii::Request;
using taxii::Response;

constexpr int64_t kSecond = 1000000;
constexpr const char* kShared = "9b9d9c4e-0000-4000-8000-000000000001";
constexpr const char* kAcmeOnly = "9b9d9c4e-0000-4000-8000-000000000002";

// Holds every fake import until Release().
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

auth::Principal User(int64_t id, const std::string& name,
                     store::Role role = store::Role::kPublisher) {
  auth::Principal p;
  p.user_id = id;
  p.user = name;
  p.org = "acme";
  p.role = role;
  return p;
}

ImportUpload Upload(const auth::Principal& p, std::string body = "x") {
  ImportUpload u;
  u.principal = p;
  u.collection.id = kShared;
  u.format = "text";
  u.body = std::move(body);
  return u;
}

// ---- the job table ----

TEST(ImportJobs, AJobReportsItsProgressAndEndsDone) {
  ImportUpload seen;
  ImportJobs jobs(
      [&seen](ImportUpload u, const ImportReportFn& report) {
        seen = std::move(u);
        ImportProgress p;
        p.read_bytes = 2;
        p.objects_read = 3;
        p.objects_stored = 2;
        p.rejected = 1;
        p.errors.push_back({"iocs.txt", 7, "bad.example", "", "invalid: no"});
        report(p);
        return Status::Ok();
      },
      {}, nullptr);
  const auth::Principal alice = User(1, "alice");
  auto id = jobs.Start(Upload(alice, "abcd"));
  ASSERT_TRUE(id.ok()) << id.status().NamedMessage();
  EXPECT_EQ(id->size(), 32u);
  jobs.WaitForTest();
  auto v = jobs.Find(*id, alice);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->state, ImportState::kDone);
  EXPECT_EQ(v->progress.total_bytes, 4);
  EXPECT_EQ(v->progress.read_bytes, 4);  // done: all of it
  EXPECT_EQ(v->progress.objects_read, 3);
  EXPECT_EQ(v->progress.objects_stored, 2);
  ASSERT_EQ(v->progress.errors.size(), 1u);
  EXPECT_EQ(v->progress.errors[0].line, 7);
  EXPECT_EQ(seen.body, "abcd");
  EXPECT_EQ(seen.principal.user, "alice");
}

TEST(ImportJobs, TheListOfRejectionsIsCappedAndAllAreCounted) {
  ImportJobs jobs(
      [](const ImportUpload&, const ImportReportFn& report) {
        ImportProgress p;
        p.rejected = 250;
        for (int i = 0; i < 250; ++i) p.errors.push_back({"f", i + 1, "", "", "bad"});
        report(p);
        return Status::Ok();
      },
      {}, nullptr);
  const auth::Principal alice = User(1, "alice");
  auto id = jobs.Start(Upload(alice));
  ASSERT_TRUE(id.ok());
  jobs.WaitForTest();
  auto v = jobs.Find(*id, alice);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->progress.errors.size(), kMaxImportErrors);
  EXPECT_EQ(v->progress.rejected, 250);
}

TEST(ImportJobs, AJobIsVisibleToItsOwnerAndAdminsOnly) {
  ImportJobs jobs([](const ImportUpload&, const ImportReportFn&) { return Status::Ok(); }, {},
                  nullptr);
  auto id = jobs.Start(Upload(User(1, "alice")));
  ASSERT_TRUE(id.ok());
  jobs.WaitForTest();
  EXPECT_TRUE(jobs.Find(*id, User(1, "alice")).has_value());
  EXPECT_FALSE(jobs.Find(*id, User(2, "bob")).has_value());
  EXPECT_FALSE(jobs.Find(*id, User(3, "audrey", store::Role::kAuditor)).has_value());
  EXPECT_TRUE(jobs.Find(*id, User(4, "root", store::Role::kAdmin)).has_value());
  EXPECT_FALSE(jobs.Find("no-such-job", User(4, "root", store::Role::kAdmin)).has_value());
}

// Two nodes over one database: the MemoryStore keeps import jobs as
// PostgreSQL does. A job running on node A is answered by node B, to its
// owner and admins only, with its progress and its end.
TEST(ImportJobs, AJobOfOneNodeIsAnsweredByAnotherOverTheSharedStore) {
  store::MemoryStore shared;
  Gate gate;
  ImportJobs a(
      [&gate](const ImportUpload&, const ImportReportFn& report) {
        ImportProgress p;
        p.read_bytes = 1;
        p.objects_stored = 7;
        report(p);
        gate.Wait();
        return Status::Ok();
      },
      {}, nullptr, &shared);
  ImportJobs b([](const ImportUpload&, const ImportReportFn&) { return Status::Ok(); }, {}, nullptr,
               &shared);
  auto id = a.Start(Upload(User(1, "alice")));
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(b.Find(*id, User(1, "alice")).has_value());  // not b's own job
  // The first report is published at once (the next ones at most every 250 ms).
  std::string running;
  for (int i = 0; i < 500 && running.find("\"objects_stored\":7") == std::string::npos; ++i) {
    auto body = b.FindBody(*id, User(1, "alice"));
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    ASSERT_TRUE(body->has_value());
    running = **body;
    if (running.find("\"objects_stored\":7") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  EXPECT_NE(running.find("\"state\":\"running\""), std::string::npos) << running;
  EXPECT_NE(running.find("\"objects_stored\":7"), std::string::npos) << running;
  auto other = b.FindBody(*id, User(2, "bob"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());  // another user: as if absent
  gate.Release();
  a.WaitForTest();
  auto done = b.FindBody(*id, User(4, "root", store::Role::kAdmin));
  ASSERT_TRUE(done.ok() && done->has_value());
  EXPECT_NE((*done)->find("\"state\":\"done\""), std::string::npos) << **done;
  auto unknown = b.FindBody("0123456789abcdef0123456789abcdef", User(1, "alice"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST(ImportJobs, AFailureOrAnExceptionEndsTheJobFailedWithItsReason) {
  int n = 0;
  ImportJobs jobs(
      [&n](const ImportUpload&, const ImportReportFn&) -> Status {
        if (n++ == 0) return Unavailable("import_stopped", "import stopped: disk full");
        throw std::runtime_error("boom");
      },
      {}, nullptr);
  const auth::Principal alice = User(1, "alice");
  auto first = jobs.Start(Upload(alice));
  ASSERT_TRUE(first.ok());
  jobs.WaitForTest();
  auto second = jobs.Start(Upload(alice));
  ASSERT_TRUE(second.ok());
  jobs.WaitForTest();
  auto a = jobs.Find(*first, alice);
  auto b = jobs.Find(*second, alice);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->state, ImportState::kFailed);
  EXPECT_EQ(a->error, "import_stopped: import stopped: disk full");
  EXPECT_EQ(b->state, ImportState::kFailed);
  EXPECT_EQ(b->error, "internal error");
}

TEST(ImportJobs, AtMostMaxRunningJobsRunAtOnce) {
  Gate gate;
  std::atomic<int> started{0};
  ImportJobs jobs(
      [&](const ImportUpload&, const ImportReportFn&) {
        ++started;
        gate.Wait();
        return Status::Ok();
      },
      {2, 100, 3600}, nullptr);
  const auth::Principal alice = User(1, "alice");
  ASSERT_TRUE(jobs.Start(Upload(alice)).ok());
  ASSERT_TRUE(jobs.Start(Upload(alice)).ok());
  auto third = jobs.Start(Upload(alice));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), ErrorCode::kLimitExceeded);
  EXPECT_EQ(third.status().name(), "too_many_imports");
  gate.Release();
  jobs.WaitForTest();
  EXPECT_EQ(started.load(), 2);
  EXPECT_TRUE(jobs.Start(Upload(alice)).ok());  // room again
  jobs.WaitForTest();
}

TEST(ImportJobs, FinishedJobsExpireAndTheTableIsBounded) {
  int64_t now = 1000 * kSecond;
  ImportJobs jobs([](const ImportUpload&, const ImportReportFn&) { return Status::Ok(); },
                  {2, 3, 60}, [&now] { return now; });
  const auth::Principal alice = User(1, "alice");
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = jobs.Start(Upload(alice));
    ASSERT_TRUE(id.ok());
    jobs.WaitForTest();
    ids.push_back(*id);
    now += kSecond;
  }
  ASSERT_TRUE(jobs.Start(Upload(alice)).ok());  // prunes: 3 finished kept, the oldest dropped
  jobs.WaitForTest();
  EXPECT_FALSE(jobs.Find(ids[0], alice).has_value());
  EXPECT_TRUE(jobs.Find(ids[3], alice).has_value());
  now += 61 * kSecond;
  EXPECT_FALSE(jobs.Find(ids[3], alice).has_value());  // expired
}

TEST(ImportJobs, TheDestructorWaitsForRunningJobs) {
  std::atomic<bool> finished{false};
  {
    ImportJobs jobs(
        [&finished](const ImportUpload&, const ImportReportFn&) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          finished = true;
          return Status::Ok();
        },
        {}, nullptr);
    ASSERT_TRUE(jobs.Start(Upload(User(1, "alice"))).ok());
  }
  EXPECT_TRUE(finished.load());
}

// ---- the routes, through the console ----

class ImportRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        store_.AddOrganisation({0, "acme", "identity--00000000-0000-4000-8000-00000000000a"}).ok());
    ASSERT_TRUE(
        store_.AddOrganisation({0, "beta", "identity--00000000-0000-4000-8000-00000000000b"}).ok());
    AddUser("alice", "acme", store::Role::kPublisher);
    AddUser("carol", "acme", store::Role::kPublisher);
    AddUser("bob", "beta", store::Role::kReader);
    AddUser("root", "beta", store::Role::kAdmin);
    ASSERT_TRUE(store_.PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    AddCollection(kShared, {"org:*"});
    AddCollection(kAcmeOnly, {"org:acme"});
    access_ = taxii::WithoutPolicyForTest();
    access_.audit = &audit_;
    authenticator_ = std::make_unique<auth::Authenticator>(store_);
    service_ = std::make_unique<taxii::Service>(
        store_, [this](std::string_view h) { return authenticator_->Authenticate(h); },
        taxii::ServiceOptions{}, access_);
    options_.import_run = [this](ImportUpload u, const ImportReportFn& report) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        uploads_.push_back(std::move(u));
      }
      ImportProgress p;
      p.objects_read = 1;
      p.objects_stored = 1;
      report(p);
      return Status::Ok();
    };
    options_.import_max_bytes = 1000;
    MakeConsole();
  }

  void MakeConsole() {
    options_.sessions.now_us = [this] { return now_; };
    console_ = std::make_unique<Console>(
        store_, *service_, [this](std::string_view h) { return authenticator_->Authenticate(h); },
        access_, options_);
  }

  void AddUser(const std::string& name, const std::string& org, store::Role role) {
    store::User u;
    u.name = name;
    u.org_id = store_.GetOrganisation(org)->id;
    u.role = role;
    u.password_hash = auth::HashPassword("pw-" + name);
    ASSERT_TRUE(store_.AddUser(u).ok());
  }

  void AddCollection(const std::string& id, std::vector<std::string> readers) {
    store::Collection c;
    c.id = id;
    c.api_root = "api1";
    c.title = id;
    c.readers = std::move(readers);
    c.writers = {"org:acme"};
    ASSERT_TRUE(store_.AddCollection(c).ok());
  }

  // A script's request (Basic), so no CSRF token is needed.
  Request As(const std::string& user, std::string method, std::string target,
             std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.host = "hub.example:8443";
    r.remote = "192.0.2.10:5555";
    r.authorization = "Basic " + Base64Encode(user + ":pw-" + user);
    r.body = std::move(body);
    if (r.method == "POST") r.content_type = "application/octet-stream";
    return r;
  }

  Response Do(const Request& r) {
    auto out = console_->Handle(r);
    EXPECT_TRUE(out.has_value()) << r.target;
    return out ? *out : Response{};
  }

  static std::string JobOf(const Response& r) {
    const size_t at = r.body.find(R"("job":")");
    return at == std::string::npos ? "" : r.body.substr(at + 7, 32);
  }

  store::MemoryStore store_;
  audit::FailingSink audit_;
  taxii::AccessControl access_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<taxii::Service> service_;
  ConsoleOptions options_;
  int64_t now_ = int64_t{1800000000} * kSecond;
  // What the fake import saw. Declared before console_, so destroyed after it:
  // the console's destructor waits for running jobs, which still write here
  // (the other order let a job outlive the vector: LeakSanitizer found it).
  std::mutex mu_;
  std::vector<ImportUpload> uploads_;
  std::unique_ptr<Console> console_;
};

TEST_F(ImportRouteTest, UploadStartsAJobWhoseStatusTheOwnerPolls) {
  Response r =
      Do(As("alice", "POST", std::string("/api/v1/import?collection=") + kShared + "&format=text",
            "203.0.113.7 evil.example\n"));
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string job = JobOf(r);
  ASSERT_EQ(job.size(), 32u) << r.body;
  EXPECT_NE(r.body.find(R"("state":"running")"), std::string::npos) << r.body;
  bool location = false;
  for (const auto& [k, v] : r.headers) location |= k == "Location" && v == "/api/v1/import/" + job;
  EXPECT_TRUE(location);
  // The request is audited as alice's.
  bool audited = false;
  for (const auto& rec : audit_.records()) {
    audited |=
        rec.user == "alice" && rec.route.rfind("POST /api/v1/import?", 0) == 0 && rec.status == 202;
  }
  EXPECT_TRUE(audited);
  Response s;
  for (int i = 0; i < 400; ++i) {
    s = Do(As("alice", "GET", "/api/v1/import/" + job));
    if (s.body.find(R"("state":"running")") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_NE(s.body.find(R"("state":"done")"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find(R"("objects_read":1,"objects_stored":1)"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find(R"("total_bytes":25,"read_bytes":25)"), std::string::npos) << s.body;
  EXPECT_NE(s.body.find(R"("errors":[])"), std::string::npos) << s.body;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSERT_EQ(uploads_.size(), 1u);
    EXPECT_EQ(uploads_[0].principal.user, "alice");
    EXPECT_EQ(uploads_[0].principal.org, "acme");
    EXPECT_EQ(uploads_[0].collection.id, kShared);
    EXPECT_EQ(uploads_[0].format, "text");
    EXPECT_EQ(uploads_[0].body, "203.0.113.7 evil.example\n");
  }
  // Another user of the same organisation sees no such job; an admin does.
  Response other = Do(As("carol", "GET", "/api/v1/import/" + job));
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.error_id, "not_found");
  EXPECT_EQ(Do(As("root", "GET", "/api/v1/import/" + job)).status, 200);
  // An unknown job: 404, and not "no such endpoint" (the endpoint is served).
  Response unknown = Do(As("alice", "GET", "/api/v1/import/no-such-job"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body.find("no such endpoint"), std::string::npos) << unknown.body;
  EXPECT_EQ(Do(As("alice", "DELETE", "/api/v1/import/" + job)).status, 405);
  EXPECT_EQ(Do(As("alice", "GET", "/api/v1/import/" + job + "/more")).status, 404);
}

TEST_F(ImportRouteTest, ParametersAreCheckedBeforeAnyWork) {
  const std::string base = std::string("/api/v1/import?collection=") + kShared;
  struct Case {
    std::string target;
    int status;
    std::string error_id;
  };
  const std::vector<Case> cases = {
      {"/api/v1/import?format=text", 400, "bad_request"},
      {base, 400, "bad_format"},
      {base + "&format=pdf", 400, "bad_format"},
      {base + "&format=csv&csv_map=nonsense", 400, "bad_csv_map"},
      {base + "&format=text&tlp=purple", 400, "bad_marking"},
      {base + "&format=text&pap=x", 400, "bad_marking"},
      {base + "&format=text&colour=red", 400, "bad_parameter"},
      {"/api/v1/import?collection=no-such-collection&format=text", 404, "unknown_collection"},
  };
  for (const Case& c : cases) {
    Response r = Do(As("alice", "POST", c.target, "x"));
    EXPECT_EQ(r.status, c.status) << c.target << " " << r.body;
    EXPECT_EQ(r.error_id, c.error_id) << c.target;
    EXPECT_NE(r.body.find(R"("error_id":")" + c.error_id + "\""), std::string::npos) << r.body;
  }
  Request json = As("alice", "POST", base + "&format=text", "x");
  json.content_type = "application/json";
  EXPECT_EQ(Do(json).status, 415);
  Response empty = Do(As("alice", "POST", base + "&format=text", ""));
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.error_id, "empty_upload");
  Response big = Do(As("alice", "POST", base + "&format=text", std::string(1001, 'a')));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.error_id, "body_too_large");
  EXPECT_EQ(Do(As("alice", "GET", base + "&format=text")).status, 405);
  Response ok = Do(As("alice", "POST", base + "&format=csv&csv_map=1%3Dipv4-addr%3Avalue&tlp=green",
                      std::string(1000, 'a')));
  EXPECT_EQ(ok.status, 202) << ok.body;
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_LE(uploads_.size(), 1u);  // only the last one reached the import
}

TEST_F(ImportRouteTest, OnlyWritersOfTheCollectionMayImport) {
  // bob (beta, a reader) reads the shared collection: 403; the acme-only one
  // does not exist for him: 404.
  Response shared = Do(As(
      "bob", "POST", std::string("/api/v1/import?collection=") + kShared + "&format=stix", "{}"));
  EXPECT_EQ(shared.status, 403) << shared.body;
  EXPECT_EQ(shared.error_id, "forbidden");
  Response hidden = Do(As(
      "bob", "POST", std::string("/api/v1/import?collection=") + kAcmeOnly + "&format=stix", "{}"));
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(hidden.error_id, "unknown_collection");
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(uploads_.empty());
}

TEST_F(ImportRouteTest, SessionUploadsNeedTheCsrfTokenAndGetTheImportBodyLimit) {
  Request login;
  login.method = "POST";
  login.target = "/api/v1/session";
  login.content_type = "application/json";
  login.body = R"({"user":"alice","password":"pw-alice"})";
  Response in = Do(login);
  ASSERT_EQ(in.status, 200) << in.body;
  std::string cookie;
  for (const auto& [k, v] : in.headers) {
    if (k == "Set-Cookie") cookie = v.substr(0, v.find(';'));
  }
  Request upload;
  upload.method = "POST";
  upload.target = std::string("/api/v1/import?collection=") + kShared + "&format=text";
  upload.content_type = "application/octet-stream";
  upload.cookie = cookie;
  upload.body = "x";
  Response r = Do(upload);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_id, "csrf");
  EXPECT_EQ(console_->BodyLimit(upload), 1000u);
  upload.target = "/api/v1/search";
  EXPECT_EQ(console_->BodyLimit(upload), UINT64_MAX);
}

TEST_F(ImportRouteTest, WithoutAnImportFunctionTheEndpointIsNotServed) {
  options_.import_run = nullptr;
  MakeConsole();
  Response r = Do(As("alice", "GET", "/api/v1/import/x"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no such endpoint"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace ctihub::webapi
