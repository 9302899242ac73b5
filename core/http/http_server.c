/*
 * The small HTTP server of include/originaudit/http_server.h. One request per
 * connection: read under a size and time bound, handed to the handler, and
 * the connection closed after the answer. A connection lives until both its
 * handles are closed and its request, if delivered, is answered, so a
 * handler that answers late never writes to freed memory, and one whose
 * client left still finds its request.
 */
#include <errno.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/http_server.h"

#define DEFAULT_MAX_REQUEST 8192
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_CONNECTIONS 256
#define URL_MAX 2048
#define RESPONSE_HEAD                                                                              \
	"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: "             \
	"no-store\r\nConnection: close\r\n%s\r\n"

struct oa_http_server {
	uv_loop_t *loop;
	uv_tcp_t tcp;
	oa_http_handler handler;
	void *data;
	oa_http_server_opts opts;
	unsigned port;
	/* Connections alive, those waiting for an answer included. */
	size_t n_conns;
	/* Connections not yet handed to the handler (closed with the server). */
	oa_http_request *reading;
	bool closing;
	bool listener_closed;
};

struct oa_http_request {
	oa_http_server *server;
	oa_http_request *prev;
	oa_http_request *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	int open_handles;
	bool closing;
	bool delivered;
	bool answered;
	/* The client closed or reset its side after its request was delivered. */
	bool gone;
	llhttp_t parser;
	size_t received;
	char url[URL_MAX];
	size_t url_len;
	bool url_too_long;
	const char *method;
	/* Into url: the path (NUL-terminated at the '?') and the query after it ("" if none). */
	const char *query;
};

struct response_write {
	uv_write_t req;
	oa_http_request *conn;
	char data[];
};

static llhttp_settings_t settings;

const char *oa_http_status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
	    {100, "Continue"},
	    {101, "Switching Protocols"},
	    {200, "OK"},
	    {201, "Created"},
	    {202, "Accepted"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {303, "See Other"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {308, "Permanent Redirect"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {411, "Length Required"},
	    {412, "Precondition Failed"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {416, "Range Not Satisfiable"},
	    {417, "Expectation Failed"},
	    {429, "Too Many Requests"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	    {505, "HTTP Version Not Supported"},
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (reasons[i].status == status) {
			return reasons[i].reason;
		}
	}
	return NULL;
}

static void server_maybe_free(oa_http_server *s)
{
	if (s->closing && s->listener_closed && s->n_conns == 0) {
		free(s);
	}
}

static void unlink_reading(oa_http_request *c)
{
	oa_http_server *s = c->server;

	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else if (s->reading == c) {
		s->reading = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	c->prev = NULL;
	c->next = NULL;
}

/* Frees c once its handles are closed and a delivered request is answered. */
static void conn_maybe_free(oa_http_request *c)
{
	oa_http_server *s = c->server;

	if (c->open_handles > 0 || (c->delivered && !c->answered)) {
		return;
	}
	unlink_reading(c);
	free(c);
	s->n_conns--;
	server_maybe_free(s);
}

static void on_conn_closed(uv_handle_t *handle)
{
	oa_http_request *c = handle->data;

	c->open_handles--;
	conn_maybe_free(c);
}

static void conn_close(oa_http_request *c)
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
	struct response_write *w = (struct response_write *)req;

	(void)status;
	conn_close(w->conn);
	free(w);
}

void oa_http_respond(oa_http_request *c, int status, const char *content_type,
		     const char *extra_headers, const char *body, size_t len)
{
	const char *reason = oa_http_status_reason(status);
	bool head = c->method != NULL && strcmp(c->method, "HEAD") == 0;

	c->answered = true;
	if (c->closing) {
		/* The client went away (or the server closed): nothing to write to. */
		conn_maybe_free(c);
		return;
	}
	uv_read_stop((uv_stream_t *)&c->tcp);
	const char *ctype = content_type != NULL ? content_type : "text/plain; charset=utf-8";
	const char *extra = extra_headers != NULL ? extra_headers : "";
	int n = snprintf(NULL, 0, RESPONSE_HEAD, status, reason != NULL ? reason : "Status", ctype,
			 len, extra);
	if (n < 0) {
		conn_close(c);
		return;
	}
	size_t total = (size_t)n + (head ? 0 : len);
	/* The head is written in place, its NUL into the first body byte's room (then copied over).
	 */
	struct response_write *w = malloc(sizeof(*w) + total + 1);
	if (w == NULL) {
		conn_close(c);
		return;
	}
	w->conn = c;
	snprintf(w->data, (size_t)n + 1, RESPONSE_HEAD, status, reason != NULL ? reason : "Status",
		 ctype, len, extra);
	if (!head && len > 0) {
		memcpy(w->data + n, body, len);
	}
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)total);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
		free(w);
		conn_close(c);
	}
}

/* An answer of the server's own (a malformed or oversized request). */
static void refuse(oa_http_request *c, int status, const char *text)
{
	uv_timer_stop(&c->timer);
	c->delivered = true;
	unlink_reading(c);
	oa_http_respond(c, status, "text/plain; charset=utf-8", NULL, text, strlen(text));
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
	oa_http_request *c = parser->data;

	if (c->url_len + len >= sizeof(c->url)) {
		c->url_too_long = true;
		return 0;
	}
	memcpy(c->url + c->url_len, at, len);
	c->url_len += len;
	c->url[c->url_len] = '\0';
	return 0;
}

static int on_headers_complete(llhttp_t *parser)
{
	oa_http_request *c = parser->data;

	/* Refused at once: a client waiting to send its body (Expect: 100-continue) gets an answer.
	 */
	if ((parser->flags & F_CHUNKED) != 0 ||
	    ((parser->flags & F_CONTENT_LENGTH) != 0 && parser->content_length > 0)) {
		refuse(c, 413, "request bodies are not accepted\n");
		return HPE_PAUSED;
	}
	return 0;
}

static int on_message_complete(llhttp_t *parser)
{
	oa_http_request *c = parser->data;

	if (c->url_too_long) {
		refuse(c, 414, "request target too long\n");
		return HPE_PAUSED;
	}
	c->method = llhttp_method_name((llhttp_method_t)parser->method);
	char *q = strchr(c->url, '?');
	if (q != NULL) {
		*q = '\0';
		c->query = q + 1;
	} else {
		c->query = "";
	}
	c->delivered = true;
	unlink_reading(c);
	/*
	 * Reading goes on, discarding, only to notice a client that leaves
	 * (oa_http_request_gone). No deadline while the handler works: it
	 * answers within its own bounds.
	 */
	uv_timer_stop(&c->timer);
	c->server->handler(c, c->server->data);
	return HPE_PAUSED;
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static char slab[4096];

	(void)handle;
	(void)suggested;
	*buf = uv_buf_init(slab, sizeof(slab));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	oa_http_request *c = stream->data;

	if (c->closing || nread == 0) {
		return;
	}
	if (c->delivered) {
		/* Waiting for the handler's answer: the end of the client's side, or more bytes. */
		c->received += nread > 0 ? (size_t)nread : 0;
		if (nread < 0) {
			c->gone = true;
			uv_read_stop(stream);
		} else if (c->received > 2 * c->server->opts.max_request_bytes) {
			uv_read_stop(stream);
		}
		return;
	}
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->received += (size_t)nread;
	if (c->received > c->server->opts.max_request_bytes) {
		refuse(c, 431, "request too large\n");
		return;
	}
	llhttp_errno_t err = llhttp_execute(&c->parser, buf->base, (size_t)nread);
	if (!c->delivered && err != HPE_OK) {
		refuse(c, 400, "bad request\n");
	}
}

static void on_timeout(uv_timer_t *timer)
{
	conn_close(timer->data);
}

static void on_connection(uv_stream_t *listener, int status)
{
	oa_http_server *s = listener->data;
	oa_http_request *c;

	if (status < 0 || s->closing) {
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return;
	}
	c->server = s;
	s->n_conns++;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->timer);
	c->tcp.data = c;
	c->timer.data = c;
	c->open_handles = 2;
	c->next = s->reading;
	if (s->reading != NULL) {
		s->reading->prev = c;
	}
	s->reading = c;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 ||
	    s->n_conns > s->opts.max_connections) {
		conn_close(c);
		return;
	}
	llhttp_init(&c->parser, HTTP_REQUEST, &settings);
	c->parser.data = c;
	uv_timer_start(&c->timer, on_timeout, s->opts.read_timeout_ms, 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int oa_http_server_start(uv_loop_t *loop, const char *address, unsigned port,
			 const oa_http_server_opts *opts, oa_http_handler handler, void *data,
			 oa_http_server **out, oa_error *err)
{
	struct sockaddr_storage ss;
	oa_http_server *s;
	int rc;

	*out = NULL;
	llhttp_settings_init(&settings);
	settings.on_url = on_url;
	settings.on_headers_complete = on_headers_complete;
	settings.on_message_complete = on_message_complete;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	if (opts != NULL) {
		s->opts = *opts;
	}
	if (s->opts.max_request_bytes == 0) {
		s->opts.max_request_bytes = DEFAULT_MAX_REQUEST;
	}
	if (s->opts.read_timeout_ms == 0) {
		s->opts.read_timeout_ms = DEFAULT_TIMEOUT_MS;
	}
	if (s->opts.max_connections == 0) {
		s->opts.max_connections = DEFAULT_MAX_CONNECTIONS;
	}
	if (s->opts.label == NULL) {
		s->opts.label = "listener";
	}
	s->loop = loop;
	s->handler = handler;
	s->data = data;
	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(address, (int)port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(address, (int)port, (struct sockaddr_in6 *)&ss) != 0) {
		rc = oa_error_set(err, -EINVAL, "%s: %s is not an IP address", s->opts.label,
				  address);
		free(s);
		return rc;
	}
	uv_tcp_init(loop, &s->tcp);
	s->tcp.data = s;
	rc = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&ss, 0);
	if (rc == 0) {
		rc = uv_listen((uv_stream_t *)&s->tcp, 128, on_connection);
	}
	if (rc == 0) {
		struct sockaddr_storage bound;
		int len = sizeof(bound);

		rc = uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &len);
		s->port = bound.ss_family == AF_INET6
			      ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
			      : ntohs(((struct sockaddr_in *)&bound)->sin_port);
	}
	if (rc < 0) {
		oa_error_set(err, rc, "%s %s%s%s:%u: %s", s->opts.label,
			     strchr(address, ':') ? "[" : "", address,
			     strchr(address, ':') ? "]" : "", port, uv_strerror(rc));
		/* Freed from the close callback, as a closed server is. */
		oa_http_server_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

unsigned oa_http_server_port(const oa_http_server *server)
{
	return server->port;
}

static void on_listener_closed(uv_handle_t *handle)
{
	oa_http_server *s = handle->data;

	s->listener_closed = true;
	server_maybe_free(s);
}

void oa_http_server_close(oa_http_server *s)
{
	if (s == NULL || s->closing) {
		return;
	}
	s->closing = true;
	for (oa_http_request *c = s->reading; c != NULL; c = c->next) {
		conn_close(c);
	}
	uv_close((uv_handle_t *)&s->tcp, on_listener_closed);
}

const char *oa_http_request_method(const oa_http_request *req)
{
	return req->method;
}

const char *oa_http_request_path(const oa_http_request *req)
{
	return req->url;
}

bool oa_http_request_gone(const oa_http_request *req)
{
	return req->gone || req->closing;
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	if (ch >= 'a' && ch <= 'f') {
		return ch - 'a' + 10;
	}
	if (ch >= 'A' && ch <= 'F') {
		return ch - 'A' + 10;
	}
	return -1;
}

/* Percent-decodes in[0..len) into buf; false when it does not fit or holds a NUL. */
static bool decode(const char *in, size_t len, char *buf, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		if (ch == '+') {
			ch = ' ';
		} else if (ch == '%' && i + 2 < len + 0 && hex_value(in[i + 1]) >= 0 &&
			   hex_value(in[i + 2]) >= 0) {
			ch = (char)(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
			i += 2;
		}
		if (ch == '\0' || n + 1 >= size) {
			return false;
		}
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return true;
}

const char *oa_http_request_param(const oa_http_request *req, const char *name, char *buf,
				  size_t size)
{
	size_t name_len = strlen(name);
	const char *p = req->query;

	if (p == NULL || size == 0) {
		return NULL;
	}
	while (*p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len > name_len && strncmp(p, name, name_len) == 0 && p[name_len] == '=') {
			return decode(p + name_len + 1, len - name_len - 1, buf, size) ? buf : NULL;
		}
		if (len == name_len && strncmp(p, name, name_len) == 0) {
			buf[0] = '\0';
			return buf;
		}
		p += len;
		if (*p == '&') {
			p++;
		}
	}
	return NULL;
}
