/*
 * Tests for the input parsers of the core (include/originaudit/chain.h and
 * key.h): PEM chains as an operator hands them over, DER chains as an origin
 * sends them, and private keys. Every certificate is generated at test time.
 *
 * Inputs given to oa_chain_from_pem are copied into buffers of exactly their
 * length and without a terminating NUL, so a parser that reads past the end
 * is caught by AddressSanitizer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "fixtures.h"
#include "originaudit/chain.h"
#include "originaudit/error.h"
#include "originaudit/key.h"
#include "originaudit/pki.h"

/* The label every in-memory PEM input is parsed under. */
#define LABEL "upload/chain.pem"

/* What every test gets: one PKI for the whole group and a scratch directory. */
struct ctx {
	fx_pki pki;
	char *dir;
};

/* A growable byte buffer for building inputs. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2 + 64;
		char *data2 = realloc(b->data, cap);

		assert_non_null(data2);
		b->data = data2;
		b->cap = cap;
	}
	if (len > 0) {
		memcpy(b->data + b->len, data, len);
	}
	b->len += len;
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_pem(struct buf *b, const oa_pki_cert *cert)
{
	const gnutls_datum_t *pem = oa_pki_cert_pem(cert);

	buf_add(b, pem->data, pem->size);
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Number of lines in the first len bytes of data, counting a final unterminated one. */
static size_t count_lines(const char *data, size_t len)
{
	size_t lines = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			lines++;
		}
	}
	if (len > 0 && data[len - 1] != '\n') {
		lines++;
	}
	return lines;
}

/* Parses an exact-size, unterminated copy of data as LABEL. */
static int parse(const void *data, size_t len, oa_chain **out, oa_error *err)
{
	void *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len > 0) {
		memcpy(copy, data, len);
	}
	oa_error_clear(err);
	rc = oa_chain_from_pem(copy, len, LABEL, out, err);
	free(copy);
	return rc;
}

static int parse_buf(const struct buf *b, oa_chain **out, oa_error *err)
{
	return parse(b->data, b->len, out, err);
}

/* Asserts rc, err->code and that err->msg contains every given fragment (NULL-terminated). */
static void assert_failed(int rc, const oa_error *err, int code, ...)
{
	va_list ap;
	const char *part;

	assert_int_equal(rc, code);
	assert_int_equal(err->code, code);
	va_start(ap, code);
	while ((part = va_arg(ap, const char *)) != NULL) {
		if (strstr(err->msg, part) == NULL) {
			va_end(ap);
			fail_msg("error message \"%s\" does not contain \"%s\"", err->msg, part);
		}
	}
	va_end(ap);
}

/* Asserts that crt is exactly want (same DER). */
static void assert_cert_is(gnutls_x509_crt_t crt, const oa_pki_cert *want)
{
	const gnutls_datum_t *der = oa_pki_cert_der(want);
	gnutls_datum_t got = {NULL, 0};

	assert_non_null(crt);
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &got), 0);
	assert_int_equal(got.size, der->size);
	assert_memory_equal(got.data, der->data, der->size);
	gnutls_free(got.data);
}

/* Asserts that chain holds exactly certs, in this order. */
static void assert_chain_is(const oa_chain *chain, const oa_pki_cert *const *certs, size_t n)
{
	assert_non_null(chain);
	assert_int_equal(oa_chain_length(chain), n);
	for (size_t i = 0; i < n; i++) {
		assert_cert_is(oa_chain_get(chain, i), certs[i]);
	}
	assert_null(oa_chain_get(chain, n));
}

static int group_setup(void **state)
{
	struct ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		return -1;
	}
	fx_pki_make(&ctx->pki);
	ctx->dir = fx_tempdir();
	*state = ctx;
	return 0;
}

static int group_teardown(void **state)
{
	struct ctx *ctx = *state;

	fx_pki_free(&ctx->pki);
	fx_tempdir_remove(ctx->dir);
	free(ctx);
	return 0;
}

/* Wire order is what the file says, even when it is wrong: nothing is sorted. */
static void test_pem_file_order_kept(void **state)
{
	struct ctx *ctx = *state;
	const oa_pki_cert *order[] = {ctx->pki.leaf, ctx->pki.root, ctx->pki.inter};
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;

	for (size_t i = 0; i < 3; i++) {
		buf_pem(&b, order[i]);
	}
	assert_int_equal(parse_buf(&b, &chain, &err), 0);
	assert_chain_is(chain, order, 3);
	oa_chain_destroy(chain);
	buf_free(&b);
}

static void test_pem_crlf(void **state)
{
	struct ctx *ctx = *state;
	const oa_pki_cert *order[] = {ctx->pki.leaf, ctx->pki.inter};
	struct buf lf = {0};
	struct buf crlf = {0};
	oa_chain *chain = NULL;
	oa_error err;

	buf_pem(&lf, ctx->pki.leaf);
	buf_pem(&lf, ctx->pki.inter);
	for (size_t i = 0; i < lf.len; i++) {
		if (lf.data[i] == '\n') {
			buf_str(&crlf, "\r\n");
		} else {
			buf_add(&crlf, &lf.data[i], 1);
		}
	}
	assert_non_null(memchr(crlf.data, '\r', crlf.len));
	assert_int_equal(parse_buf(&crlf, &chain, &err), 0);
	assert_chain_is(chain, order, 2);
	oa_chain_destroy(chain);
	buf_free(&lf);
	buf_free(&crlf);
}

/* Text before, between and after the blocks, as in a CA bundle with "# name" lines. */
static void test_pem_comments_and_blank_lines(void **state)
{
	struct ctx *ctx = *state;
	const oa_pki_cert *order[] = {ctx->pki.leaf, ctx->pki.inter, ctx->pki.root};
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;

	buf_str(&b, "# origin.example.com chain, exported 2024-01-01\n"
		    "Bag Attributes: none\n\n");
	buf_pem(&b, ctx->pki.leaf);
	buf_str(&b, "\n\n# Test Intermediate CA\n\n");
	buf_pem(&b, ctx->pki.inter);
	buf_str(&b, "\n   \n# Test Root CA\n");
	buf_pem(&b, ctx->pki.root);
	buf_str(&b, "\n# end of bundle\n");
	assert_int_equal(parse_buf(&b, &chain, &err), 0);
	assert_chain_is(chain, order, 3);
	oa_chain_destroy(chain);
	buf_free(&b);
}

/* A combined file: the private key is not part of what the server sends. */
static void test_pem_combined_with_key(void **state)
{
	struct ctx *ctx = *state;
	const oa_pki_cert *order[] = {ctx->pki.leaf, ctx->pki.inter};
	const gnutls_datum_t *key = oa_pki_key_pem(ctx->pki.leaf);
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;

	assert_non_null(memmem(key->data, key->size, "-----BEGIN PRIVATE KEY-----", 27));
	buf_pem(&b, ctx->pki.leaf);
	buf_pem(&b, ctx->pki.inter);
	buf_add(&b, key->data, key->size);
	assert_int_equal(parse_buf(&b, &chain, &err), 0);
	assert_chain_is(chain, order, 2);
	oa_chain_destroy(chain);
	buf_free(&b);
}

static void test_pem_empty(void **state)
{
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	(void)state;
	rc = parse("", 0, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, "empty", NULL);
	assert_null(chain);
}

/* A {NULL, 0} datum is an empty input, not undefined behaviour. */
static void test_pem_null_empty(void **state)
{
	oa_chain *chain = NULL;
	oa_error err;

	(void)state;
	assert_int_equal(oa_chain_from_pem(NULL, 0, LABEL, &chain, &err), -EBADMSG);
	assert_int_equal(err.code, -EBADMSG);
	assert_non_null(strstr(err.msg, "empty"));
	assert_null(chain);
}

static void test_pem_only_whitespace(void **state)
{
	static const char ws[] = "  \n\n\t\r\n   \r\n\n";
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	(void)state;
	rc = parse(ws, sizeof(ws) - 1, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, "no \"-----BEGIN CERTIFICATE-----\" block", NULL);
	assert_null(chain);
}

static void test_pem_garbage_text(void **state)
{
	static const char text[] = "this is not a certificate\nuser=admin\npassword=hunter2\n";
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	(void)state;
	rc = parse(text, sizeof(text) - 1, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, "no \"-----BEGIN CERTIFICATE-----\" block", NULL);
	assert_null(chain);
}

static void test_pem_random_binary(void **state)
{
	unsigned char bytes[4096];
	uint32_t x = 0x2545f491u;
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	(void)state;
	/* A fixed xorshift sequence: the same bytes every run. */
	for (size_t i = 0; i < sizeof(bytes); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		bytes[i] = (unsigned char)(x >> 24);
	}
	/* Not a DER SEQUENCE, and certainly not text. */
	bytes[0] = 0x7f;
	bytes[1] = 0x00;
	rc = parse(bytes, sizeof(bytes), &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, "binary", NULL);
	assert_null(strstr(err.msg, "DER"));
	assert_null(chain);
}

static void test_pem_der_input(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *der = oa_pki_cert_der(ctx->pki.leaf);
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	rc = parse(der->data, der->size, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, "DER", "openssl x509 -inform der", NULL);
	assert_null(chain);
}

/* A single block cut in half: the message points at the BEGIN line. */
static void test_pem_truncated_block(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *pem = oa_pki_cert_pem(ctx->pki.leaf);
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	buf_str(&b, "# leaf\n\n");
	buf_add(&b, pem->data, pem->size / 2);
	rc = parse_buf(&b, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, "line 3:", "-----END", "truncated", NULL);
	assert_null(chain);
	buf_free(&b);
}

/* A good first block must not hide a truncated second one. */
static void test_pem_second_block_truncated(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *inter = oa_pki_cert_pem(ctx->pki.inter);
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;
	char line[32];
	int rc;

	buf_pem(&b, ctx->pki.leaf);
	snprintf(line, sizeof(line), "line %zu:", count_lines(b.data, b.len) + 1);
	buf_add(&b, inter->data, inter->size / 2);
	rc = parse_buf(&b, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, line, "-----END", NULL);
	assert_null(chain);
	buf_free(&b);
}

/* An END line that lost its closing dashes, at the very end of the file. */
static void test_pem_end_line_truncated(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *pem = oa_pki_cert_pem(ctx->pki.leaf);
	const char *end = memmem(pem->data, pem->size, "-----END CERTIFICATE", 20);
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;
	char line[32];
	int rc;

	assert_non_null(end);
	buf_add(&b, pem->data, (size_t)(end - (const char *)pem->data) + 20);
	snprintf(line, sizeof(line), "line %zu:", count_lines(b.data, b.len));
	rc = parse_buf(&b, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, line, "END", "truncated", NULL);
	assert_null(chain);
	buf_free(&b);
}

/*
 * An END line that lost its closing dashes in the middle of the file: the
 * next block must still be seen (or the file refused), never silently
 * dropped.
 */
static void test_pem_end_line_without_dashes_mid_file(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *pem = oa_pki_cert_pem(ctx->pki.leaf);
	const char *end = memmem(pem->data, pem->size, "-----END CERTIFICATE-----", 25);
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	assert_non_null(end);
	buf_add(&b, pem->data, (size_t)(end - (const char *)pem->data) + 20);
	buf_str(&b, "\n");
	buf_pem(&b, ctx->pki.inter);
	rc = parse_buf(&b, &chain, &err);
	buf_free(&b);
	if (rc == 0) {
		/* Free before asserting, so a failure here is not also reported as a leak. */
		size_t n = oa_chain_length(chain);

		oa_chain_destroy(chain);
		if (n != 2) {
			fail_msg("got a %zu-certificate chain: the block after the broken END line "
				 "was dropped",
				 n);
		}
		return;
	}
	assert_failed(rc, &err, -EBADMSG, LABEL, "line ", NULL);
	assert_null(chain);
}

/* Corrupted base64 in the second block names that certificate and its line. */
static void test_pem_bad_base64_second(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *inter = oa_pki_cert_pem(ctx->pki.inter);
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;
	char line[32];
	size_t start;
	size_t body;
	int rc;

	buf_pem(&b, ctx->pki.leaf);
	buf_str(&b, "\n");
	snprintf(line, sizeof(line), "line %zu:", count_lines(b.data, b.len) + 1);
	start = b.len;
	buf_pem(&b, ctx->pki.inter);
	/* Overwrite base64 in the middle of the body, well clear of the armour lines. */
	body = start + inter->size / 2;
	for (size_t i = 0; i < 4; i++) {
		if (b.data[body + i] != '\n' && b.data[body + i] != '-') {
			b.data[body + i] = '!';
		}
	}
	assert_non_null(memchr(b.data + start, '!', inter->size));
	rc = parse_buf(&b, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, line, "certificate #2", NULL);
	assert_null(chain);
	buf_free(&b);
}

static void repeat_pem(struct buf *b, const oa_pki_cert *cert, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		buf_pem(b, cert);
	}
}

static void test_pem_1000_certs_ok(void **state)
{
	struct ctx *ctx = *state;
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;

	repeat_pem(&b, ctx->pki.root, OA_CHAIN_MAX_CERTS);
	assert_int_equal(parse_buf(&b, &chain, &err), 0);
	assert_non_null(chain);
	assert_int_equal(oa_chain_length(chain), 1000);
	assert_cert_is(oa_chain_get(chain, 0), ctx->pki.root);
	assert_cert_is(oa_chain_get(chain, 999), ctx->pki.root);
	assert_null(oa_chain_get(chain, 1000));
	oa_chain_destroy(chain);
	buf_free(&b);
}

static void test_pem_1001_certs_refused(void **state)
{
	struct ctx *ctx = *state;
	struct buf b = {0};
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	repeat_pem(&b, ctx->pki.root, OA_CHAIN_MAX_CERTS + 1);
	rc = parse_buf(&b, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, LABEL, "more than 1000 certificates", NULL);
	assert_null(chain);
	buf_free(&b);
}

/* Callers may pass no error struct at all. */
static void test_pem_without_error_struct(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *pem = oa_pki_cert_pem(ctx->pki.leaf);
	oa_chain *chain = NULL;

	assert_int_equal(oa_chain_from_pem("garbage", 7, LABEL, &chain, NULL), -EBADMSG);
	assert_null(chain);
	assert_int_equal(oa_chain_from_pem(pem->data, pem->size, LABEL, &chain, NULL), 0);
	assert_non_null(chain);
	assert_int_equal(oa_chain_length(chain), 1);
	oa_chain_destroy(chain);
}

static void test_load_file_ok(void **state)
{
	struct ctx *ctx = *state;
	const oa_pki_cert *order[] = {ctx->pki.leaf, ctx->pki.inter};
	char *path = fx_chain_file(ctx->dir, "good.pem", order, 2);
	oa_chain *chain = NULL;
	oa_error err;

	oa_error_clear(&err);
	assert_int_equal(oa_chain_load_file(path, &chain, &err), 0);
	assert_chain_is(chain, order, 2);
	oa_chain_destroy(chain);
	free(path);
}

/* Errors from a file name the file, not an anonymous buffer. */
static void test_load_file_errors_name_path(void **state)
{
	struct ctx *ctx = *state;
	char *path = fx_path(ctx->dir, "cert.der");
	const gnutls_datum_t *der = oa_pki_cert_der(ctx->pki.leaf);
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	fx_write(path, der->data, der->size);
	oa_error_clear(&err);
	rc = oa_chain_load_file(path, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, path, "DER", "openssl", NULL);
	assert_null(chain);
	fx_write(path, "", 0);
	oa_error_clear(&err);
	rc = oa_chain_load_file(path, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, path, "empty", NULL);
	assert_null(chain);
	free(path);
}

static void test_load_file_missing(void **state)
{
	struct ctx *ctx = *state;
	char *path = fx_path(ctx->dir, "no-such-chain.pem");
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	oa_error_clear(&err);
	rc = oa_chain_load_file(path, &chain, &err);
	assert_failed(rc, &err, -ENOENT, path, NULL);
	assert_null(chain);
	free(path);
}

static void test_load_file_directory(void **state)
{
	struct ctx *ctx = *state;
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	oa_error_clear(&err);
	rc = oa_chain_load_file(ctx->dir, &chain, &err);
	/* fopen() of a directory succeeds on Linux and the read fails: either code is honest. */
	if (rc != -EISDIR) {
		assert_int_equal(rc, -EIO);
	}
	assert_int_equal(err.code, rc);
	assert_non_null(strstr(err.msg, ctx->dir));
	assert_non_null(strstr(err.msg, "directory"));
	assert_null(chain);
}

static void test_der_zero_certs(void **state)
{
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	(void)state;
	oa_error_clear(&err);
	rc = oa_chain_from_der(NULL, 0, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, "no certificate", NULL);
	assert_null(chain);
}

/* Valid armour and base64 around DER that is no certificate: -EPROTO (a verdict), not -EBADMSG. */
static void test_pem_malformed_certificate(void **state)
{
	static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
				  "MIIBAAIBAA==\n"
				  "-----END CERTIFICATE-----\n";
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	(void)state;
	oa_error_clear(&err);
	rc = oa_chain_from_pem(pem, sizeof(pem) - 1, LABEL, &chain, &err);
	assert_failed(rc, &err, -EPROTO, LABEL, "line 1:", "certificate #1", NULL);
	assert_null(chain);
}

static void test_der_garbage(void **state)
{
	static unsigned char junk[] = "definitely not DER";
	gnutls_datum_t certs[1] = {{junk, sizeof(junk) - 1}};
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	(void)state;
	oa_error_clear(&err);
	rc = oa_chain_from_der(certs, 1, &chain, &err);
	/* A certificate that does not parse: -EPROTO, graded as malformed_certificate. */
	assert_failed(rc, &err, -EPROTO, "certificate #1", NULL);
	assert_null(chain);
}

static void test_der_garbage_second(void **state)
{
	struct ctx *ctx = *state;
	static unsigned char junk[] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01};
	gnutls_datum_t certs[2] = {*oa_pki_cert_der(ctx->pki.leaf), {junk, sizeof(junk)}};
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	oa_error_clear(&err);
	rc = oa_chain_from_der(certs, 2, &chain, &err);
	assert_failed(rc, &err, -EPROTO, "certificate #2", NULL);
	assert_null(chain);
}

static void test_der_two_in_order(void **state)
{
	struct ctx *ctx = *state;
	const oa_pki_cert *order[] = {ctx->pki.inter, ctx->pki.leaf};
	gnutls_datum_t certs[2] = {*oa_pki_cert_der(ctx->pki.inter),
				   *oa_pki_cert_der(ctx->pki.leaf)};
	oa_chain *chain = NULL;
	oa_error err;

	oa_error_clear(&err);
	assert_int_equal(oa_chain_from_der(certs, 2, &chain, &err), 0);
	assert_chain_is(chain, order, 2);
	oa_chain_destroy(chain);
}

static void test_der_1001_certs_refused(void **state)
{
	struct ctx *ctx = *state;
	gnutls_datum_t *certs = calloc(OA_CHAIN_MAX_CERTS + 1, sizeof(*certs));
	oa_chain *chain = NULL;
	oa_error err;
	int rc;

	assert_non_null(certs);
	for (size_t i = 0; i < OA_CHAIN_MAX_CERTS + 1; i++) {
		certs[i] = *oa_pki_cert_der(ctx->pki.root);
	}
	oa_error_clear(&err);
	rc = oa_chain_from_der(certs, OA_CHAIN_MAX_CERTS + 1, &chain, &err);
	assert_failed(rc, &err, -EBADMSG, "more than 1000", NULL);
	assert_null(chain);
	free(certs);
}

static void test_key_valid(void **state)
{
	struct ctx *ctx = *state;
	char *path = fx_path(ctx->dir, "leaf.key");
	oa_key *key = NULL;
	oa_error err;

	oa_error_clear(&err);
	assert_int_equal(oa_pki_write_key(path, ctx->pki.leaf, &err), 0);
	assert_int_equal(oa_key_load_file(path, &key, &err), 0);
	assert_non_null(key);
	oa_key_destroy(key);
	free(path);
}

/* SEC1 ("EC PRIVATE KEY") as well as PKCS#8 is what servers are given. */
static void test_key_sec1(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *pkcs8 = oa_pki_key_pem(ctx->pki.leaf);
	char *path = fx_path(ctx->dir, "leaf-sec1.key");
	gnutls_x509_privkey_t pk;
	gnutls_datum_t sec1 = {NULL, 0};
	oa_key *key = NULL;
	oa_error err;

	assert_int_equal(gnutls_x509_privkey_init(&pk), 0);
	assert_int_equal(gnutls_x509_privkey_import(pk, pkcs8, GNUTLS_X509_FMT_PEM), 0);
	assert_int_equal(gnutls_x509_privkey_export2(pk, GNUTLS_X509_FMT_PEM, &sec1), 0);
	assert_non_null(memmem(sec1.data, sec1.size, "-----BEGIN EC PRIVATE KEY-----", 30));
	fx_write(path, sec1.data, sec1.size);
	oa_error_clear(&err);
	assert_int_equal(oa_key_load_file(path, &key, &err), 0);
	assert_non_null(key);
	oa_key_destroy(key);
	gnutls_free(sec1.data);
	gnutls_x509_privkey_deinit(pk);
	free(path);
}

static void test_key_garbage(void **state)
{
	struct ctx *ctx = *state;
	char *path = fx_path(ctx->dir, "garbage.key");
	oa_key *key = NULL;
	oa_error err;
	int rc;

	fx_write(path, "not a key at all\n", 17);
	oa_error_clear(&err);
	rc = oa_key_load_file(path, &key, &err);
	assert_failed(rc, &err, -EBADMSG, path, "not a PEM private key", NULL);
	assert_null(key);
	free(path);
}

/* A certificate where the key should be is refused, not mistaken for a key. */
static void test_key_is_a_certificate(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *pem = oa_pki_cert_pem(ctx->pki.leaf);
	char *path = fx_path(ctx->dir, "cert-as.key");
	oa_key *key = NULL;
	oa_error err;
	int rc;

	fx_write(path, pem->data, pem->size);
	oa_error_clear(&err);
	rc = oa_key_load_file(path, &key, &err);
	assert_failed(rc, &err, -EBADMSG, path, "not a PEM private key", NULL);
	assert_null(key);
	free(path);
}

static void test_key_empty(void **state)
{
	struct ctx *ctx = *state;
	char *path = fx_path(ctx->dir, "empty.key");
	oa_key *key = NULL;
	oa_error err;
	int rc;

	fx_write(path, "", 0);
	oa_error_clear(&err);
	rc = oa_key_load_file(path, &key, &err);
	assert_failed(rc, &err, -EBADMSG, path, "empty", NULL);
	assert_null(key);
	free(path);
}

/* A real PKCS#8 key encrypted with a password, as "openssl pkcs8 -topk8" writes it. */
static void test_key_encrypted(void **state)
{
	struct ctx *ctx = *state;
	const gnutls_datum_t *plain = oa_pki_key_pem(ctx->pki.leaf);
	char *path = fx_path(ctx->dir, "encrypted.key");
	gnutls_x509_privkey_t pk;
	gnutls_datum_t enc = {NULL, 0};
	oa_key *key = NULL;
	oa_error err;
	int rc;

	assert_int_equal(gnutls_x509_privkey_init(&pk), 0);
	assert_int_equal(gnutls_x509_privkey_import(pk, plain, GNUTLS_X509_FMT_PEM), 0);
	assert_int_equal(gnutls_x509_privkey_export2_pkcs8(pk, GNUTLS_X509_FMT_PEM, "secret",
							   GNUTLS_PKCS_PBES2_AES_256, &enc),
			 0);
	assert_non_null(memmem(enc.data, enc.size, "-----BEGIN ENCRYPTED PRIVATE KEY-----", 37));
	fx_write(path, enc.data, enc.size);
	oa_error_clear(&err);
	rc = oa_key_load_file(path, &key, &err);
	assert_failed(rc, &err, -EBADMSG, path, "encrypted", NULL);
	assert_null(key);
	gnutls_free(enc.data);
	gnutls_x509_privkey_deinit(pk);
	free(path);
}

static void test_key_missing(void **state)
{
	struct ctx *ctx = *state;
	char *path = fx_path(ctx->dir, "no-such.key");
	oa_key *key = NULL;
	oa_error err;
	int rc;

	oa_error_clear(&err);
	rc = oa_key_load_file(path, &key, &err);
	assert_failed(rc, &err, -ENOENT, path, NULL);
	assert_null(key);
	free(path);
}

static void test_destroy_null(void **state)
{
	(void)state;
	oa_chain_destroy(NULL);
	oa_key_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pem_file_order_kept),
	    cmocka_unit_test(test_pem_crlf),
	    cmocka_unit_test(test_pem_comments_and_blank_lines),
	    cmocka_unit_test(test_pem_combined_with_key),
	    cmocka_unit_test(test_pem_empty),
	    cmocka_unit_test(test_pem_null_empty),
	    cmocka_unit_test(test_pem_only_whitespace),
	    cmocka_unit_test(test_pem_garbage_text),
	    cmocka_unit_test(test_pem_random_binary),
	    cmocka_unit_test(test_pem_der_input),
	    cmocka_unit_test(test_pem_truncated_block),
	    cmocka_unit_test(test_pem_second_block_truncated),
	    cmocka_unit_test(test_pem_end_line_truncated),
	    cmocka_unit_test(test_pem_end_line_without_dashes_mid_file),
	    cmocka_unit_test(test_pem_bad_base64_second),
	    cmocka_unit_test(test_pem_1000_certs_ok),
	    cmocka_unit_test(test_pem_1001_certs_refused),
	    cmocka_unit_test(test_pem_without_error_struct),
	    cmocka_unit_test(test_load_file_ok),
	    cmocka_unit_test(test_load_file_errors_name_path),
	    cmocka_unit_test(test_load_file_missing),
	    cmocka_unit_test(test_load_file_directory),
	    cmocka_unit_test(test_der_zero_certs),
	    cmocka_unit_test(test_pem_malformed_certificate),
	    cmocka_unit_test(test_der_garbage),
	    cmocka_unit_test(test_der_garbage_second),
	    cmocka_unit_test(test_der_two_in_order),
	    cmocka_unit_test(test_der_1001_certs_refused),
	    cmocka_unit_test(test_key_valid),
	    cmocka_unit_test(test_key_sec1),
	    cmocka_unit_test(test_key_garbage),
	    cmocka_unit_test(test_key_is_a_certificate),
	    cmocka_unit_test(test_key_empty),
	    cmocka_unit_test(test_key_encrypted),
	    cmocka_unit_test(test_key_missing),
	    cmocka_unit_test(test_destroy_null),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
