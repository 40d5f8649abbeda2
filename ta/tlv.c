#include <string.h>

#include "tlv.h"

void tlv_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void tlv_put_be64(uint8_t *p, uint64_t v)
{
	tlv_put_be32(p, (uint32_t)(v >> 32));
	tlv_put_be32(p + 4, (uint32_t)v);
}

uint32_t tlv_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t tlv_get_be64(const uint8_t *p)
{
	return (uint64_t)tlv_get_be32(p) << 32 | tlv_get_be32(p + 4);
}

uint8_t *tlv_put(uint8_t *p, uint64_t type, const void *val, uint32_t len)
{
	tlv_put_be64(p, type);
	tlv_put_be32(p + 8, len);
	if (len)
		memcpy(p + TLV_HDR_LEN, val, len);
	return p + TLV_HDR_LEN + len;
}

void tlv_reader_init(struct tlv_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}

int tlv_next(struct tlv_reader *r, uint64_t *type, const uint8_t **val, uint32_t *len)
{
	size_t left = r->len - r->off;
	uint32_t n = 0;

	if (left == 0)
		return 0;
	if (left < TLV_HDR_LEN)
		return -1;
	n = tlv_get_be32(r->p + r->off + 8);
	/* Compare against what is left rather than adding, so nothing can overflow. */
	if (n > left - TLV_HDR_LEN)
		return -1;
	*type = tlv_get_be64(r->p + r->off);
	*len = n;
	*val = r->p + r->off + TLV_HDR_LEN;
	r->off += TLV_HDR_LEN + n;
	return 1;
}
