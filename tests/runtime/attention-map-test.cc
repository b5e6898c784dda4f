// heed inspect --attention-map's counts (tools/heed/attention-map.cc) against
// a per-pair count written here from the patterns' definitions.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "attention-map.h"
#include "exec/session.h"
#include "kernels/attention/cached-attention.h"
#include "kernels/kernels.h"
#include "ops/ops.h"
#include "runtime/tiny-decoder.h"

namespace heed::cli {
namespace {

// Key j visible from query i, from the definitions: DENSE all; CAUSAL j <= i;
// SLIDING_WINDOW |i - j| <= w; CAUSAL_WINDOW (Mistral) i - w <= j <= i.
bool visible(AttnPattern p, long w, long i, long j) {
  switch (p) {
    case AttnPattern::kDense: return true;
    case AttnPattern::kCausal: return j <= i;
    case AttnPattern::kSlidingWindow: return std::labs(i - j) <= w;
    case AttnPattern::kCausalWindow: return j <= i && i - j <= w;
    case AttnPattern::kBlockSparse: break;
  }
  return false;
}

OpInfo attention_op(AttnPattern p, int32_t window, int heads = 2, int kv_heads = 1, int D = 8) {
  OpInfo op;
  op.kind = OpKind::kAttention;
  op.pattern = p;
  op.window = window;
  op.num_heads = heads;
  op.num_kv_heads = kv_heads;
  op.head_dim = D;
  return op;
}

// Every cell and the totals against the per-pair count.
void check_brute_force(AttnPattern run_as, long w, const AttentionMap& m, size_t N) {
  const size_t nb = (N + 15) / 16;
  REQUIRE(m.blocks == nb);
  REQUIRE(m.counts.size() == nb * nb);
  uint64_t total = 0, nonempty = 0;
  for (size_t qb = 0; qb < nb; ++qb) {
    for (size_t kb = 0; kb < nb; ++kb) {
      uint32_t c = 0;
      for (size_t i = qb * 16; i < qb * 16 + 16 && i < N; ++i)
        for (size_t j = kb * 16; j < kb * 16 + 16 && j < N; ++j) c += visible(run_as, w, long(i), long(j));
      CAPTURE(qb);
      CAPTURE(kb);
      REQUIRE(m.at(qb, kb) == c);
      total += c;
      nonempty += c != 0;
    }
  }
  CHECK(m.visible == total);
  CHECK(m.nonempty == nonempty);
  CHECK(m.empty == nb * nb - nonempty);
}

}  // namespace

TEST_SUITE("fast") {
  TEST_CASE("attention map: DENSE and CAUSAL blocks") {
    const DecoderSettings d;
    const AttentionMap dense = attention_map_count(attention_op(AttnPattern::kDense, 0, 2, 2), d, false, 64);
    CHECK(std::string(dense.pattern) == "DENSE");
    REQUIRE(dense.blocks == 4);
    for (uint32_t c : dense.counts) CHECK(c == 256);
    CHECK(dense.visible == 64 * 64);
    CHECK(dense.empty == 0);
    CHECK(!dense.cache);
    CHECK(dense.kv_bytes == 64ull * 2 * 2 * 8 * 4);

    const AttentionMap causal = attention_map_count(attention_op(AttnPattern::kCausal, 0), d, false, 64);
    CHECK(std::string(causal.pattern) == "CAUSAL");
    for (size_t q = 0; q < 4; ++q)
      for (size_t k = 0; k < 4; ++k) CHECK(causal.at(q, k) == (k == q ? 136u : k < q ? 256u : 0u));
    CHECK(causal.visible == 64 * 65 / 2);
    CHECK(causal.empty == 6);
    CHECK(causal.cache);
    CHECK(!causal.ring);
    CHECK(causal.kv_positions == 64);
  }

  TEST_CASE("attention map: every pattern against a per-pair count, edge lengths") {
    const DecoderSettings d;
    for (AttnPattern p : {AttnPattern::kDense, AttnPattern::kCausal, AttnPattern::kSlidingWindow,
                          AttnPattern::kCausalWindow}) {
      const bool windowed = p == AttnPattern::kSlidingWindow || p == AttnPattern::kCausalWindow;
      for (long w : {1L, 15L, 16L, 17L, 20L, 37L}) {
        if (!windowed && w != 1) continue;
        std::vector<size_t> lengths = {1, 2, 15, 16, 17, 31, 33, 100, 161};
        for (long n : {w - 1, w, w + 1, w + 16, w + 65}) {
          if (n >= 1) lengths.push_back(size_t(n));
        }
        for (size_t N : lengths) {
          CAPTURE(int(p));
          CAPTURE(w);
          CAPTURE(N);
          const AttentionMap m =
              attention_map_count(attention_op(p, windowed ? int32_t(w) : 0, 2, 2), d, false, N);
          check_brute_force(p, w, m, N);
          CHECK(m.seq == N);
          CHECK(m.window == size_t(windowed ? w : 0));
        }
      }
    }
  }

  TEST_CASE("attention map: session window overrides as in sessions") {
    const DecoderSettings d;
    // The session's copy of an op with a spec applied (OpEntry::configure).
    auto run_as = [](OpInfo op, const char* spec) {
      AttentionOverride o;
      REQUIRE(parse_attention_spec(spec, &o).ok());
      REQUIRE(op_entry(OpKind::kAttention)->configure(o, &op).ok());
      return op;
    };
    // --window 20: every causal layer windowed, encoder windows replaced.
    const AttentionMap a = attention_map_count(run_as(attention_op(AttnPattern::kCausal, 0), "window=20"), d, true, 150);
    CHECK(std::string(a.pattern) == "CAUSAL_WINDOW");
    CHECK(a.window == 20);
    CHECK(a.overridden);
    check_brute_force(AttnPattern::kCausalWindow, 20, a, 150);
    const AttentionMap b =
        attention_map_count(run_as(attention_op(AttnPattern::kCausalWindow, 37), "window=20"), d, true, 150);
    check_brute_force(AttnPattern::kCausalWindow, 20, b, 150);
    const AttentionMap e =
        attention_map_count(run_as(attention_op(AttnPattern::kDense, 0, 2, 2), "window=5"), d, true, 150);
    CHECK(std::string(e.pattern) == "SLIDING_WINDOW");
    check_brute_force(AttnPattern::kSlidingWindow, 5, e, 150);
    // --window dense
    const AttentionMap c = attention_map_count(run_as(attention_op(AttnPattern::kCausalWindow, 37), "dense"), d, true, 150);
    CHECK(std::string(c.pattern) == "CAUSAL");
    CHECK(c.window == 0);
    check_brute_force(AttnPattern::kCausal, 0, c, 150);
  }

  TEST_CASE("attention map: sinks add the first k keys to a causal window, and their slots to the cache") {
    const DecoderSettings d;
    OpInfo op = attention_op(AttnPattern::kCausalWindow, 20);
    op.sinks = 4;
    for (size_t N : {1, 20, 24, 25, 26, 100, 161}) {
      CAPTURE(N);
      const AttentionMap m = attention_map_count(op, d, false, N);
      CHECK(m.detail == "sinks: first 4 tokens");
      CHECK(m.ring);
      CHECK(m.kv_positions == 96 + 16);  // ring of 20 + 64 rounded up, one block of sink slots
      const size_t nb = (N + 15) / 16;
      uint64_t total = 0;
      for (size_t qb = 0; qb < nb; ++qb)
        for (size_t kb = 0; kb < nb; ++kb) {
          uint32_t c = 0;
          for (size_t i = qb * 16; i < qb * 16 + 16 && i < N; ++i)
            for (size_t j = kb * 16; j < kb * 16 + 16 && j <= i; ++j) c += j < 4 || i - j <= 20;
          CHECK(m.at(qb, kb) == c);
          total += c;
        }
      CHECK(m.visible == total);
    }
  }

  TEST_CASE("attention map: global tokens and block-sparse patterns against a per-pair count") {
    const DecoderSettings d;
    OpInfo lf = attention_op(AttnPattern::kSlidingWindow, 4, 2, 2);
    lf.global_first = 2;
    lf.global_positions = {40, 41, 90};
    OpInfo bb = attention_op(AttnPattern::kBlockSparse, 0, 2, 2);
    bb.block_size = 16, bb.block_local = 1, bb.block_global = 1, bb.block_random = 2, bb.block_seed = 7;
    for (const OpInfo* op : {&lf, &bb})
      for (size_t N : {1, 15, 16, 17, 63, 64, 65, 100, 161}) {
        CAPTURE(N);
        const AttentionMap m = attention_map_count(*op, d, false, N);
        CHECK(std::string(m.pattern) == (op == &lf ? "SLIDING_WINDOW" : "BLOCK_SPARSE"));
        CHECK(m.detail.find(op == &lf ? "global tokens: first 2 + 3 listed" : "block 16: local 1") != std::string::npos);
        // Per pair, from the schema's definitions (schemas/heed.fbs AttentionOptions).
        const size_t nb = (N + 15) / 16, kb_count = (N + 15) / 16;
        uint64_t total = 0;
        for (size_t qb = 0; qb < nb; ++qb)
          for (size_t kb = 0; kb < nb; ++kb) {
            uint32_t c = 0;
            for (size_t i = qb * 16; i < qb * 16 + 16 && i < N; ++i)
              for (size_t j = kb * 16; j < kb * 16 + 16 && j < N; ++j) {
                bool v;
                if (op == &lf) {
                  auto g = [](size_t t) { return t < 2 || t == 40 || t == 41 || t == 90; };
                  v = g(i) || g(j) || (i > j ? i - j : j - i) <= 4;
                } else {
                  const size_t a = i / 16, b = j / 16;
                  v = (a > b ? a - b : b - a) <= 1 || a < 1 || b < 1 ||
                      attention_block_mix(7, a, 0) % kb_count == b || attention_block_mix(7, a, 1) % kb_count == b;
                }
                c += v;
              }
            CAPTURE(qb);
            CAPTURE(kb);
            REQUIRE(m.at(qb, kb) == c);
            total += c;
          }
        CHECK(m.visible == total);
        if (N >= 100) CHECK(m.empty > 0);  // sparse: some blocks skipped
      }
  }

  TEST_CASE("attention map: keys and values kept") {
    DecoderSettings d;
    // CAUSAL_WINDOW 20: a ring of 20 + 64 = 84 -> 96 positions once N is longer.
    const OpInfo op = attention_op(AttnPattern::kCausalWindow, 20, 4, 2, 8);
    const AttentionMap m = attention_map_count(op, d, false, 300);
    CHECK(m.ring);
    CHECK(m.kv_positions == 96);
    CHECK(m.kv_bytes == kv_cache_bytes(96, 2, 8, false));
    // Shorter than the ring: the session's positions, rounded to 16.
    const AttentionMap s = attention_map_count(op, d, false, 50);
    CHECK(!s.ring);
    CHECK(s.kv_positions == 64);
    d.kv_int8 = true;
    const AttentionMap q = attention_map_count(op, d, false, 300);
    CHECK(q.kv_int8);
    CHECK(q.kv_bytes == kv_cache_bytes(96, 2, 8, true));
    CHECK(q.kv_bytes < m.kv_bytes);
  }

  TEST_CASE("attention map: keys and values kept are the op's state in a session") {
    // The tiny decoder's causal ATTENTION, in sessions of 1..200 positions,
    // dense and with windows: the map's bytes are op_state_bytes with the
    // session's resolved settings (cache type from the weights, the window).
    for (bool int8 : {false, true}) {
      const test::AlignedBytes bytes(test::serialize(test::tiny_decoder_graph(int8, 200)));
      Model m;
      REQUIRE(m.load_buffer(bytes.ptr.get(), bytes.size).ok());
      const OpInfo* attn = nullptr;
      for (const OpInfo& op : m.ops())
        if (op.kind == OpKind::kAttention) attn = &op;
      REQUIRE(attn != nullptr);
      for (int32_t window : {0, -1, 5, 37, 150}) {
        for (size_t seq : {2, 17, 48, 100, 200}) {
          if (seq > size_t(m.max_seq())) continue;
          CAPTURE(int8);
          CAPTURE(window);
          CAPTURE(seq);
          SessionOptions so;
          so.max_seq = seq;
          so.attention_window = window;
          ArenaLayout layout;
          REQUIRE(session_layout(m, so, &layout).ok());
          const OpInfo& run = layout.ops.empty() ? *attn : layout.ops[size_t(attn - m.ops().data())];
          const AttentionMap map = attention_map_count(run, layout.decoder, !layout.ops.empty(), seq);
          CHECK(map.kv_int8 == int8);
          CHECK(map.kv_bytes == op_state_bytes(m, kernel_table(layout.isa), run, seq, layout.decoder));
          // A ring when window + 64, rounded up to 16, is fewer positions than the session's.
          CHECK(map.ring == (window > 0 && (size_t(window) + 64 + 15) / 16 * 16 < (seq + 15) / 16 * 16));
        }
      }
    }
  }

  TEST_CASE("attention map: XML escaping and the SVG's cells") {
    CHECK(xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&apos;");
    CHECK(xml_escape("x\x01y\n\x7f") == "x\\x01y\\x0A\\x7F");
    CHECK(xml_escape("\xff\xc3") == "\\xFF\\xC3");
    CHECK(xml_escape("\xef\xbf\xbe") == "\\xEF\\xBF\\xBE");  // U+FFFE
    CHECK(xml_escape("caf\xc3\xa9 \\") == "caf\xc3\xa9 \\\\");
    const AttentionMap m = attention_map_count(attention_op(AttnPattern::kCausalWindow, 20), DecoderSettings{}, false, 100);
    AttentionMapLabels labels;
    labels.layer_name = "</title><script>alert(1)</script>";
    labels.model = "M&M";
    labels.layers = 1;
    const std::string svg = attention_map_svg(m, labels);
    CHECK(svg.find("<script") == std::string::npos);
    CHECK(svg.find("&lt;/title&gt;&lt;script&gt;") != std::string::npos);
    CHECK(svg.find("M&amp;M") != std::string::npos);
    size_t cells = 0;
    const std::string mark = "class=\"cell\"";
    for (size_t at = svg.find(mark); at != std::string::npos; at = svg.find(mark, at + 1)) ++cells;
    CHECK(cells == m.nonempty);
    CHECK(svg.find("CAUSAL_WINDOW 20") != std::string::npos);
  }
}

}  // namespace heed::cli
