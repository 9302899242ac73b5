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
#include "originaudit/verify_cache.h"

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

/* The DER certificates of a PEM file, into der (n at most); returns how many. */
static unsigned load_der(const char *path, gnutls_datum_t *der, unsigned n)
{
	oa_chain *chain = NULL;
	oa_error err;
	unsigned k = 0;

	if (oa_chain_load_file(path, &chain, &err) < 0) {
		fail_msg("%s", err.msg);
	}
	for (; k < n && k < oa_chain_length(chain); k++) {
		assert_int_equal(
		    gnutls_x509_crt_export2(oa_chain_get(chain, k), GNUTLS_X509_FMT_DER, &der[k]),
		    0);
	}
	oa_chain_destroy(chain);
	return k;
}

/*
 * The verdict cache: a chain seen again comes from the cache (the same
 * result), its expiry graded again at the lookup's time; other names are
 * another entry; beyond its size the oldest verdict goes.
 */
static void test_verify_cache(void **state)
{
	static const char *const www[] = {"www.example.com"};
	static const char *const other[] = {"other.example.com"};
	gnutls_datum_t der[4];
	oa_trust_store *store = NULL;
	oa_error err;
	oa_policy policy = {.warn_days = OA_POLICY_AUTO, .critical_days = 0};
	bool cached = true;
	unsigned n = load_der(OA_FUZZ_DIR "/seeds/chain/nc-permitted.pem", der, 4);
	time_t now = time(NULL);

	if (oa_trust_store_load(OA_FUZZ_DIR "/data/roots.pem", &store, &err) < 0) {
		fail_msg("%s", err.msg);
	}
	oa_verify_cache *cache = oa_verify_cache_new(1, &policy);
	assert_non_null(cache);
	const oa_result *first = oa_verify_cache_get(cache, store, der, n, www, 1, now, &cached);
	assert_non_null(first);
	assert_false(cached);
	assert_int_equal(oa_result_check(first, OA_CHECK_TRUST)->status, OA_STATUS_PASS);
	const oa_result *again = oa_verify_cache_get(cache, store, der, n, www, 1, now, &cached);
	assert_true(cached);
	assert_ptr_equal(again, first);
	assert_int_equal(oa_result_check(again, OA_CHECK_EXPIRY)->status, OA_STATUS_PASS);
	/* A lookup 200 years on: the cached verdict is expired now. */
	again =
	    oa_verify_cache_get(cache, store, der, n, www, 1, now + 200LL * 365 * 86400, &cached);
	assert_true(cached);
	assert_string_equal(oa_result_check(again, OA_CHECK_EXPIRY)->reason, "expired");
	/* Other names: another verdict, and with room for one, the first is dropped. */
	const oa_result *mismatch =
	    oa_verify_cache_get(cache, store, der, n, other, 1, now, &cached);
	assert_false(cached);
	assert_string_equal(oa_result_check(mismatch, OA_CHECK_NAME)->reason, "name_mismatch");
	assert_int_equal(oa_verify_cache_count(cache), 1);
	oa_verify_cache_get(cache, store, der, n, www, 1, now, &cached);
	assert_false(cached);
	oa_verify_cache_destroy(cache);
	oa_trust_store_destroy(store);
	for (unsigned i = 0; i < n; i++) {
		gnutls_free(der[i].data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constraint_violation),
	    cmocka_unit_test(test_trusted),
	    cmocka_unit_test(test_verify_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
