/*
 * The scan engine: every probe of every origin of a configuration, run
 * concurrently on one libuv loop, gathered into a report; and the report's
 * machine-readable forms (JSON schema v1, Prometheus text) that both the
 * scanner and the proxy serve.
 */
#ifndef ORIGINAUDIT_SCAN_H
#define ORIGINAUDIT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <uv.h>

#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oa_scan_options {
	/* Probes (and DNS lookups) in flight at most; 0 means 64. */
	unsigned concurrency;
	unsigned connect_timeout_ms;
	unsigned handshake_timeout_ms;
	bool enumerate_protocols;
	time_t at;
	oa_policy policy;
	/*
	 * Only the origins select returns true for are probed and reported
	 * (their distribution's aliases and behaviours still apply); NULL: all.
	 */
	bool (*select)(const oa_config *config, const oa_origin_config *origin, void *data);
	void *select_data;
	/* Called on the loop after each probe finishes (progress line); may be NULL. */
	void (*progress)(size_t done, size_t total, void *data);
	void *progress_data;
} oa_scan_options;

typedef struct oa_scan_origin {
	/* Owned by the configuration. */
	const oa_origin_config *config;
	/* Its configuration's distribution (owned by it), or NULL. */
	const char *distribution;
	/*
	 * The origin's key in the report, owned by the report: config->id, or
	 * "DISTRIBUTION/ID" when the scan covers several distributions (origin
	 * ids are unique within one only). NULL in a report built by hand:
	 * oa_scan_origin_id then gives config->id.
	 */
	char *id;
	/* The port reported for the origin: https_port, or http_port for http-only. */
	unsigned port;
	/* Worst probe verdict; OA_STATUS_SKIP for a skipped (S3) origin. */
	oa_status verdict;
	/* Why the origin was not probed ("s3_origin"), or NULL. */
	const char *skipped;
	/* Finished probes, in a stable order (address, then SNI, HTTPS before HTTP). */
	oa_probe **probes;
	size_t n_probes;
} oa_scan_origin;

/* Transparent so that writers (and tests) can read and build one. */
typedef struct oa_scan_report {
	/* Not owned: they must outlive the report. The first configuration scanned. */
	const oa_config *config;
	/* How many configurations (distributions) the scan covered. */
	size_t n_distributions;
	const oa_trust_store *store;
	time_t started_at;
	time_t finished_at;
	double duration_s;
	oa_scan_origin *origins;
	size_t n_origins;
	/* Origins by verdict: indexes OA_STATUS_PASS, _WARN, _FAIL, _ERROR (and _SKIP). */
	size_t counts[OA_STATUS_ERROR + 1];
	size_t n_probes;
	/* Worst origin verdict. */
	oa_status verdict;
} oa_scan_report;

/* Fills opts from the configuration's scan block (opts->at is now); nothing to free. */
void oa_scan_options_from_config(oa_scan_options *opts, const oa_config *config);

/*
 * Called exactly once, on the loop, from no other callback of the scan. With
 * status 0, report is the callback's: it frees it with oa_scan_report_destroy
 * (at once or much later). With a negative errno status, report is NULL.
 */
typedef void (*oa_scan_done_cb)(oa_scan_report *report, int status, void *data);

/*
 * Starts a scan of every origin of config on loop, which may already be
 * running (this never runs the loop). opts is copied. config and store are
 * not: they must stay alive until cb, and as long as the report after it.
 * Returns 0 (cb will be called later, never from inside this call) or a
 * negative errno value (cb will not be called). A scan cannot be cancelled;
 * every probe ends within its timeouts.
 */
int oa_scan_start(uv_loop_t *loop, const oa_config *config, const oa_trust_store *store,
		  const oa_scan_options *opts, oa_scan_done_cb cb, void *data);

/*
 * oa_scan_start for several configurations (distributions) at once: one
 * report, their origins in order. Each configuration's aliases and
 * behaviours apply to its own origins only. The array is copied; the
 * configurations must live as long as the report.
 */
int oa_scan_start_many(uv_loop_t *loop, const oa_config *const *configs, size_t n_configs,
		       const oa_trust_store *store, const oa_scan_options *opts, oa_scan_done_cb cb,
		       void *data);

/* The key of origin in its report (see oa_scan_origin.id); never NULL. */
const char *oa_scan_origin_id(const oa_scan_origin *origin);

/*
 * oa_scan_start, then runs loop until the scan has finished; for programs
 * whose loop is not running (uv_run cannot nest). Returns 0 with *out
 * (caller frees with oa_scan_report_destroy), or a negative errno value.
 */
int oa_scan_run(uv_loop_t *loop, const oa_config *config, const oa_trust_store *store,
		const oa_scan_options *opts, oa_scan_report **out);

/* oa_scan_run for several configurations, as oa_scan_start_many. */
int oa_scan_run_many(uv_loop_t *loop, const oa_config *const *configs, size_t n_configs,
		     const oa_trust_store *store, const oa_scan_options *opts,
		     oa_scan_report **out);

/*
 * Frees the report and its probes; accepts NULL. Needs no loop iteration, so
 * it may be called anywhere, a loop callback included: the probes'
 * connections were already closing when the scan finished, and their last
 * close callbacks release what is left when the scan's loop runs on (as it
 * must before uv_loop_close anyway).
 */
void oa_scan_report_destroy(oa_scan_report *report);

/* The report formats. The core writes JSON and Prometheus; text and JUnit are the scanner's. */
typedef enum oa_scan_format {
	OA_SCAN_FORMAT_JSON,
	OA_SCAN_FORMAT_TEXT,
	OA_SCAN_FORMAT_PROMETHEUS,
	OA_SCAN_FORMAT_JUNIT,
	OA_SCAN_FORMAT_HTML,
} oa_scan_format;

/* The JSON report, schema v1. 0, -ENOMEM or -EIO (write errors). */
int oa_scan_write_json(const oa_scan_report *report, FILE *out);

/* The Prometheus text exposition format 0.0.4. 0 or -EIO (write errors). */
int oa_scan_write_prometheus(const oa_scan_report *report, FILE *out);

/*
 * One self-contained HTML page (no external assets, no JavaScript framework):
 * a summary, every origin and probe with its verdict, the failing checks
 * with detail and hint, and an expiry timeline of every certificate (inline
 * SVG). 0, -ENOMEM or -EIO (write errors).
 */
int oa_scan_write_html(const oa_scan_report *report, FILE *out);

/*
 * The length of the valid UTF-8 sequence at s (n bytes readable), or 0 when
 * it is not one: overlong forms, surrogates and code points past U+10FFFF are
 * not valid. Writers replace what is not valid with U+FFFD.
 */
size_t oa_utf8_len(const unsigned char *s, size_t n);

/* Writes value to out as a Prometheus label value (\, " and newline escaped; NULL: nothing). */
void oa_scan_prometheus_label(FILE *out, const char *value);

/*
 * Helpers for report writers: how a probe's checks are enumerated, which one
 * explains the verdict, and how a probe is named.
 */

/* protocols, the core's checks, http. */
#define OA_SCAN_MAX_CHECKS (OA_CHECK_COUNT + 2)

/* One present check of a probe, named as in the JSON report. */
typedef struct oa_scan_check_ref {
	/* Static string: "protocols", "trust", ..., "http". */
	const char *name;
	/* Owned by the probe. */
	const oa_check *check;
	/* The check's detail and hint, "" when it has none; owned by the probe. */
	const char *detail;
	const char *hint;
} oa_scan_check_ref;

/*
 * Stores the probe's present checks in out in the order CloudFront meets
 * them: protocols (the handshake), then the core's checks on the chain, then
 * http. Returns how many were stored; they point into result.
 */
size_t oa_scan_probe_checks(const oa_probe_result *result,
			    oa_scan_check_ref out[OA_SCAN_MAX_CHECKS]);

/* Index in checks of the first failing check, else the first warning one; -1 when none. */
int oa_scan_first_problem(const oa_scan_check_ref *checks, size_t n);

/* What to do about a probe error code ("connection_refused", ...); static string, "" if none. */
const char *oa_scan_error_hint(const char *error);

/*
 * The same for a probe of origin: a VPC origin's name resolves, and its
 * address answers, only inside its VPC, so its DNS and connection errors get
 * that hint instead of public DNS or firewall advice.
 */
const char *oa_scan_origin_error_hint(const oa_scan_origin *origin, const char *error);

/*
 * Formats the probe's endpoint for people into buf: "192.0.2.10:443",
 * "[2001:db8::10]:443", or the origin's domain name when there is no address
 * (DNS failed).
 */
void oa_scan_endpoint(const oa_scan_origin *origin, const oa_probe_spec *spec, char *buf,
		      size_t size);

/* "http-only", "https-only", "match-viewer"; static string. */
const char *oa_scan_protocol_policy_name(oa_origin_protocol_policy policy);

#ifdef __cplusplus
}
#endif

#endif
