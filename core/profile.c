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

/* Longest leaf lifetime a public CA may issue (CA/B BR 6.3.2, since 2020-09-01): 398 days. */
#define MAX_LEAF_SECONDS (398LL * 86400)

struct findings {
	const char *reason;
	const char *hint;
	char detail[1024];
	size_t n;
};

static void add(struct findings *f, const char *reason, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(struct findings *f, const char *reason, const char *hint, const char *fmt, ...)
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

static bool has_extension(gnutls_x509_crt_t c, const char *oid)
{
	return find_extension(c, oid, NULL);
}

/* Serial number: positive, not zero, at most 20 octets (RFC 5280 4.1.2.2). */
static void check_serial(struct findings *f, gnutls_x509_crt_t c, const char *who)
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
		add(f, "bad_serial",
		    "Public CAs issue positive serial numbers of at most 20 octets; have it "
		    "reissued",
		    "%s has a serial number that is %s", who,
		    zero       ? "zero"
		    : negative ? "negative"
			       : "longer than 20 octets");
	}
}

/* The leaf's CN, when it has one, must be one of its DNS SANs, byte for byte (CA/B BR 7.1.4.3). */
static void check_leaf_names(struct findings *f, gnutls_x509_crt_t c, const char *who)
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
		add(f, "no_san",
		    "Public CAs put every name in the subjectAltName extension; have it reissued",
		    "%s has no subjectAltName", who);
		return;
	}
	if (gnutls_x509_crt_get_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_size) >=
		0 &&
	    !cn_in_san) {
		add(f, "cn_not_in_san",
		    "A public CA's common name is always one of the subjectAltNames; have it "
		    "reissued",
		    "the common name '%s' of %s is not among its subjectAltNames", cn, who);
	}
}

/* Whether the extension oid is present and marked critical. */
static bool critical_extension(gnutls_x509_crt_t c, const char *oid)
{
	bool critical = false;

	return find_extension(c, oid, &critical) && critical;
}

/* Extensions RFC 5280 says must not be critical (AKI, SKI, AIA), or must be (SAN with no subject).
 */
static void check_criticality(struct findings *f, gnutls_x509_crt_t c, const char *who)
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
		if (critical_extension(c, never[i].oid)) {
			add(f, "bad_critical_extension",
			    "Public CAs never mark this extension critical; have it reissued",
			    "%s marks its %s critical (RFC 5280 forbids it)", who, never[i].name);
		}
	}
	if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0) {
		/* An empty Name is the 2-byte SEQUENCE {}. */
		empty_subject = dn.size <= 2;
		gnutls_free(dn.data);
	}
	if (empty_subject && has_extension(c, "2.5.29.17") && !critical_extension(c, "2.5.29.17")) {
		add(f, "bad_critical_extension",
		    "With an empty subject the subjectAltName must be critical; have it reissued",
		    "%s has an empty subject and a non-critical subjectAltName", who);
	}
}

/* Leaf key usage and purposes of a subscriber certificate (CA/B BR 7.1.2.7). */
static void check_leaf_usage(struct findings *f, gnutls_x509_crt_t c, const char *who)
{
	unsigned usage = 0;
	unsigned critical = 0;

	if (critical_extension(c, "2.5.29.37")) {
		add(f, "bad_critical_extension",
		    "Public CAs never mark a server certificate's extended key usage critical",
		    "%s marks its extended key usage critical", who);
	}
	if (has_extension(c, "2.5.29.30")) {
		add(f, "leaf_name_constraints",
		    "Name constraints belong in CA certificates only; have it reissued",
		    "%s carries name constraints, which only a CA may (RFC 5280 4.2.1.10)", who);
	}

	if (gnutls_x509_crt_get_key_usage(c, &usage, &critical) >= 0 &&
	    (usage & GNUTLS_KEY_KEY_CERT_SIGN) != 0) {
		add(f, "leaf_can_sign_certificates",
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
			add(f, "any_purpose",
			    "Public CAs issue server certificates for serverAuth, never for any "
			    "purpose; have it reissued",
			    "%s allows anyExtendedKeyUsage", who);
			break;
		}
	}
}

/* One certificate of the path: k is its place (0 the leaf); root: a self-signed CA. */
static void check_one(struct findings *f, gnutls_x509_crt_t c, size_t k, bool root)
{
	char name[256];
	char who[300];
	unsigned ca = 0;
	int bc = gnutls_x509_crt_get_basic_constraints(c, NULL, &ca, NULL);
	int version = gnutls_x509_crt_get_version(c);

	oa__short_name(c, name, sizeof(name));
	snprintf(who, sizeof(who), "the %s '%s'",
		 k == 0 ? "leaf"
		 : root ? "root"
			: "intermediate",
		 name);
	check_serial(f, c, who);
	check_criticality(f, c, who);
	gnutls_datum_t issuer = {NULL, 0};
	if (gnutls_x509_crt_get_raw_issuer_dn(c, &issuer) >= 0 && issuer.size <= 2) {
		add(f, "empty_issuer",
		    "Every certificate names its issuer; this one was not issued by a public CA",
		    "%s has an empty issuer name", who);
	}
	gnutls_free(issuer.data);
	if (version >= 0 && version < 3 && (k > 0 || bc >= 0)) {
		add(f, "v1_certificate",
		    "Public CAs issue X.509 v3 certificates only; replace this one",
		    "%s is X.509 v%d", who, version);
	}
	if (!root && !has_extension(c, "2.5.29.35")) {
		add(f, "missing_aki",
		    "Public CAs always include the authority key identifier; have it reissued",
		    "%s has no authority key identifier", who);
	}
	if (k > 0) {
		gnutls_datum_t dn = {NULL, 0};

		if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0 && dn.size <= 2) {
			add(f, "empty_subject",
			    "A CA certificate always has a subject name; replace this one",
			    "%s has an empty subject", who);
		}
		gnutls_free(dn.data);
	}
	if (k > 0 && !has_extension(c, "2.5.29.14")) {
		add(f, "missing_ski",
		    "CA certificates always carry a subject key identifier; replace this one",
		    "%s has no subject key identifier", who);
	}
	if (k == 0) {
		time_t nb = gnutls_x509_crt_get_activation_time(c);
		time_t na = gnutls_x509_crt_get_expiration_time(c);

		if (bc >= 0 && ca) {
			add(f, "ca_as_leaf",
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
			add(f, "validity_too_long",
			    "Public CAs issue server certificates for at most 398 days",
			    "%s is valid for %lld days (at most 398)", who,
			    ((long long)na - (long long)nb) / 86400);
		}
	}
}

/* The rules for a root (see oa__check_profile for why only these). */
static void check_root(struct findings *f, gnutls_x509_crt_t c)
{
	char name[256];
	char who[300];
	unsigned ca = 0;
	gnutls_datum_t dn = {NULL, 0};

	oa__short_name(c, name, sizeof(name));
	snprintf(who, sizeof(who), "the root '%s'", name);
	if (gnutls_x509_crt_get_basic_constraints(c, NULL, &ca, NULL) < 0) {
		add(f, "root_without_basic_constraints",
		    "A root certificate always says it is a CA (basicConstraints); this one is no "
		    "public root",
		    "%s has no basicConstraints extension", who);
	}
	if (has_extension(c, "2.5.29.37")) {
		add(f, "root_has_eku",
		    "Public roots carry no extended key usage; this one is no public root",
		    "%s has an extended key usage extension", who);
	}
	if (critical_extension(c, "2.5.29.35")) {
		add(f, "bad_critical_extension",
		    "Public CAs never mark this extension critical; this one is no public root",
		    "%s marks its authority key identifier critical (RFC 5280 forbids it)", who);
	}
	if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0 && dn.size <= 2) {
		add(f, "empty_subject", "A CA certificate always has a subject name",
		    "%s has an empty subject", who);
	}
	gnutls_free(dn.data);
}

void oa__check_profile(oa_check *check, const oa__path *path, const oa_chain *chain)
{
	struct findings f = {NULL, NULL, "", 0};

	/*
	 * Roots get only the rules no root in Mozilla's list breaks: some have a
	 * serial of zero, no subject key identifier, a non-critical
	 * basicConstraints or an AKI that is not their SKI, and an origin's
	 * operator can do nothing about its root.
	 */
	gnutls_x509_crt_t root = path->anchor;

	for (size_t k = 0; k < path->len; k++) {
		gnutls_x509_crt_t c = oa_chain_get(chain, path->pos[k]);

		if (k > 0 && oa__is_self_signed(c)) {
			root = c;
			break;
		}
		check_one(&f, c, k, false);
	}
	if (root != NULL && path->len > 0 && root != oa_chain_get(chain, path->pos[0])) {
		check_root(&f, root);
	}
	if (f.n == 0) {
		oa_check_set(check, OA_STATUS_PASS, "conforming", "",
			     "every certificate on the path follows the public CA profile");
		return;
	}
	oa_check_set(check, OA_STATUS_WARN, f.reason, f.hint, "%s", f.detail);
}
