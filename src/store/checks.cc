#include "store/checks.h"

namespace ctihub::store {

namespace {
constexpr size_t kMaxNameLength = 128;
}  // namespace

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return InvalidArgument("bad_name", std::string(what) + " name must be 1.." +
                                           std::to_string(kMaxNameLength) + " characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
    if (!ok) {
      return InvalidArgument("bad_name", std::string(what) + " name '" + std::string(name) +
                                             "' may contain only letters, digits and . _ - @ +");
    }
  }
  return Status::Ok();
}

Status ValidateAclEntries(const std::vector<std::string>& entries) {
  for (const auto& e : entries) {
    if (e.empty() || e.find('\n') != std::string::npos) {
      return InvalidArgument("bad_acl", "empty or multi-line access-list entry");
    }
  }
  return Status::Ok();
}

Status ValidateNewObject(const NewObject& o) {
  if (o.id.empty() || o.id.find("--") == std::string::npos) {
    return InvalidArgument("bad_object", "id '" + o.id + "' is not type--uuid");
  }
  if (o.type.empty()) return InvalidArgument("bad_object", "empty type for " + o.id);
  if (o.spec_version.empty())
    return InvalidArgument("bad_object", "empty spec_version for " + o.id);
  if (o.json.empty()) return InvalidArgument("bad_object", "empty json for " + o.id);
  return Status::Ok();
}

Status CheckFilterSizes(const ObjectQuery& q) {
  if (q.ids.size() > kMaxFilterValues || q.types.size() > kMaxFilterValues ||
      q.spec_versions.size() > kMaxFilterValues || q.versions.size() > kMaxFilterValues) {
    return LimitExceeded("too_many_filter_values", "at most " + std::to_string(kMaxFilterValues) +
                                                       " values per match[] filter");
  }
  return Status::Ok();
}

}  // namespace ctihub::store
