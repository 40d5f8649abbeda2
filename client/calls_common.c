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
