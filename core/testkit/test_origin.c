/*
 * An origin that serves a chain exactly as given and misbehaves on request
 * (see testorigin.h). libuv owns every socket; the TLS side (the chain in the
 * given order, sessions over push/pull) is test_origin_tls.c.
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

struct write_req {
	uv_write_t req;
	char data[];
};

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

static void on_conn_closed(uv_handle_t *handle)
{
	oa__test_origin_conn *c = handle->data;
	oa_test_origin *o = c->origin;

	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		o->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	if (c->session != NULL) {
		gnutls_deinit(c->session);
	}
	free(c->rbuf);
	free(c->req);
	free(c);
	o->open_handles--;
	maybe_free(o);
}

void oa__test_origin_conn_close(oa__test_origin_conn *c)
{
	if (c->closing) {
		return;
	}
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* Closes with an RST so the client reads ECONNRESET. */
static void conn_reset(oa__test_origin_conn *c)
{
	if (c->closing) {
		return;
	}
	c->closing = true;
	if (uv_tcp_close_reset(&c->tcp, on_conn_closed) < 0) {
		uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	}
}

static void on_written(uv_write_t *req, int status)
{
	free(req);
}

int oa__test_origin_conn_send(oa__test_origin_conn *c, const void *data, size_t len)
{
	struct write_req *w;
	uv_buf_t buf;
	int rc;

	if (c->closing || c->finishing) {
		return -EPIPE;
	}
	w = malloc(sizeof(*w) + len);
	if (w == NULL) {
		return -ENOMEM;
	}
	memcpy(w->data, data, len);
	buf = uv_buf_init(w->data, (unsigned)len);
	rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written);
	if (rc < 0) {
		free(w);
		return rc;
	}
	return 0;
}

static void on_sweep(uv_timer_t *timer)
{
	oa_test_origin *o = timer->data;
	uint64_t now = uv_now(o->loop);
	bool waiting = false;

	for (oa__test_origin_conn *c = o->conns; c != NULL; c = c->next) {
		if (!c->lingering || c->closing) {
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

static void on_shutdown(uv_shutdown_t *req, int status)
{
	oa__test_origin_conn *c = req->data;
	oa_test_origin *o = c->origin;

	if (status == UV_ECANCELED || c->closing) {
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
	if (c->closing || c->finishing) {
		return;
	}
	c->finishing = true;
	c->shutdown_req.data = c;
	if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
		oa__test_origin_conn_close(c);
	}
}

int oa__test_origin_request_feed(oa__test_origin_conn *c, const char *data, size_t len)
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

static void http_feed(oa__test_origin_conn *c, const char *data, size_t len)
{
	int rc = oa__test_origin_request_feed(c, data, len);

	if (rc < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	if (rc == 1) {
		if (oa__test_origin_conn_send(c, OA__TEST_ORIGIN_HTTP_OK,
					      sizeof(OA__TEST_ORIGIN_HTTP_OK) - 1) < 0) {
			oa__test_origin_conn_close(c);
			return;
		}
		oa__test_origin_conn_finish(c);
	}
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	oa__test_origin_conn *c = handle->data;

	*buf = uv_buf_init(c->origin->slab, sizeof(c->origin->slab));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	oa__test_origin_conn *c = stream->data;

	if (c->closing || nread == 0) {
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
		oa__test_origin_tls_feed(c, buf->base, (size_t)nread);
		break;
	case OA_TEST_ORIGIN_HTTP:
		http_feed(c, buf->base, (size_t)nread);
		break;
	case OA_TEST_ORIGIN_RESET:
		conn_reset(c);
		break;
	case OA_TEST_ORIGIN_TARPIT:
	case OA_TEST_ORIGIN_GARBAGE:
	default:
		break;
	}
}

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
	if (uv_tcp_init(o->loop, &c->tcp) < 0) {
		free(c);
		return;
	}
	c->tcp.data = c;
	c->next = o->conns;
	if (o->conns != NULL) {
		o->conns->prev = c;
	}
	o->conns = c;
	o->open_handles++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	o->accepted++;
	if (o->mode == OA_TEST_ORIGIN_TLS && oa__test_origin_tls_session_new(c) < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	if (o->mode == OA_TEST_ORIGIN_GARBAGE) {
		if (oa__test_origin_conn_send(c, http_bad, sizeof(http_bad) - 1) < 0) {
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
