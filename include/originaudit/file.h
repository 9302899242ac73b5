/*
 * Whole inputs read into memory, bounded: certificate chains, keys, CA
 * bundles, CloudFront files and templates, standard input.
 */
#ifndef ORIGINAUDIT_FILE_H
#define ORIGINAUDIT_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "originaudit/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An input larger than this is refused ("LABEL: larger than 64 MiB"). */
#define OA_READ_MAX (64u << 20)

/*
 * Reads f to its end into *data (NUL-terminated, caller frees) and *len;
 * label names it in errors. 0, or a negative errno with err.
 */
int oa_read_stream(FILE *f, const char *label, char **data, size_t *len, oa_error *err);

/* The same for the file at path (a directory is refused: "PATH: Is a directory"). */
int oa_read_file(const char *path, char **data, size_t *len, oa_error *err);

#ifdef __cplusplus
}
#endif

#endif
