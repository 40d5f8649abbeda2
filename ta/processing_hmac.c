/* MACs: HMAC with SHA-1/SHA-2 over generic secret keys, AES-CMAC over AES keys (C_Sign*,
 * C_Verify*), and the generation of secret key values. */
#include <string.h>

#include "common/buf.h"
#include "port/crypto.h"
#include "port/rng.h"
#include "processing.h"

static void mac_free(void *ctx)
{
	port_mac_free(ctx);
}

static CK_RV mac_init(struct op *op, const CK_MECHANISM *m, const struct obj *key)
{
	size_t len = 0;
	const uint8_t *v = proc_attr(key, CKA_VALUE, &len);

	if (!v)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (m->mechanism == CKM_AES_CMAC)
		op->ctx = port_cmac_new(v, len);
	else
		op->ctx = port_hmac_new(op->mech->md, v, len);
	if (!op->ctx)
		return CKR_FUNCTION_FAILED;
	op->ctx_free = mac_free;
	return CKR_OK;
}

static CK_RV mac_step(struct op *op, const struct obj *key, enum op_step st, struct op_io *io)
{
	struct port_mac *m = op->ctx;
	uint8_t mac[PORT_HASH_MAX_LEN];
	CK_ULONG need = (CK_ULONG)port_mac_len(m);
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	(void)key;
	if (st == OP_STEP_UPDATE)
		return port_mac_update(m, io->in, io->in_len) ? CKR_FUNCTION_FAILED : CKR_OK;
	if (op->kind == OP_VERIFY) {
		if (io->sig_len != need)
			return CKR_SIGNATURE_LEN_RANGE;
	} else {
		rv = proc_output(io, need, &done);
		if (done)
			return rv;
	}
	if (st == OP_STEP_ONESHOT && port_mac_update(m, io->in, io->in_len) != 0)
		return CKR_FUNCTION_FAILED;
	if (need > sizeof(mac) || port_mac_final(m, mac) != 0)
		return CKR_FUNCTION_FAILED;
	if (op->kind == OP_VERIFY) {
		rv = ct_memcmp(mac, io->sig, need) == 0 ? CKR_OK : CKR_SIGNATURE_INVALID;
	} else {
		memcpy(io->out, mac, need);
		*io->out_len = need;
		rv = CKR_OK;
	}
	wipe(mac, sizeof(mac));
	return rv;
}

const struct proc_family proc_mac_family = { mac_init, mac_step };

CK_RV proc_secret_generate(CK_MECHANISM_TYPE mech, struct attrs *a)
{
	uint8_t v[512];
	CK_ULONG len = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!attrs_get_ulong(a, CKA_VALUE_LEN, &len))
		return CKR_TEMPLATE_INCOMPLETE;
	if (mech == CKM_AES_KEY_GEN ? (len != 16 && len != 24 && len != 32)
				    : (len < 1 || len > sizeof(v)))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (port_rng_bytes(v, len) != 0)
		return CKR_FUNCTION_FAILED;
	rv = attrs_set(a, CKA_VALUE, v, len);
	wipe(v, sizeof(v));
	return rv;
}
