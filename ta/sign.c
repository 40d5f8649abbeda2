/* C_SignInit, C_Sign, C_SignUpdate, C_SignFinal (PKCS#11 v2.40 §5.11): operation state here,
 * the crypto in processing_*.c. Except for a size query or CKR_BUFFER_TOO_SMALL, a call that
 * returns an error ends the active operation. */
#include <string.h>

#include "common/log.h"
#include "mech.h"
#include "port/crypto.h"
#include "processing.h"

void sign_op_end(struct sign_op *op)
{
	port_hash_free(op->hash);
	memset(op, 0, sizeof(*op));
}

CK_RV sign_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hk)
{
	const struct mech_info *mi = NULL;
	struct sign_op op = { 0 };
	struct obj *key = NULL;
	struct sess *s = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!m)
		return CKR_ARGUMENTS_BAD;
	if (s->sign.active)
		return CKR_OPERATION_ACTIVE;
	/* The one policy check: nothing below runs unless it passed. */
	rv = mech_check_key_use(c, m, CKF_SIGN, hk, &mi, &key);
	if (rv != CKR_OK)
		goto out;
	op.mech = mi;
	op.key_oid = key->oid;
	op.need_auth = attrs_get_bool(&key->a, CKA_ALWAYS_AUTHENTICATE);
	switch (mi->family) {
	case MECH_FAMILY_EC:
		rv = proc_ec_sign_init(&op, key);
		break;
	default:
		rv = CKR_MECHANISM_INVALID;
		break;
	}
	if (rv != CKR_OK)
		goto out;
	op.active = true;
	s->sign = op;
	memset(&op, 0, sizeof(op)); /* the session owns it now */
	rv = CKR_OK;
out:
	sign_op_end(&op);
	return rv;
}

/* The key of an active operation, checked again: it may have been destroyed, or the login may
 * have changed, since C_SignInit. */
static CK_RV op_key(struct ta_client *c, const struct sign_op *op, struct obj **key)
{
	struct obj *o = obj_by_oid(c->ta, op->key_oid);

	*key = NULL;
	if (!o || (o->owner && o->owner->c != c))
		return CKR_KEY_HANDLE_INVALID;
	if (obj_is_private(o) && c->login != TA_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;
	if (op->need_auth)
		return CKR_USER_NOT_LOGGED_IN;
	*key = o;
	return CKR_OK;
}

static CK_ULONG sig_len_of(const struct sign_op *op, const struct obj *key)
{
	switch (op->mech->family) {
	case MECH_FAMILY_EC:
		return proc_ec_sig_len(key);
	}
	return 0;
}

static CK_RV finish(struct sign_op *op, const struct obj *key, bool oneshot, const uint8_t *data,
		    CK_ULONG len, uint8_t *sig)
{
	switch (op->mech->family) {
	case MECH_FAMILY_EC:
		return proc_ec_sign_final(op, key, oneshot, data, len, sig);
	}
	return CKR_GENERAL_ERROR;
}

/* The size-query and buffer rules of §5.2 for an output of need bytes: CKR_OK to go on,
 * otherwise the value to return with the operation left active (*done set). */
static CK_RV output_rules(uint8_t *out, CK_ULONG_PTR out_len, CK_ULONG need, bool *done)
{
	*done = false;
	if (!out) {
		*out_len = need;
		*done = true;
		return CKR_OK;
	}
	if (*out_len < need) {
		*out_len = need;
		*done = true;
		return CKR_BUFFER_TOO_SMALL;
	}
	return CKR_OK;
}

CK_RV sign_oneshot(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *data, CK_ULONG len,
		   uint8_t *sig, CK_ULONG_PTR sig_len)
{
	struct obj *key = NULL;
	struct sess *s = NULL;
	CK_ULONG need = 0;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!s->sign.active)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!sig_len || (!data && len)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	/* C_Sign cannot finish a multi-part operation (as OP-TEE's TA answers). */
	if (s->sign.updated) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	rv = op_key(c, &s->sign, &key);
	if (rv != CKR_OK)
		goto out;
	if (s->sign.mech->family == MECH_FAMILY_EC) {
		rv = proc_ec_check_data(&s->sign, len);
		if (rv != CKR_OK)
			goto out;
	}
	need = sig_len_of(&s->sign, key);
	if (!need) {
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	rv = output_rules(sig, sig_len, need, &done);
	if (done)
		return rv;
	rv = finish(&s->sign, key, true, data, len, sig);
	if (rv == CKR_OK)
		*sig_len = need;
out:
	sign_op_end(&s->sign);
	return rv;
}

CK_RV sign_update(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *part, CK_ULONG len)
{
	struct obj *key = NULL;
	struct sess *s = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!s->sign.active)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!part && len) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->sign.mech->single_part) {
		rv = CKR_FUNCTION_NOT_SUPPORTED;
		goto out;
	}
	rv = op_key(c, &s->sign, &key);
	if (rv != CKR_OK)
		goto out;
	switch (s->sign.mech->family) {
	case MECH_FAMILY_EC:
		rv = proc_ec_sign_update(&s->sign, part, len);
		break;
	}
	if (rv != CKR_OK)
		goto out;
	s->sign.updated = true;
	return CKR_OK;
out:
	sign_op_end(&s->sign);
	return rv;
}

CK_RV sign_final(struct ta_client *c, CK_SESSION_HANDLE hs, uint8_t *sig, CK_ULONG_PTR sig_len)
{
	struct obj *key = NULL;
	struct sess *s = NULL;
	CK_ULONG need = 0;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!s->sign.active)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!sig_len) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (s->sign.mech->single_part) {
		rv = CKR_FUNCTION_NOT_SUPPORTED;
		goto out;
	}
	rv = op_key(c, &s->sign, &key);
	if (rv != CKR_OK)
		goto out;
	need = sig_len_of(&s->sign, key);
	if (!need) {
		rv = CKR_GENERAL_ERROR;
		goto out;
	}
	rv = output_rules(sig, sig_len, need, &done);
	if (done)
		return rv;
	rv = finish(&s->sign, key, false, NULL, 0, sig);
	if (rv == CKR_OK)
		*sig_len = need;
out:
	sign_op_end(&s->sign);
	return rv;
}
