/* Digests (Current Mechanisms §2.x SHA-1, SHA-224/256/384/512): C_Digest*. */
#include "port/crypto.h"
#include "processing.h"

static void digest_free(void *ctx)
{
	port_hash_free(ctx);
}

static CK_RV digest_init(struct op *op, const CK_MECHANISM *m, const struct obj *key)
{
	(void)m;
	(void)key;
	op->ctx = port_hash_new(op->mech->md);
	if (!op->ctx)
		return CKR_HOST_MEMORY;
	op->ctx_free = digest_free;
	return CKR_OK;
}

static CK_RV digest_step(struct op *op, const struct obj *key, enum op_step st, struct op_io *io)
{
	struct port_hash *h = op->ctx;
	CK_ULONG need = (CK_ULONG)port_hash_len(op->mech->md);
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	(void)key;
	if (st == OP_STEP_UPDATE)
		return port_hash_update(h, io->in, io->in_len) ? CKR_FUNCTION_FAILED : CKR_OK;
	rv = proc_output(io, need, &done);
	if (done)
		return rv;
	if (st == OP_STEP_ONESHOT && port_hash_update(h, io->in, io->in_len) != 0)
		return CKR_FUNCTION_FAILED;
	if (port_hash_final(h, io->out) != 0)
		return CKR_FUNCTION_FAILED;
	*io->out_len = need;
	return CKR_OK;
}

const struct proc_family proc_digest_family = { digest_init, digest_step };
