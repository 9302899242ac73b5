/* Terminal presentation shared by the commands: colours and status tags. */
#include <stdlib.h>
#include <unistd.h>

#include "term.h"

static const term_palette colours = {"\033[32m", "\033[33m", "\033[31m", "\033[2m", "\033[0m"};
static const term_palette plain = {"", "", "", "", ""};

const term_palette *term_palette_get(bool colour)
{
	return colour ? &colours : &plain;
}

const char *term_status_colour(const term_palette *p, oa_status status)
{
	switch (status) {
	case OA_STATUS_PASS:
		return p->pass;
	case OA_STATUS_WARN:
		return p->warn;
	case OA_STATUS_FAIL:
	case OA_STATUS_ERROR:
		return p->fail;
	case OA_STATUS_SKIP:
		break;
	}
	return p->dim;
}

const char *term_status_tag(oa_status status)
{
	switch (status) {
	case OA_STATUS_PASS:
		return "PASS";
	case OA_STATUS_WARN:
		return "WARN";
	case OA_STATUS_FAIL:
		return "FAIL";
	case OA_STATUS_ERROR:
		return "ERROR";
	case OA_STATUS_SKIP:
		break;
	}
	return "SKIP";
}

bool term_colour_wanted(int fd)
{
	const char *no_colour = getenv("NO_COLOR");

	return isatty(fd) && (no_colour == NULL || no_colour[0] == '\0');
}
