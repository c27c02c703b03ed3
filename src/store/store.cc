#include "store/store.h"

namespace ctihub::store {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kPublisher: return "publisher";
    case Role::kReader: return "reader";
    case Role::kAuditor: return "auditor";
  }
  return "reader";
}

Result<Role> ParseRole(std::string_view s) {
  for (Role r : {Role::kAdmin, Role::kPublisher, Role::kReader, Role::kAuditor}) {
    if (RoleName(r) == s) return r;
  }
  return InvalidArgument("bad_role: unknown role '" + std::string(s) +
                         "' (admin, publisher, reader, auditor)");
}

}  // namespace ctihub::store
