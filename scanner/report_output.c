/*
 * Where a report goes: stdout, or a file replaced atomically. The new report
 * is written to a temporary file next to the old one, flushed to disk and
 * renamed over it, so a monitoring agent reading the file sees either the
 * previous report or the new one, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan_output.h"

#define TEMP_SUFFIX ".tmp-XXXXXX"

static int write_format(const oa_scan_report *report, oa_scan_format format, FILE *out, bool colour)
{
	switch (format) {
	case OA_SCAN_FORMAT_JSON:
		return oa_scan_write_json(report, out);
	case OA_SCAN_FORMAT_TEXT:
		return scan_write_text(report, out, colour);
	case OA_SCAN_FORMAT_PROMETHEUS:
		return oa_scan_write_prometheus(report, out);
	case OA_SCAN_FORMAT_JUNIT:
		return scan_write_junit(report, out);
	}
	return -EINVAL;
}

static int write_stdout(const oa_scan_report *report, oa_scan_format format, bool colour,
			oa_error *err)
{
	int rc = write_format(report, format, stdout, colour);

	if (rc < 0) {
		return oa_error_set(err, rc, "stdout: %s", strerror(-rc));
	}
	errno = 0;
	if (fflush(stdout) != 0) {
		rc = errno != 0 ? -errno : -EIO;
		return oa_error_set(err, rc, "stdout: %s", strerror(-rc));
	}
	return 0;
}

/* Makes the rename itself durable; a failure here loses nothing already written. */
static void sync_parent(const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL) {
		return;
	}
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int scan_write_report(const oa_scan_report *report, oa_scan_format format, const char *path,
		      bool colour, oa_error *err)
{
	char *tmp = NULL;
	FILE *out = NULL;
	int fd = -1;
	int rc;

	if (path == NULL || strcmp(path, "-") == 0) {
		return write_stdout(report, format, colour, err);
	}
	size_t len = strlen(path) + sizeof(TEMP_SUFFIX);
	tmp = malloc(len);
	if (tmp == NULL) {
		return oa_error_set(err, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
	}
	snprintf(tmp, len, "%s" TEMP_SUFFIX, path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return oa_error_set(err, rc, "%s: %s", path, strerror(-rc));
	}
	out = fdopen(fd, "w");
	if (out == NULL) {
		rc = -errno;
		close(fd);
		goto fail_unlink;
	}
	/* A file is never a terminal: no colour codes in it. */
	rc = write_format(report, format, out, false);
	if (rc < 0) {
		goto fail_close;
	}
	errno = 0;
	if (fflush(out) != 0) {
		rc = errno != 0 ? -errno : -EIO;
		goto fail_close;
	}
	if (fsync(fd) < 0 || fchmod(fd, 0644) < 0) {
		rc = -errno;
		goto fail_close;
	}
	errno = 0;
	if (fclose(out) != 0) {
		out = NULL;
		rc = errno != 0 ? -errno : -EIO;
		goto fail_unlink;
	}
	out = NULL;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	sync_parent(path);
	free(tmp);
	return 0;

fail_close:
	fclose(out);
fail_unlink:
	unlink(tmp);
	free(tmp);
	return oa_error_set(err, rc, "%s: %s", path, strerror(-rc));
}
