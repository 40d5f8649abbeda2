#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "common/buf.h"
#include "common/log.h"
#include "port/crypto.h"

struct port_hash {
	EVP_MD_CTX *md;
};

/* OpenSSL's error queue is per thread; leave nothing behind for an unrelated later call. */
static int fail(void)
{
	ERR_clear_error();
	return -1;
}

int port_aead_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   const uint8_t *pt, size_t len, uint8_t *ct, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int ret = -1;
	int outl = 0;

	if (len > INT_MAX || aad_len > INT_MAX)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		goto out;
	if (EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, NULL) != 1)
		goto out;
	if (aad_len && EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) != 1)
		goto out;
	/* GCM is a stream mode: Final writes nothing. */
	if (EVP_EncryptFinal_ex(ctx, ct + len, &outl) != 1 || outl != 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, PORT_AEAD_TAG_LEN, tag) != 1)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (ret)
		return fail();
	return 0;
}

int port_aead_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   const uint8_t *ct, size_t len, const uint8_t *tag, uint8_t *pt)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t tagcopy[PORT_AEAD_TAG_LEN];
	int ret = -1;
	int outl = 0;

	if (len > INT_MAX || aad_len > INT_MAX)
		goto out;
	memcpy(tagcopy, tag, sizeof(tagcopy));
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		goto out;
	if (EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, NULL) != 1)
		goto out;
	if (aad_len && EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, PORT_AEAD_TAG_LEN, tagcopy) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, pt + len, &outl) != 1 || outl != 0)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (ret) {
		/* Never hand out unauthenticated plaintext. */
		wipe(pt, len);
		return fail();
	}
	return 0;
}

/* Run the EVP_KDF named name with params into out. */
static int kdf_derive(const char *name, OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	int ret = -1;

	kdf = EVP_KDF_fetch(NULL, name, NULL);
	if (!kdf)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		goto out;
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1)
		goto out;
	ret = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	if (ret) {
		wipe(out, out_len);
		return fail();
	}
	return 0;
}

int port_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const char *info, uint8_t *out,
		     size_t out_len)
{
	OSSL_PARAM params[4];
	OSSL_PARAM *p = params;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	return kdf_derive(OSSL_KDF_NAME_HKDF, params, out, out_len);
}

int port_pbkdf2_sha256(const void *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
		       unsigned long iter, uint8_t *out, size_t out_len)
{
	OSSL_PARAM params[5];
	OSSL_PARAM *p = params;
	uint64_t it = iter;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw, pw_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &it);
	*p = OSSL_PARAM_construct_end();
	return kdf_derive(OSSL_KDF_NAME_PBKDF2, params, out, out_len);
}

struct port_hash *port_sha256_new(void)
{
	struct port_hash *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex2(h->md, EVP_sha256(), NULL) != 1) {
		port_hash_free(h);
		fail();
		return NULL;
	}
	return h;
}

int port_hash_update(struct port_hash *h, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(h->md, data, len) != 1)
		return fail();
	return 0;
}

int port_hash_final(struct port_hash *h, uint8_t *out)
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->md, out, &n) != 1 || n != PORT_SHA256_LEN) {
		wipe(out, PORT_SHA256_LEN);
		return fail();
	}
	return 0;
}

void port_hash_free(struct port_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

/* OpenSSL's name and the sizes of a curve of the port. */
static int curve_info(enum port_ec_curve curve, const char **name, size_t *scalar_len,
		      size_t *point_len)
{
	switch (curve) {
	case PORT_EC_P256:
		*name = "prime256v1";
		*scalar_len = PORT_P256_SCALAR_LEN;
		*point_len = PORT_P256_POINT_LEN;
		return 0;
	}
	return -1;
}

int port_ec_generate(enum port_ec_curve curve, uint8_t *priv, size_t priv_len, uint8_t *pub,
		     size_t pub_len)
{
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	const char *name = NULL;
	size_t slen = 0;
	size_t plen = 0;
	size_t got = 0;
	int ret = -1;

	if (curve_info(curve, &name, &slen, &plen) || priv_len != slen || pub_len != plen)
		goto out;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", name);
	if (!pkey)
		goto out;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1)
		goto out;
	if (BN_bn2binpad(d, priv, (int)priv_len) != (int)priv_len)
		goto out;
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len, &got) != 1)
		goto out;
	if (got != pub_len || pub[0] != 0x04)
		goto out;
	ret = 0;
out:
	BN_clear_free(d);
	EVP_PKEY_free(pkey);
	if (ret) {
		wipe(priv, priv_len);
		return fail();
	}
	return 0;
}

/* An EVP_PKEY holding only the private scalar priv on the named curve. */
static EVP_PKEY *ec_priv_pkey(const char *name, const uint8_t *priv, size_t priv_len)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	OSSL_PARAM *pp = NULL;
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;

	d = BN_secure_new();
	if (!d || !BN_bin2bn(priv, (int)priv_len, d))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		goto out;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, name, 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params)
		goto out;
	kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: wipe the scalar copy ourselves. */
	pp = params ? OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PRIV_KEY) : NULL;
	if (pp)
		wipe(pp->data, pp->data_size);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(kctx);
	BN_clear_free(d);
	return pkey;
}

int port_ec_sign(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len,
		 const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *sctx = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char der[160];
	const unsigned char *dp = der;
	size_t der_len = sizeof(der);
	const char *name = NULL;
	size_t slen = 0;
	size_t plen = 0;
	int ret = -1;

	if (curve_info(curve, &name, &slen, &plen) || priv_len != slen || sig_len != 2 * slen ||
	    hash_len == 0)
		goto out;
	pkey = ec_priv_pkey(name, priv, priv_len);
	if (!pkey)
		goto out;
	sctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!sctx || EVP_PKEY_sign_init(sctx) != 1)
		goto out;
	/* No digest is set, so any input length is accepted and truncated per ECDSA. */
	if (EVP_PKEY_sign(sctx, der, &der_len, hash, hash_len) != 1)
		goto out;
	es = d2i_ECDSA_SIG(NULL, &dp, (long)der_len);
	if (!es)
		goto out;
	if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)slen) != (int)slen ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + slen, (int)slen) != (int)slen)
		goto out;
	ret = 0;
out:
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(sctx);
	EVP_PKEY_free(pkey);
	if (ret) {
		wipe(sig, sig_len);
		return fail();
	}
	return 0;
}
