// STIX 2.0 upgrader: any JSON object gives 2.1 objects or an InvalidArgument,
// never a crash or an Internal status; every object it gives is JSON.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "formats/stix20_upgrade.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  json::JsonParser parser;
  auto el = parser.Parse(text);
  json::Object obj;
  if (!el.ok() || el->get_object().get(obj) != simdjson::SUCCESS) return 0;
  (void)formats::IsStix20(obj, "2.0");
  auto out = formats::UpgradeStix20(obj);
  if (!out.ok()) {
    if (out.status().code() == ErrorCode::kInternal) std::abort();
    return 0;
  }
  json::JsonParser check;
  for (const auto& o : *out) {
    if (!check.Parse(o).ok()) std::abort();
  }
  return 0;
}
