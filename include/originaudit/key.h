/* A server's private key, to check that it belongs to the leaf certificate. */
#ifndef ORIGINAUDIT_KEY_H
#define ORIGINAUDIT_KEY_H

#include <stddef.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oa_key oa_key;

/*
 * Reads a PEM private key (PKCS#1, PKCS#8 or SEC1). Unreadable files, garbage
 * and encrypted keys fail with a negative errno value and a message naming the
 * file. Caller owns *out (oa_key_destroy).
 */
int oa_key_load_file(const char *path, oa_key **out, oa_error *err);

/* Frees the key; accepts NULL. */
void oa_key_destroy(oa_key *key);

#ifdef __cplusplus
}
#endif

#endif
