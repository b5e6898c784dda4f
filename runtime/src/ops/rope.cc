// ROPE: rotary position embedding as transformers' Llama applies it (the
// rotate-half convention), on a fused projection qkv [s, (H + 2 KV) D]
// (q | k | v, heads contiguous in each), q and k rotated, v copied, written
// as [s, (H + 2 KV) D] for an ATTENTION with num_kv_heads = KV, or (files of
// schema 1.2) as [s, 3 H D] with key/value head h / (H / KV) repeated for
// each query head h.
//
// Per token with position p (the positions input, or 0..s-1 without one) and
// i in 0..D/2-1, in float32 unless stated:
//   inv[i] = 1 / float(pow(double(theta'), double(float(2i) / float(D))))
//   t = float(p)                (LINEAR: float(p) / factor)
//   a = inv[i] * t; c = float(cos(double(a))); s = float(sin(double(a)))
//   out[i]       = x[i] * c + (-x[i + D/2]) * s
//   out[i + D/2] = x[i + D/2] * c + x[i] * s
// theta' = theta, except DYNAMIC when L = max(p) + 1 > original_max_positions:
//   theta' = theta * float(pow(double((factor * L) / orig - (factor - 1)), double(D) / double(D - 2)))
// cos, sin and pow are libm's double functions rounded once to float (the
// rounded values agree across libms far more often than their float forms).
// The cos/sin of positions 0..max_seq-1 at theta (after LINEAR's division)
// are computed once at session creation into the op's persistent state (one
// copy for all ROPE ops with the same head_dim, theta and scaling) and read
// from there; DYNAMIC runs whose theta' differs from theta compute them per
// token with the formula above. Positions past the table (a streaming
// session's, attention sinks: ArenaLayout::streams) are any int32 >= 0 and
// take their angle in double, a = double(inv[i]) * double(p) (LINEAR: /
// double(factor)), cos and sin rounded once to float: a float p * inv loses
// the angle's low bits as p grows (at p = 2^24 the float product is off by up
// to one radian), the double one stays within 2^-52 p.
#include <cmath>
#include <cstring>

#include "ops/rope.h"

#include "ops/op.h"
#include "ops/ops.h"

namespace heed {

// inv[i] at theta (the header's formula).
void rope_inverse_frequencies(const OpInfo& op, float theta, float* inv) {
  const size_t D = size_t(op.head_dim);
  for (size_t i = 0; i < D / 2; ++i) {
    const float e = float(2 * i) / float(D);
    inv[i] = 1.0f / float(std::pow(double(theta), double(e)));
  }
}

// cos and sin of a position past the table (theta's frequencies), in double.
void rope_far_angles(const OpInfo& op, const float* inv, double pos, float* c, float* s) {
  double p = pos;
  if (op.rope_scaling == RopeScaling::kLinear) p = p / double(op.rope_factor);
  for (size_t i = 0; i < size_t(op.head_dim) / 2; ++i) {
    const double a = double(inv[i]) * p;
    c[i] = float(std::cos(a));
    s[i] = float(std::sin(a));
  }
}

// Rotates one head of D values from `x` into `y` with the token's cos/sin.
void rope_rotate(size_t half, const float* x, const float* c, const float* s, float* y) {
  for (size_t i = 0; i < half; ++i) {
    const float a = x[i], b = x[i + half];
    y[i] = a * c[i] + (-b) * s[i];
    y[i + half] = b * c[i] + a * s[i];
  }
}

namespace {
const OpSlot kInputs[] = {
    {"qkv", kFromRuntime, kF32, 2, 0},                    // [s, (H + 2 KV) D]
    {"positions", kFromGraphInput, kI32, 1, kOptional},  // [s]
};
const OpSlot kOutputs[] = {{"out", kFromActivation, kF32, 2, 0}};  // [s, (H + 2 KV) D] or [s, 3 H D]

Status decode(const fb::Op& o, OpCheck& c) {
  const fb::RopeOptions* ro = o.options_as_RopeOptions();
  OpInfo& op = c.op;
  op.num_heads = ro->num_heads();
  op.num_kv_heads = ro->num_kv_heads();
  op.head_dim = ro->head_dim();
  if (op.num_heads <= 0 || op.num_heads > kMaxHeads || op.head_dim <= 0 || op.head_dim > kMaxHeadDim) {
    return c.fail("heads %d x head_dim %d invalid", op.num_heads, op.head_dim);
  }
  if (op.head_dim % 2 != 0 || op.head_dim < 4) return c.fail("head_dim %d must be even and at least 4", op.head_dim);
  if (op.num_kv_heads <= 0 || op.num_kv_heads > op.num_heads || op.num_heads % op.num_kv_heads != 0) {
    return c.fail("%d key/value heads do not divide %d query heads", op.num_kv_heads, op.num_heads);
  }
  op.rope_theta = ro->theta();
  if (!is_positive_normal(op.rope_theta) || op.rope_theta <= 1.0f) {
    return c.fail("theta %g must be finite and above 1", double(op.rope_theta));
  }
  const int scaling = int(ro->scaling());
  if (scaling < 0 || scaling > 2) return c.unsupported("unknown rope scaling %d", scaling);
  op.rope_scaling = static_cast<RopeScaling>(scaling);
  op.rope_factor = ro->factor();
  if (!std::isfinite(op.rope_factor) || op.rope_factor < 1.0f || op.rope_factor > 1e6f) {
    return c.fail("factor %g must be in 1..1e6", double(op.rope_factor));
  }
  op.rope_original_max = ro->original_max_positions();
  if (op.rope_scaling == RopeScaling::kDynamic && (op.rope_original_max < 1 || op.rope_original_max > kMaxSeq)) {
    return c.fail("original_max_positions %d must be 1..%d", op.rope_original_max, kMaxSeq);
  }
  op.rope_max_positions = ro->max_positions();
  if (op.rope_max_positions < 0 || op.rope_max_positions == 1) {
    return c.fail("max_positions %d must be 0 or at least 2", op.rope_max_positions);
  }
  return Status::Ok();
}

const OptionSpec kOptions[] = {
    HEED_OPTION(RopeOptions, VT_NUM_HEADS, num_heads),
    HEED_OPTION(RopeOptions, VT_NUM_KV_HEADS, num_kv_heads),
    HEED_OPTION(RopeOptions, VT_HEAD_DIM, head_dim),
    HEED_OPTION(RopeOptions, VT_THETA, rope_theta),
    HEED_OPTION(RopeOptions, VT_SCALING, rope_scaling),
    HEED_OPTION(RopeOptions, VT_FACTOR, rope_factor),
    HEED_OPTION(RopeOptions, VT_ORIGINAL_MAX_POSITIONS, rope_original_max),
    HEED_OPTION(RopeOptions, VT_MAX_POSITIONS, rope_max_positions),
};

Status validate(OpCheck& c) {
  const OpInfo& op = c.op;
  const TensorInfo &x = *c.in(0), *pos = c.in(1), &out = c.out(0);
  const int64_t D = op.head_dim, H = op.num_heads, KV = op.num_kv_heads;
  if (x.dims[0] != kSeqDim || int64_t(x.dims[1]) != (H + 2 * KV) * D) {
    return c.fail("input must be [-1, (%lld + 2*%lld)*%lld]", (long long)H, (long long)KV, (long long)D);
  }
  if (pos && pos->dims[0] != kSeqDim) return c.fail("positions must be [-1]");
  if (out.dims[0] != kSeqDim || (int64_t(out.dims[1]) != (H + 2 * KV) * D && int64_t(out.dims[1]) != 3 * H * D)) {
    return c.fail("output must be [-1, %lld] or [-1, %lld]", (long long)((H + 2 * KV) * D), (long long)(3 * H * D));
  }
  if (op.rope_max_positions > 0) c.limit_max_seq(op.rope_max_positions);
  return Status::Ok();
}

// inv_freq, cos and sin of one token: 3 * D/2 floats.
size_t scratch_bytes(const OpSizing& s) { return size_t(s.op.head_dim) / 2 * 3 * sizeof(float); }

// cos and sin of position `pos` into c[0..half), s[0..half).
void angles(const OpInfo& op, const float* inv, int32_t pos, float* c, float* s) {
  float p = float(pos);
  if (op.rope_scaling == RopeScaling::kLinear) p = p / op.rope_factor;
  for (size_t i = 0; i < size_t(op.head_dim) / 2; ++i) {
    const float a = inv[i] * p;
    c[i] = float(std::cos(double(a)));
    s[i] = float(std::sin(double(a)));
  }
}

// The table: for position p < max_seq, cos at [p * D], sin at [p * D + D/2].
size_t state_bytes(const OpSizing& s) { return s.max_seq * size_t(s.op.head_dim) * sizeof(float); }

// The table depends on head_dim, theta and the linear factor only.
bool same_table(const OpInfo& a, const OpInfo& b) {
  return a.head_dim == b.head_dim && a.rope_theta == b.rope_theta && a.rope_scaling == b.rope_scaling &&
         a.rope_factor == b.rope_factor;
}

void init_state(const OpSizing& s, void* state) {
  const size_t D = size_t(s.op.head_dim), half = D / 2;
  float inv[kMaxHeadDim / 2];
  rope_inverse_frequencies(s.op, s.op.rope_theta, inv);
  float* t = static_cast<float*>(state);
  for (size_t p = 0; p < s.max_seq; ++p) angles(s.op, inv, int32_t(p), t + p * D, t + p * D + half);
}

Status run(const OpContext& ctx, const OpInfo& op) {
  const size_t S = ctx.seq, D = size_t(op.head_dim), half = D / 2;
  const size_t H = size_t(op.num_heads), KV = size_t(op.num_kv_heads), group = H / KV;
  const size_t in_cols = (H + 2 * KV) * D;
  const bool repeat = ctx.tensor(op.outputs[0]).dims[1] != int32_t(in_cols);  // [s, 3 H D]
  const size_t out_cols = repeat ? 3 * H * D : in_cols, out_kv = repeat ? H : KV;
  const float* x = ctx.data<float>(op.inputs[0]);
  const int32_t* pos = op.num_inputs > 1 ? ctx.data<int32_t>(op.inputs[1]) : nullptr;
  float* y = ctx.data<float>(op.outputs[0]);
  float* inv = reinterpret_cast<float*>(ctx.scratch);
  float* cs = inv + half;
  float* sn = cs + half;

  int64_t max_pos = int64_t(S) - 1;
  if (pos) {
    max_pos = 0;
    for (size_t t = 0; t < S; ++t) {
      // DYNAMIC's theta' is computed from the length: it stays within kMaxSeq.
      const int32_t top = op.rope_scaling == RopeScaling::kDynamic ? kMaxSeq : INT32_MAX;
      if (pos[t] < 0 || pos[t] >= top) {
        return Status::Error(HEED_ERROR_INVALID_INPUT, "position %d of token %zu is outside [0, %d)", pos[t], t, top);
      }
      if (pos[t] > max_pos) max_pos = pos[t];
    }
  }
  float theta = op.rope_theta;
  if (op.rope_scaling == RopeScaling::kDynamic && max_pos + 1 > op.rope_original_max) {
    const float f = op.rope_factor;
    const float r = (f * float(max_pos + 1)) / float(op.rope_original_max) - (f - 1.0f);
    theta = theta * float(std::pow(double(r), double(D) / double(D - 2)));
  }
  // The table holds theta's angles; a DYNAMIC theta' computes its own.
  const float* table = theta == op.rope_theta ? static_cast<const float*>(ctx.op_state) : nullptr;
  rope_inverse_frequencies(op, theta, inv);
  for (size_t t = 0; t < S; ++t) {
    const int32_t p = pos ? pos[t] : int32_t(t);
    const float* c = cs;
    const float* s = sn;
    if (table && size_t(p) < ctx.max_seq) {
      c = table + size_t(p) * D;
      s = c + half;
    } else if (table) {
      rope_far_angles(op, inv, double(p), cs, sn);
    } else {
      angles(op, inv, p, cs, sn);
    }
    const float* xq = x + t * in_cols;
    const float* xk = xq + H * D;
    const float* xv = xk + KV * D;
    float* yq = y + t * out_cols;
    float* yk = yq + H * D;
    float* yv = yk + out_kv * D;
    for (size_t h = 0; h < H; ++h) rope_rotate(half, xq + h * D, c, s, yq + h * D);
    if (!repeat) {
      for (size_t g = 0; g < KV; ++g) rope_rotate(half, xk + g * D, c, s, yk + g * D);
      std::memcpy(yv, xv, KV * D * sizeof(float));
      continue;
    }
    // Each kv head is rotated once, then copied to the other query heads of its group.
    for (size_t g = 0; g < KV; ++g) {
      float* k0 = yk + g * group * D;
      rope_rotate(half, xk + g * D, c, s, k0);
      for (size_t r = 0; r < group; ++r) {
        if (r > 0) std::memcpy(k0 + r * D, k0, D * sizeof(float));
        std::memcpy(yv + (g * group + r) * D, xv + g * D, D * sizeof(float));
      }
    }
  }
  return Status::Ok();
}
}  // namespace

extern const OpEntry kRopeOp = {
    OpKind::kRope, "ROPE", 1, {kInputs, 2, 1, kOutputs, 1}, fb::OpOptions::RopeOptions,
    decode, kOptions, 8, validate, scratch_bytes, state_bytes, init_state, run, same_table};

}  // namespace heed
