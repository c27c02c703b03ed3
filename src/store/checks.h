// Checks every Store backend applies, so backends reject alike (same codes and
// stable names; the store conformance suite holds them to it). For backends
// only: callers above the store get these errors from the Store methods.
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace ctihub::store {

// A query's page size: ObjectQuery::limit 0 means kDefaultPageLimit; larger
// than kMaxPageLimit means kMaxPageLimit.
inline constexpr size_t kDefaultPageLimit = 1000;
inline constexpr size_t kMaxPageLimit = 100000;
// Values per match[] list of a query at most (bounds the SQL a backend builds).
inline constexpr size_t kMaxFilterValues = 1000;

// Names of organisations, users and API roots: 1..128 letters, digits and
// . _ - @ + (they appear in ACL entries "org:NAME", comma-separated CLI lists
// and Basic credentials "user:pass"). InvalidArgument "bad_name".
Status ValidateName(std::string_view what, std::string_view name);
// Collection access-list entries: non-empty, one line each. InvalidArgument "bad_acl".
Status ValidateAclEntries(const std::vector<std::string>& entries);
// A NewObject has an id (type--uuid), a type, a spec_version and its JSON.
// InvalidArgument "bad_object".
Status ValidateNewObject(const NewObject& o);
// LimitExceeded "too_many_filter_values" past kMaxFilterValues in a list.
Status CheckFilterSizes(const ObjectQuery& q);

}  // namespace ctihub::store
