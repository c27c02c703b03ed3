// Opening a hub's data directory: the one place that knows where the database
// lives (DIR/ctihub.db) and how the CLI opens it. Used by the admin commands
// (cmd_hub.cc) and by `serve`. Not thread-safe itself; the store it returns is.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "core/file_lock.h"
#include "core/result.h"
#include "policy/model.h"
#include "policy/policy_source.h"
#include "store/store.h"

namespace ctihub::cli {

inline constexpr const char* kDefaultDataDir = "./var";
inline constexpr const char* kDatabaseFile = "ctihub.db";
inline constexpr const char* kNodeIdFile = "node.id";

// DIR/ctihub.db
std::string DatabasePath(const std::string& data_dir);
// What a command's output calls the store: the PostgreSQL URL without its
// password, else DIR/ctihub.db.
std::string StoreDescription(const std::string& data_dir, const std::string& db_url);

struct HubOpenOptions {
  // postgresql://... : the hub's store is that PostgreSQL database (shared by
  // many nodes); files that stay per node (policy, audit trail, TLS keys, the
  // serve lock) remain under the data directory. Empty: DIR/ctihub.db.
  std::string db_url;
  // PostgreSQL: migrate an older schema (init, migrate); false refuses it
  // with "run `ctihub migrate`". A newer schema is always refused.
  bool migrate = false;
  bool create = false;         // create DIR (mode 0700) and the database if missing
  int reader_connections = 1;  // the CLI needs one; a server wants more
  size_t max_batch_objects = 20000;
};

// An exclusive lock on a data directory (DIR/serve.lock, flock), held by a
// running `ctihub serve` until it exits: two servers on one directory would
// each keep their own policy cache, audit chain head and write queue. A
// FileLock (core/file_lock.h), as is a sync pass's per-peer lock.
class DataDirLock {
 public:
  // Takes the lock and writes this process id into the lock file.
  // Conflict naming the holder's pid when another process holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);

 private:
  explicit DataDirLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

// The options of a command's `--db` (empty: DIR/ctihub.db).
inline HubOpenOptions HubDb(std::string db_url) {
  HubOpenOptions o;
  o.db_url = std::move(db_url);
  return o;
}

// Opens (and, for SQLite, migrates) the store of `data_dir`, or the
// PostgreSQL database of opts.db_url. NotFound with a hint to run `ctihub
// init` when the data directory (or its SQLite database) does not exist and
// create is false; InvalidArgument "bad_db_url" for a --db that is not a
// postgresql:// URL.
Result<std::unique_ptr<store::Store>> OpenHubStore(const std::string& data_dir,
                                                   const HubOpenOptions& opts = {});

// The node a data directory is: a UUID kept in DIR/node.id, made the first
// time it is asked for (two processes asking at once get the same one). Every
// store opened on the directory writes as this node, and start-up recovery
// finishes and lists only this node's statuses and versions (store.h "crash
// recovery"), so nodes sharing a PostgreSQL database recover independently.
// Unavailable "bad_node_id" when the file cannot be made or does not hold one.
Result<std::string> NodeIdOf(const std::string& data_dir);

// Where the sharing policy's documents are: the database when `hub` keeps
// them (PostgreSQL: every node and the CLI read and write the same ones;
// messages name them database:policy.toml and database:agreements.toml),
// else DATA/policy.toml and DATA/agreements.toml. `hub` (may be nullptr:
// files) must outlive the source.
std::unique_ptr<policy::PolicySource> HubPolicySource(const std::string& data_dir,
                                                      store::Store* hub);

// How often a node looks at the policy's revision: every request for files
// (two stat calls), at most every kDatabasePolicyCheck for the database
// (one indexed read), so a change made anywhere takes effect on every node
// within that bound (docs/ARCHITECTURE.md "PostgreSQL store").
inline constexpr std::chrono::milliseconds kDatabasePolicyCheck{250};
std::chrono::milliseconds PolicyCheckInterval(const store::Store& hub);

// The store's organisations, as the sharing policy merges them on every load.
Result<std::vector<policy::KnownOrg>> KnownOrganisations(store::Store& hub);

}  // namespace ctihub::cli
