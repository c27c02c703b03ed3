// ctihub export: readable objects out as STIX, MISP, CSV, Suricata, Zeek,
// blocklist or RPZ (formats/export.h), read through taxii/export.h. Without
// --as-user the local administrator exports everything; with it exactly what
// that user may read over TAXII. Every export is audited.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "core/uuid.h"
#include "formats/export.h"
#include "policy/policy_holder.h"
#include "taxii/export.h"

namespace ctihub::cli {
namespace {

namespace fs = std::filesystem;

struct ExportArgs {
  std::string data = kDefaultDataDir;
  std::string db;  // --db postgresql://... (else DATA/ctihub.db)
  std::string format;
  std::string collection;
  std::string root;
  std::vector<std::string> types;
  std::string since;
  std::string as_user;
  bool include_pap_restricted = false;
  std::string list;
  std::string output;
};

// A file (or stdout) written through a large stdio buffer.
class FileOutput : public formats::ExportOutput {
 public:
  static Result<std::unique_ptr<FileOutput>> Open(const std::string& path) {
    std::FILE* f = path.empty() ? stdout : std::fopen(path.c_str(), "wb");
    if (f == nullptr) return InvalidArgument("cannot write " + path + ": " + std::strerror(errno));
    return std::unique_ptr<FileOutput>(new FileOutput(f, path));
  }
  ~FileOutput() override {
    if (file_ != stdout) std::fclose(file_);
  }
  Status Write(std::string_view bytes) override {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return Internal("write failed: " + (path_.empty() ? std::string("stdout") : path_));
    }
    return {};
  }
  Status Close() {
    if (std::fflush(file_) != 0 || std::ferror(file_)) {
      return Internal("write failed: " + (path_.empty() ? std::string("stdout") : path_));
    }
    return {};
  }

 private:
  FileOutput(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  }
  std::FILE* file_;
  std::string path_;
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub: %s\n", msg.c_str());
  return kExitError;
}

// The reader: nobody (the local administrator) or --as-user's principal
// with the hub's sharing policy.
Status OpenReader(const ExportArgs& a, store::Store& hub, auth::Principal* principal,
                  std::unique_ptr<policy::PolicyHolder>* holder, taxii::ExportReader* reader) {
  if (a.as_user.empty()) return {};
  auto user = hub.GetUser(a.as_user);
  if (!user.ok())
    return InvalidArgument("--as-user " + a.as_user + ": " + user.status().NamedMessage());
  if (user->disabled) return InvalidArgument("--as-user " + a.as_user + ": the user is disabled");
  *principal = auth::PrincipalOf(*user);
  CTIHUB_ASSIGN_OR_RETURN(std::vector<policy::KnownOrg> known, KnownOrganisations(hub));
  auto opened =
      policy::PolicyHolder::Open(HubPolicySource(a.data, &hub), std::chrono::milliseconds(0),
                                 [known] { return Result<std::vector<policy::KnownOrg>>(known); });
  if (!opened.ok()) return InvalidArgument("sharing policy: " + opened.status().NamedMessage());
  *holder = std::move(*opened);
  reader->principal = principal;
  reader->policy = (*holder)->Current();
  return {};
}

void PrintSummary(const taxii::ExportSummary& s, const formats::ExportOptions& o,
                  const std::string& output) {
  std::fprintf(stderr, "exported %lld objects as %s to %s", static_cast<long long>(s.exported),
               std::string(formats::ExportFormatName(o.format)).c_str(),
               output.empty() ? "stdout" : output.c_str());
  if (s.by_override > 0) {
    std::fprintf(stderr, " (%lld PAP-restricted by --include-pap-restricted)",
                 static_cast<long long>(s.by_override));
  }
  std::fprintf(stderr, "\n");
  for (const auto& [why, n] : s.left_out) {
    std::fprintf(stderr, "  left out %lld: %s\n", static_cast<long long>(n), why.c_str());
  }
}

int RunExportCommand(const ExportArgs& a) {
  auto format = formats::ParseExportFormat(a.format);
  if (!format) {
    return Fail("--format " + a.format +
                ": expected stix, misp, csv, suricata, zeek, blocklist "
                "or rpz");
  }
  formats::ExportOptions options;
  options.format = *format;
  options.include_pap_restricted = a.include_pap_restricted;
  options.list = a.list;
  if (Status st = formats::CheckExportList(options); !st.ok())
    return Fail("--" + st.NamedMessage());
  taxii::ExportScope scope;
  scope.collection = a.collection;
  scope.api_root = a.root;
  scope.types = a.types;
  if (!a.since.empty()) {
    auto since = Timestamp::Parse(a.since);
    if (!since.ok()) return Fail("--since " + a.since + ": " + since.status().NamedMessage());
    scope.added_after_us = since->micros();
  }
  auto store = OpenHubStore(a.data, HubDb(a.db));
  if (!store.ok()) return Fail(store.status().NamedMessage());
  auto trail = audit::AuditLog::Open(a.data);
  if (!trail.ok()) return Fail("audit trail: " + trail.status().NamedMessage());
  auth::Principal principal;
  std::unique_ptr<policy::PolicyHolder> holder;
  taxii::ExportReader reader;
  if (Status st = OpenReader(a, **store, &principal, &holder, &reader); !st.ok()) {
    return Fail(st.NamedMessage());
  }
  auto out = FileOutput::Open(a.output);
  if (!out.ok()) return Fail(out.status().NamedMessage());
  // Side files (the Suricata hash lists) go beside -o FILE; to stdout there is nowhere.
  formats::OpenSideOutput side;
  if (!a.output.empty()) {
    fs::path dir = fs::path(a.output).parent_path();
    side = [dir](std::string_view name) -> Result<std::unique_ptr<formats::ExportOutput>> {
      CTIHUB_ASSIGN_OR_RETURN(auto f, FileOutput::Open((dir / std::string(name)).string()));
      return std::unique_ptr<formats::ExportOutput>(std::move(f));
    };
  }
  auto exporter = formats::MakeExporter(options, **out, side);
  if (!exporter.ok()) return Fail(exporter.status().NamedMessage());

  taxii::ExportAudit audit;
  audit.sink = trail->get();
  audit.export_id = Uuid::V4().ToString();
  audit.base.user = audit::LocalActor();
  audit.base.org = principal.org;
  audit.base.route = a.as_user.empty() ? "cli export" : "cli export --as-user " + a.as_user;
  auto summary = taxii::RunExport(**store, reader, scope, options, **exporter, audit);
  Status closed = summary.ok() ? (*out)->Close() : summary.status();
  if (closed.ok()) closed = (*trail)->Flush();
  if (!closed.ok()) return Fail("export failed: " + closed.NamedMessage());
  PrintSummary(*summary, options, a.output);
  if (options.format == formats::ExportFormat::kSuricata && a.output.empty() && a.list.empty()) {
    std::fprintf(stderr,
                 "ctihub: note: file hash lists are written beside -o FILE only (or use --list)\n");
  }
  return kExitOk;
}

}  // namespace

void RegisterExportCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export", "export readable objects as stix, misp, csv, suricata, zeek, blocklist or rpz");
  cmd->add_option("--data", args->data, "hub data directory")->capture_default_str();
  cmd->add_option("--db", args->db,
                  "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db")
      ->envname("CTIHUB_DB");
  cmd->add_option("--format", args->format, "stix|misp|csv|suricata|zeek|blocklist|rpz")
      ->required();
  cmd->add_option("--collection", args->collection,
                  "collection id or alias (default: every collection the reader may read)");
  cmd->add_option("--root", args->root, "API root of --collection (default: any)");
  cmd->add_option("--type", args->types, "STIX object type to export (repeatable)");
  cmd->add_option("--since", args->since, "only objects added after this RFC 3339 timestamp");
  cmd->add_option("--as-user", args->as_user,
                  "export exactly what this user may read over TAXII (the policy decision, "
                  "redactions included); without it the local administrator exports everything");
  cmd->add_flag("--include-pap-restricted", args->include_pap_restricted,
                "let PAP:AMBER/RED indicators into suricata, blocklist and rpz (audited)");
  cmd->add_option("--list", args->list,
                  "suricata: filemd5|filesha1|filesha256 (that list alone); blocklist: one kind "
                  "(ipv4-addr, ipv6-addr, ipv4-cidr, ipv6-cidr, domain-name, url, email-addr, "
                  "md5, sha1, sha256, sha512)");
  cmd->add_option("-o,--output", args->output,
                  "output file (default: stdout); Suricata hash lists are written beside it");
  cmd->callback([exit_code, args]() { *exit_code = RunExportCommand(*args); });
}

}  // namespace ctihub::cli
