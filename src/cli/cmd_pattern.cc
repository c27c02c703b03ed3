// ctihub pattern validate|match: STIX Patterning from the command line.
// Exit codes: 0 valid / match, 1 invalid / no match, 2 error. Batch forms read
// JSON Lines and answer every line with one JSON line; they exit 0 once the
// input file has been read.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "core/json.h"
#include "pattern/batch.h"
#include "pattern/evaluator.h"
#include "pattern/parser.h"
#include "pattern/pattern.h"

namespace ctihub::cli {
namespace {

using pattern::StixVersion;

bool ParseVersion(std::string_view s, StixVersion* v) {
  if (s == "2.1") {
    *v = StixVersion::k21;
    return true;
  }
  if (s == "2.0") {
    *v = StixVersion::k20;
    return true;
  }
  return false;
}

bool ReadAll(const std::string& path, std::string* out) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    *out = ss.str();
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

void WriteLine(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
}

// Streams the JSON Lines of `path` ('-' for stdin) through the batch protocol.
int RunBatchFile(const std::string& path, const char* command, pattern::BatchMode mode) {
  std::FILE* in = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!in) {
    std::fprintf(stderr, "ctihub pattern %s: cannot read %s\n", command, path.c_str());
    return kExitError;
  }
  Status st = pattern::RunBatch(in, stdout, mode);
  if (in != stdin) std::fclose(in);
  if (!st.ok()) {
    std::fprintf(stderr, "ctihub pattern %s: %s: %s\n", command, path.c_str(),
                 st.NamedMessage().c_str());
    return kExitError;
  }
  return kExitOk;
}

int ValidateBatch(const std::string& path) {
  return RunBatchFile(path, "validate", pattern::BatchMode::kValidate);
}

int MatchBatch(const std::string& path) {
  return RunBatchFile(path, "match", pattern::BatchMode::kMatch);
}

}  // namespace

void RegisterPatternCommands(CLI::App& app, int* exit_code) {
  auto* pat = app.add_subcommand(
      "pattern", "STIX Patterning: validate patterns, match them against observed data");
  pat->require_subcommand(1);

  struct Opts {
    std::string version = "2.1";
    bool strict = false;
    std::string batch;
    std::string pattern;
    std::string file;
  };
  auto vopt = std::make_shared<Opts>();
  auto* validate = pat->add_subcommand(
      "validate", "Validate a pattern: exit 0 valid, 1 invalid (reason on stderr)");
  validate
      ->add_option("--stix-version", vopt->version,
                   "STIX version of the pattern grammar: 2.0 or 2.1")
      ->check(CLI::IsMember({"2.0", "2.1"}));
  validate->add_flag("--strict", vopt->strict,
                     "Report object types the specification does not define as warnings");
  validate->add_option(
      "--batch", vopt->batch,
      "JSON Lines file of {\"id\",\"pattern\",\"stix_version\"}; prints one JSON result per line");
  validate->add_option("pattern", vopt->pattern, "The pattern");
  validate->callback([vopt, exit_code] {
    if (!vopt->batch.empty()) {
      *exit_code = ValidateBatch(vopt->batch);
      return;
    }
    pattern::PatternOptions opt;
    ParseVersion(vopt->version, &opt.version);
    opt.strict = vopt->strict;
    auto parsed = pattern::ParsePattern(vopt->pattern, opt);
    if (!parsed.ok()) {
      std::fprintf(stderr, "invalid: %s\n", parsed.status().NamedMessage().c_str());
      *exit_code = kExitNegative;
      return;
    }
    for (const auto& w : parsed->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::printf("valid\n");
    *exit_code = kExitOk;
  });

  auto mopt = std::make_shared<Opts>();
  auto* match = pat->add_subcommand(
      "match", "Match a pattern against observed data: exit 0 match, 1 no match, 2 error");
  match
      ->add_option("--stix-version", mopt->version,
                   "STIX version of the pattern and data: 2.0 or 2.1")
      ->check(CLI::IsMember({"2.0", "2.1"}));
  match->add_option("--batch", mopt->batch,
                    "JSON Lines file of {\"id\",\"pattern\",\"stix_version\",\"observed\"}; one "
                    "JSON result per line");
  match->add_option("pattern", mopt->pattern, "The pattern");
  match->add_option("file", mopt->file, "JSON array of STIX objects or a bundle ('-' for stdin)");
  match->callback([mopt, exit_code] {
    if (!mopt->batch.empty()) {
      *exit_code = MatchBatch(mopt->batch);
      return;
    }
    if (mopt->file.empty()) {
      std::fprintf(stderr, "ctihub pattern match: PATTERN and FILE are required\n");
      *exit_code = kExitError;
      return;
    }
    pattern::PatternOptions opt;
    ParseVersion(mopt->version, &opt.version);
    auto cp = pattern::CompiledPattern::Compile(mopt->pattern, opt);
    if (!cp.ok()) {
      std::fprintf(stderr, "invalid pattern: %s\n", cp.status().NamedMessage().c_str());
      *exit_code = kExitError;
      return;
    }
    std::string data;
    if (!ReadAll(mopt->file, &data)) {
      std::fprintf(stderr, "cannot read %s\n", mopt->file.c_str());
      *exit_code = kExitError;
      return;
    }
    pattern::ObservationSet set;
    Status ls = set.LoadText(data, opt.version);
    if (!ls.ok()) {
      std::fprintf(stderr, "invalid observed data: %s\n", ls.NamedMessage().c_str());
      *exit_code = kExitError;
      return;
    }
    auto m = (*cp)->Match(set.observations());
    if (!m.ok()) {
      std::fprintf(stderr, "error: %s\n", m.status().NamedMessage().c_str());
      *exit_code = kExitError;
      return;
    }
    if (!m->matched) {
      std::fprintf(stderr, "no match\n");
      *exit_code = kExitNegative;
      return;
    }
    std::string out;
    json::JsonWriter w(out);
    w.BeginArray();
    for (size_t i : m->observation_indices) w.Value(set.observations()[i].sdo);
    w.EndArray();
    WriteLine(out);
    *exit_code = kExitOk;
  });
}

}  // namespace ctihub::cli
