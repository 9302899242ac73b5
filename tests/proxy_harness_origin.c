/*
 * The echo origin of the proxy test harness (proxy_harness.h): a loopback
 * server, plain HTTP or TLS serving a chain in exactly the given order, that
 * runs one thread per connection with blocking I/O (proxy_harness_io.c).
 *
 * Its counters (connections, completed handshakes, request heads,
 * application bytes) are what prove that a refused origin got nothing but the
 * handshake and that a bad request never reached an origin.
 */
#include "proxy_harness.h"
#include "proxy_harness_internal.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* Counts the application bytes of every read on the origin's connections. */
static void eo_count_read(void *arg, size_t n)
{
	ph_eo *o = arg;

	pthread_mutex_lock(&o->mu);
	o->app_bytes += (unsigned long long)n;
	pthread_mutex_unlock(&o->mu);
}

static bool io_printf(ph_io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool io_printf(ph_io *io, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return n > 0 && (size_t)n < sizeof(buf) && ph__io_write(io, buf, (size_t)n);
}

/* What the origin tells of a request body: its size and the sum of its bytes. */
struct body_tally {
	unsigned long long count;
	uint32_t sum;
};

static void tally_take(void *arg, const char *p, size_t n)
{
	struct body_tally *t = arg;

	for (size_t i = 0; i < n; i++) {
		t->sum += (unsigned char)p[i];
	}
	t->count += n;
}

static bool io_chunked_body(ph_io *io, struct body_tally *t)
{
	char line[1024];

	for (;;) {
		char *end = NULL;

		if (ph__io_line(io, line, sizeof(line)) != 0) {
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
				if (ph__io_line(io, line, sizeof(line)) != 0) {
					return false;
				}
			} while (line[0] != '\0');
			return true;
		}
		if (ph__io_body(io, size, tally_take, t) != 0 ||
		    ph__io_line(io, line, sizeof(line)) != 0 || line[0] != '\0') {
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
static bool io_pattern_body(ph_io *io, ph_eo *o, unsigned long long size, bool chunked)
{
	unsigned long long sent = 0;

	while (sent < size && !eo_stopping(o)) {
		size_t n = size - sent < 65536 ? (size_t)(size - sent) : 65536;
		unsigned char buf[65536];

		ph_fill_pattern(buf, n, sent);
		if (chunked && !io_printf(io, "%zx\r\n", n)) {
			return false;
		}
		if (!ph__io_write(io, buf, n) || (chunked && !ph__io_write(io, "\r\n", 2))) {
			return false;
		}
		sent += n;
	}
	return !chunked || ph__io_write(io, "0\r\n\r\n", 5);
}

static bool eo_send_big(ph_io *io, ph_eo *o)
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

/* The PH_EO_ECHO response to q: see ph_eo_mode for what the X-Echo-* fields do. */
static bool eo_send_echo(ph_io *io, ph_eo *o, const struct echo_req *q)
{
	ph_echo_controls ec;
	char value[8192];
	char bad_body[400];
	char *head = NULL;
	size_t head_len = 0;
	const char *text = q->head;
	unsigned long long length = strlen(q->head);
	bool head_request = ph_starts_with(q->head, "HEAD ");
	bool pattern = false;
	int status;

	ph__echo_controls(q->head, &ec);
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
	fprintf(f, "HTTP/1.1 %d %s\r\n", status, ph__reason_phrase(status));
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
	bool ok = ph__io_write(io, head, head_len);
	free(head);
	if (!ok || head_request || bodiless) {
		return ok;
	}
	return pattern ? io_pattern_body(io, o, length, false)
		       : ph__io_write(io, text, (size_t)length);
}

/* One origin connection: TLS handshake when configured, then requests until EOF. */
static void *eo_conn_main(void *arg)
{
	eo_conn *c = arg;
	ph_eo *o = c->origin;
	ph_io *io = calloc(1, sizeof(*io));
	unsigned served = 0;

	if (io == NULL) {
		goto done;
	}
	io->fd = c->fd;
	io->on_read = eo_count_read;
	io->on_read_arg = o;
	if (o->opts.mode == PH_EO_TARPIT) {
		/* Swallows whatever comes (a ClientHello) and never answers. */
		while (ph__io_fill(io) > 0) {
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
		struct body_tally body = {0, 0};
		bool ok = true;
		char *head = NULL;

		if (ph__io_head(io, &head) != 0) {
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
			ok = io_chunked_body(io, &body);
		} else if (ph_head_field(head, "Content-Length", 0, value, sizeof(value))) {
			ok = ph__io_body(io, strtoull(value, NULL, 10), tally_take, &body) == 0;
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
			    .body_bytes = body.count,
			    .body_sum = body.sum,
			};

			ok = eo_send_echo(io, o, &q);
			break;
		}
		case PH_EO_STALL:
			/* Waits for the peer (or the test) to close. */
			while (ph__io_fill(io) > 0) {
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
