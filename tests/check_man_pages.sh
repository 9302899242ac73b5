#!/bin/sh
# Every manual page renders without a warning from man(1) (groff's warnings
# included) at 80 columns, and has the sections expected of its kind.
# Usage: check_man_pages.sh PAGE...   (the pages built by doc/meson.build)
#        check_man_pages.sh --scdoc-missing
set -u

if [ "${1-}" = --scdoc-missing ]; then
	echo "FAIL: scdoc was not found when the build was configured, so no manual page was built;" \
		"run scripts/install-deps, then reconfigure (meson setup --reconfigure)" >&2
	exit 1
fi
if ! command -v man >/dev/null 2>&1; then
	echo "FAIL: man (man-db) is not installed: run scripts/install-deps" >&2
	exit 1
fi
[ $# -gt 0 ] || { echo "usage: $0 PAGE..." >&2; exit 2; }

export MANWIDTH=80 LC_ALL=C.UTF-8 MAN_KEEP_FORMATTING=
unset MANPAGER PAGER
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

for page in "$@"; do
	name=$(basename "$page")
	if ! man --warnings -l -Tutf8 "$page" >/dev/null 2>"$tmp/warnings"; then
		echo "FAIL: $name: man exited with an error" >&2
		failed=1
	fi
	if [ -s "$tmp/warnings" ]; then
		echo "FAIL: $name: man --warnings printed:" >&2
		cat "$tmp/warnings" >&2
		failed=1
	fi
	# The page as a reader sees it, without the overstrikes of bold.
	man -l "$page" 2>/dev/null | col -bx >"$tmp/text"
	case $name in
	originaudit.1)
		title='originaudit(1)'
		expected='NAME|SYNOPSIS|DESCRIPTION|GLOBAL OPTIONS|COMMANDS|INPUTS|OUTPUTS|CHECKS|EXIT STATUS|ENVIRONMENT|FILES|EXAMPLES|SEE ALSO'
		;;
	originaudit-proxy.8)
		title='originaudit-proxy(8)'
		expected='NAME|SYNOPSIS|DESCRIPTION|OPTIONS|SIGNALS|EXIT STATUS|ENVIRONMENT|FILES|EXAMPLES|SEE ALSO'
		;;
	originaudit.json.5)
		title='originaudit.json(5)'
		expected='NAME|SYNOPSIS|DESCRIPTION|TOP LEVEL|ORIGINS|BEHAVIORS|SCAN|PROXY|EXAMPLE|SEE ALSO'
		;;
	*)
		echo "FAIL: $name: no expectations for this page in $0" >&2
		failed=1
		continue
		;;
	esac
	first=$(head -n 1 "$tmp/text")
	if [ "${first#"$title" }" = "$first" ]; then
		echo "FAIL: $name: the first line is not the $title header: $first" >&2
		failed=1
	fi
	old_ifs=$IFS
	IFS='|'
	for section in $expected; do
		if ! grep -qx "$section" "$tmp/text"; then
			echo "FAIL: $name: no $section section" >&2
			failed=1
		fi
	done
	IFS=$old_ifs
	# Nothing left of the configure_file substitutions.
	if grep -n '@[A-Z_]*@' "$tmp/text" >&2; then
		echo "FAIL: $name: an unsubstituted @VARIABLE@" >&2
		failed=1
	fi
	lines=$(wc -l <"$tmp/text")
	echo "$name: $lines lines, sections: $expected"
done
exit $failed
