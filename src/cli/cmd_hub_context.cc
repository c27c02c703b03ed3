// Implementation of hub_context.h (named cmd_*.cc so the CLI target's glob
// compiles it).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "cli/hub_context.h"

namespace ctihub::cli {

namespace fs = std::filesystem;

std::string DatabasePath(const std::string& data_dir) {
  return (fs::path(data_dir) / kDatabaseFile).string();
}

namespace {

// The pid a lock holder wrote into the lock file ("" if unreadable).
std::string HolderPid(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string pid(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  const std::string path = (fs::path(data_dir) / "serve.lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string pid = HolderPid(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Conflict("data directory " + data_dir + " is in use by another ctihub serve (pid " +
                      (pid.empty() ? std::string("unknown") : pid) + ", lock " + path + ")");
    }
    return Internal("cannot lock " + path + ": " + std::strerror(err));
  }
  const std::string self = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, self.data(), self.size(), 0) != static_cast<ssize_t>(self.size())) {
    const int err = errno;
    ::close(fd);
    return Internal("cannot write " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

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
