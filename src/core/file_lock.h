// An exclusive, non-blocking flock(2) on a file, held by one object for its
// lifetime: the one lock implementation of the hub (serve's DATA/serve.lock,
// cli/hub_context.h; a sync pass's DATA/sync/PEER.lock, sync/peer_lock.h).
//
// The holder writes its process id into the file, so a refused caller can
// name it. flock locks belong to the open file description: a second
// FileLock on the same path conflicts even in the same process (two threads
// of one process exclude each other), and the kernel releases the lock when
// the holder closes the file or dies (kill -9 included), so a lock file left
// behind never blocks anyone: only a live holder does.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "core/result.h"

namespace ctihub {

class FileLock {
 public:
  // Opens (creating, mode 0600) `path`, takes the lock without waiting and
  // writes this process id into the file. When another holder has it:
  // Conflict "lock_held", with `*holder_pid` (when given) set to the pid the
  // holder wrote ("" if unreadable). Other failures: Internal.
  static Result<std::unique_ptr<FileLock>> Acquire(const std::string& path,
                                                   std::string* holder_pid = nullptr);
  // Releases the lock (the file stays).
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace ctihub
