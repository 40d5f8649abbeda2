/* Attribute lists of objects (attr.c) and the per-class attribute rules (attr_rules.c). */
#ifndef TEEHSM_TA_ATTR_H
#define TEEHSM_TA_ATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

struct buf;

/* Hard caps of STYLE §10: on caller templates and on what a sealed object may contain. */
#define ATTR_MAX_TEMPLATE 128	/* entries in one caller template */
#define ATTR_MAX_COUNT	  64	/* attributes of one object */
#define ATTR_MAX_LEN	  16384 /* bytes of one attribute value */

/* How an attribute's value is encoded (PKCS#11 v2.40 §4 tables, "Data type"). */
enum attr_kind {
	ATTR_KIND_NONE = 0,    /* not an attribute this token knows */
	ATTR_KIND_BOOL,	       /* CK_BBOOL */
	ATTR_KIND_ULONG,       /* CK_ULONG (and its aliases CK_OBJECT_CLASS, CK_KEY_TYPE, ...) */
	ATTR_KIND_BYTES,       /* byte array or RFC 2279 string */
	ATTR_KIND_DATE,	       /* CK_DATE or empty */
	ATTR_KIND_ULONG_ARRAY, /* CK_ULONG[] (CKA_ALLOWED_MECHANISMS) */
	ATTR_KIND_TEMPLATE,    /* CK_ATTRIBUTE[] (CKA_WRAP/UNWRAP/DERIVE_TEMPLATE), see below */
};

/* The object-making operation a template is checked for: it decides which §4 footnotes apply
 * (1/2 C_CreateObject, 3/4 C_GenerateKey[Pair], 5/6 C_UnwrapKey; C_DeriveKey as generation
 * without footnote 3). */
enum attr_op {
	ATTR_OP_CREATE,
	ATTR_OP_GENERATE,
	ATTR_OP_UNWRAP,
	ATTR_OP_DERIVE,
};

/* One attribute; val is heap memory owned by the list and wiped when freed. */
struct attr {
	CK_ATTRIBUTE_TYPE type;
	uint8_t *val;
	size_t len;
};

/* An object's attributes: each type at most once. A zeroed struct is an empty list. */
struct attrs {
	struct attr *v;
	size_t n;
};

/* Wipe and free every value and the list itself; a is left empty. */
void attrs_free(struct attrs *a);

/* The attribute of type t, or NULL. */
const struct attr *attrs_find(const struct attrs *a, CK_ATTRIBUTE_TYPE t);

/* Set attribute t to a copy of len bytes at val, replacing (and wiping) any old value.
 * Returns CKR_OK or CKR_HOST_MEMORY. */
CK_RV attrs_set(struct attrs *a, CK_ATTRIBUTE_TYPE t, const void *val, size_t len);

/* Set a CK_BBOOL attribute; as attrs_set. */
CK_RV attrs_set_bool(struct attrs *a, CK_ATTRIBUTE_TYPE t, bool v);

/* Set a CK_ULONG attribute; as attrs_set. */
CK_RV attrs_set_ulong(struct attrs *a, CK_ATTRIBUTE_TYPE t, CK_ULONG v);

/* Append a deep copy of every attribute of src to the empty list *out. CKR_OK or
 * CKR_HOST_MEMORY (*out is then empty). */
CK_RV attrs_copy(const struct attrs *src, struct attrs *out);

/* The value of a CK_BBOOL attribute; false when absent or malformed. */
bool attrs_get_bool(const struct attrs *a, CK_ATTRIBUTE_TYPE t);

/* The value of a CK_ULONG attribute into *out: true, or false when absent or malformed. */
bool attrs_get_ulong(const struct attrs *a, CK_ATTRIBUTE_TYPE t, CK_ULONG *out);

/* True when every attribute of tmpl is in a with exactly the same bytes. */
bool attrs_match(const struct attrs *a, const struct attrs *tmpl);

/* Copy a caller's search template (any types, byte-exact) into *out. CKR_ARGUMENTS_BAD for a
 * NULL template with entries or a NULL value with a length, or more than ATTR_MAX_TEMPLATE. */
CK_RV attrs_from_search_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, struct attrs *out);

/* Encode a into a new buffer (*out, wiped when freed) in the TLV format of tlv.h, CK_ULONG
 * values as 8 bytes big-endian so the encoding does not depend on the platform's word size. */
CK_RV attrs_serialize(const struct attrs *a, struct buf **out);

/* Decode len bytes at p (from attrs_serialize) into *out, which must be empty. Refuses unknown
 * types, duplicates, malformed values and anything past the caps. Returns 0 or -1 (*out is
 * then empty). */
int attrs_parse(const uint8_t *p, size_t len, struct attrs *out);

/* Attribute arrays (§4.1.3: CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE, CKA_DERIVE_TEMPLATE) are held
 * in an object self-contained: the value of such an attribute is the attrs_serialize encoding of
 * its inner attributes, sorted by type (so equal templates have equal bytes whatever the order
 * a caller gave), and is sealed like any other value. */

/* Set attribute t->type of a from a caller's entry whose value attr_caller_value_ok accepted:
 * an attribute array is encoded as above, anything else copied. CKR_OK, CKR_HOST_MEMORY,
 * CKR_ATTRIBUTE_VALUE_INVALID (an attribute array that does not encode). */
CK_RV attrs_set_caller(struct attrs *a, const CK_ATTRIBUTE *t);

/* Decode the stored attribute array at (see above) into the empty list *out, CK_ULONG values in
 * host form. Returns 0 or -1 (*out is then empty). */
int attrs_template_decode(const struct attr *at, struct attrs *out);

/* The template of a new key made with a key whose attribute array at (CKA_UNWRAP_TEMPLATE,
 * CKA_DERIVE_TEMPLATE; NULL when it has none) applies: the caller's n entries of tmpl followed
 * by every entry of the array the caller did not give. *merged (free() it) points into tmpl and
 * into *inner, which the caller frees with attrs_free after use. CKR_OK,
 * CKR_TEMPLATE_INCONSISTENT (the caller gives an attribute of the array another value, or the
 * result exceeds ATTR_MAX_TEMPLATE), CKR_ARGUMENTS_BAD, CKR_GENERAL_ERROR (a stored array that
 * does not decode), CKR_HOST_MEMORY. */
CK_RV attrs_template_merge(const struct attr *at, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			   struct attrs *inner, CK_ATTRIBUTE **merged, CK_ULONG *merged_n);

/* --- Rules (attr_rules.c): const tables per object class, PKCS#11 v2.40 §4 --- */

/* The encoding of attribute type t; ATTR_KIND_NONE when unknown to this token. */
enum attr_kind attr_kind(CK_ATTRIBUTE_TYPE t);

/* Is the caller's entry t a well-formed value of a type this token knows (an attribute array:
 * at most ATTR_MAX_COUNT known, well-formed, distinct entries, none an array itself)? */
bool attr_caller_value_ok(const CK_ATTRIBUTE *t);

/* The class and sub-type named by a caller's template (C_CreateObject, C_UnwrapKey): *sub is
 * the CKA_KEY_TYPE of a key, the CKA_CERTIFICATE_TYPE of a certificate, 0 for data.
 * CKR_TEMPLATE_INCOMPLETE when either is missing, CKR_ATTRIBUTE_VALUE_INVALID for a malformed
 * value or a class/sub-type this token does not have, CKR_ARGUMENTS_BAD for a bad template. */
CK_RV attr_template_class(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_CLASS *cls,
			  CK_ULONG *sub);

/* Build the attributes of a new object of class cls and sub-type sub from a caller's template
 * for operation op (§4.1.1 rules): CKR_ATTRIBUTE_TYPE_INVALID for a type the class does not
 * have, CKR_ATTRIBUTE_VALUE_INVALID for a malformed value, CKR_ATTRIBUTE_READ_ONLY for a
 * token-set attribute (footnotes 2, 4 and 6), CKR_TEMPLATE_INCONSISTENT for a duplicate, a
 * mismatching CKA_CLASS/sub-type or a value the operation contributes (footnote 2, 4 or 6 for
 * op). *out must be empty; on error it is left empty. Defaults: see attr_complete_op.
 * Used by obj_create (T1) and by key generation, unwrapping and derivation (T2). */
CK_RV attr_from_template(enum attr_op op, CK_OBJECT_CLASS cls, CK_ULONG sub,
			 const CK_ATTRIBUTE *tmpl, CK_ULONG n, struct attrs *out);

/* attr_from_template(ATTR_OP_GENERATE, ...). */
CK_RV attr_from_gen_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const CK_ATTRIBUTE *tmpl,
			     CK_ULONG n, struct attrs *out);

/* Add CKA_CLASS, the sub-type and the class defaults for every attribute a lacks;
 * CKR_TEMPLATE_INCOMPLETE when an attribute op requires (footnote 1, 3 or 5) is missing.
 * Attributes without a default (key material, derived attributes, CKA_VALUE_LEN, ...) stay
 * absent: the operation sets them. */
CK_RV attr_complete_op(enum attr_op op, CK_OBJECT_CLASS cls, CK_ULONG sub, struct attrs *a);

/* attr_complete_op(ATTR_OP_GENERATE, ...). */
CK_RV attr_complete(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *a);

/* True when attribute t of the object a may not be revealed (footnote 7: a sensitive or
 * unextractable key's secret value). */
bool attr_is_sensitive(const struct attrs *a, CK_ATTRIBUTE_TYPE t);

/* True when attribute t of the object a is derived by the token (certificate fields parsed
 * from CKA_VALUE, CKA_PUBLIC_KEY_INFO, CKA_CHECK_VALUE): a template may only repeat it. */
bool attr_is_derived(const struct attrs *a, CK_ATTRIBUTE_TYPE t);

/* May the template entry t change the object a (C_SetAttributeValue, or C_CopyObject when
 * copy)? so: the SO is logged in. CKR_OK, CKR_ATTRIBUTE_TYPE_INVALID (not an attribute of the
 * class), CKR_ATTRIBUTE_VALUE_INVALID (malformed, or a derived attribute given another value),
 * CKR_ATTRIBUTE_READ_ONLY (not modifiable; CKA_SENSITIVE true->false, CKA_EXTRACTABLE
 * false->true, CKA_COPYABLE false->true, CKA_WRAP_WITH_TRUSTED true->false; CKA_TRUSTED true
 * by anyone but the SO), CKR_ARGUMENTS_BAD. */
CK_RV attr_check_modify(const struct attrs *a, const CK_ATTRIBUTE *t, bool copy, bool so);

/* Check that a loaded object a is a complete object of a known class with only attributes of
 * that class. Returns 0 or -1. */
int attr_check_stored(const struct attrs *a);

#endif
