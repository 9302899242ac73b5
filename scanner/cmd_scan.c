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
	    "       originaudit scan HOST[:PORT]... [--sni NAME] [--host-header NAME] [OPTIONS]\n"
	    "\n"
	    "Probes every origin of the configuration the way CloudFront connects to it\n"
	    "(every address, every SNI name) and grades each certificate chain. Targets\n"
	    "given as HOST[:PORT] ([IPv6]:PORT; PORT 443 by default) are audited as\n"
	    "https-only origins with CloudFront's defaults (TLSv1.2, SNI = HOST).\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE         originaudit configuration (JSON)\n"
	    "      --cloudfront FILE     one CloudFront distribution: output of `aws cloudfront\n"
	    "                            get-distribution-config`, `get-distribution` or\n"
	    "                            `list-distributions` (one item), a DistributionConfig,\n"
	    "                            or a CloudFormation template (JSON or YAML)\n"
	    "                            (one distribution file per run)\n"
	    "      --resolve HOST:PORT:ADDRESS[,ADDRESS...]\n"
	    "                            probe the origins named HOST on PORT at ADDRESS\n"
	    "                            instead of HOST's DNS records (curl's syntax; IPv6\n"
	    "                            as [::1]); repeatable; an entry that matches no\n"
	    "                            origin is ignored with a warning\n"
	    "      --sni NAME            targets: the origin's domain name (SNI, certificate\n"
	    "                            name); required for a target given as an IP address\n"
	    "      --host-header NAME    targets: a forwarded Host value, probed with SNI =\n"
	    "                            NAME as behind a behaviour forwarding Host; repeatable\n"
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
	    "Exit codes: 0 pass, 1 warnings only, 2 a probe fails or errors, 3 could not run\n"
	    "(bad usage included).\n");
}

void oa_cmd_check_config_usage(void)
{
	printf("Usage: originaudit check-config [--cloudfront] FILE\n"
	       "\n"
	       "Validates a configuration file (or, with --cloudfront, one CloudFront\n"
	       "distribution: `aws cloudfront get-distribution-config`, `get-distribution` or\n"
	       "`list-distributions` output, a DistributionConfig, or a CloudFormation template\n"
	       "in JSON or YAML) and prints lint warnings.\n"
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

/* scan's long options without a short form. */
enum { OPT_CF = 256, OPT_CA, OPT_CONC, OPT_ENUM, OPT_AT, OPT_RESOLVE, OPT_SNI, OPT_HOST };

#define MAX_RESOLVE 64
#define MAX_HOST_HEADERS 16

/* What scan reads its origins from, gathered from the command line. */
struct scan_inputs {
	const char *config_path;
	const char *cloudfront_path;
	const char *sni;
	const char *host_headers[MAX_HOST_HEADERS];
	size_t n_host_headers;
	const char *resolve_specs[MAX_RESOLVE];
	oa_resolve resolve[MAX_RESOLVE];
	size_t n_resolve;
	const char *const *targets;
	size_t n_targets;
};

/* Refuses combinations of inputs that would leave one of them unread; 0 or the exit code. */
static int check_inputs(const struct scan_inputs *in)
{
	if (in->config_path != NULL && in->cloudfront_path != NULL) {
		return usage_error("scan", "--config and --cloudfront cannot be combined: "
					   "give one of them");
	}
	bool file = in->config_path != NULL || in->cloudfront_path != NULL;
	if (file && in->n_targets > 0) {
		return usage_error("scan",
				   "target '%s' cannot be combined with %s: give either "
				   "HOST[:PORT] targets or a file",
				   in->targets[0],
				   in->config_path != NULL ? "--config" : "--cloudfront");
	}
	if (!file && in->n_targets == 0) {
		return usage_error(
		    "scan", "--config FILE, --cloudfront FILE or HOST[:PORT] targets are required");
	}
	if (file && in->sni != NULL) {
		return usage_error("scan", "--sni applies to HOST[:PORT] targets, not to %s",
				   in->config_path != NULL ? "--config" : "--cloudfront");
	}
	if (file && in->n_host_headers > 0) {
		return usage_error("scan",
				   "--host-header applies to HOST[:PORT] targets, not to %s",
				   in->config_path != NULL ? "--config" : "--cloudfront");
	}
	return 0;
}

/* Builds the configuration from the inputs and applies --resolve; 0 or the exit code. */
static int build_config(const struct scan_inputs *in, oa_config **config)
{
	size_t matched[MAX_RESOLVE];
	oa_error err;
	int rc;

	oa_error_clear(&err);
	if (in->n_targets > 0) {
		oa_target_options topts = {in->sni, in->host_headers, in->n_host_headers};

		rc = oa_config_from_targets(in->targets, in->n_targets, &topts, config, &err);
		if (rc == -EINVAL) {
			return usage_error("scan", "%s", err.msg);
		}
	} else if (in->cloudfront_path != NULL) {
		rc = load_config(in->cloudfront_path, true, config, &err);
	} else {
		rc = load_config(in->config_path, false, config, &err);
	}
	if (rc < 0) {
		fprintf(stderr, "originaudit scan: %s\n", err.msg);
		return OA_EXIT_ERROR;
	}
	if (in->n_resolve == 0) {
		return 0;
	}
	if (oa_config_apply_resolve(*config, in->resolve, in->n_resolve, matched, &err) < 0) {
		fprintf(stderr, "originaudit scan: %s\n", err.msg);
		oa_config_destroy(*config);
		*config = NULL;
		return OA_EXIT_ERROR;
	}
	/* As with curl, an unused entry does not stop the run; unlike curl, it is not silent. */
	for (size_t i = 0; i < in->n_resolve; i++) {
		if (matched[i] == 0) {
			fprintf(stderr,
				"originaudit scan: warning: --resolve '%s' matches no origin "
				"(domain name %s with port %u); ignored\n",
				in->resolve_specs[i], in->resolve[i].host, in->resolve[i].port);
		}
	}
	return 0;
}

/* The options that shape the run rather than its inputs. */
struct scan_run_opts {
	const char *output;
	const char *ca_bundle;
	bool enumerate;
	long concurrency;
	time_t at;
	oa_scan_format format;
};

/* One input option of scan (file, --resolve, --sni, --host-header); 0 or the exit code. */
static int input_opt(int c, struct scan_inputs *in)
{
	oa_error err;

	switch (c) {
	case 'c':
		if (in->config_path != NULL) {
			return usage_error("scan", "--config is given twice: one file per run");
		}
		in->config_path = optarg;
		return 0;
	case OPT_CF:
		if (in->cloudfront_path != NULL) {
			return usage_error("scan",
					   "--cloudfront is given twice: only one distribution "
					   "file per run is read for now");
		}
		in->cloudfront_path = optarg;
		return 0;
	case OPT_RESOLVE:
		if (in->n_resolve == MAX_RESOLVE) {
			return usage_error("scan", "more than %d --resolve options", MAX_RESOLVE);
		}
		oa_error_clear(&err);
		if (oa_resolve_parse(optarg, &in->resolve[in->n_resolve], &err) < 0) {
			return usage_error("scan", "--resolve %s", err.msg);
		}
		in->resolve_specs[in->n_resolve] = optarg;
		in->n_resolve++;
		return 0;
	case OPT_SNI:
		if (in->sni != NULL) {
			return usage_error("scan", "--sni is given twice");
		}
		in->sni = optarg;
		return 0;
	case OPT_HOST:
		if (in->n_host_headers == MAX_HOST_HEADERS) {
			return usage_error("scan", "more than %d --host-header options",
					   MAX_HOST_HEADERS);
		}
		in->host_headers[in->n_host_headers] = optarg;
		in->n_host_headers++;
		return 0;
	default:
		return usage_error("scan", "unexpected option");
	}
}

/* One option that shapes the run; 0 or the exit code. */
static int run_opt(int c, struct scan_run_opts *so)
{
	switch (c) {
	case 'f':
		if (strcmp(optarg, "json") == 0) {
			so->format = OA_SCAN_FORMAT_JSON;
		} else if (strcmp(optarg, "text") == 0) {
			so->format = OA_SCAN_FORMAT_TEXT;
		} else if (strcmp(optarg, "prometheus") == 0) {
			so->format = OA_SCAN_FORMAT_PROMETHEUS;
		} else if (strcmp(optarg, "junit") == 0) {
			so->format = OA_SCAN_FORMAT_JUNIT;
		} else {
			return usage_error("scan",
					   "--format: '%s' is not json, text, prometheus or junit",
					   optarg);
		}
		return 0;
	case 'o':
		so->output = optarg;
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
			return usage_error("scan", "--concurrency: '%s' is not 1-100000", optarg);
		}
		return 0;
	}
	case OPT_ENUM:
		so->enumerate = true;
		return 0;
	case OPT_AT:
		if (oa_parse_time(optarg, &so->at) < 0) {
			return usage_error(
			    "scan", "--at: '%s' is not a time like 2027-03-01T00:00:00Z", optarg);
		}
		return 0;
	default:
		return usage_error("scan", "unexpected option");
	}
}

/* Parses scan's command line; 0, -1 after --help, or the exit code of a usage error. */
static int parse_scan_opts(int argc, char **argv, struct scan_inputs *in, struct scan_run_opts *so)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"cloudfront", required_argument, NULL, OPT_CF},
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

	so->format = isatty(STDOUT_FILENO) ? OA_SCAN_FORMAT_TEXT : OA_SCAN_FORMAT_JSON;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case OPT_CF:
		case OPT_RESOLVE:
		case OPT_SNI:
		case OPT_HOST:
			rc = input_opt(c, in);
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
			return bad_option("scan", argv);
		}
		if (rc != 0) {
			return rc;
		}
	}
	/* glibc's getopt_long moves the positional arguments to the end. */
	in->targets = (const char *const *)argv + optind;
	in->n_targets = (size_t)(argc - optind);
	return check_inputs(in);
}

int oa_cmd_scan(int argc, char **argv)
{
	struct scan_inputs *in = NULL;
	struct scan_run_opts so = {NULL, NULL, false, 0, 0, OA_SCAN_FORMAT_JSON};
	oa_config *config = NULL;
	oa_trust_store *store = NULL;
	oa_scan_report *report = NULL;
	uv_loop_t loop;
	oa_error err;
	int status;

	/* About 40 KiB of --resolve entries: on the heap, not the stack. */
	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		fprintf(stderr, "originaudit scan: out of memory\n");
		return OA_EXIT_ERROR;
	}
	status = parse_scan_opts(argc, argv, in, &so);
	if (status == 0) {
		status = build_config(in, &config);
	}
	free(in);
	if (status != 0) {
		return status < 0 ? OA_EXIT_PASS : status;
	}
	status = OA_EXIT_ERROR;
	oa_error_clear(&err);
	const char *ca_bundle = so.ca_bundle;
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
	int rc = oa_scan_run(&loop, config, store, &opts, &report);
	if (progress.shown) {
		fprintf(stderr, "\r\033[K");
	}
	if (rc < 0) {
		fprintf(stderr, "originaudit scan: the scan failed: %s\n", strerror(-rc));
		goto out_loop;
	}
	bool colour = so.format == OA_SCAN_FORMAT_TEXT && so.output == NULL &&
		      term_colour_wanted(STDOUT_FILENO);
	if (scan_write_report(report, so.format, so.output, colour, &err) < 0) {
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
