/*
 * Tests for cache behaviour routing (include/originaudit/route.h): CloudFront
 * path patterns against request paths, and the choice of behaviour for a
 * request from a configuration.
 *
 * JSON written in this file uses single quotes for readability; config_ok
 * turns them into double quotes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "originaudit/config.h"
#include "originaudit/error.h"
#include "route.h"

struct pattern_case {
	const char *pattern;
	const char *path;
	bool expected;
};

static const struct pattern_case pattern_cases[] = {
    /* Exact patterns. */
    {"/", "/", true},
    {"/index.html", "/index.html", true},
    {"/index.html", "/index.htm", false},
    {"/index.htm", "/index.html", false},
    {"/a/b/c", "/a/b/c", true},
    {"/a/b/c", "/a/b", false},
    {"/a/b", "/a/b/c", false},

    /* '*' takes nothing, one character, many, and slashes. */
    {"/api/*", "/api/", true},
    {"/api/*", "/api/x", true},
    {"/api/*", "/api/users/42/orders", true},
    {"/api/*", "/api", false},
    {"/api/*", "/apix", false},
    {"/a*b", "/ab", true},
    {"/a*b", "/axb", true},
    {"/a*b", "/a/x/y/b", true},
    {"/a*b", "/a/x/y/bc", false},
    {"/*.jpg", "/.jpg", true},
    {"/*.jpg", "/photos/2024/cat.jpg", true},
    {"/*.jpg", "/cat.jpeg", false},
    {"/*.jpg", "/cat.jpg/", false},
    {"/a**b", "/ab", true},
    {"/a**b", "/a/b", true},

    /* A lone '*' matches every path, "/" and the empty path included. */
    {"*", "/", true},
    {"*", "", true},
    {"*", "/anything/at/all.html", true},
    {"/*", "/", true},
    {"/*", "/x/y", true},

    /* '?' takes exactly one character: not zero, not two, '/' included. */
    {"/file?.txt", "/file1.txt", true},
    {"/file?.txt", "/file/.txt", true},
    {"/file?.txt", "/file.txt", false},
    {"/file?.txt", "/file12.txt", false},
    {"/??", "/ab", true},
    {"/??", "/a", false},
    {"/??", "/abc", false},
    {"?", "/x", true},
    {"?", "/", false},

    /* '*' and '?' together. */
    {"/v?/*", "/v1/users", true},
    {"/v?/*", "/v1/", true},
    {"/v?/*", "/v/users", false},
    {"/v?/*", "/v10/users", false},
    {"/*?", "/", false},
    {"/*?", "/a", true},
    {"/*/?.png", "/icons/a.png", true},
    {"/*/?.png", "/icons/ab.png", false},
    {"/*/?.png", "/a/b/c.png", true},
    {"/*.min.*", "/js/app.min.js", true},
    {"/*.min.*", "/js/app.js", false},

    /* Case-sensitive. */
    {"/Images/*", "/images/x", false},
    {"/images/*", "/Images/x", false},
    {"/images/*", "/images/x", true},
    {"*.JPG", "/a.jpg", false},
    {"*.jpg", "/A.JPG", false},

    /* The leading '/' is optional on the pattern, and on the path. */
    {"images/*.jpg", "/images/a.jpg", true},
    {"/images/*.jpg", "images/a.jpg", true},
    {"images/*.jpg", "images/a.jpg", true},
    {"images/*.jpg", "/other/images/a.jpg", false},
    {"*.jpg", "/a.jpg", true},
    {"*.jpg", "a.jpg", true},
    {"index.html", "/index.html", true},
    {"", "/", true},
    {"/", "", true},
    /* Only one '/' is optional: a doubled one is a literal part of the path. */
    {"/a", "//a", false},
    {"//a", "/a", false},
    {"*a", "//a", true},

    /* The query is not part of the path. */
    {"/api/*", "/api/x?y=1", true},
    {"*.jpg", "/a.jpg?x=.png", true},
    {"*.png", "/a.jpg?x=.png", false},
    {"/a", "/a?", true},
    {"/a?", "/ab?x", true},
    {"/a?", "/a?b", false},
    {"/a*", "/a?b", true},
    {"/search", "/search?q=/search/more", true},
    {"/search/*", "/search?q=/search/more", false},
    {"*", "?x", true},

    /* Regex metacharacters are literal. */
    {"/a.b", "/a.b", true},
    {"/a.b", "/axb", false},
    {"/a+b", "/a+b", true},
    {"/a+b", "/aab", false},
    {"/price$", "/price$", true},
    {"/price$", "/price", false},
    {"/(x)", "/(x)", true},
    {"/(x)", "/x", false},
    {"/a.*", "/a.txt", true},
    {"/a.*", "/abc", false},
    {"/[ab]", "/a", false},
    {"/[ab]", "/[ab]", true},
    {"/^x", "/^x", true},
    {"/x|y", "/x", false},

    /* A trailing '/' is significant. */
    {"/docs", "/docs/", false},
    {"/docs/", "/docs", false},
    {"/docs/", "/docs/", true},
    {"/docs/*", "/docs", false},
    {"/docs*", "/docs", true},
    {"/docs*", "/docs/", true},

    /* Backtracking over several stars. */
    {"/*a*b*c", "/xaybzc", true},
    {"/*a*b*c", "/xaybz", false},
    {"/*ab*ab", "/aabab", true},
    {"/*ab*ab", "/abaab", true},
    {"/*ab*ab", "/abba", false},
    {"/*aab", "/aaaaab", true},
    {"/*aab", "/aaaaba", false},
};

static void test_pattern_table(void **state)
{
	(void)state;
	size_t failures = 0;

	for (size_t i = 0; i < sizeof(pattern_cases) / sizeof(pattern_cases[0]); i++) {
		const struct pattern_case *c = &pattern_cases[i];
		bool got = oa_path_pattern_matches(c->pattern, c->path);

		if (got != c->expected) {
			print_error("row %zu: pattern \"%s\" path \"%s\": expected %s, got %s\n", i,
				    c->pattern, c->path, c->expected ? "match" : "no match",
				    got ? "match" : "no match");
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_pattern_null(void **state)
{
	(void)state;

	assert_false(oa_path_pattern_matches(NULL, "/"));
	assert_false(oa_path_pattern_matches("*", NULL));
	assert_false(oa_path_pattern_matches(NULL, NULL));
}

/*
 * The specification written as plainly as possible: both strings given a
 * leading '/', the path cut at '?', then a recursive glob. Exponential, so
 * only for the short strings of the exhaustive test.
 */
static bool ref_glob(const char *p, const char *s)
{
	if (*p == '\0') {
		return *s == '\0';
	}
	if (*p == '*') {
		return ref_glob(p + 1, s) || (*s != '\0' && ref_glob(p, s + 1));
	}
	if (*s != '\0' && (*p == '?' || *p == *s)) {
		return ref_glob(p + 1, s + 1);
	}
	return false;
}

static bool ref_matches(const char *pattern, const char *path)
{
	char p[32];
	char s[32];

	snprintf(p, sizeof(p), "%s%s", pattern[0] == '/' ? "" : "/", pattern);
	snprintf(s, sizeof(s), "%s%.*s", path[0] == '/' ? "" : "/", (int)strcspn(path, "?"), path);
	return ref_glob(p, s);
}

/* Fills buf with the index-th string over alphabet of exactly len characters. */
static void nth_string(const char *alphabet, size_t len, size_t index, char *buf)
{
	size_t base = strlen(alphabet);

	for (size_t i = 0; i < len; i++) {
		buf[i] = alphabet[index % base];
		index /= base;
	}
	buf[len] = '\0';
}

/*
 * Every pattern of up to 5 characters over 'a', 'b', '/', '*' and '?' against
 * every path of up to 5 characters over 'a', 'b', '/' and '?', compared with
 * the reference above.
 */
static void test_pattern_exhaustive(void **state)
{
	(void)state;
	static const char pattern_alphabet[] = "ab/*?";
	static const char path_alphabet[] = "ab/?";
	char pattern[8];
	char path[8];
	size_t compared = 0;
	size_t failures = 0;

	for (size_t plen = 0; plen <= 5; plen++) {
		size_t pcount = 1;

		for (size_t k = 0; k < plen; k++) {
			pcount *= strlen(pattern_alphabet);
		}
		for (size_t pi = 0; pi < pcount; pi++) {
			nth_string(pattern_alphabet, plen, pi, pattern);
			for (size_t slen = 0; slen <= 5; slen++) {
				size_t scount = 1;

				for (size_t k = 0; k < slen; k++) {
					scount *= strlen(path_alphabet);
				}
				for (size_t si = 0; si < scount; si++) {
					nth_string(path_alphabet, slen, si, path);
					bool want = ref_matches(pattern, path);
					bool got = oa_path_pattern_matches(pattern, path);

					compared++;
					if (got != want && failures++ < 10) {
						print_error("pattern \"%s\" path \"%s\": "
							    "expected %d, got %d\n",
							    pattern, path, want, got);
					}
				}
			}
		}
	}
	assert_int_equal(failures, 0);
	/* (5^0 + ... + 5^5) patterns x (4^0 + ... + 4^5) paths. */
	assert_int_equal(compared, (size_t)3906 * 1365);
}

/* A path of '/' followed by n copies of c, then tail; caller frees. */
static char *long_path(size_t n, char c, const char *tail)
{
	size_t tlen = strlen(tail);
	char *s = malloc(n + tlen + 2);

	assert_non_null(s);
	s[0] = '/';
	memset(s + 1, c, n);
	memcpy(s + 1 + n, tail, tlen + 1);
	return s;
}

/*
 * Patterns that make a naive recursive matcher take exponential time. The
 * suite's timeout is the only clock: a regression would hang here.
 */
static void test_pattern_pathological(void **state)
{
	(void)state;
	char *a = long_path(100000, 'a', "");
	char *ab = long_path(100000, 'a', "b");
	char *aq = long_path(100000, 'a', "?b");

	assert_false(oa_path_pattern_matches("*a*a*a*a*a*b", a));
	assert_true(oa_path_pattern_matches("*a*a*a*a*a*b", ab));
	assert_true(oa_path_pattern_matches("*a*a*a*a*a*a", a));
	assert_false(oa_path_pattern_matches("*a*a*a*a*a*b", aq));
	assert_false(oa_path_pattern_matches("/*a*?*a*?*a*?*a*?*b", a));
	assert_true(oa_path_pattern_matches("/*a*?*a*?*a*?*a*?*b", ab));
	assert_false(oa_path_pattern_matches("/*aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", a));
	assert_true(oa_path_pattern_matches("/*aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", ab));
	assert_false(oa_path_pattern_matches("/****************************b", a));
	assert_true(oa_path_pattern_matches("/****************************b", ab));
	free(a);
	free(ab);
	free(aq);
}

/* Builds a configuration from text (single quotes turned into double quotes); asserts success. */
static oa_config *config_ok(const char *text)
{
	char *json = strdup(text);
	json_error_t jerr;
	oa_config *config = NULL;
	oa_error err;

	assert_non_null(json);
	for (char *p = json; *p != '\0'; p++) {
		if (*p == '\'') {
			*p = '"';
		}
	}
	json_t *root = json_loads(json, 0, &jerr);
	if (root == NULL) {
		fail_msg("json_loads: %s", jerr.text);
	}
	oa_error_clear(&err);
	int rc = oa_config_from_json(root, "test", &config, &err);
	if (rc != 0) {
		fail_msg("oa_config_from_json: %d %s", rc, err.msg);
	}
	assert_non_null(config);
	json_decref(root);
	free(json);
	return config;
}

#define ORIGINS                                                                                    \
	"'origins':[{'id':'a','domain_name':'a.example'},{'id':'b','domain_name':'b.example'},"    \
	"{'id':'c','domain_name':'c.example'}]"

/* Asserts that path routes to behaviors[index], or the default when index is -1. */
static void expect_route(const oa_config *config, const char *path, long index)
{
	const oa_behavior_config *got = oa_config_route(config, path);
	const oa_behavior_config *want =
	    index < 0 ? &config->default_behavior : &config->behaviors[index];

	if (got != want) {
		fail_msg("path \"%s\": expected behaviors[%ld] (-1: the default), got %s", path,
			 index,
			 got == NULL		     ? "NULL"
			 : got->path_pattern == NULL ? "the default"
						     : got->path_pattern);
	}
}

static void test_route_first_match_wins(void **state)
{
	(void)state;
	oa_config *config = config_ok("{" ORIGINS ",'behaviors':["
				      "{'path_pattern':'/api/*','origin':'a'},"
				      "{'path_pattern':'*.jpg','origin':'b'},"
				      "{'path_pattern':'/api/v2/*','origin':'c'}],"
				      "'default_behavior':{'origin':'b'}}");

	/* Both of the first two match: the one listed first wins. */
	expect_route(config, "/api/photo.jpg", 0);
	/* The third is shadowed by the first and never chosen. */
	expect_route(config, "/api/v2/users", 0);
	expect_route(config, "/img/photo.jpg", 1);
	expect_route(config, "/other", -1);
	expect_route(config, "/", -1);
	assert_int_equal(oa_config_route(config, "/api/x")->origin_index, 0);
	assert_string_equal(oa_config_route(config, "/x.jpg")->origin_id, "b");
	assert_null(oa_config_route(config, "/x")->path_pattern);
	oa_config_destroy(config);
}

static void test_route_listed_order(void **state)
{
	(void)state;
	/* The same two patterns in the other order: the result follows the order. */
	oa_config *config = config_ok("{" ORIGINS ",'behaviors':["
				      "{'path_pattern':'*.jpg','origin':'b'},"
				      "{'path_pattern':'/api/*','origin':'a'}],"
				      "'default_behavior':{'origin':'c'}}");

	expect_route(config, "/api/photo.jpg", 0);
	expect_route(config, "/api/data", 1);
	expect_route(config, "/photo.jpg", 0);
	expect_route(config, "/photo.png", -1);
	assert_string_equal(oa_config_route(config, "/photo.png")->origin_id, "c");
	oa_config_destroy(config);
}

static void test_route_default_last(void **state)
{
	(void)state;
	/* An explicit "*" behaviour matches everything before the default is considered. */
	oa_config *config = config_ok("{" ORIGINS ",'behaviors':["
				      "{'path_pattern':'/static/*','origin':'a'},"
				      "{'path_pattern':'*','origin':'c'}],"
				      "'default_behavior':{'origin':'b'}}");

	expect_route(config, "/static/app.js", 0);
	expect_route(config, "/anything", 1);
	expect_route(config, "/", 1);
	oa_config_destroy(config);
}

static void test_route_only_default(void **state)
{
	(void)state;
	oa_config *config = config_ok("{" ORIGINS ",'default_behavior':{'origin':'a'}}");

	expect_route(config, "/", -1);
	expect_route(config, "/x/y?z=1", -1);
	assert_string_equal(oa_config_route(config, "/")->origin_id, "a");
	oa_config_destroy(config);
}

static void test_route_no_default(void **state)
{
	(void)state;
	oa_config *config = config_ok("{" ORIGINS ",'behaviors':["
				      "{'path_pattern':'/api/*','origin':'a'},"
				      "{'path_pattern':'*.jpg','origin':'b'}]}");

	expect_route(config, "/api/x", 0);
	expect_route(config, "/a.jpg", 1);
	assert_null(oa_config_route(config, "/other"));
	assert_null(oa_config_route(config, "/"));
	assert_null(oa_config_route(config, "/a.jpeg"));
	oa_config_destroy(config);

	/* No behaviours at all: nothing routes. */
	config = config_ok("{" ORIGINS "}");
	assert_null(oa_config_route(config, "/"));
	assert_null(oa_config_route(config, "/api/x"));
	oa_config_destroy(config);
}

static void test_route_case_sensitive(void **state)
{
	(void)state;
	oa_config *config = config_ok("{" ORIGINS ",'behaviors':["
				      "{'path_pattern':'/Images/*','origin':'a'},"
				      "{'path_pattern':'*.JPG','origin':'b'}],"
				      "'default_behavior':{'origin':'c'}}");

	expect_route(config, "/Images/x", 0);
	expect_route(config, "/images/x", -1);
	expect_route(config, "/IMAGES/x", -1);
	expect_route(config, "/a.JPG", 1);
	expect_route(config, "/a.jpg", -1);
	oa_config_destroy(config);
}

static void test_route_slash_and_query(void **state)
{
	(void)state;
	oa_config *config = config_ok("{" ORIGINS ",'behaviors':["
				      "{'path_pattern':'images/*','origin':'a'},"
				      "{'path_pattern':'*.jpg','origin':'b'},"
				      "{'path_pattern':'/v?/*','origin':'c'}],"
				      "'default_behavior':{'origin':'c'}}");

	/* The first pattern has no leading '/' and still matches request paths. */
	expect_route(config, "/images/a.png", 0);
	expect_route(config, "/img/images/a.png", -1);
	/* The query never decides the route. */
	expect_route(config, "/a.png?name=b.jpg", -1);
	expect_route(config, "/a.jpg?size=2", 1);
	expect_route(config, "/images?x=/images/y", -1);
	/* '?' in a pattern is a wildcard, not a query. */
	expect_route(config, "/v1/users", 2);
	expect_route(config, "/v/users", -1);
	oa_config_destroy(config);
}

static void test_route_null(void **state)
{
	(void)state;
	oa_config *config = config_ok("{" ORIGINS ",'default_behavior':{'origin':'a'}}");

	assert_null(oa_config_route(NULL, "/"));
	assert_null(oa_config_route(config, NULL));
	oa_config_destroy(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pattern_table),
	    cmocka_unit_test(test_pattern_null),
	    cmocka_unit_test(test_pattern_exhaustive),
	    cmocka_unit_test(test_pattern_pathological),
	    cmocka_unit_test(test_route_first_match_wins),
	    cmocka_unit_test(test_route_listed_order),
	    cmocka_unit_test(test_route_default_last),
	    cmocka_unit_test(test_route_only_default),
	    cmocka_unit_test(test_route_no_default),
	    cmocka_unit_test(test_route_case_sensitive),
	    cmocka_unit_test(test_route_slash_and_query),
	    cmocka_unit_test(test_route_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
