// `ctihub serve`: the TAXII 2.1 server, and the background sync of the peers
// with an `every` schedule (sync_scheduler.h; --no-sync turns it off).
// (`load-bundle` is now an alias of `ctihub import`, cmd_import.cc.)
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/audit_chains.h"
#include "cli/commands.h"
#include "cli/console_import.h"
#include "cli/hub_context.h"
#include "cli/peer_config.h"
#include "cli/peer_status.h"
#include "cli/recovery.h"
#include "cli/sync_scheduler.h"
#include "http/config.h"
#include "http/server.h"
#include "policy/policy_holder.h"
#include "taxii/query.h"
#include "taxii/taxii.h"
#include "webapi/console.h"
#include "webapi/embedded.h"

namespace ctihub::cli {
namespace {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub: %s\n", msg.c_str());
  return kExitError;
}

// With the policy in the database (--db), DATA's policy files are not read:
// a node that has them while the database has no policy document at all
// would silently serve without them, so it refuses to start until they are
// imported (`ctihub policy import`); once the database has documents, a
// leftover file is only mentioned.
Status CheckNoLocalPolicyFiles(const std::string& data, store::Store& hub) {
  if (!hub.KeepsPolicyDocuments()) return Status::Ok();
  std::vector<std::string> present;
  for (std::string_view name : {policy::kPolicyDocument, policy::kAgreementsDocument}) {
    std::error_code ec;
    const std::string path = (std::filesystem::path(data) / name).string();
    if (std::filesystem::exists(path, ec)) present.push_back(path);
  }
  if (present.empty()) return Status::Ok();
  CTIHUB_ASSIGN_OR_RETURN(int64_t revision, hub.PolicyDocumentsRevision());
  std::string files;
  for (const auto& p : present) files += (files.empty() ? "" : ", ") + p;
  if (revision == 0) {
    return Conflict("local_policy_files",
                    files +
                        ": with --db the policy lives in the database, which has "
                        "none yet; import them with `ctihub policy import --db URL "
                        "--data " +
                        data + "` (or remove them)");
  }
  std::fprintf(stderr, "ctihub: note: %s not read: with --db the policy lives in the database\n",
               files.c_str());
  return Status::Ok();
}

// How long a stopping server waits for the passes of the background sync.
constexpr std::chrono::seconds kSyncStopWait{10};

int RunServe(const http::ServeConfig& cfg, bool sync) {
  auto hp = http::SplitHostPort(cfg.listen);
  if (!hp.ok()) return Fail(hp.status().NamedMessage());
  const bool tls = !cfg.tls_cert.empty() || !cfg.tls_key.empty();
  if (tls && (cfg.tls_cert.empty() || cfg.tls_key.empty())) {
    return Fail("--tls-cert and --tls-key go together");
  }
  if (!tls && !http::IsLoopbackHost(hp->first) && !cfg.insecure_http) {
    return Fail("refusing plain HTTP on non-loopback address " + cfg.listen +
                "; configure --tls-cert/--tls-key or pass --insecure-http");
  }
  // One server per data directory: checked before the store is opened.
  auto lock = DataDirLock::Acquire(cfg.data);
  if (!lock.ok()) return Fail(lock.status().NamedMessage());
  HubOpenOptions open;
  open.db_url = cfg.db;
  open.create = false;
  open.reader_connections = static_cast<int>(std::max<int64_t>(4, cfg.threads));
  auto store = OpenHubStore(cfg.data, open);
  if (!store.ok()) return Fail(store.status().NamedMessage());

  // The sharing policy (DATA/policy.toml and DATA/agreements.toml, or the
  // database's documents with --db, and the organisations of the store): the
  // hub does not start with one it cannot read or parse.
  store::Store* hub = store->get();
  if (Status st = CheckNoLocalPolicyFiles(cfg.data, *hub); !st.ok()) {
    return Fail("sharing policy: " + st.NamedMessage());
  }
  auto policy =
      policy::PolicyHolder::Open(HubPolicySource(cfg.data, hub), PolicyCheckInterval(*hub),
                                 [hub] { return KnownOrganisations(*hub); });
  if (!policy.ok()) return Fail("sharing policy: " + policy.status().NamedMessage());
  // A policy file that stops loading while the hub runs: the last good policy
  // stays in force; the error is logged and shown on /healthz and /metrics.
  std::shared_ptr<spdlog::logger> policy_log = spdlog::get("policy");
  if (!policy_log) policy_log = spdlog::stderr_logger_mt("policy");  // beside the access log
  (*policy)->SetOnReloadError([policy_log](const Status& st) {
    policy_log->error("sharing policy reload failed, keeping the last good policy: {}",
                      st.NamedMessage());
  });
  // The audit trail: every request, every object version written or served.
  auto audit_log = audit::AuditLog::Open(cfg.data);
  if (!audit_log.ok()) return Fail("audit trail: " + audit_log.status().NamedMessage());
  // What a stop (kill -9, power loss) left unfinished, before serving again.
  Status recovered = RecoverAfterStop(**store, **audit_log, cfg.data);
  if (!recovered.ok()) return Fail("recovery: " + recovered.NamedMessage());
  // With --db the trail is also copied into the database, where `audit
  // verify --db` checks every node's: brought up to date before serving.
  std::unique_ptr<AuditChainCopier> chain_copier;
  if ((*store)->KeepsAuditChains()) {
    auto node = NodeIdOf(cfg.data);
    if (!node.ok()) return Fail("audit chain: " + node.status().NamedMessage());
    AuditChainCopier::Options copy;
    copy.crosscheck_every = std::chrono::milliseconds(cfg.audit_crosscheck_ms);
    chain_copier =
        std::make_unique<AuditChainCopier>(**store, audit_log->get(), cfg.data, *node, copy);
    if (Status st = chain_copier->CopyOnce(); !st.ok())
      return Fail("audit chain: " + st.NamedMessage());
    chain_copier->Start();
  }

  auth::Authenticator authenticator(**store);
  taxii::ServiceOptions so;
  so.title = cfg.title;
  so.description = cfg.description;
  so.contact = cfg.contact;
  so.default_page_size = static_cast<size_t>(std::max<int64_t>(1, cfg.page_size));
  so.max_page_size = static_cast<size_t>(std::max<int64_t>(1, cfg.max_page_size));
  so.max_objects_per_envelope =
      static_cast<size_t>(std::max<int64_t>(1, cfg.max_objects_per_envelope));
  taxii::AccessControl access{policy->get(), audit_log->get(), cfg.data};
  taxii::Service service(
      **store, [&authenticator](std::string_view h) { return authenticator.Authenticate(h); }, so,
      access);

  http::ServerOptions o;
  o.host = hp->first;
  o.port = hp->second;
  o.io_threads = static_cast<int>(cfg.threads);
  o.worker_threads = static_cast<int>(cfg.threads);
  o.tls_cert_file = cfg.tls_cert;
  o.tls_key_file = cfg.tls_key;
  o.max_connections = static_cast<int>(std::max<int64_t>(1, cfg.max_connections));
  o.body_limit = static_cast<uint64_t>(cfg.body_limit);
  o.header_limit = static_cast<size_t>(std::max<int64_t>(1024, cfg.header_limit));
  o.header_timeout = std::chrono::milliseconds(std::max<int64_t>(1, cfg.header_timeout_ms));
  o.idle_timeout = std::chrono::milliseconds(std::max<int64_t>(1, cfg.idle_timeout_ms));
  o.request_timeout = std::chrono::milliseconds(std::max<int64_t>(1, cfg.request_timeout_ms));
  o.access_log = cfg.access_log;
  o.public_health = cfg.public_health;
  o.public_metrics = cfg.public_metrics;
  o.authenticate = [&authenticator](std::string_view h) { return authenticator.Authenticate(h); };
  policy::PolicyHolder* holder = policy->get();
  o.problems = [holder] {
    (void)holder->Current();  // notices a changed file even when no TAXII request came
    std::vector<std::string> problems;
    if (!holder->last_reload_error().ok()) problems.emplace_back("policy_reload_failed");
    return problems;
  };
  o.extra_metrics = [data = cfg.data] {
    auto peers = PeerStatuses(data, Timestamp::Now());
    if (!peers.ok())  // said as a metric: /metrics itself stays up
      return std::string(
          "# HELP ctihub_peers_unreadable 1 when DATA/peers.json cannot be read\n"
          "# TYPE ctihub_peers_unreadable gauge\nctihub_peers_unreadable 1\n");
    return PeerMetricsText(*peers);
  };
  // The web console (docs/API.md): /ui/ and the console's /api/v1/ routes.
  webapi::ConsoleOptions co;
  co.ui_enabled = !cfg.no_ui;
  co.ui = webapi::EmbeddedUi();
  co.sessions.idle_s = cfg.session_idle;
  co.sessions.max_s = cfg.session_max;
  // Several nodes over one database (PostgreSQL): the console's sessions live
  // in it, so a login on one node is known to every node (no sticky load
  // balancer needed). SQLite: each node's memory, as before.
  if (hub->KeepsSessions()) co.sessions.store = hub;
  co.store_versions = StoreVersionLister(**store);  // the cross-check of `audit verify`
  co.peers_json = [data = cfg.data]() -> Result<std::string> {
    CTIHUB_ASSIGN_OR_RETURN(std::vector<PeerStatus> peers, PeerStatuses(data, Timestamp::Now()));
    return PeersJson(peers);
  };
  // Uploads (POST /api/v1/import) through `ctihub import`'s code, within --body-limit.
  co.import_run = ConsoleImporter(**store, **audit_log, *holder, cfg.data);
  if (hub->KeepsImportJobs()) co.import_jobs_store = hub;  // polled through any node
  co.import_max_bytes = static_cast<uint64_t>(cfg.body_limit);
  co.agreement_orgs = [hub] { return KnownOrganisations(*hub); };  // as the policy holder
  co.agreement_source = HubPolicySource(cfg.data, hub);
  webapi::Console console(
      **store, service,
      [&authenticator](std::string_view h) { return authenticator.Authenticate(h); }, access, co);
  o.console = [&console](const taxii::Request& r) { return console.Handle(r); };
  o.console_body_limit = [&console](const taxii::Request& r) { return console.BodyLimit(r); };
  http::Server server(o, service, **store);
  auto url = server.Listen();
  if (!url.ok()) return Fail(url.status().NamedMessage());
  std::printf("listening on %s\n", url->c_str());
  std::printf("TAXII discovery: %s/taxii2/\n", url->c_str());
  if (cfg.no_ui) {
    std::printf("web console: off (--no-ui)\n");
  } else if (co.ui.empty()) {
    std::printf("web console: UI not built (configure with -DCTIHUB_UI_DIST_DIR=...)\n");
  } else {
    std::printf("web console: %s/ui/\n", url->c_str());
  }
  std::fflush(stdout);
  // The peers with an `every` schedule, read once (a change is picked up on
  // restart). A peers file that cannot be read leaves the hub serving, unsynced.
  SyncScheduler scheduler(cfg.data, **store, **audit_log, *holder);
  if (sync) {
    auto peers = LoadPeers(cfg.data);
    if (!peers.ok()) {
      std::fprintf(stderr, "ctihub: background sync off: %s\n",
                   peers.status().NamedMessage().c_str());
    } else {
      scheduler.Start(*peers);
    }
  }
  server.Run();
  service.WaitForWrites();
  if (chain_copier) {
    (void)(*audit_log)->Flush();
    chain_copier->Stop();
  }
  if (!scheduler.Stop(kSyncStopWait)) {
    // A pass outlived the wait (a request to a hanging peer): end here, as
    // kill -9 would, rather than destroy the store under it; the trail's
    // queued records are committed first.
    (void)(*audit_log)->Flush();
    std::printf("stopped (a sync pass was cut)\n");
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(kExitOk);
  }
  std::printf("stopped\n");
  std::fflush(stdout);
  return kExitOk;
}

void RegisterServe(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<http::ServeConfig>();
  auto config_path = std::make_shared<std::string>();
  auto appliers = std::make_shared<std::vector<std::function<void(http::ServeConfig&)>>>();
  auto no_sync = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("serve", "run the TAXII 2.1 server (HTTP/HTTPS)");
  cmd->add_option("--config", *config_path, "TOML config file; flags override its values");

  auto opt = [&](const char* name, auto member, const char* help) {
    CLI::Option* o = cmd->add_option(name, (*flags).*member, help);
    appliers->push_back([o, member, flags](http::ServeConfig& c) {
      if (o->count() > 0) c.*member = (*flags).*member;
    });
    return o;
  };
  auto flag = [&](const char* name, bool http::ServeConfig::*member, const char* help) {
    CLI::Option* o = cmd->add_flag(name, (*flags).*member, help);
    appliers->push_back([o, member, flags](http::ServeConfig& c) {
      if (o->count() > 0) c.*member = (*flags).*member;
    });
  };
  using C = http::ServeConfig;
  opt("--data", &C::data, "hub data directory (database: DIR/ctihub.db; default ./var)");
  opt("--db", &C::db,
      "PostgreSQL database (postgresql://...) shared by several nodes, instead of "
      "DIR/ctihub.db")
      ->envname("CTIHUB_DB");
  opt("--listen", &C::listen, "HOST:PORT to listen on (default 127.0.0.1:8443; port 0 = any)");
  opt("--tls-cert", &C::tls_cert, "PEM certificate chain: serve HTTPS");
  opt("--tls-key", &C::tls_key, "PEM private key of --tls-cert");
  flag("--insecure-http", &C::insecure_http, "allow plain HTTP on a non-loopback address");
  opt("--threads", &C::threads, "IO and worker threads each, 1..256 (default 0: number of cores)");
  opt("--max-connections", &C::max_connections, "open connections at most (default 1024)");
  opt("--body-limit", &C::body_limit, "largest request body in bytes (default 64 MiB)");
  opt("--header-limit", &C::header_limit,
      "largest request line + headers in bytes (default 16 KiB)");
  opt("--header-timeout-ms", &C::header_timeout_ms, "time allowed for a request's headers");
  opt("--idle-timeout-ms", &C::idle_timeout_ms, "keep-alive idle time");
  opt("--request-timeout-ms", &C::request_timeout_ms, "time allowed for a handler");
  opt("--max-objects-per-envelope", &C::max_objects_per_envelope, "objects per POST at most");
  opt("--page-size", &C::page_size, "objects per page when the client sets no limit");
  opt("--max-page-size", &C::max_page_size, "largest limit a client may ask for");
  opt("--title", &C::title, "discovery title");
  opt("--description", &C::description, "discovery description");
  opt("--contact", &C::contact, "discovery contact");
  opt("--access-log", &C::access_log, "write an access log to stderr (true/false)");
  opt("--public-health", &C::public_health,
      "/healthz without credentials (true/false, default true)");
  opt("--public-metrics", &C::public_metrics,
      "/metrics without credentials (true/false; default false: admin/auditor users only)");

  flag("--no-ui", &C::no_ui, "do not serve the web console at /ui/");
  opt("--session-idle", &C::session_idle, "console session idle expiry in seconds (default 1800)");
  opt("--session-max", &C::session_max,
      "console session absolute expiry in seconds (default 43200)");
  opt("--audit-crosscheck-ms", &C::audit_crosscheck_ms,
      "with --db: how often at most this node records the other nodes' audit heads "
      "(default 10000)");

  cmd->add_flag("--no-sync", *no_sync,
                "do not sync the peers with an `every` schedule in the background");

  cmd->callback([exit_code, flags, config_path, appliers, no_sync]() {
    http::ServeConfig cfg;
    if (!config_path->empty()) {
      // A directory (or anything but a file) is a mistake, never "no settings".
      std::error_code ec;
      if (!std::filesystem::is_regular_file(*config_path, ec)) {
        *exit_code =
            Fail("config " + *config_path + ": not a readable TOML file" +
                 (std::filesystem::is_directory(*config_path, ec) ? " (a directory)" : ""));
        return;
      }
      Status st = http::LoadServeConfig(*config_path, cfg);
      if (!st.ok()) {
        *exit_code = Fail(st.NamedMessage());
        return;
      }
    }
    for (const auto& apply : *appliers) apply(cfg);
    if (Status st = http::CheckServeConfig(cfg); !st.ok()) {
      *exit_code = Fail("serve: " + st.NamedMessage());
      return;
    }
    *exit_code = RunServe(cfg, !*no_sync);
  });
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int* exit_code) { RegisterServe(app, exit_code); }

}  // namespace ctihub::cli
