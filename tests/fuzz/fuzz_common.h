/* What every libFuzzer target of originaudit shares. */
#ifndef ORIGINAUDIT_FUZZ_COMMON_H
#define ORIGINAUDIT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "originaudit/trust.h"

#ifndef OA_FUZZ_DIR
#error "OA_FUZZ_DIR (tests/fuzz in the source tree) must be defined"
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tests/fuzz of the source tree (seeds, data): $OA_FUZZ_DIR, else where the build found it. */
static inline const char *fz_dir(void)
{
	const char *dir = getenv("OA_FUZZ_DIR");

	return dir != NULL && dir[0] != '\0' ? dir : OA_FUZZ_DIR;
}

/*
 * The roots the certificate targets trust: data/roots.pem (the seeds' own
 * PKI) and the bundled Mozilla roots, loaded as one store (the caller's).
 * 0 or negative, with a message on stderr.
 */
int fz_load_roots(oa_trust_store **out);

#endif
