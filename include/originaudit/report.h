/* The JSON form of a verification result, shared by verify, scan and the proxy. */
#ifndef ORIGINAUDIT_REPORT_H
#define ORIGINAUDIT_REPORT_H

#include <jansson.h>
#include <time.h>

#include "originaudit/trust.h"
#include "originaudit/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * {"verdict", "evaluated_at", "checks": {...}, "chain": [...], "ca_bundle": {...}}.
 * store may be NULL (no "ca_bundle" member). Returns a new reference the
 * caller owns, or NULL when out of memory.
 */
json_t *oa_result_to_json(const oa_result *result, const oa_trust_store *store);

/* {"path", "certificates", "sha256"}; new reference, NULL when out of memory. */
json_t *oa_trust_store_to_json(const oa_trust_store *store);

/* Formats t as "2026-11-27T05:09:07Z" into buf (at least 21 bytes). */
void oa_format_time(time_t t, char buf[static 32]);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" (or "YYYY-MM-DD"); 0 or -EINVAL. */
int oa_parse_time(const char *text, time_t *out);

#ifdef __cplusplus
}
#endif

#endif
