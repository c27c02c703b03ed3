// Differential fuzzing of the sharing decision. Input: one JSON object. If it
// is valid STIX (what the store holds), it is stored as taxii::PrepareWrite
// would (canonical JSON; facts columns: producer, TLP, PAP, recipients,
// highest granular levels, no selectors) and decided for every reader of a
// fixed policy two ways:
//   reference: Policy::Decide on the parsed object, granular markings
//              evaluated grant by grant (their levels unused);
//   read path: Policy::DecideText on the stored text with the column facts
//              (levels used; selectors read only when a grant is below them).
// Findings: a crash, a sanitizer report, different verdicts, different
// redacted bytes, or a redacted copy that is not canonical JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.h"
#include "policy/model.h"
#include "policy/policy.h"
#include "stix/validate.h"

using namespace ctihub;          // NOLINT
using namespace ctihub::policy;  // NOLINT

namespace {

constexpr const char* kPolicy = R"(
[[community]]
name = "cert"

[[organisation]]
name = "vendor"
identity = "identity--00000000-0000-4000-8000-000000000001"
communities = ["cert"]
[[organisation]]
name = "police"
identity = "identity--00000000-0000-4000-8000-000000000002"
communities = ["cert"]
[[organisation]]
name = "unit"
identity = "identity--00000000-0000-4000-8000-000000000003"

[[agreement]]
id = "vendor-police"
producer = "org:vendor"
recipient = "org:police"
max_tlp = "amber"
object_types = ["indicator", "malware", "user-account", "email-addr", "threat-actor", "report"]
pap_ceiling = "amber"
strip_properties = ["x_personal", "threat-actor:personal_characteristics", "external_references.[1]"]
withhold_sco_types = ["email-addr"]
reshare = true
legal_basis = "fuzz"

[[agreement]]
id = "police-unit"
producer = "org:police"
recipient = "org:unit"
max_tlp = "green"
object_types = ["indicator", "malware", "report"]
legal_basis = "fuzz"

[[agreement]]
id = "vendor-unit-strict"
producer = "org:vendor"
recipient = "org:unit"
max_tlp = "amber+strict"
object_types = ["indicator"]
pap_ceiling = "green"
legal_basis = "fuzz"
)";

void Check(bool ok, const char* what, std::string_view detail) {
  if (!ok) {
    std::fprintf(stderr, "policy_decide_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
  }
}

const Policy& ThePolicy() {
  static const std::unique_ptr<Policy> policy = [] {
    auto m = ParsePolicyToml(kPolicy, "fuzz.toml");
    Check(m.ok(), "fixed policy does not load", m.ok() ? "" : m.status().message());
    return std::make_unique<Policy>(std::move(*m));
  }();
  return *policy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 16) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  json::JsonParser parser;
  auto doc = parser.Parse(input);
  if (!doc.ok() || !doc->is_object()) return 0;
  if (!stix::Validate(*doc).valid()) return 0;  // the store holds valid objects only
  const std::string stored = json::CanonicalJson(*doc);

  json::JsonParser stored_parser;
  auto object = stored_parser.Parse(stored);
  Check(object.ok(), "canonical JSON does not parse", stored);
  auto facts = ExtractFacts(*object);
  if (!facts.ok()) return 0;
  ObjectFacts reference = *facts;
  reference.granular_max_known = false;  // every grant evaluates the granular markings
  ObjectFacts columns = *facts;          // what the store's columns give back
  columns.id.clear();
  columns.granular.clear();

  const Policy& policy = ThePolicy();
  const Timestamp now(1780000000, 0);
  const CollectionMarking marking;
  json::JsonParser text_parser, check_parser;
  for (const Reader& reader :
       {Reader{"vendor", false}, Reader{"police", false}, Reader{"unit", false},
        Reader{"stranger", false}, Reader{"", true}}) {
    const Decision want = policy.Decide(reader, reference, *object, marking, now);
    const Decision got =
        policy.DecideText(policy.Resolve(reader), columns, stored, text_parser, marking, now);
    Check(got.verdict == want.verdict, "verdicts differ", stored);
    if (want.verdict != Verdict::kServeRedacted) continue;
    Check(got.redacted_json == want.redacted_json, "redacted copies differ", stored);
    auto redacted = check_parser.Parse(got.redacted_json);
    Check(redacted.ok(), "redacted copy does not parse", got.redacted_json);
    Check(json::CanonicalJson(*redacted) == got.redacted_json, "redacted copy not canonical",
          got.redacted_json);
  }
  return 0;
}
