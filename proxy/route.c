/*
 * Cache behaviour routing: CloudFront path patterns matched against request
 * paths, and the choice of behaviour for a request.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "route.h"

/*
 * Both the pattern and the path are compared as if they began with '/'. Once
 * both do, their first characters are the same literal '/', so comparing what
 * follows one optional leading '/' of each is the same comparison.
 */
static const char *skip_slash(const char *s)
{
	return s[0] == '/' ? s + 1 : s;
}

/*
 * Glob matching with backtracking to the most recent '*' only. Once a later
 * '*' has matched, any way an earlier '*' could have consumed more text is
 * also available to the later one, so earlier stars never need revisiting:
 * the work is bounded by (path length) x (pattern length), with no
 * exponential blow-up on patterns such as "*a*a*a*b".
 */
static bool glob_match(const char *pat, size_t plen, const char *str, size_t slen)
{
	size_t p = 0;
	size_t s = 0;
	bool have_star = false;
	size_t star_p = 0;
	size_t star_s = 0;

	while (s < slen) {
		if (p < plen && pat[p] == '*') {
			have_star = true;
			star_p = p;
			star_s = s;
			p++;
		} else if (p < plen && (pat[p] == '?' || pat[p] == str[s])) {
			p++;
			s++;
		} else if (have_star) {
			/* Let the last '*' take one more character and retry after it. */
			star_s++;
			s = star_s;
			p = star_p + 1;
		} else {
			return false;
		}
	}
	while (p < plen && pat[p] == '*') {
		p++;
	}
	return p == plen;
}

bool oa_path_pattern_matches(const char *pattern, const char *path)
{
	if (pattern == NULL || path == NULL) {
		return false;
	}
	const char *pat = skip_slash(pattern);
	const char *str = skip_slash(path);

	/* The caller should strip the query; if it did not, '?' starts it. */
	return glob_match(pat, strlen(pat), str, strcspn(str, "?"));
}

const oa_behavior_config *oa_config_route(const oa_config *config, const char *path)
{
	if (config == NULL || path == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < config->n_behaviors; i++) {
		const oa_behavior_config *b = &config->behaviors[i];

		if (oa_path_pattern_matches(b->path_pattern, path)) {
			return b;
		}
	}
	if (config->has_default_behavior) {
		return &config->default_behavior;
	}
	return NULL;
}
