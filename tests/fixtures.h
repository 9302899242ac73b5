/* Shared helpers for the tests: a temporary directory and generated PKIs. */
#ifndef ORIGINAUDIT_TESTS_FIXTURES_H
#define ORIGINAUDIT_TESTS_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include "originaudit/pki.h"

/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *fx_tempdir(void);

/* Removes a directory made by fx_tempdir and everything in it; frees path. */
void fx_tempdir_remove(char *path);

/* Joins dir and name into a malloc'd path. */
char *fx_path(const char *dir, const char *name);

/* Writes len bytes to path; asserts success. */
void fx_write(const char *path, const void *data, size_t len);

/* Issues a certificate from spec under issuer (NULL: self-signed); asserts success. */
oa_pki_cert *fx_issue(const oa_pki_spec *spec, const oa_pki_cert *issuer);

/* A CA spec valid for days, with the given CN. */
oa_pki_spec fx_ca_spec(const char *cn, int days);

/* A server leaf spec valid for days with one DNS SAN (dns may be NULL for none). */
oa_pki_spec fx_leaf_spec(const char *cn, const char *dns, int days);

/* Writes certs, in order, as a PEM chain file in dir/name; returns the malloc'd path. */
char *fx_chain_file(const char *dir, const char *name, const oa_pki_cert *const *certs, size_t n);

/* A standard PKI: root -> intermediate -> leaf for "origin.example.com" (and www.). */
typedef struct fx_pki {
	oa_pki_cert *root;
	oa_pki_cert *inter;
	oa_pki_cert *leaf;
} fx_pki;

void fx_pki_make(fx_pki *pki);

void fx_pki_free(fx_pki *pki);

/*
 * Runs argv[0] with argv, capturing stdout and stderr into malloc'd strings
 * (either out pointer may be NULL). Returns the exit status, or -1 if it did
 * not exit normally. Kills the child after timeout_s seconds.
 */
int fx_run(char *const argv[], char **out, char **err, int timeout_s);

/* A free TCP port on the loopback address (bound and released). */
unsigned fx_free_port(const char *address);

/* Starts argv in the background (stdout/stderr to /dev/null); returns its pid. */
int fx_spawn(char *const argv[]);

/* Waits until address:port accepts TCP connections; false after timeout_ms. */
bool fx_wait_listening(const char *address, unsigned port, int timeout_ms);

/* Kills and reaps a process started by fx_spawn; accepts pid <= 0. */
void fx_kill(int pid);

/* Writes the PEM of one certificate into dir/name (a one-root bundle); returns the path. */
char *fx_bundle_file(const char *dir, const char *name, const oa_pki_cert *root);

/* Writes cert's key into dir/name; returns the path. */
char *fx_key_file(const char *dir, const char *name, const oa_pki_cert *cert);

#endif
