// Conversion rates of the import formats, store left out (issue 13 targets:
// free-text extraction >= 100 MB/s, MISP >= 20,000 attributes/s). Rates are per
// CPU second (the default): single-threaded work on a shared machine is
// measured more faithfully by CPU time than by wall time.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "core/json.h"
#include "formats/misp.h"
#include "formats/text_extract.h"

namespace {

namespace formats = ctihub::formats;

// A threat report's prose: sentences of ordinary words, every third line with
// one defanged indicator (domain, IPv4, URL, SHA-256, e-mail, CVE) in it.
std::string ReportText(size_t target_bytes) {
  static const char* const kWords[] = {
      "the",       "actor",     "used",     "spear-phishing", "e-mails", "with",
      "malicious", "macros",    "to",       "deliver",        "a",       "loader",
      "which",     "contacted", "its",      "command",        "server",  "over",
      "HTTPS",     "(port",     "443),",    "then",           "dropped", "payload.",
      "In",        "2024",      "campaign", "targets",        "were",    "banks;"};
  constexpr size_t kWordCount = sizeof kWords / sizeof *kWords;
  std::string out;
  char ioc[200];
  for (size_t line = 0; out.size() < target_bytes; ++line) {
    for (size_t w = 0; w < 14; ++w) {
      if (w) out += ' ';
      out += kWords[(line * 7 + w * 3) % kWordCount];
    }
    switch (line % 18) {
      case 0:
        std::snprintf(ioc, sizeof ioc, " c2-%zu.bad-host[.]com", line);
        break;
      case 3:
        std::snprintf(ioc, sizeof ioc, " 198.51.%zu[.]%zu", line / 256 % 256, line % 256);
        break;
      case 6:
        std::snprintf(ioc, sizeof ioc, " hxxps://drop%zu[.]example[.]net/gate.php?id=%zu", line,
                      line);
        break;
      case 9:
        std::snprintf(ioc, sizeof ioc, " %064zx", line * 2654435761u);
        break;
      case 12:
        std::snprintf(ioc, sizeof ioc, " billing%zu[@]invoice-mail[.]org", line);
        break;
      case 15:
        std::snprintf(ioc, sizeof ioc, " CVE-2024-%zu", 1000 + line % 9000);
        break;
      default:
        ioc[0] = '\0';
    }
    out += ioc;
    out += ".\n";
  }
  return out;
}

// A vendor feed: one indicator per line, as blocklists and IOC lists ship.
std::string IocList(size_t target_bytes) {
  std::string out;
  char line[200];
  for (size_t i = 0; out.size() < target_bytes; ++i) {
    switch (i % 4) {
      case 0:
        std::snprintf(line, sizeof line, "%zu.%zu.%zu.%zu\n", 10 + i / 16777216 % 200,
                      i / 65536 % 256, i / 256 % 256, i % 256);
        break;
      case 1:
        std::snprintf(line, sizeof line, "host%zu.bench-%zu.com\n", i, i % 997);
        break;
      case 2:
        std::snprintf(line, sizeof line, "http://u%zu.bench.org/p/%zu\n", i % 5003, i);
        break;
      default:
        std::snprintf(line, sizeof line, "%016zx%016zx%016zx%016zx\n", i, i * 31, i * 131,
                      i * 1313);
    }
    out += line;
  }
  return out;
}

void ExtractLines(benchmark::State& state, const std::string& text) {
  size_t found = 0;
  for (auto _ : state) {
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      found += formats::ExtractIocs(std::string_view(text).substr(start, end - start)).size();
      start = end + 1;
    }
  }
  benchmark::DoNotOptimize(found);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["iocs_per_pass"] =
      static_cast<double>(found) / static_cast<double>(state.iterations());
}

void BM_ExtractReportProse(benchmark::State& state) {
  static const std::string text = ReportText(8u << 20);
  ExtractLines(state, text);
}
BENCHMARK(BM_ExtractReportProse)->Unit(benchmark::kMillisecond);

void BM_ExtractIocList(benchmark::State& state) {
  static const std::string text = IocList(8u << 20);
  ExtractLines(state, text);
}
BENCHMARK(BM_ExtractIocList)->Unit(benchmark::kMillisecond);

// CTIHUB_BENCH_TEXT=<plain text file>: a real feed or report.
void BM_ExtractFile(benchmark::State& state) {
  const char* path = std::getenv("CTIHUB_BENCH_TEXT");
  if (path == nullptr) {
    state.SkipWithError("CTIHUB_BENCH_TEXT not set");
    return;
  }
  std::ifstream in(path, std::ios::binary);
  static const std::string text((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  ExtractLines(state, text);
}
BENCHMARK(BM_ExtractFile)->Unit(benchmark::kMillisecond);

// One MISP event with `n` attributes: ip-dst, domain, url, sha256 and
// filename|md5 in turn, every other one to_ids, tagged tlp:green, a sighting on
// every hundredth.
std::string MispEvent(size_t n) {
  std::string out =
      R"({"Event":{"uuid":"5e1b5d4c-0a8c-4b7e-9a3e-1f2d3c4b5a69","info":"bench event",)"
      R"("timestamp":"1700000000","Tag":[{"name":"tlp:green"},{"name":"bench"}],"Attribute":[)";
  char buf[400];
  for (size_t i = 0; i < n; ++i) {
    const char* type = "ip-dst";
    char value[200];
    switch (i % 5) {
      case 0:
        std::snprintf(value, sizeof value, "10.%zu.%zu.%zu", i / 65536 % 256, i / 256 % 256,
                      i % 256);
        break;
      case 1:
        type = "domain";
        std::snprintf(value, sizeof value, "host%zu.example.com", i);
        break;
      case 2:
        type = "url";
        std::snprintf(value, sizeof value, "http://u%zu.example.org/p?id=%zu", i, i);
        break;
      case 3:
        type = "sha256";
        std::snprintf(value, sizeof value, "%016zx%016zx%016zx%016zx", i, i * 3, i * 5, i * 7);
        break;
      default:
        type = "filename|md5";
        std::snprintf(value, sizeof value, "drop%zu.exe|%016zx%016zx", i, i, i * 11);
    }
    std::snprintf(buf, sizeof buf,
                  R"(%s{"uuid":"%08zx-0a8c-4b7e-9a3e-%012zx","type":"%s","value":"%s",)"
                  R"("to_ids":%s,"timestamp":"1700000000"%s})",
                  i ? "," : "", i, i, type, value, i % 2 ? "false" : "true",
                  i % 100 == 0 ? R"(,"Sighting":[{"type":"0","date_sighting":"1700000200"}])" : "");
    out += buf;
  }
  out += "]}}";
  return out;
}

void BM_MispEventToStix(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  const std::string event = MispEvent(n);
  size_t objects = 0;
  for (auto _ : state) {
    ctihub::json::JsonParser parser;
    auto el = parser.Parse(event);
    if (!el.ok()) {
      state.SkipWithError("generated event does not parse");
      return;
    }
    auto r = formats::MispEventToStix(*el);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      return;
    }
    objects += r->objects.size();
  }
  benchmark::DoNotOptimize(objects);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));  // attributes
  state.counters["objects_per_event"] =
      static_cast<double>(objects) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_MispEventToStix)->Arg(1000)->Arg(50000)->Unit(benchmark::kMillisecond);

}  // namespace
