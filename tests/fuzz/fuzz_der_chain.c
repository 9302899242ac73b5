/*
 * libFuzzer target: the certificate list of a TLS handshake, through the
 * grading the proxy applies to every new origin connection (px_verify_cached:
 * oa_chain_from_der and oa_verify with the proxy's policy, then the cached
 * verdict judged again), and the JSON report of the result.
 *
 * Input: the certificate_list of a TLS Certificate message (RFC 8446 4.4.2
 * without extensions, RFC 5246 7.4.2): each certificate as a 3-byte
 * big-endian length and that many DER bytes; a last entry cut short keeps
 * the bytes there are. The roots trusted are data/roots.pem (the seeds'
 * own PKI) and the bundled Mozilla roots.
 */

#include <stdio.h>

#include <gnutls/gnutls.h>

#include "fuzz_common.h"
#include "originaudit/report.h"
#include "proxy.h"

/* Certificates taken from one input at most (a handshake carries a handful). */
#define MAX_CERTS 16

static oa_trust_store *store;
static px_server srv;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (fz_load_roots(&store) < 0) {
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gnutls_datum_t certs[MAX_CERTS];
	unsigned n = 0;
	static const char *const names[] = {"origin.example.com", "www.example.org"};
	bool cached = false;

	while (size > 0 && n < MAX_CERTS) {
		size_t len =
		    size < 3 ? 0 : ((size_t)data[0] << 16) | ((size_t)data[1] << 8) | data[2];
		size_t skip = size < 3 ? size : 3;

		data += skip;
		size -= skip;
		len = len < size ? len : size;
		certs[n].data = (unsigned char *)data;
		certs[n].size = (unsigned)len;
		n++;
		data += len;
		size -= len;
	}
	const oa_result *first = px_verify_cached(&srv, store, certs, n, names, 2, &cached);
	if (first != NULL) {
		if (cached) {
			abort();
		}
		json_t *j = oa_result_to_json(first, store);

		if (getenv("OA_FUZZ_VERBOSE") != NULL) {
			json_dumpf(json_object_get(j, "checks"), stderr, JSON_COMPACT);
			fputc('\n', stderr);
		}
		json_decref(j);
		/* The same chain again: the cached verdict, regraded. */
		const oa_result *again = px_verify_cached(&srv, store, certs, n, names, 2, &cached);
		if (again != first || !cached) {
			abort();
		}
	}
	px_verified_clear(&srv);
	return 0;
}
