/* The scan report as JSON, schema v1: what CI jobs and dashboards parse. */
#include <errno.h>
#include <stdio.h>

#include "originaudit/report.h"
#include "originaudit/version.h"
#include "report_common.h"
#include "scan.h"

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

static json_t *summary_json(const scan_report *report)
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

static json_t *origin_json(const scan_origin *origin)
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
	rc |= json_object_set_new(obj, "id", json_string(config->id));
	rc |= json_object_set_new(obj, "domain_name", json_string(config->domain_name));
	rc |= json_object_set_new(obj, "port", json_integer(origin->port));
	rc |= json_object_set_new(obj, "protocol_policy",
				  json_string(scan__protocol_policy_name(config->protocol_policy)));
	rc |= json_object_set_new(obj, "verdict", json_string(oa_status_name(origin->verdict)));
	rc |= json_object_set_new(
	    obj, "skipped", origin->skipped != NULL ? json_string(origin->skipped) : json_null());
	rc |= json_object_set_new(obj, "probes", probes);
	if (rc != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

static json_t *report_json(const scan_report *report)
{
	json_t *root = json_object();
	json_t *origins = json_array();
	int rc = 0;

	if (root == NULL || origins == NULL) {
		json_decref(root);
		json_decref(origins);
		return NULL;
	}
	for (size_t i = 0; i < report->n_origins; i++) {
		if (json_array_append_new(origins, origin_json(&report->origins[i])) < 0) {
			json_decref(root);
			json_decref(origins);
			return NULL;
		}
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
	rc |= json_object_set_new(root, "origins", origins);
	if (rc != 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int scan_write_json(const scan_report *report, FILE *out)
{
	json_t *doc = report_json(report);
	int rc;

	if (doc == NULL) {
		return -ENOMEM;
	}
	/* Ten significant digits print 0.1 s as 0.1, not 0.10000000000000001. */
	rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(doc);
	if (rc < 0 || fputc('\n', out) == EOF || ferror(out)) {
		return -EIO;
	}
	return 0;
}
