#!/usr/bin/env bash
# Install what libcanary needs to build, test and run the demo, and to
# build and check its own packages (dpkg-dev and file for CPack's
# dependency list, groff and man-db for the man pages), the dashboard's
# charting library (libjs-dygraphs) and the browser its tests drive
# (chromium, chromium-driver), and PostgreSQL (libpq-dev for canary-server's
# PostgreSQL backend, postgresql for the tests that run against a throwaway
# server of their own): Debian packages,
# and test DATA from npm (Unleash's client specification, read by
# tests/unleash; no code from it is built or run). As root it runs
# apt-get; otherwise it prints the exact command and fails, so nothing
# half-works.
#
#   scripts/deps.sh          everything (scripts/test.sh)
#   scripts/deps.sh --demo   only what builds the library, the server and
#                            the examples and runs the demo (scripts/demo.sh):
#                            no test tools, browser, PostgreSQL or npm data
set -euo pipefail
cd "$(dirname "$0")/.."

demo=0
case ${1:-} in
--demo) demo=1 ;;
"") ;;
*) echo "deps.sh: unknown option $1 (--demo or nothing)" >&2; exit 2 ;;
esac

# What the demo's build (no tests, no benchmarks) and run need: the
# library's and the server's libraries, the dashboard's charting library.
demo_packages=(
	build-essential cmake pkg-config
	libcurl4-openssl-dev libcjson-dev libsqlite3-dev libmicrohttpd-dev
	libpcre2-dev libssl-dev libpq-dev libjs-dygraphs
)
packages=(
	build-essential cmake pkg-config
	libcurl4-openssl-dev libcjson-dev libmurmurhash-dev libsqlite3-dev
	libmicrohttpd-dev libcmocka-dev libpcre2-dev zlib1g-dev libssl-dev
	libpq-dev postgresql
	clang curl valgrind openssl
	dpkg-dev file groff-base man-db
	libjs-dygraphs chromium chromium-driver
)
# The client specification of Unleash, pinned; its JSON files are the
# conformance cases of tests/unleash/test_unleash_spec.c.
unleash_spec="@unleash/client-specification@6.1.0"
npm_dir=_deps/npm

apt_install() { # packages...
	if [ "$(id -u)" -eq 0 ]; then
		echo "deps: installing $*" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	else
		echo "deps: missing Debian packages; run:" >&2
		echo "  sudo apt-get install -y $*" >&2
		exit 1
	fi
}

[ $demo -eq 0 ] || packages=("${demo_packages[@]}")
missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
[ $demo -eq 0 ] || exit 0

spec_index="$npm_dir/node_modules/@unleash/client-specification/specifications/index.json"
spec_version=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' \
	"$npm_dir/node_modules/@unleash/client-specification/package.json" 2>/dev/null || true)
if [ ! -f "$spec_index" ] || [ "$spec_version" != "${unleash_spec##*@}" ]; then
	command -v npm >/dev/null || apt_install npm
	echo "deps: installing $unleash_spec (test data) into $npm_dir" >&2
	mkdir -p "$npm_dir"
	npm install --prefix "$npm_dir" --no-save --ignore-scripts --no-audit \
		--no-fund --loglevel=error "$unleash_spec" >/dev/null
fi
