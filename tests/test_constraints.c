/*
 * The name constraints the core enforces itself (core/verify/constraints.c) in the
 * forms a DNS-only test kit cannot write: IP, e-mail, URI and directory-name
 * subtrees, a form the core cannot evaluate, and malformed extensions. Each
 * constraints extension is written here as DER, byte by byte, into a CA the
 * test issues; the chain is graded through oa_verify.
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

/* A growing DER buffer. */
struct der {
	unsigned char b[1024];
	size_t n;
};

static void put(struct der *d, const void *p, size_t n)
{
	assert_true(d->n + n <= sizeof(d->b));
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

/* Appends tag, short-form length and content. */
static void tlv(struct der *d, unsigned char tag, const void *content, size_t n)
{
	unsigned char head[2] = {tag, (unsigned char)n};

	assert_true(n < 128);
	put(d, head, 2);
	put(d, content, n);
}

/* NameConstraints with one permitted or excluded subtree whose base is the GeneralName gn. */
static struct der nc_one(bool excluded, const struct der *gn)
{
	struct der subtree = {.n = 0};
	struct der list = {.n = 0};
	struct der part = {.n = 0};
	struct der out = {.n = 0};

	tlv(&subtree, 0x30, gn->b, gn->n);
	tlv(&list, excluded ? 0xa1 : 0xa0, subtree.b, subtree.n);
	part = list;
	tlv(&out, 0x30, part.b, part.n);
	return out;
}

static struct der gn(unsigned char tag, const void *content, size_t n)
{
	struct der d = {.n = 0};

	tlv(&d, tag, content, n);
	return d;
}

struct graded {
	char *dir;
	oa_trust_store *store;
	oa_chain *chain;
	oa_result *result;
	oa_pki_cert *root;
	oa_pki_cert *ca;
	oa_pki_cert *leaf;
};

/*
 * Root -> CA (name constraints nc, nc_size bytes) -> leaf (leaf_spec); graded
 * for www.example.com now.
 */
static const oa_result *grade(struct graded *g, const unsigned char *nc, size_t nc_size,
			      const oa_pki_spec *leaf_spec)
{
	oa_pki_spec root = fx_ca_spec("NC Test Root", 3650);
	oa_pki_spec ca = fx_ca_spec("NC Test CA", 1825);
	const char *names[] = {"www.example.com"};
	gnutls_datum_t der[2];
	oa_verify_params params;
	oa_error err;

	ca.nc_der = nc;
	ca.nc_der_size = nc_size;
	g->root = fx_issue(&root, NULL);
	g->ca = fx_issue(&ca, g->root);
	g->leaf = fx_issue(leaf_spec, g->ca);
	g->dir = fx_tempdir();
	char *bundle = fx_bundle_file(g->dir, "roots.pem", g->root);
	if (oa_trust_store_load(bundle, &g->store, &err) < 0) {
		fail_msg("trust store: %s", err.msg);
	}
	free(bundle);
	der[0] = *oa_pki_cert_der(g->leaf);
	der[1] = *oa_pki_cert_der(g->ca);
	if (oa_chain_from_der(der, 2, &g->chain, &err) < 0) {
		fail_msg("chain: %s", err.msg);
	}
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 1;
	params.at = time(NULL);
	if (oa_verify(g->chain, g->store, &params, &g->result, &err) < 0) {
		fail_msg("oa_verify: %s", err.msg);
	}
	return g->result;
}

static void graded_free(struct graded *g)
{
	oa_result_destroy(g->result);
	oa_chain_destroy(g->chain);
	oa_trust_store_destroy(g->store);
	oa_pki_cert_destroy(g->root);
	oa_pki_cert_destroy(g->ca);
	oa_pki_cert_destroy(g->leaf);
	fx_tempdir_remove(g->dir);
	memset(g, 0, sizeof(*g));
}

static void expect_trust(const oa_result *r, oa_status status, const char *reason,
			 const char *needle)
{
	const oa_check *c = oa_result_check(r, OA_CHECK_TRUST);

	if (c->status != status || strcmp(c->reason, reason) != 0 ||
	    (needle != NULL && strstr(c->detail, needle) == NULL)) {
		fail_msg("trust: got %s/%s (%s), want %s/%s with '%s'", oa_status_name(c->status),
			 c->reason, c->detail, oa_status_name(status), reason,
			 needle ? needle : "");
	}
}

/* A leaf for www.example.com with extra SAN entries (GeneralName DER) after its DNS name. */
static oa_pki_spec leaf_with(struct der *san, const struct der *extra)
{
	static const char host[] = "www.example.com";
	oa_pki_spec spec = fx_leaf_spec("www.example.com", "www.example.com", 90);
	struct der names = {.n = 0};

	tlv(&names, 0x82, host, sizeof(host) - 1);
	if (extra != NULL) {
		put(&names, extra->b, extra->n);
	}
	san->n = 0;
	tlv(san, 0x30, names.b, names.n);
	spec.san_der = san->b;
	spec.san_der_size = san->n;
	return spec;
}

static const unsigned char net192[] = {192, 168, 0, 0, 255, 255, 0, 0};

static void test_ip_permitted(void **state)
{
	struct der base = gn(0x87, net192, sizeof(net192));
	struct der nc = nc_one(false, &base);
	static const unsigned char in[] = {192, 168, 1, 1};
	static const unsigned char out[] = {10, 0, 0, 1};
	struct der ip_in = gn(0x87, in, sizeof(in));
	struct der ip_out = gn(0x87, out, sizeof(out));
	struct der san;
	struct graded g = {0};
	oa_pki_spec leaf = leaf_with(&san, &ip_in);

	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_PASS, "trusted", NULL);
	graded_free(&g);
	leaf = leaf_with(&san, &ip_out);
	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_FAIL, "constraint_violation",
		     "the IP address 10.0.0.1 is outside the permitted subtrees");
	graded_free(&g);
}

static void test_ip_excluded(void **state)
{
	static const unsigned char net[] = {192, 168, 9, 0, 255, 255, 255, 0};
	static const unsigned char bad[] = {192, 168, 9, 9};
	static const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8};
	struct der base = gn(0x87, net, sizeof(net));
	struct der nc = nc_one(true, &base);
	struct der ip_bad = gn(0x87, bad, sizeof(bad));
	struct der ip_v6 = gn(0x87, v6, sizeof(v6));
	struct der san;
	struct graded g = {0};
	oa_pki_spec leaf = leaf_with(&san, &ip_bad);

	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_FAIL, "constraint_violation",
		     "the IP address 192.168.9.9 is in an excluded subtree");
	graded_free(&g);
	/* An IPv6 address is not in an IPv4 subtree. */
	leaf = leaf_with(&san, &ip_v6);
	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_PASS, "trusted", NULL);
	graded_free(&g);
}

static void test_email_permitted_domain(void **state)
{
	static const char dom[] = ".example.com";
	static const char good[] = "ops@mail.example.com";
	static const char bad[] = "ops@example.org";
	struct der base = gn(0x81, dom, sizeof(dom) - 1);
	struct der nc = nc_one(false, &base);
	struct der e_good = gn(0x81, good, sizeof(good) - 1);
	struct der e_bad = gn(0x81, bad, sizeof(bad) - 1);
	struct der san;
	struct graded g = {0};
	oa_pki_spec leaf = leaf_with(&san, &e_good);

	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_PASS, "trusted", NULL);
	graded_free(&g);
	leaf = leaf_with(&san, &e_bad);
	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_FAIL, "constraint_violation",
		     "the e-mail address ops@example.org is outside the permitted subtrees");
	graded_free(&g);
}

static void test_uri_excluded_host(void **state)
{
	static const char dom[] = "evil.example.net";
	static const char bad[] = "https://user@evil.example.net:8443/x";
	static const char good[] = "https://www.example.com/evil.example.net";
	struct der base = gn(0x86, dom, sizeof(dom) - 1);
	struct der nc = nc_one(true, &base);
	struct der u_bad = gn(0x86, bad, sizeof(bad) - 1);
	struct der u_good = gn(0x86, good, sizeof(good) - 1);
	struct der san;
	struct graded g = {0};
	oa_pki_spec leaf = leaf_with(&san, &u_bad);

	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_FAIL, "constraint_violation",
		     "the URI https://user@evil.example.net:8443/x is in an excluded subtree");
	graded_free(&g);
	leaf = leaf_with(&san, &u_good);
	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_PASS, "trusted", NULL);
	graded_free(&g);
}

/* directoryName O=<org>: [4] { SEQUENCE { SET { SEQUENCE { OID 2.5.4.10, UTF8String } } } }. */
static struct der dn_org(const char *org)
{
	static const unsigned char oid[] = {0x06, 0x03, 0x55, 0x04, 0x0a};
	struct der atv = {.n = 0};
	struct der inner = {.n = 0};
	struct der set = {.n = 0};
	struct der seq = {.n = 0};
	struct der name = {.n = 0};

	put(&inner, oid, sizeof(oid));
	tlv(&inner, 0x0c, org, strlen(org));
	tlv(&atv, 0x30, inner.b, inner.n);
	tlv(&set, 0x31, atv.b, atv.n);
	tlv(&seq, 0x30, set.b, set.n);
	tlv(&name, 0xa4, seq.b, seq.n);
	return name;
}

static void test_directory_name_permitted(void **state)
{
	struct der base = dn_org("Acme");
	struct der nc = nc_one(false, &base);
	struct graded g = {0};
	oa_pki_spec leaf = fx_leaf_spec("www.example.com", "www.example.com", 90);

	/* The kit writes O before CN, so O=Acme is the subject's first RDN. */
	leaf.organization = "Acme";
	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_PASS, "trusted", NULL);
	graded_free(&g);
	leaf.organization = "Other";
	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_FAIL, "constraint_violation",
		     "the subject name is outside the permitted subtrees");
	graded_free(&g);
}

/* otherName: [0] { OID 1.3.6.1.5.5.7.8.7 (SRVName), [0] { IA5String } }. */
static struct der other_name(void)
{
	static const unsigned char oid[] = {0x06, 0x08, 0x2b, 0x06, 0x01,
					    0x05, 0x05, 0x07, 0x08, 0x07};
	static const char value[] = "_https.example.com";
	struct der ia5 = {.n = 0};
	struct der wrapped = {.n = 0};
	struct der body = {.n = 0};
	struct der out = {.n = 0};

	tlv(&ia5, 0x16, value, sizeof(value) - 1);
	tlv(&wrapped, 0xa0, ia5.b, ia5.n);
	put(&body, oid, sizeof(oid));
	put(&body, wrapped.b, wrapped.n);
	tlv(&out, 0xa0, body.b, body.n);
	return out;
}

/* A constraint of a form the core cannot evaluate binds only certificates with such a name. */
static void test_other_name_constraint(void **state)
{
	struct der base = other_name();
	struct der nc = nc_one(true, &base);
	struct der san;
	struct graded g = {0};
	oa_pki_spec leaf = fx_leaf_spec("www.example.com", "www.example.com", 90);

	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_PASS, "trusted", NULL);
	graded_free(&g);
	leaf = leaf_with(&san, &base);
	expect_trust(grade(&g, nc.b, nc.n, &leaf), OA_STATUS_FAIL, "constraint_violation",
		     "it has a name of a form the core cannot evaluate against the constraints "
		     "(GeneralName tag 0)");
	graded_free(&g);
}

/* Malformed extensions: each rejects the path with the same detail. */
static void test_malformed_constraints(void **state)
{
	static const char host[] = "example.com";
	struct der dns = gn(0x82, host, sizeof(host) - 1);
	struct der ok = nc_one(false, &dns);
	static const unsigned char five[] = {192, 168, 0, 0, 255};
	struct der ip5 = gn(0x87, five, sizeof(five));
	struct der bad_ip = nc_one(false, &ip5);
	struct der cases[8];
	size_t n = 0;

	/* [2] is no part of NameConstraints. */
	cases[n] = (struct der){.n = 0};
	tlv(&cases[n], 0x30, (const unsigned char[]){0xa2, 0x00}, 2);
	n++;
	/* An empty permittedSubtrees (SIZE 1..MAX). */
	cases[n] = (struct der){.n = 0};
	tlv(&cases[n], 0x30, (const unsigned char[]){0xa0, 0x00}, 2);
	n++;
	/* A subtree with minimum 1 (must be 0, so absent). */
	{
		struct der subtree = {.n = 0};
		struct der list = {.n = 0};

		put(&subtree, dns.b, dns.n);
		put(&subtree, (const unsigned char[]){0x80, 0x01, 0x01}, 3);
		struct der st = {.n = 0};
		tlv(&st, 0x30, subtree.b, subtree.n);
		tlv(&list, 0xa0, st.b, st.n);
		cases[n] = (struct der){.n = 0};
		tlv(&cases[n], 0x30, list.b, list.n);
		n++;
	}
	/* An IP constraint of 5 octets. */
	cases[n++] = bad_ip;
	/* Trailing bytes after the SEQUENCE. */
	cases[n] = ok;
	put(&cases[n], (const unsigned char[]){0x00}, 1);
	n++;
	/* A length that runs past the end. */
	cases[n] = ok;
	cases[n].b[1] = (unsigned char)(cases[n].b[1] + 5);
	n++;
	/* A high-tag-number form tag inside. */
	cases[n] = (struct der){.n = 0};
	tlv(&cases[n], 0x30, (const unsigned char[]){0xbf, 0x81, 0x00, 0x00}, 4);
	n++;
	for (size_t i = 0; i < n; i++) {
		struct graded g = {0};
		oa_pki_spec leaf = fx_leaf_spec("www.example.com", "www.example.com", 90);

		expect_trust(grade(&g, cases[i].b, cases[i].n, &leaf), OA_STATUS_FAIL,
			     "constraint_violation",
			     "the name constraints of 'NC Test CA' are malformed or empty");
		graded_free(&g);
	}
	/* The well-formed one passes the same leaf. */
	struct graded g = {0};
	oa_pki_spec leaf = fx_leaf_spec("www.example.com", "www.example.com", 90);
	expect_trust(grade(&g, ok.b, ok.n, &leaf), OA_STATUS_PASS, "trusted", NULL);
	graded_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ip_permitted),
	    cmocka_unit_test(test_ip_excluded),
	    cmocka_unit_test(test_email_permitted_domain),
	    cmocka_unit_test(test_uri_excluded_host),
	    cmocka_unit_test(test_directory_name_permitted),
	    cmocka_unit_test(test_other_name_constraint),
	    cmocka_unit_test(test_malformed_constraints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
