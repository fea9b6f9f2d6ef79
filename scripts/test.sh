#!/usr/bin/env bash
# Build libcanary and pass the whole test suite: plain (with -Werror), then
# everything again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# the concurrency tests under ThreadSanitizer, then a representative subset
# under valgrind. Exits non-zero on any failure.
#
#   scripts/test.sh            all three passes
#   CANARY_TEST_QUICK=1 ...    the plain pass only
#
# The hostile-client tests (label "hostile", tests/hostile/) run in every
# pass, but those of findings not fixed yet (label "hostile_open"): they
# fail on purpose until their fixes land (ctest -L hostile_open runs them).
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

run_pass plain "-LE hostile_open" -DCMAKE_BUILD_TYPE=RelWithDebInfo
[ "${CANARY_TEST_QUICK:-0}" = 1 ] && exit 0
run_pass asan "-LE nosan|hostile_open" -DCMAKE_BUILD_TYPE=Debug \
	-DCANARY_SANITIZE=address,undefined -DCANARY_BUILD_EXAMPLES=OFF \
	-DCANARY_BUILD_BENCH=OFF
run_pass tsan "-L concurrency" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCANARY_SANITIZE=thread -DCANARY_BUILD_EXAMPLES=OFF \
	-DCANARY_BUILD_BENCH=OFF
# valgrind on the plain build: parsers (the config, the event batch, the
# JSON readers), evaluation, cache, histogram, targeting rules and the
# Unleash evaluator. (Not test_unleash_spec: PCRE2's
# JIT scans subjects in aligned blocks, past their end within the block,
# which valgrind reports when the subject sits in a larger, partly written
# heap block, as cJSON's strings do; the ASan pass runs it.)
echo "== valgrind"
vg_failed=0
for t in test_config test_evaluate test_sse test_store test_backoff test_histogram \
	test_constraint test_unleash_model test_events_batch test_json_read test_json_arena; do
	bin=$(find build-plain/tests -name "$t" -type f -perm -u+x | head -n 1)
	[ -n "$bin" ] || { echo "valgrind: $t not built" >&2; exit 1; }
	if (cd build-plain && valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite "../$bin" >/dev/null 2>"valgrind-$t.log"); then
		echo "valgrind $t: ok"
	else
		echo "valgrind $t: FAILED (build-plain/valgrind-$t.log)"; vg_failed=$((vg_failed + 1))
	fi
done
[ "$vg_failed" -eq 0 ] || exit 1
echo "== all test passes succeeded"
