/* The bounded TLV encoding of sealed plaintexts: a sequence of (type u64, len u32, value),
 * big-endian, with no padding. Used for object attributes and the token record. */
#ifndef TEEHSM_TA_TLV_H
#define TEEHSM_TA_TLV_H

#include <stddef.h>
#include <stdint.h>

#define TLV_HDR_LEN 12

/* Store v big-endian in 4 bytes at p. */
void tlv_put_be32(uint8_t *p, uint32_t v);

/* Store v big-endian in 8 bytes at p. */
void tlv_put_be64(uint8_t *p, uint64_t v);

/* Read a big-endian 4-byte value at p. */
uint32_t tlv_get_be32(const uint8_t *p);

/* Read a big-endian 8-byte value at p. */
uint64_t tlv_get_be64(const uint8_t *p);

/* Append one element at p (which must have TLV_HDR_LEN + len bytes of room); returns the
 * position after it. */
uint8_t *tlv_put(uint8_t *p, uint64_t type, const void *val, uint32_t len);

/* A reader over len bytes at p; it never reads outside them. */
struct tlv_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Start reading len bytes at p. */
void tlv_reader_init(struct tlv_reader *r, const void *p, size_t len);

/* The next element: 1 with *type, *val (pointing into the input) and *len set; 0 at the end of
 * the input; -1 when the input is truncated or an element's length runs past its end. */
int tlv_next(struct tlv_reader *r, uint64_t *type, const uint8_t **val, uint32_t *len);

#endif
