#include <limits.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/buf.h"
#include "common/log.h"
#include "port/rng.h"

int port_rng_bytes(void *out, size_t len)
{
	unsigned char *p = out;
	size_t left = len;

	while (left) {
		int n = left > INT_MAX ? INT_MAX : (int)left;

		if (RAND_bytes(p, n) != 1) {
			ERR_clear_error();
			wipe(out, len);
			log_error("rng: RAND_bytes failed");
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	return 0;
}
