#include "write-file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli.h"

namespace heed::cli {

bool write_whole_file(const std::string& path, const std::string& data, std::string* err) {
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) {
    *err = "cannot write " + escape_text(path) + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += size_t(n);
  }
  const int write_errno = errno;
  // The file's mode as a plain open would make it (mkstemp gives 0600).
  const mode_t mask = umask(0);
  umask(mask);
  const bool mode_ok = fchmod(fd, 0666 & ~mask) == 0;
  const bool closed = ::close(fd) == 0;
  if (done != data.size() || !closed || !mode_ok) {
    *err = "cannot write " + escape_text(path) + ": " + std::strerror(done != data.size() ? write_errno : errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    *err = "cannot write " + escape_text(path) + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool same_file(const std::string& path, const std::string& other) {
  struct stat a, b;
  return ::stat(path.c_str(), &a) == 0 && ::stat(other.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

}  // namespace heed::cli
