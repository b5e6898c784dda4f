#!/usr/bin/env bash
# Installs heed from build/ into a temporary prefix and builds the C demo
# against it twice, as an app would: with find_package(heed) and with
# pkg-config. Fails if either cannot compile, link or run.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$repo/build" --prefix "$tmp/prefix" >/dev/null
mkdir "$tmp/app"
cat > "$tmp/app/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.22)
project(app C CXX)
find_package(heed CONFIG REQUIRED)
add_executable(search $repo/tools/demo/semantic-search.c)
target_link_libraries(search PRIVATE heed::heed)
CMAKE
cmake -S "$tmp/app" -B "$tmp/app/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/app/build" >/dev/null
# usage error (exit 2) proves it links and runs
set +e
"$tmp/app/build/search" >/dev/null 2>&1; rc1=$?
cc "$repo/tools/demo/semantic-search.c" -o "$tmp/search-pc" \
  $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs --static heed)
"$tmp/search-pc" >/dev/null 2>&1; rc2=$?
set -e
[ "$rc1" = 2 ] && [ "$rc2" = 2 ] || { echo "check-package: consumer programs failed ($rc1, $rc2)" >&2; exit 1; }
echo "check-package: find_package(heed) and pkg-config consumers build and run"
