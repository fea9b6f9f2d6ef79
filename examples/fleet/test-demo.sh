#!/usr/bin/env bash
# ctest (label demo): run the demo with the short schedule and check both
# outcomes from its output, and that it left no process or file behind.
#   test-demo.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1 src=$2
export TMPDIR
TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
out=$(CANARY_DEMO_QUICK=1 "$src/examples/fleet/run-demo.sh" "$build" 2>&1)
rc=$?
echo "$out"
fail=0
check() { # description, extended regex over the whole output
	if grep -qE -- "$2" <<<"$out"; then echo "ok   $1"; else echo "FAIL $1: /$2/"; fail=1; fi
}
[ $rc -eq 0 ] && echo "ok   exit status 0" || { echo "FAIL exit status $rc"; fail=1; }
# Scenario 1: each step left on a PASS, in order, then promoted.
steps=$(sed -n '/scenario 1/,/^result/p' <<<"$out" | awk '$11 == "PASS" && ($12 == "widen" || $12 == "promote") {print $2 $12}' | tr '\n' ' ')
[ "$steps" = "1%widen 5%widen 25%widen 50%promote " ] && echo "ok   healthy steps: $steps" ||
	{ echo "FAIL healthy steps: '$steps'"; fail=1; }
check "healthy release completed" '^result: checkout-v2: rollout completed after'
# Scenario 2: rolled back on errors at the first step.
check "bad release rolled back at 1%" '^[0-9:]+ +1% +errors .* FAIL +rollback +fail'
check "bad release rolled back" '^result: checkout-v3: rollout rolled_back after'
check "canaryctl shows the rollback" 'flag checkout-v3 +state rolled_back'
check "users counted" 'users who saw v2.5.0: [0-9]+ of 1000000'
check "judged on users" 'judged on users: the last decision counted [1-9][0-9]* on v2.4.0'
check "no failed event batch" 'event batches: [0-9]+ accepted, 0 failed'
check "prints the dashboard's address" '^dashboard: http://127\.0\.0\.1:[0-9]+/ui/ '
if grep -qE 'admin-[0-9a-f]{32}' <<<"$out"; then echo "FAIL the admin token was printed"; fail=1; else echo "ok   the admin token is not printed"; fi
# Nothing left behind: the demo's temp dir is gone, its server stopped.
if ls "$TMPDIR" | grep -q canary-demo; then echo "FAIL temp dir left: $(ls "$TMPDIR")"; fail=1; else echo "ok   temp dir removed"; fi
port=$(grep -oE '127\.0\.0\.1:[0-9]+' <<<"$out" | head -n 1)
if [ -n "$port" ] && curl -s -o /dev/null "http://$port/healthz"; then
	echo "FAIL server still answers on $port"; fail=1
else
	echo "ok   server stopped"
fi
exit $fail
