/*
 * dispatch, continued: the cryptographic calls (§5.8-§5.13) and key management and random
 * numbers (§5.14-§5.15). Same handler shape as dispatch.c; their table is srv_crypto_handlers.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "dispatch_int.h"

/* ---- Cryptographic operations: the shapes they share ---- */

/* C_EncryptInit, C_DecryptInit, C_SignInit, C_SignRecoverInit, C_VerifyInit, C_VerifyRecoverInit */
typedef CK_RV (*key_init_fn)(struct ta_client *c, CK_SESSION_HANDLE s, CK_MECHANISM_PTR m,
			     CK_OBJECT_HANDLE key);
/* Data in, bytes out: C_Encrypt, C_EncryptUpdate, C_Decrypt, C_Sign, C_DigestEncryptUpdate, ... */
typedef CK_RV (*data_fn)(struct ta_client *c, CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len,
			 CK_BYTE_PTR out, CK_ULONG_PTR out_len);
/* Data in only: C_DigestUpdate, C_SignUpdate, C_VerifyUpdate */
typedef CK_RV (*part_fn)(struct ta_client *c, CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG in_len);
/* Bytes out only: C_EncryptFinal, C_DecryptFinal, C_DigestFinal, C_SignFinal */
typedef CK_RV (*final_fn)(struct ta_client *c, CK_SESSION_HANDLE s, CK_BYTE_PTR out,
			  CK_ULONG_PTR out_len);

static CK_RV key_init(struct srv_peer *p, const Teehsm__KeyOpInitRequest *a, key_init_fn fn)
{
	struct codec_mech m;
	CK_RV rv = codec_mech_from_wire(&m, a->mechanism);

	if (rv == CKR_OK)
		rv = fn(p->tc, ul(a->session), &m.m, ul(a->key));
	codec_mech_release(&m);
	return rv;
}

/* The answer of every call with bytes out: out_len always, the bytes when they were written. */
static CK_RV bytes_reply(struct reply *r, CK_RV rv, CK_ULONG len, Teehsm__BytesOutResponse **slot)
{
	if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
		return rv;
	teehsm__bytes_out_response__init(&r->u.bytes_out);
	r->u.bytes_out.out_len = codec_ulong_to_wire(len);
	if (rv == CKR_OK && r->bytes) {
		if (len > r->bytes_len)
			return CKR_GENERAL_ERROR;
		r->u.bytes_out.has_data = 1;
		r->u.bytes_out.data.data = r->bytes;
		r->u.bytes_out.data.len = len;
	}
	*slot = &r->u.bytes_out;
	return rv;
}

/* The wire's abort (teehsm.proto's conventions): the client could not send the call as made.
 * A NULL data pointer with a length and a NULL length pointer are bad arguments, and any error
 * but CKR_BUFFER_TOO_SMALL ends the active operation; the token's answer goes back. */
static int aborting(protobuf_c_boolean has, protobuf_c_boolean abort)
{
	return has && abort;
}

static CK_RV data_call(struct srv_peer *p, const Teehsm__DataRequest *a, struct reply *r,
		       data_fn fn, Teehsm__BytesOutResponse **slot)
{
	CK_ULONG len = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (aborting(a->has_abort, a->abort))
		return fn(p->tc, ul(a->session), NULL, 1, NULL, NULL);
	rv = alloc_out(p, r, a->has_out_len, a->out_len, &len);
	if (rv != CKR_OK)
		return rv;
	rv = fn(p->tc, ul(a->session), a->data.data, a->data.len, r->bytes, &len);
	return bytes_reply(r, rv, len, slot);
}

static CK_RV part_call(struct srv_peer *p, const Teehsm__PartRequest *a, part_fn fn)
{
	if (aborting(a->has_abort, a->abort))
		return fn(p->tc, ul(a->session), NULL, 1);
	return fn(p->tc, ul(a->session), a->part.data, a->part.len);
}

static CK_RV final_call(struct srv_peer *p, const Teehsm__FinalRequest *a, struct reply *r,
			final_fn fn, Teehsm__BytesOutResponse **slot)
{
	CK_ULONG len = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (aborting(a->has_abort, a->abort))
		return fn(p->tc, ul(a->session), NULL, NULL);
	rv = alloc_out(p, r, a->has_out_len, a->out_len, &len);
	if (rv != CKR_OK)
		return rv;
	rv = fn(p->tc, ul(a->session), r->bytes, &len);
	return bytes_reply(r, rv, len, slot);
}

/* ---- Encryption and decryption ---- */

static CK_RV h_encrypt_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return key_init(p, q->encrypt_init, ta_C_EncryptInit);
}

static CK_RV h_encrypt(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->encrypt, r, ta_C_Encrypt, &r->resp.encrypt);
}

static CK_RV h_encrypt_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->encrypt_update, r, ta_C_EncryptUpdate, &r->resp.encrypt_update);
}

static CK_RV h_encrypt_final(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return final_call(p, q->encrypt_final, r, ta_C_EncryptFinal, &r->resp.encrypt_final);
}

static CK_RV h_decrypt_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return key_init(p, q->decrypt_init, ta_C_DecryptInit);
}

static CK_RV h_decrypt(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->decrypt, r, ta_C_Decrypt, &r->resp.decrypt);
}

static CK_RV h_decrypt_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->decrypt_update, r, ta_C_DecryptUpdate, &r->resp.decrypt_update);
}

static CK_RV h_decrypt_final(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return final_call(p, q->decrypt_final, r, ta_C_DecryptFinal, &r->resp.decrypt_final);
}

/* ---- Digesting ---- */

static CK_RV h_digest_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__DigestInitRequest *a = q->digest_init;
	struct codec_mech m;
	CK_RV rv = codec_mech_from_wire(&m, a->mechanism);

	(void)r;
	if (rv == CKR_OK)
		rv = ta_C_DigestInit(p->tc, ul(a->session), &m.m);
	codec_mech_release(&m);
	return rv;
}

static CK_RV h_digest(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->digest, r, ta_C_Digest, &r->resp.digest);
}

static CK_RV h_digest_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return part_call(p, q->digest_update, ta_C_DigestUpdate);
}

static CK_RV h_digest_key(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return ta_C_DigestKey(p->tc, ul(q->digest_key->session), ul(q->digest_key->key));
}

static CK_RV h_digest_final(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return final_call(p, q->digest_final, r, ta_C_DigestFinal, &r->resp.digest_final);
}

/* ---- Signing ---- */

static CK_RV h_sign_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return key_init(p, q->sign_init, ta_C_SignInit);
}

static CK_RV h_sign(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->sign, r, ta_C_Sign, &r->resp.sign);
}

static CK_RV h_sign_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return part_call(p, q->sign_update, ta_C_SignUpdate);
}

static CK_RV h_sign_final(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return final_call(p, q->sign_final, r, ta_C_SignFinal, &r->resp.sign_final);
}

static CK_RV h_sign_recover_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return key_init(p, q->sign_recover_init, ta_C_SignRecoverInit);
}

static CK_RV h_sign_recover(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->sign_recover, r, ta_C_SignRecover, &r->resp.sign_recover);
}

/* ---- Verifying ---- */

static CK_RV h_verify_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return key_init(p, q->verify_init, ta_C_VerifyInit);
}

static CK_RV h_verify(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__VerifyRequest *a = q->verify;

	(void)r;
	if (aborting(a->has_abort, a->abort))
		return ta_C_Verify(p->tc, ul(a->session), NULL, 1, NULL, 1);
	return ta_C_Verify(p->tc, ul(a->session), a->data.data, a->data.len, a->signature.data,
			   a->signature.len);
}

static CK_RV h_verify_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return part_call(p, q->verify_update, ta_C_VerifyUpdate);
}

static CK_RV h_verify_final(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__VerifyFinalRequest *a = q->verify_final;

	(void)r;
	if (aborting(a->has_abort, a->abort))
		return ta_C_VerifyFinal(p->tc, ul(a->session), NULL, 1);
	return ta_C_VerifyFinal(p->tc, ul(a->session), a->signature.data, a->signature.len);
}

static CK_RV h_verify_recover_init(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	(void)r;
	return key_init(p, q->verify_recover_init, ta_C_VerifyRecoverInit);
}

static CK_RV h_verify_recover(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->verify_recover, r, ta_C_VerifyRecover, &r->resp.verify_recover);
}

/* ---- Dual-function operations ---- */

static CK_RV h_digest_encrypt_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->digest_encrypt_update, r, ta_C_DigestEncryptUpdate,
			 &r->resp.digest_encrypt_update);
}

static CK_RV h_decrypt_digest_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->decrypt_digest_update, r, ta_C_DecryptDigestUpdate,
			 &r->resp.decrypt_digest_update);
}

static CK_RV h_sign_encrypt_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->sign_encrypt_update, r, ta_C_SignEncryptUpdate,
			 &r->resp.sign_encrypt_update);
}

static CK_RV h_decrypt_verify_update(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	return data_call(p, q->decrypt_verify_update, r, ta_C_DecryptVerifyUpdate,
			 &r->resp.decrypt_verify_update);
}

/* ---- Key management and random numbers ---- */

static CK_RV h_generate_key_pair(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GenerateKeyPairRequest *a = q->generate_key_pair;
	CK_ATTRIBUTE *priv = NULL;
	CK_ULONG priv_n = 0;
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
	struct codec_mech m;
	CK_RV rv;

	rv = codec_mech_from_wire(&m, a->mechanism);
	if (rv != CKR_OK)
		goto out;
	rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->public_template,
				      a->n_public_template);
	if (rv != CKR_OK)
		goto out;
	rv = codec_template_from_wire(&priv, &priv_n, a->private_template, a->n_private_template);
	if (rv != CKR_OK)
		goto out;
	rv = ta_C_GenerateKeyPair(p->tc, ul(a->session), &m.m, r->tmpl_n ? r->tmpl : NULL,
				  r->tmpl_n, priv_n ? priv : NULL, priv_n, &hpub, &hpriv);
	if (rv != CKR_OK)
		goto out;
	teehsm__generate_key_pair_response__init(&r->u.keypair);
	r->u.keypair.public_key = codec_ulong_to_wire(hpub);
	r->u.keypair.private_key = codec_ulong_to_wire(hpriv);
	r->resp.generate_key_pair = &r->u.keypair;
out:
	codec_template_free(priv, priv_n);
	codec_mech_release(&m);
	return rv;
}

static CK_RV h_generate_key(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GenerateKeyRequest *a = q->generate_key;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct codec_mech m;
	CK_RV rv = codec_mech_from_wire(&m, a->mechanism);

	if (rv == CKR_OK)
		rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_);
	if (rv == CKR_OK)
		rv = ta_C_GenerateKey(p->tc, ul(a->session), &m.m, r->tmpl_n ? r->tmpl : NULL,
				      r->tmpl_n, &h);
	codec_mech_release(&m);
	return object_reply(r, rv, h, &r->resp.generate_key);
}

static CK_RV h_wrap_key(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__WrapKeyRequest *a = q->wrap_key;
	CK_ULONG len = 0;
	struct codec_mech m;
	CK_RV rv = codec_mech_from_wire(&m, a->mechanism);

	if (rv == CKR_OK)
		rv = alloc_out(p, r, a->has_out_len, a->out_len, &len);
	if (rv == CKR_OK) {
		rv = ta_C_WrapKey(p->tc, ul(a->session), &m.m, ul(a->wrapping_key), ul(a->key),
				  r->bytes, &len);
		rv = bytes_reply(r, rv, len, &r->resp.wrap_key);
	}
	codec_mech_release(&m);
	return rv;
}

static CK_RV h_unwrap_key(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__UnwrapKeyRequest *a = q->unwrap_key;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct codec_mech m;
	CK_RV rv = codec_mech_from_wire(&m, a->mechanism);

	if (rv == CKR_OK)
		rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_);
	if (rv == CKR_OK)
		rv = ta_C_UnwrapKey(p->tc, ul(a->session), &m.m, ul(a->unwrapping_key),
				    a->wrapped_key.data, a->wrapped_key.len,
				    r->tmpl_n ? r->tmpl : NULL, r->tmpl_n, &h);
	codec_mech_release(&m);
	return object_reply(r, rv, h, &r->resp.unwrap_key);
}

static CK_RV h_derive_key(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__DeriveKeyRequest *a = q->derive_key;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct codec_mech m;
	CK_RV rv = codec_mech_from_wire(&m, a->mechanism);

	if (rv == CKR_OK)
		rv = codec_template_from_wire(&r->tmpl, &r->tmpl_n, a->template_, a->n_template_);
	if (rv == CKR_OK)
		rv = ta_C_DeriveKey(p->tc, ul(a->session), &m.m, ul(a->base_key),
				    r->tmpl_n ? r->tmpl : NULL, r->tmpl_n, &h);
	codec_mech_release(&m);
	return object_reply(r, rv, h, &r->resp.derive_key);
}

static CK_RV h_seed_random(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__SeedRandomRequest *a = q->seed_random;

	(void)r;
	return ta_C_SeedRandom(p->tc, ul(a->session), a->seed.data, a->seed.len);
}

static CK_RV h_generate_random(struct srv_peer *p, const Teehsm__Request *q, struct reply *r)
{
	const Teehsm__GenerateRandomRequest *a = q->generate_random;
	CK_RV rv;

	/* The answer must fit one frame; asking for more is a request the wire cannot carry. */
	if (a->length > srv_peer_max_frame(p) - 64)
		return CKR_DATA_LEN_RANGE;
	r->bytes_len = (size_t)a->length;
	r->bytes = malloc(r->bytes_len ? r->bytes_len : 1);
	if (!r->bytes)
		return CKR_HOST_MEMORY;
	rv = ta_C_GenerateRandom(p->tc, ul(a->session), r->bytes, r->bytes_len);
	if (rv != CKR_OK)
		return rv;
	teehsm__generate_random_response__init(&r->u.random);
	r->u.random.data.data = r->bytes;
	r->u.random.data.len = r->bytes_len;
	r->resp.generate_random = &r->u.random;
	return rv;
}

const struct srv_handler srv_crypto_handlers[] = {
	{ TEEHSM__REQUEST__CALL_ENCRYPT_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET, h_encrypt_init,
	  "C_EncryptInit" },
	{ TEEHSM__REQUEST__CALL_ENCRYPT, TEEHSM__RESPONSE__RESULT_ENCRYPT, h_encrypt, "C_Encrypt" },
	{ TEEHSM__REQUEST__CALL_ENCRYPT_UPDATE, TEEHSM__RESPONSE__RESULT_ENCRYPT_UPDATE,
	  h_encrypt_update, "C_EncryptUpdate" },
	{ TEEHSM__REQUEST__CALL_ENCRYPT_FINAL, TEEHSM__RESPONSE__RESULT_ENCRYPT_FINAL,
	  h_encrypt_final, "C_EncryptFinal" },
	{ TEEHSM__REQUEST__CALL_DECRYPT_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET, h_decrypt_init,
	  "C_DecryptInit" },
	{ TEEHSM__REQUEST__CALL_DECRYPT, TEEHSM__RESPONSE__RESULT_DECRYPT, h_decrypt, "C_Decrypt" },
	{ TEEHSM__REQUEST__CALL_DECRYPT_UPDATE, TEEHSM__RESPONSE__RESULT_DECRYPT_UPDATE,
	  h_decrypt_update, "C_DecryptUpdate" },
	{ TEEHSM__REQUEST__CALL_DECRYPT_FINAL, TEEHSM__RESPONSE__RESULT_DECRYPT_FINAL,
	  h_decrypt_final, "C_DecryptFinal" },
	{ TEEHSM__REQUEST__CALL_DIGEST_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET, h_digest_init,
	  "C_DigestInit" },
	{ TEEHSM__REQUEST__CALL_DIGEST, TEEHSM__RESPONSE__RESULT_DIGEST, h_digest, "C_Digest" },
	{ TEEHSM__REQUEST__CALL_DIGEST_UPDATE, TEEHSM__RESPONSE__RESULT__NOT_SET, h_digest_update,
	  "C_DigestUpdate" },
	{ TEEHSM__REQUEST__CALL_DIGEST_KEY, TEEHSM__RESPONSE__RESULT__NOT_SET, h_digest_key,
	  "C_DigestKey" },
	{ TEEHSM__REQUEST__CALL_DIGEST_FINAL, TEEHSM__RESPONSE__RESULT_DIGEST_FINAL, h_digest_final,
	  "C_DigestFinal" },
	{ TEEHSM__REQUEST__CALL_SIGN_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET, h_sign_init,
	  "C_SignInit" },
	{ TEEHSM__REQUEST__CALL_SIGN, TEEHSM__RESPONSE__RESULT_SIGN, h_sign, "C_Sign" },
	{ TEEHSM__REQUEST__CALL_SIGN_UPDATE, TEEHSM__RESPONSE__RESULT__NOT_SET, h_sign_update,
	  "C_SignUpdate" },
	{ TEEHSM__REQUEST__CALL_SIGN_FINAL, TEEHSM__RESPONSE__RESULT_SIGN_FINAL, h_sign_final,
	  "C_SignFinal" },
	{ TEEHSM__REQUEST__CALL_SIGN_RECOVER_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET,
	  h_sign_recover_init, "C_SignRecoverInit" },
	{ TEEHSM__REQUEST__CALL_SIGN_RECOVER, TEEHSM__RESPONSE__RESULT_SIGN_RECOVER, h_sign_recover,
	  "C_SignRecover" },
	{ TEEHSM__REQUEST__CALL_VERIFY_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET, h_verify_init,
	  "C_VerifyInit" },
	{ TEEHSM__REQUEST__CALL_VERIFY, TEEHSM__RESPONSE__RESULT__NOT_SET, h_verify, "C_Verify" },
	{ TEEHSM__REQUEST__CALL_VERIFY_UPDATE, TEEHSM__RESPONSE__RESULT__NOT_SET, h_verify_update,
	  "C_VerifyUpdate" },
	{ TEEHSM__REQUEST__CALL_VERIFY_FINAL, TEEHSM__RESPONSE__RESULT__NOT_SET, h_verify_final,
	  "C_VerifyFinal" },
	{ TEEHSM__REQUEST__CALL_VERIFY_RECOVER_INIT, TEEHSM__RESPONSE__RESULT__NOT_SET,
	  h_verify_recover_init, "C_VerifyRecoverInit" },
	{ TEEHSM__REQUEST__CALL_VERIFY_RECOVER, TEEHSM__RESPONSE__RESULT_VERIFY_RECOVER,
	  h_verify_recover, "C_VerifyRecover" },
	{ TEEHSM__REQUEST__CALL_DIGEST_ENCRYPT_UPDATE,
	  TEEHSM__RESPONSE__RESULT_DIGEST_ENCRYPT_UPDATE, h_digest_encrypt_update,
	  "C_DigestEncryptUpdate" },
	{ TEEHSM__REQUEST__CALL_DECRYPT_DIGEST_UPDATE,
	  TEEHSM__RESPONSE__RESULT_DECRYPT_DIGEST_UPDATE, h_decrypt_digest_update,
	  "C_DecryptDigestUpdate" },
	{ TEEHSM__REQUEST__CALL_SIGN_ENCRYPT_UPDATE, TEEHSM__RESPONSE__RESULT_SIGN_ENCRYPT_UPDATE,
	  h_sign_encrypt_update, "C_SignEncryptUpdate" },
	{ TEEHSM__REQUEST__CALL_DECRYPT_VERIFY_UPDATE,
	  TEEHSM__RESPONSE__RESULT_DECRYPT_VERIFY_UPDATE, h_decrypt_verify_update,
	  "C_DecryptVerifyUpdate" },
	{ TEEHSM__REQUEST__CALL_GENERATE_KEY, TEEHSM__RESPONSE__RESULT_GENERATE_KEY, h_generate_key,
	  "C_GenerateKey" },
	{ TEEHSM__REQUEST__CALL_GENERATE_KEY_PAIR, TEEHSM__RESPONSE__RESULT_GENERATE_KEY_PAIR,
	  h_generate_key_pair, "C_GenerateKeyPair" },
	{ TEEHSM__REQUEST__CALL_WRAP_KEY, TEEHSM__RESPONSE__RESULT_WRAP_KEY, h_wrap_key,
	  "C_WrapKey" },
	{ TEEHSM__REQUEST__CALL_UNWRAP_KEY, TEEHSM__RESPONSE__RESULT_UNWRAP_KEY, h_unwrap_key,
	  "C_UnwrapKey" },
	{ TEEHSM__REQUEST__CALL_DERIVE_KEY, TEEHSM__RESPONSE__RESULT_DERIVE_KEY, h_derive_key,
	  "C_DeriveKey" },
	{ TEEHSM__REQUEST__CALL_GENERATE_RANDOM, TEEHSM__RESPONSE__RESULT_GENERATE_RANDOM,
	  h_generate_random, "C_GenerateRandom" },
	{ TEEHSM__REQUEST__CALL_SEED_RANDOM, TEEHSM__RESPONSE__RESULT__NOT_SET, h_seed_random,
	  "C_SeedRandom" },
};
const size_t srv_crypto_handlers_n = sizeof(srv_crypto_handlers) / sizeof(srv_crypto_handlers[0]);
