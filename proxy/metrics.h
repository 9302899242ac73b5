/*
 * The proxy's metrics, kept in one shared memory region that the supervisor
 * creates before it starts the first worker and that every worker maps, so
 * /metrics shows the sum over all workers (docs/proxy-operations.md,
 * "Process model" and "Metrics").
 *
 * Counting is lock-free: every counter is a uint64_t updated with relaxed
 * atomics. Origin ids and reason codes are interned into fixed slot tables
 * under a process-shared robust mutex, so a worker that dies while interning
 * does not block the others; interning is rare because callers keep the slot
 * numbers, and looking up an id that is already interned takes no lock.
 *
 * Limits: PXM_MAX_ORIGINS origin slots, slot 0 being "-" (no origin); an id
 * that does not fit (table full, or longer than PXM_ORIGIN_MAX_LEN bytes) is
 * counted under slot 0. PXM_MAX_REASONS reason codes of at most
 * PXM_REASON_MAX_LEN bytes, one of them "other", which takes every reason that
 * does not fit. Statuses 100-599 are counted; others are ignored. Per-worker
 * gauges exist for workers 0 to PXM_MAX_WORKERS - 1; other indices are
 * ignored.
 */
#ifndef ORIGINAUDIT_PROXY_METRICS_H
#define ORIGINAUDIT_PROXY_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "originaudit/config.h"

#define PXM_MAX_ORIGINS 256
#define PXM_ORIGIN_MAX_LEN 255
#define PXM_MAX_REASONS 128
#define PXM_REASON_MAX_LEN 63
#define PXM_STATUS_MIN 100
#define PXM_STATUS_MAX 599
#define PXM_MAX_WORKERS OA_PROXY_MAX_WORKERS

/* The mapped region; opaque. */
typedef struct pxm pxm;

/*
 * Supervisor: creates and maps a zeroed region (memfd_create, sealed against
 * resizing). *out is the caller's until pxm_detach; *fd is the caller's to
 * close, and it is not close-on-exec so that re-executed workers inherit it.
 * 0 or a negative errno.
 */
int pxm_create(pxm **out, int *fd);

/*
 * Worker: maps the region behind fd (which stays the caller's). *out is the
 * caller's until pxm_detach. 0, -EINVAL (fd is not a metrics region of this
 * build) or another negative errno.
 */
int pxm_attach(int fd, pxm **out);

/* Unmaps m; the region lives on while another process maps it. Accepts NULL. */
void pxm_detach(pxm *m);

/* The slot of origin_id, interning it; NULL, "" and "-" are slot 0. */
int pxm_origin_slot(pxm *m, const char *origin_id);

/* One response with status sent to a viewer for the origin in origin_slot. */
void pxm_count_request(pxm *m, int origin_slot, int status);

/* One failed origin connection or exchange; reason (a reason code, NULL: "other") is interned. */
void pxm_count_failure(pxm *m, int origin_slot, const char *reason);

/*
 * One origin refused because its certificate failed a check (the 502 the
 * proxy answers instead of forwarding); reason is the check's reason code,
 * interned like a failure's. Counted besides pxm_count_failure.
 */
void pxm_count_certificate_refusal(pxm *m, int origin_slot, const char *reason);

/* One GET/HEAD cache lookup, answered from the cache (hit) or not. */
void pxm_count_cache(pxm *m, bool hit);

/* Sets the cached bytes and objects of worker's own cache. */
void pxm_set_cache_gauge(pxm *m, unsigned worker, uint64_t bytes, uint64_t objects);

/*
 * Counts one more open viewer connection if fewer than max_connections are
 * open over all workers: true. At the limit: false, and the refusal is counted.
 */
bool pxm_conn_open(pxm *m, unsigned worker, unsigned max_connections);

/* One viewer connection that pxm_conn_open admitted has closed. */
void pxm_conn_close(pxm *m, unsigned worker);

/*
 * A worker has exited: the connections it held are no longer open, its
 * cache is gone, it is not ready.
 */
void pxm_worker_gone(pxm *m, unsigned worker);

/* Sets the number of workers running. */
void pxm_set_workers(pxm *m, unsigned running);

/* One worker restarted after dying. */
void pxm_count_worker_restart(pxm *m);

/* One SIGHUP reload, applied (ok) or refused. */
void pxm_count_reload(pxm *m, bool ok);

/* One audit finished. */
void pxm_count_audit(pxm *m);

/* Marks worker as ready (listeners bound, certificates loaded) or not. */
void pxm_set_worker_ready(pxm *m, unsigned worker, bool ready);

/* Whether worker marked itself ready; false for an index past PXM_MAX_WORKERS. */
bool pxm_worker_ready(const pxm *m, unsigned worker);

/*
 * Writes every originaudit_proxy_* family of docs/proxy-operations.md except
 * originaudit_proxy_audit_origin_verdict to out, in Prometheus text format
 * 0.0.4: HELP and TYPE once per family, only non-zero label combinations of
 * the labelled counters, unlabelled counters and gauges always. Flushes out.
 * 0 or -EIO.
 */
int pxm_write_prometheus(const pxm *m, FILE *out);

/*
 * Tests only: takes the interning lock and returns without releasing it, so a
 * test can make a process die holding it. 0 or a negative errno.
 */
int pxm__test_hold_lock(pxm *m);

#endif
