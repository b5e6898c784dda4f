// libFuzzer target: any byte string as a .safetensors file (docs/SECURITY.md H1).
// open_file must succeed or return an error; every tensor of an opened file
// must read (float dtypes) or be refused as unsupported, within the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz-common.h"
#include "io/safetensors.h"

namespace {

heed::fuzz::TempFile* g_file = nullptr;

bool is_float(const std::string& dtype) { return dtype == "F32" || dtype == "F16" || dtype == "BF16"; }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static heed::fuzz::TempFile file(".safetensors");
  g_file = &file;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace heed::conv;
  g_file->write(data, size);
  SafeTensors st;
  heed::Status s = st.open_file(g_file->path());
  if (!s.ok()) {
    HEED_FUZZ_CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT || s.code() == HEED_ERROR_IO ||
                    s.code() == HEED_ERROR_OUT_OF_MEMORY);
    HEED_FUZZ_CHECK(st.tensors().empty());
    return 0;
  }
  std::vector<float> f;
  uint64_t total = 0;
  for (const SafeTensorInfo& t : st.tensors()) {
    HEED_FUZZ_CHECK(st.find(t.name) != nullptr);
    HEED_FUZZ_CHECK(t.begin <= t.end && t.end <= size);
    const uint8_t* raw = nullptr;
    size_t raw_size = 0;
    HEED_FUZZ_CHECK(st.raw_bytes(t, &raw, &raw_size).ok());
    HEED_FUZZ_CHECK(raw_size == t.end - t.begin);
    HEED_FUZZ_CHECK(raw_size == 0 || raw != nullptr);
    // Read every byte so ASan checks the whole range lies in the mapping.
    volatile uint8_t x = 0;
    for (size_t i = 0; i < raw_size; ++i) x = x ^ raw[i];
    (void)x;
    const uint64_t n = SafeTensors::element_count(t);
    HEED_FUZZ_CHECK(n * safetensors_dtype_size(t.dtype) == raw_size);
    s = st.read_f32(t, &f);
    if (is_float(t.dtype)) {
      HEED_FUZZ_CHECK(s.ok());
      HEED_FUZZ_CHECK(f.size() == n);
    } else {
      HEED_FUZZ_CHECK(s.code() == HEED_ERROR_UNSUPPORTED);
    }
    total += raw_size;
  }
  HEED_FUZZ_CHECK(total <= size);  // non-empty tensors do not overlap
  // A second open of the same file must fail: names are unique across files.
  if (!st.tensors().empty()) {
    const size_t before = st.tensors().size();
    HEED_FUZZ_CHECK(!st.open_file(g_file->path()).ok());
    HEED_FUZZ_CHECK(st.tensors().size() == before);
  }
  return 0;
}
