// The console's sharing agreements (docs/API.md "Agreements"): GET and POST
// /api/v1/agreements, DELETE /api/v1/agreements/{id}. Administrators only.
//
// The work is policy/agreement_edit.h's, as for `ctihub agreement
// add|list|revoke`: the same field checks, the whole policy reloaded before a
// change is kept, the change audited (agreement.changed, naming the caller)
// and rolled back when the audit append fails. After a change the policy
// holder is refreshed, so the next request is decided under it.
//
// Thread-safety: HandleAgreements may be called from many threads (changes
// serialise in agreement_edit.cc).
#pragma once

#include <string>

#include "auth/auth.h"
#include "policy/agreement_edit.h"

namespace ctihub {
namespace audit {
class Sink;
}
namespace policy {
class PolicyHolder;
class PolicySource;
}  // namespace policy
namespace taxii {
struct Request;
struct Response;
}  // namespace taxii
}  // namespace ctihub

namespace ctihub::webapi {

// The largest body of POST /api/v1/agreements and DELETE .../{id}.
inline constexpr size_t kAgreementBodyLimit = size_t{64} * 1024;

struct AgreementsContext {
  const std::string& data_dir;                // DATA: policy.toml, agreements.toml
  const policy::AgreementOrgsFn& known_orgs;  // the store's organisations
  audit::Sink* audit = nullptr;               // nullptr: changes are refused (503)
  policy::PolicyHolder* policy = nullptr;     // refreshed after a change
  // Where the policy's documents are (a PostgreSQL deployment's database);
  // nullptr: the files of data_dir.
  policy::PolicySource* source = nullptr;
};

// `path` is the request's path (no query). Answers 403 to a caller who is not
// an admin, 405 to other methods, and 400/404/409/503 TAXII error objects
// (error_id and, for a field at fault, details.field) as docs/API.md lists.
taxii::Response HandleAgreements(const AgreementsContext& ctx, const taxii::Request& req,
                                 std::string_view path, const auth::Principal& caller);

}  // namespace ctihub::webapi
