/*
 * The scan report for people: one line per probe with what explains its
 * verdict, the detail and the fix under every problem, and a summary.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "originaudit/report.h"
#include "originaudit/version.h"
#include "scan_output.h"
#include "term.h"

#define ENDPOINT_MAX 300
#define SNI_MAX 300
#define MESSAGE_MAX 160
/* Continuation lines start under the origin id (the tag column is 5 wide plus a space). */
#define INDENT "      "

struct layout {
	const term_palette *p;
	int id_width;
	int endpoint_width;
	int sni_width;
};

/* The tag padded to five columns; the colour codes do not count toward the width. */
static void print_tag(FILE *out, const term_palette *p, oa_status status)
{
	const char *tag = term_status_tag(status);

	fprintf(out, "%s%s%s%*s ", term_status_colour(p, status), tag, p->reset,
		5 - (int)strlen(tag), "");
}

static void sni_column(const oa_probe_spec *spec, char *buf, size_t size)
{
	if (spec->kind == OA_PROBE_HTTP) {
		snprintf(buf, size, "http");
	} else {
		snprintf(buf, size, "sni=%s", spec->sni != NULL ? spec->sni : "");
	}
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static void measure(const oa_scan_report *report, struct layout *l)
{
	char buf[SNI_MAX];

	for (size_t i = 0; i < report->n_origins; i++) {
		const oa_scan_origin *o = &report->origins[i];

		if (o->skipped != NULL) {
			continue;
		}
		l->id_width = max_int(l->id_width, (int)strlen(oa_scan_origin_id(o)));
		for (size_t j = 0; j < o->n_probes; j++) {
			const oa_probe_spec *spec = oa_probe_get_spec(o->probes[j]);

			oa_scan_endpoint(o, spec, buf, sizeof(buf));
			l->endpoint_width = max_int(l->endpoint_width, (int)strlen(buf));
			sni_column(spec, buf, sizeof(buf));
			l->sni_width = max_int(l->sni_width, (int)strlen(buf));
		}
	}
}

/* What the probe line ends with: the explaining check, the error, or what passed. */
static void probe_message(const oa_probe_result *r, const oa_scan_check_ref *checks, size_t n,
			  int problem, char *buf, size_t size)
{
	long long days;

	if (r->verdict == OA_STATUS_ERROR) {
		snprintf(buf, size, "%s", r->error);
	} else if (problem >= 0) {
		snprintf(buf, size, "%s: %s", checks[problem].name, checks[problem].check->reason);
	} else if (r->result != NULL && oa_result_days_left(r->result, &days)) {
		snprintf(buf, size, "%s, %lld days left", r->tls_version, days);
	} else if (r->tls_version[0] != '\0') {
		snprintf(buf, size, "%s", r->tls_version);
	} else if (n > 0) {
		snprintf(buf, size, "%s: %s", checks[0].name, checks[0].check->reason);
	} else {
		buf[0] = '\0';
	}
}

static void print_hint(FILE *out, const term_palette *p, const char *hint)
{
	if (hint[0] != '\0') {
		fprintf(out, INDENT "%shint: %s%s\n", p->dim, hint, p->reset);
	}
}

/* Under a problem line: the explaining check first, then every other failing or warning one. */
static void print_problems(FILE *out, const term_palette *p, const oa_scan_origin *o,
			   const oa_probe_result *r, const oa_scan_check_ref *checks, size_t n,
			   int problem)
{
	if (r->verdict == OA_STATUS_ERROR) {
		if (r->error_detail[0] != '\0') {
			fprintf(out, INDENT "%s\n", r->error_detail);
		}
		print_hint(out, p, oa_scan_origin_error_hint(o, r->error));
		return;
	}
	if (problem < 0) {
		return;
	}
	fprintf(out, INDENT "%s\n", checks[problem].detail);
	print_hint(out, p, checks[problem].hint);
	for (size_t i = 0; i < n; i++) {
		const oa_check *c = checks[i].check;

		if ((int)i == problem || c->status < OA_STATUS_WARN) {
			continue;
		}
		fprintf(out, INDENT "%s%s%s %s: %s: %s\n", term_status_colour(p, c->status),
			term_status_tag(c->status), p->reset, checks[i].name, c->reason,
			checks[i].detail);
		print_hint(out, p, checks[i].hint);
	}
}

static void print_probe(FILE *out, const struct layout *l, const oa_scan_origin *o,
			const oa_probe *probe)
{
	const oa_probe_spec *spec = oa_probe_get_spec(probe);
	const oa_probe_result *r = oa_probe_get_result(probe);
	oa_scan_check_ref checks[OA_SCAN_MAX_CHECKS];
	size_t n = oa_scan_probe_checks(r, checks);
	int problem = oa_scan_first_problem(checks, n);
	char endpoint[ENDPOINT_MAX];
	char sni[SNI_MAX];
	char message[MESSAGE_MAX];

	oa_scan_endpoint(o, spec, endpoint, sizeof(endpoint));
	sni_column(spec, sni, sizeof(sni));
	probe_message(r, checks, n, problem, message, sizeof(message));
	print_tag(out, l->p, r->verdict);
	fprintf(out, "%-*s  %-*s  %-*s  %s\n", l->id_width, oa_scan_origin_id(o), l->endpoint_width,
		endpoint, l->sni_width, sni, message);
	if (r->verdict >= OA_STATUS_WARN) {
		print_problems(out, l->p, o, r, checks, n, problem);
	}
}

static void print_header(FILE *out, const oa_scan_report *report)
{
	char when[32];

	oa_format_time(report->started_at, when);
	fprintf(out, "originaudit %s scan at %s: %zu origin%s, %zu probe%s in %.2f s; ",
		oa_version(), when, report->n_origins, report->n_origins == 1 ? "" : "s",
		report->n_probes, report->n_probes == 1 ? "" : "s", report->duration_s);
	if (report->store != NULL) {
		size_t n = oa_trust_store_count(report->store);

		fprintf(out, "CA bundle %s (%zu certificate%s)\n",
			oa_trust_store_path(report->store), n, n == 1 ? "" : "s");
	} else {
		fprintf(out, "no CA bundle\n");
	}
}

int scan_write_text(const oa_scan_report *report, FILE *out, bool colour)
{
	struct layout l = {term_palette_get(colour), 0, 0, 0};

	print_header(out, report);
	measure(report, &l);
	for (size_t i = 0; i < report->n_origins; i++) {
		const oa_scan_origin *o = &report->origins[i];

		if (o->skipped != NULL) {
			print_tag(out, l.p, OA_STATUS_SKIP);
			if (o->config->unresolved != NULL) {
				fprintf(out, "%s (%s: %s)\n", oa_scan_origin_id(o), o->skipped,
					o->config->unresolved);
			} else {
				fprintf(out, "%s (%s)\n", oa_scan_origin_id(o), o->skipped);
			}
			continue;
		}
		if (o->n_probes == 0) {
			print_tag(out, l.p, o->verdict);
			fprintf(out, "%s (no probes)\n", oa_scan_origin_id(o));
			continue;
		}
		for (size_t j = 0; j < o->n_probes; j++) {
			print_probe(out, &l, o, o->probes[j]);
		}
		if (o->config->vpc) {
			fprintf(out,
				INDENT "%s is VPC origin %s: its name resolves only inside its "
				       "VPC, scan from there\n",
				oa_scan_origin_id(o),
				o->config->vpc_origin_id != NULL ? o->config->vpc_origin_id : "?");
		}
	}
	fprintf(out, "summary: %zu origin%s: %zu pass, %zu warn, %zu fail, %zu error",
		report->n_origins, report->n_origins == 1 ? "" : "s",
		report->counts[OA_STATUS_PASS], report->counts[OA_STATUS_WARN],
		report->counts[OA_STATUS_FAIL], report->counts[OA_STATUS_ERROR]);
	if (report->counts[OA_STATUS_SKIP] > 0) {
		fprintf(out, ", %zu skipped", report->counts[OA_STATUS_SKIP]);
	}
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
