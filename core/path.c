/*
 * Building the certification path from the certificates an origin sends, and
 * grading two things about it: the order they were sent in and whether the
 * path reaches a trusted root. GnuTLS would silently sort an unordered chain,
 * so the path is built here first, from the presented positions, and only the
 * sorted path is handed to GnuTLS for signature and constraint checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NAME_BUF 256

/* Appends printf output to buf, truncating at size. */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Leaf choice: position 0 unless it issues another presented certificate. */
static size_t choose_leaf(const oa_chain *chain, const bool *dup)
{
	size_t n = oa_chain_length(chain);
	size_t fallback = n;

	for (size_t i = 0; i < n; i++) {
		bool issues = false;

		if (dup[i]) {
			continue;
		}
		gnutls_x509_crt_t ci = oa_chain_get(chain, i);
		for (size_t j = 0; j < n && !issues; j++) {
			if (j == i || dup[j]) {
				continue;
			}
			gnutls_x509_crt_t cj = oa_chain_get(chain, j);
			if (!gnutls_x509_crt_equals(ci, cj) && oa__issued_by(cj, ci) &&
			    !oa__is_self_signed(cj)) {
				issues = true;
			}
		}
		if (issues) {
			continue;
		}
		if (i == 0) {
			return 0;
		}
		unsigned critical = 0;
		unsigned ca = 0;
		int pathlen = 0;
		int brc = gnutls_x509_crt_get_basic_constraints(ci, &critical, &ca, &pathlen);
		if (brc < 0 || ca == 0) {
			return i;
		}
		if (fallback == n) {
			fallback = i;
		}
	}
	return fallback == n ? 0 : fallback;
}

static bool store_has_self(gnutls_x509_trust_list_t list, gnutls_x509_crt_t crt,
			   gnutls_x509_crt_t *anchor)
{
	gnutls_x509_crt_t found = NULL;

	if (gnutls_x509_trust_list_get_issuer(list, crt, &found, 0) < 0 || found == NULL) {
		return false;
	}
	if (!gnutls_x509_crt_equals(found, crt)) {
		return false;
	}
	*anchor = found;
	return true;
}

int oa__path_build(oa__path *path, const oa_chain *chain, const oa_trust_store *store)
{
	size_t n = oa_chain_length(chain);
	gnutls_x509_trust_list_t list = oa__trust_store_list(store);
	bool *dup = calloc(n, sizeof(*dup));
	bool *used = calloc(n, sizeof(*used));
	int rc = 0;

	memset(path, 0, sizeof(*path));
	path->roles = calloc(n, sizeof(*path->roles));
	if (dup == NULL || used == NULL || path->roles == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 1; i < n; i++) {
		for (size_t j = 0; j < i && !dup[i]; j++) {
			if (!dup[j] && gnutls_x509_crt_equals(oa_chain_get(chain, i),
							      oa_chain_get(chain, j))) {
				dup[i] = true;
			}
		}
	}
	path->leaf = choose_leaf(chain, dup);
	path->pos[0] = path->leaf;
	path->len = 1;
	used[path->leaf] = true;
	for (;;) {
		gnutls_x509_crt_t cur = oa_chain_get(chain, path->pos[path->len - 1]);
		gnutls_x509_crt_t issuer = NULL;

		if (oa__is_self_signed(cur)) {
			path->end = store_has_self(list, cur, &path->anchor)
					? OA__PATH_SELF_ANCHORED
					: OA__PATH_UNTRUSTED_ROOT;
			break;
		}
		if (gnutls_x509_trust_list_get_issuer(list, cur, &issuer, 0) >= 0 &&
		    issuer != NULL) {
			path->anchor = issuer;
			path->end = OA__PATH_ANCHORED;
			break;
		}
		size_t next = n;
		for (size_t j = 0; j < n && next == n; j++) {
			if (!used[j] && !dup[j] && oa__issued_by(cur, oa_chain_get(chain, j))) {
				next = j;
			}
		}
		if (next == n) {
			path->end = OA__PATH_ISSUER_MISSING;
			break;
		}
		if (path->len == OA__MAX_PATH) {
			path->end = OA__PATH_TOO_LONG;
			break;
		}
		path->pos[path->len] = next;
		path->len++;
		used[next] = true;
	}

	gnutls_x509_crt_t top = oa_chain_get(chain, path->pos[path->len - 1]);
	for (size_t i = 0; i < n; i++) {
		gnutls_x509_crt_t c = oa_chain_get(chain, i);

		if (dup[i]) {
			path->roles[i] = OA_ROLE_DUPLICATE;
		} else if (i == path->leaf) {
			path->roles[i] = OA_ROLE_LEAF;
		} else if (used[i]) {
			path->roles[i] =
			    oa__is_self_signed(c) ? OA_ROLE_ROOT : OA_ROLE_INTERMEDIATE;
		} else if (oa__is_self_signed(c)) {
			bool issues_top =
			    oa__issued_by(top, c) ||
			    (path->anchor != NULL && gnutls_x509_crt_equals(path->anchor, c));
			path->roles[i] = issues_top ? OA_ROLE_ROOT : OA_ROLE_UNRELATED;
		} else if (path->anchor != NULL && oa__issued_by(top, c)) {
			/* Another certificate for the anchor's name: a cross-sign. */
			path->roles[i] = OA_ROLE_INTERMEDIATE;
		} else {
			path->roles[i] = OA_ROLE_UNRELATED;
		}
	}
out:
	free(dup);
	free(used);
	return rc;
}

void oa__path_clear(oa__path *path)
{
	free(path->roles);
	path->roles = NULL;
}

static void order_hint(char *hint, size_t size, const oa__path *path, const oa_chain *chain)
{
	char name[NAME_BUF];

	snprintf(hint, size, "Serve the certificates in this order: ");
	for (size_t k = 0; k < path->len; k++) {
		oa__short_name(oa_chain_get(chain, path->pos[k]), name, sizeof(name));
		append(hint, size, "%s%zu) '%s'", k == 0 ? "" : ", ", k + 1, name);
	}
	append(hint, size, "%s",
	       path->len > 1 ? " (leaf first, each followed by its issuer)" : " (leaf first)");
}

void oa__check_chain_order(oa_check *check, const oa__path *path, const oa_chain *chain)
{
	size_t n = oa_chain_length(chain);
	char name[NAME_BUF];
	char hint[OA_TEXT_MAX];

	order_hint(hint, sizeof(hint), path, chain);
	if (path->leaf != 0) {
		char first[NAME_BUF];

		oa__short_name(oa_chain_get(chain, 0), first, sizeof(first));
		oa__short_name(oa_chain_get(chain, path->leaf), name, sizeof(name));
		oa_check_set(check, OA_STATUS_FAIL, "leaf_not_first", hint,
			     "the first certificate sent is '%s', not the leaf '%s' (sent as #%zu)",
			     first, name, path->leaf + 1);
		return;
	}
	/* Path certificates must come first, in path order; duplicates are ignored. */
	size_t k = 0;
	for (size_t i = 0; i < n && k < path->len; i++) {
		if (path->roles[i] == OA_ROLE_DUPLICATE) {
			continue;
		}
		if (i != path->pos[k]) {
			char want[NAME_BUF];

			oa__short_name(oa_chain_get(chain, path->pos[k - 1]), name, sizeof(name));
			oa__short_name(oa_chain_get(chain, i), want, sizeof(want));
			oa_check_set(check, OA_STATUS_FAIL, "wrong_order", hint,
				     "certificate #%zu '%s' is not the issuer of the one before it "
				     "('%s')",
				     i + 1, want, name);
			return;
		}
		k++;
	}
	size_t roots = 0;
	size_t dups = 0;
	size_t unrelated = 0;
	char which[OA_TEXT_MAX] = "";
	for (size_t i = 1; i < n; i++) {
		const char *what = NULL;

		if (path->roles[i] == OA_ROLE_ROOT) {
			roots++;
			what = "root";
		} else if (path->roles[i] == OA_ROLE_DUPLICATE) {
			dups++;
			what = "duplicate";
		} else if (path->roles[i] == OA_ROLE_UNRELATED) {
			unrelated++;
			what = "unrelated";
		}
		if (what != NULL) {
			oa__short_name(oa_chain_get(chain, i), name, sizeof(name));
			append(which, sizeof(which), "%s#%zu %s '%s'", which[0] ? ", " : "", i + 1,
			       what, name);
		}
	}
	if (unrelated > 0) {
		oa_check_set(check, OA_STATUS_WARN, "unrelated_certificate",
			     "Remove the certificates that are not part of the path from the chain "
			     "file",
			     "%zu certificate(s) sent that are not part of the path: %s", unrelated,
			     which);
	} else if (dups > 0) {
		oa_check_set(check, OA_STATUS_WARN, "duplicate_certificate",
			     "Remove the repeated certificate(s) from the chain file",
			     "%zu certificate(s) sent more than once: %s", dups, which);
	} else if (roots > 0) {
		oa_check_set(check, OA_STATUS_WARN, "root_sent",
			     "Remove the root from the chain file: clients already have it, and "
			     "sending it only adds bytes to every handshake",
			     "the root certificate is sent: %s", which);
	} else {
		oa_check_set(check, OA_STATUS_PASS, "ordered", "",
			     "%zu certificate(s), leaf first, each followed by its issuer", n);
	}
}

static unsigned verify_flags(void)
{
	/* Time and weak algorithms are graded by the expiry and signature checks. */
	return GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	       GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN |
	       GNUTLS_VERIFY_DISABLE_CRL_CHECKS |
	       GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_VERY_WEAK);
}

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
		if (gnutls_x509_crt_verify(c, &issuer, 1, verify_flags(), &status) < 0) {
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

/*
 * Whether crt has an extended key usage extension that lists no purpose. GnuTLS
 * reads an empty one as "no extension" (any purpose) and lets it pass; RFC 5280
 * 4.2.1.12 requires at least one purpose, and such a certificate is valid for
 * nothing (x509-limbo rfc5280::eku::ee-eku-empty).
 */
static bool eku_empty(gnutls_x509_crt_t crt)
{
	gnutls_datum_t ext = {NULL, 0};
	unsigned critical = 0;
	char oid[128];
	size_t size = sizeof(oid);

	if (gnutls_x509_crt_get_extension_by_oid2(crt, GNUTLS_X509EXT_OID_EXTENDED_KEY_USAGE, 0,
						  &ext, &critical) < 0) {
		return false;
	}
	gnutls_free(ext.data);
	return gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &size, NULL) ==
	       GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

/*
 * Whether crt has a name constraints extension with neither permitted nor
 * excluded subtrees: RFC 5280 4.2.1.10 forbids it, GnuTLS accepts it
 * (x509-limbo webpki::nc::intermediate-permitted-excluded-subtrees-*).
 */
static bool name_constraints_empty(gnutls_x509_crt_t crt)
{
	gnutls_datum_t ext = {NULL, 0};
	unsigned critical = 0;
	bool empty;

	if (gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.30", 0, &ext, &critical) < 0) {
		return false;
	}
	/* SEQUENCE {} with nothing inside, or only empty [0]/[1] subtree lists. */
	empty = ext.size <= 2;
	if (!empty && ext.size >= 2 && ext.data[0] == 0x30) {
		empty = true;
		for (size_t i = 2; i + 1 < ext.size; i += 2 + ext.data[i + 1]) {
			if (ext.data[i + 1] != 0) {
				empty = false;
				break;
			}
		}
	}
	gnutls_free(ext.data);
	return empty;
}

void oa__check_trust(oa_check *check, const oa__path *path, const oa_chain *chain,
		     const oa_trust_store *store)
{
	gnutls_x509_crt_t top = oa_chain_get(chain, path->pos[path->len - 1]);
	gnutls_x509_crt_t list[OA__MAX_PATH + 1];
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

	for (size_t k = 0; k < path->len; k++) {
		list[k] = oa_chain_get(chain, path->pos[k]);
	}
	gnutls_typed_vdata_st purpose = {
	    .type = GNUTLS_DT_KEY_PURPOSE_OID,
	    .data = (void *)GNUTLS_KP_TLS_WWW_SERVER,
	    .size = 0,
	};
	int rc = gnutls_x509_trust_list_verify_crt2(oa__trust_store_list(store), list,
						    (unsigned)path->len, &purpose, 1,
						    verify_flags(), &status, NULL);
	if (rc < 0) {
		oa_check_set(check, OA_STATUS_FAIL, "invalid", "",
			     "the path could not be verified: %s", gnutls_strerror(rc));
		return;
	}
	oa__short_name(path->anchor, anchor, sizeof(anchor));
	for (size_t k = 0; status == 0 && k < path->len; k++) {
		if (eku_empty(list[k])) {
			status = GNUTLS_CERT_PURPOSE_MISMATCH;
		}
		if (k > 0 && name_constraints_empty(list[k])) {
			status = GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
		}
	}
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
			     "An intermediate's path length or name constraints forbid this "
			     "certificate; have it issued directly under an allowed intermediate",
			     "a CA constraint on the path to '%s' is violated (path length or name "
			     "constraints)",
			     anchor);
	} else if (status & GNUTLS_CERT_PURPOSE_MISMATCH) {
		oa_check_set(
		    check, OA_STATUS_FAIL, "wrong_purpose",
		    "Reissue the certificate with extended key usage serverAuth",
		    "a certificate on the path is not valid for TLS server authentication");
	} else {
		gnutls_datum_t out = {NULL, 0};

		gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
		oa_check_set(check, OA_STATUS_FAIL, "invalid", "",
			     "the path to '%s' is invalid: %s", anchor,
			     out.data ? (const char *)out.data : "unknown reason");
		gnutls_free(out.data);
	}
}
