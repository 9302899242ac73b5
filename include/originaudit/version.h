/* The project's version. */
#ifndef ORIGINAUDIT_VERSION_H
#define ORIGINAUDIT_VERSION_H

/* "0.1.0"; static string. */
const char *oa_version(void);

#endif
