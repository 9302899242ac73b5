#!/usr/bin/env bash
# Benchmark of `originaudit serve` (the Prometheus exporter) side by side with
# Prometheus' blackbox_exporter probing the same TLS origin, in one run.
#
#   bench/exporter.sh [N] [C] [K] [BUILD_DIR]
#
# The origin is nginx on 127.0.0.1 (a free port) serving a chain from a
# generated PKI: root -> intermediate -> leaf origin.bench.test (ECDSA P-256),
# TLS 1.2 only (ECDHE-ECDSA-AES128-GCM-SHA256), no session cache and no
# tickets, so that every probe of either exporter is one full handshake.
#
#   originaudit serve   --config with K (default 200) origins o0..o{K-1}, all
#                       origin.bench.test on nginx's port, reached through
#                       --resolve origin.bench.test:PORT:127.0.0.1; scan.ca_bundle
#                       is the generated root; --max-probes C (at most 64);
#                       --interval 86400, so the scan at start-up is the only
#                       scheduled one. A probe is
#                       /probe?target=origin.bench.test:PORT&name=o0 (one origin:
#                       one handshake and the certificate checks).
#   blackbox_exporter   (Debian's prometheus-blackbox-exporter, installed with
#                       apt-get when missing, behind a policy-rc.d that keeps its
#                       system service from starting; this script runs its own
#                       instance on a free port with its own configuration) with
#                       a module tls_connect: prober tcp, tls: true, tls_config
#                       ca_file = the generated root, server_name
#                       origin.bench.test, min_version TLS12. A probe is
#                       /probe?module=tls_connect&target=127.0.0.1:PORT.
#
# Measured, for each exporter in turn (never both loaded at once):
#   probes, sequential  N (default 2000) /probe requests on one keep-alive
#                       connection, one at a time;
#   probes, concurrent  N /probe requests over C (default 4, originaudit's
#                       --max-probes default) keep-alive connections, C in flight;
#                       each row: requests/s, p50/p99 latency, the exporter's CPU
#                       time per request (utime+stime from /proc), new TLS
#                       connections nginx accepted per request (stub_status, 1.00
#                       when every probe is one handshake), and errors: 429s
#                       (originaudit's --max-probes refusals) apart from other
#                       failures (another status, a socket error, or a 200 whose
#                       probe_success is not 1);
#   scrape /metrics     SCRAPE seconds (BENCH_SCRAPE_SECONDS, default 5) of wrk
#                       with C connections: originaudit's /metrics after its
#                       scheduled scan of the K origins (checked complete in
#                       /report.json first) against blackbox's /metrics (its
#                       own process metrics): requests/s, p99, response size;
#   RSS                 VmHWM (peak) and VmRSS of each exporter process at the end.
# originaudit serve closes the connection after each response (Connection:
# close): its clients pay one TCP connect per request, blackbox's keep alive.
# Every measurement is preceded by a short warm-up (BENCH_WARMUP requests,
# default 20). The probe client is python3 (threads, http.client, exact request
# counts); the scrape client is wrk with a Lua script that counts statuses.
#
# Pinning (taskset), as bench/scan.sh: the exporter being measured runs on the
# first CPU this script may use (blackbox_exporter's Go runtime then has
# GOMAXPROCS 1; originaudit serve is one libuv loop), nginx and the clients on
# the others. With a single CPU nothing is pinned and the output says so.
#
# BUILD_DIR (default $OA_BUILD_DIR, else build-bench) is the meson build
# directory whose scanner/originaudit is measured; it is set up (release) and
# built when the binary is missing. BENCH_BIN=path runs another binary instead.
# Runs as root (apt-get, nginx). Needs nginx, wrk, openssl, curl, python3 and
# prometheus-blackbox-exporter (installed with apt-get when missing). Work files
# live in a mktemp -d directory removed on exit (BENCH_KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

N=${1:-2000}
C=${2:-4}
K=${3:-200}
BUILD_DIR=${4:-${OA_BUILD_DIR:-build-bench}}
SCRAPE=${BENCH_SCRAPE_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-20}

for v in N C K SCRAPE WARMUP; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "bench: $v must be a positive integer, got '${!v}'" >&2
		echo "usage: bench/exporter.sh [N] [C] [K] [BUILD_DIR]" >&2
		exit 2
	fi
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (apt-get, nginx)" >&2
	exit 2
fi

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
command -v prometheus-blackbox-exporter >/dev/null || need+=(prometheus-blackbox-exporter)
if [ "${#need[@]}" -gt 0 ]; then
	# Packages with a system service (nginx, blackbox_exporter) must not start
	# it: the same guard as scripts/install-deps.
	own_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		own_policy=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	fi
	if [ "$own_policy" = 1 ]; then
		rm -f /usr/sbin/policy-rc.d
	fi
fi

BIN=${BENCH_BIN:-}
if [ -z "$BIN" ]; then
	if [ ! -x "$BUILD_DIR/scanner/originaudit" ]; then
		[ -f "$BUILD_DIR/build.ninja" ] || meson setup "$BUILD_DIR" --buildtype=release >/dev/null
		ninja -C "$BUILD_DIR" scanner/originaudit >/dev/null
	fi
	BIN=$(cd "$BUILD_DIR" && pwd)/scanner/originaudit
	oa_label="$BUILD_DIR ($(sed -n 's/^ *buildtype *= *//p' "$BUILD_DIR/meson-private/cmd_line.txt" 2>/dev/null | head -n1))"
else
	oa_label=$BIN
fi
BB=$(command -v prometheus-blackbox-exporter)
bb_version=$("$BB" --version 2>&1 | head -n1 | sed 's/^blackbox_exporter, version //; s/ (.*//')
MAXP=$((C < 64 ? C : 64))

bench_work oa-bench-exporter

# ---- CPUs -------------------------------------------------------------------------
mapfile -t cpus < <(python3 -c 'import os; print("\n".join(map(str, sorted(os.sched_getaffinity(0)))))')
if [ "${#cpus[@]}" -ge 2 ]; then
	rest_cpus=$(IFS=,; echo "${cpus[*]:1}")
	pin_x=(taskset -c "${cpus[0]}")
	pin_rest=(taskset -c "$rest_cpus")
	pinning="exporter under test on CPU ${cpus[0]}; origin nginx and the clients on CPU $rest_cpus"
else
	pin_x=()
	pin_rest=()
	pinning="NOT pinned: one CPU"
fi

# ---- the origin -------------------------------------------------------------------
bench_pki "$work" "Bench Exporter" origin
origin_port=$(free_port)
status_port=$(free_port)
oa_port=$(free_port)
bb_port=$(free_port)
mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    $(temp_paths "$work/nginx/tmp")
    server {
        listen 127.0.0.1:$origin_port ssl backlog=4096;
        server_name origin.bench.test;
        ssl_certificate $work/origin-chain.pem;
        ssl_certificate_key $work/origin.key;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:$status_port;
        location / { stub_status; }
    }
}
NGINX
"${pin_rest[@]}" nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g "daemon off;" \
	2>>"$work/nginx/logs/stderr" &
pids+=($!)
wait_port "$origin_port"
wait_port "$status_port"

# ---- the exporters ------------------------------------------------------------------
python3 - "$K" "$origin_port" "$work/root.pem" >"$work/oa.json" <<'PY'
import json, sys
k, port, bundle = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print(json.dumps({
    "origins": [{"id": f"o{i}", "domain_name": "origin.bench.test", "https_port": port}
                for i in range(k)],
    "scan": {"ca_bundle": bundle},
}, indent=1))
PY
cat >"$work/blackbox.yml" <<YAML
modules:
  tls_connect:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
      tls: true
      tls_config:
        ca_file: $work/root.pem
        server_name: origin.bench.test
        min_version: TLS12
YAML

"${pin_x[@]}" "$BIN" serve --config "$work/oa.json" \
	--resolve "origin.bench.test:$origin_port:127.0.0.1" --listen "127.0.0.1:$oa_port" \
	--interval 86400 --max-probes "$MAXP" 2>"$work/oa.log" &
oa_pid=$!
pids+=("$oa_pid")
"${pin_x[@]}" "$BB" --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
	2>"$work/blackbox.log" &
bb_pid=$!
pids+=("$bb_pid")
wait_port "$oa_port"
wait_port "$bb_port"

# The scheduled scan at start-up: every one of the K origins in the report, passing.
scan_ok=0
for _ in $(seq 600); do
	if curl -sf "http://127.0.0.1:$oa_port/report.json" -o "$work/report.json" 2>/dev/null &&
		python3 - "$K" "$work/report.json" <<'PY'; then
import json, sys
s = json.load(open(sys.argv[2]))["summary"]
sys.exit(0 if s["origins"] == int(sys.argv[1]) and s["pass"] == int(sys.argv[1]) else 1)
PY
		scan_ok=1
		break
	fi
	sleep 0.1
done
if [ "$scan_ok" != 1 ]; then
	echo "bench: originaudit serve's scan of $K origins did not complete with every origin passing" >&2
	tail -n 5 "$work/oa.log" >&2
	exit 1
fi

OA_PROBE="http://127.0.0.1:$oa_port/probe?target=origin.bench.test:$origin_port&name=o0"
BB_PROBE="http://127.0.0.1:$bb_port/probe?module=tls_connect&target=127.0.0.1:$origin_port"

# ---- clients ------------------------------------------------------------------------
# The probe client: exactly COUNT GETs of URL over CONC keep-alive connections
# (one thread each); a 200 counts as ok only when its body matches SUCCESS_RE.
cat >"$work/probe_client.py" <<'PY'
import http.client, json, re, sys, threading, time, urllib.parse

url, count, conc, success = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), re.compile(sys.argv[4].encode(), re.M)
u = urllib.parse.urlsplit(url)
path = u.path + ("?" + u.query if u.query else "")
lock = threading.Lock()
left = [count]
lat, stats = [], {"ok": 0, "s429": 0, "failed_probe": 0, "other_status": 0, "socket_errors": 0, "bytes": 0}

def worker():
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    mine, st = [], dict.fromkeys(stats, 0)
    while True:
        with lock:
            if left[0] == 0:
                break
            left[0] -= 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            st["socket_errors"] += 1
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            continue
        mine.append(time.perf_counter() - t0)
        st["bytes"] += len(body)
        if r.status == 200:
            st["ok" if success.search(body) else "failed_probe"] += 1
        elif r.status == 429:
            st["s429"] += 1
        else:
            st["other_status"] += 1
    conn.close()
    with lock:
        lat.extend(mine)
        for k, v in st.items():
            stats[k] += v

threads = [threading.Thread(target=worker) for _ in range(conc)]
t0 = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - t0
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e3 if lat else 0
print(json.dumps(dict(stats, requests=count, seconds=wall, rps=count / wall,
                      p50_ms=pct(50), p99_ms=pct(99))))
PY
# The scrape client: wrk, statuses counted per thread.
cat >"$work/count.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok, other = 0, 0 end
function response(status, headers, body)
	if status == 200 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
	local o, x = 0, 0
	for _, t in ipairs(threads) do o = o + t:get("ok"); x = x + t:get("other") end
	local e = summary.errors
	io.write(string.format('{"requests": %d, "seconds": %.6f, "ok": %d, "other_status": %d, '
		.. '"socket_errors": %d, "p50_ms": %.3f, "p99_ms": %.3f}\n', summary.requests,
		summary.duration / 1e6, o, x, e.connect + e.read + e.write + e.timeout,
		latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
LUA

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
accepts() { curl -sS "http://127.0.0.1:$status_port/" | awk 'NR == 3 { print $1 }'; }
alive() {
	if ! kill -0 "$2" 2>/dev/null; then
		echo "bench: $1 died" >&2
		tail -n 5 "$work/oa.log" "$work/blackbox.log" >&2
		exit 1
	fi
}

# Seconds of CPU (utime+stime) process $1 used since it had $2 ticks.
cpu_since() { awk -v a="$(ticks "$1")" -v b="$2" -v hz="$hz" 'BEGIN { printf "%.3f", (a - b) / hz }'; }

results=$work/results.jsonl
: >"$results"
hz=$(getconf CLK_TCK)

probe_run() { # who pid url success_re conc
	local who=$1 pid=$2 url=$3 re=$4 conc=$5 t0 a0 out
	"${pin_rest[@]}" python3 "$work/probe_client.py" "$url" "$WARMUP" "$conc" "$re" >/dev/null
	t0=$(ticks "$pid")
	a0=$(accepts)
	out=$("${pin_rest[@]}" python3 "$work/probe_client.py" "$url" "$N" "$conc" "$re")
	alive "$who" "$pid"
	printf '{"kind": "probe", "who": "%s", "conc": %d, "cpu_s": %s, "accepts": %d, "r": %s}\n' \
		"$who" "$conc" "$(cpu_since "$pid" "$t0")" \
		"$(($(accepts) - a0 - 1))" "$out" >>"$results"
}

scrape_run() { # who pid url
	local who=$1 pid=$2 url=$3 t0 out size
	"${pin_rest[@]}" wrk -t1 -c1 -d1s "$url" >/dev/null
	size=$(curl -sS "$url" | wc -c)
	t0=$(ticks "$pid")
	out=$("${pin_rest[@]}" wrk -t1 -c"$C" -d"${SCRAPE}s" -s "$work/count.lua" "$url" | tail -n1)
	alive "$who" "$pid"
	printf '{"kind": "scrape", "who": "%s", "conc": %d, "cpu_s": %s, "size": %d, "r": %s}\n' \
		"$who" "$C" "$(cpu_since "$pid" "$t0")" "$size" "$out" >>"$results"
}

OA_RE='^originaudit_probe_success\{[^}]*\} 1$'
BB_RE='^probe_success 1$'
for conc in 1 "$C"; do
	probe_run oa "$oa_pid" "$OA_PROBE" "$OA_RE" "$conc"
	probe_run bb "$bb_pid" "$BB_PROBE" "$BB_RE" "$conc"
done
scrape_run oa "$oa_pid" "http://127.0.0.1:$oa_port/metrics"
scrape_run bb "$bb_pid" "http://127.0.0.1:$bb_port/metrics"

mem() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
printf '{"kind": "mem", "who": "oa", "hwm": %d, "rss": %d}\n' "$(mem "$oa_pid" VmHWM)" "$(mem "$oa_pid" VmRSS)" >>"$results"
printf '{"kind": "mem", "who": "bb", "hwm": %d, "rss": %d}\n' "$(mem "$bb_pid" VmHWM)" "$(mem "$bb_pid" VmRSS)" >>"$results"
oa_metrics_series=$(curl -sS "http://127.0.0.1:$oa_port/metrics" | grep -vc '^#')
bb_metrics_series=$(curl -sS "http://127.0.0.1:$bb_port/metrics" | grep -vc '^#')

python3 - "$results" "$N" "$C" "$K" "$MAXP" "$SCRAPE" "$oa_label" "$bb_version" "$pinning" \
	"$(nginx -v 2>&1 | sed 's/^nginx version: //')" "$oa_metrics_series" "$bb_metrics_series" <<'PY'
import json, sys

path, n, c, k, maxp, scrape, oa_label, bbv, pinning, ngx, oa_series, bb_series = sys.argv[1:]
rows = [json.loads(l) for l in open(path)]
NAMES = {"oa": "originaudit serve", "bb": f"blackbox_exporter {bbv}"}

def get(kind, who, conc=None):
    for r in rows:
        if r["kind"] == kind and r["who"] == who and (conc is None or r["conc"] == conc):
            return r

print(f"originaudit serve vs blackbox_exporter {bbv}: the same TLS origin ({ngx} on loopback, "
      "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256, no resumption, root -> intermediate -> origin.bench.test)")
print(f"originaudit: {oa_label}; --max-probes {maxp}; {k} configured origins; probe = /probe?target=origin.bench.test:PORT&name=o0")
print(f"blackbox:    module tls_connect (tcp, tls: true, ca_file = the root, server_name origin.bench.test)")
print(f"pinning: {pinning}")
print()
w, wa, wb = 26, len(NAMES["oa"]) + 8, len(NAMES["bb"]) + 4
print(f"{'':{w}}{NAMES['oa']:>{wa}}{NAMES['bb']:>{wb}}")
bad = []

def line(label, a, b):
    print(f"{label:{w}}{a:>{wa}}{b:>{wb}}")

for conc in (1, int(c)):
    title = f"probes, {'sequential' if conc == 1 else f'{conc} concurrent'} ({n})"
    print(title)
    o, b = get("probe", "oa", conc), get("probe", "bb", conc)
    line("  requests/s", f"{o['r']['rps']:.0f}", f"{b['r']['rps']:.0f}")
    line("  p50 / p99 latency", f"{o['r']['p50_ms']:.2f} / {o['r']['p99_ms']:.2f} ms",
         f"{b['r']['p50_ms']:.2f} / {b['r']['p99_ms']:.2f} ms")
    line("  exporter CPU/request", f"{o['cpu_s'] / int(n) * 1e6:.0f} us", f"{b['cpu_s'] / int(n) * 1e6:.0f} us")
    line("  origin TLS conns/request", f"{o['accepts'] / int(n):.2f}", f"{b['accepts'] / int(n):.2f}")
    line("  response size", f"{o['r']['bytes'] / max(1, int(n) - o['r']['socket_errors']):.0f} B",
         f"{b['r']['bytes'] / max(1, int(n) - b['r']['socket_errors']):.0f} B")
    line("  429 (too many probes)", str(o["r"]["s429"]), "-")
    def errs(r):
        x = r["r"]
        return x["failed_probe"] + x["other_status"] + x["socket_errors"]
    line("  other errors", str(errs(o)), str(errs(b)))
    for who, r in (("oa", o), ("bb", b)):
        if errs(r) or r["r"]["s429"]:
            bad.append(f"{NAMES[who]} {title}: {r['r']}")
print(f"scrape /metrics ({scrape} s, {c} connections)")
o, b = get("scrape", "oa"), get("scrape", "bb")
line("  content", f"scan of {k} origins", "own process metrics")
line("  samples / size", f"{oa_series} / {o['size'] / 1024:.0f} KiB", f"{bb_series} / {b['size'] / 1024:.1f} KiB")
line("  requests/s", f"{o['r']['requests'] / o['r']['seconds']:.0f}", f"{b['r']['requests'] / b['r']['seconds']:.0f}")
line("  MB/s served", f"{o['r']['requests'] / o['r']['seconds'] * o['size'] / 1e6:.0f}",
     f"{b['r']['requests'] / b['r']['seconds'] * b['size'] / 1e6:.1f}")
line("  p50 / p99 latency", f"{o['r']['p50_ms']:.2f} / {o['r']['p99_ms']:.2f} ms",
     f"{b['r']['p50_ms']:.2f} / {b['r']['p99_ms']:.2f} ms")
line("  exporter CPU/request", f"{o['cpu_s'] / max(1, o['r']['requests']) * 1e6:.0f} us",
     f"{b['cpu_s'] / max(1, b['r']['requests']) * 1e6:.0f} us")
line("  errors", str(o["r"]["other_status"] + o["r"]["socket_errors"]),
     str(b["r"]["other_status"] + b["r"]["socket_errors"]))
for who, r in (("oa", o), ("bb", b)):
    if r["r"]["other_status"] or r["r"]["socket_errors"]:
        bad.append(f"{NAMES[who]} scrape: {r['r']}")
print("memory at the end")
o, b = get("mem", "oa"), get("mem", "bb")
line("  VmHWM (peak RSS)", f"{o['hwm'] / 1024:.1f} MB", f"{b['hwm'] / 1024:.1f} MB")
line("  VmRSS", f"{o['rss'] / 1024:.1f} MB", f"{b['rss'] / 1024:.1f} MB")
print()
print("Errors: a status other than 200 (429 apart), a socket error, or a 200 whose probe_success is not 1.")
print("CPU/request: the exporter process's utime+stime over the measured requests (clock ticks: coarse for short runs).")
print("originaudit serve answers with Connection: close (its clients reconnect for every request);"
      " blackbox_exporter keeps connections alive.")
if bad:
    print()
    for x in bad:
        print("bench: FAILED: " + x)
    sys.exit(1)
PY
