// Implementation of hub_context.h (named cmd_*.cc so the CLI target's glob
// compiles it).
#include <filesystem>
#include <string>
#include <system_error>

#include "cli/hub_context.h"

namespace ctihub::cli {

namespace fs = std::filesystem;

std::string DatabasePath(const std::string& data_dir) {
  return (fs::path(data_dir) / kDatabaseFile).string();
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  const std::string path = (fs::path(data_dir) / "serve.lock").string();
  std::string pid;
  auto lock = FileLock::Acquire(path, &pid);
  if (!lock.ok()) {
    if (lock.status().code() != ErrorCode::kConflict) return lock.status();
    return Conflict("data directory " + data_dir + " is in use by another ctihub serve (pid " +
                    (pid.empty() ? std::string("unknown") : pid) + ", lock " + path + ")");
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(std::move(*lock)));
}

Result<std::vector<policy::KnownOrg>> KnownOrganisations(store::Store& hub) {
  CTIHUB_ASSIGN_OR_RETURN(auto orgs, hub.ListOrganisations());
  std::vector<policy::KnownOrg> known;
  known.reserve(orgs.size());
  for (const auto& o : orgs) known.push_back({o.name, o.identity_id});
  return known;
}

Result<std::unique_ptr<store::Store>> OpenHubStore(const std::string& data_dir,
                                                   const HubOpenOptions& opts) {
  if (data_dir.empty()) return InvalidArgument("empty data directory");
  std::error_code ec;
  std::string db = DatabasePath(data_dir);
  if (opts.create) {
    if (!fs::exists(data_dir, ec)) {
      fs::create_directories(data_dir, ec);
      if (ec) return Internal("cannot create " + data_dir + ": " + ec.message());
      // The database holds password and token hashes: keep it private.
      fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    } else if (!fs::is_directory(data_dir, ec)) {
      return InvalidArgument(data_dir + " exists and is not a directory");
    }
  } else if (!fs::exists(db, ec)) {
    return NotFound("no hub database at " + db + " (run `ctihub init --data " + data_dir + "`)");
  }
  store::SqliteOptions so;
  so.path = db;
  so.reader_connections = opts.reader_connections;
  so.max_batch_objects = opts.max_batch_objects;
  return store::OpenSqliteStore(so);
}

}  // namespace ctihub::cli
