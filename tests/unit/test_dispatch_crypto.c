/*
 * The calls beyond the walking skeleton, through the whole stack without a network: the real
 * client module on an in-process transport into server/dispatch and the token core. What is
 * checked here is the wire: arguments, structured mechanism parameters, the size-query and
 * CKR_BUFFER_TOO_SMALL conventions, data larger than a frame, and outputs verified with OpenSSL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "proto/codec.h"
#include "dispatch.h"
#include "transport.h"
#include "fixture_module.h"

/* More than one frame (CODEC_DEFAULT_MAX_FRAME) of data. */
#define BIG_LEN ((CODEC_DEFAULT_MAX_FRAME * 3) / 2)

static const CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* ---- fixture: a fresh token, the module on the loop transport, a user session ---- */

static int fx_setup(void **state)
{
	static const struct fx_module_params p = {
		.dir_template = "/tmp/teehsm-dcrypto-XXXXXX",
		.label = "crypto",
		.user_session = true,
	};

	return fx_module_setup(state, &p);
}

static int fx_teardown(void **state)
{
	return fx_module_teardown(state);
}

/* A session AES key of known value, imported with C_CreateObject. */
static CK_OBJECT_HANDLE aes_key(struct fx *fx, const CK_BYTE *value, CK_ULONG len)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },   { CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE, (void *)value, len },  { CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_int_equal(fx->f->C_CreateObject(fx->s, t, 5, &h), CKR_OK);
	return h;
}

static CK_BYTE *big_data(void)
{
	CK_BYTE *d = malloc(BIG_LEN);

	assert_non_null(d);
	for (size_t i = 0; i < BIG_LEN; i++)
		d[i] = (CK_BYTE)(i * 31 + 7);
	return d;
}

/* ---- §5.4: the module's function list ---- */

static void test_5_4_function_list_complete(void **state)
{
	struct fx *fx = *state;
	/* Every entry after the version is a function pointer: all 68 must be set. */
	const size_t n = (sizeof(CK_FUNCTION_LIST) - offsetof(CK_FUNCTION_LIST, C_Initialize)) /
			 sizeof(void (*)(void));
	void (*const *fn)(void) = (void (*const *)(void))(const void *)&fx->f->C_Initialize;
	CK_BYTE state_buf[16];
	CK_ULONG len = sizeof(state_buf);
	CK_SLOT_ID slot = 0;

	assert_int_equal(n, 68);
	for (size_t i = 0; i < n; i++)
		assert_non_null(fn[i]);
	/* Answered by the module itself. */
	assert_int_equal(fx->f->C_GetOperationState(fx->s, state_buf, &len),
			 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(fx->f->C_SetOperationState(fx->s, state_buf, len, 0, 0),
			 CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(fx->f->C_GetFunctionStatus(fx->s), CKR_FUNCTION_NOT_PARALLEL);
	assert_int_equal(fx->f->C_CancelFunction(fx->s), CKR_FUNCTION_NOT_PARALLEL);
	assert_int_equal(fx->f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL),
			 CKR_FUNCTION_NOT_SUPPORTED);
}

/* ---- §5.5 C_SetPIN, §5.15 C_SeedRandom ---- */

static void test_5_5_set_pin(void **state)
{
	struct fx *fx = *state;
	const char *new_pin = "new-user-5678";

	assert_int_equal(fx->f->C_SetPIN(fx->s, NULL, 4, (CK_UTF8CHAR_PTR)new_pin, 4),
			 CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_SetPIN(fx->s, (CK_UTF8CHAR_PTR) "wrong-pin", 9,
					 (CK_UTF8CHAR_PTR)new_pin, strlen(new_pin)),
			 CKR_PIN_INCORRECT);
	assert_int_equal(fx->f->C_SetPIN(fx->s, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN),
					 (CK_UTF8CHAR_PTR)new_pin, strlen(new_pin)),
			 CKR_OK);
	assert_int_equal(fx->f->C_Logout(fx->s), CKR_OK);
	assert_int_equal(
		fx->f->C_Login(fx->s, CKU_USER, (CK_UTF8CHAR_PTR)USER_PIN, strlen(USER_PIN)),
		CKR_PIN_INCORRECT);
	assert_int_equal(fx->f->C_Login(fx->s, CKU_USER, (CK_UTF8CHAR_PTR)new_pin, strlen(new_pin)),
			 CKR_OK);
	/* The token's answer to seeding travels (its generator takes no outside seed). */
	assert_int_equal(fx->f->C_SeedRandom(fx->s, (CK_BYTE_PTR) "seed", 4),
			 CKR_RANDOM_SEED_NOT_SUPPORTED);
	assert_int_equal(fx->f->C_SeedRandom(fx->s, NULL, 4), CKR_ARGUMENTS_BAD);
}

/* ---- §5.7 object management ---- */

static void test_5_7_create_copy_size_set(void **state)
{
	struct fx *fx = *state;
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL no = CK_FALSE;
	CK_BYTE value[] = "payload bytes";
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_TOKEN, &no, sizeof(no) },
		{ CKA_LABEL, "one", 3 },
		{ CKA_VALUE, value, sizeof(value) },
	};
	CK_ATTRIBUTE relabel = { CKA_LABEL, "two", 3 };
	CK_ATTRIBUTE relabel3 = { CKA_LABEL, "three", 5 };
	char label[16];
	CK_BYTE got[32];
	CK_ATTRIBUTE get[] = { { CKA_LABEL, label, sizeof(label) },
			       { CKA_VALUE, got, sizeof(got) } };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, h2 = CK_INVALID_HANDLE;
	CK_ULONG size = 0;

	assert_int_equal(fx->f->C_CreateObject(fx->s, t, 4, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_CreateObject(fx->s, NULL, 4, &h), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_CreateObject(fx->s, t, 4, &h), CKR_OK);
	assert_int_not_equal(h, CK_INVALID_HANDLE);
	assert_int_equal(fx->f->C_GetObjectSize(fx->s, h, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_GetObjectSize(fx->s, h, &size), CKR_OK);
	assert_true(size > 0 && size != CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(fx->f->C_GetObjectSize(fx->s, h + 1000, &size), CKR_OBJECT_HANDLE_INVALID);

	assert_int_equal(fx->f->C_CopyObject(fx->s, h, &relabel, 1, &h2), CKR_OK);
	assert_int_not_equal(h2, h);
	assert_int_equal(fx->f->C_GetAttributeValue(fx->s, h2, get, 2), CKR_OK);
	assert_int_equal(get[0].ulValueLen, 3);
	assert_memory_equal(label, "two", 3);
	assert_int_equal(get[1].ulValueLen, sizeof(value));
	assert_memory_equal(got, value, sizeof(value));

	assert_int_equal(fx->f->C_SetAttributeValue(fx->s, h, &relabel3, 1), CKR_OK);
	get[0].ulValueLen = sizeof(label);
	assert_int_equal(fx->f->C_GetAttributeValue(fx->s, h, get, 1), CKR_OK);
	assert_int_equal(get[0].ulValueLen, 5);
	assert_memory_equal(label, "three", 5);
	/* The token's template errors travel as they are. */
	cls = CKO_DATA;
	relabel.type = CKA_CLASS;
	relabel.pValue = &cls;
	relabel.ulValueLen = sizeof(cls);
	assert_int_equal(fx->f->C_SetAttributeValue(fx->s, h, &relabel, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
}

/* ---- §5.10 digests: size query, BUFFER_TOO_SMALL, multi-part, data beyond a frame ---- */

static void test_5_10_digest(void **state)
{
	struct fx *fx = *state;
	CK_MECHANISM sha256 = { CKM_SHA256, NULL, 0 };
	const char *msg = "abc";
	CK_BYTE want[SHA256_DIGEST_LENGTH], got[64], small[8];
	CK_ULONG len = 0;
	CK_BYTE *big = big_data();

	SHA256((const unsigned char *)msg, 3, want);
	assert_int_equal(fx->f->C_DigestInit(fx->s, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_DigestInit(fx->s, &sha256), CKR_OK);
	assert_int_equal(fx->f->C_Digest(fx->s, (CK_BYTE_PTR)msg, 3, got, NULL), CKR_ARGUMENTS_BAD);
	/* Refused arguments end the token's operation too (the module tells it so). */
	assert_int_equal(fx->f->C_Digest(fx->s, (CK_BYTE_PTR)msg, 3, NULL, &len),
			 CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(fx->f->C_DigestInit(fx->s, &sha256), CKR_OK);
	assert_int_equal(fx->f->C_Digest(fx->s, (CK_BYTE_PTR)msg, 3, NULL, &len), CKR_OK);
	assert_int_equal(len, 32);
	len = sizeof(small);
	assert_int_equal(fx->f->C_Digest(fx->s, (CK_BYTE_PTR)msg, 3, small, &len),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 32);
	len = sizeof(got);
	assert_int_equal(fx->f->C_Digest(fx->s, (CK_BYTE_PTR)msg, 3, got, &len), CKR_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(got, want, 32);

	/* An update larger than a frame is split by the module: same digest as OpenSSL's. */
	SHA256(big, BIG_LEN, want);
	assert_int_equal(fx->f->C_DigestInit(fx->s, &sha256), CKR_OK);
	assert_int_equal(fx->f->C_DigestUpdate(fx->s, big, 5), CKR_OK);
	assert_int_equal(fx->f->C_DigestUpdate(fx->s, big + 5, BIG_LEN - 5), CKR_OK);
	len = sizeof(got);
	assert_int_equal(fx->f->C_DigestFinal(fx->s, got, &len), CKR_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(got, want, 32);

	/* A one-shot larger than a frame cannot travel; the operation ends with the error. */
	assert_int_equal(fx->f->C_DigestInit(fx->s, &sha256), CKR_OK);
	len = sizeof(got);
	assert_int_equal(fx->f->C_Digest(fx->s, big, BIG_LEN, got, &len), CKR_DEVICE_MEMORY);
	assert_int_equal(fx->f->C_Digest(fx->s, (CK_BYTE_PTR)msg, 3, got, &len),
			 CKR_OPERATION_NOT_INITIALIZED);
	/* Without an operation, the token's own answer comes back. */
	assert_int_equal(fx->f->C_Digest(fx->s, big, BIG_LEN, got, &len),
			 CKR_OPERATION_NOT_INITIALIZED);
	free(big);
}

/* ---- §5.11/§5.12 signatures: data beyond a frame, verify ---- */

static void test_5_11_sign_verify_large(void **state)
{
	struct fx *fx = *state;
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM ecdsa_sha256 = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE pubt[] = { { CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
				{ CKA_VERIFY, &yes, sizeof(yes) } };
	CK_ATTRIBUTE privt[] = { { CKA_SIGN, &yes, sizeof(yes) } };
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE sig[64];
	CK_ULONG len = sizeof(sig);
	CK_BYTE *big = big_data();

	assert_int_equal(fx->f->C_GenerateKeyPair(fx->s, &gen, pubt, 2, privt, 1, &pub, &priv),
			 CKR_OK);
	/* C_Sign with more than a frame: CKR_DATA_LEN_RANGE, and the operation has ended. */
	assert_int_equal(fx->f->C_SignInit(fx->s, &ecdsa_sha256, priv), CKR_OK);
	assert_int_equal(fx->f->C_Sign(fx->s, big, BIG_LEN, sig, &len), CKR_DATA_LEN_RANGE);
	assert_int_equal(fx->f->C_Sign(fx->s, big, 10, sig, &len), CKR_OPERATION_NOT_INITIALIZED);

	/* Multi-part over more than a frame works; C_Verify checks it, also beyond a frame. */
	assert_int_equal(fx->f->C_SignInit(fx->s, &ecdsa_sha256, priv), CKR_OK);
	assert_int_equal(fx->f->C_SignUpdate(fx->s, big, BIG_LEN), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(fx->f->C_SignFinal(fx->s, sig, &len), CKR_OK);
	assert_int_equal(len, 64);
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &ecdsa_sha256, pub), CKR_OK);
	assert_int_equal(fx->f->C_VerifyUpdate(fx->s, big, BIG_LEN), CKR_OK);
	assert_int_equal(fx->f->C_VerifyFinal(fx->s, sig, len), CKR_OK);
	/* One-shot verify of too much data: ended, like C_Sign. */
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &ecdsa_sha256, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, big, BIG_LEN, sig, len), CKR_DATA_LEN_RANGE);
	assert_int_equal(fx->f->C_Verify(fx->s, big, 10, sig, len), CKR_OPERATION_NOT_INITIALIZED);
	/* A one-shot verify of a message that fits, and of a tampered signature. */
	assert_int_equal(fx->f->C_SignInit(fx->s, &ecdsa_sha256, priv), CKR_OK);
	len = sizeof(sig);
	assert_int_equal(fx->f->C_Sign(fx->s, big, 1000, sig, &len), CKR_OK);
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &ecdsa_sha256, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, big, 1000, sig, len), CKR_OK);
	sig[5] ^= 1;
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &ecdsa_sha256, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, big, 1000, sig, len), CKR_SIGNATURE_INVALID);
	/* Ended by the failed verification: no operation to refuse the arguments of. */
	assert_int_equal(fx->f->C_Verify(fx->s, NULL, 3, sig, len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &ecdsa_sha256, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, NULL, 3, sig, len), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_Verify(fx->s, big, 1000, sig, len),
			 CKR_OPERATION_NOT_INITIALIZED);
	free(big);
}

/* ---- §5.8/§5.9 AES-GCM with its CK_GCM_PARAMS through the wire, checked with OpenSSL ---- */

static void openssl_gcm(const CK_BYTE *key, const CK_BYTE *iv, size_t iv_len, const CK_BYTE *aad,
			size_t aad_len, const CK_BYTE *pt, size_t len, CK_BYTE *ct_tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL), 1);
	assert_int_equal(EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, ct_tag, &n, pt, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, ct_tag + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, ct_tag + len), 1);
	EVP_CIPHER_CTX_free(ctx);
}

static void test_5_8_aes_gcm(void **state)
{
	struct fx *fx = *state;
	CK_BYTE key[32], iv[12], aad[7] = "header", pt[40], want[56], ct[64], back[64], small[4];
	CK_GCM_PARAMS gcm = { iv, sizeof(iv), 96, aad, sizeof(aad), 128 };
	CK_MECHANISM m = { CKM_AES_GCM, &gcm, sizeof(gcm) };
	CK_MECHANISM bad = { CKM_AES_GCM, &gcm, sizeof(gcm) - 1 };
	CK_OBJECT_HANDLE h;
	CK_ULONG len = 0;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (CK_BYTE)(i + 1);
	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (CK_BYTE)(0x40 + i);
	memset(pt, 'p', sizeof(pt));
	openssl_gcm(key, iv, sizeof(iv), aad, sizeof(aad), pt, sizeof(pt), want);
	h = aes_key(fx, key, sizeof(key));

	/* A parameter of the wrong size is refused before anything travels. */
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &bad, h), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &m, h), CKR_OK);
	assert_int_equal(fx->f->C_Encrypt(fx->s, pt, sizeof(pt), NULL, &len), CKR_OK);
	assert_true(len >= sizeof(want));
	len = sizeof(small);
	assert_int_equal(fx->f->C_Encrypt(fx->s, pt, sizeof(pt), small, &len),
			 CKR_BUFFER_TOO_SMALL);
	assert_true(len >= sizeof(want));
	len = sizeof(ct);
	assert_int_equal(fx->f->C_Encrypt(fx->s, pt, sizeof(pt), ct, &len), CKR_OK);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(ct, want, sizeof(want));

	assert_int_equal(fx->f->C_DecryptInit(fx->s, &m, h), CKR_OK);
	len = sizeof(back);
	assert_int_equal(fx->f->C_Decrypt(fx->s, ct, sizeof(want), back, &len), CKR_OK);
	assert_int_equal(len, sizeof(pt));
	assert_memory_equal(back, pt, sizeof(pt));
	/* The AAD really travelled: another one fails authentication. */
	aad[0] ^= 1;
	assert_int_equal(fx->f->C_DecryptInit(fx->s, &m, h), CKR_OK);
	len = sizeof(back);
	assert_int_equal(fx->f->C_Decrypt(fx->s, ct, sizeof(want), back, &len),
			 CKR_ENCRYPTED_DATA_INVALID);
}

/* ---- §5.8/§5.9 multi-part CBC_PAD with its IV as raw bytes, checked with OpenSSL ---- */

static void test_5_8_aes_cbc_pad_multipart(void **state)
{
	struct fx *fx = *state;
	CK_BYTE key[16] = { 3 }, iv[16] = { 9 }, pt[37], want[48], ct[64], back[64];
	CK_MECHANISM m = { CKM_AES_CBC_PAD, iv, sizeof(iv) };
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	CK_ULONG len = 0, total = 0;
	int n = 0, n2 = 0;
	CK_OBJECT_HANDLE h;

	memset(pt, 'q', sizeof(pt));
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, want, &n, pt, sizeof(pt)), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, want + n, &n2), 1);
	assert_int_equal(n + n2, sizeof(want));
	EVP_CIPHER_CTX_free(ctx);
	h = aes_key(fx, key, sizeof(key));

	assert_int_equal(fx->f->C_EncryptInit(fx->s, &m, h), CKR_OK);
	len = sizeof(ct);
	assert_int_equal(fx->f->C_EncryptUpdate(fx->s, pt, 20, ct, &len), CKR_OK);
	total = len;
	len = sizeof(ct) - total;
	assert_int_equal(fx->f->C_EncryptUpdate(fx->s, pt + 20, sizeof(pt) - 20, ct + total, &len),
			 CKR_OK);
	total += len;
	/* A NULL length pointer is refused, and it ends the token's operation as any error but
	 * BUFFER_TOO_SMALL does, though the call is refused before it travels as made. */
	assert_int_equal(fx->f->C_EncryptFinal(fx->s, ct + total, NULL), CKR_ARGUMENTS_BAD);
	len = sizeof(ct) - total;
	assert_int_equal(fx->f->C_EncryptFinal(fx->s, ct + total, &len),
			 CKR_OPERATION_NOT_INITIALIZED);

	total = 0;
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &m, h), CKR_OK);
	len = sizeof(ct);
	assert_int_equal(fx->f->C_EncryptUpdate(fx->s, pt, sizeof(pt), ct, &len), CKR_OK);
	total = len;
	len = sizeof(ct) - total;
	assert_int_equal(fx->f->C_EncryptFinal(fx->s, NULL, &len), CKR_OK);
	assert_int_equal(fx->f->C_EncryptFinal(fx->s, ct + total, &len), CKR_OK);
	total += len;
	assert_int_equal(total, sizeof(want));
	assert_memory_equal(ct, want, sizeof(want));

	assert_int_equal(fx->f->C_DecryptInit(fx->s, &m, h), CKR_OK);
	len = sizeof(back);
	assert_int_equal(fx->f->C_DecryptUpdate(fx->s, ct, sizeof(want), back, &len), CKR_OK);
	total = len;
	len = sizeof(back) - total;
	assert_int_equal(fx->f->C_DecryptFinal(fx->s, back + total, &len), CKR_OK);
	total += len;
	assert_int_equal(total, sizeof(pt));
	assert_memory_equal(back, pt, sizeof(pt));
}

/* ---- §5.14 key management: local argument checks, C_GenerateKey ---- */

static void test_5_14_key_management_arguments(void **state)
{
	struct fx *fx = *state;
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_MECHANISM wrap = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_ECDH1_DERIVE_PARAMS ecdh = { CKD_NULL, 0, NULL, 0, NULL };
	CK_MECHANISM derive = { CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh) - 1 };
	CK_ULONG vlen = 32;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = { { CKA_VALUE_LEN, &vlen, sizeof(vlen) },
			     { CKA_ENCRYPT, &yes, sizeof(yes) } };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, h2 = CK_INVALID_HANDLE;
	CK_BYTE out[64];
	CK_ULONG len = sizeof(out);

	assert_int_equal(fx->f->C_GenerateKey(fx->s, &gen, t, 2, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_GenerateKey(fx->s, NULL, t, 2, &h), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_GenerateKey(fx->s, &gen, t, 2, &h), CKR_OK);
	assert_int_not_equal(h, CK_INVALID_HANDLE);
	/* The token's rules travel back: a CK_ULONG attribute of the wrong size is refused. */
	t[0].ulValueLen = 2;
	assert_int_equal(fx->f->C_GenerateKey(fx->s, &gen, t, 2, &h2), CKR_ATTRIBUTE_VALUE_INVALID);

	assert_int_equal(fx->f->C_WrapKey(fx->s, &wrap, h, h, out, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_WrapKey(fx->s, NULL, h, h, out, &len), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_UnwrapKey(fx->s, &wrap, h, NULL, 8, NULL, 0, &h2),
			 CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_UnwrapKey(fx->s, &wrap, h, out, 8, NULL, 0, NULL),
			 CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_DeriveKey(fx->s, &derive, h, NULL, 0, &h2),
			 CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(fx->f->C_DeriveKey(fx->s, &derive, h, NULL, 2, &h2), CKR_ARGUMENTS_BAD);
	assert_int_equal(fx->f->C_DigestKey(fx->s, h + 1000), CKR_OPERATION_NOT_INITIALIZED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_5_4_function_list_complete, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_5_set_pin, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_7_create_copy_size_set, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_10_digest, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_11_sign_verify_large, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_8_aes_gcm, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_8_aes_cbc_pad_multipart, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_14_key_management_arguments, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
