#!/usr/bin/env bash
# Installs what heed needs to build and test on Debian 12 (run as root).
# Idempotent: skips apt when every package is already installed.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config git
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libflatbuffers-dev flatbuffers-compiler doctest-dev
  python3-venv python3-pip python3-torch libopenblas0-pthread
  libc-l10n libglib2.0-data
  wordnet-base time util-linux
  clang-14 libclang-rt-14-dev
)
if [ "${HEED_CROSS:-0}" = 1 ]; then
  pkgs+=(g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
