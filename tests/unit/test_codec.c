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

static void fill_scalar(const ProtobufCFieldDescriptor *f, void *dst, unsigned seed)
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
		fill_message(sub, seed + 1, 1);
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

	assert_true(depth < 6);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		/* Oneof members are chosen by the caller, one at a time. */
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = 2, sz = scalar_size(f);
			char *arr = calloc(n, sz);

			assert_non_null(arr);
			for (size_t j = 0; j < n; j++)
				fill_scalar(f, arr + j * sz, seed + (unsigned)j);
			memcpy(base + f->quantifier_offset, &n, sizeof(n));
			memcpy(base + f->offset, &arr, sizeof(arr));
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
		    f->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
		fill_scalar(f, base + f->offset, seed + i);
	}
}

/* Select oneof member f of m and fill it. */
static void fill_oneof(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned seed)
{
	uint32_t which = f->id;

	memcpy((char *)m + f->quantifier_offset, &which, sizeof(which));
	fill_scalar(f, (char *)m + f->offset, seed);
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
	assert_true(cases >= 14);
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
		Teehsm__SignUpdateRequest a = TEEHSM__SIGN_UPDATE_REQUEST__INIT;
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

static void test_mechanism_and_ulong(void **state)
{
	CK_BYTE iv[16] = { 9 };
	CK_MECHANISM m = { CKM_AES_CBC, iv, sizeof(iv) }, back;
	CK_MECHANISM none = { CKM_ECDSA, NULL, 0 };
	CK_MECHANISM bad = { CKM_ECDSA, NULL, 4 };
	Teehsm__Mechanism w;
	CK_ULONG v = 0;

	(void)state;
	assert_int_equal(codec_mech_to_wire(&w, &m), CKR_OK);
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_OK);
	assert_int_equal(back.mechanism, CKM_AES_CBC);
	assert_int_equal(back.ulParameterLen, sizeof(iv));
	assert_memory_equal(back.pParameter, iv, sizeof(iv));
	assert_int_equal(codec_mech_to_wire(&w, &none), CKR_OK);
	assert_false(w.has_param);
	assert_int_equal(codec_mech_from_wire(&back, &w), CKR_OK);
	assert_null(back.pParameter);
	assert_int_equal(codec_mech_to_wire(&w, &bad), CKR_MECHANISM_PARAM_INVALID);

	assert_int_equal(codec_ulong_to_wire(CK_UNAVAILABLE_INFORMATION), UINT64_MAX);
	assert_int_equal(codec_ulong_from_wire(UINT64_MAX, &v), 0);
	assert_int_equal(v, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(codec_ulong_from_wire(42, &v), 0);
	assert_int_equal(v, 42);
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
		cmocka_unit_test(test_mechanism_and_ulong),
		cmocka_unit_test(test_fixed_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
