#include "kernels/dispatch.h"

#include <cpuinfo.h>

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "kernels/kernels.h"

namespace heed {

namespace {
const char* const kIsaNames[] = {"scalar", "avx2", "avx512vnni", "neon", "neondot"};

const KernelTable kScalarTable = {
    Isa::kScalar,
    heed_f32_gemm_ukernel__scalar,
    heed_f32_qs8_quantize_blocks__scalar,
    heed_f32_qs8_quantize_static__scalar,
    heed_qs8_qc8w_gemm_f32_ukernel__scalar,
    heed_f32_layernorm__scalar,
    heed_f32_gelu__scalar,
    heed_f32_tanh__scalar,
    heed_f32_relu__scalar,
    heed_f32_attention__scalar,
};
}  // namespace

const char* isa_name(Isa isa) {
  const int i = static_cast<int>(isa);
  return i >= 0 && i < 5 ? kIsaNames[i] : "unknown";
}

Status isa_parse(const char* name, Isa* out) {
  for (int i = 0; name && i < 5; ++i) {
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
  if (isa == Isa::kAvx2) return cpuinfo_has_x86_avx2();
  if (isa == Isa::kAvx512Vnni) return cpuinfo_has_x86_avx512vnni() && cpuinfo_has_x86_avx512bw();
#endif
#if defined(__aarch64__) || defined(__arm__)
  if (isa == Isa::kNeon) return cpuinfo_has_arm_neon();
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

const KernelTable& kernel_table(Isa isa) {
  // Only the scalar reference exists so far; SIMD variants slot in here.
  (void)isa;
  return kScalarTable;
}

}  // namespace heed
