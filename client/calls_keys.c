/* §5.14 Key management and §5.15 random numbers, forwarded to teehsmd. */
#include <string.h>

#include "cli_calls.h"

/* Random bytes asked of the server per request: far below any frame cap, so a large
 * C_GenerateRandom works whatever the server's max_frame. */
#define RANDOM_CHUNK (32u << 10)

CK_RV cli_C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
			CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GenerateKeyRequest a = TEEHSM__GENERATE_KEY_REQUEST__INIT;
	struct codec_mech_wire m;
	Teehsm__Response *resp = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pMechanism || !phKey || (!pTemplate && ulCount))
		return CKR_ARGUMENTS_BAD;
	rv = codec_mech_to_wire(&m, pMechanism);
	if (rv != CKR_OK)
		goto out;
	rv = codec_template_to_wire(&attrs, pTemplate, ulCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.mechanism = &m.m;
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_GENERATE_KEY;
	q.generate_key = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_GENERATE_KEY, &resp);
	rv = cli_object_answer(rv, resp, TEEHSM__RESPONSE__RESULT_GENERATE_KEY, phKey);
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
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
	struct codec_mech_wire m;
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
	a.mechanism = &m.m;
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

CK_RV cli_C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		    CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
		    CK_ULONG_PTR pulWrappedKeyLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__WrapKeyRequest a = TEEHSM__WRAP_KEY_REQUEST__INIT;
	struct codec_mech_wire m;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pMechanism || !pulWrappedKeyLen)
		return CKR_ARGUMENTS_BAD;
	rv = codec_mech_to_wire(&m, pMechanism);
	if (rv != CKR_OK)
		return rv;
	a.session = codec_ulong_to_wire(hSession);
	a.mechanism = &m.m;
	a.wrapping_key = codec_ulong_to_wire(hWrappingKey);
	a.key = codec_ulong_to_wire(hKey);
	cli_out_len_to_wire(&a.has_out_len, &a.out_len, pWrappedKey, pulWrappedKeyLen);
	q.call_case = TEEHSM__REQUEST__CALL_WRAP_KEY;
	q.wrap_key = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_WRAP_KEY, &resp);
	rv = cli_bytes_answer(rv, resp, TEEHSM__RESPONSE__RESULT_WRAP_KEY, pWrappedKey,
			      pulWrappedKeyLen);
	codec_response_free(resp); /* wipes the wrapped key */
	return rv;
}

CK_RV cli_C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
		      CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate,
		      CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__UnwrapKeyRequest a = TEEHSM__UNWRAP_KEY_REQUEST__INIT;
	struct codec_mech_wire m;
	Teehsm__Response *resp = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pMechanism || !phKey || (!pWrappedKey && ulWrappedKeyLen) ||
	    (!pTemplate && ulAttributeCount))
		return CKR_ARGUMENTS_BAD;
	rv = codec_mech_to_wire(&m, pMechanism);
	if (rv != CKR_OK)
		goto out;
	rv = codec_template_to_wire(&attrs, pTemplate, ulAttributeCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.mechanism = &m.m;
	a.unwrapping_key = codec_ulong_to_wire(hUnwrappingKey);
	a.wrapped_key.data = pWrappedKey; /* borrowed */
	a.wrapped_key.len = ulWrappedKeyLen;
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_UNWRAP_KEY;
	q.unwrap_key = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_UNWRAP_KEY, &resp);
	rv = cli_object_answer(rv, resp, TEEHSM__RESPONSE__RESULT_UNWRAP_KEY, phKey);
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
	return rv;
}

CK_RV cli_C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
		      CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate,
		      CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__DeriveKeyRequest a = TEEHSM__DERIVE_KEY_REQUEST__INIT;
	struct codec_mech_wire m;
	Teehsm__Response *resp = NULL;
	struct codec_attrs attrs = { NULL, 0 };
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	/* phKey may be NULL for mechanisms that derive no single key (§5.14); the token decides. */
	if (!pMechanism || (!pTemplate && ulAttributeCount))
		return CKR_ARGUMENTS_BAD;
	rv = codec_mech_to_wire(&m, pMechanism);
	if (rv != CKR_OK)
		goto out;
	rv = codec_template_to_wire(&attrs, pTemplate, ulAttributeCount);
	if (rv != CKR_OK)
		goto out;
	a.session = codec_ulong_to_wire(hSession);
	a.mechanism = &m.m;
	a.base_key = codec_ulong_to_wire(hBaseKey);
	a.template_ = attrs.v;
	a.n_template_ = attrs.n;
	q.call_case = TEEHSM__REQUEST__CALL_DERIVE_KEY;
	q.derive_key = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT_DERIVE_KEY, &resp);
	if (!phKey && rv == CKR_OK)
		goto out;
	rv = cli_object_answer(rv, resp, TEEHSM__RESPONSE__RESULT_DERIVE_KEY, phKey);
out:
	codec_response_free(resp);
	codec_attrs_free(&attrs);
	return rv;
}

CK_RV cli_C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__SeedRandomRequest a = TEEHSM__SEED_RANDOM_REQUEST__INIT;
	Teehsm__Response *resp = NULL;
	CK_RV rv = cli_check_initialized();

	if (rv != CKR_OK)
		return rv;
	if (!pSeed && ulSeedLen)
		return CKR_ARGUMENTS_BAD;
	a.session = codec_ulong_to_wire(hSession);
	a.seed.data = pSeed; /* borrowed */
	a.seed.len = ulSeedLen;
	q.call_case = TEEHSM__REQUEST__CALL_SEED_RANDOM;
	q.seed_random = &a;
	rv = cli_call(&q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
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
