/* The supervisor process: workers, the admin listener and the live audit. */
#ifndef ORIGINAUDIT_PROXY_SUPERVISOR_H
#define ORIGINAUDIT_PROXY_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "originaudit/http_server.h"

#include "proxy.h"

/* One origin's verdict in the latest audit. */
typedef struct px_audit_verdict {
	char *origin;
	oa_status verdict;
} px_audit_verdict;

typedef struct px_audit {
	uv_loop_t *loop;
	uv_timer_t timer;
	pxm *metrics;
	/* The configuration to audit next (a reference), and the one being audited. */
	px_gen *gen;
	px_gen *scanning;
	bool rerun;
	bool closing;
	void (*on_closed)(struct px_audit *a);
	/* The latest audit, rendered (NULL before the first); owned here. */
	char *json;
	size_t json_len;
	char *prometheus;
	size_t prometheus_len;
	px_audit_verdict *verdicts;
	size_t n_verdicts;
	uint64_t audits;
} px_audit;

void px_audit_init(px_audit *a, uv_loop_t *loop, pxm *metrics);
/* Audits gen now (after the one in progress) and then every audit_interval_s. */
void px_audit_use(px_audit *a, px_gen *gen);
/* Stops auditing; on_closed runs once no scan is in progress (maybe at once). */
void px_audit_close(px_audit *a, void (*on_closed)(px_audit *a));
/* Frees the results, after the loop has closed the timer. */
void px_audit_free(px_audit *a);

/* An admin request: fills body and content_type, returns the status. */
typedef int (*px_admin_handler)(void *data, const char *method, const char *path, px_buf *body,
				const char **content_type);

typedef struct px_admin {
	/* The core's small HTTP server (include/originaudit/http_server.h); NULL when closed. */
	oa_http_server *server;
	px_admin_handler handler;
	void *data;
	unsigned port;
} px_admin;

/* Listens on address:port; 0 or a negative errno value with err. */
int px_admin_start(px_admin *a, uv_loop_t *loop, const char *address, unsigned port,
		   px_admin_handler handler, void *data, oa_error *err);
/* Stops listening (connections being answered finish). */
void px_admin_close(px_admin *a);

/*
 * The viewer listeners (server.c). The supervisor binds each one once with
 * px_listen_socket, before any worker starts, and every worker adopts the
 * same sockets (px_server_start_inherited): a second process binding the
 * same address and port fails, and the workers share one accept queue per
 * listener.
 */

/* The most listeners a configuration may have (the sockets a worker is given). */
#define PX_MAX_LISTENERS 1024

/*
 * A socket bound to lc's address and port (SO_REUSEADDR, not SO_REUSEPORT)
 * and listening, close-on-exec: *fd (the caller's), or a negative errno value
 * with err ("listen ADDRESS:PORT: <reason>").
 */
int px_listen_socket(const oa_listen_config *lc, int *fd, oa_error *err);

/*
 * px_server_start on sockets the caller bound already: fds[i] (n_fds of them,
 * as many as gen has listeners) serves gen's listener i and must be listening
 * on its address and port. Each becomes the server's once adopted; after an
 * error the ones not adopted stay the caller's. fds NULL: binds every listener
 * itself, as px_server_start does. 0 or a negative errno value with err.
 */
int px_server_start_inherited(px_server *srv, uv_loop_t *loop, px_gen *gen, const int *fds,
			      size_t n_fds, oa_error *err);

/* Whether a and b have the same listeners (address, port, TLS or not) in the same order. */
bool px_listeners_equal(const oa_proxy_config *a, const oa_proxy_config *b);

/*
 * Runs the supervisor until every worker has exited after SIGTERM/SIGINT.
 * gen: the loaded configuration (the supervisor takes the reference), and
 * snapshot_fd the memory copy of the file it was loaded from (taken over).
 * Returns the process exit code.
 */
int px_supervisor_main(const char *config_path, px_gen *gen, int snapshot_fd,
		       unsigned header_timeout_ms);

/* How the supervisor starts a worker (the --worker command line). */
typedef struct px_worker_opts {
	unsigned index;
	/* The shared counters (-1: none). */
	int metrics_fd;
	/* The supervisor's snapshot of the configuration to start with (-1: read the file). */
	int config_fd;
	/* The listening sockets, one per listener in order (NULL: the worker binds them). */
	const int *listen_fds;
	size_t n_listen_fds;
	unsigned header_timeout_ms;
} px_worker_opts;

/*
 * Runs one worker (--worker) as opts says; SIGHUP reads config_path. The
 * descriptors in opts become the worker's. Returns the process exit code.
 */
int px_worker_main(const char *config_path, const px_worker_opts *opts);

#endif
