/*
 * The admin listener of the supervisor: /metrics, /healthz, /origins. Plain
 * HTTP/1.1 parsed by llhttp, one request per connection, answered from
 * memory; a request that is malformed, too large or too slow is dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

#define ADMIN_MAX_REQUEST 8192
#define ADMIN_TIMEOUT_MS 10000

typedef struct admin_conn {
	px_admin *admin;
	uv_tcp_t tcp;
	uv_timer_t timer;
	int open_handles;
	bool closing;
	bool answered;
	llhttp_t parser;
	size_t received;
	char url[1024];
	size_t url_len;
	bool url_too_long;
} admin_conn;

struct admin_write {
	uv_write_t req;
	admin_conn *c;
	char data[];
};

static llhttp_settings_t admin_settings;

static void on_conn_closed(uv_handle_t *handle)
{
	admin_conn *c = handle->data;

	if (--c->open_handles == 0) {
		free(c);
	}
}

static void conn_close(admin_conn *c)
{
	if (c->closing) {
		return;
	}
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_written(uv_write_t *req, int status)
{
	struct admin_write *w = (struct admin_write *)req;

	conn_close(w->c);
	free(w);
}

static void respond(admin_conn *c, int status, const char *content_type, const px_buf *body,
		    bool head_only)
{
	px_buf out;

	c->answered = true;
	uv_read_stop((uv_stream_t *)&c->tcp);
	px_buf_init(&out);
	px_buf_appendf(&out,
		       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		       "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
		       status, px_status_reason(status) ? px_status_reason(status) : "Status",
		       content_type, body->len);
	if (!head_only && body->len > 0) {
		px_buf_append(&out, body->data, body->len);
	}
	struct admin_write *w = out.data ? malloc(sizeof(*w) + out.len) : NULL;
	if (w == NULL) {
		px_buf_free(&out);
		conn_close(c);
		return;
	}
	w->c = c;
	memcpy(w->data, out.data, out.len);
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)out.len);
	px_buf_free(&out);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
		free(w);
		conn_close(c);
	}
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
	admin_conn *c = parser->data;

	if (c->url_len + len >= sizeof(c->url)) {
		c->url_too_long = true;
		return 0;
	}
	memcpy(c->url + c->url_len, at, len);
	c->url_len += len;
	c->url[c->url_len] = '\0';
	return 0;
}

static int on_message_complete(llhttp_t *parser)
{
	admin_conn *c = parser->data;
	const char *method = llhttp_method_name((llhttp_method_t)parser->method);
	const char *content_type = "text/plain; charset=utf-8";
	px_buf body;
	int status;

	px_buf_init(&body);
	if (c->url_too_long) {
		status = 414;
		px_buf_append_str(&body, "request target too long\n");
	} else {
		/* The path without its query. */
		char *q = strchr(c->url, '?');

		if (q != NULL) {
			*q = '\0';
		}
		status = c->admin->handler(c->admin->data, method, c->url, &body, &content_type);
	}
	respond(c, status, content_type, &body, parser->method == HTTP_HEAD);
	px_buf_free(&body);
	return HPE_PAUSED;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static char slab[4096];

	*buf = uv_buf_init(slab, sizeof(slab));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	admin_conn *c = stream->data;

	if (c->closing || c->answered || nread == 0) {
		return;
	}
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->received += (size_t)nread;
	llhttp_errno_t err = llhttp_execute(&c->parser, buf->base, (size_t)nread);
	if (c->answered) {
		return;
	}
	if (err != HPE_OK || c->received > ADMIN_MAX_REQUEST) {
		px_buf body;

		px_buf_init(&body);
		px_buf_append_str(&body, "bad request\n");
		respond(c, 400, "text/plain; charset=utf-8", &body, false);
		px_buf_free(&body);
	}
}

static void on_timeout(uv_timer_t *timer)
{
	conn_close(timer->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	px_admin *a = server->data;
	admin_conn *c;

	if (status < 0) {
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return;
	}
	c->admin = a;
	uv_tcp_init(a->loop, &c->tcp);
	uv_timer_init(a->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		conn_close(c);
		return;
	}
	llhttp_init(&c->parser, HTTP_REQUEST, &admin_settings);
	c->parser.data = c;
	uv_timer_start(&c->timer, on_timeout, ADMIN_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int px_admin_start(px_admin *a, uv_loop_t *loop, const char *address, unsigned port,
		   px_admin_handler handler, void *data, oa_error *err)
{
	struct sockaddr_storage ss;
	int rc;

	llhttp_settings_init(&admin_settings);
	admin_settings.on_url = on_url;
	admin_settings.on_message_complete = on_message_complete;
	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->handler = handler;
	a->data = data;
	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(address, (int)port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(address, (int)port, (struct sockaddr_in6 *)&ss) != 0) {
		return oa_error_set(err, -EINVAL, "proxy.admin: %s is not an IP address", address);
	}
	uv_tcp_init(loop, &a->tcp);
	a->tcp.data = a;
	a->open = true;
	rc = uv_tcp_bind(&a->tcp, (const struct sockaddr *)&ss, 0);
	if (rc == 0) {
		rc = uv_listen((uv_stream_t *)&a->tcp, 128, on_connection);
	}
	if (rc < 0) {
		return oa_error_set(err, rc, "proxy.admin %s:%u: %s", address, port,
				    uv_strerror(rc));
	}
	a->port = port;
	px_log("admin listener on %s port %u", address, port);
	return 0;
}

void px_admin_close(px_admin *a)
{
	if (a->open && !uv_is_closing((uv_handle_t *)&a->tcp)) {
		uv_close((uv_handle_t *)&a->tcp, NULL);
	}
}
