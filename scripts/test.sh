#!/usr/bin/env bash
# Build libcanary and pass the whole test suite: plain (with -Werror), then
# everything again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# the concurrency tests under ThreadSanitizer. Exits non-zero on any failure.
#
#   scripts/test.sh            all three passes
#   CANARY_TEST_QUICK=1 ...    the plain pass only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
common=(-DCANARY_WERROR=ON -DCANARY_BUILD_TESTS=ON)

run_pass() { # name, ctest args, cmake args...
	local name=$1 ctest_args=$2
	shift 2
	echo "== $name"
	cmake -S . -B "build-$name" "${common[@]}" "$@" >/dev/null
	cmake --build "build-$name" -j "$jobs" >/dev/null
	(cd "build-$name" && ctest -j "$jobs" --output-on-failure $ctest_args)
}

run_pass plain "" -DCMAKE_BUILD_TYPE=RelWithDebInfo
[ "${CANARY_TEST_QUICK:-0}" = 1 ] && exit 0
run_pass asan "-LE nosan" -DCMAKE_BUILD_TYPE=Debug \
	-DCANARY_SANITIZE=address,undefined -DCANARY_BUILD_EXAMPLES=OFF \
	-DCANARY_BUILD_BENCH=OFF
run_pass tsan "-L concurrency" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCANARY_SANITIZE=thread -DCANARY_BUILD_EXAMPLES=OFF \
	-DCANARY_BUILD_BENCH=OFF
echo "== all test passes succeeded"
