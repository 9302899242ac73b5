/*
 * The test origin's TLS side. The chain goes out through a certificate
 * retrieve callback with a pcert list built in the given order, because
 * GnuTLS's own loaders (gnutls_certificate_set_x509_key_mem2 and friends)
 * sort the chain into issuer order, which would hide the misordering the
 * tests want to show. The session runs on the connection's oa_stream, which
 * gives GnuTLS its push and pull.
 */
#include <errno.h>
#include <gnutls/x509.h>
#include <stdlib.h>

#include "test_origin_internal.h"

/* Bytes a client may send before the handshake completes; past them it is closed. */
#define HANDSHAKE_MAX (64 * 1024)

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

void oa__test_origin_tls_failed(oa__test_origin_conn *c, int status)
{
	/*
	 * A client that went away (its end read, or a push failed), refused us,
	 * or sent too much before the handshake completed gets no alert; anyone
	 * else gets the right one.
	 */
	if (oa_stream_eof(&c->stream) || status == GNUTLS_E_PREMATURE_TERMINATION ||
	    status == GNUTLS_E_PUSH_ERROR || status == GNUTLS_E_FATAL_ALERT_RECEIVED ||
	    status == GNUTLS_E_HANDSHAKE_TOO_LARGE) {
		oa__test_origin_conn_close(c);
		return;
	}
	gnutls_alert_send_appropriate(oa_stream_session(&c->stream), status);
	oa__test_origin_conn_finish(c);
}

int oa__test_origin_tls_session_new(oa__test_origin_conn *c)
{
	oa_test_origin *o = c->origin;
	gnutls_session_t session;

	if (gnutls_init(&session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0) {
		return -ENOMEM;
	}
	if (gnutls_priority_set(session, o->prio) < 0 ||
	    gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, o->cred) < 0) {
		gnutls_deinit(session);
		return -EINVAL;
	}
	/* For retrieve_cert; the stream owns the session from here on. */
	gnutls_session_set_ptr(session, c);
	oa_stream_set_tls(&c->stream, session, HANDSHAKE_MAX, false);
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
