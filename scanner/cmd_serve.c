/*
 * originaudit serve: an exporter. Scans the configured origins on a
 * schedule (one scan at a time, the interval jittered), and serves over HTTP
 * the last completed scan (/metrics, /report.json, the HTML page at /), one
 * on-demand probe of a configured origin (/probe?target=HOST[:PORT], like
 * blackbox_exporter), and /healthz. SIGHUP reloads the inputs, SIGTERM and
 * SIGINT stop once what is running has finished.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "inputs.h"
#include "originaudit/exitcode.h"
#include "originaudit/http_server.h"
#include "originaudit/scan.h"
#include "originaudit/version.h"
#include "scan_output.h"

#define DEFAULT_INTERVAL_S 300
#define DEFAULT_MAX_PROBES 4
#define OPT_LISTEN 300
#define OPT_INTERVAL 301
#define OPT_MAX_PROBES 302
#define OPT_ANY_TARGET 303

void oa_cmd_serve_usage(void)
{
	printf(
	    "Usage: originaudit serve (--config FILE | --cloudfront FILE... | --terraform "
	    "FILE...)\n"
	    "                         --listen ADDRESS:PORT [OPTIONS]\n"
	    "\n"
	    "An exporter for Prometheus: scans every origin on a schedule (never two scans\n"
	    "at once; the interval jittered by up to 10%%) and serves over HTTP:\n"
	    "  /metrics       the last completed scan's metrics and the exporter's own\n"
	    "  /probe?target=HOST[:PORT][&name=ORIGIN-ID]\n"
	    "                 one on-demand probe of the configured origins at HOST:PORT,\n"
	    "                 exactly as the scan probes them (its metrics only); 403 for\n"
	    "                 a target no origin has, 429 when --max-probes are running\n"
	    "  /report.json   the last completed scan's JSON report\n"
	    "  /              the last completed scan as an HTML page\n"
	    "  /healthz       200 while the exporter runs\n"
	    "SIGHUP reloads the input files (a failed reload keeps the previous ones);\n"
	    "SIGTERM and SIGINT stop once the scan and probes in progress have finished.\n"
	    "\n"
	    "Options:\n"
	    "  -c, --config FILE, --cloudfront FILE, --terraform FILE, --resolve HOST:PORT:ADDR,\n"
	    "  HOST[:PORT] targets, --sni, --host-header\n"
	    "                         the inputs, as for scan (see originaudit scan --help)\n"
	    "      --listen ADDRESS:PORT\n"
	    "                         where to serve (127.0.0.1:9731, [::1]:9731; port 0: any\n"
	    "                         free port, printed on stderr); required\n"
	    "      --interval SECONDS  between scans (default %d; 10-86400)\n"
	    "      --max-probes N     on-demand probes at once (default %d; 1-64)\n"
	    "      --allow-any-target also probe targets no configured origin has, with\n"
	    "                         CloudFront's defaults (off: no open scanning service)\n"
	    "      --ca-bundle FILE   trusted roots (default: scan.ca_bundle, else the bundled\n"
	    "                         Mozilla list)\n"
	    "      --concurrency N    probes in flight per scan (default: scan.concurrency, 64)\n"
	    "  -h, --help             show this help\n"
	    "\n"
	    "Exit codes: 0 stopped by a signal, 3 could not start (bad usage included).\n",
	    DEFAULT_INTERVAL_S, DEFAULT_MAX_PROBES);
}

/* The outcomes of /probe, for originaudit_exporter_probe_requests_total{result}. */
enum { PROBE_OK, PROBE_REFUSED, PROBE_FORBIDDEN, PROBE_BAD, PROBE_ERROR, PROBE_RESULTS };
static const char *const probe_results[PROBE_RESULTS] = {"ok", "too_many", "forbidden",
							 "bad_request", "error"};

/* One loaded set of inputs; reports and probes hold a reference while they use it. */
struct generation {
	oa_config_list configs;
	oa_trust_store *store;
	size_t n_origins;
	int refs;
};

struct exporter {
	uv_loop_t *loop;
	struct scan_inputs *in;
	const char *ca_bundle;
	long concurrency;
	unsigned interval_s;
	unsigned max_probes;
	bool allow_any_target;
	struct generation *gen;
	oa_http_server *server;
	uv_timer_t timer;
	uv_signal_t sighup;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	bool scanning;
	bool stopping;
	/* The last completed scan, and its forms rendered once. */
	oa_scan_report *report;
	struct generation *report_gen;
	char *prom;
	size_t prom_len;
	char *json;
	size_t json_len;
	char *html;
	size_t html_len;
	/* Counters for the exporter's own metrics. */
	unsigned long long scans;
	unsigned long long scan_failures;
	unsigned long long reloads;
	unsigned long long reload_failures;
	unsigned long long probe_requests[PROBE_RESULTS];
	unsigned probes_in_flight;
};

static void gen_unref(struct generation *g)
{
	if (g != NULL && --g->refs == 0) {
		oa_config_list_clear(&g->configs);
		oa_trust_store_destroy(g->store);
		free(g);
	}
}

/* Reads the inputs and the trust store; NULL with the error written to stderr. */
static struct generation *gen_load(const struct exporter *x)
{
	struct generation *g = calloc(1, sizeof(*g));
	oa_error err;

	if (g == NULL) {
		fprintf(stderr, "originaudit serve: out of memory\n");
		return NULL;
	}
	g->refs = 1;
	if (scan_inputs_build("serve", x->in, &g->configs) != 0) {
		gen_unref(g);
		return NULL;
	}
	const char *bundle = x->ca_bundle;
	if (bundle == NULL) {
		bundle = g->configs.items[0]->scan.ca_bundle != NULL
			     ? g->configs.items[0]->scan.ca_bundle
			     : oa_default_ca_bundle();
	}
	oa_error_clear(&err);
	if (oa_trust_store_load(bundle, &g->store, &err) < 0) {
		fprintf(stderr, "originaudit serve: %s\n", err.msg);
		gen_unref(g);
		return NULL;
	}
	for (size_t i = 0; i < g->configs.n; i++) {
		g->n_origins += g->configs.items[i]->n_origins;
	}
	return g;
}

static void scan_options(const struct exporter *x, const struct generation *g,
			 oa_scan_options *opts)
{
	oa_scan_options_from_config(opts, g->configs.items[0]);
	if (x->concurrency > 0) {
		opts->concurrency = (unsigned)x->concurrency;
	}
}

/* Renders a writer's output into *text; 0 or -ENOMEM/-EIO. */
static int render(const oa_scan_report *r, oa_scan_format format, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	int rc;

	if (f == NULL) {
		return -ENOMEM;
	}
	rc = scan_write_format(r, format, f, false);
	if (fclose(f) != 0 && rc == 0) {
		rc = -EIO;
	}
	if (rc < 0) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return rc;
}

static void start_scan(struct exporter *x);

static void on_timer(uv_timer_t *timer)
{
	start_scan(timer->data);
}

/* The next scan in interval_s, give or take up to 10% so many exporters do not align. */
static void schedule_next(struct exporter *x)
{
	if (x->stopping) {
		return;
	}
	double jitter = 0.9 + 0.2 * ((double)random() / (double)RAND_MAX);
	uint64_t ms = (uint64_t)((double)x->interval_s * 1000.0 * jitter);

	uv_timer_start(&x->timer, on_timer, ms, 0);
}

struct scan_job {
	struct exporter *x;
	struct generation *gen;
};

static void on_scan_done(oa_scan_report *report, int status, void *data)
{
	struct scan_job *job = data;
	struct exporter *x = job->x;
	char *prom = NULL, *json = NULL, *html = NULL;
	size_t prom_len = 0, json_len = 0, html_len = 0;

	x->scanning = false;
	x->scans++;
	if (status < 0 || render(report, OA_SCAN_FORMAT_PROMETHEUS, &prom, &prom_len) < 0 ||
	    render(report, OA_SCAN_FORMAT_JSON, &json, &json_len) < 0 ||
	    render(report, OA_SCAN_FORMAT_HTML, &html, &html_len) < 0) {
		fprintf(stderr, "originaudit serve: the scan failed: %s\n",
			strerror(status < 0 ? -status : ENOMEM));
		x->scan_failures++;
		free(prom);
		free(json);
		oa_scan_report_destroy(report);
		gen_unref(job->gen);
	} else {
		fprintf(stderr,
			"originaudit serve: scan: %zu origin(s): %zu pass, %zu warn, %zu fail, %zu "
			"error, %zu skipped (%.2f s)\n",
			report->n_origins, report->counts[OA_STATUS_PASS],
			report->counts[OA_STATUS_WARN], report->counts[OA_STATUS_FAIL],
			report->counts[OA_STATUS_ERROR], report->counts[OA_STATUS_SKIP],
			report->duration_s);
		oa_scan_report_destroy(x->report);
		gen_unref(x->report_gen);
		free(x->prom);
		free(x->json);
		free(x->html);
		x->report = report;
		x->report_gen = job->gen;
		x->prom = prom;
		x->prom_len = prom_len;
		x->json = json;
		x->json_len = json_len;
		x->html = html;
		x->html_len = html_len;
	}
	free(job);
	schedule_next(x);
}

static void start_scan(struct exporter *x)
{
	struct scan_job *job;
	oa_scan_options opts;

	if (x->scanning || x->stopping) {
		return;
	}
	job = malloc(sizeof(*job));
	if (job == NULL) {
		x->scan_failures++;
		schedule_next(x);
		return;
	}
	job->x = x;
	job->gen = x->gen;
	job->gen->refs++;
	scan_options(x, job->gen, &opts);
	int rc = oa_scan_start_many(x->loop, (const oa_config *const *)job->gen->configs.items,
				    job->gen->configs.n, job->gen->store, &opts, on_scan_done, job);
	if (rc < 0) {
		fprintf(stderr, "originaudit serve: the scan failed: %s\n", strerror(-rc));
		x->scan_failures++;
		gen_unref(job->gen);
		free(job);
		schedule_next(x);
		return;
	}
	x->scanning = true;
}

/* ---- HTTP ---- */

static void respond_text(oa_http_request *req, int status, const char *text)
{
	oa_http_respond(req, status, "text/plain; charset=utf-8", NULL, text, strlen(text));
}

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

static void serve_metrics(struct exporter *x, oa_http_request *req)
{
	char *own = NULL;
	size_t own_len = 0;
	FILE *f = open_memstream(&own, &own_len);

	if (f == NULL) {
		respond_text(req, 500, "out of memory\n");
		return;
	}
	if (x->prom != NULL) {
		fwrite(x->prom, 1, x->prom_len, f);
	}
	fprintf(f,
		"# HELP originaudit_exporter_scans_total Scans the exporter has completed or "
		"failed.\n# TYPE originaudit_exporter_scans_total counter\n"
		"originaudit_exporter_scans_total %llu\n"
		"# HELP originaudit_exporter_scan_failures_total Scans that could not run.\n"
		"# TYPE originaudit_exporter_scan_failures_total counter\n"
		"originaudit_exporter_scan_failures_total %llu\n"
		"# HELP originaudit_exporter_reloads_total Reloads of the inputs (SIGHUP) by "
		"result.\n# TYPE originaudit_exporter_reloads_total counter\n"
		"originaudit_exporter_reloads_total{result=\"success\"} %llu\n"
		"originaudit_exporter_reloads_total{result=\"failure\"} %llu\n"
		"# HELP originaudit_exporter_probe_requests_total /probe requests by "
		"result.\n# TYPE originaudit_exporter_probe_requests_total counter\n",
		x->scans, x->scan_failures, x->reloads, x->reload_failures);
	for (size_t i = 0; i < PROBE_RESULTS; i++) {
		fprintf(f, "originaudit_exporter_probe_requests_total{result=\"%s\"} %llu\n",
			probe_results[i], x->probe_requests[i]);
	}
	fprintf(f,
		"# HELP originaudit_exporter_probes_in_flight On-demand probes running now.\n"
		"# TYPE originaudit_exporter_probes_in_flight gauge\n"
		"originaudit_exporter_probes_in_flight %u\n"
		"# HELP originaudit_exporter_origins Origins of the loaded inputs.\n"
		"# TYPE originaudit_exporter_origins gauge\n"
		"originaudit_exporter_origins %zu\n",
		x->probes_in_flight, x->gen->n_origins);
	if (fclose(f) != 0) {
		free(own);
		respond_text(req, 500, "out of memory\n");
		return;
	}
	oa_http_respond(req, 200, PROM_TYPE, NULL, own, own_len);
	free(own);
}

/* What /probe looks for among the origins of the loaded inputs. */
struct probe_target {
	const char *host;
	unsigned port;
	/* name=: an origin id (or the report's DISTRIBUTION/ID); NULL: every origin at host:port.
	 */
	const char *name;
};

static bool target_matches(const oa_config *config, const oa_origin_config *o, void *data)
{
	const struct probe_target *t = data;
	unsigned port = o->protocol_policy == OA_ORIGIN_HTTP_ONLY ? o->http_port : o->https_port;

	if (o->s3 || o->unresolved != NULL || strcasecmp(o->domain_name, t->host) != 0 ||
	    port != t->port) {
		return false;
	}
	if (t->name == NULL || strcmp(t->name, o->id) == 0) {
		return true;
	}
	/* The report's key of an origin among several distributions. */
	size_t dlen = config->distribution != NULL ? strlen(config->distribution) : 0;
	return dlen > 0 && strncmp(t->name, config->distribution, dlen) == 0 &&
	       t->name[dlen] == '/' && strcmp(t->name + dlen + 1, o->id) == 0;
}

struct probe_job {
	struct exporter *x;
	struct generation *gen;
	/* An ad-hoc target's own configuration (--allow-any-target), or NULL. */
	oa_config *adhoc;
	oa_http_request *req;
	struct probe_target target;
	char host[256];
	char name[256];
};

static void on_probe_done(oa_scan_report *report, int status, void *data)
{
	struct probe_job *job = data;
	struct exporter *x = job->x;
	char *text = NULL;
	size_t len = 0;

	x->probes_in_flight--;
	if (status < 0 || render(report, OA_SCAN_FORMAT_PROMETHEUS, &text, &len) < 0) {
		x->probe_requests[PROBE_ERROR]++;
		respond_text(job->req, 500, "the probe failed\n");
	} else {
		oa_http_respond(job->req, 200, PROM_TYPE, NULL, text, len);
		x->probe_requests[PROBE_OK]++;
	}
	free(text);
	oa_scan_report_destroy(report);
	oa_config_destroy(job->adhoc);
	gen_unref(job->gen);
	free(job);
}

static void serve_probe(struct exporter *x, oa_http_request *req)
{
	char target[300];
	char msg[sizeof(((oa_error *)0)->msg) + 400];
	oa_error err;

	if (oa_http_request_param(req, "target", target, sizeof(target)) == NULL ||
	    target[0] == '\0') {
		x->probe_requests[PROBE_BAD]++;
		respond_text(req, 400, "missing target: /probe?target=HOST[:PORT]\n");
		return;
	}
	/* The target's syntax, name and port as CloudFront's rules read them. */
	const char *targets[] = {target};
	oa_target_options topts = {NULL, NULL, 0};
	oa_config *adhoc = NULL;
	oa_error_clear(&err);
	if (oa_config_from_targets(targets, 1, &topts, &adhoc, &err) < 0) {
		x->probe_requests[PROBE_BAD]++;
		snprintf(msg, sizeof(msg), "%s\n", err.msg);
		respond_text(req, 400, msg);
		return;
	}
	struct probe_job *job = calloc(1, sizeof(*job));
	if (job == NULL) {
		oa_config_destroy(adhoc);
		x->probe_requests[PROBE_ERROR]++;
		respond_text(req, 500, "out of memory\n");
		return;
	}
	job->x = x;
	job->req = req;
	snprintf(job->host, sizeof(job->host), "%s", adhoc->origins[0].domain_name);
	job->target.host = job->host;
	job->target.port = adhoc->origins[0].https_port;
	if (oa_http_request_param(req, "name", job->name, sizeof(job->name)) != NULL &&
	    job->name[0] != '\0') {
		job->target.name = job->name;
	}
	size_t matches = 0;
	for (size_t d = 0; d < x->gen->configs.n; d++) {
		const oa_config *c = x->gen->configs.items[d];

		for (size_t i = 0; i < c->n_origins; i++) {
			matches += target_matches(c, &c->origins[i], &job->target);
		}
	}
	if (matches == 0 && !x->allow_any_target) {
		oa_config_destroy(adhoc);
		free(job);
		x->probe_requests[PROBE_FORBIDDEN]++;
		snprintf(msg, sizeof(msg),
			 "target %s is not a configured origin (originaudit serve "
			 "--allow-any-target probes others)\n",
			 target);
		respond_text(req, 403, msg);
		return;
	}
	if (x->probes_in_flight >= x->max_probes) {
		oa_config_destroy(adhoc);
		free(job);
		x->probe_requests[PROBE_REFUSED]++;
		oa_http_respond(req, 429, "text/plain; charset=utf-8", "Retry-After: 5\r\n",
				"too many probes at once\n", 24);
		return;
	}
	job->gen = x->gen;
	job->gen->refs++;
	oa_scan_options opts;
	scan_options(x, job->gen, &opts);
	int rc;
	if (matches > 0) {
		oa_config_destroy(adhoc);
		opts.select = target_matches;
		opts.select_data = &job->target;
		rc = oa_scan_start_many(x->loop, (const oa_config *const *)job->gen->configs.items,
					job->gen->configs.n, job->gen->store, &opts, on_probe_done,
					job);
	} else {
		job->adhoc = adhoc;
		rc = oa_scan_start(x->loop, adhoc, job->gen->store, &opts, on_probe_done, job);
	}
	if (rc < 0) {
		oa_config_destroy(job->adhoc);
		gen_unref(job->gen);
		free(job);
		x->probe_requests[PROBE_ERROR]++;
		respond_text(req, 500, "the probe could not start\n");
		return;
	}
	x->probes_in_flight++;
}

static void on_request(oa_http_request *req, void *data)
{
	struct exporter *x = data;
	const char *method = oa_http_request_method(req);
	const char *path = oa_http_request_path(req);

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		oa_http_respond(req, 405, "text/plain; charset=utf-8", "Allow: GET, HEAD\r\n",
				"method not allowed\n", 19);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		serve_metrics(x, req);
	} else if (strcmp(path, "/probe") == 0) {
		serve_probe(x, req);
	} else if (strcmp(path, "/healthz") == 0) {
		respond_text(req, 200, "ok\n");
	} else if (strcmp(path, "/report.json") == 0) {
		if (x->json == NULL) {
			respond_text(req, 503, "no scan has completed yet\n");
		} else {
			oa_http_respond(req, 200, "application/json", NULL, x->json, x->json_len);
		}
	} else if (strcmp(path, "/") == 0) {
		if (x->html == NULL) {
			static const char wait[] =
			    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta "
			    "http-equiv=\"refresh\" content=\"5\"><title>originaudit</title></head>"
			    "<body><p>The first scan is running.</p></body></html>\n";
			oa_http_respond(req, 200, "text/html; charset=utf-8", NULL, wait,
					sizeof(wait) - 1);
		} else {
			oa_http_respond(req, 200, "text/html; charset=utf-8", NULL, x->html,
					x->html_len);
		}
	} else {
		respond_text(req, 404,
			     "not found: /metrics, /probe?target=HOST[:PORT], "
			     "/report.json, /healthz or /\n");
	}
}

/* ---- signals ---- */

static void on_sighup(uv_signal_t *handle, int signum)
{
	struct exporter *x = handle->data;
	struct generation *g = gen_load(x);

	if (g == NULL) {
		x->reload_failures++;
		fprintf(stderr, "originaudit serve: reload failed: keeping the previous inputs\n");
		return;
	}
	x->reloads++;
	gen_unref(x->gen);
	x->gen = g;
	fprintf(stderr, "originaudit serve: reloaded: %zu distribution(s), %zu origin(s)\n",
		g->configs.n, g->n_origins);
	if (!x->scanning) {
		uv_timer_stop(&x->timer);
		start_scan(x);
	}
}

static void on_stop(uv_signal_t *handle, int signum)
{
	struct exporter *x = handle->data;

	if (x->stopping) {
		return;
	}
	fprintf(stderr, "originaudit serve: stopping (%s)\n",
		signum == SIGTERM ? "SIGTERM" : "SIGINT");
	x->stopping = true;
	oa_http_server_close(x->server);
	x->server = NULL;
	uv_close((uv_handle_t *)&x->timer, NULL);
	uv_close((uv_handle_t *)&x->sighup, NULL);
	uv_close((uv_handle_t *)&x->sigterm, NULL);
	uv_close((uv_handle_t *)&x->sigint, NULL);
	/* The loop ends once the scan and the probes in progress have answered. */
}

/* ---- the command ---- */

/* Parses --listen ADDRESS:PORT ([IPv6]:PORT); false when malformed. */
static bool parse_listen(const char *spec, char *address, size_t size, unsigned *port)
{
	const char *colon;
	const char *host = spec;
	size_t len;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':') {
			return false;
		}
		host = spec + 1;
		len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL) {
			return false;
		}
		len = (size_t)(colon - spec);
	}
	if (len == 0 || len >= size) {
		return false;
	}
	memcpy(address, host, len);
	address[len] = '\0';
	char *end = NULL;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || p < 0 || p > 65535) {
		return false;
	}
	*port = (unsigned)p;
	return true;
}

/* A number option in [min, max]; false when it is not one. */
static bool parse_number(const char *s, long min, long max, long *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= min && *out <= max;
}

static int parse_serve_opts(int argc, char **argv, struct exporter *x, const char **listen)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"cloudfront", required_argument, NULL, OPT_CF},
	    {"terraform", required_argument, NULL, OPT_TF},
	    {"resolve", required_argument, NULL, OPT_RESOLVE},
	    {"sni", required_argument, NULL, OPT_SNI},
	    {"host-header", required_argument, NULL, OPT_HOST},
	    {"listen", required_argument, NULL, OPT_LISTEN},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"max-probes", required_argument, NULL, OPT_MAX_PROBES},
	    {"allow-any-target", no_argument, NULL, OPT_ANY_TARGET},
	    {"ca-bundle", required_argument, NULL, OPT_CA},
	    {"concurrency", required_argument, NULL, OPT_CONC},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long n;
	int c;
	int rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 'c':
		case OPT_CF:
		case OPT_TF:
		case OPT_RESOLVE:
		case OPT_SNI:
		case OPT_HOST:
			rc = scan_inputs_option("serve", c, x->in);
			break;
		case OPT_LISTEN:
			*listen = optarg;
			break;
		case OPT_INTERVAL:
			if (!parse_number(optarg, 10, 86400, &n)) {
				return cli_usage_error("serve", "--interval: '%s' is not 10-86400",
						       optarg);
			}
			x->interval_s = (unsigned)n;
			break;
		case OPT_MAX_PROBES:
			if (!parse_number(optarg, 1, 64, &n)) {
				return cli_usage_error("serve", "--max-probes: '%s' is not 1-64",
						       optarg);
			}
			x->max_probes = (unsigned)n;
			break;
		case OPT_ANY_TARGET:
			x->allow_any_target = true;
			break;
		case OPT_CA:
			x->ca_bundle = optarg;
			break;
		case OPT_CONC:
			if (!parse_number(optarg, 1, 100000, &x->concurrency)) {
				return cli_usage_error(
				    "serve", "--concurrency: '%s' is not 1-100000", optarg);
			}
			break;
		case 'h':
			oa_cmd_serve_usage();
			return -1;
		default:
			return cli_bad_option("serve", argv);
		}
		if (rc != 0) {
			return rc;
		}
	}
	x->in->targets = (const char *const *)argv + optind;
	x->in->n_targets = (size_t)(argc - optind);
	if (*listen == NULL) {
		return cli_usage_error("serve", "--listen ADDRESS:PORT is required");
	}
	return scan_inputs_check("serve", x->in);
}

static void free_exporter(struct exporter *x)
{
	oa_scan_report_destroy(x->report);
	gen_unref(x->report_gen);
	gen_unref(x->gen);
	free(x->prom);
	free(x->json);
	free(x->html);
	free(x->in);
}

int oa_cmd_serve(int argc, char **argv)
{
	struct exporter x;
	const char *listen = NULL;
	char address[64];
	unsigned port = 0;
	uv_loop_t loop;
	oa_error err;

	memset(&x, 0, sizeof(x));
	x.interval_s = DEFAULT_INTERVAL_S;
	x.max_probes = DEFAULT_MAX_PROBES;
	x.in = calloc(1, sizeof(*x.in));
	if (x.in == NULL) {
		fprintf(stderr, "originaudit serve: out of memory\n");
		return OA_EXIT_ERROR;
	}
	int status = parse_serve_opts(argc, argv, &x, &listen);
	if (status != 0) {
		free(x.in);
		return status < 0 ? OA_EXIT_PASS : status;
	}
	if (!parse_listen(listen, address, sizeof(address), &port)) {
		free(x.in);
		return cli_usage_error("serve", "--listen: '%s' is not ADDRESS:PORT ([IPv6]:PORT)",
				       listen);
	}
	x.gen = gen_load(&x);
	if (x.gen == NULL) {
		free(x.in);
		return OA_EXIT_ERROR;
	}
	if (uv_loop_init(&loop) < 0) {
		fprintf(stderr, "originaudit serve: cannot start the event loop\n");
		free_exporter(&x);
		return OA_EXIT_ERROR;
	}
	x.loop = &loop;
	oa_http_server_opts hopts = {0, 0, 0, "--listen"};
	oa_error_clear(&err);
	if (oa_http_server_start(&loop, address, port, &hopts, on_request, &x, &x.server, &err) <
	    0) {
		fprintf(stderr, "originaudit serve: %s\n", err.msg);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		free_exporter(&x);
		return OA_EXIT_ERROR;
	}
	/* A client that leaves mid-answer is a write error, not a signal that ends the exporter. */
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	uv_timer_init(&loop, &x.timer);
	x.timer.data = &x;
	uv_signal_init(&loop, &x.sighup);
	uv_signal_init(&loop, &x.sigterm);
	uv_signal_init(&loop, &x.sigint);
	x.sighup.data = x.sigterm.data = x.sigint.data = &x;
	uv_signal_start(&x.sighup, on_sighup, SIGHUP);
	uv_signal_start(&x.sigterm, on_stop, SIGTERM);
	uv_signal_start(&x.sigint, on_stop, SIGINT);
	fprintf(stderr,
		"originaudit serve: listening on http://%s%s%s:%u/ (%zu distribution(s), %zu "
		"origin(s), a scan every %u s)\n",
		strchr(address, ':') ? "[" : "", address, strchr(address, ':') ? "]" : "",
		oa_http_server_port(x.server), x.gen->configs.n, x.gen->n_origins, x.interval_s);
	start_scan(&x);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	free_exporter(&x);
	return OA_EXIT_PASS;
}
