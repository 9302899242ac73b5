/*
 * originaudit-proxy end to end: the real binary, configured per test, in
 * front of origins this process runs on loopback (an echo origin over plain
 * HTTP or TLS that serves a chain in exactly the given order, tarpits,
 * openssl s_server), driven by raw sockets and a blocking GnuTLS client so
 * that every byte the proxy sees is chosen by the test. The harness is
 * proxy_harness.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy_harness.h"

#define HUNDRED_MB (100ULL * 1024 * 1024)
/* The proxy's peak RSS bound for a 100 MB body: well under the body, so nothing is buffered
 * whole. */
#define RSS_BOUND_KB (64L * 1024)
/* The request line and Host of the bad requests with a body. */
#define POST_X "POST /x HTTP/1.1\r\nHost: " PH_WWW "\r\n"
/* The rest of a request after its Host value: a body of 5 bytes. */
#define FORM_HELLO "\r\nContent-Length: 5\r\n\r\nhello"

/* Starts the proxy (plain listener, debug headers) in front of origin (stolen) alone. */
static void start_debug(ph_env *e, json_t *origin)
{
	ph_start_proxy(e, ph_single_config(origin, ph_proxy_block(e, false, true, NULL)));
}

/* ---- 1. the happy path ---- */

static void test_happy_path(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_good_origin(e, "good");
	ph_resp *r = &e->resp;

	ph_start_https(e, o, ph_proxy_block(e, false, false, NULL));
	ph_exchange(e->port, false, "GET /hello?x=1 HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", false,
		    r);
	ph_expect_status(r, 200);
	assert_true(r->complete);
	ph_expect_field(r->head, "X-Cache", "Miss from originaudit");
	ph_expect_field(r->head, "X-Origin-Name", "good");
	ph_expect_field(r->head, "Content-Type", "text/plain");
	/* The body is the origin's echo of what it received, forwarded byte for byte. */
	char length[32];
	snprintf(length, sizeof(length), "%zu", r->body_len);
	ph_expect_field(r->head, "Content-Length", length);
	assert_true(ph_starts_with(r->body, "GET /hello?x=1 HTTP/1.1\r\nHost: " PH_HOST "\r\n"));
	assert_int_equal(r->body_len, strlen(r->body));
	ph_resp_free(r);
	struct ph_eo_counts n = ph_eo_counts(o);
	assert_int_equal(n.handshakes, 1);
	assert_int_equal(n.requests, 1);
	ph_finish(e);
}

/* Two requests on one viewer connection (over one pooled origin connection), then close. */
static void test_keep_alive(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_good_origin(e, "good");
	ph_resp *r = &e->resp;

	ph_start_https(e, o, ph_proxy_block(e, false, false, NULL));
	ph_vc *c = ph_vc_open(e->port, false);
	ph_vc_sends(c, "GET /first HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n");
	assert_int_equal(ph_vc_response(c, false, false, r), 0);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "Connection", "keep-alive");
	assert_non_null(strstr(r->body, "GET /first HTTP/1.1\r\n"));
	ph_resp_free(r);

	/* What the proxy announced holds: the connection takes a second request. */
	ph_vc_sends(c, "GET /again HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n");
	if (ph_vc_response(c, false, false, r) < 0) {
		fail_msg("the proxy closed the viewer connection after a response that said "
			 "\"Connection: keep-alive\"");
	}
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Cache", "Miss from originaudit");
	assert_non_null(strstr(r->body, "GET /again HTTP/1.1\r\n"));
	ph_expect_field(r->head, "X-Conn-Requests", "2");
	ph_resp_free(r);

	/* Connection: close from the viewer ends the connection after the response. */
	ph_vc_sends(c, "GET /last HTTP/1.1\r\nHost: " PH_WWW "\r\nConnection: close\r\n\r\n");
	assert_int_equal(ph_vc_response(c, false, false, r), 0);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "Connection", "close");
	assert_true(ph_vc_closed_by_peer(c, 3000));
	ph_resp_free(r);
	ph_vc_close(c);
	struct ph_eo_counts n = ph_eo_counts(o);
	assert_int_equal(n.connections, 1);
	assert_int_equal(n.requests, 3);
	ph_finish(e);
}

/*
 * Origin connections are kept alive and reused across viewer connections:
 * each of reqs, on its own viewer connection, must ride the same origin
 * connection (the echo origin numbers the requests of each connection).
 */
static void pooled_requests(ph_env *e, const char *const *reqs, size_t n)
{
	ph_eo *o = ph_good_origin(e, "good");
	json_t *oj = ph_origin_json("o", ph_eo_port(o), 0, "https-only");
	ph_resp *r = &e->resp;

	/* A stuck request fails in 3 s rather than the default 30. */
	json_object_set_new(oj, "read_timeout_s", json_integer(3));
	start_debug(e, oj);
	for (size_t i = 0; i < n; i++) {
		char got[16] = "";
		char want[16];

		ph_exchange(e->port, false, reqs[i], false, r);
		if (r->status != 200) {
			struct ph_eo_counts c = ph_eo_counts(o);

			fail_msg("request %zu: status %d; the origin has %zu connection(s), %zu "
				 "request head(s), %llu bytes received; response:\n%s",
				 i + 1, r->status, c.connections, c.requests, c.app_bytes, r->head);
		}
		snprintf(want, sizeof(want), "%zu", i + 1);
		ph_head_field(r->head, "X-Conn-Requests", 0, got, sizeof(got));
		if (strcmp(got, want) != 0) {
			fail_msg("request %zu was request %s of its origin connection, want %s "
				 "(origin connections so far: %zu)",
				 i + 1, got, want, ph_eo_counts(o).connections);
		}
		ph_resp_free(r);
	}
	assert_int_equal(ph_eo_counts(o).connections, 1);
	ph_finish(e);
}

static void test_origin_pool_reuse_get(void **state)
{
	static const char *const reqs[] = {
	    "GET /g1 HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n",
	    "GET /g2 HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n",
	};

	pooled_requests(*state, reqs, 2);
}

/* A request with a body on a pooled origin connection: the body must reach the origin. */
static void test_origin_pool_reuse_post(void **state)
{
	static const char *const reqs[] = {
	    "POST /p1 HTTP/1.1\r\nHost: " PH_WWW "\r\nContent-Length: 2\r\n\r\nhi",
	    "POST /p2 HTTP/1.1\r\nHost: " PH_WWW "\r\nContent-Length: 2\r\n\r\nhi",
	};

	pooled_requests(*state, reqs, 2);
}

static void test_x_cache_name(void **state)
{
	ph_env *e = *state;
	ph_eo *good = ph_good_origin(e, "good");
	ph_eo *bad = ph_bad_origin(e);
	ph_resp *r = &e->resp;

	ph_start_proxy(
	    e, ph_good_bad_config(good, bad, ph_proxy_block(e, false, false, "edge-7.test")));
	ph_get(e, false, "/ok", r);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Cache", "Miss from edge-7.test");
	ph_resp_free(r);
	ph_get(e, false, "/bad/x", r);
	ph_expect_status(r, 502);
	ph_expect_field(r->head, "X-Cache", "Error from edge-7.test");
	assert_string_equal(r->body, "502 Bad Gateway\n");
	ph_resp_free(r);
	ph_finish(e);
}

/*
 * The echo origin's controls ride on request fields the proxy forwards as
 * they are: the status, extra response fields, a generated body and a delay
 * all reach the viewer, and X-Origin-Request counts what reached the origin.
 */
static void test_echo_controls(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_plain_origin(e, "echo", PH_EO_ECHO);
	ph_resp *r = &e->resp;

	ph_start_http(e, o, ph_proxy_block(e, false, false, NULL));
	ph_exchange(e->port, false,
		    "GET /missing HTTP/1.1\r\nHost: " PH_WWW "\r\nX-Echo-Status: 404\r\n"
		    "X-Echo-Header: Cache-Control: max-age=60\r\n"
		    "X-Echo-Header: X-Test: two words\r\n\r\n",
		    false, r);
	ph_expect_status(r, 404);
	ph_expect_field(r->head, "Cache-Control", "max-age=60");
	ph_expect_field(r->head, "X-Test", "two words");
	ph_expect_field(r->head, "X-Origin-Name", "echo");
	ph_expect_field(r->head, "X-Origin-Request", "1");
	assert_true(ph_starts_with(r->body, "GET /missing HTTP/1.1\r\n"));
	ph_resp_free(r);

	uint64_t t0 = ph_now_ms();
	ph_exchange(e->port, false,
		    "GET /generated HTTP/1.1\r\nHost: " PH_WWW "\r\nX-Echo-Body-Size: 100000\r\n"
		    "X-Echo-Delay-Ms: 300\r\nX-Echo-Header: Content-Type: application/octet-stream"
		    "\r\n\r\n",
		    false, r);
	uint64_t elapsed = ph_now_ms() - t0;
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "Content-Type", "application/octet-stream");
	ph_expect_field(r->head, "Content-Length", "100000");
	ph_expect_field(r->head, "X-Origin-Request", "2");
	ph_expect_pattern_body("X-Echo-Body-Size: 100000", r, 100000);
	if (elapsed < 300) {
		fail_msg("answered after %llu ms despite X-Echo-Delay-Ms: 300",
			 (unsigned long long)elapsed);
	}
	ph_resp_free(r);

	/* A malformed control is the origin's 400, naming it. */
	ph_exchange(e->port, false,
		    "GET /bad HTTP/1.1\r\nHost: " PH_WWW "\r\nX-Echo-Status: 99x\r\n\r\n", false,
		    r);
	ph_expect_status(r, 400);
	ph_expect_field(r->head, "X-Origin-Request", "3");
	assert_string_equal(r->body, "bad X-Echo-Status: 99x\n");
	ph_resp_free(r);
	assert_int_equal(ph_eo_counts(o).requests, 3);
	ph_finish(e);
}

/* ---- 2. certificate failures: 502, and nothing but the handshake reached the origin ---- */

/* Serves chain from an echo origin and asserts the proxy refuses it with reason. */
static void refused_chain(ph_env *e, const oa_pki_cert *const *chain, size_t n, const char *reason)
{
	ph_eo *o = ph_tls_origin(e, "refused", chain, n);
	ph_resp *r = &e->resp;

	ph_start_https(e, o, ph_proxy_block(e, false, true, NULL));
	ph_get(e, false, "/secret?q=1", r);
	ph_expect_error(r, 502, reason);
	ph_expect_field(r->head, "Content-Type", "text/plain");
	assert_string_equal(r->body, "502 Bad Gateway\n");
	ph_resp_free(r);
	/* The origin's side: a completed handshake, then not one application byte. */
	for (int i = 0; i < 200 && ph_eo_counts(o).handshakes == 0; i++) {
		usleep(10000);
	}
	usleep(100000);
	struct ph_eo_counts c = ph_eo_counts(o);
	assert_int_equal(c.connections, 1);
	assert_int_equal(c.handshakes, 1);
	assert_int_equal(c.requests, 0);
	assert_int_equal(c.app_bytes, 0);
	ph_finish(e);
}

static void test_cert_untrusted_root(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {PH_HOST};
	oa_pki_spec root = fx_ca_spec("Other Root CA", 3650);
	oa_pki_spec inter = fx_ca_spec("Other Intermediate CA", 1825);
	oa_pki_spec leaf = ph_leaf_spec(names);
	const oa_pki_cert *r2 = ph_keep(e, fx_issue(&root, NULL));
	const oa_pki_cert *i2 = ph_keep(e, fx_issue(&inter, r2));
	/* The whole chain up to a root the proxy does not trust (without it: missing_intermediate).
	 */
	const oa_pki_cert *chain[] = {ph_keep(e, fx_issue(&leaf, i2)), i2, r2};

	refused_chain(e, chain, 3, "untrusted_root");
}

static void test_cert_missing_intermediate(void **state)
{
	ph_env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf};

	refused_chain(e, chain, 1, "missing_intermediate");
}

static void test_cert_expired(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {PH_HOST};
	oa_pki_spec spec = ph_leaf_spec(names);

	spec.not_before = time(NULL) - 30 * 86400;
	spec.not_after = time(NULL) - 86400;
	const oa_pki_cert *chain[] = {ph_keep(e, fx_issue(&spec, e->pki.inter)), e->pki.inter};
	refused_chain(e, chain, 2, "expired");
}

static void test_cert_not_yet_valid(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {PH_HOST};
	oa_pki_spec spec = ph_leaf_spec(names);

	spec.not_before = time(NULL) + 86400;
	spec.not_after = time(NULL) + 90 * 86400;
	const oa_pki_cert *chain[] = {ph_keep(e, fx_issue(&spec, e->pki.inter)), e->pki.inter};
	refused_chain(e, chain, 2, "not_yet_valid");
}

static void test_cert_self_signed(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {PH_HOST};
	oa_pki_spec spec = ph_leaf_spec(names);
	const oa_pki_cert *chain[] = {ph_keep(e, fx_issue(&spec, NULL))};

	refused_chain(e, chain, 1, "self_signed");
}

static void test_cert_wrong_order(void **state)
{
	ph_env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.root, e->pki.inter};

	refused_chain(e, chain, 3, "wrong_order");
}

/*
 * Starts openssl s_server (-cert_chain: the good leaf, then rest in file
 * order) with opts (NULL-ended) and returns its port; skips the test when
 * there is no openssl.
 */
static unsigned s_server(ph_env *e, const oa_pki_cert *const *rest, size_t n,
			 const char *const *opts)
{
	unsigned port = 0;

	if (e->openssl == NULL) {
		skip();
	}
	e->s_server_pid =
	    fx_s_server_start(e->openssl, e->dir, "127.0.0.1", e->pki.leaf, rest, n, opts, &port);
	return port;
}

/* The same wrong order served by openssl s_server -cert_chain (file order) with -www. */
static void test_cert_wrong_order_s_server(void **state)
{
	ph_env *e = *state;
	const oa_pki_cert *rest[] = {e->pki.root, e->pki.inter};
	static const char *const www[] = {"-www", NULL};
	unsigned port = s_server(e, rest, 2, www);
	ph_resp *r = &e->resp;

	start_debug(e, ph_origin_json("o", port, 0, "https-only"));
	ph_get(e, false, "/", r);
	ph_expect_error(r, 502, "wrong_order");
	ph_resp_free(r);
	ph_finish(e);
}

static void test_cert_wrong_name(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {"other.example.net"};
	oa_pki_spec spec = ph_leaf_spec(names);
	const oa_pki_cert *chain[] = {ph_keep(e, fx_issue(&spec, e->pki.inter)), e->pki.inter};

	refused_chain(e, chain, 2, "name_mismatch");
}

static void test_cert_sha1_leaf(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {PH_HOST};
	oa_pki_spec spec = ph_leaf_spec(names);

	spec.hash = GNUTLS_DIG_SHA1;
	const oa_pki_cert *chain[] = {ph_keep(e, fx_issue(&spec, e->pki.inter)), e->pki.inter};
	refused_chain(e, chain, 2, "sha1_signature");
}

/* Warn-level findings (root sent, expiring soon) are forwarded normally. */
static void test_cert_warnings_forward(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {PH_HOST};
	oa_pki_spec soon = ph_leaf_spec(names);
	const oa_pki_cert *with_root[] = {e->pki.leaf, e->pki.inter, e->pki.root};
	ph_resp *r = &e->resp;

	soon.not_after = time(NULL) + 3 * 86400;
	const oa_pki_cert *expiring[] = {ph_keep(e, fx_issue(&soon, e->pki.inter)), e->pki.inter};
	ph_eo *a = ph_tls_origin(e, "root-sent", with_root, 3);
	ph_eo *b = ph_tls_origin(e, "expiring", expiring, 2);
	ph_start_proxy(
	    e, ph_config(json_pack("[o, o]", ph_origin_json("a", ph_eo_port(a), 0, "https-only"),
				   ph_origin_json("b", ph_eo_port(b), 0, "https-only")),
			 json_pack("[o]", ph_behavior("/b/*", "b", "allow-all")), "a", "allow-all",
			 ph_proxy_block(e, false, true, NULL)));
	ph_get(e, false, "/a", r);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Origin-Name", "root-sent");
	ph_expect_field(r->head, "X-Originaudit-Reason", NULL);
	ph_get(e, false, "/b/x", r);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Origin-Name", "expiring");
	ph_resp_free(r);
	ph_finish(e);
}

/* Without debug_headers the reason stays in the proxy's log line of the request. */
static void test_cert_reason_only_in_log(void **state)
{
	ph_env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf};
	ph_eo *o = ph_tls_origin(e, "refused", chain, 1);
	ph_resp *r = &e->resp;

	ph_start_https(e, o, ph_proxy_block(e, false, false, NULL));
	ph_get(e, false, "/logged", r);
	ph_expect_error(r, 502, NULL);
	assert_null(strstr(r->head, "missing_intermediate"));
	assert_null(strstr(r->body, "missing_intermediate"));
	ph_resp_free(r);
	assert_int_equal(ph_eo_counts(o).requests, 0);
	ph_finish(e);
	char *log = ph_read_log(e);
	char *line = strstr(log, "/logged -> 502");
	bool found = line != NULL && strstr(line, "reason=missing_intermediate") != NULL;
	if (!found) {
		fprintf(stderr, "%s", log);
	}
	free(log);
	if (!found) {
		fail_msg("no log line of /logged with reason=missing_intermediate");
	}
}

/* ---- 3. forwarded Host ---- */

static void test_forwarded_host(void **state)
{
	ph_env *e = *state;
	static const char *const names[] = {PH_ALIAS};
	oa_pki_spec spec = ph_leaf_spec(names);
	/* A certificate that covers only the alias, not the origin's domain name. */
	const oa_pki_cert *chain[] = {ph_keep(e, fx_issue(&spec, e->pki.inter)), e->pki.inter};
	ph_eo *o = ph_tls_origin(e, "alias", chain, 2);
	json_t *fwd = ph_behavior("/fwd/*", "o", "allow-all");
	ph_resp *r = &e->resp;

	json_object_set_new(fwd, "forward_host_header", json_true());
	ph_start_proxy(
	    e, ph_config(json_pack("[o]", ph_origin_json("o", ph_eo_port(o), 0, "https-only")),
			 json_pack("[o]", fwd), "o", "allow-all",
			 ph_proxy_block(e, false, true, NULL)));

	/* Forwarded: the origin sees the viewer's Host, SNI is that name, the certificate covers
	 * it. */
	ph_exchange(e->port, false, "GET /fwd/a HTTP/1.1\r\nHost: " PH_ALIAS "\r\n\r\n", false, r);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Cache", "Miss from originaudit");
	ph_expect_field(r->body, "Host", PH_ALIAS);
	ph_resp_free(r);
	char sni[256];
	ph_eo_sni(o, sni, sizeof(sni));
	assert_string_equal(sni, PH_ALIAS);

	/* A forwarded Host with a port: the name part is what the certificate must cover. */
	ph_exchange(e->port, false, "GET /fwd/b HTTP/1.1\r\nHost: " PH_ALIAS ":8443\r\n\r\n", false,
		    r);
	ph_expect_status(r, 200);
	ph_expect_field(r->body, "Host", PH_ALIAS ":8443");
	ph_resp_free(r);

	/* A forwarded Host the certificate does not cover (nor does it cover the origin). */
	size_t before = ph_eo_counts(o).requests;
	ph_exchange(e->port, false, "GET /fwd/c HTTP/1.1\r\nHost: other.example.org\r\n\r\n", false,
		    r);
	ph_expect_status(r, 502);
	ph_expect_field(r->head, "X-Originaudit-Reason", "name_mismatch");
	ph_resp_free(r);

	/* Not forwarded: the name checked is the origin's domain, which this certificate lacks. */
	ph_exchange(e->port, false, "GET /plain HTTP/1.1\r\nHost: " PH_ALIAS "\r\n\r\n", false, r);
	ph_expect_status(r, 502);
	ph_expect_field(r->head, "X-Originaudit-Reason", "name_mismatch");
	ph_resp_free(r);
	assert_int_equal(ph_eo_counts(o).requests, before);
	ph_finish(e);
}

/* ---- 4. the request the origin receives ---- */

static void test_request_rewriting(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_plain_origin(e, "plain", PH_EO_ECHO);
	json_t *origin = ph_origin_json("o", 0, ph_eo_port(o), "http-only");
	char id1[128];
	char id2[128];
	ph_resp *r = &e->resp;

	json_object_set_new(origin, "origin_path", json_string("/prefix"));
	ph_start_proxy(e, ph_single_config(origin, ph_proxy_block(e, false, false, NULL)));
	ph_vc *c = ph_vc_open(e->port, false);
	ph_vc_sends(c, "GET /rw/path?q=1&r=%2F HTTP/1.1\r\n"
		       "Host: viewer.example.org\r\n"
		       "X-Forwarded-For: 1.2.3.4\r\n"
		       "X-Forwarded-Proto: https\r\n"
		       "X-Real-IP: 9.9.9.9\r\n"
		       "Connection: keep-alive, X-Hop\r\n"
		       "Keep-Alive: timeout=5\r\n"
		       "TE: trailers\r\n"
		       "Upgrade: h2c\r\n"
		       "Proxy-Connection: keep-alive\r\n"
		       "X-Hop: secret\r\n"
		       "X-Amz-Cf-Id: forged\r\n"
		       "Via: 1.0 client-proxy\r\n"
		       "X-Custom: kept as is\r\n"
		       "\r\n");
	assert_int_equal(ph_vc_response(c, false, false, r), 0);
	ph_expect_status(r, 200);
	const char *seen = r->body;
	if (!ph_starts_with(seen, "GET /prefix/rw/path?q=1&r=%2F HTTP/1.1\r\n")) {
		fail_msg("request line at the origin:\n%s", seen);
	}
	ph_expect_field(seen, "Host", PH_HOST);
	ph_expect_field(seen, "X-Forwarded-For", "1.2.3.4, 127.0.0.1");
	ph_expect_field(seen, "Via", "1.0 client-proxy, 1.1 originaudit-proxy");
	ph_expect_field(seen, "X-Forwarded-Proto", NULL);
	ph_expect_field(seen, "X-Real-IP", NULL);
	ph_expect_field(seen, "Connection", "keep-alive");
	ph_expect_field(seen, "Keep-Alive", NULL);
	ph_expect_field(seen, "TE", NULL);
	ph_expect_field(seen, "Upgrade", NULL);
	ph_expect_field(seen, "Proxy-Connection", NULL);
	ph_expect_field(seen, "X-Hop", NULL);
	ph_expect_field(seen, "X-Custom", "kept as is");
	assert_int_equal(ph_head_count(seen, "X-Amz-Cf-Id"), 1);
	assert_true(ph_head_field(seen, "X-Amz-Cf-Id", 0, id1, sizeof(id1)));
	assert_true(strlen(id1) >= 16);
	assert_string_not_equal(id1, "forged");
	ph_resp_free(r);
	ph_vc_close(c);

	/* Without X-Forwarded-For and Via from the viewer: one element each; a new request id. */
	ph_exchange(e->port, false, "GET / HTTP/1.1\r\nHost: viewer.example.org\r\n\r\n", false, r);
	ph_expect_status(r, 200);
	assert_true(ph_starts_with(r->body, "GET /prefix/ HTTP/1.1\r\n"));
	ph_expect_field(r->body, "X-Forwarded-For", "127.0.0.1");
	ph_expect_field(r->body, "Via", "1.1 originaudit-proxy");
	assert_true(ph_head_field(r->body, "X-Amz-Cf-Id", 0, id2, sizeof(id2)));
	assert_string_not_equal(id1, id2);

	/* An upgrade request: Upgrade is hop-by-hop too, and the origin sees a plain request. */
	ph_exchange(
	    e->port, false,
	    "GET /ws HTTP/1.1\r\nHost: viewer.example.org\r\nConnection: Upgrade\r\nUpgrade: "
	    "websocket\r\n\r\n",
	    false, r);
	ph_expect_status(r, 200);
	ph_expect_field(r->body, "Upgrade", NULL);
	ph_expect_field(r->body, "Connection", "keep-alive");
	ph_resp_free(r);
	ph_finish(e);
}

/* ---- 5. viewer protocol policies ---- */

/* Sends req to the plain listener: status, with Location location (NULL: none). */
static void expect_redirect(ph_env *e, const char *req, int status, const char *location)
{
	ph_resp *r = &e->resp;

	ph_exchange(e->port, false, req, false, r);
	ph_expect_status(r, status);
	ph_expect_field(r->head, "Location", location);
	ph_resp_free(r);
}

static void test_viewer_policies(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_good_origin(e, "good");
	ph_resp *r = &e->resp;

	ph_start_proxy(
	    e, ph_config(json_pack("[o]", ph_origin_json("o", ph_eo_port(o), 0, "https-only")),
			 json_pack("[o, o]", ph_behavior("/redir/*", "o", "redirect-to-https"),
				   ph_behavior("/secure/*", "o", "https-only")),
			 "o", "allow-all", ph_proxy_block(e, true, false, NULL)));

	/* allow-all: served over both listeners. */
	ph_expect_get(e, false, "/open", 200);
	ph_expect_get(e, true, "/open", 200);

	/* redirect-to-https, GET and HEAD: 301 to the same path and query over HTTPS. */
	size_t before = ph_eo_counts(o).requests;
	ph_get(e, false, "/redir/a/b?x=1&y=2", r);
	ph_expect_status(r, 301);
	ph_expect_field(r->head, "Location", "https://" PH_WWW "/redir/a/b?x=1&y=2");
	ph_expect_field(r->head, "Content-Length", "0");
	assert_int_equal(r->body_len, 0);
	ph_resp_free(r);
	ph_vc *c = ph_vc_open(e->port, false);
	ph_vc_sends(c, "HEAD /redir/h?z=9 HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n");
	assert_int_equal(ph_vc_response(c, true, false, r), 0);
	ph_expect_status(r, 301);
	ph_expect_field(r->head, "Location", "https://" PH_WWW "/redir/h?z=9");
	ph_resp_free(r);
	/* Nothing follows the head of a response to HEAD. */
	assert_true(ph_vc_no_more_bytes(c, 300));
	ph_vc_close(c);

	/* Other methods: 307 on HTTP/1.1, 403 on HTTP/1.0. */
	expect_redirect(e, "POST /redir/form?id=3 HTTP/1.1\r\nHost: " PH_WWW FORM_HELLO, 307,
			"https://" PH_WWW "/redir/form?id=3");
	expect_redirect(e, "POST /redir/form HTTP/1.0\r\nHost: " PH_WWW FORM_HELLO, 403, NULL);

	/* https-only: 403 over HTTP. */
	ph_get(e, false, "/secure/x", r);
	ph_expect_status(r, 403);
	ph_expect_field(r->head, "X-Cache", "Error from originaudit");
	ph_resp_free(r);
	assert_int_equal(ph_eo_counts(o).requests, before);

	/* Over the TLS listener both are served. */
	ph_get(e, true, "/secure/x?k=v", r);
	ph_expect_status(r, 200);
	assert_non_null(strstr(r->body, "GET /secure/x?k=v HTTP/1.1\r\n"));
	ph_resp_free(r);
	ph_exchange(e->tls_port, true, "POST /redir/form HTTP/1.1\r\nHost: " PH_WWW FORM_HELLO,
		    false, r);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Body-Bytes", "5");
	ph_resp_free(r);
	ph_finish(e);
}

/* ---- 6. origin protocol policies ---- */

static void test_origin_protocol_policies(void **state)
{
	ph_env *e = *state;
	ph_eo *tls = ph_good_origin(e, "tls");
	ph_eo *plain = ph_plain_origin(e, "plain", PH_EO_ECHO);

	ph_start_proxy(
	    e,
	    ph_config(
		json_pack("[o, o]",
			  ph_origin_json("mv", ph_eo_port(tls), ph_eo_port(plain), "match-viewer"),
			  ph_origin_json("ho", ph_eo_port(tls), ph_eo_port(plain), "http-only")),
		json_pack("[o]", ph_behavior("/ho/*", "ho", "allow-all")), "mv", "allow-all",
		ph_proxy_block(e, true, false, NULL)));
	/* match-viewer: the viewer's scheme picks the origin's port. */
	ph_expect_origin(e, false, "/mv", "plain");
	ph_expect_origin(e, true, "/mv", "tls");
	/* http-only: HTTP toward the origin whatever the viewer used. */
	ph_expect_origin(e, true, "/ho/x", "plain");
	ph_expect_origin(e, false, "/ho/x", "plain");
	assert_int_equal(ph_eo_counts(tls).requests, 1);
	assert_int_equal(ph_eo_counts(plain).requests, 3);
	ph_finish(e);
}

/* ---- 7. routing ---- */

/* The request line the echo origin saw for target. */
static void expect_routed(ph_env *e, const char *target, const char *want_line)
{
	ph_resp *r = &e->resp;

	ph_get(e, false, target, r);
	ph_expect_status(r, 200);
	const char *eol = strstr(r->body, "\r\n");
	assert_non_null(eol);
	if ((size_t)(eol - r->body) != strlen(want_line) ||
	    strncmp(r->body, want_line, strlen(want_line)) != 0) {
		fail_msg("%s was routed as \"%.*s\", want \"%s\"", target, (int)(eol - r->body),
			 r->body, want_line);
	}
	ph_resp_free(r);
}

/* Targets and the request line the echo origin sees for each, behind test_routing's behaviours. */
static const struct route {
	const char *target;
	const char *line;
} routes[] = {
    {"/api/v1/x", "GET /B/api/v1/x HTTP/1.1"},
    /* First match wins: the later, more specific pattern is shadowed. */
    {"/api/v1/special", "GET /B/api/v1/special HTTP/1.1"},
    /* Leading '/' optional in the pattern. */
    {"/api/x", "GET /A/api/x HTTP/1.1"},
    /* Case-sensitive. */
    {"/API/x", "GET /D/API/x HTTP/1.1"},
    {"/Api/v1/x", "GET /D/Api/v1/x HTTP/1.1"},
    /* '?' is exactly one character. */
    {"/img/a.png", "GET /C/img/a.png HTTP/1.1"},
    {"/img/ab.png", "GET /D/img/ab.png HTTP/1.1"},
    {"/img/.png", "GET /D/img/.png HTTP/1.1"},
    /* The query string is not matched (and forwarded untouched). */
    {"/api/x?to=/api/v1/y", "GET /A/api/x?to=/api/v1/y HTTP/1.1"},
    {"/other?p=/api/v1/z", "GET /D/other?p=/api/v1/z HTTP/1.1"},
    {"/img/a.png?v=2", "GET /C/img/a.png?v=2 HTTP/1.1"},
    /* The default behaviour is last. */
    {"/", "GET /D/ HTTP/1.1"},
};

static void test_routing(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_plain_origin(e, "plain", PH_EO_ECHO);
	const char *ids[] = {"A", "B", "C", "D", "E"};
	json_t *origins = json_array();

	/* One echo origin behind five origin ids; origin_path tells which one a request took. */
	for (size_t i = 0; i < 5; i++) {
		char path[8];
		json_t *oj = ph_origin_json(ids[i], 0, ph_eo_port(o), "http-only");

		snprintf(path, sizeof(path), "/%s", ids[i]);
		json_object_set_new(oj, "origin_path", json_string(path));
		json_array_append_new(origins, oj);
	}
	ph_start_proxy(
	    e, ph_config(origins,
			 json_pack("[o, o, o, o]", ph_behavior("/api/v1/*", "B", "allow-all"),
				   ph_behavior("api/*", "A", "allow-all"),
				   ph_behavior("/api/v1/special", "E", "allow-all"),
				   ph_behavior("/img/?.png", "C", "allow-all")),
			 "D", "allow-all", ph_proxy_block(e, false, false, NULL)));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		expect_routed(e, routes[i].target, routes[i].line);
	}
	ph_finish(e);
}

/* ---- 8. bad requests ---- */

/*
 * Sends raw bytes (a request the proxy must refuse), expects status and the
 * connection closed, then a good request on a new connection: 200, and it is
 * the only request the origin ever saw.
 */
static void refused_request(void **state, const char *data, size_t len, int status)
{
	ph_env *e = *state;
	ph_eo *o = ph_plain_origin(e, "plain", PH_EO_ECHO);
	ph_resp *r = &e->resp;
	char want[32];

	ph_start_http(e, o, ph_proxy_block(e, false, false, NULL));
	ph_vc *c = ph_vc_open(e->port, false);
	uint64_t t0 = ph_now_ms();
	ph_vc_send(c, data, len);
	if (ph_vc_response(c, false, false, r) < 0) {
		fail_msg("no response to a request that should get %d", status);
	}
	uint64_t waited = ph_now_ms() - t0;
	ph_expect_status(r, status);
	snprintf(want, sizeof(want), "%d ", status);
	assert_true(ph_starts_with(r->body, want));
	ph_expect_field(r->head, "Connection", "close");
	assert_true(ph_vc_closed_by_peer(c, 3000));
	ph_resp_free(r);
	ph_vc_close(c);
	if (status == 408) {
		/* --header-timeout-ms 500. */
		if (waited < 450 || waited > 3000) {
			fail_msg("408 after %llu ms, want about 500", (unsigned long long)waited);
		}
	}

	ph_get(e, false, "/good", r);
	ph_expect_status(r, 200);
	assert_true(ph_starts_with(r->body, "GET /good HTTP/1.1\r\n"));
	ph_resp_free(r);
	struct ph_eo_counts n = ph_eo_counts(o);
	if (n.requests != 1) {
		const char *first = ph_eo_first_head(o);

		fail_msg("the origin saw %zu requests (connections %zu), want only the good one; "
			 "the first was:\n%s",
			 n.requests, n.connections, first);
	}
	ph_finish(e);
}

static void refused_text(void **state, const char *data, int status)
{
	refused_request(state, data, strlen(data), status);
}

static void test_bad_request_line(void **state)
{
	refused_text(state, "GET /x HTTX/1.1\r\nHost: " PH_WWW "\r\n\r\n", 400);
}

static void test_bad_request_garbage(void **state)
{
	refused_text(state, "\x16\x03\x01 not http at all\r\n\r\n", 400);
}

static void test_smuggling_cl_te(void **state)
{
	refused_text(
	    state, POST_X "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
}

static void test_smuggling_two_lengths(void **state)
{
	refused_text(state, POST_X "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400);
}

static void test_bad_chunk_size(void **state)
{
	refused_text(state, POST_X "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
		     400);
}

/* The first chunk is good, the second is not: the request is held, so the origin sees nothing. */
static void test_bad_chunk_later(void **state)
{
	refused_text(
	    state,
	    POST_X "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nhello\r\n0\r\n\r\n", 400);
}

/* A chunk whose data is not followed by CRLF. */
static void test_bad_chunk_terminator(void **state)
{
	refused_text(state,
		     POST_X "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n",
		     400);
}

static void test_request_line_too_long(void **state)
{
	/* A 9000-character target: the request line is over 8 KiB. */
	static char req[9100];
	size_t len = 0;

	len += (size_t)snprintf(req, sizeof(req), "GET /");
	memset(req + len, 'a', 9000);
	len += 9000;
	snprintf(req + len, sizeof(req) - len, " HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n");
	refused_text(state, req, 414);
}

static void test_headers_too_large(void **state)
{
	/* 40 fields of 1000-byte values: about 40 KiB of header fields. */
	static char req[40 * 1100 + 128];
	size_t len = 0;

	len += (size_t)snprintf(req, sizeof(req), "GET /big HTTP/1.1\r\nHost: " PH_WWW "\r\n");
	for (int i = 0; i < 40; i++) {
		len += (size_t)snprintf(req + len, sizeof(req) - len, "X-Filler-%02d: ", i);
		memset(req + len, 'v', 1000);
		len += 1000;
		len += (size_t)snprintf(req + len, sizeof(req) - len, "\r\n");
	}
	len += (size_t)snprintf(req + len, sizeof(req) - len, "\r\n");
	refused_request(state, req, len, 431);
}

static void test_header_timeout(void **state)
{
	refused_text(state, "GET /slow HTTP/1.1\r\nHost: " PH_WWW "\r\nX-Incomplete: ", 408);
}

/* ---- 9. timeouts and retries ---- */

/* A TCP tarpit behind the proxy (debug headers): attempts attempts of 1 s, read timeout 30 s. */
static ph_eo *start_tarpit(ph_env *e, int attempts)
{
	ph_eo *o = ph_plain_origin(e, "tarpit", PH_EO_TARPIT);

	start_debug(e, ph_timing_origin(ph_eo_port(o), 0, "https-only", 1, attempts, 30));
	return o;
}

/* A TCP origin that never answers the TLS handshake: one attempt of 1 s. */
static void test_tarpit_connect_timeout(void **state)
{
	ph_env *e = *state;
	ph_eo *o = start_tarpit(e, 1);
	uint64_t elapsed;
	ph_resp *r = &e->resp;

	ph_timed_get(e, "GET /t HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", r, &elapsed);
	char reason[64] = "";
	ph_head_field(r->head, "X-Originaudit-Reason", 0, reason, sizeof(reason));
	print_message("tarpit, 1 attempt of 1 s: %d %s after %llu ms\n", r->status, reason,
		      (unsigned long long)elapsed);
	/* An origin too slow to finish the handshake is "too slow": 504, like a connect timeout. */
	ph_expect_error(r, 504, "handshake_timeout");
	assert_true(elapsed >= 900 && elapsed < 3000);
	assert_int_equal(ph_eo_counts(o).connections, 1);
	ph_resp_free(r);
	ph_finish(e);
}

/*
 * Connection attempts against a TLS tarpit: the handshake times out under
 * connection_timeout_s on every attempt. GET is retried on a new connection
 * (three accepts), POST is not (one).
 */
static void test_retries_tarpit_get_not_post(void **state)
{
	ph_env *e = *state;
	ph_eo *o = start_tarpit(e, 3);
	uint64_t elapsed;
	ph_resp *r = &e->resp;

	ph_timed_get(e, "POST /p HTTP/1.1\r\nHost: " PH_WWW FORM_HELLO, r, &elapsed);
	size_t post_conns = ph_eo_wait_connections(o, 2, 500);
	print_message("tarpit, POST, 3 attempts of 1 s: %d after %llu ms, %zu connection(s)\n",
		      r->status, (unsigned long long)elapsed, post_conns);
	ph_expect_status(r, 504);
	assert_true(elapsed < 3000);
	assert_int_equal(post_conns, 1);
	ph_resp_free(r);

	ph_timed_get(e, "GET /g HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", r, &elapsed);
	size_t get_conns = ph_eo_wait_connections(o, post_conns + 3, 1000) - post_conns;
	print_message("tarpit, GET, 3 attempts of 1 s: %d after %llu ms, %zu connection(s)\n",
		      r->status, (unsigned long long)elapsed, get_conns);
	ph_expect_status(r, 504);
	assert_true(elapsed < 9000);
	ph_resp_free(r);
	assert_int_equal(get_conns, 3);
	ph_finish(e);
}

/* TCP connect timeouts: GET spends every attempt (3 x 1 s), POST only one. */
static void test_retries_connect_timeout(void **state)
{
	ph_env *e = *state;
	unsigned port = ph_stuck_listener(e);
	uint64_t elapsed;
	ph_resp *r = &e->resp;

	start_debug(e, ph_timing_origin(port, 0, "https-only", 1, 3, 30));
	ph_timed_get(e, "GET /g HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", r, &elapsed);
	print_message("connect timeout, GET, 3 attempts of 1 s: %d after %llu ms\n", r->status,
		      (unsigned long long)elapsed);
	ph_expect_error(r, 504, "connect_timeout");
	assert_true(elapsed >= 2900 && elapsed < 4500);
	ph_resp_free(r);

	ph_timed_get(e, "POST /p HTTP/1.1\r\nHost: " PH_WWW FORM_HELLO, r, &elapsed);
	print_message("connect timeout, POST, 3 attempts of 1 s: %d after %llu ms\n", r->status,
		      (unsigned long long)elapsed);
	ph_expect_status(r, 504);
	ph_expect_field(r->head, "X-Originaudit-Reason", "connect_timeout");
	assert_true(elapsed >= 900 && elapsed < 2000);
	ph_resp_free(r);
	ph_finish(e);
}

/*
 * An HTTP origin that takes the request and never answers: 504 after
 * read_timeout_s. GET is sent again on a new connection within
 * connection_attempts (2 here, so 2 requests and about 2 s); POST is not.
 */
static void test_read_timeout(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_plain_origin(e, "stall", PH_EO_STALL);
	uint64_t elapsed;
	ph_resp *r = &e->resp;

	start_debug(e, ph_timing_origin(0, ph_eo_port(o), "http-only", 5, 2, 1));
	ph_timed_get(e, "GET /slow HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", r, &elapsed);
	print_message("stalled origin, GET, read timeout 1 s, 2 attempts: %d after %llu ms\n",
		      r->status, (unsigned long long)elapsed);
	ph_expect_error(r, 504, "read_timeout");
	assert_true(elapsed >= 1900 && elapsed < 4000);
	assert_int_equal(ph_eo_counts(o).requests, 2);
	assert_int_equal(ph_eo_counts(o).connections, 2);
	ph_resp_free(r);

	ph_timed_get(e, "POST /slow HTTP/1.1\r\nHost: " PH_WWW "\r\nContent-Length: 2\r\n\r\nhi", r,
		     &elapsed);
	print_message("stalled origin, POST, read timeout 1 s, 2 attempts: %d after %llu ms\n",
		      r->status, (unsigned long long)elapsed);
	ph_expect_status(r, 504);
	ph_expect_field(r->head, "X-Originaudit-Reason", "read_timeout");
	assert_true(elapsed >= 900 && elapsed < 1900);
	assert_int_equal(ph_eo_counts(o).requests, 3);
	ph_resp_free(r);
	ph_finish(e);
}

/* The origin only speaks TLS 1.3, the origin's ssl_protocols only TLSv1.2: 502. */
/* An s_server origin (args) that shares no TLS version with an origin offering only TLSv1.2. */
static void expect_no_common_protocol(ph_env *e, const char *const *args)
{
	const oa_pki_cert *rest[] = {e->pki.inter};
	unsigned port = s_server(e, rest, 1, args);
	ph_resp *r = &e->resp;

	json_t *oj = ph_origin_json("o", port, 0, "https-only");
	json_object_set_new(oj, "ssl_protocols", json_pack("[s]", "TLSv1.2"));
	start_debug(e, oj);
	ph_get(e, false, "/p", r);
	ph_expect_error(r, 502, "tls_alert:protocol_version");
	ph_resp_free(r);
	ph_finish(e);
}

static void test_no_common_protocol(void **state)
{
	static const char *const tls13[] = {"-www", "-tls1_3", NULL};

	expect_no_common_protocol(*state, tls13);
}

/*
 * An origin that speaks only TLS 1.0 answers a TLS 1.2 offer with its own
 * version instead of an alert: the same failure, named the same way
 * (GnuTLS says "unsupported version packet").
 */
static void test_tls10_only_origin(void **state)
{
	static const char *const tls10[] = {"-www", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};

	expect_no_common_protocol(*state, tls10);
}

/* An origin domain that does not resolve: 502 dns_failed, and the proxy goes on serving. */
static void test_dns_failure(void **state)
{
	ph_env *e = *state;
	ph_eo *good = ph_good_origin(e, "good");
	json_t *gone =
	    json_pack("{s:s, s:s, s:s, s:i}", "id", "gone", "domain_name", "nonexistent.invalid",
		      "protocol_policy", "https-only", "connection_attempts", 1);
	ph_resp *r = &e->resp;

	ph_start_proxy(
	    e, ph_config(json_pack("[o, o]",
				   ph_origin_json("good", ph_eo_port(good), 0, "https-only"), gone),
			 json_pack("[o]", ph_behavior("/gone/*", "gone", "allow-all")), "good",
			 "allow-all", ph_proxy_block(e, false, true, NULL)));
	ph_get(e, false, "/gone/x", r);
	ph_expect_error(r, 502, "dns_failed");
	ph_resp_free(r);
	ph_expect_get(e, false, "/ok", 200);
	ph_finish(e);
}

/*
 * An origin that closes after every response (openssl s_server -www): each
 * request needs a new origin connection. The first is a full handshake whose
 * chain is verified; the next ones resume the TLS session and take the
 * verification from the cache.
 */
static void test_resumption_and_verify_cache(void **state)
{
	ph_env *e = *state;
	const oa_pki_cert *rest[] = {e->pki.inter};
	static const char *const www[] = {"-www", NULL};
	unsigned port = s_server(e, rest, 1, www);

	start_debug(e, ph_origin_json("o", port, 0, "https-only"));
	ph_expect_get(e, false, "/first", 200);
	ph_expect_get(e, false, "/second", 200);
	ph_expect_get(e, false, "/third", 200);
	ph_finish(e);
	static const char *const first[] = {"-> 200", "reason=- ", "verify=full"};
	static const char *const later[] = {"-> 200", "reason=resumed", "verify=cached"};
	ph_expect_log_line(e, "/first", first, 3);
	ph_expect_log_line(e, "/second", later, 3);
	ph_expect_log_line(e, "/third", later, 3);
}

static void test_refused_port(void **state)
{
	ph_env *e = *state;
	unsigned port = fx_free_port("127.0.0.1");
	uint64_t elapsed;
	ph_resp *r = &e->resp;

	start_debug(e, ph_timing_origin(port, 0, "https-only", 1, 3, 30));
	ph_timed_get(e, "GET /r HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", r, &elapsed);
	ph_expect_error(r, 502, "connection_refused");
	assert_true(elapsed < 3000);
	ph_resp_free(r);
	ph_finish(e);
}

/* ---- 10. streaming ---- */

/*
 * GET /big on a new viewer connection, the body counted and checked against
 * the pattern into r; returns the serving process's peak RSS in kB just after.
 */
static long download_big(ph_env *e, ph_resp *r)
{
	ph_vc *c = ph_vc_open(e->port, false);

	ph_vc_sends(c, "GET /big HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n");
	assert_int_equal(ph_vc_response(c, false, true, r), 0);
	long after = ph_vm_hwm_kb(ph_serving_pid(e));
	ph_vc_close(c);
	return after;
}

/* Fails unless the peak RSS of kB stayed under RSS_BOUND_KB while streaming (what). */
static void expect_rss_bound(long kb, const char *what)
{
	if (kb >= RSS_BOUND_KB) {
		fail_msg("the proxy's peak RSS reached %ld kB streaming %s", kb, what);
	}
}

static void test_stream_100mb_download(void **state)
{
	ph_env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	ph_eo_opts opts = {.mode = PH_EO_BIG,
			   .name = "big",
			   .chain = chain,
			   .n_chain = 2,
			   .body_size = HUNDRED_MB};
	ph_eo *o = ph_origin(e, &opts);
	ph_resp *r = &e->resp;

	e->small_quarantine = true;
	ph_start_https(e, o, ph_proxy_block(e, false, false, NULL));
	long before = ph_vm_hwm_kb(ph_serving_pid(e));
	uint64_t t0 = ph_now_ms();
	long after = download_big(e, r);
	uint64_t elapsed = ph_now_ms() - t0;
	print_message("100 MB download: %llu ms, proxy VmHWM %ld kB before, %ld kB after\n",
		      (unsigned long long)elapsed, before, after);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "Content-Length", "104857600");
	assert_true(r->complete);
	assert_int_equal(r->counted, HUNDRED_MB);
	assert_true(r->pattern_ok);
	ph_resp_free(r);
	expect_rss_bound(after, "100 MB");
	ph_finish(e);
}

static void test_stream_100mb_chunked_download(void **state)
{
	ph_env *e = *state;
	ph_eo_opts opts = {
	    .mode = PH_EO_BIG, .name = "big", .body_size = HUNDRED_MB, .chunked = true};
	ph_eo *o = ph_origin(e, &opts);
	ph_resp *r = &e->resp;

	e->small_quarantine = true;
	ph_start_http(e, o, ph_proxy_block(e, false, false, NULL));
	long after = download_big(e, r);
	print_message("100 MB chunked download: proxy VmHWM %ld kB\n", after);
	ph_expect_status(r, 200);
	assert_true(r->chunked);
	assert_true(r->saw_last_chunk);
	assert_int_equal(r->counted, HUNDRED_MB);
	assert_true(r->pattern_ok);
	ph_resp_free(r);
	expect_rss_bound(after, "100 MB");
	ph_finish(e);
}

static void test_stream_100mb_upload(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_good_origin(e, "sink");
	static unsigned char block[65536];
	uint32_t sum = 0;
	char want_sum[32];
	ph_resp *r = &e->resp;

	e->small_quarantine = true;
	ph_start_https(e, o, ph_proxy_block(e, false, false, NULL));
	uint64_t t0 = ph_now_ms();
	ph_vc *c = ph_vc_open(e->port, false);
	ph_vc_sends(c, "POST /upload HTTP/1.1\r\nHost: " PH_WWW
		       "\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (unsigned long long sent = 0; sent < HUNDRED_MB; sent += 65536) {
		ph_fill_pattern(block, 65536, sent);
		for (size_t i = 0; i < 65536; i++) {
			sum += block[i];
		}
		ph_vc_sends(c, "10000\r\n");
		ph_vc_send(c, block, 65536);
		ph_vc_sends(c, "\r\n");
	}
	ph_vc_sends(c, "0\r\n\r\n");
	assert_int_equal(ph_vc_response(c, false, false, r), 0);
	uint64_t elapsed = ph_now_ms() - t0;
	long after = ph_vm_hwm_kb(ph_serving_pid(e));
	print_message("100 MB chunked upload: %llu ms, proxy VmHWM %ld kB\n",
		      (unsigned long long)elapsed, after);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Body-Bytes", "104857600");
	snprintf(want_sum, sizeof(want_sum), "%u", sum);
	ph_expect_field(r->head, "X-Body-Sum", want_sum);
	/* The origin got it chunked, as the viewer sent it. */
	ph_expect_field(r->body, "Transfer-Encoding", "chunked");
	ph_resp_free(r);
	ph_vc_close(c);
	expect_rss_bound(after, "100 MB up");
	ph_finish(e);
}

/* ---- 11. a response that dies mid-body ---- */

/* GET /cut into r through the proxy from an origin that cuts its body (chunked or not) short. */
static void get_cut(ph_env *e, bool chunked, ph_resp *r)
{
	ph_eo_opts opts = {.mode = PH_EO_TRUNCATE, .name = "cut", .chunked = chunked};

	ph_eo *o = ph_origin(e, &opts);

	ph_start_http(e, o, ph_proxy_block(e, false, false, NULL));
	ph_get(e, false, "/cut", r);
}

static void test_mid_body_length(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;

	get_cut(e, false, r);
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "Content-Length", "1000");
	/* EOF after the 10 bytes: the viewer cannot take it for a complete response. */
	assert_false(r->complete);
	assert_int_equal(r->body_len, 10);
	assert_string_equal(r->body, "0123456789");
	ph_resp_free(r);
	ph_finish(e);
}

static void test_mid_body_chunked(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;

	get_cut(e, true, r);
	ph_expect_status(r, 200);
	assert_true(r->chunked);
	/* The chunk that came is forwarded; no terminating 0-chunk follows it. */
	assert_false(r->saw_last_chunk);
	assert_false(r->complete);
	assert_string_equal(r->body, "0123456789");
	ph_resp_free(r);
	ph_finish(e);
}

/* ---- 12. the command line ---- */

static void test_cli(void **state)
{
	ph_env *e = *state;
	json_t *doc;

	/* A valid configuration, TLS listener included. */
	doc = ph_single_config(ph_origin_json("o", 8443, 0, "https-only"),
			       ph_proxy_block(e, true, false, NULL));
	assert_int_equal(ph_check_config(e, doc), 0);
	assert_string_equal(e->err, "");
	assert_non_null(strstr(e->out, "valid"));

	/* A listener port out of range: exit 3, one stderr line naming the JSON path. */
	doc = ph_single_config(ph_origin_json("o", 8443, 0, "https-only"),
			       ph_proxy_block(e, false, false, NULL));
	json_object_set_new(ph_listener_of(doc, 0), "port", json_integer(70000));
	assert_int_equal(ph_check_config(e, doc), 3);
	assert_int_equal(ph_count_lines(e->err), 1);
	if (strstr(e->err, "proxy.listen[0].port") == NULL) {
		fail_msg("stderr does not name proxy.listen[0].port: %s", e->err);
	}
	assert_string_equal(e->out, "");

	/* The TLS listener's key file does not exist. */
	doc = ph_single_config(ph_origin_json("o", 8443, 0, "https-only"),
			       ph_proxy_block(e, true, false, NULL));
	json_object_set_new(json_object_get(ph_listener_of(doc, 1), "tls"), "key",
			    json_string("/nonexistent/viewer.key"));
	assert_int_equal(ph_check_config(e, doc), 3);
	assert_int_equal(ph_count_lines(e->err), 1);
	assert_non_null(strstr(e->err, "/nonexistent/viewer.key"));
	assert_string_equal(e->out, "");

	/* The access log cannot be created: refused by --check, not by a worker later. */
	doc = ph_single_config(ph_origin_json("o", 8443, 0, "https-only"),
			       ph_proxy_block(e, false, false, NULL));
	json_object_set_new(json_object_get(doc, "proxy"), "access_log",
			    json_string("/nonexistent/dir/access.log"));
	assert_int_equal(ph_check_config(e, doc), 3);
	assert_int_equal(ph_count_lines(e->err), 1);
	if (strstr(e->err, "proxy.access_log: /nonexistent/dir/access.log") == NULL) {
		fail_msg("stderr does not name the access log: %s", e->err);
	}

	/*
	 * A listener port held by another program (without SO_REUSEPORT): the
	 * worker cannot bind, so the proxy stops with exit 3 and says why.
	 */
	unsigned busy = 0;
	int holder = ph_listen_socket(&busy, 16);
	doc = ph_single_config(ph_origin_json("o", 8443, 0, "https-only"),
			       ph_proxy_block(e, false, false, NULL));
	json_object_set_new(ph_listener_of(doc, 0), "port", json_integer((json_int_t)busy));
	char *busy_path = ph_write_config(e, doc);
	uint64_t t0 = ph_now_ms();
	assert_int_equal(ph_run_proxy(e, "--config", busy_path, NULL), 3);
	assert_true(ph_now_ms() - t0 < 10000);
	close(holder);
	free(busy_path);
	if (strstr(e->err, "address already in use") == NULL ||
	    strstr(e->err, "failed to start") == NULL) {
		fail_msg("stderr does not say the listener could not be bound:\n%s\nstdout: %s",
			 e->err, e->out);
	}

	assert_int_equal(ph_run_proxy(e, "--help", NULL, NULL), 0);
	assert_non_null(strstr(e->out, "Usage: originaudit-proxy"));
	assert_string_equal(e->err, "");

	/* No --config: exit 3 with one line, with or without --check. */
	assert_int_equal(ph_run_proxy(e, NULL, NULL, NULL), 3);
	assert_int_equal(ph_count_lines(e->err), 1);
	assert_non_null(strstr(e->err, "--config"));
	assert_int_equal(ph_run_proxy(e, "--check", NULL, NULL), 3);
	assert_int_equal(ph_count_lines(e->err), 1);
	assert_non_null(strstr(e->err, "--config"));
	e->finished = true;
}

#define T(fn) PH_TEST(fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_happy_path),
	    T(test_keep_alive),
	    T(test_origin_pool_reuse_get),
	    T(test_origin_pool_reuse_post),
	    T(test_x_cache_name),
	    T(test_echo_controls),
	    T(test_cert_untrusted_root),
	    T(test_cert_missing_intermediate),
	    T(test_cert_expired),
	    T(test_cert_not_yet_valid),
	    T(test_cert_self_signed),
	    T(test_cert_wrong_order),
	    T(test_cert_wrong_order_s_server),
	    T(test_cert_wrong_name),
	    T(test_cert_sha1_leaf),
	    T(test_cert_warnings_forward),
	    T(test_cert_reason_only_in_log),
	    T(test_forwarded_host),
	    T(test_request_rewriting),
	    T(test_viewer_policies),
	    T(test_origin_protocol_policies),
	    T(test_routing),
	    T(test_bad_request_line),
	    T(test_bad_request_garbage),
	    T(test_smuggling_cl_te),
	    T(test_smuggling_two_lengths),
	    T(test_bad_chunk_size),
	    T(test_bad_chunk_later),
	    T(test_bad_chunk_terminator),
	    T(test_request_line_too_long),
	    T(test_headers_too_large),
	    T(test_header_timeout),
	    T(test_tarpit_connect_timeout),
	    T(test_retries_tarpit_get_not_post),
	    T(test_retries_connect_timeout),
	    T(test_read_timeout),
	    T(test_no_common_protocol),
	    T(test_tls10_only_origin),
	    T(test_dns_failure),
	    T(test_resumption_and_verify_cache),
	    T(test_refused_port),
	    T(test_stream_100mb_download),
	    T(test_stream_100mb_chunked_download),
	    T(test_stream_100mb_upload),
	    T(test_mid_body_length),
	    T(test_mid_body_chunked),
	    T(test_cli),
	};

	/* OA_TEST_FILTER=test_routing runs only the matching tests (cmocka's pattern). */
	return PH_RUN_TESTS(tests);
}
