/*
 * The test origin's state, shared between the server (test_origin.c:
 * listener, connection lifetime, requests, plain modes) and its TLS side
 * (test_origin_tls.c: the chain in the given order, the server sessions the
 * connections' oa_streams run). Not installed.
 */
#ifndef ORIGINAUDIT_CORE_TEST_ORIGIN_INTERNAL_H
#define ORIGINAUDIT_CORE_TEST_ORIGIN_INTERNAL_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "originaudit/stream.h"
#include "originaudit/testorigin.h"

/* The answer to any complete HTTP request, in TLS and HTTP mode. */
#define OA__TEST_ORIGIN_HTTP_OK                                                                    \
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"

/* One accepted client connection. */
typedef struct oa__test_origin_conn {
	/* The transport (TLS in TLS mode); its data is this connection. */
	oa_stream stream;
	oa_test_origin *origin;
	struct oa__test_origin_conn *prev;
	struct oa__test_origin_conn *next;
	/* The HTTP request read so far. */
	char *req;
	size_t req_len;
	/* The write side is being shut down: nothing more will be sent, input is dropped. */
	bool finishing;
	/* The write side is shut down; waiting for the client to close. */
	bool lingering;
	/* The client closed its side before the shutdown completed. */
	bool peer_eof;
	uint64_t linger_since;
} oa__test_origin_conn;

struct oa_test_origin {
	uv_loop_t *loop;
	oa_test_origin_mode mode;
	uv_tcp_t listener;
	uv_timer_t sweep;
	bool sweeping;
	unsigned port;
	size_t accepted;
	/* The listener, the sweep timer and every connection not yet closed. */
	int open_handles;
	bool destroyed;
	oa__test_origin_conn *conns;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_pcert_st *pcerts;
	unsigned n_pcerts;
	gnutls_privkey_t key;
};

/* Closes at once; pending writes and the shutdown are cancelled. Harmless twice. */
void oa__test_origin_conn_close(oa__test_origin_conn *c);

/*
 * Shuts the write side down once everything queued is written; from now on
 * the client's bytes are read and dropped, only its end or an error counts.
 */
void oa__test_origin_conn_finish(oa__test_origin_conn *c);

/* Loads the chain (kept in order), the key and the priority into o; 0 or negative, err set. */
int oa__test_origin_tls_load(oa_test_origin *o, const oa_test_origin_opts *opts, oa_error *err);

/* Frees what oa__test_origin_tls_load set up; harmless when nothing was. */
void oa__test_origin_tls_free(oa_test_origin *o);

/* Creates c's server session and hands it to c's stream; returns 0 or a negative errno. */
int oa__test_origin_tls_session_new(oa__test_origin_conn *c);

/* The handshake failed (status, a GnuTLS error): an alert and a finish, or a close. */
void oa__test_origin_tls_failed(oa__test_origin_conn *c, int status);

#endif
