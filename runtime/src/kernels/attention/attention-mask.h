// Which keys an encoder query sees: the visibility rule of f32-attention
// (kernels/attention/f32-attention.h) for dense, windowed, global + window
// (Longformer) and block-sparse (BigBird) patterns, as sorted key ranges per
// query. The kernels of every ISA and `heed inspect --attention-map` call
// these same inline functions, so they agree on every bit.
//
// Key j is visible from query i (0 <= i, j < S) iff
//   (not causal or j <= i) and
//   (global(i) or global(j) or local(i, j)), where
//   global(t) = t < global_first or t is one of global_positions, and
//   local(i, j) = (block > 0) ? blocks(i / block, j / block)
//               : (window >= 0) ? |i - j| <= window : true;
//   blocks(qb, kb) = |qb - kb| <= block_local or qb < block_global or
//                    kb < block_global or (block_stride > 0 and
//                    |qb - kb| % block_stride == 0) or kb is one of
//                    random_block(qb, t) for t < block_random, with
//   random_block(qb, t) = mix(seed, qb, t) % ceil(S / block) (mix below).
// Every query sees itself, so no row is empty.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heed {

struct KeyRange {
  uint32_t begin, end;  // keys [begin, end)
};

struct AttentionMask {
  int32_t window = -1;      // >= 0: |i - j| <= window (ignored when block > 0); -1: all
  bool causal = false;      // j <= i as well
  int32_t global_first = 0;                   // tokens 0 .. global_first-1 are global
  const int32_t* global_positions = nullptr;  // and these (ascending, distinct, >= 0)
  size_t num_global_positions = 0;
  int32_t block = 0;        // > 0: block-sparse over blocks of this many tokens
  int32_t block_local = 0, block_global = 0, block_stride = 0, block_random = 0;
  uint32_t block_seed = 0;

  // Needs key ranges (global tokens or blocks); else one range per query,
  // attention_key_range's (f32-attention.h).
  bool ranged() const { return block > 0 || global_first > 0 || num_global_positions > 0; }
};

// The random key block t of query block qb: a splitmix64 finalizer over the
// seed, the block and t (tests/e2e/attention_masks.py computes the same).
inline uint64_t attention_block_mix(uint32_t seed, uint64_t qb, uint64_t t) {
  uint64_t z = ((uint64_t(seed) << 32) | (qb & 0xffffffffu)) * 0x9E3779B97F4A7C15ull + (t + 1) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Ranges one query may produce before merging: the capacity of the `out`
// array of attention_key_ranges.
inline size_t attention_max_ranges(const AttentionMask& m, size_t S) {
  size_t n = 3 + m.num_global_positions;
  if (m.block > 0) {
    const size_t nb = (S + size_t(m.block) - 1) / size_t(m.block);
    n += 2 + size_t(m.block_random) + (m.block_stride > 0 ? nb / size_t(m.block_stride) + 2 : 0);
  }
  return n;
}

inline bool attention_is_global(const AttentionMask& m, size_t t) {
  if (t < size_t(m.global_first)) return true;
  size_t lo = 0, hi = m.num_global_positions;  // binary search
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (size_t(m.global_positions[mid]) < t) lo = mid + 1; else hi = mid;
  }
  return lo < m.num_global_positions && size_t(m.global_positions[lo]) == t;
}

// The keys query i of S sees, as ascending, disjoint, non-adjacent ranges in
// out[0 .. return value) (out holds attention_max_ranges(m, S)).
inline size_t attention_key_ranges(const AttentionMask& m, size_t S, size_t i, KeyRange* out) {
  const size_t end = m.causal ? i + 1 : S;
  size_t n = 0;
  auto add = [&](size_t b, size_t e) {
    if (e > end) e = end;
    if (b < e) out[n++] = KeyRange{uint32_t(b), uint32_t(e)};
  };
  const size_t B = size_t(m.block);
  if (attention_is_global(m, i) || (B > 0 && i / B < size_t(m.block_global))) {
    add(0, end);
    return n;
  }
  if (B > 0) {
    const size_t qb = i / B, nb = (S + B - 1) / B, L = size_t(m.block_local);
    add(qb > L ? (qb - L) * B : 0, (qb + L + 1) * B);
    add(0, size_t(m.block_global) * B);
    if (m.block_stride > 0) {
      for (size_t kb = qb % size_t(m.block_stride); kb < nb; kb += size_t(m.block_stride)) add(kb * B, (kb + 1) * B);
    }
    for (size_t t = 0; t < size_t(m.block_random); ++t) {
      const size_t kb = size_t(attention_block_mix(m.block_seed, qb, t) % nb);
      add(kb * B, (kb + 1) * B);
    }
  } else if (m.window >= 0) {
    const size_t w = size_t(m.window);
    add(i > w ? i - w : 0, i + w + 1);
  } else {
    add(0, end);
  }
  add(0, size_t(m.global_first));
  for (size_t g = 0; g < m.num_global_positions; ++g) add(size_t(m.global_positions[g]), size_t(m.global_positions[g]) + 1);
  // Insertion sort by begin (the candidates come nearly sorted), then merge
  // overlapping and adjacent ranges.
  for (size_t a = 1; a < n; ++a) {
    const KeyRange r = out[a];
    size_t b = a;
    for (; b > 0 && out[b - 1].begin > r.begin; --b) out[b] = out[b - 1];
    out[b] = r;
  }
  size_t k = 0;
  for (size_t a = 0; a < n; ++a) {
    if (k > 0 && out[a].begin <= out[k - 1].end) {
      if (out[a].end > out[k - 1].end) out[k - 1].end = out[a].end;
    } else {
      out[k++] = out[a];
    }
  }
  return k;
}

}  // namespace heed
