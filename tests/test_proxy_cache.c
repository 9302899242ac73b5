/*
 * The response cache of originaudit-proxy end to end: the real binary (one
 * worker, so one cache) in front of echo origins, checked against
 * docs/proxy-operations.md, "Caching". The echo origin sets whatever response
 * fields the request's X-Echo-Header asks for and numbers every request it
 * answers in X-Origin-Request, so a hit is a response whose number the origin
 * already gave out, while the origin's request count did not move.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy_harness.h"

#define HIT "Hit from originaudit"
#define MISS "Miss from originaudit"
/* The request field that makes the echo origin's response fresh for a minute. */
#define CC60 "X-Echo-Header: Cache-Control: max-age=60\r\n"
/* ... and fresh for one second. */
#define CC1 "X-Echo-Header: Cache-Control: max-age=1\r\n"
/* The viewer's Host of every request unless a case says otherwise. */
#define WWW PH_WWW
/* A hit happens within seconds of its store: an Age beyond this many seconds more is wrong. */
#define AGE_SLACK 10

/* ---- requests and what their responses must show ---- */

/*
 * Sends "method target" with Host host, the extra fields (each ending in
 * CRLF, "" for none) and body (NULL for none, with Content-Length) on a new
 * connection to the plain or the TLS listener; the response goes into r.
 */
static void request(ph_env *e, bool tls, const char *method, const char *host, const char *target,
		    const char *extra, const char *body, ph_resp *r)
{
	char *req = NULL;
	int n;

	if (body != NULL) {
		n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %zu\r\n\r\n%s",
			     method, target, host, extra, strlen(body), body);
	} else {
		n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method, target, host,
			     extra);
	}
	assert_true(n > 0);
	ph_exchange(tls ? e->tls_port : e->port, tls, req, strcmp(method, "HEAD") == 0, r);
	free(req);
}

/* GET target with Host WWW and the extra fields over the plain listener. */
static void get(ph_env *e, const char *target, const char *extra, ph_resp *r)
{
	request(e, false, "GET", WWW, target, extra, NULL, r);
}

/* The value of the only field called name into out; fails, naming what, unless there is one. */
static const char *one_field(const char *what, const ph_resp *r, const char *name, char *out,
			     size_t size)
{
	size_t n = ph_head_count(r->head, name);

	if (n != 1) {
		fail_msg("%s: %zu %s fields, want 1; response:\n%s", what, n, name, r->head);
	}
	assert_true(ph_head_field(r->head, name, 0, out, size));
	return out;
}

/* Asserts the status, the X-Cache value and the origin's request number of r. */
static void expect_common(const char *what, const ph_resp *r, int status, const char *x_cache,
			  size_t origin_request)
{
	char value[256];
	char want[32];

	if (r->status != status) {
		fail_msg("%s: status %d, want %d; response:\n%s", what, r->status, status, r->head);
	}
	if (strcmp(one_field(what, r, "X-Cache", value, sizeof(value)), x_cache) != 0) {
		fail_msg("%s: X-Cache \"%s\", want \"%s\"; response:\n%s", what, value, x_cache,
			 r->head);
	}
	snprintf(want, sizeof(want), "%zu", origin_request);
	if (strcmp(one_field(what, r, "X-Origin-Request", value, sizeof(value)), want) != 0) {
		fail_msg("%s: X-Origin-Request %s, want %s; response:\n%s", what, value, want,
			 r->head);
	}
}

/*
 * A response forwarded from the origin as its request origin_request: no Age
 * unless the origin sent one (age, passed on as it is; NULL when it sent none).
 */
static void expect_miss_age(const char *what, const ph_resp *r, int status, size_t origin_request,
			    const char *age)
{
	char value[64];

	expect_common(what, r, status, MISS, origin_request);
	if (age == NULL && ph_head_count(r->head, "Age") != 0) {
		fail_msg("%s: a miss carries Age; response:\n%s", what, r->head);
	}
	if (age != NULL && strcmp(one_field(what, r, "Age", value, sizeof(value)), age) != 0) {
		fail_msg("%s: Age %s, want the origin's %s; response:\n%s", what, value, age,
			 r->head);
	}
}

static void expect_miss(const char *what, const ph_resp *r, int status, size_t origin_request)
{
	expect_miss_age(what, r, status, origin_request, NULL);
}

/*
 * A response from the cache: the copy of the origin's request origin_request,
 * with one numeric Age of at least min_age (and not absurdly more); returns it.
 */
static long long expect_hit(const char *what, const ph_resp *r, int status, size_t origin_request,
			    long long min_age)
{
	char value[64];
	char *end = NULL;

	expect_common(what, r, status, HIT, origin_request);
	one_field(what, r, "Age", value, sizeof(value));
	long long age = strtoll(value, &end, 10);
	if (value[0] < '0' || value[0] > '9' || *end != '\0') {
		fail_msg("%s: Age \"%s\" is not a number; response:\n%s", what, value, r->head);
	}
	if (age < min_age || age > min_age + AGE_SLACK) {
		fail_msg("%s: Age %lld, want %lld to %lld; response:\n%s", what, age, min_age,
			 min_age + AGE_SLACK, r->head);
	}
	return age;
}

/* GET target with extra: a miss, the origin's request n, with a body of size pattern bytes. */
static void get_pattern_miss(ph_env *e, const char *target, const char *extra, size_t n,
			     size_t size, const char *what)
{
	get(e, target, extra, &e->resp);
	expect_miss(what, &e->resp, 200, n);
	ph_expect_pattern_body(what, &e->resp, size);
}

/* Asserts the origin has received exactly n requests from the proxy. */
static void expect_origin_requests(ph_eo *o, size_t n)
{
	size_t got = ph_eo_counts(o).requests;

	if (got != n) {
		fail_msg("the origin received %zu requests, want %zu", got, n);
	}
}

/* ---- configuration ---- */

/*
 * The proxy block of ph_proxy_block with cache limits (none set when
 * max_bytes < 0: the defaults) and, unless admin is NULL, an admin listener
 * on a free port put into *admin.
 */
static json_t *cache_block(ph_env *e, bool tls, long long max_bytes, long long max_object_bytes,
			   unsigned *admin)
{
	json_t *p = ph_proxy_block(e, tls, false, NULL);

	if (max_bytes >= 0) {
		json_object_set_new(p, "cache",
				    json_pack("{s:I, s:I}", "max_bytes", (json_int_t)max_bytes,
					      "max_object_bytes", (json_int_t)max_object_bytes));
	}
	if (admin != NULL) {
		ph_admin_listener(e, p, admin);
	}
	return p;
}

/* Starts the proxy (cache_block) in front of one plain-HTTP echo origin, which it returns. */
static ph_eo *start_plain(ph_env *e, bool tls, long long max_bytes, long long max_object_bytes,
			  unsigned *admin)
{
	ph_eo *o = ph_plain_origin(e, "echo", PH_EO_ECHO);

	ph_start_http(e, o, cache_block(e, tls, max_bytes, max_object_bytes, admin));
	return o;
}

/* ---- metrics ---- */

/* The value of the unlabelled metric name in the Prometheus text; fails when it is absent. */
static unsigned long long metric(const char *text, const char *name)
{
	size_t len = strlen(name);

	for (const char *line = text; line != NULL && *line != '\0';) {
		if (strncmp(line, name, len) == 0 && line[len] == ' ') {
			char *end = NULL;
			unsigned long long v = strtoull(line + len + 1, &end, 10);

			if (end == line + len + 1 || (*end != '\n' && *end != '\0')) {
				fail_msg("metric %s has no integer value", name);
			}
			return v;
		}
		line = strchr(line, '\n');
		if (line != NULL) {
			line++;
		}
	}
	fail_msg("no metric %s in:\n%s", name, text);
	return 0;
}

/* Scrapes /metrics from the admin listener into r. */
static void scrape(unsigned admin, ph_resp *r)
{
	if (!fx_wait_listening("127.0.0.1", admin, 10000)) {
		fail_msg("the admin listener on port %u is not listening", admin);
	}
	ph_http_get(admin, "/metrics", r);
	ph_expect_status(r, 200);
}

/* ---- 1. a miss, then a hit ---- */

static void test_miss_then_hit(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, -1, 0, NULL);

	get(e, "/one", CC60, r);
	expect_miss("first GET", r, 200, 1);
	assert_true(r->complete);
	/* Kept in e->out, which teardown frees even when an assertion ends the test early. */
	size_t first_len = r->body_len;
	e->out = malloc(first_len + 1);
	assert_non_null(e->out);
	memcpy(e->out, r->body, first_len + 1);
	assert_true(ph_starts_with(e->out, "GET /one HTTP/1.1\r\n"));

	get(e, "/one", CC60, r);
	expect_hit("second GET", r, 200, 1, 0);
	assert_true(r->complete);
	assert_int_equal(r->body_len, first_len);
	assert_memory_equal(r->body, e->out, first_len);
	/* The stored head is the origin's: its own fields come back, framed by the proxy. */
	ph_expect_field(r->head, "Cache-Control", "max-age=60");
	ph_expect_field(r->head, "X-Origin-Name", "echo");
	char length[32];
	snprintf(length, sizeof(length), "%zu", first_len);
	ph_expect_field(r->head, "Content-Length", length);
	expect_origin_requests(o, 1);
	ph_finish(e);
}

/* ---- 2. the key ignores the scheme ---- */

/*
 * One object serves HTTP and HTTPS viewers, whichever comes first. o is the
 * origin the proxy forwards to for both (e.g. an https-only one).
 */
static void scheme_free_key(ph_env *e, ph_eo *o)
{
	ph_resp *r = &e->resp;

	/* HTTP first, then HTTPS. */
	request(e, false, "GET", WWW, "/scheme/a", CC60, NULL, r);
	expect_miss("GET /scheme/a over HTTP", r, 200, 1);
	request(e, true, "GET", WWW, "/scheme/a", CC60, NULL, r);
	expect_hit("GET /scheme/a over HTTPS", r, 200, 1, 0);
	expect_origin_requests(o, 1);

	/* HTTPS first, then HTTP. */
	request(e, true, "GET", WWW, "/scheme/b", CC60, NULL, r);
	expect_miss("GET /scheme/b over HTTPS", r, 200, 2);
	request(e, false, "GET", WWW, "/scheme/b", CC60, NULL, r);
	expect_hit("GET /scheme/b over HTTP", r, 200, 2, 0);
	/* HEAD over the other scheme is answered from the same object. */
	request(e, true, "HEAD", WWW, "/scheme/a", CC60, NULL, r);
	expect_hit("HEAD /scheme/a over HTTPS", r, 200, 1, 0);
	expect_origin_requests(o, 2);
}

static void test_key_ignores_scheme_https_origin(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_good_origin(e, "good");

	ph_start_https(e, o, cache_block(e, true, -1, 0, NULL));
	scheme_free_key(e, o);
	ph_finish(e);
}

static void test_key_ignores_scheme_http_origin(void **state)
{
	ph_env *e = *state;
	ph_eo *o = start_plain(e, true, -1, 0, NULL);

	scheme_free_key(e, o);
	ph_finish(e);
}

/*
 * match-viewer: an HTTPS viewer's miss would go to the HTTPS origin port, yet
 * the object an HTTP viewer stored answers it and that port sees nothing.
 */
static void test_key_ignores_scheme_match_viewer(void **state)
{
	ph_env *e = *state;
	ph_eo *plain = ph_plain_origin(e, "plain", PH_EO_ECHO);
	ph_eo *tls = ph_good_origin(e, "tls");
	ph_resp *r = &e->resp;

	ph_start_proxy(e, ph_single_config(ph_origin_json("o", ph_eo_port(tls), ph_eo_port(plain),
							  "match-viewer"),
					   cache_block(e, true, -1, 0, NULL)));
	request(e, false, "GET", WWW, "/mv", CC60, NULL, r);
	expect_miss("GET /mv over HTTP", r, 200, 1);
	ph_expect_field(r->head, "X-Origin-Name", "plain");
	request(e, true, "GET", WWW, "/mv", CC60, NULL, r);
	expect_hit("GET /mv over HTTPS", r, 200, 1, 0);
	ph_expect_field(r->head, "X-Origin-Name", "plain");
	/* A path nobody stored goes to the HTTPS port, as match-viewer says. */
	request(e, true, "GET", WWW, "/mv-other", CC60, NULL, r);
	expect_miss("GET /mv-other over HTTPS", r, 200, 1);
	ph_expect_field(r->head, "X-Origin-Name", "tls");
	expect_origin_requests(plain, 1);
	expect_origin_requests(tls, 1);
	ph_finish(e);
}

/* ---- 3. the key is Host plus path and query ---- */

static void test_key_host_and_target(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, -1, 0, NULL);

	request(e, false, "GET", WWW, "/k?a=1", CC60, NULL, r);
	expect_miss("GET /k?a=1", r, 200, 1);
	request(e, false, "GET", WWW, "/k?a=2", CC60, NULL, r);
	expect_miss("GET /k?a=2 (another query)", r, 200, 2);
	request(e, false, "GET", WWW, "/k", CC60, NULL, r);
	expect_miss("GET /k (no query)", r, 200, 3);
	request(e, false, "GET", WWW, "/K?a=1", CC60, NULL, r);
	expect_miss("GET /K?a=1 (path case differs)", r, 200, 4);
	request(e, false, "GET", WWW, "/k?A=1", CC60, NULL, r);
	expect_miss("GET /k?A=1 (query case differs)", r, 200, 5);
	/* Both hosts go to the one default origin: only the key tells them apart. */
	request(e, false, "GET", "other.example.com", "/k?a=1", CC60, NULL, r);
	expect_miss("GET /k?a=1, Host other.example.com", r, 200, 6);
	request(e, false, "GET", WWW ":8080", "/k?a=1", CC60, NULL, r);
	expect_miss("GET /k?a=1, Host " WWW ":8080 (port kept)", r, 200, 7);
	expect_origin_requests(o, 7);

	/* Each of them is now stored under its own key. */
	request(e, false, "GET", WWW, "/k?a=1", CC60, NULL, r);
	expect_hit("GET /k?a=1 again", r, 200, 1, 0);
	request(e, false, "GET", WWW, "/k?a=2", CC60, NULL, r);
	expect_hit("GET /k?a=2 again", r, 200, 2, 0);
	request(e, false, "GET", WWW, "/K?a=1", CC60, NULL, r);
	expect_hit("GET /K?a=1 again", r, 200, 4, 0);
	request(e, false, "GET", "other.example.com", "/k?a=1", CC60, NULL, r);
	expect_hit("GET /k?a=1, Host other.example.com again", r, 200, 6, 0);
	request(e, false, "GET", WWW ":8080", "/k?a=1", CC60, NULL, r);
	expect_hit("GET /k?a=1, Host " WWW ":8080 again", r, 200, 7, 0);
	/* The host is lower-cased in the key. */
	request(e, false, "GET", "WWW.Example.COM", "/k?a=1", CC60, NULL, r);
	expect_hit("GET /k?a=1, Host WWW.Example.COM", r, 200, 1, 0);
	expect_origin_requests(o, 7);
	ph_finish(e);
}

/* ---- 4. responses and requests that are not stored ---- */

struct not_stored_case {
	const char *what;
	const char *method;
	const char *target;
	/* Request fields, each ending in CRLF. */
	const char *extra;
	/* A request body, or NULL. */
	const char *body;
	int status;
	/* The Age the origin sends, or NULL. */
	const char *age;
};

static const struct not_stored_case not_stored_cases[] = {
    {"Cache-Control: private", "GET", "/ns/private",
     "X-Echo-Header: Cache-Control: private, max-age=60\r\n", NULL, 200, NULL},
    {"Cache-Control: no-store", "GET", "/ns/no-store",
     "X-Echo-Header: Cache-Control: no-store, max-age=60\r\n", NULL, 200, NULL},
    {"Cache-Control: no-cache", "GET", "/ns/no-cache",
     "X-Echo-Header: Cache-Control: no-cache, max-age=60\r\n", NULL, 200, NULL},
    {"Set-Cookie", "GET", "/ns/cookie", CC60 "X-Echo-Header: Set-Cookie: id=1\r\n", NULL, 200,
     NULL},
    {"Vary: Accept-Encoding", "GET", "/ns/vary", CC60 "X-Echo-Header: Vary: Accept-Encoding\r\n",
     NULL, 200, NULL},
    {"no freshness information", "GET", "/ns/none", "", NULL, 200, NULL},
    {"Cache-Control: max-age=0", "GET", "/ns/max-age-0",
     "X-Echo-Header: Cache-Control: max-age=0\r\n", NULL, 200, NULL},
    {"Expires in the past", "GET", "/ns/expired",
     "X-Echo-Header: Expires: Thu, 01 Jan 1998 00:00:00 GMT\r\n", NULL, 200, NULL},
    {"Age not below max-age", "GET", "/ns/old", CC60 "X-Echo-Header: Age: 60\r\n", NULL, 200, "60"},
    {"status 500", "GET", "/ns/500", CC60 "X-Echo-Status: 500\r\n", NULL, 500, NULL},
    {"POST", "POST", "/ns/post", CC60, "hi", 200, NULL},
    {"Authorization", "GET", "/ns/auth", CC60 "Authorization: Bearer t0ken\r\n", NULL, 200, NULL},
};

static void test_not_stored(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, -1, 0, NULL);
	size_t n = 0;
	char what[128];

	for (size_t i = 0; i < sizeof(not_stored_cases) / sizeof(not_stored_cases[0]); i++) {
		const struct not_stored_case *c = &not_stored_cases[i];

		for (int round = 1; round <= 2; round++) {
			snprintf(what, sizeof(what), "%s, request %d", c->what, round);
			request(e, false, c->method, WWW, c->target, c->extra, c->body, r);
			expect_miss_age(what, r, c->status, ++n, c->age);
		}
		expect_origin_requests(o, n);
	}
	/*
	 * Nothing the POSTs or the requests with credentials got was stored for
	 * a plain GET of the same target, whose own response is stored.
	 */
	get(e, "/ns/post", CC60, r);
	expect_miss("GET after POST", r, 200, ++n);
	get(e, "/ns/post", CC60, r);
	expect_hit("GET after POST, again", r, 200, n, 0);
	get(e, "/ns/auth", CC60, r);
	expect_miss("GET without Authorization after one with it", r, 200, ++n);
	get(e, "/ns/auth", CC60, r);
	expect_hit("GET without Authorization, again", r, 200, n, 0);
	expect_origin_requests(o, n);
	ph_finish(e);
}

/* ---- 5. freshness: s-maxage, Expires, the origin's Age ---- */

static void test_freshness_sources(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, -1, 0, NULL);
	char expires[128];
	char date[64];
	time_t later = time(NULL) + 3600;
	struct tm tm;

	/* s-maxage wins over max-age=0 (a shared cache obeys s-maxage). */
	static const char s_maxage[] = "X-Echo-Header: Cache-Control: s-maxage=60, max-age=0\r\n";
	get(e, "/f/s-maxage", s_maxage, r);
	expect_miss("s-maxage=60, max-age=0", r, 200, 1);
	get(e, "/f/s-maxage", s_maxage, r);
	expect_hit("s-maxage=60, max-age=0, again", r, 200, 1, 0);

	/* And s-maxage=0 wins over max-age=60: not stored. */
	static const char s_maxage0[] = "X-Echo-Header: Cache-Control: max-age=60, s-maxage=0\r\n";
	get(e, "/f/s-maxage-0", s_maxage0, r);
	expect_miss("max-age=60, s-maxage=0", r, 200, 2);
	get(e, "/f/s-maxage-0", s_maxage0, r);
	expect_miss("max-age=60, s-maxage=0, again", r, 200, 3);

	/* Expires an hour from now, no Cache-Control and no Date. */
	assert_non_null(gmtime_r(&later, &tm));
	assert_true(strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) > 0);
	snprintf(expires, sizeof(expires), "X-Echo-Header: Expires: %s\r\n", date);
	get(e, "/f/expires", expires, r);
	expect_miss("Expires in an hour", r, 200, 4);
	ph_expect_field(r->head, "Expires", date);
	get(e, "/f/expires", expires, r);
	expect_hit("Expires in an hour, again", r, 200, 4, 0);

	/* The origin's Age starts the object's age: the miss passes it on, the hit adds to it. */
	static const char aged[] = CC60 "X-Echo-Header: Age: 30\r\n";
	get(e, "/f/aged", aged, r);
	expect_common("Age: 30, max-age=60", r, 200, MISS, 5);
	ph_expect_field(r->head, "Age", "30");
	get(e, "/f/aged", aged, r);
	expect_hit("Age: 30, max-age=60, again", r, 200, 5, 30);
	expect_origin_requests(o, 5);
	ph_finish(e);
}

/* ---- 6. expiry ---- */

/*
 * Waits until the wall clock has just entered a new second. The proxy counts
 * ages in whole seconds of time(): an object stored with max-age=1 is fresh
 * only during the second it was stored in, so the store and the first hit
 * must fall into one second.
 */
static void wait_second_start(void)
{
	time_t t0 = time(NULL);

	while (time(NULL) == t0) {
		usleep(2000);
	}
}

static void test_expiry(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, -1, 0, NULL);

	wait_second_start();
	time_t t0 = time(NULL);
	get(e, "/short", CC1, r);
	expect_miss("max-age=1", r, 200, 1);
	get(e, "/short", CC1, r);
	if (time(NULL) != t0) {
		fail_msg("the miss and the hit took more than the rest of a second");
	}
	expect_hit("max-age=1 at once", r, 200, 1, 0);
	usleep(2200 * 1000);
	get(e, "/short", CC1, r);
	expect_miss("max-age=1 after 2.2 s", r, 200, 2);
	/* The new response was stored in place of the stale one. */
	get(e, "/short", CC1, r);
	expect_hit("max-age=1 after 2.2 s, again", r, 200, 2, 0);
	expect_origin_requests(o, 2);
	ph_finish(e);
}

/* ---- 7. HEAD ---- */

static void test_head(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, -1, 0, NULL);
	char length[32];

	/* A HEAD is answered from a cached GET: its head, Content-Length included, no body. */
	get_pattern_miss(e, "/h", CC60 "X-Echo-Body-Size: 5000\r\n", 1, 5000, "GET /h");
	snprintf(length, sizeof(length), "%zu", r->body_len);

	ph_vc *c = ph_vc_open(e->port, false);
	ph_vc_sends(c, "HEAD /h HTTP/1.1\r\nHost: " WWW "\r\n\r\n");
	if (ph_vc_response(c, true, false, r) < 0) {
		ph_vc_close(c);
		fail_msg("no response to HEAD /h");
	}
	bool quiet = ph_vc_no_more_bytes(c, 500);
	ph_vc_close(c);
	expect_hit("HEAD /h", r, 200, 1, 0);
	ph_expect_field(r->head, "Content-Length", length);
	ph_expect_field(r->head, "Cache-Control", "max-age=60");
	if (!quiet) {
		fail_msg("the proxy sent bytes after the head of its answer to HEAD");
	}
	expect_origin_requests(o, 1);

	/* A HEAD that misses is forwarded and its response not stored. */
	request(e, false, "HEAD", WWW, "/h2", CC60, NULL, r);
	expect_miss("HEAD /h2", r, 200, 2);
	request(e, false, "HEAD", WWW, "/h2", CC60, NULL, r);
	expect_miss("HEAD /h2 again", r, 200, 3);
	get(e, "/h2", CC60, r);
	expect_miss("GET /h2 after HEAD", r, 200, 4);
	get(e, "/h2", CC60, r);
	expect_hit("GET /h2 again", r, 200, 4, 0);
	request(e, false, "HEAD", WWW, "/h2", CC60, NULL, r);
	expect_hit("HEAD /h2 after GET", r, 200, 4, 0);
	expect_origin_requests(o, 4);
	ph_finish(e);
}

/* ---- 8. the per-object limit ---- */

static void test_max_object_bytes(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, 67108864, 10000, NULL);

	/* Bigger than the limit by its Content-Length: streams through whole, not stored. */
	static const char big[] = CC60 "X-Echo-Body-Size: 20000\r\n";
	get_pattern_miss(e, "/big", big, 1, 20000, "20000 bytes");
	ph_expect_field(r->head, "Content-Length", "20000");
	get_pattern_miss(e, "/big", big, 2, 20000, "20000 bytes again");

	/* The limit is on the whole object: a 9900-byte body with its head does not fit. */
	static const char near[] = CC60 "X-Echo-Body-Size: 9900\r\n";
	get_pattern_miss(e, "/near", near, 3, 9900, "9900 bytes");
	get_pattern_miss(e, "/near", near, 4, 9900, "9900 bytes again");

	/* Well under the limit: stored. */
	static const char small[] = CC60 "X-Echo-Body-Size: 5000\r\n";
	get(e, "/small", small, r);
	expect_miss("5000 bytes", r, 200, 5);
	get(e, "/small", small, r);
	expect_hit("5000 bytes again", r, 200, 5, 0);
	ph_expect_pattern_body("5000 bytes from the cache", r, 5000);
	expect_origin_requests(o, 5);
	ph_finish(e);
}

/* ---- 9. LRU eviction under max_bytes ---- */

/*
 * An object is one allocation: a 128-byte struct, 32 bytes per stored field,
 * the key, the reason and the body, each NUL-terminated, and every stored
 * field's name and value (Content-Length is not stored). The echo origin's
 * response to these requests keeps 8 fields (Content-Type, X-Origin-Name,
 * X-Conn-Id, X-Conn-Requests, X-Origin-Request, X-Body-Bytes, X-Body-Sum,
 * Cache-Control), about 150 bytes of text, so a 12000-byte body makes an
 * object of about 12550 bytes: three take about 37650 of the 40000 bytes (a
 * margin of over 2000), a fourth needs one evicted, and each fits in 15000.
 */
#define EVICT_BODY 12000

static void test_lru_eviction(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	ph_eo *o = start_plain(e, false, 40000, 15000, &admin);
	static const char obj[] = CC60 "X-Echo-Body-Size: 12000\r\n";

	get(e, "/a", obj, r);
	expect_miss("store A", r, 200, 1);
	get(e, "/b", obj, r);
	expect_miss("store B", r, 200, 2);
	get(e, "/c", obj, r);
	expect_miss("store C", r, 200, 3);
	/* A becomes the most recently used; B is now the least. */
	get(e, "/a", obj, r);
	expect_hit("touch A", r, 200, 1, 0);
	get(e, "/d", obj, r);
	expect_miss("store D", r, 200, 4);

	/* A, C and D are kept (a hit stores nothing, so these checks evict nothing). */
	get(e, "/a", obj, r);
	expect_hit("A after D", r, 200, 1, 0);
	ph_expect_pattern_body("A after D", r, EVICT_BODY);
	get(e, "/c", obj, r);
	expect_hit("C after D", r, 200, 3, 0);
	get(e, "/d", obj, r);
	expect_hit("D after D", r, 200, 4, 0);

	/* The last request was a hit, so the worker has finished storing D: three objects. */
	scrape(admin, r);
	unsigned long long objects = metric(r->body, "originaudit_proxy_cache_objects");
	unsigned long long bytes = metric(r->body, "originaudit_proxy_cache_bytes");
	if (objects != 3 || bytes <= 3ULL * EVICT_BODY || bytes > 40000) {
		fail_msg("cache gauges: %llu objects of %llu bytes, want 3 objects of %d to 40000 "
			 "bytes",
			 objects, bytes, 3 * EVICT_BODY + 1);
	}

	/* B was evicted (checked last: its miss stores it again, evicting C). */
	get(e, "/b", obj, r);
	expect_miss("B after D", r, 200, 5);
	expect_origin_requests(o, 5);
	ph_finish(e);
}

/* ---- 10. metrics ---- */

static void test_metrics(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	ph_eo *o = start_plain(e, false, -1, 0, &admin);

	scrape(admin, r);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_hits_total"), 0);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_misses_total"), 0);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_objects"), 0);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_bytes"), 0);

	/* Lookups: 4 misses (/m1, /m2, /m3 twice), 3 hits (/m1 twice, HEAD /m2). */
	get(e, "/m1", CC60, r);
	expect_miss("GET /m1", r, 200, 1);
	get(e, "/m1", CC60, r);
	expect_hit("GET /m1 again", r, 200, 1, 0);
	get(e, "/m2", CC60 "X-Echo-Body-Size: 3000\r\n", r);
	expect_miss("GET /m2", r, 200, 2);
	get(e, "/m3", "X-Echo-Header: Cache-Control: no-store\r\n", r);
	expect_miss("GET /m3", r, 200, 3);
	get(e, "/m3", "X-Echo-Header: Cache-Control: no-store\r\n", r);
	expect_miss("GET /m3 again", r, 200, 4);
	/* A POST is no lookup. */
	request(e, false, "POST", WWW, "/m1", CC60, "hi", r);
	expect_miss("POST /m1", r, 200, 5);
	request(e, false, "HEAD", WWW, "/m2", "", NULL, r);
	expect_hit("HEAD /m2", r, 200, 2, 0);
	/* The last request is a hit: every store before it is over, gauges included. */
	get(e, "/m1", CC60, r);
	expect_hit("GET /m1 a third time", r, 200, 1, 0);
	expect_origin_requests(o, 5);

	scrape(admin, r);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_hits_total"), 3);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_misses_total"), 4);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_objects"), 2);
	unsigned long long bytes = metric(r->body, "originaudit_proxy_cache_bytes");
	/* /m2's body alone is 3000 bytes; two small objects with their heads stay well below. */
	if (bytes <= 3000 || bytes > 3000 + 8192) {
		fail_msg("originaudit_proxy_cache_bytes %llu, want 3001 to 11192", bytes);
	}
	ph_finish(e);
}

/*
 * The gauges describe what the cache holds now: a stale object removed by the
 * lookup that found it stale is no longer counted, even when nothing is
 * stored after it (a HEAD that misses stores nothing).
 */
static void test_metrics_after_expiry(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	ph_eo *o = start_plain(e, false, -1, 0, &admin);

	get(e, "/keep", CC60, r);
	expect_miss("GET /keep", r, 200, 1);
	get(e, "/short", CC1 "X-Echo-Body-Size: 4000\r\n", r);
	expect_miss("GET /short", r, 200, 2);
	get(e, "/keep", CC60, r);
	expect_hit("GET /keep again", r, 200, 1, 0);
	scrape(admin, r);
	assert_int_equal(metric(r->body, "originaudit_proxy_cache_objects"), 2);
	unsigned long long both = metric(r->body, "originaudit_proxy_cache_bytes");

	usleep(2200 * 1000);
	request(e, false, "HEAD", WWW, "/short", CC1, NULL, r);
	expect_miss("HEAD /short after 2.2 s", r, 200, 3);
	get(e, "/keep", CC60, r);
	expect_hit("GET /keep after 2.2 s", r, 200, 1, 0);
	expect_origin_requests(o, 3);

	scrape(admin, r);
	unsigned long long objects = metric(r->body, "originaudit_proxy_cache_objects");
	unsigned long long bytes = metric(r->body, "originaudit_proxy_cache_bytes");
	if (objects != 1 || bytes == 0 || bytes >= both - 4000) {
		fail_msg("after the stale /short was dropped the gauges show %llu objects of %llu "
			 "bytes (before: 2 objects of %llu bytes); want 1 object of under %llu "
			 "bytes",
			 objects, bytes, both, both - 4000);
	}
	ph_finish(e);
}

/* ---- 11. max_bytes 0 ---- */

static void test_cache_disabled(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	ph_eo *o = start_plain(e, false, 0, 0, NULL);
	char what[64];

	for (size_t i = 1; i <= 3; i++) {
		snprintf(what, sizeof(what), "GET /off, request %zu", i);
		get(e, "/off", CC60, r);
		expect_miss(what, r, 200, i);
	}
	request(e, false, "HEAD", WWW, "/off", CC60, NULL, r);
	expect_miss("HEAD /off", r, 200, 4);
	expect_origin_requests(o, 4);
	ph_finish(e);
}

#define T(fn) PH_TEST(fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_miss_then_hit),
	    T(test_key_ignores_scheme_https_origin),
	    T(test_key_ignores_scheme_http_origin),
	    T(test_key_ignores_scheme_match_viewer),
	    T(test_key_host_and_target),
	    T(test_not_stored),
	    T(test_freshness_sources),
	    T(test_expiry),
	    T(test_head),
	    T(test_max_object_bytes),
	    T(test_lru_eviction),
	    T(test_metrics),
	    T(test_metrics_after_expiry),
	    T(test_cache_disabled),
	};

	/* OA_TEST_FILTER=test_expiry runs only the matching tests (cmocka's pattern). */
	return PH_RUN_TESTS(tests);
}
