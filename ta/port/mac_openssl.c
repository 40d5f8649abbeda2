/* HMAC and AES-CMAC over OpenSSL 3's EVP_MAC. */
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/buf.h"
#include "port/crypto.h"
#include "port/openssl_util.h"

struct port_mac {
	EVP_MAC_CTX *ctx;
	size_t len;
};

static struct port_mac *mac_new(const char *alg, OSSL_PARAM *params, const uint8_t *key,
				size_t key_len)
{
	struct port_mac *m = calloc(1, sizeof(*m));
	EVP_MAC *mac = NULL;

	if (!m)
		return NULL;
	mac = EVP_MAC_fetch(NULL, alg, NULL);
	if (!mac)
		goto fail;
	m->ctx = EVP_MAC_CTX_new(mac);
	if (!m->ctx || EVP_MAC_init(m->ctx, key, key_len, params) != 1)
		goto fail;
	m->len = EVP_MAC_CTX_get_mac_size(m->ctx);
	if (!m->len)
		goto fail;
	EVP_MAC_free(mac);
	return m;
fail:
	EVP_MAC_free(mac);
	port_mac_free(m);
	port_fail();
	return NULL;
}

struct port_mac *port_hmac_new(enum port_hash_alg alg, const uint8_t *key, size_t key_len)
{
	const EVP_MD *md = port_md(alg);
	OSSL_PARAM params[2];
	static const uint8_t empty[1];

	if (!md)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	/* HMAC accepts an empty key; OpenSSL wants a non-NULL pointer for it. */
	return mac_new("HMAC", params, key_len ? key : empty, key_len);
}

struct port_mac *port_cmac_new(const uint8_t *key, size_t key_len)
{
	OSSL_PARAM params[2];
	const char *cipher = NULL;

	switch (key_len) {
	case 16:
		cipher = "AES-128-CBC";
		break;
	case 24:
		cipher = "AES-192-CBC";
		break;
	case 32:
		cipher = "AES-256-CBC";
		break;
	default:
		return NULL;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cipher, 0);
	params[1] = OSSL_PARAM_construct_end();
	return mac_new("CMAC", params, key, key_len);
}

size_t port_mac_len(const struct port_mac *m)
{
	return m->len;
}

int port_mac_update(struct port_mac *m, const void *data, size_t len)
{
	if (len && EVP_MAC_update(m->ctx, data, len) != 1)
		return port_fail();
	return 0;
}

int port_mac_final(struct port_mac *m, uint8_t *out)
{
	size_t got = 0;

	if (EVP_MAC_final(m->ctx, out, &got, m->len) != 1 || got != m->len) {
		wipe(out, m->len);
		return port_fail();
	}
	return 0;
}

void port_mac_free(struct port_mac *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->ctx); /* OpenSSL cleanses the key it holds */
	free(m);
}
