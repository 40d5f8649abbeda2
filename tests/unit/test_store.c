/*
 * Unit tests of the sealed store (DESIGN.md "Sealed store") through ta.h, with the store's files
 * handled directly: the crash recovery of multi-object writes (roll forward with a commit
 * record, roll back without one) constructed by hand, files refused for being truncated, moved
 * or from another token, and the root key and lock checks. test_ta.c covers a flipped byte, a
 * swapped copy and a stray temporary file; these extend it.
 *
 * Commit records are sealed here independently of the token, with OpenSSL, from the format
 * documented at the top of ta/store.c: HKDF-SHA256(root key, "teehsm v1 sealed object"), then
 * "THSM" | 1 | 'C' | nonce | AES-256-GCM(ids as u64 big-endian) | tag, with associated data
 * "THSM" | 1 | 'C' | token id | 0 (u64).
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "fixture_ta.h"
#include "ta.h"
/* The find index is tested directly too, through the core's internal header. */
#include "../../ta/core.h"

#define MAX_OBJ 16

static const CK_BYTE p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static CK_BBOOL yes = CK_TRUE;

static int setup(void **state)
{
	static const struct fx_ta_params p = {
		.name = "test_store",
	};

	return fx_ta_setup(state, &p);
}

static int teardown(void **state)
{
	return fx_ta_teardown(state);
}

/* --- helpers --- */

static void gen_pair(struct fx *f, CK_SESSION_HANDLE h, const char *label)
{
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	CK_ATTRIBUTE pt[] = {
		{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_SIGN, &yes, sizeof(yes) },
	};

	assert_int_equal(ta_C_GenerateKeyPair(f->c, h, &m, pt, 3, kt, 3, &pub, &priv), CKR_OK);
}

static CK_ULONG find_all(struct fx *f, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n,
			 CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_ULONG got = 0;

	assert_int_equal(ta_C_FindObjectsInit(f->c, h, tmpl, n), CKR_OK);
	assert_int_equal(ta_C_FindObjects(f->c, h, out, max, &got), CKR_OK);
	assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OK);
	return got;
}

/* Reopen the store (running its recovery) and count the objects of a user session. */
static CK_ULONG reopen_count(struct fx *f, CK_SESSION_HANDLE *hp)
{
	CK_OBJECT_HANDLE found[MAX_OBJ];

	fx_open(f);
	*hp = login_session(f);
	return find_all(f, *hp, NULL, 0, found, MAX_OBJ);
}

static bool verify_p256(const CK_BYTE *q, const CK_BYTE *hash, const CK_BYTE *sig)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *kctx = NULL;
	EVP_PKEY_CTX *vctx = NULL;
	EVP_PKEY *pkey = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char *der = NULL;
	int der_len = 0;
	bool ok = false;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)q, 65);
	params[2] = OSSL_PARAM_construct_end();
	kctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!kctx || EVP_PKEY_fromdata_init(kctx) != 1 ||
	    EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	es = ECDSA_SIG_new();
	if (!es || ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)) != 1)
		goto out;
	der_len = i2d_ECDSA_SIG(es, &der);
	if (der_len <= 0)
		goto out;
	vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!vctx || EVP_PKEY_verify_init(vctx) != 1)
		goto out;
	ok = EVP_PKEY_verify(vctx, der, (size_t)der_len, hash, 32) == 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(vctx);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_free(pkey);
	return ok;
}

/* The key pair labelled label is whole: both halves found, and they sign and verify. */
static void assert_pair_works(struct fx *f, CK_SESSION_HANDLE h, const char *label)
{
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE pub_t[] = { { CKA_CLASS, &pubc, sizeof(pubc) },
				 { CKA_LABEL, (void *)label, strlen(label) } };
	CK_ATTRIBUTE priv_t[] = { { CKA_CLASS, &privc, sizeof(privc) },
				  { CKA_LABEL, (void *)label, strlen(label) } };
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM m = { CKM_ECDSA_SHA256, NULL, 0 };
	CK_BYTE data[] = "rolled forward";
	CK_BYTE der[67], sig[64], hash[32];
	CK_ULONG sig_len = sizeof(sig);
	CK_ATTRIBUTE pa = { CKA_EC_POINT, der, sizeof(der) };

	assert_int_equal(find_all(f, h, pub_t, 2, &pub, 1), 1);
	assert_int_equal(find_all(f, h, priv_t, 2, &priv, 1), 1);
	assert_int_equal(ta_C_GetAttributeValue(f->c, h, pub, &pa, 1), CKR_OK);
	assert_int_equal(pa.ulValueLen, 67);
	assert_int_equal(ta_C_SignInit(f->c, h, &m, priv), CKR_OK);
	assert_int_equal(ta_C_Sign(f->c, h, data, sizeof(data), sig, &sig_len), CKR_OK);
	assert_int_equal(sig_len, 64);
	SHA256(data, sizeof(data), hash);
	assert_true(verify_p256(der + 2, hash, sig));
}

/* Names of the store's files starting with prefix, sorted. */
static size_t files(struct fx *f, const char *prefix, char names[][64], size_t max)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && strlen(de->d_name) < 64 &&
		    n < max)
			memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	qsort(names, n, 64, (int (*)(const void *, const void *))strcmp);
	return n;
}

static size_t nfiles(struct fx *f, const char *prefix)
{
	char names[MAX_OBJ][64];

	return files(f, prefix, names, MAX_OBJ);
}

static void path_of(struct fx *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

static void rename_file(struct fx *f, const char *from, const char *to)
{
	char a[128], b[128];

	path_of(f, from, a, sizeof(a));
	path_of(f, to, b, sizeof(b));
	assert_int_equal(rename(a, b), 0);
}

/* obj-<hex> -> pend-<hex>: an object of a group written but not yet renamed. */
static void make_pending(struct fx *f, const char *obj_file)
{
	char pend[64];
	int n = snprintf(pend, sizeof(pend), "pend-%s", obj_file + 4);

	assert_true(n > 0 && (size_t)n < sizeof(pend)); /* a cut name would test nothing */
	rename_file(f, obj_file, pend);
}

static uint64_t oid_of(const char *name)
{
	const char *hex = strchr(name, '-');

	assert_non_null(hex);
	return strtoull(hex + 1, NULL, 16);
}

static void write_file(struct fx *f, const char *name, const void *data, size_t len)
{
	char path[128];
	FILE *out;

	path_of(f, name, path, sizeof(path));
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(data, 1, len, out), len);
	assert_int_equal(fclose(out), 0);
}

static size_t read_file(struct fx *f, const char *name, uint8_t *buf, size_t cap)
{
	char path[128];
	FILE *in;
	size_t n;

	path_of(f, name, path, sizeof(path));
	in = fopen(path, "rb");
	assert_non_null(in);
	n = fread(buf, 1, cap, in);
	fclose(in);
	return n;
}

/* Write the store's commit record naming oids, sealed as store.c documents; with a random
 * token id instead of the store's when foreign. */
static void write_commit(struct fx *f, const uint64_t *oids, size_t n, bool foreign)
{
	uint8_t rk[32], key[32], tok[64], aad[4 + 2 + 16 + 8], pt[8 * 8];
	uint8_t file[6 + 12 + sizeof(pt) + 16];
	OSSL_PARAM params[4];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl = 0;

	assert_true(n <= 8);
	assert_int_equal(read_file(f, "root.key", rk, sizeof(rk)), 32);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, rk, sizeof(rk));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						      (char *)"teehsm v1 sealed object", 23);
	params[3] = OSSL_PARAM_construct_end();
	assert_non_null(kctx);
	assert_int_equal(EVP_KDF_derive(kctx, key, sizeof(key), params), 1);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);

	/* The token id is in the token record's header. */
	assert_true(read_file(f, "token", tok, sizeof(tok)) > 22);
	memcpy(aad,
	       "THSM\x01"
	       "C",
	       6);
	if (foreign)
		assert_int_equal(RAND_bytes(aad + 6, 16), 1);
	else
		memcpy(aad + 6, tok + 6, 16);
	memset(aad + 22, 0, 8);
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++)
			pt[8 * i + (size_t)b] = (uint8_t)(oids[i] >> (56 - 8 * b));
	}
	memcpy(file, aad, 6);
	assert_int_equal(RAND_bytes(file + 6, 12), 1);
	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex2(c, EVP_aes_256_gcm(), key, file + 6, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &outl, aad, sizeof(aad)), 1);
	assert_int_equal(EVP_EncryptUpdate(c, file + 18, &outl, pt, (int)(8 * n)), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, file + 18 + 8 * n, &outl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, file + 18 + 8 * n), 1);
	EVP_CIPHER_CTX_free(c);
	write_file(f, "commit", file, 18 + 8 * n + 16);
}

/* Close the store holding exactly one token key pair "pair"; its two files into names. */
static void one_pair_closed(struct fx *f, char names[][64], uint64_t *oids)
{
	CK_SESSION_HANDLE h = user_session(f);

	gen_pair(f, h, "pair");
	fx_close(f);
	assert_int_equal(files(f, "obj-", names, MAX_OBJ), 2);
	oids[0] = oid_of(names[0]);
	oids[1] = oid_of(names[1]);
}

static int cmp_handle(const void *a, const void *b)
{
	CK_OBJECT_HANDLE x = *(const CK_OBJECT_HANDLE *)a, y = *(const CK_OBJECT_HANDLE *)b;

	return x < y ? -1 : x > y;
}

static void assert_no_leftovers(struct fx *f)
{
	assert_int_equal(nfiles(f, "pend-"), 0);
	assert_int_equal(nfiles(f, "commit"), 0);
	assert_int_equal(nfiles(f, ".tmp."), 0);
}

/* --- multi-object writes and crash recovery --- */

/* C_GenerateKeyPair of token keys leaves exactly their two object files, nothing pending. */
static void test_group_write_leaves_only_objects(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);

	gen_pair(f, h, "a");
	gen_pair(f, h, "b");
	assert_int_equal(nfiles(f, "obj-"), 4);
	assert_no_leftovers(f);
}

/* A crash after the commit record: whatever the renames reached, the open finishes the group. */
static void test_commit_record_rolls_forward(void **state)
{
	struct fx *f = *state;
	char names[MAX_OBJ][64];
	uint64_t oids[2];
	CK_SESSION_HANDLE h;

	one_pair_closed(f, names, oids);
	/* 1. No rename done yet: both objects pending. */
	make_pending(f, names[0]);
	make_pending(f, names[1]);
	write_commit(f, oids, 2, false);
	assert_int_equal(reopen_count(f, &h), 2);
	assert_pair_works(f, h, "pair");
	assert_int_equal(nfiles(f, "obj-"), 2);
	assert_no_leftovers(f);
	fx_close(f);

	/* 2. One renamed, the other still pending. */
	make_pending(f, names[1]);
	write_commit(f, oids, 2, false);
	assert_int_equal(reopen_count(f, &h), 2);
	assert_pair_works(f, h, "pair");
	assert_int_equal(nfiles(f, "obj-"), 2);
	assert_no_leftovers(f);
	fx_close(f);

	/* 3. Every rename done, only the record left. */
	write_commit(f, oids, 2, false);
	assert_int_equal(reopen_count(f, &h), 2);
	assert_pair_works(f, h, "pair");
	assert_no_leftovers(f);
}

/* A crash before the commit record: the pending objects are removed, none is visible. */
static void test_uncommitted_group_rolls_back(void **state)
{
	struct fx *f = *state;
	char names[MAX_OBJ][64];
	uint64_t oids[2];
	CK_SESSION_HANDLE h;

	one_pair_closed(f, names, oids);
	make_pending(f, names[0]);
	make_pending(f, names[1]);
	/* Interrupted temporary writes of a record and of another pending object. */
	write_file(f, ".tmp.commit", "x", 1);
	write_file(f, ".tmp.pend-0000000000000001", "y", 1);
	assert_int_equal(reopen_count(f, &h), 0);
	assert_int_equal(nfiles(f, "obj-"), 0);
	assert_no_leftovers(f);
}

/* Only a record that authenticates rolls forward: one from another token, or altered, is
 * discarded and its group rolled back; the store still opens. */
static void test_foreign_or_altered_commit_record_discarded(void **state)
{
	struct fx *f = *state;
	char names[MAX_OBJ][64];
	uint64_t oids[2];
	CK_SESSION_HANDLE h;
	uint8_t rec[256];
	size_t n;

	one_pair_closed(f, names, oids);
	make_pending(f, names[0]);
	make_pending(f, names[1]);
	write_commit(f, oids, 2, true);
	assert_int_equal(reopen_count(f, &h), 0);
	assert_no_leftovers(f);
	fx_close(f);

	/* Rebuild a pair and alter its genuine record. */
	fx_open(f);
	one_pair_closed(f, names, oids);
	make_pending(f, names[0]);
	make_pending(f, names[1]);
	write_commit(f, oids, 2, false);
	n = read_file(f, "commit", rec, sizeof(rec));
	rec[n - 1] ^= 0x01;
	write_file(f, "commit", rec, n);
	assert_int_equal(reopen_count(f, &h), 0);
	assert_no_leftovers(f);
}

/* --- sealed files refused --- */

/* Truncated files and a file moved to another object's name do not load; the others do. */
static void test_truncated_and_moved_object_files_refused(void **state)
{
	struct fx *f = *state;
	char names[MAX_OBJ][64], path[128], moved[64];
	CK_SESSION_HANDLE h = user_session(f);
	uint8_t buf[4096];
	size_t n;

	gen_pair(f, h, "one");
	gen_pair(f, h, "two");
	fx_close(f);
	assert_int_equal(files(f, "obj-", names, MAX_OBJ), 4);
	/* names[0] emptied, names[1] cut inside the ciphertext. */
	path_of(f, names[0], path, sizeof(path));
	assert_int_equal(truncate(path, 0), 0);
	n = read_file(f, names[1], buf, sizeof(buf));
	write_file(f, names[1], buf, n - 17);
	/* names[2] moved to a name of its own: valid ciphertext, wrong object id. */
	snprintf(moved, sizeof(moved), "obj-%016" PRIx64, oid_of(names[2]) ^ 1);
	rename_file(f, names[2], moved);
	assert_int_equal(reopen_count(f, &h), 1);
	/* The refused files are left for inspection. */
	assert_int_equal(nfiles(f, "obj-"), 4);
}

/* An object file of another token under the same root key is refused. */
static void test_object_file_of_another_token_refused(void **state)
{
	struct fx *f = *state;
	struct fx g = { 0 };
	char names[MAX_OBJ][64], rk[128];
	CK_SESSION_HANDLE h = user_session(f);
	uint8_t buf[4096];
	size_t n;

	gen_pair(f, h, "mine");
	/* Another store, same device root key, its own token. */
	snprintf(g.dir, sizeof(g.dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	path_of(f, "root.key", rk, sizeof(rk));
	g.cfg = f->cfg;
	g.cfg.store_dir = g.dir;
	g.cfg.root_key_path = rk;
	fx_open(&g);
	h = user_session(&g);
	gen_pair(&g, h, "theirs");
	fx_close(&g);
	assert_int_equal(files(&g, "obj-", names, MAX_OBJ), 2);
	fx_close(f);
	for (int i = 0; i < 2; i++) {
		n = read_file(&g, names[i], buf, sizeof(buf));
		write_file(f, names[i], buf, n);
	}
	nftw(g.dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(reopen_count(f, &h), 2);
	assert_pair_works(f, h, "mine");
}

/* --- the root key and the lock --- */

static void test_root_key_mode_size_and_type_checked(void **state)
{
	struct fx *f = *state;
	struct ta *ta = NULL;
	char path[128], saved[128];
	uint8_t key[32];

	fx_close(f);
	path_of(f, "root.key", path, sizeof(path));
	path_of(f, "root.key.saved", saved, sizeof(saved));
	/* Readable by the group: refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_not_equal(ta_open(&f->cfg, &ta), CKR_OK);
	assert_null(ta);
	assert_int_equal(chmod(path, 0600), 0);
	fx_open(f);
	fx_close(f);
	/* Of the wrong size: refused, not replaced. */
	assert_int_equal(read_file(f, "root.key", key, sizeof(key)), 32);
	write_file(f, "root.key", key, 16);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_not_equal(ta_open(&f->cfg, &ta), CKR_OK);
	assert_null(ta);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 16);
	/* A symbolic link to a good key: refused. */
	write_file(f, "root.key.saved", key, 32);
	assert_int_equal(chmod(saved, 0600), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(saved, path), 0);
	assert_int_not_equal(ta_open(&f->cfg, &ta), CKR_OK);
	assert_null(ta);
	/* The real file again: the store opens. */
	assert_int_equal(rename(saved, path), 0);
	fx_open(f);
}

static void test_store_lock_held_while_open(void **state)
{
	struct fx *f = *state;
	struct ta *second = NULL;

	assert_int_not_equal(ta_open(&f->cfg, &second), CKR_OK);
	assert_null(second);
	fx_close(f);
	assert_int_equal(ta_open(&f->cfg, &second), CKR_OK);
	/* ...and now the first cannot. */
	assert_int_not_equal(ta_open(&f->cfg, &f->ta), CKR_OK);
	ta_close(second);
	fx_open(f);
}

/* --- §5.7 C_FindObjects among many objects --- */

#define MANY_PAIRS 5000 /* 10,000 objects */

/* 10,000 session objects: searches by label, id, class and key type find exactly the right
 * ones, in batches, with stable handles; private ones only while logged in; none for another
 * application. */
static void test_find_among_10000_objects(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	CK_MECHANISM m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL no = CK_FALSE;
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_KEY_TYPE ec = CKK_EC;
	CK_OBJECT_HANDLE *all = calloc(2 * MANY_PAIRS + 1, sizeof(*all));
	CK_OBJECT_HANDLE *again = calloc(2 * MANY_PAIRS + 1, sizeof(*again));
	CK_OBJECT_HANDLE found[4], pubs[MANY_PAIRS / 1000], privs[MANY_PAIRS / 1000];
	CK_ULONG got, total;
	struct ta_client *other = NULL;
	CK_SESSION_HANDLE theirs;

	assert_non_null(all);
	assert_non_null(again);
	for (uint32_t i = 0; i < MANY_PAIRS; i++) {
		char label[16];
		CK_BYTE id[4] = { (CK_BYTE)(i >> 24), (CK_BYTE)(i >> 16), (CK_BYTE)(i >> 8),
				  (CK_BYTE)i };
		/* Every tenth private key is a private object. */
		CK_BBOOL priv = i % 10 == 0;
		CK_OBJECT_HANDLE pub, pk;

		snprintf(label, sizeof(label), "k%u", i);
		CK_ATTRIBUTE pt[] = {
			{ CKA_EC_PARAMS, (void *)p256_params, sizeof(p256_params) },
			{ CKA_TOKEN, &no, sizeof(no) },
			{ CKA_LABEL, label, strlen(label) },
			{ CKA_ID, id, sizeof(id) },
		};
		CK_ATTRIBUTE kt[] = {
			{ CKA_TOKEN, &no, sizeof(no) },
			{ CKA_PRIVATE, &priv, sizeof(priv) },
			{ CKA_LABEL, label, strlen(label) },
			{ CKA_ID, id, sizeof(id) },
		};
		assert_int_equal(ta_C_GenerateKeyPair(f->c, h, &m, pt, 4, kt, 4, &pub, &pk),
				 CKR_OK);
		if (i % 1000 == 7) {
			pubs[i / 1000] = pub;
			privs[i / 1000] = pk;
		}
	}

	/* By label, by CKA_ID, by label and class: exactly the pair, or exactly one half. */
	for (uint32_t j = 0; j < MANY_PAIRS / 1000; j++) {
		uint32_t i = 1000 * j + 7;
		char label[16];
		CK_BYTE id[4] = { (CK_BYTE)(i >> 24), (CK_BYTE)(i >> 16), (CK_BYTE)(i >> 8),
				  (CK_BYTE)i };

		snprintf(label, sizeof(label), "k%u", i);
		CK_ATTRIBUTE by_label[] = { { CKA_LABEL, label, strlen(label) } };
		CK_ATTRIBUTE by_id[] = { { CKA_ID, id, sizeof(id) } };
		CK_ATTRIBUTE by_pub[] = { { CKA_LABEL, label, strlen(label) },
					  { CKA_CLASS, &pubc, sizeof(pubc) } };
		CK_ATTRIBUTE by_priv[] = { { CKA_ID, id, sizeof(id) },
					   { CKA_KEY_TYPE, &ec, sizeof(ec) },
					   { CKA_CLASS, &privc, sizeof(privc) } };

		assert_int_equal(find_all(f, h, by_label, 1, found, 4), 2);
		assert_true((found[0] == pubs[j] && found[1] == privs[j]) ||
			    (found[0] == privs[j] && found[1] == pubs[j]));
		assert_int_equal(find_all(f, h, by_id, 1, found, 4), 2);
		assert_true((found[0] == pubs[j] && found[1] == privs[j]) ||
			    (found[0] == privs[j] && found[1] == pubs[j]));
		assert_int_equal(find_all(f, h, by_pub, 2, found, 4), 1);
		assert_int_equal(found[0], pubs[j]);
		assert_int_equal(find_all(f, h, by_priv, 3, found, 4), 1);
		assert_int_equal(found[0], privs[j]);
	}
	/* A label that is a prefix of others matches only itself. */
	CK_ATTRIBUTE k1[] = { { CKA_LABEL, (void *)"k1", 2 } };
	assert_int_equal(find_all(f, h, k1, 1, found, 4), 2);
	CK_ATTRIBUTE none[] = { { CKA_LABEL, (void *)"k5000", 5 } };
	assert_int_equal(find_all(f, h, none, 1, found, 4), 0);

	/* Everything, in uneven batches: every handle once, the same set both times. */
	for (int round = 0; round < 2; round++) {
		CK_OBJECT_HANDLE *v = round ? again : all;

		total = 0;
		assert_int_equal(ta_C_FindObjectsInit(f->c, h, NULL, 0), CKR_OK);
		do {
			assert_int_equal(ta_C_FindObjects(f->c, h, v + total,
							  round ? 1 + total % 97 : 333, &got),
					 CKR_OK);
			total += got;
			assert_true(total <= 2 * MANY_PAIRS);
		} while (got > 0);
		assert_int_equal(ta_C_FindObjectsFinal(f->c, h), CKR_OK);
		assert_int_equal(total, 2 * MANY_PAIRS);
		qsort(v, total, sizeof(*v), cmp_handle);
		for (CK_ULONG i = 1; i < total; i++)
			assert_true(v[i - 1] < v[i]);
	}
	assert_memory_equal(all, again, 2 * MANY_PAIRS * sizeof(*all));

	/* By class: all public keys. */
	CK_ATTRIBUTE by_class[] = { { CKA_CLASS, &pubc, sizeof(pubc) } };
	assert_int_equal(find_all(f, h, by_class, 1, all, 2 * MANY_PAIRS), MANY_PAIRS);

	/* Another application sees none of these session objects. */
	assert_int_equal(ta_client_new(f->ta, &other), CKR_OK);
	assert_int_equal(ta_C_OpenSession(other, TA_SLOT_ID, CKF_SERIAL_SESSION, &theirs), CKR_OK);
	assert_int_equal(ta_C_FindObjectsInit(other, theirs, NULL, 0), CKR_OK);
	assert_int_equal(ta_C_FindObjects(other, theirs, found, 4, &got), CKR_OK);
	assert_int_equal(got, 0);
	ta_client_free(other);

	/* Logged out, private objects are not found (§5.7; private session objects are gone). */
	CK_ATTRIBUTE by_privc[] = { { CKA_CLASS, &privc, sizeof(privc) } };
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	assert_int_equal(find_all(f, h, by_privc, 1, all, 2 * MANY_PAIRS),
			 MANY_PAIRS - MANY_PAIRS / 10);
	CK_ATTRIBUTE k0[] = { { CKA_LABEL, (void *)"k0", 2 } };
	assert_int_equal(find_all(f, h, k0, 1, found, 4), 1);
	free(all);
	free(again);
}

/* The find index itself, driven the way obj.c's hooks drive it: 10,000 objects linked, some
 * modified and removed, searched through ta.h; every answer is compared with the answer worked
 * out independently here. */
#define IDX_N 10000

struct idx_model {
	struct obj *o[IDX_N];
	unsigned label[IDX_N]; /* the label is "L<label>"; IDX_N = no label */
	bool priv[IDX_N];
	bool gone[IDX_N];
};

static void idx_set_label(struct obj *o, unsigned v)
{
	char l[16];

	snprintf(l, sizeof(l), "L%u", v);
	assert_int_equal(attrs_set(&o->a, CKA_LABEL, l, strlen(l)), CKR_OK);
}

/* Objects matching class (0: any) and label (IDX_N: any) the user may see. */
static CK_ULONG idx_expect(const struct idx_model *m, CK_OBJECT_CLASS cls, unsigned label,
			   bool logged_in)
{
	CK_ULONG n = 0;

	for (unsigned i = 0; i < IDX_N; i++) {
		if (m->gone[i] || (m->priv[i] && !logged_in))
			continue;
		if (cls && cls != (i % 3 ? CKO_DATA : CKO_SECRET_KEY))
			continue;
		if (label != IDX_N && m->label[i] != label)
			continue;
		n++;
	}
	return n;
}

static CK_ULONG idx_count(struct fx *f, CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, unsigned label)
{
	static CK_OBJECT_HANDLE out[IDX_N];
	char l[16];
	CK_ATTRIBUTE t[2];
	CK_ULONG n = 0;

	snprintf(l, sizeof(l), "L%u", label);
	if (label != IDX_N) {
		t[n].type = CKA_LABEL;
		t[n].pValue = l;
		t[n++].ulValueLen = strlen(l);
	}
	if (cls) {
		t[n].type = CKA_CLASS;
		t[n].pValue = &cls;
		t[n++].ulValueLen = sizeof(cls);
	}
	return find_all(f, h, t, n, out, IDX_N);
}

static void idx_check(struct fx *f, CK_SESSION_HANDLE h, const struct idx_model *m, bool in)
{
	static const unsigned labels[] = { 0, 1, 7, 99, 100, 499, 777, 5000 };

	for (size_t j = 0; j < sizeof(labels) / sizeof(labels[0]); j++) {
		assert_int_equal(idx_count(f, h, 0, labels[j]), idx_expect(m, 0, labels[j], in));
		assert_int_equal(idx_count(f, h, CKO_DATA, labels[j]),
				 idx_expect(m, CKO_DATA, labels[j], in));
	}
	assert_int_equal(idx_count(f, h, CKO_SECRET_KEY, IDX_N),
			 idx_expect(m, CKO_SECRET_KEY, IDX_N, in));
	assert_int_equal(idx_count(f, h, CKO_CERTIFICATE, IDX_N), 0);
	/* By key type, and by key type and label. */
	CK_KEY_TYPE aes = CKK_AES, rsa = CKK_RSA;
	CK_OBJECT_HANDLE found[IDX_N / 1000 + 1];
	CK_ATTRIBUTE by_type[] = { { CKA_KEY_TYPE, &aes, sizeof(aes) },
				   { CKA_LABEL, (void *)"L0", 2 } };
	CK_ULONG n = 0;
	for (unsigned i = 0; i < IDX_N; i++)
		n += !m->gone[i] && (in || !m->priv[i]) && i % 3 == 0 && m->label[i] == 0;
	assert_int_equal(find_all(f, h, by_type, 2, found, IDX_N / 1000 + 1), n);
	by_type[0].pValue = &rsa;
	assert_int_equal(find_all(f, h, by_type, 1, found, 1), 0);
}

static void idx_unlink(struct ta *ta, struct obj *o)
{
	struct obj **pp = &ta->objs;

	find_index_remove(ta, o);
	while (*pp != o)
		pp = &(*pp)->next;
	*pp = o->next;
	obj_free(o);
}

static void test_find_index_consistent(void **state)
{
	struct fx *f = *state;
	CK_SESSION_HANDLE h = user_session(f);
	struct idx_model *m = calloc(1, sizeof(*m));
	struct ta *ta = f->ta;

	assert_non_null(m);
	for (unsigned i = 0; i < IDX_N; i++) {
		struct obj *o = obj_new(ta);
		CK_BBOOL priv = i % 11 == 0;

		assert_non_null(o);
		assert_int_equal(
			attrs_set_ulong(&o->a, CKA_CLASS, i % 3 ? CKO_DATA : CKO_SECRET_KEY),
			CKR_OK);
		assert_int_equal(attrs_set(&o->a, CKA_PRIVATE, &priv, 1), CKR_OK);
		if (i % 3 == 0)
			assert_int_equal(attrs_set_ulong(&o->a, CKA_KEY_TYPE, CKK_AES), CKR_OK);
		m->label[i] = IDX_N;
		if (i % 13) { /* some objects have no label */
			m->label[i] = i % 1000;
			idx_set_label(o, m->label[i]);
		}
		m->priv[i] = priv;
		m->o[i] = o;
		/* obj_link's work and its hook */
		o->next = ta->objs;
		ta->objs = o;
		find_index_add(ta, o);
	}
	idx_check(f, h, m, true);

	/* Relabelled through the hooks (C_SetAttributeValue) and removed (C_DestroyObject). */
	for (unsigned i = 0; i < IDX_N; i += 17) {
		find_index_remove(ta, m->o[i]);
		m->label[i] = 7;
		idx_set_label(m->o[i], 7);
		find_index_add(ta, m->o[i]);
	}
	for (unsigned i = 5; i < IDX_N; i += 23) {
		if (m->label[i] == 7)
			continue;
		idx_unlink(ta, m->o[i]);
		m->gone[i] = true;
	}
	idx_check(f, h, m, true);
	assert_int_equal(ta_C_Logout(f->c, h), CKR_OK);
	idx_check(f, h, m, false);

	/* An object changed bypassing the hooks is noticed when it is removed: the index is then
	 * rebuilt from the object list (dropping the stale entry) and answers right again. */
	idx_set_label(m->o[1], 99);
	idx_unlink(ta, m->o[1]);
	m->gone[1] = true;
	idx_check(f, h, m, false);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_write_leaves_only_objects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_record_rolls_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uncommitted_group_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_or_altered_commit_record_discarded,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_moved_object_files_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_object_file_of_another_token_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_key_mode_size_and_type_checked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_store_lock_held_while_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_among_10000_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_index_consistent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
