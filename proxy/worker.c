/*
 * A worker process: one libuv loop serving the listeners (the sockets the
 * supervisor bound, which every worker accepts from). SIGHUP switches new requests to the
 * re-read configuration, SIGTERM/SIGINT drain, SIGUSR1 reopens the access
 * log. A worker whose supervisor dies stops too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "originaudit/exitcode.h"
#include "supervisor.h"

typedef struct worker {
	const char *config_path;
	unsigned index;
	px_server srv;
	uv_signal_t signals[4];
	bool stopping;
} worker;

static void close_signals(worker *w)
{
	for (size_t i = 0; i < sizeof(w->signals) / sizeof(w->signals[0]); i++) {
		if (!uv_is_closing((uv_handle_t *)&w->signals[i])) {
			uv_close((uv_handle_t *)&w->signals[i], NULL);
		}
	}
}

static void on_drained(px_server *srv)
{
	worker *w = (worker *)((char *)srv - offsetof(worker, srv));

	close_signals(w);
	px_server_close(srv);
}

static void on_signal(uv_signal_t *handle, int signum)
{
	worker *w = handle->data;
	px_gen *gen = NULL;
	oa_error err;

	switch (signum) {
	case SIGHUP:
		oa_error_clear(&err);
		if (w->stopping) {
			return;
		}
		if (px_gen_load(w->config_path, -1, &gen, &err) < 0) {
			px_log("worker %u: reload refused: %s", w->index, err.msg);
			return;
		}
		px_server_reload(&w->srv, gen);
		px_gen_unref(gen);
		px_log("worker %u: reloaded", w->index);
		break;
	case SIGUSR1:
		if (px_access_log_reopen(&w->srv.access_log) < 0) {
			px_log("worker %u: cannot reopen the access log", w->index);
		}
		break;
	default:
		if (w->stopping) {
			return;
		}
		w->stopping = true;
		w->srv.drained = on_drained;
		px_server_drain(&w->srv, w->srv.gen->config->proxy.drain_timeout_s * 1000U);
		break;
	}
}

int px_worker_main(const char *config_path, const px_worker_opts *opts)
{
	unsigned index = opts->index;
	int config_fd = opts->config_fd;
	static const int signums[] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
	uv_loop_t *loop = uv_default_loop();
	worker *w = calloc(1, sizeof(*w));
	px_gen *gen = NULL;
	oa_error err;
	int rc = OA_EXIT_ERROR;

	if (w == NULL) {
		return OA_EXIT_ERROR;
	}
	/* The supervisor's death ends the worker rather than leaving it unsupervised. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1) {
		free(w);
		return OA_EXIT_ERROR;
	}
	w->config_path = config_path;
	w->index = index;
	oa_error_clear(&err);
	rc = px_gen_load(config_path, config_fd, &gen, &err);
	if (config_fd >= 0) {
		close(config_fd);
	}
	if (rc < 0) {
		px_log("worker %u: %s", index, err.msg);
		free(w);
		return OA_EXIT_ERROR;
	}
	rc = OA_EXIT_ERROR;
	if (opts->metrics_fd >= 0 && pxm_attach(opts->metrics_fd, &w->srv.metrics) < 0) {
		px_log("worker %u: cannot map the shared counters", index);
		px_gen_unref(gen);
		free(w);
		return OA_EXIT_ERROR;
	}
	w->srv.worker = index;
	w->srv.header_timeout_ms = opts->header_timeout_ms;
	if (px_server_start_inherited(&w->srv, loop, gen, opts->listen_fds, opts->n_listen_fds,
				      &err) < 0) {
		px_log("worker %u: %s", index, err.msg);
		px_server_close(&w->srv);
		uv_run(loop, UV_RUN_DEFAULT);
		goto done;
	}
	for (size_t i = 0; i < sizeof(signums) / sizeof(signums[0]); i++) {
		uv_signal_init(loop, &w->signals[i]);
		w->signals[i].data = w;
		uv_signal_start(&w->signals[i], on_signal, signums[i]);
	}
	if (w->srv.metrics != NULL) {
		pxm_set_worker_ready(w->srv.metrics, index, true);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	px_log("worker %u: stopped after %llu request(s)", index,
	       (unsigned long long)w->srv.requests);
	rc = OA_EXIT_PASS;
done:
	if (w->srv.metrics != NULL) {
		pxm_set_cache_gauge(w->srv.metrics, index, 0, 0);
	}
	px_server_free(&w->srv);
	uv_loop_close(loop);
	pxm_detach(w->srv.metrics);
	px_gen_unref(gen);
	free(w);
	return rc;
}
