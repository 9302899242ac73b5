/* Facts about a single certificate: names, validity, key, fingerprint. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *oa__dn(gnutls_x509_crt_t crt, bool issuer)
{
	gnutls_datum_t dn = {NULL, 0};
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0)
			: gnutls_x509_crt_get_dn3(crt, &dn, 0);
	char *s;

	if (rc < 0 || dn.data == NULL) {
		gnutls_free(dn.data);
		return strdup("");
	}
	s = strndup((const char *)dn.data, dn.size);
	gnutls_free(dn.data);
	return s;
}

void oa__short_name(gnutls_x509_crt_t crt, char *buf, size_t size)
{
	size_t len = size;

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf, &len) >= 0 &&
	    len > 0) {
		return;
	}
	char *dn = oa__dn(crt, false);
	snprintf(buf, size, "%s", dn != NULL && dn[0] != '\0' ? dn : "(no subject)");
	free(dn);
}

void oa__hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

bool oa__issued_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
	return gnutls_x509_crt_check_issuer(crt, issuer) != 0;
}

bool oa__is_self_signed(gnutls_x509_crt_t crt)
{
	unsigned status = 0;
	unsigned flags = GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 |
			 GNUTLS_VERIFY_ALLOW_BROKEN | GNUTLS_VERIFY_DISABLE_CA_SIGN |
			 GNUTLS_VERIFY_ALLOW_ANY_X509_V1_CA_CRT |
			 /* Check the signature even though crt is its own "trusted" CA. */
			 GNUTLS_VERIFY_DO_NOT_ALLOW_SAME |
			 GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_VERY_WEAK);

	if (!oa__issued_by(crt, crt)) {
		return false;
	}
	if (gnutls_x509_crt_verify(crt, &crt, 1, flags, &status) < 0) {
		return false;
	}
	return (status & GNUTLS_CERT_SIGNATURE_FAILURE) == 0;
}

bool oa__self_issued(gnutls_x509_crt_t crt)
{
	gnutls_datum_t subject = {NULL, 0};
	gnutls_datum_t issuer = {NULL, 0};
	bool same = false;

	if (gnutls_x509_crt_get_raw_dn(crt, &subject) >= 0 &&
	    gnutls_x509_crt_get_raw_issuer_dn(crt, &issuer) >= 0) {
		same = subject.size == issuer.size &&
		       memcmp(subject.data, issuer.data, subject.size) == 0;
	}
	gnutls_free(subject.data);
	gnutls_free(issuer.data);
	return same;
}

static int collect_sans(oa_cert_info *info, gnutls_x509_crt_t crt)
{
	for (unsigned seq = 0;; seq++) {
		char name[512];
		size_t size = sizeof(name) - 1;
		unsigned critical = 0;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, name, &size, &critical);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
			break;
		}
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) {
			continue;
		}
		if (type < 0) {
			break;
		}
		if (type != GNUTLS_SAN_DNSNAME) {
			continue;
		}
		name[size] = '\0';
		char **sans = realloc(info->sans, (info->n_sans + 1) * sizeof(*sans));
		if (sans == NULL) {
			return -ENOMEM;
		}
		info->sans = sans;
		info->sans[info->n_sans] = strdup(name);
		if (info->sans[info->n_sans] == NULL) {
			return -ENOMEM;
		}
		info->n_sans++;
	}
	return 0;
}

static long long floor_days(long long seconds)
{
	long long d = seconds / 86400;

	if (seconds < 0 && seconds % 86400 != 0) {
		d--;
	}
	return d;
}

int oa__cert_info_fill(oa_cert_info *info, gnutls_x509_crt_t crt, size_t position, time_t at)
{
	unsigned char buf[64];
	size_t size;
	unsigned bits = 0;
	unsigned critical = 0;
	unsigned ca = 0;
	int pathlen = 0;

	memset(info, 0, sizeof(*info));
	info->position = position;
	info->subject = oa__dn(crt, false);
	info->issuer = oa__dn(crt, true);
	if (info->subject == NULL || info->issuer == NULL) {
		return -ENOMEM;
	}
	unsigned char serial[64];
	size = sizeof(serial);
	if (gnutls_x509_crt_get_serial(crt, serial, &size) >= 0) {
		for (size_t i = 0; i < size && 2 * i + 2 < sizeof(info->serial); i++) {
			snprintf(info->serial + 2 * i, 3, "%02x", serial[i]);
		}
	}
	info->not_before = gnutls_x509_crt_get_activation_time(crt);
	info->not_after = gnutls_x509_crt_get_expiration_time(crt);
	info->days_left = floor_days((long long)info->not_after - (long long)at);
	size = sizeof(buf);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, buf, &size) >= 0) {
		for (size_t i = 0; i < size && i < 32; i++) {
			snprintf(info->sha256 + 2 * i, 3, "%02x", buf[i]);
		}
	}
	int pk = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	const char *pk_name = pk >= 0 ? gnutls_pk_get_name((gnutls_pk_algorithm_t)pk) : NULL;
	snprintf(info->key_type, sizeof(info->key_type), "%s", pk_name ? pk_name : "unknown");
	info->key_bits = bits;
	int sig = gnutls_x509_crt_get_signature_algorithm(crt);
	const char *sig_name = sig >= 0 ? gnutls_sign_get_name((gnutls_sign_algorithm_t)sig) : NULL;
	snprintf(info->signature_algorithm, sizeof(info->signature_algorithm), "%s",
		 sig_name ? sig_name : "unknown");
	if (gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen) >= 0) {
		info->is_ca = ca != 0;
	}
	return collect_sans(info, crt);
}

void oa__cert_info_clear(oa_cert_info *info)
{
	free(info->subject);
	free(info->issuer);
	for (size_t i = 0; i < info->n_sans; i++) {
		free(info->sans[i]);
	}
	free(info->sans);
	memset(info, 0, sizeof(*info));
}
