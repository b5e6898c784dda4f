// Reading a checkpoint's weights by name with the shape the architecture
// expects; every value must be finite (shared by the arch/ mappers).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/safetensors.h"

namespace heed::conv {

class WeightReader {
 public:
  WeightReader(const SafeTensors& st, std::string prefix) : st_(st), prefix_(std::move(prefix)) {}

  // Reads `name` (after the prefix) with the expected shape.
  Status read(const std::string& name, std::vector<int64_t> shape, std::vector<float>* out,
              const char* alt = nullptr) const {
    std::string full = prefix_ + name;
    const SafeTensorInfo* t = st_.find(full);
    if (!t && alt) {
      full = prefix_ + alt;
      t = st_.find(full);
    }
    if (!t) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: missing tensor '%s'", file_list().c_str(),
                           (prefix_ + name).c_str());
    }
    if (t->shape != shape) {
      std::string want, got;
      for (auto d : shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
      for (auto d : t->shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: tensor '%s' has shape [%s], expected [%s]",
                           st_.files()[t->file].c_str(), full.c_str(), got.c_str(), want.c_str());
    }
    HEED_RETURN_IF_ERROR(st_.read_f32(*t, out));
    for (size_t i = 0; i < out->size(); ++i) {
      if (!std::isfinite((*out)[i])) {
        return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: tensor '%s' holds a non-finite value (%g) at element %zu",
                             st_.files()[t->file].c_str(), full.c_str(), double((*out)[i]), i);
      }
    }
    return Status::Ok();
  }

 private:
  std::string file_list() const {
    std::string s;
    for (const auto& f : st_.files()) s += (s.empty() ? "" : ", ") + f;
    return s;
  }
  const SafeTensors& st_;
  std::string prefix_;
};

// Whether the checkpoint holds `name`.
inline bool has_tensor(const SafeTensors& st, const std::string& name) { return st.find(name) != nullptr; }

}  // namespace heed::conv
