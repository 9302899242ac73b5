/*
 * The scan engine started on a loop that is already running (oa_scan_start),
 * as the proxy does for its periodic audits: the scan is started from a timer
 * callback while other handles keep the loop busy, its report arrives in a
 * callback and is freed there, and afterwards every handle is closed.
 */
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/* Scans config on e's idle loop (oa_scan_run); returns the report, caller frees it. */
static oa_scan_report *scan_now(struct env *e, const oa_config *config)
{
	oa_scan_options opts;
	oa_scan_report *report = NULL;

	oa_scan_options_from_config(&opts, config);
	assert_int_equal(oa_scan_run(&e->loop, config, e->store, &opts, &report), 0);
	assert_non_null(report);
	return report;
}

/* Destroys server and lets its close callbacks run, so the loop ends empty. */
static void stop_server(struct env *e, oa_test_origin *server)
{
	oa_test_origin_destroy(server);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_alive(&e->loop), 0);
}

/* The JSON report of report, parsed. */
static json_t *report_json(const oa_scan_report *report)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_error_t jerr;

	assert_non_null(f);
	assert_int_equal(oa_scan_write_json(report, f), 0);
	assert_int_equal(fclose(f), 0);
	json_t *root = json_loadb(text, len, 0, &jerr);
	if (root == NULL) {
		fail_msg("report JSON: %s", jerr.text);
	}
	free(text);
	return root;
}

/* Points origin o at the single address (as --resolve or "addresses" would). */
static void set_address(oa_origin_config *o, const char *address)
{
	o->addresses = calloc(1, sizeof(*o->addresses));
	assert_non_null(o->addresses);
	o->addresses[0] = strdup(address);
	assert_non_null(o->addresses[0]);
	o->n_addresses = 1;
}

/*
 * A VPC origin from a CloudFront import is probed and graded like a custom
 * origin (HTTPS on the VpcOriginConfig's HTTPSPort), not skipped as S3, and
 * the JSON report marks it vpc_origin: true.
 */
static void test_vpc_origin_probed(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	oa_test_origin *server = start_server(e, chain, 2);
	char text[1024];
	oa_config *config = NULL;
	oa_error err;

	snprintf(text, sizeof(text),
		 "{\"DistributionConfig\": {\"Origins\": {\"Quantity\": 2, \"Items\": ["
		 "{\"Id\": \"app\", \"DomainName\": \"%s\", \"VpcOriginConfig\":"
		 " {\"VpcOriginId\": \"vo_test\", \"HTTPSPort\": %u}},"
		 "{\"Id\": \"bucket\", \"DomainName\": \"b.s3.amazonaws.com\"}]},"
		 "\"DefaultCacheBehavior\": {\"TargetOriginId\": \"app\"}}}",
		 HOST, oa_test_origin_port(server));
	char *path = fx_path(e->dir, "dist.json");
	fx_write(path, text, strlen(text));
	if (oa_config_load_cloudfront_file(path, &config, &err) < 0) {
		fail_msg("import: %s", err.msg);
	}
	free(path);
	/* The VPC's private name does not resolve here: the test stands in for the VPC's DNS. */
	set_address(&config->origins[0], "127.0.0.1");
	config->scan.connect_timeout_ms = TIMEOUT_MS;
	config->scan.handshake_timeout_ms = TIMEOUT_MS;

	oa_scan_report *report = scan_now(e, config);
	assert_int_equal(report->verdict, OA_STATUS_PASS);
	assert_int_equal(report->counts[OA_STATUS_PASS], 1);
	assert_int_equal(report->counts[OA_STATUS_SKIP], 1);
	assert_int_equal(report->n_probes, 1);
	const oa_scan_origin *so = &report->origins[0];
	assert_null(so->skipped);
	assert_int_equal(so->verdict, OA_STATUS_PASS);
	assert_int_equal(so->port, oa_test_origin_port(server));
	assert_int_equal(so->n_probes, 1);
	const oa_probe_spec *spec = oa_probe_get_spec(so->probes[0]);
	assert_int_equal(spec->kind, OA_PROBE_HTTPS);
	assert_string_equal(spec->address, "127.0.0.1");
	assert_string_equal(spec->sni, HOST);
	assert_int_equal(oa_probe_get_result(so->probes[0])->verdict, OA_STATUS_PASS);
	assert_int_equal(oa_test_origin_connections(server), 1);

	json_t *root = report_json(report);
	json_t *app = json_array_get(json_object_get(root, "origins"), 0);
	json_t *bucket = json_array_get(json_object_get(root, "origins"), 1);
	assert_true(json_is_true(json_object_get(app, "vpc_origin")));
	assert_string_equal(json_string_value(json_object_get(app, "verdict")), "pass");
	assert_string_equal(json_string_value(json_object_get(app, "ip_address_type")),
			    "dualstack");
	assert_true(json_is_null(json_object_get(app, "skipped")));
	assert_int_equal(json_array_size(json_object_get(app, "probes")), 1);
	assert_true(json_is_false(json_object_get(bucket, "vpc_origin")));
	assert_string_equal(json_string_value(json_object_get(bucket, "skipped")), "s3_origin");
	json_decref(root);

	oa_scan_report_destroy(report);
	stop_server(e, server);
	oa_config_destroy(config);
}

/* One https-only origin for domain at 127.0.0.1:port with the given address type. */
static void plain_origin(oa_origin_config *o, const char *domain, unsigned port,
			 oa_ip_address_type type)
{
	memset(o, 0, sizeof(*o));
	o->id = (char *)"o";
	o->domain_name = (char *)domain;
	o->origin_path = (char *)"";
	o->https_port = port;
	o->http_port = 80;
	o->protocol_policy = OA_ORIGIN_HTTPS_ONLY;
	o->ssl_protocols = OA_PROTO_TLS1_2;
	o->ip_address_type = type;
}

static void one_origin_config(oa_config *config, oa_origin_config *o)
{
	memset(config, 0, sizeof(*config));
	config->origins = o;
	config->n_origins = 1;
	config->scan.connect_timeout_ms = TIMEOUT_MS;
	config->scan.handshake_timeout_ms = TIMEOUT_MS;
}

/*
 * An ipv6 origin given only an IPv4 address (the loader refuses that; a
 * configuration built in code or rewritten by --resolve can hold it): no
 * IPv4 probe, the origin is an error saying why.
 */
static void test_ipv6_origin_skips_ipv4_address(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	oa_test_origin *server = start_server(e, chain, 2);
	static char *addresses[] = {(char *)"127.0.0.1"};
	oa_origin_config o;
	oa_config config;

	plain_origin(&o, HOST, oa_test_origin_port(server), OA_IP_IPV6);
	o.addresses = addresses;
	o.n_addresses = 1;
	one_origin_config(&config, &o);

	oa_scan_report *report = scan_now(e, &config);
	assert_int_equal(report->verdict, OA_STATUS_ERROR);
	assert_int_equal(report->counts[OA_STATUS_ERROR], 1);
	assert_int_equal(report->origins[0].n_probes, 1);
	const oa_probe_result *r = oa_probe_get_result(report->origins[0].probes[0]);
	assert_int_equal(r->verdict, OA_STATUS_ERROR);
	assert_string_equal(r->error, "dns_failed");
	assert_string_equal(r->error_detail,
			    "no address of origin.example.com is IPv6 (ip_address_type ipv6)");
	assert_null(r->result);
	assert_int_equal(oa_test_origin_connections(server), 0);

	json_t *root = report_json(report);
	json_t *origin = json_array_get(json_object_get(root, "origins"), 0);
	assert_string_equal(json_string_value(json_object_get(origin, "ip_address_type")), "ipv6");
	assert_true(json_is_false(json_object_get(origin, "vpc_origin")));
	json_decref(root);
	oa_scan_report_destroy(report);
	stop_server(e, server);
}

/* Whether the system resolver gives name an IPv6 address (/etc/hosts differs between hosts). */
static bool has_ipv6_address(const char *name)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	bool found = false;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0) {
		return false;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		found = found || ai->ai_family == AF_INET6;
	}
	freeaddrinfo(res);
	return found;
}

/*
 * An ipv6 origin named "localhost", the test origin on 127.0.0.1: the A
 * record is never probed. Without an AAAA record for localhost the origin is
 * dns_failed with the reason; with one, only IPv6 addresses are probed.
 */
static void test_ipv6_origin_resolves_aaaa_only(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	oa_test_origin *server = start_server(e, chain, 2);
	bool aaaa = has_ipv6_address("localhost");
	oa_origin_config o;
	oa_config config;

	plain_origin(&o, "localhost", oa_test_origin_port(server), OA_IP_IPV6);
	one_origin_config(&config, &o);

	oa_scan_report *report = scan_now(e, &config);
	assert_int_equal(report->verdict, OA_STATUS_ERROR);
	assert_true(report->origins[0].n_probes >= 1);
	for (size_t i = 0; i < report->origins[0].n_probes; i++) {
		const oa_probe *p = report->origins[0].probes[i];
		const oa_probe_result *r = oa_probe_get_result(p);

		assert_int_equal(r->verdict, OA_STATUS_ERROR);
		if (aaaa) {
			assert_non_null(strchr(oa_probe_get_spec(p)->address, ':'));
		} else {
			assert_int_equal(report->origins[0].n_probes, 1);
			assert_string_equal(r->error, "dns_failed");
			assert_string_equal(r->error_detail,
					    "cannot resolve localhost: no AAAA record "
					    "(ip_address_type ipv6; the name has only IPv4 "
					    "addresses)");
		}
	}
	assert_int_equal(oa_test_origin_connections(server), 0);
	oa_scan_report_destroy(report);
	stop_server(e, server);
}

/*
 * The same name with ipv4: exactly one probe, at 127.0.0.1, graded (the
 * certificate is for origin.example.com, so the name check fails).
 */
static void test_ipv4_origin_resolves_a_only(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	oa_test_origin *server = start_server(e, chain, 2);
	oa_origin_config o;
	oa_config config;

	plain_origin(&o, "localhost", oa_test_origin_port(server), OA_IP_IPV4);
	one_origin_config(&config, &o);

	oa_scan_report *report = scan_now(e, &config);
	assert_int_equal(report->origins[0].n_probes, 1);
	const oa_probe *p = report->origins[0].probes[0];
	const oa_probe_result *r = oa_probe_get_result(p);
	assert_string_equal(oa_probe_get_spec(p)->address, "127.0.0.1");
	assert_string_equal(r->error, "");
	assert_non_null(r->result);
	assert_int_equal(r->verdict, OA_STATUS_FAIL);
	assert_int_equal(report->verdict, OA_STATUS_FAIL);
	assert_int_equal(oa_test_origin_connections(server), 1);
	oa_scan_report_destroy(report);
	stop_server(e, server);
}

/*
 * A behaviour that forwards Host to an origin group: the failover member is
 * probed with the alias as SNI too, as the primary is, since CloudFront sends
 * it the same requests when the primary fails.
 */
static void test_origin_group_member_gets_alias_probe(void **state)
{
	struct env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	oa_test_origin *server = start_server(e, chain, 2);
	static char *addresses[] = {(char *)"127.0.0.1"};
	static char *aliases[] = {(char *)"www.example.com"};
	size_t members[] = {0, 1};
	oa_origin_config o[2];
	oa_config config;

	plain_origin(&o[0], HOST, oa_test_origin_port(server), OA_IP_DUALSTACK);
	plain_origin(&o[1], HOST, oa_test_origin_port(server), OA_IP_DUALSTACK);
	o[1].id = (char *)"spare";
	o[0].addresses = addresses;
	o[0].n_addresses = 1;
	o[1].addresses = addresses;
	o[1].n_addresses = 1;
	one_origin_config(&config, o);
	config.n_origins = 2;
	config.aliases = aliases;
	config.n_aliases = 1;
	config.has_default_behavior = true;
	config.default_behavior.origin_id = (char *)"o";
	config.default_behavior.origin_index = 0;
	config.default_behavior.forward_host_header = true;
	config.default_behavior.group_members = members;
	config.default_behavior.n_group_members = 2;

	oa_scan_report *report = scan_now(e, &config);
	assert_int_equal(report->verdict, OA_STATUS_PASS);
	for (size_t i = 0; i < 2; i++) {
		const oa_scan_origin *so = &report->origins[i];

		assert_int_equal(so->n_probes, 1);
		assert_string_equal(oa_probe_get_spec(so->probes[0])->sni, "www.example.com");
		assert_int_equal(so->verdict, OA_STATUS_PASS);
	}
	oa_scan_report_destroy(report);
	stop_server(e, server);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_start_in_running_loop_pass, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_in_running_loop_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_settled_at_once_reports_later, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_run_on_idle_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vpc_origin_probed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6_origin_skips_ipv4_address, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6_origin_resolves_aaaa_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv4_origin_resolves_a_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_origin_group_member_gets_alias_probe, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
