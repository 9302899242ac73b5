/*
 * The one transport (stream.h): libuv TCP, optionally TLS through GnuTLS
 * push/pull. GnuTLS never touches the socket: pull hands it what libuv read,
 * push writes (or queues) on the socket, GNUTLS_E_AGAIN means "wait for the
 * next read".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/stream.h"

/* Warning alerts skipped in one handshake step before giving up. */
#define MAX_WARNINGS 16
/* The smallest buffer kept for unread ciphertext: one full TLS record. */
#define IN_MIN (16 * 1024 + 512)
/*
 * Plain TCP, corked: a write up to this size is copied into the gathered
 * bytes; a larger one leaves at once, with them, in one writev.
 */
#define CORK_COPY_MAX (16 * 1024)
/* TLS: plaintext handed to on_data at once at most (the records of one read). */
#define DELIVER_MAX OA_STREAM_READ_MAX

static void on_read(uv_stream_t *handle, ssize_t nread, const uv_buf_t *buf);

int oa_stream_init(uv_loop_t *loop, oa_stream *s, const oa_stream_cbs *cbs, void *data)
{
	memset(s, 0, sizeof(*s));
	s->cbs = cbs;
	s->data = data;
	s->tcp.data = s;
	return uv_tcp_init(loop, &s->tcp);
}

uv_tcp_t *oa_stream_tcp(oa_stream *s)
{
	return &s->tcp;
}

/* ---- writing ---- */

struct write_req {
	uv_write_t req;
	oa_stream *s;
	char data[];
};

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	oa_stream *s = w->s;

	free(w);
	if (status == UV_ECANCELED || s->closing) {
		return;
	}
	if (s->cbs->on_drain != NULL &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&s->tcp) == 0) {
		s->cbs->on_drain(s);
	}
}

/*
 * Writes a, then b (blen may be 0), to the socket in one system call,
 * copying only what cannot go at once; 0 or a negative errno.
 */
static int raw_write2(oa_stream *s, const void *a, size_t alen, const void *b, size_t blen)
{
	uv_buf_t direct[2] = {uv_buf_init((char *)a, (unsigned)alen),
			      uv_buf_init((char *)b, (unsigned)blen)};
	/* Most writes go at once (nothing queued, room in the socket): no copy then. */
	int sent = uv_try_write((uv_stream_t *)&s->tcp, direct, blen > 0 ? 2 : 1);
	size_t skip = sent > 0 ? (size_t)sent : 0;
	size_t len = alen + blen;

	if (sent >= 0 && skip == len) {
		return 0;
	}
	len -= skip;
	/* The rest (or all of it, whatever try_write said) is queued; uv_write reports errors. */
	struct write_req *w = malloc(sizeof(*w) + len);

	if (w == NULL) {
		return -ENOMEM;
	}
	w->s = s;
	size_t a_skip = skip < alen ? skip : alen;

	memcpy(w->data, (const char *)a + a_skip, alen - a_skip);
	if (blen > 0) {
		memcpy(w->data + (alen - a_skip), (const char *)b + (skip - a_skip),
		       blen - (skip - a_skip));
	}
	uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
	int rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, &buf, 1, on_written);
	if (rc < 0) {
		free(w);
		return rc;
	}
	return 0;
}

static int raw_write(oa_stream *s, const void *data, size_t len)
{
	return raw_write2(s, data, len, NULL, 0);
}

/* Writes the gathered flight, if any, and stops gathering; the buffer is released. */
static int flush_flight(oa_stream *s)
{
	int rc = 0;

	s->flight_gathering = false;
	if (s->flight_len > 0 && !s->closing) {
		rc = raw_write(s, s->flight, s->flight_len);
	}
	free(s->flight);
	s->flight = NULL;
	s->flight_len = 0;
	s->flight_cap = 0;
	return rc;
}

/*
 * GnuTLS pushes every record of a flight on its own (a ServerHello, a
 * Certificate, ...; a ChangeCipherSpec, then a Finished), and with
 * TCP_NODELAY each would be a segment the peer wakes up for. While a
 * handshake step runs they are gathered (with the first application data
 * on_handshake sends, such as a request after a resumed handshake's last
 * flight) and written as one.
 */
static int gather_flight(oa_stream *s, const void *data, size_t len)
{
	if (s->flight_len + len > OA_STREAM_CORK_MAX) {
		/* A large flight (a long certificate chain) goes in pieces of this size. */
		int rc = s->flight_len > 0 ? raw_write(s, s->flight, s->flight_len) : 0;

		s->flight_len = 0;
		if (rc < 0 || len > OA_STREAM_CORK_MAX) {
			return rc < 0 ? rc : raw_write(s, data, len);
		}
	}
	if (s->flight_len + len > s->flight_cap) {
		size_t cap = s->flight_cap < 4096 ? 4096 : s->flight_cap;

		while (cap < s->flight_len + len) {
			cap *= 2;
		}
		char *nb = realloc(s->flight, cap);
		if (nb == NULL) {
			return -ENOMEM;
		}
		s->flight = nb;
		s->flight_cap = cap;
	}
	memcpy(s->flight + s->flight_len, data, len);
	s->flight_len += len;
	return 0;
}

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	oa_stream *s = ptr;
	int rc = s->closing	       ? -EPIPE
		 : s->flight_gathering ? gather_flight(s, data, len)
				       : raw_write(s, data, len);

	if (rc < 0) {
		gnutls_transport_set_errno(s->session, rc == -ENOMEM ? ENOMEM : EPIPE);
		return -1;
	}
	return (ssize_t)len;
}

static int flush_gathered(oa_stream *s)
{
	int rc = 0;

	if (s->gather_len > 0) {
		rc = raw_write(s, s->gather, s->gather_len);
	}
	free(s->gather);
	s->gather = NULL;
	s->gather_len = 0;
	return rc;
}

int oa_stream_write(oa_stream *s, const void *buf, size_t len)
{
	const char *p = buf;

	if (s->closing) {
		return -EPIPE;
	}
	if (s->session == NULL) {
		if (s->corked && len <= CORK_COPY_MAX &&
		    s->gather_len + len <= OA_STREAM_CORK_MAX) {
			if (s->gather == NULL) {
				s->gather = malloc(OA_STREAM_CORK_MAX);
				if (s->gather == NULL) {
					return -ENOMEM;
				}
			}
			memcpy(s->gather + s->gather_len, buf, len);
			s->gather_len += len;
			return 0;
		}
		if (s->gather_len > 0) {
			/* What was gathered and these bytes leave together, these not copied. */
			int rc = raw_write2(s, s->gather, s->gather_len, buf, len);

			free(s->gather);
			s->gather = NULL;
			s->gather_len = 0;
			return rc;
		}
		return len > 0 ? raw_write(s, buf, len) : 0;
	}
	if (!s->handshaken) {
		return -EPIPE;
	}
	while (len > 0) {
		ssize_t n = gnutls_record_send(s->session, p, len);

		/* The push function never blocks (it queues), so AGAIN only means "call again". */
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			continue;
		}
		if (n < 0) {
			s->tls_error = (int)n;
			return -EPIPE;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void oa_stream_cork(oa_stream *s)
{
	if (s->corked || s->closing) {
		return;
	}
	s->corked = true;
	if (s->session != NULL && s->handshaken) {
		gnutls_record_cork(s->session);
	}
}

void oa_stream_uncork(oa_stream *s)
{
	if (!s->corked) {
		return;
	}
	s->corked = false;
	if (s->closing) {
		free(s->gather);
		s->gather = NULL;
		s->gather_len = 0;
		return;
	}
	if (s->session != NULL) {
		if (s->handshaken) {
			int rc;

			do {
				rc = gnutls_record_uncork(s->session, 0);
			} while (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED);
		}
		return;
	}
	flush_gathered(s);
}

size_t oa_stream_pending(const oa_stream *s)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&s->tcp) + s->gather_len +
	       s->flight_len;
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	static _Thread_local char slab[OA_STREAM_READ_MAX];

	/* One read at a time on a loop thread; what is not used at once is copied (keep). */
	*buf = uv_buf_init(slab, sizeof(slab));
}

static void stop_reading(oa_stream *s)
{
	if (s->reading) {
		uv_read_stop((uv_stream_t *)&s->tcp);
		s->reading = false;
	}
}

/* Reads again unless paused, ended, closing, or holding as much ciphertext as allowed. */
static void maybe_read(oa_stream *s)
{
	if (s->reading || s->paused || s->eof || s->ended || s->closing ||
	    s->in_len >= OA_STREAM_RX_HIGH) {
		return;
	}
	s->reading = uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read) == 0;
}

/* Delivers the end or an error, once; nothing is delivered after it. */
static void end(oa_stream *s, ssize_t code)
{
	if (s->ended) {
		return;
	}
	s->ended = true;
	stop_reading(s);
	s->cbs->on_data(s, NULL, code);
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	oa_stream *s = ptr;

	if (s->in_len == 0) {
		if (s->eof) {
			return 0;
		}
		gnutls_transport_set_errno(s->session, EAGAIN);
		return -1;
	}
	size_t n = len < s->in_len ? len : s->in_len;
	memcpy(data, s->in + s->in_off, n);
	s->in_off += n;
	s->in_len -= n;
	return (ssize_t)n;
}

/*
 * Takes a read: borrowed in place when nothing is waiting (the common case;
 * keep copies what GnuTLS leaves), else appended after the unread bytes,
 * which move to the front only when the tail lacks room.
 */
static int take(oa_stream *s, const char *data, size_t len)
{
	if (s->in_len == 0) {
		free(s->in_buf);
		s->in_buf = NULL;
		s->in_cap = 0;
		s->in = (const unsigned char *)data;
		s->in_off = 0;
		s->in_len = len;
		return 0;
	}
	if (s->in_off + s->in_len + len > s->in_cap) {
		if (s->in_off > 0) {
			memmove(s->in_buf, s->in_buf + s->in_off, s->in_len);
			s->in_off = 0;
		}
		if (s->in_len + len > s->in_cap) {
			size_t cap = s->in_cap < IN_MIN ? IN_MIN : s->in_cap;

			while (cap < s->in_len + len) {
				cap *= 2;
			}
			unsigned char *nb = realloc(s->in_buf, cap);
			if (nb == NULL) {
				return -ENOMEM;
			}
			s->in_buf = nb;
			s->in_cap = cap;
		}
	}
	memcpy(s->in_buf + s->in_off + s->in_len, data, len);
	s->in_len += len;
	s->in = s->in_buf;
	return 0;
}

/*
 * After a delivery: a drained buffer is released (an idle stream holds
 * none); bytes still borrowed from the slab are copied into one of the
 * stream's own; past the high-water mark, reading stops.
 */
static int keep(oa_stream *s)
{
	if (s->in_len == 0) {
		free(s->in_buf);
		s->in_buf = NULL;
		s->in = NULL;
		s->in_cap = 0;
		s->in_off = 0;
		return 0;
	}
	if (s->in_cap == 0) {
		size_t cap = s->in_len < IN_MIN ? IN_MIN : s->in_len;
		unsigned char *nb = malloc(cap);

		if (nb == NULL) {
			return -ENOMEM;
		}
		memcpy(nb, s->in + s->in_off, s->in_len);
		s->in_buf = nb;
		s->in = nb;
		s->in_cap = cap;
		s->in_off = 0;
	}
	if (s->in_len >= OA_STREAM_RX_HIGH) {
		stop_reading(s);
	}
	return 0;
}

static void handshake_over(oa_stream *s, int status)
{
	if (status < 0) {
		s->ended = true;
		stop_reading(s);
	} else {
		s->handshaken = true;
		if (s->corked) {
			gnutls_record_cork(s->session);
		}
	}
	if (s->cbs->on_handshake != NULL) {
		s->cbs->on_handshake(s, status);
	}
}

/*
 * One call of gnutls_handshake takes at most one record from pull and says
 * GNUTLS_E_AGAIN while a handshake message spans more records, even when the
 * rest is buffered already (a certificate flight over 16 KB, a ClientHello
 * over several records): it is called again as long as it takes bytes, and
 * AGAIN only ends the step once everything buffered is consumed.
 */
static int handshake_step(oa_stream *s)
{
	int warnings = 0;

	for (;;) {
		size_t before = s->in_len;
		int rc = gnutls_handshake(s->session);

		/* A warning alert (unrecognized_name at TLS 1.2) is no refusal. */
		if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED && warnings < MAX_WARNINGS) {
			warnings++;
			continue;
		}
		if ((rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) && !s->closing &&
		    s->in_len > 0 && s->in_len < before) {
			continue;
		}
		return rc;
	}
}

/*
 * Like the handshake, gnutls_record_recv says GNUTLS_E_AGAIN after a record
 * that carried no application data (a TLS 1.3 session ticket) even when more
 * records are buffered: it is called again as long as it takes bytes.
 */
static ssize_t record_step(oa_stream *s, char *buf, size_t size)
{
	for (;;) {
		size_t before = s->in_len;
		ssize_t n = gnutls_record_recv(s->session, buf, size);

		if ((n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) && s->in_len > 0 &&
		    s->in_len < before) {
			continue;
		}
		return n;
	}
}

/* Acts on what gnutls_record_recv said when it gave no data; the delivery stops. */
static void no_data(oa_stream *s, ssize_t n)
{
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
		if (s->eof && s->in_len == 0) {
			/* The peer closed TCP without close_notify. */
			end(s, UV_EOF);
		}
		return;
	}
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
		end(s, UV_EOF);
		return;
	}
	s->tls_error = (int)n;
	end(s, UV_EPROTO);
}

/* One handshake step, its pushes gathered into one write; false when it must wait. */
static bool handshake_flight(oa_stream *s)
{
	s->flight_gathering = true;
	int rc = handshake_step(s);

	if ((rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) && !s->eof) {
		flush_flight(s);
		return false;
	}
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
		rc = GNUTLS_E_PREMATURE_TERMINATION;
	}
	/* What on_handshake writes (a request after a resumed handshake) joins the flight. */
	handshake_over(s, rc);
	flush_flight(s);
	return true;
}

/*
 * Runs the handshake, then hands decrypted records to on_data, until it must
 * wait. The records already buffered are decrypted one after the other into
 * one buffer and handed over in one call, so what one read brought (up to
 * four full records) is parsed, and written on, once rather than per record;
 * an end or an error met after some of them is held and acted on after them.
 */
static void deliver_tls(oa_stream *s)
{
	char buf[DELIVER_MAX];

	while (!s->closing && !s->ended) {
		if (!s->handshaken) {
			if (!handshake_flight(s)) {
				return;
			}
			continue;
		}
		if (s->paused) {
			return;
		}
		if (s->held_set) {
			s->held_set = false;
			no_data(s, s->held);
			return;
		}
		size_t got = 0;
		ssize_t n = 0;

		while (got < sizeof(buf)) {
			n = record_step(s, buf + got, sizeof(buf) - got);
			if (n <= 0) {
				break;
			}
			got += (size_t)n;
		}
		if (got == 0) {
			no_data(s, n);
			return;
		}
		/* "Nothing more yet" is asked again after the data; an end or an error is held. */
		if (n <= 0 && n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED) {
			s->held = n;
			s->held_set = true;
		}
		s->cbs->on_data(s, buf, (ssize_t)got);
	}
}

static void deliver(oa_stream *s)
{
	if (s->delivering) {
		/* Asked from inside a delivery: the running loop goes on. */
		return;
	}
	s->delivering = true;
	deliver_tls(s);
	s->delivering = false;
}

/* A TLS record starts with a content type 20-24 and major version 3. */
static bool looks_like_tls(const unsigned char *data, size_t len)
{
	return len == 0 || (data[0] >= 20 && data[0] <= 24 && (len < 2 || data[1] == 3));
}

/* Checks a read taken before the handshake completed: false when the handshake fails on it. */
static bool handshake_bytes(oa_stream *s, const char *data, size_t len)
{
	if (s->check_first && s->first_len == 0) {
		size_t n = len < sizeof(s->first) ? len : sizeof(s->first);

		memcpy(s->first, data, n);
		s->first_len = (unsigned char)n;
		if (!looks_like_tls(s->first, n)) {
			handshake_over(s, OA_STREAM_E_NOT_TLS);
			return false;
		}
	}
	s->hs_bytes += len;
	if (s->hs_max > 0 && s->hs_bytes > s->hs_max) {
		handshake_over(s, GNUTLS_E_HANDSHAKE_TOO_LARGE);
		return false;
	}
	return true;
}

static void on_read(uv_stream_t *handle, ssize_t nread, const uv_buf_t *buf)
{
	oa_stream *s = handle->data;

	if (s->closing || s->ended || nread == 0) {
		return;
	}
	if (nread < 0) {
		stop_reading(s);
		if (nread == UV_EOF) {
			s->eof = true;
		}
		if (nread != UV_EOF || s->session == NULL || s->discard) {
			end(s, nread);
			return;
		}
		/* TLS: what is buffered is delivered first, then the end. */
		oa_stream_deliver(s);
		return;
	}
	s->any_read = true;
	if (s->discard) {
		return;
	}
	if (s->session == NULL) {
		s->cbs->on_data(s, buf->base, nread);
		return;
	}
	if (!s->handshaken && !handshake_bytes(s, buf->base, (size_t)nread)) {
		return;
	}
	if (take(s, buf->base, (size_t)nread) < 0) {
		end(s, UV_ENOMEM);
		return;
	}
	deliver(s);
	if (keep(s) < 0) {
		end(s, UV_ENOMEM);
	}
}

void oa_stream_set_tls(oa_stream *s, gnutls_session_t session, size_t handshake_max,
		       bool check_first)
{
	s->session = session;
	s->hs_max = handshake_max;
	s->check_first = check_first;
	gnutls_transport_set_ptr(session, s);
	gnutls_transport_set_push_function(session, push);
	gnutls_transport_set_pull_function(session, pull);
}

int oa_stream_start(oa_stream *s)
{
	s->reading = false;
	maybe_read(s);
	if (!s->reading) {
		return UV_EPIPE;
	}
	if (s->session != NULL) {
		/* A client sends its hello now; a server waits for one. */
		deliver(s);
	}
	return 0;
}

void oa_stream_pause(oa_stream *s)
{
	s->paused = true;
	stop_reading(s);
}

void oa_stream_resume(oa_stream *s)
{
	s->paused = false;
	maybe_read(s);
}

bool oa_stream_buffered(const oa_stream *s)
{
	if (s->session == NULL || s->ended || s->closing) {
		return false;
	}
	return s->in_len > 0 || s->eof || s->held_set ||
	       gnutls_record_check_pending(s->session) > 0;
}

void oa_stream_deliver(oa_stream *s)
{
	if (s->session == NULL || s->delivering) {
		return;
	}
	deliver(s);
	if (keep(s) < 0) {
		end(s, UV_ENOMEM);
		return;
	}
	maybe_read(s);
}

void oa_stream_discard(oa_stream *s)
{
	s->discard = true;
	s->paused = false;
	/* After a failed handshake too: the peer's end (or error) is still delivered. */
	s->ended = false;
	s->in_len = 0;
	keep(s);
	maybe_read(s);
}

/* ---- ending ---- */

static void on_shutdown(uv_shutdown_t *req, int status)
{
	oa_stream *s = req->data;

	free(req);
	s->shutdown_req = NULL;
	s->shutdown_cb(s, status);
}

int oa_stream_shutdown(oa_stream *s, void (*cb)(oa_stream *s, int status))
{
	if (s->closing || s->shutdown_req != NULL) {
		return UV_EPIPE;
	}
	/* A flight being gathered (an alert after a failed handshake) goes before the FIN. */
	if (s->flight_gathering) {
		flush_flight(s);
	}
	uv_shutdown_t *req = malloc(sizeof(*req));

	if (req == NULL) {
		return UV_ENOMEM;
	}
	req->data = s;
	s->shutdown_cb = cb;
	int rc = uv_shutdown(req, (uv_stream_t *)&s->tcp, on_shutdown);
	if (rc < 0) {
		free(req);
		return rc;
	}
	s->shutdown_req = req;
	return 0;
}

static void on_closed(uv_handle_t *handle)
{
	oa_stream *s = handle->data;

	if (s->session != NULL) {
		gnutls_deinit(s->session);
		s->session = NULL;
	}
	free(s->in_buf);
	s->in_buf = NULL;
	free(s->gather);
	s->gather = NULL;
	free(s->flight);
	s->flight = NULL;
	if (s->cbs->on_closed != NULL) {
		s->cbs->on_closed(s);
	}
}

void oa_stream_close(oa_stream *s, bool reset)
{
	if (s->closing) {
		return;
	}
	/* A flight being gathered (an alert, a request) was written as far as GnuTLS knows. */
	if (s->flight_gathering && !reset) {
		flush_flight(s);
	}
	s->closing = true;
	s->reading = false;
	if (!reset || uv_tcp_close_reset(&s->tcp, on_closed) < 0) {
		uv_close((uv_handle_t *)&s->tcp, on_closed);
	}
}

/* ---- state ---- */

bool oa_stream_closing(const oa_stream *s)
{
	return s->closing;
}

bool oa_stream_eof(const oa_stream *s)
{
	return s->eof;
}

bool oa_stream_any_read(const oa_stream *s)
{
	return s->any_read;
}

bool oa_stream_handshaken(const oa_stream *s)
{
	return s->handshaken;
}

gnutls_session_t oa_stream_session(const oa_stream *s)
{
	return s->session;
}

int oa_stream_tls_error(const oa_stream *s)
{
	return s->tls_error;
}

const unsigned char *oa_stream_first_bytes(const oa_stream *s, size_t *len)
{
	*len = s->first_len;
	return s->first;
}
