/* Mechanism processing by family (STYLE §6): called only after the policy check of mech.c, and
 * reaching crypto only through port/. */
#ifndef TEEHSM_TA_PROCESSING_H
#define TEEHSM_TA_PROCESSING_H

#include "core.h"

/* --- processing_ec.c: elliptic curves (P-256) --- */

/* Generate an EC key pair on the curve of pub's CKA_EC_PARAMS (which priv must equal) and set
 * the generated attributes: CKA_EC_POINT (DER OCTET STRING of 04||X||Y) and
 * CKA_PUBLIC_KEY_INFO on pub, CKA_VALUE (the scalar) and CKA_PUBLIC_KEY_INFO on priv.
 * CKR_CURVE_NOT_SUPPORTED for a well-formed but unsupported curve, CKR_ATTRIBUTE_VALUE_INVALID
 * for malformed parameters. */
CK_RV proc_ec_generate_pair(struct attrs *pub, struct attrs *priv);

/* Prepare op (mechanism and key set) for signing with the EC key. */
CK_RV proc_ec_sign_init(struct sign_op *op, const struct obj *key);

/* The signature length of the key (r||s), or 0 when the key is unusable. */
CK_ULONG proc_ec_sig_len(const struct obj *key);

/* CKR_DATA_LEN_RANGE when len bytes cannot be the single-part input of op's mechanism. */
CK_RV proc_ec_check_data(const struct sign_op *op, CK_ULONG len);

/* Absorb a part of the data (hash-and-sign mechanisms only). */
CK_RV proc_ec_sign_update(struct sign_op *op, const uint8_t *part, CK_ULONG len);

/* Produce the signature into sig (proc_ec_sig_len bytes): over data when oneshot, else over
 * what proc_ec_sign_update absorbed. */
CK_RV proc_ec_sign_final(struct sign_op *op, const struct obj *key, bool oneshot,
			 const uint8_t *data, CK_ULONG len, uint8_t *sig);

#endif
