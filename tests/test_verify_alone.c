/*
 * The verify library on its own: this test links core/verify only (GnuTLS,
 * no libuv, no jansson, no test kit), so it does not build if oa_verify ever
 * needs more. It grades the fuzz seeds' chain under a name constraint and the
 * pinned Mozilla bundle's first root as a chain of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "originaudit/chain.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

static const oa_result *grade(const char *chain_file, const char *bundle, const char *name,
			      oa_result **out)
{
	const char *names[] = {name};
	oa_trust_store *store = NULL;
	oa_chain *chain = NULL;
	oa_verify_params params;
	oa_error err;

	if (oa_trust_store_load(bundle, &store, &err) < 0 ||
	    oa_chain_load_file(chain_file, &chain, &err) < 0) {
		fail_msg("%s", err.msg);
	}
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 1;
	params.at = time(NULL);
	if (oa_verify(chain, store, &params, out, &err) < 0) {
		fail_msg("oa_verify: %s", err.msg);
	}
	oa_chain_destroy(chain);
	oa_trust_store_destroy(store);
	return *out;
}

/* tests/fuzz/seeds/chain/nc-excluded.pem: a leaf under an excluded subtree of its CA. */
static void test_constraint_violation(void **state)
{
	oa_result *r = NULL;

	grade(OA_FUZZ_DIR "/seeds/chain/nc-excluded.pem", OA_FUZZ_DIR "/data/roots.pem",
	      "www.secret.example.com", &r);
	const oa_check *c = oa_result_check(r, OA_CHECK_TRUST);
	assert_int_equal(c->status, OA_STATUS_FAIL);
	assert_string_equal(c->reason, "constraint_violation");
	assert_non_null(strstr(c->detail, "is in an excluded subtree (secret.example.com)"));
	oa_result_destroy(r);
}

/* A chain passes with the same library: the permitted names under the same CA. */
static void test_trusted(void **state)
{
	oa_result *r = NULL;

	grade(OA_FUZZ_DIR "/seeds/chain/nc-permitted.pem", OA_FUZZ_DIR "/data/roots.pem",
	      "www.example.com", &r);
	const oa_check *c = oa_result_check(r, OA_CHECK_TRUST);
	assert_int_equal(c->status, OA_STATUS_PASS);
	assert_string_equal(c->reason, "trusted");
	oa_result_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constraint_violation),
	    cmocka_unit_test(test_trusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
