#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "originaudit/report.h"

void oa_format_time(time_t t, char buf[static 32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, 32, "invalid");
		return;
	}
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_fixed(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -EINVAL;
		}
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int oa_parse_time(const char *text, time_t *out)
{
	struct tm tm;
	int year;
	int mon;
	int day;
	int hour = 0;
	int min = 0;
	int sec = 0;
	size_t len = strlen(text);

	/*
	 * 2027-03-01, 2027-03-01T00:00:00Z, or with a fraction of a second
	 * (2027-03-01T00:00:00.005Z: x509-limbo, JavaScript) that is dropped:
	 * certificate times have one-second resolution.
	 */
	if (len > 21 && len <= 30 && text[19] == '.' && text[len - 1] == 'Z') {
		char whole[21];

		for (size_t i = 20; i < len - 1; i++) {
			if (text[i] < '0' || text[i] > '9') {
				return -EINVAL;
			}
		}
		memcpy(whole, text, 19);
		whole[19] = 'Z';
		whole[20] = '\0';
		return oa_parse_time(whole, out);
	}
	if (len != 10 && len != 20) {
		return -EINVAL;
	}
	if (parse_fixed(text, 4, &year) < 0 || text[4] != '-' ||
	    parse_fixed(text + 5, 2, &mon) < 0 || text[7] != '-' ||
	    parse_fixed(text + 8, 2, &day) < 0) {
		return -EINVAL;
	}
	if (len == 20) {
		if (text[10] != 'T' || parse_fixed(text + 11, 2, &hour) < 0 || text[13] != ':' ||
		    parse_fixed(text + 14, 2, &min) < 0 || text[16] != ':' ||
		    parse_fixed(text + 17, 2, &sec) < 0 || text[19] != 'Z') {
			return -EINVAL;
		}
	}
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
		return -EINVAL;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	/* timegm normalises 2027-02-31 into March; refuse such dates instead. */
	struct tm check;
	if (gmtime_r(out, &check) == NULL || check.tm_mday != day || check.tm_mon != mon - 1) {
		return -EINVAL;
	}
	return 0;
}
