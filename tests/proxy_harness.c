/*
 * The proxy test harness (proxy_harness.h): the test environment and the
 * proxy process. The configuration builders are in proxy_harness_config.c,
 * the echo origin in proxy_harness_origin.c, the viewer client in
 * proxy_harness_client.c and the I/O both share in proxy_harness_io.c.
 */
#include "proxy_harness.h"
#include "proxy_harness_internal.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- time and generated bodies ---- */

uint64_t ph_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned char ph_pattern_byte(unsigned long long i)
{
	return (unsigned char)(i % 251);
}

void ph_fill_pattern(unsigned char *buf, size_t len, unsigned long long offset)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = ph_pattern_byte(offset + i);
	}
}

/* ---- the test environment ---- */

int ph_setup(void **state)
{
	ph_env *e = calloc(1, sizeof(*e));
	static const char *const viewer_names[] = {PH_WWW};
	oa_pki_spec spec;

	assert_non_null(e);
	e->proxy_bin = getenv("ORIGINAUDIT_PROXY");
	assert_non_null(e->proxy_bin);
	e->dir = fx_tempdir();
	fx_pki_make(&e->pki);
	e->bundle = fx_bundle_file(e->dir, "roots.pem", e->pki.root);
	oa_pki_spec_init(&spec, PH_WWW, 90);
	spec.dns_names = viewer_names;
	spec.n_dns_names = 1;
	e->viewer = fx_issue(&spec, e->pki.root);
	e->viewer_cert =
	    fx_chain_file(e->dir, "viewer.pem", (const oa_pki_cert *const *)&e->viewer, 1);
	e->viewer_key = fx_key_file(e->dir, "viewer.key", e->viewer);
	e->openssl = fx_find_tool("openssl");
	*state = e;
	return 0;
}

/* The whole file at path, malloc'd and NUL-terminated ("" when it cannot be read). */
char *ph_slurp(const char *path)
{
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	size_t len = 0;
	size_t cap = 4096;
	char *text = malloc(cap);

	assert_non_null(text);
	while (f != NULL) {
		size_t n = fread(text + len, 1, cap - len - 1, f);

		len += n;
		if (n == 0) {
			break;
		}
		if (cap - len - 1 == 0) {
			cap *= 2;
			text = realloc(text, cap);
			assert_non_null(text);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	text[len] = '\0';
	return text;
}

void ph_print_log(const ph_env *e)
{
	if (e->log != NULL) {
		char *text = ph_slurp(e->log);

		fprintf(stderr, "---- proxy log (%s) ----\n%s---- end of proxy log ----\n", e->log,
			text);
		free(text);
	}
}

int ph_teardown(void **state)
{
	ph_env *e = *state;

	if (!e->finished) {
		ph_print_log(e);
	}
	fx_kill(e->proxy_pid);
	/* Workers that outlived a supervisor already reaped (ph_finish fails the test then). */
	if (e->proxy_pid <= 0 && e->proxy_pgid > 0) {
		kill(-e->proxy_pgid, SIGKILL);
	}
	fx_kill(e->s_server_pid);
	ph__vc_close_all();
	ph_resp_free(&e->resp);
	free(e->out);
	free(e->err);
	for (size_t i = 0; i < e->n_stuck; i++) {
		close(e->stuck[i]);
	}
	for (size_t i = 0; i < e->n_origins; i++) {
		ph_eo_stop(e->origins[i]);
	}
	for (size_t i = 0; i < e->n_certs; i++) {
		oa_pki_cert_destroy(e->certs[i]);
	}
	oa_pki_cert_destroy(e->viewer);
	free(e->viewer_cert);
	free(e->viewer_key);
	free(e->bundle);
	free(e->config);
	free(e->log);
	free(e->out_log);
	free(e->openssl);
	fx_pki_free(&e->pki);
	fx_tempdir_remove(e->dir);
	free(e);
	return 0;
}

/* A certificate freed at teardown. */
const oa_pki_cert *ph_keep(ph_env *e, oa_pki_cert *cert)
{
	assert_true(e->n_certs < PH_MAX_CERTS);
	e->certs[e->n_certs++] = cert;
	return cert;
}

/* A leaf spec for dns[0] (its CN and only SAN), valid from a day ago for 90 days. */
oa_pki_spec ph_leaf_spec(const char *const *dns)
{
	oa_pki_spec spec;

	oa_pki_spec_init(&spec, dns[0], 90);
	spec.dns_names = dns;
	spec.n_dns_names = 1;
	return spec;
}

ph_eo *ph_origin(ph_env *e, const ph_eo_opts *opts)
{
	assert_true(e->n_origins < PH_MAX_ORIGINS);
	ph_eo *o = ph_eo_start(opts);
	e->origins[e->n_origins++] = o;
	return o;
}

/* An echo origin over TLS serving chain in this order. */
ph_eo *ph_tls_origin(ph_env *e, const char *name, const oa_pki_cert *const *chain, size_t n)
{
	ph_eo_opts o = {.mode = PH_EO_ECHO, .name = name, .chain = chain, .n_chain = n};

	return ph_origin(e, &o);
}

/* An echo origin over TLS with the good chain (leaf for origin and www, intermediate). */
ph_eo *ph_good_origin(ph_env *e, const char *name)
{
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};

	return ph_tls_origin(e, name, chain, 2);
}

/* The leaf alone: the proxy refuses it as missing_intermediate. */
ph_eo *ph_bad_origin(ph_env *e)
{
	const oa_pki_cert *chain[] = {e->pki.leaf};

	return ph_tls_origin(e, "bad", chain, 1);
}

ph_eo *ph_plain_origin(ph_env *e, const char *name, ph_eo_mode mode)
{
	ph_eo_opts o = {.mode = mode, .name = name};

	return ph_origin(e, &o);
}

/*
 * A listener whose accept queue is full: the kernel drops further SYNs, so a
 * connection attempt to it times out at the TCP level.
 */
unsigned ph_stuck_listener(ph_env *e)
{
	unsigned port;

	e->stuck[e->n_stuck++] = ph_listen_socket(&port, 0);
	struct sockaddr_in sin = ph__loopback(port);
	for (int i = 0; i < 4; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		assert_true(fd >= 0);
		e->stuck[e->n_stuck++] = fd;
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	/* One more does not get through: the queue is full. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	struct pollfd pfd = {fd, POLLOUT, 0};
	assert_int_equal(poll(&pfd, 1, 300), 0);
	close(fd);
	return port;
}

/* ---- the proxy ---- */

void ph_spawn_proxy(ph_env *e, json_t *doc)
{
	char name[32];

	assert_true(e->proxy_pid <= 0);
	free(e->config);
	e->config = ph_write_config(e, doc);
	snprintf(name, sizeof(name), "proxy-%u.log", e->n_configs);
	free(e->log);
	e->log = fx_path(e->dir, name);
	snprintf(name, sizeof(name), "proxy-%u.out", e->n_configs);
	free(e->out_log);
	e->out_log = fx_path(e->dir, name);
	/*
	 * The shell only redirects stderr ($0) and stdout ($1): exec keeps the
	 * pid, so signals and VmHWM reach the proxy itself. For the memory bound,
	 * a sanitized proxy gets a small ASan quarantine: the default one keeps
	 * 256 MB of freed blocks resident.
	 */
	static const char quarantine_script[] =
	    "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=2\"; "
	    "export ASAN_OPTIONS; out=\"$1\"; shift; exec \"$@\" 2>\"$0\" >\"$out\"";
	static const char plain_script[] = "out=\"$1\"; shift; exec \"$@\" 2>\"$0\" >\"$out\"";
	char *argv[] = {"/bin/sh",
			"-c",
			(char *)(e->small_quarantine ? quarantine_script : plain_script),
			e->log,
			e->out_log,
			(char *)e->proxy_bin,
			"--config",
			e->config,
			"--header-timeout-ms",
			"500",
			NULL};
	e->proxy_pid = fx_spawn(argv);
	/* fx_spawn makes the child a process group leader: the group holds the workers too. */
	e->proxy_pgid = e->proxy_pid;
	e->proxy_reaped = false;
	e->proxy_status = 0;
	if (!fx_wait_listening("127.0.0.1", e->port, 10000) ||
	    (e->tls_port != 0 && !fx_wait_listening("127.0.0.1", e->tls_port, 10000))) {
		fail_msg("the proxy is not listening on port %u/%u", e->port, e->tls_port);
	}
}

void ph_start_proxy(ph_env *e, json_t *doc)
{
	ph_spawn_proxy(e, doc);
	/*
	 * The audit at start probes every origin too. The tests count what the
	 * proxy's forwarding did to an origin, so the counting starts once that
	 * audit is over.
	 */
	if (ph_wait_audit(e, 0, PH_AUDIT_TIMEOUT_MS) < 0) {
		fail_msg("the proxy logged no end of its start audit within %d ms",
			 PH_AUDIT_TIMEOUT_MS);
	}
	/*
	 * The audit's end is logged when its probes are done on the proxy's side;
	 * an origin's own thread may still be counting that connection (its side
	 * of the handshake, seen once on a loaded machine). Counting starts once
	 * no origin's counters have moved for 150 ms (2 s at most).
	 */
	uint64_t deadline = ph_now_ms() + 2000;
	uint64_t quiet_since = ph_now_ms();
	size_t last = (size_t)-1;
	while (ph_now_ms() < deadline && ph_now_ms() - quiet_since < 150) {
		size_t sum = 0;

		for (size_t i = 0; i < e->n_origins; i++) {
			struct ph_eo_counts c = ph_eo_counts(e->origins[i]);

			sum += c.connections * 1000003u + c.handshakes * 1009u + c.requests;
		}
		if (sum != last) {
			last = sum;
			quiet_since = ph_now_ms();
		}
		usleep(10000);
	}
	for (size_t i = 0; i < e->n_origins; i++) {
		ph_eo_reset(e->origins[i]);
	}
}

void ph_start_https(ph_env *e, const ph_eo *o, json_t *proxy)
{
	ph_start_proxy(
	    e, ph_single_config(ph_origin_json("o", ph_eo_port(o), 0, "https-only"), proxy));
}

void ph_start_http(ph_env *e, const ph_eo *o, json_t *proxy)
{
	ph_start_proxy(e,
		       ph_single_config(ph_origin_json("o", 0, ph_eo_port(o), "http-only"), proxy));
}

void ph_signal(ph_env *e, int sig)
{
	if (e->proxy_pid <= 0) {
		fail_msg("signal %d: no proxy is running", sig);
	}
	assert_int_equal(kill(e->proxy_pid, sig), 0);
}

bool ph_wait_exit(ph_env *e, int timeout_ms)
{
	uint64_t until = ph_now_ms() + (uint64_t)timeout_ms;
	int status = 0;

	assert_true(e->proxy_pid > 0);
	for (;;) {
		pid_t got = waitpid(e->proxy_pid, &status, WNOHANG);

		if (got == e->proxy_pid) {
			break;
		}
		if (got < 0 && errno != EINTR) {
			fail_msg("waitpid %d: %s", e->proxy_pid, strerror(errno));
		}
		if (ph_now_ms() > until) {
			return false;
		}
		usleep(20000);
	}
	e->proxy_pid = 0;
	e->proxy_status = status;
	e->proxy_reaped = true;
	return true;
}

/* The parent pid in /proc/pid/stat: the field after the state, after the last ')'. */
static int parent_of(int pid)
{
	char path[64];
	char buf[1024];
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1) {
		return -1;
	}
	return ppid;
}

/*
 * Workers are the proxy's children (it re-executes itself for each); a proxy
 * without any serves viewers itself.
 */
int ph_serving_pid(const ph_env *e)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	int child = 0;
	size_t children = 0;

	assert_true(e->proxy_pid > 0);
	assert_non_null(proc);
	while ((d = readdir(proc)) != NULL) {
		int pid = atoi(d->d_name);

		if (pid > 0 && parent_of(pid) == e->proxy_pid) {
			child = pid;
			children++;
		}
	}
	closedir(proc);
	if (children > 1) {
		fail_msg("the proxy has %zu child processes; one worker was expected", children);
	}
	return children == 1 ? child : e->proxy_pid;
}

char *ph_read_log(const ph_env *e)
{
	return ph_slurp(e->log);
}

/* Polls the log for the earliest of needles at or after from: the offset past it, -1 on timeout. */
static long wait_log_any(const ph_env *e, size_t from, const char *const *needles, size_t n,
			 int timeout_ms)
{
	uint64_t until = ph_now_ms() + (uint64_t)timeout_ms;

	assert_non_null(e->log);
	for (;;) {
		char *log = ph_read_log(e);
		long end = -1;

		for (size_t i = 0; i < n && strlen(log) > from; i++) {
			const char *hit = strstr(log + from, needles[i]);
			long at = hit != NULL ? (long)(hit - log) + (long)strlen(needles[i]) : -1;

			if (at >= 0 && (end < 0 || at < end)) {
				end = at;
			}
		}
		free(log);
		if (end >= 0 || ph_now_ms() > until) {
			return end;
		}
		usleep(20000);
	}
}

long ph_wait_log(const ph_env *e, size_t from, const char *needle, int timeout_ms)
{
	return wait_log_any(e, from, &needle, 1, timeout_ms);
}

long ph_wait_audit(const ph_env *e, size_t from, int timeout_ms)
{
	/* What the supervisor logs when an audit ends (proxy/audit.c). */
	static const char *const ends[] = {"audit: ", "audit failed", "audit could not start"};

	return wait_log_any(e, from, ends, sizeof(ends) / sizeof(ends[0]), timeout_ms);
}

/* The log line of the request whose target is target (the first one). */
void ph_expect_log_line(const ph_env *e, const char *target, const char *const *want, size_t n)
{
	char *log = ph_read_log(e);
	char needle[128];
	char *line;
	char *end;

	snprintf(needle, sizeof(needle), " %s -> ", target);
	line = strstr(log, needle);
	if (line == NULL) {
		fprintf(stderr, "%s", log);
		free(log);
		fail_msg("no log line for %s", target);
	}
	end = strchr(line, '\n');
	if (end != NULL) {
		*end = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		if (strstr(line, want[i]) == NULL) {
			char copy[512];

			snprintf(copy, sizeof(copy), "%s", line);
			free(log);
			fail_msg("the log line \"%s\" lacks \"%s\"", copy, want[i]);
		}
	}
	free(log);
}

/*
 * A clean exit is status 0; under the sanitizers that also means no leak and
 * no error, and a report in the log fails the test too.
 */
void ph_finish(ph_env *e)
{
	if (e->proxy_pid > 0) {
		ph_signal(e, SIGTERM);
		if (!ph_wait_exit(e, 15000)) {
			fail_msg("the proxy did not exit within 15 s of SIGTERM");
		}
	}
	if (e->proxy_reaped) {
		int status = e->proxy_status;
		char *log = ph_read_log(e);

		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    strstr(log, "Sanitizer") != NULL || strstr(log, "runtime error") != NULL) {
			fprintf(stderr, "%s", log);
			free(log);
			fail_msg("the proxy did not exit cleanly on SIGTERM (status 0x%x)", status);
		}
		free(log);
		/* The supervisor exits only after its workers: none may be left in its group. */
		if (kill(-e->proxy_pgid, 0) == 0) {
			kill(-e->proxy_pgid, SIGKILL);
			fail_msg("a process of the proxy outlived it (process group %d)",
				 e->proxy_pgid);
		}
		e->proxy_pgid = 0;
	}
	e->finished = true;
}

long ph_vm_hwm_kb(int pid)
{
	char path[64];
	char line[256];
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	assert_true(kb > 0);
	return kb;
}

size_t ph_count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += *s == '\n';
	}
	return n;
}

/* Runs the proxy with up to three arguments; its output goes to e->out and e->err. */
int ph_run_proxy(ph_env *e, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {(char *)e->proxy_bin, (char *)a1, (char *)a2, (char *)a3, NULL};

	free(e->out);
	free(e->err);
	e->out = NULL;
	e->err = NULL;
	return fx_run(argv, &e->out, &e->err, 30);
}

/* Runs --check --config on doc (stolen). */
int ph_check_config(ph_env *e, json_t *doc)
{
	char *path = ph_write_config(e, doc);
	int rc = ph_run_proxy(e, "--check", "--config", path);

	free(path);
	return rc;
}

void ph_prepare_run(void)
{
	/* A viewer write to a connection the proxy closed must fail, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("OA_TEST_FILTER") != NULL) {
		cmocka_set_test_filter(getenv("OA_TEST_FILTER"));
	}
}
