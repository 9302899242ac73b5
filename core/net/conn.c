/*
 * A client connection: connect and handshake under timers, on an oa_stream
 * (stream.c, the transport: reads, writes, TLS records, back-pressure).
 * This file owns the lifecycle: connect, timers, failures before ready,
 * pause and resume, close. The TLS session and the names of handshake
 * failures are conn_tls.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn_internal.h"

const char *oa_conn_failure_name(oa_conn_failure failure)
{
	switch (failure) {
	case OA_CONN_OK:
		return "";
	case OA_CONN_REFUSED:
		return "connection_refused";
	case OA_CONN_CONNECT_TIMEOUT:
		return "connect_timeout";
	case OA_CONN_HANDSHAKE_TIMEOUT:
		return "handshake_timeout";
	case OA_CONN_RESET:
		return "connection_reset";
	case OA_CONN_CLOSED:
		return "connection_closed";
	case OA_CONN_TLS_ALERT:
		return "tls_alert";
	case OA_CONN_NOT_TLS:
		return "not_tls";
	case OA_CONN_TLS_ERROR:
		return "tls_error";
	case OA_CONN_HANDSHAKE_TOO_LARGE:
		return "handshake_too_large";
	case OA_CONN_NETWORK_ERROR:
		return "network_error";
	}
	return "network_error";
}

void oa__conn_set_error(oa_conn *c, oa_conn_failure failure, const char *fmt, ...)
{
	va_list ap;

	c->failure = failure;
	snprintf(c->error, sizeof(c->error), "%s", oa_conn_failure_name(failure));
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
	oa_stream_close(&c->stream, false);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

void oa__conn_fail(oa_conn *c)
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

void oa__conn_become_ready(oa_conn *c)
{
	uv_timer_stop(&c->timer);
	c->ready = true;
	gnutls_session_t session = oa_stream_session(&c->stream);

	if (session != NULL) {
		const char *version =
		    gnutls_protocol_get_name(gnutls_protocol_get_version(session));
		const char *suite = gnutls_ciphersuite_get(session);

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
		oa__conn_set_error(c, OA_CONN_CONNECT_TIMEOUT,
				   "no TCP connection to %s port %u within %u ms", c->opts.address,
				   c->opts.port, c->opts.connect_timeout_ms);
	} else {
		oa__conn_set_error(
		    c, OA_CONN_HANDSHAKE_TIMEOUT,
		    "the TLS handshake with %s port %u did not complete within %u ms%s",
		    c->opts.address, c->opts.port, c->opts.handshake_timeout_ms,
		    !oa_stream_any_read(&c->stream) ? " (the server sent nothing)" : "");
	}
	oa__conn_fail(c);
}

/* The stream's callbacks: the handshake's end, data, drain and close. */
static void on_stream_handshake(oa_stream *s, int status)
{
	oa_conn *c = s->data;

	if (c->closing || c->failed) {
		return;
	}
	if (status == 0) {
		oa__conn_become_ready(c);
		return;
	}
	oa__conn_handshake_failure(c, status);
	oa__conn_fail(c);
}

static void on_stream_data(oa_stream *s, const char *buf, ssize_t nread)
{
	oa_conn *c = s->data;

	if (c->closing || c->failed) {
		return;
	}
	if (!c->ready) {
		/* Before ready only a transport failure arrives here. */
		if (nread == UV_ECONNRESET) {
			oa__conn_set_error(
			    c, OA_CONN_RESET,
			    "the server reset the connection during the TLS handshake");
		} else if (nread == UV_EOF) {
			oa__conn_set_error(
			    c, OA_CONN_CLOSED,
			    "the server closed the connection during the TLS handshake");
		} else {
			oa__conn_set_error(c, OA_CONN_NETWORK_ERROR,
					   "reading from the server failed: %s",
					   uv_strerror((int)nread));
		}
		oa__conn_fail(c);
		return;
	}
	if (nread == UV_EPROTO && oa_stream_tls_error(s) != 0) {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "TLS record error: %s",
				   gnutls_strerror(oa_stream_tls_error(s)));
	} else if (nread < 0 && nread != UV_EOF) {
		oa__conn_set_error(c,
				   nread == UV_ECONNRESET ? OA_CONN_RESET : OA_CONN_NETWORK_ERROR,
				   "reading from the server failed: %s", uv_strerror((int)nread));
	}
	c->cbs.on_data(c, buf, nread, c->data);
}

static void on_stream_drain(oa_stream *s)
{
	oa_conn *c = s->data;

	if (c->ready && !c->closing && c->cbs.on_drain != NULL) {
		c->cbs.on_drain(c, c->data);
	}
}

static void on_stream_closed(oa_stream *s)
{
	on_handle_closed((uv_handle_t *)&((oa_conn *)s->data)->timer);
}

static const oa_stream_cbs stream_cbs = {
    .on_handshake = on_stream_handshake,
    .on_data = on_stream_data,
    .on_drain = on_stream_drain,
    .on_closed = on_stream_closed,
};

static void on_connect(uv_connect_t *req, int status)
{
	oa_conn *c = req->data;

	if (status == UV_ECANCELED || c->closing || c->failed) {
		return;
	}
	if (status < 0) {
		if (status == UV_ECONNREFUSED) {
			oa__conn_set_error(c, OA_CONN_REFUSED, "%s port %u refused the connection",
					   c->opts.address, c->opts.port);
		} else if (status == UV_ETIMEDOUT) {
			oa__conn_set_error(c, OA_CONN_CONNECT_TIMEOUT,
					   "connecting to %s port %u timed out", c->opts.address,
					   c->opts.port);
		} else {
			oa__conn_set_error(c, OA_CONN_NETWORK_ERROR,
					   "connecting to %s port %u failed: %s", c->opts.address,
					   c->opts.port, uv_strerror(status));
		}
		oa__conn_fail(c);
		return;
	}
	c->connected = true;
	/* A TLS flight is several small writes: Nagle would hold them back. */
	uv_tcp_nodelay(oa_stream_tcp(&c->stream), 1);
	if (c->opts.tls) {
		uv_timer_start(&c->timer, on_timeout, c->opts.handshake_timeout_ms, 0);
		if (oa__conn_start_tls(c) < 0) {
			oa__conn_fail(c);
			return;
		}
	}
	/* With TLS this sends the ClientHello; the handshake's end comes to on_stream_handshake. */
	int rc = oa_stream_start(&c->stream);
	if (rc < 0) {
		oa__conn_set_error(c, OA_CONN_NETWORK_ERROR, "cannot read: %s", uv_strerror(rc));
		oa__conn_fail(c);
		return;
	}
	if (!c->opts.tls) {
		oa__conn_become_ready(c);
	}
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
	oa__conn_fail(timer->data);
}

/* An adopted socket is connected already: on the next loop turn it goes on as after a connect. */
static void on_adopted(uv_timer_t *timer)
{
	oa_conn *c = timer->data;

	on_connect(&c->connect_req, 0);
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
	rc = oa_stream_init(loop, &c->stream, &stream_cbs, c);
	if (rc < 0) {
		free(c->resume.data);
		free(c->sni);
		free(c);
		return rc;
	}
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->connect_req.data = c;
	c->open_handles = 2;
	snprintf(c->detail, sizeof(c->detail), "%s", "");
	*out = c;
	if (opts->adopt_fd) {
		rc = uv_tcp_open(oa_stream_tcp(&c->stream), opts->fd);
		if (rc < 0) {
			close(opts->fd);
			oa__conn_set_error(c, OA_CONN_NETWORK_ERROR, "cannot use the socket: %s",
					   uv_strerror(rc));
			uv_timer_start(&c->timer, on_start_failed, 0, 0);
		} else {
			uv_timer_start(&c->timer, on_adopted, 0, 0);
		}
		return 0;
	}
	uv_timer_start(&c->timer, on_timeout, opts->connect_timeout_ms, 0);
	rc = uv_tcp_connect(&c->connect_req, oa_stream_tcp(&c->stream),
			    (const struct sockaddr *)&ss, on_connect);
	if (rc < 0) {
		oa__conn_set_error(c,
				   rc == UV_ECONNREFUSED ? OA_CONN_REFUSED : OA_CONN_NETWORK_ERROR,
				   "connecting to port %u failed: %s", opts->port, uv_strerror(rc));
		/* on_ready must not run from within this call: report on the next loop turn. */
		uv_timer_start(&c->timer, on_start_failed, 0, 0);
	}
	return 0;
}

int oa_conn_write(oa_conn *c, const void *buf, size_t len)
{
	if (c->closing || c->failed || !c->ready) {
		return -EPIPE;
	}
	int rc = oa_stream_write(&c->stream, buf, len);

	if (rc == -EPIPE && oa_stream_tls_error(&c->stream) != 0) {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "TLS write failed: %s",
				   gnutls_strerror(oa_stream_tls_error(&c->stream)));
	}
	return rc;
}

size_t oa_conn_pending(const oa_conn *c)
{
	return oa_stream_pending(&c->stream);
}

void oa_conn_pause(oa_conn *c)
{
	if (c->closing || c->paused) {
		return;
	}
	c->paused = true;
	oa_stream_pause(&c->stream);
}

static void on_resume(uv_timer_t *timer)
{
	oa_conn *c = timer->data;

	if (!c->closing && !c->paused) {
		oa_stream_deliver(&c->stream);
	}
}

void oa_conn_resume(oa_conn *c)
{
	if (c->closing || !c->paused) {
		return;
	}
	c->paused = false;
	oa_stream_resume(&c->stream);
	/*
	 * Records already buffered are delivered on the next loop turn, not from
	 * here. Before ready the timer runs the connect or handshake timeout and
	 * the handshake reads on its own.
	 */
	if (c->ready && oa_stream_buffered(&c->stream)) {
		uv_timer_start(&c->timer, on_resume, 0, 0);
	}
}

oa_conn_failure oa_conn_failure_of(const oa_conn *c)
{
	return c->failure;
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

void *oa_conn_data(const oa_conn *c)
{
	return c->data;
}

void oa_conn_rebind(oa_conn *c, const oa_conn_cbs *cbs, void *data)
{
	c->cbs = *cbs;
	c->data = data;
}
