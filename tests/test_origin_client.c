/*
 * Tests for the origin HTTP client's parser (proxy/origin_client.h): what it
 * delivers through its callbacks for every framing an origin may use, fed in
 * one piece and byte by byte, and what it refuses. Every outcome is exact:
 * the head's status and fields, the unframed body, keep-alive, the status
 * returned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "origin_client.h"

typedef struct seen {
	int heads;
	int status;
	char server[64];
	px_origin_body_info body_info;
	char body[4096];
	size_t body_len;
	int ends;
	bool keep_alive;
	/* on_head refuses the head. */
	bool refuse;
} seen;

static int on_head(void *data, const px_head *head, const px_origin_body_info *body)
{
	seen *s = data;
	const px_header *server = px_head_find(head, "Server");

	s->heads++;
	s->status = head->status;
	s->body_info = *body;
	if (server != NULL) {
		snprintf(s->server, sizeof(s->server), "%.*s", (int)server->value_len,
			 server->value);
	}
	return s->refuse ? -1 : 0;
}

static void on_body(void *data, const char *at, size_t len)
{
	seen *s = data;

	assert_true(s->body_len + len <= sizeof(s->body));
	memcpy(s->body + s->body_len, at, len);
	s->body_len += len;
}

static void on_end(void *data, bool keep_alive)
{
	seen *s = data;

	s->ends++;
	s->keep_alive = keep_alive;
}

static const px_origin_client_cbs cbs = {on_head, on_body, on_end};

/* Feeds text whole (step 0) or in pieces of step bytes; the status after the last piece. */
static px_origin_status feed(px_origin_client *c, const char *text, size_t step)
{
	size_t len = strlen(text);
	px_origin_status st = PX_ORIGIN_MORE;

	if (step == 0) {
		step = len;
	}
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;

		st = px_origin_client_feed(c, text + off, n);
		if (st != PX_ORIGIN_MORE) {
			/* Nothing is delivered after the end or a refusal. */
			assert_int_equal(off + n, len);
		}
	}
	return st;
}

static void run(const char *text, bool head_request, size_t step, seen *s, px_origin_status want)
{
	px_origin_client c;

	memset(s, 0, sizeof(*s));
	px_origin_client_init(&c);
	px_origin_client_begin(&c, head_request, &cbs, s);
	assert_int_equal(feed(&c, text, step), want);
	px_origin_client_free(&c);
}

static const size_t steps[] = {0, 1, 7};

static void test_content_length(void **state)
{
	seen s;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		run("HTTP/1.1 200 OK\r\nServer: o1\r\nContent-Length: 5\r\n\r\nhello", false,
		    steps[i], &s, PX_ORIGIN_DONE);
		assert_int_equal(s.heads, 1);
		assert_int_equal(s.status, 200);
		assert_string_equal(s.server, "o1");
		assert_true(s.body_info.has_length);
		assert_int_equal(s.body_info.length, 5);
		assert_false(s.body_info.chunked);
		assert_false(s.body_info.none);
		assert_int_equal(s.body_len, 5);
		assert_memory_equal(s.body, "hello", 5);
		assert_int_equal(s.ends, 1);
		assert_true(s.keep_alive);
	}
}

static void test_chunked_unframed(void **state)
{
	seen s;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n",
		    false, steps[i], &s, PX_ORIGIN_DONE);
		assert_true(s.body_info.chunked);
		assert_false(s.body_info.has_length);
		assert_int_equal(s.body_len, 7);
		assert_memory_equal(s.body, "abcdefg", 7);
		assert_int_equal(s.ends, 1);
		assert_true(s.keep_alive);
	}
}

static void test_connection_close_not_kept(void **state)
{
	seen s;

	run("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", false, 0, &s,
	    PX_ORIGIN_DONE);
	assert_int_equal(s.ends, 1);
	assert_false(s.keep_alive);
	run("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false, 0, &s, PX_ORIGIN_DONE);
	assert_false(s.keep_alive);
}

static void test_interim_skipped(void **state)
{
	seen s;

	run("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	    "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
	    false, 1, &s, PX_ORIGIN_DONE);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.status, 201);
	assert_int_equal(s.body_len, 1);
	assert_int_equal(s.ends, 1);
}

static void test_too_many_interim(void **state)
{
	char text[1024] = "";
	seen s;

	for (int i = 0; i < PX_MAX_INTERIM + 1; i++) {
		strcat(text, "HTTP/1.1 100 Continue\r\n\r\n");
	}
	strcat(text, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	run(text, false, 0, &s, PX_ORIGIN_BAD);
	assert_int_equal(s.heads, 0);
	assert_int_equal(s.ends, 0);

	/* Exactly the limit is accepted. */
	text[0] = '\0';
	for (int i = 0; i < PX_MAX_INTERIM; i++) {
		strcat(text, "HTTP/1.1 100 Continue\r\n\r\n");
	}
	strcat(text, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	run(text, false, 0, &s, PX_ORIGIN_DONE);
	assert_int_equal(s.heads, 1);
}

static void test_head_request_no_body(void **state)
{
	seen s;

	/* A response to HEAD ends with its head, whatever Content-Length says. */
	run("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, 0, &s, PX_ORIGIN_DONE);
	assert_true(s.body_info.none);
	assert_true(s.body_info.has_length);
	assert_int_equal(s.body_info.length, 100);
	assert_int_equal(s.body_len, 0);
	assert_int_equal(s.ends, 1);
	/* 204 and 304 carry none either. */
	run("HTTP/1.1 304 Not Modified\r\n\r\n", false, 0, &s, PX_ORIGIN_DONE);
	assert_true(s.body_info.none);
	assert_int_equal(s.ends, 1);
	run("HTTP/1.1 204 No Content\r\n\r\n", false, 0, &s, PX_ORIGIN_DONE);
	assert_true(s.body_info.none);
}

static void test_close_delimited(void **state)
{
	px_origin_client c;
	seen s;

	memset(&s, 0, sizeof(s));
	px_origin_client_init(&c);
	px_origin_client_begin(&c, false, &cbs, &s);
	assert_int_equal(feed(&c, "HTTP/1.1 200 OK\r\n\r\nuntil", 3), PX_ORIGIN_MORE);
	assert_int_equal(feed(&c, " close", 0), PX_ORIGIN_MORE);
	assert_int_equal(s.ends, 0);
	assert_true(px_origin_client_started(&c));
	assert_int_equal(px_origin_client_eof(&c), PX_ORIGIN_DONE);
	assert_int_equal(s.ends, 1);
	assert_false(s.keep_alive);
	assert_int_equal(s.body_len, 11);
	assert_memory_equal(s.body, "until close", 11);
	px_origin_client_free(&c);
}

static void test_truncated_is_bad(void **state)
{
	px_origin_client c;
	seen s;

	/* Content-Length promised more than came: never presented as complete. */
	memset(&s, 0, sizeof(s));
	px_origin_client_init(&c);
	px_origin_client_begin(&c, false, &cbs, &s);
	assert_int_equal(feed(&c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0),
			 PX_ORIGIN_MORE);
	assert_int_equal(px_origin_client_eof(&c), PX_ORIGIN_BAD);
	assert_int_equal(s.ends, 0);
	/* A chunked body cut before its last chunk. */
	px_origin_client_begin(&c, false, &cbs, &s);
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    feed(&c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", 0),
	    PX_ORIGIN_MORE);
	assert_int_equal(px_origin_client_eof(&c), PX_ORIGIN_BAD);
	assert_int_equal(s.ends, 0);
	/* Nothing at all, or half a head. */
	px_origin_client_begin(&c, false, &cbs, &s);
	assert_int_equal(px_origin_client_eof(&c), PX_ORIGIN_BAD);
	px_origin_client_begin(&c, false, &cbs, &s);
	assert_int_equal(feed(&c, "HTTP/1.1 200 OK\r\nContent-Le", 0), PX_ORIGIN_MORE);
	assert_int_equal(px_origin_client_eof(&c), PX_ORIGIN_BAD);
	assert_false(px_origin_client_started(&c));
	px_origin_client_free(&c);
}

static void test_malformed_is_bad(void **state)
{
	seen s;

	run("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", false, 0, &s,
	    PX_ORIGIN_BAD);
	assert_int_equal(s.heads, 0);
	run("garbage\r\n\r\n", false, 0, &s, PX_ORIGIN_BAD);
	run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, 0, &s,
	    PX_ORIGIN_BAD);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.ends, 0);
}

static void test_head_refused(void **state)
{
	px_origin_client c;
	seen s;

	memset(&s, 0, sizeof(s));
	s.refuse = true;
	px_origin_client_init(&c);
	px_origin_client_begin(&c, false, &cbs, &s);
	assert_int_equal(feed(&c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0),
			 PX_ORIGIN_BAD);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.body_len, 0);
	assert_int_equal(s.ends, 0);
	assert_false(px_origin_client_started(&c));
	px_origin_client_free(&c);
}

static void test_bytes_after_end(void **state)
{
	px_origin_client c;
	seen s;

	memset(&s, 0, sizeof(s));
	px_origin_client_init(&c);
	px_origin_client_begin(&c, false, &cbs, &s);
	/* A second response in the same read: the first ends, the rest is not parsed. */
	assert_int_equal(feed(&c,
			      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
			      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nB",
			      0),
			 PX_ORIGIN_DONE);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.body_len, 1);
	assert_int_equal(s.ends, 1);
	/* More bytes after the end are refused (the connection is not reused then). */
	assert_int_equal(px_origin_client_feed(&c, "x", 1), PX_ORIGIN_BAD);
	assert_int_equal(s.ends, 1);
	px_origin_client_free(&c);
}

static void test_reused_for_next_response(void **state)
{
	px_origin_client c;
	seen s;

	px_origin_client_init(&c);
	for (int i = 0; i < 3; i++) {
		char text[128];

		memset(&s, 0, sizeof(s));
		px_origin_client_begin(&c, false, &cbs, &s);
		snprintf(text, sizeof(text),
			 "HTTP/1.1 200 OK\r\nServer: round%d\r\nContent-Length: 1\r\n\r\n%d", i, i);
		assert_int_equal(feed(&c, text, 2), PX_ORIGIN_DONE);
		snprintf(text, sizeof(text), "round%d", i);
		assert_string_equal(s.server, text);
		assert_int_equal(s.body[0], '0' + i);
	}
	px_origin_client_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_chunked_unframed),
	    cmocka_unit_test(test_connection_close_not_kept),
	    cmocka_unit_test(test_interim_skipped),
	    cmocka_unit_test(test_too_many_interim),
	    cmocka_unit_test(test_head_request_no_body),
	    cmocka_unit_test(test_close_delimited),
	    cmocka_unit_test(test_truncated_is_bad),
	    cmocka_unit_test(test_malformed_is_bad),
	    cmocka_unit_test(test_head_refused),
	    cmocka_unit_test(test_bytes_after_end),
	    cmocka_unit_test(test_reused_for_next_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
