// TAXII 2.1 (OASIS Standard, 10 June 2021) resources as plain functions.
//
// The HTTP layer turns bytes into a Request, calls Service::Handle and turns
// the Response back into bytes; nothing here knows about sockets, so every
// resource and rule is unit-tested with an in-memory Store (store/testing/memory_store.h).
//
// Resources (paths relative to the server root; every one ends with '/'):
//   GET    /taxii2/                                             discovery
//   GET    /{root}/                                             API root
//   GET    /{root}/collections/                                 collections the caller may see
//   GET    /{root}/collections/{id}/                            one collection
//   GET    /{root}/collections/{id}/manifest/                   manifest
//   GET    /{root}/collections/{id}/objects/                    objects (envelope)
//   POST   /{root}/collections/{id}/objects/                    add objects -> 202 + status
//   GET    /{root}/collections/{id}/objects/{object-id}/        one object (all selected versions)
//   DELETE /{root}/collections/{id}/objects/{object-id}/        delete selected versions
//   GET    /{root}/collections/{id}/objects/{object-id}/versions/
//   GET    /{root}/status/{status-id}/                          status (only for its requester)
//
// Access rules (docs in src/taxii/README.md): a collection the caller can
// neither read nor write does not exist for them (404, not listed); a visible
// collection the caller may not read answers 403 on its read endpoints, and one
// it may not write answers 403 on POST/DELETE. Status resources are visible
// only to the user who made the request (404 for anyone else).
//
// Thread-safety: Service::Handle may be called from many threads at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "auth/auth.h"
#include "core/result.h"
#include "store/store.h"
#include "taxii/access.h"

namespace ctihub::taxii {

inline constexpr std::string_view kTaxiiMediaType = "application/taxii+json;version=2.1";
inline constexpr std::string_view kStixMediaType = "application/stix+json;version=2.1";

// One HTTP request, already framed and size-checked by the HTTP layer.
struct Request {
  std::string method;         // upper case: GET, POST, DELETE, HEAD, ...
  std::string target;         // raw request target: path and optional "?query"
  std::string host;           // Host header (used to build absolute API root URLs)
  bool tls = false;           // whether the connection is TLS (scheme of URLs we print)
  std::string accept;         // Accept header ("" when absent)
  std::string content_type;   // Content-Type header ("" when absent)
  std::string authorization;  // Authorization header: never log it
  std::string if_none_match;  // If-None-Match header ("" when absent): GET /api/v1/export
  std::string remote;         // peer address (audit trail)
  std::string cookie;         // Cookie header: the console session (webapi); never log it
  std::string origin;         // Origin header ("" when absent): the console's login check
  std::string csrf_token;     // X-CSRF-Token header: the console's CSRF check
  std::string body;
  // Set only by a front that authenticated the caller itself (the console's
  // session cookie, webapi::Console): the service takes this principal and
  // ignores `authorization`. Never filled from the request's bytes.
  std::optional<auth::Principal> authenticated;
};

// A response body produced piece by piece, which the HTTP layer sends as a
// chunked body (HTTP/1.1 Transfer-Encoding: chunked) instead of holding it
// whole: GET /api/v1/export/{format}. The HTTP layer calls Next on a worker
// thread (it may block on the store), one call at a time, and calls it again
// only after the bytes of the previous call were written to the connection:
// a producer may treat "Next was called again" as "everything I returned
// before was sent" (the export's audit records follow the body that way).
// Not thread-safe; one HTTP stream at a time.
class BodyProducer {
 public:
  virtual ~BodyProducer() = default;
  // Replaces *out with the next bytes of the body (at most about
  // kBodyChunkBytes; may be empty). Returns true while the body goes on, false
  // once it is complete (every byte returned before was sent; *out is then
  // empty). An error ends the body unfinished: the connection is closed
  // without the last chunk, so a client never takes a cut body for a whole one.
  virtual Result<bool> Next(std::string* out) = 0;
  // The body stops before its end (the client went away, a write timed out,
  // Next failed, the server stops): what was sent so far is final. Called at
  // most once, on a worker, never concurrently with Next; not called after
  // Next returned false.
  virtual void Abort() {}
};

// About how many bytes a BodyProducer hands out per Next: the HTTP layer
// holds one such piece per streamed response.
inline constexpr size_t kBodyChunkBytes = size_t{256} * 1024;

struct Response {
  int status = 200;
  std::string content_type;  // empty: no body
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // For logs and metrics: the route template ("objects", "status", ...) and,
  // on errors, the stable rejection name (the TAXII error object's error_id).
  std::string route = "unknown";
  std::string error_id;
  std::string user;              // authenticated user name, "" if none (access log)
  std::string internal_detail;   // for the error log of a 500; never sent to the client
  int64_t objects_accepted = 0;  // objects handed to the store by a POST (ingest metrics)
  // When set, the body: `body` is ignored and the HTTP layer sends what the
  // producer produces as a chunked body (no Content-Length), or nothing for HEAD.
  std::shared_ptr<BodyProducer> stream;
};

// The TAXII error object of a Status: error_id/error_code is the status's own name, else
// `error_id` (the caller's name for the failure); the description is the whole message.
Response ErrorResponse(const Status& status, std::string_view error_id);
Response ErrorResponse(int http_status, std::string_view error_id, std::string_view title,
                       std::string_view description);
int HttpStatusOf(ErrorCode code);

struct ServiceOptions {
  std::string title = "ctihub";
  std::string description = "ctihub TAXII 2.1 server";
  std::string contact;
  size_t default_page_size = 100;           // limit when the client gives none
  size_t max_page_size = 1000;              // larger limits are lowered to this
  size_t max_objects_per_envelope = 10000;  // more: 413
  bool validate_patterns = true;            // indicators with pattern_type "stix"
};

enum class Endpoint;  // query.h: which URL filters an endpoint takes

// Authenticates an Authorization header value (Basic or Bearer).
using AuthenticateFn = std::function<Result<auth::Principal>(std::string_view authorization)>;

class Service {
 public:
  // `store` (and the collaborators in `access`) must outlive the service.
  Service(store::Store& store, AuthenticateFn authenticate, ServiceOptions options = {},
          AccessControl access = {});
  // Waits for every durable write started by a POST to finish.
  ~Service();

  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Never throws: an unexpected exception becomes a 500 with an error object.
  Response Handle(const Request& request);

  // The answer to a request the HTTP layer refused on its headers because its
  // credentials do not authenticate (its body is never read): the same 401 as
  // Handle's, and for a failed login (credentials given) its audit record.
  Response RefuseUnauthenticated(const Request& request);

  // Blocks until all writes started so far are durable (graceful shutdown, tests).
  void WaitForWrites();

  int64_t objects_written() const { return objects_written_.load(); }

 private:
  // What one request did, for the audit trail.
  struct RequestContext {
    auth::Principal principal;
    bool identified = false;  // authenticated, or anonymous on a public collection
    bool login_failed = false;
    std::string attempted_user;             // the Basic user name of a failed login
    std::vector<audit::ObjectRef> served;   // with the grant of each copy
    std::vector<audit::ObjectRef> deleted;  // the versions a DELETE removed
  };
  struct PendingWrite {
    std::future<Result<std::vector<store::WriteOutcome>>> future;
    std::string user;
    std::string org;
    std::string route;
    std::string remote;
    std::vector<audit::ObjectRef> objects;  // in write order
    std::string api_root;                   // of the status resource
    std::string status_id;                  // finished as failed if the write fails
  };

  // One request on its way through the route table (service.cc): the parsed
  // target, the policy pinned for it, the caller and what its path names.
  struct Call;
  // One row of the route table: a path template and one handler per method.
  struct Route;
  static const std::vector<Route>& RouteTable();

  Response HandleUnchecked(const Request& request, RequestContext& ctx);
  // nullopt when the caller is identified (or anonymous where that may do).
  std::optional<Response> Authenticate(Call& call);
  Response Dispatch(Call& call);
  const Route* MatchRoute(Call& call) const;
  // Resolves the template's placeholders in path order; the 404 of the first missing one.
  std::optional<Response> ResolvePath(const Route& route, Call& call);
  std::optional<Response> ResolveApiRoot(Call& call);
  std::optional<Response> ResolveCollection(Call& call);
  Response NoRoute(Call& call);

  // The resources: one plain function per (method, path template).
  Response GetDiscovery(Call& call);
  Response GetApiRoot(Call& call);
  Response GetStatus(Call& call);
  Response GetCollections(Call& call);
  Response GetCollection(Call& call);
  Response GetManifest(Call& call);
  Response GetObjects(Call& call);
  Response PostObjects(Call& call);
  Response GetObject(Call& call);
  Response DeleteObject(Call& call);
  Response GetVersions(Call& call);
  Response GetAudit(Call& call);
  Response GetExport(Call& call);
  Response GetWitness(Call& call);
  Response PostWitness(Call& call);
  // The witness exchange's answer: the caller's held head and this hub's own.
  Response WitnessAnswer(const Call& call, int status);

  ReadGate OpenGate(const Call& call) const;
  // Shared by the read endpoints: URL filters, the read gate, paging and the
  // audit record of what the page holds. `object_id` empty: the whole collection.
  Result<store::ObjectPage> ReadPage(Call& call, Endpoint endpoint, std::string_view object_id);
  Response HandleAudit(const std::vector<std::pair<std::string, std::string>>& params,
                       const auth::Principal& principal,
                       const std::shared_ptr<const policy::Policy>& policy);
  // What an organisation's auditor may see of `records` (see HandleAudit).
  Result<std::vector<audit::Record>> ScreenForOrganisation(
      std::vector<audit::Record> records, const std::string& org,
      const std::shared_ptr<const policy::Policy>& policy);
  // Appends the request's audit records; false if the trail cannot take them.
  bool AuditRequest(const Request& request, const Response& response, const RequestContext& ctx);
  void TrackWrite(PendingWrite write);
  void FinishFailedWrite(const PendingWrite& w, std::string_view failure);
  void ReapLoop();
  std::shared_ptr<const policy::Policy> CurrentPolicy() const;
  void RecordServed(const std::vector<store::ObjectVersion>& objects, const ReadGate& gate,
                    RequestContext& ctx) const;

  store::Store& store_;
  AuthenticateFn authenticate_;
  ServiceOptions options_;
  AccessControl access_;
  std::mutex writes_mu_;
  std::condition_variable writes_cv_;
  std::deque<PendingWrite> writes_;  // guarded by writes_mu_; oldest first
  size_t writes_in_flight_ = 0;      // guarded by writes_mu_: taken by the reaper, not done
  bool stopping_ = false;            // guarded by writes_mu_
  std::atomic<int64_t> objects_written_{0};
  std::atomic<int64_t> last_refresh_us_{0};  // last policy reload asked for an unknown organisation
  std::thread reaper_;                       // waits for durable writes and audits them
};

}  // namespace ctihub::taxii
