// Paging 1,000,000 object versions (50 organisations, 200 agreements) with and
// without the policy decision, as a TAXII page loop does it: for each stored
// version (canonical JSON text plus the columns the policy needs) decide, and
// append what may be served to the response body.
//
//   BM_PageNoPolicy      copy every object into the page (the floor)
//   BM_PageParseOnly     the same plus a simdjson parse of each object
//                        (what any read path that inspects objects pays)
//   BM_PagePolicy        DecideText: facts from columns, parse only when needed
//   BM_PagePolicyParse   DecideJson: parse every object, then decide
//
// The budget (issue 5): policy may cost at most 15% of paging throughput; the
// relevant comparison is BM_PagePolicy against the real store page loop
// (SQLite step + copy), of which BM_PageNoPolicy is a lower bound.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/json.h"
#include "policy/policy.h"

using namespace ctihub;          // NOLINT
using namespace ctihub::policy;  // NOLINT

namespace {

constexpr int kOrgs = 50;
constexpr int kAgreements = 200;
constexpr int kDistinct = 20000;  // distinct object texts, cycled to reach 1,000,000
constexpr int kObjects = 1000000;
constexpr int kPage = 1000;

std::string Identity(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "identity--00000000-0000-4000-8000-%012d", i);
  return buf;
}

struct Fixture {
  std::unique_ptr<Policy> policy;
  std::vector<std::string> texts;
  std::vector<ObjectFacts> facts;
  std::vector<std::string> readers;

  Fixture() {
    std::mt19937 rng(42);
    std::string toml = "[[community]]\nname = \"c0\"\n[[community]]\nname = \"c1\"\n";
    for (int i = 0; i < kOrgs; ++i) {
      toml += "[[organisation]]\nname = \"org" + std::to_string(i) + "\"\nidentity = \"" +
              Identity(i) + "\"\ncommunities = [\"c" + std::to_string(i % 2) + "\"]\n";
    }
    const char* tlps[] = {"green", "amber", "amber+strict"};
    for (int a = 0; a < kAgreements; ++a) {
      int p = static_cast<int>(rng() % kOrgs), r = static_cast<int>(rng() % kOrgs);
      if (p == r) r = (r + 1) % kOrgs;
      toml +=
          "[[agreement]]\nid = \"a" + std::to_string(a) + "\"\nproducer = \"org:org" +
          std::to_string(p) + "\"\nrecipient = \"org:org" + std::to_string(r) + "\"\nmax_tlp = \"" +
          tlps[a % 3] +
          "\"\nobject_types = " + (a % 4 == 0 ? "[\"indicator\", \"malware\"]" : "[\"*\"]") +
          "\npap_ceiling = \"amber\"\n" +
          (a % 5 == 0
               ? "strip_properties = [\"x_personal_data\"]\nwithhold_sco_types = [\"email-addr\"]\n"
               : "") +
          "reshare = " + (a % 3 == 1 ? "true" : "false") + "\nlegal_basis = \"bench\"\n";
    }
    auto m = ParsePolicyToml(toml, "bench.toml");
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      std::abort();
    }
    policy = std::make_unique<Policy>(std::move(*m));
    const char* marks[] = {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                           "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                           "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
                           "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                           "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};
    json::JsonParser parser;
    for (int i = 0; i < kDistinct; ++i) {
      int producer = static_cast<int>(rng() % kOrgs);
      std::string o =
          R"({"type":"indicator","spec_version":"2.1","id":"indicator--)" +
          std::to_string(100000 + i) +
          R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",)"
          R"("created_by_ref":")" +
          Identity(producer) + R"(","name":"ioc )" + std::to_string(i) +
          R"(","description":"observed in campaign )" + std::to_string(i % 97) +
          R"(","labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.)" +
          std::to_string(i % 250) +
          R"(']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)"
          R"("object_marking_refs":[")" +
          marks[rng() % 5] + "\"]";
      if (i % 50 == 0)  // 2% carry a granular marking
        o += std::string(R"(,"granular_markings":[{"marking_ref":")") + marks[4] +
             R"(","selectors":["description"]}])";
      if (i % 20 == 0) o += R"(,"x_personal_data":"someone")";
      o += "}";
      auto e = parser.Parse(o);
      std::string canonical = json::CanonicalJson(*e);
      auto f = ExtractFacts(*e);
      texts.push_back(std::move(canonical));
      facts.push_back(std::move(*f));
    }
    for (int i = 0; i < kOrgs; i += 5) readers.push_back("org" + std::to_string(i));
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

const Timestamp kNow(1780000000, 0);

void BM_PageNoPolicy(benchmark::State& state) {
  Fixture& f = F();
  std::string page;
  for (auto _ : state) {
    size_t served = 0;
    for (int i = 0; i < kObjects; ++i) {
      if (i % kPage == 0) page.clear();
      page += f.texts[static_cast<size_t>(i % kDistinct)];
      page += ',';
      ++served;
    }
    benchmark::DoNotOptimize(page.data());
    state.counters["served"] = static_cast<double>(served);
  }
  state.SetItemsProcessed(state.iterations() * kObjects);
}

void BM_PageParseOnly(benchmark::State& state) {
  Fixture& f = F();
  std::string page;
  json::JsonParser parser;
  for (auto _ : state) {
    for (int i = 0; i < kObjects; ++i) {
      if (i % kPage == 0) page.clear();
      const std::string& t = f.texts[static_cast<size_t>(i % kDistinct)];
      auto e = parser.Parse(t);
      benchmark::DoNotOptimize(e.ok());
      page += t;
      page += ',';
    }
    benchmark::DoNotOptimize(page.data());
  }
  state.SetItemsProcessed(state.iterations() * kObjects);
}

void BM_PagePolicy(benchmark::State& state) {
  Fixture& f = F();
  std::string page;
  json::JsonParser parser;
  CollectionMarking cm;
  Policy::ResolvedReader reader;
  for (auto _ : state) {
    size_t served = 0, redacted = 0;
    for (int i = 0; i < kObjects; ++i) {
      if (i % kPage == 0) page.clear();
      size_t k = static_cast<size_t>(i % kDistinct);
      if (i % kPage == 0)
        reader = f.policy->Resolve(
            {f.readers[static_cast<size_t>(i / kPage) % f.readers.size()], false});
      Decision d = f.policy->DecideText(reader, f.facts[k], f.texts[k], parser, cm, kNow);
      if (d.verdict == Verdict::kServe) {
        page += f.texts[k];
        page += ',';
        ++served;
      } else if (d.verdict == Verdict::kServeRedacted) {
        page += d.redacted_json;
        page += ',';
        ++redacted;
      }
    }
    benchmark::DoNotOptimize(page.data());
    state.counters["served"] = static_cast<double>(served);
    state.counters["redacted"] = static_cast<double>(redacted);
  }
  state.SetItemsProcessed(state.iterations() * kObjects);
}

void BM_PagePolicyParse(benchmark::State& state) {
  Fixture& f = F();
  std::string page;
  json::JsonParser parser;
  CollectionMarking cm;
  for (auto _ : state) {
    for (int i = 0; i < kObjects; ++i) {
      if (i % kPage == 0) page.clear();
      size_t k = static_cast<size_t>(i % kDistinct);
      Reader r{f.readers[static_cast<size_t>(i / kPage) % f.readers.size()], false};
      auto e = parser.Parse(f.texts[k]);
      Decision d = f.policy->DecideJson(r, *e, cm, kNow);
      if (d.verdict == Verdict::kServe) page += f.texts[k];
      if (d.verdict == Verdict::kServeRedacted) page += d.redacted_json;
      page += ',';
    }
    benchmark::DoNotOptimize(page.data());
  }
  state.SetItemsProcessed(state.iterations() * kObjects);
}

}  // namespace

BENCHMARK(BM_PageNoPolicy)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_PageParseOnly)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_PagePolicy)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_PagePolicyParse)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_MAIN();
