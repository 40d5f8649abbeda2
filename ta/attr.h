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
	ATTR_KIND_NONE = 0, /* not an attribute this token knows */
	ATTR_KIND_BOOL,	    /* CK_BBOOL */
	ATTR_KIND_ULONG,    /* CK_ULONG (and its aliases CK_OBJECT_CLASS, CK_KEY_TYPE, ...) */
	ATTR_KIND_BYTES,    /* byte array or RFC 2279 string */
	ATTR_KIND_DATE,	    /* CK_DATE or empty */
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

/* --- Rules (attr_rules.c): const tables per object class, PKCS#11 v2.40 §4 --- */

/* The encoding of attribute type t; ATTR_KIND_NONE when unknown to this token. */
enum attr_kind attr_kind(CK_ATTRIBUTE_TYPE t);

/* Build the attributes of a new key of class cls and key type kt from a caller's template for
 * C_GenerateKey/C_GenerateKeyPair (§4.1.1 rules): CKR_ATTRIBUTE_TYPE_INVALID for a type the
 * class does not have, CKR_ATTRIBUTE_VALUE_INVALID for a malformed value,
 * CKR_ATTRIBUTE_READ_ONLY for a token-set attribute, CKR_TEMPLATE_INCONSISTENT for a duplicate,
 * a mismatching CKA_CLASS/CKA_KEY_TYPE or a value the generation contributes. *out must be
 * empty; on error it is left empty. Defaults are not applied: see attr_complete. */
CK_RV attr_from_gen_template(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, const CK_ATTRIBUTE *tmpl,
			     CK_ULONG n, struct attrs *out);

/* Add the class defaults for every attribute a lacks (except those key generation sets);
 * CKR_TEMPLATE_INCOMPLETE when a required attribute is missing. */
CK_RV attr_complete(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, struct attrs *a);

/* True when attribute t of the object a may not be revealed (§4.9: sensitive or unextractable
 * key's secret value). */
bool attr_is_sensitive(const struct attrs *a, CK_ATTRIBUTE_TYPE t);

/* Check that a loaded object a is a complete object of a known class with only attributes of
 * that class. Returns 0 or -1. */
int attr_check_stored(const struct attrs *a);

#endif
