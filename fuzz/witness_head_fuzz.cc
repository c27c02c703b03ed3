// The audit witness exchange's parser (audit/witness.h): a body a partner hub
// POSTs to /api/v1/witness, or answers. Any bytes give a head or an error; a
// parsed head prints as JSON that parses back to the same head, and checking
// its signature never crashes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "audit/witness.h"
#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub;
  static json::JsonParser parser(json::ParseLimits{.max_bytes = 4096, .max_depth = 8});
  static json::JsonParser again;
  auto root = parser.Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!root.ok()) return 0;
  simdjson::dom::element value;
  if ((*root)["head"].get(value) != simdjson::SUCCESS) value = *root;
  auto head = audit::ParseSignedHead(value);
  if (!head.ok()) return 0;
  (void)audit::SignedHeadIsValid(*head);
  auto reparsed = again.Parse(audit::SignedHeadJson(*head));
  if (!reparsed.ok()) std::abort();
  auto back = audit::ParseSignedHead(*reparsed);
  if (!back.ok() || back->seq != head->seq || back->hash != head->hash ||
      back->signature != head->signature || back->public_key != head->public_key ||
      back->checkpoints != head->checkpoints)
    std::abort();
  return 0;
}
