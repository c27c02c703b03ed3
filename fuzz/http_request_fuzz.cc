// Fuzz target: raw bytes -> Beast request parser (server limits) -> TAXII
// request model -> the TAXII resources over an in-memory store. Rejections are
// fine; a crash, a sanitizer report or a 500 (an Internal status) is a finding.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/server.h"
#include "store/testing/memory_store.h"
#include "taxii/query.h"
#include "taxii/taxii.h"

namespace {

struct Fixture {
  Fixture() {
    (void)store.PutApiRoot({"api1", "API 1", "", 1 << 16});
    ctihub::store::Collection c;
    c.id = "11111111-1111-4111-8111-111111111111";
    c.api_root = "api1";
    c.title = "fuzz";
    c.readers = {"org:*"};
    c.writers = {"org:*"};
    (void)store.AddCollection(c);
    service = std::make_unique<ctihub::taxii::Service>(
        store,
        [](std::string_view h) -> ctihub::Result<ctihub::auth::Principal> {
          if (h != "Bearer fuzz") return ctihub::Unauthenticated("no");
          ctihub::auth::Principal p;
          p.user = "fuzz";
          p.user_id = 1;
          p.org = "fuzzorg";
          p.org_id = 1;
          p.role = ctihub::store::Role::kAdmin;
          return p;
        },
        ctihub::taxii::ServiceOptions{}, ctihub::taxii::WithoutPolicyForTest());
  }
  ctihub::store::MemoryStore store;
  std::unique_ptr<ctihub::taxii::Service> service;
  ctihub::http::ServerOptions limits;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();
  f->limits.header_limit = 8192;
  f->limits.body_limit = 1 << 16;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto req = ctihub::http::ParseRequestBytesForTest(bytes, f->limits);
  if (!req.ok()) return 0;
  (void)ctihub::taxii::AcceptsTaxii21(req->accept);
  (void)ctihub::taxii::IsTaxii21ContentType(req->content_type);
  ctihub::taxii::Response r = f->service->Handle(*req);
  if (r.status == 500) std::abort();  // no input may cause an internal error
  f->service->WaitForWrites();
  return 0;
}
