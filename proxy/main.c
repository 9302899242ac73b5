/*
 * originaudit-proxy: a reverse proxy that forwards like CloudFront's edge and
 * applies the core's certificate checks on every origin connection, failing
 * closed with 502.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "originaudit/exitcode.h"
#include "originaudit/version.h"
#include "supervisor.h"

static void usage(void)
{
	printf("Usage: originaudit-proxy --config FILE [--check] [--header-timeout-ms N]\n"
	       "\n"
	       "Serves viewers on the listeners of the configuration's \"proxy\" block, routes\n"
	       "each request through the cache behaviours to an origin like CloudFront's edge,\n"
	       "and checks every HTTPS origin connection with originaudit's certificate checks:\n"
	       "a failing origin gets no request and the viewer gets 502 Bad Gateway with\n"
	       "X-Cache: Error from <x_cache_name>. Cacheable GET/HEAD responses are kept in\n"
	       "memory (X-Cache: Hit, Age).\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE          configuration (the scanner's format + \"proxy\")\n"
	       "      --check                validate the configuration, the CA bundle and the\n"
	       "                             listener certificates, then exit\n"
	       "      --header-timeout-ms N  time allowed for a request's headers (10000)\n"
	       "  -h, --help                 show this help\n"
	       "  -V, --version              show the version\n"
	       "\n"
	       "Processes: the supervisor binds every listener (a port in use: exit 3), then\n"
	       "starts proxy.workers workers (default: one per CPU) that accept from those\n"
	       "sockets, and restarts any that dies; it audits the origins every\n"
	       "proxy.audit_interval_s and serves proxy.admin (/metrics, /healthz, /origins).\n"
	       "Signals: SIGHUP reloads the configuration and CA bundle (an invalid file is\n"
	       "refused and the old one keeps serving); SIGTERM/SIGINT stop accepting and\n"
	       "finish in-flight requests within proxy.drain_timeout_s, then exit 0; SIGUSR1\n"
	       "reopens proxy.access_log.\n"
	       "Logs go to stderr; with proxy.access_log, one JSON line per request goes there.\n"
	       "Reference: docs/proxy-operations.md.\n"
	       "Exit codes: 0 clean exit (or valid with --check), 3 could not run.\n");
}

/* "5,6,7" (--listen-fds) into fds; the count, or -1 when it is not such a list. */
static long parse_fd_list(const char *text, int *fds, size_t max)
{
	const char *p = text;
	size_t n = 0;

	for (;;) {
		char *end = NULL;
		long fd = strtol(p, &end, 10);

		if (end == p || fd < 0 || fd > INT_MAX || n == max) {
			return -1;
		}
		fds[n++] = (int)fd;
		if (*end == '\0') {
			return (long)n;
		}
		if (*end != ',') {
			return -1;
		}
		p = end + 1;
	}
}

int main(int argc, char **argv)
{
	enum {
		OPT_CHECK = 256,
		OPT_HEADER_TIMEOUT,
		OPT_WORKER,
		OPT_METRICS_FD,
		OPT_CONFIG_FD,
		OPT_LISTEN_FDS
	};
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"header-timeout-ms", required_argument, NULL, OPT_HEADER_TIMEOUT},
	    /* Internal: how the supervisor starts a worker. */
	    {"worker", required_argument, NULL, OPT_WORKER},
	    {"metrics-fd", required_argument, NULL, OPT_METRICS_FD},
	    {"config-fd", required_argument, NULL, OPT_CONFIG_FD},
	    {"listen-fds", required_argument, NULL, OPT_LISTEN_FDS},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool check = false;
	long header_timeout = 10000;
	long worker = -1;
	long metrics_fd = -1;
	long config_fd = -1;
	static int listen_fds[PX_MAX_LISTENERS];
	long n_listen_fds = -1;
	int snapshot = -1;
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
		case OPT_CONFIG_FD:
			config_fd = strtol(optarg, NULL, 10);
			break;
		case OPT_LISTEN_FDS:
			n_listen_fds = parse_fd_list(optarg, listen_fds, PX_MAX_LISTENERS);
			if (n_listen_fds < 0) {
				fprintf(stderr,
					"originaudit-proxy: --listen-fds: '%s' is not a list "
					"of descriptors\n",
					optarg);
				return OA_EXIT_ERROR;
			}
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
		/*
		 * A reload or log rotation asked for before the worker's handlers are
		 * installed must not kill it (their default action): it loads the
		 * configuration and opens the log at start anyway.
		 */
		signal(SIGHUP, SIG_IGN);
		signal(SIGUSR1, SIG_IGN);
		px_worker_opts opts = {
		    .index = (unsigned)worker,
		    .metrics_fd = (int)metrics_fd,
		    .config_fd = (int)config_fd,
		    .listen_fds = n_listen_fds >= 0 ? listen_fds : NULL,
		    .n_listen_fds = n_listen_fds >= 0 ? (size_t)n_listen_fds : 0,
		    .header_timeout_ms = (unsigned)header_timeout,
		};

		return px_worker_main(config_path, &opts);
	}
	oa_error_clear(&err);
	/* What is validated here is what every worker reads, even if the file changes. */
	if ((!check && px_config_snapshot(config_path, &snapshot, &err) < 0) ||
	    px_gen_load(config_path, snapshot, &gen, &err) < 0) {
		fprintf(stderr, "originaudit-proxy: %s\n", err.msg);
		if (snapshot >= 0) {
			close(snapshot);
		}
		return OA_EXIT_ERROR;
	}
	if (check) {
		const oa_config *config = gen->config;

		printf("%s: valid: %zu listener(s), %zu origin(s), %zu behavior(s)\n", config_path,
		       config->proxy.n_listen, config->n_origins, config->n_behaviors);
		px_gen_unref(gen);
		return OA_EXIT_PASS;
	}
	return px_supervisor_main(config_path, gen, snapshot, (unsigned)header_timeout);
}
