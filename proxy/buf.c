/* px_buf: the growable, always NUL-terminated byte buffer the proxy writes heads into. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_head.h"

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
	size_t room;
	int n;
	int rc;

	/* One pass when it fits in what is already allocated (the usual case), two otherwise. */
	if (buf_reserve(buf, 63) < 0) {
		return -ENOMEM;
	}
	room = buf->cap - buf->len;
	va_start(ap, fmt);
	n = vsnprintf(buf->data + buf->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		buf->data[buf->len] = '\0';
		return -EINVAL;
	}
	if ((size_t)n < room) {
		buf->len += (size_t)n;
		return 0;
	}
	rc = buf_reserve(buf, (size_t)n);
	if (rc < 0) {
		buf->data[buf->len] = '\0';
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
