/* Framing, strict pack/unpack of the envelope, and small field conversions. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proto/codec.h"

/* Unpacked messages can hold PINs and key bytes: every block protobuf-c allocates for them
 * remembers its size so it is wiped when freed (STYLE.md §9: the owner wipes). */
#define WIPE_HDR 16 /* keeps the payload aligned like malloc's */

static void *wiping_alloc_cb(void *ctx, size_t size)
{
	uint8_t *p;
	size_t total;

	(void)ctx;
	if (size_add(size, WIPE_HDR, &total))
		return NULL;
	p = malloc(total);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	return p + WIPE_HDR;
}

static void wiping_free_cb(void *ctx, void *ptr)
{
	uint8_t *p;
	size_t size;

	(void)ctx;
	if (!ptr)
		return;
	p = (uint8_t *)ptr - WIPE_HDR;
	memcpy(&size, p, sizeof(size));
	wipe_free(p, size + WIPE_HDR);
}

static ProtobufCAllocator wiping_allocator = {
	.alloc = wiping_alloc_cb,
	.free = wiping_free_cb,
	.allocator_data = NULL,
};

enum codec_frame codec_frame_peek(const uint8_t *buf, size_t avail, size_t max_frame,
				  size_t *payload_len)
{
	uint32_t len;

	*payload_len = 0;
	if (avail < CODEC_FRAME_HDR)
		return CODEC_FRAME_NEED_MORE;
	len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
	      (uint32_t)buf[3];
	if (len > max_frame)
		return CODEC_FRAME_TOO_LARGE;
	*payload_len = len;
	if (avail - CODEC_FRAME_HDR < len)
		return CODEC_FRAME_NEED_MORE;
	return CODEC_FRAME_READY;
}

static int pack_framed(const ProtobufCMessage *m, size_t max_frame, uint8_t **out, size_t *out_len)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *p = NULL;

	*out = NULL;
	*out_len = 0;
	if (len > max_frame || len > UINT32_MAX)
		return -1;
	p = malloc(len + CODEC_FRAME_HDR);
	if (!p)
		return -1;
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	if (protobuf_c_message_pack(m, p + CODEC_FRAME_HDR) != len) {
		wipe_free(p, len + CODEC_FRAME_HDR);
		return -1;
	}
	*out = p;
	*out_len = len + CODEC_FRAME_HDR;
	return 0;
}

int codec_pack_request(const Teehsm__Request *req, size_t max_frame, uint8_t **out, size_t *out_len)
{
	return pack_framed(&req->base, max_frame, out, out_len);
}

int codec_pack_response(const Teehsm__Response *resp, size_t max_frame, uint8_t **out,
			size_t *out_len)
{
	return pack_framed(&resp->base, max_frame, out, out_len);
}

/* Refuse any message, at any depth, carrying fields this version does not know: a peer that
 * appends bytes to a valid message gets a parse error rather than silent acceptance. */
static int msg_strict(const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;

	if (depth > 8 || m->n_unknown_fields)
		return -1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which;

			memcpy(&which, base + f->quantifier_offset, sizeof(which));
			if (which != f->id)
				continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n;
			ProtobufCMessage **arr;

			memcpy(&n, base + f->quantifier_offset, sizeof(n));
			memcpy(&arr, base + f->offset, sizeof(arr));
			for (size_t j = 0; j < n; j++)
				if (msg_strict(arr[j], depth + 1))
					return -1;
		} else {
			ProtobufCMessage *sub;

			memcpy(&sub, base + f->offset, sizeof(sub));
			if (sub && msg_strict(sub, depth + 1))
				return -1;
		}
	}
	return 0;
}

Teehsm__Request *codec_unpack_request(const uint8_t *payload, size_t len)
{
	Teehsm__Request *r = teehsm__request__unpack(&wiping_allocator, len, payload);

	if (r && msg_strict(&r->base, 0)) {
		codec_request_free(r);
		r = NULL;
	}
	return r;
}

Teehsm__Response *codec_unpack_response(const uint8_t *payload, size_t len)
{
	Teehsm__Response *r = teehsm__response__unpack(&wiping_allocator, len, payload);

	if (r && msg_strict(&r->base, 0)) {
		codec_response_free(r);
		r = NULL;
	}
	return r;
}

void codec_request_free(Teehsm__Request *req)
{
	if (req)
		teehsm__request__free_unpacked(req, &wiping_allocator);
}

void codec_response_free(Teehsm__Response *resp)
{
	if (resp)
		teehsm__response__free_unpacked(resp, &wiping_allocator);
}

uint64_t codec_ulong_to_wire(CK_ULONG v)
{
	return v == (CK_ULONG)-1 ? UINT64_MAX : (uint64_t)v;
}

int codec_ulong_from_wire(uint64_t v, CK_ULONG *out)
{
	if (v == UINT64_MAX) {
		*out = (CK_ULONG)-1;
		return 0;
	}
	if (v >= (uint64_t)(CK_ULONG)-1)
		return -1;
	*out = (CK_ULONG)v;
	return 0;
}

void codec_fixed_to_wire(ProtobufCBinaryData *dst, const CK_UTF8CHAR *src, size_t n)
{
	dst->data = (uint8_t *)src;
	dst->len = n;
}

int codec_fixed_from_wire(CK_UTF8CHAR *dst, size_t n, const ProtobufCBinaryData *src)
{
	if (src->len != n)
		return -1;
	memcpy(dst, src->data, n);
	return 0;
}

void codec_version_to_wire(Teehsm__Version *dst, const CK_VERSION *src)
{
	teehsm__version__init(dst);
	dst->major = src->major;
	dst->minor = src->minor;
}

int codec_version_from_wire(CK_VERSION *dst, const Teehsm__Version *src)
{
	if (!src || src->major > 0xff || src->minor > 0xff)
		return -1;
	dst->major = (CK_BYTE)src->major;
	dst->minor = (CK_BYTE)src->minor;
	return 0;
}
