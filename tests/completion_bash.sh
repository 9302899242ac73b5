#!/usr/bin/env bash
# The bash completions (completions/originaudit.bash, originaudit-proxy.bash):
# sourced into a plain bash, completed as readline would call them, and the
# replies compared with what is expected. Each command's option list must be
# exactly the long options its --help prints (plus --help), so the
# completion cannot fall behind the code.
# Usage: completion_bash.sh COMPLETIONS_DIR ORIGINAUDIT ORIGINAUDIT_PROXY
set -u

dir=$(realpath "$1") oa=$(realpath "$2") proxy=$(realpath "$3") || exit 1
for prog in "$oa" "$proxy"; do
	"$prog" --help >/dev/null || { echo "FAIL: $prog --help"; exit 1; }
done
# shellcheck source=/dev/null
source "$dir/originaudit.bash" || exit 1
# shellcheck source=/dev/null
source "$dir/originaudit-proxy.bash" || exit 1

failed=0
checks=0
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir conf
touch plan.json report.html conf/cfg.json

# complete FUNCTION LINE: COMPREPLY, sorted, one per line, for LINE with the
# cursor at its end; COMP_WORDBREAKS as in an interactive bash.
complete_line()
{
	local fn=$1
	COMP_LINE=$2
	COMP_POINT=${#COMP_LINE}
	COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
	read -r -a COMP_WORDS <<<"$COMP_LINE"
	[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	"$fn" 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# expect FUNCTION LINE EXPECTED...: the replies are exactly EXPECTED.
expect()
{
	local fn=$1 line=$2 got want
	shift 2
	got=$(complete_line "$fn" "$line" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[[ $# -eq 0 ]] && want=''
	[[ $got == ' ' ]] && got=''
	checks=$((checks + 1))
	if [[ $got != "$want" ]]; then
		echo "FAIL: '$line<TAB>': got [$got], want [$want]"
		failed=1
	else
		echo "ok: '$line<TAB>' -> [$got]"
	fi
}

expect _originaudit 'originaudit sc' scan
expect _originaudit 'originaudit ' scan check-config serve verify demo help -h --help -V --version
expect _originaudit 'originaudit che' check-config
expect _originaudit 'originaudit help v' verify
expect _originaudit 'originaudit scan --for' --format
expect _originaudit 'originaudit scan -f ' json text prometheus junit html
expect _originaudit 'originaudit scan --format ' json text prometheus junit html
expect _originaudit 'originaudit scan --format=pr' prometheus
expect _originaudit 'originaudit verify -f ' text json
expect _originaudit 'originaudit demo --format j' json junit
expect _originaudit 'originaudit scan --cloudf' --cloudfront
expect _originaudit 'originaudit scan --cloudfront pl' plan.json
expect _originaudit 'originaudit scan --terraform pl' plan.json
expect _originaudit 'originaudit scan -c con' conf/
expect _originaudit 'originaudit scan -c conf/' conf/cfg.json
expect _originaudit 'originaudit check-config conf/c' conf/cfg.json
expect _originaudit 'originaudit verify --key pl' plan.json
expect _originaudit 'originaudit demo --dir c' conf/
# -o: a FORMAT: prefix or a file; after FORMAT:, a file. With ':' in
# COMP_WORDBREAKS readline replaces only what follows the colon.
expect _originaudit 'originaudit scan -o j' json: junit:
expect _originaudit 'originaudit scan -o re' report.html
expect _originaudit 'originaudit scan -o junit:re' report.html
expect _originaudit 'originaudit scan --output=html:re' report.html
expect _originaudit 'originaudit demo -o prom' prometheus:
expect _originaudit 'originaudit serve --li' --listen
expect _originaudit 'originaudit serve --listen '
expect _originaudit 'originaudit scan --resolve '
expect _originaudit 'originaudit scan --sni o'
expect _originaudit 'originaudit verify --name o'
expect _originaudit 'originaudit scan --enumerate-protocols --a' --at
expect_proxy() { expect _originaudit_proxy "$@"; }
expect_proxy 'originaudit-proxy --ch' --check
expect_proxy 'originaudit-proxy --config con' conf/
expect_proxy 'originaudit-proxy --header-timeout-ms '
expect_proxy 'originaudit-proxy -' -c --config --check --header-timeout-ms -h --help -V --version

# Each command's long options are exactly those its --help prints (+ --help).
help_options()
{
	# The usage lines, and the option column of "Options:" (a line
	# indented deeper continues a description, whose examples are no
	# options), as tests/check_man_options.py reads them.
	"$@" --help | awk '
		/^Usage:/ { usage = 1 }
		usage && /^$/ { usage = 0 }
		usage { print; next }
		/^Options:/ { opts = 1; next }
		/^$/ { opts = 0 }
		opts && match($0, /[^ ]/) && RSTART <= 7 { sub(/^ +/, ""); sub(/  +.*/, ""); print }
	' | grep -o -- '--[a-z][a-z0-9-]*' | grep -v -- '^--help$'
	echo --help
}
for cmd in scan check-config verify serve demo; do
	want=$(help_options "$oa" "$cmd" | sort -u | tr '\n' ' ')
	got=$(complete_line _originaudit "originaudit $cmd --" | tr '\n' ' ')
	checks=$((checks + 1))
	if [[ $got != "$want" ]]; then
		echo "FAIL: originaudit $cmd: --help prints [$want], completion offers [$got]"
		failed=1
	fi
done
want=$(help_options "$proxy" | sort -u | tr '\n' ' ')
got=$(complete_line _originaudit_proxy "originaudit-proxy --" | tr '\n' ' ')
checks=$((checks + 1))
if [[ $got != "$want" ]]; then
	echo "FAIL: originaudit-proxy: --help prints [$want], completion offers [$got]"
	failed=1
fi

echo "$checks checks"
exit $failed
