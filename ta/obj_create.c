/*
 * Making objects: the shared commit (obj_add) and C_CreateObject (§5.7) for data objects, X.509
 * certificates and imported RSA, EC, Ed25519, AES and generic secret keys.
 *
 * Certificates (§4.6.3): CKA_VALUE must be one well-formed DER certificate. The token derives
 * CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER (DER INTEGER), CKA_START_DATE/CKA_END_DATE (from
 * notBefore/notAfter), CKA_PUBLIC_KEY_INFO and CKA_CHECK_VALUE (the first 3 bytes of SHA-1 of
 * CKA_VALUE). A caller may give any of them, as applications such as pkcs11-tool do, but only
 * with the derived value: anything else is CKR_ATTRIBUTE_VALUE_INVALID.
 *
 * Imported keys: the material is checked through port/keyimport.h before the object exists;
 * CKA_LOCAL, CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE are false and
 * CKA_KEY_GEN_MECHANISM is CK_UNAVAILABLE_INFORMATION (the class defaults; no template may set
 * them). RSA private keys must come with every CRT component (CKR_TEMPLATE_INCOMPLETE
 * otherwise): a key this token cannot check is not accepted.
 */
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "core.h"
#include "port/crypto.h"
#include "port/keyimport.h"
#include "port/x509.h"

#define CHECK_VALUE_LEN 3

/* CKA_EC_PARAMS this token knows: DER OIDs of the named curves, and for Ed25519 also the
 * PrintableString "edwards25519" (PKCS#11 3.0 §2.3.5). */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const uint8_t oid_ed25519[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t name_ed25519[] = { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
					'd',  's',  '2', '5', '5', '1', '9' };

struct curve_def {
	CK_KEY_TYPE kt;
	const uint8_t *params;
	size_t len;
	enum port_ec_curve curve; /* 0 for Ed25519 */
};

static const struct curve_def curves[] = {
	{ CKK_EC, oid_p256, sizeof(oid_p256), PORT_EC_P256 },
	{ CKK_EC, oid_p384, sizeof(oid_p384), PORT_EC_P384 },
	{ CKK_EC, oid_p521, sizeof(oid_p521), PORT_EC_P521 },
	{ CKK_EC_EDWARDS, oid_ed25519, sizeof(oid_ed25519), 0 },
	{ CKK_EC_EDWARDS, name_ed25519, sizeof(name_ed25519), 0 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

CK_RV obj_add(struct ta_client *c, struct sess *s, struct attrs *a, CK_OBJECT_HANDLE *out)
{
	struct obj *o = NULL;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = CKR_GENERAL_ERROR;

	*out = CK_INVALID_HANDLE;
	rv = obj_check_create(s, a);
	if (rv != CKR_OK)
		goto out;
	if (attr_check_stored(a) != 0) {
		log_error("obj: refusing to make an incomplete object");
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	o = obj_new(c->ta);
	if (!o) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	o->a = *a;
	memset(a, 0, sizeof(*a)); /* the object owns the attributes now */
	if (!obj_is_token(o))
		o->owner = s;
	rv = obj_handle(c, o, &h);
	if (rv != CKR_OK)
		goto out;
	if (obj_is_token(o)) {
		rv = store_obj_write(c->ta, o);
		if (rv != CKR_OK)
			goto out;
	}
	obj_link(c->ta, o);
	o = NULL; /* the object list owns it */
	*out = h;
	rv = CKR_OK;
out:
	obj_free(o);
	attrs_free(a);
	return rv;
}

/* A derived attribute: set it to val, or, when the template gave it, insist on the same
 * value (CKR_ATTRIBUTE_VALUE_INVALID). */
static CK_RV set_derived(struct attrs *a, CK_ATTRIBUTE_TYPE t, const void *val, size_t len)
{
	const struct attr *given = attrs_find(a, t);

	if (given)
		return given->len == len && (len == 0 || memcmp(given->val, val, len) == 0)
			       ? CKR_OK
			       : CKR_ATTRIBUTE_VALUE_INVALID;
	return attrs_set(a, t, val, len);
}

/* The first CHECK_VALUE_LEN bytes of SHA-1 of len bytes at p. */
static CK_RV sha1_check_value(const uint8_t *p, size_t len, uint8_t cv[CHECK_VALUE_LEN])
{
	struct port_hash *h = port_hash_new(PORT_HASH_SHA1);
	uint8_t md[PORT_HASH_MAX_LEN];
	CK_RV rv = CKR_FUNCTION_FAILED;

	if (h && port_hash_update(h, p, len) == 0 && port_hash_final(h, md) == 0) {
		memcpy(cv, md, CHECK_VALUE_LEN);
		rv = CKR_OK;
	}
	port_hash_free(h);
	wipe(md, sizeof(md));
	return rv;
}

CK_RV obj_secret_check_value(struct attrs *a)
{
	const struct attr *v = attrs_find(a, CKA_VALUE);
	CK_KEY_TYPE kt = 0;
	uint8_t block[PORT_AES_BLOCK] = { 0 };
	uint8_t cv[CHECK_VALUE_LEN];
	struct port_aes *aes = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!v || !attrs_get_ulong(a, CKA_KEY_TYPE, &kt))
		return CKR_GENERAL_ERROR;
	if (kt == CKK_AES) {
		/* Current Mechanisms §2.8.2: the first bytes of AES-ECB of a zero block. */
		aes = port_aes_new(v->val, v->len, 1);
		if (!aes || port_aes_blocks(aes, block, sizeof(block), block) != 0) {
			rv = CKR_FUNCTION_FAILED;
			goto out;
		}
		memcpy(cv, block, sizeof(cv));
	} else if (kt == CKK_GENERIC_SECRET) {
		/* PKCS#11 3.0 §2.6.2: the first bytes of SHA-1 of the value. */
		rv = sha1_check_value(v->val, v->len, cv);
		if (rv != CKR_OK)
			goto out;
	} else {
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	rv = set_derived(a, CKA_CHECK_VALUE, cv, sizeof(cv));
out:
	port_aes_free(aes);
	wipe(block, sizeof(block));
	return rv;
}

/* §4.6.3: derive the certificate attributes from CKA_VALUE. */
static CK_RV cert_fill(struct attrs *a)
{
	const struct attr *v = attrs_find(a, CKA_VALUE);
	struct port_x509 x = { 0 };
	uint8_t cv[CHECK_VALUE_LEN];
	CK_ULONG u = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	/* CK_CERTIFICATE_CATEGORY_* and CK_SECURITY_DOMAIN_* both run 0 to 3. */
	if ((attrs_get_ulong(a, CKA_CERTIFICATE_CATEGORY, &u) && u > 3) ||
	    (attrs_get_ulong(a, CKA_JAVA_MIDP_SECURITY_DOMAIN, &u) && u > 3))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (!v || v->len == 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (port_x509_parse(v->val, v->len, &x) != 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	rv = sha1_check_value(v->val, v->len, cv);
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_SUBJECT, x.subject, x.subject_len);
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_ISSUER, x.issuer, x.issuer_len);
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_SERIAL_NUMBER, x.serial, x.serial_len);
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_PUBLIC_KEY_INFO, x.spki, x.spki_len);
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_START_DATE, x.not_before, sizeof(x.not_before));
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_END_DATE, x.not_after, sizeof(x.not_after));
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_CHECK_VALUE, cv, sizeof(cv));
	port_x509_free(&x);
	return rv;
}

/* The curve named by CKA_EC_PARAMS for key type kt: CKR_CURVE_NOT_SUPPORTED for a well-formed
 * OID or name of another curve, CKR_ATTRIBUTE_VALUE_INVALID for anything else. */
static CK_RV curve_of(const struct attrs *a, CK_KEY_TYPE kt, const struct curve_def **out)
{
	const struct attr *p = attrs_find(a, CKA_EC_PARAMS);

	*out = NULL;
	if (!p)
		return CKR_TEMPLATE_INCOMPLETE;
	for (size_t i = 0; i < ARRAY_SIZE(curves); i++) {
		if (curves[i].kt == kt && curves[i].len == p->len &&
		    memcmp(curves[i].params, p->val, p->len) == 0) {
			*out = &curves[i];
			return CKR_OK;
		}
	}
	if (p->len >= 2 && p->len < 128 && (p->val[0] == 0x06 || p->val[0] == 0x13) &&
	    p->val[1] == p->len - 2)
		return CKR_CURVE_NOT_SUPPORTED;
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

/* The contents of the DER OCTET STRING of CKA_EC_POINT when it holds exactly want bytes. */
static const uint8_t *ec_point_contents(const struct attr *at, size_t want)
{
	size_t hdr = 0;

	if (!at || at->len < 2 || at->val[0] != 0x04)
		return NULL;
	if (want < 128 && at->val[1] == want)
		hdr = 2;
	else if (want >= 128 && want < 256 && at->val[1] == 0x81 && at->len >= 3 &&
		 at->val[2] == want)
		hdr = 3;
	if (!hdr || at->len != hdr + want)
		return NULL;
	return at->val + hdr;
}

/* RSA (Current Mechanisms §2.1.2, §2.1.3). */
static CK_RV rsa_import(struct attrs *a, bool priv, uint8_t *spki, size_t *spki_len)
{
	static const CK_ATTRIBUTE_TYPE parts[8] = {
		CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
		CKA_PRIME_2, CKA_EXPONENT_1,	  CKA_EXPONENT_2,	CKA_COEFFICIENT,
	};
	const struct attr *at[8] = { NULL };
	struct port_rsa_key k;
	size_t nbytes = 0;
	CK_ULONG bits = 0;

	memset(&k, 0, sizeof(k));
	for (size_t i = 0; i < (priv ? 8u : 2u); i++) {
		at[i] = attrs_find(a, parts[i]);
		if (!at[i])
			return CKR_TEMPLATE_INCOMPLETE;
		if (at[i]->len == 0)
			return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	k.n = at[0]->val;
	k.n_len = at[0]->len;
	k.e = at[1]->val;
	k.e_len = at[1]->len;
	if (priv) {
		k.d = at[2]->val;
		k.d_len = at[2]->len;
		k.p = at[3]->val;
		k.p_len = at[3]->len;
		k.q = at[4]->val;
		k.q_len = at[4]->len;
		k.dp = at[5]->val;
		k.dp_len = at[5]->len;
		k.dq = at[6]->val;
		k.dq_len = at[6]->len;
		k.qinv = at[7]->val;
		k.qinv_len = at[7]->len;
	}
	if (port_rsa_import(&k, spki, spki_len) != 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (priv)
		return CKR_OK;
	/* CKA_MODULUS_BITS of a public key: the modulus without leading zero bytes. */
	for (nbytes = at[0]->len; nbytes && at[0]->val[at[0]->len - nbytes] == 0; nbytes--)
		;
	if (nbytes == 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	bits = (CK_ULONG)nbytes * 8;
	for (uint8_t top = at[0]->val[at[0]->len - nbytes]; !(top & 0x80); top <<= 1)
		bits--;
	return attrs_set_ulong(a, CKA_MODULUS_BITS, bits);
}

/* EC and Ed25519 (Current Mechanisms §2.3.3, §2.3.4; PKCS#11 3.0 §2.3.5, §2.3.6). */
static CK_RV ec_import(struct attrs *a, CK_KEY_TYPE kt, bool priv, uint8_t *spki, size_t *spki_len)
{
	const struct curve_def *cd = NULL;
	const struct attr *v = NULL;
	const uint8_t *q = NULL;
	uint8_t pub[PORT_EC_MAX_POINT];
	size_t slen = 0;
	int r = -1;
	CK_RV rv = curve_of(a, kt, &cd);

	if (rv != CKR_OK)
		return rv;
	slen = cd->curve ? port_ec_scalar_len(cd->curve) : PORT_ED25519_LEN;
	if (priv) {
		v = attrs_find(a, CKA_VALUE);
		if (!v)
			return CKR_TEMPLATE_INCOMPLETE;
		/* An EC scalar may come without its leading zeros; an Ed25519 seed may not. */
		if (v->len == 0 || v->len > slen || (!cd->curve && v->len != slen))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		r = cd->curve ? port_ec_import(cd->curve, v->val, v->len, NULL, 0, pub, spki,
					       spki_len)
			      : port_ed25519_import(v->val, NULL, pub, spki, spki_len);
	} else {
		q = ec_point_contents(attrs_find(a, CKA_EC_POINT), cd->curve ? 1 + 2 * slen : slen);
		if (!q)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		r = cd->curve ? port_ec_import(cd->curve, NULL, 0, q, 1 + 2 * slen, pub, spki,
					       spki_len)
			      : port_ed25519_import(NULL, q, pub, spki, spki_len);
	}
	wipe(pub, sizeof(pub));
	return r == 0 ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

/* AES and generic secret keys (Current Mechanisms §2.8.2; §2.6.2). */
static CK_RV secret_import(struct attrs *a, CK_KEY_TYPE kt)
{
	const struct attr *v = attrs_find(a, CKA_VALUE);
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!v)
		return CKR_TEMPLATE_INCOMPLETE;
	if (kt == CKK_AES && v->len != 16 && v->len != 24 && v->len != 32)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (v->len == 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	rv = attrs_set_ulong(a, CKA_VALUE_LEN, (CK_ULONG)v->len);
	if (rv != CKR_OK)
		return rv;
	return obj_secret_check_value(a);
}

/* Check imported key material and set what the token derives from it. */
static CK_RV key_import(struct attrs *a, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
	uint8_t spki[PORT_SPKI_MAX];
	size_t spki_len = sizeof(spki);
	CK_RV rv = CKR_GENERAL_ERROR;

	if (cls == CKO_SECRET_KEY)
		return secret_import(a, kt);
	switch (kt) {
	case CKK_RSA:
		rv = rsa_import(a, cls == CKO_PRIVATE_KEY, spki, &spki_len);
		break;
	case CKK_EC:
	case CKK_EC_EDWARDS:
		rv = ec_import(a, kt, cls == CKO_PRIVATE_KEY, spki, &spki_len);
		break;
	default:
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
		break;
	}
	if (rv == CKR_OK)
		rv = set_derived(a, CKA_PUBLIC_KEY_INFO, spki, spki_len);
	return rv;
}

/* A data object's CKA_OBJECT_ID is empty or one DER OBJECT IDENTIFIER. */
static CK_RV data_check(const struct attrs *a)
{
	const struct attr *oid = attrs_find(a, CKA_OBJECT_ID);

	if (!oid || oid->len == 0)
		return CKR_OK;
	if (oid->len < 3 || oid->len > 129 || oid->val[0] != 0x06 || oid->val[1] != oid->len - 2)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

CK_RV obj_create(struct ta_client *c, CK_SESSION_HANDLE hs, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
		 CK_OBJECT_HANDLE_PTR ph)
{
	struct sess *s = NULL;
	struct attrs a = { 0 };
	CK_OBJECT_CLASS cls = 0;
	CK_ULONG sub = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!ph)
		return CKR_ARGUMENTS_BAD;
	*ph = CK_INVALID_HANDLE;
	rv = attr_template_class(tmpl, n, &cls, &sub);
	if (rv != CKR_OK)
		goto out;
	rv = attr_from_template(ATTR_OP_CREATE, cls, sub, tmpl, n, &a);
	if (rv != CKR_OK)
		goto out;
	rv = attr_complete_op(ATTR_OP_CREATE, cls, sub, &a);
	if (rv != CKR_OK)
		goto out;
	/* Access first: no parsing or crypto for a caller who may not make the object. */
	rv = obj_check_create(s, &a);
	if (rv != CKR_OK)
		goto out;
	switch (cls) {
	case CKO_DATA:
		rv = data_check(&a);
		break;
	case CKO_CERTIFICATE:
		rv = cert_fill(&a);
		break;
	default:
		rv = key_import(&a, cls, sub);
		break;
	}
	if (rv != CKR_OK)
		goto out;
	rv = obj_add(c, s, &a, ph);
out:
	attrs_free(&a);
	return rv;
}
