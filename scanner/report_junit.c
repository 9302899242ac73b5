/*
 * The scan report as JUnit XML for CI gates: one testcase per probe, failing
 * ones carry the reason and the fix, warning ones pass with their warnings in
 * system-out. Every string is escaped for XML 1.0, which cannot carry most
 * control characters at all, nor invalid UTF-8: those become U+FFFD so the
 * document stays well-formed whatever a server sent.
 *
 * The shape is the strictest one CI tools read: the JUnit schema of Jenkins'
 * xUnit plugin (junit-10.xsd, in tests/data/junit), which GitLab and Jenkins'
 * junit plugin read as well. In it testsuites carries tests, failures, errors
 * and time but not skipped; the skipped count is on the testsuite.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "originaudit/report.h"
#include "originaudit/version.h"
#include "scan_output.h"

#define REPLACEMENT "\xef\xbf\xbd"
#define NAME_MAX_LEN 600

/*
 * Writes s escaped. In attributes, tab, newline and carriage return are
 * written as character references: parsers would otherwise turn them into
 * spaces. Characters XML 1.0 cannot represent become U+FFFD.
 */
static void xml_write(FILE *out, const char *text, bool attribute)
{
	const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
	const unsigned char *end = s + strlen((const char *)s);

	while (*s != '\0') {
		size_t len = oa_utf8_len(s, (size_t)(end - s));

		if (len == 0) {
			fputs(REPLACEMENT, out);
			s++;
			continue;
		}
		/* U+FFFE and U+FFFF are not XML characters either. */
		if (len == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf)) {
			fputs(REPLACEMENT, out);
			s += len;
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		case '\t':
		case '\n':
		case '\r':
			if (attribute) {
				fprintf(out, "&#%d;", *s);
			} else {
				fputc(*s, out);
			}
			break;
		default:
			if (*s < 0x20) {
				fputs(REPLACEMENT, out);
			} else {
				fwrite(s, 1, len, out);
			}
			break;
		}
		s += len;
	}
}

/* name="value" with a leading space. */
static void attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_write(out, value, true);
	fputc('"', out);
}

struct totals {
	size_t tests;
	size_t failures;
	size_t errors;
	size_t skipped;
};

static void count(const oa_scan_report *report, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < report->n_origins; i++) {
		const oa_scan_origin *o = &report->origins[i];

		if (o->skipped != NULL) {
			t->tests++;
			t->skipped++;
			continue;
		}
		for (size_t j = 0; j < o->n_probes; j++) {
			oa_status verdict = oa_probe_get_result(o->probes[j])->verdict;

			t->tests++;
			t->failures += verdict == OA_STATUS_FAIL;
			t->errors += verdict == OA_STATUS_ERROR;
		}
	}
}

/*
 * time="seconds": the schema's SUREFIRE_TIME admits digits and a fraction
 * only, so no sign, exponent, inf or nan.
 */
static void time_attr(FILE *out, double seconds)
{
	if (!isfinite(seconds) || seconds < 0) {
		seconds = 0;
	}
	fprintf(out, " time=\"%.3f\"", seconds);
}

/* The counts; skipped only where the schema allows it (testsuite, not testsuites). */
static void totals_attrs(FILE *out, const struct totals *t, bool with_skipped, double time_s)
{
	fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\"", t->tests, t->failures,
		t->errors);
	if (with_skipped) {
		fprintf(out, " skipped=\"%zu\"", t->skipped);
	}
	time_attr(out, time_s);
}

/* Every failing or warning check, with its detail and hint, as element text. */
static void problems_text(FILE *out, const oa_scan_check_ref *checks, size_t n, oa_status min)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		const oa_check *c = checks[i].check;

		if (c->status < min) {
			continue;
		}
		fprintf(out, "%s%s ", first ? "" : "\n", oa_status_name(c->status));
		xml_write(out, checks[i].name, false);
		fputs(": ", out);
		xml_write(out, c->reason, false);
		fputs(": ", out);
		xml_write(out, checks[i].detail, false);
		if (checks[i].hint[0] != '\0') {
			fputs("\nhint: ", out);
			xml_write(out, checks[i].hint, false);
		}
		first = false;
	}
}

static void probe_case(FILE *out, const oa_scan_origin *o, const oa_probe *probe)
{
	const oa_probe_spec *spec = oa_probe_get_spec(probe);
	const oa_probe_result *r = oa_probe_get_result(probe);
	oa_scan_check_ref checks[OA_SCAN_MAX_CHECKS];
	size_t n = oa_scan_probe_checks(r, checks);
	int problem = oa_scan_first_problem(checks, n);
	char endpoint[NAME_MAX_LEN];
	char name[NAME_MAX_LEN + 300];
	char message[128];
	const char *hint;

	oa_scan_endpoint(o, spec, endpoint, sizeof(endpoint));
	if (spec->kind == OA_PROBE_HTTP) {
		snprintf(name, sizeof(name), "%s http", endpoint);
	} else {
		snprintf(name, sizeof(name), "%s sni=%s", endpoint, spec->sni ? spec->sni : "");
	}
	fputs("    <testcase", out);
	fprintf(out, " classname=\"origin.");
	xml_write(out, oa_scan_origin_id(o), true);
	fputc('"', out);
	attr(out, "name", name);
	time_attr(out, r->duration_ms / 1000.0);
	if (r->verdict == OA_STATUS_PASS || r->verdict == OA_STATUS_SKIP ||
	    (r->verdict == OA_STATUS_WARN && problem < 0)) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	switch (r->verdict) {
	case OA_STATUS_ERROR:
		fputs("      <error", out);
		attr(out, "message", r->error);
		attr(out, "type", r->error);
		fputc('>', out);
		xml_write(out, r->error_detail, false);
		hint = oa_scan_origin_error_hint(o, r->error);
		if (hint[0] != '\0') {
			fputs("\nhint: ", out);
			xml_write(out, hint, false);
		}
		fputs("</error>\n", out);
		break;
	case OA_STATUS_FAIL:
		if (problem >= 0) {
			snprintf(message, sizeof(message), "%s: %s", checks[problem].name,
				 checks[problem].check->reason);
		} else {
			snprintf(message, sizeof(message), "fail");
		}
		fputs("      <failure", out);
		attr(out, "message", message);
		attr(out, "type", problem >= 0 ? checks[problem].check->reason : "fail");
		fputc('>', out);
		problems_text(out, checks, n, OA_STATUS_WARN);
		fputs("</failure>\n", out);
		break;
	default:
		/* A warning passes the gate; CI shows it in the test's output. */
		fputs("      <system-out>", out);
		problems_text(out, checks, n, OA_STATUS_WARN);
		fputs("</system-out>\n", out);
		break;
	}
	fputs("    </testcase>\n", out);
}

static void skipped_case(FILE *out, const oa_scan_origin *o)
{
	fputs("    <testcase classname=\"origin.", out);
	xml_write(out, oa_scan_origin_id(o), true);
	fputc('"', out);
	attr(out, "name", o->config->domain_name);
	fputs(" time=\"0.000\">\n      <skipped", out);
	if (o->config->unresolved != NULL) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", o->skipped, o->config->unresolved);
		attr(out, "message", msg);
	} else {
		attr(out, "message", o->skipped);
	}
	fputs("/>\n    </testcase>\n", out);
}

int scan_write_junit(const oa_scan_report *report, FILE *out)
{
	struct totals t;
	char when[32];

	count(report, &t);
	oa_format_time(report->started_at, when);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"originaudit\"", out);
	totals_attrs(out, &t, false, report->duration_s);
	fputs(">\n  <testsuite name=\"originaudit scan\"", out);
	totals_attrs(out, &t, true, report->duration_s);
	attr(out, "timestamp", when);
	fputs(">\n    <properties>\n      <property name=\"originaudit.version\"", out);
	attr(out, "value", oa_version());
	fputs("/>\n", out);
	if (report->store != NULL) {
		fputs("      <property name=\"ca_bundle\"", out);
		attr(out, "value", oa_trust_store_path(report->store));
		fputs("/>\n      <property name=\"ca_bundle.sha256\"", out);
		attr(out, "value", oa_trust_store_sha256(report->store));
		fputs("/>\n", out);
	}
	fputs("    </properties>\n", out);
	for (size_t i = 0; i < report->n_origins; i++) {
		const oa_scan_origin *o = &report->origins[i];

		if (o->skipped != NULL) {
			skipped_case(out, o);
			continue;
		}
		for (size_t j = 0; j < o->n_probes; j++) {
			probe_case(out, o, o->probes[j]);
		}
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	return ferror(out) ? -EIO : 0;
}
