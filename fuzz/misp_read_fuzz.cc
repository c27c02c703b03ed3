// MISP reader: any JSON gives STIX objects (each of them JSON) and issues, or
// an error that is not Internal; never a crash.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "formats/misp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  json::JsonParser parser;
  auto el = parser.Parse(text);
  if (!el.ok()) return 0;
  auto out = formats::MispEventToStix(*el);
  if (!out.ok()) {
    if (out.status().code() == ErrorCode::kInternal) std::abort();
    return 0;
  }
  json::JsonParser check;
  for (const auto& o : out->objects) {
    if (!check.Parse(o).ok()) std::abort();
  }
  return 0;
}
