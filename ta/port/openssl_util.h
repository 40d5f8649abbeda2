/* Helpers shared by the OpenSSL port files only (never included outside ta/port/). */
#ifndef TEEHSM_TA_PORT_OPENSSL_UTIL_H
#define TEEHSM_TA_PORT_OPENSSL_UTIL_H

#include <openssl/evp.h>

#include "port/crypto.h"

/* Clear OpenSSL's per-thread error queue, so nothing is left behind for an unrelated later
 * call, and return -1. */
int port_fail(void);

/* OpenSSL's digest for alg, or NULL for PORT_HASH_NONE. */
const EVP_MD *port_md(enum port_hash_alg alg);

#endif
