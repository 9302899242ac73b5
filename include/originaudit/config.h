/*
 * The configuration file shared by the scanner and the proxy: aliases,
 * origins, cache behaviours and the scan settings, with CloudFront's names
 * and defaults. Validation is strict: an unknown key, a wrong type or value
 * is an error naming the JSON path.
 */
#ifndef ORIGINAUDIT_CONFIG_H
#define ORIGINAUDIT_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "originaudit/error.h"
#include "originaudit/names.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most worker processes the proxy runs: the config's bound, the supervisor's and the metrics'
 * tables. */
#define OA_PROXY_MAX_WORKERS 64

typedef enum oa_origin_protocol_policy {
	OA_ORIGIN_HTTP_ONLY,
	OA_ORIGIN_HTTPS_ONLY,
	OA_ORIGIN_MATCH_VIEWER,
} oa_origin_protocol_policy;

typedef enum oa_viewer_protocol_policy {
	OA_VIEWER_ALLOW_ALL,
	OA_VIEWER_REDIRECT_TO_HTTPS,
	OA_VIEWER_HTTPS_ONLY,
} oa_viewer_protocol_policy;

/* TLS versions, as a bit set (ssl_protocols). */
enum {
	OA_PROTO_SSL3 = 1 << 0,
	OA_PROTO_TLS1_0 = 1 << 1,
	OA_PROTO_TLS1_1 = 1 << 2,
	OA_PROTO_TLS1_2 = 1 << 3,
	/* Our extension: CloudFront does not document TLS 1.3 toward origins. */
	OA_PROTO_TLS1_3 = 1 << 4,
};

/* "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" for one bit; static string or NULL. */
const char *oa_proto_name(unsigned bit);

/*
 * The address families CloudFront uses toward an origin
 * (CustomOriginConfig.IpAddressType, ip_address_type): A records only, AAAA
 * records only, or both. Absent means dualstack.
 */
typedef enum oa_ip_address_type {
	OA_IP_DUALSTACK,
	OA_IP_IPV4,
	OA_IP_IPV6,
} oa_ip_address_type;

/* "dualstack", "ipv4", "ipv6"; a static string ("?" for an unknown value). */
const char *oa_ip_address_type_name(oa_ip_address_type type);

typedef struct oa_origin_config {
	char *id;
	char *domain_name;
	/* Prepended to request paths by the proxy; "" when absent. */
	char *origin_path;
	unsigned https_port;
	unsigned http_port;
	oa_origin_protocol_policy protocol_policy;
	/* OA_PROTO_* bits; default TLSv1.2. */
	unsigned ssl_protocols;
	/* Connect here instead of resolving domain_name (NULL/0 when absent). */
	char **addresses;
	size_t n_addresses;
	unsigned connection_timeout_s;
	unsigned connection_attempts;
	unsigned read_timeout_s;
	unsigned keepalive_timeout_s;
	/* Imported from CloudFront: an S3 origin, which is not probed. */
	bool s3;
	/* Per-origin expiry thresholds replacing the scan's (has_*), as in oa_scan_config. */
	bool has_expiry_warn;
	int expiry_warn_days;
	int expiry_warn_percent;
	bool has_expiry_critical;
	int expiry_critical_days;
	int expiry_critical_percent;
	/* Families probed: explicit addresses of another family are refused at load time. */
	oa_ip_address_type ip_address_type;
	/*
	 * Imported from CloudFront: a VPC origin (VpcOriginConfig), probed like a
	 * custom origin but reachable only from inside its VPC; vpc_origin_id is
	 * its VpcOriginId (NULL otherwise).
	 */
	bool vpc;
	char *vpc_origin_id;
	/*
	 * Imported from a CloudFormation template: a value of this origin is an
	 * intrinsic function known only once deployed ("DomainName: !Ref
	 * OriginDomain"); the origin is skipped (unresolved_value), NULL otherwise.
	 * Also set from a Terraform plan for a value known only after apply
	 * (after_unknown), the reason then unknown_until_apply. The text names
	 * the value: "PATH: EXPRESSION" or, from a plan, the attribute's path.
	 */
	char *unresolved;
	/* With unresolved: "unresolved_value" or "unknown_until_apply" (static); NULL otherwise. */
	const char *unresolved_reason;
} oa_origin_config;

typedef struct oa_behavior_config {
	/* NULL for the default behaviour. */
	char *path_pattern;
	char *origin_id;
	/* Index into oa_config.origins. */
	size_t origin_index;
	oa_viewer_protocol_policy viewer_protocol_policy;
	bool forward_host_header;
	/*
	 * Imported from CloudFront: the behaviour targets an origin group. Indexes
	 * into oa_config.origins of every member, primary (origin_index) first;
	 * CloudFront contacts each of them. NULL/0 otherwise.
	 */
	size_t *group_members;
	size_t n_group_members;
} oa_behavior_config;

typedef struct oa_scan_config {
	/* NULL: the default bundle. Relative paths: see oa_config_load_file. */
	char *ca_bundle;
	/*
	 * Expiry thresholds (see oa_policy): days (>= 0), a share of the
	 * lifetime in percent (*_percent > 0), or -1 for the default rule.
	 */
	int expiry_warn_days;
	int expiry_critical_days;
	int expiry_warn_percent;
	int expiry_critical_percent;
	unsigned concurrency;
	unsigned connect_timeout_ms;
	unsigned handshake_timeout_ms;
} oa_scan_config;

/* One viewer-facing listener of the proxy. */
typedef struct oa_listen_config {
	/* A numeric IPv4 or IPv6 literal, in canonical form. */
	char *address;
	/* 1-65535. */
	unsigned port;
	/* A "tls" object was given: the listener serves HTTPS. */
	bool tls;
	/* tls.certificate (PEM chain) and tls.key; NULL without tls. Not opened at load time. */
	char *certificate;
	char *key;
} oa_listen_config;

/* The "proxy" block, used by originaudit-proxy and ignored by the scanner. */
typedef struct oa_proxy_config {
	/* The configuration had a "proxy" block; the other members are defaults otherwise. */
	bool present;
	/* Non-empty when present; no two listeners share an (address, port) pair. */
	oa_listen_config *listen;
	size_t n_listen;
	/* Roots trusted toward origins; NULL: the default bundle. Not opened at load time. */
	char *ca_bundle;
	/* Named in "X-Cache: Error from NAME"; 1-64 characters of [A-Za-z0-9._-], never NULL. */
	char *x_cache_name;
	/* Send the reason of a refused origin certificate to the viewer; default false. */
	bool debug_headers;
	/* Worker processes; 0: as many as online CPUs (the key was absent). 1-OA_PROXY_MAX_WORKERS.
	 */
	unsigned workers;
	/* The admin listener (proxy.admin {address, port}); has_admin false when absent. */
	bool has_admin;
	/* Canonical numeric IP literal like listen[].address; NULL without admin. */
	char *admin_address;
	/* 1-65535; no viewer listener uses this port. */
	unsigned admin_port;
	/* Seconds between origin audits; default 300; 0 disables periodic audits; 0-86400. */
	unsigned audit_interval_s;
	/* Access log: NULL none (default), "-" stdout, else a path (resolved like ca_bundle). */
	char *access_log;
	/* Viewer connections over all workers; default 10000; 1-1000000. */
	unsigned max_connections;
	/* Idle keep-alive viewer connection timeout; default 60; 1-3600. */
	unsigned idle_timeout_s;
	/* Graceful shutdown drain timeout; default 30; 0-3600. */
	unsigned drain_timeout_s;
	/* proxy.cache.max_bytes: default 67108864; 0 disables caching; at most 1099511627776. */
	unsigned long long cache_max_bytes;
	/* cache.max_object_bytes: default 1048576 or max_bytes if less; <= max_bytes unless 0. */
	unsigned long long cache_max_object_bytes;
} oa_proxy_config;

typedef struct oa_config {
	/*
	 * The distribution this configuration is, when imported: its id
	 * ("E2QWRUHEXAMPLE"), ARN, Terraform address
	 * ("module.cdn.aws_cloudfront_distribution.main") or CloudFormation
	 * logical id; the file's path when the file names none
	 * (get-distribution-config). NULL for our own format and ad-hoc targets.
	 */
	char *distribution;
	char **aliases;
	size_t n_aliases;
	oa_origin_config *origins;
	size_t n_origins;
	oa_behavior_config *behaviors;
	size_t n_behaviors;
	bool has_default_behavior;
	oa_behavior_config default_behavior;
	oa_scan_config scan;
	oa_proxy_config proxy;
} oa_config;

/*
 * Loads and validates a configuration file. Errors (exit 3 material) read
 * "FILE:LINE:COLUMN: message" for JSON syntax and "FILE: origins[2].https_port:
 * message" for validation. File paths in it (scan.ca_bundle, proxy.ca_bundle,
 * proxy.listen[].tls.certificate and .key, proxy.access_log unless it is
 * "-") that do not start with '/' are
 * resolved against the directory part of path: "conf/cfg.json" with
 * "viewer.pem" gives "conf/viewer.pem"; a path without a '/' leaves them as
 * written (the current directory). They are not opened here. Caller owns *out
 * (oa_config_destroy).
 */
int oa_config_load_file(const char *path, oa_config **out, oa_error *err);

/* A configuration file is refused beyond this size. */
#define OA_CONFIG_MAX_BYTES (64 * 1024 * 1024)

/*
 * Like oa_config_load_file, but the JSON is read from fd (from offset 0 with
 * pread, so a descriptor shared with other processes is fine); path names it
 * in errors and anchors its relative paths. Caller owns *out.
 */
int oa_config_load_fd(int fd, const char *path, oa_config **out, oa_error *err);

/*
 * Validates an already parsed document; label names it in errors. File paths
 * are kept as written. Nothing in *out refers to root. Caller owns *out.
 */
int oa_config_from_json(json_t *root, const char *label, oa_config **out, oa_error *err);

/*
 * Reads the output of `aws cloudfront get-distribution-config` (or the bare
 * DistributionConfig) into the same structure: aliases, custom origins
 * (IpAddressType into ip_address_type), VPC origins marked vpc, S3 origins
 * marked s3, behaviours with Host forwarding taken from legacy
 * ForwardedValues.Headers or the AllViewer managed policy, and the members
 * of the origin group a behaviour targets. Caller owns *out.
 */
int oa_config_load_cloudfront_file(const char *path, oa_config **out, oa_error *err);

/*
 * Several distributions, each its own configuration (its aliases and
 * behaviours apply to its own origins only). Loaders append to it; a failed
 * load leaves what was there.
 */
typedef struct oa_config_list {
	oa_config **items;
	size_t n;
} oa_config_list;

/* Frees every configuration and the array, and zeroes list; accepts a zeroed list. */
void oa_config_list_clear(oa_config_list *list);

/* Appends config (taken over, also on error); 0 or -ENOMEM. */
int oa_config_list_push(oa_config_list *list, oa_config *config);

/*
 * Every distribution of a CloudFront file, by content: get-distribution-config
 * or get-distribution output, list-distributions output (every item), a bare
 * DistributionConfig, or a CloudFormation template (every
 * AWS::CloudFront::Distribution). Each is appended to list with its
 * distribution set. 0, or a negative errno with err naming the file and the
 * JSON path (list unchanged then).
 */
int oa_config_load_cloudfront(const char *path, oa_config_list *list, oa_error *err);

/*
 * Every aws_cloudfront_distribution of `terraform show -json` output: a saved
 * plan (planned_values with its child modules; resource_changes' after_unknown
 * marks what is known only after apply) or state (values). Each is appended
 * to list, distribution set to its address. Errors as for
 * oa_config_load_cloudfront, paths in Terraform's terms.
 */
int oa_config_load_terraform(const char *path, oa_config_list *list, oa_error *err);

/* One lint finding: a JSON path and a sentence. */
typedef struct oa_lint {
	char path[128];
	char message[384];
} oa_lint;

/*
 * Lint warnings on a valid configuration: match-viewer with an allow-all
 * viewer policy, a behaviour shadowed by an earlier pattern, more than 25
 * origins or behaviours, SSLv3/TLSv1 allowed, an origin no behaviour reaches
 * (an origin group's failover members count as reached). Caller frees *out
 * with free().
 */
int oa_config_lint(const oa_config *config, oa_lint **out, size_t *n);

/* The most addresses one --resolve entry gives. */
#define OA_RESOLVE_MAX_ADDRESSES 16

/* Room for a numeric address in text form, IPv6 included (INET6_ADDRSTRLEN). */
#define OA_RESOLVE_ADDRESS_MAX 46

/*
 * One entry of curl's --resolve syntax, HOST:PORT:ADDRESS[,ADDRESS...]: the
 * origins whose domain_name is HOST and whose port is PORT are probed at the
 * addresses instead of HOST's DNS records. Plain data, allocated by the caller.
 */
typedef struct oa_resolve {
	/* Normalised like domain_name (lower case, A-labels). */
	char host[OA_NAME_MAX];
	/* 1-65535. */
	unsigned port;
	/* Canonical numeric IPv4/IPv6 literals, without brackets; no duplicates. */
	char addresses[OA_RESOLVE_MAX_ADDRESSES][OA_RESOLVE_ADDRESS_MAX];
	size_t n_addresses;
} oa_resolve;

/*
 * Parses one entry (an IPv6 address in brackets, "h:443:[::1]", or bare).
 * Errors are -EINVAL with a one-line message that starts with the entry in
 * quotes and says which part is wrong. Nothing to free.
 */
int oa_resolve_parse(const char *spec, oa_resolve *out, oa_error *err);

/*
 * Points every origin matching an entry (domain_name equal to host,
 * case-insensitively, and https_port equal to port, or http_port for an
 * http-only origin) at the entry's addresses, replacing its configured
 * addresses; the addresses of all entries matching one origin are used, in
 * order. matched (n counters, may be NULL) receives, per entry, how many
 * origins it matched, so the caller can warn about an entry that matched
 * none. 0 or -ENOMEM (config unchanged then).
 */
int oa_config_apply_resolve(oa_config *config, const oa_resolve *list, size_t n, size_t *matched,
			    oa_error *err);

/* How the ad-hoc targets of oa_config_from_targets are audited. */
typedef struct oa_target_options {
	/*
	 * The name CloudFront knows every target by (SNI and the name the
	 * certificate must cover); NULL: each target's HOST. Required when a
	 * target is an IP address; a target given by name must then be that name.
	 */
	const char *sni;
	/* Forwarded Host values: each origin is probed as behind a behaviour that forwards Host. */
	const char *const *host_headers;
	size_t n_host_headers;
} oa_target_options;

/*
 * A configuration for targets written "HOST", "HOST:PORT", "[IPv6]" or
 * "[IPv6]:PORT" (PORT 443 by default; CloudFront's 80, 443 or 1024-65535):
 * one https-only origin per target, with CloudFront's defaults (TLSv1.2 only,
 * id = the target as written, addresses = HOST when it is an IP address), the
 * scan defaults, and, with host_headers, those names as aliases and every
 * origin behind a Host-forwarding behaviour. Errors are -EINVAL with a one-line
 * message starting with the target (or the option value) in quotes. Caller
 * owns *out (oa_config_destroy).
 */
int oa_config_from_targets(const char *const *targets, size_t n, const oa_target_options *opts,
			   oa_config **out, oa_error *err);

/* Frees config; accepts NULL. */
void oa_config_destroy(oa_config *config);

#ifdef __cplusplus
}
#endif

#endif
