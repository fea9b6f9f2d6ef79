#!/usr/bin/env bash
# check_readme.sh SOURCE_DIR BUILD_DIR/examples - the README's programs are
# the ones the suite builds (ctest label examples):
#   1. each README code block that stands for a file (the line before its
#      fence is "<!-- file: PATH -->") equals that file byte for byte, and
#      every examples/readme_* file is shown that way;
#   2. the quickstart programs, run from the source tree as the README
#      says, print what it says they print.
set -uo pipefail
src=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# Split the README into one file per marked block: $tmp/N holds the block,
# $tmp/N.path the file it stands for.
n=0 path='' inside=0
while IFS= read -r line; do
	if [ "$inside" = 1 ]; then
		if [ "$line" = '```' ]; then inside=0; else printf '%s\n' "$line" >>"$tmp/$n"; fi
	elif [[ $line =~ ^\<!--\ file:\ ([^ ]+)\ --\>$ ]]; then
		path=${BASH_REMATCH[1]}
	elif [ -n "$path" ]; then
		[[ $line == '```'* ]] || { bad "README: no code block after the marker of $path"; path=''; continue; }
		n=$((n + 1)); inside=1; : >"$tmp/$n"; echo "$path" >"$tmp/$n.path"; path=''
	fi
done <"$src/README.md"

shown=" "
for ((i = 1; i <= n; i++)); do
	p=$(cat "$tmp/$i.path")
	shown+="$p "
	if cmp -s "$tmp/$i" "$src/$p"; then
		ok "README block $i is $p"
	else
		bad "README block $i differs from $p:"; diff "$src/$p" "$tmp/$i"
	fi
done
for f in "$src"/examples/readme_*; do
	p=examples/${f##*/}
	[[ $shown == *" $p "* ]] || bad "$p is not shown in the README (<!-- file: $p -->)"
done

expect() { # name, output, extended regex
	if grep -qE -- "$3" <<<"$2"; then ok "$1: /$3/"; else bad "$1: no /$3/ in:"; echo "$2"; fi
}
out=$(cd "$src" && env -u CANARY_SERVER "$bin/readme_quickstart" 2>&1)
expect readme_quickstart "$out" '^user-3 gets v2\.4\.0$'
out=$(cd "$src" && env -u CANARY_SERVER "$bin/readme_quickstart_cpp" 2>&1)
expect readme_quickstart_cpp "$out" '^user-3 gets v2\.4\.0 \(TARGETING_MATCH\)$'
exit $fail
