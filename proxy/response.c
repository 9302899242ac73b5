/*
 * The answers to the viewer for one exchange: the proxy's own (errors,
 * redirects), and the origin's response as it comes down, parsed with llhttp
 * and framed again toward the viewer (Content-Length, chunked or until close),
 * with backpressure toward the origin when the viewer reads slowly, the read
 * timeout, and the end of the exchange with the origin connection pooled or
 * closed. The request side is in proxy/exchange.c.
 */
#include <stdio.h>
#include <string.h>

#include "proxy.h"

static llhttp_settings_t response_settings;
static bool response_settings_ready;

static void x_cache(const px_viewer *v, const char *what, char *buf, size_t size)
{
	snprintf(buf, size, "%s from %s", what, v->ex.gen->config->proxy.x_cache_name);
}

static void end_exchange(px_viewer *v, bool keep_alive)
{
	px_exchange *ex = &v->ex;

	uv_timer_stop(&v->origin_timer);
	ex->active = false;
	px_viewer_response_done(v, keep_alive);
}

/* A response made by the proxy itself (error, redirect): the exchange ends with it. */
void px__respond_local(px_viewer *v, int status, const char *reason)
{
	px_exchange *ex = &v->ex;
	bool body_pending = !ex->req_done && (ex->req_chunked || ex->req_length > 0);
	/* A request that was refused as malformed (400, 505) ends the connection (RFC 9112 6.1). */
	bool refused = status == 400 || status == 505;
	bool keep_alive =
	    llhttp_should_keep_alive(&v->parser) && !body_pending && !refused && !v->srv->stopping;
	char xc[96];
	px_buf out;
	int rc;

	/* Answered in the viewer's version; HTTP/1.1 to one the proxy does not speak (505). */
	int minor = v->parser.http_major == 1 && v->parser.http_minor == 0 ? 0 : 1;

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
		rc = px_build_redirect(status, hostname, target, xc, keep_alive, minor, &out);
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
					keep_alive, minor, &out);
	}
	ex->status = status;
	snprintf(ex->reason, sizeof(ex->reason), "%s", reason ? reason : "");
	px__detach_conn(v);
	if (!keep_alive) {
		/* The connection ends with this response: no byte after this head is parsed. */
		v->parse_failed = true;
	}
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
	/*
	 * Decided once, here, as the head says it: a response that comes before
	 * the whole request body closes the connection (the rest of the body is
	 * never read), and finish_response keeps to what the head promised.
	 */
	ex->viewer_keep_alive = ex->frame != PX_FRAME_CLOSE &&
				llhttp_should_keep_alive(&v->parser) && ex->req_done &&
				!v->srv->stopping;
	o.keep_alive = ex->viewer_keep_alive;
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
		/* An interim response ended; the real one follows, after a few at most. */
		return ++ex->interim > PX_MAX_INTERIM ? -1 : 0;
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

void px__response_begin(px_viewer *v)
{
	px_exchange *ex = &v->ex;

	init_response_settings();
	llhttp_init(&ex->rparser, HTTP_RESPONSE, &response_settings);
	ex->rparser.data = v;
	ex->resp_started = false;
	ex->resp_done = false;
	ex->interim = 0;
}

static void finish_response(px_viewer *v)
{
	px_exchange *ex = &v->ex;
	bool viewer_keep = ex->viewer_keep_alive && ex->req_done && !v->srv->stopping;

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
		px__detach_conn(v);
	}
	end_exchange(v, viewer_keep);
}

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
	if (px__retry(v, true)) {
		return;
	}
	px__respond_local(v, 504, "read_timeout");
}

void px__arm_read_timer(px_viewer *v)
{
	uv_timer_start(&v->origin_timer, on_read_timeout, v->ex.origin->read_timeout_s * 1000ULL,
		       0);
}

void px__on_origin_data(oa_conn *conn, const char *buf, ssize_t nread, void *data)
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
			px__detach_conn(v);
			px_viewer_abort(v);
			return;
		}
		if (ex->reused && px__retry(v, false)) {
			return;
		}
		px__respond_local(v, 502, nread == UV_EOF ? "origin_closed" : "origin_reset");
		return;
	}
	px__arm_read_timer(v);
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
			px__detach_conn(v);
			px_viewer_abort(v);
			return;
		}
		px__respond_local(v, 502, "bad_origin_response");
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
