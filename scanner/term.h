/* Terminal presentation shared by the commands: colours and status tags. */
#ifndef ORIGINAUDIT_SCANNER_TERM_H
#define ORIGINAUDIT_SCANNER_TERM_H

#include <stdbool.h>

#include "originaudit/verify.h"

typedef struct term_palette {
	const char *pass;
	const char *warn;
	const char *fail;
	const char *dim;
	const char *reset;
} term_palette;

/* ANSI colours, or empty strings; static. */
const term_palette *term_palette_get(bool colour);

/* The colour of a status in palette p; owned by p. */
const char *term_status_colour(const term_palette *p, oa_status status);

/* "PASS", "WARN", "FAIL", "ERROR", "SKIP"; static string. */
const char *term_status_tag(oa_status status);

/* True when fd is a terminal and NO_COLOR is unset or empty. */
bool term_colour_wanted(int fd);

#endif
