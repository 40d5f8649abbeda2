/*
 * ta.h — the whole API of the token core (the TEE boundary of DESIGN.md).
 *
 * One ta_C_* call per PKCS#11 function, taking PKCS#11 types and the calling application's
 * struct ta_client. Semantics, argument checks and return codes are those of the PKCS#11 v2.40
 * base specification for the function of the same name, with these differences of transport:
 *   - there is no notify callback or application pointer in C_OpenSession;
 *   - output buffers follow the size-query convention exactly as the caller's module saw it:
 *     a NULL output pointer is a size query, otherwise *pulLen is the caller's buffer length.
 *
 * Nothing above this header sees how objects are stored or keys are held; key material never
 * leaves ta/ except as the PKCS#11 rules allow (public attributes, extractable values).
 *
 * Thread safety: every ta_C_* call may be made from any thread; the core serialises where it
 * must. A struct ta_client is used by one connection; its calls may arrive from several threads.
 */
#ifndef TEEHSM_TA_H
#define TEEHSM_TA_H

#include <p11-kit/pkcs11.h>

/* The token core: one store directory holding one token, presented in slot TA_SLOT_ID. */
struct ta;
/* One connected application (one PKCS#11 C_Initialize..C_Finalize of a remote module). Its
 * sessions and its login state belong to it and end with ta_client_free. */
struct ta_client;

#define TA_SLOT_ID ((CK_SLOT_ID)0)

struct ta_config {
	/* Directory of the sealed store (created 0700 when absent). Required. */
	const char *store_dir;
	/* The emulated TEE's device root key: 32 random bytes in a 0600 file, created when absent.
	 * NULL means "<store_dir>/root.key". On a real TEE this is the hardware unique key. */
	const char *root_key_path;
	/* PBKDF2-HMAC-SHA256 iterations for PIN records written from now on; 0 = default (300000).
	 * Existing records keep the count they were written with. */
	unsigned long pin_kdf_iterations;
	/* Consecutive wrong PINs after which a PIN is locked; 0 = default (10). */
	unsigned long max_pin_failures;
	/* Cap on open sessions per client; 0 = default (256). */
	unsigned long max_sessions;
};

/* Open the store (creating the directory, root key and an uninitialised token when absent).
 * On CKR_OK *out owns a new core; free it with ta_close. On failure a reason is logged. */
CK_RV ta_open(const struct ta_config *cfg, struct ta **out);

/* Close the core: all clients must have been freed. Wipes all key material in memory.
 * Accepts NULL. */
void ta_close(struct ta *ta);

/* A new application context. On CKR_OK *out owns it; free with ta_client_free. */
CK_RV ta_client_new(struct ta *ta, struct ta_client **out);

/* End an application: closes its sessions (destroying its session objects) and ends its login.
 * Accepts NULL. */
void ta_client_free(struct ta_client *c);

/* How many sessions the application has open now (0 for NULL). */
unsigned long ta_client_session_count(struct ta_client *c);

/* --- Slot and token management (PKCS#11 v2.40 §5.5) --- */
CK_RV ta_C_GetSlotList(struct ta_client *c, CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList,
		       CK_ULONG_PTR pulCount);
CK_RV ta_C_GetSlotInfo(struct ta_client *c, CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo);
CK_RV ta_C_GetTokenInfo(struct ta_client *c, CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo);
CK_RV ta_C_GetMechanismList(struct ta_client *c, CK_SLOT_ID slotID,
			    CK_MECHANISM_TYPE_PTR pMechanismList, CK_ULONG_PTR pulCount);
CK_RV ta_C_GetMechanismInfo(struct ta_client *c, CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
			    CK_MECHANISM_INFO_PTR pInfo);
CK_RV ta_C_InitToken(struct ta_client *c, CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin,
		     CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel);
CK_RV ta_C_InitPIN(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin,
		   CK_ULONG ulPinLen);
CK_RV ta_C_SetPIN(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin,
		  CK_ULONG ulOldLen, CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen);

/* --- Session management (§5.6) --- */
CK_RV ta_C_OpenSession(struct ta_client *c, CK_SLOT_ID slotID, CK_FLAGS flags,
		       CK_SESSION_HANDLE_PTR phSession);
CK_RV ta_C_CloseSession(struct ta_client *c, CK_SESSION_HANDLE hSession);
CK_RV ta_C_CloseAllSessions(struct ta_client *c, CK_SLOT_ID slotID);
CK_RV ta_C_GetSessionInfo(struct ta_client *c, CK_SESSION_HANDLE hSession,
			  CK_SESSION_INFO_PTR pInfo);
CK_RV ta_C_Login(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
		 CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen);
CK_RV ta_C_Logout(struct ta_client *c, CK_SESSION_HANDLE hSession);

/* --- Object management (§5.7) --- */
CK_RV ta_C_CreateObject(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject);
CK_RV ta_C_CopyObject(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		      CK_OBJECT_HANDLE_PTR phNewObject);
CK_RV ta_C_GetObjectSize(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			 CK_ULONG_PTR pulSize);
CK_RV ta_C_SetAttributeValue(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
			     CK_ULONG ulCount);
CK_RV ta_C_DestroyObject(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject);
CK_RV ta_C_GetAttributeValue(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
			     CK_ULONG ulCount);
CK_RV ta_C_FindObjectsInit(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CK_RV ta_C_FindObjects(struct ta_client *c, CK_SESSION_HANDLE hSession,
		       CK_OBJECT_HANDLE_PTR phObject, CK_ULONG ulMaxObjectCount,
		       CK_ULONG_PTR pulObjectCount);
CK_RV ta_C_FindObjectsFinal(struct ta_client *c, CK_SESSION_HANDLE hSession);

/* --- Encryption and decryption (§5.8, §5.9) --- */
CK_RV ta_C_EncryptInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey);
CK_RV ta_C_Encrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		   CK_ULONG ulDataLen, CK_BYTE_PTR pEncryptedData,
		   CK_ULONG_PTR pulEncryptedDataLen);
CK_RV ta_C_EncryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			 CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			 CK_ULONG_PTR pulEncryptedPartLen);
CK_RV ta_C_EncryptFinal(struct ta_client *c, CK_SESSION_HANDLE hSession,
			CK_BYTE_PTR pLastEncryptedPart, CK_ULONG_PTR pulLastEncryptedPartLen);
CK_RV ta_C_DecryptInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey);
CK_RV ta_C_Decrypt(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
		   CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen);
CK_RV ta_C_DecryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession,
			 CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
			 CK_ULONG_PTR pulPartLen);
CK_RV ta_C_DecryptFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
			CK_ULONG_PTR pulLastPartLen);

/* --- Message digesting (§5.10) --- */
CK_RV ta_C_DigestInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism);
CK_RV ta_C_Digest(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		  CK_ULONG ulDataLen, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen);
CK_RV ta_C_DigestUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			CK_ULONG ulPartLen);
CK_RV ta_C_DigestKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey);
CK_RV ta_C_DigestFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest,
		       CK_ULONG_PTR pulDigestLen);

/* --- Signing and MACing (§5.11) --- */
CK_RV ta_C_SignInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		    CK_OBJECT_HANDLE hKey);
CK_RV ta_C_Sign(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);
CK_RV ta_C_SignUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
		      CK_ULONG ulPartLen);
CK_RV ta_C_SignFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		     CK_ULONG_PTR pulSignatureLen);

CK_RV ta_C_SignRecoverInit(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV ta_C_SignRecover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		       CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);

/* --- Verifying signatures and MACs (§5.12) --- */
CK_RV ta_C_VerifyInit(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hKey);
CK_RV ta_C_Verify(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData,
		  CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);
CK_RV ta_C_VerifyUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			CK_ULONG ulPartLen);
CK_RV ta_C_VerifyFinal(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		       CK_ULONG ulSignatureLen);
CK_RV ta_C_VerifyRecoverInit(struct ta_client *c, CK_SESSION_HANDLE hSession,
			     CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey);
CK_RV ta_C_VerifyRecover(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			 CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen);

/* --- Dual-function cryptographic operations (§5.13) --- */
CK_RV ta_C_DigestEncryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			       CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			       CK_ULONG_PTR pulEncryptedPartLen);
CK_RV ta_C_DecryptDigestUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen);
CK_RV ta_C_SignEncryptUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart,
			     CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart,
			     CK_ULONG_PTR pulEncryptedPartLen);
CK_RV ta_C_DecryptVerifyUpdate(struct ta_client *c, CK_SESSION_HANDLE hSession,
			       CK_BYTE_PTR pEncryptedPart, CK_ULONG ulEncryptedPartLen,
			       CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen);

/* --- Key management (§5.14) and random numbers (§5.15) --- */
CK_RV ta_C_GenerateKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey);
CK_RV ta_C_WrapKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		   CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
		   CK_ULONG_PTR pulWrappedKeyLen);
CK_RV ta_C_UnwrapKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
		     CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
		     CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey);
CK_RV ta_C_DeriveKey(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate,
		     CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey);
CK_RV ta_C_SeedRandom(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed,
		      CK_ULONG ulSeedLen);
CK_RV ta_C_GenerateKeyPair(struct ta_client *c, CK_SESSION_HANDLE hSession,
			   CK_MECHANISM_PTR pMechanism, CK_ATTRIBUTE_PTR pPublicKeyTemplate,
			   CK_ULONG ulPublicKeyAttributeCount, CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
			   CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
			   CK_OBJECT_HANDLE_PTR phPrivateKey);
CK_RV ta_C_GenerateRandom(struct ta_client *c, CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData,
			  CK_ULONG ulRandomLen);

#endif
