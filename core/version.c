#include "oa_config.h"
#include "originaudit/version.h"

const char *oa_version(void)
{
	return OA_VERSION;
}
