/*
 * libFuzzer target: bytes as a client sends them to the small HTTP server of
 * core (core/http/http_server.c: the proxy's admin listener, `originaudit
 * serve`), over a real loopback TCP connection on a fresh libuv loop: llhttp
 * (strict), the size bound, the refusals (400, 413, 414, 431), the request
 * API (method, path, query parameters, gone) and the answer, at once or late.
 * A request with a body is refused (413) at its headers.
 *
 * Input: byte 0 cuts the client's bytes into pieces (0: one piece; else
 * pieces of 1 to 2 << (b & 7) bytes from a generator seeded by the byte, as
 * fuzz_viewer_request; at most 256 pieces, the last one the rest); byte 1:
 * bits 0-1 how the handler answers (0: at once; 1: from a zero-delay timer;
 * 2: at once, an empty body with extra headers; 3: late, the same), bit 2:
 * the client does not half-close (a 1 ms read timeout ends an unfinished
 * request instead), bit 3: with a late answer, the client resets the
 * connection before it, bits 4-6: the request size limit (0: the default,
 * else 32 << n bytes); the rest: what the client sends.
 *
 * Beyond the sanitizers it aborts ("oracle: ...") on: a second request on
 * one connection; a delivered request larger than the limit, or other than
 * what llhttp (strict) reads from the same bytes (method, path); a query
 * parameter that differs from a reference decoder, holds a NUL or does not
 * fit its buffer; an answer that is not exactly one response ("HTTP/1.1 ",
 * a 3-digit status, one Content-Length equal to the body, none for HEAD)
 * with the handler's status and body or the expected refusal; no answer to
 * a request that needed one; a loop that does not settle in 5 s; a handle
 * still open once the server is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "fuzz_common.h"
#include "originaudit/error.h"
#include "originaudit/http_server.h"

/* The server's own bound on the request target (URL_MAX in http_server.c). */
#define SERVER_URL_MAX 2048
#define DEFAULT_LIMIT 8192
#define RESPONSE_MAX 65536
#define MAX_PIECES 256

enum answer_mode {
	ANSWER_NOW = 0,
	ANSWER_LATE = 1,
	ANSWER_EMPTY_NOW = 2,
	ANSWER_EMPTY_LATE = 3,
};

/* What strict llhttp, as the server runs it, reads from the client's bytes. */
typedef struct expect {
	bool complete;
	bool error;
	bool body;
	size_t end;
	char url[SERVER_URL_MAX + 1];
	size_t url_len;
	bool url_long;
	const char *method;
} expect;

typedef struct fz_http {
	uv_loop_t loop;
	oa_http_server *server;
	uv_timer_t guard;
	uv_timer_t late;
	uv_poll_t poll;
	bool polling;
	int fd;
	enum answer_mode mode;
	bool half_close;
	bool leave;
	size_t limit;
	size_t total;
	expect exp;
	/* The handler's side. */
	int delivered;
	int answered;
	oa_http_request *pending;
	bool head;
	int status;
	char body[SERVER_URL_MAX + 64];
	size_t body_len;
	/* The client's side. */
	char resp[RESPONSE_MAX];
	size_t resp_len;
	bool eof;
} fz_http;

static bool verbose;

static void fail(const char *what)
{
	fprintf(stderr, "oracle: %s\n", what);
	abort();
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fail(what);
	}
}

/* ---- the reference reading of the request ---- */

static int ref_on_url(llhttp_t *p, const char *at, size_t len)
{
	expect *e = p->data;

	if (e->url_len + len > SERVER_URL_MAX - 1) {
		e->url_long = true;
		return 0;
	}
	memcpy(e->url + e->url_len, at, len);
	e->url_len += len;
	e->url[e->url_len] = '\0';
	return 0;
}

static int ref_on_headers_complete(llhttp_t *p)
{
	expect *e = p->data;

	/* As the server: a request with a body is refused at its headers. */
	if ((p->flags & F_CHUNKED) != 0 ||
	    ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > 0)) {
		e->body = true;
		return HPE_PAUSED;
	}
	return 0;
}

static int ref_on_message_complete(llhttp_t *p)
{
	expect *e = p->data;

	e->complete = true;
	e->method = llhttp_method_name((llhttp_method_t)p->method);
	return HPE_PAUSED;
}

static void reference_parse(expect *e, const uint8_t *data, size_t len)
{
	llhttp_settings_t settings;
	llhttp_t parser;

	memset(e, 0, sizeof(*e));
	llhttp_settings_init(&settings);
	settings.on_url = ref_on_url;
	settings.on_headers_complete = ref_on_headers_complete;
	settings.on_message_complete = ref_on_message_complete;
	llhttp_init(&parser, HTTP_REQUEST, &settings);
	parser.data = e;
	llhttp_errno_t rc = llhttp_execute(&parser, (const char *)data, len);
	if (e->complete || e->body) {
		e->end = (size_t)(llhttp_get_error_pos(&parser) - (const char *)data);
	} else if (rc != HPE_OK) {
		e->error = true;
	}
}

/* ---- query parameters ---- */

static int hex(char ch)
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

/*
 * The documented contract, written apart from the server: the first
 * "name=value" or bare "name" of the query, '+' as a space, %XX decoded
 * (a '%' not followed by two hex digits stays), NULL when absent, when the
 * value decodes to a NUL or when it does not fit size bytes with its NUL.
 */
static bool ref_param(const char *query, const char *name, char *out, size_t size)
{
	size_t name_len = strlen(name);

	for (const char *p = query; *p != '\0';) {
		size_t len = strcspn(p, "&");
		size_t key = strcspn(p, "&=");

		if (key > len) {
			key = len;
		}
		if (key == name_len && memcmp(p, name, name_len) == 0) {
			size_t n = 0;

			for (size_t i = key + 1; i < len; i++) {
				char ch = p[i];

				if (ch == '+') {
					ch = ' ';
				} else if (ch == '%' && i + 2 < len && hex(p[i + 1]) >= 0 &&
					   hex(p[i + 2]) >= 0) {
					ch = (char)(hex(p[i + 1]) * 16 + hex(p[i + 2]));
					i += 2;
				}
				if (ch == '\0' || n + 1 >= size) {
					return false;
				}
				out[n++] = ch;
			}
			out[n] = '\0';
			return true;
		}
		p += len;
		if (*p == '&') {
			p++;
		}
	}
	return false;
}

static void check_param(const fz_http *h, oa_http_request *req, const char *name, size_t size)
{
	const char *q = strchr(h->exp.url, '?');
	char *buf = malloc(size);
	char *ref = malloc(size);

	check(buf != NULL && ref != NULL, "out of memory");
	const char *got = oa_http_request_param(req, name, buf, size);
	bool want = ref_param(q != NULL ? q + 1 : "", name, ref, size);
	check(got == NULL || got == buf, "oa_http_request_param returned another buffer");
	check((got != NULL) == want, "oa_http_request_param: found or not, unlike the reference");
	if (got != NULL) {
		size_t n = strnlen(got, size);

		check(n < size, "a parameter value does not fit its buffer");
		check(strcmp(got, ref) == 0, "a parameter value differs from the reference");
	}
	free(ref);
	free(buf);
}

/* ---- the handler ---- */

static void answer(fz_http *h, oa_http_request *req)
{
	bool empty = h->mode == ANSWER_EMPTY_NOW || h->mode == ANSWER_EMPTY_LATE;
	static const int statuses[] = {200, 404, 503, 299};

	/* gone is informative only: the answer is due either way. */
	(void)oa_http_request_gone(req);
	h->status = statuses[(h->exp.url_len + h->mode) % 4];
	if (empty) {
		h->body_len = 0;
		oa_http_respond(req, h->status, NULL, "Retry-After: 5\r\nX-Fuzz: empty\r\n", "", 0);
	} else {
		h->body_len = (size_t)snprintf(h->body, sizeof(h->body), "path %s\n",
					       oa_http_request_path(req));
		oa_http_respond(req, h->status, "text/plain", NULL, h->body, h->body_len);
	}
	h->answered++;
}

static void on_late(uv_timer_t *timer)
{
	fz_http *h = timer->data;
	oa_http_request *req = h->pending;

	h->pending = NULL;
	answer(h, req);
}

static void client_close(fz_http *h)
{
	if (h->polling) {
		uv_poll_stop(&h->poll);
		h->polling = false;
	}
	if (h->fd >= 0) {
		close(h->fd);
		h->fd = -1;
	}
	h->eof = true;
}

static void handle(oa_http_request *req, void *data)
{
	fz_http *h = data;
	const char *method = oa_http_request_method(req);
	const char *path = oa_http_request_path(req);
	size_t path_len = strcspn(h->exp.url, "?");

	h->delivered++;
	check(h->delivered == 1, "a second request delivered on one connection");
	check(h->exp.complete, "a request delivered that llhttp does not complete");
	check(h->exp.end <= h->limit, "a request larger than the limit delivered");
	check(!h->exp.body, "a request with a body delivered");
	check(!h->exp.url_long, "a request target over the bound delivered");
	check(method != NULL && strcmp(method, h->exp.method) == 0, "method differs from llhttp's");
	check(strlen(path) == path_len && memcmp(path, h->exp.url, path_len) == 0,
	      "path differs from llhttp's target");
	check(!oa_http_request_gone(req), "a request gone while delivered");
	h->head = strcmp(method, "HEAD") == 0;

	static const char *const names[] = {"target", "name", "timeout", "q", "x"};
	static const size_t sizes[] = {1, 4, 16, 4096};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		for (size_t j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++) {
			check_param(h, req, names[i], sizes[j]);
		}
	}

	if (h->mode == ANSWER_NOW || h->mode == ANSWER_EMPTY_NOW) {
		answer(h, req);
		return;
	}
	h->pending = req;
	uv_timer_start(&h->late, on_late, 0, 0);
	if (h->leave) {
		/* The client resets the connection before the answer (SO_LINGER 0). */
		client_close(h);
	}
}

/* ---- the client ---- */

static void client_drain(fz_http *h)
{
	while (h->fd >= 0) {
		char buf[4096];
		ssize_t n = recv(h->fd, buf, sizeof(buf), 0);

		if (n > 0) {
			check(h->resp_len + (size_t)n <= sizeof(h->resp), "answer too long");
			memcpy(h->resp + h->resp_len, buf, (size_t)n);
			h->resp_len += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		/* EOF, or the server reset the connection (it closed with bytes unread). */
		client_close(h);
	}
}

static void on_client_readable(uv_poll_t *poll, int status, int events)
{
	client_drain(poll->data);
}

static int client_open(fz_http *h)
{
	struct sockaddr_in sin;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)oa_http_server_port(h->server));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0) {
		return -1;
	}
	/* A reset at close: no TIME_WAIT left behind by hundreds of thousands of runs. */
	setsockopt(h->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(h->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(h->fd);
		h->fd = -1;
		return -1;
	}
	fcntl(h->fd, F_SETFL, fcntl(h->fd, F_GETFL) | O_NONBLOCK);
	uv_poll_init(&h->loop, &h->poll, h->fd);
	h->poll.data = h;
	uv_poll_start(&h->poll, UV_READABLE, on_client_readable);
	h->polling = true;
	return 0;
}

static void client_send(fz_http *h, const uint8_t *data, size_t len, uint8_t split)
{
	uint32_t state = 0x9e3779b9u ^ ((uint32_t)split * 0x01000193u);
	size_t max = (size_t)2 << (split & 7);
	unsigned pieces = 0;

	while (len > 0 && h->fd >= 0) {
		size_t n = len;

		/* Past MAX_PIECES the rest goes at once: executions stay fast. */
		if (split != 0 && ++pieces < MAX_PIECES) {
			/* xorshift32: the same split byte cuts the same way every time. */
			state ^= state << 13;
			state ^= state >> 17;
			state ^= state << 5;
			n = 1 + state % max;
			n = n < len ? n : len;
		}
		ssize_t w = send(h->fd, data, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			uv_run(&h->loop, UV_RUN_NOWAIT);
			continue;
		}
		if (w < 0) {
			/* The server answered and closed: the rest is not read. */
			return;
		}
		data += w;
		len -= (size_t)w;
		/* One loop turn: the server reads this piece on its own. */
		uv_run(&h->loop, UV_RUN_NOWAIT);
	}
}

/* ---- the answer ---- */

/* The value of Content-Length in head[0..len), -1 if absent, -2 if twice or malformed. */
static long content_length(const char *head, size_t len)
{
	static const char name[] = "\r\ncontent-length:";
	long value = -1;

	for (size_t i = 0; i + sizeof(name) - 1 <= len; i++) {
		if (strncasecmp(head + i, name, sizeof(name) - 1) != 0) {
			continue;
		}
		if (value >= 0) {
			return -2;
		}
		size_t j = i + sizeof(name) - 1;
		while (j < len && head[j] == ' ') {
			j++;
		}
		if (j >= len || head[j] < '0' || head[j] > '9') {
			return -2;
		}
		value = 0;
		while (j < len && head[j] >= '0' && head[j] <= '9') {
			value = value * 10 + (head[j] - '0');
			j++;
		}
	}
	return value;
}

/* The status the client must see, 0 for no answer, -1 when timing decides (any). */
static int expected_status(const fz_http *h)
{
	const expect *e = &h->exp;

	if (h->leave && (h->mode == ANSWER_LATE || h->mode == ANSWER_EMPTY_LATE) &&
	    h->delivered > 0) {
		return 0;
	}
	if (!h->half_close || h->total > h->limit) {
		/* The read timeout or where the reads end (431) decides. */
		return -1;
	}
	if (e->error) {
		return 400;
	}
	if (e->body) {
		return 413;
	}
	if (!e->complete) {
		return 0;
	}
	if (e->url_long) {
		return 414;
	}
	return h->status;
}

static void check_answer(fz_http *h)
{
	int want = expected_status(h);

	if (verbose) {
		fprintf(stderr, "fuzz: delivered %d, answer %zu bytes:\n%.*s\n", h->delivered,
			h->resp_len, (int)h->resp_len, h->resp);
	}
	if (h->resp_len == 0) {
		check(want <= 0, "no answer where one was due");
		check(h->delivered == 0 || h->leave, "a delivered request left unanswered");
		return;
	}
	check(want != 0, "an answer where none was due");
	check(h->resp_len >= 13 && memcmp(h->resp, "HTTP/1.1 ", 9) == 0,
	      "answer does not start with HTTP/1.1");
	for (int i = 9; i < 12; i++) {
		check(h->resp[i] >= '0' && h->resp[i] <= '9', "status is not 3 digits");
	}
	check(h->resp[12] == ' ', "status is not 3 digits");
	int status = (h->resp[9] - '0') * 100 + (h->resp[10] - '0') * 10 + (h->resp[11] - '0');
	check(want < 0 || status == want, "unexpected status");
	const char *end = memmem(h->resp, h->resp_len, "\r\n\r\n", 4);
	check(end != NULL, "answer without the end of its head");
	size_t head_len = (size_t)(end - h->resp) + 4;
	size_t body_len = h->resp_len - head_len;
	long cl = content_length(h->resp, head_len - 2);
	check(cl >= 0, "answer without exactly one valid Content-Length");
	if (h->delivered > 0) {
		check(status == h->status, "status differs from the handler's");
		check((size_t)cl == h->body_len, "Content-Length differs from the handler's body");
		if (h->head) {
			check(body_len == 0, "a body in the answer to HEAD");
		} else {
			check(body_len == h->body_len && memcmp(end + 4, h->body, body_len) == 0,
			      "body differs from the handler's");
		}
	} else {
		check(status == 400 || status == 413 || status == 414 || status == 431,
		      "a refusal other than 400, 413, 414, 431");
		check(body_len == (size_t)cl, "Content-Length differs from the body");
	}
}

/* ---- per input ---- */

static void on_guard(uv_timer_t *timer)
{
	fail("the loop did not settle in 5 s");
}

static void on_walk(uv_handle_t *handle, void *arg)
{
	fprintf(stderr, "fuzz: handle of type %s still open\n", uv_handle_type_name(handle->type));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *v = getenv("OA_FUZZ_VERBOSE");

	verbose = v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
	/* As proxy/main.c: a write to a client that reset is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fz_http *h;
	oa_http_server_opts opts;
	oa_error err;

	if (size < 2) {
		return 0;
	}
	if (h == NULL) {
		h = malloc(sizeof(*h));
		check(h != NULL, "out of memory");
	}
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->mode = (enum answer_mode)(data[1] & 3);
	h->half_close = (data[1] & 4) == 0;
	h->leave = (data[1] & 8) != 0;
	memset(&opts, 0, sizeof(opts));
	opts.max_request_bytes = (data[1] >> 4 & 7) == 0 ? 0 : (size_t)32 << (data[1] >> 4 & 7);
	h->limit = opts.max_request_bytes != 0 ? opts.max_request_bytes : DEFAULT_LIMIT;
	/* Half-closed, an unfinished request ends at EOF; else at a short timeout. */
	opts.read_timeout_ms = h->half_close ? 0 : 1;
	opts.label = "fuzz";
	h->total = size - 2;
	reference_parse(&h->exp, data + 2, size - 2);

	check(uv_loop_init(&h->loop) == 0, "uv_loop_init");
	uv_timer_init(&h->loop, &h->guard);
	uv_timer_init(&h->loop, &h->late);
	h->late.data = h;
	uv_timer_start(&h->guard, on_guard, 5000, 0);
	oa_error_clear(&err);
	if (oa_http_server_start(&h->loop, "127.0.0.1", 0, &opts, handle, h, &h->server, &err) <
	    0) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		fail("the server did not start");
	}
	check(client_open(h) == 0, "cannot connect to the server");
	/* Two turns: the server accepts, then watches the connection. */
	uv_run(&h->loop, UV_RUN_NOWAIT);
	uv_run(&h->loop, UV_RUN_NOWAIT);
	client_send(h, data + 2, size - 2, data[0]);
	if (h->half_close && h->fd >= 0) {
		shutdown(h->fd, SHUT_WR);
	}
	while (!h->eof || h->answered < h->delivered) {
		uv_run(&h->loop, UV_RUN_ONCE);
	}
	check(h->answered == h->delivered, "not exactly one answer per delivered request");
	check_answer(h);

	/* Tear down: everything the server holds must close without the guard. */
	client_close(h);
	uv_close((uv_handle_t *)&h->poll, NULL);
	uv_close((uv_handle_t *)&h->late, NULL);
	oa_http_server_close(h->server);
	uv_unref((uv_handle_t *)&h->guard);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&h->guard, NULL);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&h->loop) != 0) {
		uv_walk(&h->loop, on_walk, NULL);
		fail("a handle still open after the server closed");
	}
	return 0;
}
