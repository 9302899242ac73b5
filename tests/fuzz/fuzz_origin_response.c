/*
 * libFuzzer target: bytes as an origin answers, through the real response
 * path of originaudit-proxy: llhttp (strict) on the origin's response, head
 * collection, chunked decoding and trailers, the response framed again toward
 * the viewer, the cache policy and the cache store; then a second viewer asks
 * the same, which a stored response answers from the cache (a hit).
 *
 * Input: byte 0 cuts the origin's bytes into pieces (0: one piece, see
 * pf_send); byte 1 shapes the viewer's request: bit 0 HEAD instead of GET,
 * bit 1 HTTP/1.0, bit 2 a path whose behaviour forwards the Host header; the
 * rest is what the origin sends, after which it closes its side.
 *
 * Besides the harness's oracles (proxy_fuzz.h): what each viewer receives
 * parses with strict llhttp as responses carrying exactly one X-Cache; a hit
 * repeats the status and body of the response it was stored from.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "proxy_fuzz.h"

/* Body bytes compared between the stored response and the hit at most. */
#define BODY_MAX (256 * 1024)

/* What one viewer received, as strict llhttp reads it. */
typedef struct seen {
	pf_peer *peer;
	llhttp_t parser;
	bool head_request;
	int status;
	bool complete;
	bool hit;
	unsigned x_cache;
	char field[16];
	size_t field_len;
	bool field_long;
	bool in_x_cache;
	char value[16];
	size_t value_len;
	char *body;
	size_t body_len;
	bool body_long;
} seen;

static seen seen_by[2];
static llhttp_settings_t viewer_settings;

static void no_answer(pf_peer *origin)
{
	/* A request the cache did not answer: the origin is gone (502). */
	pf_close(origin);
}

static int on_v_begin(llhttp_t *p)
{
	seen *s = p->data;

	s->status = 0;
	s->complete = false;
	s->hit = false;
	s->x_cache = 0;
	s->body_len = 0;
	s->body_long = false;
	return 0;
}

static int on_v_field(llhttp_t *p, const char *at, size_t len)
{
	seen *s = p->data;

	if (s->field_len + len > sizeof(s->field)) {
		s->field_long = true;
		return 0;
	}
	memcpy(s->field + s->field_len, at, len);
	s->field_len += len;
	return 0;
}

static int on_v_field_done(llhttp_t *p)
{
	seen *s = p->data;

	s->in_x_cache =
	    !s->field_long && s->field_len == 7 && strncasecmp(s->field, "X-Cache", 7) == 0;
	s->x_cache += s->in_x_cache;
	s->field_len = 0;
	s->field_long = false;
	s->value_len = 0;
	return 0;
}

static int on_v_value(llhttp_t *p, const char *at, size_t len)
{
	seen *s = p->data;
	size_t room = sizeof(s->value) - s->value_len;
	size_t n = len < room ? len : room;

	memcpy(s->value + s->value_len, at, n);
	s->value_len += n;
	return 0;
}

static int on_v_value_done(llhttp_t *p)
{
	seen *s = p->data;

	if (s->in_x_cache) {
		s->hit = s->value_len >= 9 && memcmp(s->value, "Hit from ", 9) == 0;
	}
	return 0;
}

static int on_v_headers(llhttp_t *p)
{
	seen *s = p->data;

	s->status = p->status_code;
	if (s->x_cache != 1) {
		pf_fail("a viewer got a response with %u X-Cache field(s)", s->x_cache);
	}
	/* A response to HEAD has no body, whatever its head says. */
	return s->head_request ? 1 : 0;
}

static int on_v_body(llhttp_t *p, const char *at, size_t len)
{
	seen *s = p->data;

	if (s->body_long || s->body_len + len > BODY_MAX) {
		s->body_long = true;
		return 0;
	}
	memcpy(s->body + s->body_len, at, len);
	s->body_len += len;
	return 0;
}

static int on_v_complete(llhttp_t *p)
{
	seen *s = p->data;

	s->complete = true;
	return 0;
}

static void viewer_data(pf_peer *viewer, const char *data, size_t len)
{
	seen *s = viewer == seen_by[0].peer ? &seen_by[0] : &seen_by[1];

	if (data == NULL) {
		/* A body that goes until close completes here; a cut one stays incomplete. */
		llhttp_finish(&s->parser);
		return;
	}
	llhttp_errno_t err = llhttp_execute(&s->parser, data, len);
	if (err != HPE_OK) {
		pf_fail("a viewer got what strict llhttp refuses: %s (%s)", llhttp_errno_name(err),
			llhttp_get_error_reason(&s->parser));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pf_init();
	pf_viewer_data = viewer_data;
	llhttp_settings_init(&viewer_settings);
	viewer_settings.on_message_begin = on_v_begin;
	viewer_settings.on_header_field = on_v_field;
	viewer_settings.on_header_field_complete = on_v_field_done;
	viewer_settings.on_header_value = on_v_value;
	viewer_settings.on_header_value_complete = on_v_value_done;
	viewer_settings.on_headers_complete = on_v_headers;
	viewer_settings.on_body = on_v_body;
	viewer_settings.on_message_complete = on_v_complete;
	for (size_t i = 0; i < 2; i++) {
		seen_by[i].body = malloc(BODY_MAX);
		if (seen_by[i].body == NULL) {
			pf_fail("out of memory");
		}
	}
	return 0;
}

static pf_peer *ask(seen *s, const char *request, size_t len, bool head_request)
{
	pf_peer *viewer = pf_viewer_open();

	s->peer = viewer;
	s->head_request = head_request;
	llhttp_init(&s->parser, HTTP_RESPONSE, &viewer_settings);
	s->parser.data = s;
	on_v_begin(&s->parser);
	pf_write_all(viewer, request, len);
	pf_pump();
	return viewer;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char request[160];

	if (size < 2) {
		return 0;
	}
	bool head_request = (data[1] & 1) != 0;
	int len =
	    snprintf(request, sizeof(request), "%s %s HTTP/1.%d\r\nHost: www.example.com\r\n\r\n",
		     head_request ? "HEAD" : "GET",
		     (data[1] & 4) != 0 ? "/fwd/page?id=7" : "/static/app.js?v=2",
		     (data[1] & 2) != 0 ? 0 : 1);
	pf_answer = NULL;
	ask(&seen_by[0], request, (size_t)len, head_request);
	if (pf_origin_count() != 1 || pf_origin_get(0)->requests != 1) {
		pf_fail("the first request did not reach the origin (%zu connection(s))",
			pf_origin_count());
	}
	pf_peer *origin = pf_origin_get(0);
	pf_send(origin, data + 2, size - 2, data[0]);
	if (origin->fd >= 0) {
		shutdown(origin->fd, SHUT_WR);
		pf_pump();
	}
	pf_answer = no_answer;
	ask(&seen_by[1], request, (size_t)len, head_request);
	if (seen_by[1].hit) {
		const seen *a = &seen_by[0];
		const seen *b = &seen_by[1];

		if (!a->complete || a->hit || a->status != b->status ||
		    (!a->body_long && !b->body_long &&
		     (a->body_len != b->body_len || memcmp(a->body, b->body, a->body_len) != 0))) {
			pf_fail(
			    "a cache hit (%d, %zu body byte(s)) differs from the response stored "
			    "(%d, %zu byte(s), %s)",
			    b->status, b->body_len, a->status, a->body_len,
			    a->complete ? "complete" : "incomplete");
		}
	}
	pf_end();
	return 0;
}
