/*
 * libFuzzer target: both configuration readers on the same bytes — the
 * native loader (oa_config_load_fd: JSON, validation, relative paths) and
 * the CloudFront importer (oa_config_load_cloudfront_file: AWS CLI output
 * of get-distribution-config, get-distribution, list-distributions, a bare
 * DistributionConfig, or a CloudFormation template in JSON or YAML) — and the
 * lint of whatever either accepts. A document is rarely valid for both; each
 * reader gets its chance at every input, so seeds of either format reach
 * their reader.
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
	return 0;
}
