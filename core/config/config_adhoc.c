/* Ports and numeric addresses as curl's command line writes them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config_adhoc.h"

int oa__adhoc_bad(oa_error *err, const char *what, const char *fmt, ...)
{
	va_list ap;

	oa_error_set(err, -EINVAL, "'%s': ", what);
	if (err != NULL) {
		size_t used = strlen(err->msg);

		va_start(ap, fmt);
		vsnprintf(err->msg + used, sizeof(err->msg) - used, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int oa__adhoc_port(const char *s, size_t len, unsigned *out)
{
	unsigned long n = 0;

	if (len == 0 || len > 5) {
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -EINVAL;
		}
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n < 1 || n > 65535) {
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

static int canonical(const char *text, int family, char *out)
{
	unsigned char bin[sizeof(struct in6_addr)];

	if (inet_pton(family, text, bin) != 1) {
		return -EINVAL;
	}
	/* Canonical text, so duplicates compare as strings and reports read the same. */
	if (inet_ntop(family, bin, out, OA_RESOLVE_ADDRESS_MAX) == NULL) {
		return -EINVAL;
	}
	return 0;
}

int oa__adhoc_address(const char *s, size_t len, bool bare_v6, char *out)
{
	char text[OA_RESOLVE_ADDRESS_MAX];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		if (len - 2 >= sizeof(text)) {
			return -EINVAL;
		}
		memcpy(text, s + 1, len - 2);
		text[len - 2] = '\0';
		return canonical(text, AF_INET6, out);
	}
	if (len >= sizeof(text)) {
		return -EINVAL;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	if (canonical(text, AF_INET, out) == 0) {
		return 0;
	}
	if (bare_v6) {
		return canonical(text, AF_INET6, out);
	}
	return -EINVAL;
}

bool oa__adhoc_is_address(const char *s)
{
	unsigned char bin[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, bin) == 1 || inet_pton(AF_INET6, s, bin) == 1;
}
