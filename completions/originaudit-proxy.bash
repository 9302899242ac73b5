# bash completion for originaudit-proxy(8)                -*- shell-script -*-

_originaudit_proxy()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	local f
	if ((COMP_CWORD > 0)); then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi
	COMPREPLY=()
	case $prev in
	-c | --config)
		while IFS= read -r f; do
			[[ -d $f ]] && f+=/
			COMPREPLY+=("$f")
		done < <(compgen -f -- "$cur")
		compopt -o nospace 2>/dev/null
		if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} != */ ]]; then
			compopt +o nospace 2>/dev/null
		fi
		return 0
		;;
	--header-timeout-ms)
		return 0
		;;
	esac
	if [[ $cur == -* || -z $cur ]]; then
		COMPREPLY=($(compgen -W '-c --config --check --header-timeout-ms
			-h --help -V --version' -- "$cur"))
	fi
	return 0
}
complete -F _originaudit_proxy originaudit-proxy
