#!/bin/sh
# include_graph.sh ROOT [OBJECT...] - nothing in sdk/, proto/ and
# server-stub/ depends on itself around a circle.
#
# In sdk/ and proto/ the unit is the module, x.c with x.h: it depends on y
# when it includes y.h or (given the library's objects) calls or reads
# something y.c defines. In server-stub/ the unit is the file, by its
# includes. tsort finds the circles and names them.
set -eu
root=$1
shift
edges=$(mktemp)
files=$(mktemp)
defs=$(mktemp)
trap 'rm -f "$edges" "$files" "$defs"' EXIT

cd "$root"
find sdk proto server-stub -name '*.[ch]' | sort >"$files"

# The unit a file belongs to.
unit() {
	case "$1" in
	server-stub/*) echo "$1" ;;
	*) echo "$1" | sed 's/\.[ch]$//' ;;
	esac
}

# The file an include names, looked up the way the build does: beside the
# includer, from server-stub/, then the include directories.
resolve() { # includer-dir header
	for d in "$1" server-stub proto sdk sdk/unleash; do
		if [ -f "$d/$2" ]; then
			echo "$d/$2" | sed 's|^\./||'
			return
		fi
	done
}

while read -r f; do
	u=$(unit "$f")
	sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
	while read -r h; do
		t=$(resolve "$(dirname "$f")" "$h")
		[ -n "$t" ] || continue
		t=$(unit "$t")
		if [ "$t" != "$u" ]; then
			echo "$u $t"
		fi
	done
done <"$files" >"$edges"

# Symbols: object files are named after their source (x.c.o), and no two
# sources share a name (unique_names.sh), so the basename finds the module.
module_of_object() {
	b=$(basename "$1" | sed 's/\.c\.o$//; s/\.o$//')
	grep "/$b\.c\$" "$files" | head -n 1 | sed 's/\.c$//'
}
for o in "$@"; do
	m=$(module_of_object "$o")
	[ -n "$m" ] || continue
	nm -g --defined-only "$o" | awk -v m="$m" 'NF == 3 { print $3, m }'
done >"$defs"
for o in "$@"; do
	m=$(module_of_object "$o")
	[ -n "$m" ] || continue
	nm -u "$o" | awk -v m="$m" '{ print m, $NF }'
done | awk 'NR == FNR { def[$1] = $2; next }
	($2 in def) && def[$2] != $1 { print $1, def[$2] }' "$defs" - >>"$edges"

if ! sort -u "$edges" | tsort >/dev/null; then
	echo "sdk/, proto/, server-stub/: the units above depend on each" \
		"other in a circle" >&2
	exit 1
fi
echo "sdk/, proto/, server-stub/: $(sort -u "$edges" | wc -l)" \
	"dependencies, no circle"
echo "1 passed, 0 failed"
