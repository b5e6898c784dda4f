// Strict UTF-8 (RFC 3629): shortest form only, no surrogates, nothing above
// U+10FFFF. Header-only, allocation-free, for the tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heed {
namespace utf8 {

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes the sequence at s[0, n), n >= 1. Returns the bytes consumed: the
// sequence length when it is valid, else 1 with *cp = U+FFFD (so every byte
// that does not start a valid sequence becomes one U+FFFD).
inline size_t decode(const uint8_t* s, size_t n, uint32_t* cp) {
  uint32_t b0 = s[0];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  uint32_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  uint32_t value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    *cp = kReplacement;
    return 1;
  }
  if (n < len || s[1] < lo || s[1] > hi) {
    *cp = kReplacement;
    return 1;
  }
  value = (value << 6) | (s[1] & 0x3F);
  for (size_t i = 2; i < len; ++i) {
    if ((s[i] & 0xC0) != 0x80) {
      *cp = kReplacement;
      return 1;
    }
    value = (value << 6) | (s[i] & 0x3F);
  }
  *cp = value;
  return len;
}

// True when s[0, n) is entirely valid UTF-8.
inline bool valid(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint32_t cp;
    size_t k = decode(s + i, n - i, &cp);
    if (k == 1 && s[i] >= 0x80) return false;  // only ASCII is one byte long
    i += k;
  }
  return true;
}

// Writes cp (<= U+10FFFF, not a surrogate) to out; returns 1..4.
inline size_t encode(uint32_t cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

}  // namespace utf8
}  // namespace heed
