/*
 * Cache behaviour routing as CloudFront's edge does it: path patterns with
 * '*' and '?', evaluated in the listed order, the default behaviour last.
 */
#ifndef ORIGINAUDIT_PROXY_ROUTE_H
#define ORIGINAUDIT_PROXY_ROUTE_H

#include <stdbool.h>

#include "originaudit/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * True when a CloudFront path pattern matches path: '*' matches any run of
 * characters (none, and '/' included), '?' exactly one character, everything
 * else itself, case-sensitively. A leading '/' is optional on both the
 * pattern and the path ("images/x.jpg" is "/images/x.jpg"). Only the path is
 * compared: from the first '?' in path on, the rest is the query and is
 * ignored. Never allocates; at worst pattern length x path length steps,
 * never exponential. A NULL pattern or path never matches.
 */
bool oa_path_pattern_matches(const char *pattern, const char *path);

/*
 * The behaviour for a request path: the first of config->behaviors whose
 * pattern matches, else the default behaviour when config has one, else NULL
 * (also for a NULL config or path). The result is owned by config.
 */
const oa_behavior_config *oa_config_route(const oa_config *config, const char *path);

#ifdef __cplusplus
}
#endif

#endif
