/*
 * Mechanisms and cryptographic operations of the token core through ta.h only: every result is
 * checked against an independent OpenSSL computation in the test (or a published known-answer
 * vector), and every operation rule by the PKCS#11 v2.40 section it comes from (Base
 * Specification §5.x; Current Mechanisms §2.x).
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
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "fixture_ta.h"
#include "ta.h"

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const CK_BYTE p384_params[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const CK_BYTE p521_params[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const CK_BYTE ed_params[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;

static int setup(void **state)
{
	static const struct fx_ta_params p = {
		.name = "test_ta_mechs",
		.user_session = true,
	};

	return fx_ta_setup(state, &p);
}

static int teardown(void **state)
{
	return fx_ta_teardown(state);
}

/* --- helpers --- */

/* Import a secret key (session object) with the given value and flags. */
static CK_OBJECT_HANDLE secret_key(struct fx *f, CK_KEY_TYPE kt, const void *v, CK_ULONG len,
				   bool sensitive)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) }, { CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE, (void *)v, len },	  { CKA_SENSITIVE, sensitive ? &yes : &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },	  { CKA_ENCRYPT, &yes, 1 },
		{ CKA_DECRYPT, &yes, 1 },	  { CKA_SIGN, &yes, 1 },
		{ CKA_VERIFY, &yes, 1 },	  { CKA_WRAP, &yes, 1 },
		{ CKA_UNWRAP, &yes, 1 },
	};

	assert_int_equal(ta_C_CreateObject(f->c, f->h, t, sizeof(t) / sizeof(t[0]), &o), CKR_OK);
	return o;
}

static void get_attr(struct fx *f, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, void *buf,
		     CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, buf, *len };

	assert_int_equal(ta_C_GetAttributeValue(f->c, f->h, o, &a, 1), CKR_OK);
	*len = a.ulValueLen;
}

static void fill(CK_BYTE *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (CK_BYTE)(seed * 31 + i * 7 + (i >> 3));
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

static EVP_PKEY *ec_pub(struct fx *f, CK_OBJECT_HANDLE pub, const char *group)
{
	CK_BYTE pt[140];
	CK_ULONG len = sizeof(pt);
	size_t hdr = 0;
	OSSL_PARAM p[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;

	get_attr(f, pub, CKA_EC_POINT, pt, &len);
	assert_int_equal(pt[0], 0x04);
	hdr = pt[1] == 0x81 ? 3 : 2;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt + hdr, len - hdr);
	p[2] = OSSL_PARAM_construct_end();
	assert_true(EVP_PKEY_fromdata_init(ctx) == 1);
	assert_true(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, p) == 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static CK_RV gen_rsa(struct fx *f, CK_ULONG bits, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pt[] = {
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_VERIFY, &yes, 1 },
		{ CKA_ENCRYPT, &yes, 1 },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_SIGN, &yes, 1 },
		{ CKA_DECRYPT, &yes, 1 },
		{ CKA_SENSITIVE, &yes, 1 },
	};

	return ta_C_GenerateKeyPair(f->c, f->h, &m, pt, 3, kt, 3, pub, priv);
}

static CK_RV gen_ec(struct fx *f, CK_MECHANISM_TYPE mech, const CK_BYTE *params, CK_ULONG plen,
		    CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM m = { mech, NULL, 0 };
	CK_ATTRIBUTE pt[] = {
		{ CKA_EC_PARAMS, (void *)params, plen },
		{ CKA_VERIFY, &yes, 1 },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_SIGN, &yes, 1 },
		{ CKA_DERIVE, &yes, 1 },
	};

	return ta_C_GenerateKeyPair(f->c, f->h, &m, pt, 2, kt, 2, pub, priv);
}

/* --- Base §5.10 digests, and the operation rules of §5.2 --- */

static void test_5_10_digest_sha_family(void **state)
{
	struct fx *f = *state;
	static const struct {
		CK_MECHANISM_TYPE m;
		const char *name;
	} algs[] = { { CKM_SHA_1, "SHA1" },
		     { CKM_SHA224, "SHA224" },
		     { CKM_SHA256, "SHA256" },
		     { CKM_SHA384, "SHA384" },
		     { CKM_SHA512, "SHA512" } };
	CK_BYTE data[300], out[64], want[64];
	unsigned int wl = 0;

	fill(data, sizeof(data), 1);
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		CK_MECHANISM m = { algs[i].m, NULL, 0 };
		CK_ULONG len = 0;

		assert_true(EVP_Digest(data, sizeof(data), want, &wl,
				       EVP_get_digestbyname(algs[i].name), NULL));
		/* single part, with a size query and a too small buffer first (§5.2) */
		assert_int_equal(ta_C_DigestInit(f->c, f->h, &m), CKR_OK);
		assert_int_equal(ta_C_Digest(f->c, f->h, data, sizeof(data), NULL, &len), CKR_OK);
		assert_int_equal(len, wl);
		len = 3;
		assert_int_equal(ta_C_Digest(f->c, f->h, data, sizeof(data), out, &len),
				 CKR_BUFFER_TOO_SMALL);
		assert_int_equal(len, wl);
		len = sizeof(out);
		assert_int_equal(ta_C_Digest(f->c, f->h, data, sizeof(data), out, &len), CKR_OK);
		assert_int_equal(len, wl);
		assert_memory_equal(out, want, wl);
		/* the operation is over */
		assert_int_equal(ta_C_Digest(f->c, f->h, data, sizeof(data), out, &len),
				 CKR_OPERATION_NOT_INITIALIZED);
		/* multi-part, in uneven parts */
		assert_int_equal(ta_C_DigestInit(f->c, f->h, &m), CKR_OK);
		assert_int_equal(ta_C_DigestUpdate(f->c, f->h, data, 1), CKR_OK);
		assert_int_equal(ta_C_DigestUpdate(f->c, f->h, data + 1, 0), CKR_OK);
		assert_int_equal(ta_C_DigestUpdate(f->c, f->h, data + 1, sizeof(data) - 1), CKR_OK);
		len = 0;
		assert_int_equal(ta_C_DigestFinal(f->c, f->h, NULL, &len), CKR_OK);
		assert_int_equal(len, wl);
		assert_int_equal(ta_C_DigestFinal(f->c, f->h, out, &len), CKR_OK);
		assert_memory_equal(out, want, wl);
		assert_int_equal(ta_C_DigestFinal(f->c, f->h, out, &len),
				 CKR_OPERATION_NOT_INITIALIZED);
	}
}

static void test_5_2_operation_rules(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM sha = { CKM_SHA256, NULL, 0 };
	CK_MECHANISM sha_param = { CKM_SHA256, &yes, 1 };
	CK_MECHANISM md5 = { CKM_MD5, NULL, 0 };
	CK_BYTE data[10] = { 1 }, out[64];
	CK_ULONG len = sizeof(out);

	assert_int_equal(ta_C_DigestInit(f->c, f->h, NULL), CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &md5), CKR_MECHANISM_INVALID);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha_param), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(ta_C_DigestUpdate(f->c, f->h, data, sizeof(data)),
			 CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OPERATION_ACTIVE);
	/* a one-shot call cannot finish a multi-part operation: it ends it */
	assert_int_equal(ta_C_DigestUpdate(f->c, f->h, data, sizeof(data)), CKR_OK);
	assert_int_equal(ta_C_Digest(f->c, f->h, data, sizeof(data), out, &len),
			 CKR_OPERATION_ACTIVE);
	assert_int_equal(ta_C_DigestFinal(f->c, f->h, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* an error other than BUFFER_TOO_SMALL ends the operation */
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_DigestUpdate(f->c, f->h, NULL, 5), CKR_ARGUMENTS_BAD);
	assert_int_equal(ta_C_DigestFinal(f->c, f->h, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	/* no mechanism recovers data from a signature */
	assert_int_equal(ta_C_SignRecoverInit(f->c, f->h, &sha, 1), CKR_MECHANISM_INVALID);
	assert_int_equal(ta_C_VerifyRecoverInit(f->c, f->h, &sha, 1), CKR_MECHANISM_INVALID);
	assert_int_equal(ta_C_SignRecover(f->c, f->h, data, 1, out, &len),
			 CKR_OPERATION_NOT_INITIALIZED);
}

static void test_5_10_digest_key(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM sha = { CKM_SHA256, NULL, 0 };
	CK_BYTE v[32], out[32], want[32];
	CK_ULONG len = sizeof(out);
	unsigned int wl = 0;
	CK_OBJECT_HANDLE plain, sens;

	fill(v, sizeof(v), 9);
	plain = secret_key(f, CKK_GENERIC_SECRET, v, sizeof(v), false);
	sens = secret_key(f, CKK_GENERIC_SECRET, v, sizeof(v), true);
	EVP_Digest(v, sizeof(v), want, &wl, EVP_sha256(), NULL);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_DigestKey(f->c, f->h, plain), CKR_OK);
	assert_int_equal(ta_C_DigestFinal(f->c, f->h, out, &len), CKR_OK);
	assert_memory_equal(out, want, sizeof(want));
	/* a sensitive key's digest is a secret too (our decision; the spec allows refusing) */
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_DigestKey(f->c, f->h, sens), CKR_KEY_INDIGESTIBLE);
	assert_int_equal(ta_C_DigestFinal(f->c, f->h, out, &len), CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_DigestInit(f->c, f->h, &sha), CKR_OK);
	assert_int_equal(ta_C_DigestKey(f->c, f->h, 0x7777), CKR_KEY_HANDLE_INVALID);
}

/* --- Current Mechanisms §2.1 RSA --- */

static void test_2_1_rsa_sign_verify(void **state)
{
	struct fx *f = *state;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE data[100], sig[512], di[19 + 32];
	CK_ULONG len = 0;
	CK_MECHANISM sha256_rsa = { CKM_SHA256_RSA_PKCS, NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA256, CKG_MGF1_SHA256, 32 };
	CK_RSA_PKCS_PSS_PARAMS pss_bad = { CKM_SHA384, CKG_MGF1_SHA256, 32 };
	CK_MECHANISM sha256_pss = { CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) };
	CK_MECHANISM sha256_pss_bad = { CKM_SHA256_RSA_PKCS_PSS, &pss_bad, sizeof(pss_bad) };
	CK_MECHANISM raw = { CKM_RSA_PKCS, NULL, 0 };
	static const CK_BYTE di_prefix[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					       0x01, 0x05, 0x00, 0x04, 0x20 };
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned int hl = 0;

	assert_int_equal(gen_rsa(f, 2048, &pub, &priv), CKR_OK);
	k = rsa_pub(f, pub);
	fill(data, sizeof(data), 3);

	/* SHA256_RSA_PKCS, multi-part; OpenSSL verifies */
	assert_int_equal(ta_C_SignInit(f->c, f->h, &sha256_rsa, priv), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, f->h, data, 40), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, f->h, data + 40, 60), CKR_OK);
	assert_int_equal(ta_C_SignFinal(f->c, f->h, NULL, &len), CKR_OK);
	assert_int_equal(len, 256);
	assert_int_equal(ta_C_SignFinal(f->c, f->h, sig, &len), CKR_OK);
	assert_true(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1);
	assert_int_equal(EVP_DigestVerify(md, sig, len, data, sizeof(data)), 1);
	/* the token verifies its own, and refuses a changed or mis-sized one */
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &sha256_rsa, pub), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), sig, len), CKR_OK);
	sig[10] ^= 1;
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &sha256_rsa, pub), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), sig, len),
			 CKR_SIGNATURE_INVALID);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &sha256_rsa, pub), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), sig, len - 1),
			 CKR_SIGNATURE_LEN_RANGE);

	/* CKM_RSA_PKCS over a DigestInfo equals SHA256_RSA_PKCS (deterministic v1.5) */
	memcpy(di, di_prefix, sizeof(di_prefix));
	EVP_Digest(data, sizeof(data), di + 19, &hl, EVP_sha256(), NULL);
	len = sizeof(sig);
	assert_int_equal(ta_C_SignInit(f->c, f->h, &raw, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, f->h, di, sizeof(di), sig, &len), CKR_OK);
	sig[10] ^= 0; /* fresh signature */
	EVP_MD_CTX_reset(md);
	assert_true(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1);
	assert_int_equal(EVP_DigestVerify(md, sig, len, data, sizeof(data)), 1);
	/* single-part mechanism: no update (and the operation ends) */
	assert_int_equal(ta_C_SignInit(f->c, f->h, &raw, priv), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, f->h, di, sizeof(di)), CKR_FUNCTION_NOT_SUPPORTED);
	assert_int_equal(ta_C_SignFinal(f->c, f->h, sig, &len), CKR_OPERATION_NOT_INITIALIZED);

	/* PSS: hashAlg must match the mechanism (§2.1.15) */
	assert_int_equal(ta_C_SignInit(f->c, f->h, &sha256_pss_bad, priv),
			 CKR_MECHANISM_PARAM_INVALID);
	len = sizeof(sig);
	assert_int_equal(ta_C_SignInit(f->c, f->h, &sha256_pss, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, f->h, data, sizeof(data), sig, &len), CKR_OK);
	EVP_MD_CTX_reset(md);
	assert_true(EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1);
	assert_int_equal(EVP_DigestVerify(md, sig, len, data, sizeof(data)), 1);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &sha256_pss, pub), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), sig, len), CKR_OK);

	/* the policy check: public key cannot sign, private key cannot verify */
	assert_int_equal(ta_C_SignInit(f->c, f->h, &sha256_rsa, pub), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &sha256_rsa, priv), CKR_KEY_TYPE_INCONSISTENT);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
}

static void test_2_1_rsa_encrypt_decrypt(void **state)
{
	struct fx *f = *state;
	CK_OBJECT_HANDLE pub, priv;
	CK_BYTE msg[40], ct[256], pt[256];
	CK_BYTE label[] = "a label";
	size_t ctl = sizeof(ct);
	CK_ULONG len = 0;
	CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, label,
					 sizeof(label) - 1 };
	CK_MECHANISM m_oaep = { CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep) };
	CK_MECHANISM m_pkcs = { CKM_RSA_PKCS, NULL, 0 };
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = NULL;

	assert_int_equal(gen_rsa(f, 2048, &pub, &priv), CKR_OK);
	k = rsa_pub(f, pub);
	fill(msg, sizeof(msg), 5);

	/* OpenSSL encrypts with OAEP-SHA256 and a label; the token decrypts */
	ctx = EVP_PKEY_CTX_new(k, NULL);
	assert_true(EVP_PKEY_encrypt_init(ctx) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1);
	assert_true(EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, OPENSSL_memdup(label, 7), 7) == 1);
	assert_true(EVP_PKEY_encrypt(ctx, ct, &ctl, msg, sizeof(msg)) == 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m_oaep, priv), CKR_OK);
	/* the size query is exact */
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, ctl, NULL, &len), CKR_OK);
	assert_int_equal(len, sizeof(msg));
	len = sizeof(pt);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, ctl, pt, &len), CKR_OK);
	assert_int_equal(len, sizeof(msg));
	assert_memory_equal(pt, msg, sizeof(msg));
	/* a changed ciphertext, a wrong length */
	ct[5] ^= 1;
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m_oaep, priv), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, ctl, pt, &len), CKR_ENCRYPTED_DATA_INVALID);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m_oaep, priv), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, ctl - 1, pt, &len),
			 CKR_ENCRYPTED_DATA_LEN_RANGE);

	/* OpenSSL encrypts with PKCS #1 v1.5; the token decrypts */
	ctl = sizeof(ct);
	ctx = EVP_PKEY_CTX_new(k, NULL);
	assert_true(EVP_PKEY_encrypt_init(ctx) == 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1);
	assert_true(EVP_PKEY_encrypt(ctx, ct, &ctl, msg, sizeof(msg)) == 1);
	EVP_PKEY_CTX_free(ctx);
	len = sizeof(pt);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m_pkcs, priv), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, ctl, pt, &len), CKR_OK);
	assert_memory_equal(pt, msg, sizeof(msg));

	/* the token encrypts (public key) and decrypts its own; too long data is refused */
	len = sizeof(ct);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m_oaep, pub), CKR_OK);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, msg, sizeof(msg), ct, &len), CKR_OK);
	assert_int_equal(len, 256);
	ctl = len;
	len = sizeof(pt);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m_oaep, priv), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, ct, ctl, pt, &len), CKR_OK);
	assert_memory_equal(pt, msg, sizeof(msg));
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m_oaep, pub), CKR_OK);
	len = sizeof(ct);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, pt, 256 - 2 * 32 - 1, ct, &len),
			 CKR_DATA_LEN_RANGE);
	EVP_PKEY_free(k);
}

/* --- Current Mechanisms §2.3 EC, and Ed25519 --- */

static void test_2_3_ecdsa_curves(void **state)
{
	struct fx *f = *state;
	static const struct {
		const CK_BYTE *params;
		CK_ULONG len;
		const char *group;
		CK_ULONG siglen;
	} curves[] = {
		{ p256_params, sizeof(p256_params), "P-256", 64 },
		{ p384_params, sizeof(p384_params), "P-384", 96 },
		{ p521_params, sizeof(p521_params), "P-521", 132 },
	};
	CK_MECHANISM m = { CKM_ECDSA_SHA384, NULL, 0 };
	CK_BYTE data[77], sig[132], der[200];
	unsigned char *dp = der;

	fill(data, sizeof(data), 11);
	for (size_t i = 0; i < 3; i++) {
		CK_OBJECT_HANDLE pub, priv;
		CK_ULONG len = 0;
		EVP_PKEY *k = NULL;
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ECDSA_SIG *es = ECDSA_SIG_new();
		int dl = 0;

		assert_int_equal(gen_ec(f, CKM_EC_KEY_PAIR_GEN, curves[i].params, curves[i].len,
					&pub, &priv),
				 CKR_OK);
		k = ec_pub(f, pub, curves[i].group);
		assert_int_equal(ta_C_SignInit(f->c, f->h, &m, priv), CKR_OK);
		assert_int_equal(ta_C_Sign(f->c, f->h, data, sizeof(data), NULL, &len), CKR_OK);
		assert_int_equal(len, curves[i].siglen);
		assert_int_equal(ta_C_Sign(f->c, f->h, data, sizeof(data), sig, &len), CKR_OK);
		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)len / 2, NULL),
			       BN_bin2bn(sig + len / 2, (int)len / 2, NULL));
		dp = der;
		dl = i2d_ECDSA_SIG(es, &dp);
		assert_true(EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, k) == 1);
		assert_int_equal(EVP_DigestVerify(md, der, (size_t)dl, data, sizeof(data)), 1);
		/* the token's verify, multi-part, and a wrong signature */
		assert_int_equal(ta_C_VerifyInit(f->c, f->h, &m, pub), CKR_OK);
		assert_int_equal(ta_C_VerifyUpdate(f->c, f->h, data, 7), CKR_OK);
		assert_int_equal(ta_C_VerifyUpdate(f->c, f->h, data + 7, sizeof(data) - 7), CKR_OK);
		assert_int_equal(ta_C_VerifyFinal(f->c, f->h, sig, len), CKR_OK);
		sig[0] ^= 0x40;
		assert_int_equal(ta_C_VerifyInit(f->c, f->h, &m, pub), CKR_OK);
		assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), sig, len),
				 CKR_SIGNATURE_INVALID);
		ECDSA_SIG_free(es);
		EVP_MD_CTX_free(md);
		EVP_PKEY_free(k);
	}
}

static void test_eddsa_ed25519(void **state)
{
	struct fx *f = *state;
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = { CKM_EDDSA, NULL, 0 };
	struct {
		CK_BBOOL ph;
		CK_ULONG clen;
		CK_BYTE_PTR c;
	} ph = { CK_TRUE, 0, NULL }, pure = { CK_FALSE, 0, NULL };
	CK_MECHANISM m_ph = { CKM_EDDSA, &ph, sizeof(ph) };
	CK_MECHANISM m_pure = { CKM_EDDSA, &pure, sizeof(pure) };
	CK_BYTE data[50], sig[64], pt[40];
	CK_ULONG len = sizeof(sig), pl = sizeof(pt);
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	fill(data, sizeof(data), 13);
	assert_int_equal(
		gen_ec(f, CKM_EC_EDWARDS_KEY_PAIR_GEN, ed_params, sizeof(ed_params), &pub, &priv),
		CKR_OK);
	get_attr(f, pub, CKA_EC_POINT, pt, &pl);
	assert_int_equal(pl, 34);
	k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pt + 2, 32);
	assert_non_null(k);
	assert_int_equal(ta_C_SignInit(f->c, f->h, &m, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, f->h, data, sizeof(data), sig, &len), CKR_OK);
	assert_int_equal(len, 64);
	assert_true(EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) == 1);
	assert_int_equal(EVP_DigestVerify(md, sig, len, data, sizeof(data)), 1);
	/* CK_EDDSA_PARAMS: pure Ed25519 only */
	assert_int_equal(ta_C_SignInit(f->c, f->h, &m_ph, priv), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &m_pure, pub), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), sig, len), CKR_OK);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
}

/* --- Current Mechanisms §2.10-2.14 AES --- */

/* OpenSSL's encryption of in with cipher (no padding unless pad). */
static int ossl_crypt(const EVP_CIPHER *c, const CK_BYTE *key, const CK_BYTE *iv, bool pad,
		      const CK_BYTE *in, int len, CK_BYTE *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int a = 0, b = 0;

	assert_true(EVP_EncryptInit_ex2(ctx, c, key, iv, NULL) == 1);
	EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0);
	assert_true(EVP_EncryptUpdate(ctx, out, &a, in, len) == 1);
	assert_true(EVP_EncryptFinal_ex(ctx, out + a, &b) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return a + b;
}

static void test_2_10_aes_block_modes(void **state)
{
	struct fx *f = *state;
	CK_BYTE key[32], iv[16], data[100], want[128], out[128], back[128];
	CK_AES_CTR_PARAMS ctr = { 128, { 0 } };
	CK_OBJECT_HANDLE hk;
	struct {
		CK_MECHANISM m;
		const EVP_CIPHER *c;
		bool pad;
		CK_ULONG n;
	} cases[] = {
		{ { CKM_AES_ECB, NULL, 0 }, EVP_aes_256_ecb(), false, 96 },
		{ { CKM_AES_CBC, iv, 16 }, EVP_aes_256_cbc(), false, 96 },
		{ { CKM_AES_CBC_PAD, iv, 16 }, EVP_aes_256_cbc(), true, 100 },
		{ { CKM_AES_CBC_PAD, iv, 16 }, EVP_aes_256_cbc(), true, 96 },
		{ { CKM_AES_CTR, &ctr, sizeof(ctr) }, EVP_aes_256_ctr(), false, 100 },
	};

	fill(key, sizeof(key), 21);
	fill(iv, sizeof(iv), 22);
	fill(data, sizeof(data), 23);
	memcpy(ctr.cb, iv, 16);
	hk = secret_key(f, CKK_AES, key, sizeof(key), true);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CK_MECHANISM *m = &cases[i].m;
		int wl = ossl_crypt(cases[i].c, key, iv, cases[i].pad, data, (int)cases[i].n, want);
		CK_ULONG len = 0, tot = 0, got = 0;

		/* single part: exact size query, then OpenSSL's ciphertext */
		assert_int_equal(ta_C_EncryptInit(f->c, f->h, m, hk), CKR_OK);
		assert_int_equal(ta_C_Encrypt(f->c, f->h, data, cases[i].n, NULL, &len), CKR_OK);
		assert_int_equal(len, wl);
		len = sizeof(out);
		assert_int_equal(ta_C_Encrypt(f->c, f->h, data, cases[i].n, out, &len), CKR_OK);
		assert_int_equal(len, wl);
		assert_memory_equal(out, want, wl);
		/* multi-part in parts of 7 bytes: each update's size query is exact */
		assert_int_equal(ta_C_EncryptInit(f->c, f->h, m, hk), CKR_OK);
		for (CK_ULONG off = 0; off < cases[i].n; off += 7) {
			CK_ULONG part = cases[i].n - off < 7 ? cases[i].n - off : 7;

			assert_int_equal(
				ta_C_EncryptUpdate(f->c, f->h, data + off, part, NULL, &got),
				CKR_OK);
			len = sizeof(out) - tot;
			assert_int_equal(
				ta_C_EncryptUpdate(f->c, f->h, data + off, part, out + tot, &len),
				CKR_OK);
			assert_int_equal(len, got);
			tot += len;
		}
		len = sizeof(out) - tot;
		assert_int_equal(ta_C_EncryptFinal(f->c, f->h, out + tot, &len), CKR_OK);
		tot += len;
		assert_int_equal(tot, wl);
		assert_memory_equal(out, want, wl);
		/* the token decrypts OpenSSL's ciphertext, in two parts */
		assert_int_equal(ta_C_DecryptInit(f->c, f->h, m, hk), CKR_OK);
		len = sizeof(back);
		assert_int_equal(ta_C_DecryptUpdate(f->c, f->h, want, 33, back, &len), CKR_OK);
		tot = len;
		len = sizeof(back) - tot;
		assert_int_equal(ta_C_DecryptUpdate(f->c, f->h, want + 33, (CK_ULONG)wl - 33,
						    back + tot, &len),
				 CKR_OK);
		tot += len;
		len = 0;
		assert_int_equal(ta_C_DecryptFinal(f->c, f->h, NULL, &len), CKR_OK);
		got = len;
		len = sizeof(back) - tot;
		assert_int_equal(ta_C_DecryptFinal(f->c, f->h, back + tot, &len), CKR_OK);
		assert_int_equal(len, got); /* the final's size query was exact */
		tot += len;
		assert_int_equal(tot, cases[i].n);
		assert_memory_equal(back, data, cases[i].n);
	}

	/* §2.10: a bad IV, data not a multiple of the block size, bad padding */
	{
		CK_MECHANISM bad_iv = { CKM_AES_CBC, iv, 8 };
		CK_MECHANISM cbc = { CKM_AES_CBC, iv, 16 };
		CK_MECHANISM cbc_pad = { CKM_AES_CBC_PAD, iv, 16 };
		CK_ULONG len = sizeof(out);

		assert_int_equal(ta_C_EncryptInit(f->c, f->h, &bad_iv, hk),
				 CKR_MECHANISM_PARAM_INVALID);
		assert_int_equal(ta_C_EncryptInit(f->c, f->h, &cbc, hk), CKR_OK);
		assert_int_equal(ta_C_Encrypt(f->c, f->h, data, 17, out, &len), CKR_DATA_LEN_RANGE);
		assert_int_equal(ta_C_DecryptInit(f->c, f->h, &cbc, hk), CKR_OK);
		assert_int_equal(ta_C_Decrypt(f->c, f->h, data, 17, out, &len),
				 CKR_ENCRYPTED_DATA_LEN_RANGE);
		/* the CBC encryption of a block ending in 0x00 is not valid CBC_PAD */
		memset(back, 0, 16);
		ossl_crypt(EVP_aes_256_cbc(), key, iv, false, back, 16, out);
		len = sizeof(back);
		assert_int_equal(ta_C_DecryptInit(f->c, f->h, &cbc_pad, hk), CKR_OK);
		assert_int_equal(ta_C_Decrypt(f->c, f->h, out, 16, back, &len),
				 CKR_ENCRYPTED_DATA_INVALID);
	}
}

/* The reference counter: the low bits bits of the block, big-endian, incremented modulo 2^bits;
 * the bits above never change. Written bit by bit, unlike the token's byte-wise code. */
static void ref_ctr_increment(CK_BYTE cb[16], unsigned bits)
{
	for (unsigned b = 0; b < bits; b++) {
		CK_BYTE *byte = &cb[15 - b / 8];
		CK_BYTE bit = (CK_BYTE)(1U << (b % 8));

		*byte ^= bit;
		if (*byte & bit)
			return; /* 0 -> 1: no carry */
	}
}

/* CTR by hand: each counter block through AES-256-ECB in OpenSSL, XORed with the data. */
static void ref_ctr(const CK_BYTE *key, const CK_BYTE cb0[16], unsigned bits, const CK_BYTE *in,
		    size_t len, CK_BYTE *out)
{
	CK_BYTE cb[16], ks[16];

	memcpy(cb, cb0, 16);
	for (size_t off = 0; off < len; off += 16) {
		assert_int_equal(ossl_crypt(EVP_aes_256_ecb(), key, NULL, false, cb, 16, ks), 16);
		for (size_t i = 0; i < 16 && off + i < len; i++)
			out[off + i] = in[off + i] ^ ks[i];
		ref_ctr_increment(cb, bits);
	}
}

/* Current Mechanisms §2.10 (CK_AES_CTR_PARAMS): the counter is the low ulCounterBits bits of the
 * counter block, also when that is not a whole number of bytes; it may not come back to its
 * initial value (CKR_DATA_LEN_RANGE), and ulCounterBits outside 1..128 is
 * CKR_MECHANISM_PARAM_INVALID. */
static void test_2_10_aes_ctr_counter_bits(void **state)
{
	struct fx *f = *state;
	CK_BYTE key[32], data[16 * 17], want[sizeof(data)], out[sizeof(data) + 16];
	CK_AES_CTR_PARAMS ctr = { 4, { 0 } };
	CK_MECHANISM m = { CKM_AES_CTR, &ctr, sizeof(ctr) };
	CK_OBJECT_HANDLE hk;
	CK_ULONG len = 0;

	fill(key, sizeof(key), 41);
	fill(data, sizeof(data), 42);
	fill(ctr.cb, 16, 43);
	hk = secret_key(f, CKK_AES, key, sizeof(key), true);

	/* 4 bits from 0xd: 16 blocks wrap the nibble (d, e, f, 0, ..., c) and leave the high
	 * nibble of the last byte alone; a byte-wise counter would carry into it. */
	ctr.cb[15] = 0x5d;
	ref_ctr(key, ctr.cb, 4, data, 16 * 16, want);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m, hk), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, data, 16 * 16, out, &len), CKR_OK);
	assert_int_equal(len, 16 * 16);
	assert_memory_equal(out, want, 16 * 16);
	/* Multi-part gives the same; decryption is the same function. */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m, hk), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_DecryptUpdate(f->c, f->h, want, 100, out, &len), CKR_OK);
	assert_int_equal(len, 100);
	len = sizeof(out) - 100;
	assert_int_equal(ta_C_DecryptUpdate(f->c, f->h, want + 100, 16 * 16 - 100, out + 100, &len),
			 CKR_OK);
	assert_int_equal(len, 16 * 16 - 100);
	len = sizeof(out);
	assert_int_equal(ta_C_DecryptFinal(f->c, f->h, out, &len), CKR_OK);
	assert_int_equal(len, 0);
	assert_memory_equal(out, data, 16 * 16);

	/* A 17th block would reuse the initial counter: refused, in one part or in several (and
	 * the size query already says so), and the operation has ended. */
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m, hk), CKR_OK);
	len = 0;
	assert_int_equal(ta_C_Encrypt(f->c, f->h, data, 16 * 16 + 1, NULL, &len),
			 CKR_DATA_LEN_RANGE);
	len = sizeof(out);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, data, 16 * 16, out, &len),
			 CKR_OPERATION_NOT_INITIALIZED);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m, hk), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_EncryptUpdate(f->c, f->h, data, 16 * 16, out, &len), CKR_OK);
	assert_memory_equal(out, want, 16 * 16);
	len = sizeof(out);
	assert_int_equal(ta_C_EncryptUpdate(f->c, f->h, data, 1, out, &len), CKR_DATA_LEN_RANGE);
	len = sizeof(out);
	assert_int_equal(ta_C_EncryptFinal(f->c, f->h, out, &len), CKR_OPERATION_NOT_INITIALIZED);

	/* 12 bits from 0xffe, across a byte boundary: the counter wraps to 0x000 within byte 14's
	 * low nibble, whose high nibble (0xa) is nonce. */
	ctr.ulCounterBits = 12;
	ctr.cb[14] = 0xaf;
	ctr.cb[15] = 0xfe;
	ref_ctr(key, ctr.cb, 12, data, sizeof(data) - 5, want);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m, hk), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, data, sizeof(data) - 5, out, &len), CKR_OK);
	assert_int_equal(len, sizeof(data) - 5);
	assert_memory_equal(out, want, sizeof(data) - 5);

	/* ulCounterBits outside 1..128 */
	ctr.ulCounterBits = 0;
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m, hk), CKR_MECHANISM_PARAM_INVALID);
	ctr.ulCounterBits = 129;
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m, hk), CKR_MECHANISM_PARAM_INVALID);
	/* and 128 is the whole block, as OpenSSL's CTR */
	ctr.ulCounterBits = 128;
	memset(ctr.cb, 0xff, 16);
	ref_ctr(key, ctr.cb, 128, data, 40, want);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m, hk), CKR_OK);
	len = sizeof(out);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, data, 40, out, &len), CKR_OK);
	assert_memory_equal(out, want, 40);
	assert_int_equal(ossl_crypt(EVP_aes_256_ctr(), key, ctr.cb, false, data, 40, want), 40);
	assert_memory_equal(out, want, 40);
}

static void test_2_12_aes_gcm(void **state)
{
	struct fx *f = *state;
	CK_BYTE key[16], iv[12], aad[20], data[45], ct[64], tag[16], out[80], back[64];
	CK_GCM_PARAMS gp = { iv, sizeof(iv), 96, aad, sizeof(aad), 128 };
	CK_GCM_PARAMS bad = { iv, sizeof(iv), 96, aad, sizeof(aad), 100 };
	CK_MECHANISM m = { CKM_AES_GCM, &gp, sizeof(gp) };
	CK_MECHANISM mbad = { CKM_AES_GCM, &bad, sizeof(bad) };
	CK_ULONG len = sizeof(out), l2 = 0;
	CK_OBJECT_HANDLE hk;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int a = 0;

	fill(key, sizeof(key), 31);
	fill(iv, sizeof(iv), 32);
	fill(aad, sizeof(aad), 33);
	fill(data, sizeof(data), 34);
	hk = secret_key(f, CKK_AES, key, sizeof(key), true);
	assert_true(EVP_EncryptInit_ex2(ctx, EVP_aes_128_gcm(), key, iv, NULL) == 1);
	assert_true(EVP_EncryptUpdate(ctx, NULL, &a, aad, sizeof(aad)) == 1);
	assert_true(EVP_EncryptUpdate(ctx, ct, &a, data, sizeof(data)) == 1);
	assert_true(EVP_EncryptFinal_ex(ctx, ct + a, &a) == 1);
	assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);

	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &mbad, hk), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &m, hk), CKR_OK);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, data, sizeof(data), out, &len), CKR_OK);
	assert_int_equal(len, sizeof(data) + 16);
	assert_memory_equal(out, ct, sizeof(data));
	assert_memory_equal(out + sizeof(data), tag, 16);
	/* multi-part decryption releases nothing before the tag is checked */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m, hk), CKR_OK);
	len = sizeof(back);
	assert_int_equal(ta_C_DecryptUpdate(f->c, f->h, out, 30, back, &len), CKR_OK);
	assert_int_equal(len, 0);
	len = sizeof(back);
	assert_int_equal(
		ta_C_DecryptUpdate(f->c, f->h, out + 30, sizeof(data) + 16 - 30, back, &len),
		CKR_OK);
	assert_int_equal(len, 0);
	assert_int_equal(ta_C_DecryptFinal(f->c, f->h, NULL, &l2), CKR_OK);
	assert_int_equal(l2, sizeof(data));
	len = sizeof(back);
	assert_int_equal(ta_C_DecryptFinal(f->c, f->h, back, &len), CKR_OK);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	/* a changed tag */
	out[sizeof(data) + 3] ^= 1;
	len = sizeof(back);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &m, hk), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, out, sizeof(data) + 16, back, &len),
			 CKR_ENCRYPTED_DATA_INVALID);
}

/* RFC 3394 §4.1 and RFC 5649 §6 known answers, encrypt and decrypt. */
static void test_2_14_aes_key_wrap_kat(void **state)
{
	struct fx *f = *state;
	static const CK_BYTE kek1[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
					  0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	static const CK_BYTE key1[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const CK_BYTE ct1[24] = { 0x1f, 0xa6, 0x8b, 0x0a, 0x81, 0x12, 0xb4, 0x47,
					 0xae, 0xf3, 0x4b, 0xd8, 0xfb, 0x5a, 0x7b, 0x82,
					 0x9d, 0x3e, 0x86, 0x23, 0x71, 0xd2, 0xcf, 0xe5 };
	static const CK_BYTE kek2[24] = { 0x58, 0x40, 0xdf, 0x6e, 0x29, 0xb0, 0x2a, 0xf1,
					  0xab, 0x49, 0x3b, 0x70, 0x5b, 0xf1, 0x6e, 0xa1,
					  0xae, 0x83, 0x38, 0xf4, 0xdc, 0xc1, 0x76, 0xa8 };
	static const CK_BYTE key2[20] = { 0xc3, 0x7b, 0x7e, 0x64, 0x92, 0x58, 0x43,
					  0x40, 0xbe, 0xd1, 0x22, 0x07, 0x80, 0x89,
					  0x41, 0x15, 0x50, 0x68, 0xf7, 0x38 };
	static const CK_BYTE ct2[32] = { 0x13, 0x8b, 0xde, 0xaa, 0x9b, 0x8f, 0xa7, 0xfc,
					 0x61, 0xf9, 0x77, 0x42, 0xe7, 0x22, 0x48, 0xee,
					 0x5a, 0xe6, 0xae, 0x53, 0x60, 0xd1, 0xae, 0x6a,
					 0x5f, 0x54, 0xf3, 0x73, 0xfa, 0x54, 0x3b, 0x6a };
	CK_MECHANISM kw = { CKM_AES_KEY_WRAP, NULL, 0 };
	CK_MECHANISM kwp = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_BYTE out[40];
	CK_ULONG len = 0;
	CK_OBJECT_HANDLE h1 = secret_key(f, CKK_AES, kek1, sizeof(kek1), true);
	CK_OBJECT_HANDLE h2 = secret_key(f, CKK_AES, kek2, sizeof(kek2), true);

	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &kw, h1), CKR_OK);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, (CK_BYTE_PTR)key1, 16, NULL, &len), CKR_OK);
	assert_int_equal(len, 24);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, (CK_BYTE_PTR)key1, 16, out, &len), CKR_OK);
	assert_memory_equal(out, ct1, 24);
	len = sizeof(out);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &kw, h1), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, (CK_BYTE_PTR)ct1, 24, out, &len), CKR_OK);
	assert_int_equal(len, 16);
	assert_memory_equal(out, key1, 16);

	len = sizeof(out);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &kwp, h2), CKR_OK);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, (CK_BYTE_PTR)key2, 20, out, &len), CKR_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(out, ct2, 32);
	len = 0;
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &kwp, h2), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, (CK_BYTE_PTR)ct2, 32, NULL, &len), CKR_OK);
	assert_int_equal(len, 20); /* exact, though only known after unwrapping */
	assert_int_equal(ta_C_Decrypt(f->c, f->h, (CK_BYTE_PTR)ct2, 32, out, &len), CKR_OK);
	assert_memory_equal(out, key2, 20);
	/* the integrity check */
	memcpy(out, ct1, 24);
	out[0] ^= 1;
	len = sizeof(out);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &kw, h1), CKR_OK);
	assert_int_equal(ta_C_Decrypt(f->c, f->h, out, 24, out + 24, &len),
			 CKR_ENCRYPTED_DATA_INVALID);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &kw, h1), CKR_OK);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, (CK_BYTE_PTR)key1, 12, out, &len),
			 CKR_DATA_LEN_RANGE);
}

/* §2.19 HMAC and §2.11 AES-CMAC against OpenSSL's EVP_MAC. */
static void test_2_hmac_and_cmac(void **state)
{
	struct fx *f = *state;
	CK_BYTE key[32], data[200], mac[64], want[64];
	CK_MECHANISM hmac = { CKM_SHA384_HMAC, NULL, 0 };
	CK_MECHANISM cmac = { CKM_AES_CMAC, NULL, 0 };
	CK_ULONG len = sizeof(mac);
	size_t wl = 0;
	CK_OBJECT_HANDLE hg, ha;

	fill(key, sizeof(key), 41);
	fill(data, sizeof(data), 42);
	hg = secret_key(f, CKK_GENERIC_SECRET, key, sizeof(key), true);
	ha = secret_key(f, CKK_AES, key, sizeof(key), true);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA384", NULL, key, sizeof(key), data,
				  sizeof(data), want, sizeof(want), &wl));
	assert_int_equal(ta_C_SignInit(f->c, f->h, &hmac, hg), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, f->h, data, 100), CKR_OK);
	assert_int_equal(ta_C_SignUpdate(f->c, f->h, data + 100, 100), CKR_OK);
	assert_int_equal(ta_C_SignFinal(f->c, f->h, mac, &len), CKR_OK);
	assert_int_equal(len, wl);
	assert_memory_equal(mac, want, wl);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &hmac, hg), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), mac, len), CKR_OK);
	mac[0] ^= 1;
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &hmac, hg), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), mac, len),
			 CKR_SIGNATURE_INVALID);
	assert_int_equal(ta_C_VerifyInit(f->c, f->h, &hmac, hg), CKR_OK);
	assert_int_equal(ta_C_Verify(f->c, f->h, data, sizeof(data), mac, len - 1),
			 CKR_SIGNATURE_LEN_RANGE);
	/* HMAC with an AES key, CMAC with a generic secret: the wrong key type */
	assert_int_equal(ta_C_SignInit(f->c, f->h, &hmac, ha), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(ta_C_SignInit(f->c, f->h, &cmac, hg), CKR_KEY_TYPE_INCONSISTENT);

	assert_non_null(EVP_Q_mac(NULL, "CMAC", NULL, "AES-256-CBC", NULL, key, sizeof(key), data,
				  sizeof(data), want, sizeof(want), &wl));
	len = sizeof(mac);
	assert_int_equal(ta_C_SignInit(f->c, f->h, &cmac, ha), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, f->h, data, sizeof(data), mac, &len), CKR_OK);
	assert_int_equal(len, 16);
	assert_memory_equal(mac, want, 16);
}

/* §5.14 C_GenerateKey, and the policy checks of the one check before crypto. */
static void test_5_14_generate_key_and_policy(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_MECHANISM ecb = { CKM_AES_ECB, NULL, 0 };
	CK_MECHANISM cbc = { CKM_AES_CBC, NULL, 0 };
	CK_ULONG vlen = 24, bad_len = 20;
	CK_MECHANISM_TYPE only_cbc[] = { CKM_AES_CBC };
	CK_ATTRIBUTE t[] = {
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) },
		{ CKA_SENSITIVE, &no, 1 },
		{ CKA_EXTRACTABLE, &yes, 1 },
		{ CKA_ENCRYPT, &yes, 1 },
		{ CKA_DECRYPT, &no, 1 },
	};
	CK_ATTRIBUTE tbad[] = { { CKA_VALUE_LEN, &bad_len, sizeof(bad_len) } };
	CK_ATTRIBUTE tallowed[] = { { CKA_VALUE_LEN, &vlen, sizeof(vlen) },
				    { CKA_ALLOWED_MECHANISMS, only_cbc, sizeof(only_cbc) } };
	CK_OBJECT_HANDLE hk, hr;
	CK_BYTE v[32], block[16] = { 0 }, out[16], want[16];
	CK_ULONG len = sizeof(v), l;
	CK_BBOOL b = CK_FALSE;

	assert_int_equal(ta_C_GenerateKey(f->c, f->h, &gen, t, 5, &hk), CKR_OK);
	get_attr(f, hk, CKA_VALUE, v, &len);
	assert_int_equal(len, 24);
	l = sizeof(b);
	get_attr(f, hk, CKA_LOCAL, &b, &l);
	assert_true(b);
	assert_int_equal(ta_C_GenerateKey(f->c, f->h, &gen, tbad, 1, &hr),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	/* the generated value works as OpenSSL's AES-192 key */
	ossl_crypt(EVP_aes_192_ecb(), v, NULL, false, block, 16, want);
	l = sizeof(out);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &ecb, hk), CKR_OK);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, block, 16, out, &l), CKR_OK);
	assert_memory_equal(out, want, 16);
	/* CKA_DECRYPT false; a key handle that is no key; a bad handle; CBC without IV */
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &ecb, hk), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &ecb, 0xdead), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &cbc, hk), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, NULL, hk), CKR_ARGUMENTS_BAD);
	/* one active operation of each kind; different kinds coexist */
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &ecb, hk), CKR_OK);
	assert_int_equal(ta_C_EncryptInit(f->c, f->h, &ecb, hk), CKR_OPERATION_ACTIVE);
	/* CKA_ALLOWED_MECHANISMS */
	assert_int_equal(ta_C_GenerateKey(f->c, f->h, &gen, tallowed, 2, &hr), CKR_OK);
	assert_int_equal(ta_C_DecryptInit(f->c, f->h, &ecb, hr), CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* the policy check follows the key: destroyed keys end the operation */
	assert_int_equal(ta_C_DestroyObject(f->c, f->h, hk), CKR_OK);
	l = sizeof(out);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, block, 16, out, &l), CKR_KEY_HANDLE_INVALID);
	assert_int_equal(ta_C_Encrypt(f->c, f->h, block, 16, out, &l),
			 CKR_OPERATION_NOT_INITIALIZED);
}

static void test_mechanism_info_table(void **state)
{
	struct fx *f = *state;
	CK_MECHANISM_INFO mi;

	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_RSA_PKCS, &mi), CKR_OK);
	assert_int_equal(mi.ulMinKeySize, 2048);
	assert_int_equal(mi.ulMaxKeySize, 4096);
	assert_int_equal(mi.flags, CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY |
					   CKF_WRAP | CKF_UNWRAP);
	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_AES_GCM, &mi), CKR_OK);
	assert_int_equal(mi.ulMinKeySize, 16); /* AES: bytes */
	assert_int_equal(mi.ulMaxKeySize, 32);
	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_AES_KEY_WRAP_PAD, &mi),
			 CKR_OK);
	assert_int_equal(mi.flags, CKF_HW | CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP);
	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_SHA512, &mi), CKR_OK);
	assert_int_equal(mi.flags, CKF_HW | CKF_DIGEST);
	assert_int_equal(ta_C_GetMechanismInfo(f->c, TA_SLOT_ID, CKM_ECDH1_DERIVE, &mi), CKR_OK);
	assert_true(mi.flags & CKF_DERIVE);
	assert_int_equal(mi.ulMaxKeySize, 521);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_5_10_digest_sha_family, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_2_operation_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_10_digest_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_1_rsa_sign_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_1_rsa_encrypt_decrypt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_3_ecdsa_curves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eddsa_ed25519, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_10_aes_block_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_10_aes_ctr_counter_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_12_aes_gcm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_14_aes_key_wrap_kat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_2_hmac_and_cmac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_5_14_generate_key_and_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mechanism_info_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
