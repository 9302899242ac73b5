/*
 * A worker's server: its listeners, switching to a reloaded configuration,
 * and the graceful stop.
 *
 * A listener is bound exclusively (SO_REUSEADDR, never SO_REUSEPORT): a
 * second process binding the same address and port gets EADDRINUSE instead
 * of a share of the viewers. The supervisor binds each listener once before
 * any worker starts and every worker accepts from that one socket, so the
 * connections still spread over the workers: each one goes to whichever
 * worker accepts first, which is one that is not busy.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "supervisor.h"

#define LISTEN_BACKLOG 511

/* "ADDRESS:PORT", with an IPv6 address in brackets, for messages. */
static void format_endpoint(char *buf, size_t size, const char *address, unsigned port)
{
	snprintf(buf, size, strchr(address, ':') != NULL ? "[%s]:%u" : "%s:%u", address, port);
}

/* lc's address and port into ss; 0, or -EINVAL when the address is not an IP literal. */
static int endpoint_of(const oa_listen_config *lc, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (uv_ip4_addr(lc->address, (int)lc->port, (struct sockaddr_in *)ss) == 0) {
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (uv_ip6_addr(lc->address, (int)lc->port, (struct sockaddr_in6 *)ss) == 0) {
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EINVAL;
}

int px_listen_socket(const oa_listen_config *lc, int *fd_out, oa_error *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char name[80];
	int one = 1;
	int fd;

	format_endpoint(name, sizeof(name), lc->address, lc->port);
	if (endpoint_of(lc, &ss, &len) < 0) {
		return oa_error_set(err, -EINVAL, "listen %s: not an IP address", name);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int rc = -errno;

		return oa_error_set(err, rc, "listen %s: %s", name, uv_strerror(rc));
	}
	/* SO_REUSEADDR only lets a restarted proxy bind over connections in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int rc = -errno;

		close(fd);
		return oa_error_set(err, rc, "listen %s: %s", name, uv_strerror(rc));
	}
	*fd_out = fd;
	return 0;
}

/* Whether fd is a listening TCP socket bound to lc's address and port: 0 or -EINVAL. */
static int check_inherited(int fd, const oa_listen_config *lc)
{
	struct sockaddr_storage want;
	struct sockaddr_storage got;
	socklen_t want_len;
	socklen_t got_len = sizeof(got);
	int listening = 0;
	socklen_t opt_len = sizeof(listening);

	if (endpoint_of(lc, &want, &want_len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&got, &got_len) < 0 || got_len != want_len ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &opt_len) < 0 || !listening) {
		return -EINVAL;
	}
	if (want.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&want;
		const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)&got;

		return b->sin6_family == AF_INET6 && a->sin6_port == b->sin6_port &&
			       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0
			   ? 0
			   : -EINVAL;
	}
	const struct sockaddr_in *a = (const struct sockaddr_in *)&want;
	const struct sockaddr_in *b = (const struct sockaddr_in *)&got;

	return b->sin_family == AF_INET && a->sin_port == b->sin_port &&
		       a->sin_addr.s_addr == b->sin_addr.s_addr
		   ? 0
		   : -EINVAL;
}

bool px_listeners_equal(const oa_proxy_config *a, const oa_proxy_config *b)
{
	if (a->n_listen != b->n_listen) {
		return false;
	}
	for (size_t i = 0; i < a->n_listen; i++) {
		if (strcmp(a->listen[i].address, b->listen[i].address) != 0 ||
		    a->listen[i].port != b->listen[i].port ||
		    a->listen[i].tls != b->listen[i].tls) {
			return false;
		}
	}
	return true;
}

static void on_connection(uv_stream_t *server, int status)
{
	px_listener *l = server->data;

	if (status < 0 || l->srv->stopping) {
		return;
	}
	px_viewer_accept(l, server);
}

/*
 * Serves lc on l: on inherited (>= 0), a socket the supervisor bound for lc,
 * else on a socket bound here. The handle owns the socket once it is open.
 */
static int listen_one(px_server *srv, px_listener *l, const oa_listen_config *lc, int inherited,
		      oa_error *err)
{
	char name[80];
	int fd = inherited;
	int rc;

	l->srv = srv;
	l->config = lc;
	format_endpoint(name, sizeof(name), lc->address, lc->port);
	if (lc->tls) {
		if (gnutls_certificate_allocate_credentials(&l->cred) < 0) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		rc = gnutls_certificate_set_x509_key_file(l->cred, lc->certificate, lc->key,
							  GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			return oa_error_set(err, -EINVAL, "listen %s: certificate %s / key %s: %s",
					    name, lc->certificate, lc->key, gnutls_strerror(rc));
		}
	}
	if (fd >= 0 && check_inherited(fd, lc) < 0) {
		return oa_error_set(err, -EINVAL,
				    "listen %s: inherited descriptor %d is not a socket listening "
				    "there",
				    name, fd);
	}
	if (fd < 0) {
		rc = px_listen_socket(lc, &fd, err);
		if (rc < 0) {
			return rc;
		}
	}
	uv_tcp_init(srv->loop, &l->tcp);
	l->tcp.data = l;
	l->open = true;
	rc = uv_tcp_open(&l->tcp, fd);
	if (rc < 0) {
		close(fd);
	} else {
		rc = uv_listen((uv_stream_t *)&l->tcp, LISTEN_BACKLOG, on_connection);
	}
	if (rc < 0) {
		return oa_error_set(err, rc, "listen %s: %s", name, uv_strerror(rc));
	}
	l->port = lc->port;
	return 0;
}

static void on_sweep(uv_timer_t *timer)
{
	px_pool_sweep(timer->data);
}

/* After each loop turn: the exchanges released during it are freed (no callback holds them). */
static void on_reap(uv_check_t *check)
{
	px_exchange_reap(check->data, false);
}

static void intern_origins(px_server *srv, px_gen *gen)
{
	for (size_t i = 0; i < gen->config->n_origins; i++) {
		gen->origin_slots[i] =
		    srv->metrics ? pxm_origin_slot(srv->metrics, gen->config->origins[i].id) : 0;
	}
}

int px_server_start(px_server *srv, uv_loop_t *loop, px_gen *gen, oa_error *err)
{
	return px_server_start_inherited(srv, loop, gen, NULL, 0, err);
}

int px_server_start_inherited(px_server *srv, uv_loop_t *loop, px_gen *gen, const int *fds,
			      size_t n_fds, oa_error *err)
{
	const oa_proxy_config *pc = &gen->config->proxy;

	px_viewer_init_settings();
	srv->loop = loop;
	srv->gen = px_gen_ref(gen);
	intern_origins(srv, gen);
	if (srv->header_timeout_ms == 0) {
		srv->header_timeout_ms = 10000;
	}
	srv->access_log.fd = -1;
	uv_timer_init(loop, &srv->sweep);
	srv->sweep.data = srv;
	uv_timer_init(loop, &srv->drain);
	srv->drain.data = srv;
	uv_timer_start(&srv->sweep, on_sweep, 1000, 1000);
	uv_check_init(loop, &srv->reap);
	srv->reap.data = srv;
	uv_check_start(&srv->reap, on_reap);
	/* The loop may end with nothing else to do: the check handle alone does not keep it alive.
	 */
	uv_unref((uv_handle_t *)&srv->reap);
	if (pc->cache_max_bytes > 0) {
		srv->cache = px_cache_create((size_t)pc->cache_max_bytes,
					     (size_t)pc->cache_max_object_bytes);
		if (srv->cache == NULL) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
	}
	int rc = px_access_log_open(&srv->access_log, pc->access_log, err);
	if (rc < 0) {
		return rc;
	}
	if (fds != NULL && n_fds != pc->n_listen) {
		return oa_error_set(err, -EINVAL,
				    "%zu inherited listening socket(s) for %zu listener(s)", n_fds,
				    pc->n_listen);
	}
	srv->listeners = calloc(pc->n_listen ? pc->n_listen : 1, sizeof(*srv->listeners));
	if (srv->listeners == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < pc->n_listen; i++) {
		rc = listen_one(srv, &srv->listeners[i], &pc->listen[i], fds != NULL ? fds[i] : -1,
				err);
		srv->n_listeners = i + 1;
		if (rc < 0) {
			return rc;
		}
		px_log("listening on %s port %u (%s)", pc->listen[i].address,
		       srv->listeners[i].port, pc->listen[i].tls ? "https" : "http");
	}
	return 0;
}

/*
 * A renewed viewer certificate is taken on reload. Connections already
 * using the old credentials keep them: those are freed with the server.
 */
static void reload_certificate(px_server *srv, px_listener *l, const oa_listen_config *lc)
{
	gnutls_certificate_credentials_t cred;
	gnutls_certificate_credentials_t *retired;

	l->config = lc;
	if (!lc->tls || l->cred == NULL) {
		return;
	}
	retired = realloc(srv->retired, (srv->n_retired + 1) * sizeof(*retired));
	if (retired == NULL) {
		return;
	}
	srv->retired = retired;
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		return;
	}
	int rc = gnutls_certificate_set_x509_key_file(cred, lc->certificate, lc->key,
						      GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		px_log("reload: %s / %s: %s; keeping the previous certificate", lc->certificate,
		       lc->key, gnutls_strerror(rc));
		gnutls_certificate_free_credentials(cred);
		return;
	}
	srv->retired[srv->n_retired++] = l->cred;
	l->cred = cred;
}

void px_server_reload(px_server *srv, px_gen *gen)
{
	const oa_proxy_config *old = &srv->gen->config->proxy;
	const oa_proxy_config *pc = &gen->config->proxy;

	bool same_listeners = px_listeners_equal(old, pc);

	if (!same_listeners) {
		px_log("reload: proxy.listen changed; listeners change only with a restart");
	}
	for (size_t i = 0; same_listeners && i < srv->n_listeners; i++) {
		reload_certificate(srv, &srv->listeners[i], &pc->listen[i]);
	}
	intern_origins(srv, gen);
	px_gen_unref(srv->gen);
	srv->gen = px_gen_ref(gen);
	/* Verdicts were reached with the old CA bundle. */
	px_verified_clear(srv);
	if (old->cache_max_bytes != pc->cache_max_bytes ||
	    old->cache_max_object_bytes != pc->cache_max_object_bytes) {
		px_cache_destroy(srv->cache);
		srv->cache = pc->cache_max_bytes > 0
				 ? px_cache_create((size_t)pc->cache_max_bytes,
						   (size_t)pc->cache_max_object_bytes)
				 : NULL;
	}
	if ((old->access_log == NULL) != (pc->access_log == NULL) ||
	    (pc->access_log != NULL && strcmp(old->access_log, pc->access_log) != 0)) {
		oa_error err;
		px_access_log next;

		oa_error_clear(&err);
		if (px_access_log_open(&next, pc->access_log, &err) < 0) {
			px_log("reload: %s; the access log stays as it was", err.msg);
		} else {
			px_access_log_close(&srv->access_log);
			srv->access_log = next;
		}
	}
}

static void close_listeners(px_server *srv)
{
	for (size_t i = 0; i < srv->n_listeners; i++) {
		px_listener *l = &srv->listeners[i];

		if (l->open && !uv_is_closing((uv_handle_t *)&l->tcp)) {
			uv_close((uv_handle_t *)&l->tcp, NULL);
		}
	}
}

static void on_drain_timeout(uv_timer_t *timer)
{
	px_server *srv = timer->data;

	px_log("drain timeout: closing %zu connection(s) still open", srv->viewers);
	for (px_viewer *v = srv->viewer_list; v != NULL;) {
		px_viewer *next = v->next;

		px_viewer_abort(v);
		v = next;
	}
}

void px_server_drain(px_server *srv, unsigned timeout_ms)
{
	if (srv->stopping) {
		return;
	}
	srv->stopping = true;
	close_listeners(srv);
	px_pool_clear(srv);
	for (px_viewer *v = srv->viewer_list; v != NULL;) {
		px_viewer *next = v->next;

		px_viewer_drain(v);
		v = next;
	}
	if (srv->viewers == 0) {
		if (srv->drained != NULL) {
			srv->drained(srv);
		}
		return;
	}
	uv_timer_start(&srv->drain, on_drain_timeout, timeout_ms, 0);
}

void px_server_viewer_gone(px_server *srv)
{
	if (srv->stopping && srv->viewers == 0) {
		uv_timer_stop(&srv->drain);
		if (srv->drained != NULL) {
			void (*drained)(px_server *) = srv->drained;

			srv->drained = NULL;
			drained(srv);
		}
	}
}

void px_server_close(px_server *srv)
{
	srv->stopping = true;
	close_listeners(srv);
	px_pool_clear(srv);
	if (!uv_is_closing((uv_handle_t *)&srv->sweep)) {
		uv_close((uv_handle_t *)&srv->sweep, NULL);
	}
	if (!uv_is_closing((uv_handle_t *)&srv->drain)) {
		uv_close((uv_handle_t *)&srv->drain, NULL);
	}
	if (!uv_is_closing((uv_handle_t *)&srv->reap)) {
		uv_close((uv_handle_t *)&srv->reap, NULL);
	}
}

/* Frees what px_server_close left once the loop has run the close callbacks. */
void px_server_free(px_server *srv)
{
	for (size_t i = 0; i < srv->n_listeners; i++) {
		if (srv->listeners[i].cred != NULL) {
			gnutls_certificate_free_credentials(srv->listeners[i].cred);
		}
	}
	free(srv->listeners);
	srv->listeners = NULL;
	for (size_t i = 0; i < srv->n_retired; i++) {
		gnutls_certificate_free_credentials(srv->retired[i]);
	}
	free(srv->retired);
	srv->retired = NULL;
	srv->n_retired = 0;
	px_exchange_reap(srv, true);
	px_cache_destroy(srv->cache);
	srv->cache = NULL;
	px_access_log_close(&srv->access_log);
	px_gen_unref(srv->gen);
	srv->gen = NULL;
}
