// Reader for Hugging Face safetensors checkpoints (one file or a directory of shards).
//
// File layout: u64 little-endian N | N bytes of JSON header | data section.
//   header = {"<name>": {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]},
//             ..., "__metadata__": {...}}
//   offsets are relative to the start of the data section; end is exclusive.
//
// Everything in a file is untrusted (docs/SECURITY.md H1). open_file() validates the whole
// header before adding anything: size >= 8, N <= kSafeTensorsMaxHeaderBytes and within
// the file, header is a JSON object, each entry has a known dtype string, a shape of at
// most kSafeTensorsMaxRank non-negative integer dims, and exactly two integer offsets with
// begin <= end <= data section length; element and byte counts use checked arithmetic and
// must equal end - begin; non-empty tensors of one file must not overlap; names must be
// unique across all opened files. Holes between tensors are allowed. Errors name the file
// (base name) and tensor, e.g.
//   "model.safetensors: tensor 'w': data_offsets [0, 100] hold 100 bytes, shape [30522, 384]
//    of F32 needs 46881792"
// and are HEED_ERROR_INVALID_ARGUMENT (malformed content), HEED_ERROR_IO (open/stat/mmap
// failures) or HEED_ERROR_UNSUPPORTED (read_f32 on a non-float dtype). A failed open_file
// leaves the object unchanged.
//
// Lifetime: files are mapped read-only (MAP_PRIVATE) until destruction; data reads go
// through the mapping. A file truncated by someone else while mapped can raise SIGBUS;
// checkpoints are expected to stay unchanged during conversion.
// Thread safety: const member functions may run concurrently; open_* may not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace heed::conv {

// The header caps. 100 MiB is about the reference implementation's own limit; the
// value cap (a tensor entry is about 8 JSON values) bounds the header's DOM
// whatever its bytes hold, e.g. one array of 50 million zeros; depth 3 is the
// format's (header -> entry -> shape).
inline constexpr uint64_t kSafeTensorsMaxHeaderBytes = uint64_t{100} << 20;
inline constexpr size_t kSafeTensorsMaxHeaderValues = size_t{1} << 21;
inline constexpr size_t kSafeTensorsMaxHeaderDepth = 3;
inline constexpr size_t kSafeTensorsMaxRank = 16;
// Shards of one checkpoint (each is mapped for the whole conversion).
inline constexpr size_t kSafeTensorsMaxFiles = 1024;

struct SafeTensorInfo {
  std::string name;
  std::string dtype;           // as in the file: "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;  // each dim >= 0; empty = scalar (one element)
  uint64_t begin = 0, end = 0; // byte range within the file's data section
  size_t file = 0;             // index into SafeTensors::files()
};

// Bytes per element of a safetensors dtype string, or 0 if unknown/unsupported. Known:
// BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 (1), U16 I16 F16 BF16 (2), U32 I32 F32 (4),
// U64 I64 F64 (8). Sub-byte types (F4, F6_*) are reported as unknown.
size_t safetensors_dtype_size(std::string_view dtype);

// Exact conversions (subnormals, infinities and NaN payload bits preserved).
float f16_bits_to_f32(uint16_t bits);
float bf16_bits_to_f32(uint16_t bits);

namespace detail {
// Read-only whole-file mapping; move-only, unmaps on destruction.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  ~MappedFile();

  Status map(const std::string& path);  // regular files only; empty files map to size 0
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};
}  // namespace detail

class SafeTensors {
 public:
  SafeTensors() = default;
  SafeTensors(const SafeTensors&) = delete;
  SafeTensors& operator=(const SafeTensors&) = delete;
  SafeTensors(SafeTensors&&) = default;
  SafeTensors& operator=(SafeTensors&&) = default;
  ~SafeTensors();  // unmaps

  // Maps and validates one file and adds its tensors (file order). May be called for
  // several shard files; names must stay unique across them.
  Status open_file(const std::string& path);
  // Opens every "*.safetensors" entry of dir, sorted by name; hidden files are skipped.
  // Each must be a regular file (or a symlink to one): anything else is an error naming
  // it. Error if there is none.
  Status open_dir(const std::string& dir);

  const std::vector<SafeTensorInfo>& tensors() const { return tensors_; }
  const SafeTensorInfo* find(std::string_view name) const;
  const std::vector<std::string>& files() const { return paths_; }  // paths as given

  // Element count (product of dims; 1 for a scalar). Cannot overflow for an opened tensor.
  static uint64_t element_count(const SafeTensorInfo& t);

  // Converts F32/F16/BF16 (little-endian) to float; out is resized to element_count(t).
  // HEED_ERROR_UNSUPPORTED naming file and tensor for other dtypes; HEED_ERROR_INVALID_ARGUMENT
  // if t does not describe a tensor of this object.
  Status read_f32(const SafeTensorInfo& t, std::vector<float>* out) const;

  // The tensor's raw little-endian bytes inside the mapping (valid while *this lives).
  // *data may be null when *size is 0.
  Status raw_bytes(const SafeTensorInfo& t, const uint8_t** data, size_t* size) const;

 private:
  struct File {
    detail::MappedFile map;
    std::string name;         // base name, for messages
    uint64_t data_start = 0;  // 8 + header length
  };
  Status check_info(const SafeTensorInfo& t, const File** file) const;

  std::vector<std::string> paths_;
  std::vector<File> files_;
  std::vector<SafeTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;  // name -> tensors_ index
};

}  // namespace heed::conv
