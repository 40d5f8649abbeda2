/* PKCS#8 PrivateKeyInfo encoding and decoding over OpenSSL 3 (port/pkcs8.h). A decoded key is
 * checked by the same port functions as C_CreateObject's imports (port/keyimport.h). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "port/openssl_util.h"
#include "port/pkcs8.h"

/* The OSSL_PKEY_PARAM names of the RSA components, in struct port_rsa_gen's order. */
static const char *const rsa_names[8] = {
	OSSL_PKEY_PARAM_RSA_N,	       OSSL_PKEY_PARAM_RSA_E,
	OSSL_PKEY_PARAM_RSA_D,	       OSSL_PKEY_PARAM_RSA_FACTOR1,
	OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
	OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};

static const struct {
	enum port_ec_curve curve;
	int nid;
} ec_nids[] = {
	{ PORT_EC_P256, NID_X9_62_prime256v1 },
	{ PORT_EC_P384, NID_secp384r1 },
	{ PORT_EC_P521, NID_secp521r1 },
};

/* Wipe the secret values of a built parameter list (all but the public names). */
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

/* A key pair of type name from the parameters in bld. */
static EVP_PKEY *pkey_from(const char *name, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (!params)
		return NULL;
	kctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	params_wipe(params);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(kctx);
	return pkey;
}

static EVP_PKEY *rsa_from(const struct port_rsa_key *k)
{
	const uint8_t *v[8] = { k->n, k->e, k->d, k->p, k->q, k->dp, k->dq, k->qinv };
	size_t l[8] = { k->n_len, k->e_len,  k->d_len,	k->p_len,
			k->q_len, k->dp_len, k->dq_len, k->qinv_len };
	BIGNUM *bn[8] = { NULL };
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pkey = NULL;

	if (!bld)
		goto out;
	for (size_t i = 0; i < 8; i++) {
		if (!v[i] || !l[i] || l[i] > PORT_RSA_MAX_BYTES)
			goto out;
		bn[i] = BN_secure_new();
		if (!bn[i] || !BN_bin2bn(v[i], (int)l[i], bn[i]) ||
		    OSSL_PARAM_BLD_push_BN(bld, rsa_names[i], bn[i]) != 1)
			goto out;
	}
	pkey = pkey_from("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	for (size_t i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return pkey;
}

static int nid_of(enum port_ec_curve curve)
{
	for (size_t i = 0; i < sizeof(ec_nids) / sizeof(ec_nids[0]); i++) {
		if (ec_nids[i].curve == curve)
			return ec_nids[i].nid;
	}
	return NID_undef;
}

static EVP_PKEY *ec_from(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len)
{
	uint8_t pub[PORT_EC_MAX_POINT];
	uint8_t spki[PORT_SPKI_MAX];
	size_t spki_len = sizeof(spki);
	size_t slen = port_ec_scalar_len(curve);
	int nid = nid_of(curve);
	BIGNUM *d = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;

	/* The public point from the scalar, which is checked to be in range. */
	if (nid == NID_undef ||
	    port_ec_import(curve, priv, priv_len, NULL, 0, pub, spki, &spki_len) != 0)
		return NULL;
	bld = OSSL_PARAM_BLD_new();
	d = BN_secure_new();
	if (!bld || !d || !BN_bin2bn(priv, (int)priv_len, d) ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) !=
		    1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + 2 * slen) != 1)
		goto out;
	pkey = pkey_from("EC", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return pkey;
}

int port_pkcs8_encode(const struct port_pkey *k, uint8_t **der, size_t *der_len)
{
	EVP_PKEY *pkey = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	unsigned char *enc = NULL;
	int n = 0;
	int rc = -1;

	*der = NULL;
	*der_len = 0;
	switch (k->type) {
	case PORT_PKEY_RSA:
		pkey = rsa_from(&k->rsa);
		break;
	case PORT_PKEY_EC:
		pkey = ec_from(k->curve, k->priv, k->priv_len);
		break;
	case PORT_PKEY_ED25519:
		if (k->priv && k->priv_len == PORT_ED25519_LEN)
			pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->priv,
							    k->priv_len);
		break;
	}
	if (!pkey)
		goto out;
	p8 = EVP_PKEY2PKCS8(pkey);
	if (!p8)
		goto out;
	n = i2d_PKCS8_PRIV_KEY_INFO(p8, &enc);
	if (n <= 0)
		goto out;
	*der = mem_dup(enc, (size_t)n);
	if (!*der)
		goto out;
	*der_len = (size_t)n;
	rc = 0;
out:
	if (enc)
		OPENSSL_clear_free(enc, n > 0 ? (size_t)n : 0);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(pkey);
	return rc == 0 ? 0 : port_fail();
}

/* A big-endian component of pkey into part. */
static int bn_part(const EVP_PKEY *pkey, const char *name, struct port_rsa_part *part)
{
	BIGNUM *v = NULL;
	int n = 0;
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pkey, name, &v) != 1)
		return -1;
	n = BN_num_bytes(v);
	if (n > 0 && n <= PORT_RSA_MAX_BYTES && BN_bn2bin(v, part->v) == n) {
		part->len = (size_t)n;
		rc = 0;
	}
	BN_clear_free(v);
	return rc;
}

static int rsa_parts(const EVP_PKEY *pkey, struct port_pkey_parts *out)
{
	struct port_rsa_part *p = out->rsa.part;
	struct port_rsa_key k = {
		.n = p[0].v,
		.e = p[1].v,
		.d = p[2].v,
		.p = p[3].v,
		.q = p[4].v,
		.dp = p[5].v,
		.dq = p[6].v,
		.qinv = p[7].v,
	};

	for (size_t i = 0; i < 8; i++) {
		if (bn_part(pkey, rsa_names[i], &p[i]) != 0)
			return -1;
	}
	k.n_len = p[0].len;
	k.e_len = p[1].len;
	k.d_len = p[2].len;
	k.p_len = p[3].len;
	k.q_len = p[4].len;
	k.dp_len = p[5].len;
	k.dq_len = p[6].len;
	k.qinv_len = p[7].len;
	out->type = PORT_PKEY_RSA;
	out->spki_len = sizeof(out->spki);
	return port_rsa_import(&k, out->spki, &out->spki_len);
}

static int ec_parts(const EVP_PKEY *pkey, struct port_pkey_parts *out)
{
	char group[64];
	uint8_t pub[PORT_EC_MAX_POINT];
	BIGNUM *d = NULL;
	size_t slen = 0;
	int nid = NID_undef;
	int rc = -1;

	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   NULL) != 1)
		return -1;
	nid = OBJ_sn2nid(group);
	out->curve = 0;
	for (size_t i = 0; i < sizeof(ec_nids) / sizeof(ec_nids[0]); i++) {
		if (ec_nids[i].nid == nid)
			out->curve = ec_nids[i].curve;
	}
	slen = out->curve ? port_ec_scalar_len(out->curve) : 0;
	if (!slen || EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1)
		goto out;
	if (BN_bn2binpad(d, out->priv, (int)slen) != (int)slen)
		goto out;
	out->priv_len = slen;
	out->type = PORT_PKEY_EC;
	out->spki_len = sizeof(out->spki);
	/* The public half comes from the scalar, whatever public key the encoding carried. */
	rc = port_ec_import(out->curve, out->priv, slen, NULL, 0, pub, out->spki, &out->spki_len);
out:
	BN_clear_free(d);
	return rc;
}

static int ed25519_parts(const EVP_PKEY *pkey, struct port_pkey_parts *out)
{
	uint8_t pub[PORT_ED25519_LEN];
	size_t len = PORT_ED25519_LEN;

	if (EVP_PKEY_get_raw_private_key(pkey, out->priv, &len) != 1 || len != PORT_ED25519_LEN)
		return -1;
	out->priv_len = len;
	out->type = PORT_PKEY_ED25519;
	out->spki_len = sizeof(out->spki);
	return port_ed25519_import(out->priv, NULL, pub, out->spki, &out->spki_len);
}

int port_pkcs8_decode(const uint8_t *der, size_t len, struct port_pkey_parts *out)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!der || len == 0 || len > 16384)
		goto out;
	p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	/* Exactly one PrivateKeyInfo: nothing may trail it. */
	if (!p8 || p != der + len)
		goto out;
	pkey = EVP_PKCS82PKEY(p8);
	if (!pkey)
		goto out;
	if (EVP_PKEY_is_a(pkey, "RSA"))
		rc = rsa_parts(pkey, out);
	else if (EVP_PKEY_is_a(pkey, "EC"))
		rc = ec_parts(pkey, out);
	else if (EVP_PKEY_is_a(pkey, "ED25519"))
		rc = ed25519_parts(pkey, out);
out:
	EVP_PKEY_free(pkey);
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (rc != 0) {
		wipe(out, sizeof(*out));
		return port_fail();
	}
	return 0;
}
