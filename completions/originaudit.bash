# bash completion for originaudit(1)                      -*- shell-script -*-
#
# Commands, each command's options, the report formats (for -f and the
# FORMAT: prefix of -o) and file names for the options that take a file.
# The words are taken from the line up to the cursor, split at blanks, so
# "-o json:FILE" and "--format=json" are seen whole whatever COMP_WORDBREAKS
# holds; the replies are then cut to the part readline replaces.

_originaudit_formats='json text prometheus junit html'

# Cuts every reply down to what readline replaces: the text after the last
# '=' or ':' of the word being completed, when COMP_WORDBREAKS splits there.
_originaudit_trim()
{
	local word=$1 i c cut=0
	for ((i = ${#word} - 1; i >= 0; i--)); do
		c=${word:i:1}
		if [[ ($c == : || $c == =) && $COMP_WORDBREAKS == *"$c"* ]]; then
			cut=$((i + 1))
			break
		fi
	done
	if ((cut > 0)); then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]:cut}
		done
	fi
}

# Replies with PREFIX + every file (or, with -d, directory) name starting
# with WORD; directories get a trailing slash and no space.
_originaudit_files()
{
	local kind=-f prefix word f
	if [[ $1 == -d ]]; then
		kind=-d
		shift
	fi
	prefix=$1 word=$2
	COMPREPLY=()
	while IFS= read -r f; do
		[[ -d $f ]] && f+=/
		COMPREPLY+=("$prefix$f")
	done < <(compgen "$kind" -- "$word")
	compopt -o nospace 2>/dev/null
	if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} != */ ]]; then
		compopt +o nospace 2>/dev/null
	fi
}

# The options of one command, long and short.
_originaudit_options()
{
	case $1 in
	scan)
		echo '-c --config --cloudfront --terraform --resolve --sni --host-header
			-f --format -o --output --ca-bundle --concurrency
			--enumerate-protocols --at -h --help'
		;;
	check-config)
		echo '--cloudfront --terraform -h --help'
		;;
	verify)
		echo '-c --chain -k --key -n --name --ca-bundle --at --warn-days
			--critical-days -f --format -h --help'
		;;
	serve)
		echo '-c --config --cloudfront --terraform --resolve --sni --host-header
			--listen --interval --max-probes --allow-any-target --ca-bundle
			--concurrency -h --help'
		;;
	demo)
		echo '-d --dir -f --format -o --output -h --help'
		;;
	esac
}

# Completes the value of option OPT of command CMD, WORD being what is typed
# of it and PREFIX what comes before it in the same shell word
# ("--format=", or nothing). Returns 1 when OPT takes no value.
_originaudit_value()
{
	local cmd=$1 opt=$2 prefix=$3 word=$4
	case $cmd:$opt in
	*:-f | *:--format)
		if [[ $cmd == verify ]]; then
			COMPREPLY=($(compgen -P "$prefix" -W 'text json' -- "$word"))
		else
			COMPREPLY=($(compgen -P "$prefix" -W "$_originaudit_formats" -- "$word"))
		fi
		;;
	*:-o | *:--output)
		if [[ $word == *:* ]]; then
			# FORMAT:FILE: complete the file after the format.
			_originaudit_files "$prefix${word%%:*}:" "${word#*:}"
		else
			# A format prefix, or a file whose extension tells the format.
			_originaudit_files "$prefix" "$word"
			COMPREPLY+=($(compgen -P "$prefix" -S : -W "$_originaudit_formats" -- "$word"))
			compopt -o nospace 2>/dev/null
		fi
		;;
	verify:-c | *:--chain | *:-k | *:--key | *:-c | *:--config | *:--cloudfront | \
		*:--terraform | *:--ca-bundle)
		_originaudit_files "$prefix" "$word"
		;;
	demo:-d | demo:--dir)
		_originaudit_files -d "$prefix" "$word"
		;;
	*:--resolve | *:--sni | *:--host-header | *:--listen | *:--interval | \
		*:--max-probes | *:--concurrency | *:--at | *:-n | *:--name | \
		*:--warn-days | *:--critical-days)
		# Addresses, names, numbers and times: nothing to offer.
		COMPREPLY=()
		;;
	*)
		return 1
		;;
	esac
	return 0
}

_originaudit()
{
	local line=${COMP_LINE:0:COMP_POINT}
	local -a words
	local cur prev cmd i

	read -r -a words <<<"$line"
	if [[ -z $line || $line == *[[:blank:]] ]]; then
		words+=('')
	fi
	cur=${words[${#words[@]} - 1]}
	prev=
	if ((${#words[@]} > 1)); then
		prev=${words[${#words[@]} - 2]}
	fi
	COMPREPLY=()

	if ((${#words[@]} <= 2)); then
		COMPREPLY=($(compgen -W 'scan check-config serve verify demo help
			-h --help -V --version' -- "$cur"))
		return 0
	fi
	cmd=${words[1]}
	if [[ $cmd == help ]]; then
		if ((${#words[@]} == 3)); then
			COMPREPLY=($(compgen -W 'scan check-config serve verify demo' -- "$cur"))
		fi
		return 0
	fi

	# --option=value in one word.
	if [[ $cur == --*=* ]]; then
		_originaudit_value "$cmd" "${cur%%=*}" "${cur%%=*}=" "${cur#*=}" &&
			_originaudit_trim "$cur"
		return 0
	fi
	# The value of the option before, unless that option takes none.
	if [[ $prev == -* ]] && _originaudit_value "$cmd" "$prev" '' "$cur"; then
		_originaudit_trim "$cur"
		return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_originaudit_options "$cmd")" -- "$cur"))
		return 0
	fi
	# Operands: check-config's FILE; scan's and serve's targets are host
	# names, which are not completed.
	if [[ $cmd == check-config ]]; then
		_originaudit_files '' "$cur"
	fi
	return 0
}
complete -F _originaudit originaudit
