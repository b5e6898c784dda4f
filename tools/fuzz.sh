#!/usr/bin/env bash
# Coverage-guided fuzzing of heed's untrusted-input surfaces with libFuzzer
# (clang-14, -fsanitize=fuzzer,address,undefined). See tests/fuzz/CMakeLists.txt.
#
#   tools/fuzz.sh [seconds-per-target] [target...]
#
# seconds default 30; targets default all five:
#   fuzz-model-load fuzz-tokenize fuzz-safetensors fuzz-json fuzz-convert fuzz-bpe
# Builds build/fuzz, writes seeds to build/fuzz/seeds/<target>, keeps the
# growing corpus in build/fuzz/corpus/<target> (reused by later runs) and
# artifacts (crash-*, leak-*, timeout-*, oom-*) in build/fuzz/artifacts/<target>.
# First replays the saved reproducers in tests/fuzz/crashes/ (regressions).
# Exits non-zero if any target found a crash, leak, timeout or OOM, and prints
# the reproducer and the command that replays it.
#
# Environment: HEED_FUZZ_BUILD (build dir, default build/fuzz),
# HEED_FUZZ_ARGS (extra libFuzzer flags). To keep fuzzing past a known crash
# and collect every distinct one (each is still reported and fails the run):
#   HEED_FUZZ_ARGS="-fork=2 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1" tools/fuzz.sh 600
# Replay one input: build/fuzz/<target> <file>   (prints the stack trace)
# Needs: apt-get install -y clang-14 libclang-rt-14-dev (plus heed's usual deps).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SECS="${1:-30}"
if ! [[ "$SECS" =~ ^[0-9]+$ ]] || [ "$SECS" -lt 1 ]; then
  echo "usage: tools/fuzz.sh [seconds-per-target] [target...]" >&2
  exit 2
fi
shift || true
ALL_TARGETS=(fuzz-model-load fuzz-tokenize fuzz-safetensors fuzz-json fuzz-convert fuzz-bpe)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
for t in "${TARGETS[@]}"; do
  case " ${ALL_TARGETS[*]} " in *" $t "*) ;; *) echo "fuzz.sh: unknown target $t" >&2; exit 2 ;; esac
done

for tool in clang-14 clang++-14 cmake ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz.sh: $tool not found (apt-get install -y clang-14 libclang-rt-14-dev cmake ninja-build)" >&2
    exit 2
  fi
done

BUILD="${HEED_FUZZ_BUILD:-$ROOT/build/fuzz}"
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

# From the top-level project when it includes tests/fuzz under HEED_FUZZ;
# otherwise tests/fuzz as a standalone project that pulls the top level in.
if grep -Eq 'add_subdirectory\(tests/fuzz\)' CMakeLists.txt; then
  SRC=.
else
  SRC=tests/fuzz
fi
if [ -f "$BUILD/CMakeCache.txt" ] && ! grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$(cd "$SRC" && pwd)\$" "$BUILD/CMakeCache.txt"; then
  echo "fuzz.sh: $BUILD was configured from another source dir; reconfiguring from scratch"
  rm -rf "$BUILD"
fi

echo "== configure ($SRC -> $BUILD)"
mkdir -p "$BUILD"
CC=clang-14 CXX=clang++-14 cmake -S "$SRC" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHEED_SANITIZE=OFF -DHEED_BUILD_TOOLS=OFF -DHEED_BUILD_TESTS=OFF \
  -DHEED_FUZZ=ON -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN" >"$BUILD/configure.log" 2>&1 || {
  cat "$BUILD/configure.log" >&2
  exit 1
}
echo "== build"
cmake --build "$BUILD" --target fuzz-seeds "${TARGETS[@]}"

BIN="$(dirname "$(find "$BUILD" -type f -name fuzz-seeds -perm -u+x | head -n1)")"
SEEDS="$BUILD/seeds"
echo "== seeds"
# The generator is instrumented too; its own leaks would fail here.
"$BIN/fuzz-seeds" "$SEEDS"

# Saved reproducers (tests/fuzz/crashes/<target without "fuzz-">-*) must pass
# before fuzzing: they are regression inputs for fixed bugs.
echo "== regression inputs"
for t in "${TARGETS[@]}"; do
  mapfile -t saved < <(find "$ROOT/tests/fuzz/crashes" -maxdepth 1 -type f -name "${t#fuzz-}-*" ! -name '*.md' 2>/dev/null | sort)
  [ "${#saved[@]}" -gt 0 ] || continue
  if "$BIN/$t" "${saved[@]}" >"$BUILD/regression-$t.log" 2>&1; then
    echo "  $t: ${#saved[@]} saved inputs pass"
  else
    echo "!! $t: a saved input in tests/fuzz/crashes fails again:" >&2
    tail -n 40 "$BUILD/regression-$t.log" >&2
    exit 1
  fi
done

max_len_for() {
  case "$1" in
    fuzz-model-load | fuzz-safetensors) echo 1048576 ;;
    fuzz-tokenize | fuzz-json | fuzz-convert | fuzz-bpe) echo 65536 ;;
  esac
}

status=0
SUMMARY=()
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"
  artifacts="$BUILD/artifacts/$t"
  log="$BUILD/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  dict="$ROOT/tests/fuzz/dict/${t#fuzz-}.dict"
  dict_arg=()
  [ -f "$dict" ] && dict_arg=("-dict=$dict")
  before="$(find "$artifacts" -type f | sort)"
  echo "== $t: ${SECS}s (log: $log)"
  set +e
  # shellcheck disable=SC2086
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
    "$BIN/$t" "$corpus" "$SEEDS/$t" \
    -max_total_time="$SECS" -max_len="$(max_len_for "$t")" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict_arg[@]}" ${HEED_FUZZ_ARGS:-} \
    >"$log" 2>&1
  rc=$?
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n1 | grep -o '[0-9]*$' || true)"
  rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -n1 | grep -o '[0-9]*$' || true)"
  # Fork mode (-fork=N in HEED_FUZZ_ARGS) prints no final stats: use the last status line.
  [ -n "$execs" ] || execs="$(grep -Eo '^#[0-9]+' "$log" | tail -n1 | tr -d '#' || true)"
  if [ -z "$rate" ] || [ "$rate" = 0 ]; then
    rate="$(grep -Eo 'exec/s:? [0-9]+' "$log" | tail -n1 | grep -Eo '[0-9]+$' || true)"
  fi
  cov="$(grep -Eo '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1 | grep -Eo 'cov: [0-9]+ ft: [0-9]+' || true)"
  units="$(find "$corpus" -type f | wc -l)"
  new="$(comm -13 <(echo "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')"
  if [ "$rc" -ne 0 ] || [ -n "$new" ]; then
    status=1
    SUMMARY+=("$t: FAILED (exit $rc) after ${execs:-?} execs")
    echo "!! $t failed (exit $rc). Last lines of $log:"
    grep -E 'ERROR: |SUMMARY: |contract violated|runtime error' "$log" | head -n 5 || true
    tail -n 40 "$log"
    for a in $new; do
      echo "!! reproducer: $a"
      echo "   replay:     $BIN/$t $a"
    done
  else
    SUMMARY+=("$t: ok, ${execs:-?} execs (${rate:-?}/s), ${cov:-cov: ?}, corpus $units units")
  fi
done

echo "== summary"
printf '  %s\n' "${SUMMARY[@]}"
exit "$status"
