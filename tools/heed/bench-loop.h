// The timed loop of `heed bench`: runs the session `iters` times and stores
// each run's milliseconds in ms[0, iters). It calls only Session::run and
// the clock, so it makes no heap call (tests/heap/heap-test.cc runs this same
// function under the heap counter). Returns the first failing run's status.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "exec/session.h"

namespace heed::cli {

inline Status timed_runs(Session& session, const int32_t* ids, size_t count, float* out, size_t out_size,
                         size_t iters, double* ms) {
  for (size_t i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = session.run(ids, count, out, out_size, nullptr);
    const auto t1 = std::chrono::steady_clock::now();
    if (!s.ok()) return s;
    ms[i] = std::chrono::duration<double, std::milli>(t1 - t0).count();
  }
  return Status::Ok();
}

}  // namespace heed::cli
