// Kernel families. Every family has a scalar reference (`__scalar`); ISA
// variants (avx2, avx512vnni, neon, neondot) must equal it bit for bit for the
// integer kernels and match within the stated tolerance for float ones.
//
// Buffers are row-major; ld* are row strides in elements. Shapes in comments:
//   x [M, K] activations, w [N, K] weights (PyTorch nn.Linear layout), y [M, N].
// Over-read contract: kernels read no byte past the last element they need
// (kOverreadBytes = 0 for the scalar family; planned buffers are padded by
// kArenaPadBytes anyway so SIMD variants may over-read up to that much).
#pragma once

#include <cstddef>
#include <cstdint>

namespace heed {

constexpr size_t kArenaPadBytes = 64;

// y[m,n] = sum_k x[m,k] * w[n,k] + bias[n]. bias may be null.
// Summation order (fixed, so SIMD can match): 16 interleaved partial sums over
// k (lane = k % 16), then the lanes are added pairwise (0+8, 1+9, ..., then
// 0+4, ..., then 0+2, then 0+1), then the tail k >= 16*floor(K/16) in order,
// then bias.
void heed_f32_gemm_ukernel__scalar(size_t M, size_t N, size_t K, const float* x, size_t ldx,
                                   const float* w, const float* bias, float* y, size_t ldy);

// Dynamic symmetric quantization per row and per block of `block` columns
// (block = K: one scale per row). nb = ceil(K / block) scales per row:
//   v[m,k] = smooth ? x[m,k] * smooth[k] : x[m,k]
//   absmax = max |v| over the block; scales[m*nb + b] = absmax / 127 (0 if absmax == 0)
//   q[m,k] = clamp(round_half_even(v[m,k] * (127 / absmax)), -127, 127)
// Non-finite inputs are not expected (activations come from finite weights).
void heed_f32_qs8_quantize_blocks__scalar(size_t M, size_t K, size_t block, const float* x, size_t ldx,
                                          const float* smooth, int8_t* q, size_t ldq, float* scales);

// Static per-tensor quantization with a calibrated scale:
//   q = clamp(round_half_even(v * (1 / scale)), -127, 127); every one of the
//   M * ceil(K / block) entries of scales is set to scale.
void heed_f32_qs8_quantize_static__scalar(size_t M, size_t K, size_t block, const float* x, size_t ldx,
                                          const float* smooth, float scale, int8_t* q, size_t ldq,
                                          float* scales);

// int8 x int8 GEMM with float output; scales per row and block on both sides
// (block = K: per-token activations x per-channel weights):
//   isum[m,n,b] = sum_{k in block b} int32(xq[m,k]) * int32(w[n,k])   (exact)
//   acc = sum over b ascending of float(isum[m,n,b]) * (xscale[m*nb + b] * wscale[n*nb + b])
//   y[m,n] = acc + bias[n]
// Every multiply and add is a separate float rounding (no FMA), in this order.
// bias may be null (then y = acc + 0.0f). nb = ceil(K / block).
void heed_qs8_qc8w_gemm_f32_ukernel__scalar(size_t M, size_t N, size_t K, size_t block, const int8_t* xq,
                                            size_t ldq, const float* xscale, const int8_t* w,
                                            const float* wscale, const float* bias, float* y,
                                            size_t ldy);

// y[m,:] = LayerNorm(x[m,:] + residual[m,:]) * gamma + beta. residual may be
// null. Mean and variance in float with 16-lane partial sums as in the GEMM.
// y may alias x (in place).
void heed_f32_layernorm__scalar(size_t M, size_t N, const float* x, const float* residual,
                                const float* gamma, const float* beta, float eps, float* y);

// Exact (erf) GELU: y = 0.5 x (1 + erf(x / sqrt 2)). y may alias x.
void heed_f32_gelu__scalar(size_t n, const float* x, float* y);
void heed_f32_tanh__scalar(size_t n, const float* x, float* y);
void heed_f32_relu__scalar(size_t n, const float* x, float* y);

// Multi-head attention over a fused QKV activation.
//   qkv [S, 3*H*D]: row s = [q(h0..), k(h0..), v(h0..)], head h at h*D.
//   out [S, H*D]. Dense when window < 0; otherwise key j is visible from
//   query i iff |i - j| <= window. causal: additionally j <= i.
// Softmax is computed online (running max and sum, flash style), in float;
// no S x S matrix is formed. scratch needs D floats.
void heed_f32_attention__scalar(size_t S, size_t H, size_t D, const float* qkv, float* out,
                                float scale, int window, bool causal, float* scratch);

}  // namespace heed
