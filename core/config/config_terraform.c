/*
 * Import of `terraform show -json` output (a saved plan or state): every
 * aws_cloudfront_distribution resource, found in the root module and its
 * child modules, becomes one configuration. The document is walked here; one
 * distribution's attributes are read in config_terraform_values.c (what a
 * plan leaves unknown in config_terraform_unknown.c) with the
 * rules of the CloudFront importer, errors naming the attribute in
 * Terraform's terms ("origin[0].custom_origin_config[0].https_port").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_cfn.h"
#include "config_hint.h"
#include "config_internal.h"
#include "config_terraform.h"
#include "originaudit/file.h"
#include "yaml_json.h"

/* The walk of one document: its label, where distributions go, the plan's changes. */
typedef struct tf_walk {
	const oa__cfg *top;
	/* resource_changes of a plan; NULL for state. */
	const json_t *changes;
	oa_config_list found;
} tf_walk;

/*
 * Reads the file: JSON as Terraform prints it, or YAML, read only to say that
 * a CloudFormation template belongs to --cloudfront. A saved plan given as
 * is (a zip archive) is named as such.
 */
static int read_document(const char *path, json_t **root, oa_error *err)
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
	if (len >= 4 && memcmp(data, "PK\3\4", 4) == 0) {
		rc = oa_error_set(err, -EINVAL,
				  "%s: not terraform show -json output: this is a saved plan file: "
				  "give the output of terraform show -json PLANFILE",
				  path);
	} else if (i < len && data[i] == '{') {
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

/* The error for a document that is not Terraform's, with the option it belongs to if known. */
static int not_terraform(const oa__cfg *c, const json_t *root)
{
	if (!json_is_object(root)) {
		return oa__cfg_fail(c, "",
				    "not terraform show -json output: expected an object at the "
				    "top level, got %s",
				    oa__cfg_type_name(root));
	}
	if (oa__cfn_is_template(root)) {
		return oa__cfg_fail(c, "",
				    "not terraform show -json output: this looks like a "
				    "CloudFormation template: use --cloudfront FILE");
	}
	if (oa__cfg_looks_like_cloudfront(root) || json_object_get(root, "Origins") != NULL) {
		return oa__cfg_fail(c, "",
				    "not terraform show -json output: this looks like AWS CLI "
				    "CloudFront output: use --cloudfront FILE");
	}
	if (json_object_get(root, "origins") != NULL) {
		return oa__cfg_fail(c, "",
				    "not terraform show -json output: this looks like an "
				    "originaudit configuration: use --config FILE");
	}
	return oa__cfg_fail(c, "",
			    "not terraform show -json output: expected format_version and "
			    "planned_values (a saved plan) or values (state)");
}

/* What resource_changes says is unknown until apply in the resource at address; NULL if none. */
static const json_t *after_unknown(const tf_walk *w, const char *address)
{
	for (size_t i = 0; i < json_array_size(w->changes); i++) {
		const json_t *entry = json_array_get(w->changes, i);
		const char *a = json_string_value(json_object_get(entry, "address"));

		if (a == NULL || strcmp(a, address) != 0) {
			continue;
		}
		const json_t *u =
		    json_object_get(json_object_get(entry, "change"), "after_unknown");
		return json_is_object(u) ? u : NULL;
	}
	return NULL;
}

/* A string member of a resource, for the structural checks. */
static int resource_string(const oa__cfg *c, const char *path, const json_t *r, const char *key,
			   const char **out)
{
	char p[OA__CFG_PATH_MAX];
	const json_t *v = json_object_get(r, key);

	*out = json_string_value(v);
	if (*out == NULL) {
		oa__cfg_path_key(p, path, key);
		return oa__cfg_fail(c, p, "expected a string, got %s",
				    v == NULL ? "nothing" : oa__cfg_type_name(v));
	}
	return 0;
}

/* One aws_cloudfront_distribution resource (at path) into w->found. */
static int read_resource(tf_walk *w, const char *path, const json_t *r)
{
	char p[OA__CFG_PATH_MAX];
	const char *address;
	int rc = resource_string(w->top, path, r, "address", &address);

	if (rc < 0) {
		return rc;
	}
	const json_t *values = json_object_get(r, "values");
	if (!json_is_object(values)) {
		oa__cfg_path_key(p, path, "values");
		return oa__cfg_fail(w->top, p, "expected an object, got %s",
				    values == NULL ? "nothing" : oa__cfg_type_name(values));
	}
	size_t len = strlen(w->top->label) + strlen(address) + 3;
	char *label = malloc(len);
	oa_config *config = oa__cfg_new();
	if (config != NULL) {
		config->distribution = strdup(address);
	}
	if (label == NULL || config == NULL || config->distribution == NULL) {
		free(label);
		oa_config_destroy(config);
		return oa__cfg_nomem(w->top);
	}
	snprintf(label, len, "%s: %s", w->top->label, address);
	oa__cfg_index ids = {NULL, 0};
	oa__cfg c = {label, w->top->err, &ids};
	oa__tf_distribution d = {values, after_unknown(w, address)};

	rc = oa__tf_read_distribution(&c, &d, config);
	oa__cfg_index_finish(&ids);
	free(label);
	if (rc < 0) {
		oa_config_destroy(config);
		return rc;
	}
	rc = oa_config_list_push(&w->found, config);
	return rc < 0 ? oa__cfg_nomem(w->top) : 0;
}

/* The module at path: its resources, then its child modules, depth first in file order. */
static int walk_module(tf_walk *w, const char *path, const json_t *module)
{
	char p[OA__CFG_PATH_MAX];
	char ip[OA__CFG_PATH_MAX];
	int rc = oa__cfg_expect_object(w->top, path, module);

	if (rc < 0) {
		return rc;
	}
	static const char *const keys[] = {"resources", "child_modules"};
	const json_t *lists[2];
	for (size_t k = 0; k < 2; k++) {
		lists[k] = json_object_get(module, keys[k]);
		if (json_is_null(lists[k])) {
			lists[k] = NULL;
		}
		if (lists[k] != NULL && !json_is_array(lists[k])) {
			oa__cfg_path_key(p, path, keys[k]);
			return oa__cfg_fail(w->top, p, "expected an array, got %s",
					    oa__cfg_type_name(lists[k]));
		}
	}
	oa__cfg_path_key(p, path, "resources");
	for (size_t i = 0; i < json_array_size(lists[0]); i++) {
		const json_t *r = json_array_get(lists[0], i);
		const char *mode, *type;

		oa__cfg_path_index(ip, p, i);
		rc = oa__cfg_expect_object(w->top, ip, r);
		if (rc == 0) {
			rc = resource_string(w->top, ip, r, "mode", &mode);
		}
		if (rc == 0) {
			rc = resource_string(w->top, ip, r, "type", &type);
		}
		if (rc == 0 && strcmp(mode, "managed") == 0 &&
		    strcmp(type, "aws_cloudfront_distribution") == 0) {
			rc = read_resource(w, ip, r);
		}
		if (rc < 0) {
			return rc;
		}
	}
	oa__cfg_path_key(p, path, "child_modules");
	for (size_t i = 0; i < json_array_size(lists[1]); i++) {
		oa__cfg_path_index(ip, p, i);
		rc = walk_module(w, ip, json_array_get(lists[1], i));
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* The document's root module and its path; *plan tells a plan from state. */
static int find_root_module(const oa__cfg *c, const json_t *root, const json_t **module,
			    const char **path, bool *plan)
{
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "format_version"))) {
		return not_terraform(c, root);
	}
	const json_t *top = json_object_get(root, "planned_values");
	*plan = top != NULL;
	*path = *plan ? "planned_values.root_module" : "values.root_module";
	if (!*plan) {
		top = json_object_get(root, "values");
	}
	if (top == NULL) {
		size_t n = json_object_size(root);

		if (json_object_get(root, "terraform_version") != NULL) {
			n--;
		}
		if (n != 1) {
			return not_terraform(c, root);
		}
		/* terraform show -json prints only the format version for an empty state. */
		return oa__cfg_fail(c, "",
				    "no aws_cloudfront_distribution in this state: it is "
				    "empty");
	}
	if (!json_is_object(top)) {
		return oa__cfg_fail(c, *plan ? "planned_values" : "values",
				    "expected an object, got %s", oa__cfg_type_name(top));
	}
	*module = json_object_get(top, "root_module");
	if (*module == NULL) {
		return oa__cfg_fail(c, *plan ? "planned_values" : "values",
				    "missing required key \"root_module\"");
	}
	return 0;
}

/* Moves every configuration of from to the end of to, or none. */
static int append_all(oa_config_list *to, oa_config_list *from)
{
	oa_config **items = realloc(to->items, (to->n + from->n) * sizeof(*items));

	if (items == NULL) {
		return -ENOMEM;
	}
	memcpy(items + to->n, from->items, from->n * sizeof(*items));
	to->items = items;
	to->n += from->n;
	free(from->items);
	from->items = NULL;
	from->n = 0;
	return 0;
}

int oa_config_load_terraform(const char *path, oa_config_list *list, oa_error *err)
{
	oa__cfg top = {path, err, NULL};
	tf_walk w = {&top, NULL, {NULL, 0}};
	const json_t *module = NULL;
	const char *module_path = NULL;
	bool plan = false;
	json_t *root = NULL;
	int rc = read_document(path, &root, err);

	if (rc < 0) {
		return rc;
	}
	rc = find_root_module(&top, root, &module, &module_path, &plan);
	if (rc < 0) {
		goto out;
	}
	if (plan) {
		w.changes = json_object_get(root, "resource_changes");
		if (w.changes != NULL && !json_is_array(w.changes) && !json_is_null(w.changes)) {
			rc = oa__cfg_fail(&top, "resource_changes", "expected an array, got %s",
					  oa__cfg_type_name(w.changes));
			goto out;
		}
	}
	rc = walk_module(&w, module_path, module);
	if (rc < 0) {
		goto out;
	}
	if (w.found.n == 0) {
		rc = oa__cfg_fail(&top, "", "no aws_cloudfront_distribution in this %s",
				  plan ? "plan" : "state");
		goto out;
	}
	rc = append_all(list, &w.found);
	if (rc < 0) {
		rc = oa__cfg_nomem(&top);
	}
out:
	oa_config_list_clear(&w.found);
	json_decref(root);
	return rc;
}
