/*
 * The verdict cache (see originaudit/verify_cache.h): a list, newest first,
 * keyed by the SHA-256 of the chain (each certificate's length, then its
 * bytes, so two chains never hash alike by concatenation) and the names.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "internal.h"
#include "originaudit/chain.h"
#include "originaudit/verify_cache.h"

struct entry {
	struct entry *next;
	char key[600];
	/* The bundle it was judged against. */
	const oa_trust_store *store;
	oa_result *result;
};

struct oa_verify_cache {
	struct entry *head;
	size_t n;
	size_t max;
	oa_policy policy;
};

oa_verify_cache *oa_verify_cache_new(size_t max, const oa_policy *policy)
{
	oa_verify_cache *cache = calloc(1, sizeof(*cache));

	if (cache == NULL) {
		return NULL;
	}
	cache->max = max > 0 ? max : 1;
	cache->policy = *policy;
	return cache;
}

void oa_verify_cache_destroy(oa_verify_cache *cache)
{
	if (cache == NULL) {
		return;
	}
	while (cache->head != NULL) {
		struct entry *e = cache->head;

		cache->head = e->next;
		oa_result_destroy(e->result);
		free(e);
	}
	free(cache);
}

size_t oa_verify_cache_count(const oa_verify_cache *cache)
{
	return cache->n;
}

/* The key of (certs, names) into key; false when hashing fails. */
static bool make_key(const gnutls_datum_t *certs, unsigned n, const char *const *names,
		     size_t n_names, char *key, size_t size)
{
	unsigned char digest[32];
	gnutls_hash_hd_t hash;
	size_t len = 0;

	if (gnutls_hash_init(&hash, GNUTLS_DIG_SHA256) < 0) {
		return false;
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t cert_size = certs[i].size;

		gnutls_hash(hash, &cert_size, sizeof(cert_size));
		gnutls_hash(hash, certs[i].data, certs[i].size);
	}
	gnutls_hash_deinit(hash, digest);
	oa__hex(digest, sizeof(digest), key);
	len = 2 * sizeof(digest);
	for (size_t i = 0; i < n_names && len < size; i++) {
		int w = snprintf(key + len, size - len, "|%s", names[i]);

		len += w > 0 ? (size_t)w : 0;
	}
	return true;
}

/* Drops the oldest verdict. */
static void drop_oldest(oa_verify_cache *cache)
{
	struct entry **pp = &cache->head;

	while ((*pp)->next != NULL) {
		pp = &(*pp)->next;
	}
	oa_result_destroy((*pp)->result);
	free(*pp);
	*pp = NULL;
	cache->n--;
}

const oa_result *oa_verify_cache_get(oa_verify_cache *cache, const oa_trust_store *store,
				     const gnutls_datum_t *certs, unsigned n,
				     const char *const *names, size_t n_names, time_t now,
				     bool *cached)
{
	char key[600];
	oa_chain *chain = NULL;
	oa_result *result = NULL;
	oa_verify_params params;
	oa_error err;

	if (!make_key(certs, n, names, n_names, key, sizeof(key))) {
		return NULL;
	}
	for (struct entry *e = cache->head; e != NULL; e = e->next) {
		if (e->store == store && strcmp(e->key, key) == 0) {
			/* Cached, but expiry is judged again at the current time. */
			*cached = true;
			oa_result_regrade(e->result, now, &cache->policy);
			return e->result;
		}
	}
	*cached = false;
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = n_names;
	params.at = now;
	params.policy = cache->policy;
	int rc = oa_chain_from_der(certs, n, &chain, &err);

	if (rc == -EPROTO) {
		/* A certificate that does not parse fails closed as malformed_certificate. */
		rc = oa_result_malformed(&params, err.msg, &result, &err);
	} else if (rc == 0) {
		rc = oa_verify(chain, store, &params, &result, &err);
	}
	oa_chain_destroy(chain);
	if (rc < 0) {
		return NULL;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		oa_result_destroy(result);
		return NULL;
	}
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->result = result;
	e->store = store;
	e->next = cache->head;
	cache->head = e;
	cache->n++;
	if (cache->n > cache->max) {
		drop_oldest(cache);
	}
	return result;
}
