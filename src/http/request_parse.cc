// ParseRequestBytesForTest: the Beast request parser without sockets or
// coroutines (a separate translation unit so the fuzz build can instrument the
// parser while server.cc is built without coverage instrumentation).
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/http.hpp>

#include "http/server.h"

namespace ctihub::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

Result<taxii::Request> ParseRequestBytesForTest(std::string_view bytes,
                                                const ServerOptions& limits) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
  parser.body_limit(limits.body_limit);
  parser.eager(true);
  beast::error_code ec;
  size_t offset = 0;
  while (offset < bytes.size() && !parser.is_done()) {
    size_t n = parser.put(boost::asio::buffer(bytes.data() + offset, bytes.size() - offset), ec);
    if (ec == bhttp::error::need_more) {
      ec = {};
      break;
    }
    if (ec) break;
    if (n == 0) break;
    offset += n;
  }
  // The names the server answers these with (server.cc).
  if (ec == bhttp::error::header_limit) return LimitExceeded("header_too_large", ec.message());
  if (ec == bhttp::error::body_limit) return LimitExceeded("body_too_large", ec.message());
  if (ec) return InvalidArgument("malformed_http", ec.message());
  if (!parser.is_done()) return InvalidArgument("malformed_http", "incomplete request");
  auto req = parser.release();
  taxii::Request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.host = std::string(req[bhttp::field::host]);
  r.accept = std::string(req[bhttp::field::accept]);
  r.content_type = std::string(req[bhttp::field::content_type]);
  r.authorization = std::string(req[bhttp::field::authorization]);
  r.if_none_match = std::string(req[bhttp::field::if_none_match]);
  r.cookie = std::string(req[bhttp::field::cookie]);
  r.origin = std::string(req[bhttp::field::origin]);
  r.csrf_token = std::string(req["X-CSRF-Token"]);
  r.body = std::move(req.body());
  return r;
}

}  // namespace ctihub::http
