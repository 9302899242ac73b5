/*
 * Loopback sockets and buffered blocking I/O over them, plain or under TLS
 * (proxy_harness_internal.h): the echo origin reads requests and writes
 * responses with it, the viewer writes requests and reads responses. What a
 * read means (counted by the origin, kept or pattern-checked by the viewer)
 * is the caller's, through the on_read and take callbacks.
 */
#include "proxy_harness.h"
#include "proxy_harness_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct sockaddr_in ph__loopback(unsigned port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

int ph_listen_socket(unsigned *port, int backlog)
{
	struct sockaddr_in sin = ph__loopback(0);
	socklen_t len = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* The timeouts bound the connect too (Linux applies SO_SNDTIMEO to it). */
int ph_tcp_connect(unsigned port, int timeout_ms)
{
	struct sockaddr_in sin = ph__loopback(port);
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

ssize_t ph__io_fill(ph_io *io)
{
	if (io->start > 0) {
		memmove(io->buf, io->buf + io->start, io->end - io->start);
		io->end -= io->start;
		io->start = 0;
	}
	if (io->end == sizeof(io->buf)) {
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (io->tls != NULL) {
			n = gnutls_record_recv(io->tls, io->buf + io->end,
					       sizeof(io->buf) - io->end);
			if (n == GNUTLS_E_INTERRUPTED) {
				continue;
			}
			/* A peer that closes without close_notify has ended the stream too. */
			if (n == GNUTLS_E_PREMATURE_TERMINATION) {
				n = 0;
			}
			n = n < 0 ? -1 : n;
		} else {
			n = recv(io->fd, io->buf + io->end, sizeof(io->buf) - io->end, 0);
			if (n < 0 && errno == EINTR) {
				continue;
			}
		}
		if (n > 0) {
			io->end += (size_t)n;
			if (io->on_read != NULL) {
				io->on_read(io->on_read_arg, (size_t)n);
			}
		}
		return n;
	}
}

bool ph__io_write(ph_io *io, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n;

		if (io->tls != NULL) {
			n = gnutls_record_send(io->tls, p, len);
			if (n == GNUTLS_E_INTERRUPTED) {
				continue;
			}
		} else {
			n = send(io->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR) {
				continue;
			}
		}
		if (n <= 0) {
			io->unsent = len;
			io->tls_error = io->tls != NULL ? (int)n : 0;
			io->sys_error = io->tls != NULL ? 0 : errno;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

int ph__io_line(ph_io *io, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(io->buf + io->start, '\n', io->end - io->start);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (io->buf + io->start));

			if (len >= size) {
				return -EMSGSIZE;
			}
			memcpy(out, io->buf + io->start, len);
			io->start += len + 1;
			if (len > 0 && out[len - 1] == '\r') {
				len--;
			}
			out[len] = '\0';
			return 0;
		}
		if (ph__io_fill(io) <= 0) {
			return -EPIPE;
		}
	}
}

int ph__io_head(ph_io *io, char **out)
{
	for (;;) {
		size_t have = io->end - io->start;
		char *end = have >= 4 ? memmem(io->buf + io->start, have, "\r\n\r\n", 4) : NULL;

		if (end != NULL) {
			size_t len = (size_t)(end - (io->buf + io->start)) + 4;
			char *head = malloc(len + 1);

			if (head == NULL) {
				return -ENOMEM;
			}
			memcpy(head, io->buf + io->start, len);
			head[len] = '\0';
			io->start += len;
			*out = head;
			return 0;
		}
		if (ph__io_fill(io) <= 0) {
			return -EPIPE;
		}
	}
}

int ph__io_body(ph_io *io, unsigned long long n, ph_io_take_fn *take, void *arg)
{
	while (n > 0) {
		if (io->start == io->end && ph__io_fill(io) <= 0) {
			return -EPIPE;
		}
		size_t len = io->end - io->start;
		if (len > n) {
			len = (size_t)n;
		}
		take(arg, io->buf + io->start, len);
		io->start += len;
		n -= len;
	}
	return 0;
}
