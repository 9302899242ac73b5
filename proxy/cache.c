/*
 * The proxy's response cache store: a SipHash-keyed hash table and an LRU
 * list of objects, each one allocation; put, get and counters. What may be
 * stored, for how long, and under which key is proxy/cache_policy.c's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cache.h"
#include "cache_internal.h"

/* Buckets of a new hash table; the table doubles whenever objects outnumber buckets. */
#define INITIAL_BUCKETS 64

struct px_cache_obj {
	/* Next object in the same hash bucket. */
	px_cache_obj *hnext;
	/* The LRU list: prev is more recently used, next less. */
	px_cache_obj *prev;
	px_cache_obj *next;
	uint64_t hash;
	/* Bytes of this allocation, as counted against max_bytes. */
	size_t size;
	time_t stored;
	long long initial_age;
	long long lifetime;
	/* Everything below points into this allocation, after fields[]. */
	const char *key;
	size_t key_len;
	int status;
	int http_minor;
	const char *reason;
	size_t reason_len;
	const char *body;
	size_t body_len;
	size_t n_fields;
	px_header fields[];
};

struct px_cache {
	size_t max_bytes;
	size_t max_object_bytes;
	/* n_buckets chains; n_buckets is a power of two. */
	px_cache_obj **buckets;
	size_t n_buckets;
	/* Most and least recently used objects. */
	px_cache_obj *mru;
	px_cache_obj *lru;
	px_cache_stats stats;
	/* The SipHash key, random per cache. */
	uint64_t k0;
	uint64_t k1;
};

/* Fields that describe the origin's connection or framing, or that the proxy sets on a hit. */
static const char *const not_stored[] = {
    "Age", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length",
    "TE",  "Trailer",	 "Upgrade",    "Proxy-Connection",
};

static uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

/* SipHash-1-3 of [s, s + len) under the cache's key. */
static uint64_t key_hash(const px_cache *cache, const char *s, size_t len)
{
	const unsigned char *in = (const unsigned char *)s;
	uint64_t v[4] = {cache->k0 ^ 0x736f6d6570736575ULL, cache->k1 ^ 0x646f72616e646f6dULL,
			 cache->k0 ^ 0x6c7967656e657261ULL, cache->k1 ^ 0x7465646279746573ULL};
	uint64_t m;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--) {
			m = (m << 8) | in[i + (size_t)j];
		}
		v[3] ^= m;
		sip_round(v);
		v[0] ^= m;
	}
	m = (uint64_t)len << 56;
	for (size_t j = 0; i + j < len; j++) {
		m |= (uint64_t)in[i + j] << (8 * j);
	}
	v[3] ^= m;
	sip_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

px_cache *px_cache_create(size_t max_bytes, size_t max_object_bytes)
{
	px_cache *cache = calloc(1, sizeof(*cache));
	uint64_t k[2];

	if (cache == NULL) {
		return NULL;
	}
	cache->buckets = calloc(INITIAL_BUCKETS, sizeof(*cache->buckets));
	if (cache->buckets == NULL) {
		free(cache);
		return NULL;
	}
	cache->n_buckets = INITIAL_BUCKETS;
	cache->max_bytes = max_bytes;
	cache->max_object_bytes = max_object_bytes;
	/* Without the kernel's randomness the key is weaker, but lookups stay correct. */
	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != (ssize_t)sizeof(k)) {
		k[0] = (uint64_t)(uintptr_t)cache ^ ((uint64_t)time(NULL) << 20);
		k[1] = (uint64_t)clock() ^ 0x9e3779b97f4a7c15ULL;
	}
	cache->k0 = k[0];
	cache->k1 = k[1];
	return cache;
}

void px_cache_destroy(px_cache *cache)
{
	px_cache_obj *o;

	if (cache == NULL) {
		return;
	}
	o = cache->mru;
	while (o != NULL) {
		px_cache_obj *next = o->next;

		free(o);
		o = next;
	}
	free(cache->buckets);
	free(cache);
}

/* The object under key, whose hash is hash, or NULL. */
static px_cache_obj *find(const px_cache *cache, const char *key, size_t key_len, uint64_t hash)
{
	px_cache_obj *o = cache->buckets[hash & (cache->n_buckets - 1)];

	while (o != NULL) {
		if (o->hash == hash && o->key_len == key_len &&
		    (key_len == 0 || memcmp(o->key, key, key_len) == 0)) {
			return o;
		}
		o = o->hnext;
	}
	return NULL;
}

static void lru_unlink(px_cache *cache, px_cache_obj *o)
{
	if (o->prev != NULL) {
		o->prev->next = o->next;
	} else {
		cache->mru = o->next;
	}
	if (o->next != NULL) {
		o->next->prev = o->prev;
	} else {
		cache->lru = o->prev;
	}
	o->prev = NULL;
	o->next = NULL;
}

static void lru_push_front(px_cache *cache, px_cache_obj *o)
{
	o->prev = NULL;
	o->next = cache->mru;
	if (cache->mru != NULL) {
		cache->mru->prev = o;
	} else {
		cache->lru = o;
	}
	cache->mru = o;
}

/* Unlinks o from its chain and the LRU list and frees it. */
static void remove_obj(px_cache *cache, px_cache_obj *o)
{
	px_cache_obj **l = &cache->buckets[o->hash & (cache->n_buckets - 1)];

	while (*l != o) {
		l = &(*l)->hnext;
	}
	*l = o->hnext;
	lru_unlink(cache, o);
	cache->stats.bytes -= o->size;
	cache->stats.objects--;
	free(o);
}

/* Doubles the hash table; on ENOMEM the old one stays (longer chains, still correct). */
static void grow(px_cache *cache)
{
	size_t n = cache->n_buckets * 2;
	px_cache_obj **b;

	if (n > SIZE_MAX / sizeof(*b)) {
		return;
	}
	b = calloc(n, sizeof(*b));
	if (b == NULL) {
		return;
	}
	for (px_cache_obj *o = cache->mru; o != NULL; o = o->next) {
		px_cache_obj **l = &b[o->hash & (n - 1)];

		o->hnext = *l;
		*l = o;
	}
	free(cache->buckets);
	cache->buckets = b;
	cache->n_buckets = n;
}

static bool obj_fresh(const px_cache_obj *o, time_t now)
{
	return px_cache_obj_age(o, now) < o->lifetime;
}

const px_cache_obj *px_cache_get(px_cache *cache, const char *key, size_t key_len, time_t now)
{
	px_cache_obj *o = NULL;

	if (cache == NULL) {
		return NULL;
	}
	if (cache->stats.objects > 0 && (key != NULL || key_len == 0)) {
		o = find(cache, key, key_len, key_hash(cache, key, key_len));
	}
	if (o != NULL && !obj_fresh(o, now)) {
		remove_obj(cache, o);
		o = NULL;
	}
	if (o == NULL) {
		cache->stats.misses++;
		return NULL;
	}
	lru_unlink(cache, o);
	lru_push_front(cache, o);
	cache->stats.hits++;
	return o;
}

static bool field_stored(const px_head *resp, const px_header *h)
{
	for (size_t i = 0; i < sizeof(not_stored) / sizeof(not_stored[0]); i++) {
		if (px_slice_ieq(h->name, h->name_len, not_stored[i])) {
			return false;
		}
	}
	return !px_head_list_contains(resp, "Connection", h->name, h->name_len);
}

/* *size += n, false on overflow. */
static bool size_add(size_t *size, size_t n)
{
	if (n > SIZE_MAX - *size) {
		return false;
	}
	*size += n;
	return true;
}

/* Copies len bytes and a NUL to *dst; returns the copy and moves *dst past it. */
static const char *copy_out(char **dst, const char *src, size_t len)
{
	char *d = *dst;

	if (len > 0) {
		memcpy(d, src, len);
	}
	d[len] = '\0';
	*dst = d + len + 1;
	return d;
}

/* Whether every slice of the arguments is a pointer or empty, and the head fits px_head. */
static bool put_args_ok(const char *key, size_t key_len, const px_head *resp, const char *body,
			size_t body_len, long long initial_age, long long lifetime)
{
	if ((key == NULL && key_len > 0) || resp == NULL || (body == NULL && body_len > 0) ||
	    initial_age < 0 || lifetime <= initial_age || resp->n_headers > PX_MAX_HEADERS ||
	    (resp->reason == NULL && resp->reason_len > 0)) {
		return false;
	}
	for (size_t i = 0; i < resp->n_headers; i++) {
		const px_header *h = &resp->headers[i];

		if ((h->name == NULL && h->name_len > 0) ||
		    (h->value == NULL && h->value_len > 0)) {
			return false;
		}
	}
	return true;
}

/* The allocation size of the object for these arguments; false when it overflows. */
static bool obj_size(size_t key_len, const px_head *resp, size_t body_len, size_t *out)
{
	size_t n = 0;
	size_t size = sizeof(px_cache_obj);
	bool ok;

	for (size_t i = 0; i < resp->n_headers; i++) {
		n += field_stored(resp, &resp->headers[i]) ? 1 : 0;
	}
	ok = size_add(&size, n * sizeof(px_header)) && size_add(&size, key_len) &&
	     size_add(&size, 1) && size_add(&size, resp->reason_len) && size_add(&size, 1) &&
	     size_add(&size, body_len) && size_add(&size, 1);
	for (size_t i = 0; ok && i < resp->n_headers; i++) {
		const px_header *h = &resp->headers[i];

		if (field_stored(resp, h)) {
			ok = size_add(&size, h->name_len) && size_add(&size, 1) &&
			     size_add(&size, h->value_len) && size_add(&size, 1);
		}
	}
	*out = size;
	return ok;
}

/* A new object holding deep copies of the arguments, size bytes in all; NULL on ENOMEM. */
static px_cache_obj *obj_new(size_t size, const char *key, size_t key_len, const px_head *resp,
			     const char *body, size_t body_len)
{
	px_cache_obj *o = malloc(size);
	char *d;

	if (o == NULL) {
		return NULL;
	}
	memset(o, 0, sizeof(*o));
	o->size = size;
	o->status = resp->status;
	o->http_minor = resp->http_minor;
	for (size_t i = 0; i < resp->n_headers; i++) {
		o->n_fields += field_stored(resp, &resp->headers[i]) ? 1 : 0;
	}
	d = (char *)&o->fields[o->n_fields];
	o->key = copy_out(&d, key, key_len);
	o->key_len = key_len;
	o->reason = copy_out(&d, resp->reason, resp->reason_len);
	o->reason_len = resp->reason_len;
	if (resp->reason == NULL) {
		o->reason = NULL;
	}
	for (size_t i = 0, n = 0; i < resp->n_headers; i++) {
		const px_header *h = &resp->headers[i];

		if (field_stored(resp, h)) {
			o->fields[n].name = copy_out(&d, h->name, h->name_len);
			o->fields[n].name_len = h->name_len;
			o->fields[n].value = copy_out(&d, h->value, h->value_len);
			o->fields[n].value_len = h->value_len;
			n++;
		}
	}
	o->body = copy_out(&d, body, body_len);
	o->body_len = body_len;
	return o;
}

int px_cache_put(px_cache *cache, const char *key, size_t key_len, const px_head *resp,
		 const char *body, size_t body_len, time_t now, long long initial_age,
		 long long lifetime)
{
	px_cache_obj *old = NULL;
	px_cache_obj **link;
	px_cache_obj *o;
	uint64_t hash;
	size_t size = 0;
	int rc = 0;

	if (cache == NULL || (key == NULL && key_len > 0)) {
		return -EINVAL;
	}
	hash = key_hash(cache, key, key_len);
	old = find(cache, key, key_len, hash);
	if (!put_args_ok(key, key_len, resp, body, body_len, initial_age, lifetime)) {
		rc = -EINVAL;
	} else if (!obj_size(key_len, resp, body_len, &size) || size > cache->max_object_bytes ||
		   size > cache->max_bytes) {
		rc = -E2BIG;
	}
	/* The new object is allocated before anything is evicted, so ENOMEM evicts nothing. */
	o = rc == 0 ? obj_new(size, key, key_len, resp, body, body_len) : NULL;
	if (rc == 0 && o == NULL) {
		rc = -ENOMEM;
	}
	if (old != NULL) {
		remove_obj(cache, old);
	}
	if (rc < 0) {
		return rc;
	}
	while (cache->stats.bytes > cache->max_bytes - size) {
		remove_obj(cache, cache->lru);
		cache->stats.evictions++;
	}
	o->hash = hash;
	o->stored = now;
	o->initial_age = initial_age;
	o->lifetime = lifetime;
	link = &cache->buckets[hash & (cache->n_buckets - 1)];
	o->hnext = *link;
	*link = o;
	lru_push_front(cache, o);
	cache->stats.bytes += size;
	cache->stats.objects++;
	cache->stats.stores++;
	if (cache->stats.objects > cache->n_buckets) {
		grow(cache);
	}
	return 0;
}

void px_cache_obj_head(const px_cache_obj *obj, px_head *head)
{
	px_head_init(head);
	head->status = obj->status;
	head->reason = obj->reason;
	head->reason_len = obj->reason_len;
	head->http_minor = obj->http_minor;
	if (obj->n_fields > 0) {
		memcpy(head->headers, obj->fields, obj->n_fields * sizeof(px_header));
	}
	head->n_headers = obj->n_fields;
}

void px_cache_obj_body(const px_cache_obj *obj, const char **body, size_t *len)
{
	*body = obj->body;
	*len = obj->body_len;
}

long long px_cache_obj_age(const px_cache_obj *obj, time_t now)
{
	return px__cache_age(obj->initial_age, obj->stored, now);
}

void px_cache_stats_get(const px_cache *cache, px_cache_stats *out)
{
	if (cache == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = cache->stats;
}
