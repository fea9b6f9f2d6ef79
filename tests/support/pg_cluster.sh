#!/bin/sh
# pg_cluster.sh start|stop|restart|url DIR [SECONDS] - a throwaway PostgreSQL server
# for the tests: initdb in DIR, listening only on a Unix socket in DIR
# (no TCP port to collide with), trust authentication for the superuser
# "postgres" and passwords (SCRAM) for every other role, so that a test can
# check password authentication (PGPASSFILE). PostgreSQL refuses to run as
# root, so as root the server runs as the unprivileged user "postgres". `start` also leaves a
# watchdog that stops the server and removes DIR when the process that
# ran `start` (ctest) goes away, so even a killed test run leaves
# nothing behind. Exit 77 (skip) when PostgreSQL is not installed.
#
#   PG_CLUSTER_FSYNC=on   durable commits (benchmarks); off by default:
#                         the tests restart PostgreSQL, never the machine
#   PG_CLUSTER_WATCH_PID  the process whose end stops the server (default:
#                         the one that ran this script)
set -eu
cmd=${1:?usage: pg_cluster.sh start|stop|restart|url DIR}
dir=${2:?usage: pg_cluster.sh start|stop|restart|url DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || { echo "pg_cluster: PostgreSQL is not installed" >&2; exit 77; }

as_owner() { # command...
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

stop() {
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

# The watchdog of an earlier run in DIR, whose ctest is gone, would remove
# this run's directory on its next look: stop it before starting.
stop_old_watchdog() {
	if [ -f "$dir.watchdog" ]; then
		kill "$(cat "$dir.watchdog")" 2>/dev/null || true
		rm -f "$dir.watchdog"
	fi
}

start() {
	stop_old_watchdog
	stop
	mkdir -p "$dir"
	chmod 700 "$dir"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
	as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
		--no-locale --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	printf 'local all postgres trust\nlocal all all scram-sha-256\n' \
		>"$dir/data/pg_hba.conf"
	run
	# The watchdog: detached from ctest's pipes, it outlives this script.
	parent=${PG_CLUSTER_WATCH_PID:-$PPID}
	# It stops only the cluster it watches: a later start in DIR has a new
	# start id (and kills it too, stop_old_watchdog).
	id="$$.$(date +%s%N)"
	echo "$id" >"$dir/start-id"
	(
		while kill -0 "$parent" 2>/dev/null && [ -d "$dir/data" ]; do sleep 2; done
		[ "$(cat "$dir/start-id" 2>/dev/null)" = "$id" ] && stop
		rm -f "$dir.watchdog"
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$dir.watchdog"
}

run() {
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses= -c unix_socket_directories=$dir \
-c fsync=${PG_CLUSTER_FSYNC:-off} -c max_connections=200 \
-c shared_buffers=32MB" start >/dev/null ||
		{ cat "$dir/server.log" >&2; exit 1; }
}

case $cmd in
start) start ;;
stop) stop_old_watchdog; stop ;;
# A fast restart, down for SECONDS (default 0): connections are dropped,
# committed work is kept.
restart)
	as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	sleep "${3:-0}"
	run ;;
url) echo "postgresql:///postgres?host=$dir&user=postgres" ;;
*) echo "pg_cluster: unknown command $cmd" >&2; exit 2 ;;
esac
