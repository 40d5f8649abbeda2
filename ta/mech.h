/* The mechanisms of the token (a const table, STYLE §5) and the one policy check every key use
 * passes before any crypto runs (STYLE §6). */
#ifndef TEEHSM_TA_MECH_H
#define TEEHSM_TA_MECH_H

#include <stdbool.h>

#include "common/pkcs11_ext.h"
#include "core.h"
#include "port/crypto.h"

/* Which processing_*.c file runs a mechanism. */
enum mech_family {
	MECH_FAMILY_DIGEST = 1,
	MECH_FAMILY_RSA,
	MECH_FAMILY_EC,
	MECH_FAMILY_EDDSA,
	MECH_FAMILY_AES,
	MECH_FAMILY_MAC, /* HMAC and AES-CMAC */
};

/* The shape of a mechanism's parameter, checked by mech_check before anything else. */
enum mech_param {
	MP_NONE = 0, /* none: a parameter is CKR_MECHANISM_PARAM_INVALID */
	MP_IV16,     /* a 16-byte IV (AES CBC) */
	MP_CTR,	     /* CK_AES_CTR_PARAMS */
	MP_GCM,	     /* CK_GCM_PARAMS */
	MP_PSS,	     /* CK_RSA_PKCS_PSS_PARAMS */
	MP_OAEP,     /* CK_RSA_PKCS_OAEP_PARAMS */
	MP_EDDSA,    /* none, or CK_EDDSA_PARAMS with phFlag false and no context */
	MP_ECDH,     /* CK_ECDH1_DERIVE_PARAMS */
	MP_KW,	     /* none, or the default IV of RFC 3394 (8 bytes) / RFC 5649 (4 bytes) */
};

/* The units of a mechanism's key sizes in C_GetMechanismInfo (Current Mechanisms spec). */
enum mech_units {
	MU_NONE = 0, /* no key */
	MU_BITS,
	MU_BYTES,
};

struct mech_info {
	CK_MECHANISM_TYPE type;
	CK_ULONG min_size; /* key sizes as C_GetMechanismInfo reports them, in units */
	CK_ULONG max_size;
	CK_FLAGS flags; /* CKF_* advertised: only what is implemented */
	CK_KEY_TYPE key_type;
	bool single_part;      /* no C_*Update */
	enum port_hash_alg md; /* the hash of a digest, hash-and-sign or HMAC mechanism */
	enum mech_param param;
	enum mech_units units;
	enum mech_family family;
};

/* The table entry of mechanism t, or NULL. */
const struct mech_info *mech_find(CK_MECHANISM_TYPE t);

/* The hash named by a CKM_SHA* digest mechanism or CKG_MGF1_* generator, PORT_HASH_NONE if
 * none. */
enum port_hash_alg mech_hash_of(CK_MECHANISM_TYPE t);
enum port_hash_alg mech_mgf_hash(CK_ULONG mgf);

/* Check that mechanism m is known, permits use (one CKF_ function flag) and that its parameter
 * has the shape the mechanism takes. Sets *mi. CKR_ARGUMENTS_BAD, CKR_MECHANISM_INVALID or
 * CKR_MECHANISM_PARAM_INVALID. */
CK_RV mech_check(const CK_MECHANISM *m, CK_FLAGS use, const struct mech_info **mi);

/* The size of key o in the units of its mechanisms' C_GetMechanismInfo (RSA modulus bits,
 * curve bits, AES and generic secret bytes), 0 when it cannot be told. */
CK_ULONG mech_key_size(const struct obj *o);

/* The policy check of a key operation, the only one, before any crypto: mech_check, then the
 * key named by c's handle hk exists (CKR_KEY_HANDLE_INVALID), the user is logged in for a
 * private key (CKR_USER_NOT_LOGGED_IN), the key's class and type fit the mechanism and use
 * (CKR_KEY_TYPE_INCONSISTENT), the key permits use (CKA_SIGN, ..., CKA_DERIVE) and the
 * mechanism (CKA_ALLOWED_MECHANISMS) (CKR_KEY_FUNCTION_NOT_PERMITTED), and its size is in the
 * mechanism's range (CKR_KEY_SIZE_RANGE). Sets *mi and *key (owned by the ta) on CKR_OK. */
CK_RV mech_check_key_use(struct ta_client *c, const CK_MECHANISM *m, CK_FLAGS use,
			 CK_OBJECT_HANDLE hk, const struct mech_info **mi, struct obj **key);

/* C_GetMechanismList, with the size-query rules of §5.2. */
CK_RV mech_get_list(struct ta_client *c, CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
		    CK_ULONG_PTR count);
/* C_GetMechanismInfo: CKR_MECHANISM_INVALID for a mechanism not in the table. */
CK_RV mech_get_info(struct ta_client *c, CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
		    CK_MECHANISM_INFO_PTR info);

#endif
