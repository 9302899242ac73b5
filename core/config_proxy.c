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

static int parse_listener(const oa__cfg *c, const char *path, const json_t *obj,
			  oa_listen_config *l)
{
	static const char *const keys[] = {"address", "port", "tls", NULL};
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
	rc = oa__cfg_address(c, p, v, &l->address);
	if (rc < 0) {
		return rc;
	}
	v = json_object_get(obj, "port");
	if (v == NULL) {
		return oa__cfg_missing(c, path, "port");
	}
	oa__cfg_path_key(p, path, "port");
	rc = oa__cfg_uint(c, p, v, 1, 65535, &l->port);
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
	p->x_cache_name = strdup(X_CACHE_NAME_DEFAULT);
	if (p->x_cache_name == NULL) {
		return -ENOMEM;
	}
	return 0;
}

int oa__cfg_proxy(const oa__cfg *c, const json_t *v, oa_proxy_config *p)
{
	static const char *const keys[] = {"listen", "ca_bundle", "x_cache_name", "debug_headers",
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
	}
	return rc;
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
	memset(p, 0, sizeof(*p));
}
