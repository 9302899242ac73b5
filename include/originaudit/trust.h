/* The trust store: the CA bundle CloudFront trusts (Mozilla's included roots). */
#ifndef ORIGINAUDIT_TRUST_H
#define ORIGINAUDIT_TRUST_H

#include <stddef.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oa_trust_store oa_trust_store;

/*
 * Loads a PEM bundle of trusted roots. Fails with -ENOENT/-EIO when the file
 * cannot be read and -EBADMSG when it holds no certificate. Caller owns *out.
 */
int oa_trust_store_load(const char *path, oa_trust_store **out, oa_error *err);

/* Path the store was loaded from; owned by the store. */
const char *oa_trust_store_path(const oa_trust_store *store);

/* Number of root certificates in the store. */
size_t oa_trust_store_count(const oa_trust_store *store);

/* Lower-case hex SHA-256 of the bundle file's bytes; owned by the store. */
const char *oa_trust_store_sha256(const oa_trust_store *store);

/* Frees the store; accepts NULL. */
void oa_trust_store_destroy(oa_trust_store *store);

/*
 * The bundle used when none is given: $ORIGINAUDIT_CA_BUNDLE if set; else,
 * for a program not in the configured bindir that lives in a meson build
 * tree, the build tree's copy <build>/ca-bundle/mozilla-roots.pem (owned by
 * the program's owner or root); else the installed
 * $datadir/originaudit/mozilla-roots.pem, or, when that is missing, the
 * bundle at the same place relative to the program (an unpacked package).
 * No build or source path is compiled in. Returns a static string.
 */
const char *oa_default_ca_bundle(void);

#ifdef __cplusplus
}
#endif

#endif
