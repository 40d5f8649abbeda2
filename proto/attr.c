/*
 * CK_ATTRIBUTE[] <-> wire attributes. CK_ULONG-valued attributes travel as numbers, not as the
 * host's bytes, so a 32-bit client can use a 64-bit server: the codec counts 8 wire bytes per
 * CK_ULONG and converts lengths on both sides.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proto/codec.h"

#define WIRE_ULONG 8  /* bytes a CK_ULONG counts for on the wire */
#define WIRE_ATTR  16 /* bytes an attribute of a template attribute counts for on the wire */

enum attr_kind { ATTR_BYTES, ATTR_ULONG, ATTR_ULONG_ARRAY, ATTR_TEMPLATE };

/* Attributes whose value is a CK_ULONG (or a type defined as one). */
static const CK_ATTRIBUTE_TYPE ulong_attrs[] = {
	CKA_CLASS,
	CKA_CERTIFICATE_TYPE,
	CKA_KEY_TYPE,
	CKA_MODULUS_BITS,
	CKA_PRIME_BITS,
	CKA_SUB_PRIME_BITS,
	CKA_VALUE_BITS,
	CKA_VALUE_LEN,
	CKA_KEY_GEN_MECHANISM,
	CKA_CERTIFICATE_CATEGORY,
	CKA_JAVA_MIDP_SECURITY_DOMAIN,
	CKA_NAME_HASH_ALGORITHM,
	CKA_HW_FEATURE_TYPE,
	CKA_MECHANISM_TYPE,
	CKA_PIXEL_X,
	CKA_PIXEL_Y,
	CKA_RESOLUTION,
	CKA_CHAR_ROWS,
	CKA_CHAR_COLUMNS,
	CKA_BITS_PER_PIXEL,
};

static enum attr_kind attr_kind(CK_ATTRIBUTE_TYPE type)
{
	if (type == CKA_ALLOWED_MECHANISMS)
		return ATTR_ULONG_ARRAY;
	if (type == CKA_WRAP_TEMPLATE || type == CKA_UNWRAP_TEMPLATE || type == CKA_DERIVE_TEMPLATE)
		return ATTR_TEMPLATE;
	for (size_t i = 0; i < sizeof(ulong_attrs) / sizeof(ulong_attrs[0]); i++)
		if (ulong_attrs[i] == type)
			return ATTR_ULONG;
	return ATTR_BYTES;
}

/* Native length in bytes -> wire length, and back, for one attribute. */
static uint64_t len_to_wire(enum attr_kind k, CK_ULONG len)
{
	if (len == CK_UNAVAILABLE_INFORMATION)
		return UINT64_MAX;
	if (k == ATTR_BYTES)
		return len;
	if (k == ATTR_TEMPLATE)
		return (uint64_t)(len / sizeof(CK_ATTRIBUTE)) * WIRE_ATTR;
	return (uint64_t)(len / sizeof(CK_ULONG)) * WIRE_ULONG;
}

static int len_from_wire(enum attr_kind k, uint64_t wlen, CK_ULONG *out)
{
	if (wlen == UINT64_MAX) {
		*out = CK_UNAVAILABLE_INFORMATION;
		return 0;
	}
	if (k == ATTR_TEMPLATE) {
		if (wlen / WIRE_ATTR > CODEC_MAX_NESTED)
			return -1;
		wlen = wlen / WIRE_ATTR * sizeof(CK_ATTRIBUTE);
	} else if (k != ATTR_BYTES) {
		if (wlen / WIRE_ULONG > CODEC_MAX_ULONGS)
			return -1;
		wlen = wlen / WIRE_ULONG * sizeof(CK_ULONG);
	}
	return codec_ulong_from_wire(wlen, out);
}

static void wire_attr_free(Teehsm__Attribute *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_nested; i++)
		wire_attr_free(a->nested[i]);
	free(a->nested);
	free(a->ulongs);
	free(a);
}

void codec_attrs_free(struct codec_attrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		wire_attr_free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static CK_RV attrs_alloc(struct codec_attrs *dst, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	dst->v = NULL;
	dst->n = 0;
	if (n && !t)
		return CKR_ARGUMENTS_BAD;
	if (n > CODEC_MAX_ATTRS)
		return CKR_TEMPLATE_INCONSISTENT;
	dst->v = calloc(n ? n : 1, sizeof(*dst->v));
	if (!dst->v)
		return CKR_HOST_MEMORY;
	for (CK_ULONG i = 0; i < n; i++) {
		dst->v[i] = malloc(sizeof(**dst->v));
		if (!dst->v[i]) {
			dst->n = i;
			codec_attrs_free(dst);
			return CKR_HOST_MEMORY;
		}
		teehsm__attribute__init(dst->v[i]);
		dst->v[i]->type = codec_ulong_to_wire(t[i].type);
	}
	dst->n = n;
	return CKR_OK;
}

static CK_RV template_value_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a);

/* Put the value of a (type, pValue, ulValueLen) with pValue non-NULL on the wire. */
static CK_RV value_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a)
{
	enum attr_kind k = attr_kind(a->type);
	const CK_ULONG *ul = a->pValue;
	size_t count;

	switch (k) {
	case ATTR_ULONG:
		if (a->ulValueLen != sizeof(CK_ULONG))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		w->has_ulong = 1;
		w->ulong = codec_ulong_to_wire(ul[0]);
		return CKR_OK;
	case ATTR_ULONG_ARRAY:
		if (a->ulValueLen % sizeof(CK_ULONG))
			return CKR_ATTRIBUTE_VALUE_INVALID;
		count = a->ulValueLen / sizeof(CK_ULONG);
		if (count > CODEC_MAX_ULONGS)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		w->ulongs = malloc((count ? count : 1) * sizeof(uint64_t));
		if (!w->ulongs)
			return CKR_HOST_MEMORY;
		for (size_t i = 0; i < count; i++)
			w->ulongs[i] = codec_ulong_to_wire(ul[i]);
		w->n_ulongs = count;
		/* An empty array still differs from "no value": say so with its length. */
		w->has_value_len = count == 0;
		w->value_len = 0;
		return CKR_OK;
	case ATTR_BYTES:
		w->has_bytes = 1;
		w->bytes.data = a->pValue;
		w->bytes.len = a->ulValueLen;
		return CKR_OK;
	case ATTR_TEMPLATE:
		return template_value_to_wire(w, a);
	}
	return CKR_GENERAL_ERROR;
}

/* One attribute of a template that carries values, pValue NULL or not. */
static CK_RV attr_value_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a)
{
	if (!a->pValue && a->ulValueLen)
		return CKR_ARGUMENTS_BAD;
	if (a->pValue)
		return value_to_wire(w, a);
	/* An empty value (e.g. a zero-length label) travels as empty bytes, or as an empty
	 * array (value_len 0). */
	switch (attr_kind(a->type)) {
	case ATTR_ULONG:
		return CKR_ATTRIBUTE_VALUE_INVALID;
	case ATTR_BYTES:
		w->has_bytes = 1;
		return CKR_OK;
	default:
		w->has_value_len = 1;
		w->value_len = 0;
		return CKR_OK;
	}
}

/* A CKF_ARRAY_ATTRIBUTE template (CKA_WRAP_TEMPLATE, ...): its CK_ATTRIBUTEs, one level deep,
 * each with its value. Their value bytes are borrowed like the outer ones. */
static CK_RV template_value_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a)
{
	const CK_ATTRIBUTE *in = a->pValue;
	size_t count;
	CK_RV rv = CKR_OK;

	if (a->ulValueLen % sizeof(CK_ATTRIBUTE))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	count = a->ulValueLen / sizeof(CK_ATTRIBUTE);
	if (count > CODEC_MAX_NESTED)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	w->has_value_len = count == 0;
	w->value_len = 0;
	if (!count)
		return CKR_OK;
	w->nested = calloc(count, sizeof(*w->nested));
	if (!w->nested)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; rv == CKR_OK && i < count; i++) {
		w->nested[i] = malloc(sizeof(**w->nested));
		if (!w->nested[i]) {
			rv = CKR_HOST_MEMORY;
			break;
		}
		w->n_nested = i + 1;
		teehsm__attribute__init(w->nested[i]);
		w->nested[i]->type = codec_ulong_to_wire(in[i].type);
		/* One level only: a template inside a template is not a PKCS#11 value. */
		if (attr_kind(in[i].type) == ATTR_TEMPLATE)
			rv = CKR_ATTRIBUTE_VALUE_INVALID;
		else
			rv = attr_value_to_wire(w->nested[i], &in[i]);
	}
	return rv; /* on failure the caller frees w with what was built */
}

CK_RV codec_template_to_wire(struct codec_attrs *dst, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	CK_RV rv = attrs_alloc(dst, t, n);

	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		rv = attr_value_to_wire(dst->v[i], &t[i]);
	if (rv != CKR_OK)
		codec_attrs_free(dst);
	return rv;
}

/* One attribute of a C_GetAttributeValue request: its buffer length, absent for a size query. */
static void query_len_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a)
{
	if (!a->pValue)
		return; /* size query for this attribute */
	w->has_buffer_len = 1;
	w->buffer_len = len_to_wire(attr_kind(a->type), a->ulValueLen);
	/* A caller's buffer length of all ones is just "large". */
	if (w->buffer_len == UINT64_MAX)
		w->buffer_len = UINT64_MAX - 1;
}

/* The caller's array for a CKF_ARRAY_ATTRIBUTE value (§5.7): one nested entry per CK_ATTRIBUTE
 * it has room for (at most CODEC_MAX_NESTED, the most a template can hold), each with the
 * caller's type and buffer length. The token names the types in its answer. */
static CK_RV query_template_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a)
{
	const CK_ATTRIBUTE *in = a->pValue;
	size_t count = a->ulValueLen / sizeof(CK_ATTRIBUTE);

	if (count > CODEC_MAX_NESTED)
		count = CODEC_MAX_NESTED;
	w->buffer_len = (uint64_t)count * WIRE_ATTR;
	if (!count)
		return CKR_OK;
	w->nested = calloc(count, sizeof(*w->nested));
	if (!w->nested)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < count; i++) {
		w->nested[i] = malloc(sizeof(**w->nested));
		if (!w->nested[i])
			return CKR_HOST_MEMORY; /* the caller frees what was built */
		w->n_nested = i + 1;
		teehsm__attribute__init(w->nested[i]);
		w->nested[i]->type = codec_ulong_to_wire(in[i].type);
		query_len_to_wire(w->nested[i], &in[i]);
	}
	return CKR_OK;
}

CK_RV codec_query_to_wire(struct codec_attrs *dst, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	CK_RV rv = attrs_alloc(dst, t, n);

	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
		query_len_to_wire(dst->v[i], &t[i]);
		if (t[i].pValue && attr_kind(t[i].type) == ATTR_TEMPLATE)
			rv = query_template_to_wire(dst->v[i], &t[i]);
	}
	if (rv != CKR_OK)
		codec_attrs_free(dst);
	return rv;
}

static CK_RV answer_one_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a, unsigned depth);

/* A filled CKF_ARRAY_ATTRIBUTE value: each CK_ATTRIBUTE of it answered as one attribute, with the
 * type the token gave it. An empty array is value_len 0. */
static CK_RV template_answer_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a)
{
	const CK_ATTRIBUTE *in = a->pValue;
	size_t count = a->ulValueLen / sizeof(CK_ATTRIBUTE);
	CK_RV rv = CKR_OK;

	if (a->ulValueLen % sizeof(CK_ATTRIBUTE) || count > CODEC_MAX_NESTED)
		return CKR_GENERAL_ERROR;
	w->has_value_len = count == 0;
	w->value_len = 0;
	if (!count)
		return CKR_OK;
	w->nested = calloc(count, sizeof(*w->nested));
	if (!w->nested)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; rv == CKR_OK && i < count; i++) {
		w->nested[i] = malloc(sizeof(**w->nested));
		if (!w->nested[i])
			return CKR_HOST_MEMORY; /* the caller frees what was built */
		w->n_nested = i + 1;
		teehsm__attribute__init(w->nested[i]);
		w->nested[i]->type = codec_ulong_to_wire(in[i].type);
		rv = answer_one_to_wire(w->nested[i], &in[i], 1);
	}
	return rv;
}

static CK_RV answer_one_to_wire(Teehsm__Attribute *w, const CK_ATTRIBUTE *a, unsigned depth)
{
	enum attr_kind k = attr_kind(a->type);

	if (!a->pValue || a->ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		w->has_value_len = 1;
		w->value_len = len_to_wire(k, a->ulValueLen);
	} else if (k == ATTR_TEMPLATE) {
		/* One level only: the token never puts an array inside an array. */
		return depth ? CKR_GENERAL_ERROR : template_answer_to_wire(w, a);
	} else if (!a->ulValueLen) {
		w->has_bytes = k == ATTR_BYTES;
		w->has_value_len = !w->has_bytes;
	} else {
		return value_to_wire(w, a);
	}
	return CKR_OK;
}

CK_RV codec_answer_to_wire(struct codec_attrs *dst, const CK_ATTRIBUTE *t, CK_ULONG n)
{
	CK_RV rv = attrs_alloc(dst, t, n);

	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		rv = answer_one_to_wire(dst->v[i], &t[i], 0);
	if (rv != CKR_OK)
		codec_attrs_free(dst);
	return rv;
}

/*
 * Server-side templates are one block: n CK_ATTRIBUTEs followed by n allocated value sizes.
 * The token core rewrites ulValueLen (to the value's length, or CK_UNAVAILABLE_INFORMATION), so
 * freeing must not trust it; the sizes recorded behind the array say what to wipe.
 */
static size_t *template_caps(CK_ATTRIBUTE *t, CK_ULONG n)
{
	return (size_t *)(void *)(t + n);
}

/* Free a block of depth 0 (the outer template) or 1 (the value of an array attribute). The
 * token rewrites the types of the inner entries (§5.7), so only the outer types, which it leaves
 * alone, say where a block is. */
static void template_free_at(CK_ATTRIBUTE *t, CK_ULONG n, unsigned depth)
{
	size_t *cap;

	if (!t)
		return;
	cap = template_caps(t, n);
	for (CK_ULONG i = 0; i < n; i++) {
		/* A template attribute's value is a block of the same layout, one level down. */
		if (!depth && attr_kind(t[i].type) == ATTR_TEMPLATE && t[i].pValue)
			template_free_at(t[i].pValue, cap[i] / sizeof(CK_ATTRIBUTE), 1);
		else
			wipe_free(t[i].pValue, cap[i]);
	}
	free(t);
}

void codec_template_free(CK_ATTRIBUTE *t, CK_ULONG n)
{
	template_free_at(t, n, 0);
}

/* Give attribute i of t a zeroed value buffer of len bytes (at least one allocated byte, so a
 * zero-length buffer is still a non-NULL pointer). */
static CK_RV template_value_alloc(CK_ATTRIBUTE *t, CK_ULONG n, CK_ULONG i, size_t len)
{
	t[i].pValue = calloc(1, len ? len : 1);
	if (!t[i].pValue)
		return CKR_HOST_MEMORY;
	t[i].ulValueLen = len;
	template_caps(t, n)[i] = len;
	return CKR_OK;
}

static CK_RV template_alloc(CK_ATTRIBUTE **out, CK_ULONG *count, Teehsm__Attribute *const *a,
			    size_t n)
{
	*out = NULL;
	*count = 0;
	if (n > CODEC_MAX_ATTRS)
		return CKR_TEMPLATE_INCONSISTENT;
	*out = calloc(1, (n ? n : 1) * (sizeof(CK_ATTRIBUTE) + sizeof(size_t)));
	if (!*out)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < n; i++) {
		CK_ULONG type;

		if (codec_ulong_from_wire(a[i]->type, &type)) {
			free(*out);
			*out = NULL;
			return CKR_ATTRIBUTE_TYPE_INVALID;
		}
		(*out)[i].type = type;
	}
	*count = n;
	return CKR_OK;
}

static CK_RV template_from_wire_at(CK_ATTRIBUTE **out, CK_ULONG *count, Teehsm__Attribute *const *a,
				   size_t n, unsigned depth);

/* Attribute i of t gets a newly allocated copy of one wire value. */
static CK_RV value_from_wire(CK_ATTRIBUTE *t, CK_ULONG n, CK_ULONG i, const Teehsm__Attribute *w,
			     unsigned depth)
{
	enum attr_kind k = attr_kind(t[i].type);
	int arr = k == ATTR_TEMPLATE ? w->n_nested > 0 : w->n_ulongs > 0;
	int have = w->has_bytes + w->has_ulong + (arr || w->has_value_len);
	CK_ATTRIBUTE *inner = NULL;
	CK_ULONG inner_n = 0;
	CK_ULONG *ul;
	CK_RV rv;

	/* Exactly one encoding, and the one this attribute type uses. */
	if (have != 1 || (k == ATTR_BYTES && !w->has_bytes) || (k == ATTR_ULONG && !w->has_ulong) ||
	    ((k == ATTR_ULONG_ARRAY || k == ATTR_TEMPLATE) && w->has_value_len &&
	     w->value_len != 0) ||
	    (k != ATTR_TEMPLATE && w->n_nested) || (k == ATTR_TEMPLATE && w->n_ulongs))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	switch (k) {
	case ATTR_TEMPLATE:
		if (depth || w->n_nested > CODEC_MAX_NESTED)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		rv = template_from_wire_at(&inner, &inner_n, w->nested, w->n_nested, depth + 1);
		if (rv != CKR_OK)
			return rv;
		t[i].pValue = inner; /* freed by codec_template_free, one level down */
		t[i].ulValueLen = inner_n * sizeof(CK_ATTRIBUTE);
		template_caps(t, n)[i] = t[i].ulValueLen;
		return CKR_OK;
	case ATTR_BYTES:
		rv = template_value_alloc(t, n, i, w->bytes.len);
		if (rv == CKR_OK && w->bytes.len)
			memcpy(t[i].pValue, w->bytes.data, w->bytes.len);
		return rv;
	case ATTR_ULONG:
		rv = template_value_alloc(t, n, i, sizeof(CK_ULONG));
		if (rv == CKR_OK && codec_ulong_from_wire(w->ulong, t[i].pValue))
			rv = CKR_ATTRIBUTE_VALUE_INVALID;
		return rv;
	case ATTR_ULONG_ARRAY:
		if (w->n_ulongs > CODEC_MAX_ULONGS)
			return CKR_ATTRIBUTE_VALUE_INVALID;
		rv = template_value_alloc(t, n, i, w->n_ulongs * sizeof(CK_ULONG));
		ul = t[i].pValue;
		for (size_t j = 0; rv == CKR_OK && j < w->n_ulongs; j++)
			if (codec_ulong_from_wire(w->ulongs[j], &ul[j]))
				rv = CKR_ATTRIBUTE_VALUE_INVALID;
		return rv;
	}
	return CKR_GENERAL_ERROR;
}

static CK_RV template_from_wire_at(CK_ATTRIBUTE **out, CK_ULONG *count, Teehsm__Attribute *const *a,
				   size_t n, unsigned depth)
{
	CK_RV rv = template_alloc(out, count, a, n);

	for (size_t i = 0; rv == CKR_OK && i < n; i++)
		rv = value_from_wire(*out, n, i, a[i], depth);
	if (rv != CKR_OK) {
		template_free_at(*out, *count, depth);
		*out = NULL;
		*count = 0;
	}
	return rv;
}

CK_RV codec_template_from_wire(CK_ATTRIBUTE **out, CK_ULONG *count, Teehsm__Attribute *const *a,
			       size_t n)
{
	return template_from_wire_at(out, count, a, n, 0);
}

/* Server side of one requested attribute i of t: a zeroed buffer of the caller's length
 * (clamped so that *total stays within max_total), or for an array attribute a block of the
 * nested entries with theirs. Nothing for a size query. */
static CK_RV query_one_from_wire(CK_ATTRIBUTE *t, CK_ULONG n, CK_ULONG i,
				 const Teehsm__Attribute *w, unsigned depth, size_t max_total,
				 size_t *total)
{
	enum attr_kind k = attr_kind(t[i].type);
	CK_ATTRIBUTE *inner = NULL;
	CK_ULONG inner_n = 0;
	CK_ULONG len = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (w->n_nested && (depth || k != ATTR_TEMPLATE || !w->has_buffer_len))
		return CKR_ARGUMENTS_BAD;
	if (!w->has_buffer_len)
		return CKR_OK;
	if (k == ATTR_TEMPLATE && !depth) {
		/* The caller's array: one entry per nested attribute. */
		if (w->n_nested > CODEC_MAX_NESTED)
			return CKR_ARGUMENTS_BAD;
		rv = template_alloc(&inner, &inner_n, w->nested, w->n_nested);
		for (size_t j = 0; rv == CKR_OK && j < w->n_nested; j++)
			rv = query_one_from_wire(inner, inner_n, j, w->nested[j], 1, max_total,
						 total);
		if (rv != CKR_OK) {
			template_free_at(inner, inner_n, 1);
			return rv;
		}
		t[i].pValue = inner; /* freed by codec_template_free, one level down */
		t[i].ulValueLen = inner_n * sizeof(CK_ATTRIBUTE);
		template_caps(t, n)[i] = t[i].ulValueLen;
		return CKR_OK;
	}
	/* An array entry's buffer holds bytes, never pointers: its type says nothing here. */
	if (len_from_wire(k == ATTR_TEMPLATE ? ATTR_BYTES : k, w->buffer_len, &len) ||
	    len == CK_UNAVAILABLE_INFORMATION)
		len = (CK_ULONG)-2; /* "very large": clamped below */
	if (len > max_total - *total)
		len = max_total - *total;
	*total += len;
	return template_value_alloc(t, n, i, len);
}

CK_RV codec_query_from_wire(CK_ATTRIBUTE **out, CK_ULONG *count, Teehsm__Attribute *const *a,
			    size_t n, size_t max_total)
{
	CK_RV rv = template_alloc(out, count, a, n);
	size_t total = 0;

	for (size_t i = 0; rv == CKR_OK && i < n; i++)
		rv = query_one_from_wire(*out, n, i, a[i], 0, max_total, &total);
	if (rv != CKR_OK) {
		codec_template_free(*out, *count);
		*out = NULL;
		*count = 0;
	}
	return rv;
}

/* Client side: one answered attribute onto the caller's t (depth 1: an entry of the caller's
 * array for an array attribute, whose type the answer names). */
static CK_RV answer_one_from_wire(CK_ATTRIBUTE *t, const Teehsm__Attribute *w, unsigned depth)
{
	enum attr_kind k = ATTR_BYTES;
	CK_ATTRIBUTE *in = NULL;
	CK_ULONG len = 0;
	CK_RV rv = CKR_OK;

	if (depth) {
		if (codec_ulong_from_wire(w->type, &t->type))
			return CKR_DEVICE_ERROR;
	} else if (w->type != codec_ulong_to_wire(t->type)) {
		return CKR_DEVICE_ERROR;
	}
	k = attr_kind(t->type);
	if (w->n_nested) {
		/* The entries of an array the caller gave room for, and nothing else. */
		if (depth || k != ATTR_TEMPLATE || !t->pValue || w->has_value_len || w->has_bytes ||
		    w->has_ulong || w->n_ulongs ||
		    w->n_nested > t->ulValueLen / sizeof(CK_ATTRIBUTE))
			return CKR_DEVICE_ERROR;
		in = t->pValue;
		for (size_t j = 0; j < w->n_nested; j++) {
			rv = answer_one_from_wire(&in[j], w->nested[j], 1);
			if (rv != CKR_OK)
				return rv;
		}
		t->ulValueLen = w->n_nested * sizeof(CK_ATTRIBUTE);
		return CKR_OK;
	}
	if (w->has_value_len) {
		if (len_from_wire(k, w->value_len, &len))
			return CKR_DEVICE_ERROR;
		/* A non-empty array whose entries did not travel although the caller gave room
		 * (a server without nested answers): unavailable, for the caller to report. */
		if (k == ATTR_TEMPLATE && t->pValue && len != CK_UNAVAILABLE_INFORMATION && len) {
			len = CK_UNAVAILABLE_INFORMATION;
			rv = CKR_ATTRIBUTE_TYPE_INVALID;
		}
		t->ulValueLen = len;
		return rv;
	}
	/* A value travelled: the caller must have given a buffer big enough for it. */
	if (!t->pValue)
		return CKR_DEVICE_ERROR;
	switch (k) {
	case ATTR_BYTES:
		if (!w->has_bytes || w->bytes.len > t->ulValueLen)
			return CKR_DEVICE_ERROR;
		if (w->bytes.len)
			memcpy(t->pValue, w->bytes.data, w->bytes.len);
		t->ulValueLen = w->bytes.len;
		return CKR_OK;
	case ATTR_ULONG:
		if (!w->has_ulong || t->ulValueLen < sizeof(CK_ULONG) ||
		    codec_ulong_from_wire(w->ulong, (CK_ULONG *)t->pValue))
			return CKR_DEVICE_ERROR;
		t->ulValueLen = sizeof(CK_ULONG);
		return CKR_OK;
	case ATTR_ULONG_ARRAY:
		if (w->n_ulongs > t->ulValueLen / sizeof(CK_ULONG))
			return CKR_DEVICE_ERROR;
		for (size_t j = 0; j < w->n_ulongs; j++)
			if (codec_ulong_from_wire(w->ulongs[j], (CK_ULONG *)t->pValue + j))
				return CKR_DEVICE_ERROR;
		t->ulValueLen = w->n_ulongs * sizeof(CK_ULONG);
		return CKR_OK;
	case ATTR_TEMPLATE:
		break;
	}
	return CKR_DEVICE_ERROR;
}

CK_RV codec_answer_from_wire(CK_ATTRIBUTE *t, CK_ULONG n, Teehsm__Attribute *const *a, size_t an)
{
	CK_RV rv = CKR_OK;

	if (an != n)
		return CKR_DEVICE_ERROR;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_RV one = answer_one_from_wire(&t[i], a[i], 0);

		if (one == CKR_DEVICE_ERROR)
			return one;
		if (one != CKR_OK && rv == CKR_OK)
			rv = one;
	}
	return rv;
}
