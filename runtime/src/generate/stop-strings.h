// StopStrings: finds stop strings in generated text as it streams, and holds
// back the text that could still become one.
//
// Text arrives in pieces (one per generated token, from the streaming
// decoder). Each feed appends a piece and
//  - if the text so far contains a stop string (its earliest occurrence over
//    all the strings): releases the text before it and reports the stop; the
//    stop string and everything after it are never released;
//  - else releases everything except the longest end of the text that is the
//    start of some stop string (at most longest - 1 bytes), which waits for
//    the next piece. A feed marked `last` releases that tail too (no stop
//    string can complete any more).
// Stop strings must be valid UTF-8 (checked). The decoder's pieces are valid
// UTF-8 of whole characters, so a match starts on a character boundary, and
// a held-back tail starts on one too (it begins with a stop string's lead
// byte): released text never ends inside a character.
//
// Memory: the caller gives one buffer of buffer_bytes(max_piece) bytes;
// begin, feed and finish make no heap call. Released text points into that
// buffer and stays valid until the next feed. The strings themselves are not
// copied: they must outlive the feeds.
#pragma once

#include <cstddef>

#include "core/status.h"
#include "heed/heed.h"

namespace heed {

class StopStrings {
 public:
  static constexpr size_t kMaxStrings = HEED_MAX_STOP_STRINGS;     // per generation (16)
  static constexpr size_t kMaxBytes = HEED_MAX_STOP_STRING_BYTES;  // per stop string (256)

  // Bytes of buffer for pieces of at most max_piece bytes: the longest
  // possible hold-back (kMaxBytes - 1) plus one piece.
  static size_t buffer_bytes(size_t max_piece) { return kMaxBytes - 1 + max_piece; }

  // HEED_ERROR_INVALID_ARGUMENT naming `what` and the index: strings NULL
  // with count > 0, count > kMaxStrings, a NULL or empty string, one longer
  // than kMaxBytes, one that is not valid UTF-8. NUL-terminated strings.
  static Status check(const char* const* strings, size_t count, const char* what);

  // Starts a new text. strings: checked by check(); count 0 makes feed
  // release every piece at once.
  void begin(const char* const* strings, size_t count, char* buffer, size_t capacity);

  // Appends a piece (at most capacity - (kMaxBytes - 1) bytes; more is
  // HEED_ERROR_INTERNAL). *out / *out_len: the text released now. *stopped:
  // a stop string is complete (then later feeds release nothing).
  Status feed(const char* piece, size_t len, bool last, const char** out, size_t* out_len, bool* stopped);

  bool stopped() const { return stopped_; }
  // Bytes held back now.
  size_t pending() const { return pending_; }

 private:
  const char* const* strings_ = nullptr;
  size_t lens_[kMaxStrings] = {};
  size_t count_ = 0;
  size_t longest_ = 0;
  char* buf_ = nullptr;
  size_t capacity_ = 0;
  size_t released_ = 0;  // bytes at the buffer's start released by the last feed
  size_t pending_ = 0;   // bytes held back, after them
  bool stopped_ = false;
};

}  // namespace heed
