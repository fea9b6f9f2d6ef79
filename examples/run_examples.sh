#!/usr/bin/env bash
# Runs each example offline against the sample config and checks what it
# prints (ctest label examples). No network: every client is offline.
#   run_examples.sh BUILD_DIR/examples CONFIG.json
set -euo pipefail
bin=$1 config=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

expect() { # name, output, pattern
	if grep -qE -- "$3" <<<"$2"; then
		echo "ok   $1: /$3/"
	else
		echo "FAIL $1: no /$3/ in:"; echo "$2"; fail=1
	fi
}

out=$("$bin/hello" "$config" user-3)
expect hello "$out" '^checkout-v2 for user-3: canary$'     # allow list
out=$("$bin/hello" "$config" user-1)
expect hello "$out" '^checkout-v2 for user-1: stable$'     # deny list

out=$("$bin/cpp_service" "$config" 10000)
expect cpp_service "$out" '^served 10000 requests: 4[0-9]{2} canary, 95[0-9]{2} stable \(config version 7\)$'
expect cpp_service "$out" '^events: 1 batches written, 0 records ignored$'
expect cpp_service "$out" 'user-3: canary, variant "v2.4.0", reason TARGETING_MATCH'
expect cpp_service "$out" 'bad config refused \(code -5\).*flags\[0\]\.rollout_bp'
expect cpp_service "$out" '^config version still 7$'
# No server: it says why, with canary::Client::diagnose().
out=$(CANARY_SDK_KEY=k "$bin/cpp_service" http://127.0.0.1:1 10 2>&1)
expect cpp_service "$out" '^last error: connect to 127\.0\.0\.1:1: connection refused \('
expect cpp_service "$out" '^status: OFFLINE$'

out=$("$bin/edge_device" "$tmp/edge.db" --config "$config" --loops 3)
expect edge_device "$out" 'applied .*, config version 7$'
expect edge_device "$out" 'loop 2 status READY: device-0042 uses the (stable|canary) build \(SPLIT\)'
expect edge_device "$out" 'allocations refused, 0 bytes leaked$'
# A new file renamed into place with the old one's mtime (rsync -t, cp -p)
# is a change too.
cp "$config" "$tmp/live.json"
sed 's/"version": 7/"version": 9/' "$config" >"$tmp/next.json"
touch -r "$tmp/live.json" "$tmp/next.json"
out=$( (sleep 0.5; mv "$tmp/next.json" "$tmp/live.json") &
	"$bin/edge_device" "$tmp/edge.db" --config "$tmp/live.json" --loops 30)
expect edge_device "$out" 'applied .*, config version 9$'
printf '{"version": 8, "flags": [{"key": "checkout-v2", "rollout_bp": 99999}]}' >"$tmp/bad.json"
out=$("$bin/edge_device" "$tmp/edge.db" --config "$tmp/bad.json" --loops 2)
expect edge_device "$out" 'refused .*flags\[0\]\.rollout_bp: must be an integer 0\.\.10000; keeping version 0'

out=$("$bin/threaded_server" "$config" 4 2000)
expect threaded_server "$out" '^served 8000 requests on 4 threads: 3[0-9]{2} canary \([0-9]+ failed\), 7[0-9]{3} stable$'
expect threaded_server "$out" '^events: flush success; 1 batches written, 0 sent, 0 records not counted$'
exit $fail
