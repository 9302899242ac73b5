/* What the libFuzzer targets share (fuzz_common.h). */
#include "fuzz_common.h"

#include <stdio.h>
#include <unistd.h>

int fz_load_roots(oa_trust_store **out)
{
	static const char *const parts[] = {"/data/roots.pem",
					    "/../../ca-bundle/mozilla-roots.pem"};
	char tmp[] = "/tmp/oa-fuzz-roots-XXXXXX";
	char path[4096];
	char buf[65536];
	oa_error err;
	int rc = -1;
	int fd = mkstemp(tmp);

	if (fd < 0) {
		perror("fuzz: mkstemp");
		return -1;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n;

		snprintf(path, sizeof(path), "%s%s", fz_dir(), parts[i]);
		FILE *in = fopen(path, "rb");
		if (in == NULL) {
			fprintf(stderr, "fuzz: %s: cannot open (set OA_FUZZ_DIR to tests/fuzz)\n",
				path);
			goto out;
		}
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
			if (write(fd, buf, n) != (ssize_t)n) {
				fclose(in);
				goto out;
			}
		}
		fclose(in);
	}
	oa_error_clear(&err);
	rc = oa_trust_store_load(tmp, out, &err);
	if (rc < 0) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
	}
out:
	close(fd);
	unlink(tmp);
	return rc;
}
