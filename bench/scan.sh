#!/usr/bin/env bash
# Benchmark of `originaudit scan` against nginx on loopback, side by side with
# raw TLS handshakes from `openssl s_time` at the same concurrency, in one run.
#
#   bench/scan.sh [ORIGINS] [CONCURRENCY] [BIG_ORIGINS]
#
# ORIGINS (default 2000) origins are scanned (one TLS 1.2 handshake each, the
# scanner's default ssl_protocols) with CONCURRENCY (default 16) probes in
# flight; the peer is CONCURRENCY parallel `openssl s_time -new -tls1_2`
# processes for the same wall time. The scanner is one process on one libuv
# loop, so for equal resources nginx is pinned to CPU 0 and each client side
# (the scanner, or all the s_time processes together) to CPU 1 (taskset).
# BIG_ORIGINS (default 10000) origins are
# then scanned once more to report peak RSS at that size. BENCH_BIN runs
# another scanner binary (an older build, to compare) instead of build/'s.
# Needs nginx and GNU time (installed with apt-get when missing).
#
#   bench/scan.sh --scale [SIZE...]
#
# Scaling of everything but the handshakes: for each SIZE (default 10000
# 20000 40000 100000) a configuration of SIZE origins is generated whose one
# address is 127.0.0.1 on a port nothing listens on (bound to port 0 to find a
# free one, then closed), so every probe ends at once with connection_refused
# and a run is loading, planning, one refused connect per origin and the JSON
# report written to a file. Prints per size the wall time and peak RSS of
# `originaudit scan` and of `originaudit check-config` (load + lint; the
# default behaviour names the first origin, so the lint looks for unused
# origins among all of them), then the ratio of the largest size's scan time
# to the smallest's: linear code gives about the ratio of the sizes (10 for
# 100k/10k), quadratic code its square. Each run is repeated BENCH_RUNS times
# (default 3) and the fastest kept, as other load on the machine only ever
# adds time. BENCH_CONC (default 256) probes are in flight; BENCH_BIN runs
# another binary (an older build, to compare) instead of build/'s. Needs
# python3 and GNU time, no nginx.
set -euo pipefail
cd "$(dirname "$0")/.."

scale() {
	local sizes=("$@") bin=${BENCH_BIN:-} work port n s_wall s_rss c_wall c_rss
	[ "${#sizes[@]}" -gt 0 ] || sizes=(10000 20000 40000 100000)
	[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
	if [ -z "$bin" ]; then
		if [ ! -x build/scanner/originaudit ]; then
			[ -f build/build.ninja ] || meson setup build >/dev/null
			ninja -C build >/dev/null
		fi
		bin=$PWD/build/scanner/originaudit
	fi
	work=$(mktemp -d /tmp/oa-bench-scale.XXXXXX)
	# shellcheck disable=SC2064 # expand now: $work is local
	trap "rm -rf '$work'" EXIT
	# Free now and not listened on: a connect to it is refused at once.
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	printf '%-8s %10s %9s %18s %9s\n' origins "scan (s)" "RSS (MB)" "check-config (s)" "RSS (MB)"
	for n in "${sizes[@]}"; do
		python3 - "$n" "$port" >"$work/cfg.json" <<'EOF'
import json, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps({
    "origins": [{"id": f"o{i}", "domain_name": f"origin{i}.bench.test", "https_port": port,
                 "addresses": ["127.0.0.1"]} for i in range(n)],
    "default_behavior": {"origin": "o0"},
}))
EOF
		: >"$work/scan.times"
		: >"$work/check.times"
		for _ in $(seq "${BENCH_RUNS:-3}"); do
			# Exit 2 (every probe errors) is expected; the report is checked below.
			/usr/bin/time -f "%e %M" -o "$work/scan.time" "$bin" scan \
				--config "$work/cfg.json" --concurrency "${BENCH_CONC:-256}" \
				--format json --output "$work/report.json" || true
			/usr/bin/time -f "%e %M" -o "$work/check.time" "$bin" check-config \
				"$work/cfg.json" >/dev/null || true
			# GNU time puts "Command exited with non-zero status" first.
			tail -n1 "$work/scan.time" >>"$work/scan.times"
			tail -n1 "$work/check.time" >>"$work/check.times"
		done
		# Every origin in the report, refused: anything else is not what is measured here.
		python3 - "$n" "$work/report.json" <<'EOF'
import json, sys
n, doc = int(sys.argv[1]), json.load(open(sys.argv[2]))
errors = {p["error"] for o in doc["origins"] for p in o["probes"]}
if doc["summary"]["origins"] != n or doc["summary"]["probes"] != n or errors != {"connection_refused"}:
    sys.exit(f"bench: {n} origins: unexpected report {doc['summary']}, errors {sorted(errors)}")
EOF
		read -r s_wall s_rss < <(sort -n "$work/scan.times" | head -n1)
		read -r c_wall c_rss < <(sort -n "$work/check.times" | head -n1)
		printf '%-8s %10s %9d %18s %9d\n' "$n" "$s_wall" "$((s_rss / 1024))" "$c_wall" \
			"$((c_rss / 1024))"
		echo "$n $s_wall" >>"$work/walls"
	done
	python3 - "$work/walls" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
(n0, t0), (n1, t1) = rows[0], rows[-1]
if len(rows) > 1:
    print(f"scan time {n1}/{n0} origins: {float(t1) / max(float(t0), 0.01):.1f}x "
          f"(linear: {int(n1) / int(n0):.1f}x)")
EOF
}

if [ "${1:-}" = "--scale" ]; then
	shift
	scale "$@"
	exit 0
fi

ORIGINS=${1:-2000}
CONC=${2:-16}
BIG=${3:-10000}

need=()
command -v nginx >/dev/null || need+=(nginx)
[ -x /usr/bin/time ] || need+=(time)
command -v openssl >/dev/null || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

BIN=${BENCH_BIN:-}
if [ -z "$BIN" ]; then
	if [ ! -x build/scanner/originaudit ]; then
		[ -f build/build.ninja ] || meson setup build >/dev/null
		ninja -C build >/dev/null
	fi
	BIN=$PWD/build/scanner/originaudit
fi

work=$(mktemp -d /tmp/oa-bench-scan.XXXXXX)
nginx_pid=""
cleanup() {
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
[ -n "${BENCH_KEEP:-}" ] && trap - EXIT

# A small PKI: root -> intermediate -> *.bench.test (ECDSA P-256).
(
	cd "$work"
	openssl ecparam -name prime256v1 -genkey -noout -out root.key 2>/dev/null
	openssl req -x509 -new -key root.key -subj "/CN=Bench Root" -days 365 -out root.pem \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out int.key 2>/dev/null
	openssl req -new -key int.key -subj "/CN=Bench Intermediate" -out int.csr 2>/dev/null
	printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
	openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 365 \
		-extfile int.ext -out int.pem 2>/dev/null
	openssl ecparam -name prime256v1 -genkey -noout -out leaf.key 2>/dev/null
	openssl req -new -key leaf.key -subj "/CN=*.bench.test" -out leaf.csr 2>/dev/null
	printf 'subjectAltName=DNS:*.bench.test\nextendedKeyUsage=serverAuth\n' >leaf.ext
	openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 90 \
		-extfile leaf.ext -out leaf.pem 2>/dev/null
	cat leaf.pem int.pem >chain.pem
)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port ssl backlog=4096;
        server_name *.bench.test;
        ssl_certificate $work/chain.pem;
        ssl_certificate_key $work/leaf.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / { return 200 "ok\n"; }
    }
}
NGINX
taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g "daemon off;" &
nginx_pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.05
done

make_config() {
	local n=$1 out=$2
	python3 - "$n" "$port" "$work/root.pem" >"$out" <<'PY'
import json, sys
n, port, bundle = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print(json.dumps({
    "origins": [{"id": f"o{i}", "domain_name": f"origin{i}.bench.test", "https_port": port,
                 "addresses": ["127.0.0.1"]} for i in range(n)],
    "scan": {"ca_bundle": bundle, "connect_timeout_ms": 10000, "handshake_timeout_ms": 10000},
}))
PY
}

make_config "$ORIGINS" "$work/cfg.json"
make_config "$BIG" "$work/big.json"

# 1. The scanner: one TLS 1.2 handshake + full grading per origin.
taskset -c 1 /usr/bin/time -f "%e %U %S %M" -o "$work/scan.time" \
	"$BIN" scan --config "$work/cfg.json" --concurrency "$CONC" --format json >"$work/scan.json" || rc=$?
read -r s_wall s_user s_sys s_rss <"$work/scan.time"
s_pass=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['summary']['pass'])" "$work/scan.json")
if [ "$s_pass" != "$ORIGINS" ]; then
	echo "bench: only $s_pass of $ORIGINS origins passed; the comparison would be unfair" >&2
	exit 1
fi

# 2. The peer: CONC parallel openssl s_time, full TLS 1.2 handshakes, same wall time.
secs=$(python3 -c "import math,sys; print(max(2, math.ceil(float(sys.argv[1]))))" "$s_wall")
for i in $(seq "$CONC"); do
	taskset -c 1 /usr/bin/time -f "%U %S %M" -o "$work/stime.$i.time" \
		openssl s_time -connect "127.0.0.1:$port" -new -tls1_2 -time "$secs" >"$work/stime.$i.out" 2>&1 &
done
wait_ok=0
for job in $(jobs -p); do
	[ "$job" = "$nginx_pid" ] && continue
	wait "$job" || wait_ok=1
done
conns=0
cpu=0
peer_rss=0
for i in $(seq "$CONC"); do
	c=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' "$work/stime.$i.out" | head -n1)
	conns=$((conns + ${c:-0}))
	read -r u s m <"$work/stime.$i.time"
	cpu=$(python3 -c "print($cpu + $u + $s)")
	[ "$m" -gt "$peer_rss" ] && peer_rss=$m
done

# 3. Peak RSS of a BIG-origin scan.
/usr/bin/time -f "%e %U %S %M" -o "$work/big.time" \
	"$BIN" scan --config "$work/big.json" --concurrency 64 --format json >"$work/big.json.out" || true
read -r b_wall b_user b_sys b_rss <"$work/big.time"
b_pass=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['summary']['pass'])" "$work/big.json.out")

python3 - "$ORIGINS" "$CONC" "$s_wall" "$s_user" "$s_sys" "$s_rss" "$conns" "$secs" "$cpu" "$peer_rss" \
	"$BIG" "$b_wall" "$b_rss" "$b_pass" <<'PY'
import sys
(n, conc, wall, user, sys_, rss, conns, secs, cpu, prss, big, bwall, brss, bpass) = sys.argv[1:]
n, conc, conns, big, bpass = int(n), int(conc), int(conns), int(big), int(bpass)
wall, user, sys_, secs, cpu = float(wall), float(user), float(sys_), float(secs), float(cpu)
rss, prss, brss, bwall = int(rss), int(prss), int(brss), float(bwall)
scan_rate = n / wall
raw_rate = conns / secs if secs else 0
print(f"originaudit scan vs openssl s_time, nginx on loopback (CPU 0), clients on CPU 1, TLS 1.2 full handshakes, concurrency {conc}")
print(f"{'':34}{'originaudit scan':>20}{'openssl s_time x' + str(conc):>22}")
print(f"{'handshakes (probes) per second':34}{scan_rate:>20.0f}{raw_rate:>22.0f}")
print(f"{'CPU seconds per handshake (client)':34}{(user + sys_) / n * 1000:>18.3f}ms{(cpu / conns * 1000 if conns else 0):>20.3f}ms")
print(f"{'peak RSS (one process)':34}{rss / 1024:>18.1f}MB{prss / 1024:>20.1f}MB")
print(f"{'work':34}{str(n) + ' origins, graded':>20}{str(conns) + ' connects':>22}")
print(f"scanner rate / raw handshake rate: {scan_rate / raw_rate:.2f} (target >= 0.80)" if raw_rate else "no raw rate")
print(f"{big} origins: {bwall:.1f} s, peak RSS {brss / 1024:.1f} MB (target < 100 MB), {bpass} pass")
PY
