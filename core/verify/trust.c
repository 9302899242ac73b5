/* The trust store: a PEM bundle of roots loaded into a GnuTLS trust list. */
#include <errno.h>
#include <gnutls/crypto.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "oa_config.h"

struct oa_trust_store {
	gnutls_x509_trust_list_t list;
	/* The trust list's certificates (owned by it), for path building over every candidate. */
	gnutls_x509_crt_t *certs;
	unsigned n_certs;
	char *path;
	size_t count;
	char sha256[65];
};

int oa_trust_store_load(const char *path, oa_trust_store **out, oa_error *err)
{
	gnutls_datum_t data = {NULL, 0};
	unsigned char digest[32];
	oa_trust_store *store;
	int rc = oa__read_file(path, &data, err);

	if (rc < 0) {
		return rc;
	}
	store = calloc(1, sizeof(*store));
	if (store == NULL) {
		rc = oa_error_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail_data;
	}
	store->path = strdup(path);
	if (store->path == NULL || gnutls_x509_trust_list_init(&store->list, 0) < 0) {
		rc = oa_error_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail_store;
	}
	/* Parsed once: the trust list owns the certificates, the store indexes them too. */
	rc = gnutls_x509_crt_list_import2(&store->certs, &store->n_certs, &data,
					  GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || store->n_certs == 0) {
		gnutls_free(store->certs);
		store->certs = NULL;
		store->n_certs = 0;
		rc = oa_error_set(err, -EBADMSG, "%s: no PEM certificate in the CA bundle%s%s",
				  path, rc < 0 ? ": " : "", rc < 0 ? gnutls_strerror(rc) : "");
		goto fail_store;
	}
	int added = gnutls_x509_trust_list_add_cas(store->list, store->certs, store->n_certs, 0);
	if (added < 0) {
		for (unsigned i = 0; i < store->n_certs; i++) {
			gnutls_x509_crt_deinit(store->certs[i]);
		}
		gnutls_free(store->certs);
		store->certs = NULL;
		store->n_certs = 0;
		rc = oa_error_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail_store;
	}
	store->count = (size_t)added;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data.data, data.size, digest) < 0) {
		rc = oa_error_set(err, -EIO, "%s: cannot hash the CA bundle", path);
		goto fail_store;
	}
	oa__hex(digest, sizeof(digest), store->sha256);
	free(data.data);
	*out = store;
	return 0;

fail_store:
	oa_trust_store_destroy(store);
fail_data:
	free(data.data);
	return rc;
}

const char *oa_trust_store_path(const oa_trust_store *store)
{
	return store->path;
}

size_t oa_trust_store_count(const oa_trust_store *store)
{
	return store->count;
}

const char *oa_trust_store_sha256(const oa_trust_store *store)
{
	return store->sha256;
}

size_t oa__trust_store_issuers(const oa_trust_store *store, gnutls_x509_crt_t crt,
			       gnutls_x509_crt_t *out, size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < store->n_certs && n < max; i++) {
		gnutls_x509_crt_t c = store->certs[i];
		bool seen = false;

		if (!oa__issued_by(crt, c)) {
			continue;
		}
		for (size_t j = 0; j < n && !seen; j++) {
			seen = gnutls_x509_crt_equals(out[j], c) != 0;
		}
		if (!seen) {
			out[n++] = c;
		}
	}
	return n;
}

bool oa__trust_store_has(const oa_trust_store *store, gnutls_x509_crt_t crt,
			 gnutls_x509_crt_t *anchor)
{
	for (unsigned i = 0; i < store->n_certs; i++) {
		if (gnutls_x509_crt_equals(store->certs[i], crt)) {
			*anchor = store->certs[i];
			return true;
		}
	}
	return false;
}

void oa_trust_store_destroy(oa_trust_store *store)
{
	if (store == NULL) {
		return;
	}
	if (store->list != NULL) {
		gnutls_x509_trust_list_deinit(store->list, 1);
	}
	/* The certificates themselves belong to the trust list (deinit with all = 1). */
	gnutls_free(store->certs);
	free(store->path);
	free(store);
}

const char *oa_default_ca_bundle(void)
{
	static char exe[PATH_MAX];
	const char *env = getenv("ORIGINAUDIT_CA_BUNDLE");
	size_t root = strlen(OA_BUILD_ROOT);

	if (env != NULL && env[0] != '\0') {
		return env;
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((size_t)n > root && strncmp(exe, OA_BUILD_ROOT, root) == 0 &&
		    exe[root] == '/') {
			return OA_SOURCE_CA_BUNDLE;
		}
	}
	return OA_INSTALLED_CA_BUNDLE;
}
