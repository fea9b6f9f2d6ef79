# bash completion for canaryctl (canaryctl(1)), installed as
# share/bash-completion/completions/canaryctl: commands, sub-commands and
# their options. Flag keys are not completed: that would ask the server.

_canaryctl_words()
{
	# shellcheck disable=SC2207 # the words hold no spaces or wildcards
	COMPREPLY=($(compgen -W "$1" -- "$2"))
}

_canaryctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local global='--server --token --cacert --json --help --version'
	local groups='flag segment stats rollout token audit webhook help'
	local flag_opts='--rollout --rollout-bp --enable --disable --salt --state
--stable-variant --canary-variant --allow --deny --force --rule --no-rules
--stickiness --segment --no-segments'
	local rollout_opts='--steps --min-soak --max-step --interval --on-fail --gate
--sustain --grace --on-stall --bake --max-wait --widen-undecided'
	local events='started widened paused resumed rolled_back completed stalled segment_created segment_updated segment_deleted'
	local args=() i

	# Options that take a value: nothing to offer but the value's own words.
	case $prev in
	--on-fail | --on-stall)
		_canaryctl_words 'rollback pause' "$cur"
		return ;;
	--role)
		_canaryctl_words 'reader operator admin' "$cur"
		return ;;
	--events)
		_canaryctl_words "$events" "$cur"
		return ;;
	--cacert)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--server | --token | --rollout | --rollout-bp | --salt | --state | \
	--stable-variant | --canary-variant | --allow | --deny | --rule | \
	--stickiness | --segment | --steps | \
	--min-soak | --max-step | --interval | --gate | --config-version | \
	--sustain | --grace | --bake | --max-wait | --widen-undecided | \
	--since | --until | --last | --timeout | --actor | --limit | --before)
		COMPREPLY=()
		return ;;
	esac

	# The words before the cursor, without the global options (they may
	# come anywhere) and the values of options.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--server | --token | --cacert) ((i++)) ;;
		--*) ;;
		*) args+=("${COMP_WORDS[i]}") ;;
		esac
	done

	case "${args[0]}:${#args[@]}" in
	:0)
		_canaryctl_words "$groups $global" "$cur" ;;
	help:1)
		_canaryctl_words "$groups" "$cur" ;;
	flag:1)
		_canaryctl_words 'list get create set delete' "$cur" ;;
	flag:*)
		case ${args[1]} in
		create | set)
			[ ${#args[@]} -ge 3 ] && _canaryctl_words "$flag_opts" "$cur" ;;
		esac ;;
	segment:1)
		_canaryctl_words 'list show set delete' "$cur" ;;
	segment:*)
		[ "${args[1]}" = set ] && [ ${#args[@]} -ge 3 ] &&
			_canaryctl_words '--rule --force' "$cur" ;;
	stats:*)
		[ ${#args[@]} -ge 2 ] &&
			_canaryctl_words '--config-version --since' "$cur" ;;
	rollout:1)
		_canaryctl_words 'start status list pause resume rollback promote wait' "$cur" ;;
	rollout:*)
		if [ ${#args[@]} -ge 3 ]; then
			case ${args[1]} in
			start) _canaryctl_words "$rollout_opts" "$cur" ;;
			status) _canaryctl_words '--last --watch' "$cur" ;;
			promote) _canaryctl_words '--full' "$cur" ;;
			wait) _canaryctl_words '--timeout' "$cur" ;;
			esac
		fi ;;
	token:1)
		_canaryctl_words 'create list revoke' "$cur" ;;
	token:*)
		[ "${args[1]}" = create ] && [ ${#args[@]} -ge 3 ] &&
			_canaryctl_words '--role' "$cur" ;;
	audit:*)
		_canaryctl_words '--segment --actor --since --until --limit --before' "$cur" ;;
	webhook:1)
		_canaryctl_words 'add list delete deliveries' "$cur" ;;
	webhook:*)
		if [ ${#args[@]} -ge 3 ]; then
			case ${args[1]} in
			add) _canaryctl_words '--events' "$cur" ;;
			deliveries) _canaryctl_words '--limit' "$cur" ;;
			esac
		fi ;;
	esac
}
complete -F _canaryctl canaryctl
