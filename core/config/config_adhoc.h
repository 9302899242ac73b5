/*
 * Parsing shared by the command-line inputs that become configuration
 * (config_resolve.c, config_target.c): ports and numeric addresses written
 * the way curl writes them. Not installed.
 */
#ifndef ORIGINAUDIT_CORE_CONFIG_ADHOC_H
#define ORIGINAUDIT_CORE_CONFIG_ADHOC_H

#include <stdbool.h>
#include <stddef.h>

#include "originaudit/config.h"

/* Writes "'WHAT': message" into err; returns -EINVAL. */
int oa__adhoc_bad(oa_error *err, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The decimal port in s[0..len): 1-65535, digits only. 0 or -EINVAL. */
int oa__adhoc_port(const char *s, size_t len, unsigned *out);

/*
 * The numeric address in s[0..len), "[IPv6]" or an IPv4 literal; a bare IPv6
 * literal only when bare_v6. Writes its canonical form (no brackets) into out
 * (OA_RESOLVE_ADDRESS_MAX bytes). 0 or -EINVAL.
 */
int oa__adhoc_address(const char *s, size_t len, bool bare_v6, char *out);

/* True when s is a numeric IPv4 or IPv6 literal (no brackets). */
bool oa__adhoc_is_address(const char *s);

#endif
