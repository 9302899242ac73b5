/*
 * The in-memory response cache of one originaudit-proxy worker, without any
 * I/O: whether and for how long an origin's response may be stored (RFC 9111
 * as narrowed by docs/proxy-operations.md, "Caching"), the cache key (both in
 * cache_policy.c), and a byte-bounded store with least-recently-used eviction
 * (cache.c).
 *
 * The store is a hash table (keyed SipHash-1-3, so viewers who choose the
 * targets cannot pile keys into one chain) plus a doubly linked LRU list:
 * get and put are O(1) on average. An object is one allocation holding its
 * key, a deep copy of the response head and the body; its size is that whole
 * allocation, so max_bytes bounds the memory the objects really use.
 *
 * Errors are negative errno values: -ENOMEM (allocation failure), -E2BIG (an
 * object that may not be stored), -EINVAL (an argument chosen by the caller).
 * Not thread-safe: each worker owns its cache.
 */
#ifndef ORIGINAUDIT_PROXY_CACHE_H
#define ORIGINAUDIT_PROXY_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http_head.h"

/* A cache; created and destroyed by its owner. */
typedef struct px_cache px_cache;

/* A stored response; owned by the cache, never freed by the caller. */
typedef struct px_cache_obj px_cache_obj;

/* Counters since creation (hits ... evictions) and the current contents (bytes, objects). */
typedef struct px_cache_stats {
	/* Lookups that returned a fresh object / did not (absent, stale, cache disabled). */
	uint64_t hits;
	uint64_t misses;
	/* Objects stored by px_cache_put. */
	uint64_t stores;
	/* Objects removed to make room for another (not replaced, stale or refused ones). */
	uint64_t evictions;
	/* Sum of the sizes of the objects held, and their number. */
	size_t bytes;
	size_t objects;
} px_cache_stats;

/*
 * A new, empty cache holding at most max_bytes of objects, each at most
 * max_object_bytes; the caller owns it and frees it with px_cache_destroy.
 * NULL on ENOMEM. max_bytes 0: everything misses and nothing is stored.
 */
px_cache *px_cache_create(size_t max_bytes, size_t max_object_bytes);

/* Frees cache and every object in it (pointers to objects become invalid); accepts NULL. */
void px_cache_destroy(px_cache *cache);

/*
 * Appends to out (owned by the caller) the cache key of a request: host
 * lower-cased (port kept), '\n', then target (path and query) exactly as
 * received. There is no scheme: one object serves HTTP and HTTPS viewers.
 * 0, -EINVAL (host contains '\n', which would make keys ambiguous) or -ENOMEM;
 * out is unchanged on error.
 */
int px_cache_key(const char *host, size_t host_len, const char *target, size_t target_len,
		 px_buf *out);

/*
 * Whether the origin's response resp (to a GET) may be stored and for how
 * long: its freshness lifetime in seconds (>= 1; the object may be served
 * while its age is below it), or -1 when it must not be stored. Only the
 * statuses 200 203 204 300 301 404 405 410 414 501 are stored. The lifetime
 * comes from Cache-Control s-maxage, else max-age, else Expires minus Date
 * (minus now when Date is absent or invalid); delta-seconds beyond 2^31 count
 * as 2^31. -1 as well for: no lifetime; max-age=0 or an Expires not in the
 * future; an invalid Expires (not an HTTP-date, or two of them); an invalid or
 * contradictory s-maxage or max-age (the one that would be used); the
 * Cache-Control directives no-store, private or no-cache (with or without a
 * value); Set-Cookie; Vary: *; a lifetime not above the initial age. Every
 * Cache-Control field counts; directive names are case-insensitive; values may
 * be tokens or quoted strings. *initial_age (may be NULL) receives the
 * origin's Age header (the first one; 0 when absent or invalid), also on -1.
 */
long long px_cache_lifetime(const px_head *resp, time_t now, long long *initial_age);

/*
 * The fresh object stored under key, promoted to most recently used, or NULL
 * when there is none or it is stale (a stale one is removed). Counts a hit or
 * a miss. The object belongs to the cache and stays valid until the next
 * px_cache_put, px_cache_get or px_cache_destroy on cache: copy what must
 * outlive that.
 */
const px_cache_obj *px_cache_get(px_cache *cache, const char *key, size_t key_len, time_t now);

/*
 * Stores a deep copy of key, resp and body (the caller keeps its own), stored
 * at now with the given initial age and freshness lifetime (both as returned
 * by px_cache_lifetime), replacing any object under key. The copy keeps the
 * status, reason, http_minor and every field except Age, Connection,
 * Keep-Alive, Transfer-Encoding, Content-Length, TE, Trailer, Upgrade,
 * Proxy-Connection and the fields the response's Connection names.
 * Least recently used objects are evicted until the new one fits in max_bytes.
 * 0; -E2BIG when the object is larger than max_object_bytes or max_bytes
 * (always when max_bytes is 0); -EINVAL (NULL cache or resp, NULL body with a
 * length, lifetime not above initial_age, negative initial_age); -ENOMEM.
 * After an error no object is left under key.
 */
int px_cache_put(px_cache *cache, const char *key, size_t key_len, const px_head *resp,
		 const char *body, size_t body_len, time_t now, long long initial_age,
		 long long lifetime);

/*
 * Fills head (the caller's) with the stored response head: status, reason,
 * http_minor and fields, pointing into obj; no method or target.
 */
void px_cache_obj_head(const px_cache_obj *obj, px_head *head);

/* Points *body into obj (NUL-terminated after *len bytes) and sets *len. */
void px_cache_obj_body(const px_cache_obj *obj, const char **body, size_t *len);

/* Current age in seconds: initial age + time since stored (0 if the clock went back). */
long long px_cache_obj_age(const px_cache_obj *obj, time_t now);

/* Copies the counters and current contents of cache into *out (the caller's). */
void px_cache_stats_get(const px_cache *cache, px_cache_stats *out);

#endif
