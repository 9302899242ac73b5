/*
 * The small HTTP server of include/originaudit/http_server.h against real TCP
 * clients on loopback. The server runs on a libuv loop in the test thread;
 * each case's client is a thread of its own with blocking sockets, which only
 * records what it saw (cmocka's assertions are not thread-safe) and wakes the
 * loop through a uv_async_t when it is done. The loop then closes the server
 * and must end with every handle closed; under AddressSanitizer nothing may
 * leak.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "originaudit/http_server.h"

#define RESP_MAX 16384
#define MAX_EXCHANGES 8
/* Blocking reads give up after this; far above anything a case waits for. */
#define CLIENT_TIMEOUT_S 20

/* What a client saw on one connection. */
struct exchange {
	char data[RESP_MAX];
	size_t len;
	/* 0: the server closed (EOF); else the errno of the read that failed. */
	int err;
	/* From the connect to the end of the answer. */
	double ms;
	bool connected;
};

/* How the handler answers. */
enum answer {
	ANSWER_NOW,
	/* From a timer, late_ms after the request. */
	ANSWER_LATE,
	/* Closes the server first, then answers from a timer. */
	ANSWER_LATE_AFTER_CLOSE,
};

struct harness;

/* A request the handler answers later, from its own timer. */
struct late {
	struct harness *h;
	oa_http_request *req;
	uv_timer_t timer;
};

struct harness {
	uv_loop_t loop;
	uv_async_t done;
	oa_http_server *server;
	unsigned port;
	enum answer answer;
	unsigned late_ms;
	void (*client)(struct harness *h);
	pthread_t thread;
	/* Set by the client thread before it wakes the loop. */
	struct exchange ex[MAX_EXCHANGES];
	size_t n_ex;
	char note[256];
	/* Seen by the handler, on the loop. */
	int handled;
	char method[16];
	char path[256];
	const char *param_a;
	const char *param_b;
	const char *param_c;
	const char *param_absent;
	const char *param_nul;
	const char *param_long;
	const char *param_empty;
	char buf_a[64];
	char buf_b[64];
	char buf_c[64];
	char buf_absent[64];
	char buf_nul[64];
	char buf_long[4];
	char buf_empty[64];
	int late_answered;
	bool gone_at_answer;
};

/* ---- the client side (its own thread, blocking sockets) ---- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* A blocking TCP connection to 127.0.0.1:port, or -1. */
static int cl_connect(unsigned port)
{
	struct sockaddr_in sin;
	struct timeval tv = {CLIENT_TIMEOUT_S, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool cl_send(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads until the server closes (or an error) into ex; start: when the exchange began. */
static void cl_read_all(int fd, struct exchange *ex, double start)
{
	for (;;) {
		if (ex->len + 1 >= sizeof(ex->data)) {
			ex->err = ENOBUFS;
			break;
		}
		ssize_t n = recv(fd, ex->data + ex->len, sizeof(ex->data) - 1 - ex->len, 0);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			ex->err = errno;
			break;
		}
		if (n == 0) {
			ex->err = 0;
			break;
		}
		ex->len += (size_t)n;
	}
	ex->data[ex->len] = '\0';
	ex->ms = now_ms() - start;
}

/* The next exchange record of h. */
static struct exchange *next_ex(struct harness *h)
{
	struct exchange *ex = &h->ex[h->n_ex++];

	memset(ex, 0, sizeof(*ex));
	return ex;
}

/* Sends request (len bytes) on a new connection and reads the whole answer. */
static struct exchange *cl_exchange_n(struct harness *h, const char *request, size_t len)
{
	struct exchange *ex = next_ex(h);
	double start = now_ms();
	int fd = cl_connect(h->port);

	if (fd < 0) {
		ex->err = errno;
		return ex;
	}
	ex->connected = true;
	if (!cl_send(fd, request, len)) {
		ex->err = errno;
		close(fd);
		return ex;
	}
	cl_read_all(fd, ex, start);
	close(fd);
	return ex;
}

static struct exchange *cl_exchange(struct harness *h, const char *request)
{
	return cl_exchange_n(h, request, strlen(request));
}

static void *client_main(void *arg)
{
	struct harness *h = arg;

	h->client(h);
	uv_async_send(&h->done);
	return NULL;
}

/* ---- the server side (the test thread's loop) ---- */

static void on_late_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static void on_late(uv_timer_t *timer)
{
	struct late *l = timer->data;
	struct harness *h = l->h;
	static const char body[] = "late\n";

	h->gone_at_answer = oa_http_request_gone(l->req);
	h->late_answered++;
	oa_http_respond(l->req, 200, "text/plain; charset=utf-8", NULL, body, sizeof(body) - 1);
	uv_close((uv_handle_t *)&l->timer, on_late_closed);
}

static void answer_late(struct harness *h, oa_http_request *req)
{
	struct late *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	l->h = h;
	l->req = req;
	uv_timer_init(&h->loop, &l->timer);
	l->timer.data = l;
	uv_timer_start(&l->timer, on_late, h->late_ms, 0);
}

static void on_request(oa_http_request *req, void *data)
{
	struct harness *h = data;
	const char *path = oa_http_request_path(req);
	static const char body[] = "hello\n";

	h->handled++;
	snprintf(h->method, sizeof(h->method), "%s", oa_http_request_method(req));
	snprintf(h->path, sizeof(h->path), "%s", path);
	h->param_a = oa_http_request_param(req, "a", h->buf_a, sizeof(h->buf_a));
	h->param_b = oa_http_request_param(req, "b", h->buf_b, sizeof(h->buf_b));
	h->param_c = oa_http_request_param(req, "c", h->buf_c, sizeof(h->buf_c));
	h->param_absent = oa_http_request_param(req, "d", h->buf_absent, sizeof(h->buf_absent));
	h->param_nul = oa_http_request_param(req, "z", h->buf_nul, sizeof(h->buf_nul));
	h->param_long = oa_http_request_param(req, "long", h->buf_long, sizeof(h->buf_long));
	h->param_empty = oa_http_request_param(req, "e", h->buf_empty, sizeof(h->buf_empty));
	if (h->answer == ANSWER_LATE_AFTER_CLOSE) {
		oa_http_server_close(h->server);
		h->server = NULL;
	}
	if (h->answer != ANSWER_NOW) {
		answer_late(h, req);
		return;
	}
	if (strcmp(path, "/busy") == 0) {
		oa_http_respond(req, 429, "text/plain; charset=utf-8",
				"Retry-After: 7\r\nX-Test: one two\r\n", "busy\n", 5);
		return;
	}
	if (strcmp(path, "/missing") == 0) {
		oa_http_respond(req, 404, NULL, NULL, "no\n", 3);
		return;
	}
	oa_http_respond(req, 200, "text/plain; charset=utf-8", NULL, body, sizeof(body) - 1);
}

static void on_done(uv_async_t *async)
{
	struct harness *h = async->data;

	oa_http_server_close(h->server);
	h->server = NULL;
	uv_close((uv_handle_t *)&h->done, NULL);
}

/* Starts a server with opts on 127.0.0.1:0; the handler answers as h->answer says. */
static void harness_start(struct harness *h, const oa_http_server_opts *opts)
{
	oa_error err;

	assert_int_equal(uv_loop_init(&h->loop), 0);
	assert_int_equal(uv_async_init(&h->loop, &h->done, on_done), 0);
	h->done.data = h;
	oa_error_clear(&err);
	int rc =
	    oa_http_server_start(&h->loop, "127.0.0.1", 0, opts, on_request, h, &h->server, &err);
	if (rc != 0) {
		fail_msg("oa_http_server_start: %d %s", rc, err.msg);
	}
	h->port = oa_http_server_port(h->server);
	assert_true(h->port > 0);
}

/* Runs client in its thread and the loop until both are done and every handle is closed. */
static void harness_run(struct harness *h, void (*client)(struct harness *h))
{
	h->client = client;
	assert_int_equal(pthread_create(&h->thread, NULL, client_main, h), 0);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	assert_int_equal(pthread_join(h->thread, NULL), 0);
	assert_null(h->server);
	assert_int_equal(uv_loop_close(&h->loop), 0);
}

static struct harness *harness_new(void)
{
	struct harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	return h;
}

/* Fails showing the exchange unless its answer is exactly want and the server closed after it. */
static void expect_answer(const struct exchange *ex, const char *want)
{
	if (ex->err != 0 || strcmp(ex->data, want) != 0) {
		fail_msg("answer (err %d: %s):\n%s\nwanted:\n%s", ex->err, strerror(ex->err),
			 ex->data, want);
	}
}

/* The answer the server gives on its own: text/plain, Connection: close. */
static void expect_refusal(const struct exchange *ex, int status, const char *body)
{
	char want[512];

	snprintf(want, sizeof(want),
		 "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		 "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
		 status, oa_http_status_reason(status), strlen(body), body);
	expect_answer(ex, want);
}

/* ---- 1. answers now: GET, HEAD, parameters, extra headers ---- */

static void client_get(struct harness *h)
{
	cl_exchange(h, "GET /status?a=1&b=x%20y+z&c&z=ab%00cd&long=abcdef&e= HTTP/1.1\r\n"
		       "Host: 127.0.0.1\r\n\r\n");
}

static void test_get_answered_now(void **state)
{
	struct harness *h = harness_new();

	(void)state;
	harness_start(h, NULL);
	harness_run(h, client_get);
	expect_answer(&h->ex[0], "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 6\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "\r\n"
				 "hello\n");
	assert_int_equal(h->handled, 1);
	assert_string_equal(h->method, "GET");
	assert_string_equal(h->path, "/status");
	assert_ptr_equal(h->param_a, h->buf_a);
	assert_string_equal(h->param_a, "1");
	assert_ptr_equal(h->param_b, h->buf_b);
	assert_string_equal(h->param_b, "x y z");
	/* A name without '=' has the empty value, as does "e=". */
	assert_ptr_equal(h->param_c, h->buf_c);
	assert_string_equal(h->param_c, "");
	assert_ptr_equal(h->param_empty, h->buf_empty);
	assert_string_equal(h->param_empty, "");
	assert_null(h->param_absent);
	/* A value that decodes to a NUL byte, and one that does not fit buf (4 bytes). */
	assert_null(h->param_nul);
	assert_null(h->param_long);
	free(h);
}

static void client_head_and_more(struct harness *h)
{
	cl_exchange(h, "HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n");
	cl_exchange(h, "GET /busy HTTP/1.1\r\nHost: x\r\n\r\n");
	cl_exchange(h, "GET /missing HTTP/1.0\r\n\r\n");
	cl_exchange(h, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n");
}

static void test_head_extra_headers_defaults(void **state)
{
	struct harness *h = harness_new();

	(void)state;
	harness_start(h, NULL);
	harness_run(h, client_head_and_more);
	/* HEAD: the GET's headers, Content-Length included, and no body. */
	expect_answer(&h->ex[0], "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 6\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "\r\n");
	/* extra_headers verbatim, after the fixed ones. */
	expect_answer(&h->ex[1], "HTTP/1.1 429 Too Many Requests\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 5\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "Retry-After: 7\r\n"
				 "X-Test: one two\r\n"
				 "\r\n"
				 "busy\n");
	/* content_type NULL: text/plain. */
	expect_answer(&h->ex[2], "HTTP/1.1 404 Not Found\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 3\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "\r\n"
				 "no\n");
	assert_int_equal(h->handled, 4);
	assert_string_equal(h->method, "GET");
	assert_string_equal(h->path, "/plain");
	/* No query at all: every parameter is absent. */
	assert_null(h->param_a);
	assert_null(h->param_c);
	free(h);
}

/* ---- 2. answers later ---- */

static void client_late(struct harness *h)
{
	cl_exchange(h, "GET /slow?a=2 HTTP/1.1\r\nHost: x\r\n\r\n");
}

static void test_late_answer(void **state)
{
	struct harness *h = harness_new();

	(void)state;
	harness_start(h, NULL);
	h->answer = ANSWER_LATE;
	h->late_ms = 300;
	harness_run(h, client_late);
	expect_answer(&h->ex[0], "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 5\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "\r\n"
				 "late\n");
	assert_true(h->ex[0].ms >= 250.0);
	assert_int_equal(h->late_answered, 1);
	assert_false(h->gone_at_answer);
	assert_string_equal(h->path, "/slow");
	assert_string_equal(h->param_a, "2");
	free(h);
}

/* Sends a request and leaves before the answer; waits for the handler to answer. */
static void client_leaves(struct harness *h)
{
	int fd = cl_connect(h->port);

	if (fd < 0) {
		snprintf(h->note, sizeof(h->note), "connect: %s", strerror(errno));
		return;
	}
	cl_send(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", 31);
	/* Long enough for the server to read the request before the close. */
	sleep_ms(100);
	close(fd);
	/* The answer comes at late_ms: the loop must still be running then. */
	sleep_ms(h->late_ms + 300);
}

/* The late answer to a client that left is dropped without a crash or a leak (ASan). */
static void test_late_answer_client_gone(void **state)
{
	struct harness *h = harness_new();

	(void)state;
	harness_start(h, NULL);
	h->answer = ANSWER_LATE;
	h->late_ms = 500;
	harness_run(h, client_leaves);
	assert_string_equal(h->note, "");
	assert_int_equal(h->handled, 1);
	assert_int_equal(h->late_answered, 1);
	free(h);
}

/*
 * The header promises oa_http_request_gone() says the client went away: 400
 * ms after the client closed its connection, the handler must see it.
 */
static void test_gone_noticed(void **state)
{
	struct harness *h = harness_new();

	(void)state;
	harness_start(h, NULL);
	h->answer = ANSWER_LATE;
	h->late_ms = 500;
	harness_run(h, client_leaves);
	assert_int_equal(h->late_answered, 1);
	bool gone = h->gone_at_answer;
	free(h);
	if (!gone) {
		fail_msg("oa_http_request_gone() is false 400 ms after the client closed: the "
			 "server stops reading once the request is delivered, so it never "
			 "notices (core/http/http_server.c on_message_complete)");
	}
}

/* ---- 3. limits and malformed requests ---- */

static void client_limits(struct harness *h)
{
	char big[6000];
	char url[3200];
	int n;

	/* 431: headers past max_request_bytes (4096). */
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ");
	memset(big + n, 'p', sizeof(big) - (size_t)n);
	memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
	cl_exchange_n(h, big, sizeof(big));
	/* 414: a target over 2048 bytes (within max_request_bytes). */
	n = snprintf(url, sizeof(url), "GET /");
	memset(url + n, 'u', 3000);
	n += 3000;
	n += snprintf(url + n, sizeof(url) - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	cl_exchange_n(h, url, (size_t)n);
	/* 413: a request with a body. */
	cl_exchange(h, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
	/* 413: a chunked body. */
	cl_exchange(h, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		       "5\r\nhello\r\n0\r\n\r\n");
	/* 400: garbage. */
	cl_exchange(h, "\x01\x02\x03 garbage\r\n\r\n");
	/* 400: a header line without a colon. */
	cl_exchange(h, "GET / HTTP/1.1\r\nHost x\r\n\r\n");
}

static void test_limits(void **state)
{
	struct harness *h = harness_new();
	oa_http_server_opts opts = {.max_request_bytes = 4096, .label = "test"};

	(void)state;
	harness_start(h, &opts);
	harness_run(h, client_limits);
	expect_refusal(&h->ex[0], 431, "request too large\n");
	expect_refusal(&h->ex[1], 414, "request target too long\n");
	expect_refusal(&h->ex[2], 413, "request bodies are not accepted\n");
	expect_refusal(&h->ex[3], 413, "request bodies are not accepted\n");
	expect_refusal(&h->ex[4], 400, "bad request\n");
	expect_refusal(&h->ex[5], 400, "bad request\n");
	/* None of them reached the handler. */
	assert_int_equal(h->handled, 0);
	free(h);
}

/* ---- 4. a client that stalls ---- */

static void client_stalls(struct harness *h)
{
	struct exchange *ex = next_ex(h);
	double start = now_ms();
	int fd = cl_connect(h->port);

	if (fd < 0) {
		ex->err = errno;
		return;
	}
	ex->connected = true;
	cl_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n", 25);
	cl_read_all(fd, ex, start);
	close(fd);
	/* A connection that sends nothing at all is closed the same way. */
	ex = next_ex(h);
	start = now_ms();
	fd = cl_connect(h->port);
	if (fd < 0) {
		ex->err = errno;
		return;
	}
	ex->connected = true;
	cl_read_all(fd, ex, start);
	close(fd);
}

static void test_read_timeout(void **state)
{
	struct harness *h = harness_new();
	oa_http_server_opts opts = {.read_timeout_ms = 200};

	(void)state;
	harness_start(h, &opts);
	harness_run(h, client_stalls);
	for (size_t i = 0; i < 2; i++) {
		const struct exchange *ex = &h->ex[i];

		assert_true(ex->connected);
		/* Closed without an answer, after the timeout and well before the client's own. */
		assert_int_equal(ex->len, 0);
		assert_true(ex->err == 0 || ex->err == ECONNRESET);
		if (ex->ms < 180.0 || ex->ms > 5000.0) {
			fail_msg("connection %zu closed after %.0f ms (read_timeout_ms 200)", i,
				 ex->ms);
		}
	}
	assert_int_equal(h->handled, 0);
	free(h);
}

/* ---- 5. too many connections ---- */

static void client_crowd(struct harness *h)
{
	int a = cl_connect(h->port);
	int b = cl_connect(h->port);

	if (a < 0 || b < 0) {
		snprintf(h->note, sizeof(h->note), "connect: %s", strerror(errno));
		return;
	}
	/* Let the server accept the two before the third arrives. */
	sleep_ms(200);
	struct exchange *extra = next_ex(h);
	double start = now_ms();
	int c = cl_connect(h->port);

	if (c >= 0) {
		extra->connected = true;
		cl_read_all(c, extra, start);
		close(c);
	} else {
		extra->err = errno;
	}
	/* The two first are still served. */
	struct exchange *ea = next_ex(h);
	struct exchange *eb = next_ex(h);

	start = now_ms();
	cl_send(a, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 28);
	cl_read_all(a, ea, start);
	cl_send(b, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n", 28);
	cl_read_all(b, eb, start);
	close(a);
	close(b);
	/* Once they are gone, a new connection is served again. */
	sleep_ms(100);
	cl_exchange(h, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
}

static void test_max_connections(void **state)
{
	struct harness *h = harness_new();
	oa_http_server_opts opts = {.max_connections = 2};
	static const char ok[] = "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 6\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "\r\n"
				 "hello\n";

	(void)state;
	harness_start(h, &opts);
	harness_run(h, client_crowd);
	assert_string_equal(h->note, "");
	/* The third connection: accepted by the kernel, closed at once without an answer. */
	assert_true(h->ex[0].connected);
	assert_int_equal(h->ex[0].len, 0);
	assert_true(h->ex[0].err == 0 || h->ex[0].err == ECONNRESET);
	assert_true(h->ex[0].ms < 5000.0);
	expect_answer(&h->ex[1], ok);
	expect_answer(&h->ex[2], ok);
	expect_answer(&h->ex[3], ok);
	assert_int_equal(h->handled, 3);
	assert_string_equal(h->path, "/again");
	free(h);
}

/* ---- 6. closing the server with a request pending ---- */

static void client_close_pending(struct harness *h)
{
	/* An idle connection, open when the server closes: closed without an answer. */
	struct exchange *idle = next_ex(h);
	double idle_start = now_ms();
	int fd = cl_connect(h->port);

	if (fd < 0) {
		snprintf(h->note, sizeof(h->note), "connect: %s", strerror(errno));
		return;
	}
	idle->connected = true;
	sleep_ms(100);
	/* This request's handler closes the server, then answers 300 ms later. */
	cl_exchange(h, "GET /pending HTTP/1.1\r\nHost: x\r\n\r\n");
	cl_read_all(fd, idle, idle_start);
	close(fd);
	/* The listener is gone. */
	struct exchange *after = next_ex(h);
	int late_fd = cl_connect(h->port);

	after->err = late_fd < 0 ? errno : 0;
	after->connected = late_fd >= 0;
	if (late_fd >= 0) {
		close(late_fd);
	}
}

static void test_close_with_pending_answer(void **state)
{
	struct harness *h = harness_new();

	(void)state;
	harness_start(h, NULL);
	h->answer = ANSWER_LATE_AFTER_CLOSE;
	h->late_ms = 300;
	harness_run(h, client_close_pending);
	assert_string_equal(h->note, "");
	expect_answer(&h->ex[1], "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 5\r\n"
				 "Cache-Control: no-store\r\n"
				 "Connection: close\r\n"
				 "\r\n"
				 "late\n");
	assert_int_equal(h->late_answered, 1);
	/* The idle connection was closed by the server's close, not by its read timeout (10 s). */
	assert_true(h->ex[0].connected);
	assert_int_equal(h->ex[0].len, 0);
	assert_true(h->ex[0].ms < 5000.0);
	assert_false(h->ex[2].connected);
	assert_int_equal(h->ex[2].err, ECONNREFUSED);
	free(h);
}

/* ---- 7. starting ---- */

/* A socket listening on 127.0.0.1, port chosen by the kernel. */
static int listening_socket(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void test_start_errors(void **state)
{
	uv_loop_t loop;
	oa_http_server *s = NULL;
	oa_error err;
	unsigned port;
	char want[256];
	oa_http_server_opts opts = {.label = "proxy.admin"};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	int fd = listening_socket(&port);

	/* A port in use: a negative errno, a message naming the label, address and port. */
	oa_error_clear(&err);
	int rc = oa_http_server_start(&loop, "127.0.0.1", port, &opts, on_request, NULL, &s, &err);
	assert_int_equal(rc, -EADDRINUSE);
	assert_null(s);
	assert_int_equal(err.code, -EADDRINUSE);
	snprintf(want, sizeof(want), "proxy.admin 127.0.0.1:%u: address already in use", port);
	assert_string_equal(err.msg, want);
	close(fd);

	/* Not an IP address. */
	oa_error_clear(&err);
	rc = oa_http_server_start(&loop, "localhost", 0, &opts, on_request, NULL, &s, &err);
	assert_int_equal(rc, -EINVAL);
	assert_null(s);
	assert_string_equal(err.msg, "proxy.admin: localhost is not an IP address");
	oa_error_clear(&err);
	rc = oa_http_server_start(&loop, "1.2.3", 0, NULL, on_request, NULL, &s, &err);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err.msg, "listener: 1.2.3 is not an IP address");

	/* Port 0: the port bound, which a client reaches. */
	oa_error_clear(&err);
	rc = oa_http_server_start(&loop, "127.0.0.1", 0, NULL, on_request, NULL, &s, &err);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	port = oa_http_server_port(s);
	assert_true(port > 0 && port < 65536);
	int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(probe, (struct sockaddr *)&sin, sizeof(sin)), 0);
	close(probe);
	oa_http_server_close(s);
	oa_http_server_close(NULL);

	/* Everything (the failed start's listener included) is freed from close callbacks. */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_status_reason(void **state)
{
	(void)state;
	assert_string_equal(oa_http_status_reason(404), "Not Found");
	assert_string_equal(oa_http_status_reason(200), "OK");
	assert_string_equal(oa_http_status_reason(429), "Too Many Requests");
	assert_string_equal(oa_http_status_reason(431), "Request Header Fields Too Large");
	assert_null(oa_http_status_reason(299));
	assert_null(oa_http_status_reason(0));
	assert_null(oa_http_status_reason(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_answered_now),
	    cmocka_unit_test(test_head_extra_headers_defaults),
	    cmocka_unit_test(test_late_answer),
	    cmocka_unit_test(test_late_answer_client_gone),
	    cmocka_unit_test(test_gone_noticed),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_read_timeout),
	    cmocka_unit_test(test_max_connections),
	    cmocka_unit_test(test_close_with_pending_answer),
	    cmocka_unit_test(test_start_errors),
	    cmocka_unit_test(test_status_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
