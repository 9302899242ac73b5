/*
 * Tests for host name normalisation and certificate name matching
 * (include/originaudit/names.h), following RFC 6125 as CloudFront applies it.
 *
 * This file is UTF-8: the internationalised inputs below are written as-is.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "originaudit/error.h"
#include "originaudit/names.h"

/* Building blocks for labels of a known length. */
#define A10 "aaaaaaaaaa"
#define LABEL63 A10 A10 A10 A10 A10 A10 "aaa"
#define LABEL64 LABEL63 "a"

struct match_case {
	const char *pattern;
	const char *host;
	bool expected;
};

/*
 * Certificate name against an already normalised host. The host column only
 * holds normalised names, except in rows whose point is that a '*' or a space
 * in the host never matches.
 */
static const struct match_case match_cases[] = {
    /* Exact names, compared case-insensitively, one trailing dot ignored. */
    {"www.example.com", "www.example.com", true},
    {"WWW.Example.COM", "www.example.com", true},
    {"www.example.com.", "www.example.com", true},
    {"WWW.EXAMPLE.COM.", "www.example.com", true},
    {"example.com", "example.com", true},
    {"localhost", "localhost", true},
    {"xn--bcher-kva.example", "xn--bcher-kva.example", true},
    {"XN--BCHER-KVA.example", "xn--bcher-kva.example", true},
    {"a-b.example.com", "a-b.example.com", true},

    /* A certificate name that is not a valid DNS name never matches, even itself. */
    {"foo_bar.example.com", "foo_bar.example.com", false},
    {"*.foo_bar.example.com", "a.foo_bar.example.com", false},
    {"a..example.com", "a..example.com", false},

    /* Exact names that differ somewhere. */
    {"www.example.org", "www.example.com", false},
    {"ample.com", "example.com", false},
    {"example.com", "ample.com", false},
    {"example.com", "www.example.com", false},
    {"www.example.com", "example.com", false},
    {"example.co", "example.com", false},
    {"example.com", "example.com.au", false},
    {"www.example.com", "ww.example.com", false},

    /* A wildcard covers exactly one non-empty left-most label. */
    {"*.example.com", "a.example.com", true},
    {"*.example.com", "www.example.com", true},
    {"*.example.com", "xn--bcher-kva.example.com", true},
    {"*.example.com", "a-b.example.com", true},
    {"*.example.com", "1.example.com", true},
    {"*.EXAMPLE.COM", "a.example.com", true},
    {"*.example.com.", "a.example.com", true},
    {"*.sub.example.com", "a.sub.example.com", true},
    {"*.a.b", "x.a.b", true},
    {"*.example.com", "example.com", false},
    {"*.example.com", "a.b.example.com", false},
    {"*.example.com", ".example.com", false},
    {"*.sub.example.com", "sub.example.com", false},
    {"*.sub.example.com", "a.example.com", false},

    /* The part after the wildcard must match whole labels, not a suffix. */
    {"*.example.com", "notexample.com", false},
    {"*.example.com", "a.notexample.com", false},
    {"*.example.com", "a.example.com.evil.net", false},
    {"*.example.com", "a.example.co", false},
    {"*.example.com", "a.example.org", false},

    /*
     * A wildcard needs at least two labels after it. There is deliberately no
     * public-suffix list, so "*.co.uk" passes this rule and matches.
     */
    {"*.com", "example.com", false},
    {"*.com", "com", false},
    {"*.co.uk", "foo.co.uk", true},
    {"*", "com", false},
    {"*", "example.com", false},
    {"*", "a.example.com", false},
    {"*.", "com", false},
    {"*.", "example.com", false},

    /* Partial wildcards never match. */
    {"w*.example.com", "www.example.com", false},
    {"*w.example.com", "www.example.com", false},
    {"w*w.example.com", "www.example.com", false},
    {"xn--*.example.com", "xn--bcher-kva.example.com", false},
    {"**.example.com", "a.example.com", false},

    /* A wildcard outside the left-most label, or more than one, never matches. */
    {"www.*.com", "www.example.com", false},
    {"a.*.example.com", "a.b.example.com", false},
    {"www.example.*", "www.example.com", false},
    {"*.*.example.com", "a.b.example.com", false},
    {"*.*.com", "a.example.com", false},

    /* Empty names never match. */
    {"", "example.com", false},
    {"example.com", "", false},
    {"*.example.com", "", false},
    {"", "", false},

    /* A host containing '*' never matches, not even an identical pattern. */
    {"*.example.com", "*.example.com", false},
    {"*.example.com", "a*.example.com", false},
    {"*", "*", false},

    /* Internal whitespace in the pattern never matches, even an identical host. */
    {"www .example.com", "www.example.com", false},
    {"www. example.com", "www.example.com", false},
    {"* .example.com", "a.example.com", false},
    {"www.exa mple.com", "www.exa mple.com", false},
};

struct norm_case {
	const char *input;
	/* NULL when the input must be rejected with -EINVAL. */
	const char *expected;
};

static const struct norm_case norm_cases[] = {
    /* Accepted names. */
    {"www.example.com", "www.example.com"},
    {"WWW.Example.COM", "www.example.com"},
    {"example.com.", "example.com"},
    {"Example.COM.", "example.com"},
    {"localhost", "localhost"},
    {"a-b.1.example", "a-b.1.example"},
    {"xn--bcher-kva.example", "xn--bcher-kva.example"},
    {"bücher.example", "xn--bcher-kva.example"},
    {"ÖBB.at", "xn--bb-eka.at"},
    {"例え.テスト", "xn--r8jz45g.xn--zckzah"},
    {LABEL63 ".example.com", LABEL63 ".example.com"},

    /* Empty names and empty labels. Only one trailing dot is stripped. */
    {"", NULL},
    {".", NULL},
    {".example.com", NULL},
    {"a..b.com", NULL},
    {"example.com..", NULL},

    /* A label over 63 characters. */
    {LABEL64 ".example.com", NULL},

    /* Characters outside letters, digits, '-' and '.'. */
    {"www.exa mple.com", NULL},
    {" example.com", NULL},
    /* An underscore is in names viewers send (Host: foo_bar...): accepted to check against. */
    {"_dmarc.example.com", "_dmarc.example.com"},
    {"Foo_Bar.example.com", "foo_bar.example.com"},
    {"a/b", NULL},

    /* Operators give real host names, never patterns: '*' is refused anywhere. */
    {"*.example.com", NULL},
    {"www.*.com", NULL},
    {"a*b.example.com", NULL},
    {"*", NULL},
};

/*
 * Normalises input and checks the outcome against expected (NULL meaning
 * -EINVAL). Prints what went wrong under the given label and returns false on
 * a mismatch, so a table run can name every failing row.
 */
static bool check_normalize(const char *label, const char *input, const char *expected)
{
	char out[OA_NAME_MAX];
	oa_error err;
	int rc;

	memset(out, 0, sizeof(out));
	memset(&err, 0, sizeof(err));
	rc = oa_name_normalize(input, out, &err);

	if (expected != NULL) {
		if (rc != 0) {
			print_error("%s: oa_name_normalize(\"%s\") returned %d (%s), expected 0\n",
				    label, input, rc, err.msg);
			return false;
		}
		if (strcmp(out, expected) != 0) {
			print_error("%s: oa_name_normalize(\"%s\") gave \"%s\", expected \"%s\"\n",
				    label, input, out, expected);
			return false;
		}
		return true;
	}

	if (rc != -EINVAL) {
		print_error("%s: oa_name_normalize(\"%s\") returned %d (out \"%s\"), expected "
			    "-EINVAL (%d)\n",
			    label, input, rc, out, -EINVAL);
		return false;
	}
	if (err.code != -EINVAL) {
		print_error("%s: oa_name_normalize(\"%s\") set err.code %d, expected %d\n", label,
			    input, err.code, -EINVAL);
		return false;
	}
	if (err.msg[0] == '\0') {
		print_error("%s: oa_name_normalize(\"%s\") left err.msg empty\n", label, input);
		return false;
	}
	if (strstr(err.msg, input) == NULL) {
		print_error("%s: oa_name_normalize(\"%s\") err.msg \"%s\" lacks the input\n", label,
			    input, err.msg);
		return false;
	}
	return true;
}

static const char *bool_str(bool b)
{
	return b ? "true" : "false";
}

static void test_name_matches_table(void **state)
{
	size_t i;
	size_t failures = 0;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		bool got = oa_name_matches(c->pattern, c->host);

		if (got == c->expected) {
			continue;
		}
		print_error("match row %zu: oa_name_matches(\"%s\", \"%s\") = %s, want %s\n", i,
			    c->pattern, c->host, bool_str(got), bool_str(c->expected));
		failures++;
	}
	assert_int_equal(failures, 0);
}

static void test_name_normalize_table(void **state)
{
	char label[32];
	size_t i;
	size_t failures = 0;

	for (i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		snprintf(label, sizeof(label), "normalize row %zu", i);
		if (!check_normalize(label, norm_cases[i].input, norm_cases[i].expected)) {
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/*
 * Writes labels of 63 characters separated by dots, then a last label that
 * brings the name to exactly len characters. For the lengths used here
 * (253 to 255) the last label has 61 to 63 characters, so only the total
 * length can make a name invalid.
 */
static void build_name(char *buf, size_t len)
{
	size_t pos = 0;

	while (len - pos > 64) {
		memset(buf + pos, 'a', 63);
		pos += 63;
		buf[pos] = '.';
		pos++;
	}
	memset(buf + pos, 'b', len - pos);
	buf[len] = '\0';
}

static void test_name_normalize_total_length(void **state)
{
	char name[OA_NAME_MAX + 8];
	char expected[OA_NAME_MAX];

	/* 253 characters is the longest host name DNS can carry. */
	build_name(name, 253);
	assert_int_equal(strlen(name), 253);
	assert_true(check_normalize("253 characters", name, name));

	/* The trailing dot does not count: 254 input characters normalise to 253. */
	memcpy(expected, name, sizeof(expected));
	strcat(name, ".");
	assert_int_equal(strlen(name), 254);
	assert_true(check_normalize("253 characters plus trailing dot", name, expected));

	build_name(name, 254);
	assert_int_equal(strlen(name), 254);
	assert_true(check_normalize("254 characters", name, NULL));

	build_name(name, 255);
	assert_int_equal(strlen(name), 255);
	strcat(name, ".");
	assert_true(check_normalize("255 characters plus trailing dot", name, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_matches_table),
	    cmocka_unit_test(test_name_normalize_table),
	    cmocka_unit_test(test_name_normalize_total_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
