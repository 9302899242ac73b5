/*
 * The trust check: whether the path core/verify/path.c built reaches a trusted root
 * and verifies, with a reason code, the certificate to blame and a fix.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NAME_BUF 256

/* Finds the first link of the path whose own verification shows bits; names it. */
static void blame_link(const oa__path *path, const oa_chain *chain, unsigned bits, char *who,
		       size_t size)
{
	char name[NAME_BUF];
	char issuer_name[NAME_BUF];

	snprintf(who, size, "a certificate on the path");
	for (size_t k = 0; k < path->len; k++) {
		gnutls_x509_crt_t c = oa_chain_get(chain, path->pos[k]);
		gnutls_x509_crt_t issuer =
		    k + 1 < path->len ? oa_chain_get(chain, path->pos[k + 1]) : path->anchor;
		unsigned status = 0;

		if (issuer == NULL) {
			continue;
		}
		if (gnutls_x509_crt_verify(c, &issuer, 1, oa__path_flags(), &status) < 0) {
			continue;
		}
		if (status & bits) {
			oa__short_name(c, name, sizeof(name));
			oa__short_name(issuer, issuer_name, sizeof(issuer_name));
			snprintf(who, size, "'%s' (issued by '%s')", name, issuer_name);
			return;
		}
	}
}

static void aia_url(gnutls_x509_crt_t crt, char *buf, size_t size)
{
	buf[0] = '\0';
	for (unsigned seq = 0; seq < 16; seq++) {
		gnutls_datum_t uri = {NULL, 0};
		int rc = gnutls_x509_crt_get_authority_info_access(
		    crt, seq, GNUTLS_IA_CAISSUERS_URI, &uri, NULL);

		if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
			return;
		}
		if (rc >= 0 && uri.data != NULL) {
			snprintf(buf, size, "%.*s", (int)uri.size, (const char *)uri.data);
			gnutls_free(uri.data);
			return;
		}
		gnutls_free(uri.data);
	}
}

static void grade_trust(oa_check *check, const oa__path *path, const oa_chain *chain,
			const oa_trust_store *store)
{
	gnutls_x509_crt_t top = oa_chain_get(chain, path->pos[path->len - 1]);
	char name[NAME_BUF];
	char anchor[NAME_BUF];
	char who[2 * NAME_BUF + 32];
	unsigned status = 0;

	oa__short_name(top, name, sizeof(name));
	switch (path->end) {
	case OA__PATH_ISSUER_MISSING: {
		char url[512];
		char hint[OA_TEXT_MAX];
		char *issuer = oa__dn(top, true);

		aia_url(top, url, sizeof(url));
		snprintf(
		    hint, sizeof(hint),
		    "Append the intermediate certificate '%s' after '%s' in the chain file%s%s%s; "
		    "CloudFront does not fetch missing intermediates (if '%s' is a private "
		    "root, no chain will do: use a public CA)",
		    issuer ? issuer : "?", name, url[0] ? " (download it from " : "",
		    url[0] ? url : "", url[0] ? ")" : "", issuer ? issuer : "?");
		oa_check_set(check, OA_STATUS_FAIL, "missing_intermediate", hint,
			     "the issuer of '%s', '%s', was not sent and is not a trusted root%s%s",
			     name, issuer ? issuer : "?", url[0] ? "; caIssuers URL: " : "",
			     url[0] ? url : "");
		free(issuer);
		return;
	}
	case OA__PATH_UNTRUSTED_ROOT:
		if (path->len == 1) {
			oa_check_set(check, OA_STATUS_FAIL, "untrusted_root",
				     "Use a certificate issued by a CA in Mozilla's included list; "
				     "CloudFront accepts no self-signed or private-CA certificates",
				     "the leaf '%s' is self-signed and is not in the trust store",
				     name);
		} else {
			oa_check_set(check, OA_STATUS_FAIL, "untrusted_root",
				     "Use a certificate issued by a CA in Mozilla's included list; "
				     "CloudFront accepts no private CAs and you cannot add one",
				     "the path ends at the root '%s', which is not among the %zu "
				     "trusted roots",
				     name, oa_trust_store_count(store));
		}
		return;
	case OA__PATH_TOO_LONG:
		oa_check_set(check, OA_STATUS_FAIL, "chain_too_long",
			     "Serve only the leaf and the intermediates up to a trusted root",
			     "the certification path is longer than %d certificates", OA__MAX_PATH);
		return;
	case OA__PATH_ANCHORED:
	case OA__PATH_SELF_ANCHORED:
		break;
	}

	if (path->verify_rc < 0) {
		oa_check_set(check, OA_STATUS_FAIL, "invalid", "",
			     "the path could not be verified: %s",
			     gnutls_strerror(path->verify_rc));
		return;
	}
	oa__short_name(path->anchor, anchor, sizeof(anchor));
	status = path->status;
	if (status == 0) {
		oa_check_set(check, OA_STATUS_PASS, "trusted", "",
			     "the path leads to the trusted root '%s'", anchor);
		return;
	}
	if (status & GNUTLS_CERT_SIGNATURE_FAILURE) {
		blame_link(path, chain, GNUTLS_CERT_SIGNATURE_FAILURE, who, sizeof(who));
		oa_check_set(check, OA_STATUS_FAIL, "bad_signature",
			     "The certificate was altered or signed by a different key than its "
			     "issuer's; reinstall the files exactly as the CA issued them",
			     "the signature on %s does not verify", who);
	} else if (status & GNUTLS_CERT_SIGNER_NOT_CA) {
		blame_link(path, chain, GNUTLS_CERT_SIGNER_NOT_CA, who, sizeof(who));
		oa_check_set(check, OA_STATUS_FAIL, "not_a_ca",
			     "A certificate on the path is issued by a certificate that is not a "
			     "CA; get the leaf from a real CA",
			     "the issuer of %s is not allowed to issue certificates", who);
	} else if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE) {
		oa_check_set(check, OA_STATUS_FAIL, "constraint_violation",
			     "A CA's path length, name constraints or key usage forbid this "
			     "certificate; have it issued directly under an allowed intermediate",
			     "%s%s(path to '%s')", path->problem, path->problem[0] ? " " : "",
			     anchor);
	} else if (status & GNUTLS_CERT_PURPOSE_MISMATCH) {
		oa_check_set(check, OA_STATUS_FAIL, "wrong_purpose",
			     "Reissue the certificate with extended key usage serverAuth", "%s",
			     path->problem[0] ? path->problem
					      : "a certificate on the path is not valid for "
						"TLS server authentication");
	} else {
		gnutls_datum_t out = {NULL, 0};

		gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
		oa_check_set(check, OA_STATUS_FAIL, "invalid", "",
			     "the path to '%s' is invalid: %s", anchor,
			     out.data ? (const char *)out.data : "unknown reason");
		gnutls_free(out.data);
	}
}

void oa__check_trust(oa_check *check, const oa__path *path, const oa_chain *chain,
		     const oa_trust_store *store)
{
	grade_trust(check, path, chain, store);
	if (!path->exhausted || check->status == OA_STATUS_PASS) {
		return;
	}
	/* Said again through oa_check_set, which owns the check's text. */
	char reason[OA_REASON_MAX];
	char *detail = strdup(check->detail);
	char *hint = strdup(check->hint);

	snprintf(reason, sizeof(reason), "%s", check->reason);
	if (detail != NULL && hint != NULL) {
		oa_check_set(check, check->status, reason, hint,
			     "%s; the path search stopped at its bounds (%u candidate paths "
			     "verified, at most %d signature checks)",
			     detail, path->tried, OA__PATH_MAX_SIGNATURES);
	}
	free(detail);
	free(hint);
}
