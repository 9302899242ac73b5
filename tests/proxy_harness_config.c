/*
 * The configuration builders of the proxy test harness (proxy_harness.h):
 * JSON documents in the format the proxy reads (core/config/config_proxy.c), with
 * the test's PKI, listeners on free loopback ports, and timeouts short enough
 * for loopback, written to the test's directory.
 */
#include "proxy_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * {"id", "domain_name": PH_HOST, "addresses": ["127.0.0.1"], ports, policy} with
 * one connection attempt; a port of 0 is left out.
 */
json_t *ph_origin_json(const char *id, unsigned https_port, unsigned http_port, const char *policy)
{
	json_t *o = json_pack("{s:s, s:s, s:[s], s:s, s:i, s:i}", "id", id, "domain_name", PH_HOST,
			      "addresses", "127.0.0.1", "protocol_policy", policy,
			      "connection_attempts", 1, "connection_timeout_s", 5);

	assert_non_null(o);
	if (https_port != 0) {
		json_object_set_new(o, "https_port", json_integer(https_port));
	}
	if (http_port != 0) {
		json_object_set_new(o, "http_port", json_integer(http_port));
	}
	return o;
}

json_t *ph_timing_origin(unsigned https_port, unsigned http_port, const char *policy, int connect_s,
			 int attempts, int read_s)
{
	json_t *o = ph_origin_json("o", https_port, http_port, policy);

	json_object_set_new(o, "connection_timeout_s", json_integer(connect_s));
	json_object_set_new(o, "connection_attempts", json_integer(attempts));
	json_object_set_new(o, "read_timeout_s", json_integer(read_s));
	return o;
}

json_t *ph_behavior(const char *pattern, const char *origin_id, const char *viewer_policy)
{
	json_t *b = json_pack("{s:s, s:s, s:s}", "path_pattern", pattern, "origin", origin_id,
			      "viewer_protocol_policy", viewer_policy);

	assert_non_null(b);
	return b;
}

/*
 * The proxy block: a plain listener, a TLS one when tls, the test root as the
 * only CA. A reload does not change listeners, so while a proxy runs the
 * block keeps its ports: it can go into a rewritten config as it is.
 */
json_t *ph_proxy_block(ph_env *e, bool tls, bool debug, const char *x_cache_name)
{
	json_t *listen = json_array();

	if (e->proxy_pid <= 0) {
		e->port = fx_free_port("127.0.0.1");
		e->tls_port = 0;
	}
	json_array_append_new(
	    listen, json_pack("{s:s, s:i}", "address", "127.0.0.1", "port", (int)e->port));
	if (tls) {
		while (e->tls_port == 0 || e->tls_port == e->port) {
			e->tls_port = fx_free_port("127.0.0.1");
		}
		json_array_append_new(listen,
				      json_pack("{s:s, s:i, s:{s:s, s:s}}", "address", "127.0.0.1",
						"port", (int)e->tls_port, "tls", "certificate",
						e->viewer_cert, "key", e->viewer_key));
	}
	/*
	 * One worker: ph_serving_pid then knows which process forwards (the
	 * streaming tests bound its memory), and per-worker state such as the
	 * cache is a single one.
	 */
	json_t *p = json_pack("{s:o, s:s, s:b, s:i}", "listen", listen, "ca_bundle", e->bundle,
			      "debug_headers", debug, "workers", 1);
	assert_non_null(p);
	if (x_cache_name != NULL) {
		json_object_set_new(p, "x_cache_name", json_string(x_cache_name));
	}
	return p;
}

/* A configuration of origins (array, stolen), behaviours (array or NULL, stolen), a default. */
json_t *ph_config(json_t *origins, json_t *behaviors, const char *default_origin,
		  const char *default_policy, json_t *proxy)
{
	/*
	 * The audit at start probes tarpits too, and ph_start_proxy waits for it:
	 * 1 s scan timeouts (loopback needs far less) keep that wait short.
	 */
	json_t *doc = json_pack("{s:o, s:{s:s, s:s}, s:o, s:{s:i, s:i}}", "origins", origins,
				"default_behavior", "origin", default_origin,
				"viewer_protocol_policy", default_policy, "proxy", proxy, "scan",
				"connect_timeout_ms", 1000, "handshake_timeout_ms", 1000);

	assert_non_null(doc);
	if (behaviors != NULL) {
		json_object_set_new(doc, "behaviors", behaviors);
	}
	return doc;
}

/* While a proxy runs, *admin keeps its port: a rewritten config can reuse it. */
void ph_admin_listener(ph_env *e, json_t *proxy, unsigned *admin)
{
	while (*admin == 0 || *admin == e->port || *admin == e->tls_port) {
		*admin = fx_free_port("127.0.0.1");
	}
	json_object_set_new(proxy, "admin",
			    json_pack("{s:s, s:i}", "address", "127.0.0.1", "port", (int)*admin));
}

/* The default behaviour goes to the only origin, so its id is the default origin. */
json_t *ph_single_config(json_t *origin, json_t *proxy)
{
	json_t *origins = json_pack("[o]", origin);

	assert_non_null(origins);
	const char *id = json_string_value(json_object_get(origin, "id"));
	assert_non_null(id);
	return ph_config(origins, NULL, id, "allow-all", proxy);
}

json_t *ph_good_bad_config(const ph_eo *good, const ph_eo *bad, json_t *proxy)
{
	return ph_config(json_pack("[o, o]",
				   ph_origin_json("good", ph_eo_port(good), 0, "https-only"),
				   ph_origin_json("bad", ph_eo_port(bad), 0, "https-only")),
			 json_pack("[o]", ph_behavior("/bad/*", "bad", "allow-all")), "good",
			 "allow-all", proxy);
}

json_t *ph_listener_of(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(json_object_get(doc, "proxy"), "listen"), i);
}

char *ph_write_config(ph_env *e, json_t *doc)
{
	char name[32];

	snprintf(name, sizeof(name), "config-%u.json", ++e->n_configs);
	char *path = fx_path(e->dir, name);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2)), 0);
	json_decref(doc);
	return path;
}

/*
 * The proxy may read the file at any moment (a SIGHUP sent just before), so
 * it must never see a half-written one: the new text goes to a temporary file
 * in the same directory, renamed over the old one.
 */
void ph_rewrite_config_text(ph_env *e, const char *text)
{
	char *tmp = NULL;

	assert_non_null(e->config);
	assert_true(asprintf(&tmp, "%s.tmp", e->config) > 0);
	fx_write(tmp, text, strlen(text));
	if (rename(tmp, e->config) != 0) {
		fail_msg("rename %s to %s: %s", tmp, e->config, strerror(errno));
	}
	free(tmp);
}

void ph_rewrite_config(ph_env *e, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2));

	assert_non_null(text);
	json_decref(doc);
	ph_rewrite_config_text(e, text);
	free(text);
}
