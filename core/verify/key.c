/* Loading a server's private key to match it against the leaf. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int oa_key_load_file(const char *path, oa_key **out, oa_error *err)
{
	gnutls_datum_t data = {NULL, 0};
	oa_key *key;
	int rc = oa__read_file(path, &data, err);

	if (rc < 0) {
		return rc;
	}
	key = calloc(1, sizeof(*key));
	if (key == NULL || gnutls_x509_privkey_init(&key->key) < 0) {
		rc = oa_error_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	if (data.size == 0) {
		rc = oa_error_set(err, -EBADMSG, "%s: file is empty, expected a PEM private key",
				  path);
		goto fail;
	}
	if (memmem(data.data, data.size, "ENCRYPTED", 9) != NULL) {
		rc = oa_error_set(err, -EBADMSG,
				  "%s: the private key is encrypted; give the unencrypted key the "
				  "server loads",
				  path);
		goto fail;
	}
	int grc = gnutls_x509_privkey_import2(key->key, &data, GNUTLS_X509_FMT_PEM, NULL,
					      GNUTLS_PKCS_PLAIN);
	if (grc < 0) {
		rc = oa_error_set(err, -EBADMSG, "%s: not a PEM private key: %s", path,
				  gnutls_strerror(grc));
		goto fail;
	}
	free(data.data);
	*out = key;
	return 0;
fail:
	oa_key_destroy(key);
	free(data.data);
	return rc;
}

void oa_key_destroy(oa_key *key)
{
	if (key == NULL) {
		return;
	}
	if (key->key != NULL) {
		gnutls_x509_privkey_deinit(key->key);
	}
	free(key);
}
