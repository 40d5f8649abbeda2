/*
 * loadgen — the load and latency driver of the integration tests (issue 5).
 *
 * Like p11drive, it loads the PKCS#11 module with dlopen() and uses only the PKCS#11 C API. One
 * process that loads libteehsm.so multiplexes all its threads over one connection per server,
 * so N connections take N processes: the load mode forks them, and each loads the module itself
 * after the fork.
 *
 *   loadgen load MODULE [CHILDREN [SECONDS]]
 *       CHILDREN processes (default 100), each with its own connection, session and login, wait
 *       until every one is connected, then make a mix of calls for SECONDS (default
 *       $TEEHSM_LOAD_SECONDS, else 20): ECDSA P-256 and RSA-2048 signatures, each verified
 *       with OpenSSL against the public key read from the token, C_GenerateRandom,
 *       C_FindObjects*, C_GetAttributeValue checked against the first answer, and SHA-256
 *       C_Digest compared with OpenSSL's. The signing keys are the token keys labelled
 *       "load-ec" and "load-rsa", which a first child generates when the token lacks them.
 *   loadgen keygen-rsa4096 MODULE LABEL
 *       generate an RSA-4096 token key pair; print "keygen START_MS END_MS".
 *   loadgen random-latency MODULE SECONDS [STOP_FILE]
 *       C_GenerateRandom(32 bytes) every 2 ms until SECONDS have passed or STOP_FILE exists;
 *       print "random START_MS DURATION_MS RV" for each call and "ready" after the first
 *       successful one.
 *
 * Times are CLOCK_MONOTONIC in milliseconds: comparable across the processes of one machine.
 * Exits 0 when every check passed, 1 otherwise, 2 on a usage error. Environment:
 * TEEHSM_TEST_PIN (the user PIN); the module reads TEEHSM_CONF. The token is in slot 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include <p11-kit/pkcs11.h>

#include "p11util.h"

#define TOKEN_SLOT	 0
#define EC_LABEL	 "load-ec"
#define RSA_LABEL	 "load-rsa"
#define CHILDREN_DEFAULT 100
#define CHILDREN_MAX	 1000
#define SECONDS_DEFAULT	 20
#define SECONDS_MAX	 3600
#define CONNECT_WAIT_S	 180 /* for every child to connect, open its session and log in */
#define FINISH_WAIT_S	 180 /* after the run, for every child to report */
#define REPORTS_MAX	 10  /* errors and failed checks a child prints in full */
#define RANDOM_PAUSE_MS	 2
#define PIN_MAX		 128

#define RSA_LOAD_BITS 2048
#define RSA_SIG_LEN   (RSA_LOAD_BITS / 8)

static const CK_BYTE rsa_f4[] = { 0x01, 0x00, 0x01 };

static CK_FUNCTION_LIST_PTR p11;
static char pin[PIN_MAX + 1]; /* the user PIN, wiped once logged in */
static char who[64] = "loadgen";

/* One line on stderr, "WHO: PREFIX MESSAGE", in one write: a hundred children share stderr. */
static void vsay(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s: %s", who, prefix);

	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	n = (int)strlen(line);
	if ((size_t)n == sizeof(line) - 1)
		n--;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to say it */
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

/* Report a call that did not return CKR_OK; 1 if it did. */
static int ok_or_say(const char *call, CK_RV rv)
{
	if (rv == CKR_OK)
		return 1;
	say("%s returned 0x%lx (%s)", call, (unsigned long)rv, p11util_rv_name(rv));
	return 0;
}

/* Copy $TEEHSM_TEST_PIN into pin[]; 0 if it is unset or too long. */
static int read_pin(void)
{
	const char *p = getenv("TEEHSM_TEST_PIN");

	if (!p || !*p || strlen(p) > PIN_MAX) {
		say("TEEHSM_TEST_PIN is not set (or longer than %d bytes)", PIN_MAX);
		return 0;
	}
	strcpy(pin, p);
	return 1;
}

static void wipe_pin(void)
{
	OPENSSL_cleanse(pin, sizeof(pin));
}

static int load_module(const char *path)
{
	const char *dlerr = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	switch (p11util_load_module(path, &p11, &rv, &dlerr)) {
	case P11UTIL_DLOPEN:
		say("dlopen %s: %s", path, dlerr);
		return 0;
	case P11UTIL_DLSYM:
		say("%s exports no C_GetFunctionList", path);
		return 0;
	case P11UTIL_GET_LIST:
	case P11UTIL_LOADED:
		break;
	}
	if (!ok_or_say("C_GetFunctionList", rv))
		return 0;
	return p11 != NULL;
}

/* C_Initialize, a R/W session on the token's slot and, when login is set, the user's login. */
static int open_session(int login, CK_SESSION_HANDLE *sess)
{
	if (!ok_or_say("C_Initialize", p11->C_Initialize(NULL)))
		return 0;
	if (!ok_or_say("C_OpenSession",
		       p11->C_OpenSession(TOKEN_SLOT, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
					  NULL, sess)))
		return 0;
	if (login &&
	    !ok_or_say("C_Login", p11->C_Login(*sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin))))
		return 0;
	return 1;
}

/* Close the session (logging out first when login is set) and finalise; 1 if all went well. */
static int close_session(int login, CK_SESSION_HANDLE sess)
{
	int ok = 1;

	if (login)
		ok &= ok_or_say("C_Logout", p11->C_Logout(sess));
	ok &= ok_or_say("C_CloseSession", p11->C_CloseSession(sess));
	ok &= ok_or_say("C_Finalize", p11->C_Finalize(NULL));
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * OpenSSL: the public keys as the token gives them, and verification. */

static void ossl_say(const char *what)
{
	char buf[256];

	say("OpenSSL: %s", what);
	while (p11util_ossl_error(buf, sizeof(buf)))
		say("  %s", buf);
}

/* An RSA public key from its big-endian modulus and exponent; NULL on failure. */
static EVP_PKEY *rsa_pkey(const CK_BYTE *n, size_t nlen, const CK_BYTE *e, size_t elen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;

	if (!bld || !bn || !be || !ctx || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		ossl_say("EVP_PKEY_fromdata (RSA modulus and exponent)");
		pkey = NULL;
	}
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* 1 if r||s is a valid ECDSA signature of the SHA-256 digest. */
static int ec_verify(EVP_PKEY *pkey, const CK_BYTE rs[P256_SIG_LEN],
		     const CK_BYTE digest[SHA256_DIGEST_LENGTH])
{
	int ok = p11util_ecdsa_verify(pkey, rs, P256_SIG_LEN, digest, SHA256_DIGEST_LENGTH, 1) == 1;

	ERR_clear_error();
	return ok;
}

/* 1 if sig is a valid RSA PKCS#1 v1.5 SHA-256 signature of msg. */
static int rsa_verify(EVP_PKEY *pkey, const CK_BYTE *sig, size_t siglen, const CK_BYTE *msg,
		      size_t msglen)
{
	int ok = p11util_verify_sha256(pkey, sig, siglen, msg, msglen);

	ERR_clear_error();
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * The token's keys. */

/* Find up to max objects with the label and class; *count is how many. */
static int find_objects(CK_SESSION_HANDLE sess, const char *label, CK_OBJECT_CLASS cls,
			CK_OBJECT_HANDLE *found, CK_ULONG max, CK_ULONG *count)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_CLASS, &cls, sizeof(cls) },
	};
	int ok = 0;

	*count = 0;
	if (!ok_or_say("C_FindObjectsInit", p11->C_FindObjectsInit(sess, tmpl, 2)))
		return 0;
	ok = ok_or_say("C_FindObjects", p11->C_FindObjects(sess, found, max, count));
	ok &= ok_or_say("C_FindObjectsFinal", p11->C_FindObjectsFinal(sess));
	return ok;
}

/* The one object with the label and class. */
static int find_one(CK_SESSION_HANDLE sess, const char *label, CK_OBJECT_CLASS cls,
		    CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = 0;

	if (!find_objects(sess, label, cls, found, 4, &n))
		return 0;
	if (n != 1) {
		say("%lu objects of class 0x%lx labelled '%s', expected 1", n, (unsigned long)cls,
		    label);
		return 0;
	}
	*obj = found[0];
	return 1;
}

/* Generate a token key pair, both halves labelled label: RSA of bits bits when rsa is set,
 * P-256 otherwise. */
static CK_RV gen_token_pair(CK_SESSION_HANDLE sess, int rsa, CK_ULONG bits, const char *label)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_MECHANISM mech = { rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE rsa_pub[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, (void *)rsa_f4, sizeof(rsa_f4) },
	};
	CK_ATTRIBUTE ec_pub[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_EC_PARAMS, (void *)p11util_p256_params, sizeof(p11util_p256_params) },
	};
	CK_ATTRIBUTE priv[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },     { CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) }, { CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },      { CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;

	return p11->C_GenerateKeyPair(sess, &mech, rsa ? rsa_pub : ec_pub,
				      rsa ? sizeof(rsa_pub) / sizeof(rsa_pub[0])
					  : sizeof(ec_pub) / sizeof(ec_pub[0]),
				      priv, sizeof(priv) / sizeof(priv[0]), &hpub, &hpriv);
}

/* The load's keys exist in the token: generate each pair the token lacks. */
static int ensure_key(CK_SESSION_HANDLE sess, int rsa, const char *label)
{
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = 0;

	if (!find_objects(sess, label, CKO_PRIVATE_KEY, found, 4, &n))
		return 0;
	if (n == 1)
		return 1;
	if (n > 1) {
		say("%lu private keys labelled '%s'", n, label);
		return 0;
	}
	if (!ok_or_say("C_GenerateKeyPair",
		       gen_token_pair(sess, rsa, rsa ? RSA_LOAD_BITS : 256, label)))
		return 0;
	say("generated the token key pair '%s'", label);
	return 1;
}

/* The first child of the load mode: the keys, before the load children connect. */
static int setup_main(const char *module)
{
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	int ok;

	snprintf(who, sizeof(who), "loadgen setup");
	if (!load_module(module))
		return 0;
	ok = open_session(1, &sess);
	wipe_pin();
	ok = ok && ensure_key(sess, 0, EC_LABEL) && ensure_key(sess, 1, RSA_LABEL);
	if (ok)
		ok = close_session(1, sess);
	else
		p11->C_Finalize(NULL); /* closes whatever is open */
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * A load child: one connection, a mix of calls, every answer checked. */

/* What a child reports to the parent through the results pipe, in one atomic write. */
struct counts {
	int index;
	int connected;		/* reached the barrier with a session and a login */
	unsigned long calls;	/* PKCS#11 calls made while the clock ran */
	unsigned long errors;	/* calls that did not return CKR_OK, all told */
	unsigned long verified; /* signatures OpenSSL verified */
	unsigned long ec, rsa;	/* of which ECDSA P-256 and RSA-2048 */
	unsigned long failures; /* answers that did not check out */
	double elapsed_ms;	/* from the start of the clock to the end of the last call */
	double max_call_ms;	/* the slowest call */
	char max_call_name[32]; /* and its name */
};

struct child {
	struct counts n;
	unsigned long round;
	unsigned reported;
	double t0; /* when the call in flight started */
	CK_SESSION_HANDLE sess;
	CK_OBJECT_HANDLE ec_priv, ec_pub, rsa_priv;
	EVP_PKEY *ec_key, *rsa_key;
	CK_BYTE ec_point[2 + P256_POINT_LEN]; /* CKA_EC_POINT as first read */
	CK_BYTE last_random[32];
};

static void call_start(struct child *c)
{
	c->t0 = p11util_now_ms();
}

/* Account for a call that returned rv; 1 if it is CKR_OK. */
static int call_end(struct child *c, const char *name, CK_RV rv)
{
	double ms = p11util_now_ms() - c->t0;

	c->n.calls++;
	if (ms > c->n.max_call_ms) {
		c->n.max_call_ms = ms;
		snprintf(c->n.max_call_name, sizeof(c->n.max_call_name), "%s", name);
	}
	if (rv == CKR_OK)
		return 1;
	c->n.errors++;
	if (c->reported++ < REPORTS_MAX)
		say("round %lu: %s returned 0x%lx (%s)", c->round, name, (unsigned long)rv,
		    p11util_rv_name(rv));
	return 0;
}

/* Time and account for p11->fn(...). */
#define P11(c, fn, ...) (call_start(c), call_end((c), #fn, p11->fn(__VA_ARGS__)))

static void check_failed(struct child *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void check_failed(struct child *c, const char *fmt, ...)
{
	va_list ap;

	char prefix[64];

	c->n.failures++;
	if (c->reported++ >= REPORTS_MAX)
		return;
	snprintf(prefix, sizeof(prefix), "round %lu: FAIL: ", c->round);
	va_start(ap, fmt);
	vsay(prefix, fmt, ap);
	va_end(ap);
}

/* A message of its own for every round, of varying length. */
static size_t round_message(const struct child *c, CK_BYTE *buf, size_t size)
{
	int n = snprintf((char *)buf, size, "teehsm loadgen child %d round %lu %.*s", c->n.index,
			 c->round, (int)(c->round % 17), "................................");

	return n > 0 && (size_t)n < size ? (size_t)n : size - 1;
}

static void op_ec_sign(struct child *c)
{
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_BYTE msg[96], digest[SHA256_DIGEST_LENGTH], sig[P256_SIG_LEN + 16];
	CK_ULONG len = sizeof(sig);
	size_t mlen = round_message(c, msg, sizeof(msg));

	if (EVP_Digest(msg, mlen, digest, NULL, EVP_sha256(), NULL) != 1) {
		check_failed(c, "OpenSSL SHA-256 failed");
		return;
	}
	if (!P11(c, C_SignInit, c->sess, &mech, c->ec_priv) ||
	    !P11(c, C_Sign, c->sess, digest, sizeof(digest), sig, &len))
		return;
	if (len != P256_SIG_LEN || !ec_verify(c->ec_key, sig, digest)) {
		check_failed(c, "CKM_ECDSA signature (%lu bytes) does not verify", len);
		return;
	}
	c->n.verified++;
	c->n.ec++;
}

static void op_rsa_sign(struct child *c)
{
	CK_MECHANISM mech = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_BYTE msg[96], sig[RSA_SIG_LEN + 16];
	CK_ULONG len = sizeof(sig);
	size_t mlen = round_message(c, msg, sizeof(msg));

	if (!P11(c, C_SignInit, c->sess, &mech, c->rsa_priv) ||
	    !P11(c, C_Sign, c->sess, msg, mlen, sig, &len))
		return;
	if (len != RSA_SIG_LEN || !rsa_verify(c->rsa_key, sig, len, msg, mlen)) {
		check_failed(c, "CKM_SHA256_RSA_PKCS signature (%lu bytes) does not verify", len);
		return;
	}
	c->n.verified++;
	c->n.rsa++;
}

static void op_random(struct child *c)
{
	static const CK_BYTE zero[32];
	CK_BYTE rnd[32];

	if (!P11(c, C_GenerateRandom, c->sess, rnd, sizeof(rnd)))
		return;
	if (memcmp(rnd, zero, sizeof(rnd)) == 0 || memcmp(rnd, c->last_random, sizeof(rnd)) == 0)
		check_failed(c, "C_GenerateRandom gave zeros or its previous output again");
	memcpy(c->last_random, rnd, sizeof(rnd));
}

static void op_digest(struct child *c)
{
	CK_MECHANISM mech = { CKM_SHA256, NULL, 0 };
	CK_BYTE msg[96], want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH + 16];
	CK_ULONG len = sizeof(got);
	size_t mlen = round_message(c, msg, sizeof(msg));

	if (EVP_Digest(msg, mlen, want, NULL, EVP_sha256(), NULL) != 1) {
		check_failed(c, "OpenSSL SHA-256 failed");
		return;
	}
	if (!P11(c, C_DigestInit, c->sess, &mech) ||
	    !P11(c, C_Digest, c->sess, msg, mlen, got, &len))
		return;
	if (len != sizeof(want) || memcmp(got, want, sizeof(want)) != 0)
		check_failed(c, "C_Digest (CKM_SHA256, %lu bytes) differs from OpenSSL's", len);
}

static void op_find(struct child *c)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_LABEL, (void *)EC_LABEL, strlen(EC_LABEL) },
		{ CKA_CLASS, &cls, sizeof(cls) },
	};
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = 0;
	int ok;

	if (!P11(c, C_FindObjectsInit, c->sess, tmpl, 2))
		return;
	ok = P11(c, C_FindObjects, c->sess, found, 4, &n);
	if (!P11(c, C_FindObjectsFinal, c->sess) || !ok)
		return;
	if (n != 1 || found[0] != c->ec_priv)
		check_failed(c, "C_FindObjects found %lu objects for '%s', not its private key", n,
			     EC_LABEL);
}

static void op_getattr(struct child *c)
{
	CK_BYTE point[sizeof(c->ec_point) + 16], label[32];
	CK_ATTRIBUTE a[] = {
		{ CKA_EC_POINT, point, sizeof(point) },
		{ CKA_LABEL, label, sizeof(label) },
	};

	if (!P11(c, C_GetAttributeValue, c->sess, c->ec_pub, a, 2))
		return;
	if (a[0].ulValueLen != sizeof(c->ec_point) ||
	    memcmp(point, c->ec_point, sizeof(c->ec_point)) != 0 ||
	    a[1].ulValueLen != strlen(EC_LABEL) || memcmp(label, EC_LABEL, strlen(EC_LABEL)) != 0)
		check_failed(c, "C_GetAttributeValue gave another CKA_EC_POINT or CKA_LABEL");
}

/* The mix: child i starts at op i, so at any moment all of them are in flight somewhere. */
static void (*const ops[])(struct child *) = {
	op_ec_sign, op_random, op_digest, op_find, op_getattr, op_rsa_sign,
};
#define N_OPS (sizeof(ops) / sizeof(ops[0]))

/* The keys and their public halves, before the clock starts. */
static int child_keys(struct child *c)
{
	CK_BYTE n[512], e[16];
	CK_OBJECT_HANDLE rsa_pub = CK_INVALID_HANDLE;
	CK_ATTRIBUTE pt = { CKA_EC_POINT, c->ec_point, sizeof(c->ec_point) };
	CK_ATTRIBUTE rt[] = { { CKA_MODULUS, n, sizeof(n) },
			      { CKA_PUBLIC_EXPONENT, e, sizeof(e) } };

	if (!find_one(c->sess, EC_LABEL, CKO_PRIVATE_KEY, &c->ec_priv) ||
	    !find_one(c->sess, EC_LABEL, CKO_PUBLIC_KEY, &c->ec_pub) ||
	    !find_one(c->sess, RSA_LABEL, CKO_PRIVATE_KEY, &c->rsa_priv) ||
	    !find_one(c->sess, RSA_LABEL, CKO_PUBLIC_KEY, &rsa_pub))
		return 0;
	if (!ok_or_say("C_GetAttributeValue(CKA_EC_POINT)",
		       p11->C_GetAttributeValue(c->sess, c->ec_pub, &pt, 1)) ||
	    !ok_or_say("C_GetAttributeValue(CKA_MODULUS, CKA_PUBLIC_EXPONENT)",
		       p11->C_GetAttributeValue(c->sess, rsa_pub, rt, 2)))
		return 0;
	if (pt.ulValueLen != sizeof(c->ec_point) || c->ec_point[0] != 0x04 ||
	    c->ec_point[1] != P256_POINT_LEN) {
		say("CKA_EC_POINT (%lu bytes) is not a DER OCTET STRING of a P-256 point",
		    pt.ulValueLen);
		return 0;
	}
	if (rt[0].ulValueLen != RSA_SIG_LEN) {
		say("the RSA modulus is %lu bytes, expected %d", rt[0].ulValueLen, RSA_SIG_LEN);
		return 0;
	}
	c->ec_key = p11util_p256_pkey(c->ec_point + 2, P256_POINT_LEN);
	if (!c->ec_key)
		ossl_say("EVP_PKEY_fromdata (is CKA_EC_POINT a P-256 point?)");
	c->rsa_key = rsa_pkey(n, rt[0].ulValueLen, e, rt[1].ulValueLen);
	return c->ec_key && c->rsa_key;
}

/* Block until the parent closes the write end of the go pipe (EOF), or it fails. */
static void wait_go(int go_fd)
{
	char b;
	ssize_t r;

	do
		r = read(go_fd, &b, 1);
	while (r < 0 && errno == EINTR);
}

/* What the parent shares with every child: written before the go pipe closes. */
struct gate {
	int abort;	 /* not every child connected: do not run */
	double start_ms; /* the start of the clock */
};

static int child_main(int index, int ready_fd, int go_fd, int result_fd, const char *module,
		      const struct gate *gate, int seconds)
{
	struct child c;
	char byte = 'F';
	int loaded = 0;
	double end_ms;

	memset(&c, 0, sizeof(c));
	c.n.index = index;
	c.sess = CK_INVALID_HANDLE;
	snprintf(who, sizeof(who), "loadgen child %d", index);

	if (load_module(module)) {
		loaded = 1;
		if (open_session(1, &c.sess) && child_keys(&c)) {
			c.n.connected = 1;
			byte = 'R';
		}
	}
	wipe_pin();
	if (write(ready_fd, &byte, 1) != 1)
		say("cannot tell the parent: %s", strerror(errno));
	close(ready_fd);
	wait_go(go_fd);
	close(go_fd);

	if (c.n.connected && !gate->abort) {
		end_ms = gate->start_ms + seconds * 1000.0;
		for (c.round = 0; p11util_now_ms() < end_ms; c.round++)
			ops[(c.round + (unsigned long)index) % N_OPS](&c);
		c.n.elapsed_ms = p11util_now_ms() - gate->start_ms;
	}
	/* Without a complete setup, C_Finalize closes whatever part of it is open. */
	if (c.n.connected && !close_session(1, c.sess))
		c.n.errors++;
	else if (loaded && !c.n.connected)
		p11->C_Finalize(NULL);
	if (write(result_fd, &c.n, sizeof(c.n)) != (ssize_t)sizeof(c.n))
		say("cannot report to the parent: %s", strerror(errno));
	close(result_fd);
	EVP_PKEY_free(c.ec_key);
	EVP_PKEY_free(c.rsa_key);
	return c.n.connected && !c.n.errors && !c.n.failures;
}

/* ---------------------------------------------------------------------------------------------
 * The load parent: forks the children, starts the clock, adds up. It never loads the module. */

/* Read exactly len bytes from fd before deadline (p11util_now_ms); 1 on success, 0 on EOF
 * (nothing read), -1 on timeout, error or a partial record. */
static int read_full(int fd, void *buf, size_t len, double deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;

	while (got < len) {
		double left = deadline - p11util_now_ms();
		ssize_t r;
		int p;

		if (left <= 0)
			return -1;
		p = poll(&pfd, 1, (int)left + 1);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			return -1;
		r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

/* Run the setup child to completion. */
static int run_setup(const char *module)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return 0;
	}
	if (pid == 0)
		exit(setup_main(module) ? 0 : 1);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		say("the setup child failed (wait status 0x%x)", status);
		return 0;
	}
	return 1;
}

static int mode_load(const char *module, int nchildren, int seconds)
{
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 }, results[2] = { -1, -1 };
	struct gate *gate = MAP_FAILED;
	pid_t *pids = NULL;
	struct counts *got = NULL, r, sum;
	unsigned char *seen = NULL;
	int forked = 0, nready = 0, nfailed = 0, nreported = 0, ok = 0, status = 0;
	unsigned long min_calls = (unsigned long)-1, max_calls = 0;
	double deadline, secs = 0;
	char b;

	memset(&sum, 0, sizeof(sum));
	pids = calloc((size_t)nchildren, sizeof(*pids));
	got = calloc((size_t)nchildren, sizeof(*got));
	seen = calloc((size_t)nchildren, 1);
	if (!pids || !got || !seen) {
		say("out of memory");
		goto out;
	}
	if (!run_setup(module))
		goto out;
	gate = mmap(NULL, sizeof(*gate), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (gate == MAP_FAILED || pipe(ready) != 0 || pipe(go) != 0 || pipe(results) != 0) {
		say("mmap or pipe: %s", strerror(errno));
		goto out;
	}
	memset(gate, 0, sizeof(*gate));
	say("forking %d children, one connection each", nchildren);
	for (forked = 0; forked < nchildren; forked++) {
		pid_t ppid = getpid();

		fflush(NULL);
		pids[forked] = fork();
		if (pids[forked] < 0) {
			say("fork of child %d: %s", forked, strerror(errno));
			break;
		}
		if (pids[forked] == 0) {
			/* A child dies with the parent, so a killed test leaves none behind. */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != ppid)
				_exit(1);
			close(ready[0]);
			close(go[1]);
			close(results[0]);
			exit(child_main(forked, ready[1], go[0], results[1], module, gate, seconds)
				     ? 0
				     : 1);
		}
	}
	wipe_pin();
	close(ready[1]);
	close(go[0]);
	close(results[1]);
	ready[1] = go[0] = results[1] = -1;

	/* The barrier: every child has its connection, session and login before the clock. */
	deadline = p11util_now_ms() + CONNECT_WAIT_S * 1000.0;
	while (nready + nfailed < forked) {
		int rr = read_full(ready[0], &b, 1, deadline);

		if (rr <= 0)
			break;
		if (b == 'R')
			nready++;
		else
			nfailed++;
	}
	gate->abort = nready < nchildren;
	gate->start_ms = p11util_now_ms();
	close(go[1]); /* every child's read of the go pipe returns 0 now: the clock runs */
	go[1] = -1;
	if (gate->abort)
		say("only %d of %d children connected (%d failed, %d forked): not running", nready,
		    nchildren, nfailed, forked);
	else
		say("all %d children have a connection, a session and a login: clock started",
		    nready);

	deadline = gate->start_ms + (gate->abort ? 0 : seconds * 1000.0) + FINISH_WAIT_S * 1000.0;
	while (nreported < forked && read_full(results[0], &r, sizeof(r), deadline) == 1) {
		if (r.index < 0 || r.index >= forked || seen[r.index]) {
			say("a bad or repeated report (child %d)", r.index);
			break;
		}
		got[r.index] = r;
		seen[r.index] = 1;
		nreported++;
	}
	if (nreported < forked)
		say("only %d of %d children reported within the time allowed", nreported, forked);
	ok = nreported == nchildren && !gate->abort;
	for (int i = 0; i < forked; i++) {
		if (nreported < forked)
			kill(pids[i], SIGKILL);
		status = 0;
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			say("child %d (pid %d) failed: wait status 0x%x", i, (int)pids[i], status);
			ok = 0;
		}
	}
	for (int i = 0; i < forked; i++) {
		const struct counts *c = &got[i];

		if (!seen[i])
			continue;
		sum.calls += c->calls;
		sum.errors += c->errors;
		sum.verified += c->verified;
		sum.ec += c->ec;
		sum.rsa += c->rsa;
		sum.failures += c->failures;
		if (c->elapsed_ms > secs)
			secs = c->elapsed_ms;
		if (c->max_call_ms > sum.max_call_ms) {
			sum.max_call_ms = c->max_call_ms;
			memcpy(sum.max_call_name, c->max_call_name, sizeof(sum.max_call_name));
			sum.max_call_name[sizeof(sum.max_call_name) - 1] = '\0';
		}
		if (c->calls < min_calls)
			min_calls = c->calls;
		if (c->calls > max_calls)
			max_calls = c->calls;
		if (!gate->abort && (!c->connected || !c->ec || !c->rsa)) {
			say("child %d signed nothing with one of the keys (%lu ECDSA, %lu RSA)", i,
			    c->ec, c->rsa);
			ok = 0;
		}
	}
	secs /= 1000.0;
	if (gate->abort)
		printf("loadgen: connections %d of %d: not all open, not run\n", nready, nchildren);
	else
		printf("loadgen: connections %d (all open together before the clock started)\n",
		       nready);
	printf("loadgen: duration %.1f s\n", secs);
	printf("loadgen: calls %lu, %.0f calls per second (per connection: %lu to %lu calls)\n",
	       sum.calls, secs > 0 ? sum.calls / secs : 0.0, nreported ? min_calls : 0, max_calls);
	printf("loadgen: signatures verified %lu (ECDSA P-256 %lu, RSA-2048 %lu)\n", sum.verified,
	       sum.ec, sum.rsa);
	printf("loadgen: errors %lu, failed checks %lu, slowest call %.1f ms (%s)\n", sum.errors,
	       sum.failures, sum.max_call_ms, sum.max_call_name[0] ? sum.max_call_name : "-");
	printf("loadgen result: connections=%d seconds=%.1f calls=%lu calls_per_second=%.0f "
	       "verified=%lu errors=%lu failures=%lu\n",
	       nready, secs, sum.calls, secs > 0 ? sum.calls / secs : 0.0, sum.verified, sum.errors,
	       sum.failures);
	ok = ok && sum.errors == 0 && sum.failures == 0 && sum.calls > 0;
out:
	wipe_pin();
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (go[i] >= 0)
			close(go[i]);
		if (results[i] >= 0)
			close(results[i]);
	}
	if (gate != MAP_FAILED)
		munmap(gate, sizeof(*gate));
	free(pids);
	free(got);
	free(seen);
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Latency: one process generates RSA-4096 keys, another measures C_GenerateRandom meanwhile. */

static int mode_keygen_rsa4096(const char *module, const char *label)
{
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	double t0, t1;
	int ok;

	if (!load_module(module))
		return 0;
	ok = open_session(1, &sess);
	wipe_pin();
	if (!ok) {
		p11->C_Finalize(NULL);
		return 0;
	}
	t0 = p11util_now_ms();
	ok = ok_or_say("C_GenerateKeyPair(RSA-4096)", gen_token_pair(sess, 1, 4096, label));
	t1 = p11util_now_ms();
	if (ok) {
		printf("keygen %.3f %.3f\n", t0, t1);
		say("RSA-4096 token key pair '%s' generated in %.0f ms", label, t1 - t0);
	}
	ok &= close_session(1, sess);
	return ok;
}

static int mode_random_latency(const char *module, int seconds, const char *stop_file)
{
	const struct timespec pause = { 0, RANDOM_PAUSE_MS * 1000000L };
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_BYTE rnd[32];
	unsigned long calls = 0, errors = 0;
	double end, t0, ms, slowest = 0;
	int ready = 0, ok;
	CK_RV rv;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!load_module(module))
		return 0;
	if (!open_session(0, &sess)) {
		p11->C_Finalize(NULL);
		return 0;
	}
	end = p11util_now_ms() + seconds * 1000.0;
	while (p11util_now_ms() < end && !(stop_file && access(stop_file, F_OK) == 0)) {
		t0 = p11util_now_ms();
		rv = p11->C_GenerateRandom(sess, rnd, sizeof(rnd));
		ms = p11util_now_ms() - t0;
		printf("random %.3f %.3f 0x%lx\n", t0, ms, (unsigned long)rv);
		calls++;
		if (ms > slowest)
			slowest = ms;
		if (rv != CKR_OK && errors++ < REPORTS_MAX)
			ok_or_say("C_GenerateRandom", rv);
		if (rv == CKR_OK && !ready) {
			printf("ready\n");
			ready = 1;
		}
		nanosleep(&pause, NULL);
	}
	say("%lu calls of C_GenerateRandom, %lu errors, the slowest took %.1f ms", calls, errors,
	    slowest);
	ok = close_session(0, sess) && errors == 0 && ready;
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 */

static void usage(void)
{
	fprintf(stderr, "usage: loadgen load MODULE [CHILDREN [SECONDS]]\n"
			"       loadgen keygen-rsa4096 MODULE LABEL\n"
			"       loadgen random-latency MODULE SECONDS [STOP_FILE]\n"
			"CHILDREN defaults to 100, SECONDS to $TEEHSM_LOAD_SECONDS or 20.\n"
			"Needs TEEHSM_CONF (for the module) and TEEHSM_TEST_PIN.\n");
}

/* A decimal in [min, max] or -1. */
static int number(const char *s, int min, int max)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	return (int)v;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int ok = 0, n = CHILDREN_DEFAULT, secs = SECONDS_DEFAULT;

	if (strcmp(mode, "load") == 0 && argc >= 3 && argc <= 5) {
		if (getenv("TEEHSM_LOAD_SECONDS"))
			secs = number(getenv("TEEHSM_LOAD_SECONDS"), 1, SECONDS_MAX);
		if (argc >= 4)
			n = number(argv[3], 1, CHILDREN_MAX);
		if (argc == 5)
			secs = number(argv[4], 1, SECONDS_MAX);
		if (n < 0 || secs < 0) {
			usage();
			return 2;
		}
		ok = read_pin() && mode_load(argv[2], n, secs);
	} else if (strcmp(mode, "keygen-rsa4096") == 0 && argc == 4) {
		ok = read_pin() && mode_keygen_rsa4096(argv[2], argv[3]);
	} else if (strcmp(mode, "random-latency") == 0 && (argc == 4 || argc == 5)) {
		secs = number(argv[3], 1, SECONDS_MAX);
		if (secs < 0) {
			usage();
			return 2;
		}
		ok = mode_random_latency(argv[2], secs, argc == 5 ? argv[4] : NULL);
	} else {
		usage();
		return 2;
	}
	wipe_pin();
	if (!ok)
		say("FAIL");
	return ok ? 0 : 1;
}
