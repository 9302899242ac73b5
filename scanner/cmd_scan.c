/* originaudit scan: audit every configured origin; originaudit check-config. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "inputs.h"
#include "originaudit/exitcode.h"
#include "originaudit/report.h"
#include "originaudit/scan.h"
#include "scan_output.h"
#include "term.h"

void oa_cmd_scan_usage(void)
{
	printf(
	    "Usage: originaudit scan --config FILE [OPTIONS]\n"
	    "       originaudit scan (--cloudfront FILE | --terraform FILE)... [OPTIONS]\n"
	    "       originaudit scan HOST[:PORT]... [--sni NAME] [--host-header NAME] [OPTIONS]\n"
	    "\n"
	    "Probes every origin of the configuration the way CloudFront connects to it\n"
	    "(every address, every SNI name) and grades each certificate chain. Targets\n"
	    "given as HOST[:PORT] ([IPv6]:PORT; PORT 443 by default) are audited as\n"
	    "https-only origins with CloudFront's defaults (TLSv1.2, SNI = HOST).\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE         originaudit configuration (JSON)\n"
	    "      --cloudfront FILE     CloudFront distributions: output of `aws cloudfront\n"
	    "                            get-distribution-config`, `get-distribution` or\n"
	    "                            `list-distributions` (every item), a\n"
	    "                            DistributionConfig, or a CloudFormation template\n"
	    "                            (JSON or YAML; every distribution); repeatable\n"
	    "      --terraform FILE      every aws_cloudfront_distribution of `terraform show\n"
	    "                            -json` output: a saved plan (pre-deploy gate) or\n"
	    "                            state; repeatable, and mixes with --cloudfront\n"
	    "      --resolve HOST:PORT:ADDRESS[,ADDRESS...]\n"
	    "                            probe the origins named HOST on PORT at ADDRESS\n"
	    "                            instead of HOST's DNS records (curl's syntax; IPv6\n"
	    "                            as [::1]); repeatable; an entry that matches no\n"
	    "                            origin is ignored with a warning\n"
	    "      --sni NAME            targets: the origin's domain name (SNI, certificate\n"
	    "                            name); required for a target given as an IP address\n"
	    "      --host-header NAME    targets: a forwarded Host value, probed with SNI =\n"
	    "                            NAME as behind a behaviour forwarding Host; repeatable\n"
	    "  -f, --format FORMAT       json, text, prometheus, junit or html: the format of\n"
	    "                            stdout (default: text on a terminal, else json) or\n"
	    "                            of every -o FILE given without FORMAT:\n"
	    "  -o, --output [FORMAT:]FILE\n"
	    "                            write the report to FILE atomically instead of stdout;\n"
	    "                            repeatable (one scan, many outputs); the format from\n"
	    "                            FORMAT:, else -f, else the extension (.json .prom\n"
	    "                            .xml .txt .html); '-' is stdout\n"
	    "      --ca-bundle FILE      trusted roots (default: scan.ca_bundle, else the\n"
	    "                            bundled Mozilla list)\n"
	    "      --concurrency N       probes in flight at most (default: scan.concurrency, 64)\n"
	    "      --enumerate-protocols also record which of TLS 1.0-1.3 each server accepts\n"
	    "                            (one more handshake per version)\n"
	    "      --at TIME             grade expiry at TIME (2027-03-01T00:00:00Z)\n"
	    "  -h, --help                show this help\n"
	    "\n"
	    "Exit codes: 0 pass, 1 warnings only, 2 a probe fails or errors, 3 could not run\n"
	    "(bad usage included).\n");
}

void oa_cmd_check_config_usage(void)
{
	printf("Usage: originaudit check-config FILE\n"
	       "       originaudit check-config (--cloudfront FILE | --terraform FILE)...\n"
	       "\n"
	       "Validates a configuration file, or the CloudFront distributions of the files\n"
	       "scan reads with --cloudfront (`aws cloudfront get-distribution-config`,\n"
	       "`get-distribution` or `list-distributions` output, a DistributionConfig, or a\n"
	       "CloudFormation template in JSON or YAML) and --terraform (`terraform show\n"
	       "-json` of a plan or state), and prints lint warnings for each distribution.\n"
	       "\n"
	       "Exit codes: 0 valid, 1 valid with warnings, 3 invalid or unreadable.\n");
}

struct progress {
	bool shown;
};

static void on_progress(size_t done, size_t total, void *data)
{
	struct progress *pr = data;

	fprintf(stderr, "\r%zu/%zu probes done", done, total);
	pr->shown = true;
}

/* The options that shape the run rather than its inputs. */
struct scan_run_opts {
	/* The -o values as given; resolved into outputs once every option is read. */
	const char *output_specs[SCAN_MAX_OUTPUTS];
	size_t n_output_specs;
	scan_output outputs[SCAN_MAX_OUTPUTS];
	size_t n_outputs;
	const char *ca_bundle;
	bool enumerate;
	long concurrency;
	time_t at;
	/* -f was given. */
	bool has_format;
	oa_scan_format format;
};

/* One option that shapes the run; 0 or the exit code. */
static int run_opt(int c, struct scan_run_opts *so)
{
	switch (c) {
	case 'f':
		if (!scan_format_parse(optarg, &so->format)) {
			return cli_usage_error(
			    "scan", "--format: '%s' is not json, text, prometheus, junit or html",
			    optarg);
		}
		so->has_format = true;
		return 0;
	case 'o':
		if (so->n_output_specs == SCAN_MAX_OUTPUTS) {
			return cli_usage_error("scan", "more than %d -o outputs", SCAN_MAX_OUTPUTS);
		}
		so->output_specs[so->n_output_specs++] = optarg;
		return 0;
	case OPT_CA:
		so->ca_bundle = optarg;
		return 0;
	case OPT_CONC: {
		char *end = NULL;

		errno = 0;
		so->concurrency = strtol(optarg, &end, 10);
		if (errno != 0 || end == optarg || *end != '\0' || so->concurrency < 1 ||
		    so->concurrency > 100000) {
			return cli_usage_error("scan", "--concurrency: '%s' is not 1-100000",
					       optarg);
		}
		return 0;
	}
	case OPT_ENUM:
		so->enumerate = true;
		return 0;
	case OPT_AT:
		if (oa_parse_time(optarg, &so->at) < 0) {
			return cli_usage_error(
			    "scan", "--at: '%s' is not a time like 2027-03-01T00:00:00Z", optarg);
		}
		return 0;
	default:
		return cli_usage_error("scan", "unexpected option");
	}
}

/*
 * Where the report goes: every -o (FORMAT:FILE, or FILE in the -f format or
 * the one its extension tells), or stdout in the -f format, by default text on a
 * terminal and JSON otherwise. The terminal never chooses the format of a
 * file. 0 or the exit code.
 */
static int resolve_outputs(struct scan_run_opts *so)
{
	oa_error err;

	if (so->n_output_specs == 0) {
		so->outputs[0].path = "-";
		so->outputs[0].format = so->has_format		? so->format
					: isatty(STDOUT_FILENO) ? OA_SCAN_FORMAT_TEXT
								: OA_SCAN_FORMAT_JSON;
		so->n_outputs = 1;
		return 0;
	}
	for (size_t i = 0; i < so->n_output_specs; i++) {
		scan_output *o = &so->outputs[so->n_outputs];

		oa_error_clear(&err);
		if (scan_output_parse(so->output_specs[i], so->has_format, so->format, o, &err) <
		    0) {
			return cli_usage_error("scan", "%s", err.msg);
		}
		for (size_t k = 0; k < so->n_outputs; k++) {
			if (strcmp(so->outputs[k].path, o->path) == 0) {
				return cli_usage_error("scan", "-o names '%s' twice", o->path);
			}
		}
		so->n_outputs++;
	}
	return 0;
}

/* Parses scan's command line; 0, -1 after --help, or the exit code of a usage error. */
static int parse_scan_opts(int argc, char **argv, struct scan_inputs *in, struct scan_run_opts *so)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"cloudfront", required_argument, NULL, OPT_CF},
	    {"terraform", required_argument, NULL, OPT_TF},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"ca-bundle", required_argument, NULL, OPT_CA},
	    {"concurrency", required_argument, NULL, OPT_CONC},
	    {"enumerate-protocols", no_argument, NULL, OPT_ENUM},
	    {"at", required_argument, NULL, OPT_AT},
	    {"resolve", required_argument, NULL, OPT_RESOLVE},
	    {"sni", required_argument, NULL, OPT_SNI},
	    {"host-header", required_argument, NULL, OPT_HOST},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	int rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case OPT_CF:
		case OPT_TF:
		case OPT_RESOLVE:
		case OPT_SNI:
		case OPT_HOST:
			rc = scan_inputs_option("scan", c, in);
			break;
		case 'f':
		case 'o':
		case OPT_CA:
		case OPT_CONC:
		case OPT_ENUM:
		case OPT_AT:
			rc = run_opt(c, so);
			break;
		case 'h':
			oa_cmd_scan_usage();
			return -1;
		default:
			return cli_bad_option("scan", argv);
		}
		if (rc != 0) {
			return rc;
		}
	}
	/* glibc's getopt_long moves the positional arguments to the end. */
	in->targets = (const char *const *)argv + optind;
	in->n_targets = (size_t)(argc - optind);
	rc = scan_inputs_check("scan", in);
	return rc != 0 ? rc : resolve_outputs(so);
}

int oa_cmd_scan(int argc, char **argv)
{
	struct scan_inputs *in = NULL;
	struct scan_run_opts so;
	oa_config_list configs = {NULL, 0};
	oa_trust_store *store = NULL;
	oa_scan_report *report = NULL;
	uv_loop_t loop;
	oa_error err;
	int status;

	memset(&so, 0, sizeof(so));
	/* About 40 KiB of --resolve entries: on the heap, not the stack. */
	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		fprintf(stderr, "originaudit scan: out of memory\n");
		return OA_EXIT_ERROR;
	}
	status = parse_scan_opts(argc, argv, in, &so);
	if (status == 0) {
		status = scan_inputs_build("scan", in, &configs);
	}
	free(in);
	if (status != 0) {
		oa_config_list_clear(&configs);
		return status < 0 ? OA_EXIT_PASS : status;
	}
	/* Imported distributions carry no scan settings: the first file's (--config) apply. */
	const oa_config *config = configs.items[0];
	status = OA_EXIT_ERROR;
	oa_error_clear(&err);
	const char *ca_bundle = so.ca_bundle;
	if (ca_bundle == NULL) {
		ca_bundle = config->scan.ca_bundle != NULL ? config->scan.ca_bundle
							   : oa_default_ca_bundle();
	}
	if (oa_trust_store_load(ca_bundle, &store, &err) < 0) {
		fprintf(stderr, "originaudit scan: %s\n", err.msg);
		oa_config_list_clear(&configs);
		return OA_EXIT_ERROR;
	}
	oa_scan_options opts;
	struct progress progress = {false};
	oa_scan_options_from_config(&opts, config);
	if (so.concurrency > 0) {
		opts.concurrency = (unsigned)so.concurrency;
	}
	if (so.at != 0) {
		opts.at = so.at;
	}
	opts.enumerate_protocols = so.enumerate;
	if (isatty(STDERR_FILENO)) {
		opts.progress = on_progress;
		opts.progress_data = &progress;
	}
	if (uv_loop_init(&loop) < 0) {
		fprintf(stderr, "originaudit scan: cannot start the event loop\n");
		goto out_store;
	}
	int rc = oa_scan_run_many(&loop, (const oa_config *const *)configs.items, configs.n, store,
				  &opts, &report);
	if (progress.shown) {
		fprintf(stderr, "\r\033[K");
	}
	if (rc < 0) {
		fprintf(stderr, "originaudit scan: the scan failed: %s\n", strerror(-rc));
		goto out_loop;
	}
	/* Every output is written, each atomically, even when one of them fails. */
	bool written = true;
	for (size_t i = 0; i < so.n_outputs; i++) {
		const scan_output *o = &so.outputs[i];
		bool colour = o->format == OA_SCAN_FORMAT_TEXT && strcmp(o->path, "-") == 0 &&
			      term_colour_wanted(STDOUT_FILENO);

		oa_error_clear(&err);
		if (scan_write_report(report, o->format, o->path, colour, &err) < 0) {
			fprintf(stderr, "originaudit scan: %s\n", err.msg);
			written = false;
		}
	}
	if (!written) {
		goto out_report;
	}
	status = oa_exit_code(report->verdict);
out_report:
	oa_scan_report_destroy(report);
out_loop:
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
out_store:
	oa_trust_store_destroy(store);
	oa_config_list_clear(&configs);
	return status;
}

/* Lints one configuration; prints its warnings and summary; returns the warnings' count. */
static size_t check_one(const char *path, const oa_config *config, bool *failed)
{
	oa_lint *lints = NULL;
	size_t n_lints = 0;
	char where[512];

	if (config->distribution != NULL && strcmp(config->distribution, path) != 0) {
		snprintf(where, sizeof(where), "%s: %s", path, config->distribution);
	} else {
		snprintf(where, sizeof(where), "%s", path);
	}
	if (oa_config_lint(config, &lints, &n_lints) < 0) {
		fprintf(stderr, "originaudit check-config: out of memory\n");
		*failed = true;
		return 0;
	}
	for (size_t i = 0; i < n_lints; i++) {
		printf("%s: warning: %s: %s\n", where, lints[i].path, lints[i].message);
	}
	printf("%s: valid: %zu origin(s), %zu behavior(s)%s, %zu warning(s)\n", where,
	       config->n_origins, config->n_behaviors,
	       config->has_default_behavior ? " + default" : "", n_lints);
	free(lints);
	return n_lints;
}

int oa_cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"cloudfront", required_argument, NULL, OPT_CF},
	    {"terraform", required_argument, NULL, OPT_TF},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct input_file files[MAX_FILES];
	size_t n_files = 0;
	oa_config_list list = {NULL, 0};
	size_t warnings = 0;
	bool failed = false;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == OPT_CF || c == OPT_TF) {
			if (n_files == MAX_FILES) {
				return cli_usage_error("check-config", "more than %d input files",
						       MAX_FILES);
			}
			files[n_files].kind = c == OPT_CF ? INPUT_CLOUDFRONT : INPUT_TERRAFORM;
			files[n_files].path = optarg;
			n_files++;
		} else if (c == 'h') {
			oa_cmd_check_config_usage();
			return OA_EXIT_PASS;
		} else {
			return cli_bad_option("check-config", argv);
		}
	}
	/* A bare FILE is our own configuration format, one per run. */
	if (optind < argc) {
		if (optind + 1 != argc || n_files > 0) {
			return cli_usage_error(
			    "check-config", "expected one configuration FILE, or --cloudfront and "
					    "--terraform files");
		}
		files[0].kind = INPUT_CONFIG;
		files[0].path = argv[optind];
		n_files = 1;
	}
	if (n_files == 0) {
		return cli_usage_error("check-config",
				       "expected a FILE, --cloudfront FILE or --terraform FILE");
	}
	size_t counts[MAX_FILES];
	if (scan_inputs_load("check-config", files, n_files, &list, counts) != 0) {
		oa_config_list_clear(&list);
		return OA_EXIT_ERROR;
	}
	size_t d = 0;
	for (size_t i = 0; i < n_files; i++) {
		for (size_t k = 0; k < counts[i]; k++, d++) {
			warnings += check_one(files[i].path, list.items[d], &failed);
		}
	}
	oa_config_list_clear(&list);
	if (failed) {
		return OA_EXIT_ERROR;
	}
	return warnings > 0 ? OA_EXIT_WARN : OA_EXIT_PASS;
}
