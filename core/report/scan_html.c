/*
 * The scan report as one self-contained HTML page for people: a summary,
 * every origin and probe with its verdict and what to fix, and an expiry
 * timeline of every certificate as inline SVG. No script, no external asset:
 * the file works offline and from a mail attachment.
 *
 * Every string from the report (origin ids from users' files, subjects and
 * details from the network) is escaped, and invalid UTF-8 and control
 * characters become U+FFFD, so the page is well-formed as HTML and as XML
 * whatever a server sent. The page is written as it goes, origin by origin;
 * the timeline needs one extra pass over the report to size its axis, so
 * memory stays flat for thousands of origins.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "originaudit/report.h"
#include "originaudit/scan.h"
#include "originaudit/version.h"

#define REPLACEMENT "\xef\xbf\xbd"
#define ELLIPSIS "\xe2\x80\xa6"
#define DAY_S 86400.0
#define ENDPOINT_MAX 300
#define CN_MAX 256
/* Characters of a timeline label before it is cut (the full label is its tooltip). */
#define LABEL_CHARS 80
#define LABEL_MAX 1024

/* The timeline's geometry, in SVG user units (the SVG scales to the page width). */
#define TL_WIDTH 1180
#define TL_PLOT_X0 540
#define TL_PLOT_X1 1110
#define TL_TOP 34
#define TL_ROW 20
#define TL_BAR 12
#define TL_BOTTOM 44

/*
 * The axis is compressed: the marked days are equally spaced, and days in
 * between are placed linearly. Certificates from 3 days to 10 years left sit
 * on one readable axis and the 7- and 30-day thresholds stay apart.
 */
static const int tl_marks[] = {-36500, -3650, -365, -90, -30, -7, 0, 7, 30, 90, 365, 3650, 36500};
#define TL_N_MARKS (sizeof(tl_marks) / sizeof(tl_marks[0]))

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1f2328;background:#f6f8fa}\n"
    "header,main,footer{max-width:1240px;margin:0 auto;padding:0 20px}\n"
    "header{padding-top:16px}\n"
    "h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:24px 0 8px}"
    "h3{font-size:16px;margin:0 0 4px}\n"
    "code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "font-size:13px}\n"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}\n"
    "dl.meta dt{color:#59636e}dl.meta dd{margin:0}\n"
    ".badge{display:inline-block;min-width:44px;padding:1px 6px;border-radius:4px;"
    "font-weight:700;font-size:12px;text-align:center;text-transform:uppercase;"
    "letter-spacing:.03em;border:1px solid}\n"
    ".s-pass{color:#116329;background:#dafbe1;border-color:#4ac26b}\n"
    ".s-warn{color:#7d4e00;background:#fff8c5;border-color:#d4a72c}\n"
    ".s-fail{color:#a40e26;background:#ffebe9;border-color:#ff8182}\n"
    ".s-error{color:#fff;background:#6e40c9;border-color:#6e40c9}\n"
    ".s-skip{color:#59636e;background:#eaeef2;border-color:#afb8c1}\n"
    ".tiles{display:flex;flex-wrap:wrap;gap:8px;margin:0;padding:0;list-style:none}\n"
    ".tiles li{background:#fff;border:1px solid #d1d9e0;border-left-width:6px;border-radius:6px;"
    "padding:6px 14px;min-width:80px}\n"
    ".tiles .t-pass{border-left-color:#1a7f37}.tiles .t-warn{border-left-color:#bf8700}\n"
    ".tiles .t-fail{border-left-color:#cf222e}.tiles .t-error{border-left-color:#6e40c9}\n"
    ".tiles .t-skip{border-left-color:#8c959f}\n"
    ".tiles .n{display:block;font-size:22px;font-weight:700}\n"
    ".origin{background:#fff;border:1px solid #d1d9e0;border-left-width:6px;border-radius:6px;"
    "padding:10px 14px;margin:10px 0}\n"
    ".origin.s-pass{border-left-color:#1a7f37}.origin.s-warn{border-left-color:#bf8700}\n"
    ".origin.s-fail{border-left-color:#cf222e}.origin.s-error{border-left-color:#6e40c9}\n"
    ".origin.s-skip{border-left-color:#8c959f}\n"
    ".origin{color:#1f2328}.origin .where{color:#59636e;margin:0 0 6px}\n"
    "table.probes{border-collapse:collapse;width:100%;table-layout:fixed}\n"
    "table.probes th:nth-child(1){width:84px}table.probes th:nth-child(2){width:24%}\n"
    "table.probes th:nth-child(3){width:24%}table.probes th:nth-child(4){width:72px}\n"
    "table.probes td{overflow-wrap:anywhere}\n"
    "table.probes th{text-align:left;font-weight:600;color:#59636e;border-bottom:1px solid "
    "#d1d9e0;padding:3px 8px 3px 0}\n"
    "table.probes td{padding:4px 8px 4px 0;vertical-align:top;border-bottom:1px solid #eef1f4}\n"
    "ul.problems{margin:2px 0 6px;padding-left:0;list-style:none}\n"
    "ul.problems li{margin:4px 0;padding:4px 8px;background:#f6f8fa;border-radius:4px}\n"
    ".detail{display:block;margin-top:2px;overflow-wrap:anywhere}\n"
    ".hint{display:block;color:#0a3069;margin-top:2px}.hint b{font-weight:600}\n"
    ".note{color:#59636e}\n"
    "svg.timeline{width:100%;height:auto;background:#fff;border:1px solid #d1d9e0;"
    "border-radius:6px}\n"
    "svg.timeline text{font:12px system-ui,sans-serif;fill:#1f2328}\n"
    "svg.timeline .axis{stroke:#8c959f;stroke-width:1}\n"
    "svg.timeline .grid{stroke:#eaeef2;stroke-width:1}\n"
    "svg.timeline .zero{stroke:#1f2328;stroke-width:1.5}\n"
    "svg.timeline .thr-warn{stroke:#bf8700;stroke-width:2;stroke-dasharray:6 3}\n"
    "svg.timeline .thr-critical{stroke:#cf222e;stroke-width:2;stroke-dasharray:6 3}\n"
    "svg.timeline .tick-warn{stroke:#bf8700;stroke-width:2}\n"
    "svg.timeline .tick-critical{stroke:#cf222e;stroke-width:2}\n"
    "svg.timeline .bar-pass{fill:#2da44e}svg.timeline .bar-warn{fill:#d4a72c}\n"
    "svg.timeline .bar-fail{fill:#cf222e}\n"
    "svg.timeline .small{font-size:11px;fill:#59636e}\n"
    "footer{color:#59636e;padding-bottom:24px}\n";

/* Whether the character at s (len bytes) may appear in the page as it is. */
static bool printable(const unsigned char *s, size_t len)
{
	if (len == 1) {
		return s[0] >= 0x20 && s[0] != 0x7f;
	}
	/* C1 controls, and U+FFFE / U+FFFF, which XML does not allow either. */
	if (len == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
		return false;
	}
	return !(len == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf));
}

/*
 * Writes at most max characters of text (0: all of it) escaped for HTML text
 * and quoted attribute values alike, with an ellipsis when it was cut.
 */
static void html_n(FILE *out, const char *text, size_t max)
{
	const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
	const unsigned char *end = s + strlen((const char *)s);
	size_t chars = 0;

	while (*s != '\0') {
		size_t len = oa_utf8_len(s, (size_t)(end - s));

		if (max > 0 && chars == max) {
			fputs(ELLIPSIS, out);
			return;
		}
		chars++;
		if (len == 0 || !printable(s, len)) {
			fputs(REPLACEMENT, out);
			s += len == 0 ? 1 : len;
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fwrite(s, 1, len, out);
			break;
		}
		s += len;
	}
}

static void html(FILE *out, const char *text)
{
	html_n(out, text, 0);
}

static void badge(FILE *out, oa_status status)
{
	fprintf(out, "<span class=\"badge s-%s\">%s</span>", oa_status_name(status),
		oa_status_name(status));
}

/*
 * The CN of an RFC 4514 subject ("CN=a\,b,O=x" gives "a,b"), else the whole
 * subject; into buf.
 */
static void subject_cn(const char *subject, char *buf, size_t size)
{
	const char *p = subject != NULL ? subject : "";
	const char *cn = NULL;
	bool boundary = true;
	size_t n = 0;

	for (const char *q = p; *q != '\0'; q++) {
		if (boundary && strncmp(q, "CN=", 3) == 0) {
			cn = q + 3;
			break;
		}
		boundary = *q == ',';
		if (*q == '\\' && q[1] != '\0') {
			q++;
		}
	}
	if (cn == NULL) {
		snprintf(buf, size, "%s", p);
		return;
	}
	for (const char *q = cn; *q != '\0' && *q != ',' && n + 1 < size; q++) {
		if (*q == '\\' && q[1] != '\0') {
			q++;
		}
		buf[n++] = *q;
	}
	buf[n] = '\0';
}

/* ---- the timeline's measurements (first pass) ---- */

struct timeline {
	size_t rows;
	/* Days left of the earliest and latest certificate. */
	double min_days;
	double max_days;
	/* The thresholds every probe applied, when they all agree (uniform). */
	bool have_thresholds;
	bool uniform;
	long long warn_s;
	long long critical_s;
	/* The axis: marks tl_marks[first..last]. */
	size_t first;
	size_t last;
};

static void measure_result(struct timeline *tl, const oa_result *result)
{
	long long warn_s;
	long long critical_s;
	const char *wr;
	const char *cr;
	time_t at = oa_result_time(result);

	for (size_t i = 0; i < oa_result_cert_count(result); i++) {
		double days = (double)(oa_result_cert(result, i)->not_after - at) / DAY_S;

		tl->min_days = tl->rows == 0 || days < tl->min_days ? days : tl->min_days;
		tl->max_days = tl->rows == 0 || days > tl->max_days ? days : tl->max_days;
		tl->rows++;
	}
	if (!oa_result_expiry_thresholds(result, &warn_s, &critical_s, &wr, &cr)) {
		return;
	}
	if (!tl->have_thresholds) {
		tl->have_thresholds = true;
		tl->uniform = true;
		tl->warn_s = warn_s;
		tl->critical_s = critical_s;
	} else if (warn_s != tl->warn_s || critical_s != tl->critical_s) {
		tl->uniform = false;
	}
}

static void measure(const oa_scan_report *report, struct timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
	for (size_t i = 0; i < report->n_origins; i++) {
		const oa_scan_origin *o = &report->origins[i];

		for (size_t j = 0; j < o->n_probes; j++) {
			const oa_probe_result *r = oa_probe_get_result(o->probes[j]);

			if (r->result != NULL) {
				measure_result(tl, r->result);
			}
		}
	}
	/*
	 * Without one policy for every probe (per-origin thresholds, or the
	 * lifetime-relative default on certificates of different lifetimes),
	 * the shared lines mark the default rule's caps and each row its own.
	 */
	if (!tl->have_thresholds || !tl->uniform) {
		tl->warn_s = (long long)OA_POLICY_DEFAULT_WARN_DAYS * 86400;
		tl->critical_s = (long long)OA_POLICY_DEFAULT_CRITICAL_DAYS * 86400;
	}
	/* The axis always shows the shared thresholds and a little of the expired side. */
	double lo = tl->rows > 0 && tl->min_days < -7 ? tl->min_days : -7;
	double hi = tl->rows > 0 && tl->max_days > 90 ? tl->max_days : 90;

	if ((double)tl->warn_s / DAY_S > hi) {
		hi = (double)tl->warn_s / DAY_S;
	}

	tl->first = 0;
	while (tl->first + 1 < TL_N_MARKS && tl_marks[tl->first + 1] <= lo) {
		tl->first++;
	}
	tl->last = TL_N_MARKS - 1;
	while (tl->last > tl->first + 1 && tl_marks[tl->last - 1] >= hi) {
		tl->last--;
	}
}

/* The x coordinate of days left on the compressed axis (clamped to it). */
static double tl_x(const struct timeline *tl, double days)
{
	double step = (double)(TL_PLOT_X1 - TL_PLOT_X0) / (double)(tl->last - tl->first);

	if (days <= tl_marks[tl->first]) {
		return TL_PLOT_X0;
	}
	for (size_t k = tl->first; k < tl->last; k++) {
		double a = tl_marks[k];
		double b = tl_marks[k + 1];

		if (days <= b) {
			return TL_PLOT_X0 + step * ((double)(k - tl->first) + (days - a) / (b - a));
		}
	}
	return TL_PLOT_X1;
}

/* ---- header and summary ---- */

static void write_head(FILE *out, const oa_scan_report *report)
{
	char when[32];

	oa_format_time(report->started_at, when);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
	      "<meta name=\"generator\" content=\"originaudit ",
	      out);
	html(out, oa_version());
	fprintf(out,
		"\"/>\n<title>originaudit: %s, %zu origin%s (%s)</title>\n<style>\n%s</style>\n",
		oa_status_name(report->verdict), report->n_origins,
		report->n_origins == 1 ? "" : "s", when, style);
	fputs("</head>\n<body>\n", out);
}

static void write_header(FILE *out, const oa_scan_report *report)
{
	char started[32];
	char finished[32];

	oa_format_time(report->started_at, started);
	oa_format_time(report->finished_at, finished);
	fputs("<header>\n<h1>originaudit scan report</h1>\n<dl class=\"meta\">\n", out);
	fputs("<dt>Tool</dt><dd>originaudit ", out);
	html(out, oa_version());
	fprintf(out,
		"</dd>\n<dt>Scan time (UTC)</dt><dd><time>%s</time> to <time>%s</time> "
		"(%.2f s)</dd>\n",
		started, finished, report->duration_s);
	fputs("<dt>CA bundle</dt><dd>", out);
	if (report->store != NULL) {
		size_t n = oa_trust_store_count(report->store);

		fputs("<code>", out);
		html(out, oa_trust_store_path(report->store));
		fprintf(out, "</code> (%zu certificate%s)", n, n == 1 ? "" : "s");
	} else {
		fputs("none", out);
	}
	fputs("</dd>\n<dt>Verdict</dt><dd id=\"verdict\">", out);
	badge(out, report->verdict);
	fputs("</dd>\n</dl>\n</header>\n", out);
}

static void tile(FILE *out, const char *cls, const char *label, size_t n)
{
	fprintf(out, "<li class=\"%s\" data-count=\"%zu\"><span class=\"n\">%zu</span>%s</li>\n",
		cls, n, n, label);
}

static void write_summary(FILE *out, const oa_scan_report *report)
{
	fputs("<section id=\"summary\">\n<h2>Summary</h2>\n<ul class=\"tiles\">\n", out);
	tile(out, "origins", "origins", report->n_origins);
	tile(out, "t-pass", "pass", report->counts[OA_STATUS_PASS]);
	tile(out, "t-warn", "warn", report->counts[OA_STATUS_WARN]);
	tile(out, "t-fail", "fail", report->counts[OA_STATUS_FAIL]);
	tile(out, "t-error", "error", report->counts[OA_STATUS_ERROR]);
	tile(out, "t-skip", "skipped", report->counts[OA_STATUS_SKIP]);
	tile(out, "probes", "probes", report->n_probes);
	fputs("</ul>\n</section>\n", out);
}

/* ---- the timeline ---- */

static void write_axis(FILE *out, const struct timeline *tl, double bottom)
{
	for (size_t k = tl->first; k <= tl->last; k++) {
		double x = tl_x(tl, tl_marks[k]);

		fprintf(out,
			"<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n",
			tl_marks[k] == 0 ? "zero" : "grid", x, TL_TOP - 4, x, bottom, x,
			bottom + 14, tl_marks[k]);
	}
	fprintf(out,
		"<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n"
		"<text class=\"small\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">days left "
		"(negative: expired; equal spacing between the marked days)</text>\n",
		TL_PLOT_X0, bottom, TL_PLOT_X1, bottom, (TL_PLOT_X0 + TL_PLOT_X1) / 2, bottom + 32);
}

static void write_threshold_line(FILE *out, const struct timeline *tl, const char *name,
				 long long secs, double bottom, int label_y)
{
	double x = tl_x(tl, (double)secs / DAY_S);

	fprintf(out,
		"<line class=\"thr-%s\" data-threshold=\"%s\" data-days=\"%.2f\" x1=\"%.1f\" "
		"y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<text class=\"small\" x=\"%.1f\" y=\"%d\">%s %.4g d</text>\n",
		name, name, (double)secs / DAY_S, x, label_y + 4, x, bottom, x + 3, label_y, name,
		(double)secs / DAY_S);
}

/* A certificate's colour against its probe's thresholds (or the shared ones). */
static const char *cert_class(long long left_s, bool have, long long warn_s, long long critical_s)
{
	if (left_s < 0 || (have && left_s < critical_s)) {
		return "fail";
	}
	return have && left_s < warn_s ? "warn" : "pass";
}

/*
 * "origin / SNI / #2 intermediate / CN" into buf (raw text, escaped when
 * written); positions count from 1, as the checks' details do.
 */
static void row_label(const oa_scan_origin *o, const oa_probe_spec *spec, const oa_cert_info *info,
		      char *buf, size_t size)
{
	char cn[CN_MAX];

	subject_cn(info->subject, cn, sizeof(cn));
	snprintf(buf, size, "%s / %s / #%zu %s / %s", oa_scan_origin_id(o),
		 spec->sni != NULL ? spec->sni : "", info->position + 1,
		 oa_cert_role_name(info->role), cn);
}

static void write_ticks(FILE *out, const struct timeline *tl, long long warn_s,
			long long critical_s, double y)
{
	double xw = tl_x(tl, (double)warn_s / DAY_S);
	double xc = tl_x(tl, (double)critical_s / DAY_S);

	fprintf(out,
		"<line class=\"tick-warn\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		"<line class=\"tick-critical\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
		xw, y - 2, xw, y + TL_BAR + 2, xc, y - 2, xc, y + TL_BAR + 2);
}

static double write_cert_rows(FILE *out, const struct timeline *tl, size_t origin_index,
			      const oa_scan_origin *o, const oa_probe *probe, double y)
{
	const oa_probe_spec *spec = oa_probe_get_spec(probe);
	const oa_result *result = oa_probe_get_result(probe)->result;
	long long warn_s = tl->warn_s;
	long long critical_s = tl->critical_s;
	const char *wr;
	const char *cr;
	bool have = oa_result_expiry_thresholds(result, &warn_s, &critical_s, &wr, &cr);
	double x0 = tl_x(tl, 0);

	for (size_t i = 0; i < oa_result_cert_count(result); i++, y += TL_ROW) {
		const oa_cert_info *info = oa_result_cert(result, i);
		long long left_s = (long long)(info->not_after - oa_result_time(result));
		const char *cls = cert_class(left_s, have, warn_s, critical_s);
		double x = tl_x(tl, (double)left_s / DAY_S);
		char label[LABEL_MAX];

		row_label(o, spec, info, label, sizeof(label));
		fprintf(out, "<a href=\"#origin-%zu\"><g class=\"cert\" data-origin=\"",
			origin_index);
		html(out, oa_scan_origin_id(o));
		fprintf(out, "\" data-days=\"%lld\"><title>", info->days_left);
		html(out, label);
		fprintf(out,
			": %lld days left</title>\n<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			info->days_left, TL_PLOT_X0 - 8, y + TL_BAR - 2);
		html_n(out, label, LABEL_CHARS);
		/* The days left beside the bar's end, outside it. */
		fprintf(
		    out,
		    "</text><rect class=\"bar-%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		    "height=\"%d\" rx=\"2\"/><circle class=\"bar-%s\" cx=\"%.1f\" cy=\"%.1f\" "
		    "r=\"4\"/><text class=\"small\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%lld "
		    "d</text>",
		    cls, x < x0 ? x : x0, y, x < x0 ? x0 - x : x - x0, TL_BAR, cls, x,
		    y + TL_BAR / 2.0, x < x0 ? x - 7 : x + 7, y + TL_BAR - 2,
		    x < x0 ? "end" : "start", info->days_left);
		if (have && (warn_s != tl->warn_s || critical_s != tl->critical_s)) {
			write_ticks(out, tl, warn_s, critical_s, y);
		}
		fputs("</g></a>\n", out);
	}
	return y;
}

static void write_timeline_note(FILE *out, const struct timeline *tl)
{
	fputs("<p class=\"note\">One bar per certificate each probe received, from today to its "
	      "expiry; the dashed lines are the expiry thresholds ",
	      out);
	if (tl->have_thresholds && tl->uniform) {
		fputs("every probe applied.</p>\n", out);
	} else if (tl->have_thresholds) {
		fputs(
		    "of the default rule's caps (the probes applied different thresholds: "
		    "per-origin settings or certificate lifetimes); a row's own thresholds are the "
		    "short ticks on it.</p>\n",
		    out);
	} else {
		fputs("of the default rule's caps.</p>\n", out);
	}
}

static void write_timeline(FILE *out, const oa_scan_report *report, const struct timeline *tl)
{
	double bottom = TL_TOP + (double)tl->rows * TL_ROW + 6;
	double y = TL_TOP + 4;

	fputs("<section id=\"timeline\">\n<h2>Certificate expiry</h2>\n", out);
	if (tl->rows == 0) {
		fputs("<p class=\"note\">No probe received a certificate.</p>\n</section>\n", out);
		return;
	}
	write_timeline_note(out, tl);
	fprintf(
	    out,
	    "<svg class=\"timeline\" viewBox=\"0 0 %d "
	    "%.0f\" width=\"%d\" height=\"%.0f\" role=\"img\" aria-labelledby=\"timeline-title\">"
	    "\n<title id=\"timeline-title\">Days left of %zu certificates</title>\n",
	    TL_WIDTH, bottom + TL_BOTTOM, TL_WIDTH, bottom + TL_BOTTOM, tl->rows);
	write_axis(out, tl, bottom);
	write_threshold_line(out, tl, "warn", tl->warn_s, bottom, 14);
	write_threshold_line(out, tl, "critical", tl->critical_s, bottom, 26);
	for (size_t i = 0; i < report->n_origins; i++) {
		const oa_scan_origin *o = &report->origins[i];

		for (size_t j = 0; j < o->n_probes; j++) {
			if (oa_probe_get_result(o->probes[j])->result != NULL) {
				y = write_cert_rows(out, tl, i, o, o->probes[j], y);
			}
		}
	}
	fputs("</svg>\n</section>\n", out);
}

/* ---- origins and probes ---- */

static void write_problem(FILE *out, oa_status status, const char *name, const char *reason,
			  const char *detail, const char *hint)
{
	fprintf(out, "<li class=\"problem\" data-status=\"%s\">", oa_status_name(status));
	badge(out, status);
	fputs(" <code class=\"check\">", out);
	html(out, name);
	fputs("</code>: <code class=\"reason\">", out);
	html(out, reason);
	fputs("</code>", out);
	if (detail != NULL && detail[0] != '\0') {
		fputs("<span class=\"detail\">", out);
		html(out, detail);
		fputs("</span>", out);
	}
	if (hint != NULL && hint[0] != '\0') {
		fputs("<span class=\"hint\"><b>Hint:</b> ", out);
		html(out, hint);
		fputs("</span>", out);
	}
	fputs("</li>\n", out);
}

/* The error, or every failing check and then every warning one. */
static void write_problems(FILE *out, const oa_scan_origin *o, const oa_probe_result *r,
			   const oa_scan_check_ref *checks, size_t n)
{
	fputs("<tr class=\"problems\"><td></td><td colspan=\"4\"><ul class=\"problems\">\n", out);
	if (r->verdict == OA_STATUS_ERROR) {
		write_problem(out, OA_STATUS_ERROR, "error", r->error, r->error_detail,
			      oa_scan_origin_error_hint(o, r->error));
	}
	for (int s = OA_STATUS_FAIL; s >= OA_STATUS_WARN; s--) {
		for (size_t i = 0; i < n; i++) {
			if ((int)checks[i].check->status == s) {
				write_problem(out, (oa_status)s, checks[i].name,
					      checks[i].check->reason, checks[i].detail,
					      checks[i].hint);
			}
		}
	}
	fputs("</ul></td></tr>\n", out);
}

static void write_result_cell(FILE *out, const oa_probe_result *r, const oa_scan_check_ref *checks,
			      int problem)
{
	long long days;

	if (r->verdict == OA_STATUS_ERROR) {
		fputs("<code>", out);
		html(out, r->error);
		fputs("</code>", out);
	} else if (problem >= 0) {
		fputs("<code>", out);
		html(out, checks[problem].name);
		fputs(": ", out);
		html(out, checks[problem].check->reason);
		fputs("</code>", out);
	} else if (r->result != NULL && oa_result_days_left(r->result, &days)) {
		fprintf(out, "%lld days left", days);
	} else {
		fputs("reachable", out);
	}
}

static void write_probe(FILE *out, const oa_scan_origin *o, const oa_probe *probe)
{
	const oa_probe_spec *spec = oa_probe_get_spec(probe);
	const oa_probe_result *r = oa_probe_get_result(probe);
	oa_scan_check_ref checks[OA_SCAN_MAX_CHECKS];
	size_t n = oa_scan_probe_checks(r, checks);
	int problem = oa_scan_first_problem(checks, n);
	char endpoint[ENDPOINT_MAX];

	oa_scan_endpoint(o, spec, endpoint, sizeof(endpoint));
	fprintf(out, "<tr class=\"probe\" data-verdict=\"%s\"><td>", oa_status_name(r->verdict));
	badge(out, r->verdict);
	fputs("</td><td class=\"mono\">", out);
	html(out, endpoint);
	fputs("</td><td class=\"mono\">", out);
	if (spec->kind == OA_PROBE_HTTP) {
		fputs("(plain HTTP)", out);
	} else {
		html(out, spec->sni != NULL ? spec->sni : "");
	}
	fputs("</td><td>", out);
	html(out, r->tls_version[0] != '\0' ? r->tls_version : "-");
	fputs("</td><td>", out);
	write_result_cell(out, r, checks, problem);
	fputs("</td></tr>\n", out);
	if (r->verdict >= OA_STATUS_WARN) {
		write_problems(out, o, r, checks, n);
	}
}

static void write_origin_where(FILE *out, const oa_scan_origin *o)
{
	const oa_origin_config *c = o->config;

	fputs("<p class=\"where\"><code>", out);
	html(out, c->domain_name);
	fprintf(out, ":%u</code>, %s", o->port, oa_scan_protocol_policy_name(c->protocol_policy));
	if (o->distribution != NULL) {
		fputs(", distribution <code class=\"distribution\">", out);
		html(out, o->distribution);
		fputs("</code>", out);
	}
	if (c->vpc) {
		fputs(", VPC origin <code>", out);
		html(out, c->vpc_origin_id != NULL ? c->vpc_origin_id : "?");
		fputs("</code>: its name resolves only inside its VPC, scan from there", out);
	}
	fputs("</p>\n", out);
}

static void write_origin(FILE *out, size_t index, const oa_scan_origin *o)
{
	fprintf(out,
		"<section class=\"origin s-%s\" id=\"origin-%zu\" data-verdict=\"%s\" "
		"data-origin=\"",
		oa_status_name(o->verdict), index, oa_status_name(o->verdict));
	html(out, oa_scan_origin_id(o));
	fputs("\">\n<h3>", out);
	badge(out, o->verdict);
	fputs(" ", out);
	html(out, oa_scan_origin_id(o));
	fputs("</h3>\n", out);
	write_origin_where(out, o);
	if (o->skipped != NULL) {
		fputs("<p class=\"skipped\">Not probed: <code class=\"reason\">", out);
		html(out, o->skipped);
		fputs("</code>", out);
		if (o->config->unresolved != NULL) {
			fputs("<span class=\"detail\">", out);
			html(out, o->config->unresolved);
			fputs("</span>", out);
		}
		fputs("</p>\n</section>\n", out);
		return;
	}
	if (o->n_probes == 0) {
		fputs("<p class=\"note\">No probes.</p>\n</section>\n", out);
		return;
	}
	fputs("<table class=\"probes\">\n<thead><tr><th>Verdict</th><th>Endpoint</th><th>SNI</th>"
	      "<th>TLS</th><th>Result</th></tr></thead>\n<tbody>\n",
	      out);
	for (size_t j = 0; j < o->n_probes; j++) {
		write_probe(out, o, o->probes[j]);
	}
	fputs("</tbody>\n</table>\n</section>\n", out);
}

int oa_scan_write_html(const oa_scan_report *report, FILE *out)
{
	struct timeline tl;

	measure(report, &tl);
	write_head(out, report);
	write_header(out, report);
	fputs("<main>\n", out);
	write_summary(out, report);
	write_timeline(out, report, &tl);
	fputs("<section id=\"origins\">\n<h2>Origins</h2>\n", out);
	for (size_t i = 0; i < report->n_origins && !ferror(out); i++) {
		write_origin(out, i, &report->origins[i]);
	}
	fputs("</section>\n</main>\n<footer>\n<p>Written by originaudit ", out);
	html(out, oa_version());
	fputs(". Verdicts as CloudFront judges an origin's certificate: pass, warn (works, fix "
	      "soon), fail (CloudFront refuses the origin: 502), error (nothing could be "
	      "graded), skip (not probed).</p>\n</footer>\n</body>\n</html>\n",
	      out);
	return ferror(out) ? -EIO : 0;
}
