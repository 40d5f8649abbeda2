/* The options every teehsm command accepts, and usage errors (tool.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#ifndef TEEHSM_VERSION
#define TEEHSM_VERSION "0"
#endif

const char tool_global_help[] =
	"Global options (before or after the command):\n"
	"  --module PATH       the PKCS#11 module (default: $TEEHSM_MODULE, else libteehsm.so\n"
	"                      of this build tree, else the installed one)\n"
	"  --token LABEL       the token with this label\n"
	"  --slot ID           the token in this slot (default: the only token present)\n"
	"  --pin-file FILE     the user PIN is the first line of FILE (else $TEEHSM_PIN, else\n"
	"                      a prompt on the terminal)\n"
	"  --so-pin-file FILE  the SO PIN, for storing trusted roots (else $TEEHSM_SO_PIN, else\n"
	"                      a prompt)\n"
	"  -h, --help          this help\n"
	"  --version           the version\n"
	"\n"
	"Exit codes: 0 success, 1 failure, 2 usage error, 3 verification failed, 4 not found.\n";

void tool_version(void)
{
	printf("teehsm %s\n", TEEHSM_VERSION);
}

int tool_usage(const struct tool *t, const char *fmt, ...)
{
	char msg[TOOL_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tool_err(t, "%s (see teehsm%s%s --help)", msg, t->cmd ? " " : "", t->cmd ? t->cmd : "");
	return TOOL_USAGE;
}

static int parse_slot(const char *s, CK_SLOT_ID *out)
{
	char *end = NULL;
	unsigned long v = 0;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = (CK_SLOT_ID)v;
	return 0;
}

void tool_opt_info(int c, const char *help)
{
	if (c == 'h')
		printf("%s%s", help, tool_global_help);
	else
		tool_version();
}

int tool_opt_common(struct tool *t, int c, char **argv)
{
	switch (c) {
	case OPT_MODULE:
		t->o.module = optarg;
		return TOOL_OK;
	case OPT_TOKEN:
		t->o.token = optarg;
		return TOOL_OK;
	case OPT_SLOT:
		if (parse_slot(optarg, &t->o.slot) != 0)
			return tool_usage(t, "--slot wants a slot number, not '%s'", optarg);
		t->o.has_slot = true;
		return TOOL_OK;
	case OPT_PIN_FILE:
		t->o.pin_file = optarg;
		return TOOL_OK;
	case OPT_SO_PIN_FILE:
		t->o.so_pin_file = optarg;
		return TOOL_OK;
	case OPT_PIN_REFUSED:
		/* optarg is a PIN: not a word of it in the message. */
		return tool_usage(t,
				  "PINs are never taken on the command line: use --pin-file FILE "
				  "or TEEHSM_PIN (--so-pin-file or TEEHSM_SO_PIN for the SO)");
	case ':':
		if (optopt && optopt < 256)
			return tool_usage(t, "option -%c needs a value", optopt);
		return tool_usage(t, "option %s needs a value", argv[optind - 1]);
	case '?':
		if (optopt && optopt < 256)
			return tool_usage(t, "unknown option -%c", optopt);
		/* Not the "=value" part: it might be a secret typed into the wrong option. */
		return tool_usage(t, "unknown option %.*s", (int)strcspn(argv[optind - 1], "="),
				  argv[optind - 1]);
	default:
		return -1;
	}
}
