#!/usr/bin/env bash
# Build libcanary, canary-server, canaryctl and the examples, then run the
# canary demo (examples/fleet/run-demo.sh): a local canary-server and a
# simulated fleet of four service instances go through a healthy rollout
# (promoted) and a bad one (rolled back at the first step). It prints the
# dashboard's address (and where the admin token to sign in with is).
#
#   scripts/demo.sh           run the two rollouts, then stop
#   scripts/demo.sh --keep    then keep the server up, with a slow third
#                             rollout under way, for looking at the
#                             dashboard until Ctrl-C
# Everything it starts is stopped, and its temp dir removed, on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
keep=0
for arg in "$@"; do
	case $arg in
	--keep) keep=1 ;;
	-h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "demo.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
	esac
done
scripts/deps.sh --demo
echo "building (build-demo/) ..."
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DCANARY_BUILD_TESTS=OFF \
	-DCANARY_BUILD_BENCH=OFF >/dev/null
cmake --build build-demo -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
CANARY_DEMO_KEEP=$keep exec examples/fleet/run-demo.sh build-demo
