/*
 * Key types and key pairs on the token: generation with the attributes of the spec
 * ("Objects"), and the public key of a token key as an EVP_PKEY (tool.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "common/buf.h"
#include "tool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* CKA_EC_PARAMS: the DER OIDs of the curves. Ed25519 uses the OID 1.3.101.112, which both
 * this token and SoftHSM 2.6 accept (SoftHSM does not know the "edwards25519" string form). */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };

/* The key types keygen makes (spec "keygen --type"; ec-p521 as well, which the token has). */
static const struct tool_keytype keytypes[] = {
	{ "ec-p256", CKK_EC, CKM_EC_KEY_PAIR_GEN, oid_p256, sizeof(oid_p256), 0, "ecdsa-sha256" },
	{ "ec-p384", CKK_EC, CKM_EC_KEY_PAIR_GEN, oid_p384, sizeof(oid_p384), 0, "ecdsa-sha384" },
	{ "ec-p521", CKK_EC, CKM_EC_KEY_PAIR_GEN, oid_p521, sizeof(oid_p521), 0, "ecdsa-sha512" },
	{ "rsa-2048", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0, 2048, "rsa-pkcs-sha256" },
	{ "rsa-3072", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0, 3072, "rsa-pkcs-sha256" },
	{ "rsa-4096", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0, 4096, "rsa-pkcs-sha256" },
	{ "ed25519", CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN, oid_ed25519, sizeof(oid_ed25519),
	  0, "eddsa" },
};

const struct tool_keytype *tool_keytype_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keytypes); i++)
		if (strcmp(keytypes[i].name, name) == 0)
			return &keytypes[i];
	return NULL;
}

const char *tool_keytype_names(void)
{
	return "ec-p256|ec-p384|ec-p521|rsa-2048|rsa-3072|rsa-4096|ed25519";
}

const char *tool_pkey_type_name(EVP_PKEY *pk, char *buf, size_t size)
{
	char group[64];

	snprintf(buf, size, "?");
	if (!pk)
		return buf;
	if (EVP_PKEY_is_a(pk, "ED25519")) {
		snprintf(buf, size, "ed25519");
	} else if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		snprintf(buf, size, "rsa-%d", EVP_PKEY_get_bits(pk));
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		snprintf(buf, size, "ec");
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						   sizeof(group), NULL) == 1) {
			if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
				snprintf(buf, size, "ec-p256");
			else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
				snprintf(buf, size, "ec-p384");
			else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
				snprintf(buf, size, "ec-p521");
			else
				snprintf(buf, size, "ec-%s", group);
		}
	}
	return buf;
}

/* ---- public keys from attributes ---- */

/* The contents of a DER OCTET STRING that is all of p, or NULL. */
static const uint8_t *octet_contents(const uint8_t *p, size_t len, size_t *out_len)
{
	size_t hdr = 0, n = 0;

	if (len < 2 || p[0] != 0x04)
		return NULL;
	if (p[1] < 0x80) {
		hdr = 2;
		n = p[1];
	} else if (p[1] == 0x81 && len >= 3) {
		hdr = 3;
		n = p[2];
	} else if (p[1] == 0x82 && len >= 4) {
		hdr = 4;
		n = (size_t)p[2] << 8 | p[3];
	} else {
		return NULL;
	}
	if (hdr + n != len)
		return NULL;
	*out_len = n;
	return p + hdr;
}

/* An EC or Ed25519 public key from CKA_EC_PARAMS (an OID, or the "edwards25519" string) and
 * CKA_EC_POINT (a DER OCTET STRING, or the bare point some modules give). */
static EVP_PKEY *ec_pkey(const uint8_t *params, size_t plen, const uint8_t *point, size_t len)
{
	const unsigned char *pp = params;
	ASN1_OBJECT *oid = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *ps = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	const uint8_t *q = NULL;
	size_t qlen = 0;
	int nid = NID_undef;

	q = octet_contents(point, len, &qlen);
	if (!q) {
		q = point;
		qlen = len;
	}
	if (plen == 14 && params[0] == 0x13 && memcmp(params + 2, "edwards25519", 12) == 0) {
		nid = NID_ED25519;
	} else {
		oid = d2i_ASN1_OBJECT(NULL, &pp, (long)plen);
		if (!oid || pp != params + plen)
			goto out;
		nid = OBJ_obj2nid(oid);
	}
	if (nid == NID_ED25519) {
		if (qlen == 32)
			pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, q, qlen);
		goto out;
	}
	if (nid == NID_undef || !OBJ_nid2sn(nid))
		goto out;
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, qlen))
		goto out;
	ps = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ps || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, ps) <= 0)
		pk = NULL;
out:
	ASN1_OBJECT_free(oid);
	OSSL_PARAM_free(ps);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

static EVP_PKEY *rsa_pkey(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM *ps = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	if (!bld || !bn || !be || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	ps = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!ps || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, ps) <= 0)
		pk = NULL;
out:
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_free(ps);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* The public key of object h from CKA_PUBLIC_KEY_INFO when the module fills it, else from
 * the key's own attributes, or a certificate's DER. NULL (silently, OpenSSL's queue cleared) when
 * neither works; -1 in *err for a PKCS#11 error (said). */
static EVP_PKEY *object_pkey(struct tool *t, CK_OBJECT_HANDLE h, bool *err)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	const unsigned char *p = NULL;
	CK_ULONG kt = 0;
	EVP_PKEY *pk = NULL;
	X509 *x = NULL;
	int r = 0;

	*err = false;
	r = tool_attr(t, h, CKA_PUBLIC_KEY_INFO, &a, &alen);
	if (r < 0)
		goto fail;
	if (r > 0 && alen > 0) {
		p = a;
		pk = d2i_PUBKEY(NULL, &p, (long)alen);
		if (pk)
			goto out;
	}
	free(a);
	a = NULL;
	r = tool_attr_ulong(t, h, CKA_KEY_TYPE, &kt);
	if (r < 0)
		goto fail;
	if (r == 0) {
		/* No key: a certificate, on a module that does not fill CKA_PUBLIC_KEY_INFO. */
		if (tool_attr(t, h, CKA_VALUE, &a, &alen) < 0)
			goto fail;
		p = a;
		x = a && alen ? d2i_X509(NULL, &p, (long)alen) : NULL;
		pk = x ? X509_get_pubkey(x) : NULL;
		X509_free(x);
		goto out;
	}
	if (kt == CKK_RSA) {
		if ((r = tool_attr(t, h, CKA_MODULUS, &a, &alen)) < 0 ||
		    (r > 0 && (r = tool_attr(t, h, CKA_PUBLIC_EXPONENT, &b, &blen)) < 0))
			goto fail;
		if (r > 0 && alen && blen)
			pk = rsa_pkey(a, alen, b, blen);
	} else if (kt == CKK_EC || kt == CKK_EC_EDWARDS) {
		if ((r = tool_attr(t, h, CKA_EC_PARAMS, &a, &alen)) < 0 ||
		    (r > 0 && (r = tool_attr(t, h, CKA_EC_POINT, &b, &blen)) < 0))
			goto fail;
		if (r > 0 && alen && blen)
			pk = ec_pkey(a, alen, b, blen);
	}
out:
	ERR_clear_error();
	free(a);
	free(b);
	return pk;
fail:
	*err = true;
	pk = NULL;
	goto out;
}

EVP_PKEY *tool_pub_object_pkey(struct tool *t, CK_OBJECT_HANDLE h)
{
	bool err = false;
	EVP_PKEY *pk = object_pkey(t, h, &err);

	if (!pk && !err)
		tool_err(t, "cannot read the public key from the token");
	return pk;
}

/* ---- key pairs ---- */

void tool_key_clear(struct tool_key *k)
{
	if (!k)
		return;
	free(k->label);
	free(k->id);
	EVP_PKEY_free(k->pk);
	memset(k, 0, sizeof(*k));
	k->priv = CK_INVALID_HANDLE;
	k->pub = CK_INVALID_HANDLE;
}

/* The public key object with CKA_ID id (the other half of a key pair), if exactly one. */
static int find_pub_by_id(struct tool *t, const uint8_t *id, size_t id_len, CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, (CK_ULONG)id_len },
	};
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int rc = tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &n);

	*h = CK_INVALID_HANDLE;
	if (rc == TOOL_OK && n == 1)
		*h = hs[0];
	free(hs);
	return rc;
}

int tool_key_load(struct tool *t, CK_OBJECT_HANDLE h, struct tool_key *k)
{
	size_t len = 0;
	bool err = false;
	int r = 0;

	tool_key_clear(k);
	k->priv = h;
	r = tool_attr(t, h, CKA_LABEL, (uint8_t **)&k->label, &len);
	if (r < 0)
		return TOOL_FAIL;
	if (r == 0 || strlen(k->label) != len) {
		free(k->label);
		k->label = strdup("");
		if (!k->label)
			return TOOL_FAIL;
	}
	r = tool_attr(t, h, CKA_ID, &k->id, &k->id_len);
	if (r < 0)
		return TOOL_FAIL;
	if (k->id_len > 0 && find_pub_by_id(t, k->id, k->id_len, &k->pub) != TOOL_OK)
		return TOOL_FAIL;
	/* The private key first: CKA_PUBLIC_KEY_INFO, or an RSA key's modulus; then the
	 * public key object. */
	k->pk = object_pkey(t, h, &err);
	if (!k->pk && !err && k->pub != CK_INVALID_HANDLE)
		k->pk = object_pkey(t, k->pub, &err);
	return err ? TOOL_FAIL : TOOL_OK;
}

int tool_key_find(struct tool *t, const char *label, struct tool_key *k)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	int rc = tool_find_one(t, CKO_PRIVATE_KEY, label, &h);

	if (rc == TOOL_NOTFOUND)
		tool_err(t, "no private key labelled '%s' on token '%s'", label, t->token_label);
	if (rc != TOOL_OK)
		return rc;
	rc = tool_key_load(t, h, k);
	if (rc == TOOL_OK && !k->pk) {
		tool_err(t,
			 "cannot read the public key of key '%s' (no CKA_PUBLIC_KEY_INFO and no "
			 "public key object with its CKA_ID)",
			 label);
		rc = TOOL_FAIL;
	}
	return rc;
}

int tool_key_label_exists(struct tool *t, const char *label)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY };
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0, total = 0;

	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		CK_OBJECT_CLASS cls = classes[i];
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_LABEL, (void *)label, (CK_ULONG)strlen(label) },
		};

		if (tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &n) != TOOL_OK)
			return -1;
		free(hs);
		total += n;
	}
	return total > 0;
}

int tool_key_destroy(struct tool *t, struct tool_key *k)
{
	int rc = TOOL_OK;

	if (tool_destroy(t, k->priv) != TOOL_OK)
		rc = TOOL_FAIL;
	else
		k->priv = CK_INVALID_HANDLE;
	if (tool_destroy(t, k->pub) != TOOL_OK)
		rc = TOOL_FAIL;
	else
		k->pub = CK_INVALID_HANDLE;
	return rc;
}

/* Whether a key with CKA_ID id exists: 1, 0, -1 (said). */
static int key_id_exists(struct tool *t, const uint8_t *id, size_t id_len)
{
	CK_ATTRIBUTE tmpl[] = { { CKA_ID, (void *)id, (CK_ULONG)id_len } };
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;

	if (tool_find(t, tmpl, ARRAY_SIZE(tmpl), &hs, &n) != TOOL_OK)
		return -1;
	free(hs);
	return n > 0;
}

int tool_keygen(struct tool *t, const struct tool_keytype *kt, const char *label, const uint8_t *id,
		size_t id_len, struct tool_key *k)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static const CK_BYTE f4[] = { 0x01, 0x00, 0x01 };
	CK_OBJECT_CLASS pub_cls = CKO_PUBLIC_KEY, priv_cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE ktype = kt->kt;
	CK_ULONG bits = kt->bits;
	CK_MECHANISM mech = { kt->gen, NULL, 0 };
	CK_ULONG label_len = (CK_ULONG)strlen(label);
	/* The attributes of the spec's "Objects"; CKA_PRIVATE false said outright for the
	 * public key, since SoftHSM makes every object private by default. */
	CK_ATTRIBUTE pub[9] = {
		{ CKA_CLASS, &pub_cls, sizeof(pub_cls) },  { CKA_KEY_TYPE, &ktype, sizeof(ktype) },
		{ CKA_TOKEN, (void *)&yes, sizeof(yes) },  { CKA_PRIVATE, (void *)&no, sizeof(no) },
		{ CKA_VERIFY, (void *)&yes, sizeof(yes) }, { CKA_LABEL, (void *)label, label_len },
	};
	CK_ATTRIBUTE priv[9] = {
		{ CKA_CLASS, &priv_cls, sizeof(priv_cls) },
		{ CKA_KEY_TYPE, &ktype, sizeof(ktype) },
		{ CKA_TOKEN, (void *)&yes, sizeof(yes) },
		{ CKA_PRIVATE, (void *)&yes, sizeof(yes) },
		{ CKA_SENSITIVE, (void *)&yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, (void *)&no, sizeof(no) },
		{ CKA_SIGN, (void *)&yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, label_len },
	};
	CK_ULONG npub = 6, npriv = 8;
	uint8_t spki_id[20];
	bool err = false;
	CK_RV rv = CKR_GENERAL_ERROR;
	int rc = TOOL_FAIL, r = 0;

	tool_key_clear(k);
	if (kt->kt == CKK_RSA) {
		pub[npub++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof(bits) };
		pub[npub++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4) };
	} else {
		pub[npub++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)kt->params,
					      (CK_ULONG)kt->params_len };
	}
	if (id_len) {
		r = key_id_exists(t, id, id_len);
		if (r != 0) {
			if (r > 0)
				tool_err(t, "an object with this id is already on the token");
			return TOOL_FAIL;
		}
		pub[npub++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, (CK_ULONG)id_len };
		priv[npriv++] = (CK_ATTRIBUTE){ CKA_ID, (void *)id, (CK_ULONG)id_len };
	}
	rv = t->f->C_GenerateKeyPair(t->sess, &mech, pub, npub, priv, npriv, &k->pub, &k->priv);
	if (rv != CKR_OK) {
		k->pub = k->priv = CK_INVALID_HANDLE;
		tool_p11_err(t, "C_GenerateKeyPair", rv);
		return TOOL_FAIL;
	}
	k->label = strdup(label);
	k->pk = object_pkey(t, k->pub, &err);
	if (!k->pk && !err)
		k->pk = object_pkey(t, k->priv, &err);
	if (!k->label || !k->pk) {
		if (!err)
			tool_err(t, "cannot read the public key of the new key pair");
		goto out;
	}
	if (!id_len) {
		/* The spec's default CKA_ID: the SHA-1 of the SubjectPublicKeyInfo. */
		if (tool_spki_sha1(k->pk, spki_id) != 0) {
			tool_err(t, "cannot encode the public key");
			goto out;
		}
		if (tool_set_attr(t, k->priv, CKA_ID, spki_id, sizeof(spki_id)) != TOOL_OK ||
		    tool_set_attr(t, k->pub, CKA_ID, spki_id, sizeof(spki_id)) != TOOL_OK)
			goto out;
		id = spki_id;
		id_len = sizeof(spki_id);
	}
	k->id = mem_dup(id, id_len);
	if (!k->id) {
		tool_err(t, "out of memory");
		goto out;
	}
	k->id_len = id_len;
	rc = TOOL_OK;
out:
	if (rc != TOOL_OK) {
		(void)tool_key_destroy(t, k);
		tool_key_clear(k);
	}
	return rc;
}
