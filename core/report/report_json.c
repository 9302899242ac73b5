/* The JSON form of a result: designed once, embedded per probe by the scanner. */
#include "originaudit/report.h"

static json_t *str_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *time_json(time_t t)
{
	char buf[32];

	oa_format_time(t, buf);
	return json_string(buf);
}

/* The expiry thresholds applied: seconds left under which it warns / fails, and their rules. */
static json_t *thresholds_json(const oa_result *result)
{
	long long warn_s;
	long long critical_s;
	const char *warn_rule;
	const char *critical_rule;

	if (!oa_result_expiry_thresholds(result, &warn_s, &critical_s, &warn_rule,
					 &critical_rule)) {
		return json_null();
	}
	return json_pack("{s:{s:I,s:s},s:{s:I,s:s}}", "warn", "seconds_left", (json_int_t)warn_s,
			 "rule", warn_rule, "critical", "seconds_left", (json_int_t)critical_s,
			 "rule", critical_rule);
}

static json_t *check_json(const oa_result *result, oa_check_id id)
{
	const oa_check *check = oa_result_check(result, id);
	json_t *obj = json_object();

	if (obj == NULL) {
		return NULL;
	}
	json_object_set_new(obj, "status", json_string(oa_status_name(check->status)));
	json_object_set_new(obj, "reason", json_string(check->reason));
	json_object_set_new(obj, "detail", json_string(check->detail));
	json_object_set_new(obj, "hint", str_or_null(check->hint));
	if (id == OA_CHECK_TRUST) {
		json_object_set_new(obj, "anchor", str_or_null(oa_result_anchor(result)));
	} else if (id == OA_CHECK_EXPIRY) {
		long long days;

		if (oa_result_days_left(result, &days)) {
			json_object_set_new(obj, "days_left", json_integer(days));
			json_object_set_new(obj, "not_after",
					    time_json(oa_result_earliest_expiry(result)));
			json_object_set_new(obj, "thresholds", thresholds_json(result));
		} else {
			json_object_set_new(obj, "days_left", json_null());
			json_object_set_new(obj, "not_after", json_null());
		}
	} else if (id == OA_CHECK_NAME) {
		json_object_set_new(obj, "matched", str_or_null(oa_result_matched_name(result)));
	}
	return obj;
}

static json_t *cert_json(const oa_cert_info *info)
{
	json_t *obj = json_object();
	json_t *sans = json_array();

	if (obj == NULL || sans == NULL) {
		json_decref(obj);
		json_decref(sans);
		return NULL;
	}
	for (size_t i = 0; i < info->n_sans; i++) {
		json_array_append_new(sans, json_string(info->sans[i]));
	}
	json_object_set_new(obj, "position", json_integer((json_int_t)info->position));
	json_object_set_new(obj, "role", json_string(oa_cert_role_name(info->role)));
	json_object_set_new(obj, "subject", json_string(info->subject));
	json_object_set_new(obj, "issuer", json_string(info->issuer));
	json_object_set_new(obj, "serial", json_string(info->serial));
	json_object_set_new(obj, "not_before", time_json(info->not_before));
	json_object_set_new(obj, "not_after", time_json(info->not_after));
	json_object_set_new(obj, "days_left", json_integer(info->days_left));
	json_object_set_new(obj, "sha256", json_string(info->sha256));
	json_object_set_new(obj, "key_type", json_string(info->key_type));
	json_object_set_new(obj, "key_bits", json_integer(info->key_bits));
	json_object_set_new(obj, "signature_algorithm", json_string(info->signature_algorithm));
	json_object_set_new(obj, "sans", sans);
	json_object_set_new(obj, "is_ca", json_boolean(info->is_ca));
	json_object_set_new(obj, "self_signed", json_boolean(info->self_signed));
	return obj;
}

json_t *oa_trust_store_to_json(const oa_trust_store *store)
{
	return json_pack("{s:s, s:I, s:s}", "path", oa_trust_store_path(store), "certificates",
			 (json_int_t)oa_trust_store_count(store), "sha256",
			 oa_trust_store_sha256(store));
}

json_t *oa_result_to_json(const oa_result *result, const oa_trust_store *store)
{
	json_t *root = json_object();
	json_t *checks = json_object();
	json_t *chain = json_array();
	json_t *names = json_array();
	size_t n_names = 0;
	const char *const *list = oa_result_names(result, &n_names);

	if (root == NULL || checks == NULL || chain == NULL || names == NULL) {
		goto fail;
	}
	for (size_t i = 0; i < n_names; i++) {
		json_array_append_new(names, json_string(list[i]));
	}
	for (int id = 0; id < OA_CHECK_COUNT; id++) {
		if (!oa_result_check(result, (oa_check_id)id)->present) {
			continue;
		}
		json_t *c = check_json(result, (oa_check_id)id);
		if (c == NULL ||
		    json_object_set_new(checks, oa_check_name((oa_check_id)id), c) < 0) {
			goto fail;
		}
	}
	for (size_t i = 0; i < oa_result_cert_count(result); i++) {
		json_t *c = cert_json(oa_result_cert(result, i));
		if (c == NULL || json_array_append_new(chain, c) < 0) {
			goto fail;
		}
	}
	json_object_set_new(root, "verdict",
			    json_string(oa_status_name(oa_result_verdict(result))));
	json_object_set_new(root, "evaluated_at", time_json(oa_result_time(result)));
	json_object_set_new(root, "names", names);
	json_object_set_new(root, "checks", checks);
	json_object_set_new(root, "chain", chain);
	if (store != NULL) {
		json_object_set_new(root, "ca_bundle", oa_trust_store_to_json(store));
	}
	return root;
fail:
	json_decref(root);
	json_decref(checks);
	json_decref(chain);
	json_decref(names);
	return NULL;
}
