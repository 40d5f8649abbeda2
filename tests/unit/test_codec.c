/* The codec: framing, strict parsing, and every message of teehsm.proto round-tripped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "proto/codec.h"

/* Fill every field of m (recursively) with values derived from seed, so that nothing packs to
 * its default and every field is exercised. Uses malloc throughout, so the result can be
 * released with protobuf_c_message_free_unpacked(m, NULL). */
static void fill_message(ProtobufCMessage *m, unsigned seed, unsigned depth);

static void fill_scalar(const ProtobufCFieldDescriptor *f, void *dst, unsigned seed, unsigned depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)dst = 0x10000u + seed;
		break;
	case PROTOBUF_C_TYPE_UINT64:
		*(uint64_t *)dst = 0x100000000ull * (seed + 1) + seed;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)dst = 1;
		break;
	case PROTOBUF_C_TYPE_STRING: {
		char *s = malloc(16);
		assert_non_null(s);
		snprintf(s, 16, "s%u", seed);
		*(char **)dst = s;
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = dst;
		b->len = 3 + seed % 5;
		b->data = malloc(b->len);
		assert_non_null(b->data);
		memset(b->data, (int)(0xa0 + seed), b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		ProtobufCMessage *sub = malloc(d->sizeof_message);
		assert_non_null(sub);
		d->message_init(sub);
		fill_message(sub, seed + 1, depth + 1);
		*(ProtobufCMessage **)dst = sub;
		break;
	}
	default:
		fail_msg("field %s has a type this test does not fill", f->name);
	}
}

static size_t scalar_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT32:
		return sizeof(uint32_t);
	case PROTOBUF_C_TYPE_UINT64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return sizeof(void *);
	}
}

static void fill_message(ProtobufCMessage *m, unsigned seed, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	char *base = (char *)m;

	unsigned oneof_members = 0, oneof_seen = 0;

	assert_true(depth < 6);
	for (unsigned i = 0; i < d->n_fields; i++)
		oneof_members += !!(d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		/* Oneof members of the envelope are chosen by the caller, one at a time; inside
		 * a message (Mechanism's parameter), the seed picks one. */
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (depth > 0 && oneof_seen++ == seed % oneof_members) {
				uint32_t which = f->id;

				memcpy(base + f->quantifier_offset, &which, sizeof(which));
				fill_scalar(f, base + f->offset, seed, depth);
			}
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			/* Nested templates (Attribute.nested) stop after one level. */
			size_t n = f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= 2 ? 0 : 2;
			size_t sz = scalar_size(f);
			char *arr = calloc(2, sz);

			assert_non_null(arr);
			for (size_t j = 0; j < n; j++)
				fill_scalar(f, arr + j * sz, seed + (unsigned)j, depth);
			memcpy(base + f->quantifier_offset, &n, sizeof(n));
			memcpy(base + f->offset, &arr, sizeof(arr));
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
		    f->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
		fill_scalar(f, base + f->offset, seed + i, depth);
	}
}

/* Select oneof member f of m and fill it. */
static void fill_oneof(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned seed)
{
	uint32_t which = f->id;

	memcpy((char *)m + f->quantifier_offset, &which, sizeof(which));
	fill_scalar(f, (char *)m + f->offset, seed, 0);
}

static void round_trip_envelope(const ProtobufCMessageDescriptor *d, int is_request)
{
	unsigned cases = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		ProtobufCMessage *m;
		uint8_t *frame = NULL, *frame2 = NULL;
		size_t len = 0, len2 = 0, payload = 0;
		int rc;

		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		m = malloc(d->sizeof_message);
		assert_non_null(m);
		d->message_init(m);
		fill_message(m, i, 0);
		fill_oneof(m, f, i);
		rc = is_request ? codec_pack_request((Teehsm__Request *)m, CODEC_DEFAULT_MAX_FRAME,
						     &frame, &len)
				: codec_pack_response((Teehsm__Response *)m,
						      CODEC_DEFAULT_MAX_FRAME, &frame, &len);
		assert_int_equal(rc, 0);
		assert_int_equal(codec_frame_peek(frame, len, CODEC_DEFAULT_MAX_FRAME, &payload),
				 CODEC_FRAME_READY);
		assert_int_equal(payload + CODEC_FRAME_HDR, len);
		if (is_request) {
			Teehsm__Request *q = codec_unpack_request(frame + 4, payload);

			assert_non_null(q);
			assert_int_equal(q->call_case, f->id);
			assert_int_equal(
				codec_pack_request(q, CODEC_DEFAULT_MAX_FRAME, &frame2, &len2), 0);
			codec_request_free(q);
		} else {
			Teehsm__Response *r = codec_unpack_response(frame + 4, payload);

			assert_non_null(r);
			assert_int_equal(r->result_case, f->id);
			assert_int_equal(
				codec_pack_response(r, CODEC_DEFAULT_MAX_FRAME, &frame2, &len2), 0);
			codec_response_free(r);
		}
		/* Every field survived: the re-packed bytes are the same. */
		assert_int_equal(len, len2);
		assert_memory_equal(frame, frame2, len);
		free(frame);
		free(frame2);
		protobuf_c_message_free_unpacked(m, NULL);
		cases++;
	}
	/* Every PKCS#11 call the token answers, and Hello. */
	assert_true(cases >= (is_request ? 60u : 35u));
}

static void test_round_trip_every_request(void **state)
{
	(void)state;
	round_trip_envelope(&teehsm__request__descriptor, 1);
}

static void test_round_trip_every_response(void **state)
{
	(void)state;
	round_trip_envelope(&teehsm__response__descriptor, 0);
}

/* A small valid request frame for the framing tests. */
static void make_frame(uint8_t **frame, size_t *len)
{
	Teehsm__Request q = TEEHSM__REQUEST__INIT;
	Teehsm__GetSlotInfoRequest a = TEEHSM__GET_SLOT_INFO_REQUEST__INIT;

	q.id = 7;
	q.call_case = TEEHSM__REQUEST__CALL_GET_SLOT_INFO;
	q.get_slot_info = &a;
	a.slot_id = 3;
	assert_int_equal(codec_pack_request(&q, CODEC_DEFAULT_MAX_FRAME, frame, len), 0);
}

static void test_frame_truncated(void **state)
{
	uint8_t *f = NULL;
	size_t len = 0, payload = 0;

	(void)state;
	make_frame(&f, &len);
	/* Header incomplete, then payload incomplete: keep reading, nothing parsed. */
	for (size_t avail = 0; avail < len; avail++)
		assert_int_equal(codec_frame_peek(f, avail, CODEC_DEFAULT_MAX_FRAME, &payload),
				 CODEC_FRAME_NEED_MORE);
	assert_int_equal(codec_frame_peek(f, len, CODEC_DEFAULT_MAX_FRAME, &payload),
			 CODEC_FRAME_READY);
	/* Protobuf has no end marker, so truncation is the framing's to catch (above). Cut inside
	 * a field, a payload does not parse; cut at the one field boundary (after `id`), it is a
	 * request without a call, which dispatch answers with CKR_FUNCTION_NOT_SUPPORTED. */
	assert_int_equal(payload, 7);
	for (size_t keep = 0; keep < payload; keep++) {
		Teehsm__Request *q = codec_unpack_request(f + 4, keep);

		if (keep == 2) {
			assert_non_null(q);
			assert_int_equal(q->call_case, TEEHSM__REQUEST__CALL__NOT_SET);
			codec_request_free(q);
		} else {
			assert_null(q);
		}
	}
	free(f);
}

static void test_frame_oversized_length(void **state)
{
	const uint8_t huge[4] = { 0xff, 0xff, 0xff, 0xff };
	const uint8_t just_over[4] = { 0x00, 0x10, 0x00, 0x01 }; /* 1 MiB + 1 */
	const uint8_t at_cap[4] = { 0x00, 0x10, 0x00, 0x00 };	 /* 1 MiB */
	size_t payload = 0;

	(void)state;
	/* Decided from the header alone, before any allocation could happen. */
	assert_int_equal(codec_frame_peek(huge, 4, CODEC_DEFAULT_MAX_FRAME, &payload),
			 CODEC_FRAME_TOO_LARGE);
	assert_int_equal(codec_frame_peek(just_over, 4, CODEC_DEFAULT_MAX_FRAME, &payload),
			 CODEC_FRAME_TOO_LARGE);
	assert_int_equal(codec_frame_peek(at_cap, 4, CODEC_DEFAULT_MAX_FRAME, &payload),
			 CODEC_FRAME_NEED_MORE);
	assert_int_equal(payload, CODEC_DEFAULT_MAX_FRAME);
	/* And the sender side refuses to build a frame over the cap. */
	{
		Teehsm__Request q = TEEHSM__REQUEST__INIT;
		Teehsm__PartRequest a = TEEHSM__PART_REQUEST__INIT;
		uint8_t *f = NULL;
		size_t len = 0;

		a.part.len = 5000;
		a.part.data = calloc(1, a.part.len);
		q.call_case = TEEHSM__REQUEST__CALL_SIGN_UPDATE;
		q.sign_update = &a;
		assert_int_equal(codec_pack_request(&q, 4096, &f, &len), -1);
		assert_null(f);
		assert_int_equal(codec_pack_request(&q, 8192, &f, &len), 0);
		free(f);
		free(a.part.data);
	}
}

static void test_frame_trailing_bytes(void **state)
{
	uint8_t *f = NULL, *g;
	size_t len = 0;
	/* An unknown field (number 1000, varint) appended to a valid message, then plain junk. */
	const uint8_t unknown_field[] = { 0xc0, 0x3e, 0x01 };
	const uint8_t junk[] = { 0xff, 0xff, 0xff };

	(void)state;
	make_frame(&f, &len);
	{
		Teehsm__Request *ok = codec_unpack_request(f + 4, len - 4);

		assert_non_null(ok);
		codec_request_free(ok);
	}
	g = malloc(len + sizeof(unknown_field));
	memcpy(g, f, len);
	memcpy(g + len, unknown_field, sizeof(unknown_field));
	assert_null(codec_unpack_request(g + 4, len - 4 + sizeof(unknown_field)));
	memcpy(g + len, junk, sizeof(junk));
	assert_null(codec_unpack_request(g + 4, len - 4 + sizeof(junk)));
	/* A response body is not a request, and the empty payload lacks required fields. */
	assert_null(codec_unpack_request(g + 4, 0));
	free(g);
	free(f);
}

static void test_frame_missing_required(void **state)
{
	/* Request{id} without a call is valid protobuf; a Hello without its fields is not. */
	const uint8_t hello_empty[] = { 0x08, 0x01, 0x82, 0x01, 0x00 };

	(void)state;
	assert_null(codec_unpack_request(hello_empty, sizeof(hello_empty)));
}

static void test_attr_template_round_trip(void **state)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_BBOOL yes = CK_TRUE;
	CK_BYTE id[] = { 1, 2, 3 };
	CK_MECHANISM_TYPE allowed[] = { CKM_ECDSA, CKM_ECDSA_SHA256 };
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_LABEL, NULL, 0 },
		{ CKA_ALLOWED_MECHANISMS, allowed, sizeof(allowed) },
	};
	struct codec_attrs w = { 0 };
	CK_ATTRIBUTE *back = NULL;
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(codec_template_to_wire(&w, t, 5), CKR_OK);
	assert_int_equal(w.n, 5);
	assert_true(w.v[0]->has_ulong);
	assert_int_equal(w.v[0]->ulong, CKO_PRIVATE_KEY);
	assert_int_equal(w.v[4]->n_ulongs, 2);
	assert_int_equal(codec_template_from_wire(&back, &n, w.v, w.n), CKR_OK);
	assert_int_equal(n, 5);
	for (CK_ULONG i = 0; i < n; i++) {
		assert_int_equal(back[i].type, t[i].type);
		assert_int_equal(back[i].ulValueLen, t[i].ulValueLen);
		if (t[i].ulValueLen)
			assert_memory_equal(back[i].pValue, t[i].pValue, t[i].ulValueLen);
	}
	codec_template_free(back, n);
	codec_attrs_free(&w);

	/* A CK_ULONG attribute of the wrong size cannot travel. */
	t[0].ulValueLen = 3;
	assert_int_equal(codec_template_to_wire(&w, t, 1), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(w.n, 0);
	/* Too many attributes, and NULL with a count. */
	assert_int_equal(codec_template_to_wire(&w, t, CODEC_MAX_ATTRS + 1),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(codec_template_to_wire(&w, NULL, 1), CKR_ARGUMENTS_BAD);
}

static void test_attr_query_answer(void **state)
{
	CK_OBJECT_CLASS cls = 0;
	CK_BYTE point[80], small[2];
	CK_ATTRIBUTE q[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },    { CKA_EC_POINT, NULL, 0 }, /* size query */
		{ CKA_VALUE, point, sizeof(point) }, /* sensitive on the server */
		{ CKA_LABEL, small, sizeof(small) }, /* too small on the server */
		{ CKA_ID, point, sizeof(point) },
	};
	struct codec_attrs wq = { 0 }, wa = { 0 };
	CK_ATTRIBUTE *srv = NULL;
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(codec_query_to_wire(&wq, q, 5), CKR_OK);
	assert_false(wq.v[1]->has_buffer_len);
	assert_int_equal(wq.v[0]->buffer_len, 8); /* one CK_ULONG counts 8 wire bytes */
	/* The sum of server-side buffers is clamped to the cap (64 bytes here). */
	assert_int_equal(codec_query_from_wire(&srv, &n, wq.v, wq.n, 64), CKR_OK);
	assert_int_equal(
		srv[0].ulValueLen + srv[2].ulValueLen + srv[3].ulValueLen + srv[4].ulValueLen, 64);
	codec_template_free(srv, n);

	assert_int_equal(codec_query_from_wire(&srv, &n, wq.v, wq.n, 4096), CKR_OK);
	assert_int_equal(n, 5);
	assert_null(srv[1].pValue);
	assert_int_equal(srv[0].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(srv[2].ulValueLen, sizeof(point));
	assert_int_equal(srv[3].ulValueLen, sizeof(small));

	/* What a token would answer. */
	*(CK_ULONG *)srv[0].pValue = CKO_PUBLIC_KEY;
	srv[1].ulValueLen = 67;
	srv[2].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	srv[3].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	srv[4].ulValueLen = 2;
	memcpy(srv[4].pValue, "\x0a\x0b", 2);
	assert_int_equal(codec_answer_to_wire(&wa, srv, n), CKR_OK);
	assert_int_equal(codec_answer_from_wire(q, 5, wa.v, wa.n), CKR_OK);
	assert_int_equal(cls, CKO_PUBLIC_KEY);
	assert_int_equal(q[0].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(q[1].ulValueLen, 67);
	assert_int_equal(q[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(q[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(q[4].ulValueLen, 2);
	assert_memory_equal(point, "\x0a\x0b", 2);

	/* An answer for other types, or a different count, is a confused server. */
	wa.v[4]->type = CKA_LABEL;
	assert_int_equal(codec_answer_from_wire(q, 5, wa.v, wa.n), CKR_DEVICE_ERROR);
	assert_int_equal(codec_answer_from_wire(q, 4, wa.v, wa.n), CKR_DEVICE_ERROR);
	/* A value larger than the caller's buffer is refused, not copied. */
	wa.v[4]->type = CKA_ID;
	q[4].ulValueLen = 1;
	assert_int_equal(codec_answer_from_wire(q, 5, wa.v, wa.n), CKR_DEVICE_ERROR);
	codec_attrs_free(&wa);
	codec_attrs_free(&wq);
	codec_template_free(srv, n);
}

static void test_attr_wrong_encoding_refused(void **state)
{
	Teehsm__Attribute a = TEEHSM__ATTRIBUTE__INIT;
	Teehsm__Attribute *v[1] = { &a };
	CK_ATTRIBUTE *t = NULL;
	CK_ULONG n = 0;

	(void)state;
	/* CKA_CLASS sent as bytes, and with no value at all. */
	a.type = CKA_CLASS;
	a.has_bytes = 1;
	a.bytes.data = (uint8_t *)"\x03";
	a.bytes.len = 1;
	assert_int_equal(codec_template_from_wire(&t, &n, v, 1), CKR_ATTRIBUTE_VALUE_INVALID);
	assert_null(t);
	a.has_bytes = 0;
	assert_int_equal(codec_template_from_wire(&t, &n, v, 1), CKR_ATTRIBUTE_VALUE_INVALID);
	/* Two encodings at once. */
	a.type = CKA_LABEL;
	a.has_bytes = 1;
	a.has_ulong = 1;
	assert_int_equal(codec_template_from_wire(&t, &n, v, 1), CKR_ATTRIBUTE_VALUE_INVALID);
}

/* A CK_MECHANISM through the real wire: client conversion, a packed and unpacked request,
 * server conversion into *back (release it with codec_mech_release). Returns the server's rv;
 * the client's must be CKR_OK. */
static CK_RV mech_through_wire(const CK_MECHANISM *m, struct codec_mech *back)
{
	struct codec_mech_wire w;
	Teehsm__Request q = TEEHSM__REQUEST__INIT, *u = NULL;
	Teehsm__KeyOpInitRequest a = TEEHSM__KEY_OP_INIT_REQUEST__INIT;
	uint8_t *f = NULL;
	size_t len = 0;
	CK_RV rv;

	assert_int_equal(codec_mech_to_wire(&w, m), CKR_OK);
	a.mechanism = &w.m;
	q.call_case = TEEHSM__REQUEST__CALL_ENCRYPT_INIT;
	q.encrypt_init = &a;
	assert_int_equal(codec_pack_request(&q, CODEC_DEFAULT_MAX_FRAME, &f, &len), 0);
	u = codec_unpack_request(f + CODEC_FRAME_HDR, len - CODEC_FRAME_HDR);
	assert_non_null(u);
	rv = codec_mech_from_wire(back, u->encrypt_init->mechanism);
	/* The server's copy does not depend on the request it came from. */
	codec_request_free(u);
	free(f);
	return rv;
}

/* CKA_WRAP_TEMPLATE and friends carry CK_ATTRIBUTEs: they travel nested one level, with values,
 * and a query for their value is answered as unavailable rather than with the server's bytes. */
static void test_attr_nested_template(void **state)
{
	CK_BBOOL no = CK_FALSE;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE inner[] = {
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
	};
	CK_ATTRIBUTE nested_twice[] = { { CKA_DERIVE_TEMPLATE, inner, sizeof(inner) } };
	CK_ATTRIBUTE t[] = {
		{ CKA_UNWRAP_TEMPLATE, inner, sizeof(inner) },
		{ CKA_WRAP_TEMPLATE, NULL, 0 },
	};
	CK_ATTRIBUTE q[] = {
		{ CKA_WRAP_TEMPLATE, NULL, 0 },
		{ CKA_UNWRAP_TEMPLATE, inner, sizeof(inner) },
	};
	struct codec_attrs w = { 0 }, wq = { 0 }, wa = { 0 };
	CK_ATTRIBUTE *back = NULL, *srv = NULL, *si = NULL;
	const CK_ATTRIBUTE *bi;
	CK_ULONG n = 0;

	(void)state;
	assert_int_equal(codec_template_to_wire(&w, t, 2), CKR_OK);
	assert_int_equal(w.v[0]->n_nested, 2);
	assert_true(w.v[1]->has_value_len); /* an empty template */
	assert_int_equal(codec_template_from_wire(&back, &n, w.v, w.n), CKR_OK);
	assert_int_equal(back[0].ulValueLen, 2 * sizeof(CK_ATTRIBUTE));
	bi = back[0].pValue;
	assert_int_equal(bi[0].type, CKA_EXTRACTABLE);
	assert_int_equal(bi[0].ulValueLen, 1);
	assert_int_equal(*(CK_BBOOL *)bi[0].pValue, CK_FALSE);
	assert_int_equal(bi[1].type, CKA_KEY_TYPE);
	assert_int_equal(bi[1].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(*(CK_ULONG *)bi[1].pValue, CKK_AES);
	assert_int_equal(back[1].ulValueLen, 0);
	codec_template_free(back, n);
	codec_attrs_free(&w);
	/* One level only, whole attributes only. */
	t[0].pValue = nested_twice;
	t[0].ulValueLen = sizeof(nested_twice);
	assert_int_equal(codec_template_to_wire(&w, t, 1), CKR_ATTRIBUTE_VALUE_INVALID);
	t[0].ulValueLen = sizeof(CK_ATTRIBUTE) + 1;
	assert_int_equal(codec_template_to_wire(&w, t, 1), CKR_ATTRIBUTE_VALUE_INVALID);

	/* C_GetAttributeValue (§5.7): the size travels; for a value the caller's array travels
	 * as nested entries with their buffer lengths, and the answer names the types. */
	assert_int_equal(codec_query_to_wire(&wq, q, 2), CKR_OK);
	assert_false(wq.v[0]->has_buffer_len);
	assert_int_equal(wq.v[1]->n_nested, 2);
	assert_int_equal(codec_query_from_wire(&srv, &n, wq.v, wq.n, 4096), CKR_OK);
	assert_null(srv[0].pValue);
	assert_int_equal(srv[1].ulValueLen, 2 * sizeof(CK_ATTRIBUTE));
	si = srv[1].pValue;
	assert_non_null(si);
	/* the entries are plain buffers of the caller's sizes, never the caller's pointers */
	assert_int_equal(si[0].ulValueLen, sizeof(no));
	assert_int_equal(si[1].ulValueLen, sizeof(CK_ULONG));
	assert_ptr_not_equal(si[0].pValue, &no);
	/* what a token answers: the size of a three-entry template; two entries, the first
	 * value too small for its buffer, the second a CK_ULONG */
	srv[0].ulValueLen = 3 * sizeof(CK_ATTRIBUTE);
	si[0].type = CKA_LABEL;
	si[0].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	si[1].type = CKA_CLASS;
	*(CK_ULONG *)si[1].pValue = CKO_SECRET_KEY;
	assert_int_equal(codec_answer_to_wire(&wa, srv, n), CKR_OK);
	assert_int_equal(wa.v[1]->n_nested, 2);
	assert_int_equal(codec_answer_from_wire(q, 2, wa.v, wa.n), CKR_OK);
	assert_int_equal(q[0].ulValueLen, 3 * sizeof(CK_ATTRIBUTE));
	assert_int_equal(q[1].ulValueLen, 2 * sizeof(CK_ATTRIBUTE));
	assert_int_equal(inner[0].type, CKA_LABEL);
	assert_int_equal(inner[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(inner[1].type, CKA_CLASS);
	assert_int_equal(inner[1].ulValueLen, sizeof(CK_ULONG));
	assert_int_equal(kt, CKO_SECRET_KEY);
	codec_attrs_free(&wa);
	/* a confused server: more entries than the caller has room for, or a value larger than
	 * the caller's entry buffer */
	q[1].ulValueLen = sizeof(CK_ATTRIBUTE);
	inner[1].ulValueLen = sizeof(CK_ULONG);
	assert_int_equal(codec_answer_to_wire(&wa, srv, n), CKR_OK);
	assert_int_equal(codec_answer_from_wire(q, 2, wa.v, wa.n), CKR_DEVICE_ERROR);
	codec_attrs_free(&wa);
	q[1].ulValueLen = 2 * sizeof(CK_ATTRIBUTE);
	inner[0].ulValueLen = 0;
	memcpy(si[0].pValue, "a", 1); /* one byte, more than the caller has room for */
	si[0].ulValueLen = 1;
	assert_int_equal(codec_answer_to_wire(&wa, srv, n), CKR_OK);
	assert_int_equal(codec_answer_from_wire(q, 2, wa.v, wa.n), CKR_DEVICE_ERROR);
	codec_attrs_free(&wa);
	codec_attrs_free(&wq);
	codec_template_free(srv, n);
	/* an array nested in an array entry is refused on the server */
	assert_int_equal(codec_query_to_wire(&wq, q, 2), CKR_OK);
	wq.v[1]->nested[0]->n_nested = 1;
	wq.v[1]->nested[0]->nested = wq.v[1]->nested + 1;
	assert_int_equal(codec_query_from_wire(&srv, &n, wq.v, wq.n, 4096), CKR_ARGUMENTS_BAD);
	assert_null(srv);
	wq.v[1]->nested[0]->n_nested = 0;
	wq.v[1]->nested[0]->nested = NULL;
	codec_attrs_free(&wq);
}

static void test_mechanism_raw_bytes_and_ulong(void **state)
{
	CK_BYTE iv[16] = { 9 };
	CK_MECHANISM m = { CKM_AES_CBC, iv, sizeof(iv) };
	CK_MECHANISM unknown = { CKM_VENDOR_DEFINED | 7, iv, 5 };
	CK_MECHANISM none = { CKM_ECDSA, NULL, 0 };
	CK_MECHANISM bad = { CKM_ECDSA, NULL, 4 };
	struct codec_mech back;
	struct codec_mech_wire w;
	CK_ULONG v = 0;

	(void)state;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	assert_int_equal(back.m.mechanism, CKM_AES_CBC);
	assert_int_equal(back.m.ulParameterLen, sizeof(iv));
	assert_memory_equal(back.m.pParameter, iv, sizeof(iv));
	assert_ptr_not_equal(back.m.pParameter, iv);
	codec_mech_release(&back);
	/* A mechanism the codec does not know travels as bytes, never filtered. */
	assert_int_equal(mech_through_wire(&unknown, &back), CKR_OK);
	assert_int_equal(back.m.mechanism, CKM_VENDOR_DEFINED | 7);
	assert_int_equal(back.m.ulParameterLen, 5);
	assert_memory_equal(back.m.pParameter, iv, 5);
	codec_mech_release(&back);
	assert_int_equal(codec_mech_to_wire(&w, &none), CKR_OK);
	assert_int_equal(w.m.parameter_case, TEEHSM__MECHANISM__PARAMETER__NOT_SET);
	assert_int_equal(mech_through_wire(&none, &back), CKR_OK);
	assert_null(back.m.pParameter);
	assert_int_equal(back.m.ulParameterLen, 0);
	codec_mech_release(&back);
	assert_int_equal(codec_mech_to_wire(&w, &bad), CKR_MECHANISM_PARAM_INVALID);
	assert_int_equal(codec_mech_to_wire(&w, NULL), CKR_ARGUMENTS_BAD);

	assert_int_equal(codec_ulong_to_wire(CK_UNAVAILABLE_INFORMATION), UINT64_MAX);
	assert_int_equal(codec_ulong_from_wire(UINT64_MAX, &v), 0);
	assert_int_equal(v, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(codec_ulong_from_wire(42, &v), 0);
	assert_int_equal(v, 42);
}

/* A structured parameter of the wrong size, or with a NULL pointer and a length, is refused
 * by the client before anything travels. */
static void assert_refused(CK_MECHANISM_TYPE type, void *param, CK_ULONG len)
{
	CK_MECHANISM m = { type, param, len };
	struct codec_mech_wire w;

	assert_int_equal(codec_mech_to_wire(&w, &m), CKR_MECHANISM_PARAM_INVALID);
}

static void test_mechanism_pss_oaep(void **state)
{
	CK_RSA_PKCS_PSS_PARAMS pss = { CKM_SHA384, CKG_MGF1_SHA384, 48 };
	CK_BYTE label[] = "label";
	CK_RSA_PKCS_OAEP_PARAMS oaep = { CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, label,
					 sizeof(label) - 1 };
	CK_MECHANISM m = { CKM_SHA384_RSA_PKCS_PSS, &pss, sizeof(pss) };
	struct codec_mech back;
	const CK_RSA_PKCS_PSS_PARAMS *bp;
	const CK_RSA_PKCS_OAEP_PARAMS *bo;

	(void)state;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	assert_int_equal(back.m.ulParameterLen, sizeof(CK_RSA_PKCS_PSS_PARAMS));
	bp = back.m.pParameter;
	assert_int_equal(bp->hashAlg, CKM_SHA384);
	assert_int_equal(bp->mgf, CKG_MGF1_SHA384);
	assert_int_equal(bp->sLen, 48);
	codec_mech_release(&back);

	m.mechanism = CKM_RSA_PKCS_OAEP;
	m.pParameter = &oaep;
	m.ulParameterLen = sizeof(oaep);
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	bo = back.m.pParameter;
	assert_int_equal(back.m.ulParameterLen, sizeof(oaep));
	assert_int_equal(bo->hashAlg, CKM_SHA256);
	assert_int_equal(bo->mgf, CKG_MGF1_SHA256);
	assert_int_equal(bo->source, CKZ_DATA_SPECIFIED);
	assert_int_equal(bo->ulSourceDataLen, 5);
	assert_memory_equal(bo->pSourceData, "label", 5);
	assert_ptr_not_equal(bo->pSourceData, label);
	codec_mech_release(&back);
	/* No label: a NULL pointer stays NULL. */
	oaep.pSourceData = NULL;
	oaep.ulSourceDataLen = 0;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	bo = back.m.pParameter;
	assert_null(bo->pSourceData);
	assert_int_equal(bo->ulSourceDataLen, 0);
	codec_mech_release(&back);

	assert_refused(CKM_RSA_PKCS_PSS, &pss, sizeof(pss) - 1);
	assert_refused(CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss) + 8);
	assert_refused(CKM_RSA_PKCS_OAEP, &oaep, 0);
	oaep.ulSourceDataLen = 3; /* NULL pSourceData with a length */
	assert_refused(CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep));
}

static void test_mechanism_gcm_ctr(void **state)
{
	CK_BYTE iv[12] = { 1, 2, 3 }, aad[20] = { 7 };
	CK_GCM_PARAMS gcm = { iv, sizeof(iv), 96, aad, sizeof(aad), 128 };
	CK_AES_CTR_PARAMS ctr = { 32, { 0 } };
	CK_MECHANISM m = { CKM_AES_GCM, &gcm, sizeof(gcm) };
	struct codec_mech back;
	const CK_GCM_PARAMS *bg;
	const CK_AES_CTR_PARAMS *bc;

	(void)state;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	bg = back.m.pParameter;
	assert_int_equal(back.m.ulParameterLen, sizeof(gcm));
	assert_int_equal(bg->ulIvLen, sizeof(iv));
	assert_memory_equal(bg->pIv, iv, sizeof(iv));
	assert_int_equal(bg->ulIvBits, 96);
	assert_int_equal(bg->ulAADLen, sizeof(aad));
	assert_memory_equal(bg->pAAD, aad, sizeof(aad));
	assert_int_equal(bg->ulTagBits, 128);
	codec_mech_release(&back);
	/* An empty AAD given as a non-NULL pointer stays non-NULL; a NULL one stays NULL. */
	gcm.ulAADLen = 0;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	bg = back.m.pParameter;
	assert_non_null(bg->pAAD);
	assert_int_equal(bg->ulAADLen, 0);
	codec_mech_release(&back);
	gcm.pAAD = NULL;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	bg = back.m.pParameter;
	assert_null(bg->pAAD);
	codec_mech_release(&back);
	gcm.pIv = NULL; /* with ulIvLen 12 */
	assert_refused(CKM_AES_GCM, &gcm, sizeof(gcm));
	assert_refused(CKM_AES_GCM, iv, sizeof(iv)); /* an IV alone is not a CK_GCM_PARAMS */

	for (int i = 0; i < 16; i++)
		ctr.cb[i] = (CK_BYTE)(0xf0 + i);
	m.mechanism = CKM_AES_CTR;
	m.pParameter = &ctr;
	m.ulParameterLen = sizeof(ctr);
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	bc = back.m.pParameter;
	assert_int_equal(back.m.ulParameterLen, sizeof(ctr));
	assert_int_equal(bc->ulCounterBits, 32);
	assert_memory_equal(bc->cb, ctr.cb, 16);
	codec_mech_release(&back);
	assert_refused(CKM_AES_CTR, ctr.cb, 16);
}

static void test_mechanism_ecdh_eddsa(void **state)
{
	CK_BYTE pub[65] = { 4, 1, 2 }, ctx[3] = { 'c', 't', 'x' };
	CK_ECDH1_DERIVE_PARAMS ecdh = { CKD_NULL, 0, NULL, sizeof(pub), pub };
	CK_EDDSA_PARAMS eddsa = { CK_TRUE, sizeof(ctx), ctx };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh) };
	struct codec_mech back;
	const CK_ECDH1_DERIVE_PARAMS *be;
	const CK_EDDSA_PARAMS *bd;

	(void)state;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	be = back.m.pParameter;
	assert_int_equal(back.m.ulParameterLen, sizeof(ecdh));
	assert_int_equal(be->kdf, CKD_NULL);
	assert_null(be->pSharedData);
	assert_int_equal(be->ulSharedDataLen, 0);
	assert_int_equal(be->ulPublicDataLen, sizeof(pub));
	assert_memory_equal(be->pPublicData, pub, sizeof(pub));
	codec_mech_release(&back);
	ecdh.ulSharedDataLen = 4; /* NULL shared data with a length */
	assert_refused(CKM_ECDH1_DERIVE, &ecdh, sizeof(ecdh));
	assert_refused(CKM_ECDH1_DERIVE, pub, sizeof(pub));

	m.mechanism = CKM_EDDSA;
	m.pParameter = &eddsa;
	m.ulParameterLen = sizeof(eddsa);
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	bd = back.m.pParameter;
	assert_int_equal(back.m.ulParameterLen, sizeof(eddsa));
	assert_int_equal(bd->phFlag, CK_TRUE);
	assert_int_equal(bd->ulContextDataLen, 3);
	assert_memory_equal(bd->pContextData, "ctx", 3);
	codec_mech_release(&back);
	/* Plain Ed25519: no parameter at all. */
	m.pParameter = NULL;
	m.ulParameterLen = 0;
	assert_int_equal(mech_through_wire(&m, &back), CKR_OK);
	assert_null(back.m.pParameter);
	codec_mech_release(&back);
	assert_refused(CKM_EDDSA, &eddsa, 1);
}

/* The server refuses a parameter of the wrong kind for its mechanism, or out of range. */
static void test_mechanism_server_refuses(void **state)
{
	Teehsm__Mechanism w;
	Teehsm__GcmParams gcm = TEEHSM__GCM_PARAMS__INIT;
	Teehsm__AesCtrParams ctr = TEEHSM__AES_CTR_PARAMS__INIT;
	struct codec_mech back;
	uint8_t cb[16] = { 0 };

	(void)state;
	teehsm__mechanism__init(&w);
	/* Raw bytes where a structure is due (its pointers would be the client's). */
	w.type = CKM_AES_GCM;
	w.parameter_case = TEEHSM__MECHANISM__PARAMETER_PARAM;
	w.param.data = cb;
	w.param.len = sizeof(cb);
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_MECHANISM_PARAM_INVALID);
	codec_mech_release(&back);
	/* A structure for a mechanism that takes another, or bytes. */
	w.parameter_case = TEEHSM__MECHANISM__PARAMETER_GCM;
	w.gcm = &gcm;
	w.type = CKM_AES_CTR;
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_MECHANISM_PARAM_INVALID);
	w.type = CKM_AES_CBC;
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_MECHANISM_PARAM_INVALID);
	w.type = CKM_AES_GCM;
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_OK);
	codec_mech_release(&back);
	/* A counter block that is not 16 bytes. */
	w.type = CKM_AES_CTR;
	w.parameter_case = TEEHSM__MECHANISM__PARAMETER_CTR;
	w.ctr = &ctr;
	ctr.cb.data = cb;
	ctr.cb.len = 15;
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_MECHANISM_PARAM_INVALID);
	ctr.cb.len = 16;
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_OK);
	codec_mech_release(&back);
	if (sizeof(CK_ULONG) < sizeof(uint64_t)) {
		ctr.counter_bits = 1ull << 40; /* does not fit this host's CK_ULONG */
		assert_int_equal(codec_mech_from_wire(&back, &w), CKR_MECHANISM_PARAM_INVALID);
	}
}

/* Every kind of Mechanism parameter survives the envelope's strict round trip. */
static void test_round_trip_every_mechanism_param(void **state)
{
	const ProtobufCMessageDescriptor *d = &teehsm__mechanism__descriptor;
	unsigned kinds = 0;

	(void)state;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		Teehsm__Request *q = malloc(sizeof(*q)), *u = NULL;
		Teehsm__KeyOpInitRequest *a = malloc(sizeof(*a));
		Teehsm__Mechanism *m = malloc(sizeof(*m));
		uint8_t *fr = NULL, *fr2 = NULL;
		size_t len = 0, len2 = 0;

		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
			free(q);
			free(a);
			free(m);
			continue;
		}
		teehsm__request__init(q);
		teehsm__key_op_init_request__init(a);
		teehsm__mechanism__init(m);
		m->type = CKM_AES_GCM;
		fill_oneof(&m->base, f, i);
		a->mechanism = m;
		q->call_case = TEEHSM__REQUEST__CALL_SIGN_INIT;
		q->sign_init = a;
		assert_int_equal(codec_pack_request(q, CODEC_DEFAULT_MAX_FRAME, &fr, &len), 0);
		u = codec_unpack_request(fr + 4, len - 4);
		assert_non_null(u);
		assert_int_equal(u->sign_init->mechanism->parameter_case, f->id);
		assert_int_equal(codec_pack_request(u, CODEC_DEFAULT_MAX_FRAME, &fr2, &len2), 0);
		assert_int_equal(len, len2);
		assert_memory_equal(fr, fr2, len);
		codec_request_free(u);
		free(fr);
		free(fr2);
		protobuf_c_message_free_unpacked(&q->base, NULL);
		kinds++;
	}
	assert_int_equal(kinds, 7);
}

static void test_fixed_fields(void **state)
{
	CK_UTF8CHAR label[32];
	ProtobufCBinaryData b;

	(void)state;
	b.data = (uint8_t *)"short";
	b.len = 5;
	assert_int_equal(codec_fixed_from_wire(label, sizeof(label), &b), -1);
	memset(label, 'x', sizeof(label));
	codec_fixed_to_wire(&b, label, sizeof(label));
	assert_int_equal(b.len, 32);
	assert_int_equal(codec_fixed_from_wire(label, sizeof(label), &b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_every_request),
		cmocka_unit_test(test_round_trip_every_response),
		cmocka_unit_test(test_frame_truncated),
		cmocka_unit_test(test_frame_oversized_length),
		cmocka_unit_test(test_frame_trailing_bytes),
		cmocka_unit_test(test_frame_missing_required),
		cmocka_unit_test(test_attr_template_round_trip),
		cmocka_unit_test(test_attr_query_answer),
		cmocka_unit_test(test_attr_wrong_encoding_refused),
		cmocka_unit_test(test_attr_nested_template),
		cmocka_unit_test(test_mechanism_raw_bytes_and_ulong),
		cmocka_unit_test(test_mechanism_pss_oaep),
		cmocka_unit_test(test_mechanism_gcm_ctr),
		cmocka_unit_test(test_mechanism_ecdh_eddsa),
		cmocka_unit_test(test_mechanism_server_refuses),
		cmocka_unit_test(test_round_trip_every_mechanism_param),
		cmocka_unit_test(test_fixed_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
