/* A certificate factory for tests and the demo (see pki.h). */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "originaudit/pki.h"

struct oa_pki_cert {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_datum_t pem;
	gnutls_datum_t der;
	gnutls_datum_t key_pem;
};

void oa_pki_spec_init(oa_pki_spec *spec, const char *common_name, int days)
{
	time_t now = time(NULL);

	memset(spec, 0, sizeof(*spec));
	spec->common_name = common_name;
	spec->path_len = -1;
	spec->not_before = now - 86400;
	spec->not_after = now + (time_t)days * 86400;
	spec->key_type = OA_PKI_KEY_EC_P256;
	spec->hash = GNUTLS_DIG_SHA256;
}

static int gen_key(gnutls_x509_privkey_t key, oa_pki_key_type type)
{
	switch (type) {
	case OA_PKI_KEY_RSA_1024:
		return gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 1024, 0);
	case OA_PKI_KEY_RSA_2048:
		return gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 2048, 0);
	case OA_PKI_KEY_RSA_2052:
		return gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 2052, 0);
	case OA_PKI_KEY_EC_P192:
		return gnutls_x509_privkey_generate(
		    key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP192R1), 0);
	case OA_PKI_KEY_EC_P384:
		return gnutls_x509_privkey_generate(
		    key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1), 0);
	case OA_PKI_KEY_DSA_2048:
		return gnutls_x509_privkey_generate(key, GNUTLS_PK_DSA, 2048, 0);
	case OA_PKI_KEY_EC_P256:
	default:
		return gnutls_x509_privkey_generate(
		    key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	}
}

static int copy_key(gnutls_x509_privkey_t dst, gnutls_x509_privkey_t src)
{
	return gnutls_x509_privkey_cpy(dst, src);
}

/* Signs crt with issuer_key under issuer_crt's name. */
static int sign(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer_crt,
		gnutls_x509_privkey_t issuer_key, gnutls_digest_algorithm_t hash)
{
	gnutls_privkey_t pk;
	int rc = gnutls_privkey_init(&pk);

	if (rc < 0) {
		return rc;
	}
	rc = gnutls_privkey_import_x509(pk, issuer_key, 0);
	if (rc >= 0) {
		rc = gnutls_x509_crt_privkey_sign(crt, issuer_crt, pk, hash, 0);
	}
	gnutls_privkey_deinit(pk);
	return rc;
}

/* Writes the spec's dNSName name constraints into crt (critical, as CA/B asks). */
static int set_name_constraints(gnutls_x509_crt_t crt, const oa_pki_spec *spec)
{
	gnutls_x509_name_constraints_t nc;
	int rc = gnutls_x509_name_constraints_init(&nc);

	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; rc >= 0 && i < spec->n_nc_permitted_dns; i++) {
		gnutls_datum_t name = {(unsigned char *)spec->nc_permitted_dns[i],
				       (unsigned)strlen(spec->nc_permitted_dns[i])};

		rc = gnutls_x509_name_constraints_add_permitted(nc, GNUTLS_SAN_DNSNAME, &name);
	}
	for (size_t i = 0; rc >= 0 && i < spec->n_nc_excluded_dns; i++) {
		gnutls_datum_t name = {(unsigned char *)spec->nc_excluded_dns[i],
				       (unsigned)strlen(spec->nc_excluded_dns[i])};

		rc = gnutls_x509_name_constraints_add_excluded(nc, GNUTLS_SAN_DNSNAME, &name);
	}
	if (rc >= 0) {
		rc = gnutls_x509_crt_set_name_constraints(crt, nc, 1);
	}
	gnutls_x509_name_constraints_deinit(nc);
	return rc;
}

int oa_pki_issue(const oa_pki_spec *spec, const oa_pki_cert *issuer, oa_pki_cert **out,
		 oa_error *err)
{
	oa_pki_cert *c = calloc(1, sizeof(*c));
	unsigned char serial[16];
	unsigned char keyid[64];
	size_t keyid_len = sizeof(keyid);
	int rc;

	if (c == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	if (gnutls_x509_crt_init(&c->crt) < 0 || gnutls_x509_privkey_init(&c->key) < 0) {
		rc = oa_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	rc = spec->reuse_key_of != NULL ? copy_key(c->key, spec->reuse_key_of->key)
					: gen_key(c->key, spec->key_type);
	if (rc < 0) {
		rc = oa_error_set(err, -EIO, "key generation failed: %s", gnutls_strerror(rc));
		goto fail;
	}
	gnutls_x509_crt_set_version(c->crt, 3);
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	gnutls_x509_crt_set_serial(c->crt, serial, sizeof(serial));
	gnutls_x509_crt_set_activation_time(c->crt, spec->not_before);
	gnutls_x509_crt_set_expiration_time(c->crt, spec->not_after);
	if (spec->organization != NULL) {
		gnutls_x509_crt_set_dn_by_oid(c->crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
					      spec->organization,
					      (unsigned)strlen(spec->organization));
	}
	if (spec->common_name != NULL) {
		gnutls_x509_crt_set_dn_by_oid(c->crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					      spec->common_name,
					      (unsigned)strlen(spec->common_name));
	}
	rc = gnutls_x509_crt_set_key(c->crt, c->key);
	if (rc < 0) {
		rc = oa_error_set(err, -EIO, "set key: %s", gnutls_strerror(rc));
		goto fail;
	}
	if (spec->san_der != NULL) {
		gnutls_x509_crt_set_extension_by_oid(c->crt, "2.5.29.17", spec->san_der,
						     spec->san_der_size, 0);
	}
	for (size_t i = 0; spec->san_der == NULL && i < spec->n_dns_names; i++) {
		gnutls_x509_crt_set_subject_alt_name(c->crt, GNUTLS_SAN_DNSNAME, spec->dns_names[i],
						     (unsigned)strlen(spec->dns_names[i]),
						     GNUTLS_FSAN_APPEND);
	}
	gnutls_x509_crt_set_basic_constraints(c->crt, spec->is_ca, spec->path_len);
	if (spec->is_ca) {
		gnutls_x509_crt_set_key_usage(
		    c->crt, (spec->ca_without_cert_sign ? 0 : GNUTLS_KEY_KEY_CERT_SIGN) |
				GNUTLS_KEY_CRL_SIGN | GNUTLS_KEY_DIGITAL_SIGNATURE);
		/* A CA has no extended key usage unless a test asks for one. */
		if (spec->purpose_oid != NULL) {
			gnutls_x509_crt_set_key_purpose_oid(c->crt, spec->purpose_oid, 0);
		}
	} else {
		gnutls_x509_crt_set_key_usage(c->crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							  GNUTLS_KEY_KEY_ENCIPHERMENT);
		if (spec->empty_eku) {
			/* SEQUENCE {}: present, but not one purpose. */
			gnutls_x509_crt_set_extension_by_oid(
			    c->crt, GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE, "\x30\x00", 2, 0);
		} else if (!spec->omit_eku) {
			gnutls_x509_crt_set_key_purpose_oid(
			    c->crt,
			    spec->purpose_oid ? spec->purpose_oid : GNUTLS_KP_TLS_WWW_SERVER, 0);
		}
	}
	if (spec->is_ca && spec->empty_name_constraints) {
		/* NameConstraints ::= SEQUENCE {}: malformed (RFC 5280 4.2.1.10). */
		gnutls_x509_crt_set_extension_by_oid(c->crt, "2.5.29.30", "\x30\x00", 2, 1);
	}
	if (spec->is_ca && spec->nc_der != NULL) {
		gnutls_x509_crt_set_extension_by_oid(c->crt, "2.5.29.30", spec->nc_der,
						     spec->nc_der_size, 1);
	} else if (spec->is_ca && spec->n_nc_permitted_dns + spec->n_nc_excluded_dns > 0) {
		rc = set_name_constraints(c->crt, spec);
		if (rc < 0) {
			rc = oa_error_set(err, -EIO, "name constraints: %s", gnutls_strerror(rc));
			goto fail;
		}
	}
	if (!spec->omit_key_ids && gnutls_x509_crt_get_key_id(c->crt, 0, keyid, &keyid_len) >= 0) {
		gnutls_x509_crt_set_subject_key_id(c->crt, keyid, keyid_len);
	}
	if (spec->aia_ca_issuers != NULL) {
		gnutls_datum_t uri = {(unsigned char *)spec->aia_ca_issuers,
				      (unsigned)strlen(spec->aia_ca_issuers)};
		gnutls_x509_crt_set_authority_info_access(c->crt, GNUTLS_IA_CAISSUERS_URI, &uri);
	}
	gnutls_digest_algorithm_t hash = spec->hash != 0 ? spec->hash : GNUTLS_DIG_SHA256;
	if (issuer != NULL) {
		keyid_len = sizeof(keyid);
		if (!spec->omit_key_ids &&
		    gnutls_x509_crt_get_subject_key_id(issuer->crt, keyid, &keyid_len, NULL) >= 0) {
			gnutls_x509_crt_set_authority_key_id(c->crt, keyid, keyid_len);
		}
		rc = sign(c->crt, issuer->crt, issuer->key, hash);
	} else {
		rc = sign(c->crt, c->crt, c->key, hash);
	}
	if (rc < 0) {
		rc = oa_error_set(err, -EIO, "signing '%s' failed: %s",
				  spec->common_name ? spec->common_name : "(no CN)",
				  gnutls_strerror(rc));
		goto fail;
	}
	if (gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_PEM, &c->pem) < 0 ||
	    gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_DER, &c->der) < 0 ||
	    gnutls_x509_privkey_export2_pkcs8(c->key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
					      &c->key_pem) < 0) {
		rc = oa_error_set(err, -EIO, "export failed");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	oa_pki_cert_destroy(c);
	return rc;
}

const gnutls_datum_t *oa_pki_cert_pem(const oa_pki_cert *cert)
{
	return &cert->pem;
}

const gnutls_datum_t *oa_pki_cert_der(const oa_pki_cert *cert)
{
	return &cert->der;
}

const gnutls_datum_t *oa_pki_key_pem(const oa_pki_cert *cert)
{
	return &cert->key_pem;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int write_file(const char *path, const gnutls_datum_t *const *parts, size_t n, mode_t mode,
		      oa_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int rc = 0;

	if (fd < 0) {
		int e = errno;
		return oa_error_set(err, -e, "%s: %s", path, strerror(e));
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = write_all(fd, parts[i]->data, parts[i]->size);
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
	}
	if (rc < 0) {
		return oa_error_set(err, rc, "%s: write failed: %s", path, strerror(-rc));
	}
	return 0;
}

int oa_pki_write_chain(const char *path, const oa_pki_cert *const *certs, size_t n, oa_error *err)
{
	const gnutls_datum_t **parts = calloc(n ? n : 1, sizeof(*parts));
	int rc;

	if (parts == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		parts[i] = &certs[i]->pem;
	}
	rc = write_file(path, parts, n, 0644, err);
	free(parts);
	return rc;
}

int oa_pki_write_key(const char *path, const oa_pki_cert *cert, oa_error *err)
{
	const gnutls_datum_t *parts[1] = {&cert->key_pem};

	return write_file(path, parts, 1, 0600, err);
}

void oa_pki_cert_destroy(oa_pki_cert *cert)
{
	if (cert == NULL) {
		return;
	}
	if (cert->crt != NULL) {
		gnutls_x509_crt_deinit(cert->crt);
	}
	if (cert->key != NULL) {
		gnutls_x509_privkey_deinit(cert->key);
	}
	gnutls_free(cert->pem.data);
	gnutls_free(cert->der.data);
	gnutls_free(cert->key_pem.data);
	free(cert);
}
