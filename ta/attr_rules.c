/*
 * The attribute rules of PKCS#11 v2.40 §4 (and the Current Mechanisms key tables) as const
 * tables, one per object class and sub-type (STYLE §5). A class is a list of tables: common
 * storage attributes, the class's common attributes (key, certificate), the class itself
 * (public/private/secret key) and the sub-type (RSA, EC, AES, X.509, ...). Each rule carries
 * the footnote numbers of §4 Table 10 exactly as the spec prints them, plus a few flags of this
 * token, so a reviewer can check every line against the spec.
 *
 * Readings of this token where the spec leaves room (§4.1.1: "a particular library and token
 * may be even more restrictive"):
 * - An attribute the operation contributes (footnote 2 for C_CreateObject, 4 for generation,
 *   6 for unwrapping) given in a template is CKR_TEMPLATE_INCONSISTENT (§4.1.1 rule 6); one that
 *   no template may ever give (2, 4 and 6 together) is CKR_ATTRIBUTE_READ_ONLY (rule 3).
 * - Derived attributes (AF_DERIVED: a certificate's subject, issuer, serial, dates, check value,
 *   a key's CKA_PUBLIC_KEY_INFO, a secret key's CKA_CHECK_VALUE) are computed by the token from
 *   CKA_VALUE or the key material; a template may repeat the derived value, any other value is
 *   CKR_ATTRIBUTE_VALUE_INVALID (checked by the creating code, which knows the derived value).
 * - Footnotes 11 and 12 make an attribute modifiable in the one allowed direction even where
 *   the table omits footnote 8 (CKA_WRAP_WITH_TRUSTED, CKA_COPYABLE).
 * - C_CopyObject may change the footnote-8 attributes and CKA_TOKEN, CKA_PRIVATE,
 *   CKA_MODIFIABLE, CKA_DESTROYABLE (§4.4: "can be changed in the process of copying").
 */
#include <string.h>

#include "attr.h"

/* §4 Table 10 footnotes. */
#define F1  (1u << 1)  /* must be specified when created with C_CreateObject */
#define F2  (1u << 2)  /* must not be specified when created with C_CreateObject */
#define F3  (1u << 3)  /* must be specified when generated (C_GenerateKey[Pair]) */
#define F4  (1u << 4)  /* must not be specified when generated */
#define F5  (1u << 5)  /* must be specified when unwrapped */
#define F6  (1u << 6)  /* must not be specified when unwrapped */
#define F7  (1u << 7)  /* cannot be revealed if CKA_SENSITIVE true or CKA_EXTRACTABLE false */
#define F8  (1u << 8)  /* may be modified after creation (C_SetAttributeValue, C_CopyObject) */
#define F9  (1u << 9)  /* default value is token-specific */
#define F10 (1u << 10) /* can only be set to CK_TRUE by the SO */
#define F11 (1u << 11) /* cannot be changed once set to CK_TRUE */
#define F12 (1u << 12) /* cannot be changed once set to CK_FALSE */

/* Fixed by the class entry (CKA_CLASS and the sub-type attribute): a template may repeat the
 * same value; anything else is CKR_TEMPLATE_INCONSISTENT. */
#define AF_CLASS (1u << 16)
/* No default: absent unless a template or the token gives it. */
#define AF_OPTIONAL (1u << 17)
/* Derived by the token (see the head comment). */
#define AF_DERIVED (1u << 18)
/* May be changed by C_CopyObject (§4.4), though not by C_SetAttributeValue. */
#define AF_COPY (1u << 19)

/* An attribute that no template may give. */
#define TOKEN_SET (F2 | F4 | F6)

struct attr_rule {
	CK_ATTRIBUTE_TYPE type;
	unsigned int fl;
	bool has_def;
	const void *def; /* default value; NULL with def_len 0 is the empty value */
	size_t def_len;
};

struct rule_tab {
	const struct attr_rule *r;
	size_t n;
};

struct class_def {
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE_TYPE sub_attr; /* CKA_KEY_TYPE, CKA_CERTIFICATE_TYPE, or 0 (data) */
	CK_ULONG sub;
	struct rule_tab tabs[4];
};

struct attr_type {
	CK_ATTRIBUTE_TYPE type;
	enum attr_kind kind;
};

/* clang-format off */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TAB(t)        { (t), ARRAY_SIZE(t) }
/* clang-format on */

static const CK_BBOOL bool_true = CK_TRUE;
static const CK_BBOOL bool_false = CK_FALSE;
static const CK_ULONG ulong_zero = 0;
static const CK_ULONG ulong_unavailable = CK_UNAVAILABLE_INFORMATION;
static const CK_MECHANISM_TYPE mech_sha1 = CKM_SHA_1;

/* clang-format off */
#define R_TRUE(t, fl)  { (t), (fl), true, &bool_true, sizeof(CK_BBOOL) }
#define R_FALSE(t, fl) { (t), (fl), true, &bool_false, sizeof(CK_BBOOL) }
#define R_ULONG(t, fl, p) { (t), (fl), true, (p), sizeof(CK_ULONG) }
/* Default: the empty value. */
#define R_EMPTY(t, fl) { (t), (fl), true, NULL, 0 }
/* No default at all: the flags say where the value comes from. */
#define R_NODEF(t, fl) { (t), (fl), false, NULL, 0 }
/* clang-format on */

/* Every attribute type the token knows, with its encoding. */
static const struct attr_type attr_types[] = {
	{ CKA_CLASS, ATTR_KIND_ULONG },
	{ CKA_TOKEN, ATTR_KIND_BOOL },
	{ CKA_PRIVATE, ATTR_KIND_BOOL },
	{ CKA_LABEL, ATTR_KIND_BYTES },
	{ CKA_APPLICATION, ATTR_KIND_BYTES },
	{ CKA_VALUE, ATTR_KIND_BYTES },
	{ CKA_OBJECT_ID, ATTR_KIND_BYTES },
	{ CKA_CERTIFICATE_TYPE, ATTR_KIND_ULONG },
	{ CKA_ISSUER, ATTR_KIND_BYTES },
	{ CKA_SERIAL_NUMBER, ATTR_KIND_BYTES },
	{ CKA_TRUSTED, ATTR_KIND_BOOL },
	{ CKA_CERTIFICATE_CATEGORY, ATTR_KIND_ULONG },
	{ CKA_JAVA_MIDP_SECURITY_DOMAIN, ATTR_KIND_ULONG },
	{ CKA_URL, ATTR_KIND_BYTES },
	{ CKA_HASH_OF_SUBJECT_PUBLIC_KEY, ATTR_KIND_BYTES },
	{ CKA_HASH_OF_ISSUER_PUBLIC_KEY, ATTR_KIND_BYTES },
	{ CKA_NAME_HASH_ALGORITHM, ATTR_KIND_ULONG },
	{ CKA_CHECK_VALUE, ATTR_KIND_BYTES },
	{ CKA_KEY_TYPE, ATTR_KIND_ULONG },
	{ CKA_SUBJECT, ATTR_KIND_BYTES },
	{ CKA_ID, ATTR_KIND_BYTES },
	{ CKA_SENSITIVE, ATTR_KIND_BOOL },
	{ CKA_ENCRYPT, ATTR_KIND_BOOL },
	{ CKA_DECRYPT, ATTR_KIND_BOOL },
	{ CKA_WRAP, ATTR_KIND_BOOL },
	{ CKA_UNWRAP, ATTR_KIND_BOOL },
	{ CKA_SIGN, ATTR_KIND_BOOL },
	{ CKA_SIGN_RECOVER, ATTR_KIND_BOOL },
	{ CKA_VERIFY, ATTR_KIND_BOOL },
	{ CKA_VERIFY_RECOVER, ATTR_KIND_BOOL },
	{ CKA_DERIVE, ATTR_KIND_BOOL },
	{ CKA_START_DATE, ATTR_KIND_DATE },
	{ CKA_END_DATE, ATTR_KIND_DATE },
	{ CKA_MODULUS, ATTR_KIND_BYTES },
	{ CKA_MODULUS_BITS, ATTR_KIND_ULONG },
	{ CKA_PUBLIC_EXPONENT, ATTR_KIND_BYTES },
	{ CKA_PRIVATE_EXPONENT, ATTR_KIND_BYTES },
	{ CKA_PRIME_1, ATTR_KIND_BYTES },
	{ CKA_PRIME_2, ATTR_KIND_BYTES },
	{ CKA_EXPONENT_1, ATTR_KIND_BYTES },
	{ CKA_EXPONENT_2, ATTR_KIND_BYTES },
	{ CKA_COEFFICIENT, ATTR_KIND_BYTES },
	{ CKA_PUBLIC_KEY_INFO, ATTR_KIND_BYTES },
	{ CKA_VALUE_LEN, ATTR_KIND_ULONG },
	{ CKA_EXTRACTABLE, ATTR_KIND_BOOL },
	{ CKA_LOCAL, ATTR_KIND_BOOL },
	{ CKA_NEVER_EXTRACTABLE, ATTR_KIND_BOOL },
	{ CKA_ALWAYS_SENSITIVE, ATTR_KIND_BOOL },
	{ CKA_KEY_GEN_MECHANISM, ATTR_KIND_ULONG },
	{ CKA_MODIFIABLE, ATTR_KIND_BOOL },
	{ CKA_COPYABLE, ATTR_KIND_BOOL },
	{ CKA_DESTROYABLE, ATTR_KIND_BOOL },
	{ CKA_EC_PARAMS, ATTR_KIND_BYTES },
	{ CKA_EC_POINT, ATTR_KIND_BYTES },
	{ CKA_ALWAYS_AUTHENTICATE, ATTR_KIND_BOOL },
	{ CKA_WRAP_WITH_TRUSTED, ATTR_KIND_BOOL },
	{ CKA_WRAP_TEMPLATE, ATTR_KIND_TEMPLATE },
	{ CKA_UNWRAP_TEMPLATE, ATTR_KIND_TEMPLATE },
	{ CKA_DERIVE_TEMPLATE, ATTR_KIND_TEMPLATE },
	{ CKA_ALLOWED_MECHANISMS, ATTR_KIND_ULONG_ARRAY },
};

/* §4.4 Table 21, storage objects. CKA_PRIVATE's default is token-specific: it is in each
 * class's table. */
static const struct attr_rule storage_rules[] = {
	R_NODEF(CKA_CLASS, AF_CLASS | F1), R_FALSE(CKA_TOKEN, AF_COPY),
	R_TRUE(CKA_MODIFIABLE, AF_COPY),   R_EMPTY(CKA_LABEL, F8),
	R_TRUE(CKA_COPYABLE, F12),	   R_TRUE(CKA_DESTROYABLE, AF_COPY),
};

/* §4.5 Table 23, data objects. */
static const struct attr_rule data_rules[] = {
	R_FALSE(CKA_PRIVATE, AF_COPY),
	R_EMPTY(CKA_APPLICATION, 0),
	R_EMPTY(CKA_OBJECT_ID, 0),
	R_EMPTY(CKA_VALUE, 0),
};

/* §4.6.2 Table 24, certificate objects. */
static const struct attr_rule cert_rules[] = {
	R_FALSE(CKA_PRIVATE, AF_COPY),
	R_NODEF(CKA_CERTIFICATE_TYPE, AF_CLASS | F1),
	R_FALSE(CKA_TRUSTED, F10),
	R_ULONG(CKA_CERTIFICATE_CATEGORY, 0, &ulong_zero), /* CK_CERTIFICATE_CATEGORY_UNSPECIFIED */
	R_NODEF(CKA_CHECK_VALUE, AF_DERIVED),
	R_NODEF(CKA_START_DATE, AF_DERIVED),
	R_NODEF(CKA_END_DATE, AF_DERIVED),
	R_NODEF(CKA_PUBLIC_KEY_INFO, AF_DERIVED),
};

/* §4.6.3 Table 25, X.509 public key certificates. The spec's footnote 8 on CKA_ISSUER and
 * CKA_SERIAL_NUMBER stands, but as derived attributes they only take the derived value.
 * CKA_VALUE is required (this token stores no URL-only certificates). */
static const struct attr_rule x509_rules[] = {
	R_NODEF(CKA_SUBJECT, AF_DERIVED),
	R_EMPTY(CKA_ID, F8),
	R_NODEF(CKA_ISSUER, F8 | AF_DERIVED),
	R_NODEF(CKA_SERIAL_NUMBER, F8 | AF_DERIVED),
	R_NODEF(CKA_VALUE, F1),
	R_EMPTY(CKA_URL, 0),
	R_EMPTY(CKA_HASH_OF_SUBJECT_PUBLIC_KEY, 0),
	R_EMPTY(CKA_HASH_OF_ISSUER_PUBLIC_KEY, 0),
	R_ULONG(CKA_JAVA_MIDP_SECURITY_DOMAIN, 0, &ulong_zero), /* CK_SECURITY_DOMAIN_UNSPECIFIED */
	R_ULONG(CKA_NAME_HASH_ALGORITHM, 0, &mech_sha1),
};

/* §4.7.2 Table 26, key objects. No CKA_ALLOWED_MECHANISMS means any mechanism. */
static const struct attr_rule key_rules[] = {
	R_NODEF(CKA_KEY_TYPE, AF_CLASS | F1 | F5),
	R_EMPTY(CKA_ID, F8),
	R_EMPTY(CKA_START_DATE, F8),
	R_EMPTY(CKA_END_DATE, F8),
	R_FALSE(CKA_DERIVE, F8),
	R_FALSE(CKA_LOCAL, F2 | F4 | F6),
	R_ULONG(CKA_KEY_GEN_MECHANISM, F2 | F4 | F6, &ulong_unavailable),
	R_NODEF(CKA_ALLOWED_MECHANISMS, AF_OPTIONAL),
};

/* §4.8 Table 29, public key objects. Usage defaults are token-specific (9): verify only.
 * CKA_PUBLIC_KEY_INFO is derived from the key (the token contributes it, hence 4 and 6). */
static const struct attr_rule public_key_rules[] = {
	R_FALSE(CKA_PRIVATE, AF_COPY),
	R_EMPTY(CKA_SUBJECT, F8),
	R_FALSE(CKA_ENCRYPT, F8 | F9),
	R_TRUE(CKA_VERIFY, F8 | F9),
	R_FALSE(CKA_VERIFY_RECOVER, F8 | F9),
	R_FALSE(CKA_WRAP, F8 | F9),
	R_FALSE(CKA_TRUSTED, F10),
	R_NODEF(CKA_WRAP_TEMPLATE, AF_OPTIONAL),
	R_NODEF(CKA_PUBLIC_KEY_INFO, F4 | F6 | AF_DERIVED),
};

/* §4.9 Table 34, private key objects. Sensitive and unextractable by default. */
static const struct attr_rule private_key_rules[] = {
	R_TRUE(CKA_PRIVATE, AF_COPY),
	R_EMPTY(CKA_SUBJECT, F8),
	R_TRUE(CKA_SENSITIVE, F8 | F9 | F11),
	R_FALSE(CKA_DECRYPT, F8 | F9),
	R_TRUE(CKA_SIGN, F8 | F9),
	R_FALSE(CKA_SIGN_RECOVER, F8 | F9),
	R_FALSE(CKA_UNWRAP, F8 | F9),
	R_FALSE(CKA_EXTRACTABLE, F8 | F9 | F12),
	R_FALSE(CKA_ALWAYS_SENSITIVE, F2 | F4 | F6),
	R_FALSE(CKA_NEVER_EXTRACTABLE, F2 | F4 | F6),
	R_FALSE(CKA_WRAP_WITH_TRUSTED, F11),
	R_NODEF(CKA_UNWRAP_TEMPLATE, AF_OPTIONAL),
	R_NODEF(CKA_DERIVE_TEMPLATE, AF_OPTIONAL),
	R_FALSE(CKA_ALWAYS_AUTHENTICATE, 0),
	R_NODEF(CKA_PUBLIC_KEY_INFO, F4 | F6 | AF_DERIVED),
};

/* §4.10 Table 38, secret key objects; the usage flags are per key type below. CKA_CHECK_VALUE
 * is derived when the port can compute it, else absent. */
static const struct attr_rule secret_key_rules[] = {
	R_TRUE(CKA_PRIVATE, AF_COPY),
	R_TRUE(CKA_SENSITIVE, F8 | F11),
	R_FALSE(CKA_EXTRACTABLE, F8 | F9 | F12),
	R_FALSE(CKA_ALWAYS_SENSITIVE, F2 | F4 | F6),
	R_FALSE(CKA_NEVER_EXTRACTABLE, F2 | F4 | F6),
	R_NODEF(CKA_CHECK_VALUE, F4 | F6 | AF_DERIVED | AF_OPTIONAL),
	R_FALSE(CKA_WRAP_WITH_TRUSTED, F11),
	R_FALSE(CKA_TRUSTED, F10),
	R_NODEF(CKA_WRAP_TEMPLATE, AF_OPTIONAL),
	R_NODEF(CKA_UNWRAP_TEMPLATE, AF_OPTIONAL),
	R_NODEF(CKA_DERIVE_TEMPLATE, AF_OPTIONAL),
};

/* Current Mechanisms §2.1.2 Table 4, RSA public keys. */
static const struct attr_rule rsa_public_rules[] = {
	R_NODEF(CKA_MODULUS, F1 | F4),
	R_NODEF(CKA_MODULUS_BITS, F2 | F3),
	R_NODEF(CKA_PUBLIC_EXPONENT, F1),
};

/* §2.1.3 Table 5, RSA private keys. This token requires every CRT component at import (the
 * spec's 4 and 6 only): see obj_create. */
static const struct attr_rule rsa_private_rules[] = {
	R_NODEF(CKA_MODULUS, F1 | F4 | F6),
	R_NODEF(CKA_PUBLIC_EXPONENT, F4 | F6),
	R_NODEF(CKA_PRIVATE_EXPONENT, F1 | F4 | F6 | F7),
	R_NODEF(CKA_PRIME_1, F4 | F6 | F7),
	R_NODEF(CKA_PRIME_2, F4 | F6 | F7),
	R_NODEF(CKA_EXPONENT_1, F4 | F6 | F7),
	R_NODEF(CKA_EXPONENT_2, F4 | F6 | F7),
	R_NODEF(CKA_COEFFICIENT, F4 | F6 | F7),
};

/* §2.3.3 Table 21, EC public keys (also Ed25519, CKK_EC_EDWARDS, PKCS#11 3.0 §2.3.5). */
static const struct attr_rule ec_public_rules[] = {
	R_NODEF(CKA_EC_PARAMS, F1 | F3),
	R_NODEF(CKA_EC_POINT, F1 | F4),
};

/* §2.3.4 Table 22, EC private keys (and Ed25519). */
static const struct attr_rule ec_private_rules[] = {
	R_NODEF(CKA_EC_PARAMS, F1 | F4 | F6),
	R_NODEF(CKA_VALUE, F1 | F4 | F6 | F7),
};

/* §2.8.2 Table 95, AES secret keys. Default usage: encryption and MACs. */
static const struct attr_rule aes_rules[] = {
	R_NODEF(CKA_VALUE, F1 | F4 | F6 | F7),
	R_NODEF(CKA_VALUE_LEN, F2 | F3 | F6),
	R_TRUE(CKA_ENCRYPT, F8 | F9),
	R_TRUE(CKA_DECRYPT, F8 | F9),
	R_TRUE(CKA_SIGN, F8 | F9),
	R_TRUE(CKA_VERIFY, F8 | F9),
	R_FALSE(CKA_WRAP, F8 | F9),
	R_FALSE(CKA_UNWRAP, F8 | F9),
};

/* §2.6.2 Table 40 (generic secret keys). Default usage: MACs. */
static const struct attr_rule generic_rules[] = {
	R_NODEF(CKA_VALUE, F1 | F4 | F6 | F7),
	R_NODEF(CKA_VALUE_LEN, F2 | F3),
	R_FALSE(CKA_ENCRYPT, F8 | F9),
	R_FALSE(CKA_DECRYPT, F8 | F9),
	R_TRUE(CKA_SIGN, F8 | F9),
	R_TRUE(CKA_VERIFY, F8 | F9),
	R_FALSE(CKA_WRAP, F8 | F9),
	R_FALSE(CKA_UNWRAP, F8 | F9),
};

static const struct class_def classes[] = {
	{ CKO_DATA, 0, 0, { TAB(storage_rules), TAB(data_rules) } },
	{ CKO_CERTIFICATE,
	  CKA_CERTIFICATE_TYPE,
	  CKC_X_509,
	  { TAB(storage_rules), TAB(cert_rules), TAB(x509_rules) } },
	{ CKO_PUBLIC_KEY,
	  CKA_KEY_TYPE,
	  CKK_RSA,
	  { TAB(storage_rules), TAB(key_rules), TAB(public_key_rules), TAB(rsa_public_rules) } },
	{ CKO_PRIVATE_KEY,
	  CKA_KEY_TYPE,
	  CKK_RSA,
	  { TAB(storage_rules), TAB(key_rules), TAB(private_key_rules), TAB(rsa_private_rules) } },
	{ CKO_PUBLIC_KEY,
	  CKA_KEY_TYPE,
	  CKK_EC,
	  { TAB(storage_rules), TAB(key_rules), TAB(public_key_rules), TAB(ec_public_rules) } },
	{ CKO_PRIVATE_KEY,
	  CKA_KEY_TYPE,
	  CKK_EC,
	  { TAB(storage_rules), TAB(key_rules), TAB(private_key_rules), TAB(ec_private_rules) } },
	{ CKO_PUBLIC_KEY,
	  CKA_KEY_TYPE,
	  CKK_EC_EDWARDS,
	  { TAB(storage_rules), TAB(key_rules), TAB(public_key_rules), TAB(ec_public_rules) } },
	{ CKO_PRIVATE_KEY,
	  CKA_KEY_TYPE,
	  CKK_EC_EDWARDS,
	  { TAB(storage_rules), TAB(key_rules), TAB(private_key_rules), TAB(ec_private_rules) } },
	{ CKO_SECRET_KEY,
	  CKA_KEY_TYPE,
	  CKK_AES,
	  { TAB(storage_rules), TAB(key_rules), TAB(secret_key_rules), TAB(aes_rules) } },
	{ CKO_SECRET_KEY,
	  CKA_KEY_TYPE,
	  CKK_GENERIC_SECRET,
	  { TAB(storage_rules), TAB(key_rules), TAB(secret_key_rules), TAB(generic_rules) } },
};

enum attr_kind attr_kind(CK_ATTRIBUTE_TYPE t)
{
	for (size_t i = 0; i < ARRAY_SIZE(attr_types); i++) {
		if (attr_types[i].type == t)
			return attr_types[i].kind;
	}
	return ATTR_KIND_NONE;
}

/* The attribute naming the sub-type of class cls (0 when it has none), or -1 for a class this
 * token does not have. */
static int sub_attr_of(CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE *sub_attr)
{
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		if (classes[i].cls == cls) {
			*sub_attr = classes[i].sub_attr;
			return 0;
		}
	}
	return -1;
}

static const struct class_def *class_find(CK_OBJECT_CLASS cls, CK_ULONG sub)
{
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		if (classes[i].cls == cls && (!classes[i].sub_attr || classes[i].sub == sub))
			return &classes[i];
	}
	return NULL;
}

static const struct class_def *class_of(const struct attrs *a)
{
	CK_OBJECT_CLASS cls = 0;
	CK_ATTRIBUTE_TYPE sub_attr = 0;
	CK_ULONG sub = 0;

	if (!attrs_get_ulong(a, CKA_CLASS, &cls) || sub_attr_of(cls, &sub_attr) != 0)
		return NULL;
	if (sub_attr && !attrs_get_ulong(a, sub_attr, &sub))
		return NULL;
	return class_find(cls, sub);
}

static const struct attr_rule *rule_find(const struct class_def *cd, CK_ATTRIBUTE_TYPE t)
{
	for (size_t i = 0; i < ARRAY_SIZE(cd->tabs); i++) {
		for (size_t j = 0; j < cd->tabs[i].n; j++) {
			if (cd->tabs[i].r[j].type == t)
				return &cd->tabs[i].r[j];
		}
	}
	return NULL;
}

static bool inner_template_ok(const CK_ATTRIBUTE *t);

/* A caller-supplied value of the given kind: well-formed? */
static bool template_value_ok(enum attr_kind kind, const CK_ATTRIBUTE *t)
{
	const uint8_t *v = t->pValue;

	switch (kind) {
	case ATTR_KIND_BOOL:
		return t->ulValueLen == sizeof(CK_BBOOL) && (v[0] == CK_TRUE || v[0] == CK_FALSE);
	case ATTR_KIND_ULONG:
		return t->ulValueLen == sizeof(CK_ULONG);
	case ATTR_KIND_DATE:
		if (t->ulValueLen == 0)
			return true;
		if (t->ulValueLen != sizeof(CK_DATE))
			return false;
		for (size_t i = 0; i < sizeof(CK_DATE); i++) {
			if (v[i] < '0' || v[i] > '9')
				return false;
		}
		return true;
	case ATTR_KIND_BYTES:
		return t->ulValueLen <= ATTR_MAX_LEN;
	case ATTR_KIND_ULONG_ARRAY:
		return t->ulValueLen % sizeof(CK_ULONG) == 0 &&
		       t->ulValueLen / sizeof(CK_ULONG) * 8 <= ATTR_MAX_LEN;
	case ATTR_KIND_TEMPLATE:
		return inner_template_ok(t);
	case ATTR_KIND_NONE:
		break;
	}
	return false;
}

/* §4.1.3 array attributes: a CK_ATTRIBUTE[] of at most ATTR_MAX_COUNT entries, each a known,
 * well-formed attribute that is not itself an array of attributes, each type at most once. */
static bool inner_template_ok(const CK_ATTRIBUTE *t)
{
	const CK_ATTRIBUTE *in = t->pValue;
	CK_ULONG n = t->ulValueLen / sizeof(CK_ATTRIBUTE);

	if (t->ulValueLen % sizeof(CK_ATTRIBUTE) || n > ATTR_MAX_COUNT)
		return false;
	for (CK_ULONG i = 0; i < n; i++) {
		enum attr_kind kind = attr_kind(in[i].type);

		if (kind == ATTR_KIND_NONE || kind == ATTR_KIND_TEMPLATE)
			return false;
		if (in[i].ulValueLen && !in[i].pValue)
			return false;
		if (!template_value_ok(kind, &in[i]))
			return false;
		for (CK_ULONG j = 0; j < i; j++) {
			if (in[j].type == in[i].type)
				return false;
		}
	}
	return true;
}

bool attr_caller_value_ok(const CK_ATTRIBUTE *t)
{
	enum attr_kind kind = attr_kind(t->type);

	if (kind == ATTR_KIND_NONE || (t->ulValueLen && !t->pValue))
		return false;
	return template_value_ok(kind, t);
}

/* Footnotes that require (req) and forbid (forbid) an attribute in a template for op. */
static void op_footnotes(enum attr_op op, unsigned int *req, unsigned int *forbid)
{
	switch (op) {
	case ATTR_OP_CREATE:
		*req = F1;
		*forbid = F2;
		return;
	case ATTR_OP_GENERATE:
		*req = F3;
		*forbid = F4;
		return;
	case ATTR_OP_UNWRAP:
		*req = F5;
		*forbid = F6;
		return;
	case ATTR_OP_DERIVE:
		/* The derivation contributes the value, as generation does; the length of a
		 * derived secret key may be given (footnote 3 there, not required here). */
		*req = 0;
		*forbid = F4;
		return;
	}
	*req = 0;
	*forbid = 0;
}

/* One template entry against the class rules (§4.1.1 rules 1 to 3 and 6). */
static CK_RV template_entry_check(enum attr_op op, const struct class_def *cd,
				  const CK_ATTRIBUTE *t, const struct attrs *so_far)
{
	const struct attr_rule *r = rule_find(cd, t->type);
	unsigned int req = 0, forbid = 0;
	CK_ULONG v = 0;

	op_footnotes(op, &req, &forbid);
	if (!r)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if (t->ulValueLen && !t->pValue)
		return CKR_ARGUMENTS_BAD;
	if ((r->fl & TOKEN_SET) == TOKEN_SET)
		return CKR_ATTRIBUTE_READ_ONLY;
	if (!template_value_ok(attr_kind(t->type), t))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (r->fl & forbid)
		return CKR_TEMPLATE_INCONSISTENT;
	if (attrs_find(so_far, t->type))
		return CKR_TEMPLATE_INCONSISTENT;
	if (r->fl & AF_CLASS) {
		memcpy(&v, t->pValue, sizeof(v));
		if (v != (t->type == CKA_CLASS ? cd->cls : cd->sub))
			return CKR_TEMPLATE_INCONSISTENT;
	}
	return CKR_OK;
}

CK_RV attr_template_class(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_CLASS *cls, CK_ULONG *sub)
{
	const CK_ATTRIBUTE *tc = NULL;
	const CK_ATTRIBUTE *ts = NULL;
	CK_ATTRIBUTE_TYPE sub_attr = 0;

	*cls = 0;
	*sub = 0;
	if ((n && !tmpl) || n > ATTR_MAX_TEMPLATE)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < n; i++) {
		if (tmpl[i].type == CKA_CLASS)
			tc = &tmpl[i];
	}
	if (!tc)
		return CKR_TEMPLATE_INCOMPLETE;
	if (tc->ulValueLen != sizeof(CK_ULONG) || !tc->pValue)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(cls, tc->pValue, sizeof(*cls));
	if (sub_attr_of(*cls, &sub_attr) != 0)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (!sub_attr)
		return CKR_OK;
	for (CK_ULONG i = 0; i < n; i++) {
		if (tmpl[i].type == sub_attr)
			ts = &tmpl[i];
	}
	if (!ts)
		return CKR_TEMPLATE_INCOMPLETE;
	if (ts->ulValueLen != sizeof(CK_ULONG) || !ts->pValue)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(sub, ts->pValue, sizeof(*sub));
	return class_find(*cls, *sub) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

CK_RV attr_from_template(enum attr_op op, CK_OBJECT_CLASS cls, CK_ULONG sub,
			 const CK_ATTRIBUTE *tmpl, CK_ULONG n, struct attrs *out)
{
	const struct class_def *cd = class_find(cls, sub);
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!cd)
		return CKR_GENERAL_ERROR;
	if ((n && !tmpl) || n > ATTR_MAX_TEMPLATE)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < n; i++) {
		rv = template_entry_check(op, cd, &tmpl[i], out);
		if (rv != CKR_OK)
			goto out;
		rv = attrs_set_caller(out, &tmpl[i]);
		if (rv != CKR_OK)
			goto out;
	}
	rv = CKR_OK;
out:
	if (rv != CKR_OK)
		attrs_free(out);
	return rv;
}

CK_RV attr_from_gen_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const CK_ATTRIBUTE *tmpl,
			     CK_ULONG n, struct attrs *out)
{
	return attr_from_template(ATTR_OP_GENERATE, cls, kt, tmpl, n, out);
}

CK_RV attr_complete_op(enum attr_op op, CK_OBJECT_CLASS cls, CK_ULONG sub, struct attrs *a)
{
	const struct class_def *cd = class_find(cls, sub);
	unsigned int req = 0, forbid = 0;
	CK_RV rv = CKR_OK;

	if (!cd)
		return CKR_GENERAL_ERROR;
	op_footnotes(op, &req, &forbid);
	for (size_t i = 0; i < ARRAY_SIZE(cd->tabs) && rv == CKR_OK; i++) {
		for (size_t j = 0; j < cd->tabs[i].n && rv == CKR_OK; j++) {
			const struct attr_rule *r = &cd->tabs[i].r[j];

			if (attrs_find(a, r->type))
				continue;
			if (r->type == CKA_CLASS)
				rv = attrs_set_ulong(a, CKA_CLASS, cls);
			else if (r->fl & AF_CLASS)
				rv = attrs_set_ulong(a, r->type, sub);
			else if (r->fl & req)
				rv = CKR_TEMPLATE_INCOMPLETE;
			else if (r->has_def)
				rv = attrs_set(a, r->type, r->def, r->def_len);
			/* else: the operation or the token contributes it, or it stays absent */
		}
	}
	return rv;
}

CK_RV attr_complete(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *a)
{
	return attr_complete_op(ATTR_OP_GENERATE, cls, kt, a);
}

/* The rule of attribute t of the object a, or NULL. */
static const struct attr_rule *rule_of(const struct attrs *a, CK_ATTRIBUTE_TYPE t)
{
	const struct class_def *cd = class_of(a);

	return cd ? rule_find(cd, t) : NULL;
}

bool attr_is_sensitive(const struct attrs *a, CK_ATTRIBUTE_TYPE t)
{
	const struct class_def *cd = class_of(a);
	const struct attr_rule *r = NULL;

	if (!cd)
		return true; /* fail closed: an object we cannot classify reveals nothing */
	r = rule_find(cd, t);
	if (!r || !(r->fl & F7))
		return false;
	return attrs_get_bool(a, CKA_SENSITIVE) || !attrs_get_bool(a, CKA_EXTRACTABLE);
}

bool attr_is_derived(const struct attrs *a, CK_ATTRIBUTE_TYPE t)
{
	const struct attr_rule *r = rule_of(a, t);

	return r && (r->fl & AF_DERIVED);
}

CK_RV attr_check_modify(const struct attrs *a, const CK_ATTRIBUTE *t, bool copy, bool so)
{
	const struct attr_rule *r = rule_of(a, t->type);
	const struct attr *cur = NULL;
	bool now = false, want = false;

	if (!r)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if (t->ulValueLen && !t->pValue)
		return CKR_ARGUMENTS_BAD;
	if (!template_value_ok(attr_kind(t->type), t))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	cur = attrs_find(a, t->type);
	if (attr_kind(t->type) == ATTR_KIND_BOOL) {
		now = cur && cur->len == 1 && cur->val[0] == CK_TRUE;
		want = ((const CK_BBOOL *)t->pValue)[0] == CK_TRUE;
		/* Footnotes 11 and 12: one way only; the other way is read-only. */
		if ((r->fl & F11) && now && !want)
			return CKR_ATTRIBUTE_READ_ONLY;
		if ((r->fl & F12) && !now && want)
			return CKR_ATTRIBUTE_READ_ONLY;
		if ((r->fl & F10) && want && !so)
			return CKR_ATTRIBUTE_READ_ONLY;
		if (r->fl & (F10 | F11 | F12))
			return CKR_OK;
	}
	if (!(r->fl & F8) && !(copy && (r->fl & AF_COPY)))
		return CKR_ATTRIBUTE_READ_ONLY;
	/* A derived attribute keeps its derived value. */
	if ((r->fl & AF_DERIVED) && (!cur || cur->len != t->ulValueLen ||
				     (cur->len && memcmp(cur->val, t->pValue, cur->len) != 0)))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

int attr_check_stored(const struct attrs *a)
{
	const struct class_def *cd = class_of(a);

	if (!cd)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		if (!rule_find(cd, a->v[i].type))
			return -1;
	}
	/* Every attribute of the class that is not optional is present (attrs has no
	 * duplicates). */
	for (size_t i = 0; i < ARRAY_SIZE(cd->tabs); i++) {
		for (size_t j = 0; j < cd->tabs[i].n; j++) {
			if (!(cd->tabs[i].r[j].fl & AF_OPTIONAL) &&
			    !attrs_find(a, cd->tabs[i].r[j].type))
				return -1;
		}
	}
	return 0;
}
