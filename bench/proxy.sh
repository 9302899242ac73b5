#!/usr/bin/env bash
# Benchmark of originaudit-proxy against nginx as the same verifying reverse
# proxy, in front of one HTTPS origin on loopback, in one run.
#
#   bench/proxy.sh [DURATION] [CONNECTIONS] [WORKERS] [BUILD_DIR]
#
# DURATION (default 10) seconds of `wrk --latency` with CONNECTIONS (default 64)
# keep-alive viewer connections, per proxy and per file; WORKERS (default 1)
# worker processes for each proxy (nginx `worker_processes`, originaudit-proxy
# `proxy.workers`; a build without `proxy.workers` is one process and only runs
# with WORKERS=1). BUILD_DIR (default $OA_BUILD_DIR, else build-bench) is the
# meson build directory whose proxy/originaudit-proxy is measured; it is set up
# (release) and built when the binary is missing.
#
# Before/after in one run: with OA_BASELINE_BUILD_DIR=DIR (a meson build
# directory of another tree, e.g. HEAD before a change; built with ninja when
# its binary is missing) every figure is also measured for DIR's
# originaudit-proxy, back to back with the others, under the same
# configuration keys when it accepts them. The tables then get a "baseline"
# column and the ratios baseline/nginx ("base/ngx") and originaudit/baseline
# ("oa/base"). The order alternates so neither build always runs first:
# originaudit, baseline, nginx for 1 KiB; baseline, originaudit, nginx for
# 100 KiB.
#
#   OA_BASELINE_BUILD_DIR=/tmp/build-head bench/proxy.sh 10 64 1 /tmp/build-fix
#
# The origin is a separate nginx serving a 1 KiB and a 100 KiB static file
# over TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256) with a chain from a generated
# private root and intermediate; its responses carry no Cache-Control and no
# Expires, so neither proxy caches and every request goes to the origin (the
# script checks this with the origin's request counter). Both proxies verify
# the chain against that root and the name origin.bench.test (nginx:
# proxy_ssl_verify, proxy_ssl_trusted_certificate, proxy_ssl_server_name,
# proxy_ssl_name), speak HTTP/1.1 to the origin, resume TLS sessions, add
# X-Forwarded-For, Via and a request id, and log every request to a file
# (nginx: access_log; originaudit-proxy: proxy.access_log when the build has
# it, plus the request line it always writes to stderr, which goes to a file).
#
# Two passes:
#   keep-alive  the origin keeps connections open; nginx has an upstream
#               `keepalive` pool, originaudit-proxy its per-origin idle pool.
#   fresh       the origin has `keepalive_timeout 0` (it answers with
#               Connection: close), nginx has no upstream keepalive: every
#               request pays for a new TCP connection and TLS handshake (a
#               resumed session where the proxy offers one). originaudit-proxy
#               cannot turn its pool off (keepalive_timeout_s is 1-120).
#
# Pinning (taskset): of the CPUs this script may use, the first WORKERS run the
# proxy being measured (each proxy in turn, never both at once); the others run
# the origin nginx (one worker per CPU) and wrk (one thread per CPU). With fewer
# than WORKERS + 1 CPUs nothing is pinned and the output says so. Each proxy is
# started fresh for every measurement, warmed up for 1 s, then measured; peak
# RSS is the sum of VmHWM over its processes (master/supervisor + workers) and
# CPU is their utime + stime during the measured run.
#
# Runs as root (nginx starts as root and drops its workers to www-data). Needs
# nginx, wrk, openssl and curl (installed with apt-get when missing). Work files
# live in a mktemp -d directory that is removed on exit (BENCH_KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

DURATION=${1:-10}
CONNS=${2:-64}
WORKERS=${3:-1}
BUILD_DIR=${4:-${OA_BUILD_DIR:-build-bench}}

for v in DURATION CONNS WORKERS; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "bench: $v must be a positive integer, got '${!v}'" >&2
		echo "usage: bench/proxy.sh [DURATION] [CONNECTIONS] [WORKERS] [BUILD_DIR]" >&2
		exit 2
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (nginx is started as root and drops to www-data)" >&2
	exit 2
fi

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x "$BUILD_DIR/proxy/originaudit-proxy" ]; then
	[ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR" --buildtype=release >/dev/null
	ninja -C "$BUILD_DIR" proxy/originaudit-proxy >/dev/null
fi
PROXY=$(cd "$BUILD_DIR" && pwd)/proxy/originaudit-proxy
build_type() {
	local t
	t=$(sed -n 's/^ *buildtype *= *//p' "$1/meson-private/cmd_line.txt" 2>/dev/null | head -n1)
	echo "${t:-default}"
}
buildtype=$(build_type "$BUILD_DIR")

# The optional baseline build (see the header).
BASE_DIR=${OA_BASELINE_BUILD_DIR:-}
PROXY_BASE=""
base_build=""
if [ -n "$BASE_DIR" ]; then
	if [ ! -x "$BASE_DIR/proxy/originaudit-proxy" ]; then
		if [ ! -f "$BASE_DIR/build.ninja" ]; then
			echo "bench: OA_BASELINE_BUILD_DIR=$BASE_DIR has no proxy/originaudit-proxy and no build.ninja" >&2
			exit 2
		fi
		ninja -C "$BASE_DIR" proxy/originaudit-proxy >/dev/null
	fi
	PROXY_BASE=$(cd "$BASE_DIR" && pwd)/proxy/originaudit-proxy
	base_build="$BASE_DIR ($(build_type "$BASE_DIR"))"
fi

bench_work oa-bench-proxy

# ---- CPUs -------------------------------------------------------------------
mapfile -t cpus < <(python3 -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))')
if [ "${#cpus[@]}" -gt "$WORKERS" ]; then
	proxy_cpus=$(IFS=,; echo "${cpus[*]:0:$WORKERS}")
	rest_cpus=$(IFS=,; echo "${cpus[*]:$WORKERS}")
	n_rest=$((${#cpus[@]} - WORKERS))
	pin_proxy=(taskset -c "$proxy_cpus")
	pin_rest=(taskset -c "$rest_cpus")
	pinning="proxy under test on CPU $proxy_cpus; origin nginx ($n_rest worker(s)) and wrk ($n_rest thread(s)) on CPU $rest_cpus"
else
	n_rest=${#cpus[@]}
	pin_proxy=()
	pin_rest=()
	pinning="NOT pinned: $WORKERS worker(s) need at least $((WORKERS + 1)) CPUs, ${#cpus[@]} available"
fi
WRK_THREADS=$((n_rest < CONNS ? n_rest : CONNS))

# ---- PKI: root -> intermediate -> origin.bench.test (ECDSA P-256) ---------------
bench_pki "$work" "Bench Proxy" origin

# nginx workers run as www-data: they need to reach the static files and the
# temp directories; keys and certificates are read by the master (root).
chmod 711 "$work"
mkdir -p "$work/www"
head -c 1024 /dev/urandom >"$work/www/1k.bin"
head -c 102400 /dev/urandom >"$work/www/100k.bin"
chmod 755 "$work/www"
chmod 644 "$work/www/"*.bin
for d in origin nginx-proxy; do
	mkdir -p "$work/$d/logs" "$work/$d/tmp"
	chown www-data "$work/$d/tmp"
done

origin_port=$(free_port)
status_port=$(free_port)
oa_port=$(free_port)
ngx_port=$(free_port)




# ---- the origin -----------------------------------------------------------------
# keepalive_requests is raised so that neither proxy's origin connections are
# closed after nginx's default 1000 requests.
write_origin_conf() {
	local keepalive=$1
	cat >"$work/origin/nginx.conf" <<NGINX
user www-data;
worker_processes $n_rest;
pid $work/origin/nginx.pid;
error_log $work/origin/logs/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout $keepalive;
    keepalive_requests 1000000;
    $(temp_paths "$work/origin/tmp")
    types { application/octet-stream bin; }
    server {
        listen 127.0.0.1:$origin_port ssl backlog=4096;
        server_name origin.bench.test;
        ssl_certificate $work/origin-chain.pem;
        ssl_certificate_key $work/origin.key;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
        ssl_session_cache shared:SSL:10m;
        root $work/www;
        location / { }
    }
    server {
        listen 127.0.0.1:$status_port;
        location / { stub_status; }
    }
}
NGINX
}

origin_pid=""
start_origin() {
	write_origin_conf "$1"
	"${pin_rest[@]}" nginx -p "$work/origin" -c "$work/origin/nginx.conf" -g "daemon off;" \
		2>>"$work/origin/logs/stderr" &
	origin_pid=$!
	pids+=("$origin_pid")
	wait_port "$origin_port"
	wait_port "$status_port"
}

# Prints "accepts requests" of the origin's stub_status.
origin_counters() {
	curl -sS "http://127.0.0.1:$status_port/" | awk 'NR == 3 { print $1, $3 }'
}

# ---- the proxies --------------------------------------------------------------------
write_ngx_conf() {
	local upstream_keepalive=$1
	cat >"$work/nginx-proxy/nginx.conf" <<NGINX
user www-data;
worker_processes $WORKERS;
pid $work/nginx-proxy/nginx.pid;
error_log $work/nginx-proxy/logs/error.log warn;
events { worker_connections 8192; }
http {
    access_log $work/nginx-proxy/logs/access.log;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    $(temp_paths "$work/nginx-proxy/tmp")
    upstream origin {
        server 127.0.0.1:$origin_port;
        $upstream_keepalive
    }
    server {
        listen 127.0.0.1:$ngx_port backlog=4096;
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
            # stream like originaudit-proxy (at most 256 KiB in flight), never to disk
            proxy_buffers 16 16k;
            proxy_max_temp_file_size 0;
        }
    }
}
NGINX
}

# originaudit-proxy's configuration. The operations keys of
# docs/proxy-operations.md are used when this build accepts them (each is tried
# with --check): "workers", and "access_log" to a file, so that it logs every
# request to a file as nginx does.
write_oa_conf() { # extra "proxy" keys as a JSON object, [configuration file]
	python3 - "$origin_port" "$oa_port" "$1" >"${2:-$work/oa.json}" <<'PY'
import json, sys
origin_port, port, extra = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
proxy = {"listen": [{"address": "127.0.0.1", "port": port}], "ca_bundle": "root.pem"}
proxy.update(extra)
print(json.dumps({
    "origins": [{"id": "origin", "domain_name": "origin.bench.test", "https_port": origin_port,
                 "addresses": ["127.0.0.1"], "ssl_protocols": ["TLSv1.2"], "keepalive_timeout_s": 5}],
    "default_behavior": {"origin": "origin", "viewer_protocol_policy": "allow-all"},
    "proxy": proxy,
}, indent=1))
PY
}
oa_accepts() { # extra keys [binary] [configuration file] -> 0 when --check accepts them
	write_oa_conf "$1" "${3:-$work/oa.json}"
	"${2:-$PROXY}" --check --config "${3:-$work/oa.json}" >/dev/null 2>"$work/check.err"
}
# Finds the operations keys binary $1 accepts and writes its configuration to
# $2 (access log $3); sets probe_procs and probe_note.
probe_oa() {
	local bin=$1 conf=$2 log=$3 keys=()
	if ! oa_accepts '{}' "$bin" "$conf"; then
		cat "$work/check.err" >&2
		exit 1
	fi
	probe_procs=1
	probe_note="one process: this build has no proxy.workers"
	if oa_accepts "{\"workers\": $WORKERS}" "$bin" "$conf"; then
		keys+=("\"workers\": $WORKERS")
		probe_procs=$((WORKERS + 1))
		probe_note="supervisor + proxy.workers $WORKERS"
	elif [ "$WORKERS" -ne 1 ]; then
		echo "bench: $bin does not accept proxy.workers $WORKERS; run with WORKERS=1" >&2
		sed 's/^/bench:   /' "$work/check.err" >&2
		exit 1
	fi
	if oa_accepts "$(json_object "${keys[@]}" "\"access_log\": \"$log\"")" "$bin" "$conf"; then
		keys+=("\"access_log\": \"$log\"")
		probe_note="$probe_note; access_log and stderr to files"
	else
		probe_note="$probe_note; no proxy.access_log: its per-request stderr line goes to a file"
	fi
	oa_accepts "$(json_object "${keys[@]}")" "$bin" "$conf" || { cat "$work/check.err" >&2; exit 1; }
}
probe_oa "$PROXY" "$work/oa.json" oa-access.log
oa_procs=$probe_procs
oa_note=$probe_note
base_procs=0
base_note=""
if [ -n "$PROXY_BASE" ]; then
	probe_oa "$PROXY_BASE" "$work/base.json" base-access.log
	base_procs=$probe_procs
	base_note=$probe_note
fi

proxy_pid=""
start_proxy() { # oa|base|nginx keepalive|fresh
	if [ "$1" = oa ] || [ "$1" = base ]; then
		local bin=$PROXY
		[ "$1" = base ] && bin=$PROXY_BASE
		"${pin_proxy[@]}" "$bin" --config "$work/$1.json" 2>>"$work/$1.log" &
		proxy_pid=$!
		pids+=("$proxy_pid")
		wait_port "$oa_port"
	else
		if [ "$2" = keepalive ]; then
			write_ngx_conf "keepalive $CONNS; keepalive_requests 1000000; keepalive_timeout 5s;"
		else
			write_ngx_conf ""
		fi
		"${pin_proxy[@]}" nginx -p "$work/nginx-proxy" -c "$work/nginx-proxy/nginx.conf" \
			-g "daemon off;" 2>>"$work/nginx-proxy/logs/stderr" &
		proxy_pid=$!
		pids+=("$proxy_pid")
		wait_port "$ngx_port"
	fi
	# Every worker must be up before the measurement.
	for _ in $(seq 200); do
		[ "$(tree_pids "$proxy_pid" | wc -l)" -ge "$expect_procs" ] && break
		sleep 0.05
	done
}

# The proxy's processes: the one we started and its children (the workers).
tree_pids() {
	echo "$1"
	pgrep -P "$1" || true
}

# Sum of utime+stime (clock ticks) over the tree.
tree_ticks() {
	local t=0 p
	for p in $(tree_pids "$1"); do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
	done
	echo "$t"
}

# Sum of VmHWM (kB) over the tree.
tree_hwm() {
	local k=0 p
	for p in $(tree_pids "$1"); do
		[ -r "/proc/$p/status" ] || continue
		k=$((k + $(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status")))
	done
	echo "$k"
}

# One request through the proxy: 200, the exact body, not cached (twice).
check_proxy() { # name port file
	local i
	for i in 1 2; do
		if ! curl -sS -o "$work/check.body" -D "$work/check.head" "http://127.0.0.1:$2/$3" ||
			! head -n1 "$work/check.head" | grep -q ' 200' ||
			! cmp -s "$work/check.body" "$work/www/$3"; then
			echo "bench: $1 did not return /$3 intact:" >&2
			cat "$work/check.head" >&2
			tail -n 5 "$work/$1.log" "$work/nginx-proxy/logs/error.log" >&2 2>/dev/null || true
			exit 1
		fi
		if [ "$1" != nginx ] && ! grep -qi '^X-Cache: Miss' "$work/check.head"; then
			echo "bench: $1 originaudit-proxy did not forward /$3 to the origin:" >&2
			cat "$work/check.head" >&2
			exit 1
		fi
	done
}

# Busy and total jiffies of a CPU list ("0,1") from /proc/stat: only to tell
# whether something else loads the machine before the run. (During the runs,
# CPU time comes from the processes' own accounting: tick-sampled /proc/stat
# misses work that is phase-locked to the timer tick, such as wake-ups by
# delayed-ACK timers.)
cpu_jiffies() {
	awk -v list="$1" 'BEGIN { n = split(list, l, ","); for (i = 1; i <= n; i++) want["cpu" l[i]] = 1 }
		$1 in want { for (i = 2; i <= NF; i++) { t += $i; if (i != 5 && i != 6) b += $i } }
		END { print b + 0, t + 0 }' /proc/stat
}
all_cpus=$(IFS=,; echo "${cpus[*]}")
n_proxy_cpus=$WORKERS
[ "${#pin_proxy[@]}" -gt 0 ] || n_proxy_cpus=${#cpus[@]}

# wrk, reaped by a shell that then reads its children's CPU time (cutime +
# cstime) from its own /proc entry into OUT.ticks.
cat >"$work/wrk.sh" <<'SH'
#!/bin/sh
out=$1
shift
wrk "$@" >"$out" || exit $?
awk '{ sub(/^.*\) /, ""); print $14 + $15 }' /proc/$$/stat >"$out.ticks"
SH

CLK_TCK=$(getconf CLK_TCK)
results=$work/results.tsv
: >"$results"

measure() { # mode proxy file
	local mode=$1 who=$2 file=$3 port t0 t1 o0 o1 c0 c1 hwm out
	[ "$who" = nginx ] && port=$ngx_port || port=$oa_port
	start_proxy "$who" "$mode"
	check_proxy "$who" "$port" "$file"
	"${pin_rest[@]}" wrk -t "$WRK_THREADS" -c "$CONNS" -d 1s "http://127.0.0.1:$port/$file" >/dev/null
	c0=$(origin_counters)
	t0=$(tree_ticks "$proxy_pid")
	o0=$(tree_ticks "$origin_pid")
	out=$work/wrk.$mode.$who.$file.out
	"${pin_rest[@]}" sh "$work/wrk.sh" "$out" -t "$WRK_THREADS" -c "$CONNS" -d "${DURATION}s" --latency \
		"http://127.0.0.1:$port/$file"
	t1=$(tree_ticks "$proxy_pid")
	o1=$(tree_ticks "$origin_pid")
	c1=$(origin_counters)
	hwm=$(tree_hwm "$proxy_pid")
	local nprocs
	nprocs=$(tree_pids "$proxy_pid" | wc -l)
	stop_pid "$proxy_pid"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$who" "$file" "$out" \
		"$((t1 - t0))" "$hwm" "$c0" "$c1" "$nprocs" "$((o1 - o0 + $(cat "$out.ticks")))" >>"$results"
}

# Other load on the machine makes every figure noisy: measure it for a second.
load0=$(cpu_jiffies "$all_cpus")
sleep 1
load1=$(cpu_jiffies "$all_cpus")

for mode in keepalive fresh; do
	if [ "$mode" = keepalive ]; then start_origin 75s; else start_origin 0; fi
	# The origin answers directly, over TLS with the chain, without cache headers.
	for f in 1k.bin 100k.bin; do
		curl -sS --cacert "$work/root.pem" --resolve "origin.bench.test:$origin_port:127.0.0.1" \
			-o /dev/null -D "$work/origin.head" "https://origin.bench.test:$origin_port/$f"
		if grep -qiE '^(Cache-Control|Expires):' "$work/origin.head"; then
			echo "bench: the origin sends cache headers for /$f" >&2
			exit 1
		fi
	done
	for f in 1k.bin 100k.bin; do
		order=(oa)
		if [ -n "$PROXY_BASE" ]; then
			[ "$f" = 1k.bin ] && order=(oa base) || order=(base oa)
		fi
		for who in "${order[@]}"; do
			[ "$who" = oa ] && expect_procs=$oa_procs || expect_procs=$base_procs
			measure "$mode" "$who" "$f"
		done
		expect_procs=$((WORKERS + 1))
		measure "$mode" nginx "$f"
	done
	stop_pid "$origin_pid"
done

python3 - "$results" "$DURATION" "$CONNS" "$WORKERS" "$CLK_TCK" "$pinning" "$oa_note" \
	"$(nginx -v 2>&1 | sed 's/^nginx version: //')" "$BUILD_DIR ($buildtype)" "$WRK_THREADS" "$load0" "$load1" \
	"$n_proxy_cpus" "$n_rest" "$base_build" "$base_note" <<'PY'
import re, sys

(path, duration, conns, workers, clk, pinning, oa_note, ngx_version, build, threads, load0, load1,
 n_proxy, n_rest, base_build, base_note) = sys.argv[1:]
base = bool(base_build)
NAMES = {"oa": "originaudit-proxy", "base": "baseline originaudit-proxy", "nginx": "nginx"}
duration, clk, n_proxy, n_rest = float(duration), int(clk), int(n_proxy), int(n_rest)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}

def ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * UNITS[m.group(2)]

def parse_wrk(out):
    text = open(out).read()
    r = {}
    r["rps"] = float(re.search(r"Requests/sec:\s*([0-9.]+)", text).group(1))
    r["requests"] = int(re.search(r"(\d+) requests in", text).group(1))
    for pct in ("50", "99"):
        r["p" + pct] = ms(re.search(r"^\s*" + pct + r"%\s+(\S+)", text, re.M).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["errors"] = sum(map(int, m.groups())) if m else 0
    return r

rows = {}
bad = []
for line in open(path):
    mode, who, f, out, ticks, hwm, c0, c1, nprocs, rest_ticks = line.rstrip("\n").split("\t")
    r = parse_wrk(out)
    a0, q0 = map(int, c0.split())
    a1, q1 = map(int, c1.split())
    r["cpu_s"] = int(ticks) / clk
    r["rss_mb"] = int(hwm) / 1024
    r["origin_conns"] = a1 - a0
    # the counter also counts the one status request
    r["origin_reqs"] = q1 - q0 - 1
    r["nprocs"] = int(nprocs)
    r["rest_s"] = int(rest_ticks) / clk
    rows[(mode, who, f)] = r
    name = NAMES[who]
    if r["non2xx"] or r["errors"]:
        bad.append(f"{mode} {name} /{f}: {r['non2xx']} non-2xx responses, {r['errors']} socket errors")
    if r["origin_reqs"] < r["requests"]:
        bad.append(f"{mode} {name} /{f}: {r['requests']} responses but only {r['origin_reqs']} origin requests")

print(f"originaudit-proxy vs nginx {ngx_version}, both verifying the origin's chain, on loopback")
print(f"wrk: {conns} keep-alive connections, {threads} thread(s), {duration:g} s per figure (after 1 s warm-up)")
print(f"workers: {workers} per proxy; originaudit-proxy: {oa_note}; nginx: master + {workers} worker(s), access_log to a file")
if base:
    print(f"baseline originaudit-proxy: {base_note}")
whos = ("oa", "base", "nginx") if base else ("oa", "nginx")
procs = {who: sorted({r["nprocs"] for (m, w, f), r in rows.items() if w == who}) for who in whos}
print("processes seen per run: " + ", ".join(f"{NAMES[w]} {'/'.join(map(str, procs[w]))}" for w in whos))
print(f"origin: nginx, TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256, root + intermediate, no cache headers")
print(f"pinning: {pinning}")
print(f"build: {build}")
if base:
    print(f"baseline build: {base_build}")
(b0, t0), (b1, t1) = map(int, load0.split()), map(int, load1.split())
idle_load = (b1 - b0) / (t1 - t0) * 100 if t1 > t0 else 0
if idle_load > 5:
    print(f"WARNING: the CPUs were {idle_load:.0f}% busy before the benchmark started (other processes): figures are noisy")

def fmt(v, kind):
    if kind == "rps":
        return f"{v:.0f}"
    if kind in ("p50", "p99"):
        return f"{v:.2f}ms" if v < 100 else f"{v:.0f}ms"
    if kind == "rss_mb":
        return f"{v:.1f}MB"
    if kind == "cpu_req":
        return f"{v:.1f}us"
    if kind in ("busy", "rcpu"):
        return f"{v:.0f}%"
    return str(v)

LABELS = [("rps", "requests/s"), ("p50", "p50 latency"), ("p99", "p99 latency"),
          ("rss_mb", "peak RSS (sum of processes)"), ("cpu_req", "proxy CPU per request"),
          ("busy", f"proxy CPU busy (of {n_proxy} CPU{'s' * (n_proxy > 1)})"),
          ("rcpu", f"origin+wrk CPU busy (of {n_rest} CPU{'s' * (n_rest > 1)})"),
          ("origin_conns", "origin connections opened")]
TITLES = {"keepalive": "keep-alive toward the origin",
          "fresh": "fresh origin connection per request (origin: keepalive_timeout 0)"}
SIZES = {"1k.bin": "1 KiB", "100k.bin": "100 KiB"}
for mode in ("keepalive", "fresh"):
    print()
    print(TITLES[mode])
    if base:
        print(f"{'':8}{'':30}{'originaudit':>13}{'baseline':>11}{'nginx':>11}{'ratio':>8}{'base/ngx':>10}{'oa/base':>9}")
    else:
        print(f"{'':8}{'':30}{'originaudit':>13}{'nginx':>11}{'ratio':>8}")
    for f in ("1k.bin", "100k.bin"):
        o, n = rows[(mode, "oa", f)], rows[(mode, "nginx", f)]
        b = rows[(mode, "base", f)] if base else None
        for r in (o, n, b):
            if r is None:
                continue
            r["cpu_req"] = r["cpu_s"] / r["requests"] * 1e6 if r["requests"] else 0
            r["busy"] = r["cpu_s"] / duration / n_proxy * 100
            r["rcpu"] = r["rest_s"] / duration / n_rest * 100
        first = True
        for key, label in LABELS:
            def rt(x, y):
                if key in ("origin_conns", "rcpu"):
                    return ""
                return f"{x[key] / y[key]:.2f}" if y[key] else "-"
            if base:
                print(f"{SIZES[f] if first else '':8}{label:30}{fmt(o[key], key):>13}{fmt(b[key], key):>11}"
                      f"{fmt(n[key], key):>11}{rt(o, n):>8}{rt(b, n):>10}{rt(o, b):>9}")
            else:
                print(f"{SIZES[f] if first else '':8}{label:30}{fmt(o[key], key):>13}{fmt(n[key], key):>11}{rt(o, n):>8}")
            first = False
print()
print("ratio = originaudit / nginx: above 1 is better for requests/s, worse for the others.")
if base:
    print("base/ngx = baseline / nginx; oa/base = originaudit / baseline (the change's effect), read the same way.")
if bad:
    print()
    for b in bad:
        print("bench: " + b)
    sys.exit(1)
PY
