/* Byte buffers that wipe themselves, and the secret-handling helpers of STYLE.md §9. */
#ifndef TEEHSM_COMMON_BUF_H
#define TEEHSM_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A heap buffer that is wiped with OPENSSL_cleanse when freed. */
struct buf {
	uint8_t *data;
	size_t len;
};

/* Allocate a buffer of len bytes (zeroed) and copy src into it when src is not NULL.
 * Returns NULL on allocation failure. len 0 yields a valid empty buffer. */
struct buf *buf_new(const void *src, size_t len);

/* Wipe and free b and its data. Accepts NULL. */
void buf_free(struct buf *b);

/* Wipe len bytes at p, then free(p). Accepts NULL. */
void wipe_free(void *p, size_t len);

/* Wipe len bytes at p (never optimised away). */
void wipe(void *p, size_t len);

/* Constant-time comparison of two equal-length byte strings: 0 when equal. */
int ct_memcmp(const void *a, const void *b, size_t len);

/* Duplicate len bytes; NULL on failure or when len is 0 and src is NULL. */
void *mem_dup(const void *src, size_t len);

/* a + b without overflow: returns 0 and sets *out, or -1 if it would overflow. */
int size_add(size_t a, size_t b, size_t *out);

/* a * b without overflow: returns 0 and sets *out, or -1 if it would overflow. */
int size_mul(size_t a, size_t b, size_t *out);

#endif
