#!/usr/bin/env bash
# The Debian package (issue 14): scripts/build-deb builds it from this tree
# (lintian errors fail), then its contents are checked with dpkg-deb -c and
# -I, and the package is unpacked into a throw-away root (dpkg -x) where the
# programs it holds run: originaudit --version, originaudit verify on a chain
# generated here (exit 2, self_signed), originaudit-proxy --version, and
# man -l on its manual page.
#
#   tests/check-deb.sh SOURCE_ROOT
set -euo pipefail
src=${1:?usage: check-deb.sh SOURCE_ROOT}
work=$(mktemp -d /tmp/oa-check-deb.XXXXXX)
# shellcheck disable=SC2064 # expand now
trap "rm -rf '$work'" EXIT

fail() {
	echo "check-deb: $*" >&2
	exit 1
}

for tool in dpkg-buildpackage dh lintian dpkg-deb; do
	command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps"
done

"$src/scripts/build-deb" "$work/out" >"$work/build.out" 2>"$work/build.err" ||
	{ cat "$work/build.err" >&2; fail "scripts/build-deb failed"; }
deb=$(tail -n 1 "$work/build.out")
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
[ "$(basename "$deb")" = "originaudit_${version}_${arch}.deb" ] || fail "unexpected name: $deb"

# Every file the package must hold.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/bin/originaudit /usr/bin/originaudit-proxy \
	/usr/share/originaudit/mozilla-roots.pem /usr/share/originaudit/MANIFEST \
	/usr/share/man/man1/originaudit.1.gz /usr/share/man/man8/originaudit-proxy.8.gz \
	/usr/share/man/man5/originaudit.json.5.gz \
	/usr/share/bash-completion/completions/originaudit \
	/usr/share/zsh/vendor-completions/_originaudit \
	/lib/systemd/system/originaudit-proxy.service /lib/systemd/system/originaudit-scan.service \
	/lib/systemd/system/originaudit-scan.timer /lib/systemd/system/originaudit-serve.service \
	/usr/lib/sysusers.d/originaudit.conf /usr/lib/tmpfiles.d/originaudit.conf \
	/usr/share/doc/originaudit/copyright; do
	grep -qx "$f" "$work/contents" || fail "$f is not in the package"
done
# Nothing from the build tree or the tests.
if grep -E 'test|/build|\.a$|\.h$' "$work/contents" | grep -v 'usr/share/doc'; then
	fail "unexpected files in the package (above)"
fi
dpkg-deb -f "$deb" Package | grep -qx originaudit || fail "Package field"
dpkg-deb -f "$deb" Depends | grep -q libgnutls30 || fail "Depends lacks libgnutls30"

# The programs from the unpacked package.
root=$work/root
dpkg -x "$deb" "$root"
"$root/usr/bin/originaudit" --version | grep -qx "originaudit $version" ||
	fail "originaudit --version does not say $version"
"$root/usr/bin/originaudit-proxy" --version | grep -q "$version" ||
	fail "originaudit-proxy --version does not say $version"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=origin.deb.test -addext subjectAltName=DNS:origin.deb.test \
	-keyout "$work/key.pem" -out "$work/chain.pem" 2>/dev/null
rc=0
"$root/usr/bin/originaudit" verify --chain "$work/chain.pem" --name origin.deb.test \
	--ca-bundle "$root/usr/share/originaudit/mozilla-roots.pem" --format json \
	>"$work/verify.json" || rc=$?
[ "$rc" = 2 ] || fail "originaudit verify exited $rc, want 2 (a self-signed chain)"
python3 - "$work/verify.json" <<'EOF' || fail "the verify report is not as expected"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "fail", r["verdict"]
assert r["checks"]["self_signed"]["status"] == "fail", r["checks"]["self_signed"]
EOF
MANWIDTH=80 man --warnings -l -Tutf8 "$root/usr/share/man/man1/originaudit.1.gz" \
	>/dev/null 2>"$work/man.err" || fail "man -l failed"
[ ! -s "$work/man.err" ] || { cat "$work/man.err" >&2; fail "man reported warnings"; }
echo "check-deb: $(basename "$deb"): $(wc -l <"$work/contents") entries, programs run from the unpacked root"
