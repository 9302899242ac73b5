/*
 * The viewer side of the proxy test harness (proxy_harness.h): message head
 * helpers, a blocking client over TCP or TLS that sends exactly the bytes a
 * test gives it, and the parsing of the responses it reads back (framed by
 * Content-Length, chunked, or by the end of the connection).
 */
#include "proxy_harness.h"
#include "proxy_harness_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

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

/* ---- the viewer: a blocking client over TCP or TLS ---- */

struct ph_vc {
	ph_io io;
	gnutls_certificate_credentials_t cred;
};

static void set_timeout(int fd, int which, int timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	assert_int_equal(setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv)), 0);
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
	c->io.fd = ph_tcp_connect(port, 30000);
	if (c->io.fd < 0) {
		fail_msg("connecting to 127.0.0.1:%u: %s", port, strerror(-c->io.fd));
	}
	if (tls) {
		int rc;

		assert_int_equal(gnutls_certificate_allocate_credentials(&c->cred), 0);
		assert_int_equal(gnutls_init(&c->io.tls, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL), 0);
		assert_int_equal(gnutls_set_default_priority(c->io.tls), 0);
		assert_int_equal(gnutls_credentials_set(c->io.tls, GNUTLS_CRD_CERTIFICATE, c->cred),
				 0);
		assert_int_equal(
		    gnutls_server_name_set(c->io.tls, GNUTLS_NAME_DNS, PH_WWW, strlen(PH_WWW)), 0);
		gnutls_transport_set_int(c->io.tls, c->io.fd);
		do {
			rc = gnutls_handshake(c->io.tls);
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
	if (c->io.tls != NULL) {
		gnutls_deinit(c->io.tls);
	}
	if (c->cred != NULL) {
		gnutls_certificate_free_credentials(c->cred);
	}
	if (c->io.fd >= 0) {
		close(c->io.fd);
	}
	free(c);
}

void ph__vc_close_all(void)
{
	for (size_t i = 0; i < sizeof(open_vcs) / sizeof(open_vcs[0]); i++) {
		ph_vc_close(open_vcs[i]);
	}
}

void ph_vc_send(ph_vc *c, const void *data, size_t len)
{
	if (!ph__io_write(&c->io, data, len)) {
		fail_msg("sending to the proxy failed after %zu bytes left: %s", c->io.unsent,
			 c->io.tls != NULL ? gnutls_strerror(c->io.tls_error)
					   : strerror(c->io.sys_error));
	}
}

void ph_vc_sends(ph_vc *c, const char *s)
{
	ph_vc_send(c, s, strlen(s));
}

/* Whether the proxy closes the connection (EOF or reset) within timeout_ms, with no more bytes. */
bool ph_vc_closed_by_peer(ph_vc *c, int timeout_ms)
{
	set_timeout(c->io.fd, SO_RCVTIMEO, timeout_ms);
	ssize_t n = c->io.start < c->io.end ? 1 : ph__io_fill(&c->io);
	set_timeout(c->io.fd, SO_RCVTIMEO, 30000);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && c->io.tls == NULL);
}

/* Whether no byte arrives within timeout_ms (the connection may end or stay open). */
bool ph_vc_no_more_bytes(ph_vc *c, int timeout_ms)
{
	if (c->io.start < c->io.end) {
		return false;
	}
	set_timeout(c->io.fd, SO_RCVTIMEO, timeout_ms);
	ssize_t n = ph__io_fill(&c->io);
	set_timeout(c->io.fd, SO_RCVTIMEO, 30000);
	return n <= 0;
}

void ph_resp_free(ph_resp *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Where the body of a response being read goes: into r->body (cap bytes), or counted (discard). */
struct resp_sink {
	ph_resp *r;
	bool discard;
	size_t cap;
};

static void resp_take(void *arg, const char *data, size_t n)
{
	struct resp_sink *s = arg;
	ph_resp *r = s->r;
	const unsigned char *p = (const unsigned char *)data;

	if (s->discard) {
		for (size_t i = 0; i < n; i++) {
			if (p[i] != ph_pattern_byte(r->counted + i)) {
				r->pattern_ok = false;
			}
		}
		r->counted += n;
		return;
	}
	if (r->body_len + n + 1 > s->cap) {
		s->cap = (r->body_len + n + 1) * 2;
		r->body = realloc(r->body, s->cap);
		assert_non_null(r->body);
	}
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

/* Reads one CRLF line of a chunked body; false at EOF. */
static bool vc_line(ph_vc *c, char *out, size_t size)
{
	int rc = ph__io_line(&c->io, out, size);

	assert_int_not_equal(rc, -EMSGSIZE);
	return rc == 0;
}

/* Reads a chunked body into s; r->complete once the last chunk and the trailer came. */
static void vc_chunked_body(ph_vc *c, struct resp_sink *s)
{
	ph_resp *r = s->r;
	char line[256];

	r->chunked = true;
	for (;;) {
		char *e = NULL;

		if (!vc_line(c, line, sizeof(line))) {
			return;
		}
		unsigned long long size = strtoull(line, &e, 16);
		assert_true(e != line);
		if (size == 0) {
			r->saw_last_chunk = true;
			do {
				if (!vc_line(c, line, sizeof(line))) {
					return;
				}
			} while (line[0] != '\0');
			r->complete = true;
			return;
		}
		if (ph__io_body(&c->io, size, resp_take, s) != 0 ||
		    !vc_line(c, line, sizeof(line))) {
			return;
		}
		assert_string_equal(line, "");
	}
}

/*
 * Reads one response: 0 with r filled (r->complete false when the body was cut
 * short), -1 when the connection ended before a whole head.
 */
int ph_vc_response(ph_vc *c, bool head_request, bool discard, ph_resp *r)
{
	char value[64];
	struct resp_sink sink = {.r = r, .discard = discard};

	ph_resp_free(r);
	r->pattern_ok = true;
	int rc = ph__io_head(&c->io, &r->head);
	assert_int_not_equal(rc, -ENOMEM);
	if (rc < 0) {
		return -1;
	}
	if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1) {
		fail_msg("not an HTTP response:\n%s", r->head);
	}
	r->body = calloc(1, 1);
	assert_non_null(r->body);
	sink.cap = 1;
	if (head_request || r->status == 204 || r->status == 304 || r->status < 200) {
		r->complete = true;
		return 0;
	}
	if (ph_head_field(r->head, "Transfer-Encoding", 0, value, sizeof(value))) {
		assert_string_equal(value, "chunked");
		vc_chunked_body(c, &sink);
		return 0;
	}
	if (ph_head_field(r->head, "Content-Length", 0, value, sizeof(value))) {
		r->complete = ph__io_body(&c->io, strtoull(value, NULL, 10), resp_take, &sink) == 0;
		return 0;
	}
	/* Delimited by the end of the connection: everything up to it is the body. */
	ph__io_body(&c->io, ULLONG_MAX, resp_take, &sink);
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

/* ---- requests to the proxy under test ---- */

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

void ph_expect_error(const ph_resp *r, int status, const char *reason)
{
	ph_expect_status(r, status);
	ph_expect_field(r->head, "X-Cache", "Error from originaudit");
	ph_expect_field(r->head, "X-Originaudit-Reason", reason);
}

void ph_expect_get(ph_env *e, bool tls, const char *target, int status)
{
	ph_get(e, tls, target, &e->resp);
	ph_expect_status(&e->resp, status);
	ph_resp_free(&e->resp);
}

void ph_expect_origin(ph_env *e, bool tls, const char *target, const char *name)
{
	ph_get(e, tls, target, &e->resp);
	ph_expect_status(&e->resp, 200);
	ph_expect_field(e->resp.head, "X-Origin-Name", name);
	ph_resp_free(&e->resp);
}

void ph_expect_pattern_body(const char *what, const ph_resp *r, size_t len)
{
	if (!r->complete || r->body_len != len) {
		fail_msg("%s: body of %zu bytes (complete: %d), want %zu", what, r->body_len,
			 r->complete, len);
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)r->body[i] != ph_pattern_byte(i)) {
			fail_msg("%s: body byte %zu is %u, want %u", what, i,
				 (unsigned char)r->body[i], ph_pattern_byte(i));
		}
	}
}
