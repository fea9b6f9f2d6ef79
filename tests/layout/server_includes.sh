#!/bin/sh
# server_includes.sh ROOT - canary-server and canaryctl (server-stub/) use
# the SDK's side only through the protocol library (proto/) and the
# public headers (include/canary/): no #include of a header of sdk/, by
# name or by path.
set -eu
cd "$1"
sdk_headers=$(find sdk -name '*.h' -exec basename {} \; | sort -u)
bad=$(find server-stub -name '*.[ch]' | sort | while read -r f; do
	sed -n 's/^#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' "$f" |
	while read -r h; do
		case "$h" in
		*sdk/*)
			echo "$f: #include \"$h\""
			continue ;;
		esac
		# A bare name that only sdk/ holds (the build would find it
		# there if sdk/ were an include directory).
		b=$(basename "$h")
		if echo "$sdk_headers" | grep -qx "$b" &&
		   [ ! -f "$(dirname "$f")/$h" ] && [ ! -f "server-stub/$h" ] &&
		   [ ! -f "proto/$h" ] && [ ! -f "include/$h" ]; then
			echo "$f: #include \"$h\" (sdk/)"
		fi
	done
done)
if [ -n "$bad" ]; then
	echo "$bad" >&2
	echo "server-stub/ includes SDK internals; use proto/ or include/canary/" >&2
	exit 1
fi
echo "server-stub/: no header of sdk/ included"
echo "1 passed, 0 failed"
