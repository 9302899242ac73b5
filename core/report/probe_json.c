/* The JSON form of a probe, embedded per probe in scan reports. */
#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/report.h"

static json_t *str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *check_json(const oa_check *c)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "status", oa_status_name(c->status), "reason",
			 c->reason, "detail", c->detail, "hint", str_or_null(c->hint));
}

static json_t *accepted_json(const oa_probe_result *r)
{
	json_t *obj = json_object();

	if (obj == NULL) {
		return NULL;
	}
	for (unsigned bit = OA_PROTO_TLS1_0; bit <= OA_PROTO_TLS1_3; bit <<= 1) {
		if (r->protocols_tested & bit) {
			json_object_set_new(obj, oa_proto_name(bit),
					    json_boolean((r->protocols_accepted & bit) != 0));
		}
	}
	return obj;
}

json_t *oa_probe_result_to_json(const oa_probe *probe)
{
	const oa_probe_spec *spec = oa_probe_get_spec(probe);
	const oa_probe_result *r = oa_probe_get_result(probe);
	json_t *obj = json_object();
	json_t *checks = NULL;
	json_t *chain = NULL;

	if (obj == NULL) {
		return NULL;
	}
	json_object_set_new(obj, "address", str_or_null(spec->address));
	json_object_set_new(obj, "port", json_integer(spec->port));
	json_object_set_new(obj, "kind",
			    json_string(spec->kind == OA_PROBE_HTTPS ? "https" : "http"));
	json_object_set_new(obj, "sni", str_or_null(spec->sni));
	json_object_set_new(obj, "verdict", json_string(oa_status_name(r->verdict)));
	json_object_set_new(obj, "error", str_or_null(r->error));
	json_object_set_new(obj, "error_detail", str_or_null(r->error_detail));
	json_object_set_new(obj, "duration_ms", json_real(r->duration_ms));
	if (spec->kind == OA_PROBE_HTTPS) {
		json_object_set_new(
		    obj, "tls",
		    json_pack("{s:o, s:o, s:o}", "version", str_or_null(r->tls_version), "cipher",
			      str_or_null(r->cipher), "accepted", accepted_json(r)));
	}
	if (r->result != NULL) {
		json_t *full = oa_result_to_json(r->result, NULL);

		if (full == NULL) {
			json_decref(obj);
			return NULL;
		}
		checks = json_incref(json_object_get(full, "checks"));
		chain = json_incref(json_object_get(full, "chain"));
		json_object_set(obj, "names", json_object_get(full, "names"));
		json_decref(full);
	} else {
		checks = json_object();
		chain = json_array();
	}
	if (r->protocols.present) {
		json_object_set_new(checks, "protocols", check_json(&r->protocols));
	}
	if (r->http.present) {
		json_object_set_new(checks, "http", check_json(&r->http));
	}
	json_object_set_new(obj, "checks", checks);
	json_object_set_new(obj, "chain", chain);
	return obj;
}
