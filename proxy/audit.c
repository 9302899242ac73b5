/*
 * The supervisor's live audit of the origins: every audit_interval_s, the
 * scanner's engine (oa_scan_start, the same code as `originaudit scan`)
 * probes every origin on the supervisor's loop. The latest result is kept
 * rendered: the scanner's JSON report for /origins, its Prometheus families
 * and a verdict per origin for /metrics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "originaudit/scan.h"
#include "supervisor.h"

static void audit_free_results(px_audit *a)
{
	free(a->json);
	free(a->prometheus);
	for (size_t i = 0; i < a->n_verdicts; i++) {
		free(a->verdicts[i].origin);
	}
	free(a->verdicts);
	a->json = NULL;
	a->prometheus = NULL;
	a->verdicts = NULL;
	a->n_verdicts = 0;
}

static char *render(const oa_scan_report *report, bool json, size_t *len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	int rc;

	if (f == NULL) {
		return NULL;
	}
	rc = json ? oa_scan_write_json(report, f) : oa_scan_write_prometheus(report, f);
	if (fclose(f) != 0 || rc < 0) {
		free(text);
		return NULL;
	}
	*len = size;
	return text;
}

static void schedule(px_audit *a, uint64_t delay_ms);

static void on_scan_done(oa_scan_report *report, int status, void *data)
{
	px_audit *a = data;
	px_gen *gen = a->scanning;

	a->scanning = NULL;
	if (status < 0 || report == NULL) {
		px_log("audit failed: %s", strerror(-status));
	} else {
		size_t json_len = 0;
		size_t prom_len = 0;
		char *json = render(report, true, &json_len);
		char *prom = render(report, false, &prom_len);
		px_audit_verdict *verdicts =
		    calloc(report->n_origins ? report->n_origins : 1, sizeof(*verdicts));

		if (json != NULL && prom != NULL && verdicts != NULL) {
			audit_free_results(a);
			a->json = json;
			a->json_len = json_len;
			a->prometheus = prom;
			a->prometheus_len = prom_len;
			a->verdicts = verdicts;
			for (size_t i = 0; i < report->n_origins; i++) {
				verdicts[i].origin = strdup(oa_scan_origin_id(&report->origins[i]));
				verdicts[i].verdict = report->origins[i].verdict;
				a->n_verdicts = i + 1;
			}
			a->audits++;
			if (a->metrics != NULL) {
				pxm_count_audit(a->metrics);
			}
			px_log("audit: %zu origin(s): %zu pass, %zu warn, %zu fail, %zu error "
			       "(%.2f s)",
			       report->n_origins, report->counts[OA_STATUS_PASS],
			       report->counts[OA_STATUS_WARN], report->counts[OA_STATUS_FAIL],
			       report->counts[OA_STATUS_ERROR], report->duration_s);
		} else {
			free(json);
			free(prom);
			free(verdicts);
			px_log("audit: out of memory rendering the report");
		}
		oa_scan_report_destroy(report);
	}
	px_gen_unref(gen);
	if (a->closing) {
		if (a->on_closed != NULL) {
			a->on_closed(a);
		}
		return;
	}
	if (a->rerun) {
		a->rerun = false;
		schedule(a, 0);
	} else if (a->gen != NULL && a->gen->config->proxy.audit_interval_s > 0) {
		schedule(a, a->gen->config->proxy.audit_interval_s * 1000ULL);
	}
}

static void on_timer(uv_timer_t *timer)
{
	px_audit *a = timer->data;
	oa_scan_options opts;
	int rc;

	if (a->closing || a->scanning != NULL || a->gen == NULL) {
		return;
	}
	oa_scan_options_from_config(&opts, a->gen->config);
	a->scanning = px_gen_ref(a->gen);
	rc =
	    oa_scan_start(a->loop, a->scanning->config, a->scanning->store, &opts, on_scan_done, a);
	if (rc < 0) {
		px_log("audit could not start: %s", strerror(-rc));
		px_gen_unref(a->scanning);
		a->scanning = NULL;
		schedule(a, 60000);
	}
}

static void schedule(px_audit *a, uint64_t delay_ms)
{
	uv_timer_start(&a->timer, on_timer, delay_ms, 0);
}

void px_audit_init(px_audit *a, uv_loop_t *loop, pxm *metrics)
{
	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->metrics = metrics;
	uv_timer_init(loop, &a->timer);
	a->timer.data = a;
}

void px_audit_use(px_audit *a, px_gen *gen)
{
	px_gen_unref(a->gen);
	a->gen = px_gen_ref(gen);
	if (a->scanning != NULL) {
		/* The one in progress finishes on the old configuration; a new one follows. */
		a->rerun = gen->config->proxy.audit_interval_s > 0;
		return;
	}
	if (gen->config->proxy.audit_interval_s > 0) {
		schedule(a, 0);
	} else {
		uv_timer_stop(&a->timer);
	}
}

void px_audit_close(px_audit *a, void (*on_closed)(px_audit *a))
{
	if (a->closing) {
		return;
	}
	a->closing = true;
	a->on_closed = on_closed;
	uv_timer_stop(&a->timer);
	uv_close((uv_handle_t *)&a->timer, NULL);
	px_gen_unref(a->gen);
	a->gen = NULL;
	if (a->scanning == NULL && on_closed != NULL) {
		on_closed(a);
	}
}

void px_audit_free(px_audit *a)
{
	audit_free_results(a);
}
