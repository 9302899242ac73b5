/* originaudit-proxy's internal interfaces (not installed). */
#ifndef ORIGINAUDIT_PROXY_H
#define ORIGINAUDIT_PROXY_H

#include <gnutls/gnutls.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http_head.h"
#include "originaudit/config.h"
#include "originaudit/conn.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

/* Request line (method + target + version) longer than this: 414. */
#define PX_MAX_REQUEST_LINE 8192
/* All header fields longer than this: 431. */
#define PX_MAX_HEADERS_BYTES 32768
/* Bytes queued toward a peer before reading from the other side pauses. */
#define PX_HIGH_WATER (256 * 1024)
/* A chunked request body is held until complete or this long before its head goes. */
#define PX_CHUNKED_HOLD (64 * 1024)

typedef struct px_server px_server;
typedef struct px_viewer px_viewer;

typedef struct px_listener {
	px_server *srv;
	uv_tcp_t tcp;
	const oa_listen_config *config;
	/* TLS listeners: the viewer certificate (NULL for plain HTTP). */
	gnutls_certificate_credentials_t cred;
	unsigned port;
} px_listener;

/* An idle keep-alive connection to an origin, reusable for the same key. */
typedef struct px_idle {
	struct px_idle *next;
	oa_conn *conn;
	char key[512];
	uint64_t since_ms;
	unsigned keepalive_ms;
} px_idle;

/* TLS session data of the last connection per pool key, for resumption. */
typedef struct px_session {
	struct px_session *next;
	char key[512];
	gnutls_datum_t data;
} px_session;

/* A verified chain: the core's result for (chain SHA-256, acceptable names). */
typedef struct px_verified {
	struct px_verified *next;
	char key[600];
	oa_result *result;
} px_verified;

struct px_server {
	uv_loop_t *loop;
	const oa_config *config;
	const oa_trust_store *store;
	px_listener *listeners;
	size_t n_listeners;
	unsigned header_timeout_ms;
	uint64_t requests;
	px_idle *idle;
	px_session *sessions;
	size_t n_sessions;
	px_verified *verified;
	size_t n_verified;
	uv_timer_t sweep;
	size_t viewers;
	bool stopping;
};

/* Starts listening on every configured listener; 0 or a negative errno with err. */
int px_server_start(px_server *srv, uv_loop_t *loop, const oa_config *config,
		    const oa_trust_store *store, oa_error *err);

/* Stops listening and closes idle origin connections; viewers finish their request. */
void px_server_stop(px_server *srv);

/* Logs one line to stderr, prefixed with the time. */
void px_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Takes an idle origin connection for key, or NULL. The caller owns it. */
oa_conn *px_pool_take(px_server *srv, const char *key);

/* Parks conn for reuse under key for keepalive_ms. */
void px_pool_put(px_server *srv, const char *key, oa_conn *conn, unsigned keepalive_ms);

/* Closes every idle connection and forgets every TLS session. */
void px_pool_clear(px_server *srv);

/* The last TLS session for key, or NULL (owned by the server). */
const gnutls_datum_t *px_session_get(px_server *srv, const char *key);

/* Remembers conn's TLS session under key. */
void px_session_put(px_server *srv, const char *key, oa_conn *conn);

/*
 * The core's grading of certs for names, from the verification cache when
 * the same chain was seen for the same names (expiry judged again at the
 * current time), else computed and cached. Owned by the server; NULL when the
 * chain cannot even be parsed.
 */
const oa_result *px_verify_cached(px_server *srv, const gnutls_datum_t *certs, unsigned n,
				  const char *const *names, size_t n_names, bool *cached);

/* One request being answered: routing, the origin connection, the response. */
typedef struct px_exchange {
	bool active;
	const oa_behavior_config *behavior;
	const oa_origin_config *origin;
	bool https;
	/* The Host sent to the origin, the SNI name, and the names the certificate may cover. */
	char host[256];
	char sni[256];
	const char *names[2];
	size_t n_names;
	char forwarded_host[256];
	char pool_key[512];
	char address[64];
	unsigned port;
	char request_id[40];
	uv_getaddrinfo_t dns;
	bool dns_pending;
	bool idempotent;
	unsigned attempts;
	/* The request head for the origin, and the request body framing. */
	px_buf head;
	bool req_chunked;
	long long req_length;
	bool req_done;
	bool head_sent;
	/* The origin connection is ready (and verified). */
	bool origin_ready;
	/* Request body bytes, framed, that have not gone yet (see PX_CHUNKED_HOLD). */
	px_buf early_body;
	oa_conn *conn;
	bool reused;
	/* How the origin's chain was judged on this exchange: "full", "cached" or "-". */
	const char *verify;
	llhttp_t rparser;
	px_head_collect resp_collect;
	px_head resp;
	bool resp_started;
	bool resp_done;
	/* How the body goes to the viewer: Content-Length, chunked, or until close. */
	enum { PX_FRAME_LENGTH, PX_FRAME_CHUNKED, PX_FRAME_CLOSE, PX_FRAME_NONE } frame;
	bool origin_keep_alive;
	bool waiting_drain;
	uint64_t started_ms;
	char reason[48];
	int status;
} px_exchange;

struct px_viewer {
	px_server *srv;
	px_listener *listener;
	uv_tcp_t tcp;
	/* Header timeout; then, during an exchange, the origin's connect/read timeout. */
	uv_timer_t timer;
	uv_timer_t origin_timer;
	int open_handles;
	/* Origin connections still attached (closing ones included). */
	int open_conns;
	bool closing;
	bool close_after_response;
	bool tls;
	gnutls_session_t session;
	bool tls_ready;
	unsigned char *rbuf;
	size_t rlen;
	bool eof;
	bool reading;
	char address[64];
	llhttp_t parser;
	bool parser_paused;
	bool parse_failed;
	/* Inside llhttp_execute: a continue asked for then runs once it returns. */
	bool in_execute;
	bool continue_pending;
	px_buf held;
	/* The request head being parsed. */
	px_head_collect collect;
	bool any_request_byte;
	int reject_status;
	px_head head;
	px_exchange ex;
};

/* The viewer side, used by the exchange. */
int px_viewer_write(px_viewer *v, const void *buf, size_t len);
size_t px_viewer_pending(const px_viewer *v);
/* Resumes parsing the request (its body goes to the exchange) and reading. */
void px_viewer_continue(px_viewer *v);
/* Stops/starts reading from the viewer (backpressure toward the origin). */
void px_viewer_pause_reading(px_viewer *v);
void px_viewer_resume_reading(px_viewer *v);
/* The response is complete: next request, or close when it cannot continue. */
void px_viewer_response_done(px_viewer *v, bool keep_alive);
/* Closes the viewer connection at once (a response that cannot be completed). */
void px_viewer_abort(px_viewer *v);

/* An origin connection (or lookup) the exchange held is gone. */
void px_viewer_conn_closed(px_viewer *v);

/* Exchange entry points, called by the viewer. */
void px_exchange_start(px_viewer *v);
void px_exchange_body(px_viewer *v, const char *data, size_t len);
void px_exchange_request_done(px_viewer *v);
void px_exchange_viewer_drained(px_viewer *v);
/* The viewer is closing: drop the origin connection. */
void px_exchange_cancel(px_viewer *v);

#endif
