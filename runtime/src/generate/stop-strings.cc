#include "generate/stop-strings.h"

#include <cstring>

#include "tokenizer/utf8.h"

namespace heed {

Status StopStrings::check(const char* const* strings, size_t count, const char* what) {
  if (!strings && count) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s is NULL but its count is %zu", what, count);
  if (count > kMaxStrings) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s: %zu stop strings, at most %zu", what, count, kMaxStrings);
  }
  for (size_t i = 0; i < count; ++i) {
    if (!strings[i]) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s[%zu] is NULL", what, i);
    const size_t n = strnlen(strings[i], kMaxBytes + 1);
    if (n == 0) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s[%zu] is empty", what, i);
    if (n > kMaxBytes) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s[%zu] is longer than %zu bytes", what, i, kMaxBytes);
    }
    if (!utf8::valid(reinterpret_cast<const uint8_t*>(strings[i]), n)) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "%s[%zu] is not valid UTF-8", what, i);
    }
  }
  return Status::Ok();
}

void StopStrings::begin(const char* const* strings, size_t count, char* buffer, size_t capacity) {
  strings_ = strings;
  count_ = count < kMaxStrings ? count : kMaxStrings;
  longest_ = 0;
  for (size_t i = 0; i < count_; ++i) {
    lens_[i] = strnlen(strings_[i], kMaxBytes);
    if (lens_[i] > longest_) longest_ = lens_[i];
  }
  buf_ = buffer;
  capacity_ = capacity;
  released_ = 0;
  pending_ = 0;
  stopped_ = false;
}

Status StopStrings::feed(const char* piece, size_t len, bool last, const char** out, size_t* out_len, bool* stopped) {
  *out = "";
  *out_len = 0;
  *stopped = stopped_;
  if (stopped_) return Status::Ok();
  if (count_ == 0) {  // nothing to look for: the piece as it is
    *out = len ? piece : "";
    *out_len = len;
    return Status::Ok();
  }
  // The tail held back by the last feed moves to the front.
  if (released_) std::memmove(buf_, buf_ + released_, pending_);
  released_ = 0;
  if (pending_ + len > capacity_) {
    return Status::Error(HEED_ERROR_INTERNAL, "stop strings: a piece of %zu bytes exceeds the buffer", len);
  }
  if (len) std::memcpy(buf_ + pending_, piece, len);
  const size_t old = pending_, n = pending_ + len;
  // A new match ends in the new piece: the held-back tail alone had none.
  size_t match = n;
  for (size_t s = 0; s < count_; ++s) {
    const size_t L = lens_[s];
    if (L > n) continue;
    for (size_t p = old + 1 > L ? old + 1 - L : 0; p + L <= n && p < match; ++p) {
      if (std::memcmp(buf_ + p, strings_[s], L) == 0) {
        match = p;
        break;
      }
    }
  }
  if (match < n) {
    stopped_ = true;
    *stopped = true;
    *out = buf_;
    *out_len = match;
    pending_ = 0;
    return Status::Ok();
  }
  // Hold back the longest end of the text that starts some stop string.
  size_t hold = 0;
  if (!last) {
    const size_t most = longest_ - 1 < n ? longest_ - 1 : n;
    for (size_t k = most; k > hold; --k) {
      for (size_t s = 0; s < count_; ++s) {
        if (lens_[s] > k && std::memcmp(buf_ + n - k, strings_[s], k) == 0) {
          hold = k;
          break;
        }
      }
    }
  }
  *out = buf_;
  *out_len = n - hold;
  released_ = n - hold;
  pending_ = hold;
  return Status::Ok();
}

}  // namespace heed
