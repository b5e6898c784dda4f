#include "plan/planner.h"

#include <algorithm>
#include <numeric>

namespace heed {

namespace {
bool align_up(size_t v, size_t* out) {
  if (v > SIZE_MAX - (kPlanAlign - 1)) return false;
  *out = (v + kPlanAlign - 1) / kPlanAlign * kPlanAlign;
  return true;
}
bool overlaps_in_time(const PlanRequest& a, const PlanRequest& b) {
  return !(a.last_use < b.first_use || b.last_use < a.first_use);
}
}  // namespace

bool plan_memory(const std::vector<PlanRequest>& requests, Plan* plan) {
  const size_t n = requests.size();
  plan->offsets.assign(n, 0);
  plan->total_bytes = 0;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by first use, then index, for a deterministic plan.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first_use < requests[b].first_use;
  });
  std::vector<size_t> placed;
  placed.reserve(n);
  std::vector<std::pair<size_t, size_t>> busy;  // [begin, end) of time-overlapping placed tensors
  for (size_t idx : order) {
    const PlanRequest& r = requests[idx];
    if (r.bytes == 0) continue;
    size_t bytes;
    if (!align_up(r.bytes, &bytes)) return false;
    busy.clear();
    for (size_t p : placed) {
      if (overlaps_in_time(requests[p], r)) {
        size_t pb = 0;  // placed requests were aligned before
        align_up(requests[p].bytes, &pb);
        busy.emplace_back(plan->offsets[p], plan->offsets[p] + pb);
      }
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [b, e] : busy) {
      if (offset + bytes <= b) break;
      offset = std::max(offset, e);
    }
    if (offset > SIZE_MAX - bytes) return false;
    plan->offsets[idx] = offset;
    plan->total_bytes = std::max(plan->total_bytes, offset + bytes);
    placed.push_back(idx);
  }
  return true;
}

}  // namespace heed
