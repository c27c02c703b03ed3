// Start-up recovery of `ctihub serve` (docs/ARCHITECTURE.md "Crash recovery"):
// what a stopped process (kill -9, power loss) left unfinished is finished
// before the hub serves again, and `audit verify` cross-checks the store
// against the trail with the same listing.
#pragma once

#include <string>

#include "audit/audit.h"
#include "core/result.h"
#include "store/store.h"

namespace ctihub::cli {

// The versions this node stored, as the audit cross-check lists them. `store` must
// outlive the lister.
audit::StoredVersionLister StoreVersionLister(store::Store& store);

// Finishes every status this node left pending (durable objects succeed, the
// others fail with a reason) and appends the object.written records a stop
// lost for the versions this node stored. Other nodes sharing the database
// are not touched (`store` is opened as this data directory's node,
// hub_context.h NodeIdOf). REQUIRES: nothing written through `store` yet. An
// error means the hub must not serve: its trail would miss writes.
Status RecoverAfterStop(store::Store& store, audit::AuditLog& log, const std::string& data_dir);

}  // namespace ctihub::cli
