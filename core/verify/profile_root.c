/*
 * The profile rules for a root (the self-issued trust anchor, or the
 * self-signed top of the presented path): CA/B BR 7.1.2.1, with the roots in
 * Mozilla's list that predate it waived, by SHA-256, from the rules they
 * break. Part of the profile check (core/verify/profile.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "profile.h"

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
	unsigned char digest[32];
	char hex[2 * sizeof(digest) + 1];
	size_t size = sizeof(digest);

	if (gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, digest, &size) < 0 ||
	    size != sizeof(digest)) {
		return 0;
	}
	oa__hex(digest, size, hex);
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
	struct oa__der key_id;
	bool has_key_id;
	bool issuer_or_serial;
};

/* Reads AuthorityKeyIdentifier ::= SEQUENCE { [0] keyId, [1] issuer, [2] serial } from d. */
static void aki_parse(struct oa__der d, struct aki *out)
{
	struct oa__der seq;
	unsigned char tag = 0;

	memset(out, 0, sizeof(*out));
	if (!oa__der_take(&d, &tag, &seq) || tag != 0x30 || d.left != 0) {
		return;
	}
	while (seq.left > 0) {
		struct oa__der field;

		if (!oa__der_take(&seq, &tag, &field)) {
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
static void check_root_key_ids(struct oa__findings *f, gnutls_x509_crt_t c, const char *who,
			       unsigned waived)
{
	unsigned char ski[64];
	size_t ski_size = sizeof(ski);
	unsigned critical = 0;
	bool has_ski = oa__has_extension(c, "2.5.29.14");
	/* An identifier too long for ski is not compared (no public CA makes one). */
	bool got_ski =
	    has_ski && gnutls_x509_crt_get_subject_key_id(c, ski, &ski_size, &critical) >= 0;
	gnutls_datum_t ext = {NULL, 0};
	struct oa__der d;
	struct aki aki;

	if (!has_ski && (waived & ROOT_NO_SKI) == 0) {
		oa__finding_add(
		    f, "missing_ski",
		    "A public root always carries a subject key identifier; this one is no public "
		    "root",
		    "%s has no subject key identifier", who);
	}
	if (!oa__extension_der(c, "2.5.29.35", &ext, &d)) {
		return;
	}
	aki_parse(d, &aki);
	if (!aki.parsed || !aki.has_key_id) {
		oa__finding_add(
		    f, "root_aki_without_key_id",
		    "A public root's authority key identifier, when present, holds its own key "
		    "identifier; this one is no public root",
		    "%s has an authority key identifier %s", who,
		    aki.parsed ? "without a keyIdentifier" : "that does not parse");
	} else if (got_ski &&
		   (aki.key_id.left != ski_size || memcmp(aki.key_id.p, ski, ski_size) != 0)) {
		oa__finding_add(
		    f, "root_aki_not_ski",
		    "A public root's authority key identifier is its own subject key identifier; "
		    "this one is no public root",
		    "%s has an authority key identifier that is not its subject key identifier",
		    who);
	}
	if (aki.parsed && aki.issuer_or_serial && (waived & ROOT_AKI_ISSUER_SERIAL) == 0) {
		oa__finding_add(
		    f, "root_aki_issuer_serial",
		    "A public root's authority key identifier names no issuer and no serial "
		    "number; this one is no public root",
		    "%s has an authority key identifier with an authorityCertIssuer or "
		    "authorityCertSerialNumber",
		    who);
	}
	gnutls_free(ext.data);
}

/* The rules for a root: the path's self-signed anchor or self-signed top (CA/B BR 7.1.2.1). */
void oa__check_root(struct oa__findings *f, gnutls_x509_crt_t c)
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
		oa__finding_add(
		    f, "root_without_basic_constraints",
		    "A root certificate always says it is a CA (basicConstraints); this one is no "
		    "public root",
		    "%s has no basicConstraints extension", who);
	} else if (!bc_critical && (waived & ROOT_BC_NOT_CRITICAL) == 0) {
		oa__finding_add(
		    f, "basic_constraints_not_critical",
		    "A public root marks its basicConstraints critical; this one is no public root",
		    "%s does not mark its basicConstraints critical", who);
	}
	if (oa__has_extension(c, "2.5.29.37")) {
		oa__finding_add(
		    f, "root_has_eku",
		    "Public roots carry no extended key usage; this one is no public root",
		    "%s has an extended key usage extension", who);
	}
	if (oa__critical_extension(c, "2.5.29.35")) {
		oa__finding_add(
		    f, "bad_critical_extension",
		    "Public CAs never mark this extension critical; this one is no public root",
		    "%s marks its authority key identifier critical (RFC 5280 forbids it)", who);
	}
	check_root_key_ids(f, c, who, waived);
	oa__check_aia(f, c, who);
	if (gnutls_x509_crt_get_raw_dn(c, &dn) >= 0 && dn.size <= 2) {
		oa__finding_add(f, "empty_subject", "A CA certificate always has a subject name",
				"%s has an empty subject", who);
	}
	gnutls_free(dn.data);
}
