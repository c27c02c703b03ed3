// The per-peer pass lock: one pass of a peer at a time, whoever runs it.
//
// A pass (`ctihub sync`, or `ctihub serve`'s scheduler) holds an exclusive,
// non-blocking flock on DATA/sync/PEER.lock (core/file_lock.h) for its whole
// duration, pull and push, so a peer's cursor files (cursor.h) never have two
// writers: `ctihub sync NAME` run by hand while serve syncs NAME in the
// background (or two `ctihub sync` at once) finds the peer busy instead of
// pulling and pushing the same pages a second time. The holder's pid is
// written into the file; the lock goes with the PeerLock object (every path
// out of the pass) or with the process (a crash, kill -9), so a lock file
// left behind never blocks. Passes of different peers never conflict.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/file_lock.h"
#include "core/result.h"

namespace ctihub::sync {

class PeerLock {
 public:
  // DATA/sync/PEER.lock
  static std::string PathOf(const std::string& data_dir, std::string_view peer);

  // Takes the lock of `peer` (creating DATA/sync if missing). Held by another
  // pass: Conflict "peer_busy", "another pass of peer NAME is running (pid N)".
  static Result<std::unique_ptr<PeerLock>> Acquire(const std::string& data_dir,
                                                   std::string_view peer);

 private:
  explicit PeerLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

}  // namespace ctihub::sync
