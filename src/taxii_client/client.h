// A TAXII 2.1 client for hub-to-hub exchange: discovery, API roots,
// collections, objects and manifest pages (robust to servers that page in
// unusual ways, see pager.h), POST with status polling.
//
// A Client is bound to one base URL (a discovery or an API root URL).
// Credentials (HTTP Basic or Bearer) are sent only to the base URL's origin:
// a discovery resource pointing elsewhere is refused (`cross_origin`), never
// handed the credentials. TLS certificates and host names are verified against
// the system trust store or `tls.ca_file` unless `tls.insecure_tls`.
//
// Bounded everything: each request has a deadline (`request_timeout`), each
// public call a total deadline (`operation_timeout`, retries and waits
// included), responses a size limit, paging a page limit. Retries (with
// exponential backoff) on connection errors, timeouts and 500/502/503/504; a 429
// waits for its Retry-After (up to `max_retry_after`). A TAXII POST is safe to
// retry: a server stores an object version once.
//
// Errors are Status values with stable names (transport.h, pager.h, and
// unauthorized, forbidden, not_found, http_error, server_error, rate_limited,
// operation_timeout, bad_response, cross_origin, no_api_root, status_pending).
// Credentials never appear in a message.
// Not thread-safe: one Client per thread. Beast stays behind the pimpl.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "taxii_client/pager.h"
#include "taxii_client/responses.h"
#include "taxii_client/transport.h"
#include "taxii_client/url.h"

namespace ctihub::taxii_client {

struct Credentials {
  std::string user;      // with password: HTTP Basic
  std::string password;  // NOLINT: a secret; never logged
  std::string token;     // Bearer; used when set
};

struct ClientOptions {
  Credentials credentials;
  TlsOptions tls;
  TransportLimits transport;
  std::chrono::milliseconds request_timeout{60'000};
  std::chrono::milliseconds operation_timeout{3'600'000};
  int max_attempts = 4;  // per request, the first included
  std::chrono::milliseconds backoff_initial{250};
  std::chrono::milliseconds backoff_max{10'000};
  std::chrono::seconds max_retry_after{120};
  int64_t max_pages = 1'000'000;
  // First status poll after a POST, doubling up to status_poll_max. Short: a
  // server usually commits a batch within tens of milliseconds, and a push
  // waits for each status before its next POST (100 ms here held a push of
  // 1,000-object POSTs to about 4,300 objects/s, docs/PERFORMANCE.md).
  std::chrono::milliseconds status_poll_initial{20};
  std::chrono::milliseconds status_poll_max{2'000};
  std::string user_agent = "ctihub-taxii-client/2.1";
};

struct ApiRoot {
  Url url;  // ends in '/'
  ApiRootInfo info;
};

// Called once per page; a non-OK status stops the paging and is returned.
using ObjectsSink = std::function<Status(const ObjectsPage&)>;
using ManifestSink = std::function<Status(const ManifestPage&)>;

struct PagingSummary {
  int64_t pages = 0;
  int64_t items = 0;
  std::string last_date_added;  // the resume point for the next pass
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(std::string_view base_url, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Url& base() const;

  // GET the base URL as a discovery resource.
  Result<Discovery> Discover();
  // The API root the base URL names: itself when it is an API root; the
  // discovery's default, or its only API root, when it is a discovery
  // resource (relative and absolute URLs both resolved against it). Several
  // roots and no default: no_api_root (name one by its URL).
  Result<ApiRoot> ResolveApiRoot();
  Result<ApiRootInfo> GetApiRoot(const Url& root);
  Result<std::vector<CollectionInfo>> Collections(const Url& root);

  Result<PagingSummary> GetObjects(const Url& root, std::string_view collection_id,
                                   const PageQuery& query, const ObjectsSink& sink);
  Result<PagingSummary> GetManifest(const Url& root, std::string_view collection_id,
                                    const PageQuery& query, const ManifestSink& sink);

  // POSTs one envelope ({"objects": [...]}) and polls its status until complete
  // (status_pending past the operation deadline).
  Result<StatusInfo> AddObjects(const Url& root, std::string_view collection_id,
                                std::string envelope);
  Result<StatusInfo> GetStatus(const Url& root, std::string_view status_id);

  // A ctihub resource beside TAXII on the peer's origin (`absolute_path`,
  // e.g. "/api/v1/witness"), with the same credentials, retries and
  // deadlines: the 2xx response's body. A server without it: not_found.
  Result<std::string> CallHubApi(std::string_view method, std::string_view absolute_path,
                                 std::string body);

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The envelope text of a list of object texts: {"objects":[...]}.
std::string BuildEnvelope(const std::vector<std::string>& objects);

}  // namespace ctihub::taxii_client
