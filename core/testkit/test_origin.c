/*
 * An origin that serves a chain exactly as given and misbehaves on request
 * (see testorigin.h). Every connection is an oa_stream (stream.h); the TLS
 * side (the chain in the given order, the server sessions the streams run)
 * is test_origin_tls.c.
 *
 * A connection ends in one of three ways: closed at once (client gone,
 * destroy), reset (RESET mode), or finished: the answer is written, the write
 * side shut down, and the handle closed when the client closes its side or
 * after LINGER_MS, so unread client bytes never turn the FIN into an RST.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_origin_internal.h"

/* Request bytes kept before giving up on a client. */
#define REQUEST_MAX (16 * 1024)
/* How long a finished connection waits for the client to close before it is closed anyway. */
#define LINGER_MS 2000
#define SWEEP_MS 250

static const char http_bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

static void maybe_free(oa_test_origin *o)
{
	if (!o->destroyed || o->open_handles > 0) {
		return;
	}
	oa__test_origin_tls_free(o);
	free(o);
}

static void on_origin_handle_closed(uv_handle_t *handle)
{
	oa_test_origin *o = handle->data;

	o->open_handles--;
	maybe_free(o);
}

void oa__test_origin_conn_close(oa__test_origin_conn *c)
{
	oa_stream_close(&c->stream, false);
}

static void on_sweep(uv_timer_t *timer)
{
	oa_test_origin *o = timer->data;
	uint64_t now = uv_now(o->loop);
	bool waiting = false;

	for (oa__test_origin_conn *c = o->conns; c != NULL; c = c->next) {
		if (!c->lingering || oa_stream_closing(&c->stream)) {
			continue;
		}
		if (now - c->linger_since >= LINGER_MS) {
			oa__test_origin_conn_close(c);
		} else {
			waiting = true;
		}
	}
	if (!waiting) {
		uv_timer_stop(timer);
		o->sweeping = false;
	}
}

static void on_shutdown(oa_stream *s, int status)
{
	oa__test_origin_conn *c = s->data;
	oa_test_origin *o = c->origin;

	/* A close cancels the shutdown (UV_ECANCELED) before the connection is freed. */
	if (status == UV_ECANCELED || oa_stream_closing(s)) {
		return;
	}
	if (status < 0 || c->peer_eof) {
		oa__test_origin_conn_close(c);
		return;
	}
	c->lingering = true;
	c->linger_since = uv_now(o->loop);
	if (!o->sweeping && !o->destroyed) {
		o->sweeping = true;
		uv_timer_start(&o->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
	}
}

void oa__test_origin_conn_finish(oa__test_origin_conn *c)
{
	if (oa_stream_closing(&c->stream) || c->finishing) {
		return;
	}
	c->finishing = true;
	oa_stream_discard(&c->stream);
	if (oa_stream_shutdown(&c->stream, on_shutdown) < 0) {
		oa__test_origin_conn_close(c);
	}
}

/* Appends request bytes; 1 when the header block is complete, 0 if not yet, -1 if too long. */
static int request_feed(oa__test_origin_conn *c, const char *data, size_t len)
{
	char *nb;

	if (c->req_len + len > REQUEST_MAX) {
		return -1;
	}
	nb = realloc(c->req, c->req_len + len + 1);
	if (nb == NULL) {
		return -1;
	}
	c->req = nb;
	memcpy(c->req + c->req_len, data, len);
	c->req_len += len;
	c->req[c->req_len] = '\0';
	return memmem(c->req, c->req_len, "\r\n\r\n", 4) != NULL ? 1 : 0;
}

/* TLS and HTTP mode: request bytes (plaintext); a complete request is answered, then finished. */
static void request_data(oa__test_origin_conn *c, const char *data, size_t len)
{
	gnutls_session_t session = oa_stream_session(&c->stream);
	int rc = request_feed(c, data, len);

	if (rc < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	if (rc == 0) {
		return;
	}
	if (oa_stream_write(&c->stream, OA__TEST_ORIGIN_HTTP_OK,
			    sizeof(OA__TEST_ORIGIN_HTTP_OK) - 1) < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	if (session != NULL) {
		/* close_notify; the write side is shut down after it. */
		gnutls_bye(session, GNUTLS_SHUT_WR);
	}
	oa__test_origin_conn_finish(c);
}

/* ---- the stream's callbacks ---- */

static void on_stream_handshake(oa_stream *s, int status)
{
	oa__test_origin_conn *c = s->data;

	if (status == 0 || oa_stream_closing(s)) {
		return;
	}
	oa__test_origin_tls_failed(c, status);
}

static void on_stream_data(oa_stream *s, const char *buf, ssize_t nread)
{
	oa__test_origin_conn *c = s->data;

	if (oa_stream_closing(s)) {
		return;
	}
	if (nread < 0) {
		/* A half-closing client still gets the answer already queued. */
		if (nread == UV_EOF && c->finishing && !c->lingering) {
			c->peer_eof = true;
			return;
		}
		oa__test_origin_conn_close(c);
		return;
	}
	if (c->finishing) {
		return;
	}
	switch (c->origin->mode) {
	case OA_TEST_ORIGIN_TLS:
	case OA_TEST_ORIGIN_HTTP:
		request_data(c, buf, (size_t)nread);
		break;
	case OA_TEST_ORIGIN_RESET:
		/* An RST, so the client reads ECONNRESET. */
		oa_stream_close(s, true);
		break;
	case OA_TEST_ORIGIN_TARPIT:
	case OA_TEST_ORIGIN_GARBAGE:
	default:
		break;
	}
}

static void on_stream_closed(oa_stream *s)
{
	oa__test_origin_conn *c = s->data;
	oa_test_origin *o = c->origin;

	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		o->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	free(c->req);
	free(c);
	o->open_handles--;
	maybe_free(o);
}

static const oa_stream_cbs stream_cbs = {
    .on_handshake = on_stream_handshake,
    .on_data = on_stream_data,
    .on_closed = on_stream_closed,
};

static void on_connection(uv_stream_t *server, int status)
{
	oa_test_origin *o = server->data;
	oa__test_origin_conn *c;

	if (status < 0 || o->destroyed) {
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return;
	}
	c->origin = o;
	if (oa_stream_init(o->loop, &c->stream, &stream_cbs, c) < 0) {
		free(c);
		return;
	}
	c->next = o->conns;
	if (o->conns != NULL) {
		o->conns->prev = c;
	}
	o->conns = c;
	o->open_handles++;
	if (uv_accept(server, (uv_stream_t *)oa_stream_tcp(&c->stream)) < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	o->accepted++;
	if (o->mode == OA_TEST_ORIGIN_TLS && oa__test_origin_tls_session_new(c) < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	if (oa_stream_start(&c->stream) < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	if (o->mode == OA_TEST_ORIGIN_GARBAGE) {
		if (oa_stream_write(&c->stream, http_bad, sizeof(http_bad) - 1) < 0) {
			oa__test_origin_conn_close(c);
			return;
		}
		oa__test_origin_conn_finish(c);
	}
}

static int parse_address(const char *address, unsigned port, struct sockaddr_storage *ss,
			 bool *ipv6)
{
	memset(ss, 0, sizeof(*ss));
	*ipv6 = strchr(address, ':') != NULL;
	if (*ipv6) {
		return uv_ip6_addr(address, (int)port, (struct sockaddr_in6 *)ss);
	}
	return uv_ip4_addr(address, (int)port, (struct sockaddr_in *)ss);
}

static int read_port(oa_test_origin *o)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rc = uv_tcp_getsockname(&o->listener, (struct sockaddr *)&ss, &len);

	if (rc < 0) {
		return rc;
	}
	if (ss.ss_family == AF_INET6) {
		o->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	} else {
		o->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	return 0;
}

int oa_test_origin_start(uv_loop_t *loop, const oa_test_origin_opts *opts, oa_test_origin **out,
			 oa_error *err)
{
	struct sockaddr_storage ss;
	bool ipv6 = false;
	oa_test_origin *o;
	int rc;

	oa_error_clear(err);
	if (out != NULL) {
		*out = NULL;
	}
	if (loop == NULL || opts == NULL || out == NULL) {
		return oa_error_set(err, -EINVAL, "oa_test_origin_start: missing argument");
	}
	if ((unsigned)opts->mode > (unsigned)OA_TEST_ORIGIN_HTTP) {
		return oa_error_set(err, -EINVAL, "unknown test origin mode %d", (int)opts->mode);
	}
	if (opts->address == NULL || opts->port > 65535 ||
	    parse_address(opts->address, opts->port, &ss, &ipv6) < 0) {
		return oa_error_set(err, -EINVAL, "cannot listen on \"%s\" port %u: %s",
				    opts->address != NULL ? opts->address : "(null)", opts->port,
				    opts->port > 65535 ? "port out of range"
						       : "not a numeric IPv4 or IPv6 address");
	}
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	o->loop = loop;
	o->mode = opts->mode;
	if (o->mode == OA_TEST_ORIGIN_TLS) {
		rc = oa__test_origin_tls_load(o, opts, err);
		if (rc < 0) {
			goto fail_free;
		}
	}
	rc = uv_tcp_init(loop, &o->listener);
	if (rc < 0) {
		oa_error_set(err, rc, "uv_tcp_init: %s", uv_strerror(rc));
		goto fail_free;
	}
	o->listener.data = o;
	o->open_handles++;
	uv_timer_init(loop, &o->sweep);
	o->sweep.data = o;
	o->open_handles++;
	rc = uv_tcp_bind(&o->listener, (const struct sockaddr *)&ss, ipv6 ? UV_TCP_IPV6ONLY : 0);
	if (rc == 0) {
		rc = uv_listen((uv_stream_t *)&o->listener, 128, on_connection);
	}
	if (rc == 0) {
		rc = read_port(o);
	}
	if (rc < 0) {
		oa_error_set(err, rc, "cannot listen on %s port %u: %s", opts->address, opts->port,
			     uv_strerror(rc));
		/* The handles are open: the memory goes from their close callbacks. */
		oa_test_origin_destroy(o);
		return rc;
	}
	*out = o;
	return 0;

fail_free:
	oa__test_origin_tls_free(o);
	free(o);
	return rc;
}

unsigned oa_test_origin_port(const oa_test_origin *origin)
{
	return origin != NULL ? origin->port : 0;
}

size_t oa_test_origin_connections(const oa_test_origin *origin)
{
	return origin != NULL ? origin->accepted : 0;
}

void oa_test_origin_destroy(oa_test_origin *origin)
{
	oa__test_origin_conn *next;

	if (origin == NULL || origin->destroyed) {
		return;
	}
	origin->destroyed = true;
	uv_close((uv_handle_t *)&origin->listener, on_origin_handle_closed);
	uv_close((uv_handle_t *)&origin->sweep, on_origin_handle_closed);
	for (oa__test_origin_conn *c = origin->conns; c != NULL; c = next) {
		next = c->next;
		oa__test_origin_conn_close(c);
	}
}
