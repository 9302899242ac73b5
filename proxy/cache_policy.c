/*
 * The proxy cache's policy, without the store: whether and for how long an
 * origin's response may be stored (Cache-Control, Expires and Date as
 * HTTP-dates, Age), how old a stored response is, and the cache key.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "cache_internal.h"

/* RFC 9111 1.2.2: a delta-seconds too large to represent counts as 2^31. */
#define DELTA_MAX 2147483648LL

/* RFC 9110 15.1: the statuses heuristically cacheable, which the spec also stores. */
static const int storable_status[] = {200, 203, 204, 300, 301, 404, 405, 410, 414, 501};

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_ows(const char **p, const char *end)
{
	while (*p < end && is_ows(**p)) {
		(*p)++;
	}
}

/* a - b, saturated instead of overflowing. */
static long long sat_sub(long long a, long long b)
{
	if (b < 0 && a > LLONG_MAX + b) {
		return LLONG_MAX;
	}
	if (b > 0 && a < LLONG_MIN + b) {
		return LLONG_MIN;
	}
	return a - b;
}

/*
 * delta-seconds (RFC 9111 1.2.2): one or more digits and nothing else,
 * saturating at DELTA_MAX. quoted: s is the inside of a quoted-string, whose
 * quoted-pairs stand for the character they escape.
 */
static bool parse_delta(const char *s, size_t len, bool quoted, long long *out)
{
	long long v = 0;
	size_t digits = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (quoted && c == '\\' && i + 1 < len) {
			i++;
			c = s[i];
		}
		if (!is_digit(c)) {
			return false;
		}
		if (v < DELTA_MAX) {
			v = v * 10 + (c - '0');
		}
		digits++;
	}
	if (digits == 0) {
		return false;
	}
	*out = v > DELTA_MAX ? DELTA_MAX : v;
	return true;
}

/* A cursor over an HTTP-date being parsed. */
typedef struct date_cursor {
	const char *p;
	const char *end;
} date_cursor;

static bool date_lit(date_cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0) {
		return false;
	}
	c->p += n;
	return true;
}

/* Exactly n digits. */
static bool date_num(date_cursor *c, size_t n, int *out)
{
	int v = 0;

	if ((size_t)(c->end - c->p) < n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(c->p[i])) {
			return false;
		}
		v = v * 10 + (c->p[i] - '0');
	}
	c->p += n;
	*out = v;
	return true;
}

/* One of the n names in names (case-sensitive, as RFC 9110 5.6.7 says); its index in *out. */
static bool date_name(date_cursor *c, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (date_lit(c, names[i])) {
			*out = i;
			return true;
		}
	}
	return false;
}

static const char *const day_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const long_day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
					     "Friday", "Saturday", "Sunday"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* time-of-day = hour ":" minute ":" second (RFC 9110 5.6.7), a leap second allowed. */
static bool date_time_of_day(date_cursor *c, struct tm *tm)
{
	return date_num(c, 2, &tm->tm_hour) && date_lit(c, ":") && date_num(c, 2, &tm->tm_min) &&
	       date_lit(c, ":") && date_num(c, 2, &tm->tm_sec) && tm->tm_hour <= 23 &&
	       tm->tm_min <= 59 && tm->tm_sec <= 60;
}

static bool day_valid(int year, int month, int day)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return day >= 1 && day <= days[month] && !(month == 1 && day == 29 && !leap);
}

/*
 * An HTTP-date (RFC 9110 5.6.7): IMF-fixdate, RFC 850 (two-digit years read
 * as at most 50 years after now) or asctime. The day name is checked for
 * form, not against the date.
 */
static bool parse_http_date(const char *s, size_t len, time_t now, time_t *out)
{
	date_cursor c = {s, s + len};
	struct tm tm;
	int wday;
	int year = 0;
	bool ok;

	memset(&tm, 0, sizeof(tm));
	if (len > 3 && s[3] == ',') {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
		ok = date_name(&c, day_names, 7, &wday) && date_lit(&c, ", ") &&
		     date_num(&c, 2, &tm.tm_mday) && date_lit(&c, " ") &&
		     date_name(&c, month_names, 12, &tm.tm_mon) && date_lit(&c, " ") &&
		     date_num(&c, 4, &year) && date_lit(&c, " ") && date_time_of_day(&c, &tm) &&
		     date_lit(&c, " GMT");
	} else if (len > 3 && s[3] == ' ') {
		/* asctime: "Sun Nov  6 08:49:37 1994". */
		ok = date_name(&c, day_names, 7, &wday) && date_lit(&c, " ") &&
		     date_name(&c, month_names, 12, &tm.tm_mon) && date_lit(&c, " ") &&
		     (date_lit(&c, " ") ? date_num(&c, 1, &tm.tm_mday)
					: date_num(&c, 2, &tm.tm_mday)) &&
		     date_lit(&c, " ") && date_time_of_day(&c, &tm) && date_lit(&c, " ") &&
		     date_num(&c, 4, &year);
	} else {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". */
		ok = date_name(&c, long_day_names, 7, &wday) && date_lit(&c, ", ") &&
		     date_num(&c, 2, &tm.tm_mday) && date_lit(&c, "-") &&
		     date_name(&c, month_names, 12, &tm.tm_mon) && date_lit(&c, "-") &&
		     date_num(&c, 2, &year) && date_lit(&c, " ") && date_time_of_day(&c, &tm) &&
		     date_lit(&c, " GMT");
		if (ok) {
			struct tm now_tm;
			int now_year =
			    gmtime_r(&now, &now_tm) != NULL ? now_tm.tm_year + 1900 : 1970;

			year += now_year - now_year % 100;
			if (year > now_year + 50) {
				year -= 100;
			} else if (year + 100 <= now_year + 50) {
				year += 100;
			}
		}
	}
	if (!ok || c.p != c.end || !day_valid(year, tm.tm_mon, tm.tm_mday)) {
		return false;
	}
	tm.tm_year = year - 1900;
	*out = timegm(&tm);
	/* The fields are in range, so -1 means overflow, except for one second in 1969. */
	return *out != (time_t)-1;
}

/* The value of the only field called name, trimmed; false when there is none or more than one. */
static bool single_field(const px_head *resp, const char *name, const char **v, size_t *len)
{
	const px_header *h = px_head_find(resp, name);

	if (h == NULL || px_head_count(resp, name) != 1) {
		return false;
	}
	*v = h->value;
	*len = h->value_len;
	px_trim_ows(v, len);
	return true;
}

/* One element of a Cache-Control list. value is the inside of the quotes when quoted. */
typedef struct cc_directive {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
	bool has_value;
	bool quoted;
	/* Not token [ "=" ( token / quoted-string ) ]: the name (if any) is still reported. */
	bool malformed;
} cc_directive;

/*
 * The next non-empty element of the Cache-Control list [*p, end) (RFC 9111
 * 5.2); false at the end. A malformed element ends at the next comma outside
 * a quoted string.
 */
static bool cc_next(const char **p, const char *end, cc_directive *d)
{
	const char *s = *p;
	bool in_quote = false;

	while (s < end && (is_ows(*s) || *s == ',')) {
		s++;
	}
	if (s == end) {
		*p = s;
		return false;
	}
	memset(d, 0, sizeof(*d));
	d->name = s;
	while (s < end && px_is_tchar(*s)) {
		s++;
	}
	d->name_len = (size_t)(s - d->name);
	skip_ows(&s, end);
	if (s < end && *s == '=') {
		s++;
		skip_ows(&s, end);
		d->has_value = true;
		if (s < end && *s == '"') {
			d->quoted = true;
			d->value = ++s;
			while (s < end && *s != '"') {
				s += (*s == '\\' && s + 1 < end) ? 2 : 1;
			}
			d->value_len = (size_t)(s - d->value);
			d->malformed = s == end;
			s = s < end ? s + 1 : s;
		} else {
			d->value = s;
			while (s < end && px_is_tchar(*s)) {
				s++;
			}
			d->value_len = (size_t)(s - d->value);
		}
		skip_ows(&s, end);
	}
	if (d->name_len == 0 || (s < end && *s != ',')) {
		d->malformed = true;
	}
	while (s < end && (in_quote || *s != ',')) {
		if (in_quote && *s == '\\' && s + 1 < end) {
			s++;
		} else if (*s == '"') {
			in_quote = !in_quote;
		}
		s++;
	}
	*p = s;
	return true;
}

/* What the Cache-Control fields say about storing. */
typedef enum delta_state { DELTA_ABSENT, DELTA_VALID, DELTA_INVALID } delta_state;

typedef struct cc_info {
	bool forbidden;
	delta_state s_maxage_state;
	long long s_maxage;
	delta_state max_age_state;
	long long max_age;
} cc_info;

/* Folds one occurrence of s-maxage or max-age in; a repeat with another value is invalid. */
static void cc_delta(const cc_directive *d, delta_state *state, long long *value)
{
	long long v;

	if (d->malformed || !d->has_value || !parse_delta(d->value, d->value_len, d->quoted, &v)) {
		*state = DELTA_INVALID;
	} else if (*state == DELTA_ABSENT) {
		*state = DELTA_VALID;
		*value = v;
	} else if (*state == DELTA_VALID && *value != v) {
		*state = DELTA_INVALID;
	}
}

static void cc_scan(const px_head *resp, cc_info *cc)
{
	memset(cc, 0, sizeof(*cc));
	for (size_t i = 0; i < resp->n_headers && i < PX_MAX_HEADERS; i++) {
		const px_header *h = &resp->headers[i];
		const char *p = h->value;
		cc_directive d;

		if (!px_slice_ieq(h->name, h->name_len, "Cache-Control") || p == NULL) {
			continue;
		}
		while (cc_next(&p, h->value + h->value_len, &d)) {
			if (px_slice_ieq(d.name, d.name_len, "no-store") ||
			    px_slice_ieq(d.name, d.name_len, "private") ||
			    px_slice_ieq(d.name, d.name_len, "no-cache")) {
				cc->forbidden = true;
			} else if (px_slice_ieq(d.name, d.name_len, "s-maxage")) {
				cc_delta(&d, &cc->s_maxage_state, &cc->s_maxage);
			} else if (px_slice_ieq(d.name, d.name_len, "max-age")) {
				cc_delta(&d, &cc->max_age_state, &cc->max_age);
			}
		}
	}
}

/* The lifetime from Expires (relative to Date, else to now), or -1. */
static long long expires_lifetime(const px_head *resp, time_t now)
{
	const char *v;
	size_t len;
	time_t expires;
	time_t base = now;
	long long lifetime;

	if (!single_field(resp, "Expires", &v, &len) || !parse_http_date(v, len, now, &expires)) {
		return -1;
	}
	if (single_field(resp, "Date", &v, &len) && !parse_http_date(v, len, now, &base)) {
		base = now;
	}
	lifetime = sat_sub((long long)expires, (long long)base);
	if (lifetime <= 0) {
		return -1;
	}
	return lifetime > DELTA_MAX ? DELTA_MAX : lifetime;
}

long long px_cache_lifetime(const px_head *resp, time_t now, long long *initial_age)
{
	const px_header *age_field;
	long long age = 0;
	long long lifetime = -1;
	bool storable_status_seen = false;
	cc_info cc;

	if (initial_age != NULL) {
		*initial_age = 0;
	}
	if (resp == NULL) {
		return -1;
	}
	age_field = px_head_find(resp, "Age");
	if (age_field != NULL && age_field->value != NULL) {
		const char *v = age_field->value;
		size_t len = age_field->value_len;

		px_trim_ows(&v, &len);
		if (!parse_delta(v, len, false, &age)) {
			age = 0;
		}
	}
	if (initial_age != NULL) {
		*initial_age = age;
	}
	for (size_t i = 0; i < sizeof(storable_status) / sizeof(storable_status[0]); i++) {
		storable_status_seen = storable_status_seen || resp->status == storable_status[i];
	}
	/* "Vary: *" means the response varies on something outside the request. */
	if (!storable_status_seen || px_head_find(resp, "Set-Cookie") != NULL ||
	    px_head_list_contains(resp, "Vary", "*", 1)) {
		return -1;
	}
	cc_scan(resp, &cc);
	if (cc.forbidden) {
		return -1;
	}
	/* A shared cache obeys s-maxage and then ignores max-age and Expires (RFC 9111 5.2.2.10).
	 */
	if (cc.s_maxage_state == DELTA_VALID) {
		lifetime = cc.s_maxage;
	} else if (cc.s_maxage_state == DELTA_ABSENT && cc.max_age_state == DELTA_VALID) {
		lifetime = cc.max_age;
	} else if (cc.s_maxage_state == DELTA_ABSENT && cc.max_age_state == DELTA_ABSENT) {
		lifetime = expires_lifetime(resp, now);
	}
	/* Both are at most DELTA_MAX, so the difference cannot overflow. */
	if (lifetime - age <= 0) {
		return -1;
	}
	return lifetime;
}

int px_cache_key(const char *host, size_t host_len, const char *target, size_t target_len,
		 px_buf *out)
{
	size_t old_len = out->len;
	int rc;

	if ((host == NULL && host_len > 0) || (target == NULL && target_len > 0) ||
	    (host_len > 0 && memchr(host, '\n', host_len) != NULL)) {
		return -EINVAL;
	}
	rc = px_buf_append(out, host, host_len);
	if (rc == 0) {
		rc = px_buf_append(out, "\n", 1);
	}
	if (rc == 0) {
		rc = px_buf_append(out, target, target_len);
	}
	if (rc < 0) {
		out->len = old_len;
		if (out->data != NULL) {
			out->data[old_len] = '\0';
		}
		return rc;
	}
	for (size_t i = old_len; i < old_len + host_len; i++) {
		out->data[i] = ascii_lower(out->data[i]);
	}
	return 0;
}

long long px__cache_age(long long initial_age, time_t stored, time_t now)
{
	long long since = sat_sub((long long)now, (long long)stored);

	if (since < 0) {
		since = 0;
	}
	return since > LLONG_MAX - initial_age ? LLONG_MAX : initial_age + since;
}
