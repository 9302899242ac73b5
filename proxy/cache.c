/* The proxy's in-memory response cache: storability, keys, and an LRU store; no I/O. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cache.h"

/* RFC 9111 1.2.2: a delta-seconds too large to represent counts as 2^31. */
#define DELTA_MAX 2147483648LL

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

/* RFC 9110 15.1: the statuses heuristically cacheable, which the spec also stores. */
static const int storable_status[] = {200, 203, 204, 300, 301, 404, 405, 410, 414, 501};

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive comparison of a slice with a string, independent of the locale. */
static bool slice_ieq(const char *s, size_t len, const char *str)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (str[i] == '\0' || ascii_lower(s[i]) != ascii_lower(str[i])) {
			return false;
		}
	}
	return str[i] == '\0';
}

static bool slices_ieq(const char *a, size_t a_len, const char *b, size_t b_len)
{
	if (a_len != b_len) {
		return false;
	}
	for (size_t i = 0; i < a_len; i++) {
		if (ascii_lower(a[i]) != ascii_lower(b[i])) {
			return false;
		}
	}
	return true;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_tchar(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void skip_ows(const char **p, const char *end)
{
	while (*p < end && is_ows(**p)) {
		(*p)++;
	}
}

/* Narrows [*s, *s + *len) to leave out surrounding spaces and tabs. */
static void trim_ows(const char **s, size_t *len)
{
	while (*len > 0 && is_ows((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*s)[*len - 1])) {
		(*len)--;
	}
}

/* a - b, saturated instead of overflowing. */
static long long sat_sub(long long a, long long b)
{
	if (b < 0 && a > LLONG_MAX + b) {
		return LLONG_MAX;
	}
	if (b > 0 && a < LLONG_MIN + b) {
		return LLONG_MIN;
	}
	return a - b;
}

/*
 * delta-seconds (RFC 9111 1.2.2): one or more digits and nothing else,
 * saturating at DELTA_MAX. quoted: s is the inside of a quoted-string, whose
 * quoted-pairs stand for the character they escape.
 */
static bool parse_delta(const char *s, size_t len, bool quoted, long long *out)
{
	long long v = 0;
	size_t digits = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (quoted && c == '\\' && i + 1 < len) {
			i++;
			c = s[i];
		}
		if (!is_digit(c)) {
			return false;
		}
		if (v < DELTA_MAX) {
			v = v * 10 + (c - '0');
		}
		digits++;
	}
	if (digits == 0) {
		return false;
	}
	*out = v > DELTA_MAX ? DELTA_MAX : v;
	return true;
}

/* A cursor over an HTTP-date being parsed. */
typedef struct date_cursor {
	const char *p;
	const char *end;
} date_cursor;

static bool date_lit(date_cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0) {
		return false;
	}
	c->p += n;
	return true;
}

/* Exactly n digits. */
static bool date_num(date_cursor *c, size_t n, int *out)
{
	int v = 0;

	if ((size_t)(c->end - c->p) < n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(c->p[i])) {
			return false;
		}
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	*out = v;
	return true;
}

/* One of the n names in names (case-sensitive, as RFC 9110 5.6.7 says); its index in *out. */
static bool date_name(date_cursor *c, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (date_lit(c, names[i])) {
			*out = i;
			return true;
		}
	}
	return false;
}

static const char *const day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const long_day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					     "Friday", "Saturday", "Sunday"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* time-of-day = hour ":" minute ":" second (RFC 9110 5.6.7), a leap second allowed. */
static bool date_time_of_day(date_cursor *c, struct tm *tm)
{
	return date_num(c, 2, &tm->tm_hour) && date_lit(c, ":") && date_num(c, 2, &tm->tm_min) &&
	       date_lit(c, ":") && date_num(c, 2, &tm->tm_sec) && tm->tm_hour <= 23 &&
	       tm->tm_min <= 59 && tm->tm_sec <= 60;
}

static bool day_valid(int year, int month, int day)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return day >= 1 && day <= days[month] && !(month == 1 && day == 29 && !leap);
}

/*
 * An HTTP-date (RFC 9110 5.6.7): IMF-fixdate, RFC 850 (two-digit years read
 * as at most 50 years after now) or asctime. The day name is checked for
 * form, not against the date.
 */
static bool parse_http_date(const char *s, size_t len, time_t now, time_t *out)
{
	date_cursor c = {s, s + len};
	struct tm tm;
	int wday;
	int year = 0;
	bool ok;

	memset(&tm, 0, sizeof(tm));
	if (len > 3 && s[3] == ',') {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
		ok = date_name(&c, day_names, 7, &wday) && date_lit(&c, ", ") &&
		     date_num(&c, 2, &tm.tm_mday) && date_lit(&c, " ") &&
		     date_name(&c, month_names, 12, &tm.tm_mon) && date_lit(&c, " ") &&
		     date_num(&c, 4, &year) && date_lit(&c, " ") && date_time_of_day(&c, &tm) &&
		     date_lit(&c, " GMT");
	} else if (len > 3 && s[3] == ' ') {
		/* asctime: "Sun Nov  6 08:49:37 1994". */
		ok = date_name(&c, day_names, 7, &wday) && date_lit(&c, " ") &&
		     date_name(&c, month_names, 12, &tm.tm_mon) && date_lit(&c, " ") &&
		     (date_lit(&c, " ") ? date_num(&c, 1, &tm.tm_mday)
					: date_num(&c, 2, &tm.tm_mday)) &&
		     date_lit(&c, " ") && date_time_of_day(&c, &tm) && date_lit(&c, " ") &&
		     date_num(&c, 4, &year);
	} else {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". */
		ok = date_name(&c, long_day_names, 7, &wday) && date_lit(&c, ", ") &&
		     date_num(&c, 2, &tm.tm_mday) && date_lit(&c, "-") &&
		     date_name(&c, month_names, 12, &tm.tm_mon) && date_lit(&c, "-") &&
		     date_num(&c, 2, &year) && date_lit(&c, " ") && date_time_of_day(&c, &tm) &&
		     date_lit(&c, " GMT");
		if (ok) {
			struct tm now_tm;
			int now_year =
			    gmtime_r(&now, &now_tm) != NULL ? now_tm.tm_year + 1900 : 1970;

			year += now_year - now_year % 100;
			if (year > now_year + 50) {
				year -= 100;
			} else if (year + 100 <= now_year + 50) {
				year += 100;
			}
		}
	}
	if (!ok || c.p != c.end || !day_valid(year, tm.tm_mon, tm.tm_mday)) {
		return false;
	}
	tm.tm_year = year - 1900;
	*out = timegm(&tm);
	/* The fields are in range, so -1 means overflow, except for one second in 1969. */
	return *out != (time_t)-1;
}

/* The value of the only field called name, trimmed; false when there is none or more than one. */
static bool single_field(const px_head *resp, const char *name, const char **v, size_t *len)
{
	const px_header *h = px_head_find(resp, name);

	if (h == NULL || px_head_count(resp, name) != 1) {
		return false;
	}
	*v = h->value;
	*len = h->value_len;
	trim_ows(v, len);
	return true;
}

/* One element of a Cache-Control list. value is the inside of the quotes when quoted. */
typedef struct cc_directive {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	bool has_value;
	bool quoted;
	/* Not token [ "=" ( token / quoted-string ) ]: the name (if any) is still reported. */
	bool malformed;
} cc_directive;

/*
 * The next non-empty element of the Cache-Control list [*p, end) (RFC 9111
 * 5.2); false at the end. A malformed element ends at the next comma outside
 * a quoted string.
 */
static bool cc_next(const char **p, const char *end, cc_directive *d)
{
	const char *s = *p;
	bool in_quote = false;

	while (s < end && (is_ows(*s) || *s == ',')) {
		s++;
	}
	if (s == end) {
		*p = s;
		return false;
	}
	memset(d, 0, sizeof(*d));
	d->name = s;
	while (s < end && is_tchar(*s)) {
		s++;
	}
	d->name_len = (size_t)(s - d->name);
	skip_ows(&s, end);
	if (s < end && *s == '=') {
		s++;
		skip_ows(&s, end);
		d->has_value = true;
		if (s < end && *s == '"') {
			d->quoted = true;
			d->value = ++s;
			while (s < end && *s != '"') {
				s += (*s == '\\' && s + 1 < end) ? 2 : 1;
			}
			d->value_len = (size_t)(s - d->value);
			d->malformed = s == end;
			s = s < end ? s + 1 : s;
		} else {
			d->value = s;
			while (s < end && is_tchar(*s)) {
				s++;
			}
			d->value_len = (size_t)(s - d->value);
		}
		skip_ows(&s, end);
	}
	if (d->name_len == 0 || (s < end && *s != ',')) {
		d->malformed = true;
	}
	while (s < end && (in_quote || *s != ',')) {
		if (in_quote && *s == '\\' && s + 1 < end) {
			s++;
		} else if (*s == '"') {
			in_quote = !in_quote;
		}
		s++;
	}
	*p = s;
	return true;
}

/* What the Cache-Control fields say about storing. */
typedef enum delta_state { DELTA_ABSENT, DELTA_VALID, DELTA_INVALID } delta_state;

typedef struct cc_info {
	bool forbidden;
	delta_state s_maxage_state;
	long long s_maxage;
	delta_state max_age_state;
	long long max_age;
} cc_info;

/* Folds one occurrence of s-maxage or max-age in; a repeat with another value is invalid. */
static void cc_delta(const cc_directive *d, delta_state *state, long long *value)
{
	long long v;

	if (d->malformed || !d->has_value || !parse_delta(d->value, d->value_len, d->quoted, &v)) {
		*state = DELTA_INVALID;
	} else if (*state == DELTA_ABSENT) {
		*state = DELTA_VALID;
		*value = v;
	} else if (*state == DELTA_VALID && *value != v) {
		*state = DELTA_INVALID;
	}
}

static void cc_scan(const px_head *resp, cc_info *cc)
{
	memset(cc, 0, sizeof(*cc));
	for (size_t i = 0; i < resp->n_headers && i < PX_MAX_HEADERS; i++) {
		const px_header *h = &resp->headers[i];
		const char *p = h->value;
		cc_directive d;

		if (!slice_ieq(h->name, h->name_len, "Cache-Control") || p == NULL) {
			continue;
		}
		while (cc_next(&p, h->value + h->value_len, &d)) {
			if (slice_ieq(d.name, d.name_len, "no-store") ||
			    slice_ieq(d.name, d.name_len, "private") ||
			    slice_ieq(d.name, d.name_len, "no-cache")) {
				cc->forbidden = true;
			} else if (slice_ieq(d.name, d.name_len, "s-maxage")) {
				cc_delta(&d, &cc->s_maxage_state, &cc->s_maxage);
			} else if (slice_ieq(d.name, d.name_len, "max-age")) {
				cc_delta(&d, &cc->max_age_state, &cc->max_age);
			}
		}
	}
}

/* Whether a Vary field lists "*" (the response varies on something outside the request). */
static bool vary_star(const px_head *resp)
{
	for (size_t i = 0; i < resp->n_headers && i < PX_MAX_HEADERS; i++) {
		const px_header *h = &resp->headers[i];
		size_t start = 0;

		if (!slice_ieq(h->name, h->name_len, "Vary") || h->value == NULL) {
			continue;
		}
		for (size_t j = 0; j <= h->value_len; j++) {
			if (j == h->value_len || h->value[j] == ',') {
				const char *e = h->value + start;
				size_t e_len = j - start;

				trim_ows(&e, &e_len);
				if (e_len == 1 && e[0] == '*') {
					return true;
				}
				start = j + 1;
			}
		}
	}
	return false;
}

/* The lifetime from Expires (relative to Date, else to now), or -1. */
static long long expires_lifetime(const px_head *resp, time_t now)
{
	const char *v;
	size_t len;
	time_t expires;
	time_t base = now;
	long long lifetime;

	if (!single_field(resp, "Expires", &v, &len) || !parse_http_date(v, len, now, &expires)) {
		return -1;
	}
	if (single_field(resp, "Date", &v, &len) && !parse_http_date(v, len, now, &base)) {
		base = now;
	}
	lifetime = sat_sub((long long)expires, (long long)base);
	if (lifetime <= 0) {
		return -1;
	}
	return lifetime > DELTA_MAX ? DELTA_MAX : lifetime;
}

long long px_cache_lifetime(const px_head *resp, time_t now, long long *initial_age)
{
	const px_header *age_field;
	long long age = 0;
	long long lifetime = -1;
	bool storable_status_seen = false;
	cc_info cc;

	if (initial_age != NULL) {
		*initial_age = 0;
	}
	if (resp == NULL) {
		return -1;
	}
	age_field = px_head_find(resp, "Age");
	if (age_field != NULL && age_field->value != NULL) {
		const char *v = age_field->value;
		size_t len = age_field->value_len;

		trim_ows(&v, &len);
		if (!parse_delta(v, len, false, &age)) {
			age = 0;
		}
	}
	if (initial_age != NULL) {
		*initial_age = age;
	}
	for (size_t i = 0; i < sizeof(storable_status) / sizeof(storable_status[0]); i++) {
		storable_status_seen = storable_status_seen || resp->status == storable_status[i];
	}
	if (!storable_status_seen || px_head_find(resp, "Set-Cookie") != NULL || vary_star(resp)) {
		return -1;
	}
	cc_scan(resp, &cc);
	if (cc.forbidden) {
		return -1;
	}
	/* A shared cache obeys s-maxage and then ignores max-age and Expires (RFC 9111 5.2.2.10).
	 */
	if (cc.s_maxage_state == DELTA_VALID) {
		lifetime = cc.s_maxage;
	} else if (cc.s_maxage_state == DELTA_ABSENT && cc.max_age_state == DELTA_VALID) {
		lifetime = cc.max_age;
	} else if (cc.s_maxage_state == DELTA_ABSENT && cc.max_age_state == DELTA_ABSENT) {
		lifetime = expires_lifetime(resp, now);
	}
	/* Both are at most DELTA_MAX, so the difference cannot overflow. */
	if (lifetime - age <= 0) {
		return -1;
	}
	return lifetime;
}

int px_cache_key(const char *host, size_t host_len, const char *target, size_t target_len,
		 px_buf *out)
{
	size_t old_len = out->len;
	int rc;

	if ((host == NULL && host_len > 0) || (target == NULL && target_len > 0) ||
	    (host_len > 0 && memchr(host, '\n', host_len) != NULL)) {
		return -EINVAL;
	}
	rc = px_buf_append(out, host, host_len);
	if (rc == 0) {
		rc = px_buf_append(out, "\n", 1);
	}
	if (rc == 0) {
		rc = px_buf_append(out, target, target_len);
	}
	if (rc < 0) {
		out->len = old_len;
		if (out->data != NULL) {
			out->data[old_len] = '\0';
		}
		return rc;
	}
	for (size_t i = old_len; i < old_len + host_len; i++) {
		out->data[i] = ascii_lower(out->data[i]);
	}
	return 0;
}

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

/* Whether one of resp's Connection fields names the field h. */
static bool named_by_connection(const px_head *resp, const px_header *h)
{
	for (size_t i = 0; i < resp->n_headers; i++) {
		const px_header *c = &resp->headers[i];
		size_t start = 0;

		if (!slice_ieq(c->name, c->name_len, "Connection") || c->value == NULL) {
			continue;
		}
		for (size_t j = 0; j <= c->value_len; j++) {
			if (j == c->value_len || c->value[j] == ',') {
				const char *e = c->value + start;
				size_t e_len = j - start;

				trim_ows(&e, &e_len);
				if (e_len > 0 && slices_ieq(e, e_len, h->name, h->name_len)) {
					return true;
				}
				start = j + 1;
			}
		}
	}
	return false;
}

static bool field_stored(const px_head *resp, const px_header *h)
{
	for (size_t i = 0; i < sizeof(not_stored) / sizeof(not_stored[0]); i++) {
		if (slice_ieq(h->name, h->name_len, not_stored[i])) {
			return false;
		}
	}
	return !named_by_connection(resp, h);
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
	long long since = sat_sub((long long)now, (long long)obj->stored);

	if (since < 0) {
		since = 0;
	}
	return since > LLONG_MAX - obj->initial_age ? LLONG_MAX : obj->initial_age + since;
}

void px_cache_stats_get(const px_cache *cache, px_cache_stats *out)
{
	if (cache == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = cache->stats;
}
