// GET /api/v1/graph/{id}?depth=N&max_nodes=M (docs/API.md "Graph"): the
// neighbourhood of an object for the console's graph view, every node and
// edge read through the read gates (an object the caller may not read is
// neither a node nor the end of an edge), bounded in depth and nodes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "webapi/search.h"

namespace ctihub::webapi {

inline constexpr int kMaxGraphDepth = 3;
inline constexpr size_t kDefaultGraphNodes = 150;
inline constexpr size_t kMaxGraphNodes = 500;

// `id`: the centre, from the path; `params`: the decoded query parameters.
// 404 for a centre the caller may not read (as for an absent one); 400
// bad_filter for a depth outside 1..3, max_nodes outside 1..500 or an unknown
// parameter. `served` receives every node and relationship shown.
taxii::Response GetGraph(const SearchContext& ctx, std::string_view id,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         std::vector<audit::ObjectRef>& served);

}  // namespace ctihub::webapi
