#include "io/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

namespace heed::conv {

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status InputFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::Error(HEED_ERROR_IO, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::Error(HEED_ERROR_IO, "%s: cannot stat: %s", path.c_str(), std::strerror(e));
  }
  if (!S_ISREG(st.st_mode) || st.st_size < 0) {
    ::close(fd);
    return Status::Error(HEED_ERROR_IO, "%s: not a regular file (%s)", path.c_str(), path_kind_name(path));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  size_ = static_cast<uint64_t>(st.st_size);
  return Status::Ok();
}

Status read_file(const std::string& path, uint64_t max_bytes, std::string* out) {
  InputFile file;
  HEED_RETURN_IF_ERROR(file.open(path));
  if (file.size() > max_bytes) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%s: file is %llu bytes, larger than the %llu-byte cap for it",
                         path.c_str(), static_cast<unsigned long long>(file.size()),
                         static_cast<unsigned long long>(max_bytes));
  }
  std::string text;
  try {
    text.resize(static_cast<size_t>(file.size()));
  } catch (const std::bad_alloc&) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%s: out of memory for %llu bytes", path.c_str(),
                         static_cast<unsigned long long>(file.size()));
  }
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(file.fd(), &text[got], text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(HEED_ERROR_IO, "%s: read failed: %s", path.c_str(), std::strerror(errno));
    }
    if (n == 0) break;  // the file shrank since fstat: use what is there
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  *out = std::move(text);
  return Status::Ok();
}

PathKind path_kind(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return PathKind::kMissing;
  if (S_ISREG(st.st_mode)) return PathKind::kRegular;
  if (S_ISDIR(st.st_mode)) return PathKind::kDirectory;
  return PathKind::kOther;
}

const char* path_kind_name(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "missing";
  if (S_ISREG(st.st_mode)) return "a regular file";
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISFIFO(st.st_mode)) return "a FIFO";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
  if (S_ISSOCK(st.st_mode)) return "a socket";
  return "not a regular file";
}

namespace {

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Status check_output_path(const std::string& path, const std::vector<std::string>& inputs) {
  if (path.empty() || path.back() == '/') {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "output path '%s' does not name a file", path.c_str());
  }
  struct stat out;
  if (::stat(path.c_str(), &out) != 0) {
    if (errno == ENOENT) return Status::Ok();  // a new file (its directory is checked when writing)
    return Status::Error(HEED_ERROR_IO, "%s: cannot stat the output: %s", path.c_str(), std::strerror(errno));
  }
  if (!S_ISREG(out.st_mode)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "output %s is %s, not a regular file", path.c_str(),
                         path_kind_name(path));
  }
  for (const std::string& in : inputs) {
    struct stat st;
    if (::stat(in.c_str(), &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "output %s is the input file %s: refusing to overwrite it",
                           path.c_str(), in.c_str());
    }
  }
  return Status::Ok();
}

Status write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes,
                         const std::vector<std::string>& inputs) {
  HEED_RETURN_IF_ERROR(check_output_path(path, inputs));
  std::string tmp = dir_of(path) + "/." + base_of(path) + ".tmp-XXXXXX";
  // mkstemp: O_CREAT | O_EXCL with a fresh random name, mode 0600; an
  // existing file or symlink of that name is never opened.
  const int fd = ::mkstemp(&tmp[0]);
  if (fd < 0) {
    return Status::Error(HEED_ERROR_IO, "%s: cannot create a temporary file in %s: %s", path.c_str(),
                         dir_of(path).c_str(), std::strerror(errno));
  }
  auto fail = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::Error(HEED_ERROR_IO, "%s: %s: %s", path.c_str(), what, std::strerror(err));
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write failed", errno);
    }
    done += static_cast<size_t>(n);
  }
  // The final file gets the usual 0666 & ~umask, not mkstemp's 0600.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) return fail("cannot set permissions", errno);
  if (::fsync(fd) != 0) return fail("fsync failed", errno);
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Status::Error(HEED_ERROR_IO, "%s: close failed: %s", path.c_str(), std::strerror(e));
  }
  // Checked again just before replacing it: the output may have changed
  // during a long conversion.
  Status s = check_output_path(path, inputs);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::Error(HEED_ERROR_IO, "%s: cannot rename into place: %s", path.c_str(), std::strerror(errno));
  }
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

}  // namespace heed::conv
