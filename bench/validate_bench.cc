// STIX parse + validate throughput: BundleReader -> ParseObject -> Validate over
// a large bundle in memory. The bundle is generated from realistic objects
// (ATT&CK-like attack patterns with long descriptions and references,
// relationships, indicators, malware, identities, SCOs), or read from the file
// named by CTIHUB_BENCH_BUNDLE (e.g. an ATT&CK bundle, STIX 2.1). Rates are per CPU
// second (the default): single-threaded work on a shared machine is measured
// more faithfully by CPU time than by wall time.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "core/json.h"
#include "stix/bundle_reader.h"
#include "stix/parse.h"
#include "stix/validate.h"

namespace {

std::string Uuid(int i, int salt) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-8%03x-%012x",
                static_cast<unsigned>(i * 2654435761u), static_cast<unsigned>(salt & 0xffff),
                static_cast<unsigned>(i & 0xfff), static_cast<unsigned>(salt & 0xfff),
                static_cast<unsigned>(i));
  return buf;
}

std::string Text(int i, size_t words) {
  static const char* kWords[] = {"adversaries", "may",          "abuse",    "command", "and",
                                 "script",      "interpreters", "to",       "execute", "commands",
                                 "scripts",     "or",           "binaries", "these",   "interfaces",
                                 "languages",   "provide",      "ways"};
  std::string s;
  for (size_t w = 0; w < words; ++w) {
    if (w) s += ' ';
    s += kWords[(i + w * 7) % (sizeof kWords / sizeof *kWords)];
  }
  s += ". (Citation: Example \\\"quoted\\\" source)\\n";
  return s;
}

std::string Generate(size_t target_bytes) {
  const std::string identity = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5";
  const std::string marking = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168";
  const std::string common_tail =
      R"(","created":"2017-05-31T21:30:19.735Z","modified":"2023-10-02T14:35:11.123Z","created_by_ref":")" +
      identity + R"(","object_marking_refs":[")" + marking + R"("])";
  std::string out =
      R"({"type":"bundle","id":"bundle--0b1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5","objects":[)";
  out +=
      R"({"type":"identity","spec_version":"2.1","id":")" + identity +
      R"(","created":"2017-06-01T00:00:00.000Z","modified":"2017-06-01T00:00:00.000Z","name":"The MITRE Corporation","identity_class":"organization"},)";
  out +=
      R"({"type":"marking-definition","spec_version":"2.1","id":")" + marking +
      R"(","created":"2017-06-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright 2015-2024, The MITRE Corporation."}})";
  for (int i = 0; out.size() < target_bytes; ++i) {
    out += ",\n";
    switch (i % 8) {
      case 0:
      case 1:
        out +=
            R"({"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--)" + Uuid(i, 1) +
            common_tail + R"(,"name":"Command and Scripting Interpreter )" + std::to_string(i) +
            R"(","description":")" + Text(i, 220) +
            R"(","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}],
"external_references":[{"source_name":"mitre-attack","url":"https://attack.mitre.org/techniques/T1059","external_id":"T1059"},
{"source_name":"Example 2020","url":"https://example.com/research/2020/report.html","description":"Example. (2020). Research."},
{"source_name":"capec","external_id":"CAPEC-123","url":"https://capec.mitre.org/data/definitions/123.html"}],
"x_mitre_platforms":["Linux","macOS","Windows"],"x_mitre_version":"2.4","x_mitre_domains":["enterprise-attack"],
"x_mitre_detection":")" +
            Text(i + 3, 40) + R"(","x_mitre_is_subtechnique":false})";
        break;
      case 2:
      case 3:
      case 4:
        out +=
            R"({"type":"relationship","spec_version":"2.1","id":"relationship--)" + Uuid(i, 2) +
            common_tail + R"(,"relationship_type":"uses","description":")" + Text(i, 30) +
            R"(","source_ref":"intrusion-set--)" + Uuid(i, 3) +
            R"(","target_ref":"attack-pattern--)" + Uuid(i, 1) +
            R"(","external_references":[{"source_name":"Example 2021","url":"https://example.com/a","description":"x"}]})";
        break;
      case 5:
        out +=
            R"({"type":"indicator","spec_version":"2.1","id":"indicator--)" + Uuid(i, 4) +
            common_tail +
            R"(,"name":"C2 address","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.)" +
            std::to_string(i % 250) +
            R"(']","pattern_type":"stix","valid_from":"2023-01-01T00:00:00Z","labels":["c2"],"confidence":80})";
        break;
      case 6:
        out += R"({"type":"malware","spec_version":"2.1","id":"malware--)" + Uuid(i, 5) +
               common_tail + R"(,"name":"Malware )" + std::to_string(i) +
               R"(","is_family":true,"malware_types":["remote-access-trojan"],
"aliases":["Alias A","Alias B"],"description":")" +
               Text(i, 80) + R"(","x_mitre_platforms":["Windows"]})";
        break;
      case 7:
        out +=
            R"({"type":"file","spec_version":"2.1","id":"file--)" + Uuid(i, 6) +
            R"(","name":"dropper.exe","size":25536,"hashes":{"SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db","MD5":"d41d8cd98f00b204e9800998ecf8427e"}},
{"type":"domain-name","spec_version":"2.1","id":"domain-name--)" +
            Uuid(i, 7) + R"(","value":"c2-)" + std::to_string(i) + R"(.example.com"})";
        break;
    }
  }
  out += "]}\n";
  return out;
}

const std::string& Input() {
  static const std::string text = [] {
    if (const char* path = std::getenv("CTIHUB_BENCH_BUNDLE")) {
      std::ifstream in(path, std::ios::binary);
      std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!s.empty()) return s;
      std::fprintf(stderr, "CTIHUB_BENCH_BUNDLE=%s unreadable; generating\n", path);
    }
    return Generate(64u << 20);
  }();
  return text;
}

void BM_ParseValidate(benchmark::State& state) {
  const std::string& text = Input();
  ctihub::json::JsonParser parser;
  size_t objects = 0, invalid = 0;
  for (auto _ : state) {
    ctihub::stix::BundleReader reader(text);
    for (;;) {
      int64_t offset = 0;
      auto next = reader.Next(&offset);
      if (!next.ok() || next->empty()) {
        if (!next.ok()) state.SkipWithError(next.status().message().c_str());
        break;
      }
      auto parsed = ctihub::stix::ParseObject(parser, *next, offset);
      if (!parsed.ok()) {
        state.SkipWithError(parsed.status().message().c_str());
        break;
      }
      ctihub::stix::Report report = ctihub::stix::Validate(*parsed);
      invalid += !report.valid();
      benchmark::DoNotOptimize(report);
      ++objects;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["objects/s"] =
      benchmark::Counter(static_cast<double>(objects), benchmark::Counter::kIsRate);
  state.counters["invalid"] =
      static_cast<double>(invalid) / static_cast<double>(state.iterations());
  state.counters["bundle_MB"] = static_cast<double>(text.size()) / 1e6;
}
BENCHMARK(BM_ParseValidate)->Unit(benchmark::kMillisecond);

// The same through a FILE* (the CLI's path): chunked reads, bounded window.
void BM_FileParseValidate(benchmark::State& state) {
  const std::string& text = Input();
  std::FILE* f = std::tmpfile();
  if (!f) {
    state.SkipWithError("tmpfile failed");
    return;
  }
  std::fwrite(text.data(), 1, text.size(), f);
  ctihub::json::JsonParser parser;
  size_t objects = 0;
  for (auto _ : state) {
    std::rewind(f);
    ctihub::stix::BundleReader reader(f);
    for (;;) {
      int64_t offset = 0;
      auto next = reader.Next(&offset);
      if (!next.ok() || next->empty()) break;
      auto parsed = ctihub::stix::ParseObject(parser, *next, offset);
      if (!parsed.ok()) break;
      ctihub::stix::Report report = ctihub::stix::Validate(*parsed);
      benchmark::DoNotOptimize(report);
      ++objects;
    }
  }
  std::fclose(f);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["objects/s"] =
      benchmark::Counter(static_cast<double>(objects), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FileParseValidate)->Unit(benchmark::kMillisecond);

// The stages alone, to see where time goes.
void BM_ReaderOnly(benchmark::State& state) {
  const std::string& text = Input();
  for (auto _ : state) {
    ctihub::stix::BundleReader reader(text);
    for (;;) {
      auto next = reader.Next();
      if (!next.ok() || next->empty()) break;
      benchmark::DoNotOptimize(next->data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ReaderOnly)->Unit(benchmark::kMillisecond);

void BM_ReaderParse(benchmark::State& state) {
  const std::string& text = Input();
  ctihub::json::JsonParser parser;
  for (auto _ : state) {
    ctihub::stix::BundleReader reader(text);
    for (;;) {
      int64_t offset = 0;
      auto next = reader.Next(&offset);
      if (!next.ok() || next->empty()) break;
      auto parsed = ctihub::stix::ParseObject(parser, *next, offset);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ReaderParse)->Unit(benchmark::kMillisecond);

}  // namespace
