/*
 * The JSON access log: one object per line, written with one write(2) on an
 * O_APPEND descriptor so lines of several workers never interleave. SIGUSR1
 * reopens the file (log rotation).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"

static int open_path(const char *path)
{
	if (strcmp(path, "-") == 0) {
		return STDOUT_FILENO;
	}
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

int px_access_log_open(px_access_log *log, const char *path, oa_error *err)
{
	memset(log, 0, sizeof(*log));
	log->fd = -1;
	log->path = NULL;
	if (path == NULL) {
		return 0;
	}
	log->fd = open_path(path);
	if (log->fd < 0) {
		return oa_error_set(err, -errno, "proxy.access_log: %s: %s", path, strerror(errno));
	}
	log->path = strdup(path);
	if (log->path == NULL) {
		px_access_log_close(log);
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

int px_access_log_reopen(px_access_log *log)
{
	if (log->path == NULL || strcmp(log->path, "-") == 0) {
		return 0;
	}
	int fd = open_path(log->path);
	if (fd < 0) {
		/* The old file stays in use: no line is lost for a failed rotation. */
		return -errno;
	}
	close(log->fd);
	log->fd = fd;
	return 0;
}

void px_access_log_close(px_access_log *log)
{
	if (log->fd > STDERR_FILENO) {
		close(log->fd);
	}
	log->fd = -1;
	free(log->path);
	log->path = NULL;
}

/*
 * A JSON string, or null when s is NULL. Bytes outside printable ASCII are
 * escaped, so a hostile path or Host can never break the line or the JSON.
 */
static void json_str(px_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	if (s == NULL) {
		px_buf_append_str(out, "null");
		return;
	}
	px_buf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};

			px_buf_append(out, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

			px_buf_append(out, esc, 6);
		} else {
			px_buf_append(out, s + i, 1);
		}
	}
	px_buf_append(out, "\"", 1);
}

static void json_cstr(px_buf *out, const char *s)
{
	json_str(out, s, s != NULL ? strlen(s) : 0);
}

void px_access_log_write(px_access_log *log, const px_access_entry *e)
{
	char when[40];
	struct timeval tv;
	struct tm tm;
	px_buf line;

	if (log->fd < 0) {
		return;
	}
	gettimeofday(&tv, NULL);
	/* The date part changes once a second: formatted then, not on every request. */
	if (tv.tv_sec != log->when_sec || log->when[0] == '\0') {
		gmtime_r(&tv.tv_sec, &tm);
		strftime(log->when, sizeof(log->when), "%Y-%m-%dT%H:%M:%S", &tm);
		log->when_sec = tv.tv_sec;
	}
	memcpy(when, log->when, sizeof(when));
	px_buf_init(&line);
	px_buf_appendf(&line, "{\"time\":\"%s.%03ldZ\",\"client\":", when,
		       (long)(tv.tv_usec / 1000));
	json_cstr(&line, e->client);
	px_buf_append_str(&line, ",\"method\":");
	json_str(&line, e->method, e->method_len);
	px_buf_append_str(&line, ",\"host\":");
	json_str(&line, e->host, e->host_len);
	px_buf_append_str(&line, ",\"path\":");
	json_str(&line, e->path, e->path_len);
	px_buf_appendf(&line,
		       ",\"status\":%d,\"bytes_in\":%llu,\"bytes_out\":%llu,\"origin\":", e->status,
		       (unsigned long long)e->bytes_in, (unsigned long long)e->bytes_out);
	json_cstr(&line, e->origin);
	px_buf_append_str(&line, ",\"x_cache\":");
	json_cstr(&line, e->x_cache);
	px_buf_append_str(&line, ",\"reason\":");
	json_cstr(&line, e->reason);
	px_buf_appendf(&line,
		       ",\"duration_ms\":%llu,\"request_id\":", (unsigned long long)e->duration_ms);
	json_cstr(&line, e->request_id);
	px_buf_append_str(&line, "}\n");
	if (line.data != NULL) {
		/* One write: O_APPEND keeps each line whole among the workers. */
		ssize_t n = write(log->fd, line.data, line.len);

		(void)n;
	}
	px_buf_free(&line);
}
