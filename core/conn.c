/*
 * A client connection: libuv TCP, optionally TLS through GnuTLS push/pull.
 * GnuTLS never touches the socket: pull hands it what libuv read, push
 * queues libuv writes, and GNUTLS_E_AGAIN means "wait for the next read".
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/config.h"
#include "originaudit/conn.h"

/* Bytes read from the server that GnuTLS has not consumed yet. */
#define RECV_MAX (256 * 1024)
/* Warning alerts skipped in one handshake step before giving up. */
#define MAX_WARNINGS 16

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
	gnutls_datum_t resume;
	gnutls_session_t session;
	unsigned char *rbuf;
	size_t rlen;
	bool connected;
	bool ready;
	bool failed;
	bool closing;
	bool paused;
	bool eof;
	bool any_read;
	char error[48];
	char detail[256];
	char version[16];
	char cipher[96];
};

static gnutls_certificate_credentials_t shared_cred;
static int shared_cred_rc;
static pthread_once_t shared_cred_once = PTHREAD_ONCE_INIT;

/* One credentials object for every client session: it holds no per-server state. */
static void make_shared_cred(void)
{
	shared_cred_rc = gnutls_certificate_allocate_credentials(&shared_cred);
}

static void set_error(oa_conn *c, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(oa_conn *c, const char *error, const char *fmt, ...)
{
	va_list ap;

	snprintf(c->error, sizeof(c->error), "%s", error);
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

static void on_handle_closed(uv_handle_t *handle)
{
	oa_conn *c = handle->data;

	c->open_handles--;
	if (c->open_handles > 0) {
		return;
	}
	if (c->cbs.on_closed != NULL) {
		c->cbs.on_closed(c, c->data);
	}
	if (c->session != NULL) {
		gnutls_deinit(c->session);
	}
	free(c->rbuf);
	free(c->sni);
	free(c->resume.data);
	free(c);
}

void oa_conn_close(oa_conn *c)
{
	if (c == NULL || c->closing) {
		return;
	}
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

/* Reports a failure before ready, once, then closes. */
static void fail(oa_conn *c)
{
	if (c->ready || c->failed || c->closing) {
		return;
	}
	c->failed = true;
	uv_timer_stop(&c->timer);
	if (c->cbs.on_ready != NULL) {
		c->cbs.on_ready(c, -ECONNABORTED, c->data);
	}
	oa_conn_close(c);
}

static void become_ready(oa_conn *c)
{
	uv_timer_stop(&c->timer);
	c->ready = true;
	if (c->session != NULL) {
		const char *version =
		    gnutls_protocol_get_name(gnutls_protocol_get_version(c->session));
		const char *suite = gnutls_ciphersuite_get(c->session);

		snprintf(c->version, sizeof(c->version), "%s", version ? version : "unknown");
		snprintf(c->cipher, sizeof(c->cipher), "%s", suite ? suite : "unknown");
	}
	if (c->cbs.on_ready != NULL) {
		c->cbs.on_ready(c, 0, c->data);
	}
}

static void on_timeout(uv_timer_t *timer)
{
	oa_conn *c = timer->data;

	if (!c->connected) {
		set_error(c, "connect_timeout", "no TCP connection to %s port %u within %u ms",
			  c->opts.address, c->opts.port, c->opts.connect_timeout_ms);
	} else {
		set_error(c, "handshake_timeout",
			  "the TLS handshake with %s port %u did not complete within %u ms%s",
			  c->opts.address, c->opts.port, c->opts.handshake_timeout_ms,
			  !c->any_read ? " (the server sent nothing)" : "");
	}
	fail(c);
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	oa_conn *c = ptr;

	if (c->rlen == 0) {
		if (c->eof) {
			return 0;
		}
		gnutls_transport_set_errno(c->session, EAGAIN);
		return -1;
	}
	size_t n = len < c->rlen ? len : c->rlen;
	memcpy(data, c->rbuf, n);
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
	return (ssize_t)n;
}

struct write_req {
	uv_write_t req;
	oa_conn *conn;
	char data[];
};

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	oa_conn *c = w->conn;

	free(w);
	if (status == UV_ECANCELED || c->closing) {
		return;
	}
	if (c->ready && c->cbs.on_drain != NULL &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
		c->cbs.on_drain(c, c->data);
	}
}

static int raw_write(oa_conn *c, const void *data, size_t len)
{
	uv_buf_t direct = uv_buf_init((char *)data, (unsigned)len);
	/* Most writes go at once (nothing queued, room in the socket): no copy then. */
	int sent = uv_try_write((uv_stream_t *)&c->tcp, &direct, 1);

	if (sent >= 0 && (size_t)sent == len) {
		return 0;
	}
	if (sent > 0) {
		data = (const char *)data + sent;
		len -= (size_t)sent;
	}
	/* The rest (or all of it, whatever try_write said) is queued; uv_write reports errors. */
	struct write_req *w = malloc(sizeof(*w) + len);

	if (w == NULL) {
		return -ENOMEM;
	}
	w->conn = c;
	memcpy(w->data, data, len);
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
	int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
	if (rc < 0) {
		free(w);
		return rc;
	}
	return 0;
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	oa_conn *c = ptr;
	int rc = c->closing ? -EPIPE : raw_write(c, data, len);

	if (rc < 0) {
		gnutls_transport_set_errno(c->session, rc == -ENOMEM ? ENOMEM : EPIPE);
		return -1;
	}
	return (ssize_t)len;
}

static void alert_name(gnutls_session_t session, char *buf, size_t size)
{
	const char *name = gnutls_alert_get_strname(gnutls_alert_get(session));
	size_t i = 0;

	/* "GNUTLS_A_UNRECOGNIZED_NAME" -> "unrecognized_name", the RFC's spelling. */
	if (name != NULL && strncmp(name, "GNUTLS_A_", 9) == 0) {
		name += 9;
	}
	for (; name != NULL && name[i] != '\0' && i + 1 < size; i++) {
		char ch = name[i];

		buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : (ch == '-' ? '_' : ch);
	}
	buf[i] = '\0';
}

static void tls_failure(oa_conn *c, int rc)
{
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
		char name[32];
		char error[48];

		alert_name(c->session, name, sizeof(name));
		snprintf(error, sizeof(error), "tls_alert:%s", name);
		set_error(c, error, "the server ended the handshake with the alert %s", name);
	} else if (rc == GNUTLS_E_PREMATURE_TERMINATION) {
		set_error(c, "connection_closed",
			  "the server closed the connection during the TLS handshake");
	} else {
		set_error(c, "tls_error", "TLS handshake failed: %s", gnutls_strerror(rc));
	}
}

static void drive_handshake(oa_conn *c)
{
	int rc = gnutls_handshake(c->session);

	/* A warning alert (unrecognized_name for an unknown SNI at TLS 1.2) is no refusal. */
	for (int warnings = 0; rc == GNUTLS_E_WARNING_ALERT_RECEIVED && warnings < MAX_WARNINGS;
	     warnings++) {
		rc = gnutls_handshake(c->session);
	}
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		if (c->eof) {
			set_error(c, "connection_closed",
				  "the server closed the connection during the TLS handshake");
			fail(c);
		}
		return;
	}
	if (rc < 0) {
		tls_failure(c, rc);
		fail(c);
		return;
	}
	become_ready(c);
}

/* Decrypts and delivers what is buffered, until paused, closed or empty. */
static void deliver_tls(oa_conn *c)
{
	char buf[16384];

	while (!c->closing && !c->paused) {
		ssize_t n = gnutls_record_recv(c->session, buf, sizeof(buf));

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			if (c->eof && c->rlen == 0) {
				/* The server closed TCP without close_notify. */
				c->cbs.on_data(c, NULL, UV_EOF, c->data);
			}
			return;
		}
		if (n == 0) {
			c->cbs.on_data(c, NULL, UV_EOF, c->data);
			return;
		}
		if (n < 0) {
			if (n == GNUTLS_E_PREMATURE_TERMINATION) {
				c->cbs.on_data(c, NULL, UV_EOF, c->data);
				return;
			}
			set_error(c, "tls_error", "TLS record error: %s", gnutls_strerror((int)n));
			c->cbs.on_data(c, NULL, UV_EPROTO, c->data);
			return;
		}
		c->cbs.on_data(c, buf, n, c->data);
	}
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static _Thread_local char slab[65536];

	/* One read at a time on a loop thread; the bytes are used or copied in on_read. */
	*buf = uv_buf_init(slab, sizeof(slab));
}

/* A TLS record starts with a content type 20-24 and major version 3. */
static bool looks_like_tls(const unsigned char *data, size_t len)
{
	return len == 0 || (data[0] >= 20 && data[0] <= 24 && (len < 2 || data[1] == 3));
}

static void not_tls(oa_conn *c, const char *data, size_t len)
{
	char shown[24];
	size_t n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)data[i];

		shown[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
	}
	shown[n] = '\0';
	set_error(c, "not_tls", "the server answered with non-TLS data: \"%s\"", shown);
	fail(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	oa_conn *c = stream->data;

	if (c->closing || c->failed) {
		return;
	}
	if (nread == 0) {
		return;
	}
	if (nread < 0 && nread != UV_EOF) {
		if (!c->ready) {
			if (nread == UV_ECONNRESET) {
				set_error(
				    c, "connection_reset",
				    "the server reset the connection during the TLS handshake");
			} else {
				set_error(c, "network_error", "reading from the server failed: %s",
					  uv_strerror((int)nread));
			}
			fail(c);
			return;
		}
		set_error(c, nread == UV_ECONNRESET ? "connection_reset" : "network_error",
			  "reading from the server failed: %s", uv_strerror((int)nread));
		uv_read_stop(stream);
		c->cbs.on_data(c, NULL, nread, c->data);
		return;
	}
	if (nread == UV_EOF) {
		c->eof = true;
		uv_read_stop(stream);
		if (c->session == NULL) {
			c->cbs.on_data(c, NULL, UV_EOF, c->data);
			return;
		}
	} else if (c->session == NULL) {
		c->cbs.on_data(c, buf->base, nread, c->data);
		return;
	} else {
		if (!c->any_read &&
		    !looks_like_tls((const unsigned char *)buf->base, (size_t)nread)) {
			c->any_read = true;
			not_tls(c, buf->base, (size_t)nread);
			return;
		}
		c->any_read = true;
		if (c->rlen + (size_t)nread > RECV_MAX) {
			set_error(c, "tls_error", "the server sent more than %d bytes unread",
				  RECV_MAX);
			if (!c->ready) {
				fail(c);
			} else {
				c->cbs.on_data(c, NULL, UV_ENOBUFS, c->data);
			}
			return;
		}
		unsigned char *nb = realloc(c->rbuf, c->rlen + (size_t)nread);
		if (nb == NULL) {
			set_error(c, "network_error", "out of memory");
			fail(c);
			return;
		}
		c->rbuf = nb;
		memcpy(c->rbuf + c->rlen, buf->base, (size_t)nread);
		c->rlen += (size_t)nread;
	}
	if (!c->ready) {
		drive_handshake(c);
	} else {
		deliver_tls(c);
	}
}

static const char *version_token(unsigned bit)
{
	switch (bit) {
	case OA_PROTO_SSL3:
		return "+VERS-SSL3.0";
	case OA_PROTO_TLS1_0:
		return "+VERS-TLS1.0";
	case OA_PROTO_TLS1_1:
		return "+VERS-TLS1.1";
	case OA_PROTO_TLS1_2:
		return "+VERS-TLS1.2";
	default:
		return "+VERS-TLS1.3";
	}
}

/*
 * Priorities parsed once per set of versions (a priority string costs more
 * to parse than the rest of a session's setup); kept for the process.
 */
static pthread_mutex_t prio_lock = PTHREAD_MUTEX_INITIALIZER;
static gnutls_priority_t prio_cache[OA_PROTO_TLS1_3 << 1];
static int prio_status[OA_PROTO_TLS1_3 << 1];

static int priority_for(unsigned versions, gnutls_priority_t *out, char *text, size_t size)
{
	unsigned idx = versions & ((OA_PROTO_TLS1_3 << 1) - 1);
	const char *errpos = NULL;
	int rc;

	snprintf(text, size, "NORMAL:-VERS-ALL");
	for (unsigned bit = OA_PROTO_SSL3; bit <= OA_PROTO_TLS1_3; bit <<= 1) {
		if (idx & bit) {
			size_t len = strlen(text);

			snprintf(text + len, size - len, ":%s", version_token(bit));
		}
	}
	pthread_mutex_lock(&prio_lock);
	if (prio_status[idx] == 0) {
		rc = gnutls_priority_init(&prio_cache[idx], text, &errpos);
		prio_status[idx] = rc < 0 ? rc : 1;
	}
	rc = prio_status[idx] < 0 ? prio_status[idx] : 0;
	*out = prio_cache[idx];
	pthread_mutex_unlock(&prio_lock);
	return rc;
}

static int start_tls(oa_conn *c)
{
	char prio[160];
	gnutls_priority_t priority;
	int rc;

	pthread_once(&shared_cred_once, make_shared_cred);
	if (shared_cred_rc < 0) {
		set_error(c, "tls_error", "cannot allocate TLS credentials");
		return -ENOMEM;
	}
	rc = gnutls_init(&c->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		c->session = NULL;
		set_error(c, "tls_error", "gnutls_init: %s", gnutls_strerror(rc));
		return -ENOMEM;
	}
	rc = priority_for(c->opts.versions, &priority, prio, sizeof(prio));
	if (rc == 0) {
		rc = gnutls_priority_set(c->session, priority);
	}
	if (rc < 0) {
		/* This GnuTLS may not know a version (SSLv3): say so instead of failing blind. */
		set_error(c, "tls_error", "cannot offer the requested versions (%s): %s", prio,
			  gnutls_strerror(rc));
		return -EINVAL;
	}
	gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, shared_cred);
	if (c->sni != NULL && c->sni[0] != '\0') {
		gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, c->sni, strlen(c->sni));
	}
	if (c->resume.size > 0) {
		gnutls_session_set_data(c->session, c->resume.data, c->resume.size);
	}
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, push);
	gnutls_transport_set_pull_function(c->session, pull);
	return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
	oa_conn *c = req->data;

	if (status == UV_ECANCELED || c->closing || c->failed) {
		return;
	}
	if (status < 0) {
		if (status == UV_ECONNREFUSED) {
			set_error(c, "connection_refused", "%s port %u refused the connection",
				  c->opts.address, c->opts.port);
		} else if (status == UV_ETIMEDOUT) {
			set_error(c, "connect_timeout", "connecting to %s port %u timed out",
				  c->opts.address, c->opts.port);
		} else {
			set_error(c, "network_error", "connecting to %s port %u failed: %s",
				  c->opts.address, c->opts.port, uv_strerror(status));
		}
		fail(c);
		return;
	}
	c->connected = true;
	/* A TLS flight is several small writes: Nagle would hold them back. */
	uv_tcp_nodelay(&c->tcp, 1);
	int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc < 0) {
		set_error(c, "network_error", "cannot read: %s", uv_strerror(rc));
		fail(c);
		return;
	}
	if (!c->opts.tls) {
		become_ready(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, c->opts.handshake_timeout_ms, 0);
	if (start_tls(c) < 0) {
		fail(c);
		return;
	}
	drive_handshake(c);
}

static int parse_address(const char *address, unsigned port, struct sockaddr_storage *ss)
{
	if (address == NULL || port == 0 || port > 65535) {
		return -EINVAL;
	}
	if (uv_ip4_addr(address, (int)port, (struct sockaddr_in *)ss) == 0) {
		return 0;
	}
	if (uv_ip6_addr(address, (int)port, (struct sockaddr_in6 *)ss) == 0) {
		return 0;
	}
	return -EINVAL;
}

static void on_start_failed(uv_timer_t *timer)
{
	fail(timer->data);
}

int oa_conn_start(uv_loop_t *loop, const oa_conn_opts *opts, const oa_conn_cbs *cbs, void *data,
		  oa_conn **out)
{
	struct sockaddr_storage ss;
	oa_conn *c;
	int rc;

	if (parse_address(opts->address, opts->port, &ss) < 0) {
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	c->loop = loop;
	c->cbs = *cbs;
	c->data = data;
	c->opts = *opts;
	c->sni = opts->sni != NULL ? strdup(opts->sni) : NULL;
	if (opts->sni != NULL && c->sni == NULL) {
		free(c);
		return -ENOMEM;
	}
	c->opts.sni = c->sni;
	snprintf(c->address, sizeof(c->address), "%s", opts->address);
	c->opts.address = c->address;
	c->opts.session_data = NULL;
	if (opts->tls && opts->session_data != NULL && opts->session_data->size > 0) {
		c->resume.data = malloc(opts->session_data->size);
		if (c->resume.data == NULL) {
			free(c->sni);
			free(c);
			return -ENOMEM;
		}
		memcpy(c->resume.data, opts->session_data->data, opts->session_data->size);
		c->resume.size = opts->session_data->size;
	}
	rc = uv_tcp_init(loop, &c->tcp);
	if (rc < 0) {
		free(c->resume.data);
		free(c->sni);
		free(c);
		return rc;
	}
	uv_timer_init(loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->connect_req.data = c;
	c->open_handles = 2;
	snprintf(c->detail, sizeof(c->detail), "%s", "");
	*out = c;
	uv_timer_start(&c->timer, on_timeout, opts->connect_timeout_ms, 0);
	rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&ss, on_connect);
	if (rc < 0) {
		set_error(c, rc == UV_ECONNREFUSED ? "connection_refused" : "network_error",
			  "connecting to port %u failed: %s", opts->port, uv_strerror(rc));
		/* on_ready must not run from within this call: report on the next loop turn. */
		uv_timer_start(&c->timer, on_start_failed, 0, 0);
	}
	return 0;
}

int oa_conn_write(oa_conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	if (c->closing || c->failed || !c->ready) {
		return -EPIPE;
	}
	if (c->session == NULL) {
		return len > 0 ? raw_write(c, buf, len) : 0;
	}
	while (len > 0) {
		ssize_t n = gnutls_record_send(c->session, p, len);

		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN) {
			continue;
		}
		if (n < 0) {
			set_error(c, "tls_error", "TLS write failed: %s", gnutls_strerror((int)n));
			return -EPIPE;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

size_t oa_conn_pending(const oa_conn *c)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

void oa_conn_pause(oa_conn *c)
{
	if (c->closing || c->paused) {
		return;
	}
	c->paused = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
}

static void on_resume(uv_timer_t *timer)
{
	oa_conn *c = timer->data;

	if (!c->closing && !c->paused && c->session != NULL) {
		deliver_tls(c);
	}
}

void oa_conn_resume(oa_conn *c)
{
	if (c->closing || !c->paused) {
		return;
	}
	c->paused = false;
	if (!c->eof) {
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	}
	/* Records already buffered are delivered on the next loop turn, not from here. */
	if (c->session != NULL &&
	    (c->rlen > 0 || gnutls_record_check_pending(c->session) > 0 || c->eof)) {
		uv_timer_start(&c->timer, on_resume, 0, 0);
	}
}

const char *oa_conn_error(const oa_conn *c)
{
	return c->error;
}

const char *oa_conn_error_detail(const oa_conn *c)
{
	return c->detail;
}

const char *oa_conn_tls_version(const oa_conn *c)
{
	return c->version;
}

const char *oa_conn_cipher(const oa_conn *c)
{
	return c->cipher;
}

const gnutls_datum_t *oa_conn_peer_certs(const oa_conn *c, unsigned *n)
{
	*n = 0;
	if (c->session == NULL || !c->ready) {
		return NULL;
	}
	return gnutls_certificate_get_peers(c->session, n);
}

bool oa_conn_resumed(const oa_conn *c)
{
	return c->session != NULL && c->ready && gnutls_session_is_resumed(c->session) != 0;
}

int oa_conn_session_data(const oa_conn *c, gnutls_datum_t *out)
{
	if (c->session == NULL || !c->ready) {
		return -EINVAL;
	}
	return gnutls_session_get_data2(c->session, out) < 0 ? -EIO : 0;
}

void *oa_conn_data(const oa_conn *c)
{
	return c->data;
}

void oa_conn_rebind(oa_conn *c, const oa_conn_cbs *cbs, void *data)
{
	c->cbs = *cbs;
	c->data = data;
}
