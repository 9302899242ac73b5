/*
 * The TLS side of a client connection: the GnuTLS client session (shared
 * credentials, cached priorities, SNI, resumption), run over the
 * connection's oa_stream, and the names of the ways a handshake fails.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_internal.h"
#include "originaudit/config.h"

/*
 * The largest handshake accepted from a server: every byte it sends before
 * the handshake completes, its certificate chain included. CLOUDFRONT.md
 * documents no size limit for an origin's chain, and issue 9 has real origins
 * serving chains of 133 KB that must be graded, not refused: GnuTLS's default
 * (128 KiB per handshake message) is too small for them. 256 KiB is twice
 * that, far beyond any chain the path-length limit (16 certificates) allows
 * at ordinary sizes, and still bounds what one server can make a worker hold
 * (GnuTLS's handshake buffer plus one read here). A bigger handshake fails
 * with "handshake_too_large" instead of stalling into a timeout.
 */
#define MAX_HANDSHAKE (256 * 1024)
static gnutls_certificate_credentials_t shared_cred;
static int shared_cred_rc;
static pthread_once_t shared_cred_once = PTHREAD_ONCE_INIT;

/* One credentials object for every client session: it holds no per-server state. */
static void make_shared_cred(void)
{
	shared_cred_rc = gnutls_certificate_allocate_credentials(&shared_cred);
}

static void alert_name(gnutls_session_t session, char *buf, size_t size)
{
	const char *name = gnutls_alert_get_strname(gnutls_alert_get(session));
	size_t i = 0;

	/* "GNUTLS_A_UNRECOGNIZED_NAME" -> "unrecognized_name", the RFC's spelling. */
	if (name != NULL && strncmp(name, "GNUTLS_A_", 9) == 0) {
		name += 9;
	}
	for (; name != NULL && name[i] != '\0' && i + 1 < size; i++) {
		char ch = name[i];

		buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : (ch == '-' ? '_' : ch);
	}
	buf[i] = '\0';
}

static void handshake_too_large(oa_conn *c)
{
	oa__conn_set_error(c, OA_CONN_HANDSHAKE_TOO_LARGE,
			   "the server's TLS handshake is larger than %d bytes: its certificate "
			   "chain is too large to be accepted",
			   MAX_HANDSHAKE);
}

static void tls_failure(oa_conn *c, int rc)
{
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED || rc == GNUTLS_E_WARNING_ALERT_RECEIVED) {
		char name[32];

		alert_name(oa_stream_session(&c->stream), name, sizeof(name));
		oa__conn_set_error(c, OA_CONN_TLS_ALERT,
				   "the server ended the handshake with the alert %s", name);
		snprintf(c->error, sizeof(c->error), "tls_alert:%s", name);
	} else if (rc == GNUTLS_E_UNSUPPORTED_VERSION_PACKET) {
		/*
		 * The server answered with a version that was not offered (a TLS
		 * 1.0-only server asked for 1.2): no common version, as when it says
		 * so with an alert, and named the same.
		 */
		oa__conn_set_error(c, OA_CONN_TLS_ALERT,
				   "the server answered with a TLS version that was not offered");
		snprintf(c->error, sizeof(c->error), "tls_alert:protocol_version");
	} else if (rc == GNUTLS_E_HANDSHAKE_TOO_LARGE) {
		handshake_too_large(c);
	} else if (rc == GNUTLS_E_PREMATURE_TERMINATION) {
		oa__conn_set_error(c, OA_CONN_CLOSED,
				   "the server closed the connection during the TLS handshake");
	} else {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "TLS handshake failed: %s",
				   gnutls_strerror(rc));
	}
}

static void not_tls(oa_conn *c)
{
	size_t len;
	const unsigned char *data = oa_stream_first_bytes(&c->stream, &len);
	char shown[24];
	size_t n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = data[i];

		shown[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
	}
	shown[n] = '\0';
	oa__conn_set_error(c, OA_CONN_NOT_TLS, "the server answered with non-TLS data: \"%s\"",
			   shown);
}

void oa__conn_handshake_failure(oa_conn *c, int status)
{
	if (status == OA_STREAM_E_NOT_TLS) {
		not_tls(c);
	} else {
		tls_failure(c, status);
	}
}

static const char *version_token(unsigned bit)
{
	switch (bit) {
	case OA_PROTO_SSL3:
		return "+VERS-SSL3.0";
	case OA_PROTO_TLS1_0:
		return "+VERS-TLS1.0";
	case OA_PROTO_TLS1_1:
		return "+VERS-TLS1.1";
	case OA_PROTO_TLS1_2:
		return "+VERS-TLS1.2";
	default:
		return "+VERS-TLS1.3";
	}
}

/*
 * Priorities parsed once per set of versions (a priority string costs more
 * to parse than the rest of a session's setup); kept for the process.
 */
static pthread_mutex_t prio_lock = PTHREAD_MUTEX_INITIALIZER;
static gnutls_priority_t prio_cache[OA_PROTO_TLS1_3 << 1];
static int prio_status[OA_PROTO_TLS1_3 << 1];

static int priority_for(unsigned versions, gnutls_priority_t *out, char *text, size_t size)
{
	unsigned idx = versions & ((OA_PROTO_TLS1_3 << 1) - 1);
	const char *errpos = NULL;
	int rc;

	snprintf(text, size, "NORMAL:-VERS-ALL");
	for (unsigned bit = OA_PROTO_SSL3; bit <= OA_PROTO_TLS1_3; bit <<= 1) {
		if (idx & bit) {
			size_t len = strlen(text);

			snprintf(text + len, size - len, ":%s", version_token(bit));
		}
	}
	pthread_mutex_lock(&prio_lock);
	if (prio_status[idx] == 0) {
		rc = gnutls_priority_init(&prio_cache[idx], text, &errpos);
		prio_status[idx] = rc < 0 ? rc : 1;
	}
	rc = prio_status[idx] < 0 ? prio_status[idx] : 0;
	*out = prio_cache[idx];
	pthread_mutex_unlock(&prio_lock);
	return rc;
}

int oa__conn_start_tls(oa_conn *c)
{
	char prio[160];
	gnutls_priority_t priority;
	gnutls_session_t session;
	int rc;

	pthread_once(&shared_cred_once, make_shared_cred);
	if (shared_cred_rc < 0) {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "cannot allocate TLS credentials");
		return -ENOMEM;
	}
	rc = gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "gnutls_init: %s", gnutls_strerror(rc));
		return -ENOMEM;
	}
	rc = priority_for(c->opts.versions, &priority, prio, sizeof(prio));
	if (rc == 0) {
		rc = gnutls_priority_set(session, priority);
	}
	if (rc < 0) {
		gnutls_deinit(session);
		/* This GnuTLS may not know a version (SSLv3): say so instead of failing blind. */
		oa__conn_set_error(c, OA_CONN_TLS_ERROR,
				   "cannot offer the requested versions (%s): %s", prio,
				   gnutls_strerror(rc));
		return -EINVAL;
	}
	gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, shared_cred);
	gnutls_handshake_set_max_packet_length(session, MAX_HANDSHAKE);
	if (c->sni != NULL && c->sni[0] != '\0') {
		gnutls_server_name_set(session, GNUTLS_NAME_DNS, c->sni, strlen(c->sni));
	}
	if (c->resume.size > 0) {
		gnutls_session_set_data(session, c->resume.data, c->resume.size);
	}
	/* The stream owns the session from here; a server that sends no TLS fails at once. */
	oa_stream_set_tls(&c->stream, session, MAX_HANDSHAKE, true);
	return 0;
}

const gnutls_datum_t *oa_conn_peer_certs(const oa_conn *c, unsigned *n)
{
	*n = 0;
	gnutls_session_t session = oa_stream_session(&c->stream);

	if (session == NULL || !c->ready) {
		return NULL;
	}
	return gnutls_certificate_get_peers(session, n);
}

bool oa_conn_resumed(const oa_conn *c)
{
	gnutls_session_t session = oa_stream_session(&c->stream);

	return session != NULL && c->ready && gnutls_session_is_resumed(session) != 0;
}

int oa_conn_session_data(const oa_conn *c, gnutls_datum_t *out)
{
	gnutls_session_t session = oa_stream_session(&c->stream);

	if (session == NULL || !c->ready) {
		return -EINVAL;
	}
	return gnutls_session_get_data2(session, out) < 0 ? -EIO : 0;
}
