/*
 * Import of `aws cloudfront get-distribution-config` output. Keys we do not
 * read are ignored (AWS keeps adding some); the keys we read are checked with
 * the same rules as our own format, and errors name their path in AWS's
 * terms ("DistributionConfig.Origins.Items[1].CustomOriginConfig.HTTPSPort").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_cfn.h"
#include "config_hint.h"
#include "config_internal.h"

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
	if (json_is_array(v)) {
		/* CloudFormation writes these lists bare, without Quantity and Items. */
		snprintf(items_path, OA__CFG_PATH_MAX, "%s", path);
		*items = v;
		return 0;
	}
	rc = oa__cfg_expect_object(c, path, v);
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
	const json_t *items;
	int rc = cf_list(c, parent, dc, "Aliases", &items, ip);

	if (rc < 0) {
		return rc;
	}
	return oa__cfg_aliases(c, ip, items, config);
}

static int read_custom(const oa__cfg *c, const char *path, const json_t *obj, oa_origin_config *o)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc = oa__cfg_expect_object(c, path, obj);

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
	/* The CLI's spelling, or CloudFormation's. */
	const char *ssl_key = json_object_get(obj, "OriginSslProtocols") == NULL &&
				      json_object_get(obj, "OriginSSLProtocols") != NULL
				  ? "OriginSSLProtocols"
				  : "OriginSslProtocols";
	rc = cf_list(c, path, obj, ssl_key, &items, ip);
	if (rc < 0) {
		return rc;
	}
	if (json_object_get(obj, ssl_key) != NULL) {
		if (json_array_size(items) == 0) {
			oa__cfg_path_key(p, path, ssl_key);
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
	v = json_object_get(obj, "IpAddressType");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "IpAddressType");
		rc = oa__cfg_ip_address_type(c, p, v, &o->ip_address_type);
		if (rc < 0) {
			return rc;
		}
	}
	rc = opt_uint(c, path, obj, "OriginReadTimeout", 1, OA__CFG_RAISED_TIMEOUT_MAX,
		      &o->read_timeout_s);
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "OriginKeepaliveTimeout", 1, OA__CFG_RAISED_TIMEOUT_MAX,
			      &o->keepalive_timeout_s);
	}
	return rc;
}

/*
 * VpcOriginConfig: CloudFront reaches the origin (an internal load balancer
 * or an instance) through the VPC origin VpcOriginId, by HTTPS on port 443
 * with TLSv1.2 unless told otherwise. get-distribution-config carries only
 * the id and the timeouts; the ports, policy, protocols and address type live
 * on the VPC origin itself (get-vpc-origin's VpcOriginEndpointConfig) and are
 * read here too when copied into this object, with CustomOriginConfig's rules.
 */
static int read_vpc(const oa__cfg *c, const char *path, const json_t *obj, oa_origin_config *o)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc = oa__cfg_expect_object(c, path, obj);

	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "VpcOriginId");
	if (v == NULL) {
		return oa__cfg_fail(c, path, "missing required key \"VpcOriginId\"");
	}
	oa__cfg_path_key(p, path, "VpcOriginId");
	rc = oa__cfg_string(c, p, v, true, &o->vpc_origin_id);
	if (rc < 0) {
		return rc;
	}
	o->vpc = true;
	rc = read_custom(c, path, obj, o);
	if (rc < 0) {
		return rc;
	}
	if (o->ip_address_type == OA_IP_IPV6) {
		oa__cfg_path_key(p, path, "IpAddressType");
		return oa__cfg_fail(c, p,
				    "ipv6 is not supported for VPC origins: expected ipv4 or "
				    "dualstack");
	}
	return 0;
}

/*
 * The first intrinsic function among the values of v (depth first, keys in
 * order), as "PATH: !Fn ..." into *out; 1 when found, 0 when none, -1 when
 * out of memory.
 */
static int first_unresolved(const char *path, const json_t *v, char **out)
{
	char expr[200];

	if (oa__cfn_unresolved(v, expr, sizeof(expr))) {
		size_t len = strlen(path) + strlen(expr) + 3;

		*out = malloc(len);
		if (*out == NULL) {
			return -1;
		}
		snprintf(*out, len, "%s: %s", path, expr);
		return 1;
	}
	if (json_is_object(v)) {
		const char *key;
		const json_t *item;

		json_object_foreach((json_t *)v, key, item)
		{
			char p[OA__CFG_PATH_MAX];

			oa__cfg_path_key(p, path, key);
			int rc = first_unresolved(p, item, out);
			if (rc != 0) {
				return rc;
			}
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			char p[OA__CFG_PATH_MAX];

			oa__cfg_path_index(p, path, i);
			int rc = first_unresolved(p, json_array_get(v, i), out);
			if (rc != 0) {
				return rc;
			}
		}
	}
	return 0;
}

/*
 * An origin of a template with a value only a deployment knows: kept, with
 * its id and what is known of its name, and marked unresolved (skipped). 1
 * when it is, 0 when every value is known, -1 when out of memory.
 */
static int find_unresolved(const char *path, const json_t *obj, oa_origin_config *o)
{
	int rc = first_unresolved(path, obj, &o->unresolved);

	if (rc <= 0) {
		return rc;
	}
	o->unresolved_reason = "unresolved_value";
	const json_t *name = json_object_get(obj, "DomainName");
	char expr[200];

	if (json_is_string(name)) {
		o->domain_name = strdup(json_string_value(name));
	} else {
		/* The name itself is unknown: the report shows the expression. */
		o->domain_name = strdup(oa__cfn_unresolved(name, expr, sizeof(expr)) ? expr : "?");
	}
	if (o->domain_name == NULL) {
		return -1;
	}
	return 1;
}

static int read_origin(const oa__cfg *c, const char *path, const json_t *obj, oa_config *config,
		       size_t index)
{
	oa_origin_config *o = &config->origins[index];
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc;

	oa__cfg_origin_defaults(o);
	rc = oa__cfg_expect_object(c, path, obj);
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
	/* A template's value known only once deployed: the origin is listed as skipped. */
	rc = find_unresolved(path, obj, o);
	if (rc != 0) {
		return rc < 0 ? oa__cfg_nomem(c) : 0;
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
	const json_t *vpc = json_object_get(obj, "VpcOriginConfig");
	if (v != NULL && vpc != NULL) {
		return oa__cfg_fail(c, path,
				    "\"CustomOriginConfig\" and \"VpcOriginConfig\" both given: an "
				    "origin has one of them");
	}
	if (vpc != NULL) {
		oa__cfg_path_key(p, path, "VpcOriginConfig");
		return read_vpc(c, p, vpc, o);
	}
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

/* Member m of an origin group's Members.Items (at items_path), appended to b->group_members. */
static int group_member(const oa__cfg *c, const char *items_path, const json_t *items, size_t m,
			oa_behavior_config *b)
{
	char p[OA__CFG_PATH_MAX];
	char op[OA__CFG_PATH_MAX];
	const json_t *member = json_array_get(items, m);

	oa__cfg_path_index(p, items_path, m);
	int rc = oa__cfg_expect_object(c, p, member);
	if (rc < 0) {
		return rc;
	}
	oa__cfg_path_key(op, p, "OriginId");
	return oa__cfg_group_member(c, op, json_object_get(member, "OriginId"), b);
}

/*
 * The members of an origin group, in failover order, into b->group_members
 * (indexes of origins). *primary is the first member's origin id (owned by the
 * document), or NULL when no group has this id.
 */
static int group_members(const oa__cfg *c, const char *parent, const json_t *dc, const char *id,
			 oa_behavior_config *b, const char **primary)
{
	char ip[OA__CFG_PATH_MAX];
	char p[OA__CFG_PATH_MAX];
	char mp[OA__CFG_PATH_MAX];
	const json_t *groups;
	int rc = cf_list(c, parent, dc, "OriginGroups", &groups, ip);

	*primary = NULL;
	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < json_array_size(groups); i++) {
		const json_t *g = json_array_get(groups, i);
		const json_t *members;

		oa__cfg_path_index(p, ip, i);
		rc = oa__cfg_expect_object(c, p, g);
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
		size_t n = json_array_size(members);
		if (n == 0) {
			oa__cfg_path_key(mp, p, "Members");
			return oa__cfg_fail(c, mp, "the origin group has no member");
		}
		b->group_members = calloc(n, sizeof(*b->group_members));
		if (b->group_members == NULL) {
			return oa__cfg_nomem(c);
		}
		for (size_t m = 0; m < n; m++) {
			rc = group_member(c, mp, members, m, b);
			if (rc < 0) {
				return rc;
			}
		}
		*primary =
		    json_string_value(json_object_get(json_array_get(members, 0), "OriginId"));
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
		if (oa__cfg_all_viewer_policy(json_string_value(v))) {
			*out = true;
		}
	}
	v = json_object_get(obj, "ForwardedValues");
	if (v == NULL) {
		return 0;
	}
	oa__cfg_path_key(p, path, "ForwardedValues");
	rc = oa__cfg_expect_object(c, p, v);
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
		if (oa__cfg_forwards_host_header(json_string_value(h))) {
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
	rc = oa__cfg_expect_object(c, path, obj);
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

		rc = group_members(c, parent, dc, b->origin_id, b, &member);
		if (rc < 0) {
			return rc;
		}
		if (member == NULL) {
			return oa__cfg_no_origin(c, p, b->origin_id);
		}
		index = (long)b->group_members[0];
		/*
		 * A behaviour aimed at an origin group is recorded against the group's
		 * primary; group_members lists the failover members CloudFront also contacts.
		 */
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

/* One distribution found in a file: its DistributionConfig, JSON path and name. */
struct found {
	const json_t *dc;
	char parent[OA__CFG_PATH_MAX];
	/* Id, ARN or logical id; NULL: the file's path. Owned by the document. */
	const char *name;
};

/* Appends a distribution to *found (of *n); 0 or -ENOMEM. */
static int add_found(const oa__cfg *c, struct found **found, size_t *n, const json_t *dc,
		     const char *parent, const char *name)
{
	struct found *f = realloc(*found, (*n + 1) * sizeof(*f));

	if (f == NULL) {
		return oa__cfg_nomem(c);
	}
	*found = f;
	f[*n].dc = dc;
	snprintf(f[*n].parent, sizeof(f[*n].parent), "%s", parent);
	f[*n].name = name;
	(*n)++;
	return 0;
}

/* The name of a distribution summary or Distribution object: its Id, else its ARN. */
static const char *distribution_name(const json_t *d)
{
	const char *id = json_string_value(json_object_get(d, "Id"));

	return id != NULL && id[0] != '\0' ? id : json_string_value(json_object_get(d, "ARN"));
}

/*
 * Every DistributionConfig in root with its JSON path, whatever AWS tool
 * wrote root: get-distribution-config ({"ETag", "DistributionConfig"}),
 * get-distribution ({"Distribution": {..., "DistributionConfig"}}),
 * list-distributions ({"DistributionList": {"Items": [summary, ...]}}, whose
 * summaries have the same shape), a bare DistributionConfig, or a
 * CloudFormation template (every AWS::CloudFront::Distribution resource).
 */
static int find_distributions(const oa__cfg *c, const json_t *root, struct found **found, size_t *n)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v;

	if (!json_is_object(root)) {
		return oa__cfg_fail(c, "", "expected an object at the top level, got %s",
				    oa__cfg_type_name(root));
	}
	if ((v = json_object_get(root, "DistributionConfig")) != NULL) {
		return add_found(c, found, n, v, "DistributionConfig", NULL);
	}
	if ((v = json_object_get(root, "Distribution")) != NULL) {
		int rc = oa__cfg_expect_object(c, "Distribution", v);

		if (rc < 0) {
			return rc;
		}
		const json_t *dc = json_object_get(v, "DistributionConfig");
		if (dc == NULL) {
			return oa__cfg_fail(c, "Distribution",
					    "missing required key \"DistributionConfig\"");
		}
		return add_found(c, found, n, dc, "Distribution.DistributionConfig",
				 distribution_name(v));
	}
	if ((v = json_object_get(root, "DistributionList")) != NULL) {
		int rc = oa__cfg_expect_object(c, "DistributionList", v);

		if (rc < 0) {
			return rc;
		}
		const json_t *items = json_object_get(v, "Items");
		if (items != NULL && !json_is_array(items)) {
			return oa__cfg_fail(c, "DistributionList.Items",
					    "expected an array, got %s", oa__cfg_type_name(items));
		}
		if (json_array_size(items) == 0) {
			return oa__cfg_fail(c, "DistributionList.Items",
					    "no distribution in this list");
		}
		for (size_t i = 0; i < json_array_size(items); i++) {
			const json_t *d = json_array_get(items, i);

			oa__cfg_path_index(p, "DistributionList.Items", i);
			rc = oa__cfg_expect_object(c, p, d);
			if (rc == 0) {
				rc = add_found(c, found, n, d, p, distribution_name(d));
			}
			if (rc < 0) {
				return rc;
			}
		}
		return 0;
	}
	if (oa__cfn_is_template(root)) {
		oa__cfn_distribution *d = NULL;
		size_t nd = 0;
		int rc = oa__cfn_distributions(root, c->label, &d, &nd, c->err);

		for (size_t i = 0; i < nd && rc == 0; i++) {
			snprintf(p, sizeof(p), "Resources.%s.Properties.DistributionConfig",
				 d[i].logical_id);
			rc = add_found(c, found, n, d[i].config, p, d[i].logical_id);
		}
		free(d);
		return rc;
	}
	if (json_object_get(root, "Origins") != NULL) {
		/* The bare DistributionConfig, as `--query DistributionConfig` prints it. */
		return add_found(c, found, n, root, "", NULL);
	}
	if (oa__cfg_looks_like_terraform(root)) {
		return oa__cfg_fail(c, "",
				    "not a CloudFront distribution: this looks like terraform show "
				    "-json output: use --terraform FILE");
	}
	return oa__cfg_fail(c, "",
			    "not a CloudFront distribution: expected the output of aws cloudfront "
			    "get-distribution-config, get-distribution or list-distributions, a "
			    "DistributionConfig, or a CloudFormation template");
}

/* Marks every origin not skipped already as unresolved by detail; 0 or -1 (out of memory). */
static int skip_all(oa_config *config, const char *detail)
{
	for (size_t i = 0; i < config->n_origins; i++) {
		oa_origin_config *o = &config->origins[i];

		if (o->s3 || o->unresolved != NULL) {
			continue;
		}
		o->unresolved = strdup(detail);
		if (o->unresolved == NULL) {
			return -1;
		}
		o->unresolved_reason = "unresolved_value";
	}
	return 0;
}

static int read_distribution(const oa__cfg *c, const struct found *f, oa_config *config)
{
	const json_t *dc = f->dc;
	const char *parent = f->parent;
	char p[OA__CFG_PATH_MAX];
	int rc = oa__cfg_expect_object(c, parent, dc);

	if (rc == 0) {
		config->distribution = strdup(f->name != NULL ? f->name : c->label);
		rc = config->distribution == NULL ? oa__cfg_nomem(c) : 0;
	}
	if (rc == 0) {
		rc = read_origins(c, parent, dc, config);
	}
	if (rc < 0) {
		return rc;
	}
	/*
	 * A template's alias, behaviour or origin group known only once deployed:
	 * which names the origins are probed with is unknown, so every origin is
	 * skipped, naming the value, rather than probed with a guess.
	 */
	static const char *const shared[] = {"Aliases", "DefaultCacheBehavior", "CacheBehaviors",
					     "OriginGroups", NULL};
	for (size_t k = 0; shared[k] != NULL; k++) {
		char *unresolved = NULL;

		oa__cfg_path_key(p, parent, shared[k]);
		rc = first_unresolved(p, json_object_get(dc, shared[k]), &unresolved);
		if (rc < 0) {
			return oa__cfg_nomem(c);
		}
		if (rc > 0) {
			rc = skip_all(config, unresolved);
			free(unresolved);
			return rc < 0 ? oa__cfg_nomem(c) : 0;
		}
	}
	rc = read_aliases(c, parent, dc, config);
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

int oa_config_load_cloudfront(const char *path, oa_config_list *list, oa_error *err)
{
	oa__cfg_index ids = {NULL, 0};
	oa__cfg c = {path, err, &ids};
	oa_config_list read = {NULL, 0};
	struct found *found = NULL;
	size_t n_found = 0;
	json_t *root = NULL;
	int rc;

	/* JSON, or YAML (a CloudFormation template), by content. */
	rc = oa__cfn_read(path, &root, err);
	if (rc < 0) {
		return rc;
	}
	rc = find_distributions(&c, root, &found, &n_found);
	for (size_t i = 0; i < n_found && rc == 0; i++) {
		oa_config *config = oa__cfg_new();

		if (config == NULL) {
			rc = oa__cfg_nomem(&c);
			break;
		}
		/* Origin ids are unique within a distribution, not across them. */
		oa__cfg_index_finish(&ids);
		rc = read_distribution(&c, &found[i], config);
		if (rc < 0) {
			oa_config_destroy(config);
		} else if (oa_config_list_push(&read, config) < 0) {
			rc = oa__cfg_nomem(&c);
		}
	}
	for (size_t i = 0; i < read.n && rc == 0; i++) {
		if (oa_config_list_push(list, read.items[i]) < 0) {
			rc = oa__cfg_nomem(&c);
		}
		read.items[i] = NULL;
	}
	if (rc < 0) {
		/* Those already moved to list stay there: only a later push failed. */
		oa_config_list_clear(&read);
	} else {
		free(read.items);
	}
	free(found);
	oa__cfg_index_finish(&ids);
	json_decref(root);
	return rc;
}

int oa_config_load_cloudfront_file(const char *path, oa_config **out, oa_error *err)
{
	oa_config_list list = {NULL, 0};
	int rc = oa_config_load_cloudfront(path, &list, err);

	*out = NULL;
	if (rc < 0) {
		return rc;
	}
	if (list.n != 1) {
		oa__cfg c = {path, err, NULL};

		rc = oa__cfg_fail(&c, "", "%zu distributions in this file, expected one", list.n);
		oa_config_list_clear(&list);
		return rc;
	}
	*out = list.items[0];
	free(list.items);
	return 0;
}
