// Fuzz target: the first line is a request target (path + query) parsed into
// segments, parameters and the store query of every endpoint; the rest is a
// POSTed envelope (JSON, STIX validation, canonicalisation).
#include <cstdint>
#include <string_view>

#include "taxii/query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view target = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  auto t = ctihub::taxii::ParseTarget(target);
  if (t.ok()) {
    using ctihub::taxii::Endpoint;
    for (Endpoint e : {Endpoint::kObjects, Endpoint::kObject, Endpoint::kManifest,
                       Endpoint::kVersions, Endpoint::kDeleteObject}) {
      auto q = ctihub::taxii::ParseFilters(t->params, e, 100, 1000);
      if (q.ok() && (q->limit == 0 || q->limit > 1000)) __builtin_trap();
    }
  }
  (void)ctihub::taxii::AcceptsTaxii21(target);
  (void)ctihub::taxii::IsTaxii21ContentType(target);
  ctihub::taxii::EnvelopeOptions o;
  o.max_objects = 100;
  auto items = ctihub::taxii::ParseEnvelope(body, o);
  if (items.ok()) {
    for (const auto& it : *items) {
      if (it.ok && it.object.json.empty()) __builtin_trap();
    }
  }
  return 0;
}
