/* libFuzzer harness: the PEM chain parser and the whole grading on what it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "originaudit/chain.h"
#include "originaudit/report.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

static oa_trust_store *store;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	oa_chain *chain = NULL;
	oa_result *result = NULL;
	oa_verify_params params;
	oa_error err;
	static const char *const names[] = {"origin.example.com"};

	if (store == NULL && oa_trust_store_load(getenv("OA_FUZZ_BUNDLE"), &store, &err) < 0) {
		abort();
	}
	if (oa_chain_from_pem(data, size, "fuzz", &chain, &err) < 0) {
		return 0;
	}
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 1;
	if (oa_verify(chain, store, &params, &result, &err) == 0) {
		json_t *j = oa_result_to_json(result, store);

		json_decref(j);
	}
	oa_result_destroy(result);
	oa_chain_destroy(chain);
	return 0;
}
