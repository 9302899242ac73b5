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

/*
 * Writes the report in format to path atomically (a temporary file in the
 * same directory, fsync, rename), or to stdout when path is NULL or "-".
 * On failure the previous file at path is untouched and err names the path.
 */
int scan_write_report(const oa_scan_report *report, oa_scan_format format, const char *path,
		      bool colour, oa_error *err);

#endif
