/* Objects, per-client object handles, C_GetAttributeValue and C_DestroyObject (§5.7). */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "core.h"
#include "port/rng.h"

void obj_free(struct obj *o)
{
	if (!o)
		return;
	attrs_free(&o->a); /* wipes every value, key material included */
	free(o);
}

struct obj *obj_new(struct ta *ta)
{
	struct obj *o = calloc(1, sizeof(*o));
	uint64_t oid = 0;

	if (!o)
		return NULL;
	do {
		if (port_rng_bytes(&oid, sizeof(oid)) != 0) {
			free(o);
			return NULL;
		}
	} while (oid == 0 || obj_by_oid(ta, oid));
	o->oid = oid;
	return o;
}

void obj_link(struct ta *ta, struct obj *o)
{
	o->next = ta->objs;
	ta->objs = o;
	find_index_add(ta, o);
}

void obj_unlink_free(struct ta *ta, struct obj *o)
{
	/* Handles and operations naming o find it gone by its id the next time they are used. */
	for (struct obj **pp = &ta->objs; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	}
	find_index_remove(ta, o);
	obj_free(o);
}

struct obj *obj_by_oid(const struct ta *ta, uint64_t oid)
{
	for (struct obj *o = ta->objs; o; o = o->next) {
		if (o->oid == oid)
			return o;
	}
	return NULL;
}

bool obj_is_token(const struct obj *o)
{
	return attrs_get_bool(&o->a, CKA_TOKEN);
}

bool obj_is_private(const struct obj *o)
{
	return attrs_get_bool(&o->a, CKA_PRIVATE);
}

/* A token object, or a session object of one of c's sessions. */
static bool obj_accessible(const struct ta_client *c, const struct obj *o)
{
	return !o->owner || o->owner->c == c;
}

bool obj_visible(const struct ta_client *c, const struct obj *o)
{
	return obj_accessible(c, o) && (!obj_is_private(o) || c->login == TA_LOGIN_USER);
}

struct obj *obj_from_handle(struct ta_client *c, CK_OBJECT_HANDLE h)
{
	struct obj *o = NULL;

	if (h == CK_INVALID_HANDLE)
		return NULL;
	for (size_t i = 0; i < c->nhandles; i++) {
		if (c->handles[i].h != h)
			continue;
		o = obj_by_oid(c->ta, c->handles[i].oid);
		if (o && obj_accessible(c, o))
			return o;
		/* The object is gone: forget the handle for good. */
		c->handles[i] = c->handles[--c->nhandles];
		return NULL;
	}
	return NULL;
}

static bool handle_used(const struct ta_client *c, CK_OBJECT_HANDLE h)
{
	for (size_t i = 0; i < c->nhandles; i++) {
		if (c->handles[i].h == h)
			return true;
	}
	return false;
}

CK_RV obj_handle(struct ta_client *c, const struct obj *o, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = CKR_GENERAL_ERROR;

	*out = CK_INVALID_HANDLE;
	for (size_t i = 0; i < c->nhandles; i++) {
		if (c->handles[i].oid == o->oid) {
			*out = c->handles[i].h;
			return CKR_OK;
		}
	}
	if (c->nhandles == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct handle_ent *v = reallocarray(c->handles, cap, sizeof(*v));

		if (!v)
			return CKR_HOST_MEMORY;
		c->handles = v;
		c->cap = cap;
	}
	do {
		rv = ta_random_handle(&h);
		if (rv != CKR_OK)
			return rv;
	} while (handle_used(c, h));
	c->handles[c->nhandles].h = h;
	c->handles[c->nhandles].oid = o->oid;
	c->nhandles++;
	*out = h;
	return CKR_OK;
}

void obj_handles_free(struct ta_client *c)
{
	free(c->handles);
	c->handles = NULL;
	c->nhandles = 0;
	c->cap = 0;
}

void obj_destroy_session_objects(struct ta *ta, const struct sess *s, bool only_private)
{
	struct obj **pp = &ta->objs;

	while (*pp) {
		struct obj *o = *pp;

		if (o->owner == s && (!only_private || obj_is_private(o))) {
			*pp = o->next;
			find_index_remove(ta, o);
			obj_free(o);
		} else {
			pp = &o->next;
		}
	}
}

void obj_free_all(struct ta *ta)
{
	while (ta->objs) {
		struct obj *o = ta->objs;

		ta->objs = o->next;
		obj_free(o);
	}
}

/* §5.7 for one value: its length when pValue is NULL, else a copy or CKR_BUFFER_TOO_SMALL. */
static CK_RV get_value(CK_ATTRIBUTE *t, const uint8_t *val, size_t len)
{
	if (!t->pValue) {
		t->ulValueLen = len;
	} else if (t->ulValueLen >= len) {
		if (len)
			memcpy(t->pValue, val, len);
		t->ulValueLen = len;
	} else {
		t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	return CKR_OK;
}

/* §5.7 for an attribute array (§4.1.3): its size in bytes of CK_ATTRIBUTEs when pValue is NULL;
 * else the caller's array must hold every entry, and each entry is given its type and then
 * treated as one value (pValue NULL: its length; else a copy or CKR_BUFFER_TOO_SMALL). */
static CK_RV get_template(CK_ATTRIBUTE *t, const struct attr *at)
{
	struct attrs in = { 0 };
	CK_ATTRIBUTE *e = t->pValue;
	size_t need = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (attrs_template_decode(at, &in) != 0) {
		t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_GENERAL_ERROR;
	}
	need = in.n * sizeof(CK_ATTRIBUTE);
	if (!t->pValue) {
		t->ulValueLen = need;
		rv = CKR_OK;
	} else if (t->ulValueLen < need) {
		t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		rv = CKR_BUFFER_TOO_SMALL;
	} else {
		rv = CKR_OK;
		for (size_t i = 0; i < in.n; i++) {
			CK_RV err = CKR_OK;

			e[i].type = in.v[i].type;
			err = get_value(&e[i], in.v[i].val, in.v[i].len);
			if (err != CKR_OK && rv == CKR_OK)
				rv = err;
		}
		t->ulValueLen = need;
	}
	attrs_free(&in);
	return rv;
}

CK_RV obj_get_attribute_value(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
			      CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct sess *s = NULL;
	struct obj *o = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (n && !tmpl)
		return CKR_ARGUMENTS_BAD;
	o = obj_from_handle(c, ho);
	if (!o || !obj_visible(c, o))
		return CKR_OBJECT_HANDLE_INVALID;
	/* §5.7: every attribute is processed; the result is one of the per-attribute errors if
	 * any applied (the first one met). */
	rv = CKR_OK;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_ATTRIBUTE *t = &tmpl[i];
		const struct attr *at = attrs_find(&o->a, t->type);
		CK_RV err = CKR_OK;

		if (!at) {
			t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			err = CKR_ATTRIBUTE_TYPE_INVALID;
		} else if (attr_is_sensitive(&o->a, t->type)) {
			t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
			err = CKR_ATTRIBUTE_SENSITIVE;
		} else if (attr_kind(t->type) == ATTR_KIND_TEMPLATE) {
			err = get_template(t, at);
		} else {
			err = get_value(t, at->val, at->len);
		}
		if (err != CKR_OK && rv == CKR_OK)
			rv = err;
	}
	return rv;
}

CK_RV obj_destroy(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho)
{
	struct sess *s = NULL;
	struct obj *o = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	o = obj_from_handle(c, ho);
	if (!o || !obj_visible(c, o))
		return CKR_OBJECT_HANDLE_INVALID;
	if (obj_is_token(o) && !s->rw)
		return CKR_SESSION_READ_ONLY;
	if (!attrs_get_bool(&o->a, CKA_DESTROYABLE))
		return CKR_ACTION_PROHIBITED;
	if (obj_is_token(o)) {
		rv = store_obj_remove(c->ta, o->oid);
		if (rv != CKR_OK)
			return rv;
	}
	obj_unlink_free(c->ta, o);
	return CKR_OK;
}

CK_RV obj_check_create(const struct sess *s, const struct attrs *a)
{
	if (attrs_get_bool(a, CKA_TOKEN) && !s->rw)
		return CKR_SESSION_READ_ONLY;
	if (attrs_get_bool(a, CKA_PRIVATE) && s->c->login != TA_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;
	/* §4.8: only the SO can mark a key trusted. */
	if (attrs_get_bool(a, CKA_TRUSTED) && s->c->login != TA_LOGIN_SO)
		return CKR_ATTRIBUTE_READ_ONLY;
	return CKR_OK;
}

/* Apply the template entries to the attribute list na of a copy (copy) or modification of o,
 * each checked by the class rules against o. A type given twice is CKR_TEMPLATE_INCONSISTENT. */
static CK_RV apply_template(const struct ta_client *c, const struct obj *o, CK_ATTRIBUTE_PTR tmpl,
			    CK_ULONG n, bool copy, struct attrs *na)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	if ((n && !tmpl) || n > ATTR_MAX_TEMPLATE)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; i < n; i++) {
		for (CK_ULONG j = 0; j < i; j++) {
			if (tmpl[j].type == tmpl[i].type)
				return CKR_TEMPLATE_INCONSISTENT;
		}
		rv = attr_check_modify(&o->a, &tmpl[i], copy, c->login == TA_LOGIN_SO);
		if (rv != CKR_OK)
			return rv;
		rv = attrs_set(na, tmpl[i].type, tmpl[i].pValue, tmpl[i].ulValueLen);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

CK_RV obj_copy(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
	       CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph)
{
	struct sess *s = NULL;
	struct obj *o = NULL;
	struct attrs na = { 0 };
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!ph)
		return CKR_ARGUMENTS_BAD;
	*ph = CK_INVALID_HANDLE;
	o = obj_from_handle(c, ho);
	if (!o || !obj_visible(c, o))
		return CKR_OBJECT_HANDLE_INVALID;
	if (!attrs_get_bool(&o->a, CKA_COPYABLE))
		return CKR_ACTION_PROHIBITED;
	rv = attrs_copy(&o->a, &na);
	if (rv != CKR_OK)
		goto out;
	rv = apply_template(c, o, tmpl, n, true, &na);
	if (rv != CKR_OK)
		goto out;
	/* The copy is a new object: the creation rights apply to it as it will be. */
	rv = obj_add(c, s, &na, ph);
out:
	attrs_free(&na);
	return rv;
}

CK_RV obj_get_size(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
		   CK_ULONG_PTR size)
{
	struct sess *s = NULL;
	struct obj *o = NULL;
	struct buf *b = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!size)
		return CKR_ARGUMENTS_BAD;
	o = obj_from_handle(c, ho);
	if (!o || !obj_visible(c, o))
		return CKR_OBJECT_HANDLE_INVALID;
	/* The size of the encoded attributes (what the store seals, before its fixed overhead).
	 * It says no more about a sensitive key than its type and size already do. */
	rv = attrs_serialize(&o->a, &b);
	if (rv != CKR_OK)
		return rv;
	*size = (CK_ULONG)b->len;
	buf_free(b);
	return CKR_OK;
}

CK_RV obj_set_attribute_value(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
			      CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct sess *s = NULL;
	struct obj *o = NULL;
	struct obj tmp;
	struct attrs na = { 0 };
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	o = obj_from_handle(c, ho);
	if (!o || !obj_visible(c, o))
		return CKR_OBJECT_HANDLE_INVALID;
	if (obj_is_token(o) && !s->rw)
		return CKR_SESSION_READ_ONLY;
	if (!attrs_get_bool(&o->a, CKA_MODIFIABLE))
		return CKR_ACTION_PROHIBITED;
	/* §4.6.2: "Trusted certificates cannot be modified." */
	if (attrs_get_bool(&o->a, CKA_TRUSTED) && attrs_find(&o->a, CKA_CERTIFICATE_TYPE))
		return CKR_ATTRIBUTE_READ_ONLY;
	/* All or nothing: the new list is built and stored aside, then swapped in. */
	rv = attrs_copy(&o->a, &na);
	if (rv != CKR_OK)
		goto out;
	rv = apply_template(c, o, tmpl, n, false, &na);
	if (rv != CKR_OK)
		goto out;
	if (obj_is_token(o)) {
		tmp = *o;
		tmp.a = na;
		rv = store_obj_write(c->ta, &tmp);
		if (rv != CKR_OK)
			goto out;
	}
	find_index_remove(c->ta, o); /* indexed by its old values */
	attrs_free(&o->a);
	o->a = na;
	memset(&na, 0, sizeof(na)); /* the object owns the new list */
	find_index_add(c->ta, o);
	rv = CKR_OK;
out:
	attrs_free(&na);
	return rv;
}
