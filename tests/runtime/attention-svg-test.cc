// heed embed --attention-svg's weights and drawing (tools/heed/attention-svg.cc):
// probabilities with known values, against the runtime's f32-attention
// kernels (the weights applied to v give the kernels' output), the masked
// pairs of windows, global tokens and block-sparse patterns against their
// definitions, and the SVG's labels, escaping and numbers.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "attention-svg.h"
#include "kernels/attention/attention-mask.h"
#include "kernels/attention/f32-attention.h"
#include "kernels/isa.h"
#include "kernels/kernels.h"
#include "ops/attention.h"

namespace heed::cli {
namespace {

OpInfo encoder_op(AttnPattern p, int32_t window, int heads, int D, float scale) {
  OpInfo op;
  op.kind = OpKind::kAttention;
  op.pattern = p;
  op.window = window;
  op.num_heads = heads;
  op.num_kv_heads = heads;
  op.head_dim = D;
  op.attn_scale = scale;
  return op;
}

std::vector<float> random_qkv(size_t n, size_t H, size_t D, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.5f);
  std::vector<float> v(n * 3 * H * D);
  for (float& x : v) x = dist(rng);
  return v;
}

// The op's output as a kernel variant computes it.
std::vector<float> kernel_out(const AttentionVariant& k, const OpInfo& op, const std::vector<float>& qkv, size_t n) {
  const size_t H = size_t(op.num_heads), D = size_t(op.head_dim);
  const AttentionMask mask = attention_mask(op);
  std::vector<float> out(n * H * D), scratch(k.scratch_floats(n, D) + 64);
  std::vector<KeyRange> ranges(attention_max_ranges(mask, n));
  k.fn(n, H, D, 0, H, 0, n, qkv.data(), out.data(), op.attn_scale, mask, ranges.data(), scratch.data());
  return out;
}

// Key j visible from query i, from the definitions (attention-mask.h's
// header) rather than its range code.
bool visible(const OpInfo& op, size_t n, size_t i, size_t j) {
  auto global = [&](size_t t) {
    if (t < size_t(op.global_first)) return true;
    for (int32_t g : op.global_positions)
      if (size_t(g) == t) return true;
    return false;
  };
  if (global(i) || global(j)) return true;
  if (op.pattern == AttnPattern::kSlidingWindow) return std::labs(long(i) - long(j)) <= op.window;
  if (op.pattern != AttnPattern::kBlockSparse) return true;
  const size_t B = size_t(op.block_size), qb = i / B, kb = j / B, nb = (n + B - 1) / B;
  const size_t dist = qb > kb ? qb - kb : kb - qb;
  if (dist <= size_t(op.block_local) || qb < size_t(op.block_global) || kb < size_t(op.block_global)) return true;
  if (op.block_stride > 0 && dist % size_t(op.block_stride) == 0) return true;
  for (int t = 0; t < op.block_random; ++t)
    if (attention_block_mix(uint32_t(op.block_seed), qb, uint64_t(t)) % nb == kb) return true;
  return false;
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t c = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++c;
  return c;
}

}  // namespace

TEST_SUITE("fast") {
  TEST_CASE("attention svg: known probabilities") {
    // One head, D = 1, scale 1: q_i = 1 and k_j = ln(j + 1) give
    // p_ij = (j + 1) / (1 + 2 + ... + n) in every row.
    const size_t n = 6;
    const OpInfo op = encoder_op(AttnPattern::kDense, 0, 1, 1, 1.0f);
    std::vector<float> qkv(n * 3);
    for (size_t j = 0; j < n; ++j) {
      qkv[j * 3 + 0] = 1.0f;
      qkv[j * 3 + 1] = float(std::log(double(j + 1)));
      qkv[j * 3 + 2] = float(j);
    }
    const AttentionWeights w = attention_weights(op, qkv.data(), n, 0);
    CHECK(std::string(w.pattern) == "DENSE");
    CHECK(w.visible_pairs == n * n);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) CHECK(w.at(i, j) == doctest::Approx(double(j + 1) / 21.0).epsilon(1e-6));
    CHECK(w.max_p == doctest::Approx(6.0 / 21.0).epsilon(1e-6));
    // Output sum_j p_ij * j = (1*0 + 2*1 + ... + 6*5) / 21 = 70 / 21.
    std::vector<float> out(n, float(70.0 / 21.0));
    double top = 0;
    CHECK(attention_weights_check(op, w, qkv.data(), out.data(), 0, &top) < 1e-6);
    CHECK(top == doctest::Approx(70.0 / 21.0));
    out[3] += 0.5f;  // a wrong output is seen
    CHECK(attention_weights_check(op, w, qkv.data(), out.data(), 0, &top) > 0.4);
  }

  TEST_CASE("attention svg: weights reproduce every f32-attention kernel's output") {
    Isa best = Isa::kScalar;
    REQUIRE(isa_select(nullptr, &best).ok());
    // 0 dense, 1 window 3, 2 window 3 + global tokens (first 1, position 9),
    // 3 block-sparse (blocks of 4: local 0, 1 global block, stride 3, 1 random).
    for (int variant = 0; variant < 4; ++variant) {
      const AttnPattern p = variant == 0 ? AttnPattern::kDense
                            : variant == 3 ? AttnPattern::kBlockSparse
                                           : AttnPattern::kSlidingWindow;
      for (size_t n : {1u, 2u, 17u, 40u}) {
        const size_t H = 3, D = 8;
        OpInfo op = encoder_op(p, p == AttnPattern::kSlidingWindow ? 3 : 0, int(H), int(D),
                               1.0f / std::sqrt(float(D)));
        if (variant == 2) {
          op.global_first = 1;
          op.global_positions = {9};
        }
        if (variant == 3) {
          op.block_size = 4;
          op.block_local = 0;
          op.block_global = 1;
          op.block_stride = 3;
          op.block_random = 1;
          op.block_seed = 5;
        }
        const std::vector<float> qkv = random_qkv(n, H, D, unsigned(n * 7 + int(p)));
        for (const AttentionVariant* k : {&kAttentionVariants[0], kernel_table(best).attention}) {
          CAPTURE(k->name);
          CAPTURE(variant);
          CAPTURE(n);
          const std::vector<float> out = kernel_out(*k, op, qkv, n);
          for (size_t h = 0; h < H; ++h) {
            const AttentionWeights w = attention_weights(op, qkv.data(), n, h);
            double top = 0;
            CHECK(attention_weights_check(op, w, qkv.data(), out.data(), h, &top) < 1e-5 * std::max(1.0, top));
            for (size_t i = 0; i < n; ++i) {
              double sum = 0;
              for (size_t j = 0; j < n; ++j) {
                CHECK(w.seen(i, j) == visible(op, n, i, j));
                if (!w.seen(i, j)) CHECK(w.at(i, j) == 0.0);
                sum += w.at(i, j);
              }
              CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
            }
            // Another head's weights do not give this head's output.
            if (n > 2 && H > 1) {
              const AttentionWeights other = attention_weights(op, qkv.data(), n, (h + 1) % H);
              CHECK(attention_weights_check(op, other, qkv.data(), out.data(), h, &top) > 1e-3);
            }
          }
        }
      }
    }
  }

  TEST_CASE("attention svg: drawing, labels and numbers") {
    const size_t n = 5;
    const OpInfo op = encoder_op(AttnPattern::kSlidingWindow, 1, 2, 4, 0.5f);
    CHECK(attention_weights_supported(op));
    CHECK(!attention_weights_supported(encoder_op(AttnPattern::kCausal, 0, 2, 4, 0.5f)));
    CHECK(!attention_weights_supported(encoder_op(AttnPattern::kCausalWindow, 4, 2, 4, 0.5f)));
    CHECK(attention_weights_supported(encoder_op(AttnPattern::kBlockSparse, 0, 2, 4, 0.5f)));
    const std::vector<float> qkv = random_qkv(n, 2, 4, 3);
    const AttentionWeights w = attention_weights(op, qkv.data(), n, 1);
    CHECK(std::string(w.pattern) == "SLIDING_WINDOW");
    CHECK(w.window == 1);
    CHECK(w.visible_pairs == 13);  // 2 + 3 + 3 + 3 + 2
    AttentionSvgLabels l;
    l.model = "BertModel";
    l.layer_name = "layer<0>&";
    l.layer = 0;
    l.layers = 2;
    l.head = 1;
    l.heads = 2;
    l.ids = {101, 7, 8, 9, 102};
    l.tokens = {"[CLS]", "a<b", "\"q\"", std::string("\xff", 1), "[SEP]"};
    const std::string svg = attention_weights_svg(w, l);
    CHECK(svg.find("<title>Attention weights: BertModel, layer layer&lt;0&gt;&amp; (ATTENTION 0 of 2), head 1 of 2, "
                   "SLIDING_WINDOW 1, N = 5 tokens</title>") != std::string::npos);
    CHECK(svg.find("a&lt;b</text>") != std::string::npos);
    CHECK(svg.find("&quot;q&quot;</text>") != std::string::npos);
    CHECK(svg.find("\\xFF</text>") != std::string::npos);
    CHECK(svg.find("a<b") == std::string::npos);
    // Masked runs: rows 0 and 4 one each (keys 2..4, 0..2), rows 1..3 one or two.
    CHECK(count_of(svg, "class=\"masked\"") == 1 + 1 + 2 + 1 + 1);
    CHECK(count_of(svg, "data-axis=\"q\"") == n);
    CHECK(count_of(svg, "data-axis=\"k\"") == n);
    CHECK(svg.find("\"ids\": [101, 7, 8, 9, 102]") != std::string::npos);
    CHECK(svg.find("[null, null, null, ") != std::string::npos);  // row 4: keys 0..2 masked
    CHECK(svg.find("masked (not visible)") != std::string::npos);
    // Cells: one rect with a tooltip per visible pair.
    CHECK(count_of(svg, "</title></rect>") == w.visible_pairs);
  }
}

}  // namespace heed::cli
