#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <exception>
#include <optional>
#include <set>

#include "audit/witness.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "formats/export.h"
#include "taxii/export.h"
#include "taxii/query.h"
#include "taxii/taxii.h"

namespace ctihub::taxii {
namespace {

std::string_view Title(int http_status) {
  switch (http_status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string DateAddedText(int64_t us) { return Timestamp::FromMicros(us).Format(6); }

std::string VersionText(const store::ObjectVersion& o) { return o.version.ToString(); }

Response Json(std::string body, std::string_view route, int status = 200) {
  Response r;
  r.status = status;
  r.content_type = std::string(kTaxiiMediaType);
  r.body = std::move(body);
  r.route = std::string(route);
  return r;
}

void WriteCollection(json::JsonWriter& w, const store::Collection& c, bool can_read,
                     bool can_write) {
  w.BeginObject();
  w.Key("id").String(c.id);
  w.Key("title").String(c.title.empty() ? c.id : c.title);
  if (!c.description.empty()) w.Key("description").String(c.description);
  if (!c.alias.empty()) w.Key("alias").String(c.alias);
  w.Key("can_read").Bool(can_read);
  w.Key("can_write").Bool(can_write);
  w.Key("media_types").BeginArray().String(kStixMediaType).EndArray();
  w.EndObject();
}

void WriteStatus(json::JsonWriter& w, const store::StatusResource& s) {
  auto details = [&](std::string_view key, const std::vector<store::StatusDetail>& list) {
    if (list.empty()) return;
    w.Key(key).BeginArray();
    for (const auto& d : list) {
      w.BeginObject();
      w.Key("id").String(d.id);
      w.Key("version").String(d.version);
      if (!d.message.empty()) w.Key("message").String(d.message);
      w.EndObject();
    }
    w.EndArray();
  };
  w.BeginObject();
  w.Key("id").String(s.id);
  w.Key("status").String(s.status);
  w.Key("request_timestamp").String(s.request_timestamp.Format(6));
  w.Key("total_count").Int(s.total_count);
  w.Key("success_count").Int(s.success_count);
  details("successes", s.successes);
  w.Key("failure_count").Int(s.failure_count);
  details("failures", s.failures);
  w.Key("pending_count").Int(s.pending_count);
  details("pendings", s.pendings);
  w.EndObject();
}

void AddDateAddedHeaders(Response& r, const store::ObjectPage& page) {
  if (page.objects.empty()) return;
  int64_t first = page.objects.front().date_added_us, last = first;
  for (const auto& o : page.objects) {
    first = std::min(first, o.date_added_us);
    last = std::max(last, o.date_added_us);
  }
  r.headers.emplace_back("X-TAXII-Date-Added-First", DateAddedText(first));
  r.headers.emplace_back("X-TAXII-Date-Added-Last", DateAddedText(last));
}

Response MethodNotAllowed(std::string_view allow, std::string_view route) {
  Response r = ErrorResponse(405, "method_not_allowed", "Method Not Allowed",
                             "allowed methods: " + std::string(allow));
  r.headers.emplace_back("Allow", std::string(allow));
  r.route = std::string(route);
  return r;
}

}  // namespace

int HttpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 200;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kNotAcceptable:
      return 406;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kLimitExceeded:
      return 413;
    case ErrorCode::kUnsupportedMedia:
      return 415;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

Response ErrorResponse(int http_status, std::string_view error_id, std::string_view title,
                       std::string_view description) {
  Response r;
  r.status = http_status;
  r.content_type = std::string(kTaxiiMediaType);
  r.error_id = std::string(error_id);
  json::JsonWriter w(r.body);
  w.BeginObject();
  w.Key("title").String(title);
  if (!description.empty()) w.Key("description").String(description);
  w.Key("error_id").String(error_id);
  w.Key("error_code").String(error_id);
  w.Key("http_status").String(std::to_string(http_status));
  w.EndObject();
  if (http_status == 401) {
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"ctihub\", Bearer realm=\"ctihub\"");
  }
  return r;
}

Response ErrorResponse(const Status& status, std::string_view error_id) {
  int http = HttpStatusOf(status.code());
  std::string_view name = status.NameOr(error_id);
  if (status.code() == ErrorCode::kInternal) {
    // Internal details stay in the log, not in the response.
    Response r = ErrorResponse(http, name, Title(http), "internal error");
    r.internal_detail = status.NamedMessage();
    return r;
  }
  return ErrorResponse(http, name, Title(http), status.message());
}

Service::Service(store::Store& store, AuthenticateFn authenticate, ServiceOptions options,
                 AccessControl access)
    : store_(store),
      authenticate_(std::move(authenticate)),
      options_(std::move(options)),
      access_(std::move(access)) {
  reaper_ = std::thread([this] { ReapLoop(); });
}

Service::~Service() {
  WaitForWrites();
  {
    std::lock_guard<std::mutex> lock(writes_mu_);
    stopping_ = true;
  }
  writes_cv_.notify_all();
  reaper_.join();
}

void Service::WaitForWrites() {
  std::unique_lock<std::mutex> lock(writes_mu_);
  writes_cv_.wait(lock, [this] { return writes_.empty() && writes_in_flight_ == 0; });
}

void Service::TrackWrite(PendingWrite write) {
  {
    std::lock_guard<std::mutex> lock(writes_mu_);
    writes_.push_back(std::move(write));
  }
  writes_cv_.notify_all();
}

// Waits for each durable write in turn (the store's single writer finishes
// them in order) and records the versions it stored in the audit trail.
void Service::ReapLoop() {
  for (;;) {
    PendingWrite w;
    {
      std::unique_lock<std::mutex> lock(writes_mu_);
      writes_cv_.wait(lock, [this] { return stopping_ || !writes_.empty(); });
      if (writes_.empty()) return;
      w = std::move(writes_.front());
      writes_.pop_front();
      ++writes_in_flight_;
    }
    std::vector<audit::ObjectRef> stored;
    std::string failure;  // why the write failed; empty when it committed
    try {
      auto r = w.future.get();
      if (r.ok()) {
        for (size_t i = 0; i < r->size() && i < w.objects.size(); ++i) {
          if ((*r)[i].stored) stored.push_back(std::move(w.objects[i]));
        }
      } else {
        failure = std::string(r.status().name());
      }
    } catch (...) {
      failure = "broken_promise";  // the store's writer went away
    }
    if (!failure.empty()) FinishFailedWrite(w, failure);
    objects_written_ += static_cast<int64_t>(stored.size());
    if (access_.audit != nullptr && !stored.empty()) {
      audit::Record rec;
      rec.user = w.user;
      rec.org = w.org;
      rec.action = std::string(audit::action::kObjectWritten);
      rec.route = w.route;
      rec.status = 202;
      rec.remote = w.remote;
      rec.objects = std::move(stored);
      (void)access_.audit->Append(std::move(rec));  // a failed trail fails later requests
    }
    {
      std::lock_guard<std::mutex> lock(writes_mu_);
      --writes_in_flight_;
    }
    writes_cv_.notify_all();
  }
}

// A write that failed while the hub kept running finishes its status at once:
// a client polling it sees "complete" with each object failed and why, never
// "pending" forever. The store's own message stays out of it (it may name
// internals); its error name says enough.
void Service::FinishFailedWrite(const PendingWrite& w, std::string_view failure) {
  std::string reason = "not stored: the write failed (" + std::string(failure) + ")";
  Status finished = store_.FinishPendingStatus(w.api_root, w.status_id, reason);
  // If even this fails the status stays pending until the next start-up's
  // recovery finishes it (cmd_recovery.cc).
  (void)finished;
}

// What a page finally holds, for the audit trail (only when there is one:
// formatting every version costs on the hot path).
// Each copy carries the grant that let the reader have it and whether it was redacted.
void Service::RecordServed(const std::vector<store::ObjectVersion>& objects, const ReadGate& gate,
                           RequestContext& ctx) const {
  if (access_.audit == nullptr) return;
  ctx.served.reserve(ctx.served.size() + objects.size());
  for (const auto& o : objects) {
    const ServedGrant* grant = gate.GrantOf(o);
    ctx.served.emplace_back(o.id, o.version.ToString(),
                            grant != nullptr ? std::string(grant->via) : std::string(),
                            grant != nullptr && grant->redacted);
  }
}

std::shared_ptr<const policy::Policy> Service::CurrentPolicy() const {
  if (access_.policy == nullptr) return nullptr;
  return access_.policy->Current();
}

namespace {

Response AuthenticationRequired() {
  return ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication required");
}

}  // namespace

Response Service::Handle(const Request& request) {
  RequestContext ctx;
  Response r;
  try {
    r = HandleUnchecked(request, ctx);
  } catch (const std::exception& e) {
    r = ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    r.internal_detail = std::string("exception: ") + e.what();
  } catch (...) {
    r = ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
  }
  if (access_.audit != nullptr && !AuditRequest(request, r, ctx)) {
    // No read may go unaudited: nothing is served when the trail fails.
    std::string user = r.user;
    r = ErrorResponse(503, "audit_unavailable", "Service Unavailable",
                      "the audit trail cannot record this request");
    r.user = std::move(user);
  }
  return r;
}

Response Service::RefuseUnauthenticated(const Request& request) {
  RequestContext ctx;
  Response r = AuthenticationRequired();
  if (!request.authorization.empty()) {
    r = ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication failed");
    ctx.login_failed = true;
    ctx.attempted_user = auth::BasicUserName(request.authorization);
  }
  if (access_.audit != nullptr && !AuditRequest(request, r, ctx)) {
    r = ErrorResponse(503, "audit_unavailable", "Service Unavailable",
                      "the audit trail cannot record this request");
  }
  return r;
}

bool Service::AuditRequest(const Request& req, const Response& response,
                           const RequestContext& ctx) {
  std::string route = req.method + " " + req.target.substr(0, 1024);
  auto base = [&](std::string_view action) {
    audit::Record rec;
    rec.user = ctx.principal.user;
    rec.org = ctx.principal.org;
    rec.action = std::string(action);
    rec.route = route;
    rec.status = response.status;
    rec.remote = req.remote;
    return rec;
  };
  if (ctx.login_failed) {
    audit::Record rec = base(audit::action::kLoginFailed);
    rec.user = ctx.attempted_user;
    rec.org.clear();
    return access_.audit->Append(std::move(rec)).ok();
  }
  if (!ctx.identified) return true;  // no credentials at all: nobody to record
  if (!access_.audit->Append(base(audit::action::kRequest)).ok()) return false;
  if (response.status >= 300) return true;
  if (!ctx.deleted.empty()) {
    audit::Record rec = base(audit::action::kObjectDeleted);
    rec.details = "{\"route\":\"" + response.route + "\"}";
    rec.objects = ctx.deleted;
    if (!access_.audit->Append(std::move(rec)).ok()) return false;
  }
  if (ctx.served.empty()) return true;
  audit::Record rec = base(audit::action::kObjectServed);
  rec.details = "{\"route\":\"" + response.route + "\"}";
  rec.objects = ctx.served;
  return access_.audit->Append(std::move(rec)).ok();
}

// GET /api/v1/audit?user=&org=&object=&action=&since=&until=&before=&after=&limit=
// The audit trail newest first, like `ctihub audit show`: `next` (a record
// seq) continues with `before=`. With `after=` it is read oldest first from
// there and `next` continues with `after=`. A hub-auditor reads every record.
// An organisation's auditor reads its own organisation's users' records and,
// of other organisations' users, the records naming objects its organisation
// may read now (ScreenForOrganisation): a record naming only objects it may
// not read is absent, exactly as if it did not exist.
Response Service::HandleAudit(const std::vector<std::pair<std::string, std::string>>& params,
                              const auth::Principal& principal,
                              const std::shared_ptr<const policy::Policy>& policy) {
  const bool hub_wide = principal.role == store::Role::kHubAuditor;
  if (!hub_wide && principal.role != store::Role::kAuditor) {
    return ErrorResponse(403, "audit_forbidden", "Forbidden", "the audit trail is for auditors");
  }
  if (access_.audit == nullptr || access_.data_dir.empty()) {
    return ErrorResponse(404, "not_found", "Not Found", "this hub keeps no audit trail");
  }
  audit::Filter f;
  f.limit = 100;
  f.newest_first = true;
  for (const auto& param : params) {
    const std::string& key = param.first;
    const std::string& value = param.second;
    auto bad = [&](std::string_view why) {
      return ErrorResponse(400, "bad_filter", "Bad Request", key + ": " + std::string(why));
    };
    if (key == "user") {
      f.user = value;
    } else if (key == "org") {
      f.org = value;
    } else if (key == "object") {
      f.object_id = value;
    } else if (key == "action") {
      f.action = value;
    } else if (key == "since" || key == "until") {
      auto ts = Timestamp::Parse(value);
      if (!ts.ok()) return bad("not an RFC 3339 timestamp");
      (key == "since" ? f.since : f.until) = *ts;
    } else if (key == "after" || key == "before" || key == "limit") {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size() || n < 0) {
        return bad("not a non-negative integer");
      }
      if (key == "after") {
        f.after_seq = n;
        f.newest_first = false;
      } else if (key == "before") {
        f.before_seq = n;
      } else {
        if (n == 0) return bad("must be at least 1");
        f.limit = std::min<int64_t>(n, 1000);
      }
    }
  }
  if (!f.newest_first && f.before_seq > 0) {
    return ErrorResponse(400, "bad_filter", "Bad Request",
                         "before: pages newest first, after: oldest first; not both");
  }
  if (!hub_wide) {
    if (principal.org.empty()) {
      return ErrorResponse(403, "audit_forbidden", "Forbidden",
                           "an auditor reads its organisation's records (the whole trail: role "
                           "hub-auditor)");
    }
    f.org_or_naming_objects = principal.org;
  }
  // Records committed so far, including this request's own earlier ones.
  (void)access_.audit->Flush();
  // Read in batches until limit + 1 records are shown (then there are more),
  // the trail ends, or kMaxScan records were screened (then `next` resumes
  // after the last one screened, and the page may hold fewer than `limit`).
  constexpr int64_t kMaxScan = 20000;
  const int64_t limit = f.limit;
  f.limit = hub_wide ? limit + 1 : std::max<int64_t>(limit + 1, 500);
  std::vector<audit::Record> shown;
  bool more = false;
  int64_t next = 0;
  for (int64_t scanned = 0;;) {
    auto batch = audit::Query(access_.data_dir, f);
    if (!batch.ok()) return ErrorResponse(batch.status(), "audit_error");
    const bool trail_ends = static_cast<int64_t>(batch->size()) < f.limit;
    const int64_t last_seq = batch->empty() ? 0 : batch->back().seq;
    scanned += static_cast<int64_t>(batch->size());
    if (!hub_wide) {
      auto visible = ScreenForOrganisation(std::move(*batch), principal.org, policy);
      if (!visible.ok()) return ErrorResponse(visible.status(), "audit_error");
      *batch = std::move(*visible);
    }
    for (audit::Record& rec : *batch) shown.push_back(std::move(rec));
    if (static_cast<int64_t>(shown.size()) > limit) {
      shown.resize(static_cast<size_t>(limit));
      more = true;
      next = shown.back().seq;
      break;
    }
    if (trail_ends) break;
    if (scanned >= kMaxScan) {
      more = true;
      next = last_seq;
      break;
    }
    (f.newest_first ? f.before_seq : f.after_seq) = last_seq;
  }
  Response r;
  r.content_type = "application/json";
  json::JsonWriter w(r.body);
  w.BeginObject();
  w.Key("order").String(f.newest_first ? "newest-first" : "oldest-first");
  w.Key("more").Bool(more);
  if (more) w.Key("next").String(std::to_string(next));
  w.Key("records").BeginArray();
  for (const auto& rec : shown) w.Raw(audit::RecordToJson(rec));
  w.EndArray();
  w.EndObject();
  return r;
}

namespace {

// A record of another organisation's user as that organisation's auditor
// sees it: only the objects in `readable`, each without the grant (it would
// name the other organisation's agreements); no remote address, details or
// query string (a match[id] could name objects it may not read); no hashes
// (the view is not the hashed record).
audit::Record ForeignView(audit::Record rec,
                          const std::set<std::pair<std::string, std::string>>& readable,
                          const std::set<std::string>& readable_any_version) {
  std::vector<audit::ObjectRef> objects;
  for (audit::ObjectRef& o : rec.objects) {
    const bool may = o.version.empty() ? readable_any_version.count(o.id) > 0
                                       : readable.count({o.id, o.version}) > 0;
    if (!may) continue;
    o.grant.clear();
    objects.push_back(std::move(o));
  }
  rec.objects = std::move(objects);
  rec.route = rec.route.substr(0, rec.route.find('?'));
  rec.remote.clear();
  rec.details = "{}";
  rec.prev_hash.clear();
  rec.hash.clear();
  return rec;
}

}  // namespace

// Which objects the organisation may read is decided by the read path itself:
// for every collection the organisation may read, a query for the records'
// object ids through a ReadGate. Without a policy nothing is readable.
Result<std::vector<audit::Record>> Service::ScreenForOrganisation(
    std::vector<audit::Record> records, const std::string& org,
    const std::shared_ptr<const policy::Policy>& policy) {
  std::set<std::string> ids;
  for (const audit::Record& rec : records) {
    if (rec.org == org) continue;
    for (const audit::ObjectRef& o : rec.objects) ids.insert(o.id);
  }
  std::set<std::pair<std::string, std::string>> readable;
  std::set<std::string> readable_any_version;
  if (!ids.empty() && policy != nullptr) {
    auth::Principal reader;  // the organisation, not one of its users
    reader.org = org;
    reader.role = store::Role::kReader;
    CTIHUB_ASSIGN_OR_RETURN(std::vector<store::Collection> collections, store_.ListCollections(""));
    const std::vector<std::string> all(ids.begin(), ids.end());
    constexpr size_t kIdsPerQuery = 100;
    for (const store::Collection& c : collections) {
      if (!auth::CanRead(reader, c)) continue;
      for (size_t i = 0; i < all.size(); i += kIdsPerQuery) {
        store::ObjectQuery q;
        q.collection_id = c.id;
        q.ids.assign(all.begin() + static_cast<ptrdiff_t>(i),
                     all.begin() + static_cast<ptrdiff_t>(std::min(all.size(), i + kIdsPerQuery)));
        q.version_last = false;
        q.version_all = true;
        ReadGate gate(policy, reader, c);
        gate.Apply(q);
        for (;;) {
          CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, store_.QueryObjects(q));
          for (const store::ObjectVersion& v : page.objects) {
            readable.emplace(v.id, v.version.ToString());
            readable_any_version.insert(v.id);
          }
          if (!page.more) break;
          q.next = page.next;
        }
      }
    }
  }
  std::vector<audit::Record> out;
  for (audit::Record& rec : records) {
    if (rec.org == org) {
      out.push_back(std::move(rec));
      continue;
    }
    audit::Record view = ForeignView(std::move(rec), readable, readable_any_version);
    if (!view.objects.empty()) out.push_back(std::move(view));
  }
  return out;
}

// ---- the route table ----

struct Service::Call {
  Call(const Request& r, const Target& t, RequestContext& c,
       std::shared_ptr<const policy::Policy> p)
      : req(r), target(t), ctx(c), policy(std::move(p)) {}

  const Request& req;
  const Target& target;
  RequestContext& ctx;
  std::shared_ptr<const policy::Policy> policy;
  // The path's placeholders, as matched ("" when the template has none).
  std::string_view root_name, collection_id, object_id, status_id, format_name;
  // Resolved by ResolvePath.
  std::vector<store::ApiRoot> roots;
  const store::ApiRoot* root = nullptr;  // into roots
  store::Collection collection;
  bool can_read = false;
  bool can_write = false;

  const auth::Principal& principal() const { return ctx.principal; }
  bool anonymous() const { return ctx.principal.anonymous; }
};

struct Service::Route {
  struct Handler {
    std::string_view method;  // GET also answers HEAD
    Response (Service::*run)(Call&);
    bool anonymous_ok;  // whether an anonymous reader (public collections) may call it
  };
  std::vector<std::string_view>
      path;               // literal segments and {root}, {collection}, {object}, {status}
  std::string_view name;  // the route of its 405
  bool taxii;             // answers the TAXII media type (Accept checked: 406)
  std::vector<Handler> handlers;
};

// Rows are matched in order: literal templates before the {root} ones they shadow.
const std::vector<Service::Route>& Service::RouteTable() {
  static const std::vector<Route> routes = {
      {{"api", "v1", "audit"}, "audit", false, {{"GET", &Service::GetAudit, false}}},
      {{"api", "v1", "export", "{format}"}, "export", false, {{"GET", &Service::GetExport, false}}},
      {{"api", "v1", "witness"},
       "witness",
       false,
       {{"GET", &Service::GetWitness, false}, {"POST", &Service::PostWitness, false}}},
      {{"taxii2"}, "discovery", true, {{"GET", &Service::GetDiscovery, true}}},
      {{"{root}"}, "api_root", true, {{"GET", &Service::GetApiRoot, true}}},
      {{"{root}", "status", "{status}"}, "status", true, {{"GET", &Service::GetStatus, false}}},
      {{"{root}", "collections"}, "collections", true, {{"GET", &Service::GetCollections, true}}},
      {{"{root}", "collections", "{collection}"},
       "collection",
       true,
       {{"GET", &Service::GetCollection, true}}},
      {{"{root}", "collections", "{collection}", "manifest"},
       "manifest",
       true,
       {{"GET", &Service::GetManifest, true}}},
      {{"{root}", "collections", "{collection}", "objects"},
       "objects",
       true,
       {{"GET", &Service::GetObjects, true}, {"POST", &Service::PostObjects, false}}},
      {{"{root}", "collections", "{collection}", "objects", "{object}"},
       "object",
       true,
       {{"GET", &Service::GetObject, true}, {"DELETE", &Service::DeleteObject, false}}},
      {{"{root}", "collections", "{collection}", "objects", "{object}", "versions"},
       "versions",
       true,
       {{"GET", &Service::GetVersions, true}}},
  };
  return routes;
}

namespace {

Response ForbiddenRead(std::string_view route) {
  Response r =
      ErrorResponse(403, "read_forbidden", "Forbidden", "you may not read this collection");
  r.route = std::string(route);
  return r;
}

Response ForbiddenWrite(std::string_view route, std::string_view description) {
  Response r = ErrorResponse(403, "write_forbidden", "Forbidden", description);
  r.route = std::string(route);
  return r;
}

Response ReadError(const Status& st) {
  std::string_view fallback = st.code() == ErrorCode::kNotFound          ? "unknown_object"
                              : st.code() == ErrorCode::kInvalidArgument ? "bad_filter"
                                                                         : "bad_query";
  return ErrorResponse(st, fallback);
}

// "GET, HEAD, POST": the Allow header of a route.
std::string AllowedMethods(const std::vector<std::string_view>& methods) {
  std::string allow;
  for (std::string_view m : methods) {
    if (!allow.empty()) allow += ", ";
    allow += m == "GET" ? "GET, HEAD" : std::string(m);
  }
  return allow;
}

// The objects envelope of a page (objects and one-object endpoints).
Response EnvelopeOf(const store::ObjectPage& page, std::string_view route) {
  std::string body;
  body.reserve(256 + page.objects.size() * 512);
  json::JsonWriter w(body);
  w.BeginObject();
  w.Key("more").Bool(page.more);
  if (page.more && !page.next.empty()) w.Key("next").String(page.next);
  if (!page.objects.empty()) {
    w.Key("objects").BeginArray();
    for (const auto& o : page.objects) w.Raw(o.json);
    w.EndArray();
  }
  w.EndObject();
  Response r = Json(std::move(body), route);
  AddDateAddedHeaders(r, page);
  return r;
}

// The Host header is echoed into URLs: only host[:port] characters pass.
std::string DiscoveryBase(const Request& req) {
  bool host_ok = !req.host.empty() && req.host.size() < 256;
  for (char ch : req.host) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' ||
          ch == '[' || ch == ']')) {
      host_ok = false;
    }
  }
  return std::string(req.tls ? "https://" : "http://") +
         (host_ok ? req.host : std::string("localhost")) + "/";
}

// Collection access: the ACL for users; the policy's public flag for anonymous readers.
bool MayRead(const auth::Principal& principal, const policy::Policy* policy,
             const store::Collection& c) {
  if (principal.anonymous) return policy != nullptr && MarkingOf(*policy, c).public_read;
  return auth::CanRead(principal, c);
}

}  // namespace

Response Service::HandleUnchecked(const Request& req, RequestContext& ctx) {
  auto target = ParseTarget(req.target);
  if (!target.ok()) return ErrorResponse(target.status(), "bad_target");
  // One policy for the whole request: a revocation applies from the next one.
  Call call{req, *target, ctx, CurrentPolicy()};
  if (call.policy == nullptr && !access_.without_policy_for_test) {
    // The sharing policy is mandatory: without one nothing is read or written.
    return ErrorResponse(503, "policy_unavailable", "Service Unavailable",
                         "no sharing policy is loaded");
  }
  // Authentication first: nothing (not even whether a root exists) is told to strangers.
  if (auto denied = Authenticate(call)) return std::move(*denied);
  ctx.identified = true;
  Response r = Dispatch(call);
  r.user = ctx.principal.user;
  return r;
}

// Without credentials, only collections configured public may be read (their
// TLP:CLEAR objects, as the policy decides).
std::optional<Response> Service::Authenticate(Call& call) {
  RequestContext& ctx = call.ctx;
  const policy::Policy* policy = call.policy.get();
  if (call.req.authenticated) {
    ctx.principal = *call.req.authenticated;  // the console's session (webapi)
  } else if (call.req.authorization.empty()) {
    const bool any_public =
        policy != nullptr &&
        std::any_of(policy->model().collections.begin(), policy->model().collections.end(),
                    [](const auto& c) { return c.public_read; });
    if (!any_public) return AuthenticationRequired();
    ctx.principal.anonymous = true;
    return std::nullopt;
  } else {
    auto p = authenticate_(call.req.authorization);
    if (!p.ok() && p.status().code() == ErrorCode::kUnavailable) {
      // The credentials could not be checked (the store is unreachable): not a failed login.
      return ErrorResponse(503, p.status().name(), "Service Unavailable",
                           "the hub cannot check credentials now; retry later");
    }
    if (!p.ok()) {
      ctx.login_failed = true;
      ctx.attempted_user = auth::BasicUserName(call.req.authorization);
      return ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication failed");
    }
    ctx.principal = std::move(p).value();
  }
  if (access_.policy != nullptr && policy != nullptr &&
      policy->model().FindOrganisation(ctx.principal.org) == nullptr) {
    // An organisation added since the policy was loaded: load it again, at
    // most once a second (an organisation that stays unknown must not cost
    // a reload per request). Until then it is decided as an unknown
    // organisation: public objects only.
    const int64_t now_us = Timestamp::Now().micros();
    int64_t last = last_refresh_us_.load();
    if (now_us - last >= 1000000 && last_refresh_us_.compare_exchange_strong(last, now_us)) {
      access_.policy->Refresh();
      call.policy = access_.policy->Current();
    }
  }
  return std::nullopt;
}

// Path, then media type, then the resources the path names, then the method,
// then the caller's identity; the handler decides the rest.
Response Service::Dispatch(Call& call) {
  const Route* route = MatchRoute(call);
  if ((route == nullptr || route->taxii) && !AcceptsTaxii21(call.req.accept)) {
    return ErrorResponse(406, "not_acceptable", "Not Acceptable",
                         "this server answers with application/taxii+json;version=2.1");
  }
  if (route == nullptr) return NoRoute(call);
  if (auto missing = ResolvePath(*route, call)) return std::move(*missing);
  const bool anonymous = call.anonymous();
  const bool any_anonymous = std::any_of(route->handlers.begin(), route->handlers.end(),
                                         [](const Route::Handler& h) { return h.anonymous_ok; });
  if (anonymous && !any_anonymous) return AuthenticationRequired();
  const std::string& method = call.req.method;
  std::vector<std::string_view> allowed;
  for (const Route::Handler& h : route->handlers) {
    if (h.method == method || (h.method == "GET" && method == "HEAD")) {
      if (anonymous && !h.anonymous_ok) return AuthenticationRequired();
      return (this->*h.run)(call);
    }
    allowed.push_back(h.method);
  }
  return MethodNotAllowed(AllowedMethods(allowed), route->name);
}

const Service::Route* Service::MatchRoute(Call& call) const {
  const std::vector<std::string>& seg = call.target.segments;
  for (const Route& route : RouteTable()) {
    if (route.path.size() != seg.size()) continue;
    bool match = true;
    for (size_t i = 0; i < seg.size() && match; ++i) {
      match = route.path[i].front() == '{' || route.path[i] == seg[i];
    }
    if (!match) continue;
    for (size_t i = 0; i < seg.size(); ++i) {
      std::string_view p = route.path[i];
      if (p == "{root}") call.root_name = seg[i];
      if (p == "{collection}") call.collection_id = seg[i];
      if (p == "{object}") call.object_id = seg[i];
      if (p == "{status}") call.status_id = seg[i];
      if (p == "{format}") call.format_name = seg[i];
    }
    return &route;
  }
  return nullptr;
}

std::optional<Response> Service::ResolvePath(const Route& route, Call& call) {
  for (std::string_view p : route.path) {
    std::optional<Response> missing;
    if (p == "{root}") missing = ResolveApiRoot(call);
    if (p == "{collection}") missing = ResolveCollection(call);
    if (p == "{object}" && call.object_id.find("--") == std::string_view::npos) {
      missing = ErrorResponse(404, "unknown_object", "Not Found", "not a STIX id");
    }
    if (missing) return missing;
  }
  return std::nullopt;
}

std::optional<Response> Service::ResolveApiRoot(Call& call) {
  auto roots = store_.ListApiRoots();
  if (!roots.ok()) return ErrorResponse(roots.status(), "store_error");
  call.roots = std::move(roots).value();
  for (const auto& r : call.roots) {
    if (r.name == call.root_name) call.root = &r;
  }
  if (call.root == nullptr)
    return ErrorResponse(404, "unknown_api_root", "Not Found", "no such API root");
  return std::nullopt;
}

// A collection the caller can neither read nor write does not exist for it.
std::optional<Response> Service::ResolveCollection(Call& call) {
  auto col = store_.GetCollection(call.root->name, call.collection_id);
  if (!col.ok() && col.status().code() != ErrorCode::kNotFound) {
    return ErrorResponse(col.status(), "store_error");
  }
  call.can_read = col.ok() && MayRead(call.principal(), call.policy.get(), *col);
  call.can_write = col.ok() && auth::CanWrite(call.principal(), *col);
  if (!col.ok() || (!call.can_read && !call.can_write)) {
    return ErrorResponse(404, "unknown_collection", "Not Found", "no such collection");
  }
  call.collection = std::move(col).value();
  return std::nullopt;
}

// A path no template matches answers like the deepest resource its prefix names.
Response Service::NoRoute(Call& call) {
  const std::vector<std::string>& seg = call.target.segments;
  if (seg.empty())
    return ErrorResponse(404, "not_found", "Not Found", "see /taxii2/ for the API roots");
  call.root_name = seg[0];
  if (auto missing = ResolveApiRoot(call)) return std::move(*missing);
  if (seg.size() > 1 && seg[1] == "status" && call.anonymous()) return AuthenticationRequired();
  if (seg.size() > 2 && seg[1] == "collections") {
    call.collection_id = seg[2];
    if (auto missing = ResolveCollection(call)) return std::move(*missing);
  }
  return ErrorResponse(404, "not_found", "Not Found", "no such resource");
}

// The read gate of every read path (see access.h).
ReadGate Service::OpenGate(const Call& call) const {
  if (call.policy == nullptr && access_.without_policy_for_test) {
    return ReadGate::WithoutPolicyForTest(call.principal(), call.collection);
  }
  return ReadGate(call.policy, call.principal(), call.collection);
}

Result<store::ObjectPage> Service::ReadPage(Call& call, Endpoint endpoint,
                                            std::string_view object_id) {
  auto q = ParseFilters(call.target.params, endpoint, options_.default_page_size,
                        options_.max_page_size);
  if (!q.ok()) return q.status();
  q->collection_id = call.collection.id;
  if (!object_id.empty()) q->ids = {std::string(object_id)};
  ReadGate gate = OpenGate(call);
  gate.Apply(*q);
  auto page = store_.QueryObjects(*q);
  if (!page.ok()) return page.status();
  if (!object_id.empty() && page->objects.empty() && q->next.empty() && !q->added_after_us) {
    return NotFound("unknown_object", "no such object");
  }
  RecordServed(page->objects, gate, call.ctx);
  return page;
}

// ---- the resources ----

// GET /api/v1/audit (not TAXII): auditors only.
Response Service::GetAudit(Call& call) {
  Response r = HandleAudit(call.target.params, call.principal(), call.policy);
  r.route = "audit";
  return r;
}

// ---- audit witnesses (audit/witness.h): partners keep each other's signed heads ----

namespace {

constexpr size_t kMaxWitnessBody = 4096;

Response WitnessError(const Status& st, int http_status) {
  Response r = ErrorResponse(http_status, st.name(), Title(http_status), st.message());
  r.route = "witness";
  return r;
}

}  // namespace

Response Service::WitnessAnswer(const Call& call, int status) {
  auto own = audit::ReadSignedHead(access_.data_dir);
  if (!own.ok()) return WitnessError(own.status(), 503);
  auto held =
      audit::HeldPartnerHead(access_.data_dir, audit::PartnerKind::kUser, call.principal().user);
  if (!held.ok()) return WitnessError(held.status(), 503);
  std::string body = "{\"held\":" + (*held ? audit::SignedHeadJson(**held) : "null") +
                     ",\"head\":" + audit::SignedHeadJson(*own) + "}";
  Response r = Json(std::move(body), "witness", status);
  r.content_type = "application/json";
  return r;
}

// GET /api/v1/witness: the head this hub holds of the caller, and its own.
Response Service::GetWitness(Call& call) {
  if (access_.data_dir.empty())
    return WitnessError(NotFound("not_found", "this hub keeps no audit trail"), 404);
  return WitnessAnswer(call, 200);
}

// POST /api/v1/witness {"head": HEAD}: keeps the caller's signed head (never
// one behind the held one: 409 trail_regressed / trail_rewritten), audited
// either way, and answers like GET.
Response Service::PostWitness(Call& call) {
  if (access_.data_dir.empty() || access_.audit == nullptr)
    return WitnessError(NotFound("not_found", "this hub keeps no audit trail"), 404);
  if (call.req.body.size() > kMaxWitnessBody)
    return WitnessError(LimitExceeded("too_large", "a witness body is at most 4096 bytes"), 413);
  json::JsonParser parser;
  auto root = parser.Parse(call.req.body);
  if (!root.ok()) return WitnessError(InvalidArgument("bad_json", "the body is no JSON"), 400);
  simdjson::dom::element head_value;
  if ((*root)["head"].get(head_value) != simdjson::SUCCESS)
    return WitnessError(InvalidArgument("bad_head", "the body needs a \"head\" object"), 400);
  auto head = audit::ParseSignedHead(head_value);
  if (!head.ok()) return WitnessError(head.status(), 400);
  Status held = audit::HoldPartnerHead(access_.data_dir, audit::PartnerKind::kUser,
                                       call.principal().user, *head);
  audit::Record rec;
  rec.user = call.principal().user;
  rec.org = call.principal().org;
  rec.action = std::string(audit::action::kWitnessHeld);
  rec.route = "POST /api/v1/witness";
  rec.remote = call.req.remote;
  rec.status = held.ok() ? 200 : 409;
  std::string details;
  json::JsonWriter w(details);
  w.BeginObject().Key("seq").Int(head->seq).Key("hash").String(head->hash);
  w.Key("public_key").String(head->public_key);
  if (!held.ok()) w.Key("refused").String(held.NamedMessage());
  w.EndObject();
  rec.details = std::move(details);
  if (Status st = access_.audit->Append(std::move(rec)); !st.ok())
    return WitnessError(Unavailable("audit_unavailable", "the audit trail refused the record"),
                        503);
  if (!held.ok()) {
    const int code = held.name() == "bad_signature" || held.name() == "bad_partner" ? 400 : 409;
    return WitnessError(held, code);
  }
  return WitnessAnswer(call, 200);
}

namespace {

// Whether an If-None-Match header names `etag` (a list, or "*").
bool NoneMatchNames(std::string_view header, std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag || tag == "*") return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

// The export's options and scope from the query string; the 400 of a bad one.
std::optional<Response> ExportParams(const std::vector<std::pair<std::string, std::string>>& params,
                                     formats::ExportOptions* options, ExportScope* scope) {
  for (const auto& param : params) {
    const std::string& key = param.first;  // not a structured binding: the lambda captures it
    const std::string& value = param.second;
    auto bad = [&](std::string_view why) {
      return ErrorResponse(400, "bad_filter", "Bad Request", key + ": " + std::string(why));
    };
    if (key == "collection") {
      scope->collection = value;
    } else if (key == "root") {
      scope->api_root = value;
    } else if (key == "type") {
      scope->types.push_back(value);
    } else if (key == "since") {
      auto t = Timestamp::Parse(value);
      if (!t.ok()) return bad(t.status().message());
      scope->added_after_us = t->micros();
    } else if (key == "list") {
      options->list = value;
    } else if (key == "include_pap_restricted") {
      if (value != "true" && value != "false") return bad("expected true or false");
      options->include_pap_restricted = value == "true";
    } else {
      return bad("unknown parameter");
    }
  }
  if (Status st = formats::CheckExportList(*options); !st.ok()) {
    return ErrorResponse(400, "bad_filter", "Bad Request", st.message());
  }
  return std::nullopt;
}

}  // namespace

// GET /api/v1/export/{format}?collection=&root=&type=&since=&list=&include_pap_restricted=
// What the caller may read, through the same read gate as the objects
// endpoint, in a sensor format (docs/formats/export.md), streamed: the body
// is a BodyProducer the HTTP layer sends as a chunked body, a piece at a time
// (ExportRun), never held whole. The ETag is ExportFingerprint, a weak
// validator of the inputs known before any object is read: If-None-Match
// naming it answers 304 without reading objects (nothing served, so no
// export record). The audit records follow the body as it is written
// (OpenExportStream): a stream cut short records what was sent, as aborted.
Response Service::GetExport(Call& call) {
  auto fail = [](Response r) {
    r.route = "export";
    return r;
  };
  auto format = formats::ParseExportFormat(call.format_name);
  if (!format) {
    return fail(ErrorResponse(404, "unknown_export_format", "Not Found",
                              "formats: stix, misp, csv, suricata, zeek, blocklist, rpz"));
  }
  formats::ExportOptions options;
  options.format = *format;
  ExportScope scope;
  if (auto bad = ExportParams(call.target.params, &options, &scope)) return fail(std::move(*bad));
  ExportReader reader{&call.principal(), call.policy};
  Response r;
  r.route = "export";
  r.headers.emplace_back("Cache-Control", "no-cache");
  auto etag = ExportFingerprint(store_, reader, scope, options);
  if (!etag.ok() && etag.status().code() != ErrorCode::kUnavailable) {
    return fail(ErrorResponse(etag.status(), "export_failed"));
  }
  if (etag.ok()) {
    r.headers.emplace_back("ETag", *etag);
    if (NoneMatchNames(call.req.if_none_match, *etag)) {
      r.status = 304;
      return r;
    }
  }
  ExportAudit audit;
  audit.sink = access_.audit;
  audit.export_id = Uuid::V4().ToString();
  audit.base.user = call.principal().user;
  audit.base.org = call.principal().org;
  audit.base.route = "GET " + call.req.target.substr(0, 1024);
  audit.base.status = 200;
  audit.base.remote = call.req.remote;
  auto stream = OpenExportStream(store_, reader, scope, options, audit);
  if (!stream.ok()) return fail(ErrorResponse(stream.status(), "export_failed"));
  r.content_type = std::string(formats::ExportMediaType(*format));
  r.stream = std::move(*stream);
  return r;
}

Response Service::GetDiscovery(Call& call) {
  auto roots = store_.ListApiRoots();
  if (!roots.ok()) return ErrorResponse(roots.status(), "store_error");
  const std::string base = DiscoveryBase(call.req);
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject();
  w.Key("title").String(options_.title);
  if (!options_.description.empty()) w.Key("description").String(options_.description);
  if (!options_.contact.empty()) w.Key("contact").String(options_.contact);
  if (!roots->empty()) w.Key("default").String(base + roots->front().name + "/");
  w.Key("api_roots").BeginArray();
  for (const auto& r : *roots) w.String(base + r.name + "/");
  w.EndArray();
  w.EndObject();
  return Json(std::move(body), "discovery");
}

Response Service::GetApiRoot(Call& call) {
  const store::ApiRoot& root = *call.root;
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject();
  w.Key("title").String(root.title.empty() ? root.name : root.title);
  if (!root.description.empty()) w.Key("description").String(root.description);
  w.Key("versions").BeginArray().String(kTaxiiMediaType).EndArray();
  w.Key("max_content_length").Int(root.max_content_length);
  w.EndObject();
  return Json(std::move(body), "api_root");
}

// A status resource exists only for the user whose POST created it.
Response Service::GetStatus(Call& call) {
  auto st = store_.GetStatus(call.root->name, call.status_id);
  if (!st.ok()) {
    if (st.status().code() == ErrorCode::kNotFound) {
      return ErrorResponse(404, "unknown_status", "Not Found", "no such status resource");
    }
    return ErrorResponse(st.status(), "store_error");
  }
  if (st->user_id != call.principal().user_id) {
    return ErrorResponse(404, "unknown_status", "Not Found", "no such status resource");
  }
  std::string body;
  json::JsonWriter w(body);
  WriteStatus(w, *st);
  return Json(std::move(body), "status");
}

// Lists only the collections the caller may read or write.
Response Service::GetCollections(Call& call) {
  auto cols = store_.ListCollections(call.root->name);
  if (!cols.ok()) return ErrorResponse(cols.status(), "store_error");
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject();
  bool any = false;
  for (const auto& c : *cols) {
    bool r = MayRead(call.principal(), call.policy.get(), c);
    bool wr = auth::CanWrite(call.principal(), c);
    if (!r && !wr) continue;
    if (!any) w.Key("collections").BeginArray();
    any = true;
    WriteCollection(w, c, r, wr);
  }
  if (any) w.EndArray();
  w.EndObject();
  return Json(std::move(body), "collections");
}

Response Service::GetCollection(Call& call) {
  std::string body;
  json::JsonWriter w(body);
  WriteCollection(w, call.collection, call.can_read, call.can_write);
  return Json(std::move(body), "collection");
}

Response Service::GetManifest(Call& call) {
  if (!call.can_read) return ForbiddenRead("manifest");
  auto page = ReadPage(call, Endpoint::kManifest, {});
  if (!page.ok()) return ReadError(page.status());
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject();
  w.Key("more").Bool(page->more);
  if (page->more && !page->next.empty()) w.Key("next").String(page->next);
  if (!page->objects.empty()) {
    w.Key("objects").BeginArray();
    for (const auto& o : page->objects) {
      w.BeginObject();
      w.Key("id").String(o.id);
      w.Key("date_added").String(DateAddedText(o.date_added_us));
      w.Key("version").String(VersionText(o));
      w.Key("media_type")
          .String("application/stix+json;version=" +
                  (o.spec_version.empty() ? std::string("2.1") : o.spec_version));
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  Response r = Json(std::move(body), "manifest");
  AddDateAddedHeaders(r, *page);
  return r;
}

Response Service::GetObjects(Call& call) {
  if (!call.can_read) return ForbiddenRead("objects");
  auto page = ReadPage(call, Endpoint::kObjects, {});
  if (!page.ok()) return ReadError(page.status());
  return EnvelopeOf(*page, "objects");
}

// Validates the envelope, records a status resource and hands the valid
// objects to the store's writer: 202 with the status (pending until durable).
Response Service::PostObjects(Call& call) {
  const Request& req = call.req;
  const auth::Principal& principal = call.principal();
  const store::ApiRoot& root = *call.root;
  auto with_route = [](Response r) {
    r.route = "objects_post";
    return r;
  };
  if (!call.can_write)
    return ForbiddenWrite("objects_post", "you may not write to this collection");
  if (!IsTaxii21ContentType(req.content_type)) {
    return with_route(ErrorResponse(415, "unsupported_media_type", "Unsupported Media Type",
                                    "POST application/taxii+json;version=2.1"));
  }
  if (root.max_content_length > 0 &&
      static_cast<int64_t>(req.body.size()) > root.max_content_length) {
    return with_route(ErrorResponse(413, "body_too_large", "Payload Too Large",
                                    "the body exceeds max_content_length of this API root (" +
                                        std::to_string(root.max_content_length) + " bytes)"));
  }
  EnvelopeOptions eo;
  eo.max_objects = options_.max_objects_per_envelope;
  eo.validate_patterns = options_.validate_patterns;
  const policy::Policy* policy = call.policy.get();
  const std::string writer_identity = WriterIdentity(policy, principal);
  const Timestamp write_time = Timestamp::Now();
  eo.prepare = [&](json::Element object, store::NewObject& out) {
    return PrepareWrite(policy, principal, writer_identity, object, out, write_time);
  };
  auto items = ParseEnvelope(req.body, eo);
  if (!items.ok()) return with_route(ErrorResponse(items.status(), "invalid_envelope"));

  store::StatusResource st;
  st.id = Uuid::V4().ToString();
  st.api_root = root.name;
  st.user_id = principal.user_id;
  st.request_timestamp = Timestamp::Now();
  st.total_count = static_cast<int64_t>(items->size());
  std::vector<store::NewObject> objects;
  for (EnvelopeItem& it : *items) {
    store::StatusDetail d{it.id, it.version, it.message};
    if (!it.ok) {
      st.failures.push_back(std::move(d));
    } else if (it.duplicate) {
      d.message = "duplicate in envelope";
      st.successes.push_back(std::move(d));
    } else {
      st.pendings.push_back(std::move(d));
      objects.push_back(std::move(it.object));
    }
  }
  st.failure_count = static_cast<int64_t>(st.failures.size());
  st.success_count = static_cast<int64_t>(st.successes.size());
  st.pending_count = static_cast<int64_t>(st.pendings.size());
  st.status = objects.empty() ? "complete" : "pending";
  Status created = store_.CreateStatus(st);
  if (!created.ok()) return with_route(ErrorResponse(created, "store_error"));
  size_t n = objects.size();
  if (n > 0) {
    PendingWrite pending;
    pending.user = principal.user;
    pending.org = principal.org;
    pending.route = req.method + " " + req.target.substr(0, 1024);
    pending.remote = req.remote;
    pending.api_root = st.api_root;
    pending.status_id = st.id;
    pending.objects.reserve(n);
    for (const auto& o : objects) {
      pending.objects.push_back({o.id, o.has_version ? o.version.ToString() : std::string()});
    }
    pending.future = store_.WriteObjects(call.collection.id, std::move(objects), st.id);
    TrackWrite(std::move(pending));
  }
  std::string body;
  json::JsonWriter w(body);
  WriteStatus(w, st);
  Response r = Json(std::move(body), "objects_post", 202);
  r.objects_accepted = static_cast<int64_t>(n);
  return r;
}

Response Service::GetObject(Call& call) {
  if (!call.can_read) return ForbiddenRead("object");
  auto page = ReadPage(call, Endpoint::kObject, call.object_id);
  if (!page.ok()) return ReadError(page.status());
  return EnvelopeOf(*page, "object");
}

Response Service::GetVersions(Call& call) {
  if (!call.can_read) return ForbiddenRead("versions");
  auto page = ReadPage(call, Endpoint::kVersions, call.object_id);
  if (!page.ok()) return ReadError(page.status());
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject();
  w.Key("more").Bool(page->more);
  if (page->more && !page->next.empty()) w.Key("next").String(page->next);
  if (!page->objects.empty()) {
    w.Key("versions").BeginArray();
    for (const auto& o : page->objects) w.String(VersionText(o));
    w.EndArray();
  }
  w.EndObject();
  Response r = Json(std::move(body), "versions");
  AddDateAddedHeaders(r, *page);
  return r;
}

namespace {

// Every version a DELETE's filters select (what store::Store::DeleteObject
// removes), whatever the caller may see.
Result<std::vector<audit::ObjectRef>> ListVersionsToDelete(store::Store& store,
                                                           store::ObjectQuery q) {
  q.include_json = false;
  q.scope.reset();
  q.screen = nullptr;
  q.admit = nullptr;
  q.limit = 1000;
  q.next.clear();
  std::vector<audit::ObjectRef> out;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, store.QueryObjects(q));
    for (const store::ObjectVersion& v : page.objects) out.emplace_back(v.id, v.version.ToString());
    if (!page.more) return out;
    q.next = page.next;
  }
}

}  // namespace

// Only versions the caller may see exist for it; of those, only its
// organisation's own may be deleted (admins may delete any).
Response Service::DeleteObject(Call& call) {
  const auth::Principal& principal = call.principal();
  const std::shared_ptr<const policy::Policy>& policy = call.policy;
  if (!call.can_read) return ForbiddenRead("object_delete");
  if (!call.can_write)
    return ForbiddenWrite("object_delete", "you may not delete from this collection");
  auto q = ParseFilters(call.target.params, Endpoint::kDeleteObject, options_.default_page_size,
                        options_.max_page_size);
  if (!q.ok()) return ErrorResponse(q.status(), "bad_filter");
  q->collection_id = call.collection.id;
  q->ids = {std::string(call.object_id)};
  {
    store::ObjectQuery probe = *q;
    probe.limit = 1000;
    probe.include_json = true;
    ReadGate gate = OpenGate(call);
    gate.Apply(probe);
    bool foreign = false;
    auto admit = std::move(probe.admit);
    probe.admit = [&](store::ObjectVersion& v) {
      if (admit && !admit(v)) return false;
      if (policy != nullptr && !gate.IsOwn(v)) foreign = true;
      return true;
    };
    auto visible = store_.QueryObjects(probe);
    if (!visible.ok()) return ErrorResponse(visible.status(), "store_error");
    if (visible->objects.empty())
      return ErrorResponse(404, "unknown_object", "Not Found", "no such object");
    if (policy != nullptr && principal.role != store::Role::kAdmin) {
      // Versions hidden from the caller are not its own either.
      store::ObjectQuery all = *q;
      all.limit = 1000;
      all.include_json = false;
      auto every = store_.QueryObjects(all);
      if (!every.ok()) return ErrorResponse(every.status(), "store_error");
      if (every->objects.size() != visible->objects.size()) foreign = true;
    }
    if (foreign && principal.role != store::Role::kAdmin) {
      Response r = ErrorResponse(403, "delete_forbidden", "Forbidden",
                                 "only the producer's organisation may delete an object");
      r.route = "object_delete";
      return r;
    }
  }
  // The versions the delete removes, for its object.deleted record.
  std::vector<audit::ObjectRef> doomed;
  if (access_.audit != nullptr) {
    auto listed = ListVersionsToDelete(store_, *q);
    if (!listed.ok()) return ErrorResponse(listed.status(), "store_error");
    doomed = std::move(*listed);
  }
  auto n = store_.DeleteObject(*q);
  if (!n.ok()) return ErrorResponse(n.status(), "store_error");
  if (*n == 0) return ErrorResponse(404, "unknown_object", "Not Found", "no such object");
  call.ctx.deleted = std::move(doomed);
  Response r;
  r.status = 200;
  r.route = "object_delete";
  return r;
}

}  // namespace ctihub::taxii
