/*
 * p11drive — the integration tests' PKCS#11 driver.
 *
 * Loads a PKCS#11 module with dlopen() and uses only the PKCS#11 C API, the way any application
 * would. Exits 0 when every check of the mode passed; otherwise prints what failed (with the
 * CK_RV in hex) and exits 1. Usage errors exit 2.
 *
 *   p11drive e2e            [MODULE [KEY_LABEL]]   the whole walking skeleton, see mode_e2e()
 *   p11drive sign-existing  [MODULE] KEY_LABEL     sign with a key made earlier (persistence)
 *   p11drive destroy        [MODULE] KEY_LABEL     destroy the key pair, check it is gone
 *   p11drive threads        [MODULE] KEY_LABEL     8 threads sign for $TEEHSM_TEST_SECONDS (10) s
 *   p11drive expect-refused [MODULE]               C_GetSlotList must give CKR_DEVICE_ERROR
 *   p11drive fork           MODULE                 fork safety, see mode_fork()
 *   p11drive deadline       MODULE MAX_MS [PORT]   a silent server: CKR_DEVICE_ERROR, no hang
 *   p11drive restart        MODULE DIR             the server restarts under a live session
 *   p11drive hold           MODULE DIR             a live session across a server event (SIGHUP)
 *   p11drive inflight       MODULE DIR             an RSA-4096 key pair in flight at SIGTERM
 *   p11drive init-args      [MODULE]               C_Initialize's argument rules
 *
 * Environment: TEEHSM_MODULE (module path when not given), TEEHSM_TEST_PIN (user PIN),
 * TEEHSM_TEST_LABEL (expected token label), TEEHSM_TEST_KEY_LABEL (key label when not given).
 * The module itself reads TEEHSM_CONF.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <p11-kit/pkcs11.h>

#include "p11util.h"

static CK_FUNCTION_LIST_PTR p11;
/* The token's slot: teehsm presents its token in slot 0 ($TEEHSM_TEST_SLOT overrides, to run
 * this driver against another module). */
static CK_SLOT_ID token_slot;
static const char *mode = "?";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "p11drive %s: FAIL: ", mode);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "p11drive %s: ", mode);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Check that a call returned want; report and return 0 otherwise. */
static int expect_rv(const char *what, CK_RV got, CK_RV want)
{
	if (got == want)
		return 1;
	fail("%s returned 0x%lx (%s), expected 0x%lx (%s)", what, (unsigned long)got,
	     p11util_rv_name(got), (unsigned long)want, p11util_rv_name(want));
	return 0;
}

/* Each check either passes or jumps to the function's out: label with ok still 0. */
#define CHECK_RV(call, want)                                                                       \
	do {                                                                                       \
		if (!expect_rv(#call, (call), (want)))                                             \
			goto out;                                                                  \
	} while (0)
#define CHECK_OK(call) CHECK_RV(call, CKR_OK)
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fail(__VA_ARGS__);                                                         \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

static void ossl_fail(const char *what)
{
	char buf[256];

	fail("OpenSSL: %s", what);
	while (p11util_ossl_error(buf, sizeof(buf)))
		fprintf(stderr, "  %s\n", buf);
}

static int load_module(const char *path)
{
	const char *dlerr = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	switch (p11util_load_module(path, &p11, &rv, &dlerr)) {
	case P11UTIL_DLOPEN:
		fail("dlopen %s: %s", path, dlerr);
		return 0;
	case P11UTIL_DLSYM:
		fail("%s exports no C_GetFunctionList: %s", path, dlerr);
		return 0;
	case P11UTIL_GET_LIST:
	case P11UTIL_LOADED:
		break;
	}
	if (!expect_rv("C_GetFunctionList", rv, CKR_OK))
		return 0;
	if (!p11) {
		fail("C_GetFunctionList gave a NULL list");
		return 0;
	}
	if (p11->version.major != 2) {
		fail("function list version %u.%u, expected 2.x", p11->version.major,
		     p11->version.minor);
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------------------------------------
 * OpenSSL side: verify the token's signatures from the public point alone. */

/* Build an EVP_PKEY for P-256 from an uncompressed point 04||X||Y. NULL on failure. */
static EVP_PKEY *pkey_from_point(const CK_BYTE *point, size_t len)
{
	EVP_PKEY *pkey = p11util_p256_pkey(point, len);

	if (!pkey)
		ossl_fail("EVP_PKEY_fromdata (is CKA_EC_POINT a valid P-256 point?)");
	return pkey;
}

/* Verify r||s over data (hashed with SHA-256 here) or, when prehashed, over the 32-byte digest.
 * Returns 1 if valid, 0 if not or on error (printed when report is set). */
static int verify_sig(EVP_PKEY *pkey, const CK_BYTE *sig, size_t siglen, const CK_BYTE *data,
		      size_t datalen, int prehashed, int report)
{
	int ok = p11util_ecdsa_verify(pkey, sig, siglen, data, datalen, prehashed);

	if (ok < 0) {
		if (report)
			fail("signature is %zu bytes, not a P-256 r||s of %d", siglen,
			     P256_SIG_LEN);
		return 0;
	}
	if (!ok && report)
		ossl_fail(prehashed ? "raw ECDSA signature does not verify"
				    : "ECDSA-SHA256 signature does not verify");
	ERR_clear_error();
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * PKCS#11 helpers. */

/* Initialise, list slots (checking the size-query rules) and return the token's slot. */
static int init_and_slot(CK_SLOT_ID *slot)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = 0, i;
	int ok = 0;

	CHECK_OK(p11->C_Initialize(NULL));
	CHECK_OK(p11->C_GetSlotList(CK_TRUE, NULL, &n));
	CHECK(n >= 1, "C_GetSlotList reports %lu slots with a token, expected at least 1", n);
	CHECK(n <= 16, "C_GetSlotList reports %lu slots, more than this driver handles", n);
	CHECK_OK(p11->C_GetSlotList(CK_TRUE, slots, &n));
	for (i = 0; i < n; i++)
		if (slots[i] == token_slot)
			break;
	CHECK(i < n, "slot %lu (the token's slot) is not in the slot list", token_slot);
	*slot = token_slot;
	ok = 1;
out:
	return ok;
}

/* Open a R/W session on slot and, if pin is not NULL, log in as the user. */
static int open_login(CK_SLOT_ID slot, const char *pin, CK_SESSION_HANDLE *sess)
{
	int ok = 0;

	CHECK_OK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, sess));
	if (pin)
		CHECK_OK(p11->C_Login(*sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	ok = 1;
out:
	return ok;
}

/* Find up to max objects with the given label (and class, unless class is (CK_ULONG)-1). */
static int find_by_label(CK_SESSION_HANDLE sess, const char *label, CK_OBJECT_CLASS cls,
			 CK_OBJECT_HANDLE *found, CK_ULONG max, CK_ULONG *count)
{
	CK_ATTRIBUTE tmpl[2] = {
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_CLASS, &cls, sizeof(cls) },
	};
	CK_ULONG ntmpl = cls == (CK_OBJECT_CLASS)-1 ? 1 : 2;
	CK_ULONG n = 0;
	int ok = 0, active = 0;

	*count = 0;
	CHECK_OK(p11->C_FindObjectsInit(sess, tmpl, ntmpl));
	active = 1;
	CHECK_OK(p11->C_FindObjects(sess, found, max, &n));
	CHECK(n <= max, "C_FindObjects returned %lu objects for a buffer of %lu", n, max);
	*count = n;
	ok = 1;
out:
	if (active)
		ok &= expect_rv("C_FindObjectsFinal", p11->C_FindObjectsFinal(sess), CKR_OK);
	return ok;
}

/* Find exactly one object of class cls with the label. */
static int find_one(CK_SESSION_HANDLE sess, const char *label, CK_OBJECT_CLASS cls,
		    CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = 0;
	int ok = 0;

	if (!find_by_label(sess, label, cls, found, 4, &n))
		goto out;
	CHECK(n == 1, "expected exactly one object of class 0x%lx labelled '%s', found %lu",
	      (unsigned long)cls, label, n);
	*obj = found[0];
	ok = 1;
out:
	return ok;
}

/* Read the public key's CKA_EC_POINT (DER OCTET STRING of 04||X||Y) into point. */
static int read_point(CK_SESSION_HANDLE sess, CK_OBJECT_HANDLE pub, CK_BYTE point[P256_POINT_LEN])
{
	CK_BYTE der[128];
	CK_ATTRIBUTE a = { CKA_EC_POINT, NULL, 0 };
	int ok = 0;

	CHECK_OK(p11->C_GetAttributeValue(sess, pub, &a, 1));
	CHECK(a.ulValueLen == 2 + P256_POINT_LEN,
	      "CKA_EC_POINT size query gave %lu, expected %d (DER OCTET STRING of 04||X||Y)",
	      a.ulValueLen, 2 + P256_POINT_LEN);
	a.pValue = der;
	a.ulValueLen = sizeof(der);
	CHECK_OK(p11->C_GetAttributeValue(sess, pub, &a, 1));
	CHECK(a.ulValueLen == 2 + P256_POINT_LEN && der[0] == 0x04 && der[1] == P256_POINT_LEN &&
		      der[2] == 0x04,
	      "CKA_EC_POINT is not a DER OCTET STRING wrapping an uncompressed P-256 point "
	      "(%lu bytes, starts %02x %02x %02x)",
	      a.ulValueLen, der[0], der[1], der[2]);
	memcpy(point, der + 2, P256_POINT_LEN);
	ok = 1;
out:
	return ok;
}

/* C_SignInit + C_Sign with a size query first; sig must hold P256_SIG_LEN bytes. When
 * check_small is set, also check CKR_BUFFER_TOO_SMALL leaves the operation active. */
static int sign(CK_SESSION_HANDLE sess, CK_OBJECT_HANDLE priv, CK_MECHANISM_TYPE mech,
		const CK_BYTE *data, CK_ULONG datalen, CK_BYTE sig[P256_SIG_LEN], int check_small)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_BYTE buf[256];
	CK_ULONG len = 0;
	int ok = 0;

	CHECK_OK(p11->C_SignInit(sess, &m, priv));
	CHECK_OK(p11->C_Sign(sess, (CK_BYTE_PTR)data, datalen, NULL, &len));
	CHECK(len == P256_SIG_LEN, "C_Sign size query (mechanism 0x%lx) gave %lu, expected %d",
	      (unsigned long)mech, len, P256_SIG_LEN);
	if (check_small) {
		len = 10;
		CHECK_RV(p11->C_Sign(sess, (CK_BYTE_PTR)data, datalen, buf, &len),
			 CKR_BUFFER_TOO_SMALL);
		CHECK(len == P256_SIG_LEN,
		      "C_Sign with a short buffer set the length to %lu, expected %d", len,
		      P256_SIG_LEN);
	}
	len = sizeof(buf);
	CHECK_OK(p11->C_Sign(sess, (CK_BYTE_PTR)data, datalen, buf, &len));
	CHECK(len == P256_SIG_LEN, "C_Sign (mechanism 0x%lx) produced %lu bytes, expected %d",
	      (unsigned long)mech, len, P256_SIG_LEN);
	memcpy(sig, buf, P256_SIG_LEN);
	/* The operation is over: a second C_Sign must not find one. */
	len = sizeof(buf);
	CHECK_RV(p11->C_Sign(sess, (CK_BYTE_PTR)data, datalen, buf, &len),
		 CKR_OPERATION_NOT_INITIALIZED);
	ok = 1;
out:
	return ok;
}

static CK_ULONG attr_ulong(CK_SESSION_HANDLE sess, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
			   CK_RV *rv)
{
	CK_ULONG v = (CK_ULONG)-1;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	*rv = p11->C_GetAttributeValue(sess, obj, &a, 1);
	return v;
}

static CK_BBOOL attr_bool(CK_SESSION_HANDLE sess, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
			  CK_RV *rv)
{
	CK_BBOOL v = 0xff;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	*rv = p11->C_GetAttributeValue(sess, obj, &a, 1);
	return v;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static int has_mech(const CK_MECHANISM_TYPE *list, CK_ULONG n, CK_MECHANISM_TYPE m)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (list[i] == m)
			return 1;
	return 0;
}

/* Sign with both mechanisms and verify with OpenSSL; also check a tampered message fails. */
static int sign_and_verify(CK_SESSION_HANDLE sess, CK_OBJECT_HANDLE priv,
			   const CK_BYTE point[P256_POINT_LEN], int check_small)
{
	static const CK_BYTE msg[] = "teehsm p11drive: the quick brown fox signs the lazy dog";
	CK_BYTE digest[SHA256_DIGEST_LENGTH];
	CK_BYTE sig[P256_SIG_LEN];
	CK_BYTE tampered[sizeof(msg)];
	EVP_PKEY *pkey = NULL;
	int ok = 0;

	pkey = pkey_from_point(point, P256_POINT_LEN);
	if (!pkey)
		goto out;

	/* CKM_ECDSA_SHA256: the token hashes. */
	if (!sign(sess, priv, CKM_ECDSA_SHA256, msg, sizeof(msg), sig, check_small))
		goto out;
	CHECK(verify_sig(pkey, sig, sizeof(sig), msg, sizeof(msg), 0, 1),
	      "CKM_ECDSA_SHA256 signature does not verify with the public key");
	memcpy(tampered, msg, sizeof(msg));
	tampered[0] ^= 1;
	CHECK(!verify_sig(pkey, sig, sizeof(sig), tampered, sizeof(tampered), 0, 0),
	      "a CKM_ECDSA_SHA256 signature verified over a different message");

	/* CKM_ECDSA: we hash, the token signs the digest. */
	CHECK(EVP_Digest(msg, sizeof(msg), digest, NULL, EVP_sha256(), NULL) == 1, "SHA-256");
	if (!sign(sess, priv, CKM_ECDSA, digest, sizeof(digest), sig, 0))
		goto out;
	CHECK(verify_sig(pkey, sig, sizeof(sig), digest, sizeof(digest), 1, 1),
	      "CKM_ECDSA signature does not verify with the public key");
	ok = 1;
out:
	EVP_PKEY_free(pkey);
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Modes. */

static int mode_e2e(const char *key_label)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	const char *want_label = getenv("TEEHSM_TEST_LABEL");
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_KEY_TYPE kt = CKK_EC;
	CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
	CK_BYTE id[] = { 0x7e, 0xe4, 0x01 };
	CK_ATTRIBUTE pub_tmpl[] = {
		{ CKA_CLASS, &pub_cls, sizeof(pub_cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_EC_PARAMS, (void *)p11util_p256_params, sizeof(p11util_p256_params) },
		{ CKA_LABEL, (void *)key_label, strlen(key_label) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_ATTRIBUTE priv_tmpl[] = {
		{ CKA_CLASS, &priv_cls, sizeof(priv_cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)key_label, strlen(key_label) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 };
	CK_INFO info;
	CK_SLOT_INFO sinfo;
	CK_TOKEN_INFO tinfo;
	CK_SESSION_INFO sess_info;
	CK_MECHANISM_INFO minfo;
	CK_MECHANISM_TYPE mechs[256];
	CK_ULONG nmech = 0, n = 0;
	CK_SLOT_ID slots[16];
	CK_SLOT_ID slot = 0;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE, found[4];
	CK_BYTE point[P256_POINT_LEN];
	CK_BYTE params[64], value[256], rnd1[32], rnd2[32], zero[32] = { 0 };
	CK_ATTRIBUTE a;
	CK_RV rv = CKR_GENERAL_ERROR;
	char padded[33];
	int ok = 0, initialized = 0;

	CHECK(pin, "TEEHSM_TEST_PIN is not set");

	/* C_Initialize, then the library's view of itself. */
	CHECK_OK(p11->C_Initialize(NULL));
	initialized = 1;
	CHECK_RV(p11->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	CHECK_OK(p11->C_GetInfo(&info));
	CHECK(info.cryptokiVersion.major == 2, "C_GetInfo cryptokiVersion %u.%u",
	      info.cryptokiVersion.major, info.cryptokiVersion.minor);
	note("library: %.32s %.32s v%u.%u", (const char *)info.manufacturerID,
	     (const char *)info.libraryDescription, info.libraryVersion.major,
	     info.libraryVersion.minor);

	/* Slots, with the size-query rules of PKCS#11 §5.2. */
	CHECK_OK(p11->C_GetSlotList(CK_TRUE, NULL, &n));
	CHECK(n >= 1 && n <= 16, "C_GetSlotList reports %lu slots, expected 1..16", n);
	{
		CK_ULONG small = 0;

		CHECK_RV(p11->C_GetSlotList(CK_TRUE, slots, &small), CKR_BUFFER_TOO_SMALL);
		CHECK(small == n, "C_GetSlotList with a short buffer reported %lu, expected %lu",
		      small, n);
	}
	CHECK_OK(p11->C_GetSlotList(CK_TRUE, slots, &n));
	CHECK(slots[0] == token_slot, "first slot is %lu, expected the token's slot %lu", slots[0],
	      token_slot);
	slot = slots[0];
	CHECK_OK(p11->C_GetSlotInfo(slot, &sinfo));
	CHECK(sinfo.flags & CKF_TOKEN_PRESENT, "slot flags 0x%lx lack CKF_TOKEN_PRESENT",
	      sinfo.flags);
	CHECK_RV(p11->C_GetSlotInfo(4242, &sinfo), CKR_SLOT_ID_INVALID);

	/* The token. */
	CHECK_OK(p11->C_GetTokenInfo(slot, &tinfo));
	CHECK(tinfo.flags & CKF_TOKEN_INITIALIZED, "token flags 0x%lx lack CKF_TOKEN_INITIALIZED",
	      tinfo.flags);
	CHECK(tinfo.flags & CKF_USER_PIN_INITIALIZED,
	      "token flags 0x%lx lack CKF_USER_PIN_INITIALIZED", tinfo.flags);
	note("token: '%.32s' flags 0x%lx", (const char *)tinfo.label, tinfo.flags);
	if (want_label) {
		CHECK(strlen(want_label) <= 32, "TEEHSM_TEST_LABEL is longer than 32 bytes");
		memset(padded, ' ', 32);
		memcpy(padded, want_label, strlen(want_label));
		padded[32] = '\0';
		CHECK(memcmp(tinfo.label, padded, 32) == 0, "token label '%.32s', expected '%s'",
		      (const char *)tinfo.label, padded);
	} else {
		note("TEEHSM_TEST_LABEL not set: token label not checked");
	}

	/* Mechanisms. */
	CHECK_OK(p11->C_GetMechanismList(slot, NULL, &nmech));
	CHECK(nmech >= 1 && nmech <= 256, "C_GetMechanismList reports %lu mechanisms", nmech);
	CHECK_OK(p11->C_GetMechanismList(slot, mechs, &nmech));
	CHECK(has_mech(mechs, nmech, CKM_ECDSA), "CKM_ECDSA is not in the mechanism list");
	CHECK(has_mech(mechs, nmech, CKM_ECDSA_SHA256),
	      "CKM_ECDSA_SHA256 is not in the mechanism list");
	CHECK(has_mech(mechs, nmech, CKM_EC_KEY_PAIR_GEN),
	      "CKM_EC_KEY_PAIR_GEN is not in the mechanism list");
	CHECK_OK(p11->C_GetMechanismInfo(slot, CKM_ECDSA, &minfo));
	CHECK(minfo.flags & CKF_SIGN, "CKM_ECDSA flags 0x%lx lack CKF_SIGN", minfo.flags);
	CHECK(minfo.ulMinKeySize <= 256 && minfo.ulMaxKeySize >= 256,
	      "CKM_ECDSA key sizes %lu..%lu exclude 256", minfo.ulMinKeySize, minfo.ulMaxKeySize);
	CHECK_OK(p11->C_GetMechanismInfo(slot, CKM_EC_KEY_PAIR_GEN, &minfo));
	CHECK(minfo.flags & CKF_GENERATE_KEY_PAIR,
	      "CKM_EC_KEY_PAIR_GEN flags 0x%lx lack CKF_GENERATE_KEY_PAIR", minfo.flags);

	/* A session, and what must be refused before login. */
	CHECK_OK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &sess));
	CHECK_OK(p11->C_GetSessionInfo(sess, &sess_info));
	CHECK(sess_info.state == CKS_RW_PUBLIC_SESSION,
	      "new session state %lu, expected CKS_RW_PUBLIC_SESSION", sess_info.state);
	rv = p11->C_GenerateKeyPair(sess, &gen, pub_tmpl, sizeof(pub_tmpl) / sizeof(pub_tmpl[0]),
				    priv_tmpl, sizeof(priv_tmpl) / sizeof(priv_tmpl[0]), &pub,
				    &priv);
	CHECK(rv != CKR_OK, "C_GenerateKeyPair of a private key succeeded before login");
	note("private key generation before login refused: 0x%lx (%s)", rv, p11util_rv_name(rv));
	rv = p11->C_SignInit(sess, &ecdsa, 1);
	CHECK(rv != CKR_OK, "C_SignInit succeeded before login (handle 1)");
	note("signing before login refused: 0x%lx (%s)", rv, p11util_rv_name(rv));
	CHECK_RV(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR) "wrong-pin-0000", 14),
		 CKR_PIN_INCORRECT);
	CHECK_OK(p11->C_GetSessionInfo(sess, &sess_info));
	CHECK(sess_info.state == CKS_RW_PUBLIC_SESSION,
	      "after a wrong PIN the session state is %lu, expected CKS_RW_PUBLIC_SESSION",
	      sess_info.state);

	/* Log in. */
	CHECK_OK(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	CHECK_RV(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)),
		 CKR_USER_ALREADY_LOGGED_IN);
	CHECK_OK(p11->C_GetSessionInfo(sess, &sess_info));
	CHECK(sess_info.state == CKS_RW_USER_FUNCTIONS,
	      "logged-in session state %lu, expected CKS_RW_USER_FUNCTIONS", sess_info.state);
	if (!find_by_label(sess, key_label, (CK_OBJECT_CLASS)-1, found, 4, &n))
		goto out;
	CHECK(n == 0, "%lu objects labelled '%s' exist already; use a fresh label or store", n,
	      key_label);

	/* Generate a P-256 key pair on the token. */
	pub = priv = CK_INVALID_HANDLE;
	CHECK_OK(p11->C_GenerateKeyPair(sess, &gen, pub_tmpl,
					sizeof(pub_tmpl) / sizeof(pub_tmpl[0]), priv_tmpl,
					sizeof(priv_tmpl) / sizeof(priv_tmpl[0]), &pub, &priv));
	CHECK(pub != CK_INVALID_HANDLE && priv != CK_INVALID_HANDLE && pub != priv,
	      "C_GenerateKeyPair returned handles %lu and %lu", pub, priv);

	/* Attributes: public point and params, token-set ones, the sensitive private value. */
	if (!read_point(sess, pub, point))
		goto out;
	a.type = CKA_EC_PARAMS;
	a.pValue = params;
	a.ulValueLen = sizeof(params);
	CHECK_OK(p11->C_GetAttributeValue(sess, pub, &a, 1));
	CHECK(a.ulValueLen == sizeof(p11util_p256_params) &&
		      memcmp(params, p11util_p256_params, sizeof(p11util_p256_params)) == 0,
	      "public CKA_EC_PARAMS (%lu bytes) is not the prime256v1 OID", a.ulValueLen);
	CHECK(attr_ulong(sess, priv, CKA_CLASS, &rv) == CKO_PRIVATE_KEY && rv == CKR_OK,
	      "private key CKA_CLASS wrong (rv 0x%lx)", rv);
	CHECK(attr_ulong(sess, pub, CKA_CLASS, &rv) == CKO_PUBLIC_KEY && rv == CKR_OK,
	      "public key CKA_CLASS wrong (rv 0x%lx)", rv);
	CHECK(attr_ulong(sess, priv, CKA_KEY_TYPE, &rv) == CKK_EC && rv == CKR_OK,
	      "private key CKA_KEY_TYPE is not CKK_EC (rv 0x%lx)", rv);
	CHECK(attr_bool(sess, priv, CKA_SENSITIVE, &rv) == CK_TRUE && rv == CKR_OK,
	      "private key CKA_SENSITIVE is not true (rv 0x%lx)", rv);
	CHECK(attr_bool(sess, priv, CKA_LOCAL, &rv) == CK_TRUE && rv == CKR_OK,
	      "generated private key CKA_LOCAL is not true (rv 0x%lx)", rv);
	CHECK(attr_bool(sess, priv, CKA_TOKEN, &rv) == CK_TRUE && rv == CKR_OK,
	      "private key CKA_TOKEN is not true (rv 0x%lx)", rv);
	a.type = CKA_VALUE;
	a.pValue = NULL;
	a.ulValueLen = 0;
	CHECK_RV(p11->C_GetAttributeValue(sess, priv, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
	CHECK(a.ulValueLen == CK_UNAVAILABLE_INFORMATION,
	      "sensitive CKA_VALUE size query set ulValueLen %lu, expected "
	      "CK_UNAVAILABLE_INFORMATION",
	      a.ulValueLen);
	a.pValue = value;
	a.ulValueLen = sizeof(value);
	memset(value, 0, sizeof(value));
	CHECK_RV(p11->C_GetAttributeValue(sess, priv, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
	CHECK(a.ulValueLen == CK_UNAVAILABLE_INFORMATION,
	      "sensitive CKA_VALUE read set ulValueLen %lu", a.ulValueLen);
	CHECK(memcmp(value, zero, sizeof(zero)) == 0, "the sensitive CKA_VALUE read wrote bytes");

	/* Sign with both mechanisms and verify with OpenSSL from the point alone. */
	if (!sign_and_verify(sess, priv, point, 1))
		goto out;

	/* Randomness. */
	CHECK_OK(p11->C_GenerateRandom(sess, rnd1, sizeof(rnd1)));
	CHECK_OK(p11->C_GenerateRandom(sess, rnd2, sizeof(rnd2)));
	CHECK(memcmp(rnd1, zero, sizeof(zero)) != 0 && memcmp(rnd1, rnd2, sizeof(rnd1)) != 0,
	      "C_GenerateRandom output looks constant");

	/* Finding objects by label: both keys, and the private one by class. */
	if (!find_by_label(sess, key_label, (CK_OBJECT_CLASS)-1, found, 4, &n))
		goto out;
	CHECK(n == 2 && ((found[0] == pub && found[1] == priv) ||
			 (found[0] == priv && found[1] == pub)),
	      "C_FindObjects by label '%s' found %lu objects, expected the two new keys", key_label,
	      n);
	{
		CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

		if (!find_one(sess, key_label, CKO_PRIVATE_KEY, &h))
			goto out;
		CHECK(h == priv, "the private key found by label has handle %lu, expected %lu", h,
		      priv);
	}

	/* Log out: the private key is out of reach again. */
	CHECK_OK(p11->C_Logout(sess));
	CHECK_OK(p11->C_GetSessionInfo(sess, &sess_info));
	CHECK(sess_info.state == CKS_RW_PUBLIC_SESSION,
	      "after C_Logout the session state is %lu, expected CKS_RW_PUBLIC_SESSION",
	      sess_info.state);
	rv = p11->C_SignInit(sess, &ecdsa, priv);
	CHECK(rv != CKR_OK, "C_SignInit with the private key succeeded after C_Logout");
	note("signing after logout refused: 0x%lx (%s)", rv, p11util_rv_name(rv));
	if (!find_by_label(sess, key_label, CKO_PRIVATE_KEY, found, 4, &n))
		goto out;
	CHECK(n == 0, "the private key is visible to C_FindObjects after C_Logout");

	CHECK_OK(p11->C_CloseSession(sess));
	sess = CK_INVALID_HANDLE;
	CHECK_OK(p11->C_Finalize(NULL));
	initialized = 0;
	n = 0;
	CHECK_RV(p11->C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	ok = 1;
out:
	if (initialized)
		p11->C_Finalize(NULL);
	return ok;
}

static int mode_sign_existing(const char *key_label)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	CK_SLOT_ID slot = 0;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_BYTE point[P256_POINT_LEN];
	int ok = 0;

	CHECK(pin, "TEEHSM_TEST_PIN is not set");
	if (!init_and_slot(&slot) || !open_login(slot, pin, &sess))
		goto out;
	if (!find_one(sess, key_label, CKO_PRIVATE_KEY, &priv) ||
	    !find_one(sess, key_label, CKO_PUBLIC_KEY, &pub) || !read_point(sess, pub, point) ||
	    !sign_and_verify(sess, priv, point, 0))
		goto out;
	CHECK_OK(p11->C_Logout(sess));
	CHECK_OK(p11->C_CloseSession(sess));
	ok = 1;
out:
	p11->C_Finalize(NULL);
	return ok;
}

static int mode_destroy(const char *key_label)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	CK_SLOT_ID slot = 0;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE found[8];
	CK_ULONG n = 0;
	int ok = 0;

	CHECK(pin, "TEEHSM_TEST_PIN is not set");
	if (!init_and_slot(&slot) || !open_login(slot, pin, &sess))
		goto out;
	if (!find_by_label(sess, key_label, (CK_OBJECT_CLASS)-1, found, 8, &n))
		goto out;
	CHECK(n == 2, "found %lu objects labelled '%s', expected a key pair", n, key_label);
	for (CK_ULONG i = 0; i < n; i++)
		CHECK_OK(p11->C_DestroyObject(sess, found[i]));
	CHECK_RV(p11->C_DestroyObject(sess, found[0]), CKR_OBJECT_HANDLE_INVALID);
	if (!find_by_label(sess, key_label, (CK_OBJECT_CLASS)-1, found, 8, &n))
		goto out;
	CHECK(n == 0, "%lu objects labelled '%s' remain after C_DestroyObject", n, key_label);
	CHECK_OK(p11->C_Logout(sess));
	CHECK_OK(p11->C_CloseSession(sess));
	ok = 1;
out:
	p11->C_Finalize(NULL);
	return ok;
}

#define THREADS 8
/* How long the threads sign: $TEEHSM_TEST_SECONDS, default 10. */
#define THREAD_SECONDS_DEFAULT 10

struct thread_job {
	pthread_t tid;
	int index;
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE priv;
	EVP_PKEY *pkey;
	double until_ms; /* sign until this time (p11util_now_ms) */
	unsigned long rounds;
	int ok;
};

/* One application thread: its own session, signatures until the time is up, each verified. The
 * login is the application's, so the new session is already in the user state. */
static void *thread_main(void *arg)
{
	struct thread_job *job = arg;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_SESSION_INFO info;
	CK_BYTE msg[64], sig[P256_SIG_LEN], rnd[16];
	int ok = 0, have_sess = 0;

	CHECK_OK(p11->C_OpenSession(job->slot, CKF_SERIAL_SESSION, NULL, NULL, &sess));
	have_sess = 1;
	CHECK_OK(p11->C_GetSessionInfo(sess, &info));
	CHECK(info.state == CKS_RO_USER_FUNCTIONS,
	      "thread %d: a new session of a logged-in application has state %lu", job->index,
	      info.state);
	while (p11util_now_ms() < job->until_ms) {
		unsigned long round = job->rounds;
		int n = snprintf((char *)msg, sizeof(msg), "thread %d round %lu", job->index,
				 round);

		CHECK_OK(p11->C_GenerateRandom(sess, rnd, sizeof(rnd)));
		if (!sign(sess, job->priv, CKM_ECDSA_SHA256, msg, (CK_ULONG)n, sig, 0))
			goto out;
		CHECK(verify_sig(job->pkey, sig, sizeof(sig), msg, (size_t)n, 0, 1),
		      "thread %d round %lu: signature does not verify", job->index, round);
		job->rounds++;
	}
	ok = 1;
out:
	if (have_sess)
		ok &= expect_rv("C_CloseSession", p11->C_CloseSession(sess), CKR_OK);
	job->ok = ok;
	return NULL;
}

static int mode_threads(const char *key_label)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	CK_C_INITIALIZE_ARGS args;
	CK_SLOT_ID slot = token_slot;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_BYTE point[P256_POINT_LEN];
	struct thread_job jobs[THREADS];
	EVP_PKEY *pkey = NULL;
	unsigned long total = 0;
	double until = 0;
	int ok = 0, started = 0, initialized = 0, seconds = 0;

	memset(&args, 0, sizeof(args));
	memset(jobs, 0, sizeof(jobs));
	args.flags = CKF_OS_LOCKING_OK;
	CHECK(pin, "TEEHSM_TEST_PIN is not set");
	CHECK_OK(p11->C_Initialize(&args));
	initialized = 1;
	if (!open_login(slot, pin, &sess) || !find_one(sess, key_label, CKO_PRIVATE_KEY, &priv) ||
	    !find_one(sess, key_label, CKO_PUBLIC_KEY, &pub) || !read_point(sess, pub, point))
		goto out;
	pkey = pkey_from_point(point, P256_POINT_LEN);
	if (!pkey)
		goto out;
	seconds = getenv("TEEHSM_TEST_SECONDS") ? atoi(getenv("TEEHSM_TEST_SECONDS"))
						: THREAD_SECONDS_DEFAULT;
	CHECK(seconds > 0 && seconds <= 600, "TEEHSM_TEST_SECONDS=%d is not 1..600", seconds);
	until = p11util_now_ms() + seconds * 1000.0;
	for (started = 0; started < THREADS; started++) {
		jobs[started].until_ms = until;
		jobs[started].index = started;
		jobs[started].slot = slot;
		jobs[started].priv = priv;
		jobs[started].pkey = pkey;
		CHECK(pthread_create(&jobs[started].tid, NULL, thread_main, &jobs[started]) == 0,
		      "pthread_create failed");
	}
	ok = 1;
out:
	for (int i = 0; i < started; i++) {
		pthread_join(jobs[i].tid, NULL);
		ok &= jobs[i].ok;
		total += jobs[i].rounds;
		if (!jobs[i].rounds) {
			fail("thread %d made no signature in %d s", i, seconds);
			ok = 0;
		}
	}
	if (ok)
		note("%d threads for %d s: %lu signatures, all verified (%.0f per second)", THREADS,
		     seconds, total, total / (double)seconds);
	if (initialized)
		ok &= expect_rv("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
	EVP_PKEY_free(pkey);
	return ok;
}

static int mode_expect_refused(void)
{
	CK_ULONG n = 0;
	CK_RV rv;
	int ok = 0;

	CHECK_OK(p11->C_Initialize(NULL));
	rv = p11->C_GetSlotList(CK_FALSE, NULL, &n);
	if (rv == CKR_OK)
		fail("C_GetSlotList succeeded (%lu slots): the server accepted this client", n);
	else
		ok = expect_rv("C_GetSlotList", rv, CKR_DEVICE_ERROR);
	if (ok)
		note("refused as expected: C_GetSlotList returned CKR_DEVICE_ERROR");
	ok &= expect_rv("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
out:
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Faults: fork, deadlines, server restart (issue 4, "Behaviour under concurrency and faults"). */

/* Generate a P-256 key pair as session objects and read its public point. */
static int gen_session_key(CK_SESSION_HANDLE sess, const char *label, CK_OBJECT_HANDLE *pub,
			   CK_OBJECT_HANDLE *priv, CK_BYTE point[P256_POINT_LEN])
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_KEY_TYPE kt = CKK_EC;
	CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE pub_tmpl[] = {
		{ CKA_CLASS, &pub_cls, sizeof(pub_cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_EC_PARAMS, (void *)p11util_p256_params, sizeof(p11util_p256_params) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ATTRIBUTE priv_tmpl[] = {
		{ CKA_CLASS, &priv_cls, sizeof(priv_cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	int ok = 0;

	*pub = *priv = CK_INVALID_HANDLE;
	CHECK_OK(p11->C_GenerateKeyPair(sess, &gen, pub_tmpl,
					sizeof(pub_tmpl) / sizeof(pub_tmpl[0]), priv_tmpl,
					sizeof(priv_tmpl) / sizeof(priv_tmpl[0]), pub, priv));
	CHECK(*pub != CK_INVALID_HANDLE && *priv != CK_INVALID_HANDLE && *pub != *priv,
	      "C_GenerateKeyPair returned handles %lu and %lu", *pub, *priv);
	ok = read_point(sess, *pub, point);
out:
	return ok;
}

/* The child of mode_fork: the module is not initialised here until we say so, and then it is
 * a connection of our own (the server sees a new client: we must log in again). */
static int fork_child(CK_SESSION_HANDLE parent_sess)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	CK_SESSION_INFO info;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE point[P256_POINT_LEN];
	CK_SLOT_ID slot = 0;
	CK_ULONG n = 0;
	int ok = 0, initialized = 0;

	mode = "fork (child)";
	CHECK_RV(p11->C_GetSlotList(CK_TRUE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK_RV(p11->C_GetSessionInfo(parent_sess, &info), CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK_RV(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
	initialized = 1; /* init_and_slot's C_Initialize, at worst a harmless extra C_Finalize */
	if (!init_and_slot(&slot))
		goto out;
	CHECK_OK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &sess));
	CHECK_OK(p11->C_GetSessionInfo(sess, &info));
	CHECK(info.state == CKS_RW_PUBLIC_SESSION,
	      "the child's new session has state %lu, expected CKS_RW_PUBLIC_SESSION (the "
	      "parent's login leaked into the child's connection?)",
	      info.state);
	CHECK_OK(p11->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	if (!gen_session_key(sess, "fork-child-key", &pub, &priv, point) ||
	    !sign_and_verify(sess, priv, point, 0))
		goto out;
	CHECK_OK(p11->C_Logout(sess));
	CHECK_OK(p11->C_CloseSession(sess));
	CHECK_OK(p11->C_Finalize(NULL));
	initialized = 0;
	note("child signed with its own connection");
	ok = 1;
out:
	if (initialized)
		p11->C_Finalize(NULL);
	return ok;
}

static int mode_fork(void)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	CK_SLOT_ID slot = 0;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE point[P256_POINT_LEN];
	pid_t pid = -1;
	int ok = 0, status = 0, rounds = 0;

	CHECK(pin, "TEEHSM_TEST_PIN is not set");
	if (!init_and_slot(&slot) || !open_login(slot, pin, &sess) ||
	    !gen_session_key(sess, "fork-parent-key", &pub, &priv, point) ||
	    !sign_and_verify(sess, priv, point, 0))
		goto out;
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		exit(fork_child(sess) ? 0 : 1);
	/* The parent keeps signing on its connection while the child works, then once more. */
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		CHECK(w >= 0, "waitpid: %s", strerror(errno));
		if (!sign_and_verify(sess, priv, point, 0))
			goto out;
		rounds++;
		if (w == pid)
			break;
	}
	pid = -1;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child failed (wait status 0x%x: %s %d)", status,
	      WIFEXITED(status) ? "exit" : "signal",
	      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (!sign_and_verify(sess, priv, point, 0))
		goto out;
	note("parent signed %d times while the child ran, and again after it exited", rounds);
	CHECK_OK(p11->C_Logout(sess));
	CHECK_OK(p11->C_CloseSession(sess));
	ok = 1;
out:
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok &= expect_rv("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
	return ok;
}

/* A server that never answers: C_GetSlotList must give CKR_DEVICE_ERROR within max_ms (a guard
 * against a hang, not a performance bound). With port > 0 the silent server is ours: a socket
 * listening on 127.0.0.1:port that never accepts — the kernel completes the TCP handshake and
 * the TLS handshake never starts. Twice: the second call's reconnect must be bounded too. */
static int mode_deadline(long max_ms, int port)
{
	struct sockaddr_in sa;
	CK_ULONG n = 0;
	CK_RV rv;
	double t0, ms;
	int ok = 0, fd = -1, one = 1, initialized = 0;

	if (port > 0) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(fd >= 0, "socket: %s", strerror(errno));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind 127.0.0.1:%d: %s",
		      port, strerror(errno));
		CHECK(listen(fd, 16) == 0, "listen: %s", strerror(errno));
		note("listening on 127.0.0.1:%d, never accepting", port);
	}
	CHECK_OK(p11->C_Initialize(NULL));
	initialized = 1;
	for (int i = 1; i <= 2; i++) {
		n = 0;
		t0 = p11util_now_ms();
		rv = p11->C_GetSlotList(CK_FALSE, NULL, &n);
		ms = p11util_now_ms() - t0;
		note("call %d: C_GetSlotList returned 0x%lx (%s) after %.0f ms", i,
		     (unsigned long)rv, p11util_rv_name(rv), ms);
		CHECK_RV(rv, CKR_DEVICE_ERROR);
		CHECK(ms < max_ms, "C_GetSlotList took %.0f ms, more than %ld ms: a hang?", ms,
		      max_ms);
	}
	ok = 1;
out:
	if (initialized)
		ok &= expect_rv("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Wait (bounded) for file path to exist. */
static int wait_file(const char *path, int seconds)
{
	for (int i = 0; i < seconds * 10; i++) {
		if (access(path, F_OK) == 0)
			return 1;
		usleep(100000);
	}
	return 0;
}

/* The server restarts under a live session: the lost connection's session answers
 * CKR_DEVICE_REMOVED or CKR_SESSION_HANDLE_INVALID, and the next call reconnects without
 * C_Finalize. DIR/ready tells the script to restart the server; DIR/restarted says it did. */
static int mode_restart(const char *dir)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	char ready[4096], restarted[4096];
	CK_SLOT_ID slot = 0;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE, sess2 = CK_INVALID_HANDLE;
	CK_SESSION_INFO info;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE point[P256_POINT_LEN];
	CK_ULONG n = 0;
	CK_RV rv;
	FILE *f;
	int ok = 0, old_ok = 1;

	CHECK(pin, "TEEHSM_TEST_PIN is not set");
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(restarted, sizeof(restarted), "%s/restarted", dir);
	if (!init_and_slot(&slot) || !open_login(slot, pin, &sess) ||
	    !gen_session_key(sess, "restart-key", &pub, &priv, point) ||
	    !sign_and_verify(sess, priv, point, 0))
		goto out;
	f = fopen(ready, "w");
	CHECK(f, "cannot write %s: %s", ready, strerror(errno));
	fprintf(f, "ready\n");
	fclose(f);
	note("signed; waiting for the server restart");
	CHECK(wait_file(restarted, 120), "%s did not appear within 120 s", restarted);

	/* The old session belongs to the lost connection. */
	for (int i = 1; i <= 2; i++) {
		rv = p11->C_GetSessionInfo(sess, &info);
		note("old session, call %d after the restart: C_GetSessionInfo returned 0x%lx (%s)",
		     i, (unsigned long)rv, p11util_rv_name(rv));
		if (rv != CKR_DEVICE_REMOVED && rv != CKR_SESSION_HANDLE_INVALID) {
			fail("C_GetSessionInfo on the lost connection's session returned 0x%lx "
			     "(%s), expected CKR_DEVICE_REMOVED or CKR_SESSION_HANDLE_INVALID",
			     (unsigned long)rv, p11util_rv_name(rv));
			old_ok = 0;
		}
	}

	/* The next calls reconnect, without C_Finalize. */
	CHECK_OK(p11->C_GetSlotList(CK_TRUE, NULL, &n));
	CHECK(n >= 1, "C_GetSlotList after the restart reports %lu slots", n);
	CHECK_OK(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &sess2));
	CHECK_OK(p11->C_GetSessionInfo(sess2, &info));
	CHECK(info.state == CKS_RW_PUBLIC_SESSION,
	      "a new session after the restart has state %lu, expected CKS_RW_PUBLIC_SESSION",
	      info.state);
	CHECK_OK(p11->C_Login(sess2, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
	if (!gen_session_key(sess2, "restart-key-2", &pub, &priv, point) ||
	    !sign_and_verify(sess2, priv, point, 0))
		goto out;
	if (sess2 == sess) {
		fail("the new session got the old session's handle %lu: the old handle now names "
		     "another session",
		     sess);
		old_ok = 0;
	} else {
		rv = p11->C_GetSessionInfo(sess, &info);
		if (rv != CKR_DEVICE_REMOVED && rv != CKR_SESSION_HANDLE_INVALID) {
			fail("after reconnecting, the old session %lu answers C_GetSessionInfo "
			     "with 0x%lx (%s)",
			     sess, (unsigned long)rv, p11util_rv_name(rv));
			old_ok = 0;
		}
		/* Closing what the server already closed is not an error. */
		CHECK_OK(p11->C_CloseSession(sess));
		rv = p11->C_GetSessionInfo(sess, &info);
		if (rv != CKR_SESSION_HANDLE_INVALID) {
			fail("a closed lost session answers C_GetSessionInfo with 0x%lx (%s)",
			     (unsigned long)rv, p11util_rv_name(rv));
			old_ok = 0;
		}
	}
	CHECK_OK(p11->C_Logout(sess2));
	CHECK_OK(p11->C_CloseSession(sess2));
	note("reconnected without C_Finalize: new session, login and signature OK");
	ok = old_ok;
out:
	ok &= expect_rv("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
	return ok;
}

/* A live, logged-in session while the script does something to the server (a SIGHUP that
 * revokes or keeps this peer): DIR/ready when signed once, then wait for DIR/go and report on
 * stdout what the old session and a fresh C_GetSlotList answer ("old-session RV", "slot-list RV
 * N"). The script judges the outcome. */
static int mode_hold(const char *dir)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	char ready[4096], go[4096];
	CK_SLOT_ID slot = 0;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_SESSION_INFO info;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE point[P256_POINT_LEN];
	CK_ULONG n = 0;
	CK_RV rv;
	FILE *f;
	int ok = 0;

	CHECK(pin, "TEEHSM_TEST_PIN is not set");
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	snprintf(go, sizeof(go), "%s/go", dir);
	if (!init_and_slot(&slot) || !open_login(slot, pin, &sess) ||
	    !gen_session_key(sess, "hold-key", &pub, &priv, point) ||
	    !sign_and_verify(sess, priv, point, 0))
		goto out;
	f = fopen(ready, "w");
	CHECK(f, "cannot write %s: %s", ready, strerror(errno));
	fprintf(f, "ready\n");
	fclose(f);
	CHECK(wait_file(go, 120), "%s did not appear within 120 s", go);
	rv = p11->C_GetSessionInfo(sess, &info);
	if (rv == CKR_OK && !sign_and_verify(sess, priv, point, 0))
		rv = CKR_FUNCTION_FAILED;
	printf("old-session %s\n", p11util_rv_name(rv));
	rv = p11->C_GetSlotList(CK_TRUE, NULL, &n);
	printf("slot-list %s %lu\n", p11util_rv_name(rv), rv == CKR_OK ? (unsigned long)n : 0UL);
	fflush(stdout);
	ok = 1;
out:
	p11->C_Finalize(NULL);
	return ok;
}

/* SIGTERM while a call runs: DIR/ready just before C_GenerateKeyPair(RSA-4096) starts; the
 * server must finish it and answer CKR_OK before it closes. Prints "keygen RV" on stdout, then
 * what the next call answers ("after RV"). */
static int mode_inflight(const char *dir)
{
	const char *pin = getenv("TEEHSM_TEST_PIN");
	CK_ULONG bits = 4096;
	CK_BYTE e[] = { 0x01, 0x00, 0x01 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pubt[] = {
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
	};
	CK_ATTRIBUTE privt[] = {
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
	};
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_SESSION_INFO info;
	CK_SLOT_ID slot = 0;
	char ready[4096];
	CK_RV rv;
	FILE *f;
	int ok = 0;

	CHECK(pin, "TEEHSM_TEST_PIN is not set");
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	if (!init_and_slot(&slot) || !open_login(slot, pin, &sess))
		goto out;
	f = fopen(ready, "w");
	CHECK(f, "cannot write %s: %s", ready, strerror(errno));
	fprintf(f, "ready\n");
	fclose(f);
	rv = p11->C_GenerateKeyPair(sess, &m, pubt, 4, privt, 2, &pub, &priv);
	printf("keygen %s\n", p11util_rv_name(rv));
	rv = p11->C_GetSessionInfo(sess, &info);
	printf("after %s\n", p11util_rv_name(rv));
	fflush(stdout);
	ok = 1;
out:
	p11->C_Finalize(NULL);
	return ok;
}

/* ---------------------------------------------------------------------------------------------
 * C_Initialize's arguments (§5.4) and the life of the library around it. */

static CK_RV app_create_mutex(CK_VOID_PTR_PTR m)
{
	static int dummy;

	*m = &dummy;
	return CKR_OK;
}

static CK_RV app_mutex_op(CK_VOID_PTR m)
{
	(void)m;
	return CKR_OK;
}

/* Initialise with args, check the library works (a slot list and a session), finalise. */
static int init_use_finalize(CK_C_INITIALIZE_ARGS *args, const char *what)
{
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	int ok = 0;

	CHECK(p11->C_Initialize(args) == CKR_OK, "C_Initialize with %s failed", what);
	CHECK_OK(p11->C_GetSlotList(CK_TRUE, NULL, &n));
	CHECK(n >= 1, "no slot after C_Initialize with %s", what);
	CHECK_OK(p11->C_OpenSession(token_slot, CKF_SERIAL_SESSION, NULL, NULL, &sess));
	CHECK_OK(p11->C_CloseSession(sess));
	ok = 1;
out:
	ok &= expect_rv("C_Finalize", p11->C_Finalize(NULL), CKR_OK);
	if (ok)
		note("C_Initialize with %s: OK", what);
	return ok;
}

static int mode_init_args(void)
{
	CK_C_INITIALIZE_ARGS args;
	CK_ULONG n = 0;
	int dummy = 0, ok = 0;

	/* Before C_Initialize. */
	CHECK_RV(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK_RV(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);

	/* Refused arguments leave the library uninitialised. */
	memset(&args, 0, sizeof(args));
	args.pReserved = &dummy;
	CHECK_RV(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	memset(&args, 0, sizeof(args));
	args.CreateMutex = app_create_mutex;
	args.LockMutex = app_mutex_op;
	CHECK_RV(p11->C_Initialize(&args), CKR_ARGUMENTS_BAD);
	args.DestroyMutex = app_mutex_op;
	args.UnlockMutex = app_mutex_op;
	/* The application's own locks only: the module cannot build on them. */
	CHECK_RV(p11->C_Initialize(&args), CKR_CANT_LOCK);
	CHECK_RV(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);

	/* NULL, twice, a reserved pointer to C_Finalize, and after C_Finalize. */
	CHECK_OK(p11->C_Initialize(NULL));
	CHECK_RV(p11->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
	CHECK_OK(p11->C_GetSlotList(CK_FALSE, NULL, &n));
	CHECK_RV(p11->C_Finalize(&dummy), CKR_ARGUMENTS_BAD);
	CHECK_OK(p11->C_Finalize(NULL));
	CHECK_RV(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_CRYPTOKI_NOT_INITIALIZED);
	CHECK_RV(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);

	/* Accepted forms; each must give a working library. */
	if (!init_use_finalize(NULL, "NULL"))
		goto out;
	memset(&args, 0, sizeof(args));
	if (!init_use_finalize(&args, "no flags and no callbacks"))
		goto out;
	args.flags = CKF_OS_LOCKING_OK;
	if (!init_use_finalize(&args, "CKF_OS_LOCKING_OK"))
		goto out;
	args.CreateMutex = app_create_mutex;
	args.DestroyMutex = app_mutex_op;
	args.LockMutex = app_mutex_op;
	args.UnlockMutex = app_mutex_op;
	if (!init_use_finalize(&args, "callbacks and CKF_OS_LOCKING_OK"))
		goto out;
	memset(&args, 0, sizeof(args));
	args.flags = CKF_LIBRARY_CANT_CREATE_OS_THREADS | CKF_OS_LOCKING_OK;
	if (!init_use_finalize(&args, "CKF_LIBRARY_CANT_CREATE_OS_THREADS"))
		goto out;
	ok = 1;
out:
	return ok;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: p11drive e2e [MODULE [KEY_LABEL]]\n"
		"       p11drive sign-existing [MODULE] KEY_LABEL\n"
		"       p11drive destroy [MODULE] KEY_LABEL\n"
		"       p11drive threads [MODULE] KEY_LABEL\n"
		"       p11drive expect-refused [MODULE]\n"
		"       p11drive init-args [MODULE]\n"
		"       p11drive fork MODULE\n"
		"       p11drive deadline MODULE MAX_MS [SILENT_PORT]\n"
		"       p11drive restart MODULE DIR\n"
		"       p11drive hold MODULE DIR\n"
		"       p11drive inflight MODULE DIR\n"
		"MODULE defaults to $TEEHSM_MODULE, KEY_LABEL to $TEEHSM_TEST_KEY_LABEL.\n"
		"Needs TEEHSM_CONF (for the module), TEEHSM_TEST_PIN and TEEHSM_TEST_LABEL.\n");
}

int main(int argc, char **argv)
{
	const char *module = NULL, *label = NULL;
	int ok = 0;

	if (argc < 2 || argc > 5) {
		usage();
		return 2;
	}
	mode = argv[1];
	/* The fault modes take their module explicitly. */
	if (strcmp(mode, "fork") == 0 || strcmp(mode, "deadline") == 0 ||
	    strcmp(mode, "restart") == 0 || strcmp(mode, "hold") == 0 ||
	    strcmp(mode, "inflight") == 0) {
		int want = mode[0] == 'f' ? 3 : 4;

		if (argc != want && !(mode[0] == 'd' && argc == 5)) {
			usage();
			return 2;
		}
		token_slot = strtoul(env_or("TEEHSM_TEST_SLOT", "0"), NULL, 0);
		if (!load_module(argv[2]))
			return 1;
		if (mode[0] == 'f')
			ok = mode_fork();
		else if (mode[0] == 'd')
			ok = mode_deadline(strtol(argv[3], NULL, 10),
					   argc == 5 ? (int)strtol(argv[4], NULL, 10) : 0);
		else if (strcmp(mode, "hold") == 0)
			ok = mode_hold(argv[3]);
		else if (strcmp(mode, "inflight") == 0)
			ok = mode_inflight(argv[3]);
		else
			ok = mode_restart(argv[3]);
		if (ok)
			note("OK");
		return ok ? 0 : 1;
	}
	if (argc > 4) {
		usage();
		return 2;
	}
	/* With a single argument after the mode, it is the label when the module comes from the
	 * environment and the mode needs a label; otherwise the module. */
	if (argc == 4) {
		module = argv[2];
		label = argv[3];
	} else if (argc == 3) {
		if (getenv("TEEHSM_MODULE") && strcmp(mode, "e2e") != 0 &&
		    strcmp(mode, "expect-refused") != 0 && strcmp(mode, "init-args") != 0)
			label = argv[2];
		else
			module = argv[2];
	}
	if (!module)
		module = env_or("TEEHSM_MODULE", NULL);
	if (!label)
		label = env_or("TEEHSM_TEST_KEY_LABEL", NULL);
	if (!module) {
		usage();
		return 2;
	}
	token_slot = strtoul(env_or("TEEHSM_TEST_SLOT", "0"), NULL, 0);
	if (!load_module(module))
		return 1;

	if (strcmp(mode, "e2e") == 0) {
		ok = mode_e2e(label ? label : "p11drive-key");
	} else if (strcmp(mode, "sign-existing") == 0 || strcmp(mode, "destroy") == 0 ||
		   strcmp(mode, "threads") == 0) {
		if (!label) {
			usage();
			return 2;
		}
		if (mode[0] == 's')
			ok = mode_sign_existing(label);
		else if (mode[0] == 'd')
			ok = mode_destroy(label);
		else
			ok = mode_threads(label);
	} else if (strcmp(mode, "expect-refused") == 0) {
		ok = mode_expect_refused();
	} else if (strcmp(mode, "init-args") == 0) {
		ok = mode_init_args();
	} else {
		usage();
		return 2;
	}
	if (ok)
		note("OK");
	return ok ? 0 : 1;
}
