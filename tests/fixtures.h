/*
 * Shared helpers for the tests: temporary directories, generated PKIs, child
 * processes, openssl s_server and test origins in background threads.
 */
#ifndef ORIGINAUDIT_TESTS_FIXTURES_H
#define ORIGINAUDIT_TESTS_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>

#include <uv.h>

#include "originaudit/chain.h"
#include "originaudit/error.h"
#include "originaudit/key.h"
#include "originaudit/pki.h"
#include "originaudit/probe.h"
#include "originaudit/scan.h"
#include "originaudit/testorigin.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

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

/* The PEMs of certs, in order, as one datum; the caller frees its malloc'd data. */
gnutls_datum_t fx_pem_concat(const oa_pki_cert *const *certs, size_t n);

/* The first executable name in $PATH (or /usr/bin:/bin); a malloc'd path, NULL if none. */
char *fx_find_tool(const char *name);

/*
 * Starts `openssl s_server -quiet` (openssl: the program to run) on a port
 * of address the kernel picks as it binds (found from its socket), serving leaf with its key and
 * then rest (n_rest may be 0) as -cert_chain, followed by extra arguments (NULL-terminated, may be
 * NULL). The PEM files are written into dir. Asserts the server listens within 5 s (killing it
 * first if not). Returns its pid, for fx_kill; *port is its port.
 */
int fx_s_server_start(const char *openssl, const char *dir, const char *address,
		      const oa_pki_cert *leaf, const oa_pki_cert *const *rest, size_t n_rest,
		      const char *const *extra, unsigned *port);

/*
 * A test origin on its own libuv loop in a background thread. The test thread
 * only talks to it through a uv_async_t, so the loop is never touched from two
 * threads.
 */
typedef struct fx_origin fx_origin;

/*
 * Starts an origin with opts in a thread; the caller owns it (fx_origin_stop).
 * Returns NULL when the origin could not start, with err saying why. Asserts
 * that libuv could set up the loop and the thread.
 */
fx_origin *fx_origin_start(const oa_test_origin_opts *opts, oa_error *err);

/* The port the origin bound. */
unsigned fx_origin_port(const fx_origin *origin);

/* Connections the origin accepted so far, read on its loop thread. */
size_t fx_origin_connections(fx_origin *origin);

/* Waits up to 5 s for n accepted connections, then asserts there are exactly n. */
void fx_origin_wait_connections(fx_origin *origin, size_t n);

/*
 * Destroys the origin on its loop, joins the thread and frees origin. Sets
 * *connections (may be NULL) to the connections accepted, read on the loop
 * right before the destroy. Returns uv_loop_close's rc: 0 when every handle
 * was closed.
 */
int fx_origin_stop(fx_origin *origin, size_t *connections);

/* A probe run to its end on a loop of its own (fx_probe_run), and its result. */
typedef struct fx_probed {
	uv_loop_t loop;
	oa_probe *probe;
	const oa_probe_result *r;
} fx_probed;

/* Runs the probe spec against store until it is done; the result is pr->r (owned by pr). */
void fx_probe_run(fx_probed *pr, const oa_probe_spec *spec, const oa_trust_store *store);

/* Destroys the probe and closes its loop. */
void fx_probed_free(fx_probed *pr);

/* Asserts check id of r has status and reason, showing the detail when not. */
/* One grading by fx_grade_at: its temporary folder, store, chain and result. */
typedef struct fx_grading {
	char *dir;
	oa_trust_store *store;
	oa_chain *chain;
	oa_result *result;
} fx_grading;

/*
 * Grades certs (wire order) against a store holding only roots, for names at
 * at (key: NULL for no key check); the result is g's.
 */
const oa_result *fx_grade_at(fx_grading *g, const oa_pki_cert *const *certs, size_t n,
			     const oa_pki_cert *const *roots, size_t n_roots,
			     const char *const *names, size_t n_names, time_t at,
			     const oa_key *key);

/* Frees what fx_grade_at made (and its folder). */
void fx_grading_free(fx_grading *g);

/* Fails unless check id's detail contains needle. */
void fx_assert_detail(const oa_result *r, oa_check_id id, const char *needle);

void fx_assert_check(const oa_result *r, oa_check_id id, oa_status status, const char *reason);

/*
 * Building scan reports by hand for the report writers' tests (test_reports,
 * test_html, test_junit).
 */

/* An origin with CloudFront's defaults (443/80, TLSv1.2 and 1.3, timeouts); strings borrowed. */
void fx_origin_init(oa_origin_config *o, const char *id, const char *domain,
		    oa_origin_protocol_policy policy);

/* A probe of address:port (names: one name or NULL) with the default expiry policy, now. */
void fx_probe_spec_init(oa_probe_spec *spec, oa_probe_kind kind, const char *address, unsigned port,
			const char *sni, const char *const *names, unsigned timeout_ms);

/*
 * Starts a test origin on loop at 127.0.0.1 (any free port) into *slot: TLS
 * serving chain (n certificates, chain[0]'s key), or plain HTTP; returns its port.
 */
unsigned fx_test_origin_start(uv_loop_t *loop, oa_test_origin **slot, oa_test_origin_mode mode,
			      const oa_pki_cert *const *chain, size_t n);

/* Origin verdicts, report verdict and counts, as the scan engine derives them from the probes. */
void fx_report_finish(oa_scan_report *r);

#endif
