/*
 * CloudFormation templates for the CloudFront importer (config_cfn.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_cfn.h"
#include "originaudit/file.h"
#include "yaml_json.h"

int oa__cfn_read(const char *path, json_t **root, oa_error *err)
{
	char *data;
	size_t len, i = 0;
	int rc = oa_read_file(path, &data, &len, err);

	*root = NULL;
	if (rc < 0) {
		return rc;
	}
	while (i < len &&
	       (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) {
		i++;
	}
	if (i < len && data[i] == '{') {
		json_error_t jerr;

		*root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
		if (*root == NULL) {
			rc = oa_error_set(err, -EBADMSG, "%s:%d:%d: %s", path, jerr.line,
					  jerr.column, jerr.text);
		}
	} else {
		rc = oa__yaml_to_json(data, len, path, root, err);
	}
	free(data);
	return rc;
}

bool oa__cfn_is_template(const json_t *root)
{
	return json_is_object(json_object_get(root, "Resources"));
}

int oa__cfn_distributions(const json_t *root, const char *label, oa__cfn_distribution **out,
			  size_t *n, oa_error *err)
{
	const json_t *resources = json_object_get(root, "Resources");
	const char *id;
	const json_t *res;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (!json_is_object(resources)) {
		return oa_error_set(err, -EINVAL, "%s: not a CloudFormation template: no Resources",
				    label);
	}
	oa__cfn_distribution *list = calloc(json_object_size(resources) + 1, sizeof(*list));
	if (list == NULL) {
		return oa_error_set(err, -ENOMEM, "%s: out of memory", label);
	}
	json_object_foreach((json_t *)resources, id, res)
	{
		const json_t *type = json_object_get(res, "Type");

		if (!json_is_string(type) ||
		    strcmp(json_string_value(type), "AWS::CloudFront::Distribution") != 0) {
			continue;
		}
		const json_t *dc =
		    json_object_get(json_object_get(res, "Properties"), "DistributionConfig");
		if (!json_is_object(dc)) {
			free(list);
			return oa_error_set(
			    err, -EINVAL,
			    "%s: Resources.%s.Properties.DistributionConfig: expected "
			    "an object",
			    label, id);
		}
		list[count].logical_id = id;
		list[count].config = dc;
		count++;
	}
	if (count == 0) {
		free(list);
		return oa_error_set(err, -EINVAL,
				    "%s: Resources: no AWS::CloudFront::Distribution resource",
				    label);
	}
	*out = list;
	*n = count;
	return 0;
}

/* Appends s to text (bounded). */
static void put(char *text, size_t size, const char *s)
{
	size_t len = strlen(text);

	if (len + 1 < size) {
		snprintf(text + len, size - len, "%s", s);
	}
}

/* A compact rendering of an argument: strings as they are, the rest as JSON. */
static void put_value(char *text, size_t size, const json_t *v)
{
	if (json_is_string(v)) {
		put(text, size, json_string_value(v));
		return;
	}
	char *dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	put(text, size, dump != NULL ? dump : "...");
	free(dump);
}

bool oa__cfn_unresolved(const json_t *v, char *text, size_t size)
{
	const char *key;
	const json_t *arg;

	if (!json_is_object(v) || json_object_size(v) != 1) {
		return false;
	}
	json_object_foreach((json_t *)v, key, arg)
	{
		bool ref = strcmp(key, "Ref") == 0;

		if (!ref && strncmp(key, "Fn::", 4) != 0) {
			return false;
		}
		if (size == 0) {
			return true;
		}
		text[0] = '\0';
		put(text, size, "!");
		put(text, size, ref ? "Ref" : key + 4);
		put(text, size, " ");
		/* !GetAtt takes Resource.Attribute in short form. */
		if (!ref && strcmp(key, "Fn::GetAtt") == 0 && json_is_array(arg) &&
		    json_array_size(arg) == 2 && json_is_string(json_array_get(arg, 0)) &&
		    json_is_string(json_array_get(arg, 1))) {
			put(text, size, json_string_value(json_array_get(arg, 0)));
			put(text, size, ".");
			put(text, size, json_string_value(json_array_get(arg, 1)));
		} else {
			put_value(text, size, arg);
		}
	}
	return true;
}
