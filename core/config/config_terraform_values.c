/*
 * The attributes of one aws_cloudfront_distribution as the AWS provider
 * writes them (config_terraform.h): the mapping of config_cloudfront.c, with
 * Terraform's names. Nested blocks are arrays of objects, an unset attribute
 * is null (read as absent), and in a plan a value known only after apply is
 * absent while after_unknown holds true at its place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_terraform.h"

#define UNKNOWN_REASON "unknown_until_apply"

/* What an origin's domain_name reads when the plan does not know it. */
#define UNKNOWN_DOMAIN "(known after apply)"

/* obj.key, NULL when absent or null. */
static const json_t *get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

/* The array at obj.key (a list of blocks or a set) into *out, NULL when absent; path is its path.
 */
static int get_array(const oa__cfg *c, const char *path, const json_t *obj, const char *key,
		     const json_t **out)
{
	const json_t *v = get(obj, key);

	*out = NULL;
	if (v == NULL) {
		return 0;
	}
	if (!json_is_array(v)) {
		return oa__cfg_fail(c, path, "expected an array, got %s", oa__cfg_type_name(v));
	}
	*out = v;
	return 0;
}

/*
 * The nested block obj.key (MaxItems 1) into *out, NULL when absent or
 * empty; bpath receives the block's path ("custom_origin_config[0]").
 */
static int get_block(const oa__cfg *c, const char *parent, const json_t *obj, const char *key,
		     const json_t **out, char *bpath)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *list;

	*out = NULL;
	oa__cfg_path_key(p, parent, key);
	int rc = get_array(c, p, obj, key, &list);
	if (rc < 0 || json_array_size(list) == 0) {
		return rc;
	}
	if (json_array_size(list) > 1) {
		return oa__cfg_fail(c, p, "expected one block, got %zu", json_array_size(list));
	}
	oa__cfg_path_index(bpath, p, 0);
	*out = json_array_get(list, 0);
	return oa__cfg_expect_object(c, bpath, *out);
}

static int opt_uint(const oa__cfg *c, const char *parent, const json_t *obj, const char *key,
		    unsigned min, unsigned max, unsigned *out)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v = get(obj, key);

	if (v == NULL) {
		return 0;
	}
	oa__cfg_path_key(p, parent, key);
	return oa__cfg_uint(c, p, v, min, max, out);
}

static int read_aliases(const oa__cfg *c, const json_t *values, oa_config *config)
{
	const json_t *items;
	int rc = get_array(c, "aliases", values, "aliases", &items);

	if (rc < 0) {
		return rc;
	}
	return oa__cfg_aliases(c, "aliases", items, config);
}

/* obj.key, NULL when absent or null, with its path into p (OA__CFG_PATH_MAX bytes). */
static const json_t *member(const json_t *obj, const char *parent, const char *key, char *p)
{
	oa__cfg_path_key(p, parent, key);
	return get(obj, key);
}

/* custom_origin_config (or a vpc_origin_config) at path into o. */
static int read_custom(const oa__cfg *c, const char *path, const json_t *obj, oa_origin_config *o)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc = 0;

	v = member(obj, path, "http_port", p);
	if (v != NULL) {
		rc = oa__cfg_port(c, p, v, &o->http_port);
	}
	v = member(obj, path, "https_port", p);
	if (rc == 0 && v != NULL) {
		rc = oa__cfg_port(c, p, v, &o->https_port);
	}
	v = member(obj, path, "origin_protocol_policy", p);
	if (rc == 0 && v != NULL) {
		rc = oa__cfg_origin_policy(c, p, v, &o->protocol_policy);
	}
	/* The provider writes "" for an unset ip_address_type. */
	v = member(obj, path, "ip_address_type", p);
	if (rc == 0 && v != NULL && !(json_is_string(v) && json_string_length(v) == 0)) {
		rc = oa__cfg_ip_address_type(c, p, v, &o->ip_address_type);
	}
	if (rc < 0) {
		return rc;
	}
	const json_t *items;
	oa__cfg_path_key(p, path, "origin_ssl_protocols");
	rc = get_array(c, p, obj, "origin_ssl_protocols", &items);
	if (rc < 0) {
		return rc;
	}
	if (items != NULL) {
		char ip[OA__CFG_PATH_MAX];

		if (json_array_size(items) == 0) {
			return oa__cfg_fail(c, p, "expected at least one protocol");
		}
		o->ssl_protocols = 0;
		for (size_t i = 0; i < json_array_size(items); i++) {
			oa__cfg_path_index(ip, p, i);
			rc = oa__cfg_ssl_protocol(c, ip, json_array_get(items, i),
						  &o->ssl_protocols);
			if (rc < 0) {
				return rc;
			}
		}
	}
	rc = opt_uint(c, path, obj, "origin_read_timeout", 1, OA__CFG_RAISED_TIMEOUT_MAX,
		      &o->read_timeout_s);
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "origin_keepalive_timeout", 1,
			      OA__CFG_RAISED_TIMEOUT_MAX, &o->keepalive_timeout_s);
	}
	return rc;
}

/* vpc_origin_config: HTTPS on 443 with TLSv1.2 unless the block says otherwise, as read_vpc. */
static int read_vpc(const oa__cfg *c, const char *path, const json_t *obj, oa_origin_config *o)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v = get(obj, "vpc_origin_id");

	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"vpc_origin_id\"");
	}
	oa__cfg_path_key(p, path, "vpc_origin_id");
	int rc = oa__cfg_string(c, p, v, true, &o->vpc_origin_id);
	if (rc < 0) {
		return rc;
	}
	o->vpc = true;
	rc = read_custom(c, path, obj, o);
	if (rc < 0) {
		return rc;
	}
	if (o->ip_address_type == OA_IP_IPV6) {
		oa__cfg_path_key(p, path, "ip_address_type");
		return oa__cfg_fail(c, p,
				    "ipv6 is not supported for VPC origins: expected ipv4 or "
				    "dualstack");
	}
	return 0;
}

/*
 * An origin with a value known only after apply (where, taken over): kept
 * with its id (or its path when the id is unknown) and its name as far as
 * known, not validated further and not probed.
 */
static int unknown_origin(const oa__cfg *c, const char *path, const json_t *obj, char *where,
			  oa_config *config, size_t index)
{
	oa_origin_config *o = &config->origins[index];
	const char *id = json_string_value(get(obj, "origin_id"));
	const char *name = json_string_value(get(obj, "domain_name"));
	char p[OA__CFG_PATH_MAX];

	o->unresolved = where;
	o->unresolved_reason = UNKNOWN_REASON;
	o->id = strdup(id != NULL && id[0] != '\0' ? id : path);
	o->domain_name = strdup(name != NULL && name[0] != '\0' ? name : UNKNOWN_DOMAIN);
	o->origin_path = strdup("");
	if (o->id == NULL || o->domain_name == NULL || o->origin_path == NULL) {
		return oa__cfg_nomem(c);
	}
	oa__cfg_path_key(p, path, "origin_id");
	return oa__cfg_unique_id(c, p, config, index);
}

static int read_origin(const oa__cfg *c, const char *path, const json_t *obj, const json_t *u,
		       oa_config *config, size_t index)
{
	oa_origin_config *o = &config->origins[index];
	char p[OA__CFG_PATH_MAX];
	char *where = NULL;
	const json_t *v;

	oa__cfg_origin_defaults(o);
	int rc = oa__cfg_expect_object(c, path, obj);
	if (rc < 0) {
		return rc;
	}
	rc = oa__tf_origin_unknown(path, u, &where);
	if (rc != 0) {
		return rc < 0 ? oa__cfg_nomem(c)
			      : unknown_origin(c, path, obj, where, config, index);
	}
	v = member(obj, path, "origin_id", p);
	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"origin_id\"");
	}
	rc = oa__cfg_string(c, p, v, true, &o->id);
	if (rc == 0) {
		rc = oa__cfg_unique_id(c, p, config, index);
	}
	if (rc < 0) {
		return rc;
	}
	v = member(obj, path, "domain_name", p);
	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"domain_name\"");
	}
	rc = oa__cfg_domain(c, p, v, &o->domain_name);
	if (rc == 0) {
		oa__cfg_path_key(p, path, "origin_path");
		rc = oa__cfg_origin_path(c, p, get(obj, "origin_path"), &o->origin_path);
	}
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "connection_attempts", 1, 3, &o->connection_attempts);
	}
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "connection_timeout", 1, 10, &o->connection_timeout_s);
	}
	const json_t *custom = NULL, *vpc = NULL;
	char cp[OA__CFG_PATH_MAX];
	char vp[OA__CFG_PATH_MAX];
	if (rc == 0) {
		rc = get_block(c, path, obj, "custom_origin_config", &custom, cp);
	}
	if (rc == 0) {
		rc = get_block(c, path, obj, "vpc_origin_config", &vpc, vp);
	}
	if (rc < 0) {
		return rc;
	}
	if (custom != NULL && vpc != NULL) {
		return oa__cfg_fail(c, path,
				    "custom_origin_config and vpc_origin_config both given: an "
				    "origin has one of them");
	}
	if (vpc != NULL) {
		return read_vpc(c, vp, vpc, o);
	}
	if (custom == NULL) {
		/* S3 (or another AWS-managed origin): CloudFront's own certificate, not probed. */
		o->s3 = true;
		return 0;
	}
	return read_custom(c, cp, custom, o);
}

static int read_origins(const oa__cfg *c, const oa__tf_distribution *d, oa_config *config)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *items;
	const json_t *u = json_object_get(d->unknown, "origin");

	if (json_is_true(u)) {
		return oa__cfg_fail(c, "origin", "known only after apply: no origin to audit");
	}
	int rc = get_array(c, "origin", d->values, "origin", &items);
	if (rc < 0) {
		return rc;
	}
	if (json_array_size(items) == 0) {
		return oa__cfg_fail(c, "origin", "expected at least one origin");
	}
	size_t n = json_array_size(items);
	config->origins = calloc(n, sizeof(*config->origins));
	if (config->origins == NULL) {
		return oa__cfg_nomem(c);
	}
	config->n_origins = n;
	if (oa__cfg_index_init(c->ids, n) < 0) {
		return oa__cfg_nomem(c);
	}
	for (size_t i = 0; i < n; i++) {
		oa__cfg_path_index(p, "origin", i);
		rc = read_origin(c, p, json_array_get(items, i), json_array_get(u, i), config, i);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* Member m (at mpath) of an origin group, appended to b->group_members. */
static int group_member(const oa__cfg *c, const char *mpath, const json_t *member,
			oa_behavior_config *b)
{
	char p[OA__CFG_PATH_MAX];
	int rc = oa__cfg_expect_object(c, mpath, member);

	if (rc < 0) {
		return rc;
	}
	oa__cfg_path_key(p, mpath, "origin_id");
	return oa__cfg_group_member(c, p, get(member, "origin_id"), b);
}

/*
 * The members of the origin group id, in failover order, into
 * b->group_members; *primary is the first member's origin id (owned by the
 * document), NULL when no group has this id.
 */
static int group_members(const oa__cfg *c, const json_t *values, const char *id,
			 oa_behavior_config *b, const char **primary)
{
	char p[OA__CFG_PATH_MAX];
	char mp[OA__CFG_PATH_MAX];
	const json_t *groups;
	const json_t *members;
	int rc = get_array(c, "origin_group", values, "origin_group", &groups);

	*primary = NULL;
	for (size_t i = 0; rc == 0 && i < json_array_size(groups); i++) {
		const json_t *g = json_array_get(groups, i);

		oa__cfg_path_index(p, "origin_group", i);
		rc = oa__cfg_expect_object(c, p, g);
		const char *gid = json_string_value(get(g, "origin_id"));
		if (rc < 0 || gid == NULL || strcmp(gid, id) != 0) {
			continue;
		}
		oa__cfg_path_key(mp, p, "member");
		rc = get_array(c, mp, g, "member", &members);
		if (rc < 0) {
			return rc;
		}
		size_t n = json_array_size(members);
		if (n == 0) {
			return oa__cfg_fail(c, mp, "the origin group has no member");
		}
		b->group_members = calloc(n, sizeof(*b->group_members));
		if (b->group_members == NULL) {
			return oa__cfg_nomem(c);
		}
		for (size_t m = 0; m < n; m++) {
			oa__cfg_path_index(p, mp, m);
			rc = group_member(c, p, json_array_get(members, m), b);
			if (rc < 0) {
				return rc;
			}
		}
		*primary = json_string_value(get(json_array_get(members, 0), "origin_id"));
		return 0;
	}
	return rc;
}

/* Whether the behaviour at path sends the viewer's Host header to the origin. */
static int forwards_host(const oa__cfg *c, const char *path, const json_t *obj, bool *out)
{
	char p[OA__CFG_PATH_MAX];
	char fp[OA__CFG_PATH_MAX];
	const json_t *v = get(obj, "origin_request_policy_id");
	const json_t *fv;
	const json_t *headers;

	*out = false;
	if (v != NULL) {
		oa__cfg_path_key(p, path, "origin_request_policy_id");
		if (!json_is_string(v)) {
			return oa__cfg_fail(c, p, "expected a string, got %s",
					    oa__cfg_type_name(v));
		}
		*out = oa__cfg_all_viewer_policy(json_string_value(v));
	}
	int rc = get_block(c, path, obj, "forwarded_values", &fv, fp);
	if (rc < 0 || fv == NULL) {
		return rc;
	}
	oa__cfg_path_key(p, fp, "headers");
	rc = get_array(c, p, fv, "headers", &headers);
	for (size_t i = 0; rc == 0 && i < json_array_size(headers); i++) {
		const char *h = json_string_value(json_array_get(headers, i));

		if (h == NULL) {
			char hp[OA__CFG_PATH_MAX];

			oa__cfg_path_index(hp, p, i);
			return oa__cfg_fail(c, hp, "expected a string, got %s",
					    oa__cfg_type_name(json_array_get(headers, i)));
		}
		if (oa__cfg_forwards_host_header(h)) {
			*out = true;
		}
	}
	return rc;
}

/*
 * The origin (or origin group, recorded against its primary) a behaviour
 * targets; origins are read first.
 */
static int behavior_target(const oa__cfg *c, const json_t *values, const char *path,
			   const json_t *obj, oa_behavior_config *b)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v = get(obj, "target_origin_id");

	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"target_origin_id\"");
	}
	oa__cfg_path_key(p, path, "target_origin_id");
	int rc = oa__cfg_string(c, p, v, true, &b->origin_id);
	if (rc < 0) {
		return rc;
	}
	long index = oa__cfg_find_origin(c, b->origin_id);
	if (index < 0) {
		const char *member = NULL;

		rc = group_members(c, values, b->origin_id, b, &member);
		if (rc < 0) {
			return rc;
		}
		if (member == NULL) {
			return oa__cfg_no_origin(c, p, b->origin_id);
		}
		index = (long)b->group_members[0];
		char *id = strdup(member);
		if (id == NULL) {
			return oa__cfg_nomem(c);
		}
		free(b->origin_id);
		b->origin_id = id;
	}
	b->origin_index = (size_t)index;
	return 0;
}

static int read_behavior(const oa__cfg *c, const json_t *values, const char *path,
			 const json_t *obj, bool is_default, oa_behavior_config *b)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v;

	oa__cfg_behavior_defaults(b);
	int rc = oa__cfg_expect_object(c, path, obj);
	if (rc < 0) {
		return rc;
	}
	if (!is_default) {
		v = member(obj, path, "path_pattern", p);
		if (v == NULL) {
			return oa__cfg_fail(c, path, "missing required key \"path_pattern\"");
		}
		rc = oa__cfg_path_pattern(c, p, v, &b->path_pattern);
	}
	if (rc == 0) {
		rc = behavior_target(c, values, path, obj, b);
	}
	v = member(obj, path, "viewer_protocol_policy", p);
	if (rc == 0 && v != NULL) {
		rc = oa__cfg_viewer_policy(c, p, v, &b->viewer_protocol_policy);
	}
	if (rc < 0) {
		return rc;
	}
	return forwards_host(c, path, obj, &b->forward_host_header);
}

static int read_behaviors(const oa__cfg *c, const json_t *values, oa_config *config)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *items;
	const json_t *dflt;
	int rc = get_array(c, "ordered_cache_behavior", values, "ordered_cache_behavior", &items);

	if (rc == 0 && json_array_size(items) > 0) {
		size_t n = json_array_size(items);

		config->behaviors = calloc(n, sizeof(*config->behaviors));
		if (config->behaviors == NULL) {
			return oa__cfg_nomem(c);
		}
		config->n_behaviors = n;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			oa__cfg_path_index(p, "ordered_cache_behavior", i);
			rc = read_behavior(c, values, p, json_array_get(items, i), false,
					   &config->behaviors[i]);
		}
	}
	if (rc == 0) {
		rc = get_block(c, "", values, "default_cache_behavior", &dflt, p);
	}
	if (rc < 0 || dflt == NULL) {
		return rc;
	}
	config->has_default_behavior = true;
	return read_behavior(c, values, p, dflt, true, &config->default_behavior);
}

int oa__tf_read_distribution(const oa__cfg *c, const oa__tf_distribution *d, oa_config *config)
{
	char *where = NULL;
	int rc = oa__tf_distribution_unknown(d->unknown, &where);

	if (rc < 0) {
		return oa__cfg_nomem(c);
	}
	rc = 0;
	/* Aliases known only after apply are left out; every origin is skipped then. */
	if (where == NULL || strncmp(where, "aliases", 7) != 0) {
		rc = read_aliases(c, d->values, config);
	}
	if (rc == 0) {
		rc = read_origins(c, d, config);
	}
	if (rc < 0 || where == NULL) {
		free(where);
		return rc < 0 ? rc : read_behaviors(c, d->values, config);
	}
	/*
	 * A value the audit depends on is known only after apply: which origins
	 * get the viewer's Host cannot be told, so no origin is probed (each is
	 * listed as skipped) rather than probed on a guess. The behaviours are
	 * not read.
	 */
	for (size_t i = 0; i < config->n_origins && rc == 0; i++) {
		oa_origin_config *o = &config->origins[i];

		/* S3 origins are skipped anyway, as such. */
		if (o->unresolved != NULL || o->s3) {
			continue;
		}
		o->unresolved = strdup(where);
		o->unresolved_reason = UNKNOWN_REASON;
		if (o->unresolved == NULL) {
			rc = oa__cfg_nomem(c);
		}
	}
	free(where);
	return rc;
}
