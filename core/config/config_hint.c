/*
 * The file given as a configuration is CloudFront's own JSON or Terraform's:
 * the unknown-key error alone would not say what to do, so it gets a hint.
 */
#include <stdio.h>
#include <string.h>

#include "config_hint.h"

bool oa__cfg_looks_like_cloudfront(const json_t *root)
{
	static const char *const keys[] = {"ETag", "DistributionConfig", "Distribution",
					   "DistributionList"};

	if (!json_is_object(root)) {
		return false;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (json_object_get(root, keys[i]) != NULL) {
			return true;
		}
	}
	return false;
}

bool oa__cfg_looks_like_terraform(const json_t *root)
{
	static const char *const keys[] = {"planned_values", "values", "resource_changes",
					   "terraform_version"};

	if (!json_is_object(root) || !json_is_string(json_object_get(root, "format_version"))) {
		return false;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (json_object_get(root, keys[i]) != NULL) {
			return true;
		}
	}
	return false;
}

void oa__cfg_cloudfront_hint(const json_t *root, oa_error *err)
{
	const char *hint = NULL;

	if (err == NULL) {
		return;
	}
	if (oa__cfg_looks_like_cloudfront(root)) {
		hint = "this looks like AWS CLI CloudFront output: use --cloudfront FILE";
	} else if (oa__cfg_looks_like_terraform(root)) {
		hint = "this looks like terraform show -json output: use --terraform FILE";
	}
	if (hint == NULL) {
		return;
	}
	size_t used = strlen(err->msg);
	snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", hint);
}
