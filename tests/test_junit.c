/*
 * The JUnit report against the strictest reader CI has: the JUnit schema of
 * Jenkins' xUnit plugin (tests/data/junit/junit-10.xsd), checked with
 * `xmllint --schema` for reports with passing, warning, failing and erroring
 * probes, skipped origins (S3, unresolved), hostile names and details
 * (certificate fields included), and an empty scan. Each document is also
 * read back with XPath the way GitLab and Jenkins' junit plugin read it:
 * testsuites > testsuite > testcase, failure/error/skipped with a message,
 * warnings passing with their text in system-out, counts that agree with the
 * report.
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

#include <cmocka.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/scan.h"
#include "originaudit/testorigin.h"
#include "originaudit/trust.h"
#include "report_parse.h"
#include "scan_output.h"

#define HOST "origin.example.com"
/* 2026-01-02T03:04:05Z. */
#define STARTED_AT ((time_t)1767323045)
#define TIMEOUT_MS 5000
#define DAY 86400
#define FFFD "\xef\xbf\xbd"

/* Certificate subject CNs and a probe error detail a hostile server could make us print. */
#define WARN_CN "warn <b> & \"q\" ]]> \x01\x1b end"
/* GnuTLS gives the CN with RFC 4514 escapes (backslashes); the controls become U+FFFD. */
#define WARN_CN_XML "warn \\&lt;b\\&gt; &amp; \\&quot;q\\&quot; ]]\\&gt; " FFFD FFFD " end"
#define WARN_CN_TEXT "warn \\<b\\> & \\\"q\\\" ]]\\> " FFFD FFFD " end"
#define FAIL_CN "fail <i>&amp; ]]>\x7f\x02"
/* DEL is an XML 1.0 character; the C0 control is not. */
#define FAIL_CN_TEXT "fail \\<i\\>&amp\\; ]]\\>\x7f" FFFD
#define ERROR_ID "err<&>\"']]>\x03"
#define ERROR_DETAIL "refused <x> & \"y\" ]]> \x01\xff\xfe bad utf8\ttab\nline"
#define ERROR_DETAIL_TEXT "refused <x> & \"y\" ]]> " FFFD FFFD FFFD " bad utf8\ttab\nline"
#define UNRESOLVED "Resources.Cdn.Origins[0].DomainName: !GetAtt <Lb>.DNSName & \"x\" ]]>"

enum {
	O_PASS,
	O_WARN,
	O_HTTP,
	O_FAIL,
	O_ERROR,
	O_S3,
	O_UNRESOLVED,
	N_ORIGINS,
};

/* One origin per kind of testcase; reports are built from any subset of them. */
struct fixture {
	char *dir;
	char *xmllint;
	char *schema;
	fx_pki pki;
	oa_pki_cert *warn_leaf;
	oa_pki_cert *fail_leaf;
	oa_trust_store *store;
	uv_loop_t loop;
	oa_test_origin *servers[4];
	size_t n_servers;
	int pending;
	oa_origin_config origins[N_ORIGINS];
	oa_probe *probes[N_ORIGINS];
};

/* A report over some of the fixture's origins. */
struct report {
	oa_config config;
	oa_scan_origin origins[N_ORIGINS];
	oa_scan_report r;
};

static void on_probe_done(oa_probe *probe, void *data)
{
	struct fixture *f = data;

	(void)probe;
	f->pending--;
}

/* Starts a test origin serving chain (TLS) or plain HTTP (chain NULL); returns its port. */
static unsigned start_server(struct fixture *f, const oa_pki_cert *const *chain, size_t n)
{
	return fx_test_origin_start(&f->loop, &f->servers[f->n_servers++],
				    chain != NULL ? OA_TEST_ORIGIN_TLS : OA_TEST_ORIGIN_HTTP, chain,
				    n);
}

/* An HTTPS probe of origin against a server sending leaf and the intermediate. */
static void probe_tls(struct fixture *f, size_t origin, const oa_pki_cert *leaf)
{
	static const char *const names[] = {HOST};
	const oa_pki_cert *chain[] = {leaf, f->pki.inter};
	unsigned port = start_server(f, chain, 2);
	oa_probe_spec spec;

	f->origins[origin].https_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", port, HOST, names, TIMEOUT_MS);
	assert_int_equal(
	    oa_probe_start(&f->loop, &spec, f->store, on_probe_done, f, &f->probes[origin]), 0);
	f->pending++;
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *data = getenv("OA_TEST_DATA");
	oa_probe_spec spec;
	oa_error err;

	assert_non_null(f);
	assert_non_null(data);
	f->xmllint = fx_find_tool("xmllint");
	f->schema = fx_path(data, "junit/junit-10.xsd");
	f->dir = fx_tempdir();
	fx_pki_make(&f->pki);
	char *bundle = fx_bundle_file(f->dir, "roots.pem", f->pki.root);
	if (oa_trust_store_load(bundle, &f->store, &err) < 0) {
		fail_msg("trust store: %s", err.msg);
	}
	free(bundle);
	assert_int_equal(uv_loop_init(&f->loop), 0);

	fx_origin_init(&f->origins[O_PASS], "pass", HOST, OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_WARN], "warn", HOST, OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_HTTP], "web", "web.example.com", OA_ORIGIN_HTTP_ONLY);
	fx_origin_init(&f->origins[O_FAIL], "fail", HOST, OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_ERROR], ERROR_ID, "refused.example.com", OA_ORIGIN_HTTPS_ONLY);
	fx_origin_init(&f->origins[O_S3], "static", "bucket<&>.s3.amazonaws.com",
		       OA_ORIGIN_HTTPS_ONLY);
	f->origins[O_S3].s3 = true;
	fx_origin_init(&f->origins[O_UNRESOLVED], "lb", "!GetAtt <Lb>.DNSName",
		       OA_ORIGIN_HTTPS_ONLY);
	f->origins[O_UNRESOLVED].unresolved = (char *)UNRESOLVED;
	f->origins[O_UNRESOLVED].unresolved_reason = "unresolved_value";

	probe_tls(f, O_PASS, f->pki.leaf);
	/* Expiring in 20 days (warn at 30, critical at 7), its CN hostile. */
	oa_pki_spec warn = fx_leaf_spec(WARN_CN, HOST, 20);
	f->warn_leaf = fx_issue(&warn, f->pki.inter);
	probe_tls(f, O_WARN, f->warn_leaf);
	/* No SAN and a hostile CN that does not match: name_mismatch quotes the CN. */
	oa_pki_spec fail = fx_leaf_spec(FAIL_CN, NULL, 90);
	f->fail_leaf = fx_issue(&fail, f->pki.inter);
	probe_tls(f, O_FAIL, f->fail_leaf);

	unsigned port = start_server(f, NULL, 0);
	f->origins[O_HTTP].http_port = port;
	fx_probe_spec_init(&spec, OA_PROBE_HTTP, "127.0.0.1", port, NULL, NULL, TIMEOUT_MS);
	spec.http_only = true;
	assert_int_equal(
	    oa_probe_start(&f->loop, &spec, f->store, on_probe_done, f, &f->probes[O_HTTP]), 0);
	f->pending++;

	f->origins[O_ERROR].https_port = 1;
	fx_probe_spec_init(&spec, OA_PROBE_HTTPS, "127.0.0.1", 1, "refused.example.com", NULL,
			   TIMEOUT_MS);
	assert_int_equal(
	    oa_probe_new_failed(&spec, "connection_refused", ERROR_DETAIL, &f->probes[O_ERROR]), 0);

	while (f->pending > 0) {
		uv_run(&f->loop, UV_RUN_ONCE);
	}
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
	oa_pki_cert_destroy(f->warn_leaf);
	oa_pki_cert_destroy(f->fail_leaf);
	fx_pki_free(&f->pki);
	fx_tempdir_remove(f->dir);
	free(f->schema);
	free(f->xmllint);
	free(f);
	return 0;
}

/* A report over the listed origins (-1 ends the list), verdicts as the scan engine sets them. */
static void report_make(struct fixture *f, struct report *rep, ...)
{
	va_list ap;
	int i;

	memset(rep, 0, sizeof(*rep));
	rep->config.origins = f->origins;
	rep->config.n_origins = N_ORIGINS;
	rep->r.config = &rep->config;
	rep->r.store = f->store;
	rep->r.started_at = STARTED_AT;
	rep->r.finished_at = STARTED_AT + 2;
	rep->r.duration_s = 1.25;
	rep->r.origins = rep->origins;
	rep->r.verdict = OA_STATUS_PASS;
	va_start(ap, rep);
	while ((i = va_arg(ap, int)) >= 0) {
		oa_scan_origin *so = &rep->origins[rep->r.n_origins++];
		const oa_origin_config *o = &f->origins[i];

		so->config = o;
		so->port = o->protocol_policy == OA_ORIGIN_HTTP_ONLY ? o->http_port : o->https_port;
		if (o->s3 || o->unresolved != NULL) {
			so->skipped = o->s3 ? "s3_origin" : o->unresolved_reason;
			so->verdict = OA_STATUS_SKIP;
			rep->r.counts[OA_STATUS_SKIP]++;
			continue;
		}
		so->probes = &f->probes[i];
		so->n_probes = 1;
		so->verdict = oa_probe_get_result(f->probes[i])->verdict;
		rep->r.n_probes++;
		rep->r.counts[so->verdict]++;
		rep->r.verdict = oa_status_worst(rep->r.verdict, so->verdict);
	}
	va_end(ap);
}

static char *render(const oa_scan_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(scan_write_junit(r, out), 0);
	assert_int_equal(fclose(out), 0);
	return buf;
}

/* A JUnit document written to a file, for xmllint. */
struct doc {
	struct fixture *f;
	char *text;
	char *path;
};

static void require_xmllint(const struct fixture *f)
{
	if (f->xmllint == NULL) {
		fail_msg("xmllint not found: run scripts/install-deps (it installs libxml2-utils)");
	}
}

/* Renders r, checks it is well-formed XML and valid against junit-10.xsd. */
static void doc_make(struct doc *d, struct fixture *f, const oa_scan_report *r)
{
	static unsigned serial;
	char name[32];
	rp_xml_summary sum;

	require_xmllint(f);
	d->f = f;
	d->text = render(r);
	rp_check_xml(d->text, &sum);
	snprintf(name, sizeof(name), "report-%u.xml", serial++);
	d->path = fx_path(f->dir, name);
	fx_write(d->path, d->text, strlen(d->text));

	char *argv[] = {f->xmllint, "--noout", "--schema", f->schema, d->path, NULL};
	char *out = NULL;
	char *err = NULL;
	int rc = fx_run(argv, &out, &err, 30);

	if (rc != 0) {
		fail_msg("xmllint --schema junit-10.xsd: exit %d: %s\n%s", rc, err, d->text);
	}
	if (strstr(err, " validates") == NULL) {
		fail_msg("xmllint --schema: %s", err);
	}
	free(out);
	free(err);
}

static void doc_free(struct doc *d)
{
	free(d->text);
	free(d->path);
}

/* The value of an XPath expression over the document, as xmllint prints it (malloc'd). */
static char *xpath(const struct doc *d, const char *fmt, ...)
{
	char expr[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);

	char *argv[] = {d->f->xmllint, "--xpath", expr, d->path, NULL};
	char *out = NULL;
	char *err = NULL;
	int rc = fx_run(argv, &out, &err, 30);

	if (rc != 0) {
		fail_msg("xmllint --xpath %s: exit %d: %s", expr, rc, err);
	}
	free(err);
	/* xmllint ends a string or number with one newline. */
	size_t len = strlen(out);
	if (len > 0 && out[len - 1] == '\n') {
		out[len - 1] = '\0';
	}
	return out;
}

static long xpath_long(const struct doc *d, const char *expr)
{
	char *s = xpath(d, "%s", expr);
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0') {
		fail_msg("xmllint --xpath %s: not a number: '%s'", expr, s);
	}
	free(s);
	return v;
}

static void assert_xpath_string(const struct doc *d, const char *expr, const char *want)
{
	char *got = xpath(d, "%s", expr);

	if (strcmp(got, want) != 0) {
		fail_msg("%s: got '%s', want '%s'", expr, got, want);
	}
	free(got);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (haystack == NULL || strstr(haystack, needle) == NULL) {
		fail_msg("'%s' not found in:\n%s", needle, haystack != NULL ? haystack : "(null)");
	}
}

struct counts {
	long tests;
	long failures;
	long errors;
	long skipped;
};

/* What the report holds, counted from its probes and origins. */
static struct counts report_counts(const oa_scan_report *r)
{
	struct counts c = {0, 0, 0, 0};

	for (size_t i = 0; i < r->n_origins; i++) {
		const oa_scan_origin *o = &r->origins[i];

		if (o->skipped != NULL) {
			c.tests++;
			c.skipped++;
			continue;
		}
		for (size_t j = 0; j < o->n_probes; j++) {
			oa_status v = oa_probe_get_result(o->probes[j])->verdict;

			c.tests++;
			c.failures += v == OA_STATUS_FAIL;
			c.errors += v == OA_STATUS_ERROR;
		}
	}
	return c;
}

/*
 * The counts the document states (on testsuites and on its one testsuite)
 * agree with its elements and with the report; testsuites carries no
 * skipped, which the schema forbids.
 */
static void assert_counts(const struct doc *d, const oa_scan_report *r, struct counts want)
{
	struct counts has = report_counts(r);

	assert_int_equal(has.tests, want.tests);
	assert_int_equal(has.failures, want.failures);
	assert_int_equal(has.errors, want.errors);
	assert_int_equal(has.skipped, want.skipped);
	assert_int_equal(xpath_long(d, "count(/testsuites)"), 1);
	assert_int_equal(xpath_long(d, "count(/testsuites/testsuite)"), 1);
	assert_int_equal(xpath_long(d, "count(/testsuites/@skipped)"), 0);
	assert_int_equal(xpath_long(d, "string(/testsuites/@tests)"), want.tests);
	assert_int_equal(xpath_long(d, "string(/testsuites/@failures)"), want.failures);
	assert_int_equal(xpath_long(d, "string(/testsuites/@errors)"), want.errors);
	assert_int_equal(xpath_long(d, "string(/testsuites/testsuite/@tests)"), want.tests);
	assert_int_equal(xpath_long(d, "string(/testsuites/testsuite/@failures)"), want.failures);
	assert_int_equal(xpath_long(d, "string(/testsuites/testsuite/@errors)"), want.errors);
	assert_int_equal(xpath_long(d, "string(/testsuites/testsuite/@skipped)"), want.skipped);
	assert_int_equal(xpath_long(d, "count(/testsuites/testsuite/testcase)"), want.tests);
	assert_int_equal(xpath_long(d, "count(//testcase[failure])"), want.failures);
	assert_int_equal(xpath_long(d, "count(//testcase[error])"), want.errors);
	assert_int_equal(xpath_long(d, "count(//testcase[skipped])"), want.skipped);
	/* One outcome per testcase, each with the attributes GitLab and Jenkins read. */
	assert_int_equal(xpath_long(d, "count(//testcase[count(failure|error|skipped) > 1])"), 0);
	assert_int_equal(xpath_long(d, "count(//testcase[not(@classname) or not(@name) or "
				       "not(@time)])"),
			 0);
	assert_int_equal(xpath_long(d, "count((//failure|//error|//skipped)[not(@message)])"), 0);
}

/* ---- one kind of testcase per report ---- */

static void test_pass(void **state)
{
	struct fixture *f = *state;
	struct report rep;
	struct doc d;

	report_make(f, &rep, O_PASS, -1);
	assert_int_equal(oa_probe_get_result(f->probes[O_PASS])->verdict, OA_STATUS_PASS);
	doc_make(&d, f, &rep.r);
	assert_counts(&d, &rep.r, (struct counts){1, 0, 0, 0});
	assert_int_equal(xpath_long(&d, "count(//testcase[@classname='origin.pass']/*)"), 0);
	assert_xpath_string(&d, "string(/testsuites/@time)", "1.250");
	assert_xpath_string(&d, "string(/testsuites/testsuite/@timestamp)", "2026-01-02T03:04:05Z");
	doc_free(&d);
}

/* A warning passes the gate (no failure, error or skipped) and shows in system-out. */
static void test_warn(void **state)
{
	struct fixture *f = *state;
	struct report rep;
	struct doc d;

	report_make(f, &rep, O_WARN, O_HTTP, -1);
	assert_int_equal(oa_probe_get_result(f->probes[O_WARN])->verdict, OA_STATUS_WARN);
	assert_int_equal(oa_probe_get_result(f->probes[O_HTTP])->verdict, OA_STATUS_WARN);
	doc_make(&d, f, &rep.r);
	assert_counts(&d, &rep.r, (struct counts){2, 0, 0, 0});
	assert_int_equal(xpath_long(&d, "count(//testcase[system-out])"), 2);

	/* Check name, reason, detail (the hostile CN, escaped) and hint. */
	char *out = xpath(&d, "string(//testcase[@classname='origin.warn']/system-out)");
	assert_contains(out, "warn expiry: expiring_soon: the leaf '" WARN_CN_TEXT "' expires on ");
	assert_contains(out, " days\nhint: Renew the certificate before it expires");
	free(out);
	assert_contains(d.text,
			"<system-out>warn expiry: expiring_soon: the leaf &apos;" WARN_CN_XML);

	out = xpath(&d, "string(//testcase[@classname='origin.web']/system-out)");
	assert_contains(out, "warn http: http_only: ");
	assert_contains(out, "\nhint: ");
	free(out);
	doc_free(&d);
}

static void test_fail(void **state)
{
	struct fixture *f = *state;
	struct report rep;
	struct doc d;

	report_make(f, &rep, O_FAIL, -1);
	assert_int_equal(oa_probe_get_result(f->probes[O_FAIL])->verdict, OA_STATUS_FAIL);
	doc_make(&d, f, &rep.r);
	assert_counts(&d, &rep.r, (struct counts){1, 1, 0, 0});
	assert_xpath_string(&d, "string(//testcase/failure/@message)", "name: name_mismatch");
	assert_xpath_string(&d, "string(//testcase/failure/@type)", "name_mismatch");
	char *text = xpath(&d, "string(//testcase/failure)");
	assert_contains(text, "fail name: name_mismatch: no certificate name matches " HOST
			      "; the leaf covers: CN " FAIL_CN_TEXT "\nhint: ");
	free(text);
	doc_free(&d);
}

static void test_error(void **state)
{
	struct fixture *f = *state;
	struct report rep;
	struct doc d;

	report_make(f, &rep, O_ERROR, -1);
	doc_make(&d, f, &rep.r);
	assert_counts(&d, &rep.r, (struct counts){1, 0, 1, 0});
	assert_xpath_string(&d, "string(//testcase/error/@message)", "connection_refused");
	assert_xpath_string(&d, "string(//testcase/error/@type)", "connection_refused");
	char *text = xpath(&d, "string(//testcase/error)");
	assert_contains(text, ERROR_DETAIL_TEXT "\nhint: Nothing accepts connections");
	free(text);
	doc_free(&d);
}

static void test_skipped(void **state)
{
	struct fixture *f = *state;
	struct report rep;
	struct doc d;

	report_make(f, &rep, O_S3, O_UNRESOLVED, -1);
	doc_make(&d, f, &rep.r);
	assert_counts(&d, &rep.r, (struct counts){2, 0, 0, 2});
	assert_xpath_string(&d, "string(//testcase[@classname='origin.static']/@name)",
			    "bucket<&>.s3.amazonaws.com");
	assert_xpath_string(&d, "string(//testcase[@classname='origin.static']/skipped/@message)",
			    "s3_origin");
	assert_xpath_string(&d, "string(//testcase[@classname='origin.lb']/skipped/@message)",
			    "unresolved_value: " UNRESOLVED);
	assert_xpath_string(&d, "string(//testcase[@classname='origin.lb']/@name)",
			    "!GetAtt <Lb>.DNSName");
	assert_contains(d.text, "<skipped message=\"s3_origin\"/>");
	doc_free(&d);
}

/* No origin at all: the writer does not refuse it, and the document is still valid. */
static void test_empty(void **state)
{
	struct fixture *f = *state;
	struct report rep;
	struct doc d;

	report_make(f, &rep, -1);
	rep.r.store = NULL;
	rep.r.duration_s = 0;
	doc_make(&d, f, &rep.r);
	assert_counts(&d, &rep.r, (struct counts){0, 0, 0, 0});
	assert_xpath_string(&d, "string(/testsuites/@time)", "0.000");
	assert_int_equal(xpath_long(&d, "count(//property)"), 1);
	doc_free(&d);
}

/* ---- every kind at once ---- */

static void test_all_kinds(void **state)
{
	struct fixture *f = *state;
	struct report rep;
	struct doc d;

	report_make(f, &rep, O_PASS, O_WARN, O_HTTP, O_FAIL, O_ERROR, O_S3, O_UNRESOLVED, -1);
	doc_make(&d, f, &rep.r);
	assert_counts(&d, &rep.r, (struct counts){7, 1, 1, 2});
	/* Warnings are not failures: only the failing and erroring probes fail the suite. */
	assert_int_equal(xpath_long(&d, "count(//testcase[system-out][failure or error])"), 0);
	assert_int_equal(xpath_long(&d, "count(//testcase[@classname='origin.warn' or "
					"@classname='origin.web'][not(failure|error|skipped)]"
					"[contains(system-out, 'warn ')])"),
			 2);
	/* The hostile origin id round-trips through classname (its control character as U+FFFD). */
	assert_xpath_string(&d, "string(//testcase[error]/@classname)", "origin.err<&>\"']]>" FFFD);
	assert_contains(d.text, "classname=\"origin.err&lt;&amp;&gt;&quot;&apos;]]&gt;" FFFD "\"");
	/* Properties: the version, the trust store. */
	assert_int_equal(xpath_long(&d, "count(/testsuites/testsuite/properties/property)"), 3);
	assert_int_equal(xpath_long(&d, "count(//property[@name='ca_bundle.sha256'])"), 1);
	doc_free(&d);
}

/* A document the schema refuses is caught: the test's own check is not a no-op. */
static void test_schema_refuses_skipped_on_testsuites(void **state)
{
	struct fixture *f = *state;

	require_xmllint(f);
	char *path = fx_path(f->dir, "old-shape.xml");
	static const char old[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites name=\"originaudit\" tests=\"1\" failures=\"0\" errors=\"0\" "
	    "skipped=\"1\" time=\"0.000\">\n"
	    "  <testsuite name=\"originaudit scan\" tests=\"1\" failures=\"0\" errors=\"0\" "
	    "skipped=\"1\" time=\"0.000\">\n"
	    "    <testcase classname=\"origin.s3\" name=\"b\" time=\"0.000\">\n"
	    "      <skipped message=\"s3_origin\"/>\n    </testcase>\n  </testsuite>\n"
	    "</testsuites>\n";
	char *argv[] = {f->xmllint, "--noout", "--schema", f->schema, path, NULL};
	char *err = NULL;

	fx_write(path, old, strlen(old));
	assert_int_not_equal(fx_run(argv, NULL, &err, 30), 0);
	assert_contains(err, "attribute 'skipped': The attribute 'skipped' is not allowed");
	free(err);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_schema_refuses_skipped_on_testsuites),
	    cmocka_unit_test(test_pass),
	    cmocka_unit_test(test_warn),
	    cmocka_unit_test(test_fail),
	    cmocka_unit_test(test_error),
	    cmocka_unit_test(test_skipped),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_all_kinds),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
