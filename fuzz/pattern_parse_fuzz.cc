// Pattern parser: any bytes give a parsed pattern or an error with a position,
// for both grammars, never a crash; an Internal status is a finding.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pattern/evaluator.h"
#include "pattern/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub::pattern;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (StixVersion v : {StixVersion::k21, StixVersion::k20}) {
    PatternOptions opt;
    opt.version = v;
    opt.strict = true;
    auto r = ParsePattern(text, opt);
    if (!r.ok()) {
      if (r.status().code() == ctihub::ErrorCode::kInternal) std::abort();
      continue;
    }
    if (!r->root) std::abort();
    // Everything the parser accepts must compile.
    if (!CompiledPattern::Compile(text, opt).ok()) std::abort();
  }
  return 0;
}
