#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (root; apt and PyPI reachable):
#   1. installs what it needs (apt: compilers, XNNPACK, flatbuffers, cpuinfo, doctest,
#      cross compilers, qemu, torch; pip: transformers, sentence-transformers, the model)
#   2. builds (preset default) and runs the C++ suite (ctest, fast and slow tiers),
#      then builds an app against the installed package (find_package and pkg-config)
#   3. builds with AddressSanitizer + UBSan and runs the fast tier again
#   4. fuzzes the model loader, tokenizer, safetensors and JSON readers briefly
#      (libFuzzer; saved reproducers in tests/fuzz/crashes are replayed first)
#   5. cross-builds for aarch64 and armhf and runs the fast tier under qemu
#      (cortex-a72 = Pi 4, cortex-a76 = Pi 5, cortex-a7 = armv7)
#   6. runs the end-to-end conformance suite (pytest, against transformers /
#      sentence-transformers on real text)
#   7. checks that every ISA path (x86 natively, ARM under qemu) reproduces the
#      same all-MiniLM-L6-v2 embedding bytes (tools/isa-identity.sh)
# Usage: bash tools/test.sh            (CI: .ci/run calls exactly this)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
t0=$(date +%s)
stage() { echo; echo "=== [$(( $(date +%s) - t0 ))s] $*"; }

stage "install dependencies"
HEED_CROSS=1 bash tools/install-deps.sh
bash tools/setup-venv.sh "$repo/.venv"
python=$repo/.venv/bin/python

stage "unicode tables are fresh"
/usr/bin/python3 tools/gen-unicode-tables.py --check

stage "build (release) and C++ suite"
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default

stage "installed package: find_package(heed) and pkg-config consumers"
bash tools/check-package.sh

stage "AddressSanitizer + UBSan build, fast tier"
cmake --preset asan >/dev/null
cmake --build --preset asan --target heed_tests
ctest --preset asan -L fast

stage "fuzzing (libFuzzer + ASan/UBSan, 20 s per target, saved reproducers first)"
bash tools/fuzz.sh 20

stage "cross builds under qemu"
bash tools/cross-test.sh

stage "end-to-end conformance (pytest vs transformers / sentence-transformers)"
HEED_BIN="$repo/build/bin/heed" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HEED_E2E_REPORT="$repo/build/e2e-report.json" \
  "$python" -m pytest tests/e2e -q -rA -p no:cacheprovider

stage "ISA identity: all-MiniLM-L6-v2 embedding bytes on every ISA path (x86 natively, ARM under qemu)"
HEED_PYTHON="$python" bash tools/isa-identity.sh

# The measured numbers (accuracy gates, timings), for the record.
"$python" - "$repo/build/e2e-report.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
for name in ("embed fp32 vs sentence-transformers", "embed int8 vs fp32 reference",
             "nearest neighbour int8 vs fp32 reference", "classify fp32 vs transformers",
             "classify int8 vs fp32 reference", "tokenize wordnet", "tokenize i18n"):
    v = {k: x for k, x in m.get(name, {}).items() if not isinstance(x, (list, dict))}
    print(f"  {name}: " + ", ".join(f"{k}={x:.6g}" if isinstance(x, float) else f"{k}={x}" for k, x in v.items()))
PY

stage "all tests passed"
