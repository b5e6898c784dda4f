// `heed embed --attention-svg`: the attention weights (softmax
// probabilities) of one head of one encoder ATTENTION layer for one text,
// computed from the op's own fused q | k | v input with the op's visibility
// rule (attention_mask, attention_key_ranges: the kernels') and drawn as an
// SVG heat map. Computing and
// drawing are here, without I/O, so tests/runtime/attention-svg-test.cc
// checks them directly; cmd-attention-svg.cc runs the session and writes the
// file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Internals, not the C API: the weights are computed from the ATTENTION op's
// input activation and options (format/model.h, ops/op.h).
#include "format/model.h"
#include "ops/op.h"

namespace heed::cli {

// Most tokens an attention SVG draws (N x N cells).
constexpr size_t kSvgMaxTokens = 512;

struct AttentionWeights {
  const char* pattern = "DENSE";  // DENSE, SLIDING_WINDOW or BLOCK_SPARSE
  size_t window = 0;              // SLIDING_WINDOW's w (tokens on each side), else 0
  std::string detail;             // block-sparse rules and global tokens, in words (empty: none)
  bool overridden = false;        // a session pattern replaced the file's (set by the caller)
  size_t n = 0;                   // tokens N
  std::vector<double> p;          // [N][N]: query row i, key column j; 0 where masked
  std::vector<uint8_t> visible;   // [N][N]: 1 where key j is visible from query i
  double max_p = 0;               // largest probability (the colour scale's top)
  uint64_t visible_pairs = 0;

  double at(size_t i, size_t j) const { return p[i * n + j]; }
  bool seen(size_t i, size_t j) const { return visible[i * n + j] != 0; }
};

// True for the patterns attention_weights computes: the encoder ones that
// run f32-attention over the run's own keys (every pattern but CAUSAL and
// CAUSAL_WINDOW, whose keys sit in the op's cache).
bool attention_weights_supported(const OpInfo& op);

// Head `head`'s probabilities softmax_j(q_i . k_j * scale) over the keys
// the op's mask makes visible (attention_mask(op): attention_key_range, or
// attention_key_ranges for global tokens and blocks, as f32-attention
// walks them), in double (max subtracted), from the op's input qkv: N rows of
// (H + 2 KV) * D floats, q of head h at h*D, k at (H + h)*D (KV = H here).
// Needs attention_weights_supported(op), head < H, 1 <= n.
AttentionWeights attention_weights(const OpInfo& op, const float* qkv, size_t n, size_t head);

// The weights against the op's own result: max over i, d of
// |sum_j p_ij v_j[d] - out[i, head*D + d]|, with out the op's output
// (N rows of H * D floats). *out_max gets max |out| of the head.
double attention_weights_check(const OpInfo& op, const AttentionWeights& w, const float* qkv, const float* out,
                               size_t head, double* out_max);

struct AttentionSvgLabels {
  std::string model;                // the file's architecture (escaped here)
  std::string layer_name;           // the op's name (escaped here)
  size_t layer = 0, layers = 0;     // index among the ATTENTION ops, their count
  size_t head = 0, heads = 0;
  std::vector<int32_t> ids;         // N token ids
  std::vector<std::string> tokens;  // N token strings, raw bytes (escaped here)
  double check = 0;                 // attention_weights_check
  double out_max = 0;
};

// A standalone SVG document: N x N cells (query tokens down, key tokens
// across, labelled with the token strings), shaded white to dark blue by
// probability from 0 to max_p, masked pairs grey and hatched; a legend; a
// title (architecture, layer, head, pattern, N). The numbers ride along in
// <metadata id="attention-weights">, JSON:
//   {"layer": L, "layers": Ls, "head": h, "heads": H, "n": N,
//    "pattern": "DENSE", "window": w, "detail": "...", "overridden": false,
//    "ids": [...], "check_max_abs": x, "out_max_abs": y,
//    "weights": [[p_00, p_01, ...], ...]}   (null where masked)
// and token labels are <text class="token" data-axis="q|k" data-i=i>.
std::string attention_weights_svg(const AttentionWeights& w, const AttentionSvgLabels& labels);

// `heed embed model.heed --attention-svg out.svg [--layer L] [--head H] TEXT`
// (cmd-attention-svg.cc; cmd_embed hands over when --attention-svg is given).
int cmd_embed_attention_svg(int argc, char** argv);

}  // namespace heed::cli
