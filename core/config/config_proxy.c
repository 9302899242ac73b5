/*
 * The "proxy" block of the configuration: the listeners of originaudit-proxy
 * and its few settings, validated as strictly as the rest of the file. Paths
 * are only recorded here; the proxy's --check opens them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define X_CACHE_NAME_DEFAULT "originaudit"
#define X_CACHE_NAME_MAX 64
#define AUDIT_INTERVAL_DEFAULT 300
#define MAX_CONNECTIONS_DEFAULT 10000
#define IDLE_TIMEOUT_DEFAULT 60
#define DRAIN_TIMEOUT_DEFAULT 30
/* 64 MiB and 1 MiB; a cache is never larger than 1 TiB (2^40 bytes). */
#define CACHE_MAX_BYTES_DEFAULT 67108864ULL
#define CACHE_MAX_OBJECT_BYTES_DEFAULT 1048576ULL
#define CACHE_BYTES_LIMIT 1099511627776LL

/* "ADDRESS:PORT", with an IPv6 address in brackets, for messages. */
static void format_listener(char *buf, size_t size, const oa_listen_config *l)
{
	if (strchr(l->address, ':') != NULL) {
		snprintf(buf, size, "[%s]:%u", l->address, l->port);
	} else {
		snprintf(buf, size, "%s:%u", l->address, l->port);
	}
}

static int parse_tls(const oa__cfg *c, const char *path, const json_t *obj, oa_listen_config *l)
{
	static const char *const keys[] = {"certificate", "key", NULL};
	char p[OA__CFG_PATH_MAX];
	const json_t *cert = json_object_get(obj, "certificate");
	const json_t *key = json_object_get(obj, "key");
	int rc = oa__cfg_expect_object(c, path, obj);

	if (rc == 0) {
		rc = oa__cfg_check_keys(c, path, obj, keys);
	}
	if (rc < 0) {
		return rc;
	}
	if (cert == NULL) {
		return oa__cfg_missing(c, path, "certificate");
	}
	if (key == NULL) {
		return oa__cfg_missing(c, path, "key");
	}
	oa__cfg_path_key(p, path, "certificate");
	rc = oa__cfg_string(c, p, cert, true, &l->certificate);
	if (rc < 0) {
		return rc;
	}
	oa__cfg_path_key(p, path, "key");
	rc = oa__cfg_string(c, p, key, true, &l->key);
	if (rc < 0) {
		return rc;
	}
	l->tls = true;
	return 0;
}

/*
 * The object at path with the allowed keys, and its required "address" (an IP
 * literal, made canonical into *address) and "port" (1-65535).
 */
static int parse_endpoint(const oa__cfg *c, const char *path, const json_t *obj,
			  const char *const *keys, char **address, unsigned *port)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc = oa__cfg_expect_object(c, path, obj);

	if (rc == 0) {
		rc = oa__cfg_check_keys(c, path, obj, keys);
	}
	if (rc < 0) {
		return rc;
	}
	/* No default address: listening on every interface should be written down. */
	v = json_object_get(obj, "address");
	if (v == NULL) {
		return oa__cfg_missing(c, path, "address");
	}
	oa__cfg_path_key(p, path, "address");
	rc = oa__cfg_address(c, p, v, address);
	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "port");
	if (v == NULL) {
		return oa__cfg_missing(c, path, "port");
	}
	oa__cfg_path_key(p, path, "port");
	return oa__cfg_uint(c, p, v, 1, 65535, port);
}

static int parse_listener(const oa__cfg *c, const char *path, const json_t *obj,
			  oa_listen_config *l)
{
	static const char *const keys[] = {"address", "port", "tls", NULL};
	char p[OA__CFG_PATH_MAX];
	const json_t *v;
	int rc = parse_endpoint(c, path, obj, keys, &l->address, &l->port);

	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "tls");
	if (v != NULL) {
		oa__cfg_path_key(p, path, "tls");
		rc = parse_tls(c, p, v, l);
	}
	return rc;
}

static int parse_listen(const oa__cfg *c, const json_t *v, oa_proxy_config *pc)
{
	char p[OA__CFG_PATH_MAX];
	char name[OA__CFG_QUOTE_SIZE];
	size_t n = json_array_size(v);

	if (!json_is_array(v) || n == 0) {
		return oa__cfg_fail(c, "proxy.listen", "expected a non-empty array");
	}
	pc->listen = calloc(n, sizeof(*pc->listen));
	if (pc->listen == NULL) {
		return oa__cfg_nomem(c);
	}
	pc->n_listen = n;
	for (size_t i = 0; i < n; i++) {
		oa_listen_config *l = &pc->listen[i];

		oa__cfg_path_index(p, "proxy.listen", i);
		int rc = parse_listener(c, p, json_array_get(v, i), l);
		if (rc < 0) {
			return rc;
		}
		/* Addresses are canonical, so equal text means the same socket. */
		for (size_t j = 0; j < i; j++) {
			if (pc->listen[j].port == l->port &&
			    strcmp(pc->listen[j].address, l->address) == 0) {
				format_listener(name, sizeof(name), l);
				return oa__cfg_fail(c, p, "duplicate listener %s", name);
			}
		}
	}
	return 0;
}

/*
 * The admin listener is served by the supervisor next to the viewer
 * listeners, so it may not share a port with any of them: a wildcard
 * address on either side would collide even when the addresses differ.
 */
static int parse_admin(const oa__cfg *c, const json_t *obj, oa_proxy_config *pc)
{
	static const char path[] = "proxy.admin";
	static const char *const keys[] = {"address", "port", NULL};
	char name[OA__CFG_QUOTE_SIZE];
	char p[OA__CFG_PATH_MAX];
	int rc = parse_endpoint(c, path, obj, keys, &pc->admin_address, &pc->admin_port);

	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < pc->n_listen; i++) {
		if (pc->listen[i].port == pc->admin_port) {
			format_listener(name, sizeof(name), &pc->listen[i]);
			oa__cfg_path_index(p, "proxy.listen", i);
			return oa__cfg_fail(c, path, "port %u is already used by %s (%s)",
					    pc->admin_port, p, name);
		}
	}
	pc->has_admin = true;
	return 0;
}

static int parse_cache(const oa__cfg *c, const json_t *obj, oa_proxy_config *pc)
{
	static const char *const keys[] = {"max_bytes", "max_object_bytes", NULL};
	const json_t *max_object = json_object_get(obj, "max_object_bytes");
	const json_t *v;
	long long n = 0;
	int rc = oa__cfg_expect_object(c, "proxy.cache", obj);

	if (rc == 0) {
		rc = oa__cfg_check_keys(c, "proxy.cache", obj, keys);
	}
	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "max_bytes");
	if (v != NULL) {
		rc = oa__cfg_integer(c, "proxy.cache.max_bytes", v, 0, CACHE_BYTES_LIMIT, &n);
		if (rc < 0) {
			return rc;
		}
		pc->cache_max_bytes = (unsigned long long)n;
	}
	if (max_object == NULL) {
		/* An object larger than the whole cache could not be stored anyway. */
		if (pc->cache_max_bytes != 0 && pc->cache_max_object_bytes > pc->cache_max_bytes) {
			pc->cache_max_object_bytes = pc->cache_max_bytes;
		}
		return 0;
	}
	rc = oa__cfg_integer(c, "proxy.cache.max_object_bytes", max_object, 0, CACHE_BYTES_LIMIT,
			     &n);
	if (rc < 0) {
		return rc;
	}
	pc->cache_max_object_bytes = (unsigned long long)n;
	/* With the cache disabled the limit means nothing, so any value is kept. */
	if (pc->cache_max_bytes != 0 && pc->cache_max_object_bytes > pc->cache_max_bytes) {
		return oa__cfg_fail(c, "proxy.cache.max_object_bytes",
				    "%llu is more than proxy.cache.max_bytes (%llu)",
				    pc->cache_max_object_bytes, pc->cache_max_bytes);
	}
	return 0;
}

/* proxy.KEY as an unsigned integer in min-max when present; *out keeps its default otherwise. */
static int optional_uint(const oa__cfg *c, const json_t *obj, const char *key, unsigned min,
			 unsigned max, unsigned *out)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		return 0;
	}
	oa__cfg_path_key(p, "proxy", key);
	return oa__cfg_uint(c, p, v, min, max, out);
}

/* The process, limit and logging settings: everything but the listeners and TLS. */
static int parse_operations(const oa__cfg *c, const json_t *obj, oa_proxy_config *p)
{
	const json_t *item;
	int rc = optional_uint(c, obj, "workers", 1, OA_PROXY_MAX_WORKERS, &p->workers);

	if (rc == 0) {
		rc = optional_uint(c, obj, "audit_interval_s", 0, 86400, &p->audit_interval_s);
	}
	if (rc == 0) {
		rc = optional_uint(c, obj, "max_connections", 1, 1000000, &p->max_connections);
	}
	if (rc == 0) {
		rc = optional_uint(c, obj, "idle_timeout_s", 1, 3600, &p->idle_timeout_s);
	}
	if (rc == 0) {
		rc = optional_uint(c, obj, "drain_timeout_s", 0, 3600, &p->drain_timeout_s);
	}
	if (rc < 0) {
		return rc;
	}
	item = json_object_get(obj, "access_log");
	if (item != NULL) {
		rc = oa__cfg_string(c, "proxy.access_log", item, true, &p->access_log);
		if (rc < 0) {
			return rc;
		}
	}
	item = json_object_get(obj, "admin");
	if (item != NULL) {
		rc = parse_admin(c, item, p);
		if (rc < 0) {
			return rc;
		}
	}
	item = json_object_get(obj, "cache");
	if (item != NULL) {
		rc = parse_cache(c, item, p);
	}
	return rc;
}

/* The characters of an HTTP token that need no explanation in a header value. */
static bool x_cache_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

/* The name goes into the X-Cache header, so it is kept to a plain token. */
static int parse_x_cache_name(const oa__cfg *c, const json_t *v, char **out)
{
	static const char path[] = "proxy.x_cache_name";
	char *s = NULL;
	int rc = oa__cfg_string(c, path, v, true, &s);

	if (rc < 0) {
		return rc;
	}
	size_t len = strlen(s);
	if (len > X_CACHE_NAME_MAX) {
		rc = oa__cfg_fail(c, path, "is %zu characters long: at most %d are allowed", len,
				  X_CACHE_NAME_MAX);
	}
	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (x_cache_char(ch)) {
			continue;
		}
		if (ch >= ' ' && ch < 0x7f) {
			rc = oa__cfg_fail(
			    c, path, "character '%c' is not allowed (use A-Z a-z 0-9 . _ -)", ch);
		} else {
			rc = oa__cfg_fail(c, path,
					  "byte 0x%02x is not allowed (use A-Z a-z 0-9 . _ -)", ch);
		}
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	free(*out);
	*out = s;
	return 0;
}

int oa__cfg_proxy_defaults(oa_proxy_config *p)
{
	memset(p, 0, sizeof(*p));
	p->audit_interval_s = AUDIT_INTERVAL_DEFAULT;
	p->max_connections = MAX_CONNECTIONS_DEFAULT;
	p->idle_timeout_s = IDLE_TIMEOUT_DEFAULT;
	p->drain_timeout_s = DRAIN_TIMEOUT_DEFAULT;
	p->cache_max_bytes = CACHE_MAX_BYTES_DEFAULT;
	p->cache_max_object_bytes = CACHE_MAX_OBJECT_BYTES_DEFAULT;
	p->x_cache_name = strdup(X_CACHE_NAME_DEFAULT);
	if (p->x_cache_name == NULL) {
		return -ENOMEM;
	}
	return 0;
}

int oa__cfg_proxy(const oa__cfg *c, const json_t *v, oa_proxy_config *p)
{
	static const char *const keys[] = {"listen",
					   "ca_bundle",
					   "x_cache_name",
					   "debug_headers",
					   "workers",
					   "admin",
					   "audit_interval_s",
					   "access_log",
					   "max_connections",
					   "idle_timeout_s",
					   "drain_timeout_s",
					   "cache",
					   NULL};
	const json_t *item;
	int rc = oa__cfg_expect_object(c, "proxy", v);

	if (rc == 0) {
		rc = oa__cfg_check_keys(c, "proxy", v, keys);
	}
	if (rc < 0) {
		return rc;
	}
	p->present = true;
	item = json_object_get(v, "listen");
	if (item == NULL) {
		return oa__cfg_missing(c, "proxy", "listen");
	}
	rc = parse_listen(c, item, p);
	if (rc < 0) {
		return rc;
	}
	item = json_object_get(v, "ca_bundle");
	if (item != NULL) {
		rc = oa__cfg_string(c, "proxy.ca_bundle", item, true, &p->ca_bundle);
		if (rc < 0) {
			return rc;
		}
	}
	item = json_object_get(v, "x_cache_name");
	if (item != NULL) {
		rc = parse_x_cache_name(c, item, &p->x_cache_name);
		if (rc < 0) {
			return rc;
		}
	}
	item = json_object_get(v, "debug_headers");
	if (item != NULL) {
		rc = oa__cfg_bool(c, "proxy.debug_headers", item, &p->debug_headers);
		if (rc < 0) {
			return rc;
		}
	}
	return parse_operations(c, v, p);
}

int oa__cfg_proxy_resolve_paths(oa_proxy_config *p, const char *file)
{
	int rc = oa__cfg_resolve_path(file, &p->ca_bundle);

	for (size_t i = 0; i < p->n_listen && rc == 0; i++) {
		rc = oa__cfg_resolve_path(file, &p->listen[i].certificate);
		if (rc == 0) {
			rc = oa__cfg_resolve_path(file, &p->listen[i].key);
		}
	}
	/* "-" is standard output, not a file named "-"; "./-" names that file. */
	if (rc == 0 && p->access_log != NULL && strcmp(p->access_log, "-") != 0) {
		rc = oa__cfg_resolve_path(file, &p->access_log);
	}
	return rc;
}

void oa__cfg_proxy_clear(oa_proxy_config *p)
{
	for (size_t i = 0; i < p->n_listen; i++) {
		free(p->listen[i].address);
		free(p->listen[i].certificate);
		free(p->listen[i].key);
	}
	free(p->listen);
	free(p->ca_bundle);
	free(p->x_cache_name);
	free(p->admin_address);
	free(p->access_log);
	memset(p, 0, sizeof(*p));
}
