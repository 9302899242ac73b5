# shellcheck shell=bash disable=SC2034
# Per-target options of the fuzz scripts (sourced by smoke.sh and run.sh).
# oa_fuzz_target_opts TARGET sets max_len (above the largest seed: no seed
# is cut), run_max_len (long runs: for the HTTP targets, past the proxy's
# 8 KiB request line and 32 KiB header limits), dict_opt (the HTTP
# dictionary for the HTTP targets) and smoke_runs (executions in the test
# suite); non-zero for an unknown target.
oa_fuzz_targets="viewer_request origin_response der_chain chain config yaml http_server"

oa_fuzz_target_opts() {
	local dir
	dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	dict_opt=()
	run_max_len=
	case $1 in
	viewer_request | origin_response)
		max_len=4096
		run_max_len=40000
		dict_opt=("-dict=$dir/http.dict")
		smoke_runs=25000
		;;
	http_server)
		max_len=4096
		run_max_len=12000
		dict_opt=("-dict=$dir/http.dict")
		smoke_runs=10000
		;;
	der_chain)
		max_len=8192
		smoke_runs=8000
		;;
	chain)
		max_len=8192
		smoke_runs=30000
		;;
	config)
		max_len=8192
		smoke_runs=30000
		;;
	yaml)
		max_len=8192
		smoke_runs=30000
		;;
	*)
		return 1
		;;
	esac
	run_max_len=${run_max_len:-$max_len}
}
