// BPE tokenizers of decoder models, rebuilt from tables stored in the model
// file, reproducing Hugging Face `tokenizers` 0.19.1 id for id:
//
//  * kByteLevel (GPT-2): ByteLevel pre-tokenizer (optional prefix space, then
//    GPT-2's split regex
//      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//    evaluated by hand over the Unicode tables of unicode.h), each piece's
//    UTF-8 bytes mapped to GPT-2's printable byte characters, then BPE.
//    Decoder ByteLevel: characters back to bytes, lossy UTF-8.
//  * kSentencePiece (Llama): normalizer Prepend("\u2581") and/or
//    Replace(" ", "\u2581"), no pre-tokenizer (a whole text segment is one BPE
//    word), byte_fallback to <0xXX> pieces, unk (optionally fused) otherwise.
//    Decoder Replace("\u2581", " "), ByteFallback, Fuse, Strip(' ', n, 0).
//
// Both: added tokens (special or not) are matched verbatim in the raw text
// first (leftmost, then longest), the text between them is a segment of its
// own; BPE merges the pair of lowest rank, leftmost first, until none applies
// (HF's Word::merge_all); the post-processor adds bos / eos when asked.
//
// Invalid UTF-8 in encode()'s text: each maximal ill-formed subsequence
// (Unicode's "maximal subpart", as Python's errors="replace" and Rust's
// from_utf8_lossy do) becomes one U+FFFD, which is then tokenized.
//
// Lifetime: init() copies everything. Thread safety: all const methods are
// re-entrant. Allocation: init() allocates; encode() works in a caller
// scratch buffer of scratch_bytes(len) bytes, decode() and the stream in
// caller buffers: none of them allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace heed {

enum class BpeKind : uint8_t { kByteLevel = 2, kSentencePiece = 3 };  // = fb::TokenizerKind

// BpeConfig::flags (schemas/heed.fbs Tokenizer.bpe_flags).
constexpr uint32_t kBpeAddPrefixSpace = 1u << 0;  // byte level: ByteLevel.add_prefix_space
constexpr uint32_t kBpeNoRegex = 1u << 1;  // byte level: ByteLevel.use_regex = false
constexpr uint32_t kBpePrependSpace = 1u << 2;  // sentencepiece: normalizer Prepend("\u2581")
constexpr uint32_t kBpeReplaceSpace = 1u << 3;  // sentencepiece: normalizer Replace(" ", "\u2581")
constexpr uint32_t kBpeByteFallback = 1u << 4;  // model.byte_fallback
constexpr uint32_t kBpeFuseUnk = 1u << 5;  // model.fuse_unk
constexpr uint32_t kBpeIgnoreMerges = 1u << 6;  // model.ignore_merges: a word in the vocabulary is one token
constexpr uint32_t kBpeKnownFlags = (1u << 7) - 1;
constexpr uint32_t kBpeByteLevelFlags = kBpeAddPrefixSpace | kBpeNoRegex | kBpeByteFallback |
                                        kBpeFuseUnk | kBpeIgnoreMerges;
constexpr uint32_t kBpeSentencePieceFlags = kBpePrependSpace | kBpeReplaceSpace |
                                            kBpeByteFallback | kBpeFuseUnk | kBpeIgnoreMerges;

struct BpeConfig {
  BpeKind kind = BpeKind::kByteLevel;
  uint32_t flags = 0;
  int32_t unk_id = -1;       // -1: characters without a piece are dropped (HF without unk_token)
  int32_t bos_id = -1;       // post-processor: before the text (when add_special), or -1
  int32_t eos_id = -1;       // after the text, or -1
  int32_t decode_strip = 0;  // sentencepiece: leading spaces the Strip decoder removes
  std::vector<int32_t> special_ids;  // added special tokens: verbatim; skip_special drops them
  std::vector<int32_t> added_ids;    // added non-special tokens: verbatim
};

class BpeTokenizer {
 public:
  // Caps checked by init() (F2 in docs/SECURITY.md).
  static constexpr size_t kMaxVocabSize = size_t{1} << 22;
  static constexpr size_t kMaxPiecesBytes = size_t{1} << 28;
  static constexpr size_t kMaxMerges = size_t{1} << 22;
  static constexpr size_t kMaxAddedTokens = 1024;  // special + non-special
  static constexpr int32_t kMaxDecodeStrip = 16;
  // Longest text encode() takes: its scratch is linear in it (about 2 GB at
  // the cap), which must stay representable in a 32-bit size_t.
  static constexpr size_t kMaxTextBytes = size_t{1} << 24;
  // Bytes of one run of byte-fallback tokens the stream decoder holds back
  // while the run is valid UTF-8 so far (see stream_feed).
  static constexpr size_t kStreamHold = 256;

  // pieces/offsets as WordPieceTokenizer::init (token i is
  // pieces[offsets[i], offsets[i+1]), valid UTF-8, non-empty, all distinct).
  // merges: num_merges pairs (merges[2r], merges[2r+1]) = ids of the left and
  // right piece of the merge of rank r; their concatenation must be a piece.
  // A pair listed twice keeps its later rank (as HF's merge map does).
  // Errors: HEED_ERROR_INVALID_MODEL naming the table and index,
  // HEED_ERROR_OUT_OF_MEMORY. On error the tokenizer is left uninitialized.
  Status init(const BpeConfig& config, const uint8_t* pieces, size_t pieces_size,
              const uint32_t* offsets, size_t num_offsets, const uint32_t* merges,
              size_t num_merges);

  // Scratch encode() needs for a text of text_len bytes (about 118 bytes per
  // text byte; 0 when text_len > kMaxTextBytes).
  static size_t scratch_bytes(size_t text_len);

  // Encodes UTF-8 text; add_special adds bos/eos as the post-processor says.
  // scratch: scratch_size >= scratch_bytes(len) bytes, any alignment.
  // Writes at most `capacity` ids; *count gets the total.
  // HEED_ERROR_BUFFER_TOO_SMALL: capacity < total (the first `capacity` ids
  // are written), or scratch too small (*count = 0; the message gives the
  // size). HEED_ERROR_INVALID_INPUT: len > kMaxTextBytes.
  // HEED_ERROR_INVALID_ARGUMENT: not initialized, NULL with a nonzero size.
  Status encode(const char* text, size_t len, bool add_special, void* scratch,
                size_t scratch_size, int32_t* ids, size_t capacity, size_t* count) const;

  // Streaming decoder state: plain data, owned by the caller, no heap.
  struct DecodeState {
    bool ready = false;
    bool skip_special = false;
    uint8_t pending[4] = {0};  // byte level: an incomplete UTF-8 sequence
    uint8_t pending_n = 0;
    uint8_t pending_need = 0;
    int32_t strip_left = 0;    // sentencepiece: leading spaces still to strip
    uint32_t run_n = 0;        // sentencepiece: held bytes of the current byte-token run
    uint8_t run_need = 0;      // bytes the run's last character still needs
    uint8_t run_lead = 0;      // lead byte of that character
    uint8_t run_have = 0;      // bytes of that character seen
    bool run_invalid = false;  // the run is already not UTF-8: its bytes are U+FFFD each
    uint8_t run[kStreamHold] = {0};
  };

  // Most bytes one stream_feed or stream_end call writes.
  size_t stream_max_bytes() const;
  // Starts a stream (skip_special: special added tokens produce nothing).
  void stream_begin(DecodeState* state, bool skip_special) const;
  // Decodes one id: writes the text that is now final to out[0, *len),
  // never part of a UTF-8 character. The concatenation of every output of a
  // stream (through stream_end) equals decode() of all its ids, with one
  // exception: a run of more than kStreamHold consecutive byte-fallback
  // tokens that is valid UTF-8 for its first kStreamHold bytes and invalid
  // later (HF then turns the whole run into U+FFFD; the stream has already
  // written the first part as text).
  // HEED_ERROR_INVALID_ARGUMENT: capacity < stream_max_bytes(), NULLs, a
  // state not begun. HEED_ERROR_INVALID_INPUT: id outside the vocabulary
  // (the state is unchanged).
  Status stream_feed(DecodeState* state, int32_t id, char* out, size_t capacity,
                     size_t* len) const;
  // Ends the stream: writes what was held back (incomplete characters as
  // U+FFFD). The state may then be begun again.
  Status stream_end(DecodeState* state, char* out, size_t capacity, size_t* len) const;

  // Decodes ids to UTF-8 text as HF's Tokenizer.decode(ids, skip_special).
  // Writes at most `capacity` bytes (no NUL); *len gets the total length.
  // HEED_ERROR_BUFFER_TOO_SMALL when capacity < total. HEED_ERROR_INVALID_INPUT
  // for an id outside the vocabulary.
  Status decode(const int32_t* ids, size_t n, bool skip_special, char* out, size_t capacity,
                size_t* len) const;

  bool ready() const { return ready_; }
  size_t vocab_size() const;
  size_t num_merges() const { return num_merges_; }
  int32_t find(std::string_view piece) const;  // id of an exact piece, or -1
  std::string_view piece(int32_t id) const;    // empty for ids out of range
  const BpeConfig& config() const { return config_; }

 private:
  void clear_tables();  // every table init() fills
  class Encoder;
  struct Added {
    int32_t id;
    uint32_t offset;
    uint32_t size;
  };
  struct Sink;

  int32_t lookup(uint32_t hash, const char* a, size_t na, const char* b, size_t nb) const;
  const Added* match_added(const uint8_t* s, size_t n) const;
  // Merge of the pair (a, b): its rank and merged id, or false.
  bool pair(int32_t a, int32_t b, uint32_t* rank, int32_t* merged) const;
  bool is_special(int32_t id) const;
  void feed_id(DecodeState* st, int32_t id, Sink* out) const;
  void end_stream(DecodeState* st, Sink* out) const;

  BpeConfig config_;
  bool ready_ = false;
  std::vector<char> pieces_;
  std::vector<uint32_t> offsets_;
  std::vector<int32_t> slot_id_;     // vocabulary hash, open addressing, -1 = empty
  std::vector<uint32_t> slot_hash_;
  uint32_t slot_mask_ = 0;
  std::vector<uint64_t> pair_key_;   // merge map: (a << 32 | b), ~0 = empty
  std::vector<uint32_t> pair_rank_;
  std::vector<int32_t> pair_merged_;
  uint64_t pair_mask_ = 0;
  size_t num_merges_ = 0;
  size_t max_piece_bytes_ = 0;
  int32_t byte_fallback_id_[256];    // id of "<0xXX>", or -1
  std::vector<Added> added_;         // distinct pieces, longest first
  std::vector<int32_t> special_sorted_;  // special ids, sorted
  uint8_t added_first_byte_[32] = {0};
};

}  // namespace heed
