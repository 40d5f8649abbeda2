#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "mech.h"
#include "port/crypto.h"
#include "processing.h"

/* CKA_EC_PARAMS of P-256: the DER OID 1.2.840.10045.3.1.7 (namedCurve). */
static const uint8_t p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* SubjectPublicKeyInfo of a P-256 key up to the point: SEQUENCE { SEQUENCE { id-ecPublicKey,
 * prime256v1 }, BIT STRING (no unused bits) }. */
static const uint8_t p256_spki_prefix[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
					    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
					    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00 };

/* The raw CKM_ECDSA input is a hash: at most SHA-512's 64 bytes. */
#define ECDSA_MAX_INPUT 64

/* The curve named by CKA_EC_PARAMS of a. */
static CK_RV ec_curve(const struct attrs *a, enum port_ec_curve *curve)
{
	const struct attr *p = attrs_find(a, CKA_EC_PARAMS);

	if (!p || p->len == 0)
		return CKR_TEMPLATE_INCOMPLETE;
	if (p->len == sizeof(p256_params) && memcmp(p->val, p256_params, p->len) == 0) {
		*curve = PORT_EC_P256;
		return CKR_OK;
	}
	/* A well-formed DER OID, explicit parameters or printable name: just not ours. */
	if (p->len >= 2 && p->len < 128 &&
	    (p->val[0] == 0x06 || p->val[0] == 0x30 || p->val[0] == 0x13) &&
	    p->val[1] == p->len - 2)
		return CKR_CURVE_NOT_SUPPORTED;
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

CK_RV proc_ec_generate_pair(struct attrs *pub, struct attrs *priv)
{
	uint8_t d[PORT_P256_SCALAR_LEN];
	uint8_t q[PORT_P256_POINT_LEN];
	uint8_t point[2 + PORT_P256_POINT_LEN];
	uint8_t spki[sizeof(p256_spki_prefix) + PORT_P256_POINT_LEN];
	enum port_ec_curve curve = PORT_EC_P256;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = ec_curve(pub, &curve);
	if (rv != CKR_OK)
		goto out;
	if (port_ec_generate(curve, d, sizeof(d), q, sizeof(q)) != 0) {
		log_error("ec: key generation failed");
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	/* CKA_EC_POINT is DER: OCTET STRING of the uncompressed point. */
	point[0] = 0x04;
	point[1] = (uint8_t)sizeof(q);
	memcpy(point + 2, q, sizeof(q));
	memcpy(spki, p256_spki_prefix, sizeof(p256_spki_prefix));
	memcpy(spki + sizeof(p256_spki_prefix), q, sizeof(q));
	rv = attrs_set(pub, CKA_EC_POINT, point, sizeof(point));
	if (rv == CKR_OK)
		rv = attrs_set(pub, CKA_PUBLIC_KEY_INFO, spki, sizeof(spki));
	if (rv == CKR_OK)
		rv = attrs_set(priv, CKA_PUBLIC_KEY_INFO, spki, sizeof(spki));
	if (rv == CKR_OK)
		rv = attrs_set(priv, CKA_VALUE, d, sizeof(d));
out:
	wipe(d, sizeof(d));
	return rv;
}

CK_RV proc_ec_sign_init(struct sign_op *op, const struct obj *key)
{
	enum port_ec_curve curve = PORT_EC_P256;

	if (ec_curve(&key->a, &curve) != CKR_OK)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (op->mech->sha256) {
		op->hash = port_sha256_new();
		if (!op->hash)
			return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

CK_ULONG proc_ec_sig_len(const struct obj *key)
{
	enum port_ec_curve curve = PORT_EC_P256;

	if (ec_curve(&key->a, &curve) != CKR_OK)
		return 0;
	return PORT_P256_SIG_LEN;
}

CK_RV proc_ec_check_data(const struct sign_op *op, CK_ULONG len)
{
	if (!op->mech->sha256 && (len == 0 || len > ECDSA_MAX_INPUT))
		return CKR_DATA_LEN_RANGE;
	return CKR_OK;
}

CK_RV proc_ec_sign_update(struct sign_op *op, const uint8_t *part, CK_ULONG len)
{
	if (!op->hash)
		return CKR_GENERAL_ERROR;
	if (port_hash_update(op->hash, part, len) != 0)
		return CKR_FUNCTION_FAILED;
	return CKR_OK;
}

CK_RV proc_ec_sign_final(struct sign_op *op, const struct obj *key, bool oneshot,
			 const uint8_t *data, CK_ULONG len, uint8_t *sig)
{
	const struct attr *d = attrs_find(&key->a, CKA_VALUE);
	enum port_ec_curve curve = PORT_EC_P256;
	uint8_t digest[PORT_SHA256_LEN];
	const uint8_t *in = data;
	size_t in_len = len;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!d || ec_curve(&key->a, &curve) != CKR_OK)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (op->mech->sha256) {
		if (oneshot) {
			rv = proc_ec_sign_update(op, data, len);
			if (rv != CKR_OK)
				goto out;
		}
		if (port_hash_final(op->hash, digest) != 0) {
			rv = CKR_FUNCTION_FAILED;
			goto out;
		}
		in = digest;
		in_len = sizeof(digest);
	} else {
		rv = proc_ec_check_data(op, len);
		if (rv != CKR_OK)
			goto out;
	}
	if (port_ec_sign(curve, d->val, d->len, in, in_len, sig, PORT_P256_SIG_LEN) != 0) {
		log_error("ec: signing failed");
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	rv = CKR_OK;
out:
	wipe(digest, sizeof(digest));
	return rv;
}
