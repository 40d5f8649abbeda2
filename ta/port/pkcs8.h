/* Private keys as DER PKCS#8 PrivateKeyInfo (RFC 5208), the plaintext of a wrapped private key
 * (C_WrapKey, C_UnwrapKey). Both functions return 0 or -1, log nothing and leave no secret
 * output behind on failure. */
#ifndef TEEHSM_TA_PORT_PKCS8_H
#define TEEHSM_TA_PORT_PKCS8_H

#include <stddef.h>
#include <stdint.h>

#include "port/crypto.h"
#include "port/keyimport.h"

enum port_pkey_type {
	PORT_PKEY_RSA = 1,
	PORT_PKEY_EC,
	PORT_PKEY_ED25519,
};

/* A private key by its components, as the PKCS#11 attributes hold them. */
struct port_pkey {
	enum port_pkey_type type;
	struct port_rsa_key rsa;  /* RSA: every component, CRT included */
	enum port_ec_curve curve; /* EC */
	const uint8_t *priv;	  /* EC: the scalar (big-endian); Ed25519: the 32-byte seed */
	size_t priv_len;
};

/* Encode k into a new buffer *der of *der_len bytes, which the caller wipes and frees
 * (wipe_free). The key is checked first (an inconsistent key is not encoded). */
int port_pkcs8_encode(const struct port_pkey *k, uint8_t **der, size_t *der_len);

/* A decoded private key; the caller wipes it. */
struct port_pkey_parts {
	enum port_pkey_type type;
	struct port_rsa_gen rsa;	  /* RSA: n, e, d, p, q, dp, dq, qinv */
	enum port_ec_curve curve;	  /* EC */
	uint8_t priv[PORT_EC_MAX_SCALAR]; /* EC: the scalar, padded to the curve size; */
	size_t priv_len;		  /* Ed25519: the 32-byte seed */
	uint8_t spki[PORT_SPKI_MAX];	  /* the SubjectPublicKeyInfo of its public half */
	size_t spki_len;
};

/* Decode len bytes of DER at der, exactly one PrivateKeyInfo of an RSA key of 2048 to 4096
 * bits with its CRT components, an EC key on P-256, P-384 or P-521, or an Ed25519 key, and
 * check the key (as port/keyimport.h checks imports) into *out. -1 for anything else. */
int port_pkcs8_decode(const uint8_t *der, size_t len, struct port_pkey_parts *out);

#endif
