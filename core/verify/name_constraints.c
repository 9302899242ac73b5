/*
 * Name constraints, enforced by the core on the path it built (GnuTLS 3.7
 * leaves wildcards out and rejects forms it does not know even when no name
 * has that form): each CA's constraints, the trust anchor's included, on
 * every name of every certificate below it — DNS, IP, e-mail and URI subject
 * alternative names, the subject DN, and the CN of a leaf without a DNS
 * subjectAltName, which name matching falls back on. Wildcards: an excluded
 * subtree covering any name a wildcard can match rejects it
 * (CVE-2025-61727), and it is permitted only if every name it can match is.
 * A constraint of a form the core cannot evaluate rejects only a certificate
 * that has a name of that form; a malformed or empty extension rejects the
 * path. The extension and the SANs are parsed here from their DER, with the
 * bounded reader of core/verify/der.c: they come from the network.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NAME_BUF 256
/* More subtrees than any real CA uses; more is treated as malformed. */
#define MAX_SUBTREES 64

/* GeneralName tags, context-specific (RFC 5280 4.2.1.6). */
enum gn_kind {
	GN_OTHER_NAME = 0,
	GN_RFC822 = 1,
	GN_DNS = 2,
	GN_X400 = 3,
	GN_DIRECTORY = 4,
	GN_EDI_PARTY = 5,
	GN_URI = 6,
	GN_IP = 7,
	GN_REGISTERED_ID = 8,
};

struct subtree {
	enum gn_kind kind;
	/* The base's content octets (for a directoryName: the Name's SEQUENCE contents). */
	const unsigned char *data;
	size_t size;
};

struct constraints {
	struct subtree permitted[MAX_SUBTREES];
	size_t n_permitted;
	struct subtree excluded[MAX_SUBTREES];
	size_t n_excluded;
	/* The extension's DER, owned (gnutls_free). */
	gnutls_datum_t der;
};

/* Parses GeneralSubtrees (content of [0] or [1]) into out; false when malformed. */
static bool parse_subtrees(const unsigned char *p, const unsigned char *end, struct subtree *out,
			   size_t *n)
{
	if (p == end) {
		return false; /* SIZE (1..MAX) */
	}
	while (p < end) {
		oa__tlv subtree;
		oa__tlv base;
		const unsigned char *q;

		if (!oa__der_read(&p, end, &subtree) || subtree.tag != 0x30 || *n == MAX_SUBTREES) {
			return false;
		}
		q = subtree.data;
		if (!oa__der_read(&q, subtree.data + subtree.size, &base) ||
		    (base.tag & 0x80) == 0) {
			return false;
		}
		/* minimum must be 0 and maximum absent (RFC 5280 4.2.1.10): nothing may follow. */
		if (q != subtree.data + subtree.size) {
			return false;
		}
		unsigned kind = base.tag & 0x1f;
		bool constructed = (base.tag & 0x20) != 0;
		struct subtree *t = &out[*n];

		if (kind > GN_REGISTERED_ID ||
		    constructed != (kind == GN_OTHER_NAME || kind == GN_X400 ||
				    kind == GN_DIRECTORY || kind == GN_EDI_PARTY)) {
			return false;
		}
		t->kind = (enum gn_kind)kind;
		t->data = base.data;
		t->size = base.size;
		if (kind == GN_DIRECTORY) {
			/* [4] EXPLICIT Name: one SEQUENCE inside. */
			const unsigned char *r = base.data;
			oa__tlv name;

			if (!oa__der_read(&r, base.data + base.size, &name) || name.tag != 0x30 ||
			    r != base.data + base.size) {
				return false;
			}
			t->data = name.data;
			t->size = name.size;
		}
		if (kind == GN_IP && base.size != 8 && base.size != 32) {
			return false;
		}
		(*n)++;
	}
	return true;
}

/*
 * Reads crt's name constraints. Returns 1 when it has some, 0 when it has no
 * such extension, -1 when the extension is malformed or empty.
 */
static int constraints_read(gnutls_x509_crt_t crt, struct constraints *nc)
{
	unsigned critical = 0;
	oa__tlv seq;
	const unsigned char *p;
	const unsigned char *end;

	memset(nc, 0, sizeof(*nc));
	if (gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.30", 0, &nc->der, &critical) < 0) {
		return 0;
	}
	p = nc->der.data;
	end = p + nc->der.size;
	if (!oa__der_read(&p, end, &seq) || seq.tag != 0x30 || p != end) {
		return -1;
	}
	p = seq.data;
	end = seq.data + seq.size;
	unsigned last = 0;
	while (p < end) {
		oa__tlv part;

		if (!oa__der_read(&p, end, &part)) {
			return -1;
		}
		if (part.tag == 0xa0 && last < 0xa0) {
			if (!parse_subtrees(part.data, part.data + part.size, nc->permitted,
					    &nc->n_permitted)) {
				return -1;
			}
		} else if (part.tag == 0xa1 && last < 0xa1) {
			if (!parse_subtrees(part.data, part.data + part.size, nc->excluded,
					    &nc->n_excluded)) {
				return -1;
			}
		} else {
			return -1;
		}
		last = part.tag;
	}
	/* Neither permitted nor excluded subtrees: forbidden (RFC 5280 4.2.1.10). */
	return nc->n_permitted + nc->n_excluded > 0 ? 1 : -1;
}

static void constraints_clear(struct constraints *nc)
{
	gnutls_free(nc->der.data);
	nc->der.data = NULL;
}

/* One name of a certificate below the CA. */
struct name {
	enum gn_kind kind;
	const char *data;
	size_t size;
	/* A DNS name with a leftmost "*" label: data is the part after "*.". */
	bool wildcard;
};

/* Whether name lies in the subtree t (same kind); for a wildcard, all = every name it covers. */
static bool name_within(const struct name *name, const struct subtree *t, bool all)
{
	const char *c = (const char *)t->data;

	switch (name->kind) {
	case GN_DNS:
		if (name->wildcard) {
			return all ? oa__dns_children_within(name->data, name->size, c, t->size)
				   : oa__dns_some_child_within(name->data, name->size, c, t->size);
		}
		return oa__dns_within(name->data, name->size, c, t->size);
	case GN_RFC822:
		return oa__email_within(name->data, name->size, c, t->size);
	case GN_URI: {
		const char *host;
		size_t len;

		return oa__uri_host(name->data, name->size, &host, &len) &&
		       oa__dns_within(host, len, c, t->size);
	}
	case GN_IP:
		return oa__ip_within((const unsigned char *)name->data, name->size, t->data,
				     t->size);
	case GN_DIRECTORY:
		return oa__dn_within((const unsigned char *)name->data, name->size, t->data,
				     t->size);
	default:
		return false;
	}
}

/* Whether the core can tell if a name of this form lies in a subtree. */
static bool evaluable(enum gn_kind kind)
{
	return kind == GN_DNS || kind == GN_RFC822 || kind == GN_URI || kind == GN_IP ||
	       kind == GN_DIRECTORY;
}

static const char *kind_label(enum gn_kind kind)
{
	switch (kind) {
	case GN_DNS:
		return "DNS name";
	case GN_RFC822:
		return "e-mail address";
	case GN_URI:
		return "URI";
	case GN_IP:
		return "IP address";
	case GN_DIRECTORY:
		return "subject name";
	default:
		return "name";
	}
}

/* "the DNS name www.example.com", "the subject name", ...: what a detail calls the name. */
static void name_text(const struct name *name, char *buf, size_t size)
{
	const unsigned char *a = (const unsigned char *)name->data;

	if (name->kind == GN_IP && name->size == 4) {
		snprintf(buf, size, "the IP address %u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	} else if (name->kind == GN_IP) {
		snprintf(buf, size, "an IPv6 address");
	} else if (name->kind == GN_DIRECTORY) {
		snprintf(buf, size, "the subject name");
	} else if (name->kind == GN_DNS || name->kind == GN_RFC822 || name->kind == GN_URI) {
		snprintf(buf, size, "the %s %s%.*s", kind_label(name->kind),
			 name->wildcard ? "*." : "", (int)name->size, name->data);
	} else {
		snprintf(buf, size, "a name of form %d (GeneralName tag)", (int)name->kind);
	}
}

/*
 * Checks one name against one CA's constraints; on a violation writes why
 * (without the names of the certificates) and returns false.
 */
static bool name_allowed(const struct name *name, const struct constraints *nc, char *why,
			 size_t size)
{
	bool any_permitted = false;
	bool permitted = false;
	char text[NAME_BUF];

	for (size_t i = 0; i < nc->n_excluded; i++) {
		const struct subtree *t = &nc->excluded[i];

		if (t->kind != name->kind) {
			continue;
		}
		if (!evaluable(t->kind)) {
			snprintf(why, size,
				 "it has a name of a form the core cannot evaluate against the "
				 "constraints (GeneralName tag %d)",
				 (int)name->kind);
			return false;
		}
		if (name_within(name, t, false)) {
			name_text(name, text, sizeof(text));
			if (t->kind == GN_IP || t->kind == GN_DIRECTORY) {
				snprintf(why, size, "%s is in an excluded subtree", text);
			} else {
				snprintf(why, size, "%s is in an excluded subtree (%.*s)", text,
					 (int)t->size, (const char *)t->data);
			}
			return false;
		}
	}
	for (size_t i = 0; i < nc->n_permitted; i++) {
		const struct subtree *t = &nc->permitted[i];

		if (t->kind != name->kind) {
			continue;
		}
		any_permitted = true;
		if (evaluable(t->kind) && name_within(name, t, true)) {
			permitted = true;
			break;
		}
	}
	if (any_permitted && !permitted) {
		name_text(name, text, sizeof(text));
		snprintf(why, size, "%s is outside the permitted subtrees", text);
		return false;
	}
	return true;
}

/*
 * A DNS name as constraints see it: a trailing dot dropped (it names the same
 * host, and name matching ignores it too), a leftmost "*." label noted as a
 * wildcard.
 */
static void dns_name(struct name *out, const char *data, size_t size)
{
	memset(out, 0, sizeof(*out));
	out->kind = GN_DNS;
	out->data = data;
	out->size = size > 1 && data[size - 1] == '.' ? size - 1 : size;
	if (out->size >= 2 && data[0] == '*' && data[1] == '.') {
		out->wildcard = true;
		out->data += 2;
		out->size -= 2;
	}
}

/*
 * Reads one GeneralName of a subjectAltName into out (raw content octets: the
 * IA5 text, the address octets, a directoryName's Name contents); false when
 * malformed.
 */
static bool general_name(const oa__tlv *gn, struct name *out)
{
	unsigned kind = gn->tag & 0x1f;

	memset(out, 0, sizeof(*out));
	if ((gn->tag & 0xc0) != 0x80 || kind > GN_REGISTERED_ID) {
		return false;
	}
	out->kind = (enum gn_kind)kind;
	out->data = (const char *)gn->data;
	out->size = gn->size;
	if (kind == GN_DIRECTORY) {
		const unsigned char *p = gn->data;
		oa__tlv name;

		if (!oa__der_read(&p, gn->data + gn->size, &name) || name.tag != 0x30) {
			return false;
		}
		out->data = (const char *)name.data;
		out->size = name.size;
	}
	if (kind == GN_DNS) {
		dns_name(out, (const char *)gn->data, gn->size);
	}
	return true;
}

/* The contents of crt's subject Name SEQUENCE (into *dn, owned by the caller), or size 0. */
static void subject_contents(gnutls_x509_crt_t crt, gnutls_datum_t *raw, struct name *out)
{
	const unsigned char *p;
	oa__tlv seq;

	memset(out, 0, sizeof(*out));
	out->kind = GN_DIRECTORY;
	raw->data = NULL;
	raw->size = 0;
	if (gnutls_x509_crt_get_raw_dn(crt, raw) < 0) {
		return;
	}
	p = raw->data;
	if (oa__der_read(&p, raw->data + raw->size, &seq) && seq.tag == 0x30) {
		out->data = (const char *)seq.data;
		out->size = seq.size;
	}
}

/*
 * Checks every name of crt against nc; on a violation writes why and returns
 * false. leaf: crt is the end-entity certificate (its CN counts when it has
 * no subjectAltName).
 */
static bool cert_allowed(gnutls_x509_crt_t crt, bool leaf, const struct constraints *nc, char *why,
			 size_t size)
{
	char buf[256];
	struct name name;
	bool any_dns = false;
	gnutls_datum_t raw = {NULL, 0};
	unsigned critical = 0;
	bool ok = true;

	if (gnutls_x509_crt_get_extension_by_oid2(crt, "2.5.29.17", 0, &raw, &critical) >= 0) {
		const unsigned char *p = raw.data;
		const unsigned char *end = raw.data + raw.size;
		oa__tlv seq;

		ok = oa__der_read(&p, end, &seq) && seq.tag == 0x30 && p == end;
		p = ok ? seq.data : end;
		end = ok ? seq.data + seq.size : end;
		while (ok && p < end) {
			oa__tlv gn;

			if (!oa__der_read(&p, end, &gn) || !general_name(&gn, &name)) {
				snprintf(why, size, "its subjectAltName does not parse");
				ok = false;
				break;
			}
			ok = name_allowed(&name, nc, why, size);
			any_dns = any_dns || name.kind == GN_DNS;
		}
		if (ok && p != end) {
			snprintf(why, size, "its subjectAltName does not parse");
			ok = false;
		}
		gnutls_free(raw.data);
		if (!ok) {
			return false;
		}
	}
	subject_contents(crt, &raw, &name);
	ok = name.size == 0 || name_allowed(&name, nc, why, size);
	gnutls_free(raw.data);
	if (!ok) {
		return false;
	}
	/* Name matching falls back on the CN when there is no DNS SAN: so do constraints. */
	if (leaf && !any_dns) {
		size_t len = sizeof(buf) - 1;

		if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buf,
						  &len) >= 0 &&
		    len > 0) {
			dns_name(&name, buf, len);
			return name_allowed(&name, nc, why, size);
		}
	}
	return true;
}

unsigned oa__check_name_constraints(gnutls_x509_crt_t const *certs, size_t n, char *problem,
				    size_t size)
{
	char name[NAME_BUF];
	char ca_name[NAME_BUF];
	char why[2 * NAME_BUF];

	/* Each CA's name constraints bind every certificate below it. */
	for (size_t k = n; k-- > 1;) {
		struct constraints nc;
		int rc = constraints_read(certs[k], &nc);

		if (rc != 0) {
			oa__short_name(certs[k], ca_name, sizeof(ca_name));
		}
		if (rc < 0) {
			constraints_clear(&nc);
			snprintf(problem, size,
				 "the name constraints of '%s' are malformed or empty", ca_name);
			return GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
		}
		for (size_t j = k; rc > 0 && j-- > 0;) {
			/* Self-issued intermediates are exempt (RFC 5280 6.1.3 (b)). */
			if (j > 0 && oa__self_issued(certs[j])) {
				continue;
			}
			if (!cert_allowed(certs[j], j == 0, &nc, why, sizeof(why))) {
				oa__short_name(certs[j], name, sizeof(name));
				constraints_clear(&nc);
				snprintf(problem, size,
					 "the name constraints of '%s' forbid '%s': %s", ca_name,
					 name, why);
				return GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
			}
		}
		constraints_clear(&nc);
	}
	return 0;
}
