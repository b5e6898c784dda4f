#!/usr/bin/env bash
# Cross-builds heed_tests for ARM and runs the fast tier under qemu-user:
#   aarch64  one build (preset aarch64-a72), run on qemu cortex-a72 (Pi 4, no
#            dotprod) and again on cortex-a76 (Pi 5, dotprod) via QEMU_CPU
#   armhf    preset armhf, run on qemu cortex-a7 (armv7 + NEON)
#
#   tools/cross-test.sh [aarch64] [armhf]      (no argument: both)
#
# Needs: HEED_CROSS=1 tools/install-deps.sh (cross g++ and qemu-user), network on
# the first run (tools/make-sysroot.sh downloads the target .debs into .sysroot/).
# Build directories: build/aarch64-a72, build/armhf. Logs: build/<preset>/cross-test-*.log.
# Exit status: 0 only if every step of every target passed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64 armhf)
jobs=$(nproc 2>/dev/null || echo 2)

for tool in cmake ninja ctest; do
  command -v $tool >/dev/null || { echo "cross-test: $tool missing (tools/install-deps.sh)" >&2; exit 2; }
done

summary=()
failed=0
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
note() { summary+=("$(printf '%-8s %-16s %-5s %7s  %s' "$1" "$2" "$3" "$4" "$5")"); }

# step <target> <what> <log> <command...>: runs a step, logs it, records the result.
step() {
  local target=$1 what=$2 log=$3; shift 3
  local t0; t0=$(now)
  echo "== cross-test: $target: $what"
  if "$@" >"$log" 2>&1; then
    note "$target" "$what" ok "$(elapsed "$t0")" ""
    return 0
  fi
  tail -n 40 "$log"
  note "$target" "$what" FAIL "$(elapsed "$t0")" "see $log"
  failed=1
  return 1
}

# run_tests <target> <preset> <qemu cpu>: ctest -L fast (from the test preset)
# on an existing build, with QEMU_CPU choosing the emulated CPU.
run_tests() {
  local target=$1 preset=$2 cpu=$3
  local log=build/$preset/cross-test-ctest-$cpu.log
  local t0; t0=$(now)
  echo "== cross-test: $target: ctest -L fast on qemu -cpu $cpu"
  QEMU_CPU=$cpu ctest --preset "$preset" -j "$jobs" >"$log" 2>&1
  local rc=$?
  local line; line=$(grep -E 'tests passed|No tests were found' "$log" | tail -n 1)
  [ -n "$line" ] || line="(no ctest summary)"
  if [ $rc = 0 ]; then
    note "$target" "test $cpu" ok "$(elapsed "$t0")" "$line"
  else
    grep -E '^\s*[0-9]+ - |\*\*\*|Failed|Exception' "$log" | head -n 40
    note "$target" "test $cpu" FAIL "$(elapsed "$t0")" "$line; see $log"
    failed=1
  fi
}

cross_target() {
  local target=$1 deb_arch preset cpus compiler qemu
  case "$target" in
    aarch64) deb_arch=arm64 preset=aarch64-a72 cpus="cortex-a72 cortex-a76"
             compiler=aarch64-linux-gnu-g++ qemu=qemu-aarch64 ;;
    armhf)   deb_arch=armhf preset=armhf cpus="cortex-a7"
             compiler=arm-linux-gnueabihf-g++ qemu=qemu-arm ;;
    *) echo "cross-test: unknown target $target (aarch64 | armhf)" >&2; failed=1; return ;;
  esac
  for tool in $compiler $qemu; do
    if ! command -v "$tool" >/dev/null; then
      echo "cross-test: $tool missing: run HEED_CROSS=1 tools/install-deps.sh" >&2
      note "$target" "tools" FAIL "" "$tool missing"
      failed=1
      return
    fi
  done
  mkdir -p "build/$preset"
  step "$target" sysroot "build/$preset/cross-test-sysroot.log" \
    tools/make-sysroot.sh "$deb_arch" || return
  step "$target" configure "build/$preset/cross-test-configure.log" \
    cmake --preset "$preset" || return
  # Building heed_tests also discovers its doctest cases by running it under qemu.
  step "$target" build "build/$preset/cross-test-build.log" \
    cmake --build --preset "$preset" --target heed_tests heed_heap_tests -j "$jobs" || return
  check_labels "$target" "$preset"
  for cpu in $cpus; do
    run_tests "$target" "$preset" "$cpu"
  done
}

# Tests with neither label would be skipped here without a word. doctest's
# discovery loses the label of a TEST_CASE whose name holds a ',' (and splits a
# name at ';'), so name them without those characters.
check_labels() {
  local target=$1 preset=$2
  local log=build/$preset/cross-test-unlabelled.log
  ctest --test-dir "build/$preset" -N -LE '^(fast|slow)$' >"$log" 2>&1
  local n; n=$(sed -n 's/^Total Tests: //p' "$log")
  if [ "${n:-0}" = 0 ]; then
    note "$target" labels ok "" "every test is labelled fast or slow"
  else
    grep -E '^ *Test +#' "$log" | head -n 30
    note "$target" labels FAIL "" "$n tests labelled neither fast nor slow (',' or ';' in the name?); see $log"
    failed=1
  fi
}

t_all=$(now)
for target in "${targets[@]}"; do
  cross_target "$target"
done

echo
echo "== cross-test summary ($(elapsed "$t_all") total)"
printf '%s\n' "${summary[@]}"
exit $failed
