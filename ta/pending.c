/* Stubs of pending.h: CKR_FUNCTION_NOT_SUPPORTED until the module function exists. */
#include "pending.h"

CK_RV token_set_pin(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
		    CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	(void)c;
	(void)hSession;
	(void)pOldPin;
	(void)ulOldLen;
	(void)pNewPin;
	(void)ulNewLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV obj_create(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
		 CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject)
{
	(void)c;
	(void)hSession;
	(void)pTemplate;
	(void)ulCount;
	(void)phObject;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV obj_copy(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
	       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
	(void)c;
	(void)hSession;
	(void)hObject;
	(void)pTemplate;
	(void)ulCount;
	(void)phNewObject;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV obj_get_size(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		   CK_ULONG_PTR pulSize)
{
	(void)c;
	(void)hSession;
	(void)hObject;
	(void)pulSize;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV obj_set_attribute_value(struct ta_client *c, CK_SESSION_HANDLE hSession,
			      CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
			      CK_ULONG ulCount)
{
	(void)c;
	(void)hSession;
	(void)hObject;
	(void)pTemplate;
	(void)ulCount;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_encrypt_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_encrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		 CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	(void)c;
	(void)hSession;
	(void)pData;
	(void)ulDataLen;
	(void)pEncryptedData;
	(void)pulEncryptedDataLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			CK_ULONG_PTR pulEncryptedPartLen)
{
	(void)c;
	(void)hSession;
	(void)pPart;
	(void)ulPartLen;
	(void)pEncryptedPart;
	(void)pulEncryptedPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_encrypt_final(struct ta_client *c, CK_SESSION_HANDLE hSession,
		       CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen)
{
	(void)c;
	(void)hSession;
	(void)pLastEncryptedPart;
	(void)pulLastEncryptedPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_decrypt_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_decrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
		 CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	(void)c;
	(void)hSession;
	(void)pEncryptedData;
	(void)ulEncryptedDataLen;
	(void)pData;
	(void)pulDataLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_decrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
			CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	(void)c;
	(void)hSession;
	(void)pEncryptedPart;
	(void)ulEncryptedPartLen;
	(void)pPart;
	(void)pulPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_decrypt_final(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
		       CK_ULONG_PTR pulLastPartLen)
{
	(void)c;
	(void)hSession;
	(void)pLastPart;
	(void)pulLastPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_digest_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_digest(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		CK_ULONG ulDataLen, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	(void)c;
	(void)hSession;
	(void)pData;
	(void)ulDataLen;
	(void)pDigest;
	(void)pulDigestLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_digest_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
		       CK_ULONG ulPartLen)
{
	(void)c;
	(void)hSession;
	(void)pPart;
	(void)ulPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_digest_key(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	(void)c;
	(void)hSession;
	(void)hKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_digest_final(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest,
		      CK_ULONG_PTR pulDigestLen)
{
	(void)c;
	(void)hSession;
	(void)pDigest;
	(void)pulDigestLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_sign_recover_init(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_sign_recover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		      CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	(void)c;
	(void)hSession;
	(void)pData;
	(void)ulDataLen;
	(void)pSignature;
	(void)pulSignatureLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_verify_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_verify(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	(void)c;
	(void)hSession;
	(void)pData;
	(void)ulDataLen;
	(void)pSignature;
	(void)ulSignatureLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_verify_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
		       CK_ULONG ulPartLen)
{
	(void)c;
	(void)hSession;
	(void)pPart;
	(void)ulPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_verify_final(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		      CK_ULONG ulSignatureLen)
{
	(void)c;
	(void)hSession;
	(void)pSignature;
	(void)ulSignatureLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_verify_recover_init(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)hKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_verify_recover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	(void)c;
	(void)hSession;
	(void)pSignature;
	(void)ulSignatureLen;
	(void)pData;
	(void)pulDataLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_digest_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			       CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			       CK_ULONG_PTR pulEncryptedPartLen)
{
	(void)c;
	(void)hSession;
	(void)pPart;
	(void)ulPartLen;
	(void)pEncryptedPart;
	(void)pulEncryptedPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_decrypt_digest_update(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	(void)c;
	(void)hSession;
	(void)pEncryptedPart;
	(void)ulEncryptedPartLen;
	(void)pPart;
	(void)pulPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_sign_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			     CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			     CK_ULONG_PTR pulEncryptedPartLen)
{
	(void)c;
	(void)hSession;
	(void)pPart;
	(void)ulPartLen;
	(void)pEncryptedPart;
	(void)pulEncryptedPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV op_decrypt_verify_update(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	(void)c;
	(void)hSession;
	(void)pEncryptedPart;
	(void)ulEncryptedPartLen;
	(void)pPart;
	(void)pulPartLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV keygen_secret(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	(void)c;
	(void)hSession;
	(void)pMechanism;
	(void)pTemplate;
	(void)ulCount;
	(void)phKey;
	return CKR_FUNCTION_NOT_SUPPORTED;
}

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

CK_RV token_seed_random(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed,
			CK_ULONG ulSeedLen)
{
	(void)c;
	(void)hSession;
	(void)pSeed;
	(void)ulSeedLen;
	return CKR_FUNCTION_NOT_SUPPORTED;
}
