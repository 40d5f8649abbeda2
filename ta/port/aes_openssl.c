/* AES: the raw block function for the modes built in processing_aes.c, GCM, and the key wrap
 * of RFC 3394 / RFC 5649, over OpenSSL 3. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/buf.h"
#include "port/crypto.h"
#include "port/openssl_util.h"

struct port_aes {
	EVP_CIPHER_CTX *ctx;
};

enum aes_mode { AES_ECB, AES_GCM, AES_WRAP, AES_WRAP_PAD };

/* OpenSSL's cipher for a mode and key length (16, 24, 32), or NULL. */
static const EVP_CIPHER *aes_cipher(size_t key_len, enum aes_mode mode)
{
	/* clang-format off */
	static const EVP_CIPHER *(*const tab[4][3])(void) = {
		[AES_ECB] = { EVP_aes_128_ecb, EVP_aes_192_ecb, EVP_aes_256_ecb },
		[AES_GCM] = { EVP_aes_128_gcm, EVP_aes_192_gcm, EVP_aes_256_gcm },
		[AES_WRAP] = { EVP_aes_128_wrap, EVP_aes_192_wrap, EVP_aes_256_wrap },
		[AES_WRAP_PAD] = { EVP_aes_128_wrap_pad, EVP_aes_192_wrap_pad,
				   EVP_aes_256_wrap_pad },
	};
	/* clang-format on */

	if (key_len != 16 && key_len != 24 && key_len != 32)
		return NULL;
	return tab[mode][(key_len - 16) / 8]();
}

struct port_aes *port_aes_new(const uint8_t *key, size_t key_len, int enc)
{
	const EVP_CIPHER *c = aes_cipher(key_len, AES_ECB);
	struct port_aes *a = NULL;

	if (!c)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx || EVP_CipherInit_ex2(a->ctx, c, key, NULL, enc ? 1 : 0, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(a->ctx, 0) != 1) {
		port_aes_free(a);
		port_fail();
		return NULL;
	}
	return a;
}

int port_aes_blocks(struct port_aes *a, const uint8_t *in, size_t len, uint8_t *out)
{
	int outl = 0;

	if (len % PORT_AES_BLOCK || len > INT_MAX)
		return -1;
	if (len && (EVP_CipherUpdate(a->ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len))
		return port_fail();
	return 0;
}

void port_aes_free(struct port_aes *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx); /* cleanses the key schedule */
	free(a);
}

/* One GCM pass: enc seals and writes the tag, otherwise checks the tag. */
static int gcm(int enc, const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
	       const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
	       uint8_t *tag, size_t tag_len)
{
	const EVP_CIPHER *c = aes_cipher(key_len, AES_GCM);
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0;
	int ret = -1;

	if (!c || !iv_len || iv_len > INT_MAX || len > INT_MAX || aad_len > INT_MAX ||
	    tag_len < 4 || tag_len > 16)
		goto out;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_CipherInit_ex2(ctx, c, NULL, NULL, enc, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL) != 1 ||
	    EVP_CipherInit_ex2(ctx, NULL, key, iv, enc, NULL) != 1)
		goto out;
	if (aad_len && EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) != 1)
		goto out;
	if (len && EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)tag_len, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + len, &outl) != 1 || outl != 0)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)tag_len, tag) != 1)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (ret) {
		wipe(out, len);
		return port_fail();
	}
	return 0;
}

int port_aes_gcm_seal(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
		      const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
		      uint8_t *ct, uint8_t *tag, size_t tag_len)
{
	return gcm(1, key, key_len, iv, iv_len, aad, aad_len, pt, len, ct, tag, tag_len);
}

int port_aes_gcm_open(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
		      const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t len,
		      const uint8_t *tag, size_t tag_len, uint8_t *pt)
{
	uint8_t t[16];
	int ret = 0;

	if (tag_len > sizeof(t))
		return -1;
	memcpy(t, tag, tag_len);
	ret = gcm(0, key, key_len, iv, iv_len, aad, aad_len, ct, len, pt, t, tag_len);
	return ret;
}

int port_aes_kw(int pad, int wrap, const uint8_t *key, size_t key_len, const uint8_t *in,
		size_t in_len, uint8_t *out, size_t *out_len)
{
	const EVP_CIPHER *c = aes_cipher(key_len, pad ? AES_WRAP_PAD : AES_WRAP);
	EVP_CIPHER_CTX *ctx = NULL;
	size_t room = 0;
	int outl = 0;
	int fin = 0;
	int ret = -1;

	*out_len = 0;
	if (!c || in_len > INT_MAX - 16)
		goto out;
	room = wrap ? ((in_len + 7) / 8) * 8 + 8 : in_len;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_CipherInit_ex2(ctx, c, key, NULL, wrap, NULL) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &outl, in, (int)in_len) != 1 || outl < 0)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + outl, &fin) != 1)
		goto out;
	if ((size_t)outl + (size_t)fin > room)
		goto out;
	*out_len = (size_t)outl + (size_t)fin;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (ret) {
		if (!wrap)
			wipe(out, in_len);
		return port_fail();
	}
	return 0;
}
