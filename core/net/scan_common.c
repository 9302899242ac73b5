/*
 * What the report writers (the core's and the scanner's) share: the order of
 * a probe's checks, error hints, names.
 */
#include <stdio.h>
#include <string.h>

#include "originaudit/scan.h"

static void add(oa_scan_check_ref *ref, const char *name, const oa_check *check)
{
	ref->name = name;
	ref->check = check;
	ref->detail = check->detail != NULL ? check->detail : "";
	ref->hint = check->hint != NULL ? check->hint : "";
}

size_t oa_scan_probe_checks(const oa_probe_result *result,
			    oa_scan_check_ref out[OA_SCAN_MAX_CHECKS])
{
	size_t n = 0;

	if (result->protocols.present) {
		add(&out[n++], "protocols", &result->protocols);
	}
	for (int id = 0; result->result != NULL && id < OA_CHECK_COUNT; id++) {
		const oa_check *check = oa_result_check(result->result, (oa_check_id)id);

		if (check->present) {
			add(&out[n++], oa_check_name((oa_check_id)id), check);
		}
	}
	if (result->http.present) {
		add(&out[n++], "http", &result->http);
	}
	return n;
}

int oa_scan_first_problem(const oa_scan_check_ref *checks, size_t n)
{
	int warn = -1;

	for (size_t i = 0; i < n; i++) {
		if (checks[i].check->status == OA_STATUS_FAIL) {
			return (int)i;
		}
		if (checks[i].check->status == OA_STATUS_WARN && warn < 0) {
			warn = (int)i;
		}
	}
	return warn;
}

struct error_hint {
	const char *error;
	const char *hint;
};

/* CloudFront answers 502 for every one of these; the hint says where to look. */
static const struct error_hint error_hints[] = {
    {"dns_failed", "CloudFront resolves the origin's domain_name in public DNS: publish an A or "
		   "AAAA record for it, or correct domain_name"},
    {"connection_refused", "Nothing accepts connections on this port: start the server, or "
			   "correct the origin's https_port/http_port"},
    {"connect_timeout", "Packets to this port are dropped: allow CloudFront's origin-facing "
			"address ranges in firewalls and security groups"},
    {"handshake_timeout", "The server accepts connections but does not complete a TLS handshake: "
			  "check that this port serves TLS and that nothing in front of the "
			  "server stalls it"},
    {"handshake_too_large", "The server's TLS handshake (its certificate chain) is over 256 KiB: "
			    "serve only the leaf and its intermediates, not extra or duplicate "
			    "certificates"},
    {"not_tls", "This port does not speak TLS (plain HTTP?): serve HTTPS on the origin's "
		"https_port, or correct the port"},
    {"connection_reset", "The server dropped the handshake: check that it has a certificate for "
			 "this SNI name and accepts the origin's ssl_protocols"},
    {"connection_closed", "The server dropped the handshake: check that it has a certificate for "
			  "this SNI name and accepts the origin's ssl_protocols"},
    {"tls_alert:", "The server refused the handshake: check that it has a certificate for this "
		   "SNI name and accepts the origin's ssl_protocols and CloudFront's ciphers"},
    {"tls_error", "The TLS handshake failed: check the server's TLS configuration for this SNI "
		  "name"},
    {"no_certificate", "The server must send a certificate chain for this SNI name"},
    {"bad_certificate", "The certificate the server sent cannot be parsed: reissue or re-export "
			"it in a standard (DER/PEM X.509) form"},
};

const char *oa_scan_error_hint(const char *error)
{
	for (size_t i = 0; i < sizeof(error_hints) / sizeof(error_hints[0]); i++) {
		const char *key = error_hints[i].error;
		size_t len = strlen(key);

		/* "tls_alert:" matches every alert name. */
		if (key[len - 1] == ':' ? strncmp(error, key, len) == 0 : strcmp(error, key) == 0) {
			return error_hints[i].hint;
		}
	}
	return "";
}

const char *oa_scan_origin_error_hint(const oa_scan_origin *origin, const char *error)
{
	if (origin != NULL && origin->config != NULL && origin->config->vpc &&
	    (strcmp(error, "dns_failed") == 0 || strcmp(error, "connect_timeout") == 0 ||
	     strcmp(error, "connection_refused") == 0)) {
		return "A VPC origin is reached inside its VPC: run the scan from a host in that "
		       "VPC "
		       "(or give its private addresses with --resolve), and check the VPC origin's "
		       "security group allows it";
	}
	return oa_scan_error_hint(error);
}

void oa_scan_endpoint(const oa_scan_origin *origin, const oa_probe_spec *spec, char *buf,
		      size_t size)
{
	const char *address = spec->address;

	if (address == NULL || address[0] == '\0') {
		snprintf(buf, size, "%s:%u", origin->config->domain_name, spec->port);
	} else if (strchr(address, ':') != NULL) {
		snprintf(buf, size, "[%s]:%u", address, spec->port);
	} else {
		snprintf(buf, size, "%s:%u", address, spec->port);
	}
}

const char *oa_scan_protocol_policy_name(oa_origin_protocol_policy policy)
{
	switch (policy) {
	case OA_ORIGIN_HTTP_ONLY:
		return "http-only";
	case OA_ORIGIN_HTTPS_ONLY:
		return "https-only";
	case OA_ORIGIN_MATCH_VIEWER:
		return "match-viewer";
	}
	return "unknown";
}

const char *oa_scan_origin_id(const oa_scan_origin *origin)
{
	return origin->id != NULL ? origin->id : origin->config->id;
}
