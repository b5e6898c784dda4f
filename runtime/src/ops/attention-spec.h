// Attention pattern specs: the text of `heed convert --attention SPEC`, of
// heed_session_options.attention and of the CLI's --window / --global /
// --sinks flags, parsed into an AttentionOverride and applied to an
// ATTENTION op's options (the converter writes the result into the file; a
// session runs it in place of the file's). Grammar, comma-separated:
//   dense                  dense attention (causal layers: all keys before)
//   window=W               a window of W tokens: each side (encoders), before (decoders)
//   global=K               the first K tokens global (encoders: Longformer)
//   global-at=P:Q:...      these positions global (ascending), with or without global=K
//   block=B                block-sparse over blocks of B tokens (encoders), with
//     local=L global-blocks=G stride=S random=R seed=N  (defaults 1, 0, 0, 0, 0)
//   sinks=K                decoders with a window: keep the first K tokens (StreamingLLM)
// A key given keeps the file's others: `global=2` on a windowed file keeps
// its window; `window=W` replaces a block pattern; `dense` drops everything.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "format/model.h"

namespace heed {

struct AttentionOverride {
  enum class Pattern : uint8_t { kKeep, kDense, kWindow, kBlock };
  Pattern pattern = Pattern::kKeep;
  int32_t window = 0;                      // kWindow
  int32_t block_size = 0, block_local = 1, block_global = 0, block_stride = 0, block_random = 0,
          block_seed = 0;                  // kBlock
  bool set_global = false;                 // global= or global-at= given (replace the file's)
  int32_t global_first = 0;
  std::vector<int32_t> global_positions;
  bool set_sinks = false;
  int32_t sinks = 0;

  bool empty() const { return pattern == Pattern::kKeep && !set_global && !set_sinks; }
};

// Caps of a pattern (a file or spec asking for more is refused).
constexpr int32_t kMaxAttentionGlobalPositions = 4096;
constexpr int32_t kMaxAttentionRandomBlocks = 64;

// HEED_ERROR_INVALID_ARGUMENT naming the bad key or value.
Status parse_attention_spec(std::string_view spec, AttentionOverride* out);

// The spec text of an override (parse_attention_spec reads it back).
std::string attention_spec_text(const AttentionOverride& o);

// The pattern rules of an ATTENTION op's options (the op's decode checks a
// file's with them): window 1..kMaxSeq for the window patterns, global
// tokens only on SLIDING_WINDOW and BLOCK_SPARSE (positions ascending,
// distinct, < kMaxSeq), block fields only on BLOCK_SPARSE (size >= 1,
// others >= 0, random <= kMaxAttentionRandomBlocks), sinks only on
// CAUSAL_WINDOW and at most its window. HEED_ERROR_INVALID_ARGUMENT naming the rule.
Status check_attention_pattern(const OpAttrs& a);

// An ATTENTION op's pattern in words: its schema name, then its fields as a
// spec ("SLIDING_WINDOW window=16,global=2"; "CAUSAL" alone).
std::string attention_pattern_text(const OpAttrs& a);

// Applies `o` to an ATTENTION op's options; `causal` says whether the op is
// a decoder's (CAUSAL or CAUSAL_WINDOW). HEED_ERROR_INVALID_ARGUMENT when
// the result does not fit the op (block-sparse or global tokens on a causal
// layer, sinks on an encoder or without a window, positions past kMaxSeq).
Status apply_attention_override(const AttentionOverride& o, bool causal, OpAttrs* a);

}  // namespace heed
