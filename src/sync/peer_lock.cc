// The per-peer pass lock (peer_lock.h).
#include "sync/peer_lock.h"

#include <filesystem>
#include <system_error>
#include <utility>

namespace ctihub::sync {

namespace fs = std::filesystem;

std::string PeerLock::PathOf(const std::string& data_dir, std::string_view peer) {
  return (fs::path(data_dir) / "sync" / (std::string(peer) + ".lock")).string();
}

Result<std::unique_ptr<PeerLock>> PeerLock::Acquire(const std::string& data_dir,
                                                    std::string_view peer) {
  const fs::path dir = fs::path(data_dir) / "sync";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir.string() + ": " + ec.message());
  std::string pid;
  auto lock = FileLock::Acquire(PathOf(data_dir, peer), &pid);
  if (!lock.ok()) {
    if (lock.status().code() != ErrorCode::kConflict) return lock.status();
    return Conflict("peer_busy", "another pass of peer " + std::string(peer) + " is running (pid " +
                                     (pid.empty() ? "unknown" : pid) + ")");
  }
  return std::unique_ptr<PeerLock>(new PeerLock(std::move(*lock)));
}

}  // namespace ctihub::sync
