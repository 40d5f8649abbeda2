/*
 * What the forwarded calls share: PINs, output lengths and outputs between the caller's
 * PKCS#11 arguments and the wire. The server is trusted to run the token, not to be sane: an
 * answer that would write past the caller's buffer is a device error, never a copy.
 */
#include <string.h>

#include "cli_calls.h"

CK_RV cli_ulong_from_wire(uint64_t v, CK_ULONG *out)
{
	return codec_ulong_from_wire(v, out) ? CKR_DEVICE_ERROR : CKR_OK;
}

CK_RV cli_pin_to_wire(protobuf_c_boolean *has, ProtobufCBinaryData *dst, CK_UTF8CHAR_PTR pin,
		      CK_ULONG len)
{
	*has = 0;
	dst->data = NULL;
	dst->len = 0;
	if (!pin && len)
		return CKR_ARGUMENTS_BAD;
	if (!pin)
		return CKR_OK;
	*has = 1;
	dst->data = pin; /* borrowed: the packed frame is wiped after sending */
	dst->len = len;
	return CKR_OK;
}

void cli_out_len_to_wire(protobuf_c_boolean *has, uint64_t *dst, const void *out,
			 const CK_ULONG *len)
{
	*has = out != NULL;
	*dst = out ? codec_ulong_to_wire(*len) : 0;
}

CK_RV cli_bytes_from_wire(CK_RV rv, CK_BYTE_PTR out, CK_ULONG_PTR len, uint64_t out_len,
			  const ProtobufCBinaryData *data)
{
	int written = rv == CKR_OK && out;
	CK_ULONG n = 0;

	if (cli_ulong_from_wire(out_len, &n) != CKR_OK || written != (data != NULL))
		return CKR_DEVICE_ERROR;
	if (written) {
		if (data->len != n || n > *len)
			return CKR_DEVICE_ERROR;
		if (n)
			memcpy(out, data->data, n);
	}
	*len = n;
	return CKR_OK;
}

CK_RV cli_ulongs_from_wire(CK_RV rv, CK_ULONG_PTR out, CK_ULONG_PTR count, uint64_t out_count,
			   const uint64_t *v, size_t n)
{
	int written = rv == CKR_OK && out;
	CK_ULONG c = 0, tmp = 0;

	if (cli_ulong_from_wire(out_count, &c) != CKR_OK)
		return CKR_DEVICE_ERROR;
	if (!written) {
		/* Elements without a buffer they could have been written to. */
		if (n)
			return CKR_DEVICE_ERROR;
		*count = c;
		return CKR_OK;
	}
	if (n != c || c > *count)
		return CKR_DEVICE_ERROR;
	/* Check all before writing any. */
	for (size_t i = 0; i < n; i++)
		if (codec_ulong_from_wire(v[i], &tmp))
			return CKR_DEVICE_ERROR;
	for (size_t i = 0; i < n; i++)
		codec_ulong_from_wire(v[i], &out[i]);
	*count = c;
	return CKR_OK;
}

CK_RV cli_call_abort(Teehsm__Request *q, protobuf_c_boolean *has_abort, protobuf_c_boolean *abort)
{
	Teehsm__Response *resp = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	*has_abort = 1;
	*abort = 1;
	rv = cli_call(q, TEEHSM__RESPONSE__RESULT__NOT_SET, &resp);
	codec_response_free(resp);
	/* A token that took the bad arguments would be wrong; the caller's were bad all the same.
	 */
	return rv == CKR_OK ? CKR_ARGUMENTS_BAD : rv;
}

CK_RV cli_call_abortable(Teehsm__Request *q, Teehsm__Response__ResultCase want,
			 Teehsm__Response **resp, protobuf_c_boolean *has_abort,
			 protobuf_c_boolean *abort, ProtobufCBinaryData *data,
			 ProtobufCBinaryData *data2, CK_RV too_large)
{
	CK_RV rv = cli_call(q, want, resp);

	/* Only a request that never left comes back as CKR_DATA_LEN_RANGE without an answer. */
	if (rv != CKR_DATA_LEN_RANGE || *resp)
		return rv;
	data->data = NULL;
	data->len = 0;
	if (data2) {
		data2->data = NULL;
		data2->len = 0;
	}
	rv = cli_call_abort(q, has_abort, abort);
	/* The token refused the bad arguments and ended its operation: the caller's answer is
	 * that the data was too large. Any other answer (no such session, no operation) is the
	 * token's own and more precise. */
	return rv == CKR_ARGUMENTS_BAD ? too_large : rv;
}

CK_RV cli_bytes_answer(CK_RV rv, const Teehsm__Response *resp, Teehsm__Response__ResultCase want,
		       CK_BYTE_PTR out, CK_ULONG_PTR len)
{
	const Teehsm__BytesOutResponse *b = NULL;

	if (!resp || (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL))
		return rv;
	/* The length must come back with CKR_BUFFER_TOO_SMALL too. */
	if (resp->result_case != want)
		return CKR_DEVICE_ERROR;
	/* Every byte-output result is a BytesOutResponse, and results share one union. */
	b = resp->sign;
	if (cli_bytes_from_wire(rv, out, len, b->out_len, b->has_data ? &b->data : NULL) != CKR_OK)
		return CKR_DEVICE_ERROR;
	return rv;
}

CK_RV cli_object_answer(CK_RV rv, const Teehsm__Response *resp, Teehsm__Response__ResultCase want,
			CK_OBJECT_HANDLE_PTR out)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;

	if (rv != CKR_OK)
		return rv;
	if (resp->result_case != want)
		return CKR_DEVICE_ERROR;
	/* Every object-creating result is an ObjectResponse, and results share one union. */
	if (cli_ulong_from_wire(resp->create_object->object, &h) != CKR_OK)
		return CKR_DEVICE_ERROR;
	*out = h;
	return CKR_OK;
}
