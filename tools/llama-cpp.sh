#!/usr/bin/env bash
# Builds llama.cpp, the decoder peer of docs/benchmarks.md, from the source that the
# llama-cpp-python package ships on PyPI (no git remote is reachable here), and converts
# Hugging Face checkpoints to GGUF with llama.cpp's own converter.
#
#   tools/llama-cpp.sh build                     # -> $HEED_LLAMA_DIR/build/bin/llama-bench ...
#   tools/llama-cpp.sh gguf <hf-dir> <out.gguf> [--pre NAME]
#                                                # Q8_0, convert_hf_to_gguf.py --outtype q8_0
#   tools/llama-cpp.sh dir                       # prints the source directory
#
# HEED_LLAMA_DIR defaults to <repo>/build/llama.cpp. The sdist is fetched through PyPI's simple
# index and checked against the index's sha256; the build is Release, CPU only, for the
# instruction sets the CPU lists (x86: named flags, AMX off; elsewhere -DGGML_NATIVE=ON), without
# curl (-DLLAMA_CURL=OFF), targets llama-bench, llama-completion,
# llama-perplexity and llama-tokenize. The converter runs through tools/llama-gguf.py (torch 1.13
# has no float8 dtypes; --pre names the BPE pre-tokenizer of a tokenizer trained here). HEED_PYTHON
# overrides the venv's python.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=0.3.36
base=${HEED_LLAMA_DIR:-$repo/build/llama.cpp}
src=$base/llama_cpp_python-$version/vendor/llama.cpp
py=${HEED_PYTHON:-$repo/.venv/bin/python}

fetch() {
  [ -f "$src/CMakeLists.txt" ] && return 0
  mkdir -p "$base"
  "$py" - "$base" "$version" <<'EOF'
import hashlib, html.parser, os, sys, tarfile, urllib.request
base, version = sys.argv[1], sys.argv[2]
name = f"llama_cpp_python-{version}.tar.gz"
index = urllib.request.urlopen("https://pypi.org/simple/llama-cpp-python/", timeout=60).read().decode()
class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.urls = []
    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.urls += [v for k, v in attrs if k == "href"]
p = Links(); p.feed(index)
url = next(u for u in p.urls if u.split("#")[0].endswith("/" + name))
want = url.split("#sha256=")[1]
path = os.path.join(base, name)
with urllib.request.urlopen(url.split("#")[0], timeout=300) as r, open(path, "wb") as f:
    f.write(r.read())
got = hashlib.sha256(open(path, "rb").read()).hexdigest()
if got != want:
    sys.exit(f"llama-cpp.sh: {name}: sha256 {got}, index says {want}")
with tarfile.open(path) as t:
    t.extractall(base)
print(f"llama-cpp.sh: {name} sha256 {got}")
EOF
}

# The converter imports sentencepiece before it looks for tokenizer.model (and then falls back to
# tokenizer.json); the venv has none, so it goes into $base/pydeps, outside the venv.
pydeps() {
  [ -d "$base/pydeps/sentencepiece" ] && return 0
  PIP_ROOT_USER_ACTION=ignore "$py" -m pip --disable-pip-version-check --no-input install -q \
    --target "$base/pydeps" "sentencepiece==0.2.3" >&2
}

case "${1:-}" in
  build)
    fetch
    # x86: the instruction sets /proc/cpuinfo lists, named one by one, instead of
    # -march=native: some VMs list AMX but trap its tile instructions (seen here
    # 2026-12-02: SIGILL in ggml's tinygemm_kernel_amx), and heed has no AMX
    # path either. Elsewhere GGML_NATIVE.
    isa=(-DGGML_NATIVE=ON)
    if [ "$(uname -m)" = x86_64 ]; then
      flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
      on() { case "$flags" in *" $1 "*) echo "-D$2=ON" ;; *) echo "-D$2=OFF" ;; esac; }
      isa=(-DGGML_NATIVE=OFF "$(on avx GGML_AVX)" "$(on avx2 GGML_AVX2)" "$(on bmi2 GGML_BMI2)" "$(on fma GGML_FMA)"
        "$(on f16c GGML_F16C)" "$(on avx_vnni GGML_AVX_VNNI)" "$(on avx512f GGML_AVX512)"
        "$(on avx512vbmi GGML_AVX512_VBMI)" "$(on avx512_vnni GGML_AVX512_VNNI)" "$(on avx512_bf16 GGML_AVX512_BF16)"
        -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
    fi
    cmake -S "$src" -B "$base/build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${isa[@]}" \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
    cmake --build "$base/build" --target llama-bench llama-completion llama-perplexity llama-tokenize -j"${JOBS:-2}"
    ;;
  gguf)
    [ $# -eq 3 ] || [ $# -eq 5 -a "${4:-}" = --pre ] || {
      echo "usage: $0 gguf <hf-dir> <out.gguf> [--pre NAME]" >&2; exit 2; }
    fetch
    pydeps
    pre=(); [ $# -eq 5 ] && pre=(--pre "$5")
    PYTHONPATH="$base/pydeps${PYTHONPATH:+:$PYTHONPATH}" "$py" "$repo/tools/llama-gguf.py" "$src" "${pre[@]}" -- "$2" --outtype q8_0 --outfile "$3"
    ;;
  dir)
    fetch
    echo "$src"
    ;;
  *)
    echo "usage: $0 build | gguf <hf-dir> <out.gguf> [--pre NAME] | dir" >&2
    exit 2
    ;;
esac
