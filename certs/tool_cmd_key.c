/* The key commands: keygen, csr, sign and verify (spec "Commands"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/buf.h"
#include "tool.h"

enum {
	O_TYPE = OPT_CMD_BASE,
	O_LABEL,
	O_ID,
	O_PUBOUT,
	O_KEY,
	O_SUBJECT,
	O_SAN,
	O_OUT,
	O_DER,
	O_IN,
	O_MECH,
	O_SIG,
};

static int check_label(const struct tool *t, const char *opt, const char *label)
{
	if (!label)
		return tool_usage(t, "%s is required", opt);
	if (!*label || strlen(label) > TOOL_LABEL_MAX)
		return tool_usage(t, "%s must be 1 to %d bytes", opt, TOOL_LABEL_MAX);
	return TOOL_OK;
}

/* PEM of a public key into a malloc'ed buffer. */
static int pubkey_pem(EVP_PKEY *pk, char **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n = 0;

	*out = NULL;
	if (!b || PEM_write_bio_PUBKEY(b, pk) != 1 || (n = BIO_get_mem_data(b, &p)) <= 0) {
		BIO_free(b);
		return -1;
	}
	*out = malloc((size_t)n);
	if (*out)
		memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	BIO_free(b);
	return *out ? 0 : -1;
}

static const char keygen_help[] =
	"Usage: teehsm keygen --type TYPE --label L [--id HEX] [--pubout FILE]\n"
	"\n"
	"Generate a key pair in the token: a private key (sensitive, never extractable, for\n"
	"signing) and its public key, both labelled L with CKA_ID HEX (default: the SHA-1 of the\n"
	"public key). Refuses when a key labelled L exists.\n"
	"\n"
	"  --type TYPE     ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096 or ed25519\n"
	"  --label L       the label of both keys\n"
	"  --id HEX        the CKA_ID to give both keys\n"
	"  --pubout FILE   also write the public key (PEM) to FILE\n"
	"\n";

int tool_cmd_keygen(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, O_TYPE },
		{ "label", required_argument, NULL, O_LABEL },
		{ "id", required_argument, NULL, O_ID },
		{ "pubout", required_argument, NULL, O_PUBOUT },
		TOOL_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *type = NULL, *label = NULL, *idhex = NULL, *pubout = NULL;
	const struct tool_keytype *kt = NULL;
	struct tool_key k = { 0 };
	uint8_t id[TOOL_ID_MAX];
	char hex[2 * TOOL_ID_MAX + 1];
	char *pem = NULL, *uri = NULL;
	size_t pem_len = 0;
	int c = 0, id_len = 0, rc = TOOL_FAIL;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_VERSION:
			tool_opt_info(c, keygen_help);
			return TOOL_OK;
		case O_TYPE:
			type = optarg;
			break;
		case O_LABEL:
			label = optarg;
			break;
		case O_ID:
			idhex = optarg;
			break;
		case O_PUBOUT:
			pubout = optarg;
			break;
		default:
			rc = tool_opt_common(t, c, argv);
			if (rc != TOOL_OK)
				return rc;
		}
	}
	if (optind < argc)
		return tool_usage(t, "unexpected argument '%s'", argv[optind]);
	if (!type)
		return tool_usage(t, "--type is required (%s)", tool_keytype_names());
	kt = tool_keytype_by_name(type);
	if (!kt)
		return tool_usage(t, "unknown key type '%s' (%s)", type, tool_keytype_names());
	rc = check_label(t, "--label", label);
	if (rc != TOOL_OK)
		return rc;
	if (idhex) {
		id_len = tool_unhex(idhex, id, sizeof(id));
		if (id_len <= 0)
			return tool_usage(t, "--id wants 1 to %d bytes in hex, not '%s'",
					  TOOL_ID_MAX, idhex);
	}
	rc = tool_open(t, true);
	if (rc == TOOL_OK)
		rc = tool_login_user(t);
	if (rc != TOOL_OK)
		return rc;
	rc = tool_key_label_exists(t, label);
	if (rc != 0) {
		if (rc > 0)
			tool_err(t, "a key labelled '%s' is already on token '%s'", label,
				 t->token_label);
		return TOOL_FAIL;
	}
	rc = tool_keygen(t, kt, label, id_len ? id : NULL, (size_t)id_len, &k);
	if (rc != TOOL_OK)
		goto out;
	if (pubout) {
		if (pubkey_pem(k.pk, &pem, &pem_len) != 0) {
			tool_err(t, "cannot encode the public key");
			rc = TOOL_FAIL;
		} else {
			rc = tool_write_out(t, pubout, pem, pem_len, false);
		}
		if (rc != TOOL_OK) {
			/* All or nothing: a rerun must not meet a half-made key. */
			tool_err(t, "removing the new key pair again");
			(void)tool_key_destroy(t, &k);
			goto out;
		}
	}
	uri = tool_uri(t->token_label, label, k.id, k.id_len, "private");
	tool_say("%s: %s key pair generated, id %s", label, kt->name,
		 tool_hex(k.id, k.id_len, hex, sizeof(hex)));
	tool_say("%s", uri ? uri : "(out of memory)");
	rc = TOOL_OK;
out:
	free(uri);
	free(pem);
	tool_key_clear(&k);
	return rc;
}

static const char csr_help[] =
	"Usage: teehsm csr --key L --subject '/CN=name/O=org' [--san dns:NAME|uri:URI|ip:ADDR]...\n"
	"                  [--out FILE] [--der]\n"
	"\n"
	"Make a PKCS#10 certificate request for key L, signed in the token (EC P-256:\n"
	"ecdsa-with-SHA256, P-384: ecdsa-with-SHA384, RSA: sha256WithRSAEncryption, Ed25519).\n"
	"\n"
	"  --key L         the private key\n"
	"  --subject S     the subject in the slash form; \\/ is a slash in a value\n"
	"  --san SAN       a subjectAltName: dns:NAME, uri:URI or ip:ADDR (repeatable)\n"
	"  --out FILE      write the request to FILE (default: standard output)\n"
	"  --der           DER instead of PEM\n"
	"\n";

int tool_cmd_csr(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, O_KEY },
		{ "subject", required_argument, NULL, O_SUBJECT },
		{ "san", required_argument, NULL, O_SAN },
		{ "out", required_argument, NULL, O_OUT },
		{ "der", no_argument, NULL, O_DER },
		TOOL_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *label = NULL, *subject = NULL, *out = NULL;
	const char **sans = NULL;
	size_t n_sans = 0;
	bool der = false;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	X509_REQ *req = NULL;
	struct tool_key k = { 0 };
	const struct tool_mech *m = NULL;
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	char err[TOOL_ERR_LEN];
	int c = 0, rc = TOOL_FAIL;

	sans = calloc((size_t)argc + 1, sizeof(*sans));
	if (!sans) {
		tool_err(t, "out of memory");
		return TOOL_FAIL;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_VERSION:
			tool_opt_info(c, csr_help);
			rc = TOOL_OK;
			goto out;
		case O_KEY:
			label = optarg;
			break;
		case O_SUBJECT:
			subject = optarg;
			break;
		case O_SAN:
			sans[n_sans++] = optarg;
			break;
		case O_OUT:
			out = optarg;
			break;
		case O_DER:
			der = true;
			break;
		default:
			rc = tool_opt_common(t, c, argv);
			if (rc != TOOL_OK)
				goto out;
		}
	}
	rc = TOOL_USAGE;
	if (optind < argc) {
		tool_usage(t, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (check_label(t, "--key", label) != TOOL_OK)
		goto out;
	if (!subject) {
		tool_usage(t, "--subject is required (like '/CN=name/O=org')");
		goto out;
	}
	if (tool_subject_parse(subject, &name, err, sizeof(err)) != 0) {
		tool_usage(t, "--subject: %s", err);
		goto out;
	}
	rc = tool_sans_parse(t, sans, n_sans, &gens);
	if (rc != TOOL_OK)
		goto out;
	if (der && !out && isatty(STDOUT_FILENO)) {
		rc = tool_usage(t, "refusing to write DER to a terminal: use --out FILE");
		goto out;
	}
	rc = tool_open(t, false);
	if (rc == TOOL_OK)
		rc = tool_login_user(t);
	if (rc == TOOL_OK)
		rc = tool_key_find(t, label, &k);
	if (rc != TOOL_OK)
		goto out;
	m = tool_mech_default(k.pk);
	if (!m) {
		tool_err(t, "key '%s' is of a type this command cannot sign with", label);
		rc = TOOL_FAIL;
		goto out;
	}
	rc = tool_csr_make(t, &k, m, name, gens, &req);
	if (rc != TOOL_OK)
		goto out;
	if (tool_csr_encode(req, der, &enc, &enc_len) != 0) {
		tool_err(t, "cannot encode the request");
		rc = TOOL_FAIL;
		goto out;
	}
	rc = tool_write_out(t, out, enc, enc_len, der);
out:
	ERR_clear_error();
	free(enc);
	X509_REQ_free(req);
	tool_key_clear(&k);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	free(sans);
	return rc;
}

static const char sign_help[] =
	"Usage: teehsm sign --key L --in FILE [--out SIG] [--mech MECH]\n"
	"\n"
	"Make a detached signature of FILE with key L in the token. FILE is hashed here; Ed25519\n"
	"signs the whole file (at most 512 KiB). ECDSA signatures are DER, RSA and Ed25519 raw:\n"
	"what `openssl dgst -verify` and `openssl pkeyutl -verify -rawin` check.\n"
	"\n"
	"  --key L         the private key\n"
	"  --in FILE       the file to sign (- for standard input)\n"
	"  --out SIG       the signature file (default: standard output, unless a terminal)\n"
	"  --mech MECH     ecdsa-sha256, ecdsa-sha384, ecdsa-sha512, rsa-pkcs-sha256,\n"
	"                  rsa-pss-sha256 (MGF1-SHA256, salt 32) or eddsa. Default by key type:\n"
	"                  ecdsa-sha256 for P-256, -sha384 for P-384, -sha512 for P-521,\n"
	"                  rsa-pkcs-sha256 for RSA, eddsa for Ed25519\n"
	"\n";

/* --mech, or the key's default; checked against the key. */
static int pick_mech(const struct tool *t, const char *name, EVP_PKEY *pk, const char *label,
		     const struct tool_mech **m)
{
	char err[TOOL_ERR_LEN];

	*m = name ? tool_mech_by_name(name) : tool_mech_default(pk);
	if (!*m && name)
		return tool_usage(t, "unknown mechanism '%s' (%s)", name, tool_mech_names());
	if (!*m) {
		tool_err(t, "key '%s' is of a type this command cannot sign with", label);
		return TOOL_FAIL;
	}
	if (tool_mech_check(*m, pk, err, sizeof(err)) != 0)
		return tool_usage(t, "%s (key '%s')", err, label);
	return TOOL_OK;
}

/* The options sign and verify share. */
struct sig_args {
	const char *label, *in, *out, *sig, *mech;
};

static int sig_parse(struct tool *t, int argc, char **argv, const char *help, bool verify,
		     struct sig_args *a)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, O_KEY },
		{ "in", required_argument, NULL, O_IN },
		{ "out", required_argument, NULL, O_OUT },
		{ "sig", required_argument, NULL, O_SIG },
		{ "mech", required_argument, NULL, O_MECH },
		TOOL_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c = 0, rc = TOOL_FAIL;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_VERSION:
			tool_opt_info(c, help);
			return -1;
		case O_KEY:
			a->label = optarg;
			break;
		case O_IN:
			a->in = optarg;
			break;
		case O_OUT:
			if (verify)
				return tool_usage(t, "unknown option --out");
			a->out = optarg;
			break;
		case O_SIG:
			if (!verify)
				return tool_usage(t, "unknown option --sig (the signature goes to "
						     "--out)");
			a->sig = optarg;
			break;
		case O_MECH:
			a->mech = optarg;
			break;
		default:
			rc = tool_opt_common(t, c, argv);
			if (rc != TOOL_OK)
				return rc;
		}
	}
	if (optind < argc)
		return tool_usage(t, "unexpected argument '%s'", argv[optind]);
	rc = check_label(t, "--key", a->label);
	if (rc != TOOL_OK)
		return rc;
	if (!a->in)
		return tool_usage(t, "--in FILE is required");
	if (verify && !a->sig)
		return tool_usage(t, "--sig SIG is required");
	if (a->mech && !tool_mech_by_name(a->mech))
		return tool_usage(t, "unknown mechanism '%s' (%s)", a->mech, tool_mech_names());
	return TOOL_OK;
}

int tool_cmd_sign(struct tool *t, int argc, char **argv)
{
	struct sig_args a;
	struct tool_key k = { 0 };
	const struct tool_mech *m = NULL;
	uint8_t *msg = NULL, *sig = NULL;
	uint8_t dg[EVP_MAX_MD_SIZE];
	size_t len = 0, sig_len = 0, dg_len = 0;
	char err[TOOL_ERR_LEN];
	int rc = sig_parse(t, argc, argv, sign_help, false, &a);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if ((!a.out || strcmp(a.out, "-") == 0) && isatty(STDOUT_FILENO))
		return tool_usage(t, "refusing to write a binary signature to a terminal: use "
				     "--out SIG or redirect standard output");
	rc = tool_open(t, false);
	if (rc == TOOL_OK)
		rc = tool_login_user(t);
	if (rc == TOOL_OK)
		rc = tool_key_find(t, a.label, &k);
	if (rc == TOOL_OK)
		rc = pick_mech(t, a.mech, k.pk, a.label, &m);
	if (rc != TOOL_OK)
		goto out;
	rc = TOOL_FAIL;
	if (m->family == TOOL_EDDSA) {
		if (tool_read_file(a.in, TOOL_EDDSA_MAX, &msg, &len, err, sizeof(err)) != 0) {
			tool_err(t, "%s%s", err,
				 strstr(err, "larger") ? " (Ed25519 signs the whole message in one "
							 "call; sign a hash of it, or use an EC or "
							 "RSA key)"
						       : "");
			goto out;
		}
		rc = tool_token_sign(t, k.priv, m, msg, len, &sig, &sig_len);
		if (rc == TOOL_OK &&
		    tool_verify_buffer(k.pk, m, msg, len, sig, sig_len, err, sizeof(err)) != 1)
			rc = TOOL_FAIL;
	} else {
		if (tool_hash_file(a.in, m->md, dg, &dg_len, err, sizeof(err)) != 0) {
			tool_err(t, "%s", err);
			goto out;
		}
		rc = tool_token_sign(t, k.priv, m, dg, dg_len, &sig, &sig_len);
		if (rc == TOOL_OK &&
		    tool_verify_digest(k.pk, m, dg, dg_len, sig, sig_len, err, sizeof(err)) != 1)
			rc = TOOL_FAIL;
	}
	if (rc != TOOL_OK) {
		if (sig)
			tool_err(t, "the token's signature does not verify with key '%s'", a.label);
		goto out;
	}
	rc = tool_write_out(t, a.out, sig, sig_len, true);
out:
	free(sig);
	free(msg);
	tool_key_clear(&k);
	return rc;
}

static const char verify_help[] =
	"Usage: teehsm verify --key L --in FILE --sig SIG [--mech MECH]\n"
	"\n"
	"Check a detached signature with the public key L read from the token (the public key\n"
	"object, else the certificate labelled L). Prints \"Signature OK\" (exit 0) or\n"
	"\"Signature does not verify\" (exit 3).\n"
	"\n"
	"  --key L         the key\n"
	"  --in FILE       the signed file (- for standard input)\n"
	"  --sig SIG       the signature\n"
	"  --mech MECH     as for teehsm sign (the default follows the key's type)\n"
	"\n";

/* The public key labelled label: the public key object, else the certificate. */
static int find_pubkey(struct tool *t, const char *label, EVP_PKEY **pk)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	int rc = tool_find_one(t, CKO_PUBLIC_KEY, label, &h);

	*pk = NULL;
	if (rc == TOOL_NOTFOUND)
		rc = tool_find_one(t, CKO_CERTIFICATE, label, &h);
	if (rc == TOOL_NOTFOUND)
		tool_err(t, "no public key or certificate labelled '%s' on token '%s'", label,
			 t->token_label);
	if (rc != TOOL_OK)
		return rc;
	*pk = tool_pub_object_pkey(t, h);
	return *pk ? TOOL_OK : TOOL_FAIL;
}

int tool_cmd_verify(struct tool *t, int argc, char **argv)
{
	struct sig_args a;
	EVP_PKEY *pk = NULL;
	const struct tool_mech *m = NULL;
	uint8_t *msg = NULL, *sig = NULL;
	uint8_t dg[EVP_MAX_MD_SIZE];
	size_t len = 0, sig_len = 0, dg_len = 0;
	char err[TOOL_ERR_LEN];
	int r = -1, rc = sig_parse(t, argc, argv, verify_help, true, &a);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (strcmp(a.in, "-") == 0 && strcmp(a.sig, "-") == 0)
		return tool_usage(t, "--in and --sig cannot both be standard input");
	if (tool_read_file(a.sig, 65536, &sig, &sig_len, err, sizeof(err)) != 0) {
		tool_err(t, "%s", err);
		return TOOL_FAIL;
	}
	rc = tool_open(t, false);
	if (rc == TOOL_OK)
		rc = find_pubkey(t, a.label, &pk);
	if (rc == TOOL_OK)
		rc = pick_mech(t, a.mech, pk, a.label, &m);
	if (rc != TOOL_OK)
		goto out;
	rc = TOOL_FAIL;
	if (m->family == TOOL_EDDSA) {
		if (tool_read_file(a.in, TOOL_FILE_MAX, &msg, &len, err, sizeof(err)) == 0)
			r = tool_verify_buffer(pk, m, msg, len, sig, sig_len, err, sizeof(err));
	} else if (tool_hash_file(a.in, m->md, dg, &dg_len, err, sizeof(err)) == 0) {
		r = tool_verify_digest(pk, m, dg, dg_len, sig, sig_len, err, sizeof(err));
	}
	if (r < 0) {
		tool_err(t, "%s", err);
		goto out;
	}
	tool_say("%s", r ? "Signature OK" : "Signature does not verify");
	rc = r ? TOOL_OK : TOOL_VERIFY;
out:
	EVP_PKEY_free(pk);
	free(sig);
	free(msg);
	return rc;
}
