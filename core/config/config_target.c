/*
 * Ad-hoc targets from the command line ("scan HOST[:PORT] ..."): a
 * configuration with one origin per target and CloudFront's defaults, so the
 * scan engine audits them exactly as it audits a configuration file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_adhoc.h"
#include "config_internal.h"

/* A target split into its host (a name or a canonical address) and its port. */
struct target {
	char host[OA_NAME_MAX];
	bool is_address;
	unsigned port;
};

static int split_target(const char *t, struct target *out, oa_error *err)
{
	const char *port = NULL;
	size_t host_len;
	oa_error nerr;

	out->port = 443;
	if (t[0] == '[') {
		const char *close = strchr(t, ']');

		if (close == NULL) {
			return oa__adhoc_bad(err, t, "an IPv6 address needs its closing ']'");
		}
		if (close[1] != '\0' && close[1] != ':') {
			return oa__adhoc_bad(err, t, "expected [IPv6]:PORT");
		}
		if (oa__adhoc_address(t, (size_t)(close - t + 1), false, out->host) < 0) {
			return oa__adhoc_bad(err, t, "'%.*s' is not an IPv6 address",
					     (int)(close - t + 1), t);
		}
		out->is_address = true;
		port = close[1] == ':' ? close + 2 : NULL;
	} else {
		const char *colon = strchr(t, ':');

		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			return oa__adhoc_bad(err, t, "write an IPv6 address in brackets: [%s]:443",
					     t);
		}
		host_len = colon != NULL ? (size_t)(colon - t) : strlen(t);
		if (host_len == 0) {
			return oa__adhoc_bad(err, t, "the host is empty");
		}
		if (host_len >= sizeof(out->host)) {
			return oa__adhoc_bad(err, t, "the host is longer than 253 characters");
		}
		char raw[OA_NAME_MAX];

		memcpy(raw, t, host_len);
		raw[host_len] = '\0';
		if (oa__adhoc_is_address(raw)) {
			memcpy(out->host, raw, host_len + 1);
			out->is_address = true;
		} else if (oa_name_normalize(raw, out->host, &nerr) < 0) {
			return oa__adhoc_bad(err, t, "%s", nerr.msg);
		}
		port = colon != NULL ? colon + 1 : NULL;
	}
	if (port != NULL && oa__adhoc_port(port, strlen(port), &out->port) < 0) {
		return oa__adhoc_bad(err, t, "port '%s' is not 1-65535", port);
	}
	/* CloudFront's rule for HTTPSPort, as for a configuration file. */
	if (out->port != 80 && out->port != 443 && out->port < 1024) {
		return oa__adhoc_bad(
		    err, t, "port %u is not allowed: CloudFront uses 80, 443 or 1024-65535",
		    out->port);
	}
	return 0;
}

/* Fills origin o for target t; the name CloudFront knows it by is sni (normalised) or its host. */
static int make_origin(const char *t, const struct target *tg, const char *sni, oa_origin_config *o,
		       oa_error *err)
{
	if (tg->is_address && sni == NULL) {
		return oa__adhoc_bad(
		    err, t,
		    "CloudFront reaches origins by domain name: give --sni NAME, the name "
		    "the certificate must cover");
	}
	if (!tg->is_address && sni != NULL && strcasecmp(sni, tg->host) != 0) {
		return oa__adhoc_bad(
		    err, t,
		    "--sni %s differs from the target's host name: scan %s:%u --resolve "
		    "%s:%u:ADDRESS instead",
		    sni, sni, tg->port, sni, tg->port);
	}
	o->id = strdup(t);
	o->domain_name = strdup(sni != NULL ? sni : tg->host);
	o->origin_path = strdup("");
	if (o->id == NULL || o->domain_name == NULL || o->origin_path == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	o->https_port = tg->port;
	if (tg->is_address) {
		o->addresses = calloc(1, sizeof(*o->addresses));
		if (o->addresses == NULL) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		o->addresses[0] = strdup(tg->host);
		if (o->addresses[0] == NULL) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		o->n_addresses = 1;
	}
	return 0;
}

static int add_origins(const char *const *targets, size_t n, const char *sni, oa_config *config,
		       oa_error *err)
{
	config->origins = calloc(n, sizeof(*config->origins));
	if (config->origins == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct target tg;
		int rc;

		memset(&tg, 0, sizeof(tg));
		for (size_t k = 0; k < i; k++) {
			if (strcmp(targets[k], targets[i]) == 0) {
				return oa__adhoc_bad(err, targets[i], "the target is given twice");
			}
		}
		rc = split_target(targets[i], &tg, err);
		if (rc < 0) {
			return rc;
		}
		oa__cfg_origin_defaults(&config->origins[i]);
		config->n_origins++;
		rc = make_origin(targets[i], &tg, sni, &config->origins[i], err);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* The Host values as aliases, and every origin behind a behaviour that forwards Host. */
static int add_host_headers(const oa_target_options *opts, oa_config *config, oa_error *err)
{
	char name[OA_NAME_MAX];
	oa_error nerr;

	config->aliases = calloc(opts->n_host_headers, sizeof(*config->aliases));
	config->behaviors = calloc(config->n_origins, sizeof(*config->behaviors));
	if (config->aliases == NULL || config->behaviors == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < opts->n_host_headers; i++) {
		const char *h = opts->host_headers[i];

		if (oa_name_normalize(h, name, &nerr) < 0) {
			return oa__adhoc_bad(err, h, "%s", nerr.msg);
		}
		for (size_t k = 0; k < config->n_aliases; k++) {
			if (strcmp(config->aliases[k], name) == 0) {
				return oa__adhoc_bad(err, h, "--host-header is given twice");
			}
		}
		config->aliases[config->n_aliases] = strdup(name);
		if (config->aliases[config->n_aliases] == NULL) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		config->n_aliases++;
	}
	/*
	 * The first origin is the default behaviour's; the others get a
	 * behaviour each, whose path pattern only keeps it apart.
	 */
	for (size_t i = 0; i < config->n_origins; i++) {
		oa_behavior_config *b =
		    i == 0 ? &config->default_behavior : &config->behaviors[i - 1];
		char pattern[64];

		oa__cfg_behavior_defaults(b);
		b->origin_id = strdup(config->origins[i].id);
		b->origin_index = i;
		b->forward_host_header = true;
		if (i > 0) {
			snprintf(pattern, sizeof(pattern), "/target-%zu/*", i);
			b->path_pattern = strdup(pattern);
			config->n_behaviors++;
		}
		if (b->origin_id == NULL || (i > 0 && b->path_pattern == NULL)) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
	}
	config->has_default_behavior = true;
	return 0;
}

int oa_config_from_targets(const char *const *targets, size_t n, const oa_target_options *opts,
			   oa_config **out, oa_error *err)
{
	char sni[OA_NAME_MAX];
	oa_error nerr;
	oa_config *config;
	int rc;

	*out = NULL;
	if (n == 0) {
		return oa_error_set(err, -EINVAL, "no target");
	}
	if (opts->sni != NULL && oa_name_normalize(opts->sni, sni, &nerr) < 0) {
		return oa__adhoc_bad(err, opts->sni, "%s", nerr.msg);
	}
	config = oa__cfg_new();
	if (config == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	rc = add_origins(targets, n, opts->sni != NULL ? sni : NULL, config, err);
	if (rc == 0 && opts->n_host_headers > 0) {
		rc = add_host_headers(opts, config, err);
	}
	if (rc < 0) {
		oa_config_destroy(config);
		return rc;
	}
	*out = config;
	return 0;
}
