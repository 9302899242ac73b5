/* oa_verify: runs every check on a chain and assembles the result. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "originaudit/names.h"
#include "originaudit/report.h"

/* The validity period of one certificate on the path, for (re)grading expiry. */
struct validity {
	char label[16];
	char name[128];
	time_t not_before;
	time_t not_after;
};

struct oa_result {
	oa_status verdict;
	time_t at;
	oa_check checks[OA_CHECK_COUNT];
	bool has_days_left;
	long long days_left;
	time_t earliest_expiry;
	long long warn_s;
	long long critical_s;
	const char *warn_rule;
	const char *critical_rule;
	char matched[OA_NAME_MAX];
	char anchor[512];
	bool has_anchor;
	char **names;
	size_t n_names;
	oa_cert_info *certs;
	size_t n_certs;
	struct validity validity[OA__MAX_PATH + 1];
	size_t n_validity;
};

void oa_verify_params_init(oa_verify_params *params)
{
	memset(params, 0, sizeof(*params));
	params->at = time(NULL);
	oa_policy_init(&params->policy);
}

static const char *cert_label(const oa__path *path, size_t k)
{
	if (k == 0) {
		return "leaf";
	}
	return k + 1 == path->len && path->end == OA__PATH_SELF_ANCHORED ? "root" : "intermediate";
}

/* Collects the validity of every certificate on the path (anchor included). */
static void collect_validity(oa_result *r, const oa__path *path, const oa_chain *chain)
{
	size_t count = path->len + (path->anchor != NULL && path->end == OA__PATH_ANCHORED);

	r->n_validity = 0;
	for (size_t k = 0; k < count && k < OA__MAX_PATH + 1; k++) {
		gnutls_x509_crt_t c =
		    k < path->len ? oa_chain_get(chain, path->pos[k]) : path->anchor;
		struct validity *vy = &r->validity[r->n_validity];

		snprintf(vy->label, sizeof(vy->label), "%s",
			 k < path->len ? cert_label(path, k) : "trusted root");
		oa__short_name(c, vy->name, sizeof(vy->name));
		vy->not_before = gnutls_x509_crt_get_activation_time(c);
		vy->not_after = gnutls_x509_crt_get_expiration_time(c);
		r->n_validity++;
	}
}

/* Grades expiry at r->at from the collected validity periods. */
static void grade_expiry(oa_result *r, const oa_policy *policy)
{
	oa_check *check = &r->checks[OA_CHECK_EXPIRY];
	char when[32];
	size_t earliest_k = 0;

	oa_check_clear(check);
	for (size_t k = 0; k < r->n_validity; k++) {
		const struct validity *vy = &r->validity[k];

		if (vy->not_before > r->at) {
			oa_format_time(vy->not_before, when);
			oa_check_set(
			    check, OA_STATUS_FAIL, "not_yet_valid",
			    "Check the server's clock and the certificate's validity dates; "
			    "deploy it only once it is valid",
			    "the %s '%s' is not valid before %s", vy->label, vy->name, when);
		}
		if (vy->not_after < r->validity[earliest_k].not_after) {
			earliest_k = k;
		}
	}
	if (r->n_validity == 0) {
		return;
	}
	const struct validity *e = &r->validity[earliest_k];
	r->has_days_left = true;
	r->earliest_expiry = e->not_after;
	long long secs = (long long)e->not_after - (long long)r->at;
	long long lifetime = (long long)e->not_after - (long long)e->not_before;
	r->days_left = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	r->warn_s = oa__threshold_secs(policy->warn_days, policy->warn_percent,
				       OA_POLICY_DEFAULT_WARN_DAYS, 3, lifetime, &r->warn_rule);
	r->critical_s =
	    oa__threshold_secs(policy->critical_days, policy->critical_percent,
			       OA_POLICY_DEFAULT_CRITICAL_DAYS, 12, lifetime, &r->critical_rule);
	if (check->present) {
		return;
	}
	oa_format_time(e->not_after, when);
	if (e->not_after < r->at) {
		/* Whole days since: 2 days and 3 seconds ago is "2 days ago". */
		long long ago = -secs / 86400;
		char since[48];

		if (ago == 0) {
			snprintf(since, sizeof(since), "less than a day ago");
		} else {
			snprintf(since, sizeof(since), "%lld day%s ago", ago, ago == 1 ? "" : "s");
		}
		oa_check_set(check, OA_STATUS_FAIL, "expired",
			     earliest_k == 0
				 ? "Renew the certificate and deploy it with its chain"
				 : "Replace the expired intermediate with the current one "
				   "from your CA",
			     "the %s '%s' expired on %s (%s)", e->label, e->name, when, since);
	} else if (secs < r->critical_s) {
		oa_check_set(check, OA_STATUS_FAIL, "expiring_critical",
			     "Renew the certificate now", "the %s '%s' expires on %s, in %lld days",
			     e->label, e->name, when, r->days_left);
	} else if (secs < r->warn_s) {
		oa_check_set(check, OA_STATUS_WARN, "expiring_soon",
			     "Renew the certificate before it expires",
			     "the %s '%s' expires on %s, in %lld days", e->label, e->name, when,
			     r->days_left);
	} else {
		oa_check_set(check, OA_STATUS_PASS, "valid", "",
			     "every certificate on the path is valid; the first to expire is the "
			     "%s '%s' on %s, in %lld days",
			     e->label, e->name, when, r->days_left);
	}
}

static void check_self_signed(oa_check *check, const oa_chain *chain, const oa__path *path)
{
	gnutls_x509_crt_t leaf = oa_chain_get(chain, path->leaf);
	char name[256];

	oa__short_name(leaf, name, sizeof(name));
	if (path->self_signed[path->leaf]) {
		oa_check_set(
		    check, OA_STATUS_FAIL, "self_signed",
		    "CloudFront never accepts a self-signed certificate; use one issued by "
		    "a CA in Mozilla's included list",
		    "the leaf '%s' is self-signed", name);
	} else {
		oa_check_set(check, OA_STATUS_PASS, "not_self_signed", "",
			     "the leaf '%s' is issued by a CA", name);
	}
}

/*
 * The key rules of the Web PKI (CA/Browser Forum Baseline Requirements 6.1.5):
 * RSA of at least 2048 bits with a modulus a whole number of bytes, or ECDSA
 * on P-256, P-384 or P-521; no DSA. Returns NULL for an acceptable key, else
 * the reason code, with what the key is in what.
 */
static const char *key_problem(gnutls_x509_crt_t c, char *what, size_t size)
{
	unsigned bits = 0;
	int pk = gnutls_x509_crt_get_pk_algorithm(c, &bits);

	switch (pk) {
	case GNUTLS_PK_RSA:
	case GNUTLS_PK_RSA_PSS:
		snprintf(what, size, "a %u-bit RSA key", bits);
		if (bits < 2048) {
			return "weak_rsa_key";
		}
		return bits % 8 != 0 ? "weak_key" : NULL;
	case GNUTLS_PK_ECDSA: {
		gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;

		if (gnutls_x509_crt_get_pk_ecc_raw(c, &curve, NULL, NULL) < 0) {
			snprintf(what, size, "an EC key on an unreadable curve");
			return "weak_key";
		}
		snprintf(what, size, "an EC key on %s",
			 gnutls_ecc_curve_get_name(curve) ? gnutls_ecc_curve_get_name(curve) : "?");
		return curve == GNUTLS_ECC_CURVE_SECP256R1 || curve == GNUTLS_ECC_CURVE_SECP384R1 ||
			       curve == GNUTLS_ECC_CURVE_SECP521R1
			   ? NULL
			   : "weak_key";
	}
	case GNUTLS_PK_DSA:
		snprintf(what, size, "a DSA key");
		return "forbidden_key_type";
	default:
		/* Ed25519 and others: not the Web PKI's, but no weakness to name. */
		return NULL;
	}
}

static bool key_fails(oa_check *check, gnutls_x509_crt_t c, const char *role)
{
	char name[256];
	char what[96];
	const char *problem = key_problem(c, what, sizeof(what));

	if (problem == NULL) {
		return false;
	}
	oa__short_name(c, name, sizeof(name));
	if (strcmp(problem, "weak_rsa_key") == 0) {
		oa_check_set(check, OA_STATUS_FAIL, problem,
			     "Generate a new key of at least 2048 bits (or ECDSA P-256) and "
			     "reissue the certificate",
			     "the %s '%s' has %s (at least 2048 required)", role, name, what);
	} else {
		oa_check_set(check, OA_STATUS_FAIL, problem,
			     "Use an RSA key of 2048 bits or more, or ECDSA on P-256 or P-384, "
			     "and reissue the certificate",
			     "the %s '%s' has %s, which no public CA may certify", role, name,
			     what);
	}
	return true;
}

static void check_signature(oa_check *check, const oa_chain *chain, const oa__path *path)
{
	char name[256];
	gnutls_x509_crt_t last = NULL;

	for (size_t k = 0; k < path->len; k++) {
		gnutls_x509_crt_t c = oa_chain_get(chain, path->pos[k]);
		int sig = gnutls_x509_crt_get_signature_algorithm(c);
		gnutls_digest_algorithm_t dig =
		    sig >= 0 ? gnutls_sign_get_hash_algorithm((gnutls_sign_algorithm_t)sig)
			     : GNUTLS_DIG_UNKNOWN;
		bool self = path->self_signed[path->pos[k]];

		last = c;
		oa__short_name(c, name, sizeof(name));
		/* A root's signature on itself is never checked by clients. */
		if (!self &&
		    (dig == GNUTLS_DIG_SHA1 || dig == GNUTLS_DIG_MD5 || dig == GNUTLS_DIG_MD2)) {
			bool sha1 = dig == GNUTLS_DIG_SHA1;

			oa_check_set(
			    check, OA_STATUS_FAIL, sha1 ? "sha1_signature" : "md5_signature",
			    "Reissue the certificate with a SHA-256 signature",
			    "the %s '%s' is signed with %s", k == 0 ? "leaf" : "intermediate", name,
			    gnutls_sign_get_name((gnutls_sign_algorithm_t)sig));
			return;
		}
		if (key_fails(check, c, k == 0 ? "leaf" : (self ? "root" : "intermediate"))) {
			return;
		}
	}
	/* The trust anchor's key counts too, when it came from the trust store. */
	if (path->anchor != NULL && (last == NULL || !gnutls_x509_crt_equals(path->anchor, last)) &&
	    key_fails(check, path->anchor, "trusted root")) {
		return;
	}
	oa_check_set(check, OA_STATUS_PASS, "strong", "",
		     "no SHA-1 or MD5 signatures, and only RSA keys of 2048 bits or more or ECDSA "
		     "on P-256/P-384/P-521 on the path, its root included");
}

static void list_names(char *buf, size_t size, const oa_cert_info *leaf, const char *cn)
{
	buf[0] = '\0';
	for (size_t i = 0; i < leaf->n_sans; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "%s%s", i ? ", " : "", leaf->sans[i]);
	}
	if (leaf->n_sans == 0) {
		snprintf(buf, size, "%s%s", cn[0] ? "CN " : "(none)", cn);
	}
}

static void check_name(oa_result *r, const oa_chain *chain, const oa__path *path)
{
	oa_check *check = &r->checks[OA_CHECK_NAME];
	const oa_cert_info *leaf = &r->certs[path->leaf];
	char cn[256] = "";
	size_t cn_len = sizeof(cn) - 1;
	char have[OA_TEXT_MAX];

	if (gnutls_x509_crt_get_dn_by_oid(oa_chain_get(chain, path->leaf),
					  GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_len) < 0) {
		cn[0] = '\0';
	}
	list_names(have, sizeof(have), leaf, cn);
	if (r->n_names == 0) {
		oa_check_set(check, OA_STATUS_SKIP, "no_names_given", "",
			     "no name to check; the leaf covers: %s", have);
		return;
	}
	for (size_t i = 0; i < leaf->n_sans; i++) {
		for (size_t j = 0; j < r->n_names; j++) {
			if (oa_name_matches(leaf->sans[i], r->names[j])) {
				snprintf(r->matched, sizeof(r->matched), "%s", leaf->sans[i]);
				oa_check_set(check, OA_STATUS_PASS, "matched", "",
					     "'%s' is covered by the certificate name '%s'",
					     r->names[j], leaf->sans[i]);
				return;
			}
		}
	}
	/* RFC 6125: the CN counts only when there is no DNS name in the SAN. */
	if (leaf->n_sans == 0 && cn[0] != '\0') {
		for (size_t j = 0; j < r->n_names; j++) {
			if (oa_name_matches(cn, r->names[j])) {
				snprintf(r->matched, sizeof(r->matched), "%s", cn);
				oa_check_set(
				    check, OA_STATUS_WARN, "matched_cn_only",
				    "Reissue the certificate with the name in the Subject "
				    "Alternative Name extension; many clients ignore the CN",
				    "'%s' matches only the subject CN '%s' (no SAN)", r->names[j],
				    cn);
				return;
			}
		}
	}
	char want[OA_TEXT_MAX] = "";
	for (size_t j = 0; j < r->n_names; j++) {
		size_t len = strlen(want);

		snprintf(want + len, sizeof(want) - len, "%s%s", j ? " or " : "", r->names[j]);
	}
	char hint[OA_TEXT_MAX];
	snprintf(hint, sizeof(hint),
		 "Reissue the certificate with '%s' in its Subject Alternative Names (a wildcard "
		 "covers one level only)",
		 r->names[0]);
	oa_check_set(check, OA_STATUS_FAIL, "name_mismatch", hint,
		     "no certificate name matches %s; the leaf covers: %s", want, have);
}

static void check_key(oa_check *check, const oa_chain *chain, const oa__path *path,
		      const oa_key *key)
{
	unsigned char a[64];
	unsigned char b[64];
	size_t alen = sizeof(a);
	size_t blen = sizeof(b);
	gnutls_x509_crt_t leaf = oa_chain_get(chain, path->leaf);
	char name[256];

	oa__short_name(leaf, name, sizeof(name));
	int ra = gnutls_x509_crt_get_key_id(leaf, GNUTLS_KEYID_USE_SHA256, a, &alen);
	int rb = gnutls_x509_privkey_get_key_id(key->key, GNUTLS_KEYID_USE_SHA256, b, &blen);
	if (ra >= 0 && rb >= 0 && alen == blen && memcmp(a, b, alen) == 0) {
		oa_check_set(check, OA_STATUS_PASS, "key_matches", "",
			     "the private key belongs to the leaf '%s'", name);
		return;
	}
	oa_check_set(check, OA_STATUS_FAIL, "key_mismatch",
		     "Deploy the private key that was used for this certificate's signing request, "
		     "or reissue the certificate for this key",
		     "the private key does not belong to the leaf '%s'; the server would fail "
		     "every handshake",
		     name);
}

static int copy_names(oa_result *r, const oa_verify_params *params, oa_error *err)
{
	if (params->n_names == 0) {
		return 0;
	}
	r->names = calloc(params->n_names, sizeof(*r->names));
	if (r->names == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < params->n_names; i++) {
		char norm[OA_NAME_MAX];
		int rc = oa_name_normalize(params->names[i], norm, err);

		if (rc < 0) {
			return rc;
		}
		r->names[r->n_names] = strdup(norm);
		if (r->names[r->n_names] == NULL) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		r->n_names++;
	}
	return 0;
}

static void compute_verdict(oa_result *r)
{
	r->verdict = OA_STATUS_PASS;
	for (int id = 0; id < OA_CHECK_COUNT; id++) {
		if (r->checks[id].present) {
			r->verdict = oa_status_worst(r->verdict, r->checks[id].status);
		}
	}
}

void oa_result_regrade(oa_result *result, time_t at, const oa_policy *policy)
{
	result->at = at;
	grade_expiry(result, policy);
	compute_verdict(result);
}

int oa_result_malformed(const oa_verify_params *params, const char *detail, oa_result **out,
			oa_error *err)
{
	oa_result *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	r->at = params->at;
	rc = copy_names(r, params, err);
	if (rc < 0) {
		oa_result_destroy(r);
		return rc;
	}
	oa_check_set(&r->checks[OA_CHECK_TRUST], OA_STATUS_FAIL, "malformed_certificate",
		     "A certificate does not parse (CloudFront and every TLS client reject it); "
		     "reinstall the files exactly as the CA issued them, or have it reissued",
		     "%s", detail);
	compute_verdict(r);
	*out = r;
	return 0;
}

int oa_verify(const oa_chain *chain, const oa_trust_store *store, const oa_verify_params *params,
	      oa_result **out, oa_error *err)
{
	size_t n = chain != NULL ? oa_chain_length(chain) : 0;
	oa__path path;
	oa_result *r;
	int rc;

	if (n == 0) {
		return oa_error_set(err, -EINVAL, "empty certificate chain");
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	r->at = params->at;
	rc = copy_names(r, params, err);
	if (rc < 0) {
		goto fail;
	}
	r->certs = calloc(n, sizeof(*r->certs));
	if (r->certs == NULL) {
		rc = oa_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	rc = oa__path_build(&path, chain, store, params->at);
	if (rc < 0) {
		oa_error_set(err, rc, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		rc = oa__cert_info_fill(&r->certs[i], oa_chain_get(chain, i), i, params->at);
		r->n_certs = i + 1;
		if (rc < 0) {
			oa_error_set(err, rc, "out of memory");
			goto fail_path;
		}
		r->certs[i].role = path.roles[i];
		r->certs[i].self_signed = path.self_signed[i];
	}
	if (path.anchor != NULL) {
		char *dn = oa__dn(path.anchor, false);

		snprintf(r->anchor, sizeof(r->anchor), "%s", dn != NULL ? dn : "");
		r->has_anchor = true;
		free(dn);
	}
	oa__check_trust(&r->checks[OA_CHECK_TRUST], &path, chain, store);
	collect_validity(r, &path, chain);
	grade_expiry(r, &params->policy);
	check_self_signed(&r->checks[OA_CHECK_SELF_SIGNED], chain, &path);
	oa__check_chain_order(&r->checks[OA_CHECK_CHAIN_ORDER], &path, chain);
	check_name(r, chain, &path);
	check_signature(&r->checks[OA_CHECK_SIGNATURE], chain, &path);
	oa__check_profile(&r->checks[OA_CHECK_PROFILE], &path, chain);
	if (params->key != NULL) {
		check_key(&r->checks[OA_CHECK_KEY], chain, &path, params->key);
	}
	compute_verdict(r);
	oa__path_clear(&path);
	*out = r;
	return 0;

fail_path:
	oa__path_clear(&path);
fail:
	oa_result_destroy(r);
	return rc;
}

oa_status oa_result_verdict(const oa_result *result)
{
	return result->verdict;
}

const oa_check *oa_result_check(const oa_result *result, oa_check_id id)
{
	return (unsigned)id < OA_CHECK_COUNT ? &result->checks[id] : NULL;
}

bool oa_result_days_left(const oa_result *result, long long *days)
{
	if (result->has_days_left) {
		*days = result->days_left;
	}
	return result->has_days_left;
}

time_t oa_result_earliest_expiry(const oa_result *result)
{
	return result->earliest_expiry;
}

bool oa_result_expiry_thresholds(const oa_result *result, long long *warn_s, long long *critical_s,
				 const char **warn_rule, const char **critical_rule)
{
	if (!result->has_days_left || result->warn_rule == NULL) {
		return false;
	}
	*warn_s = result->warn_s;
	*critical_s = result->critical_s;
	*warn_rule = result->warn_rule;
	*critical_rule = result->critical_rule;
	return true;
}

const char *oa_result_matched_name(const oa_result *result)
{
	return result->matched[0] != '\0' ? result->matched : NULL;
}

const char *const *oa_result_names(const oa_result *result, size_t *n)
{
	*n = result->n_names;
	return (const char *const *)result->names;
}

const char *oa_result_anchor(const oa_result *result)
{
	return result->has_anchor ? result->anchor : NULL;
}

time_t oa_result_time(const oa_result *result)
{
	return result->at;
}

size_t oa_result_cert_count(const oa_result *result)
{
	return result->n_certs;
}

const oa_cert_info *oa_result_cert(const oa_result *result, size_t i)
{
	return i < result->n_certs ? &result->certs[i] : NULL;
}

void oa_result_destroy(oa_result *result)
{
	if (result == NULL) {
		return;
	}
	for (size_t i = 0; i < result->n_certs; i++) {
		oa__cert_info_clear(&result->certs[i]);
	}
	for (int id = 0; id < OA_CHECK_COUNT; id++) {
		oa_check_clear(&result->checks[id]);
	}
	free(result->certs);
	for (size_t i = 0; i < result->n_names; i++) {
		free(result->names[i]);
	}
	free(result->names);
	free(result);
}
