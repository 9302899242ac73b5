/* Whole inputs read into memory, bounded (file.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "originaudit/file.h"

int oa_read_stream(FILE *f, const char *label, char **data, size_t *len, oa_error *err)
{
	char *buf = NULL;
	size_t n = 0;
	size_t cap = 0;

	*data = NULL;
	*len = 0;
	for (;;) {
		if (n == cap) {
			size_t ncap = cap == 0 ? 16384 : cap * 2;

			if (ncap > OA_READ_MAX) {
				free(buf);
				return oa_error_set(err, -EFBIG, "%s: larger than %u MiB", label,
						    OA_READ_MAX >> 20);
			}
			char *nbuf = realloc(buf, ncap + 1);
			if (nbuf == NULL) {
				free(buf);
				return oa_error_set(err, -ENOMEM, "%s: out of memory", label);
			}
			buf = nbuf;
			cap = ncap;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0) {
			if (ferror(f)) {
				int e = errno;

				free(buf);
				return oa_error_set(err, -EIO, "%s: read error: %s", label,
						    strerror(e));
			}
			break;
		}
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

int oa_read_file(const char *path, char **data, size_t *len, oa_error *err)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	*data = NULL;
	*len = 0;
	if (f == NULL) {
		int e = errno;

		return oa_error_set(err, -e, "%s: %s", path, strerror(e));
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return oa_error_set(err, -EISDIR, "%s: %s", path, strerror(EISDIR));
	}
	int rc = oa_read_stream(f, path, data, len, err);

	fclose(f);
	return rc;
}
