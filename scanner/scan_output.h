/*
 * The scanner's own report formats (text for people, JUnit XML for CI) on top
 * of the core's scan engine and writers, and where a report goes.
 */
#ifndef ORIGINAUDIT_SCANNER_SCAN_OUTPUT_H
#define ORIGINAUDIT_SCANNER_SCAN_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "originaudit/error.h"
#include "originaudit/scan.h"

/* Writers: 0 or a negative errno value (write errors). */
int scan_write_text(const oa_scan_report *report, FILE *out, bool colour);
int scan_write_junit(const oa_scan_report *report, FILE *out);

/* Writes the report in format to out; 0 or a negative errno value (write errors). */
int scan_write_format(const oa_scan_report *report, oa_scan_format format, FILE *out, bool colour);

/* The format named name ("json", "text", "prometheus", "junit", "html"); false if none. */
bool scan_format_parse(const char *name, oa_scan_format *out);

/* "json", ...; a static string. */
const char *scan_format_name(oa_scan_format format);

/* The format a file name's extension says (.json .prom .xml .txt .html); false if none. */
bool scan_format_from_path(const char *path, oa_scan_format *out);

/* The most -o outputs of one run. */
#define SCAN_MAX_OUTPUTS 8

/* One destination of the report: a format and a path ("-": stdout). */
typedef struct scan_output {
	oa_scan_format format;
	const char *path;
} scan_output;

/*
 * Parses an -o value: "FORMAT:PATH" (FORMAT one of the names above), or a
 * PATH in the format fallback (a -f format; has_fallback false when none was
 * given), or else the one its extension tells. 0, or -EINVAL with a one-line
 * message in err.
 */
int scan_output_parse(const char *spec, bool has_fallback, oa_scan_format fallback,
		      scan_output *out, oa_error *err);

/*
 * Writes the report in format to path atomically (a temporary file in the
 * same directory, fsync, rename), or to stdout when path is NULL or "-".
 * On failure the previous file at path is untouched and err names the path.
 */
int scan_write_report(const oa_scan_report *report, oa_scan_format format, const char *path,
		      bool colour, oa_error *err);

#endif
