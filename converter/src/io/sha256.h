// SHA-256 (FIPS 180-4), used to fingerprint the checkpoint files a .heed model was
// converted from. Portable C++ (no intrinsics), byte-order independent.
// Thread safety: a Sha256 object is not shared; the free functions are reentrant.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace heed::conv {

// Incremental hasher: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // Pads, returns the 32-byte digest and resets the object for a new message.
  std::array<uint8_t, 32> finish();

 private:
  void compress(const uint8_t* block);  // one 64-byte block

  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;     // bytes waiting in buffer_
  uint64_t total_bytes_ = 0;
};

// Lower-case hex (64 characters) of a 32-byte digest.
std::string sha256_digest_hex(const std::array<uint8_t, 32>& digest);

// Lower-case hex SHA-256 of a buffer. data may be null when size is 0.
std::string sha256_hex(const void* data, size_t size);

// Lower-case hex SHA-256 of a file's contents, read in 1 MiB chunks. HEED_ERROR_IO if the
// file cannot be opened or read or is not a regular file; *hex is written only on success.
Status sha256_file_hex(const std::string& path, std::string* hex);

}  // namespace heed::conv
