/*
 * HTTP/1.x message heads for originaudit-proxy, without any I/O: a growable
 * byte buffer, a head model whose header fields point into caller-owned
 * memory, the request smuggling checks, and the writers for the request sent
 * to an origin and for every response sent to a viewer (forwarded, error,
 * redirect), following what CloudFront's edge does.
 *
 * Implemented in three files: proxy/buf.c (px_buf), proxy/http_head.c (the
 * lexical helpers, px_head, the Host and framing checks, px_head_collect) and
 * proxy/http_build.c (the writers and the viewer protocol policy).
 *
 * Errors: -EBADMSG means the viewer's (or origin's) message is unsafe or
 * malformed and must not be forwarded (answer 400, or 502 for an origin
 * response); -EINVAL means an argument chosen by the proxy is invalid;
 * -E2BIG means more than PX_MAX_HEADERS header fields; -ENOMEM is an
 * allocation failure. A writer that fails leaves its output buffer as it was.
 */
#ifndef ORIGINAUDIT_PROXY_HTTP_HEAD_H
#define ORIGINAUDIT_PROXY_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

#include "originaudit/config.h"

/* Header fields kept per message; one more is -E2BIG. */
#define PX_MAX_HEADERS 100

/* A growable byte buffer. data is NUL-terminated after len whenever it is not NULL. */
typedef struct px_buf {
	char *data;
	size_t len;
	size_t cap;
} px_buf;

/* Makes buf empty without allocating. */
void px_buf_init(px_buf *buf);

/* Frees the storage buf owns and makes it empty again; accepts NULL. */
void px_buf_free(px_buf *buf);

/* Drops the contents but keeps the storage for reuse. */
void px_buf_reset(px_buf *buf);

/* Drops the first n bytes (all of them when n >= len). */
void px_buf_consume(px_buf *buf, size_t n);

/* Appends len bytes copied from data; 0 or -ENOMEM (buf unchanged). */
int px_buf_append(px_buf *buf, const void *data, size_t len);

/* Appends the NUL-terminated string s; 0 or -ENOMEM (buf unchanged). */
int px_buf_append_str(px_buf *buf, const char *s);

/* Appends printf-style text; 0, -ENOMEM or -EINVAL (bad format), buf unchanged on error. */
int px_buf_appendf(px_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One header field; name and value point into memory the caller owns. */
typedef struct px_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} px_header;

/*
 * A request or a response head. Every pointer refers to memory the caller
 * owns and keeps alive (typically the parser's arena) while the head is used.
 */
typedef struct px_head {
	/* Request: method and target (origin-form, "/path?query"). */
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	/* Response: status code and reason phrase. */
	int status;
	const char *reason;
	size_t reason_len;
	/* HTTP/1.0 or HTTP/1.1. */
	int http_minor;
	px_header headers[PX_MAX_HEADERS];
	size_t n_headers;
} px_head;

/* Makes head empty (no method, status 0, HTTP/1.1, no headers). */
void px_head_init(px_head *head);

/*
 * Adds one header field, pointing at name and value (not copied). Leading and
 * trailing spaces and tabs of the value are left out of the slice.
 * 0, or -E2BIG when the head already holds PX_MAX_HEADERS fields.
 */
int px_head_add(px_head *head, const char *name, size_t name_len, const char *value,
		size_t value_len);

/* The first field called name (case-insensitive), or NULL; points into head. */
const px_header *px_head_find(const px_head *head, const char *name);

/* How many fields are called name (case-insensitive). */
size_t px_head_count(const px_head *head, const char *name);

/* Whether a field called field lists elem among its comma-separated elements (case-insensitive). */
bool px_head_list_contains(const px_head *head, const char *field, const char *elem,
			   size_t elem_len);

/* Whether the slice [s, s + len) equals the string str, ASCII case ignored (not the locale's). */
bool px_slice_ieq(const char *s, size_t len, const char *str);

/* Narrows the slice [*s, *s + *len) to leave out surrounding spaces and tabs (OWS). */
void px_trim_ows(const char **s, size_t *len);

/* Whether c may appear in an HTTP token (tchar, RFC 9110 5.6.2). */
bool px_is_tchar(char c);

/*
 * The request's Host: exactly one Host field whose value is a host name or IP
 * literal with an optional port. Sets *host and *host_len to a slice of req (an
 * empty slice when HTTP/1.0 sent none). -EBADMSG for a missing Host on
 * HTTP/1.1, two Host fields, or a value that is not a host.
 */
int px_request_host(const px_head *req, const char **host, size_t *host_len);

/*
 * The request body's framing, refusing every smuggling shape: Transfer-Encoding
 * with Content-Length, Transfer-Encoding on HTTP/1.0, any Transfer-Encoding but
 * exactly one "chunked", Content-Length values that differ or are not plain
 * decimal numbers that fit. On 0, *content_length is the length (-1 when
 * absent) and *chunked tells a chunked body; either pointer may be NULL.
 * 0 or -EBADMSG (-EINVAL for an http_minor other than 0 or 1).
 */
int px_check_request_framing(const px_head *req, long long *content_length, bool *chunked);

/*
 * Collects a message head from a parser's callbacks (llhttp hands the start
 * line and each header name and value in pieces, pointing into read buffers
 * that are reused): the bytes go into an arena, then px_head_collect_finish
 * points a px_head's headers into it.
 */
typedef struct px_head_collect {
	px_buf arena;
	/* The request target or the response reason phrase. */
	size_t first_off;
	size_t first_len;
	/* Name offset, name length, value offset, value length of each header. */
	size_t hdr[PX_MAX_HEADERS][4];
	size_t n_hdr;
	bool in_value;
	size_t header_bytes;
	/* The head was finished: later fields are trailers and are not stored. */
	bool sealed;
} px_head_collect;

void px_head_collect_init(px_head_collect *c);
void px_head_collect_free(px_head_collect *c);
/* Starts a new message. */
void px_head_collect_reset(px_head_collect *c);
/* A piece of the target (request) or reason phrase (response). 0 or -ENOMEM. */
int px_head_collect_first(px_head_collect *c, const char *at, size_t len);
/*
 * A piece of a header name (value false) or value (value true). -E2BIG when
 * there would be more than PX_MAX_HEADERS headers or more than max_bytes of
 * header names and values; -EBADMSG for a value before any name; -ENOMEM.
 * After px_head_collect_finish the pieces are trailer fields: they are only
 * counted (toward max_bytes), never stored, so the finished head stays valid.
 */
int px_head_collect_header(px_head_collect *c, const char *at, size_t len, bool value,
			   size_t max_bytes);
/*
 * Points head->headers (and target or reason, per response) into the arena,
 * and seals it: the arena does not change again until px_head_collect_reset.
 */
void px_head_collect_finish(px_head_collect *c, px_head *head, bool response);

/* How a request goes to the origin. The strings are the caller's. */
typedef struct px_forward {
	/* Host toward the origin: origin domain, or the viewer's Host when forwarded. */
	const char *host;
	/* "" (or NULL) or "/prefix", prepended to the target. */
	const char *origin_path;
	/* Appended to X-Forwarded-For; NULL forwards the viewer's list unchanged. */
	const char *viewer_address;
	/* e.g. "1.1 originaudit", appended to the Via list; NULL adds nothing. */
	const char *via;
	/* e.g. "X-Amz-Cf-Id" and its per-request value; a viewer's field of that name is dropped.
	 */
	const char *request_id_header;
	const char *request_id;
	/* The body is forwarded chunked. */
	bool chunked;
	/* >= 0: forwarded with this Content-Length; -1: no body. */
	long long content_length;
} px_forward;

/*
 * Appends to out the HTTP/1.1 request head for the origin: the request line
 * with origin_path prepended to the target, Host from fw, the viewer's fields
 * minus hop-by-hop ones (those of RFC 9110, Proxy-Connection, and every field
 * the viewer's Connection names), minus X-Forwarded-Proto, X-Real-IP, Host and
 * framing fields, then X-Forwarded-For, Via, the request id,
 * "Connection: keep-alive" and the framing from fw. 0, -EBADMSG (a viewer
 * method, target, name or value that could inject: CR, LF or NUL in a value),
 * -EINVAL (an fw field), -ENOMEM.
 */
int px_build_origin_request(const px_head *viewer_req, const px_forward *fw, px_buf *out);

/* How an origin's response goes to the viewer. The strings are the caller's. */
typedef struct px_response_opts {
	/* Replaces any X-Cache from the origin, e.g. "Miss from originaudit"; NULL: none. */
	const char *x_cache;
	/* Appended to the origin's Via list; NULL adds nothing. */
	const char *via;
	/* Optional id field (e.g. "X-Amz-Cf-Id"), replacing the origin's; NULL: none. */
	const char *request_id_header;
	const char *request_id;
	/* An Age field (a response served from the cache; it has no Age of its own). */
	bool has_age;
	long long age;
	/* The viewer's HTTP version: 0 or 1. */
	int http_minor;
	bool keep_alive;
	/* Framing toward the viewer: chunked, content_length >= 0, or neither (until close). */
	bool chunked;
	long long content_length;
} px_response_opts;

/*
 * Appends to out the response head for the viewer: the status line in the
 * viewer's version (the origin's reason, or the standard one when it sent
 * none), the origin's fields minus hop-by-hop and framing fields, framing per
 * o, X-Cache, Via, the id, and Connection per o->keep_alive. 0, -EBADMSG (an
 * origin status, reason, name or value that could inject), -EINVAL (o; chunked
 * toward HTTP/1.0), -ENOMEM.
 */
int px_build_viewer_response(const px_head *origin_resp, const px_response_opts *o, px_buf *out);

/*
 * Appends to out a complete error response: status line, text/plain body
 * "<status> <reason>\n" with its Content-Length, X-Cache (unless NULL), and
 * "X-Originaudit-Reason: <code>" when reason_code is not NULL. The head ends at
 * the first "\r\n\r\n"; an answer to HEAD sends only that far. 0, -EINVAL (a
 * status without a standard reason, a string that could inject), -ENOMEM.
 */
int px_build_error_response(int status, const char *x_cache, const char *reason_code,
			    bool keep_alive, int http_minor, px_buf *out);

/*
 * Appends to out a 301 or 307 to "https://<host><target>" with an empty body.
 * host is used as given (port included); it must be a host name or IP literal
 * with an optional port, and target must start with '/': -EINVAL otherwise, so
 * a hostile Host cannot inject into Location. 0, -EINVAL, -ENOMEM.
 */
int px_build_redirect(int status, const char *host, const char *target, const char *x_cache,
		      bool keep_alive, int http_minor, px_buf *out);

/*
 * What the viewer protocol policy says about a request: *status = 0 (serve),
 * 301 (GET/HEAD over HTTP, redirect-to-https), 307 (another method over
 * HTTP/1.1), 403 (another method over HTTP/1.0 with redirect-to-https; any
 * request over HTTP with https-only). Methods are case-sensitive. 0 or
 * -EINVAL (unknown policy, empty method, http_minor not 0 or 1).
 */
int px_viewer_policy_decision(oa_viewer_protocol_policy policy, bool viewer_tls, const char *method,
			      size_t method_len, int http_minor, int *status);

#endif
