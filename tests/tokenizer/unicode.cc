// The generated character tables (runtime/src/tokenizer/unicode-tables.cc).
// They follow Hugging Face tokenizers 0.19.1, which uses older Unicode data than
// Unicode 14: the HF-specific cases below are the ones that differ.
#include <doctest/doctest.h>

#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace u = heed::unicode;

TEST_SUITE("fast") {
  TEST_CASE("unicode: flags") {
    // The BERT bits (the letter and number bits are checked below).
    auto bert = [](uint32_t cp) { return u::flags(cp) & (u::kControl | u::kWhitespace | u::kPunctuation | u::kNonspacingMark); };
    CHECK(bert('a') == 0);
    CHECK(bert(' ') == u::kWhitespace);
    CHECK(bert('\t') == u::kWhitespace);
    CHECK(bert(0x0B) == (u::kWhitespace | u::kControl));  // control wins in clean_text
    CHECK(bert(0x00) == u::kControl);
    CHECK(bert(0x7F) == u::kControl);
    CHECK(bert(0xFFFD) == u::kControl);
    CHECK(bert(0x200B) == u::kControl);   // Cf
    CHECK(bert(0xE000) == u::kControl);   // Co
    CHECK(bert(0x0378) == 0);             // unassigned: kept by HF
    CHECK(bert(0x3000) == u::kWhitespace);
    CHECK(bert(0x00A0) == u::kWhitespace);
    CHECK(bert(0x001C) == u::kControl);   // not White_Space (Python isspace() says yes)
    CHECK(bert('$') == u::kPunctuation);  // ASCII punctuation, though Sc
    CHECK(bert('^') == u::kPunctuation);
    CHECK(bert(0x00BF) == u::kPunctuation);
    CHECK(bert(0x2014) == u::kPunctuation);
    CHECK(bert(0x00A7) == u::kPunctuation);  // Po
    CHECK(bert(0x20AC) == 0);                // euro sign: Sc, not ASCII
    CHECK(bert(0x0301) == u::kNonspacingMark);
    CHECK(bert(0x110000) == u::kControl);
    // HF's older data.
    CHECK(bert(0x0890) == 0);                  // Cf since Unicode 14
    CHECK(bert(0x1734) == u::kNonspacingMark);  // Mc since Unicode 14
    CHECK(bert(0x1ABF) == 0);                  // Mn since Unicode 14
    CHECK(bert(0x166D) == u::kPunctuation);    // So since Unicode 12
    CHECK(bert(0x2E5D) == 0);                  // Pd since Unicode 14
  }

  TEST_CASE("unicode: letter and number bits (byte-level BPE regex)") {
    auto ln = [](uint32_t cp) { return u::flags(cp) & (u::kLetter | u::kNumber); };
    CHECK(ln('a') == u::kLetter);
    CHECK(ln('Z') == u::kLetter);
    CHECK(ln('7') == u::kNumber);
    CHECK(ln(' ') == 0);
    CHECK(ln('\'') == 0);
    CHECK(ln('_') == 0);
    CHECK(ln(0x00E9) == u::kLetter);   // e acute, Ll
    CHECK(ln(0x02B0) == u::kLetter);   // modifier letter small h, Lm
    CHECK(ln(0x01C5) == u::kLetter);   // Lt
    CHECK(ln(0x65E5) == u::kLetter);   // CJK ideograph, Lo
    CHECK(ln(0x0660) == u::kNumber);   // Arabic-Indic digit zero, Nd
    CHECK(ln(0x2163) == u::kNumber);   // Roman numeral four, Nl
    CHECK(ln(0x00BD) == u::kNumber);   // vulgar fraction one half, No
    CHECK(ln(0x0301) == 0);            // Mn
    CHECK(ln(0x0903) == 0);            // Mc
    CHECK(ln(0x20AC) == 0);            // Sc
    CHECK(ln(0x0378) == 0);            // unassigned
    CHECK(ln(0x110000) == 0);
  }

  TEST_CASE("unicode: combining class") {
    CHECK(u::combining_class('a') == 0);
    CHECK(u::combining_class(0x0301) == 230);
    CHECK(u::combining_class(0x0316) == 220);
    CHECK(u::combining_class(0x1D165) == 216);
    CHECK(u::combining_class(0x1D16D) == 226);
    CHECK(u::combining_class(0x1DF6) == 0);  // unknown to HF's NFD data
    CHECK(u::combining_class(0x110000) == 0);
  }

  TEST_CASE("unicode: decompose") {
    uint32_t d[u::kMaxDecomposition];
    REQUIRE(u::decompose('a', d) == 1);
    CHECK(d[0] == 'a');
    REQUIRE(u::decompose(0x00E9, d) == 2);  // é
    CHECK(d[0] == 'e');
    CHECK(d[1] == 0x0301);
    REQUIRE(u::decompose(0x1E69, d) == 3);  // ṩ: s + dot below (220) + dot above (230)
    CHECK(d[0] == 's');
    CHECK(d[1] == 0x0323);
    CHECK(d[2] == 0x0307);
    REQUIRE(u::decompose(0x1F82, d) == 4);  // ᾂ
    CHECK(d[0] == 0x03B1);
    REQUIRE(u::decompose(0x212B, d) == 2);  // Å sign -> A + ring
    CHECK(d[0] == 'A');
    REQUIRE(u::decompose(0xAC00, d) == 2);  // 가
    CHECK(d[0] == 0x1100);
    CHECK(d[1] == 0x1161);
    REQUIRE(u::decompose(0xD7A3, d) == 3);  // 힣
    CHECK(d[0] == 0x1112);
    CHECK(d[1] == 0x1175);
    CHECK(d[2] == 0x11C2);
    REQUIRE(u::decompose(0x11938, d) == 1);  // newer than HF's NFD data
    REQUIRE(u::decompose(0x2F800, d) == 1);  // singleton: CJK compatibility ideograph
    CHECK(d[0] == 0x4E3D);
    REQUIRE(u::decompose(0x10FFFF, d) == 1);
    REQUIRE(u::decompose(0x110000, d) == 1);
  }

  TEST_CASE("unicode: to_lower") {
    uint32_t l[2];
    REQUIRE(u::to_lower('A', l) == 1);
    CHECK(l[0] == 'a');
    REQUIRE(u::to_lower('a', l) == 1);
    CHECK(l[0] == 'a');
    REQUIRE(u::to_lower(0x0130, l) == 2);
    CHECK(l[0] == 'i');
    CHECK(l[1] == 0x0307);
    REQUIRE(u::to_lower(0x03A3, l) == 1);  // no final-sigma context per code point
    CHECK(l[0] == 0x03C3);
    REQUIRE(u::to_lower(0x0100, l) == 1);  // alternating upper/lower run
    CHECK(l[0] == 0x0101);
    REQUIRE(u::to_lower(0x0101, l) == 1);
    CHECK(l[0] == 0x0101);
    REQUIRE(u::to_lower(0x212A, l) == 1);  // Kelvin sign
    CHECK(l[0] == 'k');
    REQUIRE(u::to_lower(0x1E9E, l) == 1);  // capital sharp s
    CHECK(l[0] == 0x00DF);
    REQUIRE(u::to_lower(0x10400, l) == 1);  // Deseret
    CHECK(l[0] == 0x10428);
    REQUIRE(u::to_lower(0x1E921, l) == 1);  // Adlam
    CHECK(l[0] == 0x1E943);
    REQUIRE(u::to_lower(0x110000, l) == 1);
    CHECK(l[0] == 0x110000);
  }

  TEST_CASE("unicode: is_cjk") {
    CHECK(u::is_cjk(0x4E2D));
    CHECK(u::is_cjk(0xF900));
    CHECK(u::is_cjk(0x2F800));
    CHECK(!u::is_cjk(0x3042));  // hiragana
    CHECK(!u::is_cjk(0xAC00));  // hangul
    CHECK(!u::is_cjk(0x2B820));  // gap between extensions D and E
  }

  TEST_CASE("utf8: decode") {
    auto one = [](const char* s, size_t n, uint32_t want_cp, size_t want_len) {
      uint32_t cp = 0;
      size_t len = heed::utf8::decode(reinterpret_cast<const uint8_t*>(s), n, &cp);
      CHECK(cp == want_cp);
      CHECK(len == want_len);
    };
    one("a", 1, 'a', 1);
    one("\xC3\xA9", 2, 0xE9, 2);
    one("\xE2\x82\xAC", 3, 0x20AC, 3);
    one("\xF0\x9F\x98\x80", 4, 0x1F600, 4);
    one("\xF4\x8F\xBF\xBF", 4, 0x10FFFF, 4);
    one("\xEF\xBF\xBD", 3, 0xFFFD, 3);
    one("\x80", 1, 0xFFFD, 1);
    one("\xC0\x80", 2, 0xFFFD, 1);          // overlong
    one("\xC1\xBF", 2, 0xFFFD, 1);          // overlong
    one("\xE0\x9F\xBF", 3, 0xFFFD, 1);      // overlong
    one("\xED\xA0\x80", 3, 0xFFFD, 1);      // surrogate
    one("\xF0\x8F\xBF\xBF", 4, 0xFFFD, 1);  // overlong
    one("\xF4\x90\x80\x80", 4, 0xFFFD, 1);  // > U+10FFFF
    one("\xF5\x80\x80\x80", 4, 0xFFFD, 1);
    one("\xE2\x82", 2, 0xFFFD, 1);          // truncated
    one("\xE2\x82" "a", 3, 0xFFFD, 1);
    CHECK(heed::utf8::valid(reinterpret_cast<const uint8_t*>("h\xC3\xA9\xEF\xBF\xBD"), 6));
    CHECK(!heed::utf8::valid(reinterpret_cast<const uint8_t*>("h\xC3"), 2));
  }
}
