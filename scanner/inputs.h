/*
 * The command-line inputs shared by scan, check-config and serve (inputs.c),
 * and the usage-error writers of every command.
 */
#ifndef ORIGINAUDIT_SCANNER_INPUTS_H
#define ORIGINAUDIT_SCANNER_INPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "originaudit/config.h"

/* Writes "originaudit CMD: message (see originaudit CMD --help)"; returns exit code 3. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usage error for the option getopt refused (unknown, or missing its value). */
int cli_bad_option(const char *cmd, char **argv);

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

/* The option that names an input of this kind ("--cloudfront"), for messages. */
const char *scan_input_option(enum input_kind kind);

/*
 * One input option (c: 'c', OPT_CF, OPT_TF, OPT_RESOLVE, OPT_SNI, OPT_HOST)
 * with its value in optarg, added to in; 0 or the exit code of a usage error.
 */
int scan_inputs_option(const char *cmd, int c, struct scan_inputs *in);

/* Refuses combinations of inputs that would leave one of them unread; 0 or the exit code. */
int scan_inputs_check(const char *cmd, const struct scan_inputs *in);

/*
 * Reads every input file into list, one configuration per distribution, in
 * the order given; the same distribution twice is refused. counts (may be
 * NULL) receives how many configurations each file gave. 0 or the exit code
 * (3) with the message written.
 */
int scan_inputs_load(const char *cmd, const struct input_file *files, size_t n,
		     oa_config_list *list, size_t *counts);

/*
 * The configurations of the inputs (files or targets) with --resolve applied
 * to each (an entry matching no origin is a warning); 0 or the exit code.
 */
int scan_inputs_build(const char *cmd, const struct scan_inputs *in, oa_config_list *list);

#endif
