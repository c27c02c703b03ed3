// Shared body of the match_* fuzz targets: the input is a log (lines); the
// reader of one format reads every line (malformed lines are errors, never
// crashes), and each event runs through a matcher whose index has exact,
// CIDR, Hyperscan and residual indicators, so the event's STIX form is built
// and loaded by the pattern engine too. An Internal status is a finding.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "matcher/index.h"
#include "matcher/readers.h"

namespace ctihub::matcher::fuzz {

inline const IndicatorIndex& FuzzIndex(PathRegistry* paths) {
  static std::unique_ptr<IndicatorIndex> index = [&] {
    IndexBuilder b(paths);
    const char* patterns[] = {
        "[domain-name:value = 'evil.com']",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
        "[url:value MATCHES '^http://[a-z]+\\\\.evil']",
        "[domain-name:value LIKE '%.evil.com']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:name = 'a']",
        "[domain-name:value = 'a.com'] FOLLOWEDBY [domain-name:value = 'b.com']",
        "[x-custom:field = 'v']",
    };
    int n = 0;
    for (const char* p : patterns) {
      char id[64];
      std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", n++);
      if (!b.Add({id, p}).ok()) std::abort();
    }
    auto r = b.Finish();
    if (!r.ok()) std::abort();
    return std::move(r).value();
  }();
  return *index;
}

inline int RunReader(Format format, const uint8_t* data, size_t size) {
  static PathRegistry* paths = new PathRegistry();
  const IndicatorIndex& index = FuzzIndex(paths);
  std::vector<FieldMapping> maps = {{"a.b", "x-custom:field"}, {"host", "domain-name:value"}};
  if (format == Format::kStix || format == Format::kZeekTsv) maps.resize(1);
  std::vector<std::unique_ptr<LineReader>> readers;
  auto reader = LineReader::Make(format, maps, paths);
  if (!reader.ok()) std::abort();
  readers.push_back(std::move(reader).value());
  // Zeek JSON without --map takes simdjson's On-Demand path, with one the DOM's.
  if (format == Format::kZeekJson) {
    auto on_demand = LineReader::Make(format, {}, paths);
    if (!on_demand.ok()) std::abort();
    readers.push_back(std::move(on_demand).value());
  }
  Matcher matcher(&index);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)DetectFormat(text.substr(0, text.find('\n')));
  Event event;
  std::vector<Hit> hits;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    for (auto& each : readers) {
      auto r = each->Read(line, &event);
      if (!r.ok()) {
        if (r.status().code() == ErrorCode::kInternal) std::abort();
        continue;
      }
      if (r.value() != LineReader::Outcome::kEvent) continue;
      for (const Field& f : event.fields)
        if (f.path >= paths->size() || f.value.empty()) std::abort();
      (void)event.time.micros();  // a time given as text is parsed here
      matcher.Match(event, &hits);
      for (const Hit& h : hits)
        if (h.indicator >= index.size()) std::abort();
    }
  }
  return 0;
}

}  // namespace ctihub::matcher::fuzz
