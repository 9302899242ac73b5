/* The scan report as JSON, schema v1: what CI jobs and dashboards parse. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/report.h"
#include "originaudit/scan.h"
#include "originaudit/version.h"

#define SCHEMA_VERSION 1

static json_t *time_json(time_t t)
{
	char buf[32];

	oa_format_time(t, buf);
	return json_string(buf);
}

static json_t *size_json(size_t n)
{
	return json_integer((json_int_t)n);
}

static json_t *summary_json(const oa_scan_report *report)
{
	json_t *obj = json_object();
	int rc = 0;

	if (obj == NULL) {
		return NULL;
	}
	rc |= json_object_set_new(obj, "origins", size_json(report->n_origins));
	rc |= json_object_set_new(obj, "pass", size_json(report->counts[OA_STATUS_PASS]));
	rc |= json_object_set_new(obj, "warn", size_json(report->counts[OA_STATUS_WARN]));
	rc |= json_object_set_new(obj, "fail", size_json(report->counts[OA_STATUS_FAIL]));
	rc |= json_object_set_new(obj, "error", size_json(report->counts[OA_STATUS_ERROR]));
	rc |= json_object_set_new(obj, "skipped", size_json(report->counts[OA_STATUS_SKIP]));
	rc |= json_object_set_new(obj, "probes", size_json(report->n_probes));
	rc |= json_object_set_new(obj, "verdict", json_string(oa_status_name(report->verdict)));
	if (rc != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static json_t *origin_json(const oa_scan_origin *origin)
{
	const oa_origin_config *config = origin->config;
	json_t *obj = json_object();
	json_t *probes = json_array();
	int rc = 0;

	if (obj == NULL || probes == NULL) {
		json_decref(obj);
		json_decref(probes);
		return NULL;
	}
	for (size_t i = 0; i < origin->n_probes; i++) {
		if (json_array_append_new(probes, oa_probe_result_to_json(origin->probes[i])) < 0) {
			json_decref(obj);
			json_decref(probes);
			return NULL;
		}
	}
	rc |= json_object_set_new(obj, "id", json_string(oa_scan_origin_id(origin)));
	rc |= json_object_set_new(obj, "origin_id", json_string(config->id));
	rc |= json_object_set_new(obj, "distribution",
				  origin->distribution != NULL ? json_string(origin->distribution)
							       : json_null());
	rc |= json_object_set_new(obj, "domain_name", json_string(config->domain_name));
	rc |= json_object_set_new(obj, "port", json_integer(origin->port));
	rc |=
	    json_object_set_new(obj, "protocol_policy",
				json_string(oa_scan_protocol_policy_name(config->protocol_policy)));
	rc |= json_object_set_new(obj, "ip_address_type",
				  json_string(oa_ip_address_type_name(config->ip_address_type)));
	rc |= json_object_set_new(obj, "vpc_origin", json_boolean(config->vpc));
	rc |= json_object_set_new(obj, "verdict", json_string(oa_status_name(origin->verdict)));
	rc |= json_object_set_new(
	    obj, "skipped", origin->skipped != NULL ? json_string(origin->skipped) : json_null());
	if (config->unresolved != NULL) {
		/* unresolved_value: which value a deployment must decide ("...DomainName: !Ref X").
		 */
		rc |= json_object_set_new(obj, "skipped_detail", json_string(config->unresolved));
	}
	rc |= json_object_set_new(obj, "probes", probes);
	if (rc != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static json_t *header_json(const oa_scan_report *report)
{
	json_t *root = json_object();
	int rc = 0;

	if (root == NULL) {
		return NULL;
	}
	rc |= json_object_set_new(root, "schema", json_integer(SCHEMA_VERSION));
	rc |= json_object_set_new(
	    root, "tool", json_pack("{s:s, s:s}", "name", "originaudit", "version", oa_version()));
	rc |= json_object_set_new(root, "started_at", time_json(report->started_at));
	rc |= json_object_set_new(root, "finished_at", time_json(report->finished_at));
	rc |= json_object_set_new(root, "duration_s", json_real(report->duration_s));
	rc |= json_object_set_new(root, "ca_bundle",
				  report->store != NULL ? oa_trust_store_to_json(report->store)
							: json_null());
	rc |= json_object_set_new(root, "summary", summary_json(report));
	if (rc != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

/* Writes text with every line after the first indented by four spaces. */
static int write_indented(const char *text, FILE *out)
{
	for (const char *p = text; *p != '\0'; p++) {
		if (fputc(*p, out) == EOF) {
			return -EIO;
		}
		if (*p == '\n' && fputs("    ", out) == EOF) {
			return -EIO;
		}
	}
	return 0;
}

/*
 * The document is written one origin at a time, so a scan of thousands of
 * origins never holds the whole JSON tree in memory (ten significant digits
 * print 0.1 s as 0.1, not 0.10000000000000001).
 */
int oa_scan_write_json(const oa_scan_report *report, FILE *out)
{
	json_t *header = header_json(report);
	char *text;
	size_t len;

	if (header == NULL) {
		return -ENOMEM;
	}
	text = json_dumps(header, DUMP_FLAGS);
	json_decref(header);
	if (text == NULL) {
		return -ENOMEM;
	}
	/* Reopen the object: drop its closing "\n}". */
	len = strlen(text);
	if (len > 0 && text[len - 1] == '}') {
		len--;
	}
	while (len > 0 && text[len - 1] == '\n') {
		len--;
	}
	int rc = fwrite(text, 1, len, out) == len ? 0 : -EIO;
	free(text);
	if (rc == 0 && fputs(",\n  \"origins\": [", out) == EOF) {
		rc = -EIO;
	}
	for (size_t i = 0; i < report->n_origins && rc == 0; i++) {
		json_t *origin = origin_json(&report->origins[i]);

		if (origin == NULL) {
			return -ENOMEM;
		}
		text = json_dumps(origin, DUMP_FLAGS);
		json_decref(origin);
		if (text == NULL) {
			return -ENOMEM;
		}
		if (fputs(i == 0 ? "\n    " : ",\n    ", out) == EOF) {
			rc = -EIO;
		}
		if (rc == 0) {
			rc = write_indented(text, out);
		}
		free(text);
	}
	if (rc == 0 && fputs(report->n_origins > 0 ? "\n  ]\n}\n" : "]\n}\n", out) == EOF) {
		rc = -EIO;
	}
	if (rc == 0 && ferror(out)) {
		rc = -EIO;
	}
	return rc;
}
