/*
 * Path building and the constraints the core enforces itself (core/verify/path.c,
 * core/verify/constraints.c, core/verify/trust_check.c): cross-signed alternates, expired
 * cross-signs, key rollover, path length with self-issued certificates, name
 * constraints (wildcards, intermediates, trust anchors), keyCertSign, and a
 * hostile pool of look-alike CAs. Each test builds its own PKI at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fixtures.h"
#include "originaudit/chain.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

#define DAY 86400
#define MAX_CERTS 128

/* Every certificate a test issued, freed together. */
struct pki {
	oa_pki_cert *certs[MAX_CERTS];
	size_t n;
};

static oa_pki_cert *issue(struct pki *pki, const oa_pki_spec *spec, const oa_pki_cert *issuer)
{
	assert_true(pki->n < MAX_CERTS);
	pki->certs[pki->n] = fx_issue(spec, issuer);
	return pki->certs[pki->n++];
}

static void pki_free(struct pki *pki)
{
	for (size_t i = 0; i < pki->n; i++) {
		oa_pki_cert_destroy(pki->certs[i]);
	}
	pki->n = 0;
}

/* A CA spec valid for ten years; path_len < 0 for no constraint. */
static oa_pki_spec ca_spec(const char *cn, int path_len)
{
	oa_pki_spec spec = fx_ca_spec(cn, 3650);

	spec.path_len = path_len;
	return spec;
}

/* A server leaf spec valid for 90 days with the n given DNS names (n may be 0). */
static oa_pki_spec leaf_spec(const char *cn, const char *const *dns, size_t n)
{
	oa_pki_spec spec;

	oa_pki_spec_init(&spec, cn, 90);
	spec.dns_names = dns;
	spec.n_dns_names = n;
	return spec;
}

static const oa_result *grade(fx_grading *g, const oa_pki_cert *const *certs, size_t n,
			      const oa_pki_cert *const *roots, size_t n_roots)
{
	return fx_grade_at(g, certs, n, roots, n_roots, NULL, 0, time(NULL), NULL);
}

static void expect_no_detail(const oa_result *r, oa_check_id id, const char *needle)
{
	const oa_check *c = oa_result_check(r, id);

	if (strstr(c->detail, needle) != NULL) {
		fail_msg("%s detail '%s' has '%s'", oa_check_name(id), c->detail, needle);
	}
}

static void expect_hint(const oa_result *r, oa_check_id id, const char *needle)
{
	const oa_check *c = oa_result_check(r, id);

	if (strstr(c->hint, needle) == NULL) {
		fail_msg("%s hint '%s' lacks '%s'", oa_check_name(id), c->hint, needle);
	}
}

static void expect_anchor(const oa_result *r, const char *dn)
{
	const char *anchor = oa_result_anchor(r);

	if (anchor == NULL || strcmp(anchor, dn) != 0) {
		fail_msg("anchor '%s', want '%s'", anchor ? anchor : "(none)", dn);
	}
}

/*
 * One intermediate issued twice with the same key and subject: by an
 * untrusted root X and by the trusted root R. Whichever order they are sent
 * in, the path goes through the R-signed one.
 */
static void test_cross_signed_alternate(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns[] = {"www.example.com"};
	oa_pki_spec root_r = ca_spec("Root R", -1);
	oa_pki_spec root_x = ca_spec("Root X", -1);
	oa_pki_spec ica = ca_spec("Cross ICA", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	oa_pki_cert *r = issue(&pki, &root_r, NULL);
	oa_pki_cert *x = issue(&pki, &root_x, NULL);
	oa_pki_cert *ica_x = issue(&pki, &ica, x);
	ica.reuse_key_of = ica_x;
	oa_pki_cert *ica_r = issue(&pki, &ica, r);
	oa_pki_cert *ee = issue(&pki, &leaf, ica_x);
	const oa_pki_cert *roots[] = {r};

	const oa_pki_cert *x_first[] = {ee, ica_x, ica_r};
	const oa_result *res = grade(&g, x_first, 3, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_detail(res, OA_CHECK_TRUST, "'Root R'");
	expect_anchor(res, "CN=Root R");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_FAIL, "wrong_order");
	fx_assert_detail(res, OA_CHECK_CHAIN_ORDER, "#2 'Cross ICA'");
	expect_hint(res, OA_CHECK_CHAIN_ORDER, "1) 'www.example.com', 2) 'Cross ICA' (leaf first");
	assert_int_equal(oa_result_cert(res, 2)->role, OA_ROLE_INTERMEDIATE);
	assert_int_equal(oa_result_cert(res, 1)->role, OA_ROLE_UNRELATED);
	fx_grading_free(&g);

	/* The path first, the X-signed alternate after it: an extra certificate, not disorder. */
	const oa_pki_cert *r_first[] = {ee, ica_r, ica_x};
	res = grade(&g, r_first, 3, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=Root R");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_WARN, "unrelated_certificate");
	fx_assert_detail(res, OA_CHECK_CHAIN_ORDER, "#3 unrelated 'Cross ICA'");
	assert_int_equal(oa_result_verdict(res), OA_STATUS_WARN);
	fx_grading_free(&g);
	pki_free(&pki);
}

/*
 * x509-limbo nc-forbids-alternate-chain-ica: the sent ICA_B' carries a SAN
 * ICA_A's constraints exclude, but ICA_B' is issued by an untrusted CA; the
 * SAN-less ICA_B'' (same subject and key) under ICA_A gives a valid path.
 */
static void test_nc_forbids_alternate_chain_ica(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *ee_dns[] = {"x.example"};
	const char *b_dns[] = {"y.example"};
	const char *excluded[] = {"y.example"};
	oa_pki_spec root_spec = ca_spec("NC Root", -1);
	oa_pki_spec a_spec = ca_spec("ICA A", -1);
	oa_pki_spec other_spec = ca_spec("Other CA", -1);
	oa_pki_spec b_spec = ca_spec("ICA B", -1);
	oa_pki_spec ee_spec = leaf_spec("x.example", ee_dns, 1);

	(void)state;
	a_spec.nc_excluded_dns = excluded;
	a_spec.n_nc_excluded_dns = 1;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *a = issue(&pki, &a_spec, root);
	oa_pki_cert *other = issue(&pki, &other_spec, NULL);
	b_spec.dns_names = b_dns;
	b_spec.n_dns_names = 1;
	oa_pki_cert *b1 = issue(&pki, &b_spec, other);
	b_spec.dns_names = NULL;
	b_spec.n_dns_names = 0;
	b_spec.reuse_key_of = b1;
	oa_pki_cert *b2 = issue(&pki, &b_spec, a);
	oa_pki_cert *ee = issue(&pki, &ee_spec, b1);
	const oa_pki_cert *roots[] = {root};

	const oa_pki_cert *chain[] = {ee, b1, b2, a};
	const oa_result *res = grade(&g, chain, 4, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=NC Root");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_FAIL, "wrong_order");
	fx_grading_free(&g);

	/* Control: ICA_B' (with the excluded SAN) under ICA_A is the only way up. */
	b_spec.dns_names = b_dns;
	b_spec.n_dns_names = 1;
	b_spec.reuse_key_of = b1;
	oa_pki_cert *b1_under_a = issue(&pki, &b_spec, a);
	const oa_pki_cert *only_bad[] = {ee, b1_under_a, a};
	res = grade(&g, only_bad, 3, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(
	    res, OA_CHECK_TRUST,
	    "the name constraints of 'ICA A' forbid 'ICA B': the DNS name y.example is "
	    "in an excluded subtree (y.example) (path to 'NC Root')");
	expect_no_detail(res, OA_CHECK_TRUST, "path search stopped");
	fx_grading_free(&g);

	/* Both under ICA_A, the forbidden one sent first: the search moves on to the good one. */
	const oa_pki_cert *bad_first[] = {ee, b1_under_a, b2, a};
	res = grade(&g, bad_first, 4, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=NC Root");
	fx_grading_free(&g);
	pki_free(&pki);
}

/*
 * Let's Encrypt / DST Root CA X3: the intermediate is signed by an old root,
 * expired now, and by a new one, both trusted. The path through the new root
 * wins, so expiry passes; with only the old-root-signed intermediate, trust
 * still passes (time is the expiry check's) and expiry fails on the root.
 */
static void test_expired_cross_sign_avoided(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	time_t now = time(NULL);
	const char *dns[] = {"www.example.com"};
	oa_pki_spec old_spec = ca_spec("Old Root", -1);
	oa_pki_spec new_spec = ca_spec("New Root", -1);
	oa_pki_spec ica_spec = ca_spec("LE ICA", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	old_spec.not_before = now - 4000 * (time_t)DAY;
	old_spec.not_after = now - 10 * (time_t)DAY;
	ica_spec.not_before = now - 100 * (time_t)DAY;
	ica_spec.not_after = now + 1000 * (time_t)DAY;
	oa_pki_cert *old_root = issue(&pki, &old_spec, NULL);
	oa_pki_cert *new_root = issue(&pki, &new_spec, NULL);
	oa_pki_cert *ica_old = issue(&pki, &ica_spec, old_root);
	ica_spec.reuse_key_of = ica_old;
	oa_pki_cert *ica_new = issue(&pki, &ica_spec, new_root);
	oa_pki_cert *ee = issue(&pki, &leaf, ica_old);
	const oa_pki_cert *roots[] = {old_root, new_root};

	const oa_pki_cert *both[] = {ee, ica_old, ica_new};
	const oa_result *res = grade(&g, both, 3, roots, 2);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_detail(res, OA_CHECK_TRUST, "'New Root'");
	expect_anchor(res, "CN=New Root");
	fx_assert_check(res, OA_CHECK_EXPIRY, OA_STATUS_PASS, "valid");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_FAIL, "wrong_order");
	fx_grading_free(&g);

	/* The only path goes through the expired root. */
	const oa_pki_cert *old_only[] = {ee, ica_old};
	res = grade(&g, old_only, 2, roots, 2);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=Old Root");
	fx_assert_check(res, OA_CHECK_EXPIRY, OA_STATUS_FAIL, "expired");
	fx_assert_detail(res, OA_CHECK_EXPIRY, "the trusted root 'Old Root' expired on ");
	fx_assert_detail(res, OA_CHECK_EXPIRY, "(10 days ago)");
	expect_hint(res, OA_CHECK_EXPIRY, "Replace the expired intermediate");
	assert_int_equal(oa_result_earliest_expiry(res), old_spec.not_after);
	assert_int_equal(oa_result_verdict(res), OA_STATUS_FAIL);
	fx_grading_free(&g);
	pki_free(&pki);
}

/*
 * Two trusted roots with the same subject and different keys (a key
 * rollover); the intermediate is signed by the second. The second root
 * expires first, so the earliest expiry tells which one anchors the path.
 */
static void check_rollover(bool omit_key_ids)
{
	struct pki pki = {0};
	fx_grading g = {0};
	time_t now = time(NULL);
	const char *dns[] = {"www.example.com"};
	oa_pki_spec old_spec = ca_spec("Rollover Root", -1);
	oa_pki_spec new_spec = ca_spec("Rollover Root", -1);
	oa_pki_spec ica_spec = ca_spec("Rollover ICA", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	new_spec.not_after = now + 60 * (time_t)DAY;
	ica_spec.omit_key_ids = omit_key_ids;
	leaf.omit_key_ids = omit_key_ids;
	oa_pki_cert *old_root = issue(&pki, &old_spec, NULL);
	oa_pki_cert *new_root = issue(&pki, &new_spec, NULL);
	oa_pki_cert *ica = issue(&pki, &ica_spec, new_root);
	oa_pki_cert *ee = issue(&pki, &leaf, ica);
	/* The old root first: name-only matching tries it first and must move on. */
	const oa_pki_cert *roots[] = {old_root, new_root};
	const oa_pki_cert *chain[] = {ee, ica};

	const oa_result *res = grade(&g, chain, 2, roots, 2);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=Rollover Root");
	fx_assert_check(res, OA_CHECK_EXPIRY, OA_STATUS_PASS, "valid");
	fx_assert_detail(res, OA_CHECK_EXPIRY,
			 "the first to expire is the trusted root 'Rollover Root'");
	assert_int_equal(oa_result_earliest_expiry(res), new_spec.not_after);
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	/* Without key identifiers the profile check warns (RFC 5280 4.2.1.1/4.2.1.2); not graded
	 * here. */
	if (!omit_key_ids) {
		assert_int_equal(oa_result_verdict(res), OA_STATUS_PASS);
	}
	fx_grading_free(&g);
	pki_free(&pki);
}

static void test_key_rollover_same_subject_roots(void **state)
{
	(void)state;
	check_rollover(false);
}

static void test_key_rollover_name_only_matching(void **state)
{
	(void)state;
	check_rollover(true);
}

/* R -> ICA1 (pathlen 0) -> ICA2 -> leaf: ICA2 is one intermediate too many. */
static void test_path_length_exceeded(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns[] = {"www.example.com"};
	oa_pki_spec root_spec = ca_spec("PL Root", -1);
	oa_pki_spec ica1_spec = ca_spec("PL ICA1", 0);
	oa_pki_spec ica2_spec = ca_spec("PL ICA2", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *ica1 = issue(&pki, &ica1_spec, root);
	oa_pki_cert *ica2 = issue(&pki, &ica2_spec, ica1);
	oa_pki_cert *ee = issue(&pki, &leaf, ica2);
	const oa_pki_cert *roots[] = {root};
	const oa_pki_cert *chain[] = {ee, ica2, ica1};

	const oa_result *res = grade(&g, chain, 3, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(res, OA_CHECK_TRUST,
			 "the path length constraint of 'PL ICA1' allows no further intermediate, "
			 "but 'PL ICA2' is one (path to 'PL Root')");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	fx_grading_free(&g);
	pki_free(&pki);
}

/*
 * R -> ICA1 (pathlen 1) -> ICA1' (self-issued: ICA1's subject, a new key,
 * pathlen 1) -> ICA2 (pathlen 0) -> leaf: the self-issued ICA1' does not
 * count (RFC 5280 6.1.4 (l)), so ICA1's budget of one covers ICA2.
 */
static void test_path_length_self_issued_not_counted(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns[] = {"www.example.com"};
	oa_pki_spec root_spec = ca_spec("SI Root", -1);
	oa_pki_spec ica1_spec = ca_spec("SI ICA1", 1);
	oa_pki_spec ica2_spec = ca_spec("SI ICA2", 0);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	ica1_spec.organization = "Self Issuing Org";
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *ica1 = issue(&pki, &ica1_spec, root);
	oa_pki_cert *ica1b = issue(&pki, &ica1_spec, ica1);
	oa_pki_cert *ica2 = issue(&pki, &ica2_spec, ica1b);
	oa_pki_cert *ee = issue(&pki, &leaf, ica2);
	const oa_pki_cert *roots[] = {root};
	const oa_pki_cert *chain[] = {ee, ica2, ica1b, ica1};

	const oa_result *res = grade(&g, chain, 4, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=SI Root");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	assert_int_equal(oa_result_cert(res, 2)->role, OA_ROLE_INTERMEDIATE);
	assert_int_equal(oa_result_cert(res, 3)->role, OA_ROLE_INTERMEDIATE);
	fx_grading_free(&g);

	/* Control: a second, not self-issued ICA in the same place exceeds ICA1's budget. */
	oa_pki_spec other_spec = ca_spec("SI Other", 1);
	oa_pki_cert *other = issue(&pki, &other_spec, ica1);
	oa_pki_cert *ica2b = issue(&pki, &ica2_spec, other);
	oa_pki_cert *ee2 = issue(&pki, &leaf, ica2b);
	const oa_pki_cert *chain2[] = {ee2, ica2b, other, ica1};
	res = grade(&g, chain2, 4, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(res, OA_CHECK_TRUST,
			 "the path length constraint of 'SI ICA1' allows no further intermediate, "
			 "but 'SI ICA2' is one (path to 'SI Root')");
	fx_grading_free(&g);
	pki_free(&pki);
}

/* The trust anchor's own pathLenConstraint applies: a root with pathlen 0 allows no ICA. */
static void test_path_length_of_trust_anchor(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns[] = {"www.example.com"};
	oa_pki_spec root_spec = ca_spec("PL0 Root", 0);
	oa_pki_spec ica_spec = ca_spec("PL0 ICA", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *ica = issue(&pki, &ica_spec, root);
	oa_pki_cert *ee = issue(&pki, &leaf, ica);
	const oa_pki_cert *roots[] = {root};
	const oa_pki_cert *chain[] = {ee, ica};

	const oa_result *res = grade(&g, chain, 2, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(res, OA_CHECK_TRUST,
			 "the path length constraint of 'PL0 Root' allows no further intermediate, "
			 "but 'PL0 ICA' is one (path to 'PL0 Root')");
	fx_grading_free(&g);

	/* The same root issuing the leaf directly is fine. */
	oa_pki_cert *direct = issue(&pki, &leaf, root);
	const oa_pki_cert *chain2[] = {direct};
	res = grade(&g, chain2, 1, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_grading_free(&g);
	pki_free(&pki);
}

/* One name constraints case: root -> ICA (constraints) -> leaf, graded. */
struct nc_case {
	const char *const *permitted;
	size_t n_permitted;
	const char *const *excluded;
	size_t n_excluded;
	/* The leaf's CN and its one DNS SAN (NULL: none). */
	const char *cn;
	const char *san;
	oa_status status;
	const char *reason;
	/* Expected in the trust detail, or NULL. */
	const char *detail;
	/* Or the leaf's whole subjectAltName extension as DER (instead of san). */
	const unsigned char *san_der;
	size_t san_der_size;
};

/* Issues and grades one case; the caller frees g and pki. */
static const oa_result *nc_grade(fx_grading *g, struct pki *pki, const struct nc_case *c)
{
	const char *dns[] = {c->san};
	oa_pki_spec root_spec = ca_spec("NC Test Root", -1);
	oa_pki_spec ica_spec = ca_spec("NC ICA", -1);
	oa_pki_spec leaf = leaf_spec(c->cn, dns, c->san != NULL ? 1 : 0);

	ica_spec.nc_permitted_dns = c->permitted;
	ica_spec.n_nc_permitted_dns = c->n_permitted;
	ica_spec.nc_excluded_dns = c->excluded;
	ica_spec.n_nc_excluded_dns = c->n_excluded;
	leaf.san_der = c->san_der;
	leaf.san_der_size = c->san_der_size;
	oa_pki_cert *root = issue(pki, &root_spec, NULL);
	oa_pki_cert *ica = issue(pki, &ica_spec, root);
	oa_pki_cert *ee = issue(pki, &leaf, ica);
	const oa_pki_cert *roots[] = {root};
	const oa_pki_cert *chain[] = {ee, ica};

	const oa_result *res = grade(g, chain, 2, roots, 1);
	print_message("  leaf %s (SAN %s): %s\n", c->cn,
		      c->san	   ? c->san
		      : c->san_der ? "as DER"
				   : "none",
		      oa_result_check(res, OA_CHECK_TRUST)->detail);
	return res;
}

static void expect_nc_case(const oa_result *res, const struct nc_case *c)
{
	fx_assert_check(res, OA_CHECK_TRUST, c->status, c->reason);
	if (c->detail != NULL) {
		fx_assert_detail(res, OA_CHECK_TRUST, c->detail);
	}
}

static void run_nc_case(const struct nc_case *c)
{
	struct pki pki = {0};
	fx_grading g = {0};

	expect_nc_case(nc_grade(&g, &pki, c), c);
	fx_grading_free(&g);
	pki_free(&pki);
}

static void test_name_constraints_permitted(void **state)
{
	static const char *const permitted[] = {"example.com"};
	static const struct nc_case cases[] = {
	    {permitted, 1, NULL, 0, "www.example.com", "www.example.com", OA_STATUS_PASS, "trusted",
	     "the path leads to the trusted root 'NC Test Root'", NULL, 0},
	    {permitted, 1, NULL, 0, "www.other.com", "www.other.com", OA_STATUS_FAIL,
	     "constraint_violation",
	     "the name constraints of 'NC ICA' forbid 'www.other.com': the DNS name "
	     "www.other.com is outside the permitted subtrees (path to 'NC Test Root')",
	     NULL, 0},
	    {permitted, 1, NULL, 0, "*.example.com", "*.example.com", OA_STATUS_PASS, "trusted",
	     NULL, NULL, 0},
	    {permitted, 1, NULL, 0, "*.com", "*.com", OA_STATUS_FAIL, "constraint_violation",
	     "the name constraints of 'NC ICA' forbid '*.com': the DNS name *.com is outside the "
	     "permitted subtrees",
	     NULL, 0},
	    /* No SAN: the CN is the name clients match, so the constraints bind it. */
	    {permitted, 1, NULL, 0, "www.other.com", NULL, OA_STATUS_FAIL, "constraint_violation",
	     "the name constraints of 'NC ICA' forbid 'www.other.com': the DNS name "
	     "www.other.com is outside the permitted subtrees",
	     NULL, 0},
	    {permitted, 1, NULL, 0, "www.example.com", NULL, OA_STATUS_PASS, "trusted", NULL, NULL,
	     0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_nc_case(&cases[i]);
	}
}

static void test_name_constraints_excluded(void **state)
{
	static const char *const secret[] = {"secret.example.com"};
	static const char *const whole[] = {"example.com"};
	static const struct nc_case cases[] = {
	    /* CVE-2025-61727: *.example.com can be secret.example.com. */
	    {NULL, 0, secret, 1, "*.example.com", "*.example.com", OA_STATUS_FAIL,
	     "constraint_violation",
	     "the name constraints of 'NC ICA' forbid '*.example.com': the DNS name "
	     "*.example.com is in an excluded subtree (secret.example.com) (path to 'NC Test "
	     "Root')",
	     NULL, 0},
	    {NULL, 0, secret, 1, "www.example.com", "www.example.com", OA_STATUS_PASS, "trusted",
	     NULL, NULL, 0},
	    {NULL, 0, secret, 1, "a.secret.example.com", "a.secret.example.com", OA_STATUS_FAIL,
	     "constraint_violation",
	     "the DNS name a.secret.example.com is in an excluded subtree (secret.example.com)",
	     NULL, 0},
	    {NULL, 0, whole, 1, "*.example.com", "*.example.com", OA_STATUS_FAIL,
	     "constraint_violation",
	     "the DNS name *.example.com is in an excluded subtree (example.com)", NULL, 0},
	    {NULL, 0, whole, 1, "www.other.com", "www.other.com", OA_STATUS_PASS, "trusted", NULL,
	     NULL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_nc_case(&cases[i]);
	}
}

/*
 * A DNS SAN with a trailing dot names the same host (the name check matches
 * 'www.other.com.' to www.other.com), so an excluded subtree must catch it.
 */
static void test_name_constraints_trailing_dot_san(void **state)
{
	static const char *const other[] = {"other.com"};
	static const struct nc_case c = {
	    .excluded = other,
	    .n_excluded = 1,
	    .cn = "www.other.com",
	    .san = "www.other.com.",
	    .status = OA_STATUS_FAIL,
	    .reason = "constraint_violation",
	    .detail = "is in an excluded subtree (other.com)",
	};

	(void)state;
	run_nc_case(&c);
}

/*
 * A leaf whose subjectAltName has an IP address but no DNS name: the name
 * check falls back on its CN (RFC 6125), so the constraints must bind the CN.
 */
static void test_name_constraints_cn_beside_ip_san(void **state)
{
	static const char *const permitted[] = {"example.com"};
	static const unsigned char ip_san[] = {0x30, 0x06, 0x87, 0x04, 192, 0, 2, 1};
	static const struct nc_case c = {
	    .permitted = permitted,
	    .n_permitted = 1,
	    .cn = "www.other.com",
	    .san_der = ip_san,
	    .san_der_size = sizeof(ip_san),
	    .status = OA_STATUS_FAIL,
	    .reason = "constraint_violation",
	    .detail = "the DNS name www.other.com is outside the permitted subtrees",
	};

	(void)state;
	run_nc_case(&c);
}

/*
 * '.secret.example.com' excludes only names below secret.example.com; a
 * wildcard '*.example.com' covers one label, so it can be
 * secret.example.com but nothing below it: nothing it matches is excluded.
 */
static void test_name_constraints_wildcard_beside_dot_subtree(void **state)
{
	static const char *const dot_secret[] = {".secret.example.com"};
	static const struct nc_case c = {
	    .excluded = dot_secret,
	    .n_excluded = 1,
	    .cn = "*.example.com",
	    .san = "*.example.com",
	    .status = OA_STATUS_PASS,
	    .reason = "trusted",
	    .detail = NULL,
	};

	(void)state;
	run_nc_case(&c);
}

/* An intermediate's own SAN is bound by the constraints of the CAs above it. */
static void test_name_constraints_bind_intermediate(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *ee_dns[] = {"x.example"};
	const char *b_dns[] = {"y.example"};
	const char *excluded[] = {"y.example"};
	oa_pki_spec root_spec = ca_spec("NCI Root", -1);
	oa_pki_spec a_spec = ca_spec("NCI A", -1);
	oa_pki_spec b_spec = ca_spec("NCI B", -1);
	oa_pki_spec leaf = leaf_spec("x.example", ee_dns, 1);

	(void)state;
	a_spec.nc_excluded_dns = excluded;
	a_spec.n_nc_excluded_dns = 1;
	b_spec.dns_names = b_dns;
	b_spec.n_dns_names = 1;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *a = issue(&pki, &a_spec, root);
	oa_pki_cert *b = issue(&pki, &b_spec, a);
	oa_pki_cert *ee = issue(&pki, &leaf, b);
	const oa_pki_cert *roots[] = {root};
	const oa_pki_cert *chain[] = {ee, b, a};

	const oa_result *res = grade(&g, chain, 3, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(
	    res, OA_CHECK_TRUST,
	    "the name constraints of 'NCI A' forbid 'NCI B': the DNS name y.example is "
	    "in an excluded subtree (y.example) (path to 'NCI Root')");
	fx_grading_free(&g);
	pki_free(&pki);
}

/* The trust anchor's own name constraints bind every certificate below it. */
static void test_name_constraints_of_trust_anchor(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns_other[] = {"www.other.com"};
	const char *dns_ok[] = {"www.example.com"};
	const char *permitted[] = {"example.com"};
	oa_pki_spec root_spec = ca_spec("NCR Root", -1);
	oa_pki_spec ica_spec = ca_spec("NCR ICA", -1);
	oa_pki_spec other = leaf_spec("www.other.com", dns_other, 1);
	oa_pki_spec ok = leaf_spec("www.example.com", dns_ok, 1);

	(void)state;
	root_spec.nc_permitted_dns = permitted;
	root_spec.n_nc_permitted_dns = 1;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *ica = issue(&pki, &ica_spec, root);
	oa_pki_cert *ee_other = issue(&pki, &other, ica);
	oa_pki_cert *ee_ok = issue(&pki, &ok, ica);
	const oa_pki_cert *roots[] = {root};

	const oa_pki_cert *chain[] = {ee_other, ica};
	const oa_result *res = grade(&g, chain, 2, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(res, OA_CHECK_TRUST,
			 "the name constraints of 'NCR Root' forbid 'www.other.com': the DNS name "
			 "www.other.com is outside the permitted subtrees (path to 'NCR Root')");
	fx_grading_free(&g);

	const oa_pki_cert *chain_ok[] = {ee_ok, ica};
	res = grade(&g, chain_ok, 2, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_grading_free(&g);
	pki_free(&pki);
}

/* An intermediate whose key usage lacks keyCertSign cannot issue the leaf. */
static void test_issuer_without_key_cert_sign(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns[] = {"www.example.com"};
	oa_pki_spec root_spec = ca_spec("KU Root", -1);
	oa_pki_spec ica_spec = ca_spec("KU ICA", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	ica_spec.ca_without_cert_sign = true;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *ica = issue(&pki, &ica_spec, root);
	oa_pki_cert *ee = issue(&pki, &leaf, ica);
	const oa_pki_cert *roots[] = {root};
	const oa_pki_cert *chain[] = {ee, ica};

	const oa_result *res = grade(&g, chain, 2, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(res, OA_CHECK_TRUST,
			 "'KU ICA' issued 'www.example.com' but its key usage lacks keyCertSign "
			 "(path to 'KU Root')");
	fx_grading_free(&g);
	pki_free(&pki);
}

#define POOL 40
#define POOL_CROSS 4

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* A hostile pool of look-alike CAs and what it is graded against. */
struct pool {
	struct pki pki;
	const oa_pki_cert *chain[1 + POOL + POOL_CROSS];
	size_t n;
	const oa_pki_cert *roots[2];
	size_t n_roots;
};

/*
 * POOL CAs without key identifiers, each signed by another: member i by
 * member i+1 around the ring, plus POOL_CROSS extra cross links; the leaf is
 * issued by member 0 and sent first, the pool after it. With one subject
 * every member has the same DN; with two, even members have subject A and
 * odd ones subject B (so no member is self-issued). Name-only matching makes
 * every member of the right subject a candidate issuer of every other. The
 * store holds an unrelated root and, with lookalike_root, a trusted root with
 * subject A and a key of its own: then every step has an anchored candidate
 * that costs signature checks.
 */
static void pool_make(struct pool *p, bool two_subjects, bool lookalike_root)
{
	const char *dns[] = {"www.example.com"};
	oa_pki_spec subject[2] = {ca_spec("Pool CA", -1), ca_spec("Pool CA", -1)};
	oa_pki_spec unrelated_spec = ca_spec("Unrelated Root", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);
	oa_pki_cert *seeds[POOL];
	oa_pki_cert *members[POOL];

	subject[0].organization = "Pool Org A";
	subject[1].organization = two_subjects ? "Pool Org B" : "Pool Org A";
	subject[0].omit_key_ids = true;
	subject[1].omit_key_ids = true;
	leaf.omit_key_ids = true;
	/* Self-signed seeds (never sent) hold the keys; members reuse them, signed by another. */
	for (size_t i = 0; i < POOL; i++) {
		seeds[i] = issue(&p->pki, &subject[i % 2], NULL);
	}
	for (size_t i = 0; i < POOL; i++) {
		oa_pki_spec member = subject[i % 2];

		member.reuse_key_of = seeds[i];
		members[i] = issue(&p->pki, &member, seeds[(i + 1) % POOL]);
	}
	p->n = 0;
	p->chain[p->n++] = issue(&p->pki, &leaf, members[0]);
	for (size_t i = 0; i < POOL; i++) {
		p->chain[p->n++] = members[i];
	}
	for (size_t i = 0; i < POOL_CROSS; i++) {
		oa_pki_spec cross = subject[0];

		cross.reuse_key_of = seeds[i * 10];
		p->chain[p->n++] = issue(&p->pki, &cross, seeds[(i * 10 + 13) % POOL]);
	}
	p->n_roots = 0;
	p->roots[p->n_roots++] = issue(&p->pki, &unrelated_spec, NULL);
	if (lookalike_root) {
		oa_pki_spec root_spec = subject[0];

		root_spec.omit_key_ids = false;
		p->roots[p->n_roots++] = issue(&p->pki, &root_spec, NULL);
	}
}

/* Grades the pool, printing how long oa_verify took (not asserted: machines differ). */
static const oa_result *pool_grade(fx_grading *g, struct pool *p, const char *label)
{
	struct timespec t0;
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	const oa_result *res = grade(g, p->chain, p->n, p->roots, p->n_roots);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	const oa_check *trust = oa_result_check(res, OA_CHECK_TRUST);
	print_message("  hostile pool, %s (%zu certificates sent): oa_verify took %.1f ms; "
		      "trust %s/%s: %s\n",
		      label, p->n, elapsed_ms(&t0, &t1), oa_status_name(trust->status),
		      trust->reason, trust->detail);
	return res;
}

/* Every path through the pool runs into the depth limit; the step bound stops the search. */
static void test_hostile_pool_two_subjects(void **state)
{
	struct pool p = {0};
	fx_grading g = {0};

	(void)state;
	pool_make(&p, true, false);
	const oa_result *res = pool_grade(&g, &p, "two subjects");
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "chain_too_long");
	fx_assert_detail(res, OA_CHECK_TRUST,
			 "the certification path is longer than 16 certificates; the path search "
			 "stopped at its bounds (0 candidate paths verified, at most 256 signature "
			 "checks)");
	assert_int_equal(oa_result_verdict(res), OA_STATUS_FAIL);
	fx_grading_free(&g);
	pki_free(&p.pki);
}

/*
 * A trusted root with the subject of half the pool (and a key of its own):
 * every step verifies a path that fails, so the signature bound stops the
 * search; the verdict is the first anchored path's (the leaf under that root).
 */
static void test_hostile_pool_lookalike_root(void **state)
{
	struct pool p = {0};
	fx_grading g = {0};

	(void)state;
	pool_make(&p, true, true);
	const oa_result *res = pool_grade(&g, &p, "two subjects, a look-alike trusted root");
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "bad_signature");
	fx_assert_detail(
	    res, OA_CHECK_TRUST,
	    "the signature on 'www.example.com' (issued by 'Pool CA') does not verify; "
	    "the path search stopped at its bounds (");
	fx_assert_detail(res, OA_CHECK_TRUST, "at most 256 signature checks)");
	fx_grading_free(&g);
	pki_free(&p.pki);
}

/*
 * The pool with one subject for every member: each member is self-issued
 * but none is self-signed, so no path reaches a root; the right verdict is
 * the same as with two subjects (the depth limit, the search stopped at its
 * bounds), not an untrusted root.
 */
static void test_hostile_pool_one_subject(void **state)
{
	struct pool p = {0};
	fx_grading g = {0};

	(void)state;
	pool_make(&p, false, false);
	const oa_result *res = pool_grade(&g, &p, "one subject");
	assert_int_equal(oa_result_check(res, OA_CHECK_TRUST)->status, OA_STATUS_FAIL);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "chain_too_long");
	fx_assert_detail(res, OA_CHECK_TRUST,
			 "the certification path is longer than 16 certificates; the path search "
			 "stopped at its bounds (0 candidate paths verified, at most 256 signature "
			 "checks)");
	fx_grading_free(&g);
	pki_free(&p.pki);
}

/*
 * R -> ICA1 -> ICA1' (self-issued: ICA1's subject, a new key, no key
 * identifiers) -> ICA2 -> leaf: ICA1' is an intermediate like any other.
 */
static void test_self_issued_intermediate_without_key_ids(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns[] = {"www.example.com"};
	oa_pki_spec root_spec = ca_spec("SK Root", -1);
	oa_pki_spec ica1_spec = ca_spec("SK ICA1", -1);
	oa_pki_spec ica2_spec = ca_spec("SK ICA2", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *ica1 = issue(&pki, &ica1_spec, root);
	ica1_spec.omit_key_ids = true;
	oa_pki_cert *ica1b = issue(&pki, &ica1_spec, ica1);
	oa_pki_cert *ica2 = issue(&pki, &ica2_spec, ica1b);
	oa_pki_cert *ee = issue(&pki, &leaf, ica2);
	const oa_pki_cert *roots[] = {root};
	const oa_pki_cert *chain[] = {ee, ica2, ica1b, ica1};

	const oa_result *res = grade(&g, chain, 4, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=SK Root");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	assert_int_equal(oa_result_cert(res, 2)->role, OA_ROLE_INTERMEDIATE);
	fx_grading_free(&g);
	pki_free(&pki);
}

/*
 * The first anchored candidate fails its path length, a later one verifies.
 * (a) Two versions of ICA1 under the root, same subject and key: the one
 * sent first has pathlen 0, which ICA2 below it exceeds.
 * (b) Two trusted roots with the same subject and key: the first in the
 * store has pathlen 0.
 */
static void test_valid_path_after_failing_candidate(void **state)
{
	struct pki pki = {0};
	fx_grading g = {0};
	const char *dns[] = {"www.example.com"};
	oa_pki_spec root_spec = ca_spec("Alt Root", -1);
	oa_pki_spec ica1_spec = ca_spec("Alt ICA1", 0);
	oa_pki_spec ica2_spec = ca_spec("Alt ICA2", -1);
	oa_pki_spec leaf = leaf_spec("www.example.com", dns, 1);

	(void)state;
	oa_pki_cert *root = issue(&pki, &root_spec, NULL);
	oa_pki_cert *ica1_bad = issue(&pki, &ica1_spec, root);
	ica1_spec.path_len = -1;
	ica1_spec.reuse_key_of = ica1_bad;
	oa_pki_cert *ica1_good = issue(&pki, &ica1_spec, root);
	oa_pki_cert *ica2 = issue(&pki, &ica2_spec, ica1_bad);
	oa_pki_cert *ee = issue(&pki, &leaf, ica2);
	const oa_pki_cert *roots[] = {root};

	const oa_pki_cert *chain[] = {ee, ica2, ica1_bad, ica1_good};
	const oa_result *res = grade(&g, chain, 4, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=Alt Root");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_FAIL, "wrong_order");
	fx_grading_free(&g);

	/* Control: without the good alternative, the path length verdict stands. */
	const oa_pki_cert *bad_only[] = {ee, ica2, ica1_bad};
	res = grade(&g, bad_only, 3, roots, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(res, OA_CHECK_TRUST, "the path length constraint of 'Alt ICA1'");
	fx_grading_free(&g);

	/* (b) The same subject and key twice in the store, the pathlen 0 one first. */
	oa_pki_spec tight_spec = ca_spec("Twin Root", 0);
	oa_pki_cert *tight = issue(&pki, &tight_spec, NULL);
	oa_pki_spec loose_spec = ca_spec("Twin Root", -1);
	loose_spec.reuse_key_of = tight;
	oa_pki_cert *loose = issue(&pki, &loose_spec, NULL);
	oa_pki_spec t1_spec = ca_spec("Twin ICA1", -1);
	oa_pki_spec t2_spec = ca_spec("Twin ICA2", -1);
	oa_pki_cert *t1 = issue(&pki, &t1_spec, tight);
	oa_pki_cert *t2 = issue(&pki, &t2_spec, t1);
	oa_pki_cert *ee2 = issue(&pki, &leaf, t2);
	const oa_pki_cert *twin_roots[] = {tight, loose};
	const oa_pki_cert *chain2[] = {ee2, t2, t1};
	res = grade(&g, chain2, 3, twin_roots, 2);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	expect_anchor(res, "CN=Twin Root");
	fx_assert_check(res, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	fx_grading_free(&g);

	/* Control: only the tight root trusted. */
	const oa_pki_cert *tight_only[] = {tight};
	res = grade(&g, chain2, 3, tight_only, 1);
	fx_assert_check(res, OA_CHECK_TRUST, OA_STATUS_FAIL, "constraint_violation");
	fx_assert_detail(
	    res, OA_CHECK_TRUST,
	    "the path length constraint of 'Twin Root' allows no further intermediate, "
	    "but 'Twin ICA1' is one (path to 'Twin Root')");
	fx_grading_free(&g);
	pki_free(&pki);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cross_signed_alternate),
	    cmocka_unit_test(test_nc_forbids_alternate_chain_ica),
	    cmocka_unit_test(test_expired_cross_sign_avoided),
	    cmocka_unit_test(test_key_rollover_same_subject_roots),
	    cmocka_unit_test(test_key_rollover_name_only_matching),
	    cmocka_unit_test(test_path_length_exceeded),
	    cmocka_unit_test(test_path_length_self_issued_not_counted),
	    cmocka_unit_test(test_path_length_of_trust_anchor),
	    cmocka_unit_test(test_name_constraints_permitted),
	    cmocka_unit_test(test_name_constraints_excluded),
	    cmocka_unit_test(test_name_constraints_trailing_dot_san),
	    cmocka_unit_test(test_name_constraints_cn_beside_ip_san),
	    cmocka_unit_test(test_name_constraints_wildcard_beside_dot_subtree),
	    cmocka_unit_test(test_name_constraints_bind_intermediate),
	    cmocka_unit_test(test_name_constraints_of_trust_anchor),
	    cmocka_unit_test(test_issuer_without_key_cert_sign),
	    cmocka_unit_test(test_self_issued_intermediate_without_key_ids),
	    cmocka_unit_test(test_hostile_pool_two_subjects),
	    cmocka_unit_test(test_hostile_pool_lookalike_root),
	    cmocka_unit_test(test_hostile_pool_one_subject),
	    cmocka_unit_test(test_valid_path_after_failing_candidate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
