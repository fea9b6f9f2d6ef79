#!/usr/bin/env bash
# check_docs.sh SOURCE_DIR [CANARY_SERVER CANARYCTL] - the man pages
# (docs/man/) render without a single groff warning, and say what the code
# does: every option of `canary-server --help` and every command and option
# of `canaryctl --help` is in its page and nothing more, every function of
# canary/canary.h is in libcanary(3) and no other; canaryctl's bash
# completion (packaging/canaryctl.bash) offers every command and option of
# the usage and no other; docs/server.md shows the usage as it is;
# --version prints the version (ctest label packaging).
set -uo pipefail
src=$1 server=${2:-} ctl=${3:-}
man=$src/docs/man
# shellcheck source-path=SCRIPTDIR source=checks.sh
. "$(dirname "$0")/checks.sh"

# 1. Rendering: groff with every warning on, and man(1) as a reader runs it.
for page in "$man"/*.[1-8]; do
	warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	check "groff -ww ${page##*/} $warnings" [ -z "$warnings" ]
	if command -v man >/dev/null; then
		warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		check "man -l ${page##*/} $warnings" [ -z "$warnings" ]
	fi
done

# A page as plain text on long lines, unhyphenated, so that no option is
# split.
text() { groff -man -Tascii -P-cbou -rLL=1000n -rHY=0 "$1" 2>/dev/null; }
options() { grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
# same_set WHAT A B: the sorted lists A and B are equal, else the diff.
same_set() {
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1:"; diff <(echo "$2") <(echo "$3"); fi
}

# 2. The library's functions: canary.h vs libcanary(3).
header_fns=$(grep -hoE 'CANARY_API [^(]*[ *]canary_[a-z0-9_]+\(' "$src"/include/canary/*.h |
	grep -oE 'canary_[a-z0-9_]+\($' | tr -d '(' | sort -u)
page_fns=$(text "$man/libcanary.3" | grep -oE '\bcanary_[a-z0-9_]+\(' | tr -d '(' | sort -u)
same_set "libcanary.3 names the functions of canary.h (< header, > page)" "$header_fns" "$page_fns"

if [ -z "$server" ] || [ -z "$ctl" ]; then
	echo "canary-server not built: its pages and canaryctl's completion not checked"
	exit "$fail"
fi

# 3. canary-server: --help vs canary-server(8).
help=$("$server" --help)
same_set "canary-server.8 names the options of --help (< help, > page)" \
	"$(options <<<"$help")" "$(text "$man/canary-server.8" | options)"

# 4. canaryctl: --help vs canaryctl(1) and the completion.
help=$("$ctl" --help)
same_set "canaryctl.1 names the options of --help (< help, > page)" \
	"$(options <<<"$help")" "$(text "$man/canaryctl.1" | options)"
page=$(text "$man/canaryctl.1")
commands=$(grep -oE '^  (flag|segment|stats|rollout|token|audit|webhook|help)( [a-z|]+)?' <<<"$help" |
	sed 's/^  //' | sort -u)
while IFS= read -r cmd; do
	check "canaryctl.1 has '$cmd'" grep -qF -- "$cmd" <<<"$page"
done <<<"$commands"
# docs/server.md shows the usage under "## canaryctl": the usage itself.
shown=$(awk '/^## canaryctl$/ { f = 1; next } f && /^```/ { if (n++) exit; next }
	f && n' "$src/docs/server.md")
same_set "docs/server.md shows canaryctl --help (< help, > docs)" "$help" "$shown"
completion=$src/packaging/canaryctl.bash
same_set "canaryctl.bash offers the options of --help (< help, > completion)" \
	"$(options <<<"$help")" "$(options <"$completion")"
words=$(sort -u <<<"${commands//[ |]/$'\n'}")
for w in $words; do
	check "canaryctl.bash offers '$w'" grep -qw -- "$w" "$completion"
done

# 5. --version: the name, a version, exit 0.
for bin in "$server" "$ctl"; do
	name=${bin##*/}
	out=$("$bin" --version)
	rc=$?
	check "$name --version: '$out', exit $rc" \
		grep -qxE "$name [0-9]+\.[0-9]+\.[0-9]+ 0" <<<"$out $rc"
done
exit "$fail"
