/*
 * Helpers shared by the two configuration readers (our JSON format in
 * config.c and config_proxy.c, CloudFront's get-distribution-config in
 * config_cloudfront.c).
 * Each helper validates one JSON value found at a JSON path, so both readers
 * apply the same rules and name the offending value in their own terms.
 * Not installed.
 */
#ifndef ORIGINAUDIT_CORE_CONFIG_INTERNAL_H
#define ORIGINAUDIT_CORE_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "originaudit/config.h"

/* Longest JSON path built for an error message. */
#define OA__CFG_PATH_MAX 256

/* One slot of an oa__cfg_index; key is NULL while the slot is free. */
typedef struct oa__cfg_slot {
	const char *key;
	size_t value;
} oa__cfg_slot;

/*
 * The strings of one list of the configuration being read (origin ids,
 * aliases), each with its position in the list. Duplicates and references
 * are found in constant time: a scan of the list for each entry made loading
 * quadratic in the number of origins. Open addressing with linear probing,
 * sized for the list up front and never more than half full. Keys are
 * borrowed from the configuration and must outlive the index.
 */
typedef struct oa__cfg_index {
	oa__cfg_slot *slots;
	size_t mask;
} oa__cfg_index;

/* Room for n keys; 0 or -ENOMEM. */
int oa__cfg_index_init(oa__cfg_index *idx, size_t n);

/* Frees the slots and zeroes idx; accepts a zeroed idx. */
void oa__cfg_index_finish(oa__cfg_index *idx);

/*
 * Adds key (at most the n of oa__cfg_index_init keys in all) with value,
 * unless it is there already. Returns the value stored earlier for key, or
 * -1 when key was added.
 */
long oa__cfg_index_put(oa__cfg_index *idx, const char *key, size_t value);

/* The value stored for key, or -1 (also for a zeroed idx). */
long oa__cfg_index_find(const oa__cfg_index *idx, const char *key);

/*
 * What every helper needs to report an error: the file's label and where to
 * write; and, for the helpers on origin ids, the ids read so far (owned by
 * the loader, which frees it on every path).
 */
typedef struct oa__cfg {
	const char *label;
	oa_error *err;
	oa__cfg_index *ids;
} oa__cfg;

/* Writes "LABEL: PATH: message" (or "LABEL: message" for an empty path); returns -EINVAL. */
int oa__cfg_fail(const oa__cfg *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "LABEL: out of memory"; returns -ENOMEM. */
int oa__cfg_nomem(const oa__cfg *c);

/* "parent.key" (or "key" when parent is empty) into out (OA__CFG_PATH_MAX bytes). */
void oa__cfg_path_key(char *out, const char *parent, const char *key);

/* "parent[index]" into out (OA__CFG_PATH_MAX bytes). */
void oa__cfg_path_index(char *out, const char *parent, size_t index);

/* Room for any string oa__cfg_quote writes. */
#define OA__CFG_QUOTE_SIZE 160

/*
 * Writes s as a double-quoted string for a one-line message: quotes,
 * backslashes and control characters escaped, cut short after 64 bytes.
 * Returns buf (OA__CFG_QUOTE_SIZE bytes).
 */
const char *oa__cfg_quote(char *buf, size_t size, const char *s);

/* "a string", "an object", ... for messages; a static string. */
const char *oa__cfg_type_name(const json_t *v);

/*
 * Refuses any key of obj that is not in keys (NULL-terminated); an empty path
 * is the top level.
 */
int oa__cfg_check_keys(const oa__cfg *c, const char *path, const json_t *obj,
		       const char *const *keys);

/*
 * Imported distributions (CloudFront, Terraform): AWS raises the read and
 * keep-alive timeouts above 120 s on request; a value AWS accepted is
 * imported as is, up to an hour.
 */
#define OA__CFG_RAISED_TIMEOUT_MAX 3600

/*
 * Whether a cache behaviour sends the viewer's Host header to its origin: an
 * origin request policy id that is the managed AllViewer policy (which
 * forwards every viewer header), or a legacy forwarded header name that is
 * Host (case-insensitively) or "*" (every header).
 */
bool oa__cfg_all_viewer_policy(const char *policy_id);
bool oa__cfg_forwards_host_header(const char *header);

/* Writes "expected an object, got ..." unless v is an object. */
int oa__cfg_expect_object(const oa__cfg *c, const char *path, const json_t *v);

/* Writes "missing required key \"KEY\"" for the object at path; returns -EINVAL. */
int oa__cfg_missing(const oa__cfg *c, const char *path, const char *key);

/*
 * Reads and parses a JSON file (duplicate keys rejected). Syntax errors read
 * "FILE:LINE:COLUMN: text" with -EBADMSG. Caller owns *root.
 */
int oa__cfg_read_json(const char *path, json_t **root, oa_error *err);

/* Fresh configuration with the scan defaults; NULL when out of memory. */
oa_config *oa__cfg_new(void);

/* CloudFront's defaults for an origin and a behaviour. */
void oa__cfg_origin_defaults(oa_origin_config *o);
void oa__cfg_behavior_defaults(oa_behavior_config *b);

/* Value validators: 0, -EINVAL (with the message) or -ENOMEM. Strings are malloc'd. */
int oa__cfg_string(const oa__cfg *c, const char *path, const json_t *v, bool nonempty, char **out);
int oa__cfg_integer(const oa__cfg *c, const char *path, const json_t *v, long long min,
		    long long max, long long *out);
int oa__cfg_uint(const oa__cfg *c, const char *path, const json_t *v, unsigned min, unsigned max,
		 unsigned *out);
int oa__cfg_bool(const oa__cfg *c, const char *path, const json_t *v, bool *out);
/* An expiry threshold: whole days 0-36500, or a string "N%" (1-100). */
int oa__cfg_threshold(const oa__cfg *c, const char *path, const json_t *v, int *days, int *percent);
int oa__cfg_port(const oa__cfg *c, const char *path, const json_t *v, unsigned *out);
int oa__cfg_origin_policy(const oa__cfg *c, const char *path, const json_t *v,
			  oa_origin_protocol_policy *out);
int oa__cfg_viewer_policy(const oa__cfg *c, const char *path, const json_t *v,
			  oa_viewer_protocol_policy *out);
/* "ipv4", "ipv6" or "dualstack" (ip_address_type, CustomOriginConfig.IpAddressType). */
int oa__cfg_ip_address_type(const oa__cfg *c, const char *path, const json_t *v,
			    oa_ip_address_type *out);
/* One entry of ssl_protocols, added to *bits; a repeated version is an error. */
int oa__cfg_ssl_protocol(const oa__cfg *c, const char *path, const json_t *v, unsigned *bits);
/* A host name, stored normalised (lower case, A-labels). */
int oa__cfg_domain(const oa__cfg *c, const char *path, const json_t *v, char **out);
/* An alternate domain name: a host name, or "*." and a host name. */
int oa__cfg_alias(const oa__cfg *c, const char *path, const json_t *v, char **out);
/* "" or a path that starts with '/' and does not end with one; v NULL gives "". */
int oa__cfg_origin_path(const oa__cfg *c, const char *path, const json_t *v, char **out);
/* A CloudFront path pattern: 1-255 characters from CloudFront's set. */
int oa__cfg_path_pattern(const oa__cfg *c, const char *path, const json_t *v, char **out);

/*
 * Checks that config->origins[index].id is not used by an earlier origin and
 * adds it to c->ids, which holds the ids of origins 0 to index - 1 (origins
 * are checked in order); path names the id's JSON value.
 */
int oa__cfg_unique_id(const oa__cfg *c, const char *path, const oa_config *config, size_t index);

/*
 * Checks that config->aliases[index] is not listed earlier and adds it to
 * seen, which holds aliases 0 to index - 1.
 */
int oa__cfg_unique_alias(const oa__cfg *c, const char *path, oa__cfg_index *seen,
			 const oa_config *config, size_t index);

/*
 * The aliases in the array items (at path) into config->aliases: each a host
 * name or wildcard, none listed twice.
 */
int oa__cfg_aliases(const oa__cfg *c, const char *path, const json_t *items, oa_config *config);

/*
 * The origin id oid (at path) of an origin group's member, looked up in
 * c->ids and appended to b->group_members (allocated for every member).
 */
int oa__cfg_group_member(const oa__cfg *c, const char *path, const json_t *oid,
			 oa_behavior_config *b);

/* Writes "no origin with id \"ID\"" for the value at path; returns -EINVAL. */
int oa__cfg_no_origin(const oa__cfg *c, const char *path, const char *id);

/* A numeric IPv4 or IPv6 address, stored in canonical text form. */
int oa__cfg_address(const oa__cfg *c, const char *path, const json_t *v, char **out);

/* Index of the origin with this id among those in c->ids, or -1. */
long oa__cfg_find_origin(const oa__cfg *c, const char *id);

/*
 * Resolves *path (a file path from the configuration file named file, or NULL)
 * against that file's directory when it does not start with '/': the
 * directory part of file is put in front, as written. A file named without a
 * '/' leaves *path alone. Replaces *path; 0 or -ENOMEM (*path unchanged).
 */
int oa__cfg_resolve_path(const char *file, char **path);

/*
 * The "proxy" block (config_proxy.c): validated into *p, which holds the
 * defaults of oa__cfg_proxy_defaults. On error *p may be partly filled;
 * oa__cfg_proxy_clear frees it.
 */
int oa__cfg_proxy(const oa__cfg *c, const json_t *v, oa_proxy_config *p);

/* Empty proxy settings with the defaults (x_cache_name allocated); 0 or -ENOMEM. */
int oa__cfg_proxy_defaults(oa_proxy_config *p);

/* Resolves the proxy's file paths as oa__cfg_resolve_path does; 0 or -ENOMEM. */
int oa__cfg_proxy_resolve_paths(oa_proxy_config *p, const char *file);

/* Frees what p holds and zeroes it; accepts a zeroed p. */
void oa__cfg_proxy_clear(oa_proxy_config *p);

#endif
