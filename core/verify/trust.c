/* The trust store: a PEM bundle of roots loaded into a GnuTLS trust list. */
#include <errno.h>
#include <gnutls/crypto.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* The running program's directory, into dir; 0 or -ENOENT. */
static int exe_dir(char *dir, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", dir, size - 1);
	if (n <= 0) {
		return -ENOENT;
	}
	dir[n] = '\0';
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		return -ENOENT;
	}
	*slash = '\0';
	return 0;
}

/* Whether dir/name exists (as a directory when want_dir); writes the path into buf. */
static bool exists_in(char *buf, size_t size, const char *dir, const char *name, bool want_dir)
{
	struct stat st;
	int len = snprintf(buf, size, "%s/%s", dir, name);

	if (len < 0 || (size_t)len >= size || stat(buf, &st) != 0) {
		return false;
	}
	return !want_dir || S_ISDIR(st.st_mode);
}

/*
 * The build tree's copy of the bundle (meson copies ca-bundle/mozilla-roots.pem
 * into <build>/ca-bundle/) when the running program lives in a meson build
 * tree, found from the executable's own path so that no build or source path
 * is compiled in: the nearest ancestor directory holding meson-private/ is the
 * build root. Writes the path into buf and returns 0, or -ENOENT.
 */
static int build_tree_bundle(char *buf, size_t size)
{
	char dir[PATH_MAX];
	char exe[PATH_MAX];
	struct stat exe_st;
	struct stat st;

	if (exe_dir(dir, sizeof(dir)) < 0) {
		return -ENOENT;
	}
	/* An installed program never looks for a build tree around it. */
	if (strcmp(dir, OA_BINDIR) == 0) {
		return -ENOENT;
	}
	/*
	 * The bundle decides what is trusted: it must belong to whoever owns the
	 * program (or root), not to another user who could write near it.
	 */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		return -ENOENT;
	}
	exe[n] = '\0';
	if (stat(exe, &exe_st) != 0) {
		return -ENOENT;
	}
	/* A program sits at most a few directories below the build root (tests/fuzz/x). */
	for (int depth = 0; depth < 4; depth++) {
		if (exists_in(buf, size, dir, "meson-private", true)) {
			if (!exists_in(buf, size, dir, "ca-bundle/mozilla-roots.pem", false) ||
			    stat(buf, &st) != 0 || (st.st_uid != exe_st.st_uid && st.st_uid != 0)) {
				return -ENOENT;
			}
			return 0;
		}
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir) {
			return -ENOENT;
		}
		*slash = '\0';
	}
	return -ENOENT;
}

/*
 * The installed bundle relative to the installed program (bindir to datadir)
 * when it is not at its configured place: a package unpacked into another root
 * (dpkg -x) or a moved prefix. 0 with the path in buf, or -ENOENT.
 */
static int relocated_bundle(char *buf, size_t size)
{
#ifdef OA_RELATIVE_CA_BUNDLE
	char dir[PATH_MAX];
	char path[PATH_MAX];

	/* Without the "bin/.." in the path a report shows. */
	if (size >= PATH_MAX && exe_dir(dir, sizeof(dir)) == 0 &&
	    exists_in(path, sizeof(path), dir, OA_RELATIVE_CA_BUNDLE, false) &&
	    realpath(path, buf) != NULL) {
		return 0;
	}
#else
	(void)buf;
	(void)size;
#endif
	return -ENOENT;
}

const char *oa_default_ca_bundle(void)
{
	static char found[PATH_MAX];
	const char *env = getenv("ORIGINAUDIT_CA_BUNDLE");

	if (env != NULL && env[0] != '\0') {
		return env;
	}
	if (build_tree_bundle(found, sizeof(found)) == 0) {
		return found;
	}
	if (access(OA_INSTALLED_CA_BUNDLE, F_OK) != 0 &&
	    relocated_bundle(found, sizeof(found)) == 0) {
		return found;
	}
	return OA_INSTALLED_CA_BUNDLE;
}
