#!/usr/bin/env bash
# check.sh BUILD_DIR PREFIX CONSUMER_DIR - see CMakeLists.txt beside it.
set -euo pipefail
build=$1 prefix=$2 consumer=$3
rm -rf "$prefix" "$prefix-consumer"
cmake --install "$build" --prefix "$prefix" >/dev/null

libdir=$(dirname "$(find "$prefix" -name canary.pc | head -n 1)")/..
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export LD_LIBRARY_PATH="$libdir"

# 0. Hidden visibility: the shared library exports canary_* and nothing
#    else (no canary__ internals, no dependency symbols).
leaked=$(nm -D --defined-only "$libdir/libcanary.so" | awk '{print $3}' |
	grep -v '^canary_[a-z]' || true)
if [ -n "$leaked" ]; then
	echo "exported by accident: $leaked" >&2
	exit 1
fi

# 1. pkg-config, exactly as the README says.
cc "$consumer/app.c" $(pkg-config --cflags --libs canary) -o "$prefix/app-pc"
"$prefix/app-pc" | grep -q "^canary 1$"

# 2. CMake find_package(canary), shared library.
cmake -S "$consumer" -B "$prefix-consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix-consumer" >/dev/null
"$prefix-consumer/app" | grep -q "^canary 1$"
"$prefix-consumer/app-static" | grep -q "^canary 1$"
rm -rf "$prefix-consumer"
echo "1 passed, 0 failed"
