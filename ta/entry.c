/* The ta_C_* entry points of ta.h: each takes the ta-wide lock around its module function. */
#include "core.h"
#include "mech.h"
#include "pending.h"

/* Run call with c's ta locked, into rv. */
#define LOCKED(c, call)                                                                            \
	do {                                                                                       \
		if (!(c))                                                                          \
			return CKR_ARGUMENTS_BAD;                                                  \
		pthread_mutex_lock(&(c)->ta->lock);                                                \
		rv = (call);                                                                       \
		pthread_mutex_unlock(&(c)->ta->lock);                                              \
	} while (0)

CK_RV ta_C_GetSlotList(struct ta_client *c, CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList,
		       CK_ULONG_PTR pulCount)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_get_slot_list(c, tokenPresent, pSlotList, pulCount));
	return rv;
}

CK_RV ta_C_GetSlotInfo(struct ta_client *c, CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_get_slot_info(c, slotID, pInfo));
	return rv;
}

CK_RV ta_C_GetTokenInfo(struct ta_client *c, CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_get_token_info(c, slotID, pInfo));
	return rv;
}

CK_RV ta_C_GetMechanismList(struct ta_client *c, CK_SLOT_ID slotID,
			    CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, mech_get_list(c, slotID, pMechanismList, pulCount));
	return rv;
}

CK_RV ta_C_GetMechanismInfo(struct ta_client *c, CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
			    CK_MECHANISM_INFO_PTR pInfo)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, mech_get_info(c, slotID, type, pInfo));
	return rv;
}

CK_RV ta_C_InitToken(struct ta_client *c, CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin,
		     CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_init_token(c, slotID, pPin, ulPinLen, pLabel));
	return rv;
}

CK_RV ta_C_InitPIN(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin,
		   CK_ULONG ulPinLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_init_pin(c, hSession, pPin, ulPinLen));
	return rv;
}

CK_RV ta_C_OpenSession(struct ta_client *c, CK_SLOT_ID slotID, CK_FLAGS flags,
		       CK_SESSION_HANDLE_PTR phSession)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sess_open(c, slotID, flags, phSession));
	return rv;
}

CK_RV ta_C_CloseSession(struct ta_client *c, CK_SESSION_HANDLE hSession)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sess_close(c, hSession));
	return rv;
}

CK_RV ta_C_CloseAllSessions(struct ta_client *c, CK_SLOT_ID slotID)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sess_close_all(c, slotID));
	return rv;
}

CK_RV ta_C_GetSessionInfo(struct ta_client *c, CK_SESSION_HANDLE hSession,
			  CK_SESSION_INFO_PTR pInfo)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sess_get_info(c, hSession, pInfo));
	return rv;
}

CK_RV ta_C_Login(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
		 CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sess_login(c, hSession, userType, pPin, ulPinLen));
	return rv;
}

CK_RV ta_C_Logout(struct ta_client *c, CK_SESSION_HANDLE hSession)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sess_logout(c, hSession));
	return rv;
}

CK_RV ta_C_DestroyObject(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, obj_destroy(c, hSession, hObject));
	return rv;
}

CK_RV ta_C_GetAttributeValue(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, obj_get_attribute_value(c, hSession, hObject, pTemplate, ulCount));
	return rv;
}

CK_RV ta_C_FindObjectsInit(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, find_init(c, hSession, pTemplate, ulCount));
	return rv;
}

CK_RV ta_C_FindObjects(struct ta_client *c, CK_SESSION_HANDLE hSession,
		       CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
		       CK_ULONG_PTR pulObjectCount)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, find_next(c, hSession, phObject, ulMaxObjectCount, pulObjectCount));
	return rv;
}

CK_RV ta_C_FindObjectsFinal(struct ta_client *c, CK_SESSION_HANDLE hSession)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, find_final(c, hSession));
	return rv;
}

CK_RV ta_C_SignInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		    CK_OBJECT_HANDLE hKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sign_init(c, hSession, pMechanism, hKey));
	return rv;
}

CK_RV ta_C_Sign(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sign_oneshot(c, hSession, pData, ulDataLen, pSignature, pulSignatureLen));
	return rv;
}

CK_RV ta_C_SignUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
		      CK_ULONG ulPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sign_update(c, hSession, pPart, ulPartLen));
	return rv;
}

CK_RV ta_C_SignFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		     CK_ULONG_PTR pulSignatureLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, sign_final(c, hSession, pSignature, pulSignatureLen));
	return rv;
}

CK_RV ta_C_GenerateKeyPair(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pPublicKeyTemplate,
			   CK_ULONG ulPublicKeyAttributeCount, CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
			   CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
			   CK_OBJECT_HANDLE_PTR phPrivateKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, keygen_pair(c, hSession, pMechanism, pPublicKeyTemplate,
			      ulPublicKeyAttributeCount, pPrivateKeyTemplate,
			      ulPrivateKeyAttributeCount, phPublicKey, phPrivateKey));
	return rv;
}

CK_RV ta_C_GenerateRandom(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData,
			  CK_ULONG ulRandomLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_generate_random(c, hSession, pRandomData, ulRandomLen));
	return rv;
}

CK_RV ta_C_SetPIN(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
		  CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_set_pin(c, hSession, pOldPin, ulOldLen, pNewPin, ulNewLen));
	return rv;
}

CK_RV ta_C_CreateObject(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, obj_create(c, hSession, pTemplate, ulCount, phObject));
	return rv;
}

CK_RV ta_C_CopyObject(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		      CK_OBJECT_HANDLE_PTR phNewObject)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, obj_copy(c, hSession, hObject, pTemplate, ulCount, phNewObject));
	return rv;
}

CK_RV ta_C_GetObjectSize(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			 CK_ULONG_PTR pulSize)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, obj_get_size(c, hSession, hObject, pulSize));
	return rv;
}

CK_RV ta_C_SetAttributeValue(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, obj_set_attribute_value(c, hSession, hObject, pTemplate, ulCount));
	return rv;
}

CK_RV ta_C_EncryptInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_encrypt_init(c, hSession, pMechanism, hKey));
	return rv;
}

CK_RV ta_C_Encrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		   CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_encrypt(c, hSession, pData, ulDataLen, pEncryptedData, pulEncryptedDataLen));
	return rv;
}

CK_RV ta_C_EncryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			 CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			 CK_ULONG_PTR pulEncryptedPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_encrypt_update(c, hSession, pPart, ulPartLen, pEncryptedPart,
				    pulEncryptedPartLen));
	return rv;
}

CK_RV ta_C_EncryptFinal(struct ta_client *c, CK_SESSION_HANDLE hSession,
			CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_encrypt_final(c, hSession, pLastEncryptedPart, pulLastEncryptedPartLen));
	return rv;
}

CK_RV ta_C_DecryptInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_decrypt_init(c, hSession, pMechanism, hKey));
	return rv;
}

CK_RV ta_C_Decrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
		   CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_decrypt(c, hSession, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen));
	return rv;
}

CK_RV ta_C_DecryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession,
			 CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
			 CK_ULONG_PTR pulPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_decrypt_update(c, hSession, pEncryptedPart, ulEncryptedPartLen, pPart,
				    pulPartLen));
	return rv;
}

CK_RV ta_C_DecryptFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
			CK_ULONG_PTR pulLastPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_decrypt_final(c, hSession, pLastPart, pulLastPartLen));
	return rv;
}

CK_RV ta_C_DigestInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_digest_init(c, hSession, pMechanism));
	return rv;
}

CK_RV ta_C_Digest(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		  CK_ULONG ulDataLen, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_digest(c, hSession, pData, ulDataLen, pDigest, pulDigestLen));
	return rv;
}

CK_RV ta_C_DigestUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			CK_ULONG ulPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_digest_update(c, hSession, pPart, ulPartLen));
	return rv;
}

CK_RV ta_C_DigestKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_digest_key(c, hSession, hKey));
	return rv;
}

CK_RV ta_C_DigestFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest,
		       CK_ULONG_PTR pulDigestLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_digest_final(c, hSession, pDigest, pulDigestLen));
	return rv;
}

CK_RV ta_C_SignRecoverInit(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_sign_recover_init(c, hSession, pMechanism, hKey));
	return rv;
}

CK_RV ta_C_SignRecover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		       CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_sign_recover(c, hSession, pData, ulDataLen, pSignature, pulSignatureLen));
	return rv;
}

CK_RV ta_C_VerifyInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_verify_init(c, hSession, pMechanism, hKey));
	return rv;
}

CK_RV ta_C_Verify(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		  CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_verify(c, hSession, pData, ulDataLen, pSignature, ulSignatureLen));
	return rv;
}

CK_RV ta_C_VerifyUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			CK_ULONG ulPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_verify_update(c, hSession, pPart, ulPartLen));
	return rv;
}

CK_RV ta_C_VerifyFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		       CK_ULONG ulSignatureLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_verify_final(c, hSession, pSignature, ulSignatureLen));
	return rv;
}

CK_RV ta_C_VerifyRecoverInit(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_verify_recover_init(c, hSession, pMechanism, hKey));
	return rv;
}

CK_RV ta_C_VerifyRecover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			 CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_verify_recover(c, hSession, pSignature, ulSignatureLen, pData, pulDataLen));
	return rv;
}

CK_RV ta_C_DigestEncryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			       CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			       CK_ULONG_PTR pulEncryptedPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_digest_encrypt_update(c, hSession, pPart, ulPartLen, pEncryptedPart,
					   pulEncryptedPartLen));
	return rv;
}

CK_RV ta_C_DecryptDigestUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_decrypt_digest_update(c, hSession, pEncryptedPart, ulEncryptedPartLen, pPart,
					   pulPartLen));
	return rv;
}

CK_RV ta_C_SignEncryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			     CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			     CK_ULONG_PTR pulEncryptedPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_sign_encrypt_update(c, hSession, pPart, ulPartLen, pEncryptedPart,
					 pulEncryptedPartLen));
	return rv;
}

CK_RV ta_C_DecryptVerifyUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, op_decrypt_verify_update(c, hSession, pEncryptedPart, ulEncryptedPartLen, pPart,
					   pulPartLen));
	return rv;
}

CK_RV ta_C_GenerateKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, keygen_secret(c, hSession, pMechanism, pTemplate, ulCount, phKey));
	return rv;
}

CK_RV ta_C_WrapKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		   CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
		   CK_ULONG_PTR pulWrappedKeyLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, key_wrap(c, hSession, pMechanism, hWrappingKey, hKey, pWrappedKey,
			   pulWrappedKeyLen));
	return rv;
}

CK_RV ta_C_UnwrapKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
		     CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
		     CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, key_unwrap(c, hSession, pMechanism, hUnwrappingKey, pWrappedKey, ulWrappedKeyLen,
			     pTemplate, ulAttributeCount, phKey));
	return rv;
}

CK_RV ta_C_DeriveKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate,
		     CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c,
	       key_derive(c, hSession, pMechanism, hBaseKey, pTemplate, ulAttributeCount, phKey));
	return rv;
}

CK_RV ta_C_SeedRandom(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed,
		      CK_ULONG ulSeedLen)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	LOCKED(c, token_seed_random(c, hSession, pSeed, ulSeedLen));
	return rv;
}
