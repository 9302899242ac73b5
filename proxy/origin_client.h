/*
 * The origin's HTTP/1.x response, parsed with llhttp and handed on through
 * callbacks: the final head (interim 1xx responses are skipped, at most
 * PX_MAX_INTERIM of them), the body in pieces as they arrive with the origin's
 * framing removed (Content-Length, chunked, or until close), and the end. It
 * knows nothing of viewers or the cache: the response writer (response.c)
 * consumes what it delivers, as h2o's proxy consumes its http1client.
 */
#ifndef ORIGINAUDIT_PROXY_ORIGIN_CLIENT_H
#define ORIGINAUDIT_PROXY_ORIGIN_CLIENT_H

#include <llhttp.h>
#include <stdbool.h>
#include <stddef.h>

#include "http_head.h"

/* All header fields of an origin's response longer than this: refused (twice a viewer's limit). */
#define PX_MAX_RESPONSE_HEADERS_BYTES (64 * 1024)
/* Interim (1xx) responses accepted before the final one; one more is refused. */
#define PX_MAX_INTERIM 8

/* What the final head says about the body that follows. */
typedef struct px_origin_body_info {
	/* No body follows (a response to HEAD, 204, 304). */
	bool none;
	/* Content-Length was given (and its value). */
	bool has_length;
	unsigned long long length;
	/* Transfer-Encoding: chunked. */
	bool chunked;
} px_origin_body_info;

typedef struct px_origin_client_cbs {
	/* The final response head (head->status, fields, version). 0 goes on, -1 refuses it. */
	int (*on_head)(void *data, const px_head *head, const px_origin_body_info *body);
	/* Body bytes, unframed. */
	void (*on_body)(void *data, const char *at, size_t len);
	/*
	 * The response is complete (called after parsing, never from inside
	 * llhttp); keep_alive: the origin connection may carry another request.
	 */
	void (*on_end)(void *data, bool keep_alive);
} px_origin_client_cbs;

typedef struct px_origin_client {
	llhttp_t parser;
	px_head_collect collect;
	px_head head;
	const px_origin_client_cbs *cbs;
	void *data;
	bool head_request;
	/* The final head was delivered. */
	bool started;
	bool done;
	bool keep_alive;
	unsigned interim;
} px_origin_client;

/* What feeding the client came to. */
typedef enum px_origin_status {
	/* More bytes are needed. */
	PX_ORIGIN_MORE,
	/* The response is complete (on_end was called). */
	PX_ORIGIN_DONE,
	/* Malformed, refused by on_head, or (at the end) truncated. */
	PX_ORIGIN_BAD,
} px_origin_status;

void px_origin_client_init(px_origin_client *c);
void px_origin_client_free(px_origin_client *c);

/* Readies c for the response to one request (head_request: it answers a HEAD). */
void px_origin_client_begin(px_origin_client *c, bool head_request, const px_origin_client_cbs *cbs,
			    void *data);

/* Parses bytes from the origin. */
px_origin_status px_origin_client_feed(px_origin_client *c, const char *buf, size_t len);

/*
 * The origin ended the connection: PX_ORIGIN_DONE when that completes the
 * response (a body delimited by the close; on_end with keep_alive false),
 * PX_ORIGIN_BAD when the response is cut short or never came.
 */
px_origin_status px_origin_client_eof(px_origin_client *c);

/* Whether the final head was delivered. */
bool px_origin_client_started(const px_origin_client *c);

#endif
