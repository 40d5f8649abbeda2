/* RSA over OpenSSL 3: generation, PKCS#1 v1.5, PSS and OAEP. */
#include <stdbool.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "port/crypto.h"
#include "port/openssl_util.h"

/* The OSSL_PKEY_PARAM names of the components, in struct port_rsa_gen's order. */
static const char *const rsa_names[8] = {
	OSSL_PKEY_PARAM_RSA_N,	       OSSL_PKEY_PARAM_RSA_E,
	OSSL_PKEY_PARAM_RSA_D,	       OSSL_PKEY_PARAM_RSA_FACTOR1,
	OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
	OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};

int port_rsa_generate(unsigned int bits, const uint8_t *e, size_t e_len, struct port_rsa_gen *out)
{
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *be = NULL;
	BIGNUM *v = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (bits < 2048 || bits > 4096 || !e_len || e_len > 8)
		goto out;
	be = BN_bin2bn(e, (int)e_len, NULL);
	if (!be || !BN_is_odd(be) || BN_cmp(be, BN_value_one()) <= 0)
		goto out;
	kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!kctx || EVP_PKEY_keygen_init(kctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(kctx, (int)bits) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(kctx, be) != 1 ||
	    EVP_PKEY_generate(kctx, &pkey) != 1)
		goto out;
	for (size_t i = 0; i < 8; i++) {
		int n = 0;

		if (EVP_PKEY_get_bn_param(pkey, rsa_names[i], &v) != 1)
			goto out;
		n = BN_num_bytes(v);
		if (n <= 0 || n > PORT_RSA_MAX_BYTES || BN_bn2bin(v, out->part[i].v) != n)
			goto out;
		out->part[i].len = (size_t)n;
		BN_clear_free(v);
		v = NULL;
	}
	ret = 0;
out:
	BN_clear_free(v);
	BN_free(be);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(kctx);
	if (ret) {
		wipe(out, sizeof(*out));
		return port_fail();
	}
	return 0;
}

/* An EVP_PKEY from the components of k (the private ones when k->d is set). */
static EVP_PKEY *rsa_pkey(const struct port_rsa_key *k)
{
	const uint8_t *v[8] = { k->n, k->e, k->d, k->p, k->q, k->dp, k->dq, k->qinv };
	size_t l[8] = { k->n_len, k->e_len,  k->d_len,	k->p_len,
			k->q_len, k->dp_len, k->dq_len, k->qinv_len };
	BIGNUM *bn[8] = { NULL };
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY *pkey = NULL;
	size_t count = k->d ? 8 : 2;
	/* CRT parts are optional for a private key; d alone suffices. */
	bool crt = k->p && k->q && k->dp && k->dq && k->qinv;

	if (!k->n || !k->e || !k->n_len || k->n_len > PORT_RSA_MAX_BYTES || !k->e_len)
		return NULL;
	if (k->d && !crt)
		count = 3;
	bld = OSSL_PARAM_BLD_new();
	if (!bld)
		goto out;
	for (size_t i = 0; i < count; i++) {
		if (!v[i] || !l[i] || l[i] > PORT_RSA_MAX_BYTES)
			goto out;
		bn[i] = i >= 2 ? BN_secure_new() : BN_new();
		if (!bn[i] || !BN_bin2bn(v[i], (int)l[i], bn[i]) ||
		    OSSL_PARAM_BLD_push_BN(bld, rsa_names[i], bn[i]) != 1)
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params)
		goto out;
	kctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, k->d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) !=
		    1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	if (params) {
		for (size_t i = 2; i < count; i++) {
			OSSL_PARAM *pp = OSSL_PARAM_locate(params, rsa_names[i]);

			if (pp)
				wipe(pp->data, pp->data_size);
		}
	}
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(kctx);
	for (size_t i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	return pkey;
}

/* Apply the padding parameters to a sign/verify/encrypt/decrypt context. */
static int rsa_setup(EVP_PKEY_CTX *ctx, const struct port_rsa_params *pp, bool sig)
{
	const EVP_MD *md = port_md(pp->md);
	const EVP_MD *mgf = port_md(pp->mgf);

	switch (pp->pad) {
	case PORT_RSA_PKCS1:
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)
			return -1;
		return md && EVP_PKEY_CTX_set_signature_md(ctx, md) != 1 ? -1 : 0;
	case PORT_RSA_PSS:
		if (!sig || !md || !mgf)
			return -1;
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(ctx, md) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, mgf) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)pp->salt_len) != 1)
			return -1;
		return 0;
	case PORT_RSA_OAEP:
		if (sig || !md || !mgf)
			return -1;
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, mgf) != 1)
			return -1;
		if (pp->label_len) {
			void *l = OPENSSL_memdup(pp->label, pp->label_len);

			if (!l)
				return -1;
			/* the context owns l on success */
			if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, l, (int)pp->label_len) != 1) {
				OPENSSL_free(l);
				return -1;
			}
		}
		return 0;
	}
	return -1;
}

enum rsa_op { RSA_SIGN, RSA_VERIFY, RSA_ENCRYPT, RSA_DECRYPT };

/* One RSA operation: in → out (room *out_len, set to the length written), or a verification
 * of sig over in. */
static int rsa_run(enum rsa_op op, const struct port_rsa_key *k, const struct port_rsa_params *pp,
		   const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len,
		   const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pkey = rsa_pkey(k);
	EVP_PKEY_CTX *ctx = NULL;
	size_t room = out_len ? *out_len : 0;
	int r = 0;
	int ret = -1;

	if (!pkey)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx)
		goto out;
	switch (op) {
	case RSA_SIGN:
		r = EVP_PKEY_sign_init(ctx);
		break;
	case RSA_VERIFY:
		r = EVP_PKEY_verify_init(ctx);
		break;
	case RSA_ENCRYPT:
		r = EVP_PKEY_encrypt_init(ctx);
		break;
	case RSA_DECRYPT:
		r = EVP_PKEY_decrypt_init(ctx);
		break;
	}
	if (r != 1 || rsa_setup(ctx, pp, op == RSA_SIGN || op == RSA_VERIFY) != 0)
		goto out;
	switch (op) {
	case RSA_SIGN:
		r = EVP_PKEY_sign(ctx, out, out_len, in, in_len);
		break;
	case RSA_VERIFY:
		r = EVP_PKEY_verify(ctx, sig, sig_len, in, in_len);
		break;
	case RSA_ENCRYPT:
		r = EVP_PKEY_encrypt(ctx, out, out_len, in, in_len);
		break;
	case RSA_DECRYPT:
		r = EVP_PKEY_decrypt(ctx, out, out_len, in, in_len);
		break;
	}
	if (r != 1)
		goto out;
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	if (ret) {
		if (out)
			wipe(out, room);
		return port_fail();
	}
	return 0;
}

int port_rsa_sign(const struct port_rsa_key *k, const struct port_rsa_params *pp, const uint8_t *in,
		  size_t in_len, uint8_t *sig, size_t sig_len)
{
	size_t got = sig_len;

	if (rsa_run(RSA_SIGN, k, pp, in, in_len, sig, &got, NULL, 0) != 0)
		return -1;
	if (got != sig_len) {
		wipe(sig, sig_len);
		return -1;
	}
	return 0;
}

int port_rsa_verify(const struct port_rsa_key *k, const struct port_rsa_params *pp,
		    const uint8_t *in, size_t in_len, const uint8_t *sig, size_t sig_len)
{
	return rsa_run(RSA_VERIFY, k, pp, in, in_len, NULL, NULL, sig, sig_len);
}

int port_rsa_encrypt(const struct port_rsa_key *k, const struct port_rsa_params *pp,
		     const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
	size_t got = out_len;

	if (rsa_run(RSA_ENCRYPT, k, pp, in, in_len, out, &got, NULL, 0) != 0)
		return -1;
	return got == out_len ? 0 : -1;
}

int port_rsa_decrypt(const struct port_rsa_key *k, const struct port_rsa_params *pp,
		     const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len)
{
	return rsa_run(RSA_DECRYPT, k, pp, in, in_len, out, out_len, NULL, 0);
}
