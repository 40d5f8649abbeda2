/*
 * PKCS#10 requests signed in the token: OpenSSL builds the request and encodes its
 * to-be-signed part, the token signs it, and the signature is put in place (tool.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tool.h"

/* The AlgorithmIdentifier of the request's signature: sha256WithRSAEncryption with NULL
 * parameters, ecdsa-with-SHA* and Ed25519 with none (RFC 4055, 5758, 8410). */
static X509_ALGOR *sig_alg(const struct tool_mech *m)
{
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_OBJECT *obj = m->sig_nid != NID_undef ? OBJ_nid2obj(m->sig_nid) : NULL;

	if (!alg || !obj ||
	    !X509_ALGOR_set0(alg, obj, m->family == TOOL_RSA_PKCS ? V_ASN1_NULL : V_ASN1_UNDEF,
			     NULL)) {
		X509_ALGOR_free(alg);
		return NULL;
	}
	return alg;
}

int tool_csr_make(struct tool *t, struct tool_key *k, const struct tool_mech *m,
		  const X509_NAME *subject, const GENERAL_NAMES *sans, X509_REQ **out)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	unsigned char *tbs = NULL;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	char err[TOOL_ERR_LEN];
	int tbs_len = 0, rc = TOOL_FAIL;

	*out = NULL;
	if (m->sig_nid == NID_undef) {
		tool_err(t, "mechanism %s cannot sign a certificate request", m->name);
		goto out;
	}
	if (tool_mech_check(m, k->pk, err, sizeof(err)) != 0) {
		tool_err(t, "%s", err);
		goto out;
	}
	if (!req || !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, subject) || !X509_REQ_set_pubkey(req, k->pk))
		goto ossl;
	if (sans && sk_GENERAL_NAME_num(sans) > 0) {
		exts = sk_X509_EXTENSION_new_null();
		ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, (void *)sans);
		if (!exts || !ext || !sk_X509_EXTENSION_push(exts, ext))
			goto ossl;
		ext = NULL; /* the stack owns it */
		if (!X509_REQ_add_extensions(req, exts))
			goto ossl;
	}
	alg = sig_alg(m);
	if (!alg || !X509_REQ_set1_signature_algo(req, alg))
		goto ossl;
	/* The to-be-signed encoding as it is now; the token signs exactly these bytes. */
	tbs_len = i2d_re_X509_REQ_tbs(req, &tbs);
	if (tbs_len <= 0)
		goto ossl;
	rc = tool_sign_buffer(t, k->priv, m, tbs, (size_t)tbs_len, &sig, &sig_len);
	if (rc != TOOL_OK)
		goto out;
	rc = TOOL_FAIL;
	bits = ASN1_BIT_STRING_new();
	if (!bits || !ASN1_BIT_STRING_set(bits, sig, (int)sig_len))
		goto ossl;
	/* Whole bytes, no unused bits: without the flag the encoder would drop trailing zero
	 * bytes of the signature. */
	bits->flags &= ~(long)(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	bits = NULL; /* the request owns it */
	/* Check the token's work before anyone relies on it. */
	if (X509_REQ_verify(req, k->pk) != 1) {
		tool_err(t, "the signature the token made does not verify (%s)",
			 ERR_reason_error_string(ERR_peek_last_error())
				 ? ERR_reason_error_string(ERR_peek_last_error())
				 : "bad signature");
		goto out;
	}
	*out = req;
	req = NULL; /* the caller owns it */
	rc = TOOL_OK;
	goto out;
ossl:
	tool_err(t, "cannot build the request: %s",
		 ERR_reason_error_string(ERR_peek_last_error())
			 ? ERR_reason_error_string(ERR_peek_last_error())
			 : "OpenSSL failed");
	rc = TOOL_FAIL;
out:
	ERR_clear_error();
	ASN1_BIT_STRING_free(bits);
	X509_ALGOR_free(alg);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	OPENSSL_free(tbs);
	free(sig);
	X509_REQ_free(req);
	return rc;
}

int tool_sans_parse(const struct tool *t, const char *const *sans, size_t n, GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gn = NULL;
	char err[TOOL_ERR_LEN];

	*out = NULL;
	if (n == 0)
		return TOOL_OK;
	gens = sk_GENERAL_NAME_new_null();
	if (!gens) {
		tool_err(t, "out of memory");
		return TOOL_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		if (tool_san_parse(sans[i], &gn, err, sizeof(err)) != 0) {
			GENERAL_NAMES_free(gens);
			return tool_usage(t, "%s", err);
		}
		if (!sk_GENERAL_NAME_push(gens, gn)) {
			GENERAL_NAME_free(gn);
			GENERAL_NAMES_free(gens);
			tool_err(t, "out of memory");
			return TOOL_FAIL;
		}
	}
	*out = gens;
	return TOOL_OK;
}

int tool_csr_encode(X509_REQ *req, bool der, uint8_t **out, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n = 0;

	*out = NULL;
	if (b && (der ? i2d_X509_REQ_bio(b, req) : PEM_write_bio_X509_REQ(b, req)) == 1 &&
	    (n = BIO_get_mem_data(b, &p)) > 0) {
		*out = malloc((size_t)n + 1);
		if (*out) {
			memcpy(*out, p, (size_t)n);
			(*out)[n] = 0;
			*len = (size_t)n;
		}
	}
	BIO_free(b);
	return *out ? 0 : -1;
}
