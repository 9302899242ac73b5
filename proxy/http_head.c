/*
 * HTTP/1.x heads for originaudit-proxy, without I/O: the lexical checks (tokens,
 * values, targets, hosts), the head model, the request's Host and framing
 * checks, and the collector that assembles a head from parser callbacks.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "http_head.h"
#include "http_internal.h"

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool px_slice_ieq(const char *s, size_t len, const char *str)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (str[i] == '\0' || ascii_lower(s[i]) != ascii_lower(str[i])) {
			return false;
		}
	}
	return str[i] == '\0';
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

void px_trim_ows(const char **s, size_t *len)
{
	while (*len > 0 && is_ows((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*s)[*len - 1])) {
		(*len)--;
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool px_is_tchar(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool px__is_token(const char *s, size_t len)
{
	if (len == 0) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!px_is_tchar(s[i])) {
			return false;
		}
	}
	return true;
}

/* A field value that cannot end the line or the head early (RFC 9110 5.5). */
static bool value_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
			return false;
		}
	}
	return true;
}

/* A string of the proxy's own: no control character but HTAB, no DEL. */
bool px__text_safe(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return false;
		}
	}
	return true;
}

/* A request target byte: anything visible; spaces and controls would split the request line. */
static bool target_byte_ok(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

bool px__target_ok(const char *s, size_t len)
{
	if (len == 0 || s[0] != '/') {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!target_byte_ok((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* Host name or IP literal, with an optional port, and nothing else (RFC 3986 3.2.2, no '%'). */
bool px__host_ok(const char *s, size_t len)
{
	size_t i = 0;
	size_t end;
	unsigned long port = 0;

	if (len == 0 || len > 300) {
		return false;
	}
	if (s[0] == '[') {
		bool colon = false;

		for (i = 1; i < len && s[i] != ']'; i++) {
			char c = ascii_lower(s[i]);

			if (c == ':') {
				colon = true;
			} else if (!is_digit(c) && c != '.' && !(c >= 'a' && c <= 'f')) {
				return false;
			}
		}
		if (i == len || !colon) {
			return false;
		}
		i++;
	} else {
		for (; i < len && s[i] != ':'; i++) {
			if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_') {
				return false;
			}
		}
		if (i == 0 || i > 255) {
			return false;
		}
	}
	if (i == len) {
		return true;
	}
	if (s[i] != ':') {
		return false;
	}
	end = ++i;
	for (; end < len; end++) {
		if (!is_digit(s[end]) || end - i >= 5) {
			return false;
		}
		port = port * 10 + (unsigned long)(s[end] - '0');
	}
	return end > i && port <= 65535;
}

/* A reason phrase: HTAB, SP, VCHAR and obs-text only (RFC 9112 4). */
bool px__reason_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return false;
		}
	}
	return true;
}

void px_head_init(px_head *head)
{
	memset(head, 0, sizeof(*head));
	head->http_minor = 1;
}

int px_head_add(px_head *head, const char *name, size_t name_len, const char *value,
		size_t value_len)
{
	px_header *h;

	if (head->n_headers >= PX_MAX_HEADERS) {
		return -E2BIG;
	}
	px_trim_ows(&value, &value_len);
	h = &head->headers[head->n_headers++];
	h->name = name;
	h->name_len = name_len;
	h->value = value;
	h->value_len = value_len;
	return 0;
}

const px_header *px_head_find(const px_head *head, const char *name)
{
	for (size_t i = 0; i < head->n_headers; i++) {
		if (px_slice_ieq(head->headers[i].name, head->headers[i].name_len, name)) {
			return &head->headers[i];
		}
	}
	return NULL;
}

size_t px_head_count(const px_head *head, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < head->n_headers; i++) {
		if (px_slice_ieq(head->headers[i].name, head->headers[i].name_len, name)) {
			n++;
		}
	}
	return n;
}

/*
 * The next element of a comma-separated list in [*p, end), without its
 * surrounding whitespace (possibly empty). false when the list is exhausted.
 */
static bool list_next(const char **p, const char *end, const char **elem, size_t *elem_len)
{
	const char *s = *p;
	const char *e;

	if (s > end) {
		return false;
	}
	e = s;
	while (e < end && *e != ',') {
		e++;
	}
	*p = e + 1;
	while (s < e && is_ows(*s)) {
		s++;
	}
	while (e > s && is_ows(e[-1])) {
		e--;
	}
	*elem = s;
	*elem_len = (size_t)(e - s);
	return true;
}

bool px_head_list_contains(const px_head *head, const char *field, const char *elem,
			   size_t elem_len)
{
	for (size_t i = 0; i < head->n_headers && i < PX_MAX_HEADERS; i++) {
		const px_header *h = &head->headers[i];
		const char *p = h->value;
		const char *tok;
		size_t tok_len;

		if (!px_slice_ieq(h->name, h->name_len, field) || h->value == NULL) {
			continue;
		}
		while (list_next(&p, h->value + h->value_len, &tok, &tok_len)) {
			if (tok_len == elem_len && tok_len > 0) {
				size_t j = 0;

				while (j < tok_len && ascii_lower(tok[j]) == ascii_lower(elem[j])) {
					j++;
				}
				if (j == tok_len) {
					return true;
				}
			}
		}
	}
	return false;
}

/* Every field name a token and every value free of CR, LF and NUL. */
bool px__fields_safe(const px_head *head)
{
	for (size_t i = 0; i < head->n_headers; i++) {
		const px_header *h = &head->headers[i];

		if (!px__is_token(h->name, h->name_len) || !value_safe(h->value, h->value_len)) {
			return false;
		}
	}
	return true;
}

int px_request_host(const px_head *req, const char **host, size_t *host_len)
{
	const px_header *h = px_head_find(req, "Host");
	size_t n = px_head_count(req, "Host");
	const char *value;
	size_t value_len;

	*host = "";
	*host_len = 0;
	if (n == 0) {
		return req->http_minor == 0 ? 0 : -EBADMSG;
	}
	value = h->value;
	value_len = h->value_len;
	/* Heads filled without px_head_add may keep the whitespace around a value. */
	px_trim_ows(&value, &value_len);
	if (n > 1 || !px__host_ok(value, value_len)) {
		return -EBADMSG;
	}
	*host = value;
	*host_len = value_len;
	return 0;
}

/* A Content-Length element: 1*DIGIT that fits in a long long. */
static int parse_length(const char *s, size_t len, long long *out)
{
	long long v = 0;

	if (len == 0) {
		return -EBADMSG;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i])) {
			return -EBADMSG;
		}
		if (v > (LLONG_MAX - (s[i] - '0')) / 10) {
			return -EBADMSG;
		}
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int px_check_request_framing(const px_head *req, long long *content_length, bool *chunked)
{
	long long length = -1;
	size_t n_te = 0;
	bool is_chunked = false;

	if (req->http_minor != 0 && req->http_minor != 1) {
		return -EINVAL;
	}
	for (size_t i = 0; i < req->n_headers; i++) {
		const px_header *h = &req->headers[i];
		const char *p = h->value;
		const char *elem;
		size_t elem_len;

		if (px_slice_ieq(h->name, h->name_len, "Transfer-Encoding")) {
			elem = h->value;
			elem_len = h->value_len;
			px_trim_ows(&elem, &elem_len);
			n_te++;
			/* Only one plain "chunked": any other coding could be read two ways. */
			is_chunked = px_slice_ieq(elem, elem_len, "chunked");
			continue;
		}
		if (!px_slice_ieq(h->name, h->name_len, "Content-Length")) {
			continue;
		}
		/* RFC 9110 8.6 tolerates a list of identical values, and nothing else. */
		while (list_next(&p, h->value + h->value_len, &elem, &elem_len)) {
			long long v;

			if (parse_length(elem, elem_len, &v) < 0) {
				return -EBADMSG;
			}
			if (length >= 0 && v != length) {
				return -EBADMSG;
			}
			length = v;
		}
	}
	if (n_te > 0) {
		/* RFC 9112 6.1: TE with Content-Length, or on HTTP/1.0, is a smuggling attempt. */
		if (n_te > 1 || !is_chunked || length >= 0 || req->http_minor == 0) {
			return -EBADMSG;
		}
	}
	if (content_length != NULL) {
		*content_length = length;
	}
	if (chunked != NULL) {
		*chunked = n_te > 0;
	}
	return 0;
}

void px_head_collect_init(px_head_collect *c)
{
	memset(c, 0, sizeof(*c));
	px_buf_init(&c->arena);
}

void px_head_collect_free(px_head_collect *c)
{
	px_buf_free(&c->arena);
}

void px_head_collect_reset(px_head_collect *c)
{
	c->arena.len = 0;
	c->first_off = 0;
	c->first_len = 0;
	c->n_hdr = 0;
	c->in_value = false;
	c->header_bytes = 0;
	c->sealed = false;
}

int px_head_collect_first(px_head_collect *c, const char *at, size_t len)
{
	if (c->first_len == 0) {
		c->first_off = c->arena.len;
	}
	c->first_len += len;
	return px_buf_append(&c->arena, at, len);
}

int px_head_collect_header(px_head_collect *c, const char *at, size_t len, bool value,
			   size_t max_bytes)
{
	if (c->sealed) {
		/*
		 * A trailer field (after a chunked body): the head already points into
		 * the arena, which must not move. Trailers are dropped, as CloudFront
		 * does; they count toward the same size limit as the head.
		 */
		c->header_bytes += len;
		return c->header_bytes > max_bytes ? -E2BIG : 0;
	}
	if (!value && (c->in_value || c->n_hdr == 0)) {
		if (c->n_hdr == PX_MAX_HEADERS) {
			return -E2BIG;
		}
		c->hdr[c->n_hdr][0] = c->arena.len;
		c->hdr[c->n_hdr][1] = 0;
		c->hdr[c->n_hdr][2] = c->arena.len;
		c->hdr[c->n_hdr][3] = 0;
		c->n_hdr++;
		c->in_value = false;
	}
	if (value && c->n_hdr == 0) {
		return -EBADMSG;
	}
	if (value && !c->in_value) {
		c->hdr[c->n_hdr - 1][2] = c->arena.len;
		c->hdr[c->n_hdr - 1][3] = 0;
		c->in_value = true;
	}
	c->header_bytes += len;
	if (c->header_bytes > max_bytes) {
		return -E2BIG;
	}
	c->hdr[c->n_hdr - 1][value ? 3 : 1] += len;
	return px_buf_append(&c->arena, at, len);
}

void px_head_collect_finish(px_head_collect *c, px_head *head, bool response)
{
	c->sealed = true;
	const char *base = c->arena.data != NULL ? c->arena.data : "";

	if (response) {
		head->reason = base + c->first_off;
		head->reason_len = c->first_len;
	} else {
		head->target = base + c->first_off;
		head->target_len = c->first_len;
	}
	for (size_t i = 0; i < c->n_hdr; i++) {
		head->headers[i].name = base + c->hdr[i][0];
		head->headers[i].name_len = c->hdr[i][1];
		head->headers[i].value = base + c->hdr[i][2];
		head->headers[i].value_len = c->hdr[i][3];
	}
	head->n_headers = c->n_hdr;
}
