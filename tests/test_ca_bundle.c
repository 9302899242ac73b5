/*
 * Checks the committed Mozilla root bundle against its MANIFEST, the trust
 * store loader and the profile check's root rules. It reads only the files
 * in the source tree (paths from OA_CA_BUNDLE_SRC and OA_CA_MANIFEST), never
 * the host's ca-certificates, so it gives the same answer on every machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* cmocka.h relies on these being included first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixtures.h"
#include "originaudit/chain.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN (2 * SHA256_LEN)
#define MANIFEST_COUNT_PREFIX "# certificates: "
#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"

struct manifest_entry {
	char sha256[SHA256_HEX_LEN + 1];
};

/* Everything the cases share, read once by the group setup. */
struct bundle {
	const char *pem_path;
	const char *manifest_path;
	gnutls_datum_t pem;
	/* Result of gnutls_x509_crt_list_import2, kept so case (a) can report it. */
	int import_rc;
	gnutls_x509_crt_t *certs;
	unsigned int ncerts;
	struct manifest_entry *entries;
	size_t nentries;
	/* Count from the "# certificates: N" header line; -1 when absent. */
	long header_count;
	/* First MANIFEST line that is neither a comment nor a valid entry; 0 if none. */
	size_t bad_line;
};

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int is_lower_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

static size_t count_occurrences(const gnutls_datum_t *data, const char *needle)
{
	size_t needle_len = strlen(needle);
	const unsigned char *p = data->data;
	size_t left = data->size;
	size_t n = 0;
	const unsigned char *hit;

	while (left >= needle_len) {
		hit = memmem(p, left, needle, needle_len);
		if (hit == NULL) {
			break;
		}
		n++;
		left -= (size_t)(hit - p) + needle_len;
		p = hit + needle_len;
	}
	return n;
}

/* An entry line is "<64 lowercase hex>  <non-empty subject>". */
static int parse_entry(const char *line, struct manifest_entry *entry)
{
	if (strlen(line) < SHA256_HEX_LEN + 3) {
		return -1;
	}
	if (!is_lower_hex(line, SHA256_HEX_LEN)) {
		return -1;
	}
	if (line[SHA256_HEX_LEN] != ' ' || line[SHA256_HEX_LEN + 1] != ' ') {
		return -1;
	}
	if (line[SHA256_HEX_LEN + 2] == ' ') {
		return -1;
	}
	memcpy(entry->sha256, line, SHA256_HEX_LEN);
	entry->sha256[SHA256_HEX_LEN] = '\0';
	return 0;
}

static int is_count_header(const char *line)
{
	return strncmp(line, MANIFEST_COUNT_PREFIX, strlen(MANIFEST_COUNT_PREFIX)) == 0;
}

static int parse_header_count(const char *line, long *count)
{
	const char *digits = line + strlen(MANIFEST_COUNT_PREFIX);
	char *end = NULL;
	long value;

	errno = 0;
	value = strtol(digits, &end, 10);
	if (errno != 0 || end == digits || *end != '\0' || value < 0) {
		return -1;
	}
	*count = value;
	return 0;
}

static int read_manifest(struct bundle *b)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t lineno = 0;
	size_t alloc = 0;
	struct manifest_entry *grown;
	int rc = -1;

	f = fopen(b->manifest_path, "r");
	if (f == NULL) {
		print_error("%s: %s\n", b->manifest_path, strerror(errno));
		return -1;
	}
	for (;;) {
		len = getline(&line, &cap, f);
		if (len == -1) {
			break;
		}
		lineno++;
		if (len > 0 && line[len - 1] == '\n') {
			line[len - 1] = '\0';
		}
		if (line[0] == '#') {
			if (is_count_header(line) &&
			    parse_header_count(line, &b->header_count) != 0 && b->bad_line == 0) {
				b->bad_line = lineno;
			}
			continue;
		}
		if (b->nentries == alloc) {
			alloc = alloc == 0 ? 256 : 2 * alloc;
			grown = realloc(b->entries, alloc * sizeof(*b->entries));
			if (grown == NULL) {
				print_error("out of memory reading %s\n", b->manifest_path);
				goto out;
			}
			b->entries = grown;
		}
		if (parse_entry(line, &b->entries[b->nentries]) != 0) {
			if (b->bad_line == 0) {
				b->bad_line = lineno;
			}
			continue;
		}
		b->nentries++;
	}
	if (ferror(f)) {
		print_error("%s: read error\n", b->manifest_path);
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

static int group_teardown(void **state)
{
	struct bundle *b = *state;
	unsigned int i;

	if (b == NULL) {
		return 0;
	}
	for (i = 0; i < b->ncerts; i++) {
		gnutls_x509_crt_deinit(b->certs[i]);
	}
	gnutls_free(b->certs);
	gnutls_free(b->pem.data);
	free(b->entries);
	free(b);
	*state = NULL;
	return 0;
}

static int group_setup(void **state)
{
	struct bundle *b;
	int rc;

	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		return -1;
	}
	*state = b;
	b->header_count = -1;
	b->pem_path = getenv("OA_CA_BUNDLE_SRC");
	b->manifest_path = getenv("OA_CA_MANIFEST");
	if (b->pem_path == NULL || b->manifest_path == NULL) {
		print_error("OA_CA_BUNDLE_SRC and OA_CA_MANIFEST must name the bundle and its "
			    "MANIFEST\n");
		goto fail;
	}
	rc = gnutls_load_file(b->pem_path, &b->pem);
	if (rc < 0) {
		print_error("%s: %s\n", b->pem_path, gnutls_strerror(rc));
		goto fail;
	}
	if (read_manifest(b) != 0) {
		goto fail;
	}
	/*
	 * A parse failure is not fatal here: case (a) asserts on it, and the
	 * other cases refuse to run on a partial list.
	 */
	b->import_rc =
	    gnutls_x509_crt_list_import2(&b->certs, &b->ncerts, &b->pem, GNUTLS_X509_FMT_PEM, 0);
	if (b->import_rc < 0) {
		b->certs = NULL;
		b->ncerts = 0;
	}
	return 0;
fail:
	group_teardown(state);
	return -1;
}

/* (a) Every certificate parses and the three counts agree. */
static void test_bundle_parses_and_counts_match(void **state)
{
	struct bundle *b = *state;

	assert_int_equal(b->import_rc, GNUTLS_E_SUCCESS);
	assert_int_equal(b->bad_line, 0);
	/* The importer must not have skipped any PEM block it did not understand. */
	assert_int_equal(b->ncerts, count_occurrences(&b->pem, PEM_BEGIN));
	assert_true(b->ncerts > 0);
	assert_int_equal(b->ncerts, b->nentries);
	assert_int_equal(b->header_count, b->nentries);
}

/* (b) Certificate i has the SHA-256 that MANIFEST entry i records. */
static void test_fingerprints_match_manifest(void **state)
{
	struct bundle *b = *state;
	unsigned char digest[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	size_t size;
	unsigned int i;

	assert_int_equal(b->import_rc, GNUTLS_E_SUCCESS);
	assert_int_equal(b->ncerts, b->nentries);
	for (i = 0; i < b->ncerts; i++) {
		size = sizeof(digest);
		assert_int_equal(
		    gnutls_x509_crt_get_fingerprint(b->certs[i], GNUTLS_DIG_SHA256, digest, &size),
		    GNUTLS_E_SUCCESS);
		assert_int_equal(size, SHA256_LEN);
		hex_encode(digest, size, hex);
		assert_string_equal(hex, b->entries[i].sha256);
	}
}

/* (c) Every certificate is a self-issued CA, as a trust anchor must be. */
static void test_every_cert_is_self_signed_ca(void **state)
{
	struct bundle *b = *state;
	unsigned int critical;
	unsigned int ca;
	int pathlen;
	unsigned int i;

	assert_int_equal(b->import_rc, GNUTLS_E_SUCCESS);
	assert_true(b->ncerts > 0);
	for (i = 0; i < b->ncerts; i++) {
		assert_int_equal(gnutls_x509_crt_check_issuer(b->certs[i], b->certs[i]), 1);
		critical = 0;
		ca = 0;
		pathlen = 0;
		assert_int_equal(
		    gnutls_x509_crt_get_basic_constraints(b->certs[i], &critical, &ca, &pathlen),
		    1);
		assert_int_equal(ca, 1);
	}
}

/* (d) The project's own loader accepts the bundle and describes it exactly. */
static void test_loader_accepts_bundle(void **state)
{
	struct bundle *b = *state;
	oa_trust_store *store = NULL;
	oa_error err;
	unsigned char digest[SHA256_LEN];
	char expected[SHA256_HEX_LEN + 1];
	const char *sha;

	memset(&err, 0, sizeof(err));
	assert_int_equal(b->import_rc, GNUTLS_E_SUCCESS);
	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, b->pem.data, b->pem.size, digest),
			 GNUTLS_E_SUCCESS);
	hex_encode(digest, sizeof(digest), expected);

	assert_int_equal(oa_trust_store_load(b->pem_path, &store, &err), 0);
	assert_non_null(store);
	assert_int_equal(oa_trust_store_count(store), b->ncerts);
	assert_string_equal(oa_trust_store_path(store), b->pem_path);
	sha = oa_trust_store_sha256(store);
	assert_non_null(sha);
	assert_int_equal(strlen(sha), SHA256_HEX_LEN);
	assert_true(is_lower_hex(sha, SHA256_HEX_LEN));
	assert_string_equal(sha, expected);
	oa_trust_store_destroy(store);
}

/* (e) A missing file is -ENOENT and the message names it. */
static void test_loader_missing_file(void **state)
{
	char dir[] = "/tmp/oa-test-ca-bundle-XXXXXX";
	char path[sizeof(dir) + 32];
	oa_trust_store *store = NULL;
	oa_error err;
	int rc;

	/* A fresh empty directory guarantees the file really does not exist. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/absent.pem", dir);
	memset(&err, 0, sizeof(err));

	rc = oa_trust_store_load(path, &store, &err);
	oa_trust_store_destroy(store);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(rc, -ENOENT);
	assert_int_equal(err.code, -ENOENT);
	assert_non_null(strstr(err.msg, path));
}

/* (e) A readable file with no certificate in it is -EBADMSG. */
static void test_loader_garbage_file(void **state)
{
	static const char garbage[] = "this is not a certificate bundle\n"
				      "-----BEGIN NOTHING-----\n"
				      "@@@@\n";
	char path[] = "/tmp/oa-test-ca-bundle-XXXXXX";
	oa_trust_store *store = NULL;
	oa_error err;
	ssize_t written;
	int closed;
	int fd;
	int rc;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	written = write(fd, garbage, sizeof(garbage) - 1);
	closed = close(fd);
	/* Remove the file before failing so a broken run leaves nothing in /tmp. */
	if (written != (ssize_t)(sizeof(garbage) - 1) || closed != 0) {
		unlink(path);
		fail_msg("%s: could not write the garbage file", path);
	}
	memset(&err, 0, sizeof(err));

	rc = oa_trust_store_load(path, &store, &err);
	oa_trust_store_destroy(store);
	assert_int_equal(unlink(path), 0);

	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(err.code, -EBADMSG);
	assert_non_null(strstr(err.msg, path));
}

/*
 * A conforming leaf that names root as its issuer (and root's key identifier,
 * when it has one, as its authority key identifier), signed with pk. No test
 * holds a root's key, so the signature does not verify; the path still ends
 * at root, which is all the profile check needs. Free with gnutls_free.
 */
static gnutls_datum_t leaf_naming(const oa_pki_cert *kit_leaf, gnutls_x509_crt_t root,
				  gnutls_privkey_t pk)
{
	static const unsigned char any_id[20] = {0x6f, 0x61};
	unsigned char id[64];
	size_t id_size = sizeof(id);
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = {NULL, 0};

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(
	    gnutls_x509_crt_import(crt, oa_pki_cert_der(kit_leaf), GNUTLS_X509_FMT_DER), 0);
	if (gnutls_x509_crt_get_subject_key_id(root, id, &id_size, NULL) < 0) {
		memcpy(id, any_id, sizeof(any_id));
		id_size = sizeof(any_id);
	}
	assert_int_equal(gnutls_x509_crt_set_authority_key_id(crt, id, id_size), 0);
	assert_int_equal(gnutls_x509_crt_privkey_sign(crt, root, pk, GNUTLS_DIG_SHA256, 0), 0);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	gnutls_x509_crt_deinit(crt);
	return der;
}

/* The profile check's verdict on a conforming leaf whose path ends at root, alone in a store. */
static const oa_check *grade_under(const char *dir, gnutls_x509_crt_t root,
				   const gnutls_datum_t *leaf, oa_result **result)
{
	char *path = fx_path(dir, "root.pem");
	gnutls_datum_t pem = {NULL, 0};
	oa_trust_store *store = NULL;
	oa_chain *chain = NULL;
	oa_verify_params params;
	oa_error err;

	assert_int_equal(gnutls_x509_crt_export2(root, GNUTLS_X509_FMT_PEM, &pem), 0);
	fx_write(path, pem.data, pem.size);
	gnutls_free(pem.data);
	if (oa_trust_store_load(path, &store, &err) < 0) {
		fail_msg("trust store: %s", err.msg);
	}
	free(path);
	if (oa_chain_from_der(leaf, 1, &chain, &err) < 0) {
		fail_msg("chain: %s", err.msg);
	}
	oa_verify_params_init(&params);
	if (oa_verify(chain, store, &params, result, &err) < 0) {
		fail_msg("oa_verify: %s", err.msg);
	}
	oa_chain_destroy(chain);
	oa_trust_store_destroy(store);
	/* The path reached the root: its rules were applied. */
	assert_non_null(oa_result_anchor(*result));
	return oa_result_check(*result, OA_CHECK_PROFILE);
}

/* A kit leaf and its key as a signer: one per key algorithm, as GnuTLS signs only under a CA of it.
 */
struct forger {
	oa_pki_cert *leaf;
	gnutls_x509_privkey_t key;
	gnutls_privkey_t pk;
};

static void forger_init(struct forger *f, oa_pki_key_type type)
{
	oa_pki_spec spec = fx_leaf_spec("root-rules.example.com", "root-rules.example.com", 90);

	spec.key_type = type;
	f->leaf = fx_issue(&spec, NULL);
	assert_int_equal(gnutls_x509_privkey_init(&f->key), 0);
	assert_int_equal(gnutls_x509_privkey_import2(f->key, oa_pki_key_pem(f->leaf),
						     GNUTLS_X509_FMT_PEM, NULL, 0),
			 0);
	assert_int_equal(gnutls_privkey_init(&f->pk), 0);
	assert_int_equal(gnutls_privkey_import_x509(f->pk, f->key, 0), 0);
}

static void forger_clear(struct forger *f)
{
	gnutls_privkey_deinit(f->pk);
	gnutls_x509_privkey_deinit(f->key);
	oa_pki_cert_destroy(f->leaf);
}

/*
 * (f) No root in the bundle draws a warning from the profile check's root
 * rules (CA/B BR 7.1.2.1), once the legacy roots core/verify/profile.c waives are
 * waived. Each root is alone in its store, so the path ends at that very
 * root. A bundle refresh that brings a new offender fails here, naming it.
 */
static void test_roots_follow_profile_root_rules(void **state)
{
	struct bundle *b = *state;
	char *dir = fx_tempdir();
	struct forger ec;
	struct forger rsa;
	size_t offenders = 0;
	unsigned int i;

	assert_int_equal(b->import_rc, GNUTLS_E_SUCCESS);
	assert_int_equal(b->ncerts, b->nentries);
	forger_init(&ec, OA_PKI_KEY_EC_P256);
	forger_init(&rsa, OA_PKI_KEY_RSA_2048);
	for (i = 0; i < b->ncerts; i++) {
		int alg = gnutls_x509_crt_get_pk_algorithm(b->certs[i], NULL);
		struct forger *f = alg == GNUTLS_PK_ECDSA ? &ec : &rsa;
		gnutls_datum_t leaf = leaf_naming(f->leaf, b->certs[i], f->pk);
		oa_result *r = NULL;
		const oa_check *c = grade_under(dir, b->certs[i], &leaf, &r);

		if (c->status != OA_STATUS_PASS) {
			print_error("%s: profile %s/%s: %s\n", b->entries[i].sha256,
				    oa_status_name(c->status), c->reason, c->detail);
			offenders++;
		}
		oa_result_destroy(r);
		gnutls_free(leaf.data);
	}
	forger_clear(&rsa);
	forger_clear(&ec);
	fx_tempdir_remove(dir);
	assert_int_equal(offenders, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bundle_parses_and_counts_match),
	    cmocka_unit_test(test_fingerprints_match_manifest),
	    cmocka_unit_test(test_every_cert_is_self_signed_ca),
	    cmocka_unit_test(test_loader_accepts_bundle),
	    cmocka_unit_test(test_loader_missing_file),
	    cmocka_unit_test(test_loader_garbage_file),
	    cmocka_unit_test(test_roots_follow_profile_root_rules),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
