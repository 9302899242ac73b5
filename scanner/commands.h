/* The subcommands of the originaudit program. */
#ifndef ORIGINAUDIT_SCANNER_COMMANDS_H
#define ORIGINAUDIT_SCANNER_COMMANDS_H

#include "originaudit/verify.h"

/* The CLI's policy: the exit code of a verdict: pass/skip 0, warn 1, fail/error 2 (main.c). */
int oa_exit_code(oa_status verdict);

/* originaudit verify: offline check of certificate files. Returns the exit code. */
int oa_cmd_verify(int argc, char **argv);

/* Prints verify's usage to stdout. */
void oa_cmd_verify_usage(void);

/* originaudit demo: grades generated chains with the classic mistakes. */
int oa_cmd_demo(int argc, char **argv);

/* Prints demo's usage to stdout. */
void oa_cmd_demo_usage(void);

/* originaudit scan: probes every configured origin. */
int oa_cmd_scan(int argc, char **argv);
void oa_cmd_scan_usage(void);

/* originaudit serve: the exporter (scans on a schedule, serves /metrics and /probe). */
int oa_cmd_serve(int argc, char **argv);
void oa_cmd_serve_usage(void);

/* originaudit check-config: validation and lint of a configuration. */
int oa_cmd_check_config(int argc, char **argv);
void oa_cmd_check_config_usage(void);

#endif
