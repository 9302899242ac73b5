/*
 * Tests for the proxy's HTTP head handling (proxy/http_head.h): the byte
 * buffer, the head model, the request smuggling checks, the request written
 * toward an origin, the responses written toward a viewer, and the viewer
 * protocol policy. Every writer is checked byte for byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_head.h"
#include "originaudit/http_server.h"

/*
 * Fills h with the fields in fields, "Name: value" lines separated by '\n'.
 * The slices point into fields, which must outlive h (string literals do).
 */
static void head_fill(px_head *h, const char *fields)
{
	const char *p = fields;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		const char *colon;

		if (eol == NULL) {
			eol = p + strlen(p);
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		assert_non_null(colon);
		assert_int_equal(
		    px_head_add(h, p, (size_t)(colon - p), colon + 1, (size_t)(eol - colon - 1)),
		    0);
		p = *eol != '\0' ? eol + 1 : eol;
	}
}

static void request_init(px_head *h, const char *method, const char *target, int minor,
			 const char *fields)
{
	px_head_init(h);
	h->method = method;
	h->method_len = strlen(method);
	h->target = target;
	h->target_len = strlen(target);
	h->http_minor = minor;
	head_fill(h, fields);
}

static void response_init(px_head *h, int status, const char *reason, const char *fields)
{
	px_head_init(h);
	h->status = status;
	h->reason = reason;
	h->reason_len = strlen(reason);
	head_fill(h, fields);
}

/* The forwarding every origin-request test starts from. */
static px_forward forward_default(void)
{
	px_forward fw = {
	    .host = "origin.example",
	    .origin_path = "",
	    .viewer_address = "192.0.2.7",
	    .via = "1.1 originaudit",
	    .request_id_header = "X-Amz-Cf-Id",
	    .request_id = "req-1",
	    .chunked = false,
	    .content_length = -1,
	};
	return fw;
}

/* Builds the origin request for req and asserts its exact bytes. */
static void expect_origin_request(const px_head *req, const px_forward *fw, const char *expected)
{
	px_buf out;

	px_buf_init(&out);
	assert_int_equal(px_build_origin_request(req, fw, &out), 0);
	assert_non_null(out.data);
	assert_string_equal(out.data, expected);
	assert_int_equal(out.len, strlen(expected));
	px_buf_free(&out);
}

/* Asserts that building fails with rc and leaves what out already held untouched. */
static void expect_origin_request_error(const px_head *req, const px_forward *fw, int rc)
{
	px_buf out;

	px_buf_init(&out);
	assert_int_equal(px_buf_append_str(&out, "earlier"), 0);
	assert_int_equal(px_build_origin_request(req, fw, &out), rc);
	assert_int_equal(out.len, 7);
	assert_string_equal(out.data, "earlier");
	px_buf_free(&out);
}

static void test_buf(void **state)
{
	px_buf b;
	char big[5000];

	(void)state;
	px_buf_init(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(px_buf_append(&b, "abc", 3), 0);
	assert_int_equal(px_buf_append(&b, NULL, 0), 0);
	assert_int_equal(px_buf_appendf(&b, "-%d-%s", 42, "x"), 0);
	assert_int_equal(px_buf_append_str(&b, "!"), 0);
	assert_string_equal(b.data, "abc-42-x!");
	assert_int_equal(b.len, 9);
	px_buf_consume(&b, 4);
	assert_string_equal(b.data, "42-x!");
	assert_int_equal(b.len, 5);
	px_buf_consume(&b, 99);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");

	/* Growth well past the first allocation, by both append paths. */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(px_buf_append_str(&b, big), 0);
	assert_int_equal(px_buf_appendf(&b, "%s|%s", big, big), 0);
	assert_int_equal(b.len, 3 * (sizeof(big) - 1) + 1);
	assert_int_equal(b.data[sizeof(big) - 1], 'z');
	assert_int_equal(b.data[2 * (sizeof(big) - 1)], '|');
	assert_int_equal(b.data[b.len], '\0');
	assert_true(b.cap > b.len);

	px_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_non_null(b.data);
	px_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
	px_buf_free(&b);
	px_buf_free(NULL);
}

static void test_head_model(void **state)
{
	static const char names[] = "X-Custom";
	static const char values[] = " \t padded value \t ";
	px_head h;
	const px_header *f;

	(void)state;
	request_init(&h, "GET", "/", 1, "Host: a.example\nSet-Cookie: one\nset-cookie: two");
	assert_int_equal(px_head_add(&h, names, strlen(names), values, strlen(values)), 0);

	f = px_head_find(&h, "SET-COOKIE");
	assert_non_null(f);
	assert_int_equal(f->value_len, 3);
	assert_memory_equal(f->value, "one", 3);
	assert_int_equal(px_head_count(&h, "Set-Cookie"), 2);
	assert_int_equal(px_head_count(&h, "host"), 1);
	assert_int_equal(px_head_count(&h, "Hos"), 0);
	assert_int_equal(px_head_count(&h, "Hostx"), 0);
	assert_null(px_head_find(&h, "Cookie"));

	/* Surrounding whitespace is not part of the value. */
	f = px_head_find(&h, "x-custom");
	assert_non_null(f);
	assert_int_equal(f->value_len, strlen("padded value"));
	assert_memory_equal(f->value, "padded value", f->value_len);
	assert_ptr_equal(f->name, names);
}

static void test_head_too_many_fields(void **state)
{
	px_head h;
	px_buf out;
	px_forward fw = forward_default();

	(void)state;
	request_init(&h, "GET", "/", 1, "");
	for (int i = 0; i < PX_MAX_HEADERS; i++) {
		assert_int_equal(px_head_add(&h, "X-N", 3, "v", 1), 0);
	}
	assert_int_equal(h.n_headers, PX_MAX_HEADERS);
	assert_int_equal(px_head_add(&h, "X-N", 3, "v", 1), -E2BIG);
	assert_int_equal(px_head_add(&h, "Host", 4, "a", 1), -E2BIG);
	assert_int_equal(h.n_headers, PX_MAX_HEADERS);

	/* A full head is still written whole. */
	px_buf_init(&out);
	assert_int_equal(px_build_origin_request(&h, &fw, &out), 0);
	assert_int_equal(out.len, strlen("GET / HTTP/1.1\r\nHost: origin.example\r\n") +
				      PX_MAX_HEADERS * strlen("X-N: v\r\n") +
				      strlen("X-Forwarded-For: 192.0.2.7\r\n"
					     "Via: 1.1 originaudit\r\n"
					     "X-Amz-Cf-Id: req-1\r\n"
					     "Connection: keep-alive\r\n\r\n"));
	px_buf_free(&out);
}

struct framing_case {
	int minor;
	const char *fields;
	int rc;
	long long length;
	bool chunked;
};

static const struct framing_case framing_cases[] = {
    /* No body. */
    {1, "", 0, -1, false},
    {0, "", 0, -1, false},
    {1, "Host: a.example", 0, -1, false},

    /* Content-Length. */
    {1, "Content-Length: 5", 0, 5, false},
    {1, "content-length: 0", 0, 0, false},
    {1, "CONTENT-LENGTH:   12  ", 0, 12, false},
    {0, "Content-Length: 5", 0, 5, false},
    {1, "Content-Length: 007", 0, 7, false},
    {1, "Content-Length: 9223372036854775807", 0, 9223372036854775807LL, false},

    /* Repeated identical values are tolerated (RFC 9110 8.6); differing ones are not. */
    {1, "Content-Length: 5\nContent-Length: 5", 0, 5, false},
    {1, "Content-Length: 5, 5", 0, 5, false},
    {1, "Content-Length: 5,5\ncontent-length: 5", 0, 5, false},
    {1, "Content-Length: 5\nContent-Length: 6", -EBADMSG, 0, false},
    {1, "Content-Length: 6\nContent-Length: 5", -EBADMSG, 0, false},
    {1, "Content-Length: 5, 6", -EBADMSG, 0, false},
    {1, "Content-Length: 5, 5, 6", -EBADMSG, 0, false},
    {1, "Content-Length: 5\nContent-Length: 5, 6", -EBADMSG, 0, false},

    /* Content-Length values that are not a plain decimal number that fits. */
    {1, "Content-Length: ", -EBADMSG, 0, false},
    {1, "Content-Length: -1", -EBADMSG, 0, false},
    {1, "Content-Length: +5", -EBADMSG, 0, false},
    {1, "Content-Length: 5a", -EBADMSG, 0, false},
    {1, "Content-Length: 0x10", -EBADMSG, 0, false},
    {1, "Content-Length: 1 2", -EBADMSG, 0, false},
    {1, "Content-Length: 5.0", -EBADMSG, 0, false},
    {1, "Content-Length: 5,", -EBADMSG, 0, false},
    {1, "Content-Length: ,5", -EBADMSG, 0, false},
    {1, "Content-Length: 5,,5", -EBADMSG, 0, false},
    {1, "Content-Length: 9223372036854775808", -EBADMSG, 0, false},
    {1, "Content-Length: 99999999999999999999999", -EBADMSG, 0, false},

    /* Transfer-Encoding: exactly one plain chunked. */
    {1, "Transfer-Encoding: chunked", 0, -1, true},
    {1, "transfer-encoding: CHUNKED", 0, -1, true},
    {1, "Transfer-Encoding:  Chunked ", 0, -1, true},
    {1, "Transfer-Encoding: gzip, chunked", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: chunked, identity", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: chunked, chunked", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: xchunked", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: chunkedx", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: chunked;q=1", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: chunked,", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: identity", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: gzip", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: ", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: chunked\nTransfer-Encoding: chunked", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: gzip\nTransfer-Encoding: chunked", -EBADMSG, 0, false},
    {1, "Transfer-Encoding: chunked\nTransfer-Encoding: identity", -EBADMSG, 0, false},

    /* Both framings: the classic smuggling shapes, in either order. */
    {1, "Transfer-Encoding: chunked\nContent-Length: 5", -EBADMSG, 0, false},
    {1, "Content-Length: 5\nTransfer-Encoding: chunked", -EBADMSG, 0, false},
    {1, "Content-Length: 0\ntransfer-encoding: chunked", -EBADMSG, 0, false},
    {1, "Content-Length: 5\nTransfer-Encoding: gzip, chunked", -EBADMSG, 0, false},

    /* HTTP/1.0 has no Transfer-Encoding. */
    {0, "Transfer-Encoding: chunked", -EBADMSG, 0, false},
    {0, "Transfer-Encoding: chunked\nContent-Length: 5", -EBADMSG, 0, false},
};

static void test_request_framing(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(framing_cases) / sizeof(framing_cases[0]); i++) {
		const struct framing_case *c = &framing_cases[i];
		px_head h;
		long long length = 12345;
		bool chunked = true;
		int rc;

		request_init(&h, "POST", "/", c->minor, c->fields);
		rc = px_check_request_framing(&h, &length, &chunked);
		if (rc != c->rc) {
			fail_msg("case %zu (HTTP/1.%d, \"%s\"): rc %d, expected %d", i, c->minor,
				 c->fields, rc, c->rc);
		}
		if (rc == 0 && (length != c->length || chunked != c->chunked)) {
			fail_msg("case %zu (\"%s\"): length %lld chunked %d, expected %lld %d", i,
				 c->fields, length, chunked, c->length, c->chunked);
		}
		/* The outputs are optional. */
		assert_int_equal(px_check_request_framing(&h, NULL, NULL), c->rc);
	}
}

/* Heads filled field by field, as a parser may leave them, keep the spaces around values. */
static void test_untrimmed_values(void **state)
{
	px_head h;
	long long length = 0;
	bool chunked = false;
	const char *host = NULL;
	size_t host_len = 0;

	(void)state;
	request_init(&h, "POST", "/", 1, "");
	h.headers[0] = (px_header){"Transfer-Encoding", 17, " chunked\t", 9};
	h.headers[1] = (px_header){"Host", 4, " a.example ", 11};
	h.n_headers = 2;
	assert_int_equal(px_check_request_framing(&h, &length, &chunked), 0);
	assert_int_equal(length, -1);
	assert_true(chunked);
	assert_int_equal(px_request_host(&h, &host, &host_len), 0);
	assert_int_equal(host_len, 9);
	assert_memory_equal(host, "a.example", 9);

	h.headers[0] = (px_header){"Content-Length", 14, " 7 ", 3};
	assert_int_equal(px_check_request_framing(&h, &length, &chunked), 0);
	assert_int_equal(length, 7);
	assert_false(chunked);
}

static void test_request_framing_bad_version(void **state)
{
	px_head h;

	(void)state;
	request_init(&h, "GET", "/", 2, "");
	assert_int_equal(px_check_request_framing(&h, NULL, NULL), -EINVAL);
}

static void test_request_host(void **state)
{
	static const struct {
		int minor;
		const char *fields;
		int rc;
		const char *host;
	} cases[] = {
	    {1, "Host: www.example.com", 0, "www.example.com"},
	    {1, "host:  WWW.Example.com ", 0, "WWW.Example.com"},
	    {1, "Host: www.example.com:8080", 0, "www.example.com:8080"},
	    {1, "Host: 192.0.2.1", 0, "192.0.2.1"},
	    {1, "Host: [2001:db8::1]:443", 0, "[2001:db8::1]:443"},
	    {1, "Host: under_score.example", 0, "under_score.example"},
	    {0, "", 0, ""},
	    {1, "", -EBADMSG, NULL},
	    {1, "Host: a.example\nHost: a.example", -EBADMSG, NULL},
	    {1, "Host: a.example\nHost: b.example", -EBADMSG, NULL},
	    {0, "Host: a.example\nhost: b.example", -EBADMSG, NULL},
	    {1, "Host: ", -EBADMSG, NULL},
	    {1, "Host: evil.example/path", -EBADMSG, NULL},
	    {1, "Host: user@evil.example", -EBADMSG, NULL},
	    {1, "Host: a.example, b.example", -EBADMSG, NULL},
	    {1, "Host: a.example:", -EBADMSG, NULL},
	    {1, "Host: a.example:65536", -EBADMSG, NULL},
	    {1, "Host: a.example:80:80", -EBADMSG, NULL},
	    {1, "Host: [2001:db8::1", -EBADMSG, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		px_head h;
		const char *host = NULL;
		size_t host_len = 99;

		request_init(&h, "GET", "/", cases[i].minor, cases[i].fields);
		if (px_request_host(&h, &host, &host_len) != cases[i].rc) {
			fail_msg("case %zu (\"%s\"): expected %d", i, cases[i].fields, cases[i].rc);
		}
		if (cases[i].rc == 0) {
			assert_int_equal(host_len, strlen(cases[i].host));
			assert_memory_equal(host, cases[i].host, host_len);
		}
	}
}

/* A viewer request carrying every kind of field the origin request rewrites or drops. */
static void test_origin_request_exact(void **state)
{
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	request_init(&h, "GET", "/a/b?x=1&y=%20", 1,
		     "Host: viewer.example\n"
		     "User-Agent: t/1\n"
		     "Accept: */*\n"
		     "X-Forwarded-For: 10.0.0.1\n"
		     "Via: 1.1 other\n"
		     "Connection: keep-alive, X-Secret\n"
		     "X-Secret: s\n"
		     "Keep-Alive: timeout=5\n"
		     "Proxy-Connection: keep-alive\n"
		     "TE: trailers\n"
		     "Trailer: X-Sum\n"
		     "Upgrade: websocket\n"
		     "Proxy-Authorization: Basic eDp5\n"
		     "Proxy-Authenticate: Basic\n"
		     "x-forwarded-proto: http\n"
		     "X-REAL-IP: 198.51.100.9\n"
		     "X-Amz-Cf-Id: spoofed\n"
		     "Cookie: a=b\n"
		     "Authorization: Bearer t");
	fw.origin_path = "/prefix";
	expect_origin_request(&h, &fw,
			      "GET /prefix/a/b?x=1&y=%20 HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "User-Agent: t/1\r\n"
			      "Accept: */*\r\n"
			      "Cookie: a=b\r\n"
			      "Authorization: Bearer t\r\n"
			      "X-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n"
			      "Via: 1.1 other, 1.1 originaudit\r\n"
			      "X-Amz-Cf-Id: req-1\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");
}

/* The smallest request: only what the proxy adds. */
static void test_origin_request_minimal(void **state)
{
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	request_init(&h, "HEAD", "/", 0, "");
	fw.origin_path = NULL;
	expect_origin_request(&h, &fw,
			      "HEAD / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "X-Forwarded-For: 192.0.2.7\r\n"
			      "Via: 1.1 originaudit\r\n"
			      "X-Amz-Cf-Id: req-1\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");

	/* Without an address, via and id, nothing of them is written. */
	fw.viewer_address = NULL;
	fw.via = NULL;
	fw.request_id_header = NULL;
	fw.request_id = NULL;
	expect_origin_request(&h, &fw,
			      "HEAD / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");
}

static void test_origin_request_hop_by_hop(void **state)
{
	static const char *const fields[] = {
	    "Connection: close",
	    "connection: Keep-Alive",
	    "Keep-Alive: timeout=5, max=9",
	    "KEEP-ALIVE: 1",
	    "Proxy-Connection: close",
	    "TE: trailers",
	    "te: gzip",
	    "Trailer: X-Checksum",
	    "Transfer-Encoding: chunked",
	    "transfer-encoding: gzip",
	    "Upgrade: h2c",
	    "UPGRADE: websocket",
	    "Proxy-Authorization: Basic x",
	    "Proxy-Authenticate: Basic",
	    "X-Forwarded-Proto: https",
	    "x-forwarded-proto: http",
	    "X-Real-IP: 203.0.113.5",
	    "x-real-ip: 203.0.113.5",
	    "Content-Length: 3",
	    "host: other.example",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		px_head h;
		px_forward fw = forward_default();

		request_init(&h, "GET", "/", 1, fields[i]);
		assert_int_equal(px_head_add(&h, "Accept", 6, "x", 1), 0);
		expect_origin_request(&h, &fw,
				      "GET / HTTP/1.1\r\n"
				      "Host: origin.example\r\n"
				      "Accept: x\r\n"
				      "X-Forwarded-For: 192.0.2.7\r\n"
				      "Via: 1.1 originaudit\r\n"
				      "X-Amz-Cf-Id: req-1\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n");
	}
}

/* Fields named in Connection are hop-by-hop too (RFC 9110 7.6.1), whatever their case. */
static void test_origin_request_connection_tokens(void **state)
{
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	request_init(&h, "GET", "/", 1,
		     "Connection: close, X-Secret\n"
		     "X-Secret: one\n"
		     "x-secret: two\n"
		     "X-Secretive: kept\n"
		     "connection: ,X-OTHER ,\n"
		     "X-Other: gone\n"
		     "Accept: x");
	expect_origin_request(&h, &fw,
			      "GET / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "X-Secretive: kept\r\n"
			      "Accept: x\r\n"
			      "X-Forwarded-For: 192.0.2.7\r\n"
			      "Via: 1.1 originaudit\r\n"
			      "X-Amz-Cf-Id: req-1\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");

	/*
	 * Naming the fields the proxy writes drops only the viewer's values: the
	 * proxy's own Host, X-Forwarded-For, Via, id and framing are still sent.
	 */
	request_init(&h, "POST", "/", 1,
		     "Connection: X-Forwarded-For, Via, X-Amz-Cf-Id, Host, Content-Length\n"
		     "X-Forwarded-For: 10.0.0.1\n"
		     "Via: 1.0 spoof\n"
		     "Content-Length: 2");
	fw.content_length = 2;
	expect_origin_request(&h, &fw,
			      "POST / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "X-Forwarded-For: 192.0.2.7\r\n"
			      "Via: 1.1 originaudit\r\n"
			      "X-Amz-Cf-Id: req-1\r\n"
			      "Connection: keep-alive\r\n"
			      "Content-Length: 2\r\n"
			      "\r\n");
}

static void test_origin_request_forwarded_for(void **state)
{
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	/* One existing field, itself a list. */
	request_init(&h, "GET", "/", 1, "X-Forwarded-For: 10.0.0.1, 10.0.0.2");
	fw.request_id_header = NULL;
	fw.via = NULL;
	expect_origin_request(&h, &fw,
			      "GET / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 192.0.2.7\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");

	/* Two fields, in any case, become one; empty ones add nothing. */
	request_init(&h, "GET", "/", 1,
		     "X-Forwarded-For: 10.0.0.1\n"
		     "Accept: x\n"
		     "x-forwarded-for:  \n"
		     "x-forwarded-for: 2001:db8::5");
	fw.viewer_address = "2001:db8::7";
	expect_origin_request(&h, &fw,
			      "GET / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Accept: x\r\n"
			      "X-Forwarded-For: 10.0.0.1, 2001:db8::5, 2001:db8::7\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");

	/* Without a viewer address the existing list still goes on. */
	fw.viewer_address = NULL;
	expect_origin_request(&h, &fw,
			      "GET / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Accept: x\r\n"
			      "X-Forwarded-For: 10.0.0.1, 2001:db8::5\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");
}

static void test_origin_request_via(void **state)
{
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	request_init(&h, "GET", "/", 1, "Via: 1.0 fred, 1.1 p.example\nVIA: 2 edge");
	fw.viewer_address = NULL;
	fw.request_id_header = NULL;
	expect_origin_request(&h, &fw,
			      "GET / HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Via: 1.0 fred, 1.1 p.example, 2 edge, 1.1 originaudit\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");
}

/* Host is the origin's, or the viewer's when the behaviour forwards it: one Host either way. */
static void test_origin_request_host(void **state)
{
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	request_init(&h, "GET", "/x", 1, "Host: www.viewer.example:8080\nAccept: x");
	fw.via = NULL;
	fw.viewer_address = NULL;
	fw.request_id_header = NULL;
	expect_origin_request(&h, &fw,
			      "GET /x HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Accept: x\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");

	fw.host = "www.viewer.example:8080";
	expect_origin_request(&h, &fw,
			      "GET /x HTTP/1.1\r\n"
			      "Host: www.viewer.example:8080\r\n"
			      "Accept: x\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");

	/* An HTTP/1.0 viewer may send no Host at all. */
	request_init(&h, "GET", "/x", 0, "");
	fw.host = "[2001:db8::1]:8443";
	expect_origin_request(&h, &fw,
			      "GET /x HTTP/1.1\r\n"
			      "Host: [2001:db8::1]:8443\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");
}

static void test_origin_request_origin_path(void **state)
{
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	request_init(&h, "DELETE", "/items/7?force=1", 1, "");
	fw.origin_path = "/api/v2";
	fw.via = NULL;
	fw.viewer_address = NULL;
	fw.request_id_header = NULL;
	expect_origin_request(&h, &fw,
			      "DELETE /api/v2/items/7?force=1 HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Connection: keep-alive\r\n"
			      "\r\n");
}

/* The body's framing comes from fw, never from the viewer's fields. */
static void test_origin_request_framing(void **state)
{
	px_head h;
	px_forward fw = forward_default();
	px_buf out;

	(void)state;
	fw.via = NULL;
	fw.viewer_address = NULL;
	fw.request_id_header = NULL;

	request_init(&h, "POST", "/up", 1,
		     "Content-Length: 11\ncontent-length: 11\nContent-Type: text/plain");
	fw.content_length = 11;
	expect_origin_request(&h, &fw,
			      "POST /up HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Content-Type: text/plain\r\n"
			      "Connection: keep-alive\r\n"
			      "Content-Length: 11\r\n"
			      "\r\n");

	request_init(&h, "PUT", "/up", 1, "Transfer-Encoding: chunked\nContent-Type: a/b");
	fw.content_length = -1;
	fw.chunked = true;
	expect_origin_request(&h, &fw,
			      "PUT /up HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Content-Type: a/b\r\n"
			      "Connection: keep-alive\r\n"
			      "Transfer-Encoding: chunked\r\n"
			      "\r\n");

	/* Appending after what out already holds (a pipelined head, say). */
	px_buf_init(&out);
	assert_int_equal(px_buf_append_str(&out, "0\r\n\r\n"), 0);
	assert_int_equal(px_build_origin_request(&h, &fw, &out), 0);
	assert_string_equal(out.data, "0\r\n\r\n"
				      "PUT /up HTTP/1.1\r\n"
				      "Host: origin.example\r\n"
				      "Content-Type: a/b\r\n"
				      "Connection: keep-alive\r\n"
				      "Transfer-Encoding: chunked\r\n"
				      "\r\n");
	px_buf_free(&out);

	request_init(&h, "POST", "/empty", 1, "Content-Length: 0");
	fw.chunked = false;
	fw.content_length = 0;
	expect_origin_request(&h, &fw,
			      "POST /empty HTTP/1.1\r\n"
			      "Host: origin.example\r\n"
			      "Connection: keep-alive\r\n"
			      "Content-Length: 0\r\n"
			      "\r\n");
}

/* Nothing from the viewer may end a line or the head early. */
static void test_origin_request_injection(void **state)
{
	static const char *const values[] = {
	    "a\r\nX-Evil: 1",
	    "a\nX-Evil: 1",
	    "a\rb",
	    "a\r\n\r\nGET /smuggled HTTP/1.1",
	};
	static const char nul_value[] = {'a', '\0', 'b'};
	px_head h;
	px_forward fw = forward_default();

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		request_init(&h, "GET", "/", 1, "");
		assert_int_equal(px_head_add(&h, "X-Value", 7, values[i], strlen(values[i])), 0);
		expect_origin_request_error(&h, &fw, -EBADMSG);

		/* Also in a field that is rewritten or dropped. */
		request_init(&h, "GET", "/", 1, "");
		assert_int_equal(
		    px_head_add(&h, "X-Forwarded-For", 15, values[i], strlen(values[i])), 0);
		expect_origin_request_error(&h, &fw, -EBADMSG);
	}
	request_init(&h, "GET", "/", 1, "");
	assert_int_equal(px_head_add(&h, "X-Value", 7, nul_value, sizeof(nul_value)), 0);
	expect_origin_request_error(&h, &fw, -EBADMSG);

	/* Names that are not tokens. */
	request_init(&h, "GET", "/", 1, "");
	assert_int_equal(px_head_add(&h, "X-Evil\r\nX", 9, "v", 1), 0);
	expect_origin_request_error(&h, &fw, -EBADMSG);
	request_init(&h, "GET", "/", 1, "");
	assert_int_equal(px_head_add(&h, "X Evil", 6, "v", 1), 0);
	expect_origin_request_error(&h, &fw, -EBADMSG);
	request_init(&h, "GET", "/", 1, "");
	assert_int_equal(px_head_add(&h, "", 0, "v", 1), 0);
	expect_origin_request_error(&h, &fw, -EBADMSG);

	/* The request line. */
	request_init(&h, "GET", "/a HTTP/1.1\r\nX-Evil: 1", 1, "");
	expect_origin_request_error(&h, &fw, -EBADMSG);
	request_init(&h, "GET", "/a b", 1, "");
	expect_origin_request_error(&h, &fw, -EBADMSG);
	request_init(&h, "GET", "http://other.example/", 1, "");
	expect_origin_request_error(&h, &fw, -EBADMSG);
	request_init(&h, "GET", "", 1, "");
	expect_origin_request_error(&h, &fw, -EBADMSG);
	request_init(&h, "GET /x", "/", 1, "");
	expect_origin_request_error(&h, &fw, -EBADMSG);
	request_init(&h, "", "/", 1, "");
	expect_origin_request_error(&h, &fw, -EBADMSG);
}

/* The proxy's own strings are checked too. */
static void test_origin_request_bad_forward(void **state)
{
	px_head h;
	px_forward fw;

	(void)state;
	request_init(&h, "GET", "/", 1, "");

	fw = forward_default();
	fw.host = "evil.example\r\nX-Evil: 1";
	expect_origin_request_error(&h, &fw, -EINVAL);
	fw.host = "a.example/b";
	expect_origin_request_error(&h, &fw, -EINVAL);
	fw.host = "";
	expect_origin_request_error(&h, &fw, -EINVAL);
	fw.host = NULL;
	expect_origin_request_error(&h, &fw, -EINVAL);

	fw = forward_default();
	fw.origin_path = "prefix";
	expect_origin_request_error(&h, &fw, -EINVAL);
	fw.origin_path = "/pre fix";
	expect_origin_request_error(&h, &fw, -EINVAL);

	fw = forward_default();
	fw.viewer_address = "192.0.2.7\r\nX-Evil: 1";
	expect_origin_request_error(&h, &fw, -EINVAL);

	fw = forward_default();
	fw.via = "1.1 a\nX-Evil: 1";
	expect_origin_request_error(&h, &fw, -EINVAL);

	fw = forward_default();
	fw.request_id = "id\r\n";
	expect_origin_request_error(&h, &fw, -EINVAL);
	fw = forward_default();
	fw.request_id = NULL;
	expect_origin_request_error(&h, &fw, -EINVAL);
	fw = forward_default();
	fw.request_id_header = "X Id";
	expect_origin_request_error(&h, &fw, -EINVAL);

	fw = forward_default();
	fw.chunked = true;
	fw.content_length = 5;
	expect_origin_request_error(&h, &fw, -EINVAL);
	fw.chunked = false;
	fw.content_length = -2;
	expect_origin_request_error(&h, &fw, -EINVAL);
}

static void test_viewer_response_exact(void **state)
{
	px_head h;
	px_buf out;
	px_response_opts o = {
	    .x_cache = "Miss from originaudit",
	    .via = "1.1 originaudit",
	    .http_minor = 1,
	    .keep_alive = true,
	    .content_length = 10,
	};

	(void)state;
	response_init(&h, 200, "OK",
		      "Date: Mon, 01 Jan 2024 00:00:00 GMT\n"
		      "Content-Type: text/html\n"
		      "Content-Length: 10\n"
		      "Connection: keep-alive, X-Hop\n"
		      "X-Hop: 1\n"
		      "Keep-Alive: timeout=5\n"
		      "Proxy-Connection: keep-alive\n"
		      "TE: trailers\n"
		      "Trailer: X-Sum\n"
		      "Upgrade: h2c\n"
		      "Proxy-Authenticate: Basic\n"
		      "Proxy-Authorization: Basic x\n"
		      "x-cache: Hit from upstream\n"
		      "X-Originaudit-Reason: forged_by_origin\n"
		      "Set-Cookie: a=1\n"
		      "Set-Cookie: b=2\n"
		      "Via: 1.1 upstream\n"
		      "ETag: \"abc\"");
	px_buf_init(&out);
	assert_int_equal(px_build_viewer_response(&h, &o, &out), 0);
	assert_string_equal(out.data, "HTTP/1.1 200 OK\r\n"
				      "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
				      "Content-Type: text/html\r\n"
				      "Set-Cookie: a=1\r\n"
				      "Set-Cookie: b=2\r\n"
				      "ETag: \"abc\"\r\n"
				      "Content-Length: 10\r\n"
				      "X-Cache: Miss from originaudit\r\n"
				      "Via: 1.1 upstream, 1.1 originaudit\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n");
	px_buf_free(&out);
}

/* A 204 never carries Content-Length toward the viewer, whatever the origin said (found by
 * fuzzing). */
static void test_viewer_response_204_no_length(void **state)
{
	px_head h;
	px_buf out;
	px_response_opts o = {
	    .x_cache = "Miss from originaudit", .http_minor = 1, .keep_alive = true};

	(void)state;
	response_init(&h, 204, "No Content", "Cache-Control: max-age=60\nContent-Length: 12");
	o.content_length = 12;
	px_buf_init(&out);
	assert_int_equal(px_build_viewer_response(&h, &o, &out), 0);
	assert_string_equal(out.data, "HTTP/1.1 204 No Content\r\n"
				      "Cache-Control: max-age=60\r\n"
				      "X-Cache: Miss from originaudit\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n");
	px_buf_free(&out);
}

static void test_viewer_response_framing(void **state)
{
	px_head h;
	px_buf out;
	px_response_opts o = {.x_cache = "Miss from originaudit", .http_minor = 1};

	(void)state;
	response_init(&h, 404, "Not Here", "Transfer-Encoding: chunked\nContent-Type: a/b");

	/* Chunked, to an HTTP/1.1 viewer, with a request id replacing the origin's. */
	o.chunked = true;
	o.content_length = -1;
	o.keep_alive = true;
	o.request_id_header = "X-Amz-Cf-Id";
	o.request_id = "req-9";
	assert_int_equal(px_head_add(&h, "x-amz-cf-id", 11, "origin-id", 9), 0);
	px_buf_init(&out);
	assert_int_equal(px_build_viewer_response(&h, &o, &out), 0);
	assert_string_equal(out.data, "HTTP/1.1 404 Not Here\r\n"
				      "Content-Type: a/b\r\n"
				      "Transfer-Encoding: chunked\r\n"
				      "X-Cache: Miss from originaudit\r\n"
				      "X-Amz-Cf-Id: req-9\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n");

	/* HTTP/1.0 viewer: no chunked coding, the body runs until close. */
	px_buf_reset(&out);
	o.http_minor = 0;
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EINVAL);
	assert_int_equal(out.len, 0);
	o.chunked = false;
	o.keep_alive = false;
	o.request_id_header = NULL;
	o.x_cache = NULL;
	assert_int_equal(px_build_viewer_response(&h, &o, &out), 0);
	assert_string_equal(out.data, "HTTP/1.0 404 Not Here\r\n"
				      "Content-Type: a/b\r\n"
				      "x-amz-cf-id: origin-id\r\n"
				      "Connection: close\r\n"
				      "\r\n");

	/* HTTP/1.0 viewer kept alive with a length. */
	px_buf_reset(&out);
	o.keep_alive = true;
	o.content_length = 0;
	o.x_cache = "Hit from originaudit";
	response_init(&h, 200, "", "");
	assert_int_equal(px_build_viewer_response(&h, &o, &out), 0);
	assert_string_equal(out.data, "HTTP/1.0 200 OK\r\n"
				      "Content-Length: 0\r\n"
				      "X-Cache: Hit from originaudit\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n");

	/* An unknown status without a reason keeps the empty reason. */
	px_buf_reset(&out);
	o.http_minor = 1;
	o.content_length = -1;
	response_init(&h, 299, "", "");
	assert_int_equal(px_build_viewer_response(&h, &o, &out), 0);
	assert_string_equal(out.data, "HTTP/1.1 299 \r\n"
				      "X-Cache: Hit from originaudit\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n");
	px_buf_free(&out);
}

static void test_viewer_response_injection(void **state)
{
	px_head h;
	px_buf out;
	px_response_opts o = {
	    .x_cache = "Miss from originaudit", .http_minor = 1, .content_length = -1};

	(void)state;
	px_buf_init(&out);
	assert_int_equal(px_buf_append_str(&out, "kept"), 0);

	response_init(&h, 200, "OK\r\nX-Evil: 1", "");
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EBADMSG);
	response_init(&h, 200, "OK", "");
	assert_int_equal(px_head_add(&h, "Set-Cookie", 10, "a=1\r\nX-Evil: 1", 15), 0);
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EBADMSG);
	response_init(&h, 200, "OK", "");
	assert_int_equal(px_head_add(&h, "Bad Name", 8, "v", 1), 0);
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EBADMSG);
	response_init(&h, 99, "Low", "");
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EBADMSG);
	response_init(&h, 1000, "High", "");
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EBADMSG);

	response_init(&h, 200, "OK", "");
	o.x_cache = "Miss\r\nX-Evil: 1";
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EINVAL);
	o.x_cache = NULL;
	o.via = "1.1 a\n";
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EINVAL);
	o.via = NULL;
	o.http_minor = 2;
	assert_int_equal(px_build_viewer_response(&h, &o, &out), -EINVAL);

	assert_string_equal(out.data, "kept");
	assert_int_equal(out.len, 4);
	px_buf_free(&out);
}

static void test_error_response_exact(void **state)
{
	px_buf out;

	(void)state;
	px_buf_init(&out);
	assert_int_equal(
	    px_build_error_response(502, "Error from originaudit", "expired", false, 1, &out), 0);
	assert_string_equal(out.data, "HTTP/1.1 502 Bad Gateway\r\n"
				      "Content-Type: text/plain\r\n"
				      "Content-Length: 16\r\n"
				      "X-Cache: Error from originaudit\r\n"
				      "X-Originaudit-Reason: expired\r\n"
				      "Connection: close\r\n"
				      "\r\n"
				      "502 Bad Gateway\n");

	px_buf_reset(&out);
	assert_int_equal(
	    px_build_error_response(504, "Error from originaudit", NULL, true, 0, &out), 0);
	assert_string_equal(out.data, "HTTP/1.0 504 Gateway Timeout\r\n"
				      "Content-Type: text/plain\r\n"
				      "Content-Length: 20\r\n"
				      "X-Cache: Error from originaudit\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n"
				      "504 Gateway Timeout\n");

	px_buf_reset(&out);
	assert_int_equal(px_build_error_response(400, NULL, NULL, false, 1, &out), 0);
	assert_string_equal(out.data, "HTTP/1.1 400 Bad Request\r\n"
				      "Content-Type: text/plain\r\n"
				      "Content-Length: 16\r\n"
				      "Connection: close\r\n"
				      "\r\n"
				      "400 Bad Request\n");
	px_buf_free(&out);
}

static void test_error_response_statuses(void **state)
{
	static const struct {
		int status;
		const char *reason;
	} cases[] = {
	    {301, "Moved Permanently"},
	    {307, "Temporary Redirect"},
	    {400, "Bad Request"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {408, "Request Timeout"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[64];
		char expected[512];
		px_buf out;

		assert_string_equal(oa_http_status_reason(cases[i].status), cases[i].reason);
		snprintf(body, sizeof(body), "%d %s\n", cases[i].status, cases[i].reason);
		snprintf(expected, sizeof(expected),
			 "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "X-Cache: Error from originaudit\r\nConnection: close\r\n\r\n%s",
			 cases[i].status, cases[i].reason, strlen(body), body);
		px_buf_init(&out);
		assert_int_equal(px_build_error_response(cases[i].status, "Error from originaudit",
							 NULL, false, 1, &out),
				 0);
		assert_string_equal(out.data, expected);
		px_buf_free(&out);
	}
	assert_null(oa_http_status_reason(299));
	assert_null(oa_http_status_reason(0));
}

static void test_error_response_bad_arguments(void **state)
{
	px_buf out;

	(void)state;
	px_buf_init(&out);
	assert_int_equal(px_build_error_response(299, NULL, NULL, false, 1, &out), -EINVAL);
	assert_int_equal(px_build_error_response(502, "Error\r\nX-Evil: 1", NULL, false, 1, &out),
			 -EINVAL);
	assert_int_equal(px_build_error_response(502, NULL, "code\nX-Evil: 1", false, 1, &out),
			 -EINVAL);
	assert_int_equal(px_build_error_response(502, NULL, NULL, false, 2, &out), -EINVAL);
	assert_int_equal(out.len, 0);
	px_buf_free(&out);
}

static void test_redirect_exact(void **state)
{
	px_buf out;

	(void)state;
	px_buf_init(&out);
	assert_int_equal(px_build_redirect(301, "www.example.com", "/a/b?x=1&y=two",
					   "Redirect from originaudit", true, 1, &out),
			 0);
	assert_string_equal(out.data, "HTTP/1.1 301 Moved Permanently\r\n"
				      "Location: https://www.example.com/a/b?x=1&y=two\r\n"
				      "Content-Length: 0\r\n"
				      "X-Cache: Redirect from originaudit\r\n"
				      "Connection: keep-alive\r\n"
				      "\r\n");

	px_buf_reset(&out);
	assert_int_equal(
	    px_build_redirect(307, "[2001:db8::1]:8443", "/form?", NULL, false, 1, &out), 0);
	assert_string_equal(out.data, "HTTP/1.1 307 Temporary Redirect\r\n"
				      "Location: https://[2001:db8::1]:8443/form?\r\n"
				      "Content-Length: 0\r\n"
				      "Connection: close\r\n"
				      "\r\n");

	/* HTTP/1.0; bytes beyond ASCII in the path are percent-encoded; '//' stays a path. */
	px_buf_reset(&out);
	assert_int_equal(px_build_redirect(301, "a.example:8080", "//evil.example/\xc3\xa9?q=%41",
					   "Redirect from originaudit", true, 0, &out),
			 0);
	assert_string_equal(out.data,
			    "HTTP/1.0 301 Moved Permanently\r\n"
			    "Location: https://a.example:8080//evil.example/%C3%A9?q=%41\r\n"
			    "Content-Length: 0\r\n"
			    "X-Cache: Redirect from originaudit\r\n"
			    "Connection: keep-alive\r\n"
			    "\r\n");
	px_buf_free(&out);
}

static void test_redirect_hostile(void **state)
{
	static const char *const hosts[] = {
	    "evil.example\r\nSet-Cookie: x=1",
	    "evil.example\nX: 1",
	    "evil.example/path",
	    "evil.example\\path",
	    "user@evil.example",
	    "a.example@evil.example",
	    "evil.example?x",
	    "evil.example#x",
	    "a b",
	    "",
	    "a.example:",
	    "a.example:x",
	    "a.example:65536",
	    "a.example:123456",
	    "a.example:80:80",
	    ":80",
	    "[2001:db8::1",
	    "[2001:db8::1]x",
	    "[zz::1]",
	    "[]",
	    "[127.0.0.1]",
	    "%65vil.example",
	    "evil.example,good.example",
	    "\"evil\"",
	};
	static const char *const targets[] = {
	    "", "x", "http://evil.example/", "/a b", "/a\r\nX: 1", "/a\t", "/\x7f",
	};
	px_buf out;

	(void)state;
	px_buf_init(&out);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (px_build_redirect(301, hosts[i], "/", NULL, true, 1, &out) != -EINVAL) {
			fail_msg("host \"%s\" accepted", hosts[i]);
		}
	}
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (px_build_redirect(301, "a.example", targets[i], NULL, true, 1, &out) !=
		    -EINVAL) {
			fail_msg("target \"%s\" accepted", targets[i]);
		}
	}
	assert_int_equal(px_build_redirect(302, "a.example", "/", NULL, true, 1, &out), -EINVAL);
	assert_int_equal(px_build_redirect(301, NULL, "/", NULL, true, 1, &out), -EINVAL);
	assert_int_equal(px_build_redirect(301, "a.example", NULL, NULL, true, 1, &out), -EINVAL);
	assert_int_equal(px_build_redirect(301, "a.example", "/", "x\r\n", true, 1, &out), -EINVAL);
	assert_int_equal(px_build_redirect(301, "a.example", "/", NULL, true, 3, &out), -EINVAL);
	assert_int_equal(out.len, 0);

	/* Both cases, digits, '-', '_' and the highest port pass. */
	assert_int_equal(px_build_redirect(301, "A-b_c.9.example:65535", "/", NULL, true, 1, &out),
			 0);
	px_buf_free(&out);
}

struct policy_case {
	oa_viewer_protocol_policy policy;
	const char *method;
	int minor;
	int status;
};

/* Requests over plain HTTP. */
static const struct policy_case policy_cases[] = {
    {OA_VIEWER_ALLOW_ALL, "GET", 1, 0},
    {OA_VIEWER_ALLOW_ALL, "HEAD", 1, 0},
    {OA_VIEWER_ALLOW_ALL, "POST", 1, 0},
    {OA_VIEWER_ALLOW_ALL, "PUT", 1, 0},
    {OA_VIEWER_ALLOW_ALL, "DELETE", 1, 0},
    {OA_VIEWER_ALLOW_ALL, "OPTIONS", 1, 0},
    {OA_VIEWER_ALLOW_ALL, "PATCH", 1, 0},
    {OA_VIEWER_ALLOW_ALL, "GET", 0, 0},
    {OA_VIEWER_ALLOW_ALL, "HEAD", 0, 0},
    {OA_VIEWER_ALLOW_ALL, "POST", 0, 0},
    {OA_VIEWER_ALLOW_ALL, "PUT", 0, 0},
    {OA_VIEWER_ALLOW_ALL, "DELETE", 0, 0},
    {OA_VIEWER_ALLOW_ALL, "OPTIONS", 0, 0},
    {OA_VIEWER_ALLOW_ALL, "PATCH", 0, 0},

    {OA_VIEWER_REDIRECT_TO_HTTPS, "GET", 1, 301},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "HEAD", 1, 301},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "POST", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "PUT", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "DELETE", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "OPTIONS", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "PATCH", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "get", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "GETX", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "HEA", 1, 307},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "GET", 0, 301},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "HEAD", 0, 301},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "POST", 0, 403},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "PUT", 0, 403},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "DELETE", 0, 403},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "OPTIONS", 0, 403},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "PATCH", 0, 403},
    {OA_VIEWER_REDIRECT_TO_HTTPS, "get", 0, 403},

    {OA_VIEWER_HTTPS_ONLY, "GET", 1, 403},
    {OA_VIEWER_HTTPS_ONLY, "HEAD", 1, 403},
    {OA_VIEWER_HTTPS_ONLY, "POST", 1, 403},
    {OA_VIEWER_HTTPS_ONLY, "PUT", 1, 403},
    {OA_VIEWER_HTTPS_ONLY, "DELETE", 1, 403},
    {OA_VIEWER_HTTPS_ONLY, "OPTIONS", 1, 403},
    {OA_VIEWER_HTTPS_ONLY, "PATCH", 1, 403},
    {OA_VIEWER_HTTPS_ONLY, "GET", 0, 403},
    {OA_VIEWER_HTTPS_ONLY, "HEAD", 0, 403},
    {OA_VIEWER_HTTPS_ONLY, "POST", 0, 403},
    {OA_VIEWER_HTTPS_ONLY, "PUT", 0, 403},
    {OA_VIEWER_HTTPS_ONLY, "DELETE", 0, 403},
    {OA_VIEWER_HTTPS_ONLY, "OPTIONS", 0, 403},
    {OA_VIEWER_HTTPS_ONLY, "PATCH", 0, 403},
};

static void test_policy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
		const struct policy_case *c = &policy_cases[i];
		int status = -1;

		assert_int_equal(px_viewer_policy_decision(c->policy, false, c->method,
							   strlen(c->method), c->minor, &status),
				 0);
		if (status != c->status) {
			fail_msg("policy %d %s HTTP/1.%d over HTTP: %d, expected %d", c->policy,
				 c->method, c->minor, status, c->status);
		}

		/* Over TLS every policy serves every request. */
		status = -1;
		assert_int_equal(px_viewer_policy_decision(c->policy, true, c->method,
							   strlen(c->method), c->minor, &status),
				 0);
		if (status != 0) {
			fail_msg("policy %d %s HTTP/1.%d over TLS: %d, expected 0", c->policy,
				 c->method, c->minor, status);
		}
	}
}

static void test_policy_slice(void **state)
{
	int status = -1;

	(void)state;
	/* The method is a slice: "GET" out of "GETAWAY" is GET. */
	assert_int_equal(
	    px_viewer_policy_decision(OA_VIEWER_REDIRECT_TO_HTTPS, false, "GETAWAY", 3, 1, &status),
	    0);
	assert_int_equal(status, 301);
	assert_int_equal(
	    px_viewer_policy_decision(OA_VIEWER_REDIRECT_TO_HTTPS, false, "HEADER", 4, 0, &status),
	    0);
	assert_int_equal(status, 301);
}

static void test_policy_bad_arguments(void **state)
{
	int status = 7;

	(void)state;
	assert_int_equal(px_viewer_policy_decision(OA_VIEWER_ALLOW_ALL, false, NULL, 0, 1, &status),
			 -EINVAL);
	assert_int_equal(
	    px_viewer_policy_decision(OA_VIEWER_ALLOW_ALL, false, "GET", 0, 1, &status), -EINVAL);
	assert_int_equal(
	    px_viewer_policy_decision(OA_VIEWER_ALLOW_ALL, false, "GET", 3, 2, &status), -EINVAL);
	assert_int_equal(
	    px_viewer_policy_decision((oa_viewer_protocol_policy)42, false, "GET", 3, 1, &status),
	    -EINVAL);
	assert_int_equal(status, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_head_model),
	    cmocka_unit_test(test_head_too_many_fields),
	    cmocka_unit_test(test_request_framing),
	    cmocka_unit_test(test_request_framing_bad_version),
	    cmocka_unit_test(test_untrimmed_values),
	    cmocka_unit_test(test_request_host),
	    cmocka_unit_test(test_origin_request_exact),
	    cmocka_unit_test(test_origin_request_minimal),
	    cmocka_unit_test(test_origin_request_hop_by_hop),
	    cmocka_unit_test(test_origin_request_connection_tokens),
	    cmocka_unit_test(test_origin_request_forwarded_for),
	    cmocka_unit_test(test_origin_request_via),
	    cmocka_unit_test(test_origin_request_host),
	    cmocka_unit_test(test_origin_request_origin_path),
	    cmocka_unit_test(test_origin_request_framing),
	    cmocka_unit_test(test_origin_request_injection),
	    cmocka_unit_test(test_origin_request_bad_forward),
	    cmocka_unit_test(test_viewer_response_exact),
	    cmocka_unit_test(test_viewer_response_framing),
	    cmocka_unit_test(test_viewer_response_204_no_length),
	    cmocka_unit_test(test_viewer_response_injection),
	    cmocka_unit_test(test_error_response_exact),
	    cmocka_unit_test(test_error_response_statuses),
	    cmocka_unit_test(test_error_response_bad_arguments),
	    cmocka_unit_test(test_redirect_exact),
	    cmocka_unit_test(test_redirect_hostile),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_policy_slice),
	    cmocka_unit_test(test_policy_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
