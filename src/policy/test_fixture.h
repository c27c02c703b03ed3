// Shared fixture for the policy tests: a producer and one organisation per
// reader relation. Test-only.
#pragma once

#include <string>

#include "core/timestamp.h"

namespace ctihub::policy::testing {

inline constexpr const char* kProd = "identity--00000000-0000-4000-8000-000000000001";
inline constexpr const char* kDirect = "identity--00000000-0000-4000-8000-000000000002";
inline constexpr const char* kReshare = "identity--00000000-0000-4000-8000-000000000003";
inline constexpr const char* kMember = "identity--00000000-0000-4000-8000-000000000004";
inline constexpr const char* kUnrelated = "identity--00000000-0000-4000-8000-000000000005";

// prod -> direct: AMBER+STRICT would need reshare=false, so the direct grant is
// AMBER with re-sharing plus a second AMBER+STRICT agreement without it.
inline constexpr const char* kMatrixToml = R"toml(
[defaults]
unmarked_tlp = "amber"

[[community]]
name = "c1"

[[organisation]]
name = "prod"
identity = "identity--00000000-0000-4000-8000-000000000001"
communities = ["c1"]

[[organisation]]
name = "direct"
identity = "identity--00000000-0000-4000-8000-000000000002"

[[organisation]]
name = "reshare"
identity = "identity--00000000-0000-4000-8000-000000000003"

[[organisation]]
name = "member"
identity = "identity--00000000-0000-4000-8000-000000000004"
communities = ["c1"]

[[organisation]]
name = "unrelated"
identity = "identity--00000000-0000-4000-8000-000000000005"

[[agreement]]
id = "prod-direct"
producer = "org:prod"
recipient = "org:direct"
max_tlp = "amber"
object_types = ["*"]
pap_ceiling = "amber"
reshare = true
legal_basis = "test"

[[agreement]]
id = "prod-direct-strict"
producer = "org:prod"
recipient = "org:direct"
max_tlp = "amber+strict"
object_types = ["*"]
pap_ceiling = "amber"
legal_basis = "test"

[[agreement]]
id = "direct-reshare"
producer = "org:direct"
recipient = "org:reshare"
max_tlp = "amber+strict"
object_types = ["*"]
pap_ceiling = "green"
legal_basis = "test"
)toml";

inline Timestamp At(const char* s) { return *Timestamp::Parse(s); }

}  // namespace ctihub::policy::testing
