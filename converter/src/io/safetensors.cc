#include "io/safetensors.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

#include "io/file.h"
#include "io/json.h"

namespace heed::conv {

// ---------------------------------------------------------------------------------------
// dtype helpers

size_t safetensors_dtype_size(std::string_view dtype) {
  struct Entry {
    const char* name;
    size_t size;
  };
  static constexpr Entry kTable[] = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
      {"U16", 2},  {"I16", 2}, {"F16", 2}, {"BF16", 2},    {"U32", 4},     {"I32", 4},
      {"F32", 4},  {"U64", 8}, {"I64", 8}, {"F64", 8},
  };
  for (const Entry& e : kTable) {
    if (dtype == e.name) return e.size;
  }
  return 0;
}

namespace {

float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

float f16_bits_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  uint32_t mant = h & 0x3FF;
  if (exp == 0x1F) return bits_to_float(sign | 0x7F800000u | (mant << 13));  // inf, NaN (payload kept)
  if (exp != 0) return bits_to_float(sign | ((exp + 127 - 15) << 23) | (mant << 13));
  if (mant == 0) return bits_to_float(sign);  // +-0
  // Subnormal: mant * 2^-24. Shift the leading 1 up to bit 10 to normalize.
  int e = 127 - 15 + 1;
  while ((mant & 0x400) == 0) {
    mant <<= 1;
    --e;
  }
  return bits_to_float(sign | (static_cast<uint32_t>(e) << 23) | ((mant & 0x3FF) << 13));
}

float bf16_bits_to_f32(uint16_t bits) { return bits_to_float(uint32_t{bits} << 16); }

// ---------------------------------------------------------------------------------------
// MappedFile

namespace detail {

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

Status MappedFile::map(const std::string& path) {
  InputFile file;
  HEED_RETURN_IF_ERROR(file.open(path));
  const int fd = file.fd();
  if (file.size() > SIZE_MAX) {
    return Status::Error(HEED_ERROR_IO, "%s: file too large to map on this platform", path.c_str());
  }
  const size_t size = static_cast<size_t>(file.size());
  const uint8_t* data = nullptr;
  if (size > 0) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      return Status::Error(HEED_ERROR_IO, "%s: mmap failed: %s", path.c_str(), std::strerror(errno));
    }
    data = static_cast<const uint8_t*>(p);
  }
  *this = MappedFile();
  data_ = data;
  size_ = size;
  return Status::Ok();
}

}  // namespace detail

// ---------------------------------------------------------------------------------------
// Header validation

namespace {

constexpr heed_status kBad = HEED_ERROR_INVALID_ARGUMENT;

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string format_shape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Checked a * b for uint64.
bool mul_u64(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > UINT64_MAX / a) return false;
  *out = a * b;
  return true;
}

// Validates one header entry into *t (name and file set by the caller).
Status parse_entry(const std::string& file, const std::string& name, const JsonValue& entry,
                   uint64_t data_size, SafeTensorInfo* t) {
  const char* f = file.c_str();
  const char* n = name.c_str();
  if (!entry.is_object()) return Status::Error(kBad, "%s: tensor '%s': entry is not a JSON object", f, n);

  const JsonValue* dtype = entry.find("dtype");
  if (dtype == nullptr) return Status::Error(kBad, "%s: tensor '%s': missing 'dtype'", f, n);
  if (!dtype->is_string()) return Status::Error(kBad, "%s: tensor '%s': 'dtype' must be a string", f, n);
  t->dtype = dtype->as_string();
  const size_t dtype_size = safetensors_dtype_size(t->dtype);
  if (dtype_size == 0) {
    return Status::Error(kBad, "%s: tensor '%s': unknown dtype '%s'", f, n, t->dtype.c_str());
  }

  const JsonValue* shape = entry.find("shape");
  if (shape == nullptr) return Status::Error(kBad, "%s: tensor '%s': missing 'shape'", f, n);
  if (!shape->is_array()) return Status::Error(kBad, "%s: tensor '%s': 'shape' must be an array", f, n);
  if (shape->items().size() > kSafeTensorsMaxRank) {
    return Status::Error(kBad, "%s: tensor '%s': rank %zu exceeds the cap of %zu", f, n,
                         shape->items().size(), kSafeTensorsMaxRank);
  }
  t->shape.clear();
  for (size_t i = 0; i < shape->items().size(); ++i) {
    int64_t dim = 0;
    if (!shape->items()[i].as_int64(&dim) || dim < 0) {
      return Status::Error(kBad, "%s: tensor '%s': shape[%zu] must be a non-negative integer", f, n, i);
    }
    t->shape.push_back(dim);
  }
  uint64_t elements = 1;
  for (int64_t dim : t->shape) {
    if (!mul_u64(elements, static_cast<uint64_t>(dim), &elements)) {
      return Status::Error(kBad, "%s: tensor '%s': shape %s: element count overflows 64 bits", f, n,
                           format_shape(t->shape).c_str());
    }
  }
  uint64_t bytes = 0;
  if (!mul_u64(elements, dtype_size, &bytes)) {
    return Status::Error(kBad, "%s: tensor '%s': shape %s of %s: byte count overflows 64 bits", f, n,
                         format_shape(t->shape).c_str(), t->dtype.c_str());
  }

  const JsonValue* offsets = entry.find("data_offsets");
  if (offsets == nullptr) return Status::Error(kBad, "%s: tensor '%s': missing 'data_offsets'", f, n);
  int64_t begin = -1, end = -1;
  if (!offsets->is_array() || offsets->items().size() != 2 || !offsets->items()[0].as_int64(&begin) ||
      !offsets->items()[1].as_int64(&end) || begin < 0 || end < 0) {
    return Status::Error(kBad,
                         "%s: tensor '%s': 'data_offsets' must be [begin, end] of non-negative integers",
                         f, n);
  }
  t->begin = static_cast<uint64_t>(begin);
  t->end = static_cast<uint64_t>(end);
  if (t->end < t->begin) {
    return Status::Error(kBad, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "]: end before begin",
                         f, n, t->begin, t->end);
  }
  if (t->end > data_size) {
    return Status::Error(kBad,
                         "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                         "] end beyond the %" PRIu64 "-byte data section",
                         f, n, t->begin, t->end, data_size);
  }
  if (t->end - t->begin != bytes) {
    return Status::Error(kBad,
                         "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64
                         " bytes, shape %s of %s needs %" PRIu64,
                         f, n, t->begin, t->end, t->end - t->begin, format_shape(t->shape).c_str(),
                         t->dtype.c_str(), bytes);
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// SafeTensors

SafeTensors::~SafeTensors() = default;

Status SafeTensors::open_file(const std::string& path) {
  try {
    File file;
    file.name = base_name(path);
    const char* f = file.name.c_str();
    HEED_RETURN_IF_ERROR(file.map.map(path));
    const uint8_t* bytes = file.map.data();
    const uint64_t size = file.map.size();
    if (size < 8) {
      return Status::Error(kBad, "%s: file is %" PRIu64 " bytes, too short for the 8-byte header length",
                           f, size);
    }
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
    if (header_len > kSafeTensorsMaxHeaderBytes) {
      return Status::Error(kBad, "%s: header length %" PRIu64 " exceeds the %" PRIu64 "-byte cap", f,
                           header_len, kSafeTensorsMaxHeaderBytes);
    }
    if (header_len > size - 8) {
      return Status::Error(kBad, "%s: header length %" PRIu64 " exceeds the %" PRIu64
                           " bytes after the length field", f, header_len, size - 8);
    }
    file.data_start = 8 + header_len;
    const uint64_t data_size = size - file.data_start;

    JsonValue header;
    const std::string source = file.name + " header";
    JsonLimits limits;
    limits.max_values = kSafeTensorsMaxHeaderValues;
    limits.max_depth = kSafeTensorsMaxHeaderDepth;
    HEED_RETURN_IF_ERROR(json_parse(
        std::string_view(reinterpret_cast<const char*>(bytes + 8), static_cast<size_t>(header_len)),
        source, &header, limits));
    if (!header.is_object()) return Status::Error(kBad, "%s: header is not a JSON object", f);

    const size_t file_index = files_.size();
    std::vector<SafeTensorInfo> added;
    std::unordered_map<std::string, size_t> added_index;
    for (const auto& member : header.members()) {
      const std::string& name = member.first;
      if (name == "__metadata__") {
        if (!member.second.is_object() && !member.second.is_null()) {
          return Status::Error(kBad, "%s: '__metadata__' must be a JSON object", f);
        }
        continue;
      }
      SafeTensorInfo t;
      t.name = name;
      t.file = file_index;
      HEED_RETURN_IF_ERROR(parse_entry(file.name, name, member.second, data_size, &t));
      if (!added_index.emplace(name, added.size()).second) {
        return Status::Error(kBad, "%s: tensor '%s': duplicate name in the header", f, name.c_str());
      }
      const auto other = index_.find(name);
      if (other != index_.end()) {
        return Status::Error(kBad, "%s: tensor '%s': already defined in %s", f, name.c_str(),
                             files_[tensors_[other->second].file].name.c_str());
      }
      added.push_back(std::move(t));
    }

    // Overlap: sort non-empty ranges by begin; each must start at or after the previous end.
    std::vector<size_t> order;
    for (size_t i = 0; i < added.size(); ++i) {
      if (added[i].end > added[i].begin) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return added[a].begin != added[b].begin ? added[a].begin < added[b].begin : a < b;
    });
    for (size_t k = 1; k < order.size(); ++k) {
      const SafeTensorInfo& prev = added[order[k - 1]];
      const SafeTensorInfo& cur = added[order[k]];
      if (cur.begin < prev.end) {
        return Status::Error(kBad,
                             "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                             "] overlap tensor '%s' [%" PRIu64 ", %" PRIu64 "]",
                             f, cur.name.c_str(), cur.begin, cur.end, prev.name.c_str(), prev.begin,
                             prev.end);
      }
    }

    // Commit. Reserve first so that the pushes below cannot fail half-way.
    paths_.reserve(paths_.size() + 1);
    files_.reserve(files_.size() + 1);
    tensors_.reserve(tensors_.size() + added.size());
    index_.reserve(index_.size() + added.size());
    paths_.push_back(path);
    files_.push_back(std::move(file));
    for (SafeTensorInfo& t : added) {
      index_.emplace(t.name, tensors_.size());
      tensors_.push_back(std::move(t));
    }
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%s: out of memory while reading the header",
                         path.c_str());
  }
}

Status SafeTensors::open_dir(const std::string& dir) {
  std::vector<std::string> names;
  try {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
      return Status::Error(HEED_ERROR_IO, "%s: cannot open directory: %s", dir.c_str(),
                           std::strerror(errno));
    }
    struct DirCloser {
      DIR* d;
      ~DirCloser() { ::closedir(d); }
    } closer{d};
    static constexpr std::string_view kSuffix = ".safetensors";
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name(e->d_name);
      if (name.empty() || name[0] == '.' || name.size() <= kSuffix.size() ||
          name.substr(name.size() - kSuffix.size()) != kSuffix) {
        continue;
      }
      names.emplace_back(name);
    }
  } catch (const std::bad_alloc&) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%s: out of memory", dir.c_str());
  }
  std::sort(names.begin(), names.end());
  if (names.size() > kSafeTensorsMaxFiles) {
    return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: %zu *.safetensors files, more than the cap of %zu", dir.c_str(),
                         names.size(), kSafeTensorsMaxFiles);
  }
  const std::string prefix = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  size_t opened = 0;
  for (const std::string& name : names) {
    const std::string path = prefix + name;
    // A FIFO, directory or dangling link under a shard's name is an error
    // naming it (open_file refuses it without blocking), never skipped.
    HEED_RETURN_IF_ERROR(open_file(path));
    ++opened;
  }
  if (opened == 0) return Status::Error(HEED_ERROR_IO, "%s: no *.safetensors files", dir.c_str());
  return Status::Ok();
}

const SafeTensorInfo* SafeTensors::find(std::string_view name) const {
  const auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t SafeTensors::element_count(const SafeTensorInfo& t) {
  uint64_t n = 1;
  for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
  return n;
}

Status SafeTensors::check_info(const SafeTensorInfo& t, const File** file) const {
  // t is normally one of tensors_; a copy from elsewhere is range-checked against the map.
  if (t.file >= files_.size()) {
    return Status::Error(kBad, "tensor '%s': file index %zu out of range", t.name.c_str(), t.file);
  }
  const File& fl = files_[t.file];
  const uint64_t data_size = fl.map.size() - fl.data_start;
  if (t.end < t.begin || t.end > data_size) {
    return Status::Error(kBad, "%s: tensor '%s': range outside the data section", fl.name.c_str(),
                         t.name.c_str());
  }
  *file = &fl;
  return Status::Ok();
}

Status SafeTensors::raw_bytes(const SafeTensorInfo& t, const uint8_t** data, size_t* size) const {
  const File* fl = nullptr;
  HEED_RETURN_IF_ERROR(check_info(t, &fl));
  *size = static_cast<size_t>(t.end - t.begin);
  *data = *size == 0 ? nullptr : fl->map.data() + fl->data_start + t.begin;
  return Status::Ok();
}

Status SafeTensors::read_f32(const SafeTensorInfo& t, std::vector<float>* out) const {
  const File* fl = nullptr;
  HEED_RETURN_IF_ERROR(check_info(t, &fl));
  const size_t dsize = safetensors_dtype_size(t.dtype);
  const bool is_f32 = t.dtype == "F32", is_f16 = t.dtype == "F16", is_bf16 = t.dtype == "BF16";
  if (!is_f32 && !is_f16 && !is_bf16) {
    return Status::Error(HEED_ERROR_UNSUPPORTED,
                         "%s: tensor '%s': dtype %s cannot be read as float (need F32, F16 or BF16)",
                         fl->name.c_str(), t.name.c_str(), t.dtype.c_str());
  }
  // Recheck bytes == elements * size with checked arithmetic: t may not come from open_file.
  uint64_t elements = 1;
  for (int64_t d : t.shape) {
    if (d < 0 || !mul_u64(elements, static_cast<uint64_t>(d), &elements)) elements = UINT64_MAX;
  }
  if (elements == UINT64_MAX || elements > SIZE_MAX / sizeof(float) ||
      elements * dsize != t.end - t.begin) {
    return Status::Error(kBad, "%s: tensor '%s': shape does not match its byte range",
                         fl->name.c_str(), t.name.c_str());
  }
  try {
    out->resize(static_cast<size_t>(elements));
  } catch (const std::bad_alloc&) {
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "%s: tensor '%s': out of memory for %" PRIu64
                         " floats", fl->name.c_str(), t.name.c_str(), elements);
  }
  const uint8_t* src = fl->map.data() + fl->data_start + t.begin;  // may be unaligned
  const size_t n = static_cast<size_t>(elements);
  float* dst = out->data();
  if (is_f32) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n > 0) std::memcpy(dst, src, n * sizeof(float));
#else
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* b = src + 4 * i;
      dst[i] = bits_to_float(uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 |
                             uint32_t{b[3]} << 24);
    }
#endif
  } else {
    for (size_t i = 0; i < n; ++i) {
      const uint16_t bits = static_cast<uint16_t>(src[2 * i] | src[2 * i + 1] << 8);
      dst[i] = is_f16 ? f16_bits_to_f32(bits) : bf16_bits_to_f32(bits);
    }
  }
  return Status::Ok();
}

}  // namespace heed::conv
