/*
 * What proxy/http_head.c (the lexical checks) shares with proxy/http_build.c
 * (the message writers) and nothing else uses.
 */
#ifndef ORIGINAUDIT_PROXY_HTTP_INTERNAL_H
#define ORIGINAUDIT_PROXY_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "http_head.h"

/* Whether [s, s + len) is a non-empty HTTP token (every byte a tchar). */
bool px__is_token(const char *s, size_t len);

/* Whether the proxy's own string s has no control character but HTAB, and no DEL. */
bool px__text_safe(const char *s);

/* Whether [s, s + len) is an origin-form target: starts with '/', visible bytes only. */
bool px__target_ok(const char *s, size_t len);

/* Whether [s, s + len) is a host name or IP literal with an optional port, and nothing else. */
bool px__host_ok(const char *s, size_t len);

/* Whether [s, s + len) is a valid reason phrase: HTAB, SP, VCHAR and obs-text only. */
bool px__reason_ok(const char *s, size_t len);

/* Whether every field name of head is a token and every value is free of CR, LF and NUL. */
bool px__fields_safe(const px_head *head);

#endif
