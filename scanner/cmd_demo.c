/*
 * originaudit demo: generates a throw-away PKI with the classic origin
 * mistakes (expired, wrong order, missing intermediate, self-signed, wrong
 * name, ...) and grades each chain with the real core, printing a table.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "originaudit/chain.h"
#include "originaudit/exitcode.h"
#include "originaudit/pki.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"

#define DEMO_NAME "origin.demo.test"
#define DAY 86400

enum { C_ROOT, C_INT1, C_INT2, C_LEAF, C_SOON, C_EXPIRED, C_SELF, C_OTHER, C_COUNT };

struct demo_case {
	const char *name;
	const char *what;
	int certs[4];
	size_t n;
	oa_status expect;
};

static const struct demo_case cases[] = {
    {"good", "leaf + intermediates, in order", {C_LEAF, C_INT2, C_INT1}, 3, OA_STATUS_PASS},
    {"expiring-soon", "leaf expires in 12 days", {C_SOON, C_INT2, C_INT1}, 3, OA_STATUS_WARN},
    {"root-sent", "the root is sent too", {C_LEAF, C_INT2, C_INT1, C_ROOT}, 4, OA_STATUS_WARN},
    {"expired", "leaf expired 3 days ago", {C_EXPIRED, C_INT2, C_INT1}, 3, OA_STATUS_FAIL},
    {"wrong-order", "intermediates reversed", {C_LEAF, C_INT1, C_INT2}, 3, OA_STATUS_FAIL},
    {"missing-intermediate", "leaf only", {C_LEAF}, 1, OA_STATUS_FAIL},
    {"self-signed", "self-signed leaf", {C_SELF}, 1, OA_STATUS_FAIL},
    {"wrong-name", "leaf for another name", {C_OTHER, C_INT2, C_INT1}, 3, OA_STATUS_FAIL},
};

void oa_cmd_demo_usage(void)
{
	printf("Usage: originaudit demo [--dir DIR]\n"
	       "\n"
	       "Generates a demo PKI with the classic origin certificate mistakes and grades\n"
	       "each chain for the name " DEMO_NAME ", as CloudFront would.\n"
	       "\n"
	       "Options:\n"
	       "  -d, --dir DIR   keep the generated files in DIR (created if needed), to try\n"
	       "                  originaudit verify --chain DIR/CASE.pem --ca-bundle "
	       "DIR/demo-root.pem\n"
	       "  -h, --help      show this help\n"
	       "\n"
	       "Exit codes: 0 every case graded as expected, 2 a case was not, 3 could not run.\n");
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int make_pki(oa_pki_cert **c, oa_error *err)
{
	static const char *const good[] = {DEMO_NAME};
	static const char *const other[] = {"other.demo.test"};
	time_t now = time(NULL);
	oa_pki_spec s;
	int rc;

	oa_pki_spec_init(&s, "Demo Root CA", 3650);
	s.is_ca = true;
	rc = oa_pki_issue(&s, NULL, &c[C_ROOT], err);
	oa_pki_spec_init(&s, "Demo Intermediate CA 1", 1825);
	s.is_ca = true;
	rc = rc < 0 ? rc : oa_pki_issue(&s, c[C_ROOT], &c[C_INT1], err);
	oa_pki_spec_init(&s, "Demo Intermediate CA 2", 1000);
	s.is_ca = true;
	rc = rc < 0 ? rc : oa_pki_issue(&s, c[C_INT1], &c[C_INT2], err);
	oa_pki_spec_init(&s, DEMO_NAME, 90);
	s.dns_names = good;
	s.n_dns_names = 1;
	rc = rc < 0 ? rc : oa_pki_issue(&s, c[C_INT2], &c[C_LEAF], err);
	s.not_after = now + 12 * DAY + 3600;
	rc = rc < 0 ? rc : oa_pki_issue(&s, c[C_INT2], &c[C_SOON], err);
	s.not_before = now - 93 * DAY;
	s.not_after = now - 3 * DAY;
	rc = rc < 0 ? rc : oa_pki_issue(&s, c[C_INT2], &c[C_EXPIRED], err);
	oa_pki_spec_init(&s, DEMO_NAME, 90);
	s.dns_names = good;
	s.n_dns_names = 1;
	rc = rc < 0 ? rc : oa_pki_issue(&s, NULL, &c[C_SELF], err);
	oa_pki_spec_init(&s, "other.demo.test", 90);
	s.dns_names = other;
	s.n_dns_names = 1;
	rc = rc < 0 ? rc : oa_pki_issue(&s, c[C_INT2], &c[C_OTHER], err);
	return rc;
}

/* The check that decided the verdict: the first one with the worst status. */
static oa_check_id worst_check(const oa_result *r)
{
	oa_check_id worst = OA_CHECK_COUNT;

	for (int id = 0; id < OA_CHECK_COUNT; id++) {
		const oa_check *c = oa_result_check(r, (oa_check_id)id);

		if (c->present && c->status == oa_result_verdict(r) && worst == OA_CHECK_COUNT) {
			worst = (oa_check_id)id;
		}
	}
	return worst;
}

static int grade_case(const struct demo_case *dc, oa_pki_cert **certs, const char *dir,
		      const oa_trust_store *store, bool colour, oa_error *err)
{
	const oa_pki_cert *list[4];
	char path[4096];
	oa_chain *chain = NULL;
	oa_result *result = NULL;
	oa_verify_params params;
	const char *names[] = {DEMO_NAME};
	int rc;

	for (size_t i = 0; i < dc->n; i++) {
		list[i] = certs[dc->certs[i]];
	}
	snprintf(path, sizeof(path), "%s/%s.pem", dir, dc->name);
	rc = oa_pki_write_chain(path, list, dc->n, err);
	if (rc < 0) {
		return rc;
	}
	rc = oa_chain_load_file(path, &chain, err);
	if (rc < 0) {
		return rc;
	}
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = 1;
	rc = oa_verify(chain, store, &params, &result, err);
	if (rc < 0) {
		oa_chain_destroy(chain);
		return rc;
	}
	oa_status verdict = oa_result_verdict(result);
	oa_check_id id = worst_check(result);
	const oa_check *c = id < OA_CHECK_COUNT ? oa_result_check(result, id) : NULL;
	const char *on = "";
	const char *off = colour ? "\033[0m" : "";
	if (colour) {
		on = verdict == OA_STATUS_PASS
			 ? "\033[32m"
			 : (verdict == OA_STATUS_WARN ? "\033[33m" : "\033[31m");
	}
	char finding[80] = "-";
	if (c != NULL && verdict != OA_STATUS_PASS) {
		snprintf(finding, sizeof(finding), "%s: %s", oa_check_name(id), c->reason);
	}
	printf("%-21s %-31s %s%-7s%s %s\n", dc->name, dc->what, on, oa_status_name(verdict), off,
	       finding);
	if (c != NULL && verdict != OA_STATUS_PASS && c->hint[0] != '\0') {
		printf("%-21s %s\n", "", c->hint);
	}
	rc = verdict == dc->expect ? 0 : 1;
	oa_result_destroy(result);
	oa_chain_destroy(chain);
	return rc;
}

int oa_cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	oa_pki_cert *certs[C_COUNT] = {NULL};
	oa_trust_store *store = NULL;
	const char *keep = NULL;
	char tmpl[] = "/tmp/originaudit-demo-XXXXXX";
	char root_path[4096];
	const char *dir;
	oa_error err;
	int status = OA_EXIT_ERROR;
	int mismatches = 0;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
		if (c == 'd') {
			keep = optarg;
		} else if (c == 'h') {
			oa_cmd_demo_usage();
			return OA_EXIT_PASS;
		} else {
			fprintf(stderr,
				"originaudit demo: %s option '%s' (see originaudit demo --help)\n",
				c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			return OA_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "originaudit demo: unexpected argument '%s'\n", argv[optind]);
		return OA_EXIT_ERROR;
	}
	if (keep != NULL) {
		if (mkdir(keep, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "originaudit demo: %s: %s\n", keep, strerror(errno));
			return OA_EXIT_ERROR;
		}
		dir = keep;
	} else {
		dir = mkdtemp(tmpl);
		if (dir == NULL) {
			fprintf(stderr,
				"originaudit demo: cannot create a temporary directory: %s\n",
				strerror(errno));
			return OA_EXIT_ERROR;
		}
	}
	oa_error_clear(&err);
	snprintf(root_path, sizeof(root_path), "%s/demo-root.pem", dir);
	if (make_pki(certs, &err) < 0 ||
	    oa_pki_write_chain(root_path, (const oa_pki_cert *const *)&certs[C_ROOT], 1, &err) <
		0 ||
	    oa_trust_store_load(root_path, &store, &err) < 0) {
		fprintf(stderr, "originaudit demo: %s\n", err.msg);
		goto out;
	}
	bool colour = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	printf("Grading demo chains for %s against a demo root (as CloudFront would):\n\n",
	       DEMO_NAME);
	printf("%-21s %-31s %-7s %s\n", "CASE", "WHAT IS SERVED", "VERDICT", "FINDING");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = grade_case(&cases[i], certs, dir, store, colour, &err);

		if (rc < 0) {
			fprintf(stderr, "originaudit demo: %s\n", err.msg);
			goto out;
		}
		mismatches += rc;
	}
	if (keep != NULL) {
		printf(
		    "\nThe chains are in %s; try:\n  originaudit verify --chain %s/wrong-order.pem "
		    "--ca-bundle %s --name %s --format text\n",
		    dir, dir, root_path, DEMO_NAME);
	}
	status = mismatches == 0 ? OA_EXIT_PASS : OA_EXIT_FAIL;
out:
	oa_trust_store_destroy(store);
	for (int i = 0; i < C_COUNT; i++) {
		oa_pki_cert_destroy(certs[i]);
	}
	if (keep == NULL) {
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	}
	return status;
}
