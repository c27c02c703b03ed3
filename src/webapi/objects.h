// GET /api/v1/objects/{id} and /api/v1/objects/{id}/versions/{version}
// (docs/API.md "Objects"): one object as the console's object page shows it,
// every version through the read gate of its collection, audited by the caller.
#pragma once

#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "webapi/search.h"

namespace ctihub::webapi {

// `id`: the object id from the path; `version`: empty for the object, else
// the version from the path. A withheld or absent object is the same 404.
taxii::Response GetObject(const SearchContext& ctx, std::string_view id, std::string_view version,
                          std::vector<audit::ObjectRef>& served);

}  // namespace ctihub::webapi
