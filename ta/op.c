/* The cryptographic operations of PKCS#11 v2.40 §5.8-§5.13: encrypt, decrypt, digest, sign and
 * verify share one state machine here, the crypto is in processing_*.c.
 *  - one active operation of each kind per session (CKR_OPERATION_ACTIVE at a second *Init);
 *  - a call without an active operation: CKR_OPERATION_NOT_INITIALIZED;
 *  - a size query (NULL output) or CKR_BUFFER_TOO_SMALL leaves the operation active, as does a
 *    successful update; any other return of a single-part or final call, and any error, ends it;
 *  - a single-part call after an update cannot finish the multi-part operation: it ends it with
 *    CKR_OPERATION_ACTIVE (as OP-TEE's TA answers);
 *  - the key is looked up again at every call: it may have been destroyed, or the login may have
 *    ended, since the *Init; a CKA_ALWAYS_AUTHENTICATE key waits for C_Login(CONTEXT_SPECIFIC).
 */
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "mech.h"
#include "processing.h"

void op_end(struct op *op)
{
	if (op->ctx && op->ctx_free)
		op->ctx_free(op->ctx);
	memset(op, 0, sizeof(*op));
}

static struct op *op_of(struct sess *s, enum op_kind kind)
{
	switch (kind) {
	case OP_ENCRYPT:
		return &s->encrypt;
	case OP_DECRYPT:
		return &s->decrypt;
	case OP_DIGEST:
		return &s->digest;
	case OP_SIGN:
		return &s->sign;
	case OP_VERIFY:
		return &s->verify;
	}
	return NULL;
}

static const enum op_kind all_kinds[] = { OP_ENCRYPT, OP_DECRYPT, OP_DIGEST, OP_SIGN, OP_VERIFY };

void op_end_all(struct sess *s)
{
	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++)
		op_end(op_of(s, all_kinds[i]));
}

void op_end_private(struct ta_client *c, struct sess *s)
{
	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++) {
		struct op *op = op_of(s, all_kinds[i]);
		const struct obj *key = NULL;

		if (!op->active || !op->key_oid)
			continue;
		key = obj_by_oid(c->ta, op->key_oid);
		if (!key || obj_is_private(key))
			op_end(op);
	}
}

struct op *op_pending_auth(struct sess *s)
{
	for (size_t i = 0; i < sizeof(all_kinds) / sizeof(all_kinds[0]); i++) {
		struct op *op = op_of(s, all_kinds[i]);

		if (op->active && op->need_auth)
			return op;
	}
	return NULL;
}

static const struct proc_family *family_of(const struct mech_info *mi)
{
	switch (mi->family) {
	case MECH_FAMILY_DIGEST:
		return &proc_digest_family;
	case MECH_FAMILY_RSA:
		return &proc_rsa_family;
	case MECH_FAMILY_EC:
		return &proc_ec_family;
	case MECH_FAMILY_EDDSA:
		return &proc_eddsa_family;
	case MECH_FAMILY_AES:
		return &proc_aes_family;
	case MECH_FAMILY_MAC:
		return &proc_mac_family;
	}
	return NULL;
}

CK_RV proc_output(struct op_io *io, CK_ULONG need, bool *done)
{
	*done = false;
	if (!io->out) {
		*io->out_len = need;
		*done = true;
		return CKR_OK;
	}
	if (*io->out_len < need) {
		*io->out_len = need;
		*done = true;
		return CKR_BUFFER_TOO_SMALL;
	}
	return CKR_OK;
}

const uint8_t *proc_attr(const struct obj *key, CK_ATTRIBUTE_TYPE t, size_t *len)
{
	const struct attr *a = attrs_find(&key->a, t);

	*len = a ? a->len : 0;
	return a && a->len ? a->val : NULL;
}

static CK_FLAGS use_of(enum op_kind kind)
{
	switch (kind) {
	case OP_ENCRYPT:
		return CKF_ENCRYPT;
	case OP_DECRYPT:
		return CKF_DECRYPT;
	case OP_DIGEST:
		return CKF_DIGEST;
	case OP_SIGN:
		return CKF_SIGN;
	case OP_VERIFY:
		return CKF_VERIFY;
	}
	return 0;
}

/* *Init of every kind: the one policy check, then the family's setup. */
static CK_RV op_init(struct ta_client *c, CK_SESSION_HANDLE hs, enum op_kind kind,
		     const CK_MECHANISM *m, CK_OBJECT_HANDLE hk)
{
	const struct mech_info *mi = NULL;
	struct op op = { 0 };
	struct obj *key = NULL;
	struct sess *s = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		return rv;
	if (!m)
		return CKR_ARGUMENTS_BAD;
	if (op_of(s, kind)->active)
		return CKR_OPERATION_ACTIVE;
	/* The one policy check: nothing below runs unless it passed. */
	if (kind == OP_DIGEST)
		rv = mech_check(m, CKF_DIGEST, &mi);
	else
		rv = mech_check_key_use(c, m, use_of(kind), hk, &mi, &key);
	if (rv != CKR_OK)
		goto out;
	op.kind = kind;
	op.mech = mi;
	if (key) {
		op.key_oid = key->oid;
		op.need_auth = attrs_get_bool(&key->a, CKA_ALWAYS_AUTHENTICATE);
	}
	rv = family_of(mi)->init(&op, m, key);
	if (rv != CKR_OK)
		goto out;
	op.active = true;
	*op_of(s, kind) = op;
	memset(&op, 0, sizeof(op)); /* the session owns it now */
	rv = CKR_OK;
out:
	op_end(&op);
	return rv;
}

/* The key of an active operation, checked again. */
static CK_RV op_key(struct ta_client *c, const struct op *op, struct obj **key)
{
	struct obj *o = NULL;

	*key = NULL;
	if (!op->key_oid)
		return CKR_OK;
	o = obj_by_oid(c->ta, op->key_oid);
	if (!o || (o->owner && o->owner->c != c))
		return CKR_KEY_HANDLE_INVALID;
	if (obj_is_private(o) && c->login != TA_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;
	if (op->need_auth)
		return CKR_USER_NOT_LOGGED_IN;
	*key = o;
	return CKR_OK;
}

/* Does this call of kind produce output (and so may be a size query)? */
static bool produces(enum op_kind kind, enum op_step st)
{
	switch (kind) {
	case OP_ENCRYPT:
	case OP_DECRYPT:
		return true;
	case OP_DIGEST:
	case OP_SIGN:
		return st != OP_STEP_UPDATE;
	case OP_VERIFY:
		return false;
	}
	return false;
}

/* One call on an operation already found active on s. */
static CK_RV op_run(struct ta_client *c, struct op *op, enum op_step st, struct op_io *io)
{
	struct obj *key = NULL;
	bool out = produces(op->kind, st);
	bool keep = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if ((!io->in && io->in_len) || (out && !io->out_len) || (!io->sig && io->sig_len)) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (st == OP_STEP_ONESHOT && op->updated) {
		rv = CKR_OPERATION_ACTIVE;
		goto out;
	}
	if (st != OP_STEP_ONESHOT && op->mech->single_part) {
		rv = CKR_FUNCTION_NOT_SUPPORTED;
		goto out;
	}
	rv = op_key(c, op, &key);
	if (rv != CKR_OK)
		goto out;
	rv = family_of(op->mech)->step(op, key, st, io);
	if (rv == CKR_BUFFER_TOO_SMALL)
		return rv;
	if (rv == CKR_OK && out && !io->out)
		return rv; /* a size query */
	if (rv == CKR_OK && st == OP_STEP_UPDATE) {
		op->updated = true;
		keep = true;
	}
out:
	if (!keep)
		op_end(op);
	return rv;
}

/* Find the active operation of kind on session hs, then run one call. */
static CK_RV op_call(struct ta_client *c, CK_SESSION_HANDLE hs, enum op_kind kind, enum op_step st,
		     struct op_io *io)
{
	struct sess *s = NULL;
	struct op *op = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	if (rv != CKR_OK)
		return rv;
	op = op_of(s, kind);
	if (!op->active)
		return CKR_OPERATION_NOT_INITIALIZED;
	return op_run(c, op, st, io);
}

/* --- the entry points --- */

CK_RV sign_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hk)
{
	return op_init(c, hs, OP_SIGN, m, hk);
}

CK_RV sign_oneshot(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *data, CK_ULONG len,
		   uint8_t *sig, CK_ULONG_PTR sig_len)
{
	struct op_io io = { .in = data, .in_len = len, .out = sig, .out_len = sig_len };

	return op_call(c, hs, OP_SIGN, OP_STEP_ONESHOT, &io);
}

CK_RV sign_update(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *part, CK_ULONG len)
{
	struct op_io io = { .in = part, .in_len = len };

	return op_call(c, hs, OP_SIGN, OP_STEP_UPDATE, &io);
}

CK_RV sign_final(struct ta_client *c, CK_SESSION_HANDLE hs, uint8_t *sig, CK_ULONG_PTR sig_len)
{
	struct op_io io = { .out = sig, .out_len = sig_len };

	return op_call(c, hs, OP_SIGN, OP_STEP_FINAL, &io);
}

CK_RV op_verify_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		     CK_OBJECT_HANDLE hk)
{
	return op_init(c, hs, OP_VERIFY, m, hk);
}

CK_RV op_verify(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR data, CK_ULONG len,
		CK_BYTE_PTR sig, CK_ULONG sig_len)
{
	struct op_io io = { .in = data, .in_len = len, .sig = sig, .sig_len = sig_len };

	return op_call(c, hs, OP_VERIFY, OP_STEP_ONESHOT, &io);
}

CK_RV op_verify_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len)
{
	struct op_io io = { .in = in, .in_len = in_len };

	return op_call(c, hs, OP_VERIFY, OP_STEP_UPDATE, &io);
}

CK_RV op_verify_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR sig, CK_ULONG sig_len)
{
	struct op_io io = { .sig = sig, .sig_len = sig_len };

	return op_call(c, hs, OP_VERIFY, OP_STEP_FINAL, &io);
}

CK_RV op_encrypt_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		      CK_OBJECT_HANDLE hk)
{
	return op_init(c, hs, OP_ENCRYPT, m, hk);
}

CK_RV op_encrypt(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
		 CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct op_io io = { .in = in, .in_len = in_len, .out = out, .out_len = out_len };

	return op_call(c, hs, OP_ENCRYPT, OP_STEP_ONESHOT, &io);
}

CK_RV op_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
			CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct op_io io = { .in = in, .in_len = in_len, .out = out, .out_len = out_len };

	return op_call(c, hs, OP_ENCRYPT, OP_STEP_UPDATE, &io);
}

CK_RV op_encrypt_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR out,
		       CK_ULONG_PTR out_len)
{
	struct op_io io = { .out = out, .out_len = out_len };

	return op_call(c, hs, OP_ENCRYPT, OP_STEP_FINAL, &io);
}

CK_RV op_decrypt_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		      CK_OBJECT_HANDLE hk)
{
	return op_init(c, hs, OP_DECRYPT, m, hk);
}

CK_RV op_decrypt(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
		 CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct op_io io = { .in = in, .in_len = in_len, .out = out, .out_len = out_len };

	return op_call(c, hs, OP_DECRYPT, OP_STEP_ONESHOT, &io);
}

CK_RV op_decrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
			CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct op_io io = { .in = in, .in_len = in_len, .out = out, .out_len = out_len };

	return op_call(c, hs, OP_DECRYPT, OP_STEP_UPDATE, &io);
}

CK_RV op_decrypt_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR out,
		       CK_ULONG_PTR out_len)
{
	struct op_io io = { .out = out, .out_len = out_len };

	return op_call(c, hs, OP_DECRYPT, OP_STEP_FINAL, &io);
}

CK_RV op_digest_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m)
{
	return op_init(c, hs, OP_DIGEST, m, CK_INVALID_HANDLE);
}

CK_RV op_digest(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
		CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct op_io io = { .in = in, .in_len = in_len, .out = out, .out_len = out_len };

	return op_call(c, hs, OP_DIGEST, OP_STEP_ONESHOT, &io);
}

CK_RV op_digest_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len)
{
	struct op_io io = { .in = in, .in_len = in_len };

	return op_call(c, hs, OP_DIGEST, OP_STEP_UPDATE, &io);
}

CK_RV op_digest_key(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE hk)
{
	struct op_io io = { 0 };
	struct sess *s = NULL;
	struct obj *key = NULL;
	CK_OBJECT_CLASS cls = 0;
	const struct attr *v = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->digest.active)
		return CKR_OPERATION_NOT_INITIALIZED;
	key = obj_from_handle(c, hk);
	if (!key) {
		rv = CKR_KEY_HANDLE_INVALID;
		goto out;
	}
	if (obj_is_private(key) && c->login != TA_LOGIN_USER) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	v = attrs_find(&key->a, CKA_VALUE);
	if (!attrs_get_ulong(&key->a, CKA_CLASS, &cls) || cls != CKO_SECRET_KEY || !v ||
	    attrs_get_bool(&key->a, CKA_SENSITIVE) || !attrs_get_bool(&key->a, CKA_EXTRACTABLE)) {
		rv = CKR_KEY_INDIGESTIBLE;
		goto out;
	}
	io.in = v->val;
	io.in_len = v->len;
	return op_run(c, &s->digest, OP_STEP_UPDATE, &io);
out:
	op_end(&s->digest);
	return rv;
}

CK_RV op_digest_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR out,
		      CK_ULONG_PTR out_len)
{
	struct op_io io = { .out = out, .out_len = out_len };

	return op_call(c, hs, OP_DIGEST, OP_STEP_FINAL, &io);
}

/* --- recovery: no mechanism has CKF_SIGN_RECOVER or CKF_VERIFY_RECOVER --- */

static CK_RV recover_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	if (rv != CKR_OK)
		return rv;
	if (!m)
		return CKR_ARGUMENTS_BAD;
	return CKR_MECHANISM_INVALID;
}

CK_RV op_sign_recover_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
			   CK_OBJECT_HANDLE hk)
{
	(void)hk;
	return recover_init(c, hs, m);
}

CK_RV op_verify_recover_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
			     CK_OBJECT_HANDLE hk)
{
	(void)hk;
	return recover_init(c, hs, m);
}

CK_RV op_sign_recover(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR data, CK_ULONG len,
		      CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	(void)data;
	(void)len;
	(void)sig;
	(void)sig_len;
	return rv != CKR_OK ? rv : CKR_OPERATION_NOT_INITIALIZED;
}

CK_RV op_verify_recover(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR sig,
			CK_ULONG sig_len, CK_BYTE_PTR data, CK_ULONG_PTR len)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	(void)sig;
	(void)sig_len;
	(void)data;
	(void)len;
	return rv != CKR_OK ? rv : CKR_OPERATION_NOT_INITIALIZED;
}

/* --- §5.13 dual-function updates ---
 * Both operations must be active. The output-producing one runs first, so that a size query or
 * a too small buffer changes neither; the second then consumes the same input (the plaintext:
 * what was encrypted, or what decryption produced). */

static CK_RV dual(struct ta_client *c, CK_SESSION_HANDLE hs, enum op_kind first,
		  enum op_kind second, bool second_gets_output, CK_BYTE_PTR in, CK_ULONG in_len,
		  CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	struct op_io io = { .in = in, .in_len = in_len, .out = out, .out_len = out_len };
	struct op_io io2 = { 0 };
	struct sess *s = NULL;
	struct op *a = NULL;
	struct op *b = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	if (rv != CKR_OK)
		return rv;
	a = op_of(s, first);
	b = op_of(s, second);
	if (!a->active || !b->active)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!out_len) {
		op_end(a);
		op_end(b);
		return CKR_ARGUMENTS_BAD;
	}
	rv = op_run(c, a, OP_STEP_UPDATE, &io);
	if (rv != CKR_OK || !out) {
		if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
			op_end(b);
		return rv;
	}
	io2.in = second_gets_output ? out : in;
	io2.in_len = second_gets_output ? *out_len : in_len;
	rv = op_run(c, b, OP_STEP_UPDATE, &io2);
	if (rv != CKR_OK) {
		if (second_gets_output)
			wipe(out, *out_len); /* no plaintext leaves a failed call */
		op_end(a);
	}
	return rv;
}

CK_RV op_digest_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			       CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return dual(c, hs, OP_ENCRYPT, OP_DIGEST, false, in, in_len, out, out_len);
}

CK_RV op_sign_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			     CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return dual(c, hs, OP_ENCRYPT, OP_SIGN, false, in, in_len, out, out_len);
}

CK_RV op_decrypt_digest_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			       CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return dual(c, hs, OP_DECRYPT, OP_DIGEST, true, in, in_len, out, out_len);
}

CK_RV op_decrypt_verify_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			       CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	return dual(c, hs, OP_DECRYPT, OP_VERIFY, true, in, in_len, out, out_len);
}
