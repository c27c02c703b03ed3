// `ctihub import` (alias `load-bundle`): reads STIX 2.1 and 2.0 (upgraded), MISP, free text and CSV
// (files, directories, .gz, stdin) and stores the objects in a collection
// through the same write path as a TAXII POST: ParseEnvelope validation,
// PrepareWrite producer rules, one store transaction per batch, and an
// `object.written` audit record per batch. Objects that belong together (an
// indicator and its SCO) travel in one batch and are rejected together, so a
// failure never leaves half of them stored. Exit 0 all imported, 1 something
// rejected, 2 nothing could be read (or the hub could not be opened).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "cli/import_sink.h"
#include "cli/importer.h"
#include "core/json.h"
#include "core/uuid.h"
#include "formats/csv.h"
#include "formats/generate.h"
#include "formats/input.h"
#include "formats/misp.h"
#include "formats/stix20_upgrade.h"
#include "formats/text_extract.h"
#include "policy/markings.h"
#include "policy/policy_holder.h"
#include "stix/bundle_reader.h"
#include "stix/parse.h"
#include "taxii/access.h"
#include "taxii/query.h"

namespace ctihub::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultRoot = "default";
constexpr const char* kDefaultAlias = "imports";

struct ImportArgs {
  std::string data = kDefaultDataDir;
  std::string db;  // --db postgresql://... (else DATA/ctihub.db)
  std::string collection;
  std::string root;
  std::string org;
  std::string format = "auto";
  std::string tlp;
  std::string pap;
  std::vector<std::string> csv_maps;
  std::vector<std::string> paths;
  bool json = false;
};

// Progress on stderr when it is a terminal: bytes, objects/s, ETA.
class Progress {
 public:
  explicit Progress(int64_t total_bytes)
      : enabled_(isatty(STDERR_FILENO) != 0), total_(total_bytes), start_(Clock::now()) {}
  void Update(int64_t bytes, int64_t objects) {
    if (!enabled_) return;
    auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(objects) / secs : 0;
    std::fprintf(stderr, "\r\033[K%.1f MiB", static_cast<double>(bytes) / (1 << 20));
    if (total_ > 0) std::fprintf(stderr, " / %.1f MiB", static_cast<double>(total_) / (1 << 20));
    std::fprintf(stderr, "  %lld objects  %.0f objects/s", static_cast<long long>(objects), rate);
    if (total_ > 0 && bytes > 0 && secs > 0) {
      double eta = secs * static_cast<double>(total_ - bytes) / static_cast<double>(bytes);
      std::fprintf(stderr, "  ETA %ds", static_cast<int>(std::max(0.0, eta)));
    }
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  int64_t total_;
  Clock::time_point start_;
  Clock::time_point last_{};
};

// ---- reading the inputs ------------------------------------------------------------

enum class Format { kStix, kMisp, kCsv, kText };

std::optional<Format> ParseFormat(std::string_view s) {
  if (s == "stix") return Format::kStix;
  if (s == "misp") return Format::kMisp;
  if (s == "csv") return Format::kCsv;
  if (s == "text") return Format::kText;
  return std::nullopt;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// JSON (STIX unless it looks like a MISP event), else CSV by extension, else text.
Format DetectFormat(formats::Input& in) {
  std::string_view head = in.Peek(size_t{64} * 1024);
  size_t start = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (start != std::string_view::npos && (head[start] == '{' || head[start] == '[')) {
    return head.find("\"Event\"") != std::string_view::npos ||
                   head.find("\"Attribute\"") != std::string_view::npos
               ? Format::kMisp
               : Format::kStix;
  }
  std::string name = in.path();
  if (EndsWith(name, ".gz")) name.resize(name.size() - 3);
  return EndsWith(name, ".csv") ? Format::kCsv : Format::kText;
}

class Importer {
 public:
  Importer(const ImportReading& args, ImportSink& sink, formats::GenerateOptions gen,
           const ImportTick& progress, int64_t* bytes_done)
      : args_(args),
        sink_(sink),
        gen_(std::move(gen)),
        progress_(progress),
        bytes_done_(bytes_done) {}

  // Reads one input; an error when it could not be read at all.
  Status ImportPath(const std::string& path);

 private:
  Status ImportInput(formats::Input& in, Format format);
  Status ImportStix(formats::Input& in);
  Status ImportText(formats::Input& in);
  Status ImportCsv(formats::Input& in);
  Status ImportMisp(formats::Input& in);
  void ImportMispEvent(json::Element event, const Origin& origin);
  bool UpgradedIfStix20(std::string_view text, std::string_view bundle_spec_version,
                        const Origin& origin, std::vector<Pending>* group);
  void Tick(formats::Input& in) {
    if (progress_) progress_(*bytes_done_ + in.consumed(), read_);
  }

  const ImportReading& args_;
  ImportSink& sink_;
  formats::GenerateOptions gen_;
  const ImportTick& progress_;
  int64_t* bytes_done_;
  int64_t read_ = 0;
  json::JsonParser parser_;
};

Status Importer::ImportPath(const std::string& path) {
  auto in = formats::Input::Open(path);
  if (!in.ok()) return in.status();
  Format format = args_.format == "auto" ? DetectFormat(**in) : *ParseFormat(args_.format);
  Status st = ImportInput(**in, format);
  *bytes_done_ += (*in)->consumed();
  return st;
}

Status Importer::ImportInput(formats::Input& in, Format format) {
  switch (format) {
    case Format::kStix:
      return ImportStix(in);
    case Format::kText:
      return ImportText(in);
    case Format::kCsv:
      return ImportCsv(in);
    case Format::kMisp:
      return ImportMisp(in);
  }
  return Internal("unknown format");
}

// MISP: one event, a list of events, or a search response {"response": [...]}.
Status Importer::ImportMisp(formats::Input& in) {
  std::FILE* f = in.file();
  if (f == nullptr) return Internal("cannot stream " + in.path());
  stix::BundleReader reader(f);
  int64_t n = 0;
  for (;;) {
    int64_t offset = 0;
    auto text = reader.Next(&offset);
    if (!text.ok()) {
      sink_.Reject({in.path(), -1, "", ""}, text.status());
      return n == 0 ? text.status() : Status::Ok();
    }
    if (text->empty()) break;
    ++n;
    Origin origin{in.path(), -1, "",
                  "event " + std::to_string(n) + " at byte " + std::to_string(offset)};
    auto el = stix::ParseObject(parser_, *text, offset);
    if (!el.ok()) {
      sink_.Reject(origin, "invalid JSON", "invalid JSON: " + el.status().NamedMessage());
      continue;
    }
    json::Array events;
    if ((*el)["response"].get_array().get(events) == simdjson::SUCCESS) {
      for (json::Element e : events) ImportMispEvent(e, origin);
    } else {
      ImportMispEvent(*el, origin);
    }
    Tick(in);
  }
  return Status::Ok();
}

// One event's objects travel as one group: the report never names an object
// that was not stored with it.
void Importer::ImportMispEvent(json::Element event, const Origin& origin) {
  auto converted = formats::MispEventToStix(event);
  if (!converted.ok()) {
    ++read_;
    sink_.Reject(origin, converted.status(), "MISP: ");
    return;
  }
  for (const auto& issue : converted->issues) {
    Origin o = origin;
    o.object = converted->event + " " + issue.where;
    sink_.Reject(o, issue.name, "MISP: " + issue.reason);
  }
  std::vector<Pending> group;
  for (std::string& json : converted->objects) {
    ++read_;
    group.push_back({std::move(json), {origin.file, -1, converted->event, origin.position}, false});
  }
  sink_.AddGroup(std::move(group));
}

Status Importer::ImportStix(formats::Input& in) {
  std::FILE* f = in.file();
  if (f == nullptr) return Internal("cannot stream " + in.path());
  stix::BundleReader reader(f);
  int64_t n = 0;
  for (;;) {
    int64_t offset = 0;
    auto text = reader.Next(&offset);
    if (!text.ok()) {
      sink_.Reject({in.path(), -1, "", ""}, text.status());
      return n == 0 ? text.status() : Status::Ok();
    }
    if (text->empty()) break;
    ++n;
    ++read_;
    Origin origin{in.path(), -1, "",
                  "object " + std::to_string(n) + " at byte " + std::to_string(offset)};
    std::vector<Pending> group;
    if (!UpgradedIfStix20(*text, reader.bundle_spec_version(), origin, &group)) continue;
    if (group.empty()) group.push_back({std::string(*text), origin, false});
    sink_.AddGroup(std::move(group));
    Tick(in);
  }
  return Status::Ok();
}

// A STIX 2.0 object as its 2.1 objects (into *group); false when it cannot be
// upgraded (rejected). A 2.1 object (or text that does not parse: the sink
// reports it) leaves *group empty.
bool Importer::UpgradedIfStix20(std::string_view text, std::string_view bundle_spec_version,
                                const Origin& origin, std::vector<Pending>* group) {
  auto el = parser_.Parse(text);
  json::Object obj;
  if (!el.ok() || el->get_object().get(obj) != simdjson::SUCCESS) return true;
  if (!formats::IsStix20(obj, bundle_spec_version)) return true;
  auto upgraded = formats::UpgradeStix20(obj);
  if (!upgraded.ok()) {
    Origin o = origin;
    std::string_view id;
    if (obj["id"].get_string().get(id) == simdjson::SUCCESS) o.object = std::string(id);
    sink_.Reject(o, upgraded.status(), "STIX 2.0 upgrade: ");
    return false;
  }
  for (std::string& json : *upgraded) group->push_back({std::move(json), origin, false});
  return true;
}

// The objects for the indicators of one line (or CSV row), one group each.
void AddGenerated(ImportSink& sink, const Origin& origin,
                  Result<std::vector<std::string>> objects) {
  if (!objects.ok()) {
    sink.Reject(origin, objects.status());
    return;
  }
  std::vector<Pending> group;
  for (std::string& json : *objects) group.push_back({std::move(json), origin, true});
  if (!group.empty()) sink.AddGroup(std::move(group));
}

Status Importer::ImportText(formats::Input& in) {
  std::FILE* f = in.file();
  if (f == nullptr) return Internal("cannot stream " + in.path());
  if (in.Peek(8192).find('\0') != std::string_view::npos) {
    return InvalidArgument("binary_input", "binary data, not text");
  }
  char* buf = nullptr;
  size_t cap = 0;
  int64_t line = 0;
  for (ssize_t len; (len = getline(&buf, &cap, f)) >= 0;) {
    ++line;
    if (static_cast<size_t>(len) > formats::kMaxTextLineBytes) {
      sink_.Reject({in.path(), line, "", ""},
                   LimitExceeded("line_too_long",
                                 "over " + std::to_string(formats::kMaxTextLineBytes) + " bytes"));
      continue;
    }
    for (const formats::Ioc& ioc : formats::ExtractIocs(std::string_view(buf, len))) {
      ++read_;
      AddGenerated(sink_, {in.path(), line, std::string(ioc.value), ""},
                   formats::IocObjects(ioc, gen_));
    }
    Tick(in);
  }
  std::free(buf);
  if (std::ferror(f)) return InvalidArgument("read_error", in.error());
  return Status::Ok();
}

Status Importer::ImportCsv(formats::Input& in) {
  if (args_.csv_maps.empty()) return InvalidArgument("CSV input needs --csv-map COL=TYPE:PATH");
  std::vector<formats::CsvMapping> maps;
  for (const auto& spec : args_.csv_maps) {
    CTIHUB_ASSIGN_OR_RETURN(formats::CsvMapping m, formats::ParseCsvMapping(spec));
    maps.push_back(std::move(m));
  }
  std::FILE* f = in.file();
  if (f == nullptr) return Internal("cannot stream " + in.path());
  formats::CsvReader reader(f);
  std::vector<std::string> row;
  int64_t line = 0;
  bool first = true;
  for (;;) {
    auto more = reader.Next(&row, &line);
    if (!more.ok()) {
      sink_.Reject({in.path(), line, "", ""}, more.status());
      break;
    }
    if (!*more) break;
    if (first) {
      first = false;
      CTIHUB_ASSIGN_OR_RETURN(bool header, formats::ResolveCsvColumns(maps, row));
      if (header) continue;
    }
    ++read_;
    AddGenerated(sink_, {in.path(), line, "", ""}, formats::CsvRowObjects(row, maps, gen_));
    Tick(in);
  }
  return Status::Ok();
}

// A MISP feed directory's manifest.json and hashes.csv index its event files:
// they are not events themselves.
bool IsMispFeedIndex(const fs::path& file) {
  std::string name = file.filename().string();
  std::error_code ec;
  return (name == "manifest.json" || name == "hashes.csv") &&
         fs::exists(file.parent_path() / "manifest.json", ec);
}

// Files to read: each path, directories walked recursively in name order.
std::vector<std::string> ExpandPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (p == "-" || !fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file(ec) && !IsMispFeedIndex(it->path())) {
        files.push_back(it->path().string());
      }
    }
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

int64_t TotalBytes(const std::vector<std::string>& files) {
  int64_t total = 0;
  for (const auto& f : files) {
    std::error_code ec;
    auto size = f == "-" ? static_cast<uintmax_t>(-1) : fs::file_size(f, ec);
    if (ec || size == static_cast<uintmax_t>(-1)) return -1;
    total += static_cast<int64_t>(size);
  }
  return total;
}

}  // namespace

bool IsImportFormat(std::string_view format) { return format == "auto" || ParseFormat(format); }

void ImportFiles(const std::vector<std::string>& files, const ImportReading& reading,
                 ImportSink& sink, Summary& summary, const formats::GenerateOptions& gen,
                 const ImportTick& tick) {
  int64_t bytes_done = 0;
  Importer importer(reading, sink, gen, tick, &bytes_done);
  for (const auto& file : files) {
    if (!sink.error().ok()) break;
    Status st = importer.ImportPath(file);
    if (st.ok()) {
      ++summary.inputs_read;
    } else {
      ++summary.inputs_unreadable;
      sink.Reject({file, -1, "", ""}, st);
    }
  }
}

namespace {

// ---- the target collection -------------------------------------------------------

// The `imports` collection of API root `default`, created (admins only) on first use.
Result<store::Collection> DefaultCollection(store::Store& hub, audit::AuditLog& trail) {
  auto existing = hub.GetCollection(kDefaultRoot, kDefaultAlias);
  if (existing.ok() || existing.status().code() != ErrorCode::kNotFound) return existing;
  CTIHUB_ASSIGN_OR_RETURN(auto roots, hub.ListApiRoots());
  bool have_root = std::any_of(roots.begin(), roots.end(),
                               [](const store::ApiRoot& r) { return r.name == kDefaultRoot; });
  store::Collection c;
  c.id = Uuid::V4().ToString();
  c.api_root = kDefaultRoot;
  c.title = "Imports";
  c.description = "Objects loaded with ctihub import (admins only until shared)";
  c.alias = kDefaultAlias;
  // Recorded before the change: an API root cannot be removed again.
  std::string details;
  json::JsonWriter w(details);
  w.BeginObject().Key("op").String("add").Key("collection").String(c.id);
  w.Key("api_root").String(c.api_root).Key("alias").String(c.alias);
  w.Key("api_root_created").Bool(!have_root).Key("readers").BeginArray().EndArray();
  w.Key("writers").BeginArray().EndArray().EndObject();
  audit::Record rec;
  rec.user = audit::LocalActor();
  rec.action = std::string(audit::action::kCollectionChanged);
  rec.route = "cli import";
  rec.details = details;
  CTIHUB_RETURN_IF_ERROR(trail.Append(std::move(rec)));
  CTIHUB_RETURN_IF_ERROR(trail.Flush());
  if (!have_root) {
    store::ApiRoot root;
    root.name = kDefaultRoot;
    root.title = "Default";
    CTIHUB_RETURN_IF_ERROR(hub.PutApiRoot(root));
  }
  CTIHUB_ASSIGN_OR_RETURN(store::Collection made, hub.AddCollection(c));
  std::fprintf(stderr, "ctihub: created collection %s (alias %s) in API root %s: admins only\n",
               made.id.c_str(), kDefaultAlias, kDefaultRoot);
  return made;
}

// ---- output ----------------------------------------------------------------------

void PrintJsonSummary(const Summary& s, const store::Collection& c) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("collection").String(c.id).Key("api_root").String(c.api_root);
  w.Key("read").Int(s.read).Key("stored").Int(s.stored);
  w.Key("already_present").Int(s.already_present).Key("rejected").Int(s.rejected);
  w.Key("readable_by_admins_only").Int(s.unreadable_by_users);
  w.Key("rejected_by_reason").BeginObject();
  for (const auto& [name, count] : s.rejected_by_reason) w.Key(name).Int(count);
  w.EndObject();
  w.Key("rejections").BeginArray();
  for (const Rejection& r : s.rejections) {
    w.BeginObject().Key("file").String(r.origin.file);
    if (r.origin.line >= 0) w.Key("line").Int(r.origin.line);
    if (!r.origin.object.empty()) w.Key("object").String(r.origin.object);
    if (!r.origin.position.empty()) w.Key("position").String(r.origin.position);
    w.Key("reason").String(r.reason).EndObject();
  }
  w.EndArray().EndObject();
  std::printf("%s\n", out.c_str());
}

void PrintSummary(const Summary& s, const store::Collection& c) {
  std::printf(
      "imported into collection %s (API root %s): read %lld, stored %lld, "
      "already present %lld, rejected %lld\n",
      c.id.c_str(), c.api_root.c_str(), static_cast<long long>(s.read),
      static_cast<long long>(s.stored), static_cast<long long>(s.already_present),
      static_cast<long long>(s.rejected));
  for (const auto& [name, count] : s.rejected_by_reason) {
    std::printf("  rejected %lld: %s\n", static_cast<long long>(count), name.c_str());
  }
}

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub: %s\n", msg.c_str());
  return kExitError;
}

Result<std::vector<std::string>> DefaultMarkings(const ImportArgs& a) {
  std::vector<std::string> refs;
  if (!a.tlp.empty()) {
    auto t = policy::ParseTlp(a.tlp);
    if (!t)
      return InvalidArgument("--tlp " + a.tlp +
                             ": expected clear, green, amber, amber+strict or red");
    refs.emplace_back(policy::Tlp2MarkingId(*t));
  }
  if (!a.pap.empty()) {
    auto p = policy::ParsePap(a.pap);
    if (!p) return InvalidArgument("--pap " + a.pap + ": expected clear, green, amber or red");
    refs.emplace_back(policy::PapMarkingId(*p));
  }
  return refs;
}

// Who writes: with --org its policy and identity (producer rules apply); without,
// the objects keep the producers they name.
Result<ImportSink::Writer> MakeWriter(const ImportArgs& a, store::Store& hub,
                                      std::unique_ptr<policy::PolicyHolder>* holder,
                                      std::shared_ptr<const policy::Policy>* policy) {
  ImportSink::Writer w;
  CTIHUB_ASSIGN_OR_RETURN(std::vector<policy::KnownOrg> known, KnownOrganisations(hub));
  for (const auto& o : known) w.org_identities.insert(o.identity_id);
  if (a.org.empty()) return w;
  auto opened =
      policy::PolicyHolder::Open(HubPolicySource(a.data, &hub), std::chrono::milliseconds(0),
                                 [known] { return Result<std::vector<policy::KnownOrg>>(known); });
  if (!opened.ok()) return InvalidArgument("sharing policy: " + opened.status().NamedMessage());
  *holder = std::move(*opened);
  *policy = (*holder)->Current();
  w.policy = policy->get();
  w.principal.org = a.org;
  w.identity = taxii::WriterIdentity(w.policy, w.principal);
  if (w.identity.empty()) {
    return InvalidArgument("organisation '" + a.org + "' is unknown or has no STIX identity");
  }
  return w;
}

int RunImport(const ImportArgs& a) {
  if (a.format != "auto" && !ParseFormat(a.format))
    return Fail("--format " + a.format + ": unknown");
  if (a.collection.empty() && !a.root.empty()) {
    // The default collection lives in API root "default"; --root alone would be ignored.
    return Fail("--root needs --collection (without it objects go to 'imports' in API root '" +
                std::string(kDefaultRoot) + "')");
  }
  if (Status psl = formats::PublicSuffixListStatus(); !psl.ok()) return Fail(psl.NamedMessage());
  auto markings = DefaultMarkings(a);
  if (!markings.ok()) return Fail(markings.status().NamedMessage());
  auto store = OpenHubStore(a.data, HubDb(a.db));
  if (!store.ok()) return Fail(store.status().NamedMessage());
  auto trail = audit::AuditLog::Open(a.data);
  if (!trail.ok()) return Fail("audit trail: " + trail.status().NamedMessage());
  auto collection = a.collection.empty() ? DefaultCollection(**store, **trail)
                                         : (*store)->GetCollection(a.root, a.collection);
  if (!collection.ok()) return Fail("collection: " + collection.status().NamedMessage());
  std::unique_ptr<policy::PolicyHolder> holder;
  std::shared_ptr<const policy::Policy> policy;
  auto writer = MakeWriter(a, **store, &holder, &policy);
  if (!writer.ok()) return Fail(writer.status().NamedMessage());

  Summary summary;
  ImportSink sink(**store, *collection, std::move(*writer), std::move(*markings), **trail, summary,
                  a.json);
  formats::GenerateOptions gen;
  gen.producer = a.org;
  gen.now = Timestamp::FromMicros(Timestamp::Now().micros() / 1000 * 1000);
  std::vector<std::string> files = ExpandPaths(a.paths);
  Progress progress(TotalBytes(files));
  ImportFiles(files, ImportReading{a.format, a.csv_maps}, sink, summary, gen,
              [&progress](int64_t bytes, int64_t objects) { progress.Update(bytes, objects); });
  Status flushed = sink.error().ok() ? sink.Flush() : sink.error();
  progress.Done();
  if (flushed.ok()) flushed = (*trail)->Flush();
  if (!flushed.ok()) return Fail("import stopped: " + flushed.NamedMessage());
  if (a.json) {
    PrintJsonSummary(summary, *collection);
  } else {
    PrintSummary(summary, *collection);
  }
  if (summary.unreadable_by_users > 0) {
    std::fprintf(stderr,
                 "ctihub: warning: %lld stored objects have no producer organisation and are not "
                 "TLP:CLEAR: only admins can read them (import with --org ORG)\n",
                 static_cast<long long>(summary.unreadable_by_users));
  }
  if (summary.inputs_read == 0) return kExitError;
  return summary.rejected == 0 ? kExitOk : kExitNegative;
}

}  // namespace

void RegisterImportCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "import", "validate and store STIX 2.1, free-text or CSV indicators in a collection");
  cmd->alias("load-bundle");
  cmd->add_option("--data", args->data, "hub data directory")->capture_default_str();
  cmd->add_option("--db", args->db,
                  "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db")
      ->envname("CTIHUB_DB");
  cmd->add_option("--collection", args->collection,
                  "collection id or alias (default: alias 'imports' in API root 'default', "
                  "created on first use, admins only)");
  cmd->add_option("--root", args->root, "API root of --collection (default: any)");
  cmd->add_option("--org", args->org,
                  "import as this organisation: its identity becomes created_by_ref where absent, "
                  "and other producers need a relay agreement");
  cmd->add_option("--format", args->format, "auto|stix|misp|csv|text (auto: per file)")
      ->capture_default_str();
  cmd->add_option("--tlp", args->tlp, "TLP 2.0 marking for objects that carry no marking");
  cmd->add_option("--pap", args->pap, "PAP marking for objects that carry no marking");
  cmd->add_option("--csv-map", args->csv_maps,
                  "CSV column (header name or 1-based number) to an SCO property, "
                  "e.g. 1=ipv4-addr:value or sha256=file:hashes.'SHA-256' (repeatable)");
  cmd->add_flag("--json", args->json, "print the summary as one JSON object");
  cmd->add_option("PATH", args->paths,
                  "files, directories (recursive; .gz read transparently), - for stdin")
      ->required();
  cmd->callback([exit_code, args]() { *exit_code = RunImport(*args); });
}

}  // namespace ctihub::cli
