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

/* Hash functions the port implements. */
enum port_hash_alg {
	PORT_HASH_NONE = 0,
	PORT_HASH_SHA1,
	PORT_HASH_SHA224,
	PORT_HASH_SHA256,
	PORT_HASH_SHA384,
	PORT_HASH_SHA512,
};

#define PORT_HASH_MAX_LEN 64

/* The digest length of alg in bytes, or 0 for PORT_HASH_NONE. */
size_t port_hash_len(enum port_hash_alg alg);

/* An incremental hash computation. */
struct port_hash;

/* A new hash context for alg, or NULL on failure. Free with port_hash_free. */
struct port_hash *port_hash_new(enum port_hash_alg alg);

/* A new SHA-256 context (port_hash_new(PORT_HASH_SHA256)). */
struct port_hash *port_sha256_new(void);

/* Absorb len bytes of data. */
int port_hash_update(struct port_hash *h, const void *data, size_t len);

/* Write the digest (port_hash_len of its algorithm) to out; h may then only be freed. */
int port_hash_final(struct port_hash *h, uint8_t *out);

/* Free a hash context. Accepts NULL. */
void port_hash_free(struct port_hash *h);

/* --- MACs (mac_openssl.c) --- */

/* An incremental HMAC or AES-CMAC computation; the key is copied in. */
struct port_mac;

/* HMAC with alg and the key of key_len bytes (any length), or NULL. */
struct port_mac *port_hmac_new(enum port_hash_alg alg, const uint8_t *key, size_t key_len);

/* AES-CMAC with a 16, 24 or 32-byte key, or NULL. */
struct port_mac *port_cmac_new(const uint8_t *key, size_t key_len);

/* The full MAC length in bytes. */
size_t port_mac_len(const struct port_mac *m);

/* Absorb len bytes. */
int port_mac_update(struct port_mac *m, const void *data, size_t len);

/* Write the full MAC (port_mac_len bytes) to out; m may then only be freed. */
int port_mac_final(struct port_mac *m, uint8_t *out);

/* Free a MAC context, wiping its key. Accepts NULL. */
void port_mac_free(struct port_mac *m);

/* --- AES (aes_openssl.c) --- */

#define PORT_AES_BLOCK 16

/* An AES key schedule for the raw block function (ECB, no padding): the modes are built on it
 * by the caller, which then knows every output length exactly. */
struct port_aes;

/* A key schedule for a 16, 24 or 32-byte key, encrypting (enc) or decrypting, or NULL. */
struct port_aes *port_aes_new(const uint8_t *key, size_t key_len, int enc);

/* Run the block function over len bytes (a multiple of PORT_AES_BLOCK); out may alias in. */
int port_aes_blocks(struct port_aes *a, const uint8_t *in, size_t len, uint8_t *out);

/* Free a key schedule, wiping it. Accepts NULL. */
void port_aes_free(struct port_aes *a);

/* AES-GCM with any IV length >= 1: encrypt len bytes pt into ct and write a tag_len-byte tag
 * (4..16). */
int port_aes_gcm_seal(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
		      const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
		      uint8_t *ct, uint8_t *tag, size_t tag_len);

/* AES-GCM decryption; -1 (pt wiped) when the tag does not authenticate. */
int port_aes_gcm_open(const uint8_t *key, size_t key_len, const uint8_t *iv, size_t iv_len,
		      const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t len,
		      const uint8_t *tag, size_t tag_len, uint8_t *pt);

/* AES key wrap with the default IV: RFC 3394 (pad 0, in_len a multiple of 8, >= 16) or
 * RFC 5649 (pad 1, in_len >= 1). Wrapping writes in_len (rounded up to 8 for pad) + 8 bytes;
 * unwrapping writes at most in_len - 8 bytes. *out_len is set to the bytes written. Unwrapping
 * returns -1 (out wiped) when the integrity check fails. */
int port_aes_kw(int pad, int wrap, const uint8_t *key, size_t key_len, const uint8_t *in,
		size_t in_len, uint8_t *out, size_t *out_len);

/* --- RSA (rsa_openssl.c) --- */

#define PORT_RSA_MAX_BYTES 512 /* 4096 bits */

/* An RSA key by its big-endian components; a public key has only n and e. */
struct port_rsa_key {
	const uint8_t *n, *e, *d, *p, *q, *dp, *dq, *qinv;
	size_t n_len, e_len, d_len, p_len, q_len, dp_len, dq_len, qinv_len;
};

/* One generated component. */
struct port_rsa_part {
	uint8_t v[PORT_RSA_MAX_BYTES];
	size_t len;
};

/* A generated key: n, e, d, p, q, dp, dq, qinv in that order. */
struct port_rsa_gen {
	struct port_rsa_part part[8];
};

/* Generate a key of bits bits (2048..4096) with public exponent e (big-endian). The caller
 * wipes *out. */
int port_rsa_generate(unsigned int bits, const uint8_t *e, size_t e_len, struct port_rsa_gen *out);

enum port_rsa_pad {
	PORT_RSA_PKCS1 = 1, /* v1.5: type 1 for signatures, type 2 for encryption */
	PORT_RSA_PSS,
	PORT_RSA_OAEP,
};

/* How to pad. md: the hash that made the input of a signature (PORT_HASH_NONE for raw
 * PKCS#1 v1.5, whose input is a DigestInfo), or OAEP's hash; mgf: MGF1's hash; salt_len for
 * PSS; label for OAEP. */
struct port_rsa_params {
	enum port_rsa_pad pad;
	enum port_hash_alg md;
	enum port_hash_alg mgf;
	size_t salt_len;
	const uint8_t *label;
	size_t label_len;
};

/* Sign the input (a hash of md's length, or the DigestInfo) into sig (n_len bytes). */
int port_rsa_sign(const struct port_rsa_key *k, const struct port_rsa_params *pp, const uint8_t *in,
		  size_t in_len, uint8_t *sig, size_t sig_len);

/* 0 when sig is a valid signature of the input, else -1. */
int port_rsa_verify(const struct port_rsa_key *k, const struct port_rsa_params *pp,
		    const uint8_t *in, size_t in_len, const uint8_t *sig, size_t sig_len);

/* Encrypt in (short enough for the padding) into out (n_len bytes). */
int port_rsa_encrypt(const struct port_rsa_key *k, const struct port_rsa_params *pp,
		     const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len);

/* Decrypt in (n_len bytes) into out (n_len bytes of room); *out_len the plaintext length.
 * -1 when the padding does not check. */
int port_rsa_decrypt(const struct port_rsa_key *k, const struct port_rsa_params *pp,
		     const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len);

/* --- Elliptic curves (ec_openssl.c) --- */

/* Elliptic curves the port implements. */
enum port_ec_curve {
	PORT_EC_P256 = 1,
	PORT_EC_P384,
	PORT_EC_P521,
};

#define PORT_P256_SCALAR_LEN 32
#define PORT_P256_POINT_LEN  65 /* 04 || X || Y */
#define PORT_P256_SIG_LEN    64 /* r || s */
#define PORT_EC_MAX_SCALAR   66 /* P-521 */
#define PORT_EC_MAX_POINT    133

/* The scalar (and coordinate) length of curve, 0 when unknown; the point is 1 + 2 * that. */
size_t port_ec_scalar_len(enum port_ec_curve curve);

/* Generate a key pair on curve: the private scalar (big-endian, padded to priv_len) and the
 * uncompressed public point (pub_len bytes). The lengths must match the curve. */
int port_ec_generate(enum port_ec_curve curve, uint8_t *priv, size_t priv_len, uint8_t *pub,
		     size_t pub_len);

/* ECDSA-sign the hash (any length; truncated to the group order's size as ECDSA specifies)
 * with the private scalar priv. Writes r || s, each padded to the curve size, into sig
 * (sig_len must be twice the scalar length). */
int port_ec_sign(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len,
		 const uint8_t *hash, size_t hash_len, uint8_t *sig, size_t sig_len);

/* 0 when sig (r || s) is a valid ECDSA signature of hash under the uncompressed point pub. */
int port_ec_verify(enum port_ec_curve curve, const uint8_t *pub, size_t pub_len,
		   const uint8_t *hash, size_t hash_len, const uint8_t *sig, size_t sig_len);

/* ECDH: the x coordinate of priv * peer (peer an uncompressed point on the curve, checked),
 * into out (the scalar length). */
int port_ecdh(enum port_ec_curve curve, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
	      size_t peer_len, uint8_t *out, size_t out_len);

#define PORT_ED25519_LEN     32
#define PORT_ED25519_SIG_LEN 64

/* Generate an Ed25519 key: the 32-byte seed and the 32-byte public key (RFC 8032). */
int port_ed25519_generate(uint8_t *priv, uint8_t *pub);

/* PureEdDSA Ed25519 signature of msg. */
int port_ed25519_sign(const uint8_t *priv, const uint8_t *msg, size_t len, uint8_t *sig);

/* 0 when sig is a valid Ed25519 signature of msg under pub. */
int port_ed25519_verify(const uint8_t *pub, const uint8_t *msg, size_t len, const uint8_t *sig);

#endif
