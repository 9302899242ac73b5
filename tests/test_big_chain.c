/*
 * Big certificate flights (issue 9, finding 5): chains whose Certificate
 * message is ~20 KiB, ~64 KiB and ~150 KiB, served by openssl s_server and by
 * nginx on loopback, must complete the handshake and be graded like any
 * other chain, by the probe, the scanner and the proxy. A flight past the
 * accepted 256 KiB fails at once with handshake_too_large, never with a
 * timeout. The chains are few certificates made large by many SAN names, so
 * no chain-length check is involved: the verdicts are about size only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/trust.h"

#define HOST "origin.example.com"
#define NGINX "/usr/sbin/nginx"
/* Probe timeouts: loopback needs far less; a stalled handshake shows as handshake_timeout. */
#define TIMEOUT_MS 5000
#define KIB 1024
/* The largest handshake the core accepts (core/net/conn_tls.c, MAX_HANDSHAKE). */
#define MAX_HANDSHAKE (256 * KIB)
/*
 * Each padding SAN is this long (a valid DNS name: labels of at most 63),
 * 3 more bytes of DER each. Long names keep the count, and so the time
 * GnuTLS takes to append them one by one, small.
 */
#define PAD_NAME_LEN 240
#define MAX_INTER 3

/* A chain: leaf first, then intermediates, each issuing the one before; the root is not sent. */
struct big_chain {
	oa_pki_cert *leaf;
	oa_pki_cert *inter[MAX_INTER];
	size_t n_inter;
	/* Bytes of the certificate list on the wire: each DER plus its 3-byte length. */
	size_t wire;
};

enum size_class { SIZE_20K, SIZE_64K, SIZE_150K, SIZE_300K, N_SIZES };

static const size_t targets[N_SIZES] = {20 * KIB, 64 * KIB, 150 * KIB, 300 * KIB};
static const size_t inters_for[N_SIZES] = {1, 1, 2, 3};

struct group {
	oa_pki_cert *root;
	struct big_chain chains[N_SIZES];
};

struct env {
	struct group *g;
	char *dir;
	char *bundle;
	oa_trust_store *store;
	char *openssl;
	int pids[4];
	size_t n_pids;
};

/* ---- the chains ---- */

static size_t der_size(const oa_pki_cert *c)
{
	return oa_pki_cert_der(c)->size;
}

/* Issues a certificate with n padding SAN names after the given ones. */
static oa_pki_cert *issue_padded(const char *cn, bool ca, const char *first, size_t n,
				 const oa_pki_cert *issuer)
{
	char **names = calloc(n + 1, sizeof(*names));
	size_t k = 0;
	oa_pki_spec spec;

	assert_non_null(names);
	oa_pki_spec_init(&spec, cn, ca ? 1825 : 90);
	spec.is_ca = ca;
	spec.path_len = -1;
	if (first != NULL) {
		names[k++] = strdup(first);
	}
	for (size_t i = 0; i < n; i++) {
		char name[PAD_NAME_LEN + 1];

		/* "pad-<cn initial>-<i>.xxx...x.xxx...x.example.com", PAD_NAME_LEN characters. */
		int len = snprintf(name, sizeof(name), "pad-%c-%06zu", cn[0], i);
		memset(name + len, 'x', (size_t)(PAD_NAME_LEN - len - 12));
		for (int dot = len; dot < PAD_NAME_LEN - 12; dot += 60) {
			name[dot] = '.';
		}
		memcpy(name + PAD_NAME_LEN - 12, ".example.com", 13);
		names[k++] = strdup(name);
	}
	spec.dns_names = (const char *const *)names;
	spec.n_dns_names = k;
	oa_pki_cert *cert = fx_issue(&spec, issuer);
	for (size_t i = 0; i < k; i++) {
		free(names[i]);
	}
	free(names);
	return cert;
}

/*
 * A chain of 1 + n_inter certificates whose wire size is about target: the
 * padding is spread evenly, sized from unpadded certificates of the same shape.
 */
static void make_chain(struct big_chain *bc, const oa_pki_cert *root, size_t target, size_t n_inter)
{
	oa_pki_cert *probe_leaf = issue_padded(HOST, false, HOST, 0, root);
	oa_pki_cert *probe_ca = issue_padded("Big Intermediate CA", true, NULL, 0, root);
	size_t base = der_size(probe_leaf) + 3 + n_inter * (der_size(probe_ca) + 3);
	size_t per_name = PAD_NAME_LEN + 3;
	size_t names = target > base ? (target - base + per_name - 1) / per_name : 0;
	size_t per_cert = names / (n_inter + 1);
	const oa_pki_cert *issuer = root;
	char cn[48];

	oa_pki_cert_destroy(probe_leaf);
	oa_pki_cert_destroy(probe_ca);
	memset(bc, 0, sizeof(*bc));
	bc->n_inter = n_inter;
	/* The top intermediate is issued first: the root signs it. */
	for (size_t i = n_inter; i-- > 0;) {
		snprintf(cn, sizeof(cn), "Big Intermediate CA %zu", i + 1);
		bc->inter[i] = issue_padded(cn, true, NULL, per_cert, issuer);
		issuer = bc->inter[i];
	}
	bc->leaf = issue_padded(HOST, false, HOST, names - per_cert * n_inter, issuer);
	bc->wire = der_size(bc->leaf) + 3;
	for (size_t i = 0; i < n_inter; i++) {
		bc->wire += der_size(bc->inter[i]) + 3;
	}
}

static int group_setup(void **state)
{
	struct group *g = calloc(1, sizeof(*g));
	oa_pki_spec root = fx_ca_spec("Big Chain Test Root", 3650);

	assert_non_null(g);
	g->root = fx_issue(&root, NULL);
	for (int s = 0; s < N_SIZES; s++) {
		make_chain(&g->chains[s], g->root, targets[s], inters_for[s]);
		/* The flight is really about that big: only the 300 KiB one is over the limit. */
		assert_in_range(g->chains[s].wire, targets[s] - 256, targets[s] + 1024);
	}
	assert_true(g->chains[SIZE_150K].wire + 2 * KIB < MAX_HANDSHAKE);
	assert_true(g->chains[SIZE_300K].wire > MAX_HANDSHAKE);
	*state = g;
	return 0;
}

static int group_teardown(void **state)
{
	struct group *g = *state;

	for (int s = 0; s < N_SIZES; s++) {
		oa_pki_cert_destroy(g->chains[s].leaf);
		for (size_t i = 0; i < g->chains[s].n_inter; i++) {
			oa_pki_cert_destroy(g->chains[s].inter[i]);
		}
	}
	oa_pki_cert_destroy(g->root);
	free(g);
	return 0;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	oa_error err;

	assert_non_null(e);
	e->g = *state;
	e->dir = fx_tempdir();
	e->bundle = fx_bundle_file(e->dir, "roots.pem", e->g->root);
	assert_int_equal(oa_trust_store_load(e->bundle, &e->store, &err), 0);
	e->openssl = fx_find_tool("openssl");
	assert_non_null(e->openssl);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < e->n_pids; i++) {
		fx_kill(e->pids[i]);
	}
	oa_trust_store_destroy(e->store);
	free(e->openssl);
	free(e->bundle);
	fx_tempdir_remove(e->dir);
	*state = e->g;
	free(e);
	return 0;
}

/* ---- the servers ---- */

static unsigned start_s_server(struct env *e, enum size_class s, const char *const *extra)
{
	const struct big_chain *bc = &e->g->chains[s];
	unsigned port;

	assert_true(e->n_pids < 4);
	e->pids[e->n_pids++] =
	    fx_s_server_start(e->openssl, e->dir, "127.0.0.1", bc->leaf,
			      (const oa_pki_cert *const *)bc->inter, bc->n_inter, extra, &port);
	return port;
}

static bool have_nginx(void)
{
	if (access(NGINX, X_OK) != 0) {
		print_message("%s is not installed: skipping the nginx case\n", NGINX);
		return false;
	}
	return true;
}

/*
 * nginx in the foreground, one process, everything it writes in its own
 * prefix directory under e->dir, serving the chain (leaf first) and 200 for
 * every request.
 */
static unsigned start_nginx(struct env *e, enum size_class s)
{
	const struct big_chain *bc = &e->g->chains[s];
	const oa_pki_cert *certs[1 + MAX_INTER];
	unsigned port = fx_free_port("127.0.0.1");
	char name[64];

	snprintf(name, sizeof(name), "nginx-%u", port);
	char *prefix = fx_path(e->dir, name);
	assert_int_equal(mkdir(prefix, 0700), 0);
	certs[0] = bc->leaf;
	memcpy(certs + 1, bc->inter, bc->n_inter * sizeof(certs[0]));
	char *chain = fx_chain_file(prefix, "chain.pem", certs, 1 + bc->n_inter);
	char *key = fx_key_file(prefix, "leaf.key", bc->leaf);
	char *conf = fx_path(prefix, "nginx.conf");
	char *errlog = fx_path(prefix, "error.log");
	char *text = NULL;
	assert_true(asprintf(&text,
			     "daemon off;\n"
			     "master_process off;\n"
			     "worker_processes 1;\n"
			     "pid %s/nginx.pid;\n"
			     "error_log %s warn;\n"
			     "events { worker_connections 64; }\n"
			     "http {\n"
			     "  access_log %s/access.log;\n"
			     "  client_body_temp_path %s/body;\n"
			     "  proxy_temp_path %s/proxy;\n"
			     "  fastcgi_temp_path %s/fastcgi;\n"
			     "  uwsgi_temp_path %s/uwsgi;\n"
			     "  scgi_temp_path %s/scgi;\n"
			     "  server {\n"
			     "    listen 127.0.0.1:%u ssl;\n"
			     "    server_name " HOST ";\n"
			     "    ssl_certificate %s;\n"
			     "    ssl_certificate_key %s;\n"
			     "    ssl_protocols TLSv1.2 TLSv1.3;\n"
			     "    location / { return 200 \"big chain origin\\n\"; }\n"
			     "  }\n"
			     "}\n",
			     prefix, errlog, prefix, prefix, prefix, prefix, prefix, prefix, port,
			     chain, key) > 0);
	fx_write(conf, text, strlen(text));
	char *argv[] = {NGINX, "-p", prefix, "-e", errlog, "-c", conf, NULL};
	assert_true(e->n_pids < 4);
	int pid = fx_spawn(argv);
	e->pids[e->n_pids++] = pid;
	if (!fx_wait_listening("127.0.0.1", port, 5000)) {
		fail_msg("nginx does not listen on port %u (see %s)", port, errlog);
	}
	free(text);
	free(errlog);
	free(conf);
	free(key);
	free(chain);
	free(prefix);
	return port;
}

/* ---- the probe ---- */

static void probe_port(fx_probed *pr, const struct env *e, unsigned port, unsigned protocols)
{
	static const char *const names[] = {HOST};
	oa_probe_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.kind = OA_PROBE_HTTPS;
	spec.address = "127.0.0.1";
	spec.port = port;
	spec.sni = HOST;
	spec.names = names;
	spec.n_names = 1;
	spec.ssl_protocols = protocols;
	spec.connect_timeout_ms = TIMEOUT_MS;
	spec.handshake_timeout_ms = TIMEOUT_MS;
	spec.at = time(NULL);
	spec.policy.warn_days = 30;
	spec.policy.critical_days = 7;
	fx_probe_run(pr, &spec, e->store);
}

/* The handshake completed and the whole chain was graded as a good one. */
static void expect_graded_pass(struct env *e, unsigned port, enum size_class s, unsigned protocols,
			       const char *version)
{
	const struct big_chain *bc = &e->g->chains[s];
	fx_probed pr;

	probe_port(&pr, e, port, protocols);
	if (pr.r->error[0] != '\0') {
		fail_msg("a %zu-byte chain: %s (%s)", bc->wire, pr.r->error, pr.r->error_detail);
	}
	assert_int_equal(pr.r->verdict, OA_STATUS_PASS);
	assert_string_equal(pr.r->tls_version, version);
	assert_string_equal(pr.r->protocols.reason, "negotiated");
	assert_int_equal(oa_result_cert_count(pr.r->result), 1 + bc->n_inter);
	fx_assert_check(pr.r->result, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(pr.r->result, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	fx_assert_check(pr.r->result, OA_CHECK_CHAIN_ORDER, OA_STATUS_PASS, "ordered");
	assert_true(pr.r->duration_ms < TIMEOUT_MS);
	fx_probed_free(&pr);
}

/* The flight is over the accepted size: a prompt, named error, no certificate graded. */
static void expect_too_large(struct env *e, unsigned port, unsigned protocols)
{
	fx_probed pr;

	probe_port(&pr, e, port, protocols);
	assert_int_equal(pr.r->verdict, OA_STATUS_ERROR);
	if (strcmp(pr.r->error, "handshake_too_large") != 0) {
		fail_msg("got %s (%s), want handshake_too_large", pr.r->error, pr.r->error_detail);
	}
	assert_null(pr.r->result);
	assert_true(pr.r->duration_ms < TIMEOUT_MS);
	fx_probed_free(&pr);
}

#define TLS12 OA_PROTO_TLS1_2
#define TLS12_13 (OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3)

/* ---- probe against openssl s_server ---- */

static void test_s_server_20k(void **state)
{
	struct env *e = *state;

	expect_graded_pass(e, start_s_server(e, SIZE_20K, NULL), SIZE_20K, TLS12, "TLS1.2");
}

static void test_s_server_64k(void **state)
{
	struct env *e = *state;

	expect_graded_pass(e, start_s_server(e, SIZE_64K, NULL), SIZE_64K, TLS12, "TLS1.2");
}

static void test_s_server_150k(void **state)
{
	struct env *e = *state;

	expect_graded_pass(e, start_s_server(e, SIZE_150K, NULL), SIZE_150K, TLS12, "TLS1.2");
}

/* TLS 1.3 encrypts the Certificate message: the same flight through the record layer. */
static void test_s_server_150k_tls13(void **state)
{
	struct env *e = *state;

	expect_graded_pass(e, start_s_server(e, SIZE_150K, NULL), SIZE_150K, TLS12_13, "TLS1.3");
}

static void test_s_server_300k_too_large(void **state)
{
	struct env *e = *state;
	unsigned port = start_s_server(e, SIZE_300K, NULL);

	expect_too_large(e, port, TLS12);
	expect_too_large(e, port, TLS12_13);
}

/*
 * Many small certificates instead of few big ones: the handshake completes
 * and the verdict is the chain-length check's, not a timeout.
 */
static void test_s_server_60_certs_chain_too_long(void **state)
{
	struct env *e = *state;
	enum { N = 60 };
	oa_pki_cert *inter[N - 1];
	const oa_pki_cert *issuer = e->g->root;
	fx_probed pr;
	char cn[48];

	/* inter[0] issues the leaf; inter[N - 2] is issued by the root. */
	for (size_t i = N - 1; i-- > 0;) {
		snprintf(cn, sizeof(cn), "Long Chain CA %zu", i + 1);
		oa_pki_spec spec = fx_ca_spec(cn, 1825);

		inter[i] = fx_issue(&spec, issuer);
		issuer = inter[i];
	}
	oa_pki_cert *leaf = issue_padded(HOST, false, HOST, 0, issuer);
	unsigned port;
	assert_true(e->n_pids < 4);
	e->pids[e->n_pids++] =
	    fx_s_server_start(e->openssl, e->dir, "127.0.0.1", leaf,
			      (const oa_pki_cert *const *)inter, N - 1, NULL, &port);
	probe_port(&pr, e, port, TLS12);
	assert_string_equal(pr.r->error, "");
	assert_int_equal(pr.r->verdict, OA_STATUS_FAIL);
	fx_assert_check(pr.r->result, OA_CHECK_TRUST, OA_STATUS_FAIL, "chain_too_long");
	assert_int_equal(oa_result_cert_count(pr.r->result), N);
	fx_probed_free(&pr);
	oa_pki_cert_destroy(leaf);
	for (size_t i = 0; i < N - 1; i++) {
		oa_pki_cert_destroy(inter[i]);
	}
}

/* ---- probe against nginx ---- */

static void test_nginx_20k(void **state)
{
	struct env *e = *state;

	if (!have_nginx()) {
		skip();
	}
	expect_graded_pass(e, start_nginx(e, SIZE_20K), SIZE_20K, TLS12_13, "TLS1.3");
}

static void test_nginx_64k(void **state)
{
	struct env *e = *state;

	if (!have_nginx()) {
		skip();
	}
	expect_graded_pass(e, start_nginx(e, SIZE_64K), SIZE_64K, TLS12_13, "TLS1.3");
}

static void test_nginx_150k(void **state)
{
	struct env *e = *state;

	if (!have_nginx()) {
		skip();
	}
	unsigned port = start_nginx(e, SIZE_150K);
	expect_graded_pass(e, port, SIZE_150K, TLS12_13, "TLS1.3");
	expect_graded_pass(e, port, SIZE_150K, TLS12, "TLS1.2");
}

static void test_nginx_300k_too_large(void **state)
{
	struct env *e = *state;

	if (!have_nginx()) {
		skip();
	}
	expect_too_large(e, start_nginx(e, SIZE_300K), TLS12_13);
}

/* ---- the scanner ---- */

/* A scan config of one origin "big" at port, written to dir/name; returns the path. */
static char *scan_config(const struct env *e, const char *name, unsigned port)
{
	json_t *doc =
	    json_pack("{s:[{s:s, s:s, s:i, s:[s], s:[s, s]}], s:{s:i, s:i}}", "origins", "id",
		      "big", "domain_name", HOST, "https_port", (int)port, "addresses", "127.0.0.1",
		      "ssl_protocols", "TLSv1.2", "TLSv1.3", "scan", "connect_timeout_ms",
		      TIMEOUT_MS, "handshake_timeout_ms", TIMEOUT_MS);
	char *path = fx_path(e->dir, name);

	assert_non_null(doc);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2)), 0);
	json_decref(doc);
	return path;
}

/* Runs `originaudit scan` on port; asserts the exit code, the probe's verdict and error. */
static void expect_scan(struct env *e, unsigned port, int want_rc, const char *verdict,
			const char *error)
{
	const char *exe = getenv("ORIGINAUDIT");
	char *out = NULL;
	char *err = NULL;
	json_error_t jerr;

	if (exe == NULL || exe[0] == '\0') {
		fail_msg("ORIGINAUDIT is not set (run the test through meson test)");
	}
	char *config = scan_config(e, "scan.json", port);
	char *argv[] = {(char *)exe, "scan",	 "--config", config, "--ca-bundle",
			e->bundle,   "--format", "json",     NULL};
	int rc = fx_run(argv, &out, &err, 60);
	if (rc != want_rc) {
		fprintf(stderr, "--- stdout:\n%s\n--- stderr:\n%s\n", out, err);
		fail_msg("originaudit scan exited %d, want %d", rc, want_rc);
	}
	json_t *doc = json_loads(out, 0, &jerr);
	assert_non_null(doc);
	json_t *origin = json_array_get(json_object_get(doc, "origins"), 0);
	json_t *probes = json_object_get(origin, "probes");
	assert_int_equal(json_array_size(probes), 1);
	json_t *p = json_array_get(probes, 0);
	json_t *perr = json_object_get(p, "error");
	assert_string_equal(json_string_value(json_object_get(p, "verdict")), verdict);
	assert_string_equal(json_is_string(perr) ? json_string_value(perr) : "", error);
	assert_string_equal(json_string_value(json_object_get(origin, "verdict")), verdict);
	json_decref(doc);
	free(config);
	free(out);
	free(err);
}

static void test_scanner_150k_s_server(void **state)
{
	struct env *e = *state;

	expect_scan(e, start_s_server(e, SIZE_150K, NULL), 0, "pass", "");
}

static void test_scanner_64k_nginx(void **state)
{
	struct env *e = *state;

	if (!have_nginx()) {
		skip();
	}
	expect_scan(e, start_nginx(e, SIZE_64K), 0, "pass", "");
}

static void test_scanner_300k_too_large(void **state)
{
	struct env *e = *state;

	expect_scan(e, start_s_server(e, SIZE_300K, NULL), 2, "error", "handshake_too_large");
}

/* ---- the proxy ---- */

/* A whole HTTP/1.1 exchange on a fresh connection to 127.0.0.1:port; returns the malloc'd reply. */
static char *http_get(unsigned port)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\n"
				  "Connection: close\r\n\r\n";
	struct sockaddr_in sin;
	struct timeval tv = {15, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0;
	size_t cap = 4096;
	char *buf = malloc(cap);

	assert_true(fd >= 0);
	assert_non_null(buf);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)(sizeof(req) - 1));
	for (;;) {
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0) {
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* originaudit-proxy with one https-only origin at origin_port; GET / answers the origin's 200. */
static void expect_proxied(struct env *e, unsigned origin_port, const char *body)
{
	const char *exe = getenv("ORIGINAUDIT_PROXY");
	unsigned port = fx_free_port("127.0.0.1");

	if (exe == NULL || exe[0] == '\0') {
		fail_msg("ORIGINAUDIT_PROXY is not set (run the test through meson test)");
	}
	json_t *doc = json_pack(
	    "{s:[{s:s, s:s, s:i, s:[s], s:s, s:[s, s], s:i, s:i}], s:{s:s, s:s},"
	    " s:{s:[{s:s, s:i}], s:s, s:i}, s:{s:i, s:i}}",
	    "origins", "id", "big", "domain_name", HOST, "https_port", (int)origin_port,
	    "addresses", "127.0.0.1", "protocol_policy", "https-only", "ssl_protocols", "TLSv1.2",
	    "TLSv1.3", "connection_attempts", 1, "connection_timeout_s", 5, "default_behavior",
	    "origin", "big", "viewer_protocol_policy", "allow-all", "proxy", "listen", "address",
	    "127.0.0.1", "port", (int)port, "ca_bundle", e->bundle, "workers", 1, "scan",
	    "connect_timeout_ms", TIMEOUT_MS, "handshake_timeout_ms", TIMEOUT_MS);
	assert_non_null(doc);
	char *config = fx_path(e->dir, "proxy.json");
	assert_int_equal(json_dump_file(doc, config, JSON_INDENT(2)), 0);
	json_decref(doc);
	char *log = fx_path(e->dir, "proxy.log");
	/* exec keeps the pid for fx_kill; stderr (the proxy's log) goes to a file for failures. */
	char *argv[] = {"/bin/sh", "-c", "exec \"$@\" 2>\"$0\"", log, (char *)exe, "--config",
			config,	   NULL};
	assert_true(e->n_pids < 4);
	e->pids[e->n_pids++] = fx_spawn(argv);
	if (!fx_wait_listening("127.0.0.1", port, 10000)) {
		fail_msg("the proxy does not listen on port %u", port);
	}
	char *reply = http_get(port);
	if (strncmp(reply, "HTTP/1.1 200 ", 13) != 0 || strstr(reply, body) == NULL) {
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", log);
		if (system(cmd) != 0) {
			print_error("cannot show %s\n", log);
		}
		fail_msg("want 200 with \"%s\" through the proxy, got:\n%.600s", body, reply);
	}
	free(reply);
	free(log);
	free(config);
}

static void test_proxy_150k_nginx(void **state)
{
	struct env *e = *state;

	if (!have_nginx()) {
		skip();
	}
	expect_proxied(e, start_nginx(e, SIZE_150K), "big chain origin");
}

static void test_proxy_64k_s_server(void **state)
{
	struct env *e = *state;
	const char *const www[] = {"-www", NULL};

	/* s_server -www answers every GET with 200 and a page about the session. */
	expect_proxied(e, start_s_server(e, SIZE_64K, www), "s_server");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_s_server_20k),
	    T(test_s_server_64k),
	    T(test_s_server_150k),
	    T(test_s_server_150k_tls13),
	    T(test_s_server_300k_too_large),
	    T(test_s_server_60_certs_chain_too_long),
	    T(test_nginx_20k),
	    T(test_nginx_64k),
	    T(test_nginx_150k),
	    T(test_nginx_300k_too_large),
	    T(test_scanner_150k_s_server),
	    T(test_scanner_64k_nginx),
	    T(test_scanner_300k_too_large),
	    T(test_proxy_150k_nginx),
	    T(test_proxy_64k_s_server),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
