#!/usr/bin/env bash
# A long fuzzing run of one target, by hand (the test suite runs a short
# smoke of each: smoke.sh). Builds like smoke.sh (clang, -fsanitize=fuzzer,
# address,undefined, UBSan not recoverable), then fuzzes for SECONDS from
# the seeds, the past crashes and the corpus kept from earlier runs, with the
# HTTP dictionary for the HTTP targets; reports executions and exec/s.
#   tests/fuzz/run.sh TARGET [SECONDS]   (TARGET: viewer_request origin_response der_chain chain config;
#                                         SECONDS: default 60)
# Environment: OA_FUZZ_WORK (default build-fuzz in the source tree; the
# corpus grows in OA_FUZZ_WORK/corpus/TARGET, crashes land in
# OA_FUZZ_WORK/artifacts), OA_FUZZ_VERBOSE (the proxy's log and the
# harness's traffic on stderr). Extra libFuzzer flags: OA_FUZZ_FLAGS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
target=${1:?usage: run.sh TARGET [SECONDS]}
secs=${2:-60}
work=${OA_FUZZ_WORK:-$src/build-fuzz}

# shellcheck source-path=SCRIPTDIR source=targets.sh
. "$here/targets.sh"
oa_fuzz_target_opts "$target" || {
	echo "run.sh: unknown target $target (one of: $oa_fuzz_targets)" >&2
	exit 2
}

"$here/build.sh" "$work" "fuzz_$target"

corpus=$work/corpus/$target
mkdir -p "$corpus" "$work/artifacts"
log=$work/run-$target.log
export OA_FUZZ_DIR=$here
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
dirs=("$corpus" "$here/seeds/$target")
[ -d "$here/regress/$target" ] && dirs+=("$here/regress/$target")

echo "fuzz_$target: ${secs}s, corpus $corpus, log $log"
set +e
# shellcheck disable=SC2086
"$work/fuzz_$target" -max_total_time="$secs" -max_len="$run_max_len" -timeout=20 -rss_limit_mb=4096 \
	"${dict_opt[@]}" -print_final_stats=1 -artifact_prefix="$work/artifacts/$target-" \
	${OA_FUZZ_FLAGS:-} "${dirs[@]}" >"$log" 2>&1 &
pid=$!
tail -n +1 -f --pid="$pid" "$log" | grep --line-buffered -E '^#[0-9]+.*(pulse|DONE)|ERROR|SUMMARY|oracle|Test unit written'
wait "$pid"
status=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/cov \1, ft \2/p')
echo "fuzz_$target: ${runs:-?} executions, ${rate:-?} exec/s, ${cov:-?}; exit $status"
if [ "$status" -ne 0 ]; then
	echo "fuzz_$target: crash: see $log; the input is in $work/artifacts/" >&2
fi
exit "$status"
