/* Cryptographic primitives of the (emulated) TEE. ta/ reaches crypto only through this header,
 * so the core can run over OpenSSL here and over the GP TEE Internal API in OP-TEE.
 * All functions return 0 on success and -1 on failure unless stated otherwise; outputs are
 * wiped on failure. No function logs key material. */
#ifndef TEEHSM_TA_PORT_CRYPTO_H
#define TEEHSM_TA_PORT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define PORT_AEAD_KEY_LEN   32 /* AES-256-GCM */
#define PORT_AEAD_NONCE_LEN 12
#define PORT_AEAD_TAG_LEN   16
#define PORT_SHA256_LEN	    32

/* AES-256-GCM encryption of len bytes pt into ct (len bytes; may alias pt), authenticating aad
 * too; writes the PORT_AEAD_TAG_LEN-byte tag. */
int port_aead_seal(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   const uint8_t *pt, size_t len, uint8_t *ct, uint8_t *tag);

/* AES-256-GCM decryption of len bytes ct into pt, checking tag and aad. Returns -1 when the
 * data does not authenticate; pt is then wiped. */
int port_aead_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   const uint8_t *ct, size_t len, const uint8_t *tag, uint8_t *pt);

/* HKDF-SHA256 (RFC 5869) with an empty salt: out_len bytes from ikm and the info string. */
int port_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const char *info, uint8_t *out,
		     size_t out_len);

/* PBKDF2-HMAC-SHA256 of the password pw with salt and iter iterations into out_len bytes. */
int port_pbkdf2_sha256(const void *pw, size_t pw_len, const uint8_t *salt, size_t salt_len,
		       unsigned long iter, uint8_t *out, size_t out_len);

/* An incremental SHA-256 computation. */
struct port_hash;

/* A new SHA-256 context, or NULL on allocation failure. Free with port_hash_free. */
struct port_hash *port_sha256_new(void);

/* Absorb len bytes of data. */
int port_hash_update(struct port_hash *h, const void *data, size_t len);

/* Write the PORT_SHA256_LEN-byte digest to out; h may then only be freed. */
int port_hash_final(struct port_hash *h, uint8_t *out);

/* Free a hash context. Accepts NULL. */
void port_hash_free(struct port_hash *h);

/* Elliptic curves the port implements. */
enum port_ec_curve {
	PORT_EC_P256 = 1,
};

#define PORT_P256_SCALAR_LEN 32
#define PORT_P256_POINT_LEN  65 /* 04 || X || Y */
#define PORT_P256_SIG_LEN    64 /* r || s */

/* Generate a key pair on curve: the private scalar (big-endian, padded to priv_len) and the
 * uncompressed public point (pub_len bytes). The lengths must match the curve. */
int port_ec_generate(enum port_ec_curve curve, uint8_t *priv, size_t priv_len, uint8_t *pub,
		     size_t pub_len);

/* ECDSA-sign the hash (any length; truncated to the group order's size as ECDSA specifies)
 * with the private scalar priv. Writes r || s, each padded to the curve size, into sig
 * (sig_len must be twice the scalar length). */
int port_ec_sign(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len,
		 const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t sig_len);

#endif
