/*
 * §5.8-§5.13: encryption, decryption, digests, signatures, verification and the dual functions,
 * forwarded to teehsmd. They come in four shapes, one helper each: an Init (mechanism and
 * key), data in with bytes out, data in only, bytes out only.
 */
#include "cli_calls.h"

static CK_RV key_init(Teehsm__Request__CallCase call, CK_SESSION_HANDLE hSession,
		      CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__KeyOpInitRequest a = TEEHSM__KEY_OP_INIT_REQUEST__INIT;
	struct codec_mech_wire m;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pMechanism)
		return CKR_ARGUMENTS_BAD;
	rv = codec_mech_to_wire(&m, pMechanism);
	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	a.mechanism = &m.m;
	a.key = codec_ulong_to_wire(hKey);
	q.call_case = call;
	q.sign_init = &a; /* every *Init call is a KeyOpInitRequest; the calls share one union */
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

/* Data in, bytes out. too_large is the answer when the data cannot fit a frame. */
static CK_RV data_call(Teehsm__Request__CallCase call, Teehsm__Response__ResultCase want,
		       CK_SESSION_HANDLE hSession, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
		       CK_ULONG_PTR out_len, CK_RV too_large)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__DataRequest a = TEEHSM__DATA_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	q.call_case = call;
	q.sign = &a; /* every data call is a DataRequest; the calls share one union */
	if ((!in && in_len) || !out_len)
		return cli_call_abort(&q, &a.has_abort, &a.abort);
	a.data.data = in; /* borrowed */
	a.data.len = in_len;
	cli_out_len_to_wire(&a.has_out_len, &a.out_len, out, out_len);
	rv = cli_call_abortable(&q, want, &resp, &a.has_abort, &a.abort, &a.data, NULL, too_large);
	rv = cli_bytes_answer(rv, resp, want, out, out_len);
	codec_response_free(resp);
	return rv;
}

/* One PartRequest; CKR_DATA_LEN_RANGE with *sent 0 when it does not fit a frame. */
static CK_RV part_once(Teehsm__Request__CallCase call, CK_SESSION_HANDLE hSession, CK_BYTE_PTR in,
		       CK_ULONG in_len, int *sent)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__PartRequest a = TEEHSM__PART_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.session = codec_ulong_to_wire(hSession);
	a.part.data = in; /* borrowed */
	a.part.len = in_len;
	q.call_case = call;
	q.sign_update = &a; /* every update without output is a PartRequest */
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	*sent = rv != CKR_DATA_LEN_RANGE || resp;
	codec_response_free(resp);
	return rv;
}

/* Data in only (C_DigestUpdate, C_SignUpdate, C_VerifyUpdate): a part too large for a frame is
 * split in halves until the pieces fit, since an update with a||b is an update with a, then b. */
static CK_RV part_send(Teehsm__Request__CallCase call, CK_SESSION_HANDLE hSession, CK_BYTE_PTR in,
		       CK_ULONG in_len)
{
	CK_ULONG half = in_len / 2;
	int sent = 0;
	CK_RV rv = part_once(call, hSession, in, in_len, &sent);

	if (sent || in_len <= 1)
		return rv;
	rv = part_send(call, hSession, in, half);
	if (rv == CKR_OK)
		rv = part_send(call, hSession, in + half, in_len - half);
	return rv;
}

static CK_RV part_call(Teehsm__Request__CallCase call, CK_SESSION_HANDLE hSession, CK_BYTE_PTR in,
		       CK_ULONG in_len)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__PartRequest a = TEEHSM__PART_REQUEST__INIT;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!in && in_len) {
		a.session = codec_ulong_to_wire(hSession);
		q.call_case = call;
		q.sign_update = &a;
		return cli_call_abort(&q, &a.has_abort, &a.abort);
	}
	return part_send(call, hSession, in, in_len);
}

/* Bytes out only. */
static CK_RV final_call(Teehsm__Request__CallCase call, Teehsm__Response__ResultCase want,
			CK_SESSION_HANDLE hSession, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__FinalRequest a = TEEHSM__FINAL_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	q.call_case = call;
	q.sign_final = &a; /* every final is a FinalRequest */
	if (!out_len)
		return cli_call_abort(&q, &a.has_abort, &a.abort);
	cli_out_len_to_wire(&a.has_out_len, &a.out_len, out, out_len);
	rv = cli_call(&q, want, &resp);
	rv = cli_bytes_answer(rv, resp, want, out, out_len);
	codec_response_free(resp);
	return rv;
}

/* ---- §5.8 Encryption ---- */

CK_RV cli_C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_OBJECT_HANDLE hKey)
{
	return key_init(TEEHSM__REQUEST__CALL_ENCRYPT_INIT, hSession, pMechanism, hKey);
}

CK_RV cli_C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		    CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	return data_call(TEEHSM__REQUEST__CALL_ENCRYPT, TEEHSM__RESPONSE__RESULT_ENCRYPT, hSession,
			 pData, ulDataLen, pEncryptedData, pulEncryptedDataLen, CKR_DATA_LEN_RANGE);
}

CK_RV cli_C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
			  CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return data_call(TEEHSM__REQUEST__CALL_ENCRYPT_UPDATE,
			 TEEHSM__RESPONSE__RESULT_ENCRYPT_UPDATE, hSession, pPart, ulPartLen,
			 pEncryptedPart, pulEncryptedPartLen, CKR_DATA_LEN_RANGE);
}

CK_RV cli_C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
			 CK_ULONG_PTR pulLastEncryptedPartLen)
{
	return final_call(TEEHSM__REQUEST__CALL_ENCRYPT_FINAL,
			  TEEHSM__RESPONSE__RESULT_ENCRYPT_FINAL, hSession, pLastEncryptedPart,
			  pulLastEncryptedPartLen);
}

/* ---- §5.9 Decryption ---- */

CK_RV cli_C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_OBJECT_HANDLE hKey)
{
	return key_init(TEEHSM__REQUEST__CALL_DECRYPT_INIT, hSession, pMechanism, hKey);
}

CK_RV cli_C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData,
		    CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return data_call(TEEHSM__REQUEST__CALL_DECRYPT, TEEHSM__RESPONSE__RESULT_DECRYPT, hSession,
			 pEncryptedData, ulEncryptedDataLen, pData, pulDataLen,
			 CKR_ENCRYPTED_DATA_LEN_RANGE);
}

CK_RV cli_C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
			  CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	return data_call(TEEHSM__REQUEST__CALL_DECRYPT_UPDATE,
			 TEEHSM__RESPONSE__RESULT_DECRYPT_UPDATE, hSession, pEncryptedPart,
			 ulEncryptedPartLen, pPart, pulPartLen, CKR_ENCRYPTED_DATA_LEN_RANGE);
}

CK_RV cli_C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
			 CK_ULONG_PTR pulLastPartLen)
{
	return final_call(TEEHSM__REQUEST__CALL_DECRYPT_FINAL,
			  TEEHSM__RESPONSE__RESULT_DECRYPT_FINAL, hSession, pLastPart,
			  pulLastPartLen);
}

/* ---- §5.10 Message digesting ---- */

CK_RV cli_C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__DigestInitRequest a = TEEHSM__DIGEST_INIT_REQUEST__INIT;
	struct codec_mech_wire m;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pMechanism)
		return CKR_ARGUMENTS_BAD;
	rv = codec_mech_to_wire(&m, pMechanism);
	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	a.mechanism = &m.m;
	q.call_case = TEEHSM__REQUEST__CALL_DIGEST_INIT;
	q.digest_init = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	/* C_Digest lists no length error: data the device cannot take in one piece is a lack of
	 * device memory. */
	return data_call(TEEHSM__REQUEST__CALL_DIGEST, TEEHSM__RESPONSE__RESULT_DIGEST, hSession,
			 pData, ulDataLen, pDigest, pulDigestLen, CKR_DEVICE_MEMORY);
}

CK_RV cli_C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return part_call(TEEHSM__REQUEST__CALL_DIGEST_UPDATE, hSession, pPart, ulPartLen);
}

CK_RV cli_C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__DigestKeyRequest a = TEEHSM__DIGEST_KEY_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.session = codec_ulong_to_wire(hSession);
	a.key = codec_ulong_to_wire(hKey);
	q.call_case = TEEHSM__REQUEST__CALL_DIGEST_KEY;
	q.digest_key = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	return final_call(TEEHSM__REQUEST__CALL_DIGEST_FINAL, TEEHSM__RESPONSE__RESULT_DIGEST_FINAL,
			  hSession, pDigest, pulDigestLen);
}

/* ---- §5.11 Signing and MACing ---- */

CK_RV cli_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	return key_init(TEEHSM__REQUEST__CALL_SIGN_INIT, hSession, pMechanism, hKey);
}

CK_RV cli_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		 CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return data_call(TEEHSM__REQUEST__CALL_SIGN, TEEHSM__RESPONSE__RESULT_SIGN, hSession, pData,
			 ulDataLen, pSignature, pulSignatureLen, CKR_DATA_LEN_RANGE);
}

CK_RV cli_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return part_call(TEEHSM__REQUEST__CALL_SIGN_UPDATE, hSession, pPart, ulPartLen);
}

CK_RV cli_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		      CK_ULONG_PTR pulSignatureLen)
{
	return final_call(TEEHSM__REQUEST__CALL_SIGN_FINAL, TEEHSM__RESPONSE__RESULT_SIGN_FINAL,
			  hSession, pSignature, pulSignatureLen);
}

CK_RV cli_C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			    CK_OBJECT_HANDLE hKey)
{
	return key_init(TEEHSM__REQUEST__CALL_SIGN_RECOVER_INIT, hSession, pMechanism, hKey);
}

CK_RV cli_C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
			CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	return data_call(TEEHSM__REQUEST__CALL_SIGN_RECOVER, TEEHSM__RESPONSE__RESULT_SIGN_RECOVER,
			 hSession, pData, ulDataLen, pSignature, pulSignatureLen,
			 CKR_DATA_LEN_RANGE);
}

/* ---- §5.12 Verifying signatures and MACs ---- */

CK_RV cli_C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		       CK_OBJECT_HANDLE hKey)
{
	return key_init(TEEHSM__REQUEST__CALL_VERIFY_INIT, hSession, pMechanism, hKey);
}

CK_RV cli_C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		   CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__VerifyRequest a = TEEHSM__VERIFY_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_VERIFY;
	q.verify = &a;
	if ((!pData && ulDataLen) || (!pSignature && ulSignatureLen))
		return cli_call_abort(&q, &a.has_abort, &a.abort);
	a.data.data = pData; /* borrowed */
	a.data.len = ulDataLen;
	a.signature.data = pSignature;
	a.signature.len = ulSignatureLen;
	rv = cli_call_abortable(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp, &a.has_abort,
				&a.abort, &a.data, &a.signature, CKR_DATA_LEN_RANGE);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	return part_call(TEEHSM__REQUEST__CALL_VERIFY_UPDATE, hSession, pPart, ulPartLen);
}

CK_RV cli_C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__VerifyFinalRequest a = TEEHSM__VERIFY_FINAL_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	q.call_case = TEEHSM__REQUEST__CALL_VERIFY_FINAL;
	q.verify_final = &a;
	if (!pSignature && ulSignatureLen)
		return cli_call_abort(&q, &a.has_abort, &a.abort);
	a.signature.data = pSignature; /* borrowed */
	a.signature.len = ulSignatureLen;
	rv = cli_call_abortable(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp, &a.has_abort,
				&a.abort, &a.signature, NULL, CKR_SIGNATURE_LEN_RANGE);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			      CK_OBJECT_HANDLE hKey)
{
	return key_init(TEEHSM__REQUEST__CALL_VERIFY_RECOVER_INIT, hSession, pMechanism, hKey);
}

CK_RV cli_C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
			  CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	return data_call(TEEHSM__REQUEST__CALL_VERIFY_RECOVER,
			 TEEHSM__RESPONSE__RESULT_VERIFY_RECOVER, hSession, pSignature,
			 ulSignatureLen, pData, pulDataLen, CKR_SIGNATURE_LEN_RANGE);
}

/* ---- §5.13 Dual-function cryptographic operations ---- */

CK_RV cli_C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
				CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return data_call(TEEHSM__REQUEST__CALL_DIGEST_ENCRYPT_UPDATE,
			 TEEHSM__RESPONSE__RESULT_DIGEST_ENCRYPT_UPDATE, hSession, pPart, ulPartLen,
			 pEncryptedPart, pulEncryptedPartLen, CKR_DATA_LEN_RANGE);
}

CK_RV cli_C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
				CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
				CK_ULONG_PTR pulPartLen)
{
	return data_call(TEEHSM__REQUEST__CALL_DECRYPT_DIGEST_UPDATE,
			 TEEHSM__RESPONSE__RESULT_DECRYPT_DIGEST_UPDATE, hSession, pEncryptedPart,
			 ulEncryptedPartLen, pPart, pulPartLen, CKR_ENCRYPTED_DATA_LEN_RANGE);
}

CK_RV cli_C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
			      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	return data_call(TEEHSM__REQUEST__CALL_SIGN_ENCRYPT_UPDATE,
			 TEEHSM__RESPONSE__RESULT_SIGN_ENCRYPT_UPDATE, hSession, pPart, ulPartLen,
			 pEncryptedPart, pulEncryptedPartLen, CKR_DATA_LEN_RANGE);
}

CK_RV cli_C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
				CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart,
				CK_ULONG_PTR pulPartLen)
{
	return data_call(TEEHSM__REQUEST__CALL_DECRYPT_VERIFY_UPDATE,
			 TEEHSM__RESPONSE__RESULT_DECRYPT_VERIFY_UPDATE, hSession, pEncryptedPart,
			 ulEncryptedPartLen, pPart, pulPartLen, CKR_ENCRYPTED_DATA_LEN_RANGE);
}
