/*
 * One probe of an origin: a TCP connection to one address and port, a TLS
 * handshake with one SNI name offering the origin's allowed versions, and the
 * core's checks on the chain the server sent. Runs on a libuv loop; GnuTLS is
 * driven through push/pull callbacks over buffers, libuv owns the socket.
 * Every probe ends within its timeouts, whatever the server does.
 */
#ifndef ORIGINAUDIT_PROBE_H
#define ORIGINAUDIT_PROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "originaudit/chain.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum oa_probe_kind {
	/* TLS handshake and certificate checks. */
	OA_PROBE_HTTPS,
	/* A plain TCP connect to the HTTP port (http-only, match-viewer). */
	OA_PROBE_HTTP,
} oa_probe_kind;

typedef struct oa_probe_spec {
	oa_probe_kind kind;
	/* Numeric IPv4 or IPv6 address to connect to. */
	const char *address;
	unsigned port;
	/* Server name sent in SNI (HTTPS only). */
	const char *sni;
	/* Names the certificate may cover; any one suffices. */
	const char *const *names;
	size_t n_names;
	/* OA_PROTO_* bits offered in the first handshake. */
	unsigned ssl_protocols;
	unsigned connect_timeout_ms;
	unsigned handshake_timeout_ms;
	/* One more handshake per TLS version 1.0-1.3 to record which are accepted. */
	bool enumerate_protocols;
	/* OA_PROBE_HTTP: the origin is http-only (warn http_only), else match-viewer (pass). */
	bool http_only;
	/* Evaluation time and expiry policy for the core's checks. */
	time_t at;
	oa_policy policy;
} oa_probe_spec;

/* Why a probe could not grade a certificate (OA_STATUS_ERROR). */
#define OA_PROBE_ERROR_MAX 48

typedef struct oa_probe_result {
	/* pass, warn, fail, or error when no certificate could be graded. */
	oa_status verdict;
	/* "" or dns_failed, connection_refused, connect_timeout, connection_reset,
	 * handshake_timeout, tls_alert:<name>, not_tls, tls_error, network_error. */
	char error[OA_PROBE_ERROR_MAX];
	char error_detail[256];
	/* Negotiated version ("TLS1.2") and cipher suite name; "" when none. */
	char tls_version[16];
	char cipher[96];
	/* OA_PROTO_* bits tried and accepted by enumeration (0 without it). */
	unsigned protocols_tested;
	unsigned protocols_accepted;
	/* The "protocols" check: pass, fail protocol_mismatch, or skip. */
	oa_check protocols;
	/* For OA_PROBE_HTTP: warn http_only for http-only origins, else pass http_reachable. */
	oa_check http;
	/* The core's result on the chain sent, or NULL (owned by the probe). */
	const oa_result *result;
	double duration_ms;
} oa_probe_result;

typedef struct oa_probe oa_probe;

/* Called once, on the loop, when the probe has finished; the probe stays valid. */
typedef void (*oa_probe_done_cb)(oa_probe *probe, void *data);

/*
 * Starts a probe on loop. spec's strings are copied; store must outlive the
 * probe. Returns 0 (done_cb will be called exactly once, later, on the loop,
 * never from within this call) or a negative errno value: a bad spec, or a
 * connection that could not even start (no file descriptor left: -EMFILE);
 * then *out is untouched and done_cb is never called. The caller owns *out and frees it with
 * oa_probe_destroy after done_cb (destroying earlier cancels the probe and
 * done_cb is not called).
 */
int oa_probe_start(uv_loop_t *loop, const oa_probe_spec *spec, const oa_trust_store *store,
		   oa_probe_done_cb done_cb, void *data, oa_probe **out);

/*
 * A probe that failed before it could start (a DNS failure: no address to
 * connect to): its result is error with the given reason. Caller owns *out.
 */
int oa_probe_new_failed(const oa_probe_spec *spec, const char *error, const char *detail,
			oa_probe **out);

/* The result; valid after done_cb, owned by the probe. */
const oa_probe_result *oa_probe_get_result(const oa_probe *probe);

/* The spec the probe runs (its own copies). */
const oa_probe_spec *oa_probe_get_spec(const oa_probe *probe);

/*
 * Frees the probe; accepts NULL. libuv handles are closed asynchronously: the
 * memory is released from the last close callback, so the loop must run on.
 */
void oa_probe_destroy(oa_probe *probe);

/*
 * The probe's JSON for reports: {"address", "port", "sni", "kind", "verdict",
 * "error", "error_detail", "duration_ms", "tls": {"version", "cipher", "accepted"},
 * "checks": {core checks + "protocols" (+ "http")}, "chain": [...]}. New
 * reference owned by the caller; NULL when out of memory.
 */
json_t *oa_probe_result_to_json(const oa_probe *probe);

#ifdef __cplusplus
}
#endif

#endif
