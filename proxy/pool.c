/*
 * What a worker keeps about origins between requests: idle keep-alive
 * connections per key, the last TLS session per key (resumption), and the
 * core's verdict cache (core/verify/verify_cache.c) with the proxy's expiry
 * policy, so a chain is graded once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy.h"

static void on_idle_data(oa_conn *conn, const char *buf, ssize_t nread, void *data)
{
	px_server *srv = data;

	/* An idle origin connection that speaks or closes is not reusable. */
	for (px_idle **pp = &srv->idle; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->conn == conn) {
			px_idle *gone = *pp;

			*pp = gone->next;
			free(gone);
			break;
		}
	}
	oa_conn_close(conn);
}

static const oa_conn_cbs idle_cbs = {NULL, on_idle_data, NULL, NULL};

void px_pool_put(px_server *srv, const char *key, oa_conn *conn, unsigned keepalive_ms)
{
	px_idle *idle = calloc(1, sizeof(*idle));

	/* From now on the connection is the pool's: its close no longer concerns the viewer. */
	oa_conn_rebind(conn, &idle_cbs, srv);
	if (idle == NULL || srv->stopping) {
		free(idle);
		oa_conn_close(conn);
		return;
	}
	idle->conn = conn;
	snprintf(idle->key, sizeof(idle->key), "%s", key);
	idle->since_ms = uv_now(srv->loop);
	idle->keepalive_ms = keepalive_ms;
	idle->next = srv->idle;
	srv->idle = idle;
}

oa_conn *px_pool_take(px_server *srv, const char *key)
{
	for (px_idle **pp = &srv->idle; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0) {
			px_idle *found = *pp;
			oa_conn *conn = found->conn;

			*pp = found->next;
			free(found);
			return conn;
		}
	}
	return NULL;
}

void px_verified_clear(px_server *srv)
{
	oa_verify_cache_destroy(srv->verified);
	srv->verified = NULL;
}

void px_pool_clear(px_server *srv)
{
	while (srv->idle != NULL) {
		px_idle *idle = srv->idle;

		srv->idle = idle->next;
		oa_conn_close(idle->conn);
		free(idle);
	}
	px_verified_clear(srv);
	while (srv->sessions != NULL) {
		px_session *s = srv->sessions;

		srv->sessions = s->next;
		gnutls_free(s->data.data);
		free(s);
	}
	srv->n_sessions = 0;
}

/* Sessions kept at most; the oldest is dropped beyond it. */
#define PX_MAX_SESSIONS 4096

const gnutls_datum_t *px_session_get(px_server *srv, const char *key)
{
	for (px_session *s = srv->sessions; s != NULL; s = s->next) {
		if (strcmp(s->key, key) == 0) {
			return &s->data;
		}
	}
	return NULL;
}

void px_session_put(px_server *srv, const char *key, oa_conn *conn)
{
	gnutls_datum_t data = {NULL, 0};
	px_session **pp;

	if (oa_conn_session_data(conn, &data) < 0 || data.size == 0) {
		gnutls_free(data.data);
		return;
	}
	for (pp = &srv->sessions; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0) {
			gnutls_free((*pp)->data.data);
			(*pp)->data = data;
			return;
		}
	}
	px_session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		gnutls_free(data.data);
		return;
	}
	snprintf(s->key, sizeof(s->key), "%s", key);
	s->data = data;
	s->next = srv->sessions;
	srv->sessions = s;
	srv->n_sessions++;
	if (srv->n_sessions > PX_MAX_SESSIONS) {
		/* Drop the oldest: the list's tail. */
		for (pp = &srv->sessions; (*pp)->next != NULL; pp = &(*pp)->next) {
		}
		gnutls_free((*pp)->data.data);
		free(*pp);
		*pp = NULL;
		srv->n_sessions--;
	}
}

void px_pool_sweep(px_server *srv)
{
	uint64_t now = uv_now(srv->loop);

	for (px_idle **pp = &srv->idle; *pp != NULL;) {
		px_idle *idle = *pp;

		if (now - idle->since_ms >= idle->keepalive_ms) {
			*pp = idle->next;
			oa_conn_close(idle->conn);
			free(idle);
		} else {
			pp = &idle->next;
		}
	}
}

/* Verified chains kept at most; the oldest is dropped beyond it. */
#define PX_MAX_VERIFIED 1024

/*
 * CloudFront refuses an expired certificate, not one that expires soon: the
 * proxy fails closed on expiry only once it has happened.
 */
static const oa_policy proxy_policy = {.warn_days = OA_POLICY_AUTO, .critical_days = 0};

const oa_result *px_verify_cached(px_server *srv, const oa_trust_store *store,
				  const gnutls_datum_t *certs, unsigned n, const char *const *names,
				  size_t n_names, bool *cached)
{
	if (srv->verified == NULL) {
		srv->verified = oa_verify_cache_new(PX_MAX_VERIFIED, &proxy_policy);
		if (srv->verified == NULL) {
			return NULL;
		}
	}
	return oa_verify_cache_get(srv->verified, store, certs, n, names, n_names, time(NULL),
				   cached);
}
