#include <stddef.h>

#include "mech.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Capabilities of EC mechanisms: prime-field named curves, uncompressed points. */
#define EC_CAPS (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)

static const struct mech_info mechs[] = {
	{ CKM_EC_KEY_PAIR_GEN, 256, 256, CKF_GENERATE_KEY_PAIR | EC_CAPS, CKK_EC, true, false,
	  MECH_FAMILY_EC },
	{ CKM_ECDSA, 256, 256, CKF_SIGN | EC_CAPS, CKK_EC, true, false, MECH_FAMILY_EC },
	{ CKM_ECDSA_SHA256, 256, 256, CKF_SIGN | EC_CAPS, CKK_EC, false, true, MECH_FAMILY_EC },
};

/* What a function flag demands of the key: its class and the attribute permitting it. */
struct key_use {
	CK_FLAGS use;
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE_TYPE permit;
};

static const struct key_use key_uses[] = {
	{ CKF_SIGN, CKO_PRIVATE_KEY, CKA_SIGN },
};

const struct mech_info *mech_find(CK_MECHANISM_TYPE t)
{
	for (size_t i = 0; i < ARRAY_SIZE(mechs); i++) {
		if (mechs[i].type == t)
			return &mechs[i];
	}
	return NULL;
}

CK_RV mech_check(const CK_MECHANISM *m, CK_FLAGS use, const struct mech_info **mi)
{
	const struct mech_info *found = NULL;

	*mi = NULL;
	if (!m)
		return CKR_ARGUMENTS_BAD;
	found = mech_find(m->mechanism);
	if (!found || !(found->flags & use))
		return CKR_MECHANISM_INVALID;
	if (m->pParameter || m->ulParameterLen)
		return CKR_MECHANISM_PARAM_INVALID;
	*mi = found;
	return CKR_OK;
}

CK_RV mech_check_key_use(struct ta_client *c, const CK_MECHANISM *m, CK_FLAGS use,
			 CK_OBJECT_HANDLE hk, const struct mech_info **mi, struct obj **key)
{
	const struct mech_info *found = NULL;
	const struct key_use *ku = NULL;
	struct obj *o = NULL;
	CK_OBJECT_CLASS cls = 0;
	CK_KEY_TYPE kt = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	*mi = NULL;
	*key = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(key_uses); i++) {
		if (key_uses[i].use == use)
			ku = &key_uses[i];
	}
	if (!ku)
		return CKR_GENERAL_ERROR;
	rv = mech_check(m, use, &found);
	if (rv != CKR_OK)
		return rv;
	o = obj_from_handle(c, hk);
	if (!o)
		return CKR_KEY_HANDLE_INVALID;
	if (obj_is_private(o) && c->login != TA_LOGIN_USER)
		return CKR_USER_NOT_LOGGED_IN;
	if (!attrs_get_ulong(&o->a, CKA_CLASS, &cls) ||
	    !attrs_get_ulong(&o->a, CKA_KEY_TYPE, &kt) || cls != ku->cls || kt != found->key_type)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!attrs_get_bool(&o->a, ku->permit))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	*mi = found;
	*key = o;
	return CKR_OK;
}

CK_RV mech_get_list(struct ta_client *c, CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
		    CK_ULONG_PTR count)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	(void)c;
	if (!count)
		return CKR_ARGUMENTS_BAD;
	rv = token_check_slot(slot);
	if (rv != CKR_OK)
		return rv;
	if (!list) {
		*count = ARRAY_SIZE(mechs);
		return CKR_OK;
	}
	if (*count < ARRAY_SIZE(mechs)) {
		*count = ARRAY_SIZE(mechs);
		return CKR_BUFFER_TOO_SMALL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mechs); i++)
		list[i] = mechs[i].type;
	*count = ARRAY_SIZE(mechs);
	return CKR_OK;
}

CK_RV mech_get_info(struct ta_client *c, CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
		    CK_MECHANISM_INFO_PTR info)
{
	const struct mech_info *mi = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	(void)c;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	rv = token_check_slot(slot);
	if (rv != CKR_OK)
		return rv;
	mi = mech_find(type);
	if (!mi)
		return CKR_MECHANISM_INVALID;
	info->ulMinKeySize = mi->min_bits;
	info->ulMaxKeySize = mi->max_bits;
	info->flags = mi->flags;
	return CKR_OK;
}
