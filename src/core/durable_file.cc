#include "core/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ctihub {
namespace {

namespace fs = std::filesystem;

Status Fail(std::string_view error_name, const std::string& what) {
  return Unavailable(std::string(error_name), what);
}

// The rename is durable only once the directory entry is on disk.
Status SyncDirectory(const std::string& dir, std::string_view error_name) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Fail(error_name, dir + ": cannot open");
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Fail(error_name, dir + ": fsync failed");
}

}  // namespace

Status WriteFileDurably(const std::string& path, std::string_view text, std::string_view error_name,
                        unsigned mode) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return Fail(error_name, parent.string() + ": " + ec.message());
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Fail(error_name, tmp + ": cannot create");
  // open() applies the umask; the mode asked for is the mode meant.
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Fail(error_name, path + ": cannot write");
  }
  return SyncDirectory(parent.string(), error_name);
}

Result<std::optional<std::string>> ReadFileIfPresent(const std::string& path,
                                                     std::string_view error_name) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec) return Fail(error_name, path + ": " + ec.message());
    return std::optional<std::string>();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(error_name, path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Fail(error_name, path + ": read failed");
  return std::optional<std::string>(ss.str());
}

}  // namespace ctihub
