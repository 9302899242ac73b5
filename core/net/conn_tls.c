/*
 * The TLS side of a client connection: GnuTLS through push/pull over the
 * bytes libuv read (conn.c). GnuTLS never touches the socket: pull hands it
 * what libuv read, push queues libuv writes, and GNUTLS_E_AGAIN means "wait
 * for the next read".
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
/* conn.c reads at most this much at once (its on_alloc buffer). */
#define READ_MAX (64 * 1024)
/*
 * Unread ciphertext a connection may hold. Every read is drained before the
 * next (into GnuTLS by the handshake, to on_data after it), and a paused
 * connection stops reading, so the buffer holds at most about one read; a
 * high-water mark of 256 KiB plus one read is a last defence, not a queue.
 */
#define RECV_MAX (256 * 1024 + READ_MAX)
/* A drained buffer bigger than one read is given back instead of kept for the connection's life. */
#define RECV_KEEP READ_MAX
/* Warning alerts skipped in one handshake step before giving up. */
#define MAX_WARNINGS 16

static gnutls_certificate_credentials_t shared_cred;
static int shared_cred_rc;
static pthread_once_t shared_cred_once = PTHREAD_ONCE_INIT;

/* One credentials object for every client session: it holds no per-server state. */
static void make_shared_cred(void)
{
	shared_cred_rc = gnutls_certificate_allocate_credentials(&shared_cred);
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	oa_conn *c = ptr;

	if (c->rlen == 0) {
		if (c->eof) {
			return 0;
		}
		gnutls_transport_set_errno(c->session, EAGAIN);
		return -1;
	}
	size_t n = len < c->rlen ? len : c->rlen;
	memcpy(data, c->rbuf + c->roff, n);
	c->roff += n;
	c->rlen -= n;
	if (c->rlen == 0) {
		c->roff = 0;
	}
	return (ssize_t)n;
}

/* Gives a large buffer back once GnuTLS has pulled everything from it. */
static void release_drained(oa_conn *c)
{
	if (c->rlen == 0 && c->rcap > RECV_KEEP) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
		c->roff = 0;
	}
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	oa_conn *c = ptr;
	int rc = c->closing ? -EPIPE : oa__conn_raw_write(c, data, len);

	if (rc < 0) {
		gnutls_transport_set_errno(c->session, rc == -ENOMEM ? ENOMEM : EPIPE);
		return -1;
	}
	return (ssize_t)len;
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

		alert_name(c->session, name, sizeof(name));
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

/*
 * One call of gnutls_handshake takes at most one record from pull and says
 * GNUTLS_E_AGAIN while a handshake message spans more records, even when the
 * rest is buffered already: a certificate flight over 16 KB arrives in one
 * read and no further read comes. So it is called again as long as it takes
 * bytes, and AGAIN only ends the step once everything buffered is consumed.
 */
static int handshake_step(oa_conn *c)
{
	int warnings = 0;

	for (;;) {
		size_t before = c->rlen;
		int rc = gnutls_handshake(c->session);

		/* A warning alert (unrecognized_name at TLS 1.2) is no refusal. */
		if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED && warnings < MAX_WARNINGS) {
			warnings++;
			continue;
		}
		if ((rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) && !c->closing &&
		    c->rlen > 0 && c->rlen < before) {
			continue;
		}
		return rc;
	}
}

void oa__conn_drive_handshake(oa_conn *c)
{
	int rc = handshake_step(c);

	release_drained(c);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		if (c->eof) {
			oa__conn_set_error(
			    c, OA_CONN_CLOSED,
			    "the server closed the connection during the TLS handshake");
			oa__conn_fail(c);
		}
		return;
	}
	if (rc < 0) {
		tls_failure(c, rc);
		oa__conn_fail(c);
		return;
	}
	oa__conn_become_ready(c);
}

/*
 * Like the handshake, gnutls_record_recv says GNUTLS_E_AGAIN after a record
 * that carried no application data (a TLS 1.3 session ticket) even when more
 * records are buffered: it is called again as long as it takes bytes.
 */
static ssize_t record_step(oa_conn *c, char *buf, size_t size)
{
	for (;;) {
		size_t before = c->rlen;
		ssize_t n = gnutls_record_recv(c->session, buf, size);

		if ((n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) && c->rlen > 0 &&
		    c->rlen < before) {
			continue;
		}
		return n;
	}
}

/* Hands one outcome of gnutls_record_recv to on_data; false when delivery stops. */
static bool deliver_one(oa_conn *c, const char *buf, ssize_t n)
{
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		if (c->eof && c->rlen == 0) {
			/* The server closed TCP without close_notify. */
			c->cbs.on_data(c, NULL, UV_EOF, c->data);
		}
		return false;
	}
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
		c->cbs.on_data(c, NULL, UV_EOF, c->data);
		return false;
	}
	if (n < 0) {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "TLS record error: %s",
				   gnutls_strerror((int)n));
		c->cbs.on_data(c, NULL, UV_EPROTO, c->data);
		return false;
	}
	c->cbs.on_data(c, buf, n, c->data);
	return true;
}

void oa__conn_deliver_tls(oa_conn *c)
{
	char buf[16384];

	while (!c->closing && !c->paused) {
		if (!deliver_one(c, buf, record_step(c, buf, sizeof(buf)))) {
			break;
		}
	}
	release_drained(c);
}

/* A TLS record starts with a content type 20-24 and major version 3. */
static bool looks_like_tls(const unsigned char *data, size_t len)
{
	return len == 0 || (data[0] >= 20 && data[0] <= 24 && (len < 2 || data[1] == 3));
}

static void not_tls(oa_conn *c, const char *data, size_t len)
{
	char shown[24];
	size_t n = len < sizeof(shown) - 1 ? len : sizeof(shown) - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)data[i];

		shown[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '.';
	}
	shown[n] = '\0';
	oa__conn_set_error(c, OA_CONN_NOT_TLS, "the server answered with non-TLS data: \"%s\"",
			   shown);
	oa__conn_fail(c);
}

/* Appends after the unread bytes, moving them to the front only when the tail lacks room. */
static int append(oa_conn *c, const char *data, size_t len)
{
	if (c->roff + c->rlen + len > c->rcap && c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen);
		c->roff = 0;
	}
	if (c->rlen + len > c->rcap) {
		size_t cap = c->rcap < 16384 ? 16384 : c->rcap;

		while (cap < c->rlen + len) {
			cap *= 2;
		}
		if (cap > RECV_MAX) {
			cap = RECV_MAX;
		}
		unsigned char *nb = realloc(c->rbuf, cap);
		if (nb == NULL) {
			return -ENOMEM;
		}
		c->rbuf = nb;
		c->rcap = cap;
	}
	memcpy(c->rbuf + c->roff + c->rlen, data, len);
	c->rlen += len;
	return 0;
}

bool oa__conn_tls_buffer(oa_conn *c, const char *data, size_t len)
{
	if (!c->any_read && !looks_like_tls((const unsigned char *)data, len)) {
		c->any_read = true;
		not_tls(c, data, len);
		return false;
	}
	c->any_read = true;
	if (!c->ready) {
		c->hs_bytes += len;
		if (c->hs_bytes > MAX_HANDSHAKE) {
			handshake_too_large(c);
			oa__conn_fail(c);
			return false;
		}
	}
	if (c->rlen + len > RECV_MAX) {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR,
				   "the server sent more than %d bytes unread", RECV_MAX);
		if (!c->ready) {
			oa__conn_fail(c);
		} else {
			c->cbs.on_data(c, NULL, UV_ENOBUFS, c->data);
		}
		return false;
	}
	if (append(c, data, len) < 0) {
		oa__conn_set_error(c, OA_CONN_NETWORK_ERROR, "out of memory");
		if (!c->ready) {
			oa__conn_fail(c);
		} else {
			c->cbs.on_data(c, NULL, UV_ENOBUFS, c->data);
		}
		return false;
	}
	/* A paused connection takes no more from the socket until oa_conn_resume. */
	if (c->paused) {
		uv_read_stop((uv_stream_t *)&c->tcp);
	}
	return true;
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
	int rc;

	pthread_once(&shared_cred_once, make_shared_cred);
	if (shared_cred_rc < 0) {
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "cannot allocate TLS credentials");
		return -ENOMEM;
	}
	rc = gnutls_init(&c->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (rc < 0) {
		c->session = NULL;
		oa__conn_set_error(c, OA_CONN_TLS_ERROR, "gnutls_init: %s", gnutls_strerror(rc));
		return -ENOMEM;
	}
	rc = priority_for(c->opts.versions, &priority, prio, sizeof(prio));
	if (rc == 0) {
		rc = gnutls_priority_set(c->session, priority);
	}
	if (rc < 0) {
		/* This GnuTLS may not know a version (SSLv3): say so instead of failing blind. */
		oa__conn_set_error(c, OA_CONN_TLS_ERROR,
				   "cannot offer the requested versions (%s): %s", prio,
				   gnutls_strerror(rc));
		return -EINVAL;
	}
	gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE, shared_cred);
	gnutls_handshake_set_max_packet_length(c->session, MAX_HANDSHAKE);
	if (c->sni != NULL && c->sni[0] != '\0') {
		gnutls_server_name_set(c->session, GNUTLS_NAME_DNS, c->sni, strlen(c->sni));
	}
	if (c->resume.size > 0) {
		gnutls_session_set_data(c->session, c->resume.data, c->resume.size);
	}
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, push);
	gnutls_transport_set_pull_function(c->session, pull);
	return 0;
}

int oa__conn_tls_send(oa_conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = gnutls_record_send(c->session, p, len);

		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN) {
			continue;
		}
		if (n < 0) {
			oa__conn_set_error(c, OA_CONN_TLS_ERROR, "TLS write failed: %s",
					   gnutls_strerror((int)n));
			return -EPIPE;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

const gnutls_datum_t *oa_conn_peer_certs(const oa_conn *c, unsigned *n)
{
	*n = 0;
	if (c->session == NULL || !c->ready) {
		return NULL;
	}
	return gnutls_certificate_get_peers(c->session, n);
}

bool oa_conn_resumed(const oa_conn *c)
{
	return c->session != NULL && c->ready && gnutls_session_is_resumed(c->session) != 0;
}

int oa_conn_session_data(const oa_conn *c, gnutls_datum_t *out)
{
	if (c->session == NULL || !c->ready) {
		return -EINVAL;
	}
	return gnutls_session_get_data2(c->session, out) < 0 ? -EIO : 0;
}
