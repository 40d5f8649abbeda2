/*
 * The token's mechanisms with structured parameters, and key management, through the whole stack
 * without a network: the real client module (C_GetFunctionList's functions only) on an
 * in-process transport into server/dispatch and the token core. Every result is checked with
 * OpenSSL in the test, from public values read over the wire: RSA-PSS and OAEP with a label
 * (Current Mechanisms §2.1), ECDH1 with CKD_NULL and the X9.63 SHA-256 KDF (§2.3.10), EdDSA,
 * AES-CTR counter widths (§2.10), AES key wrap with padding (§2.14, Base §5.14), and the
 * operation rules of Base §5.2 as they travel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "common/buf.h"
#include "common/pkcs11_ext.h"
#include "proto/codec.h"
#include "dispatch.h"
#include "transport.h"
#include "fixture_module.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const CK_BYTE p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;
static CK_OBJECT_CLASS cls_secret = CKO_SECRET_KEY;
static CK_KEY_TYPE kt_aes = CKK_AES;
static CK_KEY_TYPE kt_generic = CKK_GENERIC_SECRET;

/* ---- fixture: a fresh token, the module on the loop transport, a user session ---- */

static int fx_setup(void **state)
{
	static const struct fx_module_params p = {
		.dir_template = "/tmp/teehsm-dkeys-XXXXXX",
		.label = "keys",
		.user_session = true,
	};

	return fx_module_setup(state, &p);
}

static int fx_teardown(void **state)
{
	return fx_module_teardown(state);
}

/* ---- helpers: attributes over the wire, keys, OpenSSL views of the token's public keys ---- */

static void fill(CK_BYTE *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (CK_BYTE)(seed * 31 + i * 7 + (i >> 3));
}

static void get_attr(struct fx *fx, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf,
		     CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, buf, *len };

	assert_int_equal(fx->f->C_GetAttributeValue(fx->s, o, &a, 1), CKR_OK);
	*len = a.ulValueLen;
}

/* A session AES key of known value; extractable or not, with every AES use allowed. */
static CK_OBJECT_HANDLE aes_key(struct fx *fx, const CK_BYTE *value, CK_ULONG len, bool extractable)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE, (void *)value, len },
		{ CKA_ENCRYPT, &yes, 1 },
		{ CKA_DECRYPT, &yes, 1 },
		{ CKA_WRAP, &yes, 1 },
		{ CKA_UNWRAP, &yes, 1 },
		{ CKA_SENSITIVE, &yes, 1 },
		{ CKA_EXTRACTABLE, extractable ? &yes : &no, 1 },
	};
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	assert_int_equal(fx->f->C_CreateObject(fx->s, t, N(t), &h), CKR_OK);
	return h;
}

static void gen_rsa(struct fx *fx, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG bits = 2048;
	CK_ATTRIBUTE pt[] = { { CKA_MODULUS_BITS, &bits, sizeof(bits) },
			      { CKA_VERIFY, &yes, 1 },
			      { CKA_ENCRYPT, &yes, 1 } };
	CK_ATTRIBUTE kt[] = { { CKA_SIGN, &yes, 1 },
			      { CKA_DECRYPT, &yes, 1 },
			      { CKA_SENSITIVE, &yes, 1 } };

	assert_int_equal(fx->f->C_GenerateKeyPair(fx->s, &m, pt, N(pt), kt, N(kt), pub, priv),
			 CKR_OK);
}

static void gen_ec(struct fx *fx, CK_MECHANISM_TYPE mech, const CK_BYTE *params, CK_ULONG plen,
		   CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_ATTRIBUTE pt[] = { { CKA_EC_PARAMS, (void *)params, plen }, { CKA_VERIFY, &yes, 1 } };
	CK_ATTRIBUTE kt[] = { { CKA_SIGN, &yes, 1 }, { CKA_DERIVE, &yes, 1 } };

	assert_int_equal(fx->f->C_GenerateKeyPair(fx->s, &m, pt, N(pt), kt, N(kt), pub, priv),
			 CKR_OK);
}

/* The token's RSA public key, from CKA_MODULUS and CKA_PUBLIC_EXPONENT read over the wire. */
static EVP_PKEY *rsa_pub(struct fx *fx, CK_OBJECT_HANDLE pub)
{
	CK_BYTE n[512], e[8];
	CK_ULONG nl = sizeof(n), el = sizeof(e);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM *p = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;

	get_attr(fx, pub, CKA_MODULUS, n, &nl);
	get_attr(fx, pub, CKA_PUBLIC_EXPONENT, e, &el);
	assert_int_equal(nl, 256);
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

/* OpenSSL's verdict on an RSA-PSS (SHA-256, MGF1-SHA256, salt 32) signature of a digest. */
static int ossl_pss_verify(EVP_PKEY *k, const CK_BYTE *sig, size_t sl, const CK_BYTE dgst[32])
{
	EVP_PKEY_CTX *x = EVP_PKEY_CTX_new(k, NULL);
	int r = 0;

	assert_true(EVP_PKEY_verify_init(x) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_PSS_PADDING) == 1);
	assert_true(EVP_PKEY_CTX_set_signature_md(x, EVP_sha256()) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(x, EVP_sha256()) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(x, 32) == 1);
	r = EVP_PKEY_verify(x, sig, sl, dgst, 32);
	EVP_PKEY_CTX_free(x);
	return r;
}

/* ---- Current Mechanisms §2.1.10/§2.1.14 RSA-PSS; Base §5.11/§5.13 sign and verify ---- */

static void test_2_1_rsa_pss(void **state)
{
	struct fx *fx = *state;
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM m_sha = { CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) };
	CK_MECHANISM m_raw = { CKM_RSA_PKCS_PSS, &pss, sizeof(pss) };
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE msg[100], dgst[32], sig[256], sig2[256], small[16];
	CK_ULONG len = 0;
	EVP_PKEY *k = NULL;

	gen_rsa(fx, &pub, &priv);
	k = rsa_pub(fx, pub);
	fill(msg, sizeof(msg), 1);
	SHA256(msg, sizeof(msg), dgst);

	/* SHA256_RSA_PKCS_PSS over the message: size query and BUFFER_TOO_SMALL keep the
	 * operation (§5.2), and OpenSSL accepts the signature. */
	assert_int_equal(fx->f->C_SignInit(fx->s, &m_sha, priv), CKR_OK);
	assert_int_equal(fx->f->C_SignInit(fx->s, &m_sha, priv), CKR_OPERATION_ACTIVE);
	assert_int_equal(fx->f->C_Sign(fx->s, msg, sizeof(msg), NULL, &len), CKR_OK);
	assert_int_equal(len, 256);
	len = sizeof(small);
	assert_int_equal(fx->f->C_Sign(fx->s, msg, sizeof(msg), small, &len), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 256);
	len = sizeof(sig);
	assert_int_equal(fx->f->C_Sign(fx->s, msg, sizeof(msg), sig, &len), CKR_OK);
	assert_int_equal(len, 256);
	assert_int_equal(ossl_pss_verify(k, sig, len, dgst), 1);
	/* a signature of another message is refused by OpenSSL: the check can fail */
	dgst[0] ^= 1;
	assert_int_not_equal(ossl_pss_verify(k, sig, len, dgst), 1);
	dgst[0] ^= 1;

	/* RSA_PKCS_PSS over the digest, multi-part not allowed for it: one-shot only */
	assert_int_equal(fx->f->C_SignInit(fx->s, &m_raw, priv), CKR_OK);
	len = sizeof(sig2);
	assert_int_equal(fx->f->C_Sign(fx->s, dgst, sizeof(dgst), sig2, &len), CKR_OK);
	assert_int_equal(len, 256);
	assert_int_equal(ossl_pss_verify(k, sig2, len, dgst), 1);
	/* PSS is randomised: two signatures differ */
	assert_memory_not_equal(sig, sig2, 256);

	/* the token verifies both; a bad signature is CKR_SIGNATURE_INVALID and ends the op */
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &m_sha, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, msg, sizeof(msg), sig, 256), CKR_OK);
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &m_raw, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, dgst, sizeof(dgst), sig2, 256), CKR_OK);
	sig[100] ^= 0x10;
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &m_sha, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, msg, sizeof(msg), sig, 256), CKR_SIGNATURE_INVALID);
	assert_int_equal(fx->f->C_Verify(fx->s, msg, sizeof(msg), sig, 256),
			 CKR_OPERATION_NOT_INITIALIZED);
	/* multi-part verify of the same bad signature */
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &m_sha, pub), CKR_OK);
	assert_int_equal(fx->f->C_VerifyUpdate(fx->s, msg, 10), CKR_OK);
	assert_int_equal(fx->f->C_VerifyUpdate(fx->s, msg + 10, sizeof(msg) - 10), CKR_OK);
	assert_int_equal(fx->f->C_VerifyFinal(fx->s, sig, 256), CKR_SIGNATURE_INVALID);
	/* a signature of the wrong length */
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &m_sha, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, msg, sizeof(msg), sig, 255),
			 CKR_SIGNATURE_LEN_RANGE);
	EVP_PKEY_free(k);
}

/* ---- Current Mechanisms §2.1.8 RSA-OAEP with a label ---- */

static void test_2_1_rsa_oaep_label(void **state)
{
	struct fx *fx = *state;
	CK_BYTE label[] = "the label", other[] = "the lapel";
	CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, label,
					 sizeof(label) - 1 };
	CK_MECHANISM m = { CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep) };
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE msg[48], ct[256], pt[256];
	size_t ctl = sizeof(ct);
	CK_ULONG len = 0;
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *x = NULL;

	gen_rsa(fx, &pub, &priv);
	k = rsa_pub(fx, pub);
	fill(msg, sizeof(msg), 2);
	x = EVP_PKEY_CTX_new(k, NULL);
	assert_true(EVP_PKEY_encrypt_init(x) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(x, RSA_PKCS1_OAEP_PADDING) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(x, EVP_sha256()) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(x, EVP_sha256()) == 1);
	assert_true(EVP_PKEY_CTX_set0_rsa_oaep_label(x, OPENSSL_memdup(label, sizeof(label) - 1),
						     sizeof(label) - 1) == 1);
	assert_true(EVP_PKEY_encrypt(x, ct, &ctl, msg, sizeof(msg)) == 1);
	assert_int_equal(ctl, 256);
	EVP_PKEY_CTX_free(x);

	/* the token decrypts OpenSSL's ciphertext: the label travelled */
	assert_int_equal(fx->f->C_DecryptInit(fx->s, &m, priv), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(fx->f->C_Decrypt(fx->s, ct, 256, pt, &len), CKR_OK);
	assert_int_equal(len, sizeof(msg));
	assert_memory_equal(pt, msg, sizeof(msg));
	/* another label of the same length, no label: the padding check fails */
	oaep.pSourceData = other;
	assert_int_equal(fx->f->C_DecryptInit(fx->s, &m, priv), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(fx->f->C_Decrypt(fx->s, ct, 256, pt, &len), CKR_ENCRYPTED_DATA_INVALID);
	oaep.pSourceData = NULL;
	oaep.ulSourceDataLen = 0;
	assert_int_equal(fx->f->C_DecryptInit(fx->s, &m, priv), CKR_OK);
	len = sizeof(pt);
	assert_int_equal(fx->f->C_Decrypt(fx->s, ct, 256, pt, &len), CKR_ENCRYPTED_DATA_INVALID);
	/* the operation ended with the error */
	assert_int_equal(fx->f->C_Decrypt(fx->s, ct, 256, pt, &len), CKR_OPERATION_NOT_INITIALIZED);
	EVP_PKEY_free(k);
}

/* ---- Current Mechanisms §2.3.10 ECDH1, Base §5.14 C_DeriveKey ---- */

static CK_RV ecdh_derive(struct fx *fx, CK_OBJECT_HANDLE base, CK_ULONG kdf, const CK_BYTE *shared,
			 CK_ULONG shared_len, const CK_BYTE *q, CK_OBJECT_HANDLE *out)
{
	CK_ECDH1_DERIVE_PARAMS p = { kdf, shared_len, (CK_BYTE_PTR)shared, 65, (CK_BYTE_PTR)q };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_ULONG vlen = 32;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_generic, sizeof(kt_generic) },
		{ CKA_SENSITIVE, &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
	};

	return fx->f->C_DeriveKey(fx->s, &m, base, t, N(t), out);
}

static void test_2_3_ecdh1_derive(void **state)
{
	struct fx *fx = *state;
	CK_OBJECT_HANDLE pub, priv, k1 = CK_INVALID_HANDLE, k2 = CK_INVALID_HANDLE;
	CK_BYTE point[80], peer_q[65], z[32], want[32], got[32], shared[] = "shared info";
	CK_ULONG len = sizeof(point);
	size_t ql = 0, zl = sizeof(z);
	EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *tok = NULL;
	EVP_PKEY_CTX *x = NULL;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL);
	EVP_KDF_CTX *kx = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[4];

	assert_non_null(peer);
	assert_non_null(kx);
	gen_ec(fx, CKM_EC_KEY_PAIR_GEN, p256_oid, sizeof(p256_oid), &pub, &priv);
	/* the token's point, a DER OCTET STRING of the uncompressed point, into OpenSSL */
	get_attr(fx, pub, CKA_EC_POINT, point, &len);
	assert_int_equal(len, 67);
	assert_int_equal(point[0], 0x04);
	assert_int_equal(point[1], 65);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point + 2, 65);
	p[2] = OSSL_PARAM_construct_end();
	x = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	assert_true(EVP_PKEY_fromdata_init(x) == 1);
	assert_true(EVP_PKEY_fromdata(x, &tok, EVP_PKEY_PUBLIC_KEY, p) == 1);
	EVP_PKEY_CTX_free(x);
	/* OpenSSL's side: Z = x(peer_d * token_Q) */
	assert_true(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_PUB_KEY, peer_q, 65,
						    &ql) == 1);
	assert_int_equal(ql, 65);
	x = EVP_PKEY_CTX_new(peer, NULL);
	assert_true(EVP_PKEY_derive_init(x) == 1);
	assert_true(EVP_PKEY_derive_set_peer(x, tok) == 1);
	assert_true(EVP_PKEY_derive(x, z, &zl) == 1);
	assert_int_equal(zl, 32);
	EVP_PKEY_CTX_free(x);

	/* CKD_NULL: the derived generic secret is Z */
	assert_int_equal(ecdh_derive(fx, priv, CKD_NULL, NULL, 0, peer_q, &k1), CKR_OK);
	len = sizeof(got);
	get_attr(fx, k1, CKA_VALUE, got, &len);
	assert_int_equal(len, 32);
	assert_memory_equal(got, z, 32);

	/* CKD_SHA256_KDF with shared data: ANSI X9.63 as OpenSSL computes it */
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, 32);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, shared, sizeof(shared) - 1);
	p[3] = OSSL_PARAM_construct_end();
	assert_true(EVP_KDF_derive(kx, want, sizeof(want), p) == 1);
	assert_int_equal(
		ecdh_derive(fx, priv, CKD_SHA256_KDF, shared, sizeof(shared) - 1, peer_q, &k2),
		CKR_OK);
	len = sizeof(got);
	get_attr(fx, k2, CKA_VALUE, got, &len);
	assert_int_equal(len, 32);
	assert_memory_equal(got, want, 32);
	assert_memory_not_equal(want, z, 32);

	/* CKD_NULL with shared data is MECHANISM_PARAM_INVALID (§2.3.10); a point off the curve
	 * is refused */
	assert_int_equal(ecdh_derive(fx, priv, CKD_NULL, shared, sizeof(shared) - 1, peer_q, &k2),
			 CKR_MECHANISM_PARAM_INVALID);
	peer_q[40] ^= 1;
	assert_int_not_equal(ecdh_derive(fx, priv, CKD_NULL, NULL, 0, peer_q, &k2), CKR_OK);

	EVP_KDF_CTX_free(kx);
	EVP_KDF_free(kdf);
	EVP_PKEY_free(tok);
	EVP_PKEY_free(peer);
}

/* ---- EdDSA (PKCS#11 3.0 Current Mechanisms §2.3.14) over Ed25519 ---- */

static void test_2_3_eddsa_ed25519(void **state)
{
	struct fx *fx = *state;
	CK_MECHANISM m = { CKM_EDDSA, NULL, 0 };
	CK_EDDSA_PARAMS ph = { CK_TRUE, 0, NULL };
	CK_MECHANISM m_ph = { CKM_EDDSA, &ph, sizeof(ph) };
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE msg[77], sig[64], point[40];
	CK_ULONG len = sizeof(point);
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	fill(msg, sizeof(msg), 3);
	gen_ec(fx, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed25519_oid, sizeof(ed25519_oid), &pub, &priv);
	get_attr(fx, pub, CKA_EC_POINT, point, &len);
	assert_int_equal(len, 34);
	assert_int_equal(point[0], 0x04);
	assert_int_equal(point[1], 32);
	k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, point + 2, 32);
	assert_non_null(k);

	assert_int_equal(fx->f->C_SignInit(fx->s, &m, priv), CKR_OK);
	len = 0;
	assert_int_equal(fx->f->C_Sign(fx->s, msg, sizeof(msg), NULL, &len), CKR_OK);
	assert_int_equal(len, 64);
	assert_int_equal(fx->f->C_Sign(fx->s, msg, sizeof(msg), sig, &len), CKR_OK);
	assert_int_equal(len, 64);
	assert_true(EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1);
	assert_int_equal(EVP_DigestVerify(md, sig, 64, msg, sizeof(msg)), 1);
	/* the token verifies it; a changed message is CKR_SIGNATURE_INVALID */
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &m, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, msg, sizeof(msg), sig, 64), CKR_OK);
	msg[0] ^= 1;
	assert_int_equal(fx->f->C_VerifyInit(fx->s, &m, pub), CKR_OK);
	assert_int_equal(fx->f->C_Verify(fx->s, msg, sizeof(msg), sig, 64), CKR_SIGNATURE_INVALID);
	/* Ed25519ph is not offered: the CK_EDDSA_PARAMS travelled and were refused */
	assert_int_equal(fx->f->C_SignInit(fx->s, &m_ph, priv), CKR_MECHANISM_PARAM_INVALID);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
}

/* ---- Current Mechanisms §2.10 AES-CTR with CK_AES_CTR_PARAMS ---- */

/* CTR by hand: OpenSSL's AES-256-ECB of each counter block, the low bits bits counting. */
static void ref_ctr(const CK_BYTE *key, const CK_BYTE cb0[16], unsigned bits, const CK_BYTE *in,
		    size_t len, CK_BYTE *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	CK_BYTE cb[16], ks[16];
	int n = 0;

	memcpy(cb, cb0, 16);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_ecb(), NULL, key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	for (size_t off = 0; off < len; off += 16) {
		assert_int_equal(EVP_EncryptUpdate(ctx, ks, &n, cb, 16), 1);
		for (size_t i = 0; i < 16 && off + i < len; i++)
			out[off + i] = in[off + i] ^ ks[i];
		for (unsigned b = 0; b < bits; b++) {
			CK_BYTE bit = (CK_BYTE)(1U << (b % 8));

			cb[15 - b / 8] ^= bit;
			if (cb[15 - b / 8] & bit)
				break;
		}
	}
	EVP_CIPHER_CTX_free(ctx);
}

static void test_2_10_aes_ctr(void **state)
{
	struct fx *fx = *state;
	CK_BYTE key[32], data[100], want[100], out[128], small[8];
	CK_AES_CTR_PARAMS ctr = { 128, { 0 } };
	CK_MECHANISM m = { CKM_AES_CTR, &ctr, sizeof(ctr) };
	CK_OBJECT_HANDLE h;
	CK_ULONG len = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;

	fill(key, sizeof(key), 4);
	fill(data, sizeof(data), 5);
	fill(ctr.cb, 12, 6);
	/* the low 32 bits are about to wrap: a 128-bit counter carries into byte 11, a 32-bit
	 * one does not */
	memset(ctr.cb + 12, 0xff, 3);
	ctr.cb[15] = 0xfe;
	h = aes_key(fx, key, sizeof(key), false);

	/* 128 bits: OpenSSL's AES-256-CTR. Size query, BUFFER_TOO_SMALL, OK; an Init while the
	 * operation is active is CKR_OPERATION_ACTIVE and leaves it be. */
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, ctr.cb), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, want, &n, data, sizeof(data)), 1);
	assert_int_equal(n, sizeof(data));
	EVP_CIPHER_CTX_free(ctx);
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &m, h), CKR_OK);
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &m, h), CKR_OPERATION_ACTIVE);
	assert_int_equal(fx->f->C_Encrypt(fx->s, data, sizeof(data), NULL, &len), CKR_OK);
	assert_int_equal(len, sizeof(data));
	len = sizeof(small);
	assert_int_equal(fx->f->C_Encrypt(fx->s, data, sizeof(data), small, &len),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, sizeof(data));
	len = sizeof(out);
	assert_int_equal(fx->f->C_Encrypt(fx->s, data, sizeof(data), out, &len), CKR_OK);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(out, want, sizeof(data));
	/* the operation is over */
	assert_int_equal(fx->f->C_Encrypt(fx->s, data, sizeof(data), out, &len),
			 CKR_OPERATION_NOT_INITIALIZED);

	/* 32 bits: the counter wraps within its 32 bits, byte 11 stays */
	ctr.ulCounterBits = 32;
	ref_ctr(key, ctr.cb, 32, data, sizeof(data), want);
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &m, h), CKR_OK);
	len = sizeof(out);
	assert_int_equal(fx->f->C_Encrypt(fx->s, data, sizeof(data), out, &len), CKR_OK);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(out, want, sizeof(data));
	/* and differs from the 128-bit result from the third block on */
	ref_ctr(key, ctr.cb, 128, data, sizeof(data), want);
	assert_memory_equal(out, want, 32);
	assert_memory_not_equal(out + 32, want + 32, 16);
	/* multi-part decryption with the 32-bit counter gives the data back */
	ref_ctr(key, ctr.cb, 32, data, sizeof(data), want);
	assert_int_equal(fx->f->C_DecryptInit(fx->s, &m, h), CKR_OK);
	len = sizeof(out);
	assert_int_equal(fx->f->C_DecryptUpdate(fx->s, want, 37, out, &len), CKR_OK);
	assert_int_equal(len, 37);
	len = sizeof(out) - 37;
	assert_int_equal(
		fx->f->C_DecryptUpdate(fx->s, want + 37, sizeof(data) - 37, out + 37, &len),
		CKR_OK);
	assert_int_equal(len, sizeof(data) - 37);
	len = sizeof(small);
	assert_int_equal(fx->f->C_DecryptFinal(fx->s, small, &len), CKR_OK);
	assert_int_equal(len, 0);
	assert_memory_equal(out, data, sizeof(data));
	/* ulCounterBits out of range travels and is refused by the token */
	ctr.ulCounterBits = 129;
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &m, h), CKR_MECHANISM_PARAM_INVALID);
}

/* ---- Base §5.14 C_WrapKey / C_UnwrapKey with CKM_AES_KEY_WRAP_PAD (RFC 5649) ---- */

static void test_5_14_wrap_unwrap_aes_kwp(void **state)
{
	struct fx *fx = *state;
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_BYTE kek_v[32], key_v[24], want[40], w[64], small[8], cv[3], cv2[3], zero[16] = { 0 },
										enc0[16];
	CK_OBJECT_HANDLE kek, key, locked, un = CK_INVALID_HANDLE;
	CK_ATTRIBUTE ut[] = {
		{ CKA_CLASS, &cls_secret, sizeof(cls_secret) },
		{ CKA_KEY_TYPE, &kt_aes, sizeof(kt_aes) },
		{ CKA_TOKEN, &no, 1 },
		{ CKA_ENCRYPT, &yes, 1 },
	};
	CK_BBOOL tok = CK_TRUE;
	CK_ATTRIBUTE get_tok = { CKA_TOKEN, &tok, 1 };
	CK_ULONG len = 0;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, n2 = 0;

	fill(kek_v, sizeof(kek_v), 7);
	fill(key_v, sizeof(key_v), 8);
	kek = aes_key(fx, kek_v, sizeof(kek_v), false);
	key = aes_key(fx, key_v, sizeof(key_v), true);
	locked = aes_key(fx, key_v, sizeof(key_v), false);
	/* RFC 5649 of the 24-byte key under the KEK, by OpenSSL */
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, kek_v, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, want, &n, key_v, sizeof(key_v)), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, want + n, &n2), 1);
	assert_int_equal(n + n2, 32);
	EVP_CIPHER_CTX_free(ctx);

	/* size query, BUFFER_TOO_SMALL with the size, then the wrapped key */
	assert_int_equal(fx->f->C_WrapKey(fx->s, &kwp, kek, key, NULL, &len), CKR_OK);
	assert_int_equal(len, 32);
	len = sizeof(small);
	assert_int_equal(fx->f->C_WrapKey(fx->s, &kwp, kek, key, small, &len),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 32);
	len = sizeof(w);
	assert_int_equal(fx->f->C_WrapKey(fx->s, &kwp, kek, key, w, &len), CKR_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(w, want, 32);

	/* unwrapped into a session object: the same key, by its check value (§4.10: the first
	 * three bytes of the ECB encryption of a zero block), which OpenSSL computes too */
	assert_int_equal(fx->f->C_UnwrapKey(fx->s, &kwp, kek, w, len, ut, N(ut), &un), CKR_OK);
	assert_int_not_equal(un, CK_INVALID_HANDLE);
	assert_int_equal(fx->f->C_GetAttributeValue(fx->s, un, &get_tok, 1), CKR_OK);
	assert_int_equal(tok, CK_FALSE);
	len = sizeof(cv);
	get_attr(fx, key, CKA_CHECK_VALUE, cv, &len);
	assert_int_equal(len, 3);
	len = sizeof(cv2);
	get_attr(fx, un, CKA_CHECK_VALUE, cv2, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(cv, cv2, 3);
	ctx = EVP_CIPHER_CTX_new();
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_192_ecb(), NULL, key_v, NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, enc0, &n, zero, 16), 1);
	EVP_CIPHER_CTX_free(ctx);
	assert_memory_equal(cv2, enc0, 3);

	/* a tampered wrapping does not unwrap */
	w[3] ^= 1;
	assert_int_equal(fx->f->C_UnwrapKey(fx->s, &kwp, kek, w, 32, ut, N(ut), &un),
			 CKR_WRAPPED_KEY_INVALID);
	/* a key with CKA_EXTRACTABLE false cannot be wrapped, not even sized */
	len = sizeof(w);
	assert_int_equal(fx->f->C_WrapKey(fx->s, &kwp, kek, locked, w, &len),
			 CKR_KEY_UNEXTRACTABLE);
	assert_int_equal(fx->f->C_WrapKey(fx->s, &kwp, kek, locked, NULL, &len),
			 CKR_KEY_UNEXTRACTABLE);
}

/* ---- §5.2: a parameter of the wrong size is the module's CKR_MECHANISM_PARAM_INVALID ---- */

static void test_5_2_param_length_refused_by_module(void **state)
{
	struct fx *fx = *state;
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 5 };
	CK_AES_CTR_PARAMS ctr = { 128, { 0 } };
	CK_GCM_PARAMS gcm = { NULL, 12, 96, NULL, 0, 128 };
	CK_ECDH1_DERIVE_PARAMS ecdh = { CKD_NULL, 0, NULL, 65, NULL };
	CK_EDDSA_PARAMS ed = { CK_FALSE, 0, NULL };
	CK_BYTE kv[16] = { 1 }, out[64];
	CK_OBJECT_HANDLE h, h2 = CK_INVALID_HANDLE;
	struct {
		CK_MECHANISM m;
		int op; /* 0 encrypt, 1 sign, 2 verify, 3 derive, 4 decrypt */
	} cases[] = {
		{ { CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) - 1 }, 1 },
		{ { CKM_RSA_PKCS_PSS, &pss, sizeof(pss) + 1 }, 2 },
		{ { CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep) / 2 }, 0 },
		{ { CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep) }, 4 }, /* NULL label of length 5 */
		{ { CKM_AES_CTR, &ctr, sizeof(ctr) - 1 }, 0 },
		{ { CKM_AES_CTR, &ctr, 16 }, 4 },
		{ { CKM_AES_GCM, &gcm, sizeof(gcm) }, 0 }, /* NULL IV of length 12 */
		{ { CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh) + 8 }, 3 },
		{ { CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh) }, 3 }, /* NULL point of length 65 */
		{ { CKM_EDDSA, &ed, sizeof(ed) - 1 }, 1 },
		{ { CKM_AES_CBC, NULL, 16 }, 0 }, /* no parameter but a length */
	};
	CK_ULONG len = sizeof(out);
	unsigned long before = 0;

	h = aes_key(fx, kv, sizeof(kv), true);
	before = fx->lt->calls;
	for (size_t i = 0; i < N(cases); i++) {
		CK_MECHANISM *m = &cases[i].m;
		CK_RV rv = CKR_GENERAL_ERROR;

		switch (cases[i].op) {
		case 0:
			rv = fx->f->C_EncryptInit(fx->s, m, h);
			break;
		case 1:
			rv = fx->f->C_SignInit(fx->s, m, h);
			break;
		case 2:
			rv = fx->f->C_VerifyInit(fx->s, m, h);
			break;
		case 3:
			rv = fx->f->C_DeriveKey(fx->s, m, h, NULL, 0, &h2);
			break;
		default:
			rv = fx->f->C_DecryptInit(fx->s, m, h);
			break;
		}
		assert_int_equal(rv, CKR_MECHANISM_PARAM_INVALID);
	}
	assert_int_equal(fx->f->C_WrapKey(fx->s, &cases[4].m, h, h, out, &len),
			 CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(fx->f->C_UnwrapKey(fx->s, &cases[2].m, h, out, 32, NULL, 0, &h2),
			 CKR_MECHANISM_PARAM_INVALID);
	/* none of it reached the server */
	assert_int_equal(fx->lt->calls, before);
	/* the counting is real: a good parameter travels */
	ctr.ulCounterBits = 64;
	cases[4].m.ulParameterLen = sizeof(ctr);
	assert_int_equal(fx->f->C_EncryptInit(fx->s, &cases[4].m, h), CKR_OK);
	assert_true(fx->lt->calls > before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_2_1_rsa_pss, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_2_1_rsa_oaep_label, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_2_3_ecdh1_derive, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_2_3_eddsa_ed25519, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_2_10_aes_ctr, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_14_wrap_unwrap_aes_kwp, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_5_2_param_length_refused_by_module, fx_setup,
						fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
