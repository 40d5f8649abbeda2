/* C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal (§5.7). The matches are taken at Init
 * (by id, so objects destroyed meanwhile are skipped) and handed out in any order.
 *
 * Every object is in memory (decrypted once, at open), so Init is one pass over them with no
 * store access. C_FindObjects resolves the ids of a batch in one pass too, rather than one
 * lookup per id, so that handing out n matches costs O(n) rather than O(n^2).
 * XXX: an attribute index (class, id, label, key type -> objects) needs hooks where objects are
 * linked, unlinked and modified (obj.c, token.c); with the list scan, Init over 10,000 objects
 * takes a few milliseconds. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

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
	size_t total = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (s->find.active)
		return CKR_OPERATION_ACTIVE;
	rv = attrs_from_search_template(tmpl, n, &want);
	if (rv != CKR_OK)
		goto out;
	for (const struct obj *o = c->ta->objs; o; o = o->next)
		total++;
	f.oids = calloc(total ? total : 1, sizeof(*f.oids));
	if (!f.oids) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (const struct obj *o = c->ta->objs; o; o = o->next) {
		if (obj_visible(c, o) && attrs_match(&o->a, &want))
			f.oids[f.n++] = o->oid;
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
