/*
 * Module functions behind ta_C_* entry points that the token core does not implement yet.
 * Each answers CKR_FUNCTION_NOT_SUPPORTED from pending.c; implementing one means moving its
 * prototype to the module's header (core.h, mech.h, ...) and deleting its stub here.
 */
#ifndef TEEHSM_TA_PENDING_H
#define TEEHSM_TA_PENDING_H

#include "core.h"

/* C_SetPIN (stub). */
CK_RV token_set_pin(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
		    CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen);

/* C_CreateObject (stub). */
CK_RV obj_create(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
		 CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject);

/* C_CopyObject (stub). */
CK_RV obj_copy(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
	       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject);

/* C_GetObjectSize (stub). */
CK_RV obj_get_size(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		   CK_ULONG_PTR pulSize);

/* C_SetAttributeValue (stub). */
CK_RV obj_set_attribute_value(struct ta_client *c, CK_SESSION_HANDLE hSession,
			      CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
			      CK_ULONG ulCount);

/* C_EncryptInit (stub). */
CK_RV op_encrypt_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hKey);

/* C_Encrypt (stub). */
CK_RV op_encrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		 CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen);

/* C_EncryptUpdate (stub). */
CK_RV op_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			CK_ULONG_PTR pulEncryptedPartLen);

/* C_EncryptFinal (stub). */
CK_RV op_encrypt_final(struct ta_client *c, CK_SESSION_HANDLE hSession,
		       CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen);

/* C_DecryptInit (stub). */
CK_RV op_decrypt_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hKey);

/* C_Decrypt (stub). */
CK_RV op_decrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
		 CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen);

/* C_DecryptUpdate (stub). */
CK_RV op_decrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
			CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen);

/* C_DecryptFinal (stub). */
CK_RV op_decrypt_final(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
		       CK_ULONG_PTR pulLastPartLen);

/* C_DigestInit (stub). */
CK_RV op_digest_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism);

/* C_Digest (stub). */
CK_RV op_digest(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		CK_ULONG ulDataLen, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen);

/* C_DigestUpdate (stub). */
CK_RV op_digest_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
		       CK_ULONG ulPartLen);

/* C_DigestKey (stub). */
CK_RV op_digest_key(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey);

/* C_DigestFinal (stub). */
CK_RV op_digest_final(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest,
		      CK_ULONG_PTR pulDigestLen);

/* C_SignRecoverInit (stub). */
CK_RV op_sign_recover_init(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);

/* C_SignRecover (stub). */
CK_RV op_sign_recover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		      CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);

/* C_VerifyInit (stub). */
CK_RV op_verify_init(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hKey);

/* C_Verify (stub). */
CK_RV op_verify(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);

/* C_VerifyUpdate (stub). */
CK_RV op_verify_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
		       CK_ULONG ulPartLen);

/* C_VerifyFinal (stub). */
CK_RV op_verify_final(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		      CK_ULONG ulSignatureLen);

/* C_VerifyRecoverInit (stub). */
CK_RV op_verify_recover_init(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);

/* C_VerifyRecover (stub). */
CK_RV op_verify_recover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen);

/* C_DigestEncryptUpdate (stub). */
CK_RV op_digest_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			       CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			       CK_ULONG_PTR pulEncryptedPartLen);

/* C_DecryptDigestUpdate (stub). */
CK_RV op_decrypt_digest_update(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen);

/* C_SignEncryptUpdate (stub). */
CK_RV op_sign_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			     CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			     CK_ULONG_PTR pulEncryptedPartLen);

/* C_DecryptVerifyUpdate (stub). */
CK_RV op_decrypt_verify_update(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen);

/* C_GenerateKey (stub). */
CK_RV keygen_secret(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey);

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

/* C_SeedRandom (stub). */
CK_RV token_seed_random(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed,
			CK_ULONG ulSeedLen);

#endif
