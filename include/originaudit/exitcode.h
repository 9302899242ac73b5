/* Exit codes shared by every command of the project. */
#ifndef ORIGINAUDIT_EXITCODE_H
#define ORIGINAUDIT_EXITCODE_H

#ifdef __cplusplus
extern "C" {
#endif

enum {
	OA_EXIT_PASS = 0,
	OA_EXIT_WARN = 1,
	/* Something fails (or, for scans, a probe could not complete). */
	OA_EXIT_FAIL = 2,
	/* Could not run: unreadable or malformed input, bad usage. */
	OA_EXIT_ERROR = 3,
};

#ifdef __cplusplus
}
#endif

#endif
