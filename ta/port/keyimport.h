/* Checking imported key material (C_CreateObject) in the (emulated) TEE: each function checks
 * that the components form a valid key and writes the DER SubjectPublicKeyInfo of its public
 * half (what CKA_PUBLIC_KEY_INFO holds). spki has *spki_len bytes of room; on success
 * *spki_len is set to the length written. All return 0, or -1 for material that is not a valid
 * key (or on an internal failure); nothing is logged, no output is left on failure. */
#ifndef TEEHSM_TA_PORT_KEYIMPORT_H
#define TEEHSM_TA_PORT_KEYIMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "port/crypto.h"

/* Room enough for the SubjectPublicKeyInfo of any key the port imports (RSA-4096). */
#define PORT_SPKI_MAX 600

/* An RSA key: public (k->d NULL: n and e only) or private with every CRT component, which must
 * be consistent (n = p*q, e*d = 1, the CRT exponents and coefficient). The modulus must be
 * 2048 to 4096 bits and e odd and > 1. */
int port_rsa_import(const struct port_rsa_key *k, uint8_t *spki, size_t *spki_len);

/* An EC key on curve: with the private scalar priv (big-endian, at most the scalar length,
 * 0 < priv < order) its public point is computed into pub_out; without it (priv NULL) the
 * uncompressed point pub (1 + 2 * scalar length bytes) must be on the curve and is copied to
 * pub_out. pub_out has room for 1 + 2 * scalar length bytes. */
int port_ec_import(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len,
		   const uint8_t *pub, size_t pub_len, uint8_t *pub_out, uint8_t *spki,
		   size_t *spki_len);

/* An Ed25519 key: from the 32-byte private seed priv (pub_out then gets its public key), or,
 * priv NULL, the 32-byte public key pub (a point that decodes) copied to pub_out. */
int port_ed25519_import(const uint8_t *priv, const uint8_t *pub, uint8_t *pub_out, uint8_t *spki,
			size_t *spki_len);

#endif
