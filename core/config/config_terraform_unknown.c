/*
 * What a plan leaves unknown until apply (config_terraform.h): after_unknown
 * mirrors the planned values with true at each unknown leaf. Only the
 * attributes the audit reads count; an unknown ARN, cache policy or custom
 * header value does not stop an origin from being probed.
 */
#include <stdlib.h>
#include <string.h>

#include "config_terraform.h"

/* The attributes of an origin this reader uses: an unknown one among them skips the origin. */
static const char *const origin_keys[] = {
    "origin_id",	  "domain_name",	  "origin_path",       "connection_attempts",
    "connection_timeout", "custom_origin_config", "vpc_origin_config", NULL};

/* Those of a cache behaviour and of an origin group (forwarded_values: its headers only). */
static const char *const behavior_keys[] = {
    "path_pattern", "target_origin_id", "viewer_protocol_policy", "origin_request_policy_id", NULL};
static const char *const group_keys[] = {"origin_id", "member", NULL};
static const char *const forwarded_keys[] = {"headers", NULL};

/*
 * The path of the first unknown leaf (true) of after_unknown's u, depth
 * first, into *out (malloc'd); 1 when found, 0 when none, -1 when out of
 * memory.
 */
static int first_unknown(const char *path, const json_t *u, char **out)
{
	char p[OA__CFG_PATH_MAX];

	if (json_is_true(u)) {
		*out = strdup(path);
		return *out == NULL ? -1 : 1;
	}
	if (json_is_object(u)) {
		const char *key;
		const json_t *item;

		json_object_foreach((json_t *)u, key, item)
		{
			oa__cfg_path_key(p, path, key);
			int rc = first_unknown(p, item, out);
			if (rc != 0) {
				return rc;
			}
		}
	} else if (json_is_array(u)) {
		for (size_t i = 0; i < json_array_size(u); i++) {
			oa__cfg_path_index(p, path, i);
			int rc = first_unknown(p, json_array_get(u, i), out);
			if (rc != 0) {
				return rc;
			}
		}
	}
	return 0;
}

/* The same, among the attributes keys of the block u at path (u itself may be true). */
static int unknown_keys(const char *path, const json_t *u, const char *const *keys, char **out)
{
	char p[OA__CFG_PATH_MAX];

	if (json_is_true(u)) {
		return first_unknown(path, u, out);
	}
	for (size_t k = 0; keys[k] != NULL; k++) {
		oa__cfg_path_key(p, path, keys[k]);
		int rc = first_unknown(p, json_object_get(u, keys[k]), out);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* The same, for every block of the list at path. */
static int unknown_blocks(const char *path, const json_t *list, const char *const *keys, char **out)
{
	char p[OA__CFG_PATH_MAX];

	if (json_is_true(list)) {
		return first_unknown(path, list, out);
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		oa__cfg_path_index(p, path, i);
		int rc = unknown_keys(p, json_array_get(list, i), keys, out);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* The same, for the behaviours in the list key of u (forwarded headers included). */
static int unknown_behaviors(const json_t *u, const char *key, char **out)
{
	char p[OA__CFG_PATH_MAX];
	char fp[OA__CFG_PATH_MAX];
	const json_t *list = json_object_get(u, key);
	int rc = unknown_blocks(key, list, behavior_keys, out);

	for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
		const json_t *b = json_array_get(list, i);

		oa__cfg_path_index(p, key, i);
		oa__cfg_path_key(fp, p, "forwarded_values");
		rc =
		    unknown_blocks(fp, json_object_get(b, "forwarded_values"), forwarded_keys, out);
	}
	return rc;
}

/*
 * The first value outside the origins that the plan leaves unknown and this
 * reader needs (aliases, origin groups, behaviours), into *out; 1, 0 or -1.
 */
int oa__tf_distribution_unknown(const json_t *u, char **out)
{
	int rc = first_unknown("aliases", json_object_get(u, "aliases"), out);

	if (rc == 0) {
		rc = unknown_blocks("origin_group", json_object_get(u, "origin_group"), group_keys,
				    out);
	}
	if (rc == 0) {
		rc = unknown_behaviors(u, "default_cache_behavior", out);
	}
	if (rc == 0) {
		rc = unknown_behaviors(u, "ordered_cache_behavior", out);
	}
	return rc;
}

int oa__tf_origin_unknown(const char *path, const json_t *u, char **out)
{
	return unknown_keys(path, u, origin_keys, out);
}
