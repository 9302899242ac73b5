# Shell helpers shared by the benchmark scripts (bench/proxy.sh, bench/idle.sh):
# sourced, not run. The caller keeps the processes it started in the array
# `pids` (stop_pid removes what it stops from it).

# A TCP port free on 127.0.0.1 now (bound to port 0 and closed).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to 10 s for something to accept on 127.0.0.1:$1.
wait_port() {
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

# Stops process $1 (TERM, then KILL after 10 s) and forgets it.
stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local keep=()
	for p in "${pids[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# nginx's temporary directories under $1 (its workers run as www-data).
temp_paths() {
	local t=$1
	echo "client_body_temp_path $t/body; proxy_temp_path $t/proxy; fastcgi_temp_path $t/fastcgi;"
	echo "    uwsgi_temp_path $t/uwsgi; scgi_temp_path $t/scgi;"
}

# "key": value fragments -> {...}
json_object() {
	local IFS=,
	echo "{$*}"
}

# A PKI in directory $1: root.pem (CN "$2 Root") -> int.pem -> one leaf per
# further argument NAME (NAME.bench.test, serverAuth): NAME.key, NAME.pem and
# NAME-chain.pem (leaf then intermediate). ECDSA P-256 throughout.
bench_pki() {
	local dir=$1 label=$2
	shift 2
	(
		cd "$dir"
		openssl ecparam -name prime256v1 -genkey -noout -out root.key 2>/dev/null
		openssl req -x509 -new -key root.key -subj "/CN=$label Root" -days 365 -out root.pem \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
		openssl ecparam -name prime256v1 -genkey -noout -out int.key 2>/dev/null
		openssl req -new -key int.key -subj "/CN=$label Intermediate" -out int.csr 2>/dev/null
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
		openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 365 \
			-extfile int.ext -out int.pem 2>/dev/null
		for name in "$@"; do
			openssl ecparam -name prime256v1 -genkey -noout -out "$name.key" 2>/dev/null
			openssl req -new -key "$name.key" -subj "/CN=$name.bench.test" -out "$name.csr" 2>/dev/null
			printf 'subjectAltName=DNS:%s.bench.test\nextendedKeyUsage=serverAuth\n' "$name" >"$name.ext"
			openssl x509 -req -in "$name.csr" -CA int.pem -CAkey int.key -CAcreateserial -days 90 \
				-extfile "$name.ext" -out "$name.pem" 2>/dev/null
			cat "$name.pem" int.pem >"$name-chain.pem"
		done
		chmod 600 ./*.key
	)
}

# The work directory ($work, named after $1) and the processes started ($pids):
# on exit every process is stopped and the directory removed (BENCH_KEEP=1 keeps it).
bench_work() {
	work=$(mktemp -d "/tmp/$1.XXXXXX")
	pids=()
	if [ -n "${BENCH_KEEP:-}" ]; then
		trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
	else
		trap bench_cleanup EXIT
	fi
}

bench_cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
