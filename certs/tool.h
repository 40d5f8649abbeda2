/*
 * teehsm, the provisioning and signing command (issue 6; the interface is
 * notes/teehsm-cli-spec.md). It is a PKCS#11 consumer: it dlopen()s a module (libteehsm.so,
 * SoftHSM, ...) and uses only the PKCS#11 C API; OpenSSL does everything that is not the token.
 *
 * The prefix is tool_, not cli_: cli_ is the client module's (client/), whose core exports
 * cli_begin, cli_end and friends, and a test may one day link both.
 *
 * Conventions: a function that talks to the user returns an exit code (TOOL_OK .. TOOL_NOTFOUND)
 * and has printed the one-line reason already; a pure function (parsing, building, verifying)
 * returns 0 or -1 and words its reason into an err buffer, so the unit tests can read it.
 */
#ifndef TEEHSM_CERTS_TOOL_H
#define TEEHSM_CERTS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <p11-kit/pkcs11.h>

/* Exit codes (spec "Exit codes"). */
enum {
	TOOL_OK = 0,
	TOOL_FAIL = 1,	   /* a PKCS#11 error, an I/O error, bad input, the CA command failed */
	TOOL_USAGE = 2,	   /* a usage error */
	TOOL_VERIFY = 3,   /* a signature or a certificate chain did not verify */
	TOOL_NOTFOUND = 4, /* no key or certificate with that label */
};

/* CK_CERTIFICATE_CATEGORY_* (PKCS#11 v2.40 §4.6.2), which p11-kit's header lacks. */
#define TOOL_CAT_TOKEN_USER   1UL
#define TOOL_CAT_AUTHORITY    2UL
#define TOOL_CAT_OTHER_ENTITY 3UL

#define TOOL_ERR_LEN	 512
#define TOOL_PIN_MAX	 256	      /* bytes of a PIN, without the terminating NUL */
#define TOOL_LABEL_MAX	 256	      /* bytes of a CKA_LABEL we make or accept */
#define TOOL_ID_MAX	 64	      /* bytes of a CKA_ID given with --id */
#define TOOL_FILE_MAX	 (64u << 20)  /* the largest input file read whole */
#define TOOL_EDDSA_MAX	 (512u << 10) /* the largest message signed with CKM_EDDSA */
#define TOOL_CA_OUT_MAX	 (1u << 20)   /* the most a CA command may print */
#define TOOL_CA_TIMEOUT	 300	      /* seconds a CA command may run (--ca-timeout) */
#define TOOL_MAX_OBJECTS 4096	      /* objects one search returns at most */
#define TOOL_MAX_CHAIN	 16	      /* certificates in a chain built from the token */

/* The global options (spec "Global options"), accepted before or after the subcommand. */
struct tool_opts {
	const char *module;	 /* --module, or NULL for the default */
	const char *token;	 /* --token LABEL */
	bool has_slot;		 /* --slot ID was given */
	CK_SLOT_ID slot;	 /* --slot ID */
	const char *pin_file;	 /* --pin-file */
	const char *so_pin_file; /* --so-pin-file */
};

/* One run of the command: the module, the chosen token, the session and the PINs read so far
 * (kept for a re-login after an SO operation; wiped by tool_close). */
struct tool {
	const char *cmd; /* "keygen", "cert import": the prefix of every message */
	struct tool_opts o;
	char module_path[4096];
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	bool initialized; /* C_Initialize succeeded */
	CK_SLOT_ID slot;
	char token_label[33]; /* without the padding */
	CK_FLAGS token_flags;
	CK_SESSION_HANDLE sess; /* CK_INVALID_HANDLE when none is open */
	bool rw;		/* the session is read/write */
	bool user_in;		/* logged in as the user */
	char pin[TOOL_PIN_MAX + 1];
	size_t pin_len;
	bool have_pin;
};

/* ---- tool_util.c: messages, hex, files ---- */

/* Print "teehsm CMD: MESSAGE" on stderr, with control characters of the message made visible. */
void tool_err(const struct tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with "warning: " after the prefix. */
void tool_warn(const struct tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a line of results on stdout, with control characters made visible: labels and names
 * come from certificates and tokens that others made, and must not drive the terminal. */
void tool_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print s on f with control characters as \xHH. */
void tool_put_visible(FILE *f, const char *s);

/* Lower-case hex of len bytes into out (size at least 2 * len + 1). Returns out. */
char *tool_hex(const uint8_t *p, size_t len, char *out, size_t size);
/* Parse hex (an even number of digits, colons between bytes allowed) into out (at most max
 * bytes). Returns the number of bytes, or -1 when s is not such hex. */
int tool_unhex(const char *s, uint8_t *out, size_t max);

/* Read a whole file (or standard input for "-") of at most max bytes into a malloc'ed buffer
 * (with a NUL after the data). Returns 0, or -1 with the reason in err. */
int tool_read_file(const char *path, size_t max, uint8_t **out, size_t *len, char *err,
		   size_t errsz);

/* Write data to path (through a temporary file renamed into place when path is a regular
 * file or new), or to standard output when path is NULL. Binary data is not written to a
 * terminal: that is a usage error. Returns an exit code, having printed why. */
int tool_write_out(const struct tool *t, const char *path, const void *data, size_t len,
		   bool binary);

/* An RFC 7512 URI "pkcs11:token=T;object=L;id=%..;type=TYPE", malloc'ed; NULL on ENOMEM. */
char *tool_uri(const char *token, const char *label, const uint8_t *id, size_t id_len,
	       const char *type);

/* The SHA-1 of the DER SubjectPublicKeyInfo of pk into id[20]. Returns 0 or -1. */
int tool_spki_sha1(EVP_PKEY *pk, uint8_t id[20]);

/* ---- tool_p11.c: the module, the token, sessions, objects ---- */

/* The name of a CK_RV ("CKR_PIN_INCORRECT"), or NULL for one the table lacks. */
const char *tool_rv_name(CK_RV rv);
/* A short explanation of a CK_RV for an operator, or NULL. */
const char *tool_rv_explain(CK_RV rv);
/* Print "teehsm CMD: FN failed: CKR_X (0x...): explanation". */
void tool_p11_err(const struct tool *t, const char *fn, CK_RV rv);

/* The module path to load: --module, $TEEHSM_MODULE, the build tree's libteehsm.so next to
 * this program, the installed one. Writes into out; returns out. */
const char *tool_default_module(const char *opt, char *out, size_t size);

/* Load the module, C_Initialize, choose the slot (spec "--token/--slot") and open a session,
 * read/write when rw. Returns an exit code. */
int tool_open(struct tool *t, bool rw);
/* Log in as the user (the PIN from --pin-file, $TEEHSM_PIN or the terminal). Exit code. */
int tool_login_user(struct tool *t);
/* Log the user out, close the session, open a read/write session and log in as the SO (its
 * PIN from --so-pin-file, $TEEHSM_SO_PIN or the terminal). Exit code. */
int tool_so_begin(struct tool *t);
/* End the SO session and, when the user was logged in before tool_so_begin, open the user's
 * session again. Exit code. */
int tool_so_end(struct tool *t, bool relogin_user);
/* Close the session, C_Finalize, wipe the PINs. Safe to call twice. */
void tool_close(struct tool *t);

/* All objects matching the template (at most TOOL_MAX_OBJECTS) into a malloc'ed array.
 * Returns an exit code. */
int tool_find(struct tool *t, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE **out,
	      size_t *count);
/* The one object of class cls labelled label: TOOL_OK with *h, TOOL_NOTFOUND (nothing said),
 * or TOOL_FAIL (said why, e.g. several objects carry the label). */
int tool_find_one(struct tool *t, CK_OBJECT_CLASS cls, const char *label, CK_OBJECT_HANDLE *h);
/* An attribute value, malloc'ed with a NUL after it. Returns 1 when the object has it (*val
 * set, *len its length), 0 when it has not or it is sensitive (*val NULL), -1 on an error
 * (said). */
int tool_attr(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t **val,
	      size_t *len);
/* A CK_ULONG attribute; 1, 0 or -1 as tool_attr. */
int tool_attr_ulong(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_ULONG *v);
/* A CK_BBOOL attribute (absent = false); 0 or -1. */
int tool_attr_bool(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, bool *v);
/* Set one attribute. Exit code. */
int tool_set_attr(struct tool *t, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const void *val,
		  size_t len);
/* Destroy an object, saying so when it fails. Exit code. */
int tool_destroy(struct tool *t, CK_OBJECT_HANDLE h);

/* ---- tool_pin.c ---- */

/* Read a PIN into buf (size at least TOOL_PIN_MAX + 1, NUL-terminated): the first line of
 * file (CR/LF stripped) when file is not NULL, else $env when set and not empty, else a no-echo
 * prompt on /dev/tty. Returns 0, or -1 with the reason in err. The caller wipes buf. */
int tool_pin_read(const char *file, const char *env, const char *prompt, char *buf, size_t size,
		  size_t *len, char *err, size_t errsz);

/* ---- tool_key.c: key types and key pairs ---- */

struct tool_keytype {
	const char *name;      /* "ec-p256" */
	CK_KEY_TYPE kt;	       /* CKK_EC, CKK_RSA, CKK_EC_EDWARDS */
	CK_MECHANISM_TYPE gen; /* the key pair generation mechanism */
	const uint8_t *params; /* CKA_EC_PARAMS (DER) for EC and Ed25519 */
	size_t params_len;
	CK_ULONG bits;	  /* RSA modulus bits */
	const char *mech; /* the default signing mechanism (tool_mech_by_name) */
};

/* The key type called name ("rsa-3072"), or NULL. */
const struct tool_keytype *tool_keytype_by_name(const char *name);
/* The names of the key types generated by keygen, "ec-p256|...|ed25519". */
const char *tool_keytype_names(void);
/* The key type name of a public key ("ec-p384", "rsa-2048", "ed25519"; "rsa-1536" for other
 * RSA sizes, "ec" or "?" for others) into buf. Returns buf. */
const char *tool_pkey_type_name(EVP_PKEY *pk, char *buf, size_t size);

/* A key pair on the token. */
struct tool_key {
	CK_OBJECT_HANDLE priv; /* CK_INVALID_HANDLE when there is none */
	CK_OBJECT_HANDLE pub;  /* CK_INVALID_HANDLE when there is none */
	char *label;
	uint8_t *id;
	size_t id_len;
	EVP_PKEY *pk; /* its public key, NULL when it cannot be read */
};

/* Free what k holds and clear it. Accepts NULL. */
void tool_key_clear(struct tool_key *k);
/* Fill k for the private key h: label, id, the public key object with the same CKA_ID and the
 * public key (CKA_PUBLIC_KEY_INFO, else rebuilt from the key attributes). Exit code. */
int tool_key_load(struct tool *t, CK_OBJECT_HANDLE h, struct tool_key *k);
/* The private key labelled label: TOOL_OK, TOOL_NOTFOUND (said), TOOL_FAIL (said). */
int tool_key_find(struct tool *t, const char *label, struct tool_key *k);
/* The public key of the public key object h, or of a certificate, as an EVP_PKEY. NULL when
 * it cannot be read (said). */
EVP_PKEY *tool_pub_object_pkey(struct tool *t, CK_OBJECT_HANDLE h);
/* Generate a key pair of type kt labelled label, with CKA_ID id (or, when id_len is 0, the
 * SHA-1 of its SPKI set afterwards). On success k holds both handles and the public key.
 * On failure nothing is left on the token. Exit code. */
int tool_keygen(struct tool *t, const struct tool_keytype *kt, const char *label, const uint8_t *id,
		size_t id_len, struct tool_key *k);
/* Destroy both halves of a key pair (when present). Exit code. */
int tool_key_destroy(struct tool *t, struct tool_key *k);
/* Whether a private or public key labelled label is on the token: 1, 0, or -1 (said). */
int tool_key_label_exists(struct tool *t, const char *label);

/* ---- tool_sign.c: mechanisms, hashing, signing in the token ---- */

enum tool_family { TOOL_ECDSA, TOOL_RSA_PKCS, TOOL_RSA_PSS, TOOL_EDDSA };

struct tool_mech {
	const char *name; /* "ecdsa-sha256" */
	enum tool_family family;
	CK_MECHANISM_TYPE ckm;	/* CKM_ECDSA, CKM_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_EDDSA */
	const char *md;		/* OpenSSL digest name; NULL for EdDSA (the whole message) */
	CK_MECHANISM_TYPE hash; /* the PSS hash */
	CK_RSA_PKCS_MGF_TYPE mgf;
	CK_ULONG salt;
	int sig_nid; /* the X.509 signature algorithm (CSR), NID_undef if none */
};

/* The mechanism called name ("rsa-pss-sha256"), or NULL. */
const struct tool_mech *tool_mech_by_name(const char *name);
/* "ecdsa-sha256|...": the names --mech takes. */
const char *tool_mech_names(void);
/* The default mechanism for a public key: P-256 ecdsa-sha256, P-384 ecdsa-sha384, RSA
 * rsa-pkcs-sha256, Ed25519 eddsa. NULL for a key this tool cannot sign with. */
const struct tool_mech *tool_mech_default(EVP_PKEY *pk);
/* 0 when mechanism m can be used with key pk, else -1 with the reason in err. */
int tool_mech_check(const struct tool_mech *m, EVP_PKEY *pk, char *err, size_t errsz);

/* r||s (two equal halves) to a DER ECDSA-Sig-Value, malloc'ed. Returns 0 or -1. */
int tool_ecdsa_raw_to_der(const uint8_t *raw, size_t len, uint8_t **der, size_t *der_len);
/* A DER ECDSA-Sig-Value to r||s with each half n bytes (n = the curve's scalar size), into raw
 * (2 * n bytes). Returns 0, or -1 for bad DER or an r or s longer than n. */
int tool_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t n, uint8_t *raw);

/* Sign in the token with private key h: in is the digest (m->md) or, for EdDSA, the message.
 * The signature comes back in OpenSSL's format (DER ECDSA, raw RSA and Ed25519), malloc'ed.
 * Exit code. */
int tool_token_sign(struct tool *t, CK_OBJECT_HANDLE h, const struct tool_mech *m,
		    const uint8_t *in, size_t in_len, uint8_t **sig, size_t *sig_len);
/* Hash msg with m->md (nothing for EdDSA) and sign it in the token. Exit code. */
int tool_sign_buffer(struct tool *t, CK_OBJECT_HANDLE h, const struct tool_mech *m,
		     const uint8_t *msg, size_t len, uint8_t **sig, size_t *sig_len);
/* Verify sig over msg (hashed here with m->md) with pk: 1 valid, 0 not, -1 error (err). */
int tool_verify_buffer(EVP_PKEY *pk, const struct tool_mech *m, const uint8_t *msg, size_t len,
		       const uint8_t *sig, size_t sig_len, char *err, size_t errsz);
/* The same over a digest (not for EdDSA). */
int tool_verify_digest(EVP_PKEY *pk, const struct tool_mech *m, const uint8_t *dg, size_t dg_len,
		       const uint8_t *sig, size_t sig_len, char *err, size_t errsz);
/* Hash a file (or standard input for "-") with digest md, streamed, into dg (EVP_MAX_MD_SIZE).
 * Returns 0, or -1 with the reason in err. */
int tool_hash_file(const char *path, const char *md, uint8_t *dg, size_t *dg_len, char *err,
		   size_t errsz);

/* ---- tool_x509.c: names, SANs, certificates, chains (no token) ---- */

/* Parse the slash form "/CN=name/O=org" (a backslash escapes the next character: "\/" is a
 * slash) into a new X509_NAME. Returns 0, or -1 with the reason in err. */
int tool_subject_parse(const char *s, X509_NAME **out, char *err, size_t errsz);
/* Print a name in the same slash form, escaping "/" and "\" and showing control characters
 * as \xHH, into buf. Returns buf. */
const char *tool_name_str(const X509_NAME *n, char *buf, size_t size);
/* "CN=the common name" when the name has one, else its slash form. Returns buf. */
const char *tool_name_short(const X509_NAME *n, char *buf, size_t size);
/* Parse one --san ("dns:NAME", "uri:URI", "ip:ADDR") into a new GENERAL_NAME. Returns 0,
 * or -1 with the reason in err. */
int tool_san_parse(const char *s, GENERAL_NAME **out, char *err, size_t errsz);

/* The certificates in buf: PEM (one or more) or one DER certificate. Returns 0 with a new
 * non-empty stack, or -1 with the reason in err ("what" names the input in it). */
int tool_certs_from_mem(const uint8_t *buf, size_t len, const char *what, STACK_OF(X509) * *out,
			char *err, size_t errsz);
/* The same from a file (or standard input for "-"). */
int tool_certs_load(const char *path, STACK_OF(X509) * *out, char *err, size_t errsz);

/* An ASN1_TIME as "2026-12-06T15:24:00Z" into buf. Returns buf. */
const char *tool_time_str(const ASN1_TIME *tm, char *buf, size_t size);
/* A certificate's serial number in upper-case hex into buf. Returns buf. */
const char *tool_serial_str(const X509 *x, char *buf, size_t size);
/* 1 when the DER of a and b are the same certificate. */
int tool_cert_same(const X509 *a, const X509 *b);

/* Verify leaf at time at (0: now) with the untrusted certificates and the trust anchors. On
 * success returns 0 and, when chain is not NULL, the verified chain (leaf first). On failure
 * returns 1 with the reason in words in why ("CN=leaf: expired (notAfter ...)"); -1 on an
 * internal error (why says so). */
int tool_chain_verify(X509 *leaf, STACK_OF(X509) * untrusted, STACK_OF(X509) * trusted, time_t at,
		      STACK_OF(X509) * *chain, char *why, size_t whysize);
/* "CN=leaf <- CN=int <- CN=root (trusted)" for a verified chain. Returns buf. */
const char *tool_chain_str(STACK_OF(X509) * chain, bool trusted, char *buf, size_t size);
/* The chain of leaf built from pool by issuer (no verification): leaf first, up to a
 * self-signed certificate or one whose issuer is not in pool. New stack, NULL on ENOMEM. */
STACK_OF(X509) * tool_chain_build(X509 *leaf, STACK_OF(X509) * pool);

/* ---- tool_csr.c ---- */

/* A PKCS#10 request for key k with subject and SANs (may be NULL), signed in the token with
 * mechanism m. Returns an exit code with *out set on success. */
int tool_csr_make(struct tool *t, struct tool_key *k, const struct tool_mech *m,
		  const X509_NAME *subject, const GENERAL_NAMES *sans, X509_REQ **out);
/* The --san options (dns:, uri:, ip:) as GENERAL_NAMES, NULL when n is 0. Exit code, having
 * said why (a bad SAN is a usage error). */
int tool_sans_parse(const struct tool *t, const char *const *sans, size_t n, GENERAL_NAMES **out);
/* The request as PEM or DER in a malloc'ed buffer with a NUL after it. Returns 0, or -1 when
 * out of memory. */
int tool_csr_encode(X509_REQ *req, bool der, uint8_t **out, size_t *len);

/* ---- tool_certobj.c: certificates on the token ---- */

/* A certificate object on the token. */
struct tool_cert {
	CK_OBJECT_HANDLE h;
	X509 *x;
	char *label;
	uint8_t *id;
	size_t id_len;
	CK_ULONG category; /* CKA_CERTIFICATE_CATEGORY, 0 when absent */
	bool trusted;	   /* CKA_TRUSTED */
};

/* All X.509 certificates on the token (malloc'ed array). Exit code. */
int tool_certs_fetch(struct tool *t, struct tool_cert **out, size_t *n);
/* Free an array from tool_certs_fetch. Accepts NULL. */
void tool_certs_free(struct tool_cert *c, size_t n);
/* The index of the certificate labelled label in c, or -1; -2 when several carry it (said). */
long tool_certs_by_label(const struct tool *t, const struct tool_cert *c, size_t n,
			 const char *label);
/* The index of the certificate with x's DER in c, or -1. */
long tool_certs_by_der(const struct tool_cert *c, size_t n, const X509 *x);
/* Store x on the token: label, id (NULL: SHA-1 of its SPKI), category, and CKA_TRUSTED when
 * trusted (the session must be the SO's). Exit code, with *h. */
int tool_cert_store(struct tool *t, X509 *x, const char *label, const uint8_t *id, size_t id_len,
		    CK_ULONG category, bool trusted, CK_OBJECT_HANDLE *h);
/* The label a CA certificate is stored under: its subject CN, else its subject. */
const char *tool_ca_label(const X509 *x, char *buf, size_t size);
/* "SUBJECT (serial S, valid until T)" of x into buf. Returns buf. */
const char *tool_cert_summary(const X509 *x, char *buf, size_t size);

/* The result of checking a stored identity (cert verify, enroll). */
struct tool_check {
	int rc;			/* TOOL_OK, TOOL_VERIFY, or another exit code (said) */
	char why[TOOL_ERR_LEN]; /* the reason when rc is TOOL_VERIFY */
	char chain[1024];	/* "CN=leaf <- ... (trusted)" when rc is TOOL_OK */
};
/* Verify the certificate labelled label as `cert verify` does: chain to a trusted root on
 * the token, and the private key labelled label has its public key (a certificate stored
 * with --no-key needs no key, but one with its label must match). The chain needs no login,
 * the key check logs the user in. rc TOOL_NOTFOUND when there is no such certificate
 * (said). */
void tool_check_identity(struct tool *t, const char *label, struct tool_check *res);

/* Import a leaf (with its chain) as `cert import` does. label may be NULL (take the key's);
 * no_key stores it without a key (category 3, label required). When key is not NULL the leaf
 * must belong to it. The handles of the objects made are added to made (may be NULL) so a
 * caller can undo. Exit code. */
struct tool_made {
	CK_OBJECT_HANDLE h[TOOL_MAX_CHAIN + 1];
	size_t n;
};
int tool_import(struct tool *t, STACK_OF(X509) * certs, const char *label, bool no_key,
		const struct tool_key *key, struct tool_made *made);
/* Store x as a trusted root, or mark the copy on the token trusted: logs in as the SO in a
 * session of its own, then opens a session again (and logs the user in again when
 * relogin_user). Exit code. */
int tool_trust(struct tool *t, X509 *x, bool relogin_user);

/* ---- tool_run.c: the CA command ---- */

enum tool_run_result {
	TOOL_RUN_OK,	      /* exited 0; the output is in *out */
	TOOL_RUN_FAILED,      /* exited non-zero or was killed by a signal */
	TOOL_RUN_TIMEOUT,     /* did not finish in time (killed) */
	TOOL_RUN_TOO_BIG,     /* printed more than allowed (killed) */
	TOOL_RUN_INTERRUPTED, /* we got SIGINT/SIGTERM/SIGHUP (the command was stopped) */
	TOOL_RUN_ERROR,	      /* could not run it */
};

struct tool_run {
	const char *cmd;   /* run with /bin/sh -c */
	const uint8_t *in; /* written to its standard input */
	size_t in_len;
	size_t max_out;		/* bytes of standard output accepted */
	unsigned int timeout_s; /* seconds */
	const char *const *env; /* NAME=VALUE entries added to (or replacing in) the environment */
	const char *const *unset; /* names removed from its environment */
};

/* Run r->cmd; its standard error is ours. The standard output (malloc'ed, NUL-terminated)
 * in *out on TOOL_RUN_OK. Any other result words why in err. */
enum tool_run_result tool_run(const struct tool_run *r, uint8_t **out, size_t *out_len, char *err,
			      size_t errsz);

/* ---- tool_enroll.c ---- */

struct tool_enroll {
	const char *label;
	const char *subject;
	const char *const *sans;
	size_t n_sans;
	const char *ca_cmd;
	const char *type;
	const char *root;
	bool renew;
	unsigned int ca_timeout;
};

/* The enroll command after option parsing. Exit code. */
int tool_enroll_run(struct tool *t, const struct tool_enroll *e);

/* ---- tool_cmd_*.c: the subcommands (argv[0] is the subcommand's name) ---- */

int tool_cmd_keygen(struct tool *t, int argc, char **argv);
int tool_cmd_csr(struct tool *t, int argc, char **argv);
int tool_cmd_cert(struct tool *t, int argc, char **argv);
int tool_cmd_enroll(struct tool *t, int argc, char **argv);
int tool_cmd_sign(struct tool *t, int argc, char **argv);
int tool_cmd_verify(struct tool *t, int argc, char **argv);
int tool_cmd_list(struct tool *t, int argc, char **argv);
int tool_cmd_info(struct tool *t, int argc, char **argv);

/* ---- tool_opt.c: the options every command shares ---- */

/* getopt_long values of the global options (above any short option character). */
enum {
	OPT_MODULE = 1000,
	OPT_TOKEN,
	OPT_SLOT,
	OPT_PIN_FILE,
	OPT_SO_PIN_FILE,
	OPT_VERSION,
	OPT_PIN_REFUSED,
	OPT_CMD_BASE = 1100, /* a command's own long options start here */
};

/* The global long options, to append to a command's table (then a zero entry). --pin and
 * --so-pin exist only to be refused: without them getopt_long would take "--pin 1234" as
 * an abbreviation of --pin-file, and the PIN would end up in an error message. */
#define TOOL_GLOBAL_LONGOPTS                                                                       \
	{ "module", required_argument, NULL, OPT_MODULE },                                         \
		{ "token", required_argument, NULL, OPT_TOKEN },                                   \
		{ "slot", required_argument, NULL, OPT_SLOT },                                     \
		{ "pin-file", required_argument, NULL, OPT_PIN_FILE },                             \
		{ "so-pin-file", required_argument, NULL, OPT_SO_PIN_FILE },                       \
		{ "pin", required_argument, NULL, OPT_PIN_REFUSED },                               \
		{ "so-pin", required_argument, NULL, OPT_PIN_REFUSED },                            \
		{ "version", no_argument, NULL, OPT_VERSION },                                     \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

/* The text of the global options for --help. */
extern const char tool_global_help[];

/* -h (c == 'h': the subcommand's help, then the global options') or --version (the version). */
void tool_opt_info(int c, const char *help);
/* Handle getopt_long's answer c when it is a global option, '?' or ':'. Returns -1 when c is
 * not one of those (the command handles it), else an exit code: TOOL_OK to continue parsing,
 * TOOL_USAGE after saying what is wrong. --help and --version are left to the caller. */
int tool_opt_common(struct tool *t, int c, char **argv);
/* Print the usage hint "(see teehsm CMD --help)" error for extra or missing arguments. */
int tool_usage(const struct tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "teehsm VERSION". */
void tool_version(void);

#endif
