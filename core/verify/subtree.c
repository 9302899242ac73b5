/*
 * Whether a name lies in a name-constraint subtree (RFC 5280 4.2.1.10), one
 * function per form: DNS names (and a wildcard's names), URI hosts, e-mail
 * addresses, IP addresses under a mask, and directory names compared RDN by
 * RDN. Used by core/verify/name_constraints.c.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* Case-insensitive: does s (n bytes) end with suffix (m bytes)? */
static bool ends_with(const char *s, size_t n, const char *suffix, size_t m)
{
	return n >= m && strncasecmp(s + n - m, suffix, m) == 0;
}

/*
 * Whether the DNS name (n bytes) lies in the subtree c (m bytes): c itself or
 * below it; a constraint with a leading '.' covers only names below it.
 */
bool oa__dns_within(const char *name, size_t n, const char *c, size_t m)
{
	if (m == 0) {
		return true;
	}
	if (c[0] == '.') {
		return n > m && ends_with(name, n, c, m);
	}
	if (n == m) {
		return strncasecmp(name, c, m) == 0;
	}
	return n > m && name[n - m - 1] == '.' && ends_with(name, n, c, m);
}

/* Whether every name one label below s (n bytes) lies in the subtree c. */
bool oa__dns_children_within(const char *s, size_t n, const char *c, size_t m)
{
	if (m > 0 && c[0] == '.') {
		c++;
		m--;
	}
	return m == 0 || oa__dns_within(s, n, c, m);
}

/* Whether some name one label below s lies in the subtree c. */
bool oa__dns_some_child_within(const char *s, size_t n, const char *c, size_t m)
{
	if (oa__dns_children_within(s, n, c, m)) {
		return true;
	}
	if (m > 0 && c[0] == '.') {
		/* Only names below c: none of them is one label below s unless all are. */
		return false;
	}
	/* c is one label below s ("x.s"): the wildcard can be c itself. */
	return m > n + 1 && c[m - n - 1] == '.' && ends_with(c, m, s, n) &&
	       memchr(c, '.', m - n - 1) == NULL;
}

/* The host of a URI ("scheme://[user@]host[:port]..."), or false when it has none. */
bool oa__uri_host(const char *uri, size_t n, const char **host, size_t *len)
{
	const char *p = memchr(uri, ':', n);
	const char *end = uri + n;

	if (p == NULL || end - p < 3 || p[1] != '/' || p[2] != '/') {
		return false;
	}
	p += 3;
	const char *stop = p;
	while (stop < end && *stop != '/' && *stop != '?' && *stop != '#') {
		stop++;
	}
	const char *at = memchr(p, '@', (size_t)(stop - p));
	if (at != NULL) {
		p = at + 1;
	}
	const char *colon = memchr(p, ':', (size_t)(stop - p));
	if (colon != NULL) {
		stop = colon;
	}
	*host = p;
	*len = (size_t)(stop - p);
	return *len > 0 && p[0] != '[';
}

/* Whether the e-mail address lies in c: a mailbox, a host, or ".domain". */
bool oa__email_within(const char *addr, size_t n, const char *c, size_t m)
{
	const char *at = memchr(addr, '@', n);

	if (at == NULL) {
		return false;
	}
	if (memchr(c, '@', m) != NULL) {
		return n == m && strncasecmp(addr, c, m) == 0;
	}
	const char *host = at + 1;
	size_t hn = (size_t)(addr + n - host);
	if (m > 0 && c[0] == '.') {
		return hn > m && ends_with(host, hn, c, m);
	}
	return hn == m && strncasecmp(host, c, m) == 0;
}

bool oa__ip_within(const unsigned char *ip, size_t n, const unsigned char *c, size_t m)
{
	if (m != 2 * n) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((ip[i] & c[n + i]) != (c[i] & c[n + i])) {
			return false;
		}
	}
	return true;
}

/* Whether tag is a string type compared as text (UTF8String, PrintableString, IA5String). */
static bool text_string(unsigned tag)
{
	return tag == 0x0c || tag == 0x13 || tag == 0x16;
}

/* Skips spaces; returns the next byte lowered, or -1 at the end. */
static int next_folded(const unsigned char **p, const unsigned char *end, bool *space)
{
	*space = false;
	while (*p < end && **p == ' ') {
		(*p)++;
		*space = true;
	}
	return *p < end ? tolower(*(*p)++) : -1;
}

/*
 * Attribute values compare as RFC 5280 7.1 asks of the common cases: text in
 * any of the three string types, case-insensitively, with runs of spaces
 * folded and leading and trailing ones ignored; anything else byte for byte.
 */
static bool value_equal(const oa__tlv *a, const oa__tlv *b)
{
	if (!text_string(a->tag) || !text_string(b->tag)) {
		return a->tag == b->tag && a->size == b->size &&
		       memcmp(a->data, b->data, a->size) == 0;
	}
	const unsigned char *p = a->data;
	const unsigned char *q = b->data;
	bool first = true;

	for (;;) {
		bool sp;
		bool sq;
		int x = next_folded(&p, a->data + a->size, &sp);
		int y = next_folded(&q, b->data + b->size, &sq);

		if (x != y || (x >= 0 && !first && sp != sq)) {
			return false;
		}
		if (x < 0) {
			return true;
		}
		first = false;
	}
}

/* Whether two RDNs (SET contents) hold the same attributes in the same order. */
static bool rdn_equal(const oa__tlv *a, const oa__tlv *b)
{
	const unsigned char *p = a->data;
	const unsigned char *q = b->data;
	const unsigned char *pe = a->data + a->size;
	const unsigned char *qe = b->data + b->size;

	while (p < pe && q < qe) {
		oa__tlv x;
		oa__tlv y;
		oa__tlv xo;
		oa__tlv yo;
		oa__tlv xv;
		oa__tlv yv;

		if (!oa__der_read(&p, pe, &x) || !oa__der_read(&q, qe, &y) || x.tag != 0x30 ||
		    y.tag != 0x30) {
			return false;
		}
		const unsigned char *r = x.data;
		const unsigned char *t = y.data;
		if (!oa__der_read(&r, x.data + x.size, &xo) ||
		    !oa__der_read(&r, x.data + x.size, &xv) ||
		    !oa__der_read(&t, y.data + y.size, &yo) ||
		    !oa__der_read(&t, y.data + y.size, &yv) || xo.size != yo.size ||
		    memcmp(xo.data, yo.data, xo.size) != 0 || !value_equal(&xv, &yv)) {
			return false;
		}
	}
	return p == pe && q == qe;
}

/* Whether the Name (SEQUENCE contents dn) starts with the RDNs of the constraint c. */
bool oa__dn_within(const unsigned char *dn, size_t n, const unsigned char *c, size_t m)
{
	const unsigned char *p = dn;
	const unsigned char *q = c;

	while (q < c + m) {
		oa__tlv want;
		oa__tlv have;

		if (!oa__der_read(&q, c + m, &want) || !oa__der_read(&p, dn + n, &have) ||
		    want.tag != 0x31 || have.tag != 0x31 || !rdn_equal(&want, &have)) {
			return false;
		}
	}
	return true;
}
