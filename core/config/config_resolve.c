/*
 * curl's --resolve HOST:PORT:ADDRESS[,ADDRESS...] applied to a configuration:
 * the matching origins get the addresses, as if the file listed them, so the
 * scan engine needs no special case.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_adhoc.h"

static int parse_addresses(const char *spec, const char *s, oa_resolve *out, oa_error *err)
{
	while (true) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		char addr[OA_RESOLVE_ADDRESS_MAX];
		bool seen = false;

		if (len == 0) {
			return oa__adhoc_bad(err, spec, "an empty address");
		}
		if (oa__adhoc_address(s, len, true, addr) < 0) {
			return oa__adhoc_bad(
			    err, spec,
			    "'%.*s' is not a numeric IPv4 address or IPv6 address ([::1])",
			    (int)len, s);
		}
		for (size_t i = 0; i < out->n_addresses; i++) {
			seen = seen || strcmp(out->addresses[i], addr) == 0;
		}
		if (!seen) {
			if (out->n_addresses == OA_RESOLVE_MAX_ADDRESSES) {
				return oa__adhoc_bad(err, spec, "more than %d addresses",
						     OA_RESOLVE_MAX_ADDRESSES);
			}
			memcpy(out->addresses[out->n_addresses], addr, sizeof(addr));
			out->n_addresses++;
		}
		if (comma == NULL) {
			return 0;
		}
		s = comma + 1;
	}
}

int oa_resolve_parse(const char *spec, oa_resolve *out, oa_error *err)
{
	char host[OA_NAME_MAX];
	oa_error nerr;

	memset(out, 0, sizeof(*out));
	if (spec[0] == '-' || spec[0] == '+') {
		return oa__adhoc_bad(err, spec,
				     "curl's +HOST and -HOST forms are not supported: write "
				     "HOST:PORT:ADDRESS");
	}
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
	if (c1 == NULL || c2 == NULL) {
		return oa__adhoc_bad(err, spec, "expected HOST:PORT:ADDRESS[,ADDRESS...]");
	}
	size_t host_len = (size_t)(c1 - spec);
	if (host_len == 0) {
		return oa__adhoc_bad(err, spec, "the host is empty");
	}
	if (host_len >= sizeof(host)) {
		return oa__adhoc_bad(err, spec, "the host is longer than 253 characters");
	}
	memcpy(host, spec, host_len);
	host[host_len] = '\0';
	if (oa_name_normalize(host, out->host, &nerr) < 0) {
		return oa__adhoc_bad(err, spec, "%s", nerr.msg);
	}
	if (oa__adhoc_port(c1 + 1, (size_t)(c2 - c1 - 1), &out->port) < 0) {
		return oa__adhoc_bad(err, spec, "port '%.*s' is not 1-65535", (int)(c2 - c1 - 1),
				     c1 + 1);
	}
	return parse_addresses(spec, c2 + 1, out, err);
}

/* The port a --resolve entry names for origin o: the one its probes connect to first. */
static unsigned origin_port(const oa_origin_config *o)
{
	return o->protocol_policy == OA_ORIGIN_HTTP_ONLY ? o->http_port : o->https_port;
}

static bool entry_matches(const oa_resolve *r, const oa_origin_config *o)
{
	return r->port == origin_port(o) && strcasecmp(r->host, o->domain_name) == 0;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(list[i]);
	}
	free(list);
}

/* The addresses of every entry matching o, without duplicates; *n 0 when none match. */
static int collect(const oa_origin_config *o, const oa_resolve *list, size_t n, char ***out,
		   size_t *n_out)
{
	size_t total = 0;
	char **addrs;

	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++) {
		total += entry_matches(&list[i], o) ? list[i].n_addresses : 0;
	}
	if (total == 0) {
		return 0;
	}
	addrs = calloc(total, sizeof(*addrs));
	if (addrs == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t a = 0; entry_matches(&list[i], o) && a < list[i].n_addresses; a++) {
			bool seen = false;

			for (size_t k = 0; k < *n_out; k++) {
				seen = seen || strcmp(addrs[k], list[i].addresses[a]) == 0;
			}
			if (seen) {
				continue;
			}
			addrs[*n_out] = strdup(list[i].addresses[a]);
			if (addrs[*n_out] == NULL) {
				free_list(addrs, *n_out);
				*n_out = 0;
				return -ENOMEM;
			}
			(*n_out)++;
		}
	}
	*out = addrs;
	return 0;
}

int oa_config_apply_resolve(oa_config *config, const oa_resolve *list, size_t n, size_t *matched,
			    oa_error *err)
{
	char ***lists = calloc(config->n_origins + 1, sizeof(*lists));
	size_t *counts = calloc(config->n_origins + 1, sizeof(*counts));
	int rc = 0;

	if (lists == NULL || counts == NULL) {
		rc = oa_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* Everything is built before anything changes: on failure config is as it was. */
	for (size_t i = 0; i < config->n_origins; i++) {
		if (collect(&config->origins[i], list, n, &lists[i], &counts[i]) < 0) {
			rc = oa_error_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t r = 0; matched != NULL && r < n; r++) {
		matched[r] = 0;
		for (size_t i = 0; i < config->n_origins; i++) {
			matched[r] += entry_matches(&list[r], &config->origins[i]) ? 1 : 0;
		}
	}
	for (size_t i = 0; i < config->n_origins; i++) {
		oa_origin_config *o = &config->origins[i];

		if (counts[i] == 0) {
			continue;
		}
		free_list(o->addresses, o->n_addresses);
		o->addresses = lists[i];
		o->n_addresses = counts[i];
		lists[i] = NULL;
		counts[i] = 0;
	}
out:
	for (size_t i = 0; lists != NULL && i < config->n_origins; i++) {
		free_list(lists[i], counts[i]);
	}
	free(lists);
	free(counts);
	return rc;
}
