// Status: an error code plus a fixed-size message. Never allocates, never throws.
// Every fallible function in heed returns a Status (or fills one); callers check
// ok() and propagate with HEED_RETURN_IF_ERROR.
#pragma once

#include <cstdarg>
#include <cstddef>

#include "heed/heed.h"

namespace heed {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  // printf-style message, truncated to kMaxMessage-1 bytes.
  static Status Error(heed_status code, const char* fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 2, 3)))
#endif
      ;

  bool ok() const { return code_ == HEED_OK; }
  heed_status code() const { return code_; }
  const char* message() const { return code_ == HEED_OK ? "ok" : message_; }

  static constexpr size_t kMaxMessage = 256;

 private:
  heed_status code_ = HEED_OK;
  char message_[kMaxMessage] = {0};
};

}  // namespace heed

#define HEED_RETURN_IF_ERROR(expr)          \
  do {                                      \
    ::heed::Status heed_status_ = (expr);   \
    if (!heed_status_.ok()) return heed_status_; \
  } while (0)
