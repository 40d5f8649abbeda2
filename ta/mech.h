/* The mechanisms of the token (a const table, STYLE §5) and the one policy check every key use
 * passes before any crypto runs (STYLE §6). */
#ifndef TEEHSM_TA_MECH_H
#define TEEHSM_TA_MECH_H

#include <stdbool.h>

#include "core.h"

/* Which processing_*.c file runs a mechanism. */
enum mech_family {
	MECH_FAMILY_EC,
};

struct mech_info {
	CK_MECHANISM_TYPE type;
	CK_ULONG min_bits; /* key sizes, in bits, as C_GetMechanismInfo reports them */
	CK_ULONG max_bits;
	CK_FLAGS flags; /* CKF_* advertised: only what is implemented */
	CK_KEY_TYPE key_type;
	bool single_part; /* no C_*Update */
	bool sha256;	  /* hash-and-sign with SHA-256 */
	enum mech_family family;
};

/* The table entry of mechanism t, or NULL. */
const struct mech_info *mech_find(CK_MECHANISM_TYPE t);

/* Check that mechanism m is known and permits use (one CKF_ function flag) and carries no
 * parameter (none of the current mechanisms takes one). Sets *mi. CKR_ARGUMENTS_BAD,
 * CKR_MECHANISM_INVALID or CKR_MECHANISM_PARAM_INVALID. */
CK_RV mech_check(const CK_MECHANISM *m, CK_FLAGS use, const struct mech_info **mi);

/* The policy check of a key operation: mech_check, then the key named by c's handle hk exists
 * (CKR_KEY_HANDLE_INVALID), the user is logged in for a private key (CKR_USER_NOT_LOGGED_IN),
 * the key's class and type fit the mechanism (CKR_KEY_TYPE_INCONSISTENT) and the key permits
 * use (CKR_KEY_FUNCTION_NOT_PERMITTED). Sets *mi and *key (owned by the ta) on CKR_OK. */
CK_RV mech_check_key_use(struct ta_client *c, const CK_MECHANISM *m, CK_FLAGS use,
			 CK_OBJECT_HANDLE hk, const struct mech_info **mi, struct obj **key);

/* C_GetMechanismList, with the size-query rules of §5.2. */
CK_RV mech_get_list(struct ta_client *c, CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
		    CK_ULONG_PTR count);
/* C_GetMechanismInfo: CKR_MECHANISM_INVALID for a mechanism not in the table. */
CK_RV mech_get_info(struct ta_client *c, CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
		    CK_MECHANISM_INFO_PTR info);

#endif
