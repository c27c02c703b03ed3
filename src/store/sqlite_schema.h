// Schema of the SQLite store and its migrations. The schema version lives in
// PRAGMA user_version; MigrateSchema() applies every missing step in order, each in
// its own IMMEDIATE transaction (so two processes opening the same new
// database at once do not both migrate it). Private to src/store.
#pragma once

#include "core/result.h"
#include "sqlite/db.h"

namespace ctihub::store {

// The schema version this build writes and expects.
int LatestSchemaVersion();

// Brings the database up to LatestSchemaVersion(). FailedPrecondition-like
// error (Unavailable) if the database is newer than this build.
Status MigrateSchema(sqlite::Connection& conn);

}  // namespace ctihub::store
