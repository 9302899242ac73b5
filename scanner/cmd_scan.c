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

/* scan's and check-config's long options without a short form. */
enum { OPT_CF = 256, OPT_TF, OPT_CA, OPT_CONC, OPT_ENUM, OPT_AT, OPT_RESOLVE, OPT_SNI, OPT_HOST };

#define MAX_RESOLVE 64
#define MAX_HOST_HEADERS 16
#define MAX_FILES 64

/* What a file given on the command line holds. */
enum input_kind {
	INPUT_CONFIG,
	INPUT_CLOUDFRONT,
	INPUT_TERRAFORM,
};

struct input_file {
	enum input_kind kind;
	const char *path;
};

/* The option that names an input of this kind, for messages. */
static const char *input_option(enum input_kind kind)
{
	switch (kind) {
	case INPUT_CLOUDFRONT:
		return "--cloudfront";
	case INPUT_TERRAFORM:
		return "--terraform";
	case INPUT_CONFIG:
		break;
	}
	return "--config";
}

/*
 * Reads every input file into list, one configuration per distribution, in
 * the order given; two distributions of one name (the same distribution read
 * twice) are refused, as their origins could not be told apart. counts
 * (may be NULL) receives how many configurations each file gave. 0 or
 * OA_EXIT_ERROR with the message written.
 */
static int load_inputs(const char *cmd, const struct input_file *files, size_t n,
		       oa_config_list *list, size_t *counts)
{
	oa_error err;

	for (size_t i = 0; i < n; i++) {
		size_t first = list->n;
		int rc;

		oa_error_clear(&err);
		if (files[i].kind == INPUT_CONFIG) {
			oa_config *config = NULL;

			rc = oa_config_load_file(files[i].path, &config, &err);
			if (rc == 0 && oa_config_list_push(list, config) < 0) {
				rc = -ENOMEM;
				snprintf(err.msg, sizeof(err.msg), "out of memory");
			}
		} else if (files[i].kind == INPUT_CLOUDFRONT) {
			rc = oa_config_load_cloudfront(files[i].path, list, &err);
		} else {
			rc = oa_config_load_terraform(files[i].path, list, &err);
		}
		if (rc < 0) {
			fprintf(stderr, "originaudit %s: %s\n", cmd, err.msg);
			return OA_EXIT_ERROR;
		}
		if (counts != NULL) {
			counts[i] = list->n - first;
		}
		for (size_t d = first; d < list->n; d++) {
			const char *name = list->items[d]->distribution;

			for (size_t e = 0; e < d && name != NULL; e++) {
				if (list->items[e]->distribution != NULL &&
				    strcmp(list->items[e]->distribution, name) == 0) {
					fprintf(stderr,
						"originaudit %s: %s: distribution %s is given "
						"twice: each distribution once per run\n",
						cmd, files[i].path, name);
					return OA_EXIT_ERROR;
				}
			}
		}
	}
	return 0;
}

/* What scan reads its origins from, gathered from the command line. */
struct scan_inputs {
	struct input_file files[MAX_FILES];
	size_t n_files;
	/* A --config file is among files. */
	bool has_config;
	/* A --cloudfront or --terraform file is among files (the first one). */
	const struct input_file *import;
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
	if (in->has_config && in->import != NULL) {
		return usage_error("scan",
				   "--config cannot be combined with %s: scan the imported "
				   "distributions alone, or the configuration alone",
				   input_option(in->import->kind));
	}
	bool file = in->n_files > 0;
	const char *option = file ? input_option(in->files[0].kind) : "";
	if (file && in->n_targets > 0) {
		return usage_error("scan",
				   "target '%s' cannot be combined with %s: give either "
				   "HOST[:PORT] targets or files",
				   in->targets[0], option);
	}
	if (!file && in->n_targets == 0) {
		return usage_error("scan", "--config FILE, --cloudfront FILE, --terraform FILE or "
					   "HOST[:PORT] targets are required");
	}
	if (file && in->sni != NULL) {
		return usage_error("scan", "--sni applies to HOST[:PORT] targets, not to %s",
				   option);
	}
	if (file && in->n_host_headers > 0) {
		return usage_error(
		    "scan", "--host-header applies to HOST[:PORT] targets, not to %s", option);
	}
	return 0;
}

/*
 * Builds the configurations (one per distribution) from the inputs and
 * applies --resolve to each; 0 or the exit code.
 */
static int build_configs(const struct scan_inputs *in, oa_config_list *list)
{
	size_t matched[MAX_RESOLVE] = {0};
	size_t one[MAX_RESOLVE];
	oa_error err;
	int rc;

	oa_error_clear(&err);
	if (in->n_targets > 0) {
		oa_target_options topts = {in->sni, in->host_headers, in->n_host_headers};
		oa_config *config = NULL;

		rc = oa_config_from_targets(in->targets, in->n_targets, &topts, &config, &err);
		if (rc == -EINVAL) {
			return usage_error("scan", "%s", err.msg);
		}
		if (rc < 0 || oa_config_list_push(list, config) < 0) {
			fprintf(stderr, "originaudit scan: out of memory\n");
			return OA_EXIT_ERROR;
		}
	} else {
		rc = load_inputs("scan", in->files, in->n_files, list, NULL);
		if (rc != 0) {
			return rc;
		}
	}
	if (in->n_resolve == 0) {
		return 0;
	}
	for (size_t d = 0; d < list->n; d++) {
		if (oa_config_apply_resolve(list->items[d], in->resolve, in->n_resolve, one, &err) <
		    0) {
			fprintf(stderr, "originaudit scan: %s\n", err.msg);
			return OA_EXIT_ERROR;
		}
		for (size_t i = 0; i < in->n_resolve; i++) {
			matched[i] += one[i];
		}
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
		if (in->has_config) {
			return usage_error("scan", "--config is given twice: one file per run");
		}
		in->has_config = true;
		/* fall through */
	case OPT_CF:
	case OPT_TF:
		if (in->n_files == MAX_FILES) {
			return usage_error("scan", "more than %d input files", MAX_FILES);
		}
		in->files[in->n_files].kind = c == 'c'	    ? INPUT_CONFIG
					      : c == OPT_CF ? INPUT_CLOUDFRONT
							    : INPUT_TERRAFORM;
		in->files[in->n_files].path = optarg;
		if (c != 'c' && in->import == NULL) {
			in->import = &in->files[in->n_files];
		}
		in->n_files++;
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

	so->format = isatty(STDOUT_FILENO) ? OA_SCAN_FORMAT_TEXT : OA_SCAN_FORMAT_JSON;
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
	oa_config_list configs = {NULL, 0};
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
		status = build_configs(in, &configs);
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
				return usage_error("check-config", "more than %d input files",
						   MAX_FILES);
			}
			files[n_files].kind = c == OPT_CF ? INPUT_CLOUDFRONT : INPUT_TERRAFORM;
			files[n_files].path = optarg;
			n_files++;
		} else if (c == 'h') {
			oa_cmd_check_config_usage();
			return OA_EXIT_PASS;
		} else {
			return bad_option("check-config", argv);
		}
	}
	/* A bare FILE is our own configuration format, one per run. */
	if (optind < argc) {
		if (optind + 1 != argc || n_files > 0) {
			return usage_error("check-config",
					   "expected one configuration FILE, or --cloudfront and "
					   "--terraform files");
		}
		files[0].kind = INPUT_CONFIG;
		files[0].path = argv[optind];
		n_files = 1;
	}
	if (n_files == 0) {
		return usage_error("check-config",
				   "expected a FILE, --cloudfront FILE or --terraform FILE");
	}
	size_t counts[MAX_FILES];
	if (load_inputs("check-config", files, n_files, &list, counts) != 0) {
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
