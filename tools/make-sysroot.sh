#!/usr/bin/env bash
# Builds a private sysroot with heed's target-side dependencies for a cross build.
#
#   tools/make-sysroot.sh <arm64|armhf> [dir]      (dir defaults to <repo>/.sysroot/<arch>)
#
# Multiarch `apt-get install libxnnpack-dev:arm64` does not work on Debian 12
# (XNNPACK and pthreadpool are not Multi-Arch: same; libcpuinfo-dev conflicts on
# a CMake file), so this script downloads the target .debs and unpacks them with
# `dpkg-deb -x`. It uses a private apt state (lists and cache under <dir>/.apt)
# with the host's sources, so it never touches the host's dpkg architectures or
# package lists, and needs neither root nor `dpkg --add-architecture`.
#
# libc, libstdc++ and libgcc come from the cross toolchain (/usr/<triple>), not
# from here. flatbuffers-compiler-dev (a dependency of libflatbuffers-dev that
# only holds FlatcTargets.cmake) is left out on purpose: its imported target would
# name a target-arch flatc that does not exist; the build uses the host's flatc.
#
# Idempotent: a stamp file records the package set; a second run is a no-op.
# Needs network on the first run. Result layout: <dir>/usr/{include,lib/<triple>}.
set -euo pipefail

arch=${1:-}
case "$arch" in
  arm64 | aarch64) arch=arm64 triple=aarch64-linux-gnu ;;
  armhf) triple=arm-linux-gnueabihf ;;
  *) echo "usage: $0 <arm64|armhf> [dir]" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${2:-$repo/.sysroot/$arch}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

pkgs=(
  libxnnpack0 libxnnpack-dev
  libpthreadpool0 libpthreadpool-dev
  libcpuinfo0 libcpuinfo-dev
  libflatbuffers2 libflatbuffers-dev
  doctest-dev
)
stamp=$dir/.heed-sysroot.stamp
want="v1 $arch ${pkgs[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "make-sysroot: $dir is up to date"
  exit 0
fi

apt_dir=$dir/.apt
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
touch "$apt_dir/state/status"
apt_opts=(
  -o "Dir::State=$apt_dir/state"
  -o "Dir::State::status=$apt_dir/state/status"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=$arch"
  -o "APT::Architectures::=$arch"
  -o "Debug::NoLocking=1"
  # Downloads land in directories the _apt user may not write to.
  -o "APT::Sandbox::User=$(id -un)"
)

echo "make-sysroot: apt-get update ($arch, private lists in $apt_dir)"
# Mirrors are sometimes caught mid-sync ("File has unexpected size"): retry, then
# go on with whatever lists arrived; a missing package fails the download below.
for try in 1 2 3; do
  apt-get -qq "${apt_opts[@]}" update && break
  echo "make-sysroot: apt-get update failed (try $try)" >&2
  [ "$try" = 3 ] || sleep 3
done

echo "make-sysroot: downloading ${pkgs[*]}"
rm -f "$apt_dir/debs"/*.deb
(cd "$apt_dir/debs" && apt-get -qq "${apt_opts[@]}" download "${pkgs[@]}")

# Start from a clean tree so a changed package set leaves nothing stale behind.
rm -rf "$dir/usr"
for deb in "$apt_dir/debs"/*.deb; do
  dpkg-deb -x "$deb" "$dir"
done

for f in usr/include/xnnpack.h usr/include/pthreadpool.h usr/include/cpuinfo.h \
         usr/lib/$triple/libXNNPACK.so usr/lib/$triple/libpthreadpool.so \
         usr/lib/$triple/libcpuinfo.so usr/include/flatbuffers/flatbuffers.h \
         usr/include/doctest/doctest.h; do
  [ -e "$dir/$f" ] || { echo "make-sysroot: missing $dir/$f after unpacking" >&2; exit 1; }
done
# The package lists (about 20 MB) are only needed for the download; the .debs stay.
rm -rf "$apt_dir/state" "$apt_dir/cache"
echo "$want" >"$stamp"
for deb in "$apt_dir/debs"/*.deb; do
  dpkg-deb -W --showformat='  ${Package} ${Version} ${Architecture}\n' "$deb"
done
echo "make-sysroot: $dir ready"
