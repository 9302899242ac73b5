/*
 * What the profile check's two files (core/verify/profile.c, core/verify/profile_root.c)
 * share: the findings being collected, and small readers of extensions.
 */
#ifndef OA_CORE_PROFILE_H
#define OA_CORE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/x509.h>

/* The findings on a path: the first gives the reason and hint; the detail lists every one. */
struct oa__findings {
	const char *reason;
	const char *hint;
	char detail[1024];
	size_t n;
};

void oa__finding_add(struct oa__findings *f, const char *reason, const char *hint, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

bool oa__has_extension(gnutls_x509_crt_t c, const char *oid);

/* Whether the extension oid is present and marked critical. */
bool oa__critical_extension(gnutls_x509_crt_t c, const char *oid);

/* A cursor over DER the certificate's sender chose (core/verify/der.c reads each element). */
struct oa__der {
	const unsigned char *p;
	size_t left;
};

/* Takes the next element off d: its one-byte tag and its body. False when it does not parse. */
bool oa__der_take(struct oa__der *d, unsigned char *tag, struct oa__der *body);

/* The value of c's extension oid as a cursor over ext (freed by the caller); false if absent. */
bool oa__extension_der(gnutls_x509_crt_t c, const char *oid, gnutls_datum_t *ext,
		       struct oa__der *d);

/* malformed_aia: an authority information access, when present, is well formed. */
void oa__check_aia(struct oa__findings *f, gnutls_x509_crt_t c, const char *who);

/* The root rules (core/verify/profile_root.c). */
void oa__check_root(struct oa__findings *f, gnutls_x509_crt_t c);

#endif
