/* Grading an origin's certificate chain the way CloudFront judges it. */
#ifndef ORIGINAUDIT_VERIFY_H
#define ORIGINAUDIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "originaudit/chain.h"
#include "originaudit/error.h"
#include "originaudit/key.h"
#include "originaudit/trust.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status of one check; also the overall verdict. Order matters: worse is larger. */
typedef enum oa_status {
	OA_STATUS_SKIP = 0,
	OA_STATUS_PASS = 1,
	OA_STATUS_WARN = 2,
	OA_STATUS_FAIL = 3,
	/* Only for probes (scanner): nothing could be graded. */
	OA_STATUS_ERROR = 4,
} oa_status;

/* "skip", "pass", "warn", "fail", "error"; static string. */
const char *oa_status_name(oa_status status);

/*
 * The number a metric carries for a status, the same in every program's
 * metrics: 0 pass, 1 warn, 2 fail, 3 error, 4 skip.
 */
int oa_status_metric_value(oa_status status);

/* The worse of two statuses (skip counts as pass). */
oa_status oa_status_worst(oa_status a, oa_status b);

typedef enum oa_check_id {
	OA_CHECK_TRUST = 0,
	OA_CHECK_EXPIRY,
	OA_CHECK_SELF_SIGNED,
	OA_CHECK_CHAIN_ORDER,
	OA_CHECK_NAME,
	OA_CHECK_SIGNATURE,
	/* Only run when a private key is given (originaudit verify --key). */
	OA_CHECK_KEY,
	/* RFC 5280 / CA/B Forum profile: pass or warn, never fail (CloudFront does not reject on
	   it). */
	OA_CHECK_PROFILE,
	OA_CHECK_COUNT
} oa_check_id;

/* "trust", "expiry", ...; static string. */
const char *oa_check_name(oa_check_id id);

/*
 * Reason codes (stable, machine readable):
 *  trust:       trusted | missing_intermediate | untrusted_root | bad_signature |
 *               not_a_ca | constraint_violation | wrong_purpose | chain_too_long | invalid
 *  expiry:      valid | expiring_soon (warn) | expiring_critical | expired | not_yet_valid
 *  self_signed: not_self_signed | self_signed
 *  chain_order: ordered | root_sent (warn) | duplicate_certificate (warn) |
 *               unrelated_certificate (warn) | wrong_order | leaf_not_first
 *  name:        matched | matched_cn_only (warn) | name_mismatch | no_names_given (skip)
 *  signature:   strong | sha1_signature | md5_signature | weak_rsa_key
 *  key:         key_matches | key_mismatch
 */
#define OA_REASON_MAX 40
/* Longest detail or hint kept; longer text is cut. */
#define OA_TEXT_MAX 1024

typedef struct oa_check {
	/* False when the check was not run at all (the key check without a key). */
	bool present;
	oa_status status;
	char reason[OA_REASON_MAX];
	/* One line; non-NULL once present. Owned by whatever holds the check. */
	char *detail;
	/* "" when there is nothing to fix; non-NULL once present. Same owner. */
	char *hint;
} oa_check;

/*
 * Sets a check (frees previous text). Returns 0 or -ENOMEM, in which case
 * the texts are left empty but the status and reason are set.
 */
int oa_check_set(oa_check *check, oa_status status, const char *reason, const char *hint,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Frees a check's texts and marks it not present. */
void oa_check_clear(oa_check *check);

/*
 * Expiry thresholds. Each one is a number of days left (>= 0), a share of the
 * earliest-expiring certificate's own lifetime (*_percent > 0, which then
 * wins), or OA_POLICY_AUTO: the default rule, fit for short-lived
 * certificates as ACME clients renew them — warn when less than
 * min(30 days, lifetime / 3) is left, fail below min(7 days, lifetime / 12).
 */
typedef struct oa_policy {
	int warn_days;
	int critical_days;
	int warn_percent;
	int critical_percent;
} oa_policy;

#define OA_POLICY_AUTO (-1)
/* The caps of the default rule, in days. */
#define OA_POLICY_DEFAULT_WARN_DAYS 30
#define OA_POLICY_DEFAULT_CRITICAL_DAYS 7

/* The default policy (both thresholds OA_POLICY_AUTO). */
void oa_policy_init(oa_policy *policy);

/*
 * Parses a threshold as given on a command line or in a configuration: "N"
 * (days, 0-36500) or "N%" (1-100 percent of the lifetime) into *days and
 * *percent (the other one is set to OA_POLICY_AUTO / 0). 0 or -EINVAL.
 */
int oa_policy_parse_threshold(const char *text, int *days, int *percent);

/*
 * Whether critical is not later than warn (both in days, or both in
 * percent); false when warn would never come before critical.
 */
bool oa_policy_consistent(const oa_policy *policy);

/*
 * One threshold as a person wrote it, into buf: "40", "33%", or, for the
 * default rule, its cap ("30 by default" with cap 30).
 */
void oa_policy_threshold_text(int days, int percent, int cap, char *buf, size_t size);

typedef struct oa_verify_params {
	/* Acceptable names; any one suffices. n_names == 0 skips the name check. */
	const char *const *names;
	size_t n_names;
	/* Evaluation time (Unix seconds). */
	time_t at;
	oa_policy policy;
	/* Optional: the private key the server will use with this chain. */
	const oa_key *key;
} oa_verify_params;

/* Fills params with no names, now, and the default policy. */
void oa_verify_params_init(oa_verify_params *params);

/* Role of a presented certificate in the chain. */
typedef enum oa_cert_role {
	OA_ROLE_LEAF,
	OA_ROLE_INTERMEDIATE,
	OA_ROLE_ROOT,
	OA_ROLE_DUPLICATE,
	OA_ROLE_UNRELATED,
} oa_cert_role;

/* "leaf", "intermediate", "root", "duplicate", "unrelated"; static string. */
const char *oa_cert_role_name(oa_cert_role role);

/* Facts about one certificate (owned by the result that holds it). */
typedef struct oa_cert_info {
	size_t position;
	oa_cert_role role;
	char *subject;
	char *issuer;
	char serial[130];
	time_t not_before;
	time_t not_after;
	long long days_left;
	char sha256[65];
	char key_type[24];
	unsigned key_bits;
	char signature_algorithm[40];
	char **sans;
	size_t n_sans;
	bool is_ca;
	bool self_signed;
} oa_cert_info;

typedef struct oa_result oa_result;

/*
 * Grades chain against store at params->at. Returns 0 with *out set (caller
 * owns it, oa_result_destroy) whenever the checks could run, whatever they
 * found; a negative errno value when they could not (empty chain, an invalid
 * acceptable name, out of memory), with err filled.
 */
int oa_verify(const oa_chain *chain, const oa_trust_store *store, const oa_verify_params *params,
	      oa_result **out, oa_error *err);

/*
 * The result for a chain that could not be graded because a certificate in it
 * does not parse (oa_chain_* returned -EPROTO; detail is its message): trust
 * fails with malformed_certificate, no other check runs, verdict fail. 0 with
 * *out (caller owns it), or -ENOMEM / -EINVAL (an invalid name) with err.
 */
int oa_result_malformed(const oa_verify_params *params, const char *detail, oa_result **out,
			oa_error *err);

/*
 * Judges expiry again at another time with policy, and the verdict with it;
 * every other check depends only on the chain, the names and the trust store,
 * so a cached result stays valid for them (the proxy's verification cache).
 */
void oa_result_regrade(oa_result *result, time_t at, const oa_policy *policy);

/* Overall verdict: the worst check status (pass, warn or fail). */
oa_status oa_result_verdict(const oa_result *result);

/* One check's outcome; owned by the result. */
const oa_check *oa_result_check(const oa_result *result, oa_check_id id);

/* Days until the earliest expiry on the path (negative once expired); false if unknown. */
bool oa_result_days_left(const oa_result *result, long long *days);

/* Earliest not_after on the path (the one days_left counts to); 0 if unknown. */
time_t oa_result_earliest_expiry(const oa_result *result);

/*
 * The thresholds the expiry check applied, in seconds left, and the rule they
 * came from ("auto", "days" or "percent"; static strings); false if unknown.
 */
bool oa_result_expiry_thresholds(const oa_result *result, long long *warn_s, long long *critical_s,
				 const char **warn_rule, const char **critical_rule);

/* Certificate name that matched an acceptable name, or NULL; owned by the result. */
const char *oa_result_matched_name(const oa_result *result);

/* The acceptable names as normalised for matching; owned by the result. */
const char *const *oa_result_names(const oa_result *result, size_t *n);

/* Subject of the trust anchor the path ends at, or NULL; owned by the result. */
const char *oa_result_anchor(const oa_result *result);

/* Evaluation time. */
time_t oa_result_time(const oa_result *result);

/* Number of presented certificates described (the chain's length). */
size_t oa_result_cert_count(const oa_result *result);

/* Facts about presented certificate i (wire order); owned by the result. */
const oa_cert_info *oa_result_cert(const oa_result *result, size_t i);

/* Frees the result; accepts NULL. */
void oa_result_destroy(oa_result *result);

#ifdef __cplusplus
}
#endif

#endif
