/*
 * What the transports guarantee, black box: the proxy binary through the
 * harness, and the core's client connection (originaudit/conn.h) through its
 * public API, always against real peers on loopback.
 *
 * 1. A viewer that keeps sending while its request is being answered is not
 *    read without bound: the proxy worker's peak RSS stays flat and the
 *    viewer's sends stall, over plain TCP and over TLS, and the request is
 *    still answered. (test_proxy_security's test_tls_receive_bounded floods a
 *    stalled request over TLS and never reads an answer; here the request is
 *    answered, over both listeners.)
 * 2. Pipelined requests written in one send are answered in order, each with
 *    its own response, exactly one response per request, plain and TLS.
 * 3. A paused client connection (oa_conn_pause) holds a bounded amount of a
 *    16 MiB TLS stream: this process's RSS stays flat, nothing is delivered
 *    while paused and the server is held back; after oa_conn_resume every
 *    byte arrives, in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "originaudit/config.h"
#include "originaudit/conn.h"
#include "proxy_harness.h"

/* How long the viewer floods, and how long the origin delays its answer (longer). */
#define FLOOD_MS 2500
#define ANSWER_DELAY_MS 3000
/* Socket buffers on both sides plus the proxy's own high-water mark: a few MB, not hundreds. */
#define FLOOD_MAX_BYTES (24ULL * 1024 * 1024)
/* The proxy worker's peak RSS may grow by this much while flooded. */
#define FLOOD_RSS_GROWTH_KB (16L * 1024)

#define PIPELINED 20

/* The stream the server sends to the paused client connection. */
#define STREAM_BYTES (16ULL * 1024 * 1024)
/* This process's RSS may grow by this much while the connection is paused (its cap: ~320 KiB). */
#define PAUSED_RSS_GROWTH_KB 2048L
#define PAUSE_MS 1500

/* ---- /proc ---- */

/* The field (VmRSS, VmHWM) of /proc/<pid>/status in kB; read without stdio (no allocation). */
static long status_kb(int pid, const char *field)
{
	char path[64];
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	size_t flen = strlen(field);

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	for (const char *line = buf; line != NULL && *line != '\0';) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			long kb = strtol(line + flen + 1, NULL, 10);

			assert_true(kb > 0);
			return kb;
		}
		line = strchr(line, '\n');
		line = line == NULL ? NULL : line + 1;
	}
	fail_msg("no %s in %s", field, path);
	return -1;
}

/* ---- a raw viewer over TCP or TLS whose sends may stall ---- */

struct raw_viewer {
	int fd;
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	/* TLS: a record is half sent (GnuTLS wants it retried with NULL, 0). */
	bool pending;
};

/* The flood's viewer, closed by the teardown when a test ends early. */
static struct raw_viewer flood_viewer = {.fd = -1};

static void set_timeout(int fd, int which, int timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	assert_int_equal(setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv)), 0);
}

/* Connects to 127.0.0.1:port (TLS: handshake, SNI PH_WWW, unverified); sends time out in 200 ms. */
static void raw_open(struct raw_viewer *v, unsigned port, bool tls)
{
	memset(v, 0, sizeof(*v));
	v->fd = ph_tcp_connect(port, 5000);
	assert_true(v->fd >= 0);
	if (tls) {
		int rc;

		assert_int_equal(gnutls_certificate_allocate_credentials(&v->cred), 0);
		assert_int_equal(gnutls_init(&v->session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL), 0);
		assert_int_equal(gnutls_set_default_priority(v->session), 0);
		assert_int_equal(
		    gnutls_credentials_set(v->session, GNUTLS_CRD_CERTIFICATE, v->cred), 0);
		assert_int_equal(
		    gnutls_server_name_set(v->session, GNUTLS_NAME_DNS, PH_WWW, strlen(PH_WWW)), 0);
		gnutls_transport_set_int(v->session, v->fd);
		do {
			rc = gnutls_handshake(v->session);
		} while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
		assert_int_equal(rc, 0);
	}
	set_timeout(v->fd, SO_SNDTIMEO, 200);
}

static void raw_close(struct raw_viewer *v)
{
	if (v->session != NULL) {
		gnutls_deinit(v->session);
		gnutls_certificate_free_credentials(v->cred);
	}
	if (v->fd >= 0) {
		close(v->fd);
	}
	memset(v, 0, sizeof(*v));
	v->fd = -1;
}

/* Sends up to len bytes: how many went, 0 when the send timed out (stalled), -1 on an error. */
static ssize_t raw_send(struct raw_viewer *v, const void *data, size_t len)
{
	if (v->session == NULL) {
		ssize_t n = send(v->fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			return 0;
		}
		return n;
	}
	ssize_t n = gnutls_record_send(v->session, v->pending ? NULL : data, v->pending ? 0 : len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		v->pending = true;
		return 0;
	}
	if (n < 0) {
		return -1;
	}
	v->pending = false;
	return n;
}

/* Sends all of s; fails the test otherwise. */
static void raw_send_all(struct raw_viewer *v, const char *s)
{
	size_t len = strlen(s);
	size_t off = 0;
	uint64_t until = ph_now_ms() + 5000;

	while (off < len && ph_now_ms() < until) {
		ssize_t n = raw_send(v, s + off, len - off);

		assert_true(n >= 0);
		off += (size_t)n;
	}
	assert_int_equal(off, len);
}

/* Receives into buf: bytes read, 0 at the end, -1 on an error or a timeout. */
static ssize_t raw_recv(struct raw_viewer *v, void *buf, size_t len)
{
	if (v->session == NULL) {
		return recv(v->fd, buf, len, 0);
	}
	ssize_t n;
	do {
		n = gnutls_record_recv(v->session, buf, len);
	} while (n == GNUTLS_E_INTERRUPTED);
	return n < 0 ? -1 : n;
}

/*
 * Reads one response framed by Content-Length into buf (NUL-terminated):
 * returns the length of its head, *body_len that of its body; fails the test
 * unless a whole response arrives within 15 s.
 */
static size_t raw_response(struct raw_viewer *v, char *buf, size_t cap, size_t *body_len)
{
	size_t len = 0;
	size_t head_len = 0;
	char value[32];

	set_timeout(v->fd, SO_RCVTIMEO, 15000);
	for (;;) {
		if (head_len == 0) {
			char *end = strstr(buf, "\r\n\r\n");

			if (len > 0 && end != NULL) {
				head_len = (size_t)(end + 4 - buf);
				char *head = strndup(buf, head_len);
				assert_non_null(head);
				bool framed =
				    ph_head_field(head, "Content-Length", 0, value, sizeof(value));
				free(head);
				if (!framed) {
					fail_msg("a response without Content-Length:\n%s", buf);
				}
				*body_len = strtoull(value, NULL, 10);
				assert_true(head_len + *body_len < cap);
			}
		}
		if (head_len != 0 && len >= head_len + *body_len) {
			return head_len;
		}
		if (len == cap - 1) {
			fail_msg("a response over %zu bytes", cap);
		}
		ssize_t n = raw_recv(v, buf + len, cap - 1 - len);
		if (n <= 0) {
			fail_msg("the connection ended (%zd) after %zu bytes of a response:\n%s", n,
				 len, buf);
		}
		len += (size_t)n;
		buf[len] = '\0';
	}
}

/* ---- 1. a viewer that keeps sending while its request is answered ---- */

static void flood_while_answered(ph_env *e, bool tls)
{
	ph_eo *o = ph_plain_origin(e, "slow", PH_EO_ECHO);
	/* One attempt, a read timeout (10 s) well past the answer's delay. */
	json_t *origin = ph_timing_origin(0, ph_eo_port(o), "http-only", 5, 1, 10);
	char req[256];
	char delay[64];
	static char chunk[16384];
	static char resp[65536];
	struct raw_viewer *vp = &flood_viewer;
	unsigned long long sent = 0;
	bool broke = false;
	size_t body_len = 0;

	snprintf(delay, sizeof(delay), "\r\nX-Echo-Delay-Ms: %d\r\n", ANSWER_DELAY_MS);
	snprintf(req, sizeof(req), "GET /slow HTTP/1.1\r\nHost: " PH_WWW "%s\r\n", delay);
	/* As test_proxy's streaming tests: a sanitized proxy keeps only 2 MB of freed blocks. */
	e->small_quarantine = true;
	ph_start_proxy(e, ph_single_config(origin, ph_proxy_block(e, tls, false, NULL)));
	int pid = ph_serving_pid(e);
	long before = ph_vm_hwm_kb(pid);
	raw_open(vp, tls ? e->tls_port : e->port, tls);
	uint64_t t0 = ph_now_ms();
	raw_send_all(vp, req);
	/* Pipelined bytes behind the request, for FLOOD_MS: the proxy must stop reading them. */
	memset(chunk, 'G', sizeof(chunk));
	while (ph_now_ms() < t0 + FLOOD_MS) {
		ssize_t n = raw_send(vp, chunk, sizeof(chunk));

		if (n < 0) {
			broke = true;
			break;
		}
		sent += (unsigned long long)n;
	}
	uint64_t flooded = ph_now_ms() - t0;
	long after = ph_vm_hwm_kb(pid);
	print_message("%s: sent %llu bytes in %llu ms; worker VmHWM %ld -> %ld kB\n",
		      tls ? "TLS" : "plain", sent, (unsigned long long)flooded, before, after);
	/* The flood ran its whole course on a live connection, while the request was in flight. */
	if (broke) {
		fail_msg("the connection broke after %llu bytes of the flood", sent);
	}
	if (sent > FLOOD_MAX_BYTES) {
		fail_msg("the proxy took %llu bytes from one viewer while answering it", sent);
	}
	if (after - before > FLOOD_RSS_GROWTH_KB) {
		fail_msg("worker peak RSS grew by %ld kB", after - before);
	}
	/* The request is answered, correctly, after the origin's delay. */
	size_t head_len = raw_response(vp, resp, sizeof(resp), &body_len);
	uint64_t answered = ph_now_ms() - t0;
	raw_close(vp);
	if (!ph_starts_with(resp, "HTTP/1.1 200 ")) {
		fail_msg("want a 200, got:\n%s", resp);
	}
	/* What may follow (the answer to the flood, read in the same recv) is not looked at. */
	resp[head_len + body_len] = '\0';
	resp[head_len - 2] = '\0';
	ph_expect_field(resp, "X-Origin-Name", "slow");
	ph_expect_field(resp, "X-Origin-Request", "1");
	const char *body = resp + head_len;
	assert_true(ph_starts_with(body, "GET /slow HTTP/1.1\r\n"));
	assert_non_null(strstr(body, delay));
	assert_int_equal(strlen(body), body_len);
	assert_true(answered >= ANSWER_DELAY_MS);
	/* Not a byte of the flood reached the origin: it saw that one head (the body) alone. */
	struct ph_eo_counts counts = ph_eo_counts(o);
	assert_int_equal(counts.requests, 1);
	assert_int_equal(counts.app_bytes, body_len);
	ph_finish(e);
}

static void test_plain_receive_bounded_answered(void **state)
{
	flood_while_answered(*state, false);
}

static void test_tls_receive_bounded_answered(void **state)
{
	flood_while_answered(*state, true);
}

/* ---- 2. pipelined requests ---- */

/* The body size asked of request i (X-Echo-Body-Size) when it asks one, else 0 (an echo). */
static unsigned pipelined_size(int i)
{
	/* A third of them large enough to stay queued in the proxy while the next are parsed. */
	return i % 3 == 1 ? 40000u * (unsigned)i + (unsigned)i : 0;
}

static void pipelined(ph_env *e, bool tls)
{
	ph_eo *o = ph_plain_origin(e, "plain", PH_EO_ECHO);
	ph_resp *r = &e->resp;
	static char reqs[PIPELINED * 256];
	size_t len = 0;
	char want[64];

	ph_start_http(e, o, ph_proxy_block(e, tls, false, NULL));
	for (int i = 0; i < PIPELINED; i++) {
		len += (size_t)snprintf(reqs + len, sizeof(reqs) - len,
					"GET /pipe/%02d HTTP/1.1\r\nHost: " PH_WWW
					"\r\nX-Echo-Header: X-Seq: %d\r\n",
					i, i);
		if (pipelined_size(i) != 0) {
			len += (size_t)snprintf(reqs + len, sizeof(reqs) - len,
						"X-Echo-Body-Size: %u\r\n", pipelined_size(i));
		}
		len += (size_t)snprintf(reqs + len, sizeof(reqs) - len, "\r\n");
		assert_true(len < sizeof(reqs));
	}
	ph_vc *c = ph_vc_open(tls ? e->tls_port : e->port, tls);
	/* One send: one TCP write, one TLS record. */
	ph_vc_send(c, reqs, len);
	for (int i = 0; i < PIPELINED; i++) {
		if (ph_vc_response(c, false, false, r) < 0) {
			fail_msg("response %d of %d missing", i + 1, PIPELINED);
		}
		ph_expect_status(r, 200);
		assert_true(r->complete);
		snprintf(want, sizeof(want), "%d", i);
		ph_expect_field(r->head, "X-Seq", want);
		if (pipelined_size(i) != 0) {
			snprintf(want, sizeof(want), "response %d", i);
			ph_expect_pattern_body(want, r, pipelined_size(i));
		} else {
			snprintf(want, sizeof(want), "GET /pipe/%02d HTTP/1.1\r\n", i);
			if (!ph_starts_with(r->body, want)) {
				fail_msg("response %d carries the body of another request:\n%s", i,
					 r->body);
			}
			assert_int_equal(r->body_len, strlen(r->body));
		}
		ph_resp_free(r);
	}
	/* Exactly one response per request: nothing more comes, and the origin saw 20. */
	assert_true(ph_vc_no_more_bytes(c, 500));
	ph_vc_close(c);
	assert_int_equal(ph_eo_counts(o).requests, PIPELINED);
	ph_finish(e);
}

static void test_plain_pipelined_in_order(void **state)
{
	pipelined(*state, false);
}

static void test_tls_pipelined_in_order(void **state)
{
	pipelined(*state, true);
}

/* ---- 3. a paused TLS client connection under a 16 MiB stream ---- */

/* What the server process shares with the test. */
struct stream_shared {
	_Atomic unsigned long long sent;
	atomic_bool done;
};

/* The server process, killed by the teardown when a test ends early. */
static pid_t server_pid;

/*
 * The server, in a child process (so that its buffers are not this process's
 * RSS): accepts one connection on lfd, completes a TLS handshake with cred,
 * sends STREAM_BYTES of the pattern in 16 KiB records, then close_notify,
 * and waits for the client to close. Never returns.
 */
static void stream_server(int lfd, gnutls_certificate_credentials_t cred,
			  struct stream_shared *shared)
{
	static unsigned char block[16384];
	struct pollfd pfd = {lfd, POLLIN, 0};
	gnutls_session_t session;
	int rc;

	alarm(60);
	if (poll(&pfd, 1, 10000) != 1) {
		_exit(10);
	}
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		_exit(11);
	}
	if (gnutls_init(&session, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) != 0 ||
	    gnutls_set_default_priority(session) != 0 ||
	    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred) != 0) {
		_exit(12);
	}
	gnutls_transport_set_int(session, fd);
	do {
		rc = gnutls_handshake(session);
	} while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
	if (rc != 0) {
		_exit(13);
	}
	for (unsigned long long off = 0; off < STREAM_BYTES;) {
		size_t n = sizeof(block);

		ph_fill_pattern(block, n, off);
		size_t done = 0;
		while (done < n) {
			ssize_t w = gnutls_record_send(session, block + done, n - done);

			if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED) {
				continue;
			}
			if (w < 0) {
				_exit(14);
			}
			done += (size_t)w;
			atomic_store(&shared->sent, off + done);
		}
		off += n;
	}
	atomic_store(&shared->done, true);
	gnutls_bye(session, GNUTLS_SHUT_WR);
	/* Until the client closes (it reads up to close_notify first). */
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char sink[4096];
	while (recv(fd, sink, sizeof(sink), 0) > 0) {
	}
	close(fd);
	_exit(0);
}

struct paused_client {
	uv_timer_t timer;
	oa_conn *conn;
	bool ready;
	int ready_status;
	char ready_error[256];
	bool paused;
	/* Delivered while paused (must stay 0), and in all. */
	unsigned long long while_paused;
	unsigned long long received;
	/* The first byte that broke the pattern, or STREAM_BYTES + 1 when none did. */
	unsigned long long first_bad;
	bool eof;
	ssize_t error;
	bool closed;
	/* RSS (kB) just before the start, and the most seen while paused. */
	long rss_start;
	long rss_max;
	int samples;
	bool timed_out;
	struct stream_shared *shared;
	unsigned long long sent_while_paused;
};

static void pc_on_ready(oa_conn *conn, int status, void *data)
{
	struct paused_client *pc = data;

	pc->ready = true;
	pc->ready_status = status;
	snprintf(pc->ready_error, sizeof(pc->ready_error), "%s (%s)", oa_conn_error(conn),
		 oa_conn_error_detail(conn));
	if (status == 0) {
		/* Right after ready: nothing may be delivered until oa_conn_resume. */
		oa_conn_pause(conn);
		pc->paused = true;
	}
}

static void pc_on_data(oa_conn *conn, const char *buf, ssize_t nread, void *data)
{
	struct paused_client *pc = data;

	if (nread == UV_EOF) {
		pc->eof = true;
		oa_conn_close(conn);
		return;
	}
	if (nread < 0) {
		pc->error = nread;
		oa_conn_close(conn);
		return;
	}
	if (pc->paused) {
		pc->while_paused += (unsigned long long)nread;
	}
	for (ssize_t i = 0; i < nread; i++) {
		if (pc->first_bad > STREAM_BYTES &&
		    (pc->received + (unsigned long long)i >= STREAM_BYTES ||
		     (unsigned char)buf[i] !=
			 ph_pattern_byte(pc->received + (unsigned long long)i))) {
			pc->first_bad = pc->received + (unsigned long long)i;
		}
	}
	pc->received += (unsigned long long)nread;
}

static void pc_on_closed(oa_conn *conn, void *data)
{
	struct paused_client *pc = data;

	pc->closed = true;
}

/* Every 50 ms while paused: the RSS; after PAUSE_MS, the pause ends (the loop stops). */
static void pc_on_sample(uv_timer_t *t)
{
	struct paused_client *pc = t->data;
	long rss = status_kb(getpid(), "VmRSS");

	if (rss > pc->rss_max) {
		pc->rss_max = rss;
	}
	if (++pc->samples >= PAUSE_MS / 50) {
		pc->sent_while_paused = atomic_load(&pc->shared->sent);
		uv_timer_stop(t);
		uv_stop(t->loop);
	}
}

static void pc_on_timeout(uv_timer_t *t)
{
	struct paused_client *pc = t->data;

	pc->timed_out = true;
	uv_stop(t->loop);
}

static void test_conn_paused_tls_bounded(void **state)
{
	ph_env *e = *state;
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};
	gnutls_certificate_credentials_t cred;
	static const oa_conn_cbs cbs = {pc_on_ready, pc_on_data, NULL, pc_on_closed};
	struct paused_client pc = {.first_bad = STREAM_BYTES + 1, .rss_max = 0};
	uv_loop_t loop;
	unsigned port;
	int status;

	assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
	gnutls_datum_t pem = fx_pem_concat(chain, 2);
	assert_int_equal(gnutls_certificate_set_x509_key_mem2(
			     cred, &pem, oa_pki_key_pem(e->pki.leaf), GNUTLS_X509_FMT_PEM, NULL, 0),
			 0);
	free(pem.data);
	struct stream_shared *shared =
	    mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(shared != MAP_FAILED);
	atomic_init(&shared->sent, 0);
	atomic_init(&shared->done, false);
	pc.shared = shared;
	int lfd = ph_listen_socket(&port, 1);
	fflush(NULL);
	server_pid = fork();
	assert_true(server_pid >= 0);
	if (server_pid == 0) {
		stream_server(lfd, cred, shared);
	}
	close(lfd);
	gnutls_certificate_free_credentials(cred);

	assert_int_equal(uv_loop_init(&loop), 0);
	oa_conn_opts opts = {
	    .address = "127.0.0.1",
	    .port = port,
	    .tls = true,
	    .sni = PH_HOST,
	    .versions = OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3,
	    .connect_timeout_ms = 5000,
	    .handshake_timeout_ms = 5000,
	};
	uv_timer_init(&loop, &pc.timer);
	pc.timer.data = &pc;
	pc.rss_start = status_kb(getpid(), "VmRSS");
	assert_int_equal(oa_conn_start(&loop, &opts, &cbs, &pc, &pc.conn), 0);
	while (!pc.ready) {
		uv_run(&loop, UV_RUN_ONCE);
	}
	if (pc.ready_status != 0) {
		fail_msg("the connection failed: %s", pc.ready_error);
	}
	/* Paused for PAUSE_MS with the loop running: the peer fills whatever is read. */
	uv_timer_start(&pc.timer, pc_on_sample, 50, 50);
	uv_run(&loop, UV_RUN_DEFAULT);
	long growth = pc.rss_max - pc.rss_start;
	print_message("paused %d ms: server sent %llu of %llu bytes; client got %llu; "
		      "RSS %ld kB at start, at most %ld kB while paused (+%ld kB)\n",
		      PAUSE_MS, pc.sent_while_paused, STREAM_BYTES, pc.while_paused, pc.rss_start,
		      pc.rss_max, growth);
	assert_false(pc.closed);
	assert_int_equal(pc.while_paused, 0);
	if (growth >= PAUSED_RSS_GROWTH_KB) {
		fail_msg("RSS grew by %ld kB while the connection was paused", growth);
	}
	/* Held back by flow control: the server could not write the whole stream. */
	if (pc.sent_while_paused >= STREAM_BYTES || atomic_load(&shared->done)) {
		fail_msg("the server wrote all %llu bytes to a paused connection", STREAM_BYTES);
	}

	/* Resumed: every byte arrives, in order, then the orderly end. */
	pc.paused = false;
	oa_conn_resume(pc.conn);
	uv_timer_start(&pc.timer, pc_on_timeout, 30000, 0);
	while (!pc.closed && !pc.timed_out) {
		uv_run(&loop, UV_RUN_ONCE);
	}
	uv_timer_stop(&pc.timer);
	if (!pc.closed) {
		oa_conn_close(pc.conn);
	}
	uv_close((uv_handle_t *)&pc.timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_true(waitpid(server_pid, &status, 0) == server_pid);
	server_pid = 0;
	bool done = atomic_load(&shared->done);
	munmap(shared, sizeof(*shared));
	assert_false(pc.timed_out);
	assert_int_equal(pc.error, 0);
	assert_int_equal(pc.received, STREAM_BYTES);
	if (pc.first_bad <= STREAM_BYTES) {
		fail_msg("byte %llu of the stream is not the one sent", pc.first_bad);
	}
	assert_true(pc.eof);
	assert_true(done);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fail_msg("the server process ended with status 0x%x", status);
	}
	ph_finish(e);
}

/* ph_teardown, after killing a server process a failed test left behind. */
static int teardown(void **state)
{
	if (flood_viewer.fd >= 0) {
		raw_close(&flood_viewer);
	}
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
	return ph_teardown(state);
}

#define TT_TEST(fn) cmocka_unit_test_setup_teardown(fn, ph_setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TT_TEST(test_plain_receive_bounded_answered),
	    TT_TEST(test_tls_receive_bounded_answered),
	    TT_TEST(test_plain_pipelined_in_order),
	    TT_TEST(test_tls_pipelined_in_order),
	    TT_TEST(test_conn_paused_tls_bounded),
	};

	return PH_RUN_TESTS(tests);
}
