// Fuzz target: the first line is a URL reference (resolved against a base, as
// the API roots of a discovery resource are) and a Retry-After value; the
// rest is a response body parsed as every TAXII resource the client reads.
// Objects and manifest pages then go through the pager twice (the second time
// a repeat must be caught), with the first line as their date headers.
#include <cstdint>
#include <string_view>

#include "taxii_client/pager.h"
#include "taxii_client/responses.h"
#include "taxii_client/url.h"

namespace tc = ctihub::taxii_client;

namespace {

void Page(const tc::ObjectsPage& page, std::string_view header) {
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& o : page.objects) items.emplace_back(o.id, o.version);
  tc::PageFacts facts{
      page.more,    page.next, std::string(header), std::string(header), tc::PageFingerprint(items),
      items.empty()};
  tc::Pager pager({"", 5, {}}, 10);
  if (!pager.Accept(facts).ok()) return;
  (void)pager.NextParams();
  if (!pager.done() && !items.empty() && pager.Accept(facts).ok()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);

  auto base = tc::ParseUrl("https://hub.example:8443/taxii2/");
  if (!base.ok()) __builtin_trap();
  auto resolved = tc::ResolveUrl(*base, line);
  if (resolved.ok()) {
    if (resolved->path.empty() || resolved->path[0] != '/') __builtin_trap();
    auto again = tc::ParseUrl(resolved->ToString());
    if (!again.ok() || again->ToString() != resolved->ToString()) __builtin_trap();
  }
  (void)tc::ParseRetryAfter(line, 1700000000);

  tc::ResponseParser p;
  (void)p.ParseDiscovery(body);
  (void)p.ParseApiRoot(body);
  (void)p.ParseCollections(body);
  (void)p.ParseStatus(body);
  (void)p.ParseError(body).Summary();
  auto page = p.ParseObjectsPage(body);
  if (page.ok()) Page(*page, line);
  (void)p.ParseManifestPage(body);
  return 0;
}
