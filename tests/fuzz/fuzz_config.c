/* libFuzzer harness: the configuration loader and its lint on arbitrary JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "originaudit/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	oa_config *config = NULL;
	oa_error err;

	if (root == NULL) {
		return 0;
	}
	if (oa_config_from_json(root, "fuzz", &config, &err) == 0) {
		oa_lint *lints = NULL;
		size_t n = 0;

		if (oa_config_lint(config, &lints, &n) == 0) {
			free(lints);
		}
		oa_config_destroy(config);
	}
	json_decref(root);
	return 0;
}
