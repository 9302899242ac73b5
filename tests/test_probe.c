/*
 * The probe against real TLS servers on loopback: openssl s_server sends the
 * chain in the file's order (wrong orders included) and can be restricted to
 * one TLS version; misbehaving servers are plain sockets in this process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/probe.h"
#include "originaudit/trust.h"

#define HOST "origin.example.com"

struct env {
	char *dir;
	fx_pki pki;
	char *bundle;
	oa_trust_store *store;
	int server;
	unsigned port;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	oa_error err;

	assert_non_null(e);
	e->dir = fx_tempdir();
	fx_pki_make(&e->pki);
	e->bundle = fx_bundle_file(e->dir, "roots.pem", e->pki.root);
	assert_int_equal(oa_trust_store_load(e->bundle, &e->store, &err), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fx_kill(e->server);
	oa_trust_store_destroy(e->store);
	free(e->bundle);
	fx_pki_free(&e->pki);
	fx_tempdir_remove(e->dir);
	free(e);
	return 0;
}

/* Starts openssl s_server serving leaf (with key) and the rest of chain in order. */
static void start_s_server(struct env *e, const char *address, const oa_pki_cert *leaf,
			   const oa_pki_cert *const *rest, size_t n_rest, const char *const *extra)
{
	e->server =
	    fx_s_server_start("openssl", e->dir, address, leaf, rest, n_rest, extra, &e->port);
}

static void probe_with(fx_probed *pr, const oa_trust_store *store, oa_probe_kind kind,
		       const char *address, unsigned port, unsigned protocols, bool enumerate,
		       unsigned timeout_ms)
{
	static const char *const names[] = {HOST};
	oa_probe_spec spec;

	memset(&spec, 0, sizeof(spec));
	spec.kind = kind;
	spec.address = address;
	spec.port = port;
	spec.sni = HOST;
	spec.names = names;
	spec.n_names = 1;
	spec.ssl_protocols = protocols;
	spec.connect_timeout_ms = timeout_ms;
	spec.handshake_timeout_ms = timeout_ms;
	spec.enumerate_protocols = enumerate;
	spec.at = time(NULL);
	spec.policy.warn_days = 30;
	spec.policy.critical_days = 7;
	spec.http_only = true;
	fx_probe_run(pr, &spec, store);
}

static void test_good_origin(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	const oa_pki_cert *rest[] = {e->pki.inter};

	start_s_server(e, "127.0.0.1", e->pki.leaf, rest, 1, NULL);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", e->port, OA_PROTO_TLS1_2, false,
		   5000);
	assert_string_equal(pr.r->error, "");
	assert_int_equal(pr.r->verdict, OA_STATUS_PASS);
	assert_string_equal(pr.r->tls_version, "TLS1.2");
	assert_true(strlen(pr.r->cipher) > 0);
	assert_string_equal(pr.r->protocols.reason, "negotiated");
	fx_assert_check(pr.r->result, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_assert_check(pr.r->result, OA_CHECK_NAME, OA_STATUS_PASS, "matched");
	assert_int_equal(oa_result_cert_count(pr.r->result), 2);
	fx_probed_free(&pr);
}

static void test_wrong_order_on_the_wire(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	const oa_pki_cert *rest[] = {e->pki.root, e->pki.inter};

	start_s_server(e, "127.0.0.1", e->pki.leaf, rest, 2, NULL);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", e->port, OA_PROTO_TLS1_2, false,
		   5000);
	assert_int_equal(pr.r->verdict, OA_STATUS_FAIL);
	fx_assert_check(pr.r->result, OA_CHECK_CHAIN_ORDER, OA_STATUS_FAIL, "wrong_order");
	fx_assert_check(pr.r->result, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	assert_int_equal(oa_result_cert(pr.r->result, 1)->role, OA_ROLE_ROOT);
	fx_probed_free(&pr);
}

static void test_missing_intermediate_on_the_wire(void **state)
{
	struct env *e = *state;
	fx_probed pr;

	start_s_server(e, "127.0.0.1", e->pki.leaf, NULL, 0, NULL);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", e->port, OA_PROTO_TLS1_2, false,
		   5000);
	assert_int_equal(pr.r->verdict, OA_STATUS_FAIL);
	fx_assert_check(pr.r->result, OA_CHECK_TRUST, OA_STATUS_FAIL, "missing_intermediate");
	fx_probed_free(&pr);
}

static void test_ipv6(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	const oa_pki_cert *rest[] = {e->pki.inter};

	start_s_server(e, "::1", e->pki.leaf, rest, 1, NULL);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "::1", e->port, OA_PROTO_TLS1_2, false, 5000);
	assert_int_equal(pr.r->verdict, OA_STATUS_PASS);
	fx_probed_free(&pr);
}

/* The allowed versions fail; a second handshake still grades the certificate. */
static void test_protocol_mismatch_tls13_only_server(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	const oa_pki_cert *rest[] = {e->pki.inter};
	const char *const extra[] = {"-tls1_3", NULL};

	start_s_server(e, "127.0.0.1", e->pki.leaf, rest, 1, extra);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", e->port, OA_PROTO_TLS1_2, false,
		   5000);
	assert_string_equal(pr.r->error, "");
	assert_int_equal(pr.r->protocols.status, OA_STATUS_FAIL);
	assert_string_equal(pr.r->protocols.reason, "protocol_mismatch");
	assert_string_equal(pr.r->tls_version, "TLS1.3");
	assert_int_equal(pr.r->verdict, OA_STATUS_FAIL);
	fx_assert_check(pr.r->result, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	fx_probed_free(&pr);
}

static void test_protocol_mismatch_tls10_only_server(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	const oa_pki_cert *rest[] = {e->pki.inter};
	const char *const extra[] = {"-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};

	start_s_server(e, "127.0.0.1", e->pki.leaf, rest, 1, extra);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", e->port, OA_PROTO_TLS1_2, false,
		   5000);
	assert_string_equal(pr.r->protocols.reason, "protocol_mismatch");
	assert_int_equal(pr.r->verdict, OA_STATUS_FAIL);
	if (pr.r->error[0] == '\0') {
		/* This GnuTLS still speaks TLS 1.0: the certificate is graded too. */
		assert_string_equal(pr.r->tls_version, "TLS1.0");
		fx_assert_check(pr.r->result, OA_CHECK_TRUST, OA_STATUS_PASS, "trusted");
	}
	fx_probed_free(&pr);
}

static void test_enumerate_protocols(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	const oa_pki_cert *rest[] = {e->pki.inter};
	const char *const extra[] = {"-no_tls1", "-no_tls1_1", NULL};

	start_s_server(e, "127.0.0.1", e->pki.leaf, rest, 1, extra);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", e->port, OA_PROTO_TLS1_2, true,
		   5000);
	assert_int_equal(pr.r->verdict, OA_STATUS_PASS);
	assert_int_equal(pr.r->protocols_tested,
			 OA_PROTO_TLS1_0 | OA_PROTO_TLS1_1 | OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3);
	assert_int_equal(pr.r->protocols_accepted, OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3);
	assert_string_equal(pr.r->error, "");
	fx_probed_free(&pr);
}

static void test_refused_port(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	unsigned port = fx_free_port("127.0.0.1");

	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", port, OA_PROTO_TLS1_2, false, 5000);
	assert_int_equal(pr.r->verdict, OA_STATUS_ERROR);
	assert_string_equal(pr.r->error, "connection_refused");
	assert_null(pr.r->result);
	assert_true(pr.r->duration_ms < 1000);
	fx_probed_free(&pr);
}

/* A listener that never accepts: the kernel completes TCP, nobody speaks TLS. */
static int listen_silent(const char *address, unsigned *port, int backlog)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, address, &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void test_tarpit_handshake_timeout(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	unsigned port;
	int fd = listen_silent("127.0.0.1", &port, 16);

	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", port, OA_PROTO_TLS1_2, false, 400);
	assert_int_equal(pr.r->verdict, OA_STATUS_ERROR);
	assert_string_equal(pr.r->error, "handshake_timeout");
	assert_in_range((long)pr.r->duration_ms, 390, 1500);
	fx_probed_free(&pr);
	close(fd);
}

/* A full backlog drops SYNs: the connection attempt itself times out. */
static void test_connect_timeout(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	unsigned port;
	int fd = listen_silent("127.0.0.1", &port, 0);
	int fillers[4];
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	for (int i = 0; i < 4; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	probe_with(&pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", port, OA_PROTO_TLS1_2, false, 400);
	assert_int_equal(pr.r->verdict, OA_STATUS_ERROR);
	assert_string_equal(pr.r->error, "connect_timeout");
	assert_in_range((long)pr.r->duration_ms, 390, 1500);
	fx_probed_free(&pr);
	for (int i = 0; i < 4; i++) {
		close(fillers[i]);
	}
	close(fd);
}

struct garbage_server {
	int fd;
	const char *reply;
	bool reset;
};

static void *garbage_main(void *arg)
{
	struct garbage_server *g = arg;
	int c = accept(g->fd, NULL, NULL);

	if (c >= 0) {
		char buf[512];

		if (g->reset) {
			struct linger lg = {1, 0};

			(void)read(c, buf, sizeof(buf));
			setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		} else {
			(void)write(c, g->reply, strlen(g->reply));
			usleep(200000);
		}
		close(c);
	}
	return NULL;
}

static void run_against_thread(struct env *e, struct garbage_server *g, fx_probed *pr)
{
	pthread_t th;
	unsigned port;

	g->fd = listen_silent("127.0.0.1", &port, 4);
	assert_int_equal(pthread_create(&th, NULL, garbage_main, g), 0);
	probe_with(pr, e->store, OA_PROBE_HTTPS, "127.0.0.1", port, OA_PROTO_TLS1_2, false, 3000);
	pthread_join(th, NULL);
	close(g->fd);
}

static void test_garbage_not_tls(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	struct garbage_server g = {-1, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
				   false};

	run_against_thread(e, &g, &pr);
	assert_int_equal(pr.r->verdict, OA_STATUS_ERROR);
	assert_string_equal(pr.r->error, "not_tls");
	assert_non_null(strstr(pr.r->error_detail, "HTTP/1.1 400"));
	fx_probed_free(&pr);
}

static void test_reset_during_handshake(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	struct garbage_server g = {-1, NULL, true};

	run_against_thread(e, &g, &pr);
	assert_int_equal(pr.r->verdict, OA_STATUS_ERROR);
	assert_string_equal(pr.r->error, "connection_reset");
	fx_probed_free(&pr);
}

static void test_http_only_connect(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	unsigned port;
	int fd = listen_silent("127.0.0.1", &port, 4);

	probe_with(&pr, e->store, OA_PROBE_HTTP, "127.0.0.1", port, 0, false, 2000);
	assert_int_equal(pr.r->verdict, OA_STATUS_WARN);
	assert_string_equal(pr.r->http.reason, "http_only");
	assert_null(pr.r->result);
	/* An HTTP probe negotiates no TLS: no protocols check. */
	assert_false(pr.r->protocols.present);
	fx_probed_free(&pr);
	close(fd);
}

/* An HTTP port that refuses: an error, and no http finding on top of it. */
static void test_http_refused_has_no_http_check(void **state)
{
	struct env *e = *state;
	fx_probed pr;
	unsigned port = fx_free_port("127.0.0.1");

	probe_with(&pr, e->store, OA_PROBE_HTTP, "127.0.0.1", port, 0, false, 2000);
	assert_int_equal(pr.r->verdict, OA_STATUS_ERROR);
	assert_string_equal(pr.r->error, "connection_refused");
	assert_false(pr.r->http.present);
	assert_false(pr.r->protocols.present);
	fx_probed_free(&pr);
}

/* Counts done_cb calls. */
static void count_done(oa_probe *probe, void *data)
{
	(*(int *)data)++;
}

/*
 * A probe whose connection cannot get a socket (no file descriptor left):
 * done_cb runs later, on the loop, never inside oa_probe_start, and the
 * probe reports network_error. Run in a child process, whose descriptors it
 * exhausts.
 */
static void test_start_without_fds_reports_later(void **state)
{
	pid_t pid = fork();
	int status = 0;

	assert_true(pid >= 0);
	if (pid == 0) {
		static const char *const names[] = {HOST};
		uv_loop_t loop;
		oa_probe_spec spec;
		oa_probe *probe = NULL;
		int calls = 0;

		if (uv_loop_init(&loop) != 0) {
			_exit(10);
		}
		memset(&spec, 0, sizeof(spec));
		spec.kind = OA_PROBE_HTTPS;
		spec.address = "127.0.0.1";
		spec.port = fx_free_port("127.0.0.1");
		spec.sni = HOST;
		spec.names = names;
		spec.n_names = 1;
		spec.ssl_protocols = OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3;
		spec.connect_timeout_ms = 1000;
		spec.handshake_timeout_ms = 1000;
		spec.at = time(NULL);
		/* Every descriptor taken: the connection cannot make its socket. */
		while (dup(0) >= 0) {
		}
		if (errno != EMFILE) {
			_exit(11);
		}
		if (oa_probe_start(&loop, &spec, NULL, count_done, &calls, &probe) != 0 ||
		    calls != 0) {
			_exit(12);
		}
		uv_run(&loop, UV_RUN_DEFAULT);
		const oa_probe_result *r = oa_probe_get_result(probe);
		/* _exit: the child's descriptors and loop go with it. */
		_exit(calls == 1 && strcmp(r->error, "network_error") == 0 &&
			      r->verdict == OA_STATUS_ERROR
			  ? 0
			  : 13);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_failed_probe_json(void **state)
{
	oa_probe_spec spec;
	oa_probe *probe = NULL;

	memset(&spec, 0, sizeof(spec));
	spec.kind = OA_PROBE_HTTPS;
	spec.sni = HOST;
	spec.port = 443;
	assert_int_equal(oa_probe_new_failed(&spec, "dns_failed", "cannot resolve", &probe), 0);
	json_t *j = oa_probe_result_to_json(probe);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "error")), "dns_failed");
	assert_true(json_is_null(json_object_get(j, "address")));
	json_decref(j);
	oa_probe_destroy(probe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_good_origin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_order_on_the_wire, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_intermediate_on_the_wire, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protocol_mismatch_tls13_only_server, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_protocol_mismatch_tls10_only_server, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_enumerate_protocols, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tarpit_handshake_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_not_tls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_during_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_only_connect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_http_refused_has_no_http_check, setup, teardown),
	    cmocka_unit_test(test_failed_probe_json),
	    cmocka_unit_test(test_start_without_fds_reports_later),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
