// Pattern evaluation: input is "PATTERN\nJSON"; the pattern (when valid) runs
// against the observed data (when valid) under both STIX versions. Any result
// or error is fine; a crash, a hang or an Internal status is a finding.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pattern/evaluator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub::pattern;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view pattern = in.substr(0, nl), json_text = in.substr(nl + 1);
  for (StixVersion v : {StixVersion::k21, StixVersion::k20}) {
    PatternOptions opt;
    opt.version = v;
    auto cp = CompiledPattern::Compile(pattern, opt);
    if (!cp.ok()) continue;
    ObservationSet set;
    if (!set.LoadText(json_text, v).ok()) continue;
    auto r = (*cp)->Match(set.observations());
    if (!r.ok() && r.status().code() == ctihub::ErrorCode::kInternal) std::abort();
    if (r.ok() && r->matched && r->bindings.empty()) std::abort();
  }
  return 0;
}
