/*
 * The vocabulary of the echo origin (proxy_harness_internal.h): what the
 * X-Echo-* fields of a request ask it for (see PH_EO_ECHO in
 * proxy_harness.h), and the reason phrases of the statuses it answers with.
 */
#include "proxy_harness.h"
#include "proxy_harness_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ph__reason_phrase(int status)
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

void ph__echo_controls(const char *head, ph_echo_controls *ec)
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
