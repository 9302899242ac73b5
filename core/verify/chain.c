/* Parsing the chain an origin sends, in wire order, with precise errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "originaudit/file.h"

struct oa_chain {
	gnutls_x509_crt_t *certs;
	size_t n;
	size_t cap;
};

static const char pem_begin[] = "-----BEGIN ";
static const char pem_end[] = "-----END ";
static const char cert_label[] = "CERTIFICATE-----";

static int chain_new(oa_chain **out)
{
	oa_chain *chain = calloc(1, sizeof(*chain));

	if (chain == NULL) {
		return -ENOMEM;
	}
	*out = chain;
	return 0;
}

static int chain_append(oa_chain *chain, gnutls_x509_crt_t crt)
{
	if (chain->n == chain->cap) {
		size_t cap = chain->cap == 0 ? 4 : chain->cap * 2;
		gnutls_x509_crt_t *certs = realloc(chain->certs, cap * sizeof(*certs));

		if (certs == NULL) {
			return -ENOMEM;
		}
		chain->certs = certs;
		chain->cap = cap;
	}
	chain->certs[chain->n] = crt;
	chain->n++;
	return 0;
}

/* Line number (1-based) of offset off in data. */
static size_t line_of(const char *data, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++) {
		if (data[i] == '\n') {
			line++;
		}
	}
	return line;
}

static const char *find(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle));
}

static int not_pem_error(const unsigned char *data, size_t len, const char *label, oa_error *err)
{
	size_t text = 0;

	if (len == 0) {
		return oa_error_set(err, -EBADMSG, "%s: file is empty, expected PEM certificates",
				    label);
	}
	/* DER certificates start with a SEQUENCE tag and a long-form length. */
	if (len > 4 && data[0] == 0x30 && (data[1] == 0x82 || data[1] == 0x81 || data[1] == 0x83)) {
		return oa_error_set(err, -EBADMSG,
				    "%s: looks like DER (binary), expected PEM; convert it with: "
				    "openssl x509 -inform der -in %s -out %s.pem",
				    label, label, label);
	}
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n' || data[i] == '\r' || data[i] == '\t' ||
		    (data[i] >= 0x20 && data[i] < 0x7f)) {
			text++;
		}
	}
	if (text < len) {
		return oa_error_set(err, -EBADMSG,
				    "%s: binary data with no \"-----BEGIN CERTIFICATE-----\" block",
				    label);
	}
	return oa_error_set(err, -EBADMSG, "%s: no \"-----BEGIN CERTIFICATE-----\" block found",
			    label);
}

int oa_chain_from_pem(const void *data, size_t len, const char *label, oa_chain **out,
		      oa_error *err)
{
	const char *p = data;
	const char *end;
	oa_chain *chain = NULL;
	int rc;

	if (data == NULL || len == 0) {
		return not_pem_error((const unsigned char *)"", 0, label, err);
	}
	end = p + len;
	rc = chain_new(&chain);
	if (rc < 0) {
		return oa_error_set(err, rc, "%s: out of memory", label);
	}
	for (;;) {
		const char *begin = find(p, (size_t)(end - p), pem_begin);

		if (begin == NULL) {
			break;
		}
		const char *type = begin + strlen(pem_begin);
		size_t left = (size_t)(end - type);
		const char *stop = find(type, left, pem_end);

		/* Line numbers are counted only for errors, keeping parsing linear. */
		if (stop == NULL) {
			rc = oa_error_set(
			    err, -EBADMSG,
			    "%s: line %zu: PEM block has no \"-----END\" line (truncated "
			    "file?)",
			    label, line_of(data, (size_t)(begin - (const char *)data)));
			goto fail;
		}
		const char *after = stop + strlen(pem_end);
		const char *eol = memchr(after, '\n', (size_t)(end - after));
		/* The closing dashes must be on the END line itself, not the next BEGIN. */
		const char *close =
		    find(after, (size_t)((eol != NULL ? eol : end) - after), "-----");
		if (close == NULL) {
			rc =
			    oa_error_set(err, -EBADMSG, "%s: line %zu: PEM END line is truncated",
					 label, line_of(data, (size_t)(stop - (const char *)data)));
			goto fail;
		}
		close += 5;
		bool is_cert =
		    left >= strlen(cert_label) && memcmp(type, cert_label, strlen(cert_label)) == 0;
		/* Keys and other blocks in a combined file are not sent on the wire. */
		if (is_cert) {
			gnutls_x509_crt_t crt;
			gnutls_datum_t block = {(unsigned char *)begin, (unsigned)(close - begin)};

			if (chain->n >= OA_CHAIN_MAX_CERTS) {
				rc = oa_error_set(err, -EBADMSG, "%s: more than %d certificates",
						  label, OA_CHAIN_MAX_CERTS);
				goto fail;
			}
			if (gnutls_x509_crt_init(&crt) < 0) {
				rc = oa_error_set(err, -ENOMEM, "%s: out of memory", label);
				goto fail;
			}
			/*
			 * Broken base64 or armour is a file problem (-EBADMSG); a block
			 * that decodes to DER that is no valid certificate is a
			 * malformed certificate (-EPROTO), which is a verdict.
			 */
			gnutls_datum_t der = {NULL, 0};
			int grc = gnutls_pem_base64_decode2("CERTIFICATE", &block, &der);
			bool decoded = grc >= 0;
			if (decoded) {
				grc = gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER);
				gnutls_free(der.data);
			}
			if (grc < 0) {
				gnutls_x509_crt_deinit(crt);
				rc = oa_error_set(
				    err, decoded ? -EPROTO : -EBADMSG,
				    "%s: line %zu: certificate #%zu cannot be decoded: %s", label,
				    line_of(data, (size_t)(begin - (const char *)data)),
				    chain->n + 1, gnutls_strerror(grc));
				goto fail;
			}
			if (chain_append(chain, crt) < 0) {
				gnutls_x509_crt_deinit(crt);
				rc = oa_error_set(err, -ENOMEM, "%s: out of memory", label);
				goto fail;
			}
		}
		p = close;
	}
	if (chain->n == 0) {
		rc = not_pem_error(data, len, label, err);
		goto fail;
	}
	*out = chain;
	return 0;

fail:
	oa_chain_destroy(chain);
	return rc;
}

int oa__read_file(const char *path, gnutls_datum_t *data, oa_error *err)
{
	char *buf;
	size_t len;
	int rc = oa_read_file(path, &buf, &len, err);

	if (rc < 0) {
		return rc;
	}
	data->data = (unsigned char *)buf;
	data->size = (unsigned)len;
	return 0;
}

int oa_chain_load_file(const char *path, oa_chain **out, oa_error *err)
{
	gnutls_datum_t data;
	int rc = oa__read_file(path, &data, err);

	if (rc < 0) {
		return rc;
	}
	rc = oa_chain_from_pem(data.data, data.size, path, out, err);
	free(data.data);
	return rc;
}

int oa_chain_from_der(const gnutls_datum_t *certs, size_t n, oa_chain **out, oa_error *err)
{
	oa_chain *chain = NULL;
	int rc;

	if (n == 0) {
		return oa_error_set(err, -EBADMSG, "the server sent no certificate");
	}
	if (n > OA_CHAIN_MAX_CERTS) {
		return oa_error_set(err, -EBADMSG, "the server sent more than %d certificates",
				    OA_CHAIN_MAX_CERTS);
	}
	rc = chain_new(&chain);
	if (rc < 0) {
		return oa_error_set(err, rc, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		gnutls_x509_crt_t crt;

		if (gnutls_x509_crt_init(&crt) < 0) {
			rc = oa_error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		int grc = gnutls_x509_crt_import(crt, &certs[i], GNUTLS_X509_FMT_DER);
		if (grc < 0) {
			gnutls_x509_crt_deinit(crt);
			rc = oa_error_set(err, -EPROTO, "certificate #%zu cannot be decoded: %s",
					  i + 1, gnutls_strerror(grc));
			goto fail;
		}
		if (chain_append(chain, crt) < 0) {
			gnutls_x509_crt_deinit(crt);
			rc = oa_error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	*out = chain;
	return 0;
fail:
	oa_chain_destroy(chain);
	return rc;
}

size_t oa_chain_length(const oa_chain *chain)
{
	return chain->n;
}

gnutls_x509_crt_t oa_chain_get(const oa_chain *chain, size_t i)
{
	return i < chain->n ? chain->certs[i] : NULL;
}

void oa_chain_destroy(oa_chain *chain)
{
	if (chain == NULL) {
		return;
	}
	for (size_t i = 0; i < chain->n; i++) {
		gnutls_x509_crt_deinit(chain->certs[i]);
	}
	free(chain->certs);
	free(chain);
}
