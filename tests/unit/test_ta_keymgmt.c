/*
 * Key management of the token core through ta.h only: C_WrapKey, C_UnwrapKey and C_DeriveKey
 * (PKCS#11 v2.40 §5.14; Current Mechanisms §2.1, §2.3.10, §2.10, §2.14), and the issue's
 * requirement that a sensitive or unextractable key cannot be obtained by any sequence of
 * calls: one test per path (read, copy, set attribute, wrap, unwrap, derive, digest).
 * Cryptographic results are checked against OpenSSL computations in the test.
 */
#include <ftw.h>
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
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "fixture_ta.h"
#include "ta.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;
static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;
static CK_OBJECT_CLASS cls_private = CKO_PRIVATE_KEY;
static CK_KEY_TYPE kt_aes = CKK_AES;
static CK_KEY_TYPE kt_ec = CKK_EC;

static int setup(void **state)
{
	static const struct fx_ta_params p = {
		.name = "test_ta_keymgmt",
		.user_session = true,
	};

	return fx_ta_setup(state, &p);
}

static int teardown(void **state)
{
	return fx_ta_teardown(state);
}

/* --- helpers --- */

static void fill(CK_BYTE *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (CK_BYTE)(seed * 31 + i * 7 + (i >> 3));
}

/* Import a secret key (session object) with the given value and flags. */
static CK_OBJECT_HANDLE secret_key(struct fx *f, CK_KEY_TYPE kt, const void *v, CK_ULONG len,
				   bool sensitive, bool extractable)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE, (void *)v, len },
		{ CKA_SENSITIVE, sensitive ? &yes : &no, 1 },
		{ CKA_EXTRACTABLE, extractable ? &yes : &no, 1 },
		{ CKA_ENCRYPT, &yes, 1 },
		{ CKA_DECRYPT, &yes, 1 },
		{ CKA_SIGN, &yes, 1 },
		{ CKA_VERIFY, &yes, 1 },
		{ CKA_WRAP, &yes, 1 },
		{ CKA_UNWRAP, &yes, 1 },
	};

	assert_int_equal(ta_C_CreateObject(f->c, f->h, t, N(t), &o), CKR_OK);
	return o;
}

static CK_RV get_attr_rv(struct fx *f, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf,
			 CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, buf, *len };
	CK_RV rv = ta_C_GetAttributeValue(f->c, f->h, o, &a, 1);

	*len = a.ulValueLen;
	return rv;
}

static void get_attr(struct fx *f, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf,
		     CK_ULONG *len)
{
	assert_int_equal(get_attr_rv(f, o, type, buf, len), CKR_OK);
}

static bool get_bool(struct fx *f, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL b = 2;
	CK_ULONG len = sizeof(b);

	get_attr(f, o, type, &b, &len);
	assert_int_equal(len, 1);
	return b == CK_TRUE;
}

/* The unreadable-value check: CKR_ATTRIBUTE_SENSITIVE and no length (§5.7). */
static void assert_value_hidden(struct fx *f, CK_OBJECT_HANDLE o)
{
	CK_BYTE buf[600];
	CK_ULONG len = sizeof(buf);

	memset(buf, 0, sizeof(buf));
	assert_int_equal(get_attr_rv(f, o, CKA_VALUE, buf, &len), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(len, CK_UNAVAILABLE_INFORMATION);
	len = 0;
	assert_int_equal(get_attr_rv(f, o, CKA_VALUE, NULL, &len), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(len, CK_UNAVAILABLE_INFORMATION);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

/* One-shot OpenSSL cipher (no padding unless pad). */
static int ossl_cipher(const EVP_CIPHER *c, int enc, const CK_BYTE *key, const CK_BYTE *iv,
		       bool pad, const CK_BYTE *in, int in_len, CK_BYTE *out)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;

	assert_non_null(x);
	EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	assert_true(EVP_CipherInit_ex(x, c, NULL, key, iv, enc) == 1);
	EVP_CIPHER_CTX_set_padding(x, pad ? 1 : 0);
	if (EVP_CipherUpdate(x, out, &n, in, in_len) != 1 ||
	    EVP_CipherFinal_ex(x, out + n, &m) != 1)
		n = -1 - m;
	EVP_CIPHER_CTX_free(x);
	return n < 0 ? -1 : n + m;
}

static EVP_PKEY *rsa_pub(struct fx *f, CK_OBJECT_HANDLE pub)
{
	CK_BYTE n[512], e[8];
	CK_ULONG nl = sizeof(n), el = sizeof(e);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM *p = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;

	get_attr(f, pub, CKA_MODULUS, n, &nl);
	get_attr(f, pub, CKA_PUBLIC_EXPONENT, e, &el);
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn));
	assert_true(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be));
	p = OSSL_PARAM_BLD_to_param(b);
	assert_true(EVP_PKEY_fromdata_init(ctx) == 1);
	assert_true(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, p) == 1);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	BN_free(bn);
	BN_free(be);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

/* The uncompressed point of a token EC public key (CKA_EC_POINT unwrapped from its DER). */
static void ec_point_of(struct fx *f, CK_OBJECT_HANDLE pub, CK_BYTE q[65])
{
	CK_BYTE pt[80];
	CK_ULONG len = sizeof(pt);

	get_attr(f, pub, CKA_EC_POINT, pt, &len);
	assert_int_equal(len, 67);
	assert_int_equal(pt[0], 0x04);
	assert_int_equal(pt[1], 65);
	memcpy(q, pt + 2, 65);
}

static EVP_PKEY *ec_pub_from_point(const CK_BYTE q[65])
{
	OSSL_PARAM p[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)q, 65);
	p[2] = OSSL_PARAM_construct_end();
	assert_true(EVP_PKEY_fromdata_init(ctx) == 1);
	assert_true(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, p) == 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

/* An OpenSSL P-256 key: its scalar d (32 bytes) and point q (65 bytes). */
static EVP_PKEY *ossl_p256(CK_BYTE d[32], CK_BYTE q[65])
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIGNUM *bn = NULL;
	size_t ql = 0;

	assert_non_null(k);
	assert_true(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1);
	assert_int_equal(BN_bn2binpad(bn, d, 32), 32);
	assert_true(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, q, 65, &ql) == 1);
	assert_int_equal(ql, 65);
	BN_clear_free(bn);
	return k;
}

/* OpenSSL ECDH: the x coordinate of mine * peer. */
static void ossl_ecdh(EVP_PKEY *mine, EVP_PKEY *peer, CK_BYTE z[32])
{
	EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(mine, NULL);
	size_t len = 32;

	assert_true(EVP_PKEY_derive_init(x) == 1);
	assert_true(EVP_PKEY_derive_set_peer(x, peer) == 1);
	assert_true(EVP_PKEY_derive(x, z, &len) == 1);
	assert_int_equal(len, 32);
	EVP_PKEY_CTX_free(x);
}

/* ANSI X9.63 KDF through OpenSSL's own implementation. */
static void ossl_x963(const char *md, const CK_BYTE *z, size_t zl, const CK_BYTE *info, size_t il,
		      CK_BYTE *out, size_t len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL);
	EVP_KDF_CTX *x = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[4];

	assert_non_null(x);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zl);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, il);
	p[3] = OSSL_PARAM_construct_end();
	assert_true(EVP_KDF_derive(x, out, len, p) == 1);
	EVP_KDF_CTX_free(x);
	EVP_KDF_free(kdf);
}

/* Import an EC P-256 private key with scalar d. */
static CK_OBJECT_HANDLE ec_private(struct fx *f, const CK_BYTE d[32], bool sensitive,
				   bool extractable)
{
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_private, sizeof(cls_private) },
		{ CKA_KEY_TYPE, &kt_ec, sizeof(kt_ec) },
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_VALUE, (void *)d, 32 },
		{ CKA_SENSITIVE, sensitive ? &yes : &no, 1 },
		{ CKA_EXTRACTABLE, extractable ? &yes : &no, 1 },
		{ CKA_SIGN, &yes, 1 },
		{ CKA_DERIVE, &yes, 1 },
	};

	assert_int_equal(ta_C_CreateObject(f->c, f->h, t, N(t), &o), CKR_OK);
	return o;
}

/* Derive a key with ECDH1 from base and the peer's public data. */
static CK_RV ecdh_derive(struct fx *f, CK_OBJECT_HANDLE base, CK_ULONG kdf, const CK_BYTE *shared,
			 CK_ULONG shared_len, const CK_BYTE *pub, CK_ULONG pub_len, CK_KEY_TYPE kt,
			 CK_ULONG value_len, bool sensitive, bool extractable,
			 CK_OBJECT_HANDLE *out)
{
	CK_ECDH1_DERIVE_PARAMS p = { kdf, shared_len, (CK_BYTE_PTR)shared, pub_len,
				     (CK_BYTE_PTR)pub };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_SENSITIVE, sensitive ? &yes : &no, 1 },
		{ CKA_EXTRACTABLE, extractable ? &yes : &no, 1 },
		{ CKA_ENCRYPT, &yes, 1 },
		{ CKA_VALUE_LEN, &value_len, sizeof(value_len) },
	};

	return ta_C_DeriveKey(f->c, f->h, &m, base, t, value_len ? N(t) : N(t) - 1, out);
}

/* Unwrap into a session secret key of type kt, readable (not sensitive, extractable). */
static CK_RV unwrap_secret(struct fx *f, CK_MECHANISM *m, CK_OBJECT_HANDLE kek, CK_BYTE *w,
			   CK_ULONG wl, CK_KEY_TYPE kt, bool sensitive, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, 1 },
		{ CKA_SENSITIVE, sensitive ? &yes : &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_ENCRYPT, &yes, 1 },
	};

	return ta_C_UnwrapKey(f->c, f->h, m, kek, w, wl, t, N(t), out);
}

/* --- §5.14 C_WrapKey / C_UnwrapKey with AES (Current Mechanisms §2.14, §2.10) --- */

/* Each AES wrapping mechanism: exact size query, CKR_BUFFER_TOO_SMALL, the wrapped bytes equal
 * OpenSSL's, and the unwrapped session key has the value and the token-set attributes. */
static void test_5_14_wrap_unwrap_aes_round_trips(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[32], key_v[24], iv[16], w[64], want[64], cv[3], cv2[3];
	CK_ULONG wl = 0, len = 0;
	CK_OBJECT_HANDLE kek, key, un;
	CK_MECHANISM mechs[] = {
		{ CKM_AES_KEY_WRAP, NULL, 0 },
		{ CKM_AES_KEY_WRAP_PAD, NULL, 0 },
		{ CKM_AES_CBC_PAD, iv, sizeof(iv) },
	};
	const EVP_CIPHER *ciphers[] = { EVP_aes_256_wrap(), EVP_aes_256_wrap_pad(),
					EVP_aes_256_cbc() };
	const CK_ULONG sizes[] = { 32, 32, 32 };

	fill(kek_v, sizeof(kek_v), 1);
	fill(key_v, sizeof(key_v), 2);
	fill(iv, sizeof(iv), 3);
	kek = secret_key(f, CKK_AES, kek_v, sizeof(kek_v), true, false);
	/* sensitive but extractable: it may leave the token, wrapped */
	key = secret_key(f, CKK_AES, key_v, sizeof(key_v), true, true);
	len = sizeof(cv);
	get_attr(f, key, CKA_CHECK_VALUE, cv, &len);
	for (size_t i = 0; i < N(mechs); i++) {
		int n = ossl_cipher(ciphers[i], 1, kek_v, i == 2 ? iv : NULL, i == 2, key_v,
				    sizeof(key_v), want);

		assert_int_equal(n, sizes[i]);
		wl = 0;
		assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[i], kek, key, NULL, &wl), CKR_OK);
		assert_int_equal(wl, sizes[i]);
		wl = sizes[i] - 1;
		assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[i], kek, key, w, &wl),
				 CKR_BUFFER_TOO_SMALL);
		assert_int_equal(wl, sizes[i]);
		wl = sizeof(w);
		assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[i], kek, key, w, &wl), CKR_OK);
		assert_int_equal(wl, sizes[i]);
		assert_memory_equal(w, want, wl);

		assert_int_equal(unwrap_secret(f, &mechs[i], kek, w, wl, CKK_AES, false, &un),
				 CKR_OK);
		len = sizeof(want);
		get_attr(f, un, CKA_VALUE, want, &len);
		assert_int_equal(len, sizeof(key_v));
		assert_memory_equal(want, key_v, sizeof(key_v));
		len = sizeof(cv2);
		get_attr(f, un, CKA_CHECK_VALUE, cv2, &len);
		assert_memory_equal(cv, cv2, 3);
		/* §4.9-§4.10: not made on the token, so never "always sensitive" etc. */
		assert_false(get_bool(f, un, CKA_LOCAL));
		assert_false(get_bool(f, un, CKA_ALWAYS_SENSITIVE));
		assert_false(get_bool(f, un, CKA_NEVER_EXTRACTABLE));
		assert_false(get_bool(f, un, CKA_TOKEN));
		assert_true(get_bool(f, un, CKA_ENCRYPT));
		assert_int_equal(ta_C_DestroyObject(f->c, f->h, un), CKR_OK);
	}
}

/* The error codes §5.14 names for C_WrapKey and C_UnwrapKey. */
static void test_5_14_wrap_unwrap_errors(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[16], key_v[16], g_v[20], w[64];
	CK_ULONG wl = sizeof(w);
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 };
	CK_OBJECT_HANDLE kek, key, gen, nowrap, un = 1;
	CK_ATTRIBUTE no_type[] = { { CKA_CLASS, &cls_secret, sizeof(cls_secret) } };
	CK_ATTRIBUTE with_len[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_VALUE, key_v, sizeof(key_v) },
	};
	CK_ATTRIBUTE nw[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_VALUE, kek_v, sizeof(kek_v) },
		{ CKA_WRAP, &no, 1 },
	};

	fill(kek_v, sizeof(kek_v), 4);
	fill(key_v, sizeof(key_v), 5);
	fill(g_v, sizeof(g_v), 6);
	kek = secret_key(f, CKK_AES, kek_v, sizeof(kek_v), true, false);
	key = secret_key(f, CKK_AES, key_v, sizeof(key_v), true, true);
	gen = secret_key(f, CKK_GENERIC_SECRET, g_v, sizeof(g_v), true, true);
	assert_int_equal(ta_C_CreateObject(f->c, f->h, nw, N(nw), &nowrap), CKR_OK);

	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, 0x7777, key, w, &wl),
			 CKR_WRAPPING_KEY_HANDLE_INVALID);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, kek, 0x7777, w, &wl),
			 CKR_KEY_HANDLE_INVALID);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, nowrap, key, w, &wl),
			 CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* a generic secret key cannot run AES */
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, gen, key, w, &wl),
			 CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
	/* AES-ECB encrypts but this token does not wrap with it */
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &ecb, kek, key, w, &wl), CKR_MECHANISM_INVALID);
	/* RFC 3394 wraps whole 64-bit blocks: a 20-byte key does not fit KW, but fits KWP */
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, kek, gen, w, &wl), CKR_KEY_SIZE_RANGE);
	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kwp, kek, gen, w, &wl), CKR_OK);
	assert_int_equal(wl, 32);
	assert_int_equal(unwrap_secret(f, &kwp, kek, w, wl, CKK_GENERIC_SECRET, false, &un),
			 CKR_OK);
	/* ... and 20 bytes are no AES key */
	assert_int_equal(unwrap_secret(f, &kwp, kek, w, wl, CKK_AES, false, &un),
			 CKR_WRAPPED_KEY_INVALID);

	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, kek, key, w, &wl), CKR_OK);
	assert_int_equal(wl, 24);
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &kw, 0x7777, w, wl, with_len, 2, &un),
			 CKR_UNWRAPPING_KEY_HANDLE_INVALID);
	assert_int_equal(un, CK_INVALID_HANDLE);
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &kw, gen, w, wl, with_len, 2, &un),
			 CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &kw, kek, w, wl, no_type, 1, &un),
			 CKR_TEMPLATE_INCOMPLETE);
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &kw, kek, w, wl, NULL, 0, &un),
			 CKR_TEMPLATE_INCOMPLETE);
	/* the value comes from the wrapped key, never from the template (footnote 6) */
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &kw, kek, w, wl, with_len, 3, &un),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &kw, kek, w, 20, with_len, 2, &un),
			 CKR_WRAPPED_KEY_LEN_RANGE);
	w[3] ^= 0x40;
	assert_int_equal(ta_C_UnwrapKey(f->c, f->h, &kw, kek, w, wl, with_len, 2, &un),
			 CKR_WRAPPED_KEY_INVALID);
	assert_int_equal(un, CK_INVALID_HANDLE);
}

/* Current Mechanisms §2.1.8 / §2.1.6: an AES key wrapped under an RSA public key with OAEP and
 * v1.5; OpenSSL's encryption under the token's public key unwraps to the same value. */
static void test_2_1_wrap_unwrap_rsa(void **state)
{
	struct fx *f = *state;
	CK_ULONG bits = 2048;
	CK_MECHANISM gen = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pt[] = { { CKA_MODULUS_BITS, &bits, sizeof(bits) }, { CKA_WRAP, &yes, 1 } };
	CK_ATTRIBUTE kt[] = { { CKA_UNWRAP, &yes, 1 } };
	CK_RSA_PKCS_OAEP_PARAMS op = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0 };
	CK_MECHANISM oaep = { CKM_RSA_PKCS_OAEP, &op, sizeof(op) };
	CK_MECHANISM v15 = { CKM_RSA_PKCS, NULL, 0 };
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv, key, un;
	CK_BYTE key_v[32], w[256], got[32];
	CK_ULONG wl = 0, len = 0;
	size_t ol = sizeof(w);
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *x = NULL;

	assert_int_equal(ta_C_GenerateKeyPair(f->c, f->h, &gen, pt, N(pt), kt, N(kt), &pub, &priv),
			 CKR_OK);
	fill(key_v, sizeof(key_v), 7);
	key = secret_key(f, CKK_AES, key_v, sizeof(key_v), true, true);
	for (int i = 0; i < 2; i++) {
		CK_MECHANISM *m = i ? &v15 : &oaep;

		wl = 0;
		assert_int_equal(ta_C_WrapKey(f->c, f->h, m, pub, key, NULL, &wl), CKR_OK);
		assert_int_equal(wl, 256);
		assert_int_equal(ta_C_WrapKey(f->c, f->h, m, pub, key, w, &wl), CKR_OK);
		assert_int_equal(unwrap_secret(f, m, priv, w, wl, CKK_AES, false, &un), CKR_OK);
		len = sizeof(got);
		get_attr(f, un, CKA_VALUE, got, &len);
		assert_int_equal(len, 32);
		assert_memory_equal(got, key_v, 32);
		/* the private key unwraps, the public key wraps: not the other way */
		assert_int_equal(ta_C_WrapKey(f->c, f->h, m, priv, key, w, &wl),
				 CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
		assert_int_equal(unwrap_secret(f, m, pub, w, wl, CKK_AES, false, &un),
				 CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
		/* an RSA key does not wrap with AES mechanisms */
		assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, pub, key, w, &wl),
				 CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
		/* §5.14 wraps secret and private keys, not public ones */
		assert_int_equal(ta_C_WrapKey(f->c, f->h, m, pub, pub, w, &wl),
				 CKR_KEY_NOT_WRAPPABLE);
	}
	/* OpenSSL wraps with OAEP-SHA256 under the token's public key; the token unwraps. */
	pk = rsa_pub(f, pub);
	x = EVP_PKEY_CTX_new(pk, NULL);
	assert_true(EVP_PKEY_encrypt_init(x) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_OAEP_PADDING) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(x, EVP_sha256()) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(x, EVP_sha256()) == 1);
	fill(key_v, 16, 8);
	assert_true(EVP_PKEY_encrypt(x, w, &ol, key_v, 16) == 1);
	assert_int_equal(unwrap_secret(f, &oaep, priv, w, (CK_ULONG)ol, CKK_AES, false, &un),
			 CKR_OK);
	len = sizeof(got);
	get_attr(f, un, CKA_VALUE, got, &len);
	assert_int_equal(len, 16);
	assert_memory_equal(got, key_v, 16);
	w[10] ^= 1;
	assert_int_equal(unwrap_secret(f, &oaep, priv, w, (CK_ULONG)ol, CKK_AES, false, &un),
			 CKR_WRAPPED_KEY_INVALID);
	assert_int_equal(unwrap_secret(f, &oaep, priv, w, 255, CKK_AES, false, &un),
			 CKR_WRAPPED_KEY_LEN_RANGE);
	EVP_PKEY_CTX_free(x);
	EVP_PKEY_free(pk);
}

/* Sign SHA-256 of msg with the token key and verify with OpenSSL against pk. */
static void sign_and_verify(struct fx *f, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key,
			    EVP_PKEY *pk, bool ecdsa)
{
	static const CK_BYTE msg[] = "wrapped and unwrapped";
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_BYTE sig[512], der[80];
	CK_ULONG sl = sizeof(sig);
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	const CK_BYTE *s = sig;
	size_t dl = sl;

	assert_int_equal(ta_C_SignInit(f->c, f->h, &m, key), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, f->h, (CK_BYTE_PTR)msg, sizeof(msg), sig, &sl), CKR_OK);
	if (ecdsa) {
		/* r || s to DER for OpenSSL */
		ECDSA_SIG *es = ECDSA_SIG_new();
		unsigned char *p = der;

		assert_int_equal(sl, 64);
		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		dl = (size_t)i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		s = der;
	} else {
		dl = sl;
	}
	assert_true(EVP_DigestVerifyInit(x, NULL, EVP_sha256(), NULL, pk) == 1);
	assert_int_equal(EVP_DigestVerify(x, s, dl, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(x);
}

/* Unwrap a PKCS#8 private key of type kt as a session signing key: sensitive and unextractable,
 * or readable. */
static CK_RV unwrap_private(struct fx *f, CK_MECHANISM *m, CK_OBJECT_HANDLE kek, CK_BYTE *w,
			    CK_ULONG wl, CK_KEY_TYPE kt, bool sensitive, CK_OBJECT_HANDLE *out)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_private, sizeof(cls_private) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &no, 1 },
		{ CKA_SIGN, &yes, 1 },
		{ CKA_SENSITIVE, sensitive ? &yes : &no, 1 },
		{ CKA_EXTRACTABLE, sensitive ? &no : &yes, 1 },
	};

	return ta_C_UnwrapKey(f->c, f->h, m, kek, w, wl, t, N(t), out);
}

/* §5.14 with private keys: the wrapped plaintext is the key's PKCS#8 PrivateKeyInfo (checked
 * by OpenSSL after OpenSSL unwraps it); the unwrapped key signs, verified against the
 * original public key. */
static void test_5_14_wrap_private_keys_pkcs8(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[32], iv[16], d[32], q[65], w[2048], pt[2048], got[32];
	CK_ULONG wl = sizeof(w), len = 0, bits = 2048;
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_MECHANISM cbc = { CKM_AES_CBC_PAD, iv, sizeof(iv) };
	CK_MECHANISM gen = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE rpt[] = { { CKA_MODULUS_BITS, &bits, sizeof(bits) } };
	CK_ATTRIBUTE rkt[] = { { CKA_EXTRACTABLE, &yes, 1 }, { CKA_SIGN, &yes, 1 } };
	CK_OBJECT_HANDLE kek, ec, un, rpub, rpriv;
	EVP_PKEY *ek = NULL, *dec = NULL, *rk = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	const unsigned char *p = NULL;
	int n = 0;

	fill(kek_v, sizeof(kek_v), 11);
	fill(iv, sizeof(iv), 12);
	kek = secret_key(f, CKK_AES, kek_v, sizeof(kek_v), true, false);

	/* EC: an OpenSSL key imported sensitive and extractable */
	ek = ossl_p256(d, q);
	ec = ec_private(f, d, true, true);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, kek, ec, w, &wl), CKR_KEY_NOT_WRAPPABLE);
	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kwp, kek, ec, w, &wl), CKR_OK);
	n = ossl_cipher(EVP_aes_256_wrap_pad(), 0, kek_v, NULL, false, w, (int)wl, pt);
	assert_true(n > 0);
	p = pt;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, n);
	assert_non_null(p8);
	assert_ptr_equal(p, pt + n);
	dec = EVP_PKCS82PKEY(p8);
	assert_non_null(dec);
	assert_int_equal(EVP_PKEY_eq(dec, ek), 1);
	EVP_PKEY_free(dec);
	PKCS8_PRIV_KEY_INFO_free(p8);
	assert_int_equal(unwrap_private(f, &kwp, kek, w, wl, CKK_EC, true, &un), CKR_OK);
	sign_and_verify(f, CKM_ECDSA_SHA256, un, ek, true);
	assert_false(get_bool(f, un, CKA_LOCAL));
	assert_false(get_bool(f, un, CKA_ALWAYS_SENSITIVE));
	assert_value_hidden(f, un);
	/* the PKCS#8 names an EC key: an RSA template does not fit it */
	assert_int_equal(unwrap_private(f, &kwp, kek, w, wl, CKK_RSA, true, &un),
			 CKR_TEMPLATE_INCONSISTENT);
	/* AES-CBC-PAD carries the same PKCS#8; unwrapped readable, the scalar is d */
	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &cbc, kek, ec, w, &wl), CKR_OK);
	assert_int_equal(unwrap_private(f, &cbc, kek, w, wl, CKK_EC, false, &un), CKR_OK);
	len = sizeof(got);
	get_attr(f, un, CKA_VALUE, got, &len);
	assert_int_equal(len, 32);
	assert_memory_equal(got, d, 32);
	/* a wrapped secret key is no PKCS#8 */
	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kwp, kek, kek, w, &wl), CKR_KEY_UNEXTRACTABLE);

	/* RSA: generated on the token, extractable */
	assert_int_equal(
		ta_C_GenerateKeyPair(f->c, f->h, &gen, rpt, N(rpt), rkt, N(rkt), &rpub, &rpriv),
		CKR_OK);
	rk = rsa_pub(f, rpub);
	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kwp, kek, rpriv, w, &wl), CKR_OK);
	n = ossl_cipher(EVP_aes_256_wrap_pad(), 0, kek_v, NULL, false, w, (int)wl, pt);
	assert_true(n > 0);
	p = pt;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, n);
	assert_non_null(p8);
	dec = EVP_PKCS82PKEY(p8);
	assert_non_null(dec);
	assert_int_equal(EVP_PKEY_eq(dec, rk), 1); /* the public halves agree */
	EVP_PKEY_free(dec);
	PKCS8_PRIV_KEY_INFO_free(p8);
	assert_int_equal(unwrap_private(f, &kwp, kek, w, wl, CKK_RSA, true, &un), CKR_OK);
	sign_and_verify(f, CKM_SHA256_RSA_PKCS, un, rk, false);
	assert_int_equal(unwrap_private(f, &kwp, kek, w, wl, CKK_EC, true, &un),
			 CKR_TEMPLATE_INCONSISTENT);
	/* a wrapped plaintext that is not a PKCS#8 */
	wl = sizeof(w);
	{
		CK_BYTE junk[40];
		int jn = 0;

		fill(junk, sizeof(junk), 13);
		jn = ossl_cipher(EVP_aes_256_wrap_pad(), 1, kek_v, NULL, false, junk, sizeof(junk),
				 w);
		assert_int_equal(jn, 48);
		assert_int_equal(unwrap_private(f, &kwp, kek, w, (CK_ULONG)jn, CKK_EC, true, &un),
				 CKR_WRAPPED_KEY_INVALID);
	}
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ek);
}

/* --- Current Mechanisms §2.3.10 ECDH1 derivation --- */

static void test_2_3_ecdh1_derive(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM gen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pt[] = { { CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) } };
	CK_ATTRIBUTE kt[] = { { CKA_DERIVE, &yes, 1 } };
	CK_ATTRIBUTE kt_nd[] = { { CKA_SIGN, &yes, 1 } };
	static const CK_BYTE shared[] = "shared info";
	CK_BYTE pd[32], pq[65], tq[65], z[32], want[64], got[64], der[67];
	CK_ULONG len = 0;
	CK_OBJECT_HANDLE pub, priv, pub2, nod, k;
	EVP_PKEY *peer = NULL, *tok = NULL;

	assert_int_equal(ta_C_GenerateKeyPair(f->c, f->h, &gen, pt, 1, kt, 1, &pub, &priv), CKR_OK);
	assert_int_equal(ta_C_GenerateKeyPair(f->c, f->h, &gen, pt, 1, kt_nd, 1, &pub2, &nod),
			 CKR_OK);
	ec_point_of(f, pub, tq);
	tok = ec_pub_from_point(tq);
	peer = ossl_p256(pd, pq);
	ossl_ecdh(peer, tok, z);

	/* CKD_NULL, the raw point: the key is Z */
	assert_int_equal(ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 65, CKK_GENERIC_SECRET, 32,
				     false, true, &k),
			 CKR_OK);
	len = sizeof(got);
	get_attr(f, k, CKA_VALUE, got, &len);
	assert_int_equal(len, 32);
	assert_memory_equal(got, z, 32);
	assert_false(get_bool(f, k, CKA_LOCAL));
	/* the base key is always sensitive and never extractable; the new key is neither */
	assert_false(get_bool(f, k, CKA_ALWAYS_SENSITIVE));
	assert_false(get_bool(f, k, CKA_NEVER_EXTRACTABLE));
	/* the same with the point as a DER OCTET STRING (CKA_EC_POINT's encoding) */
	der[0] = 0x04;
	der[1] = 65;
	memcpy(der + 2, pq, 65);
	assert_int_equal(ecdh_derive(f, priv, CKD_NULL, NULL, 0, der, 67, CKK_GENERIC_SECRET, 32,
				     false, true, &k),
			 CKR_OK);
	len = sizeof(got);
	get_attr(f, k, CKA_VALUE, got, &len);
	assert_memory_equal(got, z, 32);
	/* shorter: "the truncation removes bytes from the leading end of the secret value" */
	assert_int_equal(
		ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 65, CKK_AES, 16, false, true, &k),
		CKR_OK);
	len = sizeof(got);
	get_attr(f, k, CKA_VALUE, got, &len);
	assert_int_equal(len, 16);
	assert_memory_equal(got, z + 16, 16);
	/* CKD_NULL yields at most Z */
	assert_int_equal(ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 65, CKK_GENERIC_SECRET, 33,
				     false, true, &k),
			 CKR_TEMPLATE_INCONSISTENT);

	/* CKD_SHA256_KDF with shared data, longer than one hash: X9.63 as OpenSSL computes it */
	ossl_x963("SHA256", z, 32, shared, sizeof(shared), want, 48);
	assert_int_equal(ecdh_derive(f, priv, CKD_SHA256_KDF, shared, sizeof(shared), pq, 65,
				     CKK_GENERIC_SECRET, 48, false, true, &k),
			 CKR_OK);
	len = sizeof(got);
	get_attr(f, k, CKA_VALUE, got, &len);
	assert_int_equal(len, 48);
	assert_memory_equal(got, want, 48);
	ossl_x963("SHA1", z, 32, NULL, 0, want, 24);
	assert_int_equal(
		ecdh_derive(f, priv, CKD_SHA1_KDF, NULL, 0, pq, 65, CKK_AES, 24, false, true, &k),
		CKR_OK);
	len = sizeof(got);
	get_attr(f, k, CKA_VALUE, got, &len);
	assert_memory_equal(got, want, 24);

	/* both sides on the token agree: priv with the other token key's point, and back */
	{
		CK_MECHANISM gen2 = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
		CK_OBJECT_HANDLE bpub, bpriv, k2;
		CK_BYTE bq[65], v2[32];
		CK_ULONG l2 = sizeof(v2);

		assert_int_equal(
			ta_C_GenerateKeyPair(f->c, f->h, &gen2, pt, 1, kt, 1, &bpub, &bpriv),
			CKR_OK);
		ec_point_of(f, bpub, bq);
		assert_int_equal(ecdh_derive(f, priv, CKD_SHA256_KDF, shared, sizeof(shared), bq,
					     65, CKK_AES, 32, false, true, &k),
				 CKR_OK);
		assert_int_equal(ecdh_derive(f, bpriv, CKD_SHA256_KDF, shared, sizeof(shared), tq,
					     65, CKK_AES, 32, false, true, &k2),
				 CKR_OK);
		len = sizeof(got);
		get_attr(f, k, CKA_VALUE, got, &len);
		get_attr(f, k2, CKA_VALUE, v2, &l2);
		assert_int_equal(len, 32);
		assert_memory_equal(got, v2, 32);
	}

	/* a sensitive, unextractable derived key from an always-sensitive base stays so */
	assert_int_equal(
		ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 65, CKK_AES, 32, true, false, &k),
		CKR_OK);
	assert_true(get_bool(f, k, CKA_ALWAYS_SENSITIVE));
	assert_true(get_bool(f, k, CKA_NEVER_EXTRACTABLE));
	assert_value_hidden(f, k);

	/* errors */
	assert_int_equal(
		ecdh_derive(f, nod, CKD_NULL, NULL, 0, pq, 65, CKK_AES, 16, false, true, &k),
		CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 65, CKK_GENERIC_SECRET, 0,
				     false, true, &k),
			 CKR_TEMPLATE_INCOMPLETE);
	assert_int_equal(
		ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 65, CKK_AES, 20, false, true, &k),
		CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(
		ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 64, CKK_AES, 16, false, true, &k),
		CKR_MECHANISM_PARAM_INVALID);
	pq[64] ^= 1; /* off the curve */
	assert_int_equal(
		ecdh_derive(f, priv, CKD_NULL, NULL, 0, pq, 65, CKK_AES, 16, false, true, &k),
		CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(
		ecdh_derive(f, pub, CKD_NULL, NULL, 0, tq, 65, CKK_AES, 16, false, true, &k),
		CKR_KEY_TYPE_INCONSISTENT);
	{
		CK_ECDH1_DERIVE_PARAMS p = { CKD_NULL, 0, NULL, 65, tq };
		CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
		CK_ULONG vl = 16;
		CK_ATTRIBUTE pubt[] = {
			{ CKA_CLASS, &cls_private, sizeof(cls_private) },
			{ CKA_KEY_TYPE, &kt_ec, sizeof(kt_ec) },
		};
		CK_ATTRIBUTE noclass[] = { { CKA_VALUE_LEN, &vl, sizeof(vl) } };

		assert_int_equal(ta_C_DeriveKey(f->c, f->h, &m, priv, pubt, 2, &k),
				 CKR_TEMPLATE_INCONSISTENT);
		assert_int_equal(ta_C_DeriveKey(f->c, f->h, &m, priv, noclass, 1, &k),
				 CKR_TEMPLATE_INCOMPLETE);
		assert_int_equal(k, CK_INVALID_HANDLE);
	}
	EVP_PKEY_free(peer);
	EVP_PKEY_free(tok);
}

/* --- "A sensitive or non-extractable key cannot be obtained by any sequence of calls" --- */

/* §5.7 / §4.10 footnote 7: CKA_VALUE of a sensitive key is never returned. */
static void test_4_10_sensitive_value_unreadable(void **state)
{
	struct fx *f = *state;
	CK_BYTE v[32];
	CK_OBJECT_HANDLE sens, unext;

	fill(v, sizeof(v), 21);
	sens = secret_key(f, CKK_AES, v, sizeof(v), true, true);
	unext = secret_key(f, CKK_AES, v, sizeof(v), false, false);
	assert_value_hidden(f, sens);
	assert_value_hidden(f, unext);
}

/* §5.7 C_CopyObject: a copy may not turn CKA_SENSITIVE off nor CKA_EXTRACTABLE on. */
static void test_5_7_copy_cannot_unprotect(void **state)
{
	struct fx *f = *state;
	CK_BYTE v[16];
	CK_OBJECT_HANDLE sens, cp = 1;
	CK_ATTRIBUTE unsens[] = { { CKA_SENSITIVE, &no, 1 } };
	CK_ATTRIBUTE ext[] = { { CKA_EXTRACTABLE, &yes, 1 } };

	fill(v, sizeof(v), 22);
	sens = secret_key(f, CKK_AES, v, sizeof(v), true, false);
	assert_int_equal(ta_C_CopyObject(f->c, f->h, sens, unsens, 1, &cp),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(cp, CK_INVALID_HANDLE);
	assert_int_equal(ta_C_CopyObject(f->c, f->h, sens, ext, 1, &cp), CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(cp, CK_INVALID_HANDLE);
	/* a plain copy is as protected as the original */
	assert_int_equal(ta_C_CopyObject(f->c, f->h, sens, NULL, 0, &cp), CKR_OK);
	assert_true(get_bool(f, cp, CKA_SENSITIVE));
	assert_false(get_bool(f, cp, CKA_EXTRACTABLE));
	assert_value_hidden(f, cp);
}

/* §4.10 Table 38 footnote 11/12 and §5.7 C_SetAttributeValue: no way back. */
static void test_5_7_set_attribute_cannot_unprotect(void **state)
{
	struct fx *f = *state;
	CK_BYTE v[16];
	CK_OBJECT_HANDLE sens;
	CK_ATTRIBUTE unsens[] = { { CKA_SENSITIVE, &no, 1 } };
	CK_ATTRIBUTE ext[] = { { CKA_EXTRACTABLE, &yes, 1 } };
	CK_ATTRIBUTE untrusted[] = { { CKA_WRAP_WITH_TRUSTED, &no, 1 } };
	CK_ATTRIBUTE trusted[] = { { CKA_WRAP_WITH_TRUSTED, &yes, 1 } };

	fill(v, sizeof(v), 23);
	sens = secret_key(f, CKK_AES, v, sizeof(v), true, false);
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, sens, unsens, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, sens, ext, 1), CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, sens, trusted, 1), CKR_OK);
	assert_int_equal(ta_C_SetAttributeValue(f->c, f->h, sens, untrusted, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_true(get_bool(f, sens, CKA_SENSITIVE));
	assert_false(get_bool(f, sens, CKA_EXTRACTABLE));
	assert_true(get_bool(f, sens, CKA_WRAP_WITH_TRUSTED));
	assert_value_hidden(f, sens);
}

/* §5.14 C_WrapKey: an unextractable key is not wrapped, even under the caller's own key. */
static void test_5_14_wrap_unextractable_refused(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[16], v[32], w[64];
	CK_ULONG wl = sizeof(w);
	CK_MECHANISM mechs[] = {
		{ CKM_AES_KEY_WRAP, NULL, 0 },
		{ CKM_AES_KEY_WRAP_PAD, NULL, 0 },
		{ CKM_AES_CBC_PAD, kek_v, 16 },
	};
	CK_OBJECT_HANDLE kek, key, ec;
	CK_BYTE d[32], q[65];
	EVP_PKEY *ek = ossl_p256(d, q);

	fill(kek_v, sizeof(kek_v), 24);
	fill(v, sizeof(v), 25);
	kek = secret_key(f, CKK_AES, kek_v, sizeof(kek_v), false, true);
	key = secret_key(f, CKK_AES, v, sizeof(v), false, false); /* not even sensitive */
	ec = ec_private(f, d, true, false);
	for (size_t i = 0; i < N(mechs); i++) {
		wl = sizeof(w);
		memset(w, 0, sizeof(w));
		assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[i], kek, key, w, &wl),
				 CKR_KEY_UNEXTRACTABLE);
		assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[i], kek, key, NULL, &wl),
				 CKR_KEY_UNEXTRACTABLE);
		assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[i], kek, ec, w, &wl),
				 CKR_KEY_UNEXTRACTABLE);
		for (size_t j = 0; j < sizeof(w); j++)
			assert_int_equal(w[j], 0);
	}
	/* the wrapping key wrapping itself: it is extractable here, so this is allowed... */
	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[0], kek, kek, w, &wl), CKR_OK);
	/* ...but an unextractable key cannot wrap itself out either */
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &mechs[0], key, key, w, &wl),
			 CKR_KEY_UNEXTRACTABLE);
	EVP_PKEY_free(ek);
}

/* §4.10 CKA_WRAP_WITH_TRUSTED: only a CKA_TRUSTED wrapping key (which only the SO can mark)
 * may wrap the key. */
static void test_5_14_wrap_with_trusted(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[16], tv[16], v[16], w[64], back[16];
	CK_ULONG wl = sizeof(w);
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_OBJECT_HANDLE kek, key, tkek = CK_INVALID_HANDLE;
	CK_SESSION_HANDLE so_h;
	struct ta_client *so = NULL;
	static char label[] = "trusted-kek";
	CK_ATTRIBUTE tt[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_VALUE, tv, sizeof(tv) },
		{ CKA_TOKEN, &yes, 1 },
		{ CKA_PRIVATE, &no, 1 },
		{ CKA_TRUSTED, &yes, 1 },
		{ CKA_WRAP, &yes, 1 },
		{ CKA_LABEL, label, sizeof(label) - 1 },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_VALUE, v, sizeof(v) },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_WRAP_WITH_TRUSTED, &yes, 1 },
	};
	CK_ATTRIBUTE find[] = { { CKA_LABEL, label, sizeof(label) - 1 } };
	CK_ULONG found = 0;

	fill(kek_v, sizeof(kek_v), 26);
	fill(tv, sizeof(tv), 27);
	fill(v, sizeof(v), 28);
	kek = secret_key(f, CKK_AES, kek_v, sizeof(kek_v), true, false);
	assert_int_equal(ta_C_CreateObject(f->c, f->h, kt, N(kt), &key), CKR_OK);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, kek, key, w, &wl), CKR_KEY_NOT_WRAPPABLE);
	/* the user cannot make a trusted key */
	assert_int_equal(ta_C_CreateObject(f->c, f->h, tt, N(tt), &tkek), CKR_ATTRIBUTE_READ_ONLY);
	/* the SO (another application) makes one */
	assert_int_equal(ta_client_new(f->ta, &so), CKR_OK);
	assert_int_equal(
		ta_C_OpenSession(so, TA_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, &so_h),
		CKR_OK);
	assert_int_equal(ta_C_Login(so, so_h, CKU_SO, (CK_UTF8CHAR_PTR)SO_PIN, strlen(SO_PIN)),
			 CKR_OK);
	assert_int_equal(ta_C_CreateObject(so, so_h, tt, N(tt), &tkek), CKR_OK);
	ta_client_free(so);
	assert_int_equal(ta_C_FindObjectsInit(f->c, f->h, find, 1), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, f->h, &tkek, 1, &found), CKR_OK);
	assert_int_equal(found, 1);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, f->h), CKR_OK);
	assert_true(get_bool(f, tkek, CKA_TRUSTED));
	wl = sizeof(w);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, tkek, key, w, &wl), CKR_OK);
	assert_int_equal(wl, 24);
	assert_int_equal(ossl_cipher(EVP_aes_128_wrap(), 0, tv, NULL, false, w, (int)wl, back), 16);
	assert_memory_equal(back, v, 16);
}

/* §5.14 C_UnwrapKey: a wrapped sensitive-but-extractable key may be unwrapped as a new key that
 * is not sensitive. The spec allows it: CKA_EXTRACTABLE true means the value may leave the
 * token under any wrapping key the caller holds, and whoever holds that key can decrypt the
 * blob outside the token anyway; refusing here would protect nothing. What the token must
 * (and does) guarantee is that the new key does not pass for a protected one: CKA_LOCAL,
 * CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE are false. To keep a key in, make it
 * unextractable (test_5_14_wrap_unextractable_refused). */
static void test_5_14_unwrap_as_non_sensitive(void **state)
{
	struct fx *f = *state;
	CK_BYTE kek_v[16], v[16], w[32], got[16];
	CK_ULONG wl = sizeof(w), len = sizeof(got);
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ULONG vl = 16;
	CK_ATTRIBUTE gt[] = {
		{ CKA_VALUE_LEN, &vl, sizeof(vl) },
		{ CKA_SENSITIVE, &yes, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
	};
	CK_OBJECT_HANDLE kek, key, un;

	fill(kek_v, sizeof(kek_v), 29);
	kek = secret_key(f, CKK_AES, kek_v, sizeof(kek_v), true, false);
	assert_int_equal(ta_C_GenerateKey(f->c, f->h, &gen, gt, N(gt), &key), CKR_OK);
	assert_true(get_bool(f, key, CKA_ALWAYS_SENSITIVE));
	assert_value_hidden(f, key);
	assert_int_equal(ta_C_WrapKey(f->c, f->h, &kw, kek, key, w, &wl), CKR_OK);
	assert_int_equal(ossl_cipher(EVP_aes_128_wrap(), 0, kek_v, NULL, false, w, (int)wl, v), 16);
	assert_int_equal(unwrap_secret(f, &kw, kek, w, wl, CKK_AES, false, &un), CKR_OK);
	get_attr(f, un, CKA_VALUE, got, &len);
	assert_int_equal(len, 16);
	assert_memory_equal(got, v, 16);
	assert_false(get_bool(f, un, CKA_SENSITIVE));
	assert_false(get_bool(f, un, CKA_ALWAYS_SENSITIVE));
	assert_false(get_bool(f, un, CKA_NEVER_EXTRACTABLE));
	assert_false(get_bool(f, un, CKA_LOCAL));
	/* the original keeps its guarantees */
	assert_true(get_bool(f, key, CKA_ALWAYS_SENSITIVE));
	assert_value_hidden(f, key);
	/* unwrapped sensitive, the new key hides its value */
	assert_int_equal(unwrap_secret(f, &kw, kek, w, wl, CKK_AES, true, &un), CKR_OK);
	assert_value_hidden(f, un);
	assert_false(get_bool(f, un, CKA_ALWAYS_SENSITIVE));
}

/* Current Mechanisms §2.3.10: derivation from an unextractable, sensitive EC key into a readable
 * key yields the ECDH secret, never the base key's value; the base stays hidden; a sensitive
 * derived key is hidden too. */
static void test_2_3_derive_does_not_leak_base(void **state)
{
	struct fx *f = *state;
	CK_BYTE d[32], q[65], pd[32], pq[65], z[32], got[64];
	CK_ULONG len = sizeof(got);
	CK_OBJECT_HANDLE base, k;
	EVP_PKEY *mine = ossl_p256(d, q), *peer = ossl_p256(pd, pq), *peer_pub = NULL;

	base = ec_private(f, d, true, false);
	assert_value_hidden(f, base);
	peer_pub = ec_pub_from_point(pq);
	ossl_ecdh(mine, peer_pub, z);
	assert_int_equal(ecdh_derive(f, base, CKD_NULL, NULL, 0, pq, 65, CKK_GENERIC_SECRET, 32,
				     false, true, &k),
			 CKR_OK);
	get_attr(f, k, CKA_VALUE, got, &len);
	assert_int_equal(len, 32);
	assert_memory_equal(got, z, 32);
	assert_memory_not_equal(got, d, 32);
	/* even with its own public point as the peer: d*Q is no d */
	assert_int_equal(ecdh_derive(f, base, CKD_NULL, NULL, 0, q, 65, CKK_GENERIC_SECRET, 32,
				     false, true, &k),
			 CKR_OK);
	len = sizeof(got);
	get_attr(f, k, CKA_VALUE, got, &len);
	assert_memory_not_equal(got, d, 32);
	/* imported, so never "always sensitive": nor is anything derived from it */
	assert_false(get_bool(f, k, CKA_ALWAYS_SENSITIVE));
	assert_false(get_bool(f, k, CKA_NEVER_EXTRACTABLE));
	assert_int_equal(
		ecdh_derive(f, base, CKD_SHA256_KDF, NULL, 0, pq, 65, CKK_AES, 32, true, false, &k),
		CKR_OK);
	assert_value_hidden(f, k);
	assert_value_hidden(f, base);
	EVP_PKEY_free(peer_pub);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
}

/* §5.10 C_DigestKey: the digest of a protected key's value is not handed out. */
static void test_5_10_digest_key_protected(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM sha = { CKM_SHA256, NULL, 0 };
	CK_BYTE v[32], out[32];
	CK_ULONG len = sizeof(out);
	CK_OBJECT_HANDLE sens, unext;

	fill(v, sizeof(v), 30);
	sens = secret_key(f, CKK_GENERIC_SECRET, v, sizeof(v), true, true);
	unext = secret_key(f, CKK_GENERIC_SECRET, v, sizeof(v), false, false);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_DigestKey(f->c, f->h, sens), CKR_KEY_INDIGESTIBLE);
	assert_int_equal(ta_C_DigestFinal(f->c, f->h, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_DigestKey(f->c, f->h, unext), CKR_KEY_INDIGESTIBLE);
}

/* --- §5.13 dual-function updates --- */

static void test_5_13_dual_function_updates(void **state)
{
	struct fx *f = *state;
	CK_BYTE kv[16], mk[32], iv[16], data[64], ct[64], pt[64], want[64], md[32], mac[32];
	CK_ULONG len = 0, ml = 0;
	CK_MECHANISM cbc = { CKM_AES_CBC, iv, sizeof(iv) };
	CK_MECHANISM sha = { CKM_SHA256, NULL, 0 };
	CK_MECHANISM hmac = { CKM_SHA256_HMAC, NULL, 0 };
	CK_OBJECT_HANDLE aes, mkey;
	unsigned int wl = 0;

	fill(kv, sizeof(kv), 31);
	fill(mk, sizeof(mk), 32);
	fill(iv, sizeof(iv), 33);
	fill(data, sizeof(data), 34);
	aes = secret_key(f, CKK_AES, kv, sizeof(kv), true, false);
	mkey = secret_key(f, CKK_GENERIC_SECRET, mk, sizeof(mk), true, false);
	assert_int_equal(ossl_cipher(EVP_aes_128_cbc(), 1, kv, iv, false, data, 64, want), 64);

	/* C_DigestEncryptUpdate: ciphertext out, the plaintext digested */
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &cbc, aes), CKR_OK);
	len = sizeof(ct);
	assert_int_equal(ta_C_DigestEncryptUpdate(f->c, f->h, data, 32, ct, &len), CKR_OK);
	assert_int_equal(len, 32);
	len = 32;
	assert_int_equal(ta_C_DigestEncryptUpdate(f->c, f->h, data + 32, 32, ct + 32, &len),
			 CKR_OK);
	assert_int_equal(len, 32);
	len = 0;
	assert_int_equal(ta_C_EncryptFinal(f->c, f->h, pt, &len), CKR_OK);
	assert_int_equal(len, 0);
	assert_memory_equal(ct, want, 64);
	ml = sizeof(md);
	assert_int_equal(ta_C_DigestFinal(f->c, f->h, md, &ml), CKR_OK);
	EVP_Digest(data, 64, want, &wl, EVP_sha256(), NULL);
	assert_memory_equal(md, want, 32);

	/* C_DecryptDigestUpdate: plaintext out and digested */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &cbc, aes), CKR_OK);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(ta_C_DecryptDigestUpdate(f->c, f->h, ct, 64, pt, &len), CKR_OK);
	assert_int_equal(len, 64);
	assert_memory_equal(pt, data, 64);
	len = 0;
	assert_int_equal(ta_C_DecryptFinal(f->c, f->h, NULL, &len), CKR_OK);
	assert_int_equal(ta_C_DecryptFinal(f->c, f->h, pt, &len), CKR_OK);
	ml = sizeof(md);
	assert_int_equal(ta_C_DigestFinal(f->c, f->h, md, &ml), CKR_OK);
	assert_memory_equal(md, want, 32);

	/* C_SignEncryptUpdate and C_DecryptVerifyUpdate with HMAC-SHA256 */
	assert_int_equal(ta_C_SignInit(f->c, f->h, &hmac, mkey), CKR_OK);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &cbc, aes), CKR_OK);
	len = sizeof(ct);
	assert_int_equal(ta_C_SignEncryptUpdate(f->c, f->h, data, 64, ct, &len), CKR_OK);
	assert_int_equal(len, 64);
	len = 0;
	assert_int_equal(ta_C_EncryptFinal(f->c, f->h, pt, &len), CKR_OK);
	ml = sizeof(mac);
	assert_int_equal(ta_C_SignFinal(f->c, f->h, mac, &ml), CKR_OK);
	assert_int_equal(ml, 32);
	assert_non_null(HMAC(EVP_sha256(), mk, sizeof(mk), data, 64, want, &wl));
	assert_memory_equal(mac, want, 32);
	assert_int_equal(ossl_cipher(EVP_aes_128_cbc(), 1, kv, iv, false, data, 64, want), 64);
	assert_memory_equal(ct, want, 64);

	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &cbc, aes), CKR_OK);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &hmac, mkey), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(ta_C_DecryptVerifyUpdate(f->c, f->h, ct, 64, pt, &len), CKR_OK);
	assert_memory_equal(pt, data, 64);
	len = 0;
	assert_int_equal(ta_C_DecryptFinal(f->c, f->h, pt, &len), CKR_OK);
	assert_int_equal(ta_C_VerifyFinal(f->c, f->h, mac, 32), CKR_OK);
	/* a changed ciphertext decrypts to other data: the MAC no longer verifies */
	ct[0] ^= 1;
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &cbc, aes), CKR_OK);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &hmac, mkey), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(ta_C_DecryptVerifyUpdate(f->c, f->h, ct, 64, pt, &len), CKR_OK);
	len = 0;
	assert_int_equal(ta_C_DecryptFinal(f->c, f->h, pt, &len), CKR_OK);
	assert_int_equal(ta_C_VerifyFinal(f->c, f->h, mac, 32), CKR_SIGNATURE_INVALID);
	/* without both operations active */
	len = sizeof(ct);
	assert_int_equal(ta_C_DigestEncryptUpdate(f->c, f->h, data, 16, ct, &len),
			 CKR_OPERATION_NOT_INITIALIZED);
}

/* --- §5.5 C_Login(CKU_CONTEXT_SPECIFIC) for decryption with a CKA_ALWAYS_AUTHENTICATE key --- */

static void test_5_5_context_specific_login_decrypt(void **state)
{
	struct fx *f = *state;
	CK_ULONG bits = 2048;
	CK_MECHANISM gen = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pt[] = { { CKA_MODULUS_BITS, &bits, sizeof(bits) } };
	CK_ATTRIBUTE kt[] = { { CKA_DECRYPT, &yes, 1 }, { CKA_ALWAYS_AUTHENTICATE, &yes, 1 } };
	CK_MECHANISM v15 = { CKM_RSA_PKCS, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE msg[20], ct[256], out[256];
	CK_ULONG len = sizeof(out);
	size_t cl = sizeof(ct);
	EVP_PKEY *pk = NULL;
	EVP_PKEY_CTX *x = NULL;

	assert_int_equal(ta_C_GenerateKeyPair(f->c, f->h, &gen, pt, N(pt), kt, N(kt), &pub, &priv),
			 CKR_OK);
	assert_true(get_bool(f, priv, CKA_ALWAYS_AUTHENTICATE));
	fill(msg, sizeof(msg), 35);
	pk = rsa_pub(f, pub);
	x = EVP_PKEY_CTX_new(pk, NULL);
	assert_true(EVP_PKEY_encrypt_init(x) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_PADDING) == 1);
	assert_true(EVP_PKEY_encrypt(x, ct, &cl, msg, sizeof(msg)) == 1);

	assert_int_equal(login(f, f->h, CKU_CONTEXT_SPECIFIC, USER_PIN),
			 CKR_OPERATION_NOT_INITIALIZED);
	/* without the context login: refused, and the operation ends (§5.2) */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &v15, priv), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, (CK_ULONG)cl, out, &len),
			 CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, (CK_ULONG)cl, out, &len),
			 CKR_OPERATION_NOT_INITIALIZED);
	/* a wrong PIN does not release the operation */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &v15, priv), CKR_OK);
	assert_int_equal(login(f, f->h, CKU_CONTEXT_SPECIFIC, "wrong-pin"), CKR_PIN_INCORRECT);
	len = sizeof(out);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, (CK_ULONG)cl, out, &len),
			 CKR_USER_NOT_LOGGED_IN);
	/* with it: the plaintext */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &v15, priv), CKR_OK);
	assert_int_equal(login(f, f->h, CKU_CONTEXT_SPECIFIC, USER_PIN), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, (CK_ULONG)cl, out, &len), CKR_OK);
	assert_int_equal(len, sizeof(msg));
	assert_memory_equal(out, msg, sizeof(msg));
	/* one login, one operation */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &v15, priv), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, (CK_ULONG)cl, out, &len),
			 CKR_USER_NOT_LOGGED_IN);
	EVP_PKEY_CTX_free(x);
	EVP_PKEY_free(pk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_5_14_wrap_unwrap_aes_round_trips, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_5_14_wrap_unwrap_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_1_wrap_unwrap_rsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_14_wrap_private_keys_pkcs8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_3_ecdh1_derive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4_10_sensitive_value_unreadable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_5_7_copy_cannot_unprotect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_7_set_attribute_cannot_unprotect, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_5_14_wrap_unextractable_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_5_14_wrap_with_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_14_unwrap_as_non_sensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_3_derive_does_not_leak_base, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_5_10_digest_key_protected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_13_dual_function_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_5_context_specific_login_decrypt, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
