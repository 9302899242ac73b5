/*
 * Import of `aws cloudfront get-distribution-config` output. Keys we do not
 * read are ignored (AWS keeps adding some); the keys we read are checked with
 * the same rules as our own format, and errors name their path in AWS's
 * terms ("DistributionConfig.Origins.Items[1].CustomOriginConfig.HTTPSPort").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

/* The managed origin request policy "AllViewer", which forwards every viewer header. */
#define ALL_VIEWER_POLICY_ID "216adef6-5c7f-47e4-b989-5492eafa07d3"

/*
 * AWS raises the read and keep-alive timeouts above 120 s on request; a value
 * AWS accepted is imported as is, up to an hour.
 */
#define RAISED_TIMEOUT_MAX 3600

static int expect_object(const oa__cfg *c, const char *path, const json_t *v)
{
	if (!json_is_object(v)) {
		return oa__cfg_fail(c, path, "expected an object, got %s", oa__cfg_type_name(v));
	}
	return 0;
}

/*
 * Reads the AWS list obj.key = {"Quantity": N, "Items": [...]}. *items is
 * NULL when the key or its Items are absent; items_path receives the path of
 * Items.
 */
static int cf_list(const oa__cfg *c, const char *parent, const json_t *obj, const char *key,
		   const json_t **items, char *items_path)
{
	char path[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	const json_t *v = json_object_get(obj, key);
	long long quantity = -1;
	int rc;

	*items = NULL;
	oa__cfg_path_key(path, parent, key);
	oa__cfg_path_key(items_path, path, "Items");
	if (v == NULL) {
		return 0;
	}
	rc = expect_object(c, path, v);
	if (rc < 0) {
		return rc;
	}
	const json_t *q = json_object_get(v, "Quantity");
	if (q != NULL) {
		oa__cfg_path_key(p, path, "Quantity");
		rc = oa__cfg_integer(c, p, q, 0, 1000000, &quantity);
		if (rc < 0) {
			return rc;
		}
	}
	const json_t *list = json_object_get(v, "Items");
	if (list == NULL) {
		if (quantity > 0) {
			return oa__cfg_fail(c, path, "Quantity is %lld but Items is missing",
					    quantity);
		}
		return 0;
	}
	if (!json_is_array(list)) {
		return oa__cfg_fail(c, items_path, "expected an array, got %s",
				    oa__cfg_type_name(list));
	}
	if (quantity >= 0 && (size_t)quantity != json_array_size(list)) {
		return oa__cfg_fail(c, path, "Quantity is %lld but Items has %zu entries", quantity,
				    json_array_size(list));
	}
	*items = list;
	return 0;
}

static int opt_uint(const oa__cfg *c, const char *parent, const json_t *obj, const char *key,
		    unsigned min, unsigned max, unsigned *out)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		return 0;
	}
	oa__cfg_path_key(p, parent, key);
	return oa__cfg_uint(c, p, v, min, max, out);
}

static int read_aliases(const oa__cfg *c, const char *parent, const json_t *dc, oa_config *config)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	oa__cfg_index seen = {NULL, 0};
	const json_t *items;
	int rc = cf_list(c, parent, dc, "Aliases", &items, ip);

	if (rc < 0 || items == NULL || json_array_size(items) == 0) {
		return rc;
	}
	size_t n = json_array_size(items);
	config->aliases = calloc(n, sizeof(*config->aliases));
	if (config->aliases == NULL) {
		return oa__cfg_nomem(c);
	}
	config->n_aliases = n;
	if (oa__cfg_index_init(&seen, n) < 0) {
		return oa__cfg_nomem(c);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		oa__cfg_path_index(p, ip, i);
		rc = oa__cfg_alias(c, p, json_array_get(items, i), &config->aliases[i]);
		if (rc == 0) {
			rc = oa__cfg_unique_alias(c, p, &seen, config, i);
		}
	}
	oa__cfg_index_finish(&seen);
	return rc;
}

static int read_custom(const oa__cfg *c, const char *path, const json_t *obj, oa_origin_config *o)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc = expect_object(c, path, obj);

	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "HTTPPort");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "HTTPPort");
		rc = oa__cfg_port(c, p, v, &o->http_port);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "HTTPSPort");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "HTTPSPort");
		rc = oa__cfg_port(c, p, v, &o->https_port);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "OriginProtocolPolicy");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "OriginProtocolPolicy");
		rc = oa__cfg_origin_policy(c, p, v, &o->protocol_policy);
		if (rc < 0) {
			return rc;
		}
	}
	const json_t *items;
	rc = cf_list(c, path, obj, "OriginSslProtocols", &items, ip);
	if (rc < 0) {
		return rc;
	}
	if (json_object_get(obj, "OriginSslProtocols") != NULL) {
		if (json_array_size(items) == 0) {
			oa__cfg_path_key(p, path, "OriginSslProtocols");
			return oa__cfg_fail(c, p, "expected at least one protocol");
		}
		o->ssl_protocols = 0;
		for (size_t i = 0; i < json_array_size(items); i++) {
			oa__cfg_path_index(p, ip, i);
			rc =
			    oa__cfg_ssl_protocol(c, p, json_array_get(items, i), &o->ssl_protocols);
			if (rc < 0) {
				return rc;
			}
		}
	}
	rc = opt_uint(c, path, obj, "OriginReadTimeout", 1, RAISED_TIMEOUT_MAX, &o->read_timeout_s);
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "OriginKeepaliveTimeout", 1, RAISED_TIMEOUT_MAX,
			      &o->keepalive_timeout_s);
	}
	return rc;
}

static int read_origin(const oa__cfg *c, const char *path, const json_t *obj, oa_config *config,
		       size_t index)
{
	oa_origin_config *o = &config->origins[index];
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc;

	oa__cfg_origin_defaults(o);
	rc = expect_object(c, path, obj);
	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "Id");
	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"Id\"");
	}
	oa__cfg_path_key(p, path, "Id");
	rc = oa__cfg_string(c, p, v, true, &o->id);
	if (rc == 0) {
		rc = oa__cfg_unique_id(c, p, config, index);
	}
	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "DomainName");
	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"DomainName\"");
	}
	oa__cfg_path_key(p, path, "DomainName");
	rc = oa__cfg_domain(c, p, v, &o->domain_name);
	if (rc < 0) {
		return rc;
	}
	oa__cfg_path_key(p, path, "OriginPath");
	rc = oa__cfg_origin_path(c, p, json_object_get(obj, "OriginPath"), &o->origin_path);
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "ConnectionAttempts", 1, 3, &o->connection_attempts);
	}
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "ConnectionTimeout", 1, 10, &o->connection_timeout_s);
	}
	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "CustomOriginConfig");
	if (v == NULL) {
		/* S3 (or another AWS-managed origin): CloudFront's own certificate, not probed. */
		o->s3 = true;
		return 0;
	}
	oa__cfg_path_key(p, path, "CustomOriginConfig");
	return read_custom(c, p, v, o);
}

static int read_origins(const oa__cfg *c, const char *parent, const json_t *dc, oa_config *config)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	const json_t *items;
	int rc = cf_list(c, parent, dc, "Origins", &items, ip);

	if (rc < 0) {
		return rc;
	}
	if (json_array_size(items) == 0) {
		oa__cfg_path_key(p, parent, "Origins");
		return oa__cfg_fail(c, p, "expected at least one origin");
	}
	size_t n = json_array_size(items);
	config->origins = calloc(n, sizeof(*config->origins));
	if (config->origins == NULL) {
		return oa__cfg_nomem(c);
	}
	config->n_origins = n;
	/* The ids, for the duplicate check here and the behaviours' references later. */
	if (oa__cfg_index_init(c->ids, n) < 0) {
		return oa__cfg_nomem(c);
	}
	for (size_t i = 0; i < n; i++) {
		oa__cfg_path_index(p, ip, i);
		rc = read_origin(c, p, json_array_get(items, i), config, i);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/*
 * The origin an origin group fails over from: its first member. Sets *member
 * to that member's origin id (owned by the document), or NULL when no group
 * has this id.
 */
static int group_primary(const oa__cfg *c, const char *parent, const json_t *dc, const char *id,
			 const char **member)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	char mp[OA__CFG_PATH_MAX];
	const json_t *groups;
	int rc = cf_list(c, parent, dc, "OriginGroups", &groups, ip);

	*member = NULL;
	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < json_array_size(groups); i++) {
		const json_t *g = json_array_get(groups, i);
		const json_t *members;

		oa__cfg_path_index(p, ip, i);
		rc = expect_object(c, p, g);
		if (rc < 0) {
			return rc;
		}
		const char *gid = json_string_value(json_object_get(g, "Id"));
		if (gid == NULL || strcmp(gid, id) != 0) {
			continue;
		}
		rc = cf_list(c, p, g, "Members", &members, mp);
		if (rc < 0) {
			return rc;
		}
		const json_t *first = json_array_get(members, 0);
		if (first == NULL) {
			oa__cfg_path_key(mp, p, "Members");
			return oa__cfg_fail(c, mp, "the origin group has no member");
		}
		oa__cfg_path_index(p, mp, 0);
		rc = expect_object(c, p, first);
		if (rc < 0) {
			return rc;
		}
		const json_t *oid = json_object_get(first, "OriginId");
		oa__cfg_path_key(mp, p, "OriginId");
		if (!json_is_string(oid)) {
			return oa__cfg_fail(c, mp, "expected a string, got %s",
					    oid == NULL ? "nothing" : oa__cfg_type_name(oid));
		}
		*member = json_string_value(oid);
		return 0;
	}
	return 0;
}

/* Whether the behaviour sends the viewer's Host header to the origin. */
static int forwards_host(const oa__cfg *c, const char *path, const json_t *obj, bool *out)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	const json_t *v = json_object_get(obj, "OriginRequestPolicyId");
	int rc;

	*out = false;
	if (v != NULL) {
		oa__cfg_path_key(p, path, "OriginRequestPolicyId");
		if (!json_is_string(v)) {
			return oa__cfg_fail(c, p, "expected a string, got %s",
					    oa__cfg_type_name(v));
		}
		if (strcmp(json_string_value(v), ALL_VIEWER_POLICY_ID) == 0) {
			*out = true;
		}
	}
	v = json_object_get(obj, "ForwardedValues");
	if (v == NULL) {
		return 0;
	}
	oa__cfg_path_key(p, path, "ForwardedValues");
	rc = expect_object(c, p, v);
	if (rc < 0) {
		return rc;
	}
	const json_t *items;
	rc = cf_list(c, p, v, "Headers", &items, ip);
	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < json_array_size(items); i++) {
		const json_t *h = json_array_get(items, i);

		if (!json_is_string(h)) {
			oa__cfg_path_index(p, ip, i);
			return oa__cfg_fail(c, p, "expected a string, got %s",
					    oa__cfg_type_name(h));
		}
		/* Header names are case-insensitive; "*" forwards every header. */
		if (strcasecmp(json_string_value(h), "Host") == 0 ||
		    strcmp(json_string_value(h), "*") == 0) {
			*out = true;
		}
	}
	return 0;
}

/* The origin a behaviour names is looked up in c->ids, so origins are read first. */
static int read_behavior(const oa__cfg *c, const char *parent, const json_t *dc, const char *path,
			 const json_t *obj, bool is_default, oa_behavior_config *b)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc;

	oa__cfg_behavior_defaults(b);
	rc = expect_object(c, path, obj);
	if (rc < 0) {
		return rc;
	}
	if (!is_default) {
		v = json_object_get(obj, "PathPattern");
		if (v == NULL) {
			return oa__cfg_fail(c, path, "missing required key \"PathPattern\"");
		}
		oa__cfg_path_key(p, path, "PathPattern");
		rc = oa__cfg_path_pattern(c, p, v, &b->path_pattern);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "TargetOriginId");
	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"TargetOriginId\"");
	}
	oa__cfg_path_key(p, path, "TargetOriginId");
	rc = oa__cfg_string(c, p, v, true, &b->origin_id);
	if (rc < 0) {
		return rc;
	}
	long index = oa__cfg_find_origin(c, b->origin_id);
	if (index < 0) {
		const char *member = NULL;

		rc = group_primary(c, parent, dc, b->origin_id, &member);
		if (rc < 0) {
			return rc;
		}
		if (member != NULL) {
			index = oa__cfg_find_origin(c, member);
		}
		if (index < 0) {
			return oa__cfg_no_origin(c, p, member != NULL ? member : b->origin_id);
		}
		/* A behaviour aimed at an origin group is recorded against the group's primary. */
		char *id = strdup(member);
		if (id == NULL) {
			return oa__cfg_nomem(c);
		}
		free(b->origin_id);
		b->origin_id = id;
	}
	b->origin_index = (size_t)index;
	v = json_object_get(obj, "ViewerProtocolPolicy");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "ViewerProtocolPolicy");
		rc = oa__cfg_viewer_policy(c, p, v, &b->viewer_protocol_policy);
		if (rc < 0) {
			return rc;
		}
	}
	return forwards_host(c, path, obj, &b->forward_host_header);
}

static int read_behaviors(const oa__cfg *c, const char *parent, const json_t *dc, oa_config *config)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	const json_t *items;
	int rc = cf_list(c, parent, dc, "CacheBehaviors", &items, ip);

	if (rc < 0 || json_array_size(items) == 0) {
		return rc;
	}
	size_t n = json_array_size(items);
	config->behaviors = calloc(n, sizeof(*config->behaviors));
	if (config->behaviors == NULL) {
		return oa__cfg_nomem(c);
	}
	config->n_behaviors = n;
	for (size_t i = 0; i < n; i++) {
		oa__cfg_path_index(p, ip, i);
		rc = read_behavior(c, parent, dc, p, json_array_get(items, i), false,
				   &config->behaviors[i]);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

static int read_distribution(const oa__cfg *c, const json_t *root, oa_config *config)
{
	const char *parent = "DistributionConfig";
	const json_t *dc = json_object_get(root, "DistributionConfig");
	char p[OA__CFG_PATH_MAX];
	int rc;

	if (!json_is_object(root)) {
		return oa__cfg_fail(c, "", "expected an object at the top level, got %s",
				    oa__cfg_type_name(root));
	}
	if (dc == NULL) {
		/* The bare DistributionConfig, as `--query DistributionConfig` prints it. */
		if (json_object_get(root, "Origins") == NULL) {
			return oa__cfg_fail(c, "",
					    "not a get-distribution-config output: no "
					    "\"DistributionConfig\" or \"Origins\" key");
		}
		dc = root;
		parent = "";
	}
	rc = expect_object(c, parent, dc);
	if (rc == 0) {
		rc = read_aliases(c, parent, dc, config);
	}
	if (rc == 0) {
		rc = read_origins(c, parent, dc, config);
	}
	if (rc == 0) {
		rc = read_behaviors(c, parent, dc, config);
	}
	if (rc < 0) {
		return rc;
	}
	const json_t *v = json_object_get(dc, "DefaultCacheBehavior");
	if (v != NULL) {
		config->has_default_behavior = true;
		oa__cfg_path_key(p, parent, "DefaultCacheBehavior");
		rc = read_behavior(c, parent, dc, p, v, true, &config->default_behavior);
	}
	return rc;
}

int oa_config_load_cloudfront_file(const char *path, oa_config **out, oa_error *err)
{
	oa__cfg_index ids = {NULL, 0};
	oa__cfg c = {path, err, &ids};
	json_t *root = NULL;
	oa_config *config = NULL;
	int rc;

	*out = NULL;
	rc = oa__cfg_read_json(path, &root, err);
	if (rc < 0) {
		return rc;
	}
	config = oa__cfg_new();
	if (config == NULL) {
		rc = oa__cfg_nomem(&c);
		goto out;
	}
	rc = read_distribution(&c, root, config);
	if (rc < 0) {
		oa_config_destroy(config);
		goto out;
	}
	*out = config;
out:
	oa__cfg_index_finish(&ids);
	json_decref(root);
	return rc;
}
