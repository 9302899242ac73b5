/*
 * The cache's part of an exchange: a fresh GET or HEAD is answered from the
 * cache (X-Cache: Hit, Age); on a miss, a storable response to GET is copied
 * as it streams to the viewer and stored once complete. The key is the
 * viewer's Host with the path and query — never the scheme.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy.h"

static bool has_request_body(const px_exchange *ex)
{
	return ex->req_chunked || ex->req_length > 0;
}

static void update_gauges(px_server *srv)
{
	px_cache_stats st;

	px_cache_stats_get(srv->cache, &st);
	pxm_set_cache_gauge(srv->metrics, srv->worker, st.bytes, st.objects);
}

bool px_cache_serve(px_exchange *ex)
{
	px_server *srv = ex->srv;
	bool head_request = ex->info.method == HTTP_HEAD;
	const char *host = NULL;
	size_t host_len = 0;

	ex->cache_lookup = false;
	ex->caching = false;
	px_buf_reset(&ex->cache_key);
	px_buf_reset(&ex->cache_body);
	/* A request with credentials is answered for that viewer alone: no shared copy. */
	if (srv->cache == NULL || !ex->idempotent || has_request_body(ex) ||
	    px_head_find(&ex->req, "Authorization") != NULL ||
	    px_request_host(&ex->req, &host, &host_len) < 0 || host == NULL) {
		return false;
	}
	if (px_cache_key(host, host_len, ex->req.target, ex->req.target_len, &ex->cache_key) < 0) {
		return false;
	}
	ex->cache_lookup = true;
	time_t now = time(NULL);
	const px_cache_obj *obj =
	    px_cache_get(srv->cache, ex->cache_key.data, ex->cache_key.len, now);
	if (srv->metrics != NULL) {
		pxm_count_cache(srv->metrics, obj != NULL);
		/* A lookup may have dropped a stale object. */
		update_gauges(srv);
	}
	if (obj == NULL) {
		return false;
	}
	px_head head;
	const char *body;
	size_t body_len;
	char xc[96];
	px_response_opts o;
	px_buf out;

	px_cache_obj_head(obj, &head);
	px_cache_obj_body(obj, &body, &body_len);
	memset(&o, 0, sizeof(o));
	snprintf(xc, sizeof(xc), "Hit from %s", ex->gen->config->proxy.x_cache_name);
	o.x_cache = xc;
	o.has_age = true;
	o.age = px_cache_obj_age(obj, now);
	o.http_minor = ex->req.http_minor;
	o.keep_alive = ex->info.keep_alive && !srv->stopping;
	o.content_length = (long long)body_len;
	px_buf_init(&out);
	if (px_build_viewer_response(&head, &o, &out) < 0) {
		px_buf_free(&out);
		return false;
	}
	ex->status = head.status;
	ex->x_cache_kind = "Hit";
	ex->resp_started = true;
	px_down_write(ex, out.data, out.len);
	px_buf_free(&out);
	if (!head_request && head.status != 204 && body_len > 0) {
		px_down_write(ex, body, body_len);
	}
	px_request_log(ex, ex->status, "");
	px__end(ex, o.keep_alive);
	return true;
}

void px_cache_consider(px_exchange *ex, const px_head *resp, bool has_length,
		       unsigned long long length)
{
	px_server *srv = ex->srv;
	long long age = 0;

	ex->caching = false;
	if (!ex->cache_lookup || srv->cache == NULL || ex->info.method != HTTP_GET) {
		return;
	}
	long long lifetime = px_cache_lifetime(resp, time(NULL), &age);
	if (lifetime < 0) {
		return;
	}
	/* The cache keeps one variant per key: a response that varies is not shared. */
	if (px_head_find(resp, "Vary") != NULL) {
		return;
	}
	if (has_length && length > ex->gen->config->proxy.cache_max_object_bytes) {
		/* Too big for the cache: it streams through, uncached. */
		return;
	}
	ex->caching = true;
	ex->cache_lifetime = lifetime;
	ex->cache_age = age;
	px_buf_reset(&ex->cache_body);
}

void px_cache_body(px_exchange *ex, const char *data, size_t len)
{

	if (!ex->caching) {
		return;
	}
	if (ex->cache_body.len + len > ex->gen->config->proxy.cache_max_object_bytes ||
	    px_buf_append(&ex->cache_body, data, len) < 0) {
		/* Grew beyond the object limit: the rest streams, nothing is stored. */
		ex->caching = false;
		px_buf_free(&ex->cache_body);
	}
}

void px_cache_store(px_exchange *ex)
{
	px_server *srv = ex->srv;

	if (!ex->caching || srv->cache == NULL) {
		return;
	}
	ex->caching = false;
	px_cache_put(srv->cache, ex->cache_key.data, ex->cache_key.len, &ex->client.head,
		     ex->cache_body.data, ex->cache_body.len, time(NULL), ex->cache_age,
		     ex->cache_lifetime);
	px_buf_reset(&ex->cache_body);
	if (srv->metrics != NULL) {
		update_gauges(srv);
	}
}
