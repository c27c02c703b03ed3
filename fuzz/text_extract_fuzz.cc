// Free-text extractor: any bytes give a list of indicators, never a crash; each
// indicator has a value, and every domain (also an e-mail's) passes the same
// Public Suffix List check the extractor claims to apply.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/text_extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctihub::formats;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const Ioc& ioc : ExtractIocs(text)) {
    if (ioc.value.empty()) std::abort();
    if (ioc.type == IocType::kDomain && !IsDomainName(ioc.value)) std::abort();
    if (ioc.type == IocType::kEmail) {
      size_t at = ioc.value.rfind('@');
      if (at == std::string_view::npos || !IsDomainName(ioc.value.substr(at + 1))) std::abort();
    }
  }
  return 0;
}
