#include "originaudit/version.h"
#include "oa_config.h"

const char *oa_version(void)
{
	return OA_VERSION;
}
