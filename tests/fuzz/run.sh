#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan+UBSan) and runs each for
# SECONDS (default 60). Not part of CI: run it by hand after parser changes.
#   tests/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
out=$(mktemp -d /tmp/oa-fuzz.XXXXXX)
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
flags=(-g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Iinclude -Icore -Ibuild/core)
srcs=(core/*.c)
libs=$(pkg-config --cflags --libs gnutls libuv jansson)
for h in chain config; do
	# shellcheck disable=SC2086
	clang "${flags[@]}" "tests/fuzz/fuzz_$h.c" "${srcs[@]}" $libs -o "$out/fuzz_$h"
done
mkdir -p "$out/corpus_chain" "$out/corpus_config"
cp ca-bundle/mozilla-roots.pem "$out/corpus_chain/"
cp tests/data/config/*.json "$out/corpus_config/" 2>/dev/null || true
OA_FUZZ_BUNDLE=$PWD/ca-bundle/mozilla-roots.pem "$out/fuzz_chain" -max_total_time="$secs" -max_len=65536 "$out/corpus_chain"
"$out/fuzz_config" -max_total_time="$secs" -max_len=16384 "$out/corpus_config"
echo "fuzz: no crash in ${secs}s per harness (work dir $out)"
