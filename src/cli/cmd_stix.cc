// ctihub validate / ctihub stix id: STIX input checks from the command line.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/json.h"
#include "pattern/pattern.h"
#include "stix/bundle_check.h"
#include "stix/bundle_reader.h"
#include "stix/parse.h"
#include "stix/sco_id.h"
#include "stix/validate.h"

namespace ctihub::cli {
namespace {

// Buffered stdout: one write per ~64 KiB instead of one per line.
class Out {
 public:
  ~Out() { Flush(); }
  std::string& buf() { return buf_; }
  void MaybeFlush() {
    if (buf_.size() > (64u << 10)) Flush();
  }
  void Flush() {
    if (!buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), stdout);
    buf_.clear();
    std::fflush(stdout);
  }

 private:
  std::string buf_;
};

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f && f != stdin) std::fclose(f);
  }
};

void AppendIssues(json::JsonWriter& w, const std::vector<stix::Issue>& issues) {
  w.BeginArray();
  for (const auto& i : issues) {
    w.BeginObject().Key("path").String(i.path).Key("message").String(i.message).EndObject();
  }
  w.EndArray();
}

struct ValidateArgs {
  std::vector<std::string> files;
  bool json = false;
  bool strict = false;
};

// The stix module leaves indicator patterns to the pattern engine (it sits
// above stix); the command line joins the two.
void CheckIndicatorPattern(json::Element obj, stix::Report* report) {
  if (report->type != "indicator" || report->is_stix20) return;
  std::string_view pattern_type, pattern;
  if (obj["pattern_type"].get_string().get(pattern_type) != simdjson::SUCCESS ||
      pattern_type != "stix")
    return;
  if (obj["pattern"].get_string().get(pattern) != simdjson::SUCCESS) return;
  Status st = pattern::ValidatePattern(pattern);
  if (!st.ok())
    report->errors.push_back({"$.pattern", "invalid STIX pattern: " + st.NamedMessage()});
}

// Rewrites an "at byte N: reason" error (the form of the reader's and the
// parser's errors) as "FILE:LINE:COLUMN: reason".
std::string Located(const std::string& file, stix::BundleReader& reader,
                    const std::string& message) {
  constexpr std::string_view kPrefix = "at byte ";
  std::string_view m = message;
  if (m.substr(0, kPrefix.size()) == kPrefix) {
    int64_t offset = 0;
    const char* begin = m.data() + kPrefix.size();
    auto [end, ec] = std::from_chars(begin, m.data() + m.size(), offset);
    std::string_view rest = m.substr(static_cast<size_t>(end - m.data()));
    if (ec == std::errc() && rest.substr(0, 2) == ": ") {
      auto pos = reader.PositionOf(offset);
      return file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) +
             std::string(rest);
    }
  }
  return file + ": " + message;
}

// One report: a JSON line, or (when there is something to say) a
// "FILE:LINE:COLUMN: ID: INVALID" header and one line per issue.
void PrintReport(Out& out, bool as_json, const std::string& file, stix::BundleReader::Position pos,
                 const stix::Report& report, bool valid) {
  if (as_json) {
    json::JsonWriter w(out.buf());
    w.BeginObject();
    w.Key("file").String(file);
    w.Key("line").Int(pos.line);
    w.Key("column").Int(pos.column);
    w.Key("id").StringOrNull(report.id, report.has_id);
    w.Key("type").StringOrNull(report.type, report.has_type);
    w.Key("valid").Bool(valid);
    w.Key("errors");
    AppendIssues(w, report.errors);
    w.Key("warnings");
    AppendIssues(w, report.warnings);
    w.EndObject();
    out.buf() += '\n';
    return;
  }
  if (report.errors.empty() && report.warnings.empty()) return;
  std::string& b = out.buf();
  b += file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " +
       (report.has_id ? report.id : "(no id)");
  b += valid ? ": valid with warnings\n" : ": INVALID\n";
  for (const auto& i : report.errors) b += "  error    " + i.path + ": " + i.message + "\n";
  for (const auto& i : report.warnings) b += "  warning  " + i.path + ": " + i.message + "\n";
}

int RunValidate(const ValidateArgs& args) {
  Out out;
  int rc = kExitOk;
  json::JsonParser parser;
  stix::ValidateOptions options;
  options.strict = args.strict;
  for (const std::string& name : args.files) {
    std::unique_ptr<std::FILE, FileCloser> file(name == "-" ? stdin
                                                            : std::fopen(name.c_str(), "rb"));
    if (!file) {
      out.Flush();
      std::fprintf(stderr, "%s: cannot open: %s\n", name.c_str(), std::strerror(errno));
      rc = kExitError;
      continue;
    }
    stix::BundleReader reader(file.get());
    stix::BundleCheck bundle_check;
    size_t objects = 0, invalid = 0, warned = 0;
    bool complete = false;
    for (;;) {
      int64_t offset = 0;
      auto next = reader.Next(&offset);
      if (!next.ok()) {
        out.Flush();
        std::fprintf(stderr, "%s\n", Located(name, reader, next.status().NamedMessage()).c_str());
        rc = kExitError;
        break;
      }
      if (next->empty()) {
        complete = true;
        break;
      }
      auto parsed = stix::ParseObject(parser, *next, offset);
      if (!parsed.ok()) {
        // The reader delimited this object independently of its content, so
        // the following objects can still be checked; the exit status says 2.
        out.Flush();
        std::fprintf(stderr, "%s\n", Located(name, reader, parsed.status().NamedMessage()).c_str());
        rc = kExitError;
        continue;
      }
      ++objects;
      bundle_check.AddObject(*parsed);
      options.bundle_spec_version = reader.bundle_spec_version();
      stix::Report report = stix::Validate(*parsed, options);
      CheckIndicatorPattern(*parsed, &report);
      bool valid = report.valid(args.strict);
      if (!valid) {
        ++invalid;
        if (rc == kExitOk) rc = kExitNegative;
      }
      if (!report.warnings.empty()) ++warned;
      bool say = args.json || !report.errors.empty() || !report.warnings.empty();
      if (say) PrintReport(out, args.json, name, reader.PositionOf(offset), report, valid);
      out.MaybeFlush();
    }
    // The bundle's own issues, once all its members have been read.
    std::string bundle_note;
    if (complete) {
      stix::Report bundle = bundle_check.Finish(reader, options);
      if (!bundle.errors.empty() || !bundle.warnings.empty()) {
        bool valid = bundle.valid(args.strict);
        if (!valid && rc == kExitOk) rc = kExitNegative;
        PrintReport(out, args.json, name, reader.top_position(), bundle, valid);
        bundle_note = valid ? "; the bundle has warnings" : "; the bundle is INVALID";
      }
    }
    if (!args.json) {
      out.buf()
          .append(name)
          .append(": ")
          .append(std::to_string(objects))
          .append(" object(s), ")
          .append(std::to_string(invalid))
          .append(" invalid, ")
          .append(std::to_string(warned))
          .append(" with warnings")
          .append(bundle_note)
          .append("\n");
    }
  }
  return rc;
}

int RunStixId() {
  int rc = kExitOk;
  Out out;
  json::JsonParser parser;
  stix::BundleReader reader(stdin);
  for (;;) {
    int64_t offset = 0;
    auto next = reader.Next(&offset);
    if (!next.ok()) {
      out.Flush();
      std::fprintf(stderr, "stdin: %s\n", next.status().NamedMessage().c_str());
      return kExitError;  // the stream itself is broken: nothing after this is reliable
    }
    if (next->empty()) break;
    auto parsed = stix::ParseObject(parser, *next, offset);
    if (!parsed.ok()) {
      out.Flush();
      std::fprintf(stderr, "stdin: %s\n", parsed.status().NamedMessage().c_str());
      rc = kExitError;
      continue;
    }
    json::Element type_el;
    if (!parsed->is_object() || parsed->get_object().value_unsafe()["type"].get(type_el) ||
        !type_el.is_string()) {
      continue;
    }
    std::string_view type = type_el.get_string().value_unsafe();
    if (!stix::IsScoType(type)) continue;
    auto id = stix::DeterministicScoId(*parsed);
    if (!id.ok()) continue;
    json::JsonWriter w(out.buf());
    w.BeginObject().Key("type").String(type).Key("id").String(*id).EndObject();
    out.buf() += '\n';
    out.MaybeFlush();
  }
  return rc;
}

}  // namespace

void RegisterStixCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  CLI::App* validate = app.add_subcommand("validate",
                                          "Validate STIX 2.1 content. Each FILE (or - for stdin) "
                                          "holds one object, a JSON array of objects or a "
                                          "bundle, of any size. Exit status: 0 all valid, 1 some "
                                          "object invalid, 2 a file unreadable or not JSON.");
  validate->add_option("files", args->files, "STIX JSON files; - reads stdin")->required();
  validate->add_flag(
      "--json", args->json,
      "One JSON line per object: {id, type, valid, errors:[{path,message}], warnings:[...]}");
  validate->add_flag("--strict", args->strict, "Treat warnings (broken SHOULDs) as errors");
  validate->callback([args, exit_code] { *exit_code = RunValidate(*args); });

  CLI::App* stix = app.add_subcommand("stix", "STIX utilities");
  stix->require_subcommand(1);
  CLI::App* id = stix->add_subcommand("id",
                                      "Read STIX objects on stdin (one object, an array or a "
                                      "bundle) and print, in input order, one JSON line "
                                      "{\"type\", \"id\"} per SCO with its deterministic STIX 2.1 "
                                      "id (UUIDv5; UUIDv4 when the type has no "
                                      "ID-contributing property present).");
  id->callback([exit_code] { *exit_code = RunStixId(); });
}

}  // namespace ctihub::cli
