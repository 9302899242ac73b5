/* HTTP/1.x heads for originaudit-proxy: checks and writers, no I/O. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_head.h"

/* Fields that describe one connection (RFC 9110 7.6.1, plus Proxy-Connection) and never travel on.
 */
static const char *const hop_by_hop[] = {
    "Connection", "Keep-Alive",		 "Proxy-Connection",   "TE", "Trailer", "Transfer-Encoding",
    "Upgrade",	  "Proxy-Authorization", "Proxy-Authenticate",
};

void px_buf_init(px_buf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void px_buf_free(px_buf *buf)
{
	if (buf == NULL) {
		return;
	}
	free(buf->data);
	px_buf_init(buf);
}

void px_buf_reset(px_buf *buf)
{
	buf->len = 0;
	if (buf->data != NULL) {
		buf->data[0] = '\0';
	}
}

void px_buf_consume(px_buf *buf, size_t n)
{
	if (n >= buf->len) {
		px_buf_reset(buf);
		return;
	}
	memmove(buf->data, buf->data + n, buf->len - n);
	buf->len -= n;
	buf->data[buf->len] = '\0';
}

/* Makes room for extra more bytes plus the terminating NUL. */
static int buf_reserve(px_buf *buf, size_t extra)
{
	size_t need;
	size_t cap;
	char *data;

	if (extra > SIZE_MAX - buf->len - 1) {
		return -ENOMEM;
	}
	need = buf->len + extra + 1;
	if (need <= buf->cap) {
		return 0;
	}
	cap = buf->cap < 64 ? 64 : buf->cap;
	while (cap < need) {
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	}
	data = realloc(buf->data, cap);
	if (data == NULL) {
		return -ENOMEM;
	}
	buf->data = data;
	buf->cap = cap;
	return 0;
}

int px_buf_append(px_buf *buf, const void *data, size_t len)
{
	int rc = buf_reserve(buf, len);

	if (rc < 0) {
		return rc;
	}
	if (len > 0) {
		memcpy(buf->data + buf->len, data, len);
	}
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

int px_buf_append_str(px_buf *buf, const char *s)
{
	return px_buf_append(buf, s, strlen(s));
}

int px_buf_appendf(px_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n;
	int rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -EINVAL;
	}
	rc = buf_reserve(buf, (size_t)n);
	if (rc < 0) {
		return rc;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf->data[buf->len] = '\0';
		return -EINVAL;
	}
	buf->len += (size_t)n;
	return 0;
}

/* Undoes a writer's partial output. */
static void buf_truncate(px_buf *buf, size_t len)
{
	buf->len = len;
	if (buf->data != NULL) {
		buf->data[len] = '\0';
	}
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive comparison of a slice with a string, independent of the locale. */
static bool slice_ieq(const char *s, size_t len, const char *str)
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

/* Narrows [*s, *s + *len) to leave out surrounding spaces and tabs. */
static void trim_ows(const char **s, size_t *len)
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

static bool is_tchar(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(const char *s, size_t len)
{
	if (len == 0) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_tchar(s[i])) {
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
static bool text_safe(const char *s)
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

static bool target_ok(const char *s, size_t len)
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
static bool host_ok(const char *s, size_t len)
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
	trim_ows(&value, &value_len);
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
		if (slice_ieq(head->headers[i].name, head->headers[i].name_len, name)) {
			return &head->headers[i];
		}
	}
	return NULL;
}

size_t px_head_count(const px_head *head, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < head->n_headers; i++) {
		if (slice_ieq(head->headers[i].name, head->headers[i].name_len, name)) {
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

/* Whether one of head's Connection fields names the field (so it is hop-by-hop). */
static bool named_by_connection(const px_head *head, const char *name, size_t name_len)
{
	for (size_t i = 0; i < head->n_headers; i++) {
		const px_header *h = &head->headers[i];
		const char *p = h->value;
		const char *tok;
		size_t tok_len;

		if (!slice_ieq(h->name, h->name_len, "Connection")) {
			continue;
		}
		while (list_next(&p, h->value + h->value_len, &tok, &tok_len)) {
			if (tok_len == name_len && tok_len > 0) {
				size_t j = 0;

				while (j < tok_len && ascii_lower(tok[j]) == ascii_lower(name[j])) {
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

static bool is_hop_by_hop(const px_head *head, const px_header *h)
{
	for (size_t i = 0; i < sizeof(hop_by_hop) / sizeof(hop_by_hop[0]); i++) {
		if (slice_ieq(h->name, h->name_len, hop_by_hop[i])) {
			return true;
		}
	}
	return named_by_connection(head, h->name, h->name_len);
}

/* Every field name a token and every value free of CR, LF and NUL. */
static bool fields_safe(const px_head *head)
{
	for (size_t i = 0; i < head->n_headers; i++) {
		const px_header *h = &head->headers[i];

		if (!is_token(h->name, h->name_len) || !value_safe(h->value, h->value_len)) {
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
	trim_ows(&value, &value_len);
	if (n > 1 || !host_ok(value, value_len)) {
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

		if (slice_ieq(h->name, h->name_len, "Transfer-Encoding")) {
			elem = h->value;
			elem_len = h->value_len;
			trim_ows(&elem, &elem_len);
			n_te++;
			/* Only one plain "chunked": any other coding could be read two ways. */
			is_chunked = slice_ieq(elem, elem_len, "chunked");
			continue;
		}
		if (!slice_ieq(h->name, h->name_len, "Content-Length")) {
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

/* Appends "name: value\r\n" from slices. */
static int append_field(px_buf *out, const char *name, size_t name_len, const char *value,
			size_t value_len)
{
	int rc = px_buf_append(out, name, name_len);

	if (rc == 0) {
		rc = px_buf_append(out, ": ", 2);
	}
	if (rc == 0) {
		rc = px_buf_append(out, value, value_len);
	}
	if (rc == 0) {
		rc = px_buf_append(out, "\r\n", 2);
	}
	return rc;
}

/* Appends value to a list being written: "name: " before the first element, ", " between. */
static int append_list_elem(px_buf *out, const char *name, bool *any, const char *value,
			    size_t value_len)
{
	int rc = 0;

	if (*any) {
		rc = px_buf_append(out, ", ", 2);
	} else {
		rc = px_buf_appendf(out, "%s: ", name);
	}
	*any = true;
	if (rc == 0) {
		rc = px_buf_append(out, value, value_len);
	}
	return rc;
}

/*
 * Appends "Name: v1, v2, add\r\n" from head's fields called name (unless the
 * Connection field names them) and add (when neither NULL nor empty), as one
 * field; nothing when there is neither.
 */
static int append_list_field(px_buf *out, const px_head *head, const char *name, const char *add)
{
	bool any = false;
	int rc = 0;

	if (!named_by_connection(head, name, strlen(name))) {
		for (size_t i = 0; i < head->n_headers && rc == 0; i++) {
			const px_header *h = &head->headers[i];

			if (slice_ieq(h->name, h->name_len, name) && h->value_len > 0) {
				rc = append_list_elem(out, name, &any, h->value, h->value_len);
			}
		}
	}
	if (rc == 0 && add != NULL && add[0] != '\0') {
		rc = append_list_elem(out, name, &any, add, strlen(add));
	}
	if (rc == 0 && any) {
		rc = px_buf_append(out, "\r\n", 2);
	}
	return rc;
}

/* Appends every field of head but the hop-by-hop ones and those called one of skip. */
static int append_fields(px_buf *out, const px_head *head, const char *const *skip, size_t n_skip)
{
	for (size_t i = 0; i < head->n_headers; i++) {
		const px_header *h = &head->headers[i];
		bool drop = is_hop_by_hop(head, h);
		int rc;

		for (size_t j = 0; j < n_skip && !drop; j++) {
			drop = skip[j] != NULL && slice_ieq(h->name, h->name_len, skip[j]);
		}
		if (drop) {
			continue;
		}
		rc = append_field(out, h->name, h->name_len, h->value, h->value_len);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

static int check_forward(const px_forward *fw)
{
	const char *path = fw->origin_path != NULL ? fw->origin_path : "";
	size_t path_len = strlen(path);

	if (fw->host == NULL || !host_ok(fw->host, strlen(fw->host))) {
		return -EINVAL;
	}
	if (path_len > 0 && !target_ok(path, path_len)) {
		return -EINVAL;
	}
	if ((fw->viewer_address != NULL && !text_safe(fw->viewer_address)) ||
	    (fw->via != NULL && !text_safe(fw->via))) {
		return -EINVAL;
	}
	if (fw->request_id_header != NULL &&
	    (!is_token(fw->request_id_header, strlen(fw->request_id_header)) ||
	     fw->request_id == NULL || !text_safe(fw->request_id))) {
		return -EINVAL;
	}
	if (fw->content_length < -1 || (fw->chunked && fw->content_length >= 0)) {
		return -EINVAL;
	}
	return 0;
}

int px_build_origin_request(const px_head *req, const px_forward *fw, px_buf *out)
{
	/* Host, framing and the fields we rewrite are written once, by us. */
	const char *const skip[] = {
	    "Host", "Content-Length",	   "X-Forwarded-Proto", "X-Real-IP", "X-Forwarded-For",
	    "Via",  fw->request_id_header,
	};
	size_t start = out->len;
	int rc;

	rc = check_forward(fw);
	if (rc < 0) {
		return rc;
	}
	if (!is_token(req->method, req->method_len) || !target_ok(req->target, req->target_len) ||
	    !fields_safe(req)) {
		return -EBADMSG;
	}
	rc = px_buf_append(out, req->method, req->method_len);
	if (rc == 0) {
		rc = px_buf_appendf(out, " %s", fw->origin_path != NULL ? fw->origin_path : "");
	}
	if (rc == 0) {
		rc = px_buf_append(out, req->target, req->target_len);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, " HTTP/1.1\r\nHost: %s\r\n", fw->host);
	}
	if (rc == 0) {
		rc = append_fields(out, req, skip, sizeof(skip) / sizeof(skip[0]));
	}
	if (rc == 0) {
		rc = append_list_field(out, req, "X-Forwarded-For", fw->viewer_address);
	}
	if (rc == 0) {
		rc = append_list_field(out, req, "Via", fw->via);
	}
	if (rc == 0 && fw->request_id_header != NULL) {
		rc = px_buf_appendf(out, "%s: %s\r\n", fw->request_id_header, fw->request_id);
	}
	if (rc == 0) {
		rc = px_buf_append_str(out, "Connection: keep-alive\r\n");
	}
	if (rc == 0 && fw->chunked) {
		rc = px_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	} else if (rc == 0 && fw->content_length >= 0) {
		rc = px_buf_appendf(out, "Content-Length: %lld\r\n", fw->content_length);
	}
	if (rc == 0) {
		rc = px_buf_append_str(out, "\r\n");
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

const char *px_status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
	    {100, "Continue"},
	    {101, "Switching Protocols"},
	    {200, "OK"},
	    {201, "Created"},
	    {202, "Accepted"},
	    {204, "No Content"},
	    {206, "Partial Content"},
	    {301, "Moved Permanently"},
	    {302, "Found"},
	    {303, "See Other"},
	    {304, "Not Modified"},
	    {307, "Temporary Redirect"},
	    {308, "Permanent Redirect"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {408, "Request Timeout"},
	    {411, "Length Required"},
	    {412, "Precondition Failed"},
	    {413, "Content Too Large"},
	    {414, "URI Too Long"},
	    {416, "Range Not Satisfiable"},
	    {417, "Expectation Failed"},
	    {429, "Too Many Requests"},
	    {431, "Request Header Fields Too Large"},
	    {500, "Internal Server Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Gateway Timeout"},
	    {505, "HTTP Version Not Supported"},
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (reasons[i].status == status) {
			return reasons[i].reason;
		}
	}
	return NULL;
}

/* A reason phrase: HTAB, SP, VCHAR and obs-text only (RFC 9112 4). */
static bool reason_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return false;
		}
	}
	return true;
}

static int check_response_opts(const px_response_opts *o)
{
	if (o->http_minor != 0 && o->http_minor != 1) {
		return -EINVAL;
	}
	if ((o->x_cache != NULL && !text_safe(o->x_cache)) ||
	    (o->via != NULL && !text_safe(o->via))) {
		return -EINVAL;
	}
	if (o->request_id_header != NULL &&
	    (!is_token(o->request_id_header, strlen(o->request_id_header)) ||
	     o->request_id == NULL || !text_safe(o->request_id))) {
		return -EINVAL;
	}
	/* HTTP/1.0 has no chunked coding; such a body goes until close. */
	if (o->content_length < -1 ||
	    (o->chunked && (o->content_length >= 0 || o->http_minor == 0))) {
		return -EINVAL;
	}
	return 0;
}

int px_build_viewer_response(const px_head *resp, const px_response_opts *o, px_buf *out)
{
	const char *const skip[] = {"Content-Length", "X-Cache", "Via", o->request_id_header};
	const char *reason = resp->reason;
	size_t reason_len = resp->reason_len;
	size_t start = out->len;
	int rc;

	rc = check_response_opts(o);
	if (rc < 0) {
		return rc;
	}
	if (resp->status < 100 || resp->status > 999 || !reason_ok(reason, reason_len) ||
	    !fields_safe(resp)) {
		return -EBADMSG;
	}
	if (reason_len == 0 && px_status_reason(resp->status) != NULL) {
		reason = px_status_reason(resp->status);
		reason_len = strlen(reason);
	}
	rc = px_buf_appendf(out, "HTTP/1.%d %d ", o->http_minor, resp->status);
	if (rc == 0 && reason_len > 0) {
		rc = px_buf_append(out, reason, reason_len);
	}
	if (rc == 0) {
		rc = px_buf_append(out, "\r\n", 2);
	}
	if (rc == 0) {
		rc = append_fields(out, resp, skip, sizeof(skip) / sizeof(skip[0]));
	}
	if (rc == 0 && o->chunked) {
		rc = px_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	} else if (rc == 0 && o->content_length >= 0) {
		rc = px_buf_appendf(out, "Content-Length: %lld\r\n", o->content_length);
	}
	if (rc == 0 && o->has_age) {
		rc = px_buf_appendf(out, "Age: %lld\r\n", o->age);
	}
	if (rc == 0 && o->x_cache != NULL) {
		rc = px_buf_appendf(out, "X-Cache: %s\r\n", o->x_cache);
	}
	if (rc == 0) {
		rc = append_list_field(out, resp, "Via", o->via);
	}
	if (rc == 0 && o->request_id_header != NULL) {
		rc = px_buf_appendf(out, "%s: %s\r\n", o->request_id_header, o->request_id);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, "Connection: %s\r\n\r\n",
				    o->keep_alive ? "keep-alive" : "close");
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

int px_build_error_response(int status, const char *x_cache, const char *reason_code,
			    bool keep_alive, int http_minor, px_buf *out)
{
	const char *reason = px_status_reason(status);
	size_t start = out->len;
	char body[64];
	int body_len;
	int rc;

	if (reason == NULL || (http_minor != 0 && http_minor != 1) ||
	    (x_cache != NULL && !text_safe(x_cache)) ||
	    (reason_code != NULL && !text_safe(reason_code))) {
		return -EINVAL;
	}
	body_len = snprintf(body, sizeof(body), "%d %s\n", status, reason);
	rc = px_buf_appendf(out,
			    "HTTP/1.%d %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n",
			    http_minor, status, reason, body_len);
	if (rc == 0 && x_cache != NULL) {
		rc = px_buf_appendf(out, "X-Cache: %s\r\n", x_cache);
	}
	if (rc == 0 && reason_code != NULL) {
		rc = px_buf_appendf(out, "X-Originaudit-Reason: %s\r\n", reason_code);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, "Connection: %s\r\n\r\n%s",
				    keep_alive ? "keep-alive" : "close", body);
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

int px_build_redirect(int status, const char *host, const char *target, const char *x_cache,
		      bool keep_alive, int http_minor, px_buf *out)
{
	size_t start = out->len;
	size_t target_len;
	int rc;

	if ((status != 301 && status != 307) || (http_minor != 0 && http_minor != 1) ||
	    host == NULL || !host_ok(host, strlen(host)) || target == NULL ||
	    (x_cache != NULL && !text_safe(x_cache))) {
		return -EINVAL;
	}
	target_len = strlen(target);
	if (!target_ok(target, target_len)) {
		return -EINVAL;
	}
	rc = px_buf_appendf(out, "HTTP/1.%d %d %s\r\nLocation: https://%s", http_minor, status,
			    px_status_reason(status), host);
	/* Bytes beyond ASCII are not allowed in a URI: percent-encode them, as a browser would. */
	for (size_t i = 0; i < target_len && rc == 0; i++) {
		unsigned char c = (unsigned char)target[i];

		if (c >= 0x80) {
			rc = px_buf_appendf(out, "%%%02X", c);
		} else {
			rc = px_buf_append(out, &target[i], 1);
		}
	}
	if (rc == 0) {
		rc = px_buf_append_str(out, "\r\nContent-Length: 0\r\n");
	}
	if (rc == 0 && x_cache != NULL) {
		rc = px_buf_appendf(out, "X-Cache: %s\r\n", x_cache);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, "Connection: %s\r\n\r\n",
				    keep_alive ? "keep-alive" : "close");
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

int px_viewer_policy_decision(oa_viewer_protocol_policy policy, bool viewer_tls, const char *method,
			      size_t method_len, int http_minor, int *status)
{
	bool safe;

	if (method == NULL || method_len == 0 || (http_minor != 0 && http_minor != 1)) {
		return -EINVAL;
	}
	if (policy != OA_VIEWER_ALLOW_ALL && policy != OA_VIEWER_REDIRECT_TO_HTTPS &&
	    policy != OA_VIEWER_HTTPS_ONLY) {
		return -EINVAL;
	}
	*status = 0;
	if (viewer_tls || policy == OA_VIEWER_ALLOW_ALL) {
		return 0;
	}
	if (policy == OA_VIEWER_HTTPS_ONLY) {
		*status = 403;
		return 0;
	}
	/* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
	safe = (method_len == 3 && memcmp(method, "GET", 3) == 0) ||
	       (method_len == 4 && memcmp(method, "HEAD", 4) == 0);
	if (safe) {
		*status = 301;
	} else {
		/* A 307 keeps the method and body; HTTP/1.0 clients may not honour that, so 403. */
		*status = http_minor == 1 ? 307 : 403;
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

void px_head_collect_finish(const px_head_collect *c, px_head *head, bool response)
{
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
