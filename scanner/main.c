/* originaudit: finds the origin certificate problems that make CloudFront answer 502. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "originaudit/exitcode.h"
#include "originaudit/version.h"

int oa_exit_code(oa_status verdict)
{
	switch (verdict) {
	case OA_STATUS_SKIP:
	case OA_STATUS_PASS:
		return OA_EXIT_PASS;
	case OA_STATUS_WARN:
		return OA_EXIT_WARN;
	default:
		return OA_EXIT_FAIL;
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: originaudit COMMAND [OPTIONS]\n"
		"\n"
		"Finds the TLS certificate problems that make CloudFront answer 502 Bad Gateway\n"
		"for a custom origin: untrusted or missing intermediate, expired, self-signed,\n"
		"wrong chain order, no matching name, weak signatures.\n"
		"\n"
		"Commands:\n"
		"  scan           probe every configured origin and report (cron, CI)\n"
		"  check-config   validate a configuration file and print lint warnings\n"
		"  serve          an exporter: scan on a schedule, serve /metrics and /probe\n"
		"  verify         check certificate files offline before they are deployed\n"
		"  demo           scan local demo origins that show each classic mistake\n"
		"  help CMD       show the help of a command\n"
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the version\n"
		"\n"
		"Exit codes: 0 pass, 1 warnings, 2 something fails, 3 could not run.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return OA_EXIT_ERROR;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return OA_EXIT_PASS;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("originaudit %s\n", oa_version());
		return OA_EXIT_PASS;
	}
	if (strcmp(cmd, "verify") == 0) {
		return oa_cmd_verify(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "demo") == 0) {
		return oa_cmd_demo(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "scan") == 0) {
		return oa_cmd_scan(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "check-config") == 0) {
		return oa_cmd_check_config(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "serve") == 0) {
		return oa_cmd_serve(argc - 1, argv + 1);
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return OA_EXIT_PASS;
		}
		if (strcmp(argv[2], "verify") == 0) {
			oa_cmd_verify_usage();
			return OA_EXIT_PASS;
		}
		if (strcmp(argv[2], "demo") == 0) {
			oa_cmd_demo_usage();
			return OA_EXIT_PASS;
		}
		if (strcmp(argv[2], "scan") == 0) {
			oa_cmd_scan_usage();
			return OA_EXIT_PASS;
		}
		if (strcmp(argv[2], "serve") == 0) {
			oa_cmd_serve_usage();
			return OA_EXIT_PASS;
		}
		if (strcmp(argv[2], "check-config") == 0) {
			oa_cmd_check_config_usage();
			return OA_EXIT_PASS;
		}
		fprintf(stderr, "originaudit: help: unknown command '%s'\n", argv[2]);
		return OA_EXIT_ERROR;
	}
	fprintf(stderr, "originaudit: unknown command '%s' (see originaudit --help)\n", cmd);
	return OA_EXIT_ERROR;
}
