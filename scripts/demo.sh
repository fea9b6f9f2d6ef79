#!/usr/bin/env bash
# Build libcanary and run the main job: load a flag config with no server
# and show who is in the canary for each flag.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DCANARY_BUILD_TESTS=OFF \
	-DCANARY_BUILD_BENCH=OFF >/dev/null
cmake --build build-demo -j "$(nproc 2>/dev/null || echo 2)" --target canary-who >/dev/null
exec build-demo/examples/canary-who examples/data/flags.json "${1:-10000}"
