/*
 * One request answered like CloudFront's edge, the request side: route
 * through the cache behaviours, apply the viewer and origin protocol
 * policies, connect to the origin (reusing a kept-alive connection when one is
 * idle, retrying within the configured attempts), judge its certificate with
 * the core's checks and fail closed with 502, then stream the request body up
 * with backpressure. The response coming down is in proxy/response.c.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "originaudit/names.h"
#include "proxy.h"
#include "route.h"

static void connect_origin(px_exchange *ex);

void px__detach_conn(px_exchange *ex)
{
	if (ex == NULL) {
		return;
	}
	oa_conn *conn = ex->conn;

	ex->conn = NULL;
	oa_conn_close(conn);
}

bool px__retry(px_exchange *ex, bool count_attempt)
{
	bool has_body = ex->req_chunked || ex->req_length > 0;

	if (!ex->idempotent || has_body || ex->resp_started) {
		return false;
	}
	if (count_attempt) {
		if (ex->attempts <= 1) {
			return false;
		}
		ex->attempts--;
	}
	px__detach_conn(ex);
	ex->head_sent = false;
	ex->origin_ready = false;
	ex->reused = false;
	connect_origin(ex);
	return true;
}

static void on_origin_drain(oa_conn *conn, void *data)
{
	px_exchange *ex = data;

	if (ex->active && conn == ex->conn && ex->down != NULL) {
		ex->down->resume(ex->down_ctx);
	}
}

static void on_origin_closed(oa_conn *conn, void *data)
{
	px_exchange *ex = data;

	/* Freed (once released) by the reaper when nothing holds it any more. */
	ex->holds--;
}

/* The request head and the body bytes that arrived before it go up. */
static void write_head(px_exchange *ex)
{

	if (oa_conn_write(ex->conn, ex->head.data, ex->head.len) < 0) {
		px__respond_local(ex, 502, "origin_write_failed");
		return;
	}
	ex->head_sent = true;
	if (ex->early_body.len > 0) {
		oa_conn_write(ex->conn, ex->early_body.data, ex->early_body.len);
		ex->early_body.len = 0;
	}
	px__arm_read_timer(ex);
}

/*
 * A chunked request is held back until it is complete or PX_CHUNKED_HOLD
 * bytes of it are here: a malformed chunk in a request of that size is met
 * before anything reaches the origin. A larger one that goes bad later ends
 * with the origin connection closed before the last chunk, so the origin
 * never sees it complete.
 */
static bool head_may_go(const px_exchange *ex)
{
	return !ex->req_chunked || ex->req_done || ex->early_body.len >= PX_CHUNKED_HOLD;
}

static void send_head_when_due(px_exchange *ex)
{

	if (ex->active && ex->origin_ready && !ex->head_sent && ex->conn != NULL &&
	    head_may_go(ex)) {
		write_head(ex);
	}
}

/* The origin is ready: the head goes (or waits, see head_may_go) and the body may come. */
static void send_request(px_exchange *ex)
{

	px__response_begin(ex);
	ex->origin_ready = true;
	if (head_may_go(ex)) {
		write_head(ex);
		if (!ex->active) {
			return;
		}
	}
	if (!ex->req_done) {
		const px_header *expect = px_head_find(&ex->req, "Expect");
		bool has_body = ex->req_chunked || ex->req_length > 0;

		/* The origin is ready for the body: tell a viewer that waits for it. */
		if (has_body && expect != NULL && ex->req.http_minor >= 1 &&
		    expect->value_len == 12 &&
		    strncasecmp(expect->value, "100-continue", 12) == 0) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			px_down_write(ex, cont, sizeof(cont) - 1);
		}
		if (ex->down != NULL) {
			ex->down->want_body(ex->down_ctx);
		}
	}
}

/* Judges the origin's certificate exactly as the scanner does (cached per chain and names). */
static bool certificate_ok(px_exchange *ex, oa_conn *conn, char *reason, size_t size)
{
	unsigned n = 0;
	const gnutls_datum_t *certs = oa_conn_peer_certs(conn, &n);
	bool cached = false;
	const oa_result *result =
	    px_verify_cached(ex->srv, ex->gen->store, certs, n, ex->names, ex->n_names, &cached);

	ex->verify = cached ? "cached" : "full";

	if (result == NULL) {
		snprintf(reason, size, "bad_certificate");
		return false;
	}
	if (oa_result_verdict(result) < OA_STATUS_FAIL) {
		return true;
	}
	/* A self-signed leaf is named as such, not as the untrusted root it also is. */
	const oa_check *self = oa_result_check(result, OA_CHECK_SELF_SIGNED);
	for (int id = -1; id < OA_CHECK_COUNT; id++) {
		const oa_check *c = id < 0 ? self : oa_result_check(result, (oa_check_id)id);

		if (c->present && c->status == OA_STATUS_FAIL) {
			snprintf(reason, size, "%s", c->reason);
			px_log("%s origin %s (%s port %u, SNI %s): %s: %s", ex->viewer_address,
			       ex->origin->id, ex->address, ex->port, ex->sni, c->reason,
			       c->detail);
			break;
		}
	}
	return false;
}

static void on_origin_ready(oa_conn *conn, int status, void *data)
{
	px_exchange *ex = data;
	char reason[48];

	if (ex == NULL || !ex->active || conn != ex->conn) {
		return;
	}
	if (status < 0) {
		const char *error = oa_conn_error(conn);

		/* The connection closes itself after a failure. */
		ex->conn = NULL;
		px_log("%s origin %s (%s port %u): %s: %s", ex->viewer_address, ex->origin->id,
		       ex->address, ex->port, error, oa_conn_error_detail(conn));
		/* The origin was too slow to connect or to finish the handshake: 504, like
		 * CloudFront. */
		oa_conn_failure failure = oa_conn_failure_of(conn);
		bool timeout =
		    failure == OA_CONN_CONNECT_TIMEOUT || failure == OA_CONN_HANDSHAKE_TIMEOUT;
		if (timeout || failure == OA_CONN_REFUSED || failure == OA_CONN_NETWORK_ERROR) {
			if (px__retry(ex, true)) {
				return;
			}
		}
		snprintf(reason, sizeof(reason), "%s", error);
		px__respond_local(ex, timeout ? 504 : 502, reason);
		return;
	}
	if (ex->https && !certificate_ok(ex, conn, reason, sizeof(reason))) {
		/* Fail closed: nothing but the handshake ever reached this origin. */
		ex->certificate_refused = true;
		px__respond_local(ex, 502, reason);
		return;
	}
	if (ex->https) {
		px_session_put(ex->srv, ex->pool_key, conn);
	}
	send_request(ex);
}

static const oa_conn_cbs origin_cbs = {on_origin_ready, px__on_origin_data, on_origin_drain,
				       on_origin_closed};

static void start_conn(px_exchange *ex)
{
	const oa_origin_config *o = ex->origin;
	oa_conn_opts opts = {
	    .address = ex->address,
	    .port = ex->port,
	    .tls = ex->https,
	    .sni = ex->sni,
	    .versions = o->ssl_protocols,
	    .connect_timeout_ms = o->connection_timeout_s * 1000,
	    .handshake_timeout_ms = o->connection_timeout_s * 1000,
	};

	snprintf(ex->pool_key, sizeof(ex->pool_key), "%s|%s|%u|%s|%s", o->id, ex->address, ex->port,
		 ex->https ? ex->sni : "-", ex->https ? "https" : "http");
	ex->conn = px_pool_take(ex->srv, ex->pool_key);
	if (ex->conn != NULL) {
		ex->reused = true;
		oa_conn_rebind(ex->conn, &origin_cbs, ex);
		ex->holds++;
		send_request(ex);
		return;
	}
	/* TLS session resumption toward the origin: the last session for this key. */
	opts.session_data = ex->https ? px_session_get(ex->srv, ex->pool_key) : NULL;
	if (ex->srv->origin_socket != NULL) {
		opts.fd = ex->srv->origin_socket(ex->srv, ex->srv->origin_socket_arg);
		opts.adopt_fd = opts.fd >= 0;
	}
	if (oa_conn_start(ex->srv->loop, &opts, &origin_cbs, ex, &ex->conn) < 0) {
		ex->conn = NULL;
		px__respond_local(ex, 502, "connect_failed");
		return;
	}
	ex->holds++;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	px_exchange *ex = req->data;
	bool current = ex->active && ex->dns == req;

	free(req);
	ex->holds--;
	if (status == UV_ECANCELED || !current) {
		uv_freeaddrinfo(res);
		return;
	}
	ex->dns = NULL;
	if (status < 0 || res == NULL ||
	    uv_ip_name(res->ai_addr, ex->address, sizeof(ex->address)) != 0) {
		uv_freeaddrinfo(res);
		px__respond_local(ex, 502, "dns_failed");
		return;
	}
	uv_freeaddrinfo(res);
	start_conn(ex);
}

static void connect_origin(px_exchange *ex)
{
	const oa_origin_config *o = ex->origin;

	if (o->n_addresses > 0) {
		/* Attempts rotate through the configured addresses. */
		unsigned used = o->connection_attempts - ex->attempts;

		snprintf(ex->address, sizeof(ex->address), "%s",
			 o->addresses[used % o->n_addresses]);
		start_conn(ex);
		return;
	}
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	uv_getaddrinfo_t *req = malloc(sizeof(*req));
	if (req == NULL) {
		px__respond_local(ex, 502, "dns_failed");
		return;
	}
	req->data = ex;
	if (uv_getaddrinfo(ex->srv->loop, req, on_resolved, o->domain_name, NULL, &hints) < 0) {
		free(req);
		px__respond_local(ex, 502, "dns_failed");
		return;
	}
	/* The lookup holds the exchange until its callback. */
	ex->dns = req;
	ex->holds++;
}

/* The Host header's host part (no port), lower case; false when unusable. */
static bool host_name(const px_header *host, char *out, size_t size)
{
	size_t len = host->value_len;
	const char *colon;
	char buf[OA_NAME_MAX];

	if (len == 0 || len >= size || len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, host->value, len);
	buf[len] = '\0';
	colon = buf[0] == '[' ? NULL : strrchr(buf, ':');
	if (colon != NULL) {
		buf[colon - buf] = '\0';
	}
	return oa_name_normalize(buf, out, NULL) == 0;
}

px_exchange *px_exchange_new(px_server *srv, const px_downstream *down, void *ctx)
{
	px_exchange *ex = calloc(1, sizeof(*ex));

	if (ex == NULL) {
		return NULL;
	}
	ex->srv = srv;
	ex->down = down;
	ex->down_ctx = ctx;
	px_head_collect_init(&ex->req_collect);
	px_buf_init(&ex->cache_key);
	px_buf_init(&ex->cache_body);
	px_buf_init(&ex->head);
	px_buf_init(&ex->early_body);
	px_origin_client_init(&ex->client);
	ex->x_cache_kind = "-";
	ex->verify = "-";
	ex->req_length = -1;
	return ex;
}

static void exchange_free(px_exchange *ex)
{
	px_gen_unref(ex->gen);
	px_head_collect_free(&ex->req_collect);
	px_buf_free(&ex->cache_key);
	px_buf_free(&ex->cache_body);
	px_buf_free(&ex->head);
	px_buf_free(&ex->early_body);
	px_origin_client_free(&ex->client);
	free(ex);
}

void px_exchange_release(px_exchange *ex)
{
	if (ex == NULL || ex->released) {
		return;
	}
	ex->released = true;
	ex->active = false;
	ex->down = NULL;
	ex->next_dead = ex->srv->dead;
	ex->srv->dead = ex;
}

void px_exchange_reap(px_server *srv, bool all)
{
	px_exchange **pp = &srv->dead;

	while (*pp != NULL) {
		px_exchange *ex = *pp;

		if (ex->holds > 0 && !all) {
			pp = &ex->next_dead;
			continue;
		}
		*pp = ex->next_dead;
		exchange_free(ex);
	}
}

void px_exchange_start(px_exchange *ex, const px_request_info *info)
{
	px_head *head = &ex->req;
	long long length = -1;
	bool chunked = false;
	int status = 0;
	char path[PX_MAX_REQUEST_LINE + 1];

	ex->info = *info;
	snprintf(ex->viewer_address, sizeof(ex->viewer_address), "%s",
		 info->client != NULL ? info->client : "-");
	ex->info.client = ex->viewer_address;
	/* This request runs to its end on the configuration current now. */
	ex->gen = px_gen_ref(ex->srv->gen);
	const oa_config *config = ex->gen->config;
	ex->active = true;
	/* The head in its canonical form: request line, "Name: value" lines, blank line. */
	ex->bytes_in = head->method_len + head->target_len + 12 + 2;
	for (size_t i = 0; i < head->n_headers; i++) {
		ex->bytes_in += head->headers[i].name_len + head->headers[i].value_len + 4;
	}
	ex->started_ms = uv_now(ex->srv->loop);
	ex->srv->requests++;
	snprintf(ex->request_id, sizeof(ex->request_id), "%016llx%08llx",
		 (unsigned long long)uv_hrtime(), (unsigned long long)ex->srv->requests);
	if (ex->info.http_major != 1 || ex->info.http_minor > 1) {
		/* HTTP/2.0 (or 3.0, 1.2) over an HTTP/1 connection: only 1.0 and 1.1 are spoken. */
		px__respond_local(ex, 505, "http_version");
		return;
	}
	if (ex->info.method == HTTP_CONNECT) {
		/* No tunnels: CloudFront refuses CONNECT too. */
		px__respond_local(ex, 400, "bad_method");
		return;
	}
	if (px_check_request_framing(head, &length, &chunked) < 0) {
		px__respond_local(ex, 400, "bad_framing");
		return;
	}
	ex->req_length = length;
	ex->req_chunked = chunked;
	if (ex->info.method == HTTP_GET && (chunked || length > 0)) {
		/* CloudFront answers a GET with a body with 403 (its body is never read). */
		px__respond_local(ex, 403, "get_with_body");
		return;
	}
	const px_header *host = px_head_find(head, "Host");
	const char *host_value = NULL;
	size_t host_len = 0;
	if (px_request_host(head, &host_value, &host_len) < 0) {
		px__respond_local(ex, 400, "bad_host");
		return;
	}
	if (head->target_len == 0 || head->target[0] != '/') {
		px__respond_local(ex, 400, "bad_target");
		return;
	}
	snprintf(path, sizeof(path), "%.*s", (int)head->target_len, head->target);
	ex->behavior = oa_config_route(config, path);
	if (ex->behavior == NULL) {
		px__respond_local(ex, 404, "no_behavior");
		return;
	}
	ex->origin = &config->origins[ex->behavior->origin_index];
	if (px_viewer_policy_decision(ex->behavior->viewer_protocol_policy, ex->info.tls,
				      head->method, head->method_len, head->http_minor,
				      &status) < 0) {
		px__respond_local(ex, 400, "bad_method");
		return;
	}
	if (status != 0) {
		px__respond_local(ex, status,
				  status == 403 ? "https_required" : "redirect_to_https");
		return;
	}
	ex->idempotent = ex->info.method == HTTP_GET || ex->info.method == HTTP_HEAD;
	if (px_cache_serve(ex)) {
		return;
	}
	const oa_origin_config *o = ex->origin;
	if (o->s3) {
		px__respond_local(ex, 502, "s3_origin");
		return;
	}
	ex->https = o->protocol_policy == OA_ORIGIN_HTTPS_ONLY ||
		    (o->protocol_policy == OA_ORIGIN_MATCH_VIEWER && ex->info.tls);
	ex->port = ex->https ? o->https_port : o->http_port;
	ex->n_names = 0;
	ex->names[ex->n_names++] = o->domain_name;
	snprintf(ex->host, sizeof(ex->host), "%s", o->domain_name);
	snprintf(ex->sni, sizeof(ex->sni), "%s", o->domain_name);
	if (ex->behavior->forward_host_header && host != NULL) {
		if (!host_name(host, ex->forwarded_host, sizeof(ex->forwarded_host))) {
			px__respond_local(ex, 400, "bad_host");
			return;
		}
		snprintf(ex->host, sizeof(ex->host), "%.*s", (int)host->value_len, host->value);
		snprintf(ex->sni, sizeof(ex->sni), "%s", ex->forwarded_host);
		ex->names[ex->n_names++] = ex->forwarded_host;
	}
	ex->attempts = o->connection_attempts;
	px_forward fw = {
	    .host = ex->host,
	    .origin_path = o->origin_path,
	    .viewer_address = ex->viewer_address,
	    .via = "1.1 originaudit-proxy",
	    .request_id_header = "X-Amz-Cf-Id",
	    .request_id = ex->request_id,
	    .chunked = chunked,
	    .content_length = length,
	};
	if (px_build_origin_request(head, &fw, &ex->head) < 0) {
		px__respond_local(ex, 400, "bad_header");
		return;
	}
	if (length <= 0 && !chunked) {
		/* No body: the request is complete with its head. */
		ex->req_done = true;
	}
	connect_origin(ex);
}

/* Body bytes toward the origin, framed; held until the head has gone. */
static void body_out(px_exchange *ex, const char *data, size_t len)
{

	if (ex->head_sent && ex->conn != NULL) {
		oa_conn_write(ex->conn, data, len);
	} else if (px_buf_append(&ex->early_body, data, len) == 0) {
		send_head_when_due(ex);
	}
}

void px_exchange_body(px_exchange *ex, const char *data, size_t len)
{
	char line[32];

	if (ex == NULL || !ex->active || len == 0) {
		return;
	}
	ex->bytes_in += len;
	if (ex->req_chunked) {
		int n = snprintf(line, sizeof(line), "%zx\r\n", len);

		body_out(ex, line, (size_t)n);
		body_out(ex, data, len);
		body_out(ex, "\r\n", 2);
	} else {
		body_out(ex, data, len);
	}
	if (ex->conn != NULL && ex->head_sent && oa_conn_pending(ex->conn) > PX_HIGH_WATER) {
		px_down_pause(ex);
	}
}

void px_exchange_request_done(px_exchange *ex)
{
	if (ex == NULL || !ex->active) {
		return;
	}
	ex->req_done = true;
	if (ex->req_chunked) {
		body_out(ex, "0\r\n\r\n", 5);
		send_head_when_due(ex);
	}
}

void px_exchange_request_failed(px_exchange *ex, const char *why)
{
	if (ex == NULL || !ex->active) {
		return;
	}
	px_log("%s - malformed request body: %s", ex->viewer_address, why);
	if (!ex->resp_started) {
		px__respond_local(ex, 400, "bad_body");
		return;
	}
	px_request_log(ex, ex->status, "bad_body");
	px_down_abort(ex);
}

void px_exchange_cancel(px_exchange *ex)
{
	if (ex == NULL) {
		return;
	}
	if (ex->dns != NULL) {
		uv_cancel((uv_req_t *)ex->dns);
		ex->dns = NULL;
	}
	ex->active = false;
	px__detach_conn(ex);
}
