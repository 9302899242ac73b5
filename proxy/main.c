/*
 * originaudit-proxy: a reverse proxy that forwards like CloudFront's edge and
 * applies the core's certificate checks on every origin connection, failing
 * closed with 502.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/exitcode.h"
#include "originaudit/version.h"
#include "supervisor.h"

static void usage(void)
{
	printf("Usage: originaudit-proxy --config FILE [--check]\n"
	       "\n"
	       "Serves viewers on the listeners of the configuration's \"proxy\" block, routes\n"
	       "each request through the cache behaviours to an origin like CloudFront's edge,\n"
	       "and checks every HTTPS origin connection with originaudit's certificate checks:\n"
	       "a failing origin gets no request and the viewer gets 502 Bad Gateway with\n"
	       "X-Cache: Error from <x_cache_name>.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE          configuration (the scanner's format + \"proxy\")\n"
	       "      --check                validate the configuration and the listener\n"
	       "                             certificates, then exit\n"
	       "      --header-timeout-ms N  time allowed for a request's headers (10000)\n"
	       "  -h, --help                 show this help\n"
	       "  -V, --version              show the version\n"
	       "\n"
	       "Logs go to stderr, one line per request. SIGINT/SIGTERM stop listening and exit\n"
	       "once in-flight requests are done.\n"
	       "Exit codes: 0 clean exit (or valid with --check), 3 could not run.\n");
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_HEADER_TIMEOUT, OPT_WORKER, OPT_METRICS_FD };
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"header-timeout-ms", required_argument, NULL, OPT_HEADER_TIMEOUT},
	    /* Internal: how the supervisor starts a worker. */
	    {"worker", required_argument, NULL, OPT_WORKER},
	    {"metrics-fd", required_argument, NULL, OPT_METRICS_FD},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool check = false;
	long header_timeout = 10000;
	long worker = -1;
	long metrics_fd = -1;
	px_gen *gen = NULL;
	oa_error err;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case OPT_CHECK:
			check = true;
			break;
		case OPT_HEADER_TIMEOUT: {
			char *end = NULL;

			header_timeout = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || header_timeout < 1 ||
			    header_timeout > 600000) {
				fprintf(stderr,
					"originaudit-proxy: --header-timeout-ms: '%s' is not "
					"1-600000\n",
					optarg);
				return OA_EXIT_ERROR;
			}
			break;
		}
		case OPT_WORKER:
			worker = strtol(optarg, NULL, 10);
			break;
		case OPT_METRICS_FD:
			metrics_fd = strtol(optarg, NULL, 10);
			break;
		case 'h':
			usage();
			return OA_EXIT_PASS;
		case 'V':
			printf("originaudit-proxy %s\n", oa_version());
			return OA_EXIT_PASS;
		default:
			fprintf(stderr,
				"originaudit-proxy: unknown option or missing value '%s' (see "
				"originaudit-proxy --help)\n",
				optopt ? (char[]){'-', (char)optopt, '\0'} : argv[optind - 1]);
			return OA_EXIT_ERROR;
		}
	}
	if (config_path == NULL || optind < argc) {
		fprintf(stderr, "originaudit-proxy: --config FILE is required (see "
				"originaudit-proxy --help)\n");
		return OA_EXIT_ERROR;
	}
	signal(SIGPIPE, SIG_IGN);
	if (worker >= 0) {
		return px_worker_main(config_path, (unsigned)worker, (int)metrics_fd,
				      (unsigned)header_timeout);
	}
	oa_error_clear(&err);
	if (px_gen_load(config_path, &gen, &err) < 0) {
		fprintf(stderr, "originaudit-proxy: %s\n", err.msg);
		return OA_EXIT_ERROR;
	}
	if (check) {
		const oa_config *config = gen->config;

		printf("%s: valid: %zu listener(s), %zu origin(s), %zu behavior(s)\n", config_path,
		       config->proxy.n_listen, config->n_origins, config->n_behaviors);
		px_gen_unref(gen);
		return OA_EXIT_PASS;
	}
	return px_supervisor_main(config_path, gen, (unsigned)header_timeout);
}
