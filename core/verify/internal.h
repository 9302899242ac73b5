/* Declarations shared between the core's own files; not installed. */
#ifndef ORIGINAUDIT_CORE_INTERNAL_H
#define ORIGINAUDIT_CORE_INTERNAL_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stddef.h>

#include "originaudit/chain.h"
#include "originaudit/key.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

/* Longest certification path graded (leaf to anchor), as in GnuTLS. */
#define OA__MAX_PATH 16

struct oa_key {
	gnutls_x509_privkey_t key;
};

/* Reads a whole file into memory; caller frees data. */
int oa__read_file(const char *path, gnutls_datum_t *data, oa_error *err);

/* True when crt's issuer name matches its subject and its own key verifies its signature. */
bool oa__is_self_signed(gnutls_x509_crt_t crt);

/* True when issuer's subject/key identifier match crt's issuer fields. */
bool oa__issued_by(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer);

/*
 * Whether crt names itself as its issuer (self-issued, RFC 5280 3.3.1),
 * whatever key signed it and whatever its key identifiers say.
 */
bool oa__self_issued(gnutls_x509_crt_t crt);

/* One DER element (core/verify/der.c): its one-byte tag and its content. */
typedef struct oa__tlv {
	unsigned tag;
	const unsigned char *data;
	size_t size;
} oa__tlv;

/*
 * Reads the element at *p (bounded by end) into out and advances *p past it;
 * false when it does not parse: a multi-byte tag, an indefinite length, a
 * length over 4 octets or past end. For DER that comes from the network.
 */
bool oa__der_read(const unsigned char **p, const unsigned char *end, oa__tlv *out);

/* RFC 4514 subject (or issuer) of crt as a malloc'd string; never NULL unless out of memory. */
char *oa__dn(gnutls_x509_crt_t crt, bool issuer);

/* Lowercase hex of n bytes into out (2 * n + 1 bytes). */
void oa__hex(const unsigned char *in, size_t n, char *out);

/* A short human name for crt: its CN if it has one, else its subject. Writes into buf. */
void oa__short_name(gnutls_x509_crt_t crt, char *buf, size_t size);

/* Fills info with the facts about crt but self_signed (the path's); returns 0 or -ENOMEM. */
int oa__cert_info_fill(oa_cert_info *info, gnutls_x509_crt_t crt, size_t position, time_t at);

/* Frees what oa__cert_info_fill allocated. */
void oa__cert_info_clear(oa_cert_info *info);

/* How the path from the leaf ended. */
typedef enum oa__path_end {
	/* The top certificate's issuer is a root in the trust store. */
	OA__PATH_ANCHORED,
	/* The top certificate is self-signed and is itself in the trust store. */
	OA__PATH_SELF_ANCHORED,
	/* The top certificate is self-signed and not trusted. */
	OA__PATH_UNTRUSTED_ROOT,
	/* The top certificate's issuer was neither sent nor trusted. */
	OA__PATH_ISSUER_MISSING,
	/* More than OA__MAX_PATH certificates. */
	OA__PATH_TOO_LONG,
} oa__path_end;

/* The certification path built from the presented certificates. */
typedef struct oa__path {
	/* Wire position of the leaf. */
	size_t leaf;
	/* Wire positions of the path, leaf first. */
	size_t pos[OA__MAX_PATH + 1];
	size_t len;
	oa__path_end end;
	/* The trust-store certificate that issued the top (owned by the store), or NULL. */
	gnutls_x509_crt_t anchor;
	/* Per presented certificate: role, and which earlier one it duplicates. */
	oa_cert_role *roles;
	/* Per presented certificate: whether it is self-signed (checked once per verification). */
	bool *self_signed;
	/*
	 * Verification of an anchored path: GnuTLS's status bits, with the
	 * constraint bit from the core's own checks (core/verify/constraints.c), which
	 * problem then explains; verify_rc < 0 when GnuTLS could not run.
	 */
	unsigned status;
	int verify_rc;
	char problem[512];
	/* Anchored candidate paths verified, and whether the search hit its bounds. */
	unsigned tried;
	bool exhausted;
} oa__path;

/* Bounds of the path search: candidate steps, and signature checks spent verifying paths. */
#define OA__PATH_MAX_STEPS 2048
#define OA__PATH_MAX_SIGNATURES 256

/* GnuTLS verification flags of the trust check (time and weak algorithms are graded apart). */
unsigned oa__path_flags(void);

/*
 * The constraints the core enforces itself on certs (leaf first, the trust
 * anchor last): path length (self-issued not counted), name constraints,
 * keyCertSign, empty EKU. Returns 0, or GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE
 * or GNUTLS_CERT_PURPOSE_MISMATCH with problem saying which certificate and why.
 */
unsigned oa__path_constraints(gnutls_x509_crt_t const *certs, size_t n, char *problem, size_t size);

/*
 * Name constraints of every CA in certs (leaf first, anchor last) on the
 * certificates below it (core/verify/name_constraints.c): 0, or
 * GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE with problem naming the CA, the
 * certificate and the name.
 */
unsigned oa__check_name_constraints(gnutls_x509_crt_t const *certs, size_t n, char *problem,
				    size_t size);

/*
 * Subtree membership for name constraints (core/verify/subtree.c); n and m
 * are the lengths of the name and of the constraint c.
 */
/* The DNS name lies in c: c itself or below it ("." first: only below). */
bool oa__dns_within(const char *name, size_t n, const char *c, size_t m);
/* Every name one label below s lies in c (a wildcard "*.s" is permitted). */
bool oa__dns_children_within(const char *s, size_t n, const char *c, size_t m);
/* Some name one label below s lies in c (a wildcard "*.s" is excluded). */
bool oa__dns_some_child_within(const char *s, size_t n, const char *c, size_t m);
/* The host of a URI ("scheme://[user@]host[:port]..."); false when it has none. */
bool oa__uri_host(const char *uri, size_t n, const char **host, size_t *len);
/* The e-mail address lies in c: a mailbox, a host, or ".domain". */
bool oa__email_within(const char *addr, size_t n, const char *c, size_t m);
/* The address (4 or 16 octets) lies in c (address then mask, 8 or 32 octets). */
bool oa__ip_within(const unsigned char *ip, size_t n, const unsigned char *c, size_t m);
/* The Name (SEQUENCE contents) starts with the RDNs of c (text compared case-folded). */
bool oa__dn_within(const unsigned char *dn, size_t n, const unsigned char *c, size_t m);

/* Trust-store certificates that may have issued crt (name and key identifier match). */
size_t oa__trust_store_issuers(const oa_trust_store *store, gnutls_x509_crt_t crt,
			       gnutls_x509_crt_t *out, size_t max);

/* Whether crt is itself in the store; *anchor is the store's copy. */
bool oa__trust_store_has(const oa_trust_store *store, gnutls_x509_crt_t crt,
			 gnutls_x509_crt_t *anchor);

/*
 * Builds and verifies the path over every candidate (see core/verify/path.c), with
 * validity judged at 'at'; returns 0 or -ENOMEM. Free with oa__path_clear.
 */
int oa__path_build(oa__path *path, const oa_chain *chain, const oa_trust_store *store, time_t at);

void oa__path_clear(oa__path *path);

/*
 * One expiry threshold in seconds left for a certificate living lifetime
 * seconds (core/verify/policy.c): percent of it, else days, else the default share
 * (lifetime / share_div) capped at cap_days; *rule names which applied.
 */
long long oa__threshold_secs(int days, int percent, int cap_days, long long share_div,
			     long long lifetime, const char **rule);

/* Grades presented order against the path into check. */
void oa__check_chain_order(oa_check *check, const oa__path *path, const oa_chain *chain);

/* The profile check (core/verify/profile.c): public CA profile violations on the path, warn only.
 */
void oa__check_profile(oa_check *check, const oa__path *path, const oa_chain *chain);

/* Grades trust of the path into check. */
void oa__check_trust(oa_check *check, const oa__path *path, const oa_chain *chain,
		     const oa_trust_store *store);

#endif
