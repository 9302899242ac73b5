/*
 * The supervisor: binds the viewer listeners, starts proxy.workers worker
 * processes (this binary again, with --worker) that serve those sockets,
 * restarts one that dies, forwards SIGHUP/SIGTERM/SIGINT/SIGUSR1 to them
 * after judging a reload itself, runs the live audit and serves the admin
 * listener. Counters live in one shared memory region
 * every worker maps, so /metrics is always the sum over the workers.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef OA_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "originaudit/exitcode.h"
#include "originaudit/scan.h"
#include "supervisor.h"

#define MAX_WORKERS OA_PROXY_MAX_WORKERS
/* A worker's inherited descriptors: the counters, the configuration, the listeners. */
#define WORKER_METRICS_FD 3
#define WORKER_CONFIG_FD 4
#define WORKER_FIRST_LISTEN_FD 5
/* A worker that dies sooner than this after starting is restarted only after this. */
#define RESTART_DELAY_MS 1000

typedef struct worker_slot {
	struct supervisor *sup;
	unsigned index;
	uv_process_t proc;
	uv_timer_t restart;
	bool running;
	int pid;
	uint64_t started_ms;
	bool ever_ready;
} worker_slot;

typedef struct supervisor {
	uv_loop_t *loop;
	const char *config_path;
	unsigned header_timeout_ms;
	px_gen *gen;
	pxm *metrics;
	int metrics_fd;
	/* The configuration file as last validated: restarted workers read this. */
	int snapshot_fd;
	/*
	 * The listening sockets, one per listener of the configuration it started
	 * with (every worker is given the same ones), and their numbers in a
	 * worker, for --listen-fds. Closed once stopping: the workers' copies
	 * keep them open until each has drained.
	 */
	int *listen_fds;
	size_t n_listen;
	char *listen_arg;
	worker_slot workers[MAX_WORKERS];
	unsigned n_workers;
	unsigned running;
	uv_signal_t signals[4];
	uv_timer_t kill_timer;
	px_admin admin;
	px_audit audit;
	bool stopping;
	bool started;
	int exit_code;
} supervisor;

static void start_worker(worker_slot *w);

/*
 * Tells systemd (Type=notify) about readiness, reloads and stopping; does
 * nothing without libsystemd or outside a notify unit. The workers never
 * call it: only the main process's messages count (NotifyAccess=main).
 */
static void notify_systemd(const char *state)
{
#ifdef OA_HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

static void close_all(supervisor *sup)
{
	for (size_t i = 0; i < sizeof(sup->signals) / sizeof(sup->signals[0]); i++) {
		if (!uv_is_closing((uv_handle_t *)&sup->signals[i])) {
			uv_close((uv_handle_t *)&sup->signals[i], NULL);
		}
	}
	for (unsigned i = 0; i < sup->n_workers; i++) {
		if (!uv_is_closing((uv_handle_t *)&sup->workers[i].restart)) {
			uv_close((uv_handle_t *)&sup->workers[i].restart, NULL);
		}
	}
	if (!uv_is_closing((uv_handle_t *)&sup->kill_timer)) {
		uv_close((uv_handle_t *)&sup->kill_timer, NULL);
	}
	px_admin_close(&sup->admin);
	px_audit_close(&sup->audit, NULL);
}

static void close_listeners(supervisor *sup)
{
	for (size_t i = 0; i < sup->n_listen; i++) {
		if (sup->listen_fds[i] >= 0) {
			close(sup->listen_fds[i]);
			sup->listen_fds[i] = -1;
		}
	}
}

/*
 * Binds every listener of pc before any worker starts, so that a port in use
 * stops the proxy here and no other process can bind it while the proxy runs.
 */
static int bind_listeners(supervisor *sup, const oa_proxy_config *pc, oa_error *err)
{
	/* ",NNNNNNNNNN" at most per listener, and the terminating NUL. */
	size_t size = pc->n_listen * 12 + 1;
	size_t len = 0;

	if (pc->n_listen > PX_MAX_LISTENERS) {
		return oa_error_set(err, -EINVAL, "proxy.listen: %zu listeners, at most %d",
				    pc->n_listen, PX_MAX_LISTENERS);
	}
	sup->listen_fds = calloc(pc->n_listen, sizeof(*sup->listen_fds));
	sup->listen_arg = calloc(size, 1);
	if (sup->listen_fds == NULL || sup->listen_arg == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < pc->n_listen; i++) {
		sup->listen_fds[i] = -1;
	}
	sup->n_listen = pc->n_listen;
	for (size_t i = 0; i < pc->n_listen; i++) {
		int rc = px_listen_socket(&pc->listen[i], &sup->listen_fds[i], err);

		if (rc < 0) {
			return rc;
		}
		len += (size_t)snprintf(sup->listen_arg + len, size - len, "%s%zu",
					i > 0 ? "," : "", (size_t)WORKER_FIRST_LISTEN_FD + i);
	}
	return 0;
}

static void signal_workers(supervisor *sup, int signum)
{
	for (unsigned i = 0; i < sup->n_workers; i++) {
		if (sup->workers[i].running) {
			uv_process_kill(&sup->workers[i].proc, signum);
		}
	}
}

static void on_kill_timer(uv_timer_t *timer)
{
	supervisor *sup = timer->data;

	px_log("workers still running after the drain timeout: killing them");
	signal_workers(sup, SIGKILL);
}

static void stop(supervisor *sup, int exit_code)
{
	if (sup->stopping) {
		return;
	}
	sup->stopping = true;
	sup->exit_code = exit_code;
	notify_systemd("STOPPING=1");
	/* A connection that arrives now is refused once the workers have closed theirs too. */
	close_listeners(sup);
	signal_workers(sup, SIGTERM);
	for (unsigned i = 0; i < sup->n_workers; i++) {
		uv_timer_stop(&sup->workers[i].restart);
	}
	if (sup->running == 0) {
		close_all(sup);
		return;
	}
	uv_timer_start(&sup->kill_timer, on_kill_timer,
		       sup->gen->config->proxy.drain_timeout_s * 1000ULL + 5000, 0);
}

static void on_proc_closed(uv_handle_t *handle)
{
	worker_slot *w = handle->data;
	supervisor *sup = w->sup;

	if (sup->stopping && sup->running == 0) {
		close_all(sup);
	}
}

static void on_restart_timer(uv_timer_t *timer)
{
	worker_slot *w = timer->data;

	if (!w->sup->stopping) {
		start_worker(w);
	}
}

static void on_worker_exit(uv_process_t *proc, int64_t status, int term_signal)
{
	worker_slot *w = proc->data;
	supervisor *sup = w->sup;
	bool was_ready = pxm_worker_ready(sup->metrics, w->index);
	uint64_t lived = uv_now(sup->loop) - w->started_ms;

	w->running = false;
	sup->running--;
	pxm_set_workers(sup->metrics, sup->running);
	/* Its connections, its cache and its readiness are gone with it. */
	pxm_worker_gone(sup->metrics, w->index);
	/* One that could not even start (a listener, a certificate): nor will the others. */
	bool fatal = !sup->stopping && !was_ready && !w->ever_ready && !sup->started;
	const char *next = sup->stopping ? "" : fatal ? "; stopping" : "; restarting";

	if (term_signal != 0) {
		px_log("worker %u (pid %d) exited with signal %d%s", w->index, w->pid, term_signal,
		       next);
	} else {
		px_log("worker %u (pid %d) exited with status %lld%s", w->index, w->pid,
		       (long long)status, next);
	}
	uv_close((uv_handle_t *)proc, on_proc_closed);
	if (sup->stopping) {
		return;
	}
	if (fatal) {
		px_log("worker %u failed to start: stopping", w->index);
		stop(sup, OA_EXIT_ERROR);
		return;
	}
	pxm_count_worker_restart(sup->metrics);
	uv_timer_start(&w->restart, on_restart_timer,
		       lived < RESTART_DELAY_MS ? RESTART_DELAY_MS : 0, 0);
}

static void start_worker(worker_slot *w)
{
	supervisor *sup = w->sup;
	char index[16];
	char timeout[16];
	char metrics_fd[16];
	char config_fd[16];
	char *args[14];
	uv_process_options_t opts;
	size_t n_stdio = WORKER_FIRST_LISTEN_FD + sup->n_listen;
	uv_stdio_container_t *stdio = calloc(n_stdio, sizeof(*stdio));
	int rc;

	if (stdio == NULL) {
		rc = UV_ENOMEM;
		goto failed;
	}
	snprintf(index, sizeof(index), "%u", w->index);
	snprintf(timeout, sizeof(timeout), "%u", sup->header_timeout_ms);
	snprintf(metrics_fd, sizeof(metrics_fd), "%d", WORKER_METRICS_FD);
	snprintf(config_fd, sizeof(config_fd), "%d", WORKER_CONFIG_FD);
	args[0] = "originaudit-proxy";
	args[1] = "--worker";
	args[2] = index;
	args[3] = "--metrics-fd";
	args[4] = metrics_fd;
	args[5] = "--header-timeout-ms";
	args[6] = timeout;
	args[7] = "--config-fd";
	args[8] = config_fd;
	args[9] = "--listen-fds";
	args[10] = sup->listen_arg;
	args[11] = "--config";
	args[12] = (char *)sup->config_path;
	args[13] = NULL;
	memset(&opts, 0, sizeof(opts));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = 1;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	stdio[WORKER_METRICS_FD].flags = UV_INHERIT_FD;
	stdio[WORKER_METRICS_FD].data.fd = sup->metrics_fd;
	stdio[WORKER_CONFIG_FD].flags = UV_INHERIT_FD;
	stdio[WORKER_CONFIG_FD].data.fd = sup->snapshot_fd;
	/* libuv places each at its index in the worker, without close-on-exec. */
	for (size_t i = 0; i < sup->n_listen; i++) {
		stdio[WORKER_FIRST_LISTEN_FD + i].flags = UV_INHERIT_FD;
		stdio[WORKER_FIRST_LISTEN_FD + i].data.fd = sup->listen_fds[i];
	}
	opts.file = "/proc/self/exe";
	opts.args = args;
	opts.exit_cb = on_worker_exit;
	opts.stdio = stdio;
	opts.stdio_count = (int)n_stdio;
	w->proc.data = w;
	rc = uv_spawn(sup->loop, &w->proc, &opts);
	free(stdio);
	if (rc < 0) {
		uv_close((uv_handle_t *)&w->proc, NULL);
		goto failed;
	}
	w->running = true;
	w->pid = w->proc.pid;
	w->started_ms = uv_now(sup->loop);
	sup->running++;
	pxm_set_workers(sup->metrics, sup->running);
	px_log("worker %u started (pid %d)", w->index, w->pid);
	return;
failed:
	px_log("worker %u: cannot start: %s", w->index, uv_strerror(rc));
	if (!sup->started) {
		stop(sup, OA_EXIT_ERROR);
	} else {
		uv_timer_start(&w->restart, on_restart_timer, RESTART_DELAY_MS, 0);
	}
}

static void reload(supervisor *sup)
{
	px_gen *gen = NULL;
	oa_error err;

	int snapshot = -1;

	oa_error_clear(&err);
	if (px_config_snapshot(sup->config_path, &snapshot, &err) < 0 ||
	    px_gen_load(sup->config_path, snapshot, &gen, &err) < 0) {
		px_log("reload refused: %s; still serving the previous configuration", err.msg);
		pxm_count_reload(sup->metrics, false);
		if (snapshot >= 0) {
			close(snapshot);
		}
		return;
	}
	/*
	 * The workers serve the sockets bound at start, and a worker restarted
	 * later must find its configuration's listeners among them.
	 */
	if (!px_listeners_equal(&sup->gen->config->proxy, &gen->config->proxy)) {
		px_log("reload refused: proxy.listen changed (addresses, ports and TLS change only "
		       "with a restart); still serving the previous configuration");
		pxm_count_reload(sup->metrics, false);
		px_gen_unref(gen);
		close(snapshot);
		return;
	}
	px_gen_unref(sup->gen);
	sup->gen = gen;
	close(sup->snapshot_fd);
	sup->snapshot_fd = snapshot;
	pxm_count_reload(sup->metrics, true);
	px_log("reload: %s loaded; telling the workers", sup->config_path);
	signal_workers(sup, SIGHUP);
	px_audit_use(&sup->audit, gen);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	supervisor *sup = handle->data;

	switch (signum) {
	case SIGHUP:
		if (!sup->stopping) {
			/*
			 * The reload is judged here, synchronously: refused or not, it is
			 * over when reload() returns. Before the first READY=1 there is
			 * nothing to tell.
			 */
			if (sup->started) {
				notify_systemd("RELOADING=1");
			}
			reload(sup);
			if (sup->started) {
				notify_systemd("READY=1");
			}
		}
		break;
	case SIGUSR1:
		signal_workers(sup, SIGUSR1);
		break;
	default:
		px_log("signal %d: stopping (in-flight requests get up to %u s)", signum,
		       sup->gen->config->proxy.drain_timeout_s);
		stop(sup, OA_EXIT_PASS);
		break;
	}
}

static void on_started(uv_timer_t *timer)
{
	supervisor *sup = timer->data;
	bool all = true;

	for (unsigned i = 0; i < sup->n_workers; i++) {
		if (pxm_worker_ready(sup->metrics, i)) {
			sup->workers[i].ever_ready = true;
		} else {
			all = false;
		}
	}
	if (all && !sup->started) {
		sup->started = true;
		px_log("ready: %u worker(s)", sup->n_workers);
		notify_systemd("READY=1");
	}
	if (sup->started || sup->stopping) {
		uv_timer_stop(timer);
	}
}

/* ---- the admin endpoints ---- */

static const char *verdict_help =
    "# HELP originaudit_proxy_audit_origin_verdict Last audit verdict of the origin: 0 pass, 1 "
    "warn, 2 fail, 3 error, 4 skipped.\n"
    "# TYPE originaudit_proxy_audit_origin_verdict gauge\n";

static int write_metrics(supervisor *sup, px_buf *body)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (f == NULL) {
		return -ENOMEM;
	}
	if (pxm_write_prometheus(sup->metrics, f) < 0) {
		fclose(f);
		free(text);
		return -EIO;
	}
	fputs(verdict_help, f);
	for (size_t i = 0; i < sup->audit.n_verdicts; i++) {
		fputs("originaudit_proxy_audit_origin_verdict{origin=\"", f);
		oa_scan_prometheus_label(f, sup->audit.verdicts[i].origin);
		fprintf(f, "\"} %d\n", oa_status_metric_value(sup->audit.verdicts[i].verdict));
	}
	if (sup->audit.prometheus != NULL) {
		fwrite(sup->audit.prometheus, 1, sup->audit.prometheus_len, f);
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	int rc = px_buf_append(body, text, size);
	free(text);
	return rc;
}

static int admin_handler(void *data, const char *method, const char *path, px_buf *body,
			 const char **content_type)
{
	supervisor *sup = data;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		px_buf_append_str(body, "method not allowed\n");
		return 405;
	}
	if (strcmp(path, "/healthz") == 0) {
		bool any = false;

		for (unsigned i = 0; i < sup->n_workers; i++) {
			any = any || (sup->workers[i].running && pxm_worker_ready(sup->metrics, i));
		}
		px_buf_append_str(body, any && !sup->stopping ? "ok\n" : "unavailable\n");
		return any && !sup->stopping ? 200 : 503;
	}
	if (strcmp(path, "/metrics") == 0) {
		*content_type = "text/plain; version=0.0.4; charset=utf-8";
		return write_metrics(sup, body) < 0 ? 500 : 200;
	}
	if (strcmp(path, "/origins") == 0) {
		*content_type = "application/json";
		if (sup->audit.json == NULL) {
			px_buf_append_str(body, "{\"error\": \"no audit yet\"}\n");
			return 503;
		}
		px_buf_append(body, sup->audit.json, sup->audit.json_len);
		return 200;
	}
	px_buf_append_str(body, "not found: try /metrics, /healthz or /origins\n");
	return 404;
}

int px_supervisor_main(const char *config_path, px_gen *gen, int snapshot_fd,
		       unsigned header_timeout_ms)
{
	static const int signums[] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
	supervisor *sup = calloc(1, sizeof(*sup));
	const oa_proxy_config *pc = &gen->config->proxy;
	uv_timer_t started;
	oa_error err;
	int rc;

	if (sup == NULL) {
		px_gen_unref(gen);
		close(snapshot_fd);
		return OA_EXIT_ERROR;
	}
	sup->snapshot_fd = snapshot_fd;
	sup->loop = uv_default_loop();
	sup->config_path = config_path;
	sup->header_timeout_ms = header_timeout_ms;
	sup->gen = gen;
	sup->n_workers = pc->workers;
	if (sup->n_workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		sup->n_workers = n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (unsigned)n;
	}
	oa_error_clear(&err);
	if (bind_listeners(sup, pc, &err) < 0) {
		fprintf(stderr, "originaudit-proxy: failed to start: %s\n", err.msg);
		rc = OA_EXIT_ERROR;
		goto unbound;
	}
	rc = pxm_create(&sup->metrics, &sup->metrics_fd);
	if (rc < 0) {
		fprintf(stderr, "originaudit-proxy: shared memory for the counters: %s\n",
			strerror(-rc));
		rc = OA_EXIT_ERROR;
		goto unbound;
	}
	px_audit_init(&sup->audit, sup->loop, sup->metrics);
	if (pc->has_admin && px_admin_start(&sup->admin, sup->loop, pc->admin_address,
					    pc->admin_port, admin_handler, sup, &err) < 0) {
		fprintf(stderr, "originaudit-proxy: %s\n", err.msg);
		sup->exit_code = OA_EXIT_ERROR;
		sup->stopping = true;
		close_all(sup);
		uv_run(sup->loop, UV_RUN_DEFAULT);
		goto done;
	}
	for (size_t i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		uv_signal_init(sup->loop, &sup->signals[i]);
		sup->signals[i].data = sup;
		uv_signal_start(&sup->signals[i], on_signal, signums[i]);
	}
	uv_timer_init(sup->loop, &sup->kill_timer);
	sup->kill_timer.data = sup;
	uv_timer_init(sup->loop, &started);
	started.data = sup;
	uv_timer_start(&started, on_started, 20, 20);
	for (unsigned i = 0; i < sup->n_workers; i++) {
		worker_slot *w = &sup->workers[i];

		w->sup = sup;
		w->index = i;
		uv_timer_init(sup->loop, &w->restart);
		w->restart.data = w;
	}
	for (unsigned i = 0; i < sup->n_workers && !sup->stopping; i++) {
		start_worker(&sup->workers[i]);
	}
	px_audit_use(&sup->audit, gen);
	uv_run(sup->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&started, NULL);
	uv_run(sup->loop, UV_RUN_DEFAULT);
	px_log("stopped");
done:
	uv_loop_close(sup->loop);
	px_audit_free(&sup->audit);
	px_gen_unref(sup->gen);
	pxm_detach(sup->metrics);
	close(sup->metrics_fd);
	close(sup->snapshot_fd);
	close_listeners(sup);
	free(sup->listen_fds);
	free(sup->listen_arg);
	rc = sup->exit_code;
	free(sup);
	return rc;
unbound:
	close_listeners(sup);
	free(sup->listen_fds);
	free(sup->listen_arg);
	px_gen_unref(gen);
	close(snapshot_fd);
	free(sup);
	return rc;
}
