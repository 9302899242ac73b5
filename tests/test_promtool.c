/*
 * The monitoring side checked with Prometheus' own tool (issue 13): promtool
 * lints the scanner's `--format prometheus` output of real scans of loopback
 * origins (pass, fail, error and skipped origins, chains of several
 * certificates) and the proxy's /metrics after real traffic; it checks and
 * unit-tests the shipped alert rules; and every metric the alert rules and
 * the Grafana dashboard name is one of those the two programs exported here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy_harness.h"

/* What the lint cases exported, for the names case (cases run in order in this process). */
static char *scan_text;
static char *skip_text;
static char *proxy_text;

/* The source tree: OA_TEST_DATA is its tests/data. */
static const char *source_root(void)
{
	static char dir[4096];
	const char *data = getenv("OA_TEST_DATA");

	if (data == NULL) {
		fail_msg("OA_TEST_DATA is not set (tests/meson.build sets it)");
	}
	snprintf(dir, sizeof(dir), "%s/../..", data);
	return dir;
}

static char *promtool(void)
{
	char *path = fx_find_tool("promtool");

	if (path == NULL) {
		fail_msg(
		    "promtool not found: run scripts/install-deps (Debian package prometheus)");
	}
	return path;
}

/* Runs argv; fails unless it exits 0 and, when quiet, prints nothing at all. */
static void expect_clean_run(char *const argv[], bool quiet)
{
	char *out = NULL;
	char *err = NULL;
	int rc = fx_run(argv, &out, &err, 60);

	if (rc != 0 ||
	    (quiet && ((out != NULL && out[0] != '\0') || (err != NULL && err[0] != '\0')))) {
		fail_msg("%s %s %s: exit %d\nstdout:\n%s\nstderr:\n%s", argv[0], argv[1],
			 argv[2] != NULL ? argv[2] : "", rc, out != NULL ? out : "",
			 err != NULL ? err : "");
	}
	free(out);
	free(err);
}

/* `promtool check metrics < text` prints nothing and exits 0. */
static void lint(ph_env *e, const char *name, const char *text)
{
	char *tool = promtool();
	char *file = fx_path(e->dir, name);
	char *argv[] = {"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", tool, file, NULL};

	fx_write(file, text, strlen(text));
	expect_clean_run(argv, true);
	free(file);
	free(tool);
}

/* How many lines of text start with prefix. */
static size_t count_prefixed(const char *text, const char *prefix)
{
	size_t n = 0;
	size_t len = strlen(prefix);

	for (const char *p = text; p != NULL && *p != '\0';) {
		if (strncmp(p, prefix, len) == 0) {
			n++;
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return n;
}

/* Runs `originaudit scan ARGS --format prometheus`, expecting exit 2; its stdout (malloc'd). */
static char *scan_prometheus(ph_env *e, const char *input_flag, const char *input)
{
	const char *exe = getenv("ORIGINAUDIT");
	char *out = NULL;
	char *err = NULL;

	assert_non_null(exe);
	char *argv[] = {(char *)exe, "scan",	 (char *)input_flag, (char *)input, "--ca-bundle",
			e->bundle,   "--format", "prometheus",	     NULL};
	int rc = fx_run(argv, &out, &err, 120);
	if (rc != 2) {
		fail_msg("originaudit scan %s: exit %d, want 2: %s", input, rc, err);
	}
	free(err);
	return out;
}

static void test_scanner_metrics_lint(void **state)
{
	ph_env *e = *state;
	ph_eo *good = ph_good_origin(e, "good");
	ph_eo *bad = ph_bad_origin(e);
	unsigned refused = fx_free_port("127.0.0.1");
	json_t *doc = json_pack("{s:[o, o, o], s:{s:i, s:i}}", "origins",
				ph_origin_json("good", ph_eo_port(good), 0, "https-only"),
				ph_origin_json("bad", ph_eo_port(bad), 0, "https-only"),
				ph_origin_json("refused", refused, 0, "https-only"), "scan",
				"connect_timeout_ms", 2000, "handshake_timeout_ms", 2000);
	char *config = ph_write_config(e, doc);

	free(scan_text);
	scan_text = scan_prometheus(e, "--config", config);
	free(config);
	lint(e, "scan.prom", scan_text);
	/* pass, fail and error probes; the good chain has two certificates, the bad one one. */
	assert_int_equal(count_prefixed(scan_text, "originaudit_probe_success{"), 3);
	assert_int_equal(count_prefixed(scan_text, "originaudit_cert_not_after_seconds{"), 3);
	assert_int_equal(count_prefixed(scan_text, "originaudit_cert_not_before_seconds{"), 3);
	assert_non_null(strstr(scan_text, "originaudit_origins{verdict=\"error\"} 1\n"));
	assert_non_null(strstr(scan_text, "originaudit_origins{verdict=\"fail\"} 1\n"));
	assert_non_null(strstr(scan_text, "originaudit_origins{verdict=\"pass\"} 1\n"));

	/* A distribution with a skipped S3 origin and an origin whose name does not resolve. */
	char *cf = fx_path(getenv("OA_TEST_DATA"), "scan/cloudfront-s3.json");
	free(skip_text);
	skip_text = scan_prometheus(e, "--cloudfront", cf);
	free(cf);
	lint(e, "skip.prom", skip_text);
	assert_non_null(strstr(skip_text, "originaudit_origins{verdict=\"skip\"} 1\n"));
	ph_finish(e);
}

static void test_proxy_metrics_lint(void **state)
{
	ph_env *e = *state;
	ph_resp *r = &e->resp;
	unsigned admin = 0;
	ph_eo *good = ph_good_origin(e, "good");
	ph_eo *bad = ph_bad_origin(e);
	json_t *proxy = ph_proxy_block(e, false, false, NULL);

	ph_admin_listener(e, proxy, &admin);
	ph_start_proxy(e, ph_good_bad_config(good, bad, proxy));
	ph_expect_get(e, false, "/ok", 200);
	ph_expect_get(e, false, "/bad/x", 502);
	ph_expect_get(e, false, "/bad/y", 502);

	/* The counters are shared memory: the exchange is counted once the response is logged. */
	for (int i = 0; i < 100; i++) {
		ph_http_get(admin, "/metrics", r);
		ph_expect_status(r, 200);
		free(proxy_text);
		proxy_text = strdup(r->body != NULL ? r->body : "");
		ph_resp_free(r);
		if (strstr(proxy_text, "status=\"502\"} 2\n") != NULL) {
			break;
		}
		usleep(20000);
	}
	lint(e, "proxy.prom", proxy_text);
	assert_non_null(strstr(proxy_text, "originaudit_proxy_requests_total{origin=\"bad\","
					   "status=\"502\"} 2\n"));
	assert_non_null(strstr(proxy_text, "originaudit_proxy_build_info{version=\""));
	/* Both 502s were certificate refusals, counted apart from network failures. */
	assert_non_null(strstr(proxy_text, "originaudit_proxy_origin_certificate_refusals_total{"
					   "origin=\"bad\",reason=\"missing_intermediate\"} 2\n"));
	/* The audit's families are part of it (the scanner's writer). */
	assert_true(count_prefixed(proxy_text, "originaudit_cert_not_after_seconds{") >= 3);
	ph_finish(e);
}

static void test_rules(void **state)
{
	ph_env *e = *state;
	char *tool = promtool();
	char *rules = fx_path(source_root(), "contrib/prometheus/originaudit-rules.yml");
	char *tests = fx_path(source_root(), "contrib/prometheus/originaudit-rules.test.yml");
	char *check[] = {tool, "check", "rules", rules, NULL};
	char *unit[] = {tool, "test", "rules", tests, NULL};

	expect_clean_run(check, false);
	expect_clean_run(unit, false);
	free(rules);
	free(tests);
	free(tool);
	ph_finish(e);
}

static void test_dashboard_and_rules_names(void **state)
{
	ph_env *e = *state;

	if (scan_text == NULL || skip_text == NULL || proxy_text == NULL) {
		fail_msg("the lint cases did not export metrics; run the whole file");
	}
	char *exported[3] = {fx_path(e->dir, "scan.prom"), fx_path(e->dir, "skip.prom"),
			     fx_path(e->dir, "proxy.prom")};
	fx_write(exported[0], scan_text, strlen(scan_text));
	fx_write(exported[1], skip_text, strlen(skip_text));
	fx_write(exported[2], proxy_text, strlen(proxy_text));
	char *script = fx_path(source_root(), "tests/check_metric_names.py");
	char *dashboard = fx_path(source_root(), "contrib/grafana/originaudit.json");
	char *rules = fx_path(source_root(), "contrib/prometheus/originaudit-rules.yml");
	char *python = fx_find_tool("python3");
	assert_non_null(python);
	char *argv[] = {python,	      script,	   "--exported", exported[0],
			"--exported", exported[1], "--exported", exported[2],
			dashboard,    rules,	   NULL};

	expect_clean_run(argv, false);
	for (size_t i = 0; i < 3; i++) {
		free(exported[i]);
	}
	free(python);
	free(script);
	free(dashboard);
	free(rules);
	ph_finish(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    PH_TEST(test_scanner_metrics_lint),
	    PH_TEST(test_proxy_metrics_lint),
	    PH_TEST(test_rules),
	    PH_TEST(test_dashboard_and_rules_names),
	};
	int rc = PH_RUN_TESTS(tests);

	free(scan_text);
	free(skip_text);
	free(proxy_text);
	return rc;
}
