// Imports uploaded through the console (POST /api/v1/import, GET
// /api/v1/import/{job}; docs/API.md): the upload becomes a job that runs on
// its own thread through the same code as `ctihub import` (`ctihub serve`
// passes it as ConsoleOptions::import_run: webapi does not link cli), and
// reports its progress into a bounded table that the status endpoint reads.
//
// Bounds: at most `max_running` jobs run at once (another upload: 429
// too_many_imports); finished jobs are kept `keep_finished_s` seconds, at most
// `max_finished` of them (the oldest go first); a job lists its first
// kMaxImportErrors rejections (all are counted).
//
// Thread-safety: ImportJobs may be called from many threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "core/result.h"
#include "store/store.h"

namespace ctihub::taxii {
struct Request;
struct Response;
}  // namespace ctihub::taxii

namespace ctihub::webapi {

inline constexpr size_t kMaxImportErrors = 200;  // rejections listed per job

// One rejected object or line, as `ctihub import --json` lists it.
struct ImportRejection {
  std::string file;
  int64_t line = -1;     // text and CSV; -1 when unknown
  std::string object;    // the object's id or the extracted value, when known
  std::string position;  // STIX: "object N at byte B"
  std::string reason;
};

// How far a job got: a snapshot the import reports as it goes.
struct ImportProgress {
  int64_t total_bytes = 0;
  int64_t read_bytes = 0;
  int64_t objects_read = 0;
  int64_t objects_stored = 0;
  int64_t already_present = 0;
  int64_t rejected = 0;                 // every rejection
  std::vector<ImportRejection> errors;  // the first kMaxImportErrors of them
};

// What one upload asks for, checked by the console before the job starts:
// the caller may write `collection`, the format and markings are known, the
// CSV column maps parse.
struct ImportUpload {
  auth::Principal principal;  // the importer: its organisation is the producer
  store::Collection collection;
  std::string format;                 // auto | stix | misp | csv | text
  std::vector<std::string> csv_maps;  // COL=TYPE:PATH, as `ctihub import --csv-map`
  std::string tlp;                    // default markings (as --tlp, --pap); "" none
  std::string pap;
  std::string name = "upload";  // the file name rejections name
  std::string body;             // the uploaded bytes
};

// Called with a fresh snapshot as the import goes (at most a few times a second).
using ImportReportFn = std::function<void(const ImportProgress&)>;
// Runs one import to its end on the calling thread. Ok: the job is done
// (rejections included); an error: it failed, with this reason (nothing
// could be read, the store or the audit trail refused).
using ImportRunFn = std::function<Status(ImportUpload, const ImportReportFn&)>;

struct ImportJobLimits {
  size_t max_running = 2;
  size_t max_finished = 100;
  int64_t keep_finished_s = 3600;
};

enum class ImportState { kRunning, kDone, kFailed };
std::string_view ImportStateName(ImportState s);

// A job as its owner sees it.
struct ImportJobView {
  std::string id;
  ImportState state = ImportState::kRunning;
  std::string collection;
  std::string format;
  std::string name;
  std::string error;  // kFailed: why
  int64_t started_us = 0;
  int64_t finished_us = 0;  // 0 while running
  ImportProgress progress;
};

class ImportJobs {
 public:
  // `run` does the work of each job; `now_us` is the clock (tests inject one).
  // With a `shared` store that keeps import jobs (PostgreSQL, several nodes),
  // each job's status is published there as it goes (at most every 250 ms,
  // and when it ends), so FindBody answers for jobs of every node.
  ImportJobs(ImportRunFn run, ImportJobLimits limits, std::function<int64_t()> now_us,
             store::Store* shared = nullptr);
  // Waits for the running jobs.
  ~ImportJobs();
  ImportJobs(const ImportJobs&) = delete;
  ImportJobs& operator=(const ImportJobs&) = delete;

  // Starts a job for `upload`; its id (random, 32 hex digits). LimitExceeded
  // "too_many_imports" while max_running jobs run; Unavailable when no thread
  // can be started.
  Result<std::string> Start(ImportUpload upload);

  // The job `id` when `p` started it or is an admin, else nullopt (as absent).
  std::optional<ImportJobView> Find(std::string_view id, const auth::Principal& p);
  // The status body of job `id` (GET /api/v1/import/{job}), of this node or,
  // with a shared store, of another node, on the same terms as Find; an error
  // when the shared store cannot be read (never a job of another owner).
  Result<std::optional<std::string>> FindBody(std::string_view id, const auth::Principal& p);

  // Waits until no job runs (tests).
  void WaitForTest();

 private:
  struct Job;
  static constexpr int64_t kPublishEveryUs = 250000;
  Result<std::string> StartLocal(ImportUpload upload);
  static ImportJobView ViewOf(const Job& j);
  void Publish(const std::shared_ptr<Job>& job);
  void Run(const std::shared_ptr<Job>& job, ImportUpload upload);
  void PruneLocked(int64_t now);  // REQUIRES: mu_ held
  void JoinFinishedLocked();      // REQUIRES: mu_ held

  ImportRunFn run_;
  ImportJobLimits limits_;
  store::Store* shared_ = nullptr;  // keeps import jobs, or null
  std::function<int64_t()> now_us_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Job>, std::less<>> jobs_;
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> threads_;
};

// The console's import routes, for one authenticated caller.
struct ImportContext {
  store::Store& store;
  ImportJobs& jobs;
  uint64_t max_bytes;  // the largest upload (413 body_too_large over it)
};
// POST /api/v1/import?collection=ID&format=F[&csv_map=...][&tlp=..][&pap=..][&name=..]
taxii::Response StartImport(const ImportContext& ctx, const taxii::Request& req,
                            const auth::Principal& p);
// GET /api/v1/import/{job}
taxii::Response ImportStatus(const ImportContext& ctx, const taxii::Request& req,
                             std::string_view job, const auth::Principal& p);

}  // namespace ctihub::webapi
