/* The inventory commands: list and info. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "tool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	O_KEYS = OPT_CMD_BASE,
	O_CERTS,
};

/* Parse a command that takes only the global options and flags of opts. */
static int parse_simple(struct tool *t, int argc, char **argv, const struct option *opts,
			const char *help, bool *keys, bool *certs)
{
	int c = 0, rc = TOOL_FAIL;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_VERSION:
			tool_opt_info(c, help);
			return -1;
		case O_KEYS:
			*keys = true;
			break;
		case O_CERTS:
			*certs = true;
			break;
		default:
			rc = tool_opt_common(t, c, argv);
			if (rc != TOOL_OK)
				return rc;
		}
	}
	if (optind < argc)
		return tool_usage(t, "unexpected argument '%s'", argv[optind]);
	return TOOL_OK;
}

static void put_line(const char *kind, const char *type, const char *label, const uint8_t *id,
		     size_t id_len)
{
	char hex[2 * 64 + 1];

	printf("%s\t%s\t", kind, type);
	tool_put_visible(stdout, label);
	printf("\t%s", id_len ? tool_hex(id, id_len > 64 ? 64 : id_len, hex, sizeof(hex)) : "-");
}

/* Whether id (of a public key) is also the id of one of the private keys in k. */
static bool id_of_private(const struct tool_key *k, size_t n, const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (k[i].id_len == len && len && memcmp(k[i].id, id, len) == 0)
			return true;
	return false;
}

static int list_keys(struct tool *t)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE *hs = NULL, *ph = NULL;
	struct tool_key *k = NULL;
	size_t n = 0, np = 0;
	uint8_t *id = NULL, *label = NULL;
	size_t id_len = 0, label_len = 0;
	char type[32];
	EVP_PKEY *pk = NULL;
	int rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &n);

	if (rc != TOOL_OK)
		return rc;
	k = calloc(n ? n : 1, sizeof(*k));
	if (!k) {
		tool_err(t, "out of memory");
		rc = TOOL_FAIL;
		goto out;
	}
	for (size_t i = 0; i < n && rc == TOOL_OK; i++) {
		rc = tool_key_load(t, hs[i], &k[i]);
		if (rc != TOOL_OK)
			break;
		put_line(k[i].pub != CK_INVALID_HANDLE ? "key pair" : "private key",
			 tool_pkey_type_name(k[i].pk, type, sizeof(type)), k[i].label, k[i].id,
			 k[i].id_len);
		putchar('\n');
	}
	if (rc != TOOL_OK)
		goto out;
	/* Public keys without their private half. */
	cls = CKO_PUBLIC_KEY;
	rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &ph, &np);
	for (size_t i = 0; i < np && rc == TOOL_OK; i++) {
		if (tool_attr(t, ph[i], CKA_ID, &id, &id_len) < 0 ||
		    tool_attr(t, ph[i], CKA_LABEL, &label, &label_len) < 0) {
			rc = TOOL_FAIL;
		} else if (!id_of_private(k, n, id, id_len)) {
			pk = tool_pub_object_pkey(t, ph[i]);
			put_line("public key", tool_pkey_type_name(pk, type, sizeof(type)),
				 label ? (const char *)label : "", id, id_len);
			putchar('\n');
			EVP_PKEY_free(pk);
			pk = NULL;
		}
		free(id);
		free(label);
		id = label = NULL;
	}
out:
	for (size_t i = 0; k && i < n; i++)
		tool_key_clear(&k[i]);
	free(k);
	free(ph);
	free(hs);
	return rc;
}

static int list_certs(struct tool *t)
{
	struct tool_cert *c = NULL;
	size_t n = 0;
	const char *kind = NULL;
	char name[1024], until[40];
	int rc = tool_certs_fetch(t, &c, &n);

	if (rc != TOOL_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (c[i].trusted)
			kind = "trusted CA";
		else if (c[i].category == TOOL_CAT_AUTHORITY ||
			 (c[i].category == 0 && X509_check_ca(c[i].x) > 0))
			kind = "CA";
		else
			kind = "certificate";
		put_line(kind, "x509", c[i].label, c[i].id, c[i].id_len);
		printf("\t%s\t%s\n",
		       tool_name_str(X509_get_subject_name(c[i].x), name, sizeof(name)),
		       tool_time_str(X509_get0_notAfter(c[i].x), until, sizeof(until)));
	}
	ERR_clear_error();
	tool_certs_free(c, n);
	return TOOL_OK;
}

static const char list_help[] =
	"Usage: teehsm list [--keys|--certs]\n"
	"\n"
	"One line per object, fields separated by tabs: kind (key pair, private key, public key,\n"
	"certificate, CA, trusted CA), type (ec-p256, rsa-3072, ed25519, x509), label, id in hex,\n"
	"and for certificates the subject and notAfter. Keys need the user PIN.\n"
	"\n"
	"  --keys    keys only\n"
	"  --certs   certificates only (no PIN needed)\n"
	"\n";

int tool_cmd_list(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", no_argument, NULL, O_KEYS },
		{ "certs", no_argument, NULL, O_CERTS },
		TOOL_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	bool keys = false, certs = false;
	int rc = parse_simple(t, argc, argv, opts, list_help, &keys, &certs);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	if (!keys && !certs)
		keys = certs = true;
	rc = tool_open(t, false);
	if (rc == TOOL_OK && keys)
		rc = tool_login_user(t);
	if (rc == TOOL_OK && keys)
		rc = list_keys(t);
	if (rc == TOOL_OK && certs)
		rc = list_certs(t);
	return rc;
}

/* A blank-padded PKCS#11 string field without its padding. */
static const char *field(const unsigned char *p, size_t n, char *buf, size_t size)
{
	size_t len = n < size - 1 ? n : size - 1;

	memcpy(buf, p, len);
	buf[len] = '\0';
	while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\0'))
		buf[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

static const struct {
	CK_FLAGS flag;
	const char *words;
} token_flags[] = {
	{ CKF_TOKEN_INITIALIZED, "token initialised" },
	{ CKF_USER_PIN_INITIALIZED, "user PIN initialised" },
	{ CKF_LOGIN_REQUIRED, "login required" },
	{ CKF_RNG, "random number generator" },
	{ CKF_WRITE_PROTECTED, "write-protected" },
	{ CKF_PROTECTED_AUTHENTICATION_PATH, "protected authentication path" },
	{ CKF_CLOCK_ON_TOKEN, "clock" },
	{ CKF_DUAL_CRYPTO_OPERATIONS, "dual crypto operations" },
	{ CKF_USER_PIN_COUNT_LOW, "user PIN count low" },
	{ CKF_USER_PIN_FINAL_TRY, "user PIN final try" },
	{ CKF_USER_PIN_LOCKED, "USER PIN LOCKED" },
	{ CKF_USER_PIN_TO_BE_CHANGED, "user PIN to be changed" },
	{ CKF_SO_PIN_COUNT_LOW, "SO PIN count low" },
	{ CKF_SO_PIN_FINAL_TRY, "SO PIN final try" },
	{ CKF_SO_PIN_LOCKED, "SO PIN LOCKED" },
	{ CKF_SO_PIN_TO_BE_CHANGED, "SO PIN to be changed" },
};

static const char info_help[] =
	"Usage: teehsm info\n"
	"\n"
	"The module, the chosen slot and token (label, manufacturer, model, serial, flags), and\n"
	"the number of mechanisms the token offers. Needs no PIN.\n"
	"\n";

int tool_cmd_info(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = { TOOL_GLOBAL_LONGOPTS, { NULL, 0, NULL, 0 } };
	bool unused = false;
	CK_INFO mi;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_ULONG nmech = 0;
	char a[72], b[72], c[72], d[72];
	CK_RV rv = CKR_OK;
	bool first = true;
	int rc = parse_simple(t, argc, argv, opts, info_help, &unused, &unused);

	if (rc != TOOL_OK)
		return rc < 0 ? TOOL_OK : rc;
	rc = tool_open(t, false);
	if (rc != TOOL_OK)
		return rc;
	if ((rv = t->f->C_GetInfo(&mi)) != CKR_OK) {
		tool_p11_err(t, "C_GetInfo", rv);
		return TOOL_FAIL;
	}
	printf("module:         %s\n", t->module_path);
	printf("  library:      %s %u.%u (%s), PKCS#11 %u.%u\n",
	       field(mi.libraryDescription, sizeof(mi.libraryDescription), a, sizeof(a)),
	       mi.libraryVersion.major, mi.libraryVersion.minor,
	       field(mi.manufacturerID, sizeof(mi.manufacturerID), b, sizeof(b)),
	       mi.cryptokiVersion.major, mi.cryptokiVersion.minor);
	if ((rv = t->f->C_GetSlotInfo(t->slot, &si)) != CKR_OK ||
	    (rv = t->f->C_GetTokenInfo(t->slot, &ti)) != CKR_OK) {
		tool_p11_err(t, "C_GetSlotInfo/C_GetTokenInfo", rv);
		return TOOL_FAIL;
	}
	printf("slot:           %lu, %s (%s)\n", (unsigned long)t->slot,
	       field(si.slotDescription, sizeof(si.slotDescription), a, sizeof(a)),
	       field(si.manufacturerID, sizeof(si.manufacturerID), b, sizeof(b)));
	printf("token:          '%s'\n", field(ti.label, sizeof(ti.label), a, sizeof(a)));
	printf("  manufacturer: %s\n",
	       field(ti.manufacturerID, sizeof(ti.manufacturerID), b, sizeof(b)));
	printf("  model:        %s\n", field(ti.model, sizeof(ti.model), c, sizeof(c)));
	printf("  serial:       %s\n",
	       field(ti.serialNumber, sizeof(ti.serialNumber), d, sizeof(d)));
	printf("  versions:     hardware %u.%u, firmware %u.%u\n", ti.hardwareVersion.major,
	       ti.hardwareVersion.minor, ti.firmwareVersion.major, ti.firmwareVersion.minor);
	printf("  flags:        ");
	for (size_t i = 0; i < ARRAY_SIZE(token_flags); i++) {
		if (ti.flags & token_flags[i].flag) {
			printf("%s%s", first ? "" : ", ", token_flags[i].words);
			first = false;
		}
	}
	printf("%s\n", first ? "none" : "");
	printf("  PIN length:   %lu to %lu\n", (unsigned long)ti.ulMinPinLen,
	       (unsigned long)ti.ulMaxPinLen);
	rv = t->f->C_GetMechanismList(t->slot, NULL, &nmech);
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_GetMechanismList", rv);
		return TOOL_FAIL;
	}
	printf("  mechanisms:   %lu\n", (unsigned long)nmech);
	return TOOL_OK;
}
