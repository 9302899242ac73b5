/*
 * What is recorded of each request: the line on stderr, the JSON access log
 * line, and the shared counters (requests by origin and status, origin
 * failures by reason code).
 */
#include <stdio.h>
#include <string.h>

#include "proxy.h"

/* Reasons that are the viewer's doing or a policy, not an origin failing. */
static bool origin_failure(const char *reason)
{
	static const char *const not_failures[] = {
	    "reused",	  "resumed",   "redirect_to_https", "https_required",
	    "bad_method", "bad_host",  "bad_target",	    "bad_framing",
	    "bad_header", "s3_origin", "no_behavior",	    NULL,
	};

	if (reason == NULL || reason[0] == '\0') {
		return false;
	}
	for (size_t i = 0; not_failures[i] != NULL; i++) {
		if (strcmp(reason, not_failures[i]) == 0) {
			return false;
		}
	}
	return true;
}

void px_request_log(px_exchange *ex, int status, const char *reason)
{
	px_server *srv = ex->srv;
	const px_header *host = px_head_find(&ex->req, "Host");
	uint64_t ms = uv_now(srv->loop) - ex->started_ms;
	const char *why = reason != NULL && reason[0] != '\0' ? reason : NULL;

	/* With an access log, stderr keeps only what went wrong. */
	if (srv->access_log.fd < 0 || status >= 500) {
		px_log("%s %.*s %.*s %.*s -> %d origin=%s reason=%s verify=%s %llums",
		       ex->viewer_address, (int)ex->req.method_len, ex->req.method,
		       host ? (int)host->value_len : 1, host ? host->value : "-",
		       (int)ex->req.target_len, ex->req.target, status,
		       ex->origin ? ex->origin->id : "-", why ? why : "-",
		       ex->verify != NULL ? ex->verify : "-", (unsigned long long)ms);
	}
	if (srv->metrics != NULL) {
		int slot = ex->gen != NULL ? px_gen_origin_slot(ex->gen, ex->origin) : 0;

		pxm_count_request(srv->metrics, slot, status);
		if (ex->origin != NULL && origin_failure(why)) {
			pxm_count_failure(srv->metrics, slot, why);
		}
		if (ex->origin != NULL && ex->certificate_refused) {
			pxm_count_certificate_refusal(srv->metrics, slot, why);
		}
	}
	if (srv->access_log.fd >= 0) {
		px_access_entry e = {
		    .client = ex->viewer_address,
		    .method = ex->req.method,
		    .method_len = ex->req.method_len,
		    .host = host ? host->value : NULL,
		    .host_len = host ? host->value_len : 0,
		    .path = ex->req.target,
		    .path_len = ex->req.target_len,
		    .status = status,
		    .bytes_in = ex->bytes_in,
		    .bytes_out = ex->bytes_out,
		    .origin = ex->origin ? ex->origin->id : NULL,
		    .x_cache = ex->x_cache_kind,
		    /* "reused"/"resumed" describe the connection, not an outcome. */
		    .reason =
			why != NULL && strcmp(why, "reused") != 0 && strcmp(why, "resumed") != 0
			    ? why
			    : NULL,
		    .duration_ms = ms,
		    .request_id = ex->request_id[0] ? ex->request_id : NULL,
		};

		px_access_log_write(&srv->access_log, &e);
	}
}

void px_log_refused(px_server *srv, const char *client, int status, uint64_t bytes_in,
		    uint64_t bytes_out)
{
	const char *code = status == 414   ? "request_line_too_long"
			   : status == 431 ? "headers_too_large"
			   : status == 408 ? "header_timeout"
					   : "malformed_request";

	if (srv->metrics != NULL) {
		pxm_count_request(srv->metrics, 0, status);
	}
	if (srv->access_log.fd >= 0) {
		px_access_entry e = {
		    .client = client,
		    .status = status,
		    .bytes_in = bytes_in,
		    .bytes_out = bytes_out,
		    .x_cache = "Error",
		    .reason = code,
		};

		px_access_log_write(&srv->access_log, &e);
	}
}
