#include "core/status.h"

#include <cstdio>

namespace heed {

Status Status::Error(heed_status code, const char* fmt, ...) {
  Status s;
  s.code_ = code == HEED_OK ? HEED_ERROR_INTERNAL : code;
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(s.message_, kMaxMessage, fmt, args);
  va_end(args);
  return s;
}

}  // namespace heed
