#include "tokenizer/wordpiece.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace heed {

namespace {

constexpr uint32_t kFnvBasis = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;

uint32_t fnv1a(uint32_t h, const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint8_t>(s[i]);
    h *= kFnvPrime;
  }
  return h;
}

}  // namespace

// ---------------------------------------------------------------------------
// Encoder: one encode() call. Code points flow through the stages below one at
// a time, so nothing is ever buffered beyond the current word:
//   feed (clean_text) -> cjk -> nfd (decompose, canonical order, strip Mn)
//   -> lower -> pre_tokenize -> word -> wordpiece -> emit
// HF runs each stage over the whole string; streaming gives the same result
// because every stage but canonical ordering maps one code point to a fixed
// sequence, and canonical ordering only reorders marks between two starters.
class WordPieceTokenizer::Encoder {
 public:
  Encoder(const WordPieceTokenizer& tok, int32_t* ids, size_t capacity)
      : tok_(tok),
        cfg_(tok.config_),
        ids_(ids),
        capacity_(capacity),
        limit_(static_cast<size_t>(tok.config_.max_length) - 1) {}

  // Appends a token if the sequence has room for it.
  void emit(int32_t id) {
    if (n_ >= limit_) return;
    if (n_ < capacity_) ids_[n_] = id;
    ++n_;
  }
  // True once max_length - 1 tokens ([CLS] + pieces) exist: the rest is truncated.
  bool full() const { return n_ >= limit_; }

  // One code point of the raw text (between special tokens).
  void feed(uint32_t cp) {
    if (cfg_.clean_text) {
      uint32_t f = unicode::flags(cp);
      if (f & unicode::kControl) return;
      if (f & unicode::kWhitespace) cp = ' ';
    }
    if (cfg_.handle_chinese_chars && unicode::is_cjk(cp)) {
      nfd(' ');
      nfd(cp);
      nfd(' ');
    } else {
      nfd(cp);
    }
  }

  // End of a text segment (before a special token, or end of text). HF
  // normalizes each segment on its own.
  void end_segment() {
    flush_marks();
    end_word();
  }

  // Appends [SEP]; returns the total token count.
  size_t finish(int32_t sep_id) {
    if (n_ < capacity_) ids_[n_] = sep_id;
    return ++n_;
  }

 private:
  static constexpr size_t kMaxChars = static_cast<size_t>(kMaxInputCharsPerWord);

  // strip_accents: NFD, then drop nonspacing marks. Marks with a nonzero
  // combining class are held in marks_ until the next starter, sorted by class
  // (stable); removed marks never need to be held, since dropping elements of a
  // stably sorted run leaves the others in order.
  void nfd(uint32_t cp) {
    if (!cfg_.strip_accents) {
      lower(cp);
      return;
    }
    uint32_t d[unicode::kMaxDecomposition];
    int n = unicode::decompose(cp, d);
    for (int i = 0; i < n; ++i) {
      uint32_t c = d[i];
      uint32_t ccc = unicode::combining_class(c);
      bool mn = (unicode::flags(c) & unicode::kNonspacingMark) != 0;
      if (ccc == 0) {
        flush_marks();
        if (!mn) lower(c);
      } else if (!mn) {
        add_mark(c, ccc);
      }
    }
  }

  void add_mark(uint32_t c, uint32_t ccc) {
    // The generator guarantees such marks never split a word, so when more of
    // them are pending than a word may hold, the word is [UNK] whatever their
    // order: flush early instead of growing the buffer.
    if (marks_n_ == kMaxChars + 1) flush_marks();
    size_t i = marks_n_;
    while (i > 0 && marks_ccc_[i - 1] > ccc) {
      marks_[i] = marks_[i - 1];
      marks_ccc_[i] = marks_ccc_[i - 1];
      --i;
    }
    marks_[i] = c;
    marks_ccc_[i] = static_cast<uint8_t>(ccc);
    ++marks_n_;
  }

  void flush_marks() {
    size_t n = marks_n_;
    marks_n_ = 0;
    for (size_t i = 0; i < n; ++i) lower(marks_[i]);
  }

  void lower(uint32_t cp) {
    if (!cfg_.lowercase) {
      pre_tokenize(cp);
      return;
    }
    uint32_t l[2];
    int n = unicode::to_lower(cp, l);
    for (int i = 0; i < n; ++i) pre_tokenize(l[i]);
  }

  // BertPreTokenizer: whitespace ends a word; punctuation is a word of its own.
  void pre_tokenize(uint32_t cp) {
    uint32_t f = unicode::flags(cp);
    if (f & unicode::kWhitespace) {
      end_word();
    } else if (f & unicode::kPunctuation) {
      end_word();
      word_add(cp);
      end_word();
    } else {
      word_add(cp);
    }
  }

  // Keeps the first max_input_chars_per_word code points; only counts the rest.
  void word_add(uint32_t cp) {
    if (word_chars_ < static_cast<size_t>(cfg_.max_input_chars_per_word)) {
      size_t at = bounds_[word_chars_];
      bounds_[word_chars_ + 1] = static_cast<uint16_t>(at + utf8::encode(cp, word_ + at));
    }
    ++word_chars_;
  }

  void end_word() {
    size_t n = word_chars_;
    word_chars_ = 0;
    if (n == 0 || full()) return;
    if (n > static_cast<size_t>(cfg_.max_input_chars_per_word)) {
      emit(cfg_.unk_id);
      return;
    }
    wordpiece(n);
  }

  // Greedy longest-match-first over the n code points in word_.
  void wordpiece(size_t n) {
    size_t count = 0;
    size_t start = 0;
    while (start < n) {
      bool cont = start > 0;
      size_t base = cont ? tok_.config_.continuing_prefix.size() : 0;
      uint32_t h = cont ? tok_.prefix_hash_ : kFnvBasis;
      // hash_[e]: hash of prefix + chars [start, e); no piece is longer than
      // max_piece_bytes_, so longer candidates are never tried.
      size_t end = start;
      while (end < n) {
        size_t bytes = base + (bounds_[end + 1] - bounds_[start]);
        if (bytes > tok_.max_piece_bytes_) break;
        h = fnv1a(h, word_ + bounds_[end], bounds_[end + 1] - bounds_[end]);
        hash_[++end] = h;
      }
      int32_t id = -1;
      for (; end > start; --end) {
        id = tok_.lookup(hash_[end], cont, word_ + bounds_[start], bounds_[end] - bounds_[start]);
        if (id >= 0) break;
      }
      if (id < 0) {  // cannot be covered: the whole word is [UNK]
        emit(cfg_.unk_id);
        return;
      }
      pieces_[count++] = id;
      start = end;
    }
    for (size_t i = 0; i < count; ++i) emit(pieces_[i]);
  }

  const WordPieceTokenizer& tok_;
  const WordPieceConfig& cfg_;
  int32_t* ids_;          // [capacity_] caller's output
  size_t capacity_;
  size_t limit_;          // max_length - 1: index of [SEP]
  size_t n_ = 0;          // tokens so far, including [CLS]

  char word_[kMaxChars * 4];              // UTF-8 of the current word's kept chars
  uint16_t bounds_[kMaxChars + 1] = {0};  // byte offset of char i in word_
  size_t word_chars_ = 0;                 // chars in the word, kept or not
  uint32_t hash_[kMaxChars + 1];          // per end char, see wordpiece()
  int32_t pieces_[kMaxChars];             // ids of the current word
  uint32_t marks_[kMaxChars + 1];         // pending marks, sorted by class
  uint8_t marks_ccc_[kMaxChars + 1];
  size_t marks_n_ = 0;
};

// ---------------------------------------------------------------------------

Status WordPieceTokenizer::init(const WordPieceConfig& config, const uint8_t* pieces,
                                size_t pieces_size, const uint32_t* offsets,
                                size_t num_offsets) {
  ready_ = false;
  pieces_.clear();
  offsets_.clear();
  slot_id_.clear();
  slot_hash_.clear();
  specials_.clear();
  std::memset(special_first_byte_, 0, sizeof(special_first_byte_));

  // Tables (G1, F2).
  if (offsets == nullptr || num_offsets < 2) {
    return Status::Error(HEED_ERROR_INVALID_MODEL,
                         "wordpiece: vocabulary is empty (%zu offsets, need vocab size + 1)",
                         num_offsets);
  }
  const size_t vocab = num_offsets - 1;
  if (vocab > kMaxVocabSize) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "wordpiece: vocabulary of %zu exceeds the cap %zu",
                         vocab, kMaxVocabSize);
  }
  if (pieces_size > kMaxPiecesBytes) {
    return Status::Error(HEED_ERROR_INVALID_MODEL,
                         "wordpiece: pieces of %zu bytes exceed the cap %zu", pieces_size,
                         kMaxPiecesBytes);
  }
  if (pieces == nullptr && pieces_size > 0) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "wordpiece: pieces missing");
  }
  if (offsets[0] != 0) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "wordpiece: offsets[0] is %u, not 0",
                         offsets[0]);
  }
  size_t max_piece = 0;
  for (size_t i = 0; i < vocab; ++i) {
    uint32_t a = offsets[i], b = offsets[i + 1];
    if (b < a) {
      return Status::Error(HEED_ERROR_INVALID_MODEL,
                           "wordpiece: offsets[%zu] = %u is less than offsets[%zu] = %u", i + 1,
                           b, i, a);
    }
    if (b > pieces_size) {
      return Status::Error(HEED_ERROR_INVALID_MODEL,
                           "wordpiece: offsets[%zu] = %u is past the end of pieces (%zu bytes)",
                           i + 1, b, pieces_size);
    }
    if (b == a) {
      return Status::Error(HEED_ERROR_INVALID_MODEL, "wordpiece: piece %zu is empty", i);
    }
    if (!utf8::valid(pieces + a, b - a)) {
      return Status::Error(HEED_ERROR_INVALID_MODEL, "wordpiece: piece %zu is not valid UTF-8",
                           i);
    }
    max_piece = std::max<size_t>(max_piece, b - a);
  }
  if (offsets[vocab] != pieces_size) {
    return Status::Error(HEED_ERROR_INVALID_MODEL,
                         "wordpiece: offsets end at %u but pieces has %zu bytes", offsets[vocab],
                         pieces_size);
  }

  // Config.
  auto bad_id = [vocab](int32_t id) { return id < 0 || static_cast<size_t>(id) >= vocab; };
  if (bad_id(config.unk_id) || bad_id(config.cls_id) || bad_id(config.sep_id)) {
    return Status::Error(HEED_ERROR_INVALID_MODEL,
                         "wordpiece: unk/cls/sep ids %d/%d/%d must be in [0, %zu)",
                         config.unk_id, config.cls_id, config.sep_id, vocab);
  }
  if (config.max_length < 2) {
    return Status::Error(HEED_ERROR_INVALID_MODEL,
                         "wordpiece: max_length %d is less than 2 ([CLS] and [SEP])",
                         config.max_length);
  }
  if (config.max_input_chars_per_word <= 0 ||
      config.max_input_chars_per_word > kMaxInputCharsPerWord) {
    return Status::Error(HEED_ERROR_INVALID_MODEL,
                         "wordpiece: max_input_chars_per_word %d is outside [1, %d]",
                         config.max_input_chars_per_word, kMaxInputCharsPerWord);
  }
  const std::string& prefix = config.continuing_prefix;
  if (prefix.size() > kMaxPrefixBytes ||
      !utf8::valid(reinterpret_cast<const uint8_t*>(prefix.data()), prefix.size())) {
    return Status::Error(HEED_ERROR_INVALID_MODEL,
                         "wordpiece: continuing prefix (%zu bytes) is not valid UTF-8 of at "
                         "most %zu bytes",
                         prefix.size(), kMaxPrefixBytes);
  }
  if (config.special_ids.size() > kMaxSpecialTokens) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "wordpiece: %zu special tokens exceed the cap %zu",
                         config.special_ids.size(), kMaxSpecialTokens);
  }
  for (size_t i = 0; i < config.special_ids.size(); ++i) {
    if (bad_id(config.special_ids[i])) {
      return Status::Error(HEED_ERROR_INVALID_MODEL,
                           "wordpiece: special_ids[%zu] = %d is outside [0, %zu)", i,
                           config.special_ids[i], vocab);
    }
  }

#if defined(__cpp_exceptions)
  try {
#endif
    config_ = config;
    pieces_.assign(reinterpret_cast<const char*>(pieces),
                   reinterpret_cast<const char*>(pieces) + pieces_size);
    offsets_.assign(offsets, offsets + num_offsets);

    // Open addressing, load factor <= 1/2. A piece that occurs twice keeps the
    // later id, as HF's HashMap built from vocab.txt does.
    size_t slots = 16;
    while (slots < 2 * vocab) slots *= 2;
    slot_id_.assign(slots, -1);
    slot_hash_.assign(slots, 0);
    slot_mask_ = static_cast<uint32_t>(slots - 1);
    for (size_t i = 0; i < vocab; ++i) {
      const char* s = pieces_.data() + offsets_[i];
      size_t n = offsets_[i + 1] - offsets_[i];
      uint32_t h = fnv1a(kFnvBasis, s, n);
      uint32_t slot = h & slot_mask_;
      while (slot_id_[slot] >= 0) {
        int32_t other = slot_id_[slot];
        if (slot_hash_[slot] == h && piece(other) == std::string_view(s, n)) break;
        slot = (slot + 1) & slot_mask_;
      }
      slot_id_[slot] = static_cast<int32_t>(i);
      slot_hash_[slot] = h;
    }
    prefix_hash_ = fnv1a(kFnvBasis, prefix.data(), prefix.size());
    max_piece_bytes_ = max_piece;

    // Special tokens: distinct pieces, longest first so the first match at a
    // position is the longest one.
    for (int32_t id : config.special_ids) {
      std::string_view p = piece(id);
      bool seen = false;
      for (const Special& s : specials_) {
        seen = seen || std::string_view(pieces_.data() + s.offset, s.size) == p;
      }
      if (seen) continue;
      specials_.push_back({id, offsets_[id], static_cast<uint32_t>(p.size())});
      uint8_t first = static_cast<uint8_t>(p[0]);
      special_first_byte_[first >> 3] |= static_cast<uint8_t>(1u << (first & 7));
    }
    std::stable_sort(specials_.begin(), specials_.end(),
                     [](const Special& a, const Special& b) { return a.size > b.size; });
#if defined(__cpp_exceptions)
  } catch (const std::bad_alloc&) {
    pieces_.clear();
    offsets_.clear();
    slot_id_.clear();
    slot_hash_.clear();
    specials_.clear();
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "wordpiece: out of memory for %zu pieces",
                         vocab);
  }
#endif
  ready_ = true;
  return Status::Ok();
}

int32_t WordPieceTokenizer::lookup(uint32_t hash, bool with_prefix, const char* s,
                                   size_t n) const {
  const std::string& prefix = config_.continuing_prefix;
  size_t pn = with_prefix ? prefix.size() : 0;
  for (uint32_t slot = hash & slot_mask_;; slot = (slot + 1) & slot_mask_) {
    int32_t id = slot_id_[slot];
    if (id < 0) return -1;
    if (slot_hash_[slot] != hash) continue;
    const char* p = pieces_.data() + offsets_[id];
    size_t size = offsets_[id + 1] - offsets_[id];
    if (size == pn + n && std::memcmp(p, prefix.data(), pn) == 0 &&
        std::memcmp(p + pn, s, n) == 0) {
      return id;
    }
  }
}

const WordPieceTokenizer::Special* WordPieceTokenizer::match_special(const uint8_t* s,
                                                                     size_t n) const {
  if (!(special_first_byte_[s[0] >> 3] & (1u << (s[0] & 7)))) return nullptr;
  for (const Special& sp : specials_) {
    if (sp.size <= n && std::memcmp(pieces_.data() + sp.offset, s, sp.size) == 0) return &sp;
  }
  return nullptr;
}

Status WordPieceTokenizer::encode_truncated(const char* text, size_t len, int32_t* ids, size_t max_tokens,
                                            size_t* count) const {
  if (max_tokens < 2) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "max_tokens must be at least 2");
  Status st = encode(text, len, ids, max_tokens, count);
  if (st.code() == HEED_ERROR_BUFFER_TOO_SMALL) {
    *count = max_tokens;
    ids[max_tokens - 1] = config_.sep_id;
    return Status::Ok();
  }
  return st;
}

Status WordPieceTokenizer::encode(const char* text, size_t len, int32_t* ids, size_t capacity,
                                  size_t* count) const {
  if (!ready_) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "wordpiece: encode() before init()");
  }
  if (count == nullptr || (text == nullptr && len > 0) || (ids == nullptr && capacity > 0)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                         "wordpiece: encode() needs count, and text/ids unless their sizes are 0");
  }
  Encoder enc(*this, ids, capacity);
  enc.emit(config_.cls_id);
  const uint8_t* s = reinterpret_cast<const uint8_t*>(text);
  size_t i = 0;
  while (i < len && !enc.full()) {
    if (const Special* sp = match_special(s + i, len - i)) {
      enc.end_segment();
      enc.emit(sp->id);
      i += sp->size;
      continue;
    }
    uint32_t cp;
    i += utf8::decode(s + i, len - i, &cp);
    enc.feed(cp);
  }
  enc.end_segment();
  size_t total = enc.finish(config_.sep_id);
  *count = total;
  if (total > capacity) {
    return Status::Error(HEED_ERROR_BUFFER_TOO_SMALL,
                         "wordpiece: %zu ids do not fit in a buffer of %zu", total, capacity);
  }
  return Status::Ok();
}

size_t WordPieceTokenizer::vocab_size() const {
  return offsets_.empty() ? 0 : offsets_.size() - 1;
}

int32_t WordPieceTokenizer::find(std::string_view piece) const {
  if (!ready_) return -1;
  return lookup(fnv1a(kFnvBasis, piece.data(), piece.size()), false, piece.data(), piece.size());
}

std::string_view WordPieceTokenizer::piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_size()) return {};
  return std::string_view(pieces_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
}

}  // namespace heed
