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

static void x_cache(const px_exchange *ex, const char *what, char *buf, size_t size)
{
	snprintf(buf, size, "%s from %s", what, ex->gen->config->proxy.x_cache_name);
}

void px__end(px_exchange *ex, bool keep_alive)
{
	ex->active = false;
	px_down_set_timer(ex, 0);
	/* The downstream releases the exchange and goes on with its next request, or ends. */
	if (ex->down != NULL) {
		ex->down->done(ex->down_ctx, keep_alive);
	}
}

/* A response made by the proxy itself (error, redirect): the exchange ends with it. */
void px__respond_local(px_exchange *ex, int status, const char *reason)
{
	bool body_pending = !ex->req_done && (ex->req_chunked || ex->req_length > 0);
	/* A request that was refused as malformed (400, 505) ends the connection (RFC 9112 6.1). */
	bool refused = status == 400 || status == 505;
	bool keep_alive = ex->info.keep_alive && !body_pending && !refused && !ex->srv->stopping;
	char xc[96];
	px_buf out;
	int rc;

	/* Answered in the viewer's version; HTTP/1.1 to one the proxy does not speak (505). */
	int minor = ex->info.http_major == 1 && ex->info.http_minor == 0 ? 0 : 1;

	px_buf_init(&out);
	if (status == 301 || status == 307) {
		const px_header *host = px_head_find(&ex->req, "Host");
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
		snprintf(target, sizeof(target), "%.*s", (int)ex->req.target_len, ex->req.target);
		x_cache(ex, "Redirect", xc, sizeof(xc));
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
		x_cache(ex, "Error", xc, sizeof(xc));
		ex->x_cache_kind = "Error";
		px_buf_free(&out);
		px_buf_init(&out);
		px_build_error_response(status, xc,
					ex->gen->config->proxy.debug_headers ? reason : NULL,
					keep_alive, minor, &out);
	}
	ex->status = status;
	snprintf(ex->reason, sizeof(ex->reason), "%s", reason ? reason : "");
	px__detach_conn(ex);
	size_t len = out.len;
	if (ex->info.method == HTTP_HEAD) {
		/* A response to HEAD ends with its header block. */
		const char *end = strstr(out.data != NULL ? out.data : "", "\r\n\r\n");

		len = end != NULL ? (size_t)(end - out.data) + 4 : out.len;
	}
	px_down_write(ex, out.data, len);
	px_buf_free(&out);
	px_request_log(ex, status, reason);
	px__end(ex, keep_alive);
}

/* ---- the origin's response, as the origin client delivers it ---- */

static void finish_response(px_exchange *ex, bool origin_keep_alive);

/* The final head: framing toward the viewer decided, the cache consulted, the head written. */
static int on_origin_head(void *data, const px_head *h, const px_origin_body_info *body)
{
	px_exchange *ex = data;
	char xc[96];
	px_buf out;
	px_response_opts o;

	memset(&o, 0, sizeof(o));
	o.content_length = -1;
	if (body->none) {
		ex->frame = PX_FRAME_NONE;
		o.content_length = body->has_length ? (long long)body->length : -1;
	} else if (body->has_length) {
		ex->frame = PX_FRAME_LENGTH;
		o.content_length = (long long)body->length;
	} else if (ex->req.http_minor >= 1) {
		ex->frame = PX_FRAME_CHUNKED;
		o.chunked = true;
	} else {
		ex->frame = PX_FRAME_CLOSE;
	}
	x_cache(ex, "Miss", xc, sizeof(xc));
	ex->x_cache_kind = "Miss";
	px_cache_consider(ex, h, body->has_length, body->has_length ? body->length : 0);
	o.x_cache = xc;
	/*
	 * Decided once, here, as the head says it: a response that comes before
	 * the whole request body closes the connection (the rest of the body is
	 * never read), and finish_response keeps to what the head promised.
	 */
	ex->viewer_keep_alive = ex->frame != PX_FRAME_CLOSE && ex->info.keep_alive &&
				ex->req_done && !ex->srv->stopping;
	o.keep_alive = ex->viewer_keep_alive;
	o.http_minor = ex->req.http_minor;
	px_buf_init(&out);
	if (px_build_viewer_response(h, &o, &out) < 0) {
		px_buf_free(&out);
		return -1;
	}
	ex->resp_started = true;
	ex->status = h->status;
	px_down_write(ex, out.data, out.len);
	px_buf_free(&out);
	return 0;
}

static void backpressure_origin(px_exchange *ex)
{

	if (ex->conn != NULL && px_down_pending(ex) > PX_HIGH_WATER && !ex->waiting_drain) {
		ex->waiting_drain = true;
		oa_conn_pause(ex->conn);
	}
}

/* Body bytes: kept for the cache, framed again for the viewer. */
static void on_origin_body(void *data, const char *at, size_t len)
{
	px_exchange *ex = data;
	char line[32];

	if (ex->frame == PX_FRAME_NONE) {
		return;
	}
	px_cache_body(ex, at, len);
	if (ex->frame == PX_FRAME_CHUNKED) {
		int n = snprintf(line, sizeof(line), "%zx\r\n", len);

		px_down_write(ex, line, (size_t)n);
		px_down_write(ex, at, len);
		px_down_write(ex, "\r\n", 2);
	} else {
		px_down_write(ex, at, len);
	}
	backpressure_origin(ex);
}

static void on_origin_end(void *data, bool keep_alive)
{
	px_exchange *ex = data;

	if (ex->frame == PX_FRAME_CHUNKED) {
		px_down_write(ex, "0\r\n\r\n", 5);
	}
	/* What this read produced leaves in one write before the exchange ends. */
	px_down_cork(ex, false);
	finish_response(ex, keep_alive);
}

static const px_origin_client_cbs origin_client_cbs = {
    .on_head = on_origin_head,
    .on_body = on_origin_body,
    .on_end = on_origin_end,
};

void px__response_begin(px_exchange *ex)
{
	px_origin_client_begin(&ex->client, ex->info.method == HTTP_HEAD, &origin_client_cbs, ex);
}

static void finish_response(px_exchange *ex, bool origin_keep_alive)
{
	bool viewer_keep = ex->viewer_keep_alive && ex->req_done && !ex->srv->stopping;

	px_cache_store(ex);

	px_request_log(ex, ex->status,
		       ex->reused
			   ? "reused"
			   : (ex->conn != NULL && oa_conn_resumed(ex->conn) ? "resumed" : ""));
	if (ex->conn != NULL && origin_keep_alive && ex->req_done) {
		oa_conn *conn = ex->conn;

		ex->conn = NULL;
		/* The pool holds it now (and its callbacks no longer reach this exchange). */
		ex->holds--;
		px_pool_put(ex->srv, ex->pool_key, conn, ex->origin->keepalive_timeout_s * 1000);
	} else {
		px__detach_conn(ex);
	}
	px__end(ex, viewer_keep);
}

void px_exchange_timeout(px_exchange *ex)
{
	if (ex == NULL || !ex->active) {
		return;
	}
	if (ex->resp_started) {
		px_request_log(ex, ex->status, "read_timeout");
		px_down_abort(ex);
		return;
	}
	/* No response byte yet: GET/HEAD go again on a new connection within the attempts. */
	if (px__retry(ex, true)) {
		return;
	}
	px__respond_local(ex, 504, "read_timeout");
}

void px__arm_read_timer(px_exchange *ex)
{
	px_down_set_timer(ex, ex->origin->read_timeout_s * 1000ULL);
}

void px__on_origin_data(oa_conn *conn, const char *buf, ssize_t nread, void *data)
{
	px_exchange *ex = data;

	if (ex == NULL || !ex->active || conn != ex->conn) {
		return;
	}
	if (nread < 0) {
		if (nread == UV_EOF && px_origin_client_eof(&ex->client) == PX_ORIGIN_DONE) {
			return;
		}
		if (ex->resp_started) {
			/* No truncated body is ever presented as complete. */
			px_request_log(ex, ex->status, "origin_closed_mid_response");
			px__detach_conn(ex);
			px_down_abort(ex);
			return;
		}
		if (ex->reused && px__retry(ex, false)) {
			return;
		}
		px__respond_local(ex, 502, nread == UV_EOF ? "origin_closed" : "origin_reset");
		return;
	}
	px__arm_read_timer(ex);
	px_down_cork(ex, true);
	px_origin_status st = px_origin_client_feed(&ex->client, buf, (size_t)nread);
	px_down_cork(ex, false);
	if (st != PX_ORIGIN_BAD || !ex->active) {
		return;
	}
	if (ex->resp_started) {
		px_request_log(ex, ex->status, "bad_origin_response");
		px__detach_conn(ex);
		px_down_abort(ex);
		return;
	}
	px__respond_local(ex, 502, "bad_origin_response");
}

void px_exchange_downstream_drained(px_exchange *ex)
{
	if (ex != NULL && ex->waiting_drain && ex->conn != NULL) {
		ex->waiting_drain = false;
		oa_conn_resume(ex->conn);
	}
}
