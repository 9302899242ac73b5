/* originaudit scan: audit every configured origin; originaudit check-config. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "originaudit/exitcode.h"
#include "originaudit/report.h"
#include "originaudit/scan.h"
#include "scan_output.h"
#include "term.h"

void oa_cmd_scan_usage(void)
{
	printf(
	    "Usage: originaudit scan (--config FILE | --cloudfront FILE) [OPTIONS]\n"
	    "\n"
	    "Probes every origin of the configuration the way CloudFront connects to it\n"
	    "(every address, every SNI name) and grades each certificate chain.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE         originaudit configuration (JSON)\n"
	    "      --cloudfront FILE     output of `aws cloudfront get-distribution-config`\n"
	    "  -f, --format FORMAT       json, text, prometheus or junit (default: text on a\n"
	    "                            terminal, else json)\n"
	    "  -o, --output FILE         write the report to FILE atomically (default: stdout)\n"
	    "      --ca-bundle FILE      trusted roots (default: scan.ca_bundle, else the\n"
	    "                            bundled Mozilla list)\n"
	    "      --concurrency N       probes in flight at most (default: scan.concurrency, 64)\n"
	    "      --enumerate-protocols also record which of TLS 1.0-1.3 each server accepts\n"
	    "                            (one more handshake per version)\n"
	    "      --at TIME             grade expiry at TIME (2027-03-01T00:00:00Z)\n"
	    "  -h, --help                show this help\n"
	    "\n"
	    "Exit codes: 0 pass, 1 warnings only, 2 a probe fails or errors, 3 could not run.\n");
}

void oa_cmd_check_config_usage(void)
{
	printf("Usage: originaudit check-config [--cloudfront] FILE\n"
	       "\n"
	       "Validates a configuration file (or, with --cloudfront, the output of\n"
	       "`aws cloudfront get-distribution-config`) and prints lint warnings.\n"
	       "\n"
	       "Exit codes: 0 valid, 1 valid with warnings, 3 invalid or unreadable.\n");
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "originaudit %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see originaudit %s --help)\n", cmd);
	return OA_EXIT_ERROR;
}

static int bad_option(const char *cmd, char **argv)
{
	if (optopt != 0) {
		return usage_error(cmd, "unknown option or missing value '-%c'", optopt);
	}
	return usage_error(cmd, "unknown option or missing value '%s'", argv[optind - 1]);
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

static int load_config(const char *path, bool cloudfront, oa_config **config, oa_error *err)
{
	return cloudfront ? oa_config_load_cloudfront_file(path, config, err)
			  : oa_config_load_file(path, config, err);
}

int oa_cmd_scan(int argc, char **argv)
{
	enum { OPT_CF = 256, OPT_CA, OPT_CONC, OPT_ENUM, OPT_AT };
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"cloudfront", required_argument, NULL, OPT_CF},
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"ca-bundle", required_argument, NULL, OPT_CA},
	    {"concurrency", required_argument, NULL, OPT_CONC},
	    {"enumerate-protocols", no_argument, NULL, OPT_ENUM},
	    {"at", required_argument, NULL, OPT_AT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *output = NULL;
	const char *ca_bundle = NULL;
	bool cloudfront = false;
	bool enumerate = false;
	long concurrency = 0;
	time_t at = 0;
	oa_scan_format format = isatty(STDOUT_FILENO) ? OA_SCAN_FORMAT_TEXT : OA_SCAN_FORMAT_JSON;
	oa_config *config = NULL;
	oa_trust_store *store = NULL;
	oa_scan_report *report = NULL;
	uv_loop_t loop;
	oa_error err;
	int status = OA_EXIT_ERROR;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			cloudfront = false;
			break;
		case OPT_CF:
			config_path = optarg;
			cloudfront = true;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				format = OA_SCAN_FORMAT_JSON;
			} else if (strcmp(optarg, "text") == 0) {
				format = OA_SCAN_FORMAT_TEXT;
			} else if (strcmp(optarg, "prometheus") == 0) {
				format = OA_SCAN_FORMAT_PROMETHEUS;
			} else if (strcmp(optarg, "junit") == 0) {
				format = OA_SCAN_FORMAT_JUNIT;
			} else {
				return usage_error(
				    "scan", "--format: '%s' is not json, text, prometheus or junit",
				    optarg);
			}
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_CA:
			ca_bundle = optarg;
			break;
		case OPT_CONC: {
			char *end = NULL;

			errno = 0;
			concurrency = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || concurrency < 1 ||
			    concurrency > 100000) {
				return usage_error("scan", "--concurrency: '%s' is not 1-100000",
						   optarg);
			}
			break;
		}
		case OPT_ENUM:
			enumerate = true;
			break;
		case OPT_AT:
			if (oa_parse_time(optarg, &at) < 0) {
				return usage_error(
				    "scan", "--at: '%s' is not a time like 2027-03-01T00:00:00Z",
				    optarg);
			}
			break;
		case 'h':
			oa_cmd_scan_usage();
			return OA_EXIT_PASS;
		default:
			return bad_option("scan", argv);
		}
	}
	if (optind < argc) {
		return usage_error("scan", "unexpected argument '%s'", argv[optind]);
	}
	if (config_path == NULL) {
		return usage_error("scan", "--config FILE or --cloudfront FILE is required");
	}
	oa_error_clear(&err);
	if (load_config(config_path, cloudfront, &config, &err) < 0) {
		fprintf(stderr, "originaudit scan: %s\n", err.msg);
		return OA_EXIT_ERROR;
	}
	if (ca_bundle == NULL) {
		ca_bundle = config->scan.ca_bundle != NULL ? config->scan.ca_bundle
							   : oa_default_ca_bundle();
	}
	if (oa_trust_store_load(ca_bundle, &store, &err) < 0) {
		fprintf(stderr, "originaudit scan: %s\n", err.msg);
		oa_config_destroy(config);
		return OA_EXIT_ERROR;
	}
	oa_scan_options opts;
	struct progress progress = {false};
	oa_scan_options_from_config(&opts, config);
	if (concurrency > 0) {
		opts.concurrency = (unsigned)concurrency;
	}
	if (at != 0) {
		opts.at = at;
	}
	opts.enumerate_protocols = enumerate;
	if (isatty(STDERR_FILENO)) {
		opts.progress = on_progress;
		opts.progress_data = &progress;
	}
	if (uv_loop_init(&loop) < 0) {
		fprintf(stderr, "originaudit scan: cannot start the event loop\n");
		goto out_store;
	}
	int rc = oa_scan_run(&loop, config, store, &opts, &report);
	if (progress.shown) {
		fprintf(stderr, "\r\033[K");
	}
	if (rc < 0) {
		fprintf(stderr, "originaudit scan: the scan failed: %s\n", strerror(-rc));
		goto out_loop;
	}
	bool colour =
	    format == OA_SCAN_FORMAT_TEXT && output == NULL && term_colour_wanted(STDOUT_FILENO);
	if (scan_write_report(report, format, output, colour, &err) < 0) {
		fprintf(stderr, "originaudit scan: %s\n", err.msg);
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
	oa_config_destroy(config);
	return status;
}

int oa_cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"cloudfront", no_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool cloudfront = false;
	oa_config *config = NULL;
	oa_lint *lints = NULL;
	size_t n_lints = 0;
	oa_error err;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'C') {
			cloudfront = true;
		} else if (c == 'h') {
			oa_cmd_check_config_usage();
			return OA_EXIT_PASS;
		} else {
			return bad_option("check-config", argv);
		}
	}
	if (optind + 1 != argc) {
		return usage_error("check-config", "expected exactly one FILE");
	}
	const char *path = argv[optind];
	oa_error_clear(&err);
	if (load_config(path, cloudfront, &config, &err) < 0) {
		fprintf(stderr, "originaudit check-config: %s\n", err.msg);
		return OA_EXIT_ERROR;
	}
	if (oa_config_lint(config, &lints, &n_lints) < 0) {
		fprintf(stderr, "originaudit check-config: out of memory\n");
		oa_config_destroy(config);
		return OA_EXIT_ERROR;
	}
	for (size_t i = 0; i < n_lints; i++) {
		printf("%s: warning: %s: %s\n", path, lints[i].path, lints[i].message);
	}
	printf("%s: valid: %zu origin(s), %zu behavior(s)%s, %zu warning(s)\n", path,
	       config->n_origins, config->n_behaviors,
	       config->has_default_behavior ? " + default" : "", n_lints);
	free(lints);
	oa_config_destroy(config);
	return n_lints > 0 ? OA_EXIT_WARN : OA_EXIT_PASS;
}
