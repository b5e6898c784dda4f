// WordPiece tokenizer (BERT): the Hugging Face `tokenizers` pipeline
// BertNormalizer -> BertPreTokenizer -> WordPiece -> [CLS] ... [SEP], rebuilt
// from tables stored in the model file.
//
// Lifetime: init() copies everything it needs (pieces, offsets), so the model
// file may be unmapped or changed afterwards without reaching this object.
// Thread safety: encode() is const and re-entrant.
// Allocation: init() allocates; encode() never does (it uses about 5 KB of stack).
//
// What encode() does, in HF's order (tested token for token against
// tokenizers 0.19.1 with all-MiniLM-L6-v2's tokenizer.json):
//  1. Decode UTF-8. Each byte that does not start a valid (shortest-form,
//     non-surrogate, <= U+10FFFF) sequence becomes one U+FFFD, which
//     clean_text then drops.
//  2. Split out added special tokens: wherever the piece of an id in
//     config.special_ids occurs verbatim in the raw bytes (leftmost, then
//     longest), emit that id. Text on each side is normalized separately, so
//     "hello[MASK]world" gives hello [MASK] world.
//  3. BertNormalizer: clean_text (drop U+0000, U+FFFD, controls Cc/Cf/Co
//     except \t\n\r; other whitespace -> ' '), handle_chinese_chars (spaces
//     around CJK ideographs), strip_accents (NFD, then drop Mn), lowercase
//     (char::to_lowercase). HF's strip_accents = null means "same as
//     lowercase"; the converter resolves it before filling the config.
//     Character data follows HF's older Unicode tables (see unicode.h).
//  4. BertPreTokenizer: split at whitespace; each punctuation char is a word.
//  5. WordPiece: greedy longest match first; later pieces carry
//     continuing_prefix; a word of more than max_input_chars_per_word code
//     points, or one that cannot be covered, becomes a single [UNK].
//  6. [CLS] pieces... [SEP], keeping the first max_length - 2 pieces. Work stops
//     once that many are found, so text of any length is fine.
// Empty text (or text that normalizes to nothing) gives [CLS] [SEP].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace heed {

struct WordPieceConfig {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
  int32_t max_input_chars_per_word = 100;  // 1..kMaxInputCharsPerWord
  int32_t unk_id = -1;
  int32_t cls_id = -1;
  int32_t sep_id = -1;
  int32_t max_length = 512;             // including [CLS] and [SEP]; >= 2
  std::string continuing_prefix = "##";
  std::vector<int32_t> special_ids;     // matched verbatim before normalization
};

class WordPieceTokenizer {
 public:
  // Caps checked by init() (F2 in docs/SECURITY.md).
  static constexpr size_t kMaxVocabSize = size_t{1} << 22;
  static constexpr size_t kMaxPiecesBytes = size_t{1} << 28;
  static constexpr int32_t kMaxInputCharsPerWord = 256;  // sizes encode()'s stack buffers
  static constexpr size_t kMaxPrefixBytes = 16;
  static constexpr size_t kMaxSpecialTokens = 1024;

  // pieces/offsets as in schemas/heed.fbs Tokenizer: token i is
  // pieces[offsets[i], offsets[i+1]). Validates everything (G1 in docs/SECURITY.md):
  // offsets start at 0, never decrease, end at pieces_size; pieces valid UTF-8
  // and non-empty; ids in config within range; vocab size capped.
  // Errors: HEED_ERROR_INVALID_MODEL (with a message naming the problem),
  // HEED_ERROR_OUT_OF_MEMORY. On error the tokenizer is left uninitialized.
  // A piece that occurs twice maps to its later id (as HF's vocab HashMap does).
  Status init(const WordPieceConfig& config, const uint8_t* pieces, size_t pieces_size,
              const uint32_t* offsets, size_t num_offsets);

  // Encodes UTF-8 text (invalid sequences become U+FFFD). Writes
  // [CLS] tokens... [SEP], truncated to max_length. Writes at most `capacity`
  // ids; *count gets the total. Returns HEED_ERROR_BUFFER_TOO_SMALL when
  // capacity < total (ids then holds the first `capacity`).
  // HEED_ERROR_INVALID_ARGUMENT: init() has not succeeded, count is NULL, text
  // is NULL with len > 0, or ids is NULL with capacity > 0.
  Status encode(const char* text, size_t len, int32_t* ids, size_t capacity,
                size_t* count) const;

  // As encode(), but a sequence longer than max_tokens (>= 2) is cut to
  // max_tokens, still ending in [SEP] (a session shorter than the model's max
  // length truncates like a tokenizer with that max length). *count is the
  // number of ids written.
  Status encode_truncated(const char* text, size_t len, int32_t* ids, size_t max_tokens,
                          size_t* count) const;

  size_t vocab_size() const;
  // Id of an exact piece, or -1.
  int32_t find(std::string_view piece) const;
  // The piece of an id; empty for ids out of range.
  std::string_view piece(int32_t id) const;
  const WordPieceConfig& config() const { return config_; }

 private:
  class Encoder;  // per-call state of encode(), wordpiece.cc
  struct Special {
    int32_t id;
    uint32_t offset;  // into pieces_
    uint32_t size;
  };

  // Id of the piece (with_prefix ? continuing_prefix : "") + s[0, n), whose
  // FNV-1a hash (continued over both parts) is `hash`; -1 if none.
  int32_t lookup(uint32_t hash, bool with_prefix, const char* s, size_t n) const;
  // Longest special token starting at s[0, n), or nullptr.
  const Special* match_special(const uint8_t* s, size_t n) const;

  WordPieceConfig config_;
  bool ready_ = false;
  std::vector<char> pieces_;       // [offsets_.back()] UTF-8
  std::vector<uint32_t> offsets_;  // [vocab_size + 1]
  std::vector<int32_t> slot_id_;   // [slot_mask_ + 1] open addressing, -1 = empty
  std::vector<uint32_t> slot_hash_;  // [slot_mask_ + 1]
  uint32_t slot_mask_ = 0;
  uint32_t prefix_hash_ = 0;       // FNV-1a of continuing_prefix
  size_t max_piece_bytes_ = 0;     // longest piece; bounds the match loop
  std::vector<Special> specials_;  // distinct pieces, longest first
  uint8_t special_first_byte_[32] = {0};  // bitmap of their first bytes
};

}  // namespace heed
