/*
 * Building the certification path from the certificates an origin sends, and
 * grading the order they were sent in. GnuTLS would silently sort an
 * unordered chain, so the path is built here: depth-first over every
 * candidate issuer (trusted, then sent), each anchored candidate verified in
 * full (GnuTLS for signatures, CA flags and purposes; core/verify/constraints.c
 * for the constraints), and the best one kept (see search_run).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NAME_BUF 256

/* Appends printf output to buf, truncating at size. */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* Leaf choice: position 0 unless it issues another presented certificate. */
static size_t choose_leaf(const oa_chain *chain, const bool *dup, const bool *self_signed)
{
	size_t n = oa_chain_length(chain);
	size_t fallback = n;

	for (size_t i = 0; i < n; i++) {
		bool issues = false;

		if (dup[i]) {
			continue;
		}
		gnutls_x509_crt_t ci = oa_chain_get(chain, i);
		for (size_t j = 0; j < n && !issues; j++) {
			if (j == i || dup[j]) {
				continue;
			}
			gnutls_x509_crt_t cj = oa_chain_get(chain, j);
			if (!gnutls_x509_crt_equals(ci, cj) && oa__issued_by(cj, ci) &&
			    !self_signed[j]) {
				issues = true;
			}
		}
		if (issues) {
			continue;
		}
		if (i == 0) {
			return 0;
		}
		unsigned critical = 0;
		unsigned ca = 0;
		int pathlen = 0;
		int brc = gnutls_x509_crt_get_basic_constraints(ci, &critical, &ca, &pathlen);
		if (brc < 0 || ca == 0) {
			return i;
		}
		if (fallback == n) {
			fallback = i;
		}
	}
	return fallback == n ? 0 : fallback;
}

/* Candidate issuers looked at for one certificate; real chains have one or two. */
#define MAX_CANDIDATES 32

/* The candidate issuers of one presented certificate, computed once per search. */
struct issuers {
	size_t n_trusted;
	gnutls_x509_crt_t trusted[MAX_CANDIDATES];
	size_t n_sent;
	size_t sent[MAX_CANDIDATES];
};

/* The depth-first search over every candidate issuer (see search_run). */
struct search {
	const oa_chain *chain;
	const oa_trust_store *store;
	time_t at;
	size_t n;
	const bool *dup;
	const bool *self_signed;
	/*
	 * Raw subject and issuer names: compared first, since
	 * gnutls_x509_crt_check_issuer costs far more on a mismatch (a pool of
	 * look-alikes took three times as long without this).
	 */
	gnutls_datum_t *subject;
	gnutls_datum_t *issuer;
	bool *used;
	/* Per presented certificate, once reached: its candidate issuers (see issuers_of). */
	struct issuers **issuers;
	/* The path being extended. */
	size_t pos[OA__MAX_PATH + 1];
	size_t len;
	/* The best path so far, and its score (-1: none yet). */
	oa__path *best;
	int best_score;
	unsigned steps;
	unsigned signatures;
	bool done;
	/* Out of memory: the search stopped and its result is not to be used. */
	bool failed;
};

unsigned oa__path_flags(void)
{
	/* Time and weak algorithms are graded by the expiry and signature checks. */
	return GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |
	       GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 | GNUTLS_VERIFY_ALLOW_BROKEN |
	       GNUTLS_VERIFY_DISABLE_CRL_CHECKS |
	       GNUTLS_PROFILE_TO_VFLAGS(GNUTLS_PROFILE_VERY_WEAK);
}

static bool valid_at(gnutls_x509_crt_t c, time_t at)
{
	return gnutls_x509_crt_get_activation_time(c) <= at &&
	       at <= gnutls_x509_crt_get_expiration_time(c);
}

/*
 * Verifies the current path ending at anchor: GnuTLS for signatures, CA flags
 * and purposes, the core (core/verify/constraints.c) for the constraints GnuTLS gets
 * wrong. Fills status and problem of out; returns whether every certificate,
 * the anchor included, is within its validity at s->at.
 */
static bool search_verify(struct search *s, gnutls_x509_crt_t anchor, oa__path *out)
{
	gnutls_x509_crt_t list[OA__MAX_PATH + 2];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st purpose = {
	    .type = GNUTLS_DT_KEY_PURPOSE_OID,
	    .data = (void *)GNUTLS_KP_TLS_WWW_SERVER,
	    .size = 0,
	};
	unsigned status = 0;
	size_t n = s->len;
	bool in_time = valid_at(anchor, s->at);

	for (size_t k = 0; k < n; k++) {
		list[k] = oa_chain_get(s->chain, s->pos[k]);
		in_time = in_time && valid_at(list[k], s->at);
	}
	s->signatures += (unsigned)n;
	out->verify_rc = gnutls_x509_trust_list_init(&tl, 0);
	if (out->verify_rc >= 0) {
		out->verify_rc = gnutls_x509_trust_list_add_cas(tl, &anchor, 1, 0);
	}
	if (out->verify_rc >= 0) {
		out->verify_rc = gnutls_x509_trust_list_verify_crt2(
		    tl, list, (unsigned)n, &purpose, 1, oa__path_flags(), &status, NULL);
	}
	if (tl != NULL) {
		/* 0: the anchor belongs to the trust store, not to this list. */
		gnutls_x509_trust_list_deinit(tl, 0);
	}
	/* Path length and name constraints are the core's (core/verify/constraints.c). */
	status &= ~(unsigned)GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE;
	if ((status & ~(unsigned)GNUTLS_CERT_INVALID) == 0) {
		status = 0;
	}
	if (!gnutls_x509_crt_equals(list[n - 1], anchor)) {
		list[n++] = anchor;
	}
	unsigned own = oa__path_constraints(list, n, out->problem, sizeof(out->problem));
	out->status = status | own | (own != 0 ? GNUTLS_CERT_INVALID : 0);
	return in_time;
}

/* A path ended: scores it and keeps it when it is the best so far. */
static void search_record(struct search *s, oa__path_end end, gnutls_x509_crt_t anchor)
{
	oa__path candidate;
	int score;

	memset(&candidate, 0, sizeof(candidate));
	candidate.end = end;
	candidate.anchor = anchor;
	switch (end) {
	case OA__PATH_ANCHORED:
	case OA__PATH_SELF_ANCHORED: {
		bool in_time = search_verify(s, anchor, &candidate);

		s->best->tried++;
		score = candidate.verify_rc < 0 || candidate.status != 0 ? 3 : in_time ? 5 : 4;
		break;
	}
	case OA__PATH_UNTRUSTED_ROOT:
		score = 2;
		break;
	case OA__PATH_TOO_LONG:
		score = 1;
		break;
	default:
		score = 0;
		break;
	}
	if (score <= s->best_score) {
		return;
	}
	s->best_score = score;
	s->best->end = end;
	s->best->anchor = anchor;
	s->best->status = candidate.status;
	s->best->verify_rc = candidate.verify_rc;
	memcpy(s->best->problem, candidate.problem, sizeof(s->best->problem));
	memcpy(s->best->pos, s->pos, sizeof(s->pos));
	s->best->len = s->len;
	s->done = score == 5;
}

/* Whether presented certificate j may have issued presented certificate i. */
static bool search_issues(struct search *s, size_t i, size_t j)
{
	const gnutls_datum_t *want = &s->issuer[i];
	const gnutls_datum_t *have = &s->subject[j];

	return want->size == have->size && memcmp(want->data, have->data, want->size) == 0 &&
	       oa__issued_by(oa_chain_get(s->chain, i), oa_chain_get(s->chain, j));
}

/*
 * The candidate issuers of presented certificate i: trusted ones, then sent
 * ones in wire order, at most MAX_CANDIDATES each. Computed when i is first
 * reached and kept, so a pool of look-alikes costs one comparison per pair,
 * not one per step; NULL when out of memory.
 */
static const struct issuers *issuers_of(struct search *s, size_t i)
{
	struct issuers *is = s->issuers[i];
	gnutls_x509_crt_t c = oa_chain_get(s->chain, i);

	if (is != NULL) {
		return is;
	}
	is = calloc(1, sizeof(*is));
	if (is == NULL) {
		return NULL;
	}
	is->n_trusted = oa__trust_store_issuers(s->store, c, is->trusted, MAX_CANDIDATES);
	for (size_t j = 0; j < s->n && is->n_sent < MAX_CANDIDATES; j++) {
		if (j != i && !s->dup[j] && search_issues(s, i, j)) {
			is->sent[is->n_sent++] = j;
		}
	}
	s->issuers[i] = is;
	return is;
}

static void search_extend(struct search *s)
{
	size_t top = s->pos[s->len - 1];
	gnutls_x509_crt_t c = oa_chain_get(s->chain, top);
	size_t candidates = 0;

	if (s->steps >= OA__PATH_MAX_STEPS ||
	    s->signatures + s->len + 1 > OA__PATH_MAX_SIGNATURES) {
		s->best->exhausted = true;
		return;
	}
	s->steps++;
	if (s->self_signed[top]) {
		gnutls_x509_crt_t anchor = NULL;

		if (oa__trust_store_has(s->store, c, &anchor)) {
			search_record(s, OA__PATH_SELF_ANCHORED, anchor);
		} else {
			search_record(s, OA__PATH_UNTRUSTED_ROOT, NULL);
		}
		return;
	}
	const struct issuers *is = issuers_of(s, top);
	if (is == NULL) {
		s->failed = true;
		s->done = true;
		return;
	}
	/* Trusted issuers first: the shortest path ends at the first trusted CA. */
	for (size_t i = 0; i < is->n_trusted && !s->done; i++) {
		if (s->signatures + s->len + 1 > OA__PATH_MAX_SIGNATURES) {
			s->best->exhausted = true;
			return;
		}
		search_record(s, OA__PATH_ANCHORED, is->trusted[i]);
	}
	candidates = is->n_trusted;
	for (size_t k = 0; k < is->n_sent && !s->done; k++) {
		size_t j = is->sent[k];

		if (s->used[j]) {
			continue;
		}
		candidates++;
		if (s->len == OA__MAX_PATH) {
			search_record(s, OA__PATH_TOO_LONG, NULL);
			break;
		}
		s->pos[s->len++] = j;
		s->used[j] = true;
		search_extend(s);
		s->used[j] = false;
		s->len--;
	}
	if (candidates == 0) {
		search_record(s, OA__PATH_ISSUER_MISSING, NULL);
	}
}

/*
 * Builds the path depth-first over every candidate issuer, trusted ones
 * first, then the presented certificates in the order sent; the first path
 * that verifies with every certificate in its validity wins, else the first
 * that verifies, else the first anchored one (for its verdict), else one to
 * an untrusted root, else the first dead end. Bounded by OA__MAX_PATH,
 * OA__PATH_MAX_STEPS and OA__PATH_MAX_SIGNATURES, so a hostile pool of
 * look-alike certificates costs a bounded amount of work.
 */
static int search_run(oa__path *path, const oa_chain *chain, const oa_trust_store *store, time_t at,
		      const bool *dup, const bool *self_signed)
{
	struct search s;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	s.chain = chain;
	s.store = store;
	s.at = at;
	s.n = oa_chain_length(chain);
	s.dup = dup;
	s.self_signed = self_signed;
	s.best = path;
	s.best_score = -1;
	s.used = calloc(s.n, sizeof(*s.used));
	s.issuers = calloc(s.n, sizeof(*s.issuers));
	s.subject = calloc(s.n, sizeof(*s.subject));
	s.issuer = calloc(s.n, sizeof(*s.issuer));
	if (s.used == NULL || s.issuers == NULL || s.subject == NULL || s.issuer == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s.n; i++) {
		gnutls_x509_crt_t c = oa_chain_get(chain, i);

		if (gnutls_x509_crt_get_raw_dn(c, &s.subject[i]) < 0 ||
		    gnutls_x509_crt_get_raw_issuer_dn(c, &s.issuer[i]) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	s.pos[0] = path->leaf;
	s.len = 1;
	s.used[path->leaf] = true;
	search_extend(&s);
	if (s.failed) {
		rc = -ENOMEM;
		goto out;
	}
	if (s.best_score < 0) {
		/* The bounds stopped the search before any path ended. */
		path->pos[0] = path->leaf;
		path->len = 1;
		path->end = OA__PATH_ISSUER_MISSING;
	}
out:
	for (size_t i = 0; s.subject != NULL && s.issuer != NULL && i < s.n; i++) {
		gnutls_free(s.subject[i].data);
		gnutls_free(s.issuer[i].data);
	}
	for (size_t i = 0; s.issuers != NULL && i < s.n; i++) {
		free(s.issuers[i]);
	}
	free(s.issuers);
	free(s.subject);
	free(s.issuer);
	free(s.used);
	return rc;
}

int oa__path_build(oa__path *path, const oa_chain *chain, const oa_trust_store *store, time_t at)
{
	size_t n = oa_chain_length(chain);
	bool *dup = calloc(n, sizeof(*dup));
	bool *used = calloc(n, sizeof(*used));
	int rc = 0;

	memset(path, 0, sizeof(*path));
	path->roles = calloc(n, sizeof(*path->roles));
	path->self_signed = calloc(n, sizeof(*path->self_signed));
	if (dup == NULL || used == NULL || path->roles == NULL || path->self_signed == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	/* One signature check per self-issued certificate, for every use below and after. */
	for (size_t i = 0; i < n; i++) {
		path->self_signed[i] = oa__is_self_signed(oa_chain_get(chain, i));
	}
	for (size_t i = 1; i < n; i++) {
		for (size_t j = 0; j < i && !dup[i]; j++) {
			if (!dup[j] && gnutls_x509_crt_equals(oa_chain_get(chain, i),
							      oa_chain_get(chain, j))) {
				dup[i] = true;
			}
		}
	}
	path->leaf = choose_leaf(chain, dup, path->self_signed);
	rc = search_run(path, chain, store, at, dup, path->self_signed);
	if (rc < 0) {
		goto out;
	}
	for (size_t k = 0; k < path->len; k++) {
		used[path->pos[k]] = true;
	}

	gnutls_x509_crt_t top = oa_chain_get(chain, path->pos[path->len - 1]);
	for (size_t i = 0; i < n; i++) {
		gnutls_x509_crt_t c = oa_chain_get(chain, i);

		if (dup[i]) {
			path->roles[i] = OA_ROLE_DUPLICATE;
		} else if (i == path->leaf) {
			path->roles[i] = OA_ROLE_LEAF;
		} else if (used[i]) {
			path->roles[i] = path->self_signed[i] ? OA_ROLE_ROOT : OA_ROLE_INTERMEDIATE;
		} else if (path->self_signed[i]) {
			bool issues_top =
			    oa__issued_by(top, c) ||
			    (path->anchor != NULL && gnutls_x509_crt_equals(path->anchor, c));
			path->roles[i] = issues_top ? OA_ROLE_ROOT : OA_ROLE_UNRELATED;
		} else if (path->anchor != NULL && oa__issued_by(top, c)) {
			/* Another certificate for the anchor's name: a cross-sign. */
			path->roles[i] = OA_ROLE_INTERMEDIATE;
		} else {
			path->roles[i] = OA_ROLE_UNRELATED;
		}
	}
out:
	free(dup);
	free(used);
	return rc;
}

void oa__path_clear(oa__path *path)
{
	free(path->roles);
	path->roles = NULL;
	free(path->self_signed);
	path->self_signed = NULL;
}

static void order_hint(char *hint, size_t size, const oa__path *path, const oa_chain *chain)
{
	char name[NAME_BUF];

	snprintf(hint, size, "Serve the certificates in this order: ");
	for (size_t k = 0; k < path->len; k++) {
		oa__short_name(oa_chain_get(chain, path->pos[k]), name, sizeof(name));
		append(hint, size, "%s%zu) '%s'", k == 0 ? "" : ", ", k + 1, name);
	}
	append(hint, size, "%s",
	       path->len > 1 ? " (leaf first, each followed by its issuer)" : " (leaf first)");
}

void oa__check_chain_order(oa_check *check, const oa__path *path, const oa_chain *chain)
{
	size_t n = oa_chain_length(chain);
	char name[NAME_BUF];
	char hint[OA_TEXT_MAX];

	order_hint(hint, sizeof(hint), path, chain);
	if (path->leaf != 0) {
		char first[NAME_BUF];

		oa__short_name(oa_chain_get(chain, 0), first, sizeof(first));
		oa__short_name(oa_chain_get(chain, path->leaf), name, sizeof(name));
		oa_check_set(check, OA_STATUS_FAIL, "leaf_not_first", hint,
			     "the first certificate sent is '%s', not the leaf '%s' (sent as #%zu)",
			     first, name, path->leaf + 1);
		return;
	}
	/* Path certificates must come first, in path order; duplicates are ignored. */
	size_t k = 0;
	for (size_t i = 0; i < n && k < path->len; i++) {
		if (path->roles[i] == OA_ROLE_DUPLICATE) {
			continue;
		}
		if (i != path->pos[k]) {
			char want[NAME_BUF];

			oa__short_name(oa_chain_get(chain, path->pos[k - 1]), name, sizeof(name));
			oa__short_name(oa_chain_get(chain, i), want, sizeof(want));
			oa_check_set(check, OA_STATUS_FAIL, "wrong_order", hint,
				     "certificate #%zu '%s' is not the issuer of the one before it "
				     "('%s')",
				     i + 1, want, name);
			return;
		}
		k++;
	}
	size_t roots = 0;
	size_t dups = 0;
	size_t unrelated = 0;
	char which[OA_TEXT_MAX] = "";
	for (size_t i = 1; i < n; i++) {
		const char *what = NULL;

		if (path->roles[i] == OA_ROLE_ROOT) {
			roots++;
			what = "root";
		} else if (path->roles[i] == OA_ROLE_DUPLICATE) {
			dups++;
			what = "duplicate";
		} else if (path->roles[i] == OA_ROLE_UNRELATED) {
			unrelated++;
			what = "unrelated";
		}
		if (what != NULL) {
			oa__short_name(oa_chain_get(chain, i), name, sizeof(name));
			append(which, sizeof(which), "%s#%zu %s '%s'", which[0] ? ", " : "", i + 1,
			       what, name);
		}
	}
	if (unrelated > 0) {
		oa_check_set(check, OA_STATUS_WARN, "unrelated_certificate",
			     "Remove the certificates that are not part of the path from the chain "
			     "file",
			     "%zu certificate(s) sent that are not part of the path: %s", unrelated,
			     which);
	} else if (dups > 0) {
		oa_check_set(check, OA_STATUS_WARN, "duplicate_certificate",
			     "Remove the repeated certificate(s) from the chain file",
			     "%zu certificate(s) sent more than once: %s", dups, which);
	} else if (roots > 0) {
		oa_check_set(check, OA_STATUS_WARN, "root_sent",
			     "Remove the root from the chain file: clients already have it, and "
			     "sending it only adds bytes to every handshake",
			     "the root certificate is sent: %s", which);
	} else {
		oa_check_set(check, OA_STATUS_PASS, "ordered", "",
			     "%zu certificate(s), leaf first, each followed by its issuer", n);
	}
}
