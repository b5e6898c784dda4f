// The generated FlatBuffers code for schemas/heed.fbs (generated at build time).
#pragma once

#ifndef FLATBUFFERS_MAX_ALIGNMENT
#define FLATBUFFERS_MAX_ALIGNMENT 64
#endif
#include "heed/heed_generated.h"

namespace heed {
// Schema version written by this build: major * 1000 + minor.
constexpr uint32_t kSchemaVersion = 1004;  // 1.4: ATTENTION global tokens, BLOCK_SPARSE, sinks; 1.3: ATTENTION num_kv_heads and CAUSAL_WINDOW, Metadata.kv_cache and .generation (bos / eos ids); 1.2: graph input roles, RMS_NORM, BPE tokenizer kinds; 1.1: packed weight layouts
}  // namespace heed
