// The one translation unit of the client that includes Beast/Asio/OpenSSL.
// Each exchange opens a connection, sends one request with "Connection: close"
// and reads one response with Beast's parser limits. Every asynchronous step
// runs on the Transport's own io_context until it completes or its deadline
// passes; then the socket is closed, which completes the step as aborted.
#include "taxii_client/transport.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <optional>

namespace ctihub::taxii_client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

bool IsIpAddress(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

// Runs the io_context until `*done` or `deadline`; on the deadline calls
// `cancel` (which makes the pending operation complete) and drains.
// Returns false on timeout.
template <typename Cancel>
bool RunUntil(asio::io_context& ioc, const bool* done, Clock::time_point deadline, Cancel cancel) {
  ioc.restart();
  while (!*done) {
    if (Clock::now() >= deadline) {
      cancel();
      ioc.restart();
      ioc.run();
      return false;
    }
    if (ioc.run_one_until(deadline) == 0 && ioc.stopped() && !*done) {
      ioc.restart();  // out of work without completion cannot happen; do not spin
      if (Clock::now() < deadline) continue;
    }
  }
  return true;
}

Status Named(ErrorCode code, const char* name, const std::string& message) {
  return {code, name, message};
}

std::string Where(const Url& url) { return url.Origin(); }

}  // namespace

class Transport::Impl {
 public:
  explicit Impl(TlsOptions tls) : tls_(std::move(tls)), ssl_ctx_(ssl::context::tls_client) {}

  Status Init() {
    ssl_ctx_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
    if (tls_.insecure_tls) {
      ssl_ctx_.set_verify_mode(ssl::verify_none);
      return Status::Ok();
    }
    ssl_ctx_.set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (!tls_.ca_file.empty()) {
      ssl_ctx_.load_verify_file(tls_.ca_file, ec);
      if (ec)
        return InvalidArgument("ca_file_unreadable",
                               tls_.ca_file + ": cannot load CA certificates: " + ec.message());
    } else {
      ssl_ctx_.set_default_verify_paths(ec);
      if (ec) return Unavailable("ca_store_unavailable", "system trust store: " + ec.message());
    }
    return Status::Ok();
  }

  Result<HttpResponse> RoundTrip(const HttpRequest& request, const TransportLimits& limits,
                                 Clock::time_point deadline) {
    const Url& url = request.url;
    const auto connect_deadline = std::min(deadline, Clock::now() + limits.connect_timeout);
    ssl::stream<tcp::socket> stream(ioc_, ssl_ctx_);
    tcp::socket& socket = stream.next_layer();
    auto close = [&socket] {
      error_code ignored;
      socket.close(ignored);
    };

    // Resolve.
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type endpoints;
    error_code ec;
    bool done = false;
    resolver.async_resolve(url.host, url.port, [&](error_code e, tcp::resolver::results_type r) {
      ec = e;
      endpoints = std::move(r);
      done = true;
    });
    if (!RunUntil(ioc_, &done, connect_deadline, [&] { resolver.cancel(); }))
      return Timeout(url, "resolving the host name");
    if (ec)
      return Named(ErrorCode::kUnavailable, "resolve_failed",
                   Where(url) + ": cannot resolve host: " + ec.message());

    // Connect.
    done = false;
    asio::async_connect(socket, endpoints, [&](error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (!RunUntil(ioc_, &done, connect_deadline, close)) return Timeout(url, "connecting");
    if (ec)
      return Named(ErrorCode::kUnavailable, "connect_failed",
                   Where(url) + ": cannot connect: " + ec.message());

    const bool tls = url.scheme == "https";
    if (tls) CTIHUB_RETURN_IF_ERROR(Handshake(stream, url, connect_deadline));

    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(url.Target());
    req.version(11);
    req.set(http::field::host, url.HostHeader());
    for (const auto& [name, value] : request.headers) req.set(name, value);
    req.set(http::field::connection, "close");
    req.body() = request.body;
    req.prepare_payload();

    http::response_parser<http::string_body> parser;
    parser.body_limit(limits.max_response_bytes);
    parser.header_limit(static_cast<uint32_t>(limits.max_header_bytes));
    beast::flat_buffer buffer;
    Status st = tls ? Exchange(stream, req, parser, buffer, url, deadline, close)
                    : Exchange(socket, req, parser, buffer, url, deadline, close);
    close();
    if (!st.ok()) return st;

    auto& msg = parser.get();
    HttpResponse response;
    response.status = static_cast<int>(msg.result_int());
    for (const auto& field : msg)
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    response.body = std::move(msg.body());
    return response;
  }

 private:
  static Status Timeout(const Url& url, const char* during) {
    return Named(ErrorCode::kUnavailable, "timeout",
                 Where(url) + ": no answer in time (" + during + ")");
  }

  Status Handshake(ssl::stream<tcp::socket>& stream, const Url& url, Clock::time_point deadline) {
    SSL* ssl_handle = stream.native_handle();
    if (!IsIpAddress(url.host)) SSL_set_tlsext_host_name(ssl_handle, url.host.c_str());
    if (!tls_.insecure_tls) {
      // OpenSSL checks the name (or IP address) against the certificate during
      // the handshake, so a mismatch reports its own verify error.
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      if (IsIpAddress(url.host))
        X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
      else
        SSL_set1_host(ssl_handle, url.host.c_str());
    }
    error_code ec;
    bool done = false;
    stream.async_handshake(ssl::stream_base::client, [&](error_code e) {
      ec = e;
      done = true;
    });
    auto close = [&stream] {
      error_code ignored;
      stream.next_layer().close(ignored);
    };
    if (!RunUntil(ioc_, &done, deadline, close)) return Timeout(url, "TLS handshake");
    if (!ec) return Status::Ok();
    const long verify = SSL_get_verify_result(ssl_handle);
    if (!tls_.insecure_tls && verify != X509_V_OK)
      return Named(ErrorCode::kUnavailable, "tls_verify_failed",
                   Where(url) + ": certificate verification failed: " +
                       X509_verify_cert_error_string(verify) +
                       " (trust the server's CA with --ca-file)");
    return Named(ErrorCode::kUnavailable, "tls_handshake_failed",
                 Where(url) + ": TLS handshake failed: " + ec.message());
  }

  template <typename Stream, typename Close>
  Status Exchange(Stream& stream, http::request<http::string_body>& req,
                  http::response_parser<http::string_body>& parser, beast::flat_buffer& buffer,
                  const Url& url, Clock::time_point deadline, Close close) {
    error_code ec;
    bool done = false;
    http::async_write(stream, req, [&](error_code e, size_t) {
      ec = e;
      done = true;
    });
    if (!RunUntil(ioc_, &done, deadline, close)) return Timeout(url, "sending the request");
    if (ec)
      return Named(ErrorCode::kUnavailable, "connection_closed",
                   Where(url) + ": sending the request: " + ec.message());
    done = false;
    http::async_read(stream, buffer, parser, [&](error_code e, size_t) {
      ec = e;
      done = true;
    });
    if (!RunUntil(ioc_, &done, deadline, close)) return Timeout(url, "reading the response");
    if (!ec) return Status::Ok();
    if (ec == http::error::body_limit || ec == http::error::header_limit ||
        ec == http::error::buffer_overflow)
      return Named(ErrorCode::kLimitExceeded, "response_too_large",
                   Where(url) + ": response over the limit (" + ec.message() + ")");
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == ssl::error::stream_truncated)
      return Named(ErrorCode::kUnavailable, "connection_closed",
                   Where(url) +
                       ": the server closed the connection before the response was "
                       "complete (" +
                       ec.message() + ")");
    if (ec.category() == http::make_error_code(http::error::bad_version).category())
      return Named(ErrorCode::kUnavailable, "bad_http",
                   Where(url) + ": not a valid HTTP response: " + ec.message());
    return Named(ErrorCode::kUnavailable, "io_error", Where(url) + ": " + ec.message());
  }

  TlsOptions tls_;
  asio::io_context ioc_;
  ssl::context ssl_ctx_;
};

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  }
  return {};
}

Result<std::unique_ptr<Transport>> Transport::Create(const TlsOptions& tls) {
  auto impl = std::make_unique<Impl>(tls);
  CTIHUB_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Transport>(new Transport(std::move(impl)));
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::~Transport() = default;

Result<HttpResponse> Transport::RoundTrip(const HttpRequest& request, const TransportLimits& limits,
                                          std::chrono::steady_clock::time_point deadline) {
  return impl_->RoundTrip(request, limits, deadline);
}

bool RetryableTransportError(const Status& status) {
  const std::string_view n = status.name();
  return n == "resolve_failed" || n == "connect_failed" || n == "timeout" ||
         n == "connection_closed" || n == "io_error" || n == "bad_http";
}

}  // namespace ctihub::taxii_client
