/*
 * The vocabulary every check speaks: statuses, check and role names, and a
 * check's reason, detail and hint (oa_check_set). The path, trust, profile
 * and verify code all write checks through it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const status_names[] = {"skip", "pass", "warn", "fail", "error"};
static const char *const check_names[] = {"trust", "expiry",	"self_signed", "chain_order",
					  "name",  "signature", "key",	       "profile"};
static const char *const role_names[] = {"leaf", "intermediate", "root", "duplicate", "unrelated"};

const char *oa_status_name(oa_status status)
{
	return (unsigned)status <= OA_STATUS_ERROR ? status_names[status] : "unknown";
}

int oa_status_metric_value(oa_status status)
{
	switch (status) {
	case OA_STATUS_PASS:
		return 0;
	case OA_STATUS_WARN:
		return 1;
	case OA_STATUS_FAIL:
		return 2;
	case OA_STATUS_ERROR:
		return 3;
	case OA_STATUS_SKIP:
		break;
	}
	return 4;
}

oa_status oa_status_worst(oa_status a, oa_status b)
{
	return a > b ? a : b;
}

const char *oa_check_name(oa_check_id id)
{
	return (unsigned)id < OA_CHECK_COUNT ? check_names[id] : "unknown";
}

const char *oa_cert_role_name(oa_cert_role role)
{
	return (unsigned)role <= OA_ROLE_UNRELATED ? role_names[role] : "unknown";
}

static char empty_text[] = "";

int oa_check_set(oa_check *check, oa_status status, const char *reason, const char *hint,
		 const char *fmt, ...)
{
	va_list ap;
	char buf[OA_TEXT_MAX];

	oa_check_clear(check);
	check->present = true;
	check->status = status;
	snprintf(check->reason, sizeof(check->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	check->detail = strdup(buf);
	check->hint = strdup(hint != NULL ? hint : "");
	if (check->detail == NULL || check->hint == NULL) {
		free(check->detail);
		free(check->hint);
		check->detail = empty_text;
		check->hint = empty_text;
		return -ENOMEM;
	}
	return 0;
}

void oa_check_clear(oa_check *check)
{
	if (check->detail != empty_text) {
		free(check->detail);
	}
	if (check->hint != empty_text) {
		free(check->hint);
	}
	check->detail = NULL;
	check->hint = NULL;
	check->present = false;
}
