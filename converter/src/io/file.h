// Files of the converter: one place for the checks every reader and the
// writer need (I1 and I3 of docs/SECURITY.md).
//  - Inputs are opened with O_NONBLOCK, so a FIFO cannot block the open, and
//    must be regular files: a FIFO, directory or device is an error naming
//    the path, never data.
//  - Reads are capped: read_file() refuses a file above the caller's cap
//    before allocating anything.
//  - The output is written to a temporary file created exclusively (O_EXCL:
//    a planted symlink is never followed) in the output's directory, and
//    renamed over the output when complete; an output that is one of the
//    inputs (same device and inode: also through symlinks or hard links) is
//    refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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

// Whole regular file into *out. HEED_ERROR_IO as InputFile::open, or
// HEED_ERROR_OUT_OF_MEMORY naming the path, its size and the cap when it is
// larger than max_bytes (checked before allocating).
Status read_file(const std::string& path, uint64_t max_bytes, std::string* out);

enum class PathKind { kMissing, kRegular, kDirectory, kOther };
// What `path` is (symlinks followed; a dangling one is kMissing).
PathKind path_kind(const std::string& path);
// "a directory", "a FIFO", "a device", ... for messages about kOther/kDirectory.
const char* path_kind_name(const std::string& path);

// Writes `bytes` to `path` atomically (see the top of this file). `inputs`:
// files the conversion read; `path` must not be any of them. Errors
// (HEED_ERROR_IO, or HEED_ERROR_INVALID_ARGUMENT for an output that is an
// input or not a regular file) leave `path` as it was.
Status write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes,
                         const std::vector<std::string>& inputs);
// The checks write_file_atomic makes on `path` before writing, to fail before
// a long conversion rather than after it.
Status check_output_path(const std::string& path, const std::vector<std::string>& inputs);

}  // namespace heed::conv
