/* ECDSA and ECDH on the NIST prime curves, and Ed25519, over OpenSSL 3. */
#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "common/buf.h"
#include "port/crypto.h"
#include "port/openssl_util.h"

/* OpenSSL's name and the scalar size of a curve of the port. */
static int curve_info(enum port_ec_curve curve, const char **name, size_t *scalar_len)
{
	switch (curve) {
	case PORT_EC_P256:
		*name = "prime256v1";
		*scalar_len = 32;
		return 0;
	case PORT_EC_P384:
		*name = "secp384r1";
		*scalar_len = 48;
		return 0;
	case PORT_EC_P521:
		*name = "secp521r1";
		*scalar_len = 66;
		return 0;
	}
	return -1;
}

size_t port_ec_scalar_len(enum port_ec_curve curve)
{
	const char *name = NULL;
	size_t slen = 0;

	return curve_info(curve, &name, &slen) ? 0 : slen;
}

int port_ec_generate(enum port_ec_curve curve, uint8_t *priv, size_t priv_len, uint8_t *pub,
		     size_t pub_len)
{
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;
	const char *name = NULL;
	size_t slen = 0;
	size_t got = 0;
	int ret = -1;

	if (curve_info(curve, &name, &slen) || priv_len != slen || pub_len != 1 + 2 * slen)
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
		return port_fail();
	}
	return 0;
}

/* An EVP_PKEY on the named curve from the private scalar priv (when not NULL) or the public
 * point pub. */
static EVP_PKEY *ec_pkey(const char *name, const uint8_t *priv, size_t priv_len, const uint8_t *pub,
			 size_t pub_len)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	OSSL_PARAM *pp = NULL;
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;

	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		goto out;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, name, 0) != 1)
		goto out;
	if (priv) {
		d = BN_secure_new();
		if (!d || !BN_bin2bn(priv, (int)priv_len, d) ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)
			goto out;
	} else if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) !=
		   1) {
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params)
		goto out;
	kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) !=
		    1) {
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
	int ret = -1;

	if (curve_info(curve, &name, &slen) || priv_len != slen || sig_len != 2 * slen ||
	    hash_len == 0)
		goto out;
	pkey = ec_pkey(name, priv, priv_len, NULL, 0);
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
		return port_fail();
	}
	return 0;
}

int port_ec_verify(enum port_ec_curve curve, const uint8_t *pub, size_t pub_len,
		   const uint8_t *hash, size_t hash_len, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *vctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL;
	BIGNUM *s = NULL;
	unsigned char *der = NULL;
	int der_len = 0;
	const char *name = NULL;
	size_t slen = 0;
	int ret = -1;

	if (curve_info(curve, &name, &slen) || sig_len != 2 * slen || hash_len == 0)
		goto out;
	pkey = ec_pkey(name, NULL, 0, pub, pub_len);
	if (!pkey)
		goto out;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int)slen, NULL);
	s = BN_bin2bn(sig + slen, (int)slen, NULL);
	if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = NULL; /* es owns them now */
	s = NULL;
	der_len = i2d_ECDSA_SIG(es, &der);
	if (der_len <= 0)
		goto out;
	vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!vctx || EVP_PKEY_verify_init(vctx) != 1)
		goto out;
	if (EVP_PKEY_verify(vctx, der, (size_t)der_len, hash, hash_len) != 1)
		goto out;
	ret = 0;
out:
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_free(pkey);
	return ret ? port_fail() : 0;
}

int port_ecdh(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
	      size_t peer_len, uint8_t *out, size_t out_len)
{
	EVP_PKEY *mine = NULL;
	EVP_PKEY *theirs = NULL;
	EVP_PKEY_CTX *dctx = NULL;
	const char *name = NULL;
	size_t slen = 0;
	size_t got = out_len;
	int ret = -1;

	if (curve_info(curve, &name, &slen) || priv_len != slen || out_len != slen ||
	    peer_len != 1 + 2 * slen || peer[0] != 0x04)
		goto out;
	mine = ec_pkey(name, priv, priv_len, NULL, 0);
	theirs = ec_pkey(name, NULL, 0, peer, peer_len);
	if (!mine || !theirs)
		goto out;
	dctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
	/* The peer point is validated (on the curve, not infinity) by OpenSSL's import and the
	 * derive's partial public key check. */
	if (!dctx || EVP_PKEY_derive_init(dctx) != 1 || EVP_PKEY_derive_set_peer(dctx, theirs) != 1)
		goto out;
	if (EVP_PKEY_derive(dctx, out, &got) != 1 || got != out_len)
		goto out;
	ret = 0;
out:
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(theirs);
	if (ret) {
		wipe(out, out_len);
		return port_fail();
	}
	return 0;
}

int port_ed25519_generate(uint8_t *priv, uint8_t *pub)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	size_t plen = PORT_ED25519_LEN;
	size_t qlen = PORT_ED25519_LEN;
	int ret = -1;

	if (!pkey)
		goto out;
	if (EVP_PKEY_get_raw_private_key(pkey, priv, &plen) != 1 || plen != PORT_ED25519_LEN ||
	    EVP_PKEY_get_raw_public_key(pkey, pub, &qlen) != 1 || qlen != PORT_ED25519_LEN)
		goto out;
	ret = 0;
out:
	EVP_PKEY_free(pkey);
	if (ret) {
		wipe(priv, PORT_ED25519_LEN);
		return port_fail();
	}
	return 0;
}

int port_ed25519_sign(const uint8_t *priv, const uint8_t *msg, size_t len, uint8_t *sig)
{
	EVP_PKEY *pkey =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, PORT_ED25519_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t sig_len = PORT_ED25519_SIG_LEN;
	int ret = -1;

	if (!pkey || !md || EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) != 1)
		goto out;
	if (EVP_DigestSign(md, sig, &sig_len, msg, len) != 1 || sig_len != PORT_ED25519_SIG_LEN)
		goto out;
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	if (ret) {
		wipe(sig, PORT_ED25519_SIG_LEN);
		return port_fail();
	}
	return 0;
}

int port_ed25519_verify(const uint8_t *pub, const uint8_t *msg, size_t len, const uint8_t *sig)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PORT_ED25519_LEN);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ret = -1;

	if (!pkey || !md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) != 1)
		goto out;
	if (EVP_DigestVerify(md, sig, PORT_ED25519_SIG_LEN, msg, len) != 1)
		goto out;
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return ret ? port_fail() : 0;
}
