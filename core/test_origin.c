/*
 * An origin that serves a chain exactly as given and misbehaves on request
 * (see testorigin.h). libuv owns every socket; GnuTLS only sees buffers
 * through push/pull. The chain goes out through a certificate retrieve
 * callback with a pcert list built in the given order, because GnuTLS's own
 * loaders (gnutls_certificate_set_x509_key_mem2 and friends) sort the chain
 * into issuer order, which would hide the misordering the tests want to show.
 *
 * A connection ends in one of three ways: closed at once (client gone,
 * destroy), reset (RESET mode), or finished: the answer is written, the write
 * side shut down, and the handle closed when the client closes its side or
 * after LINGER_MS, so unread client bytes never turn the FIN into an RST.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/testorigin.h"

/* Ciphertext buffered for GnuTLS and request bytes kept before giving up on a client. */
#define RECV_MAX (64 * 1024)
#define REQUEST_MAX (16 * 1024)
/* How long a finished connection waits for the client to close before it is closed anyway. */
#define LINGER_MS 2000
#define SWEEP_MS 250

static const char http_ok[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
static const char http_bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

struct conn {
	oa_test_origin *origin;
	struct conn *prev;
	struct conn *next;
	uv_tcp_t tcp;
	uv_shutdown_t shutdown_req;
	gnutls_session_t session;
	/* Ciphertext received and not yet pulled by GnuTLS. */
	unsigned char *rbuf;
	size_t rlen;
	/* The HTTP request read so far. */
	char *req;
	size_t req_len;
	bool handshake_done;
	/* The write side is being shut down: nothing more will be sent. */
	bool finishing;
	/* The write side is shut down; waiting for the client to close. */
	bool lingering;
	/* The client closed its side before the shutdown completed. */
	bool peer_eof;
	bool closing;
	uint64_t linger_since;
};

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
	struct conn *conns;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_pcert_st *pcerts;
	unsigned n_pcerts;
	gnutls_privkey_t key;
	/* One read at a time per loop; on_read copies what it keeps. */
	char slab[65536];
};

struct write_req {
	uv_write_t req;
	char data[];
};

static void free_tls(oa_test_origin *o)
{
	for (unsigned i = 0; i < o->n_pcerts; i++) {
		gnutls_pcert_deinit(&o->pcerts[i]);
	}
	free(o->pcerts);
	o->pcerts = NULL;
	o->n_pcerts = 0;
	if (o->key != NULL) {
		gnutls_privkey_deinit(o->key);
		o->key = NULL;
	}
	if (o->cred != NULL) {
		gnutls_certificate_free_credentials(o->cred);
		o->cred = NULL;
	}
	if (o->prio != NULL) {
		gnutls_priority_deinit(o->prio);
		o->prio = NULL;
	}
}

static void maybe_free(oa_test_origin *o)
{
	if (!o->destroyed || o->open_handles > 0) {
		return;
	}
	free_tls(o);
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
	struct conn *c = handle->data;
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

/* Closes at once; pending writes and the shutdown are cancelled. Harmless twice. */
static void conn_close(struct conn *c)
{
	if (c->closing) {
		return;
	}
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* Closes with an RST so the client reads ECONNRESET. */
static void conn_reset(struct conn *c)
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

/* Queues a copy of data; returns 0 or a negative errno. */
static int conn_send(struct conn *c, const void *data, size_t len)
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

	for (struct conn *c = o->conns; c != NULL; c = c->next) {
		if (!c->lingering || c->closing) {
			continue;
		}
		if (now - c->linger_since >= LINGER_MS) {
			conn_close(c);
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
	struct conn *c = req->data;
	oa_test_origin *o = c->origin;

	if (status == UV_ECANCELED || c->closing) {
		return;
	}
	if (status < 0 || c->peer_eof) {
		conn_close(c);
		return;
	}
	c->lingering = true;
	c->linger_since = uv_now(o->loop);
	if (!o->sweeping && !o->destroyed) {
		o->sweeping = true;
		uv_timer_start(&o->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
	}
}

/* Shuts the write side down once everything queued is written. */
static void conn_finish(struct conn *c)
{
	if (c->closing || c->finishing) {
		return;
	}
	c->finishing = true;
	c->shutdown_req.data = c;
	if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
		conn_close(c);
	}
}

/* Appends request bytes; returns 1 when the header block is complete, 0 if not yet, -1 if too long.
 */
static int request_feed(struct conn *c, const char *data, size_t len)
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

static void http_feed(struct conn *c, const char *data, size_t len)
{
	int rc = request_feed(c, data, len);

	if (rc < 0) {
		conn_close(c);
		return;
	}
	if (rc == 1) {
		if (conn_send(c, http_ok, sizeof(http_ok) - 1) < 0) {
			conn_close(c);
			return;
		}
		conn_finish(c);
	}
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct conn *c = ptr;
	size_t n;

	if (c->rlen == 0) {
		gnutls_transport_set_errno(c->session, EAGAIN);
		return -1;
	}
	n = len < c->rlen ? len : c->rlen;
	memcpy(data, c->rbuf, n);
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
	return (ssize_t)n;
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct conn *c = ptr;
	int rc = conn_send(c, data, len);

	if (rc < 0) {
		gnutls_transport_set_errno(c->session, rc == -ENOMEM ? ENOMEM : EPIPE);
		return -1;
	}
	return (ssize_t)len;
}

/* Hands GnuTLS the chain in the caller's order, never sorted. */
static int retrieve_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
			 const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
			 gnutls_pcert_st **pcert, unsigned int *pcert_length,
			 gnutls_privkey_t *privkey)
{
	struct conn *c = gnutls_session_get_ptr(session);
	oa_test_origin *o = c->origin;

	*pcert = o->pcerts;
	*pcert_length = o->n_pcerts;
	*privkey = o->key;
	return 0;
}

static void tls_failed(struct conn *c, int rc)
{
	/* A client that went away or refused us gets no alert; anyone else gets the right one. */
	if (rc == GNUTLS_E_PREMATURE_TERMINATION || rc == GNUTLS_E_PUSH_ERROR ||
	    rc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		conn_close(c);
		return;
	}
	gnutls_alert_send_appropriate(c->session, rc);
	conn_finish(c);
}

static void tls_answer(struct conn *c)
{
	ssize_t n = gnutls_record_send(c->session, http_ok, sizeof(http_ok) - 1);

	if (n < 0) {
		conn_close(c);
		return;
	}
	gnutls_bye(c->session, GNUTLS_SHUT_WR);
	conn_finish(c);
}

static void tls_feed(struct conn *c, const char *data, size_t len)
{
	unsigned char *nb;
	int rc;

	if (c->rlen + len > RECV_MAX) {
		conn_close(c);
		return;
	}
	nb = realloc(c->rbuf, c->rlen + len);
	if (nb == NULL) {
		conn_close(c);
		return;
	}
	c->rbuf = nb;
	memcpy(c->rbuf + c->rlen, data, len);
	c->rlen += len;
	if (!c->handshake_done) {
		rc = gnutls_handshake(c->session);
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			return;
		}
		if (rc < 0) {
			tls_failed(c, rc);
			return;
		}
		c->handshake_done = true;
	}
	for (;;) {
		char plain[4096];
		ssize_t n = gnutls_record_recv(c->session, plain, sizeof(plain));

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			return;
		}
		if (n == 0) {
			/* close_notify before (or instead of) a request. */
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (gnutls_error_is_fatal((int)n)) {
				conn_close(c);
				return;
			}
			continue;
		}
		rc = request_feed(c, plain, (size_t)n);
		if (rc < 0) {
			conn_close(c);
			return;
		}
		if (rc == 1) {
			tls_answer(c);
			return;
		}
	}
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = handle->data;

	*buf = uv_buf_init(c->origin->slab, sizeof(c->origin->slab));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;

	if (c->closing || nread == 0) {
		return;
	}
	if (nread < 0) {
		/* A half-closing client still gets the answer already queued. */
		if (nread == UV_EOF && c->finishing && !c->lingering) {
			c->peer_eof = true;
			return;
		}
		conn_close(c);
		return;
	}
	if (c->finishing) {
		return;
	}
	switch (c->origin->mode) {
	case OA_TEST_ORIGIN_TLS:
		tls_feed(c, buf->base, (size_t)nread);
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

static int tls_session_new(struct conn *c)
{
	oa_test_origin *o = c->origin;
	int rc = gnutls_init(&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);

	if (rc < 0) {
		c->session = NULL;
		return -ENOMEM;
	}
	if (gnutls_priority_set(c->session, o->prio) < 0 ||
	    gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, o->cred) < 0) {
		return -EINVAL;
	}
	gnutls_session_set_ptr(c->session, c);
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, push);
	gnutls_transport_set_pull_function(c->session, pull);
	return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
	oa_test_origin *o = server->data;
	struct conn *c;

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
		conn_close(c);
		return;
	}
	o->accepted++;
	if (o->mode == OA_TEST_ORIGIN_TLS && tls_session_new(c) < 0) {
		conn_close(c);
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	if (o->mode == OA_TEST_ORIGIN_GARBAGE) {
		if (conn_send(c, http_bad, sizeof(http_bad) - 1) < 0) {
			conn_close(c);
			return;
		}
		conn_finish(c);
	}
}

static int load_tls(oa_test_origin *o, const oa_test_origin_opts *opts, oa_error *err)
{
	const char *prio = opts->priority != NULL ? opts->priority : "NORMAL";
	const char *errpos = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int ret = 0;
	int rc;

	if (opts->chain_pem == NULL || opts->chain_pem->data == NULL || opts->key_pem == NULL ||
	    opts->key_pem->data == NULL) {
		return oa_error_set(err, -EINVAL, "a TLS test origin needs chain_pem and key_pem");
	}
	/* Flags 0: no GNUTLS_X509_CRT_LIST_SORT, so the list keeps the PEM's order. */
	rc = gnutls_x509_crt_list_import2(&crts, &n, opts->chain_pem, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || n == 0) {
		ret = oa_error_set(err, -EBADMSG, "chain_pem: no certificate could be read: %s",
				   rc < 0 ? gnutls_strerror(rc) : "empty");
		n = 0;
		goto out;
	}
	o->pcerts = calloc(n, sizeof(*o->pcerts));
	if (o->pcerts == NULL) {
		ret = oa_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = gnutls_pcert_import_x509(&o->pcerts[i], crts[i], 0);
		if (rc < 0) {
			ret = oa_error_set(err, -EBADMSG, "chain_pem: certificate %u: %s", i,
					   gnutls_strerror(rc));
			goto out;
		}
		o->n_pcerts = i + 1;
	}
	rc = gnutls_privkey_init(&o->key);
	if (rc < 0) {
		o->key = NULL;
		ret = oa_error_set(err, -ENOMEM, "gnutls_privkey_init: %s", gnutls_strerror(rc));
		goto out;
	}
	rc = gnutls_privkey_import_x509_raw(o->key, opts->key_pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		ret = oa_error_set(err, -EBADMSG, "key_pem: cannot read the private key: %s",
				   gnutls_strerror(rc));
		goto out;
	}
	rc = gnutls_certificate_allocate_credentials(&o->cred);
	if (rc < 0) {
		o->cred = NULL;
		ret = oa_error_set(err, -ENOMEM, "gnutls_certificate_allocate_credentials: %s",
				   gnutls_strerror(rc));
		goto out;
	}
	gnutls_certificate_set_retrieve_function2(o->cred, retrieve_cert);
	rc = gnutls_priority_init(&o->prio, prio, &errpos);
	if (rc < 0) {
		o->prio = NULL;
		ret = oa_error_set(err, -EINVAL, "priority \"%s\": %s at \"%s\"", prio,
				   gnutls_strerror(rc), errpos != NULL ? errpos : "");
		goto out;
	}
out:
	for (unsigned i = 0; i < n; i++) {
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
	return ret;
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
		rc = load_tls(o, opts, err);
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
	free_tls(o);
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
	struct conn *next;

	if (origin == NULL || origin->destroyed) {
		return;
	}
	origin->destroyed = true;
	uv_close((uv_handle_t *)&origin->listener, on_origin_handle_closed);
	uv_close((uv_handle_t *)&origin->sweep, on_origin_handle_closed);
	for (struct conn *c = origin->conns; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
}
