/*
 * The origin's response, parsed (origin_client.h). llhttp runs on the bytes
 * as they arrive; its callbacks collect the head and pass body pieces on.
 */
#include <string.h>

#include "origin_client.h"

static llhttp_settings_t settings;
static bool settings_ready;

static int on_status(llhttp_t *p, const char *at, size_t len)
{
	px_origin_client *c = p->data;

	return px_head_collect_first(&c->collect, at, len) < 0 ? -1 : 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
	px_origin_client *c = p->data;

	return px_head_collect_header(&c->collect, at, len, false, PX_MAX_RESPONSE_HEADERS_BYTES) <
		       0
		   ? -1
		   : 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
	px_origin_client *c = p->data;

	return px_head_collect_header(&c->collect, at, len, true, PX_MAX_RESPONSE_HEADERS_BYTES) < 0
		   ? -1
		   : 0;
}

static int on_message_begin(llhttp_t *p)
{
	px_origin_client *c = p->data;

	px_head_collect_reset(&c->collect);
	memset(&c->head, 0, sizeof(c->head));
	return 0;
}

static int on_headers_complete(llhttp_t *p)
{
	px_origin_client *c = p->data;
	int status = p->status_code;
	px_origin_body_info body;

	if (status >= 100 && status < 200) {
		/* Interim responses (100 Continue) are not passed on. */
		return 0;
	}
	c->head.status = status;
	c->head.http_minor = p->http_minor;
	px_head_collect_finish(&c->collect, &c->head, true);
	memset(&body, 0, sizeof(body));
	body.none = c->head_request || status == 204 || status == 304;
	body.has_length = (p->flags & F_CONTENT_LENGTH) != 0;
	body.length = body.has_length ? (unsigned long long)p->content_length : 0;
	body.chunked = (p->flags & F_CHUNKED) != 0;
	if (c->cbs->on_head(c->data, &c->head, &body) < 0) {
		return -1;
	}
	c->started = true;
	/* 1: no body follows a response to HEAD, whatever its head says. */
	return c->head_request ? 1 : 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
	px_origin_client *c = p->data;

	if (c->started) {
		c->cbs->on_body(c->data, at, len);
	}
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	px_origin_client *c = p->data;

	if (!c->started) {
		/* An interim response ended; the real one follows, after a few at most. */
		return ++c->interim > PX_MAX_INTERIM ? -1 : 0;
	}
	c->done = true;
	c->keep_alive = llhttp_should_keep_alive(p) != 0;
	/* Nothing after the response is parsed: the end is delivered once llhttp returns. */
	return HPE_PAUSED;
}

void px_origin_client_init(px_origin_client *c)
{
	memset(c, 0, sizeof(*c));
	px_head_collect_init(&c->collect);
}

void px_origin_client_free(px_origin_client *c)
{
	px_head_collect_free(&c->collect);
}

void px_origin_client_begin(px_origin_client *c, bool head_request, const px_origin_client_cbs *cbs,
			    void *data)
{
	if (!settings_ready) {
		llhttp_settings_init(&settings);
		settings.on_message_begin = on_message_begin;
		settings.on_status = on_status;
		settings.on_header_field = on_header_field;
		settings.on_header_value = on_header_value;
		settings.on_headers_complete = on_headers_complete;
		settings.on_body = on_body;
		settings.on_message_complete = on_message_complete;
		settings_ready = true;
	}
	llhttp_init(&c->parser, HTTP_RESPONSE, &settings);
	c->parser.data = c;
	c->cbs = cbs;
	c->data = data;
	c->head_request = head_request;
	c->started = false;
	c->done = false;
	c->keep_alive = false;
	c->interim = 0;
}

px_origin_status px_origin_client_feed(px_origin_client *c, const char *buf, size_t len)
{
	if (c->done) {
		/* Bytes after a complete response: the connection is not reused. */
		return PX_ORIGIN_BAD;
	}
	llhttp_errno_t err = llhttp_execute(&c->parser, buf, len);

	if (err == HPE_PAUSED && c->done) {
		c->cbs->on_end(c->data, c->keep_alive);
		return PX_ORIGIN_DONE;
	}
	return err == HPE_OK ? PX_ORIGIN_MORE : PX_ORIGIN_BAD;
}

px_origin_status px_origin_client_eof(px_origin_client *c)
{
	if (c->done) {
		return PX_ORIGIN_DONE;
	}
	llhttp_errno_t fin = llhttp_finish(&c->parser);

	/* A close-delimited body ends with the connection: llhttp completes it here. */
	if ((fin == HPE_OK || fin == HPE_PAUSED) && c->done) {
		c->cbs->on_end(c->data, false);
		return PX_ORIGIN_DONE;
	}
	return PX_ORIGIN_BAD;
}

bool px_origin_client_started(const px_origin_client *c)
{
	return c->started;
}
