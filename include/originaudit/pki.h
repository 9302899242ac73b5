/*
 * A small certificate factory for tests and the demo: issues certificates
 * with chosen names, validity, key types and hashes, so fixtures are always
 * relative to "now" and no private key is ever committed.
 */
#ifndef ORIGINAUDIT_PKI_H
#define ORIGINAUDIT_PKI_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum oa_pki_key_type {
	OA_PKI_KEY_EC_P256 = 0,
	OA_PKI_KEY_RSA_1024,
	OA_PKI_KEY_RSA_2048,
	/* Keys no public CA may certify (tests of the key rules). */
	OA_PKI_KEY_RSA_2052,
	OA_PKI_KEY_EC_P192,
	OA_PKI_KEY_DSA_2048,
	OA_PKI_KEY_EC_P384,
} oa_pki_key_type;

typedef struct oa_pki_spec {
	/* Subject CN; NULL for no CN at all. */
	const char *common_name;
	/* Extra subject organisation, to tell same-CN certificates apart. */
	const char *organization;
	const char *const *dns_names;
	size_t n_dns_names;
	bool is_ca;
	/* Path length constraint for a CA; negative for none. */
	int path_len;
	time_t not_before;
	time_t not_after;
	oa_pki_key_type key_type;
	/* GNUTLS_DIG_SHA256 when 0. */
	gnutls_digest_algorithm_t hash;
	/* Authority Information Access caIssuers URI, or NULL. */
	const char *aia_ca_issuers;
	/* Extended key usage of a leaf (NULL: TLS server authentication); of a CA: none when NULL. */
	const char *purpose_oid;
	/* Tests: an extended key usage extension that lists no purpose at all (instead of purpose_oid). */
	bool empty_eku;
	/* Tests: a leaf without any extended key usage extension. */
	bool omit_eku;
	/* Tests: a CA's name constraints extension with neither permitted nor excluded subtrees. */
	bool empty_name_constraints;
	/* A CA's name constraints: permitted and excluded dNSName subtrees (a leading '.' is kept). */
	const char *const *nc_permitted_dns;
	size_t n_nc_permitted_dns;
	const char *const *nc_excluded_dns;
	size_t n_nc_excluded_dns;
	/* Tests: no subject or authority key identifier (issuers then match by name only). */
	bool omit_key_ids;
	/* Tests: a CA's name constraints extension as these DER bytes, verbatim (critical). */
	const unsigned char *nc_der;
	size_t nc_der_size;
	/* Tests: extra subjectAltName entries beyond dns_names, as GeneralName DER, verbatim
	 * (the whole SAN extension is then written by hand). */
	const unsigned char *san_der;
	size_t san_der_size;
	/* Tests: a CA whose key usage lacks keyCertSign. */
	bool ca_without_cert_sign;
	/* Reuse this certificate's key instead of generating one (cross-signing). */
	const struct oa_pki_cert *reuse_key_of;
} oa_pki_spec;

typedef struct oa_pki_cert oa_pki_cert;

/* A spec for a certificate valid from a day ago for 'days' days, EC P-256, SHA-256. */
void oa_pki_spec_init(oa_pki_spec *spec, const char *common_name, int days);

/* Issues a certificate signed by issuer (NULL: self-signed). Caller owns *out. */
int oa_pki_issue(const oa_pki_spec *spec, const oa_pki_cert *issuer, oa_pki_cert **out,
		 oa_error *err);

/* PEM of the certificate; owned by cert. */
const gnutls_datum_t *oa_pki_cert_pem(const oa_pki_cert *cert);

/* DER of the certificate; owned by cert. */
const gnutls_datum_t *oa_pki_cert_der(const oa_pki_cert *cert);

/* PEM of the private key (PKCS#8); owned by cert. */
const gnutls_datum_t *oa_pki_key_pem(const oa_pki_cert *cert);

/* Writes the certificates' PEM, in the given order, to path. */
int oa_pki_write_chain(const char *path, const oa_pki_cert *const *certs, size_t n, oa_error *err);

/* Writes cert's private key PEM to path (mode 0600). */
int oa_pki_write_key(const char *path, const oa_pki_cert *cert, oa_error *err);

/* Frees cert; accepts NULL. */
void oa_pki_cert_destroy(oa_pki_cert *cert);

#ifdef __cplusplus
}
#endif

#endif
