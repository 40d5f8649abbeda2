/* RSA (Current Mechanisms §2.1): key pairs, PKCS #1 v1.5, PSS and OAEP, raw and
 * hash-and-sign. All RSA mechanisms are single-part except the hash-and-sign ones. */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "port/crypto.h"
#include "port/rng.h"
#include "processing.h"

static const uint8_t f4[] = { 0x01, 0x00, 0x01 };

/* The attributes of struct port_rsa_gen's components, in its order. */
static const CK_ATTRIBUTE_TYPE rsa_attrs[8] = {
	CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
	CKA_PRIME_2, CKA_EXPONENT_1,	  CKA_EXPONENT_2,	CKA_COEFFICIENT,
};

CK_RV proc_rsa_generate_pair(struct attrs *pub, struct attrs *priv)
{
	struct port_rsa_gen *g = NULL;
	const struct attr *e = attrs_find(pub, CKA_PUBLIC_EXPONENT);
	CK_ULONG bits = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!attrs_get_ulong(pub, CKA_MODULUS_BITS, &bits))
		return CKR_TEMPLATE_INCOMPLETE;
	if (bits < 2048 || bits > 4096)
		return CKR_KEY_SIZE_RANGE;
	if (e && (e->len == 0 || e->len > 8))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	g = malloc(sizeof(*g));
	if (!g)
		return CKR_HOST_MEMORY;
	if (port_rsa_generate((unsigned int)bits, e ? e->val : f4, e ? e->len : sizeof(f4), g) !=
	    0) {
		/* An even, too small or too large exponent; otherwise a failure. */
		rv = e ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_FUNCTION_FAILED;
		goto out;
	}
	rv = attrs_set(pub, CKA_MODULUS, g->part[0].v, g->part[0].len);
	if (rv == CKR_OK)
		rv = attrs_set(pub, CKA_PUBLIC_EXPONENT, g->part[1].v, g->part[1].len);
	for (size_t i = 0; i < 8 && rv == CKR_OK; i++)
		rv = attrs_set(priv, rsa_attrs[i], g->part[i].v, g->part[i].len);
out:
	wipe_free(g, sizeof(*g));
	return rv;
}

/* The key components of key (the private ones for a private key). */
static CK_RV rsa_key(const struct obj *key, struct port_rsa_key *k)
{
	size_t *lens[8] = { &k->n_len, &k->e_len,  &k->d_len,  &k->p_len,
			    &k->q_len, &k->dp_len, &k->dq_len, &k->qinv_len };
	const uint8_t **vals[8] = { &k->n, &k->e, &k->d, &k->p, &k->q, &k->dp, &k->dq, &k->qinv };

	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < 8; i++)
		*vals[i] = proc_attr(key, rsa_attrs[i], lens[i]);
	if (!k->n || !k->e || k->n_len > PORT_RSA_MAX_BYTES)
		return CKR_KEY_TYPE_INCONSISTENT;
	return CKR_OK;
}

/* The modulus length in bytes. */
static size_t rsa_k(const struct port_rsa_key *k)
{
	size_t i = 0;

	while (i < k->n_len && k->n[i] == 0)
		i++;
	return k->n_len - i;
}

struct rsa_ctx {
	struct port_rsa_params pp;
	struct port_hash *h; /* hash-and-sign */
	uint8_t *label;	     /* OAEP label copy */
};

static void rsa_free(void *p)
{
	struct rsa_ctx *x = p;

	port_hash_free(x->h);
	free(x->label);
	free(x);
}

static CK_RV rsa_init(struct op *op, const CK_MECHANISM *m, const struct obj *key)
{
	struct rsa_ctx *x = calloc(1, sizeof(*x));
	struct port_rsa_key k;
	size_t klen = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!x)
		return CKR_HOST_MEMORY;
	op->ctx = x;
	op->ctx_free = rsa_free;
	rv = rsa_key(key, &k);
	if (rv != CKR_OK)
		return rv;
	klen = rsa_k(&k);
	x->pp.pad = PORT_RSA_PKCS1;
	x->pp.md = op->mech->md;
	if (m->mechanism == CKM_RSA_PKCS_OAEP) {
		const CK_RSA_PKCS_OAEP_PARAMS *o = m->pParameter;

		x->pp.pad = PORT_RSA_OAEP;
		x->pp.md = mech_hash_of(o->hashAlg);
		x->pp.mgf = mech_mgf_hash(o->mgf);
		if (o->ulSourceDataLen) {
			x->label = mem_dup(o->pSourceData, o->ulSourceDataLen);
			if (!x->label)
				return CKR_HOST_MEMORY;
			x->pp.label = x->label;
			x->pp.label_len = o->ulSourceDataLen;
		}
	} else if (op->mech->param == MP_PSS) {
		const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;
		size_t hlen = port_hash_len(mech_hash_of(p->hashAlg));

		x->pp.pad = PORT_RSA_PSS;
		x->pp.md = mech_hash_of(p->hashAlg);
		x->pp.mgf = mech_mgf_hash(p->mgf);
		/* RFC 8017 §9.1.1: emLen >= hLen + sLen + 2 (emLen = k for our modulus sizes). */
		if (p->sLen + hlen + 2 > klen)
			return CKR_MECHANISM_PARAM_INVALID;
		x->pp.salt_len = p->sLen;
	}
	if (op->mech->md != PORT_HASH_NONE) {
		x->h = port_hash_new(op->mech->md);
		if (!x->h)
			return CKR_HOST_MEMORY;
	}
	return CKR_OK;
}

/* Sign or verify (the input checked, hashed when hash-and-sign). */
static CK_RV rsa_sig(struct op *op, const struct port_rsa_key *k, size_t klen, enum op_step st,
		     struct op_io *io)
{
	struct rsa_ctx *x = op->ctx;
	uint8_t digest[PORT_HASH_MAX_LEN];
	const uint8_t *in = io->in;
	size_t in_len = io->in_len;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!x->h) {
		/* Raw: a DigestInfo for v1.5 (at most k - 11 bytes), a hash for PSS. */
		if (x->pp.pad == PORT_RSA_PKCS1 ? in_len > klen - 11
						: in_len != port_hash_len(x->pp.md))
			return CKR_DATA_LEN_RANGE;
	}
	if (op->kind == OP_VERIFY) {
		if (io->sig_len != klen)
			return CKR_SIGNATURE_LEN_RANGE;
	} else {
		rv = proc_output(io, (CK_ULONG)klen, &done);
		if (done)
			return rv;
	}
	if (x->h) {
		if (st == OP_STEP_ONESHOT && port_hash_update(x->h, io->in, io->in_len) != 0)
			return CKR_FUNCTION_FAILED;
		if (port_hash_final(x->h, digest) != 0)
			return CKR_FUNCTION_FAILED;
		in = digest;
		in_len = port_hash_len(x->pp.md);
	}
	if (op->kind == OP_VERIFY) {
		rv = port_rsa_verify(k, &x->pp, in, in_len, io->sig, io->sig_len) == 0
			     ? CKR_OK
			     : CKR_SIGNATURE_INVALID;
	} else if (port_rsa_sign(k, &x->pp, in, in_len, io->out, klen) != 0) {
		log_error("rsa: signing failed");
		rv = CKR_FUNCTION_FAILED;
	} else {
		*io->out_len = (CK_ULONG)klen;
		rv = CKR_OK;
	}
	wipe(digest, sizeof(digest));
	return rv;
}

static CK_RV rsa_encrypt(struct op *op, const struct port_rsa_key *k, size_t klen, struct op_io *io)
{
	struct rsa_ctx *x = op->ctx;
	size_t room = x->pp.pad == PORT_RSA_OAEP ? 2 * port_hash_len(x->pp.md) + 2 : 11;
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (io->in_len + room > klen)
		return CKR_DATA_LEN_RANGE;
	rv = proc_output(io, (CK_ULONG)klen, &done);
	if (done)
		return rv;
	if (port_rsa_encrypt(k, &x->pp, io->in, io->in_len, io->out, klen) != 0)
		return CKR_FUNCTION_FAILED;
	*io->out_len = (CK_ULONG)klen;
	return CKR_OK;
}

/* Decrypt into a scratch buffer first: the exact plaintext length is known only then, and a
 * size query must answer it. */
static CK_RV rsa_decrypt(struct op *op, const struct port_rsa_key *k, size_t klen, struct op_io *io)
{
	struct rsa_ctx *x = op->ctx;
	uint8_t pt[PORT_RSA_MAX_BYTES];
	size_t got = sizeof(pt);
	bool done = false;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (io->in_len != klen)
		return CKR_ENCRYPTED_DATA_LEN_RANGE;
	if (port_rsa_decrypt(k, &x->pp, io->in, io->in_len, pt, &got) != 0) {
		rv = CKR_ENCRYPTED_DATA_INVALID;
		goto out;
	}
	rv = proc_output(io, (CK_ULONG)got, &done);
	if (done)
		goto out;
	memcpy(io->out, pt, got);
	*io->out_len = (CK_ULONG)got;
	rv = CKR_OK;
out:
	wipe(pt, sizeof(pt));
	return rv;
}

static CK_RV rsa_step(struct op *op, const struct obj *key, enum op_step st, struct op_io *io)
{
	struct rsa_ctx *x = op->ctx;
	struct port_rsa_key k;
	size_t klen = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (st == OP_STEP_UPDATE)
		return port_hash_update(x->h, io->in, io->in_len) ? CKR_FUNCTION_FAILED : CKR_OK;
	rv = rsa_key(key, &k);
	if (rv != CKR_OK)
		return rv;
	klen = rsa_k(&k);
	switch (op->kind) {
	case OP_SIGN:
	case OP_VERIFY:
		return rsa_sig(op, &k, klen, st, io);
	case OP_ENCRYPT:
		return rsa_encrypt(op, &k, klen, io);
	case OP_DECRYPT:
		return rsa_decrypt(op, &k, klen, io);
	case OP_DIGEST:
		break;
	}
	return CKR_GENERAL_ERROR;
}

const struct proc_family proc_rsa_family = { rsa_init, rsa_step };
