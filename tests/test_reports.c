/*
 * The scan report writers: a report built by hand from real probes (two TLS
 * test origins on loopback, one plain HTTP origin) and probes that failed
 * before connecting, written in every format and parsed back; the escaping of
 * hostile strings; and the atomic --output file.
 */
#include <dirent.h>
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
#include <jansson.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/report.h"
#include "originaudit/scan.h"
#include "originaudit/testorigin.h"
#include "originaudit/trust.h"
#include "originaudit/version.h"
#include "report_parse.h"
#include "scan_output.h"

#define HOST "origin.example.com"
/* 2026-01-02T03:04:05Z and 1.5 s later. */
#define STARTED_AT ((time_t)1767323045)
#define TIMEOUT_MS 5000
#define DAY 86400

enum {
	O_GOOD,
	O_BROKEN,
	O_WEB,
	O_API,
	O_GONE,
	O_STATIC,
	N_ORIGINS,
};

/* The shared report: one origin per verdict, real probes where a server is needed. */
struct fixture {
	char *dir;
	fx_pki pki;
	/* Expired ten days ago, issued by pki.inter. */
	oa_pki_cert *expired;
	oa_trust_store *store;
	uv_loop_t loop;
	oa_test_origin *servers[3];
	size_t n_servers;
	int pending;
	oa_origin_config origins[N_ORIGINS];
	oa_config config;
	oa_scan_origin scan_origins[N_ORIGINS];
	oa_probe *probes[N_ORIGINS];
	oa_scan_report report;
};

static void on_probe_done(oa_probe *probe, void *data)
{
	struct fixture *f = data;

	f->pending--;
}

/* Starts a test origin; returns its port. */
static unsigned start_server(struct fixture *f, oa_test_origin_mode mode,
			     const oa_pki_cert *const *chain, size_t n)
{
	return fx_test_origin_start(&f->loop, &f->servers[f->n_servers++], mode, chain, n);
}

static void start_probe(struct fixture *f, size_t origin, const oa_probe_spec *spec)
{
	assert_int_equal(
	    oa_probe_start(&f->loop, spec, f->store, on_probe_done, f, &f->probes[origin]), 0);
	f->pending++;
}

static void failed_probe(struct fixture *f, size_t origin, const oa_probe_spec *spec,
			 const char *error, const char *detail)
{
	assert_int_equal(oa_probe_new_failed(spec, error, detail, &f->probes[origin]), 0);
}

static int group_setup(void **state)
{
	static const char *const host[] = {HOST};
	static const char *const api[] = {"api.example.com"};
	static const char *const gone[] = {"gone.example.com"};
	struct fixture *f = calloc(1, sizeof(*f));
	oa_probe_spec spec;
	oa_error err;

	assert_non_null(f);
	f->dir = fx_tempdir();
	fx_pki_make(&f->pki);
	char *bundle = fx_bundle_file(f->dir, "roots.pem", f->pki.root);
	if (oa_trust_store_load(bundle, &f->store, &err) < 0) {
		fail_msg("trust store: %s", err.msg);
	}
	free(bundle);
	assert_int_equal(uv_loop_init(&f->loop), 0);

	fx_origin_init(&f->origins[O_GOOD], "good", HOST, OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_BROKEN], "broken", HOST, OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_WEB], "web", "web.example.com", OA_ORIGIN_HTTP_ONLY);
	fx_origin_init(&f->origins[O_API], "api", "api.example.com", OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_GONE], "gone", "gone.example.com", OA_ORIGIN_MATCH_VIEWER);
	fx_origin_init(&f->origins[O_STATIC], "static", "bucket.s3.amazonaws.com",
		       OA_ORIGIN_HTTPS_ONLY);
	f->origins[O_STATIC].s3 = true;

	const oa_pki_cert *good_chain[] = {f->pki.leaf, f->pki.inter};
	unsigned port = start_server(f, OA_TEST_ORIGIN_TLS, good_chain, 2);
	f->origins[O_GOOD].https_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", port, HOST, host, TIMEOUT_MS);
	start_probe(f, O_GOOD, &spec);

	/* Two failures at once: expired, and sent without its intermediate. */
	oa_pki_spec expired = fx_leaf_spec(HOST, HOST, 90);
	expired.not_before = time(NULL) - 100 * DAY;
	expired.not_after = time(NULL) - 10 * DAY;
	f->expired = fx_issue(&expired, f->pki.inter);
	const oa_pki_cert *leaf_only[] = {f->expired};
	port = start_server(f, OA_TEST_ORIGIN_TLS, leaf_only, 1);
	f->origins[O_BROKEN].https_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", port, HOST, host, TIMEOUT_MS);
	start_probe(f, O_BROKEN, &spec);

	port = start_server(f, OA_TEST_ORIGIN_HTTP, NULL, 0);
	f->origins[O_WEB].http_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTP, "127.0.0.1", port, NULL, NULL, TIMEOUT_MS);
	spec.http_only = true;
	start_probe(f, O_WEB, &spec);

	f->origins[O_API].https_port = 1;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", 1, "api.example.com", api,
			   TIMEOUT_MS);
	failed_probe(f, O_API, &spec, "connection_refused",
		     "127.0.0.1 port 1 refused the connection");

	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, NULL, 443, "gone.example.com", gone, TIMEOUT_MS);
	failed_probe(f, O_GONE, &spec, "dns_failed", "gone.example.com: Name or service not known");

	while (f->pending > 0) {
		uv_run(&f->loop, UV_RUN_ONCE);
	}

	f->config.origins = f->origins;
	f->config.n_origins = N_ORIGINS;
	for (size_t i = 0; i < N_ORIGINS; i++) {
		oa_scan_origin *so = &f->scan_origins[i];

		so->config = &f->origins[i];
		so->port = f->origins[i].protocol_policy == OA_ORIGIN_HTTP_ONLY
			       ? f->origins[i].http_port
			       : f->origins[i].https_port;
		if (f->origins[i].s3) {
			so->skipped = "s3_origin";
		} else {
			so->probes = &f->probes[i];
			so->n_probes = 1;
		}
	}
	f->report.config = &f->config;
	f->report.store = f->store;
	f->report.started_at = STARTED_AT;
	f->report.finished_at = STARTED_AT + 1;
	f->report.duration_s = 1.5;
	f->report.origins = f->scan_origins;
	f->report.n_origins = N_ORIGINS;
	fx_report_finish(&f->report);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->n_servers; i++) {
		oa_test_origin_destroy(f->servers[i]);
	}
	for (size_t i = 0; i < N_ORIGINS; i++) {
		oa_probe_destroy(f->probes[i]);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	oa_trust_store_destroy(f->store);
	oa_pki_cert_destroy(f->expired);
	fx_pki_free(&f->pki);
	fx_tempdir_remove(f->dir);
	free(f);
	return 0;
}

/* Runs one writer into a string the caller frees. */
static char *render(const oa_scan_report *r, oa_scan_format format, bool colour)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int rc = -EINVAL;

	assert_non_null(out);
	switch (format) {
	case OA_SCAN_FORMAT_JSON:
		rc = oa_scan_write_json(r, out);
		break;
	case OA_SCAN_FORMAT_TEXT:
		rc = scan_write_text(r, out, colour);
		break;
	case OA_SCAN_FORMAT_PROMETHEUS:
		rc = oa_scan_write_prometheus(r, out);
		break;
	case OA_SCAN_FORMAT_JUNIT:
		rc = scan_write_junit(r, out);
		break;
	case OA_SCAN_FORMAT_HTML:
		rc = oa_scan_write_html(r, out);
		break;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* A one-origin report around a probe that failed with error and detail. */
struct mini {
	oa_origin_config origin;
	oa_config config;
	oa_scan_origin scan_origin;
	oa_probe *probe;
	oa_scan_report report;
};

static void mini_make(struct mini *m, const char *id, const char *sni, const char *error,
		      const char *detail)
{
	oa_probe_spec spec;

	memset(m, 0, sizeof(*m));
	fx_origin_init(&m->origin, id, "origin.example.com", OA_ORIGIN_HTTPS_ONLY);
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "::1", 443, sni, NULL, TIMEOUT_MS);
	assert_int_equal(oa_probe_new_failed(&spec, error, detail, &m->probe), 0);
	m->config.origins = &m->origin;
	m->config.n_origins = 1;
	m->scan_origin.config = &m->origin;
	m->scan_origin.port = 443;
	m->scan_origin.probes = &m->probe;
	m->scan_origin.n_probes = 1;
	m->report.config = &m->config;
	m->report.started_at = STARTED_AT;
	m->report.finished_at = STARTED_AT;
	m->report.origins = &m->scan_origin;
	m->report.n_origins = 1;
	fx_report_finish(&m->report);
}

static void mini_free(struct mini *m)
{
	oa_probe_destroy(m->probe);
}

/* ---- JSON ---- */

static json_t *json_path(json_t *root, const char *fmt, ...)
{
	json_t *found = NULL;
	char expr[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	/* "origins.3.probes.0.error": object keys and array indexes separated by dots. */
	found = root;
	for (char *save = NULL, *tok = strtok_r(expr, ".", &save); tok != NULL && found != NULL;
	     tok = strtok_r(NULL, ".", &save)) {
		if (json_is_array(found)) {
			found = json_array_get(found, strtoul(tok, NULL, 10));
		} else {
			found = json_object_get(found, tok);
		}
	}
	return found;
}

static const char *json_str(json_t *root, const char *path)
{
	json_t *v = json_path(root, "%s", path);

	if (!json_is_string(v)) {
		fail_msg("%s is not a string", path);
	}
	return json_string_value(v);
}

static long long json_int(json_t *root, const char *path)
{
	json_t *v = json_path(root, "%s", path);

	if (!json_is_integer(v)) {
		fail_msg("%s is not an integer", path);
	}
	return json_integer_value(v);
}

/* --at values: a date, a time, a time with a fraction of a second (dropped); anything else is
 * refused. */
static void test_parse_time(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(oa_parse_time("2024-04-01", &t), 0);
	assert_int_equal(t, 1711929600);
	assert_int_equal(oa_parse_time("2024-04-01T00:00:01Z", &t), 0);
	assert_int_equal(t, 1711929601);
	assert_int_equal(oa_parse_time("2024-04-01T00:00:01.005Z", &t), 0);
	assert_int_equal(t, 1711929601);
	assert_int_equal(oa_parse_time("2024-04-01T00:00:01.999999999Z", &t), 0);
	assert_int_equal(t, 1711929601);
	assert_int_equal(oa_parse_time("2024-04-01T00:00:01.Z", &t), -EINVAL);
	assert_int_equal(oa_parse_time("2024-04-01T00:00:01.5", &t), -EINVAL);
	assert_int_equal(oa_parse_time("2024-04-01T00:00:01.5xZ", &t), -EINVAL);
	assert_int_equal(oa_parse_time("2024-02-30", &t), -EINVAL);
	assert_int_equal(oa_parse_time("yesterday", &t), -EINVAL);
}

static void test_json(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report, OA_SCAN_FORMAT_JSON, false);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);

	if (doc == NULL) {
		fail_msg("report is not JSON: %s (line %d)", jerr.text, jerr.line);
	}
	/* Pretty-printed, in schema order, one trailing newline. */
	static const char head[] = "{\n  \"schema\": 1,\n  \"tool\": {\n    \"name\": ";
	assert_true(strncmp(text, head, strlen(head)) == 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_not_equal(text[strlen(text) - 2], '\n');

	assert_int_equal(json_int(doc, "schema"), 1);
	assert_string_equal(json_str(doc, "tool.name"), "originaudit");
	assert_string_equal(json_str(doc, "tool.version"), oa_version());
	assert_string_equal(json_str(doc, "started_at"), "2026-01-02T03:04:05Z");
	assert_string_equal(json_str(doc, "finished_at"), "2026-01-02T03:04:06Z");
	assert_true(json_real_value(json_path(doc, "duration_s")) == 1.5);
	assert_string_equal(json_str(doc, "ca_bundle.path"), oa_trust_store_path(f->store));
	assert_int_equal(json_int(doc, "ca_bundle.certificates"), 1);
	assert_string_equal(json_str(doc, "ca_bundle.sha256"), oa_trust_store_sha256(f->store));

	assert_int_equal(json_int(doc, "summary.origins"), 6);
	assert_int_equal(json_int(doc, "summary.pass"), 1);
	assert_int_equal(json_int(doc, "summary.warn"), 1);
	assert_int_equal(json_int(doc, "summary.fail"), 1);
	assert_int_equal(json_int(doc, "summary.error"), 2);
	assert_int_equal(json_int(doc, "summary.skipped"), 1);
	assert_int_equal(json_int(doc, "summary.probes"), 5);
	assert_string_equal(json_str(doc, "summary.verdict"), "error");

	static const char *const ids[] = {"good", "broken", "web", "api", "gone", "static"};
	static const char *const verdicts[] = {"pass", "fail", "warn", "error", "error", "skip"};
	static const char *const policies[] = {"https-only", "https-only",   "http-only",
					       "https-only", "match-viewer", "https-only"};
	assert_int_equal(json_array_size(json_path(doc, "origins")), N_ORIGINS);
	for (size_t i = 0; i < N_ORIGINS; i++) {
		json_t *o = json_path(doc, "origins.%zu", i);

		assert_string_equal(json_str(o, "id"), ids[i]);
		assert_string_equal(json_str(o, "domain_name"), f->origins[i].domain_name);
		assert_int_equal(json_int(o, "port"), f->scan_origins[i].port);
		assert_string_equal(json_str(o, "protocol_policy"), policies[i]);
		assert_string_equal(json_str(o, "verdict"), verdicts[i]);
		assert_int_equal(json_array_size(json_path(o, "probes")), i == O_STATIC ? 0 : 1);
		if (i == O_STATIC) {
			assert_string_equal(json_str(o, "skipped"), "s3_origin");
		} else {
			assert_true(json_is_null(json_path(o, "skipped")));
			assert_string_equal(json_str(o, "probes.0.verdict"), verdicts[i]);
		}
	}

	/* Real probes carry the core's checks and the chain. */
	assert_string_equal(json_str(doc, "origins.0.probes.0.checks.trust.reason"), "trusted");
	assert_string_equal(json_str(doc, "origins.0.probes.0.checks.protocols.status"), "pass");
	assert_int_equal(json_array_size(json_path(doc, "origins.0.probes.0.chain")), 2);
	assert_true(json_is_null(json_path(doc, "origins.0.probes.0.error")));
	assert_string_equal(json_str(doc, "origins.1.probes.0.checks.trust.reason"),
			    "missing_intermediate");
	assert_string_equal(json_str(doc, "origins.1.probes.0.checks.trust.status"), "fail");
	assert_string_equal(json_str(doc, "origins.1.probes.0.checks.expiry.reason"), "expired");
	assert_string_equal(json_str(doc, "origins.2.probes.0.kind"), "http");
	assert_string_equal(json_str(doc, "origins.2.probes.0.checks.http.reason"), "http_only");

	/* Probes that failed before a certificate arrived. */
	assert_string_equal(json_str(doc, "origins.3.probes.0.error"), "connection_refused");
	assert_string_equal(json_str(doc, "origins.3.probes.0.error_detail"),
			    "127.0.0.1 port 1 refused the connection");
	assert_string_equal(json_str(doc, "origins.3.probes.0.address"), "127.0.0.1");
	assert_int_equal(json_int(doc, "origins.3.probes.0.port"), 1);
	assert_string_equal(json_str(doc, "origins.3.probes.0.sni"), "api.example.com");
	assert_int_equal(json_object_size(json_path(doc, "origins.3.probes.0.checks")), 0);
	assert_string_equal(json_str(doc, "origins.4.probes.0.error"), "dns_failed");
	assert_true(json_is_null(json_path(doc, "origins.4.probes.0.address")));

	json_decref(doc);
	free(text);
}

static void test_json_without_store(void **state)
{
	struct mini m;

	mini_make(&m, "api", "api.example.com", "connect_timeout", "no answer");
	char *text = render(&m.report, OA_SCAN_FORMAT_JSON, false);
	json_t *doc = json_loads(text, 0, NULL);

	assert_non_null(doc);
	assert_true(json_is_null(json_path(doc, "ca_bundle")));
	assert_int_equal(json_int(doc, "summary.error"), 1);
	assert_int_equal(json_int(doc, "summary.skipped"), 0);
	assert_string_equal(json_str(doc, "origins.0.probes.0.address"), "::1");
	json_decref(doc);
	free(text);
	mini_free(&m);
}

/* ---- text ---- */

/* The line of text that starts with prefix, as a malloc'd string. */
static char *line_starting(const char *text, const char *prefix)
{
	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			return strndup(p, len);
		}
		p = end != NULL ? end + 1 : NULL;
	}
	fail_msg("no line starts with \"%s\" in:\n%s", prefix, text);
	/* Not reached: fail_msg ends the test. */
	return strdup("");
}

/* The line right after the one starting with prefix. */
static char *line_after(const char *text, const char *prefix, int skip)
{
	char *line = line_starting(text, prefix);
	const char *p = strstr(text, line);

	free(line);
	for (int i = 0; i <= skip; i++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	const char *end = strchr(p, '\n');
	return strndup(p, end != NULL ? (size_t)(end - p) : strlen(p));
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (haystack == NULL || strstr(haystack, needle) == NULL) {
		fail_msg("\"%s\" not found in:\n%s", needle, haystack != NULL ? haystack : "");
	}
}

static void test_text(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report, OA_SCAN_FORMAT_TEXT, false);
	char expect[256];
	char *line;

	assert_null(strchr(text, '\033'));
	line = line_starting(text, "originaudit ");
	assert_contains(line, "scan at 2026-01-02T03:04:05Z: 6 origins, 5 probes in 1.50 s");
	assert_contains(line, oa_trust_store_path(f->store));
	assert_contains(line, "(1 certificate)");
	free(line);

	line = line_starting(text, "PASS  good ");
	snprintf(expect, sizeof(expect), "127.0.0.1:%u", f->origins[O_GOOD].https_port);
	assert_contains(line, expect);
	assert_contains(line, "sni=origin.example.com");
	assert_contains(line, "days left");
	free(line);

	line = line_starting(text, "FAIL  broken ");
	assert_contains(line, "trust: missing_intermediate");
	free(line);
	line = line_after(text, "FAIL  broken ", 0);
	assert_true(strncmp(line, "      ", 6) == 0 && line[6] != ' ');
	free(line);
	line = line_after(text, "FAIL  broken ", 1);
	assert_true(strncmp(line, "      hint: ", 12) == 0);
	free(line);
	/* The other failing check follows, with its own detail and hint. */
	line = line_after(text, "FAIL  broken ", 2);
	assert_true(strncmp(line, "      FAIL expiry: expired: ", 28) == 0);
	free(line);
	line = line_after(text, "FAIL  broken ", 3);
	assert_true(strncmp(line, "      hint: ", 12) == 0);
	free(line);

	line = line_starting(text, "WARN  web ");
	assert_contains(line, " http ");
	assert_contains(line, "http: http_only");
	free(line);

	/* Columns line up: the endpoint starts at the same offset on every probe line. */
	line = line_starting(text, "ERROR api ");
	assert_contains(line, "127.0.0.1:1 ");
	assert_contains(line, "sni=api.example.com");
	assert_true(strstr(line, "connection_refused") != NULL);
	char *pass = line_starting(text, "PASS  good ");
	assert_int_equal(strstr(line, "127.0.0.1") - line, strstr(pass, "127.0.0.1") - pass);
	free(pass);
	free(line);
	line = line_after(text, "ERROR api ", 0);
	assert_string_equal(line, "      127.0.0.1 port 1 refused the connection");
	free(line);
	line = line_after(text, "ERROR api ", 1);
	assert_true(strncmp(line, "      hint: Nothing accepts connections", 39) == 0);
	free(line);

	/* No address (DNS failed): the origin's name stands in for it. */
	line = line_starting(text, "ERROR gone ");
	assert_contains(line, "gone.example.com:443");
	assert_contains(line, "dns_failed");
	free(line);

	line = line_starting(text, "SKIP  ");
	assert_string_equal(line, "SKIP  static (s3_origin)");
	free(line);
	line = line_starting(text, "summary: ");
	assert_string_equal(line, "summary: 6 origins: 1 pass, 1 warn, 1 fail, 2 error, 1 skipped");
	free(line);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void test_text_colour(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report, OA_SCAN_FORMAT_TEXT, true);

	assert_contains(text, "\033[32mPASS\033[0m  good ");
	assert_contains(text, "\033[33mWARN\033[0m  web ");
	assert_contains(text, "\033[31mFAIL\033[0m  broken ");
	assert_contains(text, "\033[31mERROR\033[0m api ");
	assert_contains(text, "\033[2mhint: ");
	free(text);
}

static void test_text_summary_without_skips(void **state)
{
	struct mini m;

	mini_make(&m, "api", "api.example.com", "connect_timeout", "no answer");
	char *text = render(&m.report, OA_SCAN_FORMAT_TEXT, false);
	char *line = line_starting(text, "summary: ");

	assert_string_equal(line, "summary: 1 origin: 0 pass, 0 warn, 0 fail, 1 error");
	free(line);
	line = line_starting(text, "ERROR api ");
	assert_contains(line, "[::1]:443");
	free(line);
	assert_contains(text, "no CA bundle");
	free(text);
	mini_free(&m);
}

/* ---- Prometheus ---- */

static void test_prometheus(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report, OA_SCAN_FORMAT_PROMETHEUS, false);
	rp_exposition e;
	const rp_sample *s;
	char port[16];

	rp_parse_exposition(text, &e);
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
		char help[160];
		char type[160];

		snprintf(help, sizeof(help), "# HELP %s ", families[i]);
		snprintf(type, sizeof(type), "# TYPE %s gauge\n", families[i]);
		assert_contains(text, help);
		assert_contains(text, type);
	}

	/* One verdict sample per probe, labelled with its verdict. */
	assert_int_equal(rp_count_samples(&e, "originaudit_probe_verdict", NULL), 5);
	assert_int_equal(rp_count_samples(&e, "originaudit_probe_status", NULL), 5);
	snprintf(port, sizeof(port), "%u", f->origins[O_BROKEN].https_port);
	s = rp_find_sample(&e, "originaudit_probe_verdict", "origin", "broken", "address",
			   "127.0.0.1", "port", port, "sni", HOST, "verdict", "fail", NULL);
	assert_non_null(s);
	assert_true(s->value == 1);
	s = rp_find_sample(&e, "originaudit_probe_status", "origin", "broken", "port", port, NULL);
	assert_non_null(s);
	assert_int_equal(s->n_labels, 4);
	assert_true(s->value == 2);
	s = rp_find_sample(&e, "originaudit_check_status", "origin", "broken", "check", "trust",
			   NULL);
	assert_non_null(s);
	assert_true(s->value == 2);
	s = rp_find_sample(&e, "originaudit_check_status", "origin", "broken", "check", "expiry",
			   NULL);
	assert_non_null(s);
	assert_true(s->value == 2);
	/* Expired ten days ago: its leaf's notAfter is in the past, and the probe did not succeed.
	 */
	s = rp_find_sample(&e, "originaudit_cert_not_after_seconds", "origin", "broken", "position",
			   "0", NULL);
	assert_true(s != NULL && s->value < (double)time(NULL) - 9 * 86400.0);
	s = rp_find_sample(&e, "originaudit_probe_earliest_not_after_seconds", "origin", "broken",
			   NULL);
	assert_true(s != NULL && s->value < (double)time(NULL));
	s = rp_find_sample(&e, "originaudit_probe_success", "origin", "broken", NULL);
	assert_true(s != NULL && s->value == 0);
	s = rp_find_sample(&e, "originaudit_check_status", "origin", "broken", "check", "name",
			   NULL);
	assert_non_null(s);
	assert_true(s->value == 0);

	s = rp_find_sample(&e, "originaudit_probe_status", "origin", "good", NULL);
	assert_true(s != NULL && s->value == 0);
	s = rp_find_sample(&e, "originaudit_probe_success", "origin", "good", NULL);
	assert_true(s != NULL && s->value == 1);
	/* warn counts as success (reached and validated); error does not. */
	s = rp_find_sample(&e, "originaudit_probe_success", "origin", "web", NULL);
	assert_true(s != NULL && s->value == 1);
	s = rp_find_sample(&e, "originaudit_probe_success", "origin", "api", NULL);
	assert_true(s != NULL && s->value == 0);
	assert_int_equal(rp_count_samples(&e, "originaudit_probe_success", NULL), 5);
	s = rp_find_sample(&e, "originaudit_tls_version_info", "origin", "good", NULL);
	assert_non_null(s);
	assert_string_equal(rp_sample_label(s, "version"),
			    oa_probe_get_result(f->probes[O_GOOD])->tls_version);
	assert_true(s->value == 1);
	assert_int_equal(rp_count_samples(&e, "originaudit_tls_version_info", "api"), 0);
	s = rp_find_sample(&e, "originaudit_build_info", "version", oa_version(), NULL);
	assert_true(s != NULL && s->value == 1);
	s = rp_find_sample(&e, "originaudit_probe_status", "origin", "web", "sni", "", NULL);
	assert_true(s != NULL && s->value == 1);
	s = rp_find_sample(&e, "originaudit_check_status", "origin", "web", "check", "http", NULL);
	assert_true(s != NULL && s->value == 1);
	s = rp_find_sample(&e, "originaudit_probe_status", "origin", "api", "address", "127.0.0.1",
			   "port", "1", "sni", "api.example.com", NULL);
	assert_true(s != NULL && s->value == 3);
	s = rp_find_sample(&e, "originaudit_probe_verdict", "origin", "gone", "address", "",
			   "verdict", "error", NULL);
	assert_non_null(s);
	/* Probes without a certificate have no check samples and no cert metrics. */
	assert_int_equal(rp_count_samples(&e, "originaudit_check_status", "api"), 0);
	assert_int_equal(rp_count_samples(&e, "originaudit_cert_not_after_seconds", "api"), 0);
	assert_int_equal(rp_count_samples(&e, "originaudit_cert_not_after_seconds", "web"), 0);
	assert_int_equal(rp_count_samples(&e, "originaudit_probe_earliest_not_after_seconds", NULL),
			 2);

	/* One series per certificate of the chain as sent, labelled with its identity. */
	const oa_result *good = oa_probe_get_result(f->probes[O_GOOD])->result;
	const oa_result *broken = oa_probe_get_result(f->probes[O_BROKEN])->result;
	assert_true(oa_result_cert_count(good) >= 2);
	assert_int_equal(rp_count_samples(&e, "originaudit_cert_not_after_seconds", NULL),
			 oa_result_cert_count(good) + oa_result_cert_count(broken));
	assert_int_equal(rp_count_samples(&e, "originaudit_cert_not_before_seconds", NULL),
			 oa_result_cert_count(good) + oa_result_cert_count(broken));
	for (size_t i = 0; i < oa_result_cert_count(good); i++) {
		const oa_cert_info *c = oa_result_cert(good, i);
		char pos[24];

		snprintf(pos, sizeof(pos), "%zu", i);
		s = rp_find_sample(&e, "originaudit_cert_not_after_seconds", "origin", "good",
				   "position", pos, "serial", c->serial, "sha256", c->sha256, NULL);
		assert_non_null(s);
		assert_int_equal(s->n_labels, 9);
		assert_true(s->value == (double)c->not_after);
		s = rp_find_sample(&e, "originaudit_cert_not_before_seconds", "origin", "good",
				   "position", pos, "sha256", c->sha256, NULL);
		assert_true(s != NULL && s->value == (double)c->not_before);
	}
	/* The leaf (90 days) expires before the intermediate: its not_after is the earliest. */
	s = rp_find_sample(&e, "originaudit_cert_not_after_seconds", "origin", "good", "position",
			   "0", "subject_cn", HOST, NULL);
	assert_non_null(s);
	assert_true(s->value == (double)oa_result_earliest_expiry(good));
	assert_true(s->value > (double)time(NULL) + 80 * 86400.0);
	assert_true(rp_sample_label(s, "issuer_cn")[0] != '\0');
	s = rp_find_sample(&e, "originaudit_probe_earliest_not_after_seconds", "origin", "good",
			   NULL);
	assert_true(s != NULL && s->value == (double)oa_result_earliest_expiry(good));

	s = rp_find_sample(&e, "originaudit_scan_duration_seconds", NULL);
	assert_true(s != NULL && s->value == 1.5);
	s = rp_find_sample(&e, "originaudit_scan_timestamp_seconds", NULL);
	assert_true(s != NULL && s->value == (double)(STARTED_AT + 1));
	s = rp_find_sample(&e, "originaudit_probes", NULL);
	assert_true(s != NULL && s->value == 5);
	static const char *const verdicts[] = {"pass", "warn", "fail", "error", "skip"};
	static const double counts[] = {1, 1, 1, 2, 1};
	for (size_t i = 0; i < 5; i++) {
		s = rp_find_sample(&e, "originaudit_origins", "verdict", verdicts[i], NULL);
		assert_non_null(s);
		assert_true(s->value == counts[i]);
	}
	free(e.samples);
	free(text);
}

static void test_prometheus_escaping(void **state)
{
	static const char nasty[] = "a\"b\\c\nd";
	struct mini m;
	rp_exposition e;

	mini_make(&m, nasty, nasty, "tls_alert:handshake_failure", "refused");
	char *text = render(&m.report, OA_SCAN_FORMAT_PROMETHEUS, false);

	assert_contains(text, "origin=\"a\\\"b\\\\c\\nd\"");
	assert_contains(text, "sni=\"a\\\"b\\\\c\\nd\"");
	rp_parse_exposition(text, &e);
	const rp_sample *s =
	    rp_find_sample(&e, "originaudit_probe_status", "origin", nasty, "sni", nasty, NULL);
	assert_non_null(s);
	assert_true(s->value == 3);
	assert_string_equal(rp_sample_label(s, "address"), "::1");
	free(e.samples);
	free(text);
	mini_free(&m);
}

/* ---- JUnit ---- */

static void test_junit(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report, OA_SCAN_FORMAT_JUNIT, false);
	rp_xml_summary sum;
	char expect[256];

	rp_check_xml(text, &sum);
	rp_xmllint(text);
	/* Five probes and the skipped origin; one fail, two errors. */
	assert_int_equal(sum.tests, 6);
	assert_int_equal(sum.testcases, 6);
	assert_int_equal(sum.failures, 1);
	assert_int_equal(sum.failure_elems, 1);
	assert_int_equal(sum.errors, 2);
	assert_int_equal(sum.error_elems, 2);
	/* The strict schema (Jenkins xUnit's) allows skipped on testsuite only. */
	assert_int_equal(sum.skipped, -1);
	assert_int_equal(sum.skipped_elems, 1);
	assert_contains(text, "<testsuites name=\"originaudit\" tests=\"6\" failures=\"1\" "
			      "errors=\"2\" time=\"1.500\">");
	assert_contains(text, "<testsuite name=\"originaudit scan\" tests=\"6\" failures=\"1\" "
			      "errors=\"2\" skipped=\"1\" time=\"1.500\"");
	assert_contains(text, "timestamp=\"2026-01-02T03:04:05Z\"");

	snprintf(expect, sizeof(expect),
		 "<testcase classname=\"origin.good\" name=\"127.0.0.1:%u sni=" HOST "\" time=\"",
		 f->origins[O_GOOD].https_port);
	assert_contains(text, expect);
	snprintf(expect, sizeof(expect),
		 "<testcase classname=\"origin.broken\" name=\"127.0.0.1:%u sni=" HOST "\"",
		 f->origins[O_BROKEN].https_port);
	assert_contains(text, expect);
	assert_contains(text, "<failure message=\"trust: missing_intermediate\" "
			      "type=\"missing_intermediate\">fail trust: missing_intermediate: ");
	assert_contains(text, "\nhint: ");
	assert_contains(text, "\nfail expiry: expired: ");
	assert_contains(text, "<error message=\"connection_refused\" type=\"connection_refused\">"
			      "127.0.0.1 port 1 refused the connection\nhint: ");
	assert_contains(text, "<testcase classname=\"origin.gone\" name=\"gone.example.com:443 "
			      "sni=gone.example.com\"");
	assert_contains(text, "<error message=\"dns_failed\" type=\"dns_failed\">");
	/* A warning passes the gate and shows in the output. */
	assert_contains(text, "<system-out>warn http: http_only: ");
	assert_contains(text, "<testcase classname=\"origin.static\" "
			      "name=\"bucket.s3.amazonaws.com\" time=\"0.000\">\n"
			      "      <skipped message=\"s3_origin\"/>");
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
}

static void test_junit_escaping(void **state)
{
	static const char detail[] = "bad <tag> & \"q\" 'a' \x01\x1b ctl \xff\xfe bad utf8 "
				     "\xed\xa0\x80 surrogate \xef\xbf\xbf nonchar ]]> end\ttab";
	struct mini m;
	rp_xml_summary sum;

	mini_make(&m, "o<&>\"'\n", "s&n\x02i", "tls_alert:<x>", detail);
	char *text = render(&m.report, OA_SCAN_FORMAT_JUNIT, false);

	rp_check_xml(text, &sum);
	rp_xmllint(text);
	assert_int_equal(sum.tests, 1);
	assert_int_equal(sum.errors, 1);
	assert_int_equal(sum.error_elems, 1);
	/* Attribute newlines stay newlines (character references), text keeps its tab. */
	assert_contains(text, "classname=\"origin.o&lt;&amp;&gt;&quot;&apos;&#10;\"");
	assert_contains(text, "name=\"[::1]:443 sni=s&amp;n\xef\xbf\xbdi\"");
	assert_contains(text, "message=\"tls_alert:&lt;x&gt;\"");
	assert_contains(text, ">bad &lt;tag&gt; &amp; &quot;q&quot; &apos;a&apos; "
			      "\xef\xbf\xbd\xef\xbf\xbd ctl \xef\xbf\xbd\xef\xbf\xbd bad utf8 ");
	assert_contains(text, "\xef\xbf\xbd nonchar ]]&gt; end\ttab");
	free(text);
	mini_free(&m);
}

/* ---- writer errors ---- */

static void test_writers_report_write_errors(void **state)
{
	struct fixture *f = *state;

	for (int format = OA_SCAN_FORMAT_JSON; format <= OA_SCAN_FORMAT_HTML; format++) {
		FILE *full = fopen("/dev/full", "w");
		int rc = 0;

		if (full == NULL) {
			skip();
		}
		setvbuf(full, NULL, _IONBF, 0);
		switch ((oa_scan_format)format) {
		case OA_SCAN_FORMAT_JSON:
			rc = oa_scan_write_json(&f->report, full);
			break;
		case OA_SCAN_FORMAT_TEXT:
			rc = scan_write_text(&f->report, full, false);
			break;
		case OA_SCAN_FORMAT_PROMETHEUS:
			rc = oa_scan_write_prometheus(&f->report, full);
			break;
		case OA_SCAN_FORMAT_JUNIT:
			rc = scan_write_junit(&f->report, full);
			break;
		case OA_SCAN_FORMAT_HTML:
			rc = oa_scan_write_html(&f->report, full);
			break;
		}
		assert_int_equal(rc, -EIO);
		fclose(full);
	}
}

/* ---- atomic output ---- */

static char *slurp(const char *path)
{
	FILE *in = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		fwrite(chunk, 1, n, out);
	}
	fclose(in);
	fclose(out);
	return buf;
}

/* Names in dir other than keep (NULL-ended); a leftover temporary file shows here. */
static size_t count_other_entries(const char *dir, const char *const *keep)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	size_t n = 0;

	assert_non_null(d);
	while ((ent = readdir(d)) != NULL) {
		bool known = strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0;

		for (size_t i = 0; keep != NULL && keep[i] != NULL; i++) {
			known = known || strcmp(ent->d_name, keep[i]) == 0;
		}
		if (!known) {
			print_message("unexpected entry %s/%s\n", dir, ent->d_name);
			n++;
		}
	}
	closedir(d);
	return n;
}

static void test_output_replaces_file(void **state)
{
	static const char *const keep[] = {"report", NULL};
	struct fixture *f = *state;
	char *dir = fx_tempdir();
	char *path = fx_path(dir, "report");
	char old[8192];
	struct stat st;
	oa_error err;

	/* An old report longer than some new ones: nothing of it may survive. */
	memset(old, 'x', sizeof(old) - 1);
	old[sizeof(old) - 1] = '\n';
	for (int format = OA_SCAN_FORMAT_JSON; format <= OA_SCAN_FORMAT_HTML; format++) {
		fx_write(path, old, sizeof(old));
		assert_int_equal(chmod(path, 0600), 0);
		oa_error_clear(&err);
		/* Colour is asked for; a file never gets it. */
		assert_int_equal(
		    scan_write_report(&f->report, (oa_scan_format)format, path, true, &err), 0);
		assert_int_equal(err.code, 0);
		char *want = render(&f->report, (oa_scan_format)format, false);
		char *got = slurp(path);
		assert_string_equal(got, want);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
		assert_int_equal(count_other_entries(dir, keep), 0);
		free(want);
		free(got);
	}
	free(path);
	fx_tempdir_remove(dir);
}

static void test_output_missing_directory(void **state)
{
	struct fixture *f = *state;
	char *dir = fx_tempdir();
	char *path = fx_path(dir, "missing/report.json");
	char expect[4200];
	oa_error err;

	oa_error_clear(&err);
	assert_int_equal(scan_write_report(&f->report, OA_SCAN_FORMAT_JSON, path, false, &err),
			 -ENOENT);
	assert_int_equal(err.code, -ENOENT);
	snprintf(expect, sizeof(expect), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err.msg, expect);
	assert_int_equal(count_other_entries(dir, NULL), 0);
	free(path);
	fx_tempdir_remove(dir);
}

/* A failed write leaves the old report as it was and no temporary file behind. */
static void test_output_failure_keeps_old_file(void **state)
{
	static const char *const keep[] = {"report.prom", "file", "subdir", NULL};
	static const char old[] = "# the previous report\n";
	struct fixture *f = *state;
	char *dir = fx_tempdir();
	char *path = fx_path(dir, "report.prom");
	char *file = fx_path(dir, "file");
	char *under_file = fx_path(dir, "file/report.prom");
	char expect[4200];
	oa_error err;

	fx_write(path, old, strlen(old));
	fx_write(file, "", 0);

	/* A path whose parent is a regular file: refused whoever runs the test. */
	oa_error_clear(&err);
	assert_int_equal(
	    scan_write_report(&f->report, OA_SCAN_FORMAT_PROMETHEUS, under_file, false, &err),
	    -ENOTDIR);
	snprintf(expect, sizeof(expect), "%s: %s", under_file, strerror(ENOTDIR));
	assert_string_equal(err.msg, expect);

	/* A directory in the way: the temporary file is written, the rename fails, it goes. */
	char *subdir = fx_path(dir, "subdir");
	assert_int_equal(mkdir(subdir, 0755), 0);
	oa_error_clear(&err);
	assert_int_equal(scan_write_report(&f->report, OA_SCAN_FORMAT_JUNIT, subdir, false, &err),
			 -EISDIR);
	snprintf(expect, sizeof(expect), "%s: %s", subdir, strerror(EISDIR));
	assert_string_equal(err.msg, expect);
	free(subdir);

	/* A read-only directory; root ignores the permission, so this part needs a user. */
	assert_int_equal(chmod(dir, 0555), 0);
	if (geteuid() != 0) {
		oa_error_clear(&err);
		assert_int_equal(
		    scan_write_report(&f->report, OA_SCAN_FORMAT_PROMETHEUS, path, false, &err),
		    -EACCES);
		snprintf(expect, sizeof(expect), "%s: %s", path, strerror(EACCES));
		assert_string_equal(err.msg, expect);
	} else {
		print_message("running as root: the read-only directory case is not enforced\n");
	}
	assert_int_equal(chmod(dir, 0755), 0);

	char *got = slurp(path);
	assert_string_equal(got, old);
	free(got);
	assert_int_equal(count_other_entries(dir, keep), 0);
	free(under_file);
	free(file);
	free(path);
	fx_tempdir_remove(dir);
}

/* NULL and "-" write to stdout (captured here through a file). */
static void test_output_stdout(void **state)
{
	struct fixture *f = *state;
	char *dir = fx_tempdir();
	char *capture = fx_path(dir, "stdout");
	char *want = render(&f->report, OA_SCAN_FORMAT_PROMETHEUS, false);
	const char *paths[] = {NULL, "-"};
	oa_error err;

	for (size_t i = 0; i < 2; i++) {
		fflush(stdout);
		int saved = dup(STDOUT_FILENO);
		int fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		assert_true(saved >= 0 && fd >= 0);
		assert_true(dup2(fd, STDOUT_FILENO) >= 0);
		close(fd);
		int rc =
		    scan_write_report(&f->report, OA_SCAN_FORMAT_PROMETHEUS, paths[i], false, &err);
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		assert_int_equal(rc, 0);
		char *got = slurp(capture);
		assert_string_equal(got, want);
		free(got);
	}
	free(want);
	free(capture);
	fx_tempdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_time),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_without_store),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_text_colour),
	    cmocka_unit_test(test_text_summary_without_skips),
	    cmocka_unit_test(test_prometheus),
	    cmocka_unit_test(test_prometheus_escaping),
	    cmocka_unit_test(test_junit),
	    cmocka_unit_test(test_junit_escaping),
	    cmocka_unit_test(test_writers_report_write_errors),
	    cmocka_unit_test(test_output_replaces_file),
	    cmocka_unit_test(test_output_missing_directory),
	    cmocka_unit_test(test_output_failure_keeps_old_file),
	    cmocka_unit_test(test_output_stdout),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
