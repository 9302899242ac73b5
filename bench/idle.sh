#!/usr/bin/env bash
# The memory an idle keep-alive viewer connection costs: originaudit-proxy next
# to nginx as the same reverse proxy, in front of one HTTPS origin on loopback,
# in one run.
#
#   bench/idle.sh [CONNECTIONS] [BUILD_DIR]
#   OA_BASELINE_BUILD_DIR=DIR bench/idle.sh ...   # also measure a second (baseline) build
#
# CONNECTIONS (default 10000) viewer connections are opened to each proxy; each
# sends one keep-alive GET for a 1 KiB file and reads the whole response (at
# most 128 connections being opened and 16 requests in flight at a time); then
# all of them stay open and idle. After ~1 s the proxy's RSS (the sum of VmRSS
# over its processes: originaudit-proxy's supervisor + 1 worker, nginx's master +
# 1 worker) is read, and compared with its RSS just before the connections were
# opened: per-connection cost = (after - before) / CONNECTIONS. Before that
# "before" figure, 64 warm-up requests (16 at a time, the same window as the
# measured connections) fill each proxy's origin connection pool, so that the
# difference holds viewer connections only. Every response must be a 200 with
# the full body and without Connection: close, every connection must still be
# open on the client's side when the RSS is read, and the proxy must hold
# CONNECTIONS ESTABLISHED sockets on its port; otherwise the script fails.
#
# Two rows per proxy: viewers on the plain HTTP listener, and viewers on the TLS
# listener (each proxy has both, with an ECDSA P-256 certificate; nginx gets
# ssl_protocols TLSv1.2 TLSv1.3, as 1.22 has no TLS 1.3 by default; the version
# and cipher negotiated with the client show on each row). Each row is measured
# on a freshly started proxy, one proxy at a time.
#
# nginx allocates its connection table (worker_connections = CONNECTIONS + 1024
# slots, a few hundred bytes each) when it starts, so that part of its cost is
# in "RSS before", not in the per-connection figure; originaudit-proxy allocates
# per connection. Compare the "after" columns for the whole footprint.
#
# BUILD_DIR (default $OA_BUILD_DIR, else build-bench) is the meson build whose
# proxy/originaudit-proxy is measured; it is set up (release) and built when the
# binary is missing. OA_BASELINE_BUILD_DIR names a second build directory (its
# binary is built with ninja when missing) measured in the same run, so that
# before/after figures of a change come side by side.
#
# Both proxies: 1 worker, idle keep-alive timeout 600 s, connection limit above
# CONNECTIONS, HTTP/1.1 and a keep-alive pool toward the origin (verified
# against a generated root, name origin.bench.test), access log to a file. The
# origin is a separate nginx over TLS 1.2 with no cache headers, so nothing is
# cached. Pinning: with 2+ CPUs the proxy under test runs on the first, the
# origin and the client on the others.
#
# Runs as root (nginx starts as root and drops its workers to www-data); needs
# nginx, openssl and python3 (installed with apt-get when missing). The client
# (bench/idle_client.py) needs an open-files limit above CONNECTIONS, as does
# each proxy: the script raises the soft limit to the hard one (and the hard one
# when it may). Work files live in a mktemp -d directory removed on exit
# (BENCH_KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

CONNS=${1:-10000}
BUILD_DIR=${2:-${OA_BUILD_DIR:-build-bench}}
BASE_DIR=${OA_BASELINE_BUILD_DIR:-}
WINDOW=16
WARMUP=64

if ! [[ $CONNS =~ ^[1-9][0-9]*$ ]]; then
	echo "bench: CONNECTIONS must be a positive integer, got '$CONNS'" >&2
	echo "usage: bench/idle.sh [CONNECTIONS] [BUILD_DIR]" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (nginx is started as root and drops to www-data)" >&2
	exit 2
fi

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
if [ "${#need[@]}" -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# ---- the builds ---------------------------------------------------------------
buildtype_of() { # build dir -> "release, source DIR at COMMIT[+changes]"
	local t src rev=""
	t=$(sed -n 's/^ *buildtype *= *//p' "$1/meson-private/cmd_line.txt" 2>/dev/null | head -n1)
	src=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["directories"]["source"])' \
		"$1/meson-info/meson-info.json" 2>/dev/null || true)
	if [ -n "$src" ] && rev=$(git -C "$src" rev-parse --short HEAD 2>/dev/null); then
		[ -z "$(git --no-optional-locks -C "$src" status --porcelain -uno 2>/dev/null)" ] || rev="$rev+changes"
		rev=" at $rev"
	fi
	echo "${t:-default}, source ${src:-?}$rev"
}
if [ ! -x "$BUILD_DIR/proxy/originaudit-proxy" ]; then
	[ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR" --buildtype=release >/dev/null
	ninja -C "$BUILD_DIR" proxy/originaudit-proxy >/dev/null
fi
labels=(oa)
declare -A BIN NOTE
BIN[oa]=$(cd "$BUILD_DIR" && pwd)/proxy/originaudit-proxy
NOTE[oa]="$BUILD_DIR ($(buildtype_of "$BUILD_DIR"))"
if [ -n "$BASE_DIR" ]; then
	if [ ! -x "$BASE_DIR/proxy/originaudit-proxy" ]; then
		if [ ! -f "$BASE_DIR/build.ninja" ]; then
			echo "bench: OA_BASELINE_BUILD_DIR=$BASE_DIR is not a meson build directory" >&2
			exit 2
		fi
		ninja -C "$BASE_DIR" proxy/originaudit-proxy >/dev/null
	fi
	labels+=(base)
	BIN[base]=$(cd "$BASE_DIR" && pwd)/proxy/originaudit-proxy
	NOTE[base]="$BASE_DIR ($(buildtype_of "$BASE_DIR"))"
fi

# ---- open files ---------------------------------------------------------------
nofile_need=$((CONNS + 512))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$nofile_need" ]; then
	if ! ulimit -Hn "$nofile_need" 2>/dev/null; then
		echo "bench: the open-files hard limit is $hard, $nofile_need needed for $CONNS connections (and it cannot be raised here); use fewer connections" >&2
		exit 2
	fi
	hard=$nofile_need
fi
[ "$hard" = unlimited ] && hard=$((nofile_need * 2))
ulimit -Sn "$hard"
NOFILE=$hard

bench_work oa-bench-idle

# ---- CPUs -------------------------------------------------------------------
mapfile -t cpus < <(python3 -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))')
if [ "${#cpus[@]}" -ge 2 ]; then
	rest_cpus=$(IFS=,; echo "${cpus[*]:1}")
	pin_proxy=(taskset -c "${cpus[0]}")
	pin_rest=(taskset -c "$rest_cpus")
	pinning="proxy under test on CPU ${cpus[0]}; origin nginx and the client on CPU $rest_cpus"
else
	pin_proxy=()
	pin_rest=()
	pinning="NOT pinned: one CPU"
fi

# ---- PKI: root -> intermediate -> origin.bench.test, viewer.bench.test (ECDSA P-256)
bench_pki "$work" "Bench Idle" origin viewer

chmod 711 "$work"
mkdir -p "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
chmod 755 "$work/www"
chmod 644 "$work/www/1k.bin"
for d in origin nginx-proxy; do
	mkdir -p "$work/$d/logs" "$work/$d/tmp"
	chown www-data "$work/$d/tmp"
done

# Ports are probed (bound to port 0 by the kernel) each time one is needed.



tree_count() { # processes: the one we started and its children
	echo $((1 + $(pgrep -c -P "$1" || true)))
}


# ---- the origin -----------------------------------------------------------------
origin_port=$(free_port)
cat >"$work/origin/nginx.conf" <<NGINX
user www-data;
worker_processes 1;
pid $work/origin/nginx.pid;
error_log $work/origin/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    $(temp_paths "$work/origin/tmp")
    types { application/octet-stream bin; }
    server {
        listen 127.0.0.1:$origin_port ssl;
        server_name origin.bench.test;
        ssl_certificate $work/origin-chain.pem;
        ssl_certificate_key $work/origin.key;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
        ssl_session_cache shared:SSL:1m;
        root $work/www;
        location / { }
    }
}
NGINX
"${pin_rest[@]}" nginx -p "$work/origin" -c "$work/origin/nginx.conf" -g "daemon off;" \
	2>>"$work/origin/logs/stderr" &
origin_pid=$!
pids+=("$origin_pid")
wait_port "$origin_port"

# ---- the proxies ------------------------------------------------------------------
plain_port=""
tls_port=""

write_ngx_conf() {
	cat >"$work/nginx-proxy/nginx.conf" <<NGINX
user www-data;
worker_processes 1;
worker_rlimit_nofile $NOFILE;
pid $work/nginx-proxy/nginx.pid;
error_log $work/nginx-proxy/logs/error.log warn;
events { worker_connections $((CONNS + 1024)); }
http {
    access_log $work/nginx-proxy/logs/access.log;
    keepalive_timeout 600s;
    keepalive_requests 1000000;
    $(temp_paths "$work/nginx-proxy/tmp")
    upstream origin {
        server 127.0.0.1:$origin_port;
        keepalive 32;
        keepalive_requests 1000000;
        keepalive_timeout 120s;
    }
    server {
        listen 127.0.0.1:$plain_port backlog=4096;
        listen 127.0.0.1:$tls_port ssl backlog=4096;
        ssl_certificate $work/viewer-chain.pem;
        ssl_certificate_key $work/viewer.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass https://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host origin.bench.test;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header Via "1.1 nginx";
            proxy_set_header X-Amz-Cf-Id \$request_id;
            proxy_ssl_server_name on;
            proxy_ssl_name origin.bench.test;
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 2;
            proxy_ssl_trusted_certificate $work/root.pem;
            proxy_ssl_protocols TLSv1.2;
            proxy_ssl_session_reuse on;
        }
    }
}
NGINX
}

# originaudit-proxy's configuration: a plain and (when TLS is "1") a TLS
# listener, plus extra "proxy" keys (a JSON object).
write_oa_conf() { # tls extra
	python3 - "$origin_port" "${plain_port:-1}" "${tls_port:-2}" "$1" "$2" >"$work/oa.json" <<'PY'
import json, sys
origin_port, plain, tls, with_tls, extra = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1", json.loads(sys.argv[5])
listen = [{"address": "127.0.0.1", "port": plain}]
if with_tls:
    listen.append({"address": "127.0.0.1", "port": tls,
                   "tls": {"certificate": "viewer-chain.pem", "key": "viewer.key"}})
proxy = {"listen": listen, "ca_bundle": "root.pem"}
proxy.update(extra)
print(json.dumps({
    "origins": [{"id": "origin", "domain_name": "origin.bench.test", "https_port": origin_port,
                 "addresses": ["127.0.0.1"], "ssl_protocols": ["TLSv1.2"], "keepalive_timeout_s": 120}],
    "default_behavior": {"origin": "origin", "viewer_protocol_policy": "allow-all"},
    "proxy": proxy,
}, indent=1))
PY
}
oa_accepts() { # binary tls extra -> 0 when --check accepts it
	write_oa_conf "$2" "$3"
	"$1" --check --config "$work/oa.json" >/dev/null 2>"$work/check.err"
}

# Per build: the operations keys it accepts (docs/proxy-operations.md), each
# tried with --check, and whether its TLS listener loads.
declare -A EXTRA PROCS TLS_OK
for l in "${labels[@]}"; do
	bin=${BIN[$l]}
	if ! oa_accepts "$bin" 0 '{}'; then
		echo "bench: ${NOTE[$l]}: --check refuses the basic configuration:" >&2
		cat "$work/check.err" >&2
		exit 1
	fi
	keys=()
	PROCS[$l]=1
	for k in '"workers": 1' "\"max_connections\": $((CONNS + 1024))" '"idle_timeout_s": 600' \
		'"audit_interval_s": 0' '"access_log": "oa-access.log"'; do
		if oa_accepts "$bin" 0 "$(json_object "${keys[@]}" "$k")"; then
			keys+=("$k")
			[ "$k" = '"workers": 1' ] && PROCS[$l]=2
		else
			NOTE[$l]="${NOTE[$l]}; no proxy.${k%%\":*}\""
		fi
	done
	EXTRA[$l]=$(json_object "${keys[@]}")
	if oa_accepts "$bin" 1 "${EXTRA[$l]}"; then
		TLS_OK[$l]=1
	else
		TLS_OK[$l]=0
		NOTE[$l]="${NOTE[$l]}; TLS listener refused: $(head -n1 "$work/check.err")"
	fi
	NOTE[$l]=${NOTE[$l]//\"/}
done

proxy_pid=""
start_proxy() { # oa|base|nginx
	plain_port=$(free_port)
	tls_port=$(free_port)
	local expect
	if [ "$1" = nginx ]; then
		write_ngx_conf
		"${pin_proxy[@]}" nginx -p "$work/nginx-proxy" -c "$work/nginx-proxy/nginx.conf" \
			-g "daemon off;" 2>>"$work/nginx-proxy/logs/stderr" &
		expect=2
	else
		write_oa_conf "${TLS_OK[$1]}" "${EXTRA[$1]}"
		"${pin_proxy[@]}" "${BIN[$1]}" --config "$work/oa.json" 2>>"$work/$1.log" &
		expect=${PROCS[$1]}
	fi
	proxy_pid=$!
	pids+=("$proxy_pid")
	wait_port "$plain_port"
	if [ "$1" = nginx ] || [ "${TLS_OK[$1]}" = 1 ]; then
		wait_port "$tls_port"
	fi
	for _ in $(seq 200); do
		[ "$(tree_count "$proxy_pid")" -ge "$expect" ] && break
		sleep 0.05
	done
	# let its start-up work (an origin audit, ...) finish before the warm-up
	sleep 0.5
}

results=$work/results.jsonl
: >"$results"

measure() { # listener proxy
	local listener=$1 who=$2 port out rc=0
	[ "$who" != nginx ] && [ "$listener" = tls ] && [ "${TLS_OK[$who]}" != 1 ] && return 0
	start_proxy "$who"
	[ "$listener" = tls ] && port=$tls_port || port=$plain_port
	local tls_args=()
	[ "$listener" = tls ] && tls_args=(--tls --ca "$work/root.pem" --sni viewer.bench.test)
	out=$("${pin_rest[@]}" python3 bench/idle_client.py --pid "$proxy_pid" --port "$port" \
		--count "$CONNS" --window "$WINDOW" --warmup "$WARMUP" --settle 1 \
		--path /1k.bin --body-len 1024 "${tls_args[@]}") || rc=$?
	if [ -z "$out" ]; then
		echo "bench: the client failed against $who ($listener), exit $rc" >&2
		tail -n 5 "$work/$who.log" "$work/nginx-proxy/logs/error.log" 2>/dev/null >&2 || true
		exit 1
	fi
	if ! kill -0 "$proxy_pid" 2>/dev/null; then
		echo "bench: $who ($listener) died during the measurement" >&2
		tail -n 5 "$work/$who.log" "$work/nginx-proxy/logs/error.log" 2>/dev/null >&2 || true
		exit 1
	fi

	printf '{"listener": "%s", "who": "%s", "r": %s}\n' "$listener" "$who" "$out" >>"$results"
	stop_pid "$proxy_pid"
}

for listener in plain tls; do
	for who in "${labels[@]}" nginx; do
		measure "$listener" "$who"
	done
done
stop_pid "$origin_pid"

notes=()
for l in "${labels[@]}"; do
	notes+=("$l=${NOTE[$l]}")
done
python3 - "$results" "$CONNS" "$(nginx -v 2>&1 | sed 's/^nginx version: //')" "$pinning" "${notes[@]}" <<'PY'
import json, sys

path, conns, ngx, pinning = sys.argv[1:5]
notes = dict(a.split("=", 1) for a in sys.argv[5:])
rows = [json.loads(line) for line in open(path)]
NAMES = {"oa": "originaudit-proxy", "base": "originaudit-proxy (baseline)", "nginx": ngx}

print(f"idle keep-alive viewer connections: originaudit-proxy vs {ngx} as the same reverse proxy")
print(f"{conns} connections per row, each after one GET /1k.bin (200, 1 KiB, keep-alive), then idle ~1 s;"
      " 1 worker per proxy; RSS = sum of VmRSS over the proxy's processes")
print(f"originaudit-proxy: {notes['oa']}")
if "base" in notes:
    print(f"baseline:          {notes['base']}")
print(f"pinning: {pinning}")
print()
w = max(len(n) for n in NAMES.values())
print(f"{'listener':9}{'proxy':{w + 2}}{'conns':>7}{'procs':>6}{'RSS before':>12}{'RSS after':>12}"
      f"{'KB/conn':>9}{'vs nginx':>10}{'opened in':>11}  TLS")
bad = []
for listener in ("plain", "tls"):
    sel = {r["who"]: r["r"] for r in rows if r["listener"] == listener}
    ngx_kb = None
    if "nginx" in sel:
        n = sel["nginx"]
        ngx_kb = (n["after_kb"] - n["before_kb"]) / n["count"]
    for who in ("oa", "base", "nginx"):
        if who not in sel:
            continue
        r = sel[who]
        per = (r["after_kb"] - r["before_kb"]) / r["count"]
        ratio = f"{per / ngx_kb:.1f}x" if ngx_kb and ngx_kb > 0 else "-"
        print(f"{listener:9}{NAMES[who]:{w + 2}}{r['count']:>7}{len(r['after_procs']):>6}"
              f"{r['before_kb'] / 1024:>10.1f}MB{r['after_kb'] / 1024:>10.1f}MB{per:>9.2f}{ratio:>10}{r['open_s']:>10.1f}s  {r['tls']}".rstrip())
        for p in r["problems"]:
            bad.append(f"{listener} {NAMES[who]}: {p}")
        if len(r["before_procs"]) != len(r["after_procs"]):
            bad.append(f"{listener} {NAMES[who]}: {len(r['before_procs'])} processes before, "
                       f"{len(r['after_procs'])} after")
print()
print("KB/conn = (RSS after - RSS before) / connections, in KiB; vs nginx = KB/conn over nginx's on the same listener.")
print("nginx's RSS before includes its connection table (worker_connections slots), allocated at start-up.")
print("Goal (issue): at most 2 KB per idle connection.")
if bad:
    print()
    for b in bad:
        print("bench: FAILED: " + b)
    sys.exit(1)
PY
