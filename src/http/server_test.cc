// The server over real loopback sockets with the in-memory store.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/testing/memory_store.h"

namespace ctihub::http {
namespace {

class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Client() { close(fd_); }
  bool ok() const { return ok_; }
  bool Send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // One read of at most `n` bytes (waits up to 5 s for them).
  std::string ReadSome(size_t n) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return {};
    std::string out(n, '\0');
    ssize_t got = recv(fd_, out.data(), n, 0);
    out.resize(got > 0 ? static_cast<size_t>(got) : 0);
    return out;
  }
  // Reads until the peer closes or `timeout_ms` passes; returns what came.
  std::string ReadAll(int timeout_ms, bool* closed = nullptr) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, left) <= 0) break;
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

// Holds "Bearer slow" handlers until the test opens it, so a test decides when
// a late handler finishes instead of sleeping past it. Every wait is bounded.
class SlowGate {
 public:
  void Pass() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return open_; });
    ++finished_;
    cv_.notify_all();
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
    finished_ = 0;
  }
  bool WaitFinished(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return finished_ >= n; });
  }
  int finished() {
    std::lock_guard<std::mutex> lock(mu_);
    return finished_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int finished_ = 0;
};

SlowGate& Slow() {
  static SlowGate gate;
  return gate;
}

// "Bearer good": alice, a reader; "Bearer admin" / "Bearer auditor": those
// roles; "Bearer slow": alice once the SlowGate opens (a handler past its deadline).
Result<auth::Principal> TestAuthenticate(std::string_view h) {
  auth::Principal p;
  p.user_id = 1;
  p.user = "alice";
  if (h == "Bearer good") return p;
  if (h == "Bearer slow") {
    Slow().Pass();
    return p;
  }
  if (h == "Bearer admin" || h == "Bearer auditor") {
    p.user = std::string(h.substr(7));
    p.role = h == "Bearer admin" ? store::Role::kAdmin : store::Role::kAuditor;
    return p;
  }
  return Unauthenticated("no");
}

class ServerTest : public ::testing::Test {
 protected:
  // Fixtures override this to change the options of their server.
  virtual void Configure(ServerOptions&) {}

  void SetUp() override {
    ASSERT_TRUE(store_.PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    service_ = std::make_unique<taxii::Service>(store_, TestAuthenticate, taxii::ServiceOptions{},
                                                taxii::WithoutPolicyForTest());
    ServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.io_threads = 2;
    o.worker_threads = 2;
    o.header_limit = 4096;
    o.body_limit = 1 << 16;
    o.header_timeout = std::chrono::milliseconds(300);
    o.idle_timeout = std::chrono::milliseconds(300);
    o.handle_signals = false;
    o.access_log = false;
    o.authenticate = TestAuthenticate;
    Configure(o);
    server_ = std::make_unique<Server>(o, *service_, store_);
    auto url = server_->Listen();
    ASSERT_TRUE(url.ok()) << url.status().ToString();
    thread_ = std::thread([this] {
      server_->Run();
      late_handlers_done_at_return_ = Slow().finished();
    });
  }
  void TearDown() override {
    server_->RequestStop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Roundtrip(const std::string& raw, int timeout_ms = 2000) {
    Client c(server_->port());
    EXPECT_TRUE(c.ok());
    c.Send(raw);
    return c.ReadAll(timeout_ms);
  }

  store::MemoryStore store_;
  std::unique_ptr<taxii::Service> service_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<int> late_handlers_done_at_return_{-1};
};

std::string Get(std::string_view path, std::string_view auth = {}) {
  std::string r = "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  if (!auth.empty()) r += "Authorization: " + std::string(auth) + "\r\n";
  return r + "\r\n";
}

TEST_F(ServerTest, HealthzAndMetrics) {
  // Defaults: /healthz public, /metrics for admin and auditor users only.
  std::string r = Roundtrip(Get("/healthz"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("\r\n\r\nok\n"), std::string::npos);
  r = Roundtrip(Get("/metrics"));
  EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
  EXPECT_NE(r.find("WWW-Authenticate: Basic realm=\"ctihub\", Bearer realm=\"ctihub\""),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("\"http_status\":\"401\""), std::string::npos) << r;
  EXPECT_EQ(r.find("ctihub_http_requests_total"), std::string::npos) << r;
  r = Roundtrip(Get("/metrics", "Bearer wrong"));
  EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
  r = Roundtrip(Get("/metrics", "Bearer good"));  // a reader
  EXPECT_EQ(r.rfind("HTTP/1.1 403", 0), 0u) << r;
  EXPECT_NE(r.find("\"http_status\":\"403\""), std::string::npos) << r;
  r = Roundtrip(Get("/metrics", "Bearer auditor"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  r = Roundtrip(Get("/metrics", "Bearer admin"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("ctihub_http_requests_total{route=\"healthz\",status=\"200\"} 1"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("ctihub_http_requests_total{route=\"metrics\",status=\"401\"} 2"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("ctihub_http_requests_total{route=\"metrics\",status=\"403\"} 1"),
            std::string::npos)
      << r;
  EXPECT_EQ(r.find("ctihub_degraded{"), std::string::npos) << r;
}

class PrivateHealthTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override {
    o.public_health = false;
    o.public_metrics = true;
  }
};

TEST_F(PrivateHealthTest, HealthNeedsAnyUserMetricsPublic) {
  std::string r = Roundtrip(Get("/healthz"));
  EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
  EXPECT_NE(r.find("WWW-Authenticate"), std::string::npos) << r;
  EXPECT_EQ(r.find("\r\n\r\nok\n"), std::string::npos) << r;
  r = Roundtrip(Get("/healthz", "Bearer good"));  // any role
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("\r\n\r\nok\n"), std::string::npos);
  r = Roundtrip(Get("/metrics"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("ctihub_http_requests_total{route=\"healthz\",status=\"401\"} 1"),
            std::string::npos)
      << r;
}

class DegradedTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override {
    o.public_metrics = true;
    o.problems = [] { return std::vector<std::string>{"policy_reload_failed"}; };
  }
};

// Issue 12 item 12: a hub running on its last good policy says so.
TEST_F(DegradedTest, HealthzAndMetricsNameTheProblem) {
  std::string r = Roundtrip(Get("/healthz"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("\r\n\r\ndegraded: policy_reload_failed\n"), std::string::npos) << r;
  r = Roundtrip(Get("/metrics"));
  EXPECT_NE(r.find("ctihub_degraded{problem=\"policy_reload_failed\"} 1\n"), std::string::npos)
      << r;
}

class NoAuthenticatorTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override { o.authenticate = nullptr; }
};

TEST_F(NoAuthenticatorTest, PrivateEndpointsFailClosed) {
  std::string r = Roundtrip(Get("/metrics", "Bearer admin"));
  EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
  r = Roundtrip(Get("/healthz"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
}

class DeadlineTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override { o.request_timeout = std::chrono::milliseconds(100); }
  void SetUp() override {
    Slow().Close();
    ServerTest::SetUp();
  }
  void TearDown() override {
    Slow().Open();  // never leave a handler held
    ServerTest::TearDown();
  }
};

// A handler past its deadline: the client gets a 503 and a closed connection
// at once; the handler finishes later on its worker without touching the dead
// connection (ASan/TSan builds check that), and the server serves on.
TEST_F(DeadlineTest, LateHandlerGets503AndConnectionCloses) {
  for (int i = 0; i < 2; ++i) {
    Client c(server_->port());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.Send("GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow\r\n\r\n"));
    bool closed = false;
    auto start = std::chrono::steady_clock::now();
    std::string r = c.ReadAll(2000, &closed);
    EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
    EXPECT_NE(r.find("request_timeout"), std::string::npos) << r;
    EXPECT_TRUE(closed) << "keep-alive must end after a deadline";
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  }
  // Once the abandoned handlers are done (both workers), the server serves on.
  Slow().Open();
  ASSERT_TRUE(Slow().WaitFinished(2));
  std::string r = Roundtrip(Get("/taxii2/", "Bearer good"));
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  r = Roundtrip(Get("/metrics", "Bearer admin"));
  EXPECT_NE(r.find("ctihub_http_requests_total{route=\"timeout\",status=\"503\"} 2"),
            std::string::npos)
      << r;
}

// Stopping while an abandoned handler still runs: Run waits for it, nothing leaks.
TEST_F(DeadlineTest, StopWhileLateHandlerRuns) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.Send("GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer slow\r\n\r\n"));
  std::string r = c.ReadAll(1000);
  EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
  // Stop while the handler is still held: Run must wait for it.
  server_->RequestStop();
  EXPECT_EQ(late_handlers_done_at_return_.load(), -1) << "Run returned with a handler running";
  Slow().Open();
  thread_.join();
  EXPECT_EQ(late_handlers_done_at_return_.load(), 1) << "Run returned before its late handler";
}

TEST_F(ServerTest, TaxiiAndKeepAlive) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok());
  std::string req = "GET /taxii2/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n\r\n";
  ASSERT_TRUE(c.Send(req + req));
  std::string r = c.ReadAll(500);
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("HTTP/1.1 200", 5), std::string::npos) << "second pipelined response";
  std::string u = Roundtrip("GET /taxii2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(u.rfind("HTTP/1.1 401", 0), 0u) << u;
  EXPECT_NE(u.find("WWW-Authenticate"), std::string::npos);
  EXPECT_NE(u.find("\"http_status\":\"401\""), std::string::npos);
}

TEST_F(ServerTest, BadInputGetsErrorObjects) {
  std::string r = Roundtrip("BLAH\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  EXPECT_NE(r.find("malformed_http"), std::string::npos);
  r = Roundtrip("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 431", 0), 0u) << r;
  r = Roundtrip("POST /api1/ HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
}

TEST_F(ServerTest, SlowlorisIsCut) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  bool closed = false;
  auto start = std::chrono::steady_clock::now();
  c.ReadAll(3000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(ServerTest, ParseRequestBytes) {
  ServerOptions o;
  auto r = ParseRequestBytesForTest(
      "POST /a/?x=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nContent-Length: 2\r\n\r\n{}", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/a/?x=1");
  EXPECT_EQ(r->body, "{}");
  EXPECT_FALSE(ParseRequestBytesForTest("GET / HTTP/1.1\r\n", o).ok());
  EXPECT_FALSE(ParseRequestBytesForTest("\x01\x02", o).ok());
}

class BodyBudgetTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override { o.body_budget = 100000; }
};

std::string PostHead(size_t content_length, std::string_view auth = "Bearer good") {
  return "POST /api1/collections/c/objects/ HTTP/1.1\r\nHost: x\r\nAuthorization: " +
         std::string(auth) +
         "\r\nContent-Type: application/taxii+json;version=2.1\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n\r\n";
}

// Bodies held by all connections together stay within body_budget: a body
// that does not fit is refused from its headers (503 and close), and the
// budget comes back when a held body goes away.
TEST_F(BodyBudgetTest, BodiesOverTheBudgetAreRefused) {
  auto first = std::make_unique<Client>(server_->port());
  ASSERT_TRUE(first->ok());
  ASSERT_TRUE(first->Send(PostHead(60000) + std::string(100, 'a')));  // held: 60000 reserved
  EXPECT_EQ(first->ReadAll(300), "");
  Client second(server_->port());
  ASSERT_TRUE(second.Send(PostHead(60000)));
  bool closed = false;
  std::string r = second.ReadAll(2000, &closed);
  EXPECT_EQ(r.rfind("HTTP/1.1 503", 0), 0u) << r;
  EXPECT_NE(r.find("body_budget_exhausted"), std::string::npos) << r;
  EXPECT_TRUE(closed);
  first.reset();  // its body is abandoned: the budget is given back
  std::string third;
  for (int i = 0; i < 20; ++i) {
    Client c(server_->port());
    c.Send(PostHead(60000) + std::string(60000, ' '));
    third = c.ReadAll(2000);
    if (third.rfind("HTTP/1.1 503", 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(third.rfind("HTTP/1.1 ", 0), 0u) << third;
  EXPECT_NE(third.rfind("HTTP/1.1 503", 0), 0u) << third;
}

// Credentials are checked before a body is read: a stranger's body is never
// read (401 at once, connection closed), whatever its announced size.
TEST_F(ServerTest, BodyOfAStrangerIsNotRead) {
  Client c(server_->port());
  ASSERT_TRUE(c.Send(PostHead(60000, "Bearer wrong")));
  bool closed = false;
  std::string r = c.ReadAll(2000, &closed);
  EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
  EXPECT_NE(r.find("\"http_status\":\"401\""), std::string::npos) << r;
  EXPECT_TRUE(closed);
}

}  // namespace

// ---- streamed (chunked) bodies: taxii::Response::stream ----

// What the test producers did, shared with the test (every wait bounded).
struct StreamProbe {
  std::atomic<int> nexts{0};
  std::atomic<int> aborts{0};
  std::atomic<bool> finished{false};
};

// `chunks` pieces of `bytes` bytes each ("piece i" repeated), then the end;
// `fail_after` >= 0: an error instead of piece `fail_after`; chunks < 0: endless.
class TestProducer : public taxii::BodyProducer {
 public:
  TestProducer(StreamProbe& probe, int chunks, int fail_after, size_t bytes)
      : probe_(probe), chunks_(chunks), fail_after_(fail_after), bytes_(bytes) {}
  Result<bool> Next(std::string* out) override {
    ++probe_.nexts;
    out->clear();
    if (fail_after_ >= 0 && i_ == fail_after_) return Unavailable("store_gone", "injected");
    if (chunks_ >= 0 && i_ == chunks_) {
      probe_.finished = true;
      return false;
    }
    *out = Piece(i_++, bytes_);
    return true;
  }
  void Abort() override { ++probe_.aborts; }
  static std::string Piece(int i, size_t bytes) {
    std::string s;
    const std::string unit = "piece " + std::to_string(i) + ";";
    while (s.size() < bytes) s += unit;
    s.resize(bytes);
    return s;
  }

 private:
  StreamProbe& probe_;
  int chunks_, fail_after_;
  size_t bytes_;
  int i_ = 0;
};

class StreamTest : public ServerTest {
 protected:
  void Configure(ServerOptions& o) override {
    o.write_timeout = std::chrono::milliseconds(3000);
    o.respond_for_test = [this](const taxii::Request& req) -> std::optional<taxii::Response> {
      auto make = [&](int chunks, int fail_after, size_t bytes) {
        taxii::Response r;
        r.route = "stream";
        r.content_type = "text/plain";
        r.headers.emplace_back("ETag", "W/\"t\"");
        r.stream = std::make_shared<TestProducer>(probe_, chunks, fail_after, bytes);
        return r;
      };
      if (req.target == "/stream/five") return make(5, -1, 1000);
      if (req.target == "/stream/fail") return make(10, 3, 1000);
      if (req.target == "/stream/endless") return make(-1, -1, size_t{64} * 1024);
      return std::nullopt;
    };
  }
  // Waits (bounded) until `pred` holds.
  template <class Pred>
  static bool WaitFor(Pred pred, int ms = 5000) {
    for (int i = 0; i < ms / 10; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }
  StreamProbe probe_;
};

// Decodes a chunked body starting at `body`; `complete` says whether the last
// (zero) chunk came; `rest` what follows it.
std::string Dechunk(std::string_view body, bool* complete, std::string* rest = nullptr) {
  std::string out;
  *complete = false;
  for (;;) {
    size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) return out;
    size_t n = std::stoul(std::string(body.substr(0, eol)), nullptr, 16);
    body.remove_prefix(eol + 2);
    if (n == 0) {
      *complete = body.starts_with("\r\n");
      if (*complete && rest) *rest = std::string(body.substr(2));
      return out;
    }
    if (body.size() < n + 2) return out;
    out.append(body.substr(0, n));
    body.remove_prefix(n + 2);
  }
}

std::string HeaderPart(const std::string& r) { return r.substr(0, r.find("\r\n\r\n")); }
std::string BodyPart(const std::string& r) {
  size_t p = r.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : r.substr(p + 4);
}

TEST_F(StreamTest, BodyIsSentChunkedAndWhole) {
  bool closed = false;
  Client c(server_->port());
  ASSERT_TRUE(c.ok());
  c.Send(Get("/stream/five"));
  std::string r = c.ReadAll(5000, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r.substr(0, 300);
  const std::string head = HeaderPart(r);
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_NE(head.find("ETag: W/\"t\""), std::string::npos) << head;
  bool complete = false;
  std::string body = Dechunk(BodyPart(r), &complete);
  EXPECT_TRUE(complete);
  std::string want;
  for (int i = 0; i < 5; ++i) want += TestProducer::Piece(i, 1000);
  EXPECT_EQ(body, want);
  EXPECT_EQ(probe_.nexts.load(), 6);
  EXPECT_TRUE(probe_.finished.load());
  EXPECT_EQ(probe_.aborts.load(), 0);
}

TEST_F(StreamTest, KeepAliveCarriesTheNextRequest) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok());
  c.Send("GET /stream/five HTTP/1.1\r\nHost: x\r\n\r\n" + Get("/healthz"));
  bool closed = false;
  std::string r = c.ReadAll(5000, &closed);
  bool complete = false;
  std::string rest;
  std::string body = Dechunk(BodyPart(r), &complete, &rest);
  EXPECT_TRUE(complete) << r.substr(0, 300);
  EXPECT_EQ(body.size(), 5000u);
  EXPECT_EQ(rest.rfind("HTTP/1.1 200", 0), 0u) << rest;
  EXPECT_NE(rest.find("\r\n\r\nok\n"), std::string::npos) << rest;
}

// A producer error mid-stream closes the connection without the last chunk:
// the client never sees a cut body as a complete one.
TEST_F(StreamTest, ProducerErrorClosesWithoutLastChunk) {
  Client c(server_->port());
  ASSERT_TRUE(c.ok());
  c.Send("GET /stream/fail HTTP/1.1\r\nHost: x\r\n\r\n");  // keep-alive asked for
  bool closed = false;
  std::string r = c.ReadAll(5000, &closed);
  EXPECT_TRUE(closed) << "the connection must close";
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r.substr(0, 300);
  bool complete = true;
  std::string body = Dechunk(BodyPart(r), &complete);
  EXPECT_FALSE(complete);
  EXPECT_EQ(r.find("\r\n0\r\n\r\n"), std::string::npos);
  EXPECT_EQ(body.size(), 3000u);
  EXPECT_TRUE(WaitFor([&] { return probe_.aborts.load() == 1; }));
  EXPECT_FALSE(probe_.finished.load());
  EXPECT_EQ(Roundtrip(Get("/healthz")).rfind("HTTP/1.1 200", 0), 0u);
}

// Back-pressure: a client that does not read stalls the producer (the server
// holds one piece, the rest waits in socket buffers); a client that goes away
// stops it (aborted once) and the server serves on.
TEST_F(StreamTest, SlowClientStallsProducerAndGoneClientStopsIt) {
  {
    Client c(server_->port());
    ASSERT_TRUE(c.ok());
    c.Send(Get("/stream/endless"));
    std::string first = c.ReadSome(4096);  // one read: then the client stops reading
    EXPECT_EQ(first.rfind("HTTP/1.1 200", 0), 0u);
    // Not reading: the producer stops once the socket buffers are full.
    int stalled = -1;
    ASSERT_TRUE(WaitFor([&] {
      int before = probe_.nexts.load();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      stalled = probe_.nexts.load();
      return stalled == before;
    }));
    // Socket buffers hold a few MiB at most; an unbounded producer would be far past this.
    EXPECT_LT(stalled, 400) << "64 KiB pieces";
    EXPECT_EQ(probe_.aborts.load(), 0);
  }  // the client closes mid-stream
  EXPECT_TRUE(WaitFor([&] { return probe_.aborts.load() == 1; }));
  const int at_abort = probe_.nexts.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(probe_.nexts.load(), at_abort) << "no Next after Abort";
  EXPECT_EQ(Roundtrip(Get("/healthz")).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(StreamTest, HeadSendsTheHeaderAndNeverReadsTheBody) {
  std::string r = Roundtrip("HEAD /stream/five HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos) << r;
  EXPECT_EQ(BodyPart(r), "");
  EXPECT_EQ(probe_.nexts.load(), 0);
  EXPECT_EQ(probe_.aborts.load(), 0);
}

}  // namespace ctihub::http
