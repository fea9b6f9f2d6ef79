# shellcheck shell=bash disable=SC2034 # fail is read by the sourcing script
# checks.sh - sourced by the scripts beside it: one line per check,
# "ok   WHAT" or "FAIL WHAT", and $fail set once one failed.
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
check() { # WHAT COMMAND...: ok when the command succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
