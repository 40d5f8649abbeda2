/*
 * The PKCS#11 v2.40 functions teehsm does not carry yet. Each answers CKR_FUNCTION_NOT_SUPPORTED
 * once the module is initialised; carrying one is moving it to a calls_*.c file and adding its
 * message to proto/teehsm.proto. C_GetFunctionStatus and C_CancelFunction are legacy and answer
 * CKR_FUNCTION_NOT_PARALLEL for every library (§5.16).
 */
#include "cli_calls.h"

/* The stubs ignore their arguments by design. */
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

CK_RV cli_C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
		   CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	return not_supported();
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

CK_RV cli_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
			 CK_OBJECT_HANDLE_PTR phObject)
{
	return not_supported();
}

CK_RV cli_C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		       CK_OBJECT_HANDLE_PTR phNewObject)
{
	return not_supported();
}

CK_RV cli_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			  CK_ULONG_PTR pulSize)
{
	return not_supported();
}

CK_RV cli_C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	return not_supported();
}

CK_RV cli_C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_OBJECT_HANDLE hKey)
{
	return not_supported();
}

CK_RV cli_C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		    CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	return not_supported();
}

CK_RV cli_C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
			  CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return not_supported();
}

CK_RV cli_C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
			 CK_ULONG_PTR pulLastEncryptedPartLen)
{
	return not_supported();
}

CK_RV cli_C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_OBJECT_HANDLE hKey)
{
	return not_supported();
}

CK_RV cli_C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
		    CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return not_supported();
}

CK_RV cli_C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
			  CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	return not_supported();
}

CK_RV cli_C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
			 CK_ULONG_PTR pulLastPartLen)
{
	return not_supported();
}

CK_RV cli_C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	return not_supported();
}

CK_RV cli_C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	return not_supported();
}

CK_RV cli_C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return not_supported();
}

CK_RV cli_C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	return not_supported();
}

CK_RV cli_C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	return not_supported();
}

CK_RV cli_C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			    CK_OBJECT_HANDLE hKey)
{
	return not_supported();
}

CK_RV cli_C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
			CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return not_supported();
}

CK_RV cli_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey)
{
	return not_supported();
}

CK_RV cli_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	return not_supported();
}

CK_RV cli_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return not_supported();
}

CK_RV cli_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	return not_supported();
}

CK_RV cli_C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			      CK_OBJECT_HANDLE hKey)
{
	return not_supported();
}

CK_RV cli_C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			  CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return not_supported();
}

CK_RV cli_C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
				CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return not_supported();
}

CK_RV cli_C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
				CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
				CK_ULONG_PTR pulPartLen)
{
	return not_supported();
}

CK_RV cli_C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
			      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return not_supported();
}

CK_RV cli_C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
				CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
				CK_ULONG_PTR pulPartLen)
{
	return not_supported();
}

CK_RV cli_C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	return not_supported();
}

CK_RV cli_C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		    CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
		    CK_ULONG_PTR pulWrappedKeyLen)
{
	return not_supported();
}

CK_RV cli_C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
		      CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
		      CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	return not_supported();
}

CK_RV cli_C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate,
		      CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	return not_supported();
}

CK_RV cli_C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
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
