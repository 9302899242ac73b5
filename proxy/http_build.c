/*
 * The HTTP/1.x messages originaudit-proxy writes, without I/O: the request to an
 * origin, the forwarded response to a viewer, error responses and redirects,
 * and the viewer protocol policy that picks between serving and redirecting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http_head.h"
#include "http_internal.h"
#include "originaudit/http_server.h"

/* Fields that describe one connection (RFC 9110 7.6.1, plus Proxy-Connection) and never travel on.
 */
static const char *const hop_by_hop[] = {
    "Connection", "Keep-Alive",		 "Proxy-Connection",   "TE", "Trailer", "Transfer-Encoding",
    "Upgrade",	  "Proxy-Authorization", "Proxy-Authenticate",
};

/* Undoes a writer's partial output. */
static void buf_truncate(px_buf *buf, size_t len)
{
	buf->len = len;
	if (buf->data != NULL) {
		buf->data[len] = '\0';
	}
}

static bool is_hop_by_hop(const px_head *head, const px_header *h, bool has_connection)
{
	for (size_t i = 0; i < sizeof(hop_by_hop) / sizeof(hop_by_hop[0]); i++) {
		if (px_slice_ieq(h->name, h->name_len, hop_by_hop[i])) {
			return true;
		}
	}
	/* A field the Connection list names is hop-by-hop as well. */
	return has_connection && px_head_list_contains(head, "Connection", h->name, h->name_len);
}

/* Appends "name: value\r\n" from slices. */
static int append_field(px_buf *out, const char *name, size_t name_len, const char *value,
			size_t value_len)
{
	int rc = px_buf_append(out, name, name_len);

	if (rc == 0) {
		rc = px_buf_append(out, ": ", 2);
	}
	if (rc == 0) {
		rc = px_buf_append(out, value, value_len);
	}
	if (rc == 0) {
		rc = px_buf_append(out, "\r\n", 2);
	}
	return rc;
}

/* Appends value to a list being written: "name: " before the first element, ", " between. */
static int append_list_elem(px_buf *out, const char *name, bool *any, const char *value,
			    size_t value_len)
{
	int rc = 0;

	if (*any) {
		rc = px_buf_append(out, ", ", 2);
	} else {
		rc = px_buf_appendf(out, "%s: ", name);
	}
	*any = true;
	if (rc == 0) {
		rc = px_buf_append(out, value, value_len);
	}
	return rc;
}

/*
 * Appends "Name: v1, v2, add\r\n" from head's fields called name (unless the
 * Connection field names them) and add (when neither NULL nor empty), as one
 * field; nothing when there is neither.
 */
static int append_list_field(px_buf *out, const px_head *head, const char *name, const char *add)
{
	bool any = false;
	int rc = 0;

	if (!px_head_list_contains(head, "Connection", name, strlen(name))) {
		for (size_t i = 0; i < head->n_headers && rc == 0; i++) {
			const px_header *h = &head->headers[i];

			if (px_slice_ieq(h->name, h->name_len, name) && h->value_len > 0) {
				rc = append_list_elem(out, name, &any, h->value, h->value_len);
			}
		}
	}
	if (rc == 0 && add != NULL && add[0] != '\0') {
		rc = append_list_elem(out, name, &any, add, strlen(add));
	}
	if (rc == 0 && any) {
		rc = px_buf_append(out, "\r\n", 2);
	}
	return rc;
}

/* Appends every field of head but the hop-by-hop ones and those called one of skip. */
static int append_fields(px_buf *out, const px_head *head, const char *const *skip, size_t n_skip)
{
	/* Most messages name nothing in Connection but the connection's fate: look it up once. */
	const px_header *connection = px_head_find(head, "Connection");
	bool names_fields = false;

	if (connection != NULL) {
		names_fields =
		    px_head_count(head, "Connection") > 1 ||
		    !(px_slice_ieq(connection->value, connection->value_len, "keep-alive") ||
		      px_slice_ieq(connection->value, connection->value_len, "close"));
	}
	for (size_t i = 0; i < head->n_headers; i++) {
		const px_header *h = &head->headers[i];
		bool drop = is_hop_by_hop(head, h, names_fields);
		int rc;

		for (size_t j = 0; j < n_skip && !drop; j++) {
			drop = skip[j] != NULL && px_slice_ieq(h->name, h->name_len, skip[j]);
		}
		if (drop) {
			continue;
		}
		rc = append_field(out, h->name, h->name_len, h->value, h->value_len);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

static int check_forward(const px_forward *fw)
{
	const char *path = fw->origin_path != NULL ? fw->origin_path : "";
	size_t path_len = strlen(path);

	if (fw->host == NULL || !px__host_ok(fw->host, strlen(fw->host))) {
		return -EINVAL;
	}
	if (path_len > 0 && !px__target_ok(path, path_len)) {
		return -EINVAL;
	}
	if ((fw->viewer_address != NULL && !px__text_safe(fw->viewer_address)) ||
	    (fw->via != NULL && !px__text_safe(fw->via))) {
		return -EINVAL;
	}
	if (fw->request_id_header != NULL &&
	    (!px__is_token(fw->request_id_header, strlen(fw->request_id_header)) ||
	     fw->request_id == NULL || !px__text_safe(fw->request_id))) {
		return -EINVAL;
	}
	if (fw->content_length < -1 || (fw->chunked && fw->content_length >= 0)) {
		return -EINVAL;
	}
	return 0;
}

int px_build_origin_request(const px_head *req, const px_forward *fw, px_buf *out)
{
	/* Host, framing and the fields we rewrite are written once, by us. */
	const char *const skip[] = {
	    "Host", "Content-Length",	   "X-Forwarded-Proto", "X-Real-IP", "X-Forwarded-For",
	    "Via",  fw->request_id_header,
	};
	size_t start = out->len;
	int rc;

	rc = check_forward(fw);
	if (rc < 0) {
		return rc;
	}
	if (!px__is_token(req->method, req->method_len) ||
	    !px__target_ok(req->target, req->target_len) || !px__fields_safe(req)) {
		return -EBADMSG;
	}
	rc = px_buf_append(out, req->method, req->method_len);
	if (rc == 0) {
		rc = px_buf_appendf(out, " %s", fw->origin_path != NULL ? fw->origin_path : "");
	}
	if (rc == 0) {
		rc = px_buf_append(out, req->target, req->target_len);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, " HTTP/1.1\r\nHost: %s\r\n", fw->host);
	}
	if (rc == 0) {
		rc = append_fields(out, req, skip, sizeof(skip) / sizeof(skip[0]));
	}
	if (rc == 0) {
		rc = append_list_field(out, req, "X-Forwarded-For", fw->viewer_address);
	}
	if (rc == 0) {
		rc = append_list_field(out, req, "Via", fw->via);
	}
	if (rc == 0 && fw->request_id_header != NULL) {
		rc = px_buf_appendf(out, "%s: %s\r\n", fw->request_id_header, fw->request_id);
	}
	if (rc == 0) {
		rc = px_buf_append_str(out, "Connection: keep-alive\r\n");
	}
	if (rc == 0 && fw->chunked) {
		rc = px_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	} else if (rc == 0 && fw->content_length >= 0) {
		rc = px_buf_appendf(out, "Content-Length: %lld\r\n", fw->content_length);
	}
	if (rc == 0) {
		rc = px_buf_append_str(out, "\r\n");
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

static int check_response_opts(const px_response_opts *o)
{
	if (o->http_minor != 0 && o->http_minor != 1) {
		return -EINVAL;
	}
	if ((o->x_cache != NULL && !px__text_safe(o->x_cache)) ||
	    (o->via != NULL && !px__text_safe(o->via))) {
		return -EINVAL;
	}
	if (o->request_id_header != NULL &&
	    (!px__is_token(o->request_id_header, strlen(o->request_id_header)) ||
	     o->request_id == NULL || !px__text_safe(o->request_id))) {
		return -EINVAL;
	}
	/* HTTP/1.0 has no chunked coding; such a body goes until close. */
	if (o->content_length < -1 ||
	    (o->chunked && (o->content_length >= 0 || o->http_minor == 0))) {
		return -EINVAL;
	}
	return 0;
}

int px_build_viewer_response(const px_head *resp, const px_response_opts *o, px_buf *out)
{
	/* X-Originaudit-Reason is the proxy's own (debug_headers): an origin cannot forge it. */
	const char *const skip[] = {"Content-Length", "X-Cache", "Via", "X-Originaudit-Reason",
				    o->request_id_header};
	const char *reason = resp->reason;
	size_t reason_len = resp->reason_len;
	size_t start = out->len;
	int rc;

	rc = check_response_opts(o);
	if (rc < 0) {
		return rc;
	}
	if (resp->status < 100 || resp->status > 999 || !px__reason_ok(reason, reason_len) ||
	    !px__fields_safe(resp)) {
		return -EBADMSG;
	}
	if (reason_len == 0 && oa_http_status_reason(resp->status) != NULL) {
		reason = oa_http_status_reason(resp->status);
		reason_len = strlen(reason);
	}
	rc = px_buf_appendf(out, "HTTP/1.%d %d ", o->http_minor, resp->status);
	if (rc == 0 && reason_len > 0) {
		rc = px_buf_append(out, reason, reason_len);
	}
	if (rc == 0) {
		rc = px_buf_append(out, "\r\n", 2);
	}
	if (rc == 0) {
		rc = append_fields(out, resp, skip, sizeof(skip) / sizeof(skip[0]));
	}
	if (resp->status < 200 || resp->status == 204) {
		/* No framing field on a status that never has a body (RFC 9110 8.6, 6.4.1). */
	} else if (rc == 0 && o->chunked) {
		rc = px_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
	} else if (rc == 0 && o->content_length >= 0) {
		rc = px_buf_appendf(out, "Content-Length: %lld\r\n", o->content_length);
	}
	if (rc == 0 && o->has_age) {
		rc = px_buf_appendf(out, "Age: %lld\r\n", o->age);
	}
	if (rc == 0 && o->x_cache != NULL) {
		rc = px_buf_appendf(out, "X-Cache: %s\r\n", o->x_cache);
	}
	if (rc == 0) {
		rc = append_list_field(out, resp, "Via", o->via);
	}
	if (rc == 0 && o->request_id_header != NULL) {
		rc = px_buf_appendf(out, "%s: %s\r\n", o->request_id_header, o->request_id);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, "Connection: %s\r\n\r\n",
				    o->keep_alive ? "keep-alive" : "close");
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

int px_build_error_response(int status, const char *x_cache, const char *reason_code,
			    bool keep_alive, int http_minor, px_buf *out)
{
	const char *reason = oa_http_status_reason(status);
	size_t start = out->len;
	char body[64];
	int body_len;
	int rc;

	if (reason == NULL || (http_minor != 0 && http_minor != 1) ||
	    (x_cache != NULL && !px__text_safe(x_cache)) ||
	    (reason_code != NULL && !px__text_safe(reason_code))) {
		return -EINVAL;
	}
	body_len = snprintf(body, sizeof(body), "%d %s\n", status, reason);
	rc = px_buf_appendf(out,
			    "HTTP/1.%d %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n",
			    http_minor, status, reason, body_len);
	if (rc == 0 && x_cache != NULL) {
		rc = px_buf_appendf(out, "X-Cache: %s\r\n", x_cache);
	}
	if (rc == 0 && reason_code != NULL) {
		rc = px_buf_appendf(out, "X-Originaudit-Reason: %s\r\n", reason_code);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, "Connection: %s\r\n\r\n%s",
				    keep_alive ? "keep-alive" : "close", body);
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

int px_build_redirect(int status, const char *host, const char *target, const char *x_cache,
		      bool keep_alive, int http_minor, px_buf *out)
{
	size_t start = out->len;
	size_t target_len;
	int rc;

	if ((status != 301 && status != 307) || (http_minor != 0 && http_minor != 1) ||
	    host == NULL || !px__host_ok(host, strlen(host)) || target == NULL ||
	    (x_cache != NULL && !px__text_safe(x_cache))) {
		return -EINVAL;
	}
	target_len = strlen(target);
	if (!px__target_ok(target, target_len)) {
		return -EINVAL;
	}
	rc = px_buf_appendf(out, "HTTP/1.%d %d %s\r\nLocation: https://%s", http_minor, status,
			    oa_http_status_reason(status), host);
	/* Bytes beyond ASCII are not allowed in a URI: percent-encode them, as a browser would. */
	for (size_t i = 0; i < target_len && rc == 0; i++) {
		unsigned char c = (unsigned char)target[i];

		if (c >= 0x80) {
			rc = px_buf_appendf(out, "%%%02X", c);
		} else {
			rc = px_buf_append(out, &target[i], 1);
		}
	}
	if (rc == 0) {
		rc = px_buf_append_str(out, "\r\nContent-Length: 0\r\n");
	}
	if (rc == 0 && x_cache != NULL) {
		rc = px_buf_appendf(out, "X-Cache: %s\r\n", x_cache);
	}
	if (rc == 0) {
		rc = px_buf_appendf(out, "Connection: %s\r\n\r\n",
				    keep_alive ? "keep-alive" : "close");
	}
	if (rc < 0) {
		buf_truncate(out, start);
	}
	return rc;
}

int px_viewer_policy_decision(oa_viewer_protocol_policy policy, bool viewer_tls, const char *method,
			      size_t method_len, int http_minor, int *status)
{
	bool safe;

	if (method == NULL || method_len == 0 || (http_minor != 0 && http_minor != 1)) {
		return -EINVAL;
	}
	if (policy != OA_VIEWER_ALLOW_ALL && policy != OA_VIEWER_REDIRECT_TO_HTTPS &&
	    policy != OA_VIEWER_HTTPS_ONLY) {
		return -EINVAL;
	}
	*status = 0;
	if (viewer_tls || policy == OA_VIEWER_ALLOW_ALL) {
		return 0;
	}
	if (policy == OA_VIEWER_HTTPS_ONLY) {
		*status = 403;
		return 0;
	}
	/* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
	safe = (method_len == 3 && memcmp(method, "GET", 3) == 0) ||
	       (method_len == 4 && memcmp(method, "HEAD", 4) == 0);
	if (safe) {
		*status = 301;
	} else {
		/* A 307 keeps the method and body; HTTP/1.0 clients may not honour that, so 403. */
		*status = http_minor == 1 ? 307 : 403;
	}
	return 0;
}
