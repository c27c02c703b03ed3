#include "webapi/import_jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>
#include <system_error>
#include <utility>

#include "core/encoding.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "formats/csv.h"
#include "policy/markings.h"
#include "taxii/query.h"
#include "taxii/taxii.h"

namespace ctihub::webapi {

using taxii::ErrorResponse;
using taxii::Request;
using taxii::Response;

struct ImportJobs::Job {
  std::string id;
  int64_t owner_id = 0;
  std::string collection;
  std::string format;
  std::string name;
  ImportState state = ImportState::kRunning;
  std::string error;
  int64_t started_us = 0;
  int64_t finished_us = 0;
  ImportProgress progress;
  bool thread_done = false;  // the thread has nothing left to do but return
  int64_t published_us = 0;  // when its progress was last written to the shared store
  std::mutex publish_mu;     // orders the writes of its status to the shared store
};

std::string_view ImportStateName(ImportState s) {
  switch (s) {
    case ImportState::kRunning:
      return "running";
    case ImportState::kDone:
      return "done";
    case ImportState::kFailed:
      return "failed";
  }
  return "failed";
}

namespace {

std::string JobBody(const ImportJobView& v) {
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject();
  w.Key("job").String(v.id);
  w.Key("state").String(ImportStateName(v.state));
  w.Key("collection").String(v.collection);
  w.Key("format").String(v.format);
  w.Key("name").String(v.name);
  w.Key("started_at").String(Timestamp::FromMicros(v.started_us).Format(3));
  w.Key("finished_at");
  if (v.finished_us > 0) {
    w.String(Timestamp::FromMicros(v.finished_us).Format(3));
  } else {
    w.Null();
  }
  const ImportProgress& p = v.progress;
  w.Key("total_bytes").Int(p.total_bytes);
  w.Key("read_bytes").Int(p.read_bytes);
  w.Key("objects_read").Int(p.objects_read);
  w.Key("objects_stored").Int(p.objects_stored);
  w.Key("already_present").Int(p.already_present);
  w.Key("rejected").Int(p.rejected);
  w.Key("errors").BeginArray();
  for (const ImportRejection& e : p.errors) {
    w.BeginObject().Key("file").String(e.file);
    if (e.line >= 0) w.Key("line").Int(e.line);
    if (!e.object.empty()) w.Key("object").String(e.object);
    if (!e.position.empty()) w.Key("position").String(e.position);
    w.Key("reason").String(e.reason).EndObject();
  }
  w.EndArray();
  w.Key("errors_truncated").Bool(p.rejected > static_cast<int64_t>(p.errors.size()));
  if (v.state == ImportState::kFailed) w.Key("error").String(v.error);
  w.EndObject();
  return body;
}

}  // namespace

ImportJobs::ImportJobs(ImportRunFn run, ImportJobLimits limits, std::function<int64_t()> now_us,
                       store::Store* shared)
    : run_(std::move(run)), limits_(limits), now_us_(std::move(now_us)) {
  if (!now_us_) now_us_ = [] { return Timestamp::Now().micros(); };
  if (shared != nullptr && shared->KeepsImportJobs()) shared_ = shared;
}

ImportJobView ImportJobs::ViewOf(const Job& j) {
  ImportJobView v;
  v.id = j.id;
  v.state = j.state;
  v.collection = j.collection;
  v.format = j.format;
  v.name = j.name;
  v.error = j.error;
  v.started_us = j.started_us;
  v.finished_us = j.finished_us;
  v.progress = j.progress;
  return v;
}

// Never under mu_: the store is another process's database. Each publish
// takes the job's latest view while holding the job's publish_mu, so the
// writes of one job land in order and the last one is its latest state. A
// job whose progress cannot be published still runs; the other nodes see it
// late.
void ImportJobs::Publish(const std::shared_ptr<Job>& job) {
  if (shared_ == nullptr) return;
  std::lock_guard<std::mutex> publishing(job->publish_mu);
  ImportJobView v;
  {
    std::lock_guard<std::mutex> lock(mu_);
    v = ViewOf(*job);
  }
  store::ImportJobRecord r{v.id, job->owner_id, JobBody(v), now_us_(), v.finished_us};
  if (Status st = shared_->PutImportJob(r); !st.ok()) {
    spdlog::warn("import job {}: progress not published: {}", v.id, st.ToString());
  }
}

ImportJobs::~ImportJobs() {
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(threads_);
  }
  for (auto& [job, thread] : threads) {
    if (thread.joinable()) thread.join();
  }
}

void ImportJobs::WaitForTest() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      JoinFinishedLocked();
      if (threads_.empty()) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void ImportJobs::JoinFinishedLocked() {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->first->thread_done) {
      if (it->second.joinable()) it->second.join();  // it is returning: a short wait
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
}

void ImportJobs::PruneLocked(int64_t now) {
  const int64_t keep_us = limits_.keep_finished_s * 1000000;
  std::vector<std::pair<int64_t, std::string>> finished;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const Job& j = *it->second;
    if (j.state != ImportState::kRunning && now - j.finished_us > keep_us) {
      it = jobs_.erase(it);
      continue;
    }
    if (j.state != ImportState::kRunning) finished.emplace_back(j.finished_us, j.id);
    ++it;
  }
  if (finished.size() <= limits_.max_finished) return;
  std::sort(finished.begin(), finished.end());
  const size_t drop = finished.size() - limits_.max_finished;
  for (size_t i = 0; i < drop; ++i) jobs_.erase(finished[i].second);
}

Result<std::string> ImportJobs::StartLocal(ImportUpload upload) {
  std::array<uint8_t, 16> random{};
  SecureRandomBytes(random.data(), random.size());
  auto job = std::make_shared<Job>();
  job->id = HexEncode(random);
  job->owner_id = upload.principal.user_id;
  job->collection = upload.collection.id;
  job->format = upload.format;
  job->name = upload.name;
  job->progress.total_bytes = static_cast<int64_t>(upload.body.size());
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_us_();
  job->started_us = now;
  JoinFinishedLocked();
  PruneLocked(now);
  const size_t running =
      static_cast<size_t>(std::count_if(jobs_.begin(), jobs_.end(), [](const auto& kv) {
        return kv.second->state == ImportState::kRunning;
      }));
  if (running >= limits_.max_running) {
    return LimitExceeded(
        "too_many_imports",
        std::to_string(running) + " imports are running: try again when one is done");
  }
  try {
    std::thread t([this, job, u = std::move(upload)]() mutable { Run(job, std::move(u)); });
    threads_.emplace_back(job, std::move(t));
  } catch (const std::system_error& e) {
    return Unavailable("no_thread", std::string("cannot start the import: ") + e.what());
  }
  jobs_.emplace(job->id, job);
  return job->id;
}

Result<std::string> ImportJobs::Start(ImportUpload upload) {
  CTIHUB_ASSIGN_OR_RETURN(std::string id, StartLocal(std::move(upload)));
  if (shared_ != nullptr) {
    std::shared_ptr<Job> job;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = jobs_.find(id);
      if (it != jobs_.end()) job = it->second;
    }
    if (job) Publish(job);
    auto pruned =
        shared_->DeleteImportJobsFinishedBefore(now_us_() - limits_.keep_finished_s * 1000000);
    if (!pruned.ok()) spdlog::warn("import jobs not pruned: {}", pruned.status().ToString());
  }
  return id;
}

void ImportJobs::Run(const std::shared_ptr<Job>& job, ImportUpload upload) {
  auto report = [this, &job](const ImportProgress& p) {
    bool publish = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const int64_t total = job->progress.total_bytes;
      job->progress = p;
      job->progress.total_bytes = total;
      job->progress.read_bytes = std::min(p.read_bytes, total);
      if (job->progress.errors.size() > kMaxImportErrors)
        job->progress.errors.resize(kMaxImportErrors);
      const int64_t now = now_us_();
      if (shared_ != nullptr && now - job->published_us >= kPublishEveryUs) {
        job->published_us = now;
        publish = true;
      }
    }
    if (publish) Publish(job);
  };
  Status st;
  try {
    st = run_ ? run_(std::move(upload), report) : Unavailable("imports are not served");
  } catch (const std::exception& e) {
    spdlog::error("import job {}: exception: {}", job->id, e.what());
    st = Internal("internal error");
  } catch (...) {
    st = Internal("internal error");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job->state = st.ok() ? ImportState::kDone : ImportState::kFailed;
    job->error = st.ok() ? std::string() : st.NamedMessage();
    job->finished_us = now_us_();
    if (st.ok()) job->progress.read_bytes = job->progress.total_bytes;
  }
  Publish(job);  // before the thread counts as done (WaitForTest)
  std::lock_guard<std::mutex> lock(mu_);
  job->thread_done = true;
}

std::optional<ImportJobView> ImportJobs::Find(std::string_view id, const auth::Principal& p) {
  std::lock_guard<std::mutex> lock(mu_);
  PruneLocked(now_us_());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  const Job& j = *it->second;
  if (j.owner_id != p.user_id && p.role != store::Role::kAdmin) return std::nullopt;
  return ViewOf(j);
}

Result<std::optional<std::string>> ImportJobs::FindBody(std::string_view id,
                                                        const auth::Principal& p) {
  if (auto v = Find(id, p)) return std::optional<std::string>(JobBody(*v));
  if (shared_ == nullptr) return std::optional<std::string>();
  auto r = shared_->GetImportJob(id);
  if (!r.ok() && r.status().code() == ErrorCode::kNotFound) return std::optional<std::string>();
  if (!r.ok()) return r.status();
  if (r->owner_user_id != p.user_id && p.role != store::Role::kAdmin)
    return std::optional<std::string>();
  const int64_t keep_us = limits_.keep_finished_s * 1000000;
  if (r->finished_us > 0 && now_us_() - r->finished_us > keep_us)
    return std::optional<std::string>();
  return std::optional<std::string>(std::move(r->body));
}

// ---- the routes ----

namespace {

constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxCsvMaps = 64;

Response Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

bool IsOctetStream(std::string_view content_type) {
  std::string_view media =
      content_type.substr(0, std::min(content_type.find(';'), content_type.size()));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower(media);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "application/octet-stream";
}

bool KnownFormat(std::string_view f) {
  return f == "auto" || f == "stix" || f == "misp" || f == "csv" || f == "text";
}

// The upload's parameters; a 400 when one is missing or malformed.
std::optional<Response> ReadParams(const taxii::Target& target, ImportUpload& u,
                                   std::string& collection) {
  for (const auto& [key, value] : target.params) {
    if (key == "collection") {
      collection = value;
    } else if (key == "format") {
      u.format = value;
    } else if (key == "csv_map") {
      if (u.csv_maps.size() >= kMaxCsvMaps) {
        return ErrorResponse(400, "bad_csv_map", "Bad Request",
                             "at most " + std::to_string(kMaxCsvMaps) + " csv_map parameters");
      }
      if (auto m = formats::ParseCsvMapping(value); !m.ok()) {
        return ErrorResponse(400, "bad_csv_map", "Bad Request",
                             "csv_map " + value + ": " + m.status().NamedMessage());
      }
      u.csv_maps.push_back(value);
    } else if (key == "tlp") {
      if (!policy::ParseTlp(value)) {
        return ErrorResponse(400, "bad_marking", "Bad Request",
                             "tlp: expected clear, green, amber, amber+strict or red");
      }
      u.tlp = value;
    } else if (key == "pap") {
      if (!policy::ParsePap(value)) {
        return ErrorResponse(400, "bad_marking", "Bad Request",
                             "pap: expected clear, green, amber or red");
      }
      u.pap = value;
    } else if (key == "name") {
      if (!value.empty()) u.name = value.substr(0, kMaxNameBytes);
    } else {
      return ErrorResponse(400, "bad_parameter", "Bad Request",
                           "unknown parameter '" + key.substr(0, 64) +
                               "' (collection, format, csv_map, tlp, pap, name)");
    }
  }
  if (collection.empty()) {
    return ErrorResponse(400, "bad_request", "Bad Request", "the collection parameter is required");
  }
  if (u.format.empty()) {
    return ErrorResponse(400, "bad_format", "Bad Request",
                         "the format parameter is required: auto, stix, misp, csv or text");
  }
  if (!KnownFormat(u.format)) {
    return ErrorResponse(
        400, "bad_format", "Bad Request",
        "unknown format '" + u.format.substr(0, 64) + "': auto, stix, misp, csv or text");
  }
  return std::nullopt;
}

}  // namespace

Response StartImport(const ImportContext& ctx, const Request& req, const auth::Principal& p) {
  if (req.method != "POST") {
    return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "POST only");
  }
  if (!IsOctetStream(req.content_type)) {
    return ErrorResponse(415, "unsupported_media_type", "Unsupported Media Type",
                         "the upload must be sent as application/octet-stream");
  }
  auto target = taxii::ParseTarget(req.target);
  if (!target.ok()) return ErrorResponse(target.status(), "bad_request");
  ImportUpload upload;
  std::string collection_id;
  if (auto bad = ReadParams(*target, upload, collection_id)) return std::move(*bad);
  if (req.body.size() > ctx.max_bytes) {
    return ErrorResponse(413, "body_too_large", "Payload Too Large",
                         "the upload exceeds " + std::to_string(ctx.max_bytes) + " bytes");
  }
  if (req.body.empty()) {
    return ErrorResponse(400, "empty_upload", "Bad Request", "the uploaded file is empty");
  }
  // A collection the caller may neither read nor write does not exist for
  // it (as in TAXII); one it may only read is the TAXII POST's 403.
  auto collection = ctx.store.GetCollection("", collection_id);
  if (!collection.ok() && collection.status().code() != ErrorCode::kNotFound) {
    return ErrorResponse(collection.status(), "store_error");
  }
  const bool can_write = collection.ok() && auth::CanWrite(p, *collection);
  if (!collection.ok() || (!can_write && !auth::CanRead(p, *collection))) {
    return ErrorResponse(404, "unknown_collection", "Not Found", "no such collection");
  }
  if (!can_write) {
    return ErrorResponse(403, "forbidden", "Forbidden",
                         "you may not write to collection " + collection->id);
  }
  upload.principal = p;
  upload.collection = std::move(collection).value();
  upload.body = req.body;
  const std::string collection_out = upload.collection.id;
  const std::string format = upload.format;
  const auto total = static_cast<int64_t>(upload.body.size());
  auto id = ctx.jobs.Start(std::move(upload));
  if (!id.ok() && id.status().code() == ErrorCode::kLimitExceeded) {
    Response r = ErrorResponse(429, "too_many_imports", "Too Many Requests", id.status().message());
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  if (!id.ok()) return ErrorResponse(id.status(), "import_unavailable");
  std::string body;
  json::JsonWriter w(body);
  w.BeginObject();
  w.Key("job").String(*id);
  w.Key("state").String("running");
  w.Key("collection").String(collection_out);
  w.Key("format").String(format);
  w.Key("total_bytes").Int(total);
  w.EndObject();
  Response r = Json(202, std::move(body));
  r.headers.emplace_back("Location", "/api/v1/import/" + *id);
  return r;
}

Response ImportStatus(const ImportContext& ctx, const Request& req, std::string_view job,
                      const auth::Principal& p) {
  if (req.method != "GET" && req.method != "HEAD") {
    return ErrorResponse(405, "method_not_allowed", "Method Not Allowed", "GET only");
  }
  auto body = ctx.jobs.FindBody(job, p);
  if (!body.ok()) return ErrorResponse(body.status(), "import_unavailable");
  if (!*body) return ErrorResponse(404, "not_found", "Not Found", "no such import job");
  return Json(200, std::move(**body));
}

}  // namespace ctihub::webapi
