#include "taxii_client/client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "core/encoding.h"

namespace ctihub::taxii_client {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kTaxii = "application/taxii+json;version=2.1";

bool Retryable5xx(int status) {
  return status == 500 || status == 502 || status == 503 || status == 504;
}

Status HttpErrorStatus(const Url& url, int status, const ErrorInfo& info) {
  const std::string msg = url.ToString() + ": HTTP " + std::to_string(status) +
                          (info.title.empty() ? "" : ": " + info.Summary());
  switch (status) {
    case 401:
      return Unauthenticated("unauthorized", msg + " (check the credentials)");
    case 403:
      return Forbidden("forbidden", msg);
    case 404:
      return NotFound("not_found", msg);
    default:
      return Status(status >= 500 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
                    status >= 500 ? "server_error" : "http_error", msg);
  }
}

PageFacts FactsOf(const ObjectsPage& page) {
  std::vector<std::pair<std::string, std::string>> items;
  items.reserve(page.objects.size());
  for (const auto& o : page.objects) items.emplace_back(o.id, o.version);
  return {
      page.more,    page.next, page.date_added_first, page.date_added_last, PageFingerprint(items),
      items.empty()};
}

PageFacts FactsOf(const ManifestPage& page) {
  std::vector<std::pair<std::string, std::string>> items;
  items.reserve(page.entries.size());
  for (const auto& e : page.entries) items.emplace_back(e.id, e.version);
  return {
      page.more,    page.next, page.date_added_first, page.date_added_last, PageFingerprint(items),
      items.empty()};
}

}  // namespace

class Client::Impl {
 public:
  Impl(Url base, ClientOptions options, std::unique_ptr<Transport> transport)
      : base_(std::move(base)),
        options_(std::move(options)),
        transport_(std::move(transport)),
        rng_(std::random_device{}()) {}

  const Url& base() const { return base_; }

  Clock::time_point OperationDeadline() const { return Clock::now() + options_.operation_timeout; }

  // One request with retries. Returns the 2xx response, else the error.
  Result<HttpResponse> Exchange(const std::string& method, const Url& url, std::string body,
                                Clock::time_point deadline) {
    if (!url.SameOrigin(base_))
      return Forbidden("cross_origin", url.Origin() + " is not the peer's origin " +
                                           base_.Origin() + ": credentials are not sent there");
    HttpRequest request{method, url, Headers(!body.empty()), std::move(body)};
    Status last;
    for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
      if (Clock::now() >= deadline) break;
      const auto request_deadline = std::min(deadline, Clock::now() + options_.request_timeout);
      auto r = transport_->RoundTrip(request, options_.transport, request_deadline);
      milliseconds wait = Backoff(attempt);
      if (!r.ok()) {
        if (!RetryableTransportError(r.status())) return r.status();
        last = r.status();
      } else if (r->status >= 200 && r->status < 300) {
        return std::move(r).value();
      } else if (r->status == 429 || Retryable5xx(r->status)) {
        last = r->status == 429
                   ? LimitExceeded("rate_limited", url.ToString() + ": HTTP 429 Too Many Requests")
                   : HttpErrorStatus(url, r->status, parser_.ParseError(r->body));
        const std::string retry_after = r->Header("Retry-After");
        if (!retry_after.empty()) {
          auto seconds = ParseRetryAfter(retry_after, std::time(nullptr));
          if (seconds) {
            if (*seconds > options_.max_retry_after.count())
              return LimitExceeded("rate_limited",
                                   url.ToString() + ": the server asks to retry after " +
                                       std::to_string(*seconds) + " s, more than the " +
                                       std::to_string(options_.max_retry_after.count()) +
                                       " s limit");
            wait = std::chrono::seconds(*seconds);
          }
        }
      } else {
        return HttpErrorStatus(url, r->status, parser_.ParseError(r->body));
      }
      if (attempt == options_.max_attempts) break;
      if (Clock::now() + wait >= deadline) break;
      std::this_thread::sleep_for(wait);
    }
    if (Clock::now() >= deadline && last.ok())
      return Unavailable("operation_timeout", url.ToString() + ": out of time");
    return Status(last.code(), std::string(last.name()),
                  last.message() + " (gave up after " + std::to_string(options_.max_attempts) +
                      " attempts or at the deadline)");
  }

  Result<HttpResponse> Get(const Url& url, Clock::time_point deadline) {
    return Exchange("GET", url, {}, deadline);
  }

  Result<Url> Resolve(const Url& base, std::string_view ref) { return ResolveUrl(base, ref); }

  Result<ApiRoot> ResolveApiRoot() {
    const auto deadline = OperationDeadline();
    CTIHUB_ASSIGN_OR_RETURN(HttpResponse r, Get(base_, deadline));
    CTIHUB_ASSIGN_OR_RETURN(Discovery d, parser_.ParseDiscovery(r.body));
    if (d.api_roots.empty() && d.default_root.empty()) {
      // Not a discovery resource: the base is the API root itself.
      CTIHUB_ASSIGN_OR_RETURN(ApiRootInfo info, parser_.ParseApiRoot(r.body));
      return ApiRoot{WithTrailingSlash(base_), std::move(info)};
    }
    std::string chosen = d.default_root;
    if (chosen.empty()) {
      if (d.api_roots.size() != 1)
        return NotFound("no_api_root", base_.ToString() + " lists " +
                                           std::to_string(d.api_roots.size()) +
                                           " API roots and no default: give one API root URL");
      chosen = d.api_roots[0];
    }
    CTIHUB_ASSIGN_OR_RETURN(Url root, ResolveUrl(base_, chosen));
    root = WithTrailingSlash(std::move(root));
    CTIHUB_ASSIGN_OR_RETURN(HttpResponse rr, Get(root, deadline));
    CTIHUB_ASSIGN_OR_RETURN(ApiRootInfo info, parser_.ParseApiRoot(rr.body));
    return ApiRoot{std::move(root), std::move(info)};
  }

  template <typename Page, typename ParseFn, typename Sink>
  Result<PagingSummary> Walk(const Url& root, std::string_view collection_id,
                             std::string_view endpoint, const PageQuery& query, ParseFn parse,
                             const Sink& sink) {
    const auto deadline = OperationDeadline();
    CTIHUB_ASSIGN_OR_RETURN(
        Url url, ResolveUrl(WithTrailingSlash(root), "collections/" + PercentEncode(collection_id) +
                                                         "/" + std::string(endpoint) + "/"));
    Pager pager(query, options_.max_pages);
    PagingSummary summary;
    while (!pager.done()) {
      url.query = BuildQuery(pager.NextParams());
      CTIHUB_ASSIGN_OR_RETURN(HttpResponse r, Get(url, deadline));
      CTIHUB_ASSIGN_OR_RETURN(Page page, parse(r.body));
      page.date_added_first = r.Header("X-TAXII-Date-Added-First");
      page.date_added_last = r.Header("X-TAXII-Date-Added-Last");
      CTIHUB_RETURN_IF_ERROR(pager.Accept(FactsOf(page)));
      CTIHUB_RETURN_IF_ERROR(sink(page));
      ++summary.pages;
      summary.items += static_cast<int64_t>(PageSize(page));
      summary.last_date_added = pager.last_date_added();
    }
    return summary;
  }

  static size_t PageSize(const ObjectsPage& p) { return p.objects.size(); }
  static size_t PageSize(const ManifestPage& p) { return p.entries.size(); }

  Result<std::string> CallHubApi(std::string_view method, std::string_view absolute_path,
                                 std::string body) {
    CTIHUB_ASSIGN_OR_RETURN(Url url, ResolveUrl(base_, absolute_path));
    CTIHUB_ASSIGN_OR_RETURN(
        HttpResponse r, Exchange(std::string(method), url, std::move(body), OperationDeadline()));
    return std::move(r.body);
  }

  Result<StatusInfo> AddObjects(const Url& root, std::string_view collection_id,
                                std::string envelope) {
    const auto deadline = OperationDeadline();
    CTIHUB_ASSIGN_OR_RETURN(
        Url url, ResolveUrl(WithTrailingSlash(root),
                            "collections/" + PercentEncode(collection_id) + "/objects/"));
    CTIHUB_ASSIGN_OR_RETURN(HttpResponse r, Exchange("POST", url, std::move(envelope), deadline));
    CTIHUB_ASSIGN_OR_RETURN(StatusInfo status, parser_.ParseStatus(r.body));
    milliseconds wait = options_.status_poll_initial;
    while (!status.complete()) {
      if (Clock::now() + wait >= deadline)
        return Unavailable("status_pending",
                           "status " + status.id + " still pending at the deadline (" +
                               std::to_string(status.pending_count) + " objects pending)");
      std::this_thread::sleep_for(wait);
      wait = std::min(wait * 2, options_.status_poll_max);
      CTIHUB_ASSIGN_OR_RETURN(status, GetStatus(root, status.id, deadline));
    }
    return status;
  }

  Result<StatusInfo> GetStatus(const Url& root, std::string_view status_id,
                               Clock::time_point deadline) {
    CTIHUB_ASSIGN_OR_RETURN(
        Url url, ResolveUrl(WithTrailingSlash(root), "status/" + PercentEncode(status_id) + "/"));
    CTIHUB_ASSIGN_OR_RETURN(HttpResponse r, Get(url, deadline));
    return parser_.ParseStatus(r.body);
  }

  ResponseParser& parser() { return parser_; }

 private:
  std::vector<std::pair<std::string, std::string>> Headers(bool with_body) const {
    std::vector<std::pair<std::string, std::string>> h;
    h.emplace_back("Accept", kTaxii);
    h.emplace_back("User-Agent", options_.user_agent);
    const Credentials& c = options_.credentials;
    if (!c.token.empty()) {
      h.emplace_back("Authorization", "Bearer " + c.token);
    } else if (!c.user.empty()) {
      h.emplace_back("Authorization", "Basic " + Base64Encode(c.user + ":" + c.password));
    }
    if (with_body) h.emplace_back("Content-Type", kTaxii);
    return h;
  }

  // Exponential backoff with jitter: initial * 2^(attempt-1), capped, times [0.5, 1].
  milliseconds Backoff(int attempt) {
    const int64_t base = options_.backoff_initial.count();
    int64_t ms = base << std::min(attempt - 1, 20);
    ms = std::min<int64_t>(ms, options_.backoff_max.count());
    std::uniform_int_distribution<int64_t> jitter(ms / 2, std::max<int64_t>(ms, 1));
    return milliseconds(jitter(rng_));
  }

  Url base_;
  ClientOptions options_;
  std::unique_ptr<Transport> transport_;
  ResponseParser parser_;
  std::mt19937_64 rng_;
};

Result<std::unique_ptr<Client>> Client::Create(std::string_view base_url, ClientOptions options) {
  CTIHUB_ASSIGN_OR_RETURN(Url base, ParseUrl(base_url));
  if (options.max_attempts < 1) options.max_attempts = 1;
  if (options.max_pages < 1) options.max_pages = 1;
  CTIHUB_ASSIGN_OR_RETURN(auto transport, Transport::Create(options.tls));
  auto impl = std::make_unique<Impl>(std::move(base), std::move(options), std::move(transport));
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const Url& Client::base() const { return impl_->base(); }

Result<Discovery> Client::Discover() {
  CTIHUB_ASSIGN_OR_RETURN(HttpResponse r, impl_->Get(impl_->base(), impl_->OperationDeadline()));
  return impl_->parser().ParseDiscovery(r.body);
}

Result<ApiRoot> Client::ResolveApiRoot() { return impl_->ResolveApiRoot(); }

Result<ApiRootInfo> Client::GetApiRoot(const Url& root) {
  CTIHUB_ASSIGN_OR_RETURN(HttpResponse r,
                          impl_->Get(WithTrailingSlash(root), impl_->OperationDeadline()));
  return impl_->parser().ParseApiRoot(r.body);
}

Result<std::vector<CollectionInfo>> Client::Collections(const Url& root) {
  CTIHUB_ASSIGN_OR_RETURN(Url url, ResolveUrl(WithTrailingSlash(root), "collections/"));
  CTIHUB_ASSIGN_OR_RETURN(HttpResponse r, impl_->Get(url, impl_->OperationDeadline()));
  return impl_->parser().ParseCollections(r.body);
}

Result<PagingSummary> Client::GetObjects(const Url& root, std::string_view collection_id,
                                         const PageQuery& query, const ObjectsSink& sink) {
  ResponseParser& p = impl_->parser();
  return impl_->Walk<ObjectsPage>(
      root, collection_id, "objects", query,
      [&p](std::string_view body) { return p.ParseObjectsPage(body); }, sink);
}

Result<PagingSummary> Client::GetManifest(const Url& root, std::string_view collection_id,
                                          const PageQuery& query, const ManifestSink& sink) {
  ResponseParser& p = impl_->parser();
  return impl_->Walk<ManifestPage>(
      root, collection_id, "manifest", query,
      [&p](std::string_view body) { return p.ParseManifestPage(body); }, sink);
}

Result<std::string> Client::CallHubApi(std::string_view method, std::string_view absolute_path,
                                       std::string body) {
  return impl_->CallHubApi(method, absolute_path, std::move(body));
}

Result<StatusInfo> Client::AddObjects(const Url& root, std::string_view collection_id,
                                      std::string envelope) {
  return impl_->AddObjects(root, collection_id, std::move(envelope));
}

Result<StatusInfo> Client::GetStatus(const Url& root, std::string_view status_id) {
  return impl_->GetStatus(root, status_id, impl_->OperationDeadline());
}

std::string BuildEnvelope(const std::vector<std::string>& objects) {
  std::string out = "{\"objects\":[";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i) out += ',';
    out += objects[i];
  }
  out += "]}";
  return out;
}

}  // namespace ctihub::taxii_client
