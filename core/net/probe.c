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

#include "originaudit/chain.h"
#include "originaudit/verify.h"
#include "originaudit/config.h"
#include "originaudit/conn.h"
#include "originaudit/probe.h"

enum attempt {
	ATTEMPT_MAIN,
	ATTEMPT_FALLBACK,
	ATTEMPT_ENUM,
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
	oa_conn *conn;
	/* Connections not yet closed; the probe is freed only when none is left. */
	int open_conns;
	bool finished;
	bool destroyed;
	enum attempt attempt;
	/* Versions still to enumerate, and the one being tried. */
	unsigned enum_left;
	unsigned enum_current;
	gnutls_datum_t *peer;
	size_t n_peer;
	/* How the current attempt's connection failed (OA_CONN_OK when it did not). */
	oa_conn_failure conn_failure;
	char main_error[OA_PROBE_ERROR_MAX];
	char main_detail[256];
	oa_probe_result result;
	oa_result *verified;
	uint64_t start_ms;
};

static const unsigned all_versions =
    OA_PROTO_TLS1_0 | OA_PROTO_TLS1_1 | OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3;

static int try_attempt(oa_probe *p, enum attempt attempt, unsigned versions);
static void start_attempt(oa_probe *p, enum attempt attempt, unsigned versions);

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
	if (!p->destroyed || p->open_conns > 0) {
		return;
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

static void on_conn_closed(oa_conn *conn, void *data)
{
	oa_probe *p = data;

	p->open_conns--;
	maybe_free(p);
}

static void close_conn(oa_probe *p)
{
	oa_conn *conn = p->conn;

	p->conn = NULL;
	oa_conn_close(conn);
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
	close_conn(p);
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
		int rc = oa_chain_from_der(p->peer, p->n_peer, &chain, &err);

		if (rc == -EPROTO) {
			/* A certificate that does not parse: graded as malformed, a failure. */
			if (oa_result_malformed(&params, err.msg, &p->verified, &err) < 0) {
				set_error(p, "bad_certificate", "%s", err.msg);
			}
		} else if (rc < 0) {
			set_error(p, "bad_certificate", "%s", err.msg);
		} else if (oa_verify(chain, p->store, &params, &p->verified, &err) < 0) {
			set_error(p, "bad_certificate", "%s", err.msg);
		}
		oa_chain_destroy(chain);
		/* The result keeps what reports need: drop the raw certificates. */
		free_peer(p);
		r->result = p->verified;
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
static bool tls_level_failure(oa_conn_failure failure)
{
	return failure == OA_CONN_TLS_ALERT || failure == OA_CONN_TLS_ERROR ||
	       failure == OA_CONN_CLOSED || failure == OA_CONN_RESET;
}

/* One connection attempt ended: ok, or with an error already set in the result. */
static void attempt_done(oa_probe *p, bool ok)
{
	char versions[96];
	char detail[OA_TEXT_MAX];

	switch (p->attempt) {
	case ATTEMPT_MAIN:
		if (!ok && tls_level_failure(p->conn_failure)) {
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
		oa_check_set(&p->result.protocols, OA_STATUS_PASS, "negotiated", "",
			     "negotiated %s (allowed: %s)", p->result.tls_version, versions);
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

static void record_peer(oa_probe *p, oa_conn *conn)
{
	unsigned n = 0;
	const gnutls_datum_t *list = oa_conn_peer_certs(conn, &n);

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

static void on_ready(oa_conn *conn, int status, void *data)
{
	oa_probe *p = data;

	if (p->finished || conn != p->conn) {
		return;
	}
	if (status < 0) {
		/* The connection closes itself after a failure. */
		p->conn = NULL;
		p->conn_failure = oa_conn_failure_of(conn);
		set_error(p, oa_conn_error(conn), "%s", oa_conn_error_detail(conn));
		attempt_done(p, false);
		return;
	}
	if (p->spec.kind == OA_PROBE_HTTPS && p->attempt != ATTEMPT_ENUM) {
		snprintf(p->result.tls_version, sizeof(p->result.tls_version), "%s",
			 oa_conn_tls_version(conn));
		snprintf(p->result.cipher, sizeof(p->result.cipher), "%s", oa_conn_cipher(conn));
		record_peer(p, conn);
		if (p->n_peer == 0) {
			close_conn(p);
			set_error(p, "no_certificate", "the server sent no certificate");
			attempt_done(p, false);
			return;
		}
	}
	close_conn(p);
	attempt_done(p, true);
}

static void on_data(oa_conn *conn, const char *buf, ssize_t nread, void *data)
{
	/* A probe sends no request: whatever the server says after the handshake is ignored. */
}

/* Starts one connection attempt; a negative errno value when it could not even start. */
static int try_attempt(oa_probe *p, enum attempt attempt, unsigned versions)
{
	static const oa_conn_cbs cbs = {on_ready, on_data, NULL, on_conn_closed};
	oa_conn_opts opts = {
	    .address = p->address,
	    .port = p->spec.port,
	    .tls = p->spec.kind == OA_PROBE_HTTPS,
	    .sni = p->sni,
	    .versions = versions,
	    .connect_timeout_ms = p->spec.connect_timeout_ms,
	    .handshake_timeout_ms = p->spec.handshake_timeout_ms,
	};
	int rc;

	p->attempt = attempt;
	p->conn_failure = OA_CONN_OK;
	rc = oa_conn_start(p->loop, &opts, &cbs, p, &p->conn);
	if (rc < 0) {
		p->conn = NULL;
		return rc;
	}
	p->open_conns++;
	return 0;
}

/* A later attempt, from a callback of the loop: a failure to start finishes the probe. */
static void start_attempt(oa_probe *p, enum attempt attempt, unsigned versions)
{
	int rc = try_attempt(p, attempt, versions);

	if (rc < 0) {
		set_error(p, "network_error", "cannot connect to %s port %u: %s", p->address,
			  p->spec.port, strerror(-rc));
		finish(p);
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
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	oa_probe *p;

	if (spec->address == NULL || spec->port == 0 || spec->port > 65535 ||
	    (uv_ip4_addr(spec->address, (int)spec->port, &sin) != 0 &&
	     uv_ip6_addr(spec->address, (int)spec->port, &sin6) != 0)) {
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
	/* done_cb only ever runs later, on the loop: a failure to start is returned. */
	int rc = try_attempt(p, ATTEMPT_MAIN, spec->ssl_protocols);
	if (rc < 0) {
		p->done_cb = NULL;
		oa_probe_destroy(p);
		return rc;
	}
	*out = p;
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
	close_conn(probe);
	maybe_free(probe);
}
