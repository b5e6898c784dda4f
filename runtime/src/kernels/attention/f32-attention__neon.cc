// f32-attention, NEON: the block order of f32-attention.h with the 16 keys
// of a block in four q registers (lanes 0-3, 4-7, 8-11, 12-15) for the scores
// and one lane per element of d for the output.
//   - The keys the call's queries see (attention_query_keys) of the head are
//     copied transposed into scratch (KT[d][j], rows padded with zeros), so
//     the 16 scores of a block are lanes of fma chains over d: acc =
//     vfma(acc, q[d], KT[d][j0..]), exactly the reference's
//     a_{d+1} = fma(q[d], k_j[d], a_d) per lane; two blocks are computed
//     together (independent chains), then scaled, and lanes past the visible
//     keys set to -inf.
//   - Per block: max16 and sum16 in the header's pairwise order ((0-3, 8-11)
//     and (4-7, 12-15), then those two, then low and high half, then lanes
//     0 and 1), c with the scalar f32_exp, p with f32x4_exp (the same
//     operation sequence), l = fma(l, c, sum), and o = o * c then
//     o = vfma(o, p[t], v_t) for t in order (D % 4 in scalar std::fma).
// A ranged mask (global tokens, blocks) walks the query's key ranges in
// order with the same state. Every value is therefore the reference's.
//
// AArch32 NEON flushes subnormals to zero. With every input of the head zero
// or of magnitude >= 2^-40 (and finite), each score chain's partial sums are
// multiples of 2^-126, so they are 0 or normal and no flush can occur there;
// scaled scores, o * c and every output fma result are watched for a zero or
// subnormal magnitude (a flush leaves +-0), and a head that shows one, or
// whose inputs are outside that range, is done by the reference instead.
// exp tolerates subnormal arguments (f32-math.h). On AArch64 the checks
// compile away. Same bits as heed_f32_attention__scalar on every ARM CPU.
#include <arm_neon.h>

#include <cmath>

#include "kernels/attention/f32-attention.h"
#include "kernels/math/f32-math-neon.h"

namespace heed {

namespace {
#if defined(__arm__)
constexpr bool kFlushes = true;
#else
constexpr bool kFlushes = false;
#endif
constexpr size_t kBlock = 16;
inline size_t kt_stride(size_t S) { return (S + kBlock - 1 + 15) / 16 * 16; }
inline float max_of(float a, float b) { return a > b ? a : b; }
inline float32x4_t vmax_of(float32x4_t a, float32x4_t b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }

// Smallest magnitude (as bits) seen, for the flush checks.
struct Lowest {
  uint32x4_t lo = vdupq_n_u32(0xffffffffu);
  void see(float32x4_t v) {
    if (kFlushes) lo = vminq_u32(lo, vandq_u32(vreinterpretq_u32_f32(v), vdupq_n_u32(0x7fffffffu)));
  }
  bool normal() const {
    if (!kFlushes) return true;
    uint32x2_t m = vpmin_u32(vget_low_u32(lo), vget_high_u32(lo));
    m = vpmin_u32(m, m);
    return vget_lane_u32(m, 0) >= 0x00800000u;
  }
};

// The head's inputs in rows [j0, j1) are finite and zero or >= 2^-40 in
// magnitude (AArch32 only).
bool inputs_safe(size_t j0, size_t j1, size_t D, size_t h, size_t hidden, const float* qkv) {
  if (!kFlushes) return true;
  const size_t row = 3 * hidden;
  for (size_t j = j0; j < j1; ++j)
    for (size_t part = 0; part < 3; ++part) {
      const float* x = qkv + j * row + part * hidden + h * D;
      for (size_t d = 0; d < D; ++d) {
        const float a = std::fabs(x[d]);
        if (!(a == 0.0f || (a >= 0x1p-40f && a <= 3.4028235e38f))) return false;
      }
    }
  return true;
}

inline float max16(const float32x4_t* s) {
  const float32x4_t m4 = vmax_of(vmax_of(s[0], s[2]), vmax_of(s[1], s[3]));
  const float32x2_t lo = vget_low_f32(m4), hi = vget_high_f32(m4);
  const float32x2_t m2 = vbsl_f32(vcgt_f32(lo, hi), lo, hi);
  return max_of(vget_lane_f32(m2, 0), vget_lane_f32(m2, 1));
}

// Scores of G consecutive blocks starting at kt column j0 into sc (columns
// from je on set to -inf).
template <int G>
inline void scores(const float* q, const float* kt, size_t W, size_t D, size_t j0, size_t je, float scale, float* sc,
                   Lowest* low) {
  float32x4_t acc[4 * G];
  for (int g = 0; g < 4 * G; ++g) acc[g] = vdupq_n_f32(0.0f);
  for (size_t d = 0; d < D; ++d) {
    const float32x4_t qd = vdupq_n_f32(q[d]);
    const float* row = kt + d * W + j0;
    for (int g = 0; g < 4 * G; ++g) acc[g] = vfmaq_f32(acc[g], qd, vld1q_f32(row + g * 4));
  }
  const float32x4_t vscale = vdupq_n_f32(scale), ninf = vdupq_n_f32(-INFINITY);
  const uint32x4_t lane = {0, 1, 2, 3};
  for (int g = 0; g < 4 * G; ++g) {
    const size_t jg = j0 + g * 4;
    const float32x4_t s = vmulq_f32(acc[g], vscale);
    const uint32x4_t keep = vcltq_u32(lane, vdupq_n_u32(uint32_t(jg < je ? (je - jg < 4 ? je - jg : 4) : 0)));
    const float32x4_t out = vbslq_f32(keep, s, ninf);
    low->see(out);
    vst1q_f32(sc + g * 4, out);
  }
}

// o[dc .. dc + NC*4) = o * c, then += p[t] * v_t for t < n, in order.
template <int NC>
inline void update(float* o, size_t dc, float c, const float* p, size_t n, const float* v0, size_t row, Lowest* low) {
  float32x4_t acc[NC];
  const float32x4_t vc = vdupq_n_f32(c);
  for (int u = 0; u < NC; ++u) {
    acc[u] = vmulq_f32(vld1q_f32(o + dc + u * 4), vc);
    low->see(acc[u]);
  }
  for (size_t t = 0; t < n; ++t) {
    const float32x4_t pt = vdupq_n_f32(p[t]);
    const float* v = v0 + t * row + dc;
    for (int u = 0; u < NC; ++u) {
      acc[u] = vfmaq_f32(acc[u], pt, vld1q_f32(v + u * 4));
      low->see(acc[u]);
    }
  }
  for (int u = 0; u < NC; ++u) vst1q_f32(o + dc + u * 4, acc[u]);
}
}  // namespace

size_t heed_f32_attention_scratch__neon(size_t S, size_t D) {
  const size_t W = kt_stride(S);
  return D * W + W + D + kBlock;
}

void heed_f32_attention__neon(size_t S, size_t H, size_t D, size_t h0, size_t h1, size_t q0, size_t q1,
                              const float* qkv, float* out, float scale, const AttentionMask& mask, KeyRange* ranges,
                              float* scratch) {
  size_t kb, ke;  // the keys the queries see: kt column c is key kb + c
  attention_query_keys(S, q0, q1, mask, &kb, &ke);
  const size_t hidden = H * D, row = 3 * hidden, nk = ke - kb, W = kt_stride(nk);
  // Rows the call reads: its queries' and their keys'.
  const size_t r0 = kb < q0 ? kb : q0, r1 = ke > q1 ? ke : q1;
  float* kt = scratch;      // [D][W]
  float* sc = kt + D * W;   // [W] scores of the current query, block by block
  float* o = sc + W;        // [D]
  float* p = o + D;         // [16]
  for (size_t h = h0; h < h1; ++h) {
    if (!inputs_safe(r0, r1, D, h, hidden, qkv)) {
      heed_f32_attention__scalar(S, H, D, h, h + 1, q0, q1, qkv, out, scale, mask, ranges, o);
      continue;
    }
    Lowest low;
    for (size_t j = 0; j < nk; ++j) {
      const float* k = qkv + (kb + j) * row + hidden + h * D;
      for (size_t d = 0; d < D; ++d) kt[d * W + j] = k[d];
    }
    for (size_t d = 0; d < D; ++d)
      for (size_t j = nk; j < W; ++j) kt[d * W + j] = 0.0f;
    const float* vh = qkv + 2 * hidden + h * D;
    for (size_t i = q0; i < q1; ++i) {
      const float* q = qkv + i * row + h * D;
      size_t nr = 1;
      if (mask.ranged()) {
        nr = attention_key_ranges(mask, S, i, ranges);
      } else {
        size_t jb, je;
        attention_key_range(S, i, mask, &jb, &je);
        ranges[0] = KeyRange{uint32_t(jb), uint32_t(je)};
      }
      float m = -INFINITY, l = 0.0f;
      for (size_t d = 0; d < D; ++d) o[d] = 0.0f;
      for (size_t r = 0; r < nr; ++r) {
        const size_t jb = ranges[r].begin, je = ranges[r].end;
        const size_t nblk = (je - jb + kBlock - 1) / kBlock;
        const size_t cb = jb - kb, ce = je - kb;  // the range's kt columns
        size_t b = 0;
        for (; b + 2 <= nblk; b += 2) scores<2>(q, kt, W, D, cb + b * kBlock, ce, scale, sc + b * kBlock, &low);
        if (b < nblk) scores<1>(q, kt, W, D, cb + b * kBlock, ce, scale, sc + b * kBlock, &low);
        for (b = 0; b < nblk; ++b) {
          const size_t j0 = jb + b * kBlock, n = je - j0 < kBlock ? je - j0 : kBlock;
          float32x4_t s[4], pv[4];
          for (int u = 0; u < 4; ++u) s[u] = vld1q_f32(sc + b * kBlock + u * 4);
          const float mn = max_of(max16(s), m);
          const float c = f32_exp(m - mn);
          const float32x4_t vmn = vdupq_n_f32(mn);
          for (int u = 0; u < 4; ++u) {
            pv[u] = f32x4_exp(vsubq_f32(s[u], vmn));
            vst1q_f32(p + u * 4, pv[u]);
          }
          l = std::fma(l, c, f32x4x4_sum16(pv[0], pv[1], pv[2], pv[3]));
          const float* v0 = vh + j0 * row;
          size_t dc = 0;
          for (; dc + 32 <= D; dc += 32) update<8>(o, dc, c, p, n, v0, row, &low);
          switch ((D - dc) / 4) {
            case 7: update<7>(o, dc, c, p, n, v0, row, &low); break;
            case 6: update<6>(o, dc, c, p, n, v0, row, &low); break;
            case 5: update<5>(o, dc, c, p, n, v0, row, &low); break;
            case 4: update<4>(o, dc, c, p, n, v0, row, &low); break;
            case 3: update<3>(o, dc, c, p, n, v0, row, &low); break;
            case 2: update<2>(o, dc, c, p, n, v0, row, &low); break;
            case 1: update<1>(o, dc, c, p, n, v0, row, &low); break;
            default: break;
          }
          for (size_t d = D / 4 * 4; d < D; ++d) {  // VFP (IEEE) scalar tail
            o[d] = o[d] * c;
            for (size_t t = 0; t < n; ++t) o[d] = std::fma(p[t], v0[t * row + d], o[d]);
          }
          m = mn;
        }
      }
      float* y = out + i * hidden + h * D;
      const float inv_l = l > 0.0f ? 1.0f / l : 0.0f;
      for (size_t d = 0; d < D; ++d) y[d] = attention_out(o[d], inv_l);
    }
    if (!low.normal()) heed_f32_attention__scalar(S, H, D, h, h + 1, q0, q1, qkv, out, scale, mask, ranges, o);
  }
}

}  // namespace heed
