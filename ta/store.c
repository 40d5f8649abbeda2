/*
 * The sealed store (DESIGN.md "Sealed store"). Files of the store directory:
 *
 *   token            the token record
 *   obj-<16 hex>     one token object, named by its id
 *   pend-<16 hex>    an object of a multi-object write, not yet committed (below)
 *   commit           the commit record of a multi-object write in progress
 *   root.key         the emulated TEE's root key (unless configured elsewhere)
 *
 * A sealed file is
 *
 *   magic "THSM" | version (1) | kind ('T', 'O' or 'C') | [token id (16), token record only]
 *   | nonce (12) | AES-256-GCM ciphertext | tag (16)
 *
 * under a key derived from the root key with HKDF-SHA256 (one info string for the token
 * record, another for objects), with associated data magic | version | kind | token id |
 * object id (u64 big-endian, 0 for the token record). A file moved to another object's name,
 * copied from another token or altered in any byte does not authenticate and is refused.
 * Plaintexts are TLV (tlv.h).
 *
 * Crash safety. Every file is replaced atomically by port_store_write (temp file, fsync, rename,
 * fsync of the directory) and removed by an unlink made durable before the caller hears CKR_OK,
 * so a single object or the token record is always either the old or the new one. A group of
 * objects that must appear together (a key pair) is written by store_obj_write_group:
 *
 *   1. each object, complete and durable, as pend-<id>;
 *   2. the commit record (kind 'C', sealed like an object under object id 0) listing the ids:
 *      once it is durable the group is committed;
 *   3. each pend-<id> renamed to obj-<id>, then one fsync of the directory;
 *   4. the commit record removed.
 *
 * store_open finishes what a crash interrupted before loading anything: with a commit record it
 * rolls forward (renames the pend- files that remain; the others are already in place) and
 * removes the record; then every pend- file left belongs to an uncommitted group and is removed
 * (rolled back), as are temp files. No object of a group is visible without the others.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "core.h"
#include "port/crypto.h"
#include "port/rng.h"
#include "port/storage.h"
#include "tlv.h"

#define SEAL_MAGIC	"THSM"
#define SEAL_MAGIC_LEN	4
#define SEAL_VERSION	1
#define KIND_TOKEN	'T'
#define KIND_OBJECT	'O'
#define KIND_COMMIT	'C'
#define SEAL_HDR_LEN	(SEAL_MAGIC_LEN + 2)
#define SEAL_AAD_LEN	(SEAL_HDR_LEN + TA_TOKEN_ID_LEN + 8)
#define STORE_MAX_FILE	(1024 * 1024)
#define TOKEN_FILE	"token"
#define OBJ_PREFIX	"obj-"
#define OBJ_NAME_LEN	(sizeof(OBJ_PREFIX) - 1 + 16)
#define PEND_PREFIX	"pend-"
#define COMMIT_FILE	"commit"
#define NAME_BUF_LEN	32
#define STORE_MAX_GROUP 16
#define ROOT_KEY_FILE	"root.key"
#define ROOT_KEY_LEN	32
#define INFO_TOKEN	"teehsm v1 sealed token record"
#define INFO_OBJECT	"teehsm v1 sealed object"

/* Tags of the token record's TLV fields. */
enum {
	TR_LABEL = 1,	    /* 32 bytes */
	TR_INITIALIZED = 2, /* 1 byte, 0 or 1 */
	TR_SO_PIN = 3,	    /* PIN record: iter u32 | salt | hash; absent when not set */
	TR_USER_PIN = 4,
	TR_SO_FAILS = 5, /* u32 */
	TR_USER_FAILS = 6,
};

#define PIN_REC_LEN (4 + TA_PIN_SALT_LEN + TA_PIN_HASH_LEN)

static void make_aad(uint8_t *aad, uint8_t kind, const uint8_t *tok_id, uint64_t oid)
{
	memcpy(aad, SEAL_MAGIC, SEAL_MAGIC_LEN);
	aad[SEAL_MAGIC_LEN] = SEAL_VERSION;
	aad[SEAL_MAGIC_LEN + 1] = kind;
	memcpy(aad + SEAL_HDR_LEN, tok_id, TA_TOKEN_ID_LEN);
	tlv_put_be64(aad + SEAL_HDR_LEN + TA_TOKEN_ID_LEN, oid);
}

/* Seal pt into a new file image *out. */
static CK_RV seal(const uint8_t *key, uint8_t kind, const uint8_t *tok_id, uint64_t oid,
		  const struct buf *pt, struct buf **out)
{
	uint8_t aad[SEAL_AAD_LEN];
	size_t hdr = SEAL_HDR_LEN + (kind == KIND_TOKEN ? TA_TOKEN_ID_LEN : 0);
	size_t total = 0;
	struct buf *b = NULL;
	uint8_t *nonce = NULL;

	*out = NULL;
	if (size_add(hdr + PORT_AEAD_NONCE_LEN + PORT_AEAD_TAG_LEN, pt->len, &total) ||
	    total > STORE_MAX_FILE)
		return CKR_DEVICE_MEMORY;
	b = buf_new(NULL, total);
	if (!b)
		return CKR_HOST_MEMORY;
	make_aad(aad, kind, tok_id, oid);
	memcpy(b->data, aad, SEAL_HDR_LEN);
	if (kind == KIND_TOKEN)
		memcpy(b->data + SEAL_HDR_LEN, tok_id, TA_TOKEN_ID_LEN);
	nonce = b->data + hdr;
	if (port_rng_bytes(nonce, PORT_AEAD_NONCE_LEN) != 0 ||
	    port_aead_seal(key, nonce, aad, sizeof(aad), pt->data, pt->len,
			   nonce + PORT_AEAD_NONCE_LEN,
			   nonce + PORT_AEAD_NONCE_LEN + pt->len) != 0) {
		buf_free(b);
		return CKR_FUNCTION_FAILED;
	}
	*out = b;
	return CKR_OK;
}

/* Open a sealed file image. For the token record, tok_id receives the id from the header; for
 * an object, tok_id is the expected token's id. On success *pt owns the plaintext. Returns 0,
 * or -1 with *why set to a reason fit for the log. */
static int unseal(const uint8_t *key, uint8_t kind, uint8_t *tok_id, uint64_t oid,
		  const struct buf *in, struct buf **pt, const char **why)
{
	uint8_t aad[SEAL_AAD_LEN];
	size_t hdr = SEAL_HDR_LEN + (kind == KIND_TOKEN ? TA_TOKEN_ID_LEN : 0);
	size_t ct_len = 0;
	const uint8_t *nonce = NULL;
	struct buf *b = NULL;

	*pt = NULL;
	if (in->len < hdr + PORT_AEAD_NONCE_LEN + PORT_AEAD_TAG_LEN) {
		*why = "truncated";
		return -1;
	}
	if (memcmp(in->data, SEAL_MAGIC, SEAL_MAGIC_LEN) != 0) {
		*why = "not a sealed file";
		return -1;
	}
	if (in->data[SEAL_MAGIC_LEN] != SEAL_VERSION) {
		*why = "unknown format version";
		return -1;
	}
	if (in->data[SEAL_MAGIC_LEN + 1] != kind) {
		*why = "wrong kind of file";
		return -1;
	}
	if (kind == KIND_TOKEN)
		memcpy(tok_id, in->data + SEAL_HDR_LEN, TA_TOKEN_ID_LEN);
	ct_len = in->len - hdr - PORT_AEAD_NONCE_LEN - PORT_AEAD_TAG_LEN;
	nonce = in->data + hdr;
	b = buf_new(NULL, ct_len);
	if (!b) {
		*why = "out of memory";
		return -1;
	}
	make_aad(aad, kind, tok_id, oid);
	if (port_aead_open(key, nonce, aad, sizeof(aad), nonce + PORT_AEAD_NONCE_LEN, ct_len,
			   nonce + PORT_AEAD_NONCE_LEN + ct_len, b->data) != 0) {
		buf_free(b);
		*why = "does not authenticate (tampered, moved, or from another token or device)";
		return -1;
	}
	*pt = b;
	return 0;
}

static uint8_t *put_pin(uint8_t *p, uint64_t tag, const struct pin_rec *r)
{
	uint8_t v[PIN_REC_LEN];

	tlv_put_be32(v, r->iter);
	memcpy(v + 4, r->salt, TA_PIN_SALT_LEN);
	memcpy(v + 4 + TA_PIN_SALT_LEN, r->hash, TA_PIN_HASH_LEN);
	p = tlv_put(p, tag, v, sizeof(v));
	wipe(v, sizeof(v));
	return p;
}

static CK_RV token_encode(const struct token *t, struct buf **out)
{
	size_t total = 4 * TLV_HDR_LEN + TA_LABEL_LEN + 1 + 4 + 4;
	uint8_t u32[4];
	uint8_t init = t->initialized ? 1 : 0;
	struct buf *b = NULL;
	uint8_t *p = NULL;

	if (t->so.set)
		total += TLV_HDR_LEN + PIN_REC_LEN;
	if (t->user.set)
		total += TLV_HDR_LEN + PIN_REC_LEN;
	b = buf_new(NULL, total);
	if (!b)
		return CKR_HOST_MEMORY;
	p = tlv_put(b->data, TR_LABEL, t->label, TA_LABEL_LEN);
	p = tlv_put(p, TR_INITIALIZED, &init, 1);
	if (t->so.set)
		p = put_pin(p, TR_SO_PIN, &t->so);
	if (t->user.set)
		p = put_pin(p, TR_USER_PIN, &t->user);
	tlv_put_be32(u32, t->so_fails);
	p = tlv_put(p, TR_SO_FAILS, u32, 4);
	tlv_put_be32(u32, t->user_fails);
	tlv_put(p, TR_USER_FAILS, u32, 4);
	*out = b;
	return CKR_OK;
}

static int get_pin(const uint8_t *v, uint32_t len, struct pin_rec *r)
{
	if (len != PIN_REC_LEN || r->set)
		return -1;
	r->iter = tlv_get_be32(v);
	memcpy(r->salt, v + 4, TA_PIN_SALT_LEN);
	memcpy(r->hash, v + 4 + TA_PIN_SALT_LEN, TA_PIN_HASH_LEN);
	r->set = r->iter > 0;
	return r->set ? 0 : -1;
}

/* Decode a token record into t (whose id is already set). Every field but the PINs is
 * required exactly once; unknown fields are refused. */
static int token_decode(const uint8_t *p, size_t len, struct token *t)
{
	struct tlv_reader r;
	const uint8_t *v = NULL;
	uint64_t tag = 0;
	uint32_t n = 0;
	unsigned seen = 0;
	int got = 0;

	tlv_reader_init(&r, p, len);
	while ((got = tlv_next(&r, &tag, &v, &n)) == 1) {
		if (tag > 31 || (seen & (1u << tag)))
			return -1;
		seen |= 1u << tag;
		switch (tag) {
		case TR_LABEL:
			if (n != TA_LABEL_LEN)
				return -1;
			memcpy(t->label, v, TA_LABEL_LEN);
			break;
		case TR_INITIALIZED:
			if (n != 1 || v[0] > 1)
				return -1;
			t->initialized = v[0] == 1;
			break;
		case TR_SO_PIN:
			if (get_pin(v, n, &t->so))
				return -1;
			break;
		case TR_USER_PIN:
			if (get_pin(v, n, &t->user))
				return -1;
			break;
		case TR_SO_FAILS:
		case TR_USER_FAILS:
			if (n != 4)
				return -1;
			*(tag == TR_SO_FAILS ? &t->so_fails : &t->user_fails) = tlv_get_be32(v);
			break;
		default:
			return -1;
		}
	}
	if (got != 0)
		return -1;
	if ((seen &
	     (1u << TR_LABEL | 1u << TR_INITIALIZED | 1u << TR_SO_FAILS | 1u << TR_USER_FAILS)) !=
	    (1u << TR_LABEL | 1u << TR_INITIALIZED | 1u << TR_SO_FAILS | 1u << TR_USER_FAILS))
		return -1;
	/* An initialised token always has an SO PIN. */
	if (t->initialized != t->so.set)
		return -1;
	return 0;
}

CK_RV store_token_write(struct ta *ta, const struct token *t)
{
	struct buf *pt = NULL;
	struct buf *file = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = token_encode(t, &pt);
	if (rv != CKR_OK)
		goto out;
	rv = seal(ta->key_token, KIND_TOKEN, t->id, 0, pt, &file);
	if (rv != CKR_OK)
		goto out;
	if (port_store_write(ta->ps, TOKEN_FILE, file->data, file->len) != PORT_STORE_OK) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	rv = CKR_OK;
out:
	buf_free(file);
	buf_free(pt);
	return rv;
}

static void obj_name(char *name, size_t len, uint64_t oid)
{
	snprintf(name, len, OBJ_PREFIX "%016" PRIx64, oid);
}

static void pend_name(char *name, size_t len, uint64_t oid)
{
	snprintf(name, len, PEND_PREFIX "%016" PRIx64, oid);
}

/* Seal token object o and durably write it as file name. */
static CK_RV obj_write_as(struct ta *ta, const struct obj *o, const char *name)
{
	struct buf *pt = NULL;
	struct buf *file = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	rv = attrs_serialize(&o->a, &pt);
	if (rv != CKR_OK)
		goto out;
	rv = seal(ta->key_obj, KIND_OBJECT, ta->tok.id, o->oid, pt, &file);
	if (rv != CKR_OK)
		goto out;
	if (port_store_write(ta->ps, name, file->data, file->len) != PORT_STORE_OK) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	rv = CKR_OK;
out:
	buf_free(file);
	buf_free(pt);
	return rv;
}

CK_RV store_obj_write(struct ta *ta, const struct obj *o)
{
	char name[NAME_BUF_LEN];

	obj_name(name, sizeof(name), o->oid);
	return obj_write_as(ta, o, name);
}

/* Seal and durably write the commit record naming the n objects oids. */
static CK_RV commit_write(struct ta *ta, const uint64_t *oids, size_t n)
{
	struct buf *pt = NULL;
	struct buf *file = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;

	pt = buf_new(NULL, n * 8);
	if (!pt) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		tlv_put_be64(pt->data + 8 * i, oids[i]);
	rv = seal(ta->key_obj, KIND_COMMIT, ta->tok.id, 0, pt, &file);
	if (rv != CKR_OK)
		goto out;
	if (port_store_write(ta->ps, COMMIT_FILE, file->data, file->len) != PORT_STORE_OK) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	rv = CKR_OK;
out:
	buf_free(file);
	buf_free(pt);
	return rv;
}

/* Rename pend-<oid> to obj-<oid> (forward) or back. */
static int group_rename(struct ta *ta, uint64_t oid, bool forward)
{
	char pend[NAME_BUF_LEN];
	char final[NAME_BUF_LEN];

	pend_name(pend, sizeof(pend), oid);
	obj_name(final, sizeof(final), oid);
	return forward ? port_store_rename(ta->ps, pend, final)
		       : port_store_rename(ta->ps, final, pend);
}

CK_RV store_obj_write_group(struct ta *ta, const struct obj *const *objs, size_t n)
{
	const struct obj *tok[STORE_MAX_GROUP];
	uint64_t oids[STORE_MAX_GROUP];
	char name[NAME_BUF_LEN];
	size_t k = 0;
	size_t pending = 0;
	size_t renamed = 0;
	CK_RV rv = CKR_GENERAL_ERROR;

	for (size_t i = 0; i < n; i++) {
		if (!obj_is_token(objs[i]))
			continue;
		if (k == STORE_MAX_GROUP)
			return CKR_GENERAL_ERROR;
		tok[k] = objs[i];
		oids[k++] = objs[i]->oid;
	}
	if (k == 0)
		return CKR_OK;
	if (k == 1)
		return store_obj_write(ta, tok[0]);

	for (pending = 0; pending < k; pending++) {
		pend_name(name, sizeof(name), oids[pending]);
		rv = obj_write_as(ta, tok[pending], name);
		if (rv != CKR_OK)
			goto out;
	}
	/* Durable from here on: a crash rolls the whole group forward at the next open. */
	rv = commit_write(ta, oids, k);
	if (rv != CKR_OK)
		goto out;
	for (renamed = 0; renamed < k; renamed++) {
		if (group_rename(ta, oids[renamed], true) != PORT_STORE_OK)
			goto undo;
	}
	if (port_store_sync(ta->ps) != PORT_STORE_OK)
		goto undo;
	pending = 0;
	/* A record left behind is harmless: the next open finds every object in place. */
	if (port_store_remove(ta->ps, COMMIT_FILE) != PORT_STORE_OK)
		log_warn("store: could not remove the commit record; it is finished at next open");
	rv = CKR_OK;
	goto out;

undo:
	/* The caller hears an error, so take the group back: first the objects back under their
	 * pending names (a crash meanwhile still rolls the whole group forward), then the record,
	 * then the pending files. */
	rv = CKR_DEVICE_ERROR;
	while (renamed > 0) {
		if (group_rename(ta, oids[renamed - 1], false) != PORT_STORE_OK) {
			/* XXX: the group reappears at the next open, which rolls it forward. */
			log_error("store: cannot take back a failed group write");
			pending = 0;
			goto out;
		}
		renamed--;
	}
	if (port_store_sync(ta->ps) != PORT_STORE_OK ||
	    port_store_remove(ta->ps, COMMIT_FILE) != PORT_STORE_OK) {
		log_error("store: cannot take back a failed group write");
		pending = 0;
		goto out;
	}
out:
	while (pending > 0) {
		pend_name(name, sizeof(name), oids[--pending]);
		port_store_remove(ta->ps, name);
	}
	return rv;
}

CK_RV store_obj_remove(struct ta *ta, uint64_t oid)
{
	char name[NAME_BUF_LEN];
	int r = 0;

	obj_name(name, sizeof(name), oid);
	r = port_store_remove(ta->ps, name);
	if (r != PORT_STORE_OK && r != PORT_STORE_NOENT)
		return CKR_DEVICE_ERROR;
	return CKR_OK;
}

/* The object id of a file name "obj-<16 lowercase hex>", or 0 when it is not one. */
static uint64_t obj_name_oid(const char *name)
{
	uint64_t oid = 0;

	if (strlen(name) != OBJ_NAME_LEN || strncmp(name, OBJ_PREFIX, sizeof(OBJ_PREFIX) - 1))
		return 0;
	for (const char *p = name + sizeof(OBJ_PREFIX) - 1; *p; p++) {
		unsigned d = 0;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else
			return 0;
		oid = oid << 4 | d;
	}
	return oid;
}

/* Load one object file; a file that fails any check is refused and left in place. */
static int load_obj_cb(const char *name, void *arg)
{
	struct ta *ta = arg;
	struct buf *file = NULL;
	struct buf *pt = NULL;
	struct obj *o = NULL;
	const char *why = NULL;
	uint64_t oid = obj_name_oid(name);

	if (!oid) {
		if (strncmp(name, PEND_PREFIX, sizeof(PEND_PREFIX) - 1) == 0) {
			/* Part of a group that was never committed (store_open ran recovery). */
			log_info("store: rolling back uncommitted %s", name);
			port_store_remove(ta->ps, name);
		} else if (strcmp(name, TOKEN_FILE) && strcmp(name, ROOT_KEY_FILE)) {
			log_debug("store: ignoring %s", name);
		}
		return 0;
	}
	if (port_store_read(ta->ps, name, STORE_MAX_FILE, &file) != PORT_STORE_OK) {
		why = "unreadable";
		goto out;
	}
	if (unseal(ta->key_obj, KIND_OBJECT, ta->tok.id, oid, file, &pt, &why) != 0)
		goto out;
	o = calloc(1, sizeof(*o));
	if (!o) {
		why = "out of memory";
		goto out;
	}
	o->oid = oid;
	if (attrs_parse(pt->data, pt->len, &o->a) != 0 || attr_check_stored(&o->a) != 0 ||
	    !obj_is_token(o)) {
		why = "malformed contents";
		goto out;
	}
	obj_link(ta, o);
	o = NULL; /* the object list owns it now */
out:
	if (why)
		log_warn("store: refusing object file %s: %s", name, why);
	obj_free(o);
	buf_free(pt);
	buf_free(file);
	return 0;
}

/* Load the token record, or write a fresh uninitialised token when there is none. */
static CK_RV load_token(struct ta *ta)
{
	struct buf *file = NULL;
	struct buf *pt = NULL;
	struct token t = { 0 };
	const char *why = NULL;
	CK_RV rv = CKR_GENERAL_ERROR;
	int r = 0;

	r = port_store_read(ta->ps, TOKEN_FILE, STORE_MAX_FILE, &file);
	if (r == PORT_STORE_NOENT) {
		rv = token_fresh(&t);
		if (rv == CKR_OK)
			rv = store_token_write(ta, &t);
		if (rv != CKR_OK)
			goto out;
		log_info("store: created a new uninitialised token");
		ta->tok = t;
		goto out;
	}
	if (r != PORT_STORE_OK) {
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if (unseal(ta->key_token, KIND_TOKEN, t.id, 0, file, &pt, &why) != 0) {
		log_error("store: refusing the token record: %s", why);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	if (token_decode(pt->data, pt->len, &t) != 0) {
		log_error("store: refusing the token record: malformed contents");
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	ta->tok = t;
	rv = CKR_OK;
out:
	wipe(&t, sizeof(t));
	buf_free(pt);
	buf_free(file);
	return rv;
}

/* Finish a group write a crash interrupted after its commit record became durable: rename the
 * pending files that remain, then remove the record. A record that does not authenticate (from
 * another token, or damaged) is discarded, so its group is rolled back with the other pending
 * files. */
static CK_RV recover_commit(struct ta *ta)
{
	struct buf *file = NULL;
	struct buf *pt = NULL;
	const char *why = NULL;
	CK_RV rv = CKR_DEVICE_ERROR;
	int r = 0;

	r = port_store_read(ta->ps, COMMIT_FILE, STORE_MAX_FILE, &file);
	if (r == PORT_STORE_NOENT) {
		rv = CKR_OK;
		goto out;
	}
	if (r != PORT_STORE_OK)
		goto out;
	if (unseal(ta->key_obj, KIND_COMMIT, ta->tok.id, 0, file, &pt, &why) == 0 &&
	    (pt->len == 0 || pt->len % 8 || pt->len / 8 > STORE_MAX_GROUP))
		why = "malformed contents";
	if (why) {
		log_error("store: discarding the commit record: %s", why);
	} else {
		for (size_t i = 0; i < pt->len / 8; i++) {
			uint64_t oid = tlv_get_be64(pt->data + 8 * i);

			r = group_rename(ta, oid, true);
			if (r == PORT_STORE_OK)
				log_info("store: rolled forward object %016" PRIx64, oid);
			else if (r != PORT_STORE_NOENT) /* NOENT: already in place */
				goto out;
		}
		if (port_store_sync(ta->ps) != PORT_STORE_OK)
			goto out;
	}
	r = port_store_remove(ta->ps, COMMIT_FILE);
	if (r != PORT_STORE_OK && r != PORT_STORE_NOENT)
		goto out;
	rv = CKR_OK;
out:
	buf_free(pt);
	buf_free(file);
	return rv;
}

CK_RV store_open(struct ta *ta, const struct ta_config *cfg)
{
	uint8_t rk[ROOT_KEY_LEN];
	char *rk_path = NULL;
	CK_RV rv = CKR_DEVICE_ERROR;

	if (port_store_open(cfg->store_dir, &ta->ps) != PORT_STORE_OK)
		goto out;
	if (cfg->root_key_path) {
		rk_path = strdup(cfg->root_key_path);
	} else if (asprintf(&rk_path, "%s/" ROOT_KEY_FILE, cfg->store_dir) < 0) {
		rk_path = NULL;
	}
	if (!rk_path) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	if (port_root_key_load(rk_path, rk, sizeof(rk)) != 0)
		goto out;
	if (port_hkdf_sha256(rk, sizeof(rk), INFO_TOKEN, ta->key_token, sizeof(ta->key_token)) ||
	    port_hkdf_sha256(rk, sizeof(rk), INFO_OBJECT, ta->key_obj, sizeof(ta->key_obj))) {
		rv = CKR_FUNCTION_FAILED;
		goto out;
	}
	rv = load_token(ta);
	if (rv != CKR_OK)
		goto out;
	rv = recover_commit(ta);
	if (rv != CKR_OK) {
		log_error("store: cannot finish an interrupted write in %s", cfg->store_dir);
		goto out;
	}
	if (port_store_list(ta->ps, load_obj_cb, ta) != PORT_STORE_OK) {
		log_error("store: cannot list %s", cfg->store_dir);
		rv = CKR_DEVICE_ERROR;
		goto out;
	}
	rv = CKR_OK;
out:
	wipe(rk, sizeof(rk));
	free(rk_path);
	return rv;
}

void store_close(struct ta *ta)
{
	port_store_close(ta->ps);
	ta->ps = NULL;
	wipe(ta->key_token, sizeof(ta->key_token));
	wipe(ta->key_obj, sizeof(ta->key_obj));
}
