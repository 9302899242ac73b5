/*
 * Parsers that read the scanner's report formats back, strictly, for tests:
 * the Prometheus text exposition and JUnit XML. They fail the running cmocka
 * test on the first malformed line or tag.
 */
#ifndef ORIGINAUDIT_TESTS_REPORT_PARSE_H
#define ORIGINAUDIT_TESTS_REPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define RP_MAX_LABELS 12
#define RP_LABEL_MAX 256

/* One sample line, its label values unescaped. */
typedef struct rp_sample {
	char name[128];
	size_t n_labels;
	/* [i][0] the label name, [i][1] its value. */
	char label[RP_MAX_LABELS][2][RP_LABEL_MAX];
	double value;
} rp_sample;

typedef struct rp_exposition {
	/* malloc'd; the caller frees it. */
	rp_sample *samples;
	size_t n;
} rp_exposition;

/*
 * Parses a whole exposition: every sample line `name{label="value",...} value`,
 * every family announced by HELP then TYPE before its samples, and the samples
 * of a family together. Fails the test otherwise.
 */
void rp_parse_exposition(const char *text, rp_exposition *e);

/* The value of label key, or NULL; owned by s. */
const char *rp_sample_label(const rp_sample *s, const char *key);

/* The first sample of name whose labels include every key, value pair given (NULL-ended). */
const rp_sample *rp_find_sample(const rp_exposition *e, const char *name, ...);

/* Samples of name (with label origin when origin is not NULL). */
size_t rp_count_samples(const rp_exposition *e, const char *name, const char *origin);

/* A letter of a metric, label or element name. */
bool rp_is_name_char(char c, bool first);

typedef struct rp_xml_summary {
	/* Attributes of <testsuites>, -1 when absent. */
	long tests;
	long failures;
	long errors;
	long skipped;
	/* Elements counted. */
	long testcases;
	long failure_elems;
	long error_elems;
	long skipped_elems;
} rp_xml_summary;

/*
 * A small well-formedness check of a JUnit document: the XML declaration, one
 * root, every element closed in order, attributes quoted, no raw '<' or stray
 * '&', only XML 1.0 characters in valid UTF-8. Fills sum.
 */
void rp_check_xml(const char *doc, rp_xml_summary *sum);

/* Runs xmllint --noout on doc when it is installed (libxml2-utils); a no-op otherwise. */
void rp_xmllint(const char *doc);

#endif
