// Memory planner: places activation tensors in one arena by liveness, greedy by
// size (largest first, lowest offset that does not overlap a live tensor).
// Used by the runtime (session creation) and the converter (the plan recorded
// in the file). Deterministic; allocation only at plan time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace heed {

struct PlanRequest {
  size_t bytes = 0;        // 0 = not planned (constants)
  int32_t first_use = -1;  // op index that produces it (-1 = before op 0, graph inputs)
  int32_t last_use = -1;   // last op index that reads it (or the end for graph outputs)
};

struct Plan {
  std::vector<size_t> offsets;  // per request; aligned to kPlanAlign
  size_t total_bytes = 0;
};

constexpr size_t kPlanAlign = 64;

// Fails only on size overflow (returns false).
bool plan_memory(const std::vector<PlanRequest>& requests, Plan* plan);

}  // namespace heed
