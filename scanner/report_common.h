/*
 * Helpers shared by the report writers (report_*.c): how a probe's checks are
 * enumerated, which one explains the verdict, and how a probe is named. Not
 * part of the scan engine's interface.
 */
#ifndef ORIGINAUDIT_SCANNER_REPORT_COMMON_H
#define ORIGINAUDIT_SCANNER_REPORT_COMMON_H

#include <stddef.h>

#include "scan.h"

/* protocols, the core's checks, http. */
#define SCAN__MAX_CHECKS (OA_CHECK_COUNT + 2)

/* One present check of a probe, named as in the JSON report. */
typedef struct scan__check_ref {
	/* Static string: "protocols", "trust", ..., "http". */
	const char *name;
	/* Owned by the probe. */
	const oa_check *check;
	/* The check's detail and hint, "" when it has none; owned by the probe. */
	const char *detail;
	const char *hint;
} scan__check_ref;

/*
 * The probe's present checks in the order CloudFront meets them: protocols
 * (the handshake), then the core's checks on the chain, then http. Returns
 * how many were stored in out.
 */
size_t scan__probe_checks(const oa_probe_result *result, scan__check_ref out[SCAN__MAX_CHECKS]);

/* Index in checks of the first failing check, else the first warning one; -1 when none. */
int scan__first_problem(const scan__check_ref *checks, size_t n);

/* What to do about a probe error code ("connection_refused", ...); static string, "" if none. */
const char *scan__error_hint(const char *error);

/*
 * Formats the probe's endpoint for people: "192.0.2.10:443", "[2001:db8::10]:443",
 * or the origin's domain name when there is no address (DNS failed).
 */
void scan__endpoint(const scan_origin *origin, const oa_probe_spec *spec, char *buf, size_t size);

/* "http-only", "https-only", "match-viewer"; static string. */
const char *scan__protocol_policy_name(oa_origin_protocol_policy policy);

#endif
