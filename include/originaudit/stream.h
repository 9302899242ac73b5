/*
 * The one transport: a libuv TCP stream with optional TLS (GnuTLS, client
 * or server side, driven through push/pull over this stream's buffers; libuv
 * owns the socket). The scanner's probes and the proxy's origin connections
 * (through oa_conn), the proxy's viewer connections and the test origin all
 * sit on it; nothing else gives GnuTLS a push or pull function.
 *
 * What it guarantees:
 * - Reads go into one per-thread slab; TLS ciphertext GnuTLS has not taken
 *   is kept in a buffer of this stream only while there is some (released
 *   when it is drained, so an idle connection holds none), pulled by offset
 *   (nothing is moved per pull).
 * - The receive side is bounded: a paused stream stops reading at once, and
 *   unread ciphertext past OA_STREAM_RX_HIGH stops reading until GnuTLS has
 *   taken it; the peer is then held back by TCP flow control.
 * - A write is tried on the socket first and copied only for what could not
 *   go at once.
 * - Closing is one call, idempotent; on_closed is the last callback, after
 *   which the owner may free the memory the stream is embedded in.
 *
 * The struct is embedded in its owner (a connection, a viewer); its fields
 * are private.
 */
#ifndef ORIGINAUDIT_STREAM_H
#define ORIGINAUDIT_STREAM_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Unread ciphertext past which a stream stops reading until GnuTLS takes it. */
#define OA_STREAM_RX_HIGH (256 * 1024)
/* The largest single read (the slab). */
#define OA_STREAM_READ_MAX (64 * 1024)
/* Plain TCP: bytes gathered while corked before they are written anyway. */
#define OA_STREAM_CORK_MAX (64 * 1024)

/* on_handshake's status when the peer's first bytes were not a TLS record (client side). */
#define OA_STREAM_E_NOT_TLS (-100000)

typedef struct oa_stream oa_stream;

typedef struct oa_stream_cbs {
	/*
	 * TLS: the handshake ended, once: 0, or a GnuTLS error code
	 * (GNUTLS_E_PREMATURE_TERMINATION: the peer closed during it;
	 * GNUTLS_E_HANDSHAKE_TOO_LARGE: it sent more than the stream's handshake
	 * limit; OA_STREAM_E_NOT_TLS: its first bytes were no TLS record).
	 * Transport errors during the handshake arrive through on_data instead.
	 */
	void (*on_handshake)(oa_stream *s, int status);
	/*
	 * Application bytes (n > 0), the peer's orderly end (UV_EOF: TCP FIN, or
	 * TLS close_notify), or an error (another negative libuv code; a TLS
	 * record error is UV_EPROTO, with oa_stream_tls_error() saying which).
	 * After an end or an error, nothing more is delivered.
	 */
	void (*on_data)(oa_stream *s, const char *buf, ssize_t n);
	/* Every queued write has reached the socket. May be NULL. */
	void (*on_drain)(oa_stream *s);
	/* The stream is closed; the owner may free it now. May be NULL. */
	void (*on_closed)(oa_stream *s);
} oa_stream_cbs;

struct oa_stream {
	uv_tcp_t tcp;
	/* The owner's. */
	void *data;
	const oa_stream_cbs *cbs;
	/* NULL for plain TCP; owned (deinitialised at close). */
	gnutls_session_t session;
	/* Unread ciphertext: in_len bytes at in + in_off; in_cap is 0 while it is borrowed. */
	const unsigned char *in;
	unsigned char *in_buf;
	size_t in_off;
	size_t in_len;
	size_t in_cap;
	/* Plain TCP, corked: writes gathered. */
	char *gather;
	size_t gather_len;
	/*
	 * TLS: what GnuTLS pushes during a handshake step and the on_handshake
	 * callback it ends with, gathered and written as one.
	 */
	char *flight;
	size_t flight_len;
	size_t flight_cap;
	bool flight_gathering;
	/* TLS: an end or an error met after a batch of records, delivered after the batch. */
	bool held_set;
	ssize_t held;
	/* TLS: bytes taken before the handshake completed, and their limit (0: none). */
	size_t hs_bytes;
	size_t hs_max;
	uv_shutdown_t *shutdown_req;
	void (*shutdown_cb)(oa_stream *s, int status);
	int tls_error;
	unsigned char first[16];
	unsigned char first_len;
	bool check_first;
	bool reading;
	bool paused;
	bool eof;
	bool ended;
	bool discard;
	bool handshaken;
	bool delivering;
	bool corked;
	bool closing;
	bool any_read;
};

/* Initialises s on loop (a TCP handle, nothing allocated). 0 or a negative libuv code. */
int oa_stream_init(uv_loop_t *loop, oa_stream *s, const oa_stream_cbs *cbs, void *data);

/* The TCP handle, to connect, accept, open or query it. */
uv_tcp_t *oa_stream_tcp(oa_stream *s);

/*
 * Runs TLS over the stream with session (client or server, configured by the
 * caller), which the stream now owns. handshake_max bounds what the peer may
 * send before the handshake completes (0: GnuTLS's own limits only);
 * check_first: fail at once (OA_STREAM_E_NOT_TLS) when the first bytes read
 * are not a TLS record. Call before oa_stream_start.
 */
void oa_stream_set_tls(oa_stream *s, gnutls_session_t session, size_t handshake_max,
		       bool check_first);

/* Starts reading (and, with TLS, the handshake). 0 or a negative libuv code. */
int oa_stream_start(oa_stream *s);

/*
 * Sends len bytes (as TLS records with TLS, after the handshake): 0, or
 * -EPIPE once the stream is closing or failed, -ENOMEM.
 */
int oa_stream_write(oa_stream *s, const void *buf, size_t len);

/* Gathers writes (TLS: into records) until oa_stream_uncork sends them together. */
void oa_stream_cork(oa_stream *s);
void oa_stream_uncork(oa_stream *s);

/* Bytes queued and not yet written to the socket (gathered ones included). */
size_t oa_stream_pending(const oa_stream *s);

/* Stops reading and delivering. */
void oa_stream_pause(oa_stream *s);
/* Reads again; buffered TLS records wait for oa_stream_deliver. */
void oa_stream_resume(oa_stream *s);
/* Whether oa_stream_deliver has anything to hand over (TLS records, or an end). */
bool oa_stream_buffered(const oa_stream *s);
/*
 * Delivers what is buffered until paused, closed or empty. Called from
 * inside a delivery (on_data), it returns at once and the running one goes on.
 */
void oa_stream_deliver(oa_stream *s);

/*
 * From now on input is read and dropped; only the end or an error is still
 * delivered (once more, after a failed handshake: the owner lingers until it).
 */
void oa_stream_discard(oa_stream *s);

/*
 * Shuts the write side once everything queued is written; cb(s, status)
 * follows (UV_ECANCELED when the stream closes first). 0 or a negative code.
 */
int oa_stream_shutdown(oa_stream *s, void (*cb)(oa_stream *s, int status));

/* Closes (reset: with a TCP RST instead of a FIN); idempotent; on_closed follows. */
void oa_stream_close(oa_stream *s, bool reset);

bool oa_stream_closing(const oa_stream *s);
/* Whether the peer ended its side (a FIN or close_notify was read). */
bool oa_stream_eof(const oa_stream *s);
/* Whether any byte was read from the peer. */
bool oa_stream_any_read(const oa_stream *s);
/* TLS: whether the handshake completed. */
bool oa_stream_handshaken(const oa_stream *s);
/* The GnuTLS session (NULL for plain TCP). */
gnutls_session_t oa_stream_session(const oa_stream *s);
/* The GnuTLS error behind the last UV_EPROTO (0 when none). */
int oa_stream_tls_error(const oa_stream *s);
/* After OA_STREAM_E_NOT_TLS: the first bytes the peer sent (at most 16). */
const unsigned char *oa_stream_first_bytes(const oa_stream *s, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
