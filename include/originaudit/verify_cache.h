/*
 * A cache of verdicts by (certificate chain, acceptable names, trust store):
 * a chain seen again is not verified again, but its expiry is graded again
 * at the time of each lookup. Used by the proxy on every origin connection.
 */
#ifndef ORIGINAUDIT_VERIFY_CACHE_H
#define ORIGINAUDIT_VERIFY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <gnutls/gnutls.h>

#include "originaudit/trust.h"
#include "originaudit/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oa_verify_cache oa_verify_cache;

/* A cache of at most max verdicts (the oldest dropped beyond), graded with policy; NULL: no memory.
 */
oa_verify_cache *oa_verify_cache_new(size_t max, const oa_policy *policy);

/* Frees every verdict; accepts NULL. Results handed out are invalid afterwards. */
void oa_verify_cache_destroy(oa_verify_cache *cache);

/*
 * The verdict on the DER chain certs (wire order) for names against store,
 * its expiry graded at now: from the cache (*cached true) or verified and
 * stored. A chain with a certificate that does not parse is a verdict too
 * (malformed_certificate). Owned by the cache; NULL when out of memory.
 */
const oa_result *oa_verify_cache_get(oa_verify_cache *cache, const oa_trust_store *store,
				     const gnutls_datum_t *certs, unsigned n,
				     const char *const *names, size_t n_names, time_t now,
				     bool *cached);

/* Verdicts held. */
size_t oa_verify_cache_count(const oa_verify_cache *cache);

#ifdef __cplusplus
}
#endif

#endif
