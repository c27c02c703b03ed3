// The PostgreSQL Store backend (store.h for the contract): many hub nodes over
// one database. Opened with OpenPostgresStore; link ctihub_store_postgres.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "store/store.h"

namespace ctihub::store {

struct PostgresOptions {
  // libpq connection URI or key=value string, e.g.
  // "postgresql://hub@db.example/ctihub" or "host=/run/postgresql dbname=ctihub".
  std::string url;
  // Schema holding the tables ([a-z_][a-z0-9_]*); "" uses the connection's
  // search_path (normally "public"). Created when missing.
  std::string schema;
  // The node this store writes as and recovers for (store.h "crash
  // recovery"): every hub node over the database has its own; "" for none.
  std::string node_id;
  size_t max_batch_objects = 20000;
  // Objects queued for the writer at most; a write beyond it waits for room
  // (a request always enters an empty queue), which bounds the memory a fast
  // writer client can fill.
  size_t max_queued_objects = 20000;
  // How long a write waits for room before it fails Unavailable "store_busy".
  std::chrono::milliseconds max_queue_wait{60000};
  int reader_connections = 4;
  // false: refuse (Unavailable "schema_outdated") a schema older than this
  // build instead of migrating it (`ctihub migrate` migrates explicitly).
  bool migrate = true;
  // Tests: drop `schema` (and everything in it) before opening.
  bool drop_schema_for_test = false;
  // Tests: called by the writer after a batch's rows are written, just before
  // its COMMIT (widens the window in which another node's commit could
  // overtake this one).
  std::function<void()> before_commit_for_test;
};

// Connects, checks (and unless told otherwise migrates) the schema, starts the
// writer. Unavailable "db_unavailable" when the server cannot be reached,
// Unavailable "schema_too_new" when a newer build migrated the database.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& opts);

// The schema version this build reads and writes (`ctihub migrate` brings a
// database to it).
int PostgresSchemaVersion();

// Whether `text` names a PostgreSQL database (postgresql:// or postgres:// URI).
bool IsPostgresUrl(std::string_view text);

}  // namespace ctihub::store
