/*
 * What the files of the proxy test harness share and the tests do not use:
 * buffered blocking I/O over a loopback socket, plain or under TLS, which is
 * both the echo origin's side of its connections and the viewer's side of
 * its own (proxy_harness_io.c), the echo origin's request controls
 * (proxy_harness_echo.c), and the viewer connections that teardown closes
 * (proxy_harness_client.c).
 *
 * Both ends block: neither sets a socket non-blocking, so GnuTLS reports
 * GNUTLS_E_AGAIN only when a receive or send timeout (SO_RCVTIMEO,
 * SO_SNDTIMEO) expires, and that is a failure of the read or the write.
 */
#ifndef ORIGINAUDIT_TESTS_PROXY_HARNESS_INTERNAL_H
#define ORIGINAUDIT_TESTS_PROXY_HARNESS_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

/* A connected socket, plain or under TLS, with its read buffer. */
typedef struct ph_io {
	int fd;
	/* NULL over plain TCP. */
	gnutls_session_t tls;
	/* The bytes read and not consumed yet are buf[start] to buf[end - 1]. */
	char buf[65536];
	size_t start;
	size_t end;
	/* Called with the size of every read that got bytes, unless NULL. */
	void (*on_read)(void *arg, size_t n);
	void *on_read_arg;
	/* After a failed write: the bytes not sent, and the GnuTLS code (TLS) or errno (TCP). */
	size_t unsent;
	int tls_error;
	int sys_error;
} ph_io;

/* Takes len bytes at p that a read consumes (counted, summed, stored: the caller's arg). */
typedef void ph_io_take_fn(void *arg, const char *p, size_t len);

/* 127.0.0.1:port. */
struct sockaddr_in ph__loopback(unsigned port);

/* Reads more into io's buffer: > 0 bytes, 0 at EOF, < 0 on an error, a timeout or a full buffer. */
ssize_t ph__io_fill(ph_io *io);

/* Writes all len bytes; false when the connection broke (io->unsent and the error say how). */
bool ph__io_write(ph_io *io, const void *data, size_t len);

/* The next line, its CR LF left out, into out: 0, -EMSGSIZE when too long, -EPIPE at the end. */
int ph__io_line(ph_io *io, char *out, size_t size);

/* A head up to and including its blank line into *out (the caller frees it): 0, -EPIPE, -ENOMEM. */
int ph__io_head(ph_io *io, char **out);

/* Consumes n bytes, handing them to take as they come: 0, or -EPIPE when the stream ends first. */
int ph__io_body(ph_io *io, unsigned long long n, ph_io_take_fn *take, void *arg);

/* What the X-Echo-* fields of a request ask the echo origin for. */
typedef struct ph_echo_controls {
	int status;
	/* X-Echo-Body-Size was given: body_size pattern bytes instead of the echo. */
	bool pattern_body;
	unsigned long long body_size;
	unsigned long long delay_ms;
	/* An X-Echo-Header sets Content-Type, so the default one is left out. */
	bool custom_type;
	/* The first malformed control as received, for the body of a 400; "" when none. */
	char bad[320];
} ph_echo_controls;

/* Reads the X-Echo-* fields of a request head into ec (defaults for the ones it lacks). */
void ph__echo_controls(const char *head, ph_echo_controls *ec);

/* The reason phrase of status in the echo origin's status lines ("Echo" for one it lacks). */
const char *ph__reason_phrase(int status);

/* Closes every viewer connection a test left open (an assertion skipped its ph_vc_close). */
void ph__vc_close_all(void);

#endif
