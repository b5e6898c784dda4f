// StopStrings (runtime/src/generate/stop-strings.h): the hold-back logic on
// its own, then through heed_generate_ids on the tiny causal LM with its
// byte-level tokenizer. Against transformers' text: tests/e2e/test_generate.py.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "generate/stop-strings.h"
#include "heed/heed.h"
#include "runtime/loaded-model.h"
#include "runtime/tiny-decoder.h"
#include "tokenizer/utf8.h"

namespace heed {
namespace {

// Feeds pieces one by one; records what each feed released.
struct Run {
  std::vector<std::string> strs;  // the strings stay here: StopStrings does not copy them
  std::vector<const char*> ptrs;
  std::vector<char> buffer;
  StopStrings s;
  std::vector<std::string> released;  // per feed (the final one included)
  bool stopped = false;
  size_t max_pending = 0;

  explicit Run(const std::vector<std::string>& stops) : strs(stops) {
    for (const std::string& x : strs) ptrs.push_back(x.c_str());
    REQUIRE(StopStrings::check(ptrs.data(), ptrs.size(), "stops").ok());
    buffer.resize(StopStrings::buffer_bytes(64));
    s.begin(ptrs.data(), ptrs.size(), buffer.data(), buffer.size());
  }
  void feed(const std::string& piece, bool last = false) {
    const char* out = nullptr;
    size_t n = 0;
    REQUIRE(s.feed(piece.data(), piece.size(), last, &out, &n, &stopped).ok());
    released.emplace_back(out, n);
    // Released text never ends inside a character.
    CHECK(utf8::valid(reinterpret_cast<const uint8_t*>(out), n));
    if (s.pending() > max_pending) max_pending = s.pending();
  }
  std::string text() const {
    std::string t;
    for (const auto& r : released) t += r;
    return t;
  }
};

// What the released text must be: the whole text cut before the earliest
// occurrence of any stop string.
std::string cut(const std::string& text, const std::vector<std::string>& stops, bool* found) {
  size_t at = std::string::npos;
  for (const std::string& s : stops) at = std::min(at, text.find(s));
  *found = at != std::string::npos;
  return *found ? text.substr(0, at) : text;
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("stop strings: a stop string split across pieces is held back, then dropped with what follows") {
  Run r({"END"});
  r.feed("the E");
  CHECK(r.released.back() == "the ");
  CHECK(r.s.pending() == 1);
  r.feed("N");
  CHECK(r.released.back() == "");
  CHECK(r.s.pending() == 2);
  r.feed("D and more");
  CHECK(r.stopped);
  CHECK(r.released.back() == "");
  CHECK(r.text() == "the ");
  r.feed("after", true);  // nothing after the stop
  CHECK(r.released.back() == "");
  CHECK(r.stopped);

  Run one({"END"});  // a stop string inside one piece: the text before it
  one.feed("so the ENDing");
  CHECK(one.stopped);
  CHECK(one.text() == "so the ");
}

TEST_CASE("stop strings: a partial prefix that does not complete is released with the next piece or at the end") {
  Run r({"END"});
  r.feed("the EN");
  CHECK(r.released.back() == "the ");
  r.feed("X");
  CHECK(r.released.back() == "ENX");
  CHECK_FALSE(r.stopped);
  r.feed(" E");
  CHECK(r.released.back() == " ");
  r.feed("", true);  // the end: the held "E" cannot become a stop string any more
  CHECK(r.released.back() == "E");
  CHECK(r.text() == "the ENX E");
  CHECK_FALSE(r.stopped);

  // A held prefix that fails while a later start still matches: "EEND".
  Run o({"END"});
  for (const char* p : {"E", "E", "N", "D"}) o.feed(p);
  CHECK(o.stopped);
  CHECK(o.released == std::vector<std::string>{"", "E", "", ""});
  // Overlapping starts of one string: "aaab" with "aab".
  Run a({"aab"});
  for (const char* p : {"a", "a", "a", "b"}) a.feed(p);
  CHECK(a.stopped);
  CHECK(a.text() == "a");
}

TEST_CASE("stop strings: multibyte UTF-8 stop strings and text; the earliest of several strings wins") {
  Run r({"\xC3\xA9!"});  // "é!"
  r.feed("caf");
  CHECK(r.released.back() == "caf");
  r.feed("\xC3\xA9");  // a whole "é" is held, never half of it
  CHECK(r.released.back() == "");
  CHECK(r.s.pending() == 2);
  r.feed("!");
  CHECK(r.stopped);
  CHECK(r.text() == "caf");

  Run j({"\xE6\x97\xA5\xE6\x9C\xAC"});  // 日本, text 日曜: 日 is held, then released with 曜
  j.feed("\xE6\x97\xA5");
  CHECK(j.released.back() == "");
  j.feed("\xE6\x9B\x9C");
  CHECK(j.released.back() == "\xE6\x97\xA5\xE6\x9B\x9C");
  CHECK_FALSE(j.stopped);

  Run m({"c d", "b c", "zzz"});
  m.feed("a b c d e");
  CHECK(m.stopped);
  CHECK(m.text() == "a ");
}

TEST_CASE("stop strings: random texts and splits give the text cut before the first stop string") {
  std::mt19937 rng(7);
  const std::vector<std::string> alphabet = {"a", "b", " ", "\xC3\xA9", "\xE2\x82\xAC", "ab"};
  size_t stops_found = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<std::string> stops;
    const int n_stops = 1 + int(rng() % 3);
    for (int i = 0; i < n_stops; ++i) {
      std::string s;
      const int len = 1 + int(rng() % 4);
      for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
      stops.push_back(s);
    }
    std::vector<std::string> pieces;
    std::string whole;
    const int n_pieces = int(rng() % 12);
    for (int i = 0; i < n_pieces; ++i) {
      std::string p;
      const int len = int(rng() % 4);
      for (int k = 0; k < len; ++k) p += alphabet[rng() % alphabet.size()];
      pieces.push_back(p);
      whole += p;
    }
    Run r(stops);
    size_t longest = 0;
    for (const auto& s : stops) longest = std::max(longest, s.size());
    std::string fed;
    for (size_t i = 0; i < pieces.size() && !r.stopped; ++i) {
      r.feed(pieces[i]);
      fed += pieces[i];
      bool found = false;
      const std::string want = cut(fed, stops, &found);
      if (!found) {
        // Released + held is the text so far; released is a prefix of the cut text.
        CHECK(r.text().size() + r.s.pending() == fed.size());
        CHECK(fed.compare(0, r.text().size(), r.text()) == 0);
        CHECK(r.s.pending() < longest);
      }
    }
    if (!r.stopped) r.feed("", true);
    // The reference: the text up to the first piece after which it holds a
    // stop string, cut before that text's earliest stop string.
    std::string upto;
    bool found = false;
    for (const std::string& p : pieces) {
      upto += p;
      cut(upto, stops, &found);
      if (found) break;
    }
    CAPTURE(whole);
    std::string all_stops;
    for (const auto& s : stops) all_stops += "[" + s + "]";
    std::string all_pieces;
    for (const auto& p : pieces) all_pieces += "[" + p + "]";
    CAPTURE(all_stops);
    CAPTURE(all_pieces);
    CHECK(r.text() == cut(upto, stops, &found));
    CHECK(r.stopped == found);
    stops_found += found;
  }
  CHECK(stops_found > 500);  // both outcomes are exercised
  CHECK(stops_found < 2500);
}

TEST_CASE("stop strings: bad strings are refused naming the index; none means every piece as it is") {
  const char* empty[] = {"ok", ""};
  const char* null[] = {"ok", nullptr};
  const char* bad_utf8[] = {"\xC3"};
  const std::string long_one(257, 'x');
  const char* too_long[] = {long_one.c_str()};
  const char* many[17];
  for (auto& p : many) p = "x";
  struct Case {
    const char* const* s;
    size_t n;
    const char* message;
  };
  const Case cases[] = {
      {nullptr, 1, "stops is NULL but its count is 1"},
      {empty, 2, "stops[1] is empty"},
      {null, 2, "stops[1] is NULL"},
      {bad_utf8, 1, "stops[0] is not valid UTF-8"},
      {too_long, 1, "stops[0] is longer than 256 bytes"},
      {many, 17, "17 stop strings, at most 16"},
  };
  for (const Case& c : cases) {
    const Status s = StopStrings::check(c.s, c.n, "stops");
    CHECK(s.code() == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(s.message()).find(c.message) != std::string::npos);
  }
  const std::string max_len(256, 'y');
  const char* fine[] = {max_len.c_str()};
  CHECK(StopStrings::check(fine, 1, "stops").ok());
  CHECK(StopStrings::check(nullptr, 0, "stops").ok());
  Run none({});
  none.feed("E");
  CHECK(none.released.back() == "E");
  CHECK(none.s.pending() == 0);
}

namespace {
struct Pieces {
  std::vector<int32_t> ids;
  std::vector<std::string> text;  // per call (id -1: the last)
  int calls_after_stop = 0;
};
int pieces(void* user, int32_t id, const char* text, size_t len) {
  auto* p = static_cast<Pieces*>(user);
  if (id >= 0) p->ids.push_back(id);
  p->text.emplace_back(text, len);
  return 0;
}
std::string joined(const Pieces& p) {
  std::string t;
  for (const auto& x : p.text) t += x;
  return t;
}
}  // namespace

TEST_CASE("heed_generate_ids with stop strings: text cut before the stop string, the completing id output") {
  conv::IrGraph g = test::tiny_decoder_graph(false);
  g.tokenizer = test::tiny_graph_bpe().tokenizer;
  for (int i = 16; i < 40; ++i) g.tokenizer.vocab.push_back("q" + std::to_string(i));
  test::Loaded m(g);
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_OK);
  const int32_t prompt[5] = {3, 17, 9, 30, 1};
  heed_generate_options o;
  heed_generate_options_init(&o);
  CHECK(o.stop_strings == nullptr);
  CHECK(o.num_stop_strings == 0);
  o.max_tokens = 30;
  Pieces ref;
  heed_generate_result r;
  REQUIRE(heed_generate_ids(s, prompt, 5, &o, pieces, &ref, &r) == HEED_OK);
  REQUIRE(r.stop == HEED_STOP_MAX_TOKENS);
  const std::string whole = joined(ref);
  REQUIRE(whole.size() > 12);
  // Cumulative text after each id (the streaming decoder's pieces).
  std::vector<std::string> upto;
  for (size_t i = 0; i < ref.ids.size(); ++i) upto.push_back((i ? upto.back() : "") + ref.text[i]);
  size_t tried = 0;
  // Every 3-byte and 5-byte substring that is whole UTF-8, as a stop string.
  for (size_t len : {size_t(3), size_t(5)}) {
    for (size_t at = 0; at + len <= whole.size(); at += 2) {
      const std::string stop = whole.substr(at, len);
      if (!utf8::valid(reinterpret_cast<const uint8_t*>(stop.data()), stop.size())) continue;
      CAPTURE(stop);
      const char* stops[2] = {"\x01never", stop.c_str()};
      o.stop_strings = stops;
      o.num_stop_strings = 2;
      Pieces got;
      REQUIRE(heed_generate_ids(s, prompt, 5, &o, pieces, &got, &r) == HEED_OK);
      const size_t first = whole.find(stop);
      CHECK(r.stop == HEED_STOP_STOP_STRING);
      CHECK(joined(got) == whole.substr(0, first));
      if (first + stop.size() > upto.back().size()) {  // completed by the decoder's final flush
        CHECK(got.ids == ref.ids);
        continue;
      }
      size_t k = 0;  // the id whose text completes the stop string
      while (upto[k].size() < first + stop.size()) ++k;
      CHECK(got.ids == std::vector<int32_t>(ref.ids.begin(), ref.ids.begin() + long(k + 1)));
      CHECK(r.generated_tokens == k + 1);
      CHECK(got.text.size() == k + 1);  // no id -1 call after a stop string
      ++tried;
    }
  }
  CHECK(tried > 5);
  // A stop string that never completes: the same ids and text as without it.
  const std::string miss = whole.substr(0, 4) + "\x02";
  const char* stops[1] = {miss.c_str()};
  o.stop_strings = stops;
  o.num_stop_strings = 1;
  Pieces got;
  REQUIRE(heed_generate_ids(s, prompt, 5, &o, pieces, &got, &r) == HEED_OK);
  CHECK(r.stop == HEED_STOP_MAX_TOKENS);
  CHECK(got.ids == ref.ids);
  CHECK(joined(got) == whole);

  // Errors name the field; a model without a tokenizer has no text to match.
  const char* bad[1] = {""};
  o.stop_strings = bad;
  CHECK(heed_generate_ids(s, prompt, 5, &o, pieces, &got, &r) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(heed_last_error()).find("options->stop_strings[0] is empty") != std::string::npos);
  o.stop_strings = nullptr;
  CHECK(heed_generate_ids(s, prompt, 5, &o, pieces, &got, &r) == HEED_ERROR_INVALID_ARGUMENT);
  heed_session_free(s);
  test::Loaded bare(test::tiny_decoder_graph(false));
  REQUIRE(heed_session_create(bare.model, nullptr, nullptr, 0, &s) == HEED_OK);
  o.stop_strings = stops;
  CHECK(heed_generate_ids(s, prompt, 5, &o, pieces, &got, &r) == HEED_ERROR_UNSUPPORTED);
  CHECK(std::string(heed_last_error()).find("stop strings need a model with a BPE tokenizer") != std::string::npos);
  heed_session_free(s);
}

}  // TEST_SUITE
}  // namespace heed
