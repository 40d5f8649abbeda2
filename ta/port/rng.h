/* Randomness of the (emulated) TEE: the only source of random bytes for ta/. */
#ifndef TEEHSM_TA_PORT_RNG_H
#define TEEHSM_TA_PORT_RNG_H

#include <stddef.h>

/* Fill out with len bytes from a cryptographically secure generator. Returns 0, or -1 (out is
 * then wiped and must not be used). */
int port_rng_bytes(void *out, size_t len);

#endif
