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

/*
 * A bounded reader over DER the certificate's sender chose: every length is
 * checked against what is left, so a malformed extension is a finding, never
 * a read past its end.
 */
struct der {
	const unsigned char *p;
	size_t left;
};

/* Takes the next TLV off d: its one-byte tag and its body. False when it does not parse. */
static bool der_next(struct der *d, unsigned char *tag, struct der *body)
{
	size_t len = 0;
	size_t header = 2;

	if (d->left < 2 || (d->p[0] & 0x1f) == 0x1f) {
		return false;
	}
	if ((d->p[1] & 0x80) == 0) {
		len = d->p[1];
	} else {
		size_t octets = d->p[1] & 0x7f;

		/* No indefinite length in DER, and no extension needs more than 4 GB. */
		if (octets == 0 || octets > 4 || d->left - 2 < octets) {
			return false;
		}
		for (size_t i = 0; i < octets; i++) {
			len = (len << 8) | d->p[2 + i];
		}
		header += octets;
	}
	if (len > d->left - header) {
		return false;
	}
	*tag = d->p[0];
	body->p = d->p + header;
	body->left = len;
	d->p += header + len;
	d->left -= header + len;
	return true;
}

/* The value of c's extension oid as a reader over ext (freed by the caller); false if absent. */
static bool extension_der(gnutls_x509_crt_t c, const char *oid, gnutls_datum_t *ext, struct der *d)
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
static const char *aia_problem(struct der d)
{
	struct der seq;
	unsigned char tag = 0;
	size_t n = 0;

	if (!der_next(&d, &tag, &seq) || tag != 0x30 || d.left != 0) {
		return "does not parse";
	}
	while (seq.left > 0) {
		struct der desc;
		struct der method;
		struct der location;

		if (!der_next(&seq, &tag, &desc) || tag != 0x30 ||
		    !der_next(&desc, &tag, &method) || tag != 0x06 || method.left == 0 ||
		    !der_next(&desc, &tag, &location) || desc.left != 0) {
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
static void check_aia(struct findings *f, gnutls_x509_crt_t c, const char *who)
{
	gnutls_datum_t ext = {NULL, 0};
	struct der d;
	const char *problem;

	if (!extension_der(c, "1.3.6.1.5.5.7.1.1", &ext, &d)) {
		return;
	}
	problem = aia_problem(d);
	gnutls_free(ext.data);
	if (problem != NULL) {
		add(f, "malformed_aia",
		    "Public CAs list one or more caIssuers/OCSP URIs in the authority information "
		    "access; have it reissued",
		    "%s has an authority information access extension that %s", who, problem);
	}
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

/* The rules only a leaf has: k is 0, bc and ca from its basicConstraints. */
static void check_leaf(struct findings *f, gnutls_x509_crt_t c, const char *who, int bc,
		       unsigned ca)
{
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

/*
 * One certificate of the path that is not a root: k is its place (0 the
 * leaf), role what the detail calls it ("leaf", "intermediate", "trust
 * anchor" for a trusted certificate that is not self-signed).
 */
static void check_one(struct findings *f, gnutls_x509_crt_t c, size_t k, const char *role)
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
	if (!has_extension(c, "2.5.29.35")) {
		add(f, "missing_aki",
		    "Public CAs always include the authority key identifier; have it reissued",
		    "%s has no authority key identifier", who);
	}
	check_aia(f, c, who);
	if (k > 0) {
		gnutls_datum_t dn = {NULL, 0};

		if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0 && dn.size <= 2) {
			add(f, "empty_subject",
			    "A CA certificate always has a subject name; replace this one",
			    "%s has an empty subject", who);
		}
		gnutls_free(dn.data);
		if (!has_extension(c, "2.5.29.14")) {
			add(f, "missing_ski",
			    "CA certificates always carry a subject key identifier; replace this "
			    "one",
			    "%s has no subject key identifier", who);
		}
	} else {
		check_leaf(f, c, who, bc, ca);
	}
}

/* The root rules of CA/B BR 7.1.2.1 that some roots in Mozilla's list predate. */
enum root_rule {
	ROOT_AKI_ISSUER_SERIAL = 1u << 0,
	ROOT_BC_NOT_CRITICAL = 1u << 1,
	ROOT_NO_SKI = 1u << 2,
};

/*
 * Roots in Mozilla's list (ca-bundle/mozilla-roots.pem) that Mozilla accepted
 * before CA/B BR 7.1.2.1 defined the root profile, and that break it: each
 * is waived from the rules it breaks, by the SHA-256 of its DER, and from no
 * other. An origin's operator can do nothing about the root its CA chains to,
 * so warning about these would only be noise; any other root, and a new
 * offender a bundle refresh brings (tests/test_ca_bundle.c), still warns.
 */
static const struct {
	const char *sha256;
	unsigned waived;
} legacy_roots[] = {
    /* Certigna */
    {"e3b6a2db2ed7ce48842f7ac53241c7b71d54144bfb40c11f3f1d0b42f5eea12d", ROOT_AKI_ISSUER_SERIAL},
    /* Go Daddy Class 2 Certification Authority */
    {"c3846bf24b9e93ca64274c0ec67c1ecc5e024ffcacd2d74019350e81fe546ae4",
     ROOT_AKI_ISSUER_SERIAL | ROOT_BC_NOT_CRITICAL},
    /* Hongkong Post Root CA 1 */
    {"f9e67d336c51002ac054c632022d66dda2e7e3fff10ad061ed31d8bbb410cfb2", ROOT_NO_SKI},
    /* QuoVadis Root CA 2 */
    {"85a0dd7dd720adb7ff05f83d542b209dc7ff4528f7d677b18389fea5e5c49e86", ROOT_AKI_ISSUER_SERIAL},
    /* QuoVadis Root CA 3 */
    {"18f1fc7f205df8adddeb7fe007dd57e3af375a9c4d8d73546bf4f1fed1e18d35", ROOT_AKI_ISSUER_SERIAL},
    /* Starfield Class 2 Certification Authority */
    {"1465fa205397b876faa6f0a9958e5590e40fcc7faa4fb7c2c8677521fb5fb658",
     ROOT_AKI_ISSUER_SERIAL | ROOT_BC_NOT_CRITICAL},
    /* TWCA Global Root CA */
    {"59769007f7685d0fcd50872f9f95d5755a5b2b457d81f3692b610a98672f0e1b", ROOT_NO_SKI},
    /* Chunghwa Telecom ePKI Root Certification Authority */
    {"c0a6f4dc63a24bfdcf54ef2a6a082a0a72de35803e2ff5ff527ae5d87206dfd5", ROOT_BC_NOT_CRITICAL},
};

/* The root rules c is waived from (enum root_rule bits); 0 for a root not in legacy_roots. */
static unsigned root_waivers(gnutls_x509_crt_t c)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char digest[32];
	char hex[2 * sizeof(digest) + 1];
	size_t size = sizeof(digest);

	if (gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, digest, &size) < 0 ||
	    size != sizeof(digest)) {
		return 0;
	}
	for (size_t i = 0; i < size; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	hex[2 * size] = '\0';
	for (size_t i = 0; i < sizeof(legacy_roots) / sizeof(legacy_roots[0]); i++) {
		if (strcmp(hex, legacy_roots[i].sha256) == 0) {
			return legacy_roots[i].waived;
		}
	}
	return 0;
}

/* What a root's authority key identifier holds (RFC 5280 4.2.1.1). */
struct aki {
	bool parsed;
	struct der key_id;
	bool has_key_id;
	bool issuer_or_serial;
};

/* Reads AuthorityKeyIdentifier ::= SEQUENCE { [0] keyId, [1] issuer, [2] serial } from d. */
static void aki_parse(struct der d, struct aki *out)
{
	struct der seq;
	unsigned char tag = 0;

	memset(out, 0, sizeof(*out));
	if (!der_next(&d, &tag, &seq) || tag != 0x30 || d.left != 0) {
		return;
	}
	while (seq.left > 0) {
		struct der field;

		if (!der_next(&seq, &tag, &field)) {
			return;
		}
		if (tag == 0x80) {
			out->key_id = field;
			out->has_key_id = true;
		} else if (tag == 0xa1 || tag == 0x82) {
			out->issuer_or_serial = true;
		} else {
			return;
		}
	}
	out->parsed = true;
}

/* The root's key identifiers (CA/B BR 7.1.2.1.2, 7.1.2.1.3), but for what waived excuses. */
static void check_root_key_ids(struct findings *f, gnutls_x509_crt_t c, const char *who,
			       unsigned waived)
{
	unsigned char ski[64];
	size_t ski_size = sizeof(ski);
	unsigned critical = 0;
	bool has_ski = has_extension(c, "2.5.29.14");
	/* An identifier too long for ski is not compared (no public CA makes one). */
	bool got_ski =
	    has_ski && gnutls_x509_crt_get_subject_key_id(c, ski, &ski_size, &critical) >= 0;
	gnutls_datum_t ext = {NULL, 0};
	struct der d;
	struct aki aki;

	if (!has_ski && (waived & ROOT_NO_SKI) == 0) {
		add(f, "missing_ski",
		    "A public root always carries a subject key identifier; this one is no public "
		    "root",
		    "%s has no subject key identifier", who);
	}
	if (!extension_der(c, "2.5.29.35", &ext, &d)) {
		return;
	}
	aki_parse(d, &aki);
	if (!aki.parsed || !aki.has_key_id) {
		add(f, "root_aki_without_key_id",
		    "A public root's authority key identifier, when present, holds its own key "
		    "identifier; this one is no public root",
		    "%s has an authority key identifier %s", who,
		    aki.parsed ? "without a keyIdentifier" : "that does not parse");
	} else if (got_ski &&
		   (aki.key_id.left != ski_size || memcmp(aki.key_id.p, ski, ski_size) != 0)) {
		add(f, "root_aki_not_ski",
		    "A public root's authority key identifier is its own subject key identifier; "
		    "this one is no public root",
		    "%s has an authority key identifier that is not its subject key identifier",
		    who);
	}
	if (aki.parsed && aki.issuer_or_serial && (waived & ROOT_AKI_ISSUER_SERIAL) == 0) {
		add(f, "root_aki_issuer_serial",
		    "A public root's authority key identifier names no issuer and no serial "
		    "number; this one is no public root",
		    "%s has an authority key identifier with an authorityCertIssuer or "
		    "authorityCertSerialNumber",
		    who);
	}
	gnutls_free(ext.data);
}

/* The rules for a root: the path's self-signed anchor or self-signed top (CA/B BR 7.1.2.1). */
static void check_root(struct findings *f, gnutls_x509_crt_t c)
{
	char name[256];
	char who[300];
	unsigned ca = 0;
	unsigned bc_critical = 0;
	unsigned waived = root_waivers(c);
	gnutls_datum_t dn = {NULL, 0};

	oa__short_name(c, name, sizeof(name));
	snprintf(who, sizeof(who), "the root '%s'", name);
	if (gnutls_x509_crt_get_basic_constraints(c, &bc_critical, &ca, NULL) < 0) {
		add(f, "root_without_basic_constraints",
		    "A root certificate always says it is a CA (basicConstraints); this one is no "
		    "public root",
		    "%s has no basicConstraints extension", who);
	} else if (!bc_critical && (waived & ROOT_BC_NOT_CRITICAL) == 0) {
		add(f, "basic_constraints_not_critical",
		    "A public root marks its basicConstraints critical; this one is no public root",
		    "%s does not mark its basicConstraints critical", who);
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
	check_root_key_ids(f, c, who, waived);
	check_aia(f, c, who);
	if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0 && dn.size <= 2) {
		add(f, "empty_subject", "A CA certificate always has a subject name",
		    "%s has an empty subject", who);
	}
	gnutls_free(dn.data);
}

/*
 * Whether c names itself as its issuer (self-issued, RFC 5280 3.3.1): what
 * makes a trusted certificate a root here. Not oa__is_self_signed, which
 * also wants the authority key identifier to match, so a root whose AKI is
 * not its SKI would pass for an intermediate and escape the root rules.
 */
static bool self_issued(gnutls_x509_crt_t c)
{
	gnutls_datum_t subject = {NULL, 0};
	gnutls_datum_t issuer = {NULL, 0};
	bool same = false;

	if (gnutls_x509_crt_get_raw_dn(c, &subject) >= 0 &&
	    gnutls_x509_crt_get_raw_issuer_dn(c, &issuer) >= 0) {
		same = subject.size == issuer.size &&
		       memcmp(subject.data, issuer.data, subject.size) == 0;
	}
	gnutls_free(subject.data);
	gnutls_free(issuer.data);
	return same;
}

void oa__check_profile(oa_check *check, const oa__path *path, const oa_chain *chain)
{
	struct findings f = {NULL, NULL, "", 0};
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

		if (k > 0 && (oa__is_self_signed(c) || (top && self_issued(c)))) {
			root = c;
			break;
		}
		check_one(&f, c, k, k == 0 ? "leaf" : "intermediate");
	}
	/* A self-signed leaf that is itself trusted is graded as the leaf it is. */
	if (root == NULL && path->anchor != NULL && leaf != NULL &&
	    !gnutls_x509_crt_equals(path->anchor, leaf)) {
		if (self_issued(path->anchor)) {
			root = path->anchor;
		} else {
			check_one(&f, path->anchor, k, "trust anchor");
		}
	}
	if (root != NULL) {
		check_root(&f, root);
	}
	if (f.n == 0) {
		oa_check_set(check, OA_STATUS_PASS, "conforming", "",
			     "every certificate on the path follows the public CA profile");
		return;
	}
	oa_check_set(check, OA_STATUS_WARN, f.reason, f.hint, "%s", f.detail);
}
