/*
 * What the two halves of the response cache share and nothing else uses:
 * proxy/cache.c (the store) and proxy/cache_policy.c (storability, age, keys).
 */
#ifndef ORIGINAUDIT_PROXY_CACHE_INTERNAL_H
#define ORIGINAUDIT_PROXY_CACHE_INTERNAL_H

#include <time.h>

/* initial_age (>= 0) plus the seconds from stored to now (0 if the clock went back), saturated. */
long long px__cache_age(long long initial_age, time_t stored, time_t now);

#endif
