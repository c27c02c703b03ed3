// The one translation unit that includes Beast and Asio (see server.h).
#include "http/server.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <csignal>
#include <optional>
#include <thread>
#include <vector>

#include "http/metrics.h"
#include "taxii/query.h"

namespace ctihub::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);

namespace {

using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

// The request model of a header alone (the body not read yet).
taxii::Request HeaderOf(const BeastRequest& req, bool tls, const std::string& remote) {
  taxii::Request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.host = std::string(req[bhttp::field::host]);
  r.tls = tls;
  r.accept = std::string(req[bhttp::field::accept]);
  r.content_type = std::string(req[bhttp::field::content_type]);
  r.authorization = std::string(req[bhttp::field::authorization]);
  r.if_none_match = std::string(req[bhttp::field::if_none_match]);
  r.cookie = std::string(req[bhttp::field::cookie]);
  r.origin = std::string(req[bhttp::field::origin]);
  r.csrf_token = std::string(req["X-CSRF-Token"]);
  r.remote = remote;
  return r;
}

taxii::Request ToTaxii(BeastRequest&& req, bool tls, const std::string& remote) {
  taxii::Request r = HeaderOf(req, tls, remote);
  r.body = std::move(req.body());
  return r;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A framing the server refuses (request smuggling, RFC 9112 section 6): the
// only transfer coding is a single plain `chunked`, never beside a
// Content-Length. Any other coding (gzip, identity, a list) is 501 and the
// connection closes, so bytes after the header are never read as a request.
struct FramingError {
  int status;
  std::string_view id;
  std::string why;
};
std::optional<FramingError> CheckFraming(const BeastRequest& req) {
  int codings = 0;
  bool chunked_only = true;
  for (auto it = req.find(bhttp::field::transfer_encoding);
       it != req.end() && it->name() == bhttp::field::transfer_encoding; ++it) {
    ++codings;
    chunked_only = chunked_only && beast::iequals(TrimOws(it->value()), "chunked");
  }
  if (codings == 0) return std::nullopt;
  if (codings > 1 || !chunked_only) {
    return FramingError{501, "unsupported_transfer_encoding",
                        "the only Transfer-Encoding accepted is a single \"chunked\""};
  }
  if (req.find(bhttp::field::content_length) != req.end()) {
    return FramingError{400, "ambiguous_framing", "Transfer-Encoding and Content-Length together"};
  }
  return std::nullopt;
}

// Moves r.body into the Beast response (a page can be megabytes: no copy).
BeastResponse ToBeast(taxii::Response& r, unsigned version, bool keep_alive, bool head) {
  BeastResponse res;
  res.version(version);
  res.result(static_cast<unsigned>(r.status));
  res.set(bhttp::field::server, "ctihub");
  if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  r.body.clear();
  res.prepare_payload();
  if (head) {
    size_t n = res.body().size();
    res.body().clear();
    res.content_length(n);
  }
  return res;
}

// The path part of a target, for the non-TAXII endpoints.
std::string_view PathOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string LogTarget(std::string_view target) {
  std::string out;
  for (char c : target.substr(0, 512)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f || c == '"') ? '?' : c;
  }
  return out;
}

// The bytes of request bodies held in memory by all connections together. A
// body reserves its size (a chunked one: its limit) before its first byte is
// read and gives it back when its handler is done with it.
class BodyBudget {
 public:
  explicit BodyBudget(uint64_t total) : left_(total) {}

  class Reservation {
   public:
    Reservation(BodyBudget& budget, uint64_t bytes) : budget_(budget), bytes_(bytes) {}
    ~Reservation() { budget_.left_ += bytes_; }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;

   private:
    BodyBudget& budget_;
    uint64_t bytes_;
  };

  // nullptr when `bytes` do not fit in what is left.
  std::shared_ptr<Reservation> Reserve(uint64_t bytes) {
    uint64_t left = left_.load();
    do {
      if (bytes > left) return nullptr;
    } while (!left_.compare_exchange_weak(left, left - bytes));
    return std::make_shared<Reservation>(*this, bytes);
  }

 private:
  std::atomic<uint64_t> left_;
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions o, taxii::Service& service, store::Store& store)
      : opts_(std::move(o)),
        service_(service),
        store_(store),
        ioc_(Threads(opts_.io_threads)),
        accept_strand_(asio::make_strand(ioc_)),
        workers_(Threads(opts_.worker_threads)),
        acceptor_(ioc_),
        signals_(ioc_) {
    if (opts_.access_log) {
      access_ = spdlog::get("access");
      if (!access_) access_ = spdlog::stderr_logger_mt("access");
    }
  }

  ~Impl() {
    if (!ran_) {
      ioc_.stop();
    }
    workers_.join();
  }

  static int Threads(int n) {
    if (n > 0) return n;
    unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 2 : static_cast<int>(hc);
  }

  Result<std::string> Listen() {
    beast::error_code ec;
    if (!opts_.tls_cert_file.empty() || !opts_.tls_key_file.empty()) {
      if (opts_.tls_cert_file.empty() || opts_.tls_key_file.empty()) {
        return InvalidArgument("TLS needs both a certificate and a key file");
      }
      ssl_.emplace(ssl::context::tls_server);
      ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                        ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                        ssl::context::single_dh_use);
      ssl_->use_certificate_chain_file(opts_.tls_cert_file, ec);
      if (ec)
        return InvalidArgument("TLS certificate " + opts_.tls_cert_file + ": " + ec.message());
      ssl_->use_private_key_file(opts_.tls_key_file, ssl::context::pem, ec);
      if (ec) return InvalidArgument("TLS key " + opts_.tls_key_file + ": " + ec.message());
    }
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(opts_.host, std::to_string(opts_.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
      return InvalidArgument("cannot resolve " + opts_.host + ": " + ec.message());
    tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("cannot listen on " + opts_.host + ":" + std::to_string(opts_.port) +
                         ": " + ec.message());
    }
    tcp::endpoint bound = acceptor_.local_endpoint(ec);
    port_ = bound.port();
    std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                               : bound.address().to_string();
    return std::string(ssl_ ? "https://" : "http://") + host + ":" + std::to_string(port_);
  }

  void Run() {
    ran_ = true;
    if (opts_.handle_signals) {
      signals_.add(SIGINT);
      signals_.add(SIGTERM);
      signals_.async_wait(
          asio::bind_executor(accept_strand_, [this](const beast::error_code& ec, int) {
            if (!ec) BeginStop();
          }));
    }
    asio::co_spawn(accept_strand_, AcceptLoop(), asio::detached);
    int n = Threads(opts_.io_threads);
    std::vector<std::thread> threads;
    for (int i = 1; i < n; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
    // Handlers still running after a drain timeout finish before we return.
    workers_.join();
  }

  void RequestStop() {
    asio::post(accept_strand_, [this] { BeginStop(); });
  }

  uint16_t port() const { return port_; }

 private:
  // On accept_strand_, like AcceptLoop: an acceptor is not safe to close on
  // one IO thread while another starts an accept on it.
  void BeginStop() {
    if (stopping_.exchange(true)) return;
    beast::error_code ec;
    acceptor_.close(ec);
    signals_.cancel(ec);
    if (access_) access_->info("shutdown: draining {} request(s)", in_flight_.load());
    asio::co_spawn(ioc_, Drain(), asio::detached);
  }

  awaitable<void> Drain() {
    asio::steady_timer timer(ioc_);
    auto deadline = std::chrono::steady_clock::now() + opts_.drain_timeout;
    while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(kTuple);
    }
    ioc_.stop();
  }

  awaitable<void> AcceptLoop() {
    while (!stopping_) {
      auto strand = asio::make_strand(ioc_);
      auto [ec, socket] = co_await acceptor_.async_accept(strand, kTuple);
      if (ec) {
        if (stopping_ || ec == asio::error::operation_aborted) co_return;
        // EMFILE and friends: back off instead of spinning.
        asio::steady_timer t(ioc_);
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(kTuple);
        continue;
      }
      if (connections_.load() >= opts_.max_connections) {
        asio::co_spawn(strand, Reject(std::move(socket)), asio::detached);
        continue;
      }
      ++connections_;
      asio::co_spawn(strand, Session(std::move(socket)),
                     [this](const std::exception_ptr&) { --connections_; });
    }
  }

  awaitable<void> Reject(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    taxii::Response r = taxii::ErrorResponse(503, "too_many_connections", "Service Unavailable",
                                             "too many connections");
    r.route = "connection";
    BeastResponse res = ToBeast(r, 11, false, false);
    stream.expires_after(std::chrono::seconds(2));
    co_await bhttp::async_write(stream, res, kTuple);
    metrics_.Observe("connection", 503, 0, "too_many_connections");
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }

  awaitable<void> Session(tcp::socket socket) {
    beast::error_code ec;
    std::string remote;
    {
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    beast::tcp_stream tcp_stream(std::move(socket));
    if (ssl_) {
      beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *ssl_);
      stream.next_layer().expires_after(opts_.header_timeout);
      auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
      if (hec) co_return;
      bool clean = co_await Serve(stream, remote, true);
      if (clean) {
        stream.next_layer().expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(kTuple);
      }
    } else {
      co_await Serve(tcp_stream, remote, false);
      tcp_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  // Answers an error produced by the HTTP layer itself and closes.
  template <class Stream>
  awaitable<void> FailAndClose(Stream& stream, const std::string& remote, int status,
                               std::string_view id, std::string_view title, std::string_view why) {
    taxii::Response r = taxii::ErrorResponse(status, id, title, why);
    r.route = "http";
    BeastResponse res = ToBeast(r, 11, false, false);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await bhttp::async_write(stream, res, kTuple);
    metrics_.Observe("http", status, 0, id);
    if (access_) access_->info("{} \"-\" {} {} 0ms err={}", remote, status, res.body().size(), id);
    co_await DiscardUnread(stream);
  }

  // Before closing on unread request bytes: reads and drops what the client
  // is still sending, for a moment and up to a bound, so that the close does
  // not reset the connection before the client has read our answer.
  template <class Stream>
  awaitable<void> DiscardUnread(Stream& stream) {
    constexpr size_t kMaxBytes = 1 << 20;
    constexpr auto kMaxTime = std::chrono::milliseconds(1000);
    constexpr auto kQuiet = std::chrono::milliseconds(200);
    std::array<char, 8192> sink;
    const auto until = std::chrono::steady_clock::now() + kMaxTime;
    for (size_t total = 0; total < kMaxBytes;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) break;
      beast::get_lowest_layer(stream).expires_after(
          std::min<std::chrono::steady_clock::duration>(kQuiet, until - now));
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (ec) break;
      total += n;
    }
  }

  // The answer of a request refused before its body was read; then closes.
  template <class Stream>
  awaitable<void> AnswerAndClose(Stream& stream, const std::string& remote,
                                 const taxii::Request& head, taxii::Response response,
                                 std::chrono::steady_clock::time_point start) {
    const size_t body_bytes = response.body.size();
    BeastResponse res = ToBeast(response, 11, false, head.method == "HEAD");
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await bhttp::async_write(stream, res, kTuple);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_.Observe(response.route, response.status, seconds, response.error_id);
    if (access_) {
      access_->info("{} \"{} {}\" {} {} {:.1f}ms user=- err={}", remote, head.method,
                    LogTarget(head.target), response.status, body_bytes, seconds * 1000,
                    response.error_id);
    }
    co_await DiscardUnread(stream);
  }

  // Whether a request's body may be read, and its limit: the caller must
  // authenticate on the headers (else the service's 401, body unread), and the
  // limit is the API root's max_content_length when the target names one.
  // Runs on a worker (authentication and the store may block).
  struct BodyAdmission {
    std::optional<taxii::Response> refusal;
    uint64_t body_limit = 0;
    bool root_limit = false;  // body_limit is the API root's max_content_length
  };
  BodyAdmission AdmitBody(const taxii::Request& head) {
    BodyAdmission out;
    out.body_limit = opts_.body_limit;
    try {
      const bool known = opts_.authenticate && !head.authorization.empty() && [&] {
        auto who = opts_.authenticate(head.authorization);
        return who.ok() && !who->anonymous;
      }();
      if (!known) {
        const uint64_t console_limit =
            opts_.console_body_limit ? opts_.console_body_limit(head) : 0;
        if (console_limit > 0) {
          out.body_limit = std::min(out.body_limit, console_limit);
          return out;
        }
        out.refusal = service_.RefuseUnauthenticated(head);
        return out;
      }
      auto target = taxii::ParseTarget(head.target);
      if (!target.ok() || target->segments.empty()) return out;
      auto roots = store_.ListApiRoots();
      if (!roots.ok()) return out;  // the server's limit; the handler reports the store
      for (const auto& root : *roots) {
        if (root.name == target->segments[0] && root.max_content_length > 0 &&
            static_cast<uint64_t>(root.max_content_length) < out.body_limit) {
          out.body_limit = static_cast<uint64_t>(root.max_content_length);
          out.root_limit = true;
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("body admission: {}", e.what());
      out.refusal =
          taxii::ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    }
    return out;
  }

  static std::string BodyTooLarge(const BodyAdmission& admission) {
    if (admission.root_limit) {
      return "the body exceeds max_content_length of this API root (" +
             std::to_string(admission.body_limit) + " bytes)";
    }
    return "the body exceeds " + std::to_string(admission.body_limit) + " bytes";
  }

  // Returns true when the connection may be closed cleanly (TLS close_notify).
  template <class Stream>
  awaitable<bool> Serve(Stream& stream, const std::string& remote, bool tls) {
    beast::flat_buffer buffer;
    bool first = true;
    while (!stopping_) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opts_.header_limit));
      parser.body_limit(opts_.body_limit);
      beast::get_lowest_layer(stream).expires_after(first ? opts_.header_timeout
                                                          : opts_.idle_timeout);
      first = false;
      if (buffer.size() > 0) {
        // Pipelined bytes already wait: the whole header is due within the header deadline.
        beast::get_lowest_layer(stream).expires_after(opts_.header_timeout);
      }
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset) {
        co_return true;
      }
      if (ec == beast::error::timeout) {
        if (buffer.size() > 0) metrics_.Observe("http", 408, 0, "header_timeout");
        co_return false;
      }
      if (ec == bhttp::error::header_limit) {
        co_await FailAndClose(
            stream, remote, 431, "header_too_large", "Request Header Fields Too Large",
            "the request line and headers exceed " + std::to_string(opts_.header_limit) + " bytes");
        co_return true;
      }
      if (ec == bhttp::error::body_limit) {
        co_await FailAndClose(stream, remote, 413, "body_too_large", "Payload Too Large",
                              "the body exceeds " + std::to_string(opts_.body_limit) + " bytes");
        co_return true;
      }
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return false;
        co_await FailAndClose(stream, remote, 400, "malformed_http", "Bad Request",
                              "malformed HTTP request: " + ec.message());
        co_return true;
      }
      if (auto framing = CheckFraming(parser.get())) {
        co_await FailAndClose(stream, remote, framing->status, framing->id,
                              framing->status == 501 ? "Not Implemented" : "Bad Request",
                              framing->why);
        co_return true;
      }
      ++in_flight_;
      struct Dec {
        std::atomic<int>& v;
        ~Dec() { --v; }
      } dec{in_flight_};
      auto start = std::chrono::steady_clock::now();

      // A body is read only from an authenticated caller, within the smallest
      // applicable limit and the server-wide budget (see ServerOptions).
      std::shared_ptr<BodyBudget::Reservation> reservation;
      uint64_t body_limit = opts_.body_limit;
      if (!parser.is_done()) {
        // On a worker (authentication and the store may block); like the Job
        // below, the worker shares only this small object with the connection.
        struct Admit {
          explicit Admit(const asio::any_io_executor& ex) : timer(ex) {}
          taxii::Request head;
          BodyAdmission admission;
          asio::steady_timer timer;
        };
        auto admit = std::make_shared<Admit>(co_await asio::this_coro::executor);
        admit->head = HeaderOf(parser.get(), tls, remote);
        admit->timer.expires_at(asio::steady_timer::time_point::max());
        asio::post(workers_, [this, admit] {
          admit->admission = AdmitBody(admit->head);
          asio::post(admit->timer.get_executor(), [admit] { admit->timer.cancel(); });
        });
        co_await admit->timer.async_wait(kTuple);
        const taxii::Request& head = admit->head;
        BodyAdmission& admission = admit->admission;
        if (admission.refusal) {
          co_await AnswerAndClose(stream, remote, head, std::move(*admission.refusal), start);
          co_return true;
        }
        body_limit = admission.body_limit;
        const auto declared = parser.content_length();
        if (declared && *declared > body_limit) {
          co_await FailAndClose(stream, remote, 413, "body_too_large", "Payload Too Large",
                                BodyTooLarge(admission));
          co_return true;
        }
        reservation = body_budget_.Reserve(declared ? *declared : body_limit);
        if (!reservation) {
          co_await FailAndClose(stream, remote, 503, "body_budget_exhausted", "Service Unavailable",
                                "the server holds too many request bodies; retry later");
          co_return true;
        }
        parser.body_limit(body_limit);
        if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
          beast::get_lowest_layer(stream).expires_after(opts_.write_timeout);
          auto [cec, cn] = co_await bhttp::async_write(stream, cont, kTuple);
          if (cec) co_return false;
        }
        beast::get_lowest_layer(stream).expires_after(opts_.body_timeout);
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (bec == bhttp::error::body_limit) {
          co_await FailAndClose(stream, remote, 413, "body_too_large", "Payload Too Large",
                                BodyTooLarge(admission));
          co_return true;
        }
        if (bec == beast::error::timeout) {
          metrics_.Observe("http", 408, 0, "body_timeout");
          co_return false;
        }
        if (bec) {
          if (bec == asio::error::operation_aborted || bec == asio::error::eof ||
              bec == bhttp::error::partial_message || bec == asio::error::connection_reset) {
            co_return false;
          }
          co_await FailAndClose(stream, remote, 400, "malformed_http", "Bad Request",
                                "malformed HTTP body: " + bec.message());
          co_return true;
        }
      }

      BeastRequest req = parser.release();
      const unsigned version = req.version();
      const bool keep_alive = req.keep_alive();
      const bool head = req.method() == bhttp::verb::head;
      std::string method(req.method_string());
      std::string log_target = LogTarget(req.target());

      // Run the handler on the worker pool; the timer is the per-request deadline.
      //
      // Deadline contract (no leak, no use-after-free): the Job is shared by
      // this coroutine and the worker, so it lives until both are done with it;
      // the worker touches nothing else of the connection (not the stream, the
      // buffer or this frame), only the Job and the server-wide Impl (metrics,
      // logs), which outlives every worker (Run and ~Impl join the pool).
      // `state` is decided exactly once: the worker moves it running -> done
      // (the response is then this coroutine's, and the worker cancels the
      // timer), or this coroutine, woken by the deadline, moves it running ->
      // abandoned, answers 503 request_timeout and closes the connection. An
      // abandoned handler is not cancelled (a store call cannot be
      // interrupted): it runs to its end, its response is dropped and logged
      // and the Job freed by the worker; objects a POST handed to the store are
      // still stored (and counted as ingested). Graceful shutdown waits for such
      // handlers (Run joins the pool) but not for their connections.
      enum : int { kRunning, kDone, kAbandoned };
      struct Job {
        explicit Job(const asio::any_io_executor& ex) : timer(ex) {}
        taxii::Request request;
        std::shared_ptr<BodyBudget::Reservation> body;  // released with the Job
        taxii::Response response;
        std::atomic<int> state{kRunning};
        asio::steady_timer timer;
      };
      auto job = std::make_shared<Job>(co_await asio::this_coro::executor);
      job->request = ToTaxii(std::move(req), tls, remote);
      job->body = std::move(reservation);
      job->timer.expires_after(opts_.request_timeout);
      asio::post(workers_, [this, job, start] {
        job->response = HandleRequest(job->request);
        int expected = kRunning;
        if (job->state.compare_exchange_strong(expected, kDone, std::memory_order_acq_rel)) {
          asio::post(job->timer.get_executor(), [job] { job->timer.cancel(); });
          return;
        }
        LateHandlerFinished(job->request, job->response, start);
      });
      co_await job->timer.async_wait(kTuple);
      taxii::Response response;
      int expected = kRunning;
      const bool timed_out =
          job->state.compare_exchange_strong(expected, kAbandoned, std::memory_order_acq_rel);
      if (timed_out) {
        response = taxii::ErrorResponse(503, "request_timeout", "Service Unavailable",
                                        "the request took too long");
        response.route = "timeout";
      } else {
        response = std::move(job->response);
      }
      job.reset();  // an abandoned Job now belongs to its worker alone
      if (response.objects_accepted > 0) metrics_.AddIngested(response.objects_accepted);
      if (response.status >= 500 && !response.internal_detail.empty()) {
        spdlog::error("{} {} {}: {}", method, log_target, response.status,
                      response.internal_detail);
      }
      if (response.stream && !timed_out) {
        const bool again = keep_alive && !stopping_;
        const bool complete = co_await SendStream(stream, remote, method, log_target, version,
                                                  again, head, response, start);
        if (!complete || !again) co_return complete;
        continue;
      }
      response.stream.reset();  // a timed-out handler's producer: never read
      const bool again = keep_alive && !stopping_ && !timed_out;
      const size_t body_bytes = response.body.size();
      BeastResponse res = ToBeast(response, version, again, head);
      beast::get_lowest_layer(stream).expires_after(opts_.write_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      metrics_.Observe(response.route, response.status, seconds,
                       response.status >= 400 ? response.error_id : std::string());
      if (access_) {
        access_->info("{} \"{} {}\" {} {} {:.1f}ms user={}{}{}", remote, method, log_target,
                      response.status, body_bytes, seconds * 1000,
                      response.user.empty() ? "-" : response.user,
                      response.error_id.empty() ? "" : " err=", response.error_id);
      }
      if (wec || !again) co_return !wec;
    }
    co_return true;
  }

  // Calls a producer's Next on a worker; never throws.
  static Result<bool> SafeNext(taxii::BodyProducer& producer, std::string* out) {
    try {
      return producer.Next(out);
    } catch (const std::exception& e) {
      return Internal("stream_exception", e.what());
    } catch (...) {
      return Internal("stream_exception", "unknown exception");
    }
  }
  static void SafeAbort(taxii::BodyProducer& producer) {
    try {
      producer.Abort();
    } catch (const std::exception& e) {
      spdlog::error("stream abort: {}", e.what());
    } catch (...) {
      spdlog::error("stream abort: unknown exception");
    }
  }

  // Sends a response whose body a BodyProducer makes, as a chunked body: the
  // header, then one chunk per Next (run on a worker, at most one piece held
  // here: back-pressure), then the last chunk once Next says the body is
  // complete. Returns true when the whole response was sent (the connection
  // may carry another request); false when it must close: a write failed or
  // timed out (write_timeout per chunk), Next failed or missed
  // request_timeout. Then the producer is aborted (on a worker) and the
  // body's last chunk is never sent, so the client sees a cut body as cut.
  template <class Stream>
  awaitable<bool> SendStream(Stream& stream, const std::string& remote, const std::string& method,
                             const std::string& log_target, unsigned version, bool again, bool head,
                             taxii::Response& response,
                             std::chrono::steady_clock::time_point start) {
    std::shared_ptr<taxii::BodyProducer> producer = std::move(response.stream);
    bhttp::response<bhttp::buffer_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(response.status));
    res.set(bhttp::field::server, "ctihub");
    if (!response.content_type.empty()) res.set(bhttp::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res.set(k, v);
    res.keep_alive(again);
    res.chunked(true);
    bhttp::response_serializer<bhttp::buffer_body> sr{res};
    beast::get_lowest_layer(stream).expires_after(opts_.write_timeout);
    auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, kTuple);
    uint64_t sent = 0;
    std::string_view failure;  // why the body stopped before its end
    if (hec) {
      failure = "stream_write_failed";
    } else if (!head) {
      std::string chunk;
      for (;;) {
        // One Next on a worker, with the handler deadline; shared like Job.
        enum : int { kRunning, kDone, kAbandoned };
        struct Pull {
          explicit Pull(const asio::any_io_executor& ex) : timer(ex) {}
          std::shared_ptr<taxii::BodyProducer> producer;
          std::string chunk;
          Result<bool> more = false;
          std::atomic<int> state{kRunning};
          asio::steady_timer timer;
        };
        auto pull = std::make_shared<Pull>(co_await asio::this_coro::executor);
        pull->producer = producer;
        pull->chunk = std::move(chunk);
        pull->timer.expires_after(opts_.request_timeout);
        asio::post(workers_, [pull] {
          pull->more = SafeNext(*pull->producer, &pull->chunk);
          int expected = kRunning;
          if (pull->state.compare_exchange_strong(expected, kDone, std::memory_order_acq_rel)) {
            asio::post(pull->timer.get_executor(), [pull] { pull->timer.cancel(); });
            return;
          }
          // Abandoned: the connection is closed; this worker ends the producer.
          if (!pull->more.ok() || *pull->more) SafeAbort(*pull->producer);
          pull->producer.reset();
        });
        co_await pull->timer.async_wait(kTuple);
        int expected = kRunning;
        if (pull->state.compare_exchange_strong(expected, kAbandoned, std::memory_order_acq_rel)) {
          failure = "stream_timeout";
          producer.reset();  // the worker aborts it
          break;
        }
        Result<bool> more = std::move(pull->more);
        chunk = std::move(pull->chunk);
        pull.reset();
        if (!more.ok()) {
          failure = "stream_failed";
          spdlog::error("{} {}: the body stopped after {} bytes: {}", method, log_target, sent,
                        more.status().NamedMessage());
          break;
        }
        if (!chunk.empty()) {
          res.body().data = chunk.data();
          res.body().size = chunk.size();
          res.body().more = true;
          beast::get_lowest_layer(stream).expires_after(opts_.write_timeout);
          auto [wec, wn] = co_await bhttp::async_write(stream, sr, kTuple);
          if (wec == bhttp::error::need_buffer) wec = {};
          if (wec) {
            failure = "stream_write_failed";
            break;
          }
          sent += chunk.size();
        }
        if (!*more) {
          producer.reset();  // complete: nothing to abort
          res.body().data = nullptr;
          res.body().size = 0;
          res.body().more = false;
          beast::get_lowest_layer(stream).expires_after(opts_.write_timeout);
          auto [lec, ln] = co_await bhttp::async_write(stream, sr, kTuple);
          if (lec) failure = "stream_write_failed";
          break;
        }
      }
    }
    if (producer && !head) {
      // Stopped before its end: the producer learns it on a worker (its audit
      // records may block on the trail), never on this IO thread.
      asio::post(workers_, [producer] { SafeAbort(*producer); });
    }
    producer.reset();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics_.Observe(response.route, response.status, seconds,
                     !failure.empty()         ? std::string(failure)
                     : response.status >= 400 ? response.error_id
                                              : std::string());
    if (access_) {
      access_->info("{} \"{} {}\" {} {} {:.1f}ms user={} stream{}{}", remote, method, log_target,
                    response.status, sent, seconds * 1000,
                    response.user.empty() ? "-" : response.user,
                    failure.empty() ? "" : " err=", failure);
    }
    co_return failure.empty();
  }

  // Runs on a worker thread, after the client got its 503: the only trace of
  // the handler's outcome.
  void LateHandlerFinished(const taxii::Request& req, const taxii::Response& r,
                           std::chrono::steady_clock::time_point start) {
    if (r.objects_accepted > 0) metrics_.AddIngested(r.objects_accepted);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::warn(
        "{} {} finished after its deadline ({:.1f}s > {}ms): status {}{}{}, response dropped",
        req.method, LogTarget(req.target), seconds, opts_.request_timeout.count(), r.status,
        r.error_id.empty() ? "" : " err=", r.error_id);
  }

  // Access to a private operational endpoint: nullopt when allowed (`user` is
  // set), else the 401 / 403 to answer. `ops_role`: admin or auditor only.
  std::optional<taxii::Response> CheckOpsAccess(const taxii::Request& req, bool ops_role,
                                                std::string& user) {
    if (req.authorization.empty()) {
      return taxii::ErrorResponse(401, "unauthenticated", "Unauthorized",
                                  "authentication required");
    }
    if (!opts_.authenticate) {
      return taxii::ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication failed");
    }
    auto p = opts_.authenticate(req.authorization);
    if (!p.ok() || p->anonymous) {
      return taxii::ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication failed");
    }
    user = p->user;
    if (ops_role && p->role != store::Role::kAdmin && p->role != store::Role::kAuditor) {
      return taxii::ErrorResponse(403, "ops_forbidden", "Forbidden",
                                  "only admin and auditor users may read this endpoint");
    }
    return std::nullopt;
  }

  // Runs on a worker thread. Never throws.
  taxii::Response HandleRequest(const taxii::Request& req) {
    try {
      std::string_view path = PathOf(req.target);
      if (path == "/healthz" || path == "/metrics") {
        const bool metrics = path == "/metrics";
        std::string route(path.substr(1));
        std::string user;
        // Credentials first, as on TAXII routes: a stranger learns nothing.
        if (!(metrics ? opts_.public_metrics : opts_.public_health)) {
          if (auto denied = CheckOpsAccess(req, metrics, user)) {
            denied->route = route;
            denied->user = user;
            return std::move(*denied);
          }
        }
        taxii::Response r;
        if (req.method != "GET" && req.method != "HEAD") {
          r = taxii::ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
        }
        // A hub whose store cannot be reached serves nothing: unhealthy (503),
        // so a load balancer sends its clients to another node.
        if (r.status == 200 && !metrics) {
          if (Status db = store_.Ping(); !db.ok()) {
            r.status = 503;
            r.content_type = "text/plain; charset=utf-8";
            r.body = "unhealthy: " + std::string(db.name()) + "\n";
            r.route = route;
            r.user = user;
            return r;
          }
        }
        std::vector<std::string> problems;
        if (r.status == 200 && opts_.problems) problems = opts_.problems();
        if (r.status == 200 && !metrics) {
          r.content_type = "text/plain; charset=utf-8";
          r.body = problems.empty() ? "ok\n" : "degraded:";
          for (const auto& p : problems) r.body += " " + p;
          if (!problems.empty()) r.body += "\n";
        }
        r.route = route;
        r.user = user;
        if (r.status != 200 || !metrics) return r;
        Metrics::Gauges g;
        g.problems = std::move(problems);
        auto n = store_.CountObjects();
        g.objects_stored = n.ok() ? *n : -1;
        g.connections = connections_.load();
        g.in_flight = in_flight_.load();
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = metrics_.Render(g);
        if (opts_.extra_metrics) r.body += opts_.extra_metrics();
        return r;
      }
      if (opts_.respond_for_test) {
        if (auto r = opts_.respond_for_test(req)) return std::move(*r);
      }
      if (opts_.console) {
        if (auto r = opts_.console(req)) return std::move(*r);
      }
      return service_.Handle(req);
    } catch (const std::exception& e) {
      spdlog::error("handler exception: {}", e.what());
      return taxii::ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    } catch (...) {
      return taxii::ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    }
  }

  // Declaration order matters for destruction: coroutine frames still parked
  // in ioc_ are destroyed with it and may touch the counters and the TLS
  // context, so those are declared (and outlive) before ioc_; the acceptor and
  // signal set belong to ioc_ and are declared after it.
  ServerOptions opts_;
  taxii::Service& service_;
  store::Store& store_;
  Metrics metrics_;
  BodyBudget body_budget_{opts_.body_budget};
  std::shared_ptr<spdlog::logger> access_;
  std::optional<ssl::context> ssl_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> in_flight_{0};
  uint16_t port_ = 0;
  bool ran_ = false;
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> accept_strand_;  // acceptor_, signals_, BeginStop
  asio::thread_pool workers_;  // joined in ~Impl before ioc_ goes away
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
};

Server::Server(ServerOptions options, taxii::Service& service, store::Store& store)
    : impl_(std::make_unique<Impl>(std::move(options), service, store)) {}
Server::~Server() = default;
Result<std::string> Server::Listen() { return impl_->Listen(); }
void Server::Run() { impl_->Run(); }
void Server::RequestStop() { impl_->RequestStop(); }
uint16_t Server::port() const { return impl_->port(); }

}  // namespace ctihub::http
