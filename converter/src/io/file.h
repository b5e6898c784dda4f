// Opening input files of the converter: one place for the checks every reader
// needs (a FIFO or directory must not hang or be read as data).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace heed::conv {

// An open, read-only file descriptor of a regular file; closed on destruction.
class InputFile {
 public:
  InputFile() = default;
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Opens `path` (O_NONBLOCK, so a FIFO cannot block the open) and checks it
  // is a regular file. Errors name the path: HEED_ERROR_IO.
  Status open(const std::string& path);
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace heed::conv
