/*
 * The PKCS#11 functions of libteehsm.so, as module.c's function list points to them, and the
 * helpers they share. Each cli_C_X has the arguments and return codes of C_X in PKCS#11 v2.40;
 * the ones that need the token forward the call to teehsmd as the message of the same name in
 * proto/teehsm.proto. Adding a function is one cli_C_X here and one message there.
 */
#ifndef TEEHSM_CLIENT_CLI_CALLS_H
#define TEEHSM_CLIENT_CLI_CALLS_H

#include <p11-kit/pkcs11.h>

#include "proto/codec.h"
#include "cli_sessions.h"

/* ---- Slots and sessions ----
 * The module may talk to several servers (one per `server` line). The application sees the
 * tokens of server i in slots i * 2^CLI_SLOT_SHIFT + the server's own slot number (so with one
 * server the numbers are the server's), and sessions under the module's own handles
 * (cli_sessions.h), each bound to the server and connection it was opened on. Object handles
 * are the server's: an object is only ever named together with a session. */
#define CLI_SLOT_SHIFT 16

struct cli_rpc;

/* Where a call went. */
struct cli_route {
	size_t server;	 /* index of the server */
	CK_SLOT_ID slot; /* the application's slot id (of the session, for session calls) */
	uint64_t conn;	 /* the connection it went over (0 when it reached none) */
};

/* ---- helpers (module.c, route.c, calls_common.c) ---- */

/* CKR_OK when C_Initialize was called in this process and C_Finalize has not been, else
 * CKR_CRYPTOKI_NOT_INITIALIZED (also in a forked child that did not call C_Initialize). */
CK_RV cli_check_initialized(void);

/* Begin a call on the module's servers: CKR_OK with srv[0..n) set, the call counted busy
 * (C_Finalize waits for it) until cli_end(); else CKR_CRYPTOKI_NOT_INITIALIZED. */
CK_RV cli_begin(struct cli_rpc *const **srv, size_t *n);
void cli_end(void);

/* The session table (module.c, under the module's lock): look up (CKR_OK with *out a copy, or
 * CKR_SESSION_HANDLE_INVALID), add (CKR_OK with *out the new handle, CKR_SESSION_COUNT,
 * CKR_HOST_MEMORY), forget one handle, forget every session of an application slot. */
CK_RV cli_session_get(CK_SESSION_HANDLE h, struct cli_session *out);
CK_RV cli_session_add(const struct cli_session *s, CK_SESSION_HANDLE *out);
void cli_session_forget(CK_SESSION_HANDLE h);
void cli_session_forget_slot(CK_SLOT_ID slot);

/* The application's slot id of server's slot remote; whether remote can be shown at all (it
 * must be below 2^CLI_SLOT_SHIFT). */
CK_SLOT_ID cli_slot_from_server(size_t server, uint64_t remote);
int cli_slot_presentable(uint64_t remote);

/* Send q to the server its session or slot (field 1 of the call, as the application's handle)
 * belongs to, with the server's handle in its place, and wait for the answer as cli_rpc_call
 * (cli_rpc.h) does. A session call goes over the session's connection only (CKR_DEVICE_REMOVED
 * when it is gone); a slot call may connect. CKR_SESSION_HANDLE_INVALID or CKR_SLOT_ID_INVALID
 * for a handle the module does not know, CKR_CRYPTOKI_NOT_INITIALIZED (and *resp NULL) when not
 * initialised. q is as it was on return. route (may be NULL) tells where the call went. The
 * caller frees *resp with codec_response_free. */
CK_RV cli_call_routed(Teehsm__Request *q, Teehsm__Response__ResultCase want,
		      Teehsm__Response **resp, struct cli_route *route);

/* cli_call_routed without the route. */
CK_RV cli_call(Teehsm__Request *q, Teehsm__Response__ResultCase want, Teehsm__Response **resp);

/* Send q as it is, without translating any handle, to server number `server`: on connection
 * conn only (as cli_rpc_opts.conn), or on any when conn is 0. conn_used (may be NULL) is set
 * as cli_rpc_call sets it. For C_GetSlotList, and for the server's own session handles. */
CK_RV cli_call_server(size_t server, uint64_t conn, Teehsm__Request *q,
		      Teehsm__Response__ResultCase want, uint64_t *conn_used,
		      Teehsm__Response **resp);

/* A number from the server that must fit a CK_ULONG: CKR_OK, or CKR_DEVICE_ERROR. */
CK_RV cli_ulong_from_wire(uint64_t v, CK_ULONG *out);

/* Point a request's optional PIN field at the caller's PIN (borrowed, not copied): absent for a
 * NULL pPin (protected authentication path). CKR_ARGUMENTS_BAD for NULL with a length. */
CK_RV cli_pin_to_wire(protobuf_c_boolean *has, ProtobufCBinaryData *dst, CK_UTF8CHAR_PTR pin,
		      CK_ULONG len);

/* Fill a request's optional out_len from the caller's output: absent for a NULL output pointer
 * (a size query), else the caller's buffer length *len. */
void cli_out_len_to_wire(protobuf_c_boolean *has, uint64_t *dst, const void *out,
			 const CK_ULONG *len);

/* Apply a byte-string answer (signature, ...) of a call that returned rv to the caller's
 * output out, whose length the caller gave as *len: out_len is what the server's function wrote
 * to its length, data the bytes (NULL when absent), present exactly when the function wrote them
 * (rv CKR_OK and out not NULL). Copies data into out and sets *len. CKR_OK, or CKR_DEVICE_ERROR
 * for an answer that cannot be right (bytes for a size query, more than the buffer holds). */
CK_RV cli_bytes_from_wire(CK_RV rv, CK_BYTE_PTR out, CK_ULONG_PTR len, uint64_t out_len,
			  const ProtobufCBinaryData *data);

/* Send q, a call on an active operation whose arguments the module refuses (NULL length
 * pointer, NULL data with a length), with abort set (teehsm.proto's conventions), so the token
 * ends the operation as the error requires. Returns the token's answer: CKR_ARGUMENTS_BAD, or
 * the reason there was no operation to end (CKR_OPERATION_NOT_INITIALIZED, ...). */
CK_RV cli_call_abort(Teehsm__Request *q, protobuf_c_boolean *has_abort, protobuf_c_boolean *abort);

/* Make a call whose request carries caller data, as cli_call does, following teehsm.proto's
 * abort convention: a request too large for a frame is sent again with has_abort and abort set
 * and its data (data, and data2 unless NULL) emptied, so the token ends its operation as the
 * error requires. Then *resp is NULL and the result is too_large, or the token's own answer when
 * it had no operation to end (CKR_OPERATION_NOT_INITIALIZED, CKR_SESSION_HANDLE_INVALID). */
CK_RV cli_call_abortable(Teehsm__Request *q, Teehsm__Response__ResultCase want,
			 Teehsm__Response **resp, protobuf_c_boolean *has_abort,
			 protobuf_c_boolean *abort, ProtobufCBinaryData *data,
			 ProtobufCBinaryData *data2, CK_RV too_large);

/* The answer of a call with bytes out (a BytesOutResponse in result case want) that returned
 * rv, applied to the caller's out/len as cli_bytes_from_wire does. Returns rv, or
 * CKR_DEVICE_ERROR for an answer that cannot be right. resp may be NULL (rv is returned). */
CK_RV cli_bytes_answer(CK_RV rv, const Teehsm__Response *resp, Teehsm__Response__ResultCase want,
		       CK_BYTE_PTR out, CK_ULONG_PTR len);

/* The answer of a call that creates one object (an ObjectResponse in result case want): sets
 * *out on CKR_OK. Returns rv, or CKR_DEVICE_ERROR for a handle that is not a CK_ULONG. */
CK_RV cli_object_answer(CK_RV rv, const Teehsm__Response *resp, Teehsm__Response__ResultCase want,
			CK_OBJECT_HANDLE_PTR out);

/* Apply a list answer (slots, mechanisms) the same way: out_count is what the server's
 * function wrote to its count, v/n the elements it wrote. */
CK_RV cli_ulongs_from_wire(CK_RV rv, CK_ULONG_PTR out, CK_ULONG_PTR count, uint64_t out_count,
			   const uint64_t *v, size_t n);

/* ---- §5.4 General-purpose functions (module.c) ---- */
CK_RV cli_C_Initialize(CK_VOID_PTR pInitArgs);
CK_RV cli_C_Finalize(CK_VOID_PTR pReserved);
CK_RV cli_C_GetInfo(CK_INFO_PTR pInfo);

/* ---- §5.5 Slot and token management (calls_slot.c) ---- */
CK_RV cli_C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount);
CK_RV cli_C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo);
CK_RV cli_C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo);
CK_RV cli_C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
			     CK_ULONG_PTR pulCount);
CK_RV cli_C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type,
			     CK_MECHANISM_INFO_PTR pInfo);
CK_RV cli_C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
		      CK_UTF8CHAR_PTR pLabel);
CK_RV cli_C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen);

/* ---- §5.6 Session management (calls_session.c) ---- */
CK_RV cli_C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication,
			CK_NOTIFY Notify, CK_SESSION_HANDLE_PTR phSession);
CK_RV cli_C_CloseSession(CK_SESSION_HANDLE hSession);
CK_RV cli_C_CloseAllSessions(CK_SLOT_ID slotID);
CK_RV cli_C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo);
CK_RV cli_C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
		  CK_ULONG ulPinLen);
CK_RV cli_C_Logout(CK_SESSION_HANDLE hSession);

/* ---- §5.7 Object management (calls_object.c) ---- */
CK_RV cli_C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject);
CK_RV cli_C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);
CK_RV cli_C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate,
			    CK_ULONG ulCount);
CK_RV cli_C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
			CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount);
CK_RV cli_C_FindObjectsFinal(CK_SESSION_HANDLE hSession);

/* ---- §5.5 (calls_slot.c) ---- */
CK_RV cli_C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
		   CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen);

/* ---- §5.7 (calls_object.c) ---- */
CK_RV cli_C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
			 CK_OBJECT_HANDLE_PTR phObject);
CK_RV cli_C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
		       CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
		       CK_OBJECT_HANDLE_PTR phNewObject);
CK_RV cli_C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			  CK_ULONG_PTR pulSize);
CK_RV cli_C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
			      CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount);

/* ---- §5.8-§5.13 Encryption, decryption, digests, signatures, dual functions
 * (calls_crypto.c) ---- */
CK_RV cli_C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_OBJECT_HANDLE hKey);
CK_RV cli_C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		    CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen);
CK_RV cli_C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
			  CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen);
CK_RV cli_C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
			 CK_ULONG_PTR pulLastEncryptedPartLen);
CK_RV cli_C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_OBJECT_HANDLE hKey);
CK_RV cli_C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
		    CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen);
CK_RV cli_C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
			  CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen);
CK_RV cli_C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
			 CK_ULONG_PTR pulLastPartLen);
CK_RV cli_C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism);
CK_RV cli_C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen);
CK_RV cli_C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen);
CK_RV cli_C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey);
CK_RV cli_C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen);
CK_RV cli_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		     CK_OBJECT_HANDLE hKey);
CK_RV cli_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		 CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);
CK_RV cli_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen);
CK_RV cli_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		      CK_ULONG_PTR pulSignatureLen);
CK_RV cli_C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			    CK_OBJECT_HANDLE hKey);
CK_RV cli_C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
			CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen);
CK_RV cli_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey);
CK_RV cli_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen);
CK_RV cli_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen);
CK_RV cli_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			CK_ULONG ulSignatureLen);
CK_RV cli_C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			      CK_OBJECT_HANDLE hKey);
CK_RV cli_C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			  CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen);
CK_RV cli_C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
				CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen);
CK_RV cli_C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
				CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
				CK_ULONG_PTR pulPartLen);
CK_RV cli_C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
			      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen);
CK_RV cli_C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
				CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
				CK_ULONG_PTR pulPartLen);

/* ---- §5.14 Key management, §5.15 random numbers (calls_keys.c) ---- */
CK_RV cli_C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey);
CK_RV cli_C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			    CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
			    CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
			    CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
			    CK_OBJECT_HANDLE_PTR phPrivateKey);
CK_RV cli_C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		    CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
		    CK_ULONG_PTR pulWrappedKeyLen);
CK_RV cli_C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
		      CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
		      CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey);
CK_RV cli_C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate,
		      CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey);
CK_RV cli_C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen);
CK_RV cli_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData,
			   CK_ULONG ulRandomLen);

/* ---- Answered locally (calls_unsupported.c): no token can save operation state (§5.6),
 * no function runs in parallel (§5.16), no slot event is ever reported (§5.5). ---- */
CK_RV cli_C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
			      CK_ULONG_PTR pulOperationStateLen);
CK_RV cli_C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
			      CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
			      CK_OBJECT_HANDLE hAuthenticationKey);
CK_RV cli_C_GetFunctionStatus(CK_SESSION_HANDLE hSession);
CK_RV cli_C_CancelFunction(CK_SESSION_HANDLE hSession);
CK_RV cli_C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved);

#endif
