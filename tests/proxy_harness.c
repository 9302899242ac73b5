/*
 * The proxy test harness (proxy_harness.h): the echo origin, message heads,
 * the viewer client, configuration builders and the proxy process.
 *
 * The echo origin runs one thread per connection with blocking I/O. Its
 * counters (connections, completed handshakes, request heads, application
 * bytes) are what prove that a refused origin got nothing but the handshake
 * and that a bad request never reached an origin.
 */
#include "proxy_harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t ph_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned char ph_pattern_byte(unsigned long long i)
{
	return (unsigned char)(i % 251);
}

void ph_fill_pattern(unsigned char *buf, size_t len, unsigned long long offset)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = ph_pattern_byte(offset + i);
	}
}

/* ---- message heads ---- */

bool ph_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * The value of the nth (from 0) field called name in a message head (start
 * line, fields, blank line), trimmed; false when there is no such field.
 */
bool ph_head_field(const char *head, const char *name, size_t nth, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *line = strstr(head, "\r\n");

	while (line != NULL) {
		line += 2;
		const char *end = strstr(line, "\r\n");
		if (end == NULL || end == line) {
			break;
		}
		const char *colon = memchr(line, ':', (size_t)(end - line));
		if (colon != NULL && (size_t)(colon - line) == nlen &&
		    strncasecmp(line, name, nlen) == 0) {
			if (nth == 0) {
				const char *v = colon + 1;
				const char *ve = end;

				while (v < ve && (*v == ' ' || *v == '\t')) {
					v++;
				}
				while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
					ve--;
				}
				snprintf(out, size, "%.*s", (int)(ve - v), v);
				return true;
			}
			nth--;
		}
		line = end;
	}
	return false;
}

size_t ph_head_count(const char *head, const char *name)
{
	char buf[8];
	size_t n = 0;

	while (ph_head_field(head, name, n, buf, sizeof(buf))) {
		n++;
	}
	return n;
}

/* Asserts that head has exactly one field called name with value want, or none when want is NULL.
 */
void ph_expect_field(const char *head, const char *name, const char *want)
{
	char got[8192];
	size_t n = ph_head_count(head, name);

	if (want == NULL) {
		if (n != 0) {
			fail_msg("field %s should be absent in:\n%s", name, head);
		}
		return;
	}
	if (n != 1 || !ph_head_field(head, name, 0, got, sizeof(got))) {
		fail_msg("field %s: %zu occurrences, want one \"%s\", in:\n%s", name, n, want,
			 head);
	}
	if (strcmp(got, want) != 0) {
		fail_msg("field %s: got \"%s\", want \"%s\", in:\n%s", name, got, want, head);
	}
}

/* ---- the echo origin ---- */

typedef struct eo_conn {
	ph_eo *origin;
	int fd;
	unsigned id;
	pthread_t thread;
	struct eo_conn *next;
} eo_conn;

struct ph_eo {
	ph_eo_opts opts;
	char name[32];
	int lfd;
	unsigned port;
	pthread_t thread;
	pthread_mutex_t mu;
	bool stop;
	eo_conn *conns;
	/* Counters, under mu. */
	size_t connections;
	size_t handshakes;
	size_t requests;
	unsigned long long app_bytes;
	char first_head[65536];
	char sni[256];
	gnutls_certificate_credentials_t cred;
	gnutls_pcert_st pcerts[8];
	unsigned n_pcerts;
	gnutls_privkey_t key;
};

/* Buffered blocking I/O over a socket or a TLS session. */
struct io {
	ph_eo *origin;
	int fd;
	gnutls_session_t tls;
	char buf[65536];
	size_t start;
	size_t end;
};

static int eo_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		       gnutls_pcert_st **pcert, unsigned int *pcert_length,
		       gnutls_privkey_t *privkey)
{
	ph_eo *o = gnutls_session_get_ptr(session);

	*pcert = o->pcerts;
	*pcert_length = o->n_pcerts;
	*privkey = o->key;
	return 0;
}

static ssize_t io_raw_read(struct io *io, void *p, size_t n)
{
	for (;;) {
		ssize_t got;

		if (io->tls != NULL) {
			got = gnutls_record_recv(io->tls, p, n);
			if (got == GNUTLS_E_INTERRUPTED || got == GNUTLS_E_AGAIN) {
				continue;
			}
			return got < 0 ? -1 : got;
		}
		got = recv(io->fd, p, n, 0);
		if (got < 0 && errno == EINTR) {
			continue;
		}
		return got;
	}
}

/* Reads more into the buffer; false at EOF or on an error. */
static bool io_fill(struct io *io)
{
	if (io->start > 0) {
		memmove(io->buf, io->buf + io->start, io->end - io->start);
		io->end -= io->start;
		io->start = 0;
	}
	if (io->end == sizeof(io->buf)) {
		return false;
	}
	ssize_t n = io_raw_read(io, io->buf + io->end, sizeof(io->buf) - io->end);
	if (n <= 0) {
		return false;
	}
	io->end += (size_t)n;
	pthread_mutex_lock(&io->origin->mu);
	io->origin->app_bytes += (unsigned long long)n;
	pthread_mutex_unlock(&io->origin->mu);
	return true;
}

static bool io_write(struct io *io, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n;

		if (io->tls != NULL) {
			n = gnutls_record_send(io->tls, p, len);
			if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN) {
				continue;
			}
		} else {
			n = send(io->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR) {
				continue;
			}
		}
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool io_printf(struct io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool io_printf(struct io *io, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n > 0 && (size_t)n < sizeof(buf) && io_write(io, buf, (size_t)n);
}

/* The next line (CRLF stripped) into out; false at EOF or when too long. */
static bool io_line(struct io *io, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(io->buf + io->start, '\n', io->end - io->start);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (io->buf + io->start));

			if (len >= size) {
				return false;
			}
			memcpy(out, io->buf + io->start, len);
			if (len > 0 && out[len - 1] == '\r') {
				len--;
			}
			out[len] = '\0';
			io->start += (size_t)(nl - (io->buf + io->start)) + 1;
			return true;
		}
		if (!io_fill(io)) {
			return false;
		}
	}
}

/* A request head up to and including the blank line, malloc'd; NULL at EOF. */
static char *io_head(struct io *io)
{
	for (;;) {
		size_t have = io->end - io->start;
		char *end = have >= 4 ? memmem(io->buf + io->start, have, "\r\n\r\n", 4) : NULL;

		if (end != NULL) {
			size_t len = (size_t)(end - (io->buf + io->start)) + 4;
			char *head = malloc(len + 1);

			if (head == NULL) {
				return NULL;
			}
			memcpy(head, io->buf + io->start, len);
			head[len] = '\0';
			io->start += len;
			return head;
		}
		if (!io_fill(io)) {
			return NULL;
		}
	}
}

/* Consumes n body bytes, counting them and summing them. */
static bool io_body(struct io *io, unsigned long long n, unsigned long long *count, uint32_t *sum)
{
	while (n > 0) {
		if (io->start == io->end && !io_fill(io)) {
			return false;
		}
		size_t take = io->end - io->start;
		if (take > n) {
			take = (size_t)n;
		}
		for (size_t i = 0; i < take; i++) {
			*sum += (unsigned char)io->buf[io->start + i];
		}
		io->start += take;
		*count += take;
		n -= take;
	}
	return true;
}

static bool io_chunked_body(struct io *io, unsigned long long *count, uint32_t *sum)
{
	char line[1024];

	for (;;) {
		char *end = NULL;

		if (!io_line(io, line, sizeof(line))) {
			return false;
		}
		errno = 0;
		unsigned long long size = strtoull(line, &end, 16);
		if (end == line || errno != 0 || (*end != '\0' && *end != ';')) {
			return false;
		}
		if (size == 0) {
			/* Trailer fields, up to the blank line. */
			do {
				if (!io_line(io, line, sizeof(line))) {
					return false;
				}
			} while (line[0] != '\0');
			return true;
		}
		if (!io_body(io, size, count, sum) || !io_line(io, line, sizeof(line)) ||
		    line[0] != '\0') {
			return false;
		}
	}
}

static bool eo_stopping(ph_eo *o)
{
	pthread_mutex_lock(&o->mu);
	bool stop = o->stop;
	pthread_mutex_unlock(&o->mu);
	return stop;
}

/* Sleeps ms milliseconds, waking early when the origin stops. */
static void eo_sleep(ph_eo *o, unsigned long long ms)
{
	uint64_t until = ph_now_ms() + ms;

	while (!eo_stopping(o) && ph_now_ms() < until) {
		usleep(5000);
	}
}

/* Sends size pattern bytes as the body, chunked or not; cut short when the origin stops. */
static bool io_pattern_body(struct io *io, ph_eo *o, unsigned long long size, bool chunked)
{
	unsigned long long sent = 0;

	while (sent < size && !eo_stopping(o)) {
		size_t n = size - sent < 65536 ? (size_t)(size - sent) : 65536;
		unsigned char buf[65536];

		ph_fill_pattern(buf, n, sent);
		if (chunked && !io_printf(io, "%zx\r\n", n)) {
			return false;
		}
		if (!io_write(io, buf, n) || (chunked && !io_write(io, "\r\n", 2))) {
			return false;
		}
		sent += n;
	}
	return !chunked || io_write(io, "0\r\n\r\n", 5);
}

static bool eo_send_big(struct io *io, ph_eo *o)
{
	unsigned long long size = o->opts.body_size;

	if (o->opts.chunked) {
		if (!io_printf(io,
			       "HTTP/1.1 200 OK\r\nX-Origin-Name: %s\r\nTransfer-Encoding: "
			       "chunked\r\n\r\n",
			       o->name)) {
			return false;
		}
	} else if (!io_printf(
		       io, "HTTP/1.1 200 OK\r\nX-Origin-Name: %s\r\nContent-Length: %llu\r\n\r\n",
		       o->name, size)) {
		return false;
	}
	return io_pattern_body(io, o, size, o->opts.chunked);
}

/* One request as the echo origin answers it. */
struct echo_req {
	/* The request head as received. */
	const char *head;
	unsigned conn_id;
	/* Requests on this connection, this one included. */
	unsigned conn_requests;
	/* Requests on the whole origin, this one included. */
	size_t origin_request;
	unsigned long long body_bytes;
	uint32_t body_sum;
};

/* What the request's X-Echo-* fields ask for. */
struct echo_controls {
	int status;
	/* X-Echo-Body-Size was given: body_size pattern bytes instead of the echo. */
	bool pattern_body;
	unsigned long long body_size;
	unsigned long long delay_ms;
	/* An X-Echo-Header sets Content-Type, so the default one is left out. */
	bool custom_type;
	/* The first malformed control as received, for the body of a 400; "" when none. */
	char bad[320];
};

static const char *reason_phrase(int status)
{
	static const struct {
		int status;
		const char *phrase;
	} phrases[] = {
	    {200, "OK"},
	    {201, "Created"},
	    {203, "Non-Authoritative Information"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {300, "Multiple Choices"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {400, "Bad Request"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {410, "Gone"},
	    {414, "URI Too Long"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	};

	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++) {
		if (phrases[i].status == status) {
			return phrases[i].phrase;
		}
	}
	return "Echo";
}

/* A decimal number of the whole string s, at most max. */
static bool parse_decimal(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end = NULL;

	if (*s < '0' || *s > '9') {
		return false;
	}
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return false;
	}
	*out = v;
	return true;
}

static bool name_is(const char *field, size_t len, const char *name)
{
	return len == strlen(name) && strncasecmp(field, name, len) == 0;
}

/*
 * Whether an X-Echo-Header value is a usable "Name: value": a name without
 * blanks, and not a framing field (the origin frames the body itself).
 */
static bool echo_header_ok(const char *field, bool *content_type)
{
	const char *colon = strchr(field, ':');
	size_t len = colon != NULL ? (size_t)(colon - field) : 0;

	if (len == 0 || strcspn(field, " \t") < len || name_is(field, len, "Content-Length") ||
	    name_is(field, len, "Transfer-Encoding")) {
		return false;
	}
	if (name_is(field, len, "Content-Type")) {
		*content_type = true;
	}
	return true;
}

static void echo_controls(const char *head, struct echo_controls *ec)
{
	char value[8192];
	unsigned long long n = 0;

	memset(ec, 0, sizeof(*ec));
	ec->status = 200;
	if (ph_head_field(head, "X-Echo-Status", 0, value, sizeof(value))) {
		if (!parse_decimal(value, 599, &n) || n < 200) {
			snprintf(ec->bad, sizeof(ec->bad), "X-Echo-Status: %.256s", value);
			return;
		}
		ec->status = (int)n;
	}
	if (ph_head_field(head, "X-Echo-Body-Size", 0, value, sizeof(value))) {
		if (!parse_decimal(value, ULLONG_MAX, &ec->body_size)) {
			snprintf(ec->bad, sizeof(ec->bad), "X-Echo-Body-Size: %.256s", value);
			return;
		}
		ec->pattern_body = true;
	}
	if (ph_head_field(head, "X-Echo-Delay-Ms", 0, value, sizeof(value)) &&
	    !parse_decimal(value, 600000, &ec->delay_ms)) {
		snprintf(ec->bad, sizeof(ec->bad), "X-Echo-Delay-Ms: %.256s", value);
		return;
	}
	for (size_t i = 0; ph_head_field(head, "X-Echo-Header", i, value, sizeof(value)); i++) {
		if (!echo_header_ok(value, &ec->custom_type)) {
			snprintf(ec->bad, sizeof(ec->bad), "X-Echo-Header: %.256s", value);
			return;
		}
	}
}

/* The PH_EO_ECHO response to q: see ph_eo_mode for what the X-Echo-* fields do. */
static bool eo_send_echo(struct io *io, ph_eo *o, const struct echo_req *q)
{
	struct echo_controls ec;
	char value[8192];
	char bad_body[400];
	char *head = NULL;
	size_t head_len = 0;
	const char *text = q->head;
	unsigned long long length = strlen(q->head);
	bool head_request = ph_starts_with(q->head, "HEAD ");
	bool pattern = false;
	int status;

	echo_controls(q->head, &ec);
	bool bad = ec.bad[0] != '\0';
	if (bad) {
		snprintf(bad_body, sizeof(bad_body), "bad %s\n", ec.bad);
		status = 400;
		text = bad_body;
		length = strlen(bad_body);
	} else {
		status = ec.status;
		pattern = ec.pattern_body;
		if (pattern) {
			length = ec.body_size;
		}
		eo_sleep(o, ec.delay_ms);
	}
	bool bodiless = status == 204 || status == 304;

	FILE *f = open_memstream(&head, &head_len);
	if (f == NULL) {
		return false;
	}
	fprintf(f, "HTTP/1.1 %d %s\r\n", status, reason_phrase(status));
	if (bad || !ec.custom_type) {
		fputs("Content-Type: text/plain\r\n", f);
	}
	fprintf(f,
		"X-Origin-Name: %s\r\nX-Conn-Id: %u\r\nX-Conn-Requests: %u\r\nX-Origin-Request: "
		"%zu\r\nX-Body-Bytes: %llu\r\nX-Body-Sum: %u\r\n",
		o->name, q->conn_id, q->conn_requests, q->origin_request, q->body_bytes,
		q->body_sum);
	for (size_t i = 0; !bad && ph_head_field(q->head, "X-Echo-Header", i, value, sizeof(value));
	     i++) {
		fprintf(f, "%s\r\n", value);
	}
	if (!bodiless) {
		fprintf(f, "Content-Length: %llu\r\n", length);
	}
	fputs("\r\n", f);
	if (fclose(f) != 0) {
		free(head);
		return false;
	}
	bool ok = io_write(io, head, head_len);
	free(head);
	if (!ok || head_request || bodiless) {
		return ok;
	}
	return pattern ? io_pattern_body(io, o, length, false) : io_write(io, text, (size_t)length);
}

/* One origin connection: TLS handshake when configured, then requests until EOF. */
static void *eo_conn_main(void *arg)
{
	eo_conn *c = arg;
	ph_eo *o = c->origin;
	struct io *io = calloc(1, sizeof(*io));
	unsigned served = 0;

	if (io == NULL) {
		goto done;
	}
	io->origin = o;
	io->fd = c->fd;
	if (o->opts.mode == PH_EO_TARPIT) {
		/* Swallows whatever comes (a ClientHello) and never answers. */
		while (io_fill(io)) {
			io->start = io->end;
		}
		goto done;
	}
	if (o->opts.n_chain > 0) {
		int rc;

		if (gnutls_init(&io->tls, GNUTLS_SERVER | GNUTLS_NO_SIGNAL) < 0) {
			io->tls = NULL;
			goto done;
		}
		gnutls_session_set_ptr(io->tls, o);
		if (gnutls_set_default_priority(io->tls) < 0 ||
		    gnutls_credentials_set(io->tls, GNUTLS_CRD_CERTIFICATE, o->cred) < 0) {
			goto done;
		}
		gnutls_transport_set_int(io->tls, c->fd);
		do {
			rc = gnutls_handshake(io->tls);
		} while (rc == GNUTLS_E_INTERRUPTED || rc == GNUTLS_E_AGAIN);
		if (rc < 0) {
			goto done;
		}
		char sni[256];
		size_t sni_len = sizeof(sni);
		unsigned type = 0;
		pthread_mutex_lock(&o->mu);
		o->handshakes++;
		if (gnutls_server_name_get(io->tls, sni, &sni_len, &type, 0) == 0) {
			snprintf(o->sni, sizeof(o->sni), "%s", sni);
		} else {
			o->sni[0] = '\0';
		}
		pthread_mutex_unlock(&o->mu);
	}
	for (;;) {
		char value[256];
		unsigned long long count = 0;
		uint32_t sum = 0;
		bool ok = true;
		char *head = io_head(io);

		if (head == NULL) {
			break;
		}
		served++;
		pthread_mutex_lock(&o->mu);
		size_t nth = ++o->requests;
		if (nth == 1) {
			snprintf(o->first_head, sizeof(o->first_head), "%s", head);
		}
		pthread_mutex_unlock(&o->mu);
		if (ph_head_field(head, "Transfer-Encoding", 0, value, sizeof(value)) &&
		    strcasecmp(value, "chunked") == 0) {
			ok = io_chunked_body(io, &count, &sum);
		} else if (ph_head_field(head, "Content-Length", 0, value, sizeof(value))) {
			ok = io_body(io, strtoull(value, NULL, 10), &count, &sum);
		}
		if (!ok) {
			free(head);
			break;
		}
		switch (o->opts.mode) {
		case PH_EO_ECHO: {
			struct echo_req q = {
			    .head = head,
			    .conn_id = c->id,
			    .conn_requests = served,
			    .origin_request = nth,
			    .body_bytes = count,
			    .body_sum = sum,
			};

			ok = eo_send_echo(io, o, &q);
			break;
		}
		case PH_EO_STALL:
			/* Waits for the peer (or the test) to close. */
			while (io_fill(io)) {
				io->start = io->end;
			}
			ok = false;
			break;
		case PH_EO_BIG:
			ok = eo_send_big(io, o);
			break;
		case PH_EO_TRUNCATE:
			if (o->opts.chunked) {
				io_printf(io, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
					      "chunked\r\n\r\na\r\n0123456789\r\n");
			} else {
				io_printf(
				    io,
				    "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
			}
			ok = false;
			break;
		case PH_EO_TARPIT:
			ok = false;
			break;
		}
		free(head);
		if (!ok) {
			break;
		}
	}
done:
	if (io != NULL && io->tls != NULL) {
		gnutls_deinit(io->tls);
	}
	free(io);
	/* The descriptor is closed by eo_stop, after every thread is joined. */
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

static void *eo_accept_main(void *arg)
{
	ph_eo *o = arg;

	for (;;) {
		int fd = accept4(o->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				continue;
			}
			break;
		}
		pthread_mutex_lock(&o->mu);
		eo_conn *c = o->stop ? NULL : calloc(1, sizeof(*c));
		if (c == NULL) {
			pthread_mutex_unlock(&o->mu);
			close(fd);
			continue;
		}
		c->origin = o;
		c->fd = fd;
		c->id = (unsigned)++o->connections;
		if (pthread_create(&c->thread, NULL, eo_conn_main, c) != 0) {
			close(fd);
			free(c);
		} else {
			c->next = o->conns;
			o->conns = c;
		}
		pthread_mutex_unlock(&o->mu);
	}
	return NULL;
}

int ph_listen_socket(unsigned *port, int backlog)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

ph_eo *ph_eo_start(const ph_eo_opts *opts)
{
	ph_eo *o = calloc(1, sizeof(*o));

	assert_non_null(o);
	o->opts = *opts;
	snprintf(o->name, sizeof(o->name), "%s", opts->name != NULL ? opts->name : "echo");
	pthread_mutex_init(&o->mu, NULL);
	if (opts->n_chain > 0) {
		assert_true(opts->n_chain <= 8);
		for (size_t i = 0; i < opts->n_chain; i++) {
			assert_int_equal(gnutls_pcert_import_x509_raw(
					     &o->pcerts[i], oa_pki_cert_der(opts->chain[i]),
					     GNUTLS_X509_FMT_DER, 0),
					 0);
			o->n_pcerts++;
		}
		assert_int_equal(gnutls_privkey_init(&o->key), 0);
		assert_int_equal(gnutls_privkey_import_x509_raw(o->key,
								oa_pki_key_pem(opts->chain[0]),
								GNUTLS_X509_FMT_PEM, NULL, 0),
				 0);
		assert_int_equal(gnutls_certificate_allocate_credentials(&o->cred), 0);
		gnutls_certificate_set_retrieve_function2(o->cred, eo_retrieve);
		/* The caller's array may not outlive this call: the copies above are what is
		 * served. */
		o->opts.chain = NULL;
	}
	o->lfd = ph_listen_socket(&o->port, 128);
	assert_int_equal(pthread_create(&o->thread, NULL, eo_accept_main, o), 0);
	return o;
}

/* Stops accepting, ends every connection, joins every thread and frees o; accepts NULL. */
void ph_eo_stop(ph_eo *o)
{
	if (o == NULL) {
		return;
	}
	pthread_mutex_lock(&o->mu);
	o->stop = true;
	shutdown(o->lfd, SHUT_RDWR);
	for (eo_conn *c = o->conns; c != NULL; c = c->next) {
		shutdown(c->fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&o->mu);
	pthread_join(o->thread, NULL);
	close(o->lfd);
	while (o->conns != NULL) {
		eo_conn *c = o->conns;

		o->conns = c->next;
		pthread_join(c->thread, NULL);
		close(c->fd);
		free(c);
	}
	for (unsigned i = 0; i < o->n_pcerts; i++) {
		gnutls_pcert_deinit(&o->pcerts[i]);
	}
	if (o->key != NULL) {
		gnutls_privkey_deinit(o->key);
	}
	if (o->cred != NULL) {
		gnutls_certificate_free_credentials(o->cred);
	}
	pthread_mutex_destroy(&o->mu);
	free(o);
}

struct ph_eo_counts ph_eo_counts(ph_eo *o)
{
	struct ph_eo_counts n;

	pthread_mutex_lock(&o->mu);
	n.connections = o->connections;
	n.handshakes = o->handshakes;
	n.requests = o->requests;
	n.app_bytes = o->app_bytes;
	pthread_mutex_unlock(&o->mu);
	return n;
}

/* The first request head the origin received (a copy in a static buffer). */
const char *ph_eo_first_head(ph_eo *o)
{
	static char head[sizeof(o->first_head)];

	pthread_mutex_lock(&o->mu);
	memcpy(head, o->first_head, sizeof(head));
	pthread_mutex_unlock(&o->mu);
	return head;
}

void ph_eo_reset(ph_eo *o)
{
	pthread_mutex_lock(&o->mu);
	o->connections = 0;
	o->handshakes = 0;
	o->requests = 0;
	o->app_bytes = 0;
	o->first_head[0] = '\0';
	o->sni[0] = '\0';
	pthread_mutex_unlock(&o->mu);
}

unsigned ph_eo_port(const ph_eo *o)
{
	return o->port;
}

void ph_eo_sni(ph_eo *o, char *out, size_t size)
{
	pthread_mutex_lock(&o->mu);
	snprintf(out, size, "%s", o->sni);
	pthread_mutex_unlock(&o->mu);
}

/* Waits up to timeout_ms for the origin to have accepted at least n connections. */
size_t ph_eo_wait_connections(ph_eo *o, size_t n, int timeout_ms)
{
	uint64_t until = ph_now_ms() + (uint64_t)timeout_ms;

	while (ph_eo_counts(o).connections < n && ph_now_ms() < until) {
		usleep(10000);
	}
	return ph_eo_counts(o).connections;
}

/* ---- the viewer: a blocking client over TCP or TLS ---- */

static void set_timeout(int fd, int which, int timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	assert_int_equal(setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv)), 0);
}

static int tcp_connect(unsigned port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	set_timeout(fd, SO_RCVTIMEO, 30000);
	set_timeout(fd, SO_SNDTIMEO, 30000);
	return fd;
}

/* Connections still open, closed at teardown when an assertion skipped vc_close. */
static ph_vc *open_vcs[16];

/* Opens a viewer connection; TLS verifies nothing (the test looks at what the proxy does). */
ph_vc *ph_vc_open(unsigned port, bool tls)
{
	ph_vc *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	for (size_t i = 0; i < sizeof(open_vcs) / sizeof(open_vcs[0]); i++) {
		if (open_vcs[i] == NULL) {
			open_vcs[i] = c;
			break;
		}
	}
	c->fd = tcp_connect(port);
	if (tls) {
		int rc;

		assert_int_equal(gnutls_certificate_allocate_credentials(&c->cred), 0);
		assert_int_equal(gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL), 0);
		assert_int_equal(gnutls_set_default_priority(c->tls), 0);
		assert_int_equal(gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred),
				 0);
		assert_int_equal(
		    gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, PH_WWW, strlen(PH_WWW)), 0);
		gnutls_transport_set_int(c->tls, c->fd);
		do {
			rc = gnutls_handshake(c->tls);
		} while (rc == GNUTLS_E_INTERRUPTED);
		if (rc < 0) {
			fail_msg("TLS handshake with the proxy: %s", gnutls_strerror(rc));
		}
	}
	return c;
}

void ph_vc_close(ph_vc *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < sizeof(open_vcs) / sizeof(open_vcs[0]); i++) {
		if (open_vcs[i] == c) {
			open_vcs[i] = NULL;
		}
	}
	if (c->tls != NULL) {
		gnutls_deinit(c->tls);
	}
	if (c->cred != NULL) {
		gnutls_certificate_free_credentials(c->cred);
	}
	close(c->fd);
	free(c);
}

void ph_vc_send(ph_vc *c, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n;

		if (c->tls != NULL) {
			n = gnutls_record_send(c->tls, p, len);
			if (n == GNUTLS_E_INTERRUPTED) {
				continue;
			}
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR) {
				continue;
			}
		}
		if (n <= 0) {
			fail_msg("sending to the proxy failed after %zu bytes left: %s", len,
				 c->tls != NULL ? gnutls_strerror((int)n) : strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

void ph_vc_sends(ph_vc *c, const char *s)
{
	ph_vc_send(c, s, strlen(s));
}

/* Reads more; > 0 bytes, 0 at EOF, < 0 on an error or the receive timeout. */
static ssize_t vc_fill(ph_vc *c)
{
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->buf)) {
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (c->tls != NULL) {
			n = gnutls_record_recv(c->tls, c->buf + c->end, sizeof(c->buf) - c->end);
			if (n == GNUTLS_E_INTERRUPTED) {
				continue;
			}
			/* A peer that closes without close_notify has ended the stream too. */
			if (n == GNUTLS_E_PREMATURE_TERMINATION) {
				n = 0;
			}
			n = n < 0 ? -1 : n;
		} else {
			n = recv(c->fd, c->buf + c->end, sizeof(c->buf) - c->end, 0);
			if (n < 0 && errno == EINTR) {
				continue;
			}
		}
		if (n > 0) {
			c->end += (size_t)n;
		}
		return n;
	}
}

/* Whether the proxy closes the connection (EOF or reset) within timeout_ms, with no more bytes. */
bool ph_vc_closed_by_peer(ph_vc *c, int timeout_ms)
{
	set_timeout(c->fd, SO_RCVTIMEO, timeout_ms);
	ssize_t n = c->start < c->end ? 1 : vc_fill(c);
	set_timeout(c->fd, SO_RCVTIMEO, 30000);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && c->tls == NULL);
}

/* Whether no byte arrives within timeout_ms (the connection may end or stay open). */
bool ph_vc_no_more_bytes(ph_vc *c, int timeout_ms)
{
	if (c->start < c->end) {
		return false;
	}
	set_timeout(c->fd, SO_RCVTIMEO, timeout_ms);
	ssize_t n = vc_fill(c);
	set_timeout(c->fd, SO_RCVTIMEO, 30000);
	return n <= 0;
}

void ph_resp_free(ph_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void resp_take(ph_resp *r, ph_vc *c, size_t n, bool discard, size_t *cap)
{
	const unsigned char *p = (const unsigned char *)c->buf + c->start;

	if (discard) {
		for (size_t i = 0; i < n; i++) {
			if (p[i] != ph_pattern_byte(r->counted + i)) {
				r->pattern_ok = false;
			}
		}
		r->counted += n;
	} else {
		if (r->body_len + n + 1 > *cap) {
			*cap = (r->body_len + n + 1) * 2;
			r->body = realloc(r->body, *cap);
			assert_non_null(r->body);
		}
		memcpy(r->body + r->body_len, p, n);
		r->body_len += n;
		r->body[r->body_len] = '\0';
	}
	c->start += n;
}

/* Reads one CRLF line of a chunked body; false at EOF. */
static bool vc_line(ph_vc *c, char *out, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (c->buf + c->start));

			assert_true(len < size);
			memcpy(out, c->buf + c->start, len);
			if (len > 0 && out[len - 1] == '\r') {
				len--;
			}
			out[len] = '\0';
			c->start += (size_t)(nl - (c->buf + c->start)) + 1;
			return true;
		}
		if (vc_fill(c) <= 0) {
			return false;
		}
	}
}

/* Reads n body bytes; false when the connection ends first. */
static bool vc_body(ph_vc *c, ph_resp *r, unsigned long long n, bool discard, size_t *cap)
{
	while (n > 0) {
		if (c->start == c->end && vc_fill(c) <= 0) {
			return false;
		}
		size_t take = c->end - c->start;
		if (take > n) {
			take = (size_t)n;
		}
		resp_take(r, c, take, discard, cap);
		n -= take;
	}
	return true;
}

/*
 * Reads one response: 0 with r filled (r->complete false when the body was cut
 * short), -1 when the connection ended before a whole head.
 */
int ph_vc_response(ph_vc *c, bool head_request, bool discard, ph_resp *r)
{
	char value[64];
	size_t cap = 0;

	ph_resp_free(r);
	r->pattern_ok = true;
	for (;;) {
		size_t have = c->end - c->start;
		char *end = have >= 4 ? memmem(c->buf + c->start, have, "\r\n\r\n", 4) : NULL;

		if (end != NULL) {
			size_t len = (size_t)(end - (c->buf + c->start)) + 4;

			r->head = strndup(c->buf + c->start, len);
			assert_non_null(r->head);
			c->start += len;
			break;
		}
		if (vc_fill(c) <= 0) {
			return -1;
		}
	}
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1) {
		fail_msg("not an HTTP response:\n%s", r->head);
	}
	r->body = calloc(1, 1);
	assert_non_null(r->body);
	cap = 1;
	if (head_request || r->status == 204 || r->status == 304 || r->status < 200) {
		r->complete = true;
		return 0;
	}
	if (ph_head_field(r->head, "Transfer-Encoding", 0, value, sizeof(value))) {
		char line[256];

		assert_string_equal(value, "chunked");
		r->chunked = true;
		for (;;) {
			char *e = NULL;

			if (!vc_line(c, line, sizeof(line))) {
				return 0;
			}
			unsigned long long size = strtoull(line, &e, 16);
			assert_true(e != line);
			if (size == 0) {
				r->saw_last_chunk = true;
				do {
					if (!vc_line(c, line, sizeof(line))) {
						return 0;
					}
				} while (line[0] != '\0');
				r->complete = true;
				return 0;
			}
			if (!vc_body(c, r, size, discard, &cap) ||
			    !vc_line(c, line, sizeof(line))) {
				return 0;
			}
			assert_string_equal(line, "");
		}
	}
	if (ph_head_field(r->head, "Content-Length", 0, value, sizeof(value))) {
		r->complete = vc_body(c, r, strtoull(value, NULL, 10), discard, &cap);
		return 0;
	}
	/* Delimited by the end of the connection. */
	while (vc_fill(c) > 0) {
		resp_take(r, c, c->end - c->start, discard, &cap);
	}
	resp_take(r, c, c->end - c->start, discard, &cap);
	r->complete = true;
	return 0;
}

/* Sends req on a new connection and reads the response; asserts that one came. */
void ph_exchange(unsigned port, bool tls, const char *req, bool head_request, ph_resp *r)
{
	ph_vc *c = ph_vc_open(port, tls);

	ph_vc_sends(c, req);
	if (ph_vc_response(c, head_request, false, r) < 0) {
		ph_vc_close(c);
		fail_msg("no response to:\n%s", req);
	}
	ph_vc_close(c);
}

void ph_expect_status(const ph_resp *r, int status)
{
	if (r->status != status) {
		fail_msg("status %d, want %d; response:\n%s%s", r->status, status, r->head,
			 r->body != NULL ? r->body : "");
	}
}

/* The request line and Host of a simple GET. */
char *ph_get_request(const char *target, const char *host)
{
	char *req = NULL;

	assert_true(asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, host) > 0);
	return req;
}

void ph_http_request(unsigned port, const char *method, const char *target, ph_resp *r)
{
	char *req = NULL;

	assert_true(asprintf(&req,
			     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n\r\n",
			     method, target, port) > 0);
	ph_exchange(port, false, req, strcmp(method, "HEAD") == 0, r);
	free(req);
}

void ph_http_get(unsigned port, const char *target, ph_resp *r)
{
	ph_http_request(port, "GET", target, r);
}

/* ---- the test environment ---- */

int ph_setup(void **state)
{
	ph_env *e = calloc(1, sizeof(*e));
	static const char *const viewer_names[] = {PH_WWW};
	oa_pki_spec spec;

	assert_non_null(e);
	e->proxy_bin = getenv("ORIGINAUDIT_PROXY");
	assert_non_null(e->proxy_bin);
	e->dir = fx_tempdir();
	fx_pki_make(&e->pki);
	e->bundle = fx_bundle_file(e->dir, "roots.pem", e->pki.root);
	oa_pki_spec_init(&spec, PH_WWW, 90);
	spec.dns_names = viewer_names;
	spec.n_dns_names = 1;
	e->viewer = fx_issue(&spec, e->pki.root);
	e->viewer_cert =
	    fx_chain_file(e->dir, "viewer.pem", (const oa_pki_cert *const *)&e->viewer, 1);
	e->viewer_key = fx_key_file(e->dir, "viewer.key", e->viewer);
	e->openssl = fx_find_tool("openssl");
	*state = e;
	return 0;
}

/* The whole file at path, malloc'd and NUL-terminated ("" when it cannot be read). */
char *ph_slurp(const char *path)
{
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	size_t len = 0;
	size_t cap = 4096;
	char *text = malloc(cap);

	assert_non_null(text);
	while (f != NULL) {
		size_t n = fread(text + len, 1, cap - len - 1, f);

		len += n;
		if (n == 0) {
			break;
		}
		if (cap - len - 1 == 0) {
			cap *= 2;
			text = realloc(text, cap);
			assert_non_null(text);
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	text[len] = '\0';
	return text;
}

void ph_print_log(const ph_env *e)
{
	if (e->log != NULL) {
		char *text = ph_slurp(e->log);

		fprintf(stderr, "---- proxy log (%s) ----\n%s---- end of proxy log ----\n", e->log,
			text);
		free(text);
	}
}

int ph_teardown(void **state)
{
	ph_env *e = *state;

	if (!e->finished) {
		ph_print_log(e);
	}
	fx_kill(e->proxy_pid);
	/* Workers that outlived a supervisor already reaped (ph_finish fails the test then). */
	if (e->proxy_pid <= 0 && e->proxy_pgid > 0) {
		kill(-e->proxy_pgid, SIGKILL);
	}
	fx_kill(e->s_server_pid);
	for (size_t i = 0; i < sizeof(open_vcs) / sizeof(open_vcs[0]); i++) {
		ph_vc_close(open_vcs[i]);
	}
	ph_resp_free(&e->resp);
	free(e->out);
	free(e->err);
	for (size_t i = 0; i < e->n_stuck; i++) {
		close(e->stuck[i]);
	}
	for (size_t i = 0; i < e->n_origins; i++) {
		ph_eo_stop(e->origins[i]);
	}
	for (size_t i = 0; i < e->n_certs; i++) {
		oa_pki_cert_destroy(e->certs[i]);
	}
	oa_pki_cert_destroy(e->viewer);
	free(e->viewer_cert);
	free(e->viewer_key);
	free(e->bundle);
	free(e->config);
	free(e->log);
	free(e->out_log);
	free(e->openssl);
	fx_pki_free(&e->pki);
	fx_tempdir_remove(e->dir);
	free(e);
	return 0;
}

/* A certificate freed at teardown. */
const oa_pki_cert *ph_keep(ph_env *e, oa_pki_cert *cert)
{
	assert_true(e->n_certs < PH_MAX_CERTS);
	e->certs[e->n_certs++] = cert;
	return cert;
}

/* A leaf spec for dns[0] (its CN and only SAN), valid from a day ago for 90 days. */
oa_pki_spec ph_leaf_spec(const char *const *dns)
{
	oa_pki_spec spec;

	oa_pki_spec_init(&spec, dns[0], 90);
	spec.dns_names = dns;
	spec.n_dns_names = 1;
	return spec;
}

ph_eo *ph_origin(ph_env *e, const ph_eo_opts *opts)
{
	assert_true(e->n_origins < PH_MAX_ORIGINS);
	ph_eo *o = ph_eo_start(opts);
	e->origins[e->n_origins++] = o;
	return o;
}

/* An echo origin over TLS serving chain in this order. */
ph_eo *ph_tls_origin(ph_env *e, const char *name, const oa_pki_cert *const *chain, size_t n)
{
	ph_eo_opts o = {.mode = PH_EO_ECHO, .name = name, .chain = chain, .n_chain = n};

	return ph_origin(e, &o);
}

/* An echo origin over TLS with the good chain (leaf for origin and www, intermediate). */
ph_eo *ph_good_origin(ph_env *e, const char *name)
{
	const oa_pki_cert *chain[] = {e->pki.leaf, e->pki.inter};

	return ph_tls_origin(e, name, chain, 2);
}

ph_eo *ph_plain_origin(ph_env *e, const char *name, ph_eo_mode mode)
{
	ph_eo_opts o = {.mode = mode, .name = name};

	return ph_origin(e, &o);
}

/*
 * A listener whose accept queue is full: the kernel drops further SYNs, so a
 * connection attempt to it times out at the TCP level.
 */
unsigned ph_stuck_listener(ph_env *e)
{
	struct sockaddr_in sin;
	unsigned port;

	e->stuck[e->n_stuck++] = ph_listen_socket(&port, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 4; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		assert_true(fd >= 0);
		e->stuck[e->n_stuck++] = fd;
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100000);
	/* One more does not get through: the queue is full. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	struct pollfd pfd = {fd, POLLOUT, 0};
	assert_int_equal(poll(&pfd, 1, 300), 0);
	close(fd);
	return port;
}

/* ---- configuration ---- */

/*
 * {"id", "domain_name": PH_HOST, "addresses": ["127.0.0.1"], ports, policy} with
 * one connection attempt; a port of 0 is left out.
 */
json_t *ph_origin_json(const char *id, unsigned https_port, unsigned http_port, const char *policy)
{
	json_t *o = json_pack("{s:s, s:s, s:[s], s:s, s:i, s:i}", "id", id, "domain_name", PH_HOST,
			      "addresses", "127.0.0.1", "protocol_policy", policy,
			      "connection_attempts", 1, "connection_timeout_s", 5);

	assert_non_null(o);
	if (https_port != 0) {
		json_object_set_new(o, "https_port", json_integer(https_port));
	}
	if (http_port != 0) {
		json_object_set_new(o, "http_port", json_integer(http_port));
	}
	return o;
}

json_t *ph_timing_origin(unsigned https_port, unsigned http_port, const char *policy, int connect_s,
			 int attempts, int read_s)
{
	json_t *o = ph_origin_json("o", https_port, http_port, policy);

	json_object_set_new(o, "connection_timeout_s", json_integer(connect_s));
	json_object_set_new(o, "connection_attempts", json_integer(attempts));
	json_object_set_new(o, "read_timeout_s", json_integer(read_s));
	return o;
}

json_t *ph_behavior(const char *pattern, const char *origin_id, const char *viewer_policy)
{
	json_t *b = json_pack("{s:s, s:s, s:s}", "path_pattern", pattern, "origin", origin_id,
			      "viewer_protocol_policy", viewer_policy);

	assert_non_null(b);
	return b;
}

/*
 * The proxy block: a plain listener, a TLS one when tls, the test root as the
 * only CA. A reload does not change listeners, so while a proxy runs the
 * block keeps its ports: it can go into a rewritten config as it is.
 */
json_t *ph_proxy_block(ph_env *e, bool tls, bool debug, const char *x_cache_name)
{
	json_t *listen = json_array();

	if (e->proxy_pid <= 0) {
		e->port = fx_free_port("127.0.0.1");
		e->tls_port = 0;
	}
	json_array_append_new(
	    listen, json_pack("{s:s, s:i}", "address", "127.0.0.1", "port", (int)e->port));
	if (tls) {
		while (e->tls_port == 0 || e->tls_port == e->port) {
			e->tls_port = fx_free_port("127.0.0.1");
		}
		json_array_append_new(listen,
				      json_pack("{s:s, s:i, s:{s:s, s:s}}", "address", "127.0.0.1",
						"port", (int)e->tls_port, "tls", "certificate",
						e->viewer_cert, "key", e->viewer_key));
	}
	/*
	 * One worker: ph_serving_pid then knows which process forwards (the
	 * streaming tests bound its memory), and per-worker state such as the
	 * cache is a single one.
	 */
	json_t *p = json_pack("{s:o, s:s, s:b, s:i}", "listen", listen, "ca_bundle", e->bundle,
			      "debug_headers", debug, "workers", 1);
	assert_non_null(p);
	if (x_cache_name != NULL) {
		json_object_set_new(p, "x_cache_name", json_string(x_cache_name));
	}
	return p;
}

/* A configuration of origins (array, stolen), behaviours (array or NULL, stolen), a default. */
json_t *ph_config(json_t *origins, json_t *behaviors, const char *default_origin,
		  const char *default_policy, json_t *proxy)
{
	/*
	 * The audit at start probes tarpits too, and ph_start_proxy waits for it:
	 * 1 s scan timeouts (loopback needs far less) keep that wait short.
	 */
	json_t *doc = json_pack("{s:o, s:{s:s, s:s}, s:o, s:{s:i, s:i}}", "origins", origins,
				"default_behavior", "origin", default_origin,
				"viewer_protocol_policy", default_policy, "proxy", proxy, "scan",
				"connect_timeout_ms", 1000, "handshake_timeout_ms", 1000);

	assert_non_null(doc);
	if (behaviors != NULL) {
		json_object_set_new(doc, "behaviors", behaviors);
	}
	return doc;
}

json_t *ph_listener_of(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(json_object_get(doc, "proxy"), "listen"), i);
}

char *ph_write_config(ph_env *e, json_t *doc)
{
	char name[32];

	snprintf(name, sizeof(name), "config-%u.json", ++e->n_configs);
	char *path = fx_path(e->dir, name);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(2)), 0);
	json_decref(doc);
	return path;
}

/*
 * The proxy may read the file at any moment (a SIGHUP sent just before), so
 * it must never see a half-written one: the new text goes to a temporary file
 * in the same directory, renamed over the old one.
 */
void ph_rewrite_config_text(ph_env *e, const char *text)
{
	char *tmp = NULL;

	assert_non_null(e->config);
	assert_true(asprintf(&tmp, "%s.tmp", e->config) > 0);
	fx_write(tmp, text, strlen(text));
	if (rename(tmp, e->config) != 0) {
		fail_msg("rename %s to %s: %s", tmp, e->config, strerror(errno));
	}
	free(tmp);
}

void ph_rewrite_config(ph_env *e, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2));

	assert_non_null(text);
	json_decref(doc);
	ph_rewrite_config_text(e, text);
	free(text);
}

/* ---- the proxy ---- */

void ph_start_proxy(ph_env *e, json_t *doc)
{
	char name[32];

	assert_true(e->proxy_pid <= 0);
	free(e->config);
	e->config = ph_write_config(e, doc);
	snprintf(name, sizeof(name), "proxy-%u.log", e->n_configs);
	free(e->log);
	e->log = fx_path(e->dir, name);
	snprintf(name, sizeof(name), "proxy-%u.out", e->n_configs);
	free(e->out_log);
	e->out_log = fx_path(e->dir, name);
	/*
	 * The shell only redirects stderr ($0) and stdout ($1): exec keeps the
	 * pid, so signals and VmHWM reach the proxy itself. For the memory bound,
	 * a sanitized proxy gets a small ASan quarantine: the default one keeps
	 * 256 MB of freed blocks resident.
	 */
	static const char quarantine_script[] =
	    "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=2\"; "
	    "export ASAN_OPTIONS; out=\"$1\"; shift; exec \"$@\" 2>\"$0\" >\"$out\"";
	static const char plain_script[] = "out=\"$1\"; shift; exec \"$@\" 2>\"$0\" >\"$out\"";
	char *argv[] = {"/bin/sh",
			"-c",
			(char *)(e->small_quarantine ? quarantine_script : plain_script),
			e->log,
			e->out_log,
			(char *)e->proxy_bin,
			"--config",
			e->config,
			"--header-timeout-ms",
			"500",
			NULL};
	e->proxy_pid = fx_spawn(argv);
	/* fx_spawn makes the child a process group leader: the group holds the workers too. */
	e->proxy_pgid = e->proxy_pid;
	e->proxy_reaped = false;
	e->proxy_status = 0;
	if (!fx_wait_listening("127.0.0.1", e->port, 10000) ||
	    (e->tls_port != 0 && !fx_wait_listening("127.0.0.1", e->tls_port, 10000))) {
		fail_msg("the proxy is not listening on port %u/%u", e->port, e->tls_port);
	}
	/*
	 * The audit at start probes every origin too. The tests count what the
	 * proxy's forwarding did to an origin, so the counting starts once that
	 * audit is over.
	 */
	if (ph_wait_audit(e, 0, PH_AUDIT_TIMEOUT_MS) < 0) {
		fail_msg("the proxy logged no end of its start audit within %d ms",
			 PH_AUDIT_TIMEOUT_MS);
	}
	for (size_t i = 0; i < e->n_origins; i++) {
		ph_eo_reset(e->origins[i]);
	}
}

void ph_signal(ph_env *e, int sig)
{
	if (e->proxy_pid <= 0) {
		fail_msg("signal %d: no proxy is running", sig);
	}
	assert_int_equal(kill(e->proxy_pid, sig), 0);
}

bool ph_wait_exit(ph_env *e, int timeout_ms)
{
	uint64_t until = ph_now_ms() + (uint64_t)timeout_ms;
	int status = 0;

	assert_true(e->proxy_pid > 0);
	for (;;) {
		pid_t got = waitpid(e->proxy_pid, &status, WNOHANG);

		if (got == e->proxy_pid) {
			break;
		}
		if (got < 0 && errno != EINTR) {
			fail_msg("waitpid %d: %s", e->proxy_pid, strerror(errno));
		}
		if (ph_now_ms() > until) {
			return false;
		}
		usleep(20000);
	}
	e->proxy_pid = 0;
	e->proxy_status = status;
	e->proxy_reaped = true;
	return true;
}

/* The parent pid in /proc/pid/stat: the field after the state, after the last ')'. */
static int parent_of(int pid)
{
	char path[64];
	char buf[1024];
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1) {
		return -1;
	}
	return ppid;
}

/*
 * Workers are the proxy's children (it re-executes itself for each); a proxy
 * without any serves viewers itself.
 */
int ph_serving_pid(const ph_env *e)
{
	DIR *proc = opendir("/proc");
	struct dirent *d;
	int child = 0;
	size_t children = 0;

	assert_true(e->proxy_pid > 0);
	assert_non_null(proc);
	while ((d = readdir(proc)) != NULL) {
		int pid = atoi(d->d_name);

		if (pid > 0 && parent_of(pid) == e->proxy_pid) {
			child = pid;
			children++;
		}
	}
	closedir(proc);
	if (children > 1) {
		fail_msg("the proxy has %zu child processes; one worker was expected", children);
	}
	return children == 1 ? child : e->proxy_pid;
}

char *ph_read_log(const ph_env *e)
{
	return ph_slurp(e->log);
}

/* Polls the log for the earliest of needles at or after from: the offset past it, -1 on timeout. */
static long wait_log_any(const ph_env *e, size_t from, const char *const *needles, size_t n,
			 int timeout_ms)
{
	uint64_t until = ph_now_ms() + (uint64_t)timeout_ms;

	assert_non_null(e->log);
	for (;;) {
		char *log = ph_read_log(e);
		long end = -1;

		for (size_t i = 0; i < n && strlen(log) > from; i++) {
			const char *hit = strstr(log + from, needles[i]);
			long at = hit != NULL ? (long)(hit - log) + (long)strlen(needles[i]) : -1;

			if (at >= 0 && (end < 0 || at < end)) {
				end = at;
			}
		}
		free(log);
		if (end >= 0 || ph_now_ms() > until) {
			return end;
		}
		usleep(20000);
	}
}

long ph_wait_log(const ph_env *e, size_t from, const char *needle, int timeout_ms)
{
	return wait_log_any(e, from, &needle, 1, timeout_ms);
}

long ph_wait_audit(const ph_env *e, size_t from, int timeout_ms)
{
	/* What the supervisor logs when an audit ends (proxy/audit.c). */
	static const char *const ends[] = {"audit: ", "audit failed", "audit could not start"};

	return wait_log_any(e, from, ends, sizeof(ends) / sizeof(ends[0]), timeout_ms);
}

/* The log line of the request whose target is target (the first one). */
void ph_expect_log_line(const ph_env *e, const char *target, const char *const *want, size_t n)
{
	char *log = ph_read_log(e);
	char needle[128];
	char *line;
	char *end;

	snprintf(needle, sizeof(needle), " %s -> ", target);
	line = strstr(log, needle);
	if (line == NULL) {
		fprintf(stderr, "%s", log);
		free(log);
		fail_msg("no log line for %s", target);
	}
	end = strchr(line, '\n');
	if (end != NULL) {
		*end = '\0';
	}
	for (size_t i = 0; i < n; i++) {
		if (strstr(line, want[i]) == NULL) {
			char copy[512];

			snprintf(copy, sizeof(copy), "%s", line);
			free(log);
			fail_msg("the log line \"%s\" lacks \"%s\"", copy, want[i]);
		}
	}
	free(log);
}

/*
 * A clean exit is status 0; under the sanitizers that also means no leak and
 * no error, and a report in the log fails the test too.
 */
void ph_finish(ph_env *e)
{
	if (e->proxy_pid > 0) {
		ph_signal(e, SIGTERM);
		if (!ph_wait_exit(e, 15000)) {
			fail_msg("the proxy did not exit within 15 s of SIGTERM");
		}
	}
	if (e->proxy_reaped) {
		int status = e->proxy_status;
		char *log = ph_read_log(e);

		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    strstr(log, "Sanitizer") != NULL || strstr(log, "runtime error") != NULL) {
			fprintf(stderr, "%s", log);
			free(log);
			fail_msg("the proxy did not exit cleanly on SIGTERM (status 0x%x)", status);
		}
		free(log);
		/* The supervisor exits only after its workers: none may be left in its group. */
		if (kill(-e->proxy_pgid, 0) == 0) {
			kill(-e->proxy_pgid, SIGKILL);
			fail_msg("a process of the proxy outlived it (process group %d)",
				 e->proxy_pgid);
		}
		e->proxy_pgid = 0;
	}
	e->finished = true;
}

void ph_get(ph_env *e, bool tls, const char *target, ph_resp *r)
{
	char *req = ph_get_request(target, PH_WWW);

	ph_exchange(tls ? e->tls_port : e->port, tls, req, false, r);
	free(req);
}

void ph_timed_get(ph_env *e, const char *req, ph_resp *r, uint64_t *elapsed)
{
	uint64_t t0 = ph_now_ms();

	ph_exchange(e->port, false, req, false, r);
	*elapsed = ph_now_ms() - t0;
}

long ph_vm_hwm_kb(int pid)
{
	char path[64];
	char line[256];
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	assert_true(kb > 0);
	return kb;
}

size_t ph_count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += *s == '\n';
	}
	return n;
}

/* Runs the proxy with up to three arguments; its output goes to e->out and e->err. */
int ph_run_proxy(ph_env *e, const char *a1, const char *a2, const char *a3)
{
	char *argv[] = {(char *)e->proxy_bin, (char *)a1, (char *)a2, (char *)a3, NULL};

	free(e->out);
	free(e->err);
	e->out = NULL;
	e->err = NULL;
	return fx_run(argv, &e->out, &e->err, 30);
}

/* Runs --check --config on doc (stolen). */
int ph_check_config(ph_env *e, json_t *doc)
{
	char *path = ph_write_config(e, doc);
	int rc = ph_run_proxy(e, "--check", "--config", path);

	free(path);
	return rc;
}
