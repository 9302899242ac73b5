/*
 * End-to-end tests of `originaudit serve`, the exporter: the real binary
 * ($ORIGINAUDIT) started in the background with its stderr in a file, TLS
 * test origins on loopback (each on its own libuv loop in a background
 * thread) serving certificates generated here, and a small blocking HTTP
 * client. The exporter listens on port 0 and the test reads the port from its
 * first stderr line; every wait polls (up to 30 s) so a slow machine passes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fixtures.h"
#include "originaudit/testorigin.h"

#define HOST "origin.example.com"
#define THIRD_HOST "third.example.com"
#define DAY 86400
/* The scan block's connect and handshake timeouts: the tarpit's probe takes this long. */
#define TIMEOUT_MS 1500
/* How long any wait for the exporter lasts before the test fails. */
#define WAIT_MS 30000
#define MAX_BG 8

struct env {
	const char *exe;
	char *dir;
	fx_pki pki;
	char *bundle;
	oa_pki_cert *localhost_leaf;
	fx_origin *bgs[MAX_BG];
	size_t n_bgs;
	unsigned good_port;
	unsigned bad_port;
	/* The running exporter, its stderr file and its port. */
	int pid;
	char *log;
	unsigned port;
	unsigned files;
};

/* An HTTP answer: status, the head (status line and headers) and the body. */
struct answer {
	int status;
	char *head;
	char *body;
	size_t body_len;
	double ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* ---- test origins ---- */

static unsigned serve_chain(struct env *e, const oa_pki_cert *const *chain, size_t n)
{
	gnutls_datum_t pem = fx_pem_concat(chain, n);
	oa_test_origin_opts o;
	oa_error err;

	assert_true(e->n_bgs < MAX_BG);
	memset(&o, 0, sizeof(o));
	o.mode = OA_TEST_ORIGIN_TLS;
	o.address = "127.0.0.1";
	o.chain_pem = &pem;
	o.key_pem = oa_pki_key_pem(chain[0]);
	fx_origin *bg = fx_origin_start(&o, &err);
	free(pem.data);
	if (bg == NULL) {
		fail_msg("oa_test_origin_start: %s", err.msg);
	}
	e->bgs[e->n_bgs++] = bg;
	return fx_origin_port(bg);
}

static unsigned serve_tarpit(struct env *e)
{
	oa_test_origin_opts o;
	oa_error err;

	assert_true(e->n_bgs < MAX_BG);
	memset(&o, 0, sizeof(o));
	o.mode = OA_TEST_ORIGIN_TARPIT;
	o.address = "127.0.0.1";
	fx_origin *bg = fx_origin_start(&o, &err);
	if (bg == NULL) {
		fail_msg("oa_test_origin_start: %s", err.msg);
	}
	e->bgs[e->n_bgs++] = bg;
	return fx_origin_port(bg);
}

/* ---- environment ---- */

static int setup(void **state)
{
	const char *exe = getenv("ORIGINAUDIT");

	if (exe == NULL || exe[0] == '\0') {
		fail_msg("ORIGINAUDIT is not set (run the test through meson test)");
	}
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->exe = exe;
	e->dir = fx_tempdir();
	fx_pki_make(&e->pki);
	e->bundle = fx_bundle_file(e->dir, "roots.pem", e->pki.root);
	/* The good origin: the leaf and its intermediate; the bad one: the leaf alone. */
	const oa_pki_cert *good[] = {e->pki.leaf, e->pki.inter};
	const oa_pki_cert *bad[] = {e->pki.leaf};
	e->good_port = serve_chain(e, good, 2);
	e->bad_port = serve_chain(e, bad, 1);
	*state = e;
	return 0;
}

/* Stops the exporter if it still runs (SIGKILL) and forgets its log. */
static void serve_forget(struct env *e)
{
	fx_kill(e->pid);
	e->pid = 0;
	free(e->log);
	e->log = NULL;
}

static int teardown(void **state)
{
	struct env *e = *state;

	serve_forget(e);
	for (size_t i = 0; i < e->n_bgs; i++) {
		assert_int_equal(fx_origin_stop(e->bgs[i], NULL), 0);
	}
	oa_pki_cert_destroy(e->localhost_leaf);
	free(e->bundle);
	fx_pki_free(&e->pki);
	fx_tempdir_remove(e->dir);
	free(e);
	return 0;
}

static char *new_path(struct env *e, const char *base)
{
	char name[128];

	snprintf(name, sizeof(name), "%u-%s", e->files++, base);
	return fx_path(e->dir, name);
}

/* ---- configurations ---- */

static json_t *origin_at(const char *id, const char *domain, unsigned port)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:[s]}", "id", id, "domain_name", domain,
			      "https_port", (int)port, "addresses", "127.0.0.1");

	assert_non_null(o);
	return o;
}

/* Writes {"origins": origins, "scan": {short timeouts}} (origins stolen) to path. */
static void write_config(const char *path, json_t *origins)
{
	json_t *root =
	    json_pack("{s:o, s:{s:i, s:i}}", "origins", origins, "scan", "connect_timeout_ms",
		      TIMEOUT_MS, "handshake_timeout_ms", TIMEOUT_MS);

	assert_non_null(root);
	assert_int_equal(json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
	json_decref(root);
}

/* A configuration of the good and the bad origin; a malloc'd path. */
static char *good_bad_config(struct env *e)
{
	char *path = new_path(e, "config.json");

	write_config(path, json_pack("[o, o]", origin_at("good", HOST, e->good_port),
				     origin_at("bad", HOST, e->bad_port)));
	return path;
}

/* ---- the exporter process ---- */

/* The whole of the exporter's stderr so far; malloc'd. */
static char *read_log(const struct env *e)
{
	FILE *f = fopen(e->log, "r");
	char *text = NULL;
	size_t len = 0;

	assert_non_null(f);
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		fwrite(buf, 1, n, m);
	}
	fclose(f);
	fclose(m);
	return text;
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;

	if (text == NULL) {
		return 0;
	}
	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
		n++;
	}
	return n;
}

/* Waits until the exporter's stderr holds needle at least count times; fails after WAIT_MS. */
static void wait_log(struct env *e, const char *needle, size_t count)
{
	double start = now_ms();

	for (;;) {
		char *log = read_log(e);
		size_t n = count_of(log, needle);

		if (n >= count) {
			free(log);
			return;
		}
		if (now_ms() - start > WAIT_MS) {
			fail_msg("waited %d ms for %zu x '%s' on the exporter's stderr:\n%s",
				 WAIT_MS, count, needle, log);
		}
		free(log);
		int status;
		if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
			e->pid = 0;
			log = read_log(e);
			fail_msg("the exporter exited (status %d) before '%s':\n%s", status, needle,
				 log);
		}
		sleep_ms(50);
	}
}

/*
 * Starts `originaudit serve ARGS --listen 127.0.0.1:0` with stderr in a file,
 * reads its port from the first line and waits for its first scan.
 */
static void serve_start(struct env *e, const char *const *args)
{
	char *argv[32];
	int n = 0;

	argv[n++] = (char *)e->exe;
	argv[n++] = "serve";
	for (size_t i = 0; args[i] != NULL; i++) {
		assert_true(n < 28);
		argv[n++] = (char *)args[i];
	}
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n] = NULL;
	e->log = new_path(e, "serve.stderr");
	int fd = open(e->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd);
	e->pid = pid;
	wait_log(e, "originaudit serve: listening on http://127.0.0.1:", 1);
	char *log = read_log(e);
	const char *p = strstr(log, "listening on http://127.0.0.1:");
	unsigned port = 0;
	if (p != log + strlen("originaudit serve: ") ||
	    sscanf(p, "listening on http://127.0.0.1:%u/ (", &port) != 1 || port == 0) {
		fail_msg("the first stderr line does not name the port:\n%s", log);
	}
	free(log);
	e->port = port;
	wait_log(e, "originaudit serve: scan: ", 1);
}

/* Sends sig and waits up to timeout_ms for the exporter to exit; its exit status, or -1. */
static int serve_signal_wait(struct env *e, int sig, int timeout_ms)
{
	int status;

	assert_int_equal(kill(e->pid, sig), 0);
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		pid_t r = waitpid(e->pid, &status, WNOHANG);

		if (r == e->pid) {
			e->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		sleep_ms(20);
	}
	return -1;
}

/* ---- a small blocking HTTP client ---- */

static void answer_free(struct answer *a)
{
	free(a->head);
	free(a->body);
	memset(a, 0, sizeof(*a));
}

/* Sends request to 127.0.0.1:port and reads the whole answer (the server closes). */
static void http_raw(unsigned port, const char *request, struct answer *a)
{
	struct sockaddr_in sin;
	struct timeval tv = {WAIT_MS / 1000, 0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char *text = NULL;
	size_t len = 0;
	double start = now_ms();

	memset(a, 0, sizeof(*a));
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fail_msg("connect 127.0.0.1:%u: %s", port, strerror(errno));
	}
	size_t rlen = strlen(request);
	assert_int_equal(send(fd, request, rlen, MSG_NOSIGNAL), (ssize_t)rlen);
	FILE *m = open_memstream(&text, &len);
	assert_non_null(m);
	char buf[8192];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, m);
		}
	}
	int read_errno = n < 0 ? errno : 0;
	close(fd);
	fclose(m);
	a->ms = now_ms() - start;
	char *end = strstr(text, "\r\n\r\n");
	if (read_errno != 0 || end == NULL || sscanf(text, "HTTP/1.1 %d ", &a->status) != 1) {
		fail_msg("%s: not an HTTP answer (%s): '%s'", request, strerror(read_errno), text);
	}
	a->head = strndup(text, (size_t)(end - text) + 2);
	a->body_len = len - (size_t)(end + 4 - text);
	a->body = malloc(a->body_len + 1);
	assert_non_null(a->head);
	assert_non_null(a->body);
	memcpy(a->body, end + 4, a->body_len);
	a->body[a->body_len] = '\0';
	free(text);
}

static void http_get(unsigned port, const char *target, struct answer *a)
{
	char request[1024];

	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", target);
	http_raw(port, request, a);
}

/* Fails unless the head has the header line (e.g. "Content-Type: text/html"). */
static void expect_header(const struct answer *a, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	if (strstr(a->head, want) == NULL) {
		fail_msg("no header line '%s' in:\n%s", line, a->head);
	}
}

static void expect_contains(const char *text, const char *needle)
{
	if (text == NULL) {
		fail_msg("'%s' not in an empty text", needle);
	} else if (strstr(text, needle) == NULL) {
		fail_msg("'%s' not in:\n%s", needle, text);
	}
}

static void expect_lacks(const char *text, const char *needle)
{
	if (text != NULL && strstr(text, needle) != NULL) {
		fail_msg("'%s' unexpectedly in:\n%s", needle, text);
	}
}

/* The sample line of originaudit_probe_status for an origin on 127.0.0.1. */
static void status_line(char *out, size_t size, const char *id, unsigned port, const char *sni,
			int value)
{
	snprintf(out, size,
		 "\noriginaudit_probe_status{origin=\"%s\",address=\"127.0.0.1\",port=\"%u\","
		 "sni=\"%s\"} %d\n",
		 id, port, sni, value);
}

/* `promtool check metrics` on text: exit 0, no output at all. */
static void promtool_clean(struct env *e, const char *text)
{
	char *tool = fx_find_tool("promtool");

	if (tool == NULL) {
		fail_msg(
		    "promtool not found: run scripts/install-deps (Debian package prometheus)");
	}
	char *file = new_path(e, "metrics.prom");
	char *argv[] = {"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", tool, file, NULL};
	char *out = NULL;
	char *err = NULL;

	fx_write(file, text, strlen(text));
	int rc = fx_run(argv, &out, &err, 60);
	if (rc != 0 || (out != NULL && out[0] != '\0') || (err != NULL && err[0] != '\0')) {
		fail_msg("promtool check metrics: exit %d\nstdout:\n%s\nstderr:\n%s\non:\n%s", rc,
			 out != NULL ? out : "", err != NULL ? err : "", text);
	}
	free(out);
	free(err);
	free(file);
	free(tool);
}

/* ---- 1. every endpoint of a running exporter ---- */

static void check_metrics(struct env *e)
{
	struct answer a;
	char line[512];

	http_get(e->port, "/metrics", &a);
	assert_int_equal(a.status, 200);
	expect_header(&a, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	expect_header(&a, "Cache-Control: no-store");
	status_line(line, sizeof(line), "good", e->good_port, HOST, 0);
	expect_contains(a.body, line);
	status_line(line, sizeof(line), "bad", e->bad_port, HOST, 2);
	expect_contains(a.body, line);
	expect_contains(a.body, "\n# TYPE originaudit_exporter_scans_total counter\n");
	expect_contains(a.body, "\noriginaudit_exporter_scans_total ");
	expect_contains(a.body, "\noriginaudit_exporter_origins 2\n");
	expect_contains(a.body, "\noriginaudit_exporter_probes_in_flight 0\n");
	promtool_clean(e, a.body);
	answer_free(&a);
}

static void check_pages(struct env *e)
{
	struct answer a;
	json_error_t jerr;

	http_get(e->port, "/healthz", &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "ok\n");
	expect_header(&a, "Content-Length: 3");
	expect_header(&a, "Connection: close");
	answer_free(&a);

	http_get(e->port, "/report.json", &a);
	assert_int_equal(a.status, 200);
	expect_header(&a, "Content-Type: application/json");
	json_t *doc = json_loads(a.body, 0, &jerr);
	if (doc == NULL) {
		fail_msg("/report.json: %s (line %d)", jerr.text, jerr.line);
	}
	assert_int_equal(json_integer_value(json_object_get(doc, "schema")), 1);
	json_t *origins = json_object_get(doc, "origins");
	assert_int_equal(json_array_size(origins), 2);
	bool seen_good = false;
	bool seen_bad = false;
	size_t i;
	json_t *o;
	json_array_foreach(origins, i, o)
	{
		const char *id = json_string_value(json_object_get(o, "id"));

		assert_non_null(id);
		seen_good |= strcmp(id, "good") == 0;
		seen_bad |= strcmp(id, "bad") == 0;
	}
	assert_true(seen_good && seen_bad);
	json_decref(doc);
	answer_free(&a);

	http_get(e->port, "/", &a);
	assert_int_equal(a.status, 200);
	expect_header(&a, "Content-Type: text/html; charset=utf-8");
	expect_contains(a.body, "<html");
	expect_contains(a.body, "good");
	expect_contains(a.body, "bad");
	answer_free(&a);

	/* HEAD: the headers of the GET, no body. */
	http_raw(e->port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &a);
	assert_int_equal(a.status, 200);
	expect_header(&a, "Content-Length: 3");
	assert_int_equal(a.body_len, 0);
	answer_free(&a);

	http_get(e->port, "/nothing-here", &a);
	assert_int_equal(a.status, 404);
	answer_free(&a);

	http_raw(e->port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", &a);
	assert_int_equal(a.status, 405);
	expect_header(&a, "Allow: GET, HEAD");
	answer_free(&a);
}

static void check_probe(struct env *e)
{
	struct answer a;
	char target[256];
	char line[512];

	/* The configured good origin: its series only, probed as the scan probes it. */
	snprintf(target, sizeof(target), "/probe?target=%s:%u", HOST, e->good_port);
	http_get(e->port, target, &a);
	assert_int_equal(a.status, 200);
	expect_header(&a, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	status_line(line, sizeof(line), "good", e->good_port, HOST, 0);
	expect_contains(a.body, line);
	expect_lacks(a.body, "origin=\"bad\"");
	expect_lacks(a.body, "originaudit_exporter_");
	promtool_clean(e, a.body);
	answer_free(&a);

	/* The bad one, named. */
	snprintf(target, sizeof(target), "/probe?target=%s:%u&name=bad", HOST, e->bad_port);
	http_get(e->port, target, &a);
	assert_int_equal(a.status, 200);
	status_line(line, sizeof(line), "bad", e->bad_port, HOST, 2);
	expect_contains(a.body, line);
	expect_lacks(a.body, "origin=\"good\"");
	answer_free(&a);

	snprintf(target, sizeof(target), "/probe?target=%s:%u&name=good", HOST, e->good_port);
	http_get(e->port, target, &a);
	assert_int_equal(a.status, 200);
	status_line(line, sizeof(line), "good", e->good_port, HOST, 0);
	expect_contains(a.body, line);
	answer_free(&a);

	/* A name that is not the origin at that target. */
	snprintf(target, sizeof(target), "/probe?target=%s:%u&name=bad", HOST, e->good_port);
	http_get(e->port, target, &a);
	assert_int_equal(a.status, 403);
	answer_free(&a);

	/* A target no origin has: the exporter is no open scanner. */
	http_get(e->port, "/probe?target=example.net:443", &a);
	assert_int_equal(a.status, 403);
	expect_contains(a.body, "example.net:443");
	answer_free(&a);

	http_get(e->port, "/probe", &a);
	assert_int_equal(a.status, 400);
	answer_free(&a);
	http_get(e->port, "/probe?target=", &a);
	assert_int_equal(a.status, 400);
	answer_free(&a);
	http_get(e->port, "/probe?target=bad%20host:99999", &a);
	assert_int_equal(a.status, 400);
	answer_free(&a);

	/* The exporter counted them. */
	http_get(e->port, "/metrics", &a);
	expect_contains(a.body, "\noriginaudit_exporter_probe_requests_total{result=\"ok\"} 3\n");
	expect_contains(a.body,
			"\noriginaudit_exporter_probe_requests_total{result=\"forbidden\"} 2\n");
	expect_contains(a.body,
			"\noriginaudit_exporter_probe_requests_total{result=\"bad_request\"} 3\n");
	expect_contains(a.body,
			"\noriginaudit_exporter_probe_requests_total{result=\"too_many\"} 0\n");
	answer_free(&a);
}

static void test_endpoints(void **state)
{
	struct env *e = *state;
	char *config = good_bad_config(e);
	const char *args[] = {"--config",   config, "--ca-bundle", e->bundle,
			      "--interval", "10",   NULL};

	serve_start(e, args);
	char *log = read_log(e);
	expect_contains(log, "(1 distribution(s), 2 origin(s), a scan every 10 s)\n");
	expect_contains(log, "originaudit serve: scan: 2 origin(s): 1 pass, 0 warn, 1 fail");
	free(log);
	check_metrics(e);
	check_pages(e);
	check_probe(e);
	/* SIGTERM: a clean stop, exit 0, within a few seconds. */
	assert_int_equal(serve_signal_wait(e, SIGTERM, 10000), 0);
	log = read_log(e);
	expect_contains(log, "originaudit serve: stopping (SIGTERM)\n");
	free(log);
	serve_forget(e);
	free(config);
}

/* ---- 2. reloads ---- */

static void test_reload(void **state)
{
	struct env *e = *state;
	char *config = good_bad_config(e);
	const char *args[] = {"--config",   config, "--ca-bundle", e->bundle,
			      "--interval", "10",   NULL};
	struct answer a;
	char line[512];

	serve_start(e, args);
	/* A third origin (the good chain, another port). */
	const oa_pki_cert *good[] = {e->pki.leaf, e->pki.inter};
	unsigned third = serve_chain(e, good, 2);
	write_config(config, json_pack("[o, o, o]", origin_at("good", HOST, e->good_port),
				       origin_at("bad", HOST, e->bad_port),
				       origin_at("third", HOST, third)));
	assert_int_equal(kill(e->pid, SIGHUP), 0);
	wait_log(e, "originaudit serve: reloaded: 1 distribution(s), 3 origin(s)\n", 1);
	/* The reload starts a scan of the new inputs. */
	wait_log(e, "originaudit serve: scan: 3 origin(s)", 1);
	http_get(e->port, "/metrics", &a);
	status_line(line, sizeof(line), "third", third, HOST, 0);
	expect_contains(a.body, line);
	expect_contains(a.body, "\noriginaudit_exporter_origins 3\n");
	expect_contains(a.body, "\noriginaudit_exporter_reloads_total{result=\"success\"} 1\n");
	expect_contains(a.body, "\noriginaudit_exporter_reloads_total{result=\"failure\"} 0\n");
	answer_free(&a);

	/* A broken file: the previous inputs stay, the exporter keeps serving. */
	fx_write(config, "{\"origins\": [", 13);
	assert_int_equal(kill(e->pid, SIGHUP), 0);
	wait_log(e, "originaudit serve: reload failed: keeping the previous inputs\n", 1);
	http_get(e->port, "/healthz", &a);
	assert_int_equal(a.status, 200);
	answer_free(&a);
	http_get(e->port, "/metrics", &a);
	assert_int_equal(a.status, 200);
	expect_contains(a.body, "\noriginaudit_exporter_reloads_total{result=\"success\"} 1\n");
	expect_contains(a.body, "\noriginaudit_exporter_reloads_total{result=\"failure\"} 1\n");
	expect_contains(a.body, "\noriginaudit_exporter_origins 3\n");
	expect_contains(a.body, line);
	promtool_clean(e, a.body);
	answer_free(&a);
	/* The previous inputs still answer probes. */
	char target[256];
	snprintf(target, sizeof(target), "/probe?target=%s:%u", HOST, third);
	http_get(e->port, target, &a);
	assert_int_equal(a.status, 200);
	expect_contains(a.body, line);
	answer_free(&a);

	assert_int_equal(serve_signal_wait(e, SIGTERM, 10000), 0);
	serve_forget(e);
	free(config);
}

/* ---- 3. bounded on-demand probes, and --allow-any-target ---- */

struct bg_get {
	unsigned port;
	const char *target;
	pthread_t thread;
	/* Filled by the thread: the status, or -1, and the time it took. */
	int status;
	double ms;
	char head[16384];
};

/* A GET in a thread of its own (no cmocka assertion there). */
static void *bg_get_main(void *arg)
{
	struct bg_get *g = arg;
	struct sockaddr_in sin;
	struct timeval tv = {WAIT_MS / 1000, 0};
	char request[512];
	char *buf = g->head;
	size_t len = 0;
	ssize_t n;
	double start = now_ms();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g->status = -1;
	if (fd < 0) {
		return NULL;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)g->port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", g->target);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    send(fd, request, strlen(request), MSG_NOSIGNAL) == (ssize_t)strlen(request)) {
		while (len + 1 < sizeof(g->head) &&
		       (n = recv(fd, buf + len, sizeof(g->head) - 1 - len, 0)) > 0) {
			len += (size_t)n;
		}
		buf[len] = '\0';
		if (sscanf(buf, "HTTP/1.1 %d ", &g->status) != 1) {
			g->status = -1;
		}
	}
	close(fd);
	g->ms = now_ms() - start;
	return NULL;
}

static void test_max_probes_and_any_target(void **state)
{
	struct env *e = *state;
	char *config = new_path(e, "config.json");
	unsigned tarpit = serve_tarpit(e);
	/* An origin no configuration names, with a certificate for localhost. */
	oa_pki_spec spec = fx_leaf_spec("localhost", "localhost", 90);
	e->localhost_leaf = fx_issue(&spec, e->pki.inter);
	const oa_pki_cert *chain[] = {e->localhost_leaf, e->pki.inter};
	unsigned other = serve_chain(e, chain, 2);
	struct answer a;
	char target[256];

	write_config(config, json_pack("[o, o]", origin_at("good", HOST, e->good_port),
				       origin_at("slow", "slow.example.com", tarpit)));
	const char *args[] = {"--config",	    config, "--ca-bundle",  e->bundle,
			      "--interval",	    "10",   "--max-probes", "1",
			      "--allow-any-target", NULL};
	serve_start(e, args);

	/* One probe of the tarpit holds the only slot for its handshake timeout... */
	char slow_target[256];
	snprintf(slow_target, sizeof(slow_target), "/probe?target=slow.example.com:%u", tarpit);
	struct bg_get first = {.port = e->port, .target = slow_target};
	assert_int_equal(pthread_create(&first.thread, NULL, bg_get_main, &first), 0);
	/* ... so a second one, while it runs, is refused with 429 and Retry-After. */
	sleep_ms(400);
	snprintf(target, sizeof(target), "/probe?target=%s:%u", HOST, e->good_port);
	http_get(e->port, target, &a);
	assert_int_equal(pthread_join(first.thread, NULL), 0);
	assert_int_equal(a.status, 429);
	expect_header(&a, "Retry-After: 5");
	answer_free(&a);
	if (first.status != 200) {
		fail_msg("the tarpit's probe answered %d after %.0f ms:\n%s", first.status,
			 first.ms, first.head);
	}
	/* It answered after the handshake timeout (less the 400 ms above, and some slack). */
	assert_true(first.ms >= TIMEOUT_MS - 500);
	expect_contains(first.head, "origin=\"slow\"");

	/* Free again. */
	http_get(e->port, target, &a);
	assert_int_equal(a.status, 200);
	answer_free(&a);

	/* --allow-any-target: an origin no configuration has is probed too. */
	snprintf(target, sizeof(target), "/probe?target=localhost:%u", other);
	http_get(e->port, target, &a);
	assert_int_equal(a.status, 200);
	expect_contains(a.body, "\noriginaudit_probe_status{");
	char port_label[64];
	snprintf(port_label, sizeof(port_label), "port=\"%u\",sni=\"localhost\"", other);
	expect_contains(a.body, port_label);
	expect_lacks(a.body, "origin=\"good\"");
	answer_free(&a);

	http_get(e->port, "/metrics", &a);
	expect_contains(a.body,
			"\noriginaudit_exporter_probe_requests_total{result=\"too_many\"} 1\n");
	expect_contains(a.body, "\noriginaudit_exporter_probe_requests_total{result=\"ok\"} 3\n");
	answer_free(&a);

	assert_int_equal(serve_signal_wait(e, SIGTERM, 10000), 0);
	serve_forget(e);
	free(config);
}

/* ---- 4. usage errors ---- */

/* Runs the program; its exit code, its stderr in *err (malloc'd). */
static int run_serve(struct env *e, char **err, const char *const *args)
{
	char *argv[32];
	int n = 0;

	argv[n++] = (char *)e->exe;
	argv[n++] = "serve";
	for (size_t i = 0; args[i] != NULL; i++) {
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	return fx_run(argv, NULL, err, 60);
}

static size_t lines(const char *text)
{
	return count_of(text, "\n");
}

static void test_usage_errors(void **state)
{
	struct env *e = *state;
	char *config = good_bad_config(e);
	char *err = NULL;

	const char *no_listen[] = {"--config", config, "--ca-bundle", e->bundle, NULL};
	assert_int_equal(run_serve(e, &err, no_listen), 3);
	assert_int_equal(lines(err), 1);
	expect_contains(err, "--listen");
	free(err);

	const char *nonsense[] = {"--config", config,	  "--ca-bundle", e->bundle,
				  "--listen", "nonsense", NULL};
	assert_int_equal(run_serve(e, &err, nonsense), 3);
	assert_int_equal(lines(err), 1);
	expect_contains(err, "nonsense");
	free(err);

	const char *interval[] = {"--config",	 config,       "--ca-bundle", e->bundle, "--listen",
				  "127.0.0.1:0", "--interval", "5",	      NULL};
	assert_int_equal(run_serve(e, &err, interval), 3);
	assert_int_equal(lines(err), 1);
	expect_contains(err, "--interval");
	free(err);

	/* A port in use: exit 3, naming it. */
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	char listen_at[64];
	snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%u", ntohs(sin.sin_port));
	const char *in_use[] = {"--config", config,    "--ca-bundle", e->bundle,
				"--listen", listen_at, NULL};
	assert_int_equal(run_serve(e, &err, in_use), 3);
	close(fd);
	assert_int_equal(lines(err), 1);
	char want[160];
	snprintf(want, sizeof(want), "originaudit serve: --listen %s: address already in use\n",
		 listen_at);
	assert_non_null(err);
	assert_string_equal(err, want);
	free(err);
	free(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_endpoints, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_probes_and_any_target, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
