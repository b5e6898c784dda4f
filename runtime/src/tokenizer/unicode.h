// Character data for the BERT normalizer and pre-tokenizer and the byte-level
// BPE split regex, matching Hugging
// Face `tokenizers` (0.19.1) code point by code point. That library uses older
// Unicode data than Python or Rust today, so these are NOT plain Unicode 14
// properties: see tools/gen-unicode-tables.py, which generates the tables in
// unicode-tables.cc (checked in; rerun the script after editing it).
//
// All functions are pure, allocation-free and thread-safe. Code points above
// U+10FFFF are accepted and treated as controls with no mappings.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heed {
namespace unicode {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr int kMaxDecomposition = 4;  // longest full canonical decomposition

extern const char kUnicodeDataVersion[];  // unicodedata version the tables start from

// Bits returned by flags().
enum : uint32_t {
  kControl = 1,      // removed by clean_text: Cc, Cf, Co (HF's data), U+0000, U+FFFD;
                     // not \t \n \r. Unassigned code points are NOT controls.
  kWhitespace = 2,   // Unicode White_Space (Rust char::is_whitespace)
  kPunctuation = 4,  // ASCII punctuation or general category P* (HF's data)
  kNonspacingMark = 8,  // general category Mn (HF's data): removed by strip_accents
  kLetter = 16,      // general category L* (\p{L} of the byte-level BPE split regex)
  kNumber = 32,      // general category N* (\p{N} of the byte-level BPE split regex)
};

uint32_t flags(uint32_t cp);

// Canonical combining class (HF's NFD data: 0 for marks it does not know).
uint32_t combining_class(uint32_t cp);

// Full canonical decomposition of one code point (Hangul included), in
// canonical order. Returns the count (1 and out[0] == cp when unchanged).
int decompose(uint32_t cp, uint32_t out[kMaxDecomposition]);

// Rust char::to_lowercase: one code point, or two for U+0130 ("i\u0307").
int to_lower(uint32_t cp, uint32_t out[2]);

// BertNormalizer's "Chinese character" blocks (CJK ideographs), padded with spaces.
inline bool is_cjk(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

}  // namespace unicode
}  // namespace heed
