/*
 * teehsm: provisioning and signing with a PKCS#11 token (issue 6). The subcommands live in
 * certs/tool_cmd_*.c; this file dispatches to them.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "tool.h"

static const struct {
	const char *name;
	int (*fn)(struct tool *, int, char **);
	const char *what;
} commands[] = {
	{ "keygen", tool_cmd_keygen, "generate a key pair in the token" },
	{ "csr", tool_cmd_csr, "make a certificate request signed by a token key" },
	{ "cert", tool_cmd_cert, "import, export, verify or trust certificates" },
	{ "enroll", tool_cmd_enroll, "key, request, certificate from a CA command, verified" },
	{ "sign", tool_cmd_sign, "sign a file with a token key" },
	{ "verify", tool_cmd_verify, "check a signature with a token key" },
	{ "list", tool_cmd_list, "list the keys and certificates on the token" },
	{ "info", tool_cmd_info, "show the module, slot and token" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void help(void)
{
	printf("Usage: teehsm [OPTIONS] COMMAND [ARGS]\n\n"
	       "Provisioning and signing with a PKCS#11 token (libteehsm.so, or any module).\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-8s %s\n", commands[i].name, commands[i].what);
	printf("\n'teehsm COMMAND --help' tells more about each.\n\n%s", tool_global_help);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { TOOL_GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct tool t;
	int c = 0, rc = TOOL_USAGE;

	/* Standard input, output and error exist: a descriptor opened later (a pipe to the CA
	 * command, a file) must never take their numbers. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return TOOL_FAIL;
	memset(&t, 0, sizeof(t));
	t.sess = CK_INVALID_HANDLE;
	opterr = 0;
	/* "+": the global options end at the command's name. */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			help();
			return TOOL_OK;
		case OPT_VERSION:
			tool_version();
			return TOOL_OK;
		default:
			rc = tool_opt_common(&t, c, argv);
			if (rc != TOOL_OK)
				return rc;
		}
	}
	if (optind >= argc)
		return tool_usage(&t, "no command given");
	rc = -1;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			t.cmd = commands[i].name;
			rc = commands[i].fn(&t, argc - optind, argv + optind);
			break;
		}
	}
	if (rc < 0)
		rc = tool_usage(&t, "unknown command '%s'", argv[optind]);
	tool_close(&t);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "teehsm: cannot write to standard output\n");
		rc = rc == TOOL_OK ? TOOL_FAIL : rc;
	}
	ERR_clear_error();
	return rc;
}
