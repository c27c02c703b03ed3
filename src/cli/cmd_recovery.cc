// Implementation of recovery.h (named cmd_*.cc so the CLI target's glob
// compiles it).
#include <cstdio>

#include "cli/recovery.h"

namespace ctihub::cli {

// What a status's pending objects that are not stored were lost to.
constexpr const char* kLostWriteReason =
    "not stored: the hub stopped before the write was durable; send the object again";

audit::StoredVersionLister StoreVersionLister(store::Store& store) {
  return [&store](int64_t after_us, size_t limit) -> Result<std::vector<audit::StoredVersion>> {
    CTIHUB_ASSIGN_OR_RETURN(auto refs, store.ListVersionsAddedAfter(after_us, limit));
    std::vector<audit::StoredVersion> out;
    out.reserve(refs.size());
    for (auto& r : refs) {
      out.push_back({r.date_added_us, {std::move(r.id), r.version.ToString()}});
    }
    return out;
  };
}

Status RecoverAfterStop(store::Store& store, audit::AuditLog& log, const std::string& data_dir) {
  auto finished = store.FinishPendingStatuses(kLostWriteReason);
  if (!finished.ok())
    return Unavailable("finishing pending statuses: " + finished.status().NamedMessage());
  auto reconciled = audit::ReconcileWrites(log, data_dir, StoreVersionLister(store));
  if (!reconciled.ok()) {
    return Unavailable("reconciling the audit trail with the store: " +
                       reconciled.status().NamedMessage());
  }
  if (*finished > 0 || reconciled->recovered > 0) {
    std::fprintf(stderr,
                 "ctihub: recovery: finished %lld pending status(es); recorded %lld object "
                 "version(s) stored without their audit record\n",
                 static_cast<long long>(*finished), static_cast<long long>(reconciled->recovered));
  }
  return Status::Ok();
}

}  // namespace ctihub::cli
