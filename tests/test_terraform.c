/*
 * Tests for the Terraform importer (oa_config_load_terraform): saved plans
 * and state as `terraform show -json` prints them (tests/data/terraform),
 * values known only after apply, and the exact error messages.
 *
 * JSON written in this file uses single quotes for readability; write_doc
 * turns them into double quotes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "originaudit/config.h"

#define ALL_VIEWER_POLICY "216adef6-5c7f-47e4-b989-5492eafa07d3"

static char *tmpdir;

static int group_setup(void **state)
{
	tmpdir = fx_tempdir();
	return 0;
}

static int group_teardown(void **state)
{
	fx_tempdir_remove(tmpdir);
	tmpdir = NULL;
	return 0;
}

static char *data_path(const char *name)
{
	const char *dir = getenv("OA_TEST_DATA");

	if (dir == NULL) {
		fail_msg("OA_TEST_DATA is not set (run the tests through meson test)");
	}
	char *sub = fx_path(dir, "terraform");
	char *path = fx_path(sub, name);
	free(sub);
	return path;
}

/* Writes text (single quotes turned into double quotes) to tmpdir/name; returns the path. */
static char *write_doc(const char *name, const char *text)
{
	char *path = fx_path(tmpdir, name);
	char *json = strdup(text);

	assert_non_null(json);
	for (char *p = json; *p != '\0'; p++) {
		if (*p == '\'') {
			*p = '"';
		}
	}
	fx_write(path, json, strlen(json));
	free(json);
	return path;
}

/* Loads path into list; asserts success. */
static void load_ok(const char *path, oa_config_list *list)
{
	oa_error err;

	oa_error_clear(&err);
	int rc = oa_config_load_terraform(path, list, &err);
	if (rc != 0) {
		fail_msg("oa_config_load_terraform: %d %s", rc, err.msg);
	}
}

static void load_data(const char *name, oa_config_list *list)
{
	char *path = data_path(name);

	load_ok(path, list);
	free(path);
}

/*
 * Asserts that loading path fails with code and exactly "PATH: expected"
 * ("PATH:expected" for a syntax error, -EBADMSG); list stays as it was.
 */
static void assert_fails_path(const char *path, int code, const char *expected)
{
	oa_config *sentinel = calloc(1, sizeof(oa_config));
	oa_config_list list = {NULL, 0};
	char want[OA_ERROR_MSG_MAX + 256];
	oa_error err;

	/* One configuration already there: a failed load must leave it alone. */
	assert_non_null(sentinel);
	assert_int_equal(oa_config_list_push(&list, sentinel), 0);
	oa_error_clear(&err);
	int rc = oa_config_load_terraform(path, &list, &err);
	snprintf(want, sizeof(want), "%s:%s%s", path, code == -EBADMSG ? "" : " ", expected);
	if (rc != code || err.code != code || strcmp(err.msg, want) != 0) {
		fail_msg("expected %d \"%s\"\n     got %d/%d \"%s\"", code, want, rc, err.code,
			 err.msg);
	}
	assert_int_equal(list.n, 1);
	assert_ptr_equal(list.items[0], sentinel);
	oa_config_list_clear(&list);
}

/* Writes text and asserts that loading it fails with -EINVAL and "PATH: expected". */
static void fails(const char *text, const char *expected)
{
	char *path = write_doc("bad.json", text);

	assert_fails_path(path, -EINVAL, expected);
	free(path);
}

static void assert_custom(const oa_origin_config *o, const char *id, const char *domain,
			  unsigned https_port, oa_origin_protocol_policy policy, unsigned ssl,
			  oa_ip_address_type ipt)
{
	assert_string_equal(o->id, id);
	assert_string_equal(o->domain_name, domain);
	assert_int_equal(o->https_port, https_port);
	assert_int_equal(o->http_port, 80);
	assert_int_equal(o->protocol_policy, policy);
	assert_int_equal(o->ssl_protocols, ssl);
	assert_int_equal(o->ip_address_type, ipt);
	assert_false(o->s3);
	assert_false(o->vpc);
	assert_null(o->vpc_origin_id);
	assert_null(o->unresolved);
	assert_null(o->unresolved_reason);
	assert_null(o->addresses);
}

static void assert_behavior(const oa_behavior_config *b, const char *pattern, const char *origin,
			    size_t index, oa_viewer_protocol_policy vpp, bool host)
{
	if (pattern == NULL) {
		assert_null(b->path_pattern);
	} else {
		assert_string_equal(b->path_pattern, pattern);
	}
	assert_string_equal(b->origin_id, origin);
	assert_int_equal(b->origin_index, index);
	assert_int_equal(b->viewer_protocol_policy, vpp);
	assert_int_equal(b->forward_host_header, host);
}

/* The distribution of plan-create.json and state.json (state knows every value). */
static void assert_shop(const oa_config *c, const char *address)
{
	assert_string_equal(c->distribution, address);
	assert_int_equal(c->n_aliases, 2);
	assert_string_equal(c->aliases[0], "www.example.net");
	assert_string_equal(c->aliases[1], "shop.example.net");

	assert_int_equal(c->n_origins, 4);
	const oa_origin_config *o = &c->origins[0];
	assert_custom(o, "app", "app-origin.example.net", 443, OA_ORIGIN_HTTPS_ONLY,
		      OA_PROTO_TLS1_2, OA_IP_IPV4);
	assert_string_equal(o->origin_path, "");
	assert_int_equal(o->connection_attempts, 3);
	assert_int_equal(o->connection_timeout_s, 10);
	assert_int_equal(o->read_timeout_s, 30);
	assert_int_equal(o->keepalive_timeout_s, 5);

	/* S3: origin_access_control_id is unknown in the plan, which does not matter. */
	o = &c->origins[1];
	assert_string_equal(o->id, "assets");
	assert_string_equal(o->domain_name, "assets-bucket.s3.us-east-1.amazonaws.com");
	assert_true(o->s3);
	assert_false(o->vpc);
	assert_null(o->unresolved);

	o = &c->origins[2];
	assert_string_equal(o->id, "internal");
	assert_string_equal(o->domain_name, "internal-alb.example.net");
	assert_false(o->s3);
	assert_true(o->vpc);
	assert_string_equal(o->vpc_origin_id, "vo_0123456789abcdef0");
	assert_int_equal(o->https_port, 443);
	assert_int_equal(o->protocol_policy, OA_ORIGIN_HTTPS_ONLY);
	assert_int_equal(o->ssl_protocols, OA_PROTO_TLS1_2);
	assert_int_equal(o->ip_address_type, OA_IP_DUALSTACK);
	assert_int_equal(o->read_timeout_s, 60);
	assert_int_equal(o->keepalive_timeout_s, 10);
	assert_null(o->unresolved);

	o = &c->origins[3];
	assert_custom(o, "app-failover", "failover.example.net", 443, OA_ORIGIN_MATCH_VIEWER,
		      OA_PROTO_TLS1_1 | OA_PROTO_TLS1_2, OA_IP_DUALSTACK);
	assert_string_equal(o->origin_path, "/v2");
	assert_int_equal(o->connection_attempts, 2);
	assert_int_equal(o->connection_timeout_s, 5);
	assert_int_equal(o->read_timeout_s, 45);

	/* The default behaviour targets the origin group: its primary, then every member. */
	assert_true(c->has_default_behavior);
	assert_behavior(&c->default_behavior, NULL, "app", 0, OA_VIEWER_REDIRECT_TO_HTTPS, true);
	assert_int_equal(c->default_behavior.n_group_members, 2);
	assert_int_equal(c->default_behavior.group_members[0], 0);
	assert_int_equal(c->default_behavior.group_members[1], 3);

	assert_int_equal(c->n_behaviors, 3);
	assert_behavior(&c->behaviors[0], "/static/*", "assets", 1, OA_VIEWER_HTTPS_ONLY, false);
	/* "host" among forwarded_values' headers, in lower case. */
	assert_behavior(&c->behaviors[1], "/api/*", "app", 0, OA_VIEWER_REDIRECT_TO_HTTPS, true);
	assert_behavior(&c->behaviors[2], "/internal/*", "internal", 2, OA_VIEWER_HTTPS_ONLY,
			false);
	for (size_t i = 0; i < 3; i++) {
		assert_null(c->behaviors[i].group_members);
		assert_int_equal(c->behaviors[i].n_group_members, 0);
	}
}

static void test_plan_create(void **state)
{
	oa_config_list list = {NULL, 0};

	load_data("plan-create.json", &list);
	assert_int_equal(list.n, 1);
	assert_shop(list.items[0], "aws_cloudfront_distribution.cdn");
	oa_config_list_clear(&list);
}

/* Child modules only (the root module has no resources), count and for_each addresses. */
static void test_plan_modules(void **state)
{
	oa_config_list list = {NULL, 0};

	load_data("plan-modules.json", &list);
	assert_int_equal(list.n, 3);

	const oa_config *c = list.items[0];
	assert_string_equal(c->distribution, "module.cdn.aws_cloudfront_distribution.main[0]");
	assert_int_equal(c->n_aliases, 1);
	assert_string_equal(c->aliases[0], "main.example.net");
	assert_int_equal(c->n_origins, 1);
	assert_custom(&c->origins[0], "web", "main-origin.example.net", 443, OA_ORIGIN_HTTPS_ONLY,
		      OA_PROTO_TLS1_2, OA_IP_DUALSTACK);
	assert_int_equal(c->n_behaviors, 0);
	assert_true(c->has_default_behavior);
	assert_behavior(&c->default_behavior, NULL, "web", 0, OA_VIEWER_REDIRECT_TO_HTTPS, false);

	c = list.items[1];
	assert_string_equal(
	    c->distribution,
	    "module.cdn.module.regional.aws_cloudfront_distribution.site[\"prod\"]");
	assert_string_equal(c->aliases[0], "prod.example.net");
	assert_int_equal(c->n_origins, 1);
	assert_custom(&c->origins[0], "prod-web", "prod-origin.example.net", 443,
		      OA_ORIGIN_HTTPS_ONLY, OA_PROTO_TLS1_2, OA_IP_DUALSTACK);
	/* forwarded_values.headers ["*"]. */
	assert_behavior(&c->default_behavior, NULL, "prod-web", 0, OA_VIEWER_HTTPS_ONLY, true);

	c = list.items[2];
	assert_string_equal(
	    c->distribution,
	    "module.cdn.module.regional.aws_cloudfront_distribution.site[\"staging\"]");
	assert_string_equal(c->aliases[0], "staging.example.net");
	assert_custom(&c->origins[0], "staging-web", "staging-origin.example.net", 443,
		      OA_ORIGIN_HTTPS_ONLY, OA_PROTO_TLS1_0 | OA_PROTO_TLS1_2, OA_IP_DUALSTACK);
	assert_behavior(&c->default_behavior, NULL, "staging-web", 0, OA_VIEWER_ALLOW_ALL, false);
	oa_config_list_clear(&list);
}

static void test_plan_unknown(void **state)
{
	oa_config_list list = {NULL, 0};

	load_data("plan-unknown.json", &list);
	assert_int_equal(list.n, 2);

	/* An origin on a load balancer created by the same plan, and one whose id is unknown. */
	const oa_config *c = list.items[0];
	assert_string_equal(c->distribution, "aws_cloudfront_distribution.api");
	assert_int_equal(c->n_aliases, 1);
	assert_string_equal(c->aliases[0], "api.example.net");
	assert_int_equal(c->n_origins, 3);
	const oa_origin_config *o = &c->origins[0];
	assert_string_equal(o->id, "api-lb");
	assert_string_equal(o->domain_name, "(known after apply)");
	assert_string_equal(o->unresolved, "origin[0].domain_name");
	assert_string_equal(o->unresolved_reason, "unknown_until_apply");
	assert_false(o->s3);
	assert_custom(&c->origins[1], "static", "static.example.net", 443, OA_ORIGIN_HTTPS_ONLY,
		      OA_PROTO_TLS1_2, OA_IP_IPV4);
	o = &c->origins[2];
	assert_string_equal(o->id, "origin[2]");
	assert_string_equal(o->domain_name, "(known after apply)");
	assert_string_equal(o->unresolved, "origin[2].origin_id");
	assert_string_equal(o->unresolved_reason, "unknown_until_apply");
	/* The behaviours are known: read, the one on the load balancer included. */
	assert_true(c->has_default_behavior);
	assert_behavior(&c->default_behavior, NULL, "static", 1, OA_VIEWER_HTTPS_ONLY, false);
	assert_int_equal(c->n_behaviors, 1);
	assert_behavior(&c->behaviors[0], "/v1/*", "api-lb", 0, OA_VIEWER_HTTPS_ONLY, true);

	/* Aliases unknown: the Host probes cannot be known, every probed origin is skipped. */
	c = list.items[1];
	assert_string_equal(c->distribution, "aws_cloudfront_distribution.edge");
	assert_int_equal(c->n_aliases, 0);
	assert_int_equal(c->n_origins, 2);
	o = &c->origins[0];
	assert_string_equal(o->id, "edge");
	assert_string_equal(o->domain_name, "edge-origin.example.net");
	assert_string_equal(o->unresolved, "aliases");
	assert_string_equal(o->unresolved_reason, "unknown_until_apply");
	o = &c->origins[1];
	assert_string_equal(o->id, "bucket");
	assert_true(o->s3);
	assert_null(o->unresolved);
	assert_false(c->has_default_behavior);
	assert_int_equal(c->n_behaviors, 0);
	oa_config_list_clear(&list);
}

/* State: the data source of the same type is ignored; a child module's resource follows. */
static void test_state(void **state)
{
	oa_config_list list = {NULL, 0};

	load_data("state.json", &list);
	assert_int_equal(list.n, 2);
	assert_shop(list.items[0], "aws_cloudfront_distribution.cdn");
	const oa_config *c = list.items[1];
	assert_string_equal(c->distribution, "module.edge.aws_cloudfront_distribution.this");
	assert_int_equal(c->n_aliases, 1);
	assert_string_equal(c->aliases[0], "edge.example.net");
	assert_custom(&c->origins[0], "edge", "edge-origin.example.net", 443, OA_ORIGIN_HTTPS_ONLY,
		      OA_PROTO_TLS1_2, OA_IP_DUALSTACK);
	assert_behavior(&c->default_behavior, NULL, "edge", 0, OA_VIEWER_REDIRECT_TO_HTTPS, true);
	oa_config_list_clear(&list);
}

/* Loads append: a second file's distributions follow the first's. */
static void test_append(void **state)
{
	oa_config_list list = {NULL, 0};

	load_data("plan-create.json", &list);
	load_data("plan-modules.json", &list);
	assert_int_equal(list.n, 4);
	assert_string_equal(list.items[0]->distribution, "aws_cloudfront_distribution.cdn");
	assert_string_equal(
	    list.items[3]->distribution,
	    "module.cdn.module.regional.aws_cloudfront_distribution.site[\"staging\"]");
	oa_config_list_clear(&list);
}

/* A minimal state around one distribution's values (a JSON object's members). */
#define STATE(values)                                                                              \
	"{'format_version': '1.0', 'values': {'root_module': {'resources': [{'address': "          \
	"'aws_cloudfront_distribution.d', 'mode': 'managed', 'type': "                             \
	"'aws_cloudfront_distribution', 'name': 'd', 'values': {" values "}}]}}}"

#define ORIGIN_A                                                                                   \
	"{'origin_id': 'a', 'domain_name': 'a.example.net', 'custom_origin_config': "              \
	"[{'http_port': 80, 'https_port': 443, 'origin_protocol_policy': 'https-only', "           \
	"'origin_ssl_protocols': ['TLSv1.2']}]}"

#define DEFAULT_A                                                                                  \
	"'default_cache_behavior': [{'target_origin_id': 'a', 'viewer_protocol_policy': "          \
	"'allow-all'}]"

#define E_D "aws_cloudfront_distribution.d: "

static void test_value_errors(void **state)
{
	fails(STATE("'origin': ['app'], " DEFAULT_A),
	      E_D "origin[0]: expected an object, got a string");
	fails(STATE("'origin': [{'origin_id': 'a', 'domain_name': 'a.example.net', "
		    "'custom_origin_config': [{'https_port': '443'}]}], " DEFAULT_A),
	      E_D "origin[0].custom_origin_config[0].https_port: expected an integer, got a "
		  "string");
	fails(STATE("'origin': [" ORIGIN_A ", {'origin_id': 'b', 'domain_name': "
		    "'b.example.net', 'custom_origin_config': [{'origin_protocol_policy': "
		    "'https-first'}]}], " DEFAULT_A),
	      E_D "origin[1].custom_origin_config[0].origin_protocol_policy: expected "
		  "http-only, https-only or match-viewer, got \"https-first\"");
	fails(STATE("'origin': [" ORIGIN_A "], 'default_cache_behavior': [{'target_origin_id': "
		    "'b'}]"),
	      E_D "default_cache_behavior[0].target_origin_id: no origin with id \"b\"");
	fails(STATE("'origin': [" ORIGIN_A "], " DEFAULT_A ", 'ordered_cache_behavior': "
		    "[{'path_pattern': '/x/*', 'target_origin_id': 'group'}], 'origin_group': "
		    "[{'origin_id': 'group', 'member': [{'origin_id': 'a'}, {'origin_id': 'z'}]}]"),
	      E_D "origin_group[0].member[1].origin_id: no origin with id \"z\"");
	fails(STATE("'origin': [" ORIGIN_A "], 'default_cache_behavior': {'target_origin_id': "
		    "'a'}"),
	      E_D "default_cache_behavior: expected an array, got an object");
	fails(STATE("'origin': [" ORIGIN_A ", " ORIGIN_A "], " DEFAULT_A),
	      E_D "origin[1].origin_id: duplicate id \"a\"");
	fails(STATE("'origin': [], " DEFAULT_A), E_D "origin: expected at least one origin");
	fails(STATE("'origin': [{'origin_id': 'a', 'domain_name': 'a.example.net', "
		    "'vpc_origin_config': [{'vpc_origin_id': 'vo_1', 'ip_address_type': "
		    "'ipv6'}]}], " DEFAULT_A),
	      E_D "origin[0].vpc_origin_config[0].ip_address_type: ipv6 is not supported for "
		  "VPC origins: expected ipv4 or dualstack");
	fails(STATE("'aliases': ['www.example.net', 'WWW.example.net'], 'origin': [" ORIGIN_A
		    "], " DEFAULT_A),
	      E_D "aliases[1]: duplicate alias \"www.example.net\"");
	fails(STATE("'origin': [{'origin_id': 'a', 'domain_name': 'a.example.net', "
		    "'custom_origin_config': [{}, {}]}], " DEFAULT_A),
	      E_D "origin[0].custom_origin_config: expected one block, got 2");
	fails(STATE("'origin': [" ORIGIN_A "], 'default_cache_behavior': [{'target_origin_id': "
		    "'a', 'forwarded_values': [{'headers': ['Host', 7]}]}]"),
	      E_D "default_cache_behavior[0].forwarded_values[0].headers[1]: expected a string, "
		  "got an integer");
}

/* Null is read as absent; the defaults apply. */
static void test_nulls(void **state)
{
	oa_config_list list = {NULL, 0};
	char *path = write_doc(
	    "nulls.json", STATE("'aliases': null, 'origin': [{'origin_id': 'a', 'domain_name': "
				"'a.example.net', 'origin_path': null, 'custom_origin_config': "
				"[{'https_port': null, 'ip_address_type': '', "
				"'origin_ssl_protocols': null}], 'vpc_origin_config': null}], "
				"'ordered_cache_behavior': null, " DEFAULT_A));

	load_ok(path, &list);
	free(path);
	assert_int_equal(list.n, 1);
	const oa_config *c = list.items[0];
	assert_int_equal(c->n_aliases, 0);
	assert_custom(&c->origins[0], "a", "a.example.net", 443, OA_ORIGIN_HTTPS_ONLY,
		      OA_PROTO_TLS1_2, OA_IP_DUALSTACK);
	assert_string_equal(c->origins[0].origin_path, "");
	assert_int_equal(c->n_behaviors, 0);
	assert_behavior(&c->default_behavior, NULL, "a", 0, OA_VIEWER_ALLOW_ALL, false);
	oa_config_list_clear(&list);
}

/* The AllViewer managed policy forwards Host. */
static void test_all_viewer(void **state)
{
	oa_config_list list = {NULL, 0};
	char *path = write_doc("allviewer.json",
			       STATE("'origin': [" ORIGIN_A
				     "], 'default_cache_behavior': [{'target_origin_id': "
				     "'a', 'origin_request_policy_id': '" ALL_VIEWER_POLICY "'}]"));

	load_ok(path, &list);
	free(path);
	assert_true(list.items[0]->default_behavior.forward_host_header);
	oa_config_list_clear(&list);
}

static void test_structure_errors(void **state)
{
	fails("{'format_version': '1.2', 'planned_values': {'root_module': {'child_modules': "
	      "[{'address': 'module.a', 'resources': [{'address': 'x', 'mode': 'managed', "
	      "'type': 'aws_s3_bucket'}, 7]}]}}}",
	      "planned_values.root_module.child_modules[0].resources[1]: expected an object, got "
	      "an integer");
	fails("{'format_version': '1.2', 'planned_values': {'root_module': {'resources': {}}}}",
	      "planned_values.root_module.resources: expected an array, got an object");
	fails("{'format_version': '1.0', 'values': {'root_module': {'resources': [{'mode': "
	      "'managed', 'type': 'aws_cloudfront_distribution', 'values': {}}]}}}",
	      "values.root_module.resources[0].address: expected a string, got nothing");
	fails("{'format_version': '1.0', 'values': {'root_module': {'resources': [{'address': "
	      "'aws_cloudfront_distribution.d', 'mode': 'managed', 'type': "
	      "'aws_cloudfront_distribution', 'values': null}]}}}",
	      "values.root_module.resources[0].values: expected an object, got null");
	fails("{'format_version': '1.0', 'values': {}}",
	      "values: missing required key \"root_module\"");
	fails("{'format_version': '1.2', 'planned_values': {'root_module': {}}, "
	      "'resource_changes': {}}",
	      "resource_changes: expected an array, got an object");
}

static void test_not_terraform(void **state)
{
	fails("[1, 2]", "not terraform show -json output: expected an object at the top level, "
			"got an array");
	fails("{'planned_values': {'root_module': {}}}",
	      "not terraform show -json output: expected format_version and planned_values (a "
	      "saved plan) or values (state)");
	/* terraform show -json without a state prints only the format version. */
	fails("{'format_version': '1.0'}", "no aws_cloudfront_distribution in this state: it is "
					   "empty");
	fails("{'format_version': '1.0', 'provider_schemas': {}}",
	      "not terraform show -json output: expected format_version and planned_values (a "
	      "saved plan) or values (state)");
	fails("{'format_version': '1.2', 'resource_changes': []}",
	      "not terraform show -json output: expected format_version and planned_values (a "
	      "saved plan) or values (state)");
	fails("{'origins': [{'id': 'a', 'domain_name': 'a.example.net'}]}",
	      "not terraform show -json output: this looks like an originaudit configuration: "
	      "use --config FILE");
	/* CloudFront's files belong to --cloudfront. */
	fails("{'ETag': 'E1', 'DistributionConfig': {'Origins': {'Quantity': 0}}}",
	      "not terraform show -json output: this looks like AWS CLI CloudFront output: use "
	      "--cloudfront FILE");
	fails("{'Origins': {'Quantity': 0}}", "not terraform show -json output: this looks like "
					      "AWS CLI CloudFront output: use --cloudfront FILE");
	fails("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Cdn:\n    Type: "
	      "AWS::CloudFront::Distribution\n",
	      "not terraform show -json output: this looks like a CloudFormation template: use "
	      "--cloudfront FILE");
	char *path = data_path("../config/cloudfront-distribution.json");
	assert_fails_path(path, -EINVAL,
			  "not terraform show -json output: this looks like AWS CLI CloudFront "
			  "output: use --cloudfront FILE");
	free(path);
	/* The saved plan itself, a zip archive. */
	path = fx_path(tmpdir, "tfplan");
	fx_write(path, "PK\3\4\24\0\0\0\10\0", 10);
	assert_fails_path(path, -EINVAL,
			  "not terraform show -json output: this is a saved plan file: give the "
			  "output of terraform show -json PLANFILE");
	free(path);
}

static void test_no_distribution(void **state)
{
	fails("{'format_version': '1.2', 'terraform_version': '1.9.5', 'planned_values': "
	      "{'root_module': {'resources': [{'address': 'aws_s3_bucket.b', 'mode': 'managed', "
	      "'type': 'aws_s3_bucket', 'name': 'b', 'values': {}}]}}, 'resource_changes': []}",
	      "no aws_cloudfront_distribution in this plan");
	/* A data source is not a distribution this configuration manages. */
	fails("{'format_version': '1.0', 'values': {'root_module': {'resources': [{'address': "
	      "'data.aws_cloudfront_distribution.d', 'mode': 'data', 'type': "
	      "'aws_cloudfront_distribution', 'name': 'd', 'values': {'id': 'E1'}}]}}}",
	      "no aws_cloudfront_distribution in this state");
}

/* Truncated output: the reader's FILE:LINE:COLUMN, -EBADMSG. */
static void test_truncated(void **state)
{
	char *src = data_path("plan-create.json");
	char *data = NULL;
	size_t len = 0;
	FILE *f = fopen(src, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = (size_t)ftell(f);
	rewind(f);
	data = malloc(len);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, len, f), len);
	fclose(f);
	free(src);
	/* Cut after the third line: '{\n  "format_version": "1.2",\n  "terraform_version": ...'. */
	size_t cut = 0;
	for (int lines = 0; cut < len && lines < 3; cut++) {
		if (data[cut] == '\n') {
			lines++;
		}
	}
	char *path = fx_path(tmpdir, "truncated.json");
	fx_write(path, data, cut);
	free(data);
	assert_fails_path(path, -EBADMSG, "4:0: string or '}' expected near end of file");
	free(path);

	path = write_doc("syntax.json", "{'format_version': '1.0',\n 'values': {'root_module': "
					"{]}}");
	assert_fails_path(path, -EBADMSG, "2:29: string or '}' expected near ']'");
	free(path);
}

/* The -c loader points at --terraform. */
static void test_config_hint(void **state)
{
	char *path = data_path("state.json");
	oa_config *config = (oa_config *)&config;
	char want[OA_ERROR_MSG_MAX];
	oa_error err;

	int rc = oa_config_load_file(path, &config, &err);
	assert_int_equal(rc, -EINVAL);
	assert_null(config);
	snprintf(want, sizeof(want),
		 "%s: unknown key \"format_version\" at the top level: this looks like terraform "
		 "show -json output: use --terraform FILE",
		 path);
	assert_string_equal(err.msg, want);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_create),
	    cmocka_unit_test(test_plan_modules),
	    cmocka_unit_test(test_plan_unknown),
	    cmocka_unit_test(test_state),
	    cmocka_unit_test(test_append),
	    cmocka_unit_test(test_value_errors),
	    cmocka_unit_test(test_nulls),
	    cmocka_unit_test(test_all_viewer),
	    cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_not_terraform),
	    cmocka_unit_test(test_no_distribution),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_config_hint),
	};

	return cmocka_run_group_tests_name("terraform", tests, group_setup, group_teardown);
}
