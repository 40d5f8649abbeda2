/* The certificate commands: cert import|export|verify|trust, and enroll's options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tool.h"

enum {
	O_CHAIN = OPT_CMD_BASE,
	O_LABEL,
	O_NO_KEY,
	O_OUT,
	O_DER,
	O_SUBJECT,
	O_SAN,
	O_CA_CMD,
	O_TYPE,
	O_ROOT,
	O_RENEW,
	O_CA_TIMEOUT,
	O_ISSUERS,
};

static const char cert_help[] =
	"Usage: teehsm cert import FILE [--chain FILE] [--label L] [--no-key]\n"
	"       teehsm cert export L [--chain | --issuers] [--out FILE] [--der]\n"
	"       teehsm cert verify L\n"
	"       teehsm cert trust FILE\n"
	"\n"
	"import  store the leaf certificate of FILE (PEM or DER; PEM may go on with its chain)\n"
	"        with the private key it belongs to (its label and id), and the chain\n"
	"        certificates of FILE and --chain FILE as CA certificates.\n"
	"        --label L   the label (must be the key's; required with --no-key)\n"
	"        --no-key    store a certificate that has no private key on the token\n"
	"export  write the certificate labelled L (PEM), with --chain followed by its chain of\n"
	"        CA certificates from the token (what a TLS server's certificate file holds);\n"
	"        --issuers writes that chain without the certificate L (what openssl's\n"
	"        -cert_chain takes). --out FILE (default: standard output); --der for DER\n"
	"        (one certificate: not with --chain or --issuers).\n"
	"verify  check that certificate L chains to a trusted root on the token now and that\n"
	"        private key L holds its public key. Exit 3 when not.\n"
	"trust   store the CA certificate of FILE as a trusted root (needs the SO PIN).\n"
	"\n";

/* The options of one cert subcommand. */
struct cert_args {
	const char *arg; /* FILE or L */
	const char *chain_file;
	const char *label;
	const char *out;
	bool chain, issuers, no_key, der;
};

#define BIT(o) (1u << ((o)-OPT_CMD_BASE))

/* Parse the options of `cert VERB`: allowed is the set of O_* the verb takes. */
static int cert_parse(struct tool *t, int argc, char **argv, unsigned int allowed,
		      struct cert_args *a)
{
	/* --chain takes a FILE with import, nothing with export. */
	static const struct option with_file[] = {
		{ "chain", required_argument, NULL, O_CHAIN },
		{ "label", required_argument, NULL, O_LABEL },
		{ "no-key", no_argument, NULL, O_NO_KEY },
		TOOL_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct option flag[] = {
		{ "chain", no_argument, NULL, O_CHAIN },
		{ "issuers", no_argument, NULL, O_ISSUERS },
		{ "out", required_argument, NULL, O_OUT },
		{ "der", no_argument, NULL, O_DER },
		TOOL_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const struct option *opts = (allowed & BIT(O_LABEL)) ? with_file : flag;
	int c = 0, rc = TOOL_FAIL;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c >= OPT_CMD_BASE && !(allowed & (1u << (c - OPT_CMD_BASE)))) {
			const char *name = "?";

			for (const struct option *o = opts; o->name; o++)
				if (o->val == c)
					name = o->name;
			return tool_usage(t, "option --%s does not go with %s", name, t->cmd);
		}
		switch (c) {
		case 'h':
		case OPT_VERSION:
			tool_opt_info(c, cert_help);
			return -1;
		case O_CHAIN:
			a->chain = true;
			if (optarg)
				a->chain_file = optarg;
			break;
		case O_ISSUERS:
			a->chain = a->issuers = true;
			break;
		case O_LABEL:
			a->label = optarg;
			break;
		case O_NO_KEY:
			a->no_key = true;
			break;
		case O_OUT:
			a->out = optarg;
			break;
		case O_DER:
			a->der = true;
			break;
		default:
			rc = tool_opt_common(t, c, argv);
			if (rc != TOOL_OK)
				return rc;
		}
	}
	if (optind >= argc)
		return tool_usage(t, "%s needs %s", t->cmd,
				  (allowed & BIT(O_LABEL)) || !strcmp(t->cmd, "cert trust")
					  ? "a FILE"
					  : "the label L of a certificate");
	a->arg = argv[optind++];
	if (optind < argc)
		return tool_usage(t, "unexpected argument '%s'", argv[optind]);
	return TOOL_OK;
}

static int cert_import(struct tool *t, int argc, char **argv)
{
	struct cert_args a;
	STACK_OF(X509) *certs = NULL, *more = NULL;
	char err[TOOL_ERR_LEN];
	int rc = 0;

	rc = cert_parse(t, argc, argv, BIT(O_CHAIN) | BIT(O_LABEL) | BIT(O_NO_KEY), &a);
	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (a.no_key && (!a.label || !*a.label))
		return tool_usage(t, "--no-key needs --label L");
	if (a.label && (!*a.label || strlen(a.label) > TOOL_LABEL_MAX))
		return tool_usage(t, "--label must be 1 to %d bytes", TOOL_LABEL_MAX);
	rc = TOOL_FAIL;
	if (tool_certs_load(a.arg, &certs, err, sizeof(err)) != 0 ||
	    (a.chain_file && tool_certs_load(a.chain_file, &more, err, sizeof(err)) != 0)) {
		tool_err(t, "%s", err);
		goto out;
	}
	while (more && sk_X509_num(more) > 0) {
		X509 *x = sk_X509_shift(more);

		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			tool_err(t, "out of memory");
			goto out;
		}
	}
	rc = tool_open(t, true);
	if (rc == TOOL_OK)
		rc = tool_login_user(t);
	if (rc == TOOL_OK)
		rc = tool_import(t, certs, a.label, a.no_key, NULL, NULL);
out:
	sk_X509_pop_free(more, X509_free);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* Append the PEM or DER of x to the BIO. */
static int put_cert(BIO *b, X509 *x, bool der)
{
	return der ? i2d_X509_bio(b, x) == 1 : PEM_write_bio_X509(b, x) == 1;
}

static int cert_export(struct tool *t, int argc, char **argv)
{
	struct cert_args a;
	struct tool_cert *c = NULL;
	STACK_OF(X509) *pool = sk_X509_new_null(), *chain = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	size_t n = 0;
	long idx = -1, len = 0;
	int rc = cert_parse(t, argc, argv, BIT(O_CHAIN) | BIT(O_ISSUERS) | BIT(O_OUT) | BIT(O_DER),
			    &a);

	if (rc != TOOL_OK) {
		rc = rc < 0 ? TOOL_OK : rc;
		goto out;
	}
	if (a.der && a.chain) {
		rc = tool_usage(t, "--der writes one certificate: not with --%s",
				a.issuers ? "issuers" : "chain");
		goto out;
	}
	if (a.der && !a.out && isatty(STDOUT_FILENO)) {
		rc = tool_usage(t, "refusing to write DER to a terminal: use --out FILE");
		goto out;
	}
	rc = TOOL_FAIL;
	if (!pool || !b) {
		tool_err(t, "out of memory");
		goto out;
	}
	rc = tool_open(t, false);
	if (rc == TOOL_OK)
		rc = tool_certs_fetch(t, &c, &n);
	if (rc != TOOL_OK)
		goto out;
	idx = tool_certs_by_label(t, c, n, a.arg);
	if (idx < 0) {
		if (idx == -1)
			tool_err(t, "no certificate labelled '%s' on token '%s'", a.arg,
				 t->token_label);
		rc = idx == -1 ? TOOL_NOTFOUND : TOOL_FAIL;
		goto out;
	}
	rc = TOOL_FAIL;
	for (size_t i = 0; i < n; i++) {
		if ((long)i != idx && !sk_X509_push(pool, c[i].x)) {
			tool_err(t, "out of memory");
			goto out;
		}
	}
	chain = a.chain ? tool_chain_build(c[idx].x, pool) : NULL;
	if (a.chain && !chain) {
		tool_err(t, "out of memory");
		goto out;
	}
	if (a.issuers && sk_X509_num(chain) < 2) {
		tool_err(t, "the token holds no issuer of '%s'", a.arg);
		goto out;
	}
	for (int i = a.issuers ? 1 : 0; i < (chain ? sk_X509_num(chain) : 1); i++) {
		if (!put_cert(b, chain ? sk_X509_value(chain, i) : c[idx].x, a.der)) {
			tool_err(t, "cannot encode the certificate");
			goto out;
		}
	}
	len = BIO_get_mem_data(b, &p);
	rc = tool_write_out(t, a.out, p, (size_t)len, a.der);
out:
	ERR_clear_error();
	BIO_free(b);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_free(pool); /* borrowed from c */
	tool_certs_free(c, n);
	return rc;
}

static int cert_verify(struct tool *t, int argc, char **argv)
{
	struct cert_args a;
	struct tool_check res;
	int rc = cert_parse(t, argc, argv, 0, &a);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	rc = tool_open(t, false);
	if (rc != TOOL_OK)
		return rc;
	tool_check_identity(t, a.arg, &res);
	if (res.rc == TOOL_OK)
		tool_say("%s: OK: %s", a.arg, res.chain);
	else if (res.rc == TOOL_VERIFY)
		tool_say("%s: FAILED: %s", a.arg, res.why);
	return res.rc;
}

static int cert_trust(struct tool *t, int argc, char **argv)
{
	struct cert_args a;
	STACK_OF(X509) *certs = NULL;
	char err[TOOL_ERR_LEN];
	int rc = cert_parse(t, argc, argv, 0, &a);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (tool_certs_load(a.arg, &certs, err, sizeof(err)) != 0) {
		tool_err(t, "%s", err);
		return TOOL_FAIL;
	}
	if (sk_X509_num(certs) != 1) {
		tool_err(t, "%s holds %d certificates: trust one root at a time", a.arg,
			 sk_X509_num(certs));
		rc = TOOL_FAIL;
		goto out;
	}
	rc = tool_open(t, true);
	if (rc == TOOL_OK)
		rc = tool_trust(t, sk_X509_value(certs, 0), false);
out:
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

int tool_cmd_cert(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = { TOOL_GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	static const struct {
		const char *name, *cmd;
		int (*fn)(struct tool *, int, char **);
	} verbs[] = {
		{ "import", "cert import", cert_import },
		{ "export", "cert export", cert_export },
		{ "verify", "cert verify", cert_verify },
		{ "trust", "cert trust", cert_trust },
	};
	int c = 0, rc = TOOL_FAIL;

	/* Global options may come between "cert" and the verb. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_VERSION:
			tool_opt_info(c, cert_help);
			return TOOL_OK;
		default:
			rc = tool_opt_common(t, c, argv);
			if (rc != TOOL_OK)
				return rc;
		}
	}
	if (optind >= argc)
		return tool_usage(t, "which one: import, export, verify or trust?");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[optind], verbs[i].name) == 0) {
			t->cmd = verbs[i].cmd;
			return verbs[i].fn(t, argc - optind, argv + optind);
		}
	}
	return tool_usage(t, "unknown subcommand '%s' (import, export, verify or trust)",
			  argv[optind]);
}

static const char enroll_help[] =
	"Usage: teehsm enroll --label L --subject S [--san SAN]... --ca-cmd 'CMD'\n"
	"                     [--type TYPE] [--root FILE] [--renew] [--ca-timeout SECONDS]\n"
	"\n"
	"Give the token an identity L: a new key pair, a request for it, a certificate from the\n"
	"CA command, stored with its chain and verified. Does nothing when L is enrolled and\n"
	"verifies already.\n"
	"\n"
	"  --label L          the label of the key pair and certificate\n"
	"  --subject S        the subject, like '/CN=device-17/O=Fleet'\n"
	"  --san SAN          dns:NAME, uri:URI or ip:ADDR (repeatable)\n"
	"  --ca-cmd CMD       run with /bin/sh -c: the request (PEM) on its standard input, the\n"
	"                     certificate then its chain (PEM) on its standard output; it gets\n"
	"                     TEEHSM_ENROLL_LABEL and TEEHSM_ENROLL_SUBJECT\n"
	"  --type TYPE        the key type (default ec-p256; see teehsm keygen --help)\n"
	"  --root FILE        store this root as trusted first, unless it is (needs the SO PIN)\n"
	"  --renew            enroll again: the old key and certificate are replaced once the new\n"
	"                     ones verify, and stay when anything fails\n"
	"  --ca-timeout SECS  how long CMD may run (default 300)\n"
	"\n";

int tool_cmd_enroll(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, O_LABEL },
		{ "subject", required_argument, NULL, O_SUBJECT },
		{ "san", required_argument, NULL, O_SAN },
		{ "ca-cmd", required_argument, NULL, O_CA_CMD },
		{ "type", required_argument, NULL, O_TYPE },
		{ "root", required_argument, NULL, O_ROOT },
		{ "renew", no_argument, NULL, O_RENEW },
		{ "ca-timeout", required_argument, NULL, O_CA_TIMEOUT },
		TOOL_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct tool_enroll e;
	const char **sans = NULL;
	char *end = NULL;
	unsigned long v = 0;
	int c = 0, rc = TOOL_FAIL;

	memset(&e, 0, sizeof(e));
	e.type = "ec-p256";
	e.ca_timeout = TOOL_CA_TIMEOUT;
	sans = calloc((size_t)argc + 1, sizeof(*sans));
	if (!sans) {
		tool_err(t, "out of memory");
		return TOOL_FAIL;
	}
	e.sans = sans;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_VERSION:
			tool_opt_info(c, enroll_help);
			rc = TOOL_OK;
			goto out;
		case O_LABEL:
			e.label = optarg;
			break;
		case O_SUBJECT:
			e.subject = optarg;
			break;
		case O_SAN:
			sans[e.n_sans++] = optarg;
			break;
		case O_CA_CMD:
			e.ca_cmd = optarg;
			break;
		case O_TYPE:
			e.type = optarg;
			break;
		case O_ROOT:
			e.root = optarg;
			break;
		case O_RENEW:
			e.renew = true;
			break;
		case O_CA_TIMEOUT:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-' || v == 0 || v > 86400) {
				rc = tool_usage(t,
						"--ca-timeout wants seconds from 1 to 86400, "
						"not '%s'",
						optarg);
				goto out;
			}
			e.ca_timeout = (unsigned int)v;
			break;
		default:
			rc = tool_opt_common(t, c, argv);
			if (rc != TOOL_OK)
				goto out;
		}
	}
	rc = TOOL_USAGE;
	if (optind < argc)
		tool_usage(t, "unexpected argument '%s'", argv[optind]);
	else if (!e.label || !*e.label || strlen(e.label) + 6 > TOOL_LABEL_MAX)
		tool_usage(t, "--label L is required (1 to %d bytes)", TOOL_LABEL_MAX - 6);
	else if (!e.subject)
		tool_usage(t, "--subject is required (like '/CN=name/O=org')");
	else if (!e.ca_cmd || !*e.ca_cmd)
		tool_usage(t, "--ca-cmd 'CMD' is required");
	else if (!tool_keytype_by_name(e.type))
		tool_usage(t, "unknown key type '%s' (%s)", e.type, tool_keytype_names());
	else
		rc = tool_enroll_run(t, &e);
out:
	free(sans);
	return rc;
}
