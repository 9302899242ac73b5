/*
 * Tests for the proxy's response cache (proxy/cache.h): which responses may
 * be stored and for how long, the cache key, and the store itself (deep
 * copies, staleness, LRU eviction under the byte bound, counters). Time is
 * always passed explicitly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cache.h"

/* Sun, 06 Nov 1994 08:49:37 GMT. */
#define T1994 ((time_t)784111777)
/* Thu, 01 Jan 2026 00:00:00 GMT. */
#define T2026 ((time_t)1767225600)
/* What an overlong delta-seconds counts as (RFC 9111 1.2.2). */
#define DELTA_MAX 2147483648LL

/*
 * Fills h with the fields in fields, "Name: value" lines separated by '\n'.
 * The slices point into fields, which must outlive h (string literals do).
 */
static void head_fill(px_head *h, const char *fields)
{
	const char *p = fields;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		const char *colon;

		if (eol == NULL) {
			eol = p + strlen(p);
		}
		colon = memchr(p, ':', (size_t)(eol - p));
		assert_non_null(colon);
		assert_int_equal(
		    px_head_add(h, p, (size_t)(colon - p), colon + 1, (size_t)(eol - colon - 1)),
		    0);
		p = *eol != '\0' ? eol + 1 : eol;
	}
}

static void response_init(px_head *h, int status, const char *reason, const char *fields)
{
	px_head_init(h);
	h->status = status;
	h->reason = reason;
	h->reason_len = reason != NULL ? strlen(reason) : 0;
	head_fill(h, fields);
}

/* Asserts the lifetime and initial age px_cache_lifetime finds for a response. */
static void check_lifetime_status(int status, const char *fields, time_t now, long long want,
				  long long want_age)
{
	px_head h;
	long long age = -7;
	long long got;

	response_init(&h, status, "X", fields);
	got = px_cache_lifetime(&h, now, &age);
	if (got != want || age != want_age) {
		print_message("status %d, fields:\n%s\n", status, fields);
	}
	assert_int_equal(got, want);
	assert_int_equal(age, want_age);
}

static void check_lifetime(const char *fields, time_t now, long long want)
{
	check_lifetime_status(200, fields, now, want, 0);
}

static void test_lifetime_max_age(void **state)
{
	check_lifetime("Cache-Control: max-age=60", T2026, 60);
	check_lifetime("Cache-Control: max-age=1", T2026, 1);
	check_lifetime("Cache-Control: public, max-age=3600", T2026, 3600);
	check_lifetime("Cache-Control: max-age=0", T2026, -1);
	check_lifetime("Cache-Control: max-age=00", T2026, -1);
	check_lifetime("Cache-Control: max-age=007", T2026, 7);
}

static void test_lifetime_s_maxage_wins(void **state)
{
	check_lifetime("Cache-Control: s-maxage=30", T2026, 30);
	check_lifetime("Cache-Control: max-age=60, s-maxage=30", T2026, 30);
	check_lifetime("Cache-Control: s-maxage=90, max-age=60", T2026, 90);
	/* s-maxage=0 forbids storing even with a max-age. */
	check_lifetime("Cache-Control: s-maxage=0, max-age=60", T2026, -1);
	/* With s-maxage, an invalid max-age does not matter. */
	check_lifetime("Cache-Control: s-maxage=30, max-age=abc", T2026, 30);
	/* An invalid s-maxage is not replaced by max-age. */
	check_lifetime("Cache-Control: s-maxage=abc, max-age=60", T2026, -1);
	/* max-age wins over Expires, s-maxage over both. */
	check_lifetime("Cache-Control: max-age=60\n"
		       "Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
		       "Expires: Sun, 06 Nov 1994 09:49:37 GMT",
		       T2026, 60);
	check_lifetime("Cache-Control: s-maxage=5, max-age=60\n"
		       "Expires: Sun, 06 Nov 1994 09:49:37 GMT",
		       T1994, 5);
	/* max-age wins even over an invalid Expires. */
	check_lifetime("Cache-Control: max-age=60\nExpires: 0", T2026, 60);
}

static void test_lifetime_expires_with_date(void **state)
{
	/* Relative to Date, whatever the proxy's clock says. */
	check_lifetime("Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
		       "Expires: Sun, 06 Nov 1994 08:59:37 GMT",
		       T2026, 600);
	check_lifetime("Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
		       "Expires: Sun, 06 Nov 1994 08:49:38 GMT",
		       T1994 - 1000, 1);
	/* Expires equal to or before Date: already expired. */
	check_lifetime("Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
		       "Expires: Sun, 06 Nov 1994 08:49:37 GMT",
		       T1994 - 1000, -1);
	check_lifetime("Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
		       "Expires: Sat, 05 Nov 1994 08:49:37 GMT",
		       T1994 - 1000, -1);
	/* Far in the future: clamped. */
	check_lifetime("Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
		       "Expires: Fri, 31 Dec 9999 23:59:59 GMT",
		       T1994, DELTA_MAX);
	/* An invalid Date is ignored: Expires counts from now. */
	check_lifetime("Date: yesterday\n"
		       "Expires: Sun, 06 Nov 1994 08:59:37 GMT",
		       T1994, 600);
	/* Two Date fields are as good as none. */
	check_lifetime("Date: Sun, 06 Nov 1994 08:00:00 GMT\n"
		       "Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
		       "Expires: Sun, 06 Nov 1994 08:59:37 GMT",
		       T1994, 600);
}

static void test_lifetime_expires_without_date(void **state)
{
	check_lifetime("Expires: Sun, 06 Nov 1994 08:59:37 GMT", T1994, 600);
	check_lifetime("Expires: Sun, 06 Nov 1994 08:59:37 GMT", T1994 + 599, 1);
	check_lifetime("Expires: Sun, 06 Nov 1994 08:59:37 GMT", T1994 + 600, -1);
	check_lifetime("Expires: Sun, 06 Nov 1994 08:59:37 GMT", T2026, -1);
	/* A leap day. */
	check_lifetime("Expires: Thu, 29 Feb 2024 00:00:10 GMT", (time_t)1709164800, 10);
}

static void test_lifetime_date_formats(void **state)
{
	/* RFC 850 and asctime, read the same way as IMF-fixdate. */
	check_lifetime("Expires: Sunday, 06-Nov-94 08:59:37 GMT", T1994, 600);
	check_lifetime("Expires: Sun Nov  6 08:59:37 1994", T1994, 600);
	check_lifetime("Expires: Sun Nov 06 08:59:37 1994", T1994, 600);
	check_lifetime("Date: Sunday, 06-Nov-94 08:49:37 GMT\n"
		       "Expires: Sun Nov  6 08:59:37 1994",
		       T2026, 600);
	/* A two-digit year up to 50 years ahead is ahead; beyond, it is a century back. */
	check_lifetime("Expires: Wednesday, 01-Jan-76 00:00:00 GMT", T2026,
		       3345062400LL - 1767225600LL);
	check_lifetime("Expires: Friday, 01-Jan-77 00:00:00 GMT", T2026, -1);
	check_lifetime("Expires: Saturday, 01-Jan-77 00:00:10 GMT", (time_t)220924800, 10);
}

static void test_lifetime_bad_dates(void **state)
{
	static const char *const bad[] = {
	    "Expires: 0",
	    "Expires: -1",
	    "Expires: garbage",
	    "Expires: ",
	    "Expires: Sun, 06 Nov 2094 08:49:37 gmt",
	    "Expires: Sun, 06 Nov 2094 08:49:37 UTC",
	    "Expires: Sun, 06 Nov 2094 08:49:37 GMT junk",
	    "Expires: Sun, 06 Nov 2094 08:49:37",
	    "Expires: Sun, 6 Nov 2094 08:49:37 GMT",
	    "Expires: sun, 06 Nov 2094 08:49:37 GMT",
	    "Expires: Sun, 06 nov 2094 08:49:37 GMT",
	    "Expires: Xyz, 06 Nov 2094 08:49:37 GMT",
	    "Expires: Sun, 06 Foo 2094 08:49:37 GMT",
	    "Expires: Sun, 31 Feb 2094 08:49:37 GMT",
	    "Expires: Sun, 29 Feb 2100 08:49:37 GMT",
	    "Expires: Sun, 00 Nov 2094 08:49:37 GMT",
	    "Expires: Sun, 06 Nov 2094 24:00:00 GMT",
	    "Expires: Sun, 06 Nov 2094 08:60:00 GMT",
	    "Expires: Sun, 06 Nov 2094 08:49:61 GMT",
	    "Expires: Sun, 06 Nov 94 08:49:37 GMT",
	    "Expires: Sun, 06 Nov 20944 08:49:37 GMT",
	    "Expires: Sun,  06 Nov 2094 08:49:37 GMT",
	    "Expires: Sun, 06 Nov 2094 8:49:37 GMT",
	    "Expires: Sunday, 06-Nov-2094 08:49:37 GMT",
	    "Expires: Sun, 06-Nov-94 08:49:37 GMT",
	    "Expires: Sunday, 06 Nov 2094 08:49:37 GMT",
	    "Expires: Sun Nov 6 08:49:37 2094",
	    "Expires: Sun Nov  6 08:49:37 94",
	    "Expires: Sun Nov  6 08:49:37 2094 GMT",
	    "Expires: 2094-11-06T08:49:37Z",
	    "Expires: Sun, 06 Nov 2094 08:49:37 GMT\nExpires: Sun, 06 Nov 2094 08:49:37 GMT",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_lifetime(bad[i], T2026, -1);
	}
	/* The same date, well formed, is stored. */
	check_lifetime("Expires: Thu, 06 Nov 2094 08:49:37 GMT", T2026, DELTA_MAX);
}

static void test_lifetime_statuses(void **state)
{
	static const int storable[] = {200, 203, 204, 300, 301, 404, 405, 410, 414, 501};
	static const int not_storable[] = {100, 201, 202, 205, 206, 302, 303, 304, 307, 308,
					   400, 401, 403, 408, 429, 500, 502, 503, 504, 0};

	for (size_t i = 0; i < sizeof(storable) / sizeof(storable[0]); i++) {
		check_lifetime_status(storable[i], "Cache-Control: max-age=60", T2026, 60, 0);
	}
	for (size_t i = 0; i < sizeof(not_storable) / sizeof(not_storable[0]); i++) {
		check_lifetime_status(not_storable[i], "Cache-Control: max-age=60", T2026, -1, 0);
		check_lifetime_status(not_storable[i], "Cache-Control: s-maxage=60", T2026, -1, 0);
	}
}

static void test_lifetime_forbidding_directives(void **state)
{
	check_lifetime("Cache-Control: no-store, max-age=60", T2026, -1);
	check_lifetime("Cache-Control: max-age=60, private", T2026, -1);
	check_lifetime("Cache-Control: private=\"Set-Cookie\", s-maxage=60", T2026, -1);
	check_lifetime("Cache-Control: no-cache, max-age=60", T2026, -1);
	check_lifetime("Cache-Control: no-cache=\"Set-Cookie, X-Foo\", s-maxage=60", T2026, -1);
	check_lifetime("Cache-Control: no-cache=Set-Cookie, s-maxage=60", T2026, -1);
	/* Even malformed, they forbid. */
	check_lifetime("Cache-Control: no-store\"x\", max-age=60", T2026, -1);
	/* Names that only look alike do not. */
	check_lifetime("Cache-Control: no-stored, privately, no-cache-x, max-age=60", T2026, 60);
	check_lifetime("Cache-Control: public, must-revalidate, proxy-revalidate, max-age=60",
		       T2026, 60);
}

static void test_lifetime_set_cookie(void **state)
{
	check_lifetime("Cache-Control: max-age=60\nSet-Cookie: a=b", T2026, -1);
	check_lifetime("set-cookie: a=b\nCache-Control: s-maxage=60", T2026, -1);
	check_lifetime("Set-Cookie:\nCache-Control: max-age=60", T2026, -1);
}

static void test_lifetime_vary(void **state)
{
	check_lifetime("Cache-Control: max-age=60\nVary: *", T2026, -1);
	check_lifetime("Cache-Control: max-age=60\nVary: Accept-Encoding, *", T2026, -1);
	check_lifetime("Cache-Control: max-age=60\nVary: Accept-Encoding\nvary:  * ", T2026, -1);
	check_lifetime("Cache-Control: max-age=60\nVary: Accept-Encoding", T2026, 60);
	check_lifetime("Cache-Control: max-age=60\nVary: X-*", T2026, 60);
}

static void test_lifetime_no_lifetime(void **state)
{
	check_lifetime("", T2026, -1);
	check_lifetime("Content-Type: text/plain", T2026, -1);
	check_lifetime("Cache-Control:", T2026, -1);
	check_lifetime("Cache-Control: ,, ,", T2026, -1);
	check_lifetime("Cache-Control: public", T2026, -1);
	check_lifetime("Cache-Control: public\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT", T2026,
		       -1);
	check_lifetime("Cache-Control: immutable, stale-while-revalidate=60", T2026, -1);
}

static void test_lifetime_case_and_whitespace(void **state)
{
	check_lifetime("Cache-Control: MAX-AGE=60", T2026, 60);
	check_lifetime("CACHE-CONTROL: S-MaxAge=30", T2026, 30);
	check_lifetime("Cache-Control: No-Store, max-age=60", T2026, -1);
	check_lifetime("Cache-Control: PRIVATE, max-age=60", T2026, -1);
	check_lifetime("Cache-Control: NO-CACHE, max-age=60", T2026, -1);
	check_lifetime("Cache-Control:public,max-age=60", T2026, 60);
	check_lifetime("Cache-Control:  public ,\tmax-age=60 ,, ", T2026, 60);
	check_lifetime("Cache-Control: max-age = 60", T2026, 60);
	check_lifetime("Cache-Control: ,max-age=60,", T2026, 60);
}

static void test_lifetime_quoting(void **state)
{
	check_lifetime("Cache-Control: max-age=\"60\"", T2026, 60);
	check_lifetime("Cache-Control: s-maxage=\"3\\0\"", T2026, 30);
	/* Directives inside a quoted value are not directives. */
	check_lifetime("Cache-Control: ext=\"a, no-store, private\", max-age=60", T2026, 60);
	check_lifetime("Cache-Control: ext=\"a\\\", no-store\", max-age=60", T2026, 60);
	check_lifetime("Cache-Control: ext=\"max-age=60\"", T2026, -1);
	/* A malformed element ends at the next comma outside its quotes. */
	check_lifetime("Cache-Control: x\"a\\\", no-store\", max-age=60", T2026, 60);
	check_lifetime("Cache-Control: x y, max-age=60", T2026, 60);
	/* A quote that never ends swallows the rest of the field. */
	check_lifetime("Cache-Control: ext=\"a, max-age=60", T2026, -1);
	check_lifetime("Cache-Control: ext=\"a, no-store\nCache-Control: max-age=60", T2026, 60);
	check_lifetime("Cache-Control: max-age=\"60", T2026, -1);
	check_lifetime("Cache-Control: max-age=\"\"", T2026, -1);
	check_lifetime("Cache-Control: max-age=\"6 0\"", T2026, -1);
}

static void test_lifetime_several_fields(void **state)
{
	check_lifetime("Cache-Control: public\nCache-Control: max-age=60", T2026, 60);
	check_lifetime("Cache-Control: max-age=60\nX-Other: 1\ncache-control: no-store", T2026, -1);
	check_lifetime("Cache-Control: max-age=60\nCache-Control: s-maxage=10", T2026, 10);
	/* The same directive twice: fine when equal, invalid when not. */
	check_lifetime("Cache-Control: max-age=60\nCache-Control: max-age=60", T2026, 60);
	check_lifetime("Cache-Control: max-age=60, max-age=120", T2026, -1);
	check_lifetime("Cache-Control: s-maxage=60\nCache-Control: s-maxage=1", T2026, -1);
}

static void test_lifetime_invalid_deltas(void **state)
{
	static const char *const bad[] = {
	    "Cache-Control: max-age",	  "Cache-Control: max-age=",
	    "Cache-Control: max-age=abc", "Cache-Control: max-age=-5",
	    "Cache-Control: max-age=+5",  "Cache-Control: max-age=1.5",
	    "Cache-Control: max-age=6 0", "Cache-Control: max-age=60s",
	    "Cache-Control: max-age==60", "Cache-Control: max-age=0x10",
	    "Cache-Control: s-maxage=-1", "Cache-Control: s-maxage",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_lifetime(bad[i], T2026, -1);
	}
	/* An invalid max-age is not replaced by Expires. */
	check_lifetime("Cache-Control: max-age=abc\nExpires: Sun, 06 Nov 1994 08:59:37 GMT", T1994,
		       -1);
	/* Overlong values clamp instead of overflowing. */
	check_lifetime("Cache-Control: max-age=99999999999999999999", T2026, DELTA_MAX);
	check_lifetime("Cache-Control: s-maxage=9223372036854775808", T2026, DELTA_MAX);
	check_lifetime("Cache-Control: max-age=2147483647", T2026, 2147483647LL);
	check_lifetime("Cache-Control: max-age=2147483648", T2026, DELTA_MAX);
	check_lifetime("Cache-Control: max-age=2147483649", T2026, DELTA_MAX);
	check_lifetime("Cache-Control: max-age=0000000000000000000000000000060", T2026, 60);
}

static void test_lifetime_initial_age(void **state)
{
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: 10", T2026, 60, 10);
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: 59", T2026, 60, 59);
	/* No time left: not stored, but the age is still reported. */
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: 60", T2026, -1, 60);
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: 61", T2026, -1, 61);
	/* Invalid ages count as 0. */
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: abc", T2026, 60, 0);
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: -5", T2026, 60, 0);
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge:", T2026, 60, 0);
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: 1.5", T2026, 60, 0);
	/* The first Age field counts. */
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: 7\nAge: 70", T2026, 60, 7);
	/* Overlong ages clamp, and an object that old is never fresh. */
	check_lifetime_status(200, "Cache-Control: max-age=60\nAge: 99999999999999999999", T2026,
			      -1, DELTA_MAX);
	check_lifetime_status(200,
			      "Cache-Control: max-age=99999999999999999999\n"
			      "Age: 99999999999999999999",
			      T2026, -1, DELTA_MAX);
	check_lifetime_status(200, "Expires: Sun, 06 Nov 1994 08:59:37 GMT\nAge: 100", T1994, 600,
			      100);
	/* The age is reported even when the status forbids storing. */
	check_lifetime_status(500, "Cache-Control: max-age=60\nAge: 3", T2026, -1, 3);
}

static void test_lifetime_defensive(void **state)
{
	px_head h;

	/* initial_age may be NULL. */
	response_init(&h, 200, "OK", "Cache-Control: max-age=60\nAge: 3");
	assert_int_equal(px_cache_lifetime(&h, T2026, NULL), 60);
	/* No head at all. */
	assert_int_equal(px_cache_lifetime(NULL, T2026, NULL), -1);
	/* Extreme clocks do not overflow. */
	response_init(&h, 200, "OK", "Expires: Sun, 06 Nov 1994 08:59:37 GMT");
	assert_int_equal(px_cache_lifetime(&h, (time_t)INT64_MAX, NULL), -1);
	assert_int_equal(px_cache_lifetime(&h, (time_t)INT64_MIN, NULL), DELTA_MAX);
	response_init(&h, 200, "OK", "Expires: Sunday, 06-Nov-94 08:59:37 GMT");
	assert_int_equal(px_cache_lifetime(&h, (time_t)INT64_MAX, NULL), -1);
}

static void check_key(const char *host, const char *target, const char *want)
{
	px_buf b;

	px_buf_init(&b);
	assert_int_equal(px_cache_key(host, strlen(host), target, strlen(target), &b), 0);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len + 1);
	px_buf_free(&b);
}

static void test_key(void **state)
{
	px_buf b;

	check_key("www.example.com", "/", "www.example.com\n/");
	/* The host is lower-cased, its port kept; the target is exact, query included. */
	check_key("WWW.Example.COM:8443", "/Img/A.PNG?v=2&X=%2F#f",
		  "www.example.com:8443\n/Img/A.PNG?v=2&X=%2F#f");
	check_key("[2001:DB8::1]:443", "/a", "[2001:db8::1]:443\n/a");
	/* HTTP/1.0 without Host. */
	check_key("", "/a?", "\n/a?");
	/* There is no scheme: the same key for HTTP and HTTPS viewers. */
	check_key("Example.com", "/x", "example.com\n/x");

	/* The key is appended; the target is not lower-cased. */
	px_buf_init(&b);
	assert_int_equal(px_buf_append_str(&b, "K:"), 0);
	assert_int_equal(px_cache_key("A.B", 3, "/C", 2, &b), 0);
	assert_string_equal(b.data, "K:a.b\n/C");
	/* A newline in the host would make keys ambiguous. */
	assert_int_equal(px_cache_key("a\nb", 3, "/c", 2, &b), -EINVAL);
	assert_string_equal(b.data, "K:a.b\n/C");
	assert_int_equal(px_cache_key(NULL, 1, "/c", 2, &b), -EINVAL);
	assert_int_equal(b.len, 8);
	px_buf_free(&b);
}

/* Stores a small 200 response with body under key; asserts success. */
static void put_simple(px_cache *c, const char *key, const char *body, time_t now)
{
	px_head h;

	response_init(&h, 200, "OK", "Content-Type: text/plain\nCache-Control: max-age=60");
	assert_int_equal(px_cache_put(c, key, strlen(key), &h, body, strlen(body), now, 0, 60), 0);
}

static const px_cache_obj *get(px_cache *c, const char *key, time_t now)
{
	return px_cache_get(c, key, strlen(key), now);
}

/* The body of obj as a NUL-terminated string (it is stored with a NUL after it). */
static const char *body_of(const px_cache_obj *obj)
{
	const char *body;
	size_t len;

	px_cache_obj_body(obj, &body, &len);
	assert_int_equal(body[len], '\0');
	return body;
}

/* The size one object of put_simple's shape takes, for a key and a body of these lengths. */
static size_t simple_size(size_t key_len, size_t body_len)
{
	px_cache *c = px_cache_create(SIZE_MAX, SIZE_MAX);
	px_cache_stats st;
	char *key = malloc(key_len + 1);
	char *body = malloc(body_len + 1);

	assert_non_null(c);
	assert_non_null(key);
	assert_non_null(body);
	memset(key, 'k', key_len);
	key[key_len] = '\0';
	memset(body, 'b', body_len);
	body[body_len] = '\0';
	put_simple(c, key, body, T2026);
	px_cache_stats_get(c, &st);
	assert_int_equal(st.objects, 1);
	free(key);
	free(body);
	px_cache_destroy(c);
	return st.bytes;
}

static void test_put_get_round_trip(void **state)
{
	static const char fields[] = "Date: Sun, 06 Nov 1994 08:49:37 GMT\n"
				     "Content-Type: text/html\n"
				     "Connection: close, X-Hop\n"
				     "Cache-Control: max-age=60\n"
				     "Age: 5\n"
				     "Keep-Alive: timeout=5\n"
				     "Transfer-Encoding: chunked\n"
				     "Content-Length: 5\n"
				     "TE: trailers\n"
				     "Trailer: X-T\n"
				     "Upgrade: h2c\n"
				     "proxy-connection: keep-alive\n"
				     "x-hop: secret\n"
				     "x-custom:  Value  With  Spaces \n"
				     "ETag: \"abc\"\n"
				     "Vary: Accept-Encoding\n"
				     "X-Empty:";
	char *mutable_fields = strdup(fields);
	char body[] = "hello";
	char reason[] = "Fine";
	char key[] = "example.com\n/a?b=1";
	px_cache *c = px_cache_create(1 << 20, 1 << 16);
	const px_cache_obj *obj;
	px_head h;
	px_head out;
	const char *b;
	size_t len;

	assert_non_null(c);
	assert_non_null(mutable_fields);
	px_head_init(&h);
	h.status = 203;
	h.reason = reason;
	h.reason_len = strlen(reason);
	h.http_minor = 0;
	head_fill(&h, mutable_fields);
	assert_int_equal(px_cache_put(c, key, strlen(key), &h, body, 5, T2026, 5, 60), 0);

	/* A deep copy: the caller's memory may change or go away. */
	memset(mutable_fields, 'Z', strlen(mutable_fields));
	free(mutable_fields);
	memset(body, 'Z', 5);
	memset(reason, 'Z', 4);
	obj = px_cache_get(c, key, strlen(key), T2026);
	memset(key, 'Z', strlen(key));
	assert_non_null(obj);

	memset(&out, 0xA5, sizeof(out));
	px_cache_obj_head(obj, &out);
	assert_int_equal(out.status, 203);
	assert_int_equal(out.reason_len, 4);
	assert_memory_equal(out.reason, "Fine", 4);
	assert_int_equal(out.http_minor, 0);
	assert_null(out.method);
	assert_int_equal(out.method_len, 0);
	assert_null(out.target);
	/* Hop-by-hop, framing and Age fields are gone, the rest kept in order. */
	assert_int_equal(out.n_headers, 7);
	assert_true(out.headers[0].name_len == 4 && memcmp(out.headers[0].name, "Date", 4) == 0);
	assert_int_equal(out.headers[0].value_len, 29);
	assert_memory_equal(out.headers[0].value, "Sun, 06 Nov 1994 08:49:37 GMT", 29);
	assert_memory_equal(out.headers[1].name, "Content-Type", 12);
	assert_memory_equal(out.headers[1].value, "text/html", 9);
	assert_memory_equal(out.headers[2].name, "Cache-Control", 13);
	assert_memory_equal(out.headers[2].value, "max-age=60", 10);
	assert_int_equal(out.headers[3].name_len, 8);
	assert_memory_equal(out.headers[3].name, "x-custom", 8);
	assert_int_equal(out.headers[3].value_len, 19);
	assert_memory_equal(out.headers[3].value, "Value  With  Spaces", 19);
	assert_memory_equal(out.headers[4].name, "ETag", 4);
	assert_int_equal(out.headers[4].value_len, 5);
	assert_memory_equal(out.headers[4].value, "\"abc\"", 5);
	assert_memory_equal(out.headers[5].name, "Vary", 4);
	assert_int_equal(out.headers[6].name_len, 7);
	assert_memory_equal(out.headers[6].name, "X-Empty", 7);
	assert_int_equal(out.headers[6].value_len, 0);
	assert_null(px_head_find(&out, "Age"));
	assert_null(px_head_find(&out, "Connection"));
	assert_null(px_head_find(&out, "X-Hop"));
	assert_null(px_head_find(&out, "Content-Length"));

	px_cache_obj_body(obj, &b, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(b, "hello", 6);
	assert_int_equal(px_cache_obj_age(obj, T2026), 5);
	assert_int_equal(px_cache_obj_age(obj, T2026 + 30), 35);
	px_cache_destroy(c);
}

static void test_put_empty_and_reasonless(void **state)
{
	px_cache *c = px_cache_create(1 << 20, 1 << 16);
	const px_cache_obj *obj;
	px_head h;
	px_head out;
	const char *b;
	size_t len;

	assert_non_null(c);
	/* No reason phrase, no fields, no body (a 204). */
	px_head_init(&h);
	h.status = 204;
	assert_int_equal(px_cache_put(c, "k", 1, &h, NULL, 0, T2026, 0, 10), 0);
	obj = px_cache_get(c, "k", 1, T2026);
	assert_non_null(obj);
	px_cache_obj_head(obj, &out);
	assert_int_equal(out.status, 204);
	assert_null(out.reason);
	assert_int_equal(out.reason_len, 0);
	assert_int_equal(out.http_minor, 1);
	assert_int_equal(out.n_headers, 0);
	px_cache_obj_body(obj, &b, &len);
	assert_int_equal(len, 0);
	assert_string_equal(b, "");
	/* An empty key is a key like any other. */
	put_simple(c, "", "empty", T2026);
	assert_string_equal(body_of(px_cache_get(c, "", 0, T2026)), "empty");
	assert_string_equal(body_of(get(c, "k", T2026)), "");
	px_cache_destroy(c);
}

static void test_staleness(void **state)
{
	px_cache *c = px_cache_create(1 << 20, 1 << 16);
	px_cache_stats st;
	px_head h;

	assert_non_null(c);
	response_init(&h, 200, "OK", "Cache-Control: max-age=60\nAge: 10");
	assert_int_equal(px_cache_put(c, "a", 1, &h, "x", 1, 1000, 10, 60), 0);
	assert_int_equal(px_cache_obj_age(get(c, "a", 1000), 1000), 10);
	/* Age 59 is fresh. */
	assert_int_equal(px_cache_obj_age(get(c, "a", 1049), 1049), 59);
	/* A clock that went back does not make the object younger than when stored. */
	assert_int_equal(px_cache_obj_age(get(c, "a", 900), 900), 10);
	/* Age 60 is stale: a miss, and the object is gone. */
	assert_null(get(c, "a", 1050));
	px_cache_stats_get(c, &st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.evictions, 0);
	assert_null(get(c, "a", 1000));

	/* Extreme clocks do not overflow the age. */
	assert_int_equal(px_cache_put(c, "b", 1, &h, "x", 1, (time_t)INT64_MIN, 10, 60), 0);
	assert_null(get(c, "b", (time_t)INT64_MAX));
	assert_int_equal(px_cache_put(c, "b", 1, &h, "x", 1, (time_t)INT64_MAX, 10, 60), 0);
	assert_int_equal(px_cache_obj_age(get(c, "b", (time_t)INT64_MIN), (time_t)INT64_MIN), 10);
	px_cache_destroy(c);
}

static void test_lru_eviction(void **state)
{
	size_t s = simple_size(3, 1);
	px_cache *c = px_cache_create(3 * s, 3 * s);
	px_cache_stats st;
	char *big = malloc(s + 2);

	assert_non_null(c);
	assert_non_null(big);
	/* Most recently used first: 3 2 1. */
	put_simple(c, "k:1", "1", T2026);
	put_simple(c, "k:2", "2", T2026);
	put_simple(c, "k:3", "3", T2026);
	px_cache_stats_get(c, &st);
	assert_int_equal(st.bytes, 3 * s);
	assert_int_equal(st.evictions, 0);
	/* A hit promotes: 1 3 2, so k:2 goes for k:4: 4 1 3. A miss changes no order. */
	assert_string_equal(body_of(get(c, "k:1", T2026)), "1");
	put_simple(c, "k:4", "4", T2026);
	assert_null(get(c, "k:2", T2026));
	px_cache_stats_get(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.objects, 3);
	assert_int_equal(st.bytes, 3 * s);
	/* k:3 goes for k:5: 5 4 1; a hit on k:1: 1 5 4; k:4 goes for k:6: 6 1 5. */
	put_simple(c, "k:5", "5", T2026);
	assert_null(get(c, "k:3", T2026));
	assert_string_equal(body_of(get(c, "k:1", T2026)), "1");
	put_simple(c, "k:6", "6", T2026);
	assert_null(get(c, "k:4", T2026));
	px_cache_stats_get(c, &st);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.bytes, 3 * s);

	/* An object twice the size (body s + 1 instead of 1) evicts the two least recently used. */
	memset(big, 'B', s + 1);
	big[s + 1] = '\0';
	put_simple(c, "k:7", big, T2026);
	free(big);
	px_cache_stats_get(c, &st);
	assert_int_equal(st.evictions, 5);
	assert_int_equal(st.objects, 2);
	assert_int_equal(st.bytes, 3 * s);
	assert_null(get(c, "k:5", T2026));
	assert_null(get(c, "k:1", T2026));
	assert_string_equal(body_of(get(c, "k:6", T2026)), "6");
	assert_non_null(get(c, "k:7", T2026));
	px_cache_destroy(c);
}

static void test_replace(void **state)
{
	size_t s1 = simple_size(1, 3);
	size_t s2 = simple_size(1, 4);
	px_cache *c = px_cache_create(1 << 20, 1 << 16);
	px_cache_stats st;

	assert_non_null(c);
	put_simple(c, "a", "one", T2026);
	put_simple(c, "b", "bee", T2026);
	put_simple(c, "a", "two!", T2026 + 5);
	px_cache_stats_get(c, &st);
	assert_int_equal(st.objects, 2);
	assert_int_equal(st.bytes, s1 + s2);
	assert_int_equal(st.stores, 3);
	assert_int_equal(st.evictions, 0);
	assert_string_equal(body_of(get(c, "a", T2026 + 5)), "two!");
	/* The replacement's storage time counts. */
	assert_int_equal(px_cache_obj_age(get(c, "a", T2026 + 64), T2026 + 64), 59);
	assert_string_equal(body_of(get(c, "b", T2026)), "bee");
	px_cache_destroy(c);
}

static void test_too_big(void **state)
{
	size_t s = simple_size(1, 4);
	px_cache *c = px_cache_create(10 * s, s);
	px_cache *small = px_cache_create(s - 1, 10 * s);
	px_cache_stats st;
	px_head h;

	assert_non_null(c);
	assert_non_null(small);
	response_init(&h, 200, "OK", "Content-Type: text/plain\nCache-Control: max-age=60");
	/* Exactly max_object_bytes fits; one byte more does not. */
	assert_int_equal(px_cache_put(c, "a", 1, &h, "1234", 4, T2026, 0, 60), 0);
	assert_int_equal(px_cache_put(c, "b", 1, &h, "12345", 5, T2026, 0, 60), -E2BIG);
	assert_null(get(c, "b", T2026));
	/* A too-big replacement removes the object it would have replaced. */
	assert_int_equal(px_cache_put(c, "a", 1, &h, "12345", 5, T2026, 0, 60), -E2BIG);
	assert_null(get(c, "a", T2026));
	px_cache_stats_get(c, &st);
	assert_int_equal(st.objects, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.stores, 1);
	assert_int_equal(st.evictions, 0);
	/* A body whose size cannot be added up. */
	assert_int_equal(px_cache_put(c, "a", 1, &h, "x", SIZE_MAX - 8, T2026, 0, 60), -E2BIG);
	/* Larger than the whole cache, even if max_object_bytes allows it. */
	assert_int_equal(px_cache_put(small, "a", 1, &h, "1234", 4, T2026, 0, 60), -E2BIG);
	px_cache_stats_get(small, &st);
	assert_int_equal(st.objects, 0);
	px_cache_destroy(c);
	px_cache_destroy(small);
}

static void test_disabled(void **state)
{
	px_cache *c = px_cache_create(0, 1 << 20);
	px_cache_stats st;
	px_head h;

	assert_non_null(c);
	response_init(&h, 200, "OK", "Cache-Control: max-age=60");
	assert_int_equal(px_cache_put(c, "a", 1, &h, "x", 1, T2026, 0, 60), -E2BIG);
	assert_int_equal(px_cache_put(c, "", 0, &h, NULL, 0, T2026, 0, 60), -E2BIG);
	assert_null(get(c, "a", T2026));
	assert_null(get(c, "", T2026));
	px_cache_stats_get(c, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.stores, 0);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.objects, 0);
	px_cache_destroy(c);
}

static void test_bad_arguments(void **state)
{
	px_cache *c = px_cache_create(1 << 20, 1 << 16);
	px_cache_stats st;
	px_head h;

	assert_non_null(c);
	response_init(&h, 200, "OK", "Cache-Control: max-age=60");
	assert_int_equal(px_cache_put(NULL, "a", 1, &h, "x", 1, T2026, 0, 60), -EINVAL);
	assert_int_equal(px_cache_put(c, NULL, 1, &h, "x", 1, T2026, 0, 60), -EINVAL);
	assert_int_equal(px_cache_put(c, "a", 1, NULL, "x", 1, T2026, 0, 60), -EINVAL);
	assert_int_equal(px_cache_put(c, "a", 1, &h, NULL, 1, T2026, 0, 60), -EINVAL);
	assert_int_equal(px_cache_put(c, "a", 1, &h, "x", 1, T2026, 0, 0), -EINVAL);
	assert_int_equal(px_cache_put(c, "a", 1, &h, "x", 1, T2026, -1, 60), -EINVAL);
	/* A failed put leaves nothing under its key. */
	put_simple(c, "a", "x", T2026);
	assert_int_equal(px_cache_put(c, "a", 1, &h, "x", 1, T2026, 60, 60), -EINVAL);
	assert_null(get(c, "a", T2026));
	/* Other keys are untouched. */
	put_simple(c, "b", "y", T2026);
	assert_int_equal(px_cache_put(c, "a", 1, &h, "x", 1, T2026, 61, 60), -EINVAL);
	assert_non_null(get(c, "b", T2026));
	px_cache_stats_get(c, &st);
	assert_int_equal(st.objects, 1);
	assert_int_equal(st.stores, 2);
	/* Lookups of a NULL key miss. */
	assert_null(px_cache_get(c, NULL, 1, T2026));
	assert_null(px_cache_get(NULL, "b", 1, T2026));
	px_cache_stats_get(NULL, &st);
	assert_int_equal(st.objects, 0);
	px_cache_destroy(c);
	px_cache_destroy(NULL);
}

static void test_stats(void **state)
{
	size_t s = simple_size(1, 1);
	px_cache *c = px_cache_create(2 * s, 2 * s);
	px_cache_stats st;

	assert_non_null(c);
	px_cache_stats_get(c, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 0);
	assert_int_equal(st.stores, 0);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.objects, 0);

	assert_null(get(c, "a", T2026));
	put_simple(c, "a", "1", T2026);
	assert_non_null(get(c, "a", T2026));
	assert_non_null(get(c, "a", T2026));
	put_simple(c, "b", "2", T2026);
	put_simple(c, "c", "3", T2026);
	assert_null(get(c, "a", T2026));
	assert_non_null(get(c, "c", T2026));
	put_simple(c, "c", "4", T2026);
	px_cache_stats_get(c, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.stores, 4);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.bytes, 2 * s);
	assert_int_equal(st.objects, 2);
	px_cache_destroy(c);
}

static void test_many_puts_bounded(void **state)
{
	enum { N = 100000, KEEP = 100 };
	size_t s = simple_size(strlen("h\n/p?000000"), 4);
	size_t max = KEEP * s + s / 2;
	px_cache *c = px_cache_create(max, s);
	px_cache_stats st;
	char key[32];

	assert_non_null(c);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "h\n/p?%06d", i);
		put_simple(c, key, "body", T2026);
		px_cache_stats_get(c, &st);
		if (st.bytes > max) {
			fail_msg("%zu bytes after put %d, bound %zu", st.bytes, i, max);
		}
	}
	px_cache_stats_get(c, &st);
	assert_int_equal(st.stores, N);
	assert_int_equal(st.objects, KEEP);
	assert_int_equal(st.bytes, KEEP * s);
	assert_int_equal(st.evictions, N - KEEP);
	/* Exactly the last KEEP remain. */
	snprintf(key, sizeof(key), "h\n/p?%06d", N - KEEP - 1);
	assert_null(get(c, key, T2026));
	for (int i = N - KEEP; i < N; i++) {
		snprintf(key, sizeof(key), "h\n/p?%06d", i);
		assert_non_null(get(c, key, T2026));
	}
	px_cache_destroy(c);
}

static void test_many_entries(void **state)
{
	enum { N = 100000 };
	px_cache *c = px_cache_create(SIZE_MAX, SIZE_MAX);
	px_cache_stats st;
	char key[32];
	char body[16];

	assert_non_null(c);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "h\n/%d", i);
		snprintf(body, sizeof(body), "%d", i);
		put_simple(c, key, body, T2026);
	}
	for (int i = N - 1; i >= 0; i--) {
		snprintf(key, sizeof(key), "h\n/%d", i);
		snprintf(body, sizeof(body), "%d", i);
		assert_string_equal(body_of(get(c, key, T2026)), body);
	}
	assert_null(get(c, "h\n/100000", T2026));
	px_cache_stats_get(c, &st);
	assert_int_equal(st.objects, N);
	assert_int_equal(st.stores, N);
	assert_int_equal(st.hits, N);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.evictions, 0);
	px_cache_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lifetime_max_age),
	    cmocka_unit_test(test_lifetime_s_maxage_wins),
	    cmocka_unit_test(test_lifetime_expires_with_date),
	    cmocka_unit_test(test_lifetime_expires_without_date),
	    cmocka_unit_test(test_lifetime_date_formats),
	    cmocka_unit_test(test_lifetime_bad_dates),
	    cmocka_unit_test(test_lifetime_statuses),
	    cmocka_unit_test(test_lifetime_forbidding_directives),
	    cmocka_unit_test(test_lifetime_set_cookie),
	    cmocka_unit_test(test_lifetime_vary),
	    cmocka_unit_test(test_lifetime_no_lifetime),
	    cmocka_unit_test(test_lifetime_case_and_whitespace),
	    cmocka_unit_test(test_lifetime_quoting),
	    cmocka_unit_test(test_lifetime_several_fields),
	    cmocka_unit_test(test_lifetime_invalid_deltas),
	    cmocka_unit_test(test_lifetime_initial_age),
	    cmocka_unit_test(test_lifetime_defensive),
	    cmocka_unit_test(test_key),
	    cmocka_unit_test(test_put_get_round_trip),
	    cmocka_unit_test(test_put_empty_and_reasonless),
	    cmocka_unit_test(test_staleness),
	    cmocka_unit_test(test_lru_eviction),
	    cmocka_unit_test(test_replace),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_disabled),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_many_puts_bounded),
	    cmocka_unit_test(test_many_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
