/*
 * A small HTTP/1.1 server for the admin and monitoring endpoints (the proxy's
 * admin listener, `originaudit serve`): requests parsed by llhttp, one request
 * per connection, bounded size, time and connections. A handler answers each
 * request at once or later (an on-demand probe), exactly once.
 */
#ifndef ORIGINAUDIT_HTTP_SERVER_H
#define ORIGINAUDIT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oa_http_server oa_http_server;
typedef struct oa_http_request oa_http_request;

typedef struct oa_http_server_opts {
	/* A request (line and headers; bodies are refused) larger than this gets 431; 0: 8192. */
	size_t max_request_bytes;
	/* Reading a request longer than this closes the connection; 0: 10000. */
	unsigned read_timeout_ms;
	/* Connections open at once; one more is closed at once; 0: 256. */
	unsigned max_connections;
	/* Names the listener in errors ("proxy.admin", "--listen"). NULL: "listener". */
	const char *label;
} oa_http_server_opts;

/*
 * Called once per complete request, on the loop. The handler must answer it
 * with oa_http_respond exactly once, now or from a later callback; until
 * then the request stays valid even when the client has gone (the answer is
 * then dropped).
 */
typedef void (*oa_http_handler)(oa_http_request *req, void *data);

/*
 * Listens on address (a numeric IP literal) and port (0: any free port;
 * oa_http_server_port tells which). opts may be NULL. 0 with *out, or a
 * negative errno with err ("LABEL ADDRESS:PORT: address already in use").
 */
int oa_http_server_start(uv_loop_t *loop, const char *address, unsigned port,
			 const oa_http_server_opts *opts, oa_http_handler handler, void *data,
			 oa_http_server **out, oa_error *err);

/* The port the server listens on. */
unsigned oa_http_server_port(const oa_http_server *server);

/*
 * Stops listening; connections being read are closed, requests being
 * answered finish. The server is freed once the last of them is. Accepts
 * NULL.
 */
void oa_http_server_close(oa_http_server *server);

/* "GET", "HEAD", ...; static string. */
const char *oa_http_request_method(const oa_http_request *req);

/* The request target's path, without the query ("/probe"). */
const char *oa_http_request_path(const oa_http_request *req);

/*
 * The value of the query parameter name, percent-decoded ('+' as a space)
 * into buf (size bytes, NUL-terminated). buf, or NULL when the parameter is
 * absent, decodes to a NUL byte or does not fit.
 */
const char *oa_http_request_param(const oa_http_request *req, const char *name, char *buf,
				  size_t size);

/*
 * The client closed or reset its side after sending the request (a
 * half-close counts too: such a client may still read the answer). The
 * handler must call oa_http_respond all the same.
 */
bool oa_http_request_gone(const oa_http_request *req);

/*
 * Answers req (Connection: close, Cache-Control: no-store; no body for HEAD)
 * and releases it: req is invalid after this call. extra_headers (may be
 * NULL) is inserted verbatim, each line ending in CRLF ("Retry-After: 5\r\n").
 */
void oa_http_respond(oa_http_request *req, int status, const char *content_type,
		     const char *extra_headers, const char *body, size_t len);

/* The reason phrase of an HTTP status ("Not Found"), or NULL for one not listed. */
const char *oa_http_status_reason(int status);

#ifdef __cplusplus
}
#endif

#endif
