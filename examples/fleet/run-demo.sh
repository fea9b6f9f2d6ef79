#!/usr/bin/env bash
# The canary demo, on binaries already built: start canary-server on
# 127.0.0.1 (ephemeral port, fresh SQLite file, random keys), then run two
# rollouts with steps compressed to seconds through the fleet simulator:
#   1. v2.4.0, healthy: widened 1% -> 5% -> 25% -> 50% -> 100%, promoted;
#   2. v2.5.0, errors spike on the canary: rolled back at the first step.
# The dashboard is at the server's /ui/; the admin token to sign in with is
# in a file of the demo's temp dir (mode 0600), never printed.
# Stops everything it started and removes its temp dir, whatever happens.
#
#   run-demo.sh BUILD_DIR
#   CANARY_DEMO_QUICK=1 run-demo.sh BUILD_DIR    shorter soak (CI)
#   CANARY_DEMO_KEEP=1 run-demo.sh BUILD_DIR     then keep the server up,
#                         a slow third rollout under way, until Ctrl-C
set -euo pipefail
build=$1
server_bin=$build/server-stub/canary-server
ctl=$build/server-stub/canaryctl
sim=$build/examples/fleet-sim

tmp=$(mktemp -d "${TMPDIR:-/tmp}/canary-demo.XXXXXX")
server_pid=
fleet_pid=
cleanup() {
	for pid in $fleet_pid $server_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

random_hex() { od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n'; }
export CANARY_SDK_KEYS CANARY_SDK_KEY CANARY_ADMIN_TOKEN CANARY_SERVER
CANARY_SDK_KEY=sdk-$(random_hex 12)
CANARY_SDK_KEYS=$CANARY_SDK_KEY
CANARY_ADMIN_TOKEN=admin-$(random_hex 16)

# Events are aggregated per second of server time, evaluated every second.
"$server_bin" --listen 127.0.0.1:0 --db "$tmp/canary.db" \
	--port-file "$tmp/port" --window 1 --tick-ms 100 --quiet \
	>"$tmp/server.log" 2>&1 &
server_pid=$!
# Waits for an outcome, not a time: the server writes its port file or
# dies (a busy machine may take long to start it; 10 minutes is a hang).
for _ in $(seq 6000); do
	[ -s "$tmp/port" ] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
	sleep 0.1
done
[ -s "$tmp/port" ] || { echo "canary-server did not start" >&2; exit 1; }
CANARY_SERVER=http://127.0.0.1:$(cat "$tmp/port")
echo "canary-server on $CANARY_SERVER (database $tmp/canary.db)"
(umask 077 && printf '%s\n' "$CANARY_ADMIN_TOKEN" >"$tmp/admin-token")
echo "dashboard: $CANARY_SERVER/ui/ (sign in with the admin token: cat $tmp/admin-token)"

soak=2s
[ "${CANARY_DEMO_QUICK:-0}" = 1 ] && soak=1s
# Gates sized for a fleet of 4 x 50,000 requests/s (docs/server.md). A
# step's time is the traffic it needs, and a loaded machine makes less of
# it: max_step and max_wait are generous so that the demo slows down
# there instead of pausing (the judge says how long each step needs).
rollout='{"steps": [1, 5, 25, 50, 100], "min_soak": "'$soak'", "interval": "1s",
  "max_step": "5m", "max_wait": "20m",
  "gates": {"min_exposures": 1000, "min_latency": 500}}'

run() { # title flag stable canary canary-errors canary-ms
	echo
	echo "== $1"
	"$ctl" flag create "$2" --stable-variant "$3" --canary-variant "$4" >/dev/null
	echo "\$ canaryctl flag create $2 --stable-variant $3 --canary-variant $4"
	echo "\$ fleet-sim --flag $2 --canary-errors $5 --canary-ms $6 ..."
	"$sim" --server "$CANARY_SERVER" --flag "$2" --names "$3,$4" \
		--instances 4 --rate 50000 --stable-errors 0.002 --stable-ms 150 \
		--canary-errors "$5" --canary-ms "$6" --rollout "$rollout" --timeout 1500
}

run "scenario 1: healthy release v2.4.0" checkout-v2 v2.3.1 v2.4.0 0.002 150
run "scenario 2: bad release v2.5.0 (canary errors 5%)" checkout-v3 v2.4.0 v2.5.0 0.05 150

echo
echo "\$ canaryctl rollout status checkout-v3"
"$ctl" rollout status checkout-v3

[ "${CANARY_DEMO_KEEP:-0}" = 1 ] || exit 0
# A third rollout, slow enough to watch: a step a minute at the most.
"$ctl" flag create checkout-v4 --stable-variant v2.4.0 --canary-variant v2.6.0 >/dev/null
"$sim" --server "$CANARY_SERVER" --flag checkout-v4 --names v2.4.0,v2.6.0 \
	--instances 2 --rate 20000 --stable-errors 0.002 --stable-ms 150 \
	--canary-errors 0.0025 --canary-ms 160 --timeout 86400 --rollout \
	'{"steps": [1, 5, 25, 50, 100], "min_soak": "45s", "interval": "2s",
	  "max_step": "10m", "gates": {"min_exposures": 1000, "min_latency": 500}}' \
	>"$tmp/fleet.log" 2>&1 &
fleet_pid=$!
echo
echo "The server stays up, with a third rollout (checkout-v4) under way:"
echo "  dashboard: $CANARY_SERVER/ui/"
echo "  admin token: cat $tmp/admin-token"
echo "  CLI: CANARY_SERVER=$CANARY_SERVER CANARY_ADMIN_TOKEN=\$(cat $tmp/admin-token) $ctl rollout list"
echo "Ctrl-C stops the server and the fleet and removes $tmp."
while kill -0 "$server_pid" 2>/dev/null; do
	sleep 1
done
echo "canary-server stopped" >&2
exit 1
