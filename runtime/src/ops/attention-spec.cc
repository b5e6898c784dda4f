// Attention pattern specs (ops/attention-spec.h): parsing, printing, and
// applying them to an ATTENTION op's options with the checks the op's
// decode applies to a file's options.
#include "ops/attention-spec.h"

#include <cstdio>
#include <cstdlib>

#define HEED_BAD_SPEC(...) Status::Error(HEED_ERROR_INVALID_ARGUMENT, "attention spec: " __VA_ARGS__)
#define HEED_BAD_ATTN(...) Status::Error(HEED_ERROR_INVALID_ARGUMENT, __VA_ARGS__)

namespace heed {

namespace {

// A decimal integer in [lo, hi].
bool parse_int(std::string_view s, long long lo, long long hi, int32_t* out) {
  if (s.empty() || s.size() > 12) return false;
  long long v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + (ch - '0');
  }
  if (v < lo || v > hi) return false;
  *out = int32_t(v);
  return true;
}

}  // namespace

Status parse_attention_spec(std::string_view spec, AttentionOverride* out) {
  AttentionOverride o;
  bool block_key = false;
  if (spec.empty()) return HEED_BAD_SPEC("empty");
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t end = spec.find(',', pos);
    if (end == std::string_view::npos) end = spec.size();
    const std::string_view item = spec.substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq), val = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (key.empty()) return HEED_BAD_SPEC("an empty item");
    int32_t* field = nullptr;
    long long lo = 0, hi = kMaxSeq;
    if (key == "dense" && eq == std::string_view::npos) {
      if (o.pattern != AttentionOverride::Pattern::kKeep) return HEED_BAD_SPEC("'%.*s' conflicts with an earlier pattern", int(key.size()), key.data());
      o.pattern = AttentionOverride::Pattern::kDense;
      continue;
    } else if (key == "window") {
      if (o.pattern != AttentionOverride::Pattern::kKeep) return HEED_BAD_SPEC("'%.*s' conflicts with an earlier pattern", int(key.size()), key.data());
      o.pattern = AttentionOverride::Pattern::kWindow;
      field = &o.window;
      lo = 1;
    } else if (key == "block") {
      if (o.pattern != AttentionOverride::Pattern::kKeep) return HEED_BAD_SPEC("'%.*s' conflicts with an earlier pattern", int(key.size()), key.data());
      o.pattern = AttentionOverride::Pattern::kBlock;
      field = &o.block_size;
      lo = 1;
    } else if (key == "local") {
      field = &o.block_local, block_key = true;
    } else if (key == "global-blocks") {
      field = &o.block_global, block_key = true;
    } else if (key == "stride") {
      field = &o.block_stride, block_key = true;
    } else if (key == "random") {
      field = &o.block_random, hi = kMaxAttentionRandomBlocks, block_key = true;
    } else if (key == "seed") {
      field = &o.block_seed, hi = 0x7fffffff, block_key = true;
    } else if (key == "global") {
      o.set_global = true;
      field = &o.global_first;
    } else if (key == "sinks") {
      o.set_sinks = true;
      field = &o.sinks;
    } else if (key == "global-at") {
      o.set_global = true;
      size_t p = 0;
      while (p <= val.size()) {
        size_t q = val.find(':', p);
        if (q == std::string_view::npos) q = val.size();
        int32_t v = 0;
        if (!parse_int(val.substr(p, q - p), 0, kMaxSeq - 1, &v)) {
          return HEED_BAD_SPEC("global-at position '%.*s' must be 0..%d", int(q - p), val.data() + p, kMaxSeq - 1);
        }
        if (!o.global_positions.empty() && v <= o.global_positions.back()) {
          return HEED_BAD_SPEC("global-at positions '%.*s' must ascend without repeats", int(val.size()), val.data());
        }
        if (o.global_positions.size() >= size_t(kMaxAttentionGlobalPositions)) {
          return HEED_BAD_SPEC("global-at lists more than %d positions", kMaxAttentionGlobalPositions);
        }
        o.global_positions.push_back(v);
        p = q + 1;
      }
      continue;
    } else {
      return HEED_BAD_SPEC("unknown key '%.*s' (dense, window, global, global-at, block, local, global-blocks, "
                           "stride, random, seed, sinks)", int(key.size()), key.data());
    }
    if (eq == std::string_view::npos || !parse_int(val, lo, hi, field)) {
      return HEED_BAD_SPEC("%.*s needs a value %lld..%lld, not '%.*s'", int(key.size()), key.data(), lo, hi,
                           int(val.size()), val.data());
    }
  }
  if (block_key && o.pattern != AttentionOverride::Pattern::kBlock) {
    return HEED_BAD_SPEC("local, global-blocks, stride, random and seed go with block=B");
  }
  *out = std::move(o);
  return Status::Ok();
}

std::string attention_spec_text(const AttentionOverride& o) {
  std::string s;
  char buf[64];
  auto add = [&](const char* key, long long v) {
    std::snprintf(buf, sizeof buf, "%s%s=%lld", s.empty() ? "" : ",", key, v);
    s += buf;
  };
  switch (o.pattern) {
    case AttentionOverride::Pattern::kKeep: break;
    case AttentionOverride::Pattern::kDense: s = "dense"; break;
    case AttentionOverride::Pattern::kWindow: add("window", o.window); break;
    case AttentionOverride::Pattern::kBlock:
      add("block", o.block_size);
      add("local", o.block_local);
      add("global-blocks", o.block_global);
      add("stride", o.block_stride);
      add("random", o.block_random);
      add("seed", o.block_seed);
      break;
  }
  if (o.set_global) {
    add("global", o.global_first);
    if (!o.global_positions.empty()) {
      s += ",global-at=";
      for (size_t i = 0; i < o.global_positions.size(); ++i) s += (i ? ":" : "") + std::to_string(o.global_positions[i]);
    }
  }
  if (o.set_sinks) add("sinks", o.sinks);
  return s;
}

std::string attention_pattern_text(const OpAttrs& a) {
  static const char* const kNames[] = {"DENSE", "CAUSAL", "SLIDING_WINDOW", "CAUSAL_WINDOW", "BLOCK_SPARSE"};
  AttentionOverride o;
  if (a.pattern == AttnPattern::kSlidingWindow || a.pattern == AttnPattern::kCausalWindow) {
    o.pattern = AttentionOverride::Pattern::kWindow;
    o.window = a.window;
  } else if (a.pattern == AttnPattern::kBlockSparse) {
    o.pattern = AttentionOverride::Pattern::kBlock;
    o.block_size = a.block_size, o.block_local = a.block_local, o.block_global = a.block_global;
    o.block_stride = a.block_stride, o.block_random = a.block_random, o.block_seed = a.block_seed;
  }
  o.set_global = a.global_first > 0 || !a.global_positions.empty();
  o.global_first = a.global_first;
  o.global_positions = a.global_positions;
  o.set_sinks = a.sinks > 0;
  o.sinks = a.sinks;
  const std::string spec = attention_spec_text(o);
  const size_t p = size_t(a.pattern);
  return std::string(p < 5 ? kNames[p] : "?") + (spec.empty() ? "" : " " + spec);
}

Status check_attention_pattern(const OpAttrs& a) {
  if (a.pattern == AttnPattern::kSlidingWindow || a.pattern == AttnPattern::kCausalWindow) {
    if (a.window <= 0 || a.window > kMaxSeq) return HEED_BAD_ATTN("window %d must be 1..%d", a.window, kMaxSeq);
  }
  const bool globals = a.global_first != 0 || !a.global_positions.empty();
  if (a.global_first < 0 || a.global_first > kMaxSeq) {
    return HEED_BAD_ATTN("global tokens %d must be 0..%d", a.global_first, kMaxSeq);
  }
  if (globals && a.pattern != AttnPattern::kSlidingWindow && a.pattern != AttnPattern::kBlockSparse) {
    return HEED_BAD_ATTN("global tokens need a windowed or block-sparse encoder layer");
  }
  if (a.global_positions.size() > size_t(kMaxAttentionGlobalPositions)) {
    return HEED_BAD_ATTN("%zu global positions exceed %d", a.global_positions.size(), kMaxAttentionGlobalPositions);
  }
  for (size_t i = 0; i < a.global_positions.size(); ++i) {
    const int32_t p = a.global_positions[i];
    if (p < 0 || p >= kMaxSeq || (i > 0 && p <= a.global_positions[i - 1])) {
      return HEED_BAD_ATTN("global position %d (entry %zu) must be 0..%d and ascend without repeats", p, i, kMaxSeq - 1);
    }
  }
  if (a.pattern == AttnPattern::kBlockSparse) {
    if (a.block_size <= 0 || a.block_size > kMaxSeq) return HEED_BAD_ATTN("block size %d must be 1..%d", a.block_size, kMaxSeq);
    if (a.block_local < 0 || a.block_local > kMaxSeq) return HEED_BAD_ATTN("local blocks %d must be 0..%d", a.block_local, kMaxSeq);
    if (a.block_global < 0 || a.block_global > kMaxSeq) {
      return HEED_BAD_ATTN("global blocks %d must be 0..%d", a.block_global, kMaxSeq);
    }
    if (a.block_stride < 0 || a.block_stride > kMaxSeq) {
      return HEED_BAD_ATTN("block stride %d must be 0..%d", a.block_stride, kMaxSeq);
    }
    if (a.block_random < 0 || a.block_random > kMaxAttentionRandomBlocks) {
      return HEED_BAD_ATTN("random blocks %d must be 0..%d", a.block_random, kMaxAttentionRandomBlocks);
    }
    if (a.block_seed < 0) return HEED_BAD_ATTN("block seed %d must be >= 0", a.block_seed);
  } else if (a.block_size != 0 || a.block_local != 0 || a.block_global != 0 || a.block_stride != 0 ||
             a.block_random != 0 || a.block_seed != 0) {
    return HEED_BAD_ATTN("block fields are set on a layer that is not BLOCK_SPARSE");
  }
  if (a.sinks < 0 || a.sinks > kMaxSeq) return HEED_BAD_ATTN("sinks %d must be 0..%d", a.sinks, kMaxSeq);
  if (a.sinks > 0 && a.pattern != AttnPattern::kCausalWindow) {
    return HEED_BAD_ATTN("attention sinks need a causal layer with a window");
  }
  if (a.sinks > a.window && a.pattern == AttnPattern::kCausalWindow) {
    return HEED_BAD_ATTN("sinks %d exceed the window of %d: keep a few first tokens (StreamingLLM: 4)", a.sinks, a.window);
  }
  return Status::Ok();
}

Status apply_attention_override(const AttentionOverride& o, bool causal, OpAttrs* a) {
  OpAttrs r = *a;
  using P = AttentionOverride::Pattern;
  auto clear_blocks = [&] { r.block_size = r.block_local = r.block_global = r.block_stride = r.block_random = r.block_seed = 0; };
  switch (o.pattern) {
    case P::kKeep: break;
    case P::kDense:
      r.pattern = causal ? AttnPattern::kCausal : AttnPattern::kDense;
      r.window = 0;
      clear_blocks();
      r.global_first = 0;
      r.global_positions.clear();
      r.sinks = 0;
      break;
    case P::kWindow:
      r.pattern = causal ? AttnPattern::kCausalWindow : AttnPattern::kSlidingWindow;
      r.window = o.window;
      clear_blocks();
      break;
    case P::kBlock:
      if (causal) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "block-sparse attention is for encoders, not causal layers");
      r.pattern = AttnPattern::kBlockSparse;
      r.window = 0;
      r.block_size = o.block_size;
      r.block_local = o.block_local;
      r.block_global = o.block_global;
      r.block_stride = o.block_stride;
      r.block_random = o.block_random;
      r.block_seed = o.block_seed;
      break;
  }
  if (o.set_global) {
    if (causal) {
      return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                           "global tokens are for encoders; a causal layer keeps its first tokens with sinks=K");
    }
    r.global_first = o.global_first;
    r.global_positions = o.global_positions;
  }
  if (o.set_sinks) {
    if (!causal) return Status::Error(HEED_ERROR_INVALID_ARGUMENT, "attention sinks are for causal layers (decoders)");
    r.sinks = o.sinks;
  }
  Status s = check_attention_pattern(r);
  if (!s.ok()) return s;
  *a = std::move(r);
  return Status::Ok();
}

}  // namespace heed
