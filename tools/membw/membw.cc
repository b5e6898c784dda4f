// heed-membw: this machine's single-thread read bandwidth, the yardstick of
// decode speed in docs/benchmarks.md (decode reads every weight once a token).
//
//   heed-membw [--mib 1024[,4,...]] [--reps 7] [--json]
//
// For each size, a buffer of that many MiB (64-byte aligned, written once so
// that every page is mapped) is read whole --reps times, one thread, with the
// widest loads this CPU has (64-byte AVX-512 loads where the CPU has them,
// else 32-byte AVX2, else 16-byte vectors), eight independent accumulators so
// that the adds never wait on each other. Prints the best pass in GB/s
// (10^9 bytes per second) and the median. 1 GiB is far beyond any cache, so
// that row is DRAM; small sizes show the caches.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

volatile uint64_t g_sink;

namespace {

typedef uint64_t v2u64 __attribute__((vector_size(16)));

// Generic: 16-byte vectors (SSE2 on x86-64, NEON on arm64).
uint64_t read_generic(const void* p, size_t bytes) {
  const v2u64* v = static_cast<const v2u64*>(p);
  const size_t n = bytes / 128;
  v2u64 a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < n; ++i, v += 8) {
    a0 += v[0]; a1 += v[1]; a2 += v[2]; a3 += v[3];
    a4 += v[4]; a5 += v[5]; a6 += v[6]; a7 += v[7];
  }
  const v2u64 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  return s[0] + s[1];
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef uint64_t v4u64 __attribute__((vector_size(32)));
typedef uint64_t v8u64 __attribute__((vector_size(64)));

__attribute__((target("avx2"))) uint64_t read_avx2(const void* p, size_t bytes) {
  const v4u64* v = static_cast<const v4u64*>(p);
  const size_t n = bytes / 256;
  v4u64 a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < n; ++i, v += 8) {
    a0 += v[0]; a1 += v[1]; a2 += v[2]; a3 += v[3];
    a4 += v[4]; a5 += v[5]; a6 += v[6]; a7 += v[7];
  }
  const v4u64 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  return s[0] + s[1] + s[2] + s[3];
}

__attribute__((target("avx512f"))) uint64_t read_avx512(const void* p, size_t bytes) {
  const v8u64* v = static_cast<const v8u64*>(p);
  const size_t n = bytes / 512;
  v8u64 a0 = {0, 0, 0, 0, 0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i < n; ++i, v += 8) {
    a0 += v[0]; a1 += v[1]; a2 += v[2]; a3 += v[3];
    a4 += v[4]; a5 += v[5]; a6 += v[6]; a7 += v[7];
  }
  const v8u64 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r += s[i];
  return r;
}
#endif

struct Reader {
  const char* name;
  uint64_t (*fn)(const void*, size_t);
};

Reader pick() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512 (64-byte loads)", read_avx512};
  if (__builtin_cpu_supports("avx2")) return {"avx2 (32-byte loads)", read_avx2};
#endif
  return {"generic (16-byte loads)", read_generic};
}

std::vector<size_t> parse_sizes(const char* s) {
  std::vector<size_t> out;
  for (const char* p = s; *p;) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(p, &end, 10);
    if (end == p || v == 0 || v > (1ul << 20)) {
      std::fprintf(stderr, "heed-membw: bad --mib '%s'\n", s);
      std::exit(2);
    }
    out.push_back(size_t(v));
    p = *end == ',' ? end + 1 : end;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {1024};
  int reps = 7;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mib" && i + 1 < argc) {
      sizes = parse_sizes(argv[++i]);
    } else if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "usage: heed-membw [--mib 1024[,4,...]] [--reps 7] [--json]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  const Reader reader = pick();
  if (json) std::printf("{\"loads\": \"%s\", \"reps\": %d, \"results\": [", reader.name, reps);
  uint64_t sink = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    const size_t bytes = sizes[k] << 20;
    void* buf = std::aligned_alloc(64, bytes);
    if (!buf) {
      std::fprintf(stderr, "heed-membw: cannot allocate %zu MiB\n", sizes[k]);
      return 1;
    }
    std::memset(buf, 1, bytes);
    sink += reader.fn(buf, bytes);  // warm-up pass
    std::vector<double> gbs;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      sink += reader.fn(buf, bytes);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      gbs.push_back(double(bytes) / s / 1e9);
    }
    std::free(buf);
    std::sort(gbs.begin(), gbs.end());
    const double best = gbs.back(), median = gbs[gbs.size() / 2];
    if (json) {
      std::printf("%s{\"mib\": %zu, \"best_gb_s\": %.3f, \"median_gb_s\": %.3f}", k ? ", " : "", sizes[k], best,
                  median);
    } else {
      std::printf("%6zu MiB: best %7.2f GB/s, median %7.2f GB/s (%s, %d passes, one thread)\n", sizes[k], best,
                  median, reader.name, reps);
    }
  }
  if (json) std::printf("]}\n");
  g_sink = sink;  // keeps the reads alive
  return 0;
}
