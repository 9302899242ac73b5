/*
 * The client connection's state, shared between its lifecycle (conn.c:
 * connect, timers, reads, close) and its TLS side (conn_tls.c: GnuTLS
 * session, push/pull, handshake, records). Not installed.
 */
#ifndef ORIGINAUDIT_CORE_CONN_INTERNAL_H
#define ORIGINAUDIT_CORE_CONN_INTERNAL_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "originaudit/conn.h"

struct oa_conn {
	uv_loop_t *loop;
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	uv_timer_t timer;
	int open_handles;
	oa_conn_cbs cbs;
	void *data;
	oa_conn_opts opts;
	char address[64];
	char *sni;
	/* Session data to resume from (a copy of opts->session_data). */
	gnutls_datum_t resume;
	/* NULL for a plain TCP connection. */
	gnutls_session_t session;
	/*
	 * Ciphertext read from the server and not yet pulled by GnuTLS: rlen
	 * bytes from rbuf + roff, in a buffer of rcap bytes. GnuTLS pulls by
	 * moving roff, so nothing is moved per pull.
	 */
	unsigned char *rbuf;
	size_t roff;
	size_t rlen;
	size_t rcap;
	/* Bytes read from the server before the handshake completed (capped, see conn_tls.c). */
	size_t hs_bytes;
	bool connected;
	bool ready;
	bool failed;
	bool closing;
	bool paused;
	bool eof;
	bool any_read;
	oa_conn_failure failure;
	char error[48];
	char detail[256];
	char version[16];
	char cipher[96];
};

/* Sets the error code and its formatted detail, both copied into c. */
void oa__conn_set_error(oa_conn *c, oa_conn_failure failure, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reports a failure before ready (on_ready with -ECONNABORTED), once, then closes. */
void oa__conn_fail(oa_conn *c);

/* Stops the timer, records the TLS version and cipher, and calls on_ready with 0. */
void oa__conn_become_ready(oa_conn *c);

/* Writes to the socket, copying only what cannot go at once; returns 0 or a negative errno. */
int oa__conn_raw_write(oa_conn *c, const void *data, size_t len);

/* Creates c's GnuTLS client session over push/pull; returns 0 or a negative errno (error set). */
int oa__conn_start_tls(oa_conn *c);

/* Buffers ciphertext read from the server; false when the connection failed instead. */
bool oa__conn_tls_buffer(oa_conn *c, const char *data, size_t len);

/* Advances the handshake with what is buffered; becomes ready or fails when it ends. */
void oa__conn_drive_handshake(oa_conn *c);

/* Decrypts and delivers what is buffered, until paused, closed or empty. */
void oa__conn_deliver_tls(oa_conn *c);

/* Sends len bytes as TLS records; returns 0 or -EPIPE (error set). */
int oa__conn_tls_send(oa_conn *c, const void *buf, size_t len);

#endif
