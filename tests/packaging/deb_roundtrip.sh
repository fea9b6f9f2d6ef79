#!/usr/bin/env bash
# deb_roundtrip.sh SOURCE_DIR WORK_DIR DEB_VERSION SOVERSION - build the
# Debian packages (scripts/package.sh), check what each holds, install them
# on this machine, run canary-server as the package runs it (through its
# unit where systemd is PID 1, else the unit's ExecStart line as its user)
# on 127.0.0.1 with an ephemeral port, build the README's quickstart
# programs against the installed libcanary-dev with pkg-config and with
# find_package(canary) alone and run them, then purge the packages and
# check that nothing is left. The purge (and the removal of the `canary`
# user when this test made it) happens whatever fails.
#
# It needs root and dpkg: otherwise it says why and exits 77 (skipped).
# Runs of it on one machine wait for each other (a lock file).
set -uo pipefail
src=$1 work=$2 version=$3 so=$4
packages=(canary-server libcanary-dev "libcanary$so")
unit_name=canary-server.service
envfile=/etc/default/canary-server
state=/var/lib/canary-server
# shellcheck source-path=SCRIPTDIR source=checks.sh
. "$(dirname "$0")/checks.sh"
skip() { echo "SKIPPED: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] ||
	skip "installs packages on this machine, so it runs as root only (CI runs scripts/test.sh as root)"
for tool in dpkg dpkg-deb dpkg-shlibdeps apt-get file readelf cpack flock runuser curl pkg-config cc c++; do
	command -v "$tool" >/dev/null || skip "$tool is missing (scripts/deps.sh installs it)"
done
mkdir -p /run/lock
exec 9>/run/lock/libcanary-packaging.lock
flock -w 1200 9 || { echo "FAIL another packaging test held the lock for 20 minutes"; exit 1; }
for p in "${packages[@]}"; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed"; then
		skip "$p is already on this machine; this test would replace it (apt-get purge ${packages[*]})"
	fi
done

user_was_there=0
getent passwd canary >/dev/null && user_was_there=1
systemd=0
[ -d /run/systemd/system ] && systemd=1
server_pid=''
apt() { apt-get -y -q -o DPkg::Lock::Timeout=600 "$@"; }

stop_server() {
	if [ "$systemd" = 1 ]; then
		systemctl stop "$unit_name" 2>/dev/null
	elif [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	server_pid=''
}
purge() {
	local installed=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed" &&
			installed+=("$p")
	done
	[ ${#installed[@]} -eq 0 ] || apt purge "${installed[@]}" >"$work/purge.log" 2>&1
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	stop_server
	purge
	if [ "$user_was_there" = 0 ] && getent passwd canary >/dev/null; then
		userdel canary
		getent group canary >/dev/null && groupdel canary
	fi
	rm -rf "$work/qs" /run/canary-server
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"
rm -rf "$work/qs"

# 1. Build.
arch=$(dpkg --print-architecture)
if ! "$src/scripts/package.sh" "$work/build" >"$work/package.log" 2>&1; then
	bad "scripts/package.sh failed:"; cat "$work/package.log"; exit 1
fi
deb_lib=$work/build/libcanary${so}_${version}_$arch.deb
deb_dev=$work/build/libcanary-dev_${version}_$arch.deb
deb_server=$work/build/canary-server_${version}_$arch.deb
for deb in "$deb_lib" "$deb_dev" "$deb_server"; do
	[ -f "$deb" ] || { bad "no ${deb##*/}; built: $(ls "$work/build"/*.deb)"; exit 1; }
done
ok "built ${deb_lib##*/} ${deb_dev##*/} ${deb_server##*/}"

# 2. What each package holds and needs.
holds() { # DEB, then paths it must hold (extended regexes, anchored)
	local deb=$1 list
	shift
	list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
	for path in "$@"; do
		check "${deb##*/} holds $path" grep -qxE -- "$path" <<<"$list"
	done
}
libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")
holds "$deb_lib" "$libdir/libcanary\.so\.$so" "$libdir/libcanary\.so\.[0-9.]+"
check "libcanary$so holds nothing but the library" \
	test "$(dpkg-deb -c "$deb_lib" | awk '$6 !~ /\/$/' | grep -vc 'libcanary\.so\.')" = 0
holds "$deb_dev" /usr/include/canary/canary.h /usr/include/canary/canary.hpp \
	/usr/include/canary/version.h /usr/include/canary/export.h \
	"$libdir/libcanary\.a" "$libdir/libcanary\.so" "$libdir/pkgconfig/canary\.pc" \
	"$libdir/cmake/canary/canaryConfig\.cmake" /usr/share/man/man3/libcanary\.3\.gz
holds "$deb_server" /usr/bin/canary-server /usr/bin/canaryctl \
	"(/usr)?/lib/systemd/system/$unit_name" \
	/usr/share/bash-completion/completions/canaryctl \
	/usr/share/man/man8/canary-server\.8\.gz /usr/share/man/man1/canaryctl\.1\.gz
field() { dpkg-deb -f "$1" "$2"; }
for deb in "$deb_lib" "$deb_dev" "$deb_server"; do
	check "${deb##*/}: Version $version" test "$(field "$deb" Version)" = "$version"
done
check "libcanary$so depends on libcurl, cJSON and SQLite (dpkg-shlibdeps)" \
	grep -qE 'libcurl.*libcjson|libcjson.*libcurl' <<<"$(field "$deb_lib" Depends)"
check "libcanary-dev depends on libcanary$so (= $version)" \
	grep -qF "libcanary$so (= $version)" <<<"$(field "$deb_dev" Depends)"
check "canary-server depends on libmicrohttpd and passwd" \
	grep -qE 'passwd.*libmicrohttpd' <<<"$(field "$deb_server" Depends)"
check "canary-server depends on libjs-dygraphs (the dashboard's charts)" \
	grep -qF 'libjs-dygraphs' <<<"$(field "$deb_server" Depends)"
dpkg-deb -e "$deb_lib" "$work/control-lib"
check "libcanary$so's shlibs: libcanary $so libcanary$so" \
	grep -qE "^libcanary $so libcanary$so \(>= " "$work/control-lib/shlibs"
rm -rf "$work/control-lib"
real=$(dpkg-deb -c "$deb_lib" | awk '$1 ~ /^-/ {print $6}')
dpkg-deb -x "$deb_lib" "$work/extract"
check "the library's SONAME is libcanary.so.$so" \
	grep -qF "Library soname: [libcanary.so.$so]" <<<"$(readelf -d "$work/extract/$real")"
rm -rf "$work/extract"

# 3. Install.
if ! apt install --no-install-recommends "$deb_lib" "$deb_dev" "$deb_server" \
	>"$work/install.log" 2>&1; then
	bad "apt-get install failed:"; cat "$work/install.log"; exit 1
fi
ok "installed with apt-get install ./*.deb"
files=$(dpkg -L "${packages[@]}" | sort -u)
check "canary-server --version is ${version%-*}" \
	test "$(/usr/bin/canary-server --version)" = "canary-server ${version%-*}"
check "canaryctl --version is ${version%-*}" \
	test "$(/usr/bin/canaryctl --version)" = "canaryctl ${version%-*}"
check "ldconfig knows libcanary.so.$so" grep -qF "libcanary.so.$so " <<<"$(ldconfig -p)"
check "the system user canary, no login" \
	grep -qE '^canary:x:[0-9]+:[0-9]+:.*:/usr/sbin/nologin$' <<<"$(getent passwd canary)"
check "$envfile: mode 640, root:canary" test "$(stat -c '%a %U:%G' "$envfile")" = "640 root:canary"
check "$envfile holds generated keys" grep -qE '^CANARY_SDK_KEYS="sdk-[0-9a-f]{32}"$' "$envfile"
check "$state: mode 750, canary:canary" test "$(stat -c '%a %U:%G' "$state")" = "750 canary:canary"
unit=$(grep -E "/lib/systemd/system/$unit_name$" <<<"$files" | head -n 1)
# Minimal images often keep dpkg from unpacking man pages (path-exclude).
man_pages=no
command -v man >/dev/null && [ -e /usr/share/man/man8/canary-server.8.gz ] && man_pages=yes
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify --man="$man_pages" "$unit" 2>&1)
	check "systemd-analyze verify $unit $out" test -z "$out"
fi
if [ "$man_pages" = yes ]; then
	for page in canary-server libcanary canaryctl; do
		check "man -w $page" man -w "$page" >/dev/null
	done
fi
check "bash completion: canaryctl ro<TAB> is rollout" test "$(bash -c '
	. /usr/share/bash-completion/completions/canaryctl
	COMP_WORDS=(canaryctl ro); COMP_CWORD=1; _canaryctl; echo "${COMPREPLY[*]}"')" = rollout

# 4. Run canary-server as its unit does, on an ephemeral port.
sed -i 's|^CANARY_SERVER_OPTIONS=.*|CANARY_SERVER_OPTIONS="--listen 127.0.0.1:0 --port-file /run/canary-server/port"|' "$envfile"
if [ "$systemd" = 1 ]; then
	systemctl restart "$unit_name"
	how="systemctl restart $unit_name"
else
	# What systemd would do: the runtime directory, then ExecStart as User=
	# with EnvironmentFile= loaded.
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	install -d -o canary -g canary -m 0755 /run/canary-server
	runuser -u canary -- sh -c "set -a; . $envfile; set +a; exec $exec_start" \
		>"$work/server.log" 2>&1 &
	server_pid=$!
	how="ExecStart as canary: $exec_start"
fi
for _ in $(seq 200); do
	[ -s /run/canary-server/port ] && break
	if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then break; fi
	sleep 0.1
done
if [ ! -s /run/canary-server/port ]; then
	bad "canary-server did not start ($how):"
	cat "$work/server.log" 2>/dev/null || journalctl -u "$unit_name" --no-pager | tail -n 20
	exit 1
fi
url=http://127.0.0.1:$(cat /run/canary-server/port)
ok "canary-server listens on $url ($how)"
check "GET /healthz answers ok" grep -qF '"status":"ok"' <<<"$(curl -fsS "$url/healthz")"
check "the database is in $state" test -f "$state/canary.db"
token=$(sed -n 's/^CANARY_ADMIN_TOKEN="\(.*\)"$/\1/p' "$envfile")
check "canaryctl creates a flag with the generated admin token" \
	env CANARY_ADMIN_TOKEN="$token" /usr/bin/canaryctl --server "$url" \
	flag create checkout-v2 --rollout 5 >/dev/null
version=$(curl -fsS "$url/healthz" | sed -n 's/.*"config_version":\([0-9]*\).*/\1/p')
check "GET /metrics with the admin token shows config version $version" \
	grep -qx "canary_config_version $version" \
	<<<"$(curl -fsS -H "Authorization: Bearer $token" "$url/metrics")"
check "GET /metrics without a token is refused (401)" \
	test "$(curl -sS -o /dev/null -w '%{http_code}' "$url/metrics")" = 401
check "the dashboard, and its charting library from libjs-dygraphs" \
	curl -fsS -o /dev/null "$url/ui/" -o /dev/null "$url/ui/lib/dygraph.min.js"
stop_server

# 5. The README's quickstart against the installed libcanary-dev: no
# PKG_CONFIG_PATH, LD_LIBRARY_PATH or CMAKE_PREFIX_PATH.
unset PKG_CONFIG_PATH LD_LIBRARY_PATH CMAKE_PREFIX_PATH CANARY_SERVER
mkdir -p "$work/qs"
run_quickstart() { # WHAT BINARY EXPECTED-LINE
	local out
	out=$(cd "$src" && "$2" 2>&1)
	check "$1 prints '$3'" test "$out" = "$3"
}
c_line="user-3 gets v2.4.0"
cpp_line="user-3 gets v2.4.0 (TARGETING_MATCH)"
# shellcheck disable=SC2046 # pkg-config's output is words
if cc "$src/examples/readme_quickstart.c" $(pkg-config --cflags --libs canary) \
	-o "$work/qs/app-c" 2>"$work/qs/cc.log"; then
	run_quickstart "C quickstart (pkg-config)" "$work/qs/app-c" "$c_line"
	check "it loads the installed libcanary.so.$so" grep -qE \
		"libcanary\.so\.$so => (/usr)?${libdir#/usr}/libcanary\.so\.$so " <<<"$(ldd "$work/qs/app-c")"
else
	bad "cc \$(pkg-config --cflags --libs canary) failed:"; cat "$work/qs/cc.log"
fi
# shellcheck disable=SC2046
if c++ "$src/examples/readme_quickstart.cpp" $(pkg-config --cflags --libs canary) \
	-o "$work/qs/app-cpp" 2>"$work/qs/cxx.log"; then
	run_quickstart "C++ quickstart (pkg-config)" "$work/qs/app-cpp" "$cpp_line"
else
	bad "c++ \$(pkg-config --cflags --libs canary) failed:"; cat "$work/qs/cxx.log"
fi
if cmake -S "$src/tests/packaging/quickstart" -B "$work/qs/cmake" \
	-DCANARY_EXAMPLES_DIR="$src/examples" >"$work/qs/cmake.log" 2>&1 &&
	cmake --build "$work/qs/cmake" >>"$work/qs/cmake.log" 2>&1; then
	check "find_package(canary) found $libdir/cmake/canary" \
		grep -qx "canary_DIR:PATH=$libdir/cmake/canary" "$work/qs/cmake/CMakeCache.txt"
	run_quickstart "C quickstart (canary::canary)" "$work/qs/cmake/quickstart_c" "$c_line"
	run_quickstart "C quickstart (canary::canary_static)" "$work/qs/cmake/quickstart_static" "$c_line"
	run_quickstart "C++ quickstart (canary::canary)" "$work/qs/cmake/quickstart_cpp" "$cpp_line"
else
	bad "find_package(canary) build failed:"; cat "$work/qs/cmake.log"
fi

# 6. Purge, and nothing of the packages is left.
purge
check "apt-get purge" test $? = 0
left=()
while IFS= read -r f; do
	[ -n "$f" ] && [ ! -d "$f" ] && [ -e "$f" ] && left+=("$f")
done <<<"$files"
check "no file of the packages is left ${left[*]}" test ${#left[@]} = 0
for f in "$envfile" "$state" /etc/systemd/system/multi-user.target.wants/$unit_name; do
	check "purge removed $f" test ! -e "$f"
done
exit "$fail"
