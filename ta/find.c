/* C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal (§5.7). The matches are taken at Init
 * (by id, so objects destroyed meanwhile are skipped) and handed out in any order. */
#include <stdlib.h>

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

CK_RV find_next(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
		CK_ULONG_PTR got)
{
	struct sess *s = NULL;
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
	while (k < max && s->find.pos < s->find.n) {
		const struct obj *o = obj_by_oid(c->ta, s->find.oids[s->find.pos]);

		/* Visibility again: the user may have logged out since Init. */
		if (o && obj_visible(c, o)) {
			rv = obj_handle(c, o, &out[k]);
			if (rv != CKR_OK)
				return rv;
			k++;
		}
		s->find.pos++;
	}
	*got = k;
	return CKR_OK;
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
