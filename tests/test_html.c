/*
 * The HTML report (oa_scan_write_html): a report built by hand from real
 * probes (TLS test origins on loopback with good, expiring, expired and
 * hostile certificates, a plain HTTP origin) and probes that failed before
 * connecting, plus skipped origins; rendered and checked for its structure,
 * its escaping, that it is self-contained, that it parses (xmllint, as XML
 * and as HTML), its expiry timeline, and write errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/report.h"
#include "originaudit/scan.h"
#include "originaudit/testorigin.h"
#include "originaudit/trust.h"
#include "originaudit/version.h"

#define HOST "origin.example.com"
/* 2026-01-02T03:04:05Z. */
#define STARTED_AT ((time_t)1767323045)
#define TIMEOUT_MS 5000
#define DAY 86400

#define HOSTILE_CN "<script>alert(1)</script>&\"'"
#define HOSTILE_CN_HTML "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;"
#define HOSTILE_ID "evil<script>alert(2)</script>&\"'"
#define HOSTILE_ID_HTML "evil&lt;script&gt;alert(2)&lt;/script&gt;&amp;&quot;&#39;"
#define HOSTILE_DIST "E2<b>DIST</b>"
/* Invalid UTF-8 and a control character, as a server might send them. */
#define HOSTILE_DETAIL "refused <img src=x onerror=alert(3)> \xff\x01 end"
#define UNRESOLVED "Origins[0].DomainName: !Ref <OriginDomain>"

enum {
	O_GOOD,
	O_SOON,
	O_HOSTILE,
	O_WEB,
	O_REFUSED,
	O_GONE,
	O_S3,
	O_UNRESOLVED,
	N_ORIGINS,
};

/* The certificates each origin's probe received (the timeline's rows). */
static const size_t expected_certs[N_ORIGINS] = {2, 2, 1, 0, 0, 0, 0, 0};

struct fixture {
	char *dir;
	fx_pki pki;
	oa_pki_cert *soon;
	oa_pki_cert *hostile;
	oa_trust_store *store;
	uv_loop_t loop;
	oa_test_origin *servers[4];
	size_t n_servers;
	int pending;
	oa_origin_config origins[N_ORIGINS];
	oa_config config;
	oa_scan_origin scan_origins[N_ORIGINS];
	oa_probe *probes[N_ORIGINS];
	/* The good origin probed once more with other thresholds (warn 100, critical 50 days). */
	oa_probe *strict_probe;
	oa_scan_report report;
};

static void on_probe_done(oa_probe *probe, void *data)
{
	struct fixture *f = data;

	f->pending--;
}

static unsigned start_server(struct fixture *f, oa_test_origin_mode mode,
			     const oa_pki_cert *const *chain, size_t n)
{
	return fx_test_origin_start(&f->loop, &f->servers[f->n_servers++], mode, chain, n);
}

static void start_probe(struct fixture *f, oa_probe **slot, const oa_probe_spec *spec)
{
	assert_int_equal(oa_probe_start(&f->loop, spec, f->store, on_probe_done, f, slot), 0);
	f->pending++;
}

/* The TLS origins: good, expiring in 12 days, and expired with a hostile CN (leaf only). */
static void start_tls_origins(struct fixture *f)
{
	static const char *const host[] = {HOST};
	oa_probe_spec spec;

	const oa_pki_cert *good_chain[] = {f->pki.leaf, f->pki.inter};
	unsigned port = start_server(f, OA_TEST_ORIGIN_TLS, good_chain, 2);
	f->origins[O_GOOD].https_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", port, HOST, host, TIMEOUT_MS);
	start_probe(f, &f->probes[O_GOOD], &spec);
	spec.policy.warn_days = 100;
	spec.policy.critical_days = 50;
	start_probe(f, &f->strict_probe, &spec);

	oa_pki_spec soon = fx_leaf_spec(HOST, HOST, 90);
	soon.not_after = time(NULL) + 12 * DAY + 3600;
	soon.not_before = soon.not_after - 90 * DAY;
	f->soon = fx_issue(&soon, f->pki.inter);
	const oa_pki_cert *soon_chain[] = {f->soon, f->pki.inter};
	port = start_server(f, OA_TEST_ORIGIN_TLS, soon_chain, 2);
	f->origins[O_SOON].https_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", port, HOST, host, TIMEOUT_MS);
	start_probe(f, &f->probes[O_SOON], &spec);

	oa_pki_spec hostile = fx_leaf_spec(HOSTILE_CN, HOST, 90);
	hostile.not_before = time(NULL) - 100 * DAY;
	/* An hour's margin: -10 days left whatever second the probe runs in. */
	hostile.not_after = time(NULL) - 10 * DAY + 3600;
	f->hostile = fx_issue(&hostile, f->pki.inter);
	const oa_pki_cert *hostile_chain[] = {f->hostile};
	port = start_server(f, OA_TEST_ORIGIN_TLS, hostile_chain, 1);
	f->origins[O_HOSTILE].https_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", port, HOST, host, TIMEOUT_MS);
	start_probe(f, &f->probes[O_HOSTILE], &spec);
}

static void start_other_origins(struct fixture *f)
{
	static const char *const api[] = {"api.example.com"};
	static const char *const gone[] = {"gone.example.com"};
	oa_probe_spec spec;

	unsigned port = start_server(f, OA_TEST_ORIGIN_HTTP, NULL, 0);
	f->origins[O_WEB].http_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTP, "127.0.0.1", port, NULL, NULL, TIMEOUT_MS);
	spec.http_only = true;
	start_probe(f, &f->probes[O_WEB], &spec);

	f->origins[O_REFUSED].https_port = 1;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", 1, "api.example.com", api,
			   TIMEOUT_MS);
	assert_int_equal(
	    oa_probe_new_failed(&spec, "connection_refused", HOSTILE_DETAIL, &f->probes[O_REFUSED]),
	    0);
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, NULL, 443, "gone.example.com", gone, TIMEOUT_MS);
	assert_int_equal(oa_probe_new_failed(&spec, "dns_failed",
					     "gone.example.com: Name or service not known",
					     &f->probes[O_GONE]),
			 0);
}

static void build_report(struct fixture *f)
{
	f->config.origins = f->origins;
	f->config.n_origins = N_ORIGINS;
	for (size_t i = 0; i < N_ORIGINS; i++) {
		oa_scan_origin *so = &f->scan_origins[i];

		so->config = &f->origins[i];
		so->port = f->origins[i].protocol_policy == OA_ORIGIN_HTTP_ONLY
			       ? f->origins[i].http_port
			       : f->origins[i].https_port;
		if (i == O_S3) {
			so->skipped = "s3_origin";
		} else if (i == O_UNRESOLVED) {
			so->skipped = "unresolved_value";
		} else {
			so->probes = &f->probes[i];
			so->n_probes = 1;
		}
	}
	f->scan_origins[O_GOOD].distribution = HOSTILE_DIST;
	f->report.config = &f->config;
	f->report.store = f->store;
	f->report.started_at = STARTED_AT;
	f->report.finished_at = STARTED_AT + 2;
	f->report.duration_s = 1.5;
	f->report.origins = f->scan_origins;
	f->report.n_origins = N_ORIGINS;
	fx_report_finish(&f->report);
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
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
	fx_origin_init(&f->origins[O_SOON], "soon", HOST, OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_HOSTILE], HOSTILE_ID, HOST, OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_WEB], "web", "web.example.com", OA_ORIGIN_HTTP_ONLY);
	fx_origin_init(&f->origins[O_REFUSED], "api", "api.example.com", OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_GONE], "gone", "gone.example.com", OA_ORIGIN_MATCH_VIEWER);
	fx_origin_init(&f->origins[O_S3], "static", "bucket.s3.amazonaws.com",
		       OA_ORIGIN_HTTPS_ONLY);
	f->origins[O_S3].s3 = true;
	fx_origin_init(&f->origins[O_UNRESOLVED], "templated", "unknown", OA_ORIGIN_HTTPS_ONLY);
	f->origins[O_UNRESOLVED].unresolved = (char *)UNRESOLVED;
	f->origins[O_UNRESOLVED].unresolved_reason = "unresolved_value";
	start_tls_origins(f);
	start_other_origins(f);
	while (f->pending > 0) {
		uv_run(&f->loop, UV_RUN_ONCE);
	}
	build_report(f);
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
	oa_probe_destroy(f->strict_probe);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	oa_trust_store_destroy(f->store);
	oa_pki_cert_destroy(f->soon);
	oa_pki_cert_destroy(f->hostile);
	fx_pki_free(&f->pki);
	fx_tempdir_remove(f->dir);
	free(f);
	return 0;
}

/* Renders the report into a string the caller frees. */
static char *render(const oa_scan_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(oa_scan_write_html(r, out), 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

static void assert_contains(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL) {
		fail_msg("missing: %s", needle);
	}
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
		n++;
	}
	return n;
}

/* The part of text from the origin's section to its end; the caller frees it. */
static char *origin_section(const char *text, const char *id_html)
{
	char open[512];

	snprintf(open, sizeof(open), "data-origin=\"%s\">", id_html);
	const char *start = strstr(text, open);
	if (start == NULL) {
		fail_msg("no section for origin %s", id_html);
	}
	const char *end = strstr(start, "</section>");
	assert_non_null(end);
	return strndup(start, (size_t)(end - start));
}

/* text escaped as the page escapes it (a static string of the program: valid UTF-8). */
static void escape(const char *text, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = text; *p != '\0'; p++) {
		const char *rep = *p == '&'    ? "&amp;"
				  : *p == '<'  ? "&lt;"
				  : *p == '>'  ? "&gt;"
				  : *p == '"'  ? "&quot;"
				  : *p == '\'' ? "&#39;"
					       : NULL;
		size_t len = rep != NULL ? strlen(rep) : 1;

		assert_true(n + len < size);
		memcpy(buf + n, rep != NULL ? rep : p, len);
		n += len;
	}
	buf[n] = '\0';
}

/* ---- structure ---- */

static void test_header_and_summary(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report);
	char expect[512];

	assert_true(strncmp(text, "<!DOCTYPE html>\n<html lang=\"en\">", 31) == 0);
	assert_contains(text, "<meta charset=\"utf-8\"/>");
	snprintf(expect, sizeof(expect), "<dd>originaudit %s</dd>", oa_version());
	assert_contains(text, expect);
	assert_contains(text,
			"<time>2026-01-02T03:04:05Z</time> to <time>2026-01-02T03:04:07Z</time>");
	snprintf(expect, sizeof(expect), "<code>%s</code> (1 certificate)",
		 oa_trust_store_path(f->store));
	assert_contains(text, expect);
	/* The overall verdict: a coloured badge that also says the word. */
	assert_contains(text, "<dd id=\"verdict\"><span class=\"badge s-error\">error</span></dd>");
	/* good pass; soon, web warn; hostile fail; api, gone error; two skipped. */
	assert_contains(text, "<li class=\"origins\" data-count=\"8\">");
	assert_contains(text, "<li class=\"t-pass\" data-count=\"1\">");
	assert_contains(text, "<li class=\"t-warn\" data-count=\"2\">");
	assert_contains(text, "<li class=\"t-fail\" data-count=\"1\">");
	assert_contains(text, "<li class=\"t-error\" data-count=\"2\">");
	assert_contains(text, "<li class=\"t-skip\" data-count=\"2\">");
	assert_contains(text, "<li class=\"probes\" data-count=\"6\">");
	assert_true(strstr(text, "</footer>\n</body>\n</html>\n") != NULL);
	free(text);
}

static void test_every_origin_has_its_section(void **state)
{
	struct fixture *f = *state;
	static const char *const ids[N_ORIGINS] = {"good", "soon", HOSTILE_ID_HTML, "web",
						   "api",  "gone", "static",	    "templated"};
	static const char *const verdicts[N_ORIGINS] = {"pass",	 "warn",  "fail", "warn",
							"error", "error", "skip", "skip"};
	char *text = render(&f->report);
	char expect[512];

	assert_int_equal(count(text, "<section class=\"origin "), N_ORIGINS);
	for (size_t i = 0; i < N_ORIGINS; i++) {
		snprintf(expect, sizeof(expect),
			 "<section class=\"origin s-%s\" id=\"origin-%zu\" data-verdict=\"%s\" "
			 "data-origin=\"%s\">\n<h3><span class=\"badge s-%s\">%s</span> %s</h3>",
			 verdicts[i], i, verdicts[i], ids[i], verdicts[i], verdicts[i], ids[i]);
		assert_contains(text, expect);
	}
	/* The distribution is shown (escaped) with its origin. */
	char *good = origin_section(text, "good");
	assert_contains(good, ", distribution <code class=\"distribution\">E2&lt;b&gt;DIST&lt;/"
			      "b&gt;</code>");
	assert_contains(good, "<tr class=\"probe\" data-verdict=\"pass\"><td><span class=\"badge "
			      "s-pass\">pass</span></td><td class=\"mono\">127.0.0.1:");
	assert_contains(good, "</td><td class=\"mono\">origin.example.com</td><td>TLS1.");
	assert_contains(good, " days left</td></tr>");
	assert_null(strstr(good, "class=\"problems\""));
	free(good);
	free(text);
}

static void test_problems_have_detail_and_hint(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report);

	char *soon = origin_section(text, "soon");
	assert_contains(soon, "<li class=\"problem\" data-status=\"warn\"><span class=\"badge "
			      "s-warn\">warn</span> <code class=\"check\">expiry</code>: <code "
			      "class=\"reason\">expiring_soon</code><span class=\"detail\">");
	assert_contains(soon, "<span class=\"hint\"><b>Hint:</b> ");
	free(soon);

	/* Two failures at once: both listed, with their details. */
	char *hostile = origin_section(text, HOSTILE_ID_HTML);
	assert_contains(hostile, "<code>trust: missing_intermediate</code>");
	assert_contains(hostile, "<code class=\"check\">trust</code>: <code "
				 "class=\"reason\">missing_intermediate</code>");
	assert_contains(hostile, "<code class=\"check\">expiry</code>: <code "
				 "class=\"reason\">expired</code><span class=\"detail\">");
	assert_true(count(hostile, "<span class=\"hint\"><b>Hint:</b> ") >= 2);
	free(hostile);

	char *web = origin_section(text, "web");
	assert_contains(web, "<td class=\"mono\">(plain HTTP)</td><td>-</td>");
	assert_contains(web, "<code class=\"check\">http</code>: <code "
			     "class=\"reason\">http_only</code>");
	free(web);

	/* Errors: the code, the detail (hostile bytes escaped and replaced), the hint. */
	char *api = origin_section(text, "api");
	assert_contains(api, "<td><code>connection_refused</code></td>");
	assert_contains(api, "<code class=\"check\">error</code>: <code "
			     "class=\"reason\">connection_refused</code><span "
			     "class=\"detail\">refused &lt;img src=x onerror=alert(3)&gt; "
			     "\xef\xbf\xbd\xef\xbf\xbd end</span>");
	char hint[1200];
	char escaped[1024];
	escape(oa_scan_error_hint("connection_refused"), escaped, sizeof(escaped));
	snprintf(hint, sizeof(hint), "<span class=\"hint\"><b>Hint:</b> %s</span>", escaped);
	assert_true(escaped[0] != '\0');
	assert_contains(api, hint);
	free(api);

	char *gone = origin_section(text, "gone");
	assert_contains(gone, "<td class=\"mono\">gone.example.com</td>");
	assert_contains(gone, "class=\"reason\">dns_failed</code><span class=\"detail\">"
			      "gone.example.com: Name or service not known</span>");
	free(gone);

	char *s3 = origin_section(text, "static");
	assert_contains(s3, "<p class=\"skipped\">Not probed: <code "
			    "class=\"reason\">s3_origin</code></p>");
	free(s3);
	char *templated = origin_section(text, "templated");
	assert_contains(templated, "<code class=\"reason\">unresolved_value</code><span "
				   "class=\"detail\">Origins[0].DomainName: !Ref "
				   "&lt;OriginDomain&gt;</span>");
	free(templated);
	free(text);
}

/* ---- escaping and self-containment ---- */

static void test_hostile_strings_are_text(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report);

	/* The CN reaches the page (details, timeline) only escaped. */
	assert_contains(text, HOSTILE_CN_HTML);
	assert_null(strstr(text, HOSTILE_CN));
	assert_null(strstr(text, HOSTILE_ID));
	assert_null(strcasestr(text, "<script"));
	assert_null(strcasestr(text, "<img"));
	assert_null(strcasestr(text, "<b>DIST"));
	assert_null(strstr(text, "\xff"));
	assert_null(strchr(text, '\x01'));
	free(text);
}

static void test_self_contained(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report);

	assert_null(strcasestr(text, "http://"));
	assert_null(strcasestr(text, "https://"));
	assert_null(strcasestr(text, "url("));
	assert_null(strcasestr(text, "@import"));
	/*
	 * Every raw '<' opens a tag (text has them escaped): no tag loads
	 * anything, runs anything, or links out of the page.
	 */
	for (const char *p = strchr(text, '<'); p != NULL; p = strchr(p + 1, '<')) {
		const char *end = strchr(p, '>');

		assert_non_null(end);
		char *tag = strndup(p, (size_t)(end - p + 1));
		assert_non_null(tag);
		if (strcasestr(tag, " src=") != NULL || strcasestr(tag, "javascript:") != NULL ||
		    strncasecmp(tag, "<script", 7) == 0 || strncasecmp(tag, "<link", 5) == 0 ||
		    strncasecmp(tag, "<iframe", 7) == 0 || strncasecmp(tag, "<object", 7) == 0 ||
		    strncasecmp(tag, "<img", 4) == 0) {
			fail_msg("a tag that loads or runs something: %s", tag);
		}
		const char *href = strcasestr(tag, "href=");
		if (href != NULL && strncmp(href, "href=\"#origin-", 14) != 0) {
			fail_msg("a link out of the page: %s", tag);
		}
		free(tag);
	}
	assert_int_equal(count(text, "<style>"), 1);
	free(text);
}

/* ---- well-formedness ---- */

static char *xmllint_path(void)
{
	char *xmllint = fx_find_tool("xmllint");

	if (xmllint == NULL) {
		fail_msg("xmllint is not installed: run scripts/install-deps (libxml2-utils)");
	}
	return xmllint;
}

/* Runs xmllint with mode ("--html" or NULL for XML) on doc; returns its stderr. */
static char *xmllint(const char *doc, const char *mode)
{
	char *tool = xmllint_path();
	char *dir = fx_tempdir();
	char *file = fx_path(dir, "report.html");
	char *out = NULL;
	char *err = NULL;
	char *argv[] = {tool, "--noout", file, NULL, NULL};

	if (mode != NULL) {
		argv[1] = (char *)mode;
		argv[2] = "--noout";
		argv[3] = file;
	}
	fx_write(file, doc, strlen(doc));
	int rc = fx_run(argv, &out, &err, 60);
	if (rc != 0) {
		fail_msg("xmllint %s: exit %d: %s", mode != NULL ? mode : "", rc, err);
	}
	free(out);
	free(file);
	fx_tempdir_remove(dir);
	free(tool);
	return err;
}

/*
 * libxml2's HTML parser knows HTML 4 only: it reports HTML5 and SVG elements
 * as "Tag X invalid" (and parses them). Those are the only messages allowed.
 */
static void assert_only_html5_tags_reported(const char *err)
{
	static const char *const html5[] = {"header", "main", "section", "footer",
					    "time",   "svg",  "g",	 "rect",
					    "line",   "text", "circle",	 "title"};
	const char *marker = "HTML parser error : ";
	size_t errors = 0;

	for (const char *p = strstr(err, marker); p != NULL; p = strstr(p + 1, marker)) {
		char tag[32] = "";
		bool known = false;

		errors++;
		if (sscanf(p + strlen(marker), "Tag %31s invalid", tag) != 1) {
			fail_msg("xmllint --html: %s", p);
		}
		for (size_t i = 0; i < sizeof(html5) / sizeof(html5[0]); i++) {
			known = known || strcmp(tag, html5[i]) == 0;
		}
		if (!known) {
			fail_msg("xmllint --html: unexpected tag %s", tag);
		}
	}
	/* Every line of the output is a message, its source line or its caret. */
	assert_int_equal(count(err, "\n"), errors * 3);
}

static void test_well_formed(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report);

	/* As XML: the page is written to parse both ways, so the strict parser sees no error. */
	char *err = xmllint(text, NULL);
	assert_string_equal(err, "");
	free(err);
	err = xmllint(text, "--html");
	assert_only_html5_tags_reported(err);
	free(err);
	free(text);
}

/* ---- the expiry timeline ---- */

static void test_timeline(void **state)
{
	struct fixture *f = *state;
	char *text = render(&f->report);
	size_t total = 0;
	char expect[512];

	assert_contains(text, "<section id=\"timeline\">");
	assert_contains(text, "<svg class=\"timeline\" viewBox=\"0 0 1180 ");
	for (size_t i = 0; i < N_ORIGINS; i++) {
		snprintf(expect, sizeof(expect), "<a href=\"#origin-%zu\"><g class=\"cert\"", i);
		assert_int_equal(count(text, expect), expected_certs[i]);
		total += expected_certs[i];
	}
	assert_int_equal(count(text, "<g class=\"cert\""), total);
	/* Every probe applied 30 and 7 days: the shared lines, no per-row ticks. */
	assert_contains(text, "data-threshold=\"warn\" data-days=\"30.00\"");
	assert_contains(text, "data-threshold=\"critical\" data-days=\"7.00\"");
	assert_contains(text, ">warn 30 d</text>");
	assert_contains(text, ">critical 7 d</text>");
	assert_null(strstr(text, "tick-warn\" x1"));
	assert_contains(text, "expiry thresholds every probe applied.");
	/* Rows: origin / SNI / position (from 1) / CN, coloured by their days left. */
	assert_contains(text, "<title>soon / origin.example.com / #1 leaf / origin.example.com: 12 "
			      "days left</title>");
	assert_contains(text, "data-days=\"12\"");
	assert_contains(text, "<rect class=\"bar-warn\"");
	snprintf(expect, sizeof(expect),
		 "<title>%s / origin.example.com / #1 leaf / %s: -10 days left</title>",
		 HOSTILE_ID_HTML, HOSTILE_CN_HTML);
	assert_contains(text, expect);
	assert_contains(text, "<rect class=\"bar-fail\"");
	assert_contains(text, "text-anchor=\"end\">-10 d</text>");
	assert_contains(text, "<title>good / origin.example.com / #2 intermediate / ");
	/* The axis: expired side, zero, thresholds and past the longest certificate. */
	assert_contains(text, "text-anchor=\"middle\">-30</text>");
	assert_contains(text, "<line class=\"zero\"");
	assert_contains(text, "text-anchor=\"middle\">7</text>");
	assert_contains(text, "text-anchor=\"middle\">30</text>");
	free(text);
}

static void test_timeline_with_different_thresholds(void **state)
{
	struct fixture *f = *state;
	oa_probe *probes[] = {f->probes[O_GOOD], f->strict_probe};
	oa_scan_origin origin = {
	    .config = &f->origins[O_GOOD], .port = 443, .probes = probes, .n_probes = 2};
	oa_scan_report r = {
	    .config = &f->config, .started_at = STARTED_AT, .origins = &origin, .n_origins = 1};

	fx_report_finish(&r);
	char *text = render(&r);
	/* The shared lines fall back to the default caps; each row carries its own ticks. */
	assert_contains(text, "data-threshold=\"warn\" data-days=\"30.00\"");
	assert_contains(text, "data-threshold=\"critical\" data-days=\"7.00\"");
	assert_contains(text, "the probes applied different thresholds");
	assert_int_equal(count(text, "<line class=\"tick-warn\""), 2);
	assert_int_equal(count(text, "<line class=\"tick-critical\""), 2);
	assert_contains(text, "<dd>none</dd>");
	char *err = xmllint(text, NULL);
	assert_string_equal(err, "");
	free(err);
	free(text);
}

static void test_empty_report(void **state)
{
	struct fixture *f = *state;
	oa_scan_report r = {.config = &f->config, .started_at = STARTED_AT};

	fx_report_finish(&r);
	char *text = render(&r);
	assert_contains(text, "<p class=\"note\">No probe received a certificate.</p>");
	assert_contains(text, "<li class=\"origins\" data-count=\"0\">");
	assert_int_equal(count(text, "<section class=\"origin "), 0);
	char *err = xmllint(text, NULL);
	assert_string_equal(err, "");
	free(err);
	free(text);
}

/* Thousands of origins: one section each, the same probe object behind all of them. */
static void test_many_origins(void **state)
{
	struct fixture *f = *state;
	enum { MANY = 3000 };
	oa_scan_origin *origins = calloc(MANY, sizeof(*origins));

	assert_non_null(origins);
	for (size_t i = 0; i < MANY; i++) {
		origins[i].config = &f->origins[O_GOOD];
		origins[i].port = 443;
		origins[i].probes = &f->probes[O_GOOD];
		origins[i].n_probes = 1;
	}
	oa_scan_report r = {
	    .config = &f->config, .started_at = STARTED_AT, .origins = origins, .n_origins = MANY};
	fx_report_finish(&r);
	char *text = render(&r);
	assert_int_equal(count(text, "<section class=\"origin s-pass\""), MANY);
	assert_int_equal(count(text, "<g class=\"cert\""), 2 * MANY);
	assert_contains(text, "id=\"origin-2999\"");
	free(text);
	free(origins);
}

/* ---- write errors ---- */

static void test_write_error(void **state)
{
	struct fixture *f = *state;
	FILE *full = fopen("/dev/full", "w");

	if (full == NULL) {
		skip();
	}
	assert_int_equal(oa_scan_write_html(&f->report, full), -EIO);
	fclose(full);
	/* Buffered or not: the error is seen by the time the writer returns. */
	full = fopen("/dev/full", "w");
	assert_non_null(full);
	setvbuf(full, NULL, _IONBF, 0);
	assert_int_equal(oa_scan_write_html(&f->report, full), -EIO);
	fclose(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_and_summary),
	    cmocka_unit_test(test_every_origin_has_its_section),
	    cmocka_unit_test(test_problems_have_detail_and_hint),
	    cmocka_unit_test(test_hostile_strings_are_text),
	    cmocka_unit_test(test_self_contained),
	    cmocka_unit_test(test_well_formed),
	    cmocka_unit_test(test_timeline),
	    cmocka_unit_test(test_timeline_with_different_thresholds),
	    cmocka_unit_test(test_empty_report),
	    cmocka_unit_test(test_many_origins),
	    cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
