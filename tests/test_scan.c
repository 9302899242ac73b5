/*
 * The scan engine started on a loop that is already running (oa_scan_start),
 * as the proxy does for its periodic audits: the scan is started from a timer
 * callback while other handles keep the loop busy, its report arrives in a
 * callback and is freed there, and afterwards every handle is closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/scan.h"
#include "originaudit/testorigin.h"
#include "originaudit/trust.h"

#define HOST "origin.example.com"
#define TIMEOUT_MS 3000
/* The ticker's period: the loop keeps turning for it while the scan runs. */
#define TICK_MS 5
/* Fails the test (through the scan's own timeouts) long before meson's limit. */
#define WATCHDOG_MS 30000

struct env {
	char *dir;
	fx_pki pki;
	oa_trust_store *store;
	uv_loop_t loop;
};

/* What the done callback saw; asserted after the loop, outside any callback. */
struct outcome {
	int calls;
	int status;
	oa_status verdict;
	size_t n_origins;
	size_t n_probes;
	size_t counts[OA_STATUS_ERROR + 1];
	oa_status probe_verdict;
	char probe_error[OA_PROBE_ERROR_MAX];
	bool has_chain_result;
};

struct run {
	uv_loop_t *loop;
	const oa_config *config;
	const oa_trust_store *store;
	oa_scan_options opts;
	oa_test_origin *server;
	uv_timer_t starter;
	uv_timer_t ticker;
	uv_timer_t watchdog;
	int start_rc;
	/* The callback ran before oa_scan_start returned. */
	bool called_during_start;
	bool in_start;
	unsigned ticks;
	bool timed_out;
	struct outcome out;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	oa_error err;

	assert_non_null(e);
	e->dir = fx_tempdir();
	fx_pki_make(&e->pki);
	char *bundle = fx_bundle_file(e->dir, "roots.pem", e->pki.root);
	if (oa_trust_store_load(bundle, &e->store, &err) < 0) {
		fail_msg("trust store: %s", err.msg);
	}
	free(bundle);
	assert_int_equal(uv_loop_init(&e->loop), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	assert_int_equal(uv_loop_close(&e->loop), 0);
	oa_trust_store_destroy(e->store);
	fx_pki_free(&e->pki);
	fx_tempdir_remove(e->dir);
	free(e);
	return 0;
}

/* A TLS test origin on e's loop serving chain in order; returns it. */
static oa_test_origin *start_server(struct env *e, const oa_pki_cert *const *chain, size_t n)
{
	gnutls_datum_t pem = fx_pem_concat(chain, n);
	oa_test_origin_opts opts;
	oa_test_origin *server = NULL;
	oa_error err;

	memset(&opts, 0, sizeof(opts));
	opts.mode = OA_TEST_ORIGIN_TLS;
	opts.address = "127.0.0.1";
	opts.chain_pem = &pem;
	opts.key_pem = oa_pki_key_pem(chain[0]);
	if (oa_test_origin_start(&e->loop, &opts, &server, &err) < 0) {
		fail_msg("test origin: %s", err.msg);
	}
	free(pem.data);
	return server;
}

/* A configuration of one https-only origin for HOST at 127.0.0.1:port, by the JSON loader. */
static oa_config *config_for(unsigned port)
{
	json_t *root =
	    json_pack("{s:[{s:s, s:s, s:i, s:[s]}], s:{s:i, s:i}}", "origins", "id", "good",
		      "domain_name", HOST, "https_port", (int)port, "addresses", "127.0.0.1",
		      "scan", "connect_timeout_ms", TIMEOUT_MS, "handshake_timeout_ms", TIMEOUT_MS);
	oa_config *config = NULL;
	oa_error err;

	assert_non_null(root);
	if (oa_config_from_json(root, "test", &config, &err) < 0) {
		fail_msg("config: %s", err.msg);
	}
	json_decref(root);
	return config;
}

static void on_closed(uv_handle_t *handle)
{
}

/* The end of the run: everything this test opened is closed, so the loop ends by itself. */
static void stop_run(struct run *r)
{
	uv_close((uv_handle_t *)&r->ticker, on_closed);
	uv_close((uv_handle_t *)&r->watchdog, on_closed);
	oa_test_origin_destroy(r->server);
	r->server = NULL;
}

static void on_scan_done(oa_scan_report *report, int status, void *data)
{
	struct run *r = data;
	struct outcome *o = &r->out;

	o->calls++;
	o->status = status;
	r->called_during_start = r->called_during_start || r->in_start;
	if (report != NULL) {
		o->verdict = report->verdict;
		o->n_origins = report->n_origins;
		o->n_probes = report->n_probes;
		memcpy(o->counts, report->counts, sizeof(o->counts));
		if (report->n_origins > 0 && report->origins[0].n_probes > 0) {
			const oa_probe_result *pr =
			    oa_probe_get_result(report->origins[0].probes[0]);

			o->probe_verdict = pr->verdict;
			memcpy(o->probe_error, pr->error, sizeof(o->probe_error));
			o->has_chain_result = pr->result != NULL;
		}
	}
	/* Freed right here, inside a loop callback: destruction needs no loop iteration. */
	oa_scan_report_destroy(report);
	stop_run(r);
}

static void on_tick(uv_timer_t *timer)
{
	struct run *r = timer->data;

	r->ticks++;
}

static void on_watchdog(uv_timer_t *timer)
{
	struct run *r = timer->data;

	r->timed_out = true;
	uv_stop(r->loop);
}

/* Runs on the loop, which is therefore already running when the scan starts. */
static void on_start(uv_timer_t *timer)
{
	struct run *r = timer->data;

	uv_close((uv_handle_t *)&r->starter, on_closed);
	r->in_start = true;
	r->start_rc = oa_scan_start(r->loop, r->config, r->store, &r->opts, on_scan_done, r);
	r->in_start = false;
	if (r->start_rc < 0) {
		stop_run(r);
	}
}

/*
 * Scans config from inside the running loop of e while a ticker keeps the
 * loop turning; server (may be NULL) is destroyed once the report is in.
 */
static void scan_in_running_loop(struct env *e, const oa_config *config, oa_test_origin *server,
				 struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->loop = &e->loop;
	r->config = config;
	r->store = e->store;
	r->server = server;
	r->start_rc = 1;
	oa_scan_options_from_config(&r->opts, config);
	assert_int_equal(uv_timer_init(&e->loop, &r->starter), 0);
	assert_int_equal(uv_timer_init(&e->loop, &r->ticker), 0);
	assert_int_equal(uv_timer_init(&e->loop, &r->watchdog), 0);
	r->starter.data = r;
	r->ticker.data = r;
	r->watchdog.data = r;
	assert_int_equal(uv_timer_start(&r->ticker, on_tick, TICK_MS, TICK_MS), 0);
	assert_int_equal(uv_timer_start(&r->watchdog, on_watchdog, WATCHDOG_MS, 0), 0);
	assert_int_equal(uv_timer_start(&r->starter, on_start, 0, 0), 0);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_false(r->timed_out);
	/* The loop ended by itself: the scan left no handle open or closing behind. */
	assert_int_equal(uv_loop_alive(&e->loop), 0);
}

/* A good chain: the scan runs inside the running loop and its report says pass. */
static void test_start_in_running_loop_pass(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	oa_test_origin *server = start_server(e, chain, 2);
	oa_config *config = config_for(oa_test_origin_port(server));
	struct run r;

	scan_in_running_loop(e, config, server, &r);
	assert_int_equal(r.start_rc, 0);
	assert_false(r.called_during_start);
	assert_int_equal(r.out.calls, 1);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.out.verdict, OA_STATUS_PASS);
	assert_int_equal(r.out.n_origins, 1);
	assert_int_equal(r.out.n_probes, 1);
	assert_int_equal(r.out.counts[OA_STATUS_PASS], 1);
	assert_int_equal(r.out.probe_verdict, OA_STATUS_PASS);
	assert_string_equal(r.out.probe_error, "");
	assert_true(r.out.has_chain_result);
	oa_config_destroy(config);
}

/* The intermediate is missing: the same path reports fail, with the chain graded. */
static void test_start_in_running_loop_fail(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf};
	oa_test_origin *server = start_server(e, chain, 1);
	oa_config *config = config_for(oa_test_origin_port(server));
	struct run r;

	scan_in_running_loop(e, config, server, &r);
	assert_int_equal(r.start_rc, 0);
	assert_false(r.called_during_start);
	assert_int_equal(r.out.calls, 1);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.out.verdict, OA_STATUS_FAIL);
	assert_int_equal(r.out.counts[OA_STATUS_FAIL], 1);
	assert_int_equal(r.out.probe_verdict, OA_STATUS_FAIL);
	assert_string_equal(r.out.probe_error, "");
	assert_true(r.out.has_chain_result);
	oa_config_destroy(config);
}

/*
 * Every probe is settled inside oa_scan_start (port 0 cannot be probed, so
 * the probe fails before it starts): the report still arrives later, from
 * the loop, never from inside oa_scan_start.
 */
static void test_start_settled_at_once_reports_later(void **state)
{
	struct env *e = *state;
	static char *addresses[] = {(char *)"127.0.0.1"};
	oa_origin_config origin;
	oa_config config;
	struct run r;

	memset(&origin, 0, sizeof(origin));
	origin.id = (char *)"portless";
	origin.domain_name = (char *)HOST;
	origin.origin_path = (char *)"";
	origin.https_port = 0;
	origin.http_port = 80;
	origin.protocol_policy = OA_ORIGIN_HTTPS_ONLY;
	origin.ssl_protocols = OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3;
	origin.addresses = addresses;
	origin.n_addresses = 1;
	memset(&config, 0, sizeof(config));
	config.origins = &origin;
	config.n_origins = 1;
	config.scan.connect_timeout_ms = TIMEOUT_MS;
	config.scan.handshake_timeout_ms = TIMEOUT_MS;

	scan_in_running_loop(e, &config, NULL, &r);
	assert_int_equal(r.start_rc, 0);
	assert_false(r.called_during_start);
	assert_int_equal(r.out.calls, 1);
	assert_int_equal(r.out.status, 0);
	assert_int_equal(r.out.verdict, OA_STATUS_ERROR);
	assert_int_equal(r.out.n_probes, 1);
	assert_int_equal(r.out.counts[OA_STATUS_ERROR], 1);
	assert_int_equal(r.out.probe_verdict, OA_STATUS_ERROR);
	assert_string_equal(r.out.probe_error, "network_error");
	assert_false(r.out.has_chain_result);
}

/* oa_scan_run is oa_scan_start plus running the loop: same report on an idle loop. */
static void test_run_on_idle_loop(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	oa_test_origin *server = start_server(e, chain, 2);
	oa_config *config = config_for(oa_test_origin_port(server));
	oa_scan_options opts;
	oa_scan_report *report = NULL;

	oa_scan_options_from_config(&opts, config);
	assert_int_equal(oa_scan_run(&e->loop, config, e->store, &opts, &report), 0);
	assert_non_null(report);
	assert_int_equal(report->verdict, OA_STATUS_PASS);
	assert_int_equal(report->n_probes, 1);
	assert_int_equal(report->counts[OA_STATUS_PASS], 1);
	oa_scan_report_destroy(report);
	oa_test_origin_destroy(server);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_alive(&e->loop), 0);
	oa_config_destroy(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_start_in_running_loop_pass, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_in_running_loop_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_settled_at_once_reports_later, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_run_on_idle_loop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
