#!/usr/bin/env bash
# Build the Debian packages (cmake/CanaryPackaging.cmake): a release build
# for /usr, without tests, examples or benchmarks, then `cpack -G DEB`.
# Prints the paths of the .deb files.
#
#   scripts/package.sh [BUILD_DIR]      default build-deb
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-deb}

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
	-DCMAKE_INSTALL_PREFIX=/usr -DCANARY_BUILD_TESTS=OFF \
	-DCANARY_BUILD_EXAMPLES=OFF -DCANARY_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >/dev/null)
ls "$build"/*.deb
