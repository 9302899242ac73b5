/* originaudit verify: the offline pre-deploy gate for certificate files. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "inputs.h"
#include "originaudit/chain.h"
#include "originaudit/exitcode.h"
#include "originaudit/file.h"
#include "originaudit/key.h"
#include "originaudit/report.h"
#include "originaudit/trust.h"
#include "originaudit/verify.h"
#include "term.h"

#define MAX_NAMES 64

struct verify_opts {
	const char *chain;
	const char *key;
	const char *ca_bundle;
	const char *names[MAX_NAMES];
	size_t n_names;
	time_t at;
	oa_policy policy;
	bool json;
};

void oa_cmd_verify_usage(void)
{
	printf(
	    "Usage: originaudit verify --chain FILE [OPTIONS]\n"
	    "\n"
	    "Checks a certificate chain file offline, the way CloudFront will judge it once\n"
	    "the origin serves it: trust (Mozilla roots), expiry, self-signed, chain order,\n"
	    "name coverage and weak crypto.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --chain FILE        PEM chain exactly as the server sends it (leaf first);\n"
	    "                          - reads it from standard input (named <stdin>)\n"
	    "  -k, --key FILE          the server's private key: check it belongs to the leaf\n"
	    "  -n, --name NAME         a name the certificate must cover (origin domain or\n"
	    "                          forwarded Host); repeat it: any one must match.\n"
	    "                          Without it the leaf's names are listed, name check skipped\n"
	    "      --ca-bundle FILE    trusted roots (default: the bundled Mozilla list)\n"
	    "      --at TIME           evaluate at TIME (2027-03-01T00:00:00Z or 2027-03-01)\n"
	    "      --warn-days N|N%%    warn when the earliest expiry is within N days, or\n"
	    "                          N%% of the certificate's lifetime (default: the\n"
	    "                          lesser of 30 days and a third of its lifetime)\n"
	    "      --critical-days N|N%% fail when it is within N days or N%% (default: the\n"
	    "                          lesser of 7 days and a twelfth of its lifetime)\n"
	    "  -f, --format FORMAT     text or json (default: text on a terminal, else json)\n"
	    "  -h, --help              show this help\n"
	    "\n"
	    "Exit codes: 0 pass, 1 warnings only, 2 something fails, 3 could not run.\n");
}

static int parse_opts(int argc, char **argv, struct verify_opts *o)
{
	enum { VERIFY_OPT_CA = 256, VERIFY_OPT_AT, VERIFY_OPT_WARN, VERIFY_OPT_CRIT };
	static const struct option longopts[] = {
	    {"chain", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"name", required_argument, NULL, 'n'},
	    {"ca-bundle", required_argument, NULL, VERIFY_OPT_CA},
	    {"at", required_argument, NULL, VERIFY_OPT_AT},
	    {"warn-days", required_argument, NULL, VERIFY_OPT_WARN},
	    {"critical-days", required_argument, NULL, VERIFY_OPT_CRIT},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	o->at = time(NULL);
	oa_policy_init(&o->policy);
	o->json = !isatty(STDOUT_FILENO);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:k:n:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->chain = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'n':
			if (o->n_names == MAX_NAMES) {
				return cli_usage_error("verify", "more than %d --name options",
						       MAX_NAMES);
			}
			o->names[o->n_names] = optarg;
			o->n_names++;
			break;
		case VERIFY_OPT_CA:
			o->ca_bundle = optarg;
			break;
		case VERIFY_OPT_AT:
			if (oa_parse_time(optarg, &o->at) < 0) {
				return cli_usage_error(
				    "verify", "--at: '%s' is not a time like 2027-03-01T00:00:00Z",
				    optarg);
			}
			break;
		case VERIFY_OPT_WARN:
			if (oa_policy_parse_threshold(optarg, &o->policy.warn_days,
						      &o->policy.warn_percent) < 0) {
				return cli_usage_error(
				    "verify", "--warn-days: '%s' is not a number of days (or N%%)",
				    optarg);
			}
			break;
		case VERIFY_OPT_CRIT:
			if (oa_policy_parse_threshold(optarg, &o->policy.critical_days,
						      &o->policy.critical_percent) < 0) {
				return cli_usage_error(
				    "verify",
				    "--critical-days: '%s' is not a number of days (or N%%)",
				    optarg);
			}
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0) {
				o->json = true;
			} else if (strcmp(optarg, "text") == 0) {
				o->json = false;
			} else {
				return cli_usage_error(
				    "verify", "--format: '%s' is not text or json", optarg);
			}
			break;
		case 'h':
			oa_cmd_verify_usage();
			return -1;
		case ':':
			if (optopt != 0) {
				return cli_usage_error("verify", "option '-%c' needs a value",
						       optopt);
			}
			return cli_usage_error("verify", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			/* getopt sets optopt for a short option, possibly inside a group. */
			if (optopt != 0) {
				return cli_usage_error("verify", "unknown option '-%c'", optopt);
			}
			return cli_usage_error("verify", "unknown or ambiguous option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc) {
		return cli_usage_error("verify", "unexpected argument '%s'", argv[optind]);
	}
	if (o->chain == NULL) {
		return cli_usage_error("verify", "%s", "--chain FILE is required");
	}
	if (!oa_policy_consistent(&o->policy)) {
		char warn[32];
		char critical[32];

		oa_policy_threshold_text(o->policy.warn_days, o->policy.warn_percent,
					 OA_POLICY_DEFAULT_WARN_DAYS, warn, sizeof(warn));
		oa_policy_threshold_text(o->policy.critical_days, o->policy.critical_percent,
					 OA_POLICY_DEFAULT_CRITICAL_DAYS, critical,
					 sizeof(critical));
		fprintf(
		    stderr,
		    "originaudit verify: --critical-days (%s) must not exceed --warn-days (%s)\n",
		    critical, warn);
		return OA_EXIT_ERROR;
	}
	return 0;
}

/* The label of a chain read from standard input, in messages and the text report. */
#define STDIN_LABEL "<stdin>"

/* Loads the chain from its file, or from standard input for "-". */
static int load_chain(const char *path, oa_chain **chain, oa_error *err)
{
	char *data = NULL;
	size_t len = 0;

	if (strcmp(path, "-") != 0) {
		return oa_chain_load_file(path, chain, err);
	}
	/* Bounded as a chain file is. */
	int rc = oa_read_stream(stdin, STDIN_LABEL, &data, &len, err);
	if (rc < 0) {
		return rc;
	}
	rc = oa_chain_from_pem(data, len, STDIN_LABEL, chain, err);
	free(data);
	return rc;
}

static void print_text(const oa_result *r, const oa_trust_store *store, const char *chain_path)
{
	const term_palette *p = term_palette_get(term_colour_wanted(STDOUT_FILENO));
	char when[32];

	printf("%s: %zu certificate(s); trust store %s (%zu roots)\n", chain_path,
	       oa_result_cert_count(r), oa_trust_store_path(store), oa_trust_store_count(store));
	for (int id = 0; id < OA_CHECK_COUNT; id++) {
		const oa_check *c = oa_result_check(r, (oa_check_id)id);

		if (!c->present) {
			continue;
		}
		printf("  %s%-4s%s  %-12s %-22s %s\n", term_status_colour(p, c->status),
		       term_status_tag(c->status), p->reset, oa_check_name((oa_check_id)id),
		       c->reason, c->detail);
		if (c->hint[0] != '\0' && c->status >= OA_STATUS_WARN) {
			printf("        %shint: %s%s\n", p->dim, c->hint, p->reset);
		}
	}
	printf("  chain as sent:\n");
	for (size_t i = 0; i < oa_result_cert_count(r); i++) {
		const oa_cert_info *ci = oa_result_cert(r, i);

		oa_format_time(ci->not_after, when);
		printf("    #%zu %-12s %s (expires %s, %lld days; %s %u)\n", i + 1,
		       oa_cert_role_name(ci->role), ci->subject, when, ci->days_left, ci->key_type,
		       ci->key_bits);
	}
	printf("verdict: %s%s%s\n", term_status_colour(p, oa_result_verdict(r)),
	       term_status_tag(oa_result_verdict(r)), p->reset);
}

static int print_json(const oa_result *r, const oa_trust_store *store)
{
	json_t *doc = oa_result_to_json(r, store);

	if (doc == NULL) {
		fprintf(stderr, "originaudit verify: out of memory\n");
		return -ENOMEM;
	}
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	fputc('\n', stdout);
	return rc < 0 ? -EIO : 0;
}

int oa_cmd_verify(int argc, char **argv)
{
	struct verify_opts o;
	oa_chain *chain = NULL;
	oa_key *key = NULL;
	oa_trust_store *store = NULL;
	oa_result *result = NULL;
	oa_verify_params params;
	oa_error err;
	int status = OA_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	int rc = parse_opts(argc, argv, &o);
	if (rc != 0) {
		return rc < 0 ? OA_EXIT_PASS : rc;
	}
	oa_error_clear(&err);
	const char *bundle = o.ca_bundle != NULL ? o.ca_bundle : oa_default_ca_bundle();
	/* A certificate that does not parse is a verdict (exit 2), not a failure to run. */
	int chain_rc = load_chain(o.chain, &chain, &err);
	oa_error malformed = err;
	if ((chain_rc < 0 && chain_rc != -EPROTO) ||
	    (o.key != NULL && oa_key_load_file(o.key, &key, &err) < 0) ||
	    oa_trust_store_load(bundle, &store, &err) < 0) {
		fprintf(stderr, "originaudit verify: %s\n", err.msg);
		goto out;
	}
	oa_verify_params_init(&params);
	params.names = o.names;
	params.n_names = o.n_names;
	params.at = o.at;
	params.policy = o.policy;
	params.key = key;
	if (chain_rc == -EPROTO ? oa_result_malformed(&params, malformed.msg, &result, &err) < 0
				: oa_verify(chain, store, &params, &result, &err) < 0) {
		fprintf(stderr, "originaudit verify: %s\n", err.msg);
		goto out;
	}
	if (o.json) {
		if (print_json(result, store) < 0) {
			goto out;
		}
	} else {
		print_text(result, store, strcmp(o.chain, "-") == 0 ? STDIN_LABEL : o.chain);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "originaudit verify: writing the report failed\n");
		goto out;
	}
	status = oa_exit_code(oa_result_verdict(result));
out:
	oa_result_destroy(result);
	oa_trust_store_destroy(store);
	oa_key_destroy(key);
	oa_chain_destroy(chain);
	return status;
}
