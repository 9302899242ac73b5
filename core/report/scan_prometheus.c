/*
 * The scan report in the Prometheus text exposition format 0.0.4, for
 * node_exporter's textfile collector (docs/metrics.md lists every family).
 * Per probe: success, verdict, status, each check's status, the negotiated
 * TLS version, and per certificate of the chain as sent its validity bounds
 * labelled with its identity; per scan: build, duration, time and counts.
 * Samples carry no timestamps (the collector refuses them), and each family's
 * samples are written together after its HELP and TYPE lines, so that
 * `promtool check metrics` accepts the output.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "originaudit/scan.h"
#include "originaudit/version.h"

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

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/*
 * The first CN value of an RFC 4514 distinguished name ("CN=a\,b,O=c" gives
 * "a,b") into buf, "" when there is none. Escapes are undone; bytes that are
 * not valid UTF-8 become '?', since Prometheus refuses such label values.
 */
static void dn_common_name(const char *dn, char *buf, size_t size)
{
	unsigned char raw[256];
	size_t n = 0;
	const char *p = dn;
	bool at_start = true;

	buf[0] = '\0';
	while (p != NULL && *p != '\0') {
		if (at_start && (p[0] == 'C' || p[0] == 'c') && (p[1] == 'N' || p[1] == 'n') &&
		    p[2] == '=') {
			break;
		}
		at_start = *p == ',' || *p == '+';
		if (*p == '\\' && p[1] != '\0') {
			p++;
		}
		p++;
	}
	if (p == NULL || *p == '\0') {
		return;
	}
	for (p += 3; *p != '\0' && *p != ',' && *p != '+' && n < sizeof(raw); p++) {
		if (*p == '\\' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
			raw[n++] = (unsigned char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
			p += 2;
		} else if (*p == '\\' && p[1] != '\0') {
			raw[n++] = (unsigned char)*++p;
		} else {
			raw[n++] = (unsigned char)*p;
		}
	}
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < size;) {
		size_t len = oa_utf8_len(raw + i, n - i);

		if (len == 0) {
			buf[o++] = '?';
			i++;
			continue;
		}
		memcpy(buf + o, raw + i, len);
		o += len;
		i += len;
	}
	buf[o] = '\0';
}

enum probe_family {
	FAMILY_SUCCESS,
	FAMILY_VERDICT,
	FAMILY_STATUS,
	FAMILY_CHECK,
	FAMILY_TLS_VERSION,
	FAMILY_EARLIEST_NOT_AFTER,
	FAMILY_CERT_NOT_BEFORE,
	FAMILY_CERT_NOT_AFTER,
};

/* One sample per certificate of the chain as sent, labelled with its identity. */
static void cert_samples(FILE *out, const char *name, bool not_after, const oa_scan_origin *o,
			 const oa_probe_spec *spec, const oa_result *result)
{
	char subject[256];
	char issuer[256];

	for (size_t i = 0; result != NULL && i < oa_result_cert_count(result); i++) {
		const oa_cert_info *c = oa_result_cert(result, i);

		dn_common_name(c->subject, subject, sizeof(subject));
		dn_common_name(c->issuer, issuer, sizeof(issuer));
		probe_sample_start(out, name, o, spec);
		fprintf(out, ",position=\"%zu\",subject_cn=\"", c->position);
		oa_scan_prometheus_label(out, subject);
		fputs("\",issuer_cn=\"", out);
		oa_scan_prometheus_label(out, issuer);
		fprintf(out, "\",serial=\"%s\",sha256=\"%s\"} %lld\n", c->serial, c->sha256,
			(long long)(not_after ? c->not_after : c->not_before));
	}
}

static void probe_samples(FILE *out, enum probe_family fam, const oa_scan_origin *o,
			  const oa_probe *probe)
{
	const oa_probe_spec *spec = oa_probe_get_spec(probe);
	const oa_probe_result *r = oa_probe_get_result(probe);
	oa_scan_check_ref checks[OA_SCAN_MAX_CHECKS];
	size_t n;

	switch (fam) {
	case FAMILY_SUCCESS:
		probe_sample_start(out, "originaudit_probe_success", o, spec);
		fprintf(out, "} %d\n",
			r->verdict == OA_STATUS_PASS || r->verdict == OA_STATUS_WARN ? 1 : 0);
		break;
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
	case FAMILY_TLS_VERSION:
		if (r->tls_version[0] != '\0') {
			probe_sample_start(out, "originaudit_tls_version_info", o, spec);
			fputs(",version=\"", out);
			oa_scan_prometheus_label(out, r->tls_version);
			fputs("\"} 1\n", out);
		}
		break;
	case FAMILY_EARLIEST_NOT_AFTER:
		if (r->result != NULL && oa_result_earliest_expiry(r->result) != 0) {
			probe_sample_start(out, "originaudit_probe_earliest_not_after_seconds", o,
					   spec);
			fprintf(out, "} %lld\n", (long long)oa_result_earliest_expiry(r->result));
		}
		break;
	case FAMILY_CERT_NOT_BEFORE:
		cert_samples(out, "originaudit_cert_not_before_seconds", false, o, spec, r->result);
		break;
	case FAMILY_CERT_NOT_AFTER:
		cert_samples(out, "originaudit_cert_not_after_seconds", true, o, spec, r->result);
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
    {FAMILY_SUCCESS, "originaudit_probe_success",
     "Whether the probe reached the origin and its certificate passed the checks (verdict pass "
     "or warn): 1, else 0."},
    {FAMILY_VERDICT, "originaudit_probe_verdict",
     "Verdict of one probe (address, port, SNI) of an origin: 1 for the verdict it got."},
    {FAMILY_STATUS, "originaudit_probe_status",
     "Verdict of one probe as a number: 0 pass, 1 warn, 2 fail, 3 error, 4 skip."},
    {FAMILY_CHECK, "originaudit_check_status",
     "Status of one check of a probe: 0 pass, 1 warn, 2 fail, 3 error, 4 skip."},
    {FAMILY_TLS_VERSION, "originaudit_tls_version_info",
     "TLS version the probe negotiated: 1 for that version."},
    {FAMILY_EARLIEST_NOT_AFTER, "originaudit_probe_earliest_not_after_seconds",
     "Earliest notAfter on the probe's validated certificate path (trust anchor included), as "
     "a Unix time."},
    {FAMILY_CERT_NOT_BEFORE, "originaudit_cert_not_before_seconds",
     "notBefore of one certificate of the chain as sent (position 0 is the leaf), as a Unix "
     "time."},
    {FAMILY_CERT_NOT_AFTER, "originaudit_cert_not_after_seconds",
     "notAfter of one certificate of the chain as sent (position 0 is the leaf), as a Unix "
     "time."},
};

int oa_scan_write_prometheus(const oa_scan_report *report, FILE *out)
{
	static const oa_status verdicts[] = {OA_STATUS_PASS, OA_STATUS_WARN, OA_STATUS_FAIL,
					     OA_STATUS_ERROR, OA_STATUS_SKIP};

	family(out, "originaudit_build_info", "gauge",
	       "The originaudit version that wrote these metrics: always 1.");
	fputs("originaudit_build_info{version=\"", out);
	oa_scan_prometheus_label(out, oa_version());
	fputs("\"} 1\n", out);
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
	family(out, "originaudit_probes", "gauge", "Probes run by the last scan.");
	fprintf(out, "originaudit_probes %zu\n", report->n_probes);
	return ferror(out) ? -EIO : 0;
}
