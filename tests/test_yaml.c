/*
 * Tests for the YAML reader (core/config/yaml_json.h) and the CloudFormation
 * template helpers (core/config/config_cfn.h): a CloudFormation
 * template in YAML reads into exactly the JSON its JSON form gives, short-form
 * intrinsic tags become their long form, scalars get the core schema's
 * types, and malformed or hostile documents are refused with the line and
 * column named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_cfn.h"
#include "yaml_json.h"

/* Reads yaml; fails the test unless it reads and equals the JSON text want. */
static void expect_json(const char *yaml, const char *want)
{
	json_t *got = NULL;
	json_error_t jerr;
	json_t *expected = json_loads(want, 0, &jerr);
	oa_error err;

	assert_non_null(expected);
	oa_error_clear(&err);
	if (oa__yaml_to_json(yaml, strlen(yaml), "t.yaml", &got, &err) < 0) {
		fail_msg("refused: %s", err.msg);
	}
	if (!json_equal(got, expected)) {
		char *text = json_dumps(got, JSON_SORT_KEYS);

		fail_msg("got %s, want %s", text, want);
	}
	json_decref(got);
	json_decref(expected);
}

/* Reads yaml; fails the test unless it is refused with exactly the message want. */
static void expect_error(const char *yaml, const char *want)
{
	json_t *got = NULL;
	oa_error err;

	oa_error_clear(&err);
	assert_true(oa__yaml_to_json(yaml, strlen(yaml), "t.yaml", &got, &err) < 0);
	assert_null(got);
	assert_string_equal(err.msg, want);
}

static void test_template_as_json(void **state)
{
	expect_json(
	    "AWSTemplateFormatVersion: '2010-09-09'\n"
	    "Resources:\n"
	    "  Cdn:\n"
	    "    Type: AWS::CloudFront::Distribution\n"
	    "    Properties:\n"
	    "      DistributionConfig:\n"
	    "        Enabled: true\n"
	    "        Aliases: [www.example.com, example.com]\n"
	    "        Origins:\n"
	    "          - Id: app\n"
	    "            DomainName: origin.example.com\n"
	    "            CustomOriginConfig:\n"
	    "              HTTPSPort: 443\n"
	    "              OriginProtocolPolicy: https-only\n"
	    "              OriginSSLProtocols: [TLSv1.2]\n"
	    "              OriginReadTimeout: 30.5\n",
	    "{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {\"Cdn\": {"
	    "\"Type\": \"AWS::CloudFront::Distribution\", \"Properties\": {"
	    "\"DistributionConfig\": {\"Enabled\": true, \"Aliases\": [\"www.example.com\", "
	    "\"example.com\"], \"Origins\": [{\"Id\": \"app\", \"DomainName\": "
	    "\"origin.example.com\", \"CustomOriginConfig\": {\"HTTPSPort\": 443, "
	    "\"OriginProtocolPolicy\": \"https-only\", \"OriginSSLProtocols\": [\"TLSv1.2\"], "
	    "\"OriginReadTimeout\": 30.5}}]}}}}}");
}

static void test_short_form_tags(void **state)
{
	expect_json("a: !Ref OriginDomain\n"
		    "b: !GetAtt Bucket.RegionalDomainName\n"
		    "c: !Sub '${AWS::StackName}.example.com'\n"
		    "d: !Join ['.', [api, !Ref Zone]]\n"
		    "e: !If [IsProd, 443, 8443]\n"
		    "f: !GetAtt [Lb, DNSName]\n"
		    "g: !Select [0, !Split [',', !ImportValue Names]]\n",
		    "{\"a\": {\"Ref\": \"OriginDomain\"},"
		    " \"b\": {\"Fn::GetAtt\": [\"Bucket\", \"RegionalDomainName\"]},"
		    " \"c\": {\"Fn::Sub\": \"${AWS::StackName}.example.com\"},"
		    " \"d\": {\"Fn::Join\": [\".\", [\"api\", {\"Ref\": \"Zone\"}]]},"
		    " \"e\": {\"Fn::If\": [\"IsProd\", 443, 8443]},"
		    " \"f\": {\"Fn::GetAtt\": [\"Lb\", \"DNSName\"]},"
		    " \"g\": {\"Fn::Select\": [0, {\"Fn::Split\": [\",\", {\"Fn::ImportValue\": "
		    "\"Names\"}]}]}}");
	/* The long form is plain YAML and reads as it is. */
	expect_json("a:\n  Fn::GetAtt: [Lb, DNSName]\n",
		    "{\"a\": {\"Fn::GetAtt\": [\"Lb\", \"DNSName\"]}}");
}

static void test_scalar_types(void **state)
{
	expect_json(
	    "[1, -2, +3, 1.5, true, False, null, ~, '443', \"true\", 0x1F, 0o17, 1e3, 08, "
	    "TLSv1.2, '', x y, .inf, 1.2.3]",
	    "[1, -2, 3, 1.5, true, false, null, null, \"443\", \"true\", 31, 15, 1000.0, 8, "
	    "\"TLSv1.2\", \"\", \"x y\", \".inf\", \"1.2.3\"]");
	/* An empty value is null; a standard tag keeps the text. */
	expect_json("a:\nb: !!str 443\n", "{\"a\": null, \"b\": \"443\"}");
}

static void test_anchors_and_aliases(void **state)
{
	expect_json("base: &cfg {HTTPSPort: 443, OriginProtocolPolicy: https-only}\n"
		    "one: *cfg\n"
		    "two: [*cfg, &name origin.example.com, *name]\n",
		    "{\"base\": {\"HTTPSPort\": 443, \"OriginProtocolPolicy\": \"https-only\"},"
		    " \"one\": {\"HTTPSPort\": 443, \"OriginProtocolPolicy\": \"https-only\"},"
		    " \"two\": [{\"HTTPSPort\": 443, \"OriginProtocolPolicy\": \"https-only\"},"
		    " \"origin.example.com\", \"origin.example.com\"]}");
}

static void test_refused(void **state)
{
	expect_error("a: 1\na: 2\n", "t.yaml:2:1: duplicate key \"a\"");
	expect_error("a: *nowhere\n", "t.yaml:1:4: unknown alias *nowhere");
	expect_error("a: !Custom x\n", "t.yaml:1:4: unknown tag !Custom");
	expect_error("", "t.yaml: empty YAML document");
	expect_error("a: 1\n---\nb: 2\n",
		     "t.yaml:2:1: more than one YAML document (a template is one)");
	expect_error("? [a, b]\n: 1\n", "t.yaml:1:3: a mapping key must be a plain string");
	expect_error("a: [1, 2\nb: 3\n", "t.yaml:2:2: did not find expected ',' or ']'");
	expect_error("a:\n  b: 1\n c: 2\n", "t.yaml:3:2: did not find expected key");
}

static void test_depth_bounded(void **state)
{
	char deep[400];
	size_t n = 0;

	for (int i = 0; i < 70; i++) {
		deep[n++] = '[';
	}
	for (int i = 0; i < 70; i++) {
		deep[n++] = ']';
	}
	deep[n] = '\0';
	expect_error(deep, "t.yaml:1:66: nested deeper than 64 levels");
}

static void test_alias_bomb_bounded(void **state)
{
	/* A "billion laughs" document: shared values keep memory flat, the alias count bounds it.
	 */
	char doc[8192] = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
	char line[64];

	for (int i = 1; i < 10; i++) {
		char c = (char)('a' + i), p = (char)('a' + i - 1);

		snprintf(line, sizeof(line), "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
			 c, c, p, p, p, p, p, p, p, p);
		strcat(doc, line);
	}
	/* 9 levels x 8 aliases = 72 uses: read, values shared. */
	json_t *got = NULL;
	oa_error err;

	oa_error_clear(&err);
	assert_int_equal(oa__yaml_to_json(doc, strlen(doc), "t.yaml", &got, &err), 0);
	assert_int_equal(json_array_size(json_object_get(got, "j")), 8);
	json_decref(got);

	/* Past 4096 alias uses: refused. */
	char many[40000] = "a: &a x\nb: [";
	for (int i = 0; i < 4100; i++) {
		strcat(many, i == 0 ? "*a" : ",*a");
	}
	strcat(many, "]\n");
	json_t *none = NULL;
	assert_true(oa__yaml_to_json(many, strlen(many), "t.yaml", &none, &err) < 0);
	assert_null(none);
	assert_non_null(strstr(err.msg, "more than 4096 aliases"));
}

/* Writes text to a temporary file; returns its path (static). */
static const char *temp_file(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/oa-test-cfn-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static const char cfn_yaml[] = "Resources:\n"
			       "  Bucket:\n"
			       "    Type: AWS::S3::Bucket\n"
			       "  Cdn:\n"
			       "    Type: AWS::CloudFront::Distribution\n"
			       "    Properties:\n"
			       "      DistributionConfig:\n"
			       "        Origins:\n"
			       "          - Id: app\n"
			       "            DomainName: !Ref OriginDomain\n"
			       "  Second:\n"
			       "    Type: AWS::CloudFront::Distribution\n"
			       "    Properties:\n"
			       "      DistributionConfig: {Origins: [{Id: lb, DomainName: !GetAtt "
			       "Lb.DNSName}]}\n";

static void test_cfn_template_yaml_and_json(void **state)
{
	oa_error err;
	json_t *yaml_root = NULL, *json_root = NULL;
	const char *path = temp_file(cfn_yaml);
	char copy[64];

	snprintf(copy, sizeof(copy), "%s", path);
	assert_int_equal(oa__cfn_read(copy, &yaml_root, &err), 0);
	unlink(copy);
	assert_true(oa__cfn_is_template(yaml_root));
	/* The same template in JSON (leading blanks, then '{'). */
	char *text = json_dumps(yaml_root, 0);
	char json_text[4096];
	snprintf(json_text, sizeof(json_text), "\n  %s", text);
	free(text);
	path = temp_file(json_text);
	snprintf(copy, sizeof(copy), "%s", path);
	assert_int_equal(oa__cfn_read(copy, &json_root, &err), 0);
	unlink(copy);
	assert_true(json_equal(yaml_root, json_root));

	oa__cfn_distribution *d = NULL;
	size_t n = 0;
	char expr[128];

	assert_int_equal(oa__cfn_distributions(yaml_root, "t.yaml", &d, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].logical_id, "Cdn");
	assert_string_equal(d[1].logical_id, "Second");
	const json_t *origin = json_array_get(json_object_get(d[0].config, "Origins"), 0);
	assert_true(oa__cfn_unresolved(json_object_get(origin, "DomainName"), expr, sizeof(expr)));
	assert_string_equal(expr, "!Ref OriginDomain");
	origin = json_array_get(json_object_get(d[1].config, "Origins"), 0);
	assert_true(oa__cfn_unresolved(json_object_get(origin, "DomainName"), expr, sizeof(expr)));
	assert_string_equal(expr, "!GetAtt Lb.DNSName");
	assert_false(oa__cfn_unresolved(json_object_get(origin, "Id"), expr, sizeof(expr)));
	free(d);
	json_decref(yaml_root);
	json_decref(json_root);
}

static void test_cfn_unresolved_forms(void **state)
{
	char expr[64];
	json_t *v = json_loads("{\"Fn::Join\": [\".\", [\"api\", {\"Ref\": \"Zone\"}]]}", 0, NULL);

	assert_true(oa__cfn_unresolved(v, expr, sizeof(expr)));
	assert_string_equal(expr, "!Join [\".\",[\"api\",{\"Ref\":\"Zone\"}]]");
	json_decref(v);
	v = json_loads("{\"Fn::Sub\": \"api.${Zone}\"}", 0, NULL);
	assert_true(oa__cfn_unresolved(v, expr, sizeof(expr)));
	assert_string_equal(expr, "!Sub api.${Zone}");
	json_decref(v);
	/* Two keys, or another key, is plain data. */
	v = json_loads("{\"Ref\": \"A\", \"B\": 1}", 0, NULL);
	assert_false(oa__cfn_unresolved(v, expr, sizeof(expr)));
	json_decref(v);
	v = json_loads("{\"Reference\": \"A\"}", 0, NULL);
	assert_false(oa__cfn_unresolved(v, expr, sizeof(expr)));
	json_decref(v);
	/* Cut to size, terminated. */
	v = json_loads("{\"Ref\": \"AVeryLongParameterNameIndeed\"}", 0, NULL);
	assert_true(oa__cfn_unresolved(v, expr, 10));
	assert_string_equal(expr, "!Ref AVer");
	json_decref(v);
}

static void test_cfn_refused(void **state)
{
	oa_error err;
	json_t *root = NULL;
	oa__cfn_distribution *d = NULL;
	size_t n = 0;

	root = json_loads("{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\"}}}", 0, NULL);
	assert_true(oa__cfn_distributions(root, "t.json", &d, &n, &err) < 0);
	assert_string_equal(err.msg,
			    "t.json: Resources: no AWS::CloudFront::Distribution resource");
	json_decref(root);
	root = json_loads("{\"Resources\": {\"Cdn\": {\"Type\": \"AWS::CloudFront::Distribution\", "
			  "\"Properties\": {\"DistributionConfig\": [1]}}}}",
			  0, NULL);
	assert_true(oa__cfn_distributions(root, "t.json", &d, &n, &err) < 0);
	assert_string_equal(
	    err.msg, "t.json: Resources.Cdn.Properties.DistributionConfig: expected an object");
	json_decref(root);
	root = json_loads("{\"ETag\": \"E1\"}", 0, NULL);
	assert_false(oa__cfn_is_template(root));
	assert_true(oa__cfn_distributions(root, "t.json", &d, &n, &err) < 0);
	assert_string_equal(err.msg, "t.json: not a CloudFormation template: no Resources");
	json_decref(root);

	/* Files: missing, malformed JSON and YAML with their lines. */
	assert_true(oa__cfn_read("/nonexistent/t.yaml", &root, &err) < 0);
	assert_string_equal(err.msg, "/nonexistent/t.yaml: No such file or directory");
	char copy[64];
	snprintf(copy, sizeof(copy), "%s", temp_file("{\"Resources\": {,}}"));
	assert_true(oa__cfn_read(copy, &root, &err) < 0);
	assert_null(root);
	assert_non_null(strstr(err.msg, ":1:"));
	assert_int_equal(strncmp(err.msg, copy, strlen(copy)), 0);
	unlink(copy);
	snprintf(copy, sizeof(copy), "%s", temp_file("Resources:\n  Cdn: [\n"));
	assert_true(oa__cfn_read(copy, &root, &err) < 0);
	assert_null(root);
	assert_int_equal(strncmp(err.msg, copy, strlen(copy)), 0);
	assert_non_null(strstr(err.msg, ":3:"));
	unlink(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template_as_json),
	    cmocka_unit_test(test_short_form_tags),
	    cmocka_unit_test(test_scalar_types),
	    cmocka_unit_test(test_anchors_and_aliases),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_depth_bounded),
	    cmocka_unit_test(test_alias_bomb_bounded),
	    cmocka_unit_test(test_cfn_template_yaml_and_json),
	    cmocka_unit_test(test_cfn_unresolved_forms),
	    cmocka_unit_test(test_cfn_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
