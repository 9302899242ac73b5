/*
 * Tests for the proxy's shared memory metrics (proxy/metrics.h): exact
 * Prometheus output, sums over processes that attach the region through its
 * descriptor, interning and its limits, label escaping, the connection limit,
 * the robust interning lock, and the shape of the exposition.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "originaudit/version.h"

/* The certificate refusals' HELP and TYPE. */
#define HEAD_REFUSALS                                                                              \
	"# HELP originaudit_proxy_origin_certificate_refusals_total Origins refused (502) "        \
	"because "                                                                                 \
	"their certificate failed a check, by the check's reason code.\n"                          \
	"# TYPE originaudit_proxy_origin_certificate_refusals_total counter\n"

/*
 * The families after the refusals, as a fresh region writes them: HELP and
 * TYPE, and the unlabelled values in the %s.
 */
#define CACHE_TAIL                                                                                 \
	"# HELP originaudit_proxy_cache_hits_total GET/HEAD lookups answered from the cache.\n"    \
	"# TYPE originaudit_proxy_cache_hits_total counter\n"                                      \
	"originaudit_proxy_cache_hits_total %s\n"                                                  \
	"# HELP originaudit_proxy_cache_misses_total GET/HEAD lookups not answered from the "      \
	"cache.\n"                                                                                 \
	"# TYPE originaudit_proxy_cache_misses_total counter\n"                                    \
	"originaudit_proxy_cache_misses_total %s\n"                                                \
	"# HELP originaudit_proxy_cache_bytes Cached bytes, summed over workers.\n"                \
	"# TYPE originaudit_proxy_cache_bytes gauge\n"                                             \
	"originaudit_proxy_cache_bytes %s\n"                                                       \
	"# HELP originaudit_proxy_cache_objects Cached objects, summed over workers.\n"            \
	"# TYPE originaudit_proxy_cache_objects gauge\n"                                           \
	"originaudit_proxy_cache_objects %s\n"                                                     \
	"# HELP originaudit_proxy_open_connections Viewer connections open now.\n"                 \
	"# TYPE originaudit_proxy_open_connections gauge\n"                                        \
	"originaudit_proxy_open_connections %s\n"                                                  \
	"# HELP originaudit_proxy_connections_refused_total Viewer connections closed at once "    \
	"because of max_connections.\n"                                                            \
	"# TYPE originaudit_proxy_connections_refused_total counter\n"                             \
	"originaudit_proxy_connections_refused_total %s\n"                                         \
	"# HELP originaudit_proxy_workers Workers running.\n"                                      \
	"# TYPE originaudit_proxy_workers gauge\n"                                                 \
	"originaudit_proxy_workers %s\n"                                                           \
	"# HELP originaudit_proxy_worker_restarts_total Workers restarted after dying.\n"          \
	"# TYPE originaudit_proxy_worker_restarts_total counter\n"                                 \
	"originaudit_proxy_worker_restarts_total %s\n"                                             \
	"# HELP originaudit_proxy_reloads_total SIGHUP reloads.\n"                                 \
	"# TYPE originaudit_proxy_reloads_total counter\n"

#define HEAD_BUILD                                                                                 \
	"# HELP originaudit_proxy_build_info The originaudit-proxy version running: always 1.\n"   \
	"# TYPE originaudit_proxy_build_info gauge\n"                                              \
	"originaudit_proxy_build_info{version=\"%s\"} 1\n"

#define HEAD_REQUESTS                                                                              \
	"# HELP originaudit_proxy_requests_total Responses sent to viewers.\n"                     \
	"# TYPE originaudit_proxy_requests_total counter\n"

#define HEAD_FAILURES                                                                              \
	"# HELP originaudit_proxy_origin_failures_total Origin connections or exchanges that "     \
	"failed, by reason code.\n"                                                                \
	"# TYPE originaudit_proxy_origin_failures_total counter\n"

#define HEAD_AUDITS                                                                                \
	"# HELP originaudit_proxy_audits_total Audits finished.\n"                                 \
	"# TYPE originaudit_proxy_audits_total counter\n"

/* A region created for one test, with its descriptor. */
typedef struct region {
	pxm *m;
	int fd;
} region;

static int region_setup(void **state)
{
	region *r = calloc(1, sizeof(*r));

	if (r == NULL || pxm_create(&r->m, &r->fd) != 0) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int region_teardown(void **state)
{
	region *r = *state;

	pxm_detach(r->m);
	close(r->fd);
	free(r);
	return 0;
}

/* The Prometheus text m writes, as a malloc'd string. */
static char *render(const pxm *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(pxm_write_prometheus(m, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* How many lines of text are exactly line. */
static int count_lines(const char *text, const char *line)
{
	size_t n = strlen(line);
	int count = 0;

	for (const char *p = text; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);

		if (len == n && memcmp(p, line, n) == 0) {
			count++;
		}
		p += len + (eol != NULL ? 1 : 0);
	}
	return count;
}

static void assert_line(const char *text, const char *line)
{
	if (count_lines(text, line) != 1) {
		fail_msg("line \"%s\" not found exactly once in:\n%s", line, text);
	}
}

/*
 * Forks a child that runs fn(fd, arg) and exits with its result; returns the
 * pid. fn must not use cmocka asserts, which would unwind into the child's copy
 * of the test runner.
 */
static pid_t spawn(int (*fn)(int fd, int arg), int fd, int arg)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(fn(fd, arg));
	}
	return pid;
}

/* Reaps pid and asserts that it exited with status 0. */
static void reap(pid_t pid)
{
	int status = 0;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_create_attach(void **state)
{
	region *r = *state;
	struct stat st;
	pxm *m = NULL;
	char *text;
	int other;

	/* The descriptor survives exec, which is how re-executed workers get it. */
	assert_int_equal(fcntl(r->fd, F_GETFD) & FD_CLOEXEC, 0);
	/* Sealed: nobody can shrink the region under the other processes. */
	assert_int_equal(ftruncate(r->fd, 4096), -1);
	assert_int_equal(errno, EPERM);

	assert_int_equal(pxm_attach(r->fd, &m), 0);
	assert_non_null(m);
	/* Two mappings of one region: what one counts, the other sees. */
	pxm_count_audit(m);
	pxm_detach(m);
	text = render(r->m);
	assert_line(text, "originaudit_proxy_audits_total 1");
	free(text);

	assert_int_equal(pxm_attach(-1, &m), -EBADF);
	assert_null(m);

	/* The right size but not a region (no magic), then the wrong size. */
	assert_int_equal(fstat(r->fd, &st), 0);
	other = memfd_create("not-metrics", 0);
	assert_true(other >= 0);
	assert_int_equal(ftruncate(other, st.st_size), 0);
	assert_int_equal(pxm_attach(other, &m), -EINVAL);
	assert_null(m);
	assert_int_equal(ftruncate(other, st.st_size - 8), 0);
	assert_int_equal(pxm_attach(other, &m), -EINVAL);
	close(other);

	pxm_detach(NULL);
}

static void test_render_empty(void **state)
{
	region *r = *state;
	char *text = render(r->m);
	char expected[4096];

	snprintf(expected, sizeof(expected),
		 HEAD_BUILD HEAD_REQUESTS HEAD_FAILURES HEAD_REFUSALS CACHE_TAIL HEAD_AUDITS
		 "originaudit_proxy_audits_total 0\n",
		 oa_version(), "0", "0", "0", "0", "0", "0", "0", "0");
	assert_string_equal(text, expected);
	free(text);
}

static void test_render_exact(void **state)
{
	region *r = *state;
	int web = pxm_origin_slot(r->m, "web");
	int api = pxm_origin_slot(r->m, "api");
	char expected[8192];
	char *text;

	assert_int_equal(web, 1);
	assert_int_equal(api, 2);
	for (int i = 0; i < 3; i++) {
		pxm_count_request(r->m, web, 200);
	}
	pxm_count_request(r->m, web, 304);
	pxm_count_request(r->m, api, 100);
	pxm_count_request(r->m, api, 599);
	pxm_count_request(r->m, 0, 404);
	pxm_count_failure(r->m, web, "dns_failed");
	pxm_count_failure(r->m, web, "dns_failed");
	pxm_count_failure(r->m, api, "missing_intermediate");
	pxm_count_certificate_refusal(r->m, api, "missing_intermediate");
	pxm_count_failure(r->m, web, "read_timeout");
	pxm_count_cache(r->m, true);
	pxm_count_cache(r->m, false);
	pxm_count_cache(r->m, false);
	pxm_set_cache_gauge(r->m, 0, 1000, 3);
	pxm_set_cache_gauge(r->m, 63, 24, 1);
	/* A later value replaces a worker's earlier one. */
	pxm_set_cache_gauge(r->m, 1, 999, 9);
	pxm_set_cache_gauge(r->m, 1, 500, 2);
	assert_true(pxm_conn_open(r->m, 0, 10));
	assert_true(pxm_conn_open(r->m, 0, 10));
	assert_true(pxm_conn_open(r->m, 0, 10));
	pxm_conn_close(r->m, 0);
	assert_false(pxm_conn_open(r->m, 0, 2));
	pxm_set_workers(r->m, 4);
	pxm_count_worker_restart(r->m);
	pxm_count_worker_restart(r->m);
	pxm_count_reload(r->m, true);
	pxm_count_reload(r->m, false);
	pxm_count_reload(r->m, false);
	pxm_count_audit(r->m);

	snprintf(expected, sizeof(expected),
		 HEAD_BUILD HEAD_REQUESTS
		 "originaudit_proxy_requests_total{origin=\"-\",status=\"404\"} 1\n"
		 "originaudit_proxy_requests_total{origin=\"web\",status=\"200\"} 3\n"
		 "originaudit_proxy_requests_total{origin=\"web\",status=\"304\"} 1\n"
		 "originaudit_proxy_requests_total{origin=\"api\",status=\"100\"} 1\n"
		 "originaudit_proxy_requests_total{origin=\"api\",status=\"599\"} 1\n" HEAD_FAILURES
		 "originaudit_proxy_origin_failures_total{origin=\"web\",reason=\"dns_failed\"} 2\n"
		 "originaudit_proxy_origin_failures_total{origin=\"web\",reason=\"read_timeout\"} "
		 "1\n"
		 "originaudit_proxy_origin_failures_total{origin=\"api\",reason=\"missing_"
		 "intermediate\"} 1\n" HEAD_REFUSALS
		 "originaudit_proxy_origin_certificate_refusals_total{origin=\"api\",reason="
		 "\"missing_intermediate\"} 1\n" CACHE_TAIL
		 "originaudit_proxy_reloads_total{result=\"ok\"} 1\n"
		 "originaudit_proxy_reloads_total{result=\"error\"} 2\n" HEAD_AUDITS
		 "originaudit_proxy_audits_total 1\n",
		 oa_version(), "1", "2", "1524", "6", "2", "1", "4", "2");
	text = render(r->m);
	assert_string_equal(text, expected);
	free(text);
}

/* A pipe whose EOF releases the children of test_forked_children_sum together. */
static int start_gate[2] = {-1, -1};

/* A child's share of test_forked_children_sum; 0 when every step worked. */
static int child_counts(int fd, int k)
{
	int shared[50];
	char id[32];
	char c;
	pxm *m;
	int web;
	int own;

	if (pxm_attach(fd, &m) != 0) {
		return 10;
	}
	/* EOF once the parent closes its write end too: both children start at once. */
	close(start_gate[1]);
	if (read(start_gate[0], &c, 1) != 0) {
		return 11;
	}
	/* Both children intern the same ids at the same time: each must get one slot. */
	for (int i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "shared-%d", i);
		shared[i] = pxm_origin_slot(m, id);
	}
	web = pxm_origin_slot(m, "web");
	snprintf(id, sizeof(id), "child-%d", k);
	own = pxm_origin_slot(m, id);
	if (web <= 0 || own <= 0 || own == web) {
		return 12;
	}
	for (int i = 0; i < 10000; i++) {
		pxm_count_request(m, shared[i % 50], 200);
		pxm_count_request(m, web, 200);
		pxm_count_request(m, own, 503);
		pxm_count_failure(m, web, "read_timeout");
		pxm_count_cache(m, i % 2 == 0);
		if (!pxm_conn_open(m, 0, 1000000)) {
			return 13;
		}
		pxm_conn_close(m, 0);
	}
	pxm_detach(m);
	return 0;
}

static void test_forked_children_sum(void **state)
{
	region *r = *state;
	char line[160];
	pid_t a;
	pid_t b;
	char *text;

	assert_int_equal(pipe(start_gate), 0);
	a = spawn(child_counts, r->fd, 0);
	b = spawn(child_counts, r->fd, 1);
	close(start_gate[0]);
	close(start_gate[1]);
	reap(a);
	reap(b);

	text = render(r->m);
	assert_line(text, "originaudit_proxy_requests_total{origin=\"web\",status=\"200\"} 20000");
	assert_line(text,
		    "originaudit_proxy_requests_total{origin=\"child-0\",status=\"503\"} 10000");
	assert_line(text,
		    "originaudit_proxy_requests_total{origin=\"child-1\",status=\"503\"} 10000");
	assert_line(
	    text, "originaudit_proxy_origin_failures_total{origin=\"web\",reason=\"read_timeout\"} "
		  "20000");
	assert_line(text, "originaudit_proxy_cache_hits_total 10000");
	assert_line(text, "originaudit_proxy_cache_misses_total 10000");
	assert_line(text, "originaudit_proxy_open_connections 0");
	assert_line(text, "originaudit_proxy_connections_refused_total 0");
	for (int i = 0; i < 50; i++) {
		snprintf(
		    line, sizeof(line),
		    "originaudit_proxy_requests_total{origin=\"shared-%d\",status=\"200\"} 400", i);
		assert_line(text, line);
	}
	/* "-", web, child-0, child-1 and 50 shared ids, each interned once. */
	assert_int_equal(pxm_origin_slot(r->m, "next"), 54);
	free(text);
}

static void test_intern_same_slot(void **state)
{
	region *r = *state;
	pxm *other = NULL;

	assert_int_equal(pxm_origin_slot(r->m, NULL), 0);
	assert_int_equal(pxm_origin_slot(r->m, "-"), 0);
	assert_int_equal(pxm_origin_slot(r->m, ""), 0);
	assert_int_equal(pxm_origin_slot(r->m, "web"), 1);
	assert_int_equal(pxm_origin_slot(r->m, "web"), 1);
	assert_int_equal(pxm_origin_slot(r->m, "Web"), 2);
	assert_int_equal(pxm_origin_slot(r->m, "web"), 1);
	/* Another mapping sees the same table. */
	assert_int_equal(pxm_attach(r->fd, &other), 0);
	assert_int_equal(pxm_origin_slot(other, "Web"), 2);
	assert_int_equal(pxm_origin_slot(other, "api"), 3);
	assert_int_equal(pxm_origin_slot(r->m, "api"), 3);
	pxm_detach(other);
}

static void test_origin_table_full(void **state)
{
	region *r = *state;
	char id[PXM_ORIGIN_MAX_LEN + 2];
	char *text;

	for (int i = 1; i < PXM_MAX_ORIGINS; i++) {
		snprintf(id, sizeof(id), "o%d", i);
		assert_int_equal(pxm_origin_slot(r->m, id), i);
	}
	assert_int_equal(pxm_origin_slot(r->m, "o256"), 0);
	assert_int_equal(pxm_origin_slot(r->m, "o1"), 1);
	assert_int_equal(pxm_origin_slot(r->m, "o255"), 255);

	pxm_count_request(r->m, pxm_origin_slot(r->m, "o256"), 502);
	pxm_count_request(r->m, pxm_origin_slot(r->m, "o255"), 502);
	text = render(r->m);
	assert_line(text, "originaudit_proxy_requests_total{origin=\"-\",status=\"502\"} 1");
	assert_line(text, "originaudit_proxy_requests_total{origin=\"o255\",status=\"502\"} 1");
	assert_int_equal(count_lines(text, "originaudit_proxy_requests_total{origin=\"o256\","
					   "status=\"502\"} 1"),
			 0);
	free(text);
}

static void test_origin_id_too_long(void **state)
{
	region *r = *state;
	char id[PXM_ORIGIN_MAX_LEN + 2];

	memset(id, 'a', PXM_ORIGIN_MAX_LEN);
	id[PXM_ORIGIN_MAX_LEN] = '\0';
	assert_int_equal(pxm_origin_slot(r->m, id), 1);
	id[PXM_ORIGIN_MAX_LEN] = 'a';
	id[PXM_ORIGIN_MAX_LEN + 1] = '\0';
	assert_int_equal(pxm_origin_slot(r->m, id), 0);
}

static void test_reason_table_full(void **state)
{
	region *r = *state;
	char reason[PXM_REASON_MAX_LEN + 2];
	char *text;

	/* "other" holds one of the slots, so 127 reasons of their own fit. */
	for (int i = 1; i < PXM_MAX_REASONS; i++) {
		snprintf(reason, sizeof(reason), "r%d", i);
		pxm_count_failure(r->m, 0, reason);
	}
	pxm_count_failure(r->m, 0, "r128");
	pxm_count_failure(r->m, 0, "r129");
	pxm_count_failure(r->m, 0, "r127");
	text = render(r->m);
	assert_line(text, "originaudit_proxy_origin_failures_total{origin=\"-\",reason=\"r1\"} 1");
	assert_line(text,
		    "originaudit_proxy_origin_failures_total{origin=\"-\",reason=\"r127\"} 2");
	assert_line(text,
		    "originaudit_proxy_origin_failures_total{origin=\"-\",reason=\"other\"} 2");
	assert_null(strstr(text, "r128"));
	free(text);
}

static void test_reason_limits(void **state)
{
	region *r = *state;
	char reason[PXM_REASON_MAX_LEN + 2];
	char line[200];
	char *text;
	int web = pxm_origin_slot(r->m, "web");

	memset(reason, 'x', PXM_REASON_MAX_LEN);
	reason[PXM_REASON_MAX_LEN] = '\0';
	pxm_count_failure(r->m, web, reason);
	snprintf(line, sizeof(line),
		 "originaudit_proxy_origin_failures_total{origin=\"web\",reason=\"%s\"} 1", reason);
	reason[PXM_REASON_MAX_LEN] = 'x';
	reason[PXM_REASON_MAX_LEN + 1] = '\0';
	pxm_count_failure(r->m, web, reason);
	pxm_count_failure(r->m, web, NULL);
	pxm_count_failure(r->m, web, "");
	pxm_count_failure(r->m, web, "other");
	text = render(r->m);
	assert_line(text, line);
	assert_line(text,
		    "originaudit_proxy_origin_failures_total{origin=\"web\",reason=\"other\"} 4");
	free(text);
}

static void test_label_escaping(void **state)
{
	region *r = *state;
	/* a " b \ c newline d */
	int slot = pxm_origin_slot(r->m, "a\"b\\c\nd");
	char *text;

	assert_int_equal(slot, 1);
	pxm_count_request(r->m, slot, 502);
	pxm_count_failure(r->m, slot, "x\"}\\\n 1");
	text = render(r->m);
	assert_line(
	    text, "originaudit_proxy_requests_total{origin=\"a\\\"b\\\\c\\nd\",status=\"502\"} 1");
	assert_line(text, "originaudit_proxy_origin_failures_total{origin=\"a\\\"b\\\\c\\nd\","
			  "reason=\"x\\\"}\\\\\\n 1\"} 1");
	/* Nothing of the id reached the output unescaped. */
	assert_null(strstr(text, "c\nd"));
	assert_null(strstr(text, "\\\n"));
	free(text);
}

/* A worker that dies gives back its connections, cache gauges and readiness. */
static void test_worker_gone(void **state)
{
	region *r = *state;
	char *text;

	assert_true(pxm_conn_open(r->m, 0, 100));
	assert_true(pxm_conn_open(r->m, 1, 100));
	assert_true(pxm_conn_open(r->m, 1, 100));
	assert_true(pxm_conn_open(r->m, 1, 100));
	pxm_set_cache_gauge(r->m, 1, 4096, 3);
	pxm_set_cache_gauge(r->m, 0, 100, 1);
	pxm_set_worker_ready(r->m, 1, true);
	pxm_worker_gone(r->m, 1);
	assert_false(pxm_worker_ready(r->m, 1));
	text = render(r->m);
	assert_line(text, "originaudit_proxy_open_connections 1");
	assert_line(text, "originaudit_proxy_cache_bytes 100");
	assert_line(text, "originaudit_proxy_cache_objects 1");
	free(text);
	/* The limit counts only what is really open: two more fit under 3. */
	assert_true(pxm_conn_open(r->m, 2, 3));
	assert_true(pxm_conn_open(r->m, 2, 3));
	assert_false(pxm_conn_open(r->m, 2, 3));
}

static void test_conn_limit(void **state)
{
	region *r = *state;
	char *text;

	assert_true(pxm_conn_open(r->m, 0, 2));
	assert_true(pxm_conn_open(r->m, 0, 2));
	assert_false(pxm_conn_open(r->m, 0, 2));
	assert_false(pxm_conn_open(r->m, 0, 2));
	/* A lower limit (after a reload) refuses until enough connections closed. */
	assert_false(pxm_conn_open(r->m, 0, 1));
	pxm_conn_close(r->m, 0);
	assert_false(pxm_conn_open(r->m, 0, 1));
	assert_true(pxm_conn_open(r->m, 0, 2));
	assert_false(pxm_conn_open(r->m, 0, 0));
	text = render(r->m);
	assert_line(text, "originaudit_proxy_open_connections 2");
	assert_line(text, "originaudit_proxy_connections_refused_total 5");
	free(text);

	/* A close too many does not wrap the gauge around. */
	pxm_conn_close(r->m, 0);
	pxm_conn_close(r->m, 0);
	pxm_conn_close(r->m, 0);
	text = render(r->m);
	assert_line(text, "originaudit_proxy_open_connections 0");
	free(text);
	assert_true(pxm_conn_open(r->m, 0, 1));
}

/* Attaches, takes the interning lock and dies holding it, as a worker that crashes. */
static int child_dies_holding_lock(int fd, int arg)
{
	pxm *m;

	if (pxm_attach(fd, &m) != 0) {
		return 10;
	}
	if (arg == 1) {
		pxm_origin_slot(m, "before");
	}
	if (pxm__test_hold_lock(m) != 0) {
		return 11;
	}
	return 0;
}

static int child_interns(int fd, int arg)
{
	pxm *m;
	int slot;

	if (pxm_attach(fd, &m) != 0) {
		return 10;
	}
	slot = pxm_origin_slot(m, "from-child");
	pxm_detach(m);
	return slot == arg ? 0 : 11;
}

static void test_robust_lock(void **state)
{
	region *r = *state;

	/* A deadlock fails the test (SIGALRM) instead of hanging it. */
	alarm(20);
	reap(spawn(child_dies_holding_lock, r->fd, 0));
	assert_int_equal(pxm_origin_slot(r->m, "after-death"), 1);
	assert_int_equal(pxm_origin_slot(r->m, "second"), 2);
	assert_int_equal(pxm_origin_slot(r->m, "after-death"), 1);

	/* Twice, and recovered by another child this time. */
	reap(spawn(child_dies_holding_lock, r->fd, 1));
	reap(spawn(child_interns, r->fd, 4));
	assert_int_equal(pxm_origin_slot(r->m, "before"), 3);
	assert_int_equal(pxm_origin_slot(r->m, "from-child"), 4);
	assert_int_equal(pxm_origin_slot(r->m, "third"), 5);
	alarm(0);
}

static void test_worker_gauges(void **state)
{
	region *r = *state;
	char *text;

	assert_false(pxm_worker_ready(r->m, 0));
	pxm_set_worker_ready(r->m, 0, true);
	pxm_set_worker_ready(r->m, 63, true);
	pxm_set_worker_ready(r->m, 64, true);
	assert_true(pxm_worker_ready(r->m, 0));
	assert_false(pxm_worker_ready(r->m, 1));
	assert_true(pxm_worker_ready(r->m, 63));
	assert_false(pxm_worker_ready(r->m, 64));
	assert_false(pxm_worker_ready(r->m, UINT32_MAX));
	pxm_set_worker_ready(r->m, 0, false);
	assert_false(pxm_worker_ready(r->m, 0));

	pxm_set_cache_gauge(r->m, 2, UINT64_C(1) << 40, 7);
	pxm_set_cache_gauge(r->m, 3, 1, 1);
	pxm_set_cache_gauge(r->m, 64, 1000, 1000);
	pxm_set_workers(r->m, 64);
	pxm_set_workers(r->m, 3);
	text = render(r->m);
	assert_line(text, "originaudit_proxy_cache_bytes 1099511627777");
	assert_line(text, "originaudit_proxy_cache_objects 8");
	assert_line(text, "originaudit_proxy_workers 3");
	free(text);
}

static void test_bad_arguments_ignored(void **state)
{
	region *r = *state;
	int web = pxm_origin_slot(r->m, "web");
	char *text;

	pxm_count_request(r->m, web, 99);
	pxm_count_request(r->m, web, 600);
	pxm_count_request(r->m, web, -200);
	/* Slots that name no origin count under "-". */
	pxm_count_request(r->m, -1, 200);
	pxm_count_request(r->m, 2, 200);
	pxm_count_request(r->m, PXM_MAX_ORIGINS, 200);
	pxm_count_failure(r->m, 7, "dns_failed");
	text = render(r->m);
	assert_line(text, "originaudit_proxy_requests_total{origin=\"-\",status=\"200\"} 3");
	assert_line(
	    text, "originaudit_proxy_origin_failures_total{origin=\"-\",reason=\"dns_failed\"} 1");
	assert_null(strstr(text, "origin=\"web\""));
	free(text);
}

static void test_write_error(void **state)
{
	region *r = *state;
	FILE *f = fopen("/dev/full", "w");

	if (f == NULL) {
		skip();
	}
	assert_int_equal(pxm_write_prometheus(r->m, f), -EIO);
	fclose(f);
}

/* The families the proxy writes, in order. */
static const char *const families[] = {
    "originaudit_proxy_build_info",
    "originaudit_proxy_requests_total",
    "originaudit_proxy_origin_failures_total",
    "originaudit_proxy_origin_certificate_refusals_total",
    "originaudit_proxy_cache_hits_total",
    "originaudit_proxy_cache_misses_total",
    "originaudit_proxy_cache_bytes",
    "originaudit_proxy_cache_objects",
    "originaudit_proxy_open_connections",
    "originaudit_proxy_connections_refused_total",
    "originaudit_proxy_workers",
    "originaudit_proxy_worker_restarts_total",
    "originaudit_proxy_reloads_total",
    "originaudit_proxy_audits_total",
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* The length of the metric or label name at p (colons allowed for metrics); 0 if none. */
static size_t name_len(const char *p, bool metric)
{
	size_t n = 0;

	if (!name_start(p[0]) && !(metric && p[0] == ':')) {
		return 0;
	}
	while (name_char(p[n]) || (metric && p[n] == ':')) {
		n++;
	}
	return n;
}

/* Index in families of the name at p of length n; fails the test when unknown. */
static size_t family_index(const char *p, size_t n)
{
	for (size_t i = 0; i < N_FAMILIES; i++) {
		if (strlen(families[i]) == n && memcmp(families[i], p, n) == 0) {
			return i;
		}
	}
	fail_msg("unknown family %.*s", (int)n, p);
	return 0;
}

/*
 * Checks one sample line "name{labels} value" or "name value" and returns its
 * family's index; fails the test on anything else.
 */
static size_t parse_sample(const char *line, size_t len)
{
	const char *end = line + len;
	const char *p = line;
	size_t n = name_len(p, true);
	size_t fam;

	if (n == 0) {
		fail_msg("no metric name: %.*s", (int)len, line);
	}
	fam = family_index(p, n);
	p += n;
	if (*p == '{') {
		p++;
		for (;;) {
			n = name_len(p, false);
			if (n == 0 || p[n] != '=' || p[n + 1] != '"') {
				fail_msg("bad label: %.*s", (int)len, line);
			}
			p += n + 2;
			while (p < end && *p != '"') {
				if (*p == '\\') {
					p++;
					if (p >= end || (*p != '\\' && *p != '"' && *p != 'n')) {
						fail_msg("bad escape: %.*s", (int)len, line);
					}
				}
				p++;
			}
			if (p >= end) {
				fail_msg("unterminated label value: %.*s", (int)len, line);
			}
			p++;
			if (*p == '}') {
				p++;
				break;
			}
			if (*p != ',') {
				fail_msg("bad label list: %.*s", (int)len, line);
			}
			p++;
		}
	}
	if (*p != ' ' || p + 1 >= end) {
		fail_msg("no value: %.*s", (int)len, line);
	}
	for (p++; p < end; p++) {
		if (*p < '0' || *p > '9') {
			fail_msg("bad value: %.*s", (int)len, line);
		}
	}
	return fam;
}

/*
 * Checks that text is Prometheus text format: each line a HELP, a TYPE or a
 * sample; HELP then TYPE exactly once per family, before its samples; the
 * samples of a family together; every family of the proxy present.
 */
static void check_exposition(const char *text)
{
	bool help[N_FAMILIES] = {false};
	bool type[N_FAMILIES] = {false};
	size_t current = N_FAMILIES;
	const char *p = text;

	assert_true(strlen(text) > 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = (size_t)(eol - p);
		size_t fam;

		if (strncmp(p, "# HELP ", 7) == 0) {
			size_t n = name_len(p + 7, true);

			fam = family_index(p + 7, n);
			if (help[fam] || p[7 + n] != ' ') {
				fail_msg("second or bad HELP: %.*s", (int)len, p);
			}
			help[fam] = true;
			current = fam;
		} else if (strncmp(p, "# TYPE ", 7) == 0) {
			size_t n = name_len(p + 7, true);
			const char *t = p + 7 + n;

			fam = family_index(p + 7, n);
			if (type[fam] || !help[fam] || fam != current ||
			    (strncmp(t, " counter\n", 9) != 0 && strncmp(t, " gauge\n", 7) != 0)) {
				fail_msg("second or bad TYPE: %.*s", (int)len, p);
			}
			type[fam] = true;
		} else {
			assert_int_not_equal(p[0], '#');
			fam = parse_sample(p, len);
			if (!help[fam] || !type[fam] || fam != current) {
				fail_msg("sample outside its family: %.*s", (int)len, p);
			}
		}
		p = eol + 1;
	}
	for (size_t i = 0; i < N_FAMILIES; i++) {
		assert_true(help[i]);
		assert_true(type[i]);
	}
}

static void test_exposition_parses(void **state)
{
	region *r = *state;
	int hostile = pxm_origin_slot(r->m, "h\"}\\ 1\n# TYPE x gauge\nx 1");
	int web = pxm_origin_slot(r->m, "web");
	char *text;

	text = render(r->m);
	check_exposition(text);
	free(text);

	pxm_count_request(r->m, hostile, 200);
	pxm_count_request(r->m, web, 200);
	pxm_count_request(r->m, 0, 400);
	pxm_count_failure(r->m, hostile, "dns_failed");
	pxm_count_failure(r->m, web, "evil\"reason\\\n");
	pxm_count_cache(r->m, true);
	pxm_set_cache_gauge(r->m, 5, 10, 1);
	assert_true(pxm_conn_open(r->m, 0, 1));
	assert_false(pxm_conn_open(r->m, 0, 1));
	pxm_set_workers(r->m, 2);
	pxm_count_worker_restart(r->m);
	pxm_count_reload(r->m, true);
	pxm_count_reload(r->m, false);
	pxm_count_audit(r->m);
	text = render(r->m);
	check_exposition(text);
	assert_null(strstr(text, "originaudit_proxy_audit_origin_verdict"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_attach, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_worker_gone, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_render_empty, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_render_exact, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_forked_children_sum, region_setup,
					    region_teardown),
	    cmocka_unit_test_setup_teardown(test_intern_same_slot, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_origin_table_full, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_origin_id_too_long, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_reason_table_full, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_reason_limits, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_label_escaping, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_conn_limit, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_robust_lock, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_worker_gauges, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments_ignored, region_setup,
					    region_teardown),
	    cmocka_unit_test_setup_teardown(test_write_error, region_setup, region_teardown),
	    cmocka_unit_test_setup_teardown(test_exposition_parses, region_setup, region_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
