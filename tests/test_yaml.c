/*
 * Tests for the YAML reader (core/config/yaml_json.h): a CloudFormation
 * template in YAML reads into exactly the JSON its JSON form gives, short-form
 * intrinsic tags become their long form, scalars get the core schema's
 * types, and malformed or hostile documents are refused with the line and
 * column named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
