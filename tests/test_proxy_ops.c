/*
 * Operating originaudit-proxy (docs/proxy-operations.md), end to end: the
 * real binary with its supervisor and workers, driven through its admin
 * listener, its signals, its access log and its connection limits. The
 * metrics are read back with a small Prometheus text parser, so each test
 * asserts exact counter values after traffic it chose itself.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/x509.h>

#include "proxy_harness.h"

/* A request llhttp refuses (bad protocol name): a 400 before any routing. */
#define MALFORMED "GET /x HTTX/1.1\r\nHost: " PH_WWW "\r\n\r\n"

/* ---- what a failed assertion would leak ---- */

/*
 * cmocka ends a failed test with a longjmp, past the test's own frees: what
 * a test allocates is registered here and released by ops_teardown, so a
 * failing test leaves no leak for LeakSanitizer to report over it.
 */
#define OPS_MAX_HELD 64

static struct held {
	void *p;
	void (*release)(void *p);
} held[OPS_MAX_HELD];

/* Registers p (returned) to be released by release at teardown unless let go before. */
static void *hold(void *p, void (*release)(void *p))
{
	assert_non_null(p);
	for (size_t i = 0; i < OPS_MAX_HELD; i++) {
		if (held[i].p == NULL) {
			held[i].p = p;
			held[i].release = release;
			return p;
		}
	}
	release(p);
	fail_msg("more than %d resources held by one test", OPS_MAX_HELD);
	return NULL;
}

/* Releases p now; it must have been held. */
static void let_go(void *p)
{
	for (size_t i = 0; i < OPS_MAX_HELD; i++) {
		if (held[i].p == p) {
			held[i].p = NULL;
			held[i].release(p);
			return;
		}
	}
	fail_msg("releasing %p, which is not held", p);
}

static void release_json(void *p)
{
	json_decref(p);
}

static json_t *hold_json(json_t *doc)
{
	return hold(doc, release_json);
}

/* The test's own things first (a load thread still sends to the proxy), then the harness's. */
static int ops_teardown(void **state)
{
	for (size_t i = OPS_MAX_HELD; i-- > 0;) {
		if (held[i].p != NULL) {
			void *p = held[i].p;

			held[i].p = NULL;
			held[i].release(p);
		}
	}
	return ph_teardown(state);
}

/* ---- a Prometheus text format (0.0.4) parser ---- */

#define PROM_MAX_LABELS 12

typedef struct prom_label {
	char name[64];
	char value[256];
} prom_label;

typedef struct prom_sample {
	char name[128];
	prom_label labels[PROM_MAX_LABELS];
	size_t n_labels;
	double value;
} prom_sample;

typedef struct prom_family {
	char name[128];
	char type[16];
	bool help;
} prom_family;

/* A parsed exposition: its samples and the families its HELP and TYPE lines declare. */
typedef struct prom {
	prom_sample *samples;
	size_t n_samples;
	prom_family *families;
	size_t n_families;
} prom;

static void release_prom(void *data)
{
	prom *p = data;

	free(p->samples);
	free(p->families);
	free(p);
}

/* An empty exposition, held. */
static prom *prom_new(void)
{
	return hold(calloc(1, sizeof(prom)), release_prom);
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* A metric or label name at *s into out; false when there is none or it is too long. */
static bool parse_name(const char **s, char *out, size_t size, bool label)
{
	size_t n = 0;
	const char *p = *s;

	if (!name_start(*p) || (label && *p == ':')) {
		return false;
	}
	while (name_char(*p) && !(label && *p == ':')) {
		if (n + 1 >= size) {
			return false;
		}
		out[n++] = *p++;
	}
	out[n] = '\0';
	*s = p;
	return true;
}

/* A quoted label value with \\, \" and \n escapes. */
static bool parse_label_value(const char **s, char *out, size_t size)
{
	const char *p = *s;
	size_t n = 0;

	if (*p++ != '"') {
		return false;
	}
	while (*p != '"') {
		char c = *p++;

		if (c == '\0' || c == '\n') {
			return false;
		}
		if (c == '\\') {
			c = *p++;
			if (c == 'n') {
				c = '\n';
			} else if (c != '\\' && c != '"') {
				return false;
			}
		}
		if (n + 1 >= size) {
			return false;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*s = p + 1;
	return true;
}

/* A series, name{label="value",...} (the braces optional), at *s into out. */
static bool parse_series(const char **s, prom_sample *out)
{
	const char *p = *s;

	memset(out, 0, sizeof(*out));
	if (!parse_name(&p, out->name, sizeof(out->name), false)) {
		return false;
	}
	if (*p == '{') {
		p++;
		while (*p != '}') {
			prom_label *l;

			if (out->n_labels == PROM_MAX_LABELS) {
				return false;
			}
			l = &out->labels[out->n_labels++];
			if (!parse_name(&p, l->name, sizeof(l->name), true) || *p++ != '=' ||
			    !parse_label_value(&p, l->value, sizeof(l->value))) {
				return false;
			}
			for (size_t i = 0; i + 1 < out->n_labels; i++) {
				if (strcmp(out->labels[i].name, l->name) == 0) {
					return false;
				}
			}
			if (*p == ',') {
				p++;
			} else if (*p != '}') {
				return false;
			}
		}
		p++;
	}
	*s = p;
	return true;
}

static prom_family *prom_family_of(prom *p, const char *name, bool create)
{
	for (size_t i = 0; i < p->n_families; i++) {
		if (strcmp(p->families[i].name, name) == 0) {
			return &p->families[i];
		}
	}
	if (!create) {
		return NULL;
	}
	p->families = realloc(p->families, (p->n_families + 1) * sizeof(*p->families));
	assert_non_null(p->families);
	prom_family *f = &p->families[p->n_families++];
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	return f;
}

/* "# HELP name text" or "# TYPE name type"; other comments are allowed and ignored. */
static bool prom_comment(prom *p, const char *line)
{
	static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
	char name[128];
	const char *s;
	bool help = ph_starts_with(line, "# HELP ");

	if (!help && !ph_starts_with(line, "# TYPE ")) {
		return true;
	}
	s = line + 7;
	if (!parse_name(&s, name, sizeof(name), false) || *s != ' ') {
		return false;
	}
	s++;
	prom_family *f = prom_family_of(p, name, true);
	if (help) {
		if (f->help || *s == '\0') {
			return false;
		}
		f->help = true;
		return true;
	}
	if (f->type[0] != '\0') {
		return false;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(s, types[i]) == 0) {
			snprintf(f->type, sizeof(f->type), "%s", s);
			return true;
		}
	}
	return false;
}

/* The family a sample belongs to: its own name, or the base of a histogram or summary series. */
static prom_family *prom_sample_family(prom *p, const char *name)
{
	static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
	prom_family *f = prom_family_of(p, name, false);

	if (f != NULL) {
		return f;
	}
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(name);
		size_t k = strlen(suffixes[i]);
		char base[128];

		if (n > k && strcmp(name + n - k, suffixes[i]) == 0) {
			snprintf(base, sizeof(base), "%.*s", (int)(n - k), name);
			f = prom_family_of(p, base, false);
			if (f != NULL && (strcmp(f->type, "histogram") == 0 ||
					  strcmp(f->type, "summary") == 0)) {
				return f;
			}
		}
	}
	return NULL;
}

/*
 * Parses text; fails the test on a line that is not the format, a sample
 * before its family's TYPE, a sample whose family lacks HELP or TYPE, or a
 * series that appears twice.
 */
static void prom_parse(const char *text, prom *p)
{
	const char *line = text;

	while (*line != '\0') {
		const char *eol = strchr(line, '\n');
		char buf[1024];
		prom_sample smp;
		const char *s = buf;
		char *end = NULL;

		if (eol == NULL) {
			fail_msg("the exposition does not end with a newline: \"%s\"", line);
		}
		if ((size_t)(eol - line) >= sizeof(buf)) {
			fail_msg("a line of %zu bytes", (size_t)(eol - line));
		}
		snprintf(buf, sizeof(buf), "%.*s", (int)(eol - line), line);
		line = eol + 1;
		if (buf[0] == '\0') {
			continue;
		}
		if (buf[0] == '#') {
			if (!prom_comment(p, buf)) {
				fail_msg("bad HELP/TYPE line (or one repeated): \"%s\"", buf);
			}
			continue;
		}
		if (!parse_series(&s, &smp) || *s != ' ') {
			fail_msg("not a sample line: \"%s\"", buf);
		}
		s++;
		smp.value = strtod(s, &end);
		if (end == s || (*end != '\0' && *end != ' ')) {
			fail_msg("bad sample value in \"%s\"", buf);
		}
		prom_family *f = prom_sample_family(p, smp.name);
		if (f == NULL || f->type[0] == '\0' || !f->help) {
			fail_msg("sample \"%s\" comes without the HELP and TYPE of its family",
				 buf);
		}
		for (size_t i = 0; i < p->n_samples; i++) {
			const prom_sample *o = &p->samples[i];
			bool same = strcmp(o->name, smp.name) == 0 && o->n_labels == smp.n_labels;

			for (size_t j = 0; same && j < smp.n_labels; j++) {
				same = strcmp(o->labels[j].name, smp.labels[j].name) == 0 &&
				       strcmp(o->labels[j].value, smp.labels[j].value) == 0;
			}
			if (same) {
				fail_msg("series repeated: \"%s\"", buf);
			}
		}
		p->samples = realloc(p->samples, (p->n_samples + 1) * sizeof(*p->samples));
		assert_non_null(p->samples);
		p->samples[p->n_samples++] = smp;
	}
	/* A declared family has both lines. */
	for (size_t i = 0; i < p->n_families; i++) {
		if (!p->families[i].help || p->families[i].type[0] == '\0') {
			fail_msg("family %s lacks its %s line", p->families[i].name,
				 p->families[i].help ? "TYPE" : "HELP");
		}
	}
}

static const char *prom_label_of(const prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		if (strcmp(s->labels[i].name, name) == 0) {
			return s->labels[i].value;
		}
	}
	return NULL;
}

/*
 * The samples matching series (name{labels}): every label of series must
 * match; exact also wants no other label. The first into *first.
 */
static size_t prom_match(const prom *p, const char *series, bool exact, const prom_sample **first)
{
	prom_sample want;
	const char *s = series;
	size_t n = 0;

	if (!parse_series(&s, &want) || *s != '\0') {
		fail_msg("bad series in the test: %s", series);
	}
	*first = NULL;
	for (size_t i = 0; i < p->n_samples; i++) {
		const prom_sample *smp = &p->samples[i];
		bool ok =
		    strcmp(smp->name, want.name) == 0 && (!exact || smp->n_labels == want.n_labels);

		for (size_t j = 0; ok && j < want.n_labels; j++) {
			const char *v = prom_label_of(smp, want.labels[j].name);

			ok = v != NULL && strcmp(v, want.labels[j].value) == 0;
		}
		if (ok) {
			if (n++ == 0) {
				*first = smp;
			}
		}
	}
	return n;
}

/* The value of the one sample of exactly series; fails the test when there is none. */
static double prom_value(const prom *p, const char *series)
{
	const prom_sample *s = NULL;

	if (prom_match(p, series, true, &s) != 1) {
		prom_sample want;
		const char *w = series;
		char have[2048] = "";
		size_t len = 0;

		/* What the family does have, to show in the failure. */
		if (parse_series(&w, &want)) {
			for (size_t i = 0; i < p->n_samples && len < sizeof(have); i++) {
				const prom_sample *o = &p->samples[i];

				if (strcmp(o->name, want.name) != 0) {
					continue;
				}
				len += (size_t)snprintf(have + len, sizeof(have) - len, "\n  %s{",
							o->name);
				for (size_t j = 0; j < o->n_labels && len < sizeof(have); j++) {
					len +=
					    (size_t)snprintf(have + len, sizeof(have) - len,
							     "%s%s=\"%s\"", j > 0 ? "," : "",
							     o->labels[j].name, o->labels[j].value);
				}
				if (len < sizeof(have)) {
					len += (size_t)snprintf(have + len, sizeof(have) - len,
								"} %g", o->value);
				}
			}
		}
		fail_msg("no sample %s in /metrics; the family has:%s", series,
			 have[0] != '\0' ? have : " nothing");
	}
	return s->value;
}

static void prom_expect(const prom *p, const char *series, double want)
{
	double got = prom_value(p, series);

	if (got != want) {
		fail_msg("%s is %g, want %g", series, got, want);
	}
}

static void prom_expect_type(prom *p, const char *family, const char *type)
{
	const prom_family *f = prom_family_of(p, family, false);

	if (f == NULL) {
		fail_msg("no HELP/TYPE for %s in /metrics", family);
	}
	if (strcmp(f->type, type) != 0) {
		fail_msg("%s is a %s, want a %s", family, f->type, type);
	}
}

/* How many samples of the family name there are. */
static size_t prom_count(const prom *p, const char *name)
{
	const prom_sample *s = NULL;

	return prom_match(p, name, false, &s);
}

/* ---- configuration and the admin listener ---- */

/*
 * The proxy block of these tests: one plain listener (kept while a proxy
 * runs, so a rewritten config can reuse the block), the admin listener on
 * *admin unless admin is NULL (see ph_admin_listener), and key set to value
 * (stolen) unless key is NULL.
 */
static json_t *ops_block(ph_env *e, unsigned *admin, const char *key, json_t *value)
{
	json_t *p = ph_proxy_block(e, false, false, NULL);

	if (admin != NULL) {
		ph_admin_listener(e, p, admin);
	}
	if (key != NULL) {
		json_object_set_new(p, key, value);
	}
	return p;
}

/* GET /metrics from the admin listener, parsed; held (let_go it). */
static prom *fetch_metrics(ph_env *e, unsigned admin)
{
	ph_resp *r = &e->resp;
	prom *p = prom_new();

	ph_http_get(admin, "/metrics", r);
	ph_expect_status(r, 200);
	assert_true(r->complete);
	ph_expect_field(r->head, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	prom_parse(r->body, p);
	ph_resp_free(r);
	return p;
}

/* The value of series in a fresh /metrics. */
static double metric_now(ph_env *e, unsigned admin, const char *series)
{
	prom *p = fetch_metrics(e, admin);
	double v = prom_value(p, series);
	let_go(p);
	return v;
}

/* Polls /metrics up to timeout_ms until series has the value want; fails the test otherwise. */
static void wait_metric(ph_env *e, unsigned admin, const char *series, double want, int timeout_ms)
{
	uint64_t until = ph_now_ms() + (uint64_t)timeout_ms;
	double got;

	for (;;) {
		got = metric_now(e, admin, series);
		if (got == want || ph_now_ms() > until) {
			break;
		}
		usleep(50000);
	}
	if (got != want) {
		fail_msg("%s is %g after %d ms, want %g", series, got, timeout_ms, want);
	}
}

/*
 * A worker counts a response right after writing it, so a viewer can read it
 * a moment before it is counted: waits up to 2 s for the sum of
 * originaudit_proxy_requests_total to reach total.
 */
static void settle_requests(ph_env *e, unsigned admin, double total)
{
	uint64_t until = ph_now_ms() + 2000;
	double sum;

	for (;;) {
		prom *p = fetch_metrics(e, admin);

		sum = 0;
		for (size_t i = 0; i < p->n_samples; i++) {
			if (strcmp(p->samples[i].name, "originaudit_proxy_requests_total") == 0) {
				sum += p->samples[i].value;
			}
		}
		let_go(p);
		if (sum >= total || ph_now_ms() > until) {
			break;
		}
		usleep(20000);
	}
	if (sum != total) {
		fail_msg("originaudit_proxy_requests_total sums to %g, want %g", sum, total);
	}
}

/* The length of the proxy's log now: ph_wait_log from here sees only what comes after. */
static size_t log_mark(const ph_env *e)
{
	char *log = ph_read_log(e);
	size_t n = strlen(log);

	free(log);
	return n;
}

/*
 * Like ph_start_proxy, for a configuration whose proxy runs no audit at start
 * (ph_start_proxy waits for one): waits for the supervisor's "ready" line.
 */
static void start_proxy_ready(ph_env *e, json_t *doc, unsigned workers)
{
	char ready[64];

	ph_spawn_proxy(e, doc);
	snprintf(ready, sizeof(ready), "ready: %u worker(s)", workers);
	if (ph_wait_log(e, 0, ready, 10000) < 0) {
		fail_msg("the proxy did not log \"%s\"", ready);
	}
}

/* Starts the proxy (ops_block) in front of one plain echo origin called "plain". */
static void start_plain(ph_env *e, unsigned *admin, const char *key, json_t *value)
{
	ph_eo *o = ph_plain_origin(e, "plain", PH_EO_ECHO);

	ph_start_http(e, o, ops_block(e, admin, key, value));
}

/* The origins "good" and "bad" of ph_good_bad_config, owned by the test's ph_env. */
typedef struct good_bad {
	ph_eo *good;
	ph_eo *bad;
} good_bad;

/* Starts the proxy (ops_block) in front of the origins "good" and "bad" (ph_good_bad_config). */
static good_bad start_good_bad(ph_env *e, unsigned *admin, const char *key, json_t *value)
{
	good_bad o;

	o.good = ph_good_origin(e, "good");
	o.bad = ph_bad_origin(e);
	ph_start_proxy(e, ph_good_bad_config(o.good, o.bad, ops_block(e, admin, key, value)));
	return o;
}

/* ---- viewer connections kept open ---- */

/* A keep-alive GET on c: 200. */
static void vc_get_ok(ph_env *e, ph_vc *c, const char *target)
{
	ph_resp *r = &e->resp;
	char req[128];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", target);
	ph_vc_sends(c, req);
	if (ph_vc_response(c, false, false, r) < 0) {
		fail_msg("no response to %s on an open connection", target);
	}
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "Connection", "keep-alive");
	ph_resp_free(r);
}

/* A new viewer connection carrying GET target, which the echo origin answers after delay_ms. */
static ph_vc *send_delayed(ph_env *e, const char *target, int delay_ms)
{
	ph_vc *c = ph_vc_open(e->port, false);
	char req[256];

	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: " PH_WWW "\r\nX-Echo-Delay-Ms: %d\r\n\r\n", target,
		 delay_ms);
	ph_vc_sends(c, req);
	return c;
}

/* ---- 1. /metrics after known traffic ---- */

static void test_metrics_after_traffic(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	prom *p;
	char series[256];

	time_t before = time(NULL);
	good_bad o = start_good_bad(e, &admin, NULL, NULL);
	for (int i = 0; i < 3; i++) {
		ph_get(e, false, "/ok", r);
		ph_expect_status(r, 200);
		ph_expect_field(r->head, "X-Origin-Name", "good");
		ph_resp_free(r);
	}
	for (int i = 0; i < 2; i++) {
		ph_get(e, false, "/bad/x", r);
		ph_expect_status(r, 502);
		ph_resp_free(r);
	}
	ph_exchange(e->port, false, MALFORMED, false, r);
	ph_expect_status(r, 400);
	ph_resp_free(r);
	assert_int_equal(ph_eo_counts(o.bad).requests, 0);

	settle_requests(e, admin, 6);
	p = fetch_metrics(e, admin);
	time_t after = time(NULL);
	prom_expect_type(p, "originaudit_proxy_requests_total", "counter");
	prom_expect_type(p, "originaudit_proxy_origin_failures_total", "counter");
	prom_expect_type(p, "originaudit_proxy_workers", "gauge");
	prom_expect_type(p, "originaudit_proxy_audits_total", "counter");
	prom_expect_type(p, "originaudit_proxy_audit_origin_verdict", "gauge");
	prom_expect_type(p, "originaudit_cert_not_after_seconds", "gauge");
	prom_expect_type(p, "originaudit_proxy_build_info", "gauge");
	prom_expect(p, "originaudit_proxy_requests_total{origin=\"good\",status=\"200\"}", 3);
	prom_expect(p, "originaudit_proxy_requests_total{origin=\"bad\",status=\"502\"}", 2);
	prom_expect(p, "originaudit_proxy_requests_total{origin=\"-\",status=\"400\"}", 1);
	/* Nothing else was answered. */
	assert_int_equal(prom_count(p, "originaudit_proxy_requests_total"), 3);
	prom_expect(p,
		    "originaudit_proxy_origin_failures_total{origin=\"bad\",reason=\"missing_"
		    "intermediate\"}",
		    2);
	assert_int_equal(prom_count(p, "originaudit_proxy_origin_failures_total"), 1);
	prom_expect(p, "originaudit_proxy_workers", 1);
	prom_expect(p, "originaudit_proxy_worker_restarts_total", 0);
	prom_expect(p, "originaudit_proxy_connections_refused_total", 0);
	prom_expect(p, "originaudit_proxy_audit_origin_verdict{origin=\"good\"}", 0);
	prom_expect(p, "originaudit_proxy_audit_origin_verdict{origin=\"bad\"}", 2);
	assert_int_equal(prom_count(p, "originaudit_proxy_audit_origin_verdict"), 2);
	if (prom_value(p, "originaudit_proxy_audits_total") < 1) {
		fail_msg("originaudit_proxy_audits_total is %g after the start audit",
			 prom_value(p, "originaudit_proxy_audits_total"));
	}

	/* The good leaf's notAfter is the earliest on its path (90 days; the CAs live longer). */
	gnutls_x509_crt_t crt;
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	int rc = gnutls_x509_crt_import(crt, oa_pki_cert_der(e->pki.leaf), GNUTLS_X509_FMT_DER);
	time_t not_after = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	assert_int_equal(rc, 0);
	/*
	 * Issued at setup for 90 days: 90 whole days left within the second of
	 * issue, 89 after. The audit ran between these two instants.
	 */
	long long most = ((long long)not_after - (long long)before) / 86400;
	long long least = ((long long)not_after - (long long)after) / 86400;
	assert_true(least >= 89 && most <= 90);

	const prom_sample *s = NULL;
	if (prom_match(p, "originaudit_probe_earliest_not_after_seconds{origin=\"good\"}", false,
		       &s) != 1) {
		fail_msg(
		    "want one originaudit_probe_earliest_not_after_seconds sample of origin good");
	}
	assert_int_equal(s->n_labels, 4);
	assert_string_equal(prom_label_of(s, "address"), "127.0.0.1");
	snprintf(series, sizeof(series), "%u", ph_eo_port(o.good));
	assert_string_equal(prom_label_of(s, "port"), series);
	assert_string_equal(prom_label_of(s, "sni"), PH_HOST);
	assert_true(s->value == (double)not_after);
	assert_true(least >= 89 && most <= 90);
	if (prom_match(p, "originaudit_cert_not_after_seconds{origin=\"good\",position=\"0\"}",
		       false, &s) != 1) {
		fail_msg("want one originaudit_cert_not_after_seconds sample of good's leaf");
	}
	assert_int_equal(s->n_labels, 9);
	assert_string_equal(prom_label_of(s, "subject_cn"), PH_HOST);
	assert_true(s->value == (double)not_after);
	snprintf(
	    series, sizeof(series),
	    "originaudit_probe_earliest_not_after_seconds{origin=\"good\",address=\"127.0.0.1\","
	    "port=\"%u\",sni=\"" PH_HOST "\"}",
	    ph_eo_port(o.good));
	prom_expect(p, series, (double)not_after);
	let_go(p);
	ph_finish(e);
}

/* ---- 2. the admin endpoints ---- */

/* The verdict of origin id in an /origins document. */
static const char *origin_verdict(json_t *doc, const char *id)
{
	json_t *origins = json_object_get(doc, "origins");
	size_t i;
	json_t *o;

	assert_true(json_is_array(origins));
	json_array_foreach(origins, i, o)
	{
		if (json_is_string(json_object_get(o, "id")) &&
		    strcmp(json_string_value(json_object_get(o, "id")), id) == 0) {
			return json_string_value(json_object_get(o, "verdict"));
		}
	}
	fail_msg("origin %s is not in /origins", id);
	return NULL;
}

/* GET /origins from the admin listener: status, and a JSON document, held (let_go it). */
static json_t *fetch_origins(ph_env *e, unsigned admin, int status)
{
	ph_resp *r = &e->resp;
	json_error_t jerr;

	ph_http_get(admin, "/origins", r);
	ph_expect_status(r, status);
	ph_expect_field(r->head, "Content-Type", "application/json");
	json_t *doc = json_loads(r->body, 0, &jerr);
	if (doc == NULL) {
		fail_msg("/origins (status %d) is not JSON (%s):\n%s", status, jerr.text, r->body);
	}
	hold_json(doc);
	ph_resp_free(r);
	return doc;
}

static void test_admin_endpoints(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;

	start_good_bad(e, &admin, NULL, NULL);
	ph_http_get(admin, "/healthz", r);
	ph_expect_status(r, 200);
	assert_string_equal(r->body, "ok\n");
	ph_resp_free(r);

	json_t *doc = fetch_origins(e, admin, 200);
	assert_true(json_is_integer(json_object_get(doc, "schema")));
	assert_int_equal(json_integer_value(json_object_get(doc, "schema")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "origins")), 2);
	const char *v = origin_verdict(doc, "good");
	assert_non_null(v);
	assert_string_equal(v, "pass");
	v = origin_verdict(doc, "bad");
	assert_non_null(v);
	assert_string_equal(v, "fail");
	let_go(doc);

	ph_http_get(admin, "/nothing-here", r);
	ph_expect_status(r, 404);
	ph_resp_free(r);
	ph_http_request(admin, "POST", "/metrics", r);
	ph_expect_status(r, 405);
	ph_resp_free(r);
	/* The query is not part of the path. */
	ph_http_get(admin, "/healthz?verbose=1", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);

	/* Hostile input: a clear status, the connection closed, the listener still serving. */
	static const char *const bad[] = {
	    "\x16\x03\x01 not http\r\n\r\n",
	    "GET /metrics HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ph_vc *c = ph_vc_open(admin, false);

		ph_vc_sends(c, bad[i]);
		assert_int_equal(ph_vc_response(c, false, false, r), 0);
		ph_expect_status(r, 400);
		assert_true(ph_vc_closed_by_peer(c, 3000));
		ph_resp_free(r);
		ph_vc_close(c);
	}
	char long_target[2100];
	memset(long_target, 'a', sizeof(long_target) - 1);
	long_target[0] = '/';
	long_target[sizeof(long_target) - 1] = '\0';
	ph_http_get(admin, long_target, r);
	ph_expect_status(r, 414);
	ph_resp_free(r);
	ph_http_get(admin, "/healthz", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);
	ph_finish(e);
}

/* With "audit_interval_s": 0 no audit ever runs: /origins has nothing to show. */
static void test_admin_without_audit(void **state)
{
	ph_env *e = *state;
	ph_eo *good = ph_good_origin(e, "good");
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	prom *p;

	start_proxy_ready(
	    e,
	    ph_single_config(ph_origin_json("good", ph_eo_port(good), 0, "https-only"),
			     ops_block(e, &admin, "audit_interval_s", json_integer(0))),
	    1);
	json_t *doc = fetch_origins(e, admin, 503);
	assert_string_equal(json_string_value(json_object_get(doc, "error")), "no audit yet");
	let_go(doc);
	ph_http_get(admin, "/healthz", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);
	p = fetch_metrics(e, admin);
	prom_expect(p, "originaudit_proxy_audits_total", 0);
	assert_int_equal(prom_count(p, "originaudit_proxy_audit_origin_verdict"), 0);
	assert_int_equal(prom_count(p, "originaudit_cert_not_after_seconds"), 0);
	let_go(p);
	/* The origin was never probed: the proxy's only contact with it is this request. */
	ph_get(e, false, "/x", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);
	assert_int_equal(ph_eo_counts(good).handshakes, 1);
	ph_finish(e);
}

/* ---- 3. reload under load ---- */

/* A background viewer sending requests until told to stop, counting what went wrong. */
typedef struct load {
	unsigned port;
	pthread_t thread;
	atomic_bool stop;
	atomic_ulong ok;
	atomic_ulong bad_status;
	atomic_ulong conn_errors;
	/* The first failure, written once by the thread before it counts it. */
	char first_error[256];
	atomic_bool have_error;
	/* The thread runs and is not joined yet (the test's thread only). */
	bool running;
} load;

static void load_error(load *l, atomic_ulong *counter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void load_error(load *l, atomic_ulong *counter, const char *fmt, ...)
{
	if (!atomic_load(&l->have_error)) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(l->first_error, sizeof(l->first_error), fmt, ap);
		va_end(ap);
		atomic_store(&l->have_error, true);
	}
	atomic_fetch_add(counter, 1);
}

/*
 * One GET on fd and its response (Content-Length framed): the status, or -1
 * when the connection broke. *close_after: the proxy said Connection: close.
 */
static int load_exchange(int fd, const char *target, bool *close_after)
{
	char req[256];
	char buf[16384];
	size_t have = 0;
	char *end = NULL;
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", target);

	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		return -1;
	}
	while (end == NULL) {
		ssize_t got = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);

		if (got <= 0) {
			return -1;
		}
		have += (size_t)got;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end == NULL && have == sizeof(buf) - 1) {
			return -1;
		}
	}
	int status = 0;
	char field[64] = "";
	size_t head_len = (size_t)(end - buf) + 4;
	char *head = strndup(buf, head_len);

	if (head == NULL || sscanf(head, "HTTP/1.1 %d", &status) != 1 ||
	    !ph_head_field(head, "Content-Length", 0, field, sizeof(field))) {
		free(head);
		return -1;
	}
	unsigned long long want = strtoull(field, NULL, 10);
	*close_after = ph_head_field(head, "Connection", 0, field, sizeof(field)) &&
		       strcmp(field, "close") == 0;
	free(head);
	unsigned long long body = have - head_len;
	while (body < want) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);

		if (got <= 0) {
			return -1;
		}
		body += (unsigned long long)got;
	}
	return body == want ? status : -1;
}

/* Alternates a request on a fresh connection and five on one keep-alive connection. */
static void *load_main(void *arg)
{
	load *l = arg;
	unsigned long round = 0;

	while (!atomic_load(&l->stop)) {
		unsigned requests = round % 2 == 0 ? 1 : 5;
		int fd = ph_tcp_connect(l->port, 5000);

		round++;
		if (fd < 0) {
			load_error(l, &l->conn_errors, "connect: %s", strerror(-fd));
			usleep(10000);
			continue;
		}
		for (unsigned i = 0; i < requests && !atomic_load(&l->stop); i++) {
			char target[64];
			bool close_after = false;

			snprintf(target, sizeof(target), "%s/load-%lu-%u", i % 2 == 0 ? "" : "/new",
				 round, i);
			int status = load_exchange(fd, target, &close_after);
			if (status < 0) {
				load_error(l, &l->conn_errors,
					   "round %lu request %u (%s): connection broke", round, i,
					   target);
				break;
			}
			if (status != 200) {
				load_error(l, &l->bad_status,
					   "round %lu request %u (%s): status %d", round, i, target,
					   status);
			} else {
				atomic_fetch_add(&l->ok, 1);
			}
			if (close_after && i + 1 < requests) {
				load_error(l, &l->conn_errors,
					   "round %lu request %u (%s): Connection: close on a "
					   "keep-alive connection",
					   round, i, target);
				break;
			}
		}
		close(fd);
	}
	return NULL;
}

/* Stops the load and waits for its thread; harmless once stopped. */
static void load_stop(load *l)
{
	if (l->running) {
		atomic_store(&l->stop, true);
		pthread_join(l->thread, NULL);
		l->running = false;
	}
}

static void release_load(void *p)
{
	load_stop(p);
	free(p);
}

/* Starts the load against port; held. */
static load *load_start(unsigned port)
{
	load *l = hold(calloc(1, sizeof(load)), release_load);

	l->port = port;
	assert_int_equal(pthread_create(&l->thread, NULL, load_main, l), 0);
	l->running = true;
	return l;
}

/* Origins "first" (default) and "second"; with_new sends paths under /new/ to second. */
static json_t *reload_config(ph_env *e, ph_eo *first, ph_eo *second, bool with_new, unsigned *admin)
{
	return ph_config(
	    json_pack("[o, o]", ph_origin_json("first", 0, ph_eo_port(first), "http-only"),
		      ph_origin_json("second", 0, ph_eo_port(second), "http-only")),
	    with_new ? json_pack("[o]", ph_behavior("/new/*", "second", "allow-all")) : NULL,
	    "first", "allow-all", ops_block(e, admin, NULL, NULL));
}

static void test_reload_under_load(void **state)
{
	ph_env *e = *state;
	ph_eo *first = ph_plain_origin(e, "first", PH_EO_ECHO);
	ph_eo *second = ph_plain_origin(e, "second", PH_EO_ECHO);
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	prom *p;

	ph_start_proxy(e, reload_config(e, first, second, false, &admin));
	ph_expect_origin(e, false, "/new/x", "first");
	load *l = load_start(e->port);
	usleep(300000);

	/* A request in flight on the old route of /new/. */
	ph_vc *slow = send_delayed(e, "/new/slow", 1000);
	usleep(200000);

	size_t mark = log_mark(e);
	ph_rewrite_config(e, reload_config(e, first, second, true, &admin));
	ph_signal(e, SIGHUP);
	if (ph_wait_log(e, mark, "worker 0: reloaded", 5000) < 0) {
		fail_msg("no \"worker 0: reloaded\" within 5 s of SIGHUP");
	}
	assert_true(ph_wait_log(e, mark, "reload: ", 0) >= 0);
	ph_expect_origin(e, false, "/new/x", "second");
	ph_expect_origin(e, false, "/other", "first");
	/* The request that started before the reload finishes with the route it started with. */
	if (ph_vc_response(slow, false, false, r) < 0) {
		fail_msg("the request in flight during the reload got no response");
	}
	ph_expect_status(r, 200);
	assert_true(r->complete);
	ph_expect_field(r->head, "X-Origin-Name", "first");
	assert_true(ph_starts_with(r->body, "GET /new/slow HTTP/1.1\r\n"));
	ph_resp_free(r);
	ph_vc_close(slow);

	/* An invalid file is refused: the running configuration stays. */
	mark = log_mark(e);
	ph_rewrite_config_text(e, "{\"origins\": [ this is not JSON\n");
	ph_signal(e, SIGHUP);
	if (ph_wait_log(e, mark, "reload refused", 5000) < 0) {
		fail_msg("no \"reload refused\" within 5 s of SIGHUP with an invalid config");
	}
	usleep(200000);
	ph_expect_origin(e, false, "/new/x", "second");
	ph_expect_origin(e, false, "/other", "first");
	char *log = hold(ph_read_log(e), free);
	assert_null(strstr(log + mark, "reloaded"));
	let_go(log);

	usleep(300000);
	load_stop(l);
	unsigned long ok = atomic_load(&l->ok);
	unsigned long bad = atomic_load(&l->bad_status);
	unsigned long broken = atomic_load(&l->conn_errors);
	if (bad != 0 || broken != 0) {
		fail_msg("under load: %lu answered 200, %lu other statuses, %lu connection "
			 "errors; first: %s",
			 ok, bad, broken, l->first_error);
	}
	/* The load really ran across both reloads. */
	if (ok < 20) {
		fail_msg("only %lu requests of the load were answered", ok);
	}
	let_go(l);

	p = fetch_metrics(e, admin);
	prom_expect(p, "originaudit_proxy_reloads_total{result=\"ok\"}", 1);
	prom_expect(p, "originaudit_proxy_reloads_total{result=\"error\"}", 1);
	prom_expect(p, "originaudit_proxy_worker_restarts_total", 0);
	let_go(p);
	ph_finish(e);
}

/* ---- 4. graceful shutdown ---- */

static void expect_clean_exit(ph_env *e)
{
	assert_true(e->proxy_reaped);
	if (!WIFEXITED(e->proxy_status) || WEXITSTATUS(e->proxy_status) != 0) {
		fail_msg("the proxy ended with wait status 0x%x, want exit 0", e->proxy_status);
	}
}

/*
 * Sends GET /slow, answered after delay_ms, on a new viewer connection
 * (returned) and SIGTERM 300 ms later, at *t0.
 */
static ph_vc *sigterm_in_flight(ph_env *e, int delay_ms, uint64_t *t0)
{
	ph_vc *busy = send_delayed(e, "/slow", delay_ms);

	usleep(300000);
	*t0 = ph_now_ms();
	ph_signal(e, SIGTERM);
	return busy;
}

static void test_graceful_shutdown(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;

	start_plain(e, NULL, NULL, NULL);
	/* An idle keep-alive viewer: one response, then nothing. */
	ph_vc *idle = ph_vc_open(e->port, false);
	vc_get_ok(e, idle, "/first");

	uint64_t t0;
	ph_vc *busy = sigterm_in_flight(e, 1500, &t0);

	/* The idle connection is closed at once, not after the 60 s idle timeout. */
	if (!ph_vc_closed_by_peer(idle, 1000)) {
		fail_msg("the idle keep-alive connection is still open 1 s after SIGTERM");
	}
	uint64_t idle_ms = ph_now_ms() - t0;
	if (idle_ms > 500) {
		fail_msg("the idle connection closed %llu ms after SIGTERM, want promptly",
			 (unsigned long long)idle_ms);
	}
	ph_vc_close(idle);
	/* The listeners are closed: a new connection is refused. */
	int fd = ph_tcp_connect(e->port, 2000);
	if (fd >= 0) {
		close(fd);
		fail_msg("a new connection after SIGTERM was accepted");
	}
	assert_int_equal(fd, -ECONNREFUSED);

	/* The request in flight completes, and the connection ends with it. */
	if (ph_vc_response(busy, false, false, r) < 0) {
		fail_msg("the request in flight at SIGTERM got no response");
	}
	uint64_t answered_ms = ph_now_ms() - t0;
	ph_expect_status(r, 200);
	assert_true(r->complete);
	ph_expect_field(r->head, "Connection", "close");
	ph_expect_field(r->head, "X-Origin-Name", "plain");
	assert_true(ph_starts_with(r->body, "GET /slow HTTP/1.1\r\n"));
	ph_resp_free(r);
	assert_true(ph_vc_closed_by_peer(busy, 2000));
	ph_vc_close(busy);
	/* 1500 ms after the request, which came 300 ms before SIGTERM. */
	if (answered_ms < 900) {
		fail_msg("the delayed response came %llu ms after SIGTERM",
			 (unsigned long long)answered_ms);
	}
	if (!ph_wait_exit(e, 5000)) {
		fail_msg("the proxy did not exit within 5 s of its last response");
	}
	expect_clean_exit(e);
	ph_finish(e);
}

/* A request longer than drain_timeout_s is cut: the proxy exits within about that. */
static void test_drain_timeout(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;

	start_plain(e, NULL, "drain_timeout_s", json_integer(1));
	uint64_t t0;
	ph_vc *busy = sigterm_in_flight(e, 5000, &t0);
	if (!ph_wait_exit(e, 4000)) {
		fail_msg("the proxy did not exit within 4 s of SIGTERM with drain_timeout_s 1");
	}
	uint64_t took = ph_now_ms() - t0;
	if (took < 900 || took > 3000) {
		fail_msg("the proxy exited %llu ms after SIGTERM, want about 1000",
			 (unsigned long long)took);
	}
	expect_clean_exit(e);
	/* The viewer's connection was closed with no response at all. */
	if (ph_vc_response(busy, false, false, r) == 0) {
		fail_msg("a response came after the drain timeout:\n%s", r->head);
	}
	ph_vc_close(busy);
	ph_finish(e);
}

/* ---- 5. a worker killed and replaced ---- */

/* The pid in the latest "worker N started (pid P)" at or after from; 0 when there is none. */
static int started_pid(const ph_env *e, size_t from, unsigned index)
{
	char needle[64];
	char *log = ph_read_log(e);
	int pid = 0;

	snprintf(needle, sizeof(needle), "worker %u started (pid ", index);
	for (const char *p = strlen(log) > from ? strstr(log + from, needle) : NULL; p != NULL;
	     p = strstr(p + 1, needle)) {
		pid = atoi(p + strlen(needle));
	}
	free(log);
	return pid;
}

static void test_worker_restart(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	char needle[128];
	prom *p;

	start_plain(e, &admin, "workers", json_integer(2));
	assert_true(ph_wait_log(e, 0, "ready: 2 worker(s)", 10000) >= 0);
	int pid0 = started_pid(e, 0, 0);
	int pid1 = started_pid(e, 0, 1);
	assert_true(pid0 > 0);
	assert_true(pid1 > 0);
	assert_true(pid0 != pid1);
	/* One worker dies without warning. */
	size_t mark = log_mark(e);
	assert_int_equal(kill(pid1, SIGKILL), 0);
	snprintf(needle, sizeof(needle), "worker 1 (pid %d) exited with signal %d; restarting",
		 pid1, SIGKILL);
	if (ph_wait_log(e, mark, needle, 5000) < 0) {
		fail_msg("no \"%s\" within 5 s", needle);
	}
	/* The other worker serves meanwhile, and then both do. */
	for (int i = 0; i < 10; i++) {
		ph_get(e, false, "/during", r);
		ph_expect_status(r, 200);
		ph_resp_free(r);
	}
	long at = ph_wait_log(e, mark, "worker 1 started (pid ", 5000);
	if (at < 0) {
		fail_msg("worker 1 was not started again within 5 s of its death");
	}
	int again = started_pid(e, mark, 1);
	assert_true(again > 0);
	assert_true(again != pid1);
	assert_true(again != pid0);
	/* The survivor was left alone. */
	assert_int_equal(started_pid(e, mark, 0), 0);
	assert_int_equal(kill(pid0, 0), 0);
	for (int i = 0; i < 10; i++) {
		ph_get(e, false, "/after", r);
		ph_expect_status(r, 200);
		ph_resp_free(r);
	}
	wait_metric(e, admin, "originaudit_proxy_workers", 2, 3000);
	settle_requests(e, admin, 20);
	p = fetch_metrics(e, admin);
	prom_expect(p, "originaudit_proxy_worker_restarts_total", 1);
	prom_expect(p, "originaudit_proxy_workers", 2);
	prom_expect(p, "originaudit_proxy_requests_total{origin=\"o\",status=\"200\"}", 20);
	let_go(p);
	ph_http_get(admin, "/healthz", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);
	ph_finish(e);
}

/*
 * A worker started after the file was edited (without SIGHUP) runs the
 * configuration the supervisor validated, not the edited file: a broken edit
 * cannot take a restarted worker down.
 */
static void test_worker_restart_keeps_validated_config(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;

	start_plain(e, &admin, "workers", json_integer(1));
	assert_true(ph_wait_log(e, 0, "ready: 1 worker(s)", 10000) >= 0);
	int pid = started_pid(e, 0, 0);
	assert_true(pid > 0);
	ph_rewrite_config_text(e, "{\"origins\": [ broken");
	size_t mark = log_mark(e);
	assert_int_equal(kill(pid, SIGKILL), 0);
	if (ph_wait_log(e, mark, "worker 0 started (pid ", 5000) < 0) {
		fail_msg("worker 0 was not started again within 5 s of its death");
	}
	/* It listens (a worker given the broken file would exit before this line). */
	if (ph_wait_log(e, mark, "listening on ", 10000) < 0) {
		ph_print_log(e);
		fail_msg("the restarted worker did not listen within 10 s");
	}
	/* It serves: it was not handed the broken file. */
	for (int i = 0; i < 200; i++) {
		ph_get(e, false, "/after", r);
		if (r->status == 200) {
			break;
		}
		ph_resp_free(r);
		usleep(20000);
	}
	ph_expect_status(r, 200);
	ph_resp_free(r);
	char *log = ph_read_log(e);
	bool refused =
	    strstr(log + mark, "worker 0: ") != NULL && strstr(log + mark, "broken") != NULL;
	free(log);
	assert_false(refused);
	ph_finish(e);
}

/* ---- 6. the access log ---- */

/* The lines of path (newline-terminated), each parsed as a JSON object; fails on anything else. */
static size_t read_access_log(const char *path, json_t **lines, size_t max)
{
	char *text = hold(ph_slurp(path), free);
	size_t n = 0;
	char *line = text;

	while (*line != '\0') {
		char *eol = strchr(line, '\n');
		json_error_t jerr;

		if (eol == NULL) {
			fail_msg("%s: a line without its newline: %s", path, line);
		}
		*eol = '\0';
		if (n == max) {
			fail_msg("%s: more than %zu lines", path, max);
		}
		lines[n] = json_loads(line, 0, &jerr);
		if (lines[n] == NULL) {
			fail_msg("%s: line %zu is not JSON (%s): %s", path, n + 1, jerr.text, line);
		}
		hold_json(lines[n]);
		if (!json_is_object(lines[n])) {
			fail_msg("%s: line %zu is not a JSON object: %s", path, n + 1, line);
		}
		n++;
		line = eol + 1;
	}
	let_go(text);
	return n;
}

/* Waits up to timeout_ms for path to have at least n lines; the line count then. */
static size_t wait_lines(const char *path, size_t n, int timeout_ms)
{
	uint64_t until = ph_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		char *text = ph_slurp(path);
		size_t have = ph_count_lines(text);

		free(text);
		if (have >= n || ph_now_ms() > until) {
			return have;
		}
		usleep(20000);
	}
}

/* The line as text for a failure message; held. */
static const char *line_text(json_t *line)
{
	return hold(json_dumps(line, JSON_PRESERVE_ORDER), free);
}

static void expect_str(json_t *line, const char *key, const char *want)
{
	json_t *v = json_object_get(line, key);

	if (want == NULL) {
		if (!json_is_null(v)) {
			fail_msg("\"%s\" should be null in %s", key, line_text(line));
		}
	} else if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0) {
		fail_msg("\"%s\" should be \"%s\" in %s", key, want, line_text(line));
	}
}

static void expect_int(json_t *line, const char *key, long long want)
{
	json_t *v = json_object_get(line, key);

	if (!json_is_integer(v) || json_integer_value(v) != want) {
		fail_msg("\"%s\" should be %lld in %s", key, want, line_text(line));
	}
}

/* What every access log line has: exactly the documented fields, well typed. */
static void expect_access_shape(json_t *line)
{
	static const char *const keys[] = {
	    "time",	 "client", "method",  "host",	"path",	       "status",    "bytes_in",
	    "bytes_out", "origin", "x_cache", "reason", "duration_ms", "request_id"};
	const char *t = json_string_value(json_object_get(line, "time"));
	int y, mo, d, h, mi, sec, ms;
	char z = 0;
	int used = 0;

	if (json_object_size(line) != sizeof(keys) / sizeof(keys[0])) {
		fail_msg("%zu fields, want %zu: %s", json_object_size(line),
			 sizeof(keys) / sizeof(keys[0]), line_text(line));
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (json_object_get(line, keys[i]) == NULL) {
			fail_msg("no \"%s\" in %s", keys[i], line_text(line));
		}
	}
	if (t == NULL ||
	    sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%n", &y, &mo, &d, &h, &mi, &sec, &ms, &z,
		   &used) != 8 ||
	    z != 'Z' || (size_t)used != strlen(t) || strlen(t) != 24) {
		fail_msg("\"time\" is not YYYY-MM-DDTHH:MM:SS.mmmZ in %s", line_text(line));
	}
	expect_str(line, "client", "127.0.0.1");
	json_t *dur = json_object_get(line, "duration_ms");
	if (!json_is_integer(dur) || json_integer_value(dur) < 0 ||
	    json_integer_value(dur) > 10000) {
		fail_msg("bad \"duration_ms\" in %s", line_text(line));
	}
}

/* A request of test_access_log and what its access log line must say (NULL: a JSON null). */
struct access_case {
	const char *req;
	/* The fields in the order of the line. */
	const char *method;
	const char *host;
	const char *path;
	int status;
	const char *origin;
	const char *x_cache;
	const char *reason;
};

static const struct access_case access_cases[] = {
    {"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", "GET", PH_WWW, "/a/b?x=1&y=2", 200,
     "good", "Miss", NULL},
    {"GET /bad/x HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n", "GET", PH_WWW, "/bad/x", 502, "bad",
     "Error", "missing_intermediate"},
    /* Refused before the request line was understood: nothing of it is known. */
    {MALFORMED, NULL, NULL, NULL, 400, NULL, "Error", "malformed_request"},
};

/* Asserts line is the access log line of c, whose response took bytes_out bytes. */
static void expect_access(json_t *line, const struct access_case *c, unsigned long long bytes_out)
{
	expect_access_shape(line);
	expect_str(line, "method", c->method);
	expect_str(line, "host", c->host);
	expect_str(line, "path", c->path);
	expect_int(line, "status", c->status);
	expect_int(line, "bytes_in", (long long)strlen(c->req));
	expect_int(line, "bytes_out", (long long)bytes_out);
	expect_str(line, "origin", c->origin);
	expect_str(line, "x_cache", c->x_cache);
	expect_str(line, "reason", c->reason);
}

static void test_access_log(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	char *path = hold(fx_path(e->dir, "access.log"), free);
	char *rotated = hold(fx_path(e->dir, "access.log.1"), free);
	unsigned long long out[3];
	json_t *lines[8];

	start_good_bad(e, NULL, "access_log", json_string(path));
	for (size_t i = 0; i < 3; i++) {
		ph_exchange(e->port, false, access_cases[i].req, false, r);
		ph_expect_status(r, access_cases[i].status);
		out[i] = strlen(r->head) + r->body_len;
		ph_resp_free(r);
	}

	assert_int_equal(wait_lines(path, 3, 2000), 3);
	usleep(100000);
	assert_int_equal(read_access_log(path, lines, 8), 3);
	for (size_t i = 0; i < 3; i++) {
		expect_access(lines[i], &access_cases[i], out[i]);
	}
	json_t *id = json_object_get(lines[0], "request_id");
	assert_true(json_is_string(id) && json_string_length(id) > 0);
	json_t *id2 = json_object_get(lines[1], "request_id");
	assert_true(json_is_string(id2) && json_string_length(id2) > 0);
	assert_string_not_equal(json_string_value(id), json_string_value(id2));
	for (size_t i = 0; i < 3; i++) {
		let_go(lines[i]);
	}

	/* Rotation: the file is moved away, SIGUSR1 makes the proxy open a new one. */
	assert_int_equal(rename(path, rotated), 0);
	ph_signal(e, SIGUSR1);
	usleep(300000);
	ph_get(e, false, "/after-rotation", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);
	assert_int_equal(wait_lines(path, 1, 2000), 1);
	usleep(100000);
	assert_int_equal(read_access_log(path, lines, 8), 1);
	expect_str(lines[0], "path", "/after-rotation");
	expect_int(lines[0], "status", 200);
	let_go(lines[0]);
	char *old = hold(ph_slurp(rotated), free);
	assert_int_equal(ph_count_lines(old), 3);
	let_go(old);
	let_go(path);
	let_go(rotated);
	ph_finish(e);
}

/* "access_log": "-" writes the lines to standard output. */
static void test_access_log_stdout(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	json_t *lines[8];

	start_plain(e, NULL, "access_log", json_string("-"));
	ph_get(e, false, "/one", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);
	ph_exchange(e->port, false, MALFORMED, false, r);
	ph_expect_status(r, 400);
	ph_resp_free(r);
	assert_int_equal(wait_lines(e->out_log, 2, 2000), 2);
	usleep(100000);
	assert_int_equal(read_access_log(e->out_log, lines, 8), 2);
	expect_access_shape(lines[0]);
	expect_access_shape(lines[1]);
	expect_str(lines[0], "path", "/one");
	expect_int(lines[0], "status", 200);
	expect_str(lines[0], "origin", "o");
	expect_int(lines[1], "status", 400);
	expect_str(lines[1], "reason", "malformed_request");
	let_go(lines[0]);
	let_go(lines[1]);
	/* Not into the log on stderr. */
	char *log = hold(ph_read_log(e), free);
	assert_null(strstr(log, "\"x_cache\""));
	let_go(log);
	ph_finish(e);
}

/* ---- 7. max_connections ---- */

static void test_max_connections(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	char byte;
	prom *p;

	start_plain(e, &admin, "max_connections", json_integer(2));
	/*
	 * Two viewers, idle after one response each (a connection that never
	 * sends a byte would meet the 500 ms header timeout instead).
	 */
	ph_vc *a = ph_vc_open(e->port, false);
	vc_get_ok(e, a, "/a1");
	ph_vc *b = ph_vc_open(e->port, false);
	vc_get_ok(e, b, "/b1");

	/* The third is closed at once, without a response. */
	int fd = ph_tcp_connect(e->port, 2000);
	assert_true(fd >= 0);
	uint64_t t0 = ph_now_ms();
	ssize_t n = recv(fd, &byte, 1, 0);
	int err = n < 0 ? errno : 0;
	uint64_t waited = ph_now_ms() - t0;
	close(fd);
	if (n > 0 || (n < 0 && err != ECONNRESET)) {
		fail_msg("the connection beyond max_connections: recv %zd (%s) after %llu ms, want "
			 "EOF or a reset at once",
			 n, n < 0 ? strerror(err) : "a byte", (unsigned long long)waited);
	}
	if (waited > 1000) {
		fail_msg("the connection beyond max_connections was closed after %llu ms",
			 (unsigned long long)waited);
	}
	/* The two open ones are untouched. */
	vc_get_ok(e, a, "/a2");
	vc_get_ok(e, b, "/b2");
	p = fetch_metrics(e, admin);
	prom_expect(p, "originaudit_proxy_connections_refused_total", 1);
	prom_expect(p, "originaudit_proxy_open_connections", 2);
	let_go(p);

	/* Once one closes, there is room again. */
	ph_vc_close(a);
	wait_metric(e, admin, "originaudit_proxy_open_connections", 1, 2000);
	ph_get(e, false, "/c", r);
	ph_expect_status(r, 200);
	ph_resp_free(r);
	vc_get_ok(e, b, "/b3");
	ph_vc_close(b);
	assert_int_equal(metric_now(e, admin, "originaudit_proxy_connections_refused_total"), 1);
	ph_finish(e);
}

/* ---- 8. the idle timeout ---- */

static void test_idle_timeout(void **state)
{
	ph_env *e = *state;

	start_plain(e, NULL, "idle_timeout_s", json_integer(1));
	ph_vc *c = ph_vc_open(e->port, false);
	vc_get_ok(e, c, "/one");
	uint64_t t0 = ph_now_ms();
	if (!ph_vc_closed_by_peer(c, 5000)) {
		fail_msg("the idle keep-alive connection is still open 5 s after its response");
	}
	uint64_t waited = ph_now_ms() - t0;
	ph_vc_close(c);
	if (waited < 800 || waited > 3000) {
		fail_msg("the idle connection was closed after %llu ms, want about 1000",
			 (unsigned long long)waited);
	}
	ph_finish(e);
}

/* ---- 8. the listening sockets: one proxy per port ---- */

/* Whether the proxy's log after from contains needle. */
static bool log_has(const ph_env *e, size_t from, const char *needle)
{
	char *log = hold(ph_read_log(e), free);
	bool found = strlen(log) >= from && strstr(log + from, needle) != NULL;

	let_go(log);
	return found;
}

/*
 * A second proxy with another configuration on the port of a running one
 * does not start (exit 3, one line naming the listener) and never reaches
 * its origin; the first keeps every viewer, on its own configuration.
 */
static void test_second_proxy_same_port(void **state)
{
	ph_env *e = *state;
	ph_eo *first = ph_plain_origin(e, "first", PH_EO_ECHO);
	ph_eo *second = ph_plain_origin(e, "second", PH_EO_ECHO);
	unsigned admin = 0;
	char want[192];
	char target[32];

	ph_start_http(e, first, ops_block(e, &admin, "workers", json_integer(2)));
	assert_true(ph_wait_log(e, 0, "ready: 2 worker(s)", 10000) >= 0);
	size_t mark = log_mark(e);
	/* While a proxy runs, the block keeps its listener: the same address and port. */
	json_t *doc = ph_single_config(ph_origin_json("o", 0, ph_eo_port(second), "http-only"),
				       ops_block(e, NULL, "workers", json_integer(2)));
	char *path = hold(ph_write_config(e, doc), free);
	uint64_t t0 = ph_now_ms();
	int rc = ph_run_proxy(e, "--config", path, NULL);
	uint64_t took = ph_now_ms() - t0;
	let_go(path);
	if (rc != 3) {
		fail_msg("the second proxy exited with %d, want 3; stderr:\n%s", rc, e->err);
	}
	assert_true(took < 10000);
	snprintf(want, sizeof(want),
		 "originaudit-proxy: failed to start: listen 127.0.0.1:%u: address already in "
		 "use\n",
		 e->port);
	assert_string_equal(e->err, want);
	assert_string_equal(e->out, "");
	/* It started no worker and no audit: its origin never saw a connection. */
	assert_int_equal(ph_eo_counts(second).connections, 0);

	/* Every new viewer connection reaches the first proxy and its origin. */
	for (int i = 0; i < 40; i++) {
		snprintf(target, sizeof(target), "/first/%d", i);
		ph_expect_origin(e, false, target, "first");
	}
	assert_int_equal(ph_eo_counts(first).requests, 40);
	assert_int_equal(ph_eo_counts(second).connections, 0);
	settle_requests(e, admin, 40);
	prom *p = fetch_metrics(e, admin);
	prom_expect(p, "originaudit_proxy_requests_total{origin=\"o\",status=\"200\"}", 40);
	prom_expect(p, "originaudit_proxy_workers", 2);
	prom_expect(p, "originaudit_proxy_worker_restarts_total", 0);
	let_go(p);
	assert_false(log_has(e, mark, "exited"));
	ph_finish(e);
}

/*
 * The listening socket outlives its worker: while the only worker is dead
 * and its replacement not started yet, a new viewer connection is accepted
 * (it waits in the listen queue the supervisor keeps) and the restarted
 * worker, given the same socket, answers it.
 */
static void test_restart_keeps_listener(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	char needle[128];

	start_plain(e, &admin, "workers", json_integer(1));
	assert_true(ph_wait_log(e, 0, "ready: 1 worker(s)", 10000) >= 0);
	int pid = started_pid(e, 0, 0);
	assert_true(pid > 0);
	/* A first death is replaced at once ... */
	size_t mark = log_mark(e);
	assert_int_equal(kill(pid, SIGKILL), 0);
	if (ph_wait_log(e, mark, "worker 0 started (pid ", 5000) < 0) {
		fail_msg("worker 0 was not started again within 5 s of its death");
	}
	int again = started_pid(e, mark, 0);
	assert_true(again > 0);
	/* ... a worker that dies within a second of its start only a second later. */
	mark = log_mark(e);
	assert_int_equal(kill(again, SIGKILL), 0);
	snprintf(needle, sizeof(needle), "worker 0 (pid %d) exited with signal %d; restarting",
		 again, SIGKILL);
	if (ph_wait_log(e, mark, needle, 5000) < 0) {
		fail_msg("no \"%s\" within 5 s", needle);
	}
	uint64_t t0 = ph_now_ms();
	ph_vc *c = ph_vc_open(e->port, false);
	ph_vc_sends(c, "GET /queued HTTP/1.1\r\nHost: " PH_WWW "\r\n\r\n");
	/* Connected while no worker ran. */
	assert_false(log_has(e, mark, "worker 0 started"));
	if (ph_vc_response(c, false, false, r) < 0) {
		fail_msg("the connection made while no worker ran got no response");
	}
	uint64_t waited = ph_now_ms() - t0;
	ph_expect_status(r, 200);
	ph_expect_field(r->head, "X-Origin-Name", "plain");
	assert_true(ph_starts_with(r->body, "GET /queued HTTP/1.1\r\n"));
	ph_resp_free(r);
	ph_vc_close(c);
	assert_true(log_has(e, mark, "worker 0 started (pid "));
	if (waited < 500) {
		fail_msg("answered %llu ms after the worker died, before its 1 s restart delay",
			 (unsigned long long)waited);
	}
	wait_metric(e, admin, "originaudit_proxy_workers", 1, 3000);
	settle_requests(e, admin, 1);
	prom *p = fetch_metrics(e, admin);
	prom_expect(p, "originaudit_proxy_worker_restarts_total", 2);
	prom_expect(p, "originaudit_proxy_requests_total{origin=\"o\",status=\"200\"}", 1);
	let_go(p);
	ph_finish(e);
}

/*
 * The listeners are bound once for the life of the proxy: a reload that
 * changes them is refused as a whole, and the old listener keeps serving.
 */
static void test_reload_listener_change_refused(void **state)
{
	ph_env *e = *state;
	ph_eo *o = ph_plain_origin(e, "plain", PH_EO_ECHO);
	unsigned admin = 0;

	ph_start_http(e, o, ops_block(e, &admin, NULL, NULL));
	unsigned other = 0;
	while (other == 0 || other == e->port || other == admin) {
		other = fx_free_port("127.0.0.1");
	}
	json_t *doc = ph_single_config(ph_origin_json("o", 0, ph_eo_port(o), "http-only"),
				       ops_block(e, &admin, NULL, NULL));
	json_object_set_new(ph_listener_of(doc, 0), "port", json_integer((json_int_t)other));
	size_t mark = log_mark(e);
	ph_rewrite_config(e, doc);
	ph_signal(e, SIGHUP);
	if (ph_wait_log(e, mark,
			"reload refused: proxy.listen changed (addresses, ports and TLS change "
			"only with a restart); still serving the previous configuration",
			5000) < 0) {
		fail_msg("no refusal of the changed listener within 5 s of SIGHUP");
	}
	usleep(200000);
	assert_false(log_has(e, mark, "reloaded"));
	ph_expect_origin(e, false, "/still", "plain");
	assert_int_equal(ph_tcp_connect(other, 2000), -ECONNREFUSED);
	settle_requests(e, admin, 1);
	prom *p = fetch_metrics(e, admin);
	const prom_sample *applied = NULL;
	prom_expect(p, "originaudit_proxy_reloads_total{result=\"error\"}", 1);
	/* A counter that stayed at zero is not written. */
	assert_int_equal(
	    prom_match(p, "originaudit_proxy_reloads_total{result=\"ok\"}", true, &applied), 0);
	let_go(p);
	ph_finish(e);
}

/*
 * --check binds nothing: it validates the configuration of a running proxy
 * (systemd's ExecReload) even though that proxy holds its port.
 */
static void test_check_while_running(void **state)
{
	ph_env *e = *state;
	char want[512];

	start_plain(e, NULL, NULL, NULL);
	assert_int_equal(ph_run_proxy(e, "--check", "--config", e->config), 0);
	snprintf(want, sizeof(want), "%s: valid: 1 listener(s), 1 origin(s), 0 behavior(s)\n",
		 e->config);
	assert_string_equal(e->out, want);
	assert_string_equal(e->err, "");
	ph_expect_origin(e, false, "/after-check", "plain");
	ph_finish(e);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, ph_setup, ops_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_metrics_after_traffic),
	    T(test_admin_endpoints),
	    T(test_admin_without_audit),
	    T(test_reload_under_load),
	    T(test_graceful_shutdown),
	    T(test_drain_timeout),
	    T(test_worker_restart),
	    T(test_worker_restart_keeps_validated_config),
	    T(test_access_log),
	    T(test_access_log_stdout),
	    T(test_max_connections),
	    T(test_idle_timeout),
	    T(test_second_proxy_same_port),
	    T(test_restart_keeps_listener),
	    T(test_reload_listener_change_refused),
	    T(test_check_while_running),
	};

	return PH_RUN_TESTS(tests);
}
