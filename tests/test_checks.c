/*
 * The verification core, one test per reason code: each builds its own PKI
 * at test time, so "expires in 20 days" is always relative to now.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "fixtures.h"
#include "originaudit/chain.h"
#include "originaudit/key.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

#define DAY 86400

static const oa_result *grade(fx_grading *g, const oa_pki_cert *const *certs, size_t n,
			      const oa_pki_cert *root, const char *name)
{
	const char *names[1] = {name};
	const oa_pki_cert *roots[1] = {root};

	return fx_grade_at(g, certs, n, roots, 1, names, name != NULL ? 1 : 0, time(NULL), NULL);
}

static void expect_hint(const oa_result *r, oa_check_id id, const char *needle)
{
	const oa_check *c = oa_result_check(r, id);

	if (strstr(c->hint, needle) == NULL) {
		fail_msg("%s hint '%s' lacks '%s'", oa_check_name(id), c->hint, needle);
	}
}

static void test_good_chain_passes_every_check(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(r, OA_CHECK_EXPIRY, OA_STATUS_PASS, "valid");
	fx_assert_check(r, OA_CHECK_SELF_SIGNED, OA_STATUS_PASS, "not_self_signed");
	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	fx_assert_check(r, OA_CHECK_SIGNATURE, OA_STATUS_PASS, "strong");
	assert_false(oa_result_check(r, OA_CHECK_KEY)->present);
	assert_int_equal(oa_result_verdict(r), OA_STATUS_PASS);
	assert_string_equal(oa_result_matched_name(r), "origin.example.com");
	assert_string_equal(oa_result_anchor(r), "CN=Test Root CA");
	long long days = 0;
	assert_true(oa_result_days_left(r, &days));
	/* 90 days from the second the leaf was issued: 90 in the same second, else 89. */
	assert_in_range(days, 89, 90);
	assert_int_equal(oa_result_cert_count(r), 2);
	assert_int_equal(oa_result_cert(r, 0)->role, OA_ROLE_LEAF);
	assert_int_equal(oa_result_cert(r, 1)->role, OA_ROLE_INTERMEDIATE);
	assert_int_equal(oa_result_cert(r, 0)->n_sans, 2);
	assert_string_equal(oa_result_cert(r, 0)->sans[1], "www.example.com");
	assert_false(oa_result_cert(r, 0)->is_ca);
	assert_true(oa_result_cert(r, 1)->is_ca);
	assert_int_equal(strlen(oa_result_cert(r, 0)->sha256), 64);
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_missing_intermediate_names_issuer_and_aia(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("aia.example.com", "aia.example.com", 90);
	spec.aia_ca_issuers = "http://ca.example.net/int.der";
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf};
	const oa_result *r = grade(&g, chain, 1, pki.root, "aia.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "missing_intermediate");
	fx_assert_detail(r, OA_CHECK_TRUST, "CN=Test Intermediate CA");
	fx_assert_detail(r, OA_CHECK_TRUST, "http://ca.example.net/int.der");
	expect_hint(r, OA_CHECK_TRUST, "http://ca.example.net/int.der");
	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	assert_int_equal(oa_result_verdict(r), OA_STATUS_FAIL);
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_untrusted_root_sent(void **state)
{
	fx_grading g = {0};
	fx_pki pki;
	fx_pki other;

	fx_pki_make(&pki);
	fx_pki_make(&other);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter, pki.root};
	const oa_result *r = grade(&g, chain, 3, other.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "untrusted_root");
	fx_assert_detail(r, OA_CHECK_TRUST, "Test Root CA");
	fx_assert_check(r, OA_CHECK_SELF_SIGNED, OA_STATUS_PASS, "not_self_signed");
	assert_null(oa_result_anchor(r));
	fx_grading_free(&g);
	fx_pki_free(&other);
	fx_pki_free(&pki);
}

static void test_self_signed_leaf(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("origin.example.com", "origin.example.com", 90);
	oa_pki_cert *self = fx_issue(&spec, NULL);
	const oa_pki_cert *chain[] = {self};
	const oa_result *r = grade(&g, chain, 1, pki.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_SELF_SIGNED, OA_STATUS_FAIL, "self_signed");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "untrusted_root");
	fx_assert_detail(r, OA_CHECK_TRUST, "self-signed");
	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	assert_true(oa_result_cert(r, 0)->self_signed);
	fx_grading_free(&g);
	oa_pki_cert_destroy(self);
	fx_pki_free(&pki);
}

static void test_bad_signature(void **state)
{
	fx_grading g = {0};
	fx_pki pki;
	gnutls_datum_t der[2];
	oa_error err;
	oa_verify_params params;
	const char *names[] = {"origin.example.com"};

	fx_pki_make(&pki);
	g.dir = fx_tempdir();
	char *bundle = fx_chain_file(g.dir, "roots.pem", (const oa_pki_cert *const *)&pki.root, 1);
	assert_int_equal(oa_trust_store_load(bundle, &g.store, &err), 0);
	free(bundle);
	/* Flip a bit in the last byte of the leaf: inside its signature. */
	const gnutls_datum_t *leaf = oa_pki_cert_der(pki.leaf);
	unsigned char *copy = malloc(leaf->size);
	assert_non_null(copy);
	memcpy(copy, leaf->data, leaf->size);
	copy[leaf->size - 1] ^= 0x01;
	der[0].data = copy;
	der[0].size = leaf->size;
	der[1] = *oa_pki_cert_der(pki.inter);
	assert_int_equal(oa_chain_from_der(der, 2, &g.chain, &err), 0);
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 1;
	assert_int_equal(oa_verify(g.chain, g.store, &params, &g.result, &err), 0);
	fx_assert_check(g.result, OA_CHECK_TRUST, OA_STATUS_FAIL, "bad_signature");
	fx_assert_detail(g.result, OA_CHECK_TRUST, "origin.example.com");
	free(copy);
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_not_a_ca(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("sub.example.com", "sub.example.com", 60);
	oa_pki_cert *sub = fx_issue(&spec, pki.leaf);
	const oa_pki_cert *chain[] = {sub, pki.leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 3, pki.root, "sub.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "not_a_ca");
	fx_assert_detail(r, OA_CHECK_TRUST, "sub.example.com");
	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	fx_grading_free(&g);
	oa_pki_cert_destroy(sub);
	fx_pki_free(&pki);
}

static void test_path_length_violation(void **state)
{
	fx_grading g = {0};
	oa_pki_spec root_spec = fx_ca_spec("PL Root", 3650);
	oa_pki_spec i1_spec = fx_ca_spec("PL Intermediate 1", 1000);
	oa_pki_spec i2_spec = fx_ca_spec("PL Intermediate 2", 900);
	oa_pki_spec leaf_spec = fx_leaf_spec("pl.example.com", "pl.example.com", 90);

	i1_spec.path_len = 0;
	oa_pki_cert *root = fx_issue(&root_spec, NULL);
	oa_pki_cert *i1 = fx_issue(&i1_spec, root);
	oa_pki_cert *i2 = fx_issue(&i2_spec, i1);
	oa_pki_cert *leaf = fx_issue(&leaf_spec, i2);
	const oa_pki_cert *chain[] = {leaf, i2, i1};
	const oa_result *r = grade(&g, chain, 3, root, "pl.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(i2);
	oa_pki_cert_destroy(i1);
	oa_pki_cert_destroy(root);
}

static void test_client_only_purpose(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("client.example.com", "client.example.com", 90);
	spec.purpose_oid = GNUTLS_KP_TLS_WWW_CLIENT;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "client.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "wrong_purpose");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

/* An extended key usage extension that lists nothing allows nothing (GnuTLS reads it as absent). */
static void test_empty_eku(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("empty.example.com", "empty.example.com", 90);
	spec.empty_eku = true;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "empty.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "wrong_purpose");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

/* A CA's name constraints that constrain nothing are malformed and fail the path. */
static void test_empty_name_constraints(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec is = fx_ca_spec("Empty NC CA", 365);
	is.empty_name_constraints = true;
	oa_pki_cert *inter = fx_issue(&is, pki.root);
	oa_pki_spec ls = fx_leaf_spec("nc.example.com", "nc.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&ls, inter);
	const oa_pki_cert *chain[] = {leaf, inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "nc.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(inter);
	fx_pki_free(&pki);
}

static void test_chain_too_long(void **state)
{
	fx_grading g = {0};
	oa_pki_cert *certs[20];
	const oa_pki_cert *chain[20];
	char cn[20][32];
	size_t depth = 18;

	oa_pki_spec spec = fx_ca_spec("Deep Root", 3650);
	certs[depth] = fx_issue(&spec, NULL);
	for (size_t i = depth; i-- > 1;) {
		snprintf(cn[i], sizeof(cn[i]), "Deep CA %zu", i);
		spec = fx_ca_spec(cn[i], 3000);
		certs[i] = fx_issue(&spec, certs[i + 1]);
	}
	spec = fx_leaf_spec("deep.example.com", "deep.example.com", 90);
	certs[0] = fx_issue(&spec, certs[1]);
	for (size_t i = 0; i < depth; i++) {
		chain[i] = certs[i];
	}
	const oa_result *r = grade(&g, chain, depth, certs[depth], "deep.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_FAIL, "chain_too_long");
	fx_grading_free(&g);
	for (size_t i = 0; i <= depth; i++) {
		oa_pki_cert_destroy(certs[i]);
	}
}

/* Leaf valid for days_left more days, graded now. */
static void expiry_case(int leaf_days, oa_status status, const char *reason, long long want_days)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("exp.example.com", "exp.example.com", leaf_days);
	/* Shift by an hour so whole days are unambiguous; a 90-day certificate (default rule: 30/7
	 * days). */
	spec.not_after += 3600;
	spec.not_before = spec.not_after - 90 * DAY;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "exp.example.com");
	long long days = -999;

	fx_assert_check(r, OA_CHECK_EXPIRY, status, reason);
	assert_true(oa_result_days_left(r, &days));
	assert_int_equal(days, want_days);
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_expiry_valid(void **state)
{
	expiry_case(45, OA_STATUS_PASS, "valid", 45);
}

static void test_expiry_soon_warns(void **state)
{
	expiry_case(10, OA_STATUS_WARN, "expiring_soon", 10);
}

static void test_expiry_critical_fails(void **state)
{
	expiry_case(5, OA_STATUS_FAIL, "expiring_critical", 5);
}

/*
 * The default expiry rule is relative to the certificate's lifetime: warn
 * under min(30 days, lifetime / 3) left, fail under min(7 days, lifetime / 12).
 * lifetime_s and left_s place the leaf; policy NULL is the default.
 */
static void lifetime_case(long long lifetime_s, long long left_s, const oa_policy *policy,
			  oa_status status, const char *reason, long long want_warn_s,
			  const char *want_rule)
{
	fx_grading g = {0};
	fx_pki pki;
	time_t now = time(NULL);
	oa_verify_params params;
	oa_result *r = NULL;
	oa_error err;
	long long warn_s = 0;
	long long critical_s = 0;
	const char *warn_rule = NULL;
	const char *critical_rule = NULL;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("life.example.com", "life.example.com", 1);
	spec.not_after = now + left_s;
	spec.not_before = spec.not_after - lifetime_s;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *first = grade(&g, chain, 2, pki.root, "life.example.com");

	fx_assert_check(first, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	oa_verify_params_init(&params);
	if (policy != NULL) {
		params.policy = *policy;
	}
	static const char *const names[] = {"life.example.com"};
	params.names = names;
	params.n_names = 1;
	params.at = now;
	assert_int_equal(oa_verify(g.chain, g.store, &params, &r, &err), 0);
	fx_assert_check(r, OA_CHECK_EXPIRY, status, reason);
	assert_true(
	    oa_result_expiry_thresholds(r, &warn_s, &critical_s, &warn_rule, &critical_rule));
	assert_int_equal(warn_s, want_warn_s);
	assert_string_equal(warn_rule, want_rule);
	oa_result_destroy(r);
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_expiry_relative_to_lifetime(void **state)
{
	const long long h = 3600;

	/* A fresh 6-day certificate (Let's Encrypt's short-lived ones) passes. */
	lifetime_case(6 * DAY, 6 * DAY - h, NULL, OA_STATUS_PASS, "valid", 2 * DAY, "auto");
	/* A 6-day certificate with a day left warns (under 2 days), not yet critical (12 h). */
	lifetime_case(6 * DAY, DAY, NULL, OA_STATUS_WARN, "expiring_soon", 2 * DAY, "auto");
	/* ... and with 10 hours left it is critical. */
	lifetime_case(6 * DAY, 10 * h, NULL, OA_STATUS_FAIL, "expiring_critical", 2 * DAY, "auto");
	/* 90 days: 20 days left warns, 5 days left is critical (caps of 30 and 7 days). */
	lifetime_case(90 * DAY, 20 * DAY, NULL, OA_STATUS_WARN, "expiring_soon", 30 * DAY, "auto");
	lifetime_case(90 * DAY, 5 * DAY, NULL, OA_STATUS_FAIL, "expiring_critical", 30 * DAY,
		      "auto");
	/* 398 days with 25 left warns; 47 days with 20 left passes (warn under 15.7 days). */
	lifetime_case(398 * DAY, 25 * DAY, NULL, OA_STATUS_WARN, "expiring_soon", 30 * DAY, "auto");
	lifetime_case(47 * DAY, 20 * DAY, NULL, OA_STATUS_PASS, "valid", 47 * DAY / 3, "auto");
}

static void test_expiry_explicit_thresholds(void **state)
{
	oa_policy days = {.warn_days = 30, .critical_days = 7};
	oa_policy share = {.warn_days = OA_POLICY_AUTO,
			   .critical_days = OA_POLICY_AUTO,
			   .warn_percent = 50,
			   .critical_percent = 10};

	/* Explicit days keep their absolute meaning: a fresh 6-day certificate is under 7 days. */
	lifetime_case(6 * DAY, 6 * DAY - 3600, &days, OA_STATUS_FAIL, "expiring_critical", 30 * DAY,
		      "days");
	/* A share of the lifetime: 40 of 90 days left is under half. */
	lifetime_case(90 * DAY, 40 * DAY, &share, OA_STATUS_WARN, "expiring_soon", 45 * DAY,
		      "percent");
	lifetime_case(90 * DAY, 50 * DAY, &share, OA_STATUS_PASS, "valid", 45 * DAY, "percent");
	lifetime_case(90 * DAY, 8 * DAY, &share, OA_STATUS_FAIL, "expiring_critical", 45 * DAY,
		      "percent");
}

static void test_policy_parse(void **state)
{
	int days = -5;
	int percent = -5;
	oa_policy p = {.warn_days = 7, .critical_days = 30};

	assert_int_equal(oa_policy_parse_threshold("30", &days, &percent), 0);
	assert_int_equal(days, 30);
	assert_int_equal(percent, 0);
	assert_int_equal(oa_policy_parse_threshold("33%", &days, &percent), 0);
	assert_int_equal(days, OA_POLICY_AUTO);
	assert_int_equal(percent, 33);
	assert_int_equal(oa_policy_parse_threshold("0", &days, &percent), 0);
	assert_int_equal(oa_policy_parse_threshold("0%", &days, &percent), -EINVAL);
	assert_int_equal(oa_policy_parse_threshold("101%", &days, &percent), -EINVAL);
	assert_int_equal(oa_policy_parse_threshold("-1", &days, &percent), -EINVAL);
	assert_int_equal(oa_policy_parse_threshold("3d", &days, &percent), -EINVAL);
	assert_int_equal(oa_policy_parse_threshold("", &days, &percent), -EINVAL);
	assert_int_equal(oa_policy_parse_threshold("36501", &days, &percent), -EINVAL);
	assert_false(oa_policy_consistent(&p));
	p.warn_days = 30;
	p.critical_days = 7;
	assert_true(oa_policy_consistent(&p));
}

static void test_expired_leaf(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("old.example.com", "old.example.com", 0);
	spec.not_before = time(NULL) - 400 * DAY;
	spec.not_after = time(NULL) - 3 * DAY - 3600;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "old.example.com");
	long long days = 0;

	fx_assert_check(r, OA_CHECK_EXPIRY, OA_STATUS_FAIL, "expired");
	fx_assert_detail(r, OA_CHECK_EXPIRY, "leaf");
	assert_true(oa_result_days_left(r, &days));
	assert_int_equal(days, -4);
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_verdict(r), OA_STATUS_FAIL);
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_expired_intermediate(void **state)
{
	fx_grading g = {0};
	oa_pki_spec root_spec = fx_ca_spec("Exp Root", 3650);
	oa_pki_spec int_spec = fx_ca_spec("Expired Intermediate", 0);
	oa_pki_spec leaf_spec = fx_leaf_spec("ei.example.com", "ei.example.com", 90);

	int_spec.not_before = time(NULL) - 800 * DAY;
	int_spec.not_after = time(NULL) - 2 * DAY;
	oa_pki_cert *root = fx_issue(&root_spec, NULL);
	oa_pki_cert *inter = fx_issue(&int_spec, root);
	oa_pki_cert *leaf = fx_issue(&leaf_spec, inter);
	const oa_pki_cert *chain[] = {leaf, inter};
	const oa_result *r = grade(&g, chain, 2, root, "ei.example.com");

	fx_assert_check(r, OA_CHECK_EXPIRY, OA_STATUS_FAIL, "expired");
	fx_assert_detail(r, OA_CHECK_EXPIRY, "intermediate 'Expired Intermediate'");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(inter);
	oa_pki_cert_destroy(root);
}

static void test_not_yet_valid(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("new.example.com", "new.example.com", 90);
	spec.not_before = time(NULL) + 5 * DAY;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "new.example.com");

	fx_assert_check(r, OA_CHECK_EXPIRY, OA_STATUS_FAIL, "not_yet_valid");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_evaluation_time_is_honoured(void **state)
{
	fx_grading g = {0};
	fx_pki pki;
	const char *names[] = {"origin.example.com"};

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter};
	const oa_pki_cert *roots[] = {pki.root};
	const oa_result *r =
	    fx_grade_at(&g, chain, 2, roots, 1, names, 1, time(NULL) + 85 * DAY, NULL);

	fx_assert_check(r, OA_CHECK_EXPIRY, OA_STATUS_FAIL, "expiring_critical");
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

/* A cached result judged again later: only expiry (and so the verdict) moves. */
static void test_regrade_moves_only_expiry(void **state)
{
	fx_grading g = {0};
	fx_pki pki;
	oa_policy policy = {.warn_days = 30, .critical_days = 7};
	time_t now = time(NULL);

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter};
	grade(&g, chain, 2, pki.root, "origin.example.com");
	fx_assert_check(g.result, OA_CHECK_EXPIRY, OA_STATUS_PASS, "valid");
	oa_result_regrade(g.result, now + 85 * DAY, &policy);
	fx_assert_check(g.result, OA_CHECK_EXPIRY, OA_STATUS_FAIL, "expiring_critical");
	assert_int_equal(oa_result_verdict(g.result), OA_STATUS_FAIL);
	oa_result_regrade(g.result, now + 70 * DAY, &policy);
	fx_assert_check(g.result, OA_CHECK_EXPIRY, OA_STATUS_WARN, "expiring_soon");
	assert_int_equal(oa_result_verdict(g.result), OA_STATUS_WARN);
	oa_result_regrade(g.result, now + 100 * DAY, &policy);
	fx_assert_check(g.result, OA_CHECK_EXPIRY, OA_STATUS_FAIL, "expired");
	oa_result_regrade(g.result, now, &policy);
	fx_assert_check(g.result, OA_CHECK_EXPIRY, OA_STATUS_PASS, "valid");
	fx_assert_check(g.result, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_verdict(g.result), OA_STATUS_PASS);
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_root_sent_warns(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter, pki.root};
	const oa_result *r = grade(&g, chain, 3, pki.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_WARN, "root_sent");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_cert(r, 2)->role, OA_ROLE_ROOT);
	assert_int_equal(oa_result_verdict(r), OA_STATUS_WARN);
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_duplicate_warns(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter, pki.inter};
	const oa_result *r = grade(&g, chain, 3, pki.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_WARN, "duplicate_certificate");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_cert(r, 2)->role, OA_ROLE_DUPLICATE);
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_unrelated_warns(void **state)
{
	fx_grading g = {0};
	fx_pki pki;
	fx_pki other;

	fx_pki_make(&pki);
	fx_pki_make(&other);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter, other.inter};
	const oa_result *r = grade(&g, chain, 3, pki.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_WARN, "unrelated_certificate");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_cert(r, 2)->role, OA_ROLE_UNRELATED);
	fx_grading_free(&g);
	fx_pki_free(&other);
	fx_pki_free(&pki);
}

/* Like Let's Encrypt's chain: the root's cross-signed twin sent after the path is fine. */
static void test_cross_signed_root_is_not_a_warning(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec old_spec = fx_ca_spec("Old Root", 3650);
	oa_pki_cert *old = fx_issue(&old_spec, NULL);
	oa_pki_spec cross_spec = fx_ca_spec("Test Root CA", 1000);
	cross_spec.reuse_key_of = pki.root;
	oa_pki_cert *cross = fx_issue(&cross_spec, old);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter, cross};
	const oa_result *r = grade(&g, chain, 3, pki.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	assert_int_equal(oa_result_cert(r, 2)->role, OA_ROLE_INTERMEDIATE);
	fx_grading_free(&g);
	oa_pki_cert_destroy(cross);
	oa_pki_cert_destroy(old);
	fx_pki_free(&pki);
}

/* Two intermediate levels sent reversed: trust is fine once reordered. */
static void test_reversed_intermediates(void **state)
{
	fx_grading g = {0};
	oa_pki_spec root_spec = fx_ca_spec("Order Root", 3650);
	oa_pki_spec i1_spec = fx_ca_spec("Order CA 1", 2000);
	oa_pki_spec i2_spec = fx_ca_spec("Order CA 2", 1500);
	oa_pki_spec leaf_spec = fx_leaf_spec("order.example.com", "order.example.com", 90);
	oa_pki_cert *root = fx_issue(&root_spec, NULL);
	oa_pki_cert *i1 = fx_issue(&i1_spec, root);
	oa_pki_cert *i2 = fx_issue(&i2_spec, i1);
	oa_pki_cert *leaf = fx_issue(&leaf_spec, i2);
	const oa_pki_cert *chain[] = {leaf, i1, i2};
	const oa_result *r = grade(&g, chain, 3, root, "order.example.com");

	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_FAIL, "wrong_order");
	expect_hint(r, OA_CHECK_CHAIN_ORDER,
		    "1) 'order.example.com', 2) 'Order CA 2', 3) 'Order CA 1'");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_verdict(r), OA_STATUS_FAIL);
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(i2);
	oa_pki_cert_destroy(i1);
	oa_pki_cert_destroy(root);
}

static void test_leaf_not_first(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.inter, pki.leaf};
	const oa_result *r = grade(&g, chain, 2, pki.root, "origin.example.com");

	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_FAIL, "leaf_not_first");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	assert_int_equal(oa_result_cert(r, 1)->role, OA_ROLE_LEAF);
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_cn_only_warns(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("cn.example.com", NULL, 90);
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "CN.Example.com.");

	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_WARN, "matched_cn_only");
	assert_string_equal(oa_result_matched_name(r), "cn.example.com");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_cn_ignored_when_san_present(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("cn-only.example.com", "san.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "cn-only.example.com");

	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_FAIL, "name_mismatch");
	fx_assert_detail(r, OA_CHECK_NAME, "san.example.com");
	expect_hint(r, OA_CHECK_NAME, "cn-only.example.com");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_wildcard_one_level(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("*.example.com", "*.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "api.example.com");

	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	assert_string_equal(oa_result_matched_name(r), "*.example.com");
	fx_grading_free(&g);
	r = grade(&g, chain, 2, pki.root, "a.b.example.com");
	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_FAIL, "name_mismatch");
	fx_grading_free(&g);
	r = grade(&g, chain, 2, pki.root, "example.com");
	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_FAIL, "name_mismatch");
	assert_null(oa_result_matched_name(r));
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

/* CloudFront accepts the origin domain or the forwarded Host: any one name suffices. */
static void test_any_acceptable_name_suffices(void **state)
{
	fx_grading g = {0};
	fx_pki pki;
	const char *names[] = {"origin-lb.internal.example", "www.example.com"};

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter};
	const oa_pki_cert *roots[] = {pki.root};
	const oa_result *r = fx_grade_at(&g, chain, 2, roots, 1, names, 2, time(NULL), NULL);

	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	assert_string_equal(oa_result_matched_name(r), "www.example.com");
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_idn_name_compared_as_a_label(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("xn--bcher-kva.example", "xn--bcher-kva.example", 90);
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root,
				   "b\xc3\xbc"
				   "cher.example");

	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_no_names_skips(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, NULL);

	fx_assert_check(r, OA_CHECK_NAME, OA_STATUS_SKIP, "no_names_given");
	fx_assert_detail(r, OA_CHECK_NAME, "origin.example.com, www.example.com");
	assert_int_equal(oa_result_verdict(r), OA_STATUS_PASS);
	fx_grading_free(&g);
	fx_pki_free(&pki);
}

static void test_invalid_name_cannot_run(void **state)
{
	fx_pki pki;
	oa_chain *chain = NULL;
	oa_trust_store *store = NULL;
	oa_result *result = NULL;
	oa_verify_params params;
	oa_error err;
	const char *names[] = {"bad name.example.com"};

	fx_pki_make(&pki);
	char *dir = fx_tempdir();
	char *bundle = fx_chain_file(dir, "roots.pem", (const oa_pki_cert *const *)&pki.root, 1);
	assert_int_equal(oa_trust_store_load(bundle, &store, &err), 0);
	assert_int_equal(oa_chain_from_der(oa_pki_cert_der(pki.leaf), 1, &chain, &err), 0);
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 1;
	assert_int_equal(oa_verify(chain, store, &params, &result, &err), -EINVAL);
	assert_null(result);
	assert_non_null(strstr(err.msg, "bad name.example.com"));
	oa_chain_destroy(chain);
	oa_trust_store_destroy(store);
	free(bundle);
	fx_tempdir_remove(dir);
	fx_pki_free(&pki);
}

static void test_sha1_leaf_fails(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("sha1.example.com", "sha1.example.com", 90);
	spec.hash = GNUTLS_DIG_SHA1;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "sha1.example.com");

	fx_assert_check(r, OA_CHECK_SIGNATURE, OA_STATUS_FAIL, "sha1_signature");
	fx_assert_detail(r, OA_CHECK_SIGNATURE, "leaf 'sha1.example.com'");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_sha1_root_self_signature_is_fine(void **state)
{
	fx_grading g = {0};
	oa_pki_spec root_spec = fx_ca_spec("SHA1 Root", 3650);
	oa_pki_spec leaf_spec = fx_leaf_spec("s.example.com", "s.example.com", 90);

	root_spec.hash = GNUTLS_DIG_SHA1;
	oa_pki_cert *root = fx_issue(&root_spec, NULL);
	oa_pki_cert *leaf = fx_issue(&leaf_spec, root);
	const oa_pki_cert *chain[] = {leaf, root};
	const oa_result *r = grade(&g, chain, 2, root, "s.example.com");

	fx_assert_check(r, OA_CHECK_SIGNATURE, OA_STATUS_PASS, "strong");
	fx_assert_check(r, OA_CHECK_CHAIN_ORDER, OA_STATUS_WARN, "root_sent");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(root);
}

/* A leaf of key type under an intermediate of the standard PKI, graded: its signature check. */
static void expect_leaf_key(oa_pki_key_type type, oa_status status, const char *reason,
			    const char *detail)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("key.example.com", "key.example.com", 90);
	spec.key_type = type;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "key.example.com");

	fx_assert_check(r, OA_CHECK_SIGNATURE, status, reason);
	if (detail != NULL) {
		fx_assert_detail(r, OA_CHECK_SIGNATURE, detail);
	}
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

/* The Web PKI's key rules (CA/B BR 6.1.5), as x509-limbo's webpki::forbidden-* cases ask. */
static void test_key_rules(void **state)
{
	expect_leaf_key(OA_PKI_KEY_RSA_2052, OA_STATUS_FAIL, "weak_key", "2052-bit RSA");
	expect_leaf_key(OA_PKI_KEY_EC_P192, OA_STATUS_FAIL, "weak_key", "SECP192R1");
	expect_leaf_key(OA_PKI_KEY_DSA_2048, OA_STATUS_FAIL, "forbidden_key_type", "DSA key");
	expect_leaf_key(OA_PKI_KEY_EC_P384, OA_STATUS_PASS, "strong", NULL);
	expect_leaf_key(OA_PKI_KEY_RSA_2048, OA_STATUS_PASS, "strong", NULL);
}

/* The trust anchor's key counts although the server never sends it. */
static void test_weak_key_in_trusted_root(void **state)
{
	fx_grading g = {0};
	oa_pki_spec rs = fx_ca_spec("Weak Root", 3650);
	rs.key_type = OA_PKI_KEY_RSA_1024;
	oa_pki_cert *root = fx_issue(&rs, NULL);
	oa_pki_spec ls = fx_leaf_spec("wr.example.com", "wr.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&ls, root);
	const oa_pki_cert *chain[] = {leaf};
	const oa_result *r = grade(&g, chain, 1, root, "wr.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(r, OA_CHECK_SIGNATURE, OA_STATUS_FAIL, "weak_rsa_key");
	fx_assert_detail(r, OA_CHECK_SIGNATURE, "trusted root 'Weak Root' has a 1024-bit RSA key");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(root);
}

/* A leaf from spec under the standard intermediate: its profile check, which never fails. */
static void expect_profile(oa_pki_spec spec, const char *name, oa_status status, const char *reason,
			   const char *detail)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, name);

	fx_assert_check(r, OA_CHECK_PROFILE, status, reason);
	if (detail != NULL) {
		fx_assert_detail(r, OA_CHECK_PROFILE, detail);
	}
	assert_true(oa_result_verdict(r) <= OA_STATUS_WARN);
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

/* A root with an extended key usage: the root rules of the profile (roots get only a few). */
static void test_profile_root(void **state)
{
	fx_grading g = {0};
	oa_pki_spec rs = fx_ca_spec("EKU Root", 3650);
	rs.purpose_oid = GNUTLS_KP_TLS_WWW_SERVER;
	oa_pki_cert *root = fx_issue(&rs, NULL);
	oa_pki_spec ls = fx_leaf_spec("er.example.com", "er.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&ls, root);
	const oa_pki_cert *chain[] = {leaf};
	const oa_result *r = grade(&g, chain, 1, root, "er.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(r, OA_CHECK_PROFILE, OA_STATUS_WARN, "root_has_eku");
	fx_assert_detail(r, OA_CHECK_PROFILE, "the root 'EKU Root'");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(root);
}

/*
 * Hand-made certificates for the profile rules the kit cannot express: base
 * with extension oid set to value (an existing one is replaced), signed
 * again with signer's key under signer's name (signer may be base itself).
 * Name and key stay, so what base issued still verifies under the result.
 * The caller frees the returned DER with gnutls_free.
 */
static gnutls_datum_t reissue(const oa_pki_cert *base, const char *oid, const void *value,
			      size_t size, unsigned critical, const oa_pki_cert *signer)
{
	gnutls_x509_crt_t crt;
	gnutls_x509_crt_t issuer;
	gnutls_x509_privkey_t key;
	gnutls_privkey_t pk;
	gnutls_datum_t der = {NULL, 0};

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_init(&issuer), 0);
	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_privkey_init(&pk), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, oa_pki_cert_der(base), GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(
	    gnutls_x509_crt_import(issuer, oa_pki_cert_der(signer), GNUTLS_X509_FMT_DER), 0);
	assert_int_equal(
	    gnutls_x509_privkey_import2(key, oa_pki_key_pem(signer), GNUTLS_X509_FMT_PEM, NULL, 0),
	    0);
	assert_int_equal(gnutls_privkey_import_x509(pk, key, 0), 0);
	assert_int_equal(gnutls_x509_crt_set_extension_by_oid(crt, oid, value, size, critical), 0);
	assert_int_equal(gnutls_x509_crt_privkey_sign(crt, issuer, pk, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	gnutls_privkey_deinit(pk);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(issuer);
	gnutls_x509_crt_deinit(crt);
	return der;
}

/* Grades DER certificates (wire order) against a store holding the one DER root. */
static const oa_result *grade_der(fx_grading *g, const gnutls_datum_t *certs, size_t n,
				  const gnutls_datum_t *root, const char *name)
{
	const char *names[1] = {name};
	gnutls_datum_t pem = {NULL, 0};
	oa_verify_params params;
	oa_error err;

	g->dir = fx_tempdir();
	char *bundle = fx_path(g->dir, "roots.pem");
	assert_int_equal(gnutls_pem_base64_encode2("CERTIFICATE", root, &pem), 0);
	fx_write(bundle, pem.data, pem.size);
	gnutls_free(pem.data);
	if (oa_trust_store_load(bundle, &g->store, &err) < 0) {
		fail_msg("trust store: %s", err.msg);
	}
	free(bundle);
	if (oa_chain_from_der(certs, n, &g->chain, &err) < 0) {
		fail_msg("chain: %s", err.msg);
	}
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 1;
	if (oa_verify(g->chain, g->store, &params, &g->result, &err) < 0) {
		fail_msg("oa_verify: %s", err.msg);
	}
	return g->result;
}

/* The subject key identifier of cert; *size is its length. */
static void subject_key_id(const oa_pki_cert *cert, unsigned char *id, size_t *size)
{
	gnutls_x509_crt_t crt;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, oa_pki_cert_der(cert), GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crt_get_subject_key_id(crt, id, size, NULL), 0);
	gnutls_x509_crt_deinit(crt);
}

/* The profile of leaf under root once root's extension oid is set to value. */
static void expect_root_profile(const oa_pki_cert *root, const oa_pki_cert *leaf, const char *oid,
				const void *value, size_t size, unsigned critical,
				const char *reason, const char *detail)
{
	fx_grading g = {0};
	gnutls_datum_t changed = reissue(root, oid, value, size, critical, root);
	const oa_result *r = grade_der(&g, oa_pki_cert_der(leaf), 1, &changed, "rr.example.com");

	fx_assert_check(r, OA_CHECK_PROFILE,
			strcmp(reason, "conforming") == 0 ? OA_STATUS_PASS : OA_STATUS_WARN,
			reason);
	if (detail != NULL) {
		fx_assert_detail(r, OA_CHECK_PROFILE, detail);
	}
	fx_grading_free(&g);
	gnutls_free(changed.data);
}

/* The root rules of CA/B BR 7.1.2.1: the authority key identifier and basicConstraints. */
static void test_profile_root_key_ids(void **state)
{
	oa_pki_spec rs = fx_ca_spec("Rules Root", 3650);
	oa_pki_cert *root = fx_issue(&rs, NULL);
	oa_pki_spec ls = fx_leaf_spec("rr.example.com", "rr.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&ls, root);
	unsigned char ski[64];
	size_t ski_size = sizeof(ski);
	unsigned char aki[128];
	static const unsigned char other_id[] = {0x30, 0x16, 0x80, 0x14, 1,  2,	 3,  4,
						 5,    6,    7,	   8,	 9,  10, 11, 12,
						 13,   14,   15,   16,	 17, 18, 19, 20};

	subject_key_id(root, ski, &ski_size);
	assert_true(ski_size + 7 <= sizeof(aki));
	/* SEQUENCE { [0] the root's own key identifier }: what a root may carry. */
	aki[0] = 0x30;
	aki[1] = (unsigned char)(ski_size + 2);
	aki[2] = 0x80;
	aki[3] = (unsigned char)ski_size;
	memcpy(aki + 4, ski, ski_size);
	expect_root_profile(root, leaf, "2.5.29.35", aki, ski_size + 4, 0, "conforming", NULL);
	/* The same with [2] authorityCertSerialNumber 1 after it. */
	aki[1] = (unsigned char)(ski_size + 5);
	aki[ski_size + 4] = 0x82;
	aki[ski_size + 5] = 0x01;
	aki[ski_size + 6] = 0x01;
	expect_root_profile(root, leaf, "2.5.29.35", aki, ski_size + 7, 0, "root_aki_issuer_serial",
			    "the root 'Rules Root' has an authority key identifier with an "
			    "authorityCertIssuer or authorityCertSerialNumber");
	expect_root_profile(root, leaf, "2.5.29.35", "\x30\x00", 2, 0, "root_aki_without_key_id",
			    "the root 'Rules Root' has an authority key identifier without a "
			    "keyIdentifier");
	/* A keyIdentifier claiming 5 octets where none follow. */
	expect_root_profile(root, leaf, "2.5.29.35", "\x30\x02\x80\x05", 4, 0,
			    "root_aki_without_key_id", "that does not parse");
	expect_root_profile(root, leaf, "2.5.29.35", other_id, sizeof(other_id), 0,
			    "root_aki_not_ski",
			    "the root 'Rules Root' has an authority key identifier that is not its "
			    "subject key identifier");
	/* basicConstraints CA:TRUE, not marked critical. */
	expect_root_profile(root, leaf, "2.5.29.19", "\x30\x03\x01\x01\xff", 5, 0,
			    "basic_constraints_not_critical",
			    "the root 'Rules Root' does not mark its basicConstraints critical");
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(root);
}

/* A root without a subject key identifier (CA/B BR 7.1.2.1.2). */
static void test_profile_root_missing_ski(void **state)
{
	fx_grading g = {0};
	oa_pki_spec rs = fx_ca_spec("No SKI Root", 3650);
	rs.omit_key_ids = true;
	oa_pki_cert *root = fx_issue(&rs, NULL);
	oa_pki_spec ls = fx_leaf_spec("ns.example.com", "ns.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&ls, root);
	/* The leaf's own AKI, so that only the root breaks a rule. */
	static const unsigned char aki[] = {0x30, 0x16, 0x80, 0x14, 1,	2,  3,	4,  5,	6,  7,	8,
					    9,	  10,	11,   12,   13, 14, 15, 16, 17, 18, 19, 20};
	gnutls_datum_t with_aki = reissue(leaf, "2.5.29.35", aki, sizeof(aki), 0, root);
	const oa_result *r = grade_der(&g, &with_aki, 1, oa_pki_cert_der(root), "ns.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(r, OA_CHECK_PROFILE, OA_STATUS_WARN, "missing_ski");
	fx_assert_detail(r, OA_CHECK_PROFILE,
			 "the root 'No SKI Root' has no subject key identifier");
	fx_grading_free(&g);
	gnutls_free(with_aki.data);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(root);
}

/* A trusted certificate that is not self-issued is held to the intermediate rules. */
static void test_profile_trusted_intermediate(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf};
	const oa_result *r = grade(&g, chain, 1, pki.inter, "origin.example.com");

	fx_assert_check(r, OA_CHECK_PROFILE, OA_STATUS_PASS, "conforming");
	fx_grading_free(&g);
	fx_pki_free(&pki);

	/* Its issuer has no SKI, so the trusted intermediate has no AKI. */
	oa_pki_spec rs = fx_ca_spec("Keyless Root", 3650);
	rs.omit_key_ids = true;
	oa_pki_cert *root = fx_issue(&rs, NULL);
	oa_pki_spec is = fx_ca_spec("Trusted Intermediate", 1825);
	oa_pki_cert *inter = fx_issue(&is, root);
	oa_pki_spec ls = fx_leaf_spec("ti.example.com", "ti.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&ls, inter);
	const oa_pki_cert *chain2[] = {leaf};

	r = grade(&g, chain2, 1, inter, "ti.example.com");
	fx_assert_check(r, OA_CHECK_PROFILE, OA_STATUS_WARN, "missing_aki");
	fx_assert_detail(r, OA_CHECK_PROFILE,
			 "the trust anchor 'Trusted Intermediate' has no authority key identifier");
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(inter);
	oa_pki_cert_destroy(root);
}

/* A self-signed leaf that is itself trusted is graded as a leaf, not also as a root. */
static void test_profile_trusted_self_signed_leaf(void **state)
{
	fx_grading g = {0};
	oa_pki_spec spec = fx_leaf_spec("sl.example.com", "sl.example.com", 90);
	oa_pki_cert *self = fx_issue(&spec, NULL);
	const oa_pki_cert *chain[] = {self};
	const oa_result *r = grade(&g, chain, 1, self, "sl.example.com");

	/* The kit signs it with no AKI; its EKU is a leaf's and no root finding. */
	fx_assert_check(r, OA_CHECK_PROFILE, OA_STATUS_WARN, "missing_aki");
	assert_string_equal(oa_result_check(r, OA_CHECK_PROFILE)->detail,
			    "the leaf 'sl.example.com' has no authority key identifier");
	fx_grading_free(&g);
	oa_pki_cert_destroy(self);
}

/* The profile of the standard path once one certificate's AIA extension is value. */
static void expect_aia(bool on_intermediate, const void *value, size_t size, oa_status status,
		       const char *reason, const char *detail)
{
	fx_grading g = {0};
	fx_pki pki;
	gnutls_datum_t der[2];

	fx_pki_make(&pki);
	if (on_intermediate) {
		der[0] = *oa_pki_cert_der(pki.leaf);
		der[1] = reissue(pki.inter, "1.3.6.1.5.5.7.1.1", value, size, 0, pki.root);
	} else {
		der[0] = reissue(pki.leaf, "1.3.6.1.5.5.7.1.1", value, size, 0, pki.inter);
		der[1] = *oa_pki_cert_der(pki.inter);
	}
	const oa_result *r = grade_der(&g, der, 2, oa_pki_cert_der(pki.root), "origin.example.com");

	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(r, OA_CHECK_PROFILE, status, reason);
	if (detail != NULL) {
		fx_assert_detail(r, OA_CHECK_PROFILE, detail);
	}
	fx_grading_free(&g);
	gnutls_free(der[on_intermediate ? 1 : 0].data);
	fx_pki_free(&pki);
}

/* An AIA that does not parse, lists nothing or points at no URI (CA/B BR 7.1.2.7.7). */
static void test_profile_malformed_aia(void **state)
{
	/* SEQUENCE { SEQUENCE { caIssuers, [6] "http://ca.example/i.crt" } } */
	static const char uri[] = "\x30\x23\x30\x21\x06\x08\x2b\x06\x01\x05\x05\x07\x30\x02"
				  "\x86\x15http://ca.example/i.c";
	/* The same access description with a dNSName [2] "ca.example" for location. */
	static const char dns[] = "\x30\x18\x30\x16\x06\x08\x2b\x06\x01\x05\x05\x07\x30\x02"
				  "\x82\x0a"
				  "ca.example";

	expect_aia(false, uri, sizeof(uri) - 1, OA_STATUS_PASS, "conforming", NULL);
	expect_aia(false, "malformed", 9, OA_STATUS_WARN, "malformed_aia",
		   "the leaf 'origin.example.com' has an authority information access extension "
		   "that does not parse");
	expect_aia(false, "\x30\x00", 2, OA_STATUS_WARN, "malformed_aia",
		   "that lists no access description");
	expect_aia(false, dns, sizeof(dns) - 1, OA_STATUS_WARN, "malformed_aia",
		   "that has an access location that is not a URI");
	/* Cut short inside the URI, and a length far past the end. */
	expect_aia(false, uri, sizeof(uri) - 5, OA_STATUS_WARN, "malformed_aia", "does not parse");
	expect_aia(false, "\x30\x84\xff\xff\xff\xff\x30\x00", 8, OA_STATUS_WARN, "malformed_aia",
		   "does not parse");
	/* An empty URI, and trailing bytes after the SEQUENCE. */
	expect_aia(false, "\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x05\x05\x07\x30\x02\x86\x00", 16,
		   OA_STATUS_WARN, "malformed_aia", "that has an empty URI");
	expect_aia(false, "\x30\x00\x00", 3, OA_STATUS_WARN, "malformed_aia", "does not parse");
	expect_aia(true, "malformed", 9, OA_STATUS_WARN, "malformed_aia",
		   "the intermediate 'Test Intermediate CA' has an authority information access "
		   "extension that does not parse");
}

/* Public CA profile violations warn (CloudFront accepts them), with stable reasons. */
static void test_profile(void **state)
{
	oa_pki_spec spec = fx_leaf_spec("p.example.com", "p.example.com", 90);

	expect_profile(spec, "p.example.com", OA_STATUS_PASS, "conforming", NULL);
	spec = fx_leaf_spec("other.example.com", "p.example.com", 90);
	expect_profile(spec, "p.example.com", OA_STATUS_WARN, "cn_not_in_san",
		       "common name 'other.example.com'");
	/* Byte for byte: a common name that differs only in case is not among the SANs. */
	spec = fx_leaf_spec("P.Example.com", "p.example.com", 90);
	expect_profile(spec, "p.example.com", OA_STATUS_WARN, "cn_not_in_san", "'P.Example.com'");
	spec = fx_leaf_spec("p.example.com", NULL, 90);
	expect_profile(spec, "p.example.com", OA_STATUS_WARN, "no_san", "no subjectAltName");
	spec = fx_leaf_spec("p.example.com", "p.example.com", 500);
	expect_profile(spec, "p.example.com", OA_STATUS_WARN, "validity_too_long",
		       "valid for 501 days");
	spec = fx_leaf_spec("p.example.com", "p.example.com", 90);
	spec.purpose_oid = "2.5.29.37.0";
	expect_profile(spec, "p.example.com", OA_STATUS_WARN, "any_purpose", "anyExtendedKeyUsage");
	/* No extended key usage at all: valid for TLS (trust passes), but no public CA issues it.
	 */
	spec = fx_leaf_spec("p.example.com", "p.example.com", 90);
	spec.omit_eku = true;
	expect_profile(spec, "p.example.com", OA_STATUS_WARN, "missing_eku",
		       "the leaf 'p.example.com' has no extended key usage extension");
	/* Issued before 2020-09-01, when the 398-day limit began: no warning. */
	spec = fx_leaf_spec("p.example.com", "p.example.com", 500);
	spec.not_before = 1577836800;
	spec.not_after = spec.not_before + 3650LL * DAY;
	expect_profile(spec, "p.example.com", OA_STATUS_PASS, "conforming", NULL);
}

static void test_rsa1024_leaf_fails(void **state)
{
	fx_grading g = {0};
	fx_pki pki;

	fx_pki_make(&pki);
	oa_pki_spec spec = fx_leaf_spec("rsa.example.com", "rsa.example.com", 90);
	spec.key_type = OA_PKI_KEY_RSA_1024;
	oa_pki_cert *leaf = fx_issue(&spec, pki.inter);
	const oa_pki_cert *chain[] = {leaf, pki.inter};
	const oa_result *r = grade(&g, chain, 2, pki.root, "rsa.example.com");

	fx_assert_check(r, OA_CHECK_SIGNATURE, OA_STATUS_FAIL, "weak_rsa_key");
	fx_assert_detail(r, OA_CHECK_SIGNATURE, "1024-bit");
	fx_assert_check(r, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_cert(r, 0)->key_bits, 1024);
	fx_grading_free(&g);
	oa_pki_cert_destroy(leaf);
	fx_pki_free(&pki);
}

static void test_key_match_and_mismatch(void **state)
{
	fx_grading g = {0};
	fx_pki pki;
	oa_key *key = NULL;
	oa_error err;
	const char *names[] = {"origin.example.com"};

	fx_pki_make(&pki);
	const oa_pki_cert *chain[] = {pki.leaf, pki.inter};
	const oa_pki_cert *roots[] = {pki.root};
	char *dir = fx_tempdir();
	char *path = fx_path(dir, "leaf.key");

	assert_int_equal(oa_pki_write_key(path, pki.leaf, &err), 0);
	assert_int_equal(oa_key_load_file(path, &key, &err), 0);
	const oa_result *r = fx_grade_at(&g, chain, 2, roots, 1, names, 1, time(NULL), key);
	fx_assert_check(r, OA_CHECK_KEY, OA_STATUS_PASS, "key_matches");
	fx_grading_free(&g);
	oa_key_destroy(key);
	key = NULL;

	assert_int_equal(oa_pki_write_key(path, pki.inter, &err), 0);
	assert_int_equal(oa_key_load_file(path, &key, &err), 0);
	r = fx_grade_at(&g, chain, 2, roots, 1, names, 1, time(NULL), key);
	fx_assert_check(r, OA_CHECK_KEY, OA_STATUS_FAIL, "key_mismatch");
	assert_int_equal(oa_result_verdict(r), OA_STATUS_FAIL);
	fx_grading_free(&g);
	oa_key_destroy(key);
	free(path);
	fx_tempdir_remove(dir);
	fx_pki_free(&pki);
}

static void test_empty_chain_cannot_run(void **state)
{
	oa_result *result = NULL;
	oa_verify_params params;
	oa_error err;

	oa_verify_params_init(&params);
	assert_int_equal(oa_verify(NULL, NULL, &params, &result, &err), -EINVAL);
	assert_null(result);
	oa_result_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_chain_passes_every_check),
	    cmocka_unit_test(test_missing_intermediate_names_issuer_and_aia),
	    cmocka_unit_test(test_untrusted_root_sent),
	    cmocka_unit_test(test_self_signed_leaf),
	    cmocka_unit_test(test_bad_signature),
	    cmocka_unit_test(test_not_a_ca),
	    cmocka_unit_test(test_path_length_violation),
	    cmocka_unit_test(test_client_only_purpose),
	    cmocka_unit_test(test_empty_eku),
	    cmocka_unit_test(test_empty_name_constraints),
	    cmocka_unit_test(test_chain_too_long),
	    cmocka_unit_test(test_expiry_valid),
	    cmocka_unit_test(test_expiry_soon_warns),
	    cmocka_unit_test(test_expiry_critical_fails),
	    cmocka_unit_test(test_expiry_relative_to_lifetime),
	    cmocka_unit_test(test_expiry_explicit_thresholds),
	    cmocka_unit_test(test_policy_parse),
	    cmocka_unit_test(test_expired_leaf),
	    cmocka_unit_test(test_expired_intermediate),
	    cmocka_unit_test(test_not_yet_valid),
	    cmocka_unit_test(test_evaluation_time_is_honoured),
	    cmocka_unit_test(test_regrade_moves_only_expiry),
	    cmocka_unit_test(test_root_sent_warns),
	    cmocka_unit_test(test_duplicate_warns),
	    cmocka_unit_test(test_unrelated_warns),
	    cmocka_unit_test(test_cross_signed_root_is_not_a_warning),
	    cmocka_unit_test(test_reversed_intermediates),
	    cmocka_unit_test(test_leaf_not_first),
	    cmocka_unit_test(test_cn_only_warns),
	    cmocka_unit_test(test_cn_ignored_when_san_present),
	    cmocka_unit_test(test_wildcard_one_level),
	    cmocka_unit_test(test_any_acceptable_name_suffices),
	    cmocka_unit_test(test_idn_name_compared_as_a_label),
	    cmocka_unit_test(test_no_names_skips),
	    cmocka_unit_test(test_invalid_name_cannot_run),
	    cmocka_unit_test(test_sha1_leaf_fails),
	    cmocka_unit_test(test_sha1_root_self_signature_is_fine),
	    cmocka_unit_test(test_rsa1024_leaf_fails),
	    cmocka_unit_test(test_key_rules),
	    cmocka_unit_test(test_profile),
	    cmocka_unit_test(test_profile_root),
	    cmocka_unit_test(test_profile_root_key_ids),
	    cmocka_unit_test(test_profile_root_missing_ski),
	    cmocka_unit_test(test_profile_trusted_intermediate),
	    cmocka_unit_test(test_profile_trusted_self_signed_leaf),
	    cmocka_unit_test(test_profile_malformed_aia),
	    cmocka_unit_test(test_weak_key_in_trusted_root),
	    cmocka_unit_test(test_key_match_and_mismatch),
	    cmocka_unit_test(test_empty_chain_cannot_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
