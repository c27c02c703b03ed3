// The HTTP(S) front of the hub: an asynchronous Boost.Beast/Asio server.
//
// One C++20 coroutine per connection on a pool of IO threads; every read and
// write has a deadline (the header deadline defeats slowloris clients); the
// parser enforces header and body limits; handlers (taxii::Service, /healthz,
// /metrics) run on a separate worker pool because the store blocks, so IO
// threads never do. A handler past request_timeout gets its client a 503 and
// a closed connection while it runs on to the end on its worker (see
// ServerOptions::request_timeout). A response with a BodyProducer
// (taxii::Response::stream) is sent as a chunked body, one piece at a time
// with back-pressure: the next piece is produced, on a worker, only once the
// previous one was written. TLS through OpenSSL when a certificate is
// configured.
// SIGTERM/SIGINT (or RequestStop) stop accepting, let in-flight requests finish
// (bounded by drain_timeout) and return. Access log through spdlog (logger
// "access"); the Authorization header is never logged.
//
// Beast and Asio stay inside server.cc: this header is cheap to include.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store.h"
#include "taxii/taxii.h"

namespace ctihub::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8443;       // 0: the kernel picks one (tests)
  int io_threads = 0;         // 0: the number of cores
  int worker_threads = 0;     // 0: the number of cores
  std::string tls_cert_file;  // PEM chain; TLS is on when both files are set
  std::string tls_key_file;
  // Limits.
  size_t header_limit = size_t{16} * 1024;  // request line + headers: 431 over it
  // Bodies. A request body is read only after the Authorization header
  // authenticates (else 401 and close, body unread), and only up to the
  // smallest applicable limit: the API root's max_content_length when the
  // target names a root, else body_limit (413 and close over it, from the
  // Content-Length before any body byte). body_budget caps the body bytes held
  // by all connections together (a chunked body counts its whole limit):
  // over it, 503 body_budget_exhausted and close.
  uint64_t body_limit = 64ull * 1024 * 1024;
  uint64_t body_budget = 256ull * 1024 * 1024;
  int max_connections = 1024;                       // more: 503 and close
  std::chrono::milliseconds header_timeout{10000};  // whole header of a request
  std::chrono::milliseconds idle_timeout{30000};    // keep-alive wait for the next request
  std::chrono::milliseconds body_timeout{60000};    // whole body
  std::chrono::milliseconds write_timeout{60000};   // whole response
  // Handler deadline. Past it the client gets a 503 (request_timeout) and the
  // connection is closed; the handler is not cancelled (a store call cannot be
  // interrupted): it finishes on its worker, its result is dropped and logged,
  // and a POST's objects it accepted are still stored.
  std::chrono::milliseconds request_timeout{60000};
  std::chrono::milliseconds drain_timeout{30000};  // graceful shutdown
  bool handle_signals = true;                      // SIGTERM/SIGINT stop the server
  bool access_log = true;
  // Operational endpoints. Public ones answer without credentials. A private
  // one needs an Authorization header (Basic or Bearer) that `authenticate`
  // accepts, else 401 with WWW-Authenticate and a TAXII error object; private
  // /metrics also needs role admin or auditor (else 403). /healthz is public
  // by default (load balancers probe it; it only says "ok"), /metrics is not.
  // Without `authenticate` every private endpoint answers 401 (fail closed).
  bool public_health = true;
  bool public_metrics = false;
  // Problems the hub runs with, by stable name ("policy_reload_failed"); empty
  // when healthy. Called per /healthz and /metrics request on a worker. With
  // problems /healthz still answers 200 (the hub serves) with the body
  // "degraded: NAME...", and /metrics has ctihub_degraded{problem="NAME"} 1.
  std::function<std::vector<std::string>()> problems;
  // More metric families, in the text exposition format, appended to /metrics
  // (serve adds each peer's exchange totals and lag). Called per /metrics
  // request on a worker; may be empty.
  std::function<std::string()> extra_metrics;
  taxii::AuthenticateFn authenticate;  // usually the taxii::Service's function
  // Write deadline of each piece of a streamed (chunked) body
  // (taxii::Response::stream): write_timeout per chunk, and request_timeout
  // for each BodyProducer::Next, so a slow reader of a big export is not cut
  // off while it keeps reading. A missed deadline, a failed Next or a client
  // gone closes the connection without the last chunk.
  //
  // Test hook: when set, asked first on a worker for every request other than
  // /healthz and /metrics; a response it returns is answered instead of the
  // service's (http's own tests of streamed bodies).
  std::function<std::optional<taxii::Response>(const taxii::Request&)> respond_for_test;
  // The web console (webapi::Console, set by `ctihub serve`; docs/API.md): asked
  // on a worker before the service for every request other than /healthz and
  // /metrics; nullopt leaves the request to the service. `console_body_limit`
  // admits the body of a request its Authorization header does not (a session
  // cookie, a login): the body limit for it, or 0 when the console does not
  // admit it either (then the service's 401).
  std::function<std::optional<taxii::Response>(const taxii::Request&)> console;
  std::function<uint64_t(const taxii::Request&)> console_body_limit;
};

class Server {
 public:
  // `service` and `store` must outlive the server.
  Server(ServerOptions options, taxii::Service& service, store::Store& store);
  ~Server();

  // Binds and listens; returns the URL base ("http://127.0.0.1:PORT").
  // Errors: Unavailable (bind failure), InvalidArgument (bad address, TLS files).
  Result<std::string> Listen();
  // Serves until stopped (signal or RequestStop), then drains. REQUIRES: Listen() succeeded.
  void Run();
  // Thread-safe and async-signal-unsafe: starts a graceful stop.
  void RequestStop();

  uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The fuzz entry: parses raw bytes as one HTTP/1.1 request with the server's
// parser limits and turns it into the TAXII request model. Errors are
// InvalidArgument / LimitExceeded, never a crash.
Result<taxii::Request> ParseRequestBytesForTest(std::string_view bytes,
                                                const ServerOptions& limits);

}  // namespace ctihub::http
