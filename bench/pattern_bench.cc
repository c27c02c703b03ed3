// Pattern engine benchmarks (see bench/pattern.cmake).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/json.h"
#include "pattern/batch.h"
#include "pattern/evaluator.h"
#include "pattern/parser.h"

namespace {

using namespace ctihub;
using namespace ctihub::pattern;

void CollectPatterns(json::Element e, std::vector<std::string>* out) {
  if (e.type() == json::Type::ARRAY) {
    json::Array arr = e.get_array().value_unsafe();
    for (json::Element x : arr) CollectPatterns(x, out);
  } else if (e.type() == json::Type::OBJECT) {
    json::Object o = e.get_object().value_unsafe();
    std::string_view type, pat, ptype = "stix";
    if (o.at_key("type").get(type) == simdjson::SUCCESS && type == "indicator" &&
        o.at_key("pattern").get(pat) == simdjson::SUCCESS) {
      if (o.at_key("pattern_type").get(ptype) != simdjson::SUCCESS) ptype = "stix";
      if (ptype == "stix") out->emplace_back(pat);
    }
    for (auto f : o) CollectPatterns(f.value, out);
  }
}

std::vector<std::string> GeneratedCorpus() {
  std::mt19937 rng(7);
  auto hex = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "0123456789abcdef"[rng() % 16];
    return s;
  };
  std::vector<std::string> v;
  for (int i = 0; i < 1000; ++i) {
    switch (i % 8) {
      case 0:
        v.push_back("[file:hashes.'SHA-256' = '" + hex(64) + "']");
        break;
      case 1:
        v.push_back("[file:hashes.MD5 = '" + hex(32) + "' OR file:hashes.'SHA-1' = '" + hex(40) +
                    "']");
        break;
      case 2:
        v.push_back("[ipv4-addr:value = '198.51." + std::to_string(rng() % 256) + "." +
                    std::to_string(rng() % 256) + "']");
        break;
      case 3:
        v.push_back("[domain-name:value = 'c2-" + hex(6) + ".example.com']");
        break;
      case 4:
        v.push_back("[url:value = 'http://" + hex(8) + ".example.net/gate.php?id=" + hex(4) + "']");
        break;
      case 5:
        v.push_back(
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value "
            "ISSUBSET '203.0.113.0/24' AND network-traffic:dst_port = 443]");
        break;
      case 6:
        v.push_back("[email-message:from_ref.value MATCHES '.+@" + hex(5) +
                    "\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name LIKE "
                    "'%.exe'] FOLLOWEDBY [process:name = 'evil.exe'] WITHIN 600 SECONDS");
        break;
      default:
        v.push_back(
            "([file:name = 'a" + hex(4) +
            ".dll'] AND [windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Run']) "
            "REPEATS 2 TIMES START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'");
        break;
    }
  }
  return v;
}

const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> corpus = [] {
    std::vector<std::string> v;
    if (const char* path = std::getenv("CTIHUB_PATTERN_CORPUS")) {
      json::JsonParser parser(json::ParseLimits{.max_bytes = 1u << 30, .max_depth = 256});
      std::vector<std::filesystem::path> files;
      if (std::filesystem::is_directory(path)) {
        for (const auto& e : std::filesystem::recursive_directory_iterator(path))
          if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
      } else {
        files.emplace_back(path);
      }
      for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto r = parser.Parse(text);
        if (r.ok()) CollectPatterns(*r, &v);
      }
    }
    if (v.empty()) v = GeneratedCorpus();
    return v;
  }();
  return corpus;
}

void BM_ParsePatterns(benchmark::State& state) {
  const auto& corpus = Corpus();
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& p = corpus[i++ % corpus.size()];
    auto r = ParsePattern(p);
    benchmark::DoNotOptimize(r);
    bytes += p.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["corpus"] = static_cast<double>(corpus.size());
}
BENCHMARK(BM_ParsePatterns);

const char* kOneObservation = R"([
 {"type":"observed-data","id":"observed-data--1","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z",
  "number_observed":1,"object_refs":["ipv4-addr--1","domain-name--1","network-traffic--1"]},
 {"type":"domain-name","id":"domain-name--1","value":"www.example.com","resolves_to_refs":["ipv4-addr--1"]},
 {"type":"network-traffic","id":"network-traffic--1","dst_ref":"ipv4-addr--1","dst_port":443,"protocols":["tcp"]},
 {"type":"ipv4-addr","id":"ipv4-addr--1","value":"198.51.100.7"}])";

void BM_EvalSingleComparison(benchmark::State& state) {
  auto cp = CompiledPattern::Compile("[ipv4-addr:value = '198.51.100.7']");
  ObservationSet set;
  if (!cp.ok() || !set.LoadText(kOneObservation, StixVersion::k21).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  const Observation& o = set.observations()[0];
  for (auto _ : state) benchmark::DoNotOptimize((*cp)->MatchLeaf(0, o));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EvalSingleComparison);

void BM_MatchSingleComparisonFull(benchmark::State& state) {
  auto cp = CompiledPattern::Compile("[ipv4-addr:value = '198.51.100.7']");
  ObservationSet set;
  if (!cp.ok() || !set.LoadText(kOneObservation, StixVersion::k21).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize((*cp)->Match(set.observations()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_MatchSingleComparisonFull);

std::string Window(int n, bool with_match) {
  std::string j = "[";
  for (int i = 0; i < n; ++i) {
    if (i) j += ",";
    char ts[64];
    std::snprintf(ts, sizeof ts, "2022-01-01T%02d:%02d:%02dZ", i / 3600, i / 60 % 60, i % 60);
    std::string value = "10.0." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
    std::string type = "ipv4-addr";
    if (i % 50 == 7) value = "198.51.100.7";
    if (i % 97 == 3) {
      type = "domain-name";
      value = with_match ? "evil.example" : "benign.example";
    }
    j += std::string(R"({"type":"observed-data","id":"observed-data--)") + std::to_string(i) +
         R"(","first_observed":")" + ts + R"(","last_observed":")" + ts +
         R"(","number_observed":1,"object_refs":["x--)" + std::to_string(i) + R"("]},{"type":")" +
         type + R"(","id":"x--)" + std::to_string(i) + R"(","value":")" + value + R"("})";
  }
  return j + "]";
}

void BM_FollowedByWithin1000(benchmark::State& state) {
  bool with_match = state.range(0) != 0;
  auto cp = CompiledPattern::Compile(
      "([ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'evil.example']) WITHIN "
      "60 SECONDS");
  ObservationSet set;
  std::string data = Window(1000, with_match);
  if (!cp.ok() || !set.LoadText(data, StixVersion::k21).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) {
    auto r = (*cp)->Match(set.observations());
    if (!r.ok() || r->matched != with_match) state.SkipWithError("wrong result");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_FollowedByWithin1000)->Arg(1)->Arg(0);

void BM_RepeatsWithin(benchmark::State& state) {
  auto cp =
      CompiledPattern::Compile("[ipv4-addr:value LIKE '10.0.%'] REPEATS 10 TIMES WITHIN 8 SECONDS");
  ObservationSet set;
  std::string data = Window(static_cast<int>(state.range(0)), false);
  if (!cp.ok() || !set.LoadText(data, StixVersion::k21).ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) {
    auto r = (*cp)->Match(set.observations());
    if (!r.ok() || r->matched) state.SkipWithError("wrong result");
  }
}
BENCHMARK(BM_RepeatsWithin)->Arg(20)->Arg(1000);

// One `pattern match --batch` line, in process (no file I/O): the workload of
// bench/pattern_batch/run.sh. 16 distinct patterns, half the lines match.
void BM_BatchMatchLine(benchmark::State& state) {
  std::vector<std::string> lines;
  for (int i = 0; i < 256; ++i) {
    int p = i % 16;
    std::string n = std::to_string(i);
    std::string value = "198.51.100." + std::to_string(i % 2 == 0 ? p : 200);
    lines.push_back(
        "{\"id\":\"l" + n + "\",\"pattern\":\"[ipv4-addr:value = '198.51.100." + std::to_string(p) +
        "']\",\"stix_version\":\"2.1\",\"observed\":[{\"type\":\"observed-data\",\"spec_version\":"
        "\"2.1\",\"id\":\"observed-data--" +
        n +
        "\",\"created\":\"2020-01-01T00:00:00Z\",\"modified\":"
        "\"2020-01-01T00:00:00Z\",\"first_observed\":\"2020-01-01T00:00:00Z\",\"last_observed\":"
        "\"2020-01-01T00:00:00Z\",\"number_observed\":1,\"object_refs\":[\"ipv4-addr--" +
        n + "\"]},{\"type\":\"ipv4-addr\",\"spec_version\":\"2.1\",\"id\":\"ipv4-addr--" + n +
        "\",\"value\":\"" + value + "\"}]}");
  }
  BatchRunner runner(BatchMode::kMatch);
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    runner.AnswerLine(lines[i++ % lines.size()], &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_BatchMatchLine);

// Loading one observed-data whose object_refs name N objects (linear in N;
// the duplicate-reference check was quadratic: 0.92 s CPU for N = 30,000).
void BM_LoadObservationWithManyRefs(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::string refs, objects;
  for (int i = 0; i < n; ++i) {
    if (i) refs += ',';
    refs += "\"x--" + std::to_string(i) + "\"";
    objects +=
        ",{\"type\":\"x\",\"id\":\"x--" + std::to_string(i) + "\",\"v\":" + std::to_string(i) + "}";
  }
  std::string text =
      R"([{"type":"observed-data","id":"observed-data--1","first_observed":"2020-01-01T00:00:00Z",)"
      R"("last_observed":"2020-01-01T00:00:00Z","number_observed":1,"object_refs":[)" +
      refs + "]}" + objects + "]";
  json::JsonParser parser;
  auto root = parser.Parse(text);
  ObservationSet set;
  for (auto _ : state) {
    if (!root.ok() || !set.LoadElement(*root, StixVersion::k21).ok() ||
        set.observations()[0].objects.size() != static_cast<size_t>(n))
      state.SkipWithError("load failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * n);
}
BENCHMARK(BM_LoadObservationWithManyRefs)->Arg(1000)->Arg(30000);

}  // namespace
