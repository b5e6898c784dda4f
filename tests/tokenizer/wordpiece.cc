// WordPieceTokenizer on a tiny hand-made vocabulary. Every expected id list
// below was produced by Hugging Face tokenizers 0.19.1 with the same vocabulary
// (WordPiece + BertNormalizer + BertPreTokenizer + [CLS] $A [SEP], the five
// bracketed tokens added as special, normalized=false).
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/wordpiece.h"

namespace {

using heed::WordPieceConfig;
using heed::WordPieceTokenizer;

const char* const kVocab[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",                     // 0-4
    "hello", "world", "un", "unaff", "##aff", "##able", "##s",        // 5-11
    "a", "##a", "ab", "##bc", "!", ",", ".",                          // 12-18
    "\xE4\xB8\xAD", "\xE5\x9B\xBD",                                   // 19-20 中 国
    "cafe", "[", "]", "mask", "\xC2\xBF", "\xE2\x80\x94",             // 21-26 ¿ —
    "i\xCC\x87", "hel", "##lo", "x", "##b",                           // 27-31 i + U+0307
    "a\xF0\x9D\x85\xA5\xF0\x9D\x85\xAD",                              // 32 a U+1D165 U+1D16D
    "HELLO", "\xC3\xA9", "\xC4\xB0",                                  // 33-35 é İ
};
constexpr int32_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4;

struct Tables {
  std::string pieces;
  std::vector<uint32_t> offsets{0};
  void add(std::string_view p) {
    pieces.append(p.data(), p.size());
    offsets.push_back(static_cast<uint32_t>(pieces.size()));
  }
};

Tables tiny_tables() {
  Tables t;
  for (const char* p : kVocab) t.add(p);
  return t;
}

WordPieceConfig tiny_config() {
  WordPieceConfig c;
  c.unk_id = kUnk;
  c.cls_id = kCls;
  c.sep_id = kSep;
  c.special_ids = {kPad, kUnk, kCls, kSep, kMask};
  return c;
}

heed::Status init(WordPieceTokenizer& tok, const WordPieceConfig& c, const Tables& t) {
  return tok.init(c, reinterpret_cast<const uint8_t*>(t.pieces.data()), t.pieces.size(),
                  t.offsets.data(), t.offsets.size());
}

WordPieceTokenizer make(const WordPieceConfig& c = tiny_config()) {
  WordPieceTokenizer tok;
  heed::Status s = init(tok, c, tiny_tables());
  REQUIRE_MESSAGE(s.ok(), s.message());
  return tok;
}

std::vector<int32_t> encode(const WordPieceTokenizer& tok, std::string_view text) {
  std::vector<int32_t> ids(tok.config().max_length);
  size_t count = 0;
  heed::Status s = tok.encode(text.data(), text.size(), ids.data(), ids.size(), &count);
  REQUIRE_MESSAGE(s.ok(), s.message());
  ids.resize(count);
  return ids;
}

using Ids = std::vector<int32_t>;

}  // namespace

TEST_SUITE("fast") {
  TEST_CASE("wordpiece: greedy longest match first, continuing prefix") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, "unaffable") == Ids{2, 8, 10, 3});  // unaff ##able, not un ##aff ##able
    CHECK(encode(tok, "hellos") == Ids{2, 5, 11, 3});
    // Greedy: "ab" wins, then "##c" is missing -> the whole word is [UNK]
    // (even though a ##bc would cover it).
    CHECK(encode(tok, "abc") == Ids{2, kUnk, 3});
    CHECK(encode(tok, "xyz") == Ids{2, kUnk, 3});
    // A word alone cannot start with a continuing piece.
    CHECK(encode(tok, "hel\xE3\x80\x80lo\xC2\xA0world\xE2\x80\xA8" "a") == Ids{2, 28, kUnk, 6, 12, 3});
  }

  TEST_CASE("wordpiece: max_input_chars_per_word") {
    WordPieceTokenizer tok = make();
    Ids hundred{2, 12};
    hundred.insert(hundred.end(), 99, 13);
    hundred.push_back(3);
    CHECK(encode(tok, std::string(100, 'a')) == hundred);
    CHECK(encode(tok, std::string(101, 'a')) == Ids{2, kUnk, 3});

    WordPieceConfig c = tiny_config();
    c.max_input_chars_per_word = 5;
    WordPieceTokenizer five = make(c);
    CHECK(encode(five, "hello hellos") == Ids{2, 5, kUnk, 3});
    // A huge word is counted, not stored.
    CHECK(encode(tok, std::string(1 << 20, 'a')) == Ids{2, kUnk, 3});
  }

  TEST_CASE("wordpiece: whitespace and punctuation split words") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, "hello,world!") == Ids{2, 5, 17, 6, 16, 3});
    CHECK(encode(tok, "hello\xC2\xBFworld\xE2\x80\x94" "a") == Ids{2, 5, 25, 6, 26, 12, 3});  // ¿ —
    CHECK(encode(tok, "hello\tworld\r\nhello") == Ids{2, 5, 6, 5, 3});
    CHECK(encode(tok, "  hello   world  ") == Ids{2, 5, 6, 3});
  }

  TEST_CASE("wordpiece: CJK ideographs are words of their own") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, "\xE4\xB8\xAD\xE5\x9B\xBD") == Ids{2, 19, 20, 3});
    CHECK(encode(tok, "a\xE4\xB8\xAD\xE5\x9B\xBD" "b") == Ids{2, 12, 19, 20, kUnk, 3});
    WordPieceConfig c = tiny_config();
    c.handle_chinese_chars = false;
    CHECK(encode(make(c), "\xE4\xB8\xAD\xE5\x9B\xBD") == Ids{2, kUnk, 3});
  }

  TEST_CASE("wordpiece: accents stripped, lowercase") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, "H\xC3\xA9llo") == Ids{2, 5, 3});   // precomposed é
    CHECK(encode(tok, "He\xCC\x81llo") == Ids{2, 5, 3});  // e + U+0301
    CHECK(encode(tok, "HELLO World") == Ids{2, 5, 6, 3});
    CHECK(encode(tok, "\xE2\x84\xAB" "b") == Ids{2, 14, 3});  // U+212B ANGSTROM SIGN -> a
    // 300 combining marks are stripped, so they do not make the word long.
    std::string marks = "x";
    for (int i = 0; i < 300; ++i) marks += "\xCC\x81";
    CHECK(encode(tok, marks + "b") == Ids{2, 30, 31, 3});
    // U+0130: NFD first (I + U+0307, mark stripped) when stripping accents...
    CHECK(encode(tok, "\xC4\xB0") == Ids{2, kUnk, 3});  // "i" is not in the vocab
    // ...else its full lowercase "i\u0307"; or unchanged without lowercase.
    WordPieceConfig c = tiny_config();
    c.strip_accents = false;
    CHECK(encode(make(c), "\xC4\xB0") == Ids{2, 27, 3});
    CHECK(encode(make(c), "\xC3\xA9") == Ids{2, 34, 3});
    c.lowercase = false;
    CHECK(encode(make(c), "\xC4\xB0") == Ids{2, 35, 3});
    CHECK(encode(make(c), "HELLO hello") == Ids{2, 33, 5, 3});
  }

  TEST_CASE("wordpiece: canonical ordering of marks that survive stripping") {
    WordPieceTokenizer tok = make();
    // U+1D16D (class 226) and U+1D165 (class 216) are Mc: kept, and NFD sorts them.
    CHECK(encode(tok, "a\xF0\x9D\x85\xAD\xF0\x9D\x85\xA5") == Ids{2, 32, 3});
    // U+0301 (230, Mn) is stripped after ordering; U+0E48 (107, Mn) likewise.
    CHECK(encode(tok, "a\xF0\x9D\x85\xA5\xCC\x81\xF0\x9D\x85\xAD") == Ids{2, 32, 3});
    CHECK(encode(tok, "a\xF0\x9D\x85\xAD\xE0\xB9\x88\xF0\x9D\x85\xA5") == Ids{2, 32, 3});
    // A run of marks longer than any word is [UNK].
    std::string run = "a";
    for (int i = 0; i < 400; ++i) run += "\xF0\x9D\x85\xAD";
    CHECK(encode(tok, run) == Ids{2, kUnk, 3});
  }

  TEST_CASE("wordpiece: clean_text removes controls") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, std::string("hel\x01lo", 6)) == Ids{2, 5, 3});
    CHECK(encode(tok, "hel\xE2\x80\x8Blo") == Ids{2, 5, 3});  // U+200B (Cf)
    CHECK(encode(tok, "hel\xEF\xBF\xBDlo") == Ids{2, 5, 3});  // U+FFFD
    CHECK(encode(tok, std::string("hel\0lo", 6)) == Ids{2, 5, 3});
    CHECK(encode(tok, std::string(" \t\0 \xE2\x80\x8B", 7)) == Ids{2, 3});
    WordPieceConfig c = tiny_config();
    c.clean_text = false;
    CHECK(encode(make(c), "hel\x01lo") == Ids{2, kUnk, 3});
  }

  TEST_CASE("wordpiece: invalid UTF-8 bytes become U+FFFD, then dropped") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, "hel\xFFlo") == Ids{2, 5, 3});
    CHECK(encode(tok, "hel\xC0\xAFlo") == Ids{2, 5, 3});          // overlong '/'
    CHECK(encode(tok, "hel\xED\xA0\x80lo") == Ids{2, 5, 3});      // surrogate
    CHECK(encode(tok, "hel\xF4\x90\x80\x80lo") == Ids{2, 5, 3});  // above U+10FFFF
    CHECK(encode(tok, "hello\xE4\xB8") == Ids{2, 5, 3});          // truncated at the end
    CHECK(encode(tok, "\xE4[MASK]") == Ids{2, kMask, 3});         // lead byte, then a token
  }

  TEST_CASE("wordpiece: empty text") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, "") == Ids{2, 3});
    int32_t ids[4];
    size_t count = 0;
    CHECK(tok.encode(nullptr, 0, ids, 4, &count).ok());
    CHECK(count == 2);
    CHECK(ids[0] == kCls);
    CHECK(ids[1] == kSep);
  }

  TEST_CASE("wordpiece: added special tokens are matched in the raw text") {
    WordPieceTokenizer tok = make();
    CHECK(encode(tok, "hello[MASK]world") == Ids{2, 5, kMask, 6, 3});
    CHECK(encode(tok, "[mask]") == Ids{2, 22, 24, 23, 3});  // case-sensitive
    CHECK(encode(tok, "[MAS") == Ids{2, 22, kUnk, 3});
    CHECK(encode(tok, "[[MASK]]") == Ids{2, 22, kMask, 23, 3});
    CHECK(encode(tok, "hello  [SEP] [UNK][PAD]") == Ids{2, 5, kSep, kUnk, kPad, 3});
    // Without special_ids the brackets are punctuation.
    WordPieceConfig c = tiny_config();
    c.special_ids.clear();
    CHECK(encode(make(c), "[MASK]") == Ids{2, 22, 24, 23, 3});
  }

  TEST_CASE("wordpiece: truncation keeps the first max_length - 2 pieces") {
    WordPieceConfig c = tiny_config();
    c.max_length = 4;
    CHECK(encode(make(c), "hello world hello") == Ids{2, 5, 6, 3});
    c.max_length = 5;
    CHECK(encode(make(c), "unaffable unaffable") == Ids{2, 8, 10, 8, 3});  // cuts inside a word
    c.max_length = 2;
    CHECK(encode(make(c), "hello") == Ids{2, 3});
    // Long text: stops at max_length.
    c.max_length = 512;
    std::string text;
    for (int i = 0; i < 200000; ++i) text += "hello ";
    Ids want(512, 5);
    want.front() = kCls;
    want.back() = kSep;
    CHECK(encode(make(c), text) == want);
  }

  TEST_CASE("wordpiece: buffer too small") {
    WordPieceTokenizer tok = make();
    int32_t ids[3] = {-7, -7, -7};
    size_t count = 0;
    heed::Status s = tok.encode("hello world", 11, ids, 2, &count);
    CHECK(s.code() == HEED_ERROR_BUFFER_TOO_SMALL);
    CHECK(count == 4);
    CHECK(ids[0] == kCls);
    CHECK(ids[1] == 5);
    CHECK(ids[2] == -7);  // untouched
    s = tok.encode("hello world", 11, nullptr, 0, &count);
    CHECK(s.code() == HEED_ERROR_BUFFER_TOO_SMALL);
    CHECK(count == 4);
    s = tok.encode("hello world", 11, ids, 3, nullptr);
    CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
    s = tok.encode(nullptr, 5, ids, 3, &count);
    CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
  }

  TEST_CASE("wordpiece: find, piece, vocab_size") {
    WordPieceTokenizer tok = make();
    CHECK(tok.vocab_size() == sizeof(kVocab) / sizeof(kVocab[0]));
    CHECK(tok.find("hello") == 5);
    CHECK(tok.find("##able") == 10);
    CHECK(tok.find("able") == -1);
    CHECK(tok.find("") == -1);
    CHECK(tok.piece(8) == "unaff");
    CHECK(tok.piece(-1).empty());
    CHECK(tok.piece(1000).empty());
    // A duplicate piece maps to its later id.
    Tables t = tiny_tables();
    t.add("hello");
    WordPieceTokenizer dup;
    REQUIRE(init(dup, tiny_config(), t).ok());
    CHECK(dup.find("hello") == static_cast<int32_t>(t.offsets.size() - 2));
    CHECK(dup.piece(5) == "hello");
  }

  TEST_CASE("wordpiece: other continuing prefix") {
    Tables t;
    for (const char* p : {"[UNK]", "[CLS]", "[SEP]", "play", "@@ing", "@@s"}) t.add(p);
    WordPieceConfig c;
    c.unk_id = 0;
    c.cls_id = 1;
    c.sep_id = 2;
    c.continuing_prefix = "@@";
    WordPieceTokenizer tok;
    REQUIRE(init(tok, c, t).ok());
    // "#" is punctuation, so "play##s" is play # # s.
    CHECK(encode(tok, "playing plays play##s") == Ids{1, 3, 4, 3, 5, 3, 0, 0, 0, 2});
  }

  TEST_CASE("wordpiece: init rejects malformed tables") {
    const WordPieceConfig good = tiny_config();
    const Tables t = tiny_tables();
    WordPieceTokenizer tok;
    auto rejects = [&](const WordPieceConfig& c, const Tables& tables) {
      heed::Status s = init(tok, c, tables);
      INFO(s.message());
      return s.code() == HEED_ERROR_INVALID_MODEL;
    };
    REQUIRE(init(tok, good, t).ok());

    Tables bad = t;
    bad.offsets[0] = 1;
    CHECK(rejects(good, bad));  // offsets not starting at 0
    bad = t;
    bad.offsets[3] = bad.offsets[2] - 1;
    CHECK(rejects(good, bad));  // decreasing
    bad = t;
    bad.offsets[5] = static_cast<uint32_t>(bad.pieces.size() + 1);
    CHECK(rejects(good, bad));  // past the end
    bad = t;
    bad.pieces += "x";
    CHECK(rejects(good, bad));  // trailing bytes nobody owns
    bad = t;
    bad.offsets[6] = bad.offsets[5];
    CHECK(rejects(good, bad));  // empty piece (and the next one longer)
    bad = t;
    bad.pieces[bad.offsets[5]] = '\xFF';
    CHECK(rejects(good, bad));  // invalid UTF-8
    bad = t;
    bad.pieces.replace(bad.offsets[5], 2, "\xC0\xAF");
    CHECK(rejects(good, bad));  // overlong UTF-8

    Tables one;
    CHECK(rejects(good, one));  // no pieces at all
    CHECK(tok.init(good, nullptr, 0, nullptr, 0).code() == HEED_ERROR_INVALID_MODEL);
    CHECK(tok.init(good, nullptr, 5, t.offsets.data(), 2).code() == HEED_ERROR_INVALID_MODEL);

    const int32_t size = static_cast<int32_t>(t.offsets.size() - 1);
    for (int32_t id : {-1, size, 1 << 30}) {
      WordPieceConfig c = good;
      c.unk_id = id;
      CHECK(rejects(c, t));
      c = good;
      c.cls_id = id;
      CHECK(rejects(c, t));
      c = good;
      c.sep_id = id;
      CHECK(rejects(c, t));
      c = good;
      c.special_ids.push_back(id);
      CHECK(rejects(c, t));
    }
    WordPieceConfig c = good;
    c.max_length = 1;
    CHECK(rejects(c, t));
    c.max_length = -5;
    CHECK(rejects(c, t));
    c = good;
    c.max_input_chars_per_word = 0;
    CHECK(rejects(c, t));
    c.max_input_chars_per_word = -1;
    CHECK(rejects(c, t));
    c.max_input_chars_per_word = WordPieceTokenizer::kMaxInputCharsPerWord + 1;
    CHECK(rejects(c, t));
    c = good;
    c.continuing_prefix = std::string(WordPieceTokenizer::kMaxPrefixBytes + 1, '#');
    CHECK(rejects(c, t));
    c.continuing_prefix = "\xFF";
    CHECK(rejects(c, t));
    c = good;
    c.special_ids.assign(WordPieceTokenizer::kMaxSpecialTokens + 1, kMask);
    CHECK(rejects(c, t));

    // A failed init leaves the tokenizer unusable, not half-built.
    int32_t ids[4];
    size_t count = 0;
    CHECK(tok.encode("hello", 5, ids, 4, &count).code() == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(tok.find("hello") == -1);
    WordPieceTokenizer fresh;
    CHECK(fresh.encode("hello", 5, ids, 4, &count).code() == HEED_ERROR_INVALID_ARGUMENT);
  }

  TEST_CASE("wordpiece: vocabulary size cap") {
    // One entry past the cap; rejected before any piece is looked at.
    std::vector<uint32_t> offsets(WordPieceTokenizer::kMaxVocabSize + 2, 0);
    WordPieceTokenizer tok;
    heed::Status s = tok.init(tiny_config(), nullptr, 0, offsets.data(), offsets.size());
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK(std::strstr(s.message(), "cap") != nullptr);
  }
}
