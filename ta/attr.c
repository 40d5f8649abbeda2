#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "attr.h"
#include "tlv.h"

/* CK_ULONG values travel as 8 bytes; CK_UNAVAILABLE_INFORMATION maps to all ones so it
 * survives a change of word size. */
#define ULONG_WIRE_LEN 8

void attrs_free(struct attrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		wipe_free(a->v[i].val, a->v[i].len);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

const struct attr *attrs_find(const struct attrs *a, CK_ATTRIBUTE_TYPE t)
{
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].type == t)
			return &a->v[i];
	}
	return NULL;
}

/* Append a copy of an attribute, duplicates allowed (search templates may repeat a type). */
static CK_RV attrs_append(struct attrs *a, CK_ATTRIBUTE_TYPE t, const void *val, size_t len)
{
	struct attr *v = NULL;
	uint8_t *copy = NULL;

	copy = mem_dup(val, len);
	if (!copy)
		return CKR_HOST_MEMORY;
	v = reallocarray(a->v, a->n + 1, sizeof(*v));
	if (!v) {
		wipe_free(copy, len);
		return CKR_HOST_MEMORY;
	}
	a->v = v;
	a->v[a->n].type = t;
	a->v[a->n].val = copy;
	a->v[a->n].len = len;
	a->n++;
	return CKR_OK;
}

CK_RV attrs_set(struct attrs *a, CK_ATTRIBUTE_TYPE t, const void *val, size_t len)
{
	uint8_t *copy = NULL;

	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].type != t)
			continue;
		copy = mem_dup(val, len);
		if (!copy)
			return CKR_HOST_MEMORY;
		wipe_free(a->v[i].val, a->v[i].len);
		a->v[i].val = copy;
		a->v[i].len = len;
		return CKR_OK;
	}
	return attrs_append(a, t, val, len);
}

CK_RV attrs_set_bool(struct attrs *a, CK_ATTRIBUTE_TYPE t, bool v)
{
	CK_BBOOL b = v ? CK_TRUE : CK_FALSE;

	return attrs_set(a, t, &b, sizeof(b));
}

CK_RV attrs_set_ulong(struct attrs *a, CK_ATTRIBUTE_TYPE t, CK_ULONG v)
{
	return attrs_set(a, t, &v, sizeof(v));
}

CK_RV attrs_copy(const struct attrs *src, struct attrs *out)
{
	CK_RV rv = CKR_OK;

	for (size_t i = 0; i < src->n && rv == CKR_OK; i++)
		rv = attrs_append(out, src->v[i].type, src->v[i].val, src->v[i].len);
	if (rv != CKR_OK)
		attrs_free(out);
	return rv;
}

bool attrs_get_bool(const struct attrs *a, CK_ATTRIBUTE_TYPE t)
{
	const struct attr *at = attrs_find(a, t);

	return at && at->len == sizeof(CK_BBOOL) && at->val[0] == CK_TRUE;
}

bool attrs_get_ulong(const struct attrs *a, CK_ATTRIBUTE_TYPE t, CK_ULONG *out)
{
	const struct attr *at = attrs_find(a, t);

	if (!at || at->len != sizeof(CK_ULONG))
		return false;
	memcpy(out, at->val, sizeof(CK_ULONG));
	return true;
}

bool attrs_match(const struct attrs *a, const struct attrs *tmpl)
{
	for (size_t i = 0; i < tmpl->n; i++) {
		const struct attr *at = attrs_find(a, tmpl->v[i].type);

		/* Public attributes only are compared: a search never probes a secret. */
		if (!at || at->len != tmpl->v[i].len || attr_is_sensitive(a, at->type))
			return false;
		if (at->len && memcmp(at->val, tmpl->v[i].val, at->len) != 0)
			return false;
	}
	return true;
}

static int attr_type_cmp(const void *x, const void *y)
{
	const struct attr *a = x;
	const struct attr *b = y;

	return a->type < b->type ? -1 : a->type > b->type;
}

/* The stored form of the caller's attribute array t (already checked by attr_caller_value_ok)
 * into a new buffer: its entries sorted by type, serialized. */
static CK_RV template_encode(const CK_ATTRIBUTE *t, struct buf **out)
{
	const CK_ATTRIBUTE *in = t->pValue;
	struct attrs inner = { 0 };
	CK_RV rv = CKR_GENERAL_ERROR;

	*out = NULL;
	for (CK_ULONG i = 0; i < t->ulValueLen / sizeof(CK_ATTRIBUTE); i++) {
		rv = attrs_append(&inner, in[i].type, in[i].pValue, in[i].ulValueLen);
		if (rv != CKR_OK)
			goto out;
	}
	if (inner.n)
		qsort(inner.v, inner.n, sizeof(*inner.v), attr_type_cmp);
	rv = attrs_serialize(&inner, out);
	if (rv == CKR_GENERAL_ERROR)
		rv = CKR_ATTRIBUTE_VALUE_INVALID; /* a value the encoding refuses */
	if (rv == CKR_OK && (*out)->len > ATTR_MAX_LEN) {
		buf_free(*out);
		*out = NULL;
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	}
out:
	attrs_free(&inner);
	return rv;
}

CK_RV attrs_set_caller(struct attrs *a, const CK_ATTRIBUTE *t)
{
	struct buf *b = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (attr_kind(t->type) != ATTR_KIND_TEMPLATE)
		return attrs_set(a, t->type, t->pValue, t->ulValueLen);
	rv = template_encode(t, &b);
	if (rv == CKR_OK)
		rv = attrs_set(a, t->type, b->data, b->len);
	buf_free(b);
	return rv;
}

CK_RV attrs_template_merge(const struct attr *at, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			   struct attrs *inner, CK_ATTRIBUTE **merged, CK_ULONG *merged_n)
{
	CK_ATTRIBUTE *m = NULL;
	CK_ULONG k = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	*merged = NULL;
	*merged_n = 0;
	if ((n && !tmpl) || n > ATTR_MAX_TEMPLATE)
		return CKR_ARGUMENTS_BAD;
	if (at && attrs_template_decode(at, inner) != 0)
		return CKR_GENERAL_ERROR;
	m = calloc(n + inner->n ? n + inner->n : 1, sizeof(*m));
	if (!m) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	if (n)
		memcpy(m, tmpl, n * sizeof(*m));
	k = n;
	for (size_t i = 0; i < inner->n; i++) {
		const struct attr *ia = &inner->v[i];
		const CK_ATTRIBUTE *given = NULL;

		for (CK_ULONG j = 0; j < n && !given; j++) {
			if (tmpl[j].type == ia->type)
				given = &tmpl[j];
		}
		if (!given) {
			m[k].type = ia->type;
			m[k].pValue = ia->val;
			m[k].ulValueLen = ia->len;
			k++;
			continue;
		}
		if (given->ulValueLen && !given->pValue) {
			rv = CKR_ARGUMENTS_BAD;
			goto out;
		}
		/* §5.14: the key's template is not overridden by the caller's. */
		if (given->ulValueLen != ia->len ||
		    (ia->len && memcmp(given->pValue, ia->val, ia->len) != 0)) {
			rv = CKR_TEMPLATE_INCONSISTENT;
			goto out;
		}
	}
	if (k > ATTR_MAX_TEMPLATE) {
		rv = CKR_TEMPLATE_INCONSISTENT;
		goto out;
	}
	*merged = m;
	m = NULL; /* the caller owns it */
	*merged_n = k;
	rv = CKR_OK;
out:
	free(m);
	if (rv != CKR_OK)
		attrs_free(inner);
	return rv;
}

CK_RV attrs_from_search_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, struct attrs *out)
{
	struct buf *b = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	if ((n && !tmpl) || n > ATTR_MAX_TEMPLATE)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < n; i++) {
		if (tmpl[i].ulValueLen && !tmpl[i].pValue) {
			rv = CKR_ARGUMENTS_BAD;
			goto out;
		}
		if (tmpl[i].ulValueLen > ATTR_MAX_LEN) {
			rv = CKR_ATTRIBUTE_VALUE_INVALID;
			goto out;
		}
		/* An attribute array is compared in its stored form; one that cannot be stored
		 * is kept as given and so matches nothing. */
		if (attr_kind(tmpl[i].type) == ATTR_KIND_TEMPLATE &&
		    attr_caller_value_ok(&tmpl[i]) && template_encode(&tmpl[i], &b) == CKR_OK) {
			rv = attrs_append(out, tmpl[i].type, b->data, b->len);
			buf_free(b);
			b = NULL;
			if (rv != CKR_OK)
				goto out;
			continue;
		}
		/* A type given twice with different values then simply matches nothing. */
		rv = attrs_append(out, tmpl[i].type, tmpl[i].pValue, tmpl[i].ulValueLen);
		if (rv != CKR_OK)
			goto out;
	}
	rv = CKR_OK;
out:
	if (rv != CKR_OK)
		attrs_free(out);
	return rv;
}

/* The encoded length of an attribute: CK_ULONGs, alone or in arrays, take ULONG_WIRE_LEN
 * bytes each. */
static size_t wire_len(const struct attr *at)
{
	switch (attr_kind(at->type)) {
	case ATTR_KIND_ULONG:
		return ULONG_WIRE_LEN;
	case ATTR_KIND_ULONG_ARRAY:
		return at->len / sizeof(CK_ULONG) * ULONG_WIRE_LEN;
	default:
		return at->len;
	}
}

/* Put a CK_ULONG in ULONG_WIRE_LEN bytes at w. */
static void put_ulong(uint8_t *w, CK_ULONG v)
{
	tlv_put_be64(w, v == CK_UNAVAILABLE_INFORMATION ? UINT64_MAX : (uint64_t)v);
}

CK_RV attrs_serialize(const struct attrs *a, struct buf **out)
{
	struct buf *b = NULL;
	uint8_t *p = NULL;
	uint8_t *w = NULL;
	size_t total = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	*out = NULL;
	for (size_t i = 0; i < a->n; i++) {
		size_t vlen = wire_len(&a->v[i]);
		enum attr_kind kind = attr_kind(a->v[i].type);

		if ((kind == ATTR_KIND_ULONG && a->v[i].len != sizeof(CK_ULONG)) ||
		    (kind == ATTR_KIND_ULONG_ARRAY && a->v[i].len % sizeof(CK_ULONG)))
			return CKR_GENERAL_ERROR;
		if (vlen > ATTR_MAX_LEN || size_add(total, TLV_HDR_LEN + vlen, &total))
			return CKR_GENERAL_ERROR;
	}
	b = buf_new(NULL, total);
	if (!b)
		return CKR_HOST_MEMORY;
	p = b->data;
	for (size_t i = 0; i < a->n; i++) {
		const struct attr *at = &a->v[i];
		enum attr_kind kind = attr_kind(at->type);

		if (kind != ATTR_KIND_ULONG && kind != ATTR_KIND_ULONG_ARRAY) {
			p = tlv_put(p, at->type, at->val, (uint32_t)at->len);
			continue;
		}
		w = malloc(wire_len(at) ? wire_len(at) : 1);
		if (!w) {
			rv = CKR_HOST_MEMORY;
			goto out;
		}
		for (size_t j = 0; j < at->len / sizeof(CK_ULONG); j++) {
			CK_ULONG v = 0;

			memcpy(&v, at->val + j * sizeof(CK_ULONG), sizeof(v));
			put_ulong(w + j * ULONG_WIRE_LEN, v);
		}
		p = tlv_put(p, at->type, w, (uint32_t)wire_len(at));
		free(w);
		w = NULL;
	}
	*out = b;
	b = NULL; /* the caller owns it */
	rv = CKR_OK;
out:
	buf_free(b);
	return rv;
}

/* Check one decoded value of the given kind. */
static int value_ok(enum attr_kind kind, const uint8_t *val, size_t len)
{
	switch (kind) {
	case ATTR_KIND_BOOL:
		return len == 1 && (val[0] == CK_TRUE || val[0] == CK_FALSE);
	case ATTR_KIND_ULONG:
		return len == ULONG_WIRE_LEN;
	case ATTR_KIND_DATE:
		return len == 0 || len == sizeof(CK_DATE);
	case ATTR_KIND_BYTES:
		return len <= ATTR_MAX_LEN;
	case ATTR_KIND_ULONG_ARRAY:
		return len % ULONG_WIRE_LEN == 0;
	case ATTR_KIND_TEMPLATE:
		return len <= ATTR_MAX_LEN; /* its entries are checked by parse_at */
	case ATTR_KIND_NONE:
		break;
	}
	return 0;
}

/* Decode vlen / ULONG_WIRE_LEN CK_ULONGs at val into attribute type of out. CKR_OK,
 * CKR_ATTRIBUTE_VALUE_INVALID for a value that does not fit a CK_ULONG, or CKR_HOST_MEMORY. */
static CK_RV parse_ulongs(struct attrs *out, CK_ATTRIBUTE_TYPE type, const uint8_t *val,
			  uint32_t vlen)
{
	size_t n = vlen / ULONG_WIRE_LEN;
	CK_ULONG *v = calloc(n ? n : 1, sizeof(*v));
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!v)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < n; i++) {
		uint64_t w = tlv_get_be64(val + i * ULONG_WIRE_LEN);

		v[i] = w == UINT64_MAX ? CK_UNAVAILABLE_INFORMATION : (CK_ULONG)w;
		if (w != UINT64_MAX && (uint64_t)v[i] != w) {
			rv = CKR_ATTRIBUTE_VALUE_INVALID;
			goto out;
		}
	}
	rv = attrs_set(out, type, v, n * sizeof(*v));
out:
	free(v);
	return rv;
}

static int parse_at(const uint8_t *p, size_t len, struct attrs *out, bool inner);

/* A stored attribute array: entries that parse, none an array itself. */
static bool template_stored_ok(const uint8_t *val, size_t len)
{
	struct attrs tmp = { 0 };
	int r = parse_at(val, len, &tmp, true);

	attrs_free(&tmp);
	return r == 0;
}

/* attrs_parse, one level of attribute arrays deep (inner: inside one). */
static int parse_at(const uint8_t *p, size_t len, struct attrs *out, bool inner)
{
	struct tlv_reader r;
	const uint8_t *val = NULL;
	uint64_t type = 0;
	uint32_t vlen = 0;
	int got = 0;

	tlv_reader_init(&r, p, len);
	while ((got = tlv_next(&r, &type, &val, &vlen)) == 1) {
		enum attr_kind kind = attr_kind((CK_ATTRIBUTE_TYPE)type);
		CK_RV rv = CKR_OK;

		if (out->n >= ATTR_MAX_COUNT || type != (CK_ATTRIBUTE_TYPE)type ||
		    kind == ATTR_KIND_NONE || !value_ok(kind, val, vlen) ||
		    attrs_find(out, (CK_ATTRIBUTE_TYPE)type))
			goto fail;
		if (kind == ATTR_KIND_TEMPLATE && (inner || !template_stored_ok(val, vlen)))
			goto fail;
		if (kind == ATTR_KIND_ULONG || kind == ATTR_KIND_ULONG_ARRAY)
			rv = parse_ulongs(out, (CK_ATTRIBUTE_TYPE)type, val, vlen);
		else
			rv = attrs_set(out, (CK_ATTRIBUTE_TYPE)type, val, vlen);
		if (rv != CKR_OK)
			goto fail;
	}
	if (got == 0)
		return 0;
fail:
	attrs_free(out);
	return -1;
}

int attrs_parse(const uint8_t *p, size_t len, struct attrs *out)
{
	return parse_at(p, len, out, false);
}

int attrs_template_decode(const struct attr *at, struct attrs *out)
{
	return parse_at(at->val, at->len, out, true);
}
