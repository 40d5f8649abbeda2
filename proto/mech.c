/*
 * CK_MECHANISM <-> Mechanism. A parameter that is a PKCS#11 structure holds pointers and
 * CK_ULONGs, which mean nothing on the other side of the wire: the structures the token uses
 * travel as typed messages and are rebuilt, with their own copies of every byte string, on the
 * server. Every other parameter travels as the caller's bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proto/codec.h"

enum mech_param {
	PARAM_BYTES, /* plain bytes, or a mechanism the codec does not know */
	PARAM_PSS,
	PARAM_OAEP,
	PARAM_GCM,
	PARAM_CTR,
	PARAM_ECDH1,
	PARAM_EDDSA,
};

/* Which mechanisms take which structure (PKCS#11 v2.40 Current Mechanisms; EdDSA from 3.0). */
static const struct {
	CK_MECHANISM_TYPE type;
	enum mech_param param;
} mech_params[] = {
	{ CKM_RSA_PKCS_PSS, PARAM_PSS },
	{ CKM_SHA1_RSA_PKCS_PSS, PARAM_PSS },
	{ CKM_SHA224_RSA_PKCS_PSS, PARAM_PSS },
	{ CKM_SHA256_RSA_PKCS_PSS, PARAM_PSS },
	{ CKM_SHA384_RSA_PKCS_PSS, PARAM_PSS },
	{ CKM_SHA512_RSA_PKCS_PSS, PARAM_PSS },
	{ CKM_RSA_PKCS_OAEP, PARAM_OAEP },
	{ CKM_AES_GCM, PARAM_GCM },
	{ CKM_AES_CTR, PARAM_CTR },
	{ CKM_ECDH1_DERIVE, PARAM_ECDH1 },
	{ CKM_ECDH1_COFACTOR_DERIVE, PARAM_ECDH1 },
	{ CKM_EDDSA, PARAM_EDDSA },
};

/* The wire case of each kind, and the size of its C structure. */
static const struct {
	Teehsm__Mechanism__ParameterCase wire;
	size_t size;
} param_kinds[] = {
	[PARAM_BYTES] = { TEEHSM__MECHANISM__PARAMETER_PARAM, 0 },
	[PARAM_PSS] = { TEEHSM__MECHANISM__PARAMETER_PSS, sizeof(CK_RSA_PKCS_PSS_PARAMS) },
	[PARAM_OAEP] = { TEEHSM__MECHANISM__PARAMETER_OAEP, sizeof(CK_RSA_PKCS_OAEP_PARAMS) },
	[PARAM_GCM] = { TEEHSM__MECHANISM__PARAMETER_GCM, sizeof(CK_GCM_PARAMS) },
	[PARAM_CTR] = { TEEHSM__MECHANISM__PARAMETER_CTR, sizeof(CK_AES_CTR_PARAMS) },
	[PARAM_ECDH1] = { TEEHSM__MECHANISM__PARAMETER_ECDH1, sizeof(CK_ECDH1_DERIVE_PARAMS) },
	[PARAM_EDDSA] = { TEEHSM__MECHANISM__PARAMETER_EDDSA, sizeof(CK_EDDSA_PARAMS) },
};

static enum mech_param param_of(CK_MECHANISM_TYPE type)
{
	for (size_t i = 0; i < sizeof(mech_params) / sizeof(mech_params[0]); i++)
		if (mech_params[i].type == type)
			return mech_params[i].param;
	return PARAM_BYTES;
}

/* ---- client side: CK_MECHANISM -> wire ---- */

/* A (pointer, length) pair inside a structure to an optional bytes field (borrowed). */
static CK_RV ptr_to_wire(protobuf_c_boolean *has, ProtobufCBinaryData *dst, const void *p,
			 CK_ULONG len)
{
	*has = p != NULL;
	dst->data = (uint8_t *)p;
	dst->len = p ? len : 0;
	return !p && len ? CKR_MECHANISM_PARAM_INVALID : CKR_OK;
}

static CK_RV struct_to_wire(struct codec_mech_wire *w, enum mech_param kind, const void *param)
{
	switch (kind) {
	case PARAM_PSS: {
		const CK_RSA_PKCS_PSS_PARAMS *s = param;

		teehsm__rsa_pkcs_pss_params__init(&w->p.pss);
		w->p.pss.hash_alg = codec_ulong_to_wire(s->hashAlg);
		w->p.pss.mgf = codec_ulong_to_wire(s->mgf);
		w->p.pss.s_len = codec_ulong_to_wire(s->sLen);
		w->m.pss = &w->p.pss;
		return CKR_OK;
	}
	case PARAM_OAEP: {
		const CK_RSA_PKCS_OAEP_PARAMS *s = param;

		teehsm__rsa_pkcs_oaep_params__init(&w->p.oaep);
		w->p.oaep.hash_alg = codec_ulong_to_wire(s->hashAlg);
		w->p.oaep.mgf = codec_ulong_to_wire(s->mgf);
		w->p.oaep.source = codec_ulong_to_wire(s->source);
		w->m.oaep = &w->p.oaep;
		return ptr_to_wire(&w->p.oaep.has_source_data, &w->p.oaep.source_data,
				   s->pSourceData, s->ulSourceDataLen);
	}
	case PARAM_GCM: {
		const CK_GCM_PARAMS *s = param;
		CK_RV rv;

		teehsm__gcm_params__init(&w->p.gcm);
		w->p.gcm.iv_bits = codec_ulong_to_wire(s->ulIvBits);
		w->p.gcm.tag_bits = codec_ulong_to_wire(s->ulTagBits);
		w->m.gcm = &w->p.gcm;
		rv = ptr_to_wire(&w->p.gcm.has_iv, &w->p.gcm.iv, s->pIv, s->ulIvLen);
		if (rv != CKR_OK)
			return rv;
		return ptr_to_wire(&w->p.gcm.has_aad, &w->p.gcm.aad, s->pAAD, s->ulAADLen);
	}
	case PARAM_CTR: {
		const CK_AES_CTR_PARAMS *s = param;

		teehsm__aes_ctr_params__init(&w->p.ctr);
		w->p.ctr.counter_bits = codec_ulong_to_wire(s->ulCounterBits);
		w->p.ctr.cb.data = (uint8_t *)s->cb;
		w->p.ctr.cb.len = sizeof(s->cb);
		w->m.ctr = &w->p.ctr;
		return CKR_OK;
	}
	case PARAM_ECDH1: {
		const CK_ECDH1_DERIVE_PARAMS *s = param;
		CK_RV rv;

		teehsm__ecdh1_derive_params__init(&w->p.ecdh1);
		w->p.ecdh1.kdf = codec_ulong_to_wire(s->kdf);
		w->m.ecdh1 = &w->p.ecdh1;
		rv = ptr_to_wire(&w->p.ecdh1.has_shared_data, &w->p.ecdh1.shared_data,
				 s->pSharedData, s->ulSharedDataLen);
		if (rv != CKR_OK)
			return rv;
		return ptr_to_wire(&w->p.ecdh1.has_public_data, &w->p.ecdh1.public_data,
				   s->pPublicData, s->ulPublicDataLen);
	}
	case PARAM_EDDSA: {
		const CK_EDDSA_PARAMS *s = param;

		teehsm__eddsa_params__init(&w->p.eddsa);
		w->p.eddsa.ph_flag = s->phFlag != CK_FALSE;
		w->m.eddsa = &w->p.eddsa;
		return ptr_to_wire(&w->p.eddsa.has_context_data, &w->p.eddsa.context_data,
				   s->pContextData, s->ulContextDataLen);
	}
	case PARAM_BYTES:
		break;
	}
	return CKR_GENERAL_ERROR;
}

CK_RV codec_mech_to_wire(struct codec_mech_wire *dst, const CK_MECHANISM *src)
{
	enum mech_param kind;
	CK_RV rv = CKR_GENERAL_ERROR;

	memset(dst, 0, sizeof(*dst));
	teehsm__mechanism__init(&dst->m);
	if (!src)
		return CKR_ARGUMENTS_BAD;
	if (!src->pParameter && src->ulParameterLen)
		return CKR_MECHANISM_PARAM_INVALID;
	dst->m.type = codec_ulong_to_wire(src->mechanism);
	if (!src->pParameter)
		return CKR_OK; /* no parameter; the token decides whether one was due */
	kind = param_of(src->mechanism);
	if (kind == PARAM_BYTES) {
		dst->m.parameter_case = TEEHSM__MECHANISM__PARAMETER_PARAM;
		dst->m.param.data = src->pParameter; /* borrowed */
		dst->m.param.len = src->ulParameterLen;
		return CKR_OK;
	}
	if (src->ulParameterLen != param_kinds[kind].size)
		return CKR_MECHANISM_PARAM_INVALID;
	dst->m.parameter_case = param_kinds[kind].wire;
	rv = struct_to_wire(dst, kind, src->pParameter);
	if (rv != CKR_OK) {
		memset(dst, 0, sizeof(*dst));
		teehsm__mechanism__init(&dst->m);
	}
	return rv;
}

/* ---- server side: wire -> CK_MECHANISM ---- */

void codec_mech_release(struct codec_mech *dst)
{
	if (!dst)
		return;
	for (size_t i = 0; i < 2; i++)
		wipe_free(dst->buf[i], dst->buf_len[i]);
	wipe(dst, sizeof(*dst));
}

/* Copy an optional wire byte string into dst->buf[i]: *p stays NULL when absent; present but
 * empty is still a non-NULL pointer, as the caller's was. */
static CK_RV bytes_from_wire(struct codec_mech *dst, size_t i, protobuf_c_boolean has,
			     const ProtobufCBinaryData *b, void **p, CK_ULONG *len)
{
	*p = NULL;
	*len = 0;
	if (!has)
		return CKR_OK;
	dst->buf[i] = malloc(b->len ? b->len : 1);
	if (!dst->buf[i])
		return CKR_HOST_MEMORY;
	dst->buf_len[i] = b->len;
	if (b->len)
		memcpy(dst->buf[i], b->data, b->len);
	*p = dst->buf[i];
	*len = b->len;
	return CKR_OK;
}

/* All the CK_ULONG fields of a structure, at once: -1 when one does not fit. */
static int ulongs_from_wire(const uint64_t *v, CK_ULONG *const *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (codec_ulong_from_wire(v[i], out[i]))
			return -1;
	return 0;
}

static CK_RV struct_from_wire(struct codec_mech *dst, enum mech_param kind,
			      const Teehsm__Mechanism *src)
{
	CK_RV rv = CKR_GENERAL_ERROR;

	switch (kind) {
	case PARAM_PSS: {
		CK_RSA_PKCS_PSS_PARAMS *s = &dst->p.pss;
		const uint64_t v[] = { src->pss->hash_alg, src->pss->mgf, src->pss->s_len };
		CK_ULONG *const o[] = { &s->hashAlg, &s->mgf, &s->sLen };

		return ulongs_from_wire(v, o, 3) ? CKR_MECHANISM_PARAM_INVALID : CKR_OK;
	}
	case PARAM_OAEP: {
		CK_RSA_PKCS_OAEP_PARAMS *s = &dst->p.oaep;
		const uint64_t v[] = { src->oaep->hash_alg, src->oaep->mgf, src->oaep->source };
		CK_ULONG *const o[] = { &s->hashAlg, &s->mgf, &s->source };

		if (ulongs_from_wire(v, o, 3))
			return CKR_MECHANISM_PARAM_INVALID;
		return bytes_from_wire(dst, 0, src->oaep->has_source_data, &src->oaep->source_data,
				       &s->pSourceData, &s->ulSourceDataLen);
	}
	case PARAM_GCM: {
		CK_GCM_PARAMS *s = &dst->p.gcm;
		const uint64_t v[] = { src->gcm->iv_bits, src->gcm->tag_bits };
		CK_ULONG *const o[] = { &s->ulIvBits, &s->ulTagBits };
		void *iv = NULL, *aad = NULL;

		if (ulongs_from_wire(v, o, 2))
			return CKR_MECHANISM_PARAM_INVALID;
		rv = bytes_from_wire(dst, 0, src->gcm->has_iv, &src->gcm->iv, &iv, &s->ulIvLen);
		if (rv == CKR_OK)
			rv = bytes_from_wire(dst, 1, src->gcm->has_aad, &src->gcm->aad, &aad,
					     &s->ulAADLen);
		s->pIv = iv;
		s->pAAD = aad;
		return rv;
	}
	case PARAM_CTR: {
		CK_AES_CTR_PARAMS *s = &dst->p.ctr;

		if (src->ctr->cb.len != sizeof(s->cb) ||
		    codec_ulong_from_wire(src->ctr->counter_bits, &s->ulCounterBits))
			return CKR_MECHANISM_PARAM_INVALID;
		memcpy(s->cb, src->ctr->cb.data, sizeof(s->cb));
		return CKR_OK;
	}
	case PARAM_ECDH1: {
		CK_ECDH1_DERIVE_PARAMS *s = &dst->p.ecdh1;
		void *shared = NULL, *pub = NULL;

		if (codec_ulong_from_wire(src->ecdh1->kdf, &s->kdf))
			return CKR_MECHANISM_PARAM_INVALID;
		rv = bytes_from_wire(dst, 0, src->ecdh1->has_shared_data, &src->ecdh1->shared_data,
				     &shared, &s->ulSharedDataLen);
		if (rv == CKR_OK)
			rv = bytes_from_wire(dst, 1, src->ecdh1->has_public_data,
					     &src->ecdh1->public_data, &pub, &s->ulPublicDataLen);
		s->pSharedData = shared;
		s->pPublicData = pub;
		return rv;
	}
	case PARAM_EDDSA: {
		CK_EDDSA_PARAMS *s = &dst->p.eddsa;
		void *ctx = NULL;

		s->phFlag = src->eddsa->ph_flag ? CK_TRUE : CK_FALSE;
		rv = bytes_from_wire(dst, 0, src->eddsa->has_context_data,
				     &src->eddsa->context_data, &ctx, &s->ulContextDataLen);
		s->pContextData = ctx;
		return rv;
	}
	case PARAM_BYTES:
		break;
	}
	return CKR_GENERAL_ERROR;
}

CK_RV codec_mech_from_wire(struct codec_mech *dst, const Teehsm__Mechanism *src)
{
	enum mech_param kind;
	CK_ULONG type = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	memset(dst, 0, sizeof(*dst));
	if (!src || codec_ulong_from_wire(src->type, &type))
		return CKR_MECHANISM_INVALID;
	dst->m.mechanism = type;
	if (src->parameter_case == TEEHSM__MECHANISM__PARAMETER__NOT_SET)
		return CKR_OK;
	kind = param_of(type);
	/* The parameter must be the kind this mechanism takes: raw bytes cannot stand in for a
	 * structure (its pointers would be the client's), nor a structure for bytes. */
	if (src->parameter_case != param_kinds[kind].wire)
		return CKR_MECHANISM_PARAM_INVALID;
	if (kind == PARAM_BYTES) {
		rv = bytes_from_wire(dst, 0, 1, &src->param, &dst->m.pParameter,
				     &dst->m.ulParameterLen);
		if (rv != CKR_OK)
			codec_mech_release(dst);
		return rv;
	}
	rv = struct_from_wire(dst, kind, src);
	if (rv != CKR_OK) {
		codec_mech_release(dst);
		return rv;
	}
	dst->m.mechanism = type;
	dst->m.pParameter = &dst->p;
	dst->m.ulParameterLen = param_kinds[kind].size;
	return CKR_OK;
}
