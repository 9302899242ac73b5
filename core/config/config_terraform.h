/*
 * One aws_cloudfront_distribution of `terraform show -json` output, read by
 * config_terraform_values.c (what a plan leaves unknown: config_terraform_unknown.c)
 * for the document walk of config_terraform.c.
 * Not installed.
 */
#ifndef ORIGINAUDIT_CORE_CONFIG_TERRAFORM_H
#define ORIGINAUDIT_CORE_CONFIG_TERRAFORM_H

#include <jansson.h>

#include "config_internal.h"

/* A resource's attributes and, from a plan, what is known only after apply. */
typedef struct oa__tf_distribution {
	/* The resource's "values" object (owned by the document). */
	const json_t *values;
	/* Its change.after_unknown object, true at unknown leaves; NULL for state. */
	const json_t *unknown;
} oa__tf_distribution;

/*
 * Reads d into config (fresh from oa__cfg_new): aliases, origins, origin
 * groups and behaviours. Errors name the attribute's path relative to the
 * resource ("origin[0].custom_origin_config[0].https_port") under c's label;
 * c->ids must be zeroed. On error config may be partly filled (destroy it).
 */
int oa__tf_read_distribution(const oa__cfg *c, const oa__tf_distribution *d, oa_config *config);

/*
 * The path of the first value of the origin at path ("origin[1]") that u, its
 * after_unknown (may be NULL), marks unknown among the attributes read
 * ("origin[1].domain_name"), into *out (caller frees). 1 when found, 0 when
 * none, -1 when out of memory.
 */
int oa__tf_origin_unknown(const char *path, const json_t *u, char **out);

/*
 * The same for the values outside the origins that the audit depends on
 * (aliases, origin groups, the behaviours' targets, policies and forwarded
 * headers), u being the resource's after_unknown (may be NULL).
 */
int oa__tf_distribution_unknown(const json_t *u, char **out);

#endif
