/* Host name normalisation and certificate name matching (RFC 6125). */
#ifndef ORIGINAUDIT_NAMES_H
#define ORIGINAUDIT_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OA_NAME_MAX 256

/*
 * Normalises a host name given by the operator (origin domain, Host header):
 * lower case, trailing dot removed, an internationalised name converted to its
 * A-label (xn--) form. Rejects empty names, names longer than 253 characters,
 * labels over 63 and characters outside letters, digits, '-' and '.' with
 * -EINVAL. Writes into out (OA_NAME_MAX bytes).
 */
int oa_name_normalize(const char *name, char out[OA_NAME_MAX], oa_error *err);

/*
 * True when a certificate's DNS name (SAN dNSName or CN) covers host.
 * host must already be normalised; pattern is compared case-insensitively with
 * a trailing dot ignored. A wildcard counts only as the whole left-most label
 * ("*.example.com"), matches exactly one non-empty label, and needs at least
 * two labels after it. Partial wildcards ("w*.example.com") never match.
 */
bool oa_name_matches(const char *pattern, const char *host);

#ifdef __cplusplus
}
#endif

#endif
