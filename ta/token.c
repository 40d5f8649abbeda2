/* The slot and its one token (§5.5): slot and token information, C_InitToken, C_InitPIN, and
 * C_GenerateRandom (§5.15). */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "core.h"
#include "port/rng.h"

CK_RV token_check_slot(CK_SLOT_ID slot)
{
	return slot == TA_SLOT_ID ? CKR_OK : CKR_SLOT_ID_INVALID;
}

CK_RV token_fresh(struct token *t)
{
	memset(t, 0, sizeof(*t));
	if (port_rng_bytes(t->id, sizeof(t->id)) != 0)
		return CKR_FUNCTION_FAILED;
	memset(t->label, ' ', sizeof(t->label));
	return CKR_OK;
}

CK_RV token_get_slot_list(struct ta_client *c, CK_BBOOL present, CK_SLOT_ID_PTR list,
			  CK_ULONG_PTR count)
{
	(void)c;
	(void)present; /* the token is always present */
	if (!count)
		return CKR_ARGUMENTS_BAD;
	if (!list) {
		*count = 1;
		return CKR_OK;
	}
	if (*count < 1) {
		*count = 1;
		return CKR_BUFFER_TOO_SMALL;
	}
	list[0] = TA_SLOT_ID;
	*count = 1;
	return CKR_OK;
}

CK_RV token_get_slot_info(struct ta_client *c, CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	(void)c;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	rv = token_check_slot(slot);
	if (rv != CKR_OK)
		return rv;
	memset(info, 0, sizeof(*info));
	ta_pad(info->slotDescription, sizeof(info->slotDescription), "teehsm emulated TEE slot");
	ta_pad(info->manufacturerID, sizeof(info->manufacturerID), "teehsm");
	info->flags = CKF_TOKEN_PRESENT | CKF_HW_SLOT;
	info->hardwareVersion.major = 0;
	info->hardwareVersion.minor = 1;
	info->firmwareVersion.major = 0;
	info->firmwareVersion.minor = 1;
	return CKR_OK;
}

CK_RV token_get_token_info(struct ta_client *c, CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	const struct token *t = &c->ta->tok;
	char serial[2 * 8 + 1];
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	rv = token_check_slot(slot);
	if (rv != CKR_OK)
		return rv;
	memset(info, 0, sizeof(*info));
	memcpy(info->label, t->label, sizeof(info->label));
	ta_pad(info->manufacturerID, sizeof(info->manufacturerID), "teehsm");
	ta_pad(info->model, sizeof(info->model), "teehsm-emu");
	for (size_t i = 0; i < 8; i++)
		snprintf(serial + 2 * i, 3, "%02x", t->id[i]);
	ta_pad(info->serialNumber, sizeof(info->serialNumber), serial);
	info->flags = CKF_RNG | CKF_LOGIN_REQUIRED | pin_flags(c->ta);
	if (t->initialized)
		info->flags |= CKF_TOKEN_INITIALIZED;
	if (t->user.set)
		info->flags |= CKF_USER_PIN_INITIALIZED;
	info->ulMaxSessionCount = c->ta->max_sessions;
	info->ulSessionCount = c->nsess;
	info->ulMaxRwSessionCount = c->ta->max_sessions;
	info->ulRwSessionCount = c->nrw;
	info->ulMaxPinLen = TA_PIN_MAX_LEN;
	info->ulMinPinLen = TA_PIN_MIN_LEN;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = 0;
	info->hardwareVersion.minor = 1;
	info->firmwareVersion.major = 0;
	info->firmwareVersion.minor = 1;
	ta_pad(info->utcTime, sizeof(info->utcTime), ""); /* no CKF_CLOCK_ON_TOKEN */
	return CKR_OK;
}

CK_RV token_init_token(struct ta_client *c, CK_SLOT_ID slot, const uint8_t *pin, CK_ULONG len,
		       const uint8_t *label)
{
	struct ta *ta = c->ta;
	struct token t = { 0 };
	struct obj **pp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = token_check_slot(slot);
	if (rv != CKR_OK)
		return rv;
	if (!pin || !label)
		return CKR_ARGUMENTS_BAD;
	if (sess_any_open(ta))
		return CKR_SESSION_EXISTS;
	if (len < TA_PIN_MIN_LEN || len > TA_PIN_MAX_LEN)
		return CKR_PIN_LEN_RANGE;
	if (ta->tok.initialized) {
		rv = pin_verify(ta, true, pin, len);
		if (rv != CKR_OK)
			return rv;
	}
	/* A new token id: once the new record is committed, no file of the old token can ever
	 * authenticate again, even if removing it below fails or is interrupted. */
	rv = token_fresh(&t);
	if (rv != CKR_OK)
		goto out;
	memcpy(t.label, label, sizeof(t.label));
	t.initialized = true;
	rv = pin_make(ta, pin, len, &t.so);
	if (rv != CKR_OK)
		goto out;
	rv = store_token_write(ta, &t);
	if (rv != CKR_OK)
		goto out;
	ta->tok = t;
	pp = &ta->objs;
	while (*pp) {
		struct obj *o = *pp;

		if (!obj_is_token(o)) {
			pp = &o->next;
			continue;
		}
		if (store_obj_remove(ta, o->oid) != CKR_OK)
			log_warn("token: could not remove an object of the old token");
		*pp = o->next;
		find_index_remove(ta, o);
		obj_free(o);
	}
	log_info("token: initialised");
	rv = CKR_OK;
out:
	wipe(&t, sizeof(t));
	return rv;
}

CK_RV token_init_pin(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *pin, CK_ULONG len)
{
	struct ta *ta = c->ta;
	struct sess *s = NULL;
	struct token t = ta->tok;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		goto out;
	if (c->login != TA_LOGIN_SO || !s->rw) {
		rv = CKR_USER_NOT_LOGGED_IN;
		goto out;
	}
	if (!pin) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	rv = pin_make(ta, pin, len, &t.user);
	if (rv != CKR_OK)
		goto out;
	t.user_fails = 0;
	rv = store_token_write(ta, &t);
	if (rv != CKR_OK)
		goto out;
	ta->tok = t;
	log_info("token: user PIN set");
	rv = CKR_OK;
out:
	wipe(&t, sizeof(t));
	return rv;
}

CK_RV token_generate_random(struct ta_client *c, CK_SESSION_HANDLE hs, uint8_t *out, CK_ULONG len)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	if (rv != CKR_OK)
		return rv;
	if (!out && len)
		return CKR_ARGUMENTS_BAD;
	if (len && port_rng_bytes(out, len) != 0)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

CK_RV token_set_pin(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *old_pin,
		    CK_ULONG old_len, const uint8_t *new_pin, CK_ULONG new_len)
{
	struct ta *ta = c->ta;
	struct sess *s = NULL;
	struct token t = { 0 };
	bool so = c->login == TA_LOGIN_SO;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = sess_get(c, hs, &s);
	if (rv != CKR_OK)
		goto out;
	if (!old_pin || !new_pin) {
		rv = CKR_ARGUMENTS_BAD;
		goto out;
	}
	if (!s->rw) {
		rv = CKR_SESSION_READ_ONLY;
		goto out;
	}
	/* A new PIN this token can never accept is refused before the old one is tried, so the
	 * mistake costs no attempt. */
	if (new_len < TA_PIN_MIN_LEN || new_len > TA_PIN_MAX_LEN) {
		rv = CKR_PIN_LEN_RANGE;
		goto out;
	}
	/* §5.6: the SO's PIN when the SO is logged in, otherwise (user or public session) the
	 * user's; the old PIN is checked, and counted, like a C_Login. */
	rv = pin_verify(ta, so, old_pin, old_len);
	if (rv != CKR_OK)
		goto out;
	t = ta->tok;
	rv = pin_make(ta, new_pin, new_len, so ? &t.so : &t.user);
	if (rv != CKR_OK)
		goto out;
	rv = store_token_write(ta, &t);
	if (rv != CKR_OK)
		goto out;
	ta->tok = t;
	log_info("token: %s PIN changed", so ? "SO" : "user");
	rv = CKR_OK;
out:
	wipe(&t, sizeof(t));
	return rv;
}

CK_RV token_seed_random(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *seed,
			CK_ULONG len)
{
	struct sess *s = NULL;
	CK_RV rv = sess_get(c, hs, &s);

	if (rv != CKR_OK)
		return rv;
	if (!seed && len)
		return CKR_ARGUMENTS_BAD;
	/* The TEE's generator is seeded by the device alone: no application may influence what
	 * every other application's keys are made from (§5.15 allows this answer). */
	return CKR_RANDOM_SEED_NOT_SUPPORTED;
}
