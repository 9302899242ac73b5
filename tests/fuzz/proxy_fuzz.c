/*
 * The proxy fuzzing harness (proxy_fuzz.h): a real px_server built by hand
 * the way px_server_start builds one, minus the listening sockets and the
 * sweep/drain timers, so that after each input the loop has no handle left.
 */
#include "proxy_fuzz.h"
#include "fuzz_common.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* Loop turns one pf_pump may take: far beyond what any input needs, short of a hang. */
#define PF_PUMP_MAX 100000

px_server pf_srv;
pf_answer_fn pf_answer;
bool pf_framing_oracle;
void (*pf_viewer_data)(pf_peer *viewer, const char *data, size_t len);

static uv_loop_t loop;
static px_listener listener;
static llhttp_settings_t origin_settings;
static FILE *real_stderr;
/* OA_FUZZ_VERBOSE: the proxy's log and every byte the peers get go to stderr. */
static bool verbose;

/* This input's peers; freed by pf_end. */
static pf_peer **viewers;
static size_t n_viewers;
static pf_peer **origins;
static size_t n_origins;
/* A viewer was answered "400 bad_framing": nothing may reach an origin any more. */
static bool framing_refused;
/* pf_end closed the peers: an origin connection opened now finds its peer gone. */
static bool winding_down;

/* The proxy's own 400 for a request whose length it cannot know (debug_headers names it). */
static const char marker[] =
    "X-Cache: Error from originaudit\r\nX-Originaudit-Reason: bad_framing\r\n";

void pf_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(real_stderr, "proxy fuzz oracle: ");
	va_start(ap, fmt);
	vfprintf(real_stderr, fmt, ap);
	va_end(ap);
	fputc('\n', real_stderr);
	fflush(real_stderr);
	abort();
}

static void on_peer_readable(uv_poll_t *handle, int status, int events);

static pf_peer *peer_new(int fd, bool origin, pf_peer ***list, size_t *n)
{
	pf_peer **grown = realloc(*list, (*n + 1) * sizeof(**list));
	pf_peer *p = calloc(1, sizeof(*p));

	if (grown == NULL || p == NULL) {
		pf_fail("out of memory");
	}
	*list = grown;
	p->fd = fd;
	p->origin = origin;
	(*list)[(*n)++] = p;
	if (uv_poll_init(&loop, &p->poll, fd) != 0) {
		pf_fail("uv_poll_init");
	}
	p->poll.data = p;
	uv_poll_start(&p->poll, UV_READABLE, on_peer_readable);
	return p;
}

void pf_close(pf_peer *p)
{
	if (p->fd < 0) {
		return;
	}
	/* Out of epoll before the descriptor goes (its number is reused at once). */
	uv_close((uv_handle_t *)&p->poll, NULL);
	close(p->fd);
	p->fd = -1;
}

/* ---- origins ---- */

static int on_origin_headers(llhttp_t *parser)
{
	pf_peer *o = parser->data;

	o->head_request = parser->method == HTTP_HEAD;
	return 0;
}

static int on_origin_message(llhttp_t *parser)
{
	return HPE_PAUSED;
}

static int origin_socket(px_server *srv, void *arg)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
		pf_fail("socketpair: %s", strerror(errno));
	}
	pf_peer *o = peer_new(fds[1], true, &origins, &n_origins);
	llhttp_init(&o->parser, HTTP_REQUEST, &origin_settings);
	o->parser.data = o;
	if (winding_down) {
		/* The proxy connects again while everything closes: it finds no origin. */
		pf_close(o);
		o->eof = true;
	}
	return fds[0];
}

size_t pf_origin_count(void)
{
	return n_origins;
}

pf_peer *pf_origin_get(size_t i)
{
	return origins[i];
}

/* Request bytes at an origin: parsed strictly, one request answered at a time. */
static void origin_feed(pf_peer *o, const char *data, size_t len)
{
	if (framing_refused) {
		pf_fail(
		    "%zu byte(s) reached an origin after a viewer got 400 bad_framing: \"%.*s\"",
		    len, (int)(len < 200 ? len : 200), data);
	}
	while (len > 0 && o->fd >= 0) {
		llhttp_errno_t err = llhttp_execute(&o->parser, data, len);

		if (err == HPE_OK) {
			return;
		}
		if (err != HPE_PAUSED) {
			pf_fail("an origin got what strict llhttp refuses: %s (%s) at \"%.*s\"",
				llhttp_errno_name(err), llhttp_get_error_reason(&o->parser),
				(int)(len < 200 ? len : 200), data);
		}
		size_t used = (size_t)(llhttp_get_error_pos(&o->parser) - data);
		data += used;
		len -= used;
		if (len > 0) {
			pf_fail(
			    "an origin got %zu byte(s) past a complete request before its answer: "
			    "\"%.*s\"",
			    len, (int)(len < 200 ? len : 200), data);
		}
		llhttp_resume(&o->parser);
		o->requests++;
		if (pf_answer != NULL) {
			pf_answer(o);
		}
	}
}

/* ---- viewers ---- */

pf_peer *pf_viewer_open(void)
{
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) {
		pf_fail("socketpair: %s", strerror(errno));
	}
	pf_peer *v = peer_new(fds[1], false, &viewers, &n_viewers);
	int rc = px_viewer_adopt(&listener, fds[0]);
	if (rc < 0) {
		pf_fail("px_viewer_adopt: %s", strerror(-rc));
	}
	return v;
}

/* Response bytes at a viewer: the bad_framing marker is looked for, also across reads. */
static void viewer_feed(pf_peer *v, const char *data, size_t len)
{
	char edge[2 * sizeof(v->tail)];
	size_t head = len < sizeof(v->tail) ? len : sizeof(v->tail);
	size_t keep = sizeof(marker) - 2;

	_Static_assert(sizeof(marker) - 2 <= sizeof(v->tail),
		       "the tail holds a marker but one byte");

	memcpy(edge, v->tail, v->tail_len);
	memcpy(edge + v->tail_len, data, head);
	if (pf_framing_oracle &&
	    (memmem(edge, v->tail_len + head, marker, sizeof(marker) - 1) != NULL ||
	     memmem(data, len, marker, sizeof(marker) - 1) != NULL)) {
		framing_refused = true;
	}
	if (len >= keep) {
		memcpy(v->tail, data + len - keep, keep);
		v->tail_len = keep;
	} else {
		size_t from_old = v->tail_len + len > keep ? keep - len : v->tail_len;

		memmove(v->tail, v->tail + v->tail_len - from_old, from_old);
		memcpy(v->tail + from_old, data, len);
		v->tail_len = from_old + len;
	}
	if (pf_viewer_data != NULL) {
		pf_viewer_data(v, data, len);
	}
}

/* ---- moving bytes ---- */

/* Set whenever the harness sees something of the proxy: pf_pump is not done yet. */
static bool moved;
/* Inside uv_run (a callback): the loop cannot be run from here. */
static bool in_run;

/* Reads once (all of it: true) what the proxy sent to p, or its end. */
static bool read_peer(pf_peer *p)
{
	static char buf[65536];
	ssize_t n;

	if (p->fd < 0 || p->eof) {
		return true;
	}
	do {
		n = read(p->fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN) {
		return true;
	}
	moved = true;
	if (n <= 0) {
		p->eof = true;
		uv_poll_stop(&p->poll);
		if (!p->origin && pf_viewer_data != NULL) {
			pf_viewer_data(p, NULL, 0);
		}
		return true;
	}
	if (verbose) {
		fprintf(real_stderr, "--- %s %d got %zd byte(s):\n%.*s\n",
			p->origin ? "origin" : "viewer", p->fd, n, (int)n, buf);
	}
	if (p->origin) {
		origin_feed(p, buf, (size_t)n);
	} else {
		viewer_feed(p, buf, (size_t)n);
	}
	return (size_t)n < sizeof(buf);
}

static void on_peer_readable(uv_poll_t *handle, int status, int events)
{
	pf_peer *p = handle->data;

	if (p->origin) {
		/*
		 * What the viewers got was sent before this (a 400 before a request
		 * that must not follow it): it is seen first, whatever order epoll
		 * reports the descriptors in.
		 */
		for (size_t i = 0; i < n_viewers; i++) {
			while (!read_peer(viewers[i])) {
			}
		}
	}
	/* Level-triggered: what one read leaves comes on the next loop turn. */
	read_peer(p);
}

void pf_pump(void)
{
	int quiet = 0;

	for (unsigned turn = 0; turn < PF_PUMP_MAX; turn++) {
		moved = false;
		in_run = true;
		uv_run(&loop, UV_RUN_NOWAIT);
		in_run = false;
		if (!moved && !uv_loop_alive(&loop)) {
			return;
		}
		if (moved || uv_backend_timeout(&loop) == 0) {
			quiet = 0;
			continue;
		}
		/* One more turn after the first quiet one: what the proxy did last shows then. */
		if (++quiet == 2) {
			return;
		}
	}
	pf_fail("the proxy was still busy after %d loop turns", PF_PUMP_MAX);
}

/* Writes up to len bytes; the count written (short when the proxy stops reading or left). */
static size_t write_some(pf_peer *p, const void *data, size_t len)
{
	size_t done = 0;
	int stalls = 0;

	while (done < len && p->fd >= 0) {
		ssize_t n = write(p->fd, (const char *)data + done, len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno == EAGAIN && !in_run && stalls++ < 3) {
			/* The socket is full: the proxy may read some once it runs. */
			pf_pump();
			continue;
		}
		break;
	}
	return done;
}

bool pf_write_all(pf_peer *p, const void *data, size_t len)
{
	return write_some(p, data, len) == len;
}

void pf_send(pf_peer *p, const uint8_t *data, size_t len, uint8_t split)
{
	uint32_t state = 0x9e3779b9u ^ ((uint32_t)split * 0x01000193u);
	size_t max = (size_t)2 << (split & 7);

	while (len > 0) {
		size_t n = len;

		if (split != 0) {
			/* xorshift32: the same split byte cuts the same way every time. */
			state ^= state << 13;
			state ^= state >> 17;
			state ^= state << 5;
			n = 1 + state % max;
			n = n < len ? n : len;
		}
		if (write_some(p, data, n) < n) {
			break;
		}
		data += n;
		len -= n;
		/* One loop turn: the proxy reads this piece on its own, the rest runs on later. */
		in_run = true;
		uv_run(&loop, UV_RUN_NOWAIT);
		in_run = false;
	}
	pf_pump();
}

/* ---- per input ---- */

static void free_peers(pf_peer ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		pf_close((*list)[i]);
		free((*list)[i]);
	}
	free(*list);
	*list = NULL;
	*n = 0;
}

void pf_end(void)
{
	const oa_proxy_config *pc = &pf_srv.gen->config->proxy;

	if (framing_refused) {
		for (size_t i = 0; i < n_viewers; i++) {
			if (!viewers[i]->eof) {
				pf_fail("a viewer connection stayed open after 400 bad_framing");
			}
		}
	}
	winding_down = true;
	for (size_t i = 0; i < n_viewers; i++) {
		pf_close(viewers[i]);
	}
	for (size_t i = 0; i < n_origins; i++) {
		pf_close(origins[i]);
	}
	pf_pump();
	if (pf_srv.viewers != 0) {
		pf_fail("%zu viewer connection(s) open after both peers closed", pf_srv.viewers);
	}
	/* Kept-alive origin connections: the pool is emptied as a drain would. */
	px_pool_clear(&pf_srv);
	pf_pump();
	if (uv_loop_alive(&loop)) {
		pf_fail(
		    "handles or requests left on the loop after the viewer and the pool closed");
	}
	free_peers(&viewers, &n_viewers);
	free_peers(&origins, &n_origins);
	framing_refused = false;
	winding_down = false;
	/* Every input starts with an empty cache: no outcome depends on the input before. */
	px_cache_stats st;
	px_cache_stats_get(pf_srv.cache, &st);
	if (st.objects > 0) {
		px_cache_destroy(pf_srv.cache);
		pf_srv.cache = px_cache_create((size_t)pc->cache_max_bytes,
					       (size_t)pc->cache_max_object_bytes);
		if (pf_srv.cache == NULL) {
			pf_fail("out of memory");
		}
	}
}

/* ---- setup ---- */

/*
 * Plain HTTP origins only (an HTTPS one would start a TLS handshake over the
 * harness's socket). The listener entry is required by the format; it is
 * never bound: viewers are adopted sockets.
 */
static const char config_fmt[] =
    "{\"origins\": ["
    "{\"id\": \"web\", \"domain_name\": \"origin.example.com\", \"addresses\": [\"127.0.0.1\"],"
    " \"protocol_policy\": \"http-only\", \"connection_attempts\": 2, \"keepalive_timeout_s\": 5},"
    "{\"id\": \"api\", \"domain_name\": \"api.example.com\", \"origin_path\": \"/base\","
    " \"addresses\": [\"127.0.0.1\", \"::1\"], \"protocol_policy\": \"match-viewer\","
    " \"connection_attempts\": 1}],"
    "\"behaviors\": ["
    "{\"path_pattern\": \"/fwd/*\", \"origin\": \"web\", \"viewer_protocol_policy\": \"allow-all\","
    " \"forward_host_header\": true},"
    "{\"path_pattern\": \"/api/*.json\", \"origin\": \"api\", \"viewer_protocol_policy\": "
    "\"allow-all\"},"
    "{\"path_pattern\": \"/secure/*\", \"origin\": \"web\", \"viewer_protocol_policy\": "
    "\"https-only\"},"
    "{\"path_pattern\": \"/login*\", \"origin\": \"web\", \"viewer_protocol_policy\": "
    "\"redirect-to-https\"}],"
    "\"default_behavior\": {\"origin\": \"web\", \"viewer_protocol_policy\": \"allow-all\"},"
    "\"proxy\": {\"listen\": [{\"address\": \"127.0.0.1\", \"port\": 8080}],"
    " \"ca_bundle\": \"%s/data/roots.pem\", \"debug_headers\": true, \"access_log\": "
    "\"/dev/null\","
    " \"cache\": {\"max_bytes\": 1048576, \"max_object_bytes\": 65536}, \"workers\": 1}}";

static px_gen *load_generation(void)
{
	char *json = NULL;
	px_gen *gen = NULL;
	oa_error err;
	int fd = memfd_create("oa-fuzz-config", MFD_CLOEXEC);

	if (fd < 0 || asprintf(&json, config_fmt, fz_dir()) < 0) {
		pf_fail("cannot write the configuration");
	}
	size_t len = strlen(json);
	if (write(fd, json, len) != (ssize_t)len) {
		pf_fail("cannot write the configuration");
	}
	free(json);
	oa_error_clear(&err);
	if (px_gen_load("fuzz-proxy.json", fd, &gen, &err) < 0) {
		pf_fail("px_gen_load: %s", err.msg);
	}
	close(fd);
	return gen;
}

void pf_init(void)
{
	static bool ready;
	oa_error err;
	int metrics_fd = -1;

	if (ready) {
		return;
	}
	ready = true;
	real_stderr = stderr;
	/* A write to a closed peer must fail with EPIPE, as in the proxy (main.c ignores it too).
	 */
	signal(SIGPIPE, SIG_IGN);
	verbose = getenv("OA_FUZZ_VERBOSE") != NULL;
	if (!verbose) {
		/*
		 * px_log writes a line per request to stderr. Only the stderr stream
		 * is replaced: libFuzzer keeps the FILE it took at start-up and the
		 * sanitizers write to descriptor 2, so their reports still show.
		 */
		FILE *null = fopen("/dev/null", "w");

		if (null != NULL) {
			stderr = null;
		}
	}
	llhttp_settings_init(&origin_settings);
	origin_settings.on_headers_complete = on_origin_headers;
	origin_settings.on_message_complete = on_origin_message;
	if (uv_loop_init(&loop) != 0) {
		pf_fail("uv_loop_init");
	}
	px_gen *gen = load_generation();
	const oa_proxy_config *pc = &gen->config->proxy;

	px_viewer_init_settings();
	pf_srv.loop = &loop;
	pf_srv.gen = gen;
	pf_srv.header_timeout_ms = 10000;
	if (pxm_create(&pf_srv.metrics, &metrics_fd) < 0) {
		pf_fail("pxm_create");
	}
	close(metrics_fd);
	for (size_t i = 0; i < gen->config->n_origins; i++) {
		gen->origin_slots[i] = pxm_origin_slot(pf_srv.metrics, gen->config->origins[i].id);
	}
	pf_srv.cache =
	    px_cache_create((size_t)pc->cache_max_bytes, (size_t)pc->cache_max_object_bytes);
	if (pf_srv.cache == NULL) {
		pf_fail("out of memory");
	}
	oa_error_clear(&err);
	if (px_access_log_open(&pf_srv.access_log, pc->access_log, &err) < 0) {
		pf_fail("access log: %s", err.msg);
	}
	pf_srv.origin_socket = origin_socket;
	listener.srv = &pf_srv;
	listener.config = &pc->listen[0];
}
