/*
 * End-to-end tests of `originaudit verify`: the real binary ($ORIGINAUDIT) is
 * spawned against certificate files generated here, and its exit code,
 * stdout (JSON or text) and stderr are checked exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jansson.h>

#include "fixtures.h"
#include "originaudit/pki.h"

#define RUN_TIMEOUT_S 60
#define MAX_ARGS 40
#define N_CERTS_LONG 100

/* Per-test state: a temp dir, the standard PKI, a bundle of its root and the good chain. */
struct env {
	char *dir;
	fx_pki pki;
	char *bundle;
	char *chain;
};

/* What one run of the program produced. */
struct run {
	int code;
	char *out;
	char *err;
	json_t *doc;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->dir = fx_tempdir();
	fx_pki_make(&e->pki);
	const oa_pki_cert *bundle[] = {e->pki.root};
	e->bundle = fx_chain_file(e->dir, "bundle.pem", bundle, 1);
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	e->chain = fx_chain_file(e->dir, "chain.pem", chain, 2);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (e == NULL) {
		return 0;
	}
	free(e->chain);
	free(e->bundle);
	fx_pki_free(&e->pki);
	fx_tempdir_remove(e->dir);
	free(e);
	*state = NULL;
	return 0;
}

static const char *program(void)
{
	const char *exe = getenv("ORIGINAUDIT");

	assert_non_null(exe);
	assert_true(exe[0] != '\0');
	return exe;
}

/* Runs the program with args (NULL-terminated) after argv[0]. */
static void run_raw(struct run *r, const char *const *args)
{
	char *argv[MAX_ARGS];
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	argv[n] = (char *)program();
	n++;
	for (size_t i = 0; args[i] != NULL; i++) {
		assert_true(n + 1 < MAX_ARGS);
		argv[n] = (char *)args[i];
		n++;
	}
	argv[n] = NULL;
	r->code = fx_run(argv, &r->out, &r->err, RUN_TIMEOUT_S);
}

/*
 * Runs `originaudit verify --ca-bundle bundle --format format args...`; for
 * the JSON format parses stdout whenever there is any.
 */
static void run_verify(struct run *r, const char *bundle, const char *format,
		       const char *const *args)
{
	const char *all[MAX_ARGS];
	size_t n = 0;

	all[n] = "verify";
	n++;
	all[n] = "--ca-bundle";
	n++;
	all[n] = bundle;
	n++;
	all[n] = "--format";
	n++;
	all[n] = format;
	n++;
	for (size_t i = 0; args[i] != NULL; i++) {
		assert_true(n + 1 < MAX_ARGS);
		all[n] = args[i];
		n++;
	}
	all[n] = NULL;
	run_raw(r, all);
	if (strcmp(format, "json") == 0 && r->out[0] != '\0') {
		json_error_t jerr;

		r->doc = json_loads(r->out, 0, &jerr);
		if (r->doc == NULL) {
			fail_msg("stdout is not JSON (%s, line %d): %s\nstderr: %s", jerr.text,
				 jerr.line, r->out, r->err);
		}
	}
}

static void run_clear(struct run *r)
{
	json_decref(r->doc);
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* Asserts the exit code, showing what the program said when it differs. */
static void assert_exit(const struct run *r, int code)
{
	if (r->code != code) {
		fail_msg("exit code %d, expected %d\nstdout: %s\nstderr: %s", r->code, code, r->out,
			 r->err);
	}
}

static json_t *member(const json_t *obj, const char *key)
{
	json_t *v;

	assert_true(json_is_object(obj));
	v = json_object_get(obj, key);
	if (v == NULL) {
		fail_msg("JSON has no member \"%s\"", key);
	}
	return v;
}

static const char *str_member(const json_t *obj, const char *key)
{
	json_t *v = member(obj, key);

	if (!json_is_string(v)) {
		fail_msg("JSON member \"%s\" is not a string", key);
	}
	return json_string_value(v);
}

static json_t *check_of(const struct run *r, const char *id)
{
	assert_non_null(r->doc);
	return member(member(r->doc, "checks"), id);
}

/* Asserts checks.<id> has the given status and reason. */
static void assert_check(const struct run *r, const char *id, const char *status,
			 const char *reason)
{
	json_t *c = check_of(r, id);

	assert_string_equal(str_member(c, "reason"), reason);
	assert_string_equal(str_member(c, "status"), status);
}

static void assert_verdict(const struct run *r, const char *verdict)
{
	assert_non_null(r->doc);
	assert_string_equal(str_member(r->doc, "verdict"), verdict);
}

static json_t *chain_of(const struct run *r, size_t expect_len)
{
	json_t *chain = member(r->doc, "chain");

	assert_true(json_is_array(chain));
	assert_int_equal(json_array_size(chain), expect_len);
	return chain;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Lower-case hex SHA-256 of data (out holds 65 bytes). */
static void sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char digest[32];

	assert_int_equal(gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, digest), 0);
	hex(digest, sizeof(digest), out);
}

/* Lower-case hex SHA-256 of a file's content (out holds 65 bytes). */
static void sha256_file(const char *path, char *out)
{
	gnutls_datum_t data = {NULL, 0};

	assert_int_equal(gnutls_load_file(path, &data), 0);
	sha256_hex(data.data, data.size, out);
	gnutls_free(data.data);
}

static void assert_sha256_of_der(const json_t *cert, const oa_pki_cert *pc)
{
	const gnutls_datum_t *der = oa_pki_cert_der(pc);
	char want[65];

	sha256_hex(der->data, der->size, want);
	assert_string_equal(str_member(cert, "sha256"), want);
}

static void assert_one_stderr_line(const struct run *r)
{
	size_t len = strlen(r->err);
	const char *nl = strchr(r->err, '\n');

	if (len == 0 || nl != r->err + len - 1) {
		fail_msg("stderr is not exactly one line: \"%s\"", r->err);
	}
}

/* Exit 3, nothing on stdout, exactly one line on stderr containing each needle. */
static void assert_could_not_run(const struct run *r, const char *needle1, const char *needle2)
{
	assert_exit(r, 3);
	assert_string_equal(r->out, "");
	assert_one_stderr_line(r);
	if (strstr(r->err, needle1) == NULL) {
		fail_msg("stderr does not mention \"%s\": %s", needle1, r->err);
	}
	if (needle2 != NULL && strstr(r->err, needle2) == NULL) {
		fail_msg("stderr does not mention \"%s\": %s", needle2, r->err);
	}
}

/* Formats now + days as an --at value. */
static void at_days_from_now(int days, char buf[static 32])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	assert_non_null(gmtime_r(&t, &tm));
	assert_int_equal(strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm), 20);
}

static bool json_array_has_string(const json_t *arr, const char *s)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *v = json_string_value(json_array_get(arr, i));

		if (v != NULL && strcmp(v, s) == 0) {
			return true;
		}
	}
	return false;
}

static void test_good_chain_json(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "--name", "origin.example.com", NULL};
	struct run r;
	char bundle_sha[65];

	run_verify(&r, e->bundle, "json", args);
	assert_exit(&r, 0);
	assert_string_equal(r.err, "");
	assert_verdict(&r, "pass");
	assert_check(&r, "trust", "pass", "trusted");
	assert_check(&r, "expiry", "pass", "valid");
	assert_check(&r, "self_signed", "pass", "not_self_signed");
	assert_check(&r, "chain_order", "pass", "ordered");
	assert_check(&r, "name", "pass", "matched");
	assert_check(&r, "signature", "pass", "strong");
	assert_string_equal(str_member(check_of(&r, "name"), "matched"), "origin.example.com");
	assert_null(json_object_get(member(r.doc, "checks"), "key"));

	json_t *days = member(check_of(&r, "expiry"), "days_left");
	assert_true(json_is_integer(days));
	assert_in_range(json_integer_value(days), 88, 90);

	json_t *chain = chain_of(&r, 2);
	json_t *leaf = json_array_get(chain, 0);
	json_t *inter = json_array_get(chain, 1);
	assert_string_equal(str_member(leaf, "role"), "leaf");
	assert_string_equal(str_member(inter, "role"), "intermediate");
	json_t *sans = member(leaf, "sans");
	assert_true(json_is_array(sans));
	assert_int_equal(json_array_size(sans), 2);
	assert_true(json_array_has_string(sans, "origin.example.com"));
	assert_true(json_array_has_string(sans, "www.example.com"));
	assert_sha256_of_der(leaf, e->pki.leaf);
	assert_sha256_of_der(inter, e->pki.inter);
	assert_string_equal(str_member(leaf, "key_type"), gnutls_pk_get_name(GNUTLS_PK_ECDSA));
	assert_string_equal(str_member(inter, "key_type"), gnutls_pk_get_name(GNUTLS_PK_ECDSA));
	assert_true(json_is_false(member(leaf, "is_ca")));
	assert_true(json_is_true(member(inter, "is_ca")));
	assert_true(json_is_false(member(leaf, "self_signed")));

	json_t *bundle = member(r.doc, "ca_bundle");
	assert_string_equal(str_member(bundle, "path"), e->bundle);
	json_t *count = member(bundle, "certificates");
	assert_true(json_is_integer(count));
	assert_int_equal(json_integer_value(count), 1);
	sha256_file(e->bundle, bundle_sha);
	assert_string_equal(str_member(bundle, "sha256"), bundle_sha);
	run_clear(&r);
}

static void test_name_mismatch(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "--name", "not-covered.example.net", NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "name", "fail", "name_mismatch");
	assert_true(json_is_null(member(check_of(&r, "name"), "matched")));
	assert_check(&r, "trust", "pass", "trusted");
	run_clear(&r);
}

static void test_no_name_skips(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_exit(&r, 0);
	assert_verdict(&r, "pass");
	assert_check(&r, "name", "skip", "no_names_given");
	const char *detail = str_member(check_of(&r, "name"), "detail");
	if (strstr(detail, "origin.example.com") == NULL) {
		fail_msg("name detail does not list the leaf's names: %s", detail);
	}
	run_clear(&r);
}

static void test_expiring_soon(void **state)
{
	struct env *e = *state;
	oa_pki_spec spec = fx_leaf_spec("origin.example.com", "origin.example.com", 20);
	/* A 90-day certificate with 20 days left: the default rule warns under 30 days. */
	spec.not_before = spec.not_after - 90 * 86400;
	oa_pki_cert *leaf = fx_issue(&spec, e->pki.inter);
	const oa_pki_cert *certs[] = {leaf, e->pki.inter};
	char *chain = fx_chain_file(e->dir, "soon.pem", certs, 2);
	struct run r;

	const char *const plain[] = {"--chain", chain, "--name", "origin.example.com", NULL};
	run_verify(&r, e->bundle, "json", plain);
	assert_exit(&r, 1);
	assert_verdict(&r, "warn");
	assert_check(&r, "expiry", "warn", "expiring_soon");
	json_t *days = member(check_of(&r, "expiry"), "days_left");
	assert_true(json_is_integer(days));
	assert_in_range(json_integer_value(days), 18, 20);
	run_clear(&r);

	const char *const warn10[] = {"--chain",     chain, "--name", "origin.example.com",
				      "--warn-days", "10",  NULL};
	run_verify(&r, e->bundle, "json", warn10);
	assert_exit(&r, 0);
	assert_verdict(&r, "pass");
	assert_check(&r, "expiry", "pass", "valid");
	run_clear(&r);

	const char *const crit25[] = {
	    "--chain",	   chain, "--name", "origin.example.com", "--critical-days", "25",
	    "--warn-days", "30",  NULL};
	run_verify(&r, e->bundle, "json", crit25);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "expiry", "fail", "expiring_critical");
	run_clear(&r);

	free(chain);
	oa_pki_cert_destroy(leaf);
}

static void test_expired_at_future(void **state)
{
	struct env *e = *state;
	char at[32];
	struct run r;

	at_days_from_now(200, at);
	const char *const args[] = {"--chain", e->chain, "--name", "origin.example.com",
				    "--at",    at,	 NULL};
	run_verify(&r, e->bundle, "json", args);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "expiry", "fail", "expired");
	assert_string_equal(str_member(r.doc, "evaluated_at"), at);
	json_t *days = member(check_of(&r, "expiry"), "days_left");
	assert_true(json_is_integer(days));
	assert_true(json_integer_value(days) < 0);
	run_clear(&r);
}

static void test_key_match_and_mismatch(void **state)
{
	struct env *e = *state;
	char *good = fx_path(e->dir, "leaf.key");
	char *other = fx_path(e->dir, "other.key");
	oa_error err;
	struct run r;

	oa_error_clear(&err);
	assert_int_equal(oa_pki_write_key(good, e->pki.leaf, &err), 0);
	assert_int_equal(oa_pki_write_key(other, e->pki.inter, &err), 0);

	const char *const match[] = {"--chain", e->chain, "--name", "origin.example.com",
				     "--key",	good,	  NULL};
	run_verify(&r, e->bundle, "json", match);
	assert_exit(&r, 0);
	assert_verdict(&r, "pass");
	assert_check(&r, "key", "pass", "key_matches");
	run_clear(&r);

	const char *const mismatch[] = {"--chain", e->chain, "--name", "origin.example.com",
					"--key",   other,    NULL};
	run_verify(&r, e->bundle, "json", mismatch);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "key", "fail", "key_mismatch");
	run_clear(&r);

	free(other);
	free(good);
}

static void test_text_good_chain(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "--name", "origin.example.com", NULL};
	struct run r;

	run_verify(&r, e->bundle, "text", args);
	assert_exit(&r, 0);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "verdict: PASS\n"));
	assert_null(strstr(r.out, "verdict: FAIL"));
	assert_null(strstr(r.out, "hint:"));
	/* NO_COLOR is set and stdout is a pipe: no escape sequences. */
	assert_null(strchr(r.out, '\033'));
	assert_non_null(strstr(r.out, e->chain));
	run_clear(&r);
}

static void test_wrong_order(void **state)
{
	struct env *e = *state;
	oa_pki_spec s1 = fx_ca_spec("Order Intermediate One", 1825);
	oa_pki_spec s2 = fx_ca_spec("Order Intermediate Two", 1825);
	oa_pki_cert *int1 = fx_issue(&s1, e->pki.root);
	oa_pki_cert *int2 = fx_issue(&s2, int1);
	oa_pki_spec sl = fx_leaf_spec("origin.example.com", "origin.example.com", 90);
	oa_pki_cert *leaf = fx_issue(&sl, int2);
	const oa_pki_cert *certs[] = {leaf, int1, int2};
	char *chain = fx_chain_file(e->dir, "reversed.pem", certs, 3);
	const char *const args[] = {"--chain", chain, "--name", "origin.example.com", NULL};
	struct run r;

	run_verify(&r, e->bundle, "text", args);
	assert_exit(&r, 2);
	assert_non_null(strstr(r.out, "verdict: FAIL\n"));
	assert_non_null(strstr(r.out, "hint:"));
	assert_non_null(strstr(r.out, "wrong_order"));
	run_clear(&r);

	run_verify(&r, e->bundle, "json", args);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "chain_order", "fail", "wrong_order");
	assert_check(&r, "trust", "pass", "trusted");
	assert_true(json_is_string(member(check_of(&r, "chain_order"), "hint")));
	chain_of(&r, 3);
	run_clear(&r);

	free(chain);
	oa_pki_cert_destroy(leaf);
	oa_pki_cert_destroy(int2);
	oa_pki_cert_destroy(int1);
}

static void test_bad_empty_file(void **state)
{
	struct env *e = *state;
	char *path = fx_path(e->dir, "empty.pem");
	const char *const args[] = {"--chain", path, NULL};
	struct run r;

	fx_write(path, "", 0);
	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, path, "empty");
	run_clear(&r);
	free(path);
}

static void test_bad_garbage_text(void **state)
{
	struct env *e = *state;
	static const char garbage[] = "this is not a certificate\nat all\n";
	char *path = fx_path(e->dir, "garbage.pem");
	const char *const args[] = {"--chain", path, NULL};
	struct run r;

	fx_write(path, garbage, strlen(garbage));
	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, path, "BEGIN CERTIFICATE");
	run_clear(&r);
	free(path);
}

static void test_bad_truncated_pem(void **state)
{
	struct env *e = *state;
	const gnutls_datum_t *pem = oa_pki_cert_pem(e->pki.leaf);
	char *path = fx_path(e->dir, "truncated.pem");
	const char *const args[] = {"--chain", path, NULL};
	struct run r;

	fx_write(path, pem->data, pem->size / 2);
	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, path, "truncated");
	run_clear(&r);
	free(path);
}

static void test_bad_der(void **state)
{
	struct env *e = *state;
	const gnutls_datum_t *der = oa_pki_cert_der(e->pki.leaf);
	char *path = fx_path(e->dir, "leaf.der");
	const char *const args[] = {"--chain", path, NULL};
	struct run r;

	fx_write(path, der->data, der->size);
	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, path, "DER");
	run_clear(&r);
	free(path);
}

static void test_bad_missing_chain_file(void **state)
{
	struct env *e = *state;
	char *path = fx_path(e->dir, "does-not-exist.pem");
	const char *const args[] = {"--chain", path, NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, path, "No such file");
	run_clear(&r);
	free(path);
}

static void test_bad_garbage_key(void **state)
{
	struct env *e = *state;
	static const char garbage[] = "not a key\n";
	char *path = fx_path(e->dir, "garbage.key");
	const char *const args[] = {"--chain", e->chain, "--key", path, NULL};
	struct run r;

	fx_write(path, garbage, strlen(garbage));
	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, path, "key");
	run_clear(&r);
	free(path);
}

static void test_bad_missing_bundle(void **state)
{
	struct env *e = *state;
	char *path = fx_path(e->dir, "no-bundle.pem");
	const char *const args[] = {"--chain", e->chain, NULL};
	struct run r;

	run_verify(&r, path, "json", args);
	assert_could_not_run(&r, path, "No such file");
	run_clear(&r);
	free(path);
}

static void test_bad_unknown_option(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "--bogus", NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, "--bogus", NULL);
	run_clear(&r);
}

/* getopt reports an unknown letter inside a group before moving past it. */
static void test_bad_unknown_short_option_in_group(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "-zq", NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, "'-z'", NULL);
	run_clear(&r);
}

static void test_bad_missing_chain_option(void **state)
{
	struct env *e = *state;
	const char *const args[] = {NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, "--chain", NULL);
	run_clear(&r);
}

static void test_bad_at(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "--at", "yesterday", NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, "--at", "yesterday");
	run_clear(&r);
}

static void test_bad_negative_warn_days(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "--warn-days", "-3", NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, "--warn-days", "-3");
	run_clear(&r);
}

static void test_bad_format(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, NULL};
	struct run r;

	run_verify(&r, e->bundle, "xml", args);
	assert_could_not_run(&r, "--format", "xml");
	run_clear(&r);
}

/* Let's Encrypt's 6-day certificates: fresh, one passes; the JSON names the thresholds applied. */
static void test_short_lived_certificate(void **state)
{
	struct env *e = *state;
	oa_pki_spec spec = fx_leaf_spec("origin.example.com", "origin.example.com", 6);
	time_t now = time(NULL);
	struct run r;

	spec.not_before = now - 3600;
	spec.not_after = spec.not_before + 6 * 86400;
	oa_pki_cert *leaf = fx_issue(&spec, e->pki.inter);
	const oa_pki_cert *certs[] = {leaf, e->pki.inter};
	char *chain = fx_chain_file(e->dir, "six-day.pem", certs, 2);

	const char *const plain[] = {"--chain", chain, "--name", "origin.example.com", NULL};
	run_verify(&r, e->bundle, "json", plain);
	assert_exit(&r, 0);
	assert_check(&r, "expiry", "pass", "valid");
	json_t *th = member(check_of(&r, "expiry"), "thresholds");
	assert_string_equal(json_string_value(json_object_get(json_object_get(th, "warn"), "rule")),
			    "auto");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(th, "warn"), "seconds_left")),
	    2 * 86400);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(th, "critical"), "seconds_left")),
	    12 * 3600);
	run_clear(&r);

	/* The same certificate against absolute days: 7 days critical, as before. */
	const char *const days[] = {"--chain",	   chain, "--name",	     "origin.example.com",
				    "--warn-days", "30",  "--critical-days", "7",
				    NULL};
	run_verify(&r, e->bundle, "json", days);
	assert_exit(&r, 2);
	assert_check(&r, "expiry", "fail", "expiring_critical");
	run_clear(&r);

	/* A share: warn when under 100% of its lifetime is left (always, once issued). */
	const char *const share[] = {"--chain",	    chain,  "--name", "origin.example.com",
				     "--warn-days", "100%", NULL};
	run_verify(&r, e->bundle, "json", share);
	assert_exit(&r, 1);
	assert_check(&r, "expiry", "warn", "expiring_soon");
	th = member(check_of(&r, "expiry"), "thresholds");
	assert_string_equal(json_string_value(json_object_get(json_object_get(th, "warn"), "rule")),
			    "percent");
	run_clear(&r);

	const char *const bad[] = {"--chain", chain, "--warn-days", "0%", NULL};
	run_verify(&r, e->bundle, "json", bad);
	assert_could_not_run(&r, "--warn-days", "0%");
	run_clear(&r);
	free(chain);
	oa_pki_cert_destroy(leaf);
}

/* A certificate that does not parse is a verdict: trust fails, exit 2, in JSON and text. */
static void test_malformed_certificate(void **state)
{
	struct env *e = *state;
	char *path = fx_path(e->dir, "malformed.pem");
	static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
				  "MIIBAAIBAA==\n"
				  "-----END CERTIFICATE-----\n";
	struct run r;

	fx_write(path, pem, sizeof(pem) - 1);
	const char *const args[] = {"--chain", path, "--name", "origin.example.com", NULL};
	run_verify(&r, e->bundle, "json", args);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "trust", "fail", "malformed_certificate");
	const char *detail = json_string_value(member(check_of(&r, "trust"), "detail"));
	assert_non_null(strstr(detail, "certificate #1"));
	run_clear(&r);
	run_verify(&r, e->bundle, "text", args);
	assert_exit(&r, 2);
	run_clear(&r);
	free(path);
}

static void test_bad_critical_above_warn(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", e->chain, "--critical-days", "40", NULL};
	struct run r;

	run_verify(&r, e->bundle, "json", args);
	assert_could_not_run(&r, "--critical-days", "40");
	run_clear(&r);
}

static void test_long_chain(void **state)
{
	struct env *e = *state;
	oa_pki_cert *extra[N_CERTS_LONG - 2];
	const oa_pki_cert *certs[N_CERTS_LONG];
	char cn[N_CERTS_LONG - 2][32];
	struct run r;

	certs[0] = e->pki.leaf;
	certs[1] = e->pki.inter;
	for (size_t i = 0; i < N_CERTS_LONG - 2; i++) {
		snprintf(cn[i], sizeof(cn[i]), "Unrelated Self-Signed %zu", i);
		oa_pki_spec spec = fx_ca_spec(cn[i], 365);
		extra[i] = fx_issue(&spec, NULL);
		certs[i + 2] = extra[i];
	}
	char *chain = fx_chain_file(e->dir, "long.pem", certs, N_CERTS_LONG);
	const char *const args[] = {"--chain", chain, "--name", "origin.example.com", NULL};

	run_verify(&r, e->bundle, "json", args);
	assert_exit(&r, 1);
	assert_verdict(&r, "warn");
	assert_check(&r, "chain_order", "warn", "unrelated_certificate");
	assert_check(&r, "trust", "pass", "trusted");
	json_t *arr = chain_of(&r, N_CERTS_LONG);
	assert_string_equal(str_member(json_array_get(arr, 0), "role"), "leaf");
	assert_string_equal(str_member(json_array_get(arr, 1), "role"), "intermediate");
	for (size_t i = 2; i < N_CERTS_LONG; i++) {
		assert_string_equal(str_member(json_array_get(arr, i), "role"), "unrelated");
	}
	run_clear(&r);

	free(chain);
	for (size_t i = 0; i < N_CERTS_LONG - 2; i++) {
		oa_pki_cert_destroy(extra[i]);
	}
}

static void test_help(void **state)
{
	const char *const args[] = {"verify", "--help", NULL};
	struct run r;

	run_raw(&r, args);
	assert_exit(&r, 0);
	assert_non_null(strstr(r.out, "--chain"));
	assert_non_null(strstr(r.out, "- reads it from standard input (named <stdin>)"));
	assert_non_null(strstr(r.out, "Exit codes"));
	assert_string_equal(r.err, "");
	run_clear(&r);
}

static void test_version(void **state)
{
	const char *const args[] = {"--version", NULL};
	struct run r;

	run_raw(&r, args);
	assert_exit(&r, 0);
	assert_true(strncmp(r.out, "originaudit ", strlen("originaudit ")) == 0);
	assert_string_equal(r.err, "");
	run_clear(&r);
}

static void test_no_arguments(void **state)
{
	const char *const args[] = {NULL};
	struct run r;

	run_raw(&r, args);
	assert_exit(&r, 3);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "Usage"));
	run_clear(&r);
}

static void test_unknown_command(void **state)
{
	const char *const args[] = {"frobnicate", NULL};
	struct run r;

	run_raw(&r, args);
	assert_exit(&r, 3);
	assert_string_equal(r.out, "");
	assert_one_stderr_line(&r);
	assert_non_null(strstr(r.err, "frobnicate"));
	run_clear(&r);
}

/* ---- --chain -: the chain on standard input ---- */

/*
 * Runs `originaudit verify --ca-bundle bundle --format format args...` with
 * standard input read from the file input: redirected (a seekable file) or,
 * with pipe, through `cat input |` (a pipe, read to its end).
 */
static void run_verify_stdin(struct run *r, const char *bundle, const char *format,
			     const char *input, bool pipe, const char *const *args)
{
	const char *all[MAX_ARGS];
	size_t n = 0;

	all[n++] = "/bin/sh";
	all[n++] = "-c";
	all[n++] = pipe ? "f=$1; shift; cat \"$f\" | \"$@\"" : "f=$1; shift; exec \"$@\" < \"$f\"";
	all[n++] = "sh";
	all[n++] = input;
	all[n++] = program();
	all[n++] = "verify";
	all[n++] = "--ca-bundle";
	all[n++] = bundle;
	all[n++] = "--format";
	all[n++] = format;
	for (size_t i = 0; args[i] != NULL; i++) {
		assert_true(n + 1 < MAX_ARGS);
		all[n++] = args[i];
	}
	all[n] = NULL;
	memset(r, 0, sizeof(*r));
	r->code = fx_run((char *const *)all, &r->out, &r->err, RUN_TIMEOUT_S);
	if (strcmp(format, "json") == 0 && r->out[0] != '\0') {
		json_error_t jerr;

		r->doc = json_loads(r->out, 0, &jerr);
		if (r->doc == NULL) {
			fail_msg("stdout is not JSON (%s): %s\nstderr: %s", jerr.text, r->out,
				 r->err);
		}
	}
}

static void test_stdin_chain_pass(void **state)
{
	struct env *e = *state;
	const char *const args[] = {"--chain", "-", "--name", "origin.example.com", NULL};
	struct run r;

	for (int pipe = 0; pipe < 2; pipe++) {
		run_verify_stdin(&r, e->bundle, "json", e->chain, pipe != 0, args);
		assert_exit(&r, 0);
		assert_string_equal(r.err, "");
		assert_verdict(&r, "pass");
		assert_check(&r, "trust", "pass", "trusted");
		assert_check(&r, "chain_order", "pass", "ordered");
		assert_check(&r, "name", "pass", "matched");
		json_t *chain = chain_of(&r, 2);
		assert_sha256_of_der(json_array_get(chain, 0), e->pki.leaf);
		assert_sha256_of_der(json_array_get(chain, 1), e->pki.inter);
		run_clear(&r);
	}

	/* The text report names the input <stdin>. */
	run_verify_stdin(&r, e->bundle, "text", e->chain, true, args);
	assert_exit(&r, 0);
	assert_true(strncmp(r.out, "<stdin>: 2 certificate(s); trust store ",
			    strlen("<stdin>: 2 certificate(s); trust store ")) == 0);
	assert_non_null(strstr(r.out, "verdict: PASS\n"));
	run_clear(&r);
}

static void test_stdin_chain_fail(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *reversed[] = {e->pki.inter, e->pki.leaf};
	char *chain = fx_chain_file(e->dir, "stdin-reversed.pem", reversed, 2);
	const char *const args[] = {"--chain", "-", "--name", "origin.example.com", NULL};
	const char *const other[] = {"--chain", "-", "--name", "not-covered.example.net", NULL};
	struct run r;

	/* The intermediate first: the leaf is not where the server must send it. */
	run_verify_stdin(&r, e->bundle, "json", chain, true, args);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "chain_order", "fail", "leaf_not_first");
	chain_of(&r, 2);
	run_clear(&r);

	run_verify_stdin(&r, e->bundle, "json", e->chain, false, other);
	assert_exit(&r, 2);
	assert_verdict(&r, "fail");
	assert_check(&r, "name", "fail", "name_mismatch");
	assert_check(&r, "trust", "pass", "trusted");
	run_clear(&r);
	free(chain);
}

/* Unusable input on standard input: exit 3, one line naming <stdin>. */
static void test_stdin_chain_bad(void **state)
{
	struct env *e = *state;
	static const char garbage[] = "this is not a certificate\n";
	char *empty = fx_path(e->dir, "stdin-empty.pem");
	char *junk = fx_path(e->dir, "stdin-garbage.pem");
	const char *const args[] = {"--chain", "-", NULL};
	struct run r;

	fx_write(empty, "", 0);
	fx_write(junk, garbage, strlen(garbage));
	run_verify_stdin(&r, e->bundle, "json", empty, true, args);
	assert_could_not_run(&r, "originaudit verify: <stdin>: ", "empty");
	run_clear(&r);
	run_verify_stdin(&r, e->bundle, "json", junk, false, args);
	assert_could_not_run(&r, "originaudit verify: <stdin>: ", "BEGIN CERTIFICATE");
	run_clear(&r);

	/* --key has no "-": it is a file name like any other. */
	const char *const with_key[] = {"--chain", "-", "--key", "-", NULL};
	run_verify_stdin(&r, e->bundle, "json", e->chain, false, with_key);
	assert_could_not_run(&r, "originaudit verify: -: ", NULL);
	run_clear(&r);
	free(empty);
	free(junk);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_good_chain_json),
	    T(test_stdin_chain_pass),
	    T(test_stdin_chain_fail),
	    T(test_stdin_chain_bad),
	    T(test_name_mismatch),
	    T(test_no_name_skips),
	    T(test_expiring_soon),
	    T(test_expired_at_future),
	    T(test_key_match_and_mismatch),
	    T(test_text_good_chain),
	    T(test_wrong_order),
	    T(test_bad_empty_file),
	    T(test_bad_garbage_text),
	    T(test_bad_truncated_pem),
	    T(test_bad_der),
	    T(test_bad_missing_chain_file),
	    T(test_bad_garbage_key),
	    T(test_bad_missing_bundle),
	    T(test_bad_unknown_option),
	    T(test_bad_unknown_short_option_in_group),
	    T(test_bad_missing_chain_option),
	    T(test_bad_at),
	    T(test_bad_negative_warn_days),
	    T(test_bad_format),
	    T(test_short_lived_certificate),
	    T(test_malformed_certificate),
	    T(test_bad_critical_above_warn),
	    T(test_long_chain),
	    cmocka_unit_test(test_help),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_no_arguments),
	    cmocka_unit_test(test_unknown_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
