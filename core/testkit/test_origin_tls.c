/*
 * The test origin's TLS side. The chain goes out through a certificate
 * retrieve callback with a pcert list built in the given order, because
 * GnuTLS's own loaders (gnutls_certificate_set_x509_key_mem2 and friends)
 * sort the chain into issuer order, which would hide the misordering the
 * tests want to show. GnuTLS only sees buffers through push/pull.
 */
#include <errno.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>

#include "test_origin_internal.h"

/* Ciphertext buffered for GnuTLS before giving up on a client. */
#define RECV_MAX (64 * 1024)

void oa__test_origin_tls_free(oa_test_origin *o)
{
	for (unsigned i = 0; i < o->n_pcerts; i++) {
		gnutls_pcert_deinit(&o->pcerts[i]);
	}
	free(o->pcerts);
	o->pcerts = NULL;
	o->n_pcerts = 0;
	if (o->key != NULL) {
		gnutls_privkey_deinit(o->key);
		o->key = NULL;
	}
	if (o->cred != NULL) {
		gnutls_certificate_free_credentials(o->cred);
		o->cred = NULL;
	}
	if (o->prio != NULL) {
		gnutls_priority_deinit(o->prio);
		o->prio = NULL;
	}
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	oa__test_origin_conn *c = ptr;
	size_t n;

	if (c->rlen == 0) {
		gnutls_transport_set_errno(c->session, EAGAIN);
		return -1;
	}
	n = len < c->rlen ? len : c->rlen;
	memcpy(data, c->rbuf, n);
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
	return (ssize_t)n;
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	oa__test_origin_conn *c = ptr;
	int rc = oa__test_origin_conn_send(c, data, len);

	if (rc < 0) {
		gnutls_transport_set_errno(c->session, rc == -ENOMEM ? ENOMEM : EPIPE);
		return -1;
	}
	return (ssize_t)len;
}

/* Hands GnuTLS the chain in the caller's order, never sorted. */
static int retrieve_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
			 const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
			 gnutls_pcert_st **pcert, unsigned int *pcert_length,
			 gnutls_privkey_t *privkey)
{
	oa__test_origin_conn *c = gnutls_session_get_ptr(session);
	oa_test_origin *o = c->origin;

	*pcert = o->pcerts;
	*pcert_length = o->n_pcerts;
	*privkey = o->key;
	return 0;
}

static void tls_failed(oa__test_origin_conn *c, int rc)
{
	/* A client that went away or refused us gets no alert; anyone else gets the right one. */
	if (rc == GNUTLS_E_PREMATURE_TERMINATION || rc == GNUTLS_E_PUSH_ERROR ||
	    rc == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		oa__test_origin_conn_close(c);
		return;
	}
	gnutls_alert_send_appropriate(c->session, rc);
	oa__test_origin_conn_finish(c);
}

static void tls_answer(oa__test_origin_conn *c)
{
	ssize_t n = gnutls_record_send(c->session, OA__TEST_ORIGIN_HTTP_OK,
				       sizeof(OA__TEST_ORIGIN_HTTP_OK) - 1);

	if (n < 0) {
		oa__test_origin_conn_close(c);
		return;
	}
	gnutls_bye(c->session, GNUTLS_SHUT_WR);
	oa__test_origin_conn_finish(c);
}

void oa__test_origin_tls_feed(oa__test_origin_conn *c, const char *data, size_t len)
{
	unsigned char *nb;
	int rc;

	if (c->rlen + len > RECV_MAX) {
		oa__test_origin_conn_close(c);
		return;
	}
	nb = realloc(c->rbuf, c->rlen + len);
	if (nb == NULL) {
		oa__test_origin_conn_close(c);
		return;
	}
	c->rbuf = nb;
	memcpy(c->rbuf + c->rlen, data, len);
	c->rlen += len;
	if (!c->handshake_done) {
		rc = gnutls_handshake(c->session);
		if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
			return;
		}
		if (rc < 0) {
			tls_failed(c, rc);
			return;
		}
		c->handshake_done = true;
	}
	for (;;) {
		char plain[4096];
		ssize_t n = gnutls_record_recv(c->session, plain, sizeof(plain));

		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			return;
		}
		if (n == 0) {
			/* close_notify before (or instead of) a request. */
			oa__test_origin_conn_close(c);
			return;
		}
		if (n < 0) {
			if (gnutls_error_is_fatal((int)n)) {
				oa__test_origin_conn_close(c);
				return;
			}
			continue;
		}
		rc = oa__test_origin_request_feed(c, plain, (size_t)n);
		if (rc < 0) {
			oa__test_origin_conn_close(c);
			return;
		}
		if (rc == 1) {
			tls_answer(c);
			return;
		}
	}
}

int oa__test_origin_tls_session_new(oa__test_origin_conn *c)
{
	oa_test_origin *o = c->origin;
	int rc = gnutls_init(&c->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);

	if (rc < 0) {
		c->session = NULL;
		return -ENOMEM;
	}
	if (gnutls_priority_set(c->session, o->prio) < 0 ||
	    gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, o->cred) < 0) {
		return -EINVAL;
	}
	gnutls_session_set_ptr(c->session, c);
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, push);
	gnutls_transport_set_pull_function(c->session, pull);
	return 0;
}

int oa__test_origin_tls_load(oa_test_origin *o, const oa_test_origin_opts *opts, oa_error *err)
{
	const char *prio = opts->priority != NULL ? opts->priority : "NORMAL";
	const char *errpos = NULL;
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	int ret = 0;
	int rc;

	if (opts->chain_pem == NULL || opts->chain_pem->data == NULL || opts->key_pem == NULL ||
	    opts->key_pem->data == NULL) {
		return oa_error_set(err, -EINVAL, "a TLS test origin needs chain_pem and key_pem");
	}
	/* Flags 0: no GNUTLS_X509_CRT_LIST_SORT, so the list keeps the PEM's order. */
	rc = gnutls_x509_crt_list_import2(&crts, &n, opts->chain_pem, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || n == 0) {
		ret = oa_error_set(err, -EBADMSG, "chain_pem: no certificate could be read: %s",
				   rc < 0 ? gnutls_strerror(rc) : "empty");
		n = 0;
		goto out;
	}
	o->pcerts = calloc(n, sizeof(*o->pcerts));
	if (o->pcerts == NULL) {
		ret = oa_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		rc = gnutls_pcert_import_x509(&o->pcerts[i], crts[i], 0);
		if (rc < 0) {
			ret = oa_error_set(err, -EBADMSG, "chain_pem: certificate %u: %s", i,
					   gnutls_strerror(rc));
			goto out;
		}
		o->n_pcerts = i + 1;
	}
	rc = gnutls_privkey_init(&o->key);
	if (rc < 0) {
		o->key = NULL;
		ret = oa_error_set(err, -ENOMEM, "gnutls_privkey_init: %s", gnutls_strerror(rc));
		goto out;
	}
	rc = gnutls_privkey_import_x509_raw(o->key, opts->key_pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		ret = oa_error_set(err, -EBADMSG, "key_pem: cannot read the private key: %s",
				   gnutls_strerror(rc));
		goto out;
	}
	rc = gnutls_certificate_allocate_credentials(&o->cred);
	if (rc < 0) {
		o->cred = NULL;
		ret = oa_error_set(err, -ENOMEM, "gnutls_certificate_allocate_credentials: %s",
				   gnutls_strerror(rc));
		goto out;
	}
	gnutls_certificate_set_retrieve_function2(o->cred, retrieve_cert);
	rc = gnutls_priority_init(&o->prio, prio, &errpos);
	if (rc < 0) {
		o->prio = NULL;
		ret = oa_error_set(err, -EINVAL, "priority \"%s\": %s at \"%s\"", prio,
				   gnutls_strerror(rc), errpos != NULL ? errpos : "");
		goto out;
	}
out:
	for (unsigned i = 0; i < n; i++) {
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
	return ret;
}
