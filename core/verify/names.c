/* Host name normalisation and RFC 6125 name matching. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "originaudit/names.h"

/*
 * A character of a name a viewer can ask for: letters, digits, '-', and '_'
 * (Host headers and DNS carry it: _dmarc, foo_bar). A certificate name with
 * '_' is no valid DNS name and never matches (oa_name_matches).
 */
static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A certificate's DNS name character: letter, digit or '-' (RFC 5280 4.2.1.6, RFC 1034 3.5). */
static bool is_cert_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static int check_ldh(const char *name, const char *orig, oa_error *err)
{
	size_t len = strlen(name);
	size_t label = 0;

	if (len == 0) {
		return oa_error_set(err, -EINVAL, "host name '%s' is empty", orig);
	}
	if (len > 253) {
		return oa_error_set(err, -EINVAL, "host name '%s' is longer than 253 characters",
				    orig);
	}
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0) {
				return oa_error_set(err, -EINVAL,
						    "host name '%s' has an empty label", orig);
			}
			label = 0;
			continue;
		}
		if (!is_ldh(name[i])) {
			return oa_error_set(
			    err, -EINVAL,
			    "host name '%s' has a character that is not a letter, digit, "
			    "'-', '_' or '.'",
			    orig);
		}
		label++;
		if (label > 63) {
			return oa_error_set(err, -EINVAL,
					    "host name '%s' has a label longer than 63 characters",
					    orig);
		}
	}
	if (label == 0) {
		return oa_error_set(err, -EINVAL, "host name '%s' has an empty label", orig);
	}
	return 0;
}

int oa_name_normalize(const char *name, char out[OA_NAME_MAX], oa_error *err)
{
	char buf[OA_NAME_MAX + 8];
	size_t len = strlen(name);
	bool ascii = true;

	if (len > 0 && name[len - 1] == '.') {
		len--;
	}
	if (len == 0) {
		return oa_error_set(err, -EINVAL, "host name '%s' is empty", name);
	}
	if (len > 4 * OA_NAME_MAX) {
		return oa_error_set(err, -EINVAL, "host name '%s' is longer than 253 characters",
				    name);
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)name[i] >= 0x80) {
			ascii = false;
		}
	}
	if (ascii) {
		if (len >= sizeof(buf)) {
			return oa_error_set(err, -EINVAL,
					    "host name '%s' is longer than 253 characters", name);
		}
		for (size_t i = 0; i < len; i++) {
			char c = name[i];

			buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		buf[len] = '\0';
	} else {
		gnutls_datum_t ace = {NULL, 0};
		int rc = gnutls_idna_map(name, (unsigned)len, &ace, 0);

		if (rc < 0) {
			return oa_error_set(
			    err, -EINVAL,
			    "host name '%s' is not a valid internationalised name: %s", name,
			    gnutls_strerror(rc));
		}
		if (ace.size >= sizeof(buf)) {
			gnutls_free(ace.data);
			return oa_error_set(err, -EINVAL,
					    "host name '%s' is longer than 253 characters", name);
		}
		for (size_t i = 0; i < ace.size; i++) {
			char c = (char)ace.data[i];

			buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		buf[ace.size] = '\0';
		gnutls_free(ace.data);
	}
	int rc = check_ldh(buf, name, err);
	if (rc < 0) {
		return rc;
	}
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

/* Compares a and b over n bytes, ignoring ASCII case. */
static bool equal_nocase(const char *a, const char *b, size_t n)
{
	return strncasecmp(a, b, n) == 0;
}

bool oa_name_matches(const char *pattern, const char *host)
{
	size_t plen = strlen(pattern);
	size_t hlen = strlen(host);

	if (plen > 0 && pattern[plen - 1] == '.') {
		plen--;
	}
	if (plen == 0 || hlen == 0 || strchr(host, '*') != NULL) {
		return false;
	}
	/*
	 * Only a valid DNS name matches: letters, digits and '-' in non-empty
	 * labels ('*' is judged below). An underscore or an empty label in a SAN
	 * never matches, whatever the host (x509-limbo rfc5280::san::underscore-dns).
	 */
	for (size_t i = 0; i < plen; i++) {
		char c = pattern[i];

		if (c == '.') {
			if (i == 0 || pattern[i - 1] == '.') {
				return false;
			}
		} else if (c != '*' && !is_cert_ldh(c)) {
			return false;
		}
	}
	const char *star = memchr(pattern, '*', plen);
	if (star == NULL) {
		return plen == hlen && equal_nocase(pattern, host, plen);
	}
	/* The wildcard must be the whole left-most label, alone in the pattern. */
	if (star != pattern || plen < 2 || pattern[1] != '.' ||
	    memchr(pattern + 1, '*', plen - 1)) {
		return false;
	}
	const char *rest = pattern + 2;
	size_t rlen = plen - 2;
	/* At least two labels after the wildcard: "*.com" covers a whole TLD. */
	if (rlen == 0 || memchr(rest, '.', rlen) == NULL || rest[0] == '.') {
		return false;
	}
	const char *dot = strchr(host, '.');
	if (dot == NULL || dot == host) {
		return false;
	}
	size_t hrest = hlen - (size_t)(dot + 1 - host);
	return hrest == rlen && equal_nocase(dot + 1, rest, rlen);
}
