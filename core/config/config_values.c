/*
 * Validation of single configuration values, shared by our JSON format and
 * the CloudFront import: each helper checks one JSON value against
 * CloudFront's rules and names its JSON path when it is wrong.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "originaudit/names.h"
#include "originaudit/verify.h"

/* The longest value quoted in a message before it is cut short. */
#define QUOTE_MAX 64

int oa__cfg_fail(const oa__cfg *c, const char *path, const char *fmt, ...)
{
	char msg[OA_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path == NULL || path[0] == '\0') {
		return oa_error_set(c->err, -EINVAL, "%s: %s", c->label, msg);
	}
	return oa_error_set(c->err, -EINVAL, "%s: %s: %s", c->label, path, msg);
}

int oa__cfg_nomem(const oa__cfg *c)
{
	return oa_error_set(c->err, -ENOMEM, "%s: out of memory", c->label);
}

void oa__cfg_path_key(char *out, const char *parent, const char *key)
{
	if (parent[0] == '\0') {
		snprintf(out, OA__CFG_PATH_MAX, "%s", key);
	} else {
		snprintf(out, OA__CFG_PATH_MAX, "%s.%s", parent, key);
	}
}

void oa__cfg_path_index(char *out, const char *parent, size_t index)
{
	snprintf(out, OA__CFG_PATH_MAX, "%s[%zu]", parent, index);
}

const char *oa__cfg_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown value";
}

int oa__cfg_check_keys(const oa__cfg *c, const char *path, const json_t *obj,
		       const char *const *keys)
{
	char q[OA__CFG_QUOTE_SIZE];

	for (void *it = json_object_iter((json_t *)obj); it != NULL;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);
		bool known = false;

		for (size_t i = 0; keys[i] != NULL; i++) {
			if (strcmp(key, keys[i]) == 0) {
				known = true;
				break;
			}
		}
		if (!known) {
			if (path[0] == '\0') {
				return oa__cfg_fail(c, "", "unknown key %s at the top level",
						    oa__cfg_quote(q, sizeof(q), key));
			}
			return oa__cfg_fail(c, path, "unknown key %s",
					    oa__cfg_quote(q, sizeof(q), key));
		}
	}
	return 0;
}

int oa__cfg_expect_object(const oa__cfg *c, const char *path, const json_t *v)
{
	if (!json_is_object(v)) {
		return oa__cfg_fail(c, path, "expected an object, got %s", oa__cfg_type_name(v));
	}
	return 0;
}

int oa__cfg_missing(const oa__cfg *c, const char *path, const char *key)
{
	return oa__cfg_fail(c, path, "missing required key \"%s\"", key);
}

const char *oa__cfg_quote(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (o + 8 >= size) {
			break;
		}
		if (i == QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/*
 * Rejects control characters: every string of the configuration may end up in
 * a one-line message or a report.
 */
static int check_printable(const oa__cfg *c, const char *path, const char *s)
{
	char q[OA__CFG_QUOTE_SIZE];

	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f) {
			return oa__cfg_fail(c, path, "%s contains a control character",
					    oa__cfg_quote(q, sizeof(q), s));
		}
	}
	return 0;
}

int oa__cfg_string(const oa__cfg *c, const char *path, const json_t *v, bool nonempty, char **out)
{
	if (!json_is_string(v)) {
		return oa__cfg_fail(c, path, "expected a string, got %s", oa__cfg_type_name(v));
	}
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		return oa__cfg_fail(c, path, "the string contains a NUL character");
	}
	if (nonempty && s[0] == '\0') {
		return oa__cfg_fail(c, path, "must not be empty");
	}
	int rc = check_printable(c, path, s);
	if (rc < 0) {
		return rc;
	}
	*out = strdup(s);
	if (*out == NULL) {
		return oa__cfg_nomem(c);
	}
	return 0;
}

int oa__cfg_integer(const oa__cfg *c, const char *path, const json_t *v, long long min,
		    long long max, long long *out)
{
	if (!json_is_integer(v)) {
		return oa__cfg_fail(c, path, "expected an integer, got %s", oa__cfg_type_name(v));
	}
	long long n = json_integer_value(v);
	if (n < min || n > max) {
		return oa__cfg_fail(c, path, "%lld is out of range %lld-%lld", n, min, max);
	}
	*out = n;
	return 0;
}

int oa__cfg_uint(const oa__cfg *c, const char *path, const json_t *v, unsigned min, unsigned max,
		 unsigned *out)
{
	long long n = 0;
	int rc = oa__cfg_integer(c, path, v, min, max, &n);

	if (rc < 0) {
		return rc;
	}
	*out = (unsigned)n;
	return 0;
}

int oa__cfg_bool(const oa__cfg *c, const char *path, const json_t *v, bool *out)
{
	if (!json_is_boolean(v)) {
		return oa__cfg_fail(c, path, "expected true or false, got %s",
				    oa__cfg_type_name(v));
	}
	*out = json_is_true(v);
	return 0;
}

int oa__cfg_port(const oa__cfg *c, const char *path, const json_t *v, unsigned *out)
{
	if (!json_is_integer(v)) {
		return oa__cfg_fail(c, path, "expected an integer, got %s", oa__cfg_type_name(v));
	}
	long long n = json_integer_value(v);
	/* CloudFront's rule for both HTTPPort and HTTPSPort. */
	if (n != 80 && n != 443 && (n < 1024 || n > 65535)) {
		return oa__cfg_fail(c, path, "%lld is not allowed: use 80, 443 or 1024-65535", n);
	}
	*out = (unsigned)n;
	return 0;
}

/* Index of v among names (a string), or a message listing them all. */
static int one_of(const oa__cfg *c, const char *path, const json_t *v, const char *const *names,
		  size_t n, const char *expected, size_t *out)
{
	char q[OA__CFG_QUOTE_SIZE];

	if (!json_is_string(v)) {
		return oa__cfg_fail(c, path, "expected %s, got %s", expected, oa__cfg_type_name(v));
	}
	const char *s = json_string_value(v);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0 && strlen(s) == json_string_length(v)) {
			*out = i;
			return 0;
		}
	}
	return oa__cfg_fail(c, path, "expected %s, got %s", expected,
			    oa__cfg_quote(q, sizeof(q), s));
}

int oa__cfg_origin_policy(const oa__cfg *c, const char *path, const json_t *v,
			  oa_origin_protocol_policy *out)
{
	static const char *const names[] = {"http-only", "https-only", "match-viewer"};
	static const oa_origin_protocol_policy values[] = {
	    OA_ORIGIN_HTTP_ONLY, OA_ORIGIN_HTTPS_ONLY, OA_ORIGIN_MATCH_VIEWER};
	size_t i = 0;
	int rc = one_of(c, path, v, names, 3, "http-only, https-only or match-viewer", &i);

	if (rc < 0) {
		return rc;
	}
	*out = values[i];
	return 0;
}

int oa__cfg_viewer_policy(const oa__cfg *c, const char *path, const json_t *v,
			  oa_viewer_protocol_policy *out)
{
	static const char *const names[] = {"allow-all", "redirect-to-https", "https-only"};
	static const oa_viewer_protocol_policy values[] = {
	    OA_VIEWER_ALLOW_ALL, OA_VIEWER_REDIRECT_TO_HTTPS, OA_VIEWER_HTTPS_ONLY};
	size_t i = 0;
	int rc = one_of(c, path, v, names, 3, "allow-all, redirect-to-https or https-only", &i);

	if (rc < 0) {
		return rc;
	}
	*out = values[i];
	return 0;
}

int oa__cfg_ip_address_type(const oa__cfg *c, const char *path, const json_t *v,
			    oa_ip_address_type *out)
{
	static const char *const names[] = {"ipv4", "ipv6", "dualstack"};
	static const oa_ip_address_type values[] = {OA_IP_IPV4, OA_IP_IPV6, OA_IP_DUALSTACK};
	size_t i = 0;
	int rc = one_of(c, path, v, names, 3, "ipv4, ipv6 or dualstack", &i);

	if (rc < 0) {
		return rc;
	}
	*out = values[i];
	return 0;
}

int oa__cfg_ssl_protocol(const oa__cfg *c, const char *path, const json_t *v, unsigned *bits)
{
	static const char *const names[] = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
	static const unsigned values[] = {OA_PROTO_SSL3, OA_PROTO_TLS1_0, OA_PROTO_TLS1_1,
					  OA_PROTO_TLS1_2, OA_PROTO_TLS1_3};
	size_t i = 0;
	int rc = one_of(c, path, v, names, 5, "SSLv3, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", &i);

	if (rc < 0) {
		return rc;
	}
	if (*bits & values[i]) {
		return oa__cfg_fail(c, path, "duplicate \"%s\"", names[i]);
	}
	*bits |= values[i];
	return 0;
}

int oa__cfg_domain(const oa__cfg *c, const char *path, const json_t *v, char **out)
{
	char name[OA_NAME_MAX];
	char *s = NULL;
	oa_error nerr;
	int rc = oa__cfg_string(c, path, v, true, &s);

	if (rc < 0) {
		return rc;
	}
	if (oa_name_normalize(s, name, &nerr) < 0) {
		rc = oa__cfg_fail(c, path, "%s", nerr.msg);
	}
	free(s);
	if (rc < 0) {
		return rc;
	}
	*out = strdup(name);
	if (*out == NULL) {
		return oa__cfg_nomem(c);
	}
	return 0;
}

int oa__cfg_alias(const oa__cfg *c, const char *path, const json_t *v, char **out)
{
	char name[OA_NAME_MAX];
	char *s = NULL;
	oa_error nerr;
	int rc = oa__cfg_string(c, path, v, true, &s);

	if (rc < 0) {
		return rc;
	}
	/* CloudFront accepts wildcard alternate domain names such as "*.example.com". */
	bool wildcard = strncmp(s, "*.", 2) == 0;
	if (oa_name_normalize(wildcard ? s + 2 : s, name, &nerr) < 0) {
		rc = oa__cfg_fail(c, path, "%s", nerr.msg);
	}
	if (rc == 0 && wildcard && strlen(name) + 3 > OA_NAME_MAX) {
		rc = oa__cfg_fail(c, path, "host name '%s' is longer than 253 characters", s);
	}
	free(s);
	if (rc < 0) {
		return rc;
	}
	size_t len = strlen(name) + (wildcard ? 3 : 1);
	*out = malloc(len);
	if (*out == NULL) {
		return oa__cfg_nomem(c);
	}
	snprintf(*out, len, "%s%s", wildcard ? "*." : "", name);
	return 0;
}

int oa__cfg_origin_path(const oa__cfg *c, const char *path, const json_t *v, char **out)
{
	char q[OA__CFG_QUOTE_SIZE];
	char *s = NULL;
	int rc;

	if (v == NULL) {
		*out = strdup("");
		return *out == NULL ? oa__cfg_nomem(c) : 0;
	}
	rc = oa__cfg_string(c, path, v, false, &s);
	if (rc < 0) {
		return rc;
	}
	size_t len = strlen(s);
	/* The proxy puts it on the request line (control characters are refused earlier). */
	if (strchr(s, ' ') != NULL) {
		rc = oa__cfg_fail(c, path, "%s must not contain spaces",
				  oa__cfg_quote(q, sizeof(q), s));
	}
	if (rc == 0 && len > 0 && s[0] != '/') {
		rc =
		    oa__cfg_fail(c, path, "%s must start with '/'", oa__cfg_quote(q, sizeof(q), s));
	}
	if (rc == 0 && len > 0 && s[len - 1] == '/') {
		rc = oa__cfg_fail(c, path, "%s must not end with '/'",
				  oa__cfg_quote(q, sizeof(q), s));
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The characters CloudFront accepts in a path pattern. */
static bool pattern_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("_-.*$/~\"'@:+?&", ch) != NULL);
}

int oa__cfg_path_pattern(const oa__cfg *c, const char *path, const json_t *v, char **out)
{
	char *s = NULL;
	int rc = oa__cfg_string(c, path, v, false, &s);

	if (rc < 0) {
		return rc;
	}
	size_t len = strlen(s);
	if (len == 0) {
		rc = oa__cfg_fail(c, path, "must not be empty (use \"*\" to match every path)");
	} else if (len > 255) {
		rc = oa__cfg_fail(c, path, "is %zu characters long: CloudFront allows at most 255",
				  len);
	}
	for (size_t i = 0; i < len && rc == 0; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (pattern_char((char)ch)) {
			continue;
		}
		if (ch > ' ' && ch < 0x7f) {
			rc = oa__cfg_fail(c, path,
					  "character '%c' is not allowed in a path pattern", ch);
		} else if (ch == ' ') {
			rc = oa__cfg_fail(c, path, "a path pattern cannot contain spaces");
		} else {
			rc = oa__cfg_fail(c, path,
					  "byte 0x%02x is not allowed in a path pattern (use "
					  "A-Z a-z 0-9 _ - . * $ / ~ \" ' @ : + ? &)",
					  ch);
		}
	}
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int oa__cfg_threshold(const oa__cfg *c, const char *path, const json_t *v, int *days, int *percent)
{
	long long n;
	int rc;

	if (json_is_string(v)) {
		if (oa_policy_parse_threshold(json_string_value(v), days, percent) < 0 ||
		    *percent == 0) {
			return oa__cfg_fail(c, path,
					    "\"%s\" is not a share like \"33%%\" (1-100%%)",
					    json_string_value(v));
		}
		return 0;
	}
	rc = oa__cfg_integer(c, path, v, 0, 36500, &n);
	if (rc < 0) {
		return rc;
	}
	*days = (int)n;
	*percent = 0;
	return 0;
}

int oa__cfg_unique_id(const oa__cfg *c, const char *path, const oa_config *config, size_t index)
{
	char q[OA__CFG_QUOTE_SIZE];
	const char *id = config->origins[index].id;

	if (oa__cfg_index_put(c->ids, id, index) >= 0) {
		return oa__cfg_fail(c, path, "duplicate id %s", oa__cfg_quote(q, sizeof(q), id));
	}
	return 0;
}

int oa__cfg_unique_alias(const oa__cfg *c, const char *path, oa__cfg_index *seen,
			 const oa_config *config, size_t index)
{
	const char *alias = config->aliases[index];

	if (oa__cfg_index_put(seen, alias, index) >= 0) {
		return oa__cfg_fail(c, path, "duplicate alias \"%s\"", alias);
	}
	return 0;
}

long oa__cfg_find_origin(const oa__cfg *c, const char *id)
{
	return oa__cfg_index_find(c->ids, id);
}

int oa__cfg_no_origin(const oa__cfg *c, const char *path, const char *id)
{
	char q[OA__CFG_QUOTE_SIZE];

	return oa__cfg_fail(c, path, "no origin with id %s", oa__cfg_quote(q, sizeof(q), id));
}

int oa__cfg_address(const oa__cfg *c, const char *path, const json_t *v, char **out)
{
	char q[OA__CFG_QUOTE_SIZE];
	char text[INET6_ADDRSTRLEN];
	unsigned char bin[sizeof(struct in6_addr)];
	char *s = NULL;
	int family = AF_INET;
	int rc = oa__cfg_string(c, path, v, true, &s);

	if (rc < 0) {
		return rc;
	}
	if (inet_pton(AF_INET, s, bin) != 1) {
		family = AF_INET6;
		if (inet_pton(AF_INET6, s, bin) != 1) {
			rc = oa__cfg_fail(c, path, "%s is not a numeric IPv4 or IPv6 address",
					  oa__cfg_quote(q, sizeof(q), s));
			free(s);
			return rc;
		}
	}
	free(s);
	/* Stored in canonical form, so duplicates and reports compare as text. */
	inet_ntop(family, bin, text, sizeof(text));
	*out = strdup(text);
	if (*out == NULL) {
		return oa__cfg_nomem(c);
	}
	return 0;
}

int oa__cfg_resolve_path(const char *file, char **path)
{
	const char *slash = strrchr(file, '/');

	/*
	 * An absolute path is kept, and so is every path of a file named without
	 * a directory: its directory is the current one.
	 */
	if (*path == NULL || (*path)[0] == '/' || slash == NULL) {
		return 0;
	}
	size_t dir_len = (size_t)(slash - file) + 1;
	size_t len = strlen(*path);
	char *joined = malloc(dir_len + len + 1);
	if (joined == NULL) {
		return -ENOMEM;
	}
	memcpy(joined, file, dir_len);
	memcpy(joined + dir_len, *path, len + 1);
	free(*path);
	*path = joined;
	return 0;
}

int oa__cfg_aliases(const oa__cfg *c, const char *path, const json_t *items, oa_config *config)
{
	char p[OA__CFG_PATH_MAX];
	oa__cfg_index seen = {NULL, 0};
	size_t n = json_array_size(items);
	int rc = 0;

	if (n == 0) {
		return 0;
	}
	config->aliases = calloc(n, sizeof(*config->aliases));
	if (config->aliases == NULL) {
		return oa__cfg_nomem(c);
	}
	config->n_aliases = n;
	if (oa__cfg_index_init(&seen, n) < 0) {
		return oa__cfg_nomem(c);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		oa__cfg_path_index(p, path, i);
		rc = oa__cfg_alias(c, p, json_array_get(items, i), &config->aliases[i]);
		if (rc == 0) {
			rc = oa__cfg_unique_alias(c, p, &seen, config, i);
		}
	}
	oa__cfg_index_finish(&seen);
	return rc;
}

int oa__cfg_group_member(const oa__cfg *c, const char *path, const json_t *oid,
			 oa_behavior_config *b)
{
	if (!json_is_string(oid)) {
		return oa__cfg_fail(c, path, "expected a string, got %s",
				    oid == NULL ? "nothing" : oa__cfg_type_name(oid));
	}
	long index = oa__cfg_find_origin(c, json_string_value(oid));
	if (index < 0) {
		return oa__cfg_no_origin(c, path, json_string_value(oid));
	}
	b->group_members[b->n_group_members] = (size_t)index;
	b->n_group_members++;
	return 0;
}

/* The managed origin request policy "AllViewer", which forwards every viewer header. */
#define ALL_VIEWER_POLICY_ID "216adef6-5c7f-47e4-b989-5492eafa07d3"

bool oa__cfg_all_viewer_policy(const char *policy_id)
{
	return strcmp(policy_id, ALL_VIEWER_POLICY_ID) == 0;
}

bool oa__cfg_forwards_host_header(const char *header)
{
	/* Header names are case-insensitive; "*" forwards every header. */
	return strcasecmp(header, "Host") == 0 || strcmp(header, "*") == 0;
}
