/* Mechanism processing by family (STYLE §6): called only after the policy check of mech.c, and
 * reaching crypto only through port/. op.c drives every family through the same two calls. */
#ifndef TEEHSM_TA_PROCESSING_H
#define TEEHSM_TA_PROCESSING_H

#include "core.h"
#include "mech.h"

/* One call of an operation: a single-part call, an update, or a final. */
enum op_step {
	OP_STEP_ONESHOT,
	OP_STEP_UPDATE,
	OP_STEP_FINAL,
};

/* The buffers of one call. out NULL is a size query; *out_len is the room in out. */
struct op_io {
	const uint8_t *in; /* data (ONESHOT, UPDATE) */
	CK_ULONG in_len;
	const uint8_t *sig; /* the signature to verify (OP_VERIFY: ONESHOT, FINAL) */
	CK_ULONG sig_len;
	uint8_t *out; /* output (encrypt, decrypt, digest and sign) */
	CK_ULONG_PTR out_len;
};

/* A mechanism family. */
struct proc_family {
	/* Set up op->ctx (and op->ctx_free) for mechanism m, whose parameter has passed
	 * mech_check, with key (NULL for a digest). op->kind and op->mech are set. */
	CK_RV (*init)(struct op *op, const CK_MECHANISM *m, const struct obj *key);
	/* Run a step. On a size query or a too small buffer (proc_output) nothing is consumed
	 * and the state is unchanged; op.c then keeps the operation, and ends it on any other
	 * result of a ONESHOT or FINAL, or any error. */
	CK_RV (*step)(struct op *op, const struct obj *key, enum op_step st, struct op_io *io);
};

extern const struct proc_family proc_digest_family;
extern const struct proc_family proc_rsa_family;
extern const struct proc_family proc_ec_family;
extern const struct proc_family proc_eddsa_family;
extern const struct proc_family proc_aes_family;
extern const struct proc_family proc_mac_family;

/* The §5.2 rules for an output of need bytes: CKR_OK with *done false to go on; otherwise the
 * value to return (*done true): CKR_OK after a size query, CKR_BUFFER_TOO_SMALL. *out_len is
 * set to need in both cases. */
CK_RV proc_output(struct op_io *io, CK_ULONG need, bool *done);

/* The value of a byte attribute of key, or NULL (len 0). */
const uint8_t *proc_attr(const struct obj *key, CK_ATTRIBUTE_TYPE t, size_t *len);

/* --- processing_rsa.c --- */

/* Generate an RSA key pair of pub's CKA_MODULUS_BITS (and CKA_PUBLIC_EXPONENT, default 65537)
 * and set CKA_MODULUS and CKA_PUBLIC_EXPONENT on both keys, the private parts on priv.
 * CKR_TEMPLATE_INCOMPLETE without CKA_MODULUS_BITS, CKR_KEY_SIZE_RANGE outside 2048..4096,
 * CKR_ATTRIBUTE_VALUE_INVALID for a bad exponent. */
CK_RV proc_rsa_generate_pair(struct attrs *pub, struct attrs *priv);

/* --- processing_ec.c --- */

/* The curve named by CKA_EC_PARAMS of a: CKR_OK, CKR_TEMPLATE_INCOMPLETE when absent,
 * CKR_CURVE_NOT_SUPPORTED for a well-formed other curve, CKR_ATTRIBUTE_VALUE_INVALID. */
CK_RV proc_ec_curve(const struct attrs *a, enum port_ec_curve *curve);

/* Generate an EC key pair on the curve of pub's CKA_EC_PARAMS and set CKA_EC_POINT (DER OCTET
 * STRING of 04||X||Y) on pub, CKA_VALUE on priv and CKA_PUBLIC_KEY_INFO on both. */
CK_RV proc_ec_generate_pair(struct attrs *pub, struct attrs *priv);

/* ECDH1 (Current Mechanisms §2.3.10) with the private key and the parameters p (checked by
 * mech_check): the shared secret, through the KDF, cut to len bytes into out (a KDF of
 * CKD_NULL yields at most the field size: CKR_TEMPLATE_INCONSISTENT when len is more). */
CK_RV proc_ec_derive(const struct obj *key, const CK_ECDH1_DERIVE_PARAMS *p, uint8_t *out,
		     size_t len);

/* The CKA_EC_PARAMS (DER OID) of curve, or NULL (*len 0). */
const uint8_t *proc_ec_params(enum port_ec_curve curve, size_t *len);

/* --- processing_eddsa.c --- */

/* Generate an Ed25519 key pair (pub's CKA_EC_PARAMS must name Ed25519) and set CKA_EC_POINT
 * (DER OCTET STRING of the 32-byte key) on pub and CKA_VALUE on priv. */
CK_RV proc_eddsa_generate_pair(struct attrs *pub, struct attrs *priv);

/* --- processing_aes.c / processing_hmac.c: secret key values --- */

/* Generate a secret key value for mechanism mech (AES_KEY_GEN: CKA_VALUE_LEN 16, 24 or 32;
 * GENERIC_SECRET_KEY_GEN: 1..512) into a's CKA_VALUE. CKR_TEMPLATE_INCOMPLETE without
 * CKA_VALUE_LEN, CKR_ATTRIBUTE_VALUE_INVALID for a length out of range. */
CK_RV proc_secret_generate(CK_MECHANISM_TYPE mech, struct attrs *a);

#endif
