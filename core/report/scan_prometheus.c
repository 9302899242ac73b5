/*
 * The scan report in the Prometheus text exposition format 0.0.4, for
 * node_exporter's textfile collector: per probe its verdict, each check's
 * status and the earliest expiry; per scan its duration, time and counts.
 * Samples carry no timestamps (the collector refuses them), and each family's
 * samples are written together after its HELP and TYPE lines.
 */
#include <errno.h>
#include <stdio.h>

#include "originaudit/scan.h"

void oa_scan_prometheus_label(FILE *out, const char *value)
{
	for (const char *s = value; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			fputs("\\\\", out);
			break;
		case '"':
			fputs("\\\"", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		default:
			fputc(*s, out);
			break;
		}
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{origin=...,address=...,port=...,sni=..., the probe's identity. */
static void probe_sample_start(FILE *out, const char *name, const oa_scan_origin *o,
			       const oa_probe_spec *spec)
{
	fprintf(out, "%s{origin=\"", name);
	oa_scan_prometheus_label(out, oa_scan_origin_id(o));
	fputs("\",address=\"", out);
	oa_scan_prometheus_label(out, spec->address);
	fprintf(out, "\",port=\"%u\",sni=\"", spec->port);
	oa_scan_prometheus_label(out, spec->sni);
	fputc('"', out);
}

enum probe_family {
	FAMILY_VERDICT,
	FAMILY_STATUS,
	FAMILY_CHECK,
	FAMILY_NOT_AFTER,
	FAMILY_DAYS_LEFT,
};

static void probe_samples(FILE *out, enum probe_family fam, const oa_scan_origin *o,
			  const oa_probe *probe)
{
	const oa_probe_spec *spec = oa_probe_get_spec(probe);
	const oa_probe_result *r = oa_probe_get_result(probe);
	oa_scan_check_ref checks[OA_SCAN_MAX_CHECKS];
	long long days;
	size_t n;

	switch (fam) {
	case FAMILY_VERDICT:
		probe_sample_start(out, "originaudit_probe_verdict", o, spec);
		fprintf(out, ",verdict=\"%s\"} 1\n", oa_status_name(r->verdict));
		break;
	case FAMILY_STATUS:
		probe_sample_start(out, "originaudit_probe_status", o, spec);
		fprintf(out, "} %d\n", oa_status_metric_value(r->verdict));
		break;
	case FAMILY_CHECK:
		n = oa_scan_probe_checks(r, checks);
		for (size_t i = 0; i < n; i++) {
			probe_sample_start(out, "originaudit_check_status", o, spec);
			fprintf(out, ",check=\"%s\"} %d\n", checks[i].name,
				oa_status_metric_value(checks[i].check->status));
		}
		break;
	case FAMILY_NOT_AFTER:
		if (r->result != NULL && oa_result_earliest_expiry(r->result) != 0) {
			probe_sample_start(out, "originaudit_cert_not_after_seconds", o, spec);
			fprintf(out, "} %lld\n", (long long)oa_result_earliest_expiry(r->result));
		}
		break;
	case FAMILY_DAYS_LEFT:
		if (r->result != NULL && oa_result_days_left(r->result, &days)) {
			probe_sample_start(out, "originaudit_cert_days_left", o, spec);
			fprintf(out, "} %lld\n", days);
		}
		break;
	}
}

static void probe_family(FILE *out, const oa_scan_report *report, enum probe_family fam)
{
	for (size_t i = 0; i < report->n_origins; i++) {
		const oa_scan_origin *o = &report->origins[i];

		for (size_t j = 0; j < o->n_probes; j++) {
			probe_samples(out, fam, o, o->probes[j]);
		}
	}
}

/* The per-probe gauges, in the order they are written. */
static const struct {
	enum probe_family fam;
	const char *name;
	const char *help;
} probe_families[] = {
    {FAMILY_VERDICT, "originaudit_probe_verdict",
     "Verdict of one probe (address, port, SNI) of an origin: 1 for the verdict it got."},
    {FAMILY_STATUS, "originaudit_probe_status",
     "Verdict of one probe as a number: 0 pass, 1 warn, 2 fail, 3 error."},
    {FAMILY_CHECK, "originaudit_check_status",
     "Status of one check of a probe: 0 pass or skip, 1 warn, 2 fail."},
    {FAMILY_NOT_AFTER, "originaudit_cert_not_after_seconds",
     "Earliest notAfter on the probe's certificate path, as a Unix time."},
    {FAMILY_DAYS_LEFT, "originaudit_cert_days_left",
     "Days until the earliest notAfter on the probe's certificate path (negative once "
     "expired)."},
};

int oa_scan_write_prometheus(const oa_scan_report *report, FILE *out)
{
	static const oa_status verdicts[] = {OA_STATUS_PASS, OA_STATUS_WARN, OA_STATUS_FAIL,
					     OA_STATUS_ERROR, OA_STATUS_SKIP};

	for (size_t i = 0; i < sizeof(probe_families) / sizeof(probe_families[0]); i++) {
		family(out, probe_families[i].name, "gauge", probe_families[i].help);
		probe_family(out, report, probe_families[i].fam);
	}
	family(out, "originaudit_scan_duration_seconds", "gauge",
	       "Wall-clock duration of the scan.");
	fprintf(out, "originaudit_scan_duration_seconds %.3f\n", report->duration_s);
	family(out, "originaudit_scan_timestamp_seconds", "gauge",
	       "Unix time at which the scan finished.");
	fprintf(out, "originaudit_scan_timestamp_seconds %lld\n", (long long)report->finished_at);
	family(out, "originaudit_origins", "gauge", "Origins by verdict in the last scan.");
	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		fprintf(out, "originaudit_origins{verdict=\"%s\"} %zu\n",
			oa_status_name(verdicts[i]), report->counts[verdicts[i]]);
	}
	family(out, "originaudit_probes_total", "gauge", "Probes run by the last scan.");
	fprintf(out, "originaudit_probes_total %zu\n", report->n_probes);
	return ferror(out) ? -EIO : 0;
}
