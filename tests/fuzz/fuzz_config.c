/*
 * libFuzzer target: every configuration reader on the same bytes — the
 * native loader (oa_config_load_fd: JSON, validation, relative paths), the
 * CloudFront importer (oa_config_load_cloudfront_file: AWS CLI output
 * of get-distribution-config, get-distribution, list-distributions, a bare
 * DistributionConfig, or a CloudFormation template in JSON or YAML) and the
 * Terraform importer (oa_config_load_terraform: terraform show -json of a
 * plan or state, every distribution) — and the lint of whatever any accepts.
 * A document is rarely valid for two; each reader gets its chance at every
 * input, so seeds of any format reach their reader.
 *
 * Input: a JSON or YAML document.
 */
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "originaudit/config.h"

/* The input as a file for the readers: a memory file rewritten each time. */
static int fd = -1;
static char path[64];
/* OA_FUZZ_VERBOSE: which reader accepted the input, or why not (to check seeds). */
static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fd = memfd_create("oa-fuzz-config", MFD_CLOEXEC);
	if (fd < 0) {
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	verbose = getenv("OA_FUZZ_VERBOSE") != NULL;
	return 0;
}

static void lint(oa_config *config)
{
	oa_lint *lints = NULL;
	size_t n = 0;

	if (config == NULL) {
		return;
	}
	if (oa_config_lint(config, &lints, &n) == 0) {
		free(lints);
	}
	oa_config_destroy(config);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	oa_config *config = NULL;
	oa_error err;

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		abort();
	}
	/* A label with a directory: relative file paths in the document are resolved. */
	int native = oa_config_load_fd(fd, "conf/fuzz.json", &config, &err);
	if (verbose) {
		fprintf(stderr, "native: %s\n", native == 0 ? "accepted" : err.msg);
	}
	lint(config);
	config = NULL;
	int cloudfront = oa_config_load_cloudfront_file(path, &config, &err);
	if (verbose) {
		fprintf(stderr, "cloudfront: %s\n", cloudfront == 0 ? "accepted" : err.msg);
	}
	lint(config);
	/* A list with one entry already: a failed load must leave it as it was. */
	oa_config_list list = {NULL, 0};
	if (oa_config_list_push(&list, NULL) < 0) {
		abort();
	}
	int terraform = oa_config_load_terraform(path, &list, &err);
	if (verbose) {
		fprintf(stderr, "terraform: %s\n", terraform == 0 ? "accepted" : err.msg);
	}
	if ((terraform == 0) != (list.n > 1) || list.items[0] != NULL) {
		abort();
	}
	for (size_t i = 1; i < list.n; i++) {
		lint(list.items[i]);
		list.items[i] = NULL;
	}
	oa_config_list_clear(&list);
	return 0;
}
