// Platform queries the runtime needs at session creation (never during inference).
#pragma once

#include <cstddef>

namespace heed {

// CPUs this process may run on now: its affinity mask on Linux (taskset,
// cgroup cpusets), else the online processor count; at least 1.
size_t available_cpus();

}  // namespace heed
