// The Generator's stop conditions and argument checks on the tiny causal LM
// (tests/runtime/tiny-decoder.h), directly and through heed_generate_ids /
// heed_generate. Greedy ids against transformers: tests/e2e/test_generate.py.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "exec/session.h"
#include "format/model.h"
#include "generate/generator.h"
#include "heed/heed.h"
#include "runtime/loaded-model.h"
#include "runtime/tiny-decoder.h"

namespace heed {
namespace {

// The tiny decoder (vocabulary 40) with a byte-level BPE tokenizer of 40
// pieces (those of tiny_graph_bpe, then "q16".."q39") whose eos id is `eos`.
conv::IrGraph decoder_with_tokenizer(int32_t eos) {
  conv::IrGraph g = test::tiny_decoder_graph(false);
  g.tokenizer = test::tiny_graph_bpe().tokenizer;
  for (int i = 16; i < 40; ++i) g.tokenizer.vocab.push_back("q" + std::to_string(i));
  g.tokenizer.eos_id = eos;
  return g;
}

struct Fixture {
  test::AlignedBytes bytes;
  Model model;
  Session session;
  Generator gen;
  explicit Fixture(const conv::IrGraph& g, size_t max_seq = 0, bool last_only = false) : bytes(test::serialize(g)) {
    REQUIRE(bytes.size > 0);
    REQUIRE(model.load_buffer(bytes.data(), bytes.size).ok());
    SessionOptions o;
    o.max_seq = max_seq;
    o.last_logits_only = last_only;
    REQUIRE(session.init(&model, o, nullptr, 0).ok());
    const Status st = gen.init(&session);
    REQUIRE_MESSAGE(st.ok(), st.message());
  }
};

struct Collect {
  std::vector<int32_t> ids;
  size_t stop_after = SIZE_MAX;
};
bool collect(void* user, int32_t id) {
  auto* c = static_cast<Collect*>(user);
  c->ids.push_back(id);
  return c->ids.size() < c->stop_after;
}

const int32_t kPrompt[5] = {3, 17, 9, 30, 1};

std::vector<int32_t> greedy(Fixture& f, size_t n) {
  GenerateParams p;
  p.max_tokens = n;
  p.ignore_eos = true;
  Collect c;
  GenerateResult r;
  REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
  REQUIRE(c.ids.size() == n);
  return c.ids;
}

}  // namespace

TEST_SUITE("fast") {

TEST_CASE("generator: max_tokens, context full, callback stop; the history is prompt + output") {
  Fixture f(test::tiny_decoder_graph(false), 12);
  CHECK(f.gen.eos_id() == -1);
  CHECK(f.gen.vocab() == 40);
  GenerateParams p;
  p.max_tokens = 4;
  Collect c;
  GenerateResult r;
  REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
  CHECK(r.stop == StopReason::kMaxTokens);
  CHECK(r.prompt_tokens == 5);
  CHECK(r.generated_tokens == 4);
  REQUIRE(c.ids.size() == 4);
  REQUIRE(f.gen.history_len() == 9);
  for (size_t i = 0; i < 5; ++i) CHECK(f.gen.history()[i] == kPrompt[i]);
  for (size_t i = 0; i < 4; ++i) CHECK(f.gen.history()[5 + i] == c.ids[i]);

  // max_seq 12: 7 ids after a 5-id prompt, then a stop (not an error).
  p.max_tokens = 100;
  c = Collect();
  REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
  CHECK(r.stop == StopReason::kContextFull);
  CHECK(r.generated_tokens == 7);
  CHECK(std::vector<int32_t>(c.ids.begin(), c.ids.begin() + 4) == greedy(f, 4));  // greedy is deterministic
  // max_tokens = room left: max_tokens wins.
  p.max_tokens = 7;
  REQUIRE(f.gen.generate(kPrompt, 5, p, nullptr, nullptr, &r).ok());
  CHECK(r.stop == StopReason::kMaxTokens);
  // A full prompt generates nothing.
  const int32_t full[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  REQUIRE(f.gen.generate(full, 12, p, nullptr, nullptr, &r).ok());
  CHECK(r.stop == StopReason::kContextFull);
  CHECK(r.generated_tokens == 0);

  c = Collect();
  c.stop_after = 3;
  p.max_tokens = 6;
  REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
  CHECK(r.stop == StopReason::kCallback);
  CHECK(r.generated_tokens == 3);

  p.max_tokens = 0;
  REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
  CHECK(r.stop == StopReason::kMaxTokens);
  CHECK(r.generated_tokens == 0);
}

TEST_CASE("generator: a last_logits_only session gives the ids of a full-logits one (greedy, sampling, prompt of 1)") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    Fixture full(test::tiny_decoder_graph(int8), 40);
    Fixture last(test::tiny_decoder_graph(int8), 40, true);
    CHECK(last.session.last_logits_only());
    CHECK_FALSE(full.session.last_logits_only());
    CHECK(last.session.arena_bytes() < full.session.arena_bytes());
    for (float temp : {0.0f, 0.8f}) {
      for (size_t prompt_len : {size_t(1), size_t(5)}) {
        CAPTURE(temp);
        CAPTURE(prompt_len);
        GenerateParams p;
        p.max_tokens = 30;
        p.ignore_eos = true;
        p.sampler.temperature = temp;
        p.sampler.top_k = 10;
        p.sampler.seed = 3;
        Collect a, b;
        GenerateResult ra, rb;
        REQUIRE(full.gen.generate(kPrompt, prompt_len, p, collect, &a, &ra).ok());
        REQUIRE(last.gen.generate(kPrompt, prompt_len, p, collect, &b, &rb).ok());
        CHECK(a.ids.size() == 30);
        CHECK(a.ids == b.ids);
      }
    }
  }
}

TEST_CASE("generator: a stop id and the eos id end generation and are not output; ignore_eos keeps going") {
  std::vector<int32_t> ref;
  {
    Fixture f(test::tiny_decoder_graph(false));
    ref = greedy(f, 10);
  }
  const int32_t target = ref[3];
  size_t first = 0;
  while (ref[first] != target) ++first;
  {
    Fixture f(test::tiny_decoder_graph(false));
    GenerateParams p;
    p.max_tokens = 10;
    const int32_t stops[2] = {39, target};
    p.stop_ids = stops;
    p.num_stop_ids = 2;
    Collect c;
    GenerateResult r;
    REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
    CHECK(r.stop == StopReason::kStopId);
    CHECK(r.generated_tokens == first);
    CHECK(c.ids == std::vector<int32_t>(ref.begin(), ref.begin() + long(first)));
  }
  {
    Fixture f(decoder_with_tokenizer(target));
    CHECK(f.gen.eos_id() == target);
    GenerateParams p;
    p.max_tokens = 10;
    Collect c;
    GenerateResult r;
    REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
    CHECK(r.stop == StopReason::kEos);
    CHECK(c.ids == std::vector<int32_t>(ref.begin(), ref.begin() + long(first)));
    p.ignore_eos = true;
    c = Collect();
    REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
    CHECK(r.stop == StopReason::kMaxTokens);
    CHECK(c.ids == ref);
  }
}

TEST_CASE("generator: any of the file's generation eos ids ends generation; they replace the tokenizer's") {
  std::vector<int32_t> ref;
  {
    Fixture f(test::tiny_decoder_graph(false));
    ref = greedy(f, 10);
  }
  // Two eos ids, both generated greedily: the first one drawn stops.
  const int32_t a = ref[2], b = ref[5];
  size_t first = 0;
  while (ref[first] != a && ref[first] != b) ++first;
  conv::IrGraph g = decoder_with_tokenizer(-1);
  g.has_generation = true;
  g.eos_ids = {b, 39, a};
  {
    Fixture f(g);
    CHECK(f.gen.eos_ids() == g.eos_ids);
    GenerateParams p;
    p.max_tokens = 10;
    Collect c;
    GenerateResult r;
    REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
    CHECK(r.stop == StopReason::kEos);
    CHECK(c.ids == std::vector<int32_t>(ref.begin(), ref.begin() + long(first)));
    p.ignore_eos = true;
    c = Collect();
    REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
    CHECK(r.stop == StopReason::kMaxTokens);
    CHECK(c.ids == ref);
  }
  // The tokenizer's eos is ignored when the file has a generation table
  // (here: with no eos ids at all).
  g = decoder_with_tokenizer(ref[0]);
  g.has_generation = true;
  {
    Fixture f(g);
    CHECK(f.gen.eos_ids().empty());
    CHECK(f.gen.eos_id() == -1);
    GenerateParams p;
    p.max_tokens = 10;
    Collect c;
    GenerateResult r;
    REQUIRE(f.gen.generate(kPrompt, 5, p, collect, &c, &r).ok());
    CHECK(r.stop == StopReason::kMaxTokens);
    CHECK(c.ids == ref);
  }
}

TEST_CASE("generator: bad arguments and a model that is not a causal LM") {
  Fixture f(test::tiny_decoder_graph(false), 8);
  GenerateParams p;
  GenerateResult r;
  const int32_t nine[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  CHECK(f.gen.generate(kPrompt, 0, p, nullptr, nullptr, &r).code() == HEED_ERROR_INVALID_INPUT);
  CHECK(f.gen.generate(nine, 9, p, nullptr, nullptr, &r).code() == HEED_ERROR_INVALID_INPUT);
  const int32_t bad_id[2] = {1, 40};
  CHECK(f.gen.generate(bad_id, 2, p, nullptr, nullptr, &r).code() == HEED_ERROR_INVALID_INPUT);
  p.sampler.top_p = 1.5f;
  Status st = f.gen.generate(kPrompt, 5, p, nullptr, nullptr, &r);
  CHECK(st.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(st.message()).find("top_p") != std::string::npos);
  p.sampler.top_p = 1.0f;
  const int32_t stop = 40;
  p.stop_ids = &stop;
  p.num_stop_ids = 1;
  st = f.gen.generate(kPrompt, 5, p, nullptr, nullptr, &r);
  CHECK(st.code() == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(st.message()).find("stop_ids") != std::string::npos);
  CHECK(f.gen.generate(kPrompt, 5, p, nullptr, nullptr, nullptr).code() == HEED_ERROR_INVALID_ARGUMENT);

  test::AlignedBytes bytes(test::serialize(test::tiny_graph(false)));
  Model emb;
  REQUIRE(emb.load_buffer(bytes.data(), bytes.size).ok());
  Session s;
  REQUIRE(s.init(&emb, SessionOptions(), nullptr, 0).ok());
  Generator g;
  CHECK(g.init(&s).code() == HEED_ERROR_UNSUPPORTED);
}

namespace {
struct CText {
  std::vector<int32_t> ids;
  std::string text;
  int stop_after = 1 << 30;
};
int ctext(void* user, int32_t id, const char* text, size_t len) {
  auto* c = static_cast<CText*>(user);
  if (id >= 0) c->ids.push_back(id);
  c->text.append(text, len);
  return int(c->ids.size()) >= c->stop_after;
}
}  // namespace

TEST_CASE("heed_generate_ids / heed_generate: the Generator's ids, streamed text, errors naming the field") {
  test::Loaded m(decoder_with_tokenizer(-1));
  heed_session* s = nullptr;
  REQUIRE(heed_session_create(m.model, nullptr, nullptr, 0, &s) == HEED_OK);
  heed_generate_options o;
  heed_generate_options_init(&o);
  CHECK(o.max_tokens == 64);
  CHECK(o.temperature == 0.0f);
  o.max_tokens = 10;
  CText c;
  heed_generate_result r;
  REQUIRE(heed_generate_ids(s, kPrompt, 5, &o, ctext, &c, &r) == HEED_OK);
  CHECK(r.stop == HEED_STOP_MAX_TOKENS);
  CHECK(r.prompt_tokens == 5);
  CHECK(r.generated_tokens == 10);
  {
    Fixture f(decoder_with_tokenizer(-1));
    CHECK(c.ids == greedy(f, 10));
  }
  std::string whole(256, '\0');
  size_t len = 0;
  REQUIRE(heed_detokenize(m.model, c.ids.data(), c.ids.size(), 0, &whole[0], whole.size(), &len) == HEED_OK);
  CHECK(c.text == whole.substr(0, len));

  CText d;
  d.stop_after = 2;
  REQUIRE(heed_generate_ids(s, kPrompt, 5, &o, ctext, &d, &r) == HEED_OK);
  CHECK(r.stop == HEED_STOP_CALLBACK);
  CHECK(r.generated_tokens == 2);

  // Text prompt: "ab ab" is 5 6.
  CText e;
  REQUIRE(heed_generate(s, "ab ab", SIZE_MAX, &o, ctext, &e, &r) == HEED_OK);
  CHECK(r.prompt_tokens == 2);
  CHECK(r.generated_tokens == 10);

  struct Bad {
    const char* field;
    void (*set)(heed_generate_options*);
  };
  const Bad bad[] = {
      {"temperature", [](heed_generate_options* x) { x->temperature = -1.0f; }},
      {"top_k", [](heed_generate_options* x) { x->top_k = -1; }},
      {"top_p", [](heed_generate_options* x) { x->top_p = 0.0f; }},
      {"repetition_penalty", [](heed_generate_options* x) { x->repetition_penalty = 0.0f; }},
      {"stop_ids", [](heed_generate_options* x) { x->num_stop_ids = 2; }},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.field);
    heed_generate_options x;
    heed_generate_options_init(&x);
    b.set(&x);
    CHECK(heed_generate_ids(s, kPrompt, 5, &x, nullptr, nullptr, &r) == HEED_ERROR_INVALID_ARGUMENT);
    CHECK(std::string(heed_last_error()).find(b.field) != std::string::npos);
  }
  CHECK(heed_generate_ids(s, kPrompt, 5, nullptr, nullptr, nullptr, &r) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(std::string(heed_last_error()).find("options") != std::string::npos);
  CHECK(heed_generate_ids(s, kPrompt, 5, &o, nullptr, nullptr, nullptr) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_generate_ids(nullptr, kPrompt, 5, &o, nullptr, nullptr, &r) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_generate_ids(s, nullptr, 5, &o, nullptr, nullptr, &r) == HEED_ERROR_INVALID_ARGUMENT);
  CHECK(heed_generate_ids(s, kPrompt, 0, &o, nullptr, nullptr, &r) == HEED_ERROR_INVALID_INPUT);
  heed_session_free(s);

  test::Loaded emb(test::tiny_graph(false));
  REQUIRE(heed_session_create(emb.model, nullptr, nullptr, 0, &s) == HEED_OK);
  CHECK(heed_generate_ids(s, kPrompt, 5, &o, nullptr, nullptr, &r) == HEED_ERROR_UNSUPPORTED);
  CHECK(heed_generate(s, "a cat", SIZE_MAX, &o, nullptr, nullptr, &r) == HEED_ERROR_UNSUPPORTED);
  heed_session_free(s);
}

}  // TEST_SUITE

}  // namespace heed
