#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace heed {

namespace {

constexpr uint32_t kFnvBasis = 2166136261u;
constexpr uint32_t kFnvPrime = 16777619u;
constexpr uint64_t kNoPair = ~uint64_t{0};
constexpr char kReplacementUtf8[] = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kMetaspaceUtf8[] = "\xE2\x96\x81";    // U+2581

uint32_t fnv1a(uint32_t h, const char* s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<uint8_t>(s[i]);
    h *= kFnvPrime;
  }
  return h;
}

uint64_t mix64(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

// GPT-2's byte <-> printable character map: bytes '!'..'~', 0xA1..0xAC and
// 0xAE..0xFF stand for themselves; the other 68 bytes, in increasing order,
// for U+0100, U+0101, ...
constexpr uint32_t kByteMapEnd = 0x144;
struct ByteMap {
  uint32_t to_cp[256];
  int16_t to_byte[kByteMapEnd];
};

const ByteMap& byte_map() {
  static const ByteMap map = [] {
    ByteMap m{};
    for (uint32_t i = 0; i < kByteMapEnd; ++i) m.to_byte[i] = -1;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      bool self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      m.to_cp[b] = self ? b : next++;
      m.to_byte[m.to_cp[b]] = static_cast<int16_t>(b);
    }
    return m;
  }();
  return map;
}

// Length of the UTF-8 sequence a lead byte starts and the allowed range of
// its second byte; 0 for a byte that cannot start one.
size_t lead_info(uint8_t b0, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return 2;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (b0 == 0xE0) *lo = 0xA0;
    if (b0 == 0xED) *hi = 0x9F;
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (b0 == 0xF0) *lo = 0x90;
    if (b0 == 0xF4) *hi = 0x8F;
    return 4;
  }
  return 0;
}

// Decodes s[0, n), n >= 1: a valid character, or U+FFFD for one maximal
// ill-formed subsequence (the longest prefix of a valid sequence, or one
// byte). Returns the bytes consumed.
size_t decode_lossy(const uint8_t* s, size_t n, uint32_t* cp) {
  uint8_t lo, hi;
  const size_t len = lead_info(s[0], &lo, &hi);
  if (len == 1) {
    *cp = s[0];
    return 1;
  }
  *cp = utf8::kReplacement;
  if (len == 0) return 1;
  if (n < 2 || s[1] < lo || s[1] > hi) return 1;
  for (size_t i = 2; i < len; ++i) {
    if (i >= n || (s[i] & 0xC0) != 0x80) return i;
  }
  return utf8::decode(s, n, cp);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of a piece HF's ByteFallback decoder reads as one: six bytes
// "<0x" X Y ">" where XY is what Rust's u8::from_str_radix(XY, 16) accepts
// (two hex digits, or '+' and one). -1 otherwise.
int byte_token_value(std::string_view p) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return -1;
  if (p[3] == '+') return hex_digit(p[4]);
  int a = hex_digit(p[3]), b = hex_digit(p[4]);
  return a < 0 || b < 0 ? -1 : a * 16 + b;
}

}  // namespace

// Output of the decoders: counts every byte, stores those that fit.
struct BpeTokenizer::Sink {
  char* out;
  size_t cap;
  size_t n = 0;
  void put(const char* s, size_t k) {
    if (n < cap) std::memcpy(out + n, s, std::min(k, cap - n));
    n += k;
  }
  // Text of the sentencepiece decoder, after its Strip of leading spaces.
  void put_stripped(DecodeState* st, const char* s, size_t k) {
    while (st->strip_left > 0 && k > 0) {
      if (s[0] != ' ') break;
      ++s;
      --k;
      --st->strip_left;
    }
    if (k > 0) {
      st->strip_left = 0;
      put(s, k);
    }
  }
};

// ---------------------------------------------------------------------------
// Encoder: one encode() call, working in the caller's scratch.
class BpeTokenizer::Encoder {
 public:
  struct Symbol {
    int32_t id;    // -1 once merged into its left neighbour
    int32_t prev;  // -1 at the start
    int32_t next;  // -1 at the end
  };

  // Sizes (in elements) of the scratch arrays for a text of len bytes. One
  // text byte yields at most 3 symbols (an invalid byte is U+FFFD: three
  // mapped bytes, or three byte-fallback pieces) and 6 bytes of word text;
  // each merge pushes at most 2 heap entries.
  static constexpr size_t max_symbols(size_t len) { return 3 * len + 8; }
  static constexpr size_t bytes_for(size_t len) {
    const size_t s = max_symbols(len);
    return 8 + 3 * s * sizeof(uint64_t) + s * sizeof(Symbol) + (len + 2) * sizeof(uint32_t) +
           (6 * len + 8);
  }

  Encoder(const BpeTokenizer& tok, void* scratch, size_t len, int32_t* ids, size_t capacity)
      : tok_(tok), flags_(tok.config_.flags), ids_(ids), capacity_(capacity) {
    uintptr_t p = reinterpret_cast<uintptr_t>(scratch);
    p = (p + 7) & ~uintptr_t{7};
    const size_t s = max_symbols(len);
    heap_ = reinterpret_cast<uint64_t*>(p);
    sym_ = reinterpret_cast<Symbol*>(heap_ + 3 * s);
    cps_ = reinterpret_cast<uint32_t*>(sym_ + s);
    text_ = reinterpret_cast<char*>(cps_ + len + 2);
  }

  void emit(int32_t id) {
    if (n_ < capacity_) ids_[n_] = id;
    ++n_;
  }
  size_t count() const { return n_; }

  // Text between added tokens (HF drops empty segments).
  void segment(const uint8_t* s, size_t n) {
    if (n == 0) return;
    if (tok_.config_.kind == BpeKind::kByteLevel) {
      byte_level(s, n);
    } else {
      sentencepiece(s, n);
    }
  }

 private:
  static bool letter(uint32_t f) { return (f & unicode::kLetter) != 0; }
  static bool number(uint32_t f) { return (f & unicode::kNumber) != 0; }
  static bool space(uint32_t f) { return (f & unicode::kWhitespace) != 0; }
  static bool other(uint32_t f) { return !letter(f) && !number(f) && !space(f); }

  // End of the GPT-2 regex match that starts at c[i] (i < k); every
  // character starts a match, so the pieces tile the segment.
  static size_t split_end(const uint32_t* c, size_t k, size_t i) {
    // 's 't 're 've 'm 'll 'd (ASCII, case-sensitive)
    if (c[i] == '\'' && i + 1 < k) {
      const uint32_t a = c[i + 1];
      if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
      if (i + 2 < k) {
        const uint32_t b = c[i + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
      }
    }
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional U+0020, then a run
    // of one class. (Without the space, c[i] = ' ' is in none of the classes.)
    const size_t j = i + (c[i] == ' ' ? 1 : 0);
    if (j < k) {
      const uint32_t f = unicode::flags(c[j]);
      bool (*cls)(uint32_t) = letter(f) ? letter : number(f) ? number : other(f) ? other : nullptr;
      if (cls) {
        size_t e = j + 1;
        while (e < k && cls(unicode::flags(c[e]))) ++e;
        return e;
      }
    }
    // c[i] is whitespace. '\s+(?!\S)': the run, less its last character when a
    // non-space follows; a single space before a non-space is '\s+'.
    size_t e = i;
    while (e < k && space(unicode::flags(c[e]))) ++e;
    if (e == i) return i + 1;  // not reached: every character is in some class
    if (e == k || e - i == 1) return e;
    return e - 1;
  }

  void byte_level(const uint8_t* s, size_t n) {
    size_t k = 0;
    if ((flags_ & kBpeAddPrefixSpace) && s[0] != ' ') cps_[k++] = ' ';
    for (size_t i = 0; i < n;) i += decode_lossy(s + i, n - i, &cps_[k++]);
    if (flags_ & kBpeNoRegex) {
      byte_level_word(0, k);
      return;
    }
    for (size_t p = 0; p < k;) {
      const size_t e = split_end(cps_, k, p);
      byte_level_word(p, e);
      p = e;
    }
  }

  // cps_[a, b) -> UTF-8 -> one mapped character per byte -> BPE.
  void byte_level_word(size_t a, size_t b) {
    const ByteMap& m = byte_map();
    size_t w = 0;
    for (size_t i = a; i < b; ++i) {
      char u[4];
      const size_t nu = utf8::encode(cps_[i], u);
      for (size_t j = 0; j < nu; ++j) w += utf8::encode(m.to_cp[static_cast<uint8_t>(u[j])], text_ + w);
    }
    word(text_, w);
  }

  void sentencepiece(const uint8_t* s, size_t n) {
    size_t w = 0;
    if (flags_ & kBpePrependSpace) {
      std::memcpy(text_, kMetaspaceUtf8, 3);
      w = 3;
    }
    for (size_t i = 0; i < n;) {
      uint32_t cp;
      i += decode_lossy(s + i, n - i, &cp);
      if (cp == ' ' && (flags_ & kBpeReplaceSpace)) {
        std::memcpy(text_ + w, kMetaspaceUtf8, 3);
        w += 3;
      } else {
        w += utf8::encode(cp, text_ + w);
      }
    }
    word(text_, w);
  }

  void add(int32_t id) {
    const int32_t i = static_cast<int32_t>(ns_++);
    sym_[i] = {id, i - 1, i + 1};
  }

  // HF's BPE::merge_word: one symbol per character (its piece; else its
  // bytes' <0xXX> pieces with byte_fallback; else unk, fused when fuse_unk),
  // then merges, then the ids in order.
  void word(const char* w, size_t n) {
    if (n == 0) return;
    if (flags_ & kBpeIgnoreMerges) {
      const int32_t id = tok_.lookup(fnv1a(kFnvBasis, w, n), w, n, nullptr, 0);
      if (id >= 0) {
        emit(id);
        return;
      }
    }
    const int32_t unk = tok_.config_.unk_id;
    ns_ = 0;
    bool pending_unk = false;
    for (size_t i = 0; i < n;) {
      uint8_t lo, hi;
      const size_t k = lead_info(static_cast<uint8_t>(w[i]), &lo, &hi);  // w is valid UTF-8
      const int32_t id = tok_.lookup(fnv1a(kFnvBasis, w + i, k), w + i, k, nullptr, 0);
      if (id >= 0) {
        if (pending_unk) add(unk);
        pending_unk = false;
        add(id);
      } else {
        bool fell_back = false;
        if (flags_ & kBpeByteFallback) {
          fell_back = true;
          for (size_t j = 0; j < k; ++j) fell_back = fell_back && tok_.byte_fallback_id_[static_cast<uint8_t>(w[i + j])] >= 0;
          // As HF: the byte pieces go in before a pending unk.
          if (fell_back) {
            for (size_t j = 0; j < k; ++j) add(tok_.byte_fallback_id_[static_cast<uint8_t>(w[i + j])]);
          }
        }
        if (!fell_back && unk >= 0) {
          if (pending_unk && !(flags_ & kBpeFuseUnk)) add(unk);
          pending_unk = true;
        }
      }
      i += k;
    }
    if (pending_unk) add(unk);
    if (ns_ == 0) return;
    sym_[ns_ - 1].next = -1;
    merge_all();
    for (int32_t i = 0; i >= 0; i = sym_[i].next) emit(sym_[i].id);
  }

  // Lowest (rank, position) first, as HF's Word::merge_all; entries whose pair
  // has changed since they were pushed are skipped when popped. (With
  // distinct pieces a pair's rank identifies it, so comparing ranks is HF's
  // comparison of merged ids.)
  void merge_all() {
    nh_ = 0;
    uint32_t rank;
    int32_t merged;
    for (size_t p = 0; p + 1 < ns_; ++p) {
      if (tok_.pair(sym_[p].id, sym_[p + 1].id, &rank, &merged)) push(uint64_t{rank} << 32 | p);
    }
    while (nh_ > 0) {
      const uint64_t top = pop();
      const int32_t pos = static_cast<int32_t>(top & 0xFFFFFFFFu);
      Symbol& l = sym_[pos];
      if (l.id < 0 || l.next < 0) continue;
      Symbol& r = sym_[l.next];
      if (!tok_.pair(l.id, r.id, &rank, &merged) || rank != (top >> 32)) continue;
      l.id = merged;
      r.id = -1;
      l.next = r.next;
      if (l.next >= 0) sym_[l.next].prev = pos;
      if (l.prev >= 0 && tok_.pair(sym_[l.prev].id, l.id, &rank, &merged)) {
        push(uint64_t{rank} << 32 | static_cast<uint32_t>(l.prev));
      }
      if (l.next >= 0 && tok_.pair(l.id, sym_[l.next].id, &rank, &merged)) {
        push(uint64_t{rank} << 32 | static_cast<uint32_t>(pos));
      }
    }
  }

  void push(uint64_t v) {
    size_t i = nh_++;
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (heap_[parent] <= v) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = v;
  }

  uint64_t pop() {
    const uint64_t top = heap_[0];
    const uint64_t last = heap_[--nh_];
    size_t i = 0;
    for (;;) {
      size_t c = 2 * i + 1;
      if (c >= nh_) break;
      if (c + 1 < nh_ && heap_[c + 1] < heap_[c]) ++c;
      if (heap_[c] >= last) break;
      heap_[i] = heap_[c];
      i = c;
    }
    if (nh_ > 0) heap_[i] = last;
    return top;
  }

  const BpeTokenizer& tok_;
  const uint32_t flags_;
  int32_t* ids_;
  size_t capacity_;
  size_t n_ = 0;
  uint64_t* heap_;
  size_t nh_ = 0;
  Symbol* sym_;
  size_t ns_ = 0;
  uint32_t* cps_;
  char* text_;
};

// ---------------------------------------------------------------------------

// The scratch of the longest text fits a 32-bit size_t (checked in 64 bits).
static_assert(uint64_t{118} * BpeTokenizer::kMaxTextBytes + 400 < (uint64_t{1} << 32) &&
                  uint64_t{3} * (3 * BpeTokenizer::kMaxTextBytes + 8) * 8 + (3 * BpeTokenizer::kMaxTextBytes + 8) * 12 +
                          (BpeTokenizer::kMaxTextBytes + 2) * 4 + 6 * BpeTokenizer::kMaxTextBytes + 16 <=
                      uint64_t{118} * BpeTokenizer::kMaxTextBytes + 400,
              "BPE scratch must stay below 4 GiB");

size_t BpeTokenizer::scratch_bytes(size_t text_len) {
  if (text_len > kMaxTextBytes) return 0;
  return Encoder::bytes_for(text_len);
}

void BpeTokenizer::clear_tables() {
  pieces_.clear();
  offsets_.clear();
  slot_id_.clear();
  slot_hash_.clear();
  pair_key_.clear();
  pair_rank_.clear();
  pair_merged_.clear();
  added_.clear();
  special_sorted_.clear();
}

Status BpeTokenizer::init(const BpeConfig& config, const uint8_t* pieces, size_t pieces_size,
                          const uint32_t* offsets, size_t num_offsets, const uint32_t* merges,
                          size_t num_merges) {
  ready_ = false;
  clear_tables();
  num_merges_ = 0;
  std::memset(added_first_byte_, 0, sizeof(added_first_byte_));

  // Tables (G1, F2).
  if (offsets == nullptr || num_offsets < 2) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: vocabulary is empty (%zu offsets, need vocab size + 1)",
                         num_offsets);
  }
  const size_t vocab = num_offsets - 1;
  if (vocab > kMaxVocabSize) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: vocabulary of %zu exceeds the cap %zu", vocab, kMaxVocabSize);
  }
  if (pieces_size > kMaxPiecesBytes) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: pieces of %zu bytes exceed the cap %zu", pieces_size,
                         kMaxPiecesBytes);
  }
  if (pieces == nullptr && pieces_size > 0) return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: pieces missing");
  if (offsets[0] != 0) return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: offsets[0] is %u, not 0", offsets[0]);
  size_t max_piece = 0;
  for (size_t i = 0; i < vocab; ++i) {
    const uint32_t a = offsets[i], b = offsets[i + 1];
    if (b < a) {
      return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: offsets[%zu] = %u is less than offsets[%zu] = %u", i + 1, b,
                           i, a);
    }
    if (b > pieces_size) {
      return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: offsets[%zu] = %u is past the end of pieces (%zu bytes)",
                           i + 1, b, pieces_size);
    }
    if (b == a) return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: piece %zu is empty", i);
    if (!utf8::valid(pieces + a, b - a)) {
      return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: piece %zu is not valid UTF-8", i);
    }
    max_piece = std::max<size_t>(max_piece, b - a);
  }
  if (offsets[vocab] != pieces_size) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: offsets end at %u but pieces has %zu bytes", offsets[vocab],
                         pieces_size);
  }
  if (num_merges > kMaxMerges) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: %zu merges exceed the cap %zu", num_merges, kMaxMerges);
  }
  if (merges == nullptr && num_merges > 0) return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: merges missing");

  // Config.
  const uint32_t allowed = config.kind == BpeKind::kByteLevel ? kBpeByteLevelFlags
                           : config.kind == BpeKind::kSentencePiece ? kBpeSentencePieceFlags
                                                                     : 0;
  if (allowed == 0) return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: unknown kind %d", int(config.kind));
  if (config.flags & ~allowed) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: flags 0x%x include bits 0x%x this kind does not define",
                         config.flags, config.flags & ~allowed);
  }
  auto bad_opt_id = [vocab](int32_t id) { return id < -1 || (id >= 0 && size_t(id) >= vocab); };
  if (bad_opt_id(config.unk_id) || bad_opt_id(config.bos_id) || bad_opt_id(config.eos_id)) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: unk/bos/eos ids %d/%d/%d must be -1 or in [0, %zu)",
                         config.unk_id, config.bos_id, config.eos_id, vocab);
  }
  if (config.decode_strip < 0 || config.decode_strip > kMaxDecodeStrip ||
      (config.kind == BpeKind::kByteLevel && config.decode_strip != 0)) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: decode_strip %d is outside [0, %d] (0 for byte level)",
                         config.decode_strip, kMaxDecodeStrip);
  }
  if (config.special_ids.size() + config.added_ids.size() > kMaxAddedTokens) {
    return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: %zu added tokens exceed the cap %zu",
                         config.special_ids.size() + config.added_ids.size(), kMaxAddedTokens);
  }
  for (const std::vector<int32_t>* list : {&config.special_ids, &config.added_ids}) {
    for (size_t i = 0; i < list->size(); ++i) {
      const int32_t id = (*list)[i];
      if (id < 0 || size_t(id) >= vocab) {
        return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: %s[%zu] = %d is outside [0, %zu)",
                             list == &config.special_ids ? "special_ids" : "added_ids", i, id, vocab);
      }
    }
  }

#if defined(__cpp_exceptions)
  try {
#endif
    config_ = config;
    pieces_.assign(reinterpret_cast<const char*>(pieces), reinterpret_cast<const char*>(pieces) + pieces_size);
    offsets_.assign(offsets, offsets + num_offsets);
    size_t slots = 16;
    while (slots < 2 * vocab) slots *= 2;
    slot_id_.assign(slots, -1);
    slot_hash_.assign(slots, 0);
    slot_mask_ = static_cast<uint32_t>(slots - 1);
    for (size_t i = 0; i < vocab; ++i) {
      const char* s = pieces_.data() + offsets_[i];
      const size_t n = offsets_[i + 1] - offsets_[i];
      const uint32_t h = fnv1a(kFnvBasis, s, n);
      uint32_t slot = h & slot_mask_;
      while (slot_id_[slot] >= 0) {
        if (slot_hash_[slot] == h && piece(slot_id_[slot]) == std::string_view(s, n)) {
          const int32_t other = slot_id_[slot];
          pieces_.clear();
          offsets_.clear();
          return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: pieces %d and %zu are equal", other, i);
        }
        slot = (slot + 1) & slot_mask_;
      }
      slot_id_[slot] = static_cast<int32_t>(i);
      slot_hash_[slot] = h;
    }
    max_piece_bytes_ = max_piece;

    // Merge map; a pair listed again takes the later rank.
    size_t pslots = 16;
    while (pslots < 2 * num_merges) pslots *= 2;
    pair_key_.assign(pslots, kNoPair);
    pair_rank_.assign(pslots, 0);
    pair_merged_.assign(pslots, -1);
    pair_mask_ = pslots - 1;
    for (size_t r = 0; r < num_merges; ++r) {
      const uint32_t a = merges[2 * r], b = merges[2 * r + 1];
      if (a >= vocab || b >= vocab) {
        pieces_.clear();
        offsets_.clear();
        return Status::Error(HEED_ERROR_INVALID_MODEL, "bpe: merges[%zu] = (%u, %u) is outside the vocabulary of %zu",
                             r, a, b, vocab);
      }
      const std::string_view pa = piece(int32_t(a)), pb = piece(int32_t(b));
      const int32_t m = lookup(fnv1a(fnv1a(kFnvBasis, pa.data(), pa.size()), pb.data(), pb.size()), pa.data(),
                               pa.size(), pb.data(), pb.size());
      if (m < 0) {
        pieces_.clear();
        offsets_.clear();
        return Status::Error(HEED_ERROR_INVALID_MODEL,
                             "bpe: merges[%zu]: the concatenation of pieces %u and %u is not in the vocabulary", r, a,
                             b);
      }
      const uint64_t key = uint64_t{a} << 32 | b;
      uint64_t slot = mix64(key) & pair_mask_;
      while (pair_key_[slot] != kNoPair && pair_key_[slot] != key) slot = (slot + 1) & pair_mask_;
      pair_key_[slot] = key;
      pair_rank_[slot] = static_cast<uint32_t>(r);
      pair_merged_[slot] = m;
    }
    num_merges_ = num_merges;

    for (int b = 0; b < 256; ++b) {
      static const char kHex[] = "0123456789ABCDEF";
      const char name[6] = {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
      byte_fallback_id_[b] = lookup(fnv1a(kFnvBasis, name, 6), name, 6, nullptr, 0);
    }

    // Added tokens: distinct pieces, longest first (leftmost-longest matching).
    for (const std::vector<int32_t>* list : {&config.special_ids, &config.added_ids}) {
      for (int32_t id : *list) {
        const std::string_view p = piece(id);
        bool seen = false;
        for (const Added& a : added_) seen = seen || std::string_view(pieces_.data() + a.offset, a.size) == p;
        if (seen) continue;
        added_.push_back({id, offsets_[size_t(id)], static_cast<uint32_t>(p.size())});
        const uint8_t first = static_cast<uint8_t>(p[0]);
        added_first_byte_[first >> 3] |= static_cast<uint8_t>(1u << (first & 7));
      }
    }
    std::stable_sort(added_.begin(), added_.end(), [](const Added& a, const Added& b) { return a.size > b.size; });
    special_sorted_ = config.special_ids;
    std::sort(special_sorted_.begin(), special_sorted_.end());
#if defined(__cpp_exceptions)
  } catch (const std::bad_alloc&) {
    clear_tables();
    return Status::Error(HEED_ERROR_OUT_OF_MEMORY, "bpe: out of memory for %zu pieces and %zu merges", vocab,
                         num_merges);
  }
#endif
  ready_ = true;
  return Status::Ok();
}

int32_t BpeTokenizer::lookup(uint32_t hash, const char* a, size_t na, const char* b, size_t nb) const {
  if (slot_id_.empty()) return -1;
  for (uint32_t slot = hash & slot_mask_;; slot = (slot + 1) & slot_mask_) {
    const int32_t id = slot_id_[slot];
    if (id < 0) return -1;
    if (slot_hash_[slot] != hash) continue;
    const char* p = pieces_.data() + offsets_[size_t(id)];
    const size_t size = offsets_[size_t(id) + 1] - offsets_[size_t(id)];
    if (size == na + nb && std::memcmp(p, a, na) == 0 && (nb == 0 || std::memcmp(p + na, b, nb) == 0)) return id;
  }
}

bool BpeTokenizer::pair(int32_t a, int32_t b, uint32_t* rank, int32_t* merged) const {
  const uint64_t key = uint64_t(uint32_t(a)) << 32 | uint32_t(b);
  for (uint64_t slot = mix64(key) & pair_mask_;; slot = (slot + 1) & pair_mask_) {
    const uint64_t k = pair_key_[slot];
    if (k == kNoPair) return false;
    if (k == key) {
      *rank = pair_rank_[slot];
      *merged = pair_merged_[slot];
      return true;
    }
  }
}

bool BpeTokenizer::is_special(int32_t id) const {
  return std::binary_search(special_sorted_.begin(), special_sorted_.end(), id);
}

const BpeTokenizer::Added* BpeTokenizer::match_added(const uint8_t* s, size_t n) const {
  if (!(added_first_byte_[s[0] >> 3] & (1u << (s[0] & 7)))) return nullptr;
  for (const Added& a : added_) {
    if (a.size <= n && std::memcmp(pieces_.data() + a.offset, s, a.size) == 0) return &a;
  }
  return nullptr;
}

Status BpeTokenizer::encode(const char* text, size_t len, bool add_special, void* scratch, size_t scratch_size,
                            int32_t* ids, size_t capacity, size_t* count) const {
  if (!ready_) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "bpe: encode() before init()");
  if (count == nullptr || (text == nullptr && len > 0) || (ids == nullptr && capacity > 0)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "bpe: encode() needs count, and text/ids unless their sizes are 0");
  }
  *count = 0;
  if (len > kMaxTextBytes) {
    return Status::Error(HEED_ERROR_INVALID_INPUT, "bpe: text of %zu bytes is longer than the cap %zu", len,
                         kMaxTextBytes);
  }
  const size_t need = scratch_bytes(len);
  if (scratch == nullptr || scratch_size < need) {
    return Status::Error(HEED_ERROR_BUFFER_TOO_SMALL, "bpe: a text of %zu bytes needs %zu bytes of scratch, got %zu",
                         len, need, scratch == nullptr ? size_t{0} : scratch_size);
  }
  Encoder enc(*this, scratch, len, ids, capacity);
  if (add_special && config_.bos_id >= 0) enc.emit(config_.bos_id);
  const uint8_t* s = reinterpret_cast<const uint8_t*>(text);
  size_t seg = 0;
  for (size_t i = 0; i < len;) {
    if (const Added* a = added_.empty() ? nullptr : match_added(s + i, len - i)) {
      enc.segment(s + seg, i - seg);
      enc.emit(a->id);
      i += a->size;
      seg = i;
      continue;
    }
    uint32_t cp;
    i += decode_lossy(s + i, len - i, &cp);
  }
  enc.segment(s + seg, len - seg);
  if (add_special && config_.eos_id >= 0) enc.emit(config_.eos_id);
  *count = enc.count();
  if (*count > capacity) {
    return Status::Error(HEED_ERROR_BUFFER_TOO_SMALL, "bpe: %zu ids do not fit in a buffer of %zu", *count, capacity);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Decoding.

size_t BpeTokenizer::stream_max_bytes() const { return 3 * (max_piece_bytes_ + kStreamHold + 8); }

void BpeTokenizer::stream_begin(DecodeState* st, bool skip_special) const {
  *st = DecodeState();
  st->ready = ready_;
  st->skip_special = skip_special;
  st->strip_left = config_.decode_strip;
}


void BpeTokenizer::feed_id(DecodeState* st, int32_t id, Sink* out) const {
  if (st->skip_special && is_special(id)) return;  // HF filters them before the decoder
  const std::string_view p = piece(id);

  if (config_.kind == BpeKind::kByteLevel) {
    // Characters back to bytes (a piece with any other character is taken as
    // its own UTF-8 bytes, as HF does), then lossy UTF-8 over the whole stream.
    const ByteMap& m = byte_map();
    bool mapped = true;
    for (size_t i = 0; i < p.size() && mapped;) {
      uint32_t cp;
      i += utf8::decode(reinterpret_cast<const uint8_t*>(p.data()) + i, p.size() - i, &cp);
      mapped = cp < kByteMapEnd && m.to_byte[cp] >= 0;
    }
    for (size_t i = 0; i < p.size();) {
      uint8_t b;
      if (mapped) {
        uint32_t cp;
        i += utf8::decode(reinterpret_cast<const uint8_t*>(p.data()) + i, p.size() - i, &cp);
        b = static_cast<uint8_t>(m.to_byte[cp]);
      } else {
        b = static_cast<uint8_t>(p[i++]);
      }
      for (;;) {  // at most twice: a byte that ends a sequence early starts anew
        if (st->pending_n == 0) {
          uint8_t lo, hi;
          const size_t len = lead_info(b, &lo, &hi);
          if (len == 1) {
            out->put(reinterpret_cast<const char*>(&b), 1);
          } else if (len == 0) {
            out->put(kReplacementUtf8, 3);
          } else {
            st->pending[0] = b;
            st->pending_n = 1;
            st->pending_need = static_cast<uint8_t>(len);
          }
          break;
        }
        uint8_t lo = 0x80, hi = 0xBF;
        if (st->pending_n == 1) lead_info(st->pending[0], &lo, &hi);
        if (b >= lo && b <= hi) {
          st->pending[st->pending_n++] = b;
          if (st->pending_n == st->pending_need) {
            out->put(reinterpret_cast<const char*>(st->pending), st->pending_n);
            st->pending_n = 0;
          }
          break;
        }
        out->put(kReplacementUtf8, 3);
        st->pending_n = 0;
      }
    }
    return;
  }

  // Sentencepiece: Replace(U+2581 -> ' '), ByteFallback, Fuse, Strip.
  const int byte = byte_token_value(p);
  if (byte >= 0) {
    const uint8_t b = static_cast<uint8_t>(byte);
    if (st->run_invalid) {
      out->put_stripped(st, kReplacementUtf8, 3);
      return;
    }
    bool ok;
    if (st->run_need == 0) {
      uint8_t lo, hi;
      const size_t len = lead_info(b, &lo, &hi);
      ok = len != 0;
      st->run_lead = b;
      st->run_have = 1;
      st->run_need = static_cast<uint8_t>(len == 0 ? 0 : len - 1);
    } else {
      uint8_t lo = 0x80, hi = 0xBF;
      if (st->run_have == 1) lead_info(st->run_lead, &lo, &hi);
      ok = b >= lo && b <= hi;
      ++st->run_have;
      --st->run_need;
    }
    if (!ok) {  // HF: a run that is not UTF-8 becomes one U+FFFD per byte
      for (uint32_t i = 0; i <= st->run_n; ++i) out->put_stripped(st, kReplacementUtf8, 3);
      st->run_n = 0;
      st->run_need = 0;
      st->run_invalid = true;
      return;
    }
    st->run[st->run_n++] = b;
    if (st->run_n >= kStreamHold) {  // hold no more: write the complete characters
      const uint32_t tail = st->run_need > 0 ? st->run_have : 0;
      const uint32_t done = st->run_n - tail;
      out->put_stripped(st, reinterpret_cast<const char*>(st->run), done);
      std::memmove(st->run, st->run + done, tail);
      st->run_n = tail;
    }
    return;
  }
  // A piece that is not a byte token ends the run.
  if (st->run_n > 0) {
    if (st->run_need == 0) {
      out->put_stripped(st, reinterpret_cast<const char*>(st->run), st->run_n);
    } else {
      for (uint32_t i = 0; i < st->run_n; ++i) out->put_stripped(st, kReplacementUtf8, 3);
    }
  }
  st->run_n = 0;
  st->run_need = 0;
  st->run_have = 0;
  st->run_invalid = false;
  // The piece with U+2581 as ' ', in chunks of a small buffer.
  char buf[64];
  size_t nb = 0;
  for (size_t i = 0; i < p.size();) {
    if (p.size() - i >= 3 && std::memcmp(p.data() + i, kMetaspaceUtf8, 3) == 0) {
      buf[nb++] = ' ';
      i += 3;
    } else {
      buf[nb++] = p[i++];
    }
    if (nb == sizeof(buf)) {
      out->put_stripped(st, buf, nb);
      nb = 0;
    }
  }
  if (nb > 0) out->put_stripped(st, buf, nb);
}

void BpeTokenizer::end_stream(DecodeState* st, Sink* out) const {
  if (config_.kind == BpeKind::kByteLevel) {
    if (st->pending_n > 0) out->put(kReplacementUtf8, 3);
  } else if (st->run_n > 0) {
    if (st->run_need == 0) {
      out->put_stripped(st, reinterpret_cast<const char*>(st->run), st->run_n);
    } else {
      for (uint32_t i = 0; i < st->run_n; ++i) out->put_stripped(st, kReplacementUtf8, 3);
    }
  }
  const bool skip = st->skip_special;
  stream_begin(st, skip);
  st->ready = false;
}

Status BpeTokenizer::stream_feed(DecodeState* st, int32_t id, char* out, size_t capacity, size_t* len) const {
  if (!ready_ || st == nullptr || len == nullptr || out == nullptr || !st->ready) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "bpe: stream_feed needs a begun stream, out and len");
  }
  *len = 0;
  if (capacity < stream_max_bytes()) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "bpe: stream output buffer of %zu bytes is below the %zu needed",
                         capacity, stream_max_bytes());
  }
  if (id < 0 || size_t(id) >= vocab_size()) {
    return Status::Error(HEED_ERROR_INVALID_INPUT, "bpe: token id %d is outside the vocabulary of %zu", id,
                         vocab_size());
  }
  Sink sink{out, capacity};
  feed_id(st, id, &sink);
  *len = sink.n;
  return Status::Ok();
}

Status BpeTokenizer::stream_end(DecodeState* st, char* out, size_t capacity, size_t* len) const {
  if (!ready_ || st == nullptr || len == nullptr || out == nullptr || !st->ready) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "bpe: stream_end needs a begun stream, out and len");
  }
  *len = 0;
  if (capacity < stream_max_bytes()) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "bpe: stream output buffer of %zu bytes is below the %zu needed",
                         capacity, stream_max_bytes());
  }
  Sink sink{out, capacity};
  end_stream(st, &sink);
  *len = sink.n;
  return Status::Ok();
}

Status BpeTokenizer::decode(const int32_t* ids, size_t n, bool skip_special, char* out, size_t capacity,
                            size_t* len) const {
  if (!ready_ || len == nullptr || (ids == nullptr && n > 0) || (out == nullptr && capacity > 0)) {
    return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "bpe: decode() needs len, and ids/out unless their sizes are 0");
  }
  *len = 0;
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || size_t(ids[i]) >= vocab_size()) {
      return Status::Error(HEED_ERROR_INVALID_INPUT, "bpe: ids[%zu] = %d is outside the vocabulary of %zu", i, ids[i],
                           vocab_size());
    }
  }
  DecodeState st;
  stream_begin(&st, skip_special);
  Sink sink{out, capacity};
  for (size_t i = 0; i < n; ++i) feed_id(&st, ids[i], &sink);
  end_stream(&st, &sink);
  *len = sink.n;
  if (sink.n > capacity) {
    return Status::Error(HEED_ERROR_BUFFER_TOO_SMALL, "bpe: %zu bytes of text do not fit in a buffer of %zu", sink.n,
                         capacity);
  }
  return Status::Ok();
}

size_t BpeTokenizer::vocab_size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }

int32_t BpeTokenizer::find(std::string_view p) const {
  if (!ready_) return -1;
  return lookup(fnv1a(kFnvBasis, p.data(), p.size()), p.data(), p.size(), nullptr, 0);
}

std::string_view BpeTokenizer::piece(int32_t id) const {
  if (id < 0 || size_t(id) >= vocab_size()) return {};
  return std::string_view(pieces_.data() + offsets_[size_t(id)], offsets_[size_t(id) + 1] - offsets_[size_t(id)]);
}

}  // namespace heed
