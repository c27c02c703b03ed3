// Implementation of input.h: zlib's gzread passes plain files through
// unchanged, so one reader serves both; fopencookie turns it into a FILE* for
// stix::BundleReader and getline.
#include "formats/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

namespace ctihub::formats {

Result<std::unique_ptr<Input>> Input::Open(const std::string& path) {
  int fd = path == "-" ? dup(STDIN_FILENO) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string why = std::strerror(err);
    return err == ENOENT ? NotFound("input_not_found", why)
                         : InvalidArgument("unreadable_input", why);
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return InvalidArgument("unreadable_input", "is a directory");
  }
  gzFile gz = gzdopen(fd, "rb");
  if (gz == nullptr) {
    close(fd);
    return Internal("cannot set up the reader");
  }
  gzbuffer(gz, 1u << 18);
  std::unique_ptr<Input> in(new Input());
  in->path_ = path;
  in->gz_ = gz;
  if (path != "-" && S_ISREG(st.st_mode)) in->size_on_disk_ = st.st_size;
  return in;
}

Input::~Input() {
  if (file_ != nullptr) std::fclose(file_);  // does not close gz_: the cookie has no close
  if (gz_ != nullptr) gzclose(static_cast<gzFile>(gz_));
}

std::string_view Input::Peek(size_t n) {
  while (head_.size() < n) {
    size_t want = n - head_.size();
    std::string chunk(want, '\0');
    int got = gzread(static_cast<gzFile>(gz_), chunk.data(), static_cast<unsigned>(want));
    if (got <= 0) break;
    head_.append(chunk.data(), static_cast<size_t>(got));
  }
  return std::string_view(head_).substr(0, n);
}

ssize_t Input::Read(char* buf, size_t size) {
  if (head_pos_ < head_.size()) {
    size_t n = std::min(size, head_.size() - head_pos_);
    std::memcpy(buf, head_.data() + head_pos_, n);
    head_pos_ += n;
    return static_cast<ssize_t>(n);
  }
  if (size > (1u << 30)) size = 1u << 30;
  int got = gzread(static_cast<gzFile>(gz_), buf, static_cast<unsigned>(size));
  if (got < 0) {
    int errnum = 0;
    const char* msg = gzerror(static_cast<gzFile>(gz_), &errnum);
    error_ = msg != nullptr ? msg : "read error";
    return -1;
  }
  return got;
}

ssize_t Input::ReadCookie(void* cookie, char* buf, size_t size) {
  return static_cast<Input*>(cookie)->Read(buf, size);
}

std::FILE* Input::file() {
  if (file_ == nullptr) {
    cookie_io_functions_t io{};
    io.read = &Input::ReadCookie;
    file_ = fopencookie(this, "r", io);
  }
  return file_;
}

int64_t Input::consumed() const { return static_cast<int64_t>(gzoffset(static_cast<gzFile>(gz_))); }

}  // namespace ctihub::formats
