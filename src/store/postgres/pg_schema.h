// The PostgreSQL store's schema and its migrations. Private to src/store/postgres.
#pragma once

#include "core/result.h"
#include "store/postgres/pg.h"

namespace ctihub::store::pg {

// The schema version this build writes and reads.
int LatestSchemaVersion();

// The version recorded in the connection's schema (0: no ctihub tables yet).
Result<int> CurrentSchemaVersion(Connection& conn);

// Brings the schema of `conn` (its search_path) up to LatestSchemaVersion(),
// in one transaction (DDL is transactional), under an advisory lock so that nodes starting
// together migrate once. Unavailable "schema_too_new" (and nothing changed)
// when the database was migrated by a newer build.
Status MigrateSchema(Connection& conn);

// Transaction-scoped advisory locks: the first key is "CTIH" (0x43544948)
// for object writes, one more for migrations; the second is
// hashtext(current_setting('search_path')) (the schema, set even before it exists), so stores in
// different schemas of one database do not serialise each other. Every transaction that changes
// objects takes the objects lock first (docs/ARCHITECTURE.md "date_added across nodes").
inline constexpr const char* kObjectsLockSql =
    "SELECT pg_advisory_xact_lock(1129597256, hashtext(current_setting('search_path')))";
inline constexpr const char* kMigrationLockSql =
    "SELECT pg_advisory_xact_lock(1129597257, hashtext(current_setting('search_path')))";
// Index maintenance (pg_objects.cc MaintenanceLoop): one node at a time, the
// others skip their turn (a try-lock).
inline constexpr const char* kMaintenanceTryLockSql =
    "SELECT pg_try_advisory_xact_lock(1129597258, hashtext(current_setting('search_path')))";

}  // namespace ctihub::store::pg
