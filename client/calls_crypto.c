/* §5.11 Signing, §5.14 key generation and §5.15 random numbers, forwarded to teehsmd. */
#include <string.h>

#include "cli_calls.h"

/* Random bytes asked of the server per request: far below any frame cap, so a large
 * C_GenerateRandom works whatever the server's max_frame. */
#define RANDOM_CHUNK (32u << 10)

CK_RV cli_C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SignInitRequest a = TEEHSM__SIGN_INIT_REQUEST__INIT;
	Teehsm__Mechanism m = TEEHSM__MECHANISM__INIT;
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
	a.mechanism = &m;
	a.key = codec_ulong_to_wire(hKey);
	q.call_case = TEEHSM__REQUEST__CALL_SIGN_INIT;
	q.sign_init = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

/* The answer of C_Sign and C_SignFinal: the signature and its length, or the length alone. */
static CK_RV signature_from_wire(CK_RV rv, const Teehsm__SignResponse *r, CK_BYTE_PTR pSignature,
				 CK_ULONG_PTR pulSignatureLen)
{
	if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
		return rv;
	if (!r) /* the length must come back with CKR_BUFFER_TOO_SMALL too */
		return CKR_DEVICE_ERROR;
	if (cli_bytes_from_wire(rv, pSignature, pulSignatureLen, r->out_len,
				r->has_signature ? &r->signature : NULL) != CKR_OK)
		return CKR_DEVICE_ERROR;
	return rv;
}

CK_RV cli_C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
		 CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SignRequest a = TEEHSM__SIGN_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if ((!pData && ulDataLen) || !pulSignatureLen)
		return CKR_ARGUMENTS_BAD;
	a.session = codec_ulong_to_wire(hSession);
	a.data.data = pData; /* borrowed */
	a.data.len = ulDataLen;
	cli_out_len_to_wire(&a.has_out_len, &a.out_len, pSignature, pulSignatureLen);
	q.call_case = TEEHSM__REQUEST__CALL_SIGN;
	q.sign = &a;
	/* XXX: data too large for a frame gets CKR_DATA_LEN_RANGE here, but the request never
	 * left, so the server's signing operation stays active where PKCS#11 says an error ends
	 * it. A later step could split it into C_SignUpdate parts for multi-part mechanisms. */
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_SIGN, &resp);
	if (resp)
		rv = signature_from_wire(
			rv, resp->result_case == TEEHSM__RESPONSE__RESULT_SIGN ? resp->sign : NULL,
			pSignature, pulSignatureLen);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SignUpdateRequest a = TEEHSM__SIGN_UPDATE_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pPart && ulPartLen)
		return CKR_ARGUMENTS_BAD;
	a.session = codec_ulong_to_wire(hSession);
	a.part.data = pPart; /* borrowed */
	a.part.len = ulPartLen;
	q.call_case = TEEHSM__REQUEST__CALL_SIGN_UPDATE;
	q.sign_update = &a;
	/* XXX: a part larger than a frame gets CKR_DATA_LEN_RANGE (and the operation stays active
	 * on the server); it could be split into several updates. */
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
		      CK_ULONG_PTR pulSignatureLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SignFinalRequest a = TEEHSM__SIGN_FINAL_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pulSignatureLen)
		return CKR_ARGUMENTS_BAD;
	a.session = codec_ulong_to_wire(hSession);
	cli_out_len_to_wire(&a.has_out_len, &a.out_len, pSignature, pulSignatureLen);
	q.call_case = TEEHSM__REQUEST__CALL_SIGN_FINAL;
	q.sign_final = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_SIGN_FINAL, &resp);
	if (resp)
		rv = signature_from_wire(rv,
					 resp->result_case == TEEHSM__RESPONSE__RESULT_SIGN_FINAL
						 ? resp->sign_final
						 : NULL,
					 pSignature, pulSignatureLen);
	codec_response_free(resp);
	return rv;
}

CK_RV cli_C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			    CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
			    CK_ATTRIBUTE_PTR pPrivateKeyTemplate,
			    CK_ULONG ulPrivateKeyAttributeCount, CK_OBJECT_HANDLE_PTR phPublicKey,
			    CK_OBJECT_HANDLE_PTR phPrivateKey)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GenerateKeyPairRequest a = TEEHSM__GENERATE_KEY_PAIR_REQUEST__INIT;
	Teehsm__Mechanism m = TEEHSM__MECHANISM__INIT;
	Teehsm__Response *resp = NULL;
	struct codec_attrs pub = { NULL, 0 }, priv = { NULL, 0 };
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pMechanism || !phPublicKey || !phPrivateKey ||
	    (!pPublicKeyTemplate && ulPublicKeyAttributeCount) ||
	    (!pPrivateKeyTemplate && ulPrivateKeyAttributeCount))
		return CKR_ARGUMENTS_BAD;
	rv = codec_mech_to_wire(&m, pMechanism);
	if (rv != CKR_OK)
		goto out;
	rv = codec_template_to_wire(&pub, pPublicKeyTemplate, ulPublicKeyAttributeCount);
	if (rv != CKR_OK)
		goto out;
	rv = codec_template_to_wire(&priv, pPrivateKeyTemplate, ulPrivateKeyAttributeCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.mechanism = &m;
	a.public_template = pub.v;
	a.n_public_template = pub.n;
	a.private_template = priv.v;
	a.n_private_template = priv.n;
	q.call_case = TEEHSM__REQUEST__CALL_GENERATE_KEY_PAIR;
	q.generate_key_pair = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GENERATE_KEY_PAIR, &resp);
	if (rv != CKR_OK)
		goto out;
	if (cli_ulong_from_wire(resp->generate_key_pair->public_key, &hpub) != CKR_OK ||
	    cli_ulong_from_wire(resp->generate_key_pair->private_key, &hpriv) != CKR_OK) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	*phPublicKey = hpub;
	*phPrivateKey = hpriv;
out:
	codec_response_free(resp);
	codec_attrs_free(&priv);
	codec_attrs_free(&pub);
	return rv;
}

/* One request for len random bytes into out. */
static CK_RV random_chunk(CK_SESSION_HANDLE hSession, CK_BYTE_PTR out, CK_ULONG len)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GenerateRandomRequest a = TEEHSM__GENERATE_RANDOM_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	a.session = codec_ulong_to_wire(hSession);
	a.length = codec_ulong_to_wire(len);
	q.call_case = TEEHSM__REQUEST__CALL_GENERATE_RANDOM;
	q.generate_random = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GENERATE_RANDOM, &resp);
	if (rv != CKR_OK)
		goto out;
	if (resp->generate_random->data.len != len) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if (len)
		memcpy(out, resp->generate_random->data.data, len);
out:
	codec_response_free(resp); /* wipes the bytes */
	return rv;
}

CK_RV cli_C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pRandomData,
			   CK_ULONG ulRandomLen)
{
	CK_ULONG done = 0;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pRandomData && ulRandomLen)
		return CKR_ARGUMENTS_BAD;
	/* A zero-length request still goes out: the session handle gets checked. */
	do {
		CK_ULONG n = ulRandomLen - done < RANDOM_CHUNK ? ulRandomLen - done : RANDOM_CHUNK;

		rv = random_chunk(hSession, pRandomData ? pRandomData + done : NULL, n);
		done += n;
	} while (rv == CKR_OK && done < ulRandomLen);
	return rv;
}
