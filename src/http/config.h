// Configuration of `ctihub serve`: one TOML file whose keys are the long flag
// names with '_' for '-' (every option is also a flag; flags win). Unknown
// keys are errors so typos do not silently fall back to defaults.
//
//   data = "./var"                 listen = "127.0.0.1:8443"
//   tls_cert = "cert.pem"          tls_key = "key.pem"          insecure_http = false
//   threads = 0                    max_connections = 1024
//   body_limit = 67108864          header_limit = 16384
//   header_timeout_ms = 10000      idle_timeout_ms = 30000      request_timeout_ms = 60000
//   max_objects_per_envelope = 10000   page_size = 100          max_page_size = 1000
//   title = "ctihub"   description = "..."   contact = "..."    access_log = true
//   public_health = true           public_metrics = false
//   no_ui = false                  session_idle = 1800          session_max = 43200
//   audit_crosscheck_ms = 10000
//
// public_health: /healthz ("ok", nothing else) answers without credentials, as
// load balancers and orchestrators probe it; false: any authenticated user.
// public_metrics: /metrics answers without credentials; false (default): only
// authenticated users with role admin or auditor (401 / 403 otherwise).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace ctihub::http {

struct ServeConfig {
  std::string data = "./var";
  std::string db;  // postgresql://...: the shared PostgreSQL store (else DATA/ctihub.db)
  std::string listen = "127.0.0.1:8443";
  std::string tls_cert;
  std::string tls_key;
  bool insecure_http = false;
  int64_t threads = 0;
  int64_t max_connections = 1024;
  int64_t body_limit = 64ll * 1024 * 1024;
  int64_t header_limit = int64_t{16} * 1024;
  int64_t header_timeout_ms = 10000;
  int64_t idle_timeout_ms = 30000;
  int64_t request_timeout_ms = 60000;
  int64_t max_objects_per_envelope = 10000;
  int64_t page_size = 100;
  int64_t max_page_size = 1000;
  std::string title = "ctihub";
  std::string description = "ctihub TAXII 2.1 server";
  std::string contact;
  bool access_log = true;
  bool public_health = true;    // /healthz without credentials
  bool public_metrics = false;  // /metrics without credentials (else admin/auditor)
  // The web console (webapi, docs/API.md).
  bool no_ui = false;           // /ui/ off (404)
  int64_t session_idle = 1800;  // seconds without a request before a session expires
  int64_t session_max = 43200;  // seconds a session lives at most
  // With --db: how often at most a node witnesses the other nodes' audit
  // heads (cli/audit_chains.h).
  int64_t audit_crosscheck_ms = 10000;
};

// Reads `path` into `cfg` (keys present in the file overwrite cfg's values).
// InvalidArgument with the file position on syntax errors, unknown keys and
// wrongly typed values.
Status LoadServeConfig(const std::string& path, ServeConfig& cfg);

// The most IO (and, separately, worker) threads `serve` starts. Each thread
// reserves a stack and the store opens a reader connection per thread, so an
// unbounded value (100,000) exhausted memory before failing with a misleading
// database error.
inline constexpr int64_t kMaxServeThreads = 256;
// The most connections `serve` accepts at once (each holds a socket and buffers).
inline constexpr int64_t kMaxServeConnections = 65536;

// Checks the values of a complete configuration (file and flags applied):
// InvalidArgument naming the option and its allowed range when one is out of
// range. Called by `serve` before anything starts.
Status CheckServeConfig(const ServeConfig& cfg);

// "host:port", "[v6]:port". InvalidArgument when malformed.
Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view listen);

// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

}  // namespace ctihub::http
