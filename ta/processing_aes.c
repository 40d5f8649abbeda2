/* AES (Current Mechanisms §2.10-§2.14): ECB, CBC, CBC_PAD and CTR built here on the port's raw
 * block function, so every output length is known exactly before anything is committed (the
 * size queries of §5.2 are exact and change nothing); GCM, key wrap (RFC 3394) and key wrap
 * with padding (RFC 5649) through the port's one-shot functions.
 * Multi-part GCM collects the input and works at C_*Final: decryption must release no
 * plaintext before the tag is checked, and encryption then shares the same path. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "port/crypto.h"
#include "processing.h"

#define BLK PORT_AES_BLOCK
/* A cap on what multi-part GCM collects. */
#define GCM_MAX_INPUT (16UL * 1024 * 1024)

struct aes_ctx {
	CK_MECHANISM_TYPE mech;
	bool enc;
	struct port_aes *a; /* ECB, CBC, CBC_PAD, CTR */
	/* block modes: the chaining value and the pending partial block */
	uint8_t iv[BLK];
	uint8_t buf[BLK];
	size_t nbuf;
	/* CTR: the counter block, its counter width, keystream and blocks used */
	uint8_t ctr[BLK];
	CK_ULONG ctr_bits;
	uint8_t ks[BLK];
	size_t ks_used;
	uint64_t blocks;
	/* GCM */
	uint8_t *giv;
	size_t giv_len;
	uint8_t *aad;
	size_t aad_len;
	size_t tag_len;
	uint8_t *acc;
	size_t acc_len;
};

static void aes_free(void *p)
{
	struct aes_ctx *x = p;

	port_aes_free(x->a);
	free(x->giv);
	free(x->aad);
	wipe_free(x->acc, x->acc_len);
	wipe(x, sizeof(*x));
	free(x);
}

static CK_RV aes_init(struct op *op, const CK_MECHANISM *m, const struct obj *key)
{
	struct aes_ctx *x = calloc(1, sizeof(*x));
	size_t klen = 0;
	const uint8_t *k = proc_attr(key, CKA_VALUE, &klen);

	if (!x)
		return CKR_HOST_MEMORY;
	op->ctx = x;
	op->ctx_free = aes_free;
	if (!k || (klen != 16 && klen != 24 && klen != 32))
		return CKR_KEY_TYPE_INCONSISTENT;
	x->mech = m->mechanism;
	x->enc = op->kind == OP_ENCRYPT;
	x->ks_used = BLK;
	switch (m->mechanism) {
	case CKM_AES_CBC:
	case CKM_AES_CBC_PAD:
		memcpy(x->iv, m->pParameter, BLK);
		break;
	case CKM_AES_CTR: {
		const CK_AES_CTR_PARAMS *cp = m->pParameter;

		memcpy(x->ctr, cp->cb, BLK);
		x->ctr_bits = cp->ulCounterBits;
		break;
	}
	case CKM_AES_GCM: {
		const CK_GCM_PARAMS *gp = m->pParameter;

		x->giv = mem_dup(gp->pIv, gp->ulIvLen);
		x->giv_len = gp->ulIvLen;
		if (!x->giv)
			return CKR_HOST_MEMORY;
		if (gp->ulAADLen) {
			x->aad = mem_dup(gp->pAAD, gp->ulAADLen);
			if (!x->aad)
				return CKR_HOST_MEMORY;
			x->aad_len = gp->ulAADLen;
		}
		x->tag_len = gp->ulTagBits / 8;
		return CKR_OK;
	}
	default:
		break;
	}
	if (m->mechanism == CKM_AES_KEY_WRAP || m->mechanism == CKM_AES_KEY_WRAP_PAD)
		return CKR_OK;
	/* CTR runs the block function forwards in both directions. */
	x->a = port_aes_new(k, klen, x->enc || m->mechanism == CKM_AES_CTR);
	return x->a ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* --- ECB, CBC, CBC_PAD, CTR: pure functions of the state (x is a copy to commit or drop) --- */

static int one_block(struct aes_ctx *x, const uint8_t *in, uint8_t *out)
{
	uint8_t t[BLK];
	int r = 0;

	if (x->mech == CKM_AES_ECB)
		return port_aes_blocks(x->a, in, BLK, out);
	if (x->enc) {
		for (size_t i = 0; i < BLK; i++)
			t[i] = in[i] ^ x->iv[i];
		r = port_aes_blocks(x->a, t, BLK, out);
		memcpy(x->iv, out, BLK);
	} else {
		memcpy(t, in, BLK); /* in may alias out */
		r = port_aes_blocks(x->a, t, BLK, out);
		for (size_t i = 0; i < BLK; i++)
			out[i] ^= x->iv[i];
		memcpy(x->iv, t, BLK);
	}
	wipe(t, sizeof(t));
	return r;
}

/* The standard incrementing function (SP 800-38A B.1) on the counter of CK_AES_CTR_PARAMS: the
 * low ctr_bits bits of the block, big-endian, modulo 2^ctr_bits; the bits above it are the
 * nonce and never change, even when ctr_bits is not a multiple of 8. */
static void ctr_increment(uint8_t ctr[BLK], CK_ULONG ctr_bits)
{
	size_t j = BLK;
	CK_ULONG bits = ctr_bits;
	uint8_t mask = 0;

	for (; bits >= 8 && j > 0; bits -= 8) {
		j--;
		if (++ctr[j] != 0)
			return;
	}
	if (bits == 0 || j == 0)
		return;
	j--;
	mask = (uint8_t)((1U << bits) - 1);
	ctr[j] = (uint8_t)((ctr[j] & ~mask) | ((ctr[j] + 1) & mask));
}

static CK_RV ctr_run(struct aes_ctx *x, const uint8_t *in, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len; i++) {
		if (x->ks_used == BLK) {
			/* The 2^ctr_bits counter values from the initial one are all there are: a
			 * counter block is never used twice under the key (ulCounterBits is checked
			 * to be 1..128 with the mechanism parameter). */
			if (x->ctr_bits < 64 && x->blocks >= (1ULL << x->ctr_bits))
				return CKR_DATA_LEN_RANGE;
			if (port_aes_blocks(x->a, x->ctr, BLK, x->ks) != 0)
				return CKR_FUNCTION_FAILED;
			x->blocks++;
			ctr_increment(x->ctr, x->ctr_bits);
			x->ks_used = 0;
		}
		out[i] = in[i] ^ x->ks[x->ks_used++];
	}
	return CKR_OK;
}

/* Absorb len bytes: writes the whole blocks now due into out (room len + BLK), *n set. */
static CK_RV blk_update(struct aes_ctx *x, const uint8_t *in, size_t len, uint8_t *out, size_t *n)
{
	size_t total = x->nbuf + len;
	size_t process = 0;
	size_t done = 0;
	uint8_t blk[BLK];
	CK_RV rv = CKR_OK;

	*n = 0;
	if (x->mech == CKM_AES_CTR) {
		rv = ctr_run(x, in, len, out);
		if (rv == CKR_OK)
			*n = len;
		return rv;
	}
	/* CBC_PAD decryption keeps the last whole block back: it holds the padding. */
	if (x->mech == CKM_AES_CBC_PAD && !x->enc)
		process = total ? ((total - 1) / BLK) * BLK : 0;
	else
		process = (total / BLK) * BLK;
	while (done < process) {
		size_t take = BLK - x->nbuf;

		memcpy(x->buf + x->nbuf, in, take);
		in += take;
		len -= take;
		x->nbuf = 0;
		memcpy(blk, x->buf, BLK);
		if (one_block(x, blk, out + done) != 0) {
			rv = CKR_FUNCTION_FAILED;
			break;
		}
		done += BLK;
	}
	if (rv == CKR_OK) {
		memcpy(x->buf + x->nbuf, in, len);
		x->nbuf += len;
		*n = done;
	}
	wipe(blk, sizeof(blk));
	return rv;
}

/* Finish: the padding block or the check that nothing is left (out room BLK). */
static CK_RV blk_final(struct aes_ctx *x, uint8_t *out, size_t *n)
{
	uint8_t blk[BLK];
	uint8_t pad = 0;
	uint8_t bad = 0;

	*n = 0;
	if (x->mech == CKM_AES_CTR)
		return CKR_OK;
	if (x->mech != CKM_AES_CBC_PAD) {
		if (x->nbuf)
			return x->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
		return CKR_OK;
	}
	if (x->enc) {
		pad = (uint8_t)(BLK - x->nbuf);
		memset(x->buf + x->nbuf, pad, pad);
		if (one_block(x, x->buf, out) != 0)
			return CKR_FUNCTION_FAILED;
		*n = BLK;
		return CKR_OK;
	}
	if (x->nbuf != BLK)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	if (one_block(x, x->buf, blk) != 0)
		return CKR_FUNCTION_FAILED;
	pad = blk[BLK - 1];
	bad = (uint8_t)(pad == 0 || pad > BLK);
	for (size_t i = 0; !bad && i < pad; i++)
		bad |= (uint8_t)(blk[BLK - 1 - i] != pad);
	if (bad) {
		wipe(blk, sizeof(blk));
		return CKR_ENCRYPTED_DATA_INVALID;
	}
	memcpy(out, blk, BLK - pad);
	*n = BLK - pad;
	wipe(blk, sizeof(blk));
	return CKR_OK;
}

static CK_RV blk_step(struct op *op, enum op_step st, struct op_io *io)
{
	struct aes_ctx *x = op->ctx;
	struct aes_ctx nx = *x; /* the state after this call, committed only when it is done */
	uint8_t *tmp = NULL;
	size_t room = 0;
	size_t n = 0;
	size_t m = 0;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (size_add(io->in_len, 2 * BLK, &room) != 0)
		return CKR_DATA_LEN_RANGE;
	tmp = malloc(room);
	if (!tmp)
		return CKR_HOST_MEMORY;
	if (st != OP_STEP_FINAL) {
		rv = blk_update(&nx, io->in, io->in_len, tmp, &n);
		if (rv != CKR_OK)
			goto out;
	}
	if (st != OP_STEP_UPDATE) {
		rv = blk_final(&nx, tmp + n, &m);
		if (rv != CKR_OK)
			goto out;
		n += m;
	}
	rv = proc_output(io, (CK_ULONG)n, &done);
	if (done)
		goto out;
	memcpy(io->out, tmp, n);
	*io->out_len = (CK_ULONG)n;
	*x = nx;
	rv = CKR_OK;
out:
	wipe(&nx, sizeof(nx));
	wipe_free(tmp, room);
	return rv;
}

/* --- GCM --- */

static CK_RV gcm_step(struct op *op, const struct obj *key, enum op_step st, struct op_io *io)
{
	struct aes_ctx *x = op->ctx;
	const uint8_t *in = st == OP_STEP_ONESHOT ? io->in : x->acc;
	size_t len = st == OP_STEP_ONESHOT ? io->in_len : x->acc_len;
	size_t klen = 0;
	const uint8_t *k = proc_attr(key, CKA_VALUE, &klen);
	uint8_t *pt = NULL;
	size_t need = 0;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (st == OP_STEP_UPDATE) {
		uint8_t *grown = NULL;

		rv = proc_output(io, 0, &done);
		if (done || !io->in_len)
			return rv;
		if (x->acc_len + io->in_len > GCM_MAX_INPUT)
			return x->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
		grown = malloc(x->acc_len + io->in_len);
		if (!grown)
			return CKR_HOST_MEMORY;
		if (x->acc_len)
			memcpy(grown, x->acc, x->acc_len);
		memcpy(grown + x->acc_len, io->in, io->in_len);
		wipe_free(x->acc, x->acc_len);
		x->acc = grown;
		x->acc_len += io->in_len;
		*io->out_len = 0;
		return CKR_OK;
	}
	if (!k)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (x->enc) {
		need = len + x->tag_len;
	} else {
		if (len < x->tag_len)
			return CKR_ENCRYPTED_DATA_LEN_RANGE;
		need = len - x->tag_len;
	}
	rv = proc_output(io, (CK_ULONG)need, &done);
	if (done)
		return rv;
	if (x->enc) {
		if (port_aes_gcm_seal(k, klen, x->giv, x->giv_len, x->aad, x->aad_len, in, len,
				      io->out, io->out + len, x->tag_len) != 0)
			return CKR_FUNCTION_FAILED;
	} else {
		/* Into scratch first: the caller's buffer sees plaintext only once it checks. */
		pt = malloc(need ? need : 1);
		if (!pt)
			return CKR_HOST_MEMORY;
		if (port_aes_gcm_open(k, klen, x->giv, x->giv_len, x->aad, x->aad_len, in, need,
				      in + need, x->tag_len, pt) != 0) {
			free(pt);
			return CKR_ENCRYPTED_DATA_INVALID;
		}
		memcpy(io->out, pt, need);
		wipe_free(pt, need);
	}
	*io->out_len = (CK_ULONG)need;
	return CKR_OK;
}

/* --- key wrap --- */

static CK_RV kw_step(struct op *op, const struct obj *key, struct op_io *io)
{
	struct aes_ctx *x = op->ctx;
	bool pad = x->mech == CKM_AES_KEY_WRAP_PAD;
	size_t klen = 0;
	const uint8_t *k = proc_attr(key, CKA_VALUE, &klen);
	uint8_t *tmp = NULL;
	size_t room = 0;
	size_t got = 0;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!k)
		return CKR_KEY_TYPE_INCONSISTENT;
	if (x->enc) {
		if (pad ? io->in_len == 0 : (io->in_len % 8 || io->in_len < 16))
			return CKR_DATA_LEN_RANGE;
		if (io->in_len > GCM_MAX_INPUT)
			return CKR_DATA_LEN_RANGE;
		room = ((io->in_len + 7) / 8) * 8 + 8;
	} else {
		if (io->in_len % 8 || io->in_len < (pad ? 16U : 24U) || io->in_len > GCM_MAX_INPUT)
			return CKR_ENCRYPTED_DATA_LEN_RANGE;
		room = io->in_len;
	}
	tmp = malloc(room);
	if (!tmp)
		return CKR_HOST_MEMORY;
	if (port_aes_kw(pad, x->enc, k, klen, io->in, io->in_len, tmp, &got) != 0) {
		rv = x->enc ? CKR_FUNCTION_FAILED : CKR_ENCRYPTED_DATA_INVALID;
		goto out;
	}
	rv = proc_output(io, (CK_ULONG)got, &done);
	if (done)
		goto out;
	memcpy(io->out, tmp, got);
	*io->out_len = (CK_ULONG)got;
	rv = CKR_OK;
out:
	wipe_free(tmp, room);
	return rv;
}

static CK_RV aes_step(struct op *op, const struct obj *key, enum op_step st, struct op_io *io)
{
	struct aes_ctx *x = op->ctx;

	switch (x->mech) {
	case CKM_AES_GCM:
		return gcm_step(op, key, st, io);
	case CKM_AES_KEY_WRAP:
	case CKM_AES_KEY_WRAP_PAD:
		return st == OP_STEP_ONESHOT ? kw_step(op, key, io) : CKR_FUNCTION_NOT_SUPPORTED;
	default:
		return blk_step(op, st, io);
	}
}

const struct proc_family proc_aes_family = { aes_init, aes_step };
