/* originaudit-proxy's internal interfaces (not installed). */
#ifndef ORIGINAUDIT_PROXY_H
#define ORIGINAUDIT_PROXY_H

#include <errno.h>
#include <gnutls/gnutls.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "cache.h"
#include "http_head.h"
#include "metrics.h"
#include "origin_client.h"
#include "originaudit/config.h"
#include "originaudit/conn.h"
#include "originaudit/stream.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"
#include "originaudit/verify_cache.h"

/* Request line (method + target + version) longer than this: 414. */
#define PX_MAX_REQUEST_LINE 8192
/* All header fields longer than this: 431. */
#define PX_MAX_HEADERS_BYTES 32768
/* After the last response went, how long a viewer's further bytes are read and dropped. */
#define PX_LINGER_MS 2000
/* Bytes queued toward a peer before reading from the other side pauses. */
#define PX_HIGH_WATER (256 * 1024)
/* What a viewer may send before its TLS handshake completes. */
#define PX_MAX_CLIENT_HELLO (256 * 1024)
/* A chunked request body is held until complete or this long before its head goes. */
#define PX_CHUNKED_HOLD (64 * 1024)

typedef struct px_server px_server;
typedef struct px_viewer px_viewer;
typedef struct px_exchange px_exchange;
typedef struct px_downstream px_downstream;
typedef struct px_request_info px_request_info;

/*
 * One loaded configuration and its CA bundle. The server points at the
 * current one; each request holds a reference to the one it started with.
 */
typedef struct px_gen {
	oa_config *config;
	oa_trust_store *store;
	/* Metrics slot of each origin (index as in config->origins). */
	int *origin_slots;
	unsigned refs;
} px_gen;

/*
 * Loads path (or, when snapshot_fd >= 0, the snapshot of it in that
 * descriptor): the configuration (it must have a "proxy" block), its CA
 * bundle, and a trial load of every listener certificate. 0 with *out (one
 * reference, the caller's), or a negative errno value with err.
 */
int px_gen_load(const char *path, int snapshot_fd, px_gen **out, oa_error *err);

/*
 * Copies the file at path into a new memory file (*fd), so that what was
 * validated is exactly what a worker started later reads (snapshot_fd of
 * px_gen_load), whatever happens to the file meanwhile. 0 or negative errno.
 */
int px_config_snapshot(const char *path, int *fd, oa_error *err);
px_gen *px_gen_ref(px_gen *gen);
/* Drops a reference; the last one frees the generation. Accepts NULL. */
void px_gen_unref(px_gen *gen);
/* The metrics slot of origin (NULL: slot 0, "-"). */
int px_gen_origin_slot(const px_gen *gen, const oa_origin_config *origin);

/* The JSON access log (docs/proxy-operations.md); fd -1 when there is none. */
typedef struct px_access_log {
	int fd;
	char *path;
	/* The second last formatted, and its text. */
	time_t when_sec;
	char when[40];
} px_access_log;

/* One access log line; NULL strings are written as null. */
typedef struct px_access_entry {
	const char *client;
	const char *method;
	size_t method_len;
	const char *host;
	size_t host_len;
	const char *path;
	size_t path_len;
	int status;
	uint64_t bytes_in;
	uint64_t bytes_out;
	const char *origin;
	const char *x_cache;
	const char *reason;
	uint64_t duration_ms;
	const char *request_id;
} px_access_entry;

/* Opens path ("-": standard output; NULL: no log). 0 or a negative errno value with err. */
int px_access_log_open(px_access_log *log, const char *path, oa_error *err);
/* Reopens the file (rotation); on failure the old descriptor stays. 0 or negative errno. */
int px_access_log_reopen(px_access_log *log);
void px_access_log_close(px_access_log *log);
void px_access_log_write(px_access_log *log, const px_access_entry *e);

typedef struct px_listener {
	px_server *srv;
	uv_tcp_t tcp;
	const oa_listen_config *config;
	/* TLS listeners: the viewer certificate (NULL for plain HTTP). */
	gnutls_certificate_credentials_t cred;
	unsigned port;
	/* tcp was initialised (it must be closed). */
	bool open;
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

struct px_server {
	uv_loop_t *loop;
	/* The current generation (one reference held here). */
	px_gen *gen;
	px_listener *listeners;
	size_t n_listeners;
	/* Viewer credentials replaced by a reload, still used by older connections. */
	gnutls_certificate_credentials_t *retired;
	size_t n_retired;
	unsigned header_timeout_ms;
	uint64_t requests;
	px_idle *idle;
	px_session *sessions;
	size_t n_sessions;
	/* Verdicts on origin chains (core/verify/verify_cache.c), made when first needed. */
	oa_verify_cache *verified;
	uv_timer_t sweep;
	/* Released exchanges, freed by reap after each loop turn. */
	px_exchange *dead;
	uv_check_t reap;
	/* Every open viewer connection, for draining. */
	px_viewer *viewer_list;
	size_t viewers;
	bool stopping;
	/* Counters shared with the supervisor (NULL when run without one) and this worker's slot.
	 */
	pxm *metrics;
	unsigned worker;
	/* The response cache (NULL: disabled). */
	px_cache *cache;
	px_access_log access_log;
	/* SIGTERM: in-flight requests get until this timer fires. */
	uv_timer_t drain;
	/* Called once the last viewer is gone after px_server_drain. */
	void (*drained)(px_server *srv);
	/*
	 * Fuzzing and tests: when set, an origin connection uses the connected
	 * socket this returns (>= 0) instead of connecting; NULL in the proxy.
	 */
	int (*origin_socket)(px_server *srv, void *arg);
	void *origin_socket_arg;
};

/*
 * Starts listening on every configured listener of gen (which the server
 * takes a reference to), binding each one itself (exclusively; a worker
 * adopts the supervisor's sockets instead, see supervisor.h); 0 or a
 * negative errno with err.
 */
int px_server_start(px_server *srv, uv_loop_t *loop, px_gen *gen, oa_error *err);

/* Switches to gen for new requests (listeners unchanged); drops cached verifications. */
void px_server_reload(px_server *srv, px_gen *gen);

/*
 * Graceful stop: closes the listeners and idle viewer connections, lets
 * in-flight requests finish (their connections close after the response)
 * for up to timeout_ms, then closes what is left; srv->drained runs when the
 * last viewer is gone.
 */
void px_server_drain(px_server *srv, unsigned timeout_ms);

/* Closes every handle the server owns (after draining). */
void px_server_close(px_server *srv);

/* Frees the rest once the loop has run the close callbacks. */
void px_server_free(px_server *srv);

/* A viewer connection is gone (its memory freed). */
void px_server_viewer_gone(px_server *srv);

/* Logs one line to stderr, prefixed with the time. */
void px_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Takes an idle origin connection for key, or NULL. The caller owns it. */
oa_conn *px_pool_take(px_server *srv, const char *key);

/* Parks conn for reuse under key for keepalive_ms. */
void px_pool_put(px_server *srv, const char *key, oa_conn *conn, unsigned keepalive_ms);

/* Closes every idle connection and forgets every TLS session and verification. */
void px_pool_clear(px_server *srv);

/* Closes idle connections past their keep-alive time (every second). */
void px_pool_sweep(px_server *srv);

/* Forgets every cached verification (a new CA bundle). */
void px_verified_clear(px_server *srv);

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
const oa_result *px_verify_cached(px_server *srv, const oa_trust_store *store,
				  const gnutls_datum_t *certs, unsigned n, const char *const *names,
				  size_t n_names, bool *cached);

/* One request being answered: routing, the origin connection, the response. */
/*
 * One request and its answer: the request head as parsed, where it goes,
 * the origin connection, the response coming down. Made when a request's
 * first byte is parsed (px_exchange_new), released when it is answered
 * (px_exchange_release): an idle viewer connection holds none.
 */
/*
 * What an exchange needs of the connection it answers on. The viewer side
 * implements it (proxy/viewer.c); the exchange never calls the viewer
 * directly, so the request path reads top-down: server, viewer, exchange,
 * origin client and cache, response writer.
 */
struct px_downstream {
	/* Writes response bytes; 0 or a negative errno. */
	int (*write)(void *ctx, const void *buf, size_t len);
	/* Gathers writes until uncork sends them together. */
	void (*cork)(void *ctx);
	void (*uncork)(void *ctx);
	/* Bytes written and not yet sent. */
	size_t (*pending)(void *ctx);
	/* The request body may come now (its parsing resumes). */
	void (*want_body)(void *ctx);
	/* Back-pressure on the request body: stop / go on reading it. */
	void (*pause)(void *ctx);
	void (*resume)(void *ctx);
	/* (Re)starts the timer that calls px_exchange_timeout after ms; 0 stops it. */
	void (*set_timer)(void *ctx, uint64_t ms);
	/* The response is complete; keep_alive: the connection may carry another request. */
	void (*done)(void *ctx, bool keep_alive);
	/* The response cannot be completed: the connection is reset. */
	void (*abort)(void *ctx);
};

/* The request as the viewer parsed it. */
struct px_request_info {
	/* llhttp's method and version. */
	int method;
	int http_major;
	int http_minor;
	/* The request allows the connection to go on (version, Connection). */
	bool keep_alive;
	/* It arrived over TLS. */
	bool tls;
	/* The viewer's address. */
	const char *client;
};

struct px_exchange {
	px_server *srv;
	const px_downstream *down;
	void *down_ctx;
	/* The request as parsed (px_exchange_start), with the viewer's address copied. */
	px_request_info info;
	char viewer_address[64];
	/* Origin connections and lookups that still call back into this exchange. */
	unsigned holds;
	bool released;
	/* Released, waiting to be freed once nothing holds it and the loop is out of every
	 * callback. */
	px_exchange *next_dead;
	/* The request head as the viewer sent it (req points into req_collect). */
	px_head_collect req_collect;
	px_head req;
	bool active;
	/* The configuration this request started with (a reference). */
	px_gen *gen;
	/* Bytes of this request received and of its response sent. */
	uint64_t bytes_in;
	uint64_t bytes_out;
	/* The cache key (a GET/HEAD looked up), and the copy of a storable response being kept. */
	px_buf cache_key;
	bool cache_lookup;
	bool caching;
	long long cache_lifetime;
	long long cache_age;
	px_buf cache_body;
	/* The X-Cache kind of the response: "Hit", "Miss", "Error", "Redirect". */
	const char *x_cache_kind;
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
	/* The origin's name being resolved (owned by the lookup until its callback). */
	uv_getaddrinfo_t *dns;
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
	/* The origin was refused for its certificate (counted apart from network failures). */
	bool certificate_refused;
	/* The origin's response being parsed. */
	px_origin_client client;
	/* A response head went to the viewer (the origin's, or a cached one). */
	bool resp_started;
	/* How the body goes to the viewer: Content-Length, chunked, or until close. */
	enum { PX_FRAME_LENGTH, PX_FRAME_CHUNKED, PX_FRAME_CLOSE, PX_FRAME_NONE } frame;
	/* The response head told the viewer keep-alive (set with the head). */
	bool viewer_keep_alive;
	bool waiting_drain;
	uint64_t started_ms;
	char reason[48];
	int status;
};

struct px_viewer {
	px_server *srv;
	px_viewer *prev;
	px_viewer *next;
	px_listener *listener;
	/* The connection (TCP, or TLS on a TLS listener). */
	oa_stream stream;
	/* Header timeout; then, during an exchange, the origin's connect/read timeout. */
	uv_timer_t timer;
	uv_timer_t origin_timer;
	/* The stream and the two timers, while not closed. */
	int open_handles;
	bool closing;
	bool close_after_response;
	bool tls;
	/* The viewer ended its side (everything it sent before was delivered). */
	bool eof;
	/* The last response is written and the write side shut: input is read and dropped. */
	bool finishing;
	bool lingering;
	char address[64];
	llhttp_t parser;
	bool parser_paused;
	/* Nothing more is parsed: the request was refused or broke, the connection ends. */
	bool parse_failed;
	/* Inside llhttp_execute: a continue asked for then runs once it returns. */
	bool in_execute;
	bool continue_pending;
	px_buf held;
	bool any_request_byte;
	int reject_status;
	/* Bytes received since the last request started (what a refused request sent). */
	uint64_t bytes_in;
	/* The request being parsed or answered; NULL while idle. */
	px_exchange *ex;
};

/* Whether v has a request being answered. */
static inline bool px_viewer_busy(const px_viewer *v)
{
	return v->ex != NULL && v->ex->active;
}

/* Sets up llhttp's callbacks (once). */
void px_viewer_init_settings(void);
/* Accepts a viewer connection on l (refused at once beyond proxy.max_connections). */
void px_viewer_accept(px_listener *l, uv_stream_t *server);
/*
 * Fuzzing and tests: serves fd, an already connected stream socket (owned
 * from now on, closed on failure), as a viewer connection of l. 0 or negative errno.
 */
int px_viewer_adopt(px_listener *l, int fd);
/* Graceful stop: an idle connection closes now, a busy one after its response. */
void px_viewer_drain(px_viewer *v);
/* Closes the viewer connection at once, with a reset (a response that cannot be completed). */
void px_viewer_abort(px_viewer *v);

/*
 * Records a request refused before it was routed (400, 408, 414, 431): the
 * bytes the viewer sent for it and those of the refusal.
 */
void px_log_refused(px_server *srv, const char *client, int status, uint64_t bytes_in,
		    uint64_t bytes_out);

/* ---- the exchange (exchange.c, response.c, cache_serve.c, request_log.c) ---- */

/* A new exchange for a request arriving on down (not yet active); NULL when out of memory. */
px_exchange *px_exchange_new(px_server *srv, const px_downstream *down, void *ctx);
/*
 * The request head is complete (ex->req): route it and answer it, from the
 * cache, locally, or through an origin. info describes the request as parsed.
 */
void px_exchange_start(px_exchange *ex, const px_request_info *info);
/* Request body bytes (unframed), and the request's end. */
void px_exchange_body(px_exchange *ex, const char *data, size_t len);
void px_exchange_request_done(px_exchange *ex);
/*
 * The request body (or trailer) broke after the head was accepted (llhttp's
 * error name): 400 when no response has started, else the connection is reset.
 */
void px_exchange_request_failed(px_exchange *ex, const char *why);
/* Everything written downstream was sent: the origin may be read again. */
void px_exchange_downstream_drained(px_exchange *ex);
/* The downstream's timer (set_timer) fired: the origin was too slow. */
void px_exchange_timeout(px_exchange *ex);
/* The downstream is closing: the origin connection is dropped and nothing more is written. */
void px_exchange_cancel(px_exchange *ex);
/*
 * The downstream is done with ex: it is freed once no origin connection or
 * lookup holds it and the loop has left every callback (pointers to it on
 * the stack stay valid till then).
 */
void px_exchange_release(px_exchange *ex);
/* Frees the released exchanges nothing holds (all: every one, at shutdown). */
void px_exchange_reap(px_server *srv, bool all);

/* Records a finished (or abandoned) request: stderr, access log, counters. */
void px_request_log(px_exchange *ex, int status, const char *reason);

/* The cache's part of an exchange (cache_serve.c). */
/* A GET/HEAD found fresh in the cache is answered from it: true when it was. */
bool px_cache_serve(px_exchange *ex);
/* The origin's response head: decides whether a copy of it is kept. */
void px_cache_consider(px_exchange *ex, const px_head *resp, bool has_length,
		       unsigned long long length);
/* Response body bytes as they go to the viewer. */
void px_cache_body(px_exchange *ex, const char *data, size_t len);
/* The response is complete: stores the kept copy. */
void px_cache_store(px_exchange *ex);

/*
 * Exchange internals: what proxy/exchange.c (the request side),
 * proxy/response.c (the response writer) and proxy/cache_serve.c share.
 */
/* Drops the exchange's origin connection and closes it (exchange.c). */
void px__detach_conn(px_exchange *ex);
/* Connects again for a bodiless GET/HEAD not yet answered; true when it did (exchange.c). */
bool px__retry(px_exchange *ex, bool count_attempt);
/* Answers with the proxy's own response (error, redirect), which ends the exchange (response.c). */
void px__respond_local(px_exchange *ex, int status, const char *reason);
/* The response is complete: the exchange ends, the downstream goes on or closes (response.c). */
void px__end(px_exchange *ex, bool keep_alive);
/* Readies the origin client for the origin's response (response.c). */
void px__response_begin(px_exchange *ex);
/* Starts (again) the origin's read timeout (response.c). */
void px__arm_read_timer(px_exchange *ex);
/* The origin connection's on_data callback: response bytes, or its end (response.c). */
void px__on_origin_data(oa_conn *conn, const char *buf, ssize_t nread, void *data);

/* The downstream, as the exchange files call it: nothing happens once it is gone (cancel). */
static inline int px_down_write(px_exchange *ex, const void *buf, size_t len)
{
	if (ex->down == NULL) {
		return -EPIPE;
	}
	ex->bytes_out += len;
	return ex->down->write(ex->down_ctx, buf, len);
}

static inline size_t px_down_pending(const px_exchange *ex)
{
	return ex->down != NULL ? ex->down->pending(ex->down_ctx) : 0;
}

static inline void px_down_abort(px_exchange *ex)
{
	if (ex->down != NULL) {
		ex->down->abort(ex->down_ctx);
	}
}

static inline void px_down_pause(px_exchange *ex)
{
	if (ex->down != NULL) {
		ex->down->pause(ex->down_ctx);
	}
}

static inline void px_down_cork(px_exchange *ex, bool on)
{
	if (ex->down != NULL) {
		(on ? ex->down->cork : ex->down->uncork)(ex->down_ctx);
	}
}

static inline void px_down_set_timer(px_exchange *ex, uint64_t ms)
{
	if (ex->down != NULL) {
		ex->down->set_timer(ex->down_ctx, ms);
	}
}

#endif
