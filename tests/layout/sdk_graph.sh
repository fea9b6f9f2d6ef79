#!/bin/sh
# sdk_graph.sh SDK_DIR OBJECT... - no two files of sdk/ depend on each
# other, directly or around a circle. A file is x.c with x.h; it depends on
# y when it includes "y.h" or calls (or reads) something y.c defines (from
# the objects' symbol tables). tsort finds the circles.
set -eu
sdk=$1
shift
edges=$(mktemp)
defs=$(mktemp)
trap 'rm -f "$edges" "$defs"' EXIT

module() { basename "$1" | sed 's/\..*//'; }

for f in "$sdk"/*.c "$sdk"/*.h; do
	m=$(module "$f")
	sed -n 's/^#include "\([a-z0-9_]*\)\.h".*/\1/p' "$f" | while read -r h; do
		if [ -e "$sdk/$h.h" ] && [ "$h" != "$m" ]; then
			echo "$m $h"
		fi
	done
done >"$edges"

for o in "$@"; do
	m=$(module "$o")
	nm -g --defined-only "$o" | awk -v m="$m" 'NF == 3 { print $3, m }'
done >"$defs"
for o in "$@"; do
	m=$(module "$o")
	nm -u "$o" | awk -v m="$m" '{ print m, $NF }'
done | awk 'NR == FNR { def[$1] = $2; next }
	($2 in def) && def[$2] != $1 { print $1, def[$2] }' "$defs" - >>"$edges"

if ! sort -u "$edges" | tsort >/dev/null; then
	echo "sdk/: the files above depend on each other in a circle" >&2
	exit 1
fi
echo "sdk/: $(sort -u "$edges" | wc -l) dependencies, no circle"
echo "1 passed, 0 failed"
