#include "webapi/console.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "core/encoding.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "store/store.h"
#include "taxii/query.h"
#include "taxii/taxii.h"
#include "webapi/agreements.h"
#include "webapi/console_internal.h"
#include "webapi/graph.h"
#include "webapi/objects.h"
#include "webapi/search.h"

namespace ctihub::webapi {

using taxii::ErrorResponse;
using taxii::Request;
using taxii::Response;

namespace {

constexpr std::string_view kCookieName = "ctihub_session";
constexpr std::string_view kJsonType = "application/json";

constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

std::string_view PathOf(std::string_view target) {
  return target.substr(0, std::min(target.find('?'), target.size()));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsJsonContentType(std::string_view content_type) {
  std::string_view media =
      content_type.substr(0, std::min(content_type.find(';'), content_type.size()));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return EqualsNoCase(media, kJsonType);
}

bool IsStateChanging(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// The client address without its port ("127.0.0.1:5000" -> "127.0.0.1").
std::string AddressOf(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    return std::string(remote.substr(0, std::min(remote.find(']') + 1, remote.size())));
  }
  const size_t colon = remote.rfind(':');
  if (colon != std::string_view::npos && remote.find(':') == colon) {
    return std::string(remote.substr(0, colon));
  }
  return std::string(remote);
}

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

}  // namespace

std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = std::min(header.find(';'), header.size());
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(std::min(end + 1, header.size()));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

void AddSecurityHeaders(Response& r, bool tls) {
  auto& h = r.headers;
  h.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  h.emplace_back("X-Content-Type-Options", "nosniff");
  h.emplace_back("X-Frame-Options", "DENY");
  h.emplace_back("Referrer-Policy", "no-referrer");
  h.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  h.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
  h.emplace_back("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  if (tls) h.emplace_back("Strict-Transport-Security", "max-age=31536000");
}

class Console::Impl {
 public:
  Impl(store::Store& store, taxii::Service& service,
       std::function<Result<auth::Principal>(std::string_view)> authenticate,
       const taxii::AccessControl& access, ConsoleOptions options)
      : store_(store),
        service_(service),
        authenticate_(std::move(authenticate)),
        access_(access),
        options_(std::move(options)),
        sessions_(options_.sessions),
        limiter_(options_.max_login_failures, options_.login_window_s, 10000,
                 options_.sessions.now_us) {
    if (options_.import_run) {
      imports_ = std::make_unique<ImportJobs>(options_.import_run, options_.import_limits,
                                              options_.sessions.now_us, options_.import_jobs_store);
    }
  }

  std::optional<Response> Handle(const Request& req) {
    const std::string_view path = PathOf(req.target);
    const bool ui = path == "/ui" || StartsWith(path, "/ui/");
    const bool api = StartsWith(path, "/api/v1/") || path == "/api/v1";
    if (path == "/" && options_.ui_enabled) {
      Response r;
      r.status = 302;
      r.route = "ui";
      r.headers.emplace_back("Location", "/ui/");
      AddSecurityHeaders(r, req.tls);
      return r;
    }
    if (!ui && !api) return std::nullopt;
    Response r;
    try {
      r = ui ? ServeUi(req, path) : HandleApi(req, path);
    } catch (const std::exception& e) {
      spdlog::error("console handler exception: {}", e.what());
      r = ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    } catch (...) {
      r = ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    }
    if (req.authorization.empty()) {
      // A browser answers a Basic challenge to fetch() with a password
      // dialog: the console's callers are sent none.
      std::erase_if(r.headers,
                    [](const auto& h) { return EqualsNoCase(h.first, "WWW-Authenticate"); });
    }
    if (api && std::none_of(r.headers.begin(), r.headers.end(),
                            [](const auto& h) { return EqualsNoCase(h.first, "Cache-Control"); })) {
      r.headers.emplace_back("Cache-Control", "no-store");
    }
    AddSecurityHeaders(r, req.tls);
    return r;
  }

  uint64_t BodyLimit(const Request& req) {
    const std::string_view path = PathOf(req.target);
    if (path == "/api/v1/session" && req.method == "POST") return kLoginBodyLimit;
    if (!StartsWith(path, "/api/v1/")) return 0;
    const std::string_view cookie = CookieValue(req.cookie, kCookieName);
    if (cookie.empty()) return 0;
    SessionLookup found = sessions_.Use(cookie);
    if (found.state != SessionState::kLive) return 0;
    return path == "/api/v1/import" && imports_ ? options_.import_max_bytes : UINT64_MAX;
  }

  SessionTable& sessions() { return sessions_; }

 private:
  // ---- the UI ----
  Response ServeUi(const Request& req, std::string_view path) {
    Response r;
    r.route = "ui";
    if (!options_.ui_enabled) {
      return ErrorResponse(404, "not_found", "Not Found",
                           "the web console is turned off (--no-ui)");
    }
    if (req.method != "GET" && req.method != "HEAD") {
      return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
    }
    if (path == "/ui") {
      r.status = 301;
      r.headers.emplace_back("Location", "/ui/");
      return r;
    }
    if (options_.ui.empty()) {
      return ErrorResponse(503, "ui_not_built", "Service Unavailable",
                           "UI not built: the web console was not built into this binary "
                           "(configure with -DCTIHUB_UI_DIST_DIR=<vite dist dir>)");
    }
    const UiAnswer answer = FindUiFile(options_.ui, path.substr(4));
    if (answer.file == nullptr) {
      return ErrorResponse(404, "not_found", "Not Found", "no such file");
    }
    r.status = 200;
    r.content_type = std::string(answer.file->content_type);
    r.body = std::string(answer.file->body);
    r.headers.emplace_back("Cache-Control",
                           answer.immutable ? "public, max-age=31536000, immutable" : "no-store");
    return r;
  }

  // ---- the API ----
  Response HandleApi(const Request& req, std::string_view path) {
    if (path == "/api/v1/session") return HandleSession(req);
    // The service's own /api/v1/ resources (taxii::Service's route table).
    const bool service_path =
        path == "/api/v1/audit" || path == "/api/v1/witness" || StartsWith(path, "/api/v1/export/");
    if (service_path &&
        (!req.authorization.empty() || CookieValue(req.cookie, kCookieName).empty())) {
      // Scripts and anonymous callers: the service authenticates (anonymous
      // readers of public collections included), gates and audits, as before.
      return service_.Handle(req);
    }
    Caller caller;
    if (auto denied = Authenticate(req, caller)) return std::move(*denied);
    if (caller.by_session && IsStateChanging(req.method) &&
        !SecretEquals(req.csrf_token, caller.session.csrf_token)) {
      Response r =
          ErrorResponse(403, "csrf", "Forbidden", "a missing or wrong X-CSRF-Token header");
      r.user = caller.principal.user;
      return r;
    }
    if (path == "/api/v1/search") {
      Response r = AuditedRead(req, caller, "search", [&](std::vector<audit::ObjectRef>& served) {
        if (req.method != "GET" && req.method != "HEAD") {
          return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
        }
        SearchLimits limits{options_.search_count_cap, options_.search_scan_cap};
        return Search(SearchContext{store_, access_, caller.principal, limits}, req.target, served);
      });
      return r;
    }
    if (StartsWith(path, "/api/v1/objects/")) {
      auto target = taxii::ParseTarget(req.target);
      const auto* seg = target.ok() ? &target->segments : nullptr;
      const bool object = seg != nullptr && seg->size() == 4;
      const bool one_version = seg != nullptr && seg->size() == 6 && (*seg)[4] == "versions";
      if (!object && !one_version) {
        Response r = ErrorResponse(404, "not_found", "Not Found", "no such endpoint");
        r.user = caller.principal.user;
        return r;
      }
      return AuditedRead(req, caller, "object", [&](std::vector<audit::ObjectRef>& served) {
        if (req.method != "GET" && req.method != "HEAD") {
          return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
        }
        SearchLimits limits{options_.search_count_cap, options_.search_scan_cap};
        return GetObject(SearchContext{store_, access_, caller.principal, limits}, (*seg)[3],
                         one_version ? std::string_view((*seg)[5]) : std::string_view(), served);
      });
    }
    if (StartsWith(path, "/api/v1/graph/")) {
      auto target = taxii::ParseTarget(req.target);
      if (!target.ok() || target->segments.size() != 4) {
        Response r = ErrorResponse(404, "not_found", "Not Found", "no such endpoint");
        r.user = caller.principal.user;
        return r;
      }
      return AuditedRead(req, caller, "graph", [&](std::vector<audit::ObjectRef>& served) {
        if (req.method != "GET" && req.method != "HEAD") {
          return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
        }
        SearchLimits limits{options_.search_count_cap, options_.search_scan_cap};
        return GetGraph(SearchContext{store_, access_, caller.principal, limits},
                        target->segments[3], target->params, served);
      });
    }
    if (imports_ && (path == "/api/v1/import" || StartsWith(path, "/api/v1/import/"))) {
      return Import(req, path, caller.principal);
    }
    if (path == "/api/v1/audit/verify") {
      Response r = VerifyTrail(req, caller.principal);
      r.route = "audit_verify";
      r.user = caller.principal.user;
      if (!AuditRequest(req, r, caller.principal, {}))
        return AuditUnavailable(caller.principal.user);
      return r;
    }
    if (path == "/api/v1/agreements" || StartsWith(path, "/api/v1/agreements/")) {
      return Agreements(req, path, caller.principal);
    }
    if (path == "/api/v1/peers") {
      Response r = Peers(req, caller.principal);
      r.route = "peers";
      r.user = caller.principal.user;
      if (!AuditRequest(req, r, caller.principal, {}))
        return AuditUnavailable(caller.principal.user);
      return r;
    }
    if (path == "/api/v1/stats") {
      return AuditedRead(req, caller, "stats", [&](std::vector<audit::ObjectRef>& served) {
        if (req.method != "GET" && req.method != "HEAD") {
          return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
        }
        // An overview may count more than one search page does.
        SearchLimits limits{options_.search_count_cap * 5, options_.search_scan_cap * 5};
        return Stats(SearchContext{store_, access_, caller.principal, limits}, served);
      });
    }
    if (path == "/api/v1/collections") {
      return AuditedRead(req, caller, "collections", [&](std::vector<audit::ObjectRef>&) {
        return Collections(req, caller.principal);
      });
    }
    if (service_path) {
      // A session caller: the service gates and audits it as that user.
      Request as_caller = req;
      as_caller.authenticated = caller.principal;
      return service_.Handle(as_caller);
    }
    Response r = ErrorResponse(404, "not_found", "Not Found", "no such endpoint");
    r.user = caller.principal.user;
    return r;
  }

  // GET /api/v1/peers: administrators only (peer URLs and errors describe the
  // hub's own links); never the credentials (the status holds none).
  Response Peers(const Request& req, const auth::Principal& p) {
    if (req.method != "GET" && req.method != "HEAD")
      return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
    if (!options_.peers_json)
      return ErrorResponse(404, "not_found", "Not Found", "this hub serves no peers");
    if (p.role != store::Role::kAdmin)
      return ErrorResponse(403, "forbidden", "Forbidden", "peers are shown to administrators");
    auto body = options_.peers_json();
    if (!body.ok())
      return ErrorResponse(503, std::string(body.status().name()), "Service Unavailable",
                           body.status().message());
    Response r;
    r.status = 200;
    r.content_type = "application/json";
    r.body = std::move(*body);
    return r;
  }

  // /api/v1/agreements (webapi/agreements.h). A change already carries its
  // own audit record (agreement.changed): a request record that cannot be
  // written then does not turn the kept change into an error.
  Response Agreements(const Request& req, std::string_view path, const auth::Principal& p) {
    Response r = options_.agreement_orgs
                     ? HandleAgreements({access_.data_dir, options_.agreement_orgs, access_.audit,
                                         access_.policy, options_.agreement_source.get()},
                                        req, path, p)
                     : ErrorResponse(404, "not_found", "Not Found", "no such endpoint");
    r.route = "agreements";
    r.user = p.user;
    const bool changed = IsStateChanging(req.method) && r.status < 300;
    if (!AuditRequest(req, r, p, {}) && !changed) return AuditUnavailable(p.user);
    return r;
  }

  // GET /api/v1/audit/verify: the whole chain, its signatures and (with a
  // store listing) every stored version's record, as `ctihub audit verify`.
  Response VerifyTrail(const Request& req, const auth::Principal& p) {
    if (req.method != "GET" && req.method != "HEAD") {
      return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
    }
    if (p.role != store::Role::kAuditor && p.role != store::Role::kHubAuditor) {
      return ErrorResponse(403, "forbidden", "Forbidden", "only auditors may verify the trail");
    }
    audit::VerifyOptions options;
    options.store_versions = options_.store_versions;
    auto report = access_.data_dir.empty()
                      ? Result<audit::VerifyReport>(Unavailable("no audit trail configured"))
                      : audit::Verify(access_.data_dir, options);
    if (!report.ok()) {
      return ErrorResponse(503, "audit_unavailable", "Service Unavailable",
                           "the audit trail cannot be read: " + report.status().NamedMessage());
    }
    std::string detail;
    if (report->intact) {
      detail = std::to_string(report->records) + " records, " +
               std::to_string(report->checkpoints) + " checkpoints, signature valid" +
               (report->store_checked ? "; every stored version recorded" : "");
    } else {
      detail = (report->first_broken_seq > 0
                    ? "broken at record " + std::to_string(report->first_broken_seq) + ": "
                    : std::string("broken: ")) +
               report->reason;
    }
    std::string body;
    json::JsonWriter w(body);
    w.BeginObject();
    w.Key("ok").Bool(report->intact);
    w.Key("records").Int(report->records);
    w.Key("detail").String(detail);
    w.Key("checkpoints").Int(report->checkpoints);
    w.Key("head").String(std::to_string(report->records) + ":" + report->head_hash);
    w.Key("store_checked").Bool(report->store_checked);
    if (!report->intact) w.Key("first_broken_seq").Int(report->first_broken_seq);
    w.EndObject();
    return JsonResponse(200, std::move(body));
  }

  // GET /api/v1/collections: what the caller may read or write (a collection
  // it may neither read nor write does not exist for it, as in TAXII).
  Response Collections(const Request& req, const auth::Principal& p) {
    if (req.method != "GET" && req.method != "HEAD") {
      return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
    }
    auto all = store_.ListCollections("");
    if (!all.ok()) return ErrorResponse(all.status(), "store_error");
    std::string body;
    json::JsonWriter w(body);
    w.BeginObject();
    w.Key("collections").BeginArray();
    for (const auto& c : *all) {
      const bool read = auth::CanRead(p, c);
      const bool write = auth::CanWrite(p, c);
      if (!read && !write) continue;
      w.BeginObject();
      w.Key("id").String(c.id);
      w.Key("api_root").String(c.api_root);
      w.Key("title").String(c.title);
      w.Key("description").String(c.description);
      w.Key("alias").String(c.alias);
      w.Key("can_read").Bool(read);
      w.Key("can_write").Bool(write);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return JsonResponse(200, std::move(body));
  }

  // POST /api/v1/import (audited: the request here, the objects per batch
  // by the job), GET /api/v1/import/{job} (polled: not audited).
  Response Import(const Request& req, std::string_view path, const auth::Principal& p) {
    const ImportContext ctx{store_, *imports_, options_.import_max_bytes};
    const std::string_view job = path.substr(std::min(path.size(), sizeof("/api/v1/import")));
    Response r = path == "/api/v1/import" ? StartImport(ctx, req, p)
                 : job.empty() || job.find('/') != std::string_view::npos
                     ? ErrorResponse(404, "not_found", "Not Found", "no such import job")
                     : ImportStatus(ctx, req, job, p);
    r.route = "import";
    r.user = p.user;
    if (path == "/api/v1/import" && !AuditRequest(req, r, p, {})) return AuditUnavailable(p.user);
    return r;
  }

  struct Caller {
    auth::Principal principal;
    bool by_session = false;
    Session session;
  };

  // nullopt when the caller is known (`caller` filled), else the 401.
  std::optional<Response> Authenticate(const Request& req, Caller& caller) {
    if (!req.authorization.empty()) {
      auto p = authenticate_(req.authorization);
      if (!p.ok() || p->anonymous) {
        AuditLoginFailed(req, auth::BasicUserName(req.authorization));
        return ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication failed");
      }
      caller.principal = std::move(p).value();
      return std::nullopt;
    }
    const std::string_view cookie = CookieValue(req.cookie, kCookieName);
    if (cookie.empty()) {
      return ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication required");
    }
    SessionLookup found = sessions_.Use(cookie);
    if (found.state == SessionState::kUnavailable) return SessionsUnavailable();
    if (found.state == SessionState::kExpired) {
      return ErrorResponse(401, "session_expired", "Unauthorized",
                           "the session expired: log in again");
    }
    if (found.state != SessionState::kLive) {
      return ErrorResponse(401, "unauthenticated", "Unauthorized", "no such session");
    }
    // The session follows its user: removed or disabled ends it; the role
    // and organisation are today's.
    auto user = store_.GetUserById(found.session.principal.user_id);
    if (!user.ok() || user->disabled) {
      (void)sessions_.Destroy(cookie);  // refused either way; a failure is logged
      return ErrorResponse(401, "unauthenticated", "Unauthorized", "the user can no longer log in");
    }
    caller.principal = auth::PrincipalOf(*user);
    caller.by_session = true;
    caller.session = std::move(found.session);
    if (caller.principal.role != caller.session.principal.role ||
        caller.principal.org != caller.session.principal.org) {
      sessions_.Refresh(cookie, caller.principal);
    }
    return std::nullopt;
  }

  // ---- session endpoints ----
  Response HandleSession(const Request& req) {
    if (req.method == "POST") return Login(req);
    if (req.method != "GET" && req.method != "HEAD" && req.method != "DELETE") {
      return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET, POST or DELETE");
    }
    Caller caller;
    if (auto denied = Authenticate(req, caller)) return std::move(*denied);
    if (req.method == "DELETE") {
      if (!caller.by_session) {
        return ErrorResponse(400, "no_session", "Bad Request",
                             "only a session cookie can be logged out");
      }
      if (!SecretEquals(req.csrf_token, caller.session.csrf_token)) {
        return ErrorResponse(403, "csrf", "Forbidden", "a missing or wrong X-CSRF-Token header");
      }
      // The session must be gone before the browser is told so: a stolen
      // cookie would otherwise outlive the logout.
      if (!sessions_.Destroy(CookieValue(req.cookie, kCookieName)).ok()) {
        Response r = SessionsUnavailable();
        r.user = caller.principal.user;
        return r;
      }
      Response r;
      r.status = 204;
      r.route = "session";
      r.user = caller.principal.user;
      r.headers.emplace_back("Set-Cookie", std::string(kCookieName) +
                                               "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                               (req.tls ? "; Secure" : ""));
      AuditRequest(req, r, caller.principal, {});
      return r;
    }
    Response r = JsonResponse(
        200, SessionBody(caller.principal, caller.by_session ? &caller.session : nullptr));
    r.route = "session";
    r.user = caller.principal.user;
    return r;
  }

  std::string SessionBody(const auth::Principal& p, const Session* s) const {
    std::string body;
    json::JsonWriter w(body);
    w.BeginObject();
    w.Key("user").BeginObject();
    w.Key("name").String(p.user);
    w.Key("org").String(p.org);
    w.Key("role").String(store::RoleName(p.role));
    w.EndObject();
    w.Key("csrf_token").String(s != nullptr ? s->csrf_token : "");
    w.Key("idle_timeout_s").Int(s != nullptr ? options_.sessions.idle_s : 0);
    w.Key("expires_at");
    if (s != nullptr) {
      w.String(Timestamp::FromMicros(s->expires_us).Format(0));
    } else {
      w.Null();
    }
    w.EndObject();
    return body;
  }

  // The login's credentials, as the Authorization header the service checks.
  static Result<std::pair<std::string, std::string>> LoginCredentials(std::string_view body) {
    json::ParseLimits limits;
    limits.max_bytes = kLoginBodyLimit;
    limits.max_depth = 4;
    json::JsonParser parser(limits);
    auto doc = parser.Parse(body);
    if (!doc.ok() || !doc->is_object()) {
      return InvalidArgument("bad_request", "the body must be a JSON object");
    }
    auto text = [&](const char* key) -> std::optional<std::string_view> {
      auto v = (*doc)[key];
      if (v.error() || !v.value().is_string()) return std::nullopt;
      return std::string_view(v.value().get_string().value());
    };
    const auto token = text("token");
    const auto user = text("user");
    const auto password = text("password");
    if (token && !user && !password && !token->empty()) {
      return std::make_pair(std::string(), "Bearer " + std::string(*token));
    }
    if (user && password && !token && !user->empty()) {
      // Basic cannot carry a ':' in the user name: no such user can exist.
      std::string header =
          user->find(':') == std::string_view::npos
              ? "Basic " + Base64Encode(std::string(*user) + ":" + std::string(*password))
              : std::string("Basic -");
      return std::make_pair(std::string(*user), std::move(header));
    }
    return InvalidArgument("bad_request",
                           "give {\"user\":..., \"password\":...} or {\"token\":...} (strings)");
  }

  bool OriginIsThisServer(const Request& req) const {
    if (req.origin.empty()) return true;
    const std::string expected = std::string(req.tls ? "https://" : "http://") + req.host;
    return !req.host.empty() && req.origin == expected;
  }

  Response Login(const Request& req) {
    if (!IsJsonContentType(req.content_type)) {
      return ErrorResponse(415, "unsupported_media_type", "Unsupported Media Type",
                           "the login body must be application/json");
    }
    if (!OriginIsThisServer(req)) {
      return ErrorResponse(403, "bad_origin", "Forbidden", "the Origin header names another site");
    }
    auto credentials = LoginCredentials(req.body);
    if (!credentials.ok()) return ErrorResponse(credentials.status(), "bad_request");
    const std::string user_key = "user:" + credentials->first;
    const std::string ip_key = "ip:" + AddressOf(req.remote);
    const int64_t wait = std::max(credentials->first.empty() ? 0 : limiter_.RetryAfter(user_key),
                                  limiter_.RetryAfter(ip_key));
    if (wait > 0) {
      Response r = ErrorResponse(429, "too_many_logins", "Too Many Requests",
                                 "too many failed logins: try again later");
      r.headers.emplace_back("Retry-After", std::to_string(wait));
      return r;
    }
    auto principal = authenticate_(credentials->second);
    if (!principal.ok() || principal->anonymous) {
      if (!credentials->first.empty()) limiter_.RecordFailure(user_key);
      limiter_.RecordFailure(ip_key);
      AuditLoginFailed(req, credentials->first);
      return ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication failed");
    }
    Session session;
    auto created = sessions_.Create(*principal, &session);
    if (!created.ok()) {
      Response r = SessionsUnavailable();
      r.user = principal->user;
      return r;
    }
    const std::string& cookie = *created;
    Response r = JsonResponse(200, SessionBody(*principal, &session));
    r.route = "session";
    r.user = principal->user;
    r.headers.emplace_back("Set-Cookie", std::string(kCookieName) + "=" + cookie +
                                             "; Path=/; HttpOnly; SameSite=Strict" +
                                             (req.tls ? "; Secure" : ""));
    if (!AuditRequest(req, r, *principal, {})) return AuditUnavailable(principal->user);
    return r;
  }

  // The session store (PostgreSQL) cannot answer: no session is granted,
  // created or ended (SessionTable fails closed).
  static Response SessionsUnavailable() {
    return ErrorResponse(503, "session_unavailable", "Service Unavailable",
                         "the session store is unavailable: try again later");
  }

  // ---- audit ----
  static Response AuditUnavailable(const std::string& user) {
    Response r = ErrorResponse(503, "audit_unavailable", "Service Unavailable",
                               "the audit trail cannot record this request");
    r.user = user;
    return r;
  }

  void AuditLoginFailed(const Request& req, std::string attempted_user) {
    if (access_.audit == nullptr) return;
    audit::Record rec;
    rec.user = std::move(attempted_user);
    rec.action = std::string(audit::action::kLoginFailed);
    rec.route = req.method + " " + std::string(PathOf(req.target).substr(0, 1024));
    rec.status = 401;
    rec.remote = req.remote;
    (void)access_.audit->Append(std::move(rec));
  }

  // The request record and, when objects were served, their object.served
  // record, as the service writes them for TAXII reads.
  bool AuditRequest(const Request& req, const Response& r, const auth::Principal& p,
                    std::vector<audit::ObjectRef> served) {
    if (access_.audit == nullptr) return true;
    audit::Record rec;
    rec.user = p.user;
    rec.org = p.org;
    rec.action = std::string(audit::action::kRequest);
    rec.route = req.method + " " + req.target.substr(0, 1024);
    rec.status = r.status;
    rec.remote = req.remote;
    audit::Record objects_rec = rec;
    if (!access_.audit->Append(std::move(rec)).ok()) return false;
    if (served.empty() || r.status >= 300) return true;
    objects_rec.action = std::string(audit::action::kObjectServed);
    objects_rec.details = "{\"route\":\"" + r.route + "\"}";
    objects_rec.objects = std::move(served);
    return access_.audit->Append(std::move(objects_rec)).ok();
  }

  template <typename Fn>
  Response AuditedRead(const Request& req, const Caller& caller, std::string_view route, Fn&& fn) {
    std::vector<audit::ObjectRef> served;
    Response r = fn(served);
    r.route = std::string(route);
    r.user = caller.principal.user;
    if (!AuditRequest(req, r, caller.principal, std::move(served))) {
      return AuditUnavailable(caller.principal.user);
    }
    return r;
  }

  store::Store& store_;
  taxii::Service& service_;
  std::function<Result<auth::Principal>(std::string_view)> authenticate_;
  taxii::AccessControl access_;
  ConsoleOptions options_;
  SessionTable sessions_;
  LoginLimiter limiter_;
  std::unique_ptr<ImportJobs> imports_;  // null: imports not served
};

UiAnswer FindUiFile(std::span<const EmbeddedFile> files, std::string_view rel) {
  auto find = [&](std::string_view p) -> const EmbeddedFile* {
    auto it =
        std::lower_bound(files.begin(), files.end(), p,
                         [](const EmbeddedFile& f, std::string_view key) { return f.path < key; });
    return it != files.end() && it->path == p ? &*it : nullptr;
  };
  const bool asset = StartsWith(rel, "assets/");
  if (!rel.empty()) {
    if (const EmbeddedFile* f = find(rel)) return {f, asset};
  }
  // A hashed asset that is not there is missing, not a page.
  if (asset) return {};
  return {find("index.html"), false};
}

Console::Console(store::Store& store, taxii::Service& service,
                 std::function<Result<auth::Principal>(std::string_view)> authenticate,
                 const taxii::AccessControl& access, ConsoleOptions options)
    : impl_(std::make_unique<Impl>(store, service, std::move(authenticate), access,
                                   std::move(options))) {}
Console::~Console() = default;

std::optional<Response> Console::Handle(const Request& request) { return impl_->Handle(request); }
uint64_t Console::BodyLimit(const Request& request) { return impl_->BodyLimit(request); }
SessionTable& Console::sessions() { return impl_->sessions(); }

}  // namespace ctihub::webapi
