/* The ta_C_* entry points of ta.h: each takes the ta-wide lock around its module function. */
#include "core.h"
#include "mech.h"

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
