/*
 * Unit tests of the token core through ta.h only (STYLE §12). Each test gets a fresh store in a
 * temporary directory, with a cheap PIN KDF and a small failure limit. Signatures are checked
 * with OpenSSL directly against the token's CKA_EC_POINT.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "fixture_ta.h"
#include "ta.h"

#define MAX_FAILS   3
#define MAX_SESSION 4

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE p384_params[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;

static int setup(void **state)
{
	static const struct fx_ta_params p = {
		.name = "test_ta",
		.label = "test token",
		.max_pin_failures = MAX_FAILS,
		.max_sessions = MAX_SESSION,
	};

	return fx_ta_setup(state, &p);
}

static int teardown(void **state)
{
	return fx_ta_teardown(state);
}

/* --- helpers --- */

static void label32(CK_UTF8CHAR *out, const char *s)
{
	memset(out, ' ', 32);
	memcpy(out, s, strlen(s));
}

static CK_RV gen_p256(struct fx *f, CK_SESSION_HANDLE h, CK_BBOOL *token, const char *label,
		      CK_BBOOL *sign, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BYTE id[] = { 0x01, 0x02, 0x03 };
	CK_ATTRIBUTE pt[] = {
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_TOKEN, token, sizeof(*token) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_TOKEN, token, sizeof(*token) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_SIGN, sign, sizeof(*sign) },
	};

	return ta_C_GenerateKeyPair(f->c, h, &m, pt, 4, kt, 4, pub, priv);
}

/* The uncompressed point (65 bytes) from a public key's CKA_EC_POINT. */
static void ec_point(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE pub, CK_BYTE *q)
{
	CK_BYTE der[67];
	CK_ATTRIBUTE a = { CKA_EC_POINT, der, sizeof(der) };

	assert_int_equal(ta_C_GetAttributeValue(f->c, h, pub, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, 67);
	assert_int_equal(der[0], 0x04); /* OCTET STRING */
	assert_int_equal(der[1], 65);
	assert_int_equal(der[2], 0x04); /* uncompressed */
	memcpy(q, der + 2, 65);
}

/* Verify a raw r||s P-256 signature over hash with OpenSSL. */
static bool verify_p256(const CK_BYTE *q, const CK_BYTE *hash, size_t hash_len, const CK_BYTE *sig)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY_CTX *vctx = NULL;
	EVP_PKEY *pkey = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL;
	int der_len = 0;
	bool ok = false;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)q, 65);
	params[2] = OSSL_PARAM_construct_end();
	kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	es = ECDSA_SIG_new();
	if (!es || ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)) != 1)
		goto out;
	der_len = i2d_ECDSA_SIG(es, &der);
	if (der_len <= 0)
		goto out;
	vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!vctx || EVP_PKEY_verify_init(vctx) != 1)
		goto out;
	ok = EVP_PKEY_verify(vctx, der, (size_t)der_len, hash, hash_len) == 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_free(pkey);
	return ok;
}

static CK_FLAGS token_flags(struct fx *f)
{
	CK_TOKEN_INFO ti;

	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &ti), CKR_OK);
	return ti.flags;
}

/* Sign data with CKM_ECDSA_SHA256 in one call and check the signature against pub. */
static void sign_and_verify(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE pub,
			    CK_OBJECT_HANDLE priv)
{
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE data[] = "sign me, persistently";
	CK_BYTE sig[64];
	CK_ULONG sig_len = sizeof(sig);
	CK_BYTE q[65];
	CK_BYTE hash[32];

	ec_point(f, h, pub, q);
	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, data, sizeof(data), sig, &sig_len), CKR_OK);
	assert_int_equal(sig_len, 64);
	SHA256(data, sizeof(data), hash);
	assert_true(verify_p256(q, hash, sizeof(hash), sig));
}

static CK_ULONG find_all(struct fx *f, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n,
			 CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_ULONG got = 0;

	assert_int_equal(ta_C_FindObjectsInit(f->c, h, tmpl, n), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, h, out, max, &got), CKR_OK);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OK);
	return got;
}

/* Names of the sealed object files of the store. */
static size_t object_files(struct fx *f, char names[][64], size_t max)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "obj-", 4) == 0 && strlen(de->d_name) < 64 && n < max)
			memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	return n;
}

static void file_path(struct fx *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

/* --- §5.5 slot and token management --- */

static void test_slot_list_and_slot_info(void **state)
{
	struct fx *f = *state;
	CK_SLOT_ID slots[2] = { 99, 99 };
	CK_ULONG n = 0;
	CK_SLOT_INFO si;

	assert_int_equal(ta_C_GetSlotList(f->c, CK_TRUE, NULL, &n), CKR_OK);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(ta_C_GetSlotList(f->c, CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 1);
	n = 2;
	assert_int_equal(ta_C_GetSlotList(f->c, CK_FALSE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(slots[0], TA_SLOT_ID);
	assert_int_equal(ta_C_GetSlotList(f->c, CK_TRUE, slots, NULL), CKR_ARGUMENTS_BAD);

	assert_int_equal(ta_C_GetSlotInfo(f->c, 1, &si), CKR_SLOT_ID_INVALID);
	assert_int_equal(ta_C_GetSlotInfo(f->c, TA_SLOT_ID, &si), CKR_OK);
	assert_memory_equal(si.slotDescription, "teehsm emulated TEE slot        ", 32);
	assert_memory_equal(si.manufacturerID, "teehsm                          ", 32);
	assert_int_equal(si.flags, CKF_TOKEN_PRESENT | CKF_HW_SLOT);
	assert_int_equal(si.hardwareVersion.major, 0);
	assert_int_equal(si.hardwareVersion.minor, 1);
}

static void test_token_info_fields(void **state)
{
	struct fx *f = *state;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE h;

	assert_int_equal(ta_C_GetTokenInfo(f->c, 7, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &ti), CKR_OK);
	/* Uninitialised: no TOKEN_INITIALIZED, no USER_PIN_INITIALIZED. */
	assert_int_equal(ti.flags, CKF_RNG | CKF_LOGIN_REQUIRED);
	assert_memory_equal(ti.manufacturerID, "teehsm                          ", 32);
	assert_memory_equal(ti.model, "teehsm-emu      ", 16);
	for (int i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", ti.serialNumber[i]));
	assert_int_equal(ti.ulMinPinLen, 4);
	assert_int_equal(ti.ulMaxPinLen, 128);
	assert_int_equal(ti.ulTotalPublicMemory, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(ti.ulFreePrivateMemory, CK_UNAVAILABLE_INFORMATION);
	assert_memory_equal(ti.utcTime, "                ", 16);
	assert_int_equal(ti.firmwareVersion.minor, 1);
	assert_int_equal(ti.ulMaxSessionCount, MAX_SESSION);

	init_token(f);
	h = open_session(f, true);
	open_session(f, false);
	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &ti), CKR_OK);
	assert_int_equal(ti.flags, CKF_RNG | CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED |
					   CKF_USER_PIN_INITIALIZED);
	assert_memory_equal(ti.label, "test token                      ", 32);
	assert_int_equal(ti.ulSessionCount, 2);
	assert_int_equal(ti.ulRwSessionCount, 1);
	assert_int_equal(ta_C_CloseSession(f->c, h), CKR_OK);
	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &ti), CKR_OK);
	assert_int_equal(ti.ulSessionCount, 1);
	assert_int_equal(ti.ulRwSessionCount, 0);
}

static void test_init_token_and_init_pin(void **state)
{
	struct fx *f = *state;
	CK_UTF8CHAR label[32];
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv;
	CK_TOKEN_INFO before, after;
	struct ta_client *other = NULL;

	label32(label, "first");
	assert_int_equal(ta_C_InitToken(f->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR) "abc", 3, label),
			 CKR_PIN_LEN_RANGE);
	assert_int_equal(ta_C_InitToken(f->c, TA_SLOT_ID, NULL, 0, label), CKR_ARGUMENTS_BAD);
	assert_int_equal(
		ta_C_InitToken(f->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), label),
		CKR_OK);
	assert_true(token_flags(f) & CKF_TOKEN_INITIALIZED);
	assert_false(token_flags(f) & CKF_USER_PIN_INITIALIZED);

	/* C_InitPIN needs an R/W SO session. */
	h = open_session(f, true);
	assert_int_equal(ta_C_InitPIN(f->c, h, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_USER_PIN_NOT_INITIALIZED);
	assert_int_equal(login(f, h, CKU_SO, SO_PIN), CKR_OK);
	assert_int_equal(ta_C_InitPIN(f->c, h, (CK_UTF8CHAR_PTR) "12", 2), CKR_PIN_LEN_RANGE);
	assert_int_equal(ta_C_InitPIN(f->c, h, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
			 CKR_OK);
	assert_true(token_flags(f) & CKF_USER_PIN_INITIALIZED);

	/* Any open session, of any client, blocks C_InitToken. */
	assert_int_equal(
		ta_C_InitToken(f->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), label),
		CKR_SESSION_EXISTS);
	assert_int_equal(ta_C_CloseSession(f->c, h), CKR_OK);
	assert_int_equal(ta_client_new(f->ta, &other), CKR_OK);
	assert_int_equal(ta_C_OpenSession(other, TA_SLOT_ID, CKF_SERIAL_SESSION, &h), CKR_OK);
	assert_int_equal(
		ta_C_InitToken(f->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), label),
		CKR_SESSION_EXISTS);
	ta_client_free(other);

	/* A token object, to see re-initialisation destroy it. */
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	assert_int_equal(gen_p256(f, h, &yes, "doomed", &yes, &pub, &priv), CKR_OK);
	assert_int_equal(ta_C_CloseSession(f->c, h), CKR_OK);
	char names[8][64];
	assert_int_equal(object_files(f, names, 8), 2);

	/* Re-initialising needs the SO PIN, and a wrong one counts. */
	assert_int_equal(ta_C_InitToken(f->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR) "wrong-so", 8, label),
			 CKR_PIN_INCORRECT);
	assert_true(token_flags(f) & CKF_SO_PIN_COUNT_LOW);
	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &before), CKR_OK);
	label32(label, "second");
	assert_int_equal(
		ta_C_InitToken(f->c, TA_SLOT_ID, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN), label),
		CKR_OK);
	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &after), CKR_OK);
	assert_memory_equal(after.label, "second                          ", 32);
	assert_int_equal(after.flags, CKF_RNG | CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED);
	assert_memory_not_equal(before.serialNumber, after.serialNumber, 16);
	assert_int_equal(object_files(f, names, 8), 0);

	/* And it survives a restart. */
	fx_reopen(f);
	assert_int_equal(ta_C_GetTokenInfo(f->c, TA_SLOT_ID, &before), CKR_OK);
	assert_memory_equal(before.label, "second                          ", 32);
	assert_memory_equal(before.serialNumber, after.serialNumber, 16);
	assert_int_equal(before.flags, after.flags);
}

/* --- §5.6 sessions and login --- */

static void test_login_wrong_pin_counters_and_lockout(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h;
	CK_FLAGS fl;

	init_token(f);
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_USER, "not-the-pin"), CKR_PIN_INCORRECT);
	fl = token_flags(f);
	assert_true(fl & CKF_USER_PIN_COUNT_LOW);
	assert_false(fl & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED));
	/* Out-of-range lengths are simply wrong PINs at login. */
	assert_int_equal(login(f, h, CKU_USER, "x"), CKR_PIN_INCORRECT);
	fl = token_flags(f);
	assert_true(fl & CKF_USER_PIN_COUNT_LOW);
	assert_true(fl & CKF_USER_PIN_FINAL_TRY);
	assert_false(fl & CKF_USER_PIN_LOCKED);

	/* Success resets the counter. */
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	fl = token_flags(f);
	assert_false(fl & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED));
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);

	/* MAX_FAILS consecutive failures lock the PIN; then even the right PIN is refused. */
	for (int i = 0; i < MAX_FAILS; i++)
		assert_int_equal(login(f, h, CKU_USER, "wrong-again"), CKR_PIN_INCORRECT);
	fl = token_flags(f);
	assert_true(fl & CKF_USER_PIN_LOCKED);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_PIN_LOCKED);

	/* The lock is persisted. */
	fx_reopen(f);
	assert_true(token_flags(f) & CKF_USER_PIN_LOCKED);
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_PIN_LOCKED);

	/* The SO can set a new user PIN, which unlocks it. */
	assert_int_equal(login(f, h, CKU_SO, SO_PIN), CKR_OK);
	assert_int_equal(ta_C_InitPIN(f->c, h, (CK_UTF8CHAR_PTR) "new-user-pin", 12), CKR_OK);
	assert_false(token_flags(f) & CKF_USER_PIN_LOCKED);
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	assert_int_equal(login(f, h, CKU_USER, "new-user-pin"), CKR_OK);
}

static void test_login_states_and_session_info(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE rw, ro;
	CK_SESSION_INFO si;

	init_token(f);
	rw = open_session(f, true);
	ro = open_session(f, false);
	assert_int_equal(ta_C_GetSessionInfo(f->c, ro, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_PUBLIC_SESSION);
	assert_int_equal(si.flags, CKF_SERIAL_SESSION);
	assert_int_equal(si.slotID, TA_SLOT_ID);
	assert_int_equal(ta_C_GetSessionInfo(f->c, rw, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
	assert_int_equal(si.flags, CKF_SERIAL_SESSION | CKF_RW_SESSION);

	assert_int_equal(ta_C_Logout(f->c, rw), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(login(f, rw, 42, USER_PIN), CKR_USER_TYPE_INVALID);
	assert_int_equal(login(f, rw, CKU_SO, SO_PIN), CKR_SESSION_READ_ONLY_EXISTS);

	/* The login is the client's: every session sees it. */
	assert_int_equal(login(f, rw, CKU_USER, USER_PIN), CKR_OK);
	assert_int_equal(ta_C_GetSessionInfo(f->c, ro, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RO_USER_FUNCTIONS);
	assert_int_equal(ta_C_GetSessionInfo(f->c, rw, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_USER_FUNCTIONS);
	assert_int_equal(login(f, ro, CKU_USER, USER_PIN), CKR_USER_ALREADY_LOGGED_IN);
	assert_int_equal(login(f, ro, CKU_SO, SO_PIN), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	assert_int_equal(ta_C_Logout(f->c, ro), CKR_OK);
	assert_int_equal(ta_C_GetSessionInfo(f->c, rw, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);

	/* SO: only R/W sessions, and no new R/O ones. */
	assert_int_equal(ta_C_CloseSession(f->c, ro), CKR_OK);
	assert_int_equal(login(f, rw, CKU_SO, SO_PIN), CKR_OK);
	assert_int_equal(ta_C_GetSessionInfo(f->c, rw, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_SO_FUNCTIONS);
	assert_int_equal(login(f, rw, CKU_USER, USER_PIN), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
	assert_int_equal(ta_C_OpenSession(f->c, TA_SLOT_ID, CKF_SERIAL_SESSION, &ro),
			 CKR_SESSION_READ_WRITE_SO_EXISTS);

	/* Closing the last session ends the login. */
	assert_int_equal(ta_C_CloseSession(f->c, rw), CKR_OK);
	rw = open_session(f, true);
	assert_int_equal(ta_C_GetSessionInfo(f->c, rw, &si), CKR_OK);
	assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
	assert_int_equal(ta_C_Logout(f->c, rw), CKR_USER_NOT_LOGGED_IN);
}

static void test_session_handles_and_limits(void **state)
{
	struct fx *f = *state;
	struct ta_client *other = NULL;
	CK_SESSION_HANDLE h[MAX_SESSION], extra, theirs;
	CK_SESSION_INFO si;

	assert_int_equal(ta_C_OpenSession(f->c, TA_SLOT_ID, CKF_RW_SESSION, &extra),
			 CKR_SESSION_PARALLEL_NOT_SUPPORTED);
	assert_int_equal(ta_C_OpenSession(f->c, 3, CKF_SERIAL_SESSION, &extra),
			 CKR_SLOT_ID_INVALID);
	assert_int_equal(ta_C_OpenSession(f->c, TA_SLOT_ID, CKF_SERIAL_SESSION, NULL),
			 CKR_ARGUMENTS_BAD);
	for (int i = 0; i < MAX_SESSION; i++) {
		h[i] = open_session(f, i % 2);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(h[i], h[j]);
	}
	assert_int_equal(ta_C_OpenSession(f->c, TA_SLOT_ID, CKF_SERIAL_SESSION, &extra),
			 CKR_SESSION_COUNT);

	/* Another client cannot use this client's sessions, and vice versa. */
	assert_int_equal(ta_client_new(f->ta, &other), CKR_OK);
	assert_int_equal(ta_C_OpenSession(other, TA_SLOT_ID, CKF_SERIAL_SESSION, &theirs), CKR_OK);
	for (int i = 0; i < MAX_SESSION; i++) {
		assert_int_not_equal(theirs, h[i]);
		assert_int_equal(ta_C_GetSessionInfo(other, h[i], &si), CKR_SESSION_HANDLE_INVALID);
		assert_int_equal(ta_C_CloseSession(other, h[i]), CKR_SESSION_HANDLE_INVALID);
	}
	assert_int_equal(ta_C_GetSessionInfo(f->c, theirs, &si), CKR_SESSION_HANDLE_INVALID);
	assert_int_equal(ta_C_GetSessionInfo(f->c, CK_INVALID_HANDLE, &si),
			 CKR_SESSION_HANDLE_INVALID);

	assert_int_equal(ta_C_CloseAllSessions(f->c, 9), CKR_SLOT_ID_INVALID);
	assert_int_equal(ta_C_CloseAllSessions(f->c, TA_SLOT_ID), CKR_OK);
	for (int i = 0; i < MAX_SESSION; i++)
		assert_int_equal(ta_C_GetSessionInfo(f->c, h[i], &si), CKR_SESSION_HANDLE_INVALID);
	/* The other client's session is untouched. */
	assert_int_equal(ta_C_GetSessionInfo(other, theirs, &si), CKR_OK);
	ta_client_free(other);
}

/* --- §5.14 key generation and §5.7 attributes --- */

static void test_generate_key_pair_template_errors(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM bad_mech = { CKM_DSA_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pub = 1, priv = 1;
	CK_ULONG four = 4;
	CK_BYTE modulus[4] = { 0 };
	CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
	CK_BYTE point[67] = { 0x04, 65, 0x04 };
	CK_ATTRIBUTE ok_pub[] = { { CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) } };
	CK_ATTRIBUTE no_params[] = { { CKA_VERIFY, &yes, 1 } };
	/* secp256k1: a well-formed named curve the token does not have. */
	CK_BYTE k1_params[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };
	CK_ATTRIBUTE p384[] = { { CKA_EC_PARAMS, k1_params, sizeof(k1_params) } };
	CK_ATTRIBUTE garbage[] = { { CKA_EC_PARAMS, modulus, sizeof(modulus) } };
	CK_ATTRIBUTE unknown[] = { ok_pub[0], { CKA_MODULUS, modulus, sizeof(modulus) } };
	CK_ATTRIBUTE sign_on_pub[] = { ok_pub[0], { CKA_SIGN, &yes, 1 } };
	CK_ATTRIBUTE local[] = { { CKA_LOCAL, &yes, 1 } };
	CK_ATTRIBUTE never_extr[] = { { CKA_NEVER_EXTRACTABLE, &yes, 1 } };
	CK_ATTRIBUTE bad_bool[] = { { CKA_SIGN, &four, sizeof(four) } };
	CK_ATTRIBUTE bad_class[] = { { CKA_CLASS, &secret, sizeof(secret) } };
	CK_ATTRIBUTE with_point[] = { ok_pub[0], { CKA_EC_POINT, point, sizeof(point) } };
	CK_ATTRIBUTE dup[] = { ok_pub[0], ok_pub[0] };
	CK_ATTRIBUTE other_params[] = { { CKA_EC_PARAMS, (void *)p384_params,
					  sizeof(p384_params) } };
	CK_ATTRIBUTE token_pub[] = { ok_pub[0], { CKA_TOKEN, &yes, 1 } };
	CK_SESSION_HANDLE ro, rw;
	CK_OBJECT_HANDLE found[4];
	CK_ULONG got = 0;

	init_token(f);
	rw = open_session(f, true);
	ro = open_session(f, false);

	/* Private keys need the user; the checks come before any key exists. */
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, NULL, 0, &pub, &priv),
			 CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(pub, CK_INVALID_HANDLE);
	assert_int_equal(priv, CK_INVALID_HANDLE);
	assert_int_equal(login(f, rw, CKU_USER, USER_PIN), CKR_OK);

	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &bad_mech, ok_pub, 1, NULL, 0, &pub, &priv),
			 CKR_MECHANISM_INVALID);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, NULL, ok_pub, 1, NULL, 0, &pub, &priv),
			 CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, NULL, 0, NULL, &priv),
			 CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, no_params, 1, NULL, 0, &pub, &priv),
			 CKR_TEMPLATE_INCOMPLETE);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, p384, 1, NULL, 0, &pub, &priv),
			 CKR_CURVE_NOT_SUPPORTED);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, garbage, 1, NULL, 0, &pub, &priv),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, unknown, 2, NULL, 0, &pub, &priv),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, sign_on_pub, 2, NULL, 0, &pub, &priv),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, local, 1, &pub, &priv),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, never_extr, 1, &pub, &priv),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, bad_bool, 1, &pub, &priv),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, bad_class, 1, &pub, &priv),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, with_point, 2, NULL, 0, &pub, &priv),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, dup, 2, NULL, 0, &pub, &priv),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(
		ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, other_params, 1, &pub, &priv),
		CKR_TEMPLATE_INCONSISTENT);
	/* Token objects need a R/W session. */
	assert_int_equal(ta_C_GenerateKeyPair(f->c, ro, &m, token_pub, 2, NULL, 0, &pub, &priv),
			 CKR_SESSION_READ_ONLY);

	/* None of the failures left an object behind. */
	got = find_all(f, rw, NULL, 0, found, 4);
	assert_int_equal(got, 0);
	char names[4][64];
	assert_int_equal(object_files(f, names, 4), 0);

	/* The minimal template works. */
	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, ok_pub, 1, NULL, 0, &pub, &priv),
			 CKR_OK);
	assert_int_not_equal(pub, CK_INVALID_HANDLE);
	assert_int_not_equal(priv, CK_INVALID_HANDLE);
	assert_int_not_equal(pub, priv);
}

static void test_get_attribute_value_rules(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE value[64], label[16], params[16], id[8], spki[128];
	CK_BBOOL sign = 0, local = 0, sens = 0, asens = 0, nextr = 0, extr = 1, priv_flag = 0;
	CK_OBJECT_CLASS cls = 0;
	CK_KEY_TYPE kt = 0;
	CK_MECHANISM_TYPE genmech = 0;
	CK_BYTE small[2];

	h = user_session(f);
	assert_int_equal(gen_p256(f, h, &no, "attr-key", &yes, &pub, &priv), CKR_OK);

	CK_ATTRIBUTE t[] = {
		{ CKA_VALUE, value, sizeof(value) },
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_EC_PARAMS, params, sizeof(params) },
		{ CKA_SIGN, &sign, sizeof(sign) },
		{ CKA_LOCAL, &local, sizeof(local) },
		{ CKA_SENSITIVE, &sens, sizeof(sens) },
		{ CKA_ALWAYS_SENSITIVE, &asens, sizeof(asens) },
		{ CKA_NEVER_EXTRACTABLE, &nextr, sizeof(nextr) },
		{ CKA_EXTRACTABLE, &extr, sizeof(extr) },
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_KEY_GEN_MECHANISM, &genmech, sizeof(genmech) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_PRIVATE, &priv_flag, sizeof(priv_flag) },
	};
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, priv, t, 14), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(t[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(t[1].ulValueLen, 8);
	assert_memory_equal(label, "attr-key", 8);
	assert_int_equal(t[2].ulValueLen, sizeof(p256_params));
	assert_memory_equal(params, p256_params, sizeof(p256_params));
	assert_int_equal(sign, CK_TRUE);
	assert_int_equal(local, CK_TRUE);
	assert_int_equal(sens, CK_TRUE);
	assert_int_equal(asens, CK_TRUE);
	assert_int_equal(nextr, CK_TRUE);
	assert_int_equal(extr, CK_FALSE);
	assert_int_equal(cls, CKO_PRIVATE_KEY);
	assert_int_equal(kt, CKK_EC);
	assert_int_equal(genmech, CKM_EC_KEY_PAIR_GEN);
	assert_int_equal(t[12].ulValueLen, 3);
	assert_memory_equal(id, "\x01\x02\x03", 3);
	assert_int_equal(priv_flag, CK_TRUE);

	/* Unknown type, size query and a short buffer, all in one call. */
	CK_ATTRIBUTE u[] = {
		{ CKA_MODULUS, value, sizeof(value) },
		{ CKA_PUBLIC_KEY_INFO, NULL, 0 },
		{ CKA_LABEL, small, sizeof(small) },
		{ CKA_SIGN, &sign, sizeof(sign) },
	};
	sign = 0;
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, priv, u, 4), CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(u[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(u[1].ulValueLen, 91);
	assert_int_equal(u[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(u[3].ulValueLen, 1);
	assert_int_equal(sign, CK_TRUE);

	CK_ATTRIBUTE v[] = { { CKA_LABEL, small, sizeof(small) } };
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, priv, v, 1), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(v[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);

	/* The public key: public attributes, the SPKI ends with the point. */
	CK_BYTE q[65];
	CK_ATTRIBUTE w[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_PRIVATE, &priv_flag, sizeof(priv_flag) },
		{ CKA_PUBLIC_KEY_INFO, spki, sizeof(spki) },
		{ CKA_VERIFY, &sign, sizeof(sign) },
		{ CKA_VALUE, value, sizeof(value) },
	};
	ec_point(f, h, pub, q);
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, pub, w, 5), CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(cls, CKO_PUBLIC_KEY);
	assert_int_equal(priv_flag, CK_FALSE);
	assert_int_equal(w[2].ulValueLen, 91);
	assert_memory_equal(spki + 26, q, 65);
	assert_int_equal(sign, CK_TRUE);
	assert_int_equal(w[4].ulValueLen, CK_UNAVAILABLE_INFORMATION);

	assert_int_equal(ta_C_GetAttributeValue(f->c, h, 0x7777, w, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, pub, NULL, 1), CKR_ARGUMENTS_BAD);
}

/* --- §5.11 signing --- */

static void test_ecdsa_sign_and_verify(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 };
	CK_MECHANISM ecdsa_sha256 = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE q[65], sig[64], hash[64], digest[32];
	CK_BYTE msg[300];
	CK_ULONG sig_len;

	h = user_session(f);
	assert_int_equal(gen_p256(f, h, &no, "signer", &yes, &pub, &priv), CKR_OK);
	ec_point(f, h, pub, q);
	for (size_t i = 0; i < sizeof(hash); i++)
		hash[i] = (CK_BYTE)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (CK_BYTE)i;

	/* CKM_ECDSA over a 32-byte hash, a 20-byte one and a 64-byte one (truncated). */
	const CK_ULONG lens[] = { 32, 20, 64, 1 };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OK);
		sig_len = sizeof(sig);
		assert_int_equal(ta_C_Sign(f->c, h, hash, lens[i], sig, &sig_len), CKR_OK);
		assert_int_equal(sig_len, 64);
		assert_true(verify_p256(q, hash, lens[i], sig));
	}
	/* A signature does not verify for another hash. */
	hash[0] ^= 1;
	assert_false(verify_p256(q, hash, 32, sig));

	/* CKM_ECDSA_SHA256, single-part. */
	SHA256(msg, sizeof(msg), digest);
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa_sha256, priv), CKR_OK);
	sig_len = sizeof(sig);
	assert_int_equal(ta_C_Sign(f->c, h, msg, sizeof(msg), sig, &sig_len), CKR_OK);
	assert_int_equal(sig_len, 64);
	assert_true(verify_p256(q, digest, sizeof(digest), sig));

	/* Multi-part, in uneven pieces. */
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa_sha256, priv), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, h, msg, 1), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, h, msg + 1, 0), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, h, msg + 1, 200), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, h, msg + 201, sizeof(msg) - 201), CKR_OK);
	sig_len = sizeof(sig);
	assert_int_equal(ta_C_SignFinal(f->c, h, sig, &sig_len), CKR_OK);
	assert_int_equal(sig_len, 64);
	assert_true(verify_p256(q, digest, sizeof(digest), sig));
	assert_int_equal(ta_C_SignFinal(f->c, h, sig, &sig_len), CKR_OPERATION_NOT_INITIALIZED);
}

static void test_sign_requires_login(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE hash[32] = { 1 }, sig[64];
	CK_ULONG sig_len = sizeof(sig);
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE a = { CKA_CLASS, &cls, sizeof(cls) };

	h = user_session(f);
	assert_int_equal(gen_p256(f, h, &yes, "login-key", &yes, &pub, &priv), CKR_OK);
	/* An operation started while logged in ends with the login. */
	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_OK);
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, hash, sizeof(hash), sig, &sig_len),
			 CKR_OPERATION_NOT_INITIALIZED);

	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, priv, &a, 1), CKR_OBJECT_HANDLE_INVALID);
	/* The public half stays readable. */
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, pub, &a, 1), CKR_OK);
	assert_int_equal(cls, CKO_PUBLIC_KEY);

	/* The handle is stable: logging in again makes it usable. */
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, hash, sizeof(hash), sig, &sig_len), CKR_OK);
}

static void test_sign_operation_rules(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 };
	CK_MECHANISM sha = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE param[4] = { 0 };
	CK_MECHANISM with_param = { CKM_ECDSA, param, sizeof(param) };
	CK_MECHANISM unknown = { CKM_MD5, NULL, 0 };
	CK_MECHANISM keygen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_SESSION_HANDLE h, h2;
	CK_OBJECT_HANDLE pub, priv, pub2, nosign;
	CK_BYTE hash[65] = { 3 }, sig[64], q[65];
	CK_ULONG sig_len;

	h = user_session(f);
	assert_int_equal(gen_p256(f, h, &no, "ops", &yes, &pub, &priv), CKR_OK);
	assert_int_equal(gen_p256(f, h, &no, "nosign", &no, &pub2, &nosign), CKR_OK);
	ec_point(f, h, pub, q);

	/* The policy check. */
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, 0x12345), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, pub), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, nosign), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(ta_C_SignInit(f->c, h, &unknown, priv), CKR_MECHANISM_INVALID);
	assert_int_equal(ta_C_SignInit(f->c, h, &keygen, priv), CKR_MECHANISM_INVALID);
	assert_int_equal(ta_C_SignInit(f->c, h, &with_param, priv), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(ta_C_SignInit(f->c, h, NULL, priv), CKR_ARGUMENTS_BAD);

	/* Nothing active yet. */
	sig_len = sizeof(sig);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, sig, &sig_len),
			 CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_SignUpdate(f->c, h, hash, 32), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_SignFinal(f->c, h, sig, &sig_len), CKR_OPERATION_NOT_INITIALIZED);

	/* One operation per session; another session is free. */
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OK);
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OPERATION_ACTIVE);
	h2 = open_session(f, false);
	assert_int_equal(ta_C_SignInit(f->c, h2, &ecdsa, priv), CKR_OK);
	assert_int_equal(ta_C_CloseSession(f->c, h2), CKR_OK);

	/* A size query and a short buffer keep the operation; success ends it. */
	sig_len = 0;
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, NULL, &sig_len), CKR_OK);
	assert_int_equal(sig_len, 64);
	sig_len = 63;
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, sig, &sig_len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(sig_len, 64);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, sig, &sig_len), CKR_OK);
	assert_true(verify_p256(q, hash, 32, sig));
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, sig, &sig_len),
			 CKR_OPERATION_NOT_INITIALIZED);

	/* CKM_ECDSA: 1..64 bytes of hash; a bad length ends the operation. */
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OK);
	sig_len = sizeof(sig);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 65, sig, &sig_len), CKR_DATA_LEN_RANGE);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, sig, &sig_len),
			 CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 0, sig, &sig_len), CKR_DATA_LEN_RANGE);

	/* CKM_ECDSA is single-part only. */
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, h, hash, 32), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OK);
	assert_int_equal(ta_C_SignInit(f->c, h, &sha, priv), CKR_OPERATION_ACTIVE);
	sig_len = sizeof(sig);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, sig, &sig_len), CKR_OK);

	/* No C_Sign after C_SignUpdate; it ends the operation. */
	assert_int_equal(ta_C_SignInit(f->c, h, &sha, priv), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, h, hash, 10), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 10, sig, &sig_len), CKR_OPERATION_ACTIVE);
	assert_int_equal(ta_C_SignFinal(f->c, h, sig, &sig_len), CKR_OPERATION_NOT_INITIALIZED);

	/* Multi-part size query and short buffer keep the operation too. */
	assert_int_equal(ta_C_SignInit(f->c, h, &sha, priv), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, h, hash, 10), CKR_OK);
	assert_int_equal(ta_C_SignFinal(f->c, h, NULL, &sig_len), CKR_OK);
	assert_int_equal(sig_len, 64);
	sig_len = 10;
	assert_int_equal(ta_C_SignFinal(f->c, h, sig, &sig_len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(sig_len, 64);
	assert_int_equal(ta_C_SignFinal(f->c, h, sig, &sig_len), CKR_OK);
	CK_BYTE digest[32];
	SHA256(hash, 10, digest);
	assert_true(verify_p256(q, digest, 32, sig));

	/* A key destroyed under an active operation. */
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_OK);
	assert_int_equal(ta_C_DestroyObject(f->c, h, priv), CKR_OK);
	sig_len = sizeof(sig);
	assert_int_equal(ta_C_Sign(f->c, h, hash, 32, sig, &sig_len), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(ta_C_SignInit(f->c, h, &ecdsa, priv), CKR_KEY_HANDLE_INVALID);
}

static void test_always_authenticate_context_login(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM m = { CKM_ECDSA, NULL, 0 };
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pt[] = { { CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) } };
	CK_ATTRIBUTE kt[] = { { CKA_ALWAYS_AUTHENTICATE, &yes, 1 } };
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE hash[32] = { 9 }, sig[64], q[65];
	CK_ULONG sig_len = sizeof(sig);

	h = user_session(f);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, h, &gen, pt, 1, kt, 1, &pub, &priv), CKR_OK);
	ec_point(f, h, pub, q);
	assert_int_equal(login(f, h, CKU_CONTEXT_SPECIFIC, USER_PIN),
			 CKR_OPERATION_NOT_INITIALIZED);

	/* Without the context login the operation is refused (and ends). */
	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, hash, sizeof(hash), sig, &sig_len),
			 CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(ta_C_Sign(f->c, h, hash, sizeof(hash), sig, &sig_len),
			 CKR_OPERATION_NOT_INITIALIZED);

	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_OK);
	assert_int_equal(login(f, h, CKU_CONTEXT_SPECIFIC, "bad-pin!"), CKR_PIN_INCORRECT);
	assert_true(token_flags(f) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(login(f, h, CKU_CONTEXT_SPECIFIC, USER_PIN), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, hash, sizeof(hash), sig, &sig_len), CKR_OK);
	assert_true(verify_p256(q, hash, sizeof(hash), sig));
	/* Each operation needs its own context login. */
	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, hash, sizeof(hash), sig, &sig_len),
			 CKR_USER_NOT_LOGGED_IN);
}

/* Concurrent use: each thread is one client with its own session and key. */
struct worker {
	struct ta *ta;
	int failures;
};

static void *sign_worker(void *arg)
{
	struct worker *w = arg;
	struct ta_client *c = NULL;
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_ATTRIBUTE pt[] = { { CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) } };
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE der[67], msg[16] = "concurrent", sig[64], digest[32];
	CK_ATTRIBUTE a = { CKA_EC_POINT, der, sizeof(der) };
	CK_ULONG sig_len;

	if (ta_client_new(w->ta, &c) != CKR_OK ||
	    ta_C_OpenSession(c, TA_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, &h) != CKR_OK ||
	    ta_C_Login(c, h, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)) != CKR_OK ||
	    ta_C_GenerateKeyPair(c, h, &gen, pt, 1, NULL, 0, &pub, &priv) != CKR_OK ||
	    ta_C_GetAttributeValue(c, h, pub, &a, 1) != CKR_OK) {
		w->failures++;
		goto out;
	}
	SHA256(msg, sizeof(msg), digest);
	for (int i = 0; i < 20; i++) {
		sig_len = sizeof(sig);
		if (ta_C_SignInit(c, h, &m, priv) != CKR_OK ||
		    ta_C_Sign(c, h, msg, sizeof(msg), sig, &sig_len) != CKR_OK ||
		    !verify_p256(der + 2, digest, sizeof(digest), sig))
			w->failures++;
	}
out:
	ta_client_free(c);
	return NULL;
}

static void test_concurrent_clients(void **state)
{
	struct fx *f = *state;
	pthread_t th[4];
	struct worker w[4];

	init_token(f);
	for (int i = 0; i < 4; i++) {
		w[i].ta = f->ta;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, sign_worker, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
}

/* --- persistence and the sealed store --- */

static void test_token_objects_persist(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv, pub_s, priv_s, found[8];
	CK_ATTRIBUTE by_label[] = { { CKA_LABEL, (void *)"kept", 4 } };
	CK_OBJECT_CLASS pk = CKO_PRIVATE_KEY, pubc = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE priv_tmpl[] = { by_label[0], { CKA_CLASS, &pk, sizeof(pk) } };
	CK_ATTRIBUTE pub_tmpl[] = { by_label[0], { CKA_CLASS, &pubc, sizeof(pubc) } };
	CK_ULONG n;

	h = user_session(f);
	assert_int_equal(gen_p256(f, h, &yes, "kept", &yes, &pub, &priv), CKR_OK);
	assert_int_equal(gen_p256(f, h, &no, "lost", &yes, &pub_s, &priv_s), CKR_OK);
	char names[8][64];
	assert_int_equal(object_files(f, names, 8), 2);

	fx_reopen(f);
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	n = find_all(f, h, NULL, 0, found, 8);
	assert_int_equal(n, 2);
	assert_int_equal(find_all(f, h, priv_tmpl, 2, &priv, 1), 1);
	assert_int_equal(find_all(f, h, pub_tmpl, 2, &pub, 1), 1);
	sign_and_verify(f, h, pub, priv);
	/* Stable handles: finding again gives the same ones. */
	CK_OBJECT_HANDLE again;
	assert_int_equal(find_all(f, h, priv_tmpl, 2, &again, 1), 1);
	assert_int_equal(again, priv);
}

static void test_session_objects_end_with_session(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE a, b;
	CK_OBJECT_HANDLE pub, priv, found[4];
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE attr = { CKA_CLASS, &cls, sizeof(cls) };
	struct ta_client *other = NULL;
	CK_SESSION_HANDLE theirs;
	CK_ULONG got = 9;

	a = user_session(f);
	b = open_session(f, false);
	assert_int_equal(gen_p256(f, a, &no, "ephemeral", &yes, &pub, &priv), CKR_OK);
	/* Visible from every session of the client... */
	assert_int_equal(find_all(f, b, NULL, 0, found, 4), 2);
	assert_int_equal(ta_C_GetAttributeValue(f->c, b, pub, &attr, 1), CKR_OK);
	/* ...but not to another client. */
	assert_int_equal(ta_client_new(f->ta, &other), CKR_OK);
	assert_int_equal(ta_C_OpenSession(other, TA_SLOT_ID, CKF_SERIAL_SESSION, &theirs), CKR_OK);
	assert_int_equal(ta_C_FindObjectsInit(other, theirs, NULL, 0), CKR_OK);
	assert_int_equal(ta_C_FindObjects(other, theirs, found, 4, &got), CKR_OK);
	assert_int_equal(got, 0);
	assert_int_equal(ta_C_GetAttributeValue(other, theirs, pub, &attr, 1),
			 CKR_OBJECT_HANDLE_INVALID);
	ta_client_free(other);

	/* Closing the creating session destroys them. */
	assert_int_equal(ta_C_CloseSession(f->c, a), CKR_OK);
	assert_int_equal(ta_C_GetAttributeValue(f->c, b, pub, &attr, 1), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(find_all(f, b, NULL, 0, found, 4), 0);
	char names[4][64];
	assert_int_equal(object_files(f, names, 4), 0);
}

static void test_sealed_store_refuses_tampered_and_swapped(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv, found[8];
	char names[8][64], path[128], path2[128];
	CK_BYTE label[16];
	CK_ATTRIBUTE la = { CKA_LABEL, label, sizeof(label) };
	int fd;

	h = user_session(f);
	assert_int_equal(gen_p256(f, h, &yes, "one", &yes, &pub, &priv), CKR_OK);
	assert_int_equal(gen_p256(f, h, &yes, "two", &yes, &pub, &priv), CKR_OK);
	fx_close(f);
	assert_int_equal(object_files(f, names, 8), 4);

	/* names[0]: one byte flipped. */
	file_path(f, names[0], path, sizeof(path));
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	CK_BYTE byte;
	assert_int_equal(pread(fd, &byte, 1, 40), 1);
	byte ^= 0x20;
	assert_int_equal(pwrite(fd, &byte, 1, 40), 1);
	close(fd);
	/* names[2] replaced by a copy of names[1]: valid ciphertext, wrong object id. */
	file_path(f, names[1], path, sizeof(path));
	file_path(f, names[2], path2, sizeof(path2));
	FILE *in = fopen(path, "rb");
	FILE *out = fopen(path2, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf), in);
	assert_true(n > 0);
	assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
	/* A stray temporary file from an interrupted write. */
	file_path(f, ".tmp.obj-0000000000000001", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);

	fx_open(f);
	h = open_session(f, true);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	/* Only the two intact files load, and the copy did not load as a second object. */
	assert_int_equal(find_all(f, h, NULL, 0, found, 8), 2);
	CK_BYTE first[16];
	CK_ULONG first_len;
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, found[0], &la, 1), CKR_OK);
	memcpy(first, label, la.ulValueLen);
	first_len = la.ulValueLen;
	la.ulValueLen = sizeof(label);
	CK_OBJECT_CLASS c0, c1;
	CK_ATTRIBUTE ca = { CKA_CLASS, &c0, sizeof(c0) };
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, found[0], &ca, 1), CKR_OK);
	ca.pValue = &c1;
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, found[1], &ca, 1), CKR_OK);
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, found[1], &la, 1), CKR_OK);
	assert_false(c0 == c1 && first_len == la.ulValueLen &&
		     memcmp(first, label, first_len) == 0);
	/* The refused files are left for inspection; the temporary file is gone. */
	assert_int_equal(object_files(f, names, 8), 4);
	file_path(f, ".tmp.obj-0000000000000001", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
}

static void test_root_key_and_store_files(void **state)
{
	struct fx *f = *state;
	char path[128];
	struct stat st;
	struct ta *second = NULL;

	file_path(f, "root.key", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_mode & 0777, 0600);
	file_path(f, "token", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	/* The store is locked while open. */
	assert_int_not_equal(ta_open(&f->cfg, &second), CKR_OK);
	assert_null(second);
	/* A token record from another root key is refused, not replaced. */
	fx_close(f);
	file_path(f, "root.key", path, sizeof(path));
	FILE *k = fopen(path, "r+b");
	int b0 = 0;
	assert_non_null(k);
	/* Flip the first byte: writing a constant left the key as it was when its first byte
	 * happened to be that constant (one run in 256). */
	b0 = fgetc(k);
	assert_int_not_equal(b0, EOF);
	assert_int_equal(fseek(k, 0, SEEK_SET), 0);
	assert_int_equal(fputc(b0 ^ 0xff, k), b0 ^ 0xff);
	fclose(k);
	assert_int_equal(ta_open(&f->cfg, &f->ta), CKR_DEVICE_ERROR);
	assert_null(f->ta);
	/* teardown closes NULLs */
}

/* --- §5.7 find and destroy --- */

static void test_find_objects(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub1, priv1, pub2, priv2, found[8];
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE by_label[] = { { CKA_LABEL, (void *)"alpha", 5 } };
	CK_ATTRIBUTE by_class[] = { { CKA_CLASS, &pubc, sizeof(pubc) } };
	CK_ATTRIBUTE both[] = { by_label[0], by_class[0] };
	CK_ATTRIBUTE nomatch[] = { { CKA_LABEL, (void *)"alph", 4 } };
	CK_ULONG got;

	h = user_session(f);
	assert_int_equal(gen_p256(f, h, &yes, "alpha", &yes, &pub1, &priv1), CKR_OK);
	assert_int_equal(gen_p256(f, h, &no, "beta", &yes, &pub2, &priv2), CKR_OK);

	assert_int_equal(find_all(f, h, by_label, 1, found, 8), 2);
	assert_true((found[0] == pub1 && found[1] == priv1) ||
		    (found[0] == priv1 && found[1] == pub1));
	assert_int_equal(find_all(f, h, by_class, 1, found, 8), 2);
	assert_true((found[0] == pub1 && found[1] == pub2) ||
		    (found[0] == pub2 && found[1] == pub1));
	assert_int_equal(find_all(f, h, both, 2, found, 8), 1);
	assert_int_equal(found[0], pub1);
	assert_int_equal(find_all(f, h, nomatch, 1, found, 8), 0);

	/* Results come out in batches. */
	assert_int_equal(ta_C_FindObjectsInit(f->c, h, NULL, 0), CKR_OK);
	assert_int_equal(ta_C_FindObjectsInit(f->c, h, NULL, 0), CKR_OPERATION_ACTIVE);
	assert_int_equal(ta_C_FindObjects(f->c, h, found, 3, &got), CKR_OK);
	assert_int_equal(got, 3);
	assert_int_equal(ta_C_FindObjects(f->c, h, found + 3, 3, &got), CKR_OK);
	assert_int_equal(got, 1);
	assert_int_equal(ta_C_FindObjects(f->c, h, found, 3, &got), CKR_OK);
	assert_int_equal(got, 0);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, h, found, 3, &got), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OPERATION_NOT_INITIALIZED);

	/* A sensitive value is never a search key. */
	CK_BYTE zero[32] = { 0 };
	CK_ATTRIBUTE by_value[] = { { CKA_VALUE, zero, sizeof(zero) } };
	assert_int_equal(find_all(f, h, by_value, 1, found, 8), 0);

	/* Logged out: private objects are not found (and private session objects are gone). */
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	assert_int_equal(find_all(f, h, NULL, 0, found, 8), 2);
	assert_int_equal(find_all(f, h, by_label, 1, found, 8), 1);
	assert_int_equal(found[0], pub1);
	assert_int_equal(login(f, h, CKU_USER, USER_PIN), CKR_OK);
	assert_int_equal(find_all(f, h, NULL, 0, found, 8), 3);
}

static void test_destroy_object(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_SESSION_HANDLE rw, ro;
	CK_OBJECT_HANDLE pub, priv, pub2, priv2, found[4];
	CK_ATTRIBUTE pt[] = { { CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
			      { CKA_TOKEN, &yes, 1 },
			      { CKA_DESTROYABLE, &no, 1 } };
	char names[8][64];

	rw = user_session(f);
	ro = open_session(f, false);
	assert_int_equal(gen_p256(f, rw, &yes, "gone", &yes, &pub, &priv), CKR_OK);
	assert_int_equal(object_files(f, names, 8), 2);
	assert_int_equal(ta_C_DestroyObject(f->c, ro, priv), CKR_SESSION_READ_ONLY);
	assert_int_equal(ta_C_DestroyObject(f->c, rw, priv), CKR_OK);
	assert_int_equal(object_files(f, names, 8), 1);
	assert_int_equal(ta_C_DestroyObject(f->c, rw, priv), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(ta_C_DestroyObject(f->c, rw, 0), CKR_OBJECT_HANDLE_INVALID);
	assert_int_equal(ta_C_DestroyObject(f->c, rw, pub), CKR_OK);
	assert_int_equal(object_files(f, names, 8), 0);

	assert_int_equal(ta_C_GenerateKeyPair(f->c, rw, &m, pt, 3, NULL, 0, &pub2, &priv2), CKR_OK);
	assert_int_equal(ta_C_DestroyObject(f->c, rw, pub2), CKR_ACTION_PROHIBITED);
	assert_int_equal(ta_C_DestroyObject(f->c, rw, priv2), CKR_OK);
	fx_reopen(f);
	rw = open_session(f, true);
	assert_int_equal(find_all(f, rw, NULL, 0, found, 4), 1);
}

/* --- mechanisms and random --- */

static void test_mechanism_list_and_info(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM_TYPE list[64];
	CK_ULONG n = 0, total = 0;
	CK_MECHANISM_INFO mi;
	bool seen_gen = false, seen_ecdsa = false;

	/* The full table is checked mechanism by mechanism in test_ta_mechs.c. */
	assert_int_equal(ta_C_GetMechanismList(f->c, TA_SLOT_ID, NULL, &total), CKR_OK);
	assert_true(total > 3 && total <= 64);
	n = 1;
	assert_int_equal(ta_C_GetMechanismList(f->c, TA_SLOT_ID, list, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, total);
	n = 64;
	assert_int_equal(ta_C_GetMechanismList(f->c, TA_SLOT_ID, list, &n), CKR_OK);
	assert_int_equal(n, total);
	for (CK_ULONG i = 0; i < n; i++) {
		seen_gen |= list[i] == CKM_EC_KEY_PAIR_GEN;
		seen_ecdsa |= list[i] == CKM_ECDSA_SHA256;
	}
	assert_true(seen_gen && seen_ecdsa);
	assert_int_equal(ta_C_GetMechanismList(f->c, 5, list, &n), CKR_SLOT_ID_INVALID);

	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_EC_KEY_PAIR_GEN, &mi), CKR_OK);
	assert_int_equal(mi.ulMinKeySize, 256);
	assert_int_equal(mi.ulMaxKeySize, 521);
	assert_int_equal(mi.flags, CKF_HW | CKF_GENERATE_KEY_PAIR | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
					   CKF_EC_UNCOMPRESS);
	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_ECDSA_SHA256, &mi), CKR_OK);
	assert_int_equal(mi.flags, CKF_HW | CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
					   CKF_EC_UNCOMPRESS);
	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_MD5, &mi),
			 CKR_MECHANISM_INVALID);
	assert_int_equal(ta_C_GetMechanismInfo(f->c, 1, CKM_ECDSA, &mi), CKR_SLOT_ID_INVALID);
}

static void test_generate_random(void **state)
{
	struct fx *f = *state;
	CK_BYTE a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };
	CK_SESSION_HANDLE h;

	assert_int_equal(ta_C_GenerateRandom(f->c, 0x1234, a, sizeof(a)),
			 CKR_SESSION_HANDLE_INVALID);
	h = open_session(f, false);
	assert_int_equal(ta_C_GenerateRandom(f->c, h, a, sizeof(a)), CKR_OK);
	assert_int_equal(ta_C_GenerateRandom(f->c, h, b, sizeof(b)), CKR_OK);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(ta_C_GenerateRandom(f->c, h, NULL, 4), CKR_ARGUMENTS_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_slot_list_and_slot_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_info_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_token_and_init_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_wrong_pin_counters_and_lockout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_login_states_and_session_info, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_handles_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_key_pair_template_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_attribute_value_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecdsa_sign_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_requires_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_operation_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_always_authenticate_context_login, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_objects_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_objects_end_with_session, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sealed_store_refuses_tampered_and_swapped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_key_and_store_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mechanism_list_and_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generate_random, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
