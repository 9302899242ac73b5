/*
 * One probe: connect, handshake offering the origin's versions, grade the
 * chain. libuv owns the socket; GnuTLS only sees buffers through push/pull.
 * A probe runs its handshakes one after another, each on a new connection:
 * the main one (allowed versions), a fallback with any version when the main
 * one fails at the TLS level (so the certificate is still graded), and, on
 * request, one per version to enumerate what the server accepts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "originaudit/config.h"
#include "originaudit/probe.h"

/* Bytes buffered from the server that GnuTLS has not consumed yet. */
#define RECV_MAX (256 * 1024)

enum attempt {
	ATTEMPT_MAIN,
	ATTEMPT_FALLBACK,
	ATTEMPT_ENUM,
};

struct conn {
	oa_probe *probe;
	uv_tcp_t tcp;
	uv_connect_t connect_req;
	gnutls_session_t session;
	unsigned char *rbuf;
	size_t rlen;
	bool eof;
	bool closing;
	bool reading;
};

struct oa_probe {
	uv_loop_t *loop;
	oa_probe_spec spec;
	char *address;
	char *sni;
	char **names;
	const oa_trust_store *store;
	oa_probe_done_cb done_cb;
	void *data;
	uv_timer_t timer;
	bool timer_open;
	struct conn *conn;
	int open_handles;
	bool finished;
	bool destroyed;
	enum attempt attempt;
	/* Versions still to enumerate, and the one being tried. */
	unsigned enum_left;
	unsigned enum_current;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t *peer;
	size_t n_peer;
	char main_error[OA_PROBE_ERROR_MAX];
	char main_detail[256];
	char fallback_version[16];
	oa_probe_result result;
	oa_result *verified;
	uint64_t start_ms;
};

static const unsigned all_versions =
    OA_PROTO_TLS1_0 | OA_PROTO_TLS1_1 | OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3;

static void start_attempt(oa_probe *p, enum attempt attempt, unsigned versions);
static void maybe_free(oa_probe *p);

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
	case OA_PROTO_TLS1_3:
		return "+VERS-TLS1.3";
	default:
		return NULL;
	}
}

static void set_error(oa_probe *p, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(oa_probe *p, const char *error, const char *fmt, ...)
{
	va_list ap;

	snprintf(p->result.error, sizeof(p->result.error), "%s", error);
	va_start(ap, fmt);
	vsnprintf(p->result.error_detail, sizeof(p->result.error_detail), fmt, ap);
	va_end(ap);
}

static void on_conn_closed(uv_handle_t *handle)
{
	struct conn *c = handle->data;
	oa_probe *p = c->probe;

	if (c->session != NULL) {
		gnutls_deinit(c->session);
	}
	free(c->rbuf);
	free(c);
	p->open_handles--;
	maybe_free(p);
}

static void conn_close(struct conn *c)
{
	if (c == NULL || c->closing) {
		return;
	}
	c->closing = true;
	if (c->probe->conn == c) {
		c->probe->conn = NULL;
	}
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_timer_closed(uv_handle_t *handle)
{
	oa_probe *p = handle->data;

	p->open_handles--;
	maybe_free(p);
}

static void free_peer(oa_probe *p)
{
	for (size_t i = 0; i < p->n_peer; i++) {
		free(p->peer[i].data);
	}
	free(p->peer);
	p->peer = NULL;
	p->n_peer = 0;
}

static void maybe_free(oa_probe *p)
{
	if (!p->destroyed || p->open_handles > 0) {
		return;
	}
	if (p->cred != NULL) {
		gnutls_certificate_free_credentials(p->cred);
	}
	free_peer(p);
	oa_result_destroy(p->verified);
	oa_check_clear(&p->result.protocols);
	oa_check_clear(&p->result.http);
	free(p->address);
	free(p->sni);
	for (size_t i = 0; i < p->spec.n_names; i++) {
		free(p->names[i]);
	}
	free(p->names);
	free(p);
}

static void describe_versions(unsigned bits, char *buf, size_t size)
{
	buf[0] = '\0';
	for (unsigned bit = OA_PROTO_SSL3; bit <= OA_PROTO_TLS1_3; bit <<= 1) {
		if (bits & bit) {
			size_t len = strlen(buf);

			snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
				 oa_proto_name(bit));
		}
	}
}

/* The HTTP port answered: a finding for http-only origins, fine for match-viewer. */
static void set_http_check(oa_probe *p)
{
	if (p->spec.http_only) {
		oa_check_set(
		    &p->result.http, OA_STATUS_WARN, "http_only",
		    "Use https-only (or match-viewer with HTTPS viewers) so traffic between "
		    "CloudFront and the origin is encrypted",
		    "traffic to the origin is not encrypted (HTTP port reachable)");
	} else {
		oa_check_set(
		    &p->result.http, OA_STATUS_PASS, "http_reachable", "",
		    "the HTTP port accepts connections (for HTTP viewers of match-viewer)");
	}
}

/* Grades what was collected and reports the probe as done. */
static void finish(oa_probe *p)
{
	oa_probe_result *r = &p->result;

	if (p->finished) {
		return;
	}
	p->finished = true;
	conn_close(p->conn);
	if (p->timer_open) {
		uv_timer_stop(&p->timer);
	}
	r->duration_ms = (double)(uv_now(p->loop) - p->start_ms);
	if (r->error[0] == '\0' && p->spec.kind == OA_PROBE_HTTPS) {
		oa_chain *chain = NULL;
		oa_verify_params params;
		oa_error err;

		oa_verify_params_init(&params);
		params.names = (const char *const *)p->names;
		params.n_names = p->spec.n_names;
		params.at = p->spec.at;
		params.policy = p->spec.policy;
		if (oa_chain_from_der(p->peer, p->n_peer, &chain, &err) < 0) {
			set_error(p, "bad_certificate", "%s", err.msg);
		} else if (oa_verify(chain, p->store, &params, &p->verified, &err) < 0) {
			set_error(p, "bad_certificate", "%s", err.msg);
		}
		oa_chain_destroy(chain);
		free_peer(p);
		r->result = p->verified;
	}
	/* Nothing below needs TLS any more: keep a finished probe small. */
	if (p->cred != NULL) {
		gnutls_certificate_free_credentials(p->cred);
		p->cred = NULL;
	}
	if (r->error[0] == '\0' && p->spec.kind == OA_PROBE_HTTP) {
		set_http_check(p);
	}
	if (r->error[0] != '\0') {
		r->verdict = OA_STATUS_ERROR;
	} else if (p->spec.kind == OA_PROBE_HTTP) {
		r->verdict = oa_status_worst(OA_STATUS_PASS, r->http.status);
	} else {
		r->verdict = oa_status_worst(oa_result_verdict(p->verified), r->protocols.status);
	}
	if (!p->destroyed && p->done_cb != NULL) {
		p->done_cb(p, p->data);
	}
}

/* Failures after TCP connected that a server may use to refuse a TLS version. */
static bool tls_level_error(const char *error)
{
	return strncmp(error, "tls_alert:", 10) == 0 || strcmp(error, "tls_error") == 0 ||
	       strcmp(error, "connection_closed") == 0 || strcmp(error, "connection_reset") == 0;
}

/* One connection attempt ended: ok, or with an error already set in the result. */
static void attempt_done(oa_probe *p, bool ok)
{
	char versions[96];
	char detail[OA_TEXT_MAX];

	conn_close(p->conn);
	switch (p->attempt) {
	case ATTEMPT_MAIN:
		if (!ok && tls_level_error(p->result.error)) {
			snprintf(p->main_error, sizeof(p->main_error), "%s", p->result.error);
			snprintf(p->main_detail, sizeof(p->main_detail), "%s",
				 p->result.error_detail);
			p->result.error[0] = '\0';
			p->result.error_detail[0] = '\0';
			start_attempt(p, ATTEMPT_FALLBACK, all_versions);
			return;
		}
		if (!ok || p->spec.kind == OA_PROBE_HTTP) {
			finish(p);
			return;
		}
		describe_versions(p->spec.ssl_protocols, versions, sizeof(versions));
		snprintf(detail, sizeof(detail), "negotiated %s (allowed: %s)",
			 p->result.tls_version, versions);
		oa_check_set(&p->result.protocols, OA_STATUS_PASS, "negotiated", "", "%s", detail);
		break;
	case ATTEMPT_FALLBACK:
		if (!ok) {
			/* Report the first failure: it is what CloudFront would meet. */
			snprintf(p->result.error, sizeof(p->result.error), "%s", p->main_error);
			snprintf(p->result.error_detail, sizeof(p->result.error_detail), "%s",
				 p->main_detail);
			finish(p);
			return;
		}
		describe_versions(p->spec.ssl_protocols, versions, sizeof(versions));
		snprintf(detail, sizeof(detail),
			 "no handshake offering only %s (%s: %s); the server negotiated %s "
			 "when offered any version",
			 versions, p->main_error, p->main_detail, p->result.tls_version);
		oa_check_set(&p->result.protocols, OA_STATUS_FAIL, "protocol_mismatch",
			     "Enable one of the origin's allowed SSL protocols on the server, or "
			     "change the origin's ssl_protocols to a version the server accepts",
			     "%s", detail);
		break;
	case ATTEMPT_ENUM:
		p->result.protocols_tested |= p->enum_current;
		if (ok) {
			p->result.protocols_accepted |= p->enum_current;
		}
		/* Enumeration failures are findings, not probe errors. */
		p->result.error[0] = '\0';
		p->result.error_detail[0] = '\0';
		break;
	}
	if (p->spec.enumerate_protocols && p->enum_left != 0) {
		unsigned bit = p->enum_left & (~p->enum_left + 1);

		p->enum_left &= ~bit;
		p->enum_current = bit;
		start_attempt(p, ATTEMPT_ENUM, bit);
		return;
	}
	finish(p);
}

static void on_timeout(uv_timer_t *timer)
{
	oa_probe *p = timer->data;
	struct conn *c = p->conn;

	if (c == NULL || p->finished) {
		return;
	}
	if (c->session == NULL && p->spec.kind == OA_PROBE_HTTPS) {
		set_error(p, "connect_timeout", "no TCP connection to %s port %u within %u ms",
			  p->address, p->spec.port, p->spec.connect_timeout_ms);
	} else if (p->spec.kind == OA_PROBE_HTTP) {
		set_error(p, "connect_timeout", "no TCP connection to %s port %u within %u ms",
			  p->address, p->spec.port, p->spec.connect_timeout_ms);
	} else {
		set_error(p, "handshake_timeout",
			  "the TLS handshake with %s port %u did not complete within %u ms%s",
			  p->address, p->spec.port, p->spec.handshake_timeout_ms,
			  c->rlen == 0 && !c->eof ? " (the server sent nothing)" : "");
	}
	attempt_done(p, false);
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct conn *c = ptr;

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
	char data[];
};

static void on_written(uv_write_t *req, int status)
{
	free(req);
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct conn *c = ptr;
	struct write_req *w;

	if (c->closing) {
		gnutls_transport_set_errno(c->session, EPIPE);
		return -1;
	}
	w = malloc(sizeof(*w) + len);
	if (w == NULL) {
		gnutls_transport_set_errno(c->session, ENOMEM);
		return -1;
	}
	memcpy(w->data, data, len);
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
		free(w);
		gnutls_transport_set_errno(c->session, EPIPE);
		return -1;
	}
	return (ssize_t)len;
}

static void record_peer(oa_probe *p, gnutls_session_t session)
{
	unsigned n = 0;
	const gnutls_datum_t *list = gnutls_certificate_get_peers(session, &n);

	free_peer(p);
	if (list == NULL || n == 0) {
		return;
	}
	p->peer = calloc(n, sizeof(*p->peer));
	if (p->peer == NULL) {
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		p->peer[i].data = malloc(list[i].size ? list[i].size : 1);
		if (p->peer[i].data == NULL) {
			break;
		}
		memcpy(p->peer[i].data, list[i].data, list[i].size);
		p->peer[i].size = list[i].size;
		p->n_peer = i + 1;
	}
}

static void handshake_ok(oa_probe *p, struct conn *c)
{
	const char *version = gnutls_protocol_get_name(gnutls_protocol_get_version(c->session));
	const char *suite = gnutls_ciphersuite_get(c->session);

	if (p->attempt == ATTEMPT_ENUM) {
		attempt_done(p, true);
		return;
	}
	snprintf(p->result.tls_version, sizeof(p->result.tls_version), "%s",
		 version ? version : "unknown");
	snprintf(p->result.cipher, sizeof(p->result.cipher), "%s", suite ? suite : "unknown");
	record_peer(p, c->session);
	if (p->n_peer == 0) {
		set_error(p, "no_certificate", "the server sent no certificate");
		attempt_done(p, false);
		return;
	}
	attempt_done(p, true);
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

static void drive_handshake(oa_probe *p, struct conn *c)
{
	int rc = gnutls_handshake(c->session);

	/* A warning alert (unrecognized_name for an unknown SNI at TLS 1.2) is no refusal. */
	for (int warnings = 0; rc == GNUTLS_E_WARNING_ALERT_RECEIVED && warnings < 16; warnings++) {
		rc = gnutls_handshake(c->session);
	}

	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		if (c->eof) {
			set_error(p, "connection_closed",
				  "the server closed the connection during the TLS handshake");
			attempt_done(p, false);
		}
		return;
	}
	if (rc == 0) {
		handshake_ok(p, c);
		return;
	}
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
		char name[32];
		char error[OA_PROBE_ERROR_MAX];

		alert_name(c->session, name, sizeof(name));
		snprintf(error, sizeof(error), "tls_alert:%s", name);
		set_error(p, error, "the server ended the handshake with the alert %s", name);
	} else if (rc == GNUTLS_E_PREMATURE_TERMINATION) {
		set_error(p, "connection_closed",
			  "the server closed the connection during the TLS handshake");
	} else if (rc == GNUTLS_E_UNEXPECTED_PACKET_LENGTH || rc == GNUTLS_E_UNEXPECTED_PACKET ||
		   rc == GNUTLS_E_UNSUPPORTED_VERSION_PACKET) {
		set_error(p, "tls_error", "TLS handshake failed: %s", gnutls_strerror(rc));
	} else {
		set_error(p, "tls_error", "TLS handshake failed: %s", gnutls_strerror(rc));
	}
	attempt_done(p, false);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static _Thread_local char slab[65536];

	/* One read at a time on this loop; the data is copied out in on_read. */
	*buf = uv_buf_init(slab, sizeof(slab));
}

/* A TLS record starts with a content type 20-24 and major version 3. */
static bool looks_like_tls(const unsigned char *data, size_t len)
{
	return len == 0 || (data[0] >= 20 && data[0] <= 24 && (len < 2 || data[1] == 3));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;
	oa_probe *p = c->probe;

	if (c->closing || p->finished) {
		return;
	}
	if (nread == UV_EOF) {
		c->eof = true;
		uv_read_stop(stream);
	} else if (nread < 0) {
		if (nread == UV_ECONNRESET) {
			set_error(p, "connection_reset",
				  "the server reset the connection during the TLS handshake");
		} else {
			set_error(p, "network_error", "reading from the server failed: %s",
				  uv_strerror((int)nread));
		}
		attempt_done(p, false);
		return;
	} else if (nread > 0) {
		bool first = c->rlen == 0 && !c->reading;

		c->reading = true;
		if (first && !looks_like_tls((const unsigned char *)buf->base, (size_t)nread)) {
			char shown[24];
			size_t n =
			    (size_t)nread < sizeof(shown) - 1 ? (size_t)nread : sizeof(shown) - 1;

			for (size_t i = 0; i < n; i++) {
				unsigned char ch = (unsigned char)buf->base[i];

				shown[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
			}
			shown[n] = '\0';
			set_error(p, "not_tls", "the server answered with non-TLS data: \"%s\"",
				  shown);
			attempt_done(p, false);
			return;
		}
		if (c->rlen + (size_t)nread > RECV_MAX) {
			set_error(p, "tls_error", "the server sent more than %d bytes unread",
				  RECV_MAX);
			attempt_done(p, false);
			return;
		}
		unsigned char *nb = realloc(c->rbuf, c->rlen + (size_t)nread);
		if (nb == NULL) {
			set_error(p, "network_error", "out of memory");
			attempt_done(p, false);
			return;
		}
		c->rbuf = nb;
		memcpy(c->rbuf + c->rlen, buf->base, (size_t)nread);
		c->rlen += (size_t)nread;
	} else {
		return;
	}
	drive_handshake(p, c);
}

static int build_priority(unsigned versions, char *buf, size_t size)
{
	snprintf(buf, size, "NORMAL:-VERS-ALL");
	for (unsigned bit = OA_PROTO_SSL3; bit <= OA_PROTO_TLS1_3; bit <<= 1) {
		if (versions & bit) {
			size_t len = strlen(buf);

			snprintf(buf + len, size - len, ":%s", version_token(bit));
		}
	}
	return 0;
}

static int start_tls(oa_probe *p, struct conn *c, unsigned versions)
{
	char prio[160];
	const char *errpos = NULL;
	int rc = gnutls_init(&c->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);

	if (rc < 0) {
		set_error(p, "tls_error", "gnutls_init: %s", gnutls_strerror(rc));
		return -1;
	}
	build_priority(versions, prio, sizeof(prio));
	rc = gnutls_priority_set_direct(c->session, prio, &errpos);
	if (rc < 0) {
		/* This GnuTLS may not know a version (SSLv3); say so instead of failing blind. */
		set_error(p, "tls_error", "cannot offer the requested versions (%s): %s", prio,
			  gnutls_strerror(rc));
		return -1;
	}
	gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, p->cred);
	if (p->sni != NULL && p->sni[0] != '\0') {
		gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, p->sni, strlen(p->sni));
	}
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, push);
	gnutls_transport_set_pull_function(c->session, pull);
	return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	oa_probe *p = c->probe;

	if (status == UV_ECANCELED || c->closing || p->finished) {
		return;
	}
	if (status < 0) {
		if (status == UV_ECONNREFUSED) {
			set_error(p, "connection_refused", "%s port %u refused the connection",
				  p->address, p->spec.port);
		} else if (status == UV_ETIMEDOUT) {
			set_error(p, "connect_timeout", "connecting to %s port %u timed out",
				  p->address, p->spec.port);
		} else {
			set_error(p, "network_error", "connecting to %s port %u failed: %s",
				  p->address, p->spec.port, uv_strerror(status));
		}
		attempt_done(p, false);
		return;
	}
	if (p->spec.kind == OA_PROBE_HTTP) {
		attempt_done(p, true);
		return;
	}
	uv_timer_start(&p->timer, on_timeout, p->spec.handshake_timeout_ms, 0);
	if (start_tls(p, c,
		      p->attempt == ATTEMPT_MAIN   ? p->spec.ssl_protocols
		      : p->attempt == ATTEMPT_ENUM ? p->enum_current
						   : all_versions) < 0) {
		attempt_done(p, false);
		return;
	}
	int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	if (rc < 0) {
		set_error(p, "network_error", "cannot read: %s", uv_strerror(rc));
		attempt_done(p, false);
		return;
	}
	drive_handshake(p, c);
}

static int parse_address(const char *address, unsigned port, struct sockaddr_storage *ss)
{
	if (uv_ip4_addr(address, (int)port, (struct sockaddr_in *)ss) == 0) {
		return 0;
	}
	if (uv_ip6_addr(address, (int)port, (struct sockaddr_in6 *)ss) == 0) {
		return 0;
	}
	return -EINVAL;
}

static void start_attempt(oa_probe *p, enum attempt attempt, unsigned versions)
{
	struct sockaddr_storage ss;
	struct conn *c;
	int rc;

	(void)versions;
	p->attempt = attempt;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		set_error(p, "network_error", "out of memory");
		finish(p);
		return;
	}
	c->probe = p;
	rc = uv_tcp_init(p->loop, &c->tcp);
	if (rc < 0) {
		free(c);
		set_error(p, "network_error", "uv_tcp_init: %s", uv_strerror(rc));
		finish(p);
		return;
	}
	c->tcp.data = c;
	c->connect_req.data = c;
	/* GnuTLS pushes a flight as several small writes: Nagle would hold them back. */
	uv_tcp_nodelay(&c->tcp, 1);
	p->open_handles++;
	p->conn = c;
	parse_address(p->address, p->spec.port, &ss);
	uv_timer_start(&p->timer, on_timeout, p->spec.connect_timeout_ms, 0);
	rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&ss, on_connect);
	if (rc < 0) {
		set_error(p, rc == UV_ECONNREFUSED ? "connection_refused" : "network_error",
			  "connecting to %s port %u failed: %s", p->address, p->spec.port,
			  uv_strerror(rc));
		attempt_done(p, false);
	}
}

static int copy_spec(oa_probe *p, const oa_probe_spec *spec)
{
	p->spec = *spec;
	p->address = strdup(spec->address != NULL ? spec->address : "");
	p->sni = spec->sni != NULL ? strdup(spec->sni) : NULL;
	p->names = calloc(spec->n_names ? spec->n_names : 1, sizeof(*p->names));
	if (p->address == NULL || (spec->sni != NULL && p->sni == NULL) || p->names == NULL) {
		p->spec.n_names = 0;
		return -ENOMEM;
	}
	p->spec.n_names = 0;
	for (size_t i = 0; i < spec->n_names; i++) {
		p->names[i] = strdup(spec->names[i]);
		if (p->names[i] == NULL) {
			return -ENOMEM;
		}
		p->spec.n_names = i + 1;
	}
	p->spec.address = p->address;
	p->spec.sni = p->sni;
	p->spec.names = (const char *const *)p->names;
	return 0;
}

static oa_probe *probe_new(const oa_probe_spec *spec)
{
	oa_probe *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	if (copy_spec(p, spec) < 0) {
		p->destroyed = true;
		maybe_free(p);
		return NULL;
	}
	return p;
}

int oa_probe_new_failed(const oa_probe_spec *spec, const char *error, const char *detail,
			oa_probe **out)
{
	oa_probe *p = probe_new(spec);

	if (p == NULL) {
		return -ENOMEM;
	}
	p->finished = true;
	set_error(p, error, "%s", detail);
	p->result.verdict = OA_STATUS_ERROR;
	*out = p;
	return 0;
}

int oa_probe_start(uv_loop_t *loop, const oa_probe_spec *spec, const oa_trust_store *store,
		   oa_probe_done_cb done_cb, void *data, oa_probe **out)
{
	struct sockaddr_storage ss;
	oa_probe *p;
	int rc;

	if (spec->address == NULL || parse_address(spec->address, spec->port, &ss) < 0) {
		return -EINVAL;
	}
	if (spec->kind == OA_PROBE_HTTPS &&
	    (spec->ssl_protocols & (all_versions | OA_PROTO_SSL3)) == 0) {
		return -EINVAL;
	}
	p = probe_new(spec);
	if (p == NULL) {
		return -ENOMEM;
	}
	p->loop = loop;
	p->store = store;
	p->done_cb = done_cb;
	p->data = data;
	p->start_ms = uv_now(loop);
	p->enum_left = spec->enumerate_protocols ? all_versions : 0;
	if (spec->kind == OA_PROBE_HTTPS) {
		rc = gnutls_certificate_allocate_credentials(&p->cred);
		if (rc < 0) {
			p->destroyed = true;
			maybe_free(p);
			return -ENOMEM;
		}
	}
	rc = uv_timer_init(loop, &p->timer);
	if (rc < 0) {
		p->destroyed = true;
		maybe_free(p);
		return rc;
	}
	p->timer.data = p;
	p->timer_open = true;
	p->open_handles++;
	*out = p;
	start_attempt(p, ATTEMPT_MAIN, spec->ssl_protocols);
	return 0;
}

const oa_probe_result *oa_probe_get_result(const oa_probe *probe)
{
	return &probe->result;
}

const oa_probe_spec *oa_probe_get_spec(const oa_probe *probe)
{
	return &probe->spec;
}

void oa_probe_destroy(oa_probe *probe)
{
	if (probe == NULL || probe->destroyed) {
		return;
	}
	probe->destroyed = true;
	probe->finished = true;
	conn_close(probe->conn);
	if (probe->timer_open) {
		probe->timer_open = false;
		uv_close((uv_handle_t *)&probe->timer, on_timer_closed);
	}
	maybe_free(probe);
}
