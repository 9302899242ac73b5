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
#include "proxy.h"

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

static uv_signal_t sigint;
static uv_signal_t sigterm;

static void on_signal(uv_signal_t *handle, int signum)
{
	px_server *srv = handle->data;

	px_log("signal %d: stopping", signum);
	px_server_stop(srv);
	uv_close((uv_handle_t *)&sigint, NULL);
	uv_close((uv_handle_t *)&sigterm, NULL);
}

static int check_listeners(const oa_config *config)
{
	for (size_t i = 0; i < config->proxy.n_listen; i++) {
		const oa_listen_config *l = &config->proxy.listen[i];
		gnutls_certificate_credentials_t cred;
		int rc;

		if (!l->tls) {
			continue;
		}
		if (gnutls_certificate_allocate_credentials(&cred) < 0) {
			return -1;
		}
		rc = gnutls_certificate_set_x509_key_file(cred, l->certificate, l->key,
							  GNUTLS_X509_FMT_PEM);
		gnutls_certificate_free_credentials(cred);
		if (rc < 0) {
			fprintf(stderr, "originaudit-proxy: proxy.listen[%zu].tls: %s / %s: %s\n",
				i, l->certificate, l->key, gnutls_strerror(rc));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_HEADER_TIMEOUT };
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"header-timeout-ms", required_argument, NULL, OPT_HEADER_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool check = false;
	long header_timeout = 10000;
	oa_config *config = NULL;
	oa_trust_store *store = NULL;
	px_server srv;
	uv_loop_t *loop = uv_default_loop();
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
	oa_error_clear(&err);
	if (oa_config_load_file(config_path, &config, &err) < 0) {
		fprintf(stderr, "originaudit-proxy: %s\n", err.msg);
		return OA_EXIT_ERROR;
	}
	if (!config->proxy.present) {
		fprintf(stderr, "originaudit-proxy: %s: proxy: missing the \"proxy\" block\n",
			config_path);
		oa_config_destroy(config);
		return OA_EXIT_ERROR;
	}
	const char *bundle =
	    config->proxy.ca_bundle ? config->proxy.ca_bundle : oa_default_ca_bundle();
	if (oa_trust_store_load(bundle, &store, &err) < 0 || check_listeners(config) < 0) {
		if (err.msg[0] != '\0') {
			fprintf(stderr, "originaudit-proxy: %s\n", err.msg);
		}
		oa_trust_store_destroy(store);
		oa_config_destroy(config);
		return OA_EXIT_ERROR;
	}
	if (check) {
		printf("%s: valid: %zu listener(s), %zu origin(s), %zu behavior(s)\n", config_path,
		       config->proxy.n_listen, config->n_origins, config->n_behaviors);
		oa_trust_store_destroy(store);
		oa_config_destroy(config);
		return OA_EXIT_PASS;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&srv, 0, sizeof(srv));
	srv.header_timeout_ms = (unsigned)header_timeout;
	if (px_server_start(&srv, loop, config, store, &err) < 0) {
		fprintf(stderr, "originaudit-proxy: %s\n", err.msg);
		px_server_stop(&srv);
		uv_run(loop, UV_RUN_DEFAULT);
		oa_trust_store_destroy(store);
		oa_config_destroy(config);
		return OA_EXIT_ERROR;
	}
	uv_signal_init(loop, &sigint);
	uv_signal_init(loop, &sigterm);
	sigint.data = &srv;
	sigterm.data = &srv;
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_run(loop, UV_RUN_DEFAULT);
	px_log("stopped after %llu request(s)", (unsigned long long)srv.requests);
	for (size_t i = 0; i < srv.n_listeners; i++) {
		if (srv.listeners[i].cred != NULL) {
			gnutls_certificate_free_credentials(srv.listeners[i].cred);
		}
	}
	free(srv.listeners);
	uv_loop_close(loop);
	oa_trust_store_destroy(store);
	oa_config_destroy(config);
	return OA_EXIT_PASS;
}
