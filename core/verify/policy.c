/*
 * The expiry policy: when a certificate's remaining lifetime warns or is
 * critical — absolute days, a share of the lifetime ("33%"), or the default
 * relative to the lifetime (min(30 days, lifetime/3), min(7 days,
 * lifetime/12)) — and how a threshold is written and parsed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void oa_policy_init(oa_policy *policy)
{
	policy->warn_days = OA_POLICY_AUTO;
	policy->critical_days = OA_POLICY_AUTO;
	policy->warn_percent = 0;
	policy->critical_percent = 0;
}

int oa_policy_parse_threshold(const char *text, int *days, int *percent)
{
	char *end = NULL;
	long v;

	if (text == NULL || text[0] < '0' || text[0] > '9') {
		return -EINVAL;
	}
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text) {
		return -EINVAL;
	}
	if (end[0] == '%' && end[1] == '\0') {
		if (v < 1 || v > 100) {
			return -EINVAL;
		}
		*days = OA_POLICY_AUTO;
		*percent = (int)v;
		return 0;
	}
	if (*end != '\0' || v > 36500) {
		return -EINVAL;
	}
	*days = (int)v;
	*percent = 0;
	return 0;
}

bool oa_policy_consistent(const oa_policy *policy)
{
	bool warn_days = policy->warn_percent == 0 && policy->warn_days >= 0;
	bool critical_days = policy->critical_percent == 0 && policy->critical_days >= 0;
	bool warn_auto = policy->warn_percent == 0 && policy->warn_days < 0;
	bool critical_auto = policy->critical_percent == 0 && policy->critical_days < 0;

	if (policy->warn_percent > 0 && policy->critical_percent > 0) {
		return policy->critical_percent <= policy->warn_percent;
	}
	if (warn_days && critical_days) {
		return policy->critical_days <= policy->warn_days;
	}
	/* Against the default rule, its caps: it never warns before 30 days nor fails after 7. */
	if (warn_auto && critical_days) {
		return policy->critical_days <= OA_POLICY_DEFAULT_WARN_DAYS;
	}
	if (critical_auto && warn_days) {
		return policy->warn_days >= OA_POLICY_DEFAULT_CRITICAL_DAYS;
	}
	return true;
}

void oa_policy_threshold_text(int days, int percent, int cap, char *buf, size_t size)
{
	if (percent > 0) {
		snprintf(buf, size, "%d%%", percent);
	} else if (days >= 0) {
		snprintf(buf, size, "%d", days);
	} else {
		snprintf(buf, size, "%d by default", cap);
	}
}

/* One threshold in seconds left, for a certificate living lifetime seconds. */
long long oa__threshold_secs(int days, int percent, int cap_days, long long share_div,
			     long long lifetime, const char **rule)
{
	if (percent > 0) {
		*rule = "percent";
		return lifetime * percent / 100;
	}
	if (days >= 0) {
		*rule = "days";
		return (long long)days * 86400;
	}
	*rule = "auto";
	long long share = lifetime / share_div;
	long long cap = (long long)cap_days * 86400;

	return share < cap ? share : cap;
}
