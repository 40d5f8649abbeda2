/*
 * Signing mechanisms: the table of --mech names, hashing, signing in the token and checking
 * signatures with OpenSSL, and the two ECDSA signature formats (tool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "common/buf.h"
#include "tool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Spec "sign --mech" (ecdsa-sha512 as well, the default for P-521 keys). */
static const struct tool_mech mechs[] = {
	{ "ecdsa-sha256", TOOL_ECDSA, CKM_ECDSA, "SHA256", 0, 0, 0, NID_ecdsa_with_SHA256 },
	{ "ecdsa-sha384", TOOL_ECDSA, CKM_ECDSA, "SHA384", 0, 0, 0, NID_ecdsa_with_SHA384 },
	{ "ecdsa-sha512", TOOL_ECDSA, CKM_ECDSA, "SHA512", 0, 0, 0, NID_ecdsa_with_SHA512 },
	{ "rsa-pkcs-sha256", TOOL_RSA_PKCS, CKM_RSA_PKCS, "SHA256", 0, 0, 0,
	  NID_sha256WithRSAEncryption },
	{ "rsa-pss-sha256", TOOL_RSA_PSS, CKM_RSA_PKCS_PSS, "SHA256", CKM_SHA256, CKG_MGF1_SHA256,
	  32, NID_undef },
	{ "eddsa", TOOL_EDDSA, CKM_EDDSA, NULL, 0, 0, 0, NID_ED25519 },
};

/* The DER DigestInfo prefix of RFC 8017 §9.2 note 1, for CKM_RSA_PKCS. */
static const uint8_t di_sha256[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
				     0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

const struct tool_mech *tool_mech_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(mechs); i++)
		if (strcmp(mechs[i].name, name) == 0)
			return &mechs[i];
	return NULL;
}

const char *tool_mech_names(void)
{
	return "ecdsa-sha256|ecdsa-sha384|ecdsa-sha512|rsa-pkcs-sha256|rsa-pss-sha256|eddsa";
}

const struct tool_mech *tool_mech_default(EVP_PKEY *pk)
{
	char type[32];
	const struct tool_keytype *kt =
		tool_keytype_by_name(tool_pkey_type_name(pk, type, sizeof(type)));

	if (kt)
		return tool_mech_by_name(kt->mech);
	if (strncmp(type, "rsa-", 4) == 0)
		return tool_mech_by_name("rsa-pkcs-sha256");
	return NULL;
}

int tool_mech_check(const struct tool_mech *m, EVP_PKEY *pk, char *err, size_t errsz)
{
	char type[32];
	bool ok = false;

	tool_pkey_type_name(pk, type, sizeof(type));
	switch (m->family) {
	case TOOL_ECDSA:
		ok = strncmp(type, "ec-", 3) == 0;
		break;
	case TOOL_RSA_PKCS:
	case TOOL_RSA_PSS:
		ok = strncmp(type, "rsa-", 4) == 0;
		break;
	case TOOL_EDDSA:
		ok = strcmp(type, "ed25519") == 0;
		break;
	}
	if (!ok)
		snprintf(err, errsz, "mechanism %s does not work with a key of type %s", m->name,
			 type);
	return ok ? 0 : -1;
}

/* ---- ECDSA signature formats ---- */

int tool_ecdsa_raw_to_der(const uint8_t *raw, size_t len, uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = NULL;
	int n = 0;

	*der = NULL;
	*der_len = 0;
	if (len == 0 || len % 2 || len > 2 * 66)
		return -1;
	sig = ECDSA_SIG_new();
	r = BN_bin2bn(raw, (int)len / 2, NULL);
	s = BN_bin2bn(raw + len / 2, (int)len / 2, NULL);
	if (!sig || !r || !s || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return -1;
	}
	/* sig owns r and s now */
	n = i2d_ECDSA_SIG(sig, &p);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return -1;
	*der = malloc((size_t)n);
	if (*der) {
		memcpy(*der, p, (size_t)n);
		*der_len = (size_t)n;
	}
	OPENSSL_free(p);
	return *der ? 0 : -1;
}

int tool_ecdsa_der_to_raw(const uint8_t *der, size_t der_len, size_t n, uint8_t *raw)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	const BIGNUM *r = NULL, *s = NULL;
	int rc = -1;

	if (!sig || p != der + der_len)
		goto out;
	ECDSA_SIG_get0(sig, &r, &s);
	if ((size_t)BN_num_bytes(r) > n || (size_t)BN_num_bytes(s) > n)
		goto out;
	if (BN_bn2binpad(r, raw, (int)n) < 0 || BN_bn2binpad(s, raw + n, (int)n) < 0)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(sig);
	ERR_clear_error();
	return rc;
}

/* ---- signing in the token ---- */

int tool_token_sign(struct tool *t, CK_OBJECT_HANDLE h, const struct tool_mech *m,
		    const uint8_t *in, size_t in_len, uint8_t **sig, size_t *sig_len)
{
	CK_RSA_PKCS_PSS_PARAMS pss = { m->hash, m->mgf, m->salt };
	CK_MECHANISM mech = { m->ckm, NULL, 0 };
	uint8_t *tbs = NULL;
	size_t tbs_len = in_len;
	uint8_t *out = NULL;
	CK_ULONG out_len = 0;
	size_t cap = 0;
	CK_RV rv = CKR_GENERAL_ERROR;
	int rc = TOOL_FAIL;

	*sig = NULL;
	*sig_len = 0;
	if (m->family == TOOL_RSA_PSS) {
		mech.pParameter = &pss;
		mech.ulParameterLen = sizeof(pss);
	}
	if (m->family == TOOL_RSA_PKCS) {
		/* CKM_RSA_PKCS signs what it is given: the DigestInfo of the hash. */
		if (in_len != 32) {
			tool_err(t, "internal error: %s wants a SHA-256 digest", m->name);
			return TOOL_FAIL;
		}
		tbs_len = sizeof(di_sha256) + in_len;
		tbs = malloc(tbs_len);
		if (!tbs) {
			tool_err(t, "out of memory");
			return TOOL_FAIL;
		}
		memcpy(tbs, di_sha256, sizeof(di_sha256));
		memcpy(tbs + sizeof(di_sha256), in, in_len);
	}
	rv = t->f->C_SignInit(t->sess, &mech, h);
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_SignInit", rv);
		goto out;
	}
	/* Room for any signature this tool makes (RSA-4096 is 512 bytes) saves a size query
	 * and, for EdDSA, sending the message twice; a larger one is asked for again
	 * (CKR_BUFFER_TOO_SMALL leaves the operation active, PKCS#11 §5.2). */
	out_len = 1024;
	cap = out_len;
	out = malloc(out_len);
	if (!out) {
		tool_err(t, "out of memory");
		goto out;
	}
	rv = t->f->C_Sign(t->sess, tbs ? tbs : (CK_BYTE_PTR)in, (CK_ULONG)tbs_len, out, &out_len);
	if (rv == CKR_BUFFER_TOO_SMALL && out_len > 1024 && out_len <= 8192) {
		free(out);
		cap = out_len;
		out = malloc(out_len);
		if (!out) {
			tool_err(t, "out of memory");
			goto out;
		}
		rv = t->f->C_Sign(t->sess, tbs ? tbs : (CK_BYTE_PTR)in, (CK_ULONG)tbs_len, out,
				  &out_len);
	}
	if (rv != CKR_OK) {
		tool_p11_err(t, "C_Sign", rv);
		goto out;
	}
	if (out_len > cap) {
		tool_err(t, "the module claims a %lu-byte signature in a %zu-byte buffer",
			 (unsigned long)out_len, cap);
		goto out;
	}
	if (m->family == TOOL_ECDSA) {
		/* PKCS#11 gives r||s; OpenSSL and X.509 want an ECDSA-Sig-Value. */
		if (tool_ecdsa_raw_to_der(out, out_len, sig, sig_len) != 0) {
			tool_err(t, "the token returned a malformed ECDSA signature (%lu bytes)",
				 (unsigned long)out_len);
			goto out;
		}
	} else {
		*sig = out;
		*sig_len = out_len;
		out = NULL; /* the caller owns it */
	}
	rc = TOOL_OK;
out:
	free(out);
	free(tbs);
	return rc;
}

static int digest(const char *md, const uint8_t *msg, size_t len, uint8_t *dg, size_t *dg_len)
{
	EVP_MD *alg = EVP_MD_fetch(NULL, md, NULL);
	unsigned int n = 0;
	int ok = alg && EVP_Digest(msg, len, dg, &n, alg, NULL) == 1;

	EVP_MD_free(alg);
	*dg_len = n;
	return ok ? 0 : -1;
}

int tool_sign_buffer(struct tool *t, CK_OBJECT_HANDLE h, const struct tool_mech *m,
		     const uint8_t *msg, size_t len, uint8_t **sig, size_t *sig_len)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	size_t dg_len = 0;

	if (m->family == TOOL_EDDSA) {
		if (len > TOOL_EDDSA_MAX) {
			tool_err(t,
				 "Ed25519 signs the whole message in one call: %zu bytes is more "
				 "than the %u KiB allowed",
				 len, TOOL_EDDSA_MAX >> 10);
			return TOOL_FAIL;
		}
		return tool_token_sign(t, h, m, msg, len, sig, sig_len);
	}
	if (digest(m->md, msg, len, dg, &dg_len) != 0) {
		tool_err(t, "cannot hash with %s", m->md);
		return TOOL_FAIL;
	}
	return tool_token_sign(t, h, m, dg, dg_len, sig, sig_len);
}

int tool_hash_file(const char *path, const char *md, uint8_t *dg, size_t *dg_len, char *err,
		   size_t errsz)
{
	const bool is_stdin = strcmp(path, "-") == 0;
	EVP_MD *alg = EVP_MD_fetch(NULL, md, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t buf[65536];
	unsigned int n = 0;
	ssize_t r = 0;
	int fd = -1, rc = -1;

	*dg_len = 0;
	if (!alg || !ctx || EVP_DigestInit_ex(ctx, alg, NULL) != 1) {
		snprintf(err, errsz, "cannot hash with %s", md);
		goto out;
	}
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errsz, "cannot read %s: %s",
				 is_stdin ? "standard input" : path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)r) != 1) {
			snprintf(err, errsz, "cannot hash with %s", md);
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(ctx, dg, &n) != 1) {
		snprintf(err, errsz, "cannot hash with %s", md);
		goto out;
	}
	*dg_len = n;
	rc = 0;
out:
	if (fd >= 0 && !is_stdin)
		close(fd);
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(alg);
	return rc;
}

/* ---- checking signatures ---- */

/* Set the padding of an RSA check for m. */
static int rsa_setup(EVP_PKEY_CTX *pctx, const struct tool_mech *m)
{
	if (m->family == TOOL_RSA_PKCS)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
	if (m->family == TOOL_RSA_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		       EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, m->md, NULL) > 0 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)m->salt) > 0;
	return 1;
}

/* Whether sig is one DER ECDSA-Sig-Value and nothing else (re-encoded to the same bytes). */
static bool ecdsa_is_der(const uint8_t *sig, size_t len)
{
	const unsigned char *p = sig;
	unsigned char *again = NULL;
	ECDSA_SIG *es = len <= LONG_MAX ? d2i_ECDSA_SIG(NULL, &p, (long)len) : NULL;
	int n = es && p == sig + len ? i2d_ECDSA_SIG(es, &again) : -1;
	bool der = n > 0 && (size_t)n == len && memcmp(again, sig, len) == 0;

	OPENSSL_free(again);
	ECDSA_SIG_free(es);
	ERR_clear_error();
	return der;
}

int tool_verify_digest(EVP_PKEY *pk, const struct tool_mech *m, const uint8_t *dg, size_t dg_len,
		       const uint8_t *sig, size_t sig_len, char *err, size_t errsz)
{
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	uint8_t *der = NULL;
	size_t der_len = 0;
	int r = -1;

	if (m->family == TOOL_EDDSA) {
		snprintf(err, errsz, "internal error: EdDSA checks the message, not a digest");
		goto out;
	}
	if (!pctx || EVP_PKEY_verify_init(pctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, EVP_get_digestbyname(m->md)) <= 0 ||
	    !rsa_setup(pctx, m)) {
		snprintf(err, errsz, "cannot set up a %s check with this key", m->name);
		goto out;
	}
	/* An ECDSA signature may also come as r||s (what PKCS#11 tools write); r may start with
	 * 0x30 too, so only a signature that is exactly a DER ECDSA-Sig-Value is taken as DER. */
	if (m->family == TOOL_ECDSA && !ecdsa_is_der(sig, sig_len) &&
	    tool_ecdsa_raw_to_der(sig, sig_len, &der, &der_len) == 0) {
		sig = der;
		sig_len = der_len;
	}
	r = EVP_PKEY_verify(pctx, sig, sig_len, dg, dg_len) == 1 ? 1 : 0;
out:
	ERR_clear_error();
	free(der);
	EVP_PKEY_CTX_free(pctx);
	return r;
}

int tool_verify_buffer(EVP_PKEY *pk, const struct tool_mech *m, const uint8_t *msg, size_t len,
		       const uint8_t *sig, size_t sig_len, char *err, size_t errsz)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t dg[EVP_MAX_MD_SIZE];
	size_t dg_len = 0;
	int r = -1;

	if (m->family != TOOL_EDDSA) {
		if (digest(m->md, msg, len, dg, &dg_len) != 0) {
			snprintf(err, errsz, "cannot hash with %s", m->md);
			return -1;
		}
		return tool_verify_digest(pk, m, dg, dg_len, sig, sig_len, err, errsz);
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pk, NULL) != 1) {
		snprintf(err, errsz, "cannot set up an Ed25519 check with this key");
		goto out;
	}
	r = EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1 ? 1 : 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}
