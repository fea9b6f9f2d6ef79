#!/usr/bin/env bash
# Install the Debian packages libcanary needs to build, test and run the
# demo. As root it runs apt-get; otherwise it prints the exact command and
# fails, so nothing half-works.
set -euo pipefail

packages=(
	build-essential cmake pkg-config
	libcurl4-openssl-dev libcjson-dev libmurmurhash-dev libsqlite3-dev
	libmicrohttpd-dev libcmocka-dev zlib1g-dev
	clang curl valgrind openssl
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	echo "deps: missing Debian packages; run:" >&2
	echo "  sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
