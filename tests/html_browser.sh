#!/bin/sh
# The HTML report in a real browser: `originaudit demo -o report.html` scans
# the local demo origins; headless Chromium loads the page from disk (no
# network needed: the page is self-contained), its DOM must hold every demo
# origin's section and the timeline, and a screenshot must come out as a PNG.
#
# Environment: ORIGINAUDIT (the program, set by meson), CHROMIUM (optional:
# the browser to run), OA_KEEP_SCREENSHOT (optional: copy the PNG there).
set -eu

fail() {
	echo "html_browser: FAIL: $*" >&2
	exit 1
}

# The demo's origins (scanner/cmd_demo.c) and how many certificates they send.
ORIGINS="good expiring-soon root-sent expired wrong-order missing-intermediate self-signed wrong-name"
CERTS=21
# Headless Chromium on a busy 2-core machine can take a while to start.
BROWSER_TIMEOUT=120

: "${ORIGINAUDIT:?set ORIGINAUDIT to the originaudit program}"
if [ -n "${CHROMIUM:-}" ]; then
	browser=$(command -v "$CHROMIUM") ||
		fail "CHROMIUM=$CHROMIUM is not a program: unset it, or run scripts/install-deps (it installs chromium)"
elif command -v chromium >/dev/null 2>&1; then
	browser=$(command -v chromium)
elif command -v chromium-browser >/dev/null 2>&1; then
	browser=$(command -v chromium-browser)
else
	fail "chromium is not installed: run scripts/install-deps (it installs chromium)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oa-html-browser.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# Chromium wants a writable home and profile; never the user's.
mkdir "$tmp/home" "$tmp/profile"

"$ORIGINAUDIT" demo --format html -o "$tmp/report.html" >"$tmp/demo.out" 2>"$tmp/demo.err" ||
	fail "originaudit demo exited $?: $(cat "$tmp/demo.err")"
[ -s "$tmp/report.html" ] || fail "demo wrote no report"

chrome() {
	HOME="$tmp/home" timeout "$BROWSER_TIMEOUT" "$browser" --headless --no-sandbox \
		--disable-gpu --disable-dev-shm-usage --no-first-run --hide-scrollbars \
		--user-data-dir="$tmp/profile" "$@"
}

chrome --dump-dom "file://$tmp/report.html" >"$tmp/dom.html" 2>"$tmp/chrome.err" ||
	fail "chromium --dump-dom exited $?: $(tail -5 "$tmp/chrome.err")"
[ -s "$tmp/dom.html" ] || fail "chromium dumped no DOM: $(tail -5 "$tmp/chrome.err")"

for origin in $ORIGINS; do
	grep -q "<section class=\"origin [^\"]*\" id=\"origin-[0-9]*\" data-verdict=\"[a-z]*\" data-origin=\"$origin\">" \
		"$tmp/dom.html" || fail "the DOM has no section for origin $origin"
done
sections=$(grep -o '<section class="origin ' "$tmp/dom.html" | wc -l)
[ "$sections" -eq 8 ] || fail "the DOM has $sections origin sections, not 8"
grep -q '<svg class="timeline"' "$tmp/dom.html" || fail "the DOM has no timeline"
certs=$(grep -o '<g class="cert"' "$tmp/dom.html" | wc -l)
[ "$certs" -eq "$CERTS" ] || fail "the timeline has $certs certificates, not $CERTS"
grep -q 'data-threshold="warn"' "$tmp/dom.html" || fail "no warn threshold line"
grep -q 'data-threshold="critical"' "$tmp/dom.html" || fail "no critical threshold line"
grep -q '<dd id="verdict"><span class="badge s-fail">fail</span></dd>' "$tmp/dom.html" ||
	fail "the overall verdict is not fail"
if grep -qi '<script' "$tmp/dom.html"; then
	fail "the DOM has a script element"
fi

chrome --screenshot="$tmp/shot.png" --window-size=1280,2000 "file://$tmp/report.html" \
	>"$tmp/shot.out" 2>"$tmp/shot.err" ||
	fail "chromium --screenshot exited $?: $(tail -5 "$tmp/shot.err")"
[ -f "$tmp/shot.png" ] || fail "no screenshot written: $(tail -5 "$tmp/shot.err")"
magic=$(od -An -tx1 -N8 "$tmp/shot.png" | tr -d ' \n')
[ "$magic" = "89504e470d0a1a0a" ] || fail "the screenshot is not a PNG (starts $magic)"
# The IHDR chunk: width and height, big-endian, at bytes 16-23.
size=$(od -An -tu1 -j16 -N8 "$tmp/shot.png" | tr -s ' ' | sed 's/^ //')
set -- $size
width=$(($1 * 16777216 + $2 * 65536 + $3 * 256 + $4))
height=$(($5 * 16777216 + $6 * 65536 + $7 * 256 + $8))
[ "$width" -eq 1280 ] && [ "$height" -eq 2000 ] ||
	fail "the screenshot is ${width}x$height, not 1280x2000"
bytes=$(wc -c <"$tmp/shot.png")
# A blank page compresses to a few kilobytes; the report is far more.
[ "$bytes" -gt 50000 ] || fail "the screenshot is only $bytes bytes: a blank page?"
if [ -n "${OA_KEEP_SCREENSHOT:-}" ]; then
	cp "$tmp/shot.png" "$OA_KEEP_SCREENSHOT"
fi
echo "html_browser: ok: $sections origins, $certs certificates, ${width}x$height screenshot ($bytes bytes)"
