/*
 * The configuration file: reading it, validating every key against
 * CloudFront's rules, and freeing it. The value rules themselves live in
 * config_values.c, shared with the CloudFront import.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_hint.h"
#include "config_internal.h"
#include "originaudit/verify.h"

const char *oa_proto_name(unsigned bit)
{
	switch (bit) {
	case OA_PROTO_SSL3:
		return "SSLv3";
	case OA_PROTO_TLS1_0:
		return "TLSv1";
	case OA_PROTO_TLS1_1:
		return "TLSv1.1";
	case OA_PROTO_TLS1_2:
		return "TLSv1.2";
	case OA_PROTO_TLS1_3:
		return "TLSv1.3";
	default:
		return NULL;
	}
}

const char *oa_ip_address_type_name(oa_ip_address_type type)
{
	switch (type) {
	case OA_IP_DUALSTACK:
		return "dualstack";
	case OA_IP_IPV4:
		return "ipv4";
	case OA_IP_IPV6:
		return "ipv6";
	}
	return "?";
}

int oa__cfg_read_json(const char *path, json_t **root, oa_error *err)
{
	json_error_t jerr;
	struct stat st;
	FILE *f = fopen(path, "rb");

	*root = NULL;
	if (f == NULL) {
		int e = errno;
		return oa_error_set(err, -e, "%s: %s", path, strerror(e));
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return oa_error_set(err, -EISDIR, "%s: %s", path, strerror(EISDIR));
	}
	/* Duplicate keys are refused: with them, which value wins is a guess. */
	*root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (*root != NULL) {
		return 0;
	}
	if (jerr.line < 1) {
		return oa_error_set(err, -EBADMSG, "%s: %s", path, jerr.text);
	}
	return oa_error_set(err, -EBADMSG, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
}

void oa__cfg_origin_defaults(oa_origin_config *o)
{
	memset(o, 0, sizeof(*o));
	o->https_port = 443;
	o->http_port = 80;
	/* CloudFront requires a policy; https-only is the one that always checks the certificate.
	 */
	o->protocol_policy = OA_ORIGIN_HTTPS_ONLY;
	o->ssl_protocols = OA_PROTO_TLS1_2;
	o->connection_timeout_s = 10;
	o->connection_attempts = 3;
	o->read_timeout_s = 30;
	o->keepalive_timeout_s = 5;
}

void oa__cfg_behavior_defaults(oa_behavior_config *b)
{
	memset(b, 0, sizeof(*b));
	b->viewer_protocol_policy = OA_VIEWER_ALLOW_ALL;
	b->forward_host_header = false;
}

oa_config *oa__cfg_new(void)
{
	oa_config *config = calloc(1, sizeof(*config));

	if (config == NULL) {
		return NULL;
	}
	/* The default rule, relative to each certificate's lifetime (oa_policy). */
	config->scan.expiry_warn_days = OA_POLICY_AUTO;
	config->scan.expiry_critical_days = OA_POLICY_AUTO;
	config->scan.concurrency = 64;
	config->scan.connect_timeout_ms = 10000;
	config->scan.handshake_timeout_ms = 10000;
	oa__cfg_behavior_defaults(&config->default_behavior);
	if (oa__cfg_proxy_defaults(&config->proxy) < 0) {
		free(config);
		return NULL;
	}
	return config;
}

static int parse_aliases(const oa__cfg *c, const json_t *v, oa_config *config)
{
	if (!json_is_array(v)) {
		return oa__cfg_fail(c, "aliases", "expected an array of host names, got %s",
				    oa__cfg_type_name(v));
	}
	return oa__cfg_aliases(c, "aliases", v, config);
}

static int parse_ssl_protocols(const oa__cfg *c, const char *path, const json_t *v, unsigned *bits)
{
	char p[OA__CFG_PATH_MAX];

	if (!json_is_array(v) || json_array_size(v) == 0) {
		return oa__cfg_fail(c, path, "expected a non-empty array");
	}
	*bits = 0;
	for (size_t i = 0; i < json_array_size(v); i++) {
		oa__cfg_path_index(p, path, i);
		int rc = oa__cfg_ssl_protocol(c, p, json_array_get(v, i), bits);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/*
 * An explicit address CloudFront would never use (an IPv4 address of an ipv6
 * origin, or the reverse) is refused rather than silently left out: the
 * operator asked for two contradicting things.
 */
static int address_family_allowed(const oa__cfg *c, const char *path, const oa_origin_config *o,
				  const char *address)
{
	bool v6 = strchr(address, ':') != NULL;

	if (o->ip_address_type == OA_IP_IPV4 && v6) {
		return oa__cfg_fail(c, path,
				    "%s is an IPv6 address, but ip_address_type is ipv4 "
				    "(CloudFront connects over IPv4 only)",
				    address);
	}
	if (o->ip_address_type == OA_IP_IPV6 && !v6) {
		return oa__cfg_fail(c, path,
				    "%s is an IPv4 address, but ip_address_type is ipv6 "
				    "(CloudFront connects over IPv6 only)",
				    address);
	}
	return 0;
}

static int parse_addresses(const oa__cfg *c, const char *path, const json_t *v, oa_origin_config *o)
{
	char p[OA__CFG_PATH_MAX];
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n == 0) {
		return oa__cfg_fail(c, path, "expected a non-empty array of IP addresses");
	}
	o->addresses = calloc(n, sizeof(*o->addresses));
	if (o->addresses == NULL) {
		return oa__cfg_nomem(c);
	}
	o->n_addresses = n;
	for (size_t i = 0; i < n; i++) {
		oa__cfg_path_index(p, path, i);
		int rc = oa__cfg_address(c, p, json_array_get(v, i), &o->addresses[i]);
		if (rc < 0) {
			return rc;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(o->addresses[j], o->addresses[i]) == 0) {
				return oa__cfg_fail(c, p, "duplicate address %s", o->addresses[i]);
			}
		}
		rc = address_family_allowed(c, p, o, o->addresses[i]);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* An optional unsigned key: left at its default when absent. */
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

/*
 * Thresholds under which expiry would fail before it warns; the message blames
 * the key the operator wrote (critical_given: expiry_critical_days), not the
 * default it collides with.
 */
static int inconsistent_expiry(const oa__cfg *c, const oa_policy *p, bool critical_given)
{
	char warn[32];
	char critical[32];

	if (p->warn_percent > 0) {
		snprintf(warn, sizeof(warn), "%d%%", p->warn_percent);
	} else if (p->warn_days >= 0) {
		snprintf(warn, sizeof(warn), "%d", p->warn_days);
	} else {
		snprintf(warn, sizeof(warn), "%d", OA_POLICY_DEFAULT_WARN_DAYS);
	}
	if (p->critical_percent > 0) {
		snprintf(critical, sizeof(critical), "%d%%", p->critical_percent);
	} else if (p->critical_days >= 0) {
		snprintf(critical, sizeof(critical), "%d", p->critical_days);
	} else {
		snprintf(critical, sizeof(critical), "%d", OA_POLICY_DEFAULT_CRITICAL_DAYS);
	}
	if (critical_given) {
		return oa__cfg_fail(c, "scan.expiry_critical_days",
				    "%s is more than expiry_warn_days (%s)", critical, warn);
	}
	return oa__cfg_fail(c, "scan.expiry_warn_days",
			    "%s is less than expiry_critical_days (%s by default)", warn, critical);
}

/* origins[].expiry_warn_days / expiry_critical_days: the scan's thresholds for this origin. */
static int origin_expiry(const oa__cfg *c, const char *path, const json_t *obj, oa_origin_config *o)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v = json_object_get(obj, "expiry_warn_days");
	int rc;

	if (v != NULL) {
		oa__cfg_path_key(p, path, "expiry_warn_days");
		rc = oa__cfg_threshold(c, p, v, &o->expiry_warn_days, &o->expiry_warn_percent);
		if (rc < 0) {
			return rc;
		}
		o->has_expiry_warn = true;
	}
	v = json_object_get(obj, "expiry_critical_days");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "expiry_critical_days");
		rc = oa__cfg_threshold(c, p, v, &o->expiry_critical_days,
				       &o->expiry_critical_percent);
		if (rc < 0) {
			return rc;
		}
		o->has_expiry_critical = true;
	}
	return 0;
}

static int parse_origin(const oa__cfg *c, const char *path, const json_t *obj, oa_config *config,
			size_t index)
{
	static const char *const keys[] = {"id",
					   "domain_name",
					   "origin_path",
					   "https_port",
					   "http_port",
					   "protocol_policy",
					   "ssl_protocols",
					   "addresses",
					   "connection_timeout_s",
					   "connection_attempts",
					   "read_timeout_s",
					   "keepalive_timeout_s",
					   "expiry_warn_days",
					   "expiry_critical_days",
					   "ip_address_type",
					   NULL};
	oa_origin_config *o = &config->origins[index];
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc;

	oa__cfg_origin_defaults(o);
	rc = oa__cfg_expect_object(c, path, obj);
	if (rc == 0) {
		rc = oa__cfg_check_keys(c, path, obj, keys);
	}
	if (rc < 0) {
		return rc;
	}

	v = json_object_get(obj, "id");
	if (v == NULL) {
		return oa__cfg_missing(c, path, "id");
	}
	oa__cfg_path_key(p, path, "id");
	rc = oa__cfg_string(c, p, v, true, &o->id);
	if (rc == 0) {
		rc = oa__cfg_unique_id(c, p, config, index);
	}
	if (rc < 0) {
		return rc;
	}

	v = json_object_get(obj, "domain_name");
	if (v == NULL) {
		return oa__cfg_missing(c, path, "domain_name");
	}
	oa__cfg_path_key(p, path, "domain_name");
	rc = oa__cfg_domain(c, p, v, &o->domain_name);
	if (rc < 0) {
		return rc;
	}

	oa__cfg_path_key(p, path, "origin_path");
	rc = oa__cfg_origin_path(c, p, json_object_get(obj, "origin_path"), &o->origin_path);
	if (rc < 0) {
		return rc;
	}

	v = json_object_get(obj, "https_port");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "https_port");
		rc = oa__cfg_port(c, p, v, &o->https_port);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "http_port");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "http_port");
		rc = oa__cfg_port(c, p, v, &o->http_port);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "protocol_policy");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "protocol_policy");
		rc = oa__cfg_origin_policy(c, p, v, &o->protocol_policy);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "ssl_protocols");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "ssl_protocols");
		rc = parse_ssl_protocols(c, p, v, &o->ssl_protocols);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "ip_address_type");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "ip_address_type");
		rc = oa__cfg_ip_address_type(c, p, v, &o->ip_address_type);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "addresses");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "addresses");
		rc = parse_addresses(c, p, v, o);
		if (rc < 0) {
			return rc;
		}
	}

	rc = opt_uint(c, path, obj, "connection_timeout_s", 1, 10, &o->connection_timeout_s);
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "connection_attempts", 1, 3, &o->connection_attempts);
	}
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "read_timeout_s", 1, 120, &o->read_timeout_s);
	}
	if (rc == 0) {
		rc = opt_uint(c, path, obj, "keepalive_timeout_s", 1, 120, &o->keepalive_timeout_s);
	}
	if (rc == 0) {
		rc = origin_expiry(c, path, obj, o);
	}
	return rc;
}

static int parse_origins(const oa__cfg *c, const json_t *v, oa_config *config)
{
	char p[OA__CFG_PATH_MAX];
	size_t n = json_array_size(v);

	if (v == NULL || !json_is_array(v) || n == 0) {
		return oa__cfg_fail(c, "origins", "expected a non-empty array");
	}
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
		oa__cfg_path_index(p, "origins", i);
		int rc = parse_origin(c, p, json_array_get(v, i), config, i);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* The origin a behaviour names is looked up in c->ids, so origins are read first. */
static int parse_behavior(const oa__cfg *c, const char *path, const json_t *obj, bool is_default,
			  oa_behavior_config *b)
{
	static const char *const keys[] = {"path_pattern", "origin", "viewer_protocol_policy",
					   "forward_host_header", NULL};
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc;

	oa__cfg_behavior_defaults(b);
	rc = oa__cfg_expect_object(c, path, obj);
	if (rc == 0) {
		rc = oa__cfg_check_keys(c, path, obj, keys);
	}
	if (rc < 0) {
		return rc;
	}

	v = json_object_get(obj, "path_pattern");
	if (is_default && v != NULL) {
		oa__cfg_path_key(p, path, "path_pattern");
		return oa__cfg_fail(
		    c, p, "not allowed: the default behaviour matches every path (\"*\")");
	}
	if (!is_default) {
		if (v == NULL) {
			return oa__cfg_missing(c, path, "path_pattern");
		}
		oa__cfg_path_key(p, path, "path_pattern");
		rc = oa__cfg_path_pattern(c, p, v, &b->path_pattern);
		if (rc < 0) {
			return rc;
		}
	}

	v = json_object_get(obj, "origin");
	if (v == NULL) {
		return oa__cfg_missing(c, path, "origin");
	}
	oa__cfg_path_key(p, path, "origin");
	rc = oa__cfg_string(c, p, v, true, &b->origin_id);
	if (rc < 0) {
		return rc;
	}
	long index = oa__cfg_find_origin(c, b->origin_id);
	if (index < 0) {
		return oa__cfg_no_origin(c, p, b->origin_id);
	}
	b->origin_index = (size_t)index;

	v = json_object_get(obj, "viewer_protocol_policy");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "viewer_protocol_policy");
		rc = oa__cfg_viewer_policy(c, p, v, &b->viewer_protocol_policy);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "forward_host_header");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "forward_host_header");
		rc = oa__cfg_bool(c, p, v, &b->forward_host_header);
	}
	return rc;
}

static int parse_behaviors(const oa__cfg *c, const json_t *v, oa_config *config)
{
	char p[OA__CFG_PATH_MAX];
	size_t n = json_array_size(v);

	if (!json_is_array(v)) {
		return oa__cfg_fail(c, "behaviors", "expected an array, got %s",
				    oa__cfg_type_name(v));
	}
	if (n == 0) {
		return 0;
	}
	config->behaviors = calloc(n, sizeof(*config->behaviors));
	if (config->behaviors == NULL) {
		return oa__cfg_nomem(c);
	}
	config->n_behaviors = n;
	for (size_t i = 0; i < n; i++) {
		oa__cfg_path_index(p, "behaviors", i);
		int rc = parse_behavior(c, p, json_array_get(v, i), false, &config->behaviors[i]);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

static int parse_scan(const oa__cfg *c, const json_t *obj, oa_scan_config *s)
{
	static const char *const keys[] = {
	    "ca_bundle",   "expiry_warn_days",	 "expiry_critical_days",
	    "concurrency", "connect_timeout_ms", "handshake_timeout_ms",
	    NULL};
	const json_t *v;
	int rc = oa__cfg_expect_object(c, "scan", obj);

	if (rc == 0) {
		rc = oa__cfg_check_keys(c, "scan", obj, keys);
	}
	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "ca_bundle");
	if (v != NULL) {
		rc = oa__cfg_string(c, "scan.ca_bundle", v, true, &s->ca_bundle);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "expiry_warn_days");
	if (v != NULL) {
		rc = oa__cfg_threshold(c, "scan.expiry_warn_days", v, &s->expiry_warn_days,
				       &s->expiry_warn_percent);
		if (rc < 0) {
			return rc;
		}
	}
	v = json_object_get(obj, "expiry_critical_days");
	if (v != NULL) {
		rc = oa__cfg_threshold(c, "scan.expiry_critical_days", v, &s->expiry_critical_days,
				       &s->expiry_critical_percent);
		if (rc < 0) {
			return rc;
		}
	}
	oa_policy policy = {s->expiry_warn_days, s->expiry_critical_days, s->expiry_warn_percent,
			    s->expiry_critical_percent};
	if (!oa_policy_consistent(&policy)) {
		return inconsistent_expiry(c, &policy, v != NULL);
	}
	rc = opt_uint(c, "scan", obj, "concurrency", 1, 10000, &s->concurrency);
	if (rc == 0) {
		rc = opt_uint(c, "scan", obj, "connect_timeout_ms", 1, 600000,
			      &s->connect_timeout_ms);
	}
	if (rc == 0) {
		rc = opt_uint(c, "scan", obj, "handshake_timeout_ms", 1, 600000,
			      &s->handshake_timeout_ms);
	}
	return rc;
}

int oa_config_from_json(json_t *root, const char *label, oa_config **out, oa_error *err)
{
	static const char *const keys[] = {"aliases", "origins", "behaviors", "default_behavior",
					   "scan",    "proxy",	 NULL};
	oa__cfg_index ids = {NULL, 0};
	oa__cfg c = {label != NULL ? label : "configuration", err, &ids};
	const json_t *v;
	oa_config *config;
	int rc;

	*out = NULL;
	if (!json_is_object(root)) {
		return oa__cfg_fail(&c, "", "expected an object at the top level, got %s",
				    root == NULL ? "nothing" : oa__cfg_type_name(root));
	}
	config = oa__cfg_new();
	if (config == NULL) {
		return oa__cfg_nomem(&c);
	}
	rc = oa__cfg_check_keys(&c, "", root, keys);
	if (rc < 0) {
		oa__cfg_cloudfront_hint(root, err);
		goto fail;
	}
	v = json_object_get(root, "aliases");
	if (v != NULL) {
		rc = parse_aliases(&c, v, config);
		if (rc < 0) {
			goto fail;
		}
	}
	rc = parse_origins(&c, json_object_get(root, "origins"), config);
	if (rc < 0) {
		goto fail;
	}
	v = json_object_get(root, "behaviors");
	if (v != NULL) {
		rc = parse_behaviors(&c, v, config);
		if (rc < 0) {
			goto fail;
		}
	}
	v = json_object_get(root, "default_behavior");
	if (v != NULL) {
		config->has_default_behavior = true;
		rc = parse_behavior(&c, "default_behavior", v, true, &config->default_behavior);
		if (rc < 0) {
			goto fail;
		}
	}
	v = json_object_get(root, "scan");
	if (v != NULL) {
		rc = parse_scan(&c, v, &config->scan);
		if (rc < 0) {
			goto fail;
		}
	}
	v = json_object_get(root, "proxy");
	if (v != NULL) {
		rc = oa__cfg_proxy(&c, v, &config->proxy);
		if (rc < 0) {
			goto fail;
		}
	}
	oa__cfg_index_finish(&ids);
	*out = config;
	return 0;

fail:
	oa__cfg_index_finish(&ids);
	oa_config_destroy(config);
	return rc;
}

/* The JSON of a file (or snapshot) already read; errors name path. */
static int parse_text(const char *text, size_t len, const char *path, json_t **root, oa_error *err)
{
	json_error_t jerr;

	/* Duplicate keys are refused: with them, which value wins is a guess. */
	*root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*root != NULL) {
		return 0;
	}
	if (jerr.line < 1) {
		return oa_error_set(err, -EBADMSG, "%s: %s", path, jerr.text);
	}
	return oa_error_set(err, -EBADMSG, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
}

static int load_root(json_t *root, const char *path, oa_config **out, oa_error *err);

int oa_config_load_fd(int fd, const char *path, oa_config **out, oa_error *err)
{
	json_t *root = NULL;
	char *text = NULL;
	size_t len = 0;
	size_t cap = 0;
	int rc;

	*out = NULL;
	for (;;) {
		if (len == cap) {
			char *grown =
			    cap < OA_CONFIG_MAX_BYTES ? realloc(text, cap ? cap * 2 : 65536) : NULL;

			if (grown == NULL) {
				free(text);
				return oa_error_set(err, -EFBIG, "%s: too large or out of memory",
						    path);
			}
			text = grown;
			cap = cap ? cap * 2 : 65536;
		}
		/* pread: the descriptor may be shared, its offset is nobody's. */
		ssize_t n = pread(fd, text + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int e = errno;

			free(text);
			return oa_error_set(err, -e, "%s: %s", path, strerror(e));
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	rc = parse_text(text, len, path, &root, err);
	free(text);
	if (rc < 0) {
		return rc;
	}
	return load_root(root, path, out, err);
}

int oa_config_load_file(const char *path, oa_config **out, oa_error *err)
{
	json_t *root = NULL;
	int rc;

	*out = NULL;
	rc = oa__cfg_read_json(path, &root, err);
	if (rc < 0) {
		return rc;
	}
	return load_root(root, path, out, err);
}

static int load_root(json_t *root, const char *path, oa_config **out, oa_error *err)
{
	int rc = oa_config_from_json(root, path, out, err);

	json_decref(root);
	if (rc < 0) {
		return rc;
	}
	/* A relative path in the file is meant from the file, not from the current directory. */
	rc = oa__cfg_resolve_path(path, &(*out)->scan.ca_bundle);
	if (rc == 0) {
		rc = oa__cfg_proxy_resolve_paths(&(*out)->proxy, path);
	}
	if (rc < 0) {
		oa_config_destroy(*out);
		*out = NULL;
		return oa_error_set(err, rc, "%s: out of memory", path);
	}
	return 0;
}

static void behavior_clear(oa_behavior_config *b)
{
	free(b->path_pattern);
	free(b->origin_id);
	free(b->group_members);
}

void oa_config_destroy(oa_config *config)
{
	if (config == NULL) {
		return;
	}
	for (size_t i = 0; i < config->n_aliases; i++) {
		free(config->aliases[i]);
	}
	free(config->aliases);
	free(config->distribution);
	for (size_t i = 0; i < config->n_origins; i++) {
		oa_origin_config *o = &config->origins[i];

		free(o->id);
		free(o->domain_name);
		free(o->origin_path);
		for (size_t j = 0; j < o->n_addresses; j++) {
			free(o->addresses[j]);
		}
		free(o->addresses);
		free(o->vpc_origin_id);
		free(o->unresolved);
	}
	free(config->origins);
	for (size_t i = 0; i < config->n_behaviors; i++) {
		behavior_clear(&config->behaviors[i]);
	}
	free(config->behaviors);
	behavior_clear(&config->default_behavior);
	free(config->scan.ca_bundle);
	oa__cfg_proxy_clear(&config->proxy);
	free(config);
}

void oa_config_list_clear(oa_config_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		oa_config_destroy(list->items[i]);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

int oa_config_list_push(oa_config_list *list, oa_config *config)
{
	oa_config **items = realloc(list->items, (list->n + 1) * sizeof(*items));

	if (items == NULL) {
		oa_config_destroy(config);
		return -ENOMEM;
	}
	items[list->n] = config;
	list->items = items;
	list->n++;
	return 0;
}
