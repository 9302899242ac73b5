/* Hints added to configuration errors for inputs of another kind. Not installed. */
#ifndef ORIGINAUDIT_CORE_CONFIG_HINT_H
#define ORIGINAUDIT_CORE_CONFIG_HINT_H

#include <jansson.h>
#include <stdbool.h>

#include "originaudit/error.h"

/*
 * True when root has a top-level key of AWS CLI CloudFront output ("ETag",
 * "DistributionConfig", "Distribution", "DistributionList").
 */
bool oa__cfg_looks_like_cloudfront(const json_t *root);

/*
 * True when root is an object with a string "format_version" and a top-level
 * key of `terraform show -json` output ("planned_values", "values",
 * "resource_changes", "terraform_version").
 */
bool oa__cfg_looks_like_terraform(const json_t *root);

/*
 * Appends ": this looks like AWS CLI CloudFront output: use --cloudfront FILE"
 * to err's message when root looks like it, or ": this looks like terraform
 * show -json output: use --terraform FILE"; accepts a NULL err.
 */
void oa__cfg_cloudfront_hint(const json_t *root, oa_error *err);

#endif
