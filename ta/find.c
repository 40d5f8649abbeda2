/* C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal (§5.7), and the attribute index that
 * makes the common searches cheap. The matches are taken at Init (by id, so objects destroyed
 * meanwhile are skipped) and handed out in any order.
 *
 * Every object is in memory (decrypted once, at open), so no search touches the store. The
 * index maps (type, value) of CKA_CLASS, CKA_KEY_TYPE, CKA_ID and CKA_LABEL to the objects
 * having it: a template naming any of these is matched against the smallest such list only,
 * every candidate still checked with attrs_match and obj_visible, so the index narrows a search
 * but never decides it. Templates without an indexed type scan the list. C_FindObjects resolves
 * a batch of ids in one pass, so handing out n matches costs O(n), not O(n^2).
 *
 * The index is kept by hooks where objects are linked, unlinked and modified (see core.h); it
 * exists only once the first object has been added through find_index_add, so a core without
 * the hooks scans. After an allocation failure or an inconsistency it is rebuilt from the
 * object list at the next search. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* The indexed attribute types: public, small, and what applications search by. */
static const CK_ATTRIBUTE_TYPE indexed[] = { CKA_CLASS, CKA_KEY_TYPE, CKA_ID, CKA_LABEL };
#define NINDEXED (sizeof(indexed) / sizeof(indexed[0]))

/* The objects with one (type, value); a chain per hash bucket. */
struct posting {
	struct posting *next;
	uint64_t hash;
	CK_ATTRIBUTE_TYPE type;
	uint8_t *val;
	size_t len;
	const struct obj **v;
	size_t n;
	size_t cap;
};

struct find_index {
	struct posting **b;
	size_t nb; /* a power of two */
	size_t np;
	bool broken; /* rebuild from the object list before the next use */
};

static bool is_indexed(CK_ATTRIBUTE_TYPE t)
{
	for (size_t i = 0; i < NINDEXED; i++) {
		if (indexed[i] == t)
			return true;
	}
	return false;
}

static uint64_t key_hash(CK_ATTRIBUTE_TYPE t, const uint8_t *val, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)t; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ val[i]) * 0x100000001b3ULL;
	return h;
}

/* The posting of (t, val), or NULL; with create, a new empty one (NULL when out of memory). */
static struct posting *posting_get(struct find_index *x, CK_ATTRIBUTE_TYPE t, const uint8_t *val,
				   size_t len, bool create)
{
	uint64_t h = key_hash(t, val, len);
	struct posting **pp = &x->b[h & (x->nb - 1)];
	struct posting *p = NULL;

	for (p = *pp; p; p = p->next) {
		if (p->hash == h && p->type == t && p->len == len &&
		    (len == 0 || memcmp(p->val, val, len) == 0))
			return p;
	}
	if (!create)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->val = malloc(len ? len : 1);
	if (!p->val) {
		free(p);
		return NULL;
	}
	if (len)
		memcpy(p->val, val, len);
	p->hash = h;
	p->type = t;
	p->len = len;
	p->next = *pp;
	*pp = p;
	x->np++;
	return p;
}

static void posting_free(struct posting *p)
{
	free(p->val);
	free(p->v);
	free(p);
}

static void index_clear(struct find_index *x)
{
	for (size_t i = 0; i < x->nb; i++) {
		while (x->b[i]) {
			struct posting *p = x->b[i];

			x->b[i] = p->next;
			posting_free(p);
		}
	}
	x->np = 0;
}

/* Double the buckets when there are more postings than buckets; failing is harmless. */
static void index_grow(struct find_index *x)
{
	size_t nb = x->nb * 2;
	struct posting **b = NULL;

	if (x->np <= x->nb)
		return;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < x->nb; i++) {
		while (x->b[i]) {
			struct posting *p = x->b[i];

			x->b[i] = p->next;
			p->next = b[p->hash & (nb - 1)];
			b[p->hash & (nb - 1)] = p;
		}
	}
	free(x->b);
	x->b = b;
	x->nb = nb;
}

static int index_add(struct find_index *x, const struct obj *o)
{
	for (size_t i = 0; i < NINDEXED; i++) {
		const struct attr *at = attrs_find(&o->a, indexed[i]);
		struct posting *p = NULL;

		if (!at)
			continue;
		p = posting_get(x, at->type, at->val, at->len, true);
		if (!p)
			return -1;
		if (p->n == p->cap) {
			size_t cap = p->cap ? 2 * p->cap : 4;
			const struct obj **v = reallocarray(p->v, cap, sizeof(*v));

			if (!v)
				return -1;
			p->v = v;
			p->cap = cap;
		}
		p->v[p->n++] = o;
	}
	index_grow(x);
	return 0;
}

void find_index_add(struct ta *ta, const struct obj *o)
{
	struct find_index *x = ta->fidx;

	if (!x && !ta->fidx_started) {
		/* The first object: from now on every object passes through here. */
		ta->fidx_started = true;
		x = calloc(1, sizeof(*x));
		if (x) {
			x->nb = 64;
			x->b = calloc(x->nb, sizeof(*x->b));
			if (!x->b) {
				free(x);
				x = NULL;
			}
		}
		ta->fidx = x;
	}
	if (!x)
		return; /* no index: searches scan */
	if (!x->broken && index_add(x, o) != 0)
		x->broken = true;
}

void find_index_remove(struct ta *ta, const struct obj *o)
{
	struct find_index *x = ta->fidx;

	if (!x || x->broken)
		return;
	for (size_t i = 0; i < NINDEXED; i++) {
		const struct attr *at = attrs_find(&o->a, indexed[i]);
		struct posting *p = NULL;
		size_t k = 0;

		if (!at)
			continue;
		p = posting_get(x, at->type, at->val, at->len, false);
		for (k = 0; p && k < p->n && p->v[k] != o; k++)
			;
		if (!p || k == p->n) {
			/* Changed without passing through here: start again from the list. */
			x->broken = true;
			return;
		}
		p->v[k] = p->v[--p->n];
		if (p->n == 0) {
			struct posting **pp = &x->b[p->hash & (x->nb - 1)];

			while (*pp != p)
				pp = &(*pp)->next;
			*pp = p->next;
			posting_free(p);
			x->np--;
		}
	}
}

void find_index_free(struct ta *ta)
{
	struct find_index *x = ta->fidx;

	if (!x)
		return;
	index_clear(x);
	free(x->b);
	free(x);
	ta->fidx = NULL;
}

/* The index, rebuilt from the object list if it had to be given up; NULL when there is none. */
static struct find_index *index_ready(struct ta *ta)
{
	struct find_index *x = ta->fidx;

	if (!x || !x->broken)
		return x;
	index_clear(x);
	x->broken = false;
	for (const struct obj *o = ta->objs; o; o = o->next) {
		if (index_add(x, o) != 0) {
			x->broken = true;
			return NULL;
		}
	}
	return x;
}

/* The candidates for want: from the smallest posting of an indexed type of want (*n = 0 when
 * some indexed value of want is on no object), or *all = true to scan every object. */
static void candidates(struct ta *ta, const struct attrs *want, const struct obj *const **v,
		       size_t *n, bool *all)
{
	struct find_index *x = index_ready(ta);
	const struct posting *best = NULL;

	*v = NULL;
	*n = 0;
	*all = true;
	if (!x)
		return;
	for (size_t i = 0; i < want->n; i++) {
		const struct attr *w = &want->v[i];
		const struct posting *p = NULL;

		if (!is_indexed(w->type))
			continue;
		p = posting_get(x, w->type, w->val, w->len, false);
		*all = false;
		if (!p)
			return; /* no object has this value */
		if (!best || p->n < best->n)
			best = p;
	}
	if (best) {
		*v = best->v;
		*n = best->n;
	}
}

void find_op_end(struct find_op *f)
{
	free(f->oids);
	f->oids = NULL;
	f->n = 0;
	f->pos = 0;
	f->active = false;
}

CK_RV find_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct attrs want = { 0 };
	struct find_op f = { 0 };
	struct sess *s = NULL;
	const struct obj *const *cand = NULL;
	size_t total = 0;
	bool all = true;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (s->find.active)
		return CKR_OPERATION_ACTIVE;
	rv = attrs_from_search_template(tmpl, n, &want);
	if (rv != CKR_OK)
		goto out;
	candidates(c->ta, &want, &cand, &total, &all);
	if (all) {
		total = 0;
		for (const struct obj *o = c->ta->objs; o; o = o->next)
			total++;
	}
	f.oids = calloc(total ? total : 1, sizeof(*f.oids));
	if (!f.oids) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	if (all) {
		for (const struct obj *o = c->ta->objs; o; o = o->next) {
			if (obj_visible(c, o) && attrs_match(&o->a, &want))
				f.oids[f.n++] = o->oid;
		}
	} else {
		for (size_t i = 0; i < total; i++) {
			if (obj_visible(c, cand[i]) && attrs_match(&cand[i]->a, &want))
				f.oids[f.n++] = cand[i]->oid;
		}
	}
	f.active = true;
	s->find = f;
	f.oids = NULL; /* the session owns it now */
	rv = CKR_OK;
out:
	free(f.oids);
	attrs_free(&want);
	return rv;
}

/* Resolve the ids ids[0..n) to objects in one pass over the object list: out[i] is the object
 * with id ids[i], or NULL when it is gone. */
static CK_RV resolve(const struct ta *ta, const uint64_t *ids, size_t n, const struct obj **out)
{
	size_t cap = 16;
	size_t *slot = NULL;

	while (cap < 2 * n)
		cap *= 2;
	/* An open-addressing table of positions + 1 (0 = empty), keyed by id. */
	slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < n; i++) {
		size_t k = (size_t)(ids[i] * 0x9e3779b97f4a7c15ULL) & (cap - 1);

		out[i] = NULL;
		while (slot[k])
			k = (k + 1) & (cap - 1);
		slot[k] = i + 1;
	}
	for (const struct obj *o = ta->objs; o; o = o->next) {
		size_t k = (size_t)(o->oid * 0x9e3779b97f4a7c15ULL) & (cap - 1);

		for (; slot[k]; k = (k + 1) & (cap - 1)) {
			if (ids[slot[k] - 1] == o->oid) {
				out[slot[k] - 1] = o;
				break;
			}
		}
	}
	free(slot);
	return CKR_OK;
}

CK_RV find_next(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
		CK_ULONG_PTR got)
{
	struct sess *s = NULL;
	const struct obj **batch = NULL;
	CK_ULONG k = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!got || (!out && max))
		return CKR_ARGUMENTS_BAD;
	*got = 0;
	if (!s->find.active)
		return CKR_OPERATION_NOT_INITIALIZED;
	rv = CKR_OK;
	while (k < max && s->find.pos < s->find.n) {
		size_t w = s->find.n - s->find.pos;
		size_t i = 0;

		if (w > max - k)
			w = max - k;
		batch = calloc(w, sizeof(*batch));
		if (!batch) {
			rv = CKR_HOST_MEMORY;
			break;
		}
		rv = resolve(c->ta, s->find.oids + s->find.pos, w, batch);
		for (i = 0; rv == CKR_OK && i < w; i++) {
			/* Visibility again: the user may have logged out since Init. */
			if (batch[i] && obj_visible(c, batch[i])) {
				rv = obj_handle(c, batch[i], &out[k]);
				if (rv != CKR_OK)
					break;
				k++;
			}
		}
		/* On an error the ids not handed out stay for the next call. */
		s->find.pos += i;
		free(batch);
		batch = NULL;
		if (rv != CKR_OK)
			break;
	}
	*got = k;
	return rv;
}

CK_RV find_final(struct ta_client *c, CK_SESSION_HANDLE hs)
{
	struct sess *s = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!s->find.active)
		return CKR_OPERATION_NOT_INITIALIZED;
	find_op_end(&s->find);
	return CKR_OK;
}
