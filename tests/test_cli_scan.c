/*
 * End-to-end tests of `originaudit scan`, `check-config` and `demo`: the real
 * binary ($ORIGINAUDIT) against TLS origins on loopback. The origins are the
 * project's test origin (each on its own libuv loop in a background thread,
 * driven only through a uv_async_t) or openssl s_server (a child process),
 * serving certificates generated here. Every scan trusts only the test root
 * and uses short timeouts, and every report format is parsed back.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixtures.h"
#include "originaudit/testorigin.h"

#define HOST "origin.example.com"
#define WWW "www.example.com"
#define DAY 86400
/* The scan block's connect and handshake timeouts. */
#define TIMEOUT_MS 1500
/* fx_run's limit for one command: far above any scan here, it only catches hangs. */
#define RUN_LIMIT_S 120

#define MAX_BG 16
#define MAX_PIDS 8
#define MAX_CERTS 32

struct env {
	const char *exe;
	char *dir;
	fx_pki pki;
	char *bundle;
	char *openssl;
	char *xmllint;
	fx_origin *bgs[MAX_BG];
	size_t n_bgs;
	int pids[MAX_PIDS];
	size_t n_pids;
	oa_pki_cert *certs[MAX_CERTS];
	size_t n_certs;
	unsigned files;
	/* What the tests allocate, freed at teardown even when an assertion fails. */
	void **owned;
	size_t n_owned;
	json_t **docs;
	size_t n_docs;
};

/* ---- test origins in background threads ---- */

/*
 * Starts a test origin in a background thread. Returns it (owned by e,
 * stopped at teardown), or NULL when it could not start (err then says why).
 */
static fx_origin *bg_try_start(struct env *e, const oa_test_origin_opts *opts, oa_error *err)
{
	assert_true(e->n_bgs < MAX_BG);
	fx_origin *bg = fx_origin_start(opts, err);
	if (bg != NULL) {
		e->bgs[e->n_bgs++] = bg;
	}
	return bg;
}

static fx_origin *bg_start(struct env *e, const oa_test_origin_opts *opts)
{
	oa_error err;
	fx_origin *bg = bg_try_start(e, opts, &err);

	if (bg == NULL) {
		fail_msg("oa_test_origin_start: %s", err.msg);
	}
	return bg;
}

/* ---- environment ---- */

static int setup(void **state)
{
	const char *exe = getenv("ORIGINAUDIT");

	if (exe == NULL || exe[0] == '\0') {
		fail_msg("ORIGINAUDIT is not set (run the test through meson test)");
	}
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->exe = exe;
	e->dir = fx_tempdir();
	fx_pki_make(&e->pki);
	e->bundle = fx_bundle_file(e->dir, "roots.pem", e->pki.root);
	e->openssl = fx_find_tool("openssl");
	e->xmllint = fx_find_tool("xmllint");
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < e->n_pids; i++) {
		fx_kill(e->pids[i]);
	}
	for (size_t i = 0; i < e->n_bgs; i++) {
		assert_int_equal(fx_origin_stop(e->bgs[i], NULL), 0);
	}
	for (size_t i = 0; i < e->n_certs; i++) {
		oa_pki_cert_destroy(e->certs[i]);
	}
	for (size_t i = 0; i < e->n_owned; i++) {
		free(e->owned[i]);
	}
	free(e->owned);
	for (size_t i = 0; i < e->n_docs; i++) {
		json_decref(e->docs[i]);
	}
	free(e->docs);
	free(e->bundle);
	free(e->openssl);
	free(e->xmllint);
	fx_pki_free(&e->pki);
	fx_tempdir_remove(e->dir);
	free(e);
	return 0;
}

/* Hands p (malloc'd) to the environment, which frees it at teardown; returns p. */
static void *keep(struct env *e, void *p)
{
	void **grown = realloc(e->owned, (e->n_owned + 1) * sizeof(*grown));

	assert_non_null(grown);
	e->owned = grown;
	e->owned[e->n_owned++] = p;
	return p;
}

/* Hands a JSON reference to the environment; returns it. */
static json_t *keep_json(struct env *e, json_t *doc)
{
	json_t **grown = realloc(e->docs, (e->n_docs + 1) * sizeof(*grown));

	assert_non_null(grown);
	e->docs = grown;
	e->docs[e->n_docs++] = doc;
	return doc;
}

/* A fresh file name in the test's directory (owned by e). */
static char *new_path(struct env *e, const char *base)
{
	char name[128];

	snprintf(name, sizeof(name), "%u-%s", e->files++, base);
	return keep(e, fx_path(e->dir, name));
}

/* Issues a certificate the environment frees at teardown. */
static oa_pki_cert *issue(struct env *e, const oa_pki_spec *spec, const oa_pki_cert *issuer)
{
	assert_true(e->n_certs < MAX_CERTS);
	oa_pki_cert *c = fx_issue(spec, issuer);
	e->certs[e->n_certs++] = c;
	return c;
}

/* A leaf for one DNS name, valid from not_before to not_after (relative to now). */
static oa_pki_cert *leaf_between(struct env *e, const char *dns, time_t from, time_t to,
				 const oa_pki_cert *issuer)
{
	oa_pki_spec spec = fx_leaf_spec(dns, dns, 90);
	time_t now = time(NULL);

	spec.not_before = now + from;
	spec.not_after = now + to;
	return issue(e, &spec, issuer);
}

static oa_pki_cert *leaf_for(struct env *e, const char *dns, const oa_pki_cert *issuer)
{
	return leaf_between(e, dns, -DAY, 90 * DAY, issuer);
}

/* ---- servers ---- */

static bool need_openssl(struct env *e)
{
	if (e->openssl == NULL) {
		print_message("openssl not found: skipping (scripts/install-deps installs it)\n");
		return false;
	}
	return true;
}

/*
 * A TLS test origin on address:port (0: any free port) serving chain in
 * exactly this order with chain[0]'s key; returns the port bound. With out,
 * a failure to start is not fatal: *out is NULL and 0 is returned.
 */
static unsigned serve_chain_at(struct env *e, const char *address, unsigned port,
			       const oa_pki_cert *const *chain, size_t n, fx_origin **out)
{
	gnutls_datum_t pem = fx_pem_concat(chain, n);
	oa_test_origin_opts o;
	oa_error err;

	memset(&o, 0, sizeof(o));
	o.mode = OA_TEST_ORIGIN_TLS;
	o.address = address;
	o.port = port;
	o.chain_pem = &pem;
	o.key_pem = oa_pki_key_pem(chain[0]);
	/* The origin reads the PEM while it starts; it keeps no pointer to it. */
	fx_origin *bg = bg_try_start(e, &o, &err);
	free(pem.data);
	if (out != NULL) {
		*out = bg;
	}
	if (bg == NULL) {
		if (out != NULL) {
			return 0;
		}
		fail_msg("oa_test_origin_start: %s", err.msg);
	}
	return fx_origin_port(bg);
}

/* A TLS test origin on 127.0.0.1 serving chain in exactly this order; returns its port. */
static unsigned serve_chain(struct env *e, const oa_pki_cert *const *chain, size_t n)
{
	return serve_chain_at(e, "127.0.0.1", 0, chain, n, NULL);
}

static unsigned serve_mode(struct env *e, oa_test_origin_mode mode)
{
	oa_test_origin_opts o;

	memset(&o, 0, sizeof(o));
	o.mode = mode;
	o.address = "127.0.0.1";
	return fx_origin_port(bg_start(e, &o));
}

/* The good chain (leaf for origin and www, intermediate). */
static unsigned serve_good(struct env *e, fx_origin **out)
{
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	unsigned port = serve_chain(e, chain, 2);

	if (out != NULL) {
		*out = e->bgs[e->n_bgs - 1];
	}
	return port;
}

/*
 * openssl s_server on 127.0.0.1 sending leaf then rest in this order, with
 * extra arguments (NULL-terminated, may be NULL); returns its port.
 */
static unsigned s_server(struct env *e, const oa_pki_cert *leaf, const oa_pki_cert *const *rest,
			 size_t n_rest, const char *const *extra)
{
	unsigned port;

	assert_true(e->n_pids < MAX_PIDS);
	e->pids[e->n_pids++] =
	    fx_s_server_start(e->openssl, e->dir, "127.0.0.1", leaf, rest, n_rest, extra, &port);
	return port;
}

/* ---- configurations ---- */

static json_t *origin_at(const char *id, const char *domain, unsigned port)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:[s]}", "id", id, "domain_name", domain,
			      "https_port", (int)port, "addresses", "127.0.0.1");

	assert_non_null(o);
	return o;
}

static json_t *scan_block(void)
{
	json_t *s = json_pack("{s:i, s:i}", "connect_timeout_ms", TIMEOUT_MS,
			      "handshake_timeout_ms", TIMEOUT_MS);

	assert_non_null(s);
	return s;
}

/* {"origins": origins, "scan": {short timeouts}}; steals origins. */
static json_t *config_of(json_t *origins)
{
	json_t *root = json_object();

	assert_non_null(root);
	assert_int_equal(json_object_set_new(root, "origins", origins), 0);
	assert_int_equal(json_object_set_new(root, "scan", scan_block()), 0);
	return root;
}

/* Writes doc (stolen) as a new file; returns its path (owned by e). */
static char *write_json(struct env *e, json_t *doc)
{
	char *path = new_path(e, "config.json");

	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
	json_decref(doc);
	return path;
}

static char *write_text(struct env *e, const char *text)
{
	char *path = new_path(e, "config.json");

	fx_write(path, text, strlen(text));
	return path;
}

/* ---- running the program ---- */

struct run {
	int rc;
	char *out;
	char *err;
	double ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Runs the program with args (NULL-terminated), capturing everything. */
static void run_argv(struct env *e, struct run *r, const char *const *args)
{
	char *argv[48];
	int n = 0;

	argv[n++] = (char *)e->exe;
	for (size_t i = 0; args[i] != NULL; i++) {
		assert_true(n < 47);
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	double start = now_ms();
	r->rc = fx_run(argv, &r->out, &r->err, RUN_LIMIT_S);
	r->ms = now_ms() - start;
	keep(e, r->out);
	keep(e, r->err);
}

static void run(struct env *e, struct run *r, ...)
{
	const char *args[48];
	size_t n = 0;
	va_list ap;

	va_start(ap, r);
	for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
		assert_true(n < 47);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	run_argv(e, r, args);
}

static void expect_rc(const struct run *r, int rc)
{
	if (r->rc != rc) {
		/* cmocka cuts long messages short: the whole output goes to stderr first. */
		fprintf(stderr, "--- stdout:\n%s\n--- stderr:\n%s\n", r->out, r->err);
		fail_msg("exit %d, want %d", r->rc, rc);
	}
}

/* stderr is exactly one line. */
static void expect_one_stderr_line(const struct run *r)
{
	size_t len = strlen(r->err);
	const char *nl = strchr(r->err, '\n');

	if (len == 0 || nl != r->err + len - 1) {
		fail_msg("want exactly one line on stderr, got:\n%s", r->err);
	}
}

static void expect_contains(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) == NULL) {
		fail_msg("\"%s\" not found in:\n%s", needle, haystack);
	}
}

/*
 * scan --config path --ca-bundle <test root> --format json [extra...]:
 * asserts the exit code and returns the parsed report (schema 1).
 */
static json_t *scan_json_ms(struct env *e, const char *config, int want_rc, double *ms,
			    const char *const *extra)
{
	const char *args[40];
	size_t n = 0;
	struct run r;
	json_error_t jerr;

	args[n++] = "scan";
	args[n++] = "--config";
	args[n++] = config;
	args[n++] = "--ca-bundle";
	args[n++] = e->bundle;
	args[n++] = "--format";
	args[n++] = "json";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 39; i++) {
		args[n++] = extra[i];
	}
	args[n] = NULL;
	run_argv(e, &r, args);
	expect_rc(&r, want_rc);
	json_t *doc = json_loads(r.out, 0, &jerr);
	if (doc == NULL) {
		fail_msg("the report is not JSON (%d:%d: %s):\n%s", jerr.line, jerr.column,
			 jerr.text, r.out);
	}
	keep_json(e, doc);
	if (ms != NULL) {
		*ms = r.ms;
	}
	assert_int_equal(json_integer_value(json_object_get(doc, "schema")), 1);
	assert_true(json_is_integer(json_object_get(doc, "schema")));
	return doc;
}

static json_t *scan_json(struct env *e, const char *config, int want_rc)
{
	return scan_json_ms(e, config, want_rc, NULL, NULL);
}

/* ---- reading the report ---- */

/* Follows "a.b[2].c" (keys without dots) from root; NULL when absent. */
static json_t *jget(json_t *root, const char *path)
{
	char buf[256];
	char *save = NULL;
	json_t *v = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *part = strtok_r(buf, ".", &save); part != NULL && v != NULL;
	     part = strtok_r(NULL, ".", &save)) {
		char *bracket = strchr(part, '[');

		if (bracket != NULL) {
			*bracket = '\0';
		}
		if (part[0] != '\0') {
			v = json_object_get(v, part);
		}
		while (bracket != NULL && v != NULL) {
			v = json_array_get(v, strtoul(bracket + 1, NULL, 10));
			bracket = strchr(bracket + 1, '[');
		}
	}
	return v;
}

static const char *jstr(json_t *root, const char *path)
{
	json_t *v = jget(root, path);

	if (!json_is_string(v)) {
		char *dump = json_dumps(root, JSON_INDENT(1));

		fprintf(stderr, "%s\n", dump != NULL ? dump : "");
		free(dump);
		fail_msg("%s is not a string in the JSON above", path);
	}
	return json_string_value(v);
}

static long long jint(json_t *root, const char *path)
{
	json_t *v = jget(root, path);

	if (!json_is_integer(v)) {
		fail_msg("%s is not an integer", path);
	}
	return json_integer_value(v);
}

static json_t *origin_by_id(json_t *report, const char *id)
{
	json_t *origins = json_object_get(report, "origins");
	size_t i;
	json_t *o;

	json_array_foreach(origins, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0) {
			return o;
		}
	}
	fail_msg("no origin \"%s\" in the report", id);
	return NULL;
}

static json_t *probe_of(json_t *origin, size_t index)
{
	json_t *p = json_array_get(json_object_get(origin, "probes"), index);

	assert_non_null(p);
	return p;
}

/* The only probe of origin id. */
static json_t *only_probe(json_t *report, const char *id)
{
	json_t *o = origin_by_id(report, id);

	assert_int_equal(json_array_size(json_object_get(o, "probes")), 1);
	return probe_of(o, 0);
}

static void want_check(json_t *probe, const char *check, const char *status, const char *reason)
{
	json_t *c = json_object_get(json_object_get(probe, "checks"), check);
	const char *s = json_string_value(json_object_get(c, "status"));
	const char *r = json_string_value(json_object_get(c, "reason"));

	if (s == NULL || r == NULL || strcmp(s, status) != 0 || strcmp(r, reason) != 0) {
		char *dump = json_dumps(probe, JSON_INDENT(1));

		fprintf(stderr, "%s\n", dump != NULL ? dump : "");
		free(dump);
		fail_msg("check %s: got %s/%s, want %s/%s in the probe above", check,
			 s ? s : "(none)", r ? r : "(none)", status, reason);
	}
}

/* The probe's verdict and error ("" for none), as the report says. */
static void expect_probe(json_t *probe, const char *verdict, const char *error)
{
	const char *v = json_string_value(json_object_get(probe, "verdict"));
	json_t *err = json_object_get(probe, "error");
	const char *es = json_is_null(err) ? "" : json_string_value(err);

	if (v == NULL || es == NULL || strcmp(v, verdict) != 0 || strcmp(es, error) != 0) {
		char *dump = json_dumps(probe, JSON_INDENT(1));

		fprintf(stderr, "%s\n", dump != NULL ? dump : "");
		free(dump);
		fail_msg("probe: got %s/%s, want %s/%s (the probe is above)", v ? v : "(none)",
			 es ? es : "(none)", verdict, error);
	}
}

/* Every check the core and the probe ran passes. */
static void expect_all_checks_pass(json_t *probe)
{
	json_t *checks = json_object_get(probe, "checks");
	const char *name;
	json_t *c;

	assert_true(json_object_size(checks) >= 7);
	json_object_foreach(checks, name, c)
	{
		const char *s = json_string_value(json_object_get(c, "status"));

		if (strcmp(s, "pass") != 0 && strcmp(s, "skip") != 0) {
			fail_msg("check %s is %s (%s)", name, s,
				 json_string_value(json_object_get(c, "reason")));
		}
	}
}

struct summary {
	long long origins, pass, warn, fail, error, skipped, probes;
	const char *verdict;
};

static void expect_summary(json_t *report, struct summary want)
{
	json_t *s = json_object_get(report, "summary");
	struct summary got = {
	    jint(s, "origins"), jint(s, "pass"),    jint(s, "warn"),   jint(s, "fail"),
	    jint(s, "error"),	jint(s, "skipped"), jint(s, "probes"), jstr(s, "verdict"),
	};

	if (got.origins != want.origins || got.pass != want.pass || got.warn != want.warn ||
	    got.fail != want.fail || got.error != want.error || got.skipped != want.skipped ||
	    got.probes != want.probes || strcmp(got.verdict, want.verdict) != 0) {
		fail_msg("summary: got origins %lld pass %lld warn %lld fail %lld error %lld "
			 "skipped %lld probes %lld %s; want %lld %lld %lld %lld %lld %lld %lld %s",
			 got.origins, got.pass, got.warn, got.fail, got.error, got.skipped,
			 got.probes, got.verdict, want.origins, want.pass, want.warn, want.fail,
			 want.error, want.skipped, want.probes, want.verdict);
	}
	assert_int_equal(json_array_size(json_object_get(report, "origins")), want.origins);
}

/* The probe's first certificate's SANs are exactly {dns}. */
static void expect_leaf_san(json_t *probe, const char *dns)
{
	json_t *sans = jget(probe, "chain[0].sans");

	assert_int_equal(json_array_size(sans), 1);
	assert_string_equal(json_string_value(json_array_get(sans, 0)), dns);
}

/* ---- 1. the classic mistakes in one scan ---- */

struct mistakes {
	unsigned good, wrong_order, missing, self_signed, expired, wrong_name, soon;
};

static void serve_mistakes(struct env *e, struct mistakes *m)
{
	oa_pki_spec self = fx_leaf_spec(HOST, HOST, 90);
	const oa_pki_cert *self_cert = issue(e, &self, NULL);
	/*
	 * Validity ends half a day off a whole day, so the days left are the same
	 * whichever second each of several scans runs.
	 */
	const oa_pki_cert *good = leaf_between(e, HOST, -DAY, 60 * DAY + DAY / 2, e->pki.inter);
	const oa_pki_cert *expired =
	    leaf_between(e, HOST, -100 * DAY, -3 * DAY - DAY / 2, e->pki.inter);
	const oa_pki_cert *other = leaf_for(e, "other.example.com", e->pki.inter);
	/* A 90-day certificate with 12 days left: the default rule warns under 30 days. */
	const oa_pki_cert *soon =
	    leaf_between(e, HOST, -78 * DAY + DAY / 2, 12 * DAY + DAY / 2, e->pki.inter);
	const oa_pki_cert *good_chain[] = {good, e->pki.inter};
	const oa_pki_cert *wrong_order[] = {e->pki.leaf, e->pki.root, e->pki.inter};
	const oa_pki_cert *missing[] = {e->pki.leaf};
	const oa_pki_cert *self_chain[] = {self_cert};
	const oa_pki_cert *expired_chain[] = {expired, e->pki.inter};
	const oa_pki_cert *other_chain[] = {other, e->pki.inter};
	const oa_pki_cert *soon_chain[] = {soon, e->pki.inter};

	m->good = serve_chain(e, good_chain, 2);
	m->wrong_order = serve_chain(e, wrong_order, 3);
	m->missing = serve_chain(e, missing, 1);
	m->self_signed = serve_chain(e, self_chain, 1);
	m->expired = serve_chain(e, expired_chain, 2);
	m->wrong_name = serve_chain(e, other_chain, 2);
	m->soon = serve_chain(e, soon_chain, 2);
}

static void test_classic_mistakes(void **state)
{
	struct env *e = *state;
	struct mistakes m;

	serve_mistakes(e, &m);
	json_t *origins = json_pack(
	    "[o, o, o, o, o, o, o]", origin_at("good", HOST, m.good),
	    origin_at("wrong-order", HOST, m.wrong_order),
	    origin_at("missing-intermediate", HOST, m.missing),
	    origin_at("self-signed", HOST, m.self_signed), origin_at("expired", HOST, m.expired),
	    origin_at("wrong-name", HOST, m.wrong_name), origin_at("expiring-soon", HOST, m.soon));
	char *config = write_json(e, config_of(origins));
	json_t *report = scan_json(e, config, 2);

	expect_summary(report, (struct summary){7, 1, 1, 5, 0, 0, 7, "fail"});
	assert_string_equal(jstr(report, "tool.name"), "originaudit");
	assert_int_equal(jint(report, "ca_bundle.certificates"), 1);
	assert_string_equal(jstr(report, "ca_bundle.path"), e->bundle);

	json_t *p = only_probe(report, "good");
	assert_string_equal(jstr(origin_by_id(report, "good"), "verdict"), "pass");
	expect_probe(p, "pass", "");
	expect_all_checks_pass(p);
	want_check(p, "trust", "pass", "trusted");
	want_check(p, "protocols", "pass", "negotiated");
	assert_string_equal(jstr(p, "address"), "127.0.0.1");
	assert_string_equal(jstr(p, "sni"), HOST);
	assert_string_equal(jstr(p, "kind"), "https");
	assert_int_equal(jint(p, "port"), m.good);
	assert_string_equal(jstr(p, "tls.version"), "TLS1.2");
	assert_true(strlen(jstr(p, "tls.cipher")) > 0);
	assert_int_equal(json_array_size(json_object_get(p, "chain")), 2);
	assert_string_equal(jstr(p, "chain[0].role"), "leaf");
	assert_string_equal(jstr(p, "chain[1].role"), "intermediate");

	p = only_probe(report, "wrong-order");
	assert_string_equal(jstr(origin_by_id(report, "wrong-order"), "verdict"), "fail");
	expect_probe(p, "fail", "");
	want_check(p, "chain_order", "fail", "wrong_order");
	want_check(p, "trust", "pass", "trusted");

	p = only_probe(report, "missing-intermediate");
	assert_string_equal(jstr(origin_by_id(report, "missing-intermediate"), "verdict"), "fail");
	expect_probe(p, "fail", "");
	want_check(p, "trust", "fail", "missing_intermediate");

	p = only_probe(report, "self-signed");
	assert_string_equal(jstr(origin_by_id(report, "self-signed"), "verdict"), "fail");
	expect_probe(p, "fail", "");
	want_check(p, "self_signed", "fail", "self_signed");
	want_check(p, "trust", "fail", "untrusted_root");

	p = only_probe(report, "expired");
	assert_string_equal(jstr(origin_by_id(report, "expired"), "verdict"), "fail");
	expect_probe(p, "fail", "");
	want_check(p, "expiry", "fail", "expired");
	want_check(p, "trust", "pass", "trusted");
	assert_int_equal(jint(p, "checks.expiry.days_left"), -4);

	p = only_probe(report, "wrong-name");
	assert_string_equal(jstr(origin_by_id(report, "wrong-name"), "verdict"), "fail");
	expect_probe(p, "fail", "");
	want_check(p, "name", "fail", "name_mismatch");
	want_check(p, "trust", "pass", "trusted");

	p = only_probe(report, "expiring-soon");
	assert_string_equal(jstr(origin_by_id(report, "expiring-soon"), "verdict"), "warn");
	expect_probe(p, "warn", "");
	want_check(p, "expiry", "warn", "expiring_soon");
	assert_int_equal(jint(p, "checks.expiry.days_left"), 12);

	/* The expiring-soon origin alone: a warning, exit 1. */
	config = write_json(e, config_of(json_pack("[o]", origin_at("soon", HOST, m.soon))));
	report = scan_json(e, config, 1);
	expect_summary(report, (struct summary){1, 0, 1, 0, 0, 0, 1, "warn"});

	/*
	 * Per-origin thresholds: the same 12-days-left 90-day certificate passes
	 * for an origin that warns only under 10 days, and warns for one that
	 * warns under 20% of the lifetime (18 days).
	 */
	json_t *lax = origin_at("lax", HOST, m.soon);
	json_object_set_new(lax, "expiry_warn_days", json_integer(10));
	json_object_set_new(lax, "expiry_critical_days", json_integer(2));
	json_t *share = origin_at("share", HOST, m.soon);
	json_object_set_new(share, "expiry_warn_days", json_string("20%"));
	config = write_json(e, config_of(json_pack("[o, o]", lax, share)));
	report = scan_json(e, config, 1);
	want_check(only_probe(report, "lax"), "expiry", "pass", "valid");
	want_check(only_probe(report, "share"), "expiry", "warn", "expiring_soon");

	/* The good origin alone: exit 0. */
	config = write_json(e, config_of(json_pack("[o]", origin_at("good", HOST, m.good))));
	report = scan_json(e, config, 0);
	expect_summary(report, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});

	/* Graded as of a later time (--at), the same certificate has expired. */
	const char *const later[] = {"--at", "2099-01-01T00:00:00Z", NULL};
	report = scan_json_ms(e, config, 2, NULL, later);
	want_check(only_probe(report, "good"), "expiry", "fail", "expired");

	/* stdout is not a terminal: JSON by default. */
	struct run r;
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, NULL);
	expect_rc(&r, 0);
	json_error_t jerr;
	json_t *doc = keep_json(e, json_loads(r.out, 0, &jerr));
	assert_non_null(doc);
	expect_summary(doc, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});
}

/* ---- 2. one verdict per address ---- */

static void test_per_address_verdicts(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *expired = leaf_between(e, HOST, -100 * DAY, -3 * DAY, e->pki.inter);
	const oa_pki_cert *good[] = {e->pki.leaf, e->pki.inter};
	const oa_pki_cert *bad[] = {expired, e->pki.inter};
	fx_origin *v6 = NULL;
	unsigned port = serve_chain(e, good, 2);

	serve_chain_at(e, "::1", port, bad, 2, &v6);
	if (v6 == NULL) {
		print_message("cannot listen on [::1]:%u (no IPv6 loopback?): skipping\n", port);
		skip();
	}
	json_t *o = json_pack("{s:s, s:s, s:i, s:[s, s]}", "id", "dual", "domain_name", HOST,
			      "https_port", (int)port, "addresses", "127.0.0.1", "::1");
	char *config = write_json(e, config_of(json_pack("[o]", o)));
	json_t *report = scan_json(e, config, 2);

	expect_summary(report, (struct summary){1, 0, 0, 1, 0, 0, 2, "fail"});
	json_t *origin = origin_by_id(report, "dual");
	assert_string_equal(jstr(origin, "verdict"), "fail");
	assert_int_equal(json_array_size(json_object_get(origin, "probes")), 2);
	json_t *p4 = NULL;
	json_t *p6 = NULL;
	for (size_t i = 0; i < 2; i++) {
		json_t *p = probe_of(origin, i);

		if (strcmp(jstr(p, "address"), "127.0.0.1") == 0) {
			p4 = p;
		} else if (strcmp(jstr(p, "address"), "::1") == 0) {
			p6 = p;
		}
	}
	assert_non_null(p4);
	assert_non_null(p6);
	expect_probe(p4, "pass", "");
	expect_all_checks_pass(p4);
	assert_string_equal(jstr(p4, "sni"), HOST);
	expect_probe(p6, "fail", "");
	want_check(p6, "expiry", "fail", "expired");
	assert_string_equal(jstr(p6, "sni"), HOST);
	assert_int_equal(jint(p6, "port"), port);
}

/* ---- 3. forwarded Host: one probe per alias, with SNI = the alias ---- */

/*
 * openssl s_server presenting a certificate for origin.example.com only, or
 * one for www.example.com only when the client's SNI is www.example.com.
 * Both are issued by the root directly: s_server sends no chain for its
 * second certificate. extra (may be NULL) is appended to the arguments.
 */
static unsigned sni_server(struct env *e, const char *extra)
{
	const oa_pki_cert *origin_leaf = leaf_for(e, HOST, e->pki.root);
	const oa_pki_cert *www_leaf = leaf_for(e, WWW, e->pki.root);
	char *www_cert = new_path(e, "www.pem");
	char *www_key = new_path(e, "www.key");
	oa_error err;

	assert_int_equal(oa_pki_write_chain(www_cert, &www_leaf, 1, &err), 0);
	assert_int_equal(oa_pki_write_key(www_key, www_leaf, &err), 0);
	const char *const args[] = {"-servername", WWW,	    "-cert2", www_cert,
				    "-key2",	   www_key, extra,    NULL};
	unsigned port = s_server(e, origin_leaf, NULL, 0, args);
	return port;
}

/* The origin of the forwarded-Host tests, offering TLS 1.2 and 1.3. */
static json_t *sni_origin(unsigned port)
{
	json_t *o = origin_at("o", HOST, port);

	json_object_set_new(o, "ssl_protocols", json_pack("[s, s]", "TLSv1.2", "TLSv1.3"));
	return o;
}

static void test_forwarded_host_sni(void **state)
{
	struct env *e = *state;

	if (!need_openssl(e)) {
		skip();
	}
	/*
	 * TLS 1.3 is offered too: in TLS 1.2 s_server greets any other SNI with a
	 * warning alert, which test_sni_warning_alert covers on its own.
	 */
	unsigned port = sni_server(e, NULL);
	json_t *doc =
	    json_pack("{s:[s], s:[o], s:[{s:s, s:s, s:b}], s:{s:s, s:b}, s:o}", "aliases", WWW,
		      "origins", sni_origin(port), "behaviors", "path_pattern", "/api/*", "origin",
		      "o", "forward_host_header", 1, "default_behavior", "origin", "o",
		      "forward_host_header", 0, "scan", scan_block());
	assert_non_null(doc);
	char *config = write_json(e, doc);
	json_t *report = scan_json(e, config, 0);

	expect_summary(report, (struct summary){1, 1, 0, 0, 0, 0, 2, "pass"});
	json_t *origin = origin_by_id(report, "o");
	json_t *plain = NULL;
	json_t *alias = NULL;
	for (size_t i = 0; i < 2; i++) {
		json_t *p = probe_of(origin, i);

		if (strcmp(jstr(p, "sni"), HOST) == 0) {
			plain = p;
		} else if (strcmp(jstr(p, "sni"), WWW) == 0) {
			alias = p;
		}
	}
	assert_non_null(plain);
	assert_non_null(alias);
	/* The server chose its certificate by the SNI each probe sent. */
	expect_probe(plain, "pass", "");
	expect_leaf_san(plain, HOST);
	want_check(plain, "name", "pass", "matched");
	expect_probe(alias, "pass", "");
	expect_leaf_san(alias, WWW);
	want_check(alias, "name", "pass", "matched");
	assert_int_equal(json_array_size(json_object_get(alias, "names")), 2);
	assert_string_equal(jstr(alias, "names[0]"), HOST);
	assert_string_equal(jstr(alias, "names[1]"), WWW);

	/* Every behaviour forwards Host: only the alias probe. */
	doc = json_pack("{s:[s], s:[o], s:[{s:s, s:s, s:b}], s:{s:s, s:b}, s:o}", "aliases", WWW,
			"origins", sni_origin(port), "behaviors", "path_pattern", "/api/*",
			"origin", "o", "forward_host_header", 1, "default_behavior", "origin", "o",
			"forward_host_header", 1, "scan", scan_block());
	assert_non_null(doc);
	config = write_json(e, doc);
	report = scan_json(e, config, 0);
	expect_summary(report, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});
	json_t *p = only_probe(report, "o");
	assert_string_equal(jstr(p, "sni"), WWW);
	expect_leaf_san(p, WWW);
	want_check(p, "name", "pass", "matched");
}

/*
 * Host is forwarded but the only alias is a wildcard: no viewer host name is
 * known, so the origin is still probed with its own domain, as when there are
 * no aliases at all. It must never be reported as passing without a probe.
 */
static void test_wildcard_alias_only(void **state)
{
	struct env *e = *state;
	unsigned refused = fx_free_port("127.0.0.1");
	json_t *doc = json_pack("{s:[s], s:[o], s:{s:s, s:b}, s:o}", "aliases", "*.example.com",
				"origins", origin_at("o", HOST, refused), "default_behavior",
				"origin", "o", "forward_host_header", 1, "scan", scan_block());

	assert_non_null(doc);
	json_t *report = scan_json(e, write_json(e, doc), 2);
	expect_summary(report, (struct summary){1, 0, 0, 0, 1, 0, 1, "error"});
	json_t *p = only_probe(report, "o");
	assert_string_equal(jstr(p, "sni"), HOST);
	expect_probe(p, "error", "connection_refused");
}

/*
 * A TLS 1.2 server that does not know the SNI name sends a *warning*
 * unrecognized_name alert and goes on with its default certificate (OpenSSL
 * and Apache do). The handshake succeeds; the probe must not call it a
 * protocol mismatch.
 */
static void test_sni_warning_alert(void **state)
{
	struct env *e = *state;

	if (!need_openssl(e)) {
		skip();
	}
	unsigned port = sni_server(e, NULL);
	char *config = write_json(e, config_of(json_pack("[o]", origin_at("o", HOST, port))));
	json_t *report = scan_json(e, config, 0);
	json_t *p = only_probe(report, "o");

	expect_probe(p, "pass", "");
	want_check(p, "protocols", "pass", "negotiated");
	assert_string_equal(jstr(p, "tls.version"), "TLS1.2");
	expect_leaf_san(p, HOST);
}

/* A fatal alert ends the probe with tls_alert:<the alert's TLS name>. */
static void test_fatal_alert(void **state)
{
	struct env *e = *state;

	if (!need_openssl(e)) {
		skip();
	}
	unsigned port = sni_server(e, "-servername_fatal");
	char *config = write_json(e, config_of(json_pack("[o]", origin_at("o", HOST, port))));
	json_t *report = scan_json(e, config, 2);

	expect_summary(report, (struct summary){1, 0, 0, 0, 1, 0, 1, "error"});
	expect_probe(only_probe(report, "o"), "error", "tls_alert:unrecognized_name");
}

/* ---- 4. protocol mismatch against a TLS 1.0-only server ---- */

static json_t *origin_with_protocols(unsigned port, const char *p1, const char *p2)
{
	json_t *o = origin_at("legacy", HOST, port);
	json_t *list = json_array();

	json_array_append_new(list, json_string(p1));
	if (p2 != NULL) {
		json_array_append_new(list, json_string(p2));
	}
	json_object_set_new(o, "ssl_protocols", list);
	return o;
}

static void test_protocol_mismatch_tls10(void **state)
{
	struct env *e = *state;

	if (!need_openssl(e)) {
		skip();
	}
	const oa_pki_cert *rest[] = {e->pki.inter};
	const char *const extra[] = {"-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};
	unsigned port = s_server(e, e->pki.leaf, rest, 1, extra);

	char *config = write_json(
	    e, config_of(json_pack("[o]", origin_with_protocols(port, "TLSv1.2", NULL))));
	json_t *report = scan_json(e, config, 2);
	json_t *p = only_probe(report, "legacy");
	assert_string_equal(jstr(p, "verdict"), "fail");
	want_check(p, "protocols", "fail", "protocol_mismatch");
	if (json_is_null(json_object_get(p, "error"))) {
		/* This GnuTLS still speaks TLS 1.0: the second handshake graded the chain. */
		assert_string_equal(jstr(p, "tls.version"), "TLS1.0");
		want_check(p, "trust", "pass", "trusted");
	}
	expect_summary(report, (struct summary){1, 0, 0, 1, 0, 0, 1, "fail"});

	config = write_json(
	    e, config_of(json_pack("[o]", origin_with_protocols(port, "TLSv1", "TLSv1.2"))));
	report = scan_json(e, config, 0);
	expect_summary(report, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});
	p = only_probe(report, "legacy");
	expect_probe(p, "pass", "");
	want_check(p, "protocols", "pass", "negotiated");
	assert_string_equal(jstr(p, "tls.version"), "TLS1.0");
	want_check(p, "trust", "pass", "trusted");
}

/* ---- 5. --enumerate-protocols ---- */

static void test_enumerate_protocols(void **state)
{
	struct env *e = *state;

	if (!need_openssl(e)) {
		skip();
	}
	const oa_pki_cert *rest[] = {e->pki.inter};
	const char *const extra[] = {"-no_tls1", "-no_tls1_1", NULL};
	unsigned port = s_server(e, e->pki.leaf, rest, 1, extra);
	char *config = write_json(e, config_of(json_pack("[o]", origin_at("o", HOST, port))));
	const char *const with[] = {"--enumerate-protocols", NULL};
	json_t *report = scan_json_ms(e, config, 0, NULL, with);
	json_t *accepted = jget(only_probe(report, "o"), "tls.accepted");

	assert_int_equal(json_object_size(accepted), 4);
	assert_true(json_is_false(json_object_get(accepted, "TLSv1")));
	assert_true(json_is_false(json_object_get(accepted, "TLSv1.1")));
	assert_true(json_is_true(json_object_get(accepted, "TLSv1.2")));
	assert_true(json_is_true(json_object_get(accepted, "TLSv1.3")));
	expect_probe(only_probe(report, "o"), "pass", "");

	/* Without the option nothing is enumerated. */
	report = scan_json(e, config, 0);
	assert_int_equal(json_object_size(jget(only_probe(report, "o"), "tls.accepted")), 0);
}

/* One handshake per probe, and one more per version with --enumerate-protocols. */
static void test_handshakes_per_probe(void **state)
{
	struct env *e = *state;
	fx_origin *bg = NULL;
	unsigned port = serve_good(e, &bg);
	char *config = write_json(e, config_of(json_pack("[o]", origin_at("o", HOST, port))));
	const char *const with[] = {"--enumerate-protocols", NULL};

	expect_probe(only_probe(scan_json(e, config, 0), "o"), "pass", "");
	assert_int_equal(fx_origin_connections(bg), 1);
	expect_probe(only_probe(scan_json_ms(e, config, 0, NULL, with), "o"), "pass", "");
	assert_int_equal(fx_origin_connections(bg), 1 + 1 + 4);
}

/* ---- 6. misbehaving servers end within the timeouts ---- */

static void test_misbehaving_servers(void **state)
{
	struct env *e = *state;
	unsigned tarpit = serve_mode(e, OA_TEST_ORIGIN_TARPIT);
	unsigned garbage = serve_mode(e, OA_TEST_ORIGIN_GARBAGE);
	unsigned reset = serve_mode(e, OA_TEST_ORIGIN_RESET);
	unsigned refused = fx_free_port("127.0.0.1");
	double ms = 0;

	json_t *origins = json_pack(
	    "[o, o, o, o]", origin_at("tarpit", HOST, tarpit), origin_at("garbage", HOST, garbage),
	    origin_at("reset", HOST, reset), origin_at("refused", HOST, refused));
	char *config = write_json(e, config_of(origins));
	json_t *report = scan_json_ms(e, config, 2, &ms, NULL);

	expect_summary(report, (struct summary){4, 0, 0, 0, 4, 0, 4, "error"});
	expect_probe(only_probe(report, "tarpit"), "error", "handshake_timeout");
	expect_probe(only_probe(report, "garbage"), "error", "not_tls");
	expect_probe(only_probe(report, "reset"), "error", "connection_reset");
	expect_probe(only_probe(report, "refused"), "error", "connection_refused");
	assert_true(json_is_null(jget(only_probe(report, "refused"), "tls.version")));
	assert_int_equal(json_array_size(jget(only_probe(report, "tarpit"), "chain")), 0);
	/* A bound on a hang, not a benchmark: the probes run concurrently. */
	if (ms >= 3 * TIMEOUT_MS) {
		fail_msg("the scan took %.0f ms, more than 3 x %d ms", ms, TIMEOUT_MS);
	}
	/* The tarpit really was waited for. */
	assert_true(ms >= TIMEOUT_MS);
}

/* ---- 7. DNS failure ---- */

static void test_dns_failed(void **state)
{
	struct env *e = *state;
	json_t *o = json_pack("{s:s, s:s}", "id", "gone", "domain_name", "nonexistent.invalid");
	char *config = write_json(e, config_of(json_pack("[o]", o)));
	json_t *report = scan_json(e, config, 2);

	expect_summary(report, (struct summary){1, 0, 0, 0, 1, 0, 1, "error"});
	json_t *p = only_probe(report, "gone");
	expect_probe(p, "error", "dns_failed");
	assert_true(json_is_null(json_object_get(p, "address")));
	assert_string_equal(jstr(p, "sni"), "nonexistent.invalid");
	assert_int_equal(jint(p, "port"), 443);
	expect_contains(jstr(p, "error_detail"), "nonexistent.invalid");
}

/* ---- 8. http-only and match-viewer ---- */

static void test_http_only_and_match_viewer(void **state)
{
	struct env *e = *state;
	unsigned http = serve_mode(e, OA_TEST_ORIGIN_HTTP);
	unsigned https = serve_good(e, NULL);

	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:[s]}", "id", "plain", "domain_name", HOST,
			      "protocol_policy", "http-only", "http_port", (int)http, "addresses",
			      "127.0.0.1");
	char *config = write_json(e, config_of(json_pack("[o]", o)));
	json_t *report = scan_json(e, config, 1);

	expect_summary(report, (struct summary){1, 0, 1, 0, 0, 0, 1, "warn"});
	json_t *origin = origin_by_id(report, "plain");
	assert_string_equal(jstr(origin, "verdict"), "warn");
	assert_int_equal(jint(origin, "port"), http);
	json_t *p = only_probe(report, "plain");
	assert_string_equal(jstr(p, "kind"), "http");
	assert_int_equal(jint(p, "port"), http);
	expect_probe(p, "warn", "");
	want_check(p, "http", "warn", "http_only");

	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:[s]}", "id", "mv", "domain_name", HOST,
		      "protocol_policy", "match-viewer", "http_port", (int)http, "https_port",
		      (int)https, "addresses", "127.0.0.1");
	config = write_json(e, config_of(json_pack("[o]", o)));
	report = scan_json(e, config, 0);
	expect_summary(report, (struct summary){1, 1, 0, 0, 0, 0, 2, "pass"});
	origin = origin_by_id(report, "mv");
	assert_int_equal(json_array_size(json_object_get(origin, "probes")), 2);
	/* HTTPS before HTTP. */
	p = probe_of(origin, 0);
	assert_string_equal(jstr(p, "kind"), "https");
	assert_int_equal(jint(p, "port"), https);
	expect_probe(p, "pass", "");
	want_check(p, "trust", "pass", "trusted");
	p = probe_of(origin, 1);
	assert_string_equal(jstr(p, "kind"), "http");
	assert_int_equal(jint(p, "port"), http);
	expect_probe(p, "pass", "");
	want_check(p, "http", "pass", "http_reachable");

	/* Nothing listens on the HTTP port: an error, and no check claims it is reachable. */
	unsigned refused = fx_free_port("127.0.0.1");
	json_t *origins =
	    json_pack("[{s:s, s:s, s:s, s:i, s:[s]}, {s:s, s:s, s:s, s:i, s:i, s:[s]}]", "id",
		      "plain", "domain_name", HOST, "protocol_policy", "http-only", "http_port",
		      (int)refused, "addresses", "127.0.0.1", "id", "mv", "domain_name", HOST,
		      "protocol_policy", "match-viewer", "http_port", (int)refused, "https_port",
		      (int)https, "addresses", "127.0.0.1");
	config = write_json(e, config_of(origins));
	report = scan_json(e, config, 2);
	expect_summary(report, (struct summary){2, 0, 0, 0, 2, 0, 3, "error"});
	p = only_probe(report, "plain");
	expect_probe(p, "error", "connection_refused");
	assert_null(json_object_get(json_object_get(p, "checks"), "http"));
	origin = origin_by_id(report, "mv");
	expect_probe(probe_of(origin, 0), "pass", "");
	p = probe_of(origin, 1);
	assert_string_equal(jstr(p, "kind"), "http");
	expect_probe(p, "error", "connection_refused");
	assert_null(json_object_get(json_object_get(p, "checks"), "http"));
}

/* ---- 9. 200 origins in one run ---- */

static void test_two_hundred_origins(void **state)
{
	struct env *e = *state;
	fx_origin *bg = NULL;
	unsigned port = serve_good(e, &bg);
	json_t *origins = json_array();
	double ms = 0;

	for (int i = 0; i < 200; i++) {
		char id[16];

		snprintf(id, sizeof(id), "o%03d", i);
		json_array_append_new(origins, origin_at(id, HOST, port));
	}
	json_t *doc = config_of(origins);
	json_object_set_new(json_object_get(doc, "scan"), "concurrency", json_integer(64));
	char *config = write_json(e, doc);
	json_t *report = scan_json_ms(e, config, 0, &ms, NULL);

	expect_summary(report, (struct summary){200, 200, 0, 0, 0, 0, 200, "pass"});
	for (size_t i = 0; i < 200; i++) {
		json_t *o = json_array_get(json_object_get(report, "origins"), i);
		char id[16];

		snprintf(id, sizeof(id), "o%03zu", i);
		assert_string_equal(jstr(o, "id"), id);
		assert_string_equal(jstr(o, "verdict"), "pass");
		assert_int_equal(json_array_size(json_object_get(o, "probes")), 1);
	}
	if (ms >= 60000) {
		fail_msg("200 origins took %.0f ms", ms);
	}
	assert_int_equal(fx_origin_connections(bg), 200);
}

/* ---- 10. every output format, parsed back ---- */

struct sample {
	char name[96];
	char labels[1024];
	double value;
};

#define MAX_SAMPLES 512

struct prom {
	struct sample samples[MAX_SAMPLES];
	size_t n;
	char typed[32][96];
	size_t n_typed;
	char helped[32][96];
	size_t n_helped;
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Reads a metric name at s into out; returns the characters read (0: none). */
static size_t read_name(const char *s, char *out, size_t size)
{
	size_t n = 0;

	while (name_char(s[n], n == 0) && n + 1 < size) {
		out[n] = s[n];
		n++;
	}
	out[n] = '\0';
	return n;
}

static bool listed(const char list[][96], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * Parses the text exposition format 0.0.4 strictly; fails the test on any bad
 * line. The result is owned by e.
 */
static struct prom *prom_parse(struct env *e, const char *text)
{
	struct prom *p = keep(e, calloc(1, sizeof(struct prom)));
	const char *line = text;
	char last_family[96] = "";
	char done[64][96];
	size_t n_done = 0;

	assert_non_null(p);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		char name[96];
		size_t len = (size_t)(end - line);
		char buf[2048];

		assert_true(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = end + 1;
		if (strncmp(buf, "# HELP ", 7) == 0 || strncmp(buf, "# TYPE ", 7) == 0) {
			size_t n = read_name(buf + 7, name, sizeof(name));

			if (n == 0 || buf[7 + n] != ' ' || buf[8 + n] == '\0') {
				fail_msg("bad comment line: %s", buf);
			}
			if (buf[2] == 'T') {
				const char *type = buf + 8 + n;

				if (strcmp(type, "gauge") != 0 && strcmp(type, "counter") != 0 &&
				    strcmp(type, "untyped") != 0) {
					fail_msg("bad type: %s", buf);
				}
				if (listed(p->typed, p->n_typed, name)) {
					fail_msg("TYPE twice: %s", buf);
				}
				assert_true(p->n_typed < 32);
				snprintf(p->typed[p->n_typed++], 96, "%s", name);
			} else {
				if (listed(p->helped, p->n_helped, name)) {
					fail_msg("HELP twice: %s", buf);
				}
				assert_true(p->n_helped < 32);
				snprintf(p->helped[p->n_helped++], 96, "%s", name);
			}
			continue;
		}
		if (buf[0] == '#' || buf[0] == '\0') {
			fail_msg("unexpected line: \"%s\"", buf);
		}
		struct sample s;
		const char *c = buf;
		size_t n = read_name(c, s.name, sizeof(s.name));
		size_t lo = 0;

		if (n == 0) {
			fail_msg("no metric name: %s", buf);
		}
		c += n;
		s.labels[0] = '\0';
		if (*c == '{') {
			c++;
			while (*c != '}') {
				char label[96];
				size_t ln = read_name(c, label, sizeof(label));

				if (ln == 0 || c[ln] != '=' || c[ln + 1] != '"') {
					fail_msg("bad label in: %s", buf);
				}
				lo += (size_t)snprintf(s.labels + lo, sizeof(s.labels) - lo,
						       "%s=\"", label);
				c += ln + 2;
				while (*c != '"') {
					if (*c == '\0' || *c == '\n') {
						fail_msg("unterminated label value: %s", buf);
					}
					if (*c == '\\') {
						if (c[1] != '\\' && c[1] != '"' && c[1] != 'n') {
							fail_msg("bad escape: %s", buf);
						}
						s.labels[lo++] = *c++;
					}
					assert_true(lo + 4 < sizeof(s.labels));
					s.labels[lo++] = *c++;
				}
				c++;
				s.labels[lo++] = '"';
				s.labels[lo] = '\0';
				if (*c == ',') {
					s.labels[lo++] = ',';
					s.labels[lo] = '\0';
					c++;
				} else if (*c != '}') {
					fail_msg("bad label list: %s", buf);
				}
			}
			c++;
		}
		if (*c != ' ') {
			fail_msg("no value: %s", buf);
		}
		c++;
		char *vend = NULL;
		s.value = strtod(c, &vend);
		if (vend == c || *vend != '\0') {
			/* A timestamp or junk after the value: the textfile collector refuses both.
			 */
			fail_msg("bad value: %s", buf);
		}
		if (!listed(p->typed, p->n_typed, s.name)) {
			fail_msg("sample before its TYPE line: %s", buf);
		}
		/* A family's samples are written together. */
		if (strcmp(s.name, last_family) != 0) {
			if (listed(done, n_done, s.name)) {
				fail_msg("family %s is split: %s", s.name, buf);
			}
			assert_true(n_done < 64);
			snprintf(done[n_done++], 96, "%s", s.name);
			snprintf(last_family, sizeof(last_family), "%s", s.name);
		}
		assert_true(p->n < MAX_SAMPLES);
		p->samples[p->n++] = s;
	}
	return p;
}

static size_t prom_count(const struct prom *p, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		n += strcmp(p->samples[i].name, name) == 0;
	}
	return n;
}

/* The value of the one sample of name whose labels contain every "k=\"v\"" in want. */
static double prom_value(const struct prom *p, const char *name, const char *const *want)
{
	const struct sample *found = NULL;

	for (size_t i = 0; i < p->n; i++) {
		const struct sample *s = &p->samples[i];
		bool all = strcmp(s->name, name) == 0;

		for (size_t k = 0; all && want != NULL && want[k] != NULL; k++) {
			all = strstr(s->labels, want[k]) != NULL;
		}
		if (all) {
			if (found != NULL) {
				fail_msg("two samples of %s match", name);
			}
			found = s;
		}
	}
	if (found == NULL) {
		fail_msg("no sample of %s with %s", name, want && want[0] ? want[0] : "");
	}
	return found->value;
}

/* xmllint --xpath EXPR file, as a number. */
static long xpath_number(struct env *e, const char *file, const char *expr)
{
	char *argv[] = {e->xmllint, "--xpath", (char *)expr, (char *)file, NULL};
	char *out = NULL;
	char *err = NULL;
	int rc = fx_run(argv, &out, &err, 30);

	keep(e, out);
	keep(e, err);

	if (rc != 0) {
		fail_msg("xmllint --xpath %s: exit %d: %s", expr, rc, err);
	}
	char *end = NULL;
	long v = strtol(out, &end, 10);
	if (end == out) {
		fail_msg("xmllint --xpath %s: not a number: %s", expr, out);
	}
	return v;
}

static void test_output_formats(void **state)
{
	struct env *e = *state;
	struct mistakes m;
	struct run r;

	serve_mistakes(e, &m);
	unsigned refused = fx_free_port("127.0.0.1");
	json_t *origins = json_pack(
	    "[o, o, o, o]", origin_at("good", HOST, m.good), origin_at("soon", HOST, m.soon),
	    origin_at("expired", HOST, m.expired), origin_at("refused", HOST, refused));
	char *config = write_json(e, config_of(origins));

	/* JSON: the numbers the other formats are compared with. */
	json_t *report = scan_json(e, config, 2);
	expect_summary(report, (struct summary){4, 1, 1, 1, 1, 0, 4, "error"});
	long long good_days = jint(only_probe(report, "good"), "checks.expiry.days_left");
	long long expired_days = jint(only_probe(report, "expired"), "checks.expiry.days_left");
	assert_int_equal(good_days, 60);

	/* text */
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "--format", "text", NULL);
	expect_rc(&r, 2);
	expect_contains(r.out, "summary: 4 origins: 1 pass, 1 warn, 1 fail, 1 error\n");
	expect_contains(r.out, "expiry: expired");
	expect_contains(r.out, "connection_refused");
	assert_null(strstr(r.out, "\033["));

	/* prometheus */
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "--format", "prometheus",
	    NULL);
	expect_rc(&r, 2);
	const struct prom *p = prom_parse(e, r.out);
	static const char *const families[] = {
	    "originaudit_build_info",
	    "originaudit_probe_success",
	    "originaudit_probe_verdict",
	    "originaudit_probe_status",
	    "originaudit_check_status",
	    "originaudit_tls_version_info",
	    "originaudit_probe_earliest_not_after_seconds",
	    "originaudit_cert_not_before_seconds",
	    "originaudit_cert_not_after_seconds",
	    "originaudit_scan_duration_seconds",
	    "originaudit_scan_timestamp_seconds",
	    "originaudit_origins",
	    "originaudit_probes",
	};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (!listed(p->typed, p->n_typed, families[i]) ||
		    !listed(p->helped, p->n_helped, families[i])) {
			fail_msg("no HELP/TYPE for %s", families[i]);
		}
	}
	assert_int_equal(prom_count(p, "originaudit_probe_status"), 4);
	assert_int_equal(prom_count(p, "originaudit_probe_verdict"), 4);
	/* Only the three probes that got a certificate have an expiry. */
	assert_int_equal(prom_count(p, "originaudit_probe_earliest_not_after_seconds"), 3);
	const char *const good[] = {"origin=\"good\"", "address=\"127.0.0.1\"", "sni=\"" HOST "\"",
				    NULL};
	const char *const soon[] = {"origin=\"soon\"", NULL};
	const char *const expired[] = {"origin=\"expired\"", NULL};
	const char *const refused_l[] = {"origin=\"refused\"", NULL};
	const char *const expired_expiry[] = {"origin=\"expired\"", "check=\"expiry\"", NULL};
	const char *const good_trust[] = {"origin=\"good\"", "check=\"trust\"", NULL};
	const char *const refused_error[] = {"origin=\"refused\"", "verdict=\"error\"", NULL};
	const char *const v_pass[] = {"verdict=\"pass\"", NULL};
	const char *const v_warn[] = {"verdict=\"warn\"", NULL};
	const char *const v_fail[] = {"verdict=\"fail\"", NULL};
	const char *const v_error[] = {"verdict=\"error\"", NULL};
	assert_true(prom_value(p, "originaudit_probe_status", good) == 0);
	assert_true(prom_value(p, "originaudit_probe_status", soon) == 1);
	assert_true(prom_value(p, "originaudit_probe_status", expired) == 2);
	assert_true(prom_value(p, "originaudit_probe_status", refused_l) == 3);
	assert_true(prom_value(p, "originaudit_probe_verdict", refused_error) == 1);
	assert_true(prom_value(p, "originaudit_check_status", expired_expiry) == 2);
	assert_true(prom_value(p, "originaudit_check_status", good_trust) == 0);
	assert_true(prom_value(p, "originaudit_probe_success", good) == 1);
	assert_true(prom_value(p, "originaudit_probe_success", soon) == 1);
	assert_true(prom_value(p, "originaudit_probe_success", expired) == 0);
	assert_true(prom_value(p, "originaudit_probe_success", refused_l) == 0);
	double good_left = prom_value(p, "originaudit_probe_earliest_not_after_seconds", good);
	double expired_left =
	    prom_value(p, "originaudit_probe_earliest_not_after_seconds", expired);
	assert_true(good_left > (double)time(NULL) + (double)good_days * DAY - DAY);
	assert_true(expired_left < (double)time(NULL) + (double)(expired_days + 1) * DAY);
	assert_true(prom_value(p, "originaudit_probes", NULL) == 4);
	assert_true(prom_value(p, "originaudit_origins", v_pass) == 1);
	assert_true(prom_value(p, "originaudit_origins", v_warn) == 1);
	assert_true(prom_value(p, "originaudit_origins", v_fail) == 1);
	assert_true(prom_value(p, "originaudit_origins", v_error) == 1);
	const char *const good_leaf[] = {"origin=\"good\"", "position=\"0\"", NULL};
	double not_after = prom_value(p, "originaudit_cert_not_after_seconds", good_leaf);
	assert_true(not_after > (double)time(NULL) + 60.0 * DAY);
	assert_true(not_after < (double)time(NULL) + 61.0 * DAY);

	/* junit */
	if (e->xmllint == NULL) {
		fail_msg("xmllint not found (scripts/install-deps installs libxml2-utils)");
	}
	char *xml = new_path(e, "report.xml");
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "--format", "junit", NULL);
	expect_rc(&r, 2);
	fx_write(xml, r.out, strlen(r.out));
	char *lint_argv[] = {e->xmllint, "--noout", xml, NULL};
	char *lint_err = NULL;
	int lint_rc = fx_run(lint_argv, NULL, &lint_err, 30);
	keep(e, lint_err);
	if (lint_rc != 0) {
		fail_msg("the JUnit report is not well-formed XML: %s", lint_err);
	}
	assert_int_equal(xpath_number(e, xml, "string(/testsuites/@tests)"), 4);
	assert_int_equal(xpath_number(e, xml, "string(/testsuites/@failures)"), 1);
	assert_int_equal(xpath_number(e, xml, "string(/testsuites/@errors)"), 1);
	assert_int_equal(xpath_number(e, xml, "string(/testsuites/testsuite/@tests)"), 4);
	assert_int_equal(xpath_number(e, xml, "string(/testsuites/testsuite/@failures)"), 1);
	assert_int_equal(xpath_number(e, xml, "count(//testcase)"), 4);
	assert_int_equal(xpath_number(e, xml, "count(//testcase[failure])"), 1);
	assert_int_equal(xpath_number(e, xml, "count(//testcase[error])"), 1);
	assert_int_equal(
	    xpath_number(e, xml, "count(//testcase[@classname='origin.expired']/failure)"), 1);
	assert_int_equal(
	    xpath_number(e, xml,
			 "count(//testcase/failure[@message='expiry: expired'][@type='expired'])"),
	    1);
	assert_int_equal(
	    xpath_number(
		e, xml,
		"count(//testcase[@classname='origin.refused']/error[@type='connection_refused'])"),
	    1);
}

/* ---- 11. --output writes atomically ---- */

/* The file's content (owned by e). */
static char *read_file(struct env *e, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	size_t cap = 0;
	char tmp[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		memcpy(buf + len, tmp, n);
		len += n;
	}
	fclose(f);
	if (buf == NULL) {
		buf = strdup("");
	}
	buf[len] = '\0';
	return keep(e, buf);
}

/* The names in dir, other than . and .., joined by spaces. */
static void list_dir(const char *dir, char *out, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t len = 0;

	assert_non_null(d);
	out[0] = '\0';
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		len += (size_t)snprintf(out + len, size - len, "%s%s", len ? " " : "", de->d_name);
		assert_true(len < size);
	}
	closedir(d);
}

static void test_output_file(void **state)
{
	struct env *e = *state;
	unsigned port = serve_good(e, NULL);
	char *config = write_json(e, config_of(json_pack("[o]", origin_at("o", HOST, port))));
	char *outdir = keep(e, fx_path(e->dir, "reports"));
	char *report_path = keep(e, fx_path(outdir, "scan.json"));
	char *missing = keep(e, fx_path(e->dir, "no-such-dir/scan.json"));
	char names[1024];
	struct run r;
	json_error_t jerr;

	assert_int_equal(mkdir(outdir, 0755), 0);
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "--format", "json",
	    "--output", report_path, NULL);
	expect_rc(&r, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	char *first = read_file(e, report_path);
	json_t *doc = keep_json(e, json_loads(first, 0, &jerr));
	assert_non_null(doc);
	expect_summary(doc, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});
	struct stat st;
	assert_int_equal(stat(report_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	list_dir(outdir, names, sizeof(names));
	assert_string_equal(names, "scan.json");

	/* A second run replaces the file (here with another format). */
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "--format", "prometheus",
	    "-o", report_path, NULL);
	expect_rc(&r, 0);
	assert_string_equal(r.out, "");
	char *second = read_file(e, report_path);
	const struct prom *p = prom_parse(e, second);
	assert_int_equal(prom_count(p, "originaudit_probe_status"), 1);
	list_dir(outdir, names, sizeof(names));
	assert_string_equal(names, "scan.json");

	/* Into a missing directory: exit 3, one line naming the path. */
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "--format", "json",
	    "--output", missing, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, missing);
	assert_string_equal(r.out, "");

	/* A run that cannot run leaves the previous report as it was. */
	char *bad = write_text(e, "{\"origins\": [{\"id\": \"o\"}]}\n");
	run(e, &r, "scan", "--config", bad, "--ca-bundle", e->bundle, "--format", "json",
	    "--output", report_path, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	char *after = read_file(e, report_path);
	assert_string_equal(after, second);
	list_dir(outdir, names, sizeof(names));
	assert_string_equal(names, "scan.json");
}

static void expect_refused(const struct run *r, const char *want);

/* prefix and path joined (owned by e). */
static char *spec_dup(struct env *e, const char *prefix, const char *path)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s%s", prefix, path);
	char *copy = strdup(buf);
	assert_non_null(copy);
	return keep(e, copy);
}

/*
 * One scan, many outputs: -o FORMAT:FILE repeatable, the format of -o FILE
 * from -f or else the extension, never from the terminal; every file
 * atomic; an output that cannot be written does not stop the others.
 */
static void test_multiple_outputs(void **state)
{
	struct env *e = *state;
	unsigned port = serve_good(e, NULL);
	char *config = write_json(e, config_of(json_pack("[o]", origin_at("o", HOST, port))));
	char *outdir = keep(e, fx_path(e->dir, "outputs"));
	char *json = keep(e, fx_path(outdir, "report.data"));
	char *prom = keep(e, fx_path(outdir, "o.prom"));
	char *xml = keep(e, fx_path(outdir, "o.xml"));
	char *txt = keep(e, fx_path(outdir, "o.txt"));
	char *html = keep(e, fx_path(outdir, "o.html"));
	char spec[1024];
	json_error_t jerr;
	struct run r;

	assert_int_equal(mkdir(outdir, 0755), 0);
	snprintf(spec, sizeof(spec), "json:%s", json);
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "-o", spec, "-o", prom,
	    "-o", xml, "-o", txt, "-o", html, NULL);
	expect_rc(&r, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	json_t *doc = keep_json(e, json_loads(read_file(e, json), 0, &jerr));
	assert_non_null(doc);
	expect_summary(doc, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});
	const struct prom *p = prom_parse(e, read_file(e, prom));
	assert_int_equal(prom_count(p, "originaudit_probe_status"), 1);
	char *junit = read_file(e, xml);
	assert_non_null(strstr(junit, "<testsuites"));
	assert_non_null(strstr(junit, "<testcase"));
	expect_contains(read_file(e, txt), "summary: 1 origin: 1 pass");
	char *page = read_file(e, html);
	assert_non_null(strstr(page, "<!DOCTYPE html>"));
	assert_non_null(strstr(page, "data-origin=\"o\""));
	char names[1024];
	list_dir(outdir, names, sizeof(names));
	/* Five files and no temporary one left behind. */
	assert_null(strstr(names, ".tmp-"));

	/* -f names the format of -o FILE whatever its extension; FORMAT:- is stdout. */
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "-f", "prometheus", "-o",
	    json, "-o", "json:-", NULL);
	expect_rc(&r, 0);
	prom_parse(e, read_file(e, json));
	doc = keep_json(e, json_loads(r.out, 0, &jerr));
	assert_non_null(doc);

	/* Refused, exit 3, before any probe: a name whose format cannot be told, or twice. */
	char *bare = keep(e, fx_path(outdir, "report"));
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "-o", bare, NULL);
	snprintf(spec, sizeof(spec),
		 "originaudit scan: -o '%s': cannot tell the format from the name: write "
		 "FORMAT:%s (json, text, prometheus, junit, html) or use a .json, .prom, .xml, "
		 ".txt or .html name (see originaudit scan --help)\n",
		 bare, bare);
	expect_refused(&r, spec);
	run(e, &r, "scan", "--config", config, "-o", "bogus:x", NULL);
	expect_refused(&r, "-o 'bogus:x': cannot tell the format from the name");
	run(e, &r, "scan", "--config", config, "-o", "json:", NULL);
	expect_refused(&r, "-o 'json:': no file after the format");
	run(e, &r, "scan", "--config", config, "-o", prom, "-o", spec_dup(e, "prometheus:", prom),
	    NULL);
	expect_refused(&r, "twice");
	run(e, &r, "scan", "--config", config, "-f", "yaml", NULL);
	expect_refused(&r, "--format: 'yaml' is not json, text, prometheus, junit or html");

	/* An unwritable output: the others are written, exit 3, one line naming it. */
	char *missing = keep(e, fx_path(e->dir, "no-such-dir/r.json"));
	assert_int_equal(unlink(txt), 0);
	run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, "-o", missing, "-o", txt,
	    NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, missing);
	expect_contains(read_file(e, txt), "summary: 1 origin: 1 pass");
}

/* ---- 12. configuration errors and check-config ---- */

struct bad_config {
	const char *json;
	/* Expected in the one stderr line, after the file name. */
	const char *message;
};

static void test_config_errors(void **state)
{
	struct env *e = *state;
	static const struct bad_config cases[] = {
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\", \"bogus\": 1}]}",
	     ": origins[0]: unknown key \"bogus\""},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\"}], \"extra\": 1}",
	     ": unknown key \"extra\" at the top level"},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\", "
	     "\"https_port\": \"443\"}]}",
	     ": origins[0].https_port: expected an integer"},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\"}, "
	     "{\"id\": \"b\", \"domain_name\": \"b.example.com\", \"protocol_policy\": "
	     "\"https\"}]}",
	     ": origins[1].protocol_policy: expected http-only, https-only or match-viewer"},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\", "
	     "\"https_port\": 1023}]}",
	     ": origins[0].https_port: 1023 is not allowed"},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\", "
	     "\"http_port\": 8}]}",
	     ": origins[0].http_port: 8 is not allowed"},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\", "
	     "\"https_port\": 65536}]}",
	     ": origins[0].https_port: 65536 is not allowed"},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\", "
	     "\"ssl_protocols\": [\"TLSv1.4\"]}]}",
	     ": origins[0].ssl_protocols[0]"},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\"}], "
	     "\"behaviors\": [{\"path_pattern\": \"/x/*\", \"origin\": \"nope\"}]}",
	     ": behaviors[0].origin: "},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\"}], "
	     "\"default_behavior\": {\"origin\": \"nope\"}}",
	     ": default_behavior.origin: "},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\"}], "
	     "\"scan\": {\"concurrency\": \"64\"}}",
	     ": scan.concurrency: "},
	    {"{\"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\", "
	     "\"addresses\": [\"not-an-ip\"]}]}",
	     ": origins[0].addresses[0]"},
	    {"{\"origins\": []}", ": origins: "},
	    /* Line 3, column 16: the second comma. */
	    {"{\n  \"origins\": [\n    {\"id\": \"a\",, \"domain_name\": \"a.example.com\"}]}\n",
	     ":3:16: "},
	};
	struct run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *config = write_text(e, cases[i].json);
		char want[512];

		snprintf(want, sizeof(want), "%s%s", config, cases[i].message);
		run(e, &r, "scan", "--config", config, "--ca-bundle", e->bundle, NULL);
		expect_rc(&r, 3);
		expect_one_stderr_line(&r);
		expect_contains(r.err, want);
		assert_string_equal(r.out, "");
		run(e, &r, "check-config", config, NULL);
		expect_rc(&r, 3);
		expect_one_stderr_line(&r);
		expect_contains(r.err, want);
	}

	/* A missing file. */
	char *missing = keep(e, fx_path(e->dir, "no-such-config.json"));
	run(e, &r, "scan", "--config", missing, "--ca-bundle", e->bundle, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, missing);
	run(e, &r, "check-config", missing, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, missing);

	/* 8443 is among CloudFront's allowed ports (1024-65535). */
	char *ok = write_text(e, "{\"origins\": [{\"id\": \"a\", \"domain_name\": "
				 "\"a.example.com\", \"https_port\": 8443, \"http_port\": 8080}]}");
	run(e, &r, "check-config", ok, NULL);
	expect_rc(&r, 0);
}

static void test_check_config(void **state)
{
	struct env *e = *state;
	struct run r;
	char want[512];

	char *clean =
	    write_text(e, "{\"aliases\": [\"www.example.com\"],\n"
			  " \"origins\": [{\"id\": \"a\", \"domain_name\": \"a.example.com\"}],\n"
			  " \"behaviors\": [{\"path_pattern\": \"/api/*\", \"origin\": \"a\",\n"
			  "                \"viewer_protocol_policy\": \"https-only\", "
			  "\"forward_host_header\": true}],\n"
			  " \"default_behavior\": {\"origin\": \"a\", \"viewer_protocol_policy\": "
			  "\"redirect-to-https\"},\n"
			  " \"scan\": {\"concurrency\": 8, \"connect_timeout_ms\": 1500}}\n");
	run(e, &r, "check-config", clean, NULL);
	expect_rc(&r, 0);
	snprintf(want, sizeof(want),
		 "%s: valid: 1 origin(s), 1 behavior(s) + default, 0 warning(s)\n", clean);
	assert_string_equal(r.out, want);
	assert_string_equal(r.err, "");

	char *lint = write_text(e, "{\"origins\": [{\"id\": \"mv\", \"domain_name\": "
				   "\"a.example.com\", \"protocol_policy\": \"match-viewer\"}],\n"
				   " \"default_behavior\": {\"origin\": \"mv\", "
				   "\"viewer_protocol_policy\": \"allow-all\"}}\n");
	run(e, &r, "check-config", lint, NULL);
	expect_rc(&r, 1);
	snprintf(want, sizeof(want),
		 "%s: warning: default_behavior: origin \"mv\" uses "
		 "protocol_policy match-viewer",
		 lint);
	expect_contains(r.out, want);
	expect_contains(r.out, "allow-all");
	snprintf(want, sizeof(want),
		 "%s: valid: 1 origin(s), 0 behavior(s) + default, 1 warning(s)\n", lint);
	expect_contains(r.out, want);

	char *invalid = write_text(e, "{\"origins\": [{\"id\": \"a\"}]}");
	run(e, &r, "check-config", invalid, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	snprintf(want, sizeof(want), "%s: origins[0]: missing required key \"domain_name\"",
		 invalid);
	expect_contains(r.err, want);
	assert_string_equal(r.out, "");
}

/* ---- 13. the CloudFront import ---- */

/* A file under tests/data (path owned by e). */
static char *data_file(struct env *e, const char *rel)
{
	const char *base = getenv("OA_TEST_DATA");

	if (base == NULL) {
		fail_msg("OA_TEST_DATA is not set (run the test through meson test)");
	}
	return keep(e, fx_path(base, rel));
}

static void test_cloudfront_import(void **state)
{
	struct env *e = *state;
	char *realistic = data_file(e, "config/cloudfront-distribution.json");
	char *s3 = data_file(e, "scan/cloudfront-s3.json");
	char want[1024];
	struct run r;
	json_error_t jerr;

	run(e, &r, "check-config", "--cloudfront", realistic, NULL);
	expect_rc(&r, 0);
	snprintf(want, sizeof(want),
		 "%s: valid: 4 origin(s), 4 behavior(s) + default, 0 warning(s)\n", realistic);
	assert_string_equal(r.out, want);

	/* Our own format is not a get-distribution-config document, and vice versa. */
	run(e, &r, "check-config", realistic, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);

	run(e, &r, "scan", "--cloudfront", s3, "--ca-bundle", e->bundle, "--format", "json", NULL);
	expect_rc(&r, 2);
	json_t *report = keep_json(e, json_loads(r.out, 0, &jerr));
	if (report == NULL) {
		fail_msg("not JSON: %s\n%s", jerr.text, r.out);
	}
	expect_summary(report, (struct summary){2, 0, 0, 0, 1, 1, 1, "error"});
	json_t *bucket = origin_by_id(report, "assets-s3");
	assert_string_equal(jstr(bucket, "verdict"), "skip");
	assert_string_equal(jstr(bucket, "skipped"), "s3_origin");
	assert_int_equal(json_array_size(json_object_get(bucket, "probes")), 0);
	json_t *custom = origin_by_id(report, "web");
	assert_true(json_is_null(json_object_get(custom, "skipped")));
	json_t *p = only_probe(report, "web");
	expect_probe(p, "error", "dns_failed");
	assert_string_equal(jstr(p, "sni"), "nonexistent.invalid");
	assert_int_equal(jint(p, "port"), 8443);

	/* The skipped origin in the other formats. */
	run(e, &r, "scan", "--cloudfront", s3, "--ca-bundle", e->bundle, "--format", "text", NULL);
	expect_rc(&r, 2);
	expect_contains(r.out, "assets-s3 (s3_origin)");
	expect_contains(r.out, "summary: 2 origins: 0 pass, 0 warn, 0 fail, 1 error, 1 skipped\n");
}

/* ---- 14 and 15. demo, help and usage errors ---- */

static void test_demo(void **state)
{
	struct env *e = *state;
	struct run r;

	run(e, &r, "demo", NULL);
	expect_rc(&r, 0);
	expect_contains(r.out, "summary: 8 origins: 1 pass, 2 warn, 5 fail, 0 error\n");
}

static void test_usage(void **state)
{
	struct env *e = *state;
	struct run r;

	run(e, &r, "scan", "--help", NULL);
	expect_rc(&r, 0);
	expect_contains(r.out, "Usage: originaudit scan");
	run(e, &r, "check-config", "--help", NULL);
	expect_rc(&r, 0);
	expect_contains(r.out, "Usage: originaudit check-config");

	run(e, &r, "scan", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "--config");
	assert_string_equal(r.out, "");

	run(e, &r, "scan", "--bogus", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "--bogus");

	run(e, &r, "scan", "--config", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);

	char *config = write_text(e, "{\"origins\": [{\"id\": \"a\", \"domain_name\": "
				     "\"nonexistent.invalid\"}]}");
	run(e, &r, "scan", "--config", config, "--format", "yaml", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "yaml");
	run(e, &r, "scan", "--config", config, "--concurrency", "0", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	run(e, &r, "scan", "--config", config, "--ca-bundle", "/nonexistent/roots.pem", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "/nonexistent/roots.pem");

	run(e, &r, "check-config", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	run(e, &r, "check-config", "--bogus", "x.json", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
}

/* ---- 16. issue 12: --resolve, ad-hoc targets, refused combinations ---- */

#define MADE_UP "origin.test"

/* A usage error: exit 3, nothing on stdout, one line on stderr containing want. */
static void expect_refused(const struct run *r, const char *want)
{
	expect_rc(r, 3);
	expect_one_stderr_line(r);
	expect_contains(r->err, want);
	assert_string_equal(r->out, "");
}

/* Runs argv (NULL-terminated) and parses its JSON report, asserting the exit code. */
static json_t *run_json(struct env *e, struct run *r, int want_rc, const char *const *args)
{
	json_error_t jerr;

	run_argv(e, r, args);
	expect_rc(r, want_rc);
	json_t *doc = json_loads(r->out, 0, &jerr);
	if (doc == NULL) {
		fail_msg("the report is not JSON (%s):\n%s\nstderr: %s", jerr.text, r->out, r->err);
	}
	keep_json(e, doc);
	assert_int_equal(jint(doc, "schema"), 1);
	return doc;
}

/* "HOST:PORT" or "HOST:PORT:ADDRESS" (owned by e). */
static char *hostport(struct env *e, const char *host, unsigned port, const char *address)
{
	char buf[300];

	if (address != NULL) {
		snprintf(buf, sizeof(buf), "%s:%u:%s", host, port, address);
	} else {
		snprintf(buf, sizeof(buf), "%s:%u", host, port);
	}
	char *copy = strdup(buf);
	assert_non_null(copy);
	return keep(e, copy);
}

/* A test origin on 127.0.0.1 serving a leaf for dns and the intermediate; returns its port. */
static unsigned serve_for(struct env *e, const char *dns)
{
	const oa_pki_cert *chain[] = {leaf_for(e, dns, e->pki.inter), e->pki.inter};

	return serve_chain(e, chain, 2);
}

static void test_input_refusals(void **state)
{
	struct env *e = *state;
	char *config = write_text(e, "{\"origins\": [{\"id\": \"a\", \"domain_name\": "
				     "\"nonexistent.invalid\"}]}");
	char *cf = data_file(e, "scan/cloudfront-s3.json");
	struct run r;

	run(e, &r, "scan", "-c", config, "--cloudfront", cf, NULL);
	expect_refused(&r, "originaudit scan: --config cannot be combined with --cloudfront: scan "
			   "the imported distributions alone, or the configuration alone (see "
			   "originaudit scan --help)\n");
	run(e, &r, "scan", "--cloudfront", cf, "--config", config, NULL);
	expect_refused(&r, "--config cannot be combined with --cloudfront");
	run(e, &r, "scan", "--terraform", cf, "--config", config, NULL);
	expect_refused(&r, "--config cannot be combined with --terraform");
	run(e, &r, "scan", "-c", config, "-c", config, NULL);
	expect_refused(&r, "originaudit scan: --config is given twice");
	run(e, &r, "scan", "-c", config, "a.example.com", NULL);
	expect_refused(&r, "originaudit scan: target 'a.example.com' cannot be combined with "
			   "--config: give either HOST[:PORT] targets or files");
	run(e, &r, "scan", "a.example.com:8443", "--cloudfront", cf, NULL);
	expect_refused(&r, "target 'a.example.com:8443' cannot be combined with --cloudfront");
	run(e, &r, "scan", "-c", config, "--sni", "a.example.com", NULL);
	expect_refused(&r, "--sni applies to HOST[:PORT] targets, not to --config");
	run(e, &r, "scan", "--cloudfront", cf, "--host-header", "www.example.com", NULL);
	expect_refused(&r, "--host-header applies to HOST[:PORT] targets, not to --cloudfront");

	/* CloudFront's JSON given as our configuration: the error, then the hint. */
	char *dist = data_file(e, "config/cloudfront-distribution.json");
	char want[1024];
	snprintf(want, sizeof(want),
		 "%s: unknown key \"ETag\" at the top level: this looks like AWS CLI CloudFront "
		 "output: use --cloudfront FILE\n",
		 dist);
	run(e, &r, "scan", "-c", dist, NULL);
	expect_refused(&r, want);
	run(e, &r, "check-config", dist, NULL);
	expect_refused(&r, want);
	static const char *const shapes[] = {"{\"DistributionConfig\": {}}",
					     "{\"Distribution\": {\"Id\": \"E1\"}}",
					     "{\"DistributionList\": {\"Items\": []}}"};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char *f = write_text(e, shapes[i]);

		run(e, &r, "scan", "--config", f, NULL);
		expect_refused(
		    &r, ": this looks like AWS CLI CloudFront output: use --cloudfront FILE\n");
		expect_contains(r.err, "unknown key");
	}
	/* Our own format with an unknown key gets no hint. */
	char *plain = write_text(e, "{\"origins\": [{\"id\": \"a\", \"domain_name\": "
				    "\"a.example.com\"}], \"extra\": 1}");
	run(e, &r, "scan", "--config", plain, NULL);
	expect_refused(&r, "unknown key \"extra\" at the top level\n");
	assert_null(strstr(r.err, "CloudFront"));
}

static void test_resolve_malformed(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *spec;
		const char *message;
	} cases[] = {
	    {"origin.test", "--resolve 'origin.test': expected HOST:PORT:ADDRESS[,ADDRESS...]"},
	    {"origin.test:443", "--resolve 'origin.test:443': expected HOST:PORT:ADDRESS"},
	    {":443:127.0.0.1", "--resolve ':443:127.0.0.1': the host is empty"},
	    {"origin.test:0:127.0.0.1", "--resolve 'origin.test:0:127.0.0.1': port '0' is not "
					"1-65535"},
	    {"origin.test:65536:127.0.0.1", "port '65536' is not 1-65535"},
	    {"origin.test:https:127.0.0.1", "port 'https' is not 1-65535"},
	    {"origin.test:443:", "--resolve 'origin.test:443:': an empty address"},
	    {"origin.test:443:1.2.3", "'1.2.3' is not a numeric IPv4 address or IPv6 address"},
	    {"origin.test:443:localhost", "'localhost' is not a numeric IPv4 address"},
	    {"origin.test:443:[::1", "'[::1' is not a numeric IPv4 address"},
	    {"origin.test:443:127.0.0.1,", "an empty address"},
	    {"bad host:443:127.0.0.1", "--resolve 'bad host:443:127.0.0.1': host name"},
	    {"-origin.test:443", "curl's +HOST and -HOST forms are not supported"},
	};
	char *config = write_text(e, "{\"origins\": [{\"id\": \"a\", \"domain_name\": "
				     "\"nonexistent.invalid\"}]}");
	struct run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(e, &r, "scan", "-c", config, "--resolve", cases[i].spec, NULL);
		expect_refused(&r, cases[i].message);
		expect_contains(r.err, "originaudit scan: --resolve '");
		run(e, &r, "scan", MADE_UP, "--resolve", cases[i].spec, NULL);
		expect_refused(&r, cases[i].message);
	}
}

/*
 * tests/data/scan/cloudfront-s3.json with its custom origin "web" at domain
 * on port (its HTTPS port); the caller owns the document.
 */
static json_t *distribution_at(struct env *e, const char *domain, unsigned port)
{
	json_error_t jerr;
	json_t *dist = json_load_file(data_file(e, "scan/cloudfront-s3.json"), 0, &jerr);

	assert_non_null(dist);
	json_t *web = jget(dist, "DistributionConfig.Origins.Items[0]");
	assert_int_equal(json_object_set_new(web, "DomainName", json_string(domain)), 0);
	assert_int_equal(json_object_set_new(json_object_get(web, "CustomOriginConfig"),
					     "HTTPSPort", json_integer(port)),
			 0);
	return dist;
}

static void test_resolve_config(void **state)
{
	struct env *e = *state;
	unsigned p1 = serve_for(e, MADE_UP);
	unsigned p2 = serve_for(e, MADE_UP);
	unsigned unused = fx_free_port("127.0.0.1");
	/* "a" has no addresses (DNS would fail); "b" has one that --resolve replaces. */
	json_t *a =
	    json_pack("{s:s, s:s, s:i}", "id", "a", "domain_name", MADE_UP, "https_port", (int)p1);
	json_t *b = json_pack("{s:s, s:s, s:i, s:[s]}", "id", "b", "domain_name", MADE_UP,
			      "https_port", (int)p2, "addresses", "192.0.2.1");
	char *config = write_json(e, config_of(json_pack("[o, o]", a, b)));
	const char *args[] = {"scan",
			      "--config",
			      config,
			      "--ca-bundle",
			      e->bundle,
			      "--format",
			      "json",
			      "--resolve",
			      hostport(e, "ORIGIN.Test", p1, "127.0.0.1"),
			      "--resolve",
			      hostport(e, MADE_UP, p2, "[::ffff:127.0.0.1],127.0.0.1"),
			      "--resolve",
			      hostport(e, MADE_UP, unused, "127.0.0.1"),
			      NULL};
	struct run r;
	char want[512];

	json_t *report = run_json(e, &r, 0, args);
	/* The entry for a port no origin uses is reported, and the scan goes on. */
	snprintf(want, sizeof(want),
		 "originaudit scan: warning: --resolve '%s' matches no origin (domain name "
		 "origin.test with port %u); ignored\n",
		 args[12], unused);
	assert_string_equal(r.err, want);
	expect_summary(report, (struct summary){2, 2, 0, 0, 0, 0, 3, "pass"});
	json_t *pa = only_probe(report, "a");
	expect_probe(pa, "pass", "");
	assert_string_equal(jstr(pa, "address"), "127.0.0.1");
	assert_string_equal(jstr(pa, "sni"), MADE_UP);
	assert_int_equal(jint(pa, "port"), p1);
	want_check(pa, "name", "pass", "matched");
	expect_all_checks_pass(pa);
	/* Both of b's addresses are probed, never the configured 192.0.2.1. */
	json_t *ob = origin_by_id(report, "b");
	assert_int_equal(json_array_size(json_object_get(ob, "probes")), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *p = probe_of(ob, i);

		expect_probe(p, "pass", "");
		assert_true(strcmp(jstr(p, "address"), "::ffff:127.0.0.1") == 0 ||
			    strcmp(jstr(p, "address"), "127.0.0.1") == 0);
		assert_string_equal(jstr(p, "sni"), MADE_UP);
	}
	assert_string_equal(jstr(probe_of(ob, 0), "address"), "::ffff:127.0.0.1");
	assert_string_equal(jstr(probe_of(ob, 1), "address"), "127.0.0.1");

	/* With --cloudfront: the distribution's custom origin, at our test origin. */
	char *cf = write_json(e, distribution_at(e, MADE_UP, p1));
	const char *cf_args[] = {
	    "scan",	   "--cloudfront", cf,
	    "--ca-bundle", e->bundle,	   "--format",
	    "json",	   "--resolve",	   hostport(e, MADE_UP, p1, "127.0.0.1"),
	    NULL};
	report = run_json(e, &r, 0, cf_args);
	assert_string_equal(r.err, "");
	expect_summary(report, (struct summary){2, 1, 0, 0, 0, 1, 1, "pass"});
	json_t *pw = only_probe(report, "web");
	expect_probe(pw, "pass", "");
	assert_string_equal(jstr(pw, "address"), "127.0.0.1");
	assert_string_equal(jstr(pw, "sni"), MADE_UP);
	assert_string_equal(jstr(origin_by_id(report, "assets-s3"), "skipped"), "s3_origin");
}

static void test_adhoc_targets(void **state)
{
	struct env *e = *state;
	unsigned made_up = serve_for(e, MADE_UP);
	unsigned good = serve_good(e, NULL);
	char *target = hostport(e, MADE_UP, made_up, NULL);
	struct run r;

	/* A made-up name pointed at the test origin; the target comes before the options. */
	const char *args1[] = {
	    "scan",	   target,    "--resolve", hostport(e, MADE_UP, made_up, "127.0.0.1"),
	    "--ca-bundle", e->bundle, "-f",	   "json",
	    NULL};
	json_t *report = run_json(e, &r, 0, args1);
	assert_string_equal(r.err, "");
	expect_summary(report, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});
	json_t *o = origin_by_id(report, target);
	assert_string_equal(jstr(o, "domain_name"), MADE_UP);
	assert_int_equal(jint(o, "port"), made_up);
	assert_string_equal(jstr(o, "protocol_policy"), "https-only");
	json_t *p = only_probe(report, target);
	expect_probe(p, "pass", "");
	expect_all_checks_pass(p);
	assert_string_equal(jstr(p, "kind"), "https");
	assert_string_equal(jstr(p, "address"), "127.0.0.1");
	assert_string_equal(jstr(p, "sni"), MADE_UP);
	/* CloudFront's default origin_ssl_protocols: TLSv1.2 only. */
	want_check(p, "protocols", "pass", "negotiated");
	assert_string_equal(jstr(p, "tls.version"), "TLS1.2");
	expect_leaf_san(p, MADE_UP);

	/* An address target with --sni; the name is what the certificate must cover. */
	char *by_address = hostport(e, "127.0.0.1", good, NULL);
	const char *args2[] = {"scan",	   "--ca-bundle", e->bundle, "-f", "json",
			       by_address, "--sni",	  HOST,	     NULL};
	report = run_json(e, &r, 0, args2);
	p = only_probe(report, by_address);
	expect_probe(p, "pass", "");
	assert_string_equal(jstr(p, "sni"), HOST);
	assert_string_equal(jstr(p, "address"), "127.0.0.1");
	assert_string_equal(jstr(origin_by_id(report, by_address), "domain_name"), HOST);

	/* --host-header: one probe with SNI = the forwarded Host, either name accepted. */
	const char *args3[] = {"scan",	"--ca-bundle", e->bundle,	"-f", "json", by_address,
			       "--sni", HOST,	       "--host-header", WWW,  NULL};
	report = run_json(e, &r, 0, args3);
	expect_summary(report, (struct summary){1, 1, 0, 0, 0, 0, 1, "pass"});
	p = only_probe(report, by_address);
	expect_probe(p, "pass", "");
	assert_string_equal(jstr(p, "sni"), WWW);
	assert_int_equal(json_array_size(json_object_get(p, "names")), 2);
	assert_string_equal(jstr(p, "names[0]"), HOST);
	assert_string_equal(jstr(p, "names[1]"), WWW);
	want_check(p, "name", "pass", "matched");

	/* Two targets; the second's certificate does not cover the name: exit 2. */
	char *wrong = hostport(e, "127.0.0.1", made_up, NULL);
	const char *args4[] = {"scan",	   "--ca-bundle", e->bundle, "-f", "json",
			       by_address, wrong,	  "--sni",   HOST, NULL};
	report = run_json(e, &r, 2, args4);
	expect_summary(report, (struct summary){2, 1, 0, 1, 0, 0, 2, "fail"});
	expect_probe(only_probe(report, by_address), "pass", "");
	p = only_probe(report, wrong);
	expect_probe(p, "fail", "");
	want_check(p, "name", "fail", "name_mismatch");
	assert_int_equal(jint(p, "port"), made_up);
}

static void test_adhoc_target_errors(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *target;
		const char *sni;
		const char *message;
	} cases[] = {
	    {"127.0.0.1:8443", NULL,
	     "originaudit scan: '127.0.0.1:8443': CloudFront reaches origins by domain name: "
	     "give --sni NAME, the name the certificate must cover (see originaudit scan "
	     "--help)\n"},
	    {"[::1]:8443", NULL, "'[::1]:8443': CloudFront reaches origins by domain name"},
	    {"::1", NULL, "'::1': write an IPv6 address in brackets: [::1]:443"},
	    {"[::1", "a.example.com", "'[::1': an IPv6 address needs its closing ']'"},
	    {"[::1]8443", "a.example.com", "'[::1]8443': expected [IPv6]:PORT"},
	    {"[1.2.3.4]:8443", "a.example.com", "'[1.2.3.4]' is not an IPv6 address"},
	    {"a.example.com:22", NULL,
	     "'a.example.com:22': port 22 is not allowed: CloudFront uses 80, 443 or 1024-65535"},
	    {"a.example.com:0", NULL, "'a.example.com:0': port '0' is not 1-65535"},
	    {"a.example.com:", NULL, "'a.example.com:': port '' is not 1-65535"},
	    {":8443", NULL, "':8443': the host is empty"},
	    {"bad host", NULL, "'bad host': host name"},
	    {"a.example.com", "b.example.com",
	     "'a.example.com': --sni b.example.com differs from the target's host name: scan "
	     "b.example.com:443 --resolve b.example.com:443:ADDRESS instead"},
	    {"127.0.0.1", "bad sni", "'bad sni': host name"},
	};
	struct run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].sni != NULL) {
			run(e, &r, "scan", cases[i].target, "--sni", cases[i].sni, NULL);
		} else {
			run(e, &r, "scan", cases[i].target, NULL);
		}
		expect_refused(&r, cases[i].message);
	}
	run(e, &r, "scan", "a.example.com", "a.example.com", NULL);
	expect_refused(&r, "'a.example.com': the target is given twice");
	run(e, &r, "scan", "a.example.com", "--host-header", "www.example.com", "--host-header",
	    "WWW.example.com", NULL);
	expect_refused(&r, "'WWW.example.com': --host-header is given twice");
	run(e, &r, "scan", "a.example.com", "--sni", "a.example.com", "--sni", "a.example.com",
	    NULL);
	expect_refused(&r, "--sni is given twice");
	run(e, &r, "scan", "--help", NULL);
	expect_rc(&r, 0);
	expect_contains(r.out, "originaudit scan HOST[:PORT]... [--sni NAME] [--host-header NAME]");
	expect_contains(r.out, "--resolve HOST:PORT:ADDRESS[,ADDRESS...]");
	expect_contains(r.out, "--terraform FILE      every aws_cloudfront_distribution");
}

/*
 * The distribution shapes --cloudfront recognises (issue 12): a CloudFormation
 * template in YAML (short-form tags; an origin whose DomainName only a
 * deployment knows is skipped with the expression named), the same template
 * in JSON, `aws cloudfront get-distribution` output; and the files it refuses
 * with the path named (more than one distribution, no distribution, YAML
 * syntax with its line).
 */
static void test_cloudfront_shapes(void **state)
{
	struct env *e = *state;
	unsigned port = serve_for(e, MADE_UP);
	char yaml[2048];
	struct run r;

	snprintf(yaml, sizeof(yaml),
		 "AWSTemplateFormatVersion: '2010-09-09'\n"
		 "Parameters:\n"
		 "  Zone: {Type: String}\n"
		 "Resources:\n"
		 "  Logs:\n"
		 "    Type: AWS::S3::Bucket\n"
		 "  Cdn:\n"
		 "    Type: AWS::CloudFront::Distribution\n"
		 "    Properties:\n"
		 "      DistributionConfig:\n"
		 "        Enabled: true\n"
		 "        Aliases: [www.example.com]\n"
		 "        Origins:\n"
		 "          - Id: app\n"
		 "            DomainName: %s\n"
		 "            CustomOriginConfig:\n"
		 "              HTTPSPort: %u\n"
		 "              OriginProtocolPolicy: https-only\n"
		 "              OriginSSLProtocols: [TLSv1.2]\n"
		 "          - Id: lb\n"
		 "            DomainName: !Join ['.', [api, !Ref Zone]]\n"
		 "            CustomOriginConfig: {OriginProtocolPolicy: https-only}\n"
		 "        DefaultCacheBehavior: {TargetOriginId: app, ViewerProtocolPolicy: "
		 "redirect-to-https}\n"
		 "        CacheBehaviors:\n"
		 "          - {PathPattern: /api/*, TargetOriginId: lb, ViewerProtocolPolicy: "
		 "https-only}\n",
		 MADE_UP, port);
	char *template_yaml = write_text(e, yaml);
	const char *args[] = {
	    "scan",	   "--cloudfront", template_yaml,
	    "--ca-bundle", e->bundle,	   "--format",
	    "json",	   "--resolve",	   hostport(e, MADE_UP, port, "127.0.0.1"),
	    NULL};
	json_t *report = run_json(e, &r, 0, args);

	assert_string_equal(r.err, "");
	expect_summary(report, (struct summary){2, 1, 0, 0, 0, 1, 1, "pass"});
	json_t *pa = only_probe(report, "app");
	expect_probe(pa, "pass", "");
	assert_string_equal(jstr(pa, "address"), "127.0.0.1");
	assert_string_equal(jstr(pa, "sni"), MADE_UP);
	expect_all_checks_pass(pa);
	json_t *lb = origin_by_id(report, "lb");
	assert_string_equal(jstr(lb, "verdict"), "skip");
	assert_string_equal(jstr(lb, "skipped"), "unresolved_value");
	assert_string_equal(jstr(lb, "skipped_detail"),
			    "Resources.Cdn.Properties.DistributionConfig.Origins[1].DomainName: "
			    "!Join [\".\",[\"api\",{\"Ref\":\"Zone\"}]]");
	assert_int_equal(json_array_size(json_object_get(lb, "probes")), 0);

	/* The text report names the expression; check-config accepts the template. */
	run(e, &r, "scan", "--cloudfront", template_yaml, "--ca-bundle", e->bundle, "--format",
	    "text", "--resolve", args[8], NULL);
	expect_rc(&r, 0);
	expect_contains(r.out, "lb (unresolved_value: Resources.Cdn.Properties.DistributionConfig."
			       "Origins[1].DomainName: !Join");
	run(e, &r, "check-config", "--cloudfront", template_yaml, NULL);
	expect_rc(&r, 0);

	/* get-distribution output: {"Distribution": {"Id", "ARN", "DomainName",
	 * "DistributionConfig"}}. */
	json_t *dist = distribution_at(e, MADE_UP, port);
	json_t *get =
	    json_pack("{s:{s:s, s:s, s:s, s:O}}", "Distribution", "Id", "E2QWRUHEXAMPLE", "ARN",
		      "arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE", "DomainName",
		      "d111111abcdef8.cloudfront.net", "DistributionConfig",
		      json_object_get(dist, "DistributionConfig"));
	char *get_file = write_json(e, get);
	const char *get_args[] = {"scan",     "--cloudfront", get_file,	   "--ca-bundle", e->bundle,
				  "--format", "json",	      "--resolve", args[8],	  NULL};
	report = run_json(e, &r, 0, get_args);
	expect_summary(report, (struct summary){2, 1, 0, 0, 0, 1, 1, "pass"});
	expect_probe(only_probe(report, "web"), "pass", "");

	/* Refused, exit 3, one line naming the file and the path. */
	char *empty =
	    write_json(e, json_pack("{s:{s:i, s:[]}}", "DistributionList", "Quantity", 0, "Items"));
	run(e, &r, "scan", "--cloudfront", empty, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "DistributionList.Items: no distribution in this list");
	char *no_cdn = write_text(e, "Resources:\n  Logs: {Type: AWS::S3::Bucket}\n");
	run(e, &r, "scan", "--cloudfront", no_cdn, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, ": Resources: no AWS::CloudFront::Distribution resource");
	char *bad_yaml = write_text(e, "Resources:\n  Cdn:\n    Type: [unclosed\n");
	run(e, &r, "check-config", "--cloudfront", bad_yaml, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	char want[512];
	snprintf(want, sizeof(want), "%s:4:", bad_yaml);
	expect_contains(r.err, want);
	char *neither = write_json(e, json_pack("{s:i}", "Something", 1));
	run(e, &r, "scan", "--cloudfront", neither, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err,
			"not a CloudFront distribution: expected the output of aws "
			"cloudfront get-distribution-config, get-distribution or "
			"list-distributions, a DistributionConfig, or a CloudFormation template");
	json_decref(dist);
}

/* A summary of list-distributions: the DistributionConfig dc with an Id, ARN and one alias, every
 * behaviour forwarding Host. */
static json_t *summary_item(json_t *dc, const char *id, const char *alias)
{
	json_t *item = json_deep_copy(dc);
	char arn[128];

	snprintf(arn, sizeof(arn), "arn:aws:cloudfront::123456789012:distribution/%s", id);
	assert_int_equal(json_object_set_new(item, "Id", json_string(id)), 0);
	assert_int_equal(json_object_set_new(item, "ARN", json_string(arn)), 0);
	assert_int_equal(
	    json_object_set_new(item, "Aliases",
				json_pack("{s:i, s:[s]}", "Quantity", 1, "Items", alias)),
	    0);
	assert_int_equal(json_object_set_new(json_object_get(item, "DefaultCacheBehavior"),
					     "ForwardedValues",
					     json_pack("{s:b, s:{s:i, s:[s]}}", "QueryString", 0,
						       "Headers", "Quantity", 1, "Items", "Host")),
			 0);
	return item;
}

/*
 * Several distributions in one run (list-distributions with two, and a second
 * --cloudfront file): each origin says its distribution, ids are qualified so
 * they never collide, and each distribution's aliases are the forwarded-Host
 * SNI of its own origins only.
 */
static void test_several_distributions(void **state)
{
	struct env *e = *state;
	const char *names[] = {MADE_UP, "www.one.test", "www.two.test"};
	oa_pki_spec spec = fx_leaf_spec(MADE_UP, MADE_UP, 90);
	struct run r;

	spec.dns_names = names;
	spec.n_dns_names = 3;
	const oa_pki_cert *chain[] = {issue(e, &spec, e->pki.inter), e->pki.inter};
	unsigned port = serve_chain(e, chain, 2);
	json_t *dist = distribution_at(e, MADE_UP, port);
	json_t *dc = json_object_get(dist, "DistributionConfig");
	json_t *list = json_pack(
	    "{s:{s:i, s:i, s:[o, o]}}", "DistributionList", "Quantity", 2, "MaxItems", 100, "Items",
	    summary_item(dc, "E1ONE", "www.one.test"), summary_item(dc, "E2TWO", "www.two.test"));
	char *list_file = write_json(e, list);
	char *config_file = write_json(e, json_incref(dist));
	char *resolve = hostport(e, MADE_UP, port, "127.0.0.1");
	const char *args[] = {"scan",	   "--cloudfront", list_file, "--cloudfront",
			      config_file, "--ca-bundle",  e->bundle, "--format",
			      "json",	   "--resolve",	   resolve,   NULL};
	json_t *report = run_json(e, &r, 0, args);

	assert_string_equal(r.err, "");
	/* Three distributions of a custom and an S3 origin each. */
	expect_summary(report, (struct summary){6, 3, 0, 0, 0, 3, 3, "pass"});
	json_t *one = origin_by_id(report, "E1ONE/web");
	assert_string_equal(jstr(one, "distribution"), "E1ONE");
	assert_string_equal(jstr(one, "origin_id"), "web");
	json_t *p1 = only_probe(report, "E1ONE/web");
	assert_string_equal(jstr(p1, "sni"), "www.one.test");
	assert_string_equal(jstr(p1, "names[1]"), "www.one.test");
	expect_probe(p1, "pass", "");
	json_t *p2 = only_probe(report, "E2TWO/web");
	assert_string_equal(jstr(p2, "sni"), "www.two.test");
	assert_string_equal(jstr(origin_by_id(report, "E2TWO/web"), "distribution"), "E2TWO");
	/* get-distribution-config names no distribution: the file does. */
	char want[1024];
	snprintf(want, sizeof(want), "%s/web", config_file);
	json_t *p3 = only_probe(report, want);
	assert_string_equal(jstr(p3, "sni"), MADE_UP);
	assert_string_equal(jstr(origin_by_id(report, want), "distribution"), config_file);
	assert_string_equal(jstr(origin_by_id(report, "E2TWO/assets-s3"), "skipped"), "s3_origin");

	/* One distribution alone keeps its ids as CloudFront names them. */
	const char *alone[] = {"scan",	   "--cloudfront", config_file, "--ca-bundle", e->bundle,
			       "--format", "json",	   "--resolve", resolve,       NULL};
	report = run_json(e, &r, 0, alone);
	assert_string_equal(jstr(origin_by_id(report, "web"), "distribution"), config_file);

	/* The text table and Prometheus name the qualified ids. */
	run(e, &r, "scan", "--cloudfront", list_file, "--ca-bundle", e->bundle, "--format",
	    "prometheus", "--resolve", resolve, NULL);
	expect_rc(&r, 0);
	expect_contains(r.out, "origin=\"E1ONE/web\"");
	expect_contains(r.out, "origin=\"E2TWO/web\"");
	run(e, &r, "scan", "--cloudfront", list_file, "--ca-bundle", e->bundle, "--format", "text",
	    "--resolve", resolve, NULL);
	expect_rc(&r, 0);
	expect_contains(r.out, "E1ONE/web");
	expect_contains(r.out, "E2TWO/assets-s3 (s3_origin)");

	/* check-config lints each distribution. */
	run(e, &r, "check-config", "--cloudfront", list_file, "--cloudfront", config_file, NULL);
	expect_rc(&r, 0);
	snprintf(want, sizeof(want),
		 "%s: E1ONE: valid: 2 origin(s), 1 behavior(s) + default, 0 warning(s)\n"
		 "%s: E2TWO: valid: 2 origin(s), 1 behavior(s) + default, 0 warning(s)\n"
		 "%s: valid: 2 origin(s), 1 behavior(s) + default, 0 warning(s)\n",
		 list_file, list_file, config_file);
	assert_string_equal(r.out, want);

	/* The same distribution twice cannot be told apart: refused. */
	run(e, &r, "scan", "--cloudfront", list_file, "--cloudfront", list_file, NULL);
	expect_refused(&r, ": distribution E1ONE is given twice: each distribution once per run\n");
	run(e, &r, "check-config", "--cloudfront", config_file, "--cloudfront", config_file, NULL);
	expect_refused(&r, "is given twice");
	json_decref(dist);
}

/* The names of every fixture under tests/data/cloudfront and tests/data/terraform. */
static const char *const fixture_names[] = {"app.example.net", "api.example.net",
					    "internal.example.net", "www.example.com",
					    "api.example.com"};

/* A test origin serving one leaf for every fixture name; returns its port. */
static unsigned serve_fixture_names(struct env *e)
{
	oa_pki_spec spec = fx_leaf_spec("app.example.net", "app.example.net", 90);

	spec.dns_names = fixture_names;
	spec.n_dns_names = sizeof(fixture_names) / sizeof(fixture_names[0]);
	const oa_pki_cert *chain[] = {issue(e, &spec, e->pki.inter), e->pki.inter};
	return serve_chain(e, chain, 2);
}

/*
 * The data file rel, as written, with every occurrence of from replaced by
 * to (the fixtures say port 443; the test origin listens elsewhere); returns
 * the new file's path (owned by e).
 */
static char *patched_fixture(struct env *e, const char *rel, const char *from, const char *to)
{
	FILE *f = fopen(data_file(e, rel), "rb");
	char *text = calloc(1, 256 * 1024);
	char *out = calloc(1, 512 * 1024);

	assert_non_null(f);
	assert_non_null(text);
	assert_non_null(out);
	size_t len = fread(text, 1, 256 * 1024 - 1, f);
	fclose(f);
	assert_true(len > 0 && len < 256 * 1024 - 1);
	char *w = out;
	for (const char *r = text; *r != '\0';) {
		const char *hit = strstr(r, from);

		if (hit == NULL) {
			w = stpcpy(w, r);
			break;
		}
		memcpy(w, r, (size_t)(hit - r));
		w += hit - r;
		w = stpcpy(w, to);
		r = hit + strlen(from);
	}
	char *path = write_text(e, out);
	free(text);
	free(out);
	return path;
}

/* "--resolve NAME:port:127.0.0.1" for every fixture origin's name, appended to args at *n. */
static void resolve_fixture_names(struct env *e, unsigned port, const char **args, size_t *n)
{
	/* The first three are origins' domain names, the others aliases. */
	for (size_t i = 0; i < 3; i++) {
		args[(*n)++] = "--resolve";
		args[(*n)++] = hostport(e, fixture_names[i], port, "127.0.0.1");
	}
	args[*n] = NULL;
}

/* The only probe of origin id in report: its SNI is sni and it passes. */
static void expect_one_passing_probe(json_t *report, const char *id, const char *sni)
{
	json_t *p = only_probe(report, id);

	assert_string_equal(jstr(p, "sni"), sni);
	assert_string_equal(jstr(p, "address"), "127.0.0.1");
	expect_probe(p, "pass", "");
}

/* An origin skipped for reason, with detail. */
static void expect_skipped(json_t *report, const char *id, const char *reason, const char *detail)
{
	json_t *o = origin_by_id(report, id);

	assert_string_equal(jstr(o, "verdict"), "skip");
	assert_string_equal(jstr(o, "skipped"), reason);
	if (detail != NULL) {
		assert_string_equal(jstr(o, "skipped_detail"), detail);
	}
	assert_int_equal(json_array_size(json_object_get(o, "probes")), 0);
}

/*
 * The realistic CloudFront fixtures (list-distributions with two
 * distributions, get-distribution with an origin group and a VPC origin, a
 * YAML template with two distributions, an intrinsic origin and an intrinsic
 * alias), scanned end to end in one run against a local origin.
 */
static void test_cloudfront_fixtures(void **state)
{
	struct env *e = *state;
	unsigned port = serve_fixture_names(e);
	char json_port[64];
	char yaml_port[64];
	struct run r;

	snprintf(json_port, sizeof(json_port), "\"HTTPSPort\": %u", port);
	snprintf(yaml_port, sizeof(yaml_port), "HTTPSPort: %u", port);
	char *list = patched_fixture(e, "cloudfront/list-distributions.json", "\"HTTPSPort\": 443",
				     json_port);
	char *get =
	    patched_fixture(e, "cloudfront/get-distribution.json", "\"HTTPSPort\": 443", json_port);
	char *tpl = patched_fixture(e, "cloudfront/template.yaml", "HTTPSPort: 443", yaml_port);
	/* The VPC origin's port lives on the VPC origin itself: copied in, as documented. */
	json_error_t jerr;
	json_t *gd = json_load_file(get, 0, &jerr);
	assert_non_null(gd);
	assert_int_equal(json_object_set_new(jget(gd, "Distribution.DistributionConfig.Origins."
						      "Items[2].VpcOriginConfig"),
					     "HTTPSPort", json_integer(port)),
			 0);
	get = write_json(e, gd);
	const char *args[40] = {"scan",	   "--cloudfront", list,  "--cloudfront",
				get,	   "--cloudfront", tpl,	  "--ca-bundle",
				e->bundle, "--format",	   "json"};
	size_t n = 11;
	resolve_fixture_names(e, port, args, &n);
	json_t *report = run_json(e, &r, 0, args);

	assert_string_equal(r.err, "");
	expect_summary(report, (struct summary){9, 6, 0, 0, 0, 3, 6, "pass"});
	/* list-distributions: both items, each with its own alias as forwarded Host. */
	expect_one_passing_probe(report, "E1APPEXAMPLE01/app", "www.example.com");
	expect_one_passing_probe(report, "E2APIEXAMPLE02/app", "api.example.com");
	expect_skipped(report, "E2APIEXAMPLE02/docs-bucket", "s3_origin", NULL);
	assert_string_equal(jstr(origin_by_id(report, "E1APPEXAMPLE01/app"), "ip_address_type"),
			    "ipv4");
	/* get-distribution: both members of the origin group, and the VPC origin. */
	expect_one_passing_probe(report, "E3GROUPEXAMPLE/primary", "app.example.net");
	expect_one_passing_probe(report, "E3GROUPEXAMPLE/failover", "api.example.net");
	expect_one_passing_probe(report, "E3GROUPEXAMPLE/internal-alb", "internal.example.net");
	json_t *alb = origin_by_id(report, "E3GROUPEXAMPLE/internal-alb");
	assert_true(json_is_true(json_object_get(alb, "vpc_origin")));
	assert_string_equal(jstr(alb, "distribution"), "E3GROUPEXAMPLE");
	/* The template: each resource a distribution; what only a deployment knows is skipped. */
	expect_one_passing_probe(report, "AppCdn/app", "www.example.com");
	expect_skipped(report, "AppCdn/lb", "unresolved_value",
		       "Resources.AppCdn.Properties.DistributionConfig.Origins[1].DomainName: "
		       "!GetAtt OriginLb.DNSName");
	expect_skipped(report, "ApiCdn/app", "unresolved_value",
		       "Resources.ApiCdn.Properties.DistributionConfig.Aliases[0]: !Sub "
		       "api.${Zone}");
	assert_string_equal(jstr(origin_by_id(report, "ApiCdn/app"), "distribution"), "ApiCdn");

	/* The CI gate: JUnit names the distributions' origins, exit 0. */
	args[10] = "junit";
	run_argv(e, &r, args);
	expect_rc(&r, 0);
	expect_contains(r.out, "E3GROUPEXAMPLE/failover");
	expect_contains(r.out, "unresolved_value: Resources.ApiCdn");

	/* check-config: one line per distribution. */
	run(e, &r, "check-config", "--cloudfront", list, "--cloudfront", tpl, NULL);
	expect_contains(r.out, ": E1APPEXAMPLE01: valid: 1 origin(s), 0 behavior(s) + default");
	expect_contains(r.out, ": E2APIEXAMPLE02: valid: 2 origin(s), 1 behavior(s) + default");
	expect_contains(r.out, ": AppCdn: valid: 2 origin(s), 1 behavior(s) + default");
	expect_contains(r.out, ": ApiCdn: valid: 1 origin(s), 0 behavior(s), 0 warning(s)");
}

/* The other two shapes end to end: a CloudFormation template in JSON, and a bare
 * DistributionConfig. */
static void test_cloudfront_json_template_and_bare(void **state)
{
	struct env *e = *state;
	unsigned port = serve_fixture_names(e);
	char json_port[64];
	const char *args[40];
	json_error_t jerr;
	struct run r;

	snprintf(json_port, sizeof(json_port), "\"HTTPSPort\": %u", port);
	char *tpl = patched_fixture(e, "cloudfront/template.json", "\"HTTPSPort\": 443", json_port);
	size_t n = 0;
	args[n++] = "scan";
	args[n++] = "--cloudfront";
	args[n++] = tpl;
	args[n++] = "--ca-bundle";
	args[n++] = e->bundle;
	args[n++] = "--format";
	args[n++] = "json";
	resolve_fixture_names(e, port, args, &n);
	json_t *report = run_json(e, &r, 0, args);
	expect_summary(report, (struct summary){2, 1, 0, 0, 0, 1, 1, "pass"});
	expect_one_passing_probe(report, "app", "www.example.com");
	assert_string_equal(jstr(origin_by_id(report, "app"), "distribution"), "Cdn");
	expect_skipped(report, "param", "unresolved_value",
		       "Resources.Cdn.Properties.DistributionConfig.Origins[1].DomainName: !Ref "
		       "OriginDomain");

	/* `aws cloudfront get-distribution --query Distribution.DistributionConfig`. */
	json_t *gd = json_load_file(
	    patched_fixture(e, "cloudfront/get-distribution.json", "\"HTTPSPort\": 443", json_port),
	    0, &jerr);
	assert_non_null(gd);
	json_t *bare = json_incref(jget(gd, "Distribution.DistributionConfig"));
	json_decref(gd);
	assert_int_equal(json_object_set_new(jget(bare, "Origins.Items[2].VpcOriginConfig"),
					     "HTTPSPort", json_integer(port)),
			 0);
	char *bare_file = write_json(e, bare);
	args[2] = bare_file;
	report = run_json(e, &r, 0, args);
	expect_summary(report, (struct summary){3, 3, 0, 0, 0, 0, 3, "pass"});
	expect_one_passing_probe(report, "primary", "app.example.net");
	expect_one_passing_probe(report, "failover", "api.example.net");
	expect_one_passing_probe(report, "internal-alb", "internal.example.net");
	assert_string_equal(jstr(origin_by_id(report, "failover"), "distribution"), bare_file);
}

/* Malformed and truncated CloudFront files: exit 3, one line naming the file and where. */
static void test_cloudfront_fixture_errors(void **state)
{
	struct env *e = *state;
	struct run r;
	char want[1024];

	/* Truncated JSON: the file, line and column. */
	char *cut = patched_fixture(e, "cloudfront/list-distributions.json",
				    "\"Staging\": false\n"
				    "            }\n"
				    "        ]",
				    "\"Staging\": false");
	run(e, &r, "scan", "--cloudfront", cut, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	snprintf(want, sizeof(want), "originaudit scan: %s:", cut);
	expect_contains(r.err, want);
	/* A wrong type deep in the second item: its JSON path. */
	char *typed = patched_fixture(e, "cloudfront/list-distributions.json",
				      "\"OriginReadTimeout\": 60", "\"OriginReadTimeout\": \"60\"");
	run(e, &r, "scan", "--cloudfront", typed, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	snprintf(want, sizeof(want),
		 "originaudit scan: %s: DistributionList.Items[1].Origins.Items[0]."
		 "CustomOriginConfig.OriginReadTimeout: ",
		 typed);
	expect_contains(r.err, want);
	char *group = patched_fixture(e, "cloudfront/get-distribution.json",
				      "\"OriginId\": \"failover\"", "\"OriginId\": \"gone\"");
	run(e, &r, "check-config", "--cloudfront", group, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, ": Distribution.DistributionConfig.OriginGroups.Items[0].Members."
			       "Items[1].OriginId: no origin with id \"gone\"");
	/* YAML: the line. */
	char *yaml = patched_fixture(e, "cloudfront/template.yaml", "          - www.example.com",
				     "          - [www.example.com");
	run(e, &r, "scan", "--cloudfront", yaml, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	snprintf(want, sizeof(want), "originaudit scan: %s:", yaml);
	expect_contains(r.err, want);
	char *port =
	    patched_fixture(e, "cloudfront/template.yaml", "HTTPSPort: 443", "HTTPSPort: 70000");
	run(e, &r, "scan", "--cloudfront", port, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, ": Resources.AppCdn.Properties.DistributionConfig.Origins[0]."
			       "CustomOriginConfig.HTTPSPort: ");
}

/* Every origin domain name and alias of the fixtures under tests/data/terraform. */
static const char *const tf_names[] = {
    "app-origin.example.net",  "failover.example.net",	  "internal-alb.example.net",
    "main-origin.example.net", "prod-origin.example.net", "staging-origin.example.net",
    "static.example.net",      "edge-origin.example.net", "www.example.net",
    "shop.example.net",	       "prod.example.net",	  "edge.example.net"};
/* The first TF_ORIGIN_NAMES of tf_names are origins' domain names. */
#define TF_ORIGIN_NAMES 8

/* A Terraform fixture with its HTTPS ports at port; returns the new file's path. */
static char *tf_fixture(struct env *e, const char *rel, unsigned port)
{
	char to[64];

	snprintf(to, sizeof(to), "\"https_port\": %u", port);
	return patched_fixture(e, rel, "\"https_port\": 443", to);
}

/*
 * scan --terraform FILE... (NULL-terminated files) --format FORMAT with
 * --resolve at port for n_names origin names of tf_names from first_name on,
 * into args.
 */
static void tf_scan_args(struct env *e, const char **args, const char *const *files,
			 const char *format, unsigned port, size_t first_name, size_t n_names)
{
	size_t n = 0;

	args[n++] = "scan";
	for (size_t i = 0; files[i] != NULL; i++) {
		args[n++] = "--terraform";
		args[n++] = files[i];
	}
	args[n++] = "--ca-bundle";
	args[n++] = e->bundle;
	args[n++] = "--format";
	args[n++] = format;
	for (size_t i = first_name; i < first_name + n_names; i++) {
		args[n++] = "--resolve";
		args[n++] = hostport(e, tf_names[i], port, "127.0.0.1");
	}
	args[n] = NULL;
}

/* The probes of origin id: exactly n_sni, one per SNI in sni, each passing. */
static void expect_snis(json_t *report, const char *id, const char *const *sni, size_t n_sni)
{
	json_t *probes = json_object_get(origin_by_id(report, id), "probes");

	assert_int_equal(json_array_size(probes), n_sni);
	for (size_t i = 0; i < n_sni; i++) {
		bool found = false;

		for (size_t p = 0; p < n_sni; p++) {
			json_t *probe = json_array_get(probes, p);

			if (strcmp(jstr(probe, "sni"), sni[i]) == 0) {
				expect_probe(probe, "pass", "");
				assert_string_equal(jstr(probe, "address"), "127.0.0.1");
				found = true;
			}
		}
		if (!found) {
			fail_msg("origin %s has no probe with SNI %s", id, sni[i]);
		}
	}
}

/*
 * The pre-deploy gate: `terraform show -json` of plans and of state, scanned
 * end to end against a local origin: origins, distributions, SNI from each
 * distribution's own aliases, origin groups, VPC and S3 origins, what only
 * apply knows, exit codes and the JUnit file.
 */
static void test_terraform_inputs(void **state)
{
	struct env *e = *state;
	oa_pki_spec spec = fx_leaf_spec(tf_names[0], tf_names[0], 90);
	const char *args[64];
	json_error_t jerr;
	struct run r;

	spec.dns_names = tf_names;
	spec.n_dns_names = sizeof(tf_names) / sizeof(tf_names[0]);
	const oa_pki_cert *chain[] = {issue(e, &spec, e->pki.inter), e->pki.inter};
	unsigned port = serve_chain(e, chain, 2);

	/*
	 * plan-create.json as written but for the ports; the failover member's
	 * match-viewer would also probe HTTP on port 80, and a VPC origin's port
	 * lives on the aws_cloudfront_vpc_origin resource: both set here.
	 */
	json_t *plan = json_load_file(tf_fixture(e, "terraform/plan-create.json", port), 0, &jerr);
	assert_non_null(plan);
	json_t *cdn = jget(plan, "planned_values.root_module.resources[1].values");
	assert_int_equal(json_object_set_new(jget(cdn, "origin[2].vpc_origin_config[0]"),
					     "https_port", json_integer(port)),
			 0);
	assert_int_equal(json_object_set_new(jget(cdn, "origin[3].custom_origin_config[0]"),
					     "origin_protocol_policy", json_string("https-only")),
			 0);
	char *create = write_json(e, plan);
	const char *one[] = {create, NULL};
	tf_scan_args(e, args, one, "json", port, 0, 3);
	json_t *report = run_json(e, &r, 0, args);
	assert_string_equal(r.err, "");
	expect_summary(report, (struct summary){4, 3, 0, 0, 0, 1, 5, "pass"});
	/* The default behaviour targets the origin group and forwards Host (AllViewer). */
	const char *aliases[] = {"www.example.net", "shop.example.net"};
	expect_snis(report, "app", aliases, 2);
	expect_snis(report, "app-failover", aliases, 2);
	const char *internal[] = {"internal-alb.example.net"};
	expect_snis(report, "internal", internal, 1);
	json_t *vpc = origin_by_id(report, "internal");
	assert_true(json_is_true(json_object_get(vpc, "vpc_origin")));
	assert_string_equal(jstr(vpc, "distribution"), "aws_cloudfront_distribution.cdn");
	assert_string_equal(jstr(origin_by_id(report, "app"), "ip_address_type"), "ipv4");
	expect_skipped(report, "assets", "s3_origin", NULL);

	/* The gate as documented: -f junit -o FILE, exit 0, every probe a testcase. */
	char *xml = new_path(e, "originaudit.xml");
	run(e, &r, "scan", "--terraform", create, "--ca-bundle", e->bundle, "-f", "junit", "-o",
	    xml, "--resolve", hostport(e, tf_names[0], port, "127.0.0.1"), "--resolve",
	    hostport(e, tf_names[1], port, "127.0.0.1"), "--resolve",
	    hostport(e, tf_names[2], port, "127.0.0.1"), NULL);
	expect_rc(&r, 0);
	FILE *f = fopen(xml, "r");
	assert_non_null(f);
	char junit[16384];
	size_t len = fread(junit, 1, sizeof(junit) - 1, f);
	fclose(f);
	junit[len] = '\0';
	expect_contains(junit, "tests=\"6\"");
	expect_contains(junit, "<skipped message=\"s3_origin\"");

	/* Child modules, count and for_each addresses, and values known only after apply. */
	char *modules = tf_fixture(e, "terraform/plan-modules.json", port);
	char *unknown = tf_fixture(e, "terraform/plan-unknown.json", port);
	const char *two[] = {modules, unknown, NULL};
	tf_scan_args(e, args, two, "json", port, 3, 5);
	report = run_json(e, &r, 0, args);
	assert_string_equal(r.err, "");
	expect_summary(report, (struct summary){8, 4, 0, 0, 0, 4, 4, "pass"});
	const char *main_sni[] = {"main-origin.example.net"};
	expect_snis(report, "module.cdn.aws_cloudfront_distribution.main[0]/web", main_sni, 1);
	/* forwarded_values.headers ["*"]: the distribution's own alias, not another's. */
	const char *prod_sni[] = {"prod.example.net"};
	expect_snis(report,
		    "module.cdn.module.regional.aws_cloudfront_distribution.site[\"prod\"]/"
		    "prod-web",
		    prod_sni, 1);
	const char *staging_sni[] = {"staging-origin.example.net"};
	expect_snis(report,
		    "module.cdn.module.regional.aws_cloudfront_distribution.site[\"staging\"]/"
		    "staging-web",
		    staging_sni, 1);
	assert_string_equal(
	    jstr(origin_by_id(report, "module.cdn.module.regional.aws_cloudfront_distribution."
				      "site[\"staging\"]/staging-web"),
		 "distribution"),
	    "module.cdn.module.regional.aws_cloudfront_distribution.site[\"staging\"]");
	expect_skipped(report, "aws_cloudfront_distribution.api/api-lb", "unknown_until_apply",
		       "origin[0].domain_name");
	expect_skipped(report, "aws_cloudfront_distribution.api/origin[2]", "unknown_until_apply",
		       "origin[2].origin_id");
	const char *static_sni[] = {"static.example.net"};
	expect_snis(report, "aws_cloudfront_distribution.api/static", static_sni, 1);
	/* Unknown aliases: which names the origin answers to is unknown, so it is not guessed. */
	expect_skipped(report, "aws_cloudfront_distribution.edge/edge", "unknown_until_apply",
		       "aliases");
	expect_skipped(report, "aws_cloudfront_distribution.edge/bucket", "s3_origin", NULL);

	/* A failing origin fails the gate: exit 2, the JUnit error names it. */
	unsigned closed = fx_free_port("127.0.0.1");
	char to[64];
	snprintf(to, sizeof(to), "\"https_port\": %u", closed);
	char *down = patched_fixture(e, "terraform/plan-modules.json", "\"https_port\": 443", to);
	run(e, &r, "scan", "--terraform", down, "--ca-bundle", e->bundle, "-f", "junit",
	    "--resolve", hostport(e, "main-origin.example.net", closed, "127.0.0.1"), "--resolve",
	    hostport(e, "prod-origin.example.net", closed, "127.0.0.1"), "--resolve",
	    hostport(e, "staging-origin.example.net", closed, "127.0.0.1"), NULL);
	expect_rc(&r, 2);
	expect_contains(r.out, "connection_refused");

	/* State: managed resources only (the data source is not a distribution to audit). */
	char *st = tf_fixture(e, "terraform/state.json", port);
	run(e, &r, "check-config", "--terraform", st, NULL);
	expect_contains(r.out, ": aws_cloudfront_distribution.cdn: valid: 4 origin(s), 3 "
			       "behavior(s) + default");
	expect_contains(r.out,
			": module.edge.aws_cloudfront_distribution.this: valid: 1 origin(s)");
	assert_null(strstr(r.out, "legacy"));
	/* Mixed with CloudFront files in one run. */
	char *list = data_file(e, "cloudfront/list-distributions.json");
	run(e, &r, "check-config", "--terraform", st, "--cloudfront", list, NULL);
	expect_contains(r.out, ": E2APIEXAMPLE02: valid: 2 origin(s)");
	expect_contains(r.out, ": module.edge.aws_cloudfront_distribution.this: valid:");
}

/* Malformed and truncated Terraform files, and files of another kind: exit 3, one line. */
static void test_terraform_errors(void **state)
{
	struct env *e = *state;
	struct run r;
	char want[1024];

	/* Cut in the middle, as an interrupted `terraform show -json > plan.json` leaves it. */
	char *whole = tf_fixture(e, "terraform/plan-create.json", 443);
	FILE *f = fopen(whole, "rb");
	char *text = calloc(1, 20001);
	assert_non_null(f);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, 20000, f), 20000);
	fclose(f);
	char *cut = write_text(e, text);
	free(text);
	run(e, &r, "scan", "--terraform", cut, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	snprintf(want, sizeof(want), "originaudit scan: %s:", cut);
	expect_contains(r.err, want);
	expect_contains(r.err, "premature end of input");
	char *typed = patched_fixture(e, "terraform/plan-create.json", "\"https_port\": 443",
				      "\"https_port\": \"443\"");
	run(e, &r, "scan", "--terraform", typed, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	snprintf(
	    want, sizeof(want),
	    "originaudit scan: %s: aws_cloudfront_distribution.cdn: "
	    "origin[0].custom_origin_config[0].https_port: expected an integer, got a string\n",
	    typed);
	assert_string_equal(r.err, want);
	char *target =
	    patched_fixture(e, "terraform/plan-modules.json", "\"target_origin_id\": \"prod-web\"",
			    "\"target_origin_id\": \"gone\"");
	run(e, &r, "check-config", "--terraform", target, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, ": module.cdn.module.regional.aws_cloudfront_distribution."
			       "site[\"prod\"]: default_cache_behavior[0].target_origin_id: no "
			       "origin with id \"gone\"");
	/* Each input to its option: the hint names the right one. */
	char *cf = data_file(e, "cloudfront/get-distribution.json");
	run(e, &r, "scan", "--terraform", cf, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "not terraform show -json output: this looks like AWS CLI "
			       "CloudFront output: use --cloudfront FILE");
	char *tf = data_file(e, "terraform/state.json");
	run(e, &r, "scan", "--cloudfront", tf, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "this looks like terraform show -json output: use --terraform FILE");
	run(e, &r, "scan", "-c", tf, NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, "this looks like terraform show -json output: use --terraform FILE");
	char *none =
	    write_text(e, "{\"format_version\": \"1.2\", \"terraform_version\": \"1.9.5\", "
			  "\"planned_values\": {\"root_module\": {}}}");
	run(e, &r, "scan", "--terraform", none, "-f", "junit", NULL);
	expect_rc(&r, 3);
	expect_one_stderr_line(&r);
	expect_contains(r.err, ": no aws_cloudfront_distribution in this plan");
	assert_string_equal(r.out, "");
}

/* A VPC origin that does not resolve here: the hint says to scan from its VPC, not to publish DNS.
 */
static void test_vpc_origin_hint(void **state)
{
	struct env *e = *state;
	json_t *dist = distribution_at(e, "internal.invalid", 443);
	json_t *web = jget(dist, "DistributionConfig.Origins.Items[0]");
	struct run r;

	assert_int_equal(json_object_del(web, "CustomOriginConfig"), 0);
	assert_int_equal(json_object_set_new(web, "VpcOriginConfig",
					     json_pack("{s:s}", "VpcOriginId", "vo_0123456789")),
			 0);
	char *cf = write_json(e, dist);

	run(e, &r, "scan", "--cloudfront", cf, "--format", "text", NULL);
	expect_rc(&r, 2);
	expect_contains(r.out, "hint: A VPC origin is reached inside its VPC: run the scan from a "
			       "host in that VPC");
	assert_null(strstr(r.out, "publish an A or AAAA record"));
	run(e, &r, "scan", "--cloudfront", cf, "--format", "junit", NULL);
	expect_rc(&r, 2);
	expect_contains(r.out, "hint: A VPC origin is reached inside its VPC");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_classic_mistakes),
	    T(test_per_address_verdicts),
	    T(test_forwarded_host_sni),
	    T(test_wildcard_alias_only),
	    T(test_sni_warning_alert),
	    T(test_fatal_alert),
	    T(test_protocol_mismatch_tls10),
	    T(test_enumerate_protocols),
	    T(test_handshakes_per_probe),
	    T(test_misbehaving_servers),
	    T(test_dns_failed),
	    T(test_http_only_and_match_viewer),
	    T(test_two_hundred_origins),
	    T(test_output_formats),
	    T(test_output_file),
	    T(test_multiple_outputs),
	    T(test_config_errors),
	    T(test_check_config),
	    T(test_cloudfront_import),
	    T(test_demo),
	    T(test_usage),
	    T(test_input_refusals),
	    T(test_resolve_malformed),
	    T(test_resolve_config),
	    T(test_cloudfront_shapes),
	    T(test_vpc_origin_hint),
	    T(test_several_distributions),
	    T(test_cloudfront_fixtures),
	    T(test_cloudfront_fixture_errors),
	    T(test_cloudfront_json_template_and_bare),
	    T(test_terraform_inputs),
	    T(test_terraform_errors),
	    T(test_adhoc_targets),
	    T(test_adhoc_target_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
