/* Stubs of pending.h: CKR_FUNCTION_NOT_SUPPORTED until the module function exists. */
#include "pending.h"


CK_RV key_wrap(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
	       CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
	       CK_ULONG_PTR pulWrappedKeyLen)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hWrappingKey;
	(void)hKey;
	(void)pWrappedKey;
	(void)pulWrappedKeyLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV key_unwrap(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		 CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, CK_ULONG ulWrappedKeyLen,
		 CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hUnwrappingKey;
	(void)pWrappedKey;
	(void)ulWrappedKeyLen;
	(void)pTemplate;
	(void)ulAttributeCount;
	(void)phKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV key_derive(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		 CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
		 CK_OBJECT_HANDLE_PTR phKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hBaseKey;
	(void)pTemplate;
	(void)ulAttributeCount;
	(void)phKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

