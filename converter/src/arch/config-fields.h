// config.json checks shared by the arch/ mappers: every error names the file
// and the field (docs/SECURITY.md).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "hf/hf-dir.h"

namespace heed::conv {

class ConfigFields {
 public:
  explicit ConfigFields(const HfDir& dir) : j_(dir.config), src_(dir.config_name) {}

  // The field is there and not null (absent or null: transformers' default).
  bool present(const char* field) const {
    const JsonValue* v = j_.find(field);
    return v && !v->is_null();
  }
  Status range(const char* field, int64_t v, int64_t lo, int64_t hi) const {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field '%s' is %lld, outside %lld..%lld", src_.c_str(), field,
                         (long long)v, (long long)lo, (long long)hi);
  }
  Status bad(const char* field, const char* why) const {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: field '%s' %s", src_.c_str(), field, why);
  }

 private:
  const JsonValue& j_;
  const std::string& src_;
};

}  // namespace heed::conv
