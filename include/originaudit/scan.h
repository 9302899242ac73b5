/* The scan engine: every probe of every origin, concurrently, on one libuv loop. */
#ifndef ORIGINAUDIT_SCANNER_SCAN_H
#define ORIGINAUDIT_SCANNER_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <uv.h>

#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

typedef struct scan_options {
	/* Probes (and DNS lookups) in flight at most. */
	unsigned concurrency;
	unsigned connect_timeout_ms;
	unsigned handshake_timeout_ms;
	bool enumerate_protocols;
	time_t at;
	oa_policy policy;
	/* Called after each probe finishes (progress line); may be NULL. */
	void (*progress)(size_t done, size_t total, void *data);
	void *progress_data;
} scan_options;

typedef struct scan_origin {
	/* Owned by the configuration. */
	const oa_origin_config *config;
	/* The port reported for the origin: https_port, or http_port for http-only. */
	unsigned port;
	/* Worst probe verdict; OA_STATUS_SKIP for a skipped (S3) origin. */
	oa_status verdict;
	/* Why the origin was not probed ("s3_origin"), or NULL. */
	const char *skipped;
	/* Finished probes, in a stable order (address, then SNI, HTTPS before HTTP). */
	oa_probe **probes;
	size_t n_probes;
} scan_origin;

typedef struct scan_report {
	const oa_config *config;
	const oa_trust_store *store;
	time_t started_at;
	time_t finished_at;
	double duration_s;
	scan_origin *origins;
	size_t n_origins;
	/* Origins by verdict: indexes OA_STATUS_PASS, _WARN, _FAIL, _ERROR (and _SKIP). */
	size_t counts[OA_STATUS_ERROR + 1];
	size_t n_probes;
	/* Worst origin verdict. */
	oa_status verdict;
} scan_report;

/* Fills opts from the configuration's scan block. */
void scan_options_from_config(scan_options *opts, const oa_config *config);

/*
 * Runs every probe of config on loop until all have finished (it runs the
 * loop). Returns 0 with *out (caller frees with scan_report_destroy), or a
 * negative errno value.
 */
int scan_run(uv_loop_t *loop, const oa_config *config, const oa_trust_store *store,
	     const scan_options *opts, scan_report **out);

/* Frees the report and its probes; runs loop until their handles are closed. */
void scan_report_destroy(scan_report *report, uv_loop_t *loop);

typedef enum scan_format {
	SCAN_FORMAT_JSON,
	SCAN_FORMAT_TEXT,
	SCAN_FORMAT_PROMETHEUS,
	SCAN_FORMAT_JUNIT,
} scan_format;

/* Writers: 0 or a negative errno value (write errors). */
int scan_write_json(const scan_report *report, FILE *out);
int scan_write_text(const scan_report *report, FILE *out, bool colour);
int scan_write_prometheus(const scan_report *report, FILE *out);
int scan_write_junit(const scan_report *report, FILE *out);

/*
 * Writes the report in format to path atomically (a temporary file in the
 * same directory, fsync, rename), or to stdout when path is NULL or "-".
 * On failure the previous file at path is untouched and err names the path.
 */
int scan_write_report(const scan_report *report, scan_format format, const char *path, bool colour,
		      oa_error *err);

#endif
