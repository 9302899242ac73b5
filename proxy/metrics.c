/* The proxy's metrics in one shared memory region: lock-free counters, interned labels. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "originaudit/scan.h"
#include "originaudit/version.h"

/* "OAPXM" and a layout version; a worker of another build refuses the region. */
#define PXM_MAGIC UINT64_C(0x4f4150584d000002)

#define PXM_N_STATUS (PXM_STATUS_MAX - PXM_STATUS_MIN + 1)

/*
 * The counters are shared between processes, which only works for atomics
 * that need no lock (a lock-based atomic would use a lock of one process).
 */
_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0), "64-bit atomics need a lock");

struct pxm {
	uint64_t magic;
	uint64_t size;
	/* Serialises interning; the tables are read without it. */
	pthread_mutex_t lock;
	/*
	 * Slots in use. A slot's name is written before the count that covers it
	 * is stored (release), and never changes afterwards, so a reader that
	 * loads the count (acquire) can read the names below it unlocked.
	 */
	uint32_t n_origins;
	uint32_t n_reasons;
	char origins[PXM_MAX_ORIGINS][PXM_ORIGIN_MAX_LEN + 1];
	char reasons[PXM_MAX_REASONS][PXM_REASON_MAX_LEN + 1];
	uint64_t requests[PXM_MAX_ORIGINS][PXM_N_STATUS];
	uint64_t failures[PXM_MAX_ORIGINS][PXM_MAX_REASONS];
	uint64_t certificate_refusals[PXM_MAX_ORIGINS][PXM_MAX_REASONS];
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t cache_bytes[PXM_MAX_WORKERS];
	uint64_t cache_objects[PXM_MAX_WORKERS];
	uint64_t open_connections;
	/* The part of open_connections each worker holds, released if it dies. */
	uint64_t worker_connections[PXM_MAX_WORKERS];
	uint64_t connections_refused;
	uint64_t workers;
	uint64_t worker_restarts;
	uint64_t reloads_ok;
	uint64_t reloads_error;
	uint64_t audits;
	uint32_t ready[PXM_MAX_WORKERS];
};

static void add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void set(uint64_t *gauge, uint64_t v)
{
	__atomic_store_n(gauge, v, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static int init_lock(pthread_mutex_t *lock)
{
	pthread_mutexattr_t attr;
	int rc;

	rc = pthread_mutexattr_init(&attr);
	if (rc != 0) {
		return -rc;
	}
	rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (rc == 0) {
		rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	}
	if (rc == 0) {
		rc = pthread_mutex_init(lock, &attr);
	}
	pthread_mutexattr_destroy(&attr);
	return -rc;
}

int pxm_create(pxm **out, int *fd)
{
	pxm *m;
	int mfd;
	int rc;

	*out = NULL;
	*fd = -1;
	/* Not MFD_CLOEXEC: the workers are re-executed and inherit the descriptor. */
	mfd = memfd_create("originaudit-proxy-metrics", MFD_ALLOW_SEALING);
	if (mfd < 0) {
		return -errno;
	}
	if (ftruncate(mfd, (off_t)sizeof(*m)) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	/* A process that shrank the region would make every other one fault on it. */
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		rc = -errno;
		goto fail_fd;
	}
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (m == MAP_FAILED) {
		rc = -errno;
		goto fail_fd;
	}
	rc = init_lock(&m->lock);
	if (rc < 0) {
		goto fail_map;
	}
	/* The region starts zeroed; slot 0 of each table is there from the start. */
	strcpy(m->origins[0], "-");
	strcpy(m->reasons[0], "other");
	m->n_origins = 1;
	m->n_reasons = 1;
	m->size = sizeof(*m);
	m->magic = PXM_MAGIC;
	*out = m;
	*fd = mfd;
	return 0;

fail_map:
	munmap(m, sizeof(*m));
fail_fd:
	close(mfd);
	return rc;
}

int pxm_attach(int fd, pxm **out)
{
	struct stat st;
	pxm *m;

	*out = NULL;
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)sizeof(*m)) {
		return -EINVAL;
	}
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		return -errno;
	}
	if (m->magic != PXM_MAGIC || m->size != sizeof(*m)) {
		munmap(m, sizeof(*m));
		return -EINVAL;
	}
	*out = m;
	return 0;
}

void pxm_detach(pxm *m)
{
	if (m == NULL) {
		return;
	}
	munmap(m, sizeof(*m));
}

static int lock_region(pxm *m)
{
	int rc = pthread_mutex_lock(&m->lock);

	if (rc == EOWNERDEAD) {
		/*
		 * The holder died while interning. The tables are still
		 * consistent: a name only counts once the slot count covering it
		 * is stored, and the next interning overwrites a half-written one.
		 */
		rc = pthread_mutex_consistent(&m->lock);
		if (rc != 0) {
			pthread_mutex_unlock(&m->lock);
		}
	}
	return -rc;
}

static void unlock_region(pxm *m)
{
	pthread_mutex_unlock(&m->lock);
}

/* The slot of name in a table of n published slots of width bytes, from slot first; -1 if none. */
static int find_slot(const char *table, size_t width, uint32_t first, uint32_t n, const char *name)
{
	for (uint32_t i = first; i < n; i++) {
		if (strcmp(table + i * width, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * The slot of name in a table with cap slots of width bytes and *count in
 * use, interning name when it is new; 0 when it does not fit.
 */
static int intern(pxm *m, char *table, size_t width, uint32_t cap, uint32_t *count,
		  const char *name)
{
	size_t len = strlen(name);
	uint32_t seen;
	uint32_t n;
	int slot;

	if (len >= width) {
		return 0;
	}
	seen = __atomic_load_n(count, __ATOMIC_ACQUIRE);
	slot = find_slot(table, width, 0, seen, name);
	if (slot >= 0) {
		return slot;
	}
	if (lock_region(m) < 0) {
		return 0;
	}
	/* Another process may have interned it since the unlocked look. */
	n = __atomic_load_n(count, __ATOMIC_ACQUIRE);
	slot = find_slot(table, width, seen, n, name);
	if (slot < 0 && n < cap) {
		char *dst = table + n * width;

		memset(dst, 0, width);
		memcpy(dst, name, len);
		__atomic_store_n(count, n + 1, __ATOMIC_RELEASE);
		slot = (int)n;
	}
	unlock_region(m);
	return slot < 0 ? 0 : slot;
}

int pxm_origin_slot(pxm *m, const char *origin_id)
{
	if (origin_id == NULL || origin_id[0] == '\0') {
		return 0;
	}
	return intern(m, &m->origins[0][0], sizeof(m->origins[0]), PXM_MAX_ORIGINS, &m->n_origins,
		      origin_id);
}

/* slot if an origin holds it, else 0, so that no count lands in a slot without a name. */
static int valid_origin(const pxm *m, int slot)
{
	if (slot < 0 || (uint32_t)slot >= __atomic_load_n(&m->n_origins, __ATOMIC_RELAXED)) {
		return 0;
	}
	return slot;
}

void pxm_count_request(pxm *m, int origin_slot, int status)
{
	if (status < PXM_STATUS_MIN || status > PXM_STATUS_MAX) {
		return;
	}
	add(&m->requests[valid_origin(m, origin_slot)][status - PXM_STATUS_MIN], 1);
}

void pxm_count_failure(pxm *m, int origin_slot, const char *reason)
{
	int r = 0;

	if (reason != NULL && reason[0] != '\0') {
		r = intern(m, &m->reasons[0][0], sizeof(m->reasons[0]), PXM_MAX_REASONS,
			   &m->n_reasons, reason);
	}
	add(&m->failures[valid_origin(m, origin_slot)][r], 1);
}

void pxm_count_certificate_refusal(pxm *m, int origin_slot, const char *reason)
{
	int r = 0;

	if (reason != NULL && reason[0] != '\0') {
		r = intern(m, &m->reasons[0][0], sizeof(m->reasons[0]), PXM_MAX_REASONS,
			   &m->n_reasons, reason);
	}
	add(&m->certificate_refusals[valid_origin(m, origin_slot)][r], 1);
}

void pxm_count_cache(pxm *m, bool hit)
{
	add(hit ? &m->cache_hits : &m->cache_misses, 1);
}

void pxm_set_cache_gauge(pxm *m, unsigned worker, uint64_t bytes, uint64_t objects)
{
	if (worker >= PXM_MAX_WORKERS) {
		return;
	}
	set(&m->cache_bytes[worker], bytes);
	set(&m->cache_objects[worker], objects);
}

static void sub_clamped(uint64_t *counter, uint64_t n)
{
	uint64_t cur = get(counter);

	/* Never below zero: a wrapped count would refuse every connection from then on. */
	do {
		if (cur == 0) {
			return;
		}
	} while (!__atomic_compare_exchange_n(counter, &cur, cur > n ? cur - n : 0, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

bool pxm_conn_open(pxm *m, unsigned worker, unsigned max_connections)
{
	uint64_t cur = get(&m->open_connections);

	do {
		if (cur >= max_connections) {
			add(&m->connections_refused, 1);
			return false;
		}
	} while (!__atomic_compare_exchange_n(&m->open_connections, &cur, cur + 1, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	if (worker < PXM_MAX_WORKERS) {
		add(&m->worker_connections[worker], 1);
	}
	return true;
}

void pxm_conn_close(pxm *m, unsigned worker)
{
	if (worker < PXM_MAX_WORKERS) {
		sub_clamped(&m->worker_connections[worker], 1);
	}
	sub_clamped(&m->open_connections, 1);
}

void pxm_worker_gone(pxm *m, unsigned worker)
{
	if (worker >= PXM_MAX_WORKERS) {
		return;
	}
	uint64_t held = __atomic_exchange_n(&m->worker_connections[worker], 0, __ATOMIC_RELAXED);

	sub_clamped(&m->open_connections, held);
	set(&m->cache_bytes[worker], 0);
	set(&m->cache_objects[worker], 0);
	__atomic_store_n(&m->ready[worker], 0, __ATOMIC_RELAXED);
}

void pxm_set_workers(pxm *m, unsigned running)
{
	set(&m->workers, running);
}

void pxm_count_worker_restart(pxm *m)
{
	add(&m->worker_restarts, 1);
}

void pxm_count_reload(pxm *m, bool ok)
{
	add(ok ? &m->reloads_ok : &m->reloads_error, 1);
}

void pxm_count_audit(pxm *m)
{
	add(&m->audits, 1);
}

void pxm_set_worker_ready(pxm *m, unsigned worker, bool ready)
{
	if (worker >= PXM_MAX_WORKERS) {
		return;
	}
	__atomic_store_n(&m->ready[worker], ready ? 1u : 0u, __ATOMIC_RELAXED);
}

bool pxm_worker_ready(const pxm *m, unsigned worker)
{
	if (worker >= PXM_MAX_WORKERS) {
		return false;
	}
	return __atomic_load_n(&m->ready[worker], __ATOMIC_RELAXED) != 0;
}

int pxm__test_hold_lock(pxm *m)
{
	return lock_region(m);
}

/* Writes the HELP and TYPE lines of a family. */
static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes an unlabelled family with its one sample. */
static void single(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
	family(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, v);
}

static void write_requests(const pxm *m, FILE *out, uint32_t n_origins)
{
	static const char name[] = "originaudit_proxy_requests_total";

	family(out, name, "counter", "Responses sent to viewers.");
	for (uint32_t o = 0; o < n_origins; o++) {
		for (int s = 0; s < PXM_N_STATUS; s++) {
			uint64_t v = get(&m->requests[o][s]);

			if (v == 0) {
				continue;
			}
			fprintf(out, "%s{origin=\"", name);
			oa_scan_prometheus_label(out, m->origins[o]);
			fprintf(out, "\",status=\"%d\"} %" PRIu64 "\n", s + PXM_STATUS_MIN, v);
		}
	}
}

/* A counter by origin and reason code, its samples only where non-zero. */
static void write_by_reason(const pxm *m, FILE *out, const char *name, const char *help,
			    const uint64_t (*counts)[PXM_MAX_REASONS], uint32_t n_origins,
			    uint32_t n_reasons)
{
	family(out, name, "counter", help);
	for (uint32_t o = 0; o < n_origins; o++) {
		for (uint32_t r = 0; r < n_reasons; r++) {
			uint64_t v = get(&counts[o][r]);

			if (v == 0) {
				continue;
			}
			fprintf(out, "%s{origin=\"", name);
			oa_scan_prometheus_label(out, m->origins[o]);
			fputs("\",reason=\"", out);
			oa_scan_prometheus_label(out, m->reasons[r]);
			fprintf(out, "\"} %" PRIu64 "\n", v);
		}
	}
}

static void write_failures(const pxm *m, FILE *out, uint32_t n_origins, uint32_t n_reasons)
{
	write_by_reason(m, out, "originaudit_proxy_origin_failures_total",
			"Origin connections or exchanges that failed, by reason code.", m->failures,
			n_origins, n_reasons);
	write_by_reason(m, out, "originaudit_proxy_origin_certificate_refusals_total",
			"Origins refused (502) because their certificate failed a check, by the "
			"check's reason code.",
			m->certificate_refusals, n_origins, n_reasons);
}

static void write_reloads(const pxm *m, FILE *out)
{
	static const char name[] = "originaudit_proxy_reloads_total";
	uint64_t ok = get(&m->reloads_ok);
	uint64_t error = get(&m->reloads_error);

	family(out, name, "counter", "SIGHUP reloads.");
	if (ok != 0) {
		fprintf(out, "%s{result=\"ok\"} %" PRIu64 "\n", name, ok);
	}
	if (error != 0) {
		fprintf(out, "%s{result=\"error\"} %" PRIu64 "\n", name, error);
	}
}

int pxm_write_prometheus(const pxm *m, FILE *out)
{
	/* Labels are read up to counts loaded once, so a slot interned meanwhile is left out whole.
	 */
	uint32_t n_origins = __atomic_load_n(&m->n_origins, __ATOMIC_ACQUIRE);
	uint32_t n_reasons = __atomic_load_n(&m->n_reasons, __ATOMIC_ACQUIRE);
	uint64_t bytes = 0;
	uint64_t objects = 0;

	for (unsigned w = 0; w < PXM_MAX_WORKERS; w++) {
		bytes += get(&m->cache_bytes[w]);
		objects += get(&m->cache_objects[w]);
	}

	family(out, "originaudit_proxy_build_info", "gauge",
	       "The originaudit-proxy version running: always 1.");
	fputs("originaudit_proxy_build_info{version=\"", out);
	oa_scan_prometheus_label(out, oa_version());
	fputs("\"} 1\n", out);
	write_requests(m, out, n_origins);
	write_failures(m, out, n_origins, n_reasons);
	single(out, "originaudit_proxy_cache_hits_total", "counter",
	       "GET/HEAD lookups answered from the cache.", get(&m->cache_hits));
	single(out, "originaudit_proxy_cache_misses_total", "counter",
	       "GET/HEAD lookups not answered from the cache.", get(&m->cache_misses));
	single(out, "originaudit_proxy_cache_bytes", "gauge", "Cached bytes, summed over workers.",
	       bytes);
	single(out, "originaudit_proxy_cache_objects", "gauge",
	       "Cached objects, summed over workers.", objects);
	single(out, "originaudit_proxy_open_connections", "gauge", "Viewer connections open now.",
	       get(&m->open_connections));
	single(out, "originaudit_proxy_connections_refused_total", "counter",
	       "Viewer connections closed at once because of max_connections.",
	       get(&m->connections_refused));
	single(out, "originaudit_proxy_workers", "gauge", "Workers running.", get(&m->workers));
	single(out, "originaudit_proxy_worker_restarts_total", "counter",
	       "Workers restarted after dying.", get(&m->worker_restarts));
	write_reloads(m, out);
	single(out, "originaudit_proxy_audits_total", "counter", "Audits finished.",
	       get(&m->audits));

	if (fflush(out) != 0 || ferror(out)) {
		return -EIO;
	}
	return 0;
}
