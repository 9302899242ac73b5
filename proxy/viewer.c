/*
 * The viewer side: listeners (plain and TLS), one struct per viewer
 * connection, requests parsed by llhttp with CloudFront-like limits. The
 * parser pauses at the end of each request head and each request, so one
 * request is answered at a time and nothing reaches an origin before its
 * head has been judged.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "proxy.h"

static llhttp_settings_t request_settings;
static void viewer_feed(px_viewer *v, const char *data, size_t len);
static void viewer_close(px_viewer *v);
static void viewer_finish(px_viewer *v);
static void end_after_response(px_viewer *v);
static void viewer_continue(px_viewer *v);
static void pause_reading(px_viewer *v);
static void resume_reading(px_viewer *v);
static void response_done(px_viewer *v, bool keep_alive);

/* ---- writing to the viewer ---- */

static int viewer_write(px_viewer *v, const void *buf, size_t len)
{
	if (v->closing) {
		return -EPIPE;
	}
	return oa_stream_write(&v->stream, buf, len);
}

static size_t viewer_pending(const px_viewer *v)
{
	return oa_stream_pending(&v->stream);
}

/* A response the proxy makes itself, then the connection closes. */
static void reject(px_viewer *v, int status, const char *why)
{
	px_buf out;
	int minor = v->parser.http_minor == 0 && v->parser.http_major == 1 ? 0 : 1;
	char xc[96];
	size_t sent = 0;

	px_buf_init(&out);
	snprintf(xc, sizeof(xc), "Error from %s", v->srv->gen->config->proxy.x_cache_name);
	if (px_build_error_response(status, xc, NULL, false, minor, &out) == 0) {
		viewer_write(v, out.data, out.len);
		sent = out.len;
	}
	px_buf_free(&out);
	px_log("%s - %d %s", v->address, status, why);
	px_log_refused(v->srv, v->address, status, v->bytes_in, sent);
	end_after_response(v);
}

/* ---- closing ---- */

/* Frees v once its handles are closed. */
static void viewer_maybe_free(px_viewer *v)
{
	if (v->open_handles > 0) {
		return;
	}
	px_server *srv = v->srv;

	if (v->prev != NULL) {
		v->prev->next = v->next;
	} else {
		srv->viewer_list = v->next;
	}
	if (v->next != NULL) {
		v->next->prev = v->prev;
	}
	srv->viewers--;
	if (srv->metrics != NULL) {
		pxm_conn_close(srv->metrics, srv->worker);
	}
	px_buf_free(&v->held);
	free(v);
	px_server_viewer_gone(srv);
}

static void on_handle_closed(uv_handle_t *handle)
{
	px_viewer *v = handle->data;

	v->open_handles--;
	viewer_maybe_free(v);
}

/* Closes the connection; reset: with a TCP reset (SO_LINGER 0) instead of an orderly FIN. */
static void viewer_close_how(px_viewer *v, bool reset)
{
	if (v->closing) {
		return;
	}
	v->closing = true;
	if (v->ex != NULL) {
		/* The exchange drops its origin connection and is freed once nothing holds it. */
		px_exchange_cancel(v->ex);
		px_exchange_release(v->ex);
		v->ex = NULL;
	}
	oa_stream_close(&v->stream, reset);
	uv_close((uv_handle_t *)&v->timer, on_handle_closed);
	uv_close((uv_handle_t *)&v->origin_timer, on_handle_closed);
}

static void viewer_close(px_viewer *v)
{
	viewer_close_how(v, false);
}

static void on_linger_timeout(uv_timer_t *timer)
{
	px_viewer *v = timer->data;

	/* Queued bytes the viewer never read: a reset. Lingering after the last byte: a close. */
	viewer_close_how(v, !v->lingering);
}

static void on_shutdown(oa_stream *s, int status)
{
	px_viewer *v = s->data;

	/* A close cancels the shutdown (UV_ECANCELED) before the viewer is freed. */
	if (v->closing) {
		return;
	}
	if (status < 0 || v->eof) {
		viewer_close(v);
		return;
	}
	/*
	 * Everything is written and the FIN sent. Closing now while the viewer
	 * still sends (a refused request's body, pipelined requests) would make
	 * the kernel answer with a reset that can destroy the response before
	 * the viewer read it; so its bytes are read and dropped until it closes
	 * or PX_LINGER_MS pass.
	 */
	v->lingering = true;
	oa_stream_discard(&v->stream);
	uv_timer_start(&v->timer, on_linger_timeout, PX_LINGER_MS, 0);
}

/* The last response is written: the write side is shut, then the connection closes. */
static void viewer_finish(px_viewer *v)
{
	if (v->closing || v->finishing) {
		return;
	}
	v->finishing = true;
	if (v->eof || oa_stream_shutdown(&v->stream, on_shutdown) < 0) {
		viewer_close(v);
	}
}

/*
 * The response being sent is the connection's last: nothing more is parsed
 * or read as requests; the connection ends once it is written, or with a
 * reset when the viewer does not read it within the idle timeout.
 */
static void end_after_response(px_viewer *v)
{
	v->close_after_response = true;
	v->parse_failed = true;
	pause_reading(v);
	if (viewer_pending(v) == 0) {
		viewer_finish(v);
		return;
	}
	uv_timer_start(&v->timer, on_linger_timeout,
		       v->srv->gen->config->proxy.idle_timeout_s * 1000ULL, 0);
}

void px_viewer_abort(px_viewer *v)
{
	/*
	 * A response that cannot be completed: a reset, so that a viewer reading
	 * until close (HTTP/1.0, no Content-Length) sees an error, not a short body.
	 */
	viewer_close_how(v, true);
}

/* ---- the transport's callbacks ---- */

static void on_stream_handshake(oa_stream *s, int status)
{
	px_viewer *v = s->data;

	if (status == 0 || v->closing) {
		return;
	}
	if (status != GNUTLS_E_PREMATURE_TERMINATION) {
		px_log("%s - TLS handshake failed: %s", v->address, gnutls_strerror(status));
	}
	viewer_close(v);
}

static void on_stream_data(oa_stream *s, const char *buf, ssize_t nread)
{
	px_viewer *v = s->data;

	if (v->closing) {
		return;
	}
	if (v->lingering) {
		/* After the last response only the end is delivered (input is dropped). */
		viewer_close(v);
		return;
	}
	if (nread < 0) {
		if (nread != UV_EOF) {
			viewer_close(v);
			return;
		}
		v->eof = true;
		/* A viewer that closes mid-request never gets its request forwarded. */
		if (!px_viewer_busy(v) || !v->ex->req_done) {
			viewer_close(v);
		}
		return;
	}
	viewer_feed(v, buf, (size_t)nread);
}

static void on_stream_drain(oa_stream *s)
{
	px_viewer *v = s->data;

	if (v->closing) {
		return;
	}
	if (v->close_after_response && !px_viewer_busy(v)) {
		viewer_finish(v);
		return;
	}
	if (px_viewer_busy(v)) {
		px_exchange_downstream_drained(v->ex);
	}
}

static void on_stream_closed(oa_stream *s)
{
	px_viewer *v = s->data;

	v->open_handles--;
	viewer_maybe_free(v);
}

static const oa_stream_cbs stream_cbs = {
    .on_handshake = on_stream_handshake,
    .on_data = on_stream_data,
    .on_drain = on_stream_drain,
    .on_closed = on_stream_closed,
};

/* ---- reading ---- */

static void pause_reading(px_viewer *v)
{
	oa_stream_pause(&v->stream);
}

static void resume_reading(px_viewer *v)
{
	if (!v->parser_paused && !v->closing && !v->parse_failed) {
		oa_stream_resume(&v->stream);
		/* TLS: records that arrived before the pause are parsed now. */
		oa_stream_deliver(&v->stream);
	}
}

/* ---- the downstream the exchange answers through (px_downstream) ---- */

static int down_write(void *ctx, const void *buf, size_t len)
{
	return viewer_write(ctx, buf, len);
}

static void down_cork(void *ctx)
{
	oa_stream_cork(&((px_viewer *)ctx)->stream);
}

static void down_uncork(void *ctx)
{
	oa_stream_uncork(&((px_viewer *)ctx)->stream);
}

static size_t down_pending(void *ctx)
{
	return viewer_pending(ctx);
}

static void down_want_body(void *ctx)
{
	viewer_continue(ctx);
}

static void down_pause(void *ctx)
{
	pause_reading(ctx);
}

static void down_resume(void *ctx)
{
	resume_reading(ctx);
}

static void on_origin_timeout(uv_timer_t *timer)
{
	px_viewer *v = timer->data;

	px_exchange_timeout(v->ex);
}

static void down_set_timer(void *ctx, uint64_t ms)
{
	px_viewer *v = ctx;

	if (ms == 0) {
		uv_timer_stop(&v->origin_timer);
	} else if (!v->closing) {
		uv_timer_start(&v->origin_timer, on_origin_timeout, ms, 0);
	}
}

static void down_done(void *ctx, bool keep_alive)
{
	px_viewer *v = ctx;
	px_exchange *ex = v->ex;

	/* The next request gets an exchange of its own. */
	v->ex = NULL;
	px_exchange_release(ex);
	response_done(v, keep_alive);
}

static void down_abort(void *ctx)
{
	px_viewer_abort(ctx);
}

static const px_downstream downstream = {
    .write = down_write,
    .cork = down_cork,
    .uncork = down_uncork,
    .pending = down_pending,
    .want_body = down_want_body,
    .pause = down_pause,
    .resume = down_resume,
    .set_timer = down_set_timer,
    .done = down_done,
    .abort = down_abort,
};

/* ---- parsing ---- */

static void on_header_timeout(uv_timer_t *timer)
{
	px_viewer *v = timer->data;

	if (px_viewer_busy(v) || v->parse_failed || v->close_after_response) {
		return;
	}
	if (v->any_request_byte) {
		reject(v, 408, "request headers not complete in time");
	} else {
		viewer_close(v);
	}
}

static int on_message_begin(llhttp_t *parser)
{
	px_viewer *v = parser->data;

	/* The request gets its exchange now: an idle connection holds none. */
	if (v->ex == NULL) {
		v->ex = px_exchange_new(v->srv, &downstream, v);
		if (v->ex == NULL) {
			return -1;
		}
	}
	px_head_collect_reset(&v->ex->req_collect);
	v->reject_status = 0;
	/*
	 * A continue asked for by the previous request's (local) answer is
	 * spent: parsing went on without a pause to reach this request. Left
	 * set, it would resume the parser while this request's exchange runs,
	 * and the next head would overwrite the one the exchange points into.
	 */
	v->continue_pending = false;
	return 0;
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
	px_viewer *v = parser->data;

	if (v->ex->req_collect.first_len + len > PX_MAX_REQUEST_LINE) {
		v->reject_status = 414;
		return -1;
	}
	return px_head_collect_first(&v->ex->req_collect, at, len) < 0 ? -1 : 0;
}

static int header_piece(px_viewer *v, const char *at, size_t len, bool value)
{
	int rc = px_head_collect_header(&v->ex->req_collect, at, len, value, PX_MAX_HEADERS_BYTES);

	if (rc == -E2BIG) {
		v->reject_status = 431;
	}
	return rc < 0 ? -1 : 0;
}

static int on_header_field(llhttp_t *parser, const char *at, size_t len)
{
	return header_piece(parser->data, at, len, false);
}

static int on_header_value(llhttp_t *parser, const char *at, size_t len)
{
	return header_piece(parser->data, at, len, true);
}

static int on_headers_complete(llhttp_t *parser)
{
	px_viewer *v = parser->data;
	px_head *h = &v->ex->req;
	const char *method = llhttp_method_name((llhttp_method_t)parser->method);

	uv_timer_stop(&v->timer);
	memset(h, 0, sizeof(*h));
	h->method = method;
	h->method_len = strlen(method);
	h->http_minor = parser->http_minor;
	px_head_collect_finish(&v->ex->req_collect, h, false);
	bool has_body = (parser->flags & F_CHUNKED) != 0 ||
			((parser->flags & F_CONTENT_LENGTH) != 0 && parser->content_length > 0);
	/*
	 * Upgrade (h2c, websocket) is not offered to origins, as at CloudFront's
	 * edge: the request is served as plain HTTP/1.1 and the connection goes on
	 * (llhttp would otherwise stop after it). CONNECT stays an upgrade, and is
	 * refused by the exchange.
	 */
	if (parser->method != HTTP_CONNECT) {
		parser->upgrade = 0;
	}
	px_request_info info = {
	    .method = parser->method,
	    .http_major = parser->http_major,
	    .http_minor = parser->http_minor,
	    .keep_alive = llhttp_should_keep_alive(parser) != 0,
	    .tls = v->tls,
	    .client = v->address,
	};
	/* What the viewer sends from here on counts toward this request (or its refusal). */
	v->bytes_in = 0;
	px_exchange_start(v->ex, &info);
	if (v->parse_failed || v->closing) {
		/* Refused, and the connection ends: nothing after this head is parsed. */
		return HPE_PAUSED;
	}
	/*
	 * A body is parsed only once the exchange says where it goes; a request
	 * without one runs on to on_message_complete, which pauses.
	 */
	return has_body ? HPE_PAUSED : 0;
}

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
	px_viewer *v = parser->data;

	px_exchange_body(v->ex, at, len);
	return 0;
}

static int on_message_complete(llhttp_t *parser)
{
	px_viewer *v = parser->data;

	if (!px_viewer_busy(v)) {
		/* Already answered (a local response): go on with the next request. */
		return 0;
	}
	px_exchange_request_done(v->ex);
	/* The next request waits until this response is complete. */
	return HPE_PAUSED;
}

void px_viewer_init_settings(void)
{
	static bool ready;

	if (ready) {
		return;
	}
	ready = true;
	llhttp_settings_init(&request_settings);
	request_settings.on_message_begin = on_message_begin;
	request_settings.on_url = on_url;
	request_settings.on_header_field = on_header_field;
	request_settings.on_header_value = on_header_value;
	request_settings.on_headers_complete = on_headers_complete;
	request_settings.on_body = on_body;
	request_settings.on_message_complete = on_message_complete;
}

static void run_pending_continue(px_viewer *v)
{
	if (v->continue_pending && !v->closing) {
		v->continue_pending = false;
		viewer_continue(v);
	}
}

/* Parses data; what the parser did not take (it paused) is held for later. */
static void viewer_feed(px_viewer *v, const char *data, size_t len)
{
	if (v->parse_failed || v->closing || len == 0) {
		return;
	}
	if (v->parser_paused) {
		if (px_buf_append(&v->held, data, len) < 0) {
			viewer_close(v);
			return;
		}
		if (v->held.len > PX_HIGH_WATER) {
			pause_reading(v);
		}
		return;
	}
	v->bytes_in += len;
	if (!px_viewer_busy(v) && !v->any_request_byte) {
		v->any_request_byte = true;
		uv_timer_start(&v->timer, on_header_timeout, v->srv->header_timeout_ms, 0);
	}
	v->in_execute = true;
	llhttp_errno_t err = llhttp_execute(&v->parser, data, len);
	v->in_execute = false;
	if (err == HPE_OK) {
		run_pending_continue(v);
		return;
	}
	if (err == HPE_PAUSED) {
		const char *pos = llhttp_get_error_pos(&v->parser);
		size_t used =
		    pos != NULL && pos >= data && pos <= data + len ? (size_t)(pos - data) : len;

		v->parser_paused = true;
		if (used < len && px_buf_append(&v->held, data + used, len - used) < 0) {
			viewer_close(v);
			return;
		}
		if (v->held.len > PX_HIGH_WATER) {
			pause_reading(v);
		}
		run_pending_continue(v);
		return;
	}
	if (v->closing || v->parse_failed) {
		/* This request was answered already (a refusal): one response per request. */
		return;
	}
	if (px_viewer_busy(v)) {
		/*
		 * The head was accepted and the exchange runs; the body (or its
		 * trailers) is malformed. The origin connection is dropped before
		 * the request is complete, so the origin never sees it whole.
		 */
		v->parse_failed = true;
		px_exchange_request_failed(v->ex, llhttp_errno_name(err));
		return;
	}
	if (err == HPE_INVALID_VERSION) {
		/* HTTP/0.9, 1.2, 4.0: a version this proxy does not speak (RFC 9110 15.6.6). */
		reject(v, 505, "HTTP version not supported");
	} else if (v->reject_status != 0) {
		reject(v, v->reject_status,
		       v->reject_status == 414 ? "request line too long" : "headers too large");
	} else {
		char why[160];

		snprintf(why, sizeof(why), "malformed request: %s", llhttp_errno_name(err));
		reject(v, 400, why);
	}
}

static void viewer_continue(px_viewer *v)
{
	px_buf held = v->held;

	if (v->closing || v->parse_failed) {
		return;
	}
	if (v->in_execute) {
		/* Asked from a parser callback: llhttp cannot be resumed from inside itself. */
		v->continue_pending = true;
		return;
	}
	px_buf_init(&v->held);
	v->parser_paused = false;
	llhttp_resume(&v->parser);
	viewer_feed(v, held.data, held.len);
	px_buf_free(&held);
	if (v->parser_paused || v->closing || v->parse_failed) {
		return;
	}
	if (!v->eof) {
		resume_reading(v);
		return;
	}
	/*
	 * The viewer has ended its side and everything it sent is parsed: a
	 * request it left incomplete is never forwarded whole; after a complete
	 * one the connection ends once that one is answered.
	 */
	if (px_viewer_busy(v) && !v->ex->req_done) {
		viewer_close(v);
	} else if (!px_viewer_busy(v)) {
		end_after_response(v);
	}
}

static void response_done(px_viewer *v, bool keep_alive)
{
	if (v->closing) {
		return;
	}
	/*
	 * A viewer that already closed its side gets no further request, unless
	 * it sent one before closing (pipelined); nor one while stopping.
	 */
	if (!keep_alive || v->close_after_response || v->srv->stopping ||
	    (v->eof && v->held.len == 0)) {
		end_after_response(v);
		return;
	}
	/* Ready for the next request: idle until its first byte, then the header timeout. */
	v->any_request_byte = false;
	uv_timer_start(&v->timer, on_header_timeout,
		       v->srv->gen->config->proxy.idle_timeout_s * 1000ULL, 0);
	viewer_continue(v);
}

/* ---- accepting ---- */

/* Registers a viewer on srv (counted, listed, handles initialised); NULL when out of memory. */
static px_viewer *viewer_new(px_listener *l)
{
	px_server *srv = l->srv;
	px_viewer *v = calloc(1, sizeof(*v));

	if (v == NULL) {
		if (srv->metrics != NULL) {
			pxm_conn_close(srv->metrics, srv->worker);
		}
		return NULL;
	}
	v->srv = srv;
	v->listener = l;
	oa_stream_init(srv->loop, &v->stream, &stream_cbs, v);
	uv_timer_init(srv->loop, &v->timer);
	uv_timer_init(srv->loop, &v->origin_timer);
	v->timer.data = v;
	v->origin_timer.data = v;
	v->open_handles = 3;
	srv->viewers++;
	v->next = srv->viewer_list;
	if (v->next != NULL) {
		v->next->prev = v;
	}
	srv->viewer_list = v;
	px_buf_init(&v->held);
	return v;
}

/* The connection is open: parser, TLS session, header timer, reading. */
static void viewer_begin(px_viewer *v)
{
	px_listener *l = v->listener;
	uv_tcp_t *tcp = oa_stream_tcp(&v->stream);
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	/* Small responses go out at once, not after the viewer's delayed ACK. */
	uv_tcp_nodelay(tcp, 1);
	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
		uv_ip_name((struct sockaddr *)&ss, v->address, sizeof(v->address));
	}
	llhttp_init(&v->parser, HTTP_REQUEST, &request_settings);
	v->parser.data = v;
	if (l->cred != NULL) {
		gnutls_session_t session;

		v->tls = true;
		if (gnutls_init(&session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
			viewer_close(v);
			return;
		}
		if (gnutls_set_default_priority(session) < 0 ||
		    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, l->cred) < 0) {
			gnutls_deinit(session);
			viewer_close(v);
			return;
		}
		oa_stream_set_tls(&v->stream, session, PX_MAX_CLIENT_HELLO, false);
	}
	uv_timer_start(&v->timer, on_header_timeout, v->srv->header_timeout_ms, 0);
	if (oa_stream_start(&v->stream) < 0) {
		viewer_close(v);
	}
}

void px_viewer_accept(px_listener *l, uv_stream_t *server)
{
	px_server *srv = l->srv;
	const oa_proxy_config *pc = &srv->gen->config->proxy;
	bool admitted = srv->metrics != NULL
			    ? pxm_conn_open(srv->metrics, srv->worker, pc->max_connections)
			    : srv->viewers < pc->max_connections;
	px_viewer *v;

	if (!admitted) {
		/* Beyond max_connections: refused at once, the open ones are not slowed. */
		uv_tcp_t *refused = malloc(sizeof(*refused));

		if (refused != NULL) {
			uv_tcp_init(srv->loop, refused);
			if (uv_accept(server, (uv_stream_t *)refused) == 0) {
				uv_tcp_close_reset(refused, (uv_close_cb)free);
			} else {
				uv_close((uv_handle_t *)refused, (uv_close_cb)free);
			}
		}
		return;
	}
	v = viewer_new(l);
	if (v == NULL) {
		return;
	}
	if (uv_accept(server, (uv_stream_t *)oa_stream_tcp(&v->stream)) < 0) {
		viewer_close(v);
		return;
	}
	viewer_begin(v);
}

int px_viewer_adopt(px_listener *l, int fd)
{
	px_viewer *v;
	int rc;

	if (l->srv->metrics != NULL) {
		pxm_conn_open(l->srv->metrics, l->srv->worker, UINT32_MAX);
	}
	v = viewer_new(l);
	if (v == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = uv_tcp_open(oa_stream_tcp(&v->stream), fd);
	if (rc < 0) {
		close(fd);
		viewer_close(v);
		return rc;
	}
	viewer_begin(v);
	return 0;
}

void px_viewer_drain(px_viewer *v)
{
	if (v->closing) {
		return;
	}
	if (!px_viewer_busy(v) && !v->any_request_byte && viewer_pending(v) == 0) {
		viewer_close(v);
		return;
	}
	v->close_after_response = true;
}
