/*
 * C_WrapKey, C_UnwrapKey and C_DeriveKey (PKCS#11 v2.40 §5.14).
 *
 * Wrapping and unwrapping run the AES and RSA families of processing_*.c as one-shot
 * encryptions and decryptions after the one policy check of mech.c (for CKF_WRAP/CKF_UNWRAP),
 * whose key errors are renamed to the wrapping ones of §5.14. What is wrapped:
 *  - a secret key: its CKA_VALUE (CKM_AES_KEY_WRAP: a multiple of 8 bytes, at least 16;
 *    CKM_AES_KEY_WRAP_PAD, CKM_AES_CBC_PAD, CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP);
 *  - a private key (RSA with every CRT component, EC, Ed25519): its DER PKCS#8 PrivateKeyInfo
 *    (RFC 5208), with CKM_AES_KEY_WRAP_PAD and CKM_AES_CBC_PAD only.
 * A key is wrappable when it is extractable (§4.9, §4.10: CKA_SENSITIVE does not forbid
 * wrapping, CKA_EXTRACTABLE false does); CKA_WRAP_WITH_TRUSTED demands a CKA_TRUSTED wrapping
 * key. A wrapping key's CKA_WRAP_TEMPLATE admits only keys that have every attribute of it with
 * the same value (else CKR_KEY_NOT_WRAPPABLE).
 *
 * The templates of the key used (§4.7–§4.10, §5.14): an unwrapping key's CKA_UNWRAP_TEMPLATE and
 * a base key's CKA_DERIVE_TEMPLATE give the new key every attribute of them the caller's
 * template lacks; a caller's attribute with another value is CKR_TEMPLATE_INCONSISTENT. The
 * merged template then meets the same class rules as a caller's alone.
 *
 * An unwrapped key is a new key that was not made on the token: CKA_LOCAL, CKA_ALWAYS_SENSITIVE
 * and CKA_NEVER_EXTRACTABLE are false, its material is checked as C_CreateObject checks imports
 * (a secret key's length for its type; a PKCS#8 key parsed and checked by the port and of the
 * template's CKA_KEY_TYPE), and every plaintext buffer is wiped.
 *
 * Derivation: CKM_ECDH1_DERIVE (Current Mechanisms §2.3.10) into an AES or generic secret key;
 * the truncation of the shared secret removes bytes from its leading end, as the mechanism's
 * description says.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "mech.h"
#include "port/pkcs8.h"
#include "processing.h"

/* The most a generic secret key made by unwrapping or derivation may hold (the HMAC range). */
#define SECRET_MAX_LEN 512

/* CKA_EC_PARAMS of an Ed25519 key: the OID 1.3.101.112. */
static const uint8_t ed25519_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };

/* The CKA_* attributes of RSA private key components, in struct port_rsa_gen's order. */
static const CK_ATTRIBUTE_TYPE rsa_parts[8] = {
	CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
	CKA_PRIME_2, CKA_EXPONENT_1,	  CKA_EXPONENT_2,	CKA_COEFFICIENT,
};

/* §5.14 names the errors about the wrapping and unwrapping keys apart from other key errors. */
static CK_RV wrapping_key_rv(CK_RV rv, bool unwrap)
{
	switch (rv) {
	case CKR_KEY_HANDLE_INVALID:
		return unwrap ? CKR_UNWRAPPING_KEY_HANDLE_INVALID : CKR_WRAPPING_KEY_HANDLE_INVALID;
	case CKR_KEY_TYPE_INCONSISTENT:
		return unwrap ? CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT
			      : CKR_WRAPPING_KEY_TYPE_INCONSISTENT;
	case CKR_KEY_SIZE_RANGE:
		return unwrap ? CKR_UNWRAPPING_KEY_SIZE_RANGE : CKR_WRAPPING_KEY_SIZE_RANGE;
	}
	return rv;
}

/* One single-part encryption or decryption with key, whose policy check has passed. */
static CK_RV cipher_run(const struct mech_info *mi, const CK_MECHANISM *m, const struct obj *key,
			enum op_kind kind, struct op_io *io)
{
	const struct proc_family *fam = NULL;
	struct op op = { 0 };
	CK_RV rv = CKR_GENERAL_ERROR;

	if (mi->family == MECH_FAMILY_AES)
		fam = &proc_aes_family;
	else if (mi->family == MECH_FAMILY_RSA)
		fam = &proc_rsa_family;
	else
		return CKR_MECHANISM_INVALID;
	op.kind = kind;
	op.mech = mi;
	op.key_oid = key->oid;
	rv = fam->init(&op, m, key);
	if (rv == CKR_OK)
		rv = fam->step(&op, key, OP_STEP_ONESHOT, io);
	op_end(&op);
	return rv;
}

/* The key to wrap, named by c's handle h: a secret or private key the caller may use (§5.14
 * wraps only those; a public key is CKR_KEY_NOT_WRAPPABLE). */
static CK_RV key_to_wrap(struct ta_client *c, CK_OBJECT_HANDLE h, struct obj **out)
{
	struct obj *o = obj_from_handle(c, h);
	CK_OBJECT_CLASS cls = 0;

	*out = NULL;
	if (!o || !attrs_get_ulong(&o->a, CKA_CLASS, &cls))
		return CKR_KEY_HANDLE_INVALID;
	if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
		return CKR_KEY_HANDLE_INVALID;
	if (obj_is_private(o) && c->login != TA_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;
	if (cls == CKO_PUBLIC_KEY)
		return CKR_KEY_NOT_WRAPPABLE;
	*out = o;
	return CKR_OK;
}

/* The DER PKCS#8 of private key k into a new buffer (*der, wiped by the caller). */
static CK_RV private_encode(const struct obj *k, uint8_t **der, size_t *der_len)
{
	struct port_pkey pk;
	size_t *lens[8] = { &pk.rsa.n_len, &pk.rsa.e_len,  &pk.rsa.d_len,  &pk.rsa.p_len,
			    &pk.rsa.q_len, &pk.rsa.dp_len, &pk.rsa.dq_len, &pk.rsa.qinv_len };
	const uint8_t **vals[8] = { &pk.rsa.n, &pk.rsa.e,  &pk.rsa.d,  &pk.rsa.p,
				    &pk.rsa.q, &pk.rsa.dp, &pk.rsa.dq, &pk.rsa.qinv };
	CK_KEY_TYPE kt = 0;

	memset(&pk, 0, sizeof(pk));
	if (!attrs_get_ulong(&k->a, CKA_KEY_TYPE, &kt))
		return CKR_KEY_NOT_WRAPPABLE;
	switch (kt) {
	case CKK_RSA:
		pk.type = PORT_PKEY_RSA;
		for (size_t i = 0; i < 8; i++) {
			*vals[i] = proc_attr(k, rsa_parts[i], lens[i]);
			if (!*vals[i])
				return CKR_KEY_NOT_WRAPPABLE;
		}
		break;
	case CKK_EC:
		pk.type = PORT_PKEY_EC;
		if (proc_ec_curve(&k->a, &pk.curve) != CKR_OK)
			return CKR_KEY_NOT_WRAPPABLE;
		pk.priv = proc_attr(k, CKA_VALUE, &pk.priv_len);
		break;
	case CKK_EC_EDWARDS: /* Ed25519, the token's only Edwards curve */
		pk.type = PORT_PKEY_ED25519;
		pk.priv = proc_attr(k, CKA_VALUE, &pk.priv_len);
		break;
	default:
		return CKR_KEY_NOT_WRAPPABLE;
	}
	if (pk.type != PORT_PKEY_RSA && !pk.priv)
		return CKR_KEY_NOT_WRAPPABLE;
	if (port_pkcs8_encode(&pk, der, der_len) != 0)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

/* The plaintext that wrapping key k with mechanism mech encrypts, into a new buffer. */
static CK_RV wrap_material(const struct obj *k, CK_MECHANISM_TYPE mech, uint8_t **pt,
			   size_t *pt_len)
{
	CK_OBJECT_CLASS cls = 0;
	size_t len = 0;
	const uint8_t *v = NULL;

	*pt = NULL;
	*pt_len = 0;
	(void)attrs_get_ulong(&k->a, CKA_CLASS, &cls);
	if (cls == CKO_PRIVATE_KEY) {
		if (mech != CKM_AES_KEY_WRAP_PAD && mech != CKM_AES_CBC_PAD)
			return CKR_KEY_NOT_WRAPPABLE;
		return private_encode(k, pt, pt_len);
	}
	if (cls != CKO_SECRET_KEY)
		return CKR_KEY_NOT_WRAPPABLE;
	v = proc_attr(k, CKA_VALUE, &len);
	if (!v)
		return CKR_KEY_NOT_WRAPPABLE;
	/* RFC 3394 wraps whole 64-bit blocks, at least two. */
	if (mech == CKM_AES_KEY_WRAP && (len % 8 || len < 16))
		return CKR_KEY_SIZE_RANGE;
	*pt = mem_dup(v, len);
	if (!*pt)
		return CKR_HOST_MEMORY;
	*pt_len = len;
	return CKR_OK;
}

/* The wrapping key's CKA_WRAP_TEMPLATE, if any, against the key to wrap k. */
static CK_RV wrap_template_check(const struct obj *wk, const struct obj *k)
{
	const struct attr *at = attrs_find(&wk->a, CKA_WRAP_TEMPLATE);
	struct attrs want = { 0 };
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!at)
		return CKR_OK;
	if (attrs_template_decode(at, &want) != 0)
		return CKR_GENERAL_ERROR;
	/* Byte-exact, and a secret of k never matches: the template cannot probe it. */
	rv = attrs_match(&k->a, &want) ? CKR_OK : CKR_KEY_NOT_WRAPPABLE;
	attrs_free(&want);
	return rv;
}

CK_RV key_wrap(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hw,
	       CK_OBJECT_HANDLE hk, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	const struct mech_info *mi = NULL;
	struct obj *wk = NULL;
	struct obj *k = NULL;
	struct sess *s = NULL;
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	struct op_io io = { 0 };
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!m || !out_len)
		return CKR_ARGUMENTS_BAD;
	rv = mech_check_key_use(c, m, CKF_WRAP, hw, &mi, &wk);
	if (rv != CKR_OK)
		return wrapping_key_rv(rv, false);
	rv = key_to_wrap(c, hk, &k);
	if (rv != CKR_OK)
		return rv;
	/* §4.9, §4.10: extractable means wrappable; sensitivity alone does not forbid it. */
	if (!attrs_get_bool(&k->a, CKA_EXTRACTABLE))
		return CKR_KEY_UNEXTRACTABLE;
	if (attrs_get_bool(&k->a, CKA_WRAP_WITH_TRUSTED) && !attrs_get_bool(&wk->a, CKA_TRUSTED))
		return CKR_KEY_NOT_WRAPPABLE;
	rv = wrap_template_check(wk, k);
	if (rv != CKR_OK)
		return rv;
	rv = wrap_material(k, m->mechanism, &pt, &pt_len);
	if (rv != CKR_OK)
		goto out;
	io.in = pt;
	io.in_len = (CK_ULONG)pt_len;
	io.out = out;
	io.out_len = out_len;
	rv = cipher_run(mi, m, wk, OP_ENCRYPT, &io);
	/* Too long for the RSA padding: the key, not any data of the caller's, does not fit. */
	if (rv == CKR_DATA_LEN_RANGE)
		rv = CKR_KEY_SIZE_RANGE;
out:
	wipe_free(pt, pt_len);
	return rv;
}

/* A secret key's unwrapped value into a (the template's CKA_VALUE_LEN, which only a generic
 * secret key may give, must agree). */
static CK_RV secret_set(struct attrs *a, CK_KEY_TYPE kt, const uint8_t *v, size_t len)
{
	CK_ULONG want = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (kt == CKK_AES && len != 16 && len != 24 && len != 32)
		return CKR_WRAPPED_KEY_INVALID;
	if (len == 0 || len > SECRET_MAX_LEN)
		return CKR_WRAPPED_KEY_INVALID;
	if (attrs_get_ulong(a, CKA_VALUE_LEN, &want) && want != len)
		return CKR_TEMPLATE_INCONSISTENT;
	rv = attrs_set(a, CKA_VALUE, v, len);
	if (rv == CKR_OK)
		rv = attrs_set_ulong(a, CKA_VALUE_LEN, (CK_ULONG)len);
	if (rv == CKR_OK)
		rv = obj_secret_check_value(a);
	return rv;
}

/* A private key's unwrapped PKCS#8 into a: parsed and checked by the port, of type kt. */
static CK_RV private_set(struct attrs *a, CK_KEY_TYPE kt, const uint8_t *der, size_t len)
{
	struct port_pkey_parts *p = malloc(sizeof(*p));
	const uint8_t *params = NULL;
	size_t params_len = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!p)
		return CKR_HOST_MEMORY;
	if (port_pkcs8_decode(der, len, p) != 0) {
		rv = CKR_WRAPPED_KEY_INVALID;
		goto out;
	}
	if ((kt == CKK_RSA && p->type != PORT_PKEY_RSA) ||
	    (kt == CKK_EC && p->type != PORT_PKEY_EC) ||
	    (kt == CKK_EC_EDWARDS && p->type != PORT_PKEY_ED25519) ||
	    (kt != CKK_RSA && kt != CKK_EC && kt != CKK_EC_EDWARDS)) {
		rv = CKR_TEMPLATE_INCONSISTENT;
		goto out;
	}
	rv = CKR_OK;
	switch (p->type) {
	case PORT_PKEY_RSA:
		for (size_t i = 0; i < 8 && rv == CKR_OK; i++)
			rv = attrs_set(a, rsa_parts[i], p->rsa.part[i].v, p->rsa.part[i].len);
		break;
	case PORT_PKEY_EC:
		params = proc_ec_params(p->curve, &params_len);
		rv = params ? attrs_set(a, CKA_EC_PARAMS, params, params_len) : CKR_GENERAL_ERROR;
		if (rv == CKR_OK)
			rv = attrs_set(a, CKA_VALUE, p->priv, p->priv_len);
		break;
	case PORT_PKEY_ED25519:
		rv = attrs_set(a, CKA_EC_PARAMS, ed25519_oid, sizeof(ed25519_oid));
		if (rv == CKR_OK)
			rv = attrs_set(a, CKA_VALUE, p->priv, p->priv_len);
		break;
	}
	if (rv == CKR_OK)
		rv = attrs_set(a, CKA_PUBLIC_KEY_INFO, p->spki, p->spki_len);
out:
	wipe_free(p, sizeof(*p));
	return rv;
}

/* The attributes of a key the token did not make (§4.9, §4.10: derived by the token). */
static CK_RV set_not_local(struct attrs *a, bool always_sensitive, bool never_extractable)
{
	CK_RV rv = attrs_set_bool(a, CKA_LOCAL, false);

	if (rv == CKR_OK)
		rv = attrs_set_bool(a, CKA_ALWAYS_SENSITIVE, always_sensitive);
	if (rv == CKR_OK)
		rv = attrs_set_bool(a, CKA_NEVER_EXTRACTABLE, never_extractable);
	return rv;
}

CK_RV key_unwrap(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		 CK_OBJECT_HANDLE huk, CK_BYTE_PTR wrapped, CK_ULONG wrapped_len,
		 CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph)
{
	const struct mech_info *mi = NULL;
	struct obj *uk = NULL;
	struct sess *s = NULL;
	struct attrs a = { 0 };
	CK_OBJECT_CLASS cls = 0;
	CK_ULONG kt = 0;
	uint8_t *pt = NULL;
	size_t room = 0;
	CK_ULONG got = 0;
	struct op_io io = { 0 };
	struct attrs kt_attrs = { 0 }; /* the unwrapping key's template, decoded */
	CK_ATTRIBUTE *mt = NULL;       /* the caller's template and kt_attrs merged */
	CK_ULONG mn = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!m || !ph || (!wrapped && wrapped_len))
		return CKR_ARGUMENTS_BAD;
	*ph = CK_INVALID_HANDLE;
	/* XXX: a CKA_ALWAYS_AUTHENTICATE unwrapping key is not asked for its PIN again: C_UnwrapKey
	 * is one call, with no place for C_Login(CKU_CONTEXT_SPECIFIC). */
	rv = mech_check_key_use(c, m, CKF_UNWRAP, huk, &mi, &uk);
	if (rv != CKR_OK)
		return wrapping_key_rv(rv, true);
	if (!wrapped_len)
		return CKR_WRAPPED_KEY_LEN_RANGE;
	rv = attrs_template_merge(attrs_find(&uk->a, CKA_UNWRAP_TEMPLATE), tmpl, n, &kt_attrs, &mt,
				  &mn);
	if (rv != CKR_OK)
		goto out;
	rv = attr_template_class(mt, mn, &cls, &kt);
	if (rv != CKR_OK)
		goto out;
	if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY) {
		rv = CKR_TEMPLATE_INCONSISTENT;
		goto out;
	}
	rv = attr_from_template(ATTR_OP_UNWRAP, cls, kt, mt, mn, &a);
	if (rv != CKR_OK)
		goto out;
	rv = attr_complete_op(ATTR_OP_UNWRAP, cls, kt, &a);
	if (rv != CKR_OK)
		goto out;
	/* Access first: no decryption for a caller who may not make the object. */
	rv = obj_check_create(s, &a);
	if (rv != CKR_OK)
		goto out;
	if (size_add(wrapped_len, 2 * PORT_AES_BLOCK, &room) != 0 || room > ATTR_MAX_LEN * 2) {
		rv = CKR_WRAPPED_KEY_LEN_RANGE;
		goto out;
	}
	pt = malloc(room);
	if (!pt) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	got = (CK_ULONG)room;
	io.in = wrapped;
	io.in_len = wrapped_len;
	io.out = pt;
	io.out_len = &got;
	rv = cipher_run(mi, m, uk, OP_DECRYPT, &io);
	if (rv == CKR_ENCRYPTED_DATA_INVALID)
		rv = CKR_WRAPPED_KEY_INVALID;
	else if (rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
		rv = CKR_WRAPPED_KEY_LEN_RANGE;
	if (rv != CKR_OK)
		goto out;
	if (cls == CKO_SECRET_KEY)
		rv = secret_set(&a, kt, pt, got);
	else
		rv = private_set(&a, kt, pt, got);
	if (rv == CKR_OK)
		rv = set_not_local(&a, false, false);
	if (rv != CKR_OK)
		goto out;
	rv = obj_add(c, s, &a, ph); /* takes a */
out:
	wipe_free(pt, room);
	attrs_free(&a);
	free(mt);
	attrs_free(&kt_attrs);
	return rv;
}

/* The length of the key to derive, from the template (CKA_VALUE_LEN). */
static CK_RV derive_len(const struct attrs *a, CK_KEY_TYPE kt, size_t *len)
{
	CK_ULONG v = 0;

	*len = 0;
	if (!attrs_get_ulong(a, CKA_VALUE_LEN, &v))
		return CKR_TEMPLATE_INCOMPLETE;
	if (kt == CKK_AES && v != 16 && v != 24 && v != 32)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (v == 0 || v > SECRET_MAX_LEN)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	*len = (size_t)v;
	return CKR_OK;
}

CK_RV key_derive(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hb,
		 CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph)
{
	const struct mech_info *mi = NULL;
	struct obj *base = NULL;
	struct sess *s = NULL;
	struct attrs a = { 0 };
	CK_OBJECT_CLASS cls = 0;
	CK_ULONG kt = 0;
	uint8_t *val = NULL;
	size_t len = 0;
	bool as = false;
	bool ne = false;
	struct attrs bt_attrs = { 0 }; /* the base key's template, decoded */
	CK_ATTRIBUTE *mt = NULL;       /* the caller's template and bt_attrs merged */
	CK_ULONG mn = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!m || !ph)
		return CKR_ARGUMENTS_BAD;
	*ph = CK_INVALID_HANDLE;
	/* XXX: as in key_unwrap, a CKA_ALWAYS_AUTHENTICATE base key is not asked for its PIN. */
	rv = mech_check_key_use(c, m, CKF_DERIVE, hb, &mi, &base);
	if (rv != CKR_OK)
		return rv;
	rv = attrs_template_merge(attrs_find(&base->a, CKA_DERIVE_TEMPLATE), tmpl, n, &bt_attrs,
				  &mt, &mn);
	if (rv != CKR_OK)
		goto out;
	rv = attr_template_class(mt, mn, &cls, &kt);
	if (rv != CKR_OK)
		goto out;
	if (cls != CKO_SECRET_KEY || (kt != CKK_AES && kt != CKK_GENERIC_SECRET)) {
		rv = CKR_TEMPLATE_INCONSISTENT;
		goto out;
	}
	rv = attr_from_template(ATTR_OP_DERIVE, cls, kt, mt, mn, &a);
	if (rv != CKR_OK)
		goto out;
	rv = derive_len(&a, kt, &len);
	if (rv != CKR_OK)
		goto out;
	rv = attr_complete_op(ATTR_OP_DERIVE, cls, kt, &a);
	if (rv != CKR_OK)
		goto out;
	rv = obj_check_create(s, &a);
	if (rv != CKR_OK)
		goto out;
	val = malloc(len);
	if (!val) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = proc_ec_derive(base, m->pParameter, val, len);
	if (rv != CKR_OK)
		goto out;
	rv = attrs_set(&a, CKA_VALUE, val, len);
	if (rv == CKR_OK)
		rv = attrs_set_ulong(&a, CKA_VALUE_LEN, (CK_ULONG)len);
	if (rv == CKR_OK)
		rv = obj_secret_check_value(&a);
	if (rv != CKR_OK)
		goto out;
	/* Current Mechanisms §2.3.10 (and every derivation mechanism): the new key is always
	 * sensitive / never extractable only when the base key was and the new one is. */
	as = attrs_get_bool(&base->a, CKA_ALWAYS_SENSITIVE) && attrs_get_bool(&a, CKA_SENSITIVE);
	ne = attrs_get_bool(&base->a, CKA_NEVER_EXTRACTABLE) &&
	     !attrs_get_bool(&a, CKA_EXTRACTABLE);
	rv = set_not_local(&a, as, ne);
	if (rv != CKR_OK)
		goto out;
	rv = obj_add(c, s, &a, ph); /* takes a */
out:
	wipe_free(val, len);
	attrs_free(&a);
	free(mt);
	attrs_free(&bt_attrs);
	return rv;
}
