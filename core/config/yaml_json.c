/*
 * YAML read into the same jansson values as JSON (yaml_json.h), with
 * libyaml's event parser. CloudFormation writes templates in YAML with
 * short-form tags for its intrinsic functions; they become the long form
 * ({"Ref": ...}, {"Fn::GetAtt": [...]}) so that one reader serves both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yaml_json.h"

/* Nesting beyond this is refused (a template is a few levels deep). */
#define MAX_DEPTH 64
/* Anchors kept, and alias uses accepted, in one document. */
#define MAX_ANCHORS 1024
#define MAX_ALIASES 4096

typedef struct anchor {
	char *name;
	json_t *value;
} anchor;

typedef struct reader {
	yaml_parser_t parser;
	const char *label;
	oa_error *err;
	anchor *anchors;
	size_t n_anchors;
	size_t n_aliases;
} reader;

__attribute__((format(printf, 3, 4))) static int fail_at(reader *r, const yaml_mark_t *mark,
							 const char *fmt, ...)
{
	char what[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return oa_error_set(r->err, -EBADMSG, "%s:%zu:%zu: %s", r->label, mark->line + 1,
			    mark->column + 1, what);
}

static int parser_error(reader *r)
{
	const yaml_mark_t *mark = r->parser.problem_mark.line || r->parser.problem_mark.column
				      ? &r->parser.problem_mark
				      : &r->parser.context_mark;

	return fail_at(r, mark, "%s",
		       r->parser.problem != NULL ? r->parser.problem : "malformed YAML");
}

static int next_event(reader *r, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&r->parser, ev)) {
		return parser_error(r);
	}
	return 0;
}

/* The long form of a CloudFormation short-form tag ("!Ref" -> "Ref", "!Sub" -> "Fn::Sub"). */
static const char *intrinsic_name(const char *tag)
{
	static const char *const fns[] = {
	    "Base64",	   "Cidr", "Equals", "FindInMap", "GetAtt", "GetAZs",
	    "ImportValue", "Join", "Select", "Split",	  "Sub",    "Transform",
	    "If",	   "Not",  "And",    "Or",	  "Length", "ToJsonString",
	};
	static char name[32];

	if (tag == NULL || tag[0] != '!' || tag[1] == '!') {
		return NULL;
	}
	tag++;
	if (strcmp(tag, "Ref") == 0 || strcmp(tag, "Condition") == 0) {
		return tag;
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		if (strcmp(tag, fns[i]) == 0) {
			snprintf(name, sizeof(name), "Fn::%s", fns[i]);
			return name;
		}
	}
	return NULL;
}

static bool all_digits(const char *s, size_t start)
{
	if (s[start] == '\0') {
		return false;
	}
	for (size_t i = start; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return true;
}

/*
 * A plain (unquoted, untagged) scalar by the YAML core schema: null, a
 * boolean, an integer, a float, else a string. Quoted and tagged scalars are
 * strings.
 */
static json_t *plain_scalar(const char *s, size_t len)
{
	if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
	    strcmp(s, "NULL") == 0) {
		return json_null();
	}
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
		return json_true();
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
		return json_false();
	}
	if (all_digits(s, s[0] == '-' || s[0] == '+' ? 1 : 0) && len < 19) {
		return json_integer(strtoll(s, NULL, 10));
	}
	if (len > 2 && len < 18 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o') &&
	    strspn(s + 2, s[1] == 'x' ? "0123456789abcdefABCDEF" : "01234567") == len - 2) {
		return json_integer(strtoll(s + 2, NULL, s[1] == 'x' ? 16 : 8));
	}
	/* A float: digits, a point, an exponent (not .inf or .nan, which JSON has no form for). */
	if (strspn(s, "0123456789+-.eE") == len && strpbrk(s, "0123456789") != NULL) {
		char *end = NULL;
		double d = strtod(s, &end);

		if (end == s + len) {
			return json_real(d);
		}
	}
	return json_stringn(s, len);
}

static int read_node(reader *r, yaml_event_t *ev, int depth, json_t **out);

static int remember(reader *r, const yaml_char_t *name, json_t *value, const yaml_mark_t *mark)
{
	if (name == NULL) {
		return 0;
	}
	if (r->n_anchors == MAX_ANCHORS) {
		return fail_at(r, mark, "more than %d anchors", MAX_ANCHORS);
	}
	anchor *na = realloc(r->anchors, (r->n_anchors + 1) * sizeof(*na));
	if (na == NULL) {
		return oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
	}
	r->anchors = na;
	na[r->n_anchors].name = strdup((const char *)name);
	if (na[r->n_anchors].name == NULL) {
		return oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
	}
	na[r->n_anchors].value = json_incref(value);
	r->n_anchors++;
	return 0;
}

static int read_sequence(reader *r, int depth, json_t **out)
{
	json_t *arr = json_array();

	if (arr == NULL) {
		return oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
	}
	for (;;) {
		yaml_event_t ev;
		json_t *item = NULL;
		int rc = next_event(r, &ev);

		if (rc < 0) {
			json_decref(arr);
			return rc;
		}
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			*out = arr;
			return 0;
		}
		rc = read_node(r, &ev, depth + 1, &item);
		yaml_event_delete(&ev);
		if (rc < 0 || json_array_append_new(arr, item) < 0) {
			json_decref(arr);
			return rc < 0
				   ? rc
				   : oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
		}
	}
}

static int read_mapping(reader *r, int depth, json_t **out)
{
	json_t *obj = json_object();

	if (obj == NULL) {
		return oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
	}
	for (;;) {
		yaml_event_t ev;
		json_t *value = NULL;
		int rc = next_event(r, &ev);

		if (rc < 0) {
			json_decref(obj);
			return rc;
		}
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			*out = obj;
			return 0;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			rc = fail_at(r, &ev.start_mark, "%s",
				     "a mapping key must be a plain string");
			yaml_event_delete(&ev);
			json_decref(obj);
			return rc;
		}
		char *key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
		yaml_mark_t key_mark = ev.start_mark;

		yaml_event_delete(&ev);
		if (key == NULL) {
			json_decref(obj);
			return oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
		}
		if (json_object_get(obj, key) != NULL) {
			/* As for JSON: with a duplicate key, which value wins is a guess. */
			rc = fail_at(r, &key_mark, "duplicate key \"%s\"", key);
			free(key);
			json_decref(obj);
			return rc;
		}
		rc = next_event(r, &ev);
		if (rc == 0) {
			rc = read_node(r, &ev, depth + 1, &value);
			yaml_event_delete(&ev);
		}
		if (rc == 0 && json_object_set_new(obj, key, value) < 0) {
			rc = oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
		}
		free(key);
		if (rc < 0) {
			json_decref(obj);
			return rc;
		}
	}
}

/* Wraps value in {"Fn::Name": value} when the node carries an intrinsic function's tag. */
static int apply_tag(reader *r, const yaml_char_t *tag, const yaml_mark_t *mark, json_t **value)
{
	const char *fn;

	if (tag == NULL) {
		return 0;
	}
	fn = intrinsic_name((const char *)tag);
	if (fn == NULL) {
		if (tag[0] == '!' && tag[1] != '!') {
			json_decref(*value);
			*value = NULL;
			return fail_at(r, mark, "unknown tag %s", (const char *)tag);
		}
		return 0;
	}
	json_t *v = *value;
	/* !GetAtt Resource.Attribute is the list form's short spelling. */
	if (strcmp(fn, "Fn::GetAtt") == 0 && json_is_string(v)) {
		const char *s = json_string_value(v);
		const char *dot = strchr(s, '.');

		if (dot != NULL) {
			json_t *pair = json_pack("[s#s]", s, (int)(dot - s), dot + 1);

			json_decref(v);
			v = pair;
		}
	}
	json_t *wrapped = v != NULL ? json_pack("{so}", fn, v) : NULL;
	*value = wrapped;
	if (wrapped == NULL) {
		return oa_error_set(r->err, -ENOMEM, "%s: out of memory", r->label);
	}
	return 0;
}

static int read_node(reader *r, yaml_event_t *ev, int depth, json_t **out)
{
	int rc;

	*out = NULL;
	if (depth > MAX_DEPTH) {
		return fail_at(r, &ev->start_mark, "nested deeper than %d levels", MAX_DEPTH);
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *s = (const char *)ev->data.scalar.value;
		size_t len = ev->data.scalar.length;
		bool plain = ev->data.scalar.plain_implicit && ev->data.scalar.tag == NULL;

		*out = plain ? plain_scalar(s, len) : json_stringn(s, len);
		if (*out == NULL) {
			return fail_at(r, &ev->start_mark, "%s",
				       "a scalar that is not valid UTF-8");
		}
		rc = apply_tag(r, ev->data.scalar.tag, &ev->start_mark, out);
		if (rc == 0) {
			rc = remember(r, ev->data.scalar.anchor, *out, &ev->start_mark);
		}
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
		rc = read_sequence(r, depth, out);
		if (rc == 0) {
			rc = apply_tag(r, ev->data.sequence_start.tag, &ev->start_mark, out);
		}
		if (rc == 0) {
			rc = remember(r, ev->data.sequence_start.anchor, *out, &ev->start_mark);
		}
		break;
	case YAML_MAPPING_START_EVENT:
		rc = read_mapping(r, depth, out);
		if (rc == 0) {
			rc = apply_tag(r, ev->data.mapping_start.tag, &ev->start_mark, out);
		}
		if (rc == 0) {
			rc = remember(r, ev->data.mapping_start.anchor, *out, &ev->start_mark);
		}
		break;
	case YAML_ALIAS_EVENT:
		if (++r->n_aliases > MAX_ALIASES) {
			return fail_at(r, &ev->start_mark, "more than %d aliases", MAX_ALIASES);
		}
		/* The latest anchor of that name, as YAML says. */
		for (size_t i = r->n_anchors; i-- > 0 && *out == NULL;) {
			if (strcmp(r->anchors[i].name, (const char *)ev->data.alias.anchor) == 0) {
				*out = json_incref(r->anchors[i].value);
			}
		}
		rc = *out != NULL ? 0
				  : fail_at(r, &ev->start_mark, "unknown alias *%s",
					    (const char *)ev->data.alias.anchor);
		break;
	default:
		rc = fail_at(r, &ev->start_mark, "%s", "unexpected YAML event");
		break;
	}
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

int oa__yaml_to_json(const char *data, size_t len, const char *label, json_t **out, oa_error *err)
{
	reader r;
	yaml_event_t ev;
	json_t *root = NULL;
	int rc = 0;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.label = label;
	r.err = err;
	if (!yaml_parser_initialize(&r.parser)) {
		return oa_error_set(err, -ENOMEM, "%s: out of memory", label);
	}
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)data, len);
	/* Stream start, document start (or the stream's end: an empty file). */
	for (;;) {
		rc = next_event(&r, &ev);
		if (rc < 0) {
			goto out;
		}
		yaml_event_type_t type = ev.type;

		if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			rc = oa_error_set(err, -EBADMSG, "%s: empty YAML document", label);
			goto out;
		}
		rc = read_node(&r, &ev, 0, &root);
		yaml_event_delete(&ev);
		if (rc < 0) {
			goto out;
		}
		break;
	}
	/* One document: a second one is refused rather than ignored. */
	rc = next_event(&r, &ev);
	if (rc < 0) {
		goto out;
	}
	if (ev.type == YAML_DOCUMENT_END_EVENT) {
		yaml_event_delete(&ev);
		rc = next_event(&r, &ev);
		if (rc < 0) {
			goto out;
		}
	}
	if (ev.type != YAML_STREAM_END_EVENT) {
		rc = fail_at(&r, &ev.start_mark, "%s",
			     "more than one YAML document (a template is one)");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	*out = root;
	root = NULL;
out:
	json_decref(root);
	for (size_t i = 0; i < r.n_anchors; i++) {
		free(r.anchors[i].name);
		json_decref(r.anchors[i].value);
	}
	free(r.anchors);
	yaml_parser_delete(&r.parser);
	return rc;
}
