/*
 * libFuzzer target: the PEM chain parser (what `originaudit verify` reads),
 * then the whole grading of what it accepts and its JSON report.
 *
 * Input: a PEM file. The roots trusted are data/roots.pem (the seeds' own
 * PKI) and the bundled Mozilla roots.
 */
#include "fuzz_common.h"
#include "originaudit/chain.h"
#include "originaudit/report.h"
#include "originaudit/verify.h"

static oa_trust_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (fz_load_roots(&store) < 0) {
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	oa_chain *chain = NULL;
	oa_result *result = NULL;
	oa_verify_params params;
	oa_error err;
	static const char *const names[] = {"origin.example.com", "www.example.org"};

	if (oa_chain_from_pem(data, size, "fuzz", &chain, &err) < 0) {
		return 0;
	}
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 2;
	if (oa_verify(chain, store, &params, &result, &err) == 0) {
		json_t *j = oa_result_to_json(result, store);

		json_decref(j);
	}
	oa_result_destroy(result);
	oa_chain_destroy(chain);
	return 0;
}
