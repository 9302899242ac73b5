/*
 * A client connection on a libuv loop: TCP to one address, optionally TLS
 * (GnuTLS driven through push/pull over buffers; libuv owns the socket).
 * Used by the scanner's probes and by the proxy toward origins. Connect and
 * handshake each run under a timer, so a connection is ready or failed within
 * its timeouts whatever the server does.
 */
#ifndef ORIGINAUDIT_CONN_H
#define ORIGINAUDIT_CONN_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oa_conn oa_conn;

typedef struct oa_conn_opts {
	/* Numeric IPv4 or IPv6 address. */
	const char *address;
	unsigned port;
	bool tls;
	/* TLS: server name for SNI (NULL for none) and OA_PROTO_* versions offered. */
	const char *sni;
	unsigned versions;
	unsigned connect_timeout_ms;
	unsigned handshake_timeout_ms;
	/* TLS: a previous session of the same server to resume (optional). */
	const gnutls_datum_t *session_data;
	/*
	 * Fuzzing and tests: use fd, an already connected stream socket (which the
	 * connection then owns), instead of connecting to address; address and
	 * port still name the peer in errors.
	 */
	bool adopt_fd;
	int fd;
} oa_conn_opts;

typedef struct oa_conn_cbs {
	/*
	 * Connected (and, with TLS, handshake complete): status 0; or failed:
	 * a negative value, with oa_conn_error() naming why. Called once.
	 */
	void (*on_ready)(oa_conn *conn, int status, void *data);
	/*
	 * After ready: application bytes (nread > 0), the peer's orderly end
	 * (UV_EOF), or an error (other negative values; see oa_conn_error()).
	 */
	void (*on_data)(oa_conn *conn, const char *buf, ssize_t nread, void *data);
	/* Every queued write has reached the socket (for backpressure); may be NULL. */
	void (*on_drain)(oa_conn *conn, void *data);
	/* The connection is gone; its memory is released right after this returns. May be NULL. */
	void (*on_closed)(oa_conn *conn, void *data);
} oa_conn_cbs;

/*
 * Starts connecting. Returns 0 (on_ready follows on the loop, never from
 * within this call) or a negative errno value (bad address: -EINVAL). The
 * connection owns itself: it lives until oa_conn_close and on_closed.
 */
int oa_conn_start(uv_loop_t *loop, const oa_conn_opts *opts, const oa_conn_cbs *cbs, void *data,
		  oa_conn **out);

/* Queues bytes (copied). 0, or a negative errno value once the connection is failing or closed. */
int oa_conn_write(oa_conn *conn, const void *buf, size_t len);

/* Bytes queued and not yet written to the socket. */
size_t oa_conn_pending(const oa_conn *conn);

/* Stops delivering data (the peer is then slowed by TCP flow control) / resumes. */
void oa_conn_pause(oa_conn *conn);
void oa_conn_resume(oa_conn *conn);

/* Closes (TLS: without waiting for close_notify); callbacks other than on_closed stop. Idempotent.
 */
void oa_conn_close(oa_conn *conn);

/* Why a connection failed: what control flow looks at (never the strings). */
typedef enum oa_conn_failure {
	OA_CONN_OK = 0,
	OA_CONN_REFUSED,
	OA_CONN_CONNECT_TIMEOUT,
	OA_CONN_HANDSHAKE_TIMEOUT,
	OA_CONN_RESET,
	/* The peer closed before the handshake completed. */
	OA_CONN_CLOSED,
	/* The peer sent a TLS alert (or answered with a version not offered). */
	OA_CONN_TLS_ALERT,
	OA_CONN_NOT_TLS,
	OA_CONN_TLS_ERROR,
	OA_CONN_HANDSHAKE_TOO_LARGE,
	OA_CONN_NETWORK_ERROR,
} oa_conn_failure;

/* The stable name of a failure ("connection_refused", ..., "tls_alert"); "" for OA_CONN_OK. */
const char *oa_conn_failure_name(oa_conn_failure failure);

/* Why the connection failed; OA_CONN_OK while it has not. */
oa_conn_failure oa_conn_failure_of(const oa_conn *conn);

/*
 * Why the connection failed, as reports and logs spell it: "" or the
 * failure's name, with the alert's for an alert (tls_alert:<name>). Owned by
 * conn.
 */
const char *oa_conn_error(const oa_conn *conn);

/* A one-line explanation of the failure; owned by conn. */
const char *oa_conn_error_detail(const oa_conn *conn);

/* TLS after the handshake: negotiated version ("TLS1.2") and cipher suite; "" otherwise. */
const char *oa_conn_tls_version(const oa_conn *conn);
const char *oa_conn_cipher(const oa_conn *conn);

/* TLS after the handshake: the certificates the server sent (wire order); owned by conn. */
const gnutls_datum_t *oa_conn_peer_certs(const oa_conn *conn, unsigned *n);

/* TLS after the handshake: whether the session was resumed. */
bool oa_conn_resumed(const oa_conn *conn);

/* TLS after the handshake: the session's resumption data (caller frees with gnutls_free). */
int oa_conn_session_data(const oa_conn *conn, gnutls_datum_t *out);

/* Replaces the callbacks and user data (hand a connection to a new owner, e.g. a pool). */
void oa_conn_rebind(oa_conn *conn, const oa_conn_cbs *cbs, void *data);

/* The user data given to oa_conn_start. */
void *oa_conn_data(const oa_conn *conn);

#ifdef __cplusplus
}
#endif

#endif
