// `heed inspect --attention-map`: which query blocks attend to which key
// blocks in one ATTENTION layer, counted with the visibility functions the
// kernels use (attention_key_ranges for encoders, window_begin for decoders)
// and drawn as an SVG grid. Counting and drawing are here, without I/O, so
// tests/runtime/attention-map-test.cc checks them directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Internals, not the C API: the map reads each ATTENTION op's pattern and
// window (format/model.h, ops/op.h), which heed.h does not expose.
#include "format/model.h"
#include "ops/op.h"

namespace heed::cli {

constexpr size_t kMapBlock = 16;  // tokens per block, the kernels' kKvBlock

struct AttentionMap {
  const char* pattern = "DENSE";  // the pattern the session runs: DENSE, CAUSAL, SLIDING_WINDOW, CAUSAL_WINDOW, BLOCK_SPARSE
  size_t window = 0;              // the window patterns' w, else 0
  std::string detail;             // block-sparse rules, global tokens or sinks, in words (empty: none)
  bool overridden = false;        // a session pattern (SessionOptions::attention) replaced the file's
  size_t seq = 0;                 // tokens N
  size_t blocks = 0;              // ceil(N / 16): query block rows and key block columns
  std::vector<uint32_t> counts;   // [blocks][blocks]: visible (query, key) pairs per block pair, 0..256
  uint64_t visible = 0;           // visible pairs in all
  uint64_t nonempty = 0;          // block pairs with a visible pair
  uint64_t empty = 0;             // block pairs without: skipped
  bool cache = false;             // keys/values kept in the op's cache (decoders), else the run's activation
  bool ring = false;              // the cache is a ring (attention_ring: a window with sinks or shorter than the session's positions)
  bool kv_int8 = false;           // cache elements int8
  size_t kv_positions = 0;        // positions of keys/values kept (ring and sink slots)
  uint64_t kv_bytes = 0;          // their bytes: kv_cache_bytes, or N x 2 x H x D floats for encoders

  uint32_t at(size_t query_block, size_t key_block) const { return counts[query_block * blocks + key_block]; }
};

// The map of `op` (an ATTENTION op as a session runs it: the session's copy,
// Session::ops(), when `overridden`) with the cache type of `d` over `seq`
// tokens (1..kMaxSeq).
AttentionMap attention_map_count(const OpInfo& op, const DecoderSettings& d, bool overridden, size_t seq);

// XML character data / attribute value of arbitrary bytes: & < > " ' as
// entities; valid UTF-8 characters that XML 1.0 allows as is, except C1
// controls; everything else (C0 controls but tab, DEL, C1, U+FFFE/U+FFFF,
// invalid UTF-8) as the text \xHH per byte, and '\\' as \\. The result is
// always well-formed character data.
std::string xml_escape(std::string_view s);

struct AttentionMapLabels {
  std::string layer_name;   // the op's name from the file (escaped here)
  size_t layer = 0;         // index among the ATTENTION ops
  size_t layers = 0;        // ATTENTION ops in the model
  std::string model;        // the file's architecture (escaped here)
};

// A standalone SVG document: the grid (query blocks down, key blocks
// across, cells shaded by count, counts as text up to 32 x 32 blocks), a
// legend, position labels, a title and the totals. Every non-empty cell is
// one <rect class="cell" data-q= data-k= data-count=>; the root carries
// data-seq, data-visible-pairs, data-nonempty-blocks, data-empty-blocks and
// data-kv-bytes.
std::string attention_map_svg(const AttentionMap& map, const AttentionMapLabels& labels);

}  // namespace heed::cli
