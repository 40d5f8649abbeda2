/*
 * The PKCS#11 v2.40 functions the module answers without the token.
 *  - C_GetOperationState / C_SetOperationState: the token keeps operation state inside the TEE
 *    and never exports it, so the library does not offer these (§5.6 allows a library not to:
 *    CKR_FUNCTION_NOT_SUPPORTED).
 *  - C_GetFunctionStatus / C_CancelFunction: legacy, CKR_FUNCTION_NOT_PARALLEL for every library
 *    (§5.16).
 *  - C_WaitForSlotEvent: the one slot is always present; no event will ever happen, and this
 *    module does not offer waiting for one (CKR_FUNCTION_NOT_SUPPORTED, §5.5).
 */
#include "cli_calls.h"

/* The answers ignore their arguments by design. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static CK_RV not_supported(void)
{
	CK_RV rv = cli_check_initialized();

	return rv == CKR_OK ? CKR_FUNCTION_NOT_SUPPORTED : rv;
}

static CK_RV not_parallel(void)
{
	CK_RV rv = cli_check_initialized();

	return rv == CKR_OK ? CKR_FUNCTION_NOT_PARALLEL : rv;
}

CK_RV cli_C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
			      CK_ULONG_PTR pulOperationStateLen)
{
	return not_supported();
}

CK_RV cli_C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
			      CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
			      CK_OBJECT_HANDLE hAuthenticationKey)
{
	return not_supported();
}

CK_RV cli_C_GetFunctionStatus(CK_SESSION_HANDLE hSession)
{
	return not_parallel();
}

CK_RV cli_C_CancelFunction(CK_SESSION_HANDLE hSession)
{
	return not_parallel();
}

CK_RV cli_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved)
{
	return not_supported();
}
