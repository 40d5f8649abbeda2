/* Elliptic curves P-256, P-384, P-521: key pairs, ECDSA (raw and hash-and-sign) and ECDH1
 * (Current Mechanisms §2.3). */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "port/crypto.h"
#include "processing.h"

/* CKA_EC_PARAMS: the DER OIDs of the named curves. */
static const uint8_t p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t p384_oid[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t p521_oid[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };
/* id-ecPublicKey 1.2.840.10045.2.1 */
static const uint8_t ecpk_oid[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };

static const struct {
	const uint8_t *oid;
	size_t len;
	enum port_ec_curve curve;
} curves[] = {
	{ p256_oid, sizeof(p256_oid), PORT_EC_P256 },
	{ p384_oid, sizeof(p384_oid), PORT_EC_P384 },
	{ p521_oid, sizeof(p521_oid), PORT_EC_P521 },
};

/* The raw CKM_ECDSA input is a hash: at most SHA-512's 64 bytes. */
#define ECDSA_MAX_INPUT 64

CK_RV proc_ec_curve(const struct attrs *a, enum port_ec_curve *curve)
{
	const struct attr *p = attrs_find(a, CKA_EC_PARAMS);

	if (!p || p->len == 0)
		return CKR_TEMPLATE_INCOMPLETE;
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (p->len == curves[i].len && memcmp(p->val, curves[i].oid, p->len) == 0) {
			*curve = curves[i].curve;
			return CKR_OK;
		}
	}
	/* A well-formed DER OID, explicit parameters or printable name: just not ours. */
	if (p->len >= 2 && p->len < 128 &&
	    (p->val[0] == 0x06 || p->val[0] == 0x30 || p->val[0] == 0x13) &&
	    p->val[1] == p->len - 2)
		return CKR_CURVE_NOT_SUPPORTED;
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

static const uint8_t *curve_oid(enum port_ec_curve curve, size_t *len)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (curves[i].curve == curve) {
			*len = curves[i].len;
			return curves[i].oid;
		}
	}
	*len = 0;
	return NULL;
}

const uint8_t *proc_ec_params(enum port_ec_curve curve, size_t *len)
{
	return curve_oid(curve, len);
}

/* Write a DER header (tag, length < 65536) at p; returns its size. */
static size_t der_hdr(uint8_t *p, uint8_t tag, size_t len)
{
	p[0] = tag;
	if (len < 0x80) {
		p[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x100) {
		p[1] = 0x81;
		p[2] = (uint8_t)len;
		return 3;
	}
	p[1] = 0x82;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	return 4;
}

static size_t der_hdr_len(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

/* The point of a public key: CKA_EC_POINT is a DER OCTET STRING of 04||X||Y; a raw point is
 * accepted too (as some writers store it). */
static const uint8_t *ec_point(const uint8_t *v, size_t len, size_t point_len)
{
	if (len == point_len && v[0] == 0x04)
		return v;
	if (len == der_hdr_len(point_len) + point_len && v[0] == 0x04) {
		size_t h = der_hdr_len(point_len);

		if ((h == 2 && v[1] == point_len) || (h == 3 && v[1] == 0x81 && v[2] == point_len))
			return v + h;
	}
	return NULL;
}

CK_RV proc_ec_generate_pair(struct attrs *pub, struct attrs *priv)
{
	uint8_t d[PORT_EC_MAX_SCALAR];
	uint8_t q[PORT_EC_MAX_POINT];
	uint8_t point[4 + PORT_EC_MAX_POINT];
	uint8_t spki[64 + PORT_EC_MAX_POINT];
	enum port_ec_curve curve = PORT_EC_P256;
	const uint8_t *oid = NULL;
	size_t oid_len = 0;
	size_t slen = 0;
	size_t plen = 0;
	size_t n = 0;
	size_t alg_len = 0;
	size_t bits_len = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = proc_ec_curve(pub, &curve);
	if (rv != CKR_OK)
		goto out;
	slen = port_ec_scalar_len(curve);
	plen = 1 + 2 * slen;
	oid = curve_oid(curve, &oid_len);
	if (port_ec_generate(curve, d, slen, q, plen) != 0) {
		log_error("ec: key generation failed");
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	n = der_hdr(point, 0x04, plen);
	memcpy(point + n, q, plen);
	rv = attrs_set(pub, CKA_EC_POINT, point, n + plen);
	if (rv != CKR_OK)
		goto out;
	/* SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { id-ecPublicKey, curve }, BIT STRING }. */
	alg_len = sizeof(ecpk_oid) + oid_len;
	bits_len = 1 + plen;
	n = der_hdr(spki, 0x30, der_hdr_len(alg_len) + alg_len + der_hdr_len(bits_len) + bits_len);
	n += der_hdr(spki + n, 0x30, alg_len);
	memcpy(spki + n, ecpk_oid, sizeof(ecpk_oid));
	n += sizeof(ecpk_oid);
	memcpy(spki + n, oid, oid_len);
	n += oid_len;
	n += der_hdr(spki + n, 0x03, bits_len);
	spki[n++] = 0x00;
	memcpy(spki + n, q, plen);
	n += plen;
	rv = attrs_set(pub, CKA_PUBLIC_KEY_INFO, spki, n);
	if (rv == CKR_OK)
		rv = attrs_set(priv, CKA_PUBLIC_KEY_INFO, spki, n);
	if (rv == CKR_OK)
		rv = attrs_set(priv, CKA_VALUE, d, slen);
out:
	wipe(d, sizeof(d));
	return rv;
}

/* The private scalar of key, left-padded to the curve size, into d. */
static CK_RV ec_scalar(const struct obj *key, size_t slen, uint8_t *d)
{
	size_t len = 0;
	const uint8_t *v = proc_attr(key, CKA_VALUE, &len);

	if (!v || len > slen)
		return CKR_KEY_TYPE_INCONSISTENT;
	memset(d, 0, slen - len);
	memcpy(d + slen - len, v, len);
	return CKR_OK;
}

struct ec_ctx {
	enum port_ec_curve curve;
	struct port_hash *h; /* hash-and-sign mechanisms */
};

static void ec_free(void *p)
{
	struct ec_ctx *x = p;

	port_hash_free(x->h);
	free(x);
}

static CK_RV ec_init(struct op *op, const CK_MECHANISM *m, const struct obj *key)
{
	struct ec_ctx *x = calloc(1, sizeof(*x));

	(void)m;
	if (!x)
		return CKR_HOST_MEMORY;
	op->ctx = x;
	op->ctx_free = ec_free;
	if (proc_ec_curve(&key->a, &x->curve) != CKR_OK)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (op->mech->md != PORT_HASH_NONE) {
		x->h = port_hash_new(op->mech->md);
		if (!x->h)
			return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

static CK_RV ec_step(struct op *op, const struct obj *key, enum op_step st, struct op_io *io)
{
	struct ec_ctx *x = op->ctx;
	size_t slen = port_ec_scalar_len(x->curve);
	uint8_t d[PORT_EC_MAX_SCALAR];
	uint8_t digest[PORT_HASH_MAX_LEN];
	const uint8_t *in = io->in;
	size_t in_len = io->in_len;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (st == OP_STEP_UPDATE)
		return port_hash_update(x->h, io->in, io->in_len) ? CKR_FUNCTION_FAILED : CKR_OK;
	if (!x->h && (in_len == 0 || in_len > ECDSA_MAX_INPUT))
		return CKR_DATA_LEN_RANGE;
	if (op->kind == OP_VERIFY) {
		if (io->sig_len != 2 * slen)
			return CKR_SIGNATURE_LEN_RANGE;
	} else {
		rv = proc_output(io, (CK_ULONG)(2 * slen), &done);
		if (done)
			return rv;
	}
	if (x->h) {
		if (st == OP_STEP_ONESHOT && port_hash_update(x->h, io->in, io->in_len) != 0)
			return CKR_FUNCTION_FAILED;
		if (port_hash_final(x->h, digest) != 0)
			return CKR_FUNCTION_FAILED;
		in = digest;
		in_len = port_hash_len(op->mech->md);
	}
	if (op->kind == OP_VERIFY) {
		size_t len = 0;
		const uint8_t *v = proc_attr(key, CKA_EC_POINT, &len);
		const uint8_t *q = v ? ec_point(v, len, 1 + 2 * slen) : NULL;

		if (!q)
			rv = CKR_KEY_TYPE_INCONSISTENT;
		else if (port_ec_verify(x->curve, q, 1 + 2 * slen, in, in_len, io->sig,
					io->sig_len) != 0)
			rv = CKR_SIGNATURE_INVALID;
		else
			rv = CKR_OK;
		goto out;
	}
	rv = ec_scalar(key, slen, d);
	if (rv != CKR_OK)
		goto out;
	if (port_ec_sign(x->curve, d, slen, in, in_len, io->out, 2 * slen) != 0) {
		log_error("ec: signing failed");
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	*io->out_len = (CK_ULONG)(2 * slen);
	rv = CKR_OK;
out:
	wipe(d, sizeof(d));
	wipe(digest, sizeof(digest));
	return rv;
}

const struct proc_family proc_ec_family = { ec_init, ec_step };

/* ANSI X9.63 KDF (Current Mechanisms §2.3.8): H(Z || counter || shared) blocks, counter from 1,
 * 32-bit big-endian. */
static CK_RV x963_kdf(enum port_hash_alg alg, const uint8_t *z, size_t z_len, const uint8_t *shared,
		      size_t shared_len, uint8_t *out, size_t len)
{
	uint8_t block[PORT_HASH_MAX_LEN];
	size_t hlen = port_hash_len(alg);
	uint32_t counter = 1;
	CK_RV rv = CKR_FUNCTION_FAILED;

	for (size_t off = 0; off < len; off += hlen, counter++) {
		struct port_hash *h = port_hash_new(alg);
		uint8_t cb[4] = { (uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
				  (uint8_t)(counter >> 8), (uint8_t)counter };
		int r = -1;

		if (h)
			r = port_hash_update(h, z, z_len) | port_hash_update(h, cb, sizeof(cb)) |
			    port_hash_update(h, shared, shared_len) | port_hash_final(h, block);
		port_hash_free(h);
		if (r != 0)
			goto out;
		memcpy(out + off, block, len - off < hlen ? len - off : hlen);
	}
	rv = CKR_OK;
out:
	wipe(block, sizeof(block));
	if (rv != CKR_OK)
		wipe(out, len);
	return rv;
}

CK_RV proc_ec_derive(const struct obj *key, const CK_ECDH1_DERIVE_PARAMS *p, uint8_t *out,
		     size_t len)
{
	enum port_ec_curve curve = PORT_EC_P256;
	uint8_t d[PORT_EC_MAX_SCALAR];
	uint8_t z[PORT_EC_MAX_SCALAR];
	enum port_hash_alg alg = PORT_HASH_NONE;
	const uint8_t *peer = NULL;
	size_t slen = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (proc_ec_curve(&key->a, &curve) != CKR_OK)
		return CKR_KEY_TYPE_INCONSISTENT;
	slen = port_ec_scalar_len(curve);
	peer = ec_point(p->pPublicData, p->ulPublicDataLen, 1 + 2 * slen);
	if (!peer)
		return CKR_MECHANISM_PARAM_INVALID;
	switch (p->kdf) {
	case CKD_NULL:
		if (len > slen)
			return CKR_TEMPLATE_INCONSISTENT;
		break;
	case CKD_SHA1_KDF:
		alg = PORT_HASH_SHA1;
		break;
	case CKD_SHA224_KDF:
		alg = PORT_HASH_SHA224;
		break;
	case CKD_SHA256_KDF:
		alg = PORT_HASH_SHA256;
		break;
	case CKD_SHA384_KDF:
		alg = PORT_HASH_SHA384;
		break;
	case CKD_SHA512_KDF:
		alg = PORT_HASH_SHA512;
		break;
	default:
		return CKR_MECHANISM_PARAM_INVALID;
	}
	rv = ec_scalar(key, slen, d);
	if (rv != CKR_OK)
		goto out;
	if (port_ecdh(curve, d, slen, peer, 1 + 2 * slen, z, slen) != 0) {
		/* Not a point of the curve. */
		rv = CKR_MECHANISM_PARAM_INVALID;
		goto out;
	}
	if (alg == PORT_HASH_NONE) {
		/* §2.3.10: with no KDF the key is the last len bytes of Z. */
		memcpy(out, z + slen - len, len);
		rv = CKR_OK;
	} else {
		rv = x963_kdf(alg, z, slen, p->pSharedData, p->ulSharedDataLen, out, len);
	}
out:
	wipe(d, sizeof(d));
	wipe(z, sizeof(z));
	return rv;
}
