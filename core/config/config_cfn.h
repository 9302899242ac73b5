/*
 * CloudFormation templates (JSON or YAML) as the CloudFront importer reads
 * them: the template file read by content, its AWS::CloudFront::Distribution
 * resources, and the intrinsic functions ({"Ref": ...}, {"Fn::...": ...})
 * whose value only a deployment knows. Not installed.
 */
#ifndef ORIGINAUDIT_CORE_CONFIG_CFN_H
#define ORIGINAUDIT_CORE_CONFIG_CFN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "originaudit/error.h"

/* One AWS::CloudFront::Distribution resource of a template. */
typedef struct oa__cfn_distribution {
	/* The resource's logical id ("Resources.<id>"), owned by the template. */
	const char *logical_id;
	/* Its Properties.DistributionConfig, owned by the template. */
	const json_t *config;
} oa__cfn_distribution;

/*
 * Reads path as a template: JSON when its first non-blank byte is '{',
 * YAML otherwise. 0 with *root (the caller's), or a negative errno with err
 * naming the file and line.
 */
int oa__cfn_read(const char *path, json_t **root, oa_error *err);

/* Whether root looks like a template (an object with a "Resources" object). */
bool oa__cfn_is_template(const json_t *root);

/*
 * The template's distributions, in the order of its Resources. 0 with *out
 * (caller frees the array; the entries point into root) and *n >= 1; a
 * negative errno with err ("LABEL: Resources.Cdn.Properties: ...") when a
 * distribution has no DistributionConfig object, or none exists.
 */
int oa__cfn_distributions(const json_t *root, const char *label, oa__cfn_distribution **out,
			  size_t *n, oa_error *err);

/*
 * Whether v is an intrinsic function, a value known only once deployed;
 * when it is, text gets its short form ("!Ref OriginDomain", "!GetAtt
 * Lb.DNSName", "!Sub api.${Zone}", "!Join [...]"), cut to size.
 */
bool oa__cfn_unresolved(const json_t *v, char *text, size_t size);

#endif
