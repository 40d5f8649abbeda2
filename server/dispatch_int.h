/*
 * What dispatch.c and dispatch_crypto.c share: the peer, the reply under construction, the
 * handler table's shape and the small conversions every handler uses. Internal to
 * teehsm_dispatch; the API is dispatch.h.
 */
#ifndef TEEHSM_SERVER_DISPATCH_INT_H
#define TEEHSM_SERVER_DISPATCH_INT_H

#include <stdlib.h>

#include "proto/codec.h"
#include "dispatch.h"

struct srv_peer {
	struct ta_client *tc;
	struct srv_auth auth; /* who the peer is; authorization applies when has_auth */
	int has_auth;
	size_t max_frame;      /* ours: requests never exceed it */
	size_t peer_max_frame; /* the client's, from Hello: responses never exceed it */
	int hello_done;
	char *identity;
};

/* A decoded request waiting for a worker (dispatch.h). */
struct srv_call {
	Teehsm__Request *q;
	const struct srv_handler *h;
	uint64_t lane;
	struct policy *policy; /* one reference, or NULL (deny all when the peer has auth) */
};

/* Everything one response may point to, kept alive until it is packed, then released. */
struct reply {
	Teehsm__Response resp;
	union {
		Teehsm__Hello hello;
		Teehsm__GetSlotListResponse slot_list;
		Teehsm__GetSlotInfoResponse slot_info;
		Teehsm__GetTokenInfoResponse token_info;
		Teehsm__GetMechanismListResponse mech_list;
		Teehsm__GetMechanismInfoResponse mech_info;
		Teehsm__OpenSessionResponse open_session;
		Teehsm__GetSessionInfoResponse session_info;
		Teehsm__GetAttributeValueResponse attrs;
		Teehsm__FindObjectsResponse find;
		Teehsm__BytesOutResponse bytes_out;
		Teehsm__ObjectResponse object;
		Teehsm__GetObjectSizeResponse object_size;
		Teehsm__GenerateKeyPairResponse keypair;
		Teehsm__GenerateRandomResponse random;
	} u;
	/* Nested parts of the structured answers. */
	Teehsm__SlotInfo slot_info;
	Teehsm__TokenInfo token_info;
	Teehsm__MechanismInfo mech_info;
	Teehsm__SessionInfo session_info;
	Teehsm__Version hw, fw;
	CK_SLOT_INFO ck_slot;
	CK_TOKEN_INFO ck_token;
	/* Owned buffers, released (wiped) after packing. */
	uint64_t *ulongs;
	CK_ULONG *ck_ulongs;
	uint8_t *bytes;
	size_t bytes_len;
	CK_ATTRIBUTE *tmpl;
	CK_ULONG tmpl_n;
	struct codec_attrs wire_attrs;
};

/* One call this server answers: every handler has the same shape (STYLE.md §4). */
struct srv_handler {
	Teehsm__Request__CallCase call;
	Teehsm__Response__ResultCase result; /* NOT_SET: the answer is rv alone */
	CK_RV (*fn)(struct srv_peer *p, const Teehsm__Request *q, struct reply *r);
	const char *name;
};

/* Run call's handler under the peer's policy and write its audit record (authz.c). */
CK_RV srv_authz_run(struct srv_peer *p, const struct srv_call *call, struct reply *r);

/* The cryptographic and key-management calls (dispatch_crypto.c). */
extern const struct srv_handler srv_crypto_handlers[];
extern const size_t srv_crypto_handlers_n;

/* Wire uint64 to CK_ULONG for handles, slots, flags: a value that cannot exist on this host is
 * simply one the token does not know. */
static inline CK_ULONG ul(uint64_t v)
{
	CK_ULONG out = 0;

	if (codec_ulong_from_wire(v, &out))
		return (CK_ULONG)-1;
	return out;
}

/* The output length the caller asked for, bounded by what a response frame can carry. */
static inline CK_ULONG out_cap(const struct srv_peer *p, uint64_t want, size_t unit)
{
	size_t cap = srv_peer_max_frame(p) / unit;

	return want > cap ? (CK_ULONG)cap : (CK_ULONG)want;
}

/* Byte-string output (C_Encrypt, C_SignFinal, C_WrapKey, ...): a NULL buffer when the caller
 * made a size query; otherwise the caller's length, bounded by the frame cap. */
static inline CK_RV alloc_out(const struct srv_peer *p, struct reply *r, int has_len, uint64_t len,
			      CK_ULONG *ck_len)
{
	*ck_len = 0;
	if (!has_len)
		return CKR_OK;
	*ck_len = out_cap(p, len, 1);
	r->bytes = malloc(*ck_len ? *ck_len : 1);
	r->bytes_len = *ck_len;
	return r->bytes ? CKR_OK : CKR_HOST_MEMORY;
}

/* The answer of the calls that create one object: its handle. */
static inline CK_RV object_reply(struct reply *r, CK_RV rv, CK_OBJECT_HANDLE h,
				 Teehsm__ObjectResponse **slot)
{
	if (rv != CKR_OK)
		return rv;
	teehsm__object_response__init(&r->u.object);
	r->u.object.object = codec_ulong_to_wire(h);
	*slot = &r->u.object;
	return rv;
}

#endif
