#!/bin/sh
# unique_names.sh ROOT - no file name appears twice in the tree, in any
# two folders (CMakeLists.txt and fuzz corpus entries aside): which file an
# include or a grep finds must never depend on where one looks from.
# The files are git's (tracked, and new ones not ignored) in a checkout,
# else every file outside build trees.
set -eu
cd "$1"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files --cached --others --exclude-standard
else
	find . -type f ! -path './build*' ! -path './.git/*' | sed 's|^\./||'
fi | grep -v '/CMakeLists\.txt$' | grep -v '^CMakeLists\.txt$' |
	grep -v '^tests/fuzz/corpus/' | sort >"${TMPDIR:-/tmp}/names.$$"
trap 'rm -f "${TMPDIR:-/tmp}/names.$$"' EXIT
dups=$(awk -F/ '{ print $NF }' "${TMPDIR:-/tmp}/names.$$" | sort | uniq -d)
if [ -n "$dups" ]; then
	for n in $dups; do
		echo "$n appears more than once:" >&2
		awk -F/ -v n="$n" '$NF == n { print "  " $0 }' \
			"${TMPDIR:-/tmp}/names.$$" >&2
	done
	exit 1
fi
echo "$(wc -l <"${TMPDIR:-/tmp}/names.$$") files, every name once"
echo "1 passed, 0 failed"
