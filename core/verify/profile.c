/*
 * The profile check: RFC 5280 and CA/Browser Forum profile violations that
 * CloudFront-class clients tolerate but no public CA would issue. It only
 * ever warns (CloudFront does not reject on these); each finding has a
 * stable reason code and names the certificate. The first finding gives the
 * reason; the detail lists every one.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "profile.h"

/* Longest leaf lifetime a public CA may issue (CA/B BR 6.3.2, since 2020-09-01): 398 days. */
#define MAX_LEAF_SECONDS (398LL * 86400)

void oa__finding_add(struct oa__findings *f, const char *reason, const char *hint, const char *fmt,
		     ...)
{
	size_t len = strlen(f->detail);
	va_list ap;

	if (f->n == 0) {
		f->reason = reason;
		f->hint = hint;
	}
	f->n++;
	if (len > 0 && len + 2 < sizeof(f->detail)) {
		memcpy(f->detail + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(f->detail + len, sizeof(f->detail) - len, fmt, ap);
	va_end(ap);
}

/* Whether c has the extension oid; *critical (may be NULL) says whether it is marked critical. */
static bool find_extension(gnutls_x509_crt_t c, const char *oid, bool *critical)
{
	gnutls_datum_t ext = {NULL, 0};
	unsigned crit = 0;

	if (gnutls_x509_crt_get_extension_by_oid2(c, oid, 0, &ext, &crit) < 0) {
		return false;
	}
	gnutls_free(ext.data);
	if (critical != NULL) {
		*critical = crit != 0;
	}
	return true;
}

bool oa__has_extension(gnutls_x509_crt_t c, const char *oid)
{
	return find_extension(c, oid, NULL);
}

/* Serial number: positive, not zero, at most 20 octets (RFC 5280 4.1.2.2). */
static void check_serial(struct oa__findings *f, gnutls_x509_crt_t c, const char *who)
{
	unsigned char serial[64];
	size_t size = sizeof(serial);
	bool zero = true;

	if (gnutls_x509_crt_get_serial(c, serial, &size) < 0) {
		return;
	}
	for (size_t i = 0; i < size; i++) {
		if (serial[i] != 0) {
			zero = false;
		}
	}
	/* A leading zero octet only keeps a positive number positive. */
	size_t octets = size > 1 && serial[0] == 0 ? size - 1 : size;
	bool negative = (serial[0] & 0x80) != 0;

	if (zero || negative || octets > 20) {
		oa__finding_add(
		    f, "bad_serial",
		    "Public CAs issue positive serial numbers of at most 20 octets; have it "
		    "reissued",
		    "%s has a serial number that is %s", who,
		    zero       ? "zero"
		    : negative ? "negative"
			       : "longer than 20 octets");
	}
}

/* The leaf's CN, when it has one, must be one of its DNS SANs, byte for byte (CA/B BR 7.1.4.3). */
static void check_leaf_names(struct oa__findings *f, gnutls_x509_crt_t c, const char *who)
{
	char cn[256];
	size_t cn_size = sizeof(cn);
	bool any_san = false;
	bool cn_in_san = false;

	for (unsigned i = 0;; i++) {
		char san[256];
		size_t size = sizeof(san);
		int type = gnutls_x509_crt_get_subject_alt_name(c, i, san, &size, NULL);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
			break;
		}
		if (type < 0) {
			continue;
		}
		any_san = true;
		if (type == GNUTLS_SAN_DNSNAME && cn_size > 0) {
			size_t cl = sizeof(cn);

			if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn,
							  &cl) >= 0 &&
			    strcmp(cn, san) == 0) {
				cn_in_san = true;
			}
		}
	}
	if (!any_san) {
		oa__finding_add(
		    f, "no_san",
		    "Public CAs put every name in the subjectAltName extension; have it reissued",
		    "%s has no subjectAltName", who);
		return;
	}
	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_size) >=
		0 &&
	    !cn_in_san) {
		oa__finding_add(
		    f, "cn_not_in_san",
		    "A public CA's common name is always one of the subjectAltNames; have it "
		    "reissued",
		    "the common name '%s' of %s is not among its subjectAltNames", cn, who);
	}
}

/* Whether the extension oid is present and marked critical. */
bool oa__critical_extension(gnutls_x509_crt_t c, const char *oid)
{
	bool critical = false;

	return find_extension(c, oid, &critical) && critical;
}

/*
 * A bounded reader over DER the certificate's sender chose: every length is
 * checked against what is left, so a malformed extension is a finding, never
 * a read past its end.
 */

/* Takes the next TLV off d: its one-byte tag and its body. False when it does not parse. */
bool oa__der_take(struct oa__der *d, unsigned char *tag, struct oa__der *body)
{
	const unsigned char *p = d->p;
	oa__tlv tlv;

	if (!oa__der_read(&p, d->p + d->left, &tlv)) {
		return false;
	}
	*tag = (unsigned char)tlv.tag;
	body->p = tlv.data;
	body->left = tlv.size;
	d->left -= (size_t)(p - d->p);
	d->p = p;
	return true;
}

/* The value of c's extension oid as a reader over ext (freed by the caller); false if absent. */
bool oa__extension_der(gnutls_x509_crt_t c, const char *oid, gnutls_datum_t *ext, struct oa__der *d)
{
	unsigned critical = 0;

	if (gnutls_x509_crt_get_extension_by_oid2(c, oid, 0, ext, &critical) < 0) {
		return false;
	}
	d->p = ext->data;
	d->left = ext->size;
	return true;
}

/*
 * What is wrong with an AuthorityInfoAccessSyntax (RFC 5280 4.2.2.1): one or
 * more SEQUENCE { accessMethod OID, accessLocation GeneralName }, each
 * location a URI in the Web PKI (CA/B BR 7.1.2.7.7); NULL when nothing is.
 */
static const char *aia_problem(struct oa__der d)
{
	struct oa__der seq;
	unsigned char tag = 0;
	size_t n = 0;

	if (!oa__der_take(&d, &tag, &seq) || tag != 0x30 || d.left != 0) {
		return "does not parse";
	}
	while (seq.left > 0) {
		struct oa__der desc;
		struct oa__der method;
		struct oa__der location;

		if (!oa__der_take(&seq, &tag, &desc) || tag != 0x30 ||
		    !oa__der_take(&desc, &tag, &method) || tag != 0x06 || method.left == 0 ||
		    !oa__der_take(&desc, &tag, &location) || desc.left != 0) {
			return "does not parse";
		}
		/* uniformResourceIdentifier is [6] IMPLICIT IA5String. */
		if (tag != 0x86) {
			return "has an access location that is not a URI";
		}
		if (location.left == 0) {
			return "has an empty URI";
		}
		n++;
	}
	return n == 0 ? "lists no access description" : NULL;
}

/* An authority information access extension, when present, is well formed. */
void oa__check_aia(struct oa__findings *f, gnutls_x509_crt_t c, const char *who)
{
	gnutls_datum_t ext = {NULL, 0};
	struct oa__der d;
	const char *problem;

	if (!oa__extension_der(c, "1.3.6.1.5.5.7.1.1", &ext, &d)) {
		return;
	}
	problem = aia_problem(d);
	gnutls_free(ext.data);
	if (problem != NULL) {
		oa__finding_add(
		    f, "malformed_aia",
		    "Public CAs list one or more caIssuers/OCSP URIs in the authority information "
		    "access; have it reissued",
		    "%s has an authority information access extension that %s", who, problem);
	}
}

/* Extensions RFC 5280 says must not be critical (AKI, SKI, AIA), or must be (SAN with no subject).
 */
static void check_criticality(struct oa__findings *f, gnutls_x509_crt_t c, const char *who)
{
	static const struct {
		const char *oid;
		const char *name;
	} never[] = {{"2.5.29.35", "authority key identifier"},
		     {"2.5.29.14", "subject key identifier"},
		     {"1.3.6.1.5.5.7.1.1", "authority information access"}};
	gnutls_datum_t dn = {NULL, 0};
	bool empty_subject = false;

	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		if (oa__critical_extension(c, never[i].oid)) {
			oa__finding_add(
			    f, "bad_critical_extension",
			    "Public CAs never mark this extension critical; have it reissued",
			    "%s marks its %s critical (RFC 5280 forbids it)", who, never[i].name);
		}
	}
	if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0) {
		/* An empty Name is the 2-byte SEQUENCE {}. */
		empty_subject = dn.size <= 2;
		gnutls_free(dn.data);
	}
	if (empty_subject && oa__has_extension(c, "2.5.29.17") &&
	    !oa__critical_extension(c, "2.5.29.17")) {
		oa__finding_add(
		    f, "bad_critical_extension",
		    "With an empty subject the subjectAltName must be critical; have it reissued",
		    "%s has an empty subject and a non-critical subjectAltName", who);
	}
}

/* Leaf key usage and purposes of a subscriber certificate (CA/B BR 7.1.2.7). */
static void check_leaf_usage(struct oa__findings *f, gnutls_x509_crt_t c, const char *who)
{
	unsigned usage = 0;
	unsigned critical = 0;

	if (oa__critical_extension(c, "2.5.29.37")) {
		oa__finding_add(
		    f, "bad_critical_extension",
		    "Public CAs never mark a server certificate's extended key usage critical",
		    "%s marks its extended key usage critical", who);
	}
	if (!oa__has_extension(c, "2.5.29.37")) {
		/* CA/B BR 7.1.2.7.10: a subscriber certificate always lists its purposes. */
		oa__finding_add(
		    f, "missing_eku",
		    "Public CAs always give a server certificate the extended key usage "
		    "serverAuth; have it reissued",
		    "%s has no extended key usage extension", who);
	}
	if (oa__has_extension(c, "2.5.29.30")) {
		oa__finding_add(
		    f, "leaf_name_constraints",
		    "Name constraints belong in CA certificates only; have it reissued",
		    "%s carries name constraints, which only a CA may (RFC 5280 4.2.1.10)", who);
	}

	if (gnutls_x509_crt_get_key_usage(c, &usage, &critical) >= 0 &&
	    (usage & GNUTLS_KEY_KEY_CERT_SIGN) != 0) {
		oa__finding_add(f, "leaf_can_sign_certificates",
				"A server certificate must not carry keyCertSign; have it reissued",
				"%s has the key usage keyCertSign without being a CA", who);
	}
	for (unsigned i = 0;; i++) {
		char oid[128];
		size_t size = sizeof(oid);

		if (gnutls_x509_crt_get_key_purpose_oid(c, i, oid, &size, NULL) < 0) {
			break;
		}
		if (strcmp(oid, "2.5.29.37.0") == 0) {
			oa__finding_add(
			    f, "any_purpose",
			    "Public CAs issue server certificates for serverAuth, never for any "
			    "purpose; have it reissued",
			    "%s allows anyExtendedKeyUsage", who);
			break;
		}
	}
}

/* The rules only a leaf has: k is 0, bc and ca from its basicConstraints. */
static void check_leaf(struct oa__findings *f, gnutls_x509_crt_t c, const char *who, int bc,
		       unsigned ca)
{
	time_t nb = gnutls_x509_crt_get_activation_time(c);
	time_t na = gnutls_x509_crt_get_expiration_time(c);

	if (bc >= 0 && ca) {
		oa__finding_add(
		    f, "ca_as_leaf",
		    "A server certificate is never a CA certificate; use a leaf issued for "
		    "the server",
		    "%s is a CA certificate (basicConstraints CA:TRUE)", who);
	}
	check_leaf_names(f, c, who);
	if (!(bc >= 0 && ca)) {
		check_leaf_usage(f, c, who);
	}
	/* The 398-day limit binds certificates issued since 2020-09-01 (1598918400). */
	if (nb >= 1598918400 && (long long)na - (long long)nb > MAX_LEAF_SECONDS) {
		oa__finding_add(f, "validity_too_long",
				"Public CAs issue server certificates for at most 398 days",
				"%s is valid for %lld days (at most 398)", who,
				((long long)na - (long long)nb) / 86400);
	}
}

/*
 * One certificate of the path that is not a root: k is its place (0 the
 * leaf), role what the detail calls it ("leaf", "intermediate", "trust
 * anchor" for a trusted certificate that is not self-signed).
 */
static void check_one(struct oa__findings *f, gnutls_x509_crt_t c, size_t k, const char *role)
{
	char name[256];
	char who[300];
	unsigned ca = 0;
	int bc = gnutls_x509_crt_get_basic_constraints(c, NULL, &ca, NULL);
	int version = gnutls_x509_crt_get_version(c);
	gnutls_datum_t issuer = {NULL, 0};

	oa__short_name(c, name, sizeof(name));
	snprintf(who, sizeof(who), "the %s '%s'", role, name);
	check_serial(f, c, who);
	check_criticality(f, c, who);
	if (gnutls_x509_crt_get_raw_issuer_dn(c, &issuer) >= 0 && issuer.size <= 2) {
		oa__finding_add(
		    f, "empty_issuer",
		    "Every certificate names its issuer; this one was not issued by a public CA",
		    "%s has an empty issuer name", who);
	}
	gnutls_free(issuer.data);
	if (version >= 0 && version < 3 && (k > 0 || bc >= 0)) {
		oa__finding_add(f, "v1_certificate",
				"Public CAs issue X.509 v3 certificates only; replace this one",
				"%s is X.509 v%d", who, version);
	}
	if (!oa__has_extension(c, "2.5.29.35")) {
		oa__finding_add(
		    f, "missing_aki",
		    "Public CAs always include the authority key identifier; have it reissued",
		    "%s has no authority key identifier", who);
	}
	oa__check_aia(f, c, who);
	if (k > 0) {
		gnutls_datum_t dn = {NULL, 0};

		if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0 && dn.size <= 2) {
			oa__finding_add(
			    f, "empty_subject",
			    "A CA certificate always has a subject name; replace this one",
			    "%s has an empty subject", who);
		}
		gnutls_free(dn.data);
		if (!oa__has_extension(c, "2.5.29.14")) {
			oa__finding_add(
			    f, "missing_ski",
			    "CA certificates always carry a subject key identifier; replace this "
			    "one",
			    "%s has no subject key identifier", who);
		}
	} else {
		check_leaf(f, c, who, bc, ca);
	}
}

void oa__check_profile(oa_check *check, const oa__path *path, const oa_chain *chain)
{
	struct oa__findings f = {NULL, NULL, "", 0};
	gnutls_x509_crt_t leaf = path->len > 0 ? oa_chain_get(chain, path->pos[0]) : NULL;
	gnutls_x509_crt_t root = NULL;
	size_t k = 0;

	/*
	 * A root gets the root rules only (check_root): a serial of zero, say,
	 * is common among the roots in Mozilla's list, and an origin's operator
	 * can do nothing about its root. A trusted certificate that is not
	 * self-issued (an intermediate or a cross-signed root put in the trust
	 * store) is held to the rules of an intermediate.
	 */
	for (; k < path->len; k++) {
		gnutls_x509_crt_t c = oa_chain_get(chain, path->pos[k]);

		/* A self-issued top is a root unless the path goes on to a trusted issuer. */
		bool top = k + 1 == path->len && path->end != OA__PATH_ANCHORED;

		if (k > 0 && (path->self_signed[path->pos[k]] || (top && oa__self_issued(c)))) {
			root = c;
			break;
		}
		check_one(&f, c, k, k == 0 ? "leaf" : "intermediate");
	}
	/* A self-signed leaf that is itself trusted is graded as the leaf it is. */
	if (root == NULL && path->anchor != NULL && leaf != NULL &&
	    !gnutls_x509_crt_equals(path->anchor, leaf)) {
		if (oa__self_issued(path->anchor)) {
			root = path->anchor;
		} else {
			check_one(&f, path->anchor, k, "trust anchor");
		}
	}
	if (root != NULL) {
		oa__check_root(&f, root);
	}
	if (f.n == 0) {
		oa_check_set(check, OA_STATUS_PASS, "conforming", "",
			     "every certificate on the path follows the public CA profile");
		return;
	}
	oa_check_set(check, OA_STATUS_WARN, f.reason, f.hint, "%s", f.detail);
}
