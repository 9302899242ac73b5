/*
 * Tests for the configuration file (include/originaudit/config.h): loading
 * with every default, strict validation naming the JSON path, the CloudFront
 * import, and the lint findings of `originaudit check-config`.
 *
 * JSON written in this file uses single quotes for readability; write_config
 * turns them into double quotes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/verify.h"

static char *tmpdir;

static int group_setup(void **state)
{
	tmpdir = fx_tempdir();
	return 0;
}

static int group_teardown(void **state)
{
	fx_tempdir_remove(tmpdir);
	tmpdir = NULL;
	return 0;
}

/* Writes text (single quotes turned into double quotes) to tmpdir/name; returns the path. */
static char *write_config(const char *name, const char *text)
{
	char *path = fx_path(tmpdir, name);
	char *json = strdup(text);

	assert_non_null(json);
	for (char *p = json; *p != '\0'; p++) {
		if (*p == '\'') {
			*p = '"';
		}
	}
	fx_write(path, json, strlen(json));
	free(json);
	return path;
}

/* Writes text verbatim to tmpdir/name; returns the path. */
static char *write_raw(const char *name, const char *text)
{
	char *path = fx_path(tmpdir, name);

	fx_write(path, text, strlen(text));
	return path;
}

/* Loads text as a configuration; asserts success. */
static oa_config *load_ok(const char *text)
{
	char *path = write_config("ok.json", text);
	oa_config *config = NULL;
	oa_error err;

	oa_error_clear(&err);
	int rc = oa_config_load_file(path, &config, &err);
	if (rc != 0) {
		fail_msg("oa_config_load_file: %d %s", rc, err.msg);
	}
	assert_non_null(config);
	free(path);
	return config;
}

/* Asserts that err reads exactly "PATH: expected" and carries code. */
static void assert_error(int rc, const oa_error *err, int code, const char *path,
			 const char *expected)
{
	char want[OA_ERROR_MSG_MAX + 64];

	snprintf(want, sizeof(want), "%s: %s", path, expected);
	if (rc != code || err->code != code || strcmp(err->msg, want) != 0) {
		fail_msg("expected %d \"%s\"\n     got %d/%d \"%s\"", code, want, rc, err->code,
			 err->msg);
	}
}

/* Loads text and asserts the exact error. */
static void load_fails(const char *text, int code, const char *expected)
{
	char *path = write_config("bad.json", text);
	oa_config *config = (oa_config *)&config;
	oa_error err;

	oa_error_clear(&err);
	int rc = oa_config_load_file(path, &config, &err);
	assert_null(config);
	assert_error(rc, &err, code, path, expected);
	free(path);
}

/* Asserts the defaults of the proxy's process, limit, logging, admin and cache settings. */
static void assert_proxy_operation_defaults(const oa_proxy_config *p)
{
	assert_int_equal(p->workers, 0);
	assert_false(p->has_admin);
	assert_null(p->admin_address);
	assert_int_equal(p->admin_port, 0);
	assert_int_equal(p->audit_interval_s, 300);
	assert_null(p->access_log);
	assert_int_equal(p->max_connections, 10000);
	assert_int_equal(p->idle_timeout_s, 60);
	assert_int_equal(p->drain_timeout_s, 30);
	assert_true(p->cache_max_bytes == 67108864ULL);
	assert_true(p->cache_max_object_bytes == 1048576ULL);
}

/* ---- Loading a valid configuration ---- */

static const char full_config[] =
    "{\n"
    "  'aliases': ['www.example.com', 'Shop.Example.COM.'],\n"
    "  'origins': [\n"
    "    {'id': 'api', 'domain_name': 'API-Origin.Example.com', 'origin_path': '/v1',\n"
    "     'https_port': 8443, 'http_port': 8080, 'protocol_policy': 'match-viewer',\n"
    "     'ssl_protocols': ['TLSv1.2', 'TLSv1.3', 'TLSv1.1'],\n"
    "     'addresses': ['192.0.2.10', '2001:DB8:0::10'],\n"
    "     'connection_timeout_s': 4, 'connection_attempts': 2, 'read_timeout_s': 60,\n"
    "     'keepalive_timeout_s': 20},\n"
    "    {'id': 'web', 'domain_name': 'bücher.example', 'protocol_policy': 'http-only',\n"
    "     'https_port': 443, 'http_port': 80, 'ssl_protocols': ['SSLv3', 'TLSv1']},\n"
    "    {'id': 'plain', 'domain_name': 'plain.example.net', 'protocol_policy': 'https-only'}\n"
    "  ],\n"
    "  'behaviors': [\n"
    "    {'path_pattern': '/api/*', 'origin': 'api', 'viewer_protocol_policy': "
    "'redirect-to-https',\n"
    "     'forward_host_header': true},\n"
    "    {'path_pattern': 'img/*.jpg', 'origin': 'web', 'viewer_protocol_policy': "
    "'https-only',\n"
    "     'forward_host_header': false},\n"
    "    {'path_pattern': '/a-z_0.9$~@:+?&\\'x*', 'origin': 'plain'}\n"
    "  ],\n"
    "  'default_behavior': {'origin': 'web', 'viewer_protocol_policy': 'allow-all',\n"
    "                       'forward_host_header': true},\n"
    "  'scan': {'ca_bundle': '/etc/ssl/roots.pem', 'expiry_warn_days': 45,\n"
    "           'expiry_critical_days': 45, 'concurrency': 200, 'connect_timeout_ms': 2500,\n"
    "           'handshake_timeout_ms': 600000},\n"
    "  'proxy': {'listen': [{'address': '127.0.0.1', 'port': 8080}]}\n"
    "}\n";

static void test_load_full(void **state)
{
	oa_config *c = load_ok(full_config);

	assert_int_equal(c->n_aliases, 2);
	assert_string_equal(c->aliases[0], "www.example.com");
	assert_string_equal(c->aliases[1], "shop.example.com");

	assert_int_equal(c->n_origins, 3);
	const oa_origin_config *o = &c->origins[0];
	assert_string_equal(o->id, "api");
	assert_string_equal(o->domain_name, "api-origin.example.com");
	assert_string_equal(o->origin_path, "/v1");
	assert_int_equal(o->https_port, 8443);
	assert_int_equal(o->http_port, 8080);
	assert_int_equal(o->protocol_policy, OA_ORIGIN_MATCH_VIEWER);
	assert_int_equal(o->ssl_protocols, OA_PROTO_TLS1_1 | OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3);
	assert_int_equal(o->n_addresses, 2);
	assert_string_equal(o->addresses[0], "192.0.2.10");
	/* Stored in canonical form. */
	assert_string_equal(o->addresses[1], "2001:db8::10");
	assert_int_equal(o->connection_timeout_s, 4);
	assert_int_equal(o->connection_attempts, 2);
	assert_int_equal(o->read_timeout_s, 60);
	assert_int_equal(o->keepalive_timeout_s, 20);
	assert_false(o->s3);

	o = &c->origins[1];
	assert_string_equal(o->id, "web");
	/* Internationalised names are kept in A-label form. */
	assert_string_equal(o->domain_name, "xn--bcher-kva.example");
	assert_string_equal(o->origin_path, "");
	assert_int_equal(o->https_port, 443);
	assert_int_equal(o->http_port, 80);
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTP_ONLY);
	assert_int_equal(o->ssl_protocols, OA_PROTO_SSL3 | OA_PROTO_TLS1_0);
	assert_null(o->addresses);
	assert_int_equal(o->n_addresses, 0);

	o = &c->origins[2];
	assert_string_equal(o->id, "plain");
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTPS_ONLY);

	assert_int_equal(c->n_behaviors, 3);
	const oa_behavior_config *b = &c->behaviors[0];
	assert_string_equal(b->path_pattern, "/api/*");
	assert_string_equal(b->origin_id, "api");
	assert_int_equal(b->origin_index, 0);
	assert_int_equal(b->viewer_protocol_policy, OA_VIEWER_REDIRECT_TO_HTTPS);
	assert_true(b->forward_host_header);
	b = &c->behaviors[1];
	/* Stored as written: the leading '/' is optional. */
	assert_string_equal(b->path_pattern, "img/*.jpg");
	assert_string_equal(b->origin_id, "web");
	assert_int_equal(b->origin_index, 1);
	assert_int_equal(b->viewer_protocol_policy, OA_VIEWER_HTTPS_ONLY);
	assert_false(b->forward_host_header);
	b = &c->behaviors[2];
	/* Every character CloudFront allows in a path pattern. */
	assert_string_equal(b->path_pattern, "/a-z_0.9$~@:+?&\"x*");
	assert_int_equal(b->origin_index, 2);
	assert_int_equal(b->viewer_protocol_policy, OA_VIEWER_ALLOW_ALL);
	assert_false(b->forward_host_header);

	assert_true(c->has_default_behavior);
	assert_null(c->default_behavior.path_pattern);
	assert_string_equal(c->default_behavior.origin_id, "web");
	assert_int_equal(c->default_behavior.origin_index, 1);
	assert_int_equal(c->default_behavior.viewer_protocol_policy, OA_VIEWER_ALLOW_ALL);
	assert_true(c->default_behavior.forward_host_header);

	assert_string_equal(c->scan.ca_bundle, "/etc/ssl/roots.pem");
	assert_int_equal(c->scan.expiry_warn_days, 45);
	assert_int_equal(c->scan.expiry_critical_days, 45);
	assert_int_equal(c->scan.concurrency, 200);
	assert_int_equal(c->scan.connect_timeout_ms, 2500);
	assert_int_equal(c->scan.handshake_timeout_ms, 600000);

	assert_true(c->proxy.present);
	assert_int_equal(c->proxy.n_listen, 1);
	assert_string_equal(c->proxy.listen[0].address, "127.0.0.1");
	assert_int_equal(c->proxy.listen[0].port, 8080);
	assert_false(c->proxy.listen[0].tls);
	oa_config_destroy(c);
}

static void test_load_defaults(void **state)
{
	oa_config *c = load_ok("{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}]}");

	assert_int_equal(c->n_aliases, 0);
	assert_null(c->aliases);
	assert_int_equal(c->n_origins, 1);
	const oa_origin_config *o = &c->origins[0];
	assert_string_equal(o->id, "a");
	assert_string_equal(o->domain_name, "a.example.com");
	assert_string_equal(o->origin_path, "");
	assert_int_equal(o->https_port, 443);
	assert_int_equal(o->http_port, 80);
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTPS_ONLY);
	assert_int_equal(o->ssl_protocols, OA_PROTO_TLS1_2);
	assert_null(o->addresses);
	assert_int_equal(o->n_addresses, 0);
	assert_int_equal(o->connection_timeout_s, 10);
	assert_int_equal(o->connection_attempts, 3);
	assert_int_equal(o->read_timeout_s, 30);
	assert_int_equal(o->keepalive_timeout_s, 5);
	assert_false(o->s3);
	assert_int_equal(c->n_behaviors, 0);
	assert_null(c->behaviors);
	assert_false(c->has_default_behavior);
	assert_null(c->scan.ca_bundle);
	/* The default rule, relative to each certificate's lifetime. */
	assert_int_equal(c->scan.expiry_warn_days, OA_POLICY_AUTO);
	assert_int_equal(c->scan.expiry_critical_days, OA_POLICY_AUTO);
	assert_int_equal(c->scan.expiry_warn_percent, 0);
	assert_int_equal(c->scan.concurrency, 64);
	assert_int_equal(c->scan.connect_timeout_ms, 10000);
	assert_int_equal(c->scan.handshake_timeout_ms, 10000);
	/* Without a "proxy" block: nothing to listen on, the defaults in place. */
	assert_false(c->proxy.present);
	assert_null(c->proxy.listen);
	assert_int_equal(c->proxy.n_listen, 0);
	assert_null(c->proxy.ca_bundle);
	assert_string_equal(c->proxy.x_cache_name, "originaudit");
	assert_false(c->proxy.debug_headers);
	assert_proxy_operation_defaults(&c->proxy);
	oa_config_destroy(c);
}

static void test_load_behavior_defaults(void **state)
{
	oa_config *c = load_ok("{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
			       " 'behaviors': [{'path_pattern': '*', 'origin': 'a'}],"
			       " 'default_behavior': {'origin': 'a'}, 'aliases': [],"
			       " 'scan': {}}");

	assert_int_equal(c->n_behaviors, 1);
	assert_string_equal(c->behaviors[0].path_pattern, "*");
	assert_int_equal(c->behaviors[0].viewer_protocol_policy, OA_VIEWER_ALLOW_ALL);
	assert_false(c->behaviors[0].forward_host_header);
	assert_true(c->has_default_behavior);
	assert_int_equal(c->default_behavior.viewer_protocol_policy, OA_VIEWER_ALLOW_ALL);
	assert_false(c->default_behavior.forward_host_header);
	assert_int_equal(c->n_aliases, 0);
	assert_int_equal(c->scan.concurrency, 64);
	oa_config_destroy(c);
}

/* Expiry thresholds as days or as a share of the lifetime, for the scan and per origin. */
static void test_load_expiry_thresholds(void **state)
{
	oa_config *c = load_ok(
	    "{'origins': [{'id': 'a', 'domain_name': 'a.example.com', 'expiry_warn_days': 60,"
	    " 'expiry_critical_days': '5%'}, {'id': 'b', 'domain_name': 'b.example.com'}],"
	    " 'scan': {'expiry_warn_days': '33%', 'expiry_critical_days': 3}}");

	assert_int_equal(c->scan.expiry_warn_days, OA_POLICY_AUTO);
	assert_int_equal(c->scan.expiry_warn_percent, 33);
	assert_int_equal(c->scan.expiry_critical_days, 3);
	assert_int_equal(c->scan.expiry_critical_percent, 0);
	assert_true(c->origins[0].has_expiry_warn);
	assert_int_equal(c->origins[0].expiry_warn_days, 60);
	assert_int_equal(c->origins[0].expiry_warn_percent, 0);
	assert_true(c->origins[0].has_expiry_critical);
	assert_int_equal(c->origins[0].expiry_critical_percent, 5);
	assert_false(c->origins[1].has_expiry_warn);
	assert_false(c->origins[1].has_expiry_critical);
	oa_config_destroy(c);
}

/* Boundary values that are allowed. */
static void test_load_limits(void **state)
{
	oa_config *c = load_ok(
	    "{'origins': [{'id': 'a', 'domain_name': 'a.example.com', 'https_port': 1024,"
	    " 'http_port': 65535, 'connection_timeout_s': 1, 'connection_attempts': 1,"
	    " 'read_timeout_s': 120, 'keepalive_timeout_s': 1, 'addresses': ['::1'],"
	    " 'ssl_protocols': ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']},"
	    " {'id': 'b', 'domain_name': 'b.example.com', 'https_port': 80, 'http_port': 443}],"
	    " 'scan': {'expiry_warn_days': 0, 'expiry_critical_days': 0, 'concurrency': 10000,"
	    " 'connect_timeout_ms': 1, 'handshake_timeout_ms': 1}}");

	assert_int_equal(c->origins[0].https_port, 1024);
	assert_int_equal(c->origins[0].http_port, 65535);
	assert_int_equal(c->origins[0].connection_timeout_s, 1);
	assert_int_equal(c->origins[0].connection_attempts, 1);
	assert_int_equal(c->origins[0].read_timeout_s, 120);
	assert_int_equal(c->origins[0].keepalive_timeout_s, 1);
	assert_int_equal(c->origins[0].ssl_protocols, 0x1f);
	assert_string_equal(c->origins[0].addresses[0], "::1");
	assert_int_equal(c->origins[1].https_port, 80);
	assert_int_equal(c->origins[1].http_port, 443);
	assert_int_equal(c->scan.expiry_warn_days, 0);
	assert_int_equal(c->scan.expiry_critical_days, 0);
	assert_int_equal(c->scan.concurrency, 10000);
	assert_int_equal(c->scan.connect_timeout_ms, 1);
	assert_int_equal(c->scan.handshake_timeout_ms, 1);
	oa_config_destroy(c);
}

/* CloudFront accepts wildcard alternate domain names; they are kept, normalised. */
static void test_load_wildcard_alias(void **state)
{
	oa_config *c = load_ok("{'aliases': ['*.Example.com'],"
			       " 'origins': [{'id': 'a', 'domain_name': 'a.example.com'}]}");

	assert_int_equal(c->n_aliases, 1);
	assert_string_equal(c->aliases[0], "*.example.com");
	oa_config_destroy(c);
}

/* A complete proxy block: a plain and a TLS listener, every key set. */
/*
 * oa_config_load_fd reads from offset 0 whatever the descriptor's offset,
 * names the given path in errors and resolves relative paths against it.
 */
static void test_load_fd(void **state)
{
	char *path =
	    write_config("fd.json", "{'origins': [{'id': 'a', 'domain_name': "
				    "'a.example.com'}], 'proxy': {'listen': [{'address': "
				    "'127.0.0.1', 'port': 8080}], 'access_log': 'logs/a.log'}}");
	char *bad = write_raw("bad-fd.json", "{\"origins\": [\n broken");
	oa_config *config = NULL;
	oa_error err;
	int fd = open(path, O_RDONLY);
	int bad_fd = open(bad, O_RDONLY);
	char want[512];

	assert_true(fd >= 0);
	assert_true(bad_fd >= 0);
	/* Another reader moved the shared offset: still read from the start. */
	assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
	oa_error_clear(&err);
	assert_int_equal(oa_config_load_fd(fd, "/etc/oa/live.json", &config, &err), 0);
	assert_int_equal(config->n_origins, 1);
	assert_string_equal(config->origins[0].id, "a");
	assert_string_equal(config->proxy.access_log, "/etc/oa/logs/a.log");
	oa_config_destroy(config);
	config = NULL;
	assert_true(oa_config_load_fd(bad_fd, "/etc/oa/live.json", &config, &err) < 0);
	assert_null(config);
	snprintf(want, sizeof(want), "/etc/oa/live.json:2:7: invalid token");
	assert_non_null(strstr(err.msg, want));
	close(fd);
	close(bad_fd);
	free(path);
	free(bad);
}

static void test_load_proxy(void **state)
{
	oa_config *c = load_ok(
	    "{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],\n"
	    " 'proxy': {'listen': [{'address': '0.0.0.0', 'port': 80},\n"
	    "                      {'address': '2001:DB8:0:0::1', 'port': 443,\n"
	    "                       'tls': {'certificate': '/etc/oa/viewer.pem',\n"
	    "                               'key': '/etc/oa/private/viewer.key'}}],\n"
	    "           'ca_bundle': '/etc/oa/origin-roots.pem', 'x_cache_name': "
	    "'edge-1.example_net',\n"
	    "           'debug_headers': true, 'workers': 8,\n"
	    "           'admin': {'address': '0:0:0:0:0:0:0:1', 'port': 9090},\n"
	    "           'audit_interval_s': 600, 'access_log': '/var/log/oa/access.log',\n"
	    "           'max_connections': 5000, 'idle_timeout_s': 120, 'drain_timeout_s': 10,\n"
	    "           'cache': {'max_bytes': 1000000, 'max_object_bytes': 4096}}}\n");
	const oa_proxy_config *p = &c->proxy;

	assert_true(p->present);
	assert_int_equal(p->n_listen, 2);
	assert_string_equal(p->listen[0].address, "0.0.0.0");
	assert_int_equal(p->listen[0].port, 80);
	assert_false(p->listen[0].tls);
	assert_null(p->listen[0].certificate);
	assert_null(p->listen[0].key);
	/* Stored in canonical form. */
	assert_string_equal(p->listen[1].address, "2001:db8::1");
	assert_int_equal(p->listen[1].port, 443);
	assert_true(p->listen[1].tls);
	/* Absolute paths are kept as written. */
	assert_string_equal(p->listen[1].certificate, "/etc/oa/viewer.pem");
	assert_string_equal(p->listen[1].key, "/etc/oa/private/viewer.key");
	assert_string_equal(p->ca_bundle, "/etc/oa/origin-roots.pem");
	assert_string_equal(p->x_cache_name, "edge-1.example_net");
	assert_true(p->debug_headers);
	assert_int_equal(p->workers, 8);
	assert_true(p->has_admin);
	/* Stored in canonical form, like the listeners' addresses. */
	assert_string_equal(p->admin_address, "::1");
	assert_int_equal(p->admin_port, 9090);
	assert_int_equal(p->audit_interval_s, 600);
	assert_string_equal(p->access_log, "/var/log/oa/access.log");
	assert_int_equal(p->max_connections, 5000);
	assert_int_equal(p->idle_timeout_s, 120);
	assert_int_equal(p->drain_timeout_s, 10);
	assert_true(p->cache_max_bytes == 1000000ULL);
	assert_true(p->cache_max_object_bytes == 4096ULL);
	oa_config_destroy(c);
}

static void test_load_proxy_defaults(void **state)
{
	oa_config *c = load_ok("{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
			       " 'proxy': {'listen': [{'address': '::', 'port': 8080}]}}");
	const oa_proxy_config *p = &c->proxy;

	assert_true(p->present);
	assert_int_equal(p->n_listen, 1);
	assert_string_equal(p->listen[0].address, "::");
	assert_int_equal(p->listen[0].port, 8080);
	assert_false(p->listen[0].tls);
	assert_null(p->listen[0].certificate);
	assert_null(p->listen[0].key);
	assert_null(p->ca_bundle);
	assert_string_equal(p->x_cache_name, "originaudit");
	assert_false(p->debug_headers);
	assert_proxy_operation_defaults(p);
	oa_config_destroy(c);
}

/* Boundary values that are allowed, and listeners that share only an address or a port. */
static void test_load_proxy_limits(void **state)
{
	oa_config *c = load_ok(
	    "{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
	    " 'proxy': {'listen': [{'address': '127.0.0.1', 'port': 1},"
	    "  {'address': '127.0.0.1', 'port': 65535}, {'address': '127.0.0.2', 'port': 1},"
	    "  {'address': '::ffff:127.0.0.1', 'port': 1}, {'address': '::', 'port': 1}],"
	    " 'x_cache_name': 'ABCDEFGHIJKLMNOPQRSTUVWXYabcdefghijklmnopqrstuvwxyz0123456789._-',"
	    " 'debug_headers': false}}");
	const oa_proxy_config *p = &c->proxy;

	assert_int_equal(p->n_listen, 5);
	assert_int_equal(p->listen[0].port, 1);
	assert_int_equal(p->listen[1].port, 65535);
	assert_string_equal(p->listen[2].address, "127.0.0.2");
	/* An IPv4-mapped address is an IPv6 socket, not a duplicate of 127.0.0.1. */
	assert_string_equal(p->listen[3].address, "::ffff:127.0.0.1");
	assert_string_equal(p->listen[4].address, "::");
	/* Exactly 64 characters, of every kind allowed. */
	assert_int_equal(strlen(p->x_cache_name), 64);
	assert_string_equal(p->x_cache_name,
			    "ABCDEFGHIJKLMNOPQRSTUVWXYabcdefghijklmnopqrstuvwxyz0123456789._-");
	assert_false(p->debug_headers);
	oa_config_destroy(c);
}

/* The lowest value of every proxy setting, an admin listener sharing only an address. */
static void test_load_proxy_operations_low(void **state)
{
	oa_config *c =
	    load_ok("{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
		    " 'proxy': {'listen': [{'address': '127.0.0.1', 'port': 8080}],"
		    "  'workers': 1, 'admin': {'address': '127.0.0.1', 'port': 1},"
		    "  'audit_interval_s': 0, 'max_connections': 1, 'idle_timeout_s': 1,"
		    "  'drain_timeout_s': 0, 'cache': {'max_bytes': 1, 'max_object_bytes': 0}}}");
	const oa_proxy_config *p = &c->proxy;

	assert_int_equal(p->workers, 1);
	assert_true(p->has_admin);
	assert_string_equal(p->admin_address, "127.0.0.1");
	assert_int_equal(p->admin_port, 1);
	/* 0: no periodic audit. */
	assert_int_equal(p->audit_interval_s, 0);
	assert_int_equal(p->max_connections, 1);
	assert_int_equal(p->idle_timeout_s, 1);
	assert_int_equal(p->drain_timeout_s, 0);
	assert_true(p->cache_max_bytes == 1ULL);
	assert_true(p->cache_max_object_bytes == 0ULL);
	assert_null(p->access_log);
	oa_config_destroy(c);
}

/* The highest value of every proxy setting; max_object_bytes may equal max_bytes. */
static void test_load_proxy_operations_high(void **state)
{
	oa_config *c = load_ok(
	    "{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
	    " 'proxy': {'listen': [{'address': '::', 'port': 443}],"
	    "  'workers': 64, 'admin': {'address': '::', 'port': 65535},"
	    "  'audit_interval_s': 86400, 'max_connections': 1000000, 'idle_timeout_s': 3600,"
	    "  'drain_timeout_s': 3600,"
	    "  'cache': {'max_bytes': 1099511627776, 'max_object_bytes': 1099511627776}}}");
	const oa_proxy_config *p = &c->proxy;

	assert_int_equal(p->workers, 64);
	assert_string_equal(p->admin_address, "::");
	assert_int_equal(p->admin_port, 65535);
	assert_int_equal(p->audit_interval_s, 86400);
	assert_int_equal(p->max_connections, 1000000);
	assert_int_equal(p->idle_timeout_s, 3600);
	assert_int_equal(p->drain_timeout_s, 3600);
	assert_true(p->cache_max_bytes == 1099511627776ULL);
	assert_true(p->cache_max_object_bytes == 1099511627776ULL);
	oa_config_destroy(c);
}

struct cache_case {
	const char *cache;
	unsigned long long max_bytes;
	unsigned long long max_object_bytes;
};

/* Accepted "cache" objects and the limits they give. */
static const struct cache_case cache_cases[] = {
    /* Both defaults. */
    {"{}", 67108864ULL, 1048576ULL},
    {"{'max_object_bytes': 67108864}", 67108864ULL, 67108864ULL},
    {"{'max_bytes': 2097152}", 2097152ULL, 1048576ULL},
    /* A cache smaller than the default object limit lowers that limit to its own size. */
    {"{'max_bytes': 1000}", 1000ULL, 1000ULL},
    /* A disabled cache keeps every object limit, the default or a larger one. */
    {"{'max_bytes': 0}", 0ULL, 1048576ULL},
    {"{'max_bytes': 0, 'max_object_bytes': 1099511627776}", 0ULL, 1099511627776ULL},
    {"{'max_object_bytes': 10, 'max_bytes': 10}", 10ULL, 10ULL},
};

static void test_load_proxy_cache(void **state)
{
	char text[512];

	for (size_t i = 0; i < sizeof(cache_cases) / sizeof(cache_cases[0]); i++) {
		const struct cache_case *tc = &cache_cases[i];

		snprintf(text, sizeof(text),
			 "{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
			 " 'proxy': {'listen': [{'address': '127.0.0.1', 'port': 80}],"
			 " 'cache': %s}}",
			 tc->cache);
		oa_config *c = load_ok(text);
		if (c->proxy.cache_max_bytes != tc->max_bytes ||
		    c->proxy.cache_max_object_bytes != tc->max_object_bytes) {
			fail_msg("%s: got %llu/%llu, expected %llu/%llu", tc->cache,
				 c->proxy.cache_max_bytes, c->proxy.cache_max_object_bytes,
				 tc->max_bytes, tc->max_object_bytes);
		}
		oa_config_destroy(c);
	}
}

static const char relative_paths_config[] =
    "{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
    " 'scan': {'ca_bundle': 'roots.pem'},"
    " 'proxy': {'listen': [{'address': '127.0.0.1', 'port': 80},"
    "  {'address': '127.0.0.1', 'port': 443, 'tls': {'certificate': './tls/viewer.pem',"
    "   'key': '../keys/viewer.key'}},"
    "  {'address': '::1', 'port': 443, 'tls': {'certificate': '/srv/viewer.pem',"
    "   'key': 'viewer.key'}}],"
    " 'ca_bundle': 'origin roots.pem', 'access_log': 'logs/access.log'}}";

/* Relative paths name files next to the configuration file, for the scanner and the proxy. */
static void test_relative_paths(void **state)
{
	char *dir = fx_path(tmpdir, "conf");
	char *sub = fx_path(dir, "oa.d");
	char want[4096];

	assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
	assert_true(mkdir(sub, 0700) == 0 || errno == EEXIST);
	char *path = fx_path(sub, "relative.json");
	free(write_config("conf/oa.d/relative.json", relative_paths_config));

	oa_config *c = NULL;
	oa_error err;
	oa_error_clear(&err);
	if (oa_config_load_file(path, &c, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	snprintf(want, sizeof(want), "%s/roots.pem", sub);
	assert_string_equal(c->scan.ca_bundle, want);
	snprintf(want, sizeof(want), "%s/origin roots.pem", sub);
	assert_string_equal(c->proxy.ca_bundle, want);
	assert_null(c->proxy.listen[0].certificate);
	assert_null(c->proxy.listen[0].key);
	/* Joined as written: "./" and "../" are left for the file system. */
	snprintf(want, sizeof(want), "%s/./tls/viewer.pem", sub);
	assert_string_equal(c->proxy.listen[1].certificate, want);
	snprintf(want, sizeof(want), "%s/../keys/viewer.key", sub);
	assert_string_equal(c->proxy.listen[1].key, want);
	assert_string_equal(c->proxy.listen[2].certificate, "/srv/viewer.pem");
	snprintf(want, sizeof(want), "%s/viewer.key", sub);
	assert_string_equal(c->proxy.listen[2].key, want);
	snprintf(want, sizeof(want), "%s/logs/access.log", sub);
	assert_string_equal(c->proxy.access_log, want);
	oa_config_destroy(c);
	free(path);
	free(sub);
	free(dir);
}

/* A configuration file named relative to the current directory gives paths relative to it. */
static void test_relative_paths_cwd(void **state)
{
	char cwd[4096];
	char *dir = fx_path(tmpdir, "conf");
	oa_config *here = NULL;
	oa_config *below = NULL;
	oa_error err1;
	oa_error err2;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
	free(write_config("cwd.json", relative_paths_config));
	free(write_config("conf/cwd.json", relative_paths_config));
	/* Both loads happen before any assertion, so a failure cannot leave the directory changed.
	 */
	assert_int_equal(chdir(tmpdir), 0);
	int rc1 = oa_config_load_file("cwd.json", &here, &err1);
	int rc2 = oa_config_load_file("conf/cwd.json", &below, &err2);
	assert_int_equal(chdir(cwd), 0);
	if (rc1 != 0 || rc2 != 0) {
		fail_msg("%s", rc1 != 0 ? err1.msg : err2.msg);
	}

	/* No directory in the name: the paths stay as written. */
	assert_string_equal(here->scan.ca_bundle, "roots.pem");
	assert_string_equal(here->proxy.ca_bundle, "origin roots.pem");
	assert_string_equal(here->proxy.listen[1].certificate, "./tls/viewer.pem");
	assert_string_equal(here->proxy.listen[1].key, "../keys/viewer.key");
	assert_string_equal(here->proxy.listen[2].certificate, "/srv/viewer.pem");
	assert_string_equal(here->proxy.listen[2].key, "viewer.key");
	assert_string_equal(here->proxy.access_log, "logs/access.log");

	assert_string_equal(below->scan.ca_bundle, "conf/roots.pem");
	assert_string_equal(below->proxy.ca_bundle, "conf/origin roots.pem");
	assert_string_equal(below->proxy.listen[1].certificate, "conf/./tls/viewer.pem");
	assert_string_equal(below->proxy.listen[1].key, "conf/../keys/viewer.key");
	assert_string_equal(below->proxy.listen[2].certificate, "/srv/viewer.pem");
	assert_string_equal(below->proxy.listen[2].key, "conf/viewer.key");
	assert_string_equal(below->proxy.access_log, "conf/logs/access.log");
	oa_config_destroy(here);
	oa_config_destroy(below);
	free(dir);
}

/* "-" is standard output, not a file next to the configuration; absolute paths are kept. */
static void test_access_log_paths(void **state)
{
	static const char *const logs[] = {"-", "/var/log/oa/access.log", "./-"};
	char *dir = fx_path(tmpdir, "logconf");
	char text[256];
	char want[4096];

	assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
	char *path = fx_path(dir, "log.json");
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		snprintf(text, sizeof(text),
			 "{'origins': [{'id': 'a', 'domain_name': 'a.example.com'}],"
			 " 'proxy': {'listen': [{'address': '127.0.0.1', 'port': 80}],"
			 " 'access_log': '%s'}}",
			 logs[i]);
		free(write_config("logconf/log.json", text));

		oa_config *c = NULL;
		oa_error err;
		oa_error_clear(&err);
		if (oa_config_load_file(path, &c, &err) != 0) {
			fail_msg("%s", err.msg);
		}
		if (logs[i][0] == '.') {
			/* A file really named "-" is written "./-" and resolved like any other. */
			snprintf(want, sizeof(want), "%s/./-", dir);
			assert_string_equal(c->proxy.access_log, want);
		} else {
			assert_string_equal(c->proxy.access_log, logs[i]);
		}
		oa_config_destroy(c);
	}
	free(path);
	free(dir);
}

static void test_from_json(void **state)
{
	json_error_t jerr;
	json_t *root =
	    json_loads("{\"origins\": [{\"id\": \"a\", \"domain_name\": \"A.test\"}],"
		       " \"scan\": {\"ca_bundle\": \"roots.pem\"},"
		       " \"proxy\": {\"listen\": [{\"address\": \"::1\", \"port\": 8443, \"tls\":"
		       " {\"certificate\": \"tls/viewer.pem\", \"key\": \"../viewer.key\"}}],"
		       " \"ca_bundle\": \"./origin-roots.pem\", \"access_log\": \"access.log\"}}",
		       0, &jerr);
	oa_config *c = NULL;
	oa_error err;

	assert_non_null(root);
	oa_error_clear(&err);
	assert_int_equal(oa_config_from_json(root, "inline", &c, &err), 0);
	assert_string_equal(c->origins[0].domain_name, "a.test");
	/* Nothing refers to the document, and without a file, paths are kept as written. */
	json_decref(root);
	assert_string_equal(c->scan.ca_bundle, "roots.pem");
	assert_true(c->proxy.present);
	assert_string_equal(c->proxy.listen[0].address, "::1");
	assert_string_equal(c->proxy.listen[0].certificate, "tls/viewer.pem");
	assert_string_equal(c->proxy.listen[0].key, "../viewer.key");
	assert_string_equal(c->proxy.ca_bundle, "./origin-roots.pem");
	assert_string_equal(c->proxy.access_log, "access.log");
	oa_config_destroy(c);

	root = json_pack("{s:[{s:i}]}", "origins", "id", 3);
	c = (oa_config *)&c;
	int rc = oa_config_from_json(root, "inline", &c, &err);
	assert_null(c);
	assert_error(rc, &err, -EINVAL, "inline",
		     "origins[0].id: expected a string, got an integer");
	json_decref(root);

	root = json_string("x");
	rc = oa_config_from_json(root, "inline", &c, &err);
	assert_error(rc, &err, -EINVAL, "inline",
		     "expected an object at the top level, got a string");
	json_decref(root);

	oa_config_destroy(NULL);
}

static void test_proto_name(void **state)
{
	assert_string_equal(oa_proto_name(OA_PROTO_SSL3), "SSLv3");
	assert_string_equal(oa_proto_name(OA_PROTO_TLS1_0), "TLSv1");
	assert_string_equal(oa_proto_name(OA_PROTO_TLS1_1), "TLSv1.1");
	assert_string_equal(oa_proto_name(OA_PROTO_TLS1_2), "TLSv1.2");
	assert_string_equal(oa_proto_name(OA_PROTO_TLS1_3), "TLSv1.3");
	assert_null(oa_proto_name(0));
	assert_null(oa_proto_name(OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3));
	assert_null(oa_proto_name(1u << 5));
}

/* ---- Validation errors: one case per row, each asserting the exact message ---- */

struct invalid_case {
	const char *name;
	const char *json;
	const char *message;
};

/* One valid origin, to complete documents whose point is elsewhere. */
#define ORIGIN_A "{'id': 'a', 'domain_name': 'a.example.com'}"
#define ORIGIN_WITH(extra) "{'origins': [{'id': 'a', 'domain_name': 'a.example.com', " extra "}]}"
#define WITH_ORIGIN(extra) "{'origins': [" ORIGIN_A "], " extra "}"
#define X16 "xxxxxxxxxxxxxxxx"
#define X256 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16
/* A proxy block around body, and a valid listener for documents whose point is elsewhere. */
#define PROXY(body) WITH_ORIGIN("'proxy': {" body "}")
#define LISTEN_A "{'address': '127.0.0.1', 'port': 8080}"
#define LISTEN_WITH(extra) "'listen': [{'address': '127.0.0.1', 'port': 8080, " extra "}]"
/* A proxy block with one valid listener and body. */
#define PROXY_WITH(body) PROXY("'listen': [" LISTEN_A "], " body)

static const struct invalid_case invalid_cases[] = {
    {"top_unknown_key", WITH_ORIGIN("'foo': 1"), "unknown key \"foo\" at the top level"},
    {"top_not_object", "[1, 2]", "expected an object at the top level, got an array"},
    {"origins_missing", "{}", "origins: expected a non-empty array"},
    {"origins_empty", "{'origins': []}", "origins: expected a non-empty array"},
    {"origins_not_array", "{'origins': {'id': 'a'}}", "origins: expected a non-empty array"},
    {"origin_not_object", "{'origins': ['a.example.com']}",
     "origins[0]: expected an object, got a string"},
    {"origin_unknown_key",
     "{'origins': [" ORIGIN_A ", {'id': 'b', 'domain_name': 'b.test', 'foo': 1}]}",
     "origins[1]: unknown key \"foo\""},
    {"origin_id_missing", "{'origins': [{'domain_name': 'a.example.com'}]}",
     "origins[0]: missing required key \"id\""},
    {"origin_id_empty", "{'origins': [{'id': '', 'domain_name': 'a.example.com'}]}",
     "origins[0].id: must not be empty"},
    {"origin_id_not_string", "{'origins': [{'id': 7, 'domain_name': 'a.example.com'}]}",
     "origins[0].id: expected a string, got an integer"},
    {"origin_id_duplicate",
     "{'origins': [{'id': 'api', 'domain_name': 'a.test'}, {'id': 'web', 'domain_name': "
     "'b.test'}, {'id': 'img', 'domain_name': 'c.test'}, {'id': 'api', 'domain_name': "
     "'d.test'}]}",
     "origins[3].id: duplicate id \"api\""},
    {"domain_missing", "{'origins': [{'id': 'a'}]}",
     "origins[0]: missing required key \"domain_name\""},
    {"domain_empty", "{'origins': [{'id': 'a', 'domain_name': ''}]}",
     "origins[0].domain_name: must not be empty"},
    {"domain_invalid", "{'origins': [{'id': 'a', 'domain_name': 'bad name.example.com'}]}",
     "origins[0].domain_name: host name 'bad name.example.com' has a character that is not a "
     "letter, digit, '-', '_' or '.'"},
    {"domain_not_string", "{'origins': [{'id': 'a', 'domain_name': ['a.test']}]}",
     "origins[0].domain_name: expected a string, got an array"},
    {"origin_path_relative", ORIGIN_WITH("'origin_path': 'api'"),
     "origins[0].origin_path: \"api\" must start with '/'"},
    {"origin_path_trailing_slash", ORIGIN_WITH("'origin_path': '/api/'"),
     "origins[0].origin_path: \"/api/\" must not end with '/'"},
    {"origin_path_slash_only", ORIGIN_WITH("'origin_path': '/'"),
     "origins[0].origin_path: \"/\" must not end with '/'"},
    {"origin_path_space", ORIGIN_WITH("'origin_path': '/a b'"),
     "origins[0].origin_path: \"/a b\" must not contain spaces"},
    {"origin_id_control_character",
     "{'origins': [{'id': 'a\\nb', 'domain_name': 'a.example.com'}]}",
     "origins[0].id: \"a\\x0ab\" contains a control character"},
    {"origin_unknown_key_escaped", ORIGIN_WITH("'\\\"x\\ty': 1"),
     "origins[0]: unknown key \"\\\"x\\x09y\""},
    {"https_port_not_allowed", ORIGIN_WITH("'https_port': 444"),
     "origins[0].https_port: 444 is not allowed: use 80, 443 or 1024-65535"},
    {"https_port_1023", ORIGIN_WITH("'https_port': 1023"),
     "origins[0].https_port: 1023 is not allowed: use 80, 443 or 1024-65535"},
    {"http_port_zero", ORIGIN_WITH("'http_port': 0"),
     "origins[0].http_port: 0 is not allowed: use 80, 443 or 1024-65535"},
    {"http_port_65536", ORIGIN_WITH("'http_port': 65536"),
     "origins[0].http_port: 65536 is not allowed: use 80, 443 or 1024-65535"},
    {"https_port_negative", ORIGIN_WITH("'https_port': -443"),
     "origins[0].https_port: -443 is not allowed: use 80, 443 or 1024-65535"},
    {"https_port_string", ORIGIN_WITH("'https_port': '443'"),
     "origins[0].https_port: expected an integer, got a string"},
    {"https_port_real", ORIGIN_WITH("'https_port': 443.0"),
     "origins[0].https_port: expected an integer, got a real number"},
    {"protocol_policy_unknown",
     "{'origins': [" ORIGIN_A ", {'id': 'b', 'domain_name': 'b.test'}, {'id': 'c', "
     "'domain_name': 'c.test', 'protocol_policy': 'https'}]}",
     "origins[2].protocol_policy: expected http-only, https-only or match-viewer, got "
     "\"https\""},
    {"protocol_policy_case", ORIGIN_WITH("'protocol_policy': 'HTTPS-only'"),
     "origins[0].protocol_policy: expected http-only, https-only or match-viewer, got "
     "\"HTTPS-only\""},
    {"protocol_policy_not_string", ORIGIN_WITH("'protocol_policy': null"),
     "origins[0].protocol_policy: expected http-only, https-only or match-viewer, got null"},
    {"ssl_protocols_empty", ORIGIN_WITH("'ssl_protocols': []"),
     "origins[0].ssl_protocols: expected a non-empty array"},
    {"ssl_protocols_not_array", ORIGIN_WITH("'ssl_protocols': 'TLSv1.2'"),
     "origins[0].ssl_protocols: expected a non-empty array"},
    {"ssl_protocols_unknown", ORIGIN_WITH("'ssl_protocols': ['TLSv1.2', 'TLSv1.4']"),
     "origins[0].ssl_protocols[1]: expected SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3, got "
     "\"TLSv1.4\""},
    {"ssl_protocols_duplicate", ORIGIN_WITH("'ssl_protocols': ['TLSv1.2', 'TLSv1.2']"),
     "origins[0].ssl_protocols[1]: duplicate \"TLSv1.2\""},
    {"addresses_empty", ORIGIN_WITH("'addresses': []"),
     "origins[0].addresses: expected a non-empty array of IP addresses"},
    {"addresses_not_array", ORIGIN_WITH("'addresses': '192.0.2.1'"),
     "origins[0].addresses: expected a non-empty array of IP addresses"},
    {"addresses_host_name", ORIGIN_WITH("'addresses': ['192.0.2.1', 'origin.example.com']"),
     "origins[0].addresses[1]: \"origin.example.com\" is not a numeric IPv4 or IPv6 address"},
    {"addresses_with_port", ORIGIN_WITH("'addresses': ['192.0.2.1:443']"),
     "origins[0].addresses[0]: \"192.0.2.1:443\" is not a numeric IPv4 or IPv6 address"},
    {"ip_address_type_unknown", ORIGIN_WITH("'ip_address_type': 'IPv4'"),
     "origins[0].ip_address_type: expected ipv4, ipv6 or dualstack, got \"IPv4\""},
    {"ip_address_type_not_string", ORIGIN_WITH("'ip_address_type': 4"),
     "origins[0].ip_address_type: expected ipv4, ipv6 or dualstack, got an integer"},
    {"ip_address_type_v6_with_v4_address",
     ORIGIN_WITH("'ip_address_type': 'ipv6', 'addresses': ['2001:db8::1', '127.0.0.1']"),
     "origins[0].addresses[1]: 127.0.0.1 is an IPv4 address, but ip_address_type is ipv6 "
     "(CloudFront connects over IPv6 only)"},
    {"ip_address_type_v4_with_v6_address",
     ORIGIN_WITH("'addresses': ['::1'], 'ip_address_type': 'ipv4'"),
     "origins[0].addresses[0]: ::1 is an IPv6 address, but ip_address_type is ipv4 "
     "(CloudFront connects over IPv4 only)"},
    {"addresses_duplicate", ORIGIN_WITH("'addresses': ['2001:db8::10', '2001:DB8:0:0::10']"),
     "origins[0].addresses[1]: duplicate address 2001:db8::10"},
    {"connection_timeout_high", ORIGIN_WITH("'connection_timeout_s': 11"),
     "origins[0].connection_timeout_s: 11 is out of range 1-10"},
    {"connection_timeout_zero", ORIGIN_WITH("'connection_timeout_s': 0"),
     "origins[0].connection_timeout_s: 0 is out of range 1-10"},
    {"connection_timeout_real", ORIGIN_WITH("'connection_timeout_s': 10.0"),
     "origins[0].connection_timeout_s: expected an integer, got a real number"},
    {"connection_timeout_string", ORIGIN_WITH("'connection_timeout_s': '10'"),
     "origins[0].connection_timeout_s: expected an integer, got a string"},
    {"connection_attempts_high", ORIGIN_WITH("'connection_attempts': 4"),
     "origins[0].connection_attempts: 4 is out of range 1-3"},
    {"read_timeout_high", ORIGIN_WITH("'read_timeout_s': 121"),
     "origins[0].read_timeout_s: 121 is out of range 1-120"},
    {"keepalive_timeout_zero", ORIGIN_WITH("'keepalive_timeout_s': 0"),
     "origins[0].keepalive_timeout_s: 0 is out of range 1-120"},
    {"aliases_not_array", WITH_ORIGIN("'aliases': 'www.example.com'"),
     "aliases: expected an array of host names, got a string"},
    {"alias_invalid", WITH_ORIGIN("'aliases': ['www.example.com', 'shop example.com']"),
     "aliases[1]: host name 'shop example.com' has a character that is not a letter, digit, "
     "'-', '_' or '.'"},
    {"alias_duplicate", WITH_ORIGIN("'aliases': ['WWW.example.com', 'www.example.com.']"),
     "aliases[1]: duplicate alias \"www.example.com\""},
    {"behaviors_not_array", WITH_ORIGIN("'behaviors': {'path_pattern': '*'}"),
     "behaviors: expected an array, got an object"},
    {"behavior_unknown_origin",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '/a/*', 'origin': 'a'}, {'path_pattern': "
		 "'/x/*', 'origin': 'x'}]"),
     "behaviors[1].origin: no origin with id \"x\""},
    {"behavior_unknown_key",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '*', 'origin': 'a', "
		 "'target': 'a'}]"),
     "behaviors[0]: unknown key \"target\""},
    {"behavior_missing_path_pattern", WITH_ORIGIN("'behaviors': [{'origin': 'a'}]"),
     "behaviors[0]: missing required key \"path_pattern\""},
    {"behavior_missing_origin", WITH_ORIGIN("'behaviors': [{'path_pattern': '*'}]"),
     "behaviors[0]: missing required key \"origin\""},
    {"behavior_not_object", WITH_ORIGIN("'behaviors': ['*']"),
     "behaviors[0]: expected an object, got a string"},
    {"path_pattern_empty", WITH_ORIGIN("'behaviors': [{'path_pattern': '', 'origin': 'a'}]"),
     "behaviors[0].path_pattern: must not be empty (use \"*\" to match every path)"},
    {"path_pattern_space",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '/my files/*', 'origin': 'a'}]"),
     "behaviors[0].path_pattern: a path pattern cannot contain spaces"},
    {"path_pattern_character",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '/a#b', 'origin': 'a'}]"),
     "behaviors[0].path_pattern: character '#' is not allowed in a path pattern"},
    {"path_pattern_non_ascii",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '/caf\\u00e9', 'origin': 'a'}]"),
     "behaviors[0].path_pattern: byte 0xc3 is not allowed in a path pattern (use A-Z a-z 0-9 _ "
     "- . * $ / ~ \" ' @ : + ? &)"},
    {"path_pattern_too_long",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '" X256 "', 'origin': 'a'}]"),
     "behaviors[0].path_pattern: is 256 characters long: CloudFront allows at most 255"},
    {"viewer_policy_unknown",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '*', 'origin': 'a', 'viewer_protocol_policy': "
		 "'https'}]"),
     "behaviors[0].viewer_protocol_policy: expected allow-all, redirect-to-https or "
     "https-only, got \"https\""},
    {"forward_host_not_bool",
     WITH_ORIGIN("'behaviors': [{'path_pattern': '*', 'origin': 'a', 'forward_host_header': "
		 "'true'}]"),
     "behaviors[0].forward_host_header: expected true or false, got a string"},
    {"forward_host_integer",
     WITH_ORIGIN("'default_behavior': {'origin': 'a', 'forward_host_header': 1}"),
     "default_behavior.forward_host_header: expected true or false, got an integer"},
    {"default_path_pattern",
     WITH_ORIGIN("'default_behavior': {'path_pattern': '*', 'origin': 'a'}"),
     "default_behavior.path_pattern: not allowed: the default behaviour matches every path "
     "(\"*\")"},
    {"default_unknown_origin", WITH_ORIGIN("'default_behavior': {'origin': 'nope'}"),
     "default_behavior.origin: no origin with id \"nope\""},
    {"default_missing_origin", WITH_ORIGIN("'default_behavior': {}"),
     "default_behavior: missing required key \"origin\""},
    {"default_not_object", WITH_ORIGIN("'default_behavior': 'a'"),
     "default_behavior: expected an object, got a string"},
    {"scan_not_object", WITH_ORIGIN("'scan': []"), "scan: expected an object, got an array"},
    {"scan_unknown_key", WITH_ORIGIN("'scan': {'timeout': 5}"), "scan: unknown key \"timeout\""},
    {"scan_ca_bundle_empty", WITH_ORIGIN("'scan': {'ca_bundle': ''}"),
     "scan.ca_bundle: must not be empty"},
    {"scan_ca_bundle_not_string", WITH_ORIGIN("'scan': {'ca_bundle': true}"),
     "scan.ca_bundle: expected a string, got a boolean"},
    {"scan_warn_days_high", WITH_ORIGIN("'scan': {'expiry_warn_days': 36501}"),
     "scan.expiry_warn_days: 36501 is out of range 0-36500"},
    {"scan_warn_days_negative", WITH_ORIGIN("'scan': {'expiry_warn_days': -1}"),
     "scan.expiry_warn_days: -1 is out of range 0-36500"},
    {"scan_critical_after_warn",
     WITH_ORIGIN("'scan': {'expiry_warn_days': 10, 'expiry_critical_days': 20}"),
     "scan.expiry_critical_days: 20 is more than expiry_warn_days (10)"},
    {"scan_warn_below_default_critical", WITH_ORIGIN("'scan': {'expiry_warn_days': 5}"),
     "scan.expiry_warn_days: 5 is less than expiry_critical_days (7 by default)"},
    {"scan_critical_above_default_warn", WITH_ORIGIN("'scan': {'expiry_critical_days': 31}"),
     "scan.expiry_critical_days: 31 is more than expiry_warn_days (30)"},
    {"scan_warn_share_zero", WITH_ORIGIN("'scan': {'expiry_warn_days': '0%'}"),
     "scan.expiry_warn_days: \"0%\" is not a share like \"33%\" (1-100%)"},
    {"scan_warn_share_word", WITH_ORIGIN("'scan': {'expiry_warn_days': 'soon'}"),
     "scan.expiry_warn_days: \"soon\" is not a share like \"33%\" (1-100%)"},
    {"scan_critical_share_above_warn",
     WITH_ORIGIN("'scan': {'expiry_warn_days': '10%', 'expiry_critical_days': '20%'}"),
     "scan.expiry_critical_days: 20% is more than expiry_warn_days (10%)"},
    {"origin_warn_share_high",
     "{'origins': [{'id': 'a', 'domain_name': 'a.example.com', 'expiry_warn_days': '101%'}]}",
     "origins[0].expiry_warn_days: \"101%\" is not a share like \"33%\" (1-100%)"},
    {"scan_concurrency_zero", WITH_ORIGIN("'scan': {'concurrency': 0}"),
     "scan.concurrency: 0 is out of range 1-10000"},
    {"scan_concurrency_high", WITH_ORIGIN("'scan': {'concurrency': 10001}"),
     "scan.concurrency: 10001 is out of range 1-10000"},
    {"scan_concurrency_string", WITH_ORIGIN("'scan': {'concurrency': '64'}"),
     "scan.concurrency: expected an integer, got a string"},
    {"scan_connect_timeout_high", WITH_ORIGIN("'scan': {'connect_timeout_ms': 600001}"),
     "scan.connect_timeout_ms: 600001 is out of range 1-600000"},
    {"scan_handshake_timeout_zero", WITH_ORIGIN("'scan': {'handshake_timeout_ms': 0}"),
     "scan.handshake_timeout_ms: 0 is out of range 1-600000"},
    {"scan_handshake_timeout_real", WITH_ORIGIN("'scan': {'handshake_timeout_ms': 1e4}"),
     "scan.handshake_timeout_ms: expected an integer, got a real number"},
    {"proxy_not_object", WITH_ORIGIN("'proxy': ['listen']"),
     "proxy: expected an object, got an array"},
    {"proxy_null", WITH_ORIGIN("'proxy': null"), "proxy: expected an object, got null"},
    {"proxy_unknown_key", PROXY("'listen': [" LISTEN_A "], 'caches': true"),
     "proxy: unknown key \"caches\""},
    {"proxy_listen_missing", PROXY("'debug_headers': true"),
     "proxy: missing required key \"listen\""},
    {"proxy_listen_empty", PROXY("'listen': []"), "proxy.listen: expected a non-empty array"},
    {"proxy_listen_not_array", PROXY("'listen': " LISTEN_A),
     "proxy.listen: expected a non-empty array"},
    {"proxy_listen_string", PROXY("'listen': '127.0.0.1:8080'"),
     "proxy.listen: expected a non-empty array"},
    {"proxy_listener_not_object", PROXY("'listen': [" LISTEN_A ", '127.0.0.1:8081']"),
     "proxy.listen[1]: expected an object, got a string"},
    {"proxy_listener_unknown_key",
     PROXY("'listen': [" LISTEN_A ", {'address': '::1', 'port': 80, 'host': 'a'}]"),
     "proxy.listen[1]: unknown key \"host\""},
    {"proxy_address_missing", PROXY("'listen': [{'port': 80}]"),
     "proxy.listen[0]: missing required key \"address\""},
    {"proxy_port_missing", PROXY("'listen': [{'address': '0.0.0.0'}]"),
     "proxy.listen[0]: missing required key \"port\""},
    {"proxy_address_host_name", PROXY("'listen': [{'address': 'localhost', 'port': 80}]"),
     "proxy.listen[0].address: \"localhost\" is not a numeric IPv4 or IPv6 address"},
    {"proxy_address_with_port", PROXY("'listen': [{'address': '127.0.0.1:80', 'port': 80}]"),
     "proxy.listen[0].address: \"127.0.0.1:80\" is not a numeric IPv4 or IPv6 address"},
    {"proxy_address_bracketed", PROXY("'listen': [{'address': '[::1]', 'port': 80}]"),
     "proxy.listen[0].address: \"[::1]\" is not a numeric IPv4 or IPv6 address"},
    {"proxy_address_empty", PROXY("'listen': [{'address': '', 'port': 80}]"),
     "proxy.listen[0].address: must not be empty"},
    {"proxy_address_not_string", PROXY("'listen': [{'address': 2130706433, 'port': 80}]"),
     "proxy.listen[0].address: expected a string, got an integer"},
    {"proxy_port_high", PROXY("'listen': [" LISTEN_A ", {'address': '127.0.0.1', 'port': 70000}]"),
     "proxy.listen[1].port: 70000 is out of range 1-65535"},
    {"proxy_port_zero", PROXY("'listen': [{'address': '127.0.0.1', 'port': 0}]"),
     "proxy.listen[0].port: 0 is out of range 1-65535"},
    {"proxy_port_negative", PROXY("'listen': [{'address': '127.0.0.1', 'port': -80}]"),
     "proxy.listen[0].port: -80 is out of range 1-65535"},
    {"proxy_port_string", PROXY("'listen': [{'address': '127.0.0.1', 'port': '8080'}]"),
     "proxy.listen[0].port: expected an integer, got a string"},
    {"proxy_port_real", PROXY("'listen': [{'address': '127.0.0.1', 'port': 8080.0}]"),
     "proxy.listen[0].port: expected an integer, got a real number"},
    {"proxy_tls_not_object", PROXY(LISTEN_WITH("'tls': true")),
     "proxy.listen[0].tls: expected an object, got a boolean"},
    {"proxy_tls_null", PROXY(LISTEN_WITH("'tls': null")),
     "proxy.listen[0].tls: expected an object, got null"},
    {"proxy_tls_missing_key", PROXY(LISTEN_WITH("'tls': {'certificate': 'viewer.pem'}")),
     "proxy.listen[0].tls: missing required key \"key\""},
    {"proxy_tls_missing_certificate", PROXY(LISTEN_WITH("'tls': {'key': 'viewer.key'}")),
     "proxy.listen[0].tls: missing required key \"certificate\""},
    {"proxy_tls_empty", PROXY(LISTEN_WITH("'tls': {}")),
     "proxy.listen[0].tls: missing required key \"certificate\""},
    {"proxy_tls_unknown_key",
     PROXY(LISTEN_WITH("'tls': {'certificate': 'c.pem', 'key': 'k.pem', 'password': 'x'}")),
     "proxy.listen[0].tls: unknown key \"password\""},
    {"proxy_tls_certificate_empty", PROXY(LISTEN_WITH("'tls': {'certificate': '', 'key': 'k'}")),
     "proxy.listen[0].tls.certificate: must not be empty"},
    {"proxy_tls_certificate_not_string",
     PROXY(LISTEN_WITH("'tls': {'certificate': ['c.pem'], 'key': 'k'}")),
     "proxy.listen[0].tls.certificate: expected a string, got an array"},
    {"proxy_tls_key_not_string", PROXY(LISTEN_WITH("'tls': {'certificate': 'c.pem', 'key': 5}")),
     "proxy.listen[0].tls.key: expected a string, got an integer"},
    {"proxy_tls_key_control_character",
     PROXY(LISTEN_WITH("'tls': {'certificate': 'c.pem', 'key': 'k\\n.pem'}")),
     "proxy.listen[0].tls.key: \"k\\x0a.pem\" contains a control character"},
    {"proxy_listener_duplicate",
     PROXY("'listen': [" LISTEN_A ", {'address': '127.0.0.1', 'port': 8081}, " LISTEN_A "]"),
     "proxy.listen[2]: duplicate listener 127.0.0.1:8080"},
    {"proxy_listener_duplicate_ipv6",
     PROXY("'listen': [{'address': '::1', 'port': 443}, {'address': '0:0::1', 'port': 443}]"),
     "proxy.listen[1]: duplicate listener [::1]:443"},
    {"proxy_listener_duplicate_tls",
     PROXY("'listen': [" LISTEN_A ", {'address': '127.0.0.1', 'port': 8080, 'tls':"
	   " {'certificate': 'c.pem', 'key': 'k.pem'}}]"),
     "proxy.listen[1]: duplicate listener 127.0.0.1:8080"},
    {"proxy_ca_bundle_empty", PROXY("'listen': [" LISTEN_A "], 'ca_bundle': ''"),
     "proxy.ca_bundle: must not be empty"},
    {"proxy_ca_bundle_not_string", PROXY("'listen': [" LISTEN_A "], 'ca_bundle': null"),
     "proxy.ca_bundle: expected a string, got null"},
    {"proxy_x_cache_name_empty", PROXY("'listen': [" LISTEN_A "], 'x_cache_name': ''"),
     "proxy.x_cache_name: must not be empty"},
    {"proxy_x_cache_name_too_long",
     PROXY("'listen': [" LISTEN_A "], 'x_cache_name': '" X16 X16 X16 X16 "y'"),
     "proxy.x_cache_name: is 65 characters long: at most 64 are allowed"},
    {"proxy_x_cache_name_space", PROXY("'listen': [" LISTEN_A "], 'x_cache_name': 'my edge'"),
     "proxy.x_cache_name: character ' ' is not allowed (use A-Z a-z 0-9 . _ -)"},
    {"proxy_x_cache_name_character", PROXY("'listen': [" LISTEN_A "], 'x_cache_name': 'edge;1'"),
     "proxy.x_cache_name: character ';' is not allowed (use A-Z a-z 0-9 . _ -)"},
    {"proxy_x_cache_name_non_ascii",
     PROXY("'listen': [" LISTEN_A "], 'x_cache_name': 'caf\\u00e9'"),
     "proxy.x_cache_name: byte 0xc3 is not allowed (use A-Z a-z 0-9 . _ -)"},
    {"proxy_x_cache_name_control_character",
     PROXY("'listen': [" LISTEN_A "], 'x_cache_name': 'a\\r\\nX-Evil: 1'"),
     "proxy.x_cache_name: \"a\\x0d\\x0aX-Evil: 1\" contains a control character"},
    {"proxy_x_cache_name_not_string", PROXY("'listen': [" LISTEN_A "], 'x_cache_name': 7"),
     "proxy.x_cache_name: expected a string, got an integer"},
    {"proxy_debug_headers_not_bool", PROXY("'listen': [" LISTEN_A "], 'debug_headers': 'yes'"),
     "proxy.debug_headers: expected true or false, got a string"},
    {"proxy_debug_headers_integer", PROXY("'listen': [" LISTEN_A "], 'debug_headers': 1"),
     "proxy.debug_headers: expected true or false, got an integer"},
    {"proxy_workers_zero", PROXY_WITH("'workers': 0"), "proxy.workers: 0 is out of range 1-64"},
    {"proxy_workers_high", PROXY_WITH("'workers': 65"), "proxy.workers: 65 is out of range 1-64"},
    {"proxy_workers_negative", PROXY_WITH("'workers': -1"),
     "proxy.workers: -1 is out of range 1-64"},
    {"proxy_workers_string", PROXY_WITH("'workers': '4'"),
     "proxy.workers: expected an integer, got a string"},
    {"proxy_workers_real", PROXY_WITH("'workers': 4.0"),
     "proxy.workers: expected an integer, got a real number"},
    {"proxy_workers_bool", PROXY_WITH("'workers': true"),
     "proxy.workers: expected an integer, got a boolean"},
    {"proxy_workers_null", PROXY_WITH("'workers': null"),
     "proxy.workers: expected an integer, got null"},
    {"proxy_audit_interval_negative", PROXY_WITH("'audit_interval_s': -1"),
     "proxy.audit_interval_s: -1 is out of range 0-86400"},
    {"proxy_audit_interval_high", PROXY_WITH("'audit_interval_s': 86401"),
     "proxy.audit_interval_s: 86401 is out of range 0-86400"},
    {"proxy_audit_interval_string", PROXY_WITH("'audit_interval_s': '300'"),
     "proxy.audit_interval_s: expected an integer, got a string"},
    {"proxy_audit_interval_real", PROXY_WITH("'audit_interval_s': 300.5"),
     "proxy.audit_interval_s: expected an integer, got a real number"},
    {"proxy_max_connections_zero", PROXY_WITH("'max_connections': 0"),
     "proxy.max_connections: 0 is out of range 1-1000000"},
    {"proxy_max_connections_high", PROXY_WITH("'max_connections': 1000001"),
     "proxy.max_connections: 1000001 is out of range 1-1000000"},
    {"proxy_max_connections_string", PROXY_WITH("'max_connections': '10000'"),
     "proxy.max_connections: expected an integer, got a string"},
    {"proxy_max_connections_real", PROXY_WITH("'max_connections': 1e4"),
     "proxy.max_connections: expected an integer, got a real number"},
    {"proxy_idle_timeout_zero", PROXY_WITH("'idle_timeout_s': 0"),
     "proxy.idle_timeout_s: 0 is out of range 1-3600"},
    {"proxy_idle_timeout_high", PROXY_WITH("'idle_timeout_s': 3601"),
     "proxy.idle_timeout_s: 3601 is out of range 1-3600"},
    {"proxy_idle_timeout_real", PROXY_WITH("'idle_timeout_s': 60.0"),
     "proxy.idle_timeout_s: expected an integer, got a real number"},
    {"proxy_idle_timeout_bool", PROXY_WITH("'idle_timeout_s': false"),
     "proxy.idle_timeout_s: expected an integer, got a boolean"},
    {"proxy_drain_timeout_negative", PROXY_WITH("'drain_timeout_s': -1"),
     "proxy.drain_timeout_s: -1 is out of range 0-3600"},
    {"proxy_drain_timeout_high", PROXY_WITH("'drain_timeout_s': 3601"),
     "proxy.drain_timeout_s: 3601 is out of range 0-3600"},
    {"proxy_drain_timeout_string", PROXY_WITH("'drain_timeout_s': '30'"),
     "proxy.drain_timeout_s: expected an integer, got a string"},
    {"proxy_drain_timeout_object", PROXY_WITH("'drain_timeout_s': {}"),
     "proxy.drain_timeout_s: expected an integer, got an object"},
    {"proxy_access_log_empty", PROXY_WITH("'access_log': ''"),
     "proxy.access_log: must not be empty"},
    {"proxy_access_log_integer", PROXY_WITH("'access_log': 1"),
     "proxy.access_log: expected a string, got an integer"},
    {"proxy_access_log_null", PROXY_WITH("'access_log': null"),
     "proxy.access_log: expected a string, got null"},
    {"proxy_access_log_bool", PROXY_WITH("'access_log': true"),
     "proxy.access_log: expected a string, got a boolean"},
    {"proxy_access_log_control_character", PROXY_WITH("'access_log': 'a\\tb.log'"),
     "proxy.access_log: \"a\\x09b.log\" contains a control character"},
    {"proxy_admin_not_object", PROXY_WITH("'admin': '127.0.0.1:9090'"),
     "proxy.admin: expected an object, got a string"},
    {"proxy_admin_null", PROXY_WITH("'admin': null"), "proxy.admin: expected an object, got null"},
    {"proxy_admin_array", PROXY_WITH("'admin': [" LISTEN_A "]"),
     "proxy.admin: expected an object, got an array"},
    {"proxy_admin_empty", PROXY_WITH("'admin': {}"),
     "proxy.admin: missing required key \"address\""},
    {"proxy_admin_address_missing", PROXY_WITH("'admin': {'port': 9090}"),
     "proxy.admin: missing required key \"address\""},
    {"proxy_admin_port_missing", PROXY_WITH("'admin': {'address': '127.0.0.1'}"),
     "proxy.admin: missing required key \"port\""},
    {"proxy_admin_unknown_key",
     PROXY_WITH("'admin': {'address': '127.0.0.1', 'port': 9090, 'tls': {}}"),
     "proxy.admin: unknown key \"tls\""},
    {"proxy_admin_address_host_name", PROXY_WITH("'admin': {'address': 'localhost', 'port': 9090}"),
     "proxy.admin.address: \"localhost\" is not a numeric IPv4 or IPv6 address"},
    {"proxy_admin_address_bracketed", PROXY_WITH("'admin': {'address': '[::1]', 'port': 9090}"),
     "proxy.admin.address: \"[::1]\" is not a numeric IPv4 or IPv6 address"},
    {"proxy_admin_address_empty", PROXY_WITH("'admin': {'address': '', 'port': 9090}"),
     "proxy.admin.address: must not be empty"},
    {"proxy_admin_address_not_string", PROXY_WITH("'admin': {'address': 2130706433, 'port': 9090}"),
     "proxy.admin.address: expected a string, got an integer"},
    {"proxy_admin_port_zero", PROXY_WITH("'admin': {'address': '127.0.0.1', 'port': 0}"),
     "proxy.admin.port: 0 is out of range 1-65535"},
    {"proxy_admin_port_high", PROXY_WITH("'admin': {'address': '127.0.0.1', 'port': 65536}"),
     "proxy.admin.port: 65536 is out of range 1-65535"},
    {"proxy_admin_port_string", PROXY_WITH("'admin': {'address': '127.0.0.1', 'port': '9090'}"),
     "proxy.admin.port: expected an integer, got a string"},
    {"proxy_admin_port_real", PROXY_WITH("'admin': {'address': '127.0.0.1', 'port': 9090.0}"),
     "proxy.admin.port: expected an integer, got a real number"},
    {"proxy_admin_same_as_listener", PROXY_WITH("'admin': {'address': '127.0.0.1', 'port': 8080}"),
     "proxy.admin: port 8080 is already used by proxy.listen[0] (127.0.0.1:8080)"},
    /* A wildcard on either side would take the other's port too. */
    {"proxy_admin_port_of_listener",
     PROXY("'listen': [" LISTEN_A ", {'address': '::', 'port': 443}],"
	   " 'admin': {'address': '::1', 'port': 443}"),
     "proxy.admin: port 443 is already used by proxy.listen[1] ([::]:443)"},
    {"proxy_cache_not_object", PROXY_WITH("'cache': true"),
     "proxy.cache: expected an object, got a boolean"},
    {"proxy_cache_null", PROXY_WITH("'cache': null"), "proxy.cache: expected an object, got null"},
    {"proxy_cache_integer", PROXY_WITH("'cache': 67108864"),
     "proxy.cache: expected an object, got an integer"},
    {"proxy_cache_unknown_key", PROXY_WITH("'cache': {'max_bytes': 1024, 'max_age': 60}"),
     "proxy.cache: unknown key \"max_age\""},
    {"proxy_cache_max_bytes_negative", PROXY_WITH("'cache': {'max_bytes': -1}"),
     "proxy.cache.max_bytes: -1 is out of range 0-1099511627776"},
    {"proxy_cache_max_bytes_high", PROXY_WITH("'cache': {'max_bytes': 1099511627777}"),
     "proxy.cache.max_bytes: 1099511627777 is out of range 0-1099511627776"},
    {"proxy_cache_max_bytes_string", PROXY_WITH("'cache': {'max_bytes': '64M'}"),
     "proxy.cache.max_bytes: expected an integer, got a string"},
    {"proxy_cache_max_bytes_real", PROXY_WITH("'cache': {'max_bytes': 67108864.0}"),
     "proxy.cache.max_bytes: expected an integer, got a real number"},
    {"proxy_cache_max_bytes_bool", PROXY_WITH("'cache': {'max_bytes': false}"),
     "proxy.cache.max_bytes: expected an integer, got a boolean"},
    {"proxy_cache_max_object_bytes_negative", PROXY_WITH("'cache': {'max_object_bytes': -1}"),
     "proxy.cache.max_object_bytes: -1 is out of range 0-1099511627776"},
    {"proxy_cache_max_object_bytes_high",
     PROXY_WITH("'cache': {'max_bytes': 0, 'max_object_bytes': 1099511627777}"),
     "proxy.cache.max_object_bytes: 1099511627777 is out of range 0-1099511627776"},
    {"proxy_cache_max_object_bytes_string", PROXY_WITH("'cache': {'max_object_bytes': '1M'}"),
     "proxy.cache.max_object_bytes: expected an integer, got a string"},
    {"proxy_cache_max_object_bytes_real", PROXY_WITH("'cache': {'max_object_bytes': 1.5}"),
     "proxy.cache.max_object_bytes: expected an integer, got a real number"},
    {"proxy_cache_max_object_bytes_null", PROXY_WITH("'cache': {'max_object_bytes': null}"),
     "proxy.cache.max_object_bytes: expected an integer, got null"},
    {"proxy_cache_object_above_max",
     PROXY_WITH("'cache': {'max_bytes': 1048576, 'max_object_bytes': 1048577}"),
     "proxy.cache.max_object_bytes: 1048577 is more than proxy.cache.max_bytes (1048576)"},
    {"proxy_cache_object_above_default_max", PROXY_WITH("'cache': {'max_object_bytes': 67108865}"),
     "proxy.cache.max_object_bytes: 67108865 is more than proxy.cache.max_bytes (67108864)"},
};

#define N_INVALID (sizeof(invalid_cases) / sizeof(invalid_cases[0]))

static void test_invalid(void **state)
{
	const struct invalid_case *tc = *state;

	load_fails(tc->json, -EINVAL, tc->message);
}

/* ---- Syntax errors and files that cannot be read ---- */

static void test_syntax_error(void **state)
{
	/* A trailing comma on line 3: jansson points at the token where it noticed (column 16). */
	char *path =
	    write_raw("syntax.json", "{\n  \"origins\": [\n    {\"id\": \"a\",}\n  ]\n}\n");
	oa_config *config = (oa_config *)&config;
	oa_error err;
	char want[OA_ERROR_MSG_MAX];

	int rc = oa_config_load_file(path, &config, &err);
	assert_null(config);
	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(err.code, -EBADMSG);
	snprintf(want, sizeof(want), "%s:3:16: string or '}' expected near '}'", path);
	assert_string_equal(err.msg, want);
	free(path);
}

static void test_syntax_error_unterminated(void **state)
{
	char *path = write_raw("eof.json", "{\"origins\": [\n");
	oa_config *config = NULL;
	oa_error err;
	char want[OA_ERROR_MSG_MAX];

	int rc = oa_config_load_file(path, &config, &err);
	assert_int_equal(rc, -EBADMSG);
	snprintf(want, sizeof(want), "%s:2:0: ']' expected near end of file", path);
	assert_string_equal(err.msg, want);
	free(path);
}

static void test_trailing_garbage(void **state)
{
	char *path = write_raw("garbage.json", "{\"origins\": []}\n{}\n");
	oa_config *config = NULL;
	oa_error err;
	char want[OA_ERROR_MSG_MAX];

	int rc = oa_config_load_file(path, &config, &err);
	assert_int_equal(rc, -EBADMSG);
	snprintf(want, sizeof(want), "%s:2:1: end of file expected near '{'", path);
	assert_string_equal(err.msg, want);
	free(path);
}

static void test_duplicate_key(void **state)
{
	char *path = write_raw("dup.json", "{\"origins\": [{\"id\": \"a\", \"domain_name\": "
					   "\"a.test\",\n \"id\": \"b\"}]}");
	oa_config *config = NULL;
	oa_error err;
	char want[OA_ERROR_MSG_MAX];

	int rc = oa_config_load_file(path, &config, &err);
	assert_null(config);
	assert_int_equal(rc, -EBADMSG);
	assert_int_equal(err.code, -EBADMSG);
	snprintf(want, sizeof(want), "%s:2:5: duplicate object key near '\"id\"'", path);
	assert_string_equal(err.msg, want);
	free(path);
}

static void test_empty_file(void **state)
{
	char *path = write_raw("empty.json", "");
	oa_config *config = NULL;
	oa_error err;

	int rc = oa_config_load_file(path, &config, &err);
	assert_int_equal(rc, -EBADMSG);
	assert_non_null(strstr(err.msg, "'[' or '{' expected near end of file"));
	assert_int_equal(strncmp(err.msg, path, strlen(path)), 0);
	free(path);
}

static void test_missing_file(void **state)
{
	char *path = fx_path(tmpdir, "does-not-exist.json");
	oa_config *config = (oa_config *)&config;
	oa_error err;

	int rc = oa_config_load_file(path, &config, &err);
	assert_null(config);
	assert_error(rc, &err, -ENOENT, path, "No such file or directory");

	config = (oa_config *)&config;
	rc = oa_config_load_cloudfront_file(path, &config, &err);
	assert_null(config);
	assert_error(rc, &err, -ENOENT, path, "No such file or directory");
	free(path);
}

static void test_directory(void **state)
{
	oa_config *config = NULL;
	oa_error err;

	int rc = oa_config_load_file(tmpdir, &config, &err);
	assert_null(config);
	assert_error(rc, &err, -EISDIR, tmpdir, "Is a directory");
}

/* ---- CloudFront import ---- */

static char *data_path(const char *name)
{
	const char *dir = getenv("OA_TEST_DATA");

	if (dir == NULL) {
		fail_msg("OA_TEST_DATA is not set (run the tests through meson test)");
	}
	char *sub = fx_path(dir, "config");
	char *path = fx_path(sub, name);
	free(sub);
	return path;
}

static void test_cloudfront_realistic(void **state)
{
	char *path = data_path("cloudfront-distribution.json");
	oa_config *c = NULL;
	oa_error err;

	oa_error_clear(&err);
	if (oa_config_load_cloudfront_file(path, &c, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	free(path);

	assert_int_equal(c->n_aliases, 2);
	assert_string_equal(c->aliases[0], "www.example.com");
	assert_string_equal(c->aliases[1], "shop.example.com");

	assert_int_equal(c->n_origins, 4);
	const oa_origin_config *o = &c->origins[0];
	assert_string_equal(o->id, "web");
	assert_string_equal(o->domain_name, "web-origin.example.com");
	assert_string_equal(o->origin_path, "");
	assert_int_equal(o->https_port, 443);
	assert_int_equal(o->http_port, 80);
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTPS_ONLY);
	assert_int_equal(o->ssl_protocols, OA_PROTO_TLS1_2);
	assert_int_equal(o->connection_attempts, 3);
	assert_int_equal(o->connection_timeout_s, 10);
	assert_int_equal(o->read_timeout_s, 30);
	assert_int_equal(o->keepalive_timeout_s, 5);
	assert_int_equal(o->n_addresses, 0);
	assert_false(o->s3);

	o = &c->origins[1];
	assert_string_equal(o->id, "api");
	assert_string_equal(o->domain_name, "api-origin.example.com");
	assert_string_equal(o->origin_path, "/v2");
	assert_int_equal(o->https_port, 8443);
	assert_int_equal(o->http_port, 8080);
	assert_int_equal(o->protocol_policy, OA_ORIGIN_MATCH_VIEWER);
	assert_int_equal(o->ssl_protocols, OA_PROTO_TLS1_1 | OA_PROTO_TLS1_2);
	assert_int_equal(o->connection_attempts, 2);
	assert_int_equal(o->connection_timeout_s, 5);
	assert_int_equal(o->read_timeout_s, 60);
	assert_int_equal(o->keepalive_timeout_s, 15);
	assert_false(o->s3);

	o = &c->origins[2];
	assert_string_equal(o->id, "api-dr");
	assert_string_equal(o->domain_name, "api-dr.example.net");
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTP_ONLY);
	assert_int_equal(o->ssl_protocols, OA_PROTO_SSL3 | OA_PROTO_TLS1_0 | OA_PROTO_TLS1_2);
	assert_int_equal(o->connection_attempts, 1);
	assert_int_equal(o->connection_timeout_s, 2);
	/* A read timeout AWS raised beyond 120 s on request is imported as is. */
	assert_int_equal(o->read_timeout_s, 180);
	assert_int_equal(o->keepalive_timeout_s, 60);
	assert_false(o->s3);

	o = &c->origins[3];
	assert_string_equal(o->id, "assets-s3");
	assert_string_equal(o->domain_name, "example-assets.s3.eu-west-1.amazonaws.com");
	assert_string_equal(o->origin_path, "/public");
	assert_true(o->s3);
	assert_int_equal(o->https_port, 443);
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTPS_ONLY);
	assert_int_equal(o->ssl_protocols, OA_PROTO_TLS1_2);

	assert_int_equal(c->n_behaviors, 4);
	const oa_behavior_config *b = &c->behaviors[0];
	/* Aimed at the origin group "api-failover": recorded against its primary. */
	assert_string_equal(b->path_pattern, "/api/*");
	assert_string_equal(b->origin_id, "api");
	assert_int_equal(b->origin_index, 1);
	assert_int_equal(b->viewer_protocol_policy, OA_VIEWER_HTTPS_ONLY);
	/* The AllViewer managed origin request policy forwards Host. */
	assert_true(b->forward_host_header);

	b = &c->behaviors[1];
	assert_string_equal(b->path_pattern, "legacy/*");
	assert_string_equal(b->origin_id, "web");
	assert_int_equal(b->origin_index, 0);
	assert_int_equal(b->viewer_protocol_policy, OA_VIEWER_ALLOW_ALL);
	/* Legacy ForwardedValues.Headers listing Host. */
	assert_true(b->forward_host_header);

	b = &c->behaviors[2];
	assert_string_equal(b->path_pattern, "/static/*");
	assert_string_equal(b->origin_id, "assets-s3");
	assert_int_equal(b->origin_index, 3);
	assert_int_equal(b->viewer_protocol_policy, OA_VIEWER_REDIRECT_TO_HTTPS);
	/* A cache policy alone does not forward Host. */
	assert_false(b->forward_host_header);

	b = &c->behaviors[3];
	assert_string_equal(b->path_pattern, "/health");
	assert_string_equal(b->origin_id, "api-dr");
	assert_int_equal(b->origin_index, 2);
	assert_int_equal(b->viewer_protocol_policy, OA_VIEWER_ALLOW_ALL);
	/* ForwardedValues.Headers with Quantity 0 and no Items. */
	assert_false(b->forward_host_header);

	assert_true(c->has_default_behavior);
	assert_null(c->default_behavior.path_pattern);
	assert_string_equal(c->default_behavior.origin_id, "web");
	assert_int_equal(c->default_behavior.origin_index, 0);
	assert_int_equal(c->default_behavior.viewer_protocol_policy, OA_VIEWER_REDIRECT_TO_HTTPS);
	/* AllViewerExceptHostHeader is not AllViewer. */
	assert_false(c->default_behavior.forward_host_header);

	assert_null(c->scan.ca_bundle);
	assert_int_equal(c->scan.expiry_warn_days, OA_POLICY_AUTO);
	assert_int_equal(c->scan.concurrency, 64);
	assert_false(c->proxy.present);
	assert_int_equal(c->proxy.n_listen, 0);
	assert_string_equal(c->proxy.x_cache_name, "originaudit");
	assert_proxy_operation_defaults(&c->proxy);

	/* A sound distribution: nothing to lint. */
	oa_lint *lints = NULL;
	size_t n = 99;
	assert_int_equal(oa_config_lint(c, &lints, &n), 0);
	assert_int_equal(n, 0);
	free(lints);
	oa_config_destroy(c);
}

/* Loads text (single quotes) as a CloudFront file; asserts success. */
static oa_config *cloudfront_ok(const char *text)
{
	char *path = write_config("cf.json", text);
	oa_config *c = NULL;
	oa_error err;

	oa_error_clear(&err);
	if (oa_config_load_cloudfront_file(path, &c, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	free(path);
	return c;
}

static void cloudfront_fails(const char *text, const char *expected)
{
	char *path = write_config("cf-bad.json", text);
	oa_config *c = (oa_config *)&c;
	oa_error err;

	int rc = oa_config_load_cloudfront_file(path, &c, &err);
	assert_null(c);
	assert_error(rc, &err, -EINVAL, path, expected);
	free(path);
}

/* The bare DistributionConfig; Host forwarded by "*" and by a lower-case "host". */
static void test_cloudfront_bare(void **state)
{
	oa_config *c = cloudfront_ok(
	    "{'Aliases': {'Quantity': 0},"
	    " 'Origins': {'Quantity': 2, 'Items': ["
	    "   {'Id': 'o1', 'DomainName': 'o1.example.com',"
	    "    'CustomOriginConfig': {'OriginProtocolPolicy': 'https-only'}},"
	    "   {'Id': 'o2', 'DomainName': 'o2.example.com', 'OriginPath': '/p',"
	    "    'CustomOriginConfig': {'HTTPSPort': 1443, 'OriginProtocolPolicy': 'https-only',"
	    "     'OriginSslProtocols': {'Quantity': 1, 'Items': ['TLSv1']}}}]},"
	    " 'DefaultCacheBehavior': {'TargetOriginId': 'o1',"
	    "   'ForwardedValues': {'Headers': {'Quantity': 1, 'Items': ['*']}}},"
	    " 'CacheBehaviors': {'Quantity': 1, 'Items': [{'PathPattern': '/two/*',"
	    "   'TargetOriginId': 'o2', 'ViewerProtocolPolicy': 'redirect-to-https',"
	    "   'ForwardedValues': {'Headers': {'Quantity': 2, 'Items': ['Origin', 'host']}}}]}}");

	assert_int_equal(c->n_aliases, 0);
	assert_int_equal(c->n_origins, 2);
	assert_false(c->origins[0].s3);
	/* Absent CloudFront keys take CloudFront's defaults. */
	assert_int_equal(c->origins[0].https_port, 443);
	assert_int_equal(c->origins[0].ssl_protocols, OA_PROTO_TLS1_2);
	assert_int_equal(c->origins[0].read_timeout_s, 30);
	assert_string_equal(c->origins[0].origin_path, "");
	assert_int_equal(c->origins[1].https_port, 1443);
	assert_int_equal(c->origins[1].ssl_protocols, OA_PROTO_TLS1_0);
	assert_string_equal(c->origins[1].origin_path, "/p");
	assert_true(c->has_default_behavior);
	assert_int_equal(c->default_behavior.viewer_protocol_policy, OA_VIEWER_ALLOW_ALL);
	assert_true(c->default_behavior.forward_host_header);
	assert_int_equal(c->n_behaviors, 1);
	assert_int_equal(c->behaviors[0].origin_index, 1);
	assert_true(c->behaviors[0].forward_host_header);
	oa_config_destroy(c);
}

/* An origin without CustomOriginConfig (S3, or another AWS origin) is marked s3. */
static void test_cloudfront_no_custom_config(void **state)
{
	oa_config *c =
	    cloudfront_ok("{'ETag': 'E1', 'DistributionConfig': {'Origins': {'Quantity': 1,"
			  " 'Items': [{'Id': 'b', 'DomainName': 'b.s3.amazonaws.com'}]}}}");

	assert_int_equal(c->n_origins, 1);
	assert_true(c->origins[0].s3);
	assert_string_equal(c->origins[0].domain_name, "b.s3.amazonaws.com");
	assert_false(c->has_default_behavior);
	assert_int_equal(c->n_behaviors, 0);
	oa_config_destroy(c);
}

#define CF_ORIGINS(items)                                                                          \
	"{'DistributionConfig': {'Origins': {'Quantity': 2, 'Items': [" items "]}}}"
#define CF_O1 "{'Id': 'a', 'DomainName': 'a.example.com'}"

static void test_cloudfront_errors(void **state)
{
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'CustomOriginConfig': {'HTTPSPort': '443'}}"),
			 "DistributionConfig.Origins.Items[1].CustomOriginConfig.HTTPSPort: "
			 "expected an integer, got a string");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'CustomOriginConfig': {'HTTPPort': 81}}"),
			 "DistributionConfig.Origins.Items[1].CustomOriginConfig.HTTPPort: 81 is "
			 "not allowed: use 80, 443 or 1024-65535");
	cloudfront_fails(CF_ORIGINS(CF_O1
				    ", {'Id': 'b', 'DomainName': 'b.example.com',"
				    " 'CustomOriginConfig': {'OriginProtocolPolicy': 'tls'}}"),
			 "DistributionConfig.Origins.Items[1].CustomOriginConfig."
			 "OriginProtocolPolicy: expected http-only, https-only or match-viewer, "
			 "got \"tls\"");
	cloudfront_fails(
	    CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com', 'CustomOriginConfig':"
			     " {'OriginSslProtocols': {'Quantity': 1, 'Items': ['TLSv2']}}}"),
	    "DistributionConfig.Origins.Items[1].CustomOriginConfig.OriginSslProtocols.Items[0]: "
	    "expected SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3, got \"TLSv2\"");
	cloudfront_fails(
	    CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com', 'CustomOriginConfig':"
			     " {'OriginSslProtocols': {'Quantity': 0}}}"),
	    "DistributionConfig.Origins.Items[1].CustomOriginConfig.OriginSslProtocols: expected "
	    "at least one protocol");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'a', 'DomainName': 'b.example.com'}"),
			 "DistributionConfig.Origins.Items[1].Id: duplicate id \"a\"");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b'}"),
			 "DistributionConfig.Origins.Items[1]: missing required key "
			 "\"DomainName\"");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b example'}"),
			 "DistributionConfig.Origins.Items[1].DomainName: host name 'b example' "
			 "has a character that is not a letter, digit, '-', '_' or '.'");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.test', "
					  "'ConnectionAttempts': 5}"),
			 "DistributionConfig.Origins.Items[1].ConnectionAttempts: 5 is out of "
			 "range 1-3");
	cloudfront_fails(CF_ORIGINS(CF_O1), "DistributionConfig.Origins: Quantity is 2 but Items "
					    "has 1 entries");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Quantity': 0}}}",
			 "DistributionConfig.Origins: expected at least one origin");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Quantity': 1}}}",
			 "DistributionConfig.Origins: Quantity is 1 but Items is missing");
	/* CloudFormation's bare list is read as Items: an empty one is still no origin. */
	cloudfront_fails("{'DistributionConfig': {'Origins': []}}",
			 "DistributionConfig.Origins: expected at least one origin");
	cloudfront_fails("{'DistributionConfig': {'Origins': 'app'}}",
			 "DistributionConfig.Origins: expected an object, got a string");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Items': [" CF_O1 "]},"
			 " 'Aliases': {'Quantity': 1, 'Items': ['www example']}}}",
			 "DistributionConfig.Aliases.Items[0]: host name 'www example' has a "
			 "character that is not a letter, digit, '-', '_' or '.'");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Items': [" CF_O1 "]},"
			 " 'CacheBehaviors': {'Quantity': 1, 'Items': [{'PathPattern': '/x/*',"
			 " 'TargetOriginId': 'nope'}]}}}",
			 "DistributionConfig.CacheBehaviors.Items[0].TargetOriginId: no origin "
			 "with id \"nope\"");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Items': [" CF_O1 "]},"
			 " 'CacheBehaviors': {'Quantity': 1, 'Items': [{'TargetOriginId': 'a'}]}}}",
			 "DistributionConfig.CacheBehaviors.Items[0]: missing required key "
			 "\"PathPattern\"");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Items': [" CF_O1 "]},"
			 " 'DefaultCacheBehavior': {'TargetOriginId': 'a',"
			 " 'ForwardedValues': {'Headers': {'Quantity': 1, 'Items': [7]}}}}}",
			 "DistributionConfig.DefaultCacheBehavior.ForwardedValues.Headers.Items[0]:"
			 " expected a string, got an integer");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Items': [" CF_O1 "]},"
			 " 'DefaultCacheBehavior': {'TargetOriginId': 'a',"
			 " 'OriginRequestPolicyId': 5}}}",
			 "DistributionConfig.DefaultCacheBehavior.OriginRequestPolicyId: expected "
			 "a string, got an integer");
	cloudfront_fails("{'DistributionConfig': {'Origins': {'Items': [" CF_O1 "]},"
			 " 'DefaultCacheBehavior': {'TargetOriginId': 'a',"
			 " 'ViewerProtocolPolicy': 'https'}}}",
			 "DistributionConfig.DefaultCacheBehavior.ViewerProtocolPolicy: expected "
			 "allow-all, redirect-to-https or https-only, got \"https\"");
	/* The bare form names paths from its own top. */
	cloudfront_fails("{'Origins': {'Items': [{'Id': 'a', 'DomainName': 7}]}}",
			 "Origins.Items[0].DomainName: expected a string, got an integer");
	cloudfront_fails("{'Distribution': {}}",
			 "Distribution: missing required key \"DistributionConfig\"");
	cloudfront_fails("{'Something': {}}",
			 "not a CloudFront distribution: expected the output of aws cloudfront "
			 "get-distribution-config, get-distribution or list-distributions, a "
			 "DistributionConfig, or a CloudFormation template");
	cloudfront_fails("{'DistributionList': {'Items': []}}",
			 "DistributionList.Items: no distribution in this list");
	cloudfront_fails("{'DistributionConfig': 'x'}",
			 "DistributionConfig: expected an object, got a string");
}

static void test_cloudfront_syntax(void **state)
{
	char *path = write_raw("cf-syntax.json", "{\"DistributionConfig\": {\"Origins\" 1}}");
	oa_config *c = NULL;
	oa_error err;
	char want[OA_ERROR_MSG_MAX];

	int rc = oa_config_load_cloudfront_file(path, &c, &err);
	assert_int_equal(rc, -EBADMSG);
	snprintf(want, sizeof(want), "%s:1:35: ':' expected near '1'", path);
	assert_string_equal(err.msg, want);
	free(path);
}

/* ---- Lint ---- */

static oa_lint *lint(const oa_config *c, size_t *n)
{
	oa_lint *lints = NULL;

	*n = 12345;
	assert_int_equal(oa_config_lint(c, &lints, n), 0);
	return lints;
}

static void assert_lint(const oa_lint *l, const char *path, const char *message_part)
{
	assert_string_equal(l->path, path);
	if (strstr(l->message, message_part) == NULL) {
		fail_msg("lint message \"%s\" lacks \"%s\"", l->message, message_part);
	}
}

static void test_lint_clean(void **state)
{
	oa_config *c = load_ok(
	    "{'aliases': ['www.example.com'],"
	    " 'origins': [{'id': 'web', 'domain_name': 'web.example.com'},"
	    "  {'id': 'api', 'domain_name': 'api.example.com', 'protocol_policy': "
	    "'match-viewer', 'ssl_protocols': ['TLSv1.2', 'TLSv1.3']},"
	    "  {'id': 'old', 'domain_name': 'old.example.com', 'protocol_policy': 'http-only',"
	    "   'ssl_protocols': ['SSLv3']}],"
	    " 'behaviors': [{'path_pattern': '/api/v1/*', 'origin': 'api',"
	    "   'viewer_protocol_policy': 'https-only'},"
	    "  {'path_pattern': '/api/*', 'origin': 'api', 'viewer_protocol_policy': "
	    "'redirect-to-https'},"
	    "  {'path_pattern': '/old', 'origin': 'old'},"
	    "  {'path_pattern': '/old/*', 'origin': 'old'}],"
	    " 'default_behavior': {'origin': 'web'}}");
	size_t n;
	oa_lint *lints = lint(c, &n);

	if (n != 0) {
		fail_msg("unexpected lint %s: %s", lints[0].path, lints[0].message);
	}
	free(lints);
	oa_config_destroy(c);

	/* Without behaviours nothing is "unused". */
	c = load_ok("{'origins': [" ORIGIN_A ", {'id': 'b', 'domain_name': 'b.test'}]}");
	lints = lint(c, &n);
	assert_int_equal(n, 0);
	free(lints);
	oa_config_destroy(c);
}

static void test_lint_match_viewer(void **state)
{
	oa_config *c = load_ok("{'origins': [{'id': 'mv', 'domain_name': 'mv.example.com',"
			       " 'protocol_policy': 'match-viewer'}],"
			       " 'behaviors': [{'path_pattern': '/safe/*', 'origin': 'mv',"
			       "   'viewer_protocol_policy': 'redirect-to-https'},"
			       "  {'path_pattern': '/open/*', 'origin': 'mv'}],"
			       " 'default_behavior': {'origin': 'mv', 'viewer_protocol_policy': "
			       "'allow-all'}}");
	size_t n;
	oa_lint *lints = lint(c, &n);

	assert_int_equal(n, 2);
	assert_lint(&lints[0], "behaviors[1]",
		    "origin \"mv\" uses protocol_policy match-viewer and this behaviour's "
		    "viewer_protocol_policy is allow-all");
	assert_lint(&lints[0], "behaviors[1]",
		    "CloudFront advises match-viewer only with redirect-to-https or https-only");
	assert_lint(&lints[1], "default_behavior", "match-viewer");
	free(lints);
	oa_config_destroy(c);
}

struct shadow_case {
	const char *earlier;
	const char *later;
	bool shadowed;
};

static const struct shadow_case shadow_cases[] = {
    {"/api/*", "/api/*", true},
    {"/img/a.png", "/img/a.png", true},
    {"/api/*", "/api/v1/*", true},
    {"/api/*", "/api/v1/users", true},
    {"/api*", "/api/v1/*", true},
    {"*", "/anything/*", true},
    {"/*", "x/y", true},
    /* The leading '/' is optional on both sides. */
    {"api/*", "/api/v1/*", true},
    {"/api/*", "api/v1/*", true},
    {"api/*", "api/*", true},
    {"*.jpg", "/img/*.jpg", true},
    {"/a?c", "/abc", true},
    {"/a*", "/a?", true},
    {"/a?*", "/a*?", true},
    {"/api/v1/*", "/api/*", false},
    {"/api/v1/*", "/api/v2/*", false},
    {"/api", "/api/*", false},
    {"/api/*", "/api", false},
    {"/api/*", "/apix", false},
    {"/a?c", "/a*c", false},
    {"/abc", "/a?c", false},
    {"/img/*.jpg", "*.jpg", false},
    {"/API/*", "/api/*", false},
};

static void test_lint_shadowed(void **state)
{
	for (size_t i = 0; i < sizeof(shadow_cases) / sizeof(shadow_cases[0]); i++) {
		const struct shadow_case *sc = &shadow_cases[i];
		json_t *root =
		    json_pack("{s:[{s:s,s:s}], s:[{s:s,s:s},{s:s,s:s}]}", "origins", "id", "a",
			      "domain_name", "a.test", "behaviors", "path_pattern", sc->earlier,
			      "origin", "a", "path_pattern", sc->later, "origin", "a");
		oa_config *c = NULL;
		oa_error err;
		size_t n;

		assert_non_null(root);
		if (oa_config_from_json(root, "shadow", &c, &err) != 0) {
			fail_msg("%s", err.msg);
		}
		json_decref(root);
		oa_lint *lints = lint(c, &n);
		if (n != (sc->shadowed ? 1u : 0u)) {
			fail_msg("\"%s\" then \"%s\": %zu findings, expected %s", sc->earlier,
				 sc->later, n, sc->shadowed ? "one" : "none");
		}
		if (sc->shadowed) {
			char want[256];

			snprintf(want, sizeof(want),
				 "path pattern \"%s\" is never used: the earlier behaviors[0] "
				 "(\"%s\") matches every path it matches",
				 sc->later, sc->earlier);
			assert_lint(&lints[0], "behaviors[1]", want);
		}
		free(lints);
		oa_config_destroy(c);
	}
}

/* Builds a configuration with n_origins origins and n_behaviors behaviours, all used. */
static oa_config *sized_config(size_t n_origins, size_t n_behaviors)
{
	json_t *origins = json_array();
	json_t *behaviors = json_array();
	oa_config *c = NULL;
	oa_error err;
	char id[32];
	char domain[64];
	char pattern[64];

	for (size_t i = 0; i < n_origins; i++) {
		snprintf(id, sizeof(id), "o%zu", i);
		snprintf(domain, sizeof(domain), "o%zu.example.com", i);
		json_array_append_new(origins,
				      json_pack("{s:s,s:s}", "id", id, "domain_name", domain));
	}
	for (size_t i = 0; i < n_behaviors; i++) {
		snprintf(id, sizeof(id), "o%zu", i % n_origins);
		snprintf(pattern, sizeof(pattern), "/p%zu/*", i);
		json_array_append_new(
		    behaviors, json_pack("{s:s,s:s}", "path_pattern", pattern, "origin", id));
	}
	json_t *root = json_pack("{s:o, s:o, s:{s:s}}", "origins", origins, "behaviors", behaviors,
				 "default_behavior", "origin", "o0");
	assert_non_null(root);
	if (oa_config_from_json(root, "sized", &c, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	json_decref(root);
	return c;
}

static void test_lint_quotas(void **state)
{
	oa_config *c = sized_config(25, 25);
	size_t n;
	oa_lint *lints = lint(c, &n);

	assert_int_equal(n, 0);
	free(lints);
	oa_config_destroy(c);

	c = sized_config(26, 26);
	lints = lint(c, &n);
	assert_int_equal(n, 2);
	assert_lint(&lints[0], "origins",
		    "26 origins: CloudFront's default quota is 25 per distribution");
	assert_lint(&lints[1], "behaviors",
		    "26 behaviours besides the default: CloudFront's default quota is 25");
	free(lints);
	oa_config_destroy(c);
}

static void test_lint_weak_protocols(void **state)
{
	oa_config *c =
	    load_ok("{'origins': [{'id': 'a', 'domain_name': 'a.test', 'ssl_protocols': "
		    "['SSLv3', 'TLSv1', 'TLSv1.2']},"
		    " {'id': 'b', 'domain_name': 'b.test', 'ssl_protocols': ['TLSv1.2']},"
		    " {'id': 'c', 'domain_name': 'c.test', 'ssl_protocols': ['TLSv1']},"
		    " {'id': 'd', 'domain_name': 'd.test', 'ssl_protocols': ['SSLv3'],"
		    "  'protocol_policy': 'match-viewer'},"
		    " {'id': 'e', 'domain_name': 'e.test', 'ssl_protocols': ['SSLv3'],"
		    "  'protocol_policy': 'http-only'}]}");
	size_t n;
	oa_lint *lints = lint(c, &n);

	/* e never uses TLS toward the origin, so its ssl_protocols do not matter. */
	assert_int_equal(n, 3);
	assert_lint(&lints[0], "origins[0].ssl_protocols",
		    "origin \"a\" allows SSLv3 and TLSv1, which are insecure");
	assert_lint(&lints[1], "origins[2].ssl_protocols",
		    "origin \"c\" allows TLSv1, which is insecure");
	assert_lint(&lints[2], "origins[3].ssl_protocols",
		    "origin \"d\" allows SSLv3, which is insecure");
	free(lints);
	oa_config_destroy(c);
}

/* ip_address_type: absent is dualstack; the explicit addresses match the family. */
static void test_load_ip_address_type(void **state)
{
	oa_config *c =
	    load_ok("{'origins': [{'id': 'a', 'domain_name': 'a.test'},"
		    " {'id': 'b', 'domain_name': 'b.test', 'ip_address_type': 'ipv4',"
		    "  'addresses': ['192.0.2.1']},"
		    " {'id': 'c', 'domain_name': 'c.test', 'ip_address_type': 'ipv6',"
		    "  'addresses': ['2001:db8::1']},"
		    " {'id': 'd', 'domain_name': 'd.test', 'ip_address_type': 'dualstack',"
		    "  'addresses': ['192.0.2.1', '2001:db8::1']}]}");

	assert_int_equal(c->origins[0].ip_address_type, OA_IP_DUALSTACK);
	assert_int_equal(c->origins[1].ip_address_type, OA_IP_IPV4);
	assert_int_equal(c->origins[2].ip_address_type, OA_IP_IPV6);
	assert_int_equal(c->origins[3].ip_address_type, OA_IP_DUALSTACK);
	assert_false(c->origins[0].vpc);
	assert_null(c->origins[0].vpc_origin_id);
	assert_string_equal(oa_ip_address_type_name(OA_IP_IPV4), "ipv4");
	assert_string_equal(oa_ip_address_type_name(OA_IP_IPV6), "ipv6");
	assert_string_equal(oa_ip_address_type_name(OA_IP_DUALSTACK), "dualstack");
	oa_config_destroy(c);
}

/*
 * A VPC origin is read like a custom origin (not skipped as S3): id and
 * timeouts from VpcOriginConfig, https-only on 443 with TLSv1.2 by default,
 * and the endpoint's ports and policy when copied into the object.
 */
static void test_cloudfront_vpc_origin(void **state)
{
	oa_config *c = cloudfront_ok(
	    "{'DistributionConfig': {'Origins': {'Quantity': 2, 'Items': ["
	    "   {'Id': 'alb', 'DomainName': 'internal-app-123.eu-west-1.elb.amazonaws.com',"
	    "    'VpcOriginConfig': {'VpcOriginId': 'vo_abc123', 'OwnerAccountId': '111122223333',"
	    "     'OriginReadTimeout': 45, 'OriginKeepaliveTimeout': 10}},"
	    "   {'Id': 'ec2', 'DomainName': 'ip-10-0-0-5.ec2.internal',"
	    "    'VpcOriginConfig': {'VpcOriginId': 'vo_def456', 'HTTPPort': 8080,"
	    "     'HTTPSPort': 8443, 'OriginProtocolPolicy': 'match-viewer',"
	    "     'IpAddressType': 'ipv4',"
	    "     'OriginSslProtocols': {'Quantity': 1, 'Items': ['TLSv1.2']}}}]},"
	    " 'DefaultCacheBehavior': {'TargetOriginId': 'alb'}}}");

	assert_int_equal(c->n_origins, 2);
	const oa_origin_config *o = &c->origins[0];
	assert_true(o->vpc);
	assert_false(o->s3);
	assert_string_equal(o->vpc_origin_id, "vo_abc123");
	assert_string_equal(o->domain_name, "internal-app-123.eu-west-1.elb.amazonaws.com");
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTPS_ONLY);
	assert_int_equal(o->https_port, 443);
	assert_int_equal(o->http_port, 80);
	assert_int_equal(o->ssl_protocols, OA_PROTO_TLS1_2);
	assert_int_equal(o->ip_address_type, OA_IP_DUALSTACK);
	assert_int_equal(o->read_timeout_s, 45);
	assert_int_equal(o->keepalive_timeout_s, 10);

	o = &c->origins[1];
	assert_true(o->vpc);
	assert_false(o->s3);
	assert_string_equal(o->vpc_origin_id, "vo_def456");
	assert_int_equal(o->protocol_policy, OA_ORIGIN_MATCH_VIEWER);
	assert_int_equal(o->https_port, 8443);
	assert_int_equal(o->http_port, 8080);
	assert_int_equal(o->ip_address_type, OA_IP_IPV4);
	oa_config_destroy(c);
}

/* CustomOriginConfig.IpAddressType: absent is dualstack. */
static void test_cloudfront_ip_address_type(void **state)
{
	oa_config *c =
	    cloudfront_ok("{'Origins': {'Quantity': 4, 'Items': ["
			  "   {'Id': 'a', 'DomainName': 'a.example.com', 'CustomOriginConfig': {}},"
			  "   {'Id': 'b', 'DomainName': 'b.example.com',"
			  "    'CustomOriginConfig': {'IpAddressType': 'ipv4'}},"
			  "   {'Id': 'c', 'DomainName': 'c.example.com',"
			  "    'CustomOriginConfig': {'IpAddressType': 'ipv6'}},"
			  "   {'Id': 'd', 'DomainName': 'd.example.com',"
			  "    'CustomOriginConfig': {'IpAddressType': 'dualstack'}}]}}");

	assert_int_equal(c->origins[0].ip_address_type, OA_IP_DUALSTACK);
	assert_int_equal(c->origins[1].ip_address_type, OA_IP_IPV4);
	assert_int_equal(c->origins[2].ip_address_type, OA_IP_IPV6);
	assert_int_equal(c->origins[3].ip_address_type, OA_IP_DUALSTACK);
	for (size_t i = 0; i < 4; i++) {
		assert_false(c->origins[i].vpc);
		assert_false(c->origins[i].s3);
	}
	oa_config_destroy(c);
}

static void test_cloudfront_vpc_and_ip_errors(void **state)
{
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'CustomOriginConfig': {'IpAddressType': 'IPv6'}}"),
			 "DistributionConfig.Origins.Items[1].CustomOriginConfig.IpAddressType: "
			 "expected ipv4, ipv6 or dualstack, got \"IPv6\"");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'CustomOriginConfig': {'IpAddressType': 6}}"),
			 "DistributionConfig.Origins.Items[1].CustomOriginConfig.IpAddressType: "
			 "expected ipv4, ipv6 or dualstack, got an integer");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'VpcOriginConfig': {'OriginReadTimeout': 30}}"),
			 "DistributionConfig.Origins.Items[1].VpcOriginConfig: missing required "
			 "key \"VpcOriginId\"");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'VpcOriginConfig': {'VpcOriginId': ''}}"),
			 "DistributionConfig.Origins.Items[1].VpcOriginConfig.VpcOriginId: must "
			 "not be empty");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'VpcOriginConfig': 'vo_1'}"),
			 "DistributionConfig.Origins.Items[1].VpcOriginConfig: expected an "
			 "object, got a string");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'VpcOriginConfig': {'VpcOriginId': 'vo_1',"
					  " 'HTTPSPort': 22}}"),
			 "DistributionConfig.Origins.Items[1].VpcOriginConfig.HTTPSPort: 22 is "
			 "not allowed: use 80, 443 or 1024-65535");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'VpcOriginConfig': {'VpcOriginId': 'vo_1',"
					  " 'OriginReadTimeout': 0}}"),
			 "DistributionConfig.Origins.Items[1].VpcOriginConfig.OriginReadTimeout: "
			 "0 is out of range 1-3600");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'VpcOriginConfig': {'VpcOriginId': 'vo_1',"
					  " 'IpAddressType': 'ipv6'}}"),
			 "DistributionConfig.Origins.Items[1].VpcOriginConfig.IpAddressType: ipv6 "
			 "is not supported for VPC origins: expected ipv4 or dualstack");
	cloudfront_fails(CF_ORIGINS(CF_O1 ", {'Id': 'b', 'DomainName': 'b.example.com',"
					  " 'CustomOriginConfig': {},"
					  " 'VpcOriginConfig': {'VpcOriginId': 'vo_1'}}"),
			 "DistributionConfig.Origins.Items[1]: \"CustomOriginConfig\" and "
			 "\"VpcOriginConfig\" both given: an origin has one of them");
}

/* An origin group lists its members; every one is read, in failover order. */
#define CF_GROUP_DIST(members)                                                                     \
	"{'DistributionConfig': {'Origins': {'Quantity': 3, 'Items': ["                            \
	"   {'Id': 'main', 'DomainName': 'main.example.com', 'CustomOriginConfig': {}},"           \
	"   {'Id': 'spare', 'DomainName': 'spare.example.com',"                                    \
	"    'VpcOriginConfig': {'VpcOriginId': 'vo_1'}},"                                         \
	"   {'Id': 'other', 'DomainName': 'other.example.com', 'CustomOriginConfig': {}}]},"       \
	" 'OriginGroups': {'Quantity': 1, 'Items': [{'Id': 'grp',"                                 \
	"   'FailoverCriteria': {'StatusCodes': {'Quantity': 1, 'Items': [503]}},"                 \
	"   'Members': {'Quantity': 2, 'Items': [" members "]}}]},"                                \
	" 'DefaultCacheBehavior': {'TargetOriginId': 'grp'}}}"

static void test_cloudfront_origin_group(void **state)
{
	oa_config *c = cloudfront_ok(CF_GROUP_DIST("{'OriginId': 'main'}, {'OriginId': 'spare'}"));

	assert_true(c->has_default_behavior);
	assert_string_equal(c->default_behavior.origin_id, "main");
	assert_int_equal(c->default_behavior.origin_index, 0);
	assert_int_equal(c->default_behavior.n_group_members, 2);
	assert_int_equal(c->default_behavior.group_members[0], 0);
	assert_int_equal(c->default_behavior.group_members[1], 1);
	assert_true(c->origins[1].vpc);

	/* The failover member is reached; only "other" is unused. */
	size_t n;
	oa_lint *lints = lint(c, &n);
	assert_int_equal(n, 1);
	assert_lint(&lints[0], "origins[2]",
		    "no behaviour routes to origin \"other\", so CloudFront never contacts it");
	free(lints);
	oa_config_destroy(c);

	/* A behaviour aimed straight at an origin has no group members. */
	c = cloudfront_ok("{'Origins': {'Quantity': 1, 'Items': [" CF_O1 "]},"
			  " 'DefaultCacheBehavior': {'TargetOriginId': 'a'}}");
	assert_int_equal(c->default_behavior.n_group_members, 0);
	assert_null(c->default_behavior.group_members);
	oa_config_destroy(c);
}

static void test_cloudfront_origin_group_errors(void **state)
{
	cloudfront_fails(CF_GROUP_DIST("{'OriginId': 'main'}, {'OriginId': 'gone'}"),
			 "DistributionConfig.OriginGroups.Items[0].Members.Items[1].OriginId: no "
			 "origin with id \"gone\"");
	cloudfront_fails(CF_GROUP_DIST("{'OriginId': 'main'}, {'Origin': 'spare'}"),
			 "DistributionConfig.OriginGroups.Items[0].Members.Items[1].OriginId: "
			 "expected a string, got nothing");
	cloudfront_fails(CF_GROUP_DIST("{'OriginId': 'main'}, 'spare'"),
			 "DistributionConfig.OriginGroups.Items[0].Members.Items[1]: expected an "
			 "object, got a string");
}

/* The realistic distribution's failover member "api-dr" also gets the group's behaviour. */
static void test_lint_group_failover_member(void **state)
{
	char *path = data_path("cloudfront-distribution.json");
	oa_config *c = NULL;
	oa_error err;

	oa_error_clear(&err);
	if (oa_config_load_cloudfront_file(path, &c, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	free(path);
	/* Without its own behaviour, api-dr is reached only as the group's failover member. */
	free(c->behaviors[3].path_pattern);
	free(c->behaviors[3].origin_id);
	c->n_behaviors = 3;
	assert_int_equal(c->behaviors[0].n_group_members, 2);
	assert_int_equal(c->behaviors[0].group_members[0], 1);
	assert_int_equal(c->behaviors[0].group_members[1], 2);

	oa_lint *lints = NULL;
	size_t n = 99;
	assert_int_equal(oa_config_lint(c, &lints, &n), 0);
	assert_int_equal(n, 0);
	free(lints);
	oa_config_destroy(c);
}

static void test_lint_unused_origin(void **state)
{
	oa_config *c =
	    load_ok("{'origins': [" ORIGIN_A ", {'id': 'spare', 'domain_name': 'b.test'},"
		    " {'id': 'c', 'domain_name': 'c.test'}],"
		    " 'behaviors': [{'path_pattern': '/c/*', 'origin': 'c'}]}");
	size_t n;
	oa_lint *lints = lint(c, &n);

	assert_int_equal(n, 2);
	assert_lint(&lints[0], "origins[0]", "no behaviour routes to origin \"a\"");
	assert_lint(&lints[1], "origins[1]",
		    "no behaviour routes to origin \"spare\", so CloudFront never contacts it "
		    "(informational: it is still scanned)");
	free(lints);
	oa_config_destroy(c);

	/* The default behaviour alone counts as configured behaviours. */
	c = load_ok("{'origins': [" ORIGIN_A ", {'id': 'spare', 'domain_name': 'b.test'}],"
		    " 'default_behavior': {'origin': 'a'}}");
	lints = lint(c, &n);
	assert_int_equal(n, 1);
	assert_lint(&lints[0], "origins[1]", "\"spare\"");
	free(lints);
	oa_config_destroy(c);
}

/* ---- Many origins: ids and aliases are looked up in a hash table ---- */

#define MANY 5000

/* MANY origins o0 .. o4999, with behaviours and default behaviour at both ends. */
static json_t *many_origins(void)
{
	json_t *origins = json_array();
	char id[32];
	char domain[64];

	assert_non_null(origins);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(id, sizeof(id), "o%zu", i);
		snprintf(domain, sizeof(domain), "o%zu.example.com", i);
		assert_int_equal(json_array_append_new(origins, json_pack("{s:s,s:s}", "id", id,
									  "domain_name", domain)),
				 0);
	}
	json_t *root =
	    json_pack("{s:o, s:[{s:s,s:s},{s:s,s:s}], s:{s:s}}", "origins", origins, "behaviors",
		      "path_pattern", "/last/*", "origin", "o4999", "path_pattern", "/mid/*",
		      "origin", "o2500", "default_behavior", "origin", "o0");
	assert_non_null(root);
	return root;
}

/* Writes root to tmpdir/name (steals root); returns the path. */
static char *dump_config(const char *name, json_t *root)
{
	char *path = fx_path(tmpdir, name);

	assert_int_equal(json_dump_file(root, path, 0), 0);
	json_decref(root);
	return path;
}

static void set_origin_id(json_t *root, size_t index, const char *id)
{
	json_t *o = json_array_get(json_object_get(root, "origins"), index);

	assert_int_equal(json_object_set_new(o, "id", json_string(id)), 0);
}

static void test_many_origins_unique(void **state)
{
	json_t *root = many_origins();
	oa_config *c = NULL;
	oa_error err;

	/* Ids are compared as bytes: case and prefixes make different ids. */
	set_origin_id(root, 1, "O1");
	set_origin_id(root, 2, "o1x");
	char *path = dump_config("many.json", root);
	oa_error_clear(&err);
	if (oa_config_load_file(path, &c, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	assert_int_equal(c->n_origins, MANY);
	assert_string_equal(c->origins[MANY - 1].id, "o4999");
	assert_int_equal(c->behaviors[0].origin_index, MANY - 1);
	assert_int_equal(c->behaviors[1].origin_index, 2500);
	assert_int_equal(c->default_behavior.origin_index, 0);

	/* Every origin but the three named is reported unused, in order. */
	size_t n;
	oa_lint *lints = lint(c, &n);
	assert_int_equal(n, 1 + MANY - 3);
	assert_lint(&lints[0], "origins", "5000 origins");
	assert_lint(&lints[1], "origins[1]", "\"O1\"");
	assert_lint(&lints[n - 1], "origins[4998]", "\"o4998\"");
	free(lints);
	oa_config_destroy(c);
	free(path);
}

static void test_many_origins_duplicate(void **state)
{
	char expected[128];
	json_t *root = many_origins();
	oa_config *c = (oa_config *)&c;
	oa_error err;

	/* The first repeat is named, even with a later one and a later error. */
	set_origin_id(root, MANY - 2, "o17");
	set_origin_id(root, MANY - 1, "o0");
	char *path = dump_config("many-dup.json", root);
	int rc = oa_config_load_file(path, &c, &err);
	assert_null(c);
	snprintf(expected, sizeof(expected), "origins[%d].id: duplicate id \"o17\"", MANY - 2);
	assert_error(rc, &err, -EINVAL, path, expected);
	free(path);

	/* A reference to an origin that is not there is still refused. */
	root = many_origins();
	json_t *b = json_array_get(json_object_get(root, "behaviors"), 1);
	assert_int_equal(json_object_set_new(b, "origin", json_string("o5000")), 0);
	path = dump_config("many-ref.json", root);
	rc = oa_config_load_file(path, &c, &err);
	assert_null(c);
	assert_error(rc, &err, -EINVAL, path, "behaviors[1].origin: no origin with id \"o5000\"");
	free(path);
}

static void test_many_aliases(void **state)
{
	json_t *aliases = json_array();
	json_t *root = NULL;
	oa_config *c = NULL;
	oa_error err;
	char name[64];

	assert_non_null(aliases);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "h%zu.example.com", i);
		assert_int_equal(json_array_append_new(aliases, json_string(name)), 0);
	}
	root = json_pack("{s:O, s:[{s:s,s:s}]}", "aliases", aliases, "origins", "id", "a",
			 "domain_name", "a.example.com");
	assert_non_null(root);
	char *path = dump_config("many-aliases.json", root);
	oa_error_clear(&err);
	if (oa_config_load_file(path, &c, &err) != 0) {
		fail_msg("%s", err.msg);
	}
	assert_int_equal(c->n_aliases, MANY);
	oa_config_destroy(c);
	free(path);

	assert_int_equal(json_array_set_new(aliases, MANY - 1, json_string("h5.example.com")), 0);
	root = json_pack("{s:o, s:[{s:s,s:s}]}", "aliases", aliases, "origins", "id", "a",
			 "domain_name", "a.example.com");
	assert_non_null(root);
	path = dump_config("many-aliases-dup.json", root);
	c = (oa_config *)&c;
	int rc = oa_config_load_file(path, &c, &err);
	assert_null(c);
	assert_error(rc, &err, -EINVAL, path, "aliases[4999]: duplicate alias \"h5.example.com\"");
	free(path);
}

/* The CloudFront import: same check, AWS's path; TargetOriginId found among them all. */
static void test_cloudfront_many_origins(void **state)
{
	char expected[160];
	char id[32];
	char domain[64];
	oa_config *c = NULL;
	oa_error err;

	for (int dup = 0; dup < 2; dup++) {
		json_t *items = json_array();

		assert_non_null(items);
		for (size_t i = 0; i < MANY; i++) {
			snprintf(id, sizeof(id), "o%zu", dup && i == MANY - 1 ? (size_t)17 : i);
			snprintf(domain, sizeof(domain), "o%zu.example.com", i);
			assert_int_equal(
			    json_array_append_new(
				items, json_pack("{s:s,s:s}", "Id", id, "DomainName", domain)),
			    0);
		}
		json_t *root = json_pack("{s:{s:{s:i,s:o}, s:{s:s}}}", "DistributionConfig",
					 "Origins", "Quantity", MANY, "Items", items,
					 "DefaultCacheBehavior", "TargetOriginId", "o4998");
		assert_non_null(root);
		char *path = dump_config("cf-many.json", root);
		c = dup ? (oa_config *)&c : NULL;
		int rc = oa_config_load_cloudfront_file(path, &c, &err);
		if (dup) {
			assert_null(c);
			snprintf(expected, sizeof(expected),
				 "DistributionConfig.Origins.Items[%d].Id: duplicate id \"o17\"",
				 MANY - 1);
			assert_error(rc, &err, -EINVAL, path, expected);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(c->n_origins, MANY);
			assert_int_equal(c->default_behavior.origin_index, MANY - 2);
			oa_config_destroy(c);
		}
		free(path);
	}
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_load_full),
	    cmocka_unit_test(test_load_defaults),
	    cmocka_unit_test(test_load_behavior_defaults),
	    cmocka_unit_test(test_load_expiry_thresholds),
	    cmocka_unit_test(test_load_limits),
	    cmocka_unit_test(test_load_wildcard_alias),
	    cmocka_unit_test(test_load_proxy),
	    cmocka_unit_test(test_load_fd),
	    cmocka_unit_test(test_load_proxy_defaults),
	    cmocka_unit_test(test_load_proxy_limits),
	    cmocka_unit_test(test_load_proxy_operations_low),
	    cmocka_unit_test(test_load_proxy_operations_high),
	    cmocka_unit_test(test_load_proxy_cache),
	    cmocka_unit_test(test_relative_paths),
	    cmocka_unit_test(test_relative_paths_cwd),
	    cmocka_unit_test(test_access_log_paths),
	    cmocka_unit_test(test_from_json),
	    cmocka_unit_test(test_proto_name),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_syntax_error_unterminated),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_directory),
	    cmocka_unit_test(test_cloudfront_realistic),
	    cmocka_unit_test(test_cloudfront_bare),
	    cmocka_unit_test(test_cloudfront_no_custom_config),
	    cmocka_unit_test(test_cloudfront_errors),
	    cmocka_unit_test(test_cloudfront_syntax),
	    cmocka_unit_test(test_lint_clean),
	    cmocka_unit_test(test_lint_match_viewer),
	    cmocka_unit_test(test_lint_shadowed),
	    cmocka_unit_test(test_lint_quotas),
	    cmocka_unit_test(test_lint_weak_protocols),
	    cmocka_unit_test(test_lint_unused_origin),
	    cmocka_unit_test(test_load_ip_address_type),
	    cmocka_unit_test(test_cloudfront_vpc_origin),
	    cmocka_unit_test(test_cloudfront_ip_address_type),
	    cmocka_unit_test(test_cloudfront_vpc_and_ip_errors),
	    cmocka_unit_test(test_cloudfront_origin_group),
	    cmocka_unit_test(test_cloudfront_origin_group_errors),
	    cmocka_unit_test(test_lint_group_failover_member),
	    cmocka_unit_test(test_many_origins_unique),
	    cmocka_unit_test(test_many_origins_duplicate),
	    cmocka_unit_test(test_many_aliases),
	    cmocka_unit_test(test_cloudfront_many_origins),
	};
	enum { N_FIXED = sizeof(fixed) / sizeof(fixed[0]) };
	/* Every validation error is its own named case. */
	static struct CMUnitTest tests[N_FIXED + N_INVALID];
	static char names[N_INVALID][64];

	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < N_INVALID; i++) {
		snprintf(names[i], sizeof(names[i]), "invalid_%s", invalid_cases[i].name);
		tests[N_FIXED + i] = (struct CMUnitTest){
		    .name = names[i],
		    .test_func = test_invalid,
		    .initial_state = (void *)&invalid_cases[i],
		};
	}
	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
