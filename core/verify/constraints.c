/*
 * The CA constraints the core enforces itself on the path it built, because
 * GnuTLS 3.7 gets them wrong or leaves them out:
 *  - pathLenConstraint, with self-issued intermediates not counted
 *    (RFC 5280 6.1.4 (l)); the trust anchor's own constraint applies too;
 *  - name constraints (core/verify/name_constraints.c);
 *  - keyCertSign on every issuer that has a key usage extension;
 *  - an extended key usage extension that lists no purpose (RFC 5280
 *    4.2.1.12: valid for nothing; GnuTLS reads it as "any").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NAME_BUF 256

/* Whether crt has an extended key usage extension that lists no purpose. */
static bool eku_empty(gnutls_x509_crt_t crt)
{
	gnutls_datum_t ext = {NULL, 0};
	unsigned critical = 0;
	char oid[128];
	size_t size = sizeof(oid);

	if (gnutls_x509_crt_get_extension_by_oid2(crt, GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE, 0,
						  &ext, &critical) < 0) {
		return false;
	}
	gnutls_free(ext.data);
	return gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &size, NULL) ==
	       GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

static unsigned fail(char *problem, size_t size, unsigned bit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static unsigned fail(char *problem, size_t size, unsigned bit, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(problem, size, fmt, ap);
	va_end(ap);
	return bit;
}

/* pathLenConstraint over certs[1..n-1] (certs[n-1] the anchor), self-issued not counted. */
static unsigned check_path_length(gnutls_x509_crt_t const *certs, size_t n, char *problem,
				  size_t size)
{
	char name[NAME_BUF];
	char ca_name[NAME_BUF];
	long max = -1; /* unlimited */
	size_t limiter = n;

	for (size_t k = n; k-- > 1;) {
		gnutls_x509_crt_t c = certs[k];
		unsigned ca = 0;
		int pathlen = -1;

		/* An intermediate (not the anchor, not the leaf) uses up one step. */
		if (k < n - 1 && !oa__self_issued(c)) {
			if (max == 0) {
				oa__short_name(c, name, sizeof(name));
				oa__short_name(certs[limiter], ca_name, sizeof(ca_name));
				return fail(problem, size, GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
					    "the path length constraint of '%s' allows no further "
					    "intermediate, but '%s' is one",
					    ca_name, name);
			}
			if (max > 0) {
				max--;
			}
		}
		if (gnutls_x509_crt_get_basic_constraints(c, NULL, &ca, &pathlen) >= 0 && ca &&
		    pathlen >= 0 && (max < 0 || pathlen < max)) {
			max = pathlen;
			limiter = k;
		}
	}
	return 0;
}

unsigned oa__path_constraints(gnutls_x509_crt_t const *certs, size_t n, char *problem, size_t size)
{
	char name[NAME_BUF];
	char ca_name[NAME_BUF];
	unsigned bit;

	problem[0] = '\0';
	for (size_t k = 0; k < n; k++) {
		if (eku_empty(certs[k])) {
			oa__short_name(certs[k], name, sizeof(name));
			return fail(problem, size, GNUTLS_CERT_PURPOSE_MISMATCH,
				    "'%s' has an extended key usage extension that lists no "
				    "purpose",
				    name);
		}
	}
	bit = check_path_length(certs, n, problem, size);
	if (bit != 0) {
		return bit;
	}
	for (size_t k = 1; k < n; k++) {
		unsigned usage = 0;

		if (gnutls_x509_crt_get_key_usage(certs[k], &usage, NULL) >= 0 &&
		    (usage & GNUTLS_KEY_KEY_CERT_SIGN) == 0) {
			oa__short_name(certs[k], ca_name, sizeof(ca_name));
			oa__short_name(certs[k - 1], name, sizeof(name));
			return fail(problem, size, GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
				    "'%s' issued '%s' but its key usage lacks keyCertSign", ca_name,
				    name);
		}
	}
	return oa__check_name_constraints(certs, n, problem, size);
}
