// ISA detection (cpuinfo) and the per-session kernel table.
#include <cpuinfo.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "kernels/kernels.h"

namespace heed {

namespace {
const char* const kIsaNames[] = {"scalar", "avx2", "avx512vnni", "neon", "neondot"};

bool is_x86(Isa isa) { return isa == Isa::kAvx2 || isa == Isa::kAvx512Vnni; }
bool is_arm(Isa isa) { return isa == Isa::kNeon || isa == Isa::kNeonDot; }

KernelTable make_table(Isa isa) {
  KernelTable t;
  t.isa = isa;
  t.qs8_gemm = select_variant(kQs8GemmVariants, kQs8GemmVariantCount, isa);
  t.qs8_gemv = select_variant(kQs8GemvVariants, kQs8GemvVariantCount, isa);
  t.f32_gemm = select_variant(kF32GemmVariants, kF32GemmVariantCount, isa);
  t.quantize = select_variant(kQuantizeVariants, kQuantizeVariantCount, isa);
  t.layernorm = select_variant(kLayerNormVariants, kLayerNormVariantCount, isa);
  t.activation = select_variant(kActivationVariants, kActivationVariantCount, isa);
  t.attention = select_variant(kAttentionVariants, kAttentionVariantCount, isa);
  t.cached_attention = select_variant(kCachedAttentionVariants, kCachedAttentionVariantCount, isa);
  t.rmsnorm = select_variant(kRmsNormVariants, kRmsNormVariantCount, isa);
  return t;
}
}  // namespace

const char* isa_name(Isa isa) {
  const int i = static_cast<int>(isa);
  return i >= 0 && i < kIsaCount ? kIsaNames[i] : "unknown";
}

Status isa_parse(const char* name, Isa* out) {
  for (int i = 0; name && i < kIsaCount; ++i) {
    if (std::strcmp(name, kIsaNames[i]) == 0) {
      *out = static_cast<Isa>(i);
      return Status::Ok();
    }
  }
  return Status::Error(HEED_ERROR_INVALID_ARGUMENT,
                       "unknown ISA '%s' (expected scalar, avx2, avx512vnni, neon, neondot)",
                       name ? name : "(null)");
}

bool isa_supported(Isa isa) {
  if (isa == Isa::kScalar) return true;
  if (!cpuinfo_initialize()) return false;
#if defined(__x86_64__) || defined(__i386__)
  // The avx2 files are built with -mavx2 -mfma, the avx512vnni ones with AVX-512 F/BW/DQ/VL/VNNI too.
  const bool avx2 = cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3();
  if (isa == Isa::kAvx2) return avx2;
  if (isa == Isa::kAvx512Vnni) {
    return avx2 && cpuinfo_has_x86_avx512f() && cpuinfo_has_x86_avx512bw() && cpuinfo_has_x86_avx512dq() &&
           cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512vnni();
  }
#endif
#if defined(__aarch64__) || defined(__arm__)
#if defined(__arm__)
  // armv7 NEON files are built with -mfpu=neon-vfpv4 and use vfma
  // (Cortex-A8/A9 have NEON without it).
  if (isa == Isa::kNeon) return cpuinfo_has_arm_neon() && cpuinfo_has_arm_neon_fma();
#else
  if (isa == Isa::kNeon) return cpuinfo_has_arm_neon();
#endif
  if (isa == Isa::kNeonDot) return cpuinfo_has_arm_neon_dot();
#endif
  return false;
}

Status isa_select(const Isa* requested, Isa* out) {
  Isa isa = Isa::kScalar;
  for (Isa candidate : {Isa::kNeonDot, Isa::kNeon, Isa::kAvx512Vnni, Isa::kAvx2}) {
    if (isa_supported(candidate)) {
      isa = candidate;
      break;
    }
  }
  auto cap = [&](Isa c, const char* source) {
    if (!isa_supported(c)) {
      return Status::Error(HEED_ERROR_UNSUPPORTED, "%s: ISA %s is not supported by this CPU (best: %s)", source,
                           isa_name(c), isa_name(isa));
    }
    // Within one family (x86: scalar < avx2 < avx512vnni; ARM: scalar < neon
    // < neondot) the enum order is the capability order.
    if (static_cast<int>(c) < static_cast<int>(isa)) isa = c;
    return Status::Ok();
  };
  if (const char* env = std::getenv("HEED_ISA"); env && *env) {  // empty = unset
    Isa e = Isa::kScalar;
    const Status s = isa_parse(env, &e);
    if (!s.ok()) return Status::Error(s.code(), "environment variable HEED_ISA: %s", s.message());
    HEED_RETURN_IF_ERROR(cap(e, "environment variable HEED_ISA"));
  }
  if (requested) HEED_RETURN_IF_ERROR(cap(*requested, "requested"));
  *out = isa;
  return Status::Ok();
}

bool isa_within(Isa kernel, Isa session) {
  if (kernel == Isa::kScalar) return true;
  const bool same_family = (is_x86(kernel) && is_x86(session)) || (is_arm(kernel) && is_arm(session));
  return same_family && static_cast<int>(kernel) <= static_cast<int>(session);
}

const KernelTable& kernel_table(Isa isa) {
  // Every table's first entry is its scalar reference, so each family always
  // has a variant.
  static const KernelTable tables[kIsaCount] = {make_table(Isa::kScalar), make_table(Isa::kAvx2),
                                                make_table(Isa::kAvx512Vnni), make_table(Isa::kNeon),
                                                make_table(Isa::kNeonDot)};
  const int i = static_cast<int>(isa);
  return tables[i >= 0 && i < kIsaCount ? i : 0];
}

}  // namespace heed
