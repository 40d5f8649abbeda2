/*
 * Internals of the token core shared by its modules. Every function here expects the ta-wide
 * lock to be held (entry.c takes it around each ta_C_* call).
 *
 * Modules: ta.c (open/close, clients, handles), entry.c (the locked ta_C_* entry points),
 * token.c (slot and token info, C_InitToken, C_InitPIN), pin.c (PIN records and failure
 * counters), sess.c (sessions and login), obj.c (objects, object handles, attribute reads,
 * destruction), find.c (C_FindObjects*), store.c (the sealed store), mech.c (the mechanism
 * table and the one key-use policy check), op.c (encrypt, decrypt, digest, sign, verify),
 * keygen.c (C_GenerateKey[Pair]), keymgmt.c (wrap, unwrap, derive),
 * processing_ec.c (EC crypto through port/).
 */
#ifndef TEEHSM_TA_CORE_H
#define TEEHSM_TA_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ta.h"
#include "attr.h"

#define TA_TOKEN_ID_LEN	    16
#define TA_LABEL_LEN	    32
#define TA_PIN_MIN_LEN	    4
#define TA_PIN_MAX_LEN	    128
#define TA_PIN_SALT_LEN	    16
#define TA_PIN_HASH_LEN	    32
#define TA_SEAL_KEY_LEN	    32
#define TA_DEFAULT_PIN_ITER 300000UL
#define TA_DEFAULT_MAX_FAIL 10UL
#define TA_DEFAULT_MAX_SESS 256UL

/* A stored PIN: PBKDF2-HMAC-SHA256(pin, salt, iter). */
struct pin_rec {
	bool set;
	uint32_t iter;
	uint8_t salt[TA_PIN_SALT_LEN];
	uint8_t hash[TA_PIN_HASH_LEN];
};

/* The persistent token record (sealed in the store as "token"). */
struct token {
	uint8_t id[TA_TOKEN_ID_LEN]; /* random; new at each C_InitToken */
	uint8_t label[TA_LABEL_LEN]; /* blank-padded */
	bool initialized;
	struct pin_rec so;
	struct pin_rec user;
	uint32_t so_fails; /* consecutive wrong SO PINs */
	uint32_t user_fails;
};

/* A token or session object. */
struct obj {
	struct obj *next;
	uint64_t oid;	    /* unique in the ta, nonzero; a token object's store file id */
	struct sess *owner; /* the creating session of a session object; NULL for token objects */
	struct attrs a;
};

struct mech_info;
struct port_hash;

/* An active C_FindObjects* search: the ids of the matches, taken at C_FindObjectsInit. */
struct find_op {
	bool active;
	uint64_t *oids;
	size_t n;
	size_t pos;
};

/* The kinds of cryptographic operation: a session has at most one active of each (§5.2). */
enum op_kind {
	OP_ENCRYPT,
	OP_DECRYPT,
	OP_DIGEST,
	OP_SIGN,
	OP_VERIFY,
};

/* An active cryptographic operation (op.c; the mechanism's state belongs to its processing
 * family and is freed through ctx_free). */
struct op {
	bool active;
	bool updated;	/* C_*Update ran: only C_*Update/C_*Final may follow */
	bool need_auth; /* CKA_ALWAYS_AUTHENTICATE key: C_Login(CKU_CONTEXT_SPECIFIC) pending */
	enum op_kind kind;
	const struct mech_info *mech;
	uint64_t key_oid; /* 0 for a digest */
	void *ctx;
	void (*ctx_free)(void *ctx);
};

struct sess {
	struct sess *next;
	CK_SESSION_HANDLE h;
	struct ta_client *c;
	bool rw;
	struct find_op find;
	struct op sign;
	struct op verify;
	struct op encrypt;
	struct op decrypt;
	struct op digest;
};

enum ta_login {
	TA_LOGIN_NONE = 0,
	TA_LOGIN_USER,
	TA_LOGIN_SO,
};

/* One object handle of a client: handles name objects by id, never by pointer. */
struct handle_ent {
	CK_OBJECT_HANDLE h;
	uint64_t oid;
};

struct ta_client {
	struct ta *ta;
	struct ta_client *next;
	struct sess *sessions;
	unsigned long nsess;
	unsigned long nrw;
	enum ta_login login; /* shared by all sessions of the client */
	struct handle_ent *handles;
	size_t nhandles;
	size_t cap;
};

struct ta {
	/* One lock around every call: simple and correct. Key pair generation releases it while
	 * it computes (keygen.c). XXX: PBKDF2 of a PIN check (C_Login, C_SetPIN) still runs
	 * under it, so a login delays other clients' calls by its cost (pin_kdf_iterations). */
	pthread_mutex_t lock;
	unsigned long pin_iter;
	unsigned long max_fails;
	unsigned long max_sessions;
	struct port_store *ps;
	uint8_t key_token[TA_SEAL_KEY_LEN]; /* seals the token record */
	uint8_t key_obj[TA_SEAL_KEY_LEN];   /* seals objects */
	struct token tok;
	/* XXX: every object in one list, all token objects loaded at open; an index (and
	 * loading on demand) for large stores later. */
	struct obj *objs;
	struct find_index *fidx; /* find.c's attribute index over objs, or NULL */
	bool fidx_started;	 /* find_index_add has run once (the index exists or failed) */
	struct ta_client *clients;
};

/* --- ta.c --- */

/* A random nonzero 32-bit value for a handle. CKR_OK or CKR_FUNCTION_FAILED. */
CK_RV ta_random_handle(CK_ULONG *out);

/* Space-pad: copy the NUL-terminated src into the len-byte field dst, padding with blanks. */
void ta_pad(uint8_t *dst, size_t len, const char *src);

/* --- token.c --- */

/* CKR_OK for TA_SLOT_ID, else CKR_SLOT_ID_INVALID. */
CK_RV token_check_slot(CK_SLOT_ID slot);

/* A fresh, uninitialised token with a new random id. */
CK_RV token_fresh(struct token *t);

/* C_GetSlotList: the one slot, with the size-query rules of §5.2. */
CK_RV token_get_slot_list(struct ta_client *c, CK_BBOOL present, CK_SLOT_ID_PTR list,
			  CK_ULONG_PTR count);
/* C_GetSlotInfo. */
CK_RV token_get_slot_info(struct ta_client *c, CK_SLOT_ID slot, CK_SLOT_INFO_PTR info);
/* C_GetTokenInfo: label, serial, flags from the token record and counters. */
CK_RV token_get_token_info(struct ta_client *c, CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info);
/* C_InitToken: checks the SO PIN when initialised, then a new token id, label and SO PIN;
 * every token object is destroyed and the user PIN cleared. */
CK_RV token_init_token(struct ta_client *c, CK_SLOT_ID slot, const uint8_t *pin, CK_ULONG len,
		       const uint8_t *label);
/* C_InitPIN: sets the user PIN from an R/W SO session. */
CK_RV token_init_pin(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *pin, CK_ULONG len);
/* C_GenerateRandom, through the port RNG. */
CK_RV token_generate_random(struct ta_client *c, CK_SESSION_HANDLE hs, uint8_t *out, CK_ULONG len);
/* C_SetPIN: in an R/W session; the SO's PIN when the SO is logged in, else the user's; the old
 * PIN is checked and counted as pin_verify does; CKR_PIN_LEN_RANGE for a new PIN of a length
 * the token never accepts (checked first, costing no attempt). */
CK_RV token_set_pin(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *old_pin,
		    CK_ULONG old_len, const uint8_t *new_pin, CK_ULONG new_len);
/* C_SeedRandom: CKR_RANDOM_SEED_NOT_SUPPORTED for any valid session (no application feeds the
 * TEE's generator). */
CK_RV token_seed_random(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *seed,
			CK_ULONG len);

/* --- pin.c --- */

/* A new PIN record for pin (ta->pin_iter iterations, a random salt) into *out. */
CK_RV pin_make(struct ta *ta, const uint8_t *pin, CK_ULONG len, struct pin_rec *out);

/* Check pin against the SO (so) or user PIN, counting failures in the token record, which is
 * persisted before the result is known to the caller. CKR_OK, CKR_PIN_INCORRECT,
 * CKR_PIN_LOCKED (no check is made once locked), CKR_USER_PIN_NOT_INITIALIZED or
 * CKR_DEVICE_ERROR. */
CK_RV pin_verify(struct ta *ta, bool so, const uint8_t *pin, CK_ULONG len);

/* The CKF_*_PIN_{COUNT_LOW,FINAL_TRY,LOCKED} flags from the failure counters. */
CK_FLAGS pin_flags(const struct ta *ta);

/* --- sess.c --- */

/* The session h of client c into *out; CKR_SESSION_HANDLE_INVALID when c has no such session
 * (including another client's session). */
CK_RV sess_get(struct ta_client *c, CK_SESSION_HANDLE h, struct sess **out);

/* True when any client has a session open on the token. */
bool sess_any_open(const struct ta *ta);

/* Close every session of c (destroying their session objects and ending the login). */
void sess_close_all_of(struct ta_client *c);

/* C_OpenSession: serial sessions only, at most ta->max_sessions per client. */
CK_RV sess_open(struct ta_client *c, CK_SLOT_ID slot, CK_FLAGS flags, CK_SESSION_HANDLE_PTR ph);
/* C_CloseSession: destroys the session's objects; the last session ends the login. */
CK_RV sess_close(struct ta_client *c, CK_SESSION_HANDLE h);
/* C_CloseAllSessions for client c. */
CK_RV sess_close_all(struct ta_client *c, CK_SLOT_ID slot);
/* C_GetSessionInfo: the state from the session's R/W flag and the client's login. */
CK_RV sess_get_info(struct ta_client *c, CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info);
/* C_Login for CKU_SO, CKU_USER and CKU_CONTEXT_SPECIFIC. */
CK_RV sess_login(struct ta_client *c, CK_SESSION_HANDLE h, CK_USER_TYPE type, const uint8_t *pin,
		 CK_ULONG len);
/* C_Logout: ends the login, private session objects and operations on private keys. */
CK_RV sess_logout(struct ta_client *c, CK_SESSION_HANDLE h);

/* --- obj.c --- */

/* Wipe and free an object. Accepts NULL. */
void obj_free(struct obj *o);

/* A new, unlinked object with a fresh unique id and no attributes; NULL on failure. */
struct obj *obj_new(struct ta *ta);

/* Link o into the ta's object list (the list owns it). */
void obj_link(struct ta *ta, struct obj *o);

/* Unlink o from the object list and free it. Handles and operations that name it find it gone
 * the next time they are used. */
void obj_unlink_free(struct ta *ta, struct obj *o);

/* The object with id oid, or NULL. */
struct obj *obj_by_oid(const struct ta *ta, uint64_t oid);

/* True for a token object (CKA_TOKEN). */
bool obj_is_token(const struct obj *o);

/* True for a private object (CKA_PRIVATE). */
bool obj_is_private(const struct obj *o);

/* True when client c may see o: a token object or one of c's session objects, and for a private
 * object only while c's user is logged in. */
bool obj_visible(const struct ta_client *c, const struct obj *o);

/* The object named by c's handle h whatever the login state (a token object or c's session
 * object), or NULL. Callers decide about private objects. */
struct obj *obj_from_handle(struct ta_client *c, CK_OBJECT_HANDLE h);

/* c's handle for o, allocating a new random one the first time. CKR_OK or CKR_HOST_MEMORY. */
CK_RV obj_handle(struct ta_client *c, const struct obj *o, CK_OBJECT_HANDLE *out);

/* Drop c's handle table. */
void obj_handles_free(struct ta_client *c);

/* Destroy the session objects created by s (all of them, or only private ones). */
void obj_destroy_session_objects(struct ta *ta, const struct sess *s, bool only_private);

/* Free every object (at ta_close). */
void obj_free_all(struct ta *ta);

/* C_GetAttributeValue with the per-attribute rules of §5.7. */
CK_RV obj_get_attribute_value(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
			      CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);
/* C_DestroyObject: removes a token object's sealed file first. */
CK_RV obj_destroy(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho);

/* Check that s may create an object with attributes a: CKR_SESSION_READ_ONLY for a token
 * object in a R/O session, CKR_USER_NOT_LOGGED_IN for a private object without the user
 * logged in, CKR_ATTRIBUTE_READ_ONLY for CKA_TRUSTED set by anyone but the SO. */
CK_RV obj_check_create(const struct sess *s, const struct attrs *a);

/* C_CopyObject: CKR_ACTION_PROHIBITED for CKA_COPYABLE false; the template may change only
 * what attr_check_modify allows for a copy; the copy passes obj_check_create. */
CK_RV obj_copy(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
	       CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph);
/* C_GetObjectSize: the length of the object's encoded attributes. */
CK_RV obj_get_size(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
		   CK_ULONG_PTR size);
/* C_SetAttributeValue: CKR_ACTION_PROHIBITED for CKA_MODIFIABLE false, each attribute through
 * attr_check_modify, all or nothing, a token object stored before the change is visible. */
CK_RV obj_set_attribute_value(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho,
			      CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);

/* --- obj_create.c --- */

/* Commit a new object with attributes *a for session s of client c, and give c's handle for it
 * in *out: checks the creation rights (obj_check_create) and that a is a complete object of
 * its class (attr_check_stored: every non-optional attribute present, CKR_GENERAL_ERROR
 * otherwise), gives it a fresh id, persists a token object (store_obj_write) and links it.
 * Always takes ownership of *a, which is left empty (wiped) whatever the result. The one way
 * every object is made: C_CreateObject, C_CopyObject, and T2's C_GenerateKey, C_UnwrapKey and
 * C_DeriveKey use it. */
CK_RV obj_add(struct ta_client *c, struct sess *s, struct attrs *a, CK_OBJECT_HANDLE *out);

/* Set CKA_CHECK_VALUE of the AES or generic secret key a from its CKA_VALUE (AES: the first 3
 * bytes of AES-ECB of a zero block; generic: of SHA-1 of the value). When a already holds one
 * it must be that value (CKR_ATTRIBUTE_VALUE_INVALID). For every way of making secret keys. */
CK_RV obj_secret_check_value(struct attrs *a);

/* C_CreateObject (§5.7): data objects, X.509 certificates and imported keys; see obj_create.c
 * for what the token derives and checks. */
CK_RV obj_create(struct ta_client *c, CK_SESSION_HANDLE hs, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
		 CK_OBJECT_HANDLE_PTR ph);

/* --- find.c --- */

struct find_index;

/* The attribute index of C_FindObjects (CKA_CLASS, CKA_KEY_TYPE, CKA_ID, CKA_LABEL -> objects).
 * Hooks, all under the ta lock: find_index_add(ta, o) when o is linked into ta->objs and after
 * its attributes change; find_index_remove(ta, o) before o is unlinked or freed and before its
 * attributes change (it reads them). The index exists from the first find_index_add on, so it
 * must see every object from the first one linked; without any hook, searches scan the list.
 * Neither fails: after an allocation failure the index is rebuilt at the next search. */
void find_index_add(struct ta *ta, const struct obj *o);
void find_index_remove(struct ta *ta, const struct obj *o);
/* Free the index (at ta_close, once the objects are gone). */
void find_index_free(struct ta *ta);

/* End a search, freeing its state. */
void find_op_end(struct find_op *f);

/* C_FindObjectsInit: byte-exact match on any template over the visible objects. */
CK_RV find_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);
/* C_FindObjects: up to max handles of the remaining matches. */
CK_RV find_next(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
		CK_ULONG_PTR got);
/* C_FindObjectsFinal. */
CK_RV find_final(struct ta_client *c, CK_SESSION_HANDLE hs);

/* --- store.c --- */

/* Open the sealed store of cfg: the directory, the root key and the derived sealing keys, the
 * token record (a fresh uninitialised token is written when there is none), the recovery of any
 * write a crash interrupted (a committed group rolled forward, an uncommitted one and temporary
 * files removed) and every token object (refusing, with a warning, any file that does not
 * authenticate). */
CK_RV store_open(struct ta *ta, const struct ta_config *cfg);

/* Close the store and wipe the sealing keys. */
void store_close(struct ta *ta);

/* Seal and durably write the token record t (ta->tok is not changed). */
CK_RV store_token_write(struct ta *ta, const struct token *t);

/* Seal and durably write token object o. */
CK_RV store_obj_write(struct ta *ta, const struct obj *o);

/* Durably remove the file of token object oid (CKR_OK when there is none). */
CK_RV store_obj_remove(struct ta *ta, uint64_t oid);

/* Seal and durably write the token objects among objs[0..n) (session objects are skipped) as
 * one atomic group: after a crash at any instant either all of them or none are in the store
 * (pending files plus a commit record, rolled forward or back by store_open). Use it for every
 * operation that makes more than one object at once, such as C_GenerateKeyPair. At most 16
 * token objects. CKR_OK, or an error with none of them written. */
CK_RV store_obj_write_group(struct ta *ta, const struct obj *const *objs, size_t n);

/* --- op.c: the cryptographic operations of §5.8-§5.13 --- */

/* End an operation, freeing its state. Accepts an inactive one. */
void op_end(struct op *op);

/* End every operation of s (C_CloseSession). */
void op_end_all(struct sess *s);

/* End s's operations that use a private key or a key that no longer exists (C_Logout). */
void op_end_private(struct ta_client *c, struct sess *s);

/* The operation of s waiting for C_Login(CKU_CONTEXT_SPECIFIC), or NULL. */
struct op *op_pending_auth(struct sess *s);

/* C_SignInit: the policy check of mech.c, then the mechanism's setup. */
CK_RV sign_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hk);
/* C_Sign: single-part signing with the §5.2 size-query rules. */
CK_RV sign_oneshot(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *data, CK_ULONG len,
		   uint8_t *sig, CK_ULONG_PTR sig_len);
/* C_SignUpdate. */
CK_RV sign_update(struct ta_client *c, CK_SESSION_HANDLE hs, const uint8_t *part, CK_ULONG len);
/* C_SignFinal: with the §5.2 size-query rules. */
CK_RV sign_final(struct ta_client *c, CK_SESSION_HANDLE hs, uint8_t *sig, CK_ULONG_PTR sig_len);

/* C_EncryptInit, C_Encrypt, C_EncryptUpdate, C_EncryptFinal (§5.8). */
CK_RV op_encrypt_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		      CK_OBJECT_HANDLE hk);
CK_RV op_encrypt(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
		 CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
			CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_encrypt_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR out,
		       CK_ULONG_PTR out_len);

/* C_DecryptInit, C_Decrypt, C_DecryptUpdate, C_DecryptFinal (§5.9). */
CK_RV op_decrypt_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		      CK_OBJECT_HANDLE hk);
CK_RV op_decrypt(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
		 CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_decrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
			CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_decrypt_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR out,
		       CK_ULONG_PTR out_len);

/* C_DigestInit, C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal (§5.10). C_DigestKey
 * refuses (CKR_KEY_INDIGESTIBLE) anything but a secret key that is neither sensitive nor
 * unextractable: a digest of a secret value is itself a secret a careful token does not hand
 * out. */
CK_RV op_digest_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m);
CK_RV op_digest(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len,
		CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_digest_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len);
CK_RV op_digest_key(struct ta_client *c, CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE hk);
CK_RV op_digest_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR out,
		      CK_ULONG_PTR out_len);

/* C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal (§5.12). */
CK_RV op_verify_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		     CK_OBJECT_HANDLE hk);
CK_RV op_verify(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR data, CK_ULONG len,
		CK_BYTE_PTR sig, CK_ULONG sig_len);
CK_RV op_verify_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in, CK_ULONG in_len);
CK_RV op_verify_final(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR sig, CK_ULONG sig_len);

/* C_SignRecoverInit, C_VerifyRecoverInit: no mechanism of the token supports recovery, so
 * CKR_MECHANISM_INVALID (after the session and argument checks); C_SignRecover and
 * C_VerifyRecover then answer CKR_OPERATION_NOT_INITIALIZED. */
CK_RV op_sign_recover_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
			   CK_OBJECT_HANDLE hk);
CK_RV op_sign_recover(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR data, CK_ULONG len,
		      CK_BYTE_PTR sig, CK_ULONG_PTR sig_len);
CK_RV op_verify_recover_init(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
			     CK_OBJECT_HANDLE hk);
CK_RV op_verify_recover(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR sig,
			CK_ULONG sig_len, CK_BYTE_PTR data, CK_ULONG_PTR len);

/* The dual-function updates of §5.13, as the composition of the two active operations. */
CK_RV op_digest_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			       CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_decrypt_digest_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			       CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_sign_encrypt_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			     CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
CK_RV op_decrypt_verify_update(struct ta_client *c, CK_SESSION_HANDLE hs, CK_BYTE_PTR in,
			       CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len);

/* --- keygen.c --- */

/* C_GenerateKeyPair: both keys are made and stored, or neither. Called with the ta lock held;
 * releases it while the key pair is computed (the session is checked again afterwards). */
CK_RV keygen_pair(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		  CK_ATTRIBUTE_PTR pub_tmpl, CK_ULONG pub_n, CK_ATTRIBUTE_PTR priv_tmpl,
		  CK_ULONG priv_n, CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv);

/* C_GenerateKey (CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN): CKA_VALUE_LEN from the
 * template; the new key through obj_add. */
CK_RV keygen_secret(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph);

/* --- keymgmt.c --- */

/* C_WrapKey (§5.14): the wrapping key through mech_check_key_use(CKF_WRAP) (its errors as the
 * CKR_WRAPPING_KEY_* of §5.14); the key must be extractable (CKR_KEY_UNEXTRACTABLE), wrapped
 * only by a CKA_TRUSTED key when CKA_WRAP_WITH_TRUSTED (CKR_KEY_NOT_WRAPPABLE); a secret key's
 * value or a private key's PKCS#8 (AES_KEY_WRAP_PAD, AES_CBC_PAD only); §5.2 size rules. */
CK_RV key_wrap(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hw,
	       CK_OBJECT_HANDLE hk, CK_BYTE_PTR out, CK_ULONG_PTR out_len);
/* C_UnwrapKey: CKA_CLASS and CKA_KEY_TYPE from the template (CKR_TEMPLATE_INCOMPLETE), the
 * decrypted material checked as imports are, CKA_LOCAL/ALWAYS_SENSITIVE/NEVER_EXTRACTABLE
 * false; the new key through obj_add. */
CK_RV key_unwrap(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m,
		 CK_OBJECT_HANDLE huk, CK_BYTE_PTR wrapped, CK_ULONG wrapped_len,
		 CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph);
/* C_DeriveKey: CKM_ECDH1_DERIVE into an AES or generic secret key of the template's
 * CKA_VALUE_LEN; CKA_ALWAYS_SENSITIVE and CKA_NEVER_EXTRACTABLE from the base key's and the
 * new key's flags. */
CK_RV key_derive(struct ta_client *c, CK_SESSION_HANDLE hs, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE hb,
		 CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR ph);

#endif
