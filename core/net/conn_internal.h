/*
 * The client connection's state, shared between its lifecycle (conn.c:
 * connect, timers, reads, close, on an oa_stream) and its TLS side
 * (conn_tls.c: the GnuTLS client session, failures named). Not installed.
 */
#ifndef ORIGINAUDIT_CORE_CONN_INTERNAL_H
#define ORIGINAUDIT_CORE_CONN_INTERNAL_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "originaudit/conn.h"
#include "originaudit/stream.h"

struct oa_conn {
	uv_loop_t *loop;
	/* The transport (TCP, then TLS when opts.tls). */
	oa_stream stream;
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
	bool connected;
	bool ready;
	bool failed;
	bool closing;
	bool paused;
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

/* Creates c's GnuTLS client session and runs it on c's stream; 0 or a negative errno (error set).
 */
int oa__conn_start_tls(oa_conn *c);

/* Names why the handshake failed (status as oa_stream_cbs.on_handshake gives it). */
void oa__conn_handshake_failure(oa_conn *c, int status);

#endif
