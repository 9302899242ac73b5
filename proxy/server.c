/*
 * A worker's server: its listeners (each bound with SO_REUSEPORT, so the
 * kernel spreads connections over the workers), switching to a reloaded
 * configuration, and the graceful stop.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy.h"

/* A listening socket shared with the other workers; the descriptor or a negative errno. */
static int reuseport_socket(const struct sockaddr *sa, socklen_t len)
{
	int one = 1;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (sa->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, sa, len) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static void on_connection(uv_stream_t *server, int status)
{
	px_listener *l = server->data;

	if (status < 0 || l->srv->stopping) {
		return;
	}
	px_viewer_accept(l, server);
}

static int listen_one(px_server *srv, px_listener *l, const oa_listen_config *lc, oa_error *err)
{
	struct sockaddr_storage ss;
	int rc;

	l->srv = srv;
	l->config = lc;
	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(lc->address, (int)lc->port, (struct sockaddr_in *)&ss) != 0 &&
	    uv_ip6_addr(lc->address, (int)lc->port, (struct sockaddr_in6 *)&ss) != 0) {
		return oa_error_set(err, -EINVAL, "listen %s: not an IP address", lc->address);
	}
	if (lc->tls) {
		if (gnutls_certificate_allocate_credentials(&l->cred) < 0) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		rc = gnutls_certificate_set_x509_key_file(l->cred, lc->certificate, lc->key,
							  GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			return oa_error_set(
			    err, -EINVAL, "listen %s:%u: certificate %s / key %s: %s", lc->address,
			    lc->port, lc->certificate, lc->key, gnutls_strerror(rc));
		}
	}
	uv_tcp_init(srv->loop, &l->tcp);
	l->tcp.data = l;
	l->open = true;
	rc = reuseport_socket((const struct sockaddr *)&ss, ss.ss_family == AF_INET6
								? sizeof(struct sockaddr_in6)
								: sizeof(struct sockaddr_in));
	if (rc >= 0) {
		int fd = rc;

		rc = uv_tcp_open(&l->tcp, fd);
		if (rc < 0) {
			close(fd);
		}
	}
	if (rc == 0) {
		rc = uv_listen((uv_stream_t *)&l->tcp, 511, on_connection);
	}
	if (rc < 0) {
		return oa_error_set(err, rc, "listen %s:%u: %s", lc->address, lc->port,
				    uv_strerror(rc));
	}
	int len = sizeof(ss);
	uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&ss, &len);
	l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void on_sweep(uv_timer_t *timer)
{
	px_pool_sweep(timer->data);
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
	srv->listeners = calloc(pc->n_listen ? pc->n_listen : 1, sizeof(*srv->listeners));
	if (srv->listeners == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < pc->n_listen; i++) {
		rc = listen_one(srv, &srv->listeners[i], &pc->listen[i], err);
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

	bool same_listeners = old->n_listen == pc->n_listen;

	for (size_t i = 0; same_listeners && i < pc->n_listen; i++) {
		same_listeners = strcmp(old->listen[i].address, pc->listen[i].address) == 0 &&
				 old->listen[i].port == pc->listen[i].port &&
				 old->listen[i].tls == pc->listen[i].tls;
	}
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
	px_cache_destroy(srv->cache);
	srv->cache = NULL;
	px_access_log_close(&srv->access_log);
	px_gen_unref(srv->gen);
	srv->gen = NULL;
}
