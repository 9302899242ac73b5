/*
 * The file given as a configuration is CloudFront's own JSON: the unknown-key
 * error alone would not say what to do, so it gets a hint.
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

void oa__cfg_cloudfront_hint(const json_t *root, oa_error *err)
{
	if (err == NULL || !oa__cfg_looks_like_cloudfront(root)) {
		return;
	}
	size_t used = strlen(err->msg);
	snprintf(err->msg + used, sizeof(err->msg) - used,
		 ": this looks like AWS CLI CloudFront output: use --cloudfront FILE");
}
