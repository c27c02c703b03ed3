// Fuzzes ParsePolicyToml and ParseAgreementChangesToml. Findings: a crash, a
// sanitizer report, an error without "FILE:" position, an Internal status, or
// an agreement that does not survive AgreementToToml -> parse -> AgreementToToml.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json.h"
#include "policy/model.h"
#include "policy/policy.h"

using namespace ctihub;          // NOLINT
using namespace ctihub::policy;  // NOLINT

namespace {
void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "policy_config_fuzz: %s\n", what);
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = ParsePolicyToml(text, "fuzz.toml");
  if (!m.ok()) {
    Check(m.status().code() == ErrorCode::kInvalidArgument, "non-InvalidArgument rejection");
    Check(m.status().message().rfind("fuzz.toml:", 0) == 0, "rejection without file position");
  } else {
    Check(m->Validate().ok(), "loaded model fails Validate");
    Policy policy(*m);  // compiling the routes must not crash
    json::JsonParser parser;
    auto obj =
        parser.Parse(R"({"type":"indicator","id":"indicator--1","created_by_ref":"identity--x"})");
    for (const auto& o : m->organisations) {
      (void)policy.DecideJson({o.name, false}, *obj, {}, Timestamp(1780000000, 0));
      (void)policy.ScopeFor({o.name, false}, {}, Timestamp(1780000000, 0));
    }
  }
  auto c = ParseAgreementChangesToml(text, "fuzz.toml");
  if (c.ok()) {
    AgreementChanges again;
    std::string printed;
    for (const auto& a : c->added) printed += AgreementToToml(a) + "\n";
    auto back = ParseAgreementChangesToml(printed, "printed.toml");
    Check(back.ok(), "printed agreements do not parse back");
    std::string reprinted;
    for (const auto& a : back->added) reprinted += AgreementToToml(a) + "\n";
    Check(printed == reprinted, "agreement round trip changed the text");
  }
  return 0;
}
