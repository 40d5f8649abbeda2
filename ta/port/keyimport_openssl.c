/* Checking imported key material over OpenSSL (port/keyimport.h). */
#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "port/keyimport.h"
#include "port/openssl_util.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096

/* Write the SubjectPublicKeyInfo of pkey into spki (*spki_len bytes of room). */
static int spki_of(EVP_PKEY *pkey, uint8_t *spki, size_t *spki_len)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pkey, &der);

	if (n <= 0 || (size_t)n > *spki_len) {
		OPENSSL_free(der);
		return -1;
	}
	memcpy(spki, der, (size_t)n);
	*spki_len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

/* Push a big-endian component as a BIGNUM parameter (secure heap for secret ones). */
static int push_bn(OSSL_PARAM_BLD *bld, const char *key, const uint8_t *v, size_t len,
		   BIGNUM **bn_out)
{
	BIGNUM *bn = NULL;

	if (!v || len == 0 || len > INT_MAX)
		return -1;
	bn = BN_secure_new();
	if (!bn || !BN_bin2bn(v, (int)len, bn) || OSSL_PARAM_BLD_push_BN(bld, key, bn) != 1) {
		BN_clear_free(bn);
		return -1;
	}
	*bn_out = bn; /* the builder refers to it until the parameters are built */
	return 0;
}

/* Wipe the values of the secret parameters in a built parameter list. */
static void params_wipe(OSSL_PARAM *params)
{
	for (OSSL_PARAM *p = params; p && p->key; p++) {
		if (strcmp(p->key, OSSL_PKEY_PARAM_RSA_N) != 0 &&
		    strcmp(p->key, OSSL_PKEY_PARAM_RSA_E) != 0 &&
		    strcmp(p->key, OSSL_PKEY_PARAM_GROUP_NAME) != 0 &&
		    strcmp(p->key, OSSL_PKEY_PARAM_PUB_KEY) != 0 && p->data)
			wipe(p->data, p->data_size);
	}
}

/* A key of type name ("RSA", "EC") from the parameters in bld, checked: the public part, and
 * for a key pair (priv) the private part and their agreement. */
static EVP_PKEY *pkey_checked(const char *name, OSSL_PARAM_BLD *bld, int priv)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY_CTX *cctx = NULL;
	EVP_PKEY *pkey = NULL;
	int ok = 0;

	if (!params)
		goto out;
	kctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) !=
		    1)
		goto out;
	cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!cctx)
		goto out;
	ok = priv ? EVP_PKEY_check(cctx) == 1 : EVP_PKEY_public_check(cctx) == 1;
out:
	params_wipe(params);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_CTX_free(cctx);
	if (!ok) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

int port_rsa_import(const struct port_rsa_key *k, uint8_t *spki, size_t *spki_len)
{
	const struct {
		const char *name;
		const uint8_t *v;
		size_t len;
	} parts[] = {
		{ OSSL_PKEY_PARAM_RSA_N, k->n, k->n_len },
		{ OSSL_PKEY_PARAM_RSA_E, k->e, k->e_len },
		{ OSSL_PKEY_PARAM_RSA_D, k->d, k->d_len },
		{ OSSL_PKEY_PARAM_RSA_FACTOR1, k->p, k->p_len },
		{ OSSL_PKEY_PARAM_RSA_FACTOR2, k->q, k->q_len },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT1, k->dp, k->dp_len },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT2, k->dq, k->dq_len },
		{ OSSL_PKEY_PARAM_RSA_COEFFICIENT1, k->qinv, k->qinv_len },
	};
	BIGNUM *bn[8] = { NULL };
	size_t nparts = k->d ? 8 : 2;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;
	int bits = 0;
	int rc = -1;

	if (!bld)
		goto out;
	for (size_t i = 0; i < nparts; i++) {
		if (push_bn(bld, parts[i].name, parts[i].v, parts[i].len, &bn[i]) != 0)
			goto out;
	}
	pkey = pkey_checked("RSA", bld, k->d != NULL);
	if (!pkey)
		goto out;
	bits = EVP_PKEY_get_bits(pkey);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		goto out;
	rc = spki_of(pkey, spki, spki_len);
out:
	EVP_PKEY_free(pkey);
	OSSL_PARAM_BLD_free(bld);
	for (size_t i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return rc == 0 ? 0 : port_fail();
}

static int curve_nid(enum port_ec_curve curve)
{
	switch (curve) {
	case PORT_EC_P256:
		return NID_X9_62_prime256v1;
	case PORT_EC_P384:
		return NID_secp384r1;
	case PORT_EC_P521:
		return NID_secp521r1;
	}
	return NID_undef;
}

/* The uncompressed public point d * G into out (point_len bytes); d must be in [1, order). */
static int ec_point_from_scalar(int nid, const uint8_t *priv, size_t priv_len, uint8_t *out,
				size_t point_len)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
	BN_CTX *ctx = BN_CTX_secure_new();
	BIGNUM *d = BN_secure_new();
	EC_POINT *q = NULL;
	int rc = -1;

	if (!g || !ctx || !d || priv_len > INT_MAX || !BN_bin2bn(priv, (int)priv_len, d))
		goto out;
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0)
		goto out;
	q = EC_POINT_new(g);
	if (!q || EC_POINT_mul(g, q, d, NULL, NULL, ctx) != 1 ||
	    EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, out, point_len, ctx) !=
		    point_len)
		goto out;
	rc = 0;
out:
	EC_POINT_free(q);
	BN_clear_free(d);
	BN_CTX_free(ctx);
	EC_GROUP_free(g);
	return rc;
}

int port_ec_import(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len,
		   const uint8_t *pub, size_t pub_len, uint8_t *pub_out, uint8_t *spki,
		   size_t *spki_len)
{
	size_t slen = port_ec_scalar_len(curve);
	size_t point_len = 1 + 2 * slen;
	int nid = curve_nid(curve);
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = -1;

	if (!slen || nid == NID_undef)
		goto out;
	if (priv) {
		if (priv_len == 0 || priv_len > slen ||
		    ec_point_from_scalar(nid, priv, priv_len, pub_out, point_len) != 0)
			goto out;
	} else {
		if (!pub || pub_len != point_len)
			goto out;
		memcpy(pub_out, pub, point_len);
	}
	/* The public key alone, checked on the curve, gives the SubjectPublicKeyInfo. */
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) !=
		    1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub_out, point_len) != 1)
		goto out;
	pkey = pkey_checked("EC", bld, 0);
	if (!pkey)
		goto out;
	rc = spki_of(pkey, spki, spki_len);
out:
	EVP_PKEY_free(pkey);
	OSSL_PARAM_BLD_free(bld);
	if (rc != 0 && pub_out && slen)
		wipe(pub_out, point_len);
	return rc == 0 ? 0 : port_fail();
}

int port_ed25519_import(const uint8_t *priv, const uint8_t *pub, uint8_t *pub_out, uint8_t *spki,
			size_t *spki_len)
{
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *cctx = NULL;
	size_t len = PORT_ED25519_LEN;
	int rc = -1;

	if (priv)
		pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, PORT_ED25519_LEN);
	else if (pub)
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PORT_ED25519_LEN);
	if (!pkey || EVP_PKEY_get_raw_public_key(pkey, pub_out, &len) != 1 ||
	    len != PORT_ED25519_LEN)
		goto out;
	cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!cctx || EVP_PKEY_public_check(cctx) != 1)
		goto out;
	rc = spki_of(pkey, spki, spki_len);
out:
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_free(pkey);
	if (rc != 0)
		wipe(pub_out, PORT_ED25519_LEN);
	return rc == 0 ? 0 : port_fail();
}
