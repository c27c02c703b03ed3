// The console's uploads through `ctihub import`'s code (console_import.h).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "cli/console_import.h"
#include "cli/hub_context.h"
#include "cli/import_sink.h"
#include "cli/importer.h"
#include "core/timestamp.h"
#include "formats/generate.h"
#include "formats/text_extract.h"
#include "policy/markings.h"
#include "policy/policy_holder.h"
#include "taxii/access.h"

namespace ctihub::cli {
namespace {

namespace fs = std::filesystem;

constexpr auto kReportEvery = std::chrono::milliseconds(200);

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Writes all of `bytes` to `fd`; false (errno set) when it cannot.
bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The upload as a file the readers can stream (and gunzip), removed when done.
class UploadFile {
 public:
  UploadFile() = default;
  UploadFile(const UploadFile&) = delete;
  UploadFile& operator=(const UploadFile&) = delete;
  ~UploadFile() {
    std::error_code ec;
    if (!path_.empty()) fs::remove(path_, ec);
  }

  // `suffix` (".csv", ".csv.gz" or "") keeps what format detection reads
  // from a file name.
  Status Write(const fs::path& dir, const std::string& bytes, const std::string& suffix) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Unavailable("upload_unwritable", dir.string() + ": " + ec.message());
    std::string name = (dir / "upload-XXXXXX").string() + suffix;
    const int fd = mkstemps(name.data(), static_cast<int>(suffix.size()));  // mode 0600
    if (fd < 0) return Unavailable("upload_unwritable", name + ": " + std::strerror(errno));
    path_ = name;
    const bool written = WriteAll(fd, bytes);
    const int err = errno;
    const bool closed = ::close(fd) == 0;
    if (!written) return Unavailable("upload_unwritable", name + ": " + std::strerror(err));
    if (!closed) return Unavailable("upload_unwritable", name + ": close failed");
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<std::string> Markings(const webapi::ImportUpload& u) {
  std::vector<std::string> refs;  // the console checked both values
  if (auto t = policy::ParseTlp(u.tlp)) refs.emplace_back(policy::Tlp2MarkingId(*t));
  if (auto p = policy::ParsePap(u.pap)) refs.emplace_back(policy::PapMarkingId(*p));
  return refs;
}

// The progress a job reports: the summary's counts and its first rejections,
// the temporary file named as the upload.
webapi::ImportProgress Snapshot(const Summary& s, int64_t bytes, const std::string& tmp_path,
                                const std::string& name) {
  webapi::ImportProgress p;
  p.read_bytes = bytes;
  p.objects_read = s.read;
  p.objects_stored = s.stored;
  p.already_present = s.already_present;
  p.rejected = s.rejected;
  const size_t listed = std::min(s.rejections.size(), webapi::kMaxImportErrors);
  p.errors.reserve(listed);
  for (size_t i = 0; i < listed; ++i) {
    const Rejection& r = s.rejections[i];
    p.errors.push_back({r.origin.file == tmp_path ? name : r.origin.file, r.origin.line,
                        r.origin.object, r.origin.position, r.reason});
  }
  return p;
}

Status RunUpload(store::Store& hub, audit::AuditLog& trail, policy::PolicyHolder& holder,
                 const fs::path& uploads, webapi::ImportUpload u,
                 const webapi::ImportReportFn& report) {
  if (Status psl = formats::PublicSuffixListStatus(); !psl.ok()) return psl;
  ImportReading reading{u.format, u.csv_maps};
  // CSV without column maps: every cell is searched for indicators, as text.
  if (reading.format == "csv" && reading.csv_maps.empty()) reading.format = "text";
  std::string suffix;
  if (!reading.csv_maps.empty()) {
    suffix = EndsWith(u.name, ".csv.gz") ? ".csv.gz" : EndsWith(u.name, ".csv") ? ".csv" : "";
  }
  UploadFile file;
  CTIHUB_RETURN_IF_ERROR(file.Write(uploads, u.body, suffix));
  const auto total = static_cast<int64_t>(u.body.size());
  std::string().swap(u.body);  // the file holds it now

  std::shared_ptr<const policy::Policy> policy = holder.Current();
  ImportSink::Writer writer;
  CTIHUB_ASSIGN_OR_RETURN(std::vector<policy::KnownOrg> known, KnownOrganisations(hub));
  for (const auto& o : known) writer.org_identities.insert(o.identity_id);
  writer.policy = policy.get();
  writer.principal = u.principal;
  writer.identity = taxii::WriterIdentity(policy.get(), u.principal);
  writer.route = "console import";
  writer.actor = u.principal.user;

  Summary summary;
  ImportSink sink(hub, u.collection, std::move(writer), Markings(u), trail, summary,
                  /*quiet=*/true);
  formats::GenerateOptions gen;
  gen.producer = u.principal.org;
  gen.now = Timestamp::FromMicros(Timestamp::Now().micros() / 1000 * 1000);
  auto last = std::chrono::steady_clock::now();
  ImportFiles({file.path()}, reading, sink, summary, gen, [&](int64_t bytes, int64_t /*objects*/) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < kReportEvery) return;
    last = now;
    report(Snapshot(summary, bytes, file.path(), u.name));
  });
  Status flushed = sink.error().ok() ? sink.Flush() : sink.error();
  if (flushed.ok()) flushed = trail.Flush();
  report(Snapshot(summary, total, file.path(), u.name));
  if (!flushed.ok())
    return Unavailable("import_stopped", "import stopped: " + flushed.NamedMessage());
  if (summary.inputs_read == 0) {
    return InvalidArgument("unreadable_upload", summary.rejections.empty()
                                                    ? std::string("the upload cannot be read")
                                                    : summary.rejections.front().reason);
  }
  return Status::Ok();
}

}  // namespace

webapi::ImportRunFn ConsoleImporter(store::Store& hub, audit::AuditLog& trail,
                                    policy::PolicyHolder& policy, const std::string& data_dir) {
  fs::path uploads = fs::path(data_dir) / "uploads";
  std::error_code ec;
  fs::remove_all(uploads, ec);  // a stopped server's leftovers; one server per data directory
  return [&hub, &trail, &policy, uploads](webapi::ImportUpload u,
                                          const webapi::ImportReportFn& report) {
    return RunUpload(hub, trail, policy, uploads, std::move(u), report);
  };
}

}  // namespace ctihub::cli
