/*
 * Module functions behind ta_C_* entry points that the token core does not implement yet.
 * Each answers CKR_FUNCTION_NOT_SUPPORTED from pending.c; implementing one means moving its
 * prototype to the module's header (core.h, mech.h, ...) and deleting its stub here.
 */
#ifndef TEEHSM_TA_PENDING_H
#define TEEHSM_TA_PENDING_H

#include "core.h"


/* C_WrapKey (stub). */
CK_RV key_wrap(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
	       CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
	       CK_ULONG_PTR pulWrappedKeyLen);

/* C_UnwrapKey (stub). */
CK_RV key_unwrap(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		 CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
		 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey);

/* C_DeriveKey (stub). */
CK_RV key_derive(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		 CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
		 CK_OBJECT_HANDLE_PTR phKey);

#endif
