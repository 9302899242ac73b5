/*
 * Lint of a valid configuration (`originaudit check-config`): settings
 * CloudFront accepts but that are likely mistakes or insecure.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/config.h"

/* CloudFront's default quotas per distribution. */
#define QUOTA_ORIGINS 25
#define QUOTA_BEHAVIORS 25

/* Longest path pattern CloudFront accepts, plus the leading '/' lint may add. */
#define PATTERN_MAX 256

typedef struct lint_list {
	oa_lint *items;
	size_t n;
	size_t cap;
	int error;
} lint_list;

static void add(lint_list *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(lint_list *l, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (l->error < 0) {
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		oa_lint *items = realloc(l->items, cap * sizeof(*items));

		if (items == NULL) {
			l->error = -ENOMEM;
			return;
		}
		l->items = items;
		l->cap = cap;
	}
	oa_lint *item = &l->items[l->n++];
	snprintf(item->path, sizeof(item->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(item->message, sizeof(item->message), fmt, ap);
	va_end(ap);
}

static const char *viewer_name(oa_viewer_protocol_policy p)
{
	switch (p) {
	case OA_VIEWER_ALLOW_ALL:
		return "allow-all";
	case OA_VIEWER_REDIRECT_TO_HTTPS:
		return "redirect-to-https";
	case OA_VIEWER_HTTPS_ONLY:
		return "https-only";
	}
	return "?";
}

static void lint_match_viewer(lint_list *l, const oa_config *config, const char *path,
			      const oa_behavior_config *b)
{
	const oa_origin_config *o = &config->origins[b->origin_index];

	if (o->protocol_policy != OA_ORIGIN_MATCH_VIEWER ||
	    b->viewer_protocol_policy != OA_VIEWER_ALLOW_ALL) {
		return;
	}
	add(l, path,
	    "origin \"%s\" uses protocol_policy match-viewer and this behaviour's "
	    "viewer_protocol_policy is %s, so viewers on plain HTTP reach the origin over HTTP; "
	    "CloudFront advises match-viewer only with redirect-to-https or https-only",
	    o->id, viewer_name(b->viewer_protocol_policy));
}

/*
 * The pattern with its optional leading '/' made explicit: a pattern without
 * one matches exactly the paths it matches with one, since paths start with '/'.
 */
static void normalise_pattern(const char *pattern, char out[PATTERN_MAX + 1])
{
	snprintf(out, PATTERN_MAX + 1, "%s%s", pattern[0] == '/' ? "" : "/", pattern);
}

/*
 * Within each run of wildcards, '?' before '*' and a single '*': "*?*" and
 * "?*" match the same paths, and the comparison below needs one spelling.
 */
static void canonical_wildcards(char *s)
{
	size_t o = 0;
	size_t i = 0;

	while (s[i] != '\0') {
		if (s[i] != '*' && s[i] != '?') {
			s[o++] = s[i++];
			continue;
		}
		size_t questions = 0;
		bool star = false;
		for (; s[i] == '*' || s[i] == '?'; i++) {
			if (s[i] == '?') {
				questions++;
			} else {
				star = true;
			}
		}
		for (size_t k = 0; k < questions; k++) {
			s[o++] = '?';
		}
		if (star) {
			s[o++] = '*';
		}
	}
	s[o] = '\0';
}

/*
 * True when every path that pattern b matches is also matched by pattern a,
 * checked by matching a against b's text symbolically: a's '*' takes any run
 * of b (wildcards included), a's '?' takes one literal character or b's '?',
 * a literal takes the same literal. This never claims shadowing that is not
 * there; with canonical wildcard runs it finds the usual cases: identical
 * patterns, a "prefix then star" pattern before a longer pattern with that
 * prefix, a lone star before anything, and a "star then suffix" pattern before
 * a pattern with the same suffix.
 */
static bool pattern_covers(const char *a_raw, const char *b_raw)
{
	char a[PATTERN_MAX + 1];
	char b[PATTERN_MAX + 1];

	normalise_pattern(a_raw, a);
	normalise_pattern(b_raw, b);
	canonical_wildcards(a);
	canonical_wildcards(b);

	size_t n = strlen(a);
	size_t m = strlen(b);
	/* reach[j]: a's first i tokens can consume b's first j tokens. */
	bool reach[PATTERN_MAX + 2];
	bool next[PATTERN_MAX + 2];

	memset(reach, 0, sizeof(reach));
	reach[0] = true;
	for (size_t i = 0; i < n; i++) {
		memset(next, 0, sizeof(next));
		if (a[i] == '*') {
			bool any = false;

			for (size_t j = 0; j <= m; j++) {
				any = any || reach[j];
				next[j] = any;
			}
		} else {
			for (size_t j = 0; j < m; j++) {
				if (!reach[j]) {
					continue;
				}
				if (a[i] == '?' ? b[j] != '*' : a[i] == b[j]) {
					next[j + 1] = true;
				}
			}
		}
		memcpy(reach, next, sizeof(reach));
	}
	return reach[m];
}

static void lint_shadowed(lint_list *l, const oa_config *config)
{
	char path[64];

	for (size_t j = 0; j < config->n_behaviors; j++) {
		const oa_behavior_config *b = &config->behaviors[j];

		for (size_t i = 0; i < j; i++) {
			const oa_behavior_config *a = &config->behaviors[i];

			if (!pattern_covers(a->path_pattern, b->path_pattern)) {
				continue;
			}
			snprintf(path, sizeof(path), "behaviors[%zu]", j);
			add(l, path,
			    "path pattern \"%s\" is never used: the earlier behaviors[%zu] "
			    "(\"%s\") "
			    "matches every path it matches, and CloudFront uses the first match",
			    b->path_pattern, i, a->path_pattern);
			break;
		}
	}
}

static void lint_protocols(lint_list *l, const oa_config *config)
{
	char path[64];

	for (size_t i = 0; i < config->n_origins; i++) {
		const oa_origin_config *o = &config->origins[i];
		unsigned weak = o->ssl_protocols & (OA_PROTO_SSL3 | OA_PROTO_TLS1_0);

		/* ssl_protocols does not matter when CloudFront never uses TLS toward it. */
		if (weak == 0 || o->s3 || o->protocol_policy == OA_ORIGIN_HTTP_ONLY) {
			continue;
		}
		snprintf(path, sizeof(path), "origins[%zu].ssl_protocols", i);
		add(l, path,
		    "origin \"%s\" allows %s, which %s insecure: allow only TLSv1.2 (and TLSv1.3) "
		    "once the origin supports it",
		    o->id,
		    weak == (OA_PROTO_SSL3 | OA_PROTO_TLS1_0) ? "SSLv3 and TLSv1"
		    : weak == OA_PROTO_SSL3		      ? "SSLv3"
							      : "TLSv1",
		    weak == (OA_PROTO_SSL3 | OA_PROTO_TLS1_0) ? "are" : "is");
	}
}

/*
 * The origins a behaviour reaches: its origin and, when it targets an origin
 * group, every failover member, which CloudFront contacts when the primary fails.
 */
static void mark_used(bool *used, const oa_config *config, const oa_behavior_config *b)
{
	if (b->origin_index < config->n_origins) {
		used[b->origin_index] = true;
	}
	for (size_t m = 0; m < b->n_group_members; m++) {
		if (b->group_members[m] < config->n_origins) {
			used[b->group_members[m]] = true;
		}
	}
}

static void lint_unused(lint_list *l, const oa_config *config)
{
	char path[64];

	if (config->n_behaviors == 0 && !config->has_default_behavior) {
		return;
	}
	/* Marked in one pass over the behaviours, not one pass per origin. */
	bool *used = calloc(config->n_origins ? config->n_origins : 1, sizeof(*used));
	if (used == NULL) {
		l->error = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < config->n_behaviors; i++) {
		mark_used(used, config, &config->behaviors[i]);
	}
	if (config->has_default_behavior) {
		mark_used(used, config, &config->default_behavior);
	}
	for (size_t i = 0; i < config->n_origins; i++) {
		if (used[i]) {
			continue;
		}
		snprintf(path, sizeof(path), "origins[%zu]", i);
		add(l, path,
		    "no behaviour routes to origin \"%s\", so CloudFront never contacts it "
		    "(informational: it is still scanned)",
		    config->origins[i].id);
	}
	free(used);
}

int oa_config_lint(const oa_config *config, oa_lint **out, size_t *n)
{
	lint_list l = {NULL, 0, 0, 0};
	char path[64];

	*out = NULL;
	*n = 0;
	if (config->n_origins > QUOTA_ORIGINS) {
		add(&l, "origins",
		    "%zu origins: CloudFront's default quota is %d per distribution (AWS raises it "
		    "on request)",
		    config->n_origins, QUOTA_ORIGINS);
	}
	if (config->n_behaviors > QUOTA_BEHAVIORS) {
		add(&l, "behaviors",
		    "%zu behaviours besides the default: CloudFront's default quota is %d per "
		    "distribution (AWS raises it on request)",
		    config->n_behaviors, QUOTA_BEHAVIORS);
	}
	for (size_t i = 0; i < config->n_behaviors; i++) {
		snprintf(path, sizeof(path), "behaviors[%zu]", i);
		lint_match_viewer(&l, config, path, &config->behaviors[i]);
	}
	if (config->has_default_behavior) {
		lint_match_viewer(&l, config, "default_behavior", &config->default_behavior);
	}
	lint_shadowed(&l, config);
	lint_protocols(&l, config);
	lint_unused(&l, config);
	if (l.error < 0) {
		free(l.items);
		return l.error;
	}
	*out = l.items;
	*n = l.n;
	return 0;
}
