#include "kernels/dispatch.h"

#include <cpuinfo.h>

#include <cstdlib>
#include <cstring>

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

Isa isa_detect() {
  Isa best = Isa::kScalar;
  const Isa order[] = {Isa::kNeonDot, Isa::kNeon, Isa::kAvx512Vnni, Isa::kAvx2};
  for (Isa isa : order) {
    if (isa_supported(isa)) {
      best = isa;
      break;
    }
  }
  const char* cap = std::getenv("HEED_ISA");
  Isa capped = Isa::kScalar;
  if (cap && isa_parse(cap, &capped).ok() && isa_supported(capped)) return capped;
  return best;
}

const KernelTable& kernel_table(Isa isa) {
  // Only the scalar reference exists so far; SIMD variants slot in here.
  (void)isa;
  return kScalarTable;
}

}  // namespace heed
