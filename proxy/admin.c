/*
 * The admin listener of the supervisor: /metrics, /healthz, /origins, served
 * by the core's small HTTP server (one request per connection, bounded size,
 * time and connections) and answered at once from memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"

static void on_request(oa_http_request *req, void *data)
{
	px_admin *a = data;
	const char *content_type = "text/plain; charset=utf-8";
	px_buf body;

	px_buf_init(&body);
	int status = a->handler(a->data, oa_http_request_method(req), oa_http_request_path(req),
				&body, &content_type);
	oa_http_respond(req, status, content_type, NULL, body.data, body.len);
	px_buf_free(&body);
}

int px_admin_start(px_admin *a, uv_loop_t *loop, const char *address, unsigned port,
		   px_admin_handler handler, void *data, oa_error *err)
{
	oa_http_server_opts opts = {0, 0, 0, "proxy.admin"};
	int rc;

	memset(a, 0, sizeof(*a));
	a->handler = handler;
	a->data = data;
	rc = oa_http_server_start(loop, address, port, &opts, on_request, a, &a->server, err);
	if (rc < 0) {
		return rc;
	}
	a->port = oa_http_server_port(a->server);
	px_log("admin listener on %s port %u", address, a->port);
	return 0;
}

void px_admin_close(px_admin *a)
{
	oa_http_server_close(a->server);
	a->server = NULL;
}
