/* Error reporting shared by every originaudit function that can fail to run. */
#ifndef ORIGINAUDIT_ERROR_H
#define ORIGINAUDIT_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OA_ERROR_MSG_MAX 512

/*
 * Why an operation could not run. Functions return 0 or a negative errno
 * value (-EINVAL, -ENOENT, -ENOMEM, -EBADMSG, ...) and, when given an
 * oa_error, fill it with the same code and a one-line message that names the
 * input and what is wrong with it. GnuTLS codes never appear in the int.
 */
typedef struct oa_error {
	int code;
	char msg[OA_ERROR_MSG_MAX];
} oa_error;

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int oa_error_set(oa_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resets err to "no error". */
void oa_error_clear(oa_error *err);

#ifdef __cplusplus
}
#endif

#endif
