#!/usr/bin/env bash
# Build libcanary, canary-server, canaryctl and the examples, then run the
# canary demo (examples/fleet/run-demo.sh): a local canary-server and a
# simulated fleet of four service instances go through a healthy rollout
# (promoted) and a bad one (rolled back at the first step).
# Everything it starts is stopped, and its temp dir removed, on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
echo "building (build-demo/) ..."
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DCANARY_BUILD_TESTS=OFF \
	-DCANARY_BUILD_BENCH=OFF >/dev/null
cmake --build build-demo -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
exec examples/fleet/run-demo.sh build-demo
