/*
 * The attribute rules of PKCS#11 v2.40 §4 as const tables, one per object class (STYLE §5).
 * A class is a list of tables: common storage attributes, common key attributes, the class
 * (public/private key) and the key type (EC). Later classes (data, certificates, secret keys,
 * RSA) add tables and a line in classes[].
 */
#include <string.h>

#include "attr.h"

/* The attribute is fixed by the class entry itself (CKA_CLASS, CKA_KEY_TYPE); a template may
 * repeat the same value, anything else is CKR_TEMPLATE_INCONSISTENT. */
#define AF_CLASS 0x01
/* Only the token ever sets it (§4 footnote 2/4 "must not be specified"): from a template it
 * is CKR_ATTRIBUTE_READ_ONLY. The default applies until the token sets it. */
#define AF_TOKEN_SET 0x02
/* Contributed by key generation (the key value, the public point): from a generation template
 * it is CKR_TEMPLATE_INCONSISTENT (§4.1.1 rule 6); it has no default. */
#define AF_GEN_SET 0x04
/* No default: the template must give it (CKR_TEMPLATE_INCOMPLETE). */
#define AF_REQUIRED 0x08
/* Never revealed when the key is sensitive or unextractable (CKR_ATTRIBUTE_SENSITIVE). */
#define AF_SENSITIVE 0x10

struct attr_rule {
	CK_ATTRIBUTE_TYPE type;
	unsigned int fl;
	const void *def; /* default value; NULL with def_len 0 is the empty value */
	size_t def_len;
};

struct rule_tab {
	const struct attr_rule *r;
	size_t n;
};

struct class_def {
	CK_OBJECT_CLASS cls;
	CK_KEY_TYPE kt;
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
static const CK_ULONG ulong_unavailable = CK_UNAVAILABLE_INFORMATION;

/* clang-format off */
#define R_TRUE(t, fl)  { (t), (fl), &bool_true, sizeof(CK_BBOOL) }
#define R_FALSE(t, fl) { (t), (fl), &bool_false, sizeof(CK_BBOOL) }
/* Default: the empty value. */
#define R_EMPTY(t, fl) { (t), (fl), NULL, 0 }
/* No default at all: the flags say where the value comes from. */
#define R_NODEF(t, fl) { (t), (fl), NULL, 0 }
/* clang-format on */

/* Every attribute type the token knows, with its encoding. */
static const struct attr_type attr_types[] = {
	{ CKA_CLASS, ATTR_KIND_ULONG },
	{ CKA_TOKEN, ATTR_KIND_BOOL },
	{ CKA_PRIVATE, ATTR_KIND_BOOL },
	{ CKA_LABEL, ATTR_KIND_BYTES },
	{ CKA_MODIFIABLE, ATTR_KIND_BOOL },
	{ CKA_COPYABLE, ATTR_KIND_BOOL },
	{ CKA_DESTROYABLE, ATTR_KIND_BOOL },
	{ CKA_KEY_TYPE, ATTR_KIND_ULONG },
	{ CKA_ID, ATTR_KIND_BYTES },
	{ CKA_START_DATE, ATTR_KIND_DATE },
	{ CKA_END_DATE, ATTR_KIND_DATE },
	{ CKA_DERIVE, ATTR_KIND_BOOL },
	{ CKA_LOCAL, ATTR_KIND_BOOL },
	{ CKA_KEY_GEN_MECHANISM, ATTR_KIND_ULONG },
	{ CKA_SUBJECT, ATTR_KIND_BYTES },
	{ CKA_ENCRYPT, ATTR_KIND_BOOL },
	{ CKA_VERIFY, ATTR_KIND_BOOL },
	{ CKA_VERIFY_RECOVER, ATTR_KIND_BOOL },
	{ CKA_WRAP, ATTR_KIND_BOOL },
	{ CKA_TRUSTED, ATTR_KIND_BOOL },
	{ CKA_PUBLIC_KEY_INFO, ATTR_KIND_BYTES },
	{ CKA_SENSITIVE, ATTR_KIND_BOOL },
	{ CKA_DECRYPT, ATTR_KIND_BOOL },
	{ CKA_SIGN, ATTR_KIND_BOOL },
	{ CKA_SIGN_RECOVER, ATTR_KIND_BOOL },
	{ CKA_UNWRAP, ATTR_KIND_BOOL },
	{ CKA_EXTRACTABLE, ATTR_KIND_BOOL },
	{ CKA_ALWAYS_SENSITIVE, ATTR_KIND_BOOL },
	{ CKA_NEVER_EXTRACTABLE, ATTR_KIND_BOOL },
	{ CKA_WRAP_WITH_TRUSTED, ATTR_KIND_BOOL },
	{ CKA_ALWAYS_AUTHENTICATE, ATTR_KIND_BOOL },
	{ CKA_EC_PARAMS, ATTR_KIND_BYTES },
	{ CKA_EC_POINT, ATTR_KIND_BYTES },
	{ CKA_VALUE, ATTR_KIND_BYTES },
};

/* §4.4 Storage objects. */
static const struct attr_rule storage_rules[] = {
	R_NODEF(CKA_CLASS, AF_CLASS), R_FALSE(CKA_TOKEN, 0),	  R_TRUE(CKA_MODIFIABLE, 0),
	R_TRUE(CKA_COPYABLE, 0),      R_TRUE(CKA_DESTROYABLE, 0), R_EMPTY(CKA_LABEL, 0),
};

/* §4.7 Key objects. */
static const struct attr_rule key_rules[] = {
	R_NODEF(CKA_KEY_TYPE, AF_CLASS),
	R_EMPTY(CKA_ID, 0),
	R_EMPTY(CKA_START_DATE, 0),
	R_EMPTY(CKA_END_DATE, 0),
	R_FALSE(CKA_DERIVE, 0),
	R_FALSE(CKA_LOCAL, AF_TOKEN_SET),
	{ CKA_KEY_GEN_MECHANISM, AF_TOKEN_SET, &ulong_unavailable, sizeof(CK_ULONG) },
};

/* §4.8 Public key objects. Usage defaults are token-specific: only what this token can do with
 * an EC key (verify) defaults to true. */
static const struct attr_rule public_key_rules[] = {
	R_FALSE(CKA_PRIVATE, 0),	R_EMPTY(CKA_SUBJECT, 0),
	R_FALSE(CKA_ENCRYPT, 0),	R_TRUE(CKA_VERIFY, 0),
	R_FALSE(CKA_VERIFY_RECOVER, 0), R_FALSE(CKA_WRAP, 0),
	R_FALSE(CKA_TRUSTED, 0),	R_NODEF(CKA_PUBLIC_KEY_INFO, AF_GEN_SET),
};

/* §4.9 Private key objects. */
static const struct attr_rule private_key_rules[] = {
	R_TRUE(CKA_PRIVATE, 0),
	R_EMPTY(CKA_SUBJECT, 0),
	R_TRUE(CKA_SENSITIVE, 0),
	R_FALSE(CKA_DECRYPT, 0),
	R_TRUE(CKA_SIGN, 0),
	R_FALSE(CKA_SIGN_RECOVER, 0),
	R_FALSE(CKA_UNWRAP, 0),
	R_FALSE(CKA_EXTRACTABLE, 0),
	R_FALSE(CKA_ALWAYS_SENSITIVE, AF_TOKEN_SET),
	R_FALSE(CKA_NEVER_EXTRACTABLE, AF_TOKEN_SET),
	R_FALSE(CKA_WRAP_WITH_TRUSTED, 0),
	R_FALSE(CKA_ALWAYS_AUTHENTICATE, 0),
	R_NODEF(CKA_PUBLIC_KEY_INFO, AF_GEN_SET),
};

/* PKCS#11 v2.40 Current Mechanisms §2.3.3 Elliptic curve public key objects. */
static const struct attr_rule ec_public_rules[] = {
	R_NODEF(CKA_EC_PARAMS, AF_REQUIRED),
	R_NODEF(CKA_EC_POINT, AF_GEN_SET),
};

/* §2.3.4 Elliptic curve private key objects. */
static const struct attr_rule ec_private_rules[] = {
	R_NODEF(CKA_EC_PARAMS, AF_REQUIRED),
	R_NODEF(CKA_VALUE, AF_GEN_SET | AF_SENSITIVE),
};

static const struct class_def classes[] = {
	{ CKO_PUBLIC_KEY,
	  CKK_EC,
	  { TAB(storage_rules), TAB(key_rules), TAB(public_key_rules), TAB(ec_public_rules) } },
	{ CKO_PRIVATE_KEY,
	  CKK_EC,
	  { TAB(storage_rules), TAB(key_rules), TAB(private_key_rules), TAB(ec_private_rules) } },
};

enum attr_kind attr_kind(CK_ATTRIBUTE_TYPE t)
{
	for (size_t i = 0; i < ARRAY_SIZE(attr_types); i++) {
		if (attr_types[i].type == t)
			return attr_types[i].kind;
	}
	return ATTR_KIND_NONE;
}

static const struct class_def *class_find(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
		if (classes[i].cls == cls && classes[i].kt == kt)
			return &classes[i];
	}
	return NULL;
}

static const struct class_def *class_of(const struct attrs *a)
{
	CK_OBJECT_CLASS cls = 0;
	CK_KEY_TYPE kt = 0;

	if (!attrs_get_ulong(a, CKA_CLASS, &cls) || !attrs_get_ulong(a, CKA_KEY_TYPE, &kt))
		return NULL;
	return class_find(cls, kt);
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
	case ATTR_KIND_NONE:
		break;
	}
	return false;
}

/* One template entry against the class rules (§4.1.1 rules 1 to 3 and 6). */
static CK_RV template_entry_check(const struct class_def *cd, const CK_ATTRIBUTE *t,
				  const struct attrs *so_far)
{
	const struct attr_rule *r = rule_find(cd, t->type);
	CK_ULONG v = 0;

	if (!r)
		return CKR_ATTRIBUTE_TYPE_INVALID;
	if (t->ulValueLen && !t->pValue)
		return CKR_ARGUMENTS_BAD;
	if (r->fl & AF_TOKEN_SET)
		return CKR_ATTRIBUTE_READ_ONLY;
	if (!template_value_ok(attr_kind(t->type), t))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (r->fl & AF_GEN_SET)
		return CKR_TEMPLATE_INCONSISTENT;
	if (attrs_find(so_far, t->type))
		return CKR_TEMPLATE_INCONSISTENT;
	if (r->fl & AF_CLASS) {
		memcpy(&v, t->pValue, sizeof(v));
		if (v != (t->type == CKA_CLASS ? cd->cls : cd->kt))
			return CKR_TEMPLATE_INCONSISTENT;
	}
	return CKR_OK;
}

CK_RV attr_from_gen_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const CK_ATTRIBUTE *tmpl,
			     CK_ULONG n, struct attrs *out)
{
	const struct class_def *cd = class_find(cls, kt);
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!cd)
		return CKR_GENERAL_ERROR;
	if ((n && !tmpl) || n > ATTR_MAX_TEMPLATE)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < n; i++) {
		rv = template_entry_check(cd, &tmpl[i], out);
		if (rv != CKR_OK)
			goto out;
		rv = attrs_set(out, tmpl[i].type, tmpl[i].pValue, tmpl[i].ulValueLen);
		if (rv != CKR_OK)
			goto out;
	}
	rv = CKR_OK;
out:
	if (rv != CKR_OK)
		attrs_free(out);
	return rv;
}

CK_RV attr_complete(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *a)
{
	const struct class_def *cd = class_find(cls, kt);
	CK_RV rv = CKR_OK;

	if (!cd)
		return CKR_GENERAL_ERROR;
	for (size_t i = 0; i < ARRAY_SIZE(cd->tabs) && rv == CKR_OK; i++) {
		for (size_t j = 0; j < cd->tabs[i].n && rv == CKR_OK; j++) {
			const struct attr_rule *r = &cd->tabs[i].r[j];

			if (attrs_find(a, r->type) || (r->fl & AF_GEN_SET))
				continue;
			if (r->type == CKA_CLASS)
				rv = attrs_set_ulong(a, CKA_CLASS, cls);
			else if (r->type == CKA_KEY_TYPE)
				rv = attrs_set_ulong(a, CKA_KEY_TYPE, kt);
			else if (r->fl & AF_REQUIRED)
				rv = CKR_TEMPLATE_INCOMPLETE;
			else
				rv = attrs_set(a, r->type, r->def, r->def_len);
		}
	}
	return rv;
}

bool attr_is_sensitive(const struct attrs *a, CK_ATTRIBUTE_TYPE t)
{
	const struct class_def *cd = class_of(a);
	const struct attr_rule *r = NULL;

	if (!cd)
		return true; /* fail closed: an object we cannot classify reveals nothing */
	r = rule_find(cd, t);
	if (!r || !(r->fl & AF_SENSITIVE))
		return false;
	return attrs_get_bool(a, CKA_SENSITIVE) || !attrs_get_bool(a, CKA_EXTRACTABLE);
}

int attr_check_stored(const struct attrs *a)
{
	const struct class_def *cd = class_of(a);
	size_t nrules = 0;

	if (!cd)
		return -1;
	for (size_t i = 0; i < a->n; i++) {
		if (!rule_find(cd, a->v[i].type))
			return -1;
	}
	/* Every attribute of the class is present exactly once (attrs has no duplicates). */
	for (size_t i = 0; i < ARRAY_SIZE(cd->tabs); i++)
		nrules += cd->tabs[i].n;
	return a->n == nrules ? 0 : -1;
}
