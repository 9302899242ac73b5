/* A certificate chain exactly as an origin sends it: wire order, leaf first. */
#ifndef ORIGINAUDIT_CHAIN_H
#define ORIGINAUDIT_CHAIN_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stddef.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* More certificates than this in one chain is refused as malformed input. */
#define OA_CHAIN_MAX_CERTS 1000

typedef struct oa_chain oa_chain;

/*
 * Parses every "-----BEGIN CERTIFICATE-----" block of a PEM buffer, in order.
 * label names the input in error messages (a file name). Empty input, DER,
 * garbage, truncated blocks or broken base64 fail with -EBADMSG (the file
 * cannot be used); a block that decodes to something that is no valid
 * certificate (duplicate extensions, a malformed SAN, ...) fails with -EPROTO
 * (a malformed certificate: a verdict, see oa_result_malformed). Both with a
 * message naming the line and the certificate. The caller owns *out.
 */
int oa_chain_from_pem(const void *data, size_t len, const char *label, oa_chain **out,
		      oa_error *err);

/* Reads and parses a PEM file (see oa_chain_from_pem); caller owns *out. */
int oa_chain_load_file(const char *path, oa_chain **out, oa_error *err);

/*
 * Builds a chain from DER certificates as received in a TLS handshake; caller
 * owns *out. -EPROTO names a certificate that does not parse.
 */
int oa_chain_from_der(const gnutls_datum_t *certs, size_t n, oa_chain **out, oa_error *err);

/* Number of certificates in the chain. */
size_t oa_chain_length(const oa_chain *chain);

/* Certificate at wire position i; owned by the chain. */
gnutls_x509_crt_t oa_chain_get(const oa_chain *chain, size_t i);

/* Frees the chain; accepts NULL. */
void oa_chain_destroy(oa_chain *chain);

#ifdef __cplusplus
}
#endif

#endif
