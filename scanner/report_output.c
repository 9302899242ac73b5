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
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan_output.h"

#define TEMP_SUFFIX ".tmp-XXXXXX"

static const struct {
	const char *name;
	oa_scan_format format;
} format_names[] = {
    {"json", OA_SCAN_FORMAT_JSON},
    {"text", OA_SCAN_FORMAT_TEXT},
    {"prometheus", OA_SCAN_FORMAT_PROMETHEUS},
    {"junit", OA_SCAN_FORMAT_JUNIT},
    {"html", OA_SCAN_FORMAT_HTML},
};

/* File name extensions and the format each means. */
static const struct {
	const char *ext;
	oa_scan_format format;
} format_exts[] = {
    {".json", OA_SCAN_FORMAT_JSON}, {".prom", OA_SCAN_FORMAT_PROMETHEUS},
    {".xml", OA_SCAN_FORMAT_JUNIT}, {".txt", OA_SCAN_FORMAT_TEXT},
    {".html", OA_SCAN_FORMAT_HTML}, {".htm", OA_SCAN_FORMAT_HTML},
};

bool scan_format_parse(const char *name, oa_scan_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(name, format_names[i].name) == 0) {
			*out = format_names[i].format;
			return true;
		}
	}
	return false;
}

const char *scan_format_name(oa_scan_format format)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (format_names[i].format == format) {
			return format_names[i].name;
		}
	}
	return "?";
}

bool scan_format_from_path(const char *path, oa_scan_format *out)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash != NULL ? slash : path, '.');

	if (dot == NULL) {
		return false;
	}
	for (size_t i = 0; i < sizeof(format_exts) / sizeof(format_exts[0]); i++) {
		if (strcasecmp(dot, format_exts[i].ext) == 0) {
			*out = format_exts[i].format;
			return true;
		}
	}
	return false;
}

int scan_output_parse(const char *spec, bool has_fallback, oa_scan_format fallback,
		      scan_output *out, oa_error *err)
{
	const char *colon = strchr(spec, ':');

	if (colon != NULL) {
		char name[16];
		size_t len = (size_t)(colon - spec);

		if (len < sizeof(name)) {
			memcpy(name, spec, len);
			name[len] = '\0';
			if (scan_format_parse(name, &out->format)) {
				out->path = colon + 1;
				if (out->path[0] == '\0') {
					return oa_error_set(err, -EINVAL,
							    "-o '%s': no file after the format "
							    "(FORMAT:FILE, '-' for stdout)",
							    spec);
				}
				return 0;
			}
		}
	}
	out->path = spec;
	if (spec[0] == '\0') {
		return oa_error_set(err, -EINVAL, "-o: an empty file name");
	}
	if (has_fallback) {
		out->format = fallback;
		return 0;
	}
	if (scan_format_from_path(spec, &out->format)) {
		return 0;
	}
	return oa_error_set(err, -EINVAL,
			    "-o '%s': cannot tell the format from the name: write FORMAT:%s "
			    "(json, text, prometheus, junit, html) or use a .json, .prom, .xml, "
			    ".txt or .html name",
			    spec, spec);
}

int scan_write_format(const oa_scan_report *report, oa_scan_format format, FILE *out, bool colour)
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
	case OA_SCAN_FORMAT_HTML:
		return oa_scan_write_html(report, out);
	}
	return -EINVAL;
}

static int write_stdout(const oa_scan_report *report, oa_scan_format format, bool colour,
			oa_error *err)
{
	int rc = scan_write_format(report, format, stdout, colour);

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
	rc = scan_write_format(report, format, out, false);
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
