// JSON parser: any bytes give a value or an error; a parsed value's canonical
// form must parse again and be a fixed point (JCS round trip).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub::json;
  static JsonParser parser(ParseLimits{.max_bytes = 1 << 20, .max_depth = 32});
  static JsonParser again(ParseLimits{.max_bytes = 4 << 20, .max_depth = 32});
  auto r = parser.Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  std::string canon = CanonicalJson(*r);
  auto r2 = again.Parse(canon);
  if (!r2.ok()) std::abort();
  if (CanonicalJson(*r2) != canon) std::abort();
  return 0;
}
