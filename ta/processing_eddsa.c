/* Ed25519 (PKCS#11 3.0 §2.3.5-2.3.6 over the v2.40 API): key pairs and PureEdDSA, single-part
 * (a pure EdDSA signature needs the whole message). */
#include <string.h>

#include "common/buf.h"
#include "port/crypto.h"
#include "processing.h"

/* CKA_EC_PARAMS naming Ed25519: the OID 1.3.101.112, or the PrintableString "edwards25519". */
static const uint8_t ed_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t ed_name[] = { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
				   'd',	 's',  '2', '5', '5', '1', '9' };

static CK_RV ed_params(const struct attrs *a)
{
	const struct attr *p = attrs_find(a, CKA_EC_PARAMS);

	if (!p || !p->len)
		return CKR_TEMPLATE_INCOMPLETE;
	if ((p->len == sizeof(ed_oid) && memcmp(p->val, ed_oid, p->len) == 0) ||
	    (p->len == sizeof(ed_name) && memcmp(p->val, ed_name, p->len) == 0))
		return CKR_OK;
	if (p->len >= 2 && p->len < 128 && (p->val[0] == 0x06 || p->val[0] == 0x13) &&
	    p->val[1] == p->len - 2)
		return CKR_CURVE_NOT_SUPPORTED;
	return CKR_ATTRIBUTE_VALUE_INVALID;
}

CK_RV proc_eddsa_generate_pair(struct attrs *pub, struct attrs *priv)
{
	uint8_t d[PORT_ED25519_LEN];
	uint8_t q[2 + PORT_ED25519_LEN];
	CK_RV rv = ed_params(pub);

	if (rv != CKR_OK)
		return rv;
	/* CKA_EC_POINT: the DER OCTET STRING of the 32-byte key, as OpenSC and SoftHSM write. */
	q[0] = 0x04;
	q[1] = PORT_ED25519_LEN;
	if (port_ed25519_generate(d, q + 2) != 0) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	rv = attrs_set(pub, CKA_EC_POINT, q, sizeof(q));
	if (rv == CKR_OK)
		rv = attrs_set(priv, CKA_VALUE, d, sizeof(d));
out:
	wipe(d, sizeof(d));
	return rv;
}

static CK_RV ed_init(struct op *op, const CK_MECHANISM *m, const struct obj *key)
{
	(void)op;
	(void)m;
	return ed_params(&key->a) == CKR_OK ? CKR_OK : CKR_KEY_TYPE_INCONSISTENT;
}

static CK_RV ed_step(struct op *op, const struct obj *key, enum op_step st, struct op_io *io)
{
	size_t len = 0;
	const uint8_t *v = NULL;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (st != OP_STEP_ONESHOT)
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (op->kind == OP_VERIFY) {
		if (io->sig_len != PORT_ED25519_SIG_LEN)
			return CKR_SIGNATURE_LEN_RANGE;
		v = proc_attr(key, CKA_EC_POINT, &len);
		if (v && len == 2 + PORT_ED25519_LEN && v[0] == 0x04 && v[1] == PORT_ED25519_LEN)
			v += 2;
		else if (!v || len != PORT_ED25519_LEN)
			return CKR_KEY_TYPE_INCONSISTENT;
		return port_ed25519_verify(v, io->in, io->in_len, io->sig) == 0
			       ? CKR_OK
			       : CKR_SIGNATURE_INVALID;
	}
	rv = proc_output(io, PORT_ED25519_SIG_LEN, &done);
	if (done)
		return rv;
	v = proc_attr(key, CKA_VALUE, &len);
	if (!v || len != PORT_ED25519_LEN)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (port_ed25519_sign(v, io->in, io->in_len, io->out) != 0)
		return CKR_FUNCTION_FAILED;
	*io->out_len = PORT_ED25519_SIG_LEN;
	return CKR_OK;
}

const struct proc_family proc_eddsa_family = { ed_init, ed_step };
