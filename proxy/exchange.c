/*
 * One request answered like CloudFront's edge: route through the cache
 * behaviours, apply the viewer and origin protocol policies, connect to the
 * origin (reusing a kept-alive connection when one is idle), judge its
 * certificate with the core's checks and fail closed with 502, then stream
 * the request body up and the response down with backpressure both ways.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "originaudit/names.h"
#include "originaudit/route.h"
#include "proxy.h"

static llhttp_settings_t response_settings;
static bool response_settings_ready;
static void connect_origin(px_viewer *v);

static void x_cache(const px_viewer *v, const char *what, char *buf, size_t size)
{
	snprintf(buf, size, "%s from %s", what, v->ex.gen->config->proxy.x_cache_name);
}

static void detach_conn(px_viewer *v)
{
	oa_conn *conn = v->ex.conn;

	v->ex.conn = NULL;
	oa_conn_close(conn);
}

static void end_exchange(px_viewer *v, bool keep_alive)
{
	px_exchange *ex = &v->ex;

	uv_timer_stop(&v->origin_timer);
	ex->active = false;
	px_viewer_response_done(v, keep_alive);
}

/* A response made by the proxy itself (error, redirect): the exchange ends with it. */
static void respond_local(px_viewer *v, int status, const char *reason)
{
	px_exchange *ex = &v->ex;
	bool body_pending = !ex->req_done && (ex->req_chunked || ex->req_length > 0);
	bool keep_alive =
	    llhttp_should_keep_alive(&v->parser) && !body_pending && !v->srv->stopping;
	char xc[96];
	px_buf out;
	int rc;

	px_buf_init(&out);
	if (status == 301 || status == 307) {
		const px_header *host = px_head_find(&v->head, "Host");
		char hostname[256];
		char target[PX_MAX_REQUEST_LINE + 1];
		char *colon;

		/* https://<Host without its port><path>?<query>: the HTTPS side is on 443. */
		snprintf(hostname, sizeof(hostname), "%.*s", host ? (int)host->value_len : 0,
			 host ? host->value : "");
		colon = hostname[0] == '[' ? strstr(hostname, "]:") : strrchr(hostname, ':');
		if (colon != NULL) {
			colon[hostname[0] == '[' ? 1 : 0] = '\0';
		}
		snprintf(target, sizeof(target), "%.*s", (int)v->head.target_len, v->head.target);
		x_cache(v, "Redirect", xc, sizeof(xc));
		ex->x_cache_kind = "Redirect";
		rc = px_build_redirect(status, hostname, target, xc, keep_alive, v->head.http_minor,
				       &out);
		if (rc < 0) {
			status = 400;
			reason = "bad_host";
		}
	} else {
		rc = -1;
	}
	if (rc < 0) {
		x_cache(v, "Error", xc, sizeof(xc));
		ex->x_cache_kind = "Error";
		px_buf_free(&out);
		px_buf_init(&out);
		px_build_error_response(status, xc,
					ex->gen->config->proxy.debug_headers ? reason : NULL,
					keep_alive, v->head.http_minor, &out);
	}
	ex->status = status;
	snprintf(ex->reason, sizeof(ex->reason), "%s", reason ? reason : "");
	detach_conn(v);
	size_t len = out.len;
	if (v->parser.method == HTTP_HEAD) {
		/* A response to HEAD ends with its header block. */
		const char *end = strstr(out.data != NULL ? out.data : "", "\r\n\r\n");

		len = end != NULL ? (size_t)(end - out.data) + 4 : out.len;
	}
	px_viewer_write(v, out.data, len);
	px_buf_free(&out);
	px_request_log(v, status, reason);
	end_exchange(v, keep_alive);
}

/* ---- the response from the origin ---- */

static int on_r_status(llhttp_t *p, const char *at, size_t len)
{
	px_viewer *v = p->data;

	return px_head_collect_first(&v->ex.resp_collect, at, len) < 0 ? -1 : 0;
}

static int on_r_header_field(llhttp_t *p, const char *at, size_t len)
{
	px_viewer *v = p->data;

	return px_head_collect_header(&v->ex.resp_collect, at, len, false,
				      2 * PX_MAX_HEADERS_BYTES) < 0
		   ? -1
		   : 0;
}

static int on_r_header_value(llhttp_t *p, const char *at, size_t len)
{
	px_viewer *v = p->data;

	return px_head_collect_header(&v->ex.resp_collect, at, len, true,
				      2 * PX_MAX_HEADERS_BYTES) < 0
		   ? -1
		   : 0;
}

static int on_r_message_begin(llhttp_t *p)
{
	px_viewer *v = p->data;

	px_head_collect_reset(&v->ex.resp_collect);
	memset(&v->ex.resp, 0, sizeof(v->ex.resp));
	return 0;
}

static int on_r_headers_complete(llhttp_t *p)
{
	px_viewer *v = p->data;
	px_exchange *ex = &v->ex;
	px_head *h = &ex->resp;
	int status = p->status_code;
	bool head_request = v->parser.method == HTTP_HEAD;
	char xc[96];
	px_buf out;

	if (status >= 100 && status < 200) {
		/* Interim responses (100 Continue) are not passed on. */
		return 0;
	}
	h->status = status;
	h->http_minor = p->http_minor;
	px_head_collect_finish(&ex->resp_collect, h, true);
	bool no_body = head_request || status == 204 || status == 304;
	bool has_length = (p->flags & F_CONTENT_LENGTH) != 0;
	bool chunked = (p->flags & F_CHUNKED) != 0;
	bool viewer_11 = v->head.http_minor >= 1;
	px_response_opts o;

	memset(&o, 0, sizeof(o));
	o.content_length = -1;
	if (no_body) {
		ex->frame = PX_FRAME_NONE;
		o.content_length = has_length ? (long long)p->content_length : -1;
		if (head_request && has_length) {
			o.content_length = (long long)p->content_length;
		}
	} else if (has_length) {
		ex->frame = PX_FRAME_LENGTH;
		o.content_length = (long long)p->content_length;
	} else if (viewer_11) {
		(void)chunked;
		ex->frame = PX_FRAME_CHUNKED;
		o.chunked = true;
	} else {
		ex->frame = PX_FRAME_CLOSE;
	}
	x_cache(v, "Miss", xc, sizeof(xc));
	ex->x_cache_kind = "Miss";
	px_cache_consider(v, h, has_length, has_length ? (unsigned long long)p->content_length : 0);
	o.x_cache = xc;
	o.keep_alive = ex->frame != PX_FRAME_CLOSE && llhttp_should_keep_alive(&v->parser) &&
		       !v->srv->stopping;
	o.http_minor = v->head.http_minor;
	px_buf_init(&out);
	if (px_build_viewer_response(h, &o, &out) < 0) {
		px_buf_free(&out);
		return -1;
	}
	ex->resp_started = true;
	ex->status = status;
	px_viewer_write(v, out.data, out.len);
	px_buf_free(&out);
	return head_request ? 1 : 0;
}

static void backpressure_origin(px_viewer *v)
{
	if (v->ex.conn != NULL && px_viewer_pending(v) > PX_HIGH_WATER && !v->ex.waiting_drain) {
		v->ex.waiting_drain = true;
		oa_conn_pause(v->ex.conn);
	}
}

static int on_r_body(llhttp_t *p, const char *at, size_t len)
{
	px_viewer *v = p->data;
	char line[32];

	if (!v->ex.resp_started || v->ex.frame == PX_FRAME_NONE) {
		return 0;
	}
	px_cache_body(v, at, len);
	if (v->ex.frame == PX_FRAME_CHUNKED) {
		int n = snprintf(line, sizeof(line), "%zx\r\n", len);

		px_viewer_write(v, line, (size_t)n);
		px_viewer_write(v, at, len);
		px_viewer_write(v, "\r\n", 2);
	} else {
		px_viewer_write(v, at, len);
	}
	backpressure_origin(v);
	return 0;
}

static int on_r_message_complete(llhttp_t *p)
{
	px_viewer *v = p->data;
	px_exchange *ex = &v->ex;

	if (!ex->resp_started) {
		/* An interim response ended; the real one follows. */
		return 0;
	}
	if (ex->frame == PX_FRAME_CHUNKED) {
		px_viewer_write(v, "0\r\n\r\n", 5);
	}
	ex->resp_done = true;
	ex->origin_keep_alive = llhttp_should_keep_alive(p) != 0;
	return HPE_PAUSED;
}

static void init_response_settings(void)
{
	if (response_settings_ready) {
		return;
	}
	llhttp_settings_init(&response_settings);
	response_settings.on_message_begin = on_r_message_begin;
	response_settings.on_status = on_r_status;
	response_settings.on_header_field = on_r_header_field;
	response_settings.on_header_value = on_r_header_value;
	response_settings.on_headers_complete = on_r_headers_complete;
	response_settings.on_body = on_r_body;
	response_settings.on_message_complete = on_r_message_complete;
	response_settings_ready = true;
}

static void finish_response(px_viewer *v)
{
	px_exchange *ex = &v->ex;
	/* A response that came before the whole request body: the rest is not read, so close. */
	bool viewer_keep = ex->frame != PX_FRAME_CLOSE && llhttp_should_keep_alive(&v->parser) &&
			   ex->req_done && !v->srv->stopping;

	px_cache_store(v);

	px_request_log(v, ex->status,
		       ex->reused
			   ? "reused"
			   : (ex->conn != NULL && oa_conn_resumed(ex->conn) ? "resumed" : ""));
	if (ex->conn != NULL && ex->origin_keep_alive && ex->req_done) {
		oa_conn *conn = ex->conn;

		ex->conn = NULL;
		v->open_conns--;
		px_pool_put(v->srv, ex->pool_key, conn, ex->origin->keepalive_timeout_s * 1000);
	} else {
		detach_conn(v);
	}
	end_exchange(v, viewer_keep);
}

static bool retry(px_viewer *v, bool count_attempt);

static void on_read_timeout(uv_timer_t *timer)
{
	px_viewer *v = timer->data;

	if (!v->ex.active) {
		return;
	}
	if (v->ex.resp_started) {
		px_request_log(v, v->ex.status, "read_timeout");
		px_viewer_abort(v);
		return;
	}
	/* No response byte yet: GET/HEAD go again on a new connection within the attempts. */
	if (retry(v, true)) {
		return;
	}
	respond_local(v, 504, "read_timeout");
}

static void arm_read_timer(px_viewer *v)
{
	uv_timer_start(&v->origin_timer, on_read_timeout, v->ex.origin->read_timeout_s * 1000ULL,
		       0);
}

static bool retry(px_viewer *v, bool count_attempt)
{
	px_exchange *ex = &v->ex;
	bool has_body = ex->req_chunked || ex->req_length > 0;

	if (!ex->idempotent || has_body || ex->resp_started) {
		return false;
	}
	if (count_attempt) {
		if (ex->attempts <= 1) {
			return false;
		}
		ex->attempts--;
	}
	detach_conn(v);
	ex->head_sent = false;
	ex->origin_ready = false;
	ex->reused = false;
	connect_origin(v);
	return true;
}

static void on_origin_data(oa_conn *conn, const char *buf, ssize_t nread, void *data)
{
	px_viewer *v = data;
	px_exchange *ex = &v->ex;

	if (!ex->active || conn != ex->conn) {
		return;
	}
	if (nread < 0) {
		llhttp_errno_t fin = nread == UV_EOF ? llhttp_finish(&ex->rparser) : HPE_USER;

		/* A close-delimited body ends with the connection: llhttp completes it here. */
		if ((fin == HPE_OK || fin == HPE_PAUSED) && ex->resp_done) {
			ex->origin_keep_alive = false;
			finish_response(v);
			return;
		}
		if (ex->resp_started) {
			/* No truncated body is ever presented as complete. */
			px_request_log(v, ex->status, "origin_closed_mid_response");
			detach_conn(v);
			px_viewer_abort(v);
			return;
		}
		if (ex->reused && retry(v, false)) {
			return;
		}
		respond_local(v, 502, nread == UV_EOF ? "origin_closed" : "origin_reset");
		return;
	}
	arm_read_timer(v);
	px_viewer_cork(v);
	llhttp_errno_t err = llhttp_execute(&ex->rparser, buf, (size_t)nread);
	px_viewer_uncork(v);
	if (err == HPE_PAUSED && ex->resp_done) {
		finish_response(v);
		return;
	}
	if (err != HPE_OK && err != HPE_PAUSED) {
		if (ex->resp_started) {
			px_request_log(v, ex->status, "bad_origin_response");
			detach_conn(v);
			px_viewer_abort(v);
			return;
		}
		respond_local(v, 502, "bad_origin_response");
	}
}

static void on_origin_drain(oa_conn *conn, void *data)
{
	px_viewer *v = data;

	if (v->ex.active && conn == v->ex.conn) {
		px_viewer_resume_reading(v);
	}
}

static void on_origin_closed(oa_conn *conn, void *data)
{
	px_viewer_conn_closed(data);
}

/* The request head and the body bytes that arrived before it go up. */
static void write_head(px_viewer *v)
{
	px_exchange *ex = &v->ex;

	if (oa_conn_write(ex->conn, ex->head.data, ex->head.len) < 0) {
		respond_local(v, 502, "origin_write_failed");
		return;
	}
	ex->head_sent = true;
	if (ex->early_body.len > 0) {
		oa_conn_write(ex->conn, ex->early_body.data, ex->early_body.len);
		ex->early_body.len = 0;
	}
	arm_read_timer(v);
}

/*
 * A chunked request is held back until it is complete or PX_CHUNKED_HOLD
 * bytes of it are here: a malformed chunk in a request of that size is met
 * before anything reaches the origin. A larger one that goes bad later ends
 * with the origin connection closed before the last chunk, so the origin
 * never sees it complete.
 */
static bool head_may_go(const px_exchange *ex)
{
	return !ex->req_chunked || ex->req_done || ex->early_body.len >= PX_CHUNKED_HOLD;
}

static void send_head_when_due(px_viewer *v)
{
	px_exchange *ex = &v->ex;

	if (ex->active && ex->origin_ready && !ex->head_sent && ex->conn != NULL &&
	    head_may_go(ex)) {
		write_head(v);
	}
}

/* The origin is ready: the head goes (or waits, see head_may_go) and the body may come. */
static void send_request(px_viewer *v)
{
	px_exchange *ex = &v->ex;

	llhttp_init(&ex->rparser, HTTP_RESPONSE, &response_settings);
	ex->rparser.data = v;
	ex->resp_started = false;
	ex->resp_done = false;
	ex->origin_ready = true;
	if (head_may_go(ex)) {
		write_head(v);
		if (!ex->active) {
			return;
		}
	}
	if (!ex->req_done) {
		const px_header *expect = px_head_find(&v->head, "Expect");
		bool has_body = ex->req_chunked || ex->req_length > 0;

		/* The origin is ready for the body: tell a viewer that waits for it. */
		if (has_body && expect != NULL && v->head.http_minor >= 1 &&
		    expect->value_len == 12 &&
		    strncasecmp(expect->value, "100-continue", 12) == 0) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			px_viewer_write(v, cont, sizeof(cont) - 1);
		}
		px_viewer_continue(v);
	}
}

/* Judges the origin's certificate exactly as the scanner does (cached per chain and names). */
static bool certificate_ok(px_viewer *v, oa_conn *conn, char *reason, size_t size)
{
	px_exchange *ex = &v->ex;
	unsigned n = 0;
	const gnutls_datum_t *certs = oa_conn_peer_certs(conn, &n);
	bool cached = false;
	const oa_result *result =
	    px_verify_cached(v->srv, ex->gen->store, certs, n, ex->names, ex->n_names, &cached);

	ex->verify = cached ? "cached" : "full";

	if (result == NULL) {
		snprintf(reason, size, "bad_certificate");
		return false;
	}
	if (oa_result_verdict(result) < OA_STATUS_FAIL) {
		return true;
	}
	/* A self-signed leaf is named as such, not as the untrusted root it also is. */
	const oa_check *self = oa_result_check(result, OA_CHECK_SELF_SIGNED);
	for (int id = -1; id < OA_CHECK_COUNT; id++) {
		const oa_check *c = id < 0 ? self : oa_result_check(result, (oa_check_id)id);

		if (c->present && c->status == OA_STATUS_FAIL) {
			snprintf(reason, size, "%s", c->reason);
			px_log("%s origin %s (%s port %u, SNI %s): %s: %s", v->address,
			       ex->origin->id, ex->address, ex->port, ex->sni, c->reason,
			       c->detail);
			break;
		}
	}
	return false;
}

static void on_origin_ready(oa_conn *conn, int status, void *data)
{
	px_viewer *v = data;
	px_exchange *ex = &v->ex;
	char reason[48];

	if (!ex->active || conn != ex->conn) {
		return;
	}
	if (status < 0) {
		const char *error = oa_conn_error(conn);

		/* The connection closes itself after a failure. */
		ex->conn = NULL;
		px_log("%s origin %s (%s port %u): %s: %s", v->address, ex->origin->id, ex->address,
		       ex->port, error, oa_conn_error_detail(conn));
		/* The origin was too slow to connect or to finish the handshake: 504, like
		 * CloudFront. */
		bool timeout = strcmp(error, "connect_timeout") == 0 ||
			       strcmp(error, "handshake_timeout") == 0;
		if (timeout || strcmp(error, "connection_refused") == 0 ||
		    strcmp(error, "network_error") == 0) {
			if (retry(v, true)) {
				return;
			}
		}
		snprintf(reason, sizeof(reason), "%s", error);
		respond_local(v, timeout ? 504 : 502, reason);
		return;
	}
	if (ex->https && !certificate_ok(v, conn, reason, sizeof(reason))) {
		/* Fail closed: nothing but the handshake ever reached this origin. */
		respond_local(v, 502, reason);
		return;
	}
	if (ex->https) {
		px_session_put(v->srv, ex->pool_key, conn);
	}
	send_request(v);
}

static const oa_conn_cbs origin_cbs = {on_origin_ready, on_origin_data, on_origin_drain,
				       on_origin_closed};

static void start_conn(px_viewer *v)
{
	px_exchange *ex = &v->ex;
	const oa_origin_config *o = ex->origin;
	oa_conn_opts opts = {
	    .address = ex->address,
	    .port = ex->port,
	    .tls = ex->https,
	    .sni = ex->sni,
	    .versions = o->ssl_protocols,
	    .connect_timeout_ms = o->connection_timeout_s * 1000,
	    .handshake_timeout_ms = o->connection_timeout_s * 1000,
	};

	snprintf(ex->pool_key, sizeof(ex->pool_key), "%s|%s|%u|%s|%s", o->id, ex->address, ex->port,
		 ex->https ? ex->sni : "-", ex->https ? "https" : "http");
	ex->conn = px_pool_take(v->srv, ex->pool_key);
	if (ex->conn != NULL) {
		ex->reused = true;
		oa_conn_rebind(ex->conn, &origin_cbs, v);
		v->open_conns++;
		send_request(v);
		return;
	}
	/* TLS session resumption toward the origin: the last session for this key. */
	opts.session_data = ex->https ? px_session_get(v->srv, ex->pool_key) : NULL;
	if (oa_conn_start(v->srv->loop, &opts, &origin_cbs, v, &ex->conn) < 0) {
		ex->conn = NULL;
		respond_local(v, 502, "connect_failed");
		return;
	}
	v->open_conns++;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	px_viewer *v = req->data;
	px_exchange *ex = &v->ex;

	ex->dns_pending = false;
	if (status == UV_ECANCELED || !ex->active) {
		uv_freeaddrinfo(res);
		px_viewer_conn_closed(v);
		return;
	}
	v->open_conns--;
	if (status < 0 || res == NULL ||
	    uv_ip_name(res->ai_addr, ex->address, sizeof(ex->address)) != 0) {
		uv_freeaddrinfo(res);
		respond_local(v, 502, "dns_failed");
		return;
	}
	uv_freeaddrinfo(res);
	start_conn(v);
}

static void connect_origin(px_viewer *v)
{
	px_exchange *ex = &v->ex;
	const oa_origin_config *o = ex->origin;

	if (o->n_addresses > 0) {
		/* Attempts rotate through the configured addresses. */
		unsigned used = o->connection_attempts - ex->attempts;

		snprintf(ex->address, sizeof(ex->address), "%s",
			 o->addresses[used % o->n_addresses]);
		start_conn(v);
		return;
	}
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	ex->dns.data = v;
	if (uv_getaddrinfo(v->srv->loop, &ex->dns, on_resolved, o->domain_name, NULL, &hints) < 0) {
		respond_local(v, 502, "dns_failed");
		return;
	}
	ex->dns_pending = true;
	v->open_conns++;
}

/* The Host header's host part (no port), lower case; false when unusable. */
static bool host_name(const px_header *host, char *out, size_t size)
{
	size_t len = host->value_len;
	const char *colon;
	char buf[OA_NAME_MAX];

	if (len == 0 || len >= size || len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, host->value, len);
	buf[len] = '\0';
	colon = buf[0] == '[' ? NULL : strrchr(buf, ':');
	if (colon != NULL) {
		buf[colon - buf] = '\0';
	}
	return oa_name_normalize(buf, out, NULL) == 0;
}

void px_exchange_start(px_viewer *v)
{
	px_exchange *ex = &v->ex;
	px_head *head = &v->head;
	long long length = -1;
	bool chunked = false;
	int status = 0;
	char path[PX_MAX_REQUEST_LINE + 1];

	init_response_settings();
	/* This request runs to its end on the configuration current now. */
	px_gen_unref(ex->gen);
	ex->gen = px_gen_ref(v->srv->gen);
	const oa_config *config = ex->gen->config;
	ex->active = true;
	ex->x_cache_kind = "-";
	ex->bytes_out = 0;
	/* The head in its canonical form: request line, "Name: value" lines, blank line. */
	ex->bytes_in = head->method_len + head->target_len + 12 + 2;
	for (size_t i = 0; i < head->n_headers; i++) {
		ex->bytes_in += head->headers[i].name_len + head->headers[i].value_len + 4;
	}
	v->bytes_in = 0;
	ex->cache_lookup = false;
	ex->caching = false;
	ex->behavior = NULL;
	ex->origin = NULL;
	ex->conn = NULL;
	ex->req_done = false;
	ex->head_sent = false;
	ex->origin_ready = false;
	ex->resp_started = false;
	ex->resp_done = false;
	ex->reused = false;
	ex->verify = "-";
	ex->waiting_drain = false;
	ex->status = 0;
	ex->reason[0] = '\0';
	ex->head.len = 0;
	ex->early_body.len = 0;
	ex->started_ms = uv_now(v->srv->loop);
	v->srv->requests++;
	snprintf(ex->request_id, sizeof(ex->request_id), "%016llx%08llx",
		 (unsigned long long)uv_hrtime(), (unsigned long long)v->srv->requests);
	ex->req_length = -1;
	ex->req_chunked = false;
	if (px_check_request_framing(head, &length, &chunked) < 0) {
		respond_local(v, 400, "bad_framing");
		return;
	}
	ex->req_length = length;
	ex->req_chunked = chunked;
	const px_header *host = px_head_find(head, "Host");
	const char *host_value = NULL;
	size_t host_len = 0;
	if (px_request_host(head, &host_value, &host_len) < 0) {
		respond_local(v, 400, "bad_host");
		return;
	}
	if (head->target_len == 0 || head->target[0] != '/') {
		respond_local(v, 400, "bad_target");
		return;
	}
	snprintf(path, sizeof(path), "%.*s", (int)head->target_len, head->target);
	ex->behavior = oa_config_route(config, path);
	if (ex->behavior == NULL) {
		respond_local(v, 404, "no_behavior");
		return;
	}
	ex->origin = &config->origins[ex->behavior->origin_index];
	if (px_viewer_policy_decision(ex->behavior->viewer_protocol_policy, v->tls, head->method,
				      head->method_len, head->http_minor, &status) < 0) {
		respond_local(v, 400, "bad_method");
		return;
	}
	if (status != 0) {
		respond_local(v, status, status == 403 ? "https_required" : "redirect_to_https");
		return;
	}
	ex->idempotent = v->parser.method == HTTP_GET || v->parser.method == HTTP_HEAD;
	if (px_cache_serve(v)) {
		return;
	}
	const oa_origin_config *o = ex->origin;
	if (o->s3) {
		respond_local(v, 502, "s3_origin");
		return;
	}
	ex->https = o->protocol_policy == OA_ORIGIN_HTTPS_ONLY ||
		    (o->protocol_policy == OA_ORIGIN_MATCH_VIEWER && v->tls);
	ex->port = ex->https ? o->https_port : o->http_port;
	ex->n_names = 0;
	ex->names[ex->n_names++] = o->domain_name;
	snprintf(ex->host, sizeof(ex->host), "%s", o->domain_name);
	snprintf(ex->sni, sizeof(ex->sni), "%s", o->domain_name);
	if (ex->behavior->forward_host_header && host != NULL) {
		if (!host_name(host, ex->forwarded_host, sizeof(ex->forwarded_host))) {
			respond_local(v, 400, "bad_host");
			return;
		}
		snprintf(ex->host, sizeof(ex->host), "%.*s", (int)host->value_len, host->value);
		snprintf(ex->sni, sizeof(ex->sni), "%s", ex->forwarded_host);
		ex->names[ex->n_names++] = ex->forwarded_host;
	}
	ex->attempts = o->connection_attempts;
	px_forward fw = {
	    .host = ex->host,
	    .origin_path = o->origin_path,
	    .viewer_address = v->address,
	    .via = "1.1 originaudit-proxy",
	    .request_id_header = "X-Amz-Cf-Id",
	    .request_id = ex->request_id,
	    .chunked = chunked,
	    .content_length = length,
	};
	if (px_build_origin_request(head, &fw, &ex->head) < 0) {
		respond_local(v, 400, "bad_header");
		return;
	}
	if (length <= 0 && !chunked) {
		/* No body: the request is complete with its head. */
		ex->req_done = true;
	}
	connect_origin(v);
}

/* Body bytes toward the origin, framed; held until the head has gone. */
static void body_out(px_viewer *v, const char *data, size_t len)
{
	px_exchange *ex = &v->ex;

	if (ex->head_sent && ex->conn != NULL) {
		oa_conn_write(ex->conn, data, len);
	} else if (px_buf_append(&ex->early_body, data, len) == 0) {
		send_head_when_due(v);
	}
}

void px_exchange_body(px_viewer *v, const char *data, size_t len)
{
	px_exchange *ex = &v->ex;
	char line[32];

	if (!ex->active || len == 0) {
		return;
	}
	ex->bytes_in += len;
	if (ex->req_chunked) {
		int n = snprintf(line, sizeof(line), "%zx\r\n", len);

		body_out(v, line, (size_t)n);
		body_out(v, data, len);
		body_out(v, "\r\n", 2);
	} else {
		body_out(v, data, len);
	}
	if (ex->conn != NULL && ex->head_sent && oa_conn_pending(ex->conn) > PX_HIGH_WATER) {
		px_viewer_pause_reading(v);
	}
}

void px_exchange_request_done(px_viewer *v)
{
	px_exchange *ex = &v->ex;

	if (!ex->active) {
		return;
	}
	ex->req_done = true;
	if (ex->req_chunked) {
		body_out(v, "0\r\n\r\n", 5);
		send_head_when_due(v);
	}
}

void px_exchange_viewer_drained(px_viewer *v)
{
	px_exchange *ex = &v->ex;

	if (ex->waiting_drain && ex->conn != NULL) {
		ex->waiting_drain = false;
		oa_conn_resume(ex->conn);
	}
}

void px_exchange_cancel(px_viewer *v)
{
	px_exchange *ex = &v->ex;

	if (ex->dns_pending) {
		uv_cancel((uv_req_t *)&ex->dns);
	}
	ex->active = false;
	detach_conn(v);
}
