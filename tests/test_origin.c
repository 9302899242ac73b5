/*
 * The test origin against real clients: openssl s_client (a child process),
 * a blocking GnuTLS client and raw sockets. The origin runs on its own libuv
 * loop in a background thread; the test thread only talks to it through a
 * uv_async_t, so the loop is never touched from two threads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "fixtures.h"
#include "originaudit/testorigin.h"

static const char http_ok[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
static const char http_bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";

/* Starts an origin in a background thread and asserts it started. */
static fx_origin *bg_start(const oa_test_origin_opts *opts)
{
	oa_error err;
	fx_origin *bg = fx_origin_start(opts, &err);

	if (bg == NULL) {
		fail_msg("oa_test_origin_start: %s", err.msg);
	}
	return bg;
}

/*
 * Stops the origin and asserts every handle was closed; returns the
 * connections it accepted.
 */
static size_t bg_stop(fx_origin *bg)
{
	size_t connections = 0;

	assert_int_equal(fx_origin_stop(bg, &connections), 0);
	return connections;
}

/* The test's certificates, and the chain in the wrong order: leaf, root, intermediate. */
struct state {
	fx_pki pki;
	gnutls_datum_t chain;
	char *openssl;
	char *timeout_tool;
};

static int setup(void **ts)
{
	struct state *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	fx_pki_make(&s->pki);
	const oa_pki_cert *wrong[] = {s->pki.leaf, s->pki.root, s->pki.inter};
	s->chain = fx_pem_concat(wrong, 3);
	s->openssl = fx_find_tool("openssl");
	s->timeout_tool = fx_find_tool("timeout");
	*ts = s;
	return 0;
}

static int teardown(void **ts)
{
	struct state *s = *ts;

	fx_pki_free(&s->pki);
	free(s->chain.data);
	free(s->openssl);
	free(s->timeout_tool);
	free(s);
	return 0;
}

static oa_test_origin_opts tls_opts(struct state *s, const char *priority)
{
	oa_test_origin_opts o;

	memset(&o, 0, sizeof(o));
	o.mode = OA_TEST_ORIGIN_TLS;
	o.address = "127.0.0.1";
	o.chain_pem = &s->chain;
	o.key_pem = oa_pki_key_pem(s->pki.leaf);
	o.priority = priority;
	return o;
}

static oa_test_origin_opts plain_opts(oa_test_origin_mode mode)
{
	oa_test_origin_opts o;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.address = "127.0.0.1";
	return o;
}

static void need_openssl(struct state *s)
{
	if (s->openssl == NULL) {
		skip();
	}
}

/* Runs openssl s_client against host:port with extra arguments (NULL-terminated). */
static int s_client(struct state *s, const char *connect, char **out, char **err, ...)
{
	char *argv[24];
	int n = 0;
	va_list ap;

	argv[n++] = s->openssl;
	argv[n++] = "s_client";
	argv[n++] = "-connect";
	argv[n++] = (char *)connect;
	va_start(ap, err);
	for (char *a = va_arg(ap, char *); a != NULL && n < 23; a = va_arg(ap, char *)) {
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return fx_run(argv, out, err, 20);
}

/* A blocking TCP connection with a receive timeout. */
static int raw_connect(const char *address, unsigned port, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (strchr(address, ':') != NULL) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET6, address, &a6->sin6_addr), 1);
		len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		assert_int_equal(inet_pton(AF_INET, address, &a4->sin_addr), 1);
		len = sizeof(*a4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	return fd;
}

static void raw_send(int fd, const void *data, size_t len)
{
	assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads until EOF (*errnum = 0) or an error (*errnum = errno); returns the bytes read. */
static size_t raw_read_all(int fd, char *buf, size_t cap, int *errnum)
{
	size_t len = 0;

	*errnum = 0;
	for (;;) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			*errnum = errno;
			break;
		}
		if (n == 0 || len + (size_t)n >= cap - 1) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/* A blocking GnuTLS client that verifies nothing: it only looks at what was sent. */
struct tls_client {
	int fd;
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
};

static void tls_client_open(struct tls_client *t, const char *address, unsigned port)
{
	t->fd = raw_connect(address, port, 5000);
	assert_int_equal(gnutls_certificate_allocate_credentials(&t->cred), 0);
	assert_int_equal(gnutls_init(&t->session, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_set_default_priority(t->session), 0);
	assert_int_equal(gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred), 0);
	gnutls_transport_set_int(t->session, t->fd);
	gnutls_handshake_set_timeout(t->session, 5000);
	int rc = gnutls_handshake(t->session);
	if (rc < 0) {
		fail_msg("handshake: %s", gnutls_strerror(rc));
	}
}

static void tls_client_close(struct tls_client *t)
{
	gnutls_deinit(t->session);
	gnutls_certificate_free_credentials(t->cred);
	close(t->fd);
}

static void test_start_errors(void **ts)
{
	struct state *s = *ts;
	uv_loop_t loop;
	oa_test_origin *origin = (oa_test_origin *)&loop;
	oa_test_origin *first = NULL;
	oa_error err;
	gnutls_datum_t junk = {(unsigned char *)"not a PEM at all\n", 17};
	oa_test_origin_opts o;

	assert_int_equal(uv_loop_init(&loop), 0);

	o = plain_opts(OA_TEST_ORIGIN_HTTP);
	o.address = "not-an-address";
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EINVAL);
	assert_null(origin);
	assert_int_equal(err.code, -EINVAL);
	assert_non_null(strstr(err.msg, "not-an-address"));

	o.address = "999.0.0.1";
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EINVAL);
	o.address = NULL;
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EINVAL);
	o.address = "127.0.0.1";
	o.port = 70000;
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "port out of range"));

	o = tls_opts(s, NULL);
	o.chain_pem = NULL;
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EINVAL);
	o = tls_opts(s, NULL);
	o.chain_pem = &junk;
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "chain_pem"));
	o = tls_opts(s, NULL);
	o.key_pem = &junk;
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "key_pem"));
	o = tls_opts(s, "NORMAL:+NO-SUCH-THING");
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "NO-SUCH-THING"));
	assert_null(origin);

	/* A port already listened on: the handles opened are closed by the loop. */
	o = plain_opts(OA_TEST_ORIGIN_HTTP);
	assert_int_equal(oa_test_origin_start(&loop, &o, &first, &err), 0);
	assert_true(oa_test_origin_port(first) > 0);
	o.port = oa_test_origin_port(first);
	assert_int_equal(oa_test_origin_start(&loop, &o, &origin, &err), -EADDRINUSE);
	assert_int_equal(err.code, -EADDRINUSE);
	assert_null(origin);

	oa_test_origin_destroy(first);
	oa_test_origin_destroy(NULL);
	assert_int_equal(oa_test_origin_port(NULL), 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void assert_subject_order(const char *out, const char *const *cns, size_t n)
{
	const char *at = out;

	for (size_t i = 0; i < n; i++) {
		char line[128];

		snprintf(line, sizeof(line), "\n %zu s:CN = %s\n", i, cns[i]);
		const char *hit = strstr(at, line);
		if (hit == NULL) {
			fail_msg("no \"%s\" after position %zu in:\n%s", line + 1,
				 (size_t)(at - out), out);
		}
		at = hit + 1;
	}
	char extra[32];
	snprintf(extra, sizeof(extra), "\n %zu s:", n);
	assert_null(strstr(out, extra));
}

static void test_tls_serves_wrong_order_as_given(void **ts)
{
	struct state *s = *ts;
	static const char *const order[] = {"origin.example.com", "Test Root CA",
					    "Test Intermediate CA"};
	oa_test_origin_opts o = tls_opts(s, NULL);
	fx_origin *bg;
	char connect[64];
	char *out = NULL;
	struct tls_client t;

	need_openssl(s);
	bg = bg_start(&o);
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));
	assert_int_equal(s_client(s, connect, &out, NULL, "-showcerts", NULL), 0);
	assert_subject_order(out, order, 3);
	free(out);

	/* The exact DER, in the exact order, as a GnuTLS client receives it. */
	tls_client_open(&t, "127.0.0.1", fx_origin_port(bg));
	unsigned n = 0;
	const gnutls_datum_t *peers = gnutls_certificate_get_peers(t.session, &n);
	const oa_pki_cert *want[] = {s->pki.leaf, s->pki.root, s->pki.inter};
	assert_int_equal(n, 3);
	for (unsigned i = 0; i < n; i++) {
		const gnutls_datum_t *der = oa_pki_cert_der(want[i]);

		assert_int_equal(peers[i].size, der->size);
		assert_memory_equal(peers[i].data, der->data, der->size);
	}
	tls_client_close(&t);
	fx_origin_wait_connections(bg, 2);
	assert_int_equal(bg_stop(bg), 2);
}

static void test_tls_serves_correct_order_as_given(void **ts)
{
	struct state *s = *ts;
	static const char *const order[] = {"origin.example.com", "Test Intermediate CA"};
	const oa_pki_cert *certs[] = {s->pki.leaf, s->pki.inter};
	gnutls_datum_t chain = fx_pem_concat(certs, 2);
	oa_test_origin_opts o = tls_opts(s, NULL);
	fx_origin *bg;
	char connect[64];
	char *out = NULL;

	need_openssl(s);
	o.chain_pem = &chain;
	bg = bg_start(&o);
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));
	assert_int_equal(s_client(s, connect, &out, NULL, "-showcerts", NULL), 0);
	assert_subject_order(out, order, 2);
	free(out);
	assert_int_equal(bg_stop(bg), 1);
	free(chain.data);
}

static void test_tls_answers_http_request(void **ts)
{
	struct state *s = *ts;
	oa_test_origin_opts o = tls_opts(s, NULL);
	fx_origin *bg;
	char cmd[512];
	char *out = NULL;

	need_openssl(s);
	bg = bg_start(&o);
	/* -ign_eof: s_client waits for the server to close instead of quitting at stdin's EOF. */
	snprintf(cmd, sizeof(cmd),
		 "printf 'GET / HTTP/1.1\\r\\nHost: origin.example.com\\r\\n\\r\\n' | "
		 "'%s' s_client -connect 127.0.0.1:%u -quiet -ign_eof",
		 s->openssl, fx_origin_port(bg));
	char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	assert_int_equal(fx_run(argv, &out, NULL, 20), 0);
	assert_string_equal(out, http_ok);
	free(out);
	assert_int_equal(bg_stop(bg), 1);
}

static void test_tls10_only_priority(void **ts)
{
	struct state *s = *ts;
	oa_test_origin_opts o = tls_opts(s, "NORMAL:-VERS-ALL:+VERS-TLS1.0");
	fx_origin *bg;
	char connect[64];
	char *out = NULL;
	char *err = NULL;

	need_openssl(s);
	bg = bg_start(&o);
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));

	/* The server answers a TLS 1.2 hello with 1.0, which a 1.2-only client refuses. */
	assert_int_equal(s_client(s, connect, &out, &err, "-tls1_2", NULL), 1);
	assert_non_null(strstr(err, "unsupported protocol"));
	assert_non_null(strstr(out, "Cipher is (NONE)"));
	free(out);
	free(err);

	/* OpenSSL 3 only speaks TLS 1.0 at security level 0. */
	assert_int_equal(
	    s_client(s, connect, &out, &err, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL), 0);
	assert_non_null(strstr(out, "Protocol  : TLSv1\n"));
	free(out);
	free(err);
	assert_int_equal(bg_stop(bg), 2);
}

static void test_tls12_only_alerts_tls10_client(void **ts)
{
	struct state *s = *ts;
	oa_test_origin_opts o = tls_opts(s, "NORMAL:-VERS-ALL:+VERS-TLS1.2");
	fx_origin *bg;
	char connect[64];
	char *out = NULL;
	char *err = NULL;

	need_openssl(s);
	bg = bg_start(&o);
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));
	assert_int_equal(
	    s_client(s, connect, &out, &err, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL), 1);
	assert_non_null(strstr(err, "alert protocol version"));
	free(out);
	free(err);
	assert_int_equal(s_client(s, connect, &out, &err, "-tls1_2", NULL), 0);
	assert_non_null(strstr(out, "Protocol  : TLSv1.2\n"));
	free(out);
	free(err);
	assert_int_equal(bg_stop(bg), 2);
}

static void test_tls_ipv6(void **ts)
{
	struct state *s = *ts;
	static const char *const order[] = {"origin.example.com", "Test Root CA",
					    "Test Intermediate CA"};
	oa_test_origin_opts o = tls_opts(s, NULL);
	fx_origin *bg;
	char connect[64];
	char *out = NULL;
	int probe = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6;

	need_openssl(s);
	/* No IPv6 loopback here (some containers): nothing to test. */
	memset(&a6, 0, sizeof(a6));
	a6.sin6_family = AF_INET6;
	a6.sin6_addr = in6addr_loopback;
	if (probe < 0 || bind(probe, (struct sockaddr *)&a6, sizeof(a6)) < 0) {
		if (probe >= 0) {
			close(probe);
		}
		skip();
	}
	close(probe);

	o.address = "::1";
	bg = bg_start(&o);
	assert_true(fx_origin_port(bg) > 0);
	snprintf(connect, sizeof(connect), "[::1]:%u", fx_origin_port(bg));
	assert_int_equal(s_client(s, connect, &out, NULL, "-showcerts", NULL), 0);
	assert_subject_order(out, order, 3);
	free(out);
	assert_int_equal(bg_stop(bg), 1);
}

static void test_tls_aborted_handshakes(void **ts)
{
	struct state *s = *ts;
	static const unsigned char partial_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00};
	oa_test_origin_opts o = tls_opts(s, NULL);
	fx_origin *bg;
	char buf[512];
	char connect[64];
	int errnum;
	int fd;

	need_openssl(s);
	bg = bg_start(&o);

	/* Connects and leaves. */
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	close(fd);
	/* Half a ClientHello, then leaves. */
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_send(fd, partial_hello, sizeof(partial_hello));
	close(fd);
	/* Plain HTTP to a TLS port: a fatal alert record, then the server closes cleanly. */
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_send(fd, "GET / HTTP/1.0\r\n\r\n", 18);
	size_t n = raw_read_all(fd, buf, sizeof(buf), &errnum);
	assert_int_equal(errnum, 0);
	assert_true(n >= 7);
	assert_int_equal((unsigned char)buf[0], 0x15);
	assert_int_equal((unsigned char)buf[5], 2);
	close(fd);

	/* The origin is still fine. */
	snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));
	assert_int_equal(s_client(s, connect, NULL, NULL, NULL), 0);
	assert_int_equal(bg_stop(bg), 4);
}

static void test_tarpit(void **ts)
{
	struct state *s = *ts;
	oa_test_origin_opts o = plain_opts(OA_TEST_ORIGIN_TARPIT);
	fx_origin *bg;
	char buf[64];
	char connect[64];
	size_t want = 1;
	int fd;

	bg = bg_start(&o);
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 500);
	raw_send(fd, "hello\r\n\r\n", 9);
	errno = 0;
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	close(fd);

	if (s->openssl != NULL && s->timeout_tool != NULL) {
		char *argv[] = {s->timeout_tool, "2",	  s->openssl, "s_client",
				"-connect",	 connect, NULL};

		snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));
		/* timeout(1) exits 124 when it had to kill the command. */
		assert_int_equal(fx_run(argv, NULL, NULL, 20), 124);
		want = 2;
	}
	fx_origin_wait_connections(bg, want);
	assert_int_equal(bg_stop(bg), want);
}

static void test_garbage(void **ts)
{
	struct state *s = *ts;
	oa_test_origin_opts o = plain_opts(OA_TEST_ORIGIN_GARBAGE);
	fx_origin *bg;
	char buf[256];
	char connect[64];
	char *err = NULL;
	int errnum;
	int fd;

	need_openssl(s);
	bg = bg_start(&o);
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_read_all(fd, buf, sizeof(buf), &errnum);
	assert_int_equal(errnum, 0);
	assert_string_equal(buf, http_bad);
	close(fd);

	snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));
	assert_int_equal(s_client(s, connect, NULL, &err, NULL), 1);
	assert_non_null(strstr(err, "wrong version number"));
	free(err);
	assert_int_equal(bg_stop(bg), 2);
}

static void test_reset(void **ts)
{
	struct state *s = *ts;
	oa_test_origin_opts o = plain_opts(OA_TEST_ORIGIN_RESET);
	fx_origin *bg;
	char buf[64];
	char connect[64];
	char *err = NULL;
	int errnum;
	int fd;

	need_openssl(s);
	bg = bg_start(&o);
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_send(fd, "x", 1);
	assert_int_equal(raw_read_all(fd, buf, sizeof(buf), &errnum), 0);
	assert_int_equal(errnum, ECONNRESET);
	close(fd);

	snprintf(connect, sizeof(connect), "127.0.0.1:%u", fx_origin_port(bg));
	assert_int_equal(s_client(s, connect, NULL, &err, NULL), 1);
	assert_non_null(strstr(err, "errno=104"));
	free(err);
	assert_int_equal(bg_stop(bg), 2);
}

static void test_http(void **ts)
{
	oa_test_origin_opts o = plain_opts(OA_TEST_ORIGIN_HTTP);
	fx_origin *bg;
	char buf[256];
	int errnum;
	int fd;

	bg = bg_start(&o);

	/* The request in two pieces. */
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_send(fd, "GET / HTTP/1.0\r\n", 16);
	usleep(50000);
	raw_send(fd, "\r\n", 2);
	raw_read_all(fd, buf, sizeof(buf), &errnum);
	assert_int_equal(errnum, 0);
	assert_string_equal(buf, http_ok);
	close(fd);

	/* A client that half-closes after its request still gets the answer. */
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_send(fd, "GET / HTTP/1.0\r\n\r\n", 18);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	raw_read_all(fd, buf, sizeof(buf), &errnum);
	assert_int_equal(errnum, 0);
	assert_string_equal(buf, http_ok);
	close(fd);
	assert_int_equal(bg_stop(bg), 2);
}

static void test_http_lingering_close(void **ts)
{
	oa_test_origin_opts o = plain_opts(OA_TEST_ORIGIN_HTTP);
	fx_origin *bg;
	char buf[256];
	int errnum;
	int fd;

	bg = bg_start(&o);
	fd = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_send(fd, "GET / HTTP/1.0\r\n\r\n", 18);
	raw_read_all(fd, buf, sizeof(buf), &errnum);
	assert_int_equal(errnum, 0);
	assert_string_equal(buf, http_ok);

	/* Bytes sent while the origin lingers are read and dropped, not answered by an RST... */
	raw_send(fd, "more", 4);
	usleep(200000);
	raw_send(fd, "more", 4);
	/* ...and once it gave up waiting for our close, the socket is gone: RST. */
	sleep(3);
	raw_send(fd, "x", 1);
	usleep(200000);
	errno = 0;
	assert_int_equal(send(fd, "y", 1, MSG_NOSIGNAL), -1);
	assert_true(errno == ECONNRESET || errno == EPIPE);
	close(fd);
	assert_int_equal(bg_stop(bg), 1);
}

static void test_destroy_with_live_connections(void **ts)
{
	struct state *s = *ts;
	static const unsigned char partial_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00};
	oa_test_origin_opts o = tls_opts(s, NULL);
	fx_origin *bg;
	struct tls_client idle;
	struct tls_client answered;
	char buf[256];
	int errnum;
	int silent;
	int partial;

	bg = bg_start(&o);
	silent = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	partial = raw_connect("127.0.0.1", fx_origin_port(bg), 3000);
	raw_send(partial, partial_hello, sizeof(partial_hello));
	/* Handshake done, no request yet. */
	tls_client_open(&idle, "127.0.0.1", fx_origin_port(bg));
	/* Answered and shut down by the origin, which now waits for our close. */
	tls_client_open(&answered, "127.0.0.1", fx_origin_port(bg));
	const char req[] = "GET / HTTP/1.0\r\n\r\n";
	assert_int_equal(gnutls_record_send(answered.session, req, sizeof(req) - 1),
			 (ssize_t)(sizeof(req) - 1));
	size_t got = 0;
	for (;;) {
		ssize_t n = gnutls_record_recv(answered.session, buf + got, sizeof(buf) - 1 - got);

		if (n <= 0) {
			assert_int_equal(n, 0);
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	assert_string_equal(buf, http_ok);
	fx_origin_wait_connections(bg, 4);

	/* Every connection closed and freed; bg_stop checks the loop has no handle left. */
	assert_int_equal(bg_stop(bg), 4);
	assert_int_equal(raw_read_all(silent, buf, sizeof(buf), &errnum), 0);
	assert_int_equal(errnum, 0);
	assert_int_equal(raw_read_all(partial, buf, sizeof(buf), &errnum), 0);
	assert_int_equal(errnum, 0);
	assert_int_equal(gnutls_record_recv(idle.session, buf, sizeof(buf)),
			 GNUTLS_E_PREMATURE_TERMINATION);
	close(silent);
	close(partial);
	tls_client_close(&idle);
	tls_client_close(&answered);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_start_errors),
	    T(test_tls_serves_wrong_order_as_given),
	    T(test_tls_serves_correct_order_as_given),
	    T(test_tls_answers_http_request),
	    T(test_tls10_only_priority),
	    T(test_tls12_only_alerts_tls10_client),
	    T(test_tls_ipv6),
	    T(test_tls_aborted_handshakes),
	    T(test_tarpit),
	    T(test_garbage),
	    T(test_reset),
	    T(test_http),
	    T(test_http_lingering_close),
	    T(test_destroy_with_live_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
