#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <optional>

#include "core/json.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "taxii/query.h"
#include "taxii/taxii.h"

namespace ctihub::taxii {
namespace {

std::string_view Title(int http_status) {
  switch (http_status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

// Messages of rejections start with their stable name: "bad_filter: ...".
std::pair<std::string, std::string> SplitName(const std::string& message, std::string_view fallback) {
  size_t colon = message.find(": ");
  if (colon != std::string::npos && colon > 0 && colon < 40) {
    bool name = true;
    for (size_t i = 0; i < colon; ++i) {
      char c = message[i];
      if (!((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9'))) name = false;
    }
    if (name) return {message.substr(0, colon), message.substr(colon + 2)};
  }
  return {std::string(fallback), message};
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

void WriteCollection(json::JsonWriter& w, const store::Collection& c, bool can_read, bool can_write) {
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
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kNotAcceptable: return 406;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kLimitExceeded: return 413;
    case ErrorCode::kUnsupportedMedia: return 415;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kInternal: return 500;
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
  auto [name, message] = SplitName(status.message(), error_id);
  if (status.code() == ErrorCode::kInternal) {
    // Internal details stay in the log, not in the response.
    Response r = ErrorResponse(http, name, Title(http), "internal error");
    r.internal_detail = status.message();
    return r;
  }
  return ErrorResponse(http, name, Title(http), message);
}

Service::Service(store::Store& store, AuthenticateFn authenticate, ServiceOptions options)
    : store_(store), authenticate_(std::move(authenticate)), options_(std::move(options)) {}

Service::~Service() { WaitForWrites(); }

void Service::WaitForWrites() { ReapWrites(true); }

void Service::TrackWrite(std::future<Result<std::vector<store::WriteOutcome>>> write,
                         std::string status_id, size_t count) {
  ReapWrites(false);
  std::lock_guard<std::mutex> lock(writes_mu_);
  writes_.push_back(PendingWrite{std::move(write), std::move(status_id), count});
}

void Service::ReapWrites(bool wait) {
  std::vector<PendingWrite> done;
  {
    std::lock_guard<std::mutex> lock(writes_mu_);
    auto it = std::partition(writes_.begin(), writes_.end(), [&](PendingWrite& w) {
      if (!w.future.valid()) return false;
      if (wait) return false;
      return w.future.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
    });
    for (auto j = it; j != writes_.end(); ++j) done.push_back(std::move(*j));
    writes_.erase(it, writes_.end());
  }
  for (PendingWrite& w : done) {
    if (!w.future.valid()) continue;
    try {
      auto r = w.future.get();
      if (r.ok()) {
        int64_t stored = 0;
        for (const auto& o : *r) stored += o.stored ? 1 : 0;
        objects_written_ += stored;
      }
    } catch (...) {
      // A broken promise: the store failed; the status stays pending.
    }
  }
}

Response Service::Handle(const Request& request) {
  try {
    return HandleUnchecked(request);
  } catch (const std::exception& e) {
    Response r = ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    r.internal_detail = std::string("exception: ") + e.what();
    return r;
  } catch (...) {
    Response r = ErrorResponse(500, "internal_error", "Internal Server Error", "internal error");
    return r;
  }
}

Response Service::HandleUnchecked(const Request& req) {
  auto target = ParseTarget(req.target);
  if (!target.ok()) return ErrorResponse(target.status(), "bad_target");
  const std::vector<std::string>& seg = target->segments;

  // Authentication first: nothing (not even whether a root exists) is told to strangers.
  auth::Principal principal;
  {
    if (req.authorization.empty()) {
      return ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication required");
    }
    auto p = authenticate_(req.authorization);
    if (!p.ok()) {
      return ErrorResponse(401, "unauthenticated", "Unauthorized", "authentication failed");
    }
    principal = std::move(p).value();
  }
  std::string user = principal.user;
  auto finish = [&](Response r) {
    r.user = user;
    return r;
  };

  if (!AcceptsTaxii21(req.accept)) {
    return finish(ErrorResponse(406, "not_acceptable", "Not Acceptable",
                                "this server answers with application/taxii+json;version=2.1"));
  }
  const bool get = req.method == "GET" || req.method == "HEAD";

  // ---- discovery ----
  if (seg.size() == 1 && seg[0] == "taxii2") {
    if (!get) return finish(MethodNotAllowed("GET, HEAD", "discovery"));
    auto roots = store_.ListApiRoots();
    if (!roots.ok()) return finish(ErrorResponse(roots.status(), "store_error"));
    // The Host header is echoed into URLs: only host[:port] characters pass.
    bool host_ok = !req.host.empty() && req.host.size() < 256;
    for (char ch : req.host) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' ||
            ch == '[' || ch == ']')) {
        host_ok = false;
      }
    }
    std::string base = std::string(req.tls ? "https://" : "http://") +
                       (host_ok ? req.host : std::string("localhost")) + "/";
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
    return finish(Json(std::move(body), "discovery"));
  }
  if (seg.empty()) {
    return finish(ErrorResponse(404, "not_found", "Not Found", "see /taxii2/ for the API roots"));
  }

  // ---- API root ----
  auto roots = store_.ListApiRoots();
  if (!roots.ok()) return finish(ErrorResponse(roots.status(), "store_error"));
  const store::ApiRoot* root = nullptr;
  for (const auto& r : *roots) {
    if (r.name == seg[0]) root = &r;
  }
  if (root == nullptr) {
    return finish(ErrorResponse(404, "unknown_api_root", "Not Found", "no such API root"));
  }
  if (seg.size() == 1) {
    if (!get) return finish(MethodNotAllowed("GET, HEAD", "api_root"));
    std::string body;
    json::JsonWriter w(body);
    w.BeginObject();
    w.Key("title").String(root->title.empty() ? root->name : root->title);
    if (!root->description.empty()) w.Key("description").String(root->description);
    w.Key("versions").BeginArray().String(kTaxiiMediaType).EndArray();
    w.Key("max_content_length").Int(root->max_content_length);
    w.EndObject();
    return finish(Json(std::move(body), "api_root"));
  }

  // ---- status ----
  if (seg[1] == "status") {
    if (seg.size() != 3) return finish(ErrorResponse(404, "not_found", "Not Found", "no such resource"));
    if (!get) return finish(MethodNotAllowed("GET, HEAD", "status"));
    auto st = store_.GetStatus(root->name, seg[2]);
    if (!st.ok()) {
      if (st.status().code() == ErrorCode::kNotFound) {
        return finish(ErrorResponse(404, "unknown_status", "Not Found", "no such status resource"));
      }
      return finish(ErrorResponse(st.status(), "store_error"));
    }
    if (st->user_id != principal.user_id) {
      return finish(ErrorResponse(404, "unknown_status", "Not Found", "no such status resource"));
    }
    std::string body;
    json::JsonWriter w(body);
    WriteStatus(w, *st);
    return finish(Json(std::move(body), "status"));
  }

  if (seg[1] != "collections") {
    return finish(ErrorResponse(404, "not_found", "Not Found", "no such resource"));
  }

  // ---- collections ----
  if (seg.size() == 2) {
    if (!get) return finish(MethodNotAllowed("GET, HEAD", "collections"));
    auto cols = store_.ListCollections(root->name);
    if (!cols.ok()) return finish(ErrorResponse(cols.status(), "store_error"));
    std::string body;
    json::JsonWriter w(body);
    w.BeginObject();
    bool any = false;
    for (const auto& c : *cols) {
      bool r = auth::CanRead(principal, c), wr = auth::CanWrite(principal, c);
      if (!r && !wr) continue;
      if (!any) w.Key("collections").BeginArray();
      any = true;
      WriteCollection(w, c, r, wr);
    }
    if (any) w.EndArray();
    w.EndObject();
    return finish(Json(std::move(body), "collections"));
  }

  auto col = store_.GetCollection(root->name, seg[2]);
  if (!col.ok() && col.status().code() != ErrorCode::kNotFound) {
    return finish(ErrorResponse(col.status(), "store_error"));
  }
  const bool can_read = col.ok() && auth::CanRead(principal, *col);
  const bool can_write = col.ok() && auth::CanWrite(principal, *col);
  if (!col.ok() || (!can_read && !can_write)) {
    return finish(ErrorResponse(404, "unknown_collection", "Not Found", "no such collection"));
  }
  const store::Collection& c = *col;

  if (seg.size() == 3) {
    if (!get) return finish(MethodNotAllowed("GET, HEAD", "collection"));
    std::string body;
    json::JsonWriter w(body);
    WriteCollection(w, c, can_read, can_write);
    return finish(Json(std::move(body), "collection"));
  }

  auto forbidden_read = [&](std::string_view route) {
    Response r = ErrorResponse(403, "read_forbidden", "Forbidden", "you may not read this collection");
    r.route = std::string(route);
    return finish(std::move(r));
  };

  // ---- manifest ----
  if (seg[3] == "manifest" && seg.size() == 4) {
    if (!get) return finish(MethodNotAllowed("GET, HEAD", "manifest"));
    if (!can_read) return forbidden_read("manifest");
    auto q = ParseFilters(target->params, Endpoint::kManifest, options_.default_page_size,
                          options_.max_page_size);
    if (!q.ok()) return finish(ErrorResponse(q.status(), "bad_filter"));
    q->collection_id = c.id;
    auto page = store_.QueryObjects(*q);
    if (!page.ok()) return finish(ErrorResponse(page.status(), "bad_query"));
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
        w.Key("media_type").String("application/stix+json;version=" +
                                   (o.spec_version.empty() ? std::string("2.1") : o.spec_version));
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
    Response r = Json(std::move(body), "manifest");
    AddDateAddedHeaders(r, *page);
    return finish(std::move(r));
  }

  if (seg[3] != "objects" || seg.size() > 6 || (seg.size() == 6 && seg[5] != "versions")) {
    return finish(ErrorResponse(404, "not_found", "Not Found", "no such resource"));
  }

  // ---- objects: GET ----
  auto envelope = [&](const store::ObjectPage& page, std::string_view route) {
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
  };

  if (seg.size() == 4) {
    if (get) {
      if (!can_read) return forbidden_read("objects");
      auto q = ParseFilters(target->params, Endpoint::kObjects, options_.default_page_size,
                            options_.max_page_size);
      if (!q.ok()) return finish(ErrorResponse(q.status(), "bad_filter"));
      q->collection_id = c.id;
      auto page = store_.QueryObjects(*q);
      if (!page.ok()) return finish(ErrorResponse(page.status(), "bad_query"));
      return finish(envelope(*page, "objects"));
    }
    if (req.method != "POST") return finish(MethodNotAllowed("GET, HEAD, POST", "objects"));
    // ---- objects: POST ----
    if (!can_write) {
      Response r = ErrorResponse(403, "write_forbidden", "Forbidden", "you may not write to this collection");
      r.route = "objects_post";
      return finish(std::move(r));
    }
    auto with_route = [&](Response r) {
      r.route = "objects_post";
      return finish(std::move(r));
    };
    if (!IsTaxii21ContentType(req.content_type)) {
      return with_route(ErrorResponse(415, "unsupported_media_type", "Unsupported Media Type",
                                      "POST application/taxii+json;version=2.1"));
    }
    if (root->max_content_length > 0 && static_cast<int64_t>(req.body.size()) > root->max_content_length) {
      return with_route(ErrorResponse(413, "body_too_large", "Payload Too Large",
                                      "the body exceeds max_content_length of this API root (" +
                                          std::to_string(root->max_content_length) + " bytes)"));
    }
    EnvelopeOptions eo;
    eo.max_objects = options_.max_objects_per_envelope;
    eo.validate_patterns = options_.validate_patterns;
    auto items = ParseEnvelope(req.body, eo);
    if (!items.ok()) return with_route(ErrorResponse(items.status(), "invalid_envelope"));

    store::StatusResource st;
    st.id = Uuid::V4().ToString();
    st.api_root = root->name;
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
      TrackWrite(store_.WriteObjects(c.id, std::move(objects), st.id), st.id, n);
    }
    std::string body;
    json::JsonWriter w(body);
    WriteStatus(w, st);
    Response r = Json(std::move(body), "objects_post", 202);
    r.objects_accepted = static_cast<int64_t>(n);
    return finish(std::move(r));
  }

  // ---- one object, its versions ----
  const std::string& object_id = seg[4];
  if (object_id.find("--") == std::string::npos) {
    return finish(ErrorResponse(404, "unknown_object", "Not Found", "not a STIX id"));
  }
  if (seg.size() == 6) {
    if (!get) return finish(MethodNotAllowed("GET, HEAD", "versions"));
    if (!can_read) return forbidden_read("versions");
    auto q = ParseFilters(target->params, Endpoint::kVersions, options_.default_page_size,
                          options_.max_page_size);
    if (!q.ok()) return finish(ErrorResponse(q.status(), "bad_filter"));
    q->collection_id = c.id;
    q->ids = {object_id};
    auto page = store_.QueryObjects(*q);
    if (!page.ok()) return finish(ErrorResponse(page.status(), "bad_query"));
    if (page->objects.empty() && q->next.empty() && !q->added_after_us) {
      return finish(ErrorResponse(404, "unknown_object", "Not Found", "no such object"));
    }
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
    return finish(std::move(r));
  }

  if (req.method == "DELETE") {
    if (!can_read) return forbidden_read("object_delete");
    if (!can_write) {
      Response r = ErrorResponse(403, "write_forbidden", "Forbidden", "you may not delete from this collection");
      r.route = "object_delete";
      return finish(std::move(r));
    }
    auto q = ParseFilters(target->params, Endpoint::kDeleteObject, options_.default_page_size,
                          options_.max_page_size);
    if (!q.ok()) return finish(ErrorResponse(q.status(), "bad_filter"));
    q->collection_id = c.id;
    q->ids = {object_id};
    auto n = store_.DeleteObject(*q);
    if (!n.ok()) return finish(ErrorResponse(n.status(), "store_error"));
    if (*n == 0) return finish(ErrorResponse(404, "unknown_object", "Not Found", "no such object"));
    Response r;
    r.status = 200;
    r.route = "object_delete";
    return finish(std::move(r));
  }
  if (!get) return finish(MethodNotAllowed("GET, HEAD, DELETE", "object"));
  if (!can_read) return forbidden_read("object");
  auto q = ParseFilters(target->params, Endpoint::kObject, options_.default_page_size,
                        options_.max_page_size);
  if (!q.ok()) return finish(ErrorResponse(q.status(), "bad_filter"));
  q->collection_id = c.id;
  q->ids = {object_id};
  auto page = store_.QueryObjects(*q);
  if (!page.ok()) return finish(ErrorResponse(page.status(), "bad_query"));
  if (page->objects.empty() && q->next.empty() && !q->added_after_us) {
    return finish(ErrorResponse(404, "unknown_object", "Not Found", "no such object"));
  }
  return finish(envelope(*page, "object"));
}

}  // namespace ctihub::taxii
