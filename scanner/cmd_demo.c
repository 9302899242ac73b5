/*
 * originaudit demo: generates a throw-away PKI with the classic origin
 * mistakes (expired, wrong order, missing intermediate, self-signed, wrong
 * name, ...), serves each chain from a local TLS origin on loopback, scans
 * them all with the real scanner and prints its table (or writes its report
 * in any format, to show what scan would write).
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
#include "originaudit/config.h"
#include "originaudit/exitcode.h"
#include "originaudit/pki.h"
#include "originaudit/scan.h"
#include "originaudit/testorigin.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"
#include "scan_output.h"
#include "term.h"

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

#define N_CASES ((size_t)8)

static const struct demo_case cases[N_CASES] = {
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
	printf("Usage: originaudit demo [--dir DIR] [--format FORMAT] [-o FILE]\n"
	       "\n"
	       "Generates a demo PKI with the classic origin certificate mistakes, serves each\n"
	       "chain from a local TLS origin on 127.0.0.1 and scans them with the real\n"
	       "scanner for the name " DEMO_NAME ", as CloudFront would judge them.\n"
	       "\n"
	       "Options:\n"
	       "  -d, --dir DIR   keep the generated files in DIR (created if needed), to try\n"
	       "                  originaudit verify --chain DIR/CASE.pem --ca-bundle "
	       "DIR/demo-root.pem\n"
	       "  -f, --format FORMAT\n"
	       "                  json, text, prometheus, junit or html (default: text, or\n"
	       "                  the one the -o FILE's extension tells: .json .prom .xml\n"
	       "                  .txt .html)\n"
	       "  -o, --output [FORMAT:]FILE\n"
	       "                  write the report to FILE atomically instead of stdout, as\n"
	       "                  scan -o does ('-' is stdout)\n"
	       "  -h, --help      show this help\n"
	       "\n"
	       "The report goes to stdout; when it is not the text table, the messages\n"
	       "around it go to stderr.\n"
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
	/* A 90-day certificate with 12 days left (the default rule warns under 30 days). */
	s.not_after = now + 12 * DAY + 3600;
	s.not_before = s.not_after - 90 * DAY;
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

static int write_case(const struct demo_case *dc, oa_pki_cert **certs, const char *dir,
		      oa_error *err)
{
	const oa_pki_cert *list[4];
	char path[4096];

	for (size_t i = 0; i < dc->n; i++) {
		list[i] = certs[dc->certs[i]];
	}
	snprintf(path, sizeof(path), "%s/%s.pem", dir, dc->name);
	return oa_pki_write_chain(path, list, dc->n, err);
}

/* Serves each case's chain, in its order, from a TLS origin on 127.0.0.1. */
static int start_origins(uv_loop_t *loop, oa_pki_cert **certs, oa_test_origin **origins,
			 oa_error *err)
{
	for (size_t i = 0; i < N_CASES; i++) {
		const struct demo_case *dc = &cases[i];
		gnutls_datum_t pem = {NULL, 0};
		size_t len = 0;

		for (size_t k = 0; k < dc->n; k++) {
			len += oa_pki_cert_pem(certs[dc->certs[k]])->size;
		}
		pem.data = malloc(len + 1);
		if (pem.data == NULL) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		for (size_t k = 0; k < dc->n; k++) {
			const gnutls_datum_t *part = oa_pki_cert_pem(certs[dc->certs[k]]);

			memcpy(pem.data + pem.size, part->data, part->size);
			pem.size += part->size;
		}
		oa_test_origin_opts opts = {
		    .mode = OA_TEST_ORIGIN_TLS,
		    .address = "127.0.0.1",
		    .port = 0,
		    .chain_pem = &pem,
		    .key_pem = oa_pki_key_pem(certs[dc->certs[0]]),
		};
		int rc = oa_test_origin_start(loop, &opts, &origins[i], err);
		free(pem.data);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* The same configuration format users write, validated by the same code. */
static int demo_config(oa_test_origin **origins, oa_config **out, oa_error *err)
{
	json_t *list = json_array();
	json_t *root = json_pack("{s:o, s:{s:i, s:i}}", "origins", list, "scan",
				 "connect_timeout_ms", 3000, "handshake_timeout_ms", 3000);

	if (root == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < N_CASES; i++) {
		json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:[s]}", "id", cases[i].name,
						      "domain_name", DEMO_NAME, "https_port",
						      (int)oa_test_origin_port(origins[i]),
						      "addresses", "127.0.0.1"));
	}
	int rc = oa_config_from_json(root, "demo", out, err);
	json_decref(root);
	return rc;
}

static int check_expectations(const oa_scan_report *report)
{
	int mismatches = 0;

	for (size_t i = 0; i < report->n_origins && i < N_CASES; i++) {
		if (report->origins[i].verdict != cases[i].expect) {
			fprintf(stderr, "originaudit demo: %s: expected %s, got %s\n",
				cases[i].name, oa_status_name(cases[i].expect),
				oa_status_name(report->origins[i].verdict));
			mismatches++;
		}
	}
	return mismatches;
}

struct demo_args {
	/* --dir, or NULL for a temporary directory removed at the end. */
	const char *keep;
	/* Where the report goes (path NULL: stdout) and in which format. */
	scan_output output;
	/* Where the messages around the report go: stderr when stdout carries a non-text report. */
	FILE *msg;
};

/* Parses the command line into a; -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct demo_args *a)
{
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *output = NULL;
	bool has_format = false;
	oa_error err;
	int c;

	memset(a, 0, sizeof(*a));
	a->output.format = OA_SCAN_FORMAT_TEXT;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:f:o:h", longopts, NULL)) != -1) {
		if (c == 'd') {
			a->keep = optarg;
		} else if (c == 'f' && scan_format_parse(optarg, &a->output.format)) {
			has_format = true;
		} else if (c == 'f') {
			fprintf(stderr,
				"originaudit demo: --format: '%s' is not json, text, prometheus, "
				"junit or html\n",
				optarg);
			return OA_EXIT_ERROR;
		} else if (c == 'o' && output == NULL) {
			output = optarg;
		} else if (c == 'o') {
			fprintf(stderr, "originaudit demo: -o is given twice\n");
			return OA_EXIT_ERROR;
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
	oa_error_clear(&err);
	if (output != NULL &&
	    scan_output_parse(output, has_format, a->output.format, &a->output, &err) < 0) {
		fprintf(stderr, "originaudit demo: %s\n", err.msg);
		return OA_EXIT_ERROR;
	}
	if (a->output.path != NULL && strcmp(a->output.path, "-") == 0) {
		a->output.path = NULL;
	}
	a->msg =
	    a->output.path == NULL && a->output.format != OA_SCAN_FORMAT_TEXT ? stderr : stdout;
	return -1;
}

int oa_cmd_demo(int argc, char **argv)
{
	struct demo_args args;
	oa_pki_cert *certs[C_COUNT] = {NULL};
	oa_test_origin *origins[N_CASES] = {NULL};
	oa_trust_store *store = NULL;
	oa_config *config = NULL;
	oa_scan_report *report = NULL;
	uv_loop_t loop;
	bool loop_open = false;
	const char *keep;
	char tmpl[] = "/tmp/originaudit-demo-XXXXXX";
	char root_path[4096];
	const char *dir;
	oa_error err;
	int status = OA_EXIT_ERROR;
	int mismatches = 0;
	int rc = parse_args(argc, argv, &args);

	if (rc >= 0) {
		return rc;
	}
	keep = args.keep;
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
	if (uv_loop_init(&loop) < 0) {
		fprintf(stderr, "originaudit demo: cannot start the event loop\n");
		goto out;
	}
	loop_open = true;
	if (make_pki(certs, &err) < 0 ||
	    oa_pki_write_chain(root_path, (const oa_pki_cert *const *)&certs[C_ROOT], 1, &err) <
		0 ||
	    oa_trust_store_load(root_path, &store, &err) < 0 ||
	    start_origins(&loop, certs, origins, &err) < 0 ||
	    demo_config(origins, &config, &err) < 0) {
		fprintf(stderr, "originaudit demo: %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < N_CASES && keep != NULL; i++) {
		if (write_case(&cases[i], certs, dir, &err) < 0) {
			fprintf(stderr, "originaudit demo: %s\n", err.msg);
			goto out;
		}
	}
	fprintf(args.msg,
		"Scanning %zu local demo origins for %s (each serves one classic mistake),\n"
		"trusting only a demo root, as CloudFront would judge them:\n\n",
		N_CASES, DEMO_NAME);
	fflush(args.msg);
	oa_scan_options opts;
	oa_scan_options_from_config(&opts, config);
	rc = oa_scan_run(&loop, config, store, &opts, &report);
	if (rc < 0) {
		fprintf(stderr, "originaudit demo: the scan failed: %s\n", strerror(-rc));
		goto out;
	}
	bool colour = args.output.format == OA_SCAN_FORMAT_TEXT && args.output.path == NULL &&
		      term_colour_wanted(STDOUT_FILENO);
	if (scan_write_report(report, args.output.format, args.output.path, colour, &err) < 0) {
		fprintf(stderr, "originaudit demo: writing the report failed: %s\n", err.msg);
		goto out;
	}
	if (args.output.path != NULL) {
		fprintf(args.msg, "Wrote the %s report to %s\n",
			scan_format_name(args.output.format), args.output.path);
	}
	mismatches = check_expectations(report);
	if (keep != NULL) {
		fprintf(
		    args.msg,
		    "\nThe chains are in %s; try:\n  originaudit verify --chain %s/wrong-order.pem "
		    "--ca-bundle %s --name %s --format text\n",
		    dir, dir, root_path, DEMO_NAME);
	}
	status = mismatches == 0 ? OA_EXIT_PASS : OA_EXIT_FAIL;
out:
	oa_scan_report_destroy(report);
	for (size_t i = 0; i < N_CASES; i++) {
		oa_test_origin_destroy(origins[i]);
	}
	if (loop_open) {
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
	}
	oa_config_destroy(config);
	oa_trust_store_destroy(store);
	for (int i = 0; i < C_COUNT; i++) {
		oa_pki_cert_destroy(certs[i]);
	}
	if (keep == NULL) {
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	}
	return status;
}
