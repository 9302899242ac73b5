/*
 * A TLS origin for tests and the demo, on a libuv loop: it serves a chain in
 * exactly the order given (unlike GnuTLS's own credentials, which sort it) and
 * can misbehave on purpose (tarpit, garbage, reset) to exercise clients.
 */
#ifndef ORIGINAUDIT_TESTORIGIN_H
#define ORIGINAUDIT_TESTORIGIN_H

#include <gnutls/gnutls.h>
#include <stddef.h>
#include <uv.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum oa_test_origin_mode {
	/* TLS with the given chain; answers any HTTP request with 200 and a short body. */
	OA_TEST_ORIGIN_TLS,
	/* Accepts the connection and never sends a byte. */
	OA_TEST_ORIGIN_TARPIT,
	/* Answers with non-TLS bytes ("HTTP/1.1 400 Bad Request ...") and closes. */
	OA_TEST_ORIGIN_GARBAGE,
	/* Closes the connection (RST) as soon as data arrives. */
	OA_TEST_ORIGIN_RESET,
	/* Plain HTTP: answers any request with 200. */
	OA_TEST_ORIGIN_HTTP,
} oa_test_origin_mode;

typedef struct oa_test_origin_opts {
	oa_test_origin_mode mode;
	/* Numeric address to listen on ("127.0.0.1", "::1"); port 0 picks a free one. */
	const char *address;
	unsigned port;
	/* TLS mode: the chain's PEM, served in this order, and the leaf's key PEM. */
	const gnutls_datum_t *chain_pem;
	const gnutls_datum_t *key_pem;
	/* TLS mode: a GnuTLS priority string, e.g. "NORMAL:-VERS-ALL:+VERS-TLS1.0"; NULL = NORMAL.
	 */
	const char *priority;
} oa_test_origin_opts;

typedef struct oa_test_origin oa_test_origin;

/* Starts listening on loop; caller owns *out (oa_test_origin_destroy). */
int oa_test_origin_start(uv_loop_t *loop, const oa_test_origin_opts *opts, oa_test_origin **out,
			 oa_error *err);

/* The port actually bound. */
unsigned oa_test_origin_port(const oa_test_origin *origin);

/* Connections accepted so far. */
size_t oa_test_origin_connections(const oa_test_origin *origin);

/* Stops listening, closes every connection; memory freed from the close callbacks. Accepts NULL. */
void oa_test_origin_destroy(oa_test_origin *origin);

#ifdef __cplusplus
}
#endif

#endif
