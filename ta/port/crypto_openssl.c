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
#include "port/openssl_util.h"

struct port_hash {
	EVP_MD_CTX *md;
	size_t len;
};

int port_fail(void)
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
		return port_fail();
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
		return port_fail();
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
		return port_fail();
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

/* OpenSSL's digest for alg, or NULL. */
const EVP_MD *port_md(enum port_hash_alg alg)
{
	switch (alg) {
	case PORT_HASH_SHA1:
		return EVP_sha1();
	case PORT_HASH_SHA224:
		return EVP_sha224();
	case PORT_HASH_SHA256:
		return EVP_sha256();
	case PORT_HASH_SHA384:
		return EVP_sha384();
	case PORT_HASH_SHA512:
		return EVP_sha512();
	case PORT_HASH_NONE:
		break;
	}
	return NULL;
}

size_t port_hash_len(enum port_hash_alg alg)
{
	const EVP_MD *md = port_md(alg);

	return md ? (size_t)EVP_MD_get_size(md) : 0;
}

struct port_hash *port_hash_new(enum port_hash_alg alg)
{
	const EVP_MD *md = port_md(alg);
	struct port_hash *h = NULL;

	if (!md)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->len = (size_t)EVP_MD_get_size(md);
	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex2(h->md, md, NULL) != 1) {
		port_hash_free(h);
		port_fail();
		return NULL;
	}
	return h;
}

struct port_hash *port_sha256_new(void)
{
	return port_hash_new(PORT_HASH_SHA256);
}

int port_hash_update(struct port_hash *h, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(h->md, data, len) != 1)
		return port_fail();
	return 0;
}

int port_hash_final(struct port_hash *h, uint8_t *out)
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->md, out, &n) != 1 || n != h->len) {
		wipe(out, h->len);
		return port_fail();
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
