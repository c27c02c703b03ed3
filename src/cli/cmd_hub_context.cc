// Implementation of hub_context.h (named cmd_*.cc so the CLI target's glob
// compiles it).
#include <filesystem>
#include <system_error>

#include "cli/hub_context.h"

namespace ctihub::cli {

namespace fs = std::filesystem;

std::string DatabasePath(const std::string& data_dir) {
  return (fs::path(data_dir) / kDatabaseFile).string();
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
