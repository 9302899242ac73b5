/*
 * libFuzzer target: the YAML reader (core/config/yaml_json.h) that reads
 * CloudFormation templates: any bytes either read into a JSON value (dumped
 * again, which walks all of it, aliases included) or are refused with a
 * message naming the line and column.
 *
 * Input: a YAML document.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "yaml_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *root = NULL;
	oa_error err;

	oa_error_clear(&err);
	if (oa__yaml_to_json((const char *)data, size, "fuzz.yaml", &root, &err) < 0) {
		/* Refused: a message, never a value. */
		if (root != NULL || err.msg[0] == '\0' || strncmp(err.msg, "fuzz.yaml", 9) != 0) {
			abort();
		}
		return 0;
	}
	if (root == NULL) {
		abort();
	}
	char *text = json_dumps(root, JSON_ENCODE_ANY);
	free(text);
	json_decref(root);
	return 0;
}
