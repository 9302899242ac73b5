/*
 * The connection's typed failures (oa_conn_failure_of): what the probe and
 * the proxy decide on, against real peers on loopback — nobody listening, a
 * peer that answers plain text, one that closes at once, one that never
 * answers — each with the enum, its name and the report string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "fixtures.h"
#include "originaudit/config.h"
#include "originaudit/conn.h"

/* What the loopback peer does with each connection it accepts. */
enum peer_mode {
	PEER_PLAIN_TEXT,
	PEER_CLOSE,
	PEER_SILENT,
};

struct peer {
	uv_tcp_t server;
	enum peer_mode mode;
	uv_tcp_t *client;
	unsigned port;
};

struct outcome {
	bool ready;
	int status;
	oa_conn_failure failure;
	char error[64];
	bool closed;
};

static void on_peer_write(uv_write_t *req, int status)
{
	free(req);
}

static void on_client_closed(uv_handle_t *handle)
{
	free(handle);
}

static void on_peer_connection(uv_stream_t *server, int status)
{
	struct peer *peer = server->data;
	uv_tcp_t *client = calloc(1, sizeof(*client));

	assert_int_equal(status, 0);
	assert_non_null(client);
	uv_tcp_init(server->loop, client);
	assert_int_equal(uv_accept(server, (uv_stream_t *)client), 0);
	switch (peer->mode) {
	case PEER_PLAIN_TEXT: {
		static char text[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
		uv_buf_t buf = uv_buf_init(text, sizeof(text) - 1);
		uv_write_t *req = calloc(1, sizeof(*req));

		uv_write(req, (uv_stream_t *)client, &buf, 1, on_peer_write);
		peer->client = client;
		break;
	}
	case PEER_CLOSE:
		uv_close((uv_handle_t *)client, on_client_closed);
		break;
	case PEER_SILENT:
		peer->client = client;
		break;
	}
}

static void peer_start(uv_loop_t *loop, struct peer *peer, enum peer_mode mode)
{
	struct sockaddr_in addr;
	struct sockaddr_storage bound;
	int len = sizeof(bound);

	memset(peer, 0, sizeof(*peer));
	peer->mode = mode;
	uv_tcp_init(loop, &peer->server);
	peer->server.data = peer;
	uv_ip4_addr("127.0.0.1", 0, &addr);
	assert_int_equal(uv_tcp_bind(&peer->server, (const struct sockaddr *)&addr, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&peer->server, 8, on_peer_connection), 0);
	uv_tcp_getsockname(&peer->server, (struct sockaddr *)&bound, &len);
	peer->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void peer_stop(struct peer *peer)
{
	if (peer->client != NULL) {
		uv_close((uv_handle_t *)peer->client, on_client_closed);
		peer->client = NULL;
	}
	uv_close((uv_handle_t *)&peer->server, NULL);
}

static void on_ready(oa_conn *conn, int status, void *data)
{
	struct outcome *o = data;

	o->ready = true;
	o->status = status;
	o->failure = oa_conn_failure_of(conn);
	snprintf(o->error, sizeof(o->error), "%s", oa_conn_error(conn));
	if (status == 0) {
		oa_conn_close(conn);
	}
}

static void on_data(oa_conn *conn, const char *buf, ssize_t nread, void *data)
{
}

static void on_closed(oa_conn *conn, void *data)
{
	struct outcome *o = data;

	o->closed = true;
}

/* Connects to 127.0.0.1:port (TLS when tls) and runs the loop until the connection is gone. */
static struct outcome connect_to(uv_loop_t *loop, unsigned port, bool tls, struct peer *peer)
{
	static const oa_conn_cbs cbs = {on_ready, on_data, NULL, on_closed};
	oa_conn_opts opts = {
	    .address = "127.0.0.1",
	    .port = port,
	    .tls = tls,
	    .sni = "origin.example.com",
	    .connect_timeout_ms = 2000,
	    .handshake_timeout_ms = 300,
	    .versions = OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3,
	};
	struct outcome o = {0};
	oa_conn *conn = NULL;

	assert_int_equal(oa_conn_start(loop, &opts, &cbs, &o, &conn), 0);
	while (!o.closed) {
		uv_run(loop, UV_RUN_ONCE);
	}
	if (peer != NULL) {
		peer_stop(peer);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	assert_true(o.ready);
	return o;
}

static void expect_failure(const struct outcome *o, oa_conn_failure failure, const char *error)
{
	if (o->status >= 0 || o->failure != failure || strcmp(o->error, error) != 0) {
		fail_msg("got status %d, failure %d (%s), error '%s'; want failure %d (%s), '%s'",
			 o->status, (int)o->failure, oa_conn_failure_name(o->failure), o->error,
			 (int)failure, oa_conn_failure_name(failure), error);
	}
}

static void test_refused(void **state)
{
	uv_loop_t loop;
	unsigned port = fx_free_port("127.0.0.1");

	uv_loop_init(&loop);
	struct outcome o = connect_to(&loop, port, true, NULL);
	expect_failure(&o, OA_CONN_REFUSED, "connection_refused");
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_not_tls(void **state)
{
	uv_loop_t loop;
	struct peer peer;

	uv_loop_init(&loop);
	peer_start(&loop, &peer, PEER_PLAIN_TEXT);
	struct outcome o = connect_to(&loop, peer.port, true, &peer);
	expect_failure(&o, OA_CONN_NOT_TLS, "not_tls");
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_closed_during_handshake(void **state)
{
	uv_loop_t loop;
	struct peer peer;

	uv_loop_init(&loop);
	peer_start(&loop, &peer, PEER_CLOSE);
	struct outcome o = connect_to(&loop, peer.port, true, &peer);
	/* The close can reach the client as an orderly end or as a reset. */
	if (o.failure == OA_CONN_RESET) {
		expect_failure(&o, OA_CONN_RESET, "connection_reset");
	} else {
		expect_failure(&o, OA_CONN_CLOSED, "connection_closed");
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_handshake_timeout(void **state)
{
	uv_loop_t loop;
	struct peer peer;

	uv_loop_init(&loop);
	peer_start(&loop, &peer, PEER_SILENT);
	struct outcome o = connect_to(&loop, peer.port, true, &peer);
	expect_failure(&o, OA_CONN_HANDSHAKE_TIMEOUT, "handshake_timeout");
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Plain TCP to a listening peer: ready, no failure. */
static void test_plain_connect_ok(void **state)
{
	uv_loop_t loop;
	struct peer peer;

	uv_loop_init(&loop);
	peer_start(&loop, &peer, PEER_SILENT);
	struct outcome o = connect_to(&loop, peer.port, false, &peer);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.failure, OA_CONN_OK);
	assert_string_equal(o.error, "");
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Every failure has its stable name: the strings reports and logs have always carried. */
static void test_failure_names(void **state)
{
	static const struct {
		oa_conn_failure failure;
		const char *name;
	} names[] = {
	    {OA_CONN_OK, ""},
	    {OA_CONN_REFUSED, "connection_refused"},
	    {OA_CONN_CONNECT_TIMEOUT, "connect_timeout"},
	    {OA_CONN_HANDSHAKE_TIMEOUT, "handshake_timeout"},
	    {OA_CONN_RESET, "connection_reset"},
	    {OA_CONN_CLOSED, "connection_closed"},
	    {OA_CONN_TLS_ALERT, "tls_alert"},
	    {OA_CONN_NOT_TLS, "not_tls"},
	    {OA_CONN_TLS_ERROR, "tls_error"},
	    {OA_CONN_HANDSHAKE_TOO_LARGE, "handshake_too_large"},
	    {OA_CONN_NETWORK_ERROR, "network_error"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_string_equal(oa_conn_failure_name(names[i].failure), names[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failure_names),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_not_tls),
	    cmocka_unit_test(test_closed_during_handshake),
	    cmocka_unit_test(test_handshake_timeout),
	    cmocka_unit_test(test_plain_connect_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
