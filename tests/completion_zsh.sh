#!/bin/sh
# The zsh completion (completions/_originaudit) parses: zsh -n. zsh is not a
# dependency of originaudit, so without it the test is skipped (77).
# Usage: completion_zsh.sh COMPLETIONS_DIR
if ! command -v zsh >/dev/null 2>&1; then
	echo "zsh is not installed: skipping the syntax check of _originaudit"
	exit 77
fi
zsh -n "$1/_originaudit" || { echo "FAIL: zsh -n $1/_originaudit"; exit 1; }
head -n 1 "$1/_originaudit" | grep -qx '#compdef originaudit originaudit-proxy' ||
	{ echo "FAIL: _originaudit does not start with its #compdef line"; exit 1; }
echo "ok: zsh -n _originaudit"
