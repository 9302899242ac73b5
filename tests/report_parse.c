/* Strict parsers of the Prometheus exposition and JUnit XML, for tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "report_parse.h"

bool rp_is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* Parses `name{label="value",...} value` strictly; false when the line is malformed. */
static bool parse_sample(const char *line, rp_sample *s)
{
	const char *p = line;
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	while (rp_is_name_char(*p, n == 0) && n + 1 < sizeof(s->name)) {
		s->name[n++] = *p++;
	}
	if (n == 0) {
		return false;
	}
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (s->n_labels == RP_MAX_LABELS) {
				return false;
			}
			char *key = s->label[s->n_labels][0];
			char *val = s->label[s->n_labels][1];

			n = 0;
			while (rp_is_name_char(*p, n == 0) && n + 1 < RP_LABEL_MAX) {
				key[n++] = *p++;
			}
			if (n == 0 || *p++ != '=' || *p++ != '"') {
				return false;
			}
			n = 0;
			while (*p != '"') {
				char c = *p++;

				if (c == '\0' || c == '\n' || n + 1 >= RP_LABEL_MAX) {
					return false;
				}
				if (c == '\\') {
					c = *p++;
					if (c == 'n') {
						c = '\n';
					} else if (c != '\\' && c != '"') {
						return false;
					}
				}
				val[n++] = c;
			}
			p++;
			s->n_labels++;
			if (*p == ',') {
				p++;
			} else if (*p != '}') {
				return false;
			}
		}
		p++;
	}
	if (*p++ != ' ') {
		return false;
	}
	char *end = NULL;
	s->value = strtod(p, &end);
	return end != p && *end == '\0';
}

const char *rp_sample_label(const rp_sample *s, const char *key)
{
	for (size_t i = 0; i < s->n_labels; i++) {
		if (strcmp(s->label[i][0], key) == 0) {
			return s->label[i][1];
		}
	}
	return NULL;
}

/*
 * Parses a whole exposition: every sample line well-formed, every family
 * announced by HELP and TYPE before its samples, and its samples together.
 */
void rp_parse_exposition(const char *text, rp_exposition *e)
{
	char families[32][128];
	size_t n_families = 0;
	char help[128] = "";
	char current[128] = "";
	char *copy = strdup(text);
	char *save = NULL;

	assert_non_null(copy);
	assert_int_equal(text[strlen(text) - 1], '\n');
	e->samples = NULL;
	e->n = 0;
	for (char *line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		char rest[256];

		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s %255[^\n]", name, rest), 2);
			snprintf(help, sizeof(help), "%s", name);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%127s %255s", name, rest), 2);
			assert_string_equal(name, help);
			assert_true(strcmp(rest, "gauge") == 0 || strcmp(rest, "counter") == 0);
			for (size_t i = 0; i < n_families; i++) {
				if (strcmp(families[i], name) == 0) {
					fail_msg("family %s announced twice", name);
				}
			}
			assert_true(n_families < 32);
			snprintf(families[n_families++], sizeof(families[0]), "%s", name);
			snprintf(current, sizeof(current), "%s", name);
			continue;
		}
		assert_int_not_equal(line[0], '#');
		e->samples = realloc(e->samples, (e->n + 1) * sizeof(*e->samples));
		assert_non_null(e->samples);
		if (!parse_sample(line, &e->samples[e->n])) {
			fail_msg("malformed sample line: %s", line);
		}
		if (strcmp(e->samples[e->n].name, current) != 0) {
			fail_msg("sample %s outside its family (current %s)", line, current);
		}
		e->n++;
	}
	free(copy);
}

/* The sample of name whose labels include every key=value pair of the NULL-ended list. */
const rp_sample *rp_find_sample(const rp_exposition *e, const char *name, ...)
{
	for (size_t i = 0; i < e->n; i++) {
		const rp_sample *s = &e->samples[i];
		bool match = strcmp(s->name, name) == 0;
		va_list ap;

		va_start(ap, name);
		for (const char *key = va_arg(ap, const char *); match && key != NULL;
		     key = va_arg(ap, const char *)) {
			const char *want = va_arg(ap, const char *);
			const char *got = rp_sample_label(s, key);

			match = got != NULL && strcmp(got, want) == 0;
		}
		va_end(ap);
		if (match) {
			return s;
		}
	}
	return NULL;
}

size_t rp_count_samples(const rp_exposition *e, const char *name, const char *origin)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n; i++) {
		if (strcmp(e->samples[i].name, name) == 0 &&
		    (origin == NULL ||
		     (rp_sample_label(&e->samples[i], "origin") != NULL &&
		      strcmp(rp_sample_label(&e->samples[i], "origin"), origin) == 0))) {
			n++;
		}
	}
	return n;
}

static bool valid_entity(const char *p, size_t *len)
{
	static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};

	for (size_t i = 0; i < 5; i++) {
		if (strncmp(p, named[i], strlen(named[i])) == 0) {
			*len = strlen(named[i]);
			return true;
		}
	}
	if (p[1] == '#') {
		size_t i = 2;

		while (p[i] >= '0' && p[i] <= '9') {
			i++;
		}
		if (i > 2 && p[i] == ';') {
			*len = i + 1;
			return true;
		}
	}
	return false;
}

/* Fails unless text is UTF-8 made only of XML 1.0 characters. */
static void check_xml_chars(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s != '\0') {
		unsigned cp = 0;
		size_t n = 1;

		if (*s < 0x80) {
			cp = *s;
			n = 1;
		} else if ((*s & 0xe0) == 0xc0) {
			cp = *s & 0x1f;
			n = 2;
		} else if ((*s & 0xf0) == 0xe0) {
			cp = *s & 0x0f;
			n = 3;
		} else if ((*s & 0xf8) == 0xf0) {
			cp = *s & 0x07;
			n = 4;
		} else {
			fail_msg("invalid UTF-8 lead byte 0x%02x at offset %td", *s,
				 (const char *)s - text);
		}
		for (size_t i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80) {
				fail_msg("truncated UTF-8 at offset %td", (const char *)s - text);
			}
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		bool ok = cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
			  (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
		if (!ok || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		    (n == 4 && cp < 0x10000)) {
			fail_msg("character U+%04X is not allowed in XML 1.0", cp);
		}
		s += n;
	}
}

static long attr_long(const char *tag, const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), " %s=\"", name);
	const char *p = strstr(tag, key);
	return p != NULL ? strtol(p + strlen(key), NULL, 10) : -1;
}

/*
 * A small well-formedness check: one root, every element closed in order,
 * attributes quoted, no raw '<' or stray '&' in text or attribute values.
 */
void rp_check_xml(const char *doc, rp_xml_summary *sum)
{
	static const char decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
	char stack[16][64];
	int depth = 0;
	int roots = 0;
	const char *p = doc;
	size_t len = 0;

	memset(sum, 0, sizeof(*sum));
	sum->tests = sum->failures = sum->errors = sum->skipped = -1;
	check_xml_chars(doc);
	assert_true(strncmp(doc, decl, strlen(decl)) == 0);
	p += strlen(decl);
	while (*p != '\0') {
		if (*p == '&') {
			if (!valid_entity(p, &len)) {
				fail_msg("stray '&' at offset %td", p - doc);
			}
			p += len;
			continue;
		}
		if (*p == '>') {
			fail_msg("raw '>' in text at offset %td", p - doc);
		}
		if (*p != '<') {
			if (depth == 0 && *p != '\n' && *p != ' ') {
				fail_msg("text outside the root element at offset %td", p - doc);
			}
			p++;
			continue;
		}
		const char *start = p;
		bool closing = p[1] == '/';
		char name[64];
		size_t n = 0;

		p += closing ? 2 : 1;
		while (rp_is_name_char(*p, n == 0) || (n > 0 && (*p == '-' || *p == '.'))) {
			assert_true(n + 1 < sizeof(name));
			name[n++] = *p++;
		}
		name[n] = '\0';
		assert_true(n > 0);
		if (closing) {
			assert_int_equal(*p, '>');
			p++;
			assert_true(depth > 0);
			depth--;
			if (strcmp(stack[depth], name) != 0) {
				fail_msg("</%s> closes <%s>", name, stack[depth]);
			}
			continue;
		}
		/* Attributes. */
		while (*p == ' ') {
			p++;
			n = 0;
			while (rp_is_name_char(*p, n == 0) || (n > 0 && (*p == '-' || *p == '.'))) {
				p++;
				n++;
			}
			assert_true(n > 0);
			assert_int_equal(*p++, '=');
			assert_int_equal(*p++, '"');
			while (*p != '"') {
				if (*p == '\0' || *p == '<') {
					fail_msg("bad attribute value in <%s>", name);
				}
				if (*p == '&') {
					if (!valid_entity(p, &len)) {
						fail_msg("stray '&' in an attribute of <%s>", name);
					}
					p += len;
				} else {
					p++;
				}
			}
			p++;
		}
		bool empty = *p == '/';
		if (empty) {
			p++;
		}
		assert_int_equal(*p, '>');
		p++;
		if (depth == 0) {
			roots++;
		}
		if (strcmp(name, "testsuites") == 0) {
			char tag[512];

			snprintf(tag, sizeof(tag), "%.*s", (int)(p - start), start);
			sum->tests = attr_long(tag, "tests");
			sum->failures = attr_long(tag, "failures");
			sum->errors = attr_long(tag, "errors");
			sum->skipped = attr_long(tag, "skipped");
		}
		sum->testcases += strcmp(name, "testcase") == 0;
		sum->failure_elems += strcmp(name, "failure") == 0;
		sum->error_elems += strcmp(name, "error") == 0;
		sum->skipped_elems += strcmp(name, "skipped") == 0;
		if (!empty) {
			assert_true(depth < 16);
			snprintf(stack[depth], sizeof(stack[0]), "%s", name);
			depth++;
		}
	}
	assert_int_equal(depth, 0);
	assert_int_equal(roots, 1);
}

/* xmllint's full parser when it is installed (libxml2-utils); a no-op otherwise. */
void rp_xmllint(const char *doc)
{
	const char *path_env = getenv("PATH");
	char xmllint[4096] = "";
	char *paths = strdup(path_env != NULL ? path_env : "/usr/bin:/bin");
	char *save = NULL;

	assert_non_null(paths);
	for (char *dir = strtok_r(paths, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(xmllint, sizeof(xmllint), "%s/xmllint", dir);
		if (access(xmllint, X_OK) == 0) {
			break;
		}
		xmllint[0] = '\0';
	}
	free(paths);
	if (xmllint[0] == '\0') {
		print_message("xmllint not installed: skipping the full XML parse\n");
		return;
	}
	char *dir = fx_tempdir();
	char *file = fx_path(dir, "report.xml");
	char *out = NULL;
	char *err = NULL;
	char *argv[] = {xmllint, "--noout", file, NULL};

	fx_write(file, doc, strlen(doc));
	int rc = fx_run(argv, &out, &err, 30);
	if (rc != 0) {
		fail_msg("xmllint: exit %d: %s", rc, err);
	}
	assert_string_equal(err, "");
	free(out);
	free(err);
	free(file);
	fx_tempdir_remove(dir);
}
