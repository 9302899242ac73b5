#!/usr/bin/env bash
# The fuzz smoke of one target (a meson test, tests/fuzz/meson.build): builds
# the libFuzzer targets with clang (-fsanitize=fuzzer,address,undefined,
# UBSan not recoverable; objects cached in OA_FUZZ_WORK), runs every past
# crash in regress/TARGET once (each must pass), then fuzzes from
# seeds/TARGET for a bounded number of executions with a fixed seed. Any
# crash, sanitizer report, leak or harness oracle failure fails the test;
# the crashing input is saved under OA_FUZZ_WORK/artifacts.
#   tests/fuzz/smoke.sh TARGET        (viewer_request, origin_response, der_chain, chain, config)
# Environment: OA_FUZZ_WORK (default build-fuzz in the source tree),
# OA_FUZZ_RUNS (executions, default per target), OA_FUZZ_SEED (default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
target=${1:?usage: smoke.sh TARGET}
work=${OA_FUZZ_WORK:-$src/build-fuzz}

# shellcheck source-path=SCRIPTDIR source=targets.sh
. "$here/targets.sh"
oa_fuzz_target_opts "$target" || {
	echo "smoke.sh: unknown target $target" >&2
	exit 2
}

"$here/build.sh" "$work"

bin=$work/fuzz_$target
runs=${OA_FUZZ_RUNS:-$smoke_runs}
mkdir -p "$work/artifacts"
corpus=$(mktemp -d "${TMPDIR:-/tmp}/oa-fuzz-smoke-$target.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
export OA_FUZZ_DIR=$here
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

common=(-rss_limit_mb=2048 -timeout=20 "-max_len=$max_len" "-artifact_prefix=$work/artifacts/$target-"
	"${dict_opt[@]}")

# The failure in a libFuzzer log: from the first report on, without libFuzzer's own frames.
report() {
	local from
	from=$(grep -n -m 1 -E '==ERROR|ERROR: |runtime error|oracle' "$1" | cut -d: -f1)
	tail -n +"${from:-1}" "$1" | grep -v -E '^ +#[0-9]+ .* in (fuzzer::|__libc_start|_start|main )' |
		head -n 120 >&2
}

shopt -s nullglob
regress=("$here/regress/$target"/*)
failed=0
for input in "${regress[@]}"; do
	if ! "$bin" "${common[@]}" "$input" >"$corpus/regress.log" 2>&1; then
		report "$corpus/regress.log"
		echo "fuzz_$target: regression input ${input#"$src"/} FAILED" >&2
		failed=$((failed + 1))
	fi
done
echo "fuzz_$target: ${#regress[@]} regression input(s), $failed failed"
[ "$failed" -eq 0 ] || exit 1

echo "fuzz_$target: $runs executions from seeds/$target (seed ${OA_FUZZ_SEED:-1})"
start=$(date +%s)
if ! "$bin" "${common[@]}" -runs="$runs" -seed="${OA_FUZZ_SEED:-1}" -print_final_stats=1 \
	"$corpus" "$here/seeds/$target" >"$corpus/fuzz.log" 2>&1; then
	report "$corpus/fuzz.log"
	echo "fuzz_$target: crash; the input is in $work/artifacts/ (reproduce: $bin FILE;" \
		"once fixed, keep it in tests/fuzz/regress/$target/)" >&2
	exit 1
fi
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$corpus/fuzz.log" || true
echo "fuzz_$target: no crash in $runs executions ($(($(date +%s) - start)) s)"
