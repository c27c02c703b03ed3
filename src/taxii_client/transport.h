// One HTTP/1.1 exchange over TCP or TLS, with a deadline: the only part of the
// client that touches sockets, and the only file that includes Beast/Asio
// (transport.cc), so the client's other translation units compile fast.
// No retries here (client.cc decides those). Not thread-safe: one Transport
// per thread (it owns an io_context).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "taxii_client/url.h"

namespace ctihub::taxii_client {

struct TlsOptions {
  std::string ca_file;        // PEM; empty: the system's trust store
  bool insecure_tls = false;  // no certificate or host name verification
};

struct HttpRequest {
  std::string method = "GET";
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header of that name (case-insensitive), or empty.
  std::string Header(std::string_view name) const;
};

struct TransportLimits {
  size_t max_response_bytes = 64u << 20;
  size_t max_header_bytes = 64u << 10;
  std::chrono::milliseconds connect_timeout{10000};  // resolve + connect + TLS handshake
};

// Errors (Status names): resolve_failed, connect_failed, tls_verify_failed,
// tls_handshake_failed, timeout, connection_closed (the server closed before the
// response was complete), response_too_large, bad_http (unparseable response),
// io_error. `RetryableTransportError` says which a retry may cure.
class Transport {
 public:
  // Loads the trust store. Errors: ca_file_unreadable.
  static Result<std::unique_ptr<Transport>> Create(const TlsOptions& tls);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  Result<HttpResponse> RoundTrip(const HttpRequest& request, const TransportLimits& limits,
                                 std::chrono::steady_clock::time_point deadline);

 private:
  class Impl;
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

bool RetryableTransportError(const Status& status);

}  // namespace ctihub::taxii_client
