/* The mechanism table and the one policy check (STYLE §5, §6). Key sizes are in the units the
 * Current Mechanisms specification gives: bits for RSA, EC and generic secret key generation,
 * bytes for AES; HMAC (where the specification is silent) in bytes, as OP-TEE and SoftHSM. */
#include <stddef.h>
#include <string.h>

#include "mech.h"
#include "processing.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Capabilities of EC mechanisms: prime-field named curves, uncompressed points. */
#define EC_CAPS (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)
#define SV	(CKF_SIGN | CKF_VERIFY)
#define ED	(CKF_ENCRYPT | CKF_DECRYPT)
#define WU	(CKF_WRAP | CKF_UNWRAP)
#define NOKEY	CK_UNAVAILABLE_INFORMATION
#define H(x)	PORT_HASH_##x

/* clang-format off */
static const struct mech_info mechs[] = {
	/* type, min, max, flags, key type, single part, hash, param, units, family */
	{ CKM_SHA_1, 0, 0, CKF_DIGEST, NOKEY, false, H(SHA1), MP_NONE, MU_NONE, MECH_FAMILY_DIGEST },
	{ CKM_SHA224, 0, 0, CKF_DIGEST, NOKEY, false, H(SHA224), MP_NONE, MU_NONE, MECH_FAMILY_DIGEST },
	{ CKM_SHA256, 0, 0, CKF_DIGEST, NOKEY, false, H(SHA256), MP_NONE, MU_NONE, MECH_FAMILY_DIGEST },
	{ CKM_SHA384, 0, 0, CKF_DIGEST, NOKEY, false, H(SHA384), MP_NONE, MU_NONE, MECH_FAMILY_DIGEST },
	{ CKM_SHA512, 0, 0, CKF_DIGEST, NOKEY, false, H(SHA512), MP_NONE, MU_NONE, MECH_FAMILY_DIGEST },

	{ CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, 4096, CKF_GENERATE_KEY_PAIR, CKK_RSA, true, H(NONE), MP_NONE, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_RSA_PKCS, 2048, 4096, ED | SV | WU, CKK_RSA, true, H(NONE), MP_NONE, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_RSA_PKCS_PSS, 2048, 4096, SV, CKK_RSA, true, H(NONE), MP_PSS, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_RSA_PKCS_OAEP, 2048, 4096, ED | WU, CKK_RSA, true, H(NONE), MP_OAEP, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA1_RSA_PKCS, 2048, 4096, SV, CKK_RSA, false, H(SHA1), MP_NONE, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA224_RSA_PKCS, 2048, 4096, SV, CKK_RSA, false, H(SHA224), MP_NONE, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA256_RSA_PKCS, 2048, 4096, SV, CKK_RSA, false, H(SHA256), MP_NONE, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA384_RSA_PKCS, 2048, 4096, SV, CKK_RSA, false, H(SHA384), MP_NONE, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA512_RSA_PKCS, 2048, 4096, SV, CKK_RSA, false, H(SHA512), MP_NONE, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA224_RSA_PKCS_PSS, 2048, 4096, SV, CKK_RSA, false, H(SHA224), MP_PSS, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA256_RSA_PKCS_PSS, 2048, 4096, SV, CKK_RSA, false, H(SHA256), MP_PSS, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA384_RSA_PKCS_PSS, 2048, 4096, SV, CKK_RSA, false, H(SHA384), MP_PSS, MU_BITS, MECH_FAMILY_RSA },
	{ CKM_SHA512_RSA_PKCS_PSS, 2048, 4096, SV, CKK_RSA, false, H(SHA512), MP_PSS, MU_BITS, MECH_FAMILY_RSA },

	{ CKM_EC_KEY_PAIR_GEN, 256, 521, CKF_GENERATE_KEY_PAIR | EC_CAPS, CKK_EC, true, H(NONE), MP_NONE, MU_BITS, MECH_FAMILY_EC },
	{ CKM_ECDSA, 256, 521, SV | EC_CAPS, CKK_EC, true, H(NONE), MP_NONE, MU_BITS, MECH_FAMILY_EC },
	{ CKM_ECDSA_SHA1, 256, 521, SV | EC_CAPS, CKK_EC, false, H(SHA1), MP_NONE, MU_BITS, MECH_FAMILY_EC },
	{ CKM_ECDSA_SHA224, 256, 521, SV | EC_CAPS, CKK_EC, false, H(SHA224), MP_NONE, MU_BITS, MECH_FAMILY_EC },
	{ CKM_ECDSA_SHA256, 256, 521, SV | EC_CAPS, CKK_EC, false, H(SHA256), MP_NONE, MU_BITS, MECH_FAMILY_EC },
	{ CKM_ECDSA_SHA384, 256, 521, SV | EC_CAPS, CKK_EC, false, H(SHA384), MP_NONE, MU_BITS, MECH_FAMILY_EC },
	{ CKM_ECDSA_SHA512, 256, 521, SV | EC_CAPS, CKK_EC, false, H(SHA512), MP_NONE, MU_BITS, MECH_FAMILY_EC },
	{ CKM_ECDH1_DERIVE, 256, 521, CKF_DERIVE | EC_CAPS, CKK_EC, true, H(NONE), MP_ECDH, MU_BITS, MECH_FAMILY_EC },

	{ CKM_EC_EDWARDS_KEY_PAIR_GEN, 255, 255, CKF_GENERATE_KEY_PAIR, CKK_EC_EDWARDS, true, H(NONE), MP_NONE, MU_BITS, MECH_FAMILY_EDDSA },
	{ CKM_EDDSA, 255, 255, SV, CKK_EC_EDWARDS, true, H(NONE), MP_EDDSA, MU_BITS, MECH_FAMILY_EDDSA },

	{ CKM_AES_KEY_GEN, 16, 32, CKF_GENERATE, CKK_AES, true, H(NONE), MP_NONE, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_ECB, 16, 32, ED, CKK_AES, false, H(NONE), MP_NONE, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_CBC, 16, 32, ED, CKK_AES, false, H(NONE), MP_IV16, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_CBC_PAD, 16, 32, ED | WU, CKK_AES, false, H(NONE), MP_IV16, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_CTR, 16, 32, ED, CKK_AES, false, H(NONE), MP_CTR, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_GCM, 16, 32, ED, CKK_AES, false, H(NONE), MP_GCM, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_KEY_WRAP, 16, 32, ED | WU, CKK_AES, true, H(NONE), MP_KW, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_KEY_WRAP_PAD, 16, 32, ED | WU, CKK_AES, true, H(NONE), MP_KW, MU_BYTES, MECH_FAMILY_AES },
	{ CKM_AES_CMAC, 16, 32, SV, CKK_AES, false, H(NONE), MP_NONE, MU_BYTES, MECH_FAMILY_MAC },

	{ CKM_GENERIC_SECRET_KEY_GEN, 8, 4096, CKF_GENERATE, CKK_GENERIC_SECRET, true, H(NONE), MP_NONE, MU_BITS, MECH_FAMILY_MAC },
	{ CKM_SHA_1_HMAC, 1, 512, SV, CKK_GENERIC_SECRET, false, H(SHA1), MP_NONE, MU_BYTES, MECH_FAMILY_MAC },
	{ CKM_SHA224_HMAC, 1, 512, SV, CKK_GENERIC_SECRET, false, H(SHA224), MP_NONE, MU_BYTES, MECH_FAMILY_MAC },
	{ CKM_SHA256_HMAC, 1, 512, SV, CKK_GENERIC_SECRET, false, H(SHA256), MP_NONE, MU_BYTES, MECH_FAMILY_MAC },
	{ CKM_SHA384_HMAC, 1, 512, SV, CKK_GENERIC_SECRET, false, H(SHA384), MP_NONE, MU_BYTES, MECH_FAMILY_MAC },
	{ CKM_SHA512_HMAC, 1, 512, SV, CKK_GENERIC_SECRET, false, H(SHA512), MP_NONE, MU_BYTES, MECH_FAMILY_MAC },
};
/* clang-format on */

/* What a function flag demands of the key: its class (for an asymmetric key type; secret keys
 * serve every use) and the attribute permitting it. */
struct key_use {
	CK_FLAGS use;
	CK_OBJECT_CLASS asym_cls;
	CK_ATTRIBUTE_TYPE permit;
};

static const struct key_use key_uses[] = {
	{ CKF_ENCRYPT, CKO_PUBLIC_KEY, CKA_ENCRYPT }, { CKF_DECRYPT, CKO_PRIVATE_KEY, CKA_DECRYPT },
	{ CKF_SIGN, CKO_PRIVATE_KEY, CKA_SIGN },      { CKF_VERIFY, CKO_PUBLIC_KEY, CKA_VERIFY },
	{ CKF_WRAP, CKO_PUBLIC_KEY, CKA_WRAP },	      { CKF_UNWRAP, CKO_PRIVATE_KEY, CKA_UNWRAP },
	{ CKF_DERIVE, CKO_PRIVATE_KEY, CKA_DERIVE },
};

const struct mech_info *mech_find(CK_MECHANISM_TYPE t)
{
	for (size_t i = 0; i < ARRAY_SIZE(mechs); i++) {
		if (mechs[i].type == t)
			return &mechs[i];
	}
	return NULL;
}

enum port_hash_alg mech_hash_of(CK_MECHANISM_TYPE t)
{
	const struct mech_info *mi = mech_find(t);

	return mi && mi->family == MECH_FAMILY_DIGEST ? mi->md : PORT_HASH_NONE;
}

enum port_hash_alg mech_mgf_hash(CK_ULONG mgf)
{
	switch (mgf) {
	case CKG_MGF1_SHA1:
		return PORT_HASH_SHA1;
	case CKG_MGF1_SHA224:
		return PORT_HASH_SHA224;
	case CKG_MGF1_SHA256:
		return PORT_HASH_SHA256;
	case CKG_MGF1_SHA384:
		return PORT_HASH_SHA384;
	case CKG_MGF1_SHA512:
		return PORT_HASH_SHA512;
	}
	return PORT_HASH_NONE;
}

/* The default IVs of RFC 3394 §2.2.3.1 and RFC 5649 §3. */
static const uint8_t kw_iv[8] = { 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6 };
static const uint8_t kwp_iv[4] = { 0xa6, 0x59, 0x59, 0xa6 };

/* The parameter of m has the shape mi takes (values that depend on the key are checked by the
 * family at init). */
static bool param_ok(const struct mech_info *mi, const CK_MECHANISM *m)
{
	const void *p = m->pParameter;
	CK_ULONG len = m->ulParameterLen;

	if (!p && len)
		return false;
	switch (mi->param) {
	case MP_NONE:
		return !p && !len;
	case MP_IV16:
		return p && len == 16;
	case MP_CTR: {
		const CK_AES_CTR_PARAMS *cp = p;

		return p && len == sizeof(*cp) && cp->ulCounterBits >= 1 &&
		       cp->ulCounterBits <= 128;
	}
	case MP_GCM: {
		const CK_GCM_PARAMS *gp = p;

		if (!p || len != sizeof(*gp))
			return false;
		if (!gp->pIv || gp->ulIvLen < 1 || gp->ulIvLen > 256)
			return false;
		if (gp->ulAADLen && !gp->pAAD)
			return false;
		/* SP 800-38D §5.2.1.2: 128, 120, 112, 104, 96, and for some uses 64 and 32. */
		switch (gp->ulTagBits) {
		case 32:
		case 64:
		case 96:
		case 104:
		case 112:
		case 120:
		case 128:
			return true;
		}
		return false;
	}
	case MP_PSS: {
		const CK_RSA_PKCS_PSS_PARAMS *pp = p;

		if (!p || len != sizeof(*pp))
			return false;
		if (mech_hash_of(pp->hashAlg) == PORT_HASH_NONE || !mech_mgf_hash(pp->mgf))
			return false;
		/* Current Mechanisms §2.1.15: hashAlg must be the mechanism's own hash. */
		return mi->md == PORT_HASH_NONE || mech_hash_of(pp->hashAlg) == mi->md;
	}
	case MP_OAEP: {
		const CK_RSA_PKCS_OAEP_PARAMS *op = p;

		if (!p || len != sizeof(*op))
			return false;
		if (mech_hash_of(op->hashAlg) == PORT_HASH_NONE || !mech_mgf_hash(op->mgf))
			return false;
		if (op->source != CKZ_DATA_SPECIFIED && !(op->source == 0 && !op->ulSourceDataLen))
			return false;
		return !op->ulSourceDataLen || op->pSourceData;
	}
	case MP_EDDSA: {
		const CK_EDDSA_PARAMS *ep = p;

		/* Ed25519 (pure) only: no prehash, no context (that would be Ed25519ctx). */
		if (!p)
			return true;
		return len == sizeof(*ep) && !ep->phFlag && !ep->ulContextDataLen;
	}
	case MP_ECDH: {
		const CK_ECDH1_DERIVE_PARAMS *dp = p;

		if (!p || len != sizeof(*dp) || !dp->pPublicData || !dp->ulPublicDataLen)
			return false;
		if (dp->ulSharedDataLen && !dp->pSharedData)
			return false;
		switch (dp->kdf) {
		case CKD_NULL:
			return !dp->ulSharedDataLen;
		case CKD_SHA1_KDF:
		case CKD_SHA224_KDF:
		case CKD_SHA256_KDF:
		case CKD_SHA384_KDF:
		case CKD_SHA512_KDF:
			return true;
		}
		return false;
	}
	case MP_KW:
		if (!p)
			return true;
		if (m->mechanism == CKM_AES_KEY_WRAP)
			return len == sizeof(kw_iv) && memcmp(p, kw_iv, len) == 0;
		return len == sizeof(kwp_iv) && memcmp(p, kwp_iv, len) == 0;
	}
	return false;
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
	if (!param_ok(found, m))
		return CKR_MECHANISM_PARAM_INVALID;
	*mi = found;
	return CKR_OK;
}

/* The number of significant bits of a big-endian integer. */
static CK_ULONG bits_of(const uint8_t *v, size_t len)
{
	size_t i = 0;
	CK_ULONG b = 0;

	while (i < len && v[i] == 0)
		i++;
	if (i == len)
		return 0;
	b = (CK_ULONG)(len - i - 1) * 8;
	for (uint8_t x = v[i]; x; x >>= 1)
		b++;
	return b;
}

CK_ULONG mech_key_size(const struct obj *o)
{
	CK_KEY_TYPE kt = 0;
	const struct attr *a = NULL;
	enum port_ec_curve curve = PORT_EC_P256;

	if (!attrs_get_ulong(&o->a, CKA_KEY_TYPE, &kt))
		return 0;
	switch (kt) {
	case CKK_RSA:
		a = attrs_find(&o->a, CKA_MODULUS);
		return a ? bits_of(a->val, a->len) : 0;
	case CKK_EC:
		if (proc_ec_curve(&o->a, &curve) != CKR_OK)
			return 0;
		return curve == PORT_EC_P256 ? 256 : curve == PORT_EC_P384 ? 384 : 521;
	case CKK_EC_EDWARDS:
		return 255;
	case CKK_AES:
	case CKK_GENERIC_SECRET:
		a = attrs_find(&o->a, CKA_VALUE);
		return a ? (CK_ULONG)a->len : 0;
	}
	return 0;
}

/* CKA_ALLOWED_MECHANISMS, when the key has it, lists t. */
static bool mech_allowed(const struct obj *o, CK_MECHANISM_TYPE t)
{
	const struct attr *a = attrs_find(&o->a, CKA_ALLOWED_MECHANISMS);
	CK_MECHANISM_TYPE v = 0;

	if (!a)
		return true;
	for (size_t off = 0; off + sizeof(v) <= a->len; off += sizeof(v)) {
		memcpy(&v, a->val + off, sizeof(v));
		if (v == t)
			return true;
	}
	return false;
}

CK_RV mech_check_key_use(struct ta_client *c, const CK_MECHANISM *m, CK_FLAGS use,
			 CK_OBJECT_HANDLE hk, const struct mech_info **mi, struct obj **key)
{
	const struct mech_info *found = NULL;
	const struct key_use *ku = NULL;
	struct obj *o = NULL;
	CK_OBJECT_CLASS cls = 0;
	CK_OBJECT_CLASS want = 0;
	CK_KEY_TYPE kt = 0;
	CK_ULONG size = 0;
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
	if (!attrs_get_ulong(&o->a, CKA_CLASS, &cls))
		return CKR_KEY_HANDLE_INVALID;
	/* Not a key at all: the handle does not name a key (§5.1 KEY_HANDLE_INVALID). */
	if (cls != CKO_PUBLIC_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_SECRET_KEY)
		return CKR_KEY_HANDLE_INVALID;
	want = (found->key_type == CKK_AES || found->key_type == CKK_GENERIC_SECRET)
		       ? CKO_SECRET_KEY
		       : ku->asym_cls;
	if (!attrs_get_ulong(&o->a, CKA_KEY_TYPE, &kt) || cls != want || kt != found->key_type)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (!attrs_get_bool(&o->a, ku->permit) || !mech_allowed(o, m->mechanism))
		return CKR_KEY_FUNCTION_NOT_PERMITTED;
	size = mech_key_size(o);
	if (size < found->min_size || size > found->max_size)
		return CKR_KEY_SIZE_RANGE;
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
	info->ulMinKeySize = mi->min_size;
	info->ulMaxKeySize = mi->max_size;
	/* CKF_HW: every mechanism runs inside the token on the secure device, never in the
	 * calling host's software (clients such as pkcs11-tool --test look for it). */
	info->flags = mi->flags | CKF_HW;
	return CKR_OK;
}
