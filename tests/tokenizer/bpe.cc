// BPE tokenizer (runtime/src/tokenizer/bpe.h) on hand-made tables: merge
// order, byte fallback and unk, the split regex, decoding and the stream,
// malformed tables through init() and through the model loader. The expected
// ids of the quirks below were read off tokenizers 0.19.1 (Python) on the same
// tables; tests/e2e/test_bpe_tokenizer.py compares real tokenizers with HF.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "format/model.h"
#include "heed/heed.hpp"
#include "ir.h"
#include "runtime/loaded-model.h"
#include "runtime/tiny-model.h"
#include "tokenizer/bpe.h"
#include "tokenizer/utf8.h"

namespace {

using heed::BpeConfig;
using heed::BpeKind;
using heed::BpeTokenizer;
using heed::Status;

struct Tables {
  std::vector<uint8_t> pieces;
  std::vector<uint32_t> offsets{0};
  std::vector<uint32_t> merges;
  std::vector<std::string> vocab;
  int32_t id(const std::string& p) const {
    for (size_t i = 0; i < vocab.size(); ++i)
      if (vocab[i] == p) return int32_t(i);
    return -1;
  }
};

Tables tables(const std::vector<std::string>& vocab, const std::vector<std::pair<std::string, std::string>>& merges) {
  Tables t;
  t.vocab = vocab;
  for (const std::string& p : vocab) {
    t.pieces.insert(t.pieces.end(), p.begin(), p.end());
    t.offsets.push_back(uint32_t(t.pieces.size()));
  }
  for (const auto& [a, b] : merges) {
    t.merges.push_back(uint32_t(t.id(a)));
    t.merges.push_back(uint32_t(t.id(b)));
  }
  return t;
}

Status init(BpeTokenizer* tok, const BpeConfig& cfg, const Tables& t) {
  return tok->init(cfg, t.pieces.data(), t.pieces.size(), t.offsets.data(), t.offsets.size(), t.merges.data(),
                   t.merges.size() / 2);
}

std::vector<int32_t> encode(const BpeTokenizer& tok, const std::string& text, bool add_special = true) {
  std::vector<unsigned char> scratch(BpeTokenizer::scratch_bytes(text.size()));
  std::vector<int32_t> ids(text.size() * 4 + 8);
  size_t n = 0;
  Status st = tok.encode(text.data(), text.size(), add_special, scratch.data(), scratch.size(), ids.data(), ids.size(), &n);
  REQUIRE_MESSAGE(st.ok(), st.message());
  ids.resize(n);
  return ids;
}

std::string decode(const BpeTokenizer& tok, const std::vector<int32_t>& ids, bool skip = false) {
  size_t len = 0;
  Status st = tok.decode(ids.data(), ids.size(), skip, nullptr, 0, &len);
  REQUIRE((st.ok() || st.code() == HEED_ERROR_BUFFER_TOO_SMALL));
  std::string out(len, '\0');
  REQUIRE(tok.decode(ids.data(), ids.size(), skip, out.data(), out.size(), &len).ok());
  return out;
}

// The stream's chunks, each checked to be complete UTF-8 by itself.
std::string stream(const BpeTokenizer& tok, const std::vector<int32_t>& ids, std::vector<std::string>* chunks = nullptr) {
  BpeTokenizer::DecodeState st;
  tok.stream_begin(&st, false);
  std::vector<char> buf(tok.stream_max_bytes());
  std::string all;
  for (size_t i = 0; i <= ids.size(); ++i) {
    size_t len = 0;
    Status s = i < ids.size() ? tok.stream_feed(&st, ids[i], buf.data(), buf.size(), &len)
                              : tok.stream_end(&st, buf.data(), buf.size(), &len);
    REQUIRE(s.ok());
    const std::string c(buf.data(), len);
    CHECK(heed::utf8::valid(reinterpret_cast<const uint8_t*>(c.data()), c.size()));
    if (chunks) chunks->push_back(c);
    all += c;
  }
  return all;
}

std::string b2(uint8_t b) {  // GPT-2's character for one byte, as UTF-8
  uint32_t cp = b;
  if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)) {
    uint32_t n = 0;
    for (uint32_t x = 0; x < b; ++x)
      if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) ++n;
    cp = 256 + n;
  }
  char u[4];
  return std::string(u, heed::utf8::encode(cp, u));
}

BpeConfig sp_config() {
  BpeConfig c;
  c.kind = BpeKind::kSentencePiece;
  c.flags = heed::kBpePrependSpace | heed::kBpeReplaceSpace | heed::kBpeByteFallback | heed::kBpeFuseUnk;
  c.unk_id = 0;
  c.bos_id = 1;
  c.decode_strip = 1;
  c.special_ids = {0, 1, 2};
  return c;
}

const char kM[] = "\xE2\x96\x81";  // U+2581

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("bpe: lowest rank first, leftmost among equal ranks") {
  BpeConfig c;
  c.kind = BpeKind::kByteLevel;
  {
    Tables t = tables({"a", "b", "c", "ab", "bc", "abc"}, {{"b", "c"}, {"a", "b"}, {"a", "bc"}});
    BpeTokenizer tok;
    REQUIRE(init(&tok, c, t).ok());
    CHECK(encode(tok, "abc") == std::vector<int32_t>{t.id("abc")});  // b+c, then a+bc
    CHECK(encode(tok, "abab") == std::vector<int32_t>{t.id("ab"), t.id("ab")});
  }
  {
    // a+b before b+c, then no "ab c" merge: [ab, c].
    Tables t = tables({"a", "b", "c", "ab", "bc", "abc"}, {{"a", "b"}, {"b", "c"}, {"a", "bc"}});
    BpeTokenizer tok;
    REQUIRE(init(&tok, c, t).ok());
    CHECK(encode(tok, "abc") == std::vector<int32_t>{t.id("ab"), t.id("c")});
  }
  {
    Tables t = tables({"a", "aa", "aaa"}, {{"a", "a"}, {"aa", "a"}});
    BpeTokenizer tok;
    REQUIRE(init(&tok, c, t).ok());
    CHECK(encode(tok, "aaa") == std::vector<int32_t>{t.id("aaa")});        // (a a) a -> aa a -> aaa
    CHECK(encode(tok, "aaaa") == std::vector<int32_t>{t.id("aa"), t.id("aa")});  // leftmost pairs first
    CHECK(encode(tok, "aaaaa") == std::vector<int32_t>{t.id("aa"), t.id("aaa")});  // then aa+a on the right
  }
  {
    // A pair listed twice keeps its later rank (HF's merge map): "a b" is rank 3,
    // after "b c" (2), so "abc" is a + bc.
    Tables t = tables({"a", "b", "c", "x", "y", "ab", "bc", "xy"}, {{"x", "y"}, {"a", "b"}, {"b", "c"}, {"a", "b"}});
    BpeTokenizer tok;
    REQUIRE(init(&tok, c, t).ok());
    CHECK(encode(tok, "abc") == std::vector<int32_t>{t.id("a"), t.id("bc")});
  }
}

TEST_CASE("bpe: byte-level split regex") {
  // One piece per character plus the space forms, no merges: ids show the pieces.
  std::vector<std::string> v;
  for (int b = 0; b < 256; ++b) v.push_back(b2(uint8_t(b)));
  v.push_back(b2(' ') + "a");  // so the test can see merges never cross pieces
  std::vector<std::pair<std::string, std::string>> m = {{b2(' '), "a"}};
  Tables t = tables(v, m);
  BpeConfig c;
  c.kind = BpeKind::kByteLevel;
  BpeTokenizer tok;
  REQUIRE(init(&tok, c, t).ok());
  const int32_t sa = 256;
  auto ids = [&](const std::string& s) { return encode(tok, s); };
  CHECK(ids(" a") == std::vector<int32_t>{sa});
  CHECK(ids("  a") == std::vector<int32_t>{' ', sa});       // '\s+(?!\S)' leaves the last space
  CHECK(ids("\ta") == std::vector<int32_t>{'\t', 'a'});     // only U+0020 joins a word
  CHECK(ids("a  ") == std::vector<int32_t>{'a', ' ', ' '});  // trailing run: one piece, no merge
  CHECK(decode(tok, ids("it's a  b\t\tc   ")) == "it's a  b\t\tc   ");
  // The prefix space option.
  BpeConfig p = c;
  p.flags = heed::kBpeAddPrefixSpace;
  BpeTokenizer tp;
  REQUIRE(init(&tp, p, t).ok());
  CHECK(encode(tp, "a") == std::vector<int32_t>{sa});
  CHECK(encode(tp, " a") == std::vector<int32_t>{sa});
  // Decoding maps characters back to bytes; lossy UTF-8 over the whole text.
  CHECK(decode(tok, {0xE2, 0x82, 0xAC}) == "\xE2\x82\xAC");
  CHECK(decode(tok, {0xE2, 0x82, 'a'}) == "\xEF\xBF\xBD" "a");   // one U+FFFD for the maximal subpart
  CHECK(decode(tok, {0xFF, 0xC3}) == "\xEF\xBF\xBD\xEF\xBF\xBD");
  std::vector<std::string> chunks;
  CHECK(stream(tok, {'x', 0xE2, 0x82, 0xAC, 0xF0, 0x9F}, &chunks) == "x\xE2\x82\xAC\xEF\xBF\xBD");
  CHECK(chunks == std::vector<std::string>{"x", "", "", "\xE2\x82\xAC", "", "", "\xEF\xBF\xBD"});
}

TEST_CASE("bpe: sentencepiece normalizer, byte fallback, unk") {
  // <unk> <s> </s>, byte pieces for 0xC3 0xA9 only, then pieces.
  Tables t = tables({"<unk>", "<s>", "</s>", "<0xC3>", "<0xA9>", kM, "a", "b", std::string(kM) + "a", "ab"},
                    {{kM, "a"}, {"a", "b"}});
  BpeTokenizer tok;
  REQUIRE(init(&tok, sp_config(), t).ok());
  const int32_t M = t.id(kM), Ma = t.id(std::string(kM) + "a"), ab = t.id("ab");
  CHECK(encode(tok, "a b") == std::vector<int32_t>{1, Ma, M, t.id("b")});
  CHECK(encode(tok, "a b", false) == std::vector<int32_t>{Ma, M, t.id("b")});
  CHECK(encode(tok, "") == std::vector<int32_t>{1});
  // HF's quirk: byte-fallback pieces go in before a pending (fused) unk.
  CHECK(encode(tok, "xxé") == std::vector<int32_t>{1, M, 3, 4, 0});
  CHECK(encode(tok, "xxéab") == std::vector<int32_t>{1, M, 3, 4, 0, ab});
  // Added tokens split the text; each segment gets its own U+2581.
  CHECK(encode(tok, "a<s>a") == std::vector<int32_t>{1, Ma, 1, Ma});
  CHECK(encode(tok, "</s>") == std::vector<int32_t>{1, 2});
  // Decoding: U+2581 -> ' ', bytes fused, one leading space stripped.
  CHECK(decode(tok, {Ma, M, t.id("b")}) == "a b");
  CHECK(decode(tok, {1, Ma}) == "<s> a");
  CHECK(decode(tok, {1, Ma}, true) == "a");
  CHECK(decode(tok, {3, 4}) == "\xC3\xA9");
  CHECK(decode(tok, {3, 4, 3}) == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // an invalid run: U+FFFD per byte
  CHECK(decode(tok, {3, ab, 4}) == "\xEF\xBF\xBD" "ab" "\xEF\xBF\xBD");
  for (const std::vector<int32_t>& ids : std::vector<std::vector<int32_t>>{
           {3, 4}, {3, 4, 3}, {4, 3, 4}, {3, ab, 4}, {M, 3, 4, M}, {1, 3, 1, 4}, {}}) {
    CHECK(stream(tok, ids) == decode(tok, ids));
  }
  // Without fusing, each unknown character is one unk.
  BpeConfig c = sp_config();
  c.flags &= ~heed::kBpeFuseUnk;
  BpeTokenizer nf;
  REQUIRE(init(&nf, c, t).ok());
  CHECK(encode(nf, "xx") == std::vector<int32_t>{1, M, 0, 0});
  // Without unk, unknown characters are dropped.
  c.unk_id = -1;
  c.flags &= ~heed::kBpeByteFallback;
  BpeTokenizer nu;
  REQUIRE(init(&nu, c, t).ok());
  CHECK(encode(nu, "xé") == std::vector<int32_t>{1, M});
}

TEST_CASE("bpe: the stream holds a valid byte run of any length, and never splits a character") {
  std::vector<std::string> v = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.push_back(name);
  }
  v.push_back("z");
  Tables t = tables(v, {});
  BpeTokenizer tok;
  REQUIRE(init(&tok, sp_config(), t).ok());
  std::vector<int32_t> ids;
  for (int i = 0; i < 400; ++i) {  // 400 x U+20AC: 1200 byte tokens, past kStreamHold
    ids.push_back(3 + 0xE2);
    ids.push_back(3 + 0x82);
    ids.push_back(3 + 0xAC);
  }
  std::vector<std::string> chunks;
  const std::string s = stream(tok, ids, &chunks);
  CHECK(s == decode(tok, ids));
  size_t longest = 0;
  for (const std::string& c : chunks) longest = std::max(longest, c.size());
  CHECK(longest <= BpeTokenizer::kStreamHold + 4);
  ids.push_back(int32_t(v.size()) - 1);  // z
  ids.push_back(3 + 0xE2);               // a cut character at the end: U+FFFD
  CHECK(stream(tok, ids) == decode(tok, ids));
  CHECK(decode(tok, ids).substr(decode(tok, ids).size() - 4) == "z\xEF\xBF\xBD");
}

TEST_CASE("bpe: caller buffers and arguments") {
  Tables t = tables({"<unk>", "<s>", "</s>", kM, "a"}, {});
  BpeTokenizer tok;
  REQUIRE(init(&tok, sp_config(), t).ok());
  std::vector<unsigned char> scratch(BpeTokenizer::scratch_bytes(3));
  int32_t ids[8];
  size_t n = 99;
  CHECK(tok.encode("a a", 3, true, scratch.data(), scratch.size() - 1, ids, 8, &n).code() == HEED_ERROR_BUFFER_TOO_SMALL);
  CHECK(n == 0);
  CHECK(tok.encode("a a", 3, true, scratch.data(), scratch.size(), ids, 2, &n).code() == HEED_ERROR_BUFFER_TOO_SMALL);
  CHECK(n == 5);
  CHECK(ids[0] == 1);
  CHECK(tok.encode(nullptr, 3, true, scratch.data(), scratch.size(), ids, 8, &n).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(tok.encode("a", 1, true, scratch.data(), scratch.size(), ids, 8, nullptr).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(BpeTokenizer::scratch_bytes(BpeTokenizer::kMaxTextBytes + 1) == 0);
  char out[4];
  size_t len = 0;
  const int32_t bad[1] = {5};
  CHECK(tok.decode(bad, 1, false, out, 4, &len).code() == HEED_ERROR_INVALID_INPUT);
  const int32_t ok[2] = {4, 4};
  CHECK(tok.decode(ok, 2, false, out, 1, &len).code() == HEED_ERROR_BUFFER_TOO_SMALL);
  CHECK(len == 2);
  BpeTokenizer::DecodeState st;
  std::vector<char> buf(tok.stream_max_bytes());
  CHECK(tok.stream_feed(&st, 4, buf.data(), buf.size(), &len).code() == HEED_ERROR_INVALID_ARGUMENT);  // not begun
  tok.stream_begin(&st, false);
  CHECK(tok.stream_feed(&st, 4, buf.data(), buf.size() - 1, &len).code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(tok.stream_feed(&st, -1, buf.data(), buf.size(), &len).code() == HEED_ERROR_INVALID_INPUT);
  CHECK(tok.stream_feed(&st, 4, buf.data(), buf.size(), &len).ok());
  BpeTokenizer none;
  CHECK(none.encode("a", 1, true, scratch.data(), scratch.size(), ids, 8, &n).code() == HEED_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("bpe: malformed tables are refused by init") {
  const Tables good = tables({"<unk>", "<s>", "</s>", kM, "a", std::string(kM) + "a"}, {{kM, "a"}});
  auto status = [](const BpeConfig& c, const Tables& t) {
    BpeTokenizer tok;
    Status s = init(&tok, c, t);
    CHECK(!tok.ready() == !s.ok());
    return s;
  };
  CHECK(status(sp_config(), good).ok());
  auto refused = [&](const BpeConfig& c, const Tables& t, const char* words) {
    Status s = status(c, t);
    CHECK(s.code() == HEED_ERROR_INVALID_MODEL);
    CHECK_MESSAGE(std::strstr(s.message(), words) != nullptr, s.message());
  };
  Tables t = good;
  t.merges[1] = 6;  // id out of range
  refused(sp_config(), t, "outside the vocabulary");
  t = good;
  t.merges = {4, 4};  // "aa" is not a piece
  refused(sp_config(), t, "not in the vocabulary");
  t = good;
  t.merges.push_back(4);  // odd count reaches init only through the loader; here one pair short of data
  t.merges.resize(4);
  refused(sp_config(), t, "merges[1]");
  t = tables({"a", "b", "a"}, {});
  refused(sp_config(), t, "are equal");
  t = good;
  t.offsets[2] = t.offsets[1];  // empty piece
  refused(sp_config(), t, "empty");
  t = good;
  t.pieces[0] = 0xFF;
  refused(sp_config(), t, "UTF-8");
  BpeConfig c = sp_config();
  c.bos_id = 6;
  refused(c, good, "bos");
  c = sp_config();
  c.unk_id = -2;
  refused(c, good, "unk");
  c = sp_config();
  c.flags |= heed::kBpeAddPrefixSpace;  // a byte-level flag
  refused(c, good, "flags");
  c = sp_config();
  c.kind = BpeKind::kByteLevel;  // decode_strip is sentencepiece only
  c.flags = 0;
  refused(c, good, "decode_strip");
  c = sp_config();
  c.kind = static_cast<BpeKind>(7);
  refused(c, good, "kind");
  c = sp_config();
  c.special_ids.assign(BpeTokenizer::kMaxAddedTokens + 1, 0);
  refused(c, good, "cap");
  c = sp_config();
  c.added_ids = {9};
  refused(c, good, "added_ids[0]");
}

TEST_CASE("bpe: the loader checks the Tokenizer table (tokenizer-only files)") {
  heed::conv::IrTokenizer ir;
  ir.kind = heed::TokenizerKind::kBpeSentencePiece;
  ir.vocab = {"<unk>", "<s>", "</s>", kM, "a", std::string(kM) + "a"};
  ir.merges = {3, 4};
  ir.bpe_flags = heed::kBpePrependSpace | heed::kBpeReplaceSpace;
  ir.unk_id = 0;
  ir.bos_id = 1;
  ir.decode_strip = 1;
  ir.special_ids = {0, 1, 2};
  auto load = [](const heed::conv::IrTokenizer& t, heed::ModelTokenizer* out) {
    std::vector<uint8_t> bytes;
    REQUIRE(heed::conv::write_tokenizer_model(t, &bytes).ok());
    heed::test::AlignedBytes a(bytes);
    return heed::load_tokenizer_only(a.data(), a.size, out);
  };
  heed::ModelTokenizer mt;
  REQUIRE(load(ir, &mt).ok());
  CHECK(mt.kind == heed::TokenizerKind::kBpeSentencePiece);
  CHECK(encode(mt.bpe, "a a") == std::vector<int32_t>{1, 5, 5});
  heed::conv::IrTokenizer bad = ir;
  bad.merges = {3, 4, 4};  // not pairs
  CHECK(load(bad, &mt).code() == HEED_ERROR_INVALID_MODEL);
  bad = ir;
  bad.bpe_flags = 1u << 20;
  CHECK(load(bad, &mt).code() == HEED_ERROR_INVALID_MODEL);
  bad = ir;
  bad.kind = static_cast<heed::TokenizerKind>(9);
  CHECK(load(bad, &mt).code() == HEED_ERROR_UNSUPPORTED);
  // Every prefix of the file is refused (A1).
  std::vector<uint8_t> bytes;
  REQUIRE(heed::conv::write_tokenizer_model(ir, &bytes).ok());
  for (size_t n = 0; n < bytes.size(); n += 7) {
    heed::test::AlignedBytes a(std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(n)));
    heed::ModelTokenizer t;
    CHECK(!heed::load_tokenizer_only(a.data(), a.size, &t).ok());
  }
}

TEST_CASE("bpe: a model whose BPE tokenizer does not match its embedding table is refused") {
  heed::conv::IrGraph g = heed::test::tiny_graph_bpe();
  g.tokenizer.vocab.push_back("extra");  // 17 pieces, 16 embedding rows
  heed::test::AlignedBytes a(heed::test::serialize(g));
  heed_model* m = nullptr;
  CHECK(heed_model_load_from_buffer(a.data(), a.size, &m) == HEED_ERROR_INVALID_MODEL);
  CHECK(std::strstr(heed_last_error(), "17 pieces") != nullptr);
  CHECK(m == nullptr);
  g = heed::test::tiny_graph_bpe();
  g.tokenizer.merges[0] = 16;  // a merge id past the vocabulary
  heed::test::AlignedBytes b(heed::test::serialize(g));
  CHECK(heed_model_load_from_buffer(b.data(), b.size, &m) == HEED_ERROR_INVALID_MODEL);
  CHECK(std::strstr(heed_last_error(), "merges[0]") != nullptr);
}

TEST_CASE("bpe: C API on a model with a BPE tokenizer") {
  // The tiny graph has 16 embedding rows: a 16-piece byte-level tokenizer.
  heed::conv::IrGraph g = heed::test::tiny_graph_bpe();
  heed::test::Loaded m(g);
  heed_model_info info;
  REQUIRE(heed_model_get_info(m.model, &info) == HEED_OK);
  CHECK(info.vocab_size == 16);
  int32_t ids[16];
  size_t n = 0;
  REQUIRE(heed_tokenize(m.model, "ab ab xyz<|endoftext|>", SIZE_MAX, ids, 16, &n) == HEED_OK);
  // "ab" " ab" " xyz": x+y (rank 2) comes before " "+x (rank 4), then xy+z.
  CHECK(std::vector<int32_t>(ids, ids + n) == std::vector<int32_t>{5, 6, 4, 14, 0});
  REQUIRE(heed_tokenize(m.model, "\xC3\xA9", SIZE_MAX, ids, 16, &n) == HEED_OK);
  CHECK(std::vector<int32_t>(ids, ids + n) == std::vector<int32_t>{9});
  size_t bytes = 0;
  REQUIRE(heed_tokenize_scratch_size(m.model, 5, &bytes) == HEED_OK);
  CHECK(bytes == BpeTokenizer::scratch_bytes(5));
  std::vector<unsigned char> scratch(bytes);
  CHECK(heed_tokenize_with_scratch(m.model, "ab ab", 5, scratch.data(), bytes - 1, ids, 16, &n) ==
        HEED_ERROR_BUFFER_TOO_SMALL);
  REQUIRE(heed_tokenize_with_scratch(m.model, "ab ab", 5, scratch.data(), bytes, ids, 16, &n) == HEED_OK);
  CHECK(n == 2);
  char text[64];
  size_t len = 0;
  const int32_t seq[6] = {5, 6, 0, 15, 7, 8};
  REQUIRE(heed_detokenize(m.model, seq, 6, 0, text, sizeof text, &len) == HEED_OK);
  CHECK(std::string(text, len) == "ab ab<|endoftext|> x\xC3\xA9");
  const int32_t cut[1] = {7};  // byte 0xC3 alone
  REQUIRE(heed_detokenize(m.model, cut, 1, 0, text, sizeof text, &len) == HEED_OK);
  CHECK(std::string(text, len) == "\xEF\xBF\xBD");
  REQUIRE(heed_detokenize(m.model, seq, 3, 1, text, sizeof text, &len) == HEED_OK);
  CHECK(std::string(text, len) == "ab ab");
  const int32_t out_of_range[1] = {16};
  CHECK(heed_detokenize(m.model, out_of_range, 1, 0, text, sizeof text, &len) == HEED_ERROR_INVALID_INPUT);
  heed_decode_stream* s = nullptr;
  REQUIRE(heed_decode_stream_create(m.model, 0, &s) == HEED_OK);
  std::vector<char> buf(heed_decode_stream_max_bytes(s));
  std::string joined;
  for (int32_t id : {5, 6, 0, 15}) {
    REQUIRE(heed_decode_stream_feed(s, id, buf.data(), buf.size(), &len) == HEED_OK);
    joined.append(buf.data(), len);
  }
  REQUIRE(heed_decode_stream_finish(s, buf.data(), buf.size(), &len) == HEED_OK);
  joined.append(buf.data(), len);
  CHECK(joined == "ab ab<|endoftext|> x");
  CHECK(heed_decode_stream_feed(s, 16, buf.data(), buf.size(), &len) == HEED_ERROR_INVALID_INPUT);
  CHECK(heed_decode_stream_feed(s, 1, buf.data(), 1, &len) == HEED_ERROR_INVALID_ARGUMENT);
  heed_decode_stream_free(s);
  // Text input to a BPE model's session is not supported yet: a clear error.
  heed_session* se = nullptr;
  REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &se) == HEED_OK);
  float out[32];
  CHECK(heed_embed_text(se, "ab", SIZE_MAX, out, 32, &n) == HEED_ERROR_UNSUPPORTED);
  heed_session_free(se);
  // WordPiece models: detokenize and streams are unsupported; tokenize needs no scratch.
  heed::test::Loaded wp(heed::test::tiny_graph(false));
  CHECK(heed_detokenize(wp.model, seq, 1, 0, text, sizeof text, &len) == HEED_ERROR_UNSUPPORTED);
  CHECK(heed_decode_stream_create(wp.model, 0, &s) == HEED_ERROR_UNSUPPORTED);
  CHECK(s == nullptr);
  REQUIRE(heed_tokenize_scratch_size(wp.model, 100, &bytes) == HEED_OK);
  CHECK(bytes == 0);
  REQUIRE(heed_tokenize_with_scratch(wp.model, "the cat", SIZE_MAX, nullptr, 0, ids, 16, &n) == HEED_OK);
  CHECK(std::vector<int32_t>(ids, ids + n) == std::vector<int32_t>{2, 5, 6, 3});
}

TEST_CASE("bpe: C++ wrapper tokenize (no truncation) and detokenize") {
  heed::wrapper::Model model;
  heed::test::AlignedBytes a(heed::test::serialize(heed::test::tiny_graph_bpe()));
  REQUIRE_FALSE(heed::wrapper::Model::load_from_buffer(a.data(), a.size, &model));
  std::string text;
  for (int i = 0; i < 100; ++i) text += "ab ";  // "ab", 99 x " ab", " ": past the model's 64 positions
  std::vector<int32_t> ids;
  REQUIRE_FALSE(model.tokenize(text, &ids));
  CHECK(ids.size() == 101);
  std::string back;
  REQUIRE_FALSE(model.detokenize(ids, &back));
  CHECK(back == text);
  CHECK(model.detokenize({16}, &back).code == HEED_ERROR_INVALID_INPUT);
}

}  // TEST_SUITE
