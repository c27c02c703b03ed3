// The web console's HTTP front (docs/API.md): sessions, CSRF, security
// headers, the embedded UI at /ui/ and the console's JSON API under /api/v1/.
//
// `ctihub serve` hands Console::Handle to the HTTP server
// (http::ServerOptions::console), which asks it before the TAXII service.
// The console answers /, /ui/... and every /api/v1/ path: its own endpoints
// (session, search) itself, the service's (/api/v1/audit, /api/v1/export/...)
// by calling the service with the caller it authenticated (a session cookie
// becomes taxii::Request::authenticated), so one audit and one read gate
// serve both. Every answer under /ui/ and /api/v1/ carries the security
// headers. Everything else (TAXII, /healthz, /metrics) is left alone.
//
// Thread-safety: Handle and BodyLimit may be called from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "policy/agreement_edit.h"
#include "webapi/embedded.h"
#include "webapi/import_jobs.h"
#include "webapi/session.h"

namespace ctihub {
namespace store {
class Store;
}
namespace audit {
struct StoredVersion;
}
namespace taxii {
struct Request;
struct Response;
class Service;
struct AccessControl;
}  // namespace taxii
}  // namespace ctihub

namespace ctihub::webapi {

struct ConsoleOptions {
  bool ui_enabled = true;            // --no-ui: false
  std::span<const EmbeddedFile> ui;  // empty: the binary has no UI (503 ui_not_built)
  SessionOptions sessions;           // --session-idle, --session-max
  int max_login_failures = 10;       // per user name and per client address
  int64_t login_window_s = 300;      // ... in this window
  size_t search_count_cap = 2000;    // admitted objects counted at most (total_capped)
  size_t search_scan_cap = 20000;    // candidates examined at most per search
  // GET /api/v1/audit/verify cross-checks the store against the trail with
  // this listing (`ctihub serve` passes the one `audit verify` uses); unset:
  // the chain and its signatures only.
  std::function<Result<std::vector<audit::StoredVersion>>(int64_t, size_t)> store_versions;
  // GET /api/v1/peers (admins): the federation peers and how their exchange
  // is going, as the JSON body {"peers": [...]} (`ctihub serve` builds it
  // from cli/peer_status.h, what `peer show` and /metrics report); unset:
  // 404, this console serves no peers.
  std::function<Result<std::string>()> peers_json;
  // POST /api/v1/import, GET /api/v1/import/{job} (import_jobs.h): runs one
  // upload through `ctihub import`'s code on a job thread (`ctihub serve`
  // passes cli's); unset: 404, this console serves no imports.
  ImportRunFn import_run;
  ImportJobLimits import_limits;
  // Several nodes over one database: where the jobs' status is published so
  // every node answers it (a store that KeepsImportJobs); null: this node's.
  store::Store* import_jobs_store = nullptr;
  uint64_t import_max_bytes = uint64_t{64} * 1024 * 1024;  // serve: --body-limit
  // GET/POST/DELETE /api/v1/agreements (admins, webapi/agreements.h): the
  // store's organisations, as the policy holder merges them (`ctihub serve`
  // passes the holder's function); unset: 404, this console manages no
  // agreements.
  policy::AgreementOrgsFn agreement_orgs;
  // Where those agreements are kept (a PostgreSQL deployment's database:
  // cli/hub_context.h HubPolicySource); nullptr: the data directory's files.
  std::shared_ptr<policy::PolicySource> agreement_source;
};

// The largest body of a login request.
inline constexpr uint64_t kLoginBodyLimit = uint64_t{16} * 1024;

class Console {
 public:
  // `store`, `service` and the collaborators in `access` must outlive the
  // console. `authenticate` checks an Authorization header value (Basic or
  // Bearer), as the service does.
  Console(store::Store& store, taxii::Service& service,
          std::function<Result<auth::Principal>(std::string_view)> authenticate,
          const taxii::AccessControl& access, ConsoleOptions options);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // nullopt: not a console path (the caller passes it to the service).
  // Never throws.
  std::optional<taxii::Response> Handle(const taxii::Request& request);

  // For a request with a body whose Authorization header did not authenticate:
  // the body limit when the console admits it (a login, a live session),
  // else 0.
  uint64_t BodyLimit(const taxii::Request& request);

  SessionTable& sessions();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The value of cookie `name` in a Cookie header ("" when absent).
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace ctihub::webapi
