#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/buf.h"

struct buf *buf_new(const void *src, size_t len)
{
	struct buf *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	/* Always allocate at least one byte so data is never NULL. */
	b->data = calloc(1, len ? len : 1);
	if (!b->data) {
		free(b);
		return NULL;
	}
	if (src && len)
		memcpy(b->data, src, len);
	b->len = len;
	return b;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	wipe_free(b->data, b->len);
	free(b);
}

void wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

void wipe_free(void *p, size_t len)
{
	if (!p)
		return;
	wipe(p, len);
	free(p);
}

int ct_memcmp(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len);
}

void *mem_dup(const void *src, size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, src, len);
	return p;
}

int size_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b)
		return -1;
	*out = a + b;
	return 0;
}

int size_mul(size_t a, size_t b, size_t *out)
{
	if (a && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}
