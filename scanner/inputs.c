/*
 * The inputs scan, check-config and serve share: a configuration, CloudFront
 * and Terraform files or ad-hoc targets, and --resolve; read into one
 * configuration per distribution.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inputs.h"
#include "originaudit/exitcode.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "originaudit %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see originaudit %s --help)\n", cmd);
	return OA_EXIT_ERROR;
}

int cli_bad_option(const char *cmd, char **argv)
{
	if (optopt != 0) {
		return cli_usage_error(cmd, "unknown option or missing value '-%c'", optopt);
	}
	return cli_usage_error(cmd, "unknown option or missing value '%s'", argv[optind - 1]);
}

/* The option that names an input of this kind, for messages. */
const char *scan_input_option(enum input_kind kind)
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
int scan_inputs_load(const char *cmd, const struct input_file *files, size_t n,
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

/* Refuses combinations of inputs that would leave one of them unread; 0 or the exit code. */
int scan_inputs_check(const char *cmd, const struct scan_inputs *in)
{
	if (in->has_config && in->import != NULL) {
		return cli_usage_error(cmd,
				       "--config cannot be combined with %s: scan the imported "
				       "distributions alone, or the configuration alone",
				       scan_input_option(in->import->kind));
	}
	bool file = in->n_files > 0;
	const char *option = file ? scan_input_option(in->files[0].kind) : "";
	if (file && in->n_targets > 0) {
		return cli_usage_error(cmd,
				       "target '%s' cannot be combined with %s: give either "
				       "HOST[:PORT] targets or files",
				       in->targets[0], option);
	}
	if (!file && in->n_targets == 0) {
		return cli_usage_error(cmd, "--config FILE, --cloudfront FILE, --terraform FILE or "
					    "HOST[:PORT] targets are required");
	}
	if (file && in->sni != NULL) {
		return cli_usage_error(cmd, "--sni applies to HOST[:PORT] targets, not to %s",
				       option);
	}
	if (file && in->n_host_headers > 0) {
		return cli_usage_error(
		    cmd, "--host-header applies to HOST[:PORT] targets, not to %s", option);
	}
	return 0;
}

/*
 * Builds the configurations (one per distribution) from the inputs and
 * applies --resolve to each; 0 or the exit code.
 */
int scan_inputs_build(const char *cmd, const struct scan_inputs *in, oa_config_list *list)
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
			return cli_usage_error(cmd, "%s", err.msg);
		}
		if (rc < 0 || oa_config_list_push(list, config) < 0) {
			fprintf(stderr, "originaudit %s: out of memory\n", cmd);
			return OA_EXIT_ERROR;
		}
	} else {
		rc = scan_inputs_load(cmd, in->files, in->n_files, list, NULL);
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
			fprintf(stderr, "originaudit %s: %s\n", cmd, err.msg);
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
				"originaudit %s: warning: --resolve '%s' matches no origin "
				"(domain name %s with port %u); ignored\n",
				cmd, in->resolve_specs[i], in->resolve[i].host,
				in->resolve[i].port);
		}
	}
	return 0;
}

/* One input option of scan (file, --resolve, --sni, --host-header); 0 or the exit code. */
int scan_inputs_option(const char *cmd, int c, struct scan_inputs *in)
{
	oa_error err;

	switch (c) {
	case 'c':
		if (in->has_config) {
			return cli_usage_error(cmd, "--config is given twice: one file per run");
		}
		in->has_config = true;
		/* fall through */
	case OPT_CF:
	case OPT_TF:
		if (in->n_files == MAX_FILES) {
			return cli_usage_error(cmd, "more than %d input files", MAX_FILES);
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
			return cli_usage_error(cmd, "more than %d --resolve options", MAX_RESOLVE);
		}
		oa_error_clear(&err);
		if (oa_resolve_parse(optarg, &in->resolve[in->n_resolve], &err) < 0) {
			return cli_usage_error(cmd, "--resolve %s", err.msg);
		}
		in->resolve_specs[in->n_resolve] = optarg;
		in->n_resolve++;
		return 0;
	case OPT_SNI:
		if (in->sni != NULL) {
			return cli_usage_error(cmd, "--sni is given twice");
		}
		in->sni = optarg;
		return 0;
	case OPT_HOST:
		if (in->n_host_headers == MAX_HOST_HEADERS) {
			return cli_usage_error(cmd, "more than %d --host-header options",
					       MAX_HOST_HEADERS);
		}
		in->host_headers[in->n_host_headers] = optarg;
		in->n_host_headers++;
		return 0;
	default:
		return cli_usage_error(cmd, "unexpected option");
	}
}
