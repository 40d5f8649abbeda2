/*
 * The one codec of teehsm: framing with a hard size cap, strict pack/unpack of the envelope, and
 * conversion between PKCS#11 structures and their wire messages. Server and client share it;
 * nothing else builds wire bytes by hand (STYLE.md §1).
 */
#ifndef TEEHSM_PROTO_CODEC_H
#define TEEHSM_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "common/pkcs11_ext.h"
#include "teehsm.pb-c.h"

/* The protocol version this build speaks (Hello.protocol_version). */
#define CODEC_PROTOCOL_VERSION 1
/* Frame payload cap when nothing else is configured, and the most any configuration may set. */
#define CODEC_DEFAULT_MAX_FRAME (1u << 20)
#define CODEC_HARD_MAX_FRAME	(16u << 20)
#define CODEC_MIN_MAX_FRAME	(4u << 10)
/* Bytes of the length prefix. */
#define CODEC_FRAME_HDR 4
/* Most attributes one template may carry. */
#define CODEC_MAX_ATTRS 256
/* Most elements a CK_ULONG array attribute may carry. */
#define CODEC_MAX_ULONGS 256
/* Most attributes a CKF_ARRAY_ATTRIBUTE template (CKA_WRAP_TEMPLATE, ...) may carry. */
#define CODEC_MAX_NESTED 64

enum codec_frame {
	CODEC_FRAME_READY,     /* a whole frame is buffered; *payload_len is its length */
	CODEC_FRAME_NEED_MORE, /* keep reading */
	CODEC_FRAME_TOO_LARGE, /* the announced length exceeds max_frame: drop the peer */
};

/* Look at the first avail bytes of a stream: is a whole frame of at most max_frame payload
 * bytes there? Never allocates; checks the length before anyone could. *payload_len is the
 * announced payload length whenever the 4-byte header is complete and within max_frame (on
 * READY, and on NEED_MORE once the header is in), so a reader knows how much to wait for. */
enum codec_frame codec_frame_peek(const uint8_t *buf, size_t avail, size_t max_frame,
				  size_t *payload_len);

/* Pack req as one frame (length prefix + payload) into a new buffer (caller frees with
 * wipe_free(*out, *out_len): requests may carry PINs). Fails (-1) when the payload would exceed
 * max_frame or on allocation failure; 0 on success. */
int codec_pack_request(const Teehsm__Request *req, size_t max_frame, uint8_t **out,
		       size_t *out_len);
/* The same for a response. */
int codec_pack_response(const Teehsm__Response *resp, size_t max_frame, uint8_t **out,
			size_t *out_len);

/* Parse one frame payload strictly: NULL when it does not parse, lacks a required field, or
 * carries fields this version does not know (trailing or foreign bytes). Free with
 * codec_request_free / codec_response_free, which wipe byte fields first. */
Teehsm__Request *codec_unpack_request(const uint8_t *payload, size_t len);
Teehsm__Response *codec_unpack_response(const uint8_t *payload, size_t len);
void codec_request_free(Teehsm__Request *req);
void codec_response_free(Teehsm__Response *resp);

/* CK_ULONG <-> wire uint64, keeping all-ones (CK_UNAVAILABLE_INFORMATION) as all-ones.
 * codec_ulong_from_wire returns -1 when v does not fit a CK_ULONG. */
uint64_t codec_ulong_to_wire(CK_ULONG v);
int codec_ulong_from_wire(uint64_t v, CK_ULONG *out);

/* Blank-padded fixed-width text fields: from_wire copies exactly n bytes and fails (-1) unless
 * the wire field is exactly n bytes long. to_wire points the field at src (borrowed). */
void codec_fixed_to_wire(ProtobufCBinaryData *dst, const CK_UTF8CHAR *src, size_t n);
int codec_fixed_from_wire(CK_UTF8CHAR *dst, size_t n, const ProtobufCBinaryData *src);

/* Version <-> CK_VERSION. to_wire fills a caller-owned message. */
void codec_version_to_wire(Teehsm__Version *dst, const CK_VERSION *src);
int codec_version_from_wire(CK_VERSION *dst, const Teehsm__Version *src);

/* A CK_MECHANISM on its way to the wire (client side): the Mechanism message and the typed
 * parameter message it may point to, all caller-owned; bytes are borrowed from the caller's
 * CK_MECHANISM, which must outlive it. Nothing to free. */
struct codec_mech_wire {
	Teehsm__Mechanism m;
	union {
		Teehsm__RsaPkcsPssParams pss;
		Teehsm__RsaPkcsOaepParams oaep;
		Teehsm__GcmParams gcm;
		Teehsm__AesCtrParams ctr;
		Teehsm__Ecdh1DeriveParams ecdh1;
		Teehsm__EddsaParams eddsa;
	} p;
};

/* CK_MECHANISM -> wire. Mechanisms whose parameter is a PKCS#11 structure the codec knows
 * (proto/mech.c's table: PSS, OAEP, GCM, CTR, ECDH1, EdDSA) travel typed; any other parameter
 * travels as its bytes, whatever the mechanism. CKR_OK; CKR_ARGUMENTS_BAD for a NULL src;
 * CKR_MECHANISM_PARAM_INVALID for a NULL pParameter with a length, a structure of the wrong
 * size, or a NULL pointer inside it with a non-zero length. */
CK_RV codec_mech_to_wire(struct codec_mech_wire *dst, const CK_MECHANISM *src);

/* A CK_MECHANISM rebuilt from the wire (server side). It owns its parameter: the structure in
 * p and copies of every byte string it points to (buf), so it does not depend on the request.
 * Release with codec_mech_release, which wipes them. */
struct codec_mech {
	CK_MECHANISM m; /* what the token core is given */
	union {
		CK_RSA_PKCS_PSS_PARAMS pss;
		CK_RSA_PKCS_OAEP_PARAMS oaep;
		CK_GCM_PARAMS gcm;
		CK_AES_CTR_PARAMS ctr;
		CK_ECDH1_DERIVE_PARAMS ecdh1;
		CK_EDDSA_PARAMS eddsa;
	} p;
	uint8_t *buf[2]; /* owned byte strings (raw parameter, IV, AAD, ...) or NULL */
	size_t buf_len[2];
};

/* Wire -> CK_MECHANISM into dst (always safe to release afterwards, whatever the result).
 * CKR_OK; CKR_MECHANISM_INVALID for a type that is not a CK_ULONG here;
 * CKR_MECHANISM_PARAM_INVALID for a parameter of the wrong kind for the mechanism or with a
 * field out of range; CKR_HOST_MEMORY. */
CK_RV codec_mech_from_wire(struct codec_mech *dst, const Teehsm__Mechanism *src);

/* Wipe and free what dst owns and clear it. NULL ok. */
void codec_mech_release(struct codec_mech *dst);

/* An owned array of wire attributes built from a CK_ATTRIBUTE[]; value bytes are borrowed from
 * the template it was built from, which must outlive it. */
struct codec_attrs {
	Teehsm__Attribute **v;
	size_t n;
};

/* Templates that carry values (C_GenerateKeyPair, C_FindObjectsInit, ...): CK_ATTRIBUTE[] to
 * wire, CKF_ARRAY_ATTRIBUTE templates (CKA_WRAP_TEMPLATE, ...) one level deep (at most
 * CODEC_MAX_NESTED attributes; a template within one is CKR_ATTRIBUTE_VALUE_INVALID). CKR_OK,
 * CKR_ARGUMENTS_BAD (NULL template with a count), CKR_TEMPLATE_INCONSISTENT (too many attributes),
 * CKR_ATTRIBUTE_VALUE_INVALID (a CK_ULONG attribute of the wrong size), CKR_HOST_MEMORY. */
CK_RV codec_template_to_wire(struct codec_attrs *dst, const CK_ATTRIBUTE *t, CK_ULONG n);

/* C_GetAttributeValue requests: types and buffer lengths only. For a CKF_ARRAY_ATTRIBUTE
 * attribute with pValue (§5.7) the caller's CK_ATTRIBUTE array travels as nested entries (at
 * most CODEC_MAX_NESTED), each with its type and buffer length. */
CK_RV codec_query_to_wire(struct codec_attrs *dst, const CK_ATTRIBUTE *t, CK_ULONG n);

/* Answers of C_GetAttributeValue: each attribute's value, or its ulValueLen when pValue was
 * NULL or the value is unavailable; a filled CKF_ARRAY_ATTRIBUTE value as nested entries, each
 * answered the same way with the type the token gave it. */
CK_RV codec_answer_to_wire(struct codec_attrs *dst, const CK_ATTRIBUTE *t, CK_ULONG n);

/* Free the wire array (not the borrowed values). Accepts an empty struct. */
void codec_attrs_free(struct codec_attrs *a);

/* Server side: a wire template with values to a new CK_ATTRIBUTE[] that owns copies of the
 * values (free with codec_template_free, which wipes them). Caps: CODEC_MAX_ATTRS attributes.
 * CKR_OK, CKR_TEMPLATE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID, CKR_HOST_MEMORY. */
CK_RV codec_template_from_wire(CK_ATTRIBUTE **out, CK_ULONG *count, Teehsm__Attribute *const *a,
			       size_t n);

/* Server side: a C_GetAttributeValue query to a new CK_ATTRIBUTE[] with output buffers of the
 * requested sizes (NULL where the caller asked for the size); a CKF_ARRAY_ATTRIBUTE attribute
 * with a buffer gets an array of its nested entries, each with a buffer of its own size (one
 * level only: CKR_ARGUMENTS_BAD otherwise). The sum of buffers is capped at max_total bytes:
 * larger requests are clamped, which cannot change the outcome since no answer can exceed a
 * frame. Free with codec_template_free. */
CK_RV codec_query_from_wire(CK_ATTRIBUTE **out, CK_ULONG *count, Teehsm__Attribute *const *a,
			    size_t n, size_t max_total);

/* Wipe and free a template made by codec_template_from_wire/codec_query_from_wire. It wipes the
 * sizes it allocated, whatever the token core wrote to ulValueLen since. NULL ok. */
void codec_template_free(CK_ATTRIBUTE *t, CK_ULONG n);

/* Client side: apply a C_GetAttributeValue answer onto the caller's template, following §5.7:
 * values are copied where the caller gave a buffer, ulValueLen is set for each. The answer must
 * list the same types in the same order; otherwise CKR_DEVICE_ERROR (a confused server).
 * CKF_ARRAY_ATTRIBUTE templates (CKA_WRAP_TEMPLATE, ...) come back as nested entries, applied to
 * the caller's array the same way (each entry's type set from the answer, values bounded by
 * the entry's buffer, no more entries than the array holds: else CKR_DEVICE_ERROR). Should a
 * non-empty one come back as a size although the caller gave an array, its ulValueLen becomes
 * CK_UNAVAILABLE_INFORMATION and the answer is CKR_ATTRIBUTE_TYPE_INVALID (everything else
 * applied), for the caller to report. */
CK_RV codec_answer_from_wire(CK_ATTRIBUTE *t, CK_ULONG n, Teehsm__Attribute *const *a, size_t an);

#endif
